/* src/cv/cv_internal.h: helpers shared by the CV kernels. */
#ifndef KILN_CV_INTERNAL_H
#define KILN_CV_INTERNAL_H
#include <math.h>
#include "kiln/cv.h"

/* Minimum-image convention by rounding fractional coordinates along periodic
 * directions (exact for orthogonal cells, the nearest image for mildly skewed ones).
 * inv: inverse cell (kiln_cell_inverse), ok = 0: no periodic direction has a cell. */
static inline void kilni_cv_mic(const kiln_atoms *a, const double inv[3][3], int ok, double d[3]) {
  if (!ok) return;
  double s[3];
  for (int k = 0; k < 3; k++) s[k] = d[0] * inv[0][k] + d[1] * inv[1][k] + d[2] * inv[2][k];
  for (int k = 0; k < 3; k++) {
    if (!a->pbc[k]) continue;
    double r = nearbyint(s[k]);
    if (r != 0.0)
      for (int c = 0; c < 3; c++) d[c] -= r * a->cell[k][c];
  }
}

/* inverse cell if any direction is periodic; returns ok flag */
static inline int kilni_cv_inv(const kiln_atoms *a, double inv[3][3]) {
  if (!(a->pbc[0] || a->pbc[1] || a->pbc[2])) return 0;
  kiln_error e;
  return kiln_cell_inverse(a->cell, inv, &e) == KILN_OK;
}
#endif
