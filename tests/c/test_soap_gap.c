/* tests/c/test_soap_gap.c: the soap_gap potential: a model file written here (random
 * negative alphas, sparse rows taken from the structures' own SOAP rows) read back;
 * energy and per-atom energies against the kernel sums computed from kiln_desc_compute,
 * finite-difference forces and virial (strain), rotation invariance, threads == serial,
 * NVE energy conservation, and the file errors (version, ncols, elements, file:line). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <omp.h>
#include "check.h"
#include "kiln/kiln.h"
#include "kiln/ml.h"
#include "pot/soap_gap.h"

static kiln_error err;

static const char *const OPTS[] = {"cutoff=4.0", "cutoff_width=1.0", "sigma=0.5", "nmax=4",
                                   "lmax=3", "elements.1=Si", "elements.2=Ge"};
#define NOPT 7

static kiln_desc *make_desc(void) {
  kiln_opts *o = NULL;
  kiln_desc *d = NULL;
  kiln_opts_new(&o, &err);
  for (int k = 0; k < NOPT; k++) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s", OPTS[k]);
    char *eq = strchr(tmp, '=');
    *eq = '\0';
    kiln_opts_set_path(o, tmp, eq + 1, &err);
  }
  if (kiln_desc_new(&d, "soap", o, &err)) d = NULL;
  kiln_opts_free(o);
  return d;
}

/* 16-atom strained triclinic SiGe cell with random displacements (cell < 2 cutoff) */
static kiln_atoms *sige(uint64_t seed, double amp) {
  kiln_atoms *u = NULL, *a = NULL;
  kiln_crystal_diamond(&u, "Si", 5.5, &err);
  kiln_atoms_supercell(&a, u, 2, 1, 1, &err);
  kiln_atoms_free(u);
  double cell[3][3] = {{11.1, 0.2, -0.1}, {0.3, 5.4, 0.15}, {-0.2, 0.25, 5.6}};
  kiln_atoms_set_cell(a, cell, 1, &err);
  for (size_t i = 0; i < a->n; i += 3) kiln_atoms_set_symbol(a, i, "Ge", &err);
  kiln_rng rng;
  kiln_rng_seed(&rng, seed, 0);
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) a->x[i][c] += amp * kiln_rng_normal(&rng);
  return a;
}

typedef struct {
  char path[64];
  size_t m, nc;
  double *S, *alpha;
  int32_t *el;
  double e0[2];
} model;

/* m sparse rows: atoms 0..5 of one structure and 0..3 of another */
static int write_model(model *md, kiln_desc *d, double zeta) {
  md->nc = kiln_desc_ncols(d);
  md->m = 10;
  md->S = malloc(md->m * md->nc * sizeof *md->S);
  md->alpha = malloc(md->m * sizeof *md->alpha);
  md->el = malloc(md->m * sizeof *md->el);
  md->e0[0] = -1.25;
  md->e0[1] = -2.5;
  kiln_rng rng;
  kiln_rng_seed(&rng, 7, 3);
  size_t s = 0;
  for (int k = 0; k < 2; k++) {
    kiln_atoms *a = sige(100 + k, 0.15);
    double *X = malloc(a->n * md->nc * sizeof *X);
    kiln_desc_compute(d, a, X, NULL, &err);
    const size_t take = k == 0 ? 6 : 4;
    for (size_t i = 0; i < take; i++, s++) {
      memcpy(md->S + s * md->nc, X + i * md->nc, md->nc * sizeof *X);
      md->el[s] = strcmp(kiln_atoms_symbol(a, i), "Si") == 0 ? 0 : 1;
      md->alpha[s] = -(0.2 + 0.3 * kiln_rng_uniform(&rng));
    }
    free(X);
    kiln_atoms_free(a);
  }
  strcpy(md->path, "/tmp/kiln_gap_XXXXXX");
  int fd = mkstemp(md->path);
  if (fd < 0) return -1;
  close(fd);
  const char sym[2][KILN_SYMBOL_LEN] = {"Si", "Ge"};
  return kilni_soap_gap_write(md->path, NOPT, OPTS, zeta, 2, sym, md->e0, md->m, md->nc, md->el,
                              md->alpha, md->S, &err) ? -1 : 0;
}

static void free_model(model *md) {
  remove(md->path);
  free(md->S);
  free(md->alpha);
  free(md->el);
}

static kiln_pot *load(const char *path) {
  kiln_opts *o = NULL;
  kiln_pot *p = NULL;
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "file", path, &err);
  if (kiln_pot_new(&p, "soap_gap", o, &err)) p = NULL;
  kiln_opts_free(o);
  return p;
}

static double energy(kiln_pot *p, kiln_atoms *a) {
  kiln_pot_result r;
  if (kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY, &r, &err)) return NAN;
  return r.energy;
}

static void energy_forces_virial(double zeta) {
  kiln_desc *d = make_desc();
  model md;
  if (!d || write_model(&md, d, zeta)) { CHECK(0); kiln_desc_free(d); return; }
  kiln_pot *p = load(md.path);
  if (!p) { fprintf(stderr, "  load: %s\n", err.msg); CHECK(0); free_model(&md); kiln_desc_free(d); return; }
  kiln_atoms *a = sige(5, 0.12);
  const size_t n = a->n, nc = md.nc;
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  /* hand-computed kernel sums from the descriptor rows */
  double *X = malloc(n * nc * sizeof *X);
  CHECK_OK(kiln_desc_compute(d, a, X, NULL, &err));
  double etot = 0, edev = 0;
  for (size_t i = 0; i < n; i++) {
    const int ei = strcmp(kiln_atoms_symbol(a, i), "Si") == 0 ? 0 : 1;
    double e = md.e0[ei], nx = 0;
    for (size_t c = 0; c < nc; c++) nx += X[i * nc + c] * X[i * nc + c];
    for (size_t s = 0; s < md.m; s++) {
      if (md.el[s] != ei) continue;
      double ns = 0, dot = 0;
      for (size_t c = 0; c < nc; c++) {
        ns += md.S[s * nc + c] * md.S[s * nc + c];
        dot += md.S[s * nc + c] * X[i * nc + c];
      }
      const double q = dot / sqrt(nx * ns);
      e += md.alpha[s] * (zeta == floor(zeta) ? pow(q, zeta) : q > 0 ? pow(q, zeta) : 0);
    }
    edev = fmax(edev, fabs(e - r.eatom[i]));
    etot += e;
  }
  CHECK_CLOSE(r.energy, etot, 1e-12, 0);
  CHECK(edev < 1e-12);
  printf("  16-atom SiGe, zeta %g: E = %.10f eV\n", zeta, r.energy);
  /* forces by central differences */
  double (*f)[3] = malloc(n * sizeof *f);
  memcpy(f, a->f, n * sizeof *f);
  const double h = 1e-5;
  double fdev = 0, fmx = 0;
  for (size_t j = 0; j < n; j++)
    for (int c = 0; c < 3; c++) {
      const double x0 = a->x[j][c];
      a->x[j][c] = x0 + h;
      double ep = energy(p, a);
      a->x[j][c] = x0 - h;
      double em = energy(p, a);
      a->x[j][c] = x0;
      fdev = fmax(fdev, fabs(-(ep - em) / (2 * h) - f[j][c]));
      fmx = fmax(fmx, fabs(f[j][c]));
    }
  printf("  forces vs FD: max dev %.2e eV/Å (max |f| %.3g)\n", fdev, fmx);
  CHECK(fmx > 1e-2);
  CHECK(fdev < 1e-8 * fmx + 1e-10);
  /* virial: x -> (I + h E_ab) x (cell too): dE/dh = -W_ba */
  double wdev = 0, wmx = 0;
  for (int aa = 0; aa < 3; aa++)
    for (int bb = 0; bb < 3; bb++) {
      double e2[2];
      for (int sg = 0; sg < 2; sg++) {
        kiln_atoms *b = NULL;
        kiln_atoms_copy(&b, a, &err);
        const double eps = sg ? -h : h;
        for (size_t i = 0; i < n; i++) b->x[i][aa] += eps * a->x[i][bb];
        double cell[3][3];
        memcpy(cell, a->cell, sizeof cell);
        for (int v = 0; v < 3; v++) cell[v][aa] += eps * a->cell[v][bb];
        kiln_atoms_set_cell(b, cell, 0, &err);
        e2[sg] = energy(p, b);
        kiln_atoms_free(b);
      }
      const double dE = (e2[0] - e2[1]) / (2 * h);
      wdev = fmax(wdev, fabs(-dE - r.virial[bb][aa]));
      wmx = fmax(wmx, fabs(r.virial[bb][aa]));
    }
  printf("  virial vs strain FD: max dev %.2e eV (max |W| %.3g)\n", wdev, wmx);
  CHECK(wmx > 1e-2);
  CHECK(wdev < 1e-7 * wmx);
  free(X);
  free(f);
  kiln_atoms_free(a);
  kiln_pot_free(p);
  free_model(&md);
  kiln_desc_free(d);
}

TEST(test_energy_forces_virial) { energy_forces_virial(3); }
TEST(test_energy_forces_virial_zeta_real) { energy_forces_virial(2.5); }

TEST(test_rotation_and_threads) {
  kiln_desc *d = make_desc();
  model md;
  if (!d || write_model(&md, d, 3)) { CHECK(0); kiln_desc_free(d); return; }
  kiln_pot *p = load(md.path);
  if (!p) { CHECK(0); free_model(&md); kiln_desc_free(d); return; }
  kiln_atoms *a = sige(9, 0.1), *b = NULL;
  const size_t n = a->n;
  kiln_pot_result r, r2;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  double (*f)[3] = malloc(n * sizeof *f);
  memcpy(f, a->f, n * sizeof *f);
  /* rotation: E invariant, forces rotate */
  const double th = 0.7, ph = -1.1;
  double Rz[3][3] = {{cos(th), -sin(th), 0}, {sin(th), cos(th), 0}, {0, 0, 1}};
  double Rx[3][3] = {{1, 0, 0}, {0, cos(ph), -sin(ph)}, {0, sin(ph), cos(ph)}};
  double R[3][3] = {{0}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 3; k++) R[i][j] += Rz[i][k] * Rx[k][j];
  kiln_atoms_copy(&b, a, &err);
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) b->x[i][c] = R[c][0] * a->x[i][0] + R[c][1] * a->x[i][1] + R[c][2] * a->x[i][2];
  double cell[3][3];
  for (int v = 0; v < 3; v++)
    for (int c = 0; c < 3; c++)
      cell[v][c] = R[c][0] * a->cell[v][0] + R[c][1] * a->cell[v][1] + R[c][2] * a->cell[v][2];
  kiln_atoms_set_cell(b, cell, 0, &err);
  CHECK_OK(kiln_pot_compute_once(p, b, KILN_EVAL_ALL, &r2, &err));
  CHECK_CLOSE(r2.energy, r.energy, 1e-12, 0);
  double dev = 0;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) {
      double rf = R[c][0] * f[i][0] + R[c][1] * f[i][1] + R[c][2] * f[i][2];
      dev = fmax(dev, fabs(b->f[i][c] - rf));
    }
  CHECK(dev < 1e-10);
  /* threads == serial */
  int saved = omp_get_max_threads();
  omp_set_num_threads(3);
  kiln_pot_set_omp_min(p, 0);
  kiln_pot_invalidate(p);
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r2, &err));
  omp_set_num_threads(saved);
  CHECK_CLOSE(r2.energy, r.energy, 1e-13, 0);
  dev = 0;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) dev = fmax(dev, fabs(a->f[i][c] - f[i][c]));
  CHECK(dev < 1e-12);
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) CHECK_CLOSE(r2.virial[x][y], r.virial[x][y], 1e-12, 1e-12);
  free(f);
  kiln_atoms_free(a);
  kiln_atoms_free(b);
  kiln_pot_free(p);
  free_model(&md);
  kiln_desc_free(d);
}

typedef struct { double e0, emax; long n; } track;
static kiln_status rec(void *ud, long step, kiln_atoms *a, const kiln_thermo *th, kiln_error *e) {
  track *t = ud;
  if (t->n++ == 0) t->e0 = th->etot;
  t->emax = fmax(t->emax, fabs(th->etot - t->e0));
  return KILN_OK;
}

TEST(test_nve) {
  kiln_desc *d = make_desc();
  model md;
  if (!d || write_model(&md, d, 3)) { CHECK(0); kiln_desc_free(d); return; }
  kiln_pot *p = load(md.path);
  kiln_atoms *a = sige(11, 0.05);
  kiln_rng r;
  kiln_rng_seed(&r, 5, 0);
  for (size_t i = 0; i < a->n; i++) {
    double sd = sqrt(KILN_KB * 300.0 / (a->mass[i] * KILN_MVV2E));
    for (int c = 0; c < 3; c++) a->v[i][c] = sd * kiln_rng_normal(&r);
  }
  kiln_atoms_zero_momentum(a);
  kiln_opts *o = NULL;
  kiln_md *m = NULL;
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "dt", 0.5, &err);
  CHECK_OK(kiln_md_new(&m, "verlet", o, &err));
  kiln_opts_free(o);
  if (p && m) {
    track t = {0, 0, 0};
    kiln_observer ob = {rec, &t, 5, 0};
    kiln_md_run_opts ro = {.obs = &ob, .nobs = 1, .skin = 1.0};
    CHECK_OK(kiln_md_run(m, a, p, 400, &ro, &err));
    const double ekin = kiln_atoms_kinetic_energy(a);
    printf("  NVE 200 fs, dt 0.5 fs: max |E - E0| = %.2e eV (Ekin %.3f eV, T %.0f K)\n", t.emax,
           ekin, kiln_atoms_temperature(a));
    CHECK(t.n >= 80);
    CHECK(t.emax < 2e-4 * (double)a->n);
    CHECK(ekin > 0.05);
  } else CHECK(0);
  kiln_md_free(m);
  kiln_atoms_free(a);
  kiln_pot_free(p);
  free_model(&md);
  kiln_desc_free(d);
}

static void write_text(char path[64], const char *text) {
  strcpy(path, "/tmp/kiln_gapbad_XXXXXX");
  int fd = mkstemp(path);
  FILE *fp = fdopen(fd, "w");
  fputs(text, fp);
  fclose(fp);
}

TEST(test_file_errors) {
  char path[64], want[128];
  kiln_pot *p = NULL;
  kiln_opts *o = NULL;
  const char *head = "# kiln soap_gap model\nkiln_soap_gap 1\ndescriptor soap\noption cutoff=3\n"
                     "option nmax=2\noption lmax=1\noption elements.1=Si\nzeta 2\ne0 Si -1\n";
  char text[2048];
  /* bad version */
  write_text(path, "# kiln soap_gap model\nkiln_soap_gap 2\n");
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "file", path, &err);
  snprintf(want, sizeof want, "%s:2:", path);
  CHECK_ERR(kiln_pot_new(&p, "soap_gap", o, &err), KILN_EFORMAT, want);
  CHECK(strstr(err.msg, "version 1") != NULL);
  kiln_opts_free(o);
  remove(path);
  /* ncols 3 vs 3 * (1+1) = 6 columns (K = 2 radial x 1 channel) */
  snprintf(text, sizeof text, "%snsparse 1\nncols 3\nsparse\nSi 0.5 1 2 3\n", head);
  write_text(path, text);
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "file", path, &err);
  snprintf(want, sizeof want, "%s:11:", path);
  CHECK_ERR(kiln_pot_new(&p, "soap_gap", o, &err), KILN_EFORMAT, want);
  CHECK(strstr(err.msg, "6 columns") != NULL);
  kiln_opts_free(o);
  remove(path);
  /* a row too short, an unknown element, too few rows, unknown keyword, bad option */
  const char *cases[][3] = {
      {"nsparse 1\nncols 6\nsparse\nSi 0.5 1 2 3\n", ":13:", "expected ncols=6"},
      {"nsparse 1\nncols 6\nsparse\nO 0.5 1 2 3 4 5 6\n", ":13:", "'O' has no e0"},
      {"nsparse 2\nncols 6\nsparse\nSi 0.5 1 2 3 4 5 6\n", ":13:", "found 1"},
      {"nsparse 1\nkernel poly\n", ":11:", "unknown keyword 'kernel'"},
      {"option sigmaa=1\nnsparse 0\nncols 6\nsparse\n", "", "sigmaa"},
      {"e0 O -3\nnsparse 0\nncols 6\nsparse\n", "", "'O' (e0 line) is not in the descriptor"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    snprintf(text, sizeof text, "%s%s", head, cases[k][0]);
    write_text(path, text);
    kiln_opts_new(&o, &err);
    kiln_opts_add_str(o, "file", path, &err);
    snprintf(want, sizeof want, "%s%s", path, cases[k][1]);
    CHECK_ERR(kiln_pot_new(&p, "soap_gap", o, &err), KILN_EFORMAT, want);
    if (!strstr(err.msg, cases[k][2])) {
      CHECK(0);
      fprintf(stderr, "  case %zu: '%s' lacks '%s'\n", k, err.msg, cases[k][2]);
    }
    kiln_opts_free(o);
    remove(path);
  }
  /* a good minimal model; atoms with an element it lacks */
  snprintf(text, sizeof text, "%snsparse 1\nncols 6\nsparse\nSi 0.5 1 2 3 4 5 6\n", head);
  write_text(path, text);
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "file", path, &err);
  CHECK_OK(kiln_pot_new(&p, "soap_gap", o, &err));
  kiln_opts_free(o);
  remove(path);
  if (p) {
    kiln_atoms *a = NULL;
    kiln_atoms_new(&a, 0, &err);
    double x0[3] = {0, 0, 0}, x1[3] = {2, 0, 0};
    kiln_atoms_append(a, "Si", x0, &err);
    kiln_atoms_append(a, "C", x1, &err);
    kiln_pot_result r;
    CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err), KILN_EINVAL, "'C'");
    /* an isolated Si atom: e0 only, no force */
    kiln_atoms_set_symbol(a, 1, "Si", &err);
    a->x[1][0] = 10;
    CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
    CHECK_CLOSE(r.energy, -2.0, 1e-15, 0);
    kiln_atoms_free(a);
    kiln_pot_free(p);
  }
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "file", "/nonexistent/model.gap", &err);
  CHECK_ERR(kiln_pot_new(&p, "soap_gap", o, &err), KILN_EIO, "/nonexistent/model.gap");
  kiln_opts_free(o);
}

int main(void) {
  RUN(test_energy_forces_virial);
  RUN(test_energy_forces_virial_zeta_real);
  RUN(test_rotation_and_threads);
  RUN(test_nve);
  RUN(test_file_errors);
  return check_summary();
}
