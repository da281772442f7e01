/* src/corr/rho.h: density (and current) Fourier components of a frame for a
 * fixed list of q-points, per species, and the per-atom phase autocorrelation
 * of the incoherent (self) part. Private to src/corr (used by corr_sqw.c).
 *
 * q-points are given by their coordinates on the reciprocal lattice of the
 * (super)cell, q = h b1 + k b2 + l b3 with b_i = 2 pi x column i of cell^-1,
 * so that q.r = 2 pi (h s1 + k s2 + l s3) with s = fractional coordinates.
 * Commensurate q (integer h, k, l) use the lattice factorisation
 *   exp(i q.r) = z1^h z2^k z3^l,  z_d = exp(2 pi i s_d),
 * with per-atom power tables z_d^m built by complex multiplication for the m
 * present in the q list, in blocks of RHO_BS atoms of one species (structure of
 * arrays, vectorised loops, OpenMP over blocks). Non-commensurate q take the
 * direct path, exp(2 pi i (h s1 + k s2 + l s3)) per atom and q.
 * Phases use kilni_cis2pi, a polynomial exp(2 pi i f) accurate to ~1e-16.
 *
 * Incoherent part: for a time origin o, the base phases z_d(o) of every atom
 * are stored (in "slots"); at a later frame t the per-atom phase
 * autocorrelation conj(exp(i q.r_j(o))) exp(i q.r_j(t)) factorises as
 * dz1^h dz2^k dz3^l with dz_d = conj(z_d(o)) z_d(t): no exponential is
 * evaluated, the same power tables and q loop as the coherent part apply. */
#ifndef KILN_CORR_RHO_H
#define KILN_CORR_RHO_H
#include <stddef.h>
#include <stdint.h>
#include "kiln/error.h"

typedef struct kilni_rho kilni_rho;

typedef struct kilni_rho_setup {
  size_t natoms, nq;
  int nspec;
  const int32_t *type;          /* natoms species indices 0..nspec-1 */
  const double (*hkl)[3];       /* nq reciprocal-lattice coordinates */
  const unsigned char *comm;    /* nq flags: 1 = commensurate (hkl are integers) */
  int currents;                 /* also sum v_j exp(i q.r_j) */
  size_t nslots;                /* incoherent time-origin slots (0: no incoherent part) */
} kilni_rho_setup;

kiln_status kilni_rho_new(kilni_rho **out, const kilni_rho_setup *s, kiln_error *err);
void kilni_rho_free(kilni_rho *r);

/* One frame. x, v: natoms x 3 in the original atom order (v only if currents);
 * inv: cell^-1 (frac = x inv).
 * rho (out): nq x nspec complex, rho[q*nspec + a] = sum_{j in a} exp(i q.r_j).
 * j (out, currents only): nq x nspec x 3 complex, sum_{j in a} v_j exp(i q.r_j).
 * Incoherent: for each of the nself slots listed in self_slot (each holding an
 * earlier origin), self[(k*nq + q)*nspec + a] = sum_{j in a} conj(e_j(q,o)) e_j(q,t),
 * real part only (the imaginary part, which the self part does not use, is
 * left 0 for commensurate q).
 * store_slot >= 0 stores this frame's phases as a new origin in that slot
 * (after the sums, so a slot may be read and overwritten in the same call). */
void kilni_rho_frame(kilni_rho *r, const double (*x)[3], const double (*v)[3],
                     const double inv[3][3], double (*rho)[2], double (*j)[2],
                     const int *self_slot, size_t nself, double (*self)[2], int store_slot);

/* Nearest integer of x (|x| < 2^51), by the 1.5 * 2^52 trick: vectorises
 * (floor/rint do not, without -fno-trapping-math). Needs strict IEEE
 * evaluation (no -ffast-math). */
static inline double kilni_round(double x) {
  const double magic = 6755399441055744.0;
  return (x + magic) - magic;
}

/* exp(2 pi i f) = {cos, sin} for |f| <= 1/2 (polynomial; vectorisable). */
typedef struct { double c, s; } kilni_cs;
static inline kilni_cs kilni_cis2pi(double f) {
  /* x = pi f / 2 in [-pi/4, pi/4]: Taylor series of cos and sin, then two doublings */
  const double x = 1.5707963267948966 * f, x2 = x * x;
  double sn = 1.0 / 355687428096000.0;           /* 1/17! */
  sn = sn * x2 - 1.0 / 1307674368000.0;          /* 1/15! */
  sn = sn * x2 + 1.0 / 6227020800.0;             /* 1/13! */
  sn = sn * x2 - 1.0 / 39916800.0;               /* 1/11! */
  sn = sn * x2 + 1.0 / 362880.0;
  sn = sn * x2 - 1.0 / 5040.0;
  sn = sn * x2 + 1.0 / 120.0;
  sn = sn * x2 - 1.0 / 6.0;
  sn = (sn * x2) * x + x;
  double cs = 1.0 / 20922789888000.0;            /* 1/16! */
  cs = cs * x2 - 1.0 / 87178291200.0;            /* 1/14! */
  cs = cs * x2 + 1.0 / 479001600.0;              /* 1/12! */
  cs = cs * x2 - 1.0 / 3628800.0;
  cs = cs * x2 + 1.0 / 40320.0;
  cs = cs * x2 - 1.0 / 720.0;
  cs = cs * x2 + 1.0 / 24.0;
  cs = cs * x2 - 0.5;
  cs = cs * x2 + 1.0;
  double c2 = cs * cs - sn * sn, s2 = 2.0 * cs * sn;
  kilni_cs r = {c2 * c2 - s2 * s2, 2.0 * c2 * s2};
  return r;
}
#endif
