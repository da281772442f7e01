/* src/ml/design.c: design-matrix rows of one structure from descriptor rows and their
 * sparse gradient (kiln_design_linear), and polynomial-kernel features against sparse
 * points with their gradient (kiln_kernel_poly). See include/kiln/ml.h. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/ml.h"

/* Voigt order xx yy zz yz xz xy */
static const int VA[6] = {0, 1, 2, 1, 0, 0}, VB[6] = {0, 1, 2, 2, 2, 1};

static kiln_status check_grad(const kiln_desc_grad *g, size_t n, size_t ncols, const char *what,
                              kiln_error *err) {
  if (!g || !g->offset)
    return KILN_FAIL(err, KILN_EINVAL, "%s: forces or virial rows need the descriptor gradient",
                     what);
  if (g->n != n || g->ncols != ncols)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: the gradient is for %zu atoms x %zu columns but the rows are %zu x %zu",
                     what, g->n, g->ncols, n, ncols);
  return KILN_OK;
}

kiln_status kiln_design_linear_el(size_t n, size_t ncols, const double *X,
                                  const kiln_desc_grad *g, const int32_t *el, int nel,
                                  double *erow, double *frows, double *vrows, kiln_error *err) {
  const char *what = "design rows";
  if (ncols == 0) return KILN_FAIL(err, KILN_EINVAL, "%s: ncols must be >= 1", what);
  if (nel < 1) return KILN_FAIL(err, KILN_EINVAL, "%s: nel must be >= 1 (got %d)", what, nel);
  if (el)
    for (size_t i = 0; i < n; i++)
      if (el[i] < 0 || el[i] >= nel)
        return KILN_FAIL(err, KILN_EINVAL, "%s: atom %zu has element index %d (have %d elements)",
                         what, i + 1, (int)el[i] + 1, nel);
  const size_t W = ncols * (size_t)nel;   /* width of the rows */
#define BLOCK(i) ((el ? (size_t)el[i] : 0) * ncols)
  if (erow) {
    if (!X && n > 0) return KILN_FAIL(err, KILN_EINVAL, "%s: the energy row needs X", what);
    memset(erow, 0, W * sizeof *erow);
    for (size_t i = 0; i < n; i++) {
      const double *x = X + i * ncols;
      double *out = erow + BLOCK(i);
      for (size_t c = 0; c < ncols; c++) out[c] += x[c];
    }
  }
  if (!frows && !vrows) return KILN_OK;
  kiln_status st = check_grad(g, n, ncols, what, err);
  if (st) return st;
  for (size_t i = 0; i < n; i++)
    for (size_t e = g->offset[i]; e < g->offset[i + 1]; e++)
      if (g->j[e] < 0 || (size_t)g->j[e] >= n)
        return KILN_FAIL(err, KILN_EINVAL,
                         "%s: gradient entry %zu of atom %zu names atom %d (have %zu atoms)", what,
                         e, i + 1, (int)g->j[e] + 1, n);
  if (frows) {
    memset(frows, 0, 3 * n * W * sizeof *frows);
    for (size_t i = 0; i < n; i++) {
      const size_t blk = BLOCK(i);
      double *fi = frows + 3 * i * W + blk;
      for (size_t e = g->offset[i]; e < g->offset[i + 1]; e++) {
        double *fj = frows + 3 * (size_t)g->j[e] * W + blk;
        const double *d = g->d + e * 3 * ncols;
        /* -dX_i/dr_k on the neighbor's owner, +dX_i/dr_k on the centre */
        for (size_t c = 0; c < 3; c++)
          for (size_t k = 0; k < ncols; k++) {
            fj[c * W + k] -= d[c * ncols + k];
            fi[c * W + k] += d[c * ncols + k];
          }
      }
    }
  }
  if (vrows) {
    memset(vrows, 0, 6 * W * sizeof *vrows);
    for (size_t i = 0; i < n; i++) {
      const size_t blk = BLOCK(i);
      for (size_t e = g->offset[i]; e < g->offset[i + 1]; e++) {
        const double *d = g->d + e * 3 * ncols;
        for (int v = 0; v < 6; v++) {
          const double r = g->rij[e][VA[v]];
          const double *db = d + (size_t)VB[v] * ncols;
          double *out = vrows + (size_t)v * W + blk;
          for (size_t c = 0; c < ncols; c++) out[c] -= r * db[c];
        }
      }
    }
  }
#undef BLOCK
  return KILN_OK;
}

kiln_status kiln_design_linear(size_t n, size_t ncols, const double *X, const kiln_desc_grad *g,
                               double *erow, double *frows, double *vrows, kiln_error *err) {
  return kiln_design_linear_el(n, ncols, X, g, NULL, 1, erow, frows, vrows, err);
}

/* ------------------------------------------------------------------ kernel */
static double ipow(double q, double zeta, int integer) {
  return integer ? pow(q, zeta) : (q > 0 ? pow(q, zeta) : 0.0);
}

/* the entries (x 3 rows) of centres [i0, i1) go through one dgemm at most this big */
#define KERNEL_CHUNK_DOUBLES ((size_t)1 << 22)

kiln_status kiln_kernel_poly(size_t n, size_t ncols, const double *X, const int32_t *ex,
                             const kiln_desc_grad *g, size_t m, const double *S,
                             const int32_t *es, double zeta, double *K, kiln_desc_grad *gK,
                             kiln_error *err) {
  const char *what = "polynomial kernel";
  if (ncols == 0 || m == 0)
    return KILN_FAIL(err, KILN_EINVAL, "%s: need ncols >= 1 and m >= 1 sparse rows (got %zu, %zu)",
                     what, ncols, m);
  if (!(zeta >= 1) || !isfinite(zeta))
    return KILN_FAIL(err, KILN_EINVAL, "%s: zeta must be a number >= 1 (got %g)", what, zeta);
  if ((n > 0 && !X) || !S) return KILN_FAIL(err, KILN_EINVAL, "%s: X and S are required", what);
  const int integer = zeta == floor(zeta);
  kiln_status st = KILN_OK;
  if (gK) {
    if ((st = check_grad(g, n, ncols, what, err))) return st;
  }
  double *xn = malloc((n ? n : 1) * sizeof *xn);          /* 1/|x_i| (0 for a zero row) */
  double *sh = malloc(m * ncols * sizeof *sh);            /* normalised sparse rows */
  double *xh = malloc((n ? n : 1) * ncols * sizeof *xh);  /* normalised rows */
  double *Q = malloc((n ? n : 1) * m * sizeof *Q);        /* xhat_i . shat_s */
  size_t *perm = malloc(m * sizeof *perm);                /* sparse rows sorted by element */
  double *spack = malloc(m * ncols * sizeof *spack);      /* shat in perm order */
  double *tmp = NULL, *proj = NULL, *cc = NULL, *cq = NULL;
  if (!xn || !sh || !xh || !Q || !perm || !spack) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu x %zu against %zu)", what, n, ncols, m);
    goto done;
  }
  for (size_t s = 0; s < m; s++) {
    const double *r = S + s * ncols;
    double nn = 0;
    for (size_t c = 0; c < ncols; c++) nn += r[c] * r[c];
    double inv = nn > 0 ? 1.0 / sqrt(nn) : 0.0;
    for (size_t c = 0; c < ncols; c++) sh[s * ncols + c] = r[c] * inv;
  }
  for (size_t i = 0; i < n; i++) {
    const double *r = X + i * ncols;
    double nn = 0;
    for (size_t c = 0; c < ncols; c++) nn += r[c] * r[c];
    xn[i] = nn > 0 ? 1.0 / sqrt(nn) : 0.0;
    for (size_t c = 0; c < ncols; c++) xh[i * ncols + c] = r[c] * xn[i];
  }
  if (n > 0)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)m, (int)ncols, 1.0, xh,
                (int)ncols, sh, (int)ncols, 0.0, Q, (int)m);
  if (!integer)
    for (size_t k = 0; k < n * m; k++)
      if (Q[k] < 0) Q[k] = 0;   /* (q)^zeta of a negative q is not real: clamp */
  if (K)
    for (size_t i = 0; i < n; i++)
      for (size_t s = 0; s < m; s++) {
        int same = !ex || !es || ex[i] == es[s];
        K[i * m + s] = same ? ipow(Q[i * m + s], zeta, integer) : 0.0;
      }
  if (!gK) goto done;

  /* sparse rows grouped by element: perm[] sorted (stable) by es */
  for (size_t s = 0; s < m; s++) perm[s] = s;
  if (es)
    for (size_t a = 1; a < m; a++) {   /* insertion sort: m is at most a few thousand */
      size_t v = perm[a], b = a;
      while (b > 0 && es[perm[b - 1]] > es[v]) { perm[b] = perm[b - 1]; b--; }
      perm[b] = v;
    }
  for (size_t s = 0; s < m; s++) memcpy(spack + s * ncols, sh + perm[s] * ncols, ncols * sizeof *sh);

  const size_t ne = g->offset[n];
  if ((st = kiln_desc_grad_reserve(gK, n, m, ne, err))) goto done;
  memcpy(gK->offset, g->offset, (n + 1) * sizeof *g->offset);
  if (ne) {
    memcpy(gK->j, g->j, ne * sizeof *g->j);
    memcpy(gK->rij, g->rij, ne * sizeof *g->rij);
    memset(gK->d, 0, ne * 3 * m * sizeof *gK->d);
  }
  /* d K_is / d r_k = c_is (shat_s - q_is xhat_i) . dX_i/dr_k, c_is = zeta q^(zeta-1) / |x_i|:
   * T = D_i shat^T by dgemm over runs of centres of one element, minus (D_i xhat_i) c q. */
  size_t maxrows = 0;
  for (size_t i = 0; i < n; i++) {
    size_t r = 3 * (g->offset[i + 1] - g->offset[i]);
    if (r > maxrows) maxrows = r;
  }
  size_t cap = KERNEL_CHUNK_DOUBLES / m;
  if (cap < maxrows) cap = maxrows;
  if (cap > 3 * ne) cap = 3 * ne;
  if (!cap) goto done;
  tmp = malloc(cap * m * sizeof *tmp);
  proj = malloc(maxrows * sizeof *proj);
  cc = malloc(2 * m * sizeof *cc);
  cq = cc ? cc + m : NULL;
  if (!tmp || !proj || !cc) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu x %zu scratch)", what, cap, m);
    goto done;
  }
  size_t i0 = 0;
  while (i0 < n) {
    const int32_t el = ex ? ex[i0] : 0;
    /* the block of sparse rows of this element */
    size_t s0 = 0, s1 = m;
    if (ex && es) {
      while (s0 < m && es[perm[s0]] < el) s0++;
      s1 = s0;
      while (s1 < m && es[perm[s1]] == el) s1++;
    }
    size_t i1 = i0 + 1, rows = 3 * (g->offset[i0 + 1] - g->offset[i0]);
    while (i1 < n && (!ex || ex[i1] == el)) {
      size_t r = 3 * (g->offset[i1 + 1] - g->offset[i1]);
      if (rows + r > cap) break;
      rows += r;
      i1++;
    }
    const size_t ms = s1 - s0;
    if (ms > 0 && rows > 0) {
      const double *D = g->d + g->offset[i0] * 3 * ncols;
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)ms, (int)ncols, 1.0, D,
                  (int)ncols, spack + s0 * ncols, (int)ncols, 0.0, tmp, (int)ms);
      size_t r0 = 0;
      for (size_t i = i0; i < i1; i++) {
        const size_t e0 = g->offset[i], nr = 3 * (g->offset[i + 1] - e0);
        if (nr == 0) continue;
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nr, (int)ncols, 1.0,
                    g->d + e0 * 3 * ncols, (int)ncols, xh + i * ncols, 1, 0.0, proj, 1);
        for (size_t t = 0; t < ms; t++) {
          const double q = Q[i * m + perm[s0 + t]];
          cc[t] = zeta * ipow(q, zeta - 1, integer) * xn[i];
          cq[t] = cc[t] * q;
        }
        for (size_t r = 0; r < nr; r++) {
          double *out = gK->d + (e0 * 3 + r) * m;
          const double *tr = tmp + (r0 + r) * ms, pr = proj[r];
          for (size_t t = 0; t < ms; t++) out[perm[s0 + t]] = cc[t] * tr[t] - cq[t] * pr;
        }
        r0 += nr;
      }
    }
    i0 = i1;
  }
done:
  free(xn);
  free(sh);
  free(xh);
  free(Q);
  free(perm);
  free(spack);
  free(tmp);
  free(proj);
  free(cc);
  return st;
}
