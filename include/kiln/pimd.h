/* kiln/pimd.h: path-integral molecular dynamics (ring polymer with P beads).
 *
 * Convention: each bead is a full copy of the system with the physical masses; the
 * ring-polymer Hamiltonian H_P = sum_j [K_j + V(x_j)] + sum_j sum_i 1/2 m_i w_P^2
 * |x_i^(j+1) - x_i^j|^2 is sampled at T_P = P T, with w_P = P kB T / hbar.
 * Normal modes come from the orthogonal real transform C (P x P, Ceriotti et al.,
 * J. Chem. Phys. 133, 124104 (2010)); the free ring polymer is propagated exactly
 * (mode k rotates with w_k = 2 w_P sin(k pi / P)).
 *
 * One step (BAOAB; B = half kick of every bead with its own force, A = half step of the
 * exact free ring-polymer propagation, O = full-step thermostat on the normal modes):
 *   B(dt/2) A(dt/2) O(dt) A(dt/2) [forces on every bead] B(dt/2)
 * Thermostats: "pile_l" (Langevin on each mode, gamma_k = 2 lambda w_k, centroid
 * 1/tau), "pile_g" (the same, but the centroid by global CSVR with tau), "trpmd"
 * (pile_l with no centroid friction), "none". With P = 1 and pile_l the step is
 * the "langevin" md style (damping = tau), bit for bit, with the same seed.
 *
 * The atoms a given to kiln_pimd_run are the physical view: at the first run the
 * beads are made as copies of a (all beads at a's positions, velocities a's); after
 * each step a holds the centroid (positions, velocities, forces = bead means), which
 * is what observers see unless they asked for the beads. If a's positions or size
 * differ from the centroid the integrator last wrote, the beads are made afresh.
 * Units: dt fs, T K, tau fs. */
#ifndef KILN_PIMD_H
#define KILN_PIMD_H
#include "md.h"

typedef struct kiln_pimd kiln_pimd;

enum { KILN_PIMD_NONE, KILN_PIMD_PILE_L, KILN_PIMD_PILE_G, KILN_PIMD_TRPMD };

typedef struct kiln_pimd_thermo {
  kiln_thermo th;     /* step, time; T = kinetic temperature of the ring polymer / P;
                         epot = bead mean of V; ekin = ekin_cv; etot = epot + ekin_cv;
                         pressure = centroid-virial quantum pressure (GPa); volume;
                         conserved = (H_P + thermostat reservoir) / P (eV), plus
                         P0 V + barostat heat (+ deviatoric work) with a barostat;
                         lengths, angles; ptensor = (N kT I + (1/P) sum_j W_cv,j) / V (GPa),
                         tr/3 = pressure */
  double ekin_prim;   /* primitive kinetic-energy estimator (eV) */
  double ekin_cv;     /* centroid-virial kinetic-energy estimator (eV) */
  double espring;     /* ring-polymer spring energy (eV) */
  double ekin_beads;  /* sum over beads of their kinetic energies (eV) */
  double rg;          /* rms distance of the beads from their centroid (Å) */
  int beads;
} kiln_pimd_thermo;

/* Read-only parameters (kiln_pimd_params). */
typedef struct kiln_pimd_par {
  int P;
  double dt, T, tau, lambda;  /* fs, K, fs, - */
  int thermostat;             /* KILN_PIMD_* */
  uint64_t seed;
  int barostat;               /* 1 if P= or stress= was given (NpT / NST PIMD) */
  int mode;                   /* barostat mode: 0 iso, 1 aniso, 2 full */
  double P0;                  /* GPa: isotropic part of the target pressure */
  double tau_p, compressibility; /* fs, 1/GPa */
  long step;
  double time;                /* fs */
} kiln_pimd_par;

typedef struct kiln_pimd_run_opts {
  kiln_md_run_opts md;        /* observers, progress, checkpoint, skin, as for kiln_md_run */
  const int *obs_beads;       /* NULL or one flag per observer: 1 = call it once per bead
                                 (bead order 0..P-1) with that bead's atoms, which it must
                                 not change; kiln_pimd_current_bead tells which bead */
} kiln_pimd_run_opts;

/* Options: beads (P >= 1, required), dt (fs, required), T (K, required), thermostat
 * ("pile_l" default, "pile_g", "trpmd", "none"), tau (fs, centroid thermostat time,
 * default 100), lambda (default 1: internal-mode friction gamma_k = 2 lambda w_k),
 * seed (default 1).
 * Barostat (optional; the options and their meaning as for the "npt" md style):
 * P (GPa) or stress (3x3 GPa, tension positive), mode ("iso" default with P, "full"
 * default with stress, "aniso"), barostat ("scr", the only one), tau_p (fs, required with
 * a target), compressibility (1/GPa, default 0.01). Stochastic cell rescaling driven by
 * the centroid-virial pressure tensor
 *   P = (sum_i m_i vc_i (x) vc_i + (1/P) sum_j sum_i xc_i (x) f_ij [+ periodic part]) / V,
 * (vc, xc centroid velocity and position); a move mu scales the centroid positions and the
 * cell of every bead (x_ij' = mu xc_i + (x_ij - xc_i)), leaves the internal (non-centroid)
 * normal modes unchanged, and scales the centroid velocities by mu^-T. */
kiln_status kiln_pimd_new(kiln_pimd **out, const kiln_opts *o, kiln_error *err);
void kiln_pimd_free(kiln_pimd *pm);
const kiln_pimd_par *kiln_pimd_params(const kiln_pimd *pm);
kiln_status kiln_pimd_run(kiln_pimd *pm, kiln_atoms *a, kiln_pot *pot, long nsteps,
                          const kiln_pimd_run_opts *ro, kiln_error *err);
void kiln_pimd_get_thermo(const kiln_pimd *pm, kiln_pimd_thermo *th);
/* Bead j (0-based) after the last run, or NULL (no run yet, or j out of range). */
const kiln_atoms *kiln_pimd_bead(const kiln_pimd *pm, int j);
/* During a bead observer's call: the bead index (0-based); else -1. */
int kiln_pimd_current_bead(const kiln_pimd *pm);
/* Normal-mode matrix element C[j][k] and frequency w_k (rad/fs) (for tests). */
double kiln_pimd_cmat(const kiln_pimd *pm, int j, int k);
double kiln_pimd_omega(const kiln_pimd *pm, int k);
/* Everything needed to continue bit for bit (beads with forces and neighbor-list
 * references, step, time, RNG, thermostat). Written atomically. Read: the atoms must be
 * the same system (atom count); their contents become the centroid. */
kiln_status kiln_pimd_checkpoint_write(kiln_pimd *pm, const char *file, kiln_error *err);
kiln_status kiln_pimd_checkpoint_read(kiln_pimd *pm, kiln_atoms *a, const char *file,
                                      kiln_error *err);
#endif
