/* tests/c/test_md.c: integrators and the run loop on a Lennard-Jones argon
 * crystal (epsilon 0.0104 eV, sigma 3.40 Å, cutoff 8.5 Å).
 *  - NVE velocity Verlet: energy conservation and the dt^2 scaling of the
 *    energy fluctuation (ratio for dt -> dt/2 within 3..5);
 *  - thermostats against the canonical distribution of the kinetic energy:
 *    <KE> = (Nf/2) kT and Var(KE) = (Nf/2) (kT)^2, plus a small drift of the
 *    conserved quantity;
 *  - checkpoint/resume bit for bit, interrupts, errors, thermo formatting.
 * KILN_SHORT=1 (sanitizer builds) shortens the sampling runs and loosens the
 * statistical tolerances accordingly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kiln/kiln.h"

static int g_short = 0;
static kiln_error err;

/* ------------------------------------------------------------- helpers */

static kiln_atoms *argon(int rep, double a0) {
  kiln_atoms *unit = NULL, *a = NULL;
  CHECK_OK(kiln_crystal_fcc(&unit, "Ar", a0, &err));
  if (unit) CHECK_OK(kiln_atoms_supercell(&a, unit, rep, rep, rep, &err));
  kiln_atoms_free(unit);
  return a;
}

/* Maxwell-Boltzmann velocities, zero total momentum, scaled to exactly T */
static void set_velocities(kiln_atoms *a, double T, uint64_t seed) {
  kiln_rng r;
  kiln_rng_seed(&r, seed, 99);
  for (size_t i = 0; i < a->n; i++) {
    double sd = sqrt(KILN_KB * T / (a->mass[i] * KILN_MVV2E));
    for (int d = 0; d < 3; d++) a->v[i][d] = sd * kiln_rng_normal(&r);
  }
  kiln_atoms_zero_momentum(a);
  double s = sqrt(T / kiln_atoms_temperature(a));
  for (size_t i = 0; i < a->n; i++)
    for (int d = 0; d < 3; d++) a->v[i][d] *= s;
}

static kiln_pot *lj(int shift) {
  kiln_opts *o = NULL;
  kiln_pot *p = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_num(o, "epsilon", 0.0104, &err));
  CHECK_OK(kiln_opts_add_num(o, "sigma", 3.40, &err));
  CHECK_OK(kiln_opts_add_num(o, "cutoff", 8.5, &err));
  if (shift) CHECK_OK(kiln_opts_add_bool(o, "shift", 1, &err));
  CHECK_OK(kiln_pot_new(&p, "lj", o, &err));
  kiln_opts_free(o);
  return p;
}

/* the same LJ as the only part of a "sum" (the sum keeps its own neighbor lists) */
static kiln_pot *lj_sum(void) {
  kiln_opts *o = NULL, *c = NULL;
  kiln_pot *p = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_table(o, NULL, &c, &err));
  CHECK_OK(kiln_opts_add_str(c, "style", "lj", &err));
  CHECK_OK(kiln_opts_add_num(c, "epsilon", 0.0104, &err));
  CHECK_OK(kiln_opts_add_num(c, "sigma", 3.40, &err));
  CHECK_OK(kiln_opts_add_num(c, "cutoff", 8.5, &err));
  CHECK_OK(kiln_pot_new(&p, "sum", o, &err));
  kiln_opts_free(o);
  return p;
}

/* md from "key=value" pairs (numbers only) */
static kiln_status make_md(kiln_md **md, const char *style, const char *spec) {
  kiln_opts *o = NULL;
  kiln_status st = kiln_opts_new(&o, &err);
  char buf[256], *save = NULL;
  snprintf(buf, sizeof buf, "%s", spec);
  for (char *tok = strtok_r(buf, " ", &save); !st && tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) continue;
    *eq = '\0';
    st = kiln_opts_add_num(o, tok, atof(eq + 1), &err);
  }
  if (!st) st = kiln_md_new(md, style, o, &err);
  kiln_opts_free(o);
  return st;
}

/* an observer recording thermo rows */
typedef struct rec {
  size_t n, cap;
  double *ekin, *etot, *cons, *T;
  long last_step;
} rec;

static kiln_status record(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                          kiln_error *e) {
  (void)a; (void)e;
  rec *r = ud;
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 1024;
    r->ekin = realloc(r->ekin, r->cap * sizeof *r->ekin);
    r->etot = realloc(r->etot, r->cap * sizeof *r->etot);
    r->cons = realloc(r->cons, r->cap * sizeof *r->cons);
    r->T = realloc(r->T, r->cap * sizeof *r->T);
  }
  r->ekin[r->n] = th->ekin;
  r->etot[r->n] = th->etot;
  r->cons[r->n] = th->conserved;
  r->T[r->n] = th->T;
  r->n++;
  r->last_step = step;
  return KILN_OK;
}

static void rec_free(rec *r) {
  free(r->ekin); free(r->etot); free(r->cons); free(r->T);
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

static kiln_status run_obs(kiln_md *md, kiln_atoms *a, kiln_pot *p, long nsteps, rec *r,
                           long every) {
  kiln_observer ob = {record, r, every, 0};
  kiln_md_run_opts ro = {0};
  ro.obs = &ob;
  ro.nobs = 1;
  return kiln_md_run(md, a, p, nsteps, &ro, &err);
}

/* --------------------------------------------------------------- tests */

TEST(test_registry) {
  CHECK(kiln_md_nstyles() >= 4); /* + styles added later (npt, ...) */
  const char *names[] = {"verlet", "langevin", "csvr", "nosehoover"};
  for (int i = 0; i < 4; i++) {
    const kiln_md_style *s = kiln_md_find(names[i]);
    CHECK(s && strcmp(s->name, names[i]) == 0);
    CHECK(s && s->description && s->citation && s->options && s->init && s->pre_force &&
          s->post_force);
    CHECK(kiln_md_style_at((size_t)i) != NULL);
  }
  CHECK(kiln_md_find("nope") == NULL);
  CHECK(kiln_md_style_at(kiln_md_nstyles()) == NULL);
}

TEST(test_errors) {
  kiln_md *md = NULL;
  CHECK_ERR(make_md(&md, "verlet", "dt=0"), KILN_EINVAL, "md verlet: dt must be a positive");
  CHECK_ERR(make_md(&md, "verlet", "dt=-1"), KILN_EINVAL, "got -1");
  CHECK_ERR(make_md(&md, "verlet", ""), KILN_EINVAL, "missing option 'dt'");
  CHECK_ERR(make_md(&md, "bogus", "dt=1"), KILN_EINVAL, "unknown md style 'bogus'");
  CHECK_ERR(make_md(&md, "bogus", "dt=1"), KILN_EINVAL, "langevin");
  CHECK_ERR(make_md(&md, "verlet", "dt=1 T=300"), KILN_EINVAL, "option 'T' has no effect");
  CHECK_ERR(make_md(&md, "verlet", "dt=1 tau=3"), KILN_EINVAL, "unknown option 'tau'");
  CHECK_ERR(make_md(&md, "langevin", "dt=1 damping=100"), KILN_EINVAL, "missing option 'T'");
  CHECK_ERR(make_md(&md, "langevin", "dt=1 T=0 damping=100"), KILN_EINVAL, "T must be a positive");
  CHECK_ERR(make_md(&md, "langevin", "dt=1 T=-3 damping=100"), KILN_EINVAL, "got -3");
  CHECK_ERR(make_md(&md, "langevin", "dt=1 T=300"), KILN_EINVAL, "missing option 'damping'");
  CHECK_ERR(make_md(&md, "langevin", "dt=1 T=300 damping=0"), KILN_EINVAL, "damping must be");
  CHECK_ERR(make_md(&md, "langevin", "dt=1 T=300 damping=100 dampin=3"), KILN_EINVAL,
            "md langevin: unknown option 'dampin'");
  CHECK_ERR(make_md(&md, "langevin", "dt=1 T=300 damping=100 seed=-1"), KILN_EINVAL,
            "seed must be >= 0");
  CHECK_ERR(make_md(&md, "csvr", "dt=1 T=300 tau=-5"), KILN_EINVAL, "tau must be");
  CHECK_ERR(make_md(&md, "nosehoover", "dt=1 T=300 tau=100 chain=0"), KILN_EINVAL, "chain");
  CHECK_ERR(make_md(&md, "nosehoover", "dt=1 T=300 tau=100 chain=2.5"), KILN_EINVAL,
            "an integer");
  CHECK_ERR(make_md(&md, "nosehoover", "dt=1 T=300 tau=100 sy=2"), KILN_EINVAL,
            "Suzuki-Yoshida");
  CHECK(md == NULL);
  CHECK_OK(make_md(&md, "nosehoover", "dt=2 T=300 tau=100 chain=4 nc=2 sy=5"));
  CHECK(md && md->dt == 2.0 && md->T == 300.0 && md->seed == 1 && md->step == 0);
  kiln_md_free(md);

  /* run-time errors: zero kinetic energy for the rescaling thermostats, bad run options */
  kiln_atoms *a = argon(2, 5.26);
  kiln_pot *p = lj(0);
  CHECK_OK(make_md(&md, "csvr", "dt=2 T=30 tau=100"));
  CHECK_ERR(kiln_md_run(md, a, p, 5, NULL, &err), KILN_EINVAL, "kinetic energy is zero");
  kiln_md_free(md);
  CHECK_OK(make_md(&md, "verlet", "dt=2"));
  CHECK_ERR(kiln_md_run(md, a, p, -1, NULL, &err), KILN_EINVAL, "steps must be >= 0");
  kiln_observer ob = {record, NULL, 0, 0};
  kiln_md_run_opts ro = {.obs = &ob, .nobs = 1};
  CHECK_ERR(kiln_md_run(md, a, p, 5, &ro, &err), KILN_EINVAL, "every must be >= 1");
  kiln_md_run_opts ro2 = {.resume = 1};
  CHECK_ERR(kiln_md_run(md, a, p, 5, &ro2, &err), KILN_EINVAL, "resume needs a checkpoint");
  a->mass[3] = 0.0;
  CHECK_ERR(kiln_md_run(md, a, p, 5, NULL, &err), KILN_EINVAL, "atom 4 (id 4) has mass 0");
  kiln_md_free(md);
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

/* energy fluctuation (standard deviation of etot) of an NVE run */
static double nve_fluct(double dt, long nsteps, double *drift, double *e0) {
  kiln_atoms *a = argon(4, 5.26);
  kiln_pot *p = lj(1);
  kiln_md *md = NULL;
  char spec[64];
  snprintf(spec, sizeof spec, "dt=%g", dt);
  CHECK_OK(make_md(&md, "verlet", spec));
  set_velocities(a, 20.0, 5);
  rec r = {0};
  CHECK_OK(run_obs(md, a, p, nsteps, &r, 1));
  double sd = sqrt(variance(r.etot, r.n));
  *drift = fabs(mean(r.etot + r.n - r.n / 10, r.n / 10) - mean(r.etot, r.n / 10));
  *e0 = r.etot[0];
  CHECK(r.n == (size_t)nsteps);
  for (size_t i = 0; i < r.n; i++) CHECK(r.cons[i] == r.etot[i]);
  rec_free(&r);
  kiln_md_free(md);
  kiln_pot_free(p);
  kiln_atoms_free(a);
  return sd;
}

TEST(test_nve) {
  /* 256 atoms, 20 K start; the same simulated time (5 ps) with dt and dt/2 */
  double d1, d2, e1, e2;
  long n = g_short ? 500 : 1000;
  double s1 = nve_fluct(5.0, n, &d1, &e1);
  double s2 = nve_fluct(2.5, 2 * n, &d2, &e2);
  double ratio = s1 / s2;
  printf("  nve: 256 atoms, sd(Etot) %.3e eV (dt 5 fs), %.3e eV (dt 2.5 fs), ratio %.3f; "
         "drift %.2e / %.2e eV\n", s1, s2, ratio, d1, d2);
  CHECK(ratio > 3.0 && ratio < 5.0);
  CHECK(s1 < 2e-4 * 256 * 0.0104);  /* tiny against the cohesive energy scale */
  CHECK(d1 < 3.0 * s1 && d2 < 3.0 * s2); /* no systematic drift beyond the fluctuation */
}

/* canonical sampling: returns 0 when all checks pass */
static void canonical(const char *style, const char *spec, int langevin) {
  const double T = 30.0;
  kiln_atoms *a = argon(3, 5.26);
  kiln_pot *p = lj(1);
  kiln_md *md = NULL;
  CHECK_OK(make_md(&md, style, spec));
  set_velocities(a, T, 11);
  long neq = g_short ? 1000 : 2000, nrun = g_short ? 8000 : 40000, every = 5;
  rec r = {0};
  CHECK_OK(kiln_md_run(md, a, p, neq, NULL, &err));
  CHECK_OK(run_obs(md, a, p, nrun, &r, every));
  /* Langevin thermalizes the centre of mass as well: Nf = 3N; the rescaling
   * thermostats keep the zero total momentum: Nf = kiln_atoms_dof = 3N - 3 */
  const double nf = langevin ? 3.0 * (double)a->n : kiln_atoms_dof(a);
  const double kT = KILN_KB * T;
  const double ke_mean = mean(r.ekin, r.n), ke_var = variance(r.ekin, r.n);
  const double sem = block_sem(r.ekin, r.n, 16);
  const double Tm = 2.0 * ke_mean / (nf * KILN_KB), Tsem = 2.0 * sem / (nf * KILN_KB);
  const double var_ratio = ke_var / (0.5 * nf * kT * kT);
  /* the conserved quantity: largest excursion per atom over the run, against kT
   * (etot itself wanders by ~kT/sqrt(N) per atom as heat flows in and out) */
  double dcons = 0.0;
  for (size_t i = 0; i < r.n; i++) dcons = fmax(dcons, fabs(r.cons[i] - r.cons[0]));
  dcons /= (double)a->n;
  const double etot_sd = sqrt(variance(r.etot, r.n)) / (double)a->n;
  printf("  %-10s <T> = %.3f +- %.3f K (target %.1f), Var(KE)/((Nf/2)(kT)^2) = %.3f, "
         "max |conserved - start| %.1e kT/atom (sd of etot %.1e kT/atom) over %.0f ps\n",
         style, Tm, Tsem, T, var_ratio, dcons / kT, etot_sd / kT, nrun * md->dt * 1e-3);
  /* 3 standard errors plus 0.2% for the O(dt^2) bias of the sampled kinetic energy
   * (looser in the short runs, whose block error estimate is itself noisy) */
  CHECK(fabs(Tm - T) < (g_short ? 4.0 * Tsem + 5e-3 * T : 3.0 * Tsem + 2e-3 * T));
  CHECK(fabs(Tm - T) < (g_short ? 0.05 : 0.02) * T);
  CHECK(fabs(var_ratio - 1.0) < (g_short ? 0.35 : 0.15));
  CHECK(dcons < 0.005 * kT);
  CHECK(etot_sd > 0.02 * kT); /* i.e. the reservoir bookkeeping is what keeps it flat */
  rec_free(&r);
  kiln_md_free(md);
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

TEST(test_langevin_canonical) { canonical("langevin", "dt=5 T=30 damping=200 seed=3", 1); }
TEST(test_csvr_canonical) { canonical("csvr", "dt=5 T=30 tau=100 seed=4", 0); }
TEST(test_nosehoover_canonical) { canonical("nosehoover", "dt=5 T=30 tau=200", 0); }
TEST(test_nosehoover_sy_canonical) {
  canonical("nosehoover", "dt=5 T=30 tau=200 chain=5 nc=2 sy=3", 0);
}

/* ------------------------------------------------- checkpoints and resume */

typedef struct stopper {
  long at;
  long calls;
  long last_done, last_total;
} stopper;

static int stop_at(void *ud, long done, long total) {
  stopper *s = ud;
  s->calls++;
  s->last_done = done;
  s->last_total = total;
  return done == s->at;
}

static kiln_md *fresh_md(const char *style) {
  kiln_md *md = NULL;
  if (!strcmp(style, "langevin")) CHECK_OK(make_md(&md, style, "dt=5 T=40 damping=100 seed=9"));
  else if (!strcmp(style, "csvr")) CHECK_OK(make_md(&md, style, "dt=5 T=40 tau=50 seed=9"));
  else if (!strcmp(style, "verlet")) CHECK_OK(make_md(&md, style, "dt=5"));
  else CHECK_OK(make_md(&md, style, "dt=5 T=40 tau=100 chain=3 sy=3"));
  return md;
}

static void resume_identity(const char *style, int sum) {
  const char *fa = "build/test_md_A.chk", *fb = "build/test_md_B.chk", *fc = "build/test_md_C.chk";
  kiln_pot *p = sum ? lj_sum() : lj(0);
  kiln_atoms *a0 = argon(3, 5.26);
  set_velocities(a0, 40.0, 21);

  /* A: 200 steps in one go, checkpoint every 50 */
  kiln_atoms *A = NULL;
  CHECK_OK(kiln_atoms_copy(&A, a0, &err));
  kiln_md *mA = fresh_md(style);
  kiln_md_run_opts ro = {.checkpoint = fa, .checkpoint_every = 50};
  CHECK_OK(kiln_md_run(mA, A, p, 200, &ro, &err));
  CHECK(mA->step == 200);

  /* B: 100 steps with the same checkpoints (every 50, so the neighbor list is
   * rebuilt at the same steps), then a fresh md and atoms from the file */
  kiln_atoms *B = NULL, *B2 = NULL;
  CHECK_OK(kiln_atoms_copy(&B, a0, &err));
  kiln_md *mB = fresh_md(style);
  kiln_md_run_opts rb = {.checkpoint = fb, .checkpoint_every = 50};
  CHECK_OK(kiln_md_run(mB, B, p, 100, &rb, &err));
  kiln_md *mB2 = fresh_md(style);
  CHECK_OK(kiln_atoms_new(&B2, 0, &err));
  CHECK_OK(kiln_md_checkpoint_read(mB2, B2, fb, &err));
  CHECK(mB2->step == 100 && B2->n == a0->n);
  CHECK(memcmp(B2->x, B->x, B->n * sizeof *B->x) == 0);
  CHECK(mB2->thermo.etot == mB->thermo.etot && mB2->thermo.conserved == mB->thermo.conserved);
  CHECK_OK(kiln_md_run(mB2, B2, p, 100, &rb, &err)); /* checkpoints at 150, 200 as in A */
  CHECK(mB2->step == 200);
  CHECK(memcmp(B2->x, A->x, A->n * sizeof *A->x) == 0);
  CHECK(memcmp(B2->v, A->v, A->n * sizeof *A->v) == 0);
  CHECK(mB2->thermo.conserved == mA->thermo.conserved);
  CHECK(mB2->time == mA->time);

  /* C: interrupted at step 100 by the progress callback, then resumed with
   * resume=1 on a fresh md and an empty atoms object; finishes the 200 steps */
  kiln_atoms *C = NULL, *C2 = NULL;
  CHECK_OK(kiln_atoms_copy(&C, a0, &err));
  kiln_md *mC = fresh_md(style);
  stopper sp = {.at = 100};
  kiln_md_run_opts rc = {.checkpoint = fc, .checkpoint_every = 50, .progress = stop_at,
                         .progress_ud = &sp};
  remove(fc);
  CHECK_ERR(kiln_md_run(mC, C, p, 200, &rc, &err), KILN_EINTR,
            "interrupted (after step 100 of 200)");
  CHECK(mC->step == 100 && sp.calls == 100 && sp.last_total == 200);
  kiln_md *mC2 = fresh_md(style);
  CHECK_OK(kiln_atoms_new(&C2, 0, &err));
  rc.progress = NULL;
  rc.resume = 1;
  CHECK_OK(kiln_md_run(mC2, C2, p, 12345 /* ignored: the checkpoint's run wins */, &rc, &err));
  CHECK(mC2->step == 200 && mC2->run_start == 0 && mC2->run_target == 200);
  CHECK(memcmp(C2->x, A->x, A->n * sizeof *A->x) == 0);
  CHECK(memcmp(C2->v, A->v, A->n * sizeof *A->v) == 0);
  CHECK(memcmp(C2->f, A->f, A->n * sizeof *A->f) == 0);
  /* resuming a finished run does nothing */
  kiln_md *mC3 = fresh_md(style);
  CHECK_OK(kiln_md_run(mC3, C2, p, 200, &rc, &err));
  CHECK(mC3->step == 200 && memcmp(C2->x, A->x, A->n * sizeof *A->x) == 0);

  /* without checkpoints, two consecutive runs equal one long run (forces and
   * the neighbor list carry over). Checkpoints do not change the run either, except
   * for potentials with their own lists (a sum), which a checkpoint rebuilds: there
   * they change only the last bits */
  kiln_atoms *D = NULL, *E = NULL;
  CHECK_OK(kiln_atoms_copy(&D, a0, &err));
  CHECK_OK(kiln_atoms_copy(&E, a0, &err));
  kiln_md *mD = fresh_md(style), *mE = fresh_md(style);
  CHECK_OK(kiln_md_run(mD, D, p, 120, NULL, &err));
  CHECK_OK(kiln_md_run(mD, D, p, 80, NULL, &err));
  CHECK_OK(kiln_md_run(mE, E, p, 200, NULL, &err));
  CHECK(memcmp(D->x, E->x, E->n * sizeof *E->x) == 0);
  CHECK(memcmp(D->v, E->v, E->n * sizeof *E->v) == 0);
  double dmax = 0;
  for (size_t i = 0; i < A->n; i++)
    for (int d = 0; d < 3; d++) dmax = fmax(dmax, fabs(E->x[i][d] - A->x[i][d]));
  CHECK(dmax < 1e-6);
  if (!sum) CHECK(memcmp(E->x, A->x, A->n * sizeof *A->x) == 0);
  if (!sum) CHECK(memcmp(E->v, A->v, A->n * sizeof *A->v) == 0);

  kiln_md_free(mA); kiln_md_free(mB); kiln_md_free(mB2); kiln_md_free(mC); kiln_md_free(mC2);
  kiln_md_free(mC3); kiln_md_free(mD); kiln_md_free(mE);
  kiln_atoms_free(A); kiln_atoms_free(B); kiln_atoms_free(B2); kiln_atoms_free(C);
  kiln_atoms_free(C2); kiln_atoms_free(D); kiln_atoms_free(E); kiln_atoms_free(a0);
  kiln_pot_free(p);
  remove(fa); remove(fb); remove(fc);
}

TEST(test_resume_langevin) { resume_identity("langevin", 0); }
TEST(test_resume_nosehoover) { resume_identity("nosehoover", 0); }
TEST(test_resume_csvr) { resume_identity("csvr", 0); }
TEST(test_resume_verlet) { resume_identity("verlet", 0); }
/* a potential with its own neighbor lists (the parts of a sum): checkpoints must
 * reset those as well, or the resumed run differs in the last bits */
TEST(test_resume_sum) { resume_identity("langevin", 1); }

/* A checkpoint leaves the neighbor list alone and saves its reference positions, so
 * (1) a run with checkpoints every 37 steps equals the run without any, bit for bit, and
 * (2) a checkpoint written by hand at step 100, between two list rebuilds, resumes into
 * the uninterrupted 200-step run bit for bit, with the same rebuild steps. A small skin
 * (0.3 A) makes the list rebuild several times. */
static void resume_any_schedule(const char *style) {
  const char *f1 = "build/test_md_S1.chk", *f2 = "build/test_md_S2.chk";
  kiln_pot *p = lj(0);
  kiln_atoms *a0 = argon(3, 5.26);
  set_velocities(a0, 40.0, 21);
  kiln_atoms *U = NULL, *S = NULL, *H = NULL, *R = NULL;
  CHECK_OK(kiln_atoms_copy(&U, a0, &err));
  CHECK_OK(kiln_atoms_copy(&S, a0, &err));
  CHECK_OK(kiln_atoms_copy(&H, a0, &err));
  CHECK_OK(kiln_atoms_new(&R, 0, &err));
  kiln_md *mU = fresh_md(style), *mS = fresh_md(style), *mH = fresh_md(style),
          *mR = fresh_md(style);

  /* U: 200 steps, no checkpoint; S: the same with checkpoints every 37 steps */
  kiln_md_run_opts ru = {.skin = 0.3};
  kiln_md_run_opts rs = {.skin = 0.3, .checkpoint = f1, .checkpoint_every = 37};
  CHECK_OK(kiln_md_run(mU, U, p, 200, &ru, &err));
  CHECK_OK(kiln_md_run(mS, S, p, 200, &rs, &err));
  CHECK(mU->nl->nbuilds > 3);
  CHECK(mS->nl->nbuilds == mU->nl->nbuilds);
  CHECK(memcmp(S->x, U->x, U->n * sizeof *U->x) == 0);
  CHECK(memcmp(S->v, U->v, U->n * sizeof *U->v) == 0);
  CHECK(memcmp(S->f, U->f, U->n * sizeof *U->f) == 0);

  /* H: 100 steps without checkpoints, then one written by hand; R: read into a fresh
   * md and atoms, 100 more steps */
  CHECK_OK(kiln_md_run(mH, H, p, 100, &ru, &err));
  const long nb100 = mH->nl->nbuilds;
  size_t nref = 0;
  const double(*xref)[3] = kiln_neigh_reference(mH->nl, &nref);
  CHECK(xref != NULL && nref == H->n);
  /* the list was built before step 100: its reference is not the current positions */
  if (xref) CHECK(memcmp(xref, H->x, H->n * sizeof *H->x) != 0);
  CHECK_OK(kiln_md_checkpoint_write(mH, H, f2, &err));
  CHECK(mH->nl->nbuilds == nb100 && kiln_neigh_reference(mH->nl, NULL) == xref);
  CHECK_OK(kiln_md_checkpoint_read(mR, R, f2, &err));
  CHECK(mR->step == 100 && R->n == a0->n);
  CHECK_OK(kiln_md_run(mR, R, p, 100, &ru, &err));
  CHECK(mR->step == 200);
  CHECK(memcmp(R->x, U->x, U->n * sizeof *U->x) == 0);
  CHECK(memcmp(R->v, U->v, U->n * sizeof *U->v) == 0);
  CHECK(memcmp(R->f, U->f, U->n * sizeof *U->f) == 0);
  CHECK(mR->thermo.conserved == mU->thermo.conserved);
  /* the same rebuilds after step 100: one rebuild from the file, then U's */
  CHECK(mU->nl->nbuilds > nb100);
  CHECK(mR->nl->nbuilds - 1 == mU->nl->nbuilds - nb100);
  /* H continued after its checkpoint is the uninterrupted run too */
  CHECK_OK(kiln_md_run(mH, H, p, 100, &ru, &err));
  CHECK(memcmp(H->x, U->x, U->n * sizeof *U->x) == 0);
  CHECK(mH->nl->nbuilds == mU->nl->nbuilds);

  /* build_from refuses the list's own reference array (it is overwritten by the build) */
  CHECK_ERR(kiln_neigh_build_from(mH->nl, H, kiln_neigh_reference(mH->nl, NULL), &err),
            KILN_EINVAL, "a copy of the reference positions");

  kiln_md_free(mU); kiln_md_free(mS); kiln_md_free(mH); kiln_md_free(mR);
  kiln_atoms_free(U); kiln_atoms_free(S); kiln_atoms_free(H); kiln_atoms_free(R);
  kiln_atoms_free(a0);
  kiln_pot_free(p);
  remove(f1); remove(f2);
}

TEST(test_resume_any_schedule_langevin) { resume_any_schedule("langevin"); }
TEST(test_resume_any_schedule_verlet) { resume_any_schedule("verlet"); }

static kiln_status fail_at_7(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                             kiln_error *e) {
  (void)ud; (void)a; (void)th;
  if (step == 7) return KILN_FAIL(e, KILN_ERANGE, "observer says no at step %ld", step);
  return KILN_OK;
}

TEST(test_interrupt_and_observers) {
  kiln_pot *p = lj(0);
  kiln_atoms *a = argon(2, 5.26);
  set_velocities(a, 30.0, 3);
  kiln_md *md = NULL;
  CHECK_OK(make_md(&md, "langevin", "dt=5 T=30 damping=100"));
  stopper sp = {.at = 37};
  kiln_md_run_opts ro = {.progress = stop_at, .progress_ud = &sp};
  CHECK_ERR(kiln_md_run(md, a, p, 100, &ro, &err), KILN_EINTR,
            "interrupted (after step 37 of 100)");
  CHECK(md->step == 37 && sp.calls == 37);
  CHECK(md->thermo.step == 37);
  CHECK_CLOSE(md->time, 37 * 5.0, 1e-12, 0);
  /* the next run starts from there */
  sp.at = -1;
  CHECK_OK(kiln_md_run(md, a, p, 10, &ro, &err));
  CHECK(md->step == 47 && sp.last_done == 10 && sp.last_total == 10);

  /* observers: every divides the (absolute) step; an observer error stops the run */
  rec r = {0};
  kiln_observer obs[2] = {{record, &r, 3, 0}, {fail_at_7, NULL, 1, 0}};
  kiln_md_run_opts r2 = {.obs = obs, .nobs = 1};
  CHECK_OK(kiln_md_run(md, a, p, 10, &r2, &err)); /* steps 48..57: 48, 51, 54, 57 */
  CHECK(r.n == 4 && r.last_step == 57);
  kiln_thermo th;
  kiln_md_get_thermo(md, &th);
  CHECK(th.step == 57 && th.etot == r.etot[3]);
  md->step = 0; /* so that the failing observer triggers at 7 */
  r2.obs = obs + 1;
  CHECK_ERR(kiln_md_run(md, a, p, 10, &r2, &err), KILN_ERANGE, "observer says no at step 7");
  CHECK(md->step == 7);
  rec_free(&r);
  kiln_md_free(md);
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

/* an observer that changes the atoms at one step: moves atom 1, strains the cell */
typedef struct poke {
  long at;
} poke;

static kiln_status poke_atoms(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                              kiln_error *e) {
  (void)th;
  const poke *pk = ud;
  if (step != pk->at) return KILN_OK;
  a->x[0][0] += 0.3;
  double cell[3][3];
  memcpy(cell, a->cell, sizeof cell);
  cell[0][0] *= 1.01;
  return kiln_atoms_set_cell(a, cell, 1, e);
}

/* The next step after an observer changed the atoms starts from the forces of the new
 * configuration: the same as stopping the run there, changing them and running on. */
TEST(test_observer_changes_atoms) {
  kiln_pot *p = lj(0);
  kiln_atoms *a = argon(2, 5.26), *b = NULL;
  set_velocities(a, 30.0, 7);
  CHECK_OK(kiln_atoms_copy(&b, a, &err));
  kiln_md *ma = NULL, *mb = NULL;
  CHECK_OK(make_md(&ma, "verlet", "dt=5"));
  CHECK_OK(make_md(&mb, "verlet", "dt=5"));
  poke pk = {.at = 10};
  kiln_observer ob = {poke_atoms, &pk, 1, 0};
  kiln_md_run_opts ro = {.obs = &ob, .nobs = 1};
  CHECK_OK(kiln_md_run(ma, a, p, 20, &ro, &err));
  CHECK_OK(kiln_md_run(mb, b, p, 10, NULL, &err));
  CHECK_OK(poke_atoms(&pk, 10, b, NULL, &err));
  CHECK_OK(kiln_md_run(mb, b, p, 10, NULL, &err));
  CHECK(ma->step == 20 && mb->step == 20);
  CHECK(memcmp(a->x, b->x, a->n * sizeof *a->x) == 0);
  CHECK(memcmp(a->v, b->v, a->n * sizeof *a->v) == 0);
  CHECK(ma->thermo.etot == mb->thermo.etot);
  kiln_md_free(ma);
  kiln_md_free(mb);
  kiln_atoms_free(a);
  kiln_atoms_free(b);
  kiln_pot_free(p);
}

static void truncate_file(const char *src, const char *dst, long keep) {
  FILE *f = fopen(src, "rb"), *g = fopen(dst, "wb");
  CHECK(f && g);
  if (!f || !g) { if (f) fclose(f); if (g) fclose(g); return; }
  for (long i = 0; i < keep; i++) {
    int c = fgetc(f);
    if (c == EOF) break;
    fputc(c, g);
  }
  fclose(f);
  fclose(g);
}

TEST(test_checkpoint_errors) {
  const char *f = "build/test_md_err.chk", *t = "build/test_md_trunc.chk";
  kiln_pot *p = lj(0);
  kiln_atoms *a = argon(2, 5.26), *b = NULL;
  CHECK_OK(kiln_atoms_new(&b, 0, &err));
  set_velocities(a, 30.0, 3);
  kiln_md *md = NULL, *mv = NULL;
  CHECK_OK(make_md(&md, "langevin", "dt=5 T=30 damping=100"));
  CHECK_OK(make_md(&mv, "verlet", "dt=5"));
  kiln_md_run_opts ro = {.checkpoint = f};
  CHECK_OK(kiln_md_run(md, a, p, 3, &ro, &err));

  CHECK_ERR(kiln_md_checkpoint_read(mv, b, f, &err), KILN_EINVAL,
            "test_md_err.chk: checkpoint was written by md style 'langevin', not 'verlet'");
  CHECK_ERR(kiln_md_checkpoint_read(md, b, "build/no_such.chk", &err), KILN_EIO,
            "build/no_such.chk: cannot open");
  /* cut inside the positions: header (~300 bytes) + 32 atoms x (4+8+8) + 24*10 */
  FILE *fp = fopen(f, "rb");
  fseek(fp, 0, SEEK_END);
  long size = ftell(fp);
  fclose(fp);
  /* + the neighbor-list reference positions (flag + 32 x 24) + end marker + checksum */
  long atoms_bytes = 32 * (4 + 8 + 8 + 24 * 3) + 4 + 32 * 24 + 8 + 8;
  long header = size - atoms_bytes;
  truncate_file(f, t, header + 32 * 20 + 24 * 10);
  CHECK_ERR(kiln_md_checkpoint_read(md, b, t, &err), KILN_EFORMAT,
            "test_md_trunc.chk: truncated (expected 768 bytes of positions)");
  truncate_file(f, t, 20);
  CHECK_ERR(kiln_md_checkpoint_read(md, b, t, &err), KILN_EFORMAT, "test_md_trunc.chk: truncated");
  truncate_file(f, t, size - 11);
  CHECK_ERR(kiln_md_checkpoint_read(md, b, t, &err), KILN_EFORMAT, "end marker");
  truncate_file(f, t, size - 3);
  CHECK_ERR(kiln_md_checkpoint_read(md, b, t, &err), KILN_EFORMAT, "bytes of checksum");
  /* one damaged byte inside the integrator state / positions: the checksum sees it */
  long spots[2] = {120, header + 32 * 20 + 100};
  for (int k = 0; k < 2; k++) {
    truncate_file(f, t, size);
    FILE *fc = fopen(t, "r+b");
    CHECK(fc != NULL);
    if (fc) {
      fseek(fc, spots[k], SEEK_SET);
      int c = fgetc(fc);
      fseek(fc, spots[k], SEEK_SET);
      fputc(c ^ 0x10, fc);
      fclose(fc);
    }
    CHECK_ERR(kiln_md_checkpoint_read(md, b, t, &err), KILN_EFORMAT, "checksum mismatch");
  }
  /* bad magic */
  fp = fopen(t, "wb");
  fputs("this is not a checkpoint at all, just text\n", fp);
  fclose(fp);
  CHECK_ERR(kiln_md_checkpoint_read(md, b, t, &err), KILN_EFORMAT,
            "test_md_trunc.chk: not a kiln MD checkpoint");
  /* a failed read leaves the atoms and md alone */
  CHECK(b->n == 0 && md->step == 3);
  /* resume from a corrupt file fails naming it */
  kiln_md_run_opts rr = {.checkpoint = t, .resume = 1};
  CHECK_ERR(kiln_md_run(md, a, p, 3, &rr, &err), KILN_EFORMAT, "test_md_trunc.chk");
  /* an unwritable location */
  CHECK_ERR(kiln_md_checkpoint_write(md, a, "build/no/such/dir/x.chk", &err), KILN_EIO,
            "build/no/such/dir/x.chk.tmp.");
  remove(f);
  remove(t);
  kiln_md_free(md);
  kiln_md_free(mv);
  kiln_atoms_free(a);
  kiln_atoms_free(b);
  kiln_pot_free(p);
}

TEST(test_thermo) {
  kiln_pot *p = lj(0);
  kiln_atoms *a = argon(2, 5.20); /* compressed: positive pressure */
  set_velocities(a, 25.0, 8);
  kiln_md *md = NULL;
  CHECK_OK(make_md(&md, "verlet", "dt=4"));
  CHECK_OK(kiln_md_run(md, a, p, 5, NULL, &err));
  kiln_thermo th;
  kiln_md_get_thermo(md, &th);
  /* independent evaluation of the final state */
  kiln_pot_result res;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &res, &err));
  double ke = 0, V = 10.4 * 10.4 * 10.4;
  for (size_t i = 0; i < a->n; i++)
    for (int d = 0; d < 3; d++) ke += 0.5 * a->mass[i] * a->v[i][d] * a->v[i][d] * KILN_MVV2E;
  double trw = res.virial[0][0] + res.virial[1][1] + res.virial[2][2];
  CHECK(th.step == 5);
  CHECK_CLOSE(th.time, 20.0, 1e-14, 0);
  CHECK_CLOSE(th.ekin, ke, 1e-12, 0);
  CHECK_CLOSE(th.T, 2 * ke / ((3.0 * 32 - 3) * KILN_KB), 1e-12, 0);
  CHECK_CLOSE(th.epot, res.energy, 1e-10, 0);
  CHECK_CLOSE(th.volume, V, 1e-12, 0);
  CHECK_CLOSE(th.pressure, (2 * ke + trw) / (3 * V) * 160.2176634, 1e-9, 0);
  CHECK(th.pressure > 0.0);
  CHECK(th.conserved == th.etot);
  char h[256], row[256];
  kiln_thermo_header(h, sizeof h);
  kiln_thermo_row(&th, row, sizeof row);
  CHECK(strstr(h, "Step") && strstr(h, "Time(ps)") && strstr(h, "Temp(K)") &&
        strstr(h, "PotEng(eV)") && strstr(h, "KinEng(eV)") && strstr(h, "TotEng(eV)") &&
        strstr(h, "Press(GPa)") && strstr(h, "Volume(\xc3\x85" "3)") && strstr(h, "Conserved"));
  long step;
  double v[8];
  CHECK(sscanf(row, "%ld %lf %lf %lf %lf %lf %lf %lf %lf", &step, v, v + 1, v + 2, v + 3, v + 4,
               v + 5, v + 6, v + 7) == 9);
  CHECK(step == 5);
  CHECK_CLOSE(v[0], 0.020, 0, 1e-9);
  CHECK_CLOSE(v[1], th.T, 0, 1e-3);
  CHECK_CLOSE(v[2], th.epot, 0, 1e-6);
  CHECK_CLOSE(v[5], th.pressure, 0, 1e-5);
  CHECK_CLOSE(v[6], V, 0, 1e-3);
  /* header and row columns line up (count display columns: Å is one) */
  CHECK(strlen(h) - 1 == strlen(row));
  printf("  %s\n  %s\n", h, row);
  kiln_md_free(md);
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

/* an at_start observer sees the starting state once, then every `every` steps */
TEST(test_observer_at_start) {
  kiln_pot *p = lj(0);
  kiln_atoms *a = argon(2, 5.26);
  set_velocities(a, 30.0, 5);
  kiln_md *md = NULL;
  CHECK_OK(make_md(&md, "verlet", "dt=5"));
  if (!md || !p || !a) return;
  kiln_pot_result r0;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r0, &err));
  const double e0 = r0.energy + kiln_atoms_kinetic_energy(a);
  rec r = {0};
  kiln_observer ob = {record, &r, 5, 1};
  kiln_md_run_opts ro = {.obs = &ob, .nobs = 1};
  CHECK_OK(kiln_md_run(md, a, p, 10, &ro, &err));
  CHECK(r.n == 3);              /* start, step 5, step 10 */
  if (r.n == 3) CHECK_CLOSE(r.etot[0], e0, 1e-12, 0);
  CHECK(r.last_step == 10);
  rec_free(&r);
  /* a second run starts at step 10 and reports it first */
  CHECK_OK(kiln_md_run(md, a, p, 5, &ro, &err));
  CHECK(r.n == 2 && r.last_step == 15);
  rec_free(&r);
  kiln_md_free(md);
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

int main(void) {
  const char *s = getenv("KILN_SHORT");
  g_short = s && s[0] && strcmp(s, "0") != 0;
  RUN(test_registry);
  RUN(test_errors);
  RUN(test_thermo);
  RUN(test_nve);
  RUN(test_interrupt_and_observers);
  RUN(test_observer_changes_atoms);
  RUN(test_observer_at_start);
  RUN(test_checkpoint_errors);
  RUN(test_resume_langevin);
  RUN(test_resume_nosehoover);
  RUN(test_resume_csvr);
  RUN(test_resume_verlet);
  RUN(test_resume_sum);
  RUN(test_resume_any_schedule_langevin);
  RUN(test_resume_any_schedule_verlet);
  RUN(test_langevin_canonical);
  RUN(test_csvr_canonical);
  RUN(test_nosehoover_canonical);
  if (!g_short) RUN(test_nosehoover_sy_canonical);
  return check_summary();
}
