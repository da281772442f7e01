/* src/ml/soap_internal.h: private machinery of the SOAP descriptors ("soap", "soap_vector")
 * shared by src/ml/desc_soap.c, src/ml/soap_basis.c, src/ml/soap_core.c and the GAP
 * potential src/pot/pot_soap_gap.c (not part of the public API).
 *
 * Density of neighbours of species a around a centre: Gaussians of width sigma times a
 * cosine switch fc(r). Expansion coefficients
 *     c^a_{nlm} = sum_{j in a} fc(r_j) I_{nl}(r_j) Y_lm(u_j)
 * with I_{nl}(d) = 4 pi int_0^inf r^2 g_n(r) exp(-(r^2+d^2)/(2 sigma^2)) i_l(r d/sigma^2) dr
 * (i_l: modified spherical Bessel function of the first kind), g_n the Loewdin-
 * orthonormalised GTO primitives r^n exp(-r^2/(2 s_n^2)), s_n = rcut max(sqrt n, 1)/nmax,
 * and Y_lm real spherical harmonics (no Condon-Shortley phase: Y_1,(-1,0,1) ~ (y,z,x)).
 * I and dI/dd are tabulated on a uniform grid in d (piecewise cubic Hermite). */
#ifndef KILN_SOAP_INTERNAL_H
#define KILN_SOAP_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "kiln/ml.h"

#define SOAP_LMAX_MAX 14
#define SOAP_NMAX_MAX 24

typedef struct soap_basis {
  int vector;               /* 0: power spectrum "soap", 1: lambda=1 "soap_vector" */
  int nmax, lmax, nel;      /* nel = channels (1 when no elements list) */
  int L2, K, Q;             /* (lmax+1)^2, nmax*nel, nmax*(lmax+1) */
  int center_atom, all_pairs;
  double rcut, cw, sigma;
  int nsym;                 /* 0: no elements list, every species is channel 0 */
  char sym[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  /* radial table: ngrid intervals of width h on [0, rcut]; per interval and radial value
   * q = l*nmax + n four coefficients of the cubic in t = (d - g h)/h */
  int ngrid;
  double h, hinv;
  double *rad;              /* ngrid x 4 x Q */
  double rad0[SOAP_NMAX_MAX];   /* I_{n0}(0) Y_00: the centre atom's own contribution */
  double T[SOAP_NMAX_MAX * SOAP_NMAX_MAX];  /* g_n = sum_k T[n][k] phi_k (phi normalised) */
  double pb[SOAP_NMAX_MAX], pnorm[SOAP_NMAX_MAX];  /* primitive exponents 1/(2 s_n^2), norms */
  /* real spherical harmonics: Y = yn[l,m] Q_lm(z) {A_m, B_m}(x, y) */
  double yn[(SOAP_LMAX_MAX + 1) * (SOAP_LMAX_MAX + 1)];   /* index l*(LMAX+1)+m */
  double ya[(SOAP_LMAX_MAX + 1) * (SOAP_LMAX_MAX + 1)];   /* (2l-1)/(l-m) */
  double yb[(SOAP_LMAX_MAX + 1) * (SOAP_LMAX_MAX + 1)];   /* (l+m-1)/(l-m) */
  /* features */
  size_t npair, ncols, nfeat;   /* nfeat = ncols (soap) or Dv = ncols/3 (soap_vector) */
  int32_t (*pair)[2];           /* (A, B) combined indices A = a*nmax + n */
  double *pscale;               /* npair: 1 or sqrt 2 (soap) */
  double lnorm[SOAP_LMAX_MAX + 1];  /* pi sqrt(8/(2l+1)) */
  /* soap_vector: nonzero real Gaunt coefficients int Y_{l,i} Y_{l+1,j} u_k dOmega,
   * entries [goff[l], goff[l+1]) for l = 0..lmax-1 */
  int *goff;
  struct soap_gaunt { int16_t i, j, k; double g; } *gaunt;
} soap_basis;

/* one neighbour of the current centre */
typedef struct soap_nb {
  int32_t k, ch;            /* extended index, channel */
  double rij[3], r;         /* xe[k] - xe[i], |rij| */
} soap_nb;

/* per-thread workspace */
typedef struct soap_ws {
  int cap;                  /* neighbours */
  int nnb;
  soap_nb *nb;              /* cap */
  double *R, *dR;           /* cap x Q: fc I, d(fc I)/dr, index q = l*nmax+n */
  double *Y, *dY;           /* cap x L2, cap x 3 x L2 (gradient w.r.t. the neighbour) */
  double *c, *G;            /* K x L2: coefficients, dE/dc, index (a*L2 + lm)*nmax + n */
  double *dc;               /* 3 x K x L2 (full-gradient scratch) */
  double *x, *dx;           /* ncols feature row, dE/dX row */
  double *P;                /* K*K + 2K scratch of the feature maps */
  double *aux;              /* scratch (pot: kernel values) */
  size_t auxcap;
} soap_ws;

/* Parse the options (what: "descriptor soap") and build the tables. */
kiln_status soap_basis_new(soap_basis **out, int vector, const kiln_opts *o, const char *what,
                           kiln_error *err);
void soap_basis_free(soap_basis *b);
/* Channel of a species symbol, -1 if the elements list does not have it. */
int soap_basis_channel(const soap_basis *b, const char *symbol);

/* Orthonormal radial function g_n(r) (for tests). */
double soap_radial_g(const soap_basis *b, int n, double r);
/* Direct quadrature of I_{nl}(d) and dI/dd (what the table interpolates; for tests). */
void soap_radial_direct(const soap_basis *b, double d, double *I, double *dI);
/* Tabulated fc(d) I_{nl}(d) and its derivative, index l*nmax+n (Q values each). */
void soap_radial_eval(const soap_basis *b, double d, double *R, double *dR);
/* Real spherical harmonics at the unit vector u (Y: L2 values, index l*l+l+m) and, if
 * dY (3 x L2) is given, the gradient of Y(r/|r|) with respect to r for |r| = 1/rinv. */
void soap_ylm(const soap_basis *b, const double u[3], double rinv, double *Y, double *dY);

/* Workspace for up to nnb neighbours. */
kiln_status soap_ws_reserve(soap_ws *w, const soap_basis *b, int nnb, kiln_error *err);
void soap_ws_free(soap_ws *w);

/* Expand the density of centre i: neighbours of the full list nl row i within the
 * cutoff (in list order), chan[type] = channel of an atoms type. Fills w->nb, R, dR, Y,
 * (dY if grad), c. Returns 0, or -1 if a neighbour sits on the centre (r < 1e-10). */
int soap_expand(const soap_basis *b, soap_ws *w, size_t i, const kiln_atoms *a,
                const kiln_neigh *nl, const int32_t *chan, int grad);
/* Feature row X (ncols) from the coefficients c (K x L2). */
void soap_features(const soap_basis *b, soap_ws *w, const double *c, double *X);
/* Directional derivative: X'(c)[dc] (ncols), i.e. B(dc, c) + B(c, dc). */
void soap_features_lin(const soap_basis *b, soap_ws *w, const double *c, const double *dc,
                       double *out);
/* G (K x L2, overwritten) = dE/dc for dE/dX = dX (ncols). */
void soap_features_adjoint(const soap_basis *b, soap_ws *w, const double *c, const double *dX,
                           double *G);
/* dE/dr_k of every neighbour entry e (nnb x 3, overwritten) for dE/dc = w->G. */
void soap_nb_forces(const soap_basis *b, const soap_ws *w, double (*dEdr)[3]);
/* Full gradient of entry e: out (3 x ncols) = dX/dr_k[c]. */
void soap_entry_grad(const soap_basis *b, soap_ws *w, int e, double *out);
#endif
