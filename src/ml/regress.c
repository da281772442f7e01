/* src/ml/regress.c: the regression kernels of training (include/kiln/ml.h): weighted
 * ridge least squares by SVD (LAPACKE dgelsd), sparse GP weights by Cholesky + QR
 * (dpotrf, dgels), and farthest-point sampling. */
#include <float.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/ml.h"

kiln_status kiln_ridge(size_t m, size_t n, const double *A, const double *b, const double *w,
                       double lambda, double *x, size_t *rank, kiln_error *err) {
  const char *what = "ridge";
  if (m == 0 || n == 0)
    return KILN_FAIL(err, KILN_EINVAL, "%s: A must have at least one row and column (got %zu x %zu)",
                     what, m, n);
  if (!A || !b || !x) return KILN_FAIL(err, KILN_EINVAL, "%s: A, b and x are required", what);
  if (!(lambda >= 0) || !isfinite(lambda))
    return KILN_FAIL(err, KILN_EINVAL, "%s: lambda must be a finite number >= 0 (got %g)", what,
                     lambda);
  const size_t rows = lambda > 0 ? m + n : m;
  const size_t ldb = rows > n ? rows : n;
  if (ldb > (size_t)INT_MAX / (n > 1 ? n : 1))
    return KILN_FAIL(err, KILN_ERANGE, "%s: system of %zu x %zu is too large", what, rows, n);
  for (size_t r = 0; r < m; r++) {
    if (w && (!(w[r] >= 0) || !isfinite(w[r])))
      return KILN_FAIL(err, KILN_EINVAL, "%s: weight %zu must be a finite number >= 0 (got %g)",
                       what, r + 1, w[r]);
    if (!isfinite(b[r]))
      return KILN_FAIL(err, KILN_EINVAL, "%s: b[%zu] is not finite (%g)", what, r + 1, b[r]);
  }
  for (size_t k = 0; k < m * n; k++)
    if (!isfinite(A[k]))
      return KILN_FAIL(err, KILN_EINVAL, "%s: A[%zu][%zu] is not finite (%g)", what, k / n + 1,
                       k % n + 1, A[k]);
  double *M = calloc(ldb * n, sizeof *M);
  double *B = calloc(ldb, sizeof *B);
  double *sv = malloc(n * sizeof *sv);
  kiln_status st = KILN_OK;
  if (!M || !B || !sv) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu x %zu system)", what, rows, n);
    goto done;
  }
  for (size_t r = 0; r < m; r++) {
    const double s = w ? sqrt(w[r]) : 1.0;
    for (size_t c = 0; c < n; c++) M[r * n + c] = s * A[r * n + c];
    B[r] = s * b[r];
  }
  if (lambda > 0) {
    const double sl = sqrt(lambda);
    for (size_t c = 0; c < n; c++) M[(m + c) * n + c] = sl;
  }
  lapack_int rk = 0;
  const double rcond = DBL_EPSILON * (double)(rows > n ? rows : n);
  lapack_int info = LAPACKE_dgelsd(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)n, 1, M,
                                   (lapack_int)n, B, 1, sv, rcond, &rk);
  if (info != 0) {
    st = KILN_FAIL(err, info > 0 ? KILN_ENOCONV : KILN_EEXTERNAL,
                   "%s: LAPACK dgelsd returned info = %d for a %zu x %zu system%s", what, (int)info,
                   rows, n, info > 0 ? " (SVD did not converge)" : "");
    goto done;
  }
  memcpy(x, B, n * sizeof *x);
  if (rank) *rank = (size_t)rk;
done:
  free(M);
  free(B);
  free(sv);
  return st;
}

kiln_status kiln_sgpr(size_t nobs, size_t m, const double *Knm, const double *y,
                      const double *sigma, const double *Kmm, double jitter, double *alpha,
                      kiln_error *err) {
  const char *what = "sgpr";
  if (nobs == 0 || m == 0)
    return KILN_FAIL(err, KILN_EINVAL, "%s: need at least one observation and one sparse point "
                     "(got %zu, %zu)", what, nobs, m);
  if (!Knm || !y || !sigma || !Kmm || !alpha)
    return KILN_FAIL(err, KILN_EINVAL, "%s: Knm, y, sigma, Kmm and alpha are required", what);
  if (!(jitter >= 0) || !isfinite(jitter))
    return KILN_FAIL(err, KILN_EINVAL, "%s: jitter must be a finite number >= 0 (got %g)", what,
                     jitter);
  const size_t rows = nobs + m;
  if (rows > (size_t)INT_MAX / m)
    return KILN_FAIL(err, KILN_ERANGE, "%s: system of %zu x %zu is too large", what, rows, m);
  for (size_t r = 0; r < nobs; r++)
    if (!(sigma[r] > 0) || !isfinite(sigma[r]))
      return KILN_FAIL(err, KILN_EINVAL, "%s: sigma[%zu] must be a finite number > 0 (got %g)",
                       what, r + 1, sigma[r]);
  double *U = malloc(m * m * sizeof *U);
  double *M = calloc(rows * m, sizeof *M);
  double *B = calloc(rows, sizeof *B);
  kiln_status st = KILN_OK;
  if (!U || !M || !B) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu x %zu system)", what, rows, m);
    goto done;
  }
  /* Kmm + jitter I = U^T U (upper triangle of a symmetrised copy) */
  for (size_t a = 0; a < m; a++)
    for (size_t b = 0; b < m; b++) {
      const double v = 0.5 * (Kmm[a * m + b] + Kmm[b * m + a]);
      if (!isfinite(v)) {
        st = KILN_FAIL(err, KILN_EINVAL, "%s: Kmm[%zu][%zu] is not finite", what, a + 1, b + 1);
        goto done;
      }
      U[a * m + b] = b < a ? 0.0 : v + (a == b ? jitter : 0.0);
    }
  lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)m, U, (lapack_int)m);
  if (info != 0) {
    st = KILN_FAIL(err, KILN_EDOM,
                   "%s: Kmm + jitter*I (%zu x %zu, jitter %g) is not positive definite (leading "
                   "minor %d): raise jitter or remove duplicate sparse points",
                   what, m, m, jitter, (int)info);
    goto done;
  }
  for (size_t r = 0; r < nobs; r++) {
    const double is = 1.0 / sigma[r];
    for (size_t c = 0; c < m; c++) {
      const double v = Knm[r * m + c];
      if (!isfinite(v)) {
        st = KILN_FAIL(err, KILN_EINVAL, "%s: K[%zu][%zu] is not finite", what, r + 1, c + 1);
        goto done;
      }
      M[r * m + c] = is * v;
    }
    if (!isfinite(y[r])) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s: y[%zu] is not finite", what, r + 1);
      goto done;
    }
    B[r] = is * y[r];
  }
  for (size_t a = 0; a < m; a++)
    for (size_t b = a; b < m; b++) M[(nobs + a) * m + b] = U[a * m + b];
  /* min |[S^-1 Knm; U] alpha - [S^-1 y; 0]|: QR (rows >= m always) */
  info = LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', (lapack_int)rows, (lapack_int)m, 1, M,
                       (lapack_int)m, B, 1);
  if (info != 0) {
    st = KILN_FAIL(err, info > 0 ? KILN_EDOM : KILN_EEXTERNAL,
                   "%s: LAPACK dgels returned info = %d for a %zu x %zu system%s", what, (int)info,
                   rows, m, info > 0 ? " (the stacked system is rank deficient)" : "");
    goto done;
  }
  memcpy(alpha, B, m * sizeof *alpha);
done:
  free(U);
  free(M);
  free(B);
  return st;
}

kiln_status kiln_fps(size_t n, size_t d, const double *X, size_t m, size_t start, size_t *idx,
                     double *mind, kiln_error *err) {
  const char *what = "fps";
  if (m > n)
    return KILN_FAIL(err, KILN_EINVAL, "%s: cannot choose %zu rows out of %zu", what, m, n);
  if (m == 0) return KILN_OK;
  if (start >= n)
    return KILN_FAIL(err, KILN_ERANGE, "%s: start row %zu is out of range (have %zu rows)", what,
                     start + 1, n);
  if (!X || !idx) return KILN_FAIL(err, KILN_EINVAL, "%s: X and idx are required", what);
  double *dist = malloc(n * sizeof *dist);   /* squared distance to the chosen set */
  if (!dist) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu rows)", what, n);
  for (size_t i = 0; i < n; i++) dist[i] = (double)INFINITY;
  size_t cur = start;
  for (size_t k = 0; k < m; k++) {
    idx[k] = cur;
    if (mind) mind[k] = k == 0 ? (double)INFINITY : sqrt(dist[cur]);
    dist[cur] = -1;   /* chosen */
    if (k + 1 == m) break;
    const double *xc = X + cur * d;
    size_t best = n;
    double bd = -1;
    for (size_t i = 0; i < n; i++) {
      if (dist[i] < 0) continue;
      const double *xi = X + i * d;
      double s = 0;
      for (size_t c = 0; c < d; c++) {
        const double t = xi[c] - xc[c];
        s += t * t;
      }
      if (s < dist[i]) dist[i] = s;
      if (dist[i] > bd) {
        bd = dist[i];
        best = i;
      }
    }
    cur = best;
  }
  free(dist);
  return KILN_OK;
}
