/* src/pot/pot_harmonic.c: harmonic springs between pairs of atoms.
 *
 * E(r) = 1/2 k (r - r0)^2 - E_shift   for r < rc
 * E_shift = 1/2 k (rc - r0)^2 with shift=true, else 0. Parameters per element pair as in
 * lj. The model crystal of the phonon tests: with nearest-neighbour springs at their rest
 * length its force constants, and hence its dispersion, are known in closed form. Note
 * that E jumps at rc unless r0 = rc or shift=true: keep rc between neighbour shells. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include "pot/pot_internal.h"
#include "pot/pot_part.h"

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

static kiln_status harm_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                                kiln_pot_work *w, kiln_error *err) {
  harm_state *s = state;
  const int nel = s->pt.nel;
  kiln_status st = kilni_pairtab_check(&s->pt, a, w->tmap, "potential harmonic", err);
  if (st) return st;
  if ((st = kilni_ext_elements(&s->te, &s->te_cap, a, nl, w->tmap, "potential harmonic", err)))
    return st;
  const int32_t *te = s->te;
  const harm_coef *coef = s->coef;
  const int pa = (w->want & KILN_EVAL_PERATOM) && w->e;
  const double(*x)[3] = (const double(*)[3])nl->xe;
#pragma omp parallel num_threads(w->nthreads)
  {
    const int t = omp_get_thread_num();
    double(*f)[3] = w->f[t];
    double *e = pa ? w->e[t] : NULL;
    double eng = 0;
    const int nt = omp_get_num_threads();  /* a work-balanced split, one part per thread */
    const long ib = (long)kilni_part_begin(nl, t, nt, 4.0);
    const long ie = (long)kilni_part_begin(nl, t + 1, nt, 4.0);
    for (long i = ib; i < ie; i++) {
      const double xi = x[i][0], yi = x[i][1], zi = x[i][2];
      const harm_coef *ci = coef + (size_t)te[i] * nel;
      double fxi = 0, fyi = 0, fzi = 0, ei = 0;
      for (size_t q = nl->offset[i], qe = kilni_half_end(nl, (size_t)i); q < qe; q++) {
        const int32_t j = nl->index[q];
        const double dx = xi - x[j][0], dy = yi - x[j][1], dz = zi - x[j][2];
        const double r2 = dx * dx + dy * dy + dz * dz;
        const harm_coef *c = ci + te[j];
        if (r2 >= c->cutsq) continue;
        const double r = sqrt(r2);
        const double dr = r - c->r0;
        /* force on i along (xi - xj)/r is -dE/dr = -k (r - r0) */
        const double fp = -c->k * dr / r;
        fxi += dx * fp;
        fyi += dy * fp;
        fzi += dz * fp;
        f[j][0] -= dx * fp;
        f[j][1] -= dy * fp;
        f[j][2] -= dz * fp;
        const double ev = 0.5 * c->k * dr * dr - c->off;
        ei += ev;
        if (e) e[j] += 0.5 * ev;
      }
      f[i][0] += fxi;
      f[i][1] += fyi;
      f[i][2] += fzi;
      eng += ei;
      if (e) e[i] += 0.5 * ei;
    }
    w->energy[t] += eng;
  }
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
