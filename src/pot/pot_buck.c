/* src/pot/pot_buck.c: Buckingham pair potential (as LAMMPS pair_style buck).
 *
 * E(r) = A exp(-r/rho) - C/r^6 - E_shift   for r < rc
 * E_shift = E(rc) with shift=true, else 0. Parameters per element pair as in lj (no mixing).
 * Usually combined with a Coulomb style (coul/ewald, coul/dsf) through kiln.potential.sum. */
#include <math.h>
#include <stdlib.h>
#include "pot/pair_loop.h"
#include "pot/pot_internal.h"

static const char *const names[] = {"A", "rho", "C"};

typedef struct {
  double cutsq, a, rhoinv, c, off;
} buck_coef;

typedef struct {
  kilni_pairtab pt;
  int shift;
  buck_coef *coef;
  int32_t *te;
  size_t te_cap;
} buck_state;

static void buck_destroy(void *state) {
  buck_state *s = state;
  if (!s) return;
  kilni_pairtab_free(&s->pt);
  free(s->coef);
  free(s->te);
  free(s);
}

static kiln_status buck_init(void **state, double *cutoff, const kiln_opts *o,
                             kiln_error *err) {
  const char *what = "potential buck";
  buck_state *s = calloc(1, sizeof *s);
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
      st = KILN_FAIL(err, KILN_EINVAL, "%s: pair %s-%s needs finite A and C and rho > 0 "
                     "(got A=%g, rho=%g, C=%g)", what, s->pt.sym[ab / nel],
                     s->pt.sym[ab % nel], v[0], v[1], v[2]);
      break;
    }
    buck_coef *c = s->coef + ab;
    c->cutsq = v[3] * v[3];
    c->a = v[0];
    c->rhoinv = 1.0 / v[1];
    c->c = v[2];
    if (s->shift) c->off = c->a * exp(-v[3] * c->rhoinv) - c->c / pow(v[3], 6.0);
    if (v[3] > cmax) cmax = v[3];
  }
  if (st) {
    buck_destroy(s);
    return st;
  }
  *cutoff = cmax;
  *state = s;
  return KILN_OK;
}

static int buck_map(const void *state, const char *symbol) {
  return kilni_pairtab_map(&((const buck_state *)state)->pt, symbol);
}

/* -dE/dr / r and the pair energy at r2 < cutsq */
static inline __attribute__((always_inline)) void buck_eval(const void *coef, double r2, double *fp, double *ev) {
  const buck_coef *c = coef;
  const double r = sqrt(r2), r2i = 1.0 / r2, r6i = r2i * r2i * r2i;
  const double ex = c->a * exp(-r * c->rhoinv);
  *fp = ex * c->rhoinv / r - 6.0 * c->c * r6i * r2i;   /* (A/rho) e^(-r/rho)/r - 6C/r^8 */
  *ev = ex - c->c * r6i - c->off;
}

static kiln_status buck_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                                kiln_pot_work *w, kiln_error *err) {
  buck_state *s = state;
  kiln_status st = kilni_pairtab_check(&s->pt, a, w->tmap, "potential buck", err);
  if (st) return st;
  if ((st = kilni_ext_elements(&s->te, &s->te_cap, a, nl, w->tmap, "potential buck", err)))
    return st;
  kilni_pair_half_loop(nl, s->te, s->pt.nel, s->coef, sizeof *s->coef, w, buck_eval);
  return KILN_OK;
}

const kiln_pot_style kiln_pot_buck_style = {
    .name = "buck",
    .description = "Buckingham pair potential A exp(-r/rho) - C/r^6, cut at rc and optionally "
                   "shifted (LAMMPS buck); one set or one per element pair. Add Coulomb with "
                   "kiln.potential.sum{buck, coul/ewald or coul/dsf}",
    .citation = "R. A. Buckingham, Proc. R. Soc. Lond. A 168, 264 (1938)",
    .options = "A=number (eV, repulsion prefactor; single-set form)\n"
               "rho=number (A, repulsion decay length; single-set form)\n"
               "C=number (eV A^6, dispersion; single-set form)\n"
               "cutoff=number (A; default for every pair)\n"
               "shift=boolean (default false: shift each pair energy to zero at its cutoff)\n"
               "pairs={{\"A\",\"B\", A=, rho=, C=, cutoff=}, ...} (per element pair, no "
               "mixing: every pair present must be listed)",
    .flags = KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM,
    .init = buck_init,
    .map_species = buck_map,
    .compute = buck_compute,
    .destroy = buck_destroy,
    .compute_full = NULL,
};
