/* tests/c/test_qpoints.c: lattice detection from supercells, high-symmetry
 * points against ASE (tests/ref/qpoints-ase.txt, from tests/ref/gen_qpoints_ref.py),
 * commensurate segments against a brute-force count, spheres, shells and
 * spherical averages against analytic values. */
#include <stdlib.h>
#include <time.h>
#include "check.h"
#include "kiln/atoms.h"
#include "kiln/crystal.h"
#include "kiln/qpoints.h"
#include "kiln/rng.h"

#define TWO_PI 6.283185307179586476925286766559

static kiln_atoms *super(kiln_atoms *a, int n1, int n2, int n3) {
  kiln_atoms *s = NULL;
  kiln_error err = {0};
  if (kiln_atoms_supercell(&s, a, n1, n2, n3, &err)) s = NULL;
  kiln_atoms_free(a);
  return s;
}

static void rattle(kiln_atoms *a, double sigma, unsigned seed) {
  kiln_rng r;
  kiln_rng_seed(&r, seed, 7);
  for (size_t i = 0; i < a->n; i++)
    for (int d = 0; d < 3; d++) a->x[i][d] += sigma * kiln_rng_normal(&r);
}

/* max |h - round(h)| of q against the rows of cell */
static double frac_err(const double cell[3][3], const double q[3]) {
  double m = 0;
  for (int i = 0; i < 3; i++) {
    double h = (q[0] * cell[i][0] + q[1] * cell[i][1] + q[2] * cell[i][2]) / TWO_PI;
    m = fmax(m, fabs(h - nearbyint(h)));
  }
  return m;
}

TEST(test_detect_diamond) {
  kiln_error err = {0};
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_crystal_diamond(&a, "Si", 5.431, &err));
  a = super(a, 4, 4, 4);
  CHECK(a && a->n == 512);
  kiln_lattice lat;
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_FCC);
  CHECK_CLOSE(lat.a, 5.431, 0, 1e-9);
  CHECK(lat.ncells == 256 && lat.nbasis == 2);
  /* conventional cube along x, y, z */
  for (int i = 0; i < 3; i++)
    for (int d = 0; d < 3; d++) CHECK_CLOSE(lat.conv[i][d], i == d ? 5.431 : 0.0, 0, 1e-9);
  /* reduced primitive vectors are nearest-neighbour fcc vectors a/√2 */
  for (int i = 0; i < 3; i++)
    CHECK_CLOSE(sqrt(lat.prim[i][0] * lat.prim[i][0] + lat.prim[i][1] * lat.prim[i][1] +
                     lat.prim[i][2] * lat.prim[i][2]), 5.431 / sqrt(2.0), 0, 1e-9);
  double q[3];
  CHECK_OK(kiln_lattice_point(&lat, "X", q, &err));
  CHECK_CLOSE(q[1], TWO_PI / 5.431, 0, 1e-12);
  CHECK_CLOSE(fabs(q[0]) + fabs(q[2]), 0, 0, 1e-12);
  CHECK_OK(kiln_lattice_point(&lat, "Gamma", q, &err));
  CHECK(q[0] == 0 && q[1] == 0 && q[2] == 0);
  CHECK_OK(kiln_lattice_point(&lat, "\xce\x93", q, &err));
  CHECK_ERR(kiln_lattice_point(&lat, "H", q, &err), KILN_EINVAL, "valid: G X W K L U");
  kiln_atoms_free(a);
}

TEST(test_detect_others) {
  kiln_error err = {0};
  kiln_atoms *a = NULL;
  kiln_lattice lat;
  /* fcc Ar */
  CHECK_OK(kiln_crystal_fcc(&a, "Ar", 5.26, &err));
  a = super(a, 3, 3, 3);
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_FCC && lat.nbasis == 1 && lat.ncells == 108);
  CHECK_CLOSE(lat.a, 5.26, 0, 1e-9);
  kiln_atoms_free(a);
  /* bcc Fe */
  CHECK_OK(kiln_crystal_bcc(&a, "Fe", 2.87, &err));
  a = super(a, 4, 4, 4);
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_BCC && lat.nbasis == 1 && lat.ncells == 128);
  CHECK_CLOSE(lat.a, 2.87, 0, 1e-9);
  kiln_atoms_free(a);
  /* perovskite BaTiO3: simple cubic with 5 atoms */
  CHECK_OK(kiln_crystal_perovskite(&a, "Ba", "Ti", "O", 4.0, &err));
  a = super(a, 3, 3, 3);
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_SC && lat.nbasis == 5 && lat.ncells == 27);
  CHECK_CLOSE(lat.a, 4.0, 0, 1e-9);
  kiln_atoms_free(a);
  /* rocksalt NaCl: fcc with 2 atoms */
  CHECK_OK(kiln_crystal_rocksalt(&a, "Na", "Cl", 5.64, &err));
  a = super(a, 2, 2, 2);
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_FCC && lat.nbasis == 2);
  CHECK_CLOSE(lat.a, 5.64, 0, 1e-9);
  kiln_atoms_free(a);
  /* hcp Mg: hexagonal with 2 atoms, a1 along x as built */
  CHECK_OK(kiln_crystal_hcp(&a, "Mg", 3.21, 5.21, &err));
  a = super(a, 4, 4, 3);
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_HEX && lat.nbasis == 2 && lat.ncells == 48);
  CHECK_CLOSE(lat.a, 3.21, 0, 1e-9);
  CHECK_CLOSE(lat.c, 5.21, 0, 1e-9);
  CHECK_CLOSE(lat.conv[0][0], 3.21, 0, 1e-9);
  CHECK_CLOSE(lat.conv[1][0], -1.605, 0, 1e-9);
  kiln_atoms_free(a);
  /* tetragonal P, orthorhombic P and tetragonal I from explicit cells */
  const char *sym[2] = {"Sn", "Sn"};
  const double f1[1][3] = {{0.1, 0.2, 0.3}}, f2[2][3] = {{0, 0, 0}, {.5, .5, .5}};
  const double tet[3][3] = {{3, 0, 0}, {0, 3, 0}, {0, 0, 4.5}},
               orc[3][3] = {{3, 0, 0}, {0, 4, 0}, {0, 0, 5}};
  CHECK_OK(kiln_crystal_from_cell(&a, tet, 1, sym, f1, &err));
  a = super(a, 2, 3, 2);
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_TET);
  CHECK_CLOSE(lat.a, 3.0, 0, 1e-9);
  CHECK_CLOSE(lat.c, 4.5, 0, 1e-9);
  kiln_atoms_free(a);
  CHECK_OK(kiln_crystal_from_cell(&a, orc, 1, sym, f1, &err));
  a = super(a, 3, 2, 2);
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_ORC);
  CHECK_CLOSE(lat.a, 3.0, 0, 1e-9);
  CHECK_CLOSE(lat.b, 4.0, 0, 1e-9);
  CHECK_CLOSE(lat.c, 5.0, 0, 1e-9);
  kiln_atoms_free(a);
  CHECK_OK(kiln_crystal_from_cell(&a, tet, 2, sym, f2, &err));
  a = super(a, 2, 2, 2);
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_BCT && lat.nbasis == 1);
  CHECK_CLOSE(lat.c, 4.5, 0, 1e-9);
  kiln_atoms_free(a);
  /* an irregular 2-atom cell: no translations, not classified */
  const double tri[3][3] = {{4, 0, 0}, {1, 5, 0}, {0.5, 1.5, 6}};
  const double f3[2][3] = {{0, 0, 0}, {0.3, 0.1, 0.6}};
  CHECK_OK(kiln_crystal_from_cell(&a, tri, 2, sym, f3, &err));
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_TRICLINIC && lat.ncells == 1 && lat.nbasis == 2);
  double q[3];
  CHECK_ERR(kiln_lattice_point(&lat, "X", q, &err), KILN_EINVAL, "only G is defined");
  kiln_atoms_free(a);
}

/* rattled (0.01 Å) and rotated structures are still detected; the lattice is
 * exact with respect to the cell */
TEST(test_detect_rattled_rotated) {
  kiln_error err = {0};
  kiln_atoms *a = NULL;
  kiln_lattice lat;
  CHECK_OK(kiln_crystal_diamond(&a, "Si", 5.431, &err));
  a = super(a, 4, 4, 4);
  rattle(a, 0.01, 3);
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_FCC && lat.ncells == 256);
  CHECK_CLOSE(lat.a, 5.431, 0, 1e-9);
  /* a tight tolerance sees no translation: the cell itself, 512 atoms in the basis */
  CHECK_OK(kiln_lattice_detect(a, 1e-3, &lat, &err));
  CHECK(lat.ncells == 1 && lat.nbasis == 512 && lat.kind == KILN_LAT_SC);
  kiln_atoms_free(a);
  /* rotate a bcc supercell by 30° about z: conv follows the rotation */
  CHECK_OK(kiln_crystal_bcc(&a, "Fe", 2.87, &err));
  a = super(a, 4, 4, 4);
  double c = cos(M_PI / 6), s = sin(M_PI / 6), cell[3][3];
  for (int i = 0; i < 3; i++) {
    double x = a->cell[i][0], y = a->cell[i][1];
    cell[i][0] = c * x - s * y, cell[i][1] = s * x + c * y, cell[i][2] = a->cell[i][2];
  }
  CHECK_OK(kiln_atoms_set_cell(a, cell, 1, &err));
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  CHECK(lat.kind == KILN_LAT_BCC);
  CHECK_CLOSE(lat.a, 2.87, 0, 1e-9);
  CHECK_CLOSE(lat.conv[0][0], 2.87 * c, 0, 1e-9);
  CHECK_CLOSE(lat.conv[0][1], 2.87 * s, 0, 1e-9);
  const char *lab[4] = {"G", "H", "N", "P"};
  for (int k = 0; k < 4; k++) {
    double q[3];
    CHECK_OK(kiln_lattice_point(&lat, lab[k], q, &err));
    CHECK(frac_err(a->cell, q) < 1e-9);
  }
  kiln_atoms_free(a);
}

/* ~10^4 atoms: detection is fast (cell list + integer lattice) */
TEST(test_detect_large) {
  kiln_error err = {0};
  kiln_atoms *a = NULL;
  kiln_lattice lat;
  CHECK_OK(kiln_crystal_diamond(&a, "Si", 5.431, &err));
  a = super(a, 11, 11, 11);
  CHECK(a && a->n == 10648);
  clock_t t0 = clock();
  CHECK_OK(kiln_lattice_detect(a, 0, &lat, &err));
  double sec = (double)(clock() - t0) / CLOCKS_PER_SEC;
  CHECK(lat.kind == KILN_LAT_FCC && lat.ncells == 5324);
  CHECK_CLOSE(lat.a, 5.431, 0, 1e-9);
  CHECK(sec < 2.0);
  fprintf(stderr, "  detection on %zu atoms: %.3f s\n", a->n, sec);
  kiln_atoms_free(a);
}

/* ASE's special points (Cartesian, rad/Å) for the standard cells */
TEST(test_points_vs_ase) {
  kiln_error err = {0};
  FILE *f = fopen("tests/ref/qpoints-ase.txt", "r");
  CHECK(f != NULL);
  if (!f) return;
  char line[512];
  int npoints = 0;
  while (fgets(line, sizeof line, f)) {
    char kind[16], label[8];
    double a, b, c, q[3];
    if (sscanf(line, "point %15s %lf %lf %lf %7s %lf %lf %lf", kind, &a, &b, &c, label, &q[0],
               &q[1], &q[2]) != 8)
      continue;
    kiln_lattice_kind k;
    kiln_lattice lat;
    CHECK_OK(kiln_lattice_kind_from_name(kind, &k, &err));
    CHECK_OK(kiln_lattice_make(k, a, b, c, &lat, &err));
    double p[3];
    CHECK_OK(kiln_lattice_point(&lat, label, p, &err));
    for (int d = 0; d < 3; d++) CHECK_CLOSE(p[d], q[d], 0, 1e-12);
    npoints++;
  }
  fclose(f);
  CHECK(npoints == 34);
  /* every label of each lattice kind is among ASE's */
  int n;
  kiln_lattice_labels(KILN_LAT_FCC, &n);
  CHECK(n == 6);
  kiln_lattice_labels(KILN_LAT_ORC, &n);
  CHECK(n == 8);
}

/* commensurate points per segment of an n^3 diamond supercell vs brute force */
TEST(test_segments_vs_bruteforce) {
  kiln_error err = {0};
  FILE *f = fopen("tests/ref/qpoints-ase.txt", "r");
  CHECK(f != NULL);
  if (!f) return;
  char line[512];
  int nseg = 0;
  while (fgets(line, sizeof line, f)) {
    char p[8], q[8];
    double a;
    int nrep, count;
    if (sscanf(line, "segcount %lf %d %7s %7s %d", &a, &nrep, p, q, &count) != 5) continue;
    kiln_atoms *at = NULL;
    kiln_lattice lat;
    CHECK_OK(kiln_crystal_diamond(&at, "Si", a, &err));
    at = super(at, nrep, nrep, nrep);
    CHECK_OK(kiln_lattice_detect(at, 0, &lat, &err));
    double qa[3], qb[3];
    CHECK_OK(kiln_lattice_point(&lat, p, qa, &err));
    CHECK_OK(kiln_lattice_point(&lat, q, qb, &err));
    long (*hkl)[3] = NULL;
    size_t n = 0;
    CHECK_OK(kiln_qpoints_segment(at->cell, qa, qb, 1e-6, &hkl, &n, &err));
    if ((int)n != count) fprintf(stderr, "  %s-%s n=%d: %zu vs %d\n", p, q, nrep, n, count);
    CHECK((int)n == count);
    /* endpoints first and last; each point commensurate and on the line */
    long h0[3], h1[3];
    CHECK(kiln_qpoint_commensurate(at->cell, qa, 1e-9, h0));
    CHECK(kiln_qpoint_commensurate(at->cell, qb, 1e-9, h1));
    if (n >= 2) {
      CHECK(hkl[0][0] == h0[0] && hkl[0][1] == h0[1] && hkl[0][2] == h0[2]);
      CHECK(hkl[n - 1][0] == h1[0] && hkl[n - 1][1] == h1[1] && hkl[n - 1][2] == h1[2]);
    }
    kiln_atoms_free(at);
    free(hkl);
    nseg++;
  }
  fclose(f);
  CHECK(nseg == 16);
}

/* a segment whose ends are not commensurate: only the points in between */
TEST(test_segment_incommensurate_ends) {
  kiln_error err = {0};
  double cell[3][3] = {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}};
  double b = TWO_PI / 10;
  double qa[3] = {0.5 * b, 0, 0}, qb[3] = {4.5 * b, 0, 0};
  long (*hkl)[3] = NULL;
  size_t n = 0;
  CHECK_OK(kiln_qpoints_segment(cell, qa, qb, 1e-6, &hkl, &n, &err));
  CHECK(n == 4 && hkl[0][0] == 1 && hkl[3][0] == 4);
  free(hkl);
  /* reversed direction, diagonal line (0.5,0.5,0)->(3.5,3.5,0) with spacing 1 */
  double qc[3] = {3.5 * b, 3.5 * b, 0}, qd[3] = {0.5 * b, 0.5 * b, 0};
  CHECK_OK(kiln_qpoints_segment(cell, qc, qd, 1e-6, &hkl, &n, &err));
  CHECK(n == 3 && hkl[0][0] == 3 && hkl[0][1] == 3 && hkl[2][0] == 1);
  free(hkl);
  /* a line that misses every integer point */
  double qe[3] = {0, 0.5 * b, 0}, qf[3] = {3 * b, 0.5 * b, 0};
  CHECK_OK(kiln_qpoints_segment(cell, qe, qf, 1e-6, &hkl, &n, &err));
  CHECK(n == 0 && hkl == NULL);
  double qg[3] = {1e9, 0, 0};
  CHECK_ERR(kiln_qpoints_segment(cell, qa, qg, 1e-6, &hkl, &n, &err), KILN_ERANGE, "limit");
}

TEST(test_sphere_and_shells) {
  kiln_error err = {0};
  double cell[3][3] = {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}};
  double b = TWO_PI / 10;
  long (*hkl)[3] = NULL;
  size_t n = 0;
  /* h²+k²+l² <= 2.25, q = 0 excluded: 6 + 12 */
  CHECK_OK(kiln_qpoints_sphere(cell, 0, 1.5 * b, &hkl, &n, &err));
  CHECK(n == 18);
  if (n == 18) {
    CHECK(labs(hkl[0][0]) + labs(hkl[0][1]) + labs(hkl[0][2]) == 1);
    CHECK(labs(hkl[17][0]) + labs(hkl[17][1]) + labs(hkl[17][2]) == 2);
  }
  free(hkl);
  /* with Γ; up to |q| = 3b: sum over shells of the number of representations */
  CHECK_OK(kiln_qpoints_sphere(cell, -1, 3 * b, &hkl, &n, &err));
  size_t brute = 0;
  for (int h = -3; h <= 3; h++)
    for (int k = -3; k <= 3; k++)
      for (int l = -3; l <= 3; l++) brute += h * h + k * k + l * l <= 9;
  CHECK(n == brute && n == 123);
  CHECK(hkl[0][0] == 0 && hkl[0][1] == 0 && hkl[0][2] == 0);
  double *qn = malloc(n * sizeof *qn);
  int *keep = malloc(n * sizeof *keep), *keep2 = malloc(n * sizeof *keep2);
  for (size_t i = 0; i < n; i++)
    qn[i] = b * sqrt((double)(hkl[i][0] * hkl[i][0] + hkl[i][1] * hkl[i][1] + hkl[i][2] * hkl[i][2]));
  /* 3 shells of width b: (0,b] 6 points, (b,2b] 12+8+6 = 26, (2b,3b] 24+24+12+30 = 90 */
  CHECK_OK(kiln_qpoints_pick_shells(qn, n, 3 * b, 3, 0, 1, keep, &err));
  int cnt[3] = {0, 0, 0}, nneg = 0;
  for (size_t i = 0; i < n; i++) {
    if (keep[i] >= 0) cnt[keep[i]]++;
    else nneg++;
  }
  CHECK(cnt[0] == 6 && cnt[1] == 26 && cnt[2] == 90 && nneg == 1);
  CHECK_OK(kiln_qpoints_pick_shells(qn, n, 3 * b, 3, 10, 42, keep, &err));
  CHECK_OK(kiln_qpoints_pick_shells(qn, n, 3 * b, 3, 10, 42, keep2, &err));
  int same = 1;
  cnt[0] = cnt[1] = cnt[2] = 0;
  for (size_t i = 0; i < n; i++) {
    if (keep[i] >= 0) cnt[keep[i]]++;
    same &= keep[i] == keep2[i];
  }
  CHECK(cnt[0] == 6 && cnt[1] == 10 && cnt[2] == 10 && same);
  CHECK_OK(kiln_qpoints_pick_shells(qn, n, 3 * b, 3, 10, 43, keep2, &err));
  same = 1;
  for (size_t i = 0; i < n; i++) same &= keep[i] == keep2[i];
  CHECK(!same);
  CHECK_ERR(kiln_qpoints_pick_shells(qn, n, 3 * b, 0, 10, 43, keep2, &err), KILN_EINVAL, "shells");
  free(hkl);
  CHECK_ERR(kiln_qpoints_sphere(cell, 0, 1e3, &hkl, &n, &err), KILN_ERANGE, "smaller qmax");
  CHECK(hkl == NULL && n == 0);
  free(qn);
  free(keep);
  free(keep2);
}

/* spherical averages: f(|q|) averaged with a narrow Gaussian gives f(Q);
 * with values 1 the normalised average is 1 and the plain sum is sum w */
TEST(test_spherical_average) {
  kiln_error err = {0};
  size_t nq = 4000, m = 2, nQ = 5;
  double *qn = malloc(nq * sizeof *qn), *v = malloc(nq * m * sizeof *v);
  double Q[5] = {0.5, 1.0, 1.5, 2.0, 2.5}, out[10], out2[10];
  for (size_t i = 0; i < nq; i++) {
    qn[i] = 3.0 * (double)i / (double)(nq - 1);
    v[i * m] = sin(qn[i]);
    v[i * m + 1] = 1.0;
  }
  CHECK_OK(kiln_qpoints_spherical_gauss(qn, v, nq, m, Q, nQ, 0.01, 0, out, &err));
  for (size_t k = 0; k < nQ; k++) {
    /* Gaussian smoothing of sin: sin(Q) exp(-w²/2) to O(grid) */
    CHECK_CLOSE(out[k * m], sin(Q[k]) * exp(-0.5 * 1e-4), 0, 2e-6);
    CHECK_CLOSE(out[k * m + 1], 1.0, 0, 1e-14);
  }
  CHECK_OK(kiln_qpoints_spherical_gauss(qn, v, nq, m, Q, nQ, 0.01, 1, out2, &err));
  /* sum of weights ≈ width √(2π) / spacing */
  CHECK_CLOSE(out2[1], 0.01 * sqrt(TWO_PI) / (3.0 / 3999), 1e-6, 0);
  /* far from every point: NaN */
  double far = 100;
  CHECK_OK(kiln_qpoints_spherical_gauss(qn, v, nq, m, &far, 1, 0.01, 0, out, &err));
  CHECK(isnan(out[0]));
  /* bins: the mean of sin over each bin */
  long count[3];
  CHECK_OK(kiln_qpoints_spherical_bins(qn, v, nq, m, 0, 3, 3, out, count, &err));
  CHECK(count[0] + count[1] + count[2] == (long)nq);
  for (int k = 0; k < 3; k++) {
    double exact = cos((double)k) - cos((double)k + 1);  /* mean of sin over [k, k+1] */
    CHECK_CLOSE(out[k * m], exact, 0, 2e-3);
    CHECK_CLOSE(out[k * m + 1], 1.0, 0, 1e-14);
  }
  CHECK_ERR(kiln_qpoints_spherical_gauss(qn, v, nq, m, Q, nQ, 0, 0, out, &err), KILN_EINVAL,
            "width");
  CHECK_ERR(kiln_qpoints_spherical_bins(qn, v, nq, m, 1, 1, 3, out, count, &err), KILN_EINVAL,
            "empty");
  free(qn);
  free(v);
}

TEST(test_errors) {
  kiln_error err = {0};
  kiln_lattice lat;
  kiln_lattice_kind k;
  CHECK_ERR(kiln_lattice_kind_from_name("rhombo", &k, &err), KILN_EINVAL, "unknown lattice 'rhombo'");
  CHECK_ERR(kiln_lattice_make(KILN_LAT_FCC, -1, 0, 0, &lat, &err), KILN_EINVAL, "positive");
  CHECK_ERR(kiln_lattice_make(KILN_LAT_HEX, 3, 0, 0, &lat, &err), KILN_EINVAL, "c must be");
  CHECK_OK(kiln_lattice_make(KILN_LAT_HEX, 3, 0, 5, &lat, &err));
  double q[3];
  CHECK_ERR(kiln_lattice_point(&lat, "X", q, &err), KILN_EINVAL, "valid: G M K A L H");
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_crystal_fcc(&a, "Cu", 3.6, &err));
  a->pbc[2] = 0;
  CHECK_ERR(kiln_lattice_detect(a, 0, &lat, &err), KILN_EINVAL, "periodic in all 3");
  a->pbc[2] = 1;
  CHECK_ERR(kiln_lattice_detect(a, 2.0, &lat, &err), KILN_EINVAL, "quarter");
  kiln_atoms_free(a);
}

int main(void) {
  RUN(test_detect_diamond);
  RUN(test_detect_others);
  RUN(test_detect_rattled_rotated);
  RUN(test_detect_large);
  RUN(test_points_vs_ase);
  RUN(test_segments_vs_bruteforce);
  RUN(test_segment_incommensurate_ends);
  RUN(test_sphere_and_shells);
  RUN(test_spherical_average);
  RUN(test_errors);
  return check_summary();
}
