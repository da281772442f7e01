/* src/core/array.c: dense row-major 2-D arrays of doubles. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/array.h"

static kiln_status alloc(kiln_array **out, size_t rows, size_t cols, int zero, kiln_error *err) {
  *out = NULL;
  if (cols && rows > SIZE_MAX / sizeof(double) / cols)
    return KILN_FAIL(err, KILN_ERANGE, "array of %zu x %zu is too large", rows, cols);
  kiln_array *a = calloc(1, sizeof *a);
  if (!a) return KILN_FAIL(err, KILN_ENOMEM, "out of memory allocating an array");
  size_t n = rows * cols;
  a->data = zero ? calloc(n ? n : 1, sizeof(double)) : malloc((n ? n : 1) * sizeof(double));
  if (!a->data) {
    free(a);
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory allocating a %zu x %zu array", rows, cols);
  }
  a->rows = rows;
  a->cols = cols;
  a->owner = 1;
  *out = a;
  return KILN_OK;
}

kiln_status kiln_array_new(kiln_array **out, size_t rows, size_t cols, kiln_error *err) {
  return alloc(out, rows, cols, 1, err);
}

kiln_status kiln_array_from(kiln_array **out, const double *data, size_t rows, size_t cols,
                            kiln_error *err) {
  if (!data && rows && cols) {
    *out = NULL;
    return KILN_FAIL(err, KILN_EINVAL, "array data is NULL for a %zu x %zu array", rows, cols);
  }
  kiln_status st = alloc(out, rows, cols, 0, err);
  if (st) return st;
  if (rows && cols) memcpy((*out)->data, data, rows * cols * sizeof(double));
  return KILN_OK;
}

kiln_status kiln_array_view(kiln_array **out, double *data, size_t rows, size_t cols,
                            kiln_error *err) {
  *out = NULL;
  if (!data && rows && cols)
    return KILN_FAIL(err, KILN_EINVAL, "array view data is NULL for a %zu x %zu array", rows, cols);
  kiln_array *a = calloc(1, sizeof *a);
  if (!a) return KILN_FAIL(err, KILN_ENOMEM, "out of memory allocating an array view");
  a->data = data;
  a->rows = rows;
  a->cols = cols;
  a->owner = 0;
  *out = a;
  return KILN_OK;
}

kiln_status kiln_array_copy(kiln_array **out, const kiln_array *a, kiln_error *err) {
  if (!a) {
    *out = NULL;
    return KILN_FAIL(err, KILN_EINVAL, "cannot copy a NULL array");
  }
  return kiln_array_from(out, a->data, a->rows, a->cols, err);
}

void kiln_array_free(kiln_array *a) {
  if (!a) return;
  if (a->owner) free(a->data);
  free(a);
}
