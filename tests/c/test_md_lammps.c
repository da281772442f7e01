/* tests/c/test_md_lammps.c: end-to-end NVE velocity Verlet against LAMMPS.
 *
 * For every tests/ref/md-*.mdref (written by tests/ref/gen_lammps_md.py) it reads the
 * starting structure and velocities with kiln's own kiln_lammps_data_read (metal units:
 * velocities A/ps -> A/fs), builds the potential from the `style` and `option` lines,
 * runs `nsteps` steps of "verlet" at `dt` fs with a 1 A skin and compares with LAMMPS
 * (fix nve, same skin) after the last step: positions (modulo lattice vectors) within
 * POS_TOL A, velocities within VEL_TOL times the largest reference speed component,
 * potential and kinetic energy within E_TOL relative (all 1e-10). The generator gives LAMMPS masses
 * scaled by KILN_MVV2E / (LAMMPS metal mvv2e) so both integrate the same equations
 * (the two unit constants differ by 6.3e-8): what is left is round-off, which ten
 * steps of chaotic dynamics amplify only mildly. Prints "PASS md-lammps/<name>". */
#include <glob.h>
#include <omp.h>
#include <stdlib.h>
#include "check.h"
#include "kiln/kiln.h"

#define MAXLINE 4096
/* measured: <= 1e-14 for sw, tersoff, eam and lj; with LAMMPS's own mvv2e (generator
 * option --raw-masses) up to 6e-9 A, 5e-8 (v), 9e-10 (pe), 6e-8 (ke): caught */
#define POS_TOL 1e-10 /* A, absolute */
#define VEL_TOL 1e-10 /* relative to max |v_ref| component */
#define E_TOL 1e-10   /* relative */

typedef struct {
  char style[64], structure[512];
  char (*opt)[MAXLINE];
  size_t nopt;
  double dt, pe, ke;
  long nsteps;
  size_t n, cap;
  int64_t *id;
  double (*x)[3], (*v)[3];
} mdref;

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  char *e = s + strlen(s);
  while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
  return s;
}

static void mdref_free(mdref *r) {
  free(r->opt);
  free(r->id);
  free(r->x);
  free(r->v);
}

static int read_mdref(const char *path, mdref *r) {
  memset(r, 0, sizeof *r);
  FILE *fp = fopen(path, "r");
  if (!fp) { fprintf(stderr, "  %s: cannot open\n", path); return -1; }
  char line[MAXLINE];
  int bad = 0, lno = 0, have = 0;
  while (!bad && fgets(line, sizeof line, fp)) {
    lno++;
    char *h = strchr(line, '#');
    if (h) *h = 0;
    char *s = trim(line), key[64];
    int nk = 0;
    if (!*s || sscanf(s, "%63s%n", key, &nk) != 1) continue;
    char *rest = trim(s + nk);
    if (!strcmp(key, "style")) snprintf(r->style, sizeof r->style, "%s", rest);
    else if (!strcmp(key, "structure")) snprintf(r->structure, sizeof r->structure, "%s", rest);
    else if (!strcmp(key, "option")) {
      r->opt = realloc(r->opt, (r->nopt + 1) * sizeof *r->opt);
      snprintf(r->opt[r->nopt++], MAXLINE, "%s", rest);
    } else if (!strcmp(key, "dt")) { bad = sscanf(rest, "%lf", &r->dt) != 1; have |= 1; }
    else if (!strcmp(key, "nsteps")) { bad = sscanf(rest, "%ld", &r->nsteps) != 1; have |= 2; }
    else if (!strcmp(key, "pe")) { bad = sscanf(rest, "%lf", &r->pe) != 1; have |= 4; }
    else if (!strcmp(key, "ke")) { bad = sscanf(rest, "%lf", &r->ke) != 1; have |= 8; }
    else if (!strcmp(key, "atom")) {
      if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->id = realloc(r->id, r->cap * sizeof *r->id);
        r->x = realloc(r->x, r->cap * sizeof *r->x);
        r->v = realloc(r->v, r->cap * sizeof *r->v);
      }
      long long id;
      double *x = r->x[r->n], *v = r->v[r->n];
      bad = sscanf(rest, "%lld %lf %lf %lf %lf %lf %lf", &id, x, x + 1, x + 2, v, v + 1, v + 2) != 7;
      r->id[r->n++] = id;
    } else {
      fprintf(stderr, "  %s:%d: unknown record '%s'\n", path, lno, key);
      bad = 1;
    }
    if (bad) fprintf(stderr, "  %s:%d: malformed record '%s'\n", path, lno, key);
  }
  fclose(fp);
  if (!bad && (have != 15 || !r->style[0] || !r->structure[0] || !r->n)) {
    fprintf(stderr, "  %s: needs style, structure, dt, nsteps, pe, ke and atom lines\n", path);
    bad = 1;
  }
  return bad ? -1 : 0;
}

static const char *g_path;

TEST(test_one_md) {
  kiln_error err;
  mdref r;
  CHECK(read_mdref(g_path, &r) == 0);
  if (check_cur_fail_) { mdref_free(&r); return; }
  kiln_atoms *a = NULL;
  kiln_opts *o = NULL, *mo = NULL;
  kiln_pot *p = NULL;
  kiln_md *md = NULL;
  CHECK_OK(kiln_lammps_data_read(r.structure, NULL, &a, &err));
  CHECK_OK(kiln_opts_new(&o, &err));
  for (size_t k = 0; k < r.nopt && o; k++) {
    char *eq = strchr(r.opt[k], '=');
    CHECK(eq != NULL);
    if (!eq) break;
    *eq = 0;
    CHECK_OK(kiln_opts_set_path(o, trim(r.opt[k]), trim(eq + 1), &err));
  }
  if (!check_cur_fail_) CHECK_OK(kiln_pot_new(&p, r.style, o, &err));
  CHECK_OK(kiln_opts_new(&mo, &err));
  if (mo) CHECK_OK(kiln_opts_add_num(mo, "dt", r.dt, &err));
  if (!check_cur_fail_) CHECK_OK(kiln_md_new(&md, "verlet", mo, &err));
  kiln_md_run_opts ro = {.skin = 1.0};
  if (!check_cur_fail_) CHECK(a->n == r.n);
  if (!check_cur_fail_) CHECK_OK(kiln_md_run(md, a, p, r.nsteps, &ro, &err));
  if (!check_cur_fail_) {
    kiln_thermo th;
    kiln_md_get_thermo(md, &th);
    double dpe = fabs(th.epot - r.pe) / fabs(r.pe), dke = fabs(th.ekin - r.ke) / fabs(r.ke);
    CHECK_CLOSE(th.epot, r.pe, E_TOL, 0);
    CHECK_CLOSE(th.ekin, r.ke, E_TOL, 0);
    /* inverse of the lower-triangular cell (rows a, b, c) for differences modulo the lattice */
    const double (*L)[3] = (const double (*)[3])a->cell;
    double vmax = 0, dx = 0, dv = 0;
    for (size_t k = 0; k < r.n; k++)
      for (int c = 0; c < 3; c++) vmax = fmax(vmax, fabs(r.v[k][c]));
    for (size_t k = 0; k < r.n; k++) {
      size_t i = 0;
      while (i < a->n && a->id[i] != r.id[k]) i++;
      CHECK(i < a->n);
      if (i == a->n) continue;
      double d[3];
      for (int c = 0; c < 3; c++) d[c] = a->x[i][c] - r.x[k][c];
      /* d = s0 a + s1 b + s2 c; solve the triangular system from z down */
      double s2 = d[2] / L[2][2];
      double s1 = (d[1] - s2 * L[2][1]) / L[1][1];
      double s0 = (d[0] - s2 * L[2][0] - s1 * L[1][0]) / L[0][0];
      s0 = round(s0); s1 = round(s1); s2 = round(s2);
      for (int c = 0; c < 3; c++) {
        d[c] -= s0 * L[0][c] + s1 * L[1][c] + s2 * L[2][c];
        dx = fmax(dx, fabs(d[c]));
        dv = fmax(dv, fabs(a->v[i][c] - r.v[k][c]) / vmax);
      }
    }
    CHECK(dx <= POS_TOL);
    CHECK(dv <= VEL_TOL);
    printf("  %s: %zu atoms, %ld steps of %g fs: max |dx| %.2g A, max |dv|/max|v| %.2g, "
           "pe rel %.2g, ke rel %.2g\n", g_path, a->n, r.nsteps, r.dt, dx, dv, dpe, dke);
  }
  kiln_md_free(md);
  kiln_pot_free(p);
  kiln_opts_free(o);
  kiln_opts_free(mo);
  kiln_atoms_free(a);
  mdref_free(&r);
}

int main(int argc, char **argv) {
  glob_t g;
  const char *pattern = argc > 1 ? argv[1] : "tests/ref/md-*.mdref";
  if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
    printf("FAIL md-lammps: no files match %s (run from the repository root)\n", pattern);
    return 1;
  }
  omp_set_num_threads(1);
  for (size_t k = 0; k < g.gl_pathc; k++) {
    g_path = g.gl_pathv[k];
    const char *base = strrchr(g_path, '/');
    char name[512];
    snprintf(name, sizeof name, "md-lammps/%s", base ? base + 1 : g_path);
    char *dot = strrchr(name, '.');
    if (dot && !strcmp(dot, ".mdref")) *dot = 0;
    check_run_(name, test_one_md);
  }
  globfree(&g);
  return check_summary();
}
