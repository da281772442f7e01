/* tests/c/test_harmonic.c: the harmonic spring pair style.
 * - energy, forces, virial and per-atom energies against an independent brute-force sum over
 *   periodic images (two species with per-pair parameters, triclinic strained rattled cell,
 *   cutoff larger than half the cell), 1 and 2 threads;
 * - forces and virial against finite differences of the energy;
 * - shift=true and option errors;
 * - NVE energy conservation of an fcc nearest-neighbour spring crystal. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include "check.h"
#include "kiln/kiln.h"

static kiln_error err;

typedef struct { double k, r0, rc; } spring;

/* Ar-Ar, Ar-Kr, Kr-Kr */
static const spring SP[3] = {{1.3, 2.70, 3.6}, {0.8, 2.95, 3.9}, {2.1, 3.05, 4.2}};

static const spring *sp_of(int t1, int t2) { return &SP[t1 + t2]; }

static kiln_atoms *structure(void) {
  kiln_atoms *u = NULL, *a = NULL;
  if (kiln_crystal_fcc(&u, "Ar", 4.1, &err)) return NULL;
  if (kiln_atoms_supercell(&a, u, 2, 2, 2, &err)) { kiln_atoms_free(u); return NULL; }
  kiln_atoms_free(u);
  double cell[3][3];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) cell[r][c] = a->cell[r][c];
  cell[0][0] *= 1.02; cell[1][1] *= 0.985; cell[1][0] += 0.6; cell[2][0] -= 0.4; cell[2][1] += 0.3;
  kiln_atoms_set_cell(a, (const double(*)[3])cell, 1, &err);
  kiln_rng r;
  kiln_rng_seed(&r, 7, 0);
  for (size_t i = 0; i < a->n; i++) {
    for (int d = 0; d < 3; d++) a->x[i][d] += 0.08 * kiln_rng_normal(&r);
    if (i % 3 == 1) kiln_atoms_set_symbol(a, i, "Kr", &err);
  }
  return a;
}

static kiln_pot *make_pot(int shift) {
  kiln_opts *o = NULL, *pairs = NULL, *p = NULL;
  kiln_opts_new(&o, &err);
  kiln_opts_add_table(o, "pairs", &pairs, &err);
  const char *sym[2] = {"Ar", "Kr"};
  for (int t1 = 0; t1 < 2; t1++)
    for (int t2 = t1; t2 < 2; t2++) {
      kiln_opts_add_table(pairs, NULL, &p, &err);
      kiln_opts_add_str(p, NULL, sym[t1], &err);
      kiln_opts_add_str(p, NULL, sym[t2], &err);
      kiln_opts_add_num(p, "k", sp_of(t1, t2)->k, &err);
      kiln_opts_add_num(p, "r0", sp_of(t1, t2)->r0, &err);
      kiln_opts_add_num(p, "cutoff", sp_of(t1, t2)->rc, &err);
    }
  if (shift) kiln_opts_add_bool(o, "shift", 1, &err);
  kiln_pot *pot = NULL;
  CHECK_OK(kiln_pot_new(&pot, "harmonic", o, &err));
  kiln_opts_free(o);
  return pot;
}

/* brute force over images: E, F, W, per-atom energies */
static void brute(const kiln_atoms *a, int shift, double *E, double (*F)[3], double W[3][3],
                  double *ea) {
  *E = 0;
  for (int x = 0; x < 3; x++) for (int y = 0; y < 3; y++) W[x][y] = 0;
  for (size_t i = 0; i < a->n; i++) { F[i][0] = F[i][1] = F[i][2] = 0; ea[i] = 0; }
  const int R = 3;
  for (size_t i = 0; i < a->n; i++)
    for (size_t j = 0; j < a->n; j++)
      for (int n0 = -R; n0 <= R; n0++)
        for (int n1 = -R; n1 <= R; n1++)
          for (int n2 = -R; n2 <= R; n2++) {
            if (i == j && !n0 && !n1 && !n2) continue;
            const spring *s = sp_of(a->type[i], a->type[j]);
            double d[3];
            for (int c = 0; c < 3; c++)
              d[c] = a->x[i][c] - a->x[j][c] - n0 * a->cell[0][c] - n1 * a->cell[1][c] - n2 * a->cell[2][c];
            double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            if (r >= s->rc) continue;
            double e = 0.5 * s->k * (r - s->r0) * (r - s->r0);
            if (shift) e -= 0.5 * s->k * (s->rc - s->r0) * (s->rc - s->r0);
            *E += 0.5 * e;
            ea[i] += 0.5 * e;
            double fp = -s->k * (r - s->r0) / r;  /* force on i = fp d */
            for (int c = 0; c < 3; c++) F[i][c] += fp * d[c];
            for (int x = 0; x < 3; x++)
              for (int y = 0; y < 3; y++) W[x][y] += 0.5 * d[x] * fp * d[y];
          }
}

TEST(test_harmonic_vs_brute_force) {
  kiln_atoms *a = structure();
  CHECK(a != NULL);
  if (!a) return;
  for (int shift = 0; shift < 2; shift++) {
    kiln_pot *p = make_pot(shift);
    if (!p) break;
    kiln_pot_set_omp_min(p, 0);
    double E, W[3][3];
    double(*F)[3] = malloc(a->n * sizeof *F);
    double *ea = malloc(a->n * sizeof *ea);
    brute(a, shift, &E, F, W, ea);
    for (int nt = 1; nt <= 2; nt++) {
      omp_set_num_threads(nt);
      kiln_pot_result r;
      CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
      CHECK_CLOSE(r.energy, E, 1e-12, 1e-12);
      double fdev = 0, emax = 0;
      for (size_t i = 0; i < a->n; i++) {
        for (int c = 0; c < 3; c++) fdev = fmax(fdev, fabs(a->f[i][c] - F[i][c]));
        emax = fmax(emax, fabs(r.eatom[i] - ea[i]));
      }
      CHECK(fdev < 1e-11);
      CHECK(emax < 1e-12);
      for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) CHECK_CLOSE(r.virial[x][y], W[x][y], 1e-11, 1e-11);
      if (nt == 1)
        printf("  shift=%d: E %.10f eV, max |F - F_brute| %.2g eV/A, W_xx %.8f eV\n", shift,
               r.energy, fdev, r.virial[0][0]);
    }
    omp_set_num_threads(1);
    /* finite differences of the energy: forces and virial (strain derivative) */
    kiln_pot_result r;
    CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
    double f0[4][3], w0[3][3];
    const size_t pick[4] = {0, 5, 17, 31};
    for (int q = 0; q < 4; q++)
      for (int c = 0; c < 3; c++) f0[q][c] = a->f[pick[q]][c];
    for (int x = 0; x < 3; x++) for (int y = 0; y < 3; y++) w0[x][y] = r.virial[x][y];
    const double h = 1e-5;
    double worst = 0;
    for (int q = 0; q < 4; q++)
      for (int c = 0; c < 3; c++) {
        double x0 = a->x[pick[q]][c], ep, em;
        a->x[pick[q]][c] = x0 + h;
        kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY, &r, &err);
        ep = r.energy;
        a->x[pick[q]][c] = x0 - h;
        kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY, &r, &err);
        em = r.energy;
        a->x[pick[q]][c] = x0;
        double fd = -(ep - em) / (2 * h);
        worst = fmax(worst, fabs(fd - f0[q][c]));
        CHECK_CLOSE(fd, f0[q][c], 1e-6, 1e-7);
      }
    double wworst = 0;
    for (int x = 0; x < 3; x++)
      for (int y = x; y < 3; y++) {
        double ev[2];
        for (int sg = 0; sg < 2; sg++) {
          double eps = sg ? -h : h;
          kiln_atoms *b = NULL;
          kiln_atoms_copy(&b, a, &err);
          double e[3][3] = {{0}};
          if (x == y) e[x][x] = eps; else e[x][y] = e[y][x] = 0.5 * eps;
          for (size_t i = 0; i < a->n; i++)
            for (int u = 0; u < 3; u++)
              for (int v = 0; v < 3; v++) b->x[i][u] += e[u][v] * a->x[i][v];
          for (int rr = 0; rr < 3; rr++)
            for (int u = 0; u < 3; u++)
              for (int v = 0; v < 3; v++) b->cell[rr][u] += e[u][v] * a->cell[rr][v];
          kiln_pot_compute_once(p, b, KILN_EVAL_ENERGY, &r, &err);
          ev[sg] = r.energy;
          kiln_atoms_free(b);
        }
        double fdw = -(ev[0] - ev[1]) / (2 * h);
        wworst = fmax(wworst, fabs(fdw - w0[x][y]));
        CHECK_CLOSE(fdw, w0[x][y], 1e-6, 1e-6);
      }
    printf("  shift=%d: finite differences: max |dF| %.2g eV/A, max |dW| %.2g eV\n", shift, worst,
           wworst);
    free(F);
    free(ea);
    kiln_pot_free(p);
  }
  kiln_atoms_free(a);
}

TEST(test_harmonic_errors) {
  kiln_opts *o = NULL;
  kiln_pot *p = NULL;
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "k", 1.0, &err);
  kiln_opts_add_num(o, "r0", 2.5, &err);
  CHECK_ERR(kiln_pot_new(&p, "harmonic", o, &err), KILN_EINVAL, "cutoff");
  kiln_opts_add_num(o, "cutof", 3.0, &err);
  CHECK_ERR(kiln_pot_new(&p, "harmonic", o, &err), KILN_EINVAL, "unknown option 'cutof'");
  kiln_opts_free(o);
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "k", 1.0, &err);
  kiln_opts_add_num(o, "r0", -1, &err);
  kiln_opts_add_num(o, "cutoff", 3.0, &err);
  CHECK_ERR(kiln_pot_new(&p, "harmonic", o, &err), KILN_EINVAL, "r0 >= 0");
  kiln_opts_free(o);
  CHECK(p == NULL);
}

typedef struct { double e0, emax; long n; } erec;
static kiln_status rec(void *ud, long step, kiln_atoms *a, const kiln_thermo *th, kiln_error *e) {
  erec *r = ud;
  if (r->n++ == 0) r->e0 = th->etot;
  r->emax = fmax(r->emax, fabs(th->etot - r->e0));
  return KILN_OK;
}

TEST(test_harmonic_nve) {
  /* fcc Cu-mass crystal, nearest-neighbour springs at rest length, 256 atoms, about 200 K */
  const double a0 = 3.615, r0 = a0 / sqrt(2.0);
  kiln_atoms *u = NULL, *a = NULL;
  CHECK_OK(kiln_crystal_fcc(&u, "Cu", a0, &err));
  CHECK_OK(kiln_atoms_supercell(&a, u, 4, 4, 4, &err));
  kiln_atoms_free(u);
  kiln_rng r;
  kiln_rng_seed(&r, 3, 0);
  for (size_t i = 0; i < a->n; i++) {
    double sd = sqrt(KILN_KB * 400.0 / (a->mass[i] * KILN_MVV2E));
    for (int d = 0; d < 3; d++) a->v[i][d] = sd * kiln_rng_normal(&r);
  }
  kiln_atoms_zero_momentum(a);
  kiln_opts *o = NULL;
  kiln_pot *pot = NULL;
  kiln_md *md = NULL;
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "k", 2.0, &err);
  kiln_opts_add_num(o, "r0", r0, &err);
  kiln_opts_add_num(o, "cutoff", 0.5 * (r0 + a0), &err);
  CHECK_OK(kiln_pot_new(&pot, "harmonic", o, &err));
  kiln_opts_free(o);
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "dt", 2.0, &err);
  CHECK_OK(kiln_md_new(&md, "verlet", o, &err));
  kiln_opts_free(o);
  if (pot && md) {
    erec s = {0, 0, 0};
    kiln_observer ob = {rec, &s, 5, 1};
    kiln_md_run_opts ro = {.obs = &ob, .nobs = 1, .skin = 1.0};
    CHECK_OK(kiln_md_run(md, a, pot, 2000, &ro, &err));
    kiln_thermo th;
    kiln_md_get_thermo(md, &th);
    printf("  fcc springs, 256 atoms, dt 2 fs, 4 ps: max |E - E0| %.2e eV/atom, final E - E0 "
           "%.2e eV/atom, T %.0f K\n", s.emax / (double)a->n, (th.etot - s.e0) / (double)a->n, th.T);
    CHECK(s.emax / (double)a->n < 1e-4);
    CHECK(fabs(th.etot - s.e0) / (double)a->n < 1e-4);
    CHECK(th.T > 100 && th.T < 300);  /* equipartition: about half of 400 K */
  }
  kiln_md_free(md);
  kiln_pot_free(pot);
  kiln_atoms_free(a);
}

int main(void) {
  omp_set_num_threads(1);
  RUN(test_harmonic_vs_brute_force);
  RUN(test_harmonic_errors);
  RUN(test_harmonic_nve);
  return check_summary();
}
