/* src/corr/qpoints_grid.c: q-points commensurate with a supercell (segments,
 * spheres, random shells) and spherical averages over |q|. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/qpoints.h"
#include "kiln/rng.h"

#define TWO_PI 6.283185307179586476925286766559

kiln_status kiln_cell_reciprocal(const double cell[3][3], double recip[3][3], kiln_error *err) {
  double inv[3][3];
  kiln_status st = kiln_cell_inverse(cell, inv, err);
  if (st) return st;
  for (int j = 0; j < 3; j++)
    for (int d = 0; d < 3; d++) recip[j][d] = TWO_PI * inv[d][j];
  return KILN_OK;
}

static void indices(const double cell[3][3], const double q[3], double h[3]) {
  for (int i = 0; i < 3; i++)
    h[i] = (q[0] * cell[i][0] + q[1] * cell[i][1] + q[2] * cell[i][2]) / TWO_PI;
}

int kiln_qpoint_commensurate(const double cell[3][3], const double q[3], double tol, long hkl[3]) {
  double h[3];
  indices(cell, q, h);
  int ok = 1;
  for (int i = 0; i < 3; i++) {
    double r = nearbyint(h[i]);
    if (!(fabs(h[i] - r) <= tol)) ok = 0;
    hkl[i] = isfinite(r) && fabs(r) < 1e15 ? (long)r : 0;
  }
  return ok;
}

#define MAX_STEPS 10000000.0

kiln_status kiln_qpoints_segment(const double cell[3][3], const double qa[3], const double qb[3],
                                 double tol, long (**hkl)[3], size_t *n, kiln_error *err) {
  *hkl = NULL;
  *n = 0;
  if (!(tol >= 0) || !(tol < 0.5))
    return KILN_FAIL(err, KILN_EINVAL, "q-point tolerance must be in [0, 0.5) (got %g)", tol);
  for (int d = 0; d < 3; d++)
    if (!isfinite(qa[d]) || !isfinite(qb[d]))
      return KILN_FAIL(err, KILN_EINVAL, "q-point segment has a non-finite coordinate");
  double ha[3], hb[3], dh[3];
  indices(cell, qa, ha);
  indices(cell, qb, hb);
  int k = 0;
  for (int d = 0; d < 3; d++) {
    dh[d] = hb[d] - ha[d];
    if (fabs(dh[d]) > fabs(dh[k])) k = d;
  }
  if (fabs(dh[k]) <= tol) {  /* a point, not a segment */
    long h[3];
    if (!kiln_qpoint_commensurate(cell, qa, tol, h)) return KILN_OK;
    if (!(*hkl = malloc(sizeof **hkl))) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
    memcpy((*hkl)[0], h, sizeof h);
    *n = 1;
    return KILN_OK;
  }
  if (fabs(dh[k]) > MAX_STEPS)
    return KILN_FAIL(err, KILN_ERANGE,
                     "q-point segment spans %.3g supercell reciprocal vectors (limit %g): q in "
                     "rad/Å including 2π?", fabs(dh[k]), MAX_STEPS);
  /* integer values m of component k from ha[k] towards hb[k] */
  double lo = ceil(fmin(ha[k], hb[k]) - tol), hi = floor(fmax(ha[k], hb[k]) + tol);
  size_t cap = (size_t)(hi - lo) + 1, cnt = 0;
  long (*out)[3] = malloc(cap * sizeof *out);
  if (!out) return KILN_FAIL(err, KILN_ENOMEM, "out of memory for %zu q-points", cap);
  int up = dh[k] > 0;
  for (size_t s = 0; s < cap; s++) {
    double m = up ? lo + (double)s : hi - (double)s;
    double t = (m - ha[k]) / dh[k];
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    int ok = 1;
    long h[3];
    for (int d = 0; d < 3; d++) {
      double x = d == k ? m : ha[d] + t * dh[d];
      double r = nearbyint(x);
      if (!(fabs(x - r) <= tol)) ok = 0;
      h[d] = (long)r;
    }
    if (ok) memcpy(out[cnt++], h, sizeof h);
  }
  if (cnt == 0) {
    free(out);
    return KILN_OK;
  }
  *hkl = out;
  *n = cnt;
  return KILN_OK;
}

typedef struct { double qn; long h[3]; } sphere_pt;
static int sphere_cmp(const void *x, const void *y) {
  const sphere_pt *a = x, *b = y;
  if (a->qn != b->qn) return a->qn < b->qn ? -1 : 1;
  for (int d = 0; d < 3; d++)
    if (a->h[d] != b->h[d]) return a->h[d] < b->h[d] ? -1 : 1;
  return 0;
}

#define MAX_SCAN 2e8

kiln_status kiln_qpoints_sphere(const double cell[3][3], double qmin, double qmax,
                                long (**hkl)[3], size_t *n, kiln_error *err) {
  *hkl = NULL;
  *n = 0;
  if (!(qmax > 0) || !isfinite(qmax))
    return KILN_FAIL(err, KILN_EINVAL, "qmax must be a positive |q| in rad/Å (got %g)", qmax);
  if (!(qmin < qmax) || isnan(qmin))
    return KILN_FAIL(err, KILN_EINVAL, "qmin (%g) must be below qmax (%g)", qmin, qmax);
  double B[3][3];
  kiln_status st = kiln_cell_reciprocal(cell, B, err);
  if (st) return st;
  long H[3];
  double scan = 1;
  for (int i = 0; i < 3; i++) {
    double len = sqrt(cell[i][0] * cell[i][0] + cell[i][1] * cell[i][1] + cell[i][2] * cell[i][2]);
    H[i] = (long)floor(qmax * len / TWO_PI) + 1;
    scan *= 2.0 * (double)H[i] + 1;
  }
  if (scan > MAX_SCAN)
    return KILN_FAIL(err, KILN_ERANGE,
                     "qmax %g rad/Å would scan %.3g index triples of this supercell (limit %g): "
                     "use a smaller qmax", qmax, scan, MAX_SCAN);
  /* count, then fill */
  double qmax2 = qmax * qmax * (1 + 1e-12);
  size_t cnt = 0, cap = 1024;
  sphere_pt *p = malloc(cap * sizeof *p);
  if (!p) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  for (long h = -H[0]; h <= H[0]; h++)
    for (long k = -H[1]; k <= H[1]; k++)
      for (long l = -H[2]; l <= H[2]; l++) {
        double q[3];
        for (int d = 0; d < 3; d++)
          q[d] = (double)h * B[0][d] + (double)k * B[1][d] + (double)l * B[2][d];
        double q2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2];
        if (q2 > qmax2) continue;
        double qn = sqrt(q2);
        if (qmin >= 0 && qn <= qmin) continue;
        if (cnt == cap) {
          sphere_pt *np = realloc(p, 2 * cap * sizeof *p);
          if (!np) {
            free(p);
            return KILN_FAIL(err, KILN_ENOMEM, "out of memory for %zu q-points", 2 * cap);
          }
          p = np;
          cap *= 2;
        }
        p[cnt].qn = qn;
        p[cnt].h[0] = h, p[cnt].h[1] = k, p[cnt].h[2] = l;
        cnt++;
      }
  qsort(p, cnt, sizeof *p, sphere_cmp);
  if (cnt) {
    long (*out)[3] = malloc(cnt * sizeof *out);
    if (!out) {
      free(p);
      return KILN_FAIL(err, KILN_ENOMEM, "out of memory for %zu q-points", cnt);
    }
    for (size_t i = 0; i < cnt; i++) memcpy(out[i], p[i].h, sizeof out[i]);
    *hkl = out;
    *n = cnt;
  }
  free(p);
  return KILN_OK;
}

kiln_status kiln_qpoints_pick_shells(const double *qnorm, size_t n, double qmax, int nshells,
                                     long per_shell, unsigned long long seed, int *keep,
                                     kiln_error *err) {
  if (!(qmax > 0) || !isfinite(qmax))
    return KILN_FAIL(err, KILN_EINVAL, "qmax must be a positive |q| in rad/Å (got %g)", qmax);
  if (nshells < 1)
    return KILN_FAIL(err, KILN_EINVAL, "number of shells must be at least 1 (got %d)", nshells);
  double w = qmax / nshells;
  long *cnt = calloc((size_t)nshells, sizeof *cnt);
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  if (!cnt || !idx) {
    free(cnt);
    free(idx);
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    double q = qnorm[i];
    int s = -1;
    if (q > 0 && q <= qmax * (1 + 1e-12)) {
      s = (int)ceil(q / w * (1 - 1e-12)) - 1;
      if (s < 0) s = 0;
      if (s >= nshells) s = nshells - 1;
      cnt[s]++;
    }
    keep[i] = s;
  }
  if (per_shell > 0) {
    kiln_rng rng;
    kiln_rng_seed(&rng, seed, 0);
    for (int s = 0; s < nshells; s++) {
      if (cnt[s] <= per_shell) continue;
      size_t m = 0;
      for (size_t i = 0; i < n; i++)
        if (keep[i] == s) idx[m++] = i;
      /* partial Fisher–Yates: the first per_shell entries are the sample */
      for (size_t i = 0; i < (size_t)per_shell; i++) {
        size_t j = i + (size_t)(kiln_rng_uniform(&rng) * (double)(m - i));
        if (j >= m) j = m - 1;
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
      }
      for (size_t i = (size_t)per_shell; i < m; i++) keep[idx[i]] = -1;
    }
  }
  free(cnt);
  free(idx);
  return KILN_OK;
}

kiln_status kiln_qpoints_spherical_gauss(const double *qn, const double *values, size_t nq,
                                         size_t m, const double *Q, size_t nQ, double width,
                                         int sum_only, double *out, kiln_error *err) {
  if (!(width > 0) || !isfinite(width))
    return KILN_FAIL(err, KILN_EINVAL, "spherical average: width must be a positive |q| in rad/Å "
                     "(got %g)", width);
  int bad = 0;
#pragma omp parallel for schedule(static) reduction(|| : bad) if (nQ * nq * (m + 1) > 200000)
  for (size_t k = 0; k < nQ; k++) {
    double *o = out + k * m, wsum = 0;
    for (size_t j = 0; j < m; j++) o[j] = 0;
    for (size_t i = 0; i < nq; i++) {
      double z = (qn[i] - Q[k]) / width;
      if (!(fabs(z) < 40)) {
        if (isnan(z)) bad = 1;
        continue;
      }
      double w = exp(-0.5 * z * z);
      wsum += w;
      const double *v = values + i * m;
      for (size_t j = 0; j < m; j++) o[j] += w * v[j];
    }
    if (!sum_only)
      for (size_t j = 0; j < m; j++) o[j] = wsum > 0 ? o[j] / wsum : (double)NAN;
  }
  if (bad) return KILN_FAIL(err, KILN_EINVAL, "spherical average: a |q| is NaN");
  return KILN_OK;
}

kiln_status kiln_qpoints_spherical_bins(const double *qn, const double *values, size_t nq,
                                        size_t m, double qlo, double qhi, size_t nbins,
                                        double *out, long *count, kiln_error *err) {
  if (nbins < 1) return KILN_FAIL(err, KILN_EINVAL, "spherical average: nbins must be >= 1");
  if (!(qhi > qlo) || !isfinite(qlo) || !isfinite(qhi))
    return KILN_FAIL(err, KILN_EINVAL, "spherical average: bin range [%g, %g] is empty", qlo, qhi);
  long *c = count ? count : calloc(nbins, sizeof *c);
  if (!c) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  memset(c, 0, nbins * sizeof *c);
  memset(out, 0, nbins * m * sizeof *out);
  double w = (qhi - qlo) / (double)nbins;
  for (size_t i = 0; i < nq; i++) {
    if (!(qn[i] >= qlo && qn[i] <= qhi)) continue;
    size_t b = (size_t)((qn[i] - qlo) / w);
    if (b >= nbins) b = nbins - 1;
    c[b]++;
    for (size_t j = 0; j < m; j++) out[b * m + j] += values[i * m + j];
  }
  for (size_t b = 0; b < nbins; b++)
    for (size_t j = 0; j < m; j++) out[b * m + j] = c[b] ? out[b * m + j] / (double)c[b] : (double)NAN;
  if (!count) free(c);
  return KILN_OK;
}
