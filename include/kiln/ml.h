/* kiln/ml.h: descriptors of atomic environments, and the regression kernels that
 * turn them into machine-learned potentials.
 *
 * A descriptor style (src/ml/styles.def) maps the environment of every atom i to a
 * row X_i of ncols numbers (SNAP bispectrum, SOAP power spectrum, the lambda=1
 * SOAP vector features, ...). Models are functions of these rows: linear
 * (E_i = w.X_i), quadratic, or kernels against sparse points. One mechanism serves
 * training and prediction:
 *   - kiln_desc_compute gives X (n x ncols) and, optionally, the sparse gradient
 *     dX_i/dr_k for every neighbor k of i (kiln_desc_grad);
 *   - kiln_desc_backprop turns dE/dX_i (n x ncols) into forces and virial without
 *     storing gradients (what a potential needs at MD speed).
 * The design-matrix helpers turn X and its gradient into the rows of a linear
 * least-squares problem for one structure: energy, forces, virial.
 *
 * Units: positions Å, descriptors as the style defines them (dimensionless for
 * SNAP and SOAP), energies eV. Virial rows use W = sum_k r_k (x) f_k (eV; ASE's
 * "virial" = -stress*V), in Voigt order xx yy zz yz xz xy.
 */
#ifndef KILN_ML_H
#define KILN_ML_H
#include <stddef.h>
#include <stdint.h>
#include "atoms.h"
#include "neigh.h"
#include "opts.h"

/* ------------------------------------------------------------------ gradients */
/* Sparse gradient of per-atom descriptor rows. For local centre i (0..n-1), entries
 * e in [offset[i], offset[i+1]) are the neighbors k of i inside the descriptor's
 * cutoff (extended indices of the neighbor list, so two periodic images of one atom
 * are two entries): j[e] = owner of k (a local index), rij[e] = xe[k] - xe[i], and
 *     d[(e*3 + c)*ncols + col] = d X_i[col] / d r_k[c].
 * The derivative with respect to the centre's own position is -(sum of its entries)
 * (translation invariance) and is not stored. Memory is owned by the struct and
 * grown by the style (kiln_desc_grad_reserve); zero-initialise before first use and
 * release with kiln_desc_grad_free. */
typedef struct kiln_desc_grad {
  size_t n, ncols;
  size_t *offset;           /* n+1 */
  int32_t *j;               /* owner of each entry's neighbor */
  double (*rij)[3];         /* Å */
  double *d;                /* entries x 3 x ncols */
  size_t cap_entries, cap_n;/* private capacities */
} kiln_desc_grad;

/* Make room for n centres and nentries entries of ncols columns (contents kept up to
 * the old sizes; n and ncols set). */
kiln_status kiln_desc_grad_reserve(kiln_desc_grad *g, size_t n, size_t ncols, size_t nentries,
                                   kiln_error *err);
void kiln_desc_grad_free(kiln_desc_grad *g);

/* ------------------------------------------------------------------ descriptor styles */
typedef struct kiln_desc_style {
  const char *name;
  const char *description;
  const char *citation;
  const char *options;      /* one "name=..." line per option (help(), unknown-option check) */
  /* Parse options; set *state, *cutoff (Å) and *ncols. */
  kiln_status (*init)(void **state, double *cutoff, size_t *ncols, const kiln_opts *o,
                      kiln_error *err);
  /* Species symbol -> the style's element index (>= 0), -1 if unknown. NULL: all 0. */
  int (*map_species)(const void *state, const char *symbol);
  /* X: n x ncols (may be NULL); g: gradients (may be NULL). nl is a FULL list with
   * cutoff >= the style's (entries beyond the cutoff must be skipped). tmap: atoms
   * type -> element index. May use OpenMP over centres. */
  kiln_status (*compute)(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                         const int32_t *tmap, double *X, kiln_desc_grad *g, kiln_error *err);
  /* Optional: forces f (n x 3, ADDED to) and virial W (3x3, ADDED to) of an energy
   * E = sum_i E_i(X_i) given dEdX (n x ncols). NULL: the framework uses compute's
   * gradient. Either may be NULL (virial not wanted). */
  kiln_status (*backprop)(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                          const int32_t *tmap, const double *dEdX, double (*f)[3],
                          double W[3][3], kiln_error *err);
  void (*destroy)(void *state);
} kiln_desc_style;

typedef struct kiln_desc kiln_desc;

const kiln_desc_style *kiln_desc_find(const char *name);
size_t kiln_desc_nstyles(void);
const kiln_desc_style *kiln_desc_style_at(size_t i);

kiln_status kiln_desc_new(kiln_desc **out, const char *style, const kiln_opts *o,
                          kiln_error *err);
void kiln_desc_free(kiln_desc *d);
const kiln_desc_style *kiln_desc_get_style(const kiln_desc *d);
void *kiln_desc_state(const kiln_desc *d);
size_t kiln_desc_ncols(const kiln_desc *d);
double kiln_desc_cutoff(const kiln_desc *d);
/* Element index of every atom type of a (out: a->ntypes entries); error naming a
 * species the descriptor has no parameters for. */
kiln_status kiln_desc_map(kiln_desc *d, const kiln_atoms *a, int32_t *out, kiln_error *err);
/* X (a->n x ncols, caller-owned, may be NULL) and optional gradient g. The descriptor
 * keeps its own full neighbor list (skin 1 Å). */
kiln_status kiln_desc_compute(kiln_desc *d, const kiln_atoms *a, double *X, kiln_desc_grad *g,
                              kiln_error *err);
/* Forces (a->n x 3, overwritten) and virial (3x3, overwritten; may be NULL) of
 * E = sum_i E_i with dE_i/dX_i = dEdX (a->n x ncols). */
kiln_status kiln_desc_backprop(kiln_desc *d, const kiln_atoms *a, const double *dEdX,
                               double (*f)[3], double W[3][3], kiln_error *err);

/* ------------------------------------------------------------------ design rows */
/* Rows of the linear problem E = sum_i w.X_i for one structure (src/ml/design.c):
 *   erow  (ncols):      sum_i X_i
 *   frows (3n x ncols): row 3*j+c = -sum_i dX_i/dr_j[c]   (force on atom j, c)
 *   vrows (6 x ncols):  W_ab = -sum_i sum_k rij_a dX_i/dr_k[b], Voigt xx yy zz yz xz xy
 * Any output may be NULL. X and g come from kiln_desc_compute on the same atoms. */
kiln_status kiln_design_linear(size_t n, size_t ncols, const double *X, const kiln_desc_grad *g,
                               double *erow, double *frows, double *vrows, kiln_error *err);
/* The same rows with one block of ncols columns per element (for models with one weight
 * vector per centre element, as multi-element SNAP): centre i contributes to columns
 * [el[i]*ncols, (el[i]+1)*ncols) of rows nel*ncols wide (el: element index 0..nel-1 of
 * each atom; NULL: all 0). nel = 1 is kiln_design_linear. */
kiln_status kiln_design_linear_el(size_t n, size_t ncols, const double *X,
                                  const kiln_desc_grad *g, const int32_t *el, int nel,
                                  double *erow, double *frows, double *vrows, kiln_error *err);
/* Polynomial kernel features against m sparse rows S (m x ncols):
 *   K[i][s] = (xhat_i . shat_s)^zeta if ex[i] == es[s] else 0, xhat = x/|x|
 * (ex: element index of each atom (n), es: of each sparse row (m); either NULL: all
 * the same element), with their gradient gK (same entries as g, m columns) when g and
 * gK are given. Feeding K and gK to kiln_design_linear gives the sparse-GP rows. */
kiln_status kiln_kernel_poly(size_t n, size_t ncols, const double *X, const int32_t *ex,
                             const kiln_desc_grad *g, size_t m, const double *S,
                             const int32_t *es, double zeta, double *K, kiln_desc_grad *gK,
                             kiln_error *err);

/* ------------------------------------------------------------------ regression */
/* Weighted ridge least squares: minimise sum_r w_r (A_r.x - b_r)^2 + lambda |x|^2 for
 * A (m x n, row-major), by SVD (LAPACKE dgelsd) of the scaled system. w may be NULL
 * (all 1). rank (may be NULL) gets the effective rank. */
kiln_status kiln_ridge(size_t m, size_t n, const double *A, const double *b, const double *w,
                       double lambda, double *x, size_t *rank, kiln_error *err);
/* Sparse GP (projected process / DTC) weights alpha (m) from observation rows
 * Knm (nobs x m), targets y (nobs), per-row noise sigma (nobs, > 0) and Kmm (m x m):
 *   alpha = (Kmm + Knm^T S^-2 Knm)^-1 Knm^T S^-2 y, solved stably by QR of
 *   [S^-1 Knm; U] with Kmm + jitter I = U^T U. */
kiln_status kiln_sgpr(size_t nobs, size_t m, const double *Knm, const double *y,
                      const double *sigma, const double *Kmm, double jitter, double *alpha,
                      kiln_error *err);
/* Farthest-point sampling of m rows of X (n x d) starting at row start (0-based);
 * idx (m) gets the chosen rows in order, mind (m, may be NULL) the distance of each
 * to the ones chosen before it (mind[0] = inf). Euclidean distance. */
kiln_status kiln_fps(size_t n, size_t d, const double *X, size_t m, size_t start, size_t *idx,
                     double *mind, kiln_error *err);
#endif
