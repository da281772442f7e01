/* src/cv/cv_steinhardt.c: Steinhardt bond-orientational order parameters Q_l
 * (Steinhardt, Nelson, Ronchetti, PRB 28, 784 (1983)) with a smooth cosine cutoff,
 * global value with its analytic gradient and per-atom values.
 * Y_lm(n) = N_lm (d^m P_l/du^m)(n_z) (n_x + i n_y)^m for m >= 0; |Y_l,-m| = |Y_lm|, so
 * sum_m |A_m|^2 = |A_0|^2 + 2 sum_{m>0} |A_m|^2. */
#include <complex.h>
#include <stdlib.h>
#include <string.h>
#include "cv/cv_internal.h"
#include "kiln/neigh.h"

#define LMAX 12

typedef struct {
  int l;
  double norm[LMAX + 1];                /* N_lm */
  double poly[LMAX + 1][LMAX + 1];      /* d^m P_l/du^m coefficients of u^k */
  double dpoly[LMAX + 1][LMAX + 1];     /* its derivative */
} ylm_t;

static double binom(int n, int k) {
  double r = 1;
  for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
  return r;
}

static void ylm_init(ylm_t *y, int l) {
  memset(y, 0, sizeof *y);
  y->l = l;
  double p[LMAX + 1] = {0};
  for (int j = 0; 2 * j <= l; j++)
    p[l - 2 * j] = ldexp(1.0, -l) * ((j & 1) ? -1.0 : 1.0) * binom(l, j) * binom(2 * l - 2 * j, l);
  for (int m = 0; m <= l; m++) {
    for (int k = 0; k <= l; k++) y->poly[m][k] = p[k];
    for (int k = 0; k + 1 <= l; k++) y->dpoly[m][k] = (k + 1) * p[k + 1];
    y->dpoly[m][l] = 0;
    for (int k = 0; k < l; k++) p[k] = (k + 1) * p[k + 1]; /* differentiate */
    p[l] = 0;
    double f = 1; /* (l-m)!/(l+m)! */
    for (int i = l - m + 1; i <= l + m; i++) f /= i;
    y->norm[m] = sqrt((2 * l + 1) / (4 * M_PI) * f);
  }
}

static double horner(const double *c, int deg, double u) {
  double r = 0;
  for (int k = deg; k >= 0; k--) r = r * u + c[k];
  return r;
}

/* Y_m (m = 0..l) at unit vector n; with dY (3 per m), the gradient w.r.t. the bond
 * vector of length r (tangential projection / r). */
static void ylm_eval(const ylm_t *y, const double n[3], double r, double complex *Y,
                     double complex (*dY)[3]) {
  const int l = y->l;
  double complex z = CMPLX(n[0], n[1]), zp = 1.0, zm1 = 0.0;
  for (int m = 0; m <= l; m++) {
    double D = horner(y->poly[m], l, n[2]);
    Y[m] = y->norm[m] * D * zp;
    if (dY) {
      double dD = horner(y->dpoly[m], l, n[2]);
      double complex gn[3];
      gn[0] = y->norm[m] * D * m * zm1;
      gn[1] = CMPLX(0.0, 1.0) * gn[0];
      gn[2] = y->norm[m] * dD * zp;
      double complex nd = gn[0] * n[0] + gn[1] * n[1] + gn[2] * n[2];
      for (int c = 0; c < 3; c++) dY[m][c] = (gn[c] - nd * n[c]) / r;
    }
    zm1 = zp;
    zp *= z;
  }
}

static double weight(double r, double rin, double rc, double *dw) {
  if (r <= rin) { *dw = 0; return 1; }
  if (r >= rc) { *dw = 0; return 0; }
  double t = M_PI * (r - rin) / (rc - rin);
  *dw = -0.5 * sin(t) * M_PI / (rc - rin);
  return 0.5 * (1 + cos(t));
}

kiln_status kiln_cv_steinhardt(const kiln_atoms *a, int l, double rin, double rcut, double *Q,
                               double *qatom, double (*g)[3], kiln_error *err) {
  if (l < 1 || l > LMAX)
    return KILN_FAIL(err, KILN_EINVAL, "cv steinhardt: l = %d is outside 1..%d", l, LMAX);
  if (!(rcut > 0) || !(rin >= 0) || !(rin < rcut))
    return KILN_FAIL(err, KILN_EINVAL, "cv steinhardt: need 0 <= rin < rcut (got rin = %g, "
                     "rcut = %g A)", rin, rcut);
  ylm_t y;
  ylm_init(&y, l);
  kiln_neigh *nl = NULL;
  kiln_status st = kiln_neigh_new(&nl, KILN_NEIGH_FULL, rcut, 0.0, err);
  if (st) return st;
  if ((st = kiln_neigh_build(nl, a, err))) {
    kiln_neigh_free(nl);
    return st;
  }
  const size_t n = a->n;
  const double K = 4 * M_PI / (2 * l + 1);
  double complex A[LMAX + 1] = {0}, Yi[LMAX + 1], Ai[LMAX + 1];
  double complex(*dY)[3] = NULL;
  double W = 0;
  for (size_t i = 0; i < n; i++) {
    double Wi = 0;
    memset(Ai, 0, sizeof Ai);
    for (size_t p = nl->offset[i]; p < nl->offset[i + 1]; p++) {
      int32_t j = nl->index[p];
      double d[3] = {nl->xe[j][0] - nl->xe[i][0], nl->xe[j][1] - nl->xe[i][1],
                     nl->xe[j][2] - nl->xe[i][2]};
      double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]), dw;
      if (r >= rcut || r == 0) continue;
      double w = weight(r, rin, rcut, &dw);
      double nv[3] = {d[0] / r, d[1] / r, d[2] / r};
      ylm_eval(&y, nv, r, Yi, NULL);
      for (int m = 0; m <= l; m++) Ai[m] += w * Yi[m];
      Wi += w;
    }
    for (int m = 0; m <= l; m++) A[m] += Ai[m];
    W += Wi;
    if (qatom) {
      double s2 = 0;
      for (int m = 0; m <= l; m++) s2 += (m ? 2.0 : 1.0) * creal(Ai[m] * conj(Ai[m]));
      qatom[i] = Wi > 0 ? sqrt(K * s2) / Wi : 0.0;
    }
  }
  double S = 0;
  for (int m = 0; m <= l; m++) S += (m ? 2.0 : 1.0) * creal(A[m] * conj(A[m]));
  double Qv = W > 0 ? sqrt(K * S) / W : 0.0;
  if (Q) *Q = Qv;
  if (g) {
    memset(g, 0, n * sizeof *g);
    if (W > 0 && Qv > 0) {
      dY = malloc((LMAX + 1) * sizeof *dY);
      if (!dY) {
        kiln_neigh_free(nl);
        return KILN_FAIL(err, KILN_ENOMEM, "cv steinhardt: out of memory");
      }
      const double Q2 = Qv * Qv;
      for (size_t i = 0; i < n; i++)
        for (size_t p = nl->offset[i]; p < nl->offset[i + 1]; p++) {
          int32_t j = nl->index[p];
          double d[3] = {nl->xe[j][0] - nl->xe[i][0], nl->xe[j][1] - nl->xe[i][1],
                         nl->xe[j][2] - nl->xe[i][2]};
          double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]), dw;
          if (r >= rcut || r == 0) continue;
          double w = weight(r, rin, rcut, &dw);
          double nv[3] = {d[0] / r, d[1] / r, d[2] / r};
          ylm_eval(&y, nv, r, Yi, dY);
          double G[3] = {0, 0, 0};
          for (int m = 0; m <= l; m++) {
            double cm = m ? 2.0 : 1.0;
            for (int c = 0; c < 3; c++) {
              double complex dA = dw * nv[c] * Yi[m] + w * dY[m][c];
              G[c] += cm * 2.0 * creal(conj(A[m]) * dA);
            }
          }
          /* dQ^2/dd = K G / W^2 - 2 Q^2 dW/W; dQ = dQ^2 / (2Q) */
          int32_t o = nl->owner[j];
          for (int c = 0; c < 3; c++) {
            double gq = (K * G[c] / (W * W) - 2 * Q2 * dw * nv[c] / W) / (2 * Qv);
            g[o][c] += gq;
            g[i][c] -= gq;
          }
        }
      free(dY);
    }
  }
  kiln_neigh_free(nl);
  return KILN_OK;
}
