/* src/ml/soap_core.c: per-centre SOAP machinery: the density expansion c_nlm of one
 * centre (with the per-neighbour radial values, harmonics and their gradients kept for
 * the back-propagation), the feature maps c -> X (power spectrum or lambda=1 vector),
 * their linearisation and adjoint, and the forces dE/dr_k of the neighbours for a given
 * dE/dc. Coefficients are stored channel-major, then lm, then n (index
 * (a*L2 + lm)*nmax + n), so the innermost loops run over n with unit stride. No
 * allocation here except soap_ws_reserve. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ml/soap_internal.h"

void soap_ws_free(soap_ws *w) {
  if (!w) return;
  free(w->nb);
  free(w->R);
  free(w->dR);
  free(w->Y);
  free(w->dY);
  free(w->c);
  free(w->G);
  free(w->dc);
  free(w->x);
  free(w->dx);
  free(w->P);
  free(w->aux);
  memset(w, 0, sizeof *w);
}

kiln_status soap_ws_reserve(soap_ws *w, const soap_basis *b, int nnb, kiln_error *err) {
  if (!w->c) {
    const size_t kl = (size_t)b->K * b->L2;
    w->c = malloc(kl * sizeof *w->c);
    w->G = malloc(kl * sizeof *w->G);
    w->dc = malloc(3 * kl * sizeof *w->dc);
    w->x = malloc(b->ncols * sizeof *w->x);
    w->dx = malloc(b->ncols * sizeof *w->dx);
    w->P = malloc(((size_t)b->K * b->K + 2 * (size_t)b->K) * sizeof *w->P);
    if (!w->c || !w->G || !w->dc || !w->x || !w->dx || !w->P)
      return KILN_FAIL(err, KILN_ENOMEM, "soap: out of memory (workspace)");
  }
  if (nnb <= w->cap && w->nb) return KILN_OK;
  const int cap = nnb + nnb / 4 + 8;
  free(w->nb); free(w->R); free(w->dR); free(w->Y); free(w->dY);
  w->nb = malloc((size_t)cap * sizeof *w->nb);
  w->R = malloc((size_t)cap * b->Q * sizeof *w->R);
  w->dR = malloc((size_t)cap * b->Q * sizeof *w->dR);
  w->Y = malloc((size_t)cap * b->L2 * sizeof *w->Y);
  w->dY = malloc((size_t)cap * 3 * b->L2 * sizeof *w->dY);
  if (!w->nb || !w->R || !w->dR || !w->Y || !w->dY) {
    w->cap = 0;
    return KILN_FAIL(err, KILN_ENOMEM, "soap: out of memory (%d neighbours)", nnb);
  }
  w->cap = cap;
  return KILN_OK;
}

static inline __attribute__((always_inline)) int expand_n(const soap_basis *b, soap_ws *w,
                                                           size_t i, const kiln_atoms *a,
                                                           const kiln_neigh *nl,
                                                           const int32_t *chan, int grad,
                                                           const int nmax) {
  const int L2 = b->L2, Q = b->Q, lmax = b->lmax;
  const double rc2 = b->rcut * b->rcut;
  const double *xi = nl->xe[i];
  double *c = w->c;
  memset(c, 0, (size_t)b->K * L2 * sizeof *c);
  if (b->center_atom) {
    const int ch = chan[a->type[i]];
    for (int n = 0; n < nmax; n++) c[(size_t)ch * L2 * nmax + n] = b->rad0[n];
  }
  int nnb = 0, bad = 0;
  for (size_t jj = nl->offset[i]; jj < nl->offset[i + 1]; jj++) {
    const int32_t k = nl->index[jj];
    const double dx = nl->xe[k][0] - xi[0], dy = nl->xe[k][1] - xi[1], dz = nl->xe[k][2] - xi[2];
    const double r2 = dx * dx + dy * dy + dz * dz;
    if (r2 >= rc2) continue;
    if (r2 < 1e-20) { bad = 1; continue; }
    const double r = sqrt(r2), rinv = 1 / r;
    soap_nb *nb = w->nb + nnb;
    nb->k = k;
    nb->ch = chan[a->type[nl->owner[k]]];
    nb->rij[0] = dx; nb->rij[1] = dy; nb->rij[2] = dz;
    nb->r = r;
    double *R = w->R + (size_t)nnb * Q, *dR = w->dR + (size_t)nnb * Q;
    double *Y = w->Y + (size_t)nnb * L2;
    soap_radial_eval(b, r, R, dR);
    const double u[3] = {dx * rinv, dy * rinv, dz * rinv};
    soap_ylm(b, u, rinv, Y, grad ? w->dY + (size_t)nnb * 3 * L2 : NULL);
    double *cc = c + (size_t)nb->ch * L2 * nmax;
    for (int l = 0; l <= lmax; l++) {
      const double *Rl = R + l * nmax;
      for (int lm = l * l; lm < (l + 1) * (l + 1); lm++) {
        const double y = Y[lm];
        double *cl = cc + (size_t)lm * nmax;
#pragma omp simd
        for (int n = 0; n < nmax; n++) cl[n] += y * Rl[n];
      }
    }
    nnb++;
  }
  w->nnb = nnb;
  return bad ? -1 : 0;
}

int soap_expand(const soap_basis *b, soap_ws *w, size_t i, const kiln_atoms *a,
                const kiln_neigh *nl, const int32_t *chan, int grad) {
  switch (b->nmax) {
    case 4: return expand_n(b, w, i, a, nl, chan, grad, 4);
    case 6: return expand_n(b, w, i, a, nl, chan, grad, 6);
    case 8: return expand_n(b, w, i, a, nl, chan, grad, 8);
    case 10: return expand_n(b, w, i, a, nl, chan, grad, 10);
    case 12: return expand_n(b, w, i, a, nl, chan, grad, 12);
    default: return expand_n(b, w, i, a, nl, chan, grad, b->nmax);
  }
}

/* gather v[A] = c(A, lm), A = a*nmax + n */
static inline void gather(const soap_basis *b, const double *c, int lm, double *v) {
  const int nmax = b->nmax, L2 = b->L2;
  for (int a = 0; a < b->nel; a++) {
    const double *src = c + ((size_t)a * L2 + lm) * nmax;
    for (int n = 0; n < nmax; n++) v[a * nmax + n] = src[n];
  }
}

static inline double cget(const soap_basis *b, const double *c, int A, int lm) {
  return c[((size_t)(A / b->nmax) * b->L2 + lm) * b->nmax + A % b->nmax];
}

static inline double *cptr(const soap_basis *b, double *c, int A, int lm) {
  return c + ((size_t)(A / b->nmax) * b->L2 + lm) * b->nmax + A % b->nmax;
}

/* X += B(c1, c2) (+ B(c2, c1) when sym), B bilinear: the feature map */
static void feat_bilinear(const soap_basis *b, double *P, const double *c1, const double *c2,
                          int sym, double *X) {
  const int K = b->K, lmax = b->lmax;
  double *v1 = P + (size_t)K * K, *v2 = v1 + K;
  if (!b->vector) {
    for (int l = 0; l <= lmax; l++) {
      memset(P, 0, (size_t)K * K * sizeof *P);
      for (int lm = l * l; lm < (l + 1) * (l + 1); lm++) {
        gather(b, c1, lm, v1);
        gather(b, c2, lm, v2);
        for (int A = 0; A < K; A++) {
          const double va = v1[A];
          double *row = P + (size_t)A * K;
#pragma omp simd
          for (int B = 0; B < K; B++) row[B] += va * v2[B];
        }
      }
      const double N = b->lnorm[l];
      for (size_t p = 0; p < b->npair; p++) {
        const int A = b->pair[p][0], B = b->pair[p][1];
        double v = P[(size_t)A * K + B];
        if (sym) v += P[(size_t)B * K + A];
        X[p * (size_t)(lmax + 1) + l] += b->pscale[p] * N * v;
      }
    }
    return;
  }
  const size_t D = b->nfeat;
  for (size_t p = 0; p < b->npair; p++) {
    const int A = b->pair[p][0], B = b->pair[p][1];
    for (int l = 0; l < lmax; l++) {
      const size_t q = p * (size_t)lmax + l;
      double v[3] = {0, 0, 0};
      for (int e = b->goff[l]; e < b->goff[l + 1]; e++) {
        const struct soap_gaunt *g = b->gaunt + e;
        const int li = l * l + g->i, lj = (l + 1) * (l + 1) + g->j;
        double t = cget(b, c1, A, li) * cget(b, c2, B, lj);
        if (sym) t += cget(b, c2, A, li) * cget(b, c1, B, lj);
        v[g->k] += g->g * t;
      }
      for (int k = 0; k < 3; k++) X[k * D + q] += v[k];
    }
  }
}

void soap_features(const soap_basis *b, soap_ws *w, const double *c, double *X) {
  memset(X, 0, b->ncols * sizeof *X);
  feat_bilinear(b, w->P, c, c, 0, X);
}

void soap_features_lin(const soap_basis *b, soap_ws *w, const double *c, const double *dc,
                       double *out) {
  memset(out, 0, b->ncols * sizeof *out);
  feat_bilinear(b, w->P, dc, c, 1, out);
}

void soap_features_adjoint(const soap_basis *b, soap_ws *w, const double *c, const double *dX,
                           double *G) {
  const int K = b->K, lmax = b->lmax, nmax = b->nmax, L2 = b->L2;
  memset(G, 0, (size_t)K * L2 * sizeof *G);
  if (!b->vector) {
    double *M = w->P, *v = M + (size_t)K * K, *g = v + K;
    for (int l = 0; l <= lmax; l++) {
      /* symmetric M_l[A][B] = dE/dP_l[A][B] over the full matrix P_l = sum_m c_A c_B */
      memset(M, 0, (size_t)K * K * sizeof *M);
      const double N = b->lnorm[l];
      int any = 0;
      for (size_t p = 0; p < b->npair; p++) {
        const double wv = dX[p * (size_t)(lmax + 1) + l];
        if (wv == 0) continue;
        any = 1;
        const int A = b->pair[p][0], B = b->pair[p][1];
        const double f = b->pscale[p] * N * wv;
        if (A == B) M[(size_t)A * K + A] += 2 * f;
        else {
          M[(size_t)A * K + B] += f;
          M[(size_t)B * K + A] += f;
        }
      }
      if (!any) continue;
      for (int lm = l * l; lm < (l + 1) * (l + 1); lm++) {
        gather(b, c, lm, v);
        for (int A = 0; A < K; A++) {
          const double *row = M + (size_t)A * K;
          double s = 0;
#pragma omp simd reduction(+ : s)
          for (int B = 0; B < K; B++) s += row[B] * v[B];
          g[A] = s;
        }
        for (int a = 0; a < b->nel; a++) {
          double *dst = G + ((size_t)a * L2 + lm) * nmax;
          for (int n = 0; n < nmax; n++) dst[n] = g[a * nmax + n];
        }
      }
    }
    return;
  }
  const size_t D = b->nfeat;
  for (size_t p = 0; p < b->npair; p++) {
    const int A = b->pair[p][0], B = b->pair[p][1];
    for (int l = 0; l < lmax; l++) {
      const size_t q = p * (size_t)lmax + l;
      const double wv[3] = {dX[q], dX[D + q], dX[2 * D + q]};
      for (int e = b->goff[l]; e < b->goff[l + 1]; e++) {
        const struct soap_gaunt *g = b->gaunt + e;
        const int li = l * l + g->i, lj = (l + 1) * (l + 1) + g->j;
        const double f = g->g * wv[g->k];
        *cptr(b, G, A, li) += f * cget(b, c, B, lj);
        *cptr(b, G, B, lj) += f * cget(b, c, A, li);
      }
    }
  }
}

/* nmax is a parameter so that the common sizes get constant-trip-count copies */
static inline __attribute__((always_inline)) void nb_forces_n(const soap_basis *b,
                                                               const soap_ws *w,
                                                               double (*dEdr)[3],
                                                               const int nmax) {
  /* dE/dr = sum_{l,n} [ dR_ln u T_ln + R_ln (Tx, Ty, Tz)_ln ], T_ln = sum_m G_lmn Y_lm and
   * T{x,y,z}_ln = sum_m G_lmn dY{x,y,z}_lm: vector work over n, one reduction at the end */
  const int L2 = b->L2, Q = b->Q, lmax = b->lmax;
  for (int e = 0; e < w->nnb; e++) {
    const soap_nb *nb = w->nb + e;
    const double *R = w->R + (size_t)e * Q, *dR = w->dR + (size_t)e * Q;
    const double *Y = w->Y + (size_t)e * L2, *dY = w->dY + (size_t)e * 3 * L2;
    const double *dYx = dY, *dYy = dY + L2, *dYz = dY + 2 * L2;
    const double *G = w->G + (size_t)nb->ch * L2 * nmax;
    double as[SOAP_NMAX_MAX] = {0}, ax[SOAP_NMAX_MAX] = {0}, ay[SOAP_NMAX_MAX] = {0},
           az[SOAP_NMAX_MAX] = {0};
    for (int l = 0; l <= lmax; l++) {
      double T[SOAP_NMAX_MAX] = {0}, Tx[SOAP_NMAX_MAX] = {0}, Ty[SOAP_NMAX_MAX] = {0},
             Tz[SOAP_NMAX_MAX] = {0};
      for (int lm = l * l; lm < (l + 1) * (l + 1); lm++) {
        const double *g = G + (size_t)lm * nmax;
        const double y = Y[lm], yx = dYx[lm], yy = dYy[lm], yz = dYz[lm];
#pragma omp simd
        for (int n = 0; n < nmax; n++) {
          T[n] += g[n] * y;
          Tx[n] += g[n] * yx;
          Ty[n] += g[n] * yy;
          Tz[n] += g[n] * yz;
        }
      }
      const double *Rl = R + l * nmax, *dRl = dR + l * nmax;
#pragma omp simd
      for (int n = 0; n < nmax; n++) {
        as[n] += dRl[n] * T[n];
        ax[n] += Rl[n] * Tx[n];
        ay[n] += Rl[n] * Ty[n];
        az[n] += Rl[n] * Tz[n];
      }
    }
    double sr = 0, gx = 0, gy = 0, gz = 0;
    for (int n = 0; n < nmax; n++) {
      sr += as[n];
      gx += ax[n];
      gy += ay[n];
      gz += az[n];
    }
    const double rinv = 1 / nb->r;
    dEdr[e][0] = sr * nb->rij[0] * rinv + gx;
    dEdr[e][1] = sr * nb->rij[1] * rinv + gy;
    dEdr[e][2] = sr * nb->rij[2] * rinv + gz;
  }
}

void soap_nb_forces(const soap_basis *b, const soap_ws *w, double (*dEdr)[3]) {
  switch (b->nmax) {
    case 4: nb_forces_n(b, w, dEdr, 4); break;
    case 6: nb_forces_n(b, w, dEdr, 6); break;
    case 8: nb_forces_n(b, w, dEdr, 8); break;
    case 10: nb_forces_n(b, w, dEdr, 10); break;
    case 12: nb_forces_n(b, w, dEdr, 12); break;
    default: nb_forces_n(b, w, dEdr, b->nmax); break;
  }
}

void soap_entry_grad(const soap_basis *b, soap_ws *w, int e, double *out) {
  const int nmax = b->nmax, L2 = b->L2, Q = b->Q, lmax = b->lmax;
  const size_t kl = (size_t)b->K * L2;
  const soap_nb *nb = w->nb + e;
  const double *R = w->R + (size_t)e * Q, *dR = w->dR + (size_t)e * Q;
  const double *Y = w->Y + (size_t)e * L2, *dY = w->dY + (size_t)e * 3 * L2;
  const double rinv = 1 / nb->r;
  for (int cdir = 0; cdir < 3; cdir++) {
    double *dc = w->dc + cdir * kl;
    memset(dc, 0, kl * sizeof *dc);
    const double uc = nb->rij[cdir] * rinv;
    const double *dYc = dY + (size_t)cdir * L2;
    double *cc = dc + (size_t)nb->ch * L2 * nmax;
    for (int l = 0; l <= lmax; l++)
      for (int lm = l * l; lm < (l + 1) * (l + 1); lm++)
        for (int n = 0; n < nmax; n++)
          cc[(size_t)lm * nmax + n] = dR[l * nmax + n] * uc * Y[lm] + R[l * nmax + n] * dYc[lm];
    soap_features_lin(b, w, w->c, dc, out + (size_t)cdir * b->ncols);
  }
}
