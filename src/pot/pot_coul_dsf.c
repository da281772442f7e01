/* src/pot/pot_coul_dsf.c: damped shifted force Coulomb (Fennell & Gezelter 2006), as
 * LAMMPS pair_style coul/dsf.
 *
 * E = k sum_{i<j, r<rc} q_i q_j [erfc(a r)/r - erfc(a rc)/rc + (r - rc) (erfc(a rc)/rc^2
 *       + 2a/sqrt(pi) exp(-a^2 rc^2)/rc)]  -  k sum_i q_i^2 (e_shift/2 + a/sqrt(pi))
 * with e_shift = 2 erfc(a rc)/rc + 2a/sqrt(pi) exp(-a^2 rc^2) (the self term of LAMMPS).
 * Energy and force go to zero at rc. Half list, Newton's third law. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include "pot/coul_common.h"
#include "pot/pot_part.h"

typedef struct {
  kilni_charges ch;
  double alpha, rc, eshift, fshift;
  double *q;          /* charges of the extended atoms */
  size_t qcap;
} dsf_state;

static void dsf_destroy(void *state) {
  dsf_state *s = state;
  if (!s) return;
  free(s->q);
  free(s);
}

static kiln_status dsf_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  const char *what = "potential coul/dsf";
  dsf_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  kiln_status st = kilni_charges_parse(&s->ch, o, what, err);
  if (!st) st = kiln_opts_num(o, what, "alpha", 1, 0.2, &s->alpha, err);
  if (!st) st = kiln_opts_num(o, what, "cutoff", 0, 0, &s->rc, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (!st && !(s->alpha >= 0 && isfinite(s->alpha)))
    st = KILN_FAIL(err, KILN_EINVAL, "%s: alpha must be >= 0 (got %g 1/A)", what, s->alpha);
  if (!st && !(s->rc > 0 && isfinite(s->rc)))
    st = KILN_FAIL(err, KILN_EINVAL, "%s: cutoff must be positive (got %g A)", what, s->rc);
  if (st) {
    dsf_destroy(s);
    return st;
  }
  const double a = s->alpha, rc = s->rc;
  const double erfcc = erfc(a * rc), erfcd = exp(-a * a * rc * rc);
  s->fshift = -(erfcc / (rc * rc) + 2.0 / KILNI_SQRT_PI * a * erfcd / rc);
  s->eshift = erfcc / rc - s->fshift * rc;
  *cutoff = rc;
  *state = s;
  return KILN_OK;
}

static int dsf_map(const void *state, const char *symbol) {
  return kilni_charges_map(&((const dsf_state *)state)->ch, symbol);
}

static kiln_status dsf_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                               kiln_pot_work *w, kiln_error *err) {
  dsf_state *s = state;
  const char *what = "potential coul/dsf";
  const size_t n = nl->n, ne = nl->n + nl->ng;
  if (!(s->q = kilni_grow(s->q, &s->qcap, ne, ne + ne / 4 + 16, sizeof *s->q)))
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu atoms)", what, ne);
  kiln_status st = kilni_charges_local(&s->ch, a, w->tmap, s->q, what, err);
  if (st) return st;
  double *qe = s->q;
  for (size_t k = n; k < ne; k++) qe[k] = qe[nl->owner[k]];
  const int pa = (w->want & KILN_EVAL_PERATOM) && w->e;
  const double(*x)[3] = (const double(*)[3])nl->xe;
  const double alpha = s->alpha, cutsq = s->rc * s->rc, fshift = s->fshift,
               eshift = s->eshift, a2 = alpha * alpha, c2 = 2.0 * alpha / KILNI_SQRT_PI;
  const double eself = -(0.5 * eshift + alpha / KILNI_SQRT_PI) * KILNI_COUL_K;
  const int poly = s->ch.poly;
#pragma omp parallel num_threads(w->nthreads)
  {
    const int t = omp_get_thread_num();
    double(*f)[3] = w->f[t];
    double *e = pa ? w->e[t] : NULL;
    double eng = 0;
    const int nt = omp_get_num_threads();
    const long ib = (long)kilni_part_begin(nl, t, nt, 4.0);
    const long ie = (long)kilni_part_begin(nl, t + 1, nt, 4.0);
    for (long i = ib; i < ie; i++) {
      const double xi = x[i][0], yi = x[i][1], zi = x[i][2];
      const double qi = KILNI_COUL_K * qe[i];
      double fxi = 0, fyi = 0, fzi = 0, ei = eself * qe[i] * qe[i];
      if (e) e[i] += ei;
      eng += ei;
      ei = 0;
      if (qi == 0.0) continue;
      for (size_t p = nl->offset[i], pe = kilni_half_end(nl, (size_t)i); p < pe; p++) {
        const int32_t j = nl->index[p];
        const double dx = xi - x[j][0], dy = yi - x[j][1], dz = zi - x[j][2];
        const double r2 = dx * dx + dy * dy + dz * dz;
        if (r2 >= cutsq) continue;
        const double r = sqrt(r2), qq = qi * qe[j];
        const double ex = exp(-a2 * r2), ec = kilni_erfc(alpha * r, ex, poly);
        /* -dE/dr = qq [erfc/r^2 + 2a/sqrt(pi) exp(-a^2 r^2)/r + fshift]; fp = that / r */
        const double fp = qq * (ec / r + c2 * ex + r * fshift) / r2;
        fxi += dx * fp;
        fyi += dy * fp;
        fzi += dz * fp;
        f[j][0] -= dx * fp;
        f[j][1] -= dy * fp;
        f[j][2] -= dz * fp;
        const double ev = qq * (ec / r - eshift - r * fshift);
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

const kiln_pot_style kiln_pot_coul_dsf_style = {
    .name = "coul/dsf",
    .description = "damped shifted force Coulomb: erfc-damped pair sum whose energy and force "
                   "vanish at the cutoff, with the self term (LAMMPS coul/dsf)",
    .citation = "C. J. Fennell and J. D. Gezelter, J. Chem. Phys. 124, 234104 (2006)",
    .options = "cutoff=number (A, required; 10-12 A for oxides)\n"
               "alpha=number (1/A, damping; default 0.2)\n" KILNI_CHARGES_OPTIONS,
    .flags = KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM,
    .init = dsf_init,
    .map_species = dsf_map,
    .compute = dsf_compute,
    .destroy = dsf_destroy,
    .compute_full = NULL,
};
