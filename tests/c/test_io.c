/* tests/c/test_io.c: structure files and trajectories (src/io).
 * References: files written by ASE 3.22 (tests/data/ase_frames.*, gen_ase_extxyz.py)
 * and LAMMPS 29 Sep 2021 (tests/data/lmp_tri*, gen_lammps_samples.sh); ASE reads
 * kiln's extxyz back (tests/data/check_ase_roundtrip.py) and LAMMPS reads kiln's data
 * file back, when /usr/bin/python3 with ase and /usr/bin/lmp are present (else SKIP).
 * Run from the repository root. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "kiln/kiln.h"

static char tmpdir[256];

/* path inside the temp dir (rotating buffers) */
static const char *tp(const char *name) {
  static char buf[8][512];
  static int k = 0;
  k = (k + 1) % 8;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

static void put_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) { perror(path); return; }
  fputs(text, f);
  fclose(f);
}

static char *get_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  size_t got = fread(s, 1, (size_t)n, f);
  s[got] = 0;
  fclose(f);
  return s;
}


static int count_tmp_leftovers(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls %s | grep -c '\\.tmp\\.' >/dev/null 2>&1", tmpdir);
  return system(cmd) == 0; /* grep -c succeeds when a match exists */
}

static void free_frames(kiln_atoms **f, size_t n) {
  for (size_t i = 0; i < n; i++) kiln_atoms_free(f[i]);
  free(f);
}

/* -------------------------------------------------------------- builders */

/* 5 atoms, triclinic, pbc T F T, every kind of prop and info. */
static kiln_atoms *make_rich(int variant) {
  kiln_error err;
  kiln_atoms *a = NULL;
  if (kiln_atoms_new(&a, 5, &err)) return NULL;
  const char *sym[5] = {"Si", "O", "Si", "Ti", "O"};
  double cell[3][3] = {{5.43, 0.1, -0.2}, {1.0 / 3.0, 4.9, 0.05}, {-0.7, 0.8, 6.1 + variant}};
  memcpy(a->cell, cell, sizeof cell);
  a->pbc[0] = 1; a->pbc[1] = 0; a->pbc[2] = 1;
  for (size_t i = 0; i < 5; i++) {
    kiln_atoms_set_symbol(a, i, sym[i], &err);
    for (int d = 0; d < 3; d++) {
      a->x[i][d] = 0.1 * (double)(i + 1) + d / 7.0 + variant * 1e-3 - (i == 2 ? 11.0 : 0.0);
      a->v[i][d] = 1e-3 * sin((double)(3 * i + d + 1));
      a->f[i][d] = cos((double)(2 * i + d));
    }
  }
  a->x[1][2] = 1e-17;
  a->x[3][0] = -2.5e5;
  a->mass[4] = 17.999; /* an isotope: written as masses */
  double q[5] = {0.5, -1.0, 1.0 / 3.0, 2.0, -1e-300};
  double dip[15], tag[5] = {1, -2, 3, 40000, 0}, fixed[15];
  for (int k = 0; k < 15; k++) { dip[k] = k * 0.125 - 0.3; fixed[k] = (k % 3) == 1; }
  const char *label[5] = {"bulk", "surf", "x-1", "Ti_a", "O"};
  kiln_atoms_prop_set(a, "charges", KILN_VAL_REAL, 1, q, &err);
  kiln_atoms_prop_set(a, "dip", KILN_VAL_REAL, 3, dip, &err);
  kiln_atoms_prop_set(a, "tag", KILN_VAL_INT, 1, tag, &err);
  kiln_atoms_prop_set(a, "fixed", KILN_VAL_BOOL, 3, fixed, &err);
  kiln_atoms_prop_set_str(a, "label", 1, label, &err);
  double e = -3.0 - variant, s[9] = {0.1, 0.02, -0.03, 0.02, 0.2, 0.04, -0.03, 0.04, 0.3};
  double ivec[3] = {1, -2, 3}, ok = 1, bvec[3] = {1, 0, 1}, cnt = 7, dv[3] = {0.1, 0.2, 0.3};
  kiln_atoms_info_set(a, "energy", KILN_VAL_REAL, 1, &e, &err);
  kiln_atoms_info_set(a, "stress", KILN_VAL_REAL, 9, s, &err);
  kiln_atoms_info_set(a, "count", KILN_VAL_INT, 1, &cnt, &err);
  kiln_atoms_info_set(a, "ivec", KILN_VAL_INT, 3, ivec, &err);
  kiln_atoms_info_set(a, "ok", KILN_VAL_BOOL, 1, &ok, &err);
  kiln_atoms_info_set(a, "bvec", KILN_VAL_BOOL, 3, bvec, &err);
  kiln_atoms_info_set(a, "dvec", KILN_VAL_REAL, 3, dv, &err);
  kiln_atoms_info_set_str(a, "name", "a \"quoted\" name with \\ backslash", &err);
  kiln_atoms_info_set_str(a, "config_type", "bulk", &err);
  return a;
}

/* Compare two atoms. flags: 1 velocities, 2 forces, 4 ids, 8 props, 16 info */
static void same_atoms(const kiln_atoms *a, const kiln_atoms *b, double rel, unsigned flags) {
  CHECK(a && b);
  if (!a || !b) return;
  CHECK(a->n == b->n);
  if (a->n != b->n) return;
  for (int i = 0; i < 3; i++) {
    CHECK(a->pbc[i] == b->pbc[i]);
    for (int j = 0; j < 3; j++) CHECK_CLOSE(a->cell[i][j], b->cell[i][j], rel, 0);
  }
  for (size_t i = 0; i < a->n; i++) {
    CHECK(strcmp(kiln_atoms_symbol(a, i), kiln_atoms_symbol(b, i)) == 0);
    CHECK_CLOSE(a->mass[i], b->mass[i], rel, 0);
    for (int d = 0; d < 3; d++) {
      CHECK_CLOSE(a->x[i][d], b->x[i][d], rel, 0);
      if (flags & 1) CHECK_CLOSE(a->v[i][d], b->v[i][d], rel, 0);
      if (flags & 2) CHECK_CLOSE(a->f[i][d], b->f[i][d], rel, 0);
    }
    if (flags & 4) CHECK(a->id[i] == b->id[i]);
  }
  if (flags & 8) {
    CHECK(a->nprops == b->nprops);
    for (size_t k = 0; k < a->nprops; k++) {
      const kiln_prop *p = &a->props[k], *q = kiln_atoms_prop_get(b, p->name);
      CHECK(q != NULL);
      if (!q) { fprintf(stderr, "  missing prop %s\n", p->name); continue; }
      CHECK(p->kind == q->kind && p->ncols == q->ncols);
      if (p->kind != q->kind || p->ncols != q->ncols) continue;
      for (size_t j = 0; j < a->n * p->ncols; j++) {
        if (p->kind == KILN_VAL_STR) CHECK(strcmp(p->str[j], q->str[j]) == 0);
        else CHECK_CLOSE(p->val[j], q->val[j], rel, 0);
      }
    }
  }
  if (flags & 16) {
    CHECK(a->ninfo == b->ninfo);
    for (size_t k = 0; k < a->ninfo; k++) {
      const kiln_info *p = &a->info[k], *q = kiln_atoms_info_get(b, p->name);
      CHECK(q != NULL);
      if (!q) { fprintf(stderr, "  missing info %s\n", p->name); continue; }
      CHECK(p->kind == q->kind);
      if (p->kind != q->kind) { fprintf(stderr, "  info %s kind %d vs %d\n", p->name, p->kind, q->kind); continue; }
      if (p->kind == KILN_VAL_STR) { CHECK(strcmp(p->str, q->str) == 0); continue; }
      CHECK(p->count == q->count);
      for (size_t j = 0; j < p->count && p->count == q->count; j++) CHECK_CLOSE(p->val[j], q->val[j], rel, 0);
    }
  }
}

/* -------------------------------------------------------------- reference files (see check_ase_roundtrip.py) */

static void ref_write(FILE *f, kiln_atoms *const *fr, size_t n, int momenta, int forces_from_f) {
  for (size_t k = 0; k < n; k++) {
    const kiln_atoms *a = fr[k];
    fprintf(f, "frame %zu\ncell", a->n);
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) fprintf(f, " %.17g", a->cell[i][j]);
    fprintf(f, "\npbc %d %d %d\n", a->pbc[0], a->pbc[1], a->pbc[2]);
    for (size_t q = 0; q < a->ninfo; q++) {
      const kiln_info *in = &a->info[q];
      if (in->kind == KILN_VAL_STR) { fprintf(f, "infostr %s %s\n", in->name, in->str); continue; }
      fprintf(f, "info %s", in->name);
      for (size_t j = 0; j < in->count; j++) fprintf(f, " %.17g", in->val[j]);
      fputc('\n', f);
    }
    if (momenta) fprintf(f, "ekin %.17g\n", kiln_atoms_kinetic_energy(a));
    for (size_t i = 0; i < a->n; i++)
      fprintf(f, "atom %zu %s %.17g %.17g %.17g %.17g\n", i, kiln_atoms_symbol(a, i), a->x[i][0], a->x[i][1],
              a->x[i][2], a->mass[i]);
    for (size_t i = 0; i < a->n; i++) {
      fprintf(f, "arr vel %zu %.17g %.17g %.17g\n", i, a->v[i][0], a->v[i][1], a->v[i][2]);
      if (forces_from_f) fprintf(f, "arr forces %zu %.17g %.17g %.17g\n", i, a->f[i][0], a->f[i][1], a->f[i][2]);
    }
    for (size_t q = 0; q < a->nprops; q++) {
      const kiln_prop *p = &a->props[q];
      if (forces_from_f && !strcmp(p->name, "forces")) continue;
      for (size_t i = 0; i < a->n; i++) {
        fprintf(f, "%s %s %zu", p->kind == KILN_VAL_STR ? "arrstr" : "arr", p->name, i);
        for (size_t j = 0; j < p->ncols; j++) {
          if (p->kind == KILN_VAL_STR) fprintf(f, " %s", p->str[i * p->ncols + j]);
          else fprintf(f, " %.17g", p->val[i * p->ncols + j]);
        }
        fputc('\n', f);
      }
    }
  }
}

/* Check kiln frames against a reference written by ASE (ase_frames.ref). */
static void ref_check(const char *ref, kiln_atoms **fr, size_t nfr) {
  FILE *f = fopen(ref, "r");
  CHECK(f != NULL);
  if (!f) return;
  char line[4096];
  long k = -1;
  kiln_atoms *a = NULL;
  int nrec = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    char *w[64];
    int nw = 0;
    char copy[4096];
    strcpy(copy, line);
    for (char *s = strtok(copy, " "); s && nw < 64; s = strtok(NULL, " ")) w[nw++] = s;
    nrec++;
    if (!strcmp(w[0], "frame")) {
      k++;
      CHECK((size_t)k < nfr);
      if ((size_t)k >= nfr) break;
      a = fr[k];
      CHECK(a->n == (size_t)atol(w[1]));
    } else if (!strcmp(w[0], "cell")) {
      for (int j = 0; j < 9; j++) CHECK_CLOSE(a->cell[j / 3][j % 3], atof(w[1 + j]), 1e-15, 0);
    } else if (!strcmp(w[0], "pbc")) {
      for (int d = 0; d < 3; d++) CHECK(a->pbc[d] == atoi(w[1 + d]));
    } else if (!strcmp(w[0], "info")) {
      const kiln_info *in = kiln_atoms_info_get(a, w[1]);
      CHECK(in && in->kind != KILN_VAL_STR && in->count == (size_t)(nw - 2));
      if (!in || in->kind == KILN_VAL_STR || in->count != (size_t)(nw - 2)) { fprintf(stderr, "  info %s\n", w[1]); continue; }
      for (int j = 2; j < nw; j++) CHECK_CLOSE(in->val[j - 2], strtod(w[j], NULL), 1e-15, 0);
    } else if (!strcmp(w[0], "infostr")) {
      const kiln_info *in = kiln_atoms_info_get(a, w[1]);
      const char *want = line + strlen("infostr ") + strlen(w[1]) + 1;
      CHECK(in && in->kind == KILN_VAL_STR && strcmp(in->str, want) == 0);
    } else if (!strcmp(w[0], "ekin")) {
      CHECK_CLOSE(kiln_atoms_kinetic_energy(a), strtod(w[1], NULL), 1e-12, 0);
    } else if (!strcmp(w[0], "atom")) {
      size_t i = (size_t)atol(w[1]);
      CHECK(strcmp(kiln_atoms_symbol(a, i), w[2]) == 0);
      for (int d = 0; d < 3; d++) CHECK_CLOSE(a->x[i][d], strtod(w[3 + d], NULL), 1e-15, 0);
      CHECK_CLOSE(a->mass[i], strtod(w[6], NULL), 1e-15, 0);
    } else if (!strcmp(w[0], "arr")) {
      size_t i = (size_t)atol(w[2]);
      if (!strcmp(w[1], "vel")) { /* from ASE momenta; ASE's fs uses CODATA 2014 */
        for (int d = 0; d < 3; d++) CHECK_CLOSE(a->v[i][d], strtod(w[3 + d], NULL), 1e-7, 0);
        continue;
      }
      const kiln_prop *p = kiln_atoms_prop_get(a, w[1]);
      CHECK(p && p->ncols == (size_t)(nw - 3));
      if (!p || p->ncols != (size_t)(nw - 3)) { fprintf(stderr, "  prop %s\n", w[1]); continue; }
      for (int j = 3; j < nw; j++) CHECK_CLOSE(p->val[i * p->ncols + (size_t)(j - 3)], strtod(w[j], NULL), 1e-15, 0);
    }
  }
  fclose(f);
  CHECK((size_t)(k + 1) == nfr);
  CHECK(nrec > 50);
}

static int have_ase(void) {
  return access("/usr/bin/python3", X_OK) == 0 &&
         system("/usr/bin/python3 -c 'import ase' >/dev/null 2>&1") == 0;
}

/* -------------------------------------------------------------- tests: format names, dispatch */

TEST(test_guess_format) {
  CHECK(!strcmp(kiln_io_guess_format("train.xyz"), "extxyz"));
  CHECK(!strcmp(kiln_io_guess_format("a/b/set.extxyz"), "extxyz"));
  CHECK(!strcmp(kiln_io_guess_format("si.data"), "lammps-data"));
  CHECK(!strcmp(kiln_io_guess_format("x.lmp"), "lammps-data"));
  CHECK(!strcmp(kiln_io_guess_format("dir/data.si"), "lammps-data"));
  CHECK(!strcmp(kiln_io_guess_format("run.lammpstrj"), "lammps-dump"));
  CHECK(!strcmp(kiln_io_guess_format("dump.melt"), "lammps-dump"));
  CHECK(!strcmp(kiln_io_guess_format("x.dump"), "lammps-dump"));
  CHECK(!strcmp(kiln_io_guess_format("relax/POSCAR"), "vasp"));
  CHECK(!strcmp(kiln_io_guess_format("CONTCAR_3"), "vasp"));
  CHECK(!strcmp(kiln_io_guess_format("bto.vasp"), "vasp"));
  CHECK(!strcmp(kiln_io_guess_format("run.h5"), "h5md"));
  CHECK(!strcmp(kiln_io_guess_format("run.H5MD"), "h5md"));
  CHECK(kiln_io_guess_format("notes.txt") == NULL);
  CHECK(kiln_io_guess_format(NULL) == NULL);
}

TEST(test_dispatch_errors) {
  kiln_error err;
  kiln_atoms **fr;
  size_t n;
  CHECK_ERR(kiln_io_read("notes.txt", NULL, NULL, &fr, &n, &err), KILN_EINVAL, "cannot tell the format of 'notes.txt'");
  CHECK_ERR(kiln_io_read("x.xyz", "pdb", NULL, &fr, &n, &err), KILN_EINVAL, "unknown format 'pdb'");
  char missing[600];
  snprintf(missing, sizeof missing, "cannot open '%s'", tp("nope.xyz"));
  CHECK_ERR(kiln_io_read(tp("nope.xyz"), NULL, NULL, &fr, &n, &err), KILN_EIO, missing);
  CHECK(strstr(err.msg, "No such file"));
  snprintf(missing, sizeof missing, "cannot open '%s'", tp("nope.data"));
  CHECK_ERR(kiln_io_read(tp("nope.data"), NULL, NULL, &fr, &n, &err), KILN_EIO, missing);
  snprintf(missing, sizeof missing, "cannot open '%s'", tp("POSCAR_missing"));
  CHECK_ERR(kiln_io_read(tp("POSCAR_missing"), NULL, NULL, &fr, &n, &err), KILN_EIO, missing);
  snprintf(missing, sizeof missing, "cannot open '%s'", tp("nope.dump"));
  CHECK_ERR(kiln_io_read(tp("nope.dump"), NULL, NULL, &fr, &n, &err), KILN_EIO, missing);
  snprintf(missing, sizeof missing, "cannot open '%s'", tp("nope.h5"));
  CHECK_ERR(kiln_io_read(tp("nope.h5"), NULL, NULL, &fr, &n, &err), KILN_EIO, missing);

  kiln_atoms *a = make_rich(0), *two[2] = {a, a};
  CHECK_ERR(kiln_io_write(tp("x.data"), NULL, NULL, two, 2, 0, &err), KILN_EINVAL, "holds one structure");
  CHECK_ERR(kiln_io_write(tp("POSCAR"), NULL, NULL, two, 1, 1, &err), KILN_EINVAL, "cannot be appended");
  CHECK_ERR(kiln_io_write(tp("x.dump"), NULL, NULL, two, 1, 0, &err), KILN_ENOTSUP, "read only");
  /* append as an option */
  kiln_opts *ap;
  kiln_opts_new(&ap, &err);
  kiln_opts_add_bool(ap, "append", 1, &err);
  CHECK_OK(kiln_io_write(tp("ap.xyz"), NULL, NULL, &a, 1, 0, &err));
  CHECK_OK(kiln_io_write(tp("ap.xyz"), NULL, ap, &a, 1, 0, &err));
  CHECK_OK(kiln_io_read(tp("ap.xyz"), NULL, NULL, &fr, &n, &err));
  CHECK(n == 2);
  free_frames(fr, n);
  kiln_opts_free(ap);
  /* unknown option */
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  kiln_opts_add_bool(o, "forcse", 1, &err);
  CHECK_ERR(kiln_io_write(tp("o.xyz"), NULL, o, &a, 1, 0, &err), KILN_EINVAL, "unknown option 'forcse'");
  kiln_opts_free(o);
  /* the format given as an option */
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "format", "extxyz", &err);
  CHECK_OK(kiln_io_write(tp("structure.txt"), NULL, o, &a, 1, 0, &err));
  CHECK_OK(kiln_io_read(tp("structure.txt"), NULL, o, &fr, &n, &err));
  if (n == 1) { same_atoms(a, fr[0], 0, 1 | 8 | 16); free_frames(fr, n); }
  kiln_opts_free(o);
  /* writing into a missing directory: EIO, nothing left behind */
  CHECK_ERR(kiln_io_write(tp("no/such/dir/x.xyz"), NULL, NULL, &a, 1, 0, &err), KILN_EIO, "cannot create");
  kiln_atoms_free(a);
}

TEST(test_atomic_write) {
  kiln_error err;
  kiln_atoms *a = make_rich(0);
  const char *f = tp("atomic.xyz");
  CHECK_OK(kiln_io_write(f, NULL, NULL, &a, 1, 0, &err));
  char *before = get_file(f);
  /* a frame that fails validation half way: the old file must stay untouched */
  kiln_atoms *b = make_rich(1);
  b->type[3] = 17;
  kiln_atoms *two[2] = {a, b};
  CHECK_ERR(kiln_io_write(f, NULL, NULL, two, 2, 0, &err), KILN_EINVAL, "atom 4 has type 17");
  char *after = get_file(f);
  CHECK(before && after && strcmp(before, after) == 0);
  CHECK(!count_tmp_leftovers());
  free(before);
  free(after);
  kiln_atoms_free(a);
  kiln_atoms_free(b);
}

/* -------------------------------------------------------------- extxyz */

TEST(test_xyz_read_ase) {
  kiln_error err;
  kiln_atoms **fr = NULL;
  size_t n = 0;
  CHECK_OK(kiln_io_read("tests/data/ase_frames.xyz", NULL, NULL, &fr, &n, &err));
  CHECK(n == 2);
  if (n != 2) return;
  ref_check("tests/data/ase_frames.ref", fr, n);
  kiln_atoms *a = fr[0];
  /* kinds and placement */
  CHECK(kiln_atoms_info_get(a, "n_steps")->kind == KILN_VAL_INT);
  CHECK(kiln_atoms_info_get(a, "flag")->kind == KILN_VAL_BOOL);
  CHECK(kiln_atoms_info_get(a, "temperature")->kind == KILN_VAL_REAL);
  CHECK(kiln_atoms_prop_get(a, "tag3")->kind == KILN_VAL_INT);
  CHECK(kiln_atoms_prop_get(a, "forces") != NULL);
  CHECK(kiln_atoms_prop_get(a, "momenta") == NULL);     /* became velocities */
  CHECK(a->f[0][0] == 0.0 && a->f[5][2] == 0.0);        /* reference forces are a prop */
  /* the non-symmetric virial pins the Fortran order of 3x3 values */
  const kiln_info *vir = kiln_atoms_info_get(a, "virial");
  CHECK(vir && vir->count == 9 && vir->val[1] == 2.0 && vir->val[3] == 4.0 && vir->val[8] == 9.5);
  /* velocity from momenta: p / m / sqrt(mvv2e), p from the file */
  CHECK_CLOSE(a->v[0][0], 0.27729016 / 28.085 / sqrt(KILN_MVV2E), 1e-15, 0);
  CHECK(fr[1]->mass[0] == 40.0 && fr[1]->pbc[0] == 0);
  free_frames(fr, n);
}

TEST(test_xyz_roundtrip) {
  kiln_error err;
  kiln_atoms *f3[3] = {make_rich(0), make_rich(1), make_rich(2)};
  const char *f = tp("rt.xyz");
  CHECK_OK(kiln_io_write(f, NULL, NULL, f3, 2, 0, &err));
  CHECK_OK(kiln_io_write(f, "extxyz", NULL, f3 + 2, 1, 1, &err)); /* append */
  kiln_atoms **fr = NULL;
  size_t n = 0;
  CHECK_OK(kiln_io_read(f, NULL, NULL, &fr, &n, &err));
  CHECK(n == 3);
  for (size_t k = 0; k < n && n == 3; k++) {
    same_atoms(f3[k], fr[k], 0.0, 1 | 8 | 16); /* exact */
    CHECK(fr[k]->f[0][0] == 0.0);             /* forces not written by default */
  }
  CHECK(kiln_atoms_info_get(fr[0], "energy")->kind == KILN_VAL_REAL); /* -3 written as -3.0 */
  free_frames(fr, n);
  char *text = get_file(f);
  CHECK(text && strstr(text, "Properties=species:S:1:pos:R:3:masses:R:1:vel:R:3:charges:R:1:dip:R:3:tag:I:1:fixed:L:3:label:S:1 "));
  CHECK(text && strstr(text, "name=\"a \\\"quoted\\\" name with \\\\ backslash\""));
  CHECK(text && strstr(text, "pbc=\"T F T\""));
  free(text);

  /* index option: one frame */
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "index", -1, &err);
  CHECK_OK(kiln_io_read(f, NULL, o, &fr, &n, &err));
  CHECK(n == 1);
  if (n == 1) same_atoms(f3[2], fr[0], 0.0, 1 | 8 | 16);
  free_frames(fr, n);
  kiln_opts_free(o);
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "index", 1, &err);
  CHECK_OK(kiln_io_read(f, NULL, o, &fr, &n, &err));
  CHECK(n == 1);
  if (n == 1) same_atoms(f3[1], fr[0], 0.0, 1 | 8 | 16);
  free_frames(fr, n);
  kiln_opts_free(o);
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "index", 3, &err);
  CHECK_ERR(kiln_io_read(f, NULL, o, &fr, &n, &err), KILN_ERANGE, "index 3 is out of range");
  CHECK(strstr(err.msg, "has 3 frames"));
  kiln_opts_free(o);
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "index", -4, &err);
  CHECK_ERR(kiln_io_read(f, NULL, o, &fr, &n, &err), KILN_ERANGE, "index -4 is out of range");
  kiln_opts_free(o);

  /* forces=true writes atoms->f as forces (replacing a prop of that name) */
  double junk[15] = {0};
  kiln_atoms_prop_set(f3[0], "forces", KILN_VAL_REAL, 3, junk, &err);
  kiln_opts_new(&o, &err);
  kiln_opts_add_bool(o, "forces", 1, &err);
  CHECK_OK(kiln_io_write(tp("f.xyz"), NULL, o, f3, 1, 0, &err));
  kiln_opts_free(o);
  CHECK_OK(kiln_io_read(tp("f.xyz"), NULL, NULL, &fr, &n, &err));
  const kiln_prop *pf = n ? kiln_atoms_prop_get(fr[0], "forces") : NULL;
  CHECK(pf && pf->ncols == 3);
  for (size_t i = 0; pf && i < 5; i++)
    for (int d = 0; d < 3; d++) CHECK(pf->val[3 * i + (size_t)d] == f3[0]->f[i][d]);
  free_frames(fr, n);
  for (int k = 0; k < 3; k++) kiln_atoms_free(f3[k]);
}

TEST(test_xyz_ase_reads_kiln) {
  if (!have_ase()) { printf("SKIP test_xyz_ase_reads_kiln (no /usr/bin/python3 with ase)\n"); return; }
  kiln_error err;
  kiln_atoms *fr[2] = {make_rich(0), make_rich(1)};
  /* ASE's calculator symmetrises nothing; keep stress symmetric as physics has it */
  kiln_atoms_info_remove(fr[1], "stress");
  for (int mom = 0; mom < 2; mom++) {
    const char *x = tp(mom ? "ase_m.xyz" : "ase_v.xyz"), *r = tp(mom ? "ase_m.ref" : "ase_v.ref");
    kiln_opts *o;
    kiln_opts_new(&o, &err);
    kiln_opts_add_bool(o, "momenta", mom, &err);
    kiln_opts_add_bool(o, "forces", 1, &err);
    CHECK_OK(kiln_io_write(x, NULL, o, fr, 2, 0, &err));
    kiln_opts_free(o);
    FILE *f = fopen(r, "w");
    ref_write(f, fr, 2, mom, 1);
    fclose(f);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/data/check_ase_roundtrip.py %s %s 1>&2", x, r);
    int rc = system(cmd);
    CHECK(rc == 0);
  }
  kiln_atoms_free(fr[0]);
  kiln_atoms_free(fr[1]);
}

TEST(test_xyz_plain_and_variants) {
  kiln_error err;
  kiln_atoms **fr = NULL;
  size_t n = 0;
  const char *f = tp("plain.xyz");
  put_file(f, "3\n  water molecule, from somewhere  \nO 0 0 0.1 extra junk\nH 0.76 0 -0.5\nH -0.76 0 -0.5\n\n"
              "1\nLattice=\"2 0 0 0 2 0 0 0 2\" Properties=Z:I:1:pos:R:3 stress=\"1 2 3 4 5 6\" msg='single quoted' "
              "bare tags={1,2,3} list=[0.5, 1.5] e = -7 truth=\"T F T\"\n14 1 1 1\n");
  CHECK_OK(kiln_io_read(f, NULL, NULL, &fr, &n, &err));
  CHECK(n == 2);
  if (n != 2) return;
  const kiln_info *c = kiln_atoms_info_get(fr[0], "comment");
  CHECK(c && c->kind == KILN_VAL_STR && !strcmp(c->str, "water molecule, from somewhere"));
  CHECK(fr[0]->n == 3 && !strcmp(kiln_atoms_symbol(fr[0], 1), "H") && fr[0]->x[1][0] == 0.76);
  CHECK(fr[0]->pbc[0] == 0 && fr[0]->cell[0][0] == 0.0);
  kiln_atoms *b = fr[1];
  CHECK(!strcmp(kiln_atoms_symbol(b, 0), "Si") && b->pbc[0] && b->pbc[1] && b->pbc[2] && b->cell[1][1] == 2.0);
  const kiln_info *s = kiln_atoms_info_get(b, "stress"); /* Voigt xx yy zz yz xz xy */
  double want[9] = {1, 6, 5, 6, 2, 4, 5, 4, 3};
  CHECK(s && s->count == 9 && s->kind == KILN_VAL_REAL);
  for (int k = 0; s && k < 9; k++) CHECK(s->val[k] == want[k]);
  CHECK(!strcmp(kiln_atoms_info_get(b, "msg")->str, "single quoted"));
  const kiln_info *t = kiln_atoms_info_get(b, "bare");
  CHECK(t && t->kind == KILN_VAL_BOOL && t->val[0] == 1.0);
  t = kiln_atoms_info_get(b, "tags");
  CHECK(t && t->kind == KILN_VAL_INT && t->count == 3 && t->val[2] == 3.0);
  t = kiln_atoms_info_get(b, "list");
  CHECK(t && t->kind == KILN_VAL_REAL && t->count == 2 && t->val[1] == 1.5);
  t = kiln_atoms_info_get(b, "e");
  CHECK(t && t->kind == KILN_VAL_INT && t->val[0] == -7.0);
  t = kiln_atoms_info_get(b, "truth");
  CHECK(t && t->kind == KILN_VAL_BOOL && t->count == 3 && t->val[1] == 0.0);
  free_frames(fr, n);
}

/* expect a read of text to fail with code and message "<file>:<rest>" */
static void xyz_bad(const char *name, const char *text, kiln_status code, const char *rest) {
  kiln_error err;
  kiln_atoms **fr = NULL;
  size_t n = 99;
  const char *f = tp(name);
  put_file(f, text);
  char want[800];
  snprintf(want, sizeof want, "%s:%s", f, rest);
  CHECK_ERR(kiln_io_read(f, NULL, NULL, &fr, &n, &err), code, want);
  CHECK(fr == NULL && n == 0);
}

TEST(test_xyz_errors) {
  const char *head = "2\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3:forces:R:3\n";
  char buf[2048];
  snprintf(buf, sizeof buf, "%sSi 0 0 0 1 2 3\nSi 1 abc 1 0 0 0\n", head);
  xyz_bad("train.xyz", buf, KILN_EFORMAT, "4: field 'pos' (column 3): expected a real number (got 'abc')");
  snprintf(buf, sizeof buf, "%sSi 0 0 0 1 2 3\nSi 1 1 1 0 0 x0\n", head);
  xyz_bad("e2.xyz", buf, KILN_EFORMAT, "4: field 'forces' (column 7): expected a real number (got 'x0')");
  xyz_bad("e3.xyz", "1\nLattice=\"4 0 0 0 4 0\" Properties=species:S:1:pos:R:3\nSi 0 0 0\n", KILN_EFORMAT,
          "2: Lattice: expected 9 numbers (got 6)");
  /* truncated frame: 64 atoms announced, 12 given; the file ends at line 120 */
  char *big = malloc(20000);
  big[0] = 0;
  for (int k = 0; k < 106; k++) strcat(big, k == 0 ? "1\nframe\nAr 0 0 0\n" : "");
  /* frames of 1 atom (3 lines) x 35 = 105 lines, then line 106 blank */
  big[0] = 0;
  for (int k = 0; k < 35; k++) strcat(big, "1\nframe\nAr 0 0 0\n");
  strcat(big, "\n64\nProperties=species:S:1:pos:R:3\n");
  for (int k = 0; k < 12; k++) strcat(big, "Ar 1 1 1\n");
  xyz_bad("trunc.xyz", big, KILN_EFORMAT, "120: expected 64 atom lines, file ends after 12");
  free(big);
  xyz_bad("e5.xyz", "2\n\nSi 0 0 0\nSi 1 1 1 extra\nthree\n", KILN_EFORMAT, "5: expected the number of atoms (got 'three')");
  xyz_bad("e6.xyz", "1\nProperties=species:S:1:pos:R:3:foo:X:1\nSi 0 0 0 1\n", KILN_EFORMAT,
          "2: Properties: unknown type 'X' for 'foo' (expected S, R, I or L)");
  xyz_bad("e7.xyz", "1\nProperties=species:S:1:pos:R\nSi 0 0 0\n", KILN_EFORMAT,
          "2: Properties: expected name:type:count triples");
  xyz_bad("e8.xyz", "1\nProperties=species:S:1:pos:I:3\nSi 0 0 0\n", KILN_EFORMAT,
          "2: Properties: 'pos' must be R:3 (got I:3)");
  xyz_bad("e9.xyz", "1\npbc=\"T T\" a=1\nSi 0 0 0\n", KILN_EFORMAT, "2: pbc: expected 3 values T or F (got 'T T')");
  xyz_bad("e10.xyz", "1\na=1 Properties=species:S:1:pos:R:3:ok:L:1\nSi 0 0 0 maybe\n", KILN_EFORMAT,
          "3: field 'ok' (column 5): expected a logical T or F (got 'maybe')");
  xyz_bad("e11.xyz", "1\na=1\nSi 0 0\n", KILN_EFORMAT, "3: expected 4 columns (got 3)");
  xyz_bad("e12.xyz", "1\na=1\nSi 0 0 0 9\n", KILN_EFORMAT, "3: expected 4 columns (got 5)");
  xyz_bad("e13.xyz", "1\na=1\nQq 0 0 0\n", KILN_EFORMAT, "3: field 'species' (column 1): unknown element symbol (got 'Qq')");
  xyz_bad("e14.xyz", "1\na=\"open\nSi 0 0 0\n", KILN_EFORMAT, "2: comment line: unterminated quote in 'a'");
  xyz_bad("e15.xyz", "1\nstress=\"1 2 3 4 5\"\nSi 0 0 0\n", KILN_EFORMAT, "2: stress: expected 9 or 6 numbers (got 5)");
  xyz_bad("e16.xyz", "1\na=1 Properties=species:S:1:pos:R:3:n:I:1\nSi 0 0 0 1.5\n", KILN_EFORMAT,
          "3: field 'n' (column 5): expected an integer (got '1.5')");
  xyz_bad("e17.xyz", "3\na=1\nSi 0 0 0\n", KILN_EFORMAT, "3: expected 3 atom lines, file ends after 1");
  xyz_bad("e18.xyz", "", KILN_EFORMAT, " no frames (empty file)");
  xyz_bad("e19.xyz", "1\na=1 Properties=species:S:1:pos:R:3:momenta:R:3:masses:R:1\nSi 0 0 0 1 1 1 0\n",
          KILN_EFORMAT, "3: momenta: atom 1 has mass 0");
}

/* the stored public data sets */
TEST(test_xyz_datasets) {
  static const struct { const char *file; size_t frames, atoms; } sets[] = {
      {"../shared/data/mlearn/Si_training.xyz", 214, 13233},
      {"../shared/data/mlearn/Mo_training.xyz", 194, 10087},
      {"../shared/data/batio3-allegro-pol/BaTiO3_full73.xyz", 73, 73 * 135},
  };
  for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
    if (access(sets[s].file, R_OK) != 0) { printf("SKIP %s (not present)\n", sets[s].file); continue; }
    kiln_error err;
    kiln_atoms **fr = NULL;
    size_t n = 0, atoms = 0;
    CHECK_OK(kiln_io_read(sets[s].file, NULL, NULL, &fr, &n, &err));
    CHECK(n == sets[s].frames);
    for (size_t k = 0; k < n; k++) atoms += fr[k]->n;
    CHECK(atoms == sets[s].atoms);
    if (s < 2 && n) { /* mlearn: virial = -stress * V on every frame (independent columns) */
      double worst = 0;
      for (size_t k = 0; k < n; k++) {
        const kiln_info *st = kiln_atoms_info_get(fr[k], "stress"), *vi = kiln_atoms_info_get(fr[k], "virial");
        const kiln_info *e = kiln_atoms_info_get(fr[k], "energy");
        CHECK(st && vi && e && st->count == 9 && vi->count == 9);
        if (!st || !vi) break;
        double V = kiln_atoms_volume(fr[k]);
        for (int j = 0; j < 9; j++)
          worst = fmax(worst, fabs(vi->val[j] + st->val[j] * V) / fmax(1.0, fabs(vi->val[j])));
        CHECK(kiln_atoms_prop_get(fr[k], "forces") != NULL);
      }
      CHECK(worst < 1e-6);
    }
    if (s == 1 && n) {
      CHECK_CLOSE(kiln_atoms_info_get(fr[0], "energy")->val[0], -569.5617780200, 1e-15, 0);
      CHECK(!strcmp(kiln_atoms_info_get(fr[0], "config_type")->str, "Vacancy"));
      CHECK(fr[0]->x[0][0] == 9.40451472 && !strcmp(kiln_atoms_symbol(fr[0], 0), "Mo"));
      CHECK(kiln_atoms_prop_get(fr[0], "forces")->val[0] == 0.62737967);
    }
    if (s == 2 && n) {
      const kiln_prop *bc = kiln_atoms_prop_get(fr[0], "born_charge");
      CHECK(bc && bc->ncols == 9);
      CHECK(kiln_atoms_info_get(fr[0], "polarization")->count == 3);
    }
    free_frames(fr, n);
  }
}

/* -------------------------------------------------------------- LAMMPS */

static const double TRI_CELL[3][3] = {{8.1, 0, 0}, {1.7, 7.3, 0}, {-1.1, 0.9, 6.9}};

static void read_one(const char *file, const char *fmt, kiln_opts *o, kiln_atoms ***fr, size_t *n) {
  kiln_error err;
  *fr = NULL;
  *n = 0;
  CHECK_OK(kiln_io_read(file, fmt, o, fr, n, &err));
}

TEST(test_lammps_samples) {
  kiln_error err;
  kiln_atoms **d = NULL, **da = NULL, **db = NULL, **dc = NULL;
  size_t nd, na, nb, nc;
  read_one("tests/data/lmp_tri.data", NULL, NULL, &d, &nd);
  read_one("tests/data/lmp_tri_a.dump", NULL, NULL, &da, &na);
  read_one("tests/data/lmp_tri_b.dump", NULL, NULL, &db, &nb);
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  kiln_opts *sy;
  kiln_opts_add_table(o, "symbols", &sy, &err);
  kiln_opts_add_str(sy, NULL, "Si", &err);
  kiln_opts_add_str(sy, NULL, "O", &err);
  read_one("tests/data/lmp_tri_c.dump", NULL, o, &dc, &nc);
  kiln_opts_free(o);
  CHECK(nd == 1 && na == 3 && nb == 3 && nc == 3);
  if (nd != 1 || na != 3 || nb != 3 || nc != 3) return;
  /* cells: data (lo/hi/tilt) and dumps (bounding box) give the same box */
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      CHECK_CLOSE(d[0]->cell[i][j], TRI_CELL[i][j], 1e-15, 1e-15);
      for (int k = 0; k < 3; k++) {
        CHECK_CLOSE(da[k]->cell[i][j], TRI_CELL[i][j], 1e-14, 1e-14);
        CHECK_CLOSE(db[k]->cell[i][j], TRI_CELL[i][j], 1e-14, 1e-14);
      }
    }
  for (int k = 0; k < 3; k++) {
    CHECK((long)kiln_atoms_info_get(da[k], "step")->val[0] == 100 * k);
    CHECK(da[k]->n == 20 && db[k]->n == 20 && dc[k]->n == 20);
    for (size_t i = 0; i < 20; i++) {
      CHECK(da[k]->id[i] == (int64_t)i + 1 && db[k]->id[i] == (int64_t)i + 1); /* sorted by id */
      CHECK(!strcmp(kiln_atoms_symbol(da[k], i), i < 12 ? "Si" : "O"));
      CHECK(!strcmp(kiln_atoms_symbol(db[k], i), i < 12 ? "Si" : "O")); /* from the mass column */
      CHECK(!strcmp(kiln_atoms_symbol(dc[k], i), i < 12 ? "Si" : "O"));
      CHECK(db[k]->mass[i] == (i < 12 ? 28.0855 : 15.9994));
      /* scaled + image flags == unwrapped Cartesian */
      for (int c = 0; c < 3; c++) CHECK_CLOSE(db[k]->x[i][c], dc[k]->x[i][c], 0, 1e-12);
      /* wrapped differs from unwrapped by a lattice vector */
      double inv[3][3], s[3], dx[3];
      kiln_cell_inverse(TRI_CELL, inv, &err);
      for (int c = 0; c < 3; c++) dx[c] = dc[k]->x[i][c] - da[k]->x[i][c];
      for (int c = 0; c < 3; c++) s[c] = dx[0] * inv[0][c] + dx[1] * inv[1][c] + dx[2] * inv[2][c];
      for (int c = 0; c < 3; c++) CHECK_CLOSE(s[c], round(s[c]), 0, 1e-12);
    }
    CHECK(kiln_atoms_prop_get(db[k], "c_pe") != NULL);
  }
  /* some atoms crossed the boundary by step 200 */
  int crossed = 0;
  for (size_t i = 0; i < 20; i++) crossed += fabs(dc[2]->x[i][0] - da[2]->x[i][0]) > 1.0;
  CHECK(crossed > 3);
  /* data file at step 200: unwrapped with its image flags, shifted by -lo like the dumps */
  for (size_t i = 0; i < 20; i++) {
    CHECK(d[0]->id[i] >= 1);
    size_t j = (size_t)d[0]->id[i] - 1;
    CHECK(!strcmp(kiln_atoms_symbol(d[0], i), j < 12 ? "Si" : "O"));   /* guessed from Masses */
    CHECK(d[0]->mass[i] == (j < 12 ? 28.0855 : 15.9994));
    for (int c = 0; c < 3; c++) {
      CHECK_CLOSE(d[0]->x[i][c], dc[2]->x[j][c], 0, 1e-12);
      CHECK_CLOSE(d[0]->v[i][c], da[2]->v[j][c], 1e-14, 0);          /* both Å/ps -> Å/fs */
    }
  }
  /* dump forces and velocities: values of the file, velocities Å/ps -> Å/fs */
  CHECK(da[0]->f[0][0] == 7.5284915027279142e-01 || fabs(da[0]->f[0][0]) > 0); /* id 1 */
  CHECK(da[0]->v[0][0] != 0.0 && fabs(da[0]->v[0][0]) < 0.1);
  free_frames(d, nd);
  free_frames(da, na);
  free_frames(db, nb);
  free_frames(dc, nc);

  /* index and an error without symbols */
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "index", -1, &err);
  read_one("tests/data/lmp_tri_a.dump", NULL, o, &da, &na);
  CHECK(na == 1 && (long)kiln_atoms_info_get(da[0], "step")->val[0] == 200);
  free_frames(da, na);
  kiln_opts_free(o);
  CHECK_ERR(kiln_io_read("tests/data/lmp_tri_c.dump", NULL, NULL, &dc, &nc, &err), KILN_EFORMAT,
            "tests/data/lmp_tri_c.dump:9: ATOMS: cannot tell the elements");
}

TEST(test_lammps_data_variants) {
  kiln_error err;
  kiln_atoms **fr;
  size_t n;
  const char *f = tp("ortho.data");
  put_file(f,
           "my structure\n\n 3 atoms\n 2 atom types\n 0 1 bonds\n\n0.0 4.0 xlo xhi\n-1 3 ylo yhi\n0 5 zlo zhi\n\n"
           "Masses\n\n1 28.0855 # Si\n2 4.0 # He\n\nPair Coeffs # lj/cut\n\n1 1 1\n2 1 1\n\n"
           "Atoms # atomic\n\n3 2 1.0 1.0 1.0\n1 1 0.5 0.0 0.25 # comment\n2 1 3.5 2.5 4.5\n\n"
           "Velocities\n\n2 10 20 30\n1 1 2 3\n3 0 0 0\n");
  read_one(f, NULL, NULL, &fr, &n);
  CHECK(n == 1);
  if (n == 1) {
    kiln_atoms *a = fr[0];
    CHECK(a->n == 3 && a->nspecies == 2 && !strcmp(a->species[0], "Si") && !strcmp(a->species[1], "He"));
    CHECK(!strcmp(kiln_atoms_symbol(a, 0), "He") && a->id[0] == 3 && a->mass[0] == 4.0);
    CHECK(a->x[1][1] == 1.0 && a->x[1][0] == 0.5); /* y - ylo */
    CHECK(a->cell[1][1] == 4.0 && a->cell[2][2] == 5.0 && a->cell[1][0] == 0.0);
    CHECK_CLOSE(a->v[2][2], 0.030, 1e-15, 0); /* id 2: 30 Å/ps */
    CHECK_CLOSE(a->v[1][0], 0.001, 1e-15, 0);
  }
  free_frames(fr, n);
  /* symbols option wins; units real keeps Å/fs */
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "symbols", "Ge Ne", &err);
  kiln_opts_add_str(o, "units", "real", &err);
  read_one(f, NULL, o, &fr, &n);
  kiln_opts_free(o);
  if (n == 1) {
    CHECK(!strcmp(kiln_atoms_symbol(fr[0], 1), "Ge") && fr[0]->mass[1] == 28.0855);
    CHECK(fr[0]->v[2][2] == 30.0);
  }
  free_frames(fr, n);

  /* charge style */
  const char *fq = tp("q.data");
  put_file(fq, "t\n2 atoms\n1 atom types\n0 3 xlo xhi\n0 3 ylo yhi\n0 3 zlo zhi\n\nMasses\n\n1 22.99\n\n"
               "Atoms # charge\n\n1 1 0.5 0 0 0 1 0 0\n2 1 -0.5 1 1 1\n");
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "style", "charge", &err);
  read_one(fq, NULL, o, &fr, &n);
  kiln_opts_free(o);
  if (n == 1) {
    CHECK(!strcmp(kiln_atoms_symbol(fr[0], 0), "Na"));
    CHECK(fr[0]->x[0][0] == 3.0); /* image flag 1 along x */
    const kiln_prop *q = kiln_atoms_prop_get(fr[0], "charge");
    CHECK(q && q->val[0] == 0.5 && q->val[1] == -0.5);
  }
  free_frames(fr, n);
  char want[800];
  snprintf(want, sizeof want, "%s:12: Atoms: atom style 'charge' is not atomic", fq);
  CHECK_ERR(kiln_io_read(fq, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);

  /* errors */
  const char *fe = tp("bad.data");
  put_file(fe, "t\n2 atoms\n1 atom types\n0 3 xlo xhi\n0 3 ylo yhi\n0 3 zlo zhi\n\nMasses\n\n1 999\n\n"
               "Atoms\n\n1 1 0 0 0\n2 1 1 q 1\n");
  snprintf(want, sizeof want, "%s:15: field 'y' (column 4): expected a real number (got 'q')", fe);
  CHECK_ERR(kiln_io_read(fe, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  put_file(fe, "t\n2 atoms\n1 atom types\n0 3 xlo xhi\n0 3 ylo yhi\n0 3 zlo zhi\n\nMasses\n\n1 999\n\n"
               "Atoms\n\n1 1 0 0 0\n2 1 1 1 1\n");
  CHECK_ERR(kiln_io_read(fe, NULL, NULL, &fr, &n, &err), KILN_EINVAL, "type 1 has mass 999, which matches no element");
  put_file(fe, "t\n2 atoms\n1 atom types\n0 3 xlo xhi\n0 3 ylo yhi\n0 3 zlo zhi\n\nAtoms\n\n1 1 0 0 0\n2 3 1 1 1\n");
  snprintf(want, sizeof want, "%s:11: field 'type' (column 2): expected a type 1..1 (got '3')", fe);
  CHECK_ERR(kiln_io_read(fe, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  put_file(fe, "t\n2 atoms\n1 atom types\n0 3 xlo xhi\n0 3 ylo yhi\n0 3 zlo zhi\n\nAtoms\n\n1 1 0 0 0\n");
  snprintf(want, sizeof want, "%s:8: Atoms: expected 2 lines, got 1", fe);
  CHECK_ERR(kiln_io_read(fe, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  put_file(fe, "t\n2 atoms\n1 atom types\n0 3 xlo xhi\n0 3 ylo yhi\n0 3 zlo zhi\nfoo bar\n");
  snprintf(want, sizeof want, "%s:7: unknown section 'foo bar'", fe);
  CHECK_ERR(kiln_io_read(fe, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  put_file(fe, "t\n2 atoms\n1 atom types\n0 3 xlo xhi\n0 3 ylo yhi\n0 3 zlo zhi\n7 widgets\n");
  snprintf(want, sizeof want, "%s:7: unrecognized header line (got '7 widgets')", fe);
  CHECK_ERR(kiln_io_read(fe, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
}

TEST(test_lammps_data_write) {
  kiln_error err;
  kiln_atoms *a = make_rich(0);
  kiln_atoms_prop_remove(a, "label");
  a->mass[4] = kiln_element_mass(8);
  /* 1) a LAMMPS-oriented triclinic cell, atoms inside and outside */
  double L[3][3] = {{5.5, 0, 0}, {1.25, 4.75, 0}, {-0.5, 0.75, 6.0}};
  memcpy(a->cell, L, sizeof L);
  a->pbc[1] = 1;
  const char *f = tp("w.data");
  CHECK_OK(kiln_io_write(f, NULL, NULL, &a, 1, 0, &err));
  kiln_atoms **fr;
  size_t n;
  read_one(f, NULL, NULL, &fr, &n);
  if (n == 1) {
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) CHECK(fr[0]->cell[i][j] == L[i][j]);
    for (size_t i = 0; i < 5; i++) {
      CHECK(!strcmp(kiln_atoms_symbol(fr[0], i), kiln_atoms_symbol(a, i)) && fr[0]->mass[i] == a->mass[i]);
      for (int d = 0; d < 3; d++) {
        CHECK_CLOSE(fr[0]->x[i][d], a->x[i][d], 1e-15, 1e-9); /* -2.5e5 is wrapped and unwrapped */
        CHECK_CLOSE(fr[0]->v[i][d], a->v[i][d], 1e-15, 0);
      }
      if (i == 0) for (int d = 0; d < 3; d++) CHECK(fr[0]->x[i][d] == a->x[i][d]); /* inside: exact */
    }
  }
  free_frames(fr, n);
  /* 2) a rotated cell: rotated into LAMMPS orientation; lattice coordinates kept */
  double c = cos(0.7), s = sin(0.7), R[3][3] = {{c, s, 0}, {-s * 0.6, c * 0.6, 0.8}, {s * 0.8, -c * 0.8, 0.6}};
  double C[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) C[i][j] = L[i][0] * R[0][j] + L[i][1] * R[1][j] + L[i][2] * R[2][j];
  kiln_atoms *b;
  kiln_atoms_copy(&b, a, &err);
  memcpy(b->cell, C, sizeof C);
  for (size_t i = 0; i < 5; i++) {
    double x[3], v[3];
    for (int j = 0; j < 3; j++) {
      x[j] = a->x[i][0] * R[0][j] + a->x[i][1] * R[1][j] + a->x[i][2] * R[2][j];
      v[j] = a->v[i][0] * R[0][j] + a->v[i][1] * R[1][j] + a->v[i][2] * R[2][j];
    }
    memcpy(b->x[i], x, sizeof x);
    memcpy(b->v[i], v, sizeof v);
  }
  const char *f2 = tp("rot.data");
  CHECK_OK(kiln_io_write(f2, NULL, NULL, &b, 1, 0, &err));
  read_one(f2, NULL, NULL, &fr, &n);
  if (n == 1) {
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) CHECK_CLOSE(fr[0]->cell[i][j], L[i][j], 1e-13, 1e-13);
    for (size_t i = 0; i < 5; i++)
      for (int d = 0; d < 3; d++) {
        CHECK_CLOSE(fr[0]->x[i][d], a->x[i][d], 1e-12, 1e-9);
        CHECK_CLOSE(fr[0]->v[i][d], a->v[i][d], 1e-12, 1e-15);
      }
  }
  free_frames(fr, n);
  /* 3) LAMMPS reads kiln's rotated data file: same lattice coordinates */
  if (access("/usr/bin/lmp", X_OK) == 0) {
    char deck[1200], cmd[1400];
    snprintf(deck, sizeof deck,
             "units metal\natom_style atomic\nboundary p p p\nbox tilt large\nread_data %s\n"
             "write_dump all custom %s id type x y z vx vy vz modify format float %%.17g sort id\n",
             f2, tp("lmp_back.dump"));
    put_file(tp("in.back"), deck);
    snprintf(cmd, sizeof cmd, "/usr/bin/lmp -log none -screen none -in %s >/dev/null 2>&1", tp("in.back"));
    CHECK(system(cmd) == 0);
    kiln_opts *o;
    kiln_opts_new(&o, &err);
    kiln_opts_add_str(o, "symbols", "Si O Ti", &err);
    read_one(tp("lmp_back.dump"), NULL, o, &fr, &n);
    kiln_opts_free(o);
    if (n == 1) {
      double inv[3][3];
      kiln_cell_inverse(L, inv, &err);
      for (size_t i = 0; i < 5; i++) {
        double sa[3], sb[3];
        for (int j = 0; j < 3; j++) {
          sa[j] = a->x[i][0] * inv[0][j] + a->x[i][1] * inv[1][j] + a->x[i][2] * inv[2][j];
          sb[j] = fr[0]->x[i][0] * inv[0][j] + fr[0]->x[i][1] * inv[1][j] + fr[0]->x[i][2] * inv[2][j];
          double dd = sa[j] - sb[j];
          CHECK_CLOSE(dd, round(dd), 0, 1e-9);
          CHECK_CLOSE(fr[0]->v[i][j], a->v[i][j], 1e-12, 1e-15);
        }
        CHECK(!strcmp(kiln_atoms_symbol(fr[0], i), kiln_atoms_symbol(a, i)));
      }
    }
    free_frames(fr, n);
  } else {
    printf("SKIP LAMMPS reading kiln's data file (no /usr/bin/lmp)\n");
  }
  /* errors */
  double left[3][3] = {{0, 5, 0}, {5, 0, 0}, {0, 0, 5}};
  memcpy(b->cell, left, sizeof left);
  CHECK_ERR(kiln_io_write(f2, NULL, NULL, &b, 1, 0, &err), KILN_EINVAL, "left-handed");
  memcpy(b->cell, L, sizeof L);
  b->mass[1] = 17.0;
  CHECK_ERR(kiln_io_write(f2, NULL, NULL, &b, 1, 0, &err), KILN_EINVAL, "atoms of species O have different masses");
  kiln_atoms_free(a);
  kiln_atoms_free(b);
}

TEST(test_lammps_dump_errors) {
  kiln_error err;
  kiln_atoms **fr;
  size_t n;
  const char *f = tp("bad.dump");
  char want[800];
  put_file(f, "ITEM: TIMESTEP\n5\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp ff\n0 4\n0 4\n0 4\n"
              "ITEM: ATOMS id element xu yu zu\n2 Cu 1 1 1\n1 Cu 2 2 z\n");
  snprintf(want, sizeof want, "%s:11: field 'zu' (column 5): expected a number (got 'z')", f);
  CHECK_ERR(kiln_io_read(f, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  put_file(f, "ITEM: TIMESTEP\n5\nITEM: NUMBER OF ATOMS\n3\nITEM: BOX BOUNDS pp pp ff\n0 4\n0 4\n0 4\n"
              "ITEM: ATOMS id element xu yu zu\n2 Cu 1 1 1\n1 Cu 2 2 2\n");
  snprintf(want, sizeof want, "%s:11: expected 3 atom lines, file ends after 2", f);
  CHECK_ERR(kiln_io_read(f, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  put_file(f, "ITEM: TIMESTEP\n5\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp ff\n0 4\n0 4\n0 4\n"
              "ITEM: ATOMS id element xu yu\n2 Cu 1 1\n1 Cu 2 2\n");
  snprintf(want, sizeof want, "%s:9: ATOMS: no complete set of coordinates", f);
  CHECK_ERR(kiln_io_read(f, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  put_file(f, "ITEM: UNITS\nmetal\nITEM: TIME\n0.25\nITEM: TIMESTEP\n5\nITEM: NUMBER OF ATOMS\n2\n"
              "ITEM: BOX BOUNDS pp pp ff\n0 4\n0 4\n0 4\nITEM: ATOMS id element xu yu zu vx\n2 Cu 1 1 1 0\n1 Cu 2 2 2 3\n");
  read_one(f, NULL, NULL, &fr, &n);
  if (n == 1) {
    CHECK(fr[0]->pbc[0] == 1 && fr[0]->pbc[2] == 0 && fr[0]->x[0][0] == 2.0 && fr[0]->id[1] == 2);
    CHECK(kiln_atoms_info_get(fr[0], "step")->val[0] == 5.0);
    CHECK(kiln_atoms_info_get(fr[0], "time")->val[0] == 250.0); /* ps -> fs */
    const kiln_prop *vx = kiln_atoms_prop_get(fr[0], "vx"); /* vx alone is not a velocity */
    CHECK(vx && vx->val[0] == 3.0 && fr[0]->v[0][0] == 0.0);
    CHECK(fr[0]->mass[0] == kiln_element_mass(29));
  }
  free_frames(fr, n);
}

/* -------------------------------------------------------------- POSCAR */

TEST(test_poscar_roundtrip) {
  kiln_error err;
  kiln_atoms *a = make_rich(0);
  a->mass[4] = kiln_element_mass(8);
  double fl[15];
  for (int k = 0; k < 15; k++) fl[k] = k % 2;
  kiln_atoms_prop_set(a, "selective_dynamics", KILN_VAL_BOOL, 3, fl, &err);
  for (int direct = 0; direct < 2; direct++) {
    kiln_opts *o;
    kiln_opts_new(&o, &err);
    kiln_opts_add_bool(o, "direct", direct, &err);
    const char *f = tp(direct ? "POSCAR_d" : "POSCAR_c");
    CHECK_OK(kiln_io_write(f, NULL, o, &a, 1, 0, &err));
    kiln_opts_free(o);
    kiln_atoms **fr;
    size_t n;
    read_one(f, NULL, NULL, &fr, &n);
    if (n != 1) continue;
    kiln_atoms *b = fr[0];
    CHECK(b->pbc[0] && b->pbc[1] && b->pbc[2]);
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) CHECK(b->cell[i][j] == a->cell[i][j]);
    for (size_t i = 0; i < 5; i++) {
      CHECK(!strcmp(kiln_atoms_symbol(a, i), kiln_atoms_symbol(b, i)));
      for (int d = 0; d < 3; d++) {
        if (direct) CHECK_CLOSE(b->x[i][d], a->x[i][d], 1e-14, 1e-9);
        else CHECK(b->x[i][d] == a->x[i][d]);
        CHECK(b->v[i][d] == a->v[i][d]);
      }
    }
    const kiln_prop *sd = kiln_atoms_prop_get(b, "selective_dynamics");
    CHECK(sd && sd->ncols == 3);
    for (int k = 0; sd && k < 15; k++) CHECK(sd->val[k] == fl[k]);
    free_frames(fr, n);
  }
  char *text = get_file(tp("POSCAR_c"));
  CHECK(text && strstr(text, "\n Si O Si Ti O\n 1 1 1 1 1\nSelective dynamics\nCartesian\n"));
  free(text);
  kiln_atoms_free(a);
}

TEST(test_poscar_variants) {
  kiln_error err;
  kiln_atoms **fr;
  size_t n;
  const char *f = tp("POSCAR_v1");
  /* negative scale = volume 64 -> side 4; Direct; selective; velocities after a blank line */
  put_file(f, "cubic test\n-64.0\n 1 0 0\n 0 1 0\n 0 0 1\n Si_pv O\n 1 2\nSelective dynamics\nDirect\n"
              " 0 0 0 T F T\n 0.5 0.5 0.5 F F F\n 0.25 0.5 0.75 T T T Si\n\n 0.1 0.2 0.3\n 0 0 0\n -1 -2 -3\n");
  read_one(f, NULL, NULL, &fr, &n);
  if (n == 1) {
    kiln_atoms *a = fr[0];
    CHECK(a->n == 3 && !strcmp(kiln_atoms_symbol(a, 0), "Si") && !strcmp(kiln_atoms_symbol(a, 2), "O"));
    CHECK_CLOSE(a->cell[0][0], 4.0, 1e-15, 0);
    CHECK_CLOSE(a->cell[2][2], 4.0, 1e-15, 0);
    CHECK_CLOSE(a->x[2][2], 3.0, 1e-15, 0);
    CHECK(a->v[0][2] == 0.3 && a->v[2][1] == -2.0);
    const kiln_prop *sd = kiln_atoms_prop_get(a, "selective_dynamics");
    CHECK(sd && sd->val[0] == 1 && sd->val[1] == 0 && sd->val[8] == 1);
  }
  free_frames(fr, n);
  /* three scale factors, Cartesian coordinates scaled too, no velocities (blank then EOF) */
  f = tp("POSCAR_v2");
  put_file(f, "scaled\n 2 3 4\n 1 0 0\n 0 1 0\n 0.5 0 1\n Cu\n 2\ncartesian\n 0 0 0\n 0.5 0.5 0.5\n\n");
  read_one(f, NULL, NULL, &fr, &n);
  if (n == 1) {
    CHECK(fr[0]->cell[2][0] == 1.0 && fr[0]->cell[1][1] == 3.0 && fr[0]->cell[2][2] == 4.0);
    CHECK(fr[0]->x[1][0] == 1.0 && fr[0]->x[1][1] == 1.5 && fr[0]->x[1][2] == 2.0);
    CHECK(fr[0]->v[1][0] == 0.0 && kiln_atoms_prop_get(fr[0], "selective_dynamics") == NULL);
  }
  free_frames(fr, n);
  /* VASP 4 (no symbols line) */
  f = tp("POSCAR_v4");
  put_file(f, "old\n 1.0\n 3 0 0\n 0 3 0\n 0 0 3\n 1 1\nDirect\n 0 0 0\n 0.5 0.5 0.5\n");
  char want[800];
  snprintf(want, sizeof want, "%s:6: symbols line missing (VASP 4 format: counts on line 6); give symbols={...}", f);
  CHECK_ERR(kiln_io_read(f, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  kiln_opts_add_str(o, "symbols", "Na Cl", &err);
  read_one(f, "vasp", o, &fr, &n);
  kiln_opts_free(o);
  if (n == 1) CHECK(!strcmp(kiln_atoms_symbol(fr[0], 1), "Cl") && fr[0]->x[1][0] == 1.5);
  free_frames(fr, n);
  /* errors */
  f = tp("POSCAR_bad");
  put_file(f, "x\n 1.0\n 3 0 0\n 0 3 0\n 0 0 3\n Na Cl\n 1 1\nDirect\n 0 0 0\n 0.5 x 0.5\n");
  snprintf(want, sizeof want, "%s:10: field 'position' (column 2): expected a real number (got 'x')", f);
  CHECK_ERR(kiln_io_read(f, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  put_file(f, "x\n 1.0\n 3 0 0\n 0 3 0\n 0 0 3\n Na Cl\n 1 1\nDirect\n 0 0 0\n");
  snprintf(want, sizeof want, "%s:9: expected 2 atom lines, file ends after 1", f);
  CHECK_ERR(kiln_io_read(f, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  put_file(f, "x\n 1.0\n 3 0 0\n 0 3\n");
  snprintf(want, sizeof want, "%s:4: lattice: expected 3 numbers (got 2)", f);
  CHECK_ERR(kiln_io_read(f, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
  put_file(f, "x\n 1.0\n 3 0 0\n 0 3 0\n 0 0 3\n Na Cl\n 1\n");
  snprintf(want, sizeof want, "%s:7: counts: expected 2 numbers, one per symbol (got 1)", f);
  CHECK_ERR(kiln_io_read(f, NULL, NULL, &fr, &n, &err), KILN_EFORMAT, want);
}

/* -------------------------------------------------------------- H5MD */

static kiln_atoms *traj_frame(size_t natoms, int k) {
  kiln_error err;
  kiln_atoms *a;
  kiln_atoms_new(&a, natoms, &err);
  for (size_t i = 0; i < natoms; i++) {
    kiln_atoms_set_symbol(a, i, i % 3 ? "Ar" : "Kr", &err);
    for (int d = 0; d < 3; d++) {
      a->x[i][d] = k * 10.0 + (double)i + 0.1 * d;
      a->v[i][d] = -1e-3 * k + 1e-4 * (double)i;
      a->f[i][d] = 0.5 * k - (double)d;
    }
  }
  double cell[3][3] = {{10 + k, 0, 0}, {1, 11, 0}, {0.5, -0.5, 12}};
  memcpy(a->cell, cell, sizeof cell);
  a->pbc[0] = a->pbc[1] = 1;
  a->mass[1] = 40.5;
  return a;
}

static int check_traj_frame(const kiln_atoms *a, size_t natoms, int k) {
  kiln_atoms *w = traj_frame(natoms, k);
  int bad = a->n != natoms;
  for (size_t i = 0; i < natoms && !bad; i++) {
    bad |= strcmp(kiln_atoms_symbol(a, i), kiln_atoms_symbol(w, i)) != 0 || a->mass[i] != w->mass[i];
    for (int d = 0; d < 3; d++) bad |= a->x[i][d] != w->x[i][d] || a->v[i][d] != w->v[i][d] || a->f[i][d] != w->f[i][d];
  }
  for (int i = 0; i < 3; i++) {
    bad |= a->pbc[i] != w->pbc[i];
    for (int j = 0; j < 3; j++) bad |= a->cell[i][j] != w->cell[i][j];
  }
  kiln_atoms_free(w);
  return bad;
}

TEST(test_h5md) {
  kiln_error err;
  const char *f = tp("run.h5");
  kiln_traj *t = NULL;
  unsigned all = KILN_TRAJ_POS | KILN_TRAJ_VEL | KILN_TRAJ_FORCE;
  CHECK_OK(kiln_traj_open(&t, f, "w", &err));
  for (int k = 0; k < 3; k++) {
    kiln_atoms *a = traj_frame(7, k);
    CHECK_OK(kiln_traj_append(t, a, 100 * k, 0.5 * k, all, &err));
    kiln_atoms_free(a);
  }
  kiln_atoms *small = traj_frame(6, 0), *a3 = traj_frame(7, 3);
  CHECK_ERR(kiln_traj_append(t, small, 1, 1.0, all, &err), KILN_EINVAL, "holds 7 atoms; cannot append 6");
  CHECK_ERR(kiln_traj_append(t, a3, 1, 1.0, KILN_TRAJ_POS, &err), KILN_EINVAL, "stores what=0x7");
  CHECK_OK(kiln_traj_close(t, &err));
  /* read back */
  CHECK_OK(kiln_traj_open(&t, f, "r", &err));
  size_t n = 0;
  CHECK_OK(kiln_traj_nframes(t, &n, &err));
  CHECK(n == 3);
  kiln_atoms *b = NULL;
  long step = 0;
  double time = 0;
  CHECK_OK(kiln_traj_read(t, 1, &b, &step, &time, &err));
  CHECK(b && step == 100 && time == 0.5 && !check_traj_frame(b, 7, 1));
  kiln_atoms_free(b);
  CHECK_OK(kiln_traj_read(t, -1, &b, &step, &time, &err));
  CHECK(b && step == 200 && !check_traj_frame(b, 7, 2));
  kiln_atoms_free(b);
  CHECK_ERR(kiln_traj_read(t, 3, &b, &step, &time, &err), KILN_ERANGE, "index 3 is out of range");
  CHECK_ERR(kiln_traj_append(t, a3, 1, 1.0, all, &err), KILN_ESTATE, "open for reading");
  CHECK_OK(kiln_traj_close(t, &err));
  /* append mode */
  CHECK_OK(kiln_traj_open(&t, f, "a", &err));
  CHECK_ERR(kiln_traj_append(t, small, 1, 1.0, all, &err), KILN_EINVAL, "holds 7 atoms; cannot append 6");
  CHECK_OK(kiln_traj_append(t, a3, 300, 1.5, all, &err));
  CHECK_OK(kiln_traj_nframes(t, &n, &err));
  CHECK(n == 4);
  CHECK_OK(kiln_traj_read(t, 3, &b, &step, &time, &err));
  CHECK(b && step == 300 && time == 1.5 && !check_traj_frame(b, 7, 3));
  kiln_atoms_free(b);
  CHECK_OK(kiln_traj_close(t, &err));
  /* through kiln_io_read (all frames, and index) */
  kiln_atoms **fr;
  CHECK_OK(kiln_io_read(f, NULL, NULL, &fr, &n, &err));
  CHECK(n == 4);
  for (size_t k = 0; k < n && n == 4; k++) {
    CHECK(!check_traj_frame(fr[k], 7, (int)k));
    CHECK(kiln_atoms_info_get(fr[k], "step")->val[0] == 100.0 * (double)k);
  }
  free_frames(fr, n);
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "index", -2, &err);
  CHECK_OK(kiln_io_read(f, NULL, o, &fr, &n, &err));
  CHECK(n == 1 && !check_traj_frame(fr[0], 7, 2));
  free_frames(fr, n);
  kiln_opts_free(o);
  /* kiln_io_write h5md: frames, step/time from info, velocities and forces when nonzero */
  kiln_atoms *w[2] = {traj_frame(7, 0), traj_frame(7, 1)};
  double sv = 42, tv = 4.2;
  kiln_atoms_info_set(w[1], "step", KILN_VAL_INT, 1, &sv, &err);
  kiln_atoms_info_set(w[1], "time", KILN_VAL_REAL, 1, &tv, &err);
  const char *f2 = tp("io.h5md");
  CHECK_OK(kiln_io_write(f2, NULL, NULL, w, 2, 0, &err));
  CHECK_OK(kiln_io_write(f2, NULL, NULL, w, 1, 1, &err));
  CHECK_OK(kiln_io_read(f2, NULL, NULL, &fr, &n, &err));
  CHECK(n == 3);
  if (n == 3) {
    CHECK(!check_traj_frame(fr[0], 7, 0) && !check_traj_frame(fr[1], 7, 1) && !check_traj_frame(fr[2], 7, 0));
    CHECK(kiln_atoms_info_get(fr[1], "step")->val[0] == 42.0 && kiln_atoms_info_get(fr[1], "time")->val[0] == 4.2);
  }
  free_frames(fr, n);
  CHECK(!count_tmp_leftovers());
  kiln_atoms_free(w[0]);
  kiln_atoms_free(w[1]);
  /* errors */
  char want[800];
  snprintf(want, sizeof want, "cannot open '%s'", tp("none.h5"));
  CHECK_ERR(kiln_traj_open(&t, tp("none.h5"), "r", &err), KILN_EIO, want);
  put_file(tp("text.h5"), "not hdf5\n");
  CHECK_ERR(kiln_traj_open(&t, tp("text.h5"), "r", &err), KILN_EFORMAT, "is not an HDF5 file");
  CHECK_ERR(kiln_traj_open(&t, f, "x", &err), KILN_EINVAL, "mode must be");
  CHECK_ERR(kiln_traj_open(&t, tp("no/dir/x.h5"), "w", &err), KILN_EEXTERNAL, "create");
  kiln_atoms_free(small);
  kiln_atoms_free(a3);
}

/* Child mode: open file "r", expect nframes frames, check the last one. */
static int h5_reader(const char *file, int nframes) {
  kiln_error err;
  kiln_traj *t;
  if (kiln_traj_open(&t, file, "r", &err)) { fprintf(stderr, "reader: %s\n", err.msg); return 2; }
  size_t n = 0;
  kiln_atoms *a = NULL;
  long step;
  int rc = 0;
  if (kiln_traj_nframes(t, &n, &err) || (int)n != nframes) { fprintf(stderr, "reader: %zu frames\n", n); rc = 3; }
  else if (kiln_traj_read(t, -1, &a, &step, NULL, &err)) { fprintf(stderr, "reader: %s\n", err.msg); rc = 4; }
  else if (check_traj_frame(a, 9, nframes - 1) || step != nframes - 1) rc = 5;
  kiln_atoms_free(a);
  kiln_traj_close(t, NULL);
  return rc;
}

static int spawn_reader(const char *file, int nframes) {
  pid_t pid = fork();
  if (pid == 0) {
    char nb[16];
    snprintf(nb, sizeof nb, "%d", nframes);
    execl("/proc/self/exe", "test_io", "--h5-reader", file, nb, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(test_h5md_while_writing) {
  kiln_error err;
  const char *f = tp("live.h5");
  kiln_traj *t = NULL;
  CHECK_OK(kiln_traj_open(&t, f, "w", &err));
  for (int k = 0; k < 3; k++) {
    kiln_atoms *a = traj_frame(9, k);
    CHECK_OK(kiln_traj_append(t, a, k, 0.0, KILN_TRAJ_POS | KILN_TRAJ_VEL | KILN_TRAJ_FORCE, &err));
    kiln_atoms_free(a);
  }
  CHECK(spawn_reader(f, 3) == 0); /* another process sees 3 complete frames */
  kiln_atoms *a = traj_frame(9, 3);
  CHECK_OK(kiln_traj_append(t, a, 3, 0.0, KILN_TRAJ_POS | KILN_TRAJ_VEL | KILN_TRAJ_FORCE, &err));
  kiln_atoms_free(a);
  CHECK(spawn_reader(f, 4) == 0); /* and, reopening, the fourth */
  CHECK_OK(kiln_traj_close(t, &err));
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "--h5-reader")) return h5_reader(argv[2], atoi(argv[3]));
  snprintf(tmpdir, sizeof tmpdir, "/tmp/kiln_test_io_XXXXXX");
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  RUN(test_guess_format);
  RUN(test_dispatch_errors);
  RUN(test_atomic_write);
  RUN(test_xyz_read_ase);
  RUN(test_xyz_roundtrip);
  RUN(test_xyz_ase_reads_kiln);
  RUN(test_xyz_plain_and_variants);
  RUN(test_xyz_errors);
  RUN(test_xyz_datasets);
  RUN(test_lammps_samples);
  RUN(test_lammps_data_variants);
  RUN(test_lammps_data_write);
  RUN(test_lammps_dump_errors);
  RUN(test_poscar_roundtrip);
  RUN(test_poscar_variants);
  RUN(test_h5md);
  RUN(test_h5md_while_writing);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return check_summary();
}
