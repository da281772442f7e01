/* kiln/qpoints.h: lattice detection, high-symmetry points and q-points
 * commensurate with a supercell.
 *
 * Conventions: q vectors are Cartesian in rad/Å and include the 2π (q·r is a
 * phase). Cells have rows = lattice vectors (as kiln_atoms.cell). The
 * reciprocal vectors of a cell are b_j = 2π (cell^-1) columns, so a_i·b_j =
 * 2π δ_ij. A q is commensurate with the (super)cell when its indices
 * h_i = q·a_i / 2π are integers (q = h b_1 + k b_2 + l b_3).
 *
 * High-symmetry labels follow Setyawan & Curtarolo (Comput. Mater. Sci. 49,
 * 299 (2010)), with the Cartesian coordinates ASE gives for its standard cells
 * (fcc X = 2π/a (0,1,0)). "G" is Γ. */
#ifndef KILN_QPOINTS_H
#define KILN_QPOINTS_H
#include <stddef.h>
#include "atoms.h"
#include "error.h"

typedef enum {
  KILN_LAT_TRICLINIC = 0, /* not classified: no labels */
  KILN_LAT_SC,            /* cubic P */
  KILN_LAT_FCC,           /* cubic F */
  KILN_LAT_BCC,           /* cubic I */
  KILN_LAT_HEX,           /* hexagonal P */
  KILN_LAT_TET,           /* tetragonal P */
  KILN_LAT_BCT,           /* tetragonal I (detected; no labels but G) */
  KILN_LAT_ORC,           /* orthorhombic P */
  KILN_LAT_COUNT
} kiln_lattice_kind;

typedef struct kiln_lattice {
  kiln_lattice_kind kind;
  double a, b, c;        /* conventional lattice constants, Å (b = a, c = a for cubic) */
  double prim[3][3];     /* reduced primitive translations (rows, Å) */
  double conv[3][3];     /* conventional cell (rows, Å) in the structure's orientation;
                            the primitive cell when kind is TRICLINIC */
  double recip[3][3];    /* rows: conventional reciprocal vectors 2π conv^-T (rad/Å) */
  long ncells;           /* primitive cells in the structure (1 for an override) */
  long nbasis;           /* atoms per primitive cell (0 for an override) */
} kiln_lattice;

/* "sc", "fcc", "bcc", "hex", "tet", "bct", "orc", "triclinic". */
const char *kiln_lattice_name(kiln_lattice_kind kind);
/* Kind from a name (also "cubic", "hcp", "hexagonal", "tetragonal",
 * "orthorhombic", "diamond"/"rocksalt" = fcc, "perovskite" = sc). */
kiln_status kiln_lattice_kind_from_name(const char *name, kiln_lattice_kind *kind,
                                        kiln_error *err);

/* Find the pure translations mapping the structure onto itself (same species,
 * within tol Å; tol <= 0: 0.25 Å, then 0.5 Å if none was found), reduce them to a short primitive basis
 * and classify the Bravais lattice. The result is exact with respect to the
 * cell: the primitive vectors are rational combinations of the cell rows. A
 * structure without internal translations gives its own cell (ncells 1). */
kiln_status kiln_lattice_detect(const kiln_atoms *a, double tol, kiln_lattice *lat,
                                kiln_error *err);
/* A lattice from its kind and constants (Å; b, c <= 0 take a, c required for
 * hex/tet/bct, b and c for orc), in the standard orientation: cubic, tetragonal
 * and orthorhombic axes along x, y, z; hexagonal a1 = (a,0,0), a2 = (-a/2, a√3/2, 0),
 * c along z (as kiln_crystal_hcp). */
kiln_status kiln_lattice_make(kiln_lattice_kind kind, double a, double b, double c,
                              kiln_lattice *lat, kiln_error *err);

/* The labels of a lattice kind: *n names (static strings, "G" first). */
const char *const *kiln_lattice_labels(kiln_lattice_kind kind, int *n);
/* Cartesian coordinates (rad/Å) of a label ("G", "Gamma" and "Γ" are Γ).
 * Unknown labels fail with a message listing the valid ones. */
kiln_status kiln_lattice_point(const kiln_lattice *lat, const char *label, double q[3],
                               kiln_error *err);

/* Reciprocal vectors of a cell: rows b_j = 2π (cell^-1) columns (rad/Å). */
kiln_status kiln_cell_reciprocal(const double cell[3][3], double recip[3][3], kiln_error *err);
/* 1 if q is commensurate with cell (|h_i - round(h_i)| <= tol for h_i = q·a_i/2π),
 * else 0; hkl gets the rounded indices either way. */
int kiln_qpoint_commensurate(const double cell[3][3], const double q[3], double tol, long hkl[3]);

/* Commensurate points on the segment qa -> qb (both ends included when
 * commensurate), ordered from qa: *hkl is a malloc'd array of *n index
 * triples (free()), NULL when *n is 0. */
kiln_status kiln_qpoints_segment(const double cell[3][3], const double qa[3], const double qb[3],
                                 double tol, long (**hkl)[3], size_t *n, kiln_error *err);

/* Every commensurate q with qmin < |q| <= qmax (q = 0 included when qmin < 0):
 * *hkl malloc'd (*n triples), ordered by |q| then h, k, l. */
kiln_status kiln_qpoints_sphere(const double cell[3][3], double qmin, double qmax,
                                long (**hkl)[3], size_t *n, kiln_error *err);

/* Random selection: from the n points with norms qnorm[] (ascending or not),
 * bucketed into nshells shells of width qmax/nshells over (0, qmax]
 * (shell s holds (s w, (s+1) w]), keep up to per_shell of each at random
 * (seeded; all when per_shell <= 0). keep[i] gets the 0-based shell or -1. */
kiln_status kiln_qpoints_pick_shells(const double *qnorm, size_t n, double qmax, int nshells,
                                     long per_shell, unsigned long long seed, int *keep,
                                     kiln_error *err);

/* Spherical averages over |q| of values (nq x m, row-major) at points with norms qn.
 * Gaussian: out (nQ x m) row k = sum_i w_i values_i with w_i = exp(-½((qn_i-Q_k)/width)²),
 * divided by sum_i w_i unless sum_only (a row with zero total weight is NaN).
 * Binned: nbins equal bins over [qlo, qhi]; out row = mean of the values in the
 * bin (NaN if empty), count[k] the number of points (count may be NULL). */
kiln_status kiln_qpoints_spherical_gauss(const double *qn, const double *values, size_t nq,
                                         size_t m, const double *Q, size_t nQ, double width,
                                         int sum_only, double *out, kiln_error *err);
kiln_status kiln_qpoints_spherical_bins(const double *qn, const double *values, size_t nq,
                                        size_t m, double qlo, double qhi, size_t nbins,
                                        double *out, long *count, kiln_error *err);
#endif
