/* tests/c/test_dipole.c: the lambda = 1 dipole kernel model (kiln/dipole.h) on a
 * test-only descriptor pair defined here, so the model is checked independently of
 * any SOAP implementation:
 *   vector  V_i[c][q + NQ*e] = sum_k f_q(r_ik) rhat_ik[c]   (neighbors k of element e)
 *   scalar  x_i[q + NQ*e]    = 1/2 + sum_k f_q(r_ik)
 * with f_q(r) = exp(-(r - r_q)^2 / (2 w^2)) fc(r), fc = (1 + cos(pi r/rc))/2. V rotates
 * exactly as R V and x is invariant, so the model must be exactly equivariant.
 * Checks: equivariance of mu and Z under a rotation, permutation invariance of M, Born
 * charges against central finite differences of M, rows . a == M, the refit of the
 * model's own dipoles (weights and held-out predictions to 1e-8), the interpolation
 * limit of the sparse GP fit (sigma -> 0), and errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kiln/dipole.h"
#include "kiln/kiln.h"

#define NQ 4
#define NEL 2
#define NV (NQ * NEL)
#define NS (NQ * NEL)
static const double RC = 4.2, W = 0.6;
static const double RQ[NQ] = {1.6, 2.3, 3.0, 3.7};

static void radial(double r, double f[NQ], double df[NQ]) {
  double fc = 0.5 * (1 + cos(M_PI * r / RC)), dfc = -0.5 * M_PI / RC * sin(M_PI * r / RC);
  for (int q = 0; q < NQ; q++) {
    double g = exp(-(r - RQ[q]) * (r - RQ[q]) / (2 * W * W));
    double dg = -g * (r - RQ[q]) / (W * W);
    f[q] = g * fc;
    df[q] = dg * fc + g * dfc;
  }
}

/* features of atoms a (element index = type), with gradients when gV, gS given */
static void test_features(const kiln_atoms *a, double *XV, double *XS, kiln_desc_grad *gV,
                          kiln_desc_grad *gS) {
  kiln_error err;
  kiln_neigh *nl = NULL;
  if (kiln_neigh_new(&nl, KILN_NEIGH_FULL, RC, 0.0, &err) || kiln_neigh_build(nl, a, &err)) {
    fprintf(stderr, "neighbor list: %s\n", err.msg);
    exit(1);
  }
  const size_t n = a->n;
  size_t ne = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t e = nl->offset[i]; e < nl->offset[i + 1]; e++) {
      const double *xk = nl->xe[nl->index[e]], *xi = nl->xe[i];
      double d2 = 0;
      for (int c = 0; c < 3; c++) d2 += (xk[c] - xi[c]) * (xk[c] - xi[c]);
      if (d2 < RC * RC) ne++;
    }
  if (gV && (kiln_desc_grad_reserve(gV, n, 3 * NV, ne, &err) ||
             kiln_desc_grad_reserve(gS, n, NS, ne, &err))) {
    fprintf(stderr, "reserve: %s\n", err.msg);
    exit(1);
  }
  size_t cnt = 0;
  for (size_t i = 0; i < n; i++) {
    double *V = XV + i * 3 * NV, *x = XS + i * NS;
    memset(V, 0, 3 * NV * sizeof *V);
    for (int p = 0; p < NS; p++) x[p] = 0.5;
    if (gV) gV->offset[i] = gS->offset[i] = cnt;
    for (size_t e = nl->offset[i]; e < nl->offset[i + 1]; e++) {
      int32_t k = nl->index[e];
      double d[3], r = 0;
      for (int c = 0; c < 3; c++) d[c] = nl->xe[k][c] - nl->xe[i][c], r += d[c] * d[c];
      if (r >= RC * RC) continue;
      r = sqrt(r);
      double u[3] = {d[0] / r, d[1] / r, d[2] / r}, f[NQ], df[NQ];
      radial(r, f, df);
      int el = a->type[nl->owner[k]];
      for (int q = 0; q < NQ; q++) {
        int col = q + NQ * el;
        x[col] += f[q];
        for (int c = 0; c < 3; c++) V[c * NV + col] += f[q] * u[c];
      }
      if (!gV) continue;
      gV->j[cnt] = gS->j[cnt] = nl->owner[k];
      for (int c = 0; c < 3; c++) gV->rij[cnt][c] = gS->rij[cnt][c] = d[c];
      double *dv = gV->d + cnt * 3 * 3 * NV, *ds = gS->d + cnt * 3 * NS;
      memset(dv, 0, 9 * NV * sizeof *dv);
      memset(ds, 0, 3 * NS * sizeof *ds);
      for (int q = 0; q < NQ; q++) {
        int col = q + NQ * el;
        for (int dd = 0; dd < 3; dd++) {
          ds[dd * NS + col] = df[q] * u[dd];
          for (int c = 0; c < 3; c++)
            dv[(dd * 3 + c) * NV + col] =
                df[q] * u[c] * u[dd] + f[q] * ((c == dd) - u[c] * u[dd]) / r;
        }
      }
      cnt++;
    }
  }
  if (gV) gV->offset[n] = gS->offset[n] = cnt;
  kiln_neigh_free(nl);
}

/* a rattled 10-atom two-element cell (triclinic), seeded */
static kiln_atoms *make_atoms(unsigned seed, double amp) {
  kiln_error err;
  kiln_atoms *a = NULL;
  kiln_atoms_new(&a, 0, &err);
  double cell[3][3] = {{7.4, 0, 0}, {0.4, 6.1, 0}, {-0.3, 0.5, 6.6}};
  kiln_atoms_set_cell(a, cell, 0, &err);
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  kiln_rng rng;
  kiln_rng_seed(&rng, seed, 0);
  static const double frac[10][3] = {{0, 0, 0},       {0.5, 0.5, 0.5}, {0.5, 0, 0},
                                     {0, 0.5, 0},     {0, 0, 0.5},     {0.25, 0.25, 0.25},
                                     {0.75, 0.75, 0}, {0.75, 0, 0.75}, {0, 0.75, 0.75},
                                     {0.5, 0.5, 0}};
  for (int i = 0; i < 10; i++) {
    double x[3];
    for (int c = 0; c < 3; c++) {
      x[c] = 0;
      for (int k = 0; k < 3; k++) x[c] += frac[i][k] * cell[k][c];
      x[c] += amp * (2 * kiln_rng_uniform(&rng) - 1);
    }
    kiln_atoms_append(a, i < 4 ? "Ti" : "O", x, &err);
  }
  return a;
}

static int32_t *elements(const kiln_atoms *a) {
  int32_t *el = malloc(a->n * sizeof *el);
  for (size_t i = 0; i < a->n; i++) el[i] = a->type[i];
  return el;
}

/* a model with m sparse environments taken from the atoms of structure seed 99 and
 * random weights */
static void make_model(kiln_dipole_model *mdl, int zeta, size_t m, unsigned wseed) {
  kiln_error err;
  kiln_atoms *a = make_atoms(99, 0.3);
  double *XV = malloc(a->n * 3 * NV * sizeof *XV), *XS = malloc(a->n * NS * sizeof *XS);
  test_features(a, XV, XS, NULL, NULL);
  int32_t el[16];
  double V[16 * 3 * NV], S[16 * NS], w[16 * 3];
  kiln_rng rng;
  kiln_rng_seed(&rng, wseed, 1);
  for (size_t s = 0; s < m; s++) {
    size_t i = s % a->n;
    el[s] = a->type[i];
    memcpy(V + s * 3 * NV, XV + i * 3 * NV, 3 * NV * sizeof *V);
    memcpy(S + s * NS, XS + i * NS, NS * sizeof *S);
    for (int c = 0; c < 3; c++) w[3 * s + (size_t)c] = 2 * kiln_rng_uniform(&rng) - 1;
  }
  CHECK_OK(kiln_dipole_model_set(mdl, NV, NS, zeta, m, el, V, S, w, &err));
  free(XV);
  free(XS);
  kiln_atoms_free(a);
}

typedef struct result {
  double (*mu)[3], M[3], (*Z)[9];
} result;

static void evaluate(const kiln_dipole_model *mdl, const kiln_atoms *a, result *r, int born) {
  kiln_error err;
  size_t n = a->n;
  double *XV = malloc(n * 3 * NV * sizeof *XV), *XS = malloc(n * NS * sizeof *XS);
  kiln_desc_grad gV = {0}, gS = {0};
  test_features(a, XV, XS, born ? &gV : NULL, born ? &gS : NULL);
  int32_t *el = elements(a);
  r->mu = malloc(n * sizeof *r->mu);
  r->Z = born ? malloc(n * sizeof *r->Z) : NULL;
  CHECK_OK(kiln_dipole_eval(mdl, n, el, XV, born ? &gV : NULL, XS, born ? &gS : NULL, r->mu,
                            r->M, r->Z, &err));
  free(el);
  free(XV);
  free(XS);
  kiln_desc_grad_free(&gV);
  kiln_desc_grad_free(&gS);
}

static void result_free(result *r) {
  free(r->mu);
  free(r->Z);
}

static void rotation(double R[3][3]) {
  double ax[3] = {0.3, -0.5, 0.81}, th = 1.1, nn = 0;
  for (int c = 0; c < 3; c++) nn += ax[c] * ax[c];
  nn = sqrt(nn);
  for (int c = 0; c < 3; c++) ax[c] /= nn;
  double cs = cos(th), sn = sin(th);
  double K[3][3] = {{0, -ax[2], ax[1]}, {ax[2], 0, -ax[0]}, {-ax[1], ax[0], 0}};
  for (int p = 0; p < 3; p++)
    for (int q = 0; q < 3; q++) {
      double k2 = 0;
      for (int t = 0; t < 3; t++) k2 += K[p][t] * K[t][q];
      R[p][q] = (p == q) + sn * K[p][q] + (1 - cs) * k2;
    }
}

static void check_equivariance(int zeta) {
  kiln_error err;
  kiln_dipole_model mdl = {0};
  make_model(&mdl, zeta, 8, 5);
  kiln_atoms *a = make_atoms(1, 0.35), *b = NULL;
  kiln_atoms_copy(&b, a, &err);
  double R[3][3], cell[3][3];
  rotation(R);
  for (int k = 0; k < 3; k++)
    for (int p = 0; p < 3; p++) {
      cell[k][p] = 0;
      for (int q = 0; q < 3; q++) cell[k][p] += R[p][q] * a->cell[k][q];
    }
  CHECK_OK(kiln_atoms_set_cell(b, cell, 0, &err));
  for (size_t i = 0; i < a->n; i++)
    for (int p = 0; p < 3; p++) {
      b->x[i][p] = 0;
      for (int q = 0; q < 3; q++) b->x[i][p] += R[p][q] * a->x[i][q];
    }
  result ra, rb;
  evaluate(&mdl, a, &ra, 1);
  evaluate(&mdl, b, &rb, 1);
  double mmax = 0;
  for (size_t i = 0; i < a->n; i++)
    for (int p = 0; p < 3; p++) mmax = fmax(mmax, fabs(ra.mu[i][p]));
  CHECK(mmax > 1e-3); /* not trivially zero */
  for (int p = 0; p < 3; p++) {
    double rm = 0;
    for (int q = 0; q < 3; q++) rm += R[p][q] * ra.M[q];
    CHECK_CLOSE(rb.M[p], rm, 1e-11, 1e-11);
  }
  for (size_t i = 0; i < a->n; i++)
    for (int p = 0; p < 3; p++) {
      double rm = 0;
      for (int q = 0; q < 3; q++) rm += R[p][q] * ra.mu[i][q];
      CHECK_CLOSE(rb.mu[i][p], rm, 1e-10, 1e-11);
      for (int q = 0; q < 3; q++) { /* Z' = R Z R^T */
        double z = 0;
        for (int s = 0; s < 3; s++)
          for (int t = 0; t < 3; t++) z += R[p][s] * ra.Z[i][s * 3 + t] * R[q][t];
        CHECK_CLOSE(rb.Z[i][p * 3 + q], z, 1e-10, 1e-11);
      }
    }
  result_free(&ra);
  result_free(&rb);
  kiln_atoms_free(a);
  kiln_atoms_free(b);
  kiln_dipole_model_free(&mdl);
}

TEST(test_equivariance_linear) { check_equivariance(1); }
TEST(test_equivariance_zeta3) { check_equivariance(3); }

TEST(test_permutation) {
  kiln_error err;
  kiln_dipole_model mdl = {0};
  make_model(&mdl, 2, 8, 7);
  kiln_atoms *a = make_atoms(2, 0.3), *b = NULL;
  kiln_atoms_copy(&b, a, &err);
  size_t n = a->n, perm[16];
  for (size_t i = 0; i < n; i++) perm[i] = (i * 7 + 3) % n; /* 7 coprime with 10 */
  for (size_t i = 0; i < n; i++) {
    memcpy(b->x[i], a->x[perm[i]], sizeof b->x[i]);
    b->type[i] = a->type[perm[i]];
  }
  result ra, rb;
  evaluate(&mdl, a, &ra, 1);
  evaluate(&mdl, b, &rb, 1);
  for (int p = 0; p < 3; p++) CHECK_CLOSE(rb.M[p], ra.M[p], 1e-12, 1e-12);
  for (size_t i = 0; i < n; i++)
    for (int p = 0; p < 3; p++) {
      CHECK_CLOSE(rb.mu[i][p], ra.mu[perm[i]][p], 1e-12, 1e-12);
      for (int q = 0; q < 3; q++)
        CHECK_CLOSE(rb.Z[i][p * 3 + q], ra.Z[perm[i]][p * 3 + q], 1e-11, 1e-12);
    }
  result_free(&ra);
  result_free(&rb);
  kiln_atoms_free(a);
  kiln_atoms_free(b);
  kiln_dipole_model_free(&mdl);
}

static void check_born_fd(int zeta) {
  kiln_dipole_model mdl = {0};
  make_model(&mdl, zeta, 10, 11);
  kiln_atoms *a = make_atoms(3, 0.35);
  result r0;
  evaluate(&mdl, a, &r0, 1);
  const double h = 1e-5;
  double zmax = 0, dmax = 0;
  for (size_t j = 0; j < a->n; j++)
    for (int b = 0; b < 3; b++) {
      double x0 = a->x[j][b];
      result rp, rm;
      a->x[j][b] = x0 + h;
      evaluate(&mdl, a, &rp, 0);
      a->x[j][b] = x0 - h;
      evaluate(&mdl, a, &rm, 0);
      a->x[j][b] = x0;
      for (int p = 0; p < 3; p++) {
        double fd = (rp.M[p] - rm.M[p]) / (2 * h);
        zmax = fmax(zmax, fabs(r0.Z[j][p * 3 + b]));
        dmax = fmax(dmax, fabs(fd - r0.Z[j][p * 3 + b]));
        CHECK_CLOSE(r0.Z[j][p * 3 + b], fd, 1e-6, 1e-7);
      }
      result_free(&rp);
      result_free(&rm);
    }
  CHECK(zmax > 1e-2);
  /* acoustic sum rule: translating all atoms leaves M unchanged */
  for (int k = 0; k < 9; k++) {
    double s = 0;
    for (size_t j = 0; j < a->n; j++) s += r0.Z[j][k];
    CHECK_CLOSE(s, 0.0, 0, 1e-11 * (1 + zmax));
  }
  printf("  zeta %d: max |Z*| %.4g e, max |Z* - FD| %.3g e\n", zeta, zmax, dmax);
  result_free(&r0);
  kiln_atoms_free(a);
  kiln_dipole_model_free(&mdl);
}

TEST(test_born_fd_linear) { check_born_fd(1); }
TEST(test_born_fd_zeta4) { check_born_fd(4); }

/* rows (3 x 3m) . a reproduces M; Kmm is symmetric, and its block (s,t) equals the
 * model's K(i,s) when atom i is sparse environment t */
TEST(test_rows_kmm) {
  kiln_error err;
  kiln_dipole_model mdl = {0};
  make_model(&mdl, 3, 9, 13);
  kiln_atoms *a = make_atoms(4, 0.3);
  size_t n = a->n, m = mdl.m;
  double *XV = malloc(n * 3 * NV * sizeof *XV), *XS = malloc(n * NS * sizeof *XS);
  double *rows = malloc(9 * m * sizeof *rows), *K = malloc(9 * m * m * sizeof *K);
  test_features(a, XV, XS, NULL, NULL);
  int32_t *el = elements(a);
  result r;
  evaluate(&mdl, a, &r, 0);
  CHECK_OK(kiln_dipole_rows(&mdl, n, el, XV, XS, rows, &err));
  for (int p = 0; p < 3; p++) {
    double s = 0;
    for (size_t k = 0; k < 3 * m; k++) s += rows[(size_t)p * 3 * m + k] * mdl.a[k];
    CHECK_CLOSE(s, r.M[p], 1e-12, 1e-12);
  }
  CHECK_OK(kiln_dipole_kmm(&mdl, K, &err));
  for (size_t p = 0; p < 3 * m; p++)
    for (size_t q = 0; q < 3 * m; q++) CHECK_CLOSE(K[p * 3 * m + q], K[q * 3 * m + p], 1e-14, 1e-14);
  /* a one-atom "structure" made of sparse environment t: its rows are row block t of Kmm */
  for (size_t t = 0; t < m; t++) {
    double one[3 * m];
    CHECK_OK(kiln_dipole_rows(&mdl, 1, mdl.el + t, mdl.V + t * 3 * NV, mdl.S + t * NS, rows, &err));
    (void)one;
    for (int p = 0; p < 3; p++)
      for (size_t q = 0; q < 3 * m; q++)
        CHECK_CLOSE(rows[(size_t)p * 3 * m + q], K[(3 * t + (size_t)p) * 3 * m + q], 1e-12, 1e-12);
  }
  result_free(&r);
  free(el);
  free(XV);
  free(XS);
  free(rows);
  free(K);
  kiln_atoms_free(a);
  kiln_dipole_model_free(&mdl);
}

/* training set: nst rattled structures, rows A (3 nst x 3m) and the model's own M */
static void training_set(const kiln_dipole_model *mdl, int nst, unsigned seed0, double *A,
                         double *y) {
  kiln_error err;
  size_t m = mdl->m;
  for (int k = 0; k < nst; k++) {
    kiln_atoms *a = make_atoms(seed0 + (unsigned)k, 0.4);
    size_t n = a->n;
    double *XV = malloc(n * 3 * NV * sizeof *XV), *XS = malloc(n * NS * sizeof *XS);
    test_features(a, XV, XS, NULL, NULL);
    int32_t *el = elements(a);
    CHECK_OK(kiln_dipole_rows(mdl, n, el, XV, XS, A + (size_t)k * 9 * m, &err));
    result r;
    evaluate(mdl, a, &r, 0);
    for (int p = 0; p < 3; p++) y[3 * k + p] = r.M[p];
    result_free(&r);
    free(el);
    free(XV);
    free(XS);
    kiln_atoms_free(a);
  }
}

TEST(test_refit_recovers) {
  kiln_error err;
  for (int zeta = 1; zeta <= 2; zeta++) {
    kiln_dipole_model mdl = {0};
    make_model(&mdl, zeta, 6, 17);
    size_t m = mdl.m;
    /* zeta = 1 is linear in V_i: at most NV independent weights per element (the model
     * only depends on b_s = V_s^T a_s summed per element), so compare predictions */
    int nst = 12;
    double *A = malloc((size_t)nst * 9 * m * sizeof *A), *y = malloc((size_t)nst * 3 * sizeof *y);
    training_set(&mdl, nst, 100, A, y);
    double *Kmm = malloc(9 * m * m * sizeof *Kmm), x[3 * 16], a0[3 * 16];
    memcpy(a0, mdl.a, 3 * m * sizeof *a0);
    CHECK_OK(kiln_dipole_kmm(&mdl, Kmm, &err));
    CHECK_OK(kiln_dipole_solve((size_t)nst * 3, 3 * m, A, y, Kmm, 1e-12, 0, x, &err));
    kiln_dipole_model fit = {0};
    CHECK_OK(kiln_dipole_model_set(&fit, NV, NS, zeta, m, mdl.el, mdl.V, mdl.S, x, &err));
    /* predictions on held-out structures */
    double dmax = 0, ymax = 0;
    for (unsigned k = 0; k < 4; k++) {
      kiln_atoms *a = make_atoms(500 + k, 0.4);
      result r0, r1;
      evaluate(&mdl, a, &r0, 1);
      evaluate(&fit, a, &r1, 1);
      for (int p = 0; p < 3; p++) {
        CHECK_CLOSE(r1.M[p], r0.M[p], 1e-8, 1e-8);
        dmax = fmax(dmax, fabs(r1.M[p] - r0.M[p]));
        ymax = fmax(ymax, fabs(r0.M[p]));
      }
      for (size_t i = 0; i < a->n; i++)
        for (int q = 0; q < 9; q++) CHECK_CLOSE(r1.Z[i][q], r0.Z[i][q], 1e-7, 1e-8);
      result_free(&r0);
      result_free(&r1);
      kiln_atoms_free(a);
    }
    if (zeta > 1) /* nonlinear kernel, full-rank rows: the weights themselves (to the
                     conditioning of the normal equations) */
      for (size_t k = 0; k < 3 * m; k++) CHECK_CLOSE(x[k], a0[k], 1e-5, 1e-6);
    printf("  zeta %d: held-out |M| up to %.3g e·Å, refit differs by %.2g\n", zeta, ymax, dmax);
    kiln_dipole_model_free(&fit);
    kiln_dipole_model_free(&mdl);
    free(A);
    free(y);
    free(Kmm);
  }
}

/* more unknowns than data: the sparse GP interpolates its training dipoles as sigma -> 0,
 * and the residual grows with sigma; ridge (R = NULL) behaves the same way */
TEST(test_interpolation_limit) {
  kiln_error err;
  kiln_dipole_model mdl = {0};
  make_model(&mdl, 3, 16, 19);
  size_t m = mdl.m;
  int nst = 4; /* 12 rows, 48 unknowns */
  double *A = malloc((size_t)nst * 9 * m * sizeof *A), y[12], x[48];
  training_set(&mdl, nst, 200, A, y);
  for (int k = 0; k < 3 * nst; k++) y[k] += 0.05 * sin(1.0 + k); /* not the model's own */
  double *Kmm = malloc(9 * m * m * sizeof *Kmm);
  CHECK_OK(kiln_dipole_kmm(&mdl, Kmm, &err));
  double prev = -1;
  const double sig[3] = {1e-7, 1e-2, 1.0};
  for (int t = 0; t < 3; t++) {
    CHECK_OK(kiln_dipole_solve((size_t)nst * 3, 3 * m, A, y, Kmm, sig[t] * sig[t], 1e-10, x, &err));
    double res = 0, ymax = 0;
    for (int k = 0; k < 3 * nst; k++) {
      double p = 0;
      for (size_t q = 0; q < 3 * m; q++) p += A[(size_t)k * 3 * m + q] * x[q];
      res = fmax(res, fabs(p - y[k]));
      ymax = fmax(ymax, fabs(y[k]));
    }
    if (t == 0) CHECK(res < 1e-8 * (1 + ymax));
    CHECK(res > prev);
    prev = res;
    printf("  sigma %g: max training residual %.3g e·Å (|M| up to %.3g)\n", sig[t], res, ymax);
  }
  CHECK_OK(kiln_dipole_solve((size_t)nst * 3, 3 * m, A, y, NULL, 1e-14, 0, x, &err));
  for (int k = 0; k < 3 * nst; k++) {
    double p = 0;
    for (size_t q = 0; q < 3 * m; q++) p += A[(size_t)k * 3 * m + q] * x[q];
    CHECK_CLOSE(p, y[k], 1e-8, 1e-8);
  }
  free(A);
  free(Kmm);
  kiln_dipole_model_free(&mdl);
}

TEST(test_errors) {
  kiln_error err;
  kiln_dipole_model mdl = {0};
  double V[3 * NV] = {0}, M[3];
  int32_t el = 0;
  CHECK_ERR(kiln_dipole_eval(&mdl, 1, &el, V, NULL, NULL, NULL, NULL, M, NULL, &err),
            KILN_ESTATE, "no sparse environments");
  CHECK_ERR(kiln_dipole_model_set(&mdl, NV, 0, 0, 1, &el, V, NULL, NULL, &err), KILN_EINVAL,
            "zeta must be an integer");
  double S[NS] = {0};
  CHECK_ERR(kiln_dipole_model_set(&mdl, NV, NS, 2, 1, &el, V, S, NULL, &err), KILN_EINVAL,
            "zero or non-finite scalar");
  CHECK_OK(kiln_dipole_model_set(&mdl, NV, 0, 1, 1, &el, V, NULL, NULL, &err));
  double Z[9];
  CHECK_ERR(kiln_dipole_eval(&mdl, 1, &el, V, NULL, NULL, NULL, NULL, M, (double(*)[9])Z, &err),
            KILN_EINVAL, "Born charges need the vector descriptor gradient");
  double bad[3] = {NAN, 0, 0};
  CHECK_ERR(kiln_dipole_model_set_weights(&mdl, bad, &err), KILN_EINVAL, "not finite");
  kiln_dipole *d = NULL;
  CHECK_ERR(kiln_dipole_new(&d, "nonesuch", NULL, NULL, NULL, 1, &err), KILN_EINVAL,
            "unknown descriptor style 'nonesuch'");
  CHECK(d == NULL);
  kiln_dipole_model_free(&mdl);
}

int main(void) {
  RUN(test_equivariance_linear);
  RUN(test_equivariance_zeta3);
  RUN(test_permutation);
  RUN(test_born_fd_linear);
  RUN(test_born_fd_zeta4);
  RUN(test_rows_kmm);
  RUN(test_refit_recovers);
  RUN(test_interpolation_limit);
  RUN(test_errors);
  return check_summary();
}
