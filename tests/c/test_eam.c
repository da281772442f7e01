/* tests/c/test_eam.c: eam and eam/alloy beyond the generic reference driver:
 * file parse errors (file, line, field), densities beyond the F(rho) table
 * (analytic, matching LAMMPS 29Sep2021's linear extrapolation), the spline on
 * polynomial tables, cutoff continuity and NVE energy conservation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "kiln/atoms.h"
#include "kiln/opts.h"
#include "kiln/potential.h"

#define POTDIR "/usr/share/lammps/potentials"

/* a temporary file with the given text; returns its path (static buffer per slot) */
static const char *tmpfile_with(int slot, const char *text) {
  static char path[8][64];
  snprintf(path[slot], sizeof path[slot], "/tmp/kiln_test_eam_XXXXXX");
  int fd = mkstemp(path[slot]);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  return path[slot];
}

/* the first nlines lines of a file, with field `field` (1-based) of line
 * `bad_line` replaced by `bad` (bad_line 0: no replacement) */
static char *file_head(const char *path, int nlines, int bad_line, int field, const char *bad) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  size_t cap = 1 << 20, len = 0;
  char *out = malloc(cap), line[4096];
  out[0] = '\0';
  for (int l = 1; l <= nlines && fgets(line, sizeof line, f); l++) {
    if (l == bad_line) {
      char copy[4096], *save = NULL;
      strcpy(copy, line);
      int k = 1;
      line[0] = '\0';
      for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), k++) {
        strcat(line, k == field ? bad : t);
        strcat(line, " ");
      }
      strcat(line, "\n");
    }
    size_t n = strlen(line);
    if (len + n + 1 > cap) break;
    memcpy(out + len, line, n + 1);
    len += n;
  }
  fclose(f);
  return out;
}

static kiln_status make_pot(kiln_pot **p, const char *style, const char *file, const char *elem,
                            kiln_error *err) {
  kiln_opts *o = NULL;
  kiln_opts_new(&o, err);
  if (file) kiln_opts_add_str(o, "file", file, err);
  if (elem && strchr(elem, ' ')) {
    kiln_opts_add_str(o, "elements", elem, err); /* "Ni Cu" */
  } else if (elem) {
    kiln_opts *t = NULL;
    kiln_opts_add_table(o, "elements", &t, err);
    kiln_opts_add_str(t, NULL, elem, err);
  }
  kiln_status st = kiln_pot_new(p, style, o, err);
  kiln_opts_free(o);
  return st;
}

TEST(test_parse_errors) {
  kiln_error err = {0};
  kiln_pot *p = NULL;
  /* truncated funcfl: header + 47 lines of F(rho) (5 per line) */
  char *txt = file_head(POTDIR "/Cu_u3.eam", 50, 0, 0, NULL);
  const char *f1 = tmpfile_with(0, txt);
  free(txt);
  CHECK_ERR(make_pot(&p, "eam", f1, NULL, &err), KILN_EFORMAT, f1);
  CHECK(strstr(err.msg, "truncated") && strstr(err.msg, "line 50") &&
        strstr(err.msg, "235 of 500 values of F(rho)"));
  CHECK(p == NULL);
  /* non-numeric value in the rho(r) block: line 10, field 3 */
  txt = file_head(POTDIR "/Cu_u3.eam", 1000, 10, 3, "1.0x");
  const char *f2 = tmpfile_with(1, txt);
  free(txt);
  CHECK_ERR(make_pot(&p, "eam", f2, NULL, &err), KILN_EFORMAT, "line 10, field 3: '1.0x' is not a number");
  CHECK(strstr(err.msg, f2) != NULL);
  /* header with a missing field */
  txt = file_head(POTDIR "/Cu_u3.eam", 1000, 3, 5, "");
  const char *f3 = tmpfile_with(2, txt);
  free(txt);
  CHECK_ERR(make_pot(&p, "eam", f3, NULL, &err), KILN_EFORMAT, "line 3: expected 5 fields");
  /* setfl: element count disagreeing with the names */
  txt = file_head(POTDIR "/CuNi.eam.alloy", 100000, 4, 1, "3");
  const char *f4 = tmpfile_with(3, txt);
  free(txt);
  CHECK_ERR(make_pot(&p, "eam/alloy", f4, NULL, &err), KILN_EFORMAT, "line 4: 3 elements announced but 2 names");
  /* setfl truncated inside the last pair function */
  txt = file_head(POTDIR "/CuNi.eam.alloy", 700, 0, 0, NULL);
  const char *f5 = tmpfile_with(4, txt);
  free(txt);
  CHECK_ERR(make_pot(&p, "eam/alloy", f5, NULL, &err), KILN_EFORMAT, "truncated");
  CHECK(strstr(err.msg, "r*phi(r) of pair Cu-Cu") != NULL);
  /* a file in other units */
  txt = file_head(POTDIR "/Cu_u3.eam", 100000, 0, 0, NULL);
  char *t2 = malloc(strlen(txt) + 64);
  sprintf(t2, "UNITS: real converted\n%s", strchr(txt, '\n') + 1);
  const char *f6 = tmpfile_with(7, t2);
  free(txt);
  free(t2);
  CHECK_ERR(make_pot(&p, "eam", f6, NULL, &err), KILN_ENOTSUP, "'real' units");
  unlink(f6);
  /* missing element, missing file, conflicting and unknown options */
  CHECK_ERR(make_pot(&p, "eam/alloy", POTDIR "/CuNi.eam.alloy", "Zr", &err), KILN_EINVAL,
            "element 'Zr' is not in file");
  CHECK(strstr(err.msg, "Ni Cu") != NULL);
  CHECK_ERR(make_pot(&p, "eam", "/nonexistent/Xx.eam", NULL, &err), KILN_EIO, "/nonexistent/Xx.eam");
  CHECK_ERR(make_pot(&p, "eam", NULL, NULL, &err), KILN_EINVAL, "missing option 'file'");
  kiln_opts *o = NULL;
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "file", POTDIR "/Cu_u3.eam", &err);
  kiln_opts_add_num(o, "cutof", 5.0, &err);
  CHECK_ERR(kiln_pot_new(&p, "eam", o, &err), KILN_EINVAL, "cutof");
  kiln_opts_free(o);
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "file", POTDIR "/Cu_u3.eam", &err);
  kiln_opts *fl = NULL;
  kiln_opts_add_table(o, "files", &fl, &err);
  kiln_opts_add_str(fl, NULL, POTDIR "/Ni_u3.eam", &err);
  CHECK_ERR(kiln_pot_new(&p, "eam", o, &err), KILN_EINVAL, "either file= or files=");
  kiln_opts_free(o);
  for (int k = 0; k < 5; k++) {
    const char *f = k == 0 ? f1 : k == 1 ? f2 : k == 2 ? f3 : k == 3 ? f4 : f5;
    if (f) unlink(f);
  }
}

/* atoms far apart in a non-periodic box: dimers along x at the given distances */
static kiln_atoms *dimers(const double *d, int nd, const char *sym) {
  kiln_error err;
  kiln_atoms *a = NULL;
  kiln_atoms_new(&a, 0, &err);
  for (int k = 0; k < nd; k++) {
    double x0[3] = {30.0 * k, 0.0, 0.0}, x1[3] = {30.0 * k + d[k], 0.0, 0.0};
    kiln_atoms_append(a, sym, x0, &err);
    kiln_atoms_append(a, sym, x1, &err);
  }
  return a;
}

/* F(rho) = -0.5 rho + 0.8 rho^2 - 0.3 rho^3 sampled at rho = k*drho */
static double fpoly(double r) { return -0.5 * r + 0.8 * r * r - 0.3 * r * r * r; }
static double dfpoly(double r) { return -0.5 + 1.6 * r - 0.9 * r * r; }

/* setfl: nrho=12, drho=0.1 (rhomax 1.1), rho(r) = 2 - 0.2 r (nr=30, dr=0.3),
 * phi = 0, cutoff 7.5. Beyond rhomax LAMMPS extends F linearly with the slope of
 * its spline at the table end, (F[n]-F[n-1])/drho. */
TEST(test_beyond_table) {
  kiln_error err = {0};
  char text[8192], *s = text;
  s += sprintf(s, "synthetic\nkiln test\n\n1 Cu\n12 0.1 30 0.3 7.5\n29 63.546 3.615 fcc\n");
  for (int k = 0; k < 12; k++) s += sprintf(s, "%.17g%s", fpoly(0.1 * k), k % 5 == 4 ? "\n" : " ");
  s += sprintf(s, "\n");
  for (int k = 0; k < 30; k++) s += sprintf(s, "%.17g\n", 2.0 - 0.2 * (0.3 * k));
  for (int k = 0; k < 30; k++) s += sprintf(s, "0\n");
  const char *path = tmpfile_with(5, text);
  kiln_pot *p = NULL;
  CHECK_OK(make_pot(&p, "eam/alloy", path, NULL, &err));
  if (!p) return;
  /* rho per atom = 2 - 0.2 d: 0.6 (inside, interior intervals: the spline of a
   * cubic is exact there), 1.1 - 1e-9 / 1.1 + 1e-9 (continuity at rhomax), 1.5 */
  double d[4] = {7.0, 4.5 + 5e-9, 4.5 - 5e-9, 2.5};
  kiln_atoms *a = dimers(d, 4, "Cu");
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  double slope = (fpoly(1.1) - fpoly(1.0)) / 0.1;
  double e_exp[4], f_exp[4];
  for (int k = 0; k < 4; k++) {
    double rho = 2.0 - 0.2 * d[k];
    if (rho <= 1.0) {
      e_exp[k] = 2 * fpoly(rho);
      f_exp[k] = 2 * dfpoly(rho) * 0.2; /* force on the second atom, +x */
    } else {
      e_exp[k] = 2 * (fpoly(1.1) + slope * (rho - 1.1));
      f_exp[k] = 2 * slope * 0.2;
    }
  }
  double etot = 0;
  for (int k = 0; k < 4; k++) etot += e_exp[k];
  CHECK_CLOSE(r.energy, etot, 1e-12, 0);
  CHECK_CLOSE(r.eatom[0] + r.eatom[1], e_exp[0], 1e-12, 0);
  CHECK_CLOSE(r.eatom[6] + r.eatom[7], e_exp[3], 1e-12, 0);
  CHECK_CLOSE(a->f[1][0], f_exp[0], 1e-10, 0);
  CHECK_CLOSE(a->f[7][0], f_exp[3], 1e-12, 0);
  CHECK_CLOSE(a->f[6][0], -f_exp[3], 1e-12, 0);
  /* energy continuous across rhomax (the spline's end slope is the same) */
  double e1 = r.eatom[2] + r.eatom[3], e2 = r.eatom[4] + r.eatom[5];
  CHECK(fabs(e2 - e1) < 1e-8);
  CHECK_CLOSE(e2, e_exp[2], 1e-12, 0);
  kiln_atoms_free(a);
  kiln_pot_free(p);
  unlink(path);
}

/* funcfl: LAMMPS resamples onto nrho-1 points (the table ends at (nrho-2)*drho)
 * but applies the linear term only above rhomax = (nrho-1)*drho; in between F is
 * the table end value and F' the end slope. Same synthetic functions as above. */
TEST(test_beyond_table_funcfl) {
  kiln_error err = {0};
  char text[8192], *s = text;
  s += sprintf(s, "synthetic funcfl\n29 63.546 3.615 FCC\n12 0.1 30 0.3 7.5\n");
  for (int k = 0; k < 12; k++) s += sprintf(s, "%.17g\n", fpoly(0.1 * k));
  for (int k = 0; k < 30; k++) s += sprintf(s, "0.0\n");
  for (int k = 0; k < 30; k++) s += sprintf(s, "%.17g\n", 2.0 - 0.2 * (0.3 * k));
  const char *path = tmpfile_with(6, text);
  kiln_pot *p = NULL;
  CHECK_OK(make_pot(&p, "eam", path, NULL, &err));
  if (!p) return;
  double d[3] = {7.0, 4.75, 2.5}; /* rho = 0.6, 1.05 (gap), 1.5 (beyond) */
  kiln_atoms *a = dimers(d, 3, "Cu");
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  double slope = (fpoly(1.0) - fpoly(0.9)) / 0.1;
  CHECK_CLOSE(r.eatom[0] + r.eatom[1], 2 * fpoly(0.6), 1e-12, 0);
  CHECK_CLOSE(a->f[1][0], 2 * dfpoly(0.6) * 0.2, 1e-10, 0);
  CHECK_CLOSE(r.eatom[2] + r.eatom[3], 2 * fpoly(1.0), 1e-12, 0);
  CHECK_CLOSE(a->f[3][0], 2 * slope * 0.2, 1e-12, 0);
  CHECK_CLOSE(r.eatom[4] + r.eatom[5], 2 * (fpoly(1.0) + slope * (1.5 - 1.1)), 1e-12, 0);
  CHECK_CLOSE(a->f[5][0], 2 * slope * 0.2, 1e-12, 0);
  kiln_atoms_free(a);
  kiln_pot_free(p);
  unlink(path);
}

/* species mapping: by element name (setfl), by atomic number (funcfl), elements= */
TEST(test_species) {
  kiln_error err = {0};
  kiln_pot *p = NULL;
  double d[1] = {2.5};
  kiln_atoms *cu = dimers(d, 1, "Cu"), *ni = dimers(d, 1, "Ni"), *mix = dimers(d, 1, "Cu");
  kiln_atoms_set_symbol(mix, 1, "Ni", &err);
  kiln_pot_result r;
  /* setfl restricted to Cu: Ni atoms are refused, a "Ni Cu" string allows both */
  CHECK_OK(make_pot(&p, "eam/alloy", POTDIR "/CuNi.eam.alloy", "Cu", &err));
  CHECK_OK(kiln_pot_compute_once(p, cu, KILN_EVAL_ENERGY, &r, &err));
  double ecu = r.energy;
  CHECK_ERR(kiln_pot_compute_once(p, ni, KILN_EVAL_ENERGY, &r, &err), KILN_EINVAL, "'Ni'");
  kiln_pot_free(p);
  CHECK_OK(make_pot(&p, "eam/alloy", POTDIR "/CuNi.eam.alloy", "Ni Cu", &err));
  CHECK_OK(kiln_pot_compute_once(p, cu, KILN_EVAL_ENERGY, &r, &err));
  CHECK(r.energy == ecu);
  CHECK_OK(kiln_pot_compute_once(p, mix, KILN_EVAL_ENERGY, &r, &err));
  CHECK(r.energy < 0 && r.energy != ecu);
  kiln_pot_free(p);
  /* funcfl: the element comes from the atomic number (29 -> Cu); elements= renames */
  CHECK_OK(make_pot(&p, "eam", POTDIR "/Cu_u3.eam", NULL, &err));
  CHECK_ERR(kiln_pot_compute_once(p, ni, KILN_EVAL_ENERGY, &r, &err), KILN_EINVAL, "'Ni'");
  CHECK_OK(kiln_pot_compute_once(p, cu, KILN_EVAL_ENERGY, &r, &err));
  double ecu3 = r.energy;
  kiln_pot_free(p);
  CHECK_OK(make_pot(&p, "eam", POTDIR "/Cu_u3.eam", "Ni", &err));
  CHECK_OK(kiln_pot_compute_once(p, ni, KILN_EVAL_ENERGY, &r, &err));
  CHECK(r.energy == ecu3);
  kiln_pot_free(p);
  /* two files for one element */
  kiln_opts *o = NULL;
  kiln_opts_new(&o, &err);
  kiln_opts *fl = NULL;
  kiln_opts_add_table(o, "files", &fl, &err);
  kiln_opts_add_str(fl, NULL, POTDIR "/Cu_u3.eam", &err);
  kiln_opts_add_str(fl, NULL, POTDIR "/Cu_u6.eam", &err);
  CHECK_ERR(kiln_pot_new(&p, "eam", o, &err), KILN_EINVAL, "both for element Cu");
  kiln_opts *el = NULL;
  kiln_opts_add_table(o, "elements", &el, &err);
  kiln_opts_add_str(el, NULL, "Cu", &err);
  CHECK_ERR(kiln_pot_new(&p, "eam", o, &err), KILN_EINVAL, "1 element names given for 2 file(s)");
  kiln_opts_free(o);
  kiln_atoms_free(cu);
  kiln_atoms_free(ni);
  kiln_atoms_free(mix);
}

/* A Cu dimer scanned through the cutoff: energy and force continuous, and the
 * force equals -dE/dr by central differences just inside. */
TEST(test_cutoff_continuity) {
  kiln_error err = {0};
  kiln_pot *p = NULL;
  CHECK_OK(make_pot(&p, "eam", POTDIR "/Cu_u3.eam", NULL, &err));
  if (!p) return;
  double rc = kiln_pot_cutoff(p);
  CHECK_CLOSE(rc, 4.95, 1e-12, 0);
  double d[4] = {rc - 1e-7, rc + 1e-7, rc - 0.05 - 1e-5, rc - 0.05 + 1e-5};
  kiln_atoms *a = dimers(d, 4, "Cu");
  kiln_pot_result r;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r, &err));
  double e_in = r.eatom[0] + r.eatom[1], e_out = r.eatom[2] + r.eatom[3];
  CHECK(e_out == 0.0); /* F(0) = 0 for this file, no pair term */
  /* Cu_u3's functions reach zero at the cutoff with a finite slope: the energy is
   * continuous (E(rc - h) = -f h), the force jumps by ~0.02 eV/Å, as in LAMMPS */
  CHECK(fabs(e_in - e_out) < 1e-8);
  CHECK_CLOSE(e_in, a->f[1][0] * 1e-7, 1e-3, 0);
  double fd = -((r.eatom[6] + r.eatom[7]) - (r.eatom[4] + r.eatom[5])) / 2e-5;
  double fmid = 0.5 * (a->f[5][0] + a->f[7][0]);
  CHECK_CLOSE(fmid, fd, 1e-6, 1e-9);
  kiln_atoms_free(a);
  kiln_pot_free(p);
}

/* NVE velocity Verlet on a hot, rattled 3x3x3 Cu crystal (pairs cross the
 * cutoff all the time): the total energy fluctuation is small and halves
 * with dt by ~4x (second order). */
static double nve_fluct(kiln_pot *p, double dt, int nsteps) {
  kiln_error err;
  kiln_atoms *a = NULL;
  kiln_atoms_new(&a, 0, &err);
  const double A = 3.615, b[4][3] = {{0, 0, 0}, {.5, .5, 0}, {.5, 0, .5}, {0, .5, .5}};
  unsigned s = 12345;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 3; k++)
        for (int q = 0; q < 4; q++) {
          double x[3] = {(i + b[q][0]) * A, (j + b[q][1]) * A, (k + b[q][2]) * A};
          kiln_atoms_append(a, "Cu", x, &err);
        }
  double cell[3][3] = {{3 * A, 0, 0}, {0, 3 * A, 0}, {0, 0, 3 * A}};
  memcpy(a->cell, cell, sizeof cell);
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  for (size_t i = 0; i < a->n; i++)
    for (int c = 0; c < 3; c++) {
      s = s * 1103515245u + 12345u;
      a->v[i][c] = 0.01 * (((s >> 8) & 0xffff) / 65535.0 - 0.5); /* Å/fs, ~600 K */
    }
  kiln_atoms_zero_momentum(a);
  kiln_pot_result r;
  kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY | KILN_EVAL_FORCES, &r, &err);
  const double mvv2e = 103.642696562;
  double e0 = 0, emin = 1e300, emax = -1e300;
  for (int step = 0; step <= nsteps; step++) {
    double ek = 0;
    for (size_t i = 0; i < a->n; i++)
      for (int c = 0; c < 3; c++) ek += 0.5 * a->mass[i] * a->v[i][c] * a->v[i][c] * mvv2e;
    double et = ek + r.energy;
    if (step == 0) e0 = et;
    if (et < emin) emin = et;
    if (et > emax) emax = et;
    if (step == nsteps) break;
    for (size_t i = 0; i < a->n; i++)
      for (int c = 0; c < 3; c++) {
        a->v[i][c] += 0.5 * dt * a->f[i][c] / (a->mass[i] * mvv2e);
        a->x[i][c] += dt * a->v[i][c];
      }
    kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY | KILN_EVAL_FORCES, &r, &err);
    for (size_t i = 0; i < a->n; i++)
      for (int c = 0; c < 3; c++) a->v[i][c] += 0.5 * dt * a->f[i][c] / (a->mass[i] * mvv2e);
  }
  (void)e0;
  kiln_atoms_free(a);
  return emax - emin;
}

TEST(test_nve) {
  kiln_error err = {0};
  kiln_pot *p = NULL;
  CHECK_OK(make_pot(&p, "eam", POTDIR "/Cu_u3.eam", NULL, &err));
  if (!p) return;
  double f1 = nve_fluct(p, 2.0, 200), f2 = nve_fluct(p, 1.0, 400);
  printf("  nve: energy fluctuation %.3g eV (dt 2 fs), %.3g eV (dt 1 fs), ratio %.2f\n", f1, f2,
         f1 / f2);
  CHECK(f1 < 0.02); /* 108 atoms at ~600 K: < 2e-4 eV/atom, 5e-5 relative */
  CHECK(f1 / f2 > 3.0 && f1 / f2 < 5.0);
  kiln_pot_free(p);
}

int main(void) {
  RUN(test_parse_errors);
  RUN(test_beyond_table);
  RUN(test_beyond_table_funcfl);
  RUN(test_species);
  RUN(test_cutoff_continuity);
  RUN(test_nve);
  return check_summary();
}
