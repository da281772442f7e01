/* src/corr/green_grid.h: separable 3-D discrete Fourier transform on a small
 * n1 x n2 x n3 grid of cells (used by the green and spatial correlators).
 * Private to src/corr. Grid index of cell (r1, r2, r3): (r1*n2 + r2)*n3 + r3.
 * Each cell holds ncomp complex values {re, im} (contiguous). */
#ifndef KILN_GREEN_GRID_H
#define KILN_GREEN_GRID_H
#include <stddef.h>
#include "kiln/error.h"

typedef struct kilni_grid_dft {
  int n[3];
  size_t nc, ncomp;
  double (*tw[3])[2];  /* n_i x n_i: exp(-2 pi i j k / n_i) */
  double (*tmp)[2];    /* max(n_i) x ncomp */
} kilni_grid_dft;

kiln_status kilni_grid_dft_init(kilni_grid_dft *g, const int n[3], size_t ncomp, const char *what,
                                kiln_error *err);
void kilni_grid_dft_free(kilni_grid_dft *g);
/* In place: F(m) = sum_r f(r) exp(sign * 2 pi i sum_d m_d r_d / n_d), unnormalised. */
void kilni_grid_dft_run(kilni_grid_dft *g, double (*data)[2], int sign);
/* Parse an option {n1, n2, n3} of positive integers. */
struct kiln_opts;
kiln_status kilni_grid_opt(const struct kiln_opts *o, const char *what, const char *key, int n[3],
                           kiln_error *err);
/* Parse an option {{x,y,z}, ...} into a new array of *n rows (malloc'd, caller frees);
 * missing key: *out = NULL, *n = 0 and KILN_OK unless required. */
kiln_status kilni_vec3_list_opt(const struct kiln_opts *o, const char *what, const char *key,
                                int required, double (**out)[3], size_t *n, kiln_error *err);
/* Minimum-image wrap of a displacement d (Cartesian) in the cell (rows) with inverse inv,
 * along periodic directions. */
void kilni_min_image(const double cell[3][3], const double inv[3][3], const int pbc[3],
                     double d[3]);
#endif
