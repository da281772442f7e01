/* tests/c/test_effham.c: potential style effective_hamiltonian (BaTiO3, Nishimatsu 2010
 * parameters). References: the independent check values of
 * ../shared/data/batio3-effective-hamiltonian/README.md (zone-boundary half-eigenvalues of
 * the short-range and Ewald dipole kernels, on-site energies, uniform-u energies clamped
 * and with relaxed strain), finite differences for forces and the virial, cubic symmetry,
 * Ewald-parameter independence and NVE energy conservation. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "kiln/md.h"
#include "kiln/potential.h"
#include "kiln/rng.h"

#define A0 3.98597
static kiln_error err;

/* pseudo-atom lattice: Lx x Ly x Lz cells of a0, atoms in z-fastest order, u = 0 */
static kiln_atoms *lattice(int Lx, int Ly, int Lz) {
  kiln_atoms *a = NULL;
  const size_t n = (size_t)Lx * Ly * Lz;
  CHECK_OK(kiln_atoms_new(&a, n, &err));
  int32_t t;
  CHECK_OK(kiln_atoms_species_index(a, "Ti", &t, &err));
  double cell[3][3] = {{Lx * A0, 0, 0}, {0, Ly * A0, 0}, {0, 0, Lz * A0}};
  CHECK_OK(kiln_atoms_set_cell(a, cell, 0, &err));
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  size_t i = 0;
  for (int x = 0; x < Lx; x++)
    for (int y = 0; y < Ly; y++)
      for (int z = 0; z < Lz; z++, i++) {
        a->x[i][0] = x * A0; a->x[i][1] = y * A0; a->x[i][2] = z * A0;
        a->type[i] = t;
        a->mass[i] = 38.24;
      }
  return a;
}

/* options: "key=value" words (numbers or strings; true/false booleans) */
static kiln_pot *pot(const char *spec) {
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  char buf[512];
  snprintf(buf, sizeof buf, "%s", spec ? spec : "");
  for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
    char *eq = strchr(tok, '=');
    *eq = 0;
    char *end;
    double v = strtod(eq + 1, &end);
    if (!strcmp(eq + 1, "true") || !strcmp(eq + 1, "false"))
      CHECK_OK(kiln_opts_add_bool(o, tok, !strcmp(eq + 1, "true"), &err));
    else if (*end == 0)
      CHECK_OK(kiln_opts_add_num(o, tok, v, &err));
    else
      CHECK_OK(kiln_opts_add_str(o, tok, eq + 1, &err));
  }
  kiln_pot *p = NULL;
  CHECK_OK(kiln_pot_new(&p, "effective_hamiltonian", o, &err));
  kiln_opts_free(o);
  return p;
}

static double energy(kiln_pot *p, kiln_atoms *a) {
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY | KILN_EVAL_FORCES | KILN_EVAL_VIRIAL, &r, &err));
  return r.energy;
}

/* frozen mode u(R) = e cos(k.R) (k at a zone boundary point of a 2x2x2 grid) */
static double frozen(kiln_pot *p, const int m[3], const double e[3], double amp) {
  kiln_atoms *a = lattice(2, 2, 2);
  for (size_t i = 0; i < a->n; i++) {
    int R[3] = {(int)(i / 4), (int)(i / 2 % 2), (int)(i % 2)};
    double ph = cos(M_PI * (m[0] * R[0] + m[1] * R[1] + m[2] * R[2]));
    for (int c = 0; c < 3; c++) a->x[i][c] += amp * e[c] * ph;
  }
  double E = energy(p, a) / (double)a->n / (amp * amp);
  kiln_atoms_free(a);
  return E;
}

#define HARM "alpha=0 gamma=0 k1=0 k2=0 k3=0 k4=0 strain=none inhomogeneous=false"

TEST(test_half_eigenvalues) {
  /* README section 3.5 table: short-range and total half-eigenvalues (eV/A^2) */
  kiln_pot *ps = pot(HARM " dipole=false"), *pt = pot(HARM);
  const double s2 = sqrt(0.5);
  struct { int m[3]; double e[3]; double sh, tot; } T[] = {
      {{0, 0, 0}, {0, 0, 1}, 5.87967, -1.51819},
      {{1, 0, 0}, {1, 0, 0}, 0.40687, 17.51594},     /* X LO */
      {{1, 0, 0}, {0, 1, 0}, 7.52005, -1.03449},     /* X TO */
      {{1, 1, 0}, {0, 0, 1}, 8.70011, -0.75489},     /* M, u || z */
      {{1, 1, 0}, {s2, -s2, 0}, 11.99333, 16.72083}, /* M in plane */
      {{1, 1, 1}, {0, 0, 1}, 14.25867, 14.25867},    /* R */
  };
  for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
    CHECK_CLOSE(frozen(ps, T[k].m, T[k].e, 1e-3), T[k].sh, 0, 2e-5);
    CHECK_CLOSE(frozen(pt, T[k].m, T[k].e, 1e-3), T[k].tot, 0, 2e-5);
  }
  /* the other in-plane M eigenvector gives the same */
  const int mM[3] = {1, 1, 0};
  const double eM[3] = {s2, s2, 0};
  CHECK_CLOSE(frozen(pt, mM, eM, 1e-3), 16.72083, 0, 2e-5);
  /* Ewald parameter independence (random wave vector through a frozen mode on 3x4x5) */
  kiln_pot *pk = pot(HARM " ewald_kappa=0.3"), *pk2 = pot(HARM " ewald_kappa=0.6");
  kiln_atoms *a = lattice(3, 4, 5);
  kiln_rng rng;
  kiln_rng_seed(&rng, 7, 0);
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) a->x[i][c] += 0.05 * kiln_rng_normal(&rng);
  double e1 = energy(pk, a), e2 = energy(pk2, a), e0 = energy(pt, a);
  CHECK_CLOSE(e1, e2, 1e-11, 1e-13);
  CHECK_CLOSE(e0, e2, 1e-11, 1e-13);
  kiln_atoms_free(a);
  kiln_pot_free(ps); kiln_pot_free(pt); kiln_pot_free(pk); kiln_pot_free(pk2);
}

static double uniform(kiln_pot *p, const double u[3], double eta[6]) {
  kiln_atoms *a = lattice(2, 2, 2);
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) a->x[i][c] += u[c];
  double E = energy(p, a) / (double)a->n;
  if (eta) {
    kiln_info *in = kiln_atoms_info_get(a, "effham_eta");
    CHECK(in && in->count == 6);
    if (in) memcpy(eta, in->val, 6 * sizeof *eta);
  }
  kiln_atoms_free(a);
  return E;
}

TEST(test_onsite_and_uniform) {
  /* README 7.1: V_self alone (j = 0, no dipole, no strain) */
  kiln_pot *p = pot("j1=0 j2=0 j3=0 j4=0 j5=0 j6=0 j7=0 dipole=false strain=none");
  const double r2 = sqrt(0.5), r3 = sqrt(1.0 / 3);
  const double mags[4] = {0.05, 0.10, 0.15, 0.20};
  const double ref[3][4] = {{0.02182452, 0.09297716, 0.22911418, 0.45223154},
                            {0.02164485, 0.09013943, 0.21506063, 0.40919789},
                            {0.02158509, 0.08920233, 0.21047640, 0.39541678}};
  const double dir[3][3] = {{0, 0, 1}, {r2, r2, 0}, {r3, r3, r3}};
  for (int d = 0; d < 3; d++)
    for (int m = 0; m < 4; m++) {
      double u[3] = {mags[m] * dir[d][0], mags[m] * dir[d][1], mags[m] * dir[d][2]};
      CHECK_CLOSE(uniform(p, u, NULL), ref[d][m], 0, 2e-8);
    }
  kiln_pot_free(p);
  /* README 7.2: uniform u, clamped (strain none) and relaxed at p = 0 */
  kiln_pot *pc = pot("strain=none"), *pr = pot("strain=relax");
  struct { double u[3], cl, rel, eta[6]; } T[] = {
      {{0, 0, 0.1}, -0.00754481, -0.01152551, {-0.002050, -0.002050, 0.008663, 0, 0, 0}},
      {{0, 0, 0.2}, 0.05014366, -0.01354765, {-0.008199, -0.008199, 0.034654, 0, 0, 0}},
      {{0.1 * r2, 0.1 * r2, 0}, -0.01038254, -0.01197886, {0.003307, 0.003307, -0.002050, 0, 0, 0.001477}},
      {{0.1 * r3, 0.1 * r3, 0.1 * r3}, -0.01131964, -0.01212117, {0.001521, 0.001521, 0.001521, 0.000985, 0.000985, 0.000985}},
      {{0.2 * r3, 0.2 * r3, 0.2 * r3}, -0.00667111, -0.01949559, {0.006085, 0.006085, 0.006085, 0.003940, 0.003940, 0.003940}},
  };
  for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
    double eta[6];
    CHECK_CLOSE(uniform(pc, T[k].u, NULL), T[k].cl, 0, 3e-8);
    CHECK_CLOSE(uniform(pr, T[k].u, eta), T[k].rel, 0, 3e-8);
    for (int c = 0; c < 6; c++) CHECK_CLOSE(eta[c], T[k].eta[c], 0, 1.5e-6);
  }
  /* pressure only: eta_iso = -p a0^3 / (B11 + 2 B12) = 0.0037600 at -2 GPa */
  kiln_pot *pp = pot("strain=relax pressure=-2.0");
  const double z[3] = {0, 0, 0};
  double eta[6];
  uniform(pp, z, eta);
  CHECK_CLOSE(eta[0], 0.0037600, 0, 2e-7);
  CHECK_CLOSE(eta[2], 0.0037600, 0, 2e-7);
  /* the same state in "cell" mode: E(u, cell strained by eta) equals the relaxed energy,
   * and the stress vanishes there */
  kiln_pot *pcell = pot("");
  double e2[6];
  uniform(pr, T[1].u, e2);
  kiln_atoms *a = lattice(2, 2, 2);
  double F[3][3] = {{1 + e2[0], e2[5] / 2, e2[4] / 2}, {e2[5] / 2, 1 + e2[1], e2[3] / 2},
                    {e2[4] / 2, e2[3] / 2, 1 + e2[2]}};
  double cell[3][3] = {{0}};
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) cell[r][c] = F[c][r] * 2 * A0;
  CHECK_OK(kiln_atoms_set_cell(a, cell, 1, &err));
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) a->x[i][c] += T[1].u[c];
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(pcell, a, KILN_EVAL_ALL, &r, &err));
  CHECK_CLOSE(r.energy / 8, T[1].rel, 0, 3e-8);
  /* at the strain optimum dE/d eta = 0: the virial is the u (x) f part alone */
  double wu[3][3] = {{0}};
  for (size_t i = 0; i < a->n; i++)
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++) wu[x][y] += (a->x[i][x] - 0) * 0 + T[1].u[x] * a->f[i][y];
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) CHECK_CLOSE(r.virial[x][y], 0.5 * (wu[x][y] + wu[y][x]), 0, 1e-6);
  kiln_atoms_free(a);
  kiln_pot_free(pc); kiln_pot_free(pr); kiln_pot_free(pp); kiln_pot_free(pcell);
}

/* random u on a 4x3x5 grid in a sheared, strained cell */
static kiln_atoms *random_state(uint64_t seed, double amp) {
  kiln_atoms *a = lattice(4, 3, 5);
  kiln_rng rng;
  kiln_rng_seed(&rng, seed, 0);
  double F[3][3] = {{1.012, 0.004, -0.003}, {0.002, 0.995, 0.006}, {-0.005, 0.003, 1.021}};
  double cell[3][3];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) cell[r][c] = F[c][r] * a->cell[r][r];
  CHECK_OK(kiln_atoms_set_cell(a, cell, 1, &err));
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) a->x[i][c] += amp * kiln_rng_normal(&rng) + (c == 2 ? 0.08 : 0);
  return a;
}

static void fd_check(const char *spec, double tolf, double tolw) {
  kiln_pot *p = pot(spec);
  kiln_atoms *a = random_state(11, 0.08);
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  double (*f)[3] = malloc(a->n * sizeof *f);
  memcpy(f, a->f, a->n * sizeof *f);
  double esum = 0;
  for (size_t i = 0; i < a->n; i++) esum += r.eatom[i];
  CHECK_CLOSE(esum, r.energy, 1e-12, 1e-12);
  const double h = 1e-5;
  double maxerr = 0, fbig = 0;
  for (size_t i = 0; i < a->n; i += 7)
    for (int c = 0; c < 3; c++) {
      double x0 = a->x[i][c];
      a->x[i][c] = x0 + h;
      double ep = energy(p, a);
      a->x[i][c] = x0 - h;
      double em = energy(p, a);
      a->x[i][c] = x0;
      double fd = -(ep - em) / (2 * h);
      maxerr = fmax(maxerr, fabs(fd - f[i][c]));
      fbig = fmax(fbig, fabs(f[i][c]));
    }
  printf("  %-50s force FD max err %.2e eV/A (max |f| %.3f)\n", spec, maxerr, fbig);
  CHECK(maxerr < tolf);
  /* virial: W[a][b] = -dE/d delta_ba for x -> (1+delta) x, cell -> (1+delta) cell */
  double werr = 0, wmax = 0;
  kiln_atoms *b = NULL;
  for (int pa = 0; pa < 3; pa++)
    for (int pb = pa; pb < 3; pb++) {
      double s = 0;
      for (int t = 0; t < 2; t++) {
        int x = t ? pb : pa, y = t ? pa : pb;
        double e[2];
        for (int sgn = 0; sgn < 2; sgn++) {
          CHECK_OK(kiln_atoms_copy(&b, a, &err));
          double d[3][3] = {{0}};
          d[y][x] = sgn ? -h : h;
          for (size_t i = 0; i < b->n; i++) {
            double q[3];
            for (int c = 0; c < 3; c++)
              q[c] = a->x[i][c] + d[c][0] * a->x[i][0] + d[c][1] * a->x[i][1] + d[c][2] * a->x[i][2];
            memcpy(b->x[i], q, sizeof q);
          }
          for (int v = 0; v < 3; v++)
            for (int c = 0; c < 3; c++)
              b->cell[v][c] = a->cell[v][c] + d[c][0] * a->cell[v][0] +
                              d[c][1] * a->cell[v][1] + d[c][2] * a->cell[v][2];
          e[sgn] = energy(p, b);
          kiln_atoms_free(b);
          b = NULL;
        }
        s += -(e[0] - e[1]) / (2 * h);
      }
      s *= 0.5;
      werr = fmax(werr, fabs(s - r.virial[pa][pb]));
      wmax = fmax(wmax, fabs(r.virial[pa][pb]));
    }
  printf("  %-50s virial FD max err %.2e eV (max |W| %.3f)\n", spec, werr, wmax);
  CHECK(werr < tolw);
  free(f);
  kiln_atoms_free(a);
  kiln_pot_free(p);
}

TEST(test_finite_differences) {
  fd_check("", 2e-7, 2e-6);
  fd_check("strain=relax pressure=-1.5", 2e-7, 2e-6);
  fd_check("strain=none inhomogeneous=false", 2e-7, 2e-6);
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  kiln_opts *fl = NULL;
  CHECK_OK(kiln_opts_add_table(o, "field", &fl, &err));
  CHECK_OK(kiln_opts_add_num(fl, NULL, 0.001, &err));
  CHECK_OK(kiln_opts_add_num(fl, NULL, -0.002, &err));
  CHECK_OK(kiln_opts_add_num(fl, NULL, 0.003, &err));
  kiln_pot *p = NULL;
  CHECK_OK(kiln_pot_new(&p, "effective_hamiltonian", o, &err));
  kiln_atoms *a = random_state(5, 0.05);
  double e0 = energy(p, a);
  kiln_pot *p0 = pot("");
  double e1 = energy(p0, a);
  double us[3] = {0};
  kiln_info *in = kiln_atoms_info_get(a, "effham_u");
  for (int c = 0; c < 3; c++) us[c] = in->val[c] * (double)a->n;
  CHECK_CLOSE(e0 - e1, -10.33 * (0.001 * us[0] - 0.002 * us[1] + 0.003 * us[2]), 1e-10, 1e-12);
  kiln_atoms_free(a);
  kiln_pot_free(p); kiln_pot_free(p0);
  kiln_opts_free(o);
}

static void symmetry(const char *spec) {
  kiln_pot *p = pot(spec);
  const int L = 4;
  kiln_atoms *a = lattice(L, L, L);
  kiln_rng rng;
  kiln_rng_seed(&rng, 3, 0);
  double (*u)[3] = malloc(a->n * sizeof *u);
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) {
      u[i][c] = 0.1 * kiln_rng_normal(&rng) + (c == 0 ? 0.05 : 0);
      a->x[i][c] += u[i][c];
    }
  double e0 = energy(p, a);
  const int perms[4][3] = {{1, 2, 0}, {1, 0, 2}, {2, 1, 0}, {0, 1, 2}};
  const int sg[4][3] = {{1, -1, 1}, {-1, 1, 1}, {1, 1, -1}, {-1, -1, -1}};
  for (int g = 0; g < 4; g++) {
    kiln_atoms *b = lattice(L, L, L);
    for (size_t i = 0; i < a->n; i++) {
      int R[3] = {(int)(i / (L * L)), (int)(i / L % L), (int)(i % L)};
      int R2[3];
      double u2[3];
      for (int c = 0; c < 3; c++) {
        R2[c] = ((sg[g][c] * R[perms[g][c]]) % L + L) % L;
        u2[c] = sg[g][c] * u[i][perms[g][c]];
      }
      size_t j = ((size_t)R2[0] * L + R2[1]) * L + R2[2];
      for (int c = 0; c < 3; c++) b->x[j][c] = R2[c] * A0 + u2[c];
    }
    CHECK_CLOSE(energy(p, b), e0, 1e-11, 1e-12);
    kiln_atoms_free(b);
  }
  /* the order of the atoms does not matter; translation by a lattice vector neither */
  kiln_atoms *c = lattice(L, L, L);
  for (size_t i = 0; i < a->n; i++) {
    size_t j = a->n - 1 - i;
    for (int k = 0; k < 3; k++) c->x[j][k] = a->x[i][k] + (k == 1 ? 3 * A0 : 0);
  }
  CHECK_CLOSE(energy(p, c), e0, 1e-11, 1e-12);
  kiln_atoms_free(c);
  free(u);
  kiln_atoms_free(a);
  kiln_pot_free(p);
}

TEST(test_cubic_symmetry) {
  /* E is invariant under the 48 cubic operations g applied to sites and modes together:
   * u'(gR) = g u(R) (checked for a few: axis permutations with sign changes) */
  symmetry("");
  symmetry("dipole=false inhomogeneous=false");
  symmetry("dipole=false inhomogeneous=false alpha=0 gamma=0 k1=0 k2=0 k3=0 k4=0");
  symmetry("inhomogeneous=false j1=0 j2=0 j3=0 j4=0 j6=0 alpha=0 gamma=0 k1=0 k2=0 k3=0 k4=0");
}

/* 6^3 cells, velocity Verlet from near the R-phase minimum at ~100 K for 200 fs;
 * returns etot(end) - etot(start) in eV per cell */
static double nve_drift(double dt) {
  kiln_pot *p = pot("");
  kiln_atoms *a = lattice(6, 6, 6);
  kiln_rng rng;
  kiln_rng_seed(&rng, 17, 0);
  const double kT = 8.617333262e-5 * 100.0, mv2 = 103.642697;  /* eV per amu A^2/fs^2 */
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) {
      a->x[i][c] += 0.085 + 0.02 * kiln_rng_normal(&rng);
      a->v[i][c] = sqrt(kT / (a->mass[i] * mv2)) * kiln_rng_normal(&rng);
    }
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_num(o, "dt", dt, &err));
  kiln_md *md = NULL;
  CHECK_OK(kiln_md_new(&md, "verlet", o, &err));
  CHECK_OK(kiln_md_run(md, a, p, 0, NULL, &err));
  kiln_thermo t0, t1;
  kiln_md_get_thermo(md, &t0);
  CHECK_OK(kiln_md_run(md, a, p, (long)(200.0 / dt + 0.5), NULL, &err));
  kiln_md_get_thermo(md, &t1);
  printf("  NVE 6^3 dt %.2f fs: T %.1f K -> %.1f K, etot %.8f -> %.8f eV (%.2e eV/cell)\n", dt,
         t0.T, t1.T, t0.etot, t1.etot, (t1.etot - t0.etot) / (double)a->n);
  CHECK(t0.T > 50 && t1.T > 50);
  double d = (t1.etot - t0.etot) / (double)a->n;
  kiln_md_free(md);
  kiln_opts_free(o);
  kiln_atoms_free(a);
  kiln_pot_free(p);
  return d;
}

TEST(test_nve) {
  /* energy conserved to O(dt^2): halving dt cuts the error about four times */
  double d1 = nve_drift(0.5), d2 = nve_drift(0.25);
  CHECK(fabs(d1) < 3e-6);
  CHECK(fabs(d2) < fabs(d1) / 3);
}

TEST(test_errors) {
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_str(o, "params", "/nonexistent.params", &err));
  kiln_pot *p = NULL;
  CHECK_ERR(kiln_pot_new(&p, "effective_hamiltonian", o, &err), KILN_EIO, "cannot open");
  kiln_opts_free(o);
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_str(o, "strain", "wobble", &err));
  CHECK_ERR(kiln_pot_new(&p, "effective_hamiltonian", o, &err), KILN_EINVAL, "wobble");
  kiln_opts_free(o);
  p = pot("");
  kiln_atoms *a = lattice(3, 3, 3);
  a->x[1][2] -= A0;  /* two atoms in one cell */
  CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, NULL, &err), KILN_EINVAL, "same cell");
  kiln_atoms_free(a);
  a = lattice(3, 3, 3);
  CHECK_OK(kiln_atoms_resize(a, 26, &err));
  CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, NULL, &err), KILN_EINVAL, "do not fill");
  kiln_atoms_free(a);
  kiln_pot_free(p);
}

int main(void) {
  RUN(test_half_eigenvalues);
  RUN(test_onsite_and_uniform);
  RUN(test_finite_differences);
  RUN(test_cubic_symmetry);
  RUN(test_nve);
  RUN(test_errors);
  return check_summary();
}
