/* src/ext/linalg.c: kiln/linalg.h on LAPACKE (the only file that calls LAPACK). */
#include <lapacke.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/linalg.h"

kiln_status kiln_linalg_zheev(size_t n, const double *a, double *w, double *v, kiln_error *err) {
  if (n == 0 || !a || !w)
    return KILN_FAIL(err, KILN_EINVAL, "zheev: need n >= 1 (got %zu) and non-NULL a, w", n);
  if (n > (size_t)INT_MAX / 2)
    return KILN_FAIL(err, KILN_ERANGE, "zheev: matrix of order %zu is too large", n);
  double *work = v;
  if (!work && !(work = malloc(2 * n * n * sizeof *work)))
    return KILN_FAIL(err, KILN_ENOMEM, "zheev: out of memory (order %zu)", n);
  memcpy(work, a, 2 * n * n * sizeof *work);
  lapack_int info = LAPACKE_zheev(LAPACK_ROW_MAJOR, v ? 'V' : 'N', 'U', (lapack_int)n,
                                  (lapack_complex_double *)work, (lapack_int)n, w);
  if (work != v) free(work);
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
  double *work = v;
  if (!work && !(work = malloc(n * n * sizeof *work)))
    return KILN_FAIL(err, KILN_ENOMEM, "dsyev: out of memory (order %zu)", n);
  memcpy(work, a, n * n * sizeof *work);
  lapack_int info =
      LAPACKE_dsyev(LAPACK_ROW_MAJOR, v ? 'V' : 'N', 'U', (lapack_int)n, work, (lapack_int)n, w);
  if (work != v) free(work);
  if (info != 0)
    return KILN_FAIL(err, info > 0 ? KILN_ENOCONV : KILN_EEXTERNAL,
                     "dsyev: LAPACK returned info = %d for a matrix of order %zu%s", (int)info, n,
                     info > 0 ? " (no convergence; NaN or Inf in the matrix?)" : "");
  return KILN_OK;
}
