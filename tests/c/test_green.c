/* tests/c/test_green.c: the green correlator (Kong's method) on an fcc crystal with
 * nearest-neighbour harmonic springs, whose dynamical matrix is known in closed form:
 *   D_ab(q) = (k/m) sum_NN (1 - cos q.R) Rhat_a Rhat_b.
 * Frames are classical thermal samples of that crystal generated here (independent of the
 * style: normal-mode amplitudes drawn in q space, or from the full real-space force-constant
 * matrix), and the recovered frequencies are compared with the analytic ones. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kiln/kiln.h"
#include "kiln/corr.h"
#include "kiln/linalg.h"

static const double PI = 3.14159265358979323846;
static const double ALAT = 4.0;   /* Å, conventional fcc */
static const double KSPR = 1.0;   /* eV/Å² */
static const double TEMP = 20.0;  /* K */

/* the 12 nearest-neighbour vectors of fcc */
static void nn_vectors(double R[12][3]) {
  int n = 0;
  for (int i = 0; i < 3; i++)
    for (int j = i + 1; j < 3; j++)
      for (int si = -1; si <= 1; si += 2)
        for (int sj = -1; sj <= 1; sj += 2) {
          R[n][0] = R[n][1] = R[n][2] = 0;
          R[n][i] = si * ALAT / 2;
          R[n][j] = sj * ALAT / 2;
          n++;
        }
}

/* analytic D(q) (eV/(Å² amu)), 3x3 row-major */
static void dynmat(const double q[3], double m, double D[9]) {
  double R[12][3];
  nn_vectors(R);
  memset(D, 0, 9 * sizeof *D);
  for (int n = 0; n < 12; n++) {
    double qr = q[0] * R[n][0] + q[1] * R[n][1] + q[2] * R[n][2];
    double r2 = R[n][0] * R[n][0] + R[n][1] * R[n][1] + R[n][2] * R[n][2];
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) D[3 * a + b] += KSPR / m * (1 - cos(qr)) * R[n][a] * R[n][b] / r2;
  }
}

static double thz(double lam) {
  double w = sqrt(fabs(lam) / KILN_MVV2E) / (2 * PI * 1e-3);
  return lam < 0 ? -w : w;
}

static void analytic_freq(const double q[3], double m, double f[3]) {
  kiln_error err;
  double D[9], w[3];
  dynmat(q, m, D);
  kiln_linalg_dsyev(3, D, w, NULL, &err);
  for (int i = 0; i < 3; i++) f[i] = thz(w[i]);
}

static kiln_opts *green_opts(const double A[3][3], const double (*tau)[3], size_t nb,
                             const int sc[3], const double (*path)[3], size_t npath) {
  kiln_error err;
  kiln_opts *o, *uc, *t, *r;
  kiln_opts_new(&o, &err);
  kiln_opts_add_table(o, "unitcell", NULL, &err);
  uc = kiln_opts_get(o, "unitcell");
  kiln_opts_add_table(uc, "cell", NULL, &err);
  t = kiln_opts_get(uc, "cell");
  for (int i = 0; i < 3; i++) {
    kiln_opts_add_table(t, NULL, &r, &err);
    for (int k = 0; k < 3; k++) kiln_opts_add_num(r, NULL, A[i][k], &err);
  }
  kiln_opts_add_table(uc, "positions", NULL, &err);
  uc = kiln_opts_get(o, "unitcell");
  t = kiln_opts_get(uc, "positions");
  for (size_t i = 0; i < nb; i++) {
    kiln_opts_add_table(t, NULL, &r, &err);
    for (int k = 0; k < 3; k++) kiln_opts_add_num(r, NULL, tau[i][k], &err);
  }
  kiln_opts_add_table(o, "supercell", &t, &err);
  for (int i = 0; i < 3; i++) kiln_opts_add_num(t, NULL, sc[i], &err);
  kiln_opts_add_num(o, "T", TEMP, &err);
  if (npath) {
    kiln_opts_add_table(o, "path", NULL, &err);
    t = kiln_opts_get(o, "path");
    for (size_t i = 0; i < npath; i++) {
      kiln_opts_add_table(t, NULL, &r, &err);
      for (int k = 0; k < 3; k++) kiln_opts_add_num(r, NULL, path[i][k], &err);
    }
  }
  return o;
}

static void prim_cell(double A[3][3]) {
  const double h = ALAT / 2;
  double P[3][3] = {{0, h, h}, {h, 0, h}, {h, h, 0}};
  memcpy(A, P, sizeof P);
}

static void recip(const double A[3][3], double B[3][3]) {
  kiln_error err;
  double inv[3][3];
  kiln_cell_inverse(A, inv, &err);
  for (int i = 0; i < 3; i++)
    for (int x = 0; x < 3; x++) B[i][x] = 2 * PI * inv[x][i];
}

/* Primitive fcc cell, 4x4x4 supercell (64 atoms), frames sampled in q space:
 * W(q) = sqrt(kT) D(q)^-1/2 Xi(q) with complex Gaussian Xi (Hermitian pairs q, -q), then
 * u(R) = Nc^-1/2 sum_q W(q) exp(i q.R) / sqrt(m). Atoms are shuffled, shifted and wrapped. */
TEST(test_green_fcc_primitive) {
  kiln_error err;
  enum { N1 = 4, NC = N1 * N1 * N1, NFRAMES = 30000 };
  const int sc[3] = {N1, N1, N1};
  double A[3][3], B[3][3];
  prim_cell(A);
  recip(A, B);
  const double m = kiln_element_mass(18); /* Ar */
  const double kT = KILN_KB * TEMP;
  /* q grid, per-q transform matrices M(q) = sqrt(kT) D^-1/2 / sqrt(m) */
  static double qv[NC][3], M[NC][9];
  int Rl[NC][3], partner[NC];
  for (int i = 0; i < NC; i++) {
    int mi[3] = {i / (N1 * N1), i / N1 % N1, i % N1};
    for (int x = 0; x < 3; x++) {
      Rl[i][x] = mi[x];
      qv[i][x] = (mi[0] * B[0][x] + mi[1] * B[1][x] + mi[2] * B[2][x]) / N1;
    }
    int mj[3] = {(N1 - mi[0]) % N1, (N1 - mi[1]) % N1, (N1 - mi[2]) % N1};
    partner[i] = (mj[0] * N1 + mj[1]) * N1 + mj[2];
    double D[9], w[3], v[9];
    dynmat(qv[i], m, D);
    kiln_linalg_dsyev(3, D, w, v, &err);
    memset(M[i], 0, sizeof M[i]);
    if (i == 0) continue; /* Gamma: no centre-of-mass motion */
    for (int s = 0; s < 3; s++)
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
          M[i][3 * a + b] += sqrt(kT / w[s]) * v[3 * a + s] * v[3 * b + s] / sqrt(m);
  }
  /* atoms */
  kiln_atoms *a;
  CHECK_OK(kiln_atoms_new(&a, NC, &err));
  double cell[3][3];
  for (int i = 0; i < 3; i++)
    for (int x = 0; x < 3; x++) cell[i][x] = N1 * A[i][x];
  CHECK_OK(kiln_atoms_set_cell(a, cell, 0, &err));
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  for (size_t j = 0; j < NC; j++) CHECK_OK(kiln_atoms_set_symbol(a, j, "Ar", &err));
  int perm[NC];
  kiln_rng rng;
  kiln_rng_seed(&rng, 2024, 1);
  for (int i = 0; i < NC; i++) perm[i] = i;
  for (int i = NC - 1; i > 0; i--) {
    int j = (int)(kiln_rng_uniform(&rng) * (i + 1));
    int t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  /* path: off-grid q along Gamma-X and Gamma-L, plus one grid point (index 5) */
  double path[6][3] = {{0.1, 0, 0}, {0.5, 0, 0}, {1.1, 0, 0}, {0.3, 0.3, 0.3}, {0.7, 0.7, 0.7}};
  memcpy(path[5], qv[5], sizeof path[5]);
  kiln_opts *o = green_opts(A, (const double(*)[3]) & (double[1][3]){{0.3, 0.1, -0.2}}[0], 1, sc,
                            (const double(*)[3])path, 6);
  kiln_corr *c = NULL;
  CHECK_OK(kiln_corr_new(&c, "green", o, &err));
  kiln_opts_free(o);
  if (!c) return;
  static double W[NC][3][2], u[NC][3];
  for (int f = 0; f < NFRAMES; f++) {
    /* Xi(q): complex Gaussian with <Xi Xi^+> = 1, Xi(-q) = conj Xi(q) */
    for (int q = 0; q < NC; q++) {
      int p = partner[q];
      if (p < q) continue;
      double xr[3], xi[3];
      for (int x = 0; x < 3; x++) {
        if (p == q) {
          xr[x] = kiln_rng_normal(&rng);
          xi[x] = 0;
        } else {
          xr[x] = kiln_rng_normal(&rng) / sqrt(2.0);
          xi[x] = kiln_rng_normal(&rng) / sqrt(2.0);
        }
      }
      for (int x = 0; x < 3; x++) {
        double re = 0, im = 0;
        for (int y = 0; y < 3; y++) {
          re += M[q][3 * x + y] * xr[y];
          im += M[q][3 * x + y] * xi[y];
        }
        W[q][x][0] = re;
        W[q][x][1] = im;
        W[p][x][0] = re;
        W[p][x][1] = -im;
      }
    }
    /* u(R) = Nc^-1/2 sum_q W(q) exp(i q.R), one axis at a time (real part kept at the end) */
    for (int ax = 0; ax < 3; ax++) {
      static double T2[NC][3][2];
      const int st = ax == 0 ? N1 * N1 : ax == 1 ? N1 : 1;
      for (int i = 0; i < NC; i++) {
        int mi = (i / st) % N1, base = i - mi * st;
        for (int x = 0; x < 3; x++) {
          double re = 0, im = 0;
          for (int k = 0; k < N1; k++) {
            const double *wq = W[base + k * st][x];
            double c1 = cos(2 * PI * k * mi / N1), s1 = sin(2 * PI * k * mi / N1);
            re += wq[0] * c1 - wq[1] * s1;
            im += wq[0] * s1 + wq[1] * c1;
          }
          T2[i][x][0] = re;
          T2[i][x][1] = im;
        }
      }
      memcpy(W, T2, sizeof T2);
    }
    for (int r = 0; r < NC; r++)
      for (int x = 0; x < 3; x++) u[r][x] = W[r][x][0] / sqrt((double)NC);
    for (int r = 0; r < NC; r++) {
      int j = perm[r];
      for (int x = 0; x < 3; x++)
        a->x[j][x] = 0.3 * (x == 0) + 0.1 * (x == 1) - 0.2 * (x == 2) /* basis offset */
                     + Rl[r][0] * A[0][x] + Rl[r][1] * A[1][x] + Rl[r][2] * A[2][x] + u[r][x]
                     + 0.05; /* a static shift of the whole crystal */
    }
    kiln_atoms_wrap(a, &err);
    CHECK_OK(kiln_corr_add_frame(c, a, 10.0 * f, &err));
  }
  kiln_result *res = NULL;
  CHECK_OK(kiln_corr_result(c, &res, &err));
  if (res) {
    const kiln_result_item *fg = kiln_result_get(res, "freq_grid");
    const kiln_result_item *qg = kiln_result_get(res, "qgrid");
    const kiln_result_item *fp = kiln_result_get(res, "freq_path");
    const kiln_result_item *fc = kiln_result_get(res, "force_constants");
    CHECK(fg && qg && fp && fc);
    if (fg && qg && fp && fc) {
      CHECK(fg->a->rows == NC && fg->a->cols == 3 && fc->a->rows == 3 * NC);
      CHECK(strcmp(fg->unit, "THz") == 0);
      double maxdev = 0, sumratio = 0;
      int nratio = 0;
      for (int q = 0; q < NC; q++) {
        for (int x = 0; x < 3; x++) CHECK_CLOSE(qg->a->data[3 * q + x], qv[q][x], 1e-12, 1e-12);
        double fa[3];
        analytic_freq(qv[q], m, fa);
        for (int s = 0; s < 3; s++) {
          double fe = fg->a->data[3 * q + s];
          if (q == 0) {
            CHECK(fabs(fe) < 1e-6);
            continue;
          }
          double dev = fabs(fe / fa[s] - 1);
          if (dev > maxdev) maxdev = dev;
          sumratio += fe / fa[s];
          nratio++;
        }
      }
      printf("  green fcc 4x4x4, %d samples: max |freq/analytic - 1| = %.3f%%, mean ratio - 1 "
             "= %.4f%%\n", NFRAMES, 100 * maxdev, 100 * (sumratio / nratio - 1));
      CHECK(maxdev < 0.01);
      CHECK(fabs(sumratio / nratio - 1) < 0.002);
      /* path: off grid (interpolated) vs analytic; the grid point reproduces freq_grid */
      double pmax = 0;
      double fmx = 0;
      for (int i = 0; i < 3 * NC; i++) fmx = fmax(fmx, fg->a->data[i]);
      for (int i = 0; i < 5; i++) {
        double fa[3];
        analytic_freq(path[i], m, fa);
        for (int s = 0; s < 3; s++) {
          pmax = fmax(pmax, fabs(fp->a->data[3 * i + s] - fa[s]) / fmx);
        }
      }
      printf("  green fcc path off the grid (Fourier interpolation): max deviation %.3f%% of "
             "the top frequency %.3f THz\n", 100 * pmax, fmx);
      CHECK(pmax < 0.01);
      for (int s = 0; s < 3; s++) CHECK_CLOSE(fp->a->data[15 + s], fg->a->data[15 + s], 1e-9, 0);
      /* force constants: Phi(0, R) for R = a NN vector = -k Rhat Rhat^T; on-site = 12 k/2 ... */
      const kiln_result_item *cl = kiln_result_get(res, "cells");
      double nnmax = 0, far = 0;
      double R12[12][3];
      nn_vectors(R12);
      for (int r = 0; r < NC; r++) {
        double Rc[3];
        for (int x = 0; x < 3; x++)
          Rc[x] = cl->a->data[3 * r] * A[0][x] + cl->a->data[3 * r + 1] * A[1][x] +
                  cl->a->data[3 * r + 2] * A[2][x];
        int isnn = -1;
        for (int n = 0; n < 12; n++)
          if (fabs(Rc[0] - R12[n][0]) + fabs(Rc[1] - R12[n][1]) + fabs(Rc[2] - R12[n][2]) < 1e-9)
            isnn = n;
        for (int x = 0; x < 3; x++)
          for (int y = 0; y < 3; y++) {
            double v = fc->a->data[(3 * r + x) * 3 + y], ref = 0;
            if (isnn >= 0) ref = -KSPR * Rc[x] * Rc[y] / (ALAT * ALAT / 2);
            else if (r == 0) ref = (x == y) ? 4 * KSPR : 0; /* sum over NN of Rhat Rhat = 4 I */
            if (isnn >= 0 || r == 0) nnmax = fmax(nnmax, fabs(v - ref));
            else far = fmax(far, fabs(v));
          }
      }
      printf("  force constants: max |Phi - exact| = %.4f eV/Å² on-site and NN, max |Phi| "
             "beyond = %.4f eV/Å² (k = %g)\n", nnmax, far, KSPR);
      CHECK(nnmax < 0.02 * KSPR);
      CHECK(far < 0.02 * KSPR);
    }
    const kiln_result_item *T = kiln_result_get(res, "T");
    CHECK(T && T->a->data[0] == TEMP);
    kiln_result_free(res);
  }
  /* the C dispersion call equals freq_path */
  double fq[3];
  CHECK_OK(kiln_corr_green_dispersion(c, (const double(*)[3])path[2], 1, fq, &err));
  double fa[3];
  analytic_freq(path[2], m, fa);
  for (int s = 0; s < 3; s++) CHECK_CLOSE(fq[s], fa[s], 0.02, 0);
  kiln_corr_free(c);
  kiln_atoms_free(a);
}

/* Conventional cubic cell with a 4-atom basis, 2x2x2 (32 atoms); frames sampled from the
 * full real-space force-constant matrix (springs between minimum-image neighbours). The
 * 8 x 12 grid frequencies must be the 96 eigenfrequencies of that matrix. */
TEST(test_green_fcc_basis) {
  kiln_error err;
  enum { NA = 32, ND = 3 * NA, NFRAMES = 40000 };
  kiln_atoms *u0, *a;
  CHECK_OK(kiln_crystal_fcc(&u0, "Cu", ALAT, &err));
  CHECK_OK(kiln_atoms_supercell(&a, u0, 2, 2, 2, &err));
  const double m = a->mass[0];
  double inv[3][3];
  kiln_cell_inverse(a->cell, inv, &err);
  static double K[ND * ND], w[ND], v[ND * ND], x0[NA][3];
  memcpy(x0, a->x, sizeof x0);
  memset(K, 0, sizeof K);
  const double dnn = ALAT / sqrt(2.0);
  for (int i = 0; i < NA; i++)
    for (int j = 0; j < NA; j++) {
      if (i == j) continue;
      double d[3], s[3];
      for (int x = 0; x < 3; x++) d[x] = x0[j][x] - x0[i][x];
      for (int x = 0; x < 3; x++) s[x] = d[0] * inv[0][x] + d[1] * inv[1][x] + d[2] * inv[2][x];
      /* all images within the NN distance (the 2x2x2 cube of 8 Å has each NN once) */
      for (int x = 0; x < 3; x++) s[x] -= nearbyint(s[x]);
      for (int x = 0; x < 3; x++)
        d[x] = s[0] * a->cell[0][x] + s[1] * a->cell[1][x] + s[2] * a->cell[2][x];
      double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
      if (fabs(r - dnn) > 1e-6) continue;
      for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) {
          double kk = KSPR * d[x] * d[y] / (r * r) / m;
          K[(3 * i + x) * ND + 3 * j + y] -= kk;
          K[(3 * i + x) * ND + 3 * i + y] += kk;
        }
    }
  CHECK_OK(kiln_linalg_dsyev(ND, K, w, v, &err));
  double fref[ND];
  for (int s = 0; s < ND; s++) fref[s] = s < 3 ? 0 : thz(w[s]);
  double A[3][3], tau[4][3];
  for (int i = 0; i < 3; i++)
    for (int x = 0; x < 3; x++) A[i][x] = u0->cell[i][x];
  memcpy(tau, u0->x, sizeof tau);
  kiln_opts *o = green_opts(A, (const double(*)[3])tau, 4, (const int[3]){2, 2, 2}, NULL, 0);
  kiln_corr *c = NULL;
  CHECK_OK(kiln_corr_new(&c, "green", o, &err));
  kiln_opts_free(o);
  kiln_rng rng;
  kiln_rng_seed(&rng, 7, 3);
  const double kT = KILN_KB * TEMP;
  for (int f = 0; c && f < 2; f++) {
    for (int i = 0; i < NA; i++) a->x[i][0] = x0[i][0] + 0.01 * f;
    CHECK_OK(kiln_corr_add_frame(c, a, NAN, &err));
  }
  /* frames without time: green needs no frame spacing (it averages over frames) */
  kiln_result *res = NULL;
  if (c) {
    CHECK_OK(kiln_corr_result(c, &res, &err));
    kiln_result_free(res);
    res = NULL;
  }
  kiln_corr_free(c);
  o = green_opts(A, (const double(*)[3])tau, 4, (const int[3]){2, 2, 2}, NULL, 0);
  kiln_opts_add_num(o, "dt", 5.0, &err);
  CHECK_OK(kiln_corr_new(&c, "green", o, &err));
  kiln_opts_free(o);
  kiln_rng_seed(&rng, 7, 3);
  for (int f = 0; c && f < NFRAMES; f++) {
    double g[ND];
    for (int s = 3; s < ND; s++) g[s] = kiln_rng_normal(&rng) * sqrt(kT / w[s]);
    for (int i = 0; i < ND; i++) {
      double uu = 0;
      for (int s = 3; s < ND; s++) uu += v[i * ND + s] * g[s];
      a->x[i / 3][i % 3] = x0[i / 3][i % 3] + uu / sqrt(m);
    }
    kiln_atoms_wrap(a, &err);
    CHECK_OK(kiln_corr_add_frame(c, a, NAN, &err));
  }
  if (c) CHECK_OK(kiln_corr_result(c, &res, &err));
  if (res) {
    const kiln_result_item *fg = kiln_result_get(res, "freq_grid");
    CHECK(fg && fg->a->rows == 8 && fg->a->cols == 12);
    if (fg) {
      double f[ND];
      memcpy(f, fg->a->data, sizeof f);
      for (int i = 1; i < ND; i++) /* sort */
        for (int j = i; j > 0 && f[j] < f[j - 1]; j--) {
          double t = f[j];
          f[j] = f[j - 1];
          f[j - 1] = t;
        }
      double maxdev = 0;
      for (int s = 0; s < ND; s++) {
        if (s < 3) CHECK(fabs(f[s]) < 1e-6);
        else maxdev = fmax(maxdev, fabs(f[s] / fref[s] - 1));
      }
      printf("  green fcc conventional cell (4-atom basis) 2x2x2, %d samples: max deviation "
             "%.3f%%\n", NFRAMES, 100 * maxdev);
      CHECK(maxdev < 0.02);
    }
    kiln_result_free(res);
  }
  kiln_corr_free(c);
  kiln_atoms_free(a);
  kiln_atoms_free(u0);
}

/* Errors: wrong cell, missing options. */
TEST(test_green_errors) {
  kiln_error err;
  kiln_corr *c = NULL;
  CHECK_ERR(kiln_corr_new(&c, "green", NULL, &err), KILN_EINVAL, "unitcell");
  double A[3][3];
  prim_cell(A);
  kiln_opts *o = green_opts(A, (const double(*)[3]) & (double[1][3]){{0, 0, 0}}[0], 1,
                            (const int[3]){3, 3, 3}, NULL, 0);
  CHECK_OK(kiln_corr_new(&c, "green", o, &err));
  kiln_opts_free(o);
  kiln_atoms *u0, *a;
  CHECK_OK(kiln_crystal_fcc(&u0, "Cu", ALAT, &err));
  CHECK_OK(kiln_atoms_supercell(&a, u0, 2, 2, 2, &err));
  if (c) CHECK_ERR(kiln_corr_add_frame(c, a, 0, &err), KILN_EINVAL, "sites");
  kiln_corr_free(c);
  kiln_atoms_free(a);
  kiln_atoms_free(u0);
}

int main(void) {
  RUN(test_green_fcc_primitive);
  RUN(test_green_fcc_basis);
  RUN(test_green_errors);
  return check_summary();
}
