/* src/pot/pot_snap.c: SNAP and quadratic SNAP (qSNAP), as LAMMPS pair_style snap.
 *
 * E_i = beta0[el_i] + sum_k beta_k[el_i] B_k(i)
 *       (+ sum_k 0.5 a_kk B_k^2 + sum_{k<l} a_kl B_k B_l with quadraticflag 1),
 * B_k the bispectrum components of src/ml/snap_core.c, parameters and coefficients from
 * LAMMPS .snapparam/.snapcoeff files. Forces by the adjoint method: per centre one
 * Y = dE_i/dU, then dE_i/dr_ij = dU_ij . Y for each neighbor (cost independent of the
 * number of components). OpenMP over centres, per-thread force arrays.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/potential.h"
#include "ml/snap_core.h"
#include "pot/pot_internal.h"

typedef struct {
  snap_model m;
  snap_basis b;
  int nel, nb;
  double *rcut;             /* nel x nel: (R_i + R_j) rcutfac */
  double *rcutsq;
  snap_work *work;          /* per thread */
  int nwork;
  int32_t *el; size_t el_cap;
} snap_state;

static void snap_destroy(void *state) {
  snap_state *s = state;
  if (!s) return;
  for (int t = 0; t < s->nwork; t++) snap_work_free(&s->work[t]);
  free(s->work);
  snap_basis_free(&s->b);
  snap_model_free(&s->m);
  free(s->rcut);
  free(s->rcutsq);
  free(s->el);
  free(s);
}

static kiln_status snap_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  const char *what = "potential snap";
  const char *coeff = NULL, *param = NULL;
  kiln_status st;
  if ((st = kiln_opts_str(o, what, "coeff", 0, NULL, &coeff, err)) ||
      (st = kiln_opts_str(o, what, "param", 0, NULL, &param, err)) ||
      (st = kiln_opts_check_unused(o, what, err)))
    return st;
  snap_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  if ((st = snap_model_read(&s->m, coeff, param, what, err))) { free(s); return st; }
  const snap_model *m = &s->m;
  if ((st = snap_basis_init(&s->b, m->twojmax, m->rfac0, m->rmin0, m->switchflag, m->bzeroflag,
                            what, err))) {
    snap_model_free(&s->m);
    free(s);
    return st;
  }
  s->nel = m->nelem;
  s->nb = s->b.nb;
  s->rcut = malloc((size_t)s->nel * s->nel * sizeof *s->rcut);
  s->rcutsq = malloc((size_t)s->nel * s->nel * sizeof *s->rcutsq);
  if (!s->rcut || !s->rcutsq) {
    snap_destroy(s);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  }
  double cmax = 0;
  for (int a = 0; a < s->nel; a++)
    for (int c = 0; c < s->nel; c++) {
      double rc = (m->elem[a].radelem + m->elem[c].radelem) * m->rcutfac;
      s->rcut[a * s->nel + c] = rc;
      s->rcutsq[a * s->nel + c] = rc * rc;
      if (rc > cmax) cmax = rc;
    }
  if (!(cmax > m->rmin0)) {
    st = KILN_FAIL(err, KILN_EINVAL, "%s: cutoff %g A must exceed rmin0 %g A", what, cmax,
                   m->rmin0);
    snap_destroy(s);
    return st;
  }
  *state = s;
  *cutoff = cmax;
  return KILN_OK;
}

static int snap_map_species(const void *state, const char *symbol) {
  return snap_model_element(&((const snap_state *)state)->m, symbol);
}

static kiln_status ensure_work(snap_state *s, int nthr, int maxnb, kiln_error *err) {
  if (nthr > s->nwork) {
    snap_work *w = realloc(s->work, (size_t)nthr * sizeof *w);
    if (!w) return KILN_FAIL(err, KILN_ENOMEM, "potential snap: out of memory");
    s->work = w;
    for (int t = s->nwork; t < nthr; t++) {
      kiln_status st = snap_work_init(&s->work[t], &s->b, err);
      if (st) return st;
      s->nwork = t + 1;
    }
  }
  for (int t = 0; t < nthr; t++) {
    kiln_status st = snap_work_reserve(&s->work[t], maxnb, err);
    if (st) return st;
  }
  return KILN_OK;
}

/* effective beta (dE_i/dB) and the energy of one centre; B must hold the bispectrum
 * when the model is quadratic (or when the energy is wanted: *e) */
static double centre_beta(const snap_state *s, const double *c, const double *B, double *beta) {
  const int nb = s->nb;
  for (int k = 0; k < nb; k++) beta[k] = c[1 + k];
  if (!s->m.quadraticflag) return 0.0;
  const double *q = c + 1 + nb;
  double eq = 0.0;
  for (int k = 0; k < nb; k++) {
    const double bk = B[k];
    beta[k] += *q * bk;
    eq += 0.5 * *q * bk * bk;
    q++;
    for (int l = k + 1; l < nb; l++) {
      const double v = *q++;
      beta[k] += v * B[l];
      beta[l] += v * bk;
      eq += v * bk * B[l];
    }
  }
  return eq;
}

static kiln_status snap_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                                kiln_pot_work *w, kiln_error *err) {
  snap_state *s = state;
  const char *what = "potential snap";
  const size_t n = nl->n;
  kiln_status st = kilni_ext_elements(&s->el, &s->el_cap, a, nl, w->tmap, what, err);
  if (st) return st;
  int maxnb = 1;
  for (size_t i = 0; i < n; i++) {
    int c = (int)(nl->offset[i + 1] - nl->offset[i]);
    if (c > maxnb) maxnb = c;
  }
  const int nthr = w->nthreads > 0 ? w->nthreads : 1;
  if ((st = ensure_work(s, nthr, maxnb, err))) return st;
  const int32_t *el = s->el;
  const double(*xe)[3] = (const double(*)[3])nl->xe;
  const int nel = s->nel, nb = s->nb, quad = s->m.quadraticflag;
  const int peratom = (w->want & KILN_EVAL_PERATOM) && w->e;
  const int forces = (w->want & (KILN_EVAL_FORCES | KILN_EVAL_VIRIAL)) != 0;

#pragma omp parallel num_threads(nthr)
  {
    const int t = omp_get_thread_num();
    snap_work *W = &s->work[t];
    double(*f)[3] = w->f[t];
    double *e = peratom ? w->e[t] : NULL;
    double eng = 0.0;
#pragma omp for schedule(static)
    for (size_t i = 0; i < n; i++) {
      const int ei = el[i];
      const double xi = xe[i][0], yi = xe[i][1], zi = xe[i][2];
      const double *rcsq = s->rcutsq + ei * nel, *rc = s->rcut + ei * nel;
      int nn = 0;
      for (size_t jj = nl->offset[i]; jj < nl->offset[i + 1]; jj++) {
        const int32_t j = nl->index[jj];
        const int ej = el[j];
        const double dx = xe[j][0] - xi, dy = xe[j][1] - yi, dz = xe[j][2] - zi;
        const double rsq = dx * dx + dy * dy + dz * dz;
        if (rsq < rcsq[ej] && rsq > 1e-20) {
          W->rij[nn][0] = dx; W->rij[nn][1] = dy; W->rij[nn][2] = dz;
          W->rcut[nn] = rc[ej];
          W->wj[nn] = s->m.elem[ej].wj;
          W->idx[nn] = j;
          nn++;
        }
      }
      W->nn = nn;
      snap_utot(W);
      const double *c = s->m.coeff + (size_t)ei * s->m.ncoeffall;
      double eq = 0.0;
      if (quad) {
        snap_bispectrum(W, W->B);
        eq = centre_beta(s, c, W->B, W->beta);
        if (forces) snap_y(W, W->beta, NULL);
      } else {
        centre_beta(s, c, NULL, W->beta);
        if (forces) snap_y(W, W->beta, W->B);
        else snap_bispectrum(W, W->B);
      }
      double ei_ = c[0] + eq;
      for (int k = 0; k < nb; k++) ei_ += c[1 + k] * W->B[k];
      eng += ei_;
      if (e) e[i] += ei_;
      if (!forces) continue;
      double fix = 0, fiy = 0, fiz = 0;
      for (int k = 0; k < nn; k++) {
        double d[3];
        snap_dedr(W, k, d);
        double *fj = f[W->idx[k]];
        fj[0] -= d[0]; fj[1] -= d[1]; fj[2] -= d[2];
        fix += d[0]; fiy += d[1]; fiz += d[2];
      }
      f[i][0] += fix; f[i][1] += fiy; f[i][2] += fiz;
    }
    w->energy[t] += eng;
  }
  return KILN_OK;
}

const kiln_pot_style kiln_pot_snap_style = {
    .name = "snap",
    .description = "SNAP and quadratic SNAP (qSNAP) machine-learned potential (LAMMPS "
                   "pair_style snap): bispectrum components of the neighbor density, linear or "
                   "quadratic in them, from LAMMPS .snapcoeff/.snapparam files",
    .citation = "A. P. Thompson, L. P. Swiler, C. R. Trott, S. M. Foiles and G. J. Tucker, "
                "J. Comput. Phys. 285, 316 (2015); M. A. Wood and A. P. Thompson, J. Chem. "
                "Phys. 148, 241721 (2018) (qSNAP)",
    .options = "coeff=string (path of a LAMMPS .snapcoeff file: elements, radelem, wj and "
               "coefficients, metal units)\n"
               "param=string (path of a LAMMPS .snapparam file: rcutfac, twojmax, rfac0, rmin0, "
               "switchflag, bzeroflag, quadraticflag)",
    .flags = KILN_POT_NEEDS_FULL_LIST | KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM |
             KILN_POT_MANYBODY,
    .init = snap_init,
    .map_species = snap_map_species,
    .compute = snap_compute,
    .destroy = snap_destroy,
    .compute_full = NULL,
};
