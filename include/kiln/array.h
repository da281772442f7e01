/* kiln/array.h: a dense row-major 2-D array of doubles (rows x cols).
 * A vector is rows x 1. Owns its data unless created as a view. */
#ifndef KILN_ARRAY_H
#define KILN_ARRAY_H
#include <stddef.h>
#include "error.h"

typedef struct kiln_array {
  double *data;   /* rows*cols values, row-major */
  size_t rows, cols;
  int owner;      /* 1: data is freed by kiln_array_free */
} kiln_array;

/* New zero-filled array. */
kiln_status kiln_array_new(kiln_array **out, size_t rows, size_t cols, kiln_error *err);
/* New array holding a copy of data (rows*cols values). */
kiln_status kiln_array_from(kiln_array **out, const double *data, size_t rows, size_t cols,
                            kiln_error *err);
/* Non-owning view over memory that must outlive the view. */
kiln_status kiln_array_view(kiln_array **out, double *data, size_t rows, size_t cols,
                            kiln_error *err);
kiln_status kiln_array_copy(kiln_array **out, const kiln_array *a, kiln_error *err);
void kiln_array_free(kiln_array *a);  /* NULL is a no-op */

static inline double *kiln_array_at(kiln_array *a, size_t i, size_t j) {
  return a->data + i * a->cols + j;
}
#endif
