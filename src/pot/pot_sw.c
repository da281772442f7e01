/* src/pot/pot_sw.c: Stillinger-Weber potential, as LAMMPS pair_style sw.
 *
 * E = sum_{i<j} phi2(r_ij) + sum_i sum_{j<k} phi3(r_ij, r_ik, theta_jik)
 * phi2(r) = A eps (B (sigma/r)^p - (sigma/r)^q) exp(sigma / (r - a sigma))
 * phi3    = lambda eps (cos theta_jik - cos theta0)^2
 *           exp(gamma_ij sigma_ij / (r_ij - a_ij sigma_ij)) exp(gamma_ik sigma_ik / (r_ik - a_ik sigma_ik))
 * Parameters per element triplet ijk from a LAMMPS .sw file; the two-body terms and
 * the radial factors of the three-body term use the ijj (and ikk) entries, lambda,
 * epsilon (product) and cos theta0 of the angular term the ijk entry, as in LAMMPS.
 * With tol > 0 the pair cutoff is shortened as LAMMPS does. Per-atom energies follow
 * LAMMPS: two-body halves to i and j, three-body thirds to i, j and k.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/potential.h"
#include "pot/pot_internal.h"
#include "pot/triplet_file.h"

#define NPAR 11
static const char *const names[NPAR] = {"epsilon", "sigma", "a", "lambda", "gamma", "costheta0",
                                        "A", "B", "p", "q", "tol"};

typedef struct {
  double cut, cutsq, sigma, sigma_gamma, lambda_epsilon, lambda_epsilon2, costheta;
  double p, q, c1, c2, c3, c4, c5, c6;
  int pint, qint;          /* p, q as small non-negative integers, or -1 */
} sw_param;

/* one short-list neighbor of the current atom i */
typedef struct {
  double dx, dy, dz;        /* xe[j] - xe[i] */
  double rinv, rinvsq;
  double ex, gsr;           /* exp(gamma sigma/(r - cut)), gamma sigma/(r - cut)^2 / r */
  double fx, fy, fz;        /* force accumulated on j */
  int32_t j, el;
} sw_nb;

typedef struct {
  kilni_triplet_file tf;
  int nel;
  sw_param *par;            /* tf.nentry */
  double cutmax;
  int checked;              /* all triplets verified at init */
  /* scratch, grown in compute */
  sw_nb *buf; size_t buf_cap;
  int32_t *elem; size_t elem_cap;
} sw_state;

static void sw_destroy(void *state) {
  sw_state *s = state;
  if (!s) return;
  kilni_triplet_free(&s->tf);
  free(s->par);
  free(s->buf);
  free(s->elem);
  free(s);
}

static int small_int(double x) {
  return (x >= 0 && x <= 16 && x == floor(x)) ? (int)x : -1;
}

static kiln_status sw_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  const char *what = "potential sw";
  sw_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  kiln_status st = kilni_triplet_open(&s->tf, &s->checked, what, NPAR, names, o, err);
  if (st) { free(s); return st; }
  s->nel = s->tf.nel;
  s->par = calloc((size_t)s->tf.nentry + 1, sizeof *s->par);
  if (!s->par) { st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what); goto fail; }
  s->cutmax = 0;
  for (int m = 0; m < s->tf.nentry; m++) {
    const double *v = s->tf.val + (size_t)m * NPAR;
    double eps = v[0], sigma = v[1], a = v[2], lambda = v[3], gamma = v[4], cth = v[5],
           A = v[6], B = v[7], p = v[8], q = v[9], tol = v[10];
    for (int k = 0; k < NPAR; k++)
      if (k != 5 && v[k] < 0) {
        st = kilni_triplet_bad(&s->tf, what, m, names[k], "must be >= 0", v[k], err);
        goto fail;
      }
    sw_param *P = &s->par[m];
    P->cut = sigma * a;
    double rc = P->cut;
    if (tol > 0.0) {  /* LAMMPS: shorten the cutoff where the exponential is below tol */
      if (tol > 0.01) tol = 0.01;
      rc += (gamma < 1.0 ? gamma * sigma : sigma) / log(tol);
    }
    P->cutsq = rc * rc;
    P->sigma = sigma;
    P->sigma_gamma = sigma * gamma;
    P->lambda_epsilon = lambda * eps;
    P->lambda_epsilon2 = 2.0 * lambda * eps;
    P->costheta = cth;
    P->p = p; P->q = q;
    P->pint = small_int(p); P->qint = small_int(q);
    P->c1 = A * eps * p * B * pow(sigma, p);
    P->c2 = A * eps * q * pow(sigma, q);
    P->c3 = A * eps * B * pow(sigma, p + 1.0);
    P->c4 = A * eps * pow(sigma, q + 1.0);
    P->c5 = A * eps * B * pow(sigma, p);
    P->c6 = A * eps * pow(sigma, q);
    if (rc > s->cutmax) s->cutmax = rc;
  }
  *state = s;
  *cutoff = s->cutmax;
  return KILN_OK;
fail:
  sw_destroy(s);
  return st;
}

static int sw_map_species(const void *state, const char *symbol) {
  return kilni_triplet_element(&((const sw_state *)state)->tf, symbol);
}

/* r^-k for a small integer k >= 0 (exact product), else pow */
static inline double rpow_neg(double r, double rinv, int k, double p) {
  switch (k) {
    case 0: return 1.0;
    case 1: return rinv;
    case 2: return rinv * rinv;
    case 4: { double t = rinv * rinv; return t * t; }
    case 6: { double t = rinv * rinv; return t * t * t; }
    case 12: { double t = rinv * rinv; t = t * t * t; return t * t; }
    default: return pow(r, -p);
  }
}

static kiln_status sw_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                              kiln_pot_work *w, kiln_error *err) {
  sw_state *s = state;
  const char *what = "potential sw";
  const int nel = s->nel;
  const size_t n = nl->n;
  size_t maxnb;
  kiln_status st = kilni_triplet_prepare(&s->tf, s->checked, what, a, nl, w->tmap, &s->elem,
                                         &s->elem_cap, &maxnb, err);
  if (st) return st;
  /* scratch: per-thread neighbor buffers */
  const int nthr = w->nthreads > 0 ? w->nthreads : 1;
  size_t need = (size_t)nthr * (maxnb + 1);
  if (!(s->buf = kilni_grow(s->buf, &s->buf_cap, need, need, sizeof *s->buf)))
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu neighbors)", what, need);
  const int32_t *elem = s->elem;

  const double (*xe)[3] = (const double (*)[3])nl->xe;
  const int32_t *p3 = s->tf.idx;
  const sw_param *par = s->par;
  const int peratom = (w->want & KILN_EVAL_PERATOM) && w->e;

#pragma omp parallel num_threads(nthr)
  {
    const int t = omp_get_thread_num();
    double (*f)[3] = w->f[t];
    double *e = peratom ? w->e[t] : NULL;
    sw_nb *nb = s->buf + (size_t)t * (maxnb + 1);
    double eng = 0.0;

#pragma omp for schedule(static)
    for (size_t i = 0; i < n; i++) {
      const int ei = elem[i];
      const double xi = xe[i][0], yi = xe[i][1], zi = xe[i][2];
      const size_t beg = nl->offset[i], end = nl->offset[i + 1];
      const size_t hend = beg + (size_t)nl->nhalf[i];
      const int32_t *pij_row = p3 + (size_t)ei * nel * nel;
      double fix = 0, fiy = 0, fiz = 0, ei2 = 0;
      int ns = 0;
      for (size_t jj = beg; jj < end; jj++) {
        const int32_t j = nl->index[jj];
        const int ej = elem[j];
        const double dx = xe[j][0] - xi, dy = xe[j][1] - yi, dz = xe[j][2] - zi;
        const double rsq = dx * dx + dy * dy + dz * dz;
        const sw_param *P = par + pij_row[ej * nel + ej];
        if (rsq >= P->cutsq) continue;
        const double r = sqrt(rsq), rinv = 1.0 / r, rinvsq = rinv * rinv;
        const double rainv = 1.0 / (r - P->cut);
        const double gsrainv = P->sigma_gamma * rainv;
        sw_nb *b = nb + ns++;
        b->dx = dx; b->dy = dy; b->dz = dz;
        b->rinv = rinv; b->rinvsq = rinvsq;
        b->ex = exp(gsrainv);
        b->gsr = gsrainv * rainv * rinv;
        b->fx = b->fy = b->fz = 0.0;
        b->j = j; b->el = ej;
        if (jj < hend) {  /* two-body, once per pair */
          const double rp = rpow_neg(r, rinv, P->pint, P->p);
          const double rq = rpow_neg(r, rinv, P->qint, P->q);
          const double expsrainv = exp(P->sigma * rainv);
          const double rainvsq = rainv * rainv * r;
          /* fpair acts along xi - xj = -d */
          const double fpair =
              (P->c1 * rp - P->c2 * rq + (P->c3 * rp - P->c4 * rq) * rainvsq) * expsrainv * rinvsq;
          const double e2 = (P->c5 * rp - P->c6 * rq) * expsrainv;
          fix -= dx * fpair; fiy -= dy * fpair; fiz -= dz * fpair;
          b->fx += dx * fpair; b->fy += dy * fpair; b->fz += dz * fpair;
          eng += e2;
          if (e) { ei2 += 0.5 * e2; e[j] += 0.5 * e2; }
        }
      }
      /* three-body: pairs j < k of the short list */
      double e3 = 0.0;
      for (int ja = 0; ja < ns - 1; ja++) {
        sw_nb *A = nb + ja;
        const double ax = A->dx, ay = A->dy, az = A->dz;
        const double arinv = A->rinv, arinvsq = A->rinvsq, aex = A->ex, agsr = A->gsr;
        const int32_t *pk = pij_row + A->el * nel;
        double fjx = 0, fjy = 0, fjz = 0;
        for (int kb = ja + 1; kb < ns; kb++) {
          sw_nb *B = nb + kb;
          const sw_param *Q = par + pk[B->el];
          const double rinv12 = arinv * B->rinv;
          const double cs = (ax * B->dx + ay * B->dy + az * B->dz) * rinv12;
          const double delcs = cs - Q->costheta;
          const double facexp = aex * B->ex;
          const double facrad = Q->lambda_epsilon * facexp * delcs * delcs;
          const double frad1 = facrad * agsr, frad2 = facrad * B->gsr;
          const double facang = Q->lambda_epsilon2 * facexp * delcs;
          const double facang12 = rinv12 * facang;
          const double csfacang = cs * facang;
          const double c1 = frad1 + arinvsq * csfacang;
          const double c2 = frad2 + B->rinvsq * csfacang;
          const double fjx_ = ax * c1 - B->dx * facang12;
          const double fjy_ = ay * c1 - B->dy * facang12;
          const double fjz_ = az * c1 - B->dz * facang12;
          const double fkx_ = B->dx * c2 - ax * facang12;
          const double fky_ = B->dy * c2 - ay * facang12;
          const double fkz_ = B->dz * c2 - az * facang12;
          fjx += fjx_; fjy += fjy_; fjz += fjz_;
          B->fx += fkx_; B->fy += fky_; B->fz += fkz_;
          fix -= fjx_ + fkx_; fiy -= fjy_ + fky_; fiz -= fjz_ + fkz_;
          e3 += facrad;
          if (e) {
            const double third = facrad * (1.0 / 3.0);
            e[A->j] += third; e[B->j] += third; ei2 += third;
          }
        }
        A->fx += fjx; A->fy += fjy; A->fz += fjz;
      }
      eng += e3;
      for (int q = 0; q < ns; q++) {
        double *fj = f[nb[q].j];
        fj[0] += nb[q].fx; fj[1] += nb[q].fy; fj[2] += nb[q].fz;
      }
      f[i][0] += fix; f[i][1] += fiy; f[i][2] += fiz;
      if (e) e[i] += ei2;
    }
    w->energy[t] += eng;
  }
  return KILN_OK;
}

const kiln_pot_style kiln_pot_sw_style = {
    .name = "sw",
    .description = "Stillinger-Weber three-body potential (LAMMPS pair_style sw), any number of "
                   "elements, parameters from a LAMMPS .sw file",
    .citation = "F. H. Stillinger and T. A. Weber, Phys. Rev. B 31, 5262 (1985)",
    .options = "file=string (path of a LAMMPS .sw file, metal units)\n"
               "elements=list of strings (elements to use, e.g. {\"Ga\",\"N\"}; default: every "
               "element in the file)",
    .flags = KILN_POT_NEEDS_FULL_LIST | KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM |
             KILN_POT_MANYBODY,
    .init = sw_init,
    .map_species = sw_map_species,
    .compute = sw_compute,
    .destroy = sw_destroy,
    .compute_full = NULL,
};
