/* kiln/potential.h: interatomic potentials, registered by style name.
 *
 * A style is a const record (src/pot/styles.def) with settings parsing (init),
 * a compute kernel and destroy. The framework (src/pot/registry.c) owns the
 * per-thread scratch, runs the kernel, reduces thread arrays, computes the
 * virial as sum over extended atoms of xe (x) fe (LAMMPS fdotr), folds ghost
 * forces and energies onto owners and stores forces in atoms->f.
 *
 * Sign conventions: virial W = sum_k xe_k (x) fe_k (eV), positive for a repulsive
 * system; it equals ASE's "virial" = -stress*V. stress = -W/V (eV/Å^3), ASE sign.
 */
#ifndef KILN_POTENTIAL_H
#define KILN_POTENTIAL_H
#include "atoms.h"
#include "neigh.h"
#include "opts.h"

/* capability flags */
#define KILN_POT_NEEDS_FULL_LIST 0x1u  /* else a half list is given */
#define KILN_POT_HAVE_VIRIAL     0x2u
#define KILN_POT_HAVE_PERATOM    0x4u
#define KILN_POT_MANYBODY        0x8u
#define KILN_POT_COMPOSITE      0x10u  /* e.g. sum: evaluates other potentials itself */

/* what to evaluate */
#define KILN_EVAL_ENERGY  0x1u
#define KILN_EVAL_FORCES  0x2u
#define KILN_EVAL_VIRIAL  0x4u
#define KILN_EVAL_PERATOM 0x8u
#define KILN_EVAL_ALL     0xfu

typedef struct kiln_pot kiln_pot;

/* Scratch handed to a style's compute. The kernel opens its own OpenMP
 * parallel region (it knows its loop structure) and, in thread t, accumulates
 * into f[t] ((n+ng) x 3) and e[t] ((n+ng) per-atom energies, only when
 * want & KILN_EVAL_PERATOM; always accumulate the total energy into energy[t]).
 * Arrays are zeroed by the framework before the call. nthreads = omp max threads
 * at the time of the call. */
typedef struct kiln_pot_work {
  int nthreads;
  unsigned want;            /* KILN_EVAL_* */
  double (**f)[3];          /* f[t]: n+ng rows */
  double **e;               /* e[t]: n+ng (NULL unless PERATOM) */
  double *energy;           /* energy[t] */
  const int32_t *tmap;      /* atoms type -> the style's element index (from map_species) */
  void *scratch;            /* style-owned scratch (allocated in init or lazily; reused) */
} kiln_pot_work;

typedef struct kiln_pot_style {
  const char *name;
  const char *description;
  const char *citation;
  const char *options;      /* one line per option: "cutoff=number (Å) ..." for help() */
  unsigned flags;
  /* Parse options, read files, set *state and *cutoff (Å, without skin). */
  kiln_status (*init)(void **state, double *cutoff, const kiln_opts *o, kiln_error *err);
  /* Map a species symbol to the style's element index (>= 0), or -1 if this
   * potential has no parameters for it (an error is then raised naming it).
   * NULL: every species maps to 0 (single-species styles such as plain lj). */
  int (*map_species)(const void *state, const char *symbol);
  kiln_status (*compute)(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                         kiln_pot_work *w, kiln_error *err);
  void (*destroy)(void *state);
  /* Optional for COMPOSITE styles: evaluate everything itself. */
  kiln_status (*compute_full)(void *state, kiln_atoms *a, unsigned want, double *energy,
                              double virial[3][3], double *eatom, kiln_error *err);
  /* Optional: make the next evaluation rebuild whatever neighbor lists the style keeps
   * itself (composite styles such as sum and coul/ewald); see kiln_pot_invalidate. */
  void (*invalidate)(void *state);
} kiln_pot_style;

typedef struct kiln_pot_result {
  double energy;            /* eV */
  double virial[3][3];      /* eV, W as above (symmetric) */
  double stress[3][3];      /* eV/Å^3 = -W/V (0 if no cell) */
  double *eatom;            /* per-atom energies (n), owned by the pot, valid until next call */
} kiln_pot_result;

/* registry */
const kiln_pot_style *kiln_pot_find(const char *name);
size_t kiln_pot_nstyles(void);
const kiln_pot_style *kiln_pot_style_at(size_t i);

kiln_status kiln_pot_new(kiln_pot **out, const char *style, const kiln_opts *o, kiln_error *err);
/* Style "sum" over existing potentials: E, forces, virial and per-atom energies are the
 * sums of the parts'. The sum BORROWS the parts (they must outlive it; freeing the sum
 * does not free them). With kiln_pot_new(.., "sum", o, ..) the parts are built from the
 * positional tables of o ({style="lj", ...}) and owned by the sum. */
kiln_status kiln_pot_new_sum(kiln_pot **out, kiln_pot *const *parts, size_t n, kiln_error *err);
void kiln_pot_free(kiln_pot *p);
const kiln_pot_style *kiln_pot_get_style(const kiln_pot *p);
double kiln_pot_cutoff(const kiln_pot *p);
void *kiln_pot_state(const kiln_pot *p);
/* Neighbor-list kind the style needs (KILN_NEIGH_HALF or FULL). */
int kiln_pot_neigh_kind(const kiln_pot *p);

/* Evaluate with a caller-owned neighbor list nl (made with kiln_pot_neigh_kind and
 * cutoff >= kiln_pot_cutoff; updated here). Forces go to a->f when FORCES wanted. */
kiln_status kiln_pot_compute(kiln_pot *p, kiln_atoms *a, kiln_neigh *nl, unsigned want,
                             kiln_pot_result *res, kiln_error *err);
/* Same, with an internal neighbor list kept in the pot (skin 1 Å), for one-off use. */
kiln_status kiln_pot_compute_once(kiln_pot *p, kiln_atoms *a, unsigned want,
                                  kiln_pot_result *res, kiln_error *err);
/* Make the next evaluation rebuild every neighbor list the potential keeps itself (the
 * list of kiln_pot_compute_once, and through style->invalidate the parts' lists of a sum or
 * the real-space list of coul/ewald). Used at checkpoints so that
 * a resumed run is bit-identical to the uninterrupted one. */
void kiln_pot_invalidate(kiln_pot *p);
/* OpenMP threads are used only when the system has at least natoms local atoms
 * (default KILN_POT_OMP_MIN): below that, parallel regions cost more than they save,
 * badly so on a loaded machine. Tests set 0 to exercise the threaded paths. Applies to
 * the parts of a sum too. */
#define KILN_POT_OMP_MIN 2000
void kiln_pot_set_omp_min(kiln_pot *p, size_t natoms);
#endif
