/* src/pot/pot_lj.c: 12-6 Lennard-Jones pair potential (as LAMMPS pair_style lj/cut).
 *
 * E(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6] - E_shift   for r < rc
 * E_shift = E(rc) with shift=true, else 0. No mixing rule: with several elements,
 * every pair present must be given in `pairs`.
 * Kernel: half list with Newton's third law, per-pair coefficient table, r^2 test,
 * no square root. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "pot/pot_internal.h"
#include "pot/pot_part.h"

static const char *const names[] = {"epsilon", "sigma"};

typedef struct {
  double cutsq, lj1, lj2, lj3, lj4, off;  /* 48 eps sig^12, 24 eps sig^6, 4 eps sig^12, ... */
} lj_coef;

typedef struct {
  kilni_pairtab pt;
  int shift;
  lj_coef *coef;        /* nel*nel */
  int32_t *te;          /* element of every extended atom (multi-element only) */
  size_t te_cap;
  double *buf;          /* per-thread row buffers: nthreads x 2*maxrow */
  size_t buf_cap;
} lj_state;

static void lj_destroy(void *state) {
  lj_state *s = state;
  if (!s) return;
  kilni_pairtab_free(&s->pt);
  free(s->coef);
  free(s->te);
  free(s->buf);
  free(s);
}

static kiln_status lj_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  const char *what = "potential lj";
  lj_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  kiln_status st = kilni_pairtab_init(&s->pt, &s->shift, o, what, 2, names, err);
  const int nel = s->pt.nel;
  if (!st && !(s->coef = calloc((size_t)nel * nel, sizeof *s->coef)))
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  double cmax = 0;
  for (int ab = 0; !st && ab < nel * nel; ab++) {
    if (!s->pt.set[ab]) continue;
    const double *v = s->pt.val + (size_t)ab * 3;
    double eps = v[0], sig = v[1], rc = v[2];
    if (!isfinite(eps) || !(sig > 0) || !isfinite(sig)) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s: pair %s-%s needs finite epsilon and sigma > 0 "
                     "(got epsilon=%g, sigma=%g)", what, s->pt.sym[ab / nel],
                     s->pt.sym[ab % nel], eps, sig);
      break;
    }
    double s6 = pow(sig, 6.0), s12 = s6 * s6;
    lj_coef *c = s->coef + ab;
    c->cutsq = rc * rc;
    c->lj1 = 48 * eps * s12;
    c->lj2 = 24 * eps * s6;
    c->lj3 = 4 * eps * s12;
    c->lj4 = 4 * eps * s6;
    if (s->shift) {
      double r6 = pow(sig / rc, 6.0);
      c->off = 4 * eps * (r6 * r6 - r6);
    }
    if (rc > cmax) cmax = rc;
  }
  if (st) {
    lj_destroy(s);
    return st;
  }
  *cutoff = cmax;
  *state = s;
  return KILN_OK;
}

static int lj_map(const void *state, const char *symbol) {
  return kilni_pairtab_map(&((const lj_state *)state)->pt, symbol);
}

/* The kernel, specialised by inlining on (multi, eflag, peratom). Each half row is done in
 * two passes: a branch-free pass over the neighbors that the compiler vectorises (pair
 * force factor, zero beyond the cutoff), then the scalar Newton's-third-law update. */
static inline __attribute__((always_inline)) void
lj_rows(const kiln_neigh *nl, const lj_coef *restrict coef, const int32_t *restrict te, int nel,
        double (*restrict f)[3], double *restrict e, double *eng, double *restrict buf,
        const int multi, const int eflag, const int peratom) {
  const double(*restrict x)[3] = (const double(*)[3])nl->xe;
  const size_t *restrict offset = nl->offset;
  const int32_t *restrict nhalf = nl->nhalf;
  const int32_t *restrict index = nl->index;
  double esum = 0;
  const double cutsq0 = coef[0].cutsq, lj10 = coef[0].lj1, lj20 = coef[0].lj2,
               lj30 = coef[0].lj3, lj40 = coef[0].lj4, off0 = coef[0].off;
  /* a work-balanced split (this runs inside the team; one part per thread) */
  const int t = omp_get_thread_num(), nt = omp_get_num_threads();
  const long ib = (long)kilni_part_begin(nl, t, nt, 4.0);
  const long ie = (long)kilni_part_begin(nl, t + 1, nt, 4.0);
  for (long i = ib; i < ie; i++) {
    const double xi = x[i][0], yi = x[i][1], zi = x[i][2];
    const int32_t *restrict row = index + offset[i];
    const int cnt = nhalf[i];
    const lj_coef *restrict ci = multi ? coef + (size_t)te[i] * nel : NULL;
    double *restrict bfp = buf, *restrict bev = buf + cnt;
    for (int k = 0; k < cnt; k++) {
      const int32_t j = row[k];
      const double dx = xi - x[j][0], dy = yi - x[j][1], dz = zi - x[j][2];
      const double r2 = dx * dx + dy * dy + dz * dz;
      double cutsq = cutsq0, lj1 = lj10, lj2 = lj20, lj3 = lj30, lj4 = lj40, off = off0;
      if (multi) {
        const lj_coef *c = ci + te[j];
        cutsq = c->cutsq; lj1 = c->lj1; lj2 = c->lj2; lj3 = c->lj3; lj4 = c->lj4; off = c->off;
      }
      const double r2i = 1.0 / r2;
      const double r6i = r2i * r2i * r2i;
      const int in = r2 < cutsq;
      bfp[k] = in ? r6i * (lj1 * r6i - lj2) * r2i : 0.0;
      if (eflag) bev[k] = in ? r6i * (lj3 * r6i - lj4) - off : 0.0;
    }
    double fxi = 0, fyi = 0, fzi = 0, ei = 0;
    for (int k = 0; k < cnt; k++) {
      const int32_t j = row[k];
      const double fp = bfp[k];
      const double dx = xi - x[j][0], dy = yi - x[j][1], dz = zi - x[j][2];
      fxi += dx * fp;
      fyi += dy * fp;
      fzi += dz * fp;
      f[j][0] -= dx * fp;
      f[j][1] -= dy * fp;
      f[j][2] -= dz * fp;
      if (eflag) ei += bev[k];
      if (peratom) e[j] += 0.5 * bev[k];
    }
    f[i][0] += fxi;
    f[i][1] += fyi;
    f[i][2] += fzi;
    if (eflag) {
      esum += ei;
      if (peratom) e[i] += 0.5 * ei;
    }
  }
  *eng += esum;
}

static kiln_status lj_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                              kiln_pot_work *w, kiln_error *err) {
  lj_state *s = state;
  const int nel = s->pt.nel, multi = nel > 1;
  kiln_status st = kilni_pairtab_check(&s->pt, a, w->tmap, "potential lj", err);
  if (st) return st;
  if (multi && (st = kilni_ext_elements(&s->te, &s->te_cap, a, nl, w->tmap, "potential lj", err)))
    return st;
  size_t maxrow = 0;
  for (size_t i = 0; i < nl->n; i++)
    if ((size_t)nl->nhalf[i] > maxrow) maxrow = (size_t)nl->nhalf[i];
  const size_t stride = 2 * maxrow + 8;
  const size_t need = stride * (size_t)w->nthreads;
  if (!(s->buf = kilni_grow(s->buf, &s->buf_cap, need, need + need / 4, sizeof *s->buf)))
    return KILN_FAIL(err, KILN_ENOMEM, "potential lj: out of memory (%zu row entries)", need);
  double *buf0 = s->buf;
  const int pa = (w->want & KILN_EVAL_PERATOM) && w->e;
  const int ef = 1; /* the energy is nearly free in the two-pass kernel: always computed */
  const lj_coef *coef = s->coef;
  const int32_t *te = s->te;
#pragma omp parallel num_threads(w->nthreads)
  {
    const int t = omp_get_thread_num();
    double(*f)[3] = w->f[t];
    double *e = pa ? w->e[t] : NULL;
    double eng = 0;
    double *buf = buf0 + stride * (size_t)t;
    if (!multi) {
      if (pa) lj_rows(nl, coef, te, nel, f, e, &eng, buf, 0, 1, 1);
      else if (ef) lj_rows(nl, coef, te, nel, f, e, &eng, buf, 0, 1, 0);
      else lj_rows(nl, coef, te, nel, f, e, &eng, buf, 0, 0, 0);
    } else {
      if (pa) lj_rows(nl, coef, te, nel, f, e, &eng, buf, 1, 1, 1);
      else if (ef) lj_rows(nl, coef, te, nel, f, e, &eng, buf, 1, 1, 0);
      else lj_rows(nl, coef, te, nel, f, e, &eng, buf, 1, 0, 0);
    }
    w->energy[t] += eng;
  }
  return KILN_OK;
}

const kiln_pot_style kiln_pot_lj_style = {
    .name = "lj",
    .description = "12-6 Lennard-Jones pair potential, cut at rc and optionally shifted to zero "
                   "there (LAMMPS lj/cut); one parameter set, or one per element pair",
    .citation = "J. E. Jones, Proc. R. Soc. Lond. A 106, 463 (1924)",
    .options = "epsilon=number (eV, well depth; single-set form)\n"
               "sigma=number (A, zero of the potential; single-set form)\n"
               "cutoff=number (A; default for every pair)\n"
               "shift=boolean (default false: shift each pair energy to zero at its cutoff)\n"
               "pairs={{\"A\",\"B\", epsilon=, sigma=, cutoff=}, ...} (per element pair, no "
               "mixing: every pair present must be listed)",
    .flags = KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM,
    .init = lj_init,
    .map_species = lj_map,
    .compute = lj_compute,
    .destroy = lj_destroy,
    .compute_full = NULL,
};
