/* tests/c/test_coulomb.c: the Coulomb styles (coul/ewald, coul/dsf) and buck.
 *  - Ewald energies of rock salt and CsCl against their Madelung constants (1e-8 relative
 *    wanted; found ~1e-13), independent of the splitting alpha / cutoff / accuracy;
 *  - forces and virial against finite differences (Richardson-extrapolated central
 *    differences, 1e-7 relative) for coul/ewald, coul/dsf, buck and the SrTiO3 sum;
 *  - per-atom energies sum to the energy; 1 vs several threads; per-atom "charge" property;
 *  - coul/dsf converges to Ewald energy differences as the cutoff grows;
 *  - the SrTiO3 rigid-ion model (Thomas et al. 2005) as sum{buck, coul/ewald}: zero forces
 *    in the cubic cell, the zero-pressure lattice parameter, and stable NVE MD at 300 K
 *    (energy drift < 1e-4 eV/atom over 1 ps, no escapes, per-element MSDs).
 * LAMMPS reference data for the three styles are in tests/ref/{coul,buck}-*.ref (test_ref). */
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include "check.h"
#include "kiln/kiln.h"

static kiln_error err;
#define KCOUL 14.39964547842567

/* a potential from "path=value" strings, NULL-terminated */
static kiln_pot *mkpot(const char *style, ...) {
  kiln_opts *o = NULL;
  kiln_pot *p = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  va_list ap;
  va_start(ap, style);
  for (const char *s; (s = va_arg(ap, const char *));) {
    char key[256];
    const char *eq = strchr(s, '=');
    snprintf(key, sizeof key, "%.*s", (int)(eq - s), s);
    CHECK_OK(kiln_opts_set_path(o, key, eq + 1, &err));
  }
  va_end(ap);
  CHECK_OK(kiln_pot_new(&p, style, o, &err));
  kiln_opts_free(o);
  if (p) kiln_pot_set_omp_min(p, 0);
  return p;
}

static double energy(kiln_pot *p, kiln_atoms *a) {
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY, &r, &err));
  return r.energy;
}

static kiln_atoms *rocksalt(double a0, int rep) {
  kiln_atoms *u = NULL, *a = NULL;
  CHECK_OK(kiln_crystal_rocksalt(&u, "Na", "Cl", a0, &err));
  CHECK_OK(kiln_atoms_supercell(&a, u, rep, rep, rep, &err));
  kiln_atoms_free(u);
  return a;
}

static kiln_atoms *cscl(double a0) {
  kiln_atoms *a = NULL;
  const double cell[3][3] = {{a0, 0, 0}, {0, a0, 0}, {0, 0, a0}};
  const char *sym[] = {"Cs", "Cl"};
  const double fr[2][3] = {{0, 0, 0}, {0.5, 0.5, 0.5}};
  CHECK_OK(kiln_crystal_from_cell(&a, cell, 2, sym, fr, &err));
  return a;
}

static kiln_atoms *srtio3(double a0, int rep) {
  kiln_atoms *u = NULL, *a = NULL;
  CHECK_OK(kiln_crystal_perovskite(&u, "Sr", "Ti", "O", a0, &err));
  CHECK_OK(kiln_atoms_supercell(&a, u, rep, rep, rep, &err));
  kiln_atoms_free(u);
  return a;
}

/* rattle (Gaussian sigma, A) and a triclinic strain */
static void disorder(kiln_atoms *a, double sigma, uint64_t seed, int tri) {
  kiln_rng r;
  kiln_rng_seed(&r, seed, 0);
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) a->x[i][c] += sigma * kiln_rng_normal(&r);
  if (tri) {
    double c[3][3];
    memcpy(c, a->cell, sizeof c);
    double e[3][3] = {{1.02, 0.03, -0.02}, {0.01, 0.985, 0.04}, {-0.03, 0.02, 1.01}};
    double nc[3][3] = {{0}};
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++)
        for (int k = 0; k < 3; k++) nc[i][j] += c[i][k] * e[k][j];
    CHECK_OK(kiln_atoms_set_cell(a, nc, 1, &err));
  }
}

/* sum{buck, coulomb} for SrTiO3 (Thomas et al. 2005); coul: "ewald" or "dsf" */
static kiln_pot *srtio3_pot(const char *coul, kiln_pot **parts) {
  const char *acc = !strcmp(coul, "ewald_tight") ? "accuracy=1e-12" : "accuracy=1e-8";
  parts[0] = mkpot("buck", "cutoff=10",
                   "pairs.1.1=Sr", "pairs.1.2=O", "pairs.1.A=1769.51", "pairs.1.rho=0.319894",
                   "pairs.1.C=0",
                   "pairs.2.1=Ti", "pairs.2.2=O", "pairs.2.A=14567.40", "pairs.2.rho=0.197584",
                   "pairs.2.C=0",
                   "pairs.3.1=O", "pairs.3.2=O", "pairs.3.A=6249.17", "pairs.3.rho=0.231472",
                   "pairs.3.C=0",
                   "pairs.4.1=Sr", "pairs.4.2=Sr", "pairs.4.A=0", "pairs.4.rho=1", "pairs.4.C=0",
                   "pairs.5.1=Sr", "pairs.5.2=Ti", "pairs.5.A=0", "pairs.5.rho=1", "pairs.5.C=0",
                   "pairs.6.1=Ti", "pairs.6.2=Ti", "pairs.6.A=0", "pairs.6.rho=1", "pairs.6.C=0",
                   NULL);
  if (strncmp(coul, "ewald", 5) == 0)
    parts[1] = mkpot("coul/ewald", "cutoff=10", acc, "charges.Sr=1.84",
                     "charges.Ti=2.36", "charges.O=-1.40", NULL);
  else
    parts[1] = mkpot("coul/dsf", "cutoff=11", "alpha=0.22", "charges.Sr=1.84",
                     "charges.Ti=2.36", "charges.O=-1.40", NULL);
  kiln_pot *s = NULL;
  CHECK_OK(kiln_pot_new_sum(&s, parts, 2, &err));
  return s;
}

TEST(madelung_nacl) {
  const double M = 1.747564594633;
  kiln_atoms *a = rocksalt(5.64, 1);
  const double r0 = 5.64 / 2;
  const double want = -(double)(a->n / 2) * M * KCOUL / r0;
  const char *alt[][3] = {{"cutoff=8", "accuracy=1e-12", NULL},
                          {"cutoff=5", "accuracy=1e-13", NULL},
                          {"cutoff=12", "accuracy=1e-14", NULL}};
  for (int k = 0; k < 3; k++) {
    kiln_pot *p = mkpot("coul/ewald", alt[k][0], alt[k][1], "charges.Na=1", "charges.Cl=-1",
                        NULL);
    double e = energy(p, a);
    printf("  NaCl Madelung (%s %s): %.15f  rel. error %.2e\n", alt[k][0], alt[k][1],
           -e / (a->n / 2) * r0 / KCOUL, fabs(e / want - 1));
    CHECK_CLOSE(e, want, 1e-10, 0);
    kiln_pot_free(p);
  }
  /* an explicit alpha far from the optimum, compensated by kcut */
  kiln_pot *p = mkpot("coul/ewald", "cutoff=6", "alpha=0.9", "kcut=9", "charges.Na=1",
                      "charges.Cl=-1", NULL);
  CHECK_CLOSE(energy(p, a), want, 1e-10, 0);
  kiln_pot_free(p);
  /* a 2x2x2 supercell: 8 times the energy */
  kiln_atoms *b = rocksalt(5.64, 2);
  p = mkpot("coul/ewald", "cutoff=9", "accuracy=1e-12", "charges.Na=1", "charges.Cl=-1", NULL);
  CHECK_CLOSE(energy(p, b), 8 * want, 1e-10, 0);
  kiln_pot_free(p);
  kiln_atoms_free(b);
  kiln_atoms_free(a);
}

TEST(madelung_cscl) {
  const double M = 1.762674773070;
  const double a0 = 4.12;
  kiln_atoms *a = cscl(a0);
  const double r0 = a0 * sqrt(3.0) / 2;
  const double want = -M * KCOUL / r0;
  const char *cut[] = {"cutoff=6", "cutoff=10"};
  for (int k = 0; k < 2; k++) {
    kiln_pot *p = mkpot("coul/ewald", cut[k], "accuracy=1e-13", "charges.Cs=1",
                        "charges.Cl=-1", NULL);
    double e = energy(p, a);
    printf("  CsCl Madelung (%s): %.15f  rel. error %.2e\n", cut[k], -e * r0 / KCOUL,
           fabs(e / want - 1));
    CHECK_CLOSE(e, want, 1e-10, 0);
    kiln_pot_free(p);
  }
  kiln_atoms_free(a);
}

/* F = -dE/dx and W = -dE/deps by Richardson-extrapolated central differences;
 * returns the max relative errors (relative to max |F| and max |W|) */
static void fd_check(kiln_pot *p, kiln_atoms *a, int natoms_fd, double *ferr, double *werr) {
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  /* per-atom energies and sum F = 0 */
  double es = 0;
  for (size_t i = 0; i < a->n; i++) es += r.eatom[i];
  CHECK_CLOSE(es, r.energy, 1e-11, 1e-11);
  double *f0 = malloc(a->n * 3 * sizeof *f0);
  memcpy(f0, a->f, a->n * 3 * sizeof *f0);
  double fm = 0, fs[3] = {0, 0, 0};
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) {
      fm = fm > fabs(f0[3 * i + c]) ? fm : fabs(f0[3 * i + c]);
      fs[c] += f0[3 * i + c];
    }
  for (int c = 0; c < 3; c++) CHECK(fabs(fs[c]) < 1e-9 * fm * (double)a->n);
  double W[3][3];
  memcpy(W, r.virial, sizeof W);
  double e1 = 0;
  const double h = 2e-3;
  for (int k = 0; k < natoms_fd; k++) {
    size_t i = (size_t)k * (a->n / (size_t)natoms_fd);
    for (int c = 0; c < 3; c++) {
      double d[2];
      for (int s = 0; s < 2; s++) {
        double hh = s ? h / 2 : h, x0 = a->x[i][c];
        a->x[i][c] = x0 + hh;
        double ep = energy(p, a);
        a->x[i][c] = x0 - hh;
        double em = energy(p, a);
        a->x[i][c] = x0;
        d[s] = -(ep - em) / (2 * hh);
      }
      double fd = (4 * d[1] - d[0]) / 3;
      double e = fabs(fd - f0[3 * i + c]) / fm;
      e1 = e > e1 ? e : e1;
    }
  }
  *ferr = e1;
  double wmax = 0, e2 = 0;
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) wmax = fmax(wmax, fabs(W[x][y]));
  kiln_atoms *b = NULL;
  CHECK_OK(kiln_atoms_copy(&b, a, &err));
  const double he = 2e-4;
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) {
      double d[2];
      for (int s = 0; s < 2; s++) {
        double hh = s ? he / 2 : he, ev[2];
        for (int sg = 0; sg < 2; sg++) {
          double eps = sg ? -hh : hh;
          for (size_t i = 0; i < a->n; i++) {
            memcpy(b->x[i], a->x[i], sizeof b->x[i]);
            b->x[i][x] += eps * a->x[i][y];
          }
          double c[3][3];
          memcpy(c, a->cell, sizeof c);
          for (int v = 0; v < 3; v++) c[v][x] += eps * a->cell[v][y];
          CHECK_OK(kiln_atoms_set_cell(b, c, 0, &err));
          ev[sg] = energy(p, b);
        }
        d[s] = -(ev[0] - ev[1]) / (2 * hh);
      }
      double fd = (4 * d[1] - d[0]) / 3;
      double sym = 0.5 * (W[x][y] + W[y][x]);
      double e = fabs(fd - sym) / wmax;
      e2 = e > e2 ? e : e2;
    }
  /* the FD of a non-symmetric strain is not symmetric: compare the symmetric parts */
  *werr = e2;
  kiln_atoms_free(b);
  free(f0);
}

TEST(fd_ewald) {
  kiln_atoms *a = rocksalt(5.64, 1);
  disorder(a, 0.15, 7, 1);
  kiln_pot *p = mkpot("coul/ewald", "cutoff=7", "accuracy=1e-12", "charges.Na=1",
                      "charges.Cl=-1", NULL);
  double fe, we;
  fd_check(p, a, 8, &fe, &we);
  printf("  coul/ewald FD: forces %.2e, virial %.2e (relative)\n", fe, we);
  CHECK(fe < 1e-7);
  CHECK(we < 1e-7);
  kiln_pot_free(p);
  /* non-neutral: the background term keeps the energy well defined and differentiable */
  p = mkpot("coul/ewald", "cutoff=7", "accuracy=1e-12", "charges.Na=1.2", "charges.Cl=-1",
            NULL);
  fd_check(p, a, 4, &fe, &we);
  printf("  coul/ewald (net charge %.1f e) FD: forces %.2e, virial %.2e\n", 0.2 * a->n / 2,
         fe, we);
  CHECK(fe < 1e-7);
  CHECK(we < 1e-7);
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

TEST(fd_dsf_buck) {
  kiln_atoms *a = srtio3(3.9051, 2);
  disorder(a, 0.12, 11, 1);
  kiln_pot *p = mkpot("coul/dsf", "cutoff=9", "alpha=0.22", "charges.Sr=1.84",
                      "charges.Ti=2.36", "charges.O=-1.40", NULL);
  double fe, we;
  fd_check(p, a, 8, &fe, &we);
  printf("  coul/dsf FD: forces %.2e, virial %.2e\n", fe, we);
  CHECK(fe < 1e-7);
  CHECK(we < 1e-7);
  kiln_pot_free(p);
  /* tight accuracy: no real-space pair or k-vector crosses its cutoff noticeably */
  kiln_pot *parts[2];
  p = srtio3_pot("ewald_tight", parts);
  fd_check(parts[0], a, 8, &fe, &we);
  printf("  buck FD: forces %.2e, virial %.2e\n", fe, we);
  CHECK(fe < 1e-7);
  CHECK(we < 1e-7);
  fd_check(p, a, 8, &fe, &we);
  printf("  sum{buck, coul/ewald} FD: forces %.2e, virial %.2e\n", fe, we);
  CHECK(fe < 1e-7);
  CHECK(we < 1e-7);
  kiln_pot_free(p);
  kiln_pot_free(parts[0]);
  kiln_pot_free(parts[1]);
  kiln_atoms_free(a);
}

/* 1 vs 4 threads, and the per-atom "charge" property instead of charges={...} */
TEST(threads_and_peratom_charges) {
  kiln_atoms *a = srtio3(3.9051, 3);
  disorder(a, 0.1, 3, 0);
  const char *styles[] = {"coul/ewald", "coul/dsf"};
  double *q = malloc(a->n * sizeof *q);
  for (size_t i = 0; i < a->n; i++) {
    const char *s = kiln_atoms_symbol(a, i);
    q[i] = !strcmp(s, "Sr") ? 1.84 : !strcmp(s, "Ti") ? 2.36 : -1.40;
  }
  for (int k = 0; k < 2; k++) {
    kiln_pot *p = mkpot(styles[k], "cutoff=9", "charges.Sr=1.84", "charges.Ti=2.36",
                        "charges.O=-1.40", NULL);
    kiln_pot *pq = mkpot(styles[k], "cutoff=9", NULL);
    int nt = omp_get_max_threads();
    kiln_pot_result r1, r2, r3;
    omp_set_num_threads(1);
    CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r1, &err));
    double f1[3] = {a->f[5][0], a->f[5][1], a->f[5][2]};
    omp_set_num_threads(4);
    CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r2, &err));
    CHECK_CLOSE(r1.energy, r2.energy, 1e-12, 0);
    CHECK_CLOSE(r1.virial[0][1], r2.virial[0][1], 1e-10, 1e-10);
    CHECK_CLOSE(f1[1], a->f[5][1], 1e-10, 1e-10);
    omp_set_num_threads(nt);
    CHECK_ERR(kiln_pot_compute_once(pq, a, KILN_EVAL_ALL, &r3, &err), KILN_EINVAL,
              "per-atom property \"charge\"");
    CHECK_OK(kiln_atoms_prop_set(a, "charge", KILN_VAL_REAL, 1, q, &err));
    CHECK_OK(kiln_pot_compute_once(pq, a, KILN_EVAL_ALL, &r3, &err));
    CHECK_CLOSE(r3.energy, r1.energy, 1e-13, 0);
    kiln_atoms_prop_remove(a, "charge");
    kiln_pot_free(p);
    kiln_pot_free(pq);
  }
  free(q);
  /* errors: unknown element, missing cutoff, bad erfc mode */
  kiln_pot *p = mkpot("coul/dsf", "cutoff=9", "charges.Sr=1.84", "charges.O=-1.4", NULL);
  CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, NULL, &err), KILN_EINVAL, "'Ti'");
  kiln_pot_free(p);
  kiln_pot *bad = NULL;
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_ERR(kiln_pot_new(&bad, "coul/dsf", o, &err), KILN_EINVAL, "cutoff");
  CHECK_OK(kiln_opts_set_path(o, "erfc", "fast", &err));
  CHECK_ERR(kiln_pot_new(&bad, "coul/ewald", o, &err), KILN_EINVAL, "erfc");
  kiln_opts_free(o);
  kiln_atoms_free(a);
}

/* DSF energy differences (disordered minus perfect) converge to Ewald's */
TEST(dsf_converges_to_ewald) {
  kiln_atoms *a0 = srtio3(3.9051, 3), *a1 = NULL;
  CHECK_OK(kiln_atoms_copy(&a1, a0, &err));
  disorder(a1, 0.15, 5, 0);
  kiln_pot *pe = mkpot("coul/ewald", "cutoff=10", "accuracy=1e-10", "charges.Sr=1.84",
                       "charges.Ti=2.36", "charges.O=-1.40", NULL);
  const double n = (double)a0->n;
  const double ee0 = energy(pe, a0), ed = energy(pe, a1) - ee0;
  printf("  Ewald: E(cubic) = %.6f eV/atom, E(rattled 0.15 A) - E(cubic) = %.6f eV/atom\n",
         ee0 / n, ed / n);
  /* with a fixed alpha DSF tends to Ewald minus its reciprocal part (alpha 0.2: ~4%,
   * 0.25: ~13% of this difference, for random displacements); alpha -> 0 with rc -> inf
   * converges to Ewald */
  const double alphas[] = {0.2, 0.2, 0.25, 0.25, 0.1, 0.1};
  const double cuts[] = {10, 12, 10, 12, 12, 20};
  const double tol[] = {0.05, 0.05, 0.15, 0.15, 0.1, 5e-3};
  for (int k = 0; k < 6; k++) {
    char al[32], cu[32];
    snprintf(al, sizeof al, "alpha=%g", alphas[k]);
    snprintf(cu, sizeof cu, "cutoff=%g", cuts[k]);
    kiln_pot *p = mkpot("coul/dsf", cu, al, "charges.Sr=1.84", "charges.Ti=2.36",
                        "charges.O=-1.40", NULL);
    double e0 = energy(p, a0), d = energy(p, a1) - e0;
    double rel = fabs(d - ed) / fabs(ed);
    printf("  dsf %s %s: E(cubic) %+.2e eV/atom off, difference off by %+.2e eV/atom "
           "(%.2e relative)\n", al, cu, (e0 - ee0) / n, (d - ed) / n, rel);
    CHECK(rel < tol[k]);
    if (alphas[k] >= 0.2) CHECK(fabs(e0 - ee0) / n < 3e-2);
    kiln_pot_free(p);
  }
  kiln_pot_free(pe);
  kiln_atoms_free(a0);
  kiln_atoms_free(a1);
}

/* pressure (GPa) of cubic SrTiO3 at lattice parameter a0 */
static double srtio3_pressure(kiln_pot *p, double a0, double *fmaxp) {
  kiln_atoms *a = srtio3(a0, 1);
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  double fm = 0;
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) fm = fmax(fm, fabs(a->f[i][c]));
  if (fmaxp) *fmaxp = fm;
  double P = (r.virial[0][0] + r.virial[1][1] + r.virial[2][2]) / (3 * kiln_atoms_volume(a));
  kiln_atoms_free(a);
  return P * 160.2176634;
}

TEST(srtio3_static) {
  kiln_pot *parts[2];
  kiln_pot *p = srtio3_pot("ewald", parts);
  double fm;
  double P = srtio3_pressure(p, 3.9051, &fm);
  kiln_atoms *a = srtio3(3.9051, 1);
  double e = energy(p, a);
  kiln_atoms_free(a);
  printf("  SrTiO3 a=3.9051: E = %.6f eV/formula unit, max|F| = %.1e eV/A, P = %.3f GPa\n",
         e, fm, P);
  CHECK(fm < 1e-10);
  CHECK(fabs(P) < 5.0);
  /* the lattice parameter with zero pressure (secant) */
  double x0 = 3.88, x1 = 3.93, p0 = srtio3_pressure(p, x0, NULL), p1 = srtio3_pressure(p, x1, NULL);
  for (int it = 0; it < 30 && fabs(p1) > 1e-9; it++) {
    double x2 = x1 - p1 * (x1 - x0) / (p1 - p0);
    x0 = x1;
    p0 = p1;
    x1 = x2;
    p1 = srtio3_pressure(p, x1, NULL);
  }
  printf("  SrTiO3 zero-pressure lattice parameter (buck + Ewald): %.5f A\n", x1);
  CHECK(fabs(x1 - 3.9051) < 0.05);
  kiln_pot *partsd[2];
  kiln_pot *pd = srtio3_pot("dsf", partsd);
  printf("  with coul/dsf (alpha 0.22, rc 11): P(3.9051) = %.3f GPa\n",
         srtio3_pressure(pd, 3.9051, NULL));
  kiln_pot_free(pd);
  kiln_pot_free(partsd[0]);
  kiln_pot_free(partsd[1]);
  kiln_pot_free(p);
  kiln_pot_free(parts[0]);
  kiln_pot_free(parts[1]);
}

typedef struct {
  double (*x0)[3];
  double etot0, emax, esum, e_first, e_last;
  long ne;
  double msd[3][3];     /* element x direction, accumulated */
  long nsamp;
  double umax;
  int started;
} md_obs;

static kiln_status obs_fn(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                          kiln_error *e) {
  (void)e;
  md_obs *o = ud;
  if (!o->started) {
    o->etot0 = th->etot;
    o->started = 1;
  }
  o->emax = fmax(o->emax, fabs(th->etot - o->etot0));
  o->esum += th->etot;
  o->ne++;
  if (step <= 100) o->e_first += th->etot / 21;   /* frames 0, 5, ..., 100 */
  if (step >= 900) o->e_last += th->etot / 21;
  /* displacements from the lattice sites, centre of mass drift removed */
  double com[3] = {0, 0, 0}, mt = 0;
  for (size_t i = 0; i < a->n; i++) {
    for (int c = 0; c < 3; c++) com[c] += a->mass[i] * (a->x[i][c] - o->x0[i][c]);
    mt += a->mass[i];
  }
  for (int c = 0; c < 3; c++) com[c] /= mt;
  o->nsamp++;
  for (size_t i = 0; i < a->n; i++) {
    int el = a->type[i];
    for (int c = 0; c < 3; c++) {
      double u = a->x[i][c] - o->x0[i][c] - com[c];
      o->umax = fmax(o->umax, fabs(u));
      o->msd[el][c] += u * u;
    }
  }
  return KILN_OK;
}

TEST(srtio3_md_300k) {
  kiln_pot *parts[2];
  kiln_pot *p = srtio3_pot("ewald", parts);
  kiln_atoms *a = srtio3(3.9051, 3);
  CHECK(a->n == 135);
  /* Maxwell-Boltzmann velocities at 600 K: equipartition brings the crystal near 300 K */
  kiln_rng r;
  kiln_rng_seed(&r, 42, 0);
  for (size_t i = 0; i < a->n; i++) {
    double s = sqrt(8.617333262e-5 * 600.0 / (a->mass[i] * 103.642696562));
    for (int c = 0; c < 3; c++) a->v[i][c] = s * kiln_rng_normal(&r);
  }
  kiln_atoms_zero_momentum(a);
  md_obs o = {0};
  o.x0 = malloc(a->n * sizeof *o.x0);
  memcpy(o.x0, a->x, a->n * sizeof *o.x0);
  /* 0.3 ps of Langevin at 300 K (damping 100 fs), then 1 ps NVE */
  kiln_md *eq = NULL, *md = NULL;
  kiln_opts *lo = NULL, *mo = NULL;
  CHECK_OK(kiln_opts_new(&lo, &err));
  CHECK_OK(kiln_opts_add_num(lo, "dt", 1.0, &err));
  CHECK_OK(kiln_opts_add_num(lo, "T", 300.0, &err));
  CHECK_OK(kiln_opts_add_num(lo, "damping", 100.0, &err));
  CHECK_OK(kiln_md_new(&eq, "langevin", lo, &err));
  CHECK_OK(kiln_md_run(eq, a, p, 300, NULL, &err));
  CHECK_OK(kiln_opts_new(&mo, &err));
  CHECK_OK(kiln_opts_add_num(mo, "dt", 1.0, &err));
  CHECK_OK(kiln_md_new(&md, "verlet", mo, &err));
  kiln_observer ob = {.fn = obs_fn, .ud = &o, .every = 5, .at_start = 1};
  kiln_md_run_opts ro = {.obs = &ob, .nobs = 1};
  CHECK_OK(kiln_md_run(md, a, p, 1000, &ro, &err));
  kiln_thermo th;
  kiln_md_get_thermo(md, &th);
  const double drift = (o.e_last - o.e_first) / a->n;
  printf("  SrTiO3 NVE 1 ps after 0.3 ps Langevin (dt 1 fs, 135 atoms): final T %.1f K, "
         "max |Etot - Etot(0)| = %.2e eV/atom, drift (last - first 0.1 ps) %.2e eV/atom, "
         "max |u| %.3f A\n", th.T, o.emax / a->n, drift, o.umax);
  const char *el[3];
  int cnt[3] = {0, 0, 0};
  for (size_t i = 0; i < a->n; i++) {
    cnt[a->type[i]]++;
    el[a->type[i]] = kiln_atoms_symbol(a, i);
  }
  for (int t = 0; t < 3; t++) {
    double m = 0;
    for (int c = 0; c < 3; c++) m += o.msd[t][c] / (o.nsamp * cnt[t]);
    printf("  <u^2> %s: %.5f A^2 (x %.5f y %.5f z %.5f; %ld frames, T ~ %.0f K)\n", el[t], m,
           o.msd[t][0] / (o.nsamp * cnt[t]), o.msd[t][1] / (o.nsamp * cnt[t]),
           o.msd[t][2] / (o.nsamp * cnt[t]), o.nsamp, th.T);
    CHECK(m > 1e-4 && m < 0.1);
  }
  CHECK(o.emax / a->n < 1e-4);
  CHECK(fabs(drift) < 2e-5);
  CHECK(o.umax < 1.0);
  kiln_opts_free(mo);
  kiln_opts_free(lo);
  kiln_md_free(md);
  kiln_md_free(eq);
  free(o.x0);
  kiln_atoms_free(a);
  kiln_pot_free(p);
  kiln_pot_free(parts[0]);
  kiln_pot_free(parts[1]);
}

int main(void) {
  RUN(madelung_nacl);
  RUN(madelung_cscl);
  RUN(fd_ewald);
  RUN(fd_dsf_buck);
  RUN(threads_and_peratom_charges);
  RUN(dsf_converges_to_ewald);
  RUN(srtio3_static);
  RUN(srtio3_md_300k);
  return check_summary();
}
