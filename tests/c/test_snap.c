/* tests/c/test_snap.c: SNAP bispectrum, qSNAP, ZBL and the snap descriptor against
 * LAMMPS ML-SNAP reference output (../shared/data/snap-ref/), finite differences and
 * invariances. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "kiln/kiln.h"
#include "kiln/ml.h"

static kiln_error err;
#define REFDIR "../shared/data/snap-ref/"
#define POTDIR "/usr/share/lammps/potentials/"

/* reference dump: id x y z fx fy fz pe B1..B30 (ta16_snap_only) */
typedef struct { int n, ncol; double v[16][40]; } refdump;

static int read_dump(const char *file, refdump *r) {
  FILE *f = fopen(file, "r");
  r->ncol = 0;
  if (!f) return 0;
  char line[8192];
  int ln = 0;
  r->n = 0;
  while (fgets(line, sizeof line, f)) {
    ln++;
    if (ln <= 9) {
      if (ln == 9) {  /* ITEM: ATOMS ... : count columns */
        r->ncol = 0;
        for (char *p = strtok(line + 12, " \n"); p; p = strtok(NULL, " \n")) r->ncol++;
      }
      continue;
    }
    char *p = line;
    for (int c = 0; c < r->ncol && c < 40; c++) r->v[r->n][c] = strtod(p, &p);
    if (++r->n == 16) break;
  }
  fclose(f);
  return r->n == 16;
}

static kiln_atoms *load_ta16(void) {
  kiln_atoms **fr = NULL;
  size_t nf = 0;
  CHECK_OK(kiln_xyz_read(REFDIR "ta16.xyz", NULL, &fr, &nf, &err));
  if (!fr) return NULL;
  kiln_atoms *a = fr[0];
  for (size_t i = 1; i < nf; i++) kiln_atoms_free(fr[i]);
  free(fr);
  return a;
}

static kiln_pot *make_snap(const char *coeff, const char *param) {
  kiln_opts *o = NULL;
  kiln_pot *p = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_str(o, "coeff", coeff, &err));
  CHECK_OK(kiln_opts_add_str(o, "param", param, &err));
  CHECK_OK(kiln_pot_new(&p, "snap", o, &err));
  kiln_opts_free(o);
  return p;
}

TEST(test_ta06a_snap_only_vs_lammps) {
  refdump r;
  CHECK(read_dump(REFDIR "ta16_snap_only.dump", &r));
  kiln_atoms *a = load_ta16();
  kiln_pot *p = make_snap(POTDIR "Ta06A.snapcoeff", POTDIR "Ta06A.snapparam");
  if (!a || !p) { kiln_atoms_free(a); kiln_pot_free(p); return; }
  kiln_pot_result res;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &res, &err));
  CHECK_CLOSE(res.energy, -267.895901400558, 1e-12, 0);
  double dfmax = 0, pemax = 0;
  for (int i = 0; i < 16; i++) {
    int id = (int)r.v[i][0];
    size_t k = 0;
    while (k < a->n && a->id[k] != id) k++;
    for (int c = 0; c < 3; c++) dfmax = fmax(dfmax, fabs(a->f[k][c] - r.v[i][4 + c]));
    pemax = fmax(pemax, fabs(res.eatom[k] - r.v[i][7]));
  }
  printf("  Ta16 SNAP: E %.12f (LAMMPS -267.895901400558), max |dF| %.2e eV/A, max |dpe| %.2e eV\n",
         res.energy, dfmax, pemax);
  CHECK(dfmax < 1e-8);
  CHECK(pemax < 1e-9);
  /* virial from LAMMPS pressure (bar): W = P V / nktv2p */
  const double V = 6.632 * 6.632 * 6.632, nk = 1.6021765e6;
  const double P[6] = {-1159163.235359566519, -1160609.786434121430, -1163344.989011542639,
                       -2339.472269956721, 284.801515797343, 1062.726737884342};
  const int ix[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
  double wmax = 0;
  for (int q = 0; q < 6; q++)
    wmax = fmax(wmax, fabs(res.virial[ix[q][0]][ix[q][1]] - P[q] * V / nk));
  printf("  Ta16 SNAP: max |dW| %.2e eV\n", wmax);
  CHECK(wmax < 1e-7);
  kiln_pot_free(p);
  kiln_atoms_free(a);
}


static kiln_desc *make_desc_ta(int quadratic, int bzero) {
  kiln_opts *o = NULL, *c = NULL;
  kiln_desc *d = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_num(o, "twojmax", 6, &err));
  CHECK_OK(kiln_opts_add_num(o, "rcutfac", 4.67637, &err));
  CHECK_OK(kiln_opts_add_num(o, "rfac0", 0.99363, &err));
  CHECK_OK(kiln_opts_add_num(o, "rmin0", 0.0, &err));
  CHECK_OK(kiln_opts_add_bool(o, "bzeroflag", bzero, &err));
  CHECK_OK(kiln_opts_add_bool(o, "quadratic", quadratic, &err));
  CHECK_OK(kiln_opts_add_table(o, "elements", &c, &err));
  CHECK_OK(kiln_opts_add_str(c, NULL, "Ta", &err));
  CHECK_OK(kiln_opts_add_table(o, "radelem", &c, &err));
  CHECK_OK(kiln_opts_add_num(c, NULL, 0.5, &err));
  CHECK_OK(kiln_opts_add_table(o, "wj", &c, &err));
  CHECK_OK(kiln_opts_add_num(c, NULL, 1.0, &err));
  CHECK_OK(kiln_desc_new(&d, "snap", o, &err));
  kiln_opts_free(o);
  return d;
}

TEST(test_bispectrum_vs_lammps) {
  refdump r;
  CHECK(read_dump(REFDIR "ta16_snap_only.dump", &r));
  kiln_atoms *a = load_ta16();
  kiln_desc *d = make_desc_ta(0, 0);
  if (!a || !d) { kiln_atoms_free(a); kiln_desc_free(d); return; }
  CHECK(kiln_desc_ncols(d) == 30);
  CHECK_CLOSE(kiln_desc_cutoff(d), 4.67637, 1e-15, 0);
  double X[16 * 30];
  CHECK_OK(kiln_desc_compute(d, a, X, NULL, &err));
  double rmax = 0;
  for (int i = 0; i < 16; i++) {
    size_t k = 0;
    while (k < a->n && a->id[k] != (int64_t)r.v[i][0]) k++;
    for (int c = 0; c < 30; c++) {
      double ref = r.v[i][8 + c];
      rmax = fmax(rmax, fabs(X[k * 30 + c] - ref) / fmax(fabs(ref), 1e-300));
    }
  }
  printf("  Ta16 B_1..B_30: max relative error %.2e\n", rmax);
  CHECK(rmax < 1e-10);
  kiln_desc_free(d);
  kiln_atoms_free(a);
}

static kiln_pot *make_zbl_ta(void) {
  kiln_opts *o = NULL, *c = NULL;
  kiln_pot *p = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_num(o, "inner", 4.0, &err));
  CHECK_OK(kiln_opts_add_num(o, "outer", 4.8, &err));
  CHECK_OK(kiln_opts_add_table(o, "elements", &c, &err));
  CHECK_OK(kiln_opts_add_str(c, NULL, "Ta", &err));
  CHECK_OK(kiln_opts_add_table(o, "z", &c, &err));
  CHECK_OK(kiln_opts_add_num(c, NULL, 73, &err));
  CHECK_OK(kiln_pot_new(&p, "zbl", o, &err));
  kiln_opts_free(o);
  return p;
}

TEST(test_ta06a_snap_zbl_vs_lammps) {
  refdump r;
  CHECK(read_dump(REFDIR "ta16_snap_zbl.dump", &r));
  kiln_atoms *a = load_ta16();
  kiln_pot *ps = make_snap(POTDIR "Ta06A.snapcoeff", POTDIR "Ta06A.snapparam");
  kiln_pot *pz = make_zbl_ta();
  kiln_pot *sum = NULL;
  if (ps && pz) {
    kiln_pot *parts[2] = {ps, pz};
    CHECK_OK(kiln_pot_new_sum(&sum, parts, 2, &err));
  }
  if (!a || !sum) { kiln_atoms_free(a); kiln_pot_free(sum); kiln_pot_free(ps); kiln_pot_free(pz); return; }
  kiln_pot_result res;
  CHECK_OK(kiln_pot_compute_once(sum, a, KILN_EVAL_ALL, &res, &err));
  CHECK_CLOSE(res.energy, -188.932861279176, 1e-12, 0);
  double dfmax = 0;
  for (int i = 0; i < 16; i++) {
    size_t k = 0;
    while (k < a->n && a->id[k] != (int64_t)r.v[i][0]) k++;
    for (int c = 0; c < 3; c++) dfmax = fmax(dfmax, fabs(a->f[k][c] - r.v[i][1 + c]));
  }
  const double V = 6.632 * 6.632 * 6.632, nk = 1.6021765e6;
  const double P[6] = {7528.341838199460, 6273.123680318082, 4073.490924205817,
                       1132.743647231231, 525.068747685610, 771.297340030545};
  const int ix[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
  double wmax = 0;
  for (int q = 0; q < 6; q++)
    wmax = fmax(wmax, fabs(res.virial[ix[q][0]][ix[q][1]] - P[q] * V / nk));
  printf("  Ta16 SNAP+ZBL: E %.12f (LAMMPS -188.932861279176), max |dF| %.2e eV/A, max |dW| %.2e eV\n",
         res.energy, dfmax, wmax);
  CHECK(dfmax < 1e-8);
  CHECK(wmax < 1e-7);
  kiln_pot_free(sum); kiln_pot_free(ps); kiln_pot_free(pz);
  kiln_atoms_free(a);
}

#define QPARAM "tests/data/snap_q2.snapparam"
#define QCOEFF "tests/data/snap_q2.snapcoeff"

/* 16-atom perturbed bcc cell with Nb and Mo (and Ta for the Ta06A model) */
static kiln_atoms *make_cell(const char *s1, const char *s2, double a0, int tric) {
  kiln_atoms *u = NULL, *a = NULL;
  CHECK_OK(kiln_crystal_bcc(&u, s1, a0, &err));
  if (!u) return NULL;
  CHECK_OK(kiln_atoms_supercell(&a, u, 2, 2, 2, &err));
  kiln_atoms_free(u);
  if (!a) return NULL;
  for (size_t i = 0; i < a->n; i++) {
    a->x[i][0] += 0.12 * sin(1.3 * i + 0.1);
    a->x[i][1] += 0.10 * cos(0.7 * i + 0.2);
    a->x[i][2] += 0.09 * sin(2.1 * i + 0.3);
    if (s2 && i % 3 == 1) CHECK_OK(kiln_atoms_set_symbol(a, i, s2, &err));
  }
  if (tric) {  /* a sheared (triclinic) cell */
    double c[3][3];
    memcpy(c, a->cell, sizeof c);
    c[1][0] += 0.4; c[2][0] += 0.3; c[2][1] -= 0.5;
    CHECK_OK(kiln_atoms_set_cell(a, c, 1, &err));
  }
  return a;
}

static double energy(kiln_pot *p, kiln_atoms *a) {
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY, &r, &err));
  return r.energy;
}

/* a -> (1 + eps) a for positions and cell */
static void deform(kiln_atoms *a, const double e[3][3]) {
  double c[3][3];
  for (int r = 0; r < 3; r++)
    for (int x = 0; x < 3; x++) {
      c[r][x] = a->cell[r][x];
      for (int y = 0; y < 3; y++) c[r][x] += e[x][y] * a->cell[r][y];
    }
  for (size_t i = 0; i < a->n; i++) {
    double x0[3] = {a->x[i][0], a->x[i][1], a->x[i][2]};
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++) a->x[i][x] += e[x][y] * x0[y];
  }
  CHECK_OK(kiln_atoms_set_cell(a, c, 0, &err));
}

/* max |F - F_fd| (eV/A) and max |W - W_fd| (eV) */
static void fd_check(kiln_pot *p, kiln_atoms *a, double *ferr, double *werr) {
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  double W[3][3];
  memcpy(W, r.virial, sizeof W);
  double (*f)[3] = malloc(a->n * sizeof *f);
  memcpy(f, a->f, a->n * sizeof *f);
  const double h = 1e-5;
  *ferr = 0;
  for (size_t i = 0; i < a->n; i += 3)
    for (int c = 0; c < 3; c++) {
      const double x0 = a->x[i][c];
      a->x[i][c] = x0 + h; double ep = energy(p, a);
      a->x[i][c] = x0 - h; double em = energy(p, a);
      a->x[i][c] = x0;
      *ferr = fmax(*ferr, fabs(f[i][c] + (ep - em) / (2 * h)));
    }
  *werr = 0;
  kiln_atoms *b = NULL;
  for (int x = 0; x < 3; x++)
    for (int y = x; y < 3; y++) {
      double ev[2];
      for (int sg = 0; sg < 2; sg++) {
        double e[3][3] = {{0}};
        const double d = sg ? -h : h;
        if (x == y) e[x][x] = d; else e[x][y] = e[y][x] = 0.5 * d;
        CHECK_OK(kiln_atoms_copy(&b, a, &err));
        deform(b, e);
        ev[sg] = energy(p, b);
        kiln_atoms_free(b);
        b = NULL;
      }
      *werr = fmax(*werr, fabs(W[x][y] + (ev[0] - ev[1]) / (2 * h)));
    }
  free(f);
}

TEST(test_fd_linear_snap) {
  kiln_atoms *a = make_cell("Ta", NULL, 3.316, 0);
  kiln_pot *p = make_snap(POTDIR "Ta06A.snapcoeff", POTDIR "Ta06A.snapparam");
  if (a && p) {
    double fe, we;
    fd_check(p, a, &fe, &we);
    printf("  Ta06A finite differences: max |dF| %.2e eV/A, max |dW| %.2e eV\n", fe, we);
    CHECK(fe < 1e-6);
    CHECK(we < 1e-5);
  }
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

TEST(test_fd_qsnap_two_elements_triclinic) {
  kiln_atoms *a = make_cell("Nb", "Mo", 3.3, 1);
  kiln_pot *p = make_snap(QCOEFF, QPARAM);
  if (a && p) {
    double fe, we;
    fd_check(p, a, &fe, &we);
    printf("  qSNAP Nb/Mo triclinic finite differences: max |dF| %.2e eV/A, max |dW| %.2e eV\n",
           fe, we);
    CHECK(fe < 1e-6);
    CHECK(we < 1e-5);
  }
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

static kiln_desc *make_desc_files(const char *coeff, const char *param) {
  kiln_opts *o = NULL;
  kiln_desc *d = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_str(o, "coeff", coeff, &err));
  CHECK_OK(kiln_opts_add_str(o, "param", param, &err));
  CHECK_OK(kiln_desc_new(&d, "snap", o, &err));
  kiln_opts_free(o);
  return d;
}

/* descriptor gradient vs finite differences of X; backprop vs the contracted gradient;
 * beta.X summed == the potential's energy, backprop(beta) == its forces and virial */
TEST(test_descriptor_qsnap_gradient_backprop_energy) {
  kiln_atoms *a = make_cell("Nb", "Mo", 3.3, 1);
  kiln_desc *d = make_desc_files(QCOEFF, QPARAM);
  kiln_pot *p = make_snap(QCOEFF, QPARAM);
  if (!a || !d || !p) goto done;
  const size_t n = a->n, nc = kiln_desc_ncols(d);
  CHECK(nc == 14 + 105);
  double *X = malloc(n * nc * sizeof *X), *Xp = malloc(n * nc * sizeof *Xp),
         *Xm = malloc(n * nc * sizeof *Xm);
  kiln_desc_grad g;
  memset(&g, 0, sizeof g);
  CHECK_OK(kiln_desc_compute(d, a, X, &g, &err));
  /* gradient vs finite differences for a few atoms */
  const double h = 1e-5;
  double gerr = 0, gmax = 0;
  for (size_t k = 0; k < n; k += 5)
    for (int c = 0; c < 3; c++) {
      const double x0 = a->x[k][c];
      a->x[k][c] = x0 + h; CHECK_OK(kiln_desc_compute(d, a, Xp, NULL, &err));
      a->x[k][c] = x0 - h; CHECK_OK(kiln_desc_compute(d, a, Xm, NULL, &err));
      a->x[k][c] = x0;
      for (size_t i = 0; i < n; i++)
        for (size_t col = 0; col < nc; col++) {
          double an = 0;
          for (size_t e = g.offset[i]; e < g.offset[i + 1]; e++) {
            const double v = g.d[(e * 3 + (size_t)c) * nc + col];
            if ((size_t)g.j[e] == k) an += v;
            if (i == k) an -= v;
          }
          const double fd = (Xp[i * nc + col] - Xm[i * nc + col]) / (2 * h);
          gerr = fmax(gerr, fabs(an - fd) / fmax(1.0, fabs(fd)));
          gmax = fmax(gmax, fabs(fd));
        }
    }
  printf("  qSNAP descriptor gradient vs finite differences: max error %.2e (max |dX/dr| %.1f)\n",
         gerr, gmax);
  CHECK(gerr < 1e-6);
  /* backprop of random dE/dX vs contraction of the stored gradient */
  double *w = malloc(n * nc * sizeof *w);
  for (size_t q = 0; q < n * nc; q++) w[q] = sin(0.37 * (double)q + 0.2);
  double (*fb)[3] = malloc(n * sizeof *fb), (*fg)[3] = calloc(n, sizeof *fg);
  double Wb[3][3], Wg[3][3] = {{0}};
  CHECK_OK(kiln_desc_backprop(d, a, w, fb, Wb, &err));
  for (size_t i = 0; i < n; i++)
    for (size_t e = g.offset[i]; e < g.offset[i + 1]; e++)
      for (int c = 0; c < 3; c++) {
        double sv = 0;
        for (size_t col = 0; col < nc; col++) sv += w[i * nc + col] * g.d[(e * 3 + (size_t)c) * nc + col];
        fg[g.j[e]][c] -= sv;
        fg[i][c] += sv;
        for (int x = 0; x < 3; x++) Wg[x][c] -= g.rij[e][x] * sv;
      }
  double berr = 0, bwerr = 0;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) berr = fmax(berr, fabs(fb[i][c] - fg[i][c]));
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) bwerr = fmax(bwerr, fabs(Wb[x][y] - Wg[x][y]));
  printf("  qSNAP backprop vs gradient contraction: max |dF| %.2e, max |dW| %.2e\n", berr, bwerr);
  CHECK(berr < 1e-9);
  CHECK(bwerr < 1e-9);
  /* the model through the descriptor == the potential */
  {
    int32_t tmap[KILN_MAX_SPECIES];
    CHECK_OK(kiln_desc_map(d, a, tmap, &err));
    FILE *cf = fopen(QCOEFF, "r");
    double coef[2][120];
    char line[256];
    int el = -1, k = 0;
    while (cf && fgets(line, sizeof line, cf)) {
      if (line[0] == '#' || line[0] == '\n') continue;
      if (strncmp(line, "Nb", 2) == 0) { el = 0; k = 0; continue; }
      if (strncmp(line, "Mo", 2) == 0) { el = 1; k = 0; continue; }
      if (el >= 0 && k < 120) coef[el][k++] = atof(line);
    }
    if (cf) fclose(cf);
    double Ed = 0;
    for (size_t i = 0; i < n; i++) {
      const int e = tmap[a->type[i]];
      Ed += coef[e][0];
      for (size_t col = 0; col < nc; col++) {
        Ed += coef[e][1 + col] * X[i * nc + col];
        w[i * nc + col] = coef[e][1 + col];
      }
    }
    kiln_pot_result r;
    CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
    CHECK_OK(kiln_desc_backprop(d, a, w, fb, Wb, &err));
    double ferr = 0, werr = 0;
    for (size_t i = 0; i < n; i++)
      for (int c = 0; c < 3; c++) ferr = fmax(ferr, fabs(fb[i][c] - a->f[i][c]));
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++) werr = fmax(werr, fabs(Wb[x][y] - r.virial[x][y]));
    printf("  qSNAP descriptor model vs potential: E %.10f vs %.10f, max |dF| %.2e, max |dW| %.2e\n",
           Ed, r.energy, ferr, werr);
    CHECK_CLOSE(Ed, r.energy, 1e-12, 1e-10);
    CHECK(ferr < 1e-10);
    CHECK(werr < 1e-9);
  }
  free(w); free(fb); free(fg);
  free(X); free(Xp); free(Xm);
  kiln_desc_grad_free(&g);
done:
  kiln_pot_free(p);
  kiln_desc_free(d);
  kiln_atoms_free(a);
}

/* rotation and permutation invariance of B and E */
TEST(test_invariance) {
  kiln_atoms *a = make_cell("Nb", "Mo", 3.3, 1);
  kiln_desc *d = make_desc_files(QCOEFF, QPARAM);
  kiln_pot *p = make_snap(QCOEFF, QPARAM);
  kiln_atoms *b = NULL;
  if (!a || !d || !p) goto done;
  const size_t n = a->n, nc = kiln_desc_ncols(d);
  double *X = malloc(n * nc * sizeof *X), *Y = malloc(n * nc * sizeof *Y);
  CHECK_OK(kiln_desc_compute(d, a, X, NULL, &err));
  const double E0 = energy(p, a);
  /* rotation: about (1,2,3) by 0.7 rad, applied to positions and cell */
  double ax[3] = {1, 2, 3}, th = 0.7, R[3][3];
  double nn = sqrt(14.0);
  for (int q = 0; q < 3; q++) ax[q] /= nn;
  const double cth = cos(th), sth = sin(th);
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++)
      R[x][y] = (x == y ? cth : 0) + (1 - cth) * ax[x] * ax[y];
  R[0][1] -= sth * ax[2]; R[0][2] += sth * ax[1]; R[1][0] += sth * ax[2];
  R[1][2] -= sth * ax[0]; R[2][0] -= sth * ax[1]; R[2][1] += sth * ax[0];
  CHECK_OK(kiln_atoms_copy(&b, a, &err));
  double c[3][3];
  for (int r = 0; r < 3; r++)
    for (int x = 0; x < 3; x++) {
      c[r][x] = 0;
      for (int y = 0; y < 3; y++) c[r][x] += R[x][y] * a->cell[r][y];
    }
  for (size_t i = 0; i < n; i++)
    for (int x = 0; x < 3; x++) {
      b->x[i][x] = 0;
      for (int y = 0; y < 3; y++) b->x[i][x] += R[x][y] * a->x[i][y];
    }
  CHECK_OK(kiln_atoms_set_cell(b, c, 0, &err));
  CHECK_OK(kiln_desc_compute(d, b, Y, NULL, &err));
  double rerr = 0;
  for (size_t q = 0; q < n * nc; q++) rerr = fmax(rerr, fabs(X[q] - Y[q]) / fmax(1.0, fabs(X[q])));
  const double Er = energy(p, b);
  kiln_atoms_free(b);
  b = NULL;
  /* permutation: reverse the atom order */
  CHECK_OK(kiln_atoms_copy(&b, a, &err));
  for (size_t i = 0; i < n; i++) {
    memcpy(b->x[i], a->x[n - 1 - i], sizeof b->x[i]);
    b->type[i] = a->type[n - 1 - i];
  }
  b->generation++;
  CHECK_OK(kiln_desc_compute(d, b, Y, NULL, &err));
  double perr = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t col = 0; col < nc; col++)
      perr = fmax(perr, fabs(X[i * nc + col] - Y[(n - 1 - i) * nc + col]) /
                            fmax(1.0, fabs(X[i * nc + col])));
  const double Ep = energy(p, b);
  printf("  invariance: rotation dB %.1e dE %.1e eV; permutation dB %.1e dE %.1e eV\n", rerr,
         fabs(Er - E0), perr, fabs(Ep - E0));
  CHECK(rerr < 1e-10);
  CHECK(perr < 1e-12);
  CHECK_CLOSE(Er, E0, 1e-12, 1e-10);
  CHECK_CLOSE(Ep, E0, 1e-13, 1e-11);
  free(X); free(Y);
done:
  kiln_atoms_free(b);
  kiln_pot_free(p);
  kiln_desc_free(d);
  kiln_atoms_free(a);
}

/* a 2-atom bcc cell (much smaller than twice the 4.68 A cutoff) == its 3x3x3 supercell;
 * a different (triclinic) basis of the same lattice gives the same energy and forces */
TEST(test_small_cell_and_triclinic_basis) {
  kiln_atoms *u = NULL, *s = NULL, *t = NULL;
  CHECK_OK(kiln_crystal_bcc(&u, "Ta", 3.316, &err));
  kiln_pot *p = make_snap(POTDIR "Ta06A.snapcoeff", POTDIR "Ta06A.snapparam");
  if (!u || !p) goto done;
  u->x[1][0] += 0.07; u->x[1][1] -= 0.04;  /* break the symmetry a little */
  CHECK_OK(kiln_atoms_supercell(&s, u, 3, 3, 3, &err));
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, u, KILN_EVAL_ALL, &r, &err));
  double Eu = r.energy, fu[2][3];
  memcpy(fu, u->f, sizeof fu);
  CHECK_OK(kiln_pot_compute_once(p, s, KILN_EVAL_ALL, &r, &err));
  double ferr = 0;
  for (size_t i = 0; i < s->n; i++)
    for (int c = 0; c < 3; c++) ferr = fmax(ferr, fabs(s->f[i][c] - fu[i % 2][c]));
  printf("  2-atom cell vs 3x3x3 supercell: E/27 %.12f vs %.12f, max |dF| %.1e\n",
         r.energy / 27, Eu, ferr);
  CHECK_CLOSE(r.energy / 27, Eu, 1e-12, 0);
  CHECK(ferr < 1e-11);
  /* triclinic basis of the 16-atom cell: rows a1, a2 + a1, a3 + a2 */
  kiln_atoms *a = make_cell("Ta", NULL, 3.316, 0);
  if (a) {
    CHECK_OK(kiln_atoms_copy(&t, a, &err));
    double c[3][3];
    memcpy(c, a->cell, sizeof c);
    for (int x = 0; x < 3; x++) { c[1][x] += a->cell[0][x]; c[2][x] += a->cell[1][x]; }
    CHECK_OK(kiln_atoms_set_cell(t, c, 0, &err));
    CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
    const double Ea = r.energy;
    double Wa[3][3];
    memcpy(Wa, r.virial, sizeof Wa);
    CHECK_OK(kiln_pot_compute_once(p, t, KILN_EVAL_ALL, &r, &err));
    double terr = 0, werr = 0;
    for (size_t i = 0; i < a->n; i++)
      for (int k = 0; k < 3; k++) terr = fmax(terr, fabs(t->f[i][k] - a->f[i][k]));
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++) werr = fmax(werr, fabs(Wa[x][y] - r.virial[x][y]));
    printf("  triclinic basis: dE %.1e eV, max |dF| %.1e, max |dW| %.1e\n", fabs(r.energy - Ea),
           terr, werr);
    CHECK_CLOSE(r.energy, Ea, 1e-13, 0);
    CHECK(terr < 1e-11);
    CHECK(werr < 1e-9);
    kiln_atoms_free(a);
  }
done:
  kiln_atoms_free(t);
  kiln_atoms_free(s);
  kiln_atoms_free(u);
  kiln_pot_free(p);
}

TEST(test_threads_equal_serial) {
  kiln_atoms *a = make_cell("Nb", "Mo", 3.3, 1);
  kiln_pot *p1 = make_snap(QCOEFF, QPARAM), *p2 = make_snap(QCOEFF, QPARAM);
  if (a && p1 && p2) {
    kiln_pot_set_omp_min(p2, 0);
    omp_set_num_threads(3);
    kiln_pot_result r1, r2;
    CHECK_OK(kiln_pot_compute_once(p1, a, KILN_EVAL_ALL, &r1, &err));
    double f1[16][3], e1[16];
    memcpy(f1, a->f, sizeof f1);
    memcpy(e1, r1.eatom, sizeof e1);
    CHECK_OK(kiln_pot_compute_once(p2, a, KILN_EVAL_ALL, &r2, &err));
    double d = 0;
    for (size_t i = 0; i < 16; i++) {
      for (int c = 0; c < 3; c++) d = fmax(d, fabs(f1[i][c] - a->f[i][c]));
      d = fmax(d, fabs(e1[i] - r2.eatom[i]));
    }
    CHECK(d < 1e-12);
    CHECK_CLOSE(r1.energy, r2.energy, 1e-13, 0);
    /* descriptor: threaded compute and backprop (more than 64 centres) */
    kiln_atoms *big = NULL;
    CHECK_OK(kiln_atoms_supercell(&big, a, 2, 2, 1, &err));
    kiln_desc *d1 = make_desc_files(QCOEFF, QPARAM);
    if (big && d1) {
      const size_t n = big->n, nc = kiln_desc_ncols(d1);
      double *Xa = malloc(n * nc * sizeof *Xa), *Xb = malloc(n * nc * sizeof *Xb);
      double (*fa)[3] = malloc(n * sizeof *fa), (*fb)[3] = malloc(n * sizeof *fb);
      double *w = malloc(n * nc * sizeof *w);
      for (size_t q = 0; q < n * nc; q++) w[q] = cos(0.11 * (double)q);
      double Wa[3][3], Wb[3][3];
      omp_set_num_threads(1);
      CHECK_OK(kiln_desc_compute(d1, big, Xa, NULL, &err));
      CHECK_OK(kiln_desc_backprop(d1, big, w, fa, Wa, &err));
      omp_set_num_threads(3);
      CHECK_OK(kiln_desc_compute(d1, big, Xb, NULL, &err));
      CHECK_OK(kiln_desc_backprop(d1, big, w, fb, Wb, &err));
      /* per-thread partial sums are added in another order: equal to rounding, relative
       * to the largest force / virial component */
      double dx = 0, df = 0, fmaxv = 0, dw = 0, wmax = 0;
      for (size_t q = 0; q < n * nc; q++) dx = fmax(dx, fabs(Xa[q] - Xb[q]));
      for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
          df = fmax(df, fabs(fa[i][c] - fb[i][c]));
          fmaxv = fmax(fmaxv, fabs(fa[i][c]));
        }
      for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) {
          dw = fmax(dw, fabs(Wa[x][y] - Wb[x][y]));
          wmax = fmax(wmax, fabs(Wa[x][y]));
        }
      CHECK(dx == 0);
      if (!(df <= 1e-13 * fmaxv && dw <= 1e-13 * wmax))
        fprintf(stderr, "  threads vs serial: df %.3g (max |f| %.3g), dW %.3g (max |W| %.3g)\n", df,
                fmaxv, dw, wmax);
      CHECK(df <= 1e-13 * fmaxv);
      CHECK(dw <= 1e-13 * wmax);
      free(Xa); free(Xb); free(fa); free(fb); free(w);
    }
    kiln_desc_free(d1);
    kiln_atoms_free(big);
    omp_set_num_threads(1);
  }
  kiln_pot_free(p1);
  kiln_pot_free(p2);
  kiln_atoms_free(a);
}

static kiln_status record(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                          kiln_error *e) {
  double *s = ud;
  if (isnan(s[2])) s[2] = th->etot;
  s[0] = fmax(s[0], fabs(th->etot - s[2]));
  s[1] = th->etot;
  return KILN_OK;
}

/* NVE with Ta06A (SNAP + ZBL): energy conservation over 0.5 ps at dt 0.5 fs */
TEST(test_nve_ta06a) {
  kiln_atoms *u = NULL, *a = NULL;
  CHECK_OK(kiln_crystal_bcc(&u, "Ta", 3.316, &err));
  if (u) CHECK_OK(kiln_atoms_supercell(&a, u, 3, 3, 3, &err));
  kiln_atoms_free(u);
  kiln_pot *ps = make_snap(POTDIR "Ta06A.snapcoeff", POTDIR "Ta06A.snapparam");
  kiln_pot *pz = make_zbl_ta(), *sum = NULL;
  kiln_md *md = NULL;
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_num(o, "dt", 0.5, &err));
  CHECK_OK(kiln_md_new(&md, "verlet", o, &err));
  kiln_opts_free(o);
  if (ps && pz) {
    kiln_pot *parts[2] = {ps, pz};
    CHECK_OK(kiln_pot_new_sum(&sum, parts, 2, &err));
  }
  if (a && sum && md) {
    kiln_rng r;
    kiln_rng_seed(&r, 11, 0);
    for (size_t i = 0; i < a->n; i++) {
      double sd = sqrt(KILN_KB * 600.0 / (a->mass[i] * KILN_MVV2E));
      for (int d = 0; d < 3; d++) a->v[i][d] = sd * kiln_rng_normal(&r);
    }
    kiln_atoms_zero_momentum(a);
    double st[3] = {0, 0, 0};
    kiln_observer ob = {record, st, 10, 0};
    kiln_md_run_opts ro = {.obs = &ob, .nobs = 1, .skin = 1.0};
    st[2] = NAN;
    CHECK_OK(kiln_md_run(md, a, sum, 1000, &ro, &err));
    printf("  Ta06A NVE 54 atoms, 0.5 ps at 0.5 fs: max |E-E0| %.2e eV/atom, drift %.2e eV/atom, T %.0f K\n",
           st[0] / a->n, fabs(st[1] - st[2]) / a->n, kiln_atoms_temperature(a));
    CHECK(st[0] / a->n < 2e-5);
    CHECK(fabs(st[1] - st[2]) / a->n < 1e-5);
  }
  kiln_md_free(md);
  kiln_pot_free(sum); kiln_pot_free(ps); kiln_pot_free(pz);
  kiln_atoms_free(a);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) { fputs(text, f); fclose(f); }
}

TEST(test_errors) {
  kiln_opts *o = NULL;
  kiln_pot *p = NULL;
  char cpath[256], ppath[256];
  snprintf(cpath, sizeof cpath, "/tmp/kiln_snap_test_%d.snapcoeff", (int)getpid());
  snprintf(ppath, sizeof ppath, "/tmp/kiln_snap_test_%d.snapparam", (int)getpid());
#define TRY(coeff, param) do { kiln_opts_free(o); o = NULL; kiln_opts_new(&o, &err); \
    kiln_opts_add_str(o, "coeff", coeff, &err); kiln_opts_add_str(o, "param", param, &err); } while (0)
  TRY("/nonexistent/x.snapcoeff", POTDIR "Ta06A.snapparam");
  CHECK_ERR(kiln_pot_new(&p, "snap", o, &err), KILN_EIO, "x.snapcoeff");
  /* coefficient count does not match twojmax */
  write_file(ppath, "# test\nrcutfac 4.6\ntwojmax 4\n");
  TRY(POTDIR "Ta06A.snapcoeff", ppath);
  CHECK_ERR(kiln_pot_new(&p, "snap", o, &err), KILN_EFORMAT, "Ta06A.snapcoeff:5: field 2: 31 coefficients");
  /* unknown keyword, chemflag, missing twojmax, bad number */
  write_file(ppath, "rcutfac 4.6\ntwojmax 6\n\nfoo 1\n");
  CHECK_ERR(kiln_pot_new(&p, "snap", o, &err), KILN_EFORMAT, ":4: unknown SNAP parameter 'foo'");
  write_file(ppath, "rcutfac 4.6\ntwojmax 6\nchemflag 1\n");
  CHECK_ERR(kiln_pot_new(&p, "snap", o, &err), KILN_EFORMAT, ":3: chemflag 1 is not supported");
  write_file(ppath, "rcutfac 4.6\n");
  CHECK_ERR(kiln_pot_new(&p, "snap", o, &err), KILN_EFORMAT, "missing required SNAP parameter 'twojmax'");
  write_file(ppath, "rcutfac 4.6x\ntwojmax 2\n");
  CHECK_ERR(kiln_pot_new(&p, "snap", o, &err), KILN_EFORMAT, ":1: field 2 of 'rcutfac'");
  /* bad coefficient and bad element line */
  write_file(ppath, "rcutfac 4.6\ntwojmax 0\n");
  write_file(cpath, "1 2\nTa 0.5 1\n-1.0\n0.3 0.4\n");
  TRY(cpath, ppath);
  CHECK_ERR(kiln_pot_new(&p, "snap", o, &err), KILN_EFORMAT, ":4: field 1: expected one number");
  write_file(cpath, "1 2\nTa 0.5\n-1.0\n0.3\n");
  CHECK_ERR(kiln_pot_new(&p, "snap", o, &err), KILN_EFORMAT, ":2: expected 'element radelem wj'");
  write_file(cpath, "1 2\nTa 0.5 1\n-1.0\n");
  CHECK_ERR(kiln_pot_new(&p, "snap", o, &err), KILN_EFORMAT, "end of file after 1 of 2");
  /* unknown option, unknown element in the structure */
  kiln_opts_add_num(o, "cutof", 1, &err);
  CHECK_ERR(kiln_pot_new(&p, "snap", o, &err), KILN_EINVAL, "unknown option 'cutof'");
  write_file(cpath, "1 2\nTa 0.5 1\n-1.0\n0.5\n");
  TRY(cpath, ppath);
  CHECK_OK(kiln_pot_new(&p, "snap", o, &err));
  kiln_atoms *a = make_cell("W", NULL, 3.2, 0);
  if (p && a) CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, NULL, &err), KILN_EINVAL, "'W'");
  /* twojmax 0: B_1 = 1 + sum fc, E = beta0 + beta1 B_1 (no bzero: default bzeroflag 1 subtracts 1) */
  kiln_atoms_free(a);
  kiln_pot_free(p);
  kiln_opts_free(o);
  remove(cpath);
  remove(ppath);
#undef TRY
}

int main(void) {
  RUN(test_descriptor_qsnap_gradient_backprop_energy);
  RUN(test_invariance);
  RUN(test_small_cell_and_triclinic_basis);
  RUN(test_threads_equal_serial);
  RUN(test_nve_ta06a);
  RUN(test_errors);
  RUN(test_fd_linear_snap);
  RUN(test_fd_qsnap_two_elements_triclinic);
  RUN(test_bispectrum_vs_lammps);
  RUN(test_ta06a_snap_zbl_vs_lammps);
  RUN(test_ta06a_snap_only_vs_lammps);
  return check_summary();
}
