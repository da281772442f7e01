/* tests/c/test_soap.c: the SOAP descriptors "soap" and "soap_vector": the basis (radial
 * orthonormality, harmonics orthonormality and addition theorem, table vs direct
 * quadrature), the expansion against a brute-force 3D quadrature of the Gaussian density,
 * the single-neighbour closed form, rotation (cluster and periodic cell) and permutation
 * invariance, vector equivariance, analytic gradients against central finite differences,
 * back-propagation against the contracted gradient, smoothness at the cutoff, species
 * channels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "check.h"
#include "kiln/kiln.h"
#include "kiln/ml.h"
#include "ml/soap_internal.h"

static kiln_error err;

static kiln_desc *make_desc(const char *style, int nmax, int lmax, double rc, const char *elements,
                            int center) {
  kiln_opts *o = NULL;
  kiln_desc *d = NULL;
  if (kiln_opts_new(&o, &err)) return NULL;
  kiln_opts_add_num(o, "nmax", nmax, &err);
  kiln_opts_add_num(o, "lmax", lmax, &err);
  kiln_opts_add_num(o, "cutoff", rc, &err);
  kiln_opts_add_num(o, "cutoff_width", 1.0, &err);
  kiln_opts_add_num(o, "sigma", 0.5, &err);
  if (elements) kiln_opts_add_str(o, "elements", elements, &err);
  if (center) kiln_opts_add_bool(o, "center_atom", 1, &err);
  if (kiln_desc_new(&d, style, o, &err)) {
    fprintf(stderr, "  kiln_desc_new: %s\n", err.msg);
    d = NULL;
  }
  kiln_opts_free(o);
  return d;
}

/* a disordered cluster of n atoms (species cycling through syms, space separated) */
static kiln_atoms *cluster(int n, const char *syms, uint64_t seed, double box) {
  kiln_atoms *a = NULL;
  kiln_rng rng;
  kiln_rng_seed(&rng, seed, 0);
  char tmp[64], *list[8];
  int ns = 0;
  snprintf(tmp, sizeof tmp, "%s", syms);
  for (char *w = strtok(tmp, " "); w && ns < 8; w = strtok(NULL, " ")) list[ns++] = w;
  if (kiln_atoms_new(&a, 0, &err)) return NULL;
  for (int i = 0; i < n;) {
    double x[3];
    for (int c = 0; c < 3; c++) x[c] = box * kiln_rng_uniform(&rng);
    int ok = 1;
    for (size_t j = 0; j < a->n; j++) {
      double r2 = 0;
      for (int c = 0; c < 3; c++) r2 += (x[c] - a->x[j][c]) * (x[c] - a->x[j][c]);
      if (r2 < 1.8 * 1.8) ok = 0;
    }
    if (!ok) continue;
    kiln_atoms_append(a, list[i % ns], x, &err);
    i++;
  }
  return a;
}

/* a small strained periodic triclinic cell of diamond Si with random displacements */
static kiln_atoms *periodic_cell(uint64_t seed) {
  kiln_atoms *a = NULL;
  if (kiln_crystal_diamond(&a, "Si", 5.43, &err)) return NULL;
  double cell[3][3] = {{5.5, 0.2, -0.1}, {0.3, 5.3, 0.15}, {-0.2, 0.25, 5.6}};
  kiln_atoms_set_cell(a, cell, 1, &err);
  kiln_rng rng;
  kiln_rng_seed(&rng, seed, 1);
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) a->x[i][c] += 0.15 * kiln_rng_normal(&rng);
  return a;
}

static void random_rotation(double R[3][3], uint64_t seed) {
  kiln_rng rng;
  kiln_rng_seed(&rng, seed, 2);
  double q[4], n = 0;
  for (int i = 0; i < 4; i++) { q[i] = kiln_rng_normal(&rng); n += q[i] * q[i]; }
  n = sqrt(n);
  double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  double M[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)},
                    {2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)},
                    {2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)}};
  memcpy(R, M, sizeof M);
}

static void rotate(kiln_atoms *a, double R[3][3]) {
  for (size_t i = 0; i < a->n; i++) {
    double y[3];
    for (int r = 0; r < 3; r++) y[r] = R[r][0] * a->x[i][0] + R[r][1] * a->x[i][1] + R[r][2] * a->x[i][2];
    memcpy(a->x[i], y, sizeof y);
  }
  if (a->pbc[0] || a->pbc[1] || a->pbc[2]) {
    double cell[3][3];
    for (int v = 0; v < 3; v++)
      for (int r = 0; r < 3; r++)
        cell[v][r] = R[r][0] * a->cell[v][0] + R[r][1] * a->cell[v][1] + R[r][2] * a->cell[v][2];
    kiln_atoms_set_cell(a, cell, 0, &err);
  }
}

static double maxabs(const double *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
  return m;
}

/* Gauss-Legendre nodes and weights on [-1, 1] by Newton (independent of the library's) */
static void gl_nodes(int n, double *x, double *w) {
  for (int i = 0; i < n; i++) {
    double z = cos(M_PI * (i + 0.75) / (n + 0.5)), p0 = 1, p1 = z, dp = 1;
    for (int it = 0; it < 60; it++) {
      p0 = 1; p1 = z;
      for (int k = 2; k <= n; k++) { double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k; p0 = p1; p1 = p2; }
      dp = n * (z * p1 - p0) / (z * z - 1);
      z -= p1 / dp;
    }
    p0 = 1; p1 = z;
    for (int k = 2; k <= n; k++) { double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k; p0 = p1; p1 = p2; }
    dp = n * (z * p1 - p0) / (z * z - 1);
    x[i] = z;
    w[i] = 2 / ((1 - z * z) * dp * dp);
  }
}

/* ------------------------------------------------------------------ basis */
TEST(test_basis) {
  kiln_opts *o = NULL;
  soap_basis *b = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  kiln_opts_add_num(o, "nmax", 6, &err);
  kiln_opts_add_num(o, "lmax", 5, &err);
  kiln_opts_add_num(o, "cutoff", 4.0, &err);
  CHECK_OK(soap_basis_new(&b, 0, o, "test", &err));
  kiln_opts_free(o);
  if (!b) return;
  /* radial orthonormality: int_0^inf r^2 g_n g_m dr (trapezoid on a fine grid) */
  double S[6][6] = {{0}};
  const double hr = 1e-3;
  for (int k = 1; k < 12000; k++) {
    const double r = k * hr;
    double g[6];
    for (int n = 0; n < 6; n++) g[n] = soap_radial_g(b, n, r);
    for (int n = 0; n < 6; n++)
      for (int m = 0; m < 6; m++) S[n][m] += hr * r * r * g[n] * g[m];
  }
  double dev = 0;
  for (int n = 0; n < 6; n++)
    for (int m = 0; m < 6; m++) dev = fmax(dev, fabs(S[n][m] - (n == m)));
  CHECK(dev < 1e-9);
  /* harmonics: orthonormal on a product grid; addition theorem against Legendre P_l */
  const int L2 = b->L2;
  double *Y = malloc(L2 * sizeof *Y), *Y2 = malloc(L2 * sizeof *Y2);
  double *Gm = calloc((size_t)L2 * L2, sizeof *Gm);
  enum { nz = 12, nph = 24 };     /* exact for degree <= 2 lmax */
  double zq[nz], wq[nz];
  gl_nodes(nz, zq, wq);
  for (int iz = 0; iz < nz; iz++) {
    double z = zq[iz], wz = wq[iz];
    for (int ip = 0; ip < nph; ip++) {
      double ph = 2 * M_PI * ip / nph, st = sqrt(1 - z * z);
      double u[3] = {st * cos(ph), st * sin(ph), z};
      soap_ylm(b, u, 1, Y, NULL);
      for (int i = 0; i < L2; i++)
        for (int j = 0; j < L2; j++) Gm[i * L2 + j] += wz * 2 * M_PI / nph * Y[i] * Y[j];
    }
  }
  dev = 0;
  for (int i = 0; i < L2; i++)
    for (int j = 0; j < L2; j++) dev = fmax(dev, fabs(Gm[i * L2 + j] - (i == j)));
  CHECK(dev < 1e-13);
  double u[3] = {0.3, -0.5, 0.8}, v[3] = {-0.7, 0.2, 0.4};
  double nu = sqrt(0.09 + 0.25 + 0.64), nv = sqrt(0.49 + 0.04 + 0.16);
  for (int c = 0; c < 3; c++) { u[c] /= nu; v[c] /= nv; }
  soap_ylm(b, u, 1, Y, NULL);
  soap_ylm(b, v, 1, Y2, NULL);
  double t = u[0] * v[0] + u[1] * v[1] + u[2] * v[2], p0 = 1, p1 = t;
  for (int l = 0; l <= b->lmax; l++) {
    double P = l == 0 ? 1 : l == 1 ? t : 0;
    if (l >= 2) { P = ((2 * l - 1) * t * p1 - (l - 1) * p0) / l; p0 = p1; p1 = P; }
    double s = 0;
    for (int m = -l; m <= l; m++) s += Y[l * l + l + m] * Y2[l * l + l + m];
    CHECK_CLOSE(s, (2 * l + 1) / (4 * M_PI) * P, 1e-13, 1e-14);
  }
  /* Y_1m = sqrt(3/4pi) (y, z, x) */
  CHECK_CLOSE(Y[1], sqrt(3 / (4 * M_PI)) * u[1], 1e-14, 0);
  CHECK_CLOSE(Y[2], sqrt(3 / (4 * M_PI)) * u[2], 1e-14, 0);
  CHECK_CLOSE(Y[3], sqrt(3 / (4 * M_PI)) * u[0], 1e-14, 0);
  /* gradient of Y(r/|r|) by finite differences */
  double r0[3] = {1.1, -0.4, 0.7}, dY[3 * 36], Yp[36], Ym[36];
  double rn = sqrt(1.21 + 0.16 + 0.49), uu[3] = {r0[0] / rn, r0[1] / rn, r0[2] / rn};
  soap_ylm(b, uu, 1 / rn, Y, dY);
  dev = 0;
  for (int c = 0; c < 3; c++) {
    double rp[3] = {r0[0], r0[1], r0[2]}, rm[3] = {r0[0], r0[1], r0[2]};
    rp[c] += 1e-6; rm[c] -= 1e-6;
    double np_ = sqrt(rp[0] * rp[0] + rp[1] * rp[1] + rp[2] * rp[2]);
    double nm_ = sqrt(rm[0] * rm[0] + rm[1] * rm[1] + rm[2] * rm[2]);
    double up[3] = {rp[0] / np_, rp[1] / np_, rp[2] / np_}, um[3] = {rm[0] / nm_, rm[1] / nm_, rm[2] / nm_};
    soap_ylm(b, up, 1, Yp, NULL);
    soap_ylm(b, um, 1, Ym, NULL);
    for (int i = 0; i < L2; i++) dev = fmax(dev, fabs((Yp[i] - Ym[i]) / 2e-6 - dY[c * L2 + i]));
  }
  CHECK(dev < 1e-8);
  /* the table against direct quadrature, values and derivatives */
  const int Q = b->Q;
  double *I = malloc(Q * sizeof *I), *dI = malloc(Q * sizeof *dI);
  double *R = malloc(Q * sizeof *R), *dR = malloc(Q * sizeof *dR);
  double ev = 0, ed = 0, mv = 0, md = 0;
  for (int k = 0; k < 97; k++) {
    double d = 0.013 + k * (2.9 / 97);    /* inside fc = 1 */
    soap_radial_direct(b, d, I, dI);
    soap_radial_eval(b, d, R, dR);
    for (int q = 0; q < Q; q++) {
      ev = fmax(ev, fabs(I[q] - R[q]));
      ed = fmax(ed, fabs(dI[q] - dR[q]));
      mv = fmax(mv, fabs(I[q]));
      md = fmax(md, fabs(dI[q]));
    }
  }
  CHECK(ev < 1e-8 * mv);
  CHECK(ed < 1e-6 * md);
  printf("  table error: value %.2e (max %.3g), derivative %.2e (max %.3g)\n", ev, mv, ed, md);
  /* direct derivative vs finite difference of the direct value */
  double Ip[64], Im[64], tmp[64];
  soap_radial_direct(b, 2.1, I, dI);
  soap_radial_direct(b, 2.1 + 1e-5, Ip, tmp);
  soap_radial_direct(b, 2.1 - 1e-5, Im, tmp);
  dev = 0;
  for (int q = 0; q < Q; q++) dev = fmax(dev, fabs((Ip[q] - Im[q]) / 2e-5 - dI[q]));
  CHECK(dev < 1e-7 * md);
  free(I); free(dI); free(R); free(dR);
  free(Y); free(Y2); free(Gm);
  soap_basis_free(b);
}

/* c_nlm of one neighbour against a brute-force 3D quadrature of the Gaussian density
 * projected on g_n(r) Y_lm(rhat); then the power spectrum's closed form */
TEST(test_single_neighbour) {
  kiln_desc *d = make_desc("soap", 4, 4, 4.0, NULL, 0);
  if (!d) { CHECK(0); return; }
  soap_basis *b = ((soap_basis **)kiln_desc_state(d))[0];
  kiln_atoms *a = NULL;
  kiln_atoms_new(&a, 0, &err);
  const double xj[3] = {1.2, -0.9, 1.1}, x0[3] = {0, 0, 0};
  kiln_atoms_append(a, "Si", x0, &err);
  kiln_atoms_append(a, "Si", xj, &err);
  const size_t nc = kiln_desc_ncols(d);
  double *X = malloc(2 * nc * sizeof *X);
  CHECK_OK(kiln_desc_compute(d, a, X, NULL, &err));
  const double dj = sqrt(1.44 + 0.81 + 1.21), sig = 0.5;
  const int nmax = 4, L2 = 25;
  double c[4][25] = {{0}};
  /* brute force: r in [dj - 8 sigma, dj + 8 sigma] by 12-point Gauss-Legendre panels, angles
   * Gauss-Legendre in z x uniform in phi */
  enum { NG = 12, NZ = 64, NP = 128 };
  double gx[NG], gw[NG], zx[NZ], zw[NZ];
  gl_nodes(NG, gx, gw);
  gl_nodes(NZ, zx, zw);
  static double Yang[NZ * NP][25], uang[NZ * NP][3], wang[NZ * NP];
  for (int iz = 0; iz < NZ; iz++)
    for (int ip = 0; ip < NP; ip++) {
      int k = iz * NP + ip;
      double st = sqrt(1 - zx[iz] * zx[iz]), ph = 2 * M_PI * ip / NP;
      uang[k][0] = st * cos(ph); uang[k][1] = st * sin(ph); uang[k][2] = zx[iz];
      wang[k] = zw[iz] * 2 * M_PI / NP;
      soap_ylm(b, uang[k], 1, Yang[k], NULL);
    }
  const double lo = fmax(0, dj - 8 * sig), hi = dj + 8 * sig;
  const int npan = 32;
  for (int p = 0; p < npan; p++)
    for (int t = 0; t < NG; t++) {
      double r = lo + (hi - lo) / npan * (p + 0.5 * (gx[t] + 1));
      double wr = (hi - lo) / npan * 0.5 * gw[t] * r * r;
      double A[25] = {0};
      for (int k = 0; k < NZ * NP; k++) {
        double d2 = 0;
        for (int cc = 0; cc < 3; cc++) d2 += (r * uang[k][cc] - xj[cc]) * (r * uang[k][cc] - xj[cc]);
        double rho = exp(-d2 / (2 * sig * sig)) * wang[k];
        if (rho < 1e-300) continue;
        for (int lm = 0; lm < L2; lm++) A[lm] += rho * Yang[k][lm];
      }
      for (int n = 0; n < nmax; n++) {
        double g = soap_radial_g(b, n, r) * wr;
        for (int lm = 0; lm < L2; lm++) c[n][lm] += g * A[lm];
      }
    }
  /* the descriptor's coefficients (fc = 1 here: d < cutoff - width) through the expansion */
  soap_ws w = {0};
  CHECK_OK(soap_ws_reserve(&w, b, 4, &err));
  kiln_neigh *nl = NULL;
  int32_t chan[1] = {0};
  kiln_neigh_new(&nl, KILN_NEIGH_FULL, 4.0, 0.0, &err);
  CHECK_OK(kiln_neigh_build(nl, a, &err));
  CHECK(soap_expand(b, &w, 0, a, nl, chan, 0) == 0);
  double dev = 0, mx = maxabs(&c[0][0], 4 * 25);
  for (int n = 0; n < nmax; n++)
    for (int lm = 0; lm < L2; lm++) dev = fmax(dev, fabs(w.c[lm * nmax + n] - c[n][lm]));
  printf("  c_nlm vs brute force: max dev %.2e (max |c| %.3g)\n", dev, mx);
  CHECK(dev < 1e-8 * mx);
  /* closed form of the power spectrum of one neighbour:
   * p_{n n' l} = s pi sqrt(8/(2l+1)) I_nl I_n'l (2l+1)/(4 pi) (addition theorem) */
  double I[20], dI[20];
  soap_radial_direct(b, dj, I, dI);
  size_t col = 0;
  dev = 0;
  for (int n = 0; n < nmax; n++)
    for (int n2 = n; n2 < nmax; n2++)
      for (int l = 0; l <= 4; l++, col++) {
        double s = n == n2 ? 1 : sqrt(2.0);
        double ref = s * M_PI * sqrt(8.0 / (2 * l + 1)) * I[l * nmax + n] * I[l * nmax + n2] *
                     (2 * l + 1) / (4 * M_PI);
        dev = fmax(dev, fabs(X[col] - ref));
      }
  CHECK(col == nc);
  CHECK(dev < 1e-8 * maxabs(X, nc));
  /* the neighbour sees the centre at -xj: same spectrum (one species, no centre atom) */
  dev = 0;
  for (size_t k = 0; k < nc; k++) dev = fmax(dev, fabs(X[k] - X[nc + k]));
  CHECK(dev < 1e-13 * maxabs(X, nc));
  soap_ws_free(&w);
  kiln_neigh_free(nl);
  free(X);
  kiln_atoms_free(a);
  kiln_desc_free(d);
}

/* X(R config) == X(config), cluster and periodic triclinic cell (cell rotated too) */
static void check_invariance(kiln_desc *d, kiln_atoms *a, uint64_t seed) {
  const size_t nc = kiln_desc_ncols(d), n = a->n;
  double *X = malloc(n * nc * sizeof *X), *Y = malloc(n * nc * sizeof *Y);
  CHECK_OK(kiln_desc_compute(d, a, X, NULL, &err));
  double R[3][3];
  random_rotation(R, seed);
  kiln_atoms *b = NULL;
  kiln_atoms_copy(&b, a, &err);
  rotate(b, R);
  CHECK_OK(kiln_desc_compute(d, b, Y, NULL, &err));
  double dev = 0;
  for (size_t k = 0; k < n * nc; k++) dev = fmax(dev, fabs(X[k] - Y[k]));
  double mx = maxabs(X, n * nc);
  CHECK(mx > 1e-3);
  CHECK(dev < 1e-10 * mx);
  if (!(dev < 1e-10 * mx)) fprintf(stderr, "  rotation dev %.3g (max %.3g)\n", dev, mx);
  free(X); free(Y);
  kiln_atoms_free(b);
}

TEST(test_rotation_invariance) {
  kiln_desc *d = make_desc("soap", 5, 5, 4.5, "Si O", 0);
  kiln_atoms *a = cluster(14, "Si O", 11, 6.0);
  if (!d || !a) { CHECK(0); return; }
  for (uint64_t s = 1; s <= 3; s++) check_invariance(d, a, s);
  kiln_atoms *p = periodic_cell(3);
  kiln_desc *d1 = make_desc("soap", 5, 5, 4.5, NULL, 1);
  check_invariance(d1, p, 7);
  kiln_atoms_free(p);
  kiln_atoms_free(a);
  kiln_desc_free(d);
  kiln_desc_free(d1);
}

TEST(test_permutation_invariance) {
  kiln_desc *d = make_desc("soap", 4, 4, 4.5, "Si O", 0);
  kiln_atoms *a = cluster(12, "Si O", 5, 6.0);
  if (!d || !a) { CHECK(0); return; }
  const size_t nc = kiln_desc_ncols(d), n = a->n;
  double *X = malloc(n * nc * sizeof *X), *Y = malloc(n * nc * sizeof *Y);
  CHECK_OK(kiln_desc_compute(d, a, X, NULL, &err));
  kiln_atoms *b = NULL;
  kiln_atoms_new(&b, 0, &err);
  size_t perm[64];
  for (size_t i = 0; i < n; i++) perm[i] = (i * 5 + 3) % n;   /* 5 coprime with 12 */
  for (size_t i = 0; i < n; i++) kiln_atoms_append(b, kiln_atoms_symbol(a, perm[i]), a->x[perm[i]], &err);
  CHECK_OK(kiln_desc_compute(d, b, Y, NULL, &err));
  double dev = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < nc; k++) dev = fmax(dev, fabs(Y[i * nc + k] - X[perm[i] * nc + k]));
  CHECK(dev < 1e-13 * maxabs(X, n * nc));
  free(X); free(Y);
  kiln_atoms_free(a);
  kiln_atoms_free(b);
  kiln_desc_free(d);
}

/* dense dX_i/dr_j[c] from the sparse gradient */
static void dense_grad(const kiln_desc_grad *g, size_t n, size_t nc, double *D /* n*nc x n*3 */) {
  memset(D, 0, n * nc * n * 3 * sizeof *D);
  for (size_t i = 0; i < n; i++)
    for (size_t e = g->offset[i]; e < g->offset[i + 1]; e++)
      for (int c = 0; c < 3; c++)
        for (size_t k = 0; k < nc; k++) {
          double v = g->d[(e * 3 + c) * nc + k];
          D[(i * nc + k) * n * 3 + (size_t)g->j[e] * 3 + c] += v;
          D[(i * nc + k) * n * 3 + i * 3 + c] -= v;
        }
}

static void check_fd_gradient(kiln_desc *d, kiln_atoms *a, double tol) {
  const size_t nc = kiln_desc_ncols(d), n = a->n;
  double *X = malloc(n * nc * sizeof *X), *Xp = malloc(n * nc * sizeof *Xp);
  double *Xm = malloc(n * nc * sizeof *Xm), *D = malloc(n * nc * n * 3 * sizeof *D);
  kiln_desc_grad g = {0};
  CHECK_OK(kiln_desc_compute(d, a, X, &g, &err));
  dense_grad(&g, n, nc, D);
  const double h = 1e-5;
  double dev = 0, mx = 0;
  for (size_t j = 0; j < n; j++)
    for (int c = 0; c < 3; c++) {
      double x0 = a->x[j][c];
      a->x[j][c] = x0 + h;
      kiln_desc_compute(d, a, Xp, NULL, &err);
      a->x[j][c] = x0 - h;
      kiln_desc_compute(d, a, Xm, NULL, &err);
      a->x[j][c] = x0;
      for (size_t r = 0; r < n * nc; r++) {
        double fd = (Xp[r] - Xm[r]) / (2 * h), an = D[r * n * 3 + j * 3 + c];
        dev = fmax(dev, fabs(fd - an));
        mx = fmax(mx, fabs(an));
      }
    }
  printf("  gradient vs FD: max dev %.2e (max |dX/dr| %.3g)\n", dev, mx);
  CHECK(mx > 1e-3);
  CHECK(dev < tol * mx);
  /* back-propagation == contraction of the stored gradient */
  double *w = malloc(n * nc * sizeof *w), (*f)[3] = malloc(n * sizeof *f), (*fr)[3] = calloc(n, sizeof *fr);
  double W[3][3], Wr[3][3] = {{0}};
  kiln_rng rng;
  kiln_rng_seed(&rng, 99, 0);
  for (size_t k = 0; k < n * nc; k++) w[k] = kiln_rng_normal(&rng);
  CHECK_OK(kiln_desc_backprop(d, a, w, f, W, &err));
  for (size_t i = 0; i < n; i++)
    for (size_t e = g.offset[i]; e < g.offset[i + 1]; e++)
      for (int c = 0; c < 3; c++) {
        double s = 0;
        for (size_t k = 0; k < nc; k++) s += w[i * nc + k] * g.d[(e * 3 + c) * nc + k];
        fr[g.j[e]][c] -= s;
        fr[i][c] += s;
        for (int x = 0; x < 3; x++) Wr[x][c] -= g.rij[e][x] * s;
      }
  double fdev = 0, fm = 0, wdev = 0, wm = 0;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) { fdev = fmax(fdev, fabs(f[i][c] - fr[i][c])); fm = fmax(fm, fabs(fr[i][c])); }
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) { wdev = fmax(wdev, fabs(W[x][y] - Wr[x][y])); wm = fmax(wm, fabs(Wr[x][y])); }
  CHECK(fdev < 1e-11 * fm);
  CHECK(wdev < 1e-11 * wm);
  free(w); free(f); free(fr);
  kiln_desc_grad_free(&g);
  free(X); free(Xp); free(Xm); free(D);
}

TEST(test_gradient_fd) {
  kiln_desc *d = make_desc("soap", 4, 4, 4.0, "Si O", 0);
  kiln_atoms *a = cluster(6, "Si O", 21, 4.5);
  if (!d || !a) { CHECK(0); return; }
  check_fd_gradient(d, a, 1e-7);
  kiln_desc_free(d);
  /* periodic, cell smaller than twice the cutoff, centre atom included */
  kiln_atoms *p = periodic_cell(5);
  kiln_desc *d1 = make_desc("soap", 3, 3, 4.0, NULL, 1);
  check_fd_gradient(d1, p, 1e-7);
  kiln_desc_free(d1);
  kiln_atoms_free(p);
  kiln_atoms_free(a);
}

/* ------------------------------------------------------------------ soap_vector */
TEST(test_vector_equivariance) {
  kiln_desc *d = make_desc("soap_vector", 3, 4, 4.5, "Si O", 0);
  kiln_atoms *a = cluster(12, "Si O", 31, 6.0);
  if (!d || !a) { CHECK(0); return; }
  const size_t nc = kiln_desc_ncols(d), n = a->n, K = 6, Dv = K * (K + 1) / 2 * 4;
  CHECK(nc == 3 * Dv);
  double *V = malloc(n * nc * sizeof *V), *V2 = malloc(n * nc * sizeof *V2);
  CHECK_OK(kiln_desc_compute(d, a, V, NULL, &err));
  for (uint64_t s = 1; s <= 3; s++) {
    double R[3][3];
    random_rotation(R, s + 40);
    kiln_atoms *b = NULL;
    kiln_atoms_copy(&b, a, &err);
    rotate(b, R);
    CHECK_OK(kiln_desc_compute(d, b, V2, NULL, &err));
    double dev = 0, mx = maxabs(V, n * nc);
    for (size_t i = 0; i < n; i++)
      for (size_t q = 0; q < Dv; q++)
        for (int r = 0; r < 3; r++) {
          double rv = 0;
          for (int c = 0; c < 3; c++) rv += R[r][c] * V[i * nc + c * Dv + q];
          dev = fmax(dev, fabs(V2[i * nc + r * Dv + q] - rv));
        }
    CHECK(mx > 1e-3);
    CHECK(dev < 1e-10 * mx);
    kiln_atoms_free(b);
  }
  /* a vector feature must change sign under inversion (polar vector) */
  kiln_atoms *b = NULL;
  kiln_atoms_copy(&b, a, &err);
  double P[3][3] = {{-1, 0, 0}, {0, -1, 0}, {0, 0, -1}};
  rotate(b, P);
  CHECK_OK(kiln_desc_compute(d, b, V2, NULL, &err));
  double dev = 0;
  for (size_t k = 0; k < n * nc; k++) dev = fmax(dev, fabs(V2[k] + V[k]));
  CHECK(dev < 1e-12 * maxabs(V, n * nc));
  kiln_atoms_free(b);
  /* the sum over the cluster of a single-neighbour-pair feature is along the pair axis */
  kiln_atoms *two = NULL;
  kiln_atoms_new(&two, 0, &err);
  double x0[3] = {0, 0, 0}, x1[3] = {0.8, -1.1, 1.4};
  kiln_atoms_append(two, "Si", x0, &err);
  kiln_atoms_append(two, "O", x1, &err);
  CHECK_OK(kiln_desc_compute(d, two, V2, NULL, &err));
  double cross = 0;
  for (size_t q = 0; q < Dv; q++) {
    double v[3] = {V2[q], V2[Dv + q], V2[2 * Dv + q]};
    double cx = v[1] * x1[2] - v[2] * x1[1], cy = v[2] * x1[0] - v[0] * x1[2], cz = v[0] * x1[1] - v[1] * x1[0];
    cross = fmax(cross, sqrt(cx * cx + cy * cy + cz * cz));
  }
  CHECK(cross < 1e-13);
  CHECK(maxabs(V2, nc) > 1e-4);
  kiln_atoms_free(two);
  check_fd_gradient(d, a, 1e-7);
  free(V); free(V2);
  kiln_atoms_free(a);
  kiln_desc_free(d);
}

/* ------------------------------------------------------------------ cutoff, channels */
TEST(test_cutoff_smoothness) {
  kiln_desc *d = make_desc("soap", 4, 3, 4.0, NULL, 0);
  if (!d) { CHECK(0); return; }
  const size_t nc = kiln_desc_ncols(d);
  double *X = malloc(2 * nc * sizeof *X);
  double prev = 1;
  for (int k = 1; k <= 3; k++) {
    double delta = pow(10.0, -k);
    kiln_atoms *a = NULL;
    kiln_atoms_new(&a, 0, &err);
    double x0[3] = {0, 0, 0}, x1[3] = {0, 0, 4.0 - delta};
    kiln_atoms_append(a, "Si", x0, &err);
    kiln_atoms_append(a, "Si", x1, &err);
    kiln_desc_grad g = {0};
    CHECK_OK(kiln_desc_compute(d, a, X, &g, &err));
    double m = maxabs(X, nc), gm = g.offset[1] > 0 ? maxabs(g.d, 3 * nc) : 0;
    /* fc^2 ~ (pi delta / 2)^4 / 4 ... value O(delta^4), derivative O(delta^3) */
    CHECK(m < 50 * pow(delta, 4));
    CHECK(gm < 50 * pow(delta, 3));
    CHECK(m < prev);
    prev = m;
    kiln_desc_grad_free(&g);
    kiln_atoms_free(a);
  }
  /* beyond the cutoff: exactly zero */
  kiln_atoms *a = NULL;
  kiln_atoms_new(&a, 0, &err);
  double x0[3] = {0, 0, 0}, x1[3] = {0, 0, 4.0 + 1e-9};
  kiln_atoms_append(a, "Si", x0, &err);
  kiln_atoms_append(a, "Si", x1, &err);
  CHECK_OK(kiln_desc_compute(d, a, X, NULL, &err));
  CHECK(maxabs(X, 2 * nc) == 0);
  kiln_atoms_free(a);
  free(X);
  kiln_desc_free(d);
}

TEST(test_species_channels) {
  /* Si centre with only O neighbours: every column with a Si channel is zero, and the (O,O)
   * block equals the one-channel descriptor of the same configuration */
  kiln_desc *d2 = make_desc("soap", 3, 3, 4.0, "Si O", 0);
  kiln_desc *d1 = make_desc("soap", 3, 3, 4.0, NULL, 0);
  if (!d1 || !d2) { CHECK(0); return; }
  kiln_atoms *a = NULL;
  kiln_atoms_new(&a, 0, &err);
  double xs[4][3] = {{0, 0, 0}, {1.6, 0.1, 0}, {-0.4, 1.5, 0.3}, {0.2, -0.5, -1.6}};
  kiln_atoms_append(a, "Si", xs[0], &err);
  for (int i = 1; i < 4; i++) kiln_atoms_append(a, "O", xs[i], &err);
  const size_t n2 = kiln_desc_ncols(d2), n1 = kiln_desc_ncols(d1);
  CHECK(n2 == 21 * 4 && n1 == 6 * 4);   /* K(K+1)/2 (lmax+1), K = 6 and 3 */
  double *X2 = malloc(4 * n2 * sizeof *X2), *X1 = malloc(4 * n1 * sizeof *X1);
  CHECK_OK(kiln_desc_compute(d2, a, X2, NULL, &err));
  CHECK_OK(kiln_desc_compute(d1, a, X1, NULL, &err));
  size_t p = 0;
  double dev = 0, zero = 0;
  for (int A = 0; A < 6; A++)
    for (int B = A; B < 6; B++, p++)
      for (int l = 0; l <= 3; l++) {
        double v = X2[p * 4 + l];
        if (A < 3 || B < 3) zero = fmax(zero, fabs(v));
        else {
          int a1 = A - 3, b1 = B - 3;
          size_t p1 = (size_t)(a1 * 3 - a1 * (a1 - 1) / 2 + (b1 - a1));
          dev = fmax(dev, fabs(v - X1[p1 * 4 + l]));
        }
      }
  CHECK(zero == 0);
  CHECK(dev < 1e-14 * maxabs(X1, n1));
  CHECK(maxabs(X1, n1) > 1e-3);
  /* unknown element */
  kiln_atoms *b = NULL;
  kiln_atoms_copy(&b, a, &err);
  kiln_atoms_set_symbol(b, 1, "C", &err);
  CHECK_ERR(kiln_desc_compute(d2, b, X2, NULL, &err), KILN_EINVAL, "'C'");
  kiln_atoms_free(b);
  free(X1); free(X2);
  kiln_atoms_free(a);
  kiln_desc_free(d1);
  kiln_desc_free(d2);
}

TEST(test_options) {
  kiln_desc *d = NULL;
  kiln_opts *o = NULL;
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "nmax", 3, &err);
  CHECK_ERR(kiln_desc_new(&d, "soap", o, &err), KILN_EINVAL, "cutoff");
  kiln_opts_add_num(o, "cutoff", 4, &err);
  kiln_opts_add_num(o, "lmax", 40, &err);
  CHECK_ERR(kiln_desc_new(&d, "soap", o, &err), KILN_EINVAL, "lmax=40");
  kiln_opts_free(o);
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "cutoff", 4, &err);
  kiln_opts_add_num(o, "sigmaa", 4, &err);
  CHECK_ERR(kiln_desc_new(&d, "soap", o, &err), KILN_EINVAL, "sigmaa");
  kiln_opts_free(o);
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "cutoff", 4, &err);
  kiln_opts_add_bool(o, "all_pairs", 1, &err);
  CHECK_ERR(kiln_desc_new(&d, "soap", o, &err), KILN_EINVAL, "all_pairs");
  CHECK_OK(kiln_desc_new(&d, "soap_vector", o, &err));
  if (d) CHECK(kiln_desc_ncols(d) == 3 * 64 * 6);    /* K^2 lmax with all pairs, defaults 8, 6 */
  kiln_desc_free(d);
  kiln_opts_free(o);
}

/* the OpenMP paths (>= 256 centres) give the serial rows, forces and virial */
TEST(test_threads) {
  kiln_desc *d = make_desc("soap_vector", 3, 2, 3.5, NULL, 0);
  kiln_atoms *u = NULL, *a = NULL;
  kiln_crystal_diamond(&u, "Si", 5.43, &err);
  kiln_atoms_supercell(&a, u, 4, 4, 4, &err);
  kiln_atoms_free(u);
  if (!d || !a) { CHECK(0); kiln_desc_free(d); kiln_atoms_free(a); return; }
  kiln_rng rng;
  kiln_rng_seed(&rng, 4, 0);
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) a->x[i][c] += 0.1 * kiln_rng_normal(&rng);
  const size_t n = a->n, nc = kiln_desc_ncols(d);
  double *X[2], (*f[2])[3], W[2][3][3], *w = malloc(n * nc * sizeof *w);
  for (size_t k = 0; k < n * nc; k++) w[k] = kiln_rng_normal(&rng);
  const int saved = omp_get_max_threads();
  for (int t = 0; t < 2; t++) {
    omp_set_num_threads(t ? 3 : 1);
    X[t] = malloc(n * nc * sizeof *X[t]);
    f[t] = malloc(n * sizeof *f[t]);
    CHECK_OK(kiln_desc_compute(d, a, X[t], NULL, &err));
    CHECK_OK(kiln_desc_backprop(d, a, w, f[t], W[t], &err));
  }
  omp_set_num_threads(saved);
  double dx = 0, df = 0, dw = 0;
  for (size_t k = 0; k < n * nc; k++) dx = fmax(dx, fabs(X[0][k] - X[1][k]));
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) df = fmax(df, fabs(f[0][i][c] - f[1][i][c]));
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) dw = fmax(dw, fabs(W[0][x][y] - W[1][x][y]));
  CHECK(dx == 0);
  CHECK(df < 1e-12 * (1 + maxabs(&f[0][0][0], 3 * n)));
  CHECK(dw < 1e-10 * (1 + fabs(W[0][0][0])));
  for (int t = 0; t < 2; t++) { free(X[t]); free(f[t]); }
  free(w);
  kiln_atoms_free(a);
  kiln_desc_free(d);
}

int main(void) {
  RUN(test_basis);
  RUN(test_single_neighbour);
  RUN(test_rotation_invariance);
  RUN(test_permutation_invariance);
  RUN(test_gradient_fd);
  RUN(test_vector_equivariance);
  RUN(test_cutoff_smoothness);
  RUN(test_species_channels);
  RUN(test_options);
  RUN(test_threads);
  return check_summary();
}
