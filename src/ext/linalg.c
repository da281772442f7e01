/* src/ext/linalg.c: kiln/linalg.h on LAPACKE (the only file that calls LAPACK). */
#include <lapacke.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/linalg.h"

/* LAPACK is called column-major through the _work interface with workspaces we own,
 * each padded at the end: Debian's OpenBLAS 0.3.21 Haswell zgemv kernel (used by zhetrd)
 * was seen to read past the end of LAPACKE's own transposed copy and crash at random,
 * depending on where the heap placed it. */
#define PAD 64

kiln_status kiln_linalg_zheev(size_t n, const double *a, double *w, double *v, kiln_error *err) {
  if (n == 0 || !a || !w)
    return KILN_FAIL(err, KILN_EINVAL, "zheev: need n >= 1 (got %zu) and non-NULL a, w", n);
  if (n > (size_t)INT_MAX / 2)
    return KILN_FAIL(err, KILN_ERANGE, "zheev: matrix of order %zu is too large", n);
  const lapack_int N = (lapack_int)n;
  const char jobz = v ? 'V' : 'N';
  /* a row-major Hermitian A read column-major is A^T = conj(A): same eigenvalues,
   * conjugated eigenvectors (undone below); the row-major upper triangle (what callers
   * must fill) is the column-major lower one */
  double *m = malloc((2 * n * n + PAD) * sizeof *m);
  double *rwork = malloc(((n > 1 ? 3 * n - 2 : 1) + PAD) * sizeof *rwork);
  lapack_complex_double q;
  lapack_int info = -1;
  double *work = NULL;
  if (m && rwork) {
    memcpy(m, a, 2 * n * n * sizeof *m);
    info = LAPACKE_zheev_work(LAPACK_COL_MAJOR, jobz, 'L', N, (lapack_complex_double *)m, N, w,
                              &q, -1, rwork);
  }
  if (info == 0) {
    size_t lwork = (size_t)((double *)&q)[0];
    if (lwork < 2 * n) lwork = 2 * n;
    work = malloc((2 * lwork + PAD) * sizeof *work);
    info = work ? LAPACKE_zheev_work(LAPACK_COL_MAJOR, jobz, 'L', N, (lapack_complex_double *)m,
                                     N, w, (lapack_complex_double *)work, (lapack_int)lwork, rwork)
                : -1;
  }
  if (info == 0 && v)   /* column k of m holds conj(eigenvector k): v[i][k] = conj(m[k][i]) */
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < n; k++) {
        v[2 * (i * n + k)] = m[2 * (k * n + i)];
        v[2 * (i * n + k) + 1] = -m[2 * (k * n + i) + 1];
      }
  const int oom = info == -1 && (!m || !rwork || !work);
  free(m);
  free(rwork);
  free(work);
  if (oom)
    return KILN_FAIL(err, KILN_ENOMEM, "zheev: out of memory (order %zu)", n);
  if (info != 0)
    return KILN_FAIL(err, info > 0 ? KILN_ENOCONV : KILN_EEXTERNAL,
                     "zheev: LAPACK returned info = %d for a matrix of order %zu%s", (int)info, n,
                     info > 0 ? " (no convergence; NaN or Inf in the matrix?)" : "");
  return KILN_OK;
}

kiln_status kiln_linalg_dsyev(size_t n, const double *a, double *w, double *v, kiln_error *err) {
  if (n == 0 || !a || !w)
    return KILN_FAIL(err, KILN_EINVAL, "dsyev: need n >= 1 (got %zu) and non-NULL a, w", n);
  if (n > (size_t)INT_MAX)
    return KILN_FAIL(err, KILN_ERANGE, "dsyev: matrix of order %zu is too large", n);
  const lapack_int N = (lapack_int)n;
  const char jobz = v ? 'V' : 'N';
  /* symmetric: row-major A read column-major is A itself; its row-major upper triangle is
   * the column-major lower one */
  double *m = malloc((n * n + PAD) * sizeof *m);
  double q = 0;
  lapack_int info = -1;
  double *work = NULL;
  if (m) {
    memcpy(m, a, n * n * sizeof *m);
    info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, jobz, 'L', N, m, N, w, &q, -1);
  }
  if (info == 0) {
    size_t lwork = (size_t)q;
    if (lwork < 3 * n) lwork = 3 * n;
    work = malloc((lwork + PAD) * sizeof *work);
    info = work ? LAPACKE_dsyev_work(LAPACK_COL_MAJOR, jobz, 'L', N, m, N, w, work,
                                     (lapack_int)lwork)
                : -1;
  }
  if (info == 0 && v)   /* column k of m is eigenvector k: v[i][k] = m[k][i] */
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < n; k++) v[i * n + k] = m[k * n + i];
  const int oom = info == -1 && (!m || !work);
  free(m);
  free(work);
  if (oom)
    return KILN_FAIL(err, KILN_ENOMEM, "dsyev: out of memory (order %zu)", n);
  if (info != 0)
    return KILN_FAIL(err, info > 0 ? KILN_ENOCONV : KILN_EEXTERNAL,
                     "dsyev: LAPACK returned info = %d for a matrix of order %zu%s", (int)info, n,
                     info > 0 ? " (no convergence; NaN or Inf in the matrix?)" : "");
  return KILN_OK;
}
