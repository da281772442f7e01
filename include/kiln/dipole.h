/* kiln/dipole.h: a symmetry-adapted (lambda = 1) kernel model of per-atom dipoles
 * (SA-GPR, Grisafi et al., PRL 120, 036002 (2018)), whose sum is the dipole of the
 * cell; its position derivatives are the Born effective charges.
 *
 * Features. A vector descriptor gives every atom i a row of ncols = 3*nv numbers,
 * column c*nv + q = component c (x, y, z) of vector feature q: V_i is the 3 x nv
 * matrix V_i[c][q], rotating as R V_i ("soap_vector", or any style with that
 * layout). An optional scalar descriptor (rotation invariant, "soap") gives x_i,
 * normalised to xhat_i = x_i/|x_i|.
 *
 * Model. m sparse environments s (element el_s, V_s, shat_s) with weights a_s (3):
 *     K(i,s) = k_is V_i V_s^T            (3 x 3)
 *     k_is   = (xhat_i . shat_s)^(zeta-1)   (1 without a scalar descriptor or zeta = 1)
 *     mu_i   = sum_{s: el_s = el_i} K(i,s) a_s        (e·Å)
 *     M      = sum_i mu_i
 * Rotating the atoms rotates V_i and leaves k_is unchanged, so mu_i -> R mu_i
 * exactly. Born charges Z*_j[a][b] = dM_a/dr_j[b] (e) come from the descriptor
 * gradients (kiln_desc_grad). M is linear in the a_s, so for one structure the
 * model is rows (3 x 3m) . a; kiln_dipole_kmm gives the sparse-sparse kernel
 * (3m x 3m) used as the prior of the sparse GP fit.
 *
 * Units: positions Å, dipoles e·Å, Born charges e; descriptors as their style. */
#ifndef KILN_DIPOLE_H
#define KILN_DIPOLE_H
#include <stddef.h>
#include <stdint.h>
#include "atoms.h"
#include "ml.h"

/* ------------------------------------------------------------------ model kernel */
/* Zero-initialise; fill with kiln_dipole_model_set; release with kiln_dipole_model_free. */
typedef struct kiln_dipole_model {
  size_t nv;      /* vector features per component (vector rows have 3*nv columns) */
  size_t ns;      /* scalar columns (0: no scalar factor) */
  int zeta;       /* scalar kernel exponent (>= 1); k = (xhat.shat)^(zeta-1) */
  size_t m;       /* sparse environments */
  int32_t *el;    /* m element indices */
  double *V;      /* m x 3nv sparse vector rows */
  double *S;      /* m x ns sparse scalar rows, normalised to length 1 (NULL if ns = 0) */
  double *a;      /* m x 3 weights */
  double *b;      /* m x nv: b_s = V_s^T a_s (kept in step with a) */
} kiln_dipole_model;

/* Copy the sparse environments (S raw rows, normalised here; NULL when ns = 0) and the
 * weights a (m x 3; NULL: zeros). Replaces the previous contents. */
kiln_status kiln_dipole_model_set(kiln_dipole_model *mdl, size_t nv, size_t ns, int zeta,
                                  size_t m, const int32_t *el, const double *V, const double *S,
                                  const double *a, kiln_error *err);
kiln_status kiln_dipole_model_set_weights(kiln_dipole_model *mdl, const double *a,
                                          kiln_error *err);
void kiln_dipole_model_free(kiln_dipole_model *mdl);

/* Per-atom dipoles mu (n x 3, may be NULL), the total M (3, may be NULL) and the Born
 * charges Z (n x 9, may be NULL; row j = dM_a/dr_j[b] at a*3+b) for n atoms with
 * element indices el, vector rows XV (n x 3nv) and, when the model has a scalar part,
 * scalar rows XS (n x ns). Z needs the gradients gV (of XV) and, with a scalar part
 * and zeta > 1, gS (of XS). OpenMP over atoms. */
kiln_status kiln_dipole_eval(const kiln_dipole_model *mdl, size_t n, const int32_t *el,
                             const double *XV, const kiln_desc_grad *gV, const double *XS,
                             const kiln_desc_grad *gS, double (*mu)[3], double M[3],
                             double (*Z)[9], kiln_error *err);
/* Training rows of one structure: rows (3 x 3m, row a = M_a, column 3s+b = weight
 * a_s[b]) with M = rows . a. */
kiln_status kiln_dipole_rows(const kiln_dipole_model *mdl, size_t n, const int32_t *el,
                             const double *XV, const double *XS, double *rows, kiln_error *err);
/* Sparse-sparse kernel K (3m x 3m): block (s,t) = K(s,t) (zero between elements). */
kiln_status kiln_dipole_kmm(const kiln_dipole_model *mdl, double *K, kiln_error *err);
/* Regularised least squares: x (n) minimising |A x - y|^2 + reg x^T (R + jitter r I) x
 * for A (nrows x n, row-major), R (n x n symmetric positive semi-definite; NULL: the
 * identity, jitter unused), r = mean diagonal of R. Solved through the eigenvectors of
 * A^T A + reg (R + jitter r I) (eigenvalues below 1e-13 of the largest dropped).
 * reg = sigma^2 with R = Kmm is the sparse GP (projected process) weight vector;
 * R = NULL, reg = lambda is ridge regression. */
kiln_status kiln_dipole_solve(size_t nrows, size_t n, const double *A, const double *y,
                              const double *R, double reg, double jitter, double *x,
                              kiln_error *err);

/* ------------------------------------------------------------------ with descriptors */
typedef struct kiln_dipole kiln_dipole;
/* A model over descriptors made from styles and options (sstyle NULL: no scalar
 * part). Both must map a species to the same element index. The weights start empty
 * (m = 0): set them through kiln_dipole_get_model + kiln_dipole_model_set. */
kiln_status kiln_dipole_new(kiln_dipole **out, const char *vstyle, const kiln_opts *vopts,
                            const char *sstyle, const kiln_opts *sopts, int zeta,
                            kiln_error *err);
void kiln_dipole_free(kiln_dipole *d);
kiln_dipole_model *kiln_dipole_get_model(kiln_dipole *d);
kiln_desc *kiln_dipole_vector_desc(kiln_dipole *d);
kiln_desc *kiln_dipole_scalar_desc(kiln_dipole *d);   /* NULL without a scalar part */
int kiln_dipole_zeta(const kiln_dipole *d);
/* Sparse environments (m; el, V m x 3nv, S m x ns raw scalar rows or NULL without a
 * scalar part) and weights a (m x 3, NULL: zeros), with the descriptors' sizes and zeta. */
kiln_status kiln_dipole_set_sparse(kiln_dipole *d, size_t m, const int32_t *el, const double *V,
                                   const double *S, const double *a, kiln_error *err);
/* Element index per atom (n), vector rows XV (n x 3nv) and scalar rows XS (n x ns;
 * ignored without a scalar part). Any output may be NULL. */
kiln_status kiln_dipole_features(kiln_dipole *d, const kiln_atoms *a, int32_t *el, double *XV,
                                 double *XS, kiln_error *err);
/* mu (n x 3), M (3), Z (n x 9) of the atoms; any may be NULL. */
kiln_status kiln_dipole_compute(kiln_dipole *d, const kiln_atoms *a, double (*mu)[3],
                                double M[3], double (*Z)[9], kiln_error *err);
/* Training rows (3 x 3m) of the atoms. */
kiln_status kiln_dipole_design(kiln_dipole *d, const kiln_atoms *a, double *rows,
                               kiln_error *err);
#endif
