/* tests/c/test_npt.c: the "npt" integrator (stochastic cell rescaling barostat).
 *
 * System: LJ argon fcc 3x3x3 (108 atoms; epsilon 0.0104 eV, sigma 3.40 Å, cutoff
 * 8.5 Å, shifted) at 30 K, dt = 5 fs.
 *  1. Isotropic NpT at P0 = 0: <V> against the volume where the NVT pressure is P0
 *     (linear fit of <P>(V) from NVT runs at three volumes, an independent estimate),
 *     and the bulk modulus from the volume fluctuations, B = kT <V> / <dV^2>, against
 *     B = -V dP/dV from the same NVT fit; both within their combined statistical errors.
 *  2. NST: a cell sheared by 0.06 (x += 0.06 y) relaxes under zero target stress: the
 *     cell angles return to 90 degrees and the shear stress to zero.
 *  3. The isothermal-isobaric ensemble: the kinetic energy is Gamma(Nf/2, kT) (mean and
 *     variance), the virial theorem <V (P_int - P0)> = -kT holds, and the effective
 *     energy (thermo.conserved) drifts by much less than its natural fluctuation.
 *  4. Negative pressure: at P0 = -0.15 GPa the crystal expands to the NVT volume where
 *     <P> = -0.15 GPa.
 *  5. P0 = 0 with an enormous tau_p reduces to NVT (csvr): the same trajectory.
 *  6. Checkpoint / resume bit-identical (iso and full).
 *  7. Option errors.
 * KILN_SHORT=1 (sanitizer builds) runs shorter with wider tolerances. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kiln/kiln.h"

static int g_short = 0;
static kiln_error err;
static const double TEMP = 30.0;

/* ------------------------------------------------------------- helpers */

static kiln_atoms *argon(int rep, double a0) {
  kiln_atoms *unit = NULL, *a = NULL;
  CHECK_OK(kiln_crystal_fcc(&unit, "Ar", a0, &err));
  if (unit) CHECK_OK(kiln_atoms_supercell(&a, unit, rep, rep, rep, &err));
  kiln_atoms_free(unit);
  return a;
}

static void set_velocities(kiln_atoms *a, double T, uint64_t seed) {
  kiln_rng r;
  kiln_rng_seed(&r, seed, 99);
  for (size_t i = 0; i < a->n; i++) {
    double sd = sqrt(KILN_KB * T / (a->mass[i] * KILN_MVV2E));
    for (int d = 0; d < 3; d++) a->v[i][d] = sd * kiln_rng_normal(&r);
  }
  kiln_atoms_zero_momentum(a);
}

static kiln_pot *lj(void) {
  kiln_opts *o = NULL;
  kiln_pot *p = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_num(o, "epsilon", 0.0104, &err));
  CHECK_OK(kiln_opts_add_num(o, "sigma", 3.40, &err));
  CHECK_OK(kiln_opts_add_num(o, "cutoff", 8.5, &err));
  CHECK_OK(kiln_opts_add_bool(o, "shift", 1, &err));
  CHECK_OK(kiln_pot_new(&p, "lj", o, &err));
  kiln_opts_free(o);
  return p;
}

/* md from "key=value" pairs: numbers, or strings when the value starts with a letter */
static kiln_status make_md(kiln_md **md, const char *style, const char *spec) {
  kiln_opts *o = NULL;
  kiln_status st = kiln_opts_new(&o, &err);
  char buf[512], *save = NULL;
  snprintf(buf, sizeof buf, "%s", spec);
  for (char *tok = strtok_r(buf, " ", &save); !st && tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) continue;
    *eq = '\0';
    const char *v = eq + 1;
    if ((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z'))
      st = kiln_opts_add_str(o, tok, v, &err);
    else
      st = kiln_opts_add_num(o, tok, atof(v), &err);
  }
  if (!st) st = kiln_md_new(md, style, o, &err);
  kiln_opts_free(o);
  return st;
}

/* everything an observer records */
typedef struct rec {
  size_t n, cap;
  double *V, *P, *ekin, *cons, *epot, *pxy, *ang;
} rec;

static kiln_status record(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                          kiln_error *e) {
  (void)a; (void)e; (void)step;
  rec *r = ud;
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 4096;
    r->V = realloc(r->V, r->cap * sizeof(double));
    r->P = realloc(r->P, r->cap * sizeof(double));
    r->ekin = realloc(r->ekin, r->cap * sizeof(double));
    r->cons = realloc(r->cons, r->cap * sizeof(double));
    r->epot = realloc(r->epot, r->cap * sizeof(double));
    r->pxy = realloc(r->pxy, r->cap * sizeof(double));
    r->ang = realloc(r->ang, r->cap * sizeof(double));
  }
  r->V[r->n] = th->volume;
  r->P[r->n] = th->pressure;
  r->ekin[r->n] = th->ekin;
  r->cons[r->n] = th->conserved;
  r->epot[r->n] = th->epot;
  r->pxy[r->n] = th->ptensor[0][1];   /* GPa, signed */
  r->ang[r->n] = th->angles[2] - 90.0; /* gamma (a, b) - 90 degrees, signed */
  r->n++;
  return KILN_OK;
}

static void rec_free(rec *r) {
  free(r->V); free(r->P); free(r->ekin); free(r->cons); free(r->epot); free(r->pxy);
  free(r->ang);
  memset(r, 0, sizeof *r);
}

static double mean(const double *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s / (double)n;
}

static double variance(const double *x, size_t n) {
  double m = mean(x, n), s = 0;
  for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return s / (double)(n - 1);
}

/* standard error of the mean from nb block averages */
static double block_sem(const double *x, size_t n, size_t nb) {
  size_t len = n / nb;
  double bm[64];
  for (size_t b = 0; b < nb; b++) bm[b] = mean(x + b * len, len);
  return sqrt(variance(bm, nb) / (double)nb);
}

static kiln_status run_rec(kiln_md *md, kiln_atoms *a, kiln_pot *p, long nsteps, rec *r) {
  kiln_observer ob = {record, r, 1, 0};
  kiln_md_run_opts ro = {.obs = r ? &ob : NULL, .nobs = r ? 1 : 0};
  return kiln_md_run(md, a, p, nsteps, &ro, &err);
}

/* --------------------------------------------------- NVT reference P(V) */

static double lattice_for(double V) { return cbrt(V / 27.0); }

/* NVT (csvr) <P> (GPa) and its error at volume V */
static void nvt_p(kiln_pot *p, double V, long nsteps, double *mP, double *sP) {
  kiln_atoms *a = argon(3, lattice_for(V));
  set_velocities(a, TEMP, 5);
  kiln_md *md = NULL;
  CHECK_OK(make_md(&md, "csvr", "dt=5 T=30 tau=100 seed=11"));
  CHECK_OK(run_rec(md, a, p, 1000, NULL)); /* equilibrate */
  rec r = {0};
  CHECK_OK(run_rec(md, a, p, nsteps, &r));
  *mP = mean(r.P, r.n);
  *sP = block_sem(r.P, r.n, 20);
  rec_free(&r);
  kiln_md_free(md);
  kiln_atoms_free(a);
}

/* NpT with the SCR barostat from "extra" options; records the production run */
static void npt_run(kiln_pot *p, const char *extra, long neq, long nsteps, rec *r,
                    kiln_md **keep) {
  kiln_atoms *a = argon(3, 5.30);
  set_velocities(a, TEMP, 3);
  kiln_md *md = NULL;
  char spec[256];
  snprintf(spec, sizeof spec, "dt=5 T=30 tau_p=500 compressibility=0.4 seed=7 %s", extra);
  CHECK_OK(make_md(&md, "npt", spec));
  CHECK_OK(run_rec(md, a, p, neq, NULL)); /* equilibrate */
  CHECK_OK(run_rec(md, a, p, nsteps, r));
  if (keep) *keep = md;
  else kiln_md_free(md);
  kiln_atoms_free(a);
}

/* ------------------------------------------------------------------ tests */

/* 1 and 3: one isotropic NpT run at P0 = 0 */
TEST(test_iso_volume_bulk_modulus_ensemble) {
  kiln_pot *p = lj();
  rec r = {0};
  kiln_md *md = NULL;
  npt_run(p, "P=0 thermostat=csvr tau=100", 2000, g_short ? 8000 : 40000, &r, &md);
  const double kT = KILN_KB * TEMP;
  const double mV = mean(r.V, r.n), sV = block_sem(r.V, r.n, 20);
  double Bb[10];
  const size_t len = r.n / 10;
  for (int b = 0; b < 10; b++)
    Bb[b] = kT * mean(r.V + b * len, len) / variance(r.V + b * len, len) * KILN_EV_PER_A3_TO_GPA;
  const double B = kT * mV / variance(r.V, r.n) * KILN_EV_PER_A3_TO_GPA;
  const double sB = sqrt(variance(Bb, 10) / 10.0);

  /* NVT reference: <P> at <V> and +-1.5 % */
  const double h = 0.015 * mV;
  double P[3], sP[3];
  for (int k = 0; k < 3; k++) nvt_p(p, mV + (k - 1) * h, g_short ? 3000 : 10000, &P[k], &sP[k]);
  const double slope = (P[2] - P[0]) / (2 * h);             /* GPa/Å^3 */
  const double sslope = sqrt(sP[2] * sP[2] + sP[0] * sP[0]) / (2 * h);
  const double Bref = -mV * slope, sBref = mV * sslope;
  /* volume where the NVT pressure is 0 (quadratic through the three points) */
  const double curv = (P[2] - 2 * P[1] + P[0]) / (h * h);
  const double dV = -P[1] / slope - 0.5 * curv * (P[1] / slope) * (P[1] / slope) / slope;
  const double Vref = mV + dV, sVref = sP[1] / fabs(slope);
  printf("  iso P0=0: <V> = %.2f +- %.2f A^3, NVT <P>(V) = 0 at %.2f +- %.2f A^3\n", mV, sV,
         Vref, sVref);
  printf("  B from volume fluctuations %.3f +- %.3f GPa, from NVT -V dP/dV %.3f +- %.3f GPa\n",
         B, sB, Bref, sBref);
  for (int k = 0; k < 3; k++)
    printf("    NVT V = %.2f A^3: <P> = %.5f +- %.5f GPa\n", mV + (k - 1) * h, P[k], sP[k]);
  const double zV = fabs(mV - Vref) / sqrt(sV * sV + sVref * sVref);
  const double zB = fabs(B - Bref) / sqrt(sB * sB + sBref * sBref);
  printf("    z(V) = %.2f, z(B) = %.2f\n", zV, zB);
  CHECK(zV < 4.0);
  CHECK(zB < 4.0);
  CHECK(fabs(B - Bref) < 0.3 * Bref);

  /* 3: the ensemble. Kinetic energy Gamma(Nf/2, kT) (csvr keeps zero momentum) */
  const double nf = 3.0 * 108 - 3.0;
  const double mK = mean(r.ekin, r.n), sK = block_sem(r.ekin, r.n, 20);
  const double vK = variance(r.ekin, r.n);
  double vb[10];
  for (int b = 0; b < 10; b++) vb[b] = variance(r.ekin + b * len, len);
  const double svK = sqrt(variance(vb, 10) / 10.0);
  printf("  <K> = %.5f +- %.5f eV (Nf kT/2 = %.5f); var K = %.3e +- %.1e (Nf (kT)^2/2 = %.3e)\n",
         mK, sK, 0.5 * nf * kT, vK, svK, 0.5 * nf * kT * kT);
  CHECK(fabs(mK - 0.5 * nf * kT) < 4 * sK + 1e-12);
  CHECK(fabs(vK - 0.5 * nf * kT * kT) < 4 * svK);
  /* virial theorem of the NpT ensemble: <V (P_int - P0)> = -kT */
  double *vp = malloc(r.n * sizeof *vp);
  for (size_t i = 0; i < r.n; i++) vp[i] = r.V[i] * r.P[i] / KILN_EV_PER_A3_TO_GPA;
  const double mvp = mean(vp, r.n), svp = block_sem(vp, r.n, 20);
  printf("  <V P_int> = %.4f +- %.4f eV (-kT = %.4f)\n", mvp, svp, -kT);
  CHECK(fabs(mvp + kT) < 4 * svp);
  free(vp);
  /* effective energy: drift over the run against the fluctuation of etot + P0 V */
  double *h0 = malloc(r.n * sizeof *h0);
  for (size_t i = 0; i < r.n; i++) h0[i] = r.epot[i] + r.ekin[i];
  const double sd_h = sqrt(variance(h0, r.n));
  const double drift = fabs(mean(r.cons + r.n - len, len) - mean(r.cons, len));
  double cmin = r.cons[0], cmax = r.cons[0];
  for (size_t i = 0; i < r.n; i++) cmin = fmin(cmin, r.cons[i]), cmax = fmax(cmax, r.cons[i]);
  printf("  effective energy: drift %.2e eV over %zu steps, range %.2e eV; sd(etot) %.2e eV\n",
         drift, r.n, cmax - cmin, sd_h);
  CHECK(drift < 0.05 * sd_h);
  CHECK(cmax - cmin < 0.2 * sd_h);
  free(h0);
  rec_free(&r);
  kiln_md_free(md);
  kiln_pot_free(p);
}

/* 4: tension */
TEST(test_negative_pressure) {
  kiln_pot *p = lj();
  rec r = {0};
  npt_run(p, "P=-0.15 damping=200", 2000, g_short ? 4000 : 15000, &r, NULL);
  const double mV = mean(r.V, r.n), sV = block_sem(r.V, r.n, 20);
  double P, sP;
  nvt_p(p, mV, g_short ? 3000 : 10000, &P, &sP);
  /* the NVT pressure at <V> is P0 up to the volume error times the modulus (~2.3 GPa) */
  const double sPV = 2.3 * sV / mV;
  printf("  P0 = -0.15 GPa (langevin): <V> = %.2f +- %.2f A^3 (%.2f%% above V(P=0) ~ 4114); NVT "
         "<P> there = %.4f +- %.4f GPa\n", mV, sV, 100 * (mV / 4114.0 - 1), P, sP);
  CHECK(mV > 4114.0 * 1.04);
  CHECK(fabs(P + 0.15) < 4 * sqrt(sP * sP + sPV * sPV));
  rec_free(&r);
  kiln_pot_free(p);
}

/* 2: a sheared cell relaxes under zero stress (NST) */
TEST(test_nst_relaxes_shear) {
  kiln_pot *p = lj();
  kiln_atoms *a = argon(3, 5.30);
  double cell[3][3];
  memcpy(cell, a->cell, sizeof cell);
  for (int k = 0; k < 3; k++) cell[k][0] += 0.06 * cell[k][1];  /* x += 0.06 y */
  CHECK_OK(kiln_atoms_set_cell(a, cell, 1, &err));
  set_velocities(a, 10.0, 4);
  kiln_md *md = NULL;
  CHECK_OK(make_md(&md, "npt", "dt=5 T=10 mode=full P=0 tau_p=300 compressibility=0.4 "
                               "thermostat=langevin damping=200 seed=2"));
  rec r0 = {0};
  CHECK_OK(run_rec(md, a, p, 1, &r0));
  rec r = {0};
  CHECK_OK(run_rec(md, a, p, g_short ? 3000 : 6000, &r));
  const size_t tail = r.n / 4;
  const double pxy = mean(r.pxy + r.n - tail, tail), ang = mean(r.ang + r.n - tail, tail);
  const double sang = block_sem(r.ang + r.n - tail, tail, 10);
  const double spxy = block_sem(r.pxy + r.n - tail, tail, 10);
  printf("  NST: start gamma - 90 = %.3f deg, Pxy = %.4f GPa; last quarter: <gamma - 90> = %.4f "
         "+- %.4f deg, <Pxy> = %.5f +- %.5f GPa\n", r0.ang[0], r0.pxy[0], ang, sang, pxy, spxy);
  CHECK(fabs(r0.ang[0]) > 3.0);
  CHECK(fabs(ang) < 0.25 && fabs(ang) < 4 * sang + 0.02);
  CHECK(fabs(pxy) < 0.05 * fabs(r0.pxy[0]) && fabs(pxy) < 4 * spxy + 1e-3);
  rec_free(&r0);
  rec_free(&r);
  kiln_md_free(md);
  kiln_atoms_free(a);
  kiln_pot_free(p);
}

/* 5: P = 0 with an enormous tau_p is NVT */
TEST(test_huge_taup_is_nvt) {
  kiln_pot *p = lj();
  kiln_atoms *a = argon(3, 5.30), *b = NULL;
  set_velocities(a, TEMP, 8);
  CHECK_OK(kiln_atoms_copy(&b, a, &err));
  kiln_md *m1 = NULL, *m2 = NULL;
  CHECK_OK(make_md(&m1, "npt", "dt=5 T=30 P=0 tau_p=1e30 tau=100 seed=5"));
  CHECK_OK(make_md(&m2, "csvr", "dt=5 T=30 tau=100 seed=5"));
  CHECK_OK(run_rec(m1, a, p, 300, NULL));
  CHECK_OK(run_rec(m2, b, p, 300, NULL));
  double dx = 0, dv = 0;
  for (size_t i = 0; i < a->n; i++)
    for (int d = 0; d < 3; d++) {
      dx = fmax(dx, fabs(a->x[i][d] - b->x[i][d]));
      dv = fmax(dv, fabs(a->v[i][d] - b->v[i][d]));
    }
  printf("  tau_p = 1e30 fs vs csvr after 300 steps: max |dx| = %.2e A, |dv| = %.2e A/fs, "
         "V %.6f vs %.6f\n", dx, dv, kiln_atoms_volume(a), kiln_atoms_volume(b));
  CHECK(dx < 1e-8 && dv < 1e-10);
  CHECK_CLOSE(kiln_atoms_volume(a), kiln_atoms_volume(b), 1e-12, 0);
  kiln_md_free(m1); kiln_md_free(m2);
  kiln_atoms_free(a); kiln_atoms_free(b);
  kiln_pot_free(p);
}

/* 6: checkpoint and resume are bit-identical */
static void resume_identity(const char *spec) {
  const char *fa = "build/test_npt_A.chk", *fb = "build/test_npt_B.chk";
  kiln_pot *p = lj();
  kiln_atoms *a0 = argon(3, 5.30);
  set_velocities(a0, TEMP, 21);
  kiln_atoms *A = NULL, *B = NULL, *B2 = NULL;
  CHECK_OK(kiln_atoms_copy(&A, a0, &err));
  CHECK_OK(kiln_atoms_copy(&B, a0, &err));
  kiln_md *mA = NULL, *mB = NULL, *mB2 = NULL;
  CHECK_OK(make_md(&mA, "npt", spec));
  CHECK_OK(make_md(&mB, "npt", spec));
  CHECK_OK(make_md(&mB2, "npt", spec));
  kiln_md_run_opts ro = {.checkpoint = fa, .checkpoint_every = 50};
  CHECK_OK(kiln_md_run(mA, A, p, 200, &ro, &err));
  kiln_md_run_opts rb = {.checkpoint = fb, .checkpoint_every = 50};
  CHECK_OK(kiln_md_run(mB, B, p, 100, &rb, &err));
  CHECK_OK(kiln_atoms_new(&B2, 0, &err));
  CHECK_OK(kiln_md_checkpoint_read(mB2, B2, fb, &err));
  CHECK(mB2->thermo.conserved == mB->thermo.conserved);
  CHECK_OK(kiln_md_run(mB2, B2, p, 100, &rb, &err));
  CHECK(mB2->step == 200 && B2->n == A->n);
  CHECK(memcmp(B2->x, A->x, A->n * sizeof *A->x) == 0);
  CHECK(memcmp(B2->v, A->v, A->n * sizeof *A->v) == 0);
  CHECK(memcmp(B2->cell, A->cell, sizeof A->cell) == 0);
  CHECK(mB2->thermo.conserved == mA->thermo.conserved);
  CHECK(kiln_atoms_volume(A) != kiln_atoms_volume(a0));
  kiln_md_free(mA); kiln_md_free(mB); kiln_md_free(mB2);
  kiln_atoms_free(A); kiln_atoms_free(B); kiln_atoms_free(B2); kiln_atoms_free(a0);
  kiln_pot_free(p);
  remove(fa); remove(fb);
}

TEST(test_resume_iso) { resume_identity("dt=5 T=30 P=0.1 tau_p=200 tau=100 seed=3"); }
TEST(test_resume_full) {
  resume_identity("dt=5 T=30 P=0.1 mode=full tau_p=200 damping=100 seed=3");
}

/* 7: errors */
TEST(test_errors) {
  kiln_md *md = NULL;
  CHECK_ERR(make_md(&md, "npt", "dt=5 T=30 tau_p=100 tau=100"), KILN_EINVAL, "missing the target");
  CHECK_ERR(make_md(&md, "npt", "dt=5 T=30 P=0 tau_p=-1 tau=100"), KILN_EINVAL,
            "tau_p must be a positive time");
  CHECK_ERR(make_md(&md, "npt", "dt=5 T=30 P=0 tau=100"), KILN_EINVAL, "tau_p");
  CHECK_ERR(make_md(&md, "npt", "dt=5 T=30 P=0 tau_p=100 mode=diag tau=100"), KILN_EINVAL,
            "unknown mode 'diag'");
  CHECK_ERR(make_md(&md, "npt", "dt=5 T=30 P=0 tau_p=100"), KILN_EINVAL, "damping");
  CHECK_ERR(make_md(&md, "npt", "dt=5 T=30 P=0 tau_p=100 tau=-5"), KILN_EINVAL, "tau");
  CHECK_ERR(make_md(&md, "npt", "dt=5 T=30 P=0 tau_p=100 tau=100 barostat=mtk"), KILN_EINVAL,
            "unknown barostat 'mtk'");
  CHECK_ERR(make_md(&md, "npt", "dt=5 T=30 P=0 tau_p=100 tau=100 thermostat=nh"), KILN_EINVAL,
            "unknown thermostat 'nh'");
  CHECK_ERR(make_md(&md, "npt", "dt=5 T=30 P=0 tau_p=100 tau=100 compressibility=0"),
            KILN_EINVAL, "compressibility must be positive");
  CHECK_ERR(make_md(&md, "npt", "dt=5 P=0 tau_p=100 tau=100"), KILN_EINVAL, "missing option 'T'");
  CHECK_ERR(make_md(&md, "npt", "dt=5 T=30 P=0 tau_p=100 tau=100 pressure=3"), KILN_EINVAL,
            "unknown option 'pressure'");
  /* stress tables */
  kiln_opts *o = NULL, *s = NULL, *row = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_num(o, "dt", 5, &err));
  CHECK_OK(kiln_opts_add_num(o, "T", 30, &err));
  CHECK_OK(kiln_opts_add_num(o, "tau_p", 100, &err));
  CHECK_OK(kiln_opts_add_num(o, "tau", 100, &err));
  CHECK_OK(kiln_opts_add_str(o, "mode", "aniso", &err));
  CHECK_OK(kiln_opts_add_table(o, "stress", &s, &err));
  const double S[3][3] = {{1, 0.5, 0}, {0.5, 1, 0}, {0, 0, 1}};
  for (int i = 0; i < 3; i++) {
    CHECK_OK(kiln_opts_add_table(s, NULL, &row, &err));
    for (int j = 0; j < 3; j++) CHECK_OK(kiln_opts_add_num(row, NULL, S[i][j], &err));
  }
  CHECK_ERR(kiln_md_new(&md, "npt", o, &err), KILN_EINVAL, "must be 0 (use mode='full')");
  kiln_opts_free(o);
  /* a move that would change the volume by more than 5 % is refused */
  kiln_pot *p = lj();
  kiln_atoms *a = argon(3, 4.9); /* compressed: P ~ 1.5 GPa */
  set_velocities(a, TEMP, 1);
  CHECK_OK(make_md(&md, "npt", "dt=5 T=30 P=0 tau_p=5 compressibility=100 tau=100"));
  CHECK_ERR(run_rec(md, a, p, 10, NULL), KILN_EINVAL, "make tau_p longer");
  kiln_md_free(md);
  kiln_atoms_free(a);
  kiln_pot_free(p);
}

int main(void) {
  g_short = getenv("KILN_SHORT") && atoi(getenv("KILN_SHORT")) > 0;
  RUN(test_errors);
  RUN(test_huge_taup_is_nvt);
  RUN(test_resume_iso);
  RUN(test_resume_full);
  RUN(test_nst_relaxes_shear);
  RUN(test_negative_pressure);
  RUN(test_iso_volume_bulk_modulus_ensemble);
  return check_summary();
}
