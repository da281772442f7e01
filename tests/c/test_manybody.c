/* tests/c/test_manybody.c: the many-body styles sw and tersoff beyond the generic
 * reference driver: potential-file parse errors, element mapping, perfect-crystal
 * energies against the published values (and LAMMPS), cutoff shortening by tol,
 * continuity of energy and forces across the cutoffs (scans with finite differences). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "kiln/kiln.h"

#define POTDIR "/usr/share/lammps/potentials/"

static kiln_error err;

/* write text to a fresh temporary file; path receives its name */
static void write_tmp(char path[64], const char *text) {
  strcpy(path, "/tmp/kiln_mb_XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0) { path[0] = '\0'; return; }
  FILE *fp = fdopen(fd, "w");
  fputs(text, fp);
  fclose(fp);
}

/* new potential with file= and an optional elements list ("Ga N", or NULL) */
static kiln_status make_pot(kiln_pot **p, const char *style, const char *file, const char *elements) {
  kiln_opts *o = NULL;
  kiln_status st = kiln_opts_new(&o, &err);
  if (st) return st;
  kiln_opts_add_str(o, "file", file, &err);
  if (elements) {
    kiln_opts *el = NULL;
    kiln_opts_add_table(o, "elements", &el, &err);
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s", elements);
    for (char *w = strtok(tmp, " "); w; w = strtok(NULL, " ")) {
      char *eq = strchr(w, '=');
      if (eq) { *eq = '\0'; kiln_opts_add_str(el, w, eq + 1, &err); }
      else kiln_opts_add_str(el, NULL, w, &err);
    }
  }
  st = kiln_pot_new(p, style, o, &err);
  kiln_opts_free(o);
  return st;
}

static kiln_atoms *diamond(const char *sym, double a, int nrep) {
  kiln_atoms *c = NULL, *s = NULL;
  if (kiln_crystal_diamond(&c, sym, a, &err)) return NULL;
  if (kiln_atoms_supercell(&s, c, nrep, nrep, nrep, &err)) s = NULL;
  kiln_atoms_free(c);
  return s;
}

static double energy(kiln_pot *p, kiln_atoms *a) {
  kiln_pot_result r;
  if (kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err) != KILN_OK) {
    fprintf(stderr, "  compute failed: %s\n", err.msg);
    return NAN;
  }
  return r.energy;
}

static const char *SW_SI =
    "# test file\n"
    "Si Si Si 2.1683  2.0951  1.80  21.0  1.20  -0.333333333333\n"
    "         7.049556277  0.6022245584  4.0  0.0 0.0\n";

TEST(test_parse_errors) {
  char path[64];
  kiln_pot *p = NULL;
  /* a field that is not a number: file, line and field named */
  write_tmp(path, "# c\n\nSi Si Si 2.1683 2.0951 1.80 21.0 abc -0.333333333333\n"
                  "  7.049556277 0.6022245584 4.0 0.0 0.0\n");
  CHECK_ERR(make_pot(&p, "sw", path, NULL), KILN_EFORMAT, ":3: field 'gamma': expected a number (got 'abc')");
  CHECK(strstr(err.msg, path) != NULL);
  unlink(path);
  /* the second line of an entry */
  write_tmp(path, "Si Si Si 2.1683 2.0951 1.80 21.0 1.2 -0.333333333333\n"
                  "  7.049556277 0.6022245584 4.0x 0.0 0.0\n");
  CHECK_ERR(make_pot(&p, "sw", path, NULL), KILN_EFORMAT, ":2: field 'p': expected a number (got '4.0x')");
  unlink(path);
  /* too many fields in one entry */
  write_tmp(path, "Si Si Si 2.1683 2.0951 1.80 21.0 1.2 -0.333333333333\n"
                  "  7.049556277 0.6022245584 4.0 0.0 0.0 9.9\n");
  CHECK_ERR(make_pot(&p, "sw", path, NULL), KILN_EFORMAT, ":1: entry has 15 fields, expected 14");
  unlink(path);
  /* file ends inside an entry */
  write_tmp(path, "Si Si Si 2.1683 2.0951 1.80 21.0 1.2 -0.333333333333\n# x\n7.05 0.60\n");
  CHECK_ERR(make_pot(&p, "sw", path, NULL), KILN_EFORMAT, ":1: incomplete entry at end of file: 11 fields");
  unlink(path);
  /* parameter range (LAMMPS's checks) */
  write_tmp(path, "Si Si Si 2.1683 -2.0951 1.80 21.0 1.2 -0.333333333333 7.05 0.60 4.0 0.0 0.0\n");
  CHECK_ERR(make_pot(&p, "sw", path, NULL), KILN_EFORMAT, ":1: field 'sigma': must be >= 0 (got -2.0951)");
  unlink(path);
  write_tmp(path, "Si Si Si 2.0 1.0 1.3258 4.8381 2.0417 0.0 22.956 0.33675 1.3258 95.373 3.0 0.2 3.2394 3264.7\n");
  CHECK_ERR(make_pot(&p, "tersoff", path, NULL), KILN_EFORMAT, ":1: field 'm': must be 1 or 3 (got 2)");
  unlink(path);
  write_tmp(path, "\n\nSi Si Si 3.0 1.0 1.3258 4.8381 2.0417 0.0 22.956 0.33675 1.3258 95.373 0.2 3.0 3.2394 3264.7\n");
  CHECK_ERR(make_pot(&p, "tersoff", path, NULL), KILN_EFORMAT, ":3: field 'D': must not exceed R (got 3)");
  unlink(path);
  write_tmp(path, "Si Si Si 3.0 1.0 1.3258 4.8381 2.0417 0.0 22.956 0.33675 1.3258 95.373 3.0 0.2 3.2394\n");
  CHECK_ERR(make_pot(&p, "tersoff", path, NULL), KILN_EFORMAT, "16 fields, expected 17");
  unlink(path);
  /* duplicate entries */
  char text[1024];
  snprintf(text, sizeof text, "%s%s", SW_SI, SW_SI + strlen("# test file\n"));
  write_tmp(path, text);
  CHECK_ERR(make_pot(&p, "sw", path, NULL), KILN_EFORMAT, ":4: duplicate entry for Si Si Si (first at line 2)");
  unlink(path);
  /* other units than metal */
  write_tmp(path, "# DATE: 2020 UNITS: real\nSi Si Si 2.1683 2.0951 1.80 21.0 1.2 -0.33 7.05 0.60 4.0 0.0 0.0\n");
  CHECK_ERR(make_pot(&p, "sw", path, NULL), KILN_ENOTSUP, "'real' units");
  unlink(path);
  /* missing file, missing option, unknown option, unknown element */
  CHECK_ERR(make_pot(&p, "sw", "/nonexistent/Si.sw", NULL), KILN_EIO, "cannot open file '/nonexistent/Si.sw'");
  CHECK_ERR(kiln_pot_new(&p, "tersoff", NULL, &err), KILN_EINVAL, "missing option 'file'");
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  kiln_opts_add_str(o, "file", POTDIR "Si.sw", &err);
  kiln_opts_add_num(o, "cutof", 3.0, &err);
  CHECK_ERR(kiln_pot_new(&p, "sw", o, &err), KILN_EINVAL, "unknown option 'cutof'");
  kiln_opts_free(o);
  CHECK_ERR(make_pot(&p, "sw", POTDIR "GaN.sw", "Ga C"), KILN_EINVAL, "element 'C' (option 'elements') has no entries");
}

TEST(test_missing_triplet) {
  /* GaN.sw without its "Ga N Ga" entry */
  char path[64];
  FILE *in = fopen(POTDIR "GaN.sw", "r");
  CHECK(in != NULL);
  if (!in) return;
  char text[8192] = "", line[512];
  while (fgets(line, sizeof line, in))
    if (strncmp(line, "Ga N  Ga", 8) != 0) strcat(text, line);
  fclose(in);
  write_tmp(path, text);
  kiln_pot *p = NULL;
  CHECK_ERR(make_pot(&p, "sw", path, "Ga N"), KILN_EFORMAT, "has no entry for the triplet Ga N Ga");
  /* default elements: fine while only Ga is present, an error once N is */
  CHECK_OK(make_pot(&p, "sw", path, NULL));
  kiln_atoms *a = diamond("Ga", 4.5, 1);
  CHECK(isfinite(energy(p, a)));
  kiln_atoms_set_symbol(a, 1, "N", &err);
  kiln_pot_result r;
  CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err), KILN_EFORMAT,
            "has no entry for the triplet Ga N Ga");
  kiln_pot_free(p);
  kiln_atoms_free(a);
  unlink(path);
}

TEST(test_elements) {
  kiln_pot *p = NULL;
  kiln_pot_result r;
  /* restricting: GaN.sw used for Ga only; N atoms are then an error */
  CHECK_OK(make_pot(&p, "sw", POTDIR "GaN.sw", "Ga"));
  kiln_atoms *a = diamond("Ga", 4.5, 1);
  CHECK(isfinite(energy(p, a)));
  kiln_atoms_set_symbol(a, 0, "N", &err);
  CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err), KILN_EINVAL, "no parameters for element 'N'");
  kiln_pot_free(p);
  kiln_atoms_free(a);
  /* unknown species: Si.sw has no C */
  CHECK_OK(make_pot(&p, "sw", POTDIR "Si.sw", NULL));
  a = diamond("Si", 5.431, 1);
  kiln_atoms_set_symbol(a, 3, "C", &err);
  CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err), KILN_EINVAL, "no parameters for element 'C'");
  kiln_pot_free(p);
  kiln_atoms_free(a);
  /* mapping: SiCGe.tersoff names its silicon variants Si(B), Si(C), Si(D); Si(B) is
   * the parameter set of Si.tersoff, so the energies agree exactly */
  kiln_pot *q = NULL;
  CHECK_OK(make_pot(&p, "tersoff", POTDIR "SiCGe.tersoff", "Si=Si(B)"));
  CHECK_OK(make_pot(&q, "tersoff", POTDIR "Si.tersoff", NULL));
  a = diamond("Si", 5.40, 2);
  for (size_t i = 0; i < a->n; i++) a->x[i][0] += 0.05 * sin(3.0 * (double)i);
  double e1 = energy(p, a), e2 = energy(q, a);
  CHECK_CLOSE(e1, e2, 1e-14, 0);
  kiln_pot_free(p);
  kiln_pot_free(q);
  kiln_atoms_free(a);
  /* elements as one string */
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  kiln_opts_add_str(o, "file", POTDIR "SiC.tersoff", &err);
  kiln_opts_add_str(o, "elements", "Si C", &err);
  CHECK_OK(kiln_pot_new(&p, "tersoff", o, &err));
  kiln_opts_free(o);
  if (p) CHECK_CLOSE(kiln_pot_cutoff(p), 3.0, 1e-15, 0);  /* Si-Si R + D = 2.85 + 0.15 */
  kiln_pot_free(p);
}

/* Perfect diamond: published values (SW 1985: -4.3366 eV/atom at a = 5.431 Å;
 * Tersoff 1988 Si(B): -4.63 eV/atom at a = 5.432 Å) and LAMMPS 29Sep2021 to 1e-12. */
TEST(test_diamond_energy) {
  kiln_pot *p = NULL;
  CHECK_OK(make_pot(&p, "sw", POTDIR "Si.sw", NULL));
  kiln_atoms *a = diamond("Si", 5.431, 2);
  double e = energy(p, a) / (double)a->n;
  CHECK_CLOSE(e, -4.3366, 0, 5e-5);
  CHECK_CLOSE(e, -4.3365999950397667, 1e-12, 0);  /* LAMMPS */
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  double fmx = 0;
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) fmx = fmx > fabs(a->f[i][c]) ? fmx : fabs(a->f[i][c]);
  CHECK(fmx < 1e-10);
  CHECK_CLOSE(r.virial[0][0], r.virial[1][1], 1e-12, 1e-10);
  CHECK(fabs(r.virial[0][1]) < 1e-10);
  kiln_pot_free(p);
  kiln_atoms_free(a);

  CHECK_OK(make_pot(&p, "tersoff", POTDIR "Si.tersoff", NULL));
  a = diamond("Si", 5.432, 2);
  e = energy(p, a) / (double)a->n;
  CHECK_CLOSE(e, -4.63, 0, 5e-3);
  CHECK_CLOSE(e, -4.6304110608152191, 1e-12, 0);  /* LAMMPS */
  kiln_pot_free(p);
  kiln_atoms_free(a);
}

/* tol > 0 shortens the pair cutoff as LAMMPS does: a sigma + sigma/log(tol) (gamma >= 1) */
TEST(test_sw_tol) {
  char path[64];
  write_tmp(path, "Si Si Si 2.1683 2.0951 1.80 21.0 1.20 -0.333333333333 7.049556277 0.6022245584 4.0 0.0 1e-3\n");
  kiln_pot *p = NULL;
  CHECK_OK(make_pot(&p, "sw", path, NULL));
  if (p) CHECK_CLOSE(kiln_pot_cutoff(p), 2.0951 * 1.80 + 2.0951 / log(1e-3), 1e-14, 0);
  kiln_pot_free(p);
  unlink(path);
}

/* Move atom `m` along dir from s0 to s1 (step h): the energy must change by no more
 * than the force allows and the force must match central differences everywhere,
 * including across the switching region and the cutoff. */
static void scan(kiln_pot *p, kiln_atoms *a, size_t m, const double dir[3], double s0, double s1,
                 double h, double fd_tol) {
  const double x0[3] = {a->x[m][0], a->x[m][1], a->x[m][2]};
  double eprev = 0, fprev = 0, maxjump = 0, maxfd = 0;
  for (int step = 0; s0 + step * h <= s1 + 1e-12; step++) {
    double s = s0 + step * h, es[2];
    for (int q = 0; q < 2; q++) {
      double t = s + (q ? -1e-6 : 1e-6);
      for (int c = 0; c < 3; c++) a->x[m][c] = x0[c] + t * dir[c];
      es[q] = energy(p, a);
    }
    for (int c = 0; c < 3; c++) a->x[m][c] = x0[c] + s * dir[c];
    kiln_pot_result r;
    if (kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err)) { CHECK(0); break; }
    double fdir = a->f[m][0] * dir[0] + a->f[m][1] * dir[1] + a->f[m][2] * dir[2];
    double fd = -(es[0] - es[1]) / 2e-6;
    if (fabs(fd - fdir) > maxfd) maxfd = fabs(fd - fdir);
    if (step > 0) {
      /* |dE| <= h max|F| along the step (plus a curvature margin) */
      double bound = h * fmax(fabs(fdir), fabs(fprev)) * 1.5 + 1e-9;
      double jump = fabs(r.energy - eprev) / bound;
      if (jump > maxjump) maxjump = jump;
    }
    eprev = r.energy;
    fprev = fdir;
  }
  for (int c = 0; c < 3; c++) a->x[m][c] = x0[c];
  CHECK(maxjump <= 1.0);
  CHECK(maxfd < fd_tol);
  if (maxjump > 1.0 || maxfd >= fd_tol)
    fprintf(stderr, "  scan: max jump ratio %.3g, max |F - FD| %.3g\n", maxjump, maxfd);
}

static kiln_atoms *cluster(const char *sym, int n, const double (*x)[3]) {
  kiln_atoms *a = NULL;
  if (kiln_atoms_new(&a, 0, &err)) return NULL;
  for (int i = 0; i < n; i++) kiln_atoms_append(a, sym, x[i], &err);
  return a;
}

TEST(test_continuity) {
  const double ex[3] = {1, 0, 0};
  const double d2[3] = {0.6, 0.8, 0};
  kiln_pot *p = NULL;
  /* SW dimer through the pair cutoff a*sigma = 3.77118 Å, and a trimer whose third
   * atom leaves the three-body range */
  CHECK_OK(make_pot(&p, "sw", POTDIR "Si.sw", NULL));
  const double xd[2][3] = {{0, 0, 0}, {3.5, 0, 0}};
  kiln_atoms *a = cluster("Si", 2, xd);
  scan(p, a, 1, ex, 0.0, 0.45, 0.005, 1e-6);
  a->x[1][0] = 2.0951 * 1.80 - 1e-3;
  CHECK(fabs(energy(p, a)) < 1e-300);  /* exp(-sigma/1e-3) underflows */
  a->x[1][0] = 2.0951 * 1.80 + 1e-9;
  CHECK(energy(p, a) == 0.0);
  kiln_atoms_free(a);
  const double xt[3][3] = {{0, 0, 0}, {2.35, 0, 0}, {1.2, 2.0, 0}};
  a = cluster("Si", 3, xt);
  scan(p, a, 2, d2, 0.0, 1.6, 0.01, 1e-6);
  kiln_atoms_free(a);
  kiln_pot_free(p);

  /* Tersoff dimer through R-D = 2.8 and R+D = 3.2 Å, and a trimer whose third atom
   * crosses the switching region of the i-k bond */
  CHECK_OK(make_pot(&p, "tersoff", POTDIR "Si.tersoff", NULL));
  const double xd2[2][3] = {{0, 0, 0}, {2.6, 0, 0}};
  a = cluster("Si", 2, xd2);
  scan(p, a, 1, ex, 0.0013, 0.8, 0.004, 1e-6);  /* grid off the kinks of F' at R +- D */
  a->x[1][0] = 3.2 - 1e-5;
  CHECK(fabs(energy(p, a)) < 1e-8);
  a->x[1][0] = 3.2 + 1e-9;
  CHECK(energy(p, a) == 0.0);
  kiln_atoms_free(a);
  const double xt2[3][3] = {{0, 0, 0}, {2.35, 0, 0}, {1.3, 2.2, 0}};
  a = cluster("Si", 3, xt2);
  scan(p, a, 2, d2, 0.0013, 0.9, 0.005, 1e-6);
  kiln_atoms_free(a);
  kiln_pot_free(p);

  /* two-element Tersoff (SiC): C-Si bonds switch off between 2.21 and 2.51 Å */
  CHECK_OK(make_pot(&p, "tersoff", POTDIR "SiC.tersoff", NULL));
  const double xt3[3][3] = {{0, 0, 0}, {1.85, 0, 0}, {1.0, 1.6, 0}};
  a = cluster("Si", 3, xt3);
  kiln_atoms_set_symbol(a, 0, "C", &err);
  scan(p, a, 2, d2, 0.0013, 0.9, 0.005, 1e-6);
  kiln_atoms_free(a);
  kiln_pot_free(p);
}

/* LAMMPS's per-atom split for SW: two-body halves to i and j, three-body thirds to
 * i, j, k. Isolated trimer j-i-k with j-k beyond the cutoff: only i is a center. */
TEST(test_sw_peratom) {
  kiln_pot *p = NULL;
  CHECK_OK(make_pot(&p, "sw", POTDIR "Si.sw", NULL));
  const double xt[3][3] = {{0, 0, 0}, {2.4, 0, 0}, {-0.9, 2.2, 0.3}};
  kiln_atoms *a = cluster("Si", 3, xt);
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  double e3 = r.energy, ea[3];
  for (int i = 0; i < 3; i++) ea[i] = r.eatom[i];
  /* dimers i-j and i-k alone */
  a->x[2][0] = 50.0;
  double eij = energy(p, a);
  a->x[2][0] = xt[2][0];
  a->x[1][0] = -50.0;
  double eik = energy(p, a);
  double ethree = e3 - eij - eik;
  CHECK(fabs(ethree) > 1e-3);  /* a real three-body term */
  CHECK_CLOSE(ea[0], 0.5 * eij + 0.5 * eik + ethree / 3.0, 1e-12, 1e-14);
  CHECK_CLOSE(ea[1], 0.5 * eij + ethree / 3.0, 1e-12, 1e-14);
  CHECK_CLOSE(ea[2], 0.5 * eik + ethree / 3.0, 1e-12, 1e-14);
  kiln_atoms_free(a);
  kiln_pot_free(p);
}

int main(void) {
  RUN(test_parse_errors);
  RUN(test_missing_triplet);
  RUN(test_elements);
  RUN(test_diamond_energy);
  RUN(test_sw_tol);
  RUN(test_continuity);
  RUN(test_sw_peratom);
  return check_summary();
}
