/* kiln/linalg.h: dense symmetric / Hermitian eigenproblems (LAPACK through src/ext/linalg.c,
 * the only file that calls LAPACKE). Matrices are row-major; complex values are stored
 * interleaved (re, im), i.e. 2*n*n doubles for an n x n complex matrix. */
#ifndef KILN_LINALG_H
#define KILN_LINALG_H
#include <stddef.h>
#include "error.h"

/* Eigenvalues w (n, ascending) and eigenvectors of the Hermitian n x n matrix a (only its
 * upper triangle is read; a is not modified). v (2*n*n doubles, may be NULL for values
 * only) receives the orthonormal eigenvectors as COLUMNS: component i of vector j is
 * (v[2*(i*n+j)], v[2*(i*n+j)+1]). LAPACK zheev. */
kiln_status kiln_linalg_zheev(size_t n, const double *a, double *w, double *v, kiln_error *err);
/* The same for a real symmetric matrix (n*n doubles; v n*n or NULL). LAPACK dsyev. */
kiln_status kiln_linalg_dsyev(size_t n, const double *a, double *w, double *v, kiln_error *err);
#endif
