/* src/pot/pot_morse.c: Morse pair potential (as LAMMPS pair_style morse).
 *
 * E(r) = D0 [exp(-2 alpha (r - r0)) - 2 exp(-alpha (r - r0))] - E_shift   for r < rc
 * E_shift = E(rc) with shift=true, else 0. Parameters per element pair as in lj. */
#include <math.h>
#include <stdlib.h>
#include "pot/pair_loop.h"
#include "pot/pot_internal.h"

static const char *const names[] = {"D0", "alpha", "r0"};

typedef struct {
  double cutsq, d0, alpha, r0, off;
} morse_coef;

typedef struct {
  kilni_pairtab pt;
  int shift;
  morse_coef *coef;
  int32_t *te;
  size_t te_cap;
} morse_state;

static void morse_destroy(void *state) {
  morse_state *s = state;
  if (!s) return;
  kilni_pairtab_free(&s->pt);
  free(s->coef);
  free(s->te);
  free(s);
}

static kiln_status morse_init(void **state, double *cutoff, const kiln_opts *o,
                              kiln_error *err) {
  const char *what = "potential morse";
  morse_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  kiln_status st = kilni_pairtab_init(&s->pt, &s->shift, o, what, 3, names, err);
  const int nel = s->pt.nel;
  if (!st && !(s->coef = calloc((size_t)nel * nel, sizeof *s->coef)))
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  double cmax = 0;
  for (int ab = 0; !st && ab < nel * nel; ab++) {
    if (!s->pt.set[ab]) continue;
    const double *v = s->pt.val + (size_t)ab * 4;
    if (!isfinite(v[0]) || !(v[1] > 0) || !isfinite(v[1]) || !isfinite(v[2])) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s: pair %s-%s needs finite D0, r0 and alpha > 0 "
                     "(got D0=%g, alpha=%g, r0=%g)", what, s->pt.sym[ab / nel],
                     s->pt.sym[ab % nel], v[0], v[1], v[2]);
      break;
    }
    morse_coef *c = s->coef + ab;
    c->d0 = v[0];
    c->alpha = v[1];
    c->r0 = v[2];
    c->cutsq = v[3] * v[3];
    if (s->shift) {
      double ex = exp(-c->alpha * (v[3] - c->r0));
      c->off = c->d0 * (ex * ex - 2 * ex);
    }
    if (v[3] > cmax) cmax = v[3];
  }
  if (st) {
    morse_destroy(s);
    return st;
  }
  *cutoff = cmax;
  *state = s;
  return KILN_OK;
}

static int morse_map(const void *state, const char *symbol) {
  return kilni_pairtab_map(&((const morse_state *)state)->pt, symbol);
}

/* -dE/dr / r and the pair energy at r2 < cutsq */
static inline __attribute__((always_inline)) void morse_eval(const void *coef, double r2, double *fp, double *ev) {
  const morse_coef *c = coef;
  const double r = sqrt(r2);
  const double ex = exp(-c->alpha * (r - c->r0));
  *fp = 2 * c->alpha * c->d0 * (ex * ex - ex) / r;     /* -dE/dr = 2 alpha D0 (ex^2 - ex) */
  *ev = c->d0 * (ex * ex - 2 * ex) - c->off;
}

static kiln_status morse_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                                 kiln_pot_work *w, kiln_error *err) {
  morse_state *s = state;
  kiln_status st = kilni_pairtab_check(&s->pt, a, w->tmap, "potential morse", err);
  if (st) return st;
  if ((st = kilni_ext_elements(&s->te, &s->te_cap, a, nl, w->tmap, "potential morse", err)))
    return st;
  kilni_pair_half_loop(nl, s->te, s->pt.nel, s->coef, sizeof *s->coef, w, morse_eval);
  return KILN_OK;
}

const kiln_pot_style kiln_pot_morse_style = {
    .name = "morse",
    .description = "Morse pair potential D0 [exp(-2 alpha (r-r0)) - 2 exp(-alpha (r-r0))], cut at "
                   "rc and optionally shifted (LAMMPS morse); one set or one per element pair",
    .citation = "P. M. Morse, Phys. Rev. 34, 57 (1929)",
    .options = "D0=number (eV, well depth; single-set form)\n"
               "alpha=number (1/A, stiffness; single-set form)\n"
               "r0=number (A, equilibrium distance; single-set form)\n"
               "cutoff=number (A; default for every pair)\n"
               "shift=boolean (default false: shift each pair energy to zero at its cutoff)\n"
               "pairs={{\"A\",\"B\", D0=, alpha=, r0=, cutoff=}, ...} (per element pair, no "
               "mixing: every pair present must be listed)",
    .flags = KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM,
    .init = morse_init,
    .map_species = morse_map,
    .compute = morse_compute,
    .destroy = morse_destroy,
    .compute_full = NULL,
};
