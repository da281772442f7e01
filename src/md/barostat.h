/* src/md/barostat.h: stochastic cell rescaling (SCR; Bernetti & Bussi, J. Chem. Phys.
 * 153, 114107 (2020); anisotropic variant after Del Tatto, Raiteri, Bernetti & Bussi,
 * Appl. Sci. 12, 1139 (2022)), as a self-contained cell-update step shared by the
 * classical integrator "npt" (md_npt.c) and path-integral MD (src/pimd/).
 * Private to the library (not part of the public API).
 *
 * Conventions: positions are column vectors; a move is a deformation mu (3x3) with
 *   x' = mu x,   cell rows  a_k' = mu a_k  (cell' = cell mu^T),   momenta p' = mu^-T p.
 * Pressure tensors are in eV/Å^3, kinetic + virial:
 *   P = (sum_i m_i v_i (x) v_i * KILN_MVV2E + W) / V,  W the potential's virial
 *   (kiln_pot_result.virial, positive when repulsive), so tr(P)/3 is thermo.pressure.
 *
 * The volume moves as the isotropic SCR in lambda = sqrt(V), whose diffusion is
 * constant (D = kT beta / (4 tau)), with the force
 *   f = -2 lambda (P0 - P - kT/(2V)),   P, P0 the isotropic parts (tr/3),
 *   dlambda = (D/kT) f dt + sqrt(2 D dt) xi,   eps = 2 log(1 + dlambda/lambda),
 * an Euler-Maruyama step whose stationary distribution is exp(-(H + P0 V)/kT) over
 * positions, momenta and V. "aniso" (diagonal) and "full" (symmetric 3x3) moves add a
 * traceless strain e with mobility mu_e = beta/(V tau):
 *   e = mu_e F dt + sqrt(2 kT mu_e dt) N,   F = V dev(P - P0)
 * (N a standard normal on the traceless diagonal / traceless symmetric matrices, in the
 * Frobenius metric), and mu = exp(eps/3) expm(e) (det expm(e) = 1).
 *
 * Effective energy: the heat the move exchanges with the barostat's bath is the log
 * ratio of forward and backward transition probabilities (kT times it),
 *   q = 1/2 dX.(F + F') - (mobility dt / 4) (|F|^2 - |F'|^2)  for each variable X,
 * plus kT/2 log(V/V') for the isotropic one (the lambda Jacobian), with F' evaluated
 * after the move (at the new positions, with the new forces). Adding the sum of q to
 * K + U + P0 V gives a quantity that is constant up to the time-step error. */
#ifndef KILN_MD_BAROSTAT_H
#define KILN_MD_BAROSTAT_H
#include "kiln/atoms.h"
#include "kiln/opts.h"
#include "kiln/error.h"
#include "kiln/rng.h"

enum { KILNI_SCR_ISO = 0, KILNI_SCR_ANISO = 1, KILNI_SCR_FULL = 2 };

/* settings (POD) */
typedef struct kilni_scr {
  int mode;            /* KILNI_SCR_ISO, _ANISO (diagonal cell changes), _FULL (symmetric) */
  double P0[3][3];     /* target pressure tensor, eV/Å^3 (= -target stress, ASE sign) */
  double beta;         /* compressibility estimate, Å^3/eV */
  double tau;          /* relaxation time, fs */
  double kT;           /* eV */
} kilni_scr;

/* The options kiln.md.npt and kiln.md.pimd share: barostat= ("scr"), P= (GPa) or stress=
 * (3x3 GPa, tension positive), mode= ("iso" default with P, "full" with stress; "aniso"),
 * tau_p= (fs, required), compressibility= (1/GPa, default 0.01). Fills b's mode, P0, beta
 * and tau (kT is the caller's) and *p0 (mean target pressure, eV/Å^3). Errors name `what`. */
kiln_status kilni_scr_opts(kilni_scr *b, const kiln_opts *o, const char *what, double *p0,
                           kiln_error *err);

/* one move (POD): what kilni_scr_propose draws and kilni_scr_heat needs afterwards */
typedef struct kilni_scr_move {
  double mu[3][3];     /* the deformation x' = mu x */
  double dt;           /* fs */
  double dlam, f0;     /* isotropic variable change and force before the move */
  double e[3][3];      /* traceless strain drawn (0 for iso) */
  double F0[3][3];     /* its force before the move, eV */
  double mob;          /* mobility of the strain, 1/(eV fs) */
  double q0;           /* heat terms known before the move, eV */
  double V0;           /* volume before the move, Å^3 */
} kilni_scr_move;

/* Draw a move over dt (fs) from the pressure tensor P (eV/Å^3, symmetric, kinetic +
 * virial) and volume V (Å^3). KILN_EINVAL if the volume would change by more than 10%
 * (tau too short or compressibility too large for this dt) or V is not positive. */
kiln_status kilni_scr_propose(const kilni_scr *b, const double P[3][3], double V, double dt,
                              kiln_rng *rng, kilni_scr_move *mv, kiln_error *err);
/* Heat (eV) of the move, given the pressure tensor and volume after it; add it to the
 * barostat's reservoir so that K + U + P0 V + reservoir is conserved. */
double kilni_scr_heat(const kilni_scr *b, const kilni_scr_move *mv, const double P[3][3],
                      double V);

/* Apply mu to the atoms together with a drift over dt (the time-reversible combination
 * of the paper's Trotter scheme): x' = mu x + (mu + mu^-T)/2 v dt, v' = mu^-T v,
 * cell' = cell mu^T. dt = 0: only the deformation. */
void kilni_scr_apply(const double mu[3][3], kiln_atoms *a, double dt);

/* Pressure tensor (eV/Å^3) from the velocities and a virial W (eV); V = volume. */
void kilni_pressure_tensor(const kiln_atoms *a, const double W[3][3], double V,
                           double P[3][3]);
#endif
