/* tests/c/test_corr_vacf.c: the vacf correlator against a brute-force average over time
 * origins (total, per species, mass weighted, origin stride), the DOS sum rule, and the DOS
 * of an exactly integrated harmonic crystal (fcc, nearest-neighbour springs) against its
 * normal-mode frequencies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kiln/kiln.h"
#include "kiln/corr.h"
#include "kiln/linalg.h"

static const double PI = 3.14159265358979323846;

static kiln_corr *make(const char *wfun, long window, long step, int mw, double dt) {
  kiln_error err;
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "window", (double)window, &err);
  kiln_opts_add_num(o, "step", (double)step, &err);
  kiln_opts_add_bool(o, "mass_weighted", mw, &err);
  kiln_opts_add_str(o, "window_function", wfun, &err);
  if (dt > 0) kiln_opts_add_num(o, "dt", dt, &err);
  kiln_corr *c = NULL;
  CHECK_OK(kiln_corr_new(&c, "vacf", o, &err));
  kiln_opts_free(o);
  return c;
}

static const double *item(const kiln_result *r, const char *name, size_t rows) {
  const kiln_result_item *it = kiln_result_get(r, name);
  CHECK(it != NULL);
  if (!it) return NULL;
  CHECK(it->a->rows == rows);
  return it->a->data;
}

/* Brute force over origins, two species, with and without mass weighting, step 3. */
TEST(test_vacf_brute_force) {
  kiln_error err;
  enum { N = 7, T = 160, W = 40 };
  const long step = 3;
  kiln_atoms *a;
  CHECK_OK(kiln_atoms_new(&a, N, &err));
  for (size_t j = 0; j < N; j++) CHECK_OK(kiln_atoms_set_symbol(a, j, j % 3 ? "Si" : "O", &err));
  static double v[T][N][3];
  kiln_rng rng;
  kiln_rng_seed(&rng, 5, 0);
  for (int j = 0; j < N; j++)
    for (int x = 0; x < 3; x++) {
      double w0 = 0.02 + 0.1 * kiln_rng_uniform(&rng), ph = 2 * PI * kiln_rng_uniform(&rng);
      for (int t = 0; t < T; t++)
        v[t][j][x] = 0.01 * cos(w0 * 2.0 * t + ph) + 0.003 * kiln_rng_normal(&rng);
    }
  for (int mw = 0; mw <= 1; mw++) {
    kiln_corr *c = make("none", W, step, mw, 0);
    if (!c) continue;
    for (int t = 0; t < T; t++) {
      memcpy(a->v, v[t], sizeof v[t]);
      CHECK_OK(kiln_corr_add_frame(c, a, 100 + 2.0 * t, &err));
    }
    kiln_result *r = NULL;
    CHECK_OK(kiln_corr_result(c, &r, &err));
    if (!r) {
      kiln_corr_free(c);
      continue;
    }
    const double *z = item(r, "vacf", W), *zsi = item(r, "vacf_partial/Si", W),
                 *zo = item(r, "vacf_partial/O", W), *tt = item(r, "time", W);
    double maxd = 0;
    for (int tau = 0; tau < W && z && zsi && zo && tt; tau++) {
      double num[2] = {0, 0}, den[2] = {0, 0};
      long norig = 0;
      for (int t0 = 0; t0 + tau < T; t0 += (int)step) {
        norig++;
        for (int j = 0; j < N; j++) {
          int sp = j % 3 ? 0 : 1;
          double wj = mw ? a->mass[j] : 1.0;
          num[sp] += wj * (v[t0][j][0] * v[t0 + tau][j][0] + v[t0][j][1] * v[t0 + tau][j][1] +
                           v[t0][j][2] * v[t0 + tau][j][2]);
        }
      }
      for (int j = 0; j < N; j++) den[j % 3 ? 0 : 1] += mw ? a->mass[j] : 1.0;
      double ztot = (num[0] + num[1]) / (norig * (den[0] + den[1]));
      double zs = num[0] / (norig * den[0]), zO = num[1] / (norig * den[1]);
      maxd = fmax(maxd, fabs(z[tau] - ztot) / fabs(z[0]));
      maxd = fmax(maxd, fabs(zsi[tau] - zs) / fabs(zsi[0]));
      maxd = fmax(maxd, fabs(zo[tau] - zO) / fabs(zo[0]));
      CHECK_CLOSE(tt[tau], 2.0 * tau, 1e-14, 1e-14);
    }
    printf("  vacf vs brute force (mass_weighted=%d, step %ld): max relative difference %.2e\n",
           mw, step, maxd);
    CHECK(maxd < 1e-12);
    /* DOS: trapezoid integral over nu (THz) is 3, total and partial */
    const double *nu = item(r, "freq", W), *om = item(r, "omega", W);
    const char *names[] = {"dos", "dos_partial/Si", "dos_partial/O"};
    for (int k = 0; k < 3 && nu && om; k++) {
      const double *g = item(r, names[k], W);
      if (!g) continue;
      double s = 0;
      for (int i = 0; i < W; i++) s += g[i] * ((i == 0 || i == W - 1) ? 0.5 : 1.0);
      s *= nu[1] - nu[0];
      CHECK_CLOSE(s, 3.0, 1e-12, 0);
    }
    if (nu && om) {
      CHECK_CLOSE(nu[1], 1e3 / (2.0 * (W - 1) * 2.0), 1e-12, 0); /* 1/(2 (W-1) dt) in THz */
      CHECK_CLOSE(om[W - 1], PI / 2.0, 1e-12, 0);
    }
    /* mass weighting: the total is the mass-weighted mix of the partials */
    if (mw && z && zsi && zo) {
      double mSi = 4 * a->mass[1], mO = 3 * a->mass[0];
      CHECK_CLOSE(z[5], (mSi * zsi[5] + mO * zo[5]) / (mSi + mO), 1e-12, 1e-18);
    }
    kiln_result_free(r);
    kiln_corr_free(c);
  }
  kiln_atoms_free(a);
}

/* Exactly integrated harmonic fcc crystal (2x2x2 conventional cells, 32 atoms, NN springs):
 * each of the 93 non-zero normal modes gets the kinetic amplitude of equipartition and a
 * random phase. The mass-weighted DOS must then be the normal-mode DOS: integral 3 and the
 * first two frequency moments equal to the mode averages. */
TEST(test_vacf_harmonic_dos) {
  kiln_error err;
  enum { NA = 32, ND = 3 * NA, W = 400, T = 6000 };
  const double alat = 4.0, kspr = 1.0, dt = 5.0, kT = KILN_KB * 50;
  kiln_atoms *u0, *a;
  CHECK_OK(kiln_crystal_fcc(&u0, "Ar", alat, &err));
  CHECK_OK(kiln_atoms_supercell(&a, u0, 2, 2, 2, &err));
  const double m = a->mass[0];
  double inv[3][3];
  kiln_cell_inverse(a->cell, inv, &err);
  static double K[ND * ND], w[ND], ev[ND * ND];
  memset(K, 0, sizeof K);
  for (int i = 0; i < NA; i++)
    for (int j = 0; j < NA; j++) {
      if (i == j) continue;
      double d[3], s[3];
      for (int x = 0; x < 3; x++) d[x] = a->x[j][x] - a->x[i][x];
      for (int x = 0; x < 3; x++) s[x] = d[0] * inv[0][x] + d[1] * inv[1][x] + d[2] * inv[2][x];
      for (int x = 0; x < 3; x++) s[x] -= nearbyint(s[x]);
      for (int x = 0; x < 3; x++)
        d[x] = s[0] * a->cell[0][x] + s[1] * a->cell[1][x] + s[2] * a->cell[2][x];
      double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
      if (fabs(sqrt(r2) - alat / sqrt(2.0)) > 1e-6) continue;
      for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) {
          double kk = kspr * d[x] * d[y] / r2 / m;
          K[(3 * i + x) * ND + 3 * j + y] -= kk;
          K[(3 * i + x) * ND + 3 * i + y] += kk;
        }
    }
  CHECK_OK(kiln_linalg_dsyev(ND, K, w, ev, &err));
  double om[ND], ph[ND], m1 = 0, m2 = 0;
  kiln_rng rng;
  kiln_rng_seed(&rng, 99, 0);
  for (int s = 3; s < ND; s++) {
    om[s] = sqrt(w[s] / KILN_MVV2E);  /* rad/fs */
    ph[s] = 2 * PI * kiln_rng_uniform(&rng);
    double nu = om[s] / (2 * PI * 1e-3);
    m1 += nu / (ND - 3);
    m2 += nu * nu / (ND - 3);
  }
  kiln_corr *c = make("gauss", W, 1, 1, dt);
  for (int t = 0; c && t < T; t++) {
    double qd[ND];
    for (int s = 3; s < ND; s++) qd[s] = -sqrt(2 * kT / KILN_MVV2E) * sin(om[s] * t * dt + ph[s]);
    for (int i = 0; i < ND; i++) {
      double vv = 0;
      for (int s = 3; s < ND; s++) vv += ev[i * ND + s] * qd[s];
      a->v[i / 3][i % 3] = vv / sqrt(m);
    }
    CHECK_OK(kiln_corr_add_frame(c, a, NAN, &err));
  }
  kiln_result *r = NULL;
  if (c) CHECK_OK(kiln_corr_result(c, &r, &err));
  if (r) {
    const double *g = item(r, "dos", W), *nu = item(r, "freq", W), *z = item(r, "vacf", W);
    if (g && nu && z) {
      /* Z(0) = kT (3N-3) / (N m) in Å²/fs² */
      CHECK_CLOSE(z[0], kT / KILN_MVV2E * (ND - 3) / (NA * m), 2e-3, 0);
      double i0 = 0, i1 = 0, i2 = 0, dnu = nu[1] - nu[0];
      for (int k = 0; k < W; k++) {
        double f = (k == 0 || k == W - 1) ? 0.5 : 1.0;
        i0 += f * g[k] * dnu;
        i1 += f * g[k] * nu[k] * dnu;
        i2 += f * g[k] * nu[k] * nu[k] * dnu;
      }
      printf("  harmonic fcc DOS: integral %.6f, <nu> %.4f THz (modes %.4f), <nu²> %.4f THz² "
             "(modes %.4f)\n", i0, i1 / 3, m1, i2 / 3, m2);
      CHECK_CLOSE(i0, 3.0, 1e-10, 0);
      CHECK_CLOSE(i1 / 3, m1, 0.01, 0);
      CHECK_CLOSE(i2 / 3, m2, 0.01, 0);
      /* the highest mode: the DOS is ~0 well above it, and peaks near the top frequency */
      double top = om[ND - 1] / (2 * PI * 1e-3), above = 0;
      for (int k = 0; k < W; k++)
        if (nu[k] > 1.3 * top) above = fmax(above, g[k]);
      CHECK(above < 1e-3);
    }
    kiln_result_free(r);
  }
  kiln_corr_free(c);
  kiln_atoms_free(a);
  kiln_atoms_free(u0);
}

/* Result mid-run does not disturb the accumulation; errors. */
TEST(test_vacf_midrun_and_errors) {
  kiln_error err;
  kiln_atoms *a;
  CHECK_OK(kiln_atoms_new(&a, 3, &err));
  for (size_t j = 0; j < 3; j++) CHECK_OK(kiln_atoms_set_symbol(a, j, "Ar", &err));
  kiln_corr *c1 = make("hann", 10, 1, 0, 1.0), *c2 = make("hann", 10, 1, 0, 1.0);
  kiln_rng rng;
  kiln_rng_seed(&rng, 1, 1);
  for (int t = 0; c1 && c2 && t < 37; t++) {
    for (int j = 0; j < 3; j++)
      for (int x = 0; x < 3; x++) a->v[j][x] = kiln_rng_normal(&rng);
    CHECK_OK(kiln_corr_add_frame(c1, a, NAN, &err));
    CHECK_OK(kiln_corr_add_frame(c2, a, NAN, &err));
    if (t % 7 == 3) {
      kiln_result *r = NULL;
      CHECK_OK(kiln_corr_result(c1, &r, &err));
      kiln_result_free(r);
    }
  }
  kiln_result *r1 = NULL, *r2 = NULL;
  if (c1 && c2) {
    CHECK_OK(kiln_corr_result(c1, &r1, &err));
    CHECK_OK(kiln_corr_result(c2, &r2, &err));
  }
  if (r1 && r2) {
    const double *z1 = item(r1, "dos", 10), *z2 = item(r2, "dos", 10);
    for (int k = 0; z1 && z2 && k < 10; k++) CHECK(z1[k] == z2[k]);
  }
  kiln_result_free(r1);
  kiln_result_free(r2);
  kiln_corr_free(c1);
  kiln_corr_free(c2);
  kiln_corr *c = NULL;
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "window_function", "triangle", &err);
  CHECK_ERR(kiln_corr_new(&c, "vacf", o, &err), KILN_EINVAL, "triangle");
  kiln_opts_free(o);
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "windw", 5, &err);
  CHECK_ERR(kiln_corr_new(&c, "vacf", o, &err), KILN_EINVAL, "windw");
  kiln_opts_free(o);
  c = make("none", 5, 1, 0, 0);
  kiln_atoms *b;
  CHECK_OK(kiln_atoms_new(&b, 4, &err));
  if (c) {
    CHECK_OK(kiln_corr_add_frame(c, a, 0, &err));
    CHECK_ERR(kiln_corr_add_frame(c, b, 1, &err), KILN_EINVAL, "4 atoms");
  }
  kiln_corr_free(c);
  kiln_atoms_free(b);
  kiln_atoms_free(a);
}

int main(void) {
  RUN(test_vacf_brute_force);
  RUN(test_vacf_harmonic_dos);
  RUN(test_vacf_midrun_and_errors);
  return check_summary();
}
