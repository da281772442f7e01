/* tests/c/test_corr_dipole.c: the dipole correlator (autocorrelation and chi(omega) against
 * direct sums, the static limit, a chi'' peak at the drive frequency, the charges route across
 * the periodic boundary) and the spatial correlator (independent vectors, perfectly correlated
 * components, a shifted copy against a brute-force double sum, displacements). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kiln/kiln.h"
#include "kiln/corr.h"

#define EPS0 5.526349406e-3

static const double *item(const kiln_result *r, const char *name, size_t rows, size_t cols) {
  const kiln_result_item *it = kiln_result_get(r, name);
  CHECK(it != NULL);
  if (!it) return NULL;
  CHECK(it->a->rows == rows && it->a->cols == cols);
  return it->a->data;
}

static kiln_corr *dipole_new(long window, const char *wfun, double T, double V) {
  kiln_error err;
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "window", (double)window, &err);
  kiln_opts_add_str(o, "window_function", wfun, &err);
  kiln_opts_add_num(o, "T", T, &err);
  if (V > 0) kiln_opts_add_num(o, "volume", V, &err);
  kiln_corr *c = NULL;
  CHECK_OK(kiln_corr_new(&c, "dipole", o, &err));
  kiln_opts_free(o);
  return c;
}

/* macf, chi', chi'' and the static value against direct sums over a short series. */
TEST(test_dipole_direct) {
  kiln_error err;
  enum { T = 300, W = 50 };
  const double dt = 2.0, Temp = 300, V = 1000;
  static double M[T][3];
  kiln_rng rng;
  kiln_rng_seed(&rng, 3, 0);
  for (int t = 0; t < T; t++)
    for (int x = 0; x < 3; x++)
      M[t][x] = 0.3 * x + 0.5 * cos(0.07 * t * dt + x) + 0.2 * kiln_rng_normal(&rng);
  kiln_atoms *a;
  CHECK_OK(kiln_atoms_new(&a, 1, &err));
  kiln_corr *c = dipole_new(W, "none", Temp, V);
  for (int t = 0; c && t < T; t++) {
    CHECK_OK(kiln_atoms_info_set(a, "dipole", KILN_VAL_REAL, 3, M[t], &err));
    CHECK_OK(kiln_corr_add_frame(c, a, t * dt, &err));
  }
  kiln_result *r = NULL;
  if (c) CHECK_OK(kiln_corr_result(c, &r, &err));
  if (r) {
    const double *C = item(r, "macf", W, 1), *chr = item(r, "chi_real", W, 1),
                 *chi = item(r, "chi_imag", W, 1), *om = item(r, "omega", W, 1),
                 *es = item(r, "eps_static", 1, 1);
    double mean[3] = {0, 0, 0}, var = 0;
    for (int t = 0; t < T; t++)
      for (int x = 0; x < 3; x++) mean[x] += M[t][x] / T;
    for (int t = 0; t < T; t++)
      for (int x = 0; x < 3; x++) var += (M[t][x] - mean[x]) * (M[t][x] - mean[x]) / T;
    const double pref = 1 / (3 * EPS0 * V * KILN_KB * Temp);
    double Cref[W];
    for (int tau = 0; tau < W; tau++) {
      double s = 0;
      for (int t = 0; t + tau < T; t++)
        s += M[t][0] * M[t + tau][0] + M[t][1] * M[t + tau][1] + M[t][2] * M[t + tau][2];
      Cref[tau] = s / (T - tau) - (mean[0] * mean[0] + mean[1] * mean[1] + mean[2] * mean[2]);
    }
    if (C && chr && chi && om && es) {
      for (int tau = 0; tau < W; tau++) CHECK_CLOSE(C[tau], Cref[tau], 1e-11, 1e-13);
      CHECK_CLOSE(es[0], pref * var, 1e-12, 0);
      CHECK_CLOSE(chr[0], es[0], 1e-11, 0); /* static limit, step 1 */
      CHECK(chi[0] == 0);
      double maxd = 0;
      for (int k = 0; k < W; k++) {
        double w = om[k], ic = 0, is = 0;
        for (int j = 0; j < W; j++) {
          double f = (j == 0 || j == W - 1) ? 0.5 : 1.0;
          ic += f * Cref[j] * cos(w * j * dt) * dt;
          is += f * Cref[j] * sin(w * j * dt) * dt;
        }
        maxd = fmax(maxd, fabs(chi[k] - pref * w * ic));
        maxd = fmax(maxd, fabs(chr[k] - pref * (Cref[0] - w * is)));
      }
      printf("  dipole chi vs direct trapezoid sums: max difference %.2e (chi(0) = %.6f)\n", maxd,
             es[0]);
      CHECK(maxd < 1e-10 * es[0]);
    }
    kiln_result_free(r);
  }
  kiln_corr_free(c);
  kiln_atoms_free(a);
}

/* M(t) = A cos(w0 t) + noise: chi'' peaks at w0; the static limit is exact. */
TEST(test_dipole_peak) {
  kiln_error err;
  enum { T = 20000, W = 1000 };
  const double dt = 1.0, w0 = 0.1, Temp = 100, A = 2.0;
  kiln_atoms *a;
  CHECK_OK(kiln_atoms_new(&a, 1, &err));
  double cell[3][3] = {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}};
  CHECK_OK(kiln_atoms_set_cell(a, cell, 0, &err));
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  kiln_corr *c = dipole_new(W, "gauss", Temp, 0);
  kiln_rng rng;
  kiln_rng_seed(&rng, 11, 0);
  double sum[3] = {0, 0, 0}, sum2 = 0;
  for (int t = 0; c && t < T; t++) {
    double M[3] = {0.1 * kiln_rng_normal(&rng), 0.1 * kiln_rng_normal(&rng),
                   1.0 + A * cos(w0 * t * dt) + 0.1 * kiln_rng_normal(&rng)};
    for (int x = 0; x < 3; x++) sum[x] += M[x];
    sum2 += M[0] * M[0] + M[1] * M[1] + M[2] * M[2];
    CHECK_OK(kiln_atoms_info_set(a, "dipole", KILN_VAL_REAL, 3, M, &err));
    CHECK_OK(kiln_corr_add_frame(c, a, t * dt, &err));
  }
  kiln_result *r = NULL;
  if (c) CHECK_OK(kiln_corr_result(c, &r, &err));
  if (r) {
    const double *chi = item(r, "chi_imag", W, 1), *om = item(r, "omega", W, 1),
                 *es = item(r, "eps_static", 1, 1), *chr = item(r, "chi_real", W, 1),
                 *vol = item(r, "volume", 1, 1);
    if (chi && om && es && chr && vol) {
      int kmax = 0;
      for (int k = 0; k < W; k++)
        if (chi[k] > chi[kmax]) kmax = k;
      printf("  dipole: chi'' peak at %.5f rad/fs (w0 = %.5f, grid step %.5f)\n", om[kmax], w0,
             om[1]);
      CHECK(fabs(om[kmax] - w0) <= om[1]);
      CHECK_CLOSE(vol[0], 1000.0, 1e-12, 0);
      double mean2 = (sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]) / ((double)T * T);
      double var = sum2 / T - mean2;
      CHECK_CLOSE(es[0], var / (3 * EPS0 * 1000.0 * KILN_KB * Temp), 1e-10, 0);
      CHECK_CLOSE(chr[0], es[0], 1e-10, 0);
      /* well above w0: the model C(t) = (A²/2) cos(w0 t) + 0.03 delta(t), with the same
       * Gaussian window and trapezoid sine sum (continuum value -0.026; at the Nyquist
       * frequency every sine sample vanishes, so there chi' = chi(0) again) */
      int k5 = (int)lround(5 * w0 / om[1]);
      double sn = 0;
      for (int j = 1; j < W; j++)
        sn += (j == W - 1 ? 0.5 : 1.0) * exp(-0.5 * pow(j / (W / 3.0), 2)) * A * A / 2 *
              cos(w0 * j * dt) * sin(om[k5] * j * dt) * dt;
      double model = (A * A / 2 + 0.03 - om[k5] * sn) / (A * A / 2 + 0.03);
      printf("  dipole: chi'(5 w0) / chi(0) = %.4f (model %.4f)\n", chr[k5] / es[0], model);
      CHECK(fabs(chr[k5] / es[0] - model) < 0.003);
      CHECK(chr[kmax - 3] > es[0] && chr[kmax + 3] < 0); /* dispersive shape around w0 */
    }
    kiln_result_free(r);
  }
  kiln_corr_free(c);
  kiln_atoms_free(a);
}

/* A rigid +q/-q pair translating across the periodic boundary: M stays q d. */
TEST(test_dipole_charges_pbc) {
  kiln_error err;
  kiln_atoms *a;
  CHECK_OK(kiln_atoms_new(&a, 2, &err));
  double cell[3][3] = {{6, 0, 0}, {1, 7, 0}, {0.5, 0.5, 8}};
  CHECK_OK(kiln_atoms_set_cell(a, cell, 0, &err));
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  CHECK_OK(kiln_atoms_set_symbol(a, 0, "Na", &err));
  CHECK_OK(kiln_atoms_set_symbol(a, 1, "Cl", &err));
  kiln_opts *o, *ch;
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "window", 10, &err);
  kiln_opts_add_num(o, "T", 300, &err);
  kiln_opts_add_table(o, "charges", &ch, &err);
  kiln_opts_add_num(ch, "Na", 0.8, &err);
  kiln_opts_add_num(ch, "Cl", -0.8, &err);
  kiln_corr *c = NULL;
  CHECK_OK(kiln_corr_new(&c, "dipole", o, &err));
  kiln_opts_free(o);
  const double d[3] = {1.2, -0.4, 0.3}, vel[3] = {0.7, 0.9, -1.1};
  for (int t = 0; c && t < 60; t++) {
    for (int x = 0; x < 3; x++) {
      a->x[0][x] = 3.0 + vel[x] * t;
      a->x[1][x] = 3.0 + vel[x] * t - d[x];
    }
    kiln_atoms_wrap(a, &err);
    CHECK_OK(kiln_corr_add_frame(c, a, 5.0 * t, &err));
  }
  kiln_result *r = NULL;
  if (c) CHECK_OK(kiln_corr_result(c, &r, &err));
  if (r) {
    const double *mean = item(r, "dipole_mean", 1, 3), *C = item(r, "macf", 10, 1);
    for (int x = 0; mean && x < 3; x++) CHECK_CLOSE(mean[x], 0.8 * d[x], 1e-9, 1e-12);
    for (int k = 0; C && k < 10; k++) CHECK(fabs(C[k]) < 1e-9);
    kiln_result_free(r);
  }
  kiln_corr_free(c);
  /* a charged system is refused; a frame without info dipole names it */
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "T", 300, &err);
  kiln_opts_add_table(o, "charges", &ch, &err);
  kiln_opts_add_num(ch, "Na", 1, &err);
  kiln_opts_add_num(ch, "Cl", -0.5, &err);
  CHECK_OK(kiln_corr_new(&c, "dipole", o, &err));
  kiln_opts_free(o);
  if (c) CHECK_ERR(kiln_corr_add_frame(c, a, 0, &err), KILN_EINVAL, "sum to 0.5");
  kiln_corr_free(c);
  c = dipole_new(10, "none", 300, 0);
  if (c) CHECK_ERR(kiln_corr_add_frame(c, a, 0, &err), KILN_EINVAL, "dipole");
  kiln_corr_free(c);
  kiln_atoms_free(a);
}

/* ------------------------------------------------------------------ spatial */

static kiln_corr *spatial_new(const char *prop, int n1, int n2, int n3) {
  kiln_error err;
  kiln_opts *o, *t;
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "prop", prop, &err);
  kiln_opts_add_table(o, "supercell", &t, &err);
  kiln_opts_add_num(t, NULL, n1, &err);
  kiln_opts_add_num(t, NULL, n2, &err);
  kiln_opts_add_num(t, NULL, n3, &err);
  kiln_opts_add_num(o, "dt", 1.0, &err);
  kiln_corr *c = NULL;
  CHECK_OK(kiln_corr_new(&c, "spatial", o, &err));
  kiln_opts_free(o);
  return c;
}

/* atoms at random positions inside each cell of an n1 x n2 x n3 grid (npc per cell) */
static kiln_atoms *grid_atoms(const int n[3], int npc, kiln_rng *rng, int *cellof) {
  kiln_error err;
  int nc = n[0] * n[1] * n[2];
  kiln_atoms *a;
  kiln_atoms_new(&a, (size_t)(nc * npc), &err);
  double cell[3][3] = {{3.0 * n[0], 0, 0}, {0.5, 3.5 * n[1], 0}, {0.3, -0.2, 4.0 * n[2]}};
  kiln_atoms_set_cell(a, cell, 0, &err);
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  for (int i = 0; i < nc; i++) {
    int m[3] = {i / (n[1] * n[2]), i / n[2] % n[1], i % n[2]};
    for (int p = 0; p < npc; p++) {
      size_t j = (size_t)(i * npc + p);
      kiln_atoms_set_symbol(a, j, "Ar", &err);
      double f[3];
      for (int k = 0; k < 3; k++) f[k] = (m[k] + 0.05 + 0.9 * kiln_rng_uniform(rng)) / n[k];
      for (int x = 0; x < 3; x++)
        a->x[j][x] = f[0] * cell[0][x] + f[1] * cell[1][x] + f[2] * cell[2][x];
      cellof[j] = i;
    }
  }
  return a;
}

TEST(test_spatial_random_and_correlated) {
  kiln_error err;
  const int n[3] = {4, 4, 4};
  enum { NPC = 2, NC = 64, NA = NC * NPC, NF = 200 };
  kiln_rng rng;
  kiln_rng_seed(&rng, 21, 0);
  int cellof[NA];
  kiln_atoms *a = grid_atoms(n, NPC, &rng, cellof);
  kiln_corr *c1 = spatial_new("f", 4, 4, 4), *c2 = spatial_new("g", 4, 4, 4);
  static double f[NA][3], g[NA][3];
  for (int t = 0; c1 && c2 && t < NF; t++) {
    for (int j = 0; j < NA; j++) {
      double s = kiln_rng_normal(&rng);
      for (int x = 0; x < 3; x++) f[j][x] = 1.0 + kiln_rng_normal(&rng);
      g[j][0] = s;
      g[j][1] = 2 * s + 3;
      g[j][2] = -0.5 * s;
    }
    CHECK_OK(kiln_atoms_prop_set(a, "f", KILN_VAL_REAL, 3, &f[0][0], &err));
    CHECK_OK(kiln_atoms_prop_set(a, "g", KILN_VAL_REAL, 3, &g[0][0], &err));
    CHECK_OK(kiln_corr_add_frame(c1, a, NAN, &err));
    CHECK_OK(kiln_corr_add_frame(c2, a, NAN, &err));
  }
  kiln_result *r1 = NULL, *r2 = NULL;
  if (c1 && c2) {
    CHECK_OK(kiln_corr_result(c1, &r1, &err));
    CHECK_OK(kiln_corr_result(c2, &r2, &err));
  }
  if (r1 && r2) {
    const double *C1 = item(r1, "corr", NC, 9), *C2 = item(r2, "corr", NC, 9),
                 *dR = item(r1, "dR", NC, 3);
    if (C1 && C2 && dR) {
      double off = 0;
      for (int i = 0; i < NC; i++)
        for (int k = 0; k < 9; k++) {
          if (i == 0 && k % 4 == 0) CHECK_CLOSE(C1[k], 1.0, 1e-12, 0);
          else off = fmax(off, fabs(C1[i * 9 + k]));
        }
      printf("  spatial, independent vectors (%d cells x %d frames): C(0) diagonal = 1, max "
             "|C| elsewhere %.4f\n", NC, NF, off);
      CHECK(off < 0.05);
      for (int x = 0; x < 3; x++) CHECK(dR[x] == 0);
      /* perfectly correlated (and anti-correlated) columns at dR = 0 */
      const double sgn[3] = {1, 1, -1};
      for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) CHECK_CLOSE(C2[3 * x + y], sgn[x] * sgn[y], 1e-10, 0);
    }
    const double *sd = item(r2, "sigma", 1, 3), *mu = item(r2, "mean", 1, 3);
    if (sd && mu) {
      CHECK_CLOSE(sd[1] / sd[0], 2.0, 1e-10, 0);
      CHECK(fabs(mu[1] - 3.0) < 0.05);
    }
  }
  kiln_result_free(r1);
  kiln_result_free(r2);
  kiln_corr_free(c1);
  kiln_corr_free(c2);
  kiln_atoms_free(a);
}

/* A field with p_y(R) = p_x(R - e1) and some smooth correlation, on a 3 x 2 x 5 grid with
 * 3 atoms per cell, through velocities: every C_ab(dR) against a direct double sum. */
TEST(test_spatial_brute_force) {
  kiln_error err;
  const int n[3] = {3, 2, 5};
  enum { NPC = 3, NC = 30, NA = NC * NPC, NF = 40 };
  kiln_rng rng;
  kiln_rng_seed(&rng, 8, 1);
  int cellof[NA];
  kiln_atoms *a = grid_atoms(n, NPC, &rng, cellof);
  kiln_corr *c = spatial_new("velocities", n[0], n[1], n[2]);
  static double P[NF][NC][3];
  for (int t = 0; c && t < NF; t++) {
    double px[NC], noise[NC];
    for (int i = 0; i < NC; i++) noise[i] = kiln_rng_normal(&rng);
    for (int i = 0; i < NC; i++) { /* smooth along axis 3 */
      int m2 = i % n[2], base = i - m2;
      px[i] = noise[i] + 0.6 * noise[base + (m2 + 1) % n[2]];
    }
    for (int i = 0; i < NC; i++) {
      int m[3] = {i / (n[1] * n[2]), i / n[2] % n[1], i % n[2]};
      int src = (((m[0] - 1 + n[0]) % n[0]) * n[1] + m[1]) * n[2] + m[2];
      P[t][i][0] = px[i];
      P[t][i][1] = px[src];
      P[t][i][2] = 0.3 * kiln_rng_normal(&rng) + 0.5;
    }
    for (int j = 0; j < NA; j++) { /* atom values scattered around the cell mean */
      int i = cellof[j], p = j % NPC;
      for (int x = 0; x < 3; x++) {
        double dev = (p == 0 ? 0.1 : p == 1 ? -0.1 : 0.0) * (x + 1);
        a->v[j][x] = P[t][i][x] + dev;
      }
    }
    CHECK_OK(kiln_corr_add_frame(c, a, t * 1.0, &err));
  }
  kiln_result *r = NULL;
  if (c) CHECK_OK(kiln_corr_result(c, &r, &err));
  if (r) {
    const double *C = item(r, "corr", NC, 9), *dR = item(r, "dR", NC, 3);
    double mu[3] = {0, 0, 0}, var[3] = {0, 0, 0};
    for (int t = 0; t < NF; t++)
      for (int i = 0; i < NC; i++)
        for (int x = 0; x < 3; x++) mu[x] += P[t][i][x] / (NF * NC);
    for (int t = 0; t < NF; t++)
      for (int i = 0; i < NC; i++)
        for (int x = 0; x < 3; x++) var[x] += pow(P[t][i][x] - mu[x], 2) / (NF * NC);
    double maxd = 0;
    for (int d = 0; C && dR && d < NC; d++) {
      int dm[3] = {d / (n[1] * n[2]), d / n[2] % n[1], d % n[2]};
      for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) {
          double s = 0;
          for (int t = 0; t < NF; t++)
            for (int i = 0; i < NC; i++) {
              int m[3] = {i / (n[1] * n[2]), i / n[2] % n[1], i % n[2]};
              int k = (((m[0] + dm[0]) % n[0]) * n[1] + (m[1] + dm[1]) % n[1]) * n[2] +
                      (m[2] + dm[2]) % n[2];
              s += (P[t][i][x] - mu[x]) * (P[t][k][y] - mu[y]);
            }
          double ref = s / (NF * NC) / sqrt(var[x] * var[y]);
          maxd = fmax(maxd, fabs(C[d * 9 + 3 * x + y] - ref));
        }
      /* dR: folded fraction of the cell rows */
      double f[3];
      for (int k = 0; k < 3; k++) f[k] = (double)(dm[k] > n[k] / 2 ? dm[k] - n[k] : dm[k]) / n[k];
      for (int x = 0; x < 3; x++)
        CHECK_CLOSE(dR[3 * d + x],
                    f[0] * a->cell[0][x] + f[1] * a->cell[1][x] + f[2] * a->cell[2][x], 1e-12,
                    1e-12);
    }
    printf("  spatial vs brute-force double sum (3x2x5 grid): max difference %.2e\n", maxd);
    CHECK(maxd < 1e-11);
    /* the shifted copy: C_xy(dR = +1 cell along a1) = 1 */
    if (C) CHECK_CLOSE(C[(1 * n[1] * n[2]) * 9 + 1], 1.0, 1e-11, 0);
    kiln_result_free(r);
  }
  kiln_corr_free(c);
  kiln_atoms_free(a);
}

/* Displacements from the first frame, unwrapped across the boundary. */
TEST(test_spatial_displacements) {
  kiln_error err;
  const int n[3] = {2, 2, 2};
  kiln_rng rng;
  kiln_rng_seed(&rng, 4, 4);
  int cellof[16];
  kiln_atoms *a = grid_atoms(n, 2, &rng, cellof);
  kiln_corr *c = spatial_new("displacements", 2, 2, 2);
  double x0[16][3];
  memcpy(x0, a->x, sizeof x0);
  double sumd = 0;
  for (int t = 0; c && t < 30; t++) {
    double shift = 0.9 * t;  /* crosses the 6 Å cell along x several times */
    for (int j = 0; j < 16; j++) {
      a->x[j][0] = x0[j][0] + shift + 0.01 * cellof[j] * t;
      a->x[j][1] = x0[j][1];
      a->x[j][2] = x0[j][2];
    }
    kiln_atoms_wrap(a, &err);
    for (int i = 0; i < 8; i++) sumd += shift + 0.01 * i * t;
    CHECK_OK(kiln_corr_add_frame(c, a, t * 1.0, &err));
  }
  kiln_result *r = NULL;
  if (c) CHECK_OK(kiln_corr_result(c, &r, &err));
  if (r) {
    const double *mu = item(r, "mean", 1, 3);
    if (mu) CHECK_CLOSE(mu[0], sumd / (30 * 8), 1e-12, 0);
    kiln_result_free(r);
  }
  kiln_corr_free(c);
  kiln_atoms_free(a);
}

int main(void) {
  RUN(test_dipole_direct);
  RUN(test_dipole_peak);
  RUN(test_dipole_charges_pbc);
  RUN(test_spatial_random_and_correlated);
  RUN(test_spatial_brute_force);
  RUN(test_spatial_displacements);
  return check_summary();
}
