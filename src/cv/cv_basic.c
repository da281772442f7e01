/* src/cv/cv_basic.c: distance, angle and cell CVs with analytic gradients. */
#include <string.h>
#include "cv/cv_internal.h"

kiln_status kiln_cv_distance(const kiln_atoms *a, size_t i, size_t j, double *s,
                             double (*g)[3], kiln_error *err) {
  if (i >= a->n || j >= a->n || i == j)
    return KILN_FAIL(err, KILN_EINVAL, "cv distance: atoms %zu and %zu must be distinct and "
                     "in 1..%zu", i + 1, j + 1, a->n);
  double inv[3][3];
  int ok = kilni_cv_inv(a, inv);
  double d[3] = {a->x[j][0] - a->x[i][0], a->x[j][1] - a->x[i][1], a->x[j][2] - a->x[i][2]};
  kilni_cv_mic(a, inv, ok, d);
  double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  *s = r;
  if (g) {
    memset(g, 0, a->n * sizeof *g);
    if (r > 0)
      for (int c = 0; c < 3; c++) {
        g[j][c] = d[c] / r;
        g[i][c] = -d[c] / r;
      }
  }
  return KILN_OK;
}

kiln_status kiln_cv_angle(const kiln_atoms *a, size_t i, size_t j, size_t k, double *s,
                          double (*g)[3], kiln_error *err) {
  if (i >= a->n || j >= a->n || k >= a->n || i == j || j == k || i == k)
    return KILN_FAIL(err, KILN_EINVAL, "cv angle: atoms %zu, %zu, %zu must be distinct and "
                     "in 1..%zu", i + 1, j + 1, k + 1, a->n);
  double inv[3][3];
  int ok = kilni_cv_inv(a, inv);
  double u[3], v[3];
  for (int c = 0; c < 3; c++) {
    u[c] = a->x[i][c] - a->x[j][c];
    v[c] = a->x[k][c] - a->x[j][c];
  }
  kilni_cv_mic(a, inv, ok, u);
  kilni_cv_mic(a, inv, ok, v);
  double ru = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
  double rv = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (ru == 0 || rv == 0)
    return KILN_FAIL(err, KILN_EINVAL, "cv angle: atoms %zu-%zu-%zu: coincident positions",
                     i + 1, j + 1, k + 1);
  double c = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (ru * rv);
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  double th = acos(c);
  *s = th;
  if (g) {
    memset(g, 0, a->n * sizeof *g);
    double sn = sin(th);
    if (sn < 1e-12) sn = 1e-12; /* the gradient is singular at 0 and pi */
    for (int q = 0; q < 3; q++) {
      double dcu = v[q] / (ru * rv) - c * u[q] / (ru * ru);
      double dcv = u[q] / (ru * rv) - c * v[q] / (rv * rv);
      g[i][q] = -dcu / sn;
      g[k][q] = -dcv / sn;
      g[j][q] = (dcu + dcv) / sn;
    }
  }
  return KILN_OK;
}

static double dot3(const double *x, const double *y) { return x[0] * y[0] + x[1] * y[1] + x[2] * y[2]; }

kiln_status kiln_cv_cell(const kiln_atoms *a, int which, double *s, double gcell[3][3],
                         kiln_error *err) {
  const double(*h)[3] = (const double(*)[3])a->cell;
  if (gcell) memset(gcell, 0, 9 * sizeof(double));
  if (which >= KILN_CV_CELL_A && which <= KILN_CV_CELL_C) {
    double L = sqrt(dot3(h[which], h[which]));
    if (L == 0) return KILN_FAIL(err, KILN_EINVAL, "cv cell: lattice vector %d is zero", which + 1);
    *s = L;
    if (gcell)
      for (int c = 0; c < 3; c++) gcell[which][c] = h[which][c] / L;
    return KILN_OK;
  }
  if (which >= KILN_CV_CELL_ALPHA && which <= KILN_CV_CELL_GAMMA) {
    static const int pr[3][2] = {{1, 2}, {0, 2}, {0, 1}};
    int p = pr[which - 3][0], q = pr[which - 3][1];
    double lp = sqrt(dot3(h[p], h[p])), lq = sqrt(dot3(h[q], h[q]));
    if (lp == 0 || lq == 0) return KILN_FAIL(err, KILN_EINVAL, "cv cell angle: zero lattice vector");
    double c = dot3(h[p], h[q]) / (lp * lq);
    if (c > 1) c = 1;
    if (c < -1) c = -1;
    double th = acos(c), sn = sin(th);
    if (sn < 1e-12) sn = 1e-12;
    *s = th;
    if (gcell)
      for (int k = 0; k < 3; k++) {
        gcell[p][k] = -(h[q][k] / (lp * lq) - c * h[p][k] / (lp * lp)) / sn;
        gcell[q][k] = -(h[p][k] / (lp * lq) - c * h[q][k] / (lq * lq)) / sn;
      }
    return KILN_OK;
  }
  if (which == KILN_CV_CELL_VOLUME) {
    double cr[3][3]; /* cofactors: dV/dh_k = (h_{k+1} x h_{k+2}) sign(det) */
    for (int k = 0; k < 3; k++) {
      const double *u = h[(k + 1) % 3], *v = h[(k + 2) % 3];
      cr[k][0] = u[1] * v[2] - u[2] * v[1];
      cr[k][1] = u[2] * v[0] - u[0] * v[2];
      cr[k][2] = u[0] * v[1] - u[1] * v[0];
    }
    double det = dot3(h[0], cr[0]);
    *s = fabs(det);
    if (gcell) {
      double sg = det < 0 ? -1.0 : 1.0;
      for (int k = 0; k < 3; k++)
        for (int c = 0; c < 3; c++) gcell[k][c] = sg * cr[k][c];
    }
    return KILN_OK;
  }
  return KILN_FAIL(err, KILN_EINVAL, "cv cell: unknown quantity %d (0..6: a b c alpha beta "
                   "gamma volume)", which);
}

void kiln_cv_cell_virial(const double cell[3][3], const double dEdh[3][3], double W[3][3]) {
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) {
      double w = 0;
      for (int c = 0; c < 3; c++) w -= cell[c][x] * dEdh[c][y];
      W[x][y] = w;
    }
}
