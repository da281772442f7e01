/* src/ml/snap_core.h: private SNAP bispectrum machinery shared by the descriptor
 * style "snap" (src/ml/desc_snap.c) and the potential style "snap"
 * (src/pot/pot_snap.c). Not part of the public API.
 *
 * Definitions follow LAMMPS ML-SNAP (Thompson et al., J. Comput. Phys. 285, 316
 * (2015)): for atom i, the density of neighbors j inside rcut_ij = (R_i + R_j)*rcutfac
 * is expanded in Wigner U-functions of the 3-sphere, U_j(r) with the polar angle
 * theta0 = (r - rmin0) rfac0 pi / (rcut_ij - rmin0); utot = wself*I + sum_j
 * fc(r) w_j U(r_ij). Z_{j1 j2 j} = CG (x) CG contraction of utot_j1 utot_j2, and
 * B_{j1 j2 j} = 2 Re sum' conj(utot_j) . Z_{j1 j2 j} over the unique half of (ma, mb)
 * (LAMMPS "2J" labels: j1 = 0..twojmax, j2 <= j1, j = j1-j2..min(twojmax, j1+j2)
 * step 2, j >= j1). Forces use the adjoint Y_j = dE/dU_j (one contraction per
 * neighbor whatever the number of components).
 *
 * U arrays use the LAMMPS layout: u[block[j] + mb*(j+1) + ma], 0 <= ma, mb <= j,
 * real and imaginary parts in separate arrays. Only the rows mb <= j/2 of the
 * per-neighbor U and dU are computed (the others follow from
 * u[j-mb][j-ma] = (-1)^(ma-mb) conj(u[mb][ma])).
 */
#ifndef KILN_SNAP_CORE_H
#define KILN_SNAP_CORE_H
#include <stddef.h>
#include <stdint.h>
#include "kiln/error.h"

/* one (j1, j2, j) triple of the Z list (j1 >= j2) */
typedef struct {
  int j1, j2, j;
  int z0;          /* first Z entry ((j/2+1)*(j+1) entries: mb <= j/2, ma = 0..j) */
  int bidx;        /* B component this triple is (j >= j1), else -1 */
  int yb;          /* B component whose beta multiplies this triple in Y */
  double yfac;     /* multiplicity / (j+1) factor of that beta */
} snap_triple;

typedef struct {
  int twojmax;
  double rfac0, rmin0, wself;
  int switchflag, bzeroflag;
  int nb;                  /* bispectrum components */
  int nu;                  /* U entries, full layout */
  int ublock[32];          /* twojmax <= 30 */
  int ntrip;
  snap_triple *trip;
  int nz;                  /* Z entries */
  int *zt0;                /* nz+1: term ranges of each Z entry */
  int *zjju;               /* nz: U index (in layer j) each Z entry pairs with */
  int nterm;
  double *tc;              /* nterm: CG products */
  int32_t (*ti)[2];        /* nterm: utot indices of the two factors */
  int (*bt)[3];            /* nb: (j1, j2, j) of each component */
  int *btrip;              /* nb: triple index of each component */
  int *tidx;               /* (J+1)^3: triple index of (j1, j2, j), -1 if none */
  double *rootpq;          /* (J+2)^2: sqrt(p/q) */
  double *uwgt;            /* nu: weight of each entry in sums over the unique half */
  double bzero[32];
} snap_basis;

kiln_status snap_basis_init(snap_basis *b, int twojmax, double rfac0, double rmin0,
                            int switchflag, int bzeroflag, const char *what, kiln_error *err);
void snap_basis_free(snap_basis *b);
/* number of components for twojmax (no allocation) */
int snap_ncomponents(int twojmax);

/* per-thread workspace for one centre atom at a time */
typedef struct {
  const snap_basis *b;
  int cap;                 /* neighbor capacity */
  int nn;                  /* neighbors of the current centre */
  double (*rij)[3];        /* cap */
  double *rcut, *wj;       /* cap */
  int32_t *idx;            /* cap: caller's index of each neighbor */
  double *nur, *nui;       /* cap x nu: per-neighbor U (half rows + mirror rows) */
  double *ur, *ui;         /* nu: utot (full after snap_utot) */
  double *yr, *yi;         /* nu: Y, half rows, weights folded in */
  double *zr, *zi;         /* nz: Z (snap_z_all) */
  double *B, *beta;        /* nb */
  double *dur, *dui;       /* 3 x nu: one neighbor's d(fc w U)/dr (half rows) */
  double *lay;             /* layer scratch */
} snap_work;

kiln_status snap_work_init(snap_work *w, const snap_basis *b, kiln_error *err);
void snap_work_free(snap_work *w);
/* room for nn neighbors (contents lost) */
kiln_status snap_work_reserve(snap_work *w, int nn, kiln_error *err);

/* With w->nn neighbors filled in (rij, rcut, wj): per-neighbor U and utot. */
void snap_utot(snap_work *w);
/* B (nb) of the current centre (bzero subtracted when bzeroflag). */
void snap_bispectrum(snap_work *w, double *B);
/* Z for every triple into w->zr/zi (for snap_dbdr). */
void snap_z_all(snap_work *w);
/* Y for dE/dB = beta (nb); B (may be NULL) gets the bispectrum of the same pass. */
void snap_y(snap_work *w, const double *beta, double *B);
/* dE_i/d r_ij (3) for neighbor k, using Y: the force on the neighbor is -dedr,
 * on the centre +dedr. */
void snap_dedr(snap_work *w, int k, double dedr[3]);
/* dB/d r_ij for neighbor k into dB[c*ldb + col], c = 0..2 (needs snap_z_all). */
void snap_dbdr(snap_work *w, int k, double *dB, size_t ldb);

/* ------------------------------------------------------------------ model files */
typedef struct {
  char name[8];
  double radelem, wj;
} snap_elem;

typedef struct {
  double rcutfac, rfac0, rmin0;
  int twojmax, switchflag, bzeroflag, quadraticflag;
  int nelem;
  snap_elem *elem;         /* nelem */
  int ncoeff;              /* bispectrum components */
  int ncoeffall;           /* per element: 1 + ncoeff (+ ncoeff(ncoeff+1)/2) */
  double *coeff;           /* nelem x ncoeffall, beta0 first */
} snap_model;

/* Read a .snapparam (param may be NULL: only the coefficient file, the caller sets the
 * parameters) and a .snapcoeff file as LAMMPS does; errors name file:line. */
kiln_status snap_model_read(snap_model *m, const char *coeff, const char *param,
                            const char *what, kiln_error *err);
void snap_model_free(snap_model *m);
/* index of an element name, -1 if absent */
int snap_model_element(const snap_model *m, const char *name);
#endif
