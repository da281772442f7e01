/* kiln/atoms.h: a configuration of atoms.
 * Units: positions Å, velocities Å/fs, forces eV/Å, masses amu, cell Å.
 * The cell is stored as rows = lattice vectors a, b, c (ASE convention):
 * cell[0] = a. Any triclinic cell; pbc per direction. Positions are Cartesian
 * and need not be wrapped.
 * Species: each atom has a type (0-based) indexing species[] (element symbol).
 * Masses are per atom, set from the periodic table when atoms are created from
 * symbols; they may be changed.
 * Extra named per-atom properties (props) and per-frame values (info) carry what
 * extended XYZ files hold (energy, forces from DFT, stress, dipole, ...). */
#ifndef KILN_ATOMS_H
#define KILN_ATOMS_H
#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define KILN_MAX_SPECIES 64
#define KILN_SYMBOL_LEN 8

typedef enum { KILN_VAL_REAL, KILN_VAL_INT, KILN_VAL_BOOL, KILN_VAL_STR } kiln_val_kind;

/* A per-atom property: n x ncols values. Numbers (REAL/INT/BOOL) in val,
 * strings in str (n*ncols malloc'd strings). */
typedef struct kiln_prop {
  char *name;
  kiln_val_kind kind;
  size_t ncols;
  double *val;
  char **str;
} kiln_prop;

/* A per-configuration value: count numbers (REAL/INT/BOOL) or one string. */
typedef struct kiln_info {
  char *name;
  kiln_val_kind kind;
  size_t count;
  double *val;
  char *str;
} kiln_info;

typedef struct kiln_atoms {
  size_t n, capacity;
  double (*x)[3];
  double (*v)[3];
  double (*f)[3];
  int32_t *type;       /* 0..nspecies-1 */
  double *mass;        /* amu */
  int64_t *id;         /* 1-based ids by default (LAMMPS style) */
  double cell[3][3];   /* rows are lattice vectors (Å) */
  int pbc[3];
  int nspecies;
  char species[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  kiln_prop *props; size_t nprops;
  kiln_info *info;  size_t ninfo;
  unsigned generation; /* bumped whenever x/v/f/type/... storage moves */
} kiln_atoms;

/* n atoms, all zeros, no species, no cell (cell zero, pbc all 0). */
kiln_status kiln_atoms_new(kiln_atoms **out, size_t n, kiln_error *err);
void kiln_atoms_free(kiln_atoms *a);
kiln_status kiln_atoms_copy(kiln_atoms **out, const kiln_atoms *a, kiln_error *err);
/* Change n (keeps the first min(n, old) atoms; new ones zeroed, type 0). */
kiln_status kiln_atoms_resize(kiln_atoms *a, size_t n, kiln_error *err);
/* Append one atom of element `symbol` at x (mass from the periodic table). */
kiln_status kiln_atoms_append(kiln_atoms *a, const char *symbol, const double x[3],
                              kiln_error *err);

/* Species: index of symbol, adding it if new (returns index >= 0 via *type). */
kiln_status kiln_atoms_species_index(kiln_atoms *a, const char *symbol, int32_t *type,
                                     kiln_error *err);
/* Set atom i to element symbol (type and mass from periodic table). */
kiln_status kiln_atoms_set_symbol(kiln_atoms *a, size_t i, const char *symbol, kiln_error *err);
const char *kiln_atoms_symbol(const kiln_atoms *a, size_t i);

kiln_status kiln_atoms_set_cell(kiln_atoms *a, const double cell[3][3], int scale_atoms,
                                kiln_error *err);
double kiln_atoms_volume(const kiln_atoms *a);        /* |det cell|, Å^3 */
/* Inverse of the cell matrix (rows = lattice vectors): frac = x * inv. */
kiln_status kiln_cell_inverse(const double cell[3][3], double inv[3][3], kiln_error *err);
void kiln_atoms_to_frac(const kiln_atoms *a, const double inv[3][3], const double x[3], double s[3]);
/* Wrap positions into the cell along periodic directions. */
kiln_status kiln_atoms_wrap(kiln_atoms *a, kiln_error *err);
/* Perpendicular heights of the cell (distance between opposite faces), Å. */
void kiln_cell_heights(const double cell[3][3], double h[3]);

/* Replicate na x nb x nc times (new object). */
kiln_status kiln_atoms_supercell(kiln_atoms **out, const kiln_atoms *a, int na, int nb, int nc,
                                 kiln_error *err);

double kiln_atoms_kinetic_energy(const kiln_atoms *a);   /* eV */
/* Degrees of freedom used for the temperature: 3n - 3 for n > 1 (interatomic forces
 * conserve the total momentum, periodic or not; as LAMMPS' compute temp), 3 for n = 1. */
double kiln_atoms_dof(const kiln_atoms *a);
double kiln_atoms_temperature(const kiln_atoms *a);      /* K */
void kiln_atoms_zero_momentum(kiln_atoms *a);

/* Properties and info. set_* copies the data and replaces an entry of the same name. */
kiln_status kiln_atoms_prop_set(kiln_atoms *a, const char *name, kiln_val_kind kind,
                                size_t ncols, const double *val, kiln_error *err);
kiln_status kiln_atoms_prop_set_str(kiln_atoms *a, const char *name, size_t ncols,
                                    const char *const *str, kiln_error *err);
kiln_prop *kiln_atoms_prop_get(const kiln_atoms *a, const char *name);
void kiln_atoms_prop_remove(kiln_atoms *a, const char *name);
kiln_status kiln_atoms_info_set(kiln_atoms *a, const char *name, kiln_val_kind kind,
                                size_t count, const double *val, kiln_error *err);
kiln_status kiln_atoms_info_set_str(kiln_atoms *a, const char *name, const char *str,
                                    kiln_error *err);
kiln_info *kiln_atoms_info_get(const kiln_atoms *a, const char *name);
void kiln_atoms_info_remove(kiln_atoms *a, const char *name);

/* Periodic table (Z = 1..118): atomic number of a symbol (0 if unknown), symbol of Z,
 * standard atomic mass (amu; IUPAC conventional values as ASE uses). */
int kiln_element_z(const char *symbol);
const char *kiln_element_symbol(int z);
double kiln_element_mass(int z);
#endif
