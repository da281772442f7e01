/* src/wave/frozen_internal.h: private helpers of src/wave/frozen.c. */
#ifndef KILN_FROZEN_INTERNAL_H
#define KILN_FROZEN_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

/* Standard-normal Gauss-Hermite rule with n points (1..8): nodes x, weights w (sum 1). */
void kiln_frozen_gauss_hermite(int n, double *x, double *w);

/* A configuration owned by the engine (positions wrapped into the box). */
typedef struct fz_slot {
  size_t n, cap;
  double (*xyz)[3];
  int32_t *el;
  double thickness;
} fz_slot;
#endif
