/* tests/c/test_ref.c: the generic reference-data driver for potential styles.
 *
 * For every tests/ref/<name>.ref file (format: /work/brief.md, written by
 * tests/ref/gen_lammps_ref.py from LAMMPS runs) it
 *  1. builds the potential from the `style` and `option` lines, reads the LAMMPS data
 *     file of `structure`, and compares energy, forces, virial and the per-atom energy
 *     sum with the reference (relative `tolerance`; forces also pass at 1e-10 eV/A);
 *  2. checks that half, full and O(N^2) neighbor lists agree, and 1 vs 2 threads
 *     (1e-12 relative), that sum F = 0 and that the per-atom energies add up to E;
 *  3. checks F = -dE/dx by central differences (delta 1e-4 and 5e-5 A, error ~ delta^2,
 *     below `fd_tolerance`, default 1e-6 relative) and the virial against central
 *     differences of E under homogeneous strain: W_ab = -dE/d(eps_ab) with
 *     x -> (1+eps) x and cell -> (1+eps) cell.
 * Optional records: `pbc 1 1 0` (default periodic), `fd_tolerance x`, `nofd` (skip 3).
 * Prints "PASS ref/<file>" or "FAIL ref/<file>" per file. */
#include <ctype.h>
#include <glob.h>
#include <omp.h>
#include <stdlib.h>
#include "check.h"
#include "kiln/kiln.h"

#define MAXLINE 4096

typedef struct {
  char style[64];
  char structure[512];
  char (*opt)[MAXLINE];
  size_t nopt;
  int pbc[3];
  double tol, fdtol;
  int nofd;
  int have_energy, have_virial, have_eatom;
  double energy, virial[6], eatom_sum;
  size_t natoms, nforce;
  int64_t *fid;
  double (*f)[3];
} refdata;

static void ref_free(refdata *r) {
  free(r->opt);
  free(r->fid);
  free(r->f);
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  char *e = s + strlen(s);
  while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
  return s;
}

/* returns 0 or prints why not */
static int read_ref(const char *path, refdata *r) {
  memset(r, 0, sizeof *r);
  r->pbc[0] = r->pbc[1] = r->pbc[2] = 1;
  r->tol = 1e-10;
  r->fdtol = 1e-6;
  FILE *fp = fopen(path, "r");
  if (!fp) {
    fprintf(stderr, "  %s: cannot open\n", path);
    return -1;
  }
  char line[MAXLINE];
  int bad = 0, lno = 0;
  size_t fcap = 0;
  while (fgets(line, sizeof line, fp)) {
    lno++;
    char *h = strchr(line, '#');
    if (h) *h = 0;
    char *s = trim(line);
    if (!*s) continue;
    char key[64];
    int nk = 0;
    if (sscanf(s, "%63s%n", key, &nk) != 1) continue;
    char *rest = trim(s + nk);
    if (!strcmp(key, "style")) {
      snprintf(r->style, sizeof r->style, "%s", rest);
    } else if (!strcmp(key, "option")) {
      r->opt = realloc(r->opt, (r->nopt + 1) * sizeof *r->opt);
      snprintf(r->opt[r->nopt++], MAXLINE, "%s", rest);
    } else if (!strcmp(key, "structure")) {
      snprintf(r->structure, sizeof r->structure, "%s", rest);
    } else if (!strcmp(key, "pbc")) {
      bad |= sscanf(rest, "%d %d %d", &r->pbc[0], &r->pbc[1], &r->pbc[2]) != 3;
    } else if (!strcmp(key, "tolerance")) {
      bad |= sscanf(rest, "%lf", &r->tol) != 1;
    } else if (!strcmp(key, "fd_tolerance")) {
      bad |= sscanf(rest, "%lf", &r->fdtol) != 1;
    } else if (!strcmp(key, "nofd")) {
      r->nofd = 1;
    } else if (!strcmp(key, "energy")) {
      bad |= sscanf(rest, "%lf", &r->energy) != 1;
      r->have_energy = 1;
    } else if (!strcmp(key, "virial")) {
      double *v = r->virial;
      bad |= sscanf(rest, "%lf %lf %lf %lf %lf %lf", v, v + 1, v + 2, v + 3, v + 4, v + 5) != 6;
      r->have_virial = 1;
    } else if (!strcmp(key, "eatom_sum")) {
      bad |= sscanf(rest, "%lf", &r->eatom_sum) != 1;
      r->have_eatom = 1;
    } else if (!strcmp(key, "natoms")) {
      bad |= sscanf(rest, "%zu", &r->natoms) != 1;
    } else if (!strcmp(key, "force")) {
      if (r->nforce == fcap) {
        fcap = fcap ? 2 * fcap : 64;
        r->fid = realloc(r->fid, fcap * sizeof *r->fid);
        r->f = realloc(r->f, fcap * sizeof *r->f);
      }
      long long id;
      double *f = r->f[r->nforce];
      bad |= sscanf(rest, "%lld %lf %lf %lf", &id, f, f + 1, f + 2) != 4;
      r->fid[r->nforce++] = id;
    } else {
      fprintf(stderr, "  %s:%d: unknown record '%s'\n", path, lno, key);
      bad = 1;
    }
    if (bad) {
      fprintf(stderr, "  %s:%d: malformed record '%s'\n", path, lno, key);
      break;
    }
  }
  fclose(fp);
  if (!bad && (!r->style[0] || !r->structure[0])) {
    fprintf(stderr, "  %s: needs 'style' and 'structure'\n", path);
    bad = 1;
  }
  if (!bad && r->nforce && r->nforce != r->natoms) {
    fprintf(stderr, "  %s: natoms %zu but %zu force lines\n", path, r->natoms, r->nforce);
    bad = 1;
  }
  return bad ? -1 : 0;
}

/* A small LAMMPS data-file reader (atom_style atomic; Masses with "# Sym" comments;
 * optional xy xz yz; optional image flags). Positions are taken relative to the box
 * origin (xlo, ylo, zlo). */
static kiln_atoms *read_lammps_data(const char *path, const int pbc[3]) {
  FILE *fp = fopen(path, "r");
  if (!fp) {
    fprintf(stderr, "  %s: cannot open\n", path);
    return NULL;
  }
  char line[MAXLINE];
  size_t n = 0;
  int ntypes = 0;
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0}, tilt[3] = {0, 0, 0};
  char sym[KILN_MAX_SPECIES + 1][KILN_SYMBOL_LEN] = {{0}};
  double mass[KILN_MAX_SPECIES + 1] = {0};
  kiln_atoms *a = NULL;
  kiln_error err;
  int section = 0; /* 0 header, 1 masses, 2 atoms, 3 other */
  size_t nread = 0;
  int bad = 0;
  int32_t tmap[KILN_MAX_SPECIES + 1];
  fgets(line, sizeof line, fp); /* first line is a comment */
  while (!bad && fgets(line, sizeof line, fp)) {
    char comment[MAXLINE] = "";
    char *h = strchr(line, '#');
    if (h) {
      snprintf(comment, sizeof comment, "%s", trim(h + 1));
      *h = 0;
    }
    char *s = trim(line);
    if (!*s) continue;
    if (!strcmp(s, "Masses")) { section = 1; continue; }
    if (!strcmp(s, "Atoms")) {
      section = 2;
      if (!a) {
        if (ntypes < 1 || ntypes > KILN_MAX_SPECIES) { bad = 1; break; }
        if (kiln_atoms_new(&a, n, &err)) { bad = 1; break; }
        double cell[3][3] = {{hi[0] - lo[0], 0, 0},
                             {tilt[0], hi[1] - lo[1], 0},
                             {tilt[1], tilt[2], hi[2] - lo[2]}};
        memcpy(a->cell, cell, sizeof cell);
        for (int d = 0; d < 3; d++) a->pbc[d] = pbc[d];
        for (int t = 1; t <= ntypes; t++) {
          if (!sym[t][0] || kiln_atoms_species_index(a, sym[t], &tmap[t], &err)) {
            fprintf(stderr, "  %s: type %d needs a '# Symbol' comment in Masses\n", path, t);
            bad = 1;
          }
        }
      }
      continue;
    }
    if (isupper((unsigned char)s[0])) { section = 3; continue; } /* Velocities, ... */
    if (section == 0) {
      double v1, v2, v3;
      char w1[32], w2[32], w3[32];
      if (strstr(s, "atom types")) sscanf(s, "%d", &ntypes);
      else if (strstr(s, "atoms")) sscanf(s, "%zu", &n);
      else if (sscanf(s, "%lf %lf %lf %31s %31s %31s", &v1, &v2, &v3, w1, w2, w3) == 6 &&
               !strcmp(w1, "xy")) {
        tilt[0] = v1; tilt[1] = v2; tilt[2] = v3;
      } else if (sscanf(s, "%lf %lf %31s %31s", &v1, &v2, w1, w2) == 4) {
        int d = w1[0] - 'x';
        if (d >= 0 && d < 3 && !strcmp(w1 + 1, "lo")) { lo[d] = v1; hi[d] = v2; }
      }
    } else if (section == 1) {
      int t;
      double m;
      if (sscanf(s, "%d %lf", &t, &m) == 2 && t >= 1 && t <= KILN_MAX_SPECIES) {
        mass[t] = m;
        sscanf(comment, "%7s", sym[t]);
      }
    } else if (section == 2) {
      long long id;
      int t, im[3] = {0, 0, 0};
      double x[3];
      int k = sscanf(s, "%lld %d %lf %lf %lf %d %d %d", &id, &t, x, x + 1, x + 2, im, im + 1,
                     im + 2);
      if (k < 5 || nread >= n || t < 1 || t > ntypes) { bad = 1; break; }
      for (int d = 0; d < 3; d++) x[d] -= lo[d];
      for (int c = 0; c < 3; c++)
        a->x[nread][c] = x[c] + im[0] * a->cell[0][c] + im[1] * a->cell[1][c] + im[2] * a->cell[2][c];
      a->id[nread] = id;
      a->type[nread] = tmap[t];
      a->mass[nread] = mass[t];
      nread++;
    }
  }
  fclose(fp);
  if (bad || !a || nread != n) {
    fprintf(stderr, "  %s: malformed LAMMPS data file (read %zu of %zu atoms)\n", path, nread, n);
    kiln_atoms_free(a);
    return NULL;
  }
  return a;
}

/* ---- evaluation helpers ---- */

typedef struct {
  double e, w[3][3], esum;
  double (*f)[3];
} evalres;

static int eval(kiln_pot *p, kiln_atoms *a, int kind, int n2, unsigned want, evalres *r) {
  kiln_error err;
  kiln_neigh *nl = NULL;
  if (kiln_neigh_new(&nl, kind, kiln_pot_cutoff(p) > 0 ? kiln_pot_cutoff(p) : 1e-6, 0.5, &err)) {
    fprintf(stderr, "  neighbor list: %s\n", err.msg);
    return -1;
  }
  nl->force_n2 = n2;
  kiln_pot_result res;
  kiln_status st = kiln_pot_compute(p, a, nl, want, &res, &err);
  kiln_neigh_free(nl);
  if (st) {
    fprintf(stderr, "  compute: %s\n", err.msg);
    return -1;
  }
  r->e = res.energy;
  memcpy(r->w, res.virial, sizeof r->w);
  r->esum = 0;
  if (res.eatom)
    for (size_t i = 0; i < a->n; i++) r->esum += res.eatom[i];
  if (r->f) memcpy(r->f, a->f, a->n * sizeof *r->f);
  return 0;
}

static double energy_of(kiln_pot *p, kiln_atoms *a, kiln_neigh *nl) {
  kiln_error err;
  kiln_pot_result res;
  if (kiln_pot_compute(p, a, nl, KILN_EVAL_ENERGY, &res, &err)) {
    fprintf(stderr, "  compute: %s\n", err.msg);
    return NAN;
  }
  return res.energy;
}

static double maxabs3(const double (*f)[3], size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) m = fmax(m, fabs(f[i][c]));
  return m;
}

/* max relative difference of two results, relative to their scales */
static double rel_diff(const evalres *a, const evalres *b, size_t n) {
  double d = fabs(a->e - b->e) / fmax(fabs(b->e), 1e-300);
  double ws = 0, wd = 0;
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) {
      ws = fmax(ws, fabs(b->w[x][y]));
      wd = fmax(wd, fabs(a->w[x][y] - b->w[x][y]));
    }
  d = fmax(d, wd / fmax(ws, 1e-300));
  double fs = maxabs3((const double(*)[3])b->f, n), fd = 0;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) fd = fmax(fd, fabs(a->f[i][c] - b->f[i][c]));
  return fmax(d, fd / fmax(fs, 1e-300));
}

static const char *g_path;

TEST(test_one_ref) {
  kiln_error err;
  refdata r;
  CHECK(read_ref(g_path, &r) == 0);
  if (check_cur_fail_) { ref_free(&r); return; }
  kiln_atoms *a = read_lammps_data(r.structure, r.pbc);
  CHECK(a != NULL);
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  for (size_t k = 0; k < r.nopt && a; k++) {
    char *eq = strchr(r.opt[k], '=');
    CHECK(eq != NULL);
    if (!eq) break;
    *eq = 0;
    CHECK_OK(kiln_opts_set_path(o, trim(r.opt[k]), trim(eq + 1), &err));
  }
  kiln_pot *p = NULL;
  if (a && !check_cur_fail_) CHECK_OK(kiln_pot_new(&p, r.style, o, &err));
  kiln_pot_set_omp_min(p, 0);  /* these structures are small: exercise the threaded paths */
  if (!a || !p || check_cur_fail_) {
    kiln_pot_free(p);
    kiln_opts_free(o);
    kiln_atoms_free(a);
    ref_free(&r);
    return;
  }
  const size_t n = a->n;
  const kiln_pot_style *ps = kiln_pot_get_style(p);
  const int kind = kiln_pot_neigh_kind(p);
  const int composite = (ps->flags & KILN_POT_COMPOSITE) != 0;
  CHECK(r.natoms == 0 || r.natoms == n);
  int nthr0 = omp_get_max_threads();

  /* 1. reference comparison (1 thread, the style's list kind, binned) */
  omp_set_num_threads(1);
  evalres e0 = {0}, e1 = {0};
  e0.f = calloc(n, sizeof *e0.f);
  e1.f = calloc(n, sizeof *e1.f);
  CHECK(eval(p, a, kind, 0, KILN_EVAL_ALL, &e0) == 0);
  double de = 0, dw = 0, df = 0, dea = 0;
  if (r.have_energy) {
    de = fabs(e0.e - r.energy) / fmax(fabs(r.energy), 1e-300);
    CHECK_CLOSE(e0.e, r.energy, r.tol, 0);
  }
  if (r.have_eatom) {
    dea = fabs(e0.esum - r.eatom_sum) / fmax(fabs(r.eatom_sum), 1e-300);
    CHECK_CLOSE(e0.esum, r.eatom_sum, r.tol, 0);
  }
  if (r.have_virial) {
    const int ix[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
    double ws = 0;
    for (int k = 0; k < 6; k++) ws = fmax(ws, fabs(r.virial[k]));
    for (int k = 0; k < 6; k++) {
      double got = e0.w[ix[k][0]][ix[k][1]];
      dw = fmax(dw, fabs(got - r.virial[k]) / fmax(ws, 1e-300));
      CHECK_CLOSE(got, r.virial[k], r.tol, r.tol * ws);
    }
  }
  for (size_t k = 0; k < r.nforce; k++) {
    size_t i = 0;
    while (i < n && a->id[i] != r.fid[k]) i++;
    CHECK(i < n);
    if (i == n) continue;
    for (int c = 0; c < 3; c++) {
      double got = e0.f[i][c], want = r.f[k][c];
      double d = fabs(got - want);
      if (d > 1e-10) df = fmax(df, d / fmax(fabs(want), 1e-300));
      CHECK_CLOSE(got, want, r.tol, 1e-10);
    }
  }
  printf("  %s: %zu atoms, E = %.12g eV; max rel. error vs reference: E %.2g, F %.2g "
         "(beyond 1e-10 eV/A), W %.2g, eatom_sum %.2g\n",
         g_path, n, e0.e, de, df, dw, dea);

  /* 2. consistency: per-atom sum, sum F = 0, list kinds, threads */
  CHECK_CLOSE(e0.esum, e0.e, 1e-12, 1e-12);
  double fsum[3] = {0, 0, 0}, fabs_sum = 0;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) {
      fsum[c] += e0.f[i][c];
      fabs_sum += fabs(e0.f[i][c]);
    }
  for (int c = 0; c < 3; c++) CHECK(fabs(fsum[c]) <= 1e-12 * fabs_sum + 1e-13);
  double dlist = 0;
  if (!composite) {
    int kinds[3][2] = {{KILN_NEIGH_FULL, 0}, {kind, 1}, {KILN_NEIGH_HALF, 0}};
    for (int v = 0; v < 3; v++) {
      if (kinds[v][0] == KILN_NEIGH_HALF && kind == KILN_NEIGH_FULL) continue;
      CHECK(eval(p, a, kinds[v][0], kinds[v][1], KILN_EVAL_ALL, &e1) == 0);
      double d = rel_diff(&e1, &e0, n);
      dlist = fmax(dlist, d);
      CHECK(d < 1e-12);
    }
  }
  omp_set_num_threads(2);
  CHECK(eval(p, a, kind, 0, KILN_EVAL_ALL, &e1) == 0);
  double dthr = rel_diff(&e1, &e0, n);
  CHECK(dthr < 1e-12);
  omp_set_num_threads(1);
  printf("  %s: half/full/N^2 lists agree to %.2g, 1 vs 2 threads to %.2g, |sum F| %.2g\n",
         g_path, dlist, dthr, fmax(fabs(fsum[0]), fmax(fabs(fsum[1]), fabs(fsum[2]))));

  /* 3. finite differences */
  if (!r.nofd) {
    kiln_neigh *nl = NULL;
    if (!composite)
      CHECK_OK(kiln_neigh_new(&nl, kind, kiln_pot_cutoff(p), 0.5, &err));
    const double deltas[2] = {1e-4, 5e-5};
    double frms = 0;
    for (size_t i = 0; i < n; i++)
      for (int c = 0; c < 3; c++) frms += e0.f[i][c] * e0.f[i][c];
    frms = sqrt(frms / (3.0 * (double)n));
    double worst = 0, ratio_min = 1e300, ratio_max = 0, worst_rich = 0;
    const size_t picks[4] = {0, n / 3, (2 * n) / 3, n - 1};
    for (int q = 0; q < 4; q++) {
      size_t i = picks[q];
      for (int c = 0; c < 3; c++) {
        double fd[2];
        for (int k = 0; k < 2; k++) {
          double x0 = a->x[i][c];
          a->x[i][c] = x0 + deltas[k];
          double ep = energy_of(p, a, nl);
          a->x[i][c] = x0 - deltas[k];
          double em = energy_of(p, a, nl);
          a->x[i][c] = x0;
          fd[k] = -(ep - em) / (2 * deltas[k]);
        }
        double scale = fmax(fabs(e0.f[i][c]), frms);
        double err0 = fabs(fd[0] - e0.f[i][c]), err1 = fabs(fd[1] - e0.f[i][c]);
        double rich = fabs((4 * fd[1] - fd[0]) / 3 - e0.f[i][c]);
        worst = fmax(worst, err1 / scale);
        worst_rich = fmax(worst_rich, rich / scale);
        CHECK(err1 <= r.fdtol * scale);
        /* error ~ delta^2 where truncation (not round-off) dominates */
        double noise = 1e-15 * fmax(fabs(e0.e), 1e-3) / deltas[1];
        if (err1 > 20 * noise) {
          double ratio = err0 / err1;
          ratio_min = fmin(ratio_min, ratio);
          ratio_max = fmax(ratio_max, ratio);
          CHECK(ratio > 2.5 && ratio < 6.0);
        }
      }
    }
    /* virial vs strain derivative */
    const double hs[2] = {1e-5, 5e-6};
    double wscale = 0, wworst = 0;
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++) wscale = fmax(wscale, fabs(e0.w[x][y]));
    kiln_atoms *b = NULL;
    for (int x = 0; x < 3; x++)
      for (int y = x; y < 3; y++) {
        double fdw[2];
        for (int k = 0; k < 2; k++) {
          double ev[2];
          for (int sgn = 0; sgn < 2; sgn++) {
            double h = sgn ? -hs[k] : hs[k];
            double eps[3][3] = {{0}};
            if (x == y) eps[x][x] = h;
            else eps[x][y] = eps[y][x] = 0.5 * h;
            CHECK_OK(kiln_atoms_copy(&b, a, &err));
            for (size_t i = 0; i < n; i++)
              for (int u = 0; u < 3; u++)
                for (int v = 0; v < 3; v++) b->x[i][u] += eps[u][v] * a->x[i][v];
            for (int rr = 0; rr < 3; rr++)
              for (int u = 0; u < 3; u++)
                for (int v = 0; v < 3; v++) b->cell[rr][u] += eps[u][v] * a->cell[rr][v];
            ev[sgn] = energy_of(p, b, nl);
            kiln_atoms_free(b);
            b = NULL;
          }
          fdw[k] = -(ev[0] - ev[1]) / (2 * hs[k]);
        }
        double e = fabs(fdw[1] - e0.w[x][y]) / fmax(wscale, 1e-300);
        wworst = fmax(wworst, e);
        CHECK(e <= r.fdtol);
        if (e > r.fdtol)
          fprintf(stderr, "  virial %d%d: analytic %.12g, -dE/deps %.12g (h %g), %.12g (h %g)\n",
                  x, y, e0.w[x][y], fdw[0], hs[0], fdw[1], hs[1]);
      }
    kiln_neigh_free(nl);
    char rs[64] = "round-off dominated";
    if (ratio_max > 0) snprintf(rs, sizeof rs, "in [%.2f, %.2f]", ratio_min, ratio_max);
    printf("  %s: finite differences: F max rel. error %.2g at delta 5e-5 (Richardson %.2g, "
           "error ratio delta 1e-4 / 5e-5 %s), virial vs strain derivative %.2g\n",
           g_path, worst, worst_rich, rs, wworst);
  }
  omp_set_num_threads(nthr0);
  free(e0.f);
  free(e1.f);
  kiln_pot_free(p);
  kiln_opts_free(o);
  kiln_atoms_free(a);
  ref_free(&r);
}

int main(int argc, char **argv) {
  glob_t g;
  const char *pattern = argc > 1 ? argv[1] : "tests/ref/*.ref";
  if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
    printf("FAIL ref: no reference files match %s (run from the repository root)\n", pattern);
    return 1;
  }
  for (size_t k = 0; k < g.gl_pathc; k++) {
    g_path = g.gl_pathv[k];
    const char *base = strrchr(g_path, '/');
    char name[512];
    snprintf(name, sizeof name, "ref/%s", base ? base + 1 : g_path);
    check_run_(name, test_one_ref);
  }
  globfree(&g);
  return check_summary();
}
