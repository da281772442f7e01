/* tests/c/test_lattice.c: lattice Monte Carlo (include/kiln/lattice.h).
 * References: shell sizes of square/fcc lattices; energies against a direct square-lattice
 * sum; 4x4 Ising <E> and C against exact enumeration of all 2^16 states; the ideal-mixing
 * SGC composition 1/(1+exp(-dmu/kT)); 2-D Ising T_c from the Binder-cumulant crossing
 * (L = 8, 16, 32, single-histogram reweighting) against Onsager's 2/ln(1+sqrt 2). */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "kiln/crystal.h"
#include "kiln/lattice.h"

static const double TC_ONSAGER = 2.2691853142130216;

/* L x L square lattice (spacing 1) in a cell with 10 Å vacuum along z. */
static kiln_atoms *square(int L) {
  kiln_error err;
  kiln_atoms *u = NULL, *s = NULL;
  const double cell[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 10}};
  const char *sym[1] = {"H"};
  const double frac[1][3] = {{0, 0, 0}};
  if (kiln_crystal_from_cell(&u, cell, 1, sym, frac, &err)) return NULL;
  kiln_atoms_supercell(&s, u, L, L, 1, &err);
  kiln_atoms_free(u);
  return s;
}

/* Ising: V(+,+) = V(-,-) = -J, V(+,-) = +J, species 0 = +1, 1 = -1. */
static kiln_lattice *ising(int L, double J) {
  kiln_error err;
  kiln_atoms *a = square(L);
  kiln_lattice *m = NULL;
  if (kiln_lattice_new(&m, a, 2, 1, 0.05, 0, &err)) { kiln_atoms_free(a); return NULL; }
  kiln_atoms_free(a);
  kiln_lattice_set_pair(m, 0, 0, 0, -J, &err);
  kiln_lattice_set_pair(m, 0, 1, 1, -J, &err);
  kiln_lattice_set_pair(m, 0, 0, 1, J, &err);
  return m;
}

/* site index of (x, y) in the supercell built by square(L) */
static size_t idx(const kiln_atoms *a, int L, int x, int y) {
  (void)a;
  x = (x % L + L) % L;
  y = (y % L + L) % L;
  return (size_t)x * (size_t)L + (size_t)y;
}

TEST(test_shells) {
  kiln_error err;
  kiln_atoms *a = square(6);
  kiln_lattice *m = NULL;
  CHECK_OK(kiln_lattice_new(&m, a, 2, 3, 0.05, 1, &err));
  CHECK(kiln_lattice_shell_size(m, 0) == 4 && kiln_lattice_shell_size(m, 1) == 4 &&
        kiln_lattice_shell_size(m, 2) == 4);
  CHECK_CLOSE(kiln_lattice_shell_distance(m, 1), sqrt(2), 1e-12, 0);
  CHECK_CLOSE(kiln_lattice_shell_distance(m, 2), 2, 1e-12, 0);
  CHECK(kiln_lattice_ntriangles(m) == 0);
  /* neighbours of (2,3) in shell 1 are (1,3) (3,3) (2,2) (2,4) */
  int cnt;
  const int32_t *nb = kiln_lattice_neighbors(m, 0, idx(a, 6, 2, 3), &cnt);
  int hit = 0;
  for (int e = 0; e < cnt; e++)
    hit += nb[e] == (int32_t)idx(a, 6, 1, 3) || nb[e] == (int32_t)idx(a, 6, 3, 3) ||
           nb[e] == (int32_t)idx(a, 6, 2, 2) || nb[e] == (int32_t)idx(a, 6, 2, 4);
  CHECK(cnt == 4 && hit == 4);
  kiln_lattice_free(m);
  kiln_atoms_free(a);
  /* fcc: 12, 6, 24 neighbours; 8 triangles per site */
  kiln_atoms *u = NULL, *f = NULL;
  CHECK_OK(kiln_crystal_fcc(&u, "Cu", 3.6, &err));
  CHECK_OK(kiln_atoms_supercell(&f, u, 3, 3, 3, &err));
  CHECK_OK(kiln_lattice_new(&m, f, 3, 3, 0.05, 1, &err));
  CHECK(kiln_lattice_shell_size(m, 0) == 12 && kiln_lattice_shell_size(m, 1) == 6 &&
        kiln_lattice_shell_size(m, 2) == 24);
  CHECK_CLOSE(kiln_lattice_shell_distance(m, 0), 3.6 / sqrt(2), 1e-12, 0);
  CHECK(kiln_lattice_ntriangles(m) == 8 * f->n);
  kiln_lattice_free(m);
  /* too small a cell for the shells asked */
  kiln_atoms *s1 = square(2);
  CHECK_ERR(kiln_lattice_new(&m, s1, 2, 3, 0.05, 0, &err), KILN_EINVAL, "its own neighbour");
  CHECK_ERR(kiln_lattice_new(&m, s1, 1, 1, 0.05, 0, &err), KILN_EINVAL, "nspecies");
  kiln_atoms_free(s1);
  kiln_atoms_free(u);
  kiln_atoms_free(f);
}

TEST(test_energy_deltas) {
  kiln_error err;
  const int L = 6;
  kiln_atoms *a = square(L);
  kiln_lattice *m = NULL;
  CHECK_OK(kiln_lattice_new(&m, a, 3, 2, 0.05, 0, &err));
  const double V1[3][3] = {{0.1, -0.3, 0.2}, {-0.3, 0.05, 0.7}, {0.2, 0.7, -0.4}};
  const double V2[3][3] = {{-0.2, 0.15, 0}, {0.15, 0.3, -0.1}, {0, -0.1, 0.25}};
  for (int x = 0; x < 3; x++)
    for (int y = x; y < 3; y++) {
      CHECK_OK(kiln_lattice_set_pair(m, 0, x, y, V1[x][y], &err));
      CHECK_OK(kiln_lattice_set_pair(m, 1, x, y, V2[x][y], &err));
    }
  kiln_rng r;
  kiln_rng_seed(&r, 7, 0);
  int32_t occ[36];
  for (int i = 0; i < 36; i++) occ[i] = (int32_t)(kiln_rng_uniform(&r) * 3);
  double ed = 0; /* direct: bonds +x, +y (shell 1), +x+y, +x-y (shell 2) */
  for (int x = 0; x < L; x++)
    for (int y = 0; y < L; y++) {
      int s = occ[idx(a, L, x, y)];
      ed += V1[s][occ[idx(a, L, x + 1, y)]] + V1[s][occ[idx(a, L, x, y + 1)]];
      ed += V2[s][occ[idx(a, L, x + 1, y + 1)]] + V2[s][occ[idx(a, L, x + 1, y - 1)]];
    }
  double e0 = kiln_lattice_energy(m, occ);
  CHECK_CLOSE(e0, ed, 1e-12, 1e-12);
  /* bond counts reproduce the energy */
  double c[2 * 9];
  kiln_lattice_bond_counts(m, occ, c, NULL);
  double eb = 0;
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) eb += V1[x][y] * c[x * 3 + y] + V2[x][y] * c[9 + x * 3 + y];
  CHECK_CLOSE(eb, ed, 1e-12, 1e-12);
  for (int t = 0; t < 20; t++) {
    size_t i = (size_t)(kiln_rng_uniform(&r) * 36), j = (size_t)(kiln_rng_uniform(&r) * 36);
    int b = (occ[i] + 1 + t % 2) % 3;
    double d = kiln_lattice_flip_delta(m, occ, i, b);
    int old = occ[i];
    occ[i] = b;
    CHECK_CLOSE(kiln_lattice_energy(m, occ) - e0, d, 1e-10, 1e-12);
    occ[i] = old;
    double ds = kiln_lattice_swap_delta(m, occ, i, j);
    int32_t si = occ[i], sj = occ[j];
    occ[i] = sj;
    occ[j] = si;
    CHECK_CLOSE(kiln_lattice_energy(m, occ) - e0, ds, 1e-10, 1e-12);
    occ[i] = si;
    occ[j] = sj;
  }
  /* triangles on a triangular lattice: E = K * (number of all-species-0 triangles) */
  kiln_atoms *tu = NULL, *tl = NULL;
  const double cell[3][3] = {{1, 0, 0}, {0.5, sqrt(3) / 2, 0}, {0, 0, 10}};
  const char *sym[1] = {"H"};
  const double frac[1][3] = {{0, 0, 0}};
  CHECK_OK(kiln_crystal_from_cell(&tu, cell, 1, sym, frac, &err));
  CHECK_OK(kiln_atoms_supercell(&tl, tu, 6, 6, 1, &err));
  kiln_lattice *mt = NULL;
  CHECK_OK(kiln_lattice_new(&mt, tl, 2, 1, 0.05, 1, &err));
  CHECK(kiln_lattice_shell_size(mt, 0) == 6);
  CHECK(kiln_lattice_ntriangles(mt) == 2 * 36);
  CHECK_OK(kiln_lattice_set_triplet(mt, 0, 0, 0, 1.0, &err));
  int32_t o2[36] = {0};
  CHECK_CLOSE(kiln_lattice_energy(mt, o2), 72, 1e-12, 0);
  CHECK_CLOSE(kiln_lattice_flip_delta(mt, o2, 5, 1), -6, 1e-12, 0);
  kiln_lattice_free(mt);
  kiln_atoms_free(tu);
  kiln_atoms_free(tl);
  kiln_lattice_free(m);
  kiln_atoms_free(a);
}

/* exact 4x4 Ising: <E>/N and C/N at temperature T (J = kB = 1) */
static void exact4(double T, double *e, double *c) {
  double z = 0, s1 = 0, s2 = 0;
  double emin = -32;
  for (unsigned st = 0; st < (1u << 16); st++) {
    int E = 0;
    for (int x = 0; x < 4; x++)
      for (int y = 0; y < 4; y++) {
        int s = (st >> (x * 4 + y)) & 1 ? 1 : -1;
        int sx = (st >> (((x + 1) % 4) * 4 + y)) & 1 ? 1 : -1;
        int sy = (st >> (x * 4 + (y + 1) % 4)) & 1 ? 1 : -1;
        E -= s * sx + s * sy;
      }
    double w = exp(-(E - emin) / T);
    z += w;
    s1 += w * E;
    s2 += w * (double)E * E;
  }
  s1 /= z;
  s2 /= z;
  *e = s1 / 16;
  *c = (s2 - s1 * s1) / (T * T) / 16;
}

TEST(test_exact_4x4) {
  kiln_error err;
  kiln_lattice *m = ising(4, 1.0);
  CHECK(m != NULL);
  const long NS = 200000;
  double *E = malloc(NS * sizeof *E);
  const double Ts[3] = {1.8, 2.4, 3.2};
  for (int t = 0; t < 3; t++) {
    kiln_rng r;
    kiln_rng_seed(&r, 11, (uint64_t)t);
    int32_t occ[16] = {0};
    kiln_lattice_run run = {1 / Ts[t], KILN_LATTICE_FLIP, 2000, 1, NULL, NULL};
    CHECK_OK(kiln_lattice_sweep(m, occ, &r, &run, NULL, NULL, NULL, NULL, &err));
    run.nsweeps = NS;
    CHECK_OK(kiln_lattice_sweep(m, occ, &r, &run, E, NULL, NULL, NULL, &err));
    double s1 = 0, s2 = 0;
    for (long s = 0; s < NS; s++) {
      s1 += E[s];
      s2 += E[s] * E[s];
    }
    s1 /= NS;
    s2 /= NS;
    double e, c;
    exact4(Ts[t], &e, &c);
    double emc = s1 / 16, cmc = (s2 - s1 * s1) / (Ts[t] * Ts[t]) / 16;
    CHECK_CLOSE(emc, e, 0.01, 0);
    CHECK_CLOSE(cmc, c, 0.04, 0);
    CHECK_CLOSE(kiln_lattice_energy(m, occ), E[NS - 1], 1e-12, 1e-9);
  }
  free(E);
  kiln_lattice_free(m);
}

TEST(test_kawasaki_and_sgc) {
  kiln_error err;
  const int L = 12;
  kiln_lattice *m = ising(L, 0.7);
  int32_t *occ = malloc(L * L * sizeof *occ);
  kiln_rng r;
  kiln_rng_seed(&r, 3, 0);
  for (int i = 0; i < L * L; i++) occ[i] = i % 3 == 0;  /* 48 of species 1 */
  double counts[2 * 50], E[50];
  for (int mv = KILN_LATTICE_SWAP_LOCAL; mv <= KILN_LATTICE_SWAP_ANY; mv++) {
    kiln_lattice_run run = {1 / 1.5, mv, 50, 1, NULL, NULL};
    long acc = 0;
    CHECK_OK(kiln_lattice_sweep(m, occ, &r, &run, E, NULL, counts, &acc, &err));
    CHECK(acc > 100);
    int ok = 1;
    for (int s = 0; s < 50; s++) ok &= counts[2 * s + 1] == 48 && counts[2 * s] == L * L - 48;
    CHECK(ok);
    int n1 = 0;
    for (int i = 0; i < L * L; i++) n1 += occ[i];
    CHECK(n1 == 48);
    CHECK_CLOSE(kiln_lattice_energy(m, occ), E[49], 1e-12, 1e-9);
  }
  kiln_lattice_free(m);
  /* ideal mixing (J = 0): c_0 = 1/(1+exp(-dmu/kT)), dmu = mu_0 - mu_1 */
  kiln_atoms *a = square(L);
  CHECK_OK(kiln_lattice_new(&m, a, 2, 1, 0.05, 0, &err));
  const double kT = 0.8;
  const double dmus[3] = {-1.0, 0.3, 1.5};
  for (int t = 0; t < 3; t++) {
    CHECK_OK(kiln_lattice_set_mu(m, 0, dmus[t], &err));
    kiln_lattice_run run = {1 / kT, KILN_LATTICE_FLIP, 2000, 1, NULL, NULL};
    double cn[2 * 2000];
    CHECK_OK(kiln_lattice_sweep(m, occ, &r, &run, NULL, NULL, cn, NULL, &err));
    double c0 = 0;
    for (int s = 100; s < 2000; s++) c0 += cn[2 * s] / (L * L);
    c0 /= 1900;
    double ex = 1 / (1 + exp(-dmus[t] / kT));
    /* independent sites: sd of the mean ~ sqrt(c(1-c)/(N*1900)) < 0.001 */
    CHECK_CLOSE(c0, ex, 0, 0.004);
  }
  kiln_lattice_free(m);
  kiln_atoms_free(a);
  free(occ);
}

/* Binder cumulant of the run (E, m) reweighted from beta0 to beta */
static double binder_at(long n, const double *E, const double *mg, double beta0, double beta,
                        double *w) {
  double dth = beta - beta0;
  kiln_lattice_weights((size_t)n, 1, E, &dth, w);
  double m2 = 0, m4 = 0;
  for (long s = 0; s < n; s++) {
    double q = mg[s] * mg[s];
    m2 += w[s] * q;
    m4 += w[s] * q * q;
  }
  return 1 - m4 / (3 * m2 * m2);
}

TEST(test_ising_binder_tc) {
  kiln_error err;
  const int Ls[3] = {8, 16, 32};
  const long NS[3] = {100000, 60000, 40000};
  const double T0 = 2.27;
  double *E[3], *M[3];
  double *w = malloc(200000 * sizeof *w);
  for (int l = 0; l < 3; l++) {
    int L = Ls[l];
    kiln_lattice *m = ising(L, 1.0);
    int32_t *occ = calloc((size_t)L * L, sizeof *occ);
    E[l] = malloc(NS[l] * sizeof *E[l]);
    M[l] = malloc(NS[l] * sizeof *M[l]);
    kiln_rng r;
    kiln_rng_seed(&r, 2024, (uint64_t)l);
    kiln_lattice_run run = {1 / T0, KILN_LATTICE_CLUSTER, 200, 1, NULL, NULL};
    CHECK_OK(kiln_lattice_sweep(m, occ, &r, &run, NULL, NULL, NULL, NULL, &err));
    run.nsweeps = NS[l];
    CHECK_OK(kiln_lattice_sweep(m, occ, &r, &run, E[l], M[l], NULL, NULL, &err));
    free(occ);
    kiln_lattice_free(m);
  }
  double tc[2];
  for (int p = 0; p < 2; p++) {
    double lo = 2.21, hi = 2.33;
    double dlo = binder_at(NS[p], E[p], M[p], 1 / T0, 1 / lo, w) -
                 binder_at(NS[p + 1], E[p + 1], M[p + 1], 1 / T0, 1 / lo, w);
    for (int it = 0; it < 40; it++) {
      double mid = 0.5 * (lo + hi);
      double d = binder_at(NS[p], E[p], M[p], 1 / T0, 1 / mid, w) -
                 binder_at(NS[p + 1], E[p + 1], M[p + 1], 1 / T0, 1 / mid, w);
      if ((d > 0) == (dlo > 0)) { lo = mid; dlo = d; }
      else hi = mid;
    }
    tc[p] = 0.5 * (lo + hi);
    printf("  Binder crossing L=%d/%d: T_c = %.5f (Onsager %.6f, %+.2f %%)\n", Ls[p], Ls[p + 1],
           tc[p], TC_ONSAGER, 100 * (tc[p] / TC_ONSAGER - 1));
  }
  CHECK_CLOSE(tc[0], TC_ONSAGER, 0.01, 0);
  CHECK_CLOSE(tc[1], TC_ONSAGER, 0.01, 0);
  for (int l = 0; l < 3; l++) {
    free(E[l]);
    free(M[l]);
  }
  free(w);
}

TEST(test_env_codes) {
  kiln_error err;
  const int L = 4;
  kiln_atoms *a = square(L);
  kiln_lattice *m = NULL;
  CHECK_OK(kiln_lattice_new(&m, a, 2, 2, 0.05, 0, &err));
  CHECK(kiln_lattice_env_ncodes(m, 1) == 2 * 5);
  CHECK(kiln_lattice_env_ncodes(m, 2) == 2 * 5 * 5);
  int32_t occ[16], code[16];
  for (int x = 0; x < L; x++)
    for (int y = 0; y < L; y++) occ[idx(a, L, x, y)] = (x + y) % 2;  /* checkerboard */
  CHECK_OK(kiln_lattice_env_codes(m, occ, 2, code, &err));
  int sp, cnt[4];
  kiln_lattice_env_decode(m, 2, code[0], &sp, cnt);
  /* site 0 is species 0 with 4 species-1 first neighbours and 4 species-0 second ones */
  CHECK(sp == 0 && cnt[0] == 0 && cnt[1] == 4 && cnt[2] == 4 && cnt[3] == 0);
  kiln_lattice_free(m);
  kiln_atoms_free(a);
}

int main(void) {
  RUN(test_shells);
  RUN(test_energy_deltas);
  RUN(test_exact_4x4);
  RUN(test_kawasaki_and_sgc);
  RUN(test_env_codes);
  RUN(test_ising_binder_tc);
  return check_summary();
}
