/* tests/c/test_canonical.c: the thermostats against the whole canonical
 * distribution, not only its first two moments (those are in test_md.c).
 *
 * System: LJ argon fcc 2x2x2 (32 atoms, a = 5.26 Å; epsilon 0.0104 eV,
 * sigma 3.40 Å, cutoff 8.5 Å, shifted) at 30 K with dt = 5 fs.
 *  1. Kinetic energy. In the canonical ensemble the kinetic energy of Nf
 *     quadratic degrees of freedom is Gamma distributed, shape Nf/2, scale kT.
 *     We use the kinetic energy of the velocities relative to the centre of mass,
 *     with Nf = 3N - 3, for every thermostat: csvr and nosehoover keep the zero
 *     total momentum and act on those 3N - 3 degrees of freedom; Langevin
 *     thermalises the centre of mass too, but (equal masses, internal forces) its
 *     centre-of-mass velocity is an Ornstein-Uhlenbeck process independent of
 *     the relative motion, so the relative kinetic energy is still
 *     Gamma((3N-3)/2, kT), and the centre-of-mass kinetic energy is separately
 *     Gamma(3/2, kT) (tested too; their sum, the total, is Gamma(3N/2, kT)).
 *     Kolmogorov-Smirnov test of the kinetic energy recorded at every step
 *     against P(Nf/2, K/kT), P the regularized lower incomplete gamma function,
 *     with the effective sample size n / (2 tau_int), tau_int the measured
 *     integrated autocorrelation time: p > 1e-3.
 *  2. Maxwell-Boltzmann: every velocity component relative to the centre of
 *     mass, u = (v - V) / sqrt(kT/m (1 - m/M)) (the exact marginal under the
 *     zero-momentum constraint), pooled over atoms and snapshots (every 5
 *     steps), is standard normal: KS test with the effective size
 *     3N nsnap / (2 tau_int), tau_int the largest of those of the per-snapshot
 *     fraction |u| < 1, mean u^2 and mean u^4: p > 1e-3; and the kurtosis is 3
 *     within 4.5 standard errors (the larger of sqrt(24 / n_eff) and the error
 *     from 20 blocks, which is up to 2x larger for the global thermostats: in a
 *     nearly harmonic crystal only anharmonicity moves energy between modes).
 *  3. Negative controls that must fail test 1 (p < 1e-6), both against T and
 *     against their own mean temperature (so it is the shape that fails):
 *     velocity Verlet with a Berendsen rescaling (coupling time 100 fs,
 *     implemented here in an observer; mean exactly right, distribution far too
 *     narrow), and plain NVE started from a csvr-equilibrated state (the
 *     microcanonical kinetic energy has about half the canonical variance).
 * The statistics machinery (incomplete gamma function, Kolmogorov distribution,
 * autocorrelation time, and kiln_rng_chisq that csvr draws from) is checked
 * first against closed forms and independent samples. KILN_SHORT=1 (sanitizer
 * builds) runs 5x shorter and uses p > 1e-4 / p < 1e-4. */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kiln/kiln.h"

static int g_short = 0;
static kiln_error err;

/* ------------------------------------------------------------ statistics */

/* regularized lower incomplete gamma function P(a, x), a > 0: power series
 * for x < a + 1, else 1 - Q from the continued fraction of Q (modified Lentz) */
static double gamma_p(double a, double x) {
  if (!(x > 0.0)) return 0.0;
  const double pre = exp(a * log(x) - x - lgamma(a));
  if (x < a + 1.0) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 100000; n++) {
      term *= x / (a + n);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return pre * sum;
  }
  const double tiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 100000; i++) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (fabs(del - 1.0) < 1e-16) break;
  }
  return 1.0 - pre * h;
}

static double normal_cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

/* P(sqrt(n) D > ...) for the Kolmogorov distribution, with Stephens' finite-n
 * correction lambda = (sqrt(n) + 0.12 + 0.11 / sqrt(n)) D */
static double ks_pvalue(double D, double n) {
  const double sn = sqrt(n), lam = (sn + 0.12 + 0.11 / sn) * D;
  if (lam < 0.2) return 1.0;
  double s = 0.0, sign = 1.0;
  for (int k = 1; k <= 1000; k++) {
    const double t = exp(-2.0 * k * k * lam * lam);
    s += sign * t;
    sign = -sign;
    if (t < 1e-300 || t < 1e-17 * fabs(s)) break;
  }
  s *= 2.0;
  return s < 0.0 ? 0.0 : s > 1.0 ? 1.0 : s;
}

typedef double (*cdf_fn)(double x, const double *par);
static double cdf_gamma(double x, const double *par) { return gamma_p(par[0], x / par[1]); }
static double cdf_normal(double x, const double *par) { (void)par; return normal_cdf(x); }

static int cmp_double(const void *p, const void *q) {
  const double a = *(const double *)p, b = *(const double *)q;
  return (a > b) - (a < b);
}

/* KS distance of the sample (sorted in place) from cdf */
static double ks_stat(double *x, size_t n, cdf_fn cdf, const double *par) {
  qsort(x, n, sizeof *x, cmp_double);
  double D = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double F = cdf(x[i], par);
    D = fmax(D, fmax(F - (double)i / (double)n, (double)(i + 1) / (double)n - F));
  }
  return D;
}

static double mean(const double *x, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s / (double)n;
}

/* integrated autocorrelation time 1/2 + sum_k rho(k) (in samples), summed up to
 * the first window W >= 6 tau (Sokal); at least 1/2 */
static double tau_int(const double *x, size_t n) {
  const double m = mean(x, n);
  double c0 = 0.0;
  for (size_t i = 0; i < n; i++) c0 += (x[i] - m) * (x[i] - m);
  c0 /= (double)n;
  if (!(c0 > 0.0)) return 0.5;
  double tau = 0.5;
  for (size_t k = 1; k < n / 4; k++) {
    double ck = 0.0;
    for (size_t i = 0; i + k < n; i++) ck += (x[i] - m) * (x[i + k] - m);
    tau += ck / ((double)(n - k) * c0);
    if ((double)k >= 6.0 * tau) break;
  }
  return fmax(tau, 0.5);
}

/* ------------------------------------------------------------- the system */

static kiln_atoms *argon(int rep) {
  kiln_atoms *unit = NULL, *a = NULL;
  CHECK_OK(kiln_crystal_fcc(&unit, "Ar", 5.26, &err));
  if (unit) CHECK_OK(kiln_atoms_supercell(&a, unit, rep, rep, rep, &err));
  kiln_atoms_free(unit);
  return a;
}

/* Maxwell-Boltzmann velocities at T, zero total momentum */
static void set_velocities(kiln_atoms *a, double T, uint64_t seed) {
  kiln_rng r;
  kiln_rng_seed(&r, seed, 7);
  for (size_t i = 0; i < a->n; i++) {
    const double sd = sqrt(KILN_KB * T / (a->mass[i] * KILN_MVV2E));
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

/* md from "key=value" pairs (numbers only) */
static kiln_md *make_md(const char *style, const char *spec) {
  kiln_opts *o = NULL;
  kiln_md *md = NULL;
  char buf[256], *save = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  snprintf(buf, sizeof buf, "%s", spec);
  for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) continue;
    *eq = '\0';
    CHECK_OK(kiln_opts_add_num(o, tok, atof(eq + 1), &err));
  }
  CHECK_OK(kiln_md_new(&md, style, o, &err));
  kiln_opts_free(o);
  return md;
}

/* ---------------------------------------------------------------- sampler */

/* What an observer records: kinetic energies every step and standardized
 * velocity components every vevery steps. With berendsen_tau > 0 it first
 * rescales the velocities, lambda^2 = 1 + (dt/tau)(T0/T - 1) (the negative
 * control). */
typedef struct sampler {
  double kT, T0, dt, berendsen_tau;
  long vevery;
  size_t nk, capk, nv, capv, per;  /* per = 3N components per snapshot */
  double *krel, *kcom;             /* eV */
  double *u;                       /* nv * per */
} sampler;

static int grow(double **p, size_t need, size_t *cap, size_t width) {
  if (need <= *cap) return 1;
  size_t c = *cap ? *cap : 1024;
  while (c < need) c *= 2;
  double *q = realloc(*p, c * width * sizeof *q);
  if (!q) return 0;
  *p = q;
  *cap = c;
  return 1;
}

static kiln_status observe(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                           kiln_error *e) {
  (void)th;
  sampler *s = ud;
  if (s->berendsen_tau > 0.0) {
    const double T = kiln_atoms_temperature(a);
    const double lam = sqrt(1.0 + s->dt / s->berendsen_tau * (s->T0 / T - 1.0));
    for (size_t i = 0; i < a->n; i++)
      for (int d = 0; d < 3; d++) a->v[i][d] *= lam;
  }
  double M = 0.0, P[3] = {0, 0, 0};
  for (size_t i = 0; i < a->n; i++) {
    M += a->mass[i];
    for (int d = 0; d < 3; d++) P[d] += a->mass[i] * a->v[i][d];
  }
  const double V[3] = {P[0] / M, P[1] / M, P[2] / M};
  double mvv = 0.0;
  for (size_t i = 0; i < a->n; i++)
    for (int d = 0; d < 3; d++) mvv += a->mass[i] * (a->v[i][d] - V[d]) * (a->v[i][d] - V[d]);
  size_t cap = s->capk;
  if (!grow(&s->krel, s->nk + 1, &cap, 1) || !grow(&s->kcom, s->nk + 1, &s->capk, 1))
    return KILN_FAIL(e, KILN_ENOMEM, "test sampler: out of memory");
  s->krel[s->nk] = 0.5 * KILN_MVV2E * mvv;
  s->kcom[s->nk] = 0.5 * KILN_MVV2E * M * (V[0] * V[0] + V[1] * V[1] + V[2] * V[2]);
  s->nk++;
  if (s->vevery > 0 && step % s->vevery == 0) {
    if (!grow(&s->u, s->nv + 1, &s->capv, s->per))
      return KILN_FAIL(e, KILN_ENOMEM, "test sampler: out of memory");
    double *u = s->u + s->nv * s->per;
    for (size_t i = 0; i < a->n; i++) {
      const double sd = sqrt(s->kT / (a->mass[i] * KILN_MVV2E) * (1.0 - a->mass[i] / M));
      for (int d = 0; d < 3; d++) u[3 * i + d] = (a->v[i][d] - V[d]) / sd;
    }
    s->nv++;
  }
  return KILN_OK;
}

static void sampler_free(sampler *s) {
  free(s->krel);
  free(s->kcom);
  free(s->u);
  memset(s, 0, sizeof *s);
}

typedef struct ks_result {
  double D, p, neff, tau;
} ks_result;

/* KS test of x[0..n) (a time series, copied) against cdf with the effective size
 * n / (2 tau_int) */
static ks_result ks_series(const double *x, size_t n, cdf_fn cdf, const double *par) {
  ks_result r;
  r.tau = tau_int(x, n);
  r.neff = (double)n / (2.0 * r.tau);
  double *y = malloc(n * sizeof *y);
  CHECK(y != NULL);
  if (!y) return r;
  memcpy(y, x, n * sizeof *y);
  r.D = ks_stat(y, n, cdf, par);
  r.p = ks_pvalue(r.D, r.neff);
  free(y);
  return r;
}

/* pooled velocity components: KS against N(0,1), kurtosis; tau from the per-snapshot
 * fraction with |u| < 1, mean u^2 and mean u^4 (the slowest of the three) */
static ks_result mb_test(sampler *s, double *kurt, double *kurt_se_block) {
  const size_t nv = s->nv, per = s->per, n = nv * per;
  double *g = malloc(3 * nv * sizeof *g);
  CHECK(g != NULL);
  ks_result r = {0};
  if (!g) return r;
  double m2 = 0.0, m4 = 0.0;
  for (size_t t = 0; t < nv; t++) {
    double f = 0.0, s2 = 0.0, s4 = 0.0;
    for (size_t j = 0; j < per; j++) {
      const double u = s->u[t * per + j];
      f += fabs(u) < 1.0;
      s2 += u * u;
      s4 += u * u * u * u;
    }
    g[t] = f / (double)per;
    g[nv + t] = s2 / (double)per;
    g[2 * nv + t] = s4 / (double)per;
    m2 += s2;
    m4 += s4;
  }
  m2 /= (double)n;
  m4 /= (double)n;
  *kurt = m4 / (m2 * m2);
  /* standard error of the kurtosis from NB block kurtoses */
  enum { NB = 20 };
  double kb[NB];
  const size_t len = nv / NB;
  for (size_t b = 0; b < NB; b++) {
    double b2 = 0.0, b4 = 0.0;
    for (size_t t = b * len; t < (b + 1) * len; t++) {
      b2 += g[nv + t];
      b4 += g[2 * nv + t];
    }
    b2 /= (double)len;
    b4 /= (double)len;
    kb[b] = b4 / (b2 * b2);
  }
  const double km = mean(kb, NB);
  double kv = 0.0;
  for (size_t b = 0; b < NB; b++) kv += (kb[b] - km) * (kb[b] - km);
  *kurt_se_block = sqrt(kv / (NB - 1) / NB);
  r.tau = fmax(tau_int(g, nv), fmax(tau_int(g + nv, nv), tau_int(g + 2 * nv, nv)));
  r.neff = (double)n / (2.0 * r.tau);
  r.D = ks_stat(s->u, n, cdf_normal, NULL); /* sorts s->u: the snapshots are done with */
  r.p = ks_pvalue(r.D, r.neff);
  free(g);
  return r;
}

/* ------------------------------------------------------------------ tests */

/* the machinery against closed forms and independent samples */
TEST(test_stats) {
  /* P(1, x) = 1 - e^-x; P(1/2, x) = erf(sqrt x); P(n + 1/2, x) = erf(sqrt x)
   * - e^-x sum_{k<n} x^(k+1/2) / Gamma(k + 3/2); P(n, x) = 1 - e^-x sum_{k<n} x^k/k! */
  const double xs[] = {1e-3, 0.3, 1.0, 2.5, 7.0, 30.0, 45.0, 46.5, 52.0, 80.0};
  for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
    const double x = xs[i];
    CHECK_CLOSE(gamma_p(1.0, x), -expm1(-x), 1e-13, 1e-15);
    CHECK_CLOSE(gamma_p(0.5, x), erf(sqrt(x)), 1e-13, 1e-15);
    const int nh[] = {1, 4, 46};
    for (int j = 0; j < 3; j++) {
      double s = 0.0, lt = 0.5 * log(x) - lgamma(1.5); /* log of x^(1/2) / Gamma(3/2) */
      for (int k = 0; k < nh[j]; k++) {
        s += exp(lt - x);
        lt += log(x) - log(k + 1.5);
      }
      CHECK_CLOSE(gamma_p(nh[j] + 0.5, x), erf(sqrt(x)) - s, 1e-11, 1e-14);
      double q = 0.0, lk = 0.0; /* 1 - P(n, x) */
      for (int k = 0; k < nh[j] + 1; k++) {
        q += exp(lk - x);
        lk += log(x) - log(k + 1.0);
      }
      CHECK_CLOSE(1.0 - gamma_p(nh[j] + 1.0, x), q, 1e-11, 1e-14);
    }
  }
  /* Kolmogorov distribution critical values (large n): 1.3581 -> 0.05,
   * 1.6276 -> 0.01, 1.9495 -> 0.001 */
  CHECK_CLOSE(ks_pvalue(1.3581 / sqrt(1e12), 1e12), 0.05, 1e-3, 0);
  CHECK_CLOSE(ks_pvalue(1.6276 / sqrt(1e12), 1e12), 0.01, 2e-3, 0);
  CHECK_CLOSE(ks_pvalue(1.9495 / sqrt(1e12), 1e12), 0.001, 3e-3, 0);
  CHECK(ks_pvalue(0.0, 100) == 1.0);
  /* autocorrelation time of an AR(1) series x' = phi x + noise: (1 + phi) / (2 (1 - phi)) */
  const size_t n = g_short ? 20000 : 100000;
  double *x = malloc(n * sizeof *x);
  CHECK(x != NULL);
  if (!x) return;
  kiln_rng r;
  kiln_rng_seed(&r, 2024, 1);
  const double phi = 0.9;
  x[0] = 0.0;
  for (size_t i = 1; i < n; i++) x[i] = phi * x[i - 1] + kiln_rng_normal(&r);
  const double tau = tau_int(x, n), tau_exact = (1.0 + phi) / (2.0 * (1.0 - phi));
  printf("  AR(1) phi 0.9: tau_int %.2f (exact %.2f)\n", tau, tau_exact);
  CHECK(fabs(tau - tau_exact) < 0.15 * tau_exact);
  /* independent Gamma(93/2, kT) samples (sums of squared normals) pass; the same
   * scaled by 1.03 (a 3% error in the temperature) and N(mean, 0.7 sd) fail */
  const double kT = KILN_KB * 30.0, par[2] = {46.5, kT};
  const size_t m = g_short ? 2000 : 5000;
  for (size_t i = 0; i < m; i++) {
    double s = 0.0;
    for (int k = 0; k < 93; k++) {
      const double z = kiln_rng_normal(&r);
      s += z * z;
    }
    x[i] = 0.5 * kT * s;
  }
  ks_result good = ks_series(x, m, cdf_gamma, par);
  for (size_t i = 0; i < m; i++) x[i] *= 1.03;
  ks_result hot = ks_series(x, m, cdf_gamma, par);
  for (size_t i = 0; i < m; i++)
    x[i] = 46.5 * kT + 0.7 * sqrt(46.5) * kT * kiln_rng_normal(&r);
  ks_result narrow = ks_series(x, m, cdf_gamma, par);
  /* kiln_rng_chisq (Marsaglia-Tsang for n > 16), which csvr draws from */
  for (size_t i = 0; i < m; i++) x[i] = 0.5 * kT * kiln_rng_chisq(&r, 92);
  const double par92[2] = {46.0, kT};
  ks_result chisq = ks_series(x, m, cdf_gamma, par92);
  printf("  iid Gamma(46.5): D %.4f p %.3g (tau %.2f); x1.03: p %.2g; narrow normal: p %.2g; "
         "kiln_rng_chisq(92): D %.4f p %.3g\n",
         good.D, good.p, good.tau, hot.p, narrow.p, chisq.D, chisq.p);
  CHECK(good.p > 1e-3 && chisq.p > 1e-3);
  CHECK(good.tau < 0.7); /* white noise */
  CHECK(hot.p < 1e-3 && narrow.p < 1e-6);
  free(x);
}

typedef struct run_spec {
  const char *style, *spec;
  double berendsen_tau; /* > 0: "verlet" + the rescaling observer */
  int nve_after;        /* run style for the equilibration, then plain NVE */
} run_spec;

/* equilibrate, then sample; fills s */
static void sample(const run_spec *rs, long neq, long nrun, sampler *s, size_t *natoms) {
  const double T = 30.0;
  kiln_atoms *a = argon(2);
  kiln_pot *p = lj();
  memset(s, 0, sizeof *s);
  *natoms = a ? a->n : 0;
  if (!a || !p) { kiln_atoms_free(a); kiln_pot_free(p); return; }
  /* start hot: half the kinetic energy flows into the potential energy of the crystal */
  set_velocities(a, 2.0 * T, 11);
  s->kT = KILN_KB * T;
  s->T0 = T;
  s->per = 3 * a->n;
  s->vevery = 5;
  kiln_md *md = make_md(rs->style, rs->spec);
  kiln_observer ob = {.fn = observe, .ud = s, .every = 1};
  kiln_md_run_opts ro = {.obs = &ob, .nobs = 1};
  if (md) {
    s->dt = md->dt;
    s->berendsen_tau = rs->berendsen_tau;
    CHECK_OK(kiln_md_run(md, a, p, neq, rs->berendsen_tau > 0.0 ? &ro : NULL, &err));
    if (rs->nve_after) {
      kiln_md_free(md);
      md = make_md("verlet", "dt=5");
    }
    s->nk = s->nv = 0;
    if (md) CHECK_OK(kiln_md_run(md, a, p, nrun, &ro, &err));
  }
  kiln_md_free(md);
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

/* Runs rs and tests the kinetic energy (against the target temperature, *ke, and
 * against the run's own mean temperature, *kefit) and the velocities. */
static void canonical(const run_spec *rs, const char *label, int expect_canonical, ks_result *ke,
                      ks_result *kefit) {
  const long neq = g_short ? 1000 : 2000, nrun = g_short ? 8000 : 40000;
  const double pmin = g_short ? 1e-4 : 1e-3;
  sampler s;
  size_t n = 0;
  sample(rs, neq, nrun, &s, &n);
  CHECK(s.nk == (size_t)nrun && n > 1);
  if (s.nk != (size_t)nrun || n < 2) { sampler_free(&s); return; }
  const double nf = 3.0 * (double)n - 3.0, par[2] = {0.5 * nf, s.kT};
  const double kTm = 2.0 * mean(s.krel, s.nk) / nf, parfit[2] = {0.5 * nf, kTm};
  double var = 0.0;
  for (size_t i = 0; i < s.nk; i++) var += (s.krel[i] - 0.5 * nf * kTm) * (s.krel[i] - 0.5 * nf * kTm);
  var /= (double)(s.nk - 1) * 0.5 * nf * s.kT * s.kT; /* Var(K) / ((Nf/2) (kT)^2) */
  *ke = ks_series(s.krel, s.nk, cdf_gamma, par);
  *kefit = ks_series(s.krel, s.nk, cdf_gamma, parfit);
  double kurt = 0.0, kse_block = 0.0;
  ks_result mb = mb_test(&s, &kurt, &kse_block);
  const double kse = fmax(sqrt(24.0 / mb.neff), kse_block);
  printf("  %-20s KE vs Gamma(%.1f, kT): D %.4f p %.3g | vs Gamma(%.1f, k<T>): D %.4f p %.3g | "
         "n %zu, tau %.1f steps, n_eff %.0f, <T> %.2f K, Var(K)/canonical %.3f\n", label,
         0.5 * nf, ke->D, ke->p, 0.5 * nf, kefit->D, kefit->p, s.nk, ke->tau, ke->neff,
         kTm / KILN_KB, var);
  printf("  %-20s u vs N(0,1): D %.5f p %.3g | n %zu, tau %.2f snapshots, n_eff %.0f | "
         "kurtosis %.4f +- %.4f (from tau %.4f, blocks %.4f)\n", "", mb.D, mb.p, s.nv * s.per,
         mb.tau, mb.neff, kurt, kse, sqrt(24.0 / mb.neff), kse_block);
  if (expect_canonical) {
    CHECK(ke->p > pmin);
    CHECK(mb.p > pmin);
    CHECK(fabs(kurt - 3.0) < 4.5 * kse);
    CHECK(ke->neff > (g_short ? 300 : 1500)); /* enough independent samples for some power */
  }
  if (!strcmp(rs->style, "langevin") && !rs->nve_after) {
    /* the centre of mass is thermalised too: K_com ~ Gamma(3/2, kT) */
    const double pc[2] = {1.5, s.kT};
    ks_result com = ks_series(s.kcom, s.nk, cdf_gamma, pc);
    printf("  %-20s K_com vs Gamma(1.5, kT): D %.4f p %.3g | tau %.1f steps, n_eff %.0f\n",
           "", com.D, com.p, com.tau, com.neff);
    CHECK(com.p > pmin);
  } else {
    /* the others keep the zero total momentum they started with */
    double cmax = 0.0;
    for (size_t i = 0; i < s.nk; i++) cmax = fmax(cmax, s.kcom[i]);
    CHECK(cmax < 1e-20 * s.kT);
  }
  sampler_free(&s);
}

TEST(test_langevin) {
  run_spec rs = {"langevin", "dt=5 T=30 damping=100 seed=3", 0, 0};
  ks_result ke, kefit;
  canonical(&rs, "langevin damping 100", 1, &ke, &kefit);
}

TEST(test_csvr) {
  run_spec rs = {"csvr", "dt=5 T=30 tau=50 seed=4", 0, 0};
  ks_result ke, kefit;
  canonical(&rs, "csvr tau 50", 1, &ke, &kefit);
}

TEST(test_nosehoover) {
  run_spec rs = {"nosehoover", "dt=5 T=30 tau=100", 0, 0};
  ks_result ke, kefit;
  canonical(&rs, "nosehoover tau 100", 1, &ke, &kefit);
}

/* The same test must reject samplers whose kinetic energy distribution is too
 * narrow, also when compared at their own mean temperature (so it is the shape,
 * not a shifted mean, that fails). */
TEST(test_negative_controls) {
  const double pmax = g_short ? 1e-4 : 1e-6;
  ks_result ke, kefit;
  run_spec ber = {"verlet", "dt=5", 100.0, 0};
  canonical(&ber, "berendsen tau 100", 0, &ke, &kefit);
  CHECK(ke.p < pmax && kefit.p < pmax);
  run_spec nve = {"csvr", "dt=5 T=30 tau=50 seed=5", 0, 1};
  canonical(&nve, "nve after csvr", 0, &ke, &kefit);
  CHECK(ke.p < pmax && kefit.p < pmax);
}

int main(void) {
  const char *s = getenv("KILN_SHORT");
  g_short = s && s[0] && strcmp(s, "0") != 0;
  /* one thread: 32 atoms gain nothing from threads (on a loaded machine the
   * potential's per-step parallel regions made this test ~20x slower), and the
   * seeded trajectories, hence the p-values, do not depend on the thread count */
  omp_set_num_threads(1);
  RUN(test_stats);
  RUN(test_langevin);
  RUN(test_csvr);
  RUN(test_nosehoover);
  RUN(test_negative_controls);
  return check_summary();
}
