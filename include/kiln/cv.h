/* kiln/cv.h: collective variables (CVs) with analytic gradients, the "external"
 * potential style (energy and forces from a callback) and the well-tempered
 * metadynamics bias grid.
 *
 * Gradients g are n x 3 arrays (dS/dr_i, units of S per Å), overwritten (zeroed first).
 * Distances use the minimum image for periodic directions.
 *
 * Cell CVs depend on the cell only: they have NO atomic gradient. Their derivative
 * with respect to the cell matrix (rows = lattice vectors) is returned in gcell;
 * a bias on them acts through the virial W_ab = -sum_c h_ca dE/dh_cb (only felt
 * with a barostat; in fixed-cell MD such a bias does nothing).
 *
 * Units: Å, radians, Å^3, e, e·Å. */
#ifndef KILN_CV_H
#define KILN_CV_H
#include <stddef.h>
#include <stdint.h>
#include "atoms.h"
#include "potential.h"

/* ---------------------------------------------------------------- basic CVs */
/* |r_j - r_i| (Å). i, j 0-based. g may be NULL. */
kiln_status kiln_cv_distance(const kiln_atoms *a, size_t i, size_t j, double *s,
                             double (*g)[3], kiln_error *err);
/* Angle i-j-k at j (radians, in [0, pi]). */
kiln_status kiln_cv_angle(const kiln_atoms *a, size_t i, size_t j, size_t k, double *s,
                          double (*g)[3], kiln_error *err);

/* Cell CVs: which = 0,1,2 lengths |a|,|b|,|c| (Å); 3,4,5 angles alpha (b,c), beta (a,c),
 * gamma (a,b) (radians); 6 volume (Å^3). gcell = dS/dcell (may be NULL). */
enum { KILN_CV_CELL_A, KILN_CV_CELL_B, KILN_CV_CELL_C, KILN_CV_CELL_ALPHA, KILN_CV_CELL_BETA,
       KILN_CV_CELL_GAMMA, KILN_CV_CELL_VOLUME };
kiln_status kiln_cv_cell(const kiln_atoms *a, int which, double *s, double gcell[3][3],
                         kiln_error *err);
/* Virial (eV, W = sum r (x) f convention) of an energy E(cell) with dE/dcell = dEdh. */
void kiln_cv_cell_virial(const double cell[3][3], const double dEdh[3][3], double W[3][3]);

/* ---------------------------------------------------------------- Steinhardt */
/* Bond weight w(r) = 1 (r <= rin), (1 + cos(pi (r - rin)/(rcut - rin)))/2, 0 (r >= rcut).
 * Per-atom q_l(i) = sqrt(4pi/(2l+1) sum_m |q_lm(i)|^2), q_lm(i) = sum_j w Y_lm / sum_j w;
 * global Q_l the same with q_lm summed over all bonds of all atoms before normalising
 * (sum_ij w Y_lm / sum_ij w). Q (may be NULL) global value, qatom (n, may be NULL)
 * per-atom values (0 for an atom without neighbours), g (may be NULL) dQ/dr.
 * 1 <= l <= 12. rin < rcut (rin may be 0). */
kiln_status kiln_cv_steinhardt(const kiln_atoms *a, int l, double rin, double rcut, double *Q,
                               double *qatom, double (*g)[3], kiln_error *err);

/* ---------------------------------------------------------------- ABX3 perovskites */
/* One unit cell per B site: its 6 nearest X and 8 nearest A (minimum image). */
typedef struct kiln_perov_map {
  size_t ncell;
  int64_t *b;          /* ncell B indices (0-based) */
  int64_t (*x)[6];     /* X neighbours */
  int64_t (*a)[8];     /* A neighbours */
} kiln_perov_map;
kiln_status kiln_cv_perov_map(const kiln_atoms *at, const char *A, const char *B, const char *X,
                              kiln_perov_map *m, kiln_error *err);
void kiln_cv_perov_map_free(kiln_perov_map *m);
/* B-site off-centering d_c = r_B - (1/6) sum_X r_X (Å), ncell x 3 (Gigli et al.). */
kiln_status kiln_cv_perov_offcenter(const kiln_atoms *at, const kiln_perov_map *m,
                                    double (*d)[3], kiln_error *err);
/* Cell dipoles p_c = sum_k w_k Z_k (r_k - r_B) (e·Å), w = 1 (B), 1/2 (X), 1/8 (A),
 * positions by minimum image from B. Charges: q (n nominal charges) or Z (n x 9 Born
 * tensors, row-major Z[a*3+b] = dM_a/dr_b); exactly one non-NULL. For a neutral cell
 * and the ideal cubic structure p_c = 0, and sum_c p_c = sum_i Z_i u_i (u: displacements). */
kiln_status kiln_cv_perov_dipole(const kiln_atoms *at, const kiln_perov_map *m, const double *q,
                                 const double *Z, double (*p)[3], kiln_error *err);
/* Gradient of the cell average of component comp (0..2) of the off-centering
 * (kind 0) or of the cell dipole (kind 1; q or Z as above): (1/ncell) sum_c d/dr of
 * d_c[comp] (or p_c[comp]). g: n x 3. */
kiln_status kiln_cv_perov_grad(const kiln_atoms *at, const kiln_perov_map *m, int kind, int comp,
                               const double *q, const double *Z, double (*g)[3],
                               kiln_error *err);

/* ---------------------------------------------------------------- external potential */
/* Potential style "external": energy, forces and virial from a callback. Create it with
 * kiln_pot_new(&p, "external", opts, err) and set the callback with kiln_pot_external_set
 * before the first evaluation. The callback receives zeroed forces f (n x 3) and virial;
 * it sets *energy, fills f when want & KILN_EVAL_FORCES, and either fills virial and sets
 * *virial_done = 1, or leaves it: the style then uses W = sum_i x_i (x) f_i (right for an
 * energy of the unwrapped Cartesian positions without periodic images). */
typedef kiln_status (*kiln_external_fn)(void *ud, kiln_atoms *a, unsigned want, double *energy,
                                        double (*f)[3], double virial[3][3], int *virial_done,
                                        kiln_error *err);
/* free_ud (may be NULL) is called on ud when the potential is freed or the callback
 * replaced. Fails if p is not of style external. */
kiln_status kiln_pot_external_set(kiln_pot *p, kiln_external_fn fn, void *ud,
                                  void (*free_ud)(void *), kiln_error *err);

/* ---------------------------------------------------------------- metadynamics grid */
/* Well-tempered metadynamics (Barducci, Bussi, Parrinello 2008) on 1 or 2 CVs. Hills
 * G(s) = w exp(-sum_k (s_k - c_k)^2 / (2 sigma_k^2)), deposited on a grid of values and
 * gradients (cut at 6 sigma); w = w0 exp(-V(c)/(kT (gamma - 1))) (gamma = biasfactor;
 * gamma <= 1 or infinite: plain metadynamics, w = w0). Evaluation: cubic Hermite in 1-D
 * (value and gradient consistent), bilinear in 2-D. Outside the grid the bias and its
 * gradient are 0. The FES estimate is F(s) = -gamma/(gamma-1) V(s) (-V for plain). */
typedef struct kiln_metad kiln_metad;
kiln_status kiln_metad_new(kiln_metad **out, int ncv, const double *min, const double *max,
                           const int *nbins, const double *sigma, double w0, double biasfactor,
                           double kT, kiln_error *err);
void kiln_metad_free(kiln_metad *m);
int kiln_metad_ncv(const kiln_metad *m);
/* V(s) (eV) and dV/ds (grad, may be NULL). */
double kiln_metad_bias(const kiln_metad *m, const double *s, double *grad);
/* Deposit a hill at s at time t (fs; recorded in the hills list); height from V(s). */
kiln_status kiln_metad_deposit(kiln_metad *m, const double *s, double t, kiln_error *err);
/* Add a hill of given height without well-tempering (replaying a hills file). */
kiln_status kiln_metad_add_hill(kiln_metad *m, const double *s, double height, double t,
                                kiln_error *err);
size_t kiln_metad_nhills(const kiln_metad *m);
/* Hill k: centre (ncv values), height, time. */
void kiln_metad_hill(const kiln_metad *m, size_t k, double *c, double *height, double *t);
/* Hills file (text, "# kiln metad hills 1" header, one hill per line: t c_1 [c_2] sigma_1
 * [sigma_2] height biasfactor), written atomically (temp file + rename). */
kiln_status kiln_metad_write(const kiln_metad *m, const char *file, kiln_error *err);
/* Replay the hills of a file (same ncv and sigma) onto m. */
kiln_status kiln_metad_read(kiln_metad *m, const char *file, kiln_error *err);
/* Grid size (points per CV) and the grid point coordinates. */
void kiln_metad_grid(const kiln_metad *m, int *npts, double *min, double *dx);
/* Values of V on the grid (row-major, s_1 slowest), npts total. */
const double *kiln_metad_values(const kiln_metad *m);
/* Tiwary–Parrinello c(t) = kT ln(int e^{gamma V/((gamma-1) kT)} / int e^{V/((gamma-1) kT)})
 * over the grid (eV); for plain metadynamics c = kT ln(int e^{V/kT}... ) is not defined: 0. */
double kiln_metad_ct(const kiln_metad *m);
#endif
