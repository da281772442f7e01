/* tests/c/test_phonons.c: kiln_phonons against
 * - the analytic dispersion of an fcc crystal with nearest-neighbour springs at rest length,
 *   D_ab(q) = (k/m) Σ_NN (1 - cos q·R) R_a R_b / R²;
 * - phonopy 2.17 on the same force constants (tests/ref/phonons-*.{fc,freq,poscar}, written by
 *   tests/ref/gen_phonopy_ref.py): frequencies at 20 q-points, thermal properties and
 *   thermal displacements; kiln's recomputed force constants against the committed ones;
 * - FORCE_CONSTANTS round trips, DOS normalisation, the acoustic sum rule;
 * - thermal sampling: the sample-averaged MSD and kinetic temperature against the analytic
 *   mode sums; the quantum MSD against its classical high-T limit. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "kiln/kiln.h"
#include "kiln/linalg.h"
#include "kiln/phonons.h"

static kiln_error err;
static const double A_CU = 3.615, A_SI = 5.431, K_SPRING = 2.0;

static kiln_atoms *fcc_prim(void) {
  const double h = A_CU / 2;
  const double cell[3][3] = {{0, h, h}, {h, 0, h}, {h, h, 0}};
  const char *sym[1] = {"Cu"};
  const double frac[1][3] = {{0, 0, 0}};
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_crystal_from_cell(&a, cell, 1, sym, frac, &err));
  return a;
}

static kiln_atoms *si_prim(void) {
  const double h = A_SI / 2;
  const double cell[3][3] = {{0, h, h}, {h, 0, h}, {h, h, 0}};
  const char *sym[2] = {"Si", "Si"};
  const double frac[2][3] = {{0, 0, 0}, {0.25, 0.25, 0.25}};
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_crystal_from_cell(&a, cell, 2, sym, frac, &err));
  return a;
}

static kiln_pot *spring_pot(void) {
  const double r0 = A_CU / sqrt(2.0);
  kiln_opts *o = NULL;
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "k", K_SPRING, &err);
  kiln_opts_add_num(o, "r0", r0, &err);
  kiln_opts_add_num(o, "cutoff", 0.5 * (r0 + A_CU), &err);
  kiln_pot *p = NULL;
  CHECK_OK(kiln_pot_new(&p, "harmonic", o, &err));
  kiln_opts_free(o);
  return p;
}

static kiln_pot *sw_pot(void) {
  kiln_opts *o = NULL;
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "file", "/usr/share/lammps/potentials/Si.sw", &err);
  kiln_pot *p = NULL;
  CHECK_OK(kiln_pot_new(&p, "sw", o, &err));
  kiln_opts_free(o);
  return p;
}

/* analytic fcc NN-spring dynamical matrix (eV/(Å² amu)) */
static void fcc_dyn(const double q[3], double m, double d[9]) {
  for (int e = 0; e < 9; e++) d[e] = 0;
  const double h = A_CU / 2;
  for (int s1 = -1; s1 <= 1; s1 += 2)
    for (int s2 = -1; s2 <= 1; s2 += 2)
      for (int pl = 0; pl < 3; pl++) {
        double R[3] = {0, 0, 0};
        R[pl] = s1 * h;
        R[(pl + 1) % 3] = s2 * h;
        const double r2 = 2 * h * h, c = 1 - cos(q[0] * R[0] + q[1] * R[1] + q[2] * R[2]);
        for (int a = 0; a < 3; a++)
          for (int b = 0; b < 3; b++) d[3 * a + b] += K_SPRING / m * c * R[a] * R[b] / r2;
      }
}

static const double QF[6][3] = {{0.5, 0, 0.5}, {0.5, 0.5, 0.5}, {0.1, 0.2, 0.3},
                                {0.37, -0.21, 0.05}, {0.01, 0.0, 0.0}, {0.8, 0.45, 0.3}};

static double analytic_dev(const kiln_phonons *ph, double *dmax, double *fdev) {
  double worst = 0, scale = 0;
  *fdev = 0;
  for (int iq = 0; iq < 6; iq++) {
    double q[3], da[9], dk[18], wa[3], fk[3];
    kiln_phonons_q_cart(ph, QF[iq], q);
    fcc_dyn(q, kiln_phonons_unit(ph)->mass[0], da);
    CHECK_OK(kiln_phonons_dynmat(ph, q, dk, &err));
    for (int e = 0; e < 9; e++) {
      worst = fmax(worst, fmax(fabs(dk[2 * e] - da[e]), fabs(dk[2 * e + 1])));
      scale = fmax(scale, fabs(da[e]));
    }
    CHECK_OK(kiln_linalg_dsyev(3, da, wa, NULL, &err));
    CHECK_OK(kiln_phonons_modes(ph, q, fk, NULL, &err));
    for (int j = 0; j < 3; j++) {
      double fa = (wa[j] < 0 ? -1 : 1) * sqrt(fabs(wa[j])) * KILN_PHONON_THZ;
      *fdev = fmax(*fdev, fabs(fa - fk[j]));
    }
  }
  *dmax = scale;
  return worst;
}

TEST(test_fcc_spring_analytic) {
  kiln_atoms *u = fcc_prim();
  kiln_pot *p = spring_pot();
  if (!u || !p) return;
  /* X point by hand: ν_L = sqrt(8k/m), ν_T = sqrt(4k/m) */
  kiln_phonons *ph = NULL;
  kiln_phonons_settings s = {{4, 4, 4}, 1e-3, 4, 0};
  CHECK_OK(kiln_phonons_new(&ph, u, p, &s, NULL, NULL, &err));
  if (ph) {
    double dmax, fdev, dev = analytic_dev(ph, &dmax, &fdev);
    printf("  fcc NN springs, 4x4x4, stencil 4, delta 1e-3: max |D - D_analytic| %.2g (of %.3g "
           "eV/(A^2 amu)), max |nu - nu_analytic| %.2g THz\n", dev, dmax, fdev);
    CHECK(dev < 1e-10 * dmax);
    CHECK(fdev < 1e-10 * 8);
    double q[3], f[3];
    kiln_phonons_q_cart(ph, QF[0], q);
    CHECK_OK(kiln_phonons_modes(ph, q, f, NULL, &err));
    const double m = u->mass[0];
    CHECK_CLOSE(f[0], sqrt(4 * K_SPRING / m) * KILN_PHONON_THZ, 1e-10, 0);
    CHECK_CLOSE(f[2], sqrt(8 * K_SPRING / m) * KILN_PHONON_THZ, 1e-10, 0);
    kiln_phonons_free(ph);
  }
  /* the default 2-point stencil, delta 0.01: error O((delta/r0)^2) */
  kiln_phonons_settings s2 = {{4, 4, 4}, 0, 0, 0};
  CHECK_OK(kiln_phonons_new(&ph, u, p, &s2, NULL, NULL, &err));
  if (ph) {
    double dmax, fdev, dev = analytic_dev(ph, &dmax, &fdev);
    printf("  default stencil (+-0.01 A): max |D - D_analytic| %.2g, max |dnu| %.2g THz\n", dev, fdev);
    CHECK(dev < 1e-4 * dmax);
    CHECK(dev > 1e-9 * dmax);  /* the O(delta^2) error is really there */
    kiln_phonons_free(ph);
  }
  kiln_pot_free(p);
  kiln_atoms_free(u);
}

/* ---- phonopy reference files ---- */
typedef struct {
  int nq;
  double q[32][3], f[32][6];
  int nt;
  double T[4], F[4], S[4], C[4];
  double msdT, msd[6];
} pref;

static int read_ref(const char *file, pref *r, int m) {
  FILE *f = fopen(file, "r");
  if (!f) return 0;
  char line[1024];
  r->nq = r->nt = 0;
  while (fgets(line, sizeof line, f)) {
    char *s = line, *e;
    if (line[0] == 'q' && r->nq < 32) {
      s++;
      for (int c = 0; c < 3; c++) { r->q[r->nq][c] = strtod(s, &e); s = e; }
      for (int j = 0; j < m; j++) { r->f[r->nq][j] = strtod(s, &e); s = e; }
      r->nq++;
    } else if (!strncmp(line, "thermal", 7) && r->nt < 4) {
      s += 7;
      r->T[r->nt] = strtod(s, &e); s = e;
      r->F[r->nt] = strtod(s, &e); s = e;
      r->S[r->nt] = strtod(s, &e); s = e;
      r->C[r->nt] = strtod(s, &e);
      r->nt++;
    } else if (!strncmp(line, "msd", 3)) {
      s += 3;
      r->msdT = strtod(s, &e); s = e;
      for (int j = 0; j < m; j++) { r->msd[j] = strtod(s, &e); s = e; }
    }
  }
  fclose(f);
  return r->nq;
}

static void phonopy_case(const char *name, kiln_atoms *u, kiln_pot *p, int n) {
  char fc[256], fr[256];
  snprintf(fc, sizeof fc, "tests/ref/phonons-%s.fc", name);
  snprintf(fr, sizeof fr, "tests/ref/phonons-%s.freq", name);
  const size_t m = 3 * u->n;
  pref r;
  CHECK(read_ref(fr, &r, (int)m) == 20);
  kiln_phonons_settings s = {{n, n, n}, 0, 0, 0};
  kiln_phonons *ref = NULL, *ph = NULL;
  CHECK_OK(kiln_phonons_read_fc(&ref, u, &s, fc, &err));
  CHECK_OK(kiln_phonons_new(&ph, u, p, &s, NULL, NULL, &err));
  if (!ref || !ph) { kiln_phonons_free(ref); kiln_phonons_free(ph); return; }
  /* kiln's force constants, recomputed, against the committed ones */
  const double *a = kiln_phonons_fc(ph), *b = kiln_phonons_fc(ref);
  double fcdev = 0;
  for (size_t e = 0; e < u->n * kiln_phonons_nsuper(ph) * 9; e++) fcdev = fmax(fcdev, fabs(a[e] - b[e]));
  CHECK(fcdev < 1e-8);
  /* frequencies against phonopy's on the same force constants */
  double fdev = 0, fdev2 = 0;
  for (int iq = 0; iq < r.nq; iq++) {
    double q[3], f[6], f2[6];
    kiln_phonons_q_cart(ref, r.q[iq], q);
    CHECK_OK(kiln_phonons_modes(ref, q, f, NULL, &err));
    CHECK_OK(kiln_phonons_modes(ph, q, f2, NULL, &err));
    for (size_t j = 0; j < m; j++) {
      fdev = fmax(fdev, fabs(f[j] - r.f[iq][j]));
      fdev2 = fmax(fdev2, fabs(f2[j] - r.f[iq][j]));
    }
  }
  CHECK(fdev < 1e-6);
  CHECK(fdev2 < 1e-6);
  /* thermal properties and displacements (8x8x8 mesh) */
  const int mesh[3] = {8, 8, 8};
  double tdev = 0;
  for (int t = 0; t < r.nt; t++) {
    double F, S, C, E;
    CHECK_OK(kiln_phonons_thermal(ref, mesh, r.T[t], &F, &S, &C, &E, &err));
    /* phonopy 2.17 computes these with its own (older) k_B = 8.617343e-5 eV/K and THz->eV,
     * 1.1e-6 relative from kiln's CODATA 2018 values: hence 1e-5, not 1e-6 */
    CHECK_CLOSE(F, r.F[t], 1e-5, 2e-7);
    CHECK_CLOSE(S, r.S[t], 1e-5, 1e-12);
    CHECK_CLOSE(C, r.C[t], 1e-5, 1e-12);
    CHECK_CLOSE(E, F + r.T[t] * S, 1e-10, 1e-12);
    tdev = fmax(tdev, fabs(F - r.F[t]) / fabs(r.F[t]));
  }
  double u2[2 * 9], mdev = 0;
  CHECK_OK(kiln_phonons_msd(ref, mesh, r.msdT, 1, u2, &err));
  for (size_t k = 0; k < u->n; k++)
    for (int c = 0; c < 3; c++) {
      CHECK_CLOSE(u2[k * 9 + 4 * c], r.msd[3 * k + (size_t)c], 2e-6, 0);
      mdev = fmax(mdev, fabs(u2[k * 9 + 4 * c] / r.msd[3 * k + (size_t)c] - 1));
    }
  printf("  %s (%dx%dx%d): max |nu - nu_phonopy| %.2g THz (FC read from file), %.2g THz (FC "
         "recomputed; max |dPhi| %.2g eV/A^2); thermal F rel. %.2g, MSD rel. %.2g\n", name, n, n, n,
         fdev, fdev2, fcdev, tdev, mdev);
  kiln_phonons_free(ref);
  kiln_phonons_free(ph);
}

TEST(test_phonopy) {
  kiln_atoms *u = si_prim(), *v = fcc_prim();
  kiln_pot *p = sw_pot(), *q = spring_pot();
  if (u && p) phonopy_case("si-sw", u, p, 3);
  if (v && q) phonopy_case("fcc-spring", v, q, 4);
  kiln_pot_free(p);
  kiln_pot_free(q);
  kiln_atoms_free(u);
  kiln_atoms_free(v);
}

TEST(test_fc_files_dos_asr) {
  kiln_atoms *u = si_prim();
  kiln_pot *p = sw_pot();
  if (!u || !p) return;
  kiln_phonons_settings s = {{2, 2, 2}, 0, 0, 0};
  kiln_phonons *ph = NULL, *b = NULL;
  CHECK_OK(kiln_phonons_new(&ph, u, p, &s, NULL, NULL, &err));
  if (!ph) return;
  const size_t nfc = 2 * kiln_phonons_nsuper(ph) * 9;
  for (int compact = 0; compact < 2; compact++) {
    char file[64];
    snprintf(file, sizeof file, "/tmp/kiln_phonons_fc_%ld.txt", (long)getpid());
    CHECK_OK(kiln_phonons_write_fc(ph, file, compact, &err));
    CHECK_OK(kiln_phonons_read_fc(&b, u, &s, file, &err));
    if (b) {
      double dev = 0;
      for (size_t e = 0; e < nfc; e++) dev = fmax(dev, fabs(kiln_phonons_fc(ph)[e] - kiln_phonons_fc(b)[e]));
      CHECK(dev < 1e-14);
      kiln_phonons_free(b);
      b = NULL;
    }
    remove(file);
  }
  /* index maps are inverse */
  for (size_t j = 0; j < kiln_phonons_nsuper(ph); j++)
    CHECK(kiln_phonons_from_phonopy(ph, kiln_phonons_to_phonopy(ph, j)) == j);
  /* DOS: integral 3 nb, pdos sums to dos, equal halves for the two Si atoms */
  const int mesh[3] = {6, 6, 6};
  enum { NB = 400 };
  static double f[NB], d[NB], pd[2 * NB];
  CHECK_OK(kiln_phonons_dos(ph, mesh, 0.2, 0, 0, NB, f, d, pd, &err));
  double integral = 0, pdev = 0, hdev = 0;
  for (int i = 0; i < NB; i++) {
    integral += d[i] * (f[1] - f[0]);
    pdev = fmax(pdev, fabs(pd[i] + pd[NB + i] - d[i]));
    hdev = fmax(hdev, fabs(pd[i] - pd[NB + i]));
  }
  CHECK_CLOSE(integral, 6.0, 1e-6, 0);
  CHECK(pdev < 1e-12);
  CHECK(hdev < 1e-9);
  /* acoustic sum rule: rows sum to zero, Γ acoustic frequencies vanish */
  kiln_phonons_settings sa = s;
  sa.asr = 1;
  CHECK_OK(kiln_phonons_new_fc(&b, u, &sa, kiln_phonons_fc(ph), &err));
  if (b) {
    double q0[3] = {0, 0, 0}, f0[6], f1[6];
    CHECK_OK(kiln_phonons_modes(ph, q0, f0, NULL, &err));
    CHECK_OK(kiln_phonons_modes(b, q0, f1, NULL, &err));
    printf("  Si SW 2x2x2: DOS integral %.8f; Gamma acoustic |nu| without ASR %.2g, with %.2g THz\n",
           integral, fmax(fabs(f0[0]), fabs(f0[2])), fmax(fabs(f1[0]), fabs(f1[2])));
    CHECK(fabs(f1[0]) < 1e-5 && fabs(f1[2]) < 1e-5);
    CHECK_CLOSE(f1[5], f0[5], 1e-6, 0);
    kiln_phonons_free(b);
  }
  /* errors */
  kiln_phonons_settings bad = {{0, 2, 2}, 0, 0, 0};
  CHECK_ERR(kiln_phonons_new(&b, u, p, &bad, NULL, NULL, &err), KILN_EINVAL, "supercell");
  kiln_phonons_settings bst = {{2, 2, 2}, 0.01, 3, 0};
  CHECK_ERR(kiln_phonons_new(&b, u, p, &bst, NULL, NULL, &err), KILN_EINVAL, "stencil");
  CHECK_ERR(kiln_phonons_read_fc(&b, u, &s, "tests/ref/no-such-file", &err), KILN_EIO, "no-such-file");
  kiln_phonons_settings s3 = {{3, 3, 3}, 0, 0, 0};
  CHECK_ERR(kiln_phonons_read_fc(&b, u, &s3, "tests/ref/phonons-fcc-spring.fc", &err), KILN_EFORMAT,
            "does not fit");
  u->pbc[2] = 0;
  CHECK_ERR(kiln_phonons_new(&b, u, p, &s, NULL, NULL, &err), KILN_EINVAL, "periodic");
  const int m0[3] = {0, 1, 1};
  double u2[18];
  CHECK_ERR(kiln_phonons_msd(ph, m0, 300, 1, u2, &err), KILN_EINVAL, "mesh");
  CHECK(b == NULL);
  kiln_phonons_free(ph);
  kiln_pot_free(p);
  kiln_atoms_free(u);
}

TEST(test_sampling) {
  kiln_atoms *u = si_prim();
  kiln_pot *p = sw_pot();
  if (!u || !p) return;
  kiln_phonons_settings s = {{3, 3, 3}, 0, 0, 1};
  kiln_phonons *ph = NULL;
  CHECK_OK(kiln_phonons_new(&ph, u, p, &s, NULL, NULL, &err));
  if (!ph) return;
  const int mesh[3] = {3, 3, 3};
  for (int quantum = 0; quantum < 2; quantum++) {
    const double T = 300;
    double u2[18];
    CHECK_OK(kiln_phonons_msd(ph, mesh, T, quantum, u2, &err));
    const int ns = 300;
    double sum[2] = {0, 0}, sum2[2] = {0, 0}, tsum = 0, tsum2 = 0, com = 0;
    kiln_atoms *a0 = NULL;
    kiln_atoms_supercell(&a0, u, 3, 3, 3, &err);
    for (int k = 0; k < ns; k++) {
      kiln_atoms *a = NULL;
      CHECK_OK(kiln_phonons_sample(ph, mesh, T, quantum, 11, (uint64_t)k, 1, &a, &err));
      if (!a) break;
      double msd[2] = {0, 0}, c[3] = {0, 0, 0};
      for (size_t i = 0; i < a->n; i++)
        for (int d = 0; d < 3; d++) {
          double dx = a->x[i][d] - a0->x[i][d];
          msd[i % 2] += dx * dx / (double)(a->n / 2);
          c[d] += dx / (double)a->n;
        }
      com = fmax(com, sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]));
      for (int b = 0; b < 2; b++) { sum[b] += msd[b]; sum2[b] += msd[b] * msd[b]; }
      double t = kiln_atoms_temperature(a);
      tsum += t;
      tsum2 += t * t;
      kiln_atoms_free(a);
    }
    for (int b = 0; b < 2; b++) {
      double mean = sum[b] / ns, sd = sqrt((sum2[b] / ns - mean * mean) / (ns - 1));
      double exact = u2[9 * b] + u2[9 * b + 4] + u2[9 * b + 8];
      if (b == 0)
        printf("  sampling %s 300 K, 3x3x3, %d samples: <|u|^2> %.6f +- %.6f A^2, mode sum %.6f "
               "(%.1f sigma)", quantum ? "quantum" : "classical", ns, mean, sd, exact,
               fabs(mean - exact) / sd);
      CHECK(fabs(mean - exact) < 4 * sd);
      CHECK(sd < 0.03 * exact);
    }
    double tm = tsum / ns, tsd = sqrt((tsum2 / ns - tm * tm) / (ns - 1));
    /* classical: <Ekin> = (3N-3)/2 kT exactly; quantum: larger (zero-point motion) */
    printf("; T_kin %.1f +- %.1f K; max |COM shift| %.1g A\n", tm, tsd, com);
    if (!quantum) CHECK(fabs(tm - T) < 4 * tsd);
    else CHECK(tm > T + 10 * tsd);
    CHECK(com < 1e-12);
    kiln_atoms_free(a0);
  }
  /* the same seed and stream give the same snapshot */
  kiln_atoms *x1 = NULL, *x2 = NULL;
  CHECK_OK(kiln_phonons_sample(ph, mesh, 300, 1, 5, 2, 0, &x1, &err));
  CHECK_OK(kiln_phonons_sample(ph, mesh, 300, 1, 5, 2, 0, &x2, &err));
  if (x1 && x2) CHECK(memcmp(x1->x, x2->x, x1->n * sizeof *x1->x) == 0 && x1->v[0][0] == 0);
  kiln_atoms_free(x1);
  kiln_atoms_free(x2);
  /* quantum -> classical: <u²>_q - <u²>_c -> ħ² (3 - 3 m/(Nq M)) / (12 kT m) per atom */
  const int mesh4[3] = {4, 4, 4};
  for (int it = 0; it < 2; it++) {
    const double T = it ? 30000.0 : 3000.0;
    double uq[18], uc[18];
    CHECK_OK(kiln_phonons_msd(ph, mesh4, T, 1, uq, &err));
    CHECK_OK(kiln_phonons_msd(ph, mesh4, T, 0, uc, &err));
    const double mass = u->mass[0], nq = 64;
    double diff = uq[0] + uq[4] + uq[8] - uc[0] - uc[4] - uc[8];
    double lim = KILN_HBAR * KILN_HBAR / (12 * KILN_KB * T * KILN_MVV2E * mass) * (3 - 3 * 0.5 / nq);
    printf("  quantum - classical <|u|^2> at %.0f K: %.6e A^2, high-T limit %.6e (rel. %.2g)\n", T,
           diff, lim, diff / lim - 1);
    CHECK_CLOSE(diff, lim, it ? 1e-4 : 1e-2, 0);
  }
  kiln_phonons_free(ph);
  kiln_pot_free(p);
  kiln_atoms_free(u);
}

int main(void) {
  omp_set_num_threads(1);
  RUN(test_fcc_spring_analytic);
  RUN(test_phonopy);
  RUN(test_fc_files_dos_asr);
  RUN(test_sampling);
  return check_summary();
}
