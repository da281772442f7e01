/* kiln/md.h: molecular dynamics integrators, registered by style name
 * (src/md/styles.def): "verlet" (NVE velocity Verlet), "langevin" (BAOAB),
 * "csvr" (Bussi stochastic velocity rescaling), "nosehoover" (Nosé–Hoover chain).
 *
 * The step loop runs in C. Each step: style->pre_force (kicks/drifts/thermostat
 * parts before the force call) -> neighbor update + potential -> style->post_force.
 * Then observers whose `every` divides the step are called, then checkpointing.
 * Units: dt fs, T K, damping/tau fs. */
#ifndef KILN_MD_H
#define KILN_MD_H
#include <stdio.h>
#include "atoms.h"
#include "potential.h"
#include "rng.h"

typedef struct kiln_md kiln_md;

typedef struct kiln_thermo {
  long step;
  double time;      /* fs */
  double T;         /* K */
  double epot, ekin, etot;  /* eV */
  double pressure;  /* GPa (kinetic + virial) */
  double volume;    /* Å^3 (0 without a cell) */
  double conserved; /* eV: etot plus thermostat energy exchange (constant for a correct run) */
  double lengths[3];   /* Å: |a|, |b|, |c| of the cell (0 without a cell) */
  double angles[3];    /* degrees: alpha (b,c), beta (a,c), gamma (a,b) */
  double ptensor[3][3];/* GPa: pressure tensor (kinetic + virial), tr/3 = pressure */
} kiln_thermo;

/* Observer: called after the step when step % every == 0. A non-OK return stops
 * the run with that status (err filled by the observer). */
typedef kiln_status (*kiln_observer_fn)(void *ud, long step, kiln_atoms *a,
                                        const kiln_thermo *th, kiln_error *err);
typedef struct kiln_observer {
  kiln_observer_fn fn;
  void *ud;
  long every;       /* >= 1 */
  int at_start;     /* also call once with the starting state, before the first step
                       (as LAMMPS prints its step-0 thermo row); such a call must not
                       change the atoms */
} kiln_observer;

typedef struct kiln_md_run_opts {
  const kiln_observer *obs; size_t nobs;
  kiln_progress_fn progress; void *progress_ud;  /* polled every step; non-zero -> KILN_EINTR */
  const char *checkpoint;   /* file or NULL */
  long checkpoint_every;    /* steps (0: only at the end of the run) */
  int resume;               /* if checkpoint exists: restore it and finish the run it belongs to */
  double skin;              /* neighbor skin, Å (<= 0: default 1.0) */
} kiln_md_run_opts;

typedef struct kiln_md_style {
  const char *name, *description, *citation, *options;
  /* parse style options (dt is parsed by the framework), allocate state */
  kiln_status (*init)(kiln_md *md, const kiln_opts *o, kiln_error *err);
  kiln_status (*pre_force)(kiln_md *md, kiln_atoms *a, kiln_error *err);
  kiln_status (*post_force)(kiln_md *md, kiln_atoms *a, kiln_error *err);
  /* energy the thermostat has removed from the system so far (eV), for `conserved` */
  double (*reservoir)(const kiln_md *md);
  void (*destroy)(kiln_md *md);
  size_t state_size;        /* bytes of POD state saved in checkpoints (md->state) */
  /* optional: adjust the thermo after the framework filled it (e.g. a barostat adds
   * P0 V to `conserved`); NULL for most styles */
  void (*thermo)(const kiln_md *md, const kiln_atoms *a, kiln_thermo *th);
} kiln_md_style;

/* Shared integrator data; styles keep their own POD state in `state`. */
struct kiln_md {
  const kiln_md_style *style;
  double dt;                /* fs */
  double T;                 /* target K (thermostats) */
  kiln_rng rng;
  uint64_t seed;
  long step;                /* steps done so far (across runs) */
  double time;              /* fs */
  void *state;              /* style_size bytes, POD */
  kiln_neigh *nl;           /* owned; (re)made for the potential on each run */
  kiln_pot_result last;     /* last potential evaluation */
  kiln_thermo thermo;       /* after the last step */
  long run_start, run_target;  /* for resume */
};

const kiln_md_style *kiln_md_find(const char *name);
size_t kiln_md_nstyles(void);
const kiln_md_style *kiln_md_style_at(size_t i);

kiln_status kiln_md_new(kiln_md **out, const char *style, const kiln_opts *o, kiln_error *err);
void kiln_md_free(kiln_md *md);
/* Run nsteps steps (see kiln_md_run_opts). Forces are evaluated at the start if
 * needed. On KILN_EINTR the state is consistent at the last finished step. */
kiln_status kiln_md_run(kiln_md *md, kiln_atoms *a, kiln_pot *pot, long nsteps,
                        const kiln_md_run_opts *ro, kiln_error *err);
/* Fill th from the atoms and last evaluation (after a run, or after compute). */
void kiln_md_get_thermo(const kiln_md *md, kiln_thermo *th);
/* Checkpoints: everything needed to continue bit for bit (atoms incl. forces,
 * step, time, RNG, style state). Written atomically (temp file + rename). */
kiln_status kiln_md_checkpoint_write(kiln_md *md, const kiln_atoms *a, const char *file,
                                     kiln_error *err);
/* Restores into md (must be the same style) and replaces a's contents. */
kiln_status kiln_md_checkpoint_read(kiln_md *md, kiln_atoms *a, const char *file,
                                    kiln_error *err);
/* Format a thermo header / row for printing (the core never prints itself). */
void kiln_thermo_header(char *buf, size_t len);
void kiln_thermo_row(const kiln_thermo *th, char *buf, size_t len);
#endif
