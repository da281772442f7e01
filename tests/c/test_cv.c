/* tests/c/test_cv.c: collective variables (finite-difference gradients, Steinhardt
 * reference values, perovskite polarization sum rules), the external potential
 * (FD forces and virial) and the metadynamics grid (hills, restart file, c(t)). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kiln/kiln.h"
#include "kiln/cv.h"

static double urand(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return ((*s >> 8) & 0xffffff) / (double)0x1000000;
}

static void rattle(kiln_atoms *a, double amp, unsigned seed) {
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) a->x[i][c] += amp * (2 * urand(&seed) - 1);
}

typedef double (*cvfun)(kiln_atoms *a, double (*g)[3], void *ud);

/* max |analytic - central difference| over all atoms and components */
static double fd_check(kiln_atoms *a, cvfun f, void *ud, double h) {
  double(*g)[3] = calloc(a->n, sizeof *g);
  f(a, g, ud);
  double worst = 0;
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) {
      double x0 = a->x[i][c];
      a->x[i][c] = x0 + h;
      double sp = f(a, NULL, ud);
      a->x[i][c] = x0 - h;
      double sm = f(a, NULL, ud);
      a->x[i][c] = x0;
      double d = fabs((sp - sm) / (2 * h) - g[i][c]);
      if (d > worst) worst = d;
    }
  free(g);
  return worst;
}

static double f_dist(kiln_atoms *a, double (*g)[3], void *ud) {
  double s;
  kiln_error err;
  kiln_cv_distance(a, 0, 3, &s, g, &err);
  return s;
}
static double f_angle(kiln_atoms *a, double (*g)[3], void *ud) {
  double s;
  kiln_error err;
  kiln_cv_angle(a, 1, 0, 2, &s, g, &err);
  return s;
}
static double f_q(kiln_atoms *a, double (*g)[3], void *ud) {
  double s = 0;
  kiln_error err;
  int l = *(int *)ud;
  kiln_cv_steinhardt(a, l, 2.9, 3.4, &s, NULL, g, &err);
  return s;
}
typedef struct { kiln_perov_map *m; int kind, comp; double *q; } pv_ud;
static double f_perov(kiln_atoms *a, double (*g)[3], void *ud) {
  pv_ud *u = ud;
  kiln_error err;
  double(*d)[3] = malloc(u->m->ncell * sizeof *d);
  if (u->kind == 0) kiln_cv_perov_offcenter(a, u->m, d, &err);
  else kiln_cv_perov_dipole(a, u->m, u->q, NULL, d, &err);
  double s = 0;
  for (size_t c = 0; c < u->m->ncell; c++) s += d[c][u->comp];
  s /= (double)u->m->ncell;
  if (g) kiln_cv_perov_grad(a, u->m, u->kind, u->comp, u->q, NULL, g, &err);
  free(d);
  return s;
}

TEST(test_distance_angle_fd) {
  kiln_error err;
  kiln_atoms *a = NULL, *s = NULL;
  CHECK_OK(kiln_crystal_fcc(&a, "Cu", 3.6, &err));
  CHECK_OK(kiln_atoms_supercell(&s, a, 2, 2, 2, &err));
  rattle(s, 0.2, 7);
  double d;
  CHECK_OK(kiln_cv_distance(s, 0, 3, &d, NULL, &err));
  CHECK(d > 2 && d < 3.2);
  CHECK(fd_check(s, f_dist, NULL, 1e-5) < 1e-8);
  CHECK(fd_check(s, f_angle, NULL, 1e-5) < 1e-8);
  CHECK_ERR(kiln_cv_distance(s, 0, 0, &d, NULL, &err), KILN_EINVAL, "distinct");
  /* minimum image: atom 0 and its neighbour across the boundary */
  kiln_atoms_free(a);
  kiln_atoms_free(s);
}

TEST(test_cell_fd) {
  kiln_error err;
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_crystal_sc(&a, "Po", 3.0, &err));
  double h[3][3] = {{3.1, 0.2, -0.1}, {0.3, 2.9, 0.15}, {-0.2, 0.1, 3.3}};
  CHECK_OK(kiln_atoms_set_cell(a, h, 0, &err));
  for (int w = 0; w <= 6; w++) {
    double s, g[3][3], worst = 0;
    CHECK_OK(kiln_cv_cell(a, w, &s, g, &err));
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 3; c++) {
        double e = 1e-6, sp, sm, x0 = a->cell[r][c];
        a->cell[r][c] = x0 + e;
        kiln_cv_cell(a, w, &sp, NULL, &err);
        a->cell[r][c] = x0 - e;
        kiln_cv_cell(a, w, &sm, NULL, &err);
        a->cell[r][c] = x0;
        double d = fabs((sp - sm) / (2 * e) - g[r][c]);
        if (d > worst) worst = d;
      }
    CHECK(worst < 1e-7);
    if (w == 6) CHECK_CLOSE(s, kiln_atoms_volume(a), 1e-14, 0);
  }
  double s;
  CHECK_OK(kiln_cv_cell(a, KILN_CV_CELL_A, &s, NULL, &err));
  CHECK_CLOSE(s, sqrt(3.1 * 3.1 + 0.04 + 0.01), 1e-14, 0);
  /* virial of E = V (a pressure-like bias): W = -V * I */
  double g[3][3], W[3][3];
  kiln_cv_cell(a, KILN_CV_CELL_VOLUME, &s, g, &err);
  kiln_cv_cell_virial(a->cell, g, W);
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) CHECK_CLOSE(W[x][y], x == y ? -s : 0.0, 1e-12, 1e-12);
  kiln_atoms_free(a);
}

static void qvals(kiln_atoms *a, double rin, double rc, double *q4, double *q6, double *qa6) {
  kiln_error err;
  double *qa = calloc(a->n, sizeof *qa);
  kiln_cv_steinhardt(a, 4, rin, rc, q4, NULL, NULL, &err);
  kiln_cv_steinhardt(a, 6, rin, rc, q6, qa, NULL, &err);
  *qa6 = qa[a->n - 1];
  free(qa);
}

TEST(test_steinhardt_values) {
  kiln_error err;
  kiln_atoms *a = NULL, *s = NULL;
  double q4, q6, qa6;
  /* fcc: 12 neighbours at a/sqrt2 = 2.546, next shell at 3.6 */
  CHECK_OK(kiln_crystal_fcc(&a, "Cu", 3.6, &err));
  CHECK_OK(kiln_atoms_supercell(&s, a, 3, 3, 3, &err));
  qvals(s, 2.9, 3.3, &q4, &q6, &qa6);
  printf("  fcc Q4 %.5f Q6 %.5f q6(atom) %.5f\n", q4, q6, qa6);
  CHECK_CLOSE(q4, 0.19094, 0, 5e-5);
  CHECK_CLOSE(q6, 0.57452, 0, 5e-5);
  CHECK_CLOSE(qa6, 0.57452, 0, 5e-5);
  kiln_atoms_free(a);
  kiln_atoms_free(s);
  /* bcc: 8 + 6 neighbours (a sqrt3/2 = 2.771, a = 3.2), next at 4.525 */
  CHECK_OK(kiln_crystal_bcc(&a, "Fe", 3.2, &err));
  CHECK_OK(kiln_atoms_supercell(&s, a, 4, 4, 4, &err));
  qvals(s, 3.6, 4.2, &q4, &q6, &qa6);
  printf("  bcc Q4 %.5f Q6 %.5f\n", q4, q6);
  CHECK_CLOSE(q4, 0.03637, 0, 5e-5);
  CHECK_CLOSE(q6, 0.51069, 0, 5e-5);
  /* first shell only (8 neighbours): Q4 0.50918, Q6 0.62850 */
  qvals(s, 2.9, 3.1, &q4, &q6, &qa6);
  CHECK_CLOSE(q4, 0.50918, 0, 5e-5);
  CHECK_CLOSE(q6, 0.62850, 0, 5e-5);
  kiln_atoms_free(a);
  kiln_atoms_free(s);
}

TEST(test_steinhardt_fd) {
  kiln_error err;
  kiln_atoms *a = NULL, *s = NULL;
  CHECK_OK(kiln_crystal_fcc(&a, "Cu", 3.6, &err));
  CHECK_OK(kiln_atoms_supercell(&s, a, 2, 2, 2, &err));
  rattle(s, 0.35, 3); /* bonds fall in the switching region 2.9..3.4 */
  for (int l = 4; l <= 6; l += 2) {
    double worst = fd_check(s, f_q, &l, 1e-5);
    printf("  Q%d gradient FD error %.2e\n", l, worst);
    CHECK(worst < 1e-7);
  }
  kiln_atoms_free(a);
  kiln_atoms_free(s);
}

TEST(test_perovskite) {
  kiln_error err;
  kiln_atoms *a = NULL, *s = NULL;
  CHECK_OK(kiln_crystal_perovskite(&a, "Ba", "Ti", "O", 4.0, &err));
  CHECK_OK(kiln_atoms_supercell(&s, a, 3, 3, 2, &err));
  kiln_perov_map m;
  CHECK_OK(kiln_cv_perov_map(s, "Ba", "Ti", "O", &m, &err));
  CHECK(m.ncell == 18);
  double *q = malloc(s->n * sizeof *q);
  double *Z = malloc(9 * s->n * sizeof *Z);
  for (size_t i = 0; i < s->n; i++) {
    const char *sym = kiln_atoms_symbol(s, i);
    q[i] = !strcmp(sym, "Ba") ? 2.0 : !strcmp(sym, "Ti") ? 4.0 : -2.0;
  }
  /* Born charges (BaTiO3-like): Ba 2.75, Ti 7.16, O_par -5.69 along its Ti-O bond,
   * O_perp -2.11; the sum rule 2.75 + 7.16 - 5.69 - 2*2.11 = 0 holds */
  for (size_t i = 0; i < s->n; i++) {
    double *z = Z + 9 * i;
    memset(z, 0, 9 * sizeof *z);
    const char *sym = kiln_atoms_symbol(s, i);
    if (strcmp(sym, "O")) {
      double v = !strcmp(sym, "Ba") ? 2.75 : 7.16;
      z[0] = z[4] = z[8] = v;
    } else { /* the bond axis: the coordinate in which O differs from Ti (0.5) */
      double f[3];
      for (int c = 0; c < 3; c++) f[c] = s->x[i][c] / 4.0 - floor(s->x[i][c] / 4.0);
      for (int c = 0; c < 3; c++) z[4 * c] = fabs(f[c] - 0.5) > 0.25 ? -5.69 : -2.11;
    }
  }
  double(*d)[3] = malloc(m.ncell * sizeof *d);
  double(*p)[3] = malloc(m.ncell * sizeof *p);
  double(*pz)[3] = malloc(m.ncell * sizeof *pz);
  CHECK_OK(kiln_cv_perov_offcenter(s, &m, d, &err));
  CHECK_OK(kiln_cv_perov_dipole(s, &m, q, NULL, p, &err));
  CHECK_OK(kiln_cv_perov_dipole(s, &m, NULL, Z, pz, &err));
  double worst = 0;
  for (size_t c = 0; c < m.ncell; c++)
    for (int k = 0; k < 3; k++)
      worst = fmax(worst, fmax(fabs(d[c][k]), fmax(fabs(p[c][k]), fabs(pz[c][k]))));
  CHECK(worst < 1e-12); /* ideal cubic: all vanish */
  /* displace: the cell dipoles sum to sum_i Z_i u_i */
  double(*x0)[3] = malloc(s->n * sizeof *x0);
  memcpy(x0, s->x, s->n * sizeof *x0);
  rattle(s, 0.15, 11);
  CHECK_OK(kiln_cv_perov_dipole(s, &m, q, NULL, p, &err));
  CHECK_OK(kiln_cv_perov_dipole(s, &m, NULL, Z, pz, &err));
  double M[3] = {0}, MZ[3] = {0}, P[3] = {0}, PZ[3] = {0};
  for (size_t i = 0; i < s->n; i++)
    for (int k = 0; k < 3; k++) {
      double u[3] = {s->x[i][0] - x0[i][0], s->x[i][1] - x0[i][1], s->x[i][2] - x0[i][2]};
      M[k] += q[i] * u[k];
      for (int b = 0; b < 3; b++) MZ[k] += Z[9 * i + 3 * k + b] * u[b];
    }
  for (size_t c = 0; c < m.ncell; c++)
    for (int k = 0; k < 3; k++) {
      P[k] += p[c][k];
      PZ[k] += pz[c][k];
    }
  for (int k = 0; k < 3; k++) {
    CHECK_CLOSE(P[k], M[k], 1e-12, 1e-12);
    CHECK_CLOSE(PZ[k], MZ[k], 1e-12, 1e-12);
  }
  printf("  sum of cell dipoles %.6f %.6f %.6f = total %.6f %.6f %.6f e.A\n", P[0], P[1], P[2],
         M[0], M[1], M[2]);
  /* gradients of the cell means by FD */
  for (int kind = 0; kind < 2; kind++)
    for (int comp = 0; comp < 3; comp++) {
      pv_ud u = {&m, kind, comp, q};
      CHECK(fd_check(s, f_perov, &u, 1e-4) < 1e-9);
    }
  kiln_cv_perov_map_free(&m);   /* before reusing m: a failed map call clears it */
  CHECK_ERR(kiln_cv_perov_map(s, "Sr", "Ti", "O", &m, &err), KILN_EINVAL, "Sr");
  kiln_cv_perov_map_free(&m);
  free(x0);
  free(d);
  free(p);
  free(pz);
  free(q);
  free(Z);
  kiln_atoms_free(a);
  kiln_atoms_free(s);
}

/* external: a double well in x plus a harmonic coupling to atom 1 */
static kiln_status dw_cb(void *ud, kiln_atoms *a, unsigned want, double *energy, double (*f)[3],
                         double W[3][3], int *vdone, kiln_error *err) {
  double k = *(double *)ud, e = 0;
  for (size_t i = 0; i < a->n; i++) {
    double x = a->x[i][0];
    e += 0.1 * (x * x - 1) * (x * x - 1);
    f[i][0] -= 0.1 * 4 * x * (x * x - 1);
  }
  for (size_t i = 1; i < a->n; i++)
    for (int c = 0; c < 3; c++) {
      double d = a->x[i][c] - a->x[0][c];
      e += 0.5 * k * d * d;
      f[i][c] -= k * d;
      f[0][c] += k * d;
    }
  *energy = e;
  return KILN_OK;
}

TEST(test_external) {
  kiln_error err;
  kiln_pot *p = NULL;
  CHECK_OK(kiln_pot_new(&p, "external", NULL, &err));
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_atoms_new(&a, 3, &err));
  kiln_pot_result r;
  CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err), KILN_ESTATE, "no callback");
  double k = 0.3;
  CHECK_OK(kiln_pot_external_set(p, dw_cb, &k, NULL, &err));
  unsigned seed = 5;
  for (size_t i = 0; i < 3; i++)
    for (int c = 0; c < 3; c++) a->x[i][c] = 2 * urand(&seed) - 1;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  double f[3][3], W[3][3];
  memcpy(f, a->f, sizeof f);
  memcpy(W, r.virial, sizeof W);
  double worst = 0;
  for (size_t i = 0; i < 3; i++)
    for (int c = 0; c < 3; c++) {
      double h = 1e-5, x0 = a->x[i][c], ep, em;
      a->x[i][c] = x0 + h;
      kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY, &r, &err);
      ep = r.energy;
      a->x[i][c] = x0 - h;
      kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY, &r, &err);
      em = r.energy;
      a->x[i][c] = x0;
      worst = fmax(worst, fabs(-(ep - em) / (2 * h) - f[i][c]));
    }
  CHECK(worst < 1e-8);
  /* virial by finite strain: W_ab = -dE/d eps_ab (symmetric strain) */
  double wv = 0;
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) {
      double h = 1e-6, e2[2];
      for (int sgn = 0; sgn < 2; sgn++) {
        kiln_atoms *b = NULL;
        kiln_atoms_copy(&b, a, &err);
        double eps = sgn ? -h : h;
        for (size_t i = 0; i < 3; i++) {
          double dx = 0.5 * eps * a->x[i][y], dy = 0.5 * eps * a->x[i][x];
          b->x[i][x] += dx;
          b->x[i][y] += dy;
        }
        kiln_pot_compute_once(p, b, KILN_EVAL_ENERGY, &r, &err);
        e2[sgn] = r.energy;
        kiln_atoms_free(b);
      }
      double fdW = -(e2[0] - e2[1]) / (2 * h);
      wv = fmax(wv, fabs(fdW - 0.5 * (W[x][y] + W[y][x])));
    }
  printf("  external: FD force error %.2e, virial error %.2e\n", worst, wv);
  CHECK(wv < 1e-7);
  /* a sum with it */
  kiln_pot *sum = NULL;
  kiln_pot *parts[2] = {p, p};
  CHECK_OK(kiln_pot_new_sum(&sum, parts, 2, &err));
  kiln_pot_result r2;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  CHECK_OK(kiln_pot_compute_once(sum, a, KILN_EVAL_ALL, &r2, &err));
  CHECK_CLOSE(r2.energy, 2 * r.energy, 1e-14, 0);
  kiln_pot_free(sum);
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

TEST(test_metad_grid) {
  kiln_error err;
  kiln_metad *m = NULL;
  double mn = -2, mx = 2, sg = 0.2, kT = 0.025;
  int nb = 400;
  CHECK_OK(kiln_metad_new(&m, 1, &mn, &mx, &nb, &sg, 0.01, 10.0, kT, &err));
  double c[3] = {-0.5, 0.3, -0.45};
  for (int h = 0; h < 3; h++) CHECK_OK(kiln_metad_deposit(m, &c[h], 10.0 * h, &err));
  /* analytic sum of hills at off-grid points, and the gradient by FD */
  double worst = 0, worstg = 0;
  for (double s = -1.5; s <= 1.5; s += 0.0737) {
    double ref = 0, g;
    for (size_t h = 0; h < kiln_metad_nhills(m); h++) {
      double cc, w, t;
      kiln_metad_hill(m, h, &cc, &w, &t);
      ref += w * exp(-0.5 * (s - cc) * (s - cc) / (sg * sg));
    }
    double v = kiln_metad_bias(m, &s, &g);
    worst = fmax(worst, fabs(v - ref));
    double e = 1e-6, sp = s + e, sm = s - e;
    worstg = fmax(worstg, fabs((kiln_metad_bias(m, &sp, NULL) - kiln_metad_bias(m, &sm, NULL)) /
                               (2 * e) - g));
  }
  printf("  metad grid: interpolation error %.2e eV, gradient consistency %.2e\n", worst, worstg);
  CHECK(worst < 1e-6);
  CHECK(worstg < 1e-6);
  /* well-tempering: the third hill (near the first) is lower */
  double cc, w1, w3, t;
  kiln_metad_hill(m, 0, &cc, &w1, &t);
  kiln_metad_hill(m, 2, &cc, &w3, &t);
  CHECK_CLOSE(w1, 0.01, 1e-14, 0);
  CHECK(w3 < w1);
  /* restart: write, read into a fresh grid, identical values */
  const char *file = "tests/out/test_cv_hills.txt";
  system("mkdir -p tests/out");
  CHECK_OK(kiln_metad_write(m, file, &err));
  kiln_metad *m2 = NULL;
  CHECK_OK(kiln_metad_new(&m2, 1, &mn, &mx, &nb, &sg, 0.01, 10.0, kT, &err));
  CHECK_OK(kiln_metad_read(m2, file, &err));
  CHECK(kiln_metad_nhills(m2) == 3);
  CHECK(memcmp(kiln_metad_values(m), kiln_metad_values(m2), 401 * sizeof(double)) == 0);
  CHECK_CLOSE(kiln_metad_ct(m), kiln_metad_ct(m2), 0, 0);
  remove(file);
  kiln_metad_free(m2);
  kiln_metad_free(m);
  /* 2-D */
  double mn2[2] = {-1, -1}, mx2[2] = {1, 1}, sg2[2] = {0.2, 0.3};
  int nb2[2] = {100, 120};
  CHECK_OK(kiln_metad_new(&m, 2, mn2, mx2, nb2, sg2, 0.01, 0, kT, &err));
  double c2[2] = {0.1, -0.2}, s2[2] = {0.13, -0.05}, g2[2];
  CHECK_OK(kiln_metad_deposit(m, c2, 0, &err));
  double v = kiln_metad_bias(m, s2, g2);
  double ref = 0.01 * exp(-0.5 * (0.03 * 0.03 / 0.04 + 0.15 * 0.15 / 0.09));
  CHECK_CLOSE(v, ref, 2e-3, 0);
  CHECK_CLOSE(g2[1], -ref * 0.15 / 0.09, 1e-2, 0);
  kiln_metad_free(m);
}

int main(void) {
  RUN(test_distance_angle_fd);
  RUN(test_cell_fd);
  RUN(test_steinhardt_values);
  RUN(test_steinhardt_fd);
  RUN(test_perovskite);
  RUN(test_external);
  RUN(test_metad_grid);
  return check_summary();
}
