/* src/md/md_internal.h: private helpers shared by the integrator styles and
 * the run loop (not part of the public API). */
#ifndef KILN_MD_INTERNAL_H
#define KILN_MD_INTERNAL_H
#include "kiln/md.h"

/* the style records (src/md/styles.def) */
#define KILN_MD_STYLE(name, sym) extern const kiln_md_style sym;
#include "styles.def"
#undef KILN_MD_STYLE

/* The allocation behind a kiln_md: the public struct first, then what the run
 * loop needs to know whether the forces in the atoms are still valid (a
 * snapshot of what they were computed from). */
typedef struct kilni_md_impl {
  kiln_md pub;
  int fvalid;               /* a->f matches the snapshot below */
  int fany_pot;             /* forces restored from a checkpoint: trusted with any pot */
  const kiln_atoms *fa;     /* atoms and potential they were computed for */
  const kiln_pot *fpot;
  size_t fn, fcap;
  unsigned fgen;
  double fcell[3][3];
  int fpbc[3];
  double (*fx)[3];          /* fcap rows */
  int32_t *ftype;
  /* restored from a checkpoint: reference positions of the writer's neighbor list
   * (nxref x 3), used by the next kiln_md_run to rebuild md->nl as it was; else NULL */
  double (*xref)[3];
  size_t nxref;
  double xcell[3][3];       /* the reference cell of that list (valid with xref) */
} kilni_md_impl;

/* Record that a->f (and md->last) are the forces of a's current configuration
 * for pot (NULL with any_pot = 1 after restoring a checkpoint). */
void kilni_md_forces_mark(kiln_md *md, const kiln_atoms *a, const kiln_pot *pot, int any_pot);
/* Fill md->thermo from the atoms, md->last and the style's reservoir. */
void kilni_md_thermo_fill(kiln_md *md, const kiln_atoms *a);

/* For thermostats: require option T (parsed into md->T by the framework) and T > 0,
 * and the relaxation-time option `key` (fs, required, finite and > 0) into *time. */
kiln_status kilni_md_thermostat_opts(const kiln_md *md, const kiln_opts *o, const char *what,
                                     const char *key, double *time, kiln_error *err);
/* What a velocity-scaling thermostat acts on: *nf = kiln_atoms_dof(a), which must be
 * >= 1, and *mvv = kilni_md_mvv(a) (2 K, eV), which must be > 0; else KILN_EINVAL. */
kiln_status kilni_md_thermal(const kiln_md *md, const kiln_atoms *a, const char *what,
                             double *nf, double *mvv, kiln_error *err);

/* A velocity operation over a time h (fs), e.g. a thermostat's half step. */
typedef kiln_status (*kilni_md_vop)(kiln_md *md, kiln_atoms *a, double h, kiln_error *err);
/* Velocity Verlet wrapped in op (NULL: plain NVE), symmetric over the step:
 *   pre_force:  op(dt/2) B(dt/2) A(dt)      post_force: B(dt/2) op(dt/2) */
kiln_status kilni_md_verlet_pre(kiln_md *md, kiln_atoms *a, kilni_md_vop op, kiln_error *err);
kiln_status kilni_md_verlet_post(kiln_md *md, kiln_atoms *a, kilni_md_vop op, kiln_error *err);

/* v += h * f / m (h in fs; the unit factor 1/KILN_MVV2E is applied here). */
void kilni_md_kick(kiln_atoms *a, double h);
/* x += h * v (h in fs). */
void kilni_md_drift(kiln_atoms *a, double h);
/* sum_i m_i |v_i|^2 * KILN_MVV2E = 2 * kinetic energy (eV), summed serially
 * (a fixed order, so runs are reproducible bit for bit). */
double kilni_md_mvv(const kiln_atoms *a);
/* v *= s for every atom. */
void kilni_md_scale(kiln_atoms *a, double s);
#endif
