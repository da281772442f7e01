/* src/pot/pot_harmonic.c: harmonic springs between pairs of atoms.
 *
 * E(r) = 1/2 k (r - r0)^2 - E_shift   for r < rc
 * E_shift = 1/2 k (rc - r0)^2 with shift=true, else 0. Parameters per element pair as in
 * lj. The model crystal of the phonon tests: with nearest-neighbour springs at their rest
 * length its force constants, and hence its dispersion, are known in closed form. Note
 * that E jumps at rc unless r0 = rc or shift=true: keep rc between neighbour shells. */
#include <math.h>
#include <stdlib.h>
#include "pot/pair_loop.h"
#include "pot/pot_internal.h"

static const char *const names[] = {"k", "r0"};

typedef struct {
  double cutsq, k, r0, off;
} harm_coef;

typedef struct {
  kilni_pairtab pt;
  int shift;
  harm_coef *coef;
  int32_t *te;
  size_t te_cap;
} harm_state;

static void harm_destroy(void *state) {
  harm_state *s = state;
  if (!s) return;
  kilni_pairtab_free(&s->pt);
  free(s->coef);
  free(s->te);
  free(s);
}

static kiln_status harm_init(void **state, double *cutoff, const kiln_opts *o,
                             kiln_error *err) {
  const char *what = "potential harmonic";
  harm_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  kiln_status st = kilni_pairtab_init(&s->pt, &s->shift, o, what, 2, names, err);
  const int nel = s->pt.nel;
  if (!st && !(s->coef = calloc((size_t)nel * nel, sizeof *s->coef)))
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  double cmax = 0;
  for (int ab = 0; !st && ab < nel * nel; ab++) {
    if (!s->pt.set[ab]) continue;
    const double *v = s->pt.val + (size_t)ab * 3;
    if (!isfinite(v[0]) || !isfinite(v[1]) || v[1] < 0 || !(v[2] > 0) || !isfinite(v[2])) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s: pair %s-%s needs finite k, r0 >= 0 and cutoff > 0 "
                     "(got k=%g, r0=%g, cutoff=%g)", what, s->pt.sym[ab / nel],
                     s->pt.sym[ab % nel], v[0], v[1], v[2]);
      break;
    }
    harm_coef *c = s->coef + ab;
    c->k = v[0];
    c->r0 = v[1];
    c->cutsq = v[2] * v[2];
    if (s->shift) c->off = 0.5 * c->k * (v[2] - c->r0) * (v[2] - c->r0);
    if (v[2] > cmax) cmax = v[2];
  }
  if (st) {
    harm_destroy(s);
    return st;
  }
  *cutoff = cmax;
  *state = s;
  return KILN_OK;
}

static int harm_map(const void *state, const char *symbol) {
  return kilni_pairtab_map(&((const harm_state *)state)->pt, symbol);
}

/* -dE/dr / r and the pair energy at r2 < cutsq */
static inline __attribute__((always_inline)) void harm_eval(const void *coef, double r2, double *fp, double *ev) {
  const harm_coef *c = coef;
  const double r = sqrt(r2);
  const double dr = r - c->r0;
  *fp = -c->k * dr / r;                                 /* -dE/dr = -k (r - r0) */
  *ev = 0.5 * c->k * dr * dr - c->off;
}

static kiln_status harm_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                                kiln_pot_work *w, kiln_error *err) {
  harm_state *s = state;
  kiln_status st = kilni_pairtab_check(&s->pt, a, w->tmap, "potential harmonic", err);
  if (st) return st;
  if ((st = kilni_ext_elements(&s->te, &s->te_cap, a, nl, w->tmap, "potential harmonic", err)))
    return st;
  kilni_pair_half_loop(nl, s->te, s->pt.nel, s->coef, sizeof *s->coef, w, harm_eval);
  return KILN_OK;
}

const kiln_pot_style kiln_pot_harmonic_style = {
    .name = "harmonic",
    .description = "harmonic springs 1/2 k (r-r0)^2 between all pairs closer than rc, optionally "
                   "shifted to zero at rc; one set or one per element pair (a model crystal "
                   "with known force constants)",
    .citation = "M. Born and K. Huang, Dynamical Theory of Crystal Lattices (Oxford, 1954)",
    .options = "k=number (eV/A^2, spring constant; single-set form)\n"
               "r0=number (A, rest length; single-set form)\n"
               "cutoff=number (A; default for every pair; put it between neighbour shells)\n"
               "shift=boolean (default false: shift each pair energy to zero at its cutoff)\n"
               "pairs={{\"A\",\"B\", k=, r0=, cutoff=}, ...} (per element pair, no "
               "mixing: every pair present must be listed)",
    .flags = KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM,
    .init = harm_init,
    .map_species = harm_map,
    .compute = harm_compute,
    .destroy = harm_destroy,
    .compute_full = NULL,
};
