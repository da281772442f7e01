/* kiln/phonons.h: harmonic phonons of a crystal from any kiln potential, by finite
 * displacements (the method of phonopy), with phonopy's dynamical-matrix conventions so that
 * the same force constants give the same frequencies.
 *
 * Units: q in Cartesian rad/Å (2π included: q·a_i = 2π f_i for reduced coordinates f);
 * frequencies in THz (ordinary frequency ν = ω/2π; an imaginary mode, ω² < 0, is reported
 * as -sqrt|ω²|, as phonopy does); force constants eV/Å²; masses amu; T in K; displacements Å,
 * velocities Å/fs.
 *
 * Structure: the unit cell (nb atoms, any cell; it plays phonopy's "primitive" cell) is
 * repeated n1 x n2 x n3 times with kiln_atoms_supercell (N = nb n1 n2 n3 atoms, kiln order:
 * supercell atom j = ((l1 n2 + l2) n3 + l3) nb + κ for the copy of basis atom κ shifted by
 * l1 a1 + l2 a2 + l3 a3). Every basis atom κ (supercell atom κ, l = 0) is displaced by ±δ
 * (and ±2δ with stencil 4) along x, y and z, and
 *   Φ_αβ(κ; j) = -∂F_jβ/∂u_κα  (central differences)
 * is stored for all j ("compact" force constants, nb x N blocks of 3x3).
 *
 * Dynamical matrix (phonopy convention, phase with the full atomic positions):
 *   D_κα,κ'β(q) = Σ_{j of basis κ'} Φ_αβ(κ; j) / sqrt(m_κ m_κ') (1/M_j) Σ_{images} exp(i q·r)
 * where r runs over the M_j shortest vectors x_j + T - x_κ (T supercell translations) whose
 * lengths equal the minimum within 1e-5 Å (pairs on the supercell boundary share their weight
 * among the equivalent images); D is then made exactly Hermitian, (D + D†)/2.
 * Eigenvectors e (unit norm, 3nb components, index 3κ+α) belong to this D, so the
 * displacement pattern of a mode is u(lκ) ∝ e_κ(q) exp(i q·r_lκ) / sqrt(m_κ). */
#ifndef KILN_PHONONS_H
#define KILN_PHONONS_H
#include <stddef.h>
#include <stdint.h>
#include "atoms.h"
#include "potential.h"

/* ν[THz] = KILN_PHONON_THZ * sqrt(λ) for an eigenvalue λ of D in eV/(Å² amu):
 * 1e3 / (2π sqrt(KILN_MVV2E)) = 15.6333042... (phonopy 2.17 uses 15.6333023 from older
 * CODATA values; see doc/phonons.md). */
#define KILN_PHONON_THZ 15.633304237201818

typedef struct kiln_phonons kiln_phonons;

typedef struct kiln_phonons_settings {
  int supercell[3];  /* repeats of the unit cell, each >= 1 */
  double delta;      /* displacement (Å); <= 0 gives the default 0.01 */
  int stencil;       /* 2: ±δ (error O(δ²), default when 0); 4: ±δ, ±2δ (error O(δ⁴)) */
  int asr;           /* 1: impose the acoustic sum rule Σ_j Φ(κ; j) = 0 by correcting the
                        self term Φ(κ; κ) (as phonopy's simplest correction) */
} kiln_phonons_settings;

/* Force constants of `unit` (periodic in all three directions) with potential pot:
 * 3 nb stencil force evaluations of the supercell. progress (may be NULL) is called after
 * each evaluation; non-zero stops with KILN_EINTR. */
kiln_status kiln_phonons_new(kiln_phonons **out, const kiln_atoms *unit, kiln_pot *pot,
                             const kiln_phonons_settings *s, kiln_progress_fn progress,
                             void *ud, kiln_error *err);
/* From given compact force constants fc (nb x N x 3 x 3, kiln supercell order as above,
 * row κ = the displaced basis atom), e.g. read from a file. s->delta, stencil are ignored;
 * s->asr is applied. */
kiln_status kiln_phonons_new_fc(kiln_phonons **out, const kiln_atoms *unit,
                                const kiln_phonons_settings *s, const double *fc,
                                kiln_error *err);
/* Read phonopy's FORCE_CONSTANTS file (full "N N" or compact "nb N" layout, phonopy's
 * supercell order) for unit repeated s->supercell. */
kiln_status kiln_phonons_read_fc(kiln_phonons **out, const kiln_atoms *unit,
                                 const kiln_phonons_settings *s, const char *file,
                                 kiln_error *err);
void kiln_phonons_free(kiln_phonons *ph);

size_t kiln_phonons_nbasis(const kiln_phonons *ph);           /* nb */
size_t kiln_phonons_nsuper(const kiln_phonons *ph);           /* N */
void kiln_phonons_get_supercell(const kiln_phonons *ph, int sc[3]);
const kiln_atoms *kiln_phonons_unit(const kiln_phonons *ph);  /* a copy owned by ph */
const kiln_atoms *kiln_phonons_super(const kiln_phonons *ph); /* the undisplaced supercell */
/* Compact force constants (nb*N*9 doubles, eV/Å²): block (κ, j) at fc + (κ N + j) 9,
 * element α β at [3α + β]. Owned by ph. */
const double *kiln_phonons_fc(const kiln_phonons *ph);
/* Write phonopy's FORCE_CONSTANTS format in phonopy's supercell order (atom-major, l1
 * fastest): full (N x N blocks, "N N" header) or compact (nb x N, "nb N"). */
kiln_status kiln_phonons_write_fc(const kiln_phonons *ph, const char *file, int compact,
                                  kiln_error *err);
/* Phonopy's supercell index of kiln supercell atom j (and back). */
size_t kiln_phonons_to_phonopy(const kiln_phonons *ph, size_t j);
size_t kiln_phonons_from_phonopy(const kiln_phonons *ph, size_t p);

/* Reduced (frac, units of the unit cell's reciprocal vectors) <-> Cartesian q (rad/Å). */
void kiln_phonons_q_cart(const kiln_phonons *ph, const double frac[3], double q[3]);
void kiln_phonons_q_frac(const kiln_phonons *ph, const double q[3], double frac[3]);

/* D(q) (3nb x 3nb complex, row-major interleaved re/im: 2 (3nb)² doubles, eV/(Å² amu)). */
kiln_status kiln_phonons_dynmat(const kiln_phonons *ph, const double q[3], double *d,
                                kiln_error *err);
/* Frequencies (3nb, THz, ascending in ω²) and, if evec != NULL, eigenvectors as columns
 * (2 (3nb)² doubles, as kiln_linalg_zheev: component i of mode j at 2 (i 3nb + j)). */
kiln_status kiln_phonons_modes(const kiln_phonons *ph, const double q[3], double *freq,
                               double *evec, kiln_error *err);

/* Γ-centred mesh m1 x m2 x m3 (the q commensurate with an m1 x m2 x m3 supercell).
 * DOS with Gaussian smearing sigma (THz) on nbins points from flo to fhi (THz; fhi <=
 * flo: from min ν - 5σ to max ν + 5σ). freq (nbins) receives the grid, dos (nbins) the
 * total DOS in states/THz per unit cell (integral 3 nb), pdos (nb x nbins, may be NULL)
 * the projection on each basis atom (Σ_κ pdos_κ = dos). */
kiln_status kiln_phonons_dos(const kiln_phonons *ph, const int mesh[3], double sigma,
                             double flo, double fhi, size_t nbins, double *freq, double *dos,
                             double *pdos, kiln_error *err);
/* Thermal displacement tensor per basis atom, u2 (nb x 9, Å²): <u_α u_β>_κ averaged over the
 * mesh, classical (<Q²> = kT/ω²) or quantum (ħ/2ω coth(ħω/2kT)) amplitudes, the three
 * acoustic modes at Γ left out (as in the sampling below). Fails with KILN_EDOM on an
 * imaginary mode. T >= 0 (T = 0 classical gives zeros). */
kiln_status kiln_phonons_msd(const kiln_phonons *ph, const int mesh[3], double T, int quantum,
                             double *u2, kiln_error *err);
/* Harmonic thermodynamics per unit cell on the mesh (modes with ν < 1e-3 THz left out, as
 * phonopy's cutoff_frequency): free energy F (eV, zero point included), entropy S (eV/K),
 * heat capacity Cv (eV/K), energy E (eV). */
kiln_status kiln_phonons_thermal(const kiln_phonons *ph, const int mesh[3], double T,
                                 double *F, double *S, double *Cv, double *E, kiln_error *err);

/* A thermal snapshot: the unit cell repeated m1 x m2 x m3 (kiln order) with every normal
 * mode of the commensurate q-points excited with a Gaussian random amplitude (classical or
 * quantum variance as in kiln_phonons_msd, the three acoustic Γ modes left out, so the
 * centre of mass does not move) and, if velocities, the matching normal-mode velocities
 * (<P²> = ω² <Q²>). Seeded: the same (seed, stream) gives the same snapshot. *out is new. */
kiln_status kiln_phonons_sample(const kiln_phonons *ph, const int mesh[3], double T, int quantum,
                                uint64_t seed, uint64_t stream, int velocities,
                                kiln_atoms **out, kiln_error *err);
#endif
