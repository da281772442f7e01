/* tests/c/test_frames.c: frame by frame reading (kiln_frames, src/io/frames.c and
 * src/io/dump_fast.c) and kiln_corr_feed (src/corr/feed.c).
 * References: kiln_io_read on the same files (LAMMPS 29 Sep 2021 dumps and data file,
 * ASE 3.22 extended XYZ in tests/data/; H5MD and POSCAR written here), glibc strtod
 * for the fast decimal parser. Run from the repository root. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "io/io_internal.h"
#include "kiln/corr.h"
#include "kiln/kiln.h"

static char tmpdir[256];

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

static void free_frames(kiln_atoms **f, size_t n) {
  for (size_t i = 0; i < n; i++) kiln_atoms_free(f[i]);
  free(f);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ull;
}
static double urand(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }

/* Number of differences between a (frame reader) and b (kiln_io_read), printed. */
static int diff_atoms(const kiln_atoms *a, const kiln_atoms *b, const char *what) {
  int bad = 0;
#define DIFF(cond, ...) do { if (cond) { if (bad < 5) { fprintf(stderr, "  %s: ", what); \
  fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } bad++; } } while (0)
  DIFF(a->n != b->n, "n %zu vs %zu", a->n, b->n);
  if (bad) return bad;
  for (int i = 0; i < 3; i++) {
    DIFF(a->pbc[i] != b->pbc[i], "pbc[%d]", i);
    for (int j = 0; j < 3; j++) DIFF(a->cell[i][j] != b->cell[i][j], "cell[%d][%d] %.17g vs %.17g", i, j, a->cell[i][j], b->cell[i][j]);
  }
  DIFF(a->nspecies != b->nspecies, "nspecies %d vs %d", a->nspecies, b->nspecies);
  for (size_t i = 0; i < a->n; i++) {
    DIFF(strcmp(kiln_atoms_symbol(a, i), kiln_atoms_symbol(b, i)), "atom %zu: %s vs %s", i, kiln_atoms_symbol(a, i),
         kiln_atoms_symbol(b, i));
    DIFF(a->type[i] != b->type[i], "atom %zu: type %d vs %d", i, a->type[i], b->type[i]);
    DIFF(a->id[i] != b->id[i], "atom %zu: id %lld vs %lld", i, (long long)a->id[i], (long long)b->id[i]);
    DIFF(a->mass[i] != b->mass[i], "atom %zu: mass %.17g vs %.17g", i, a->mass[i], b->mass[i]);
    for (int d = 0; d < 3; d++) {
      DIFF(a->x[i][d] != b->x[i][d], "atom %zu: x[%d] %.17g vs %.17g", i, d, a->x[i][d], b->x[i][d]);
      DIFF(a->v[i][d] != b->v[i][d], "atom %zu: v[%d] %.17g vs %.17g", i, d, a->v[i][d], b->v[i][d]);
      DIFF(a->f[i][d] != b->f[i][d], "atom %zu: f[%d] %.17g vs %.17g", i, d, a->f[i][d], b->f[i][d]);
    }
  }
  DIFF(a->nprops != b->nprops, "nprops %zu vs %zu", a->nprops, b->nprops);
  for (size_t k = 0; k < b->nprops; k++) {
    const kiln_prop *q = &b->props[k], *p = kiln_atoms_prop_get(a, q->name);
    DIFF(!p, "prop %s missing", q->name);
    if (!p) continue;
    DIFF(p->kind != q->kind || p->ncols != q->ncols, "prop %s kind/ncols", q->name);
    if (p->kind != q->kind || p->ncols != q->ncols) continue;
    for (size_t j = 0; j < a->n * q->ncols; j++) {
      if (q->kind == KILN_VAL_STR) DIFF(strcmp(p->str[j], q->str[j]), "prop %s[%zu]", q->name, j);
      else DIFF(p->val[j] != q->val[j], "prop %s[%zu] %.17g vs %.17g", q->name, j, p->val[j], q->val[j]);
    }
  }
  DIFF(a->ninfo != b->ninfo, "ninfo %zu vs %zu", a->ninfo, b->ninfo);
  for (size_t k = 0; k < b->ninfo; k++) {
    const kiln_info *q = &b->info[k], *p = kiln_atoms_info_get(a, q->name);
    DIFF(!p, "info %s missing", q->name);
    if (!p) continue;
    DIFF(p->kind != q->kind || p->count != q->count, "info %s kind/count", q->name);
    if (p->kind != q->kind || p->count != q->count) continue;
    if (q->kind == KILN_VAL_STR) DIFF(strcmp(p->str, q->str), "info %s", q->name);
    else
      for (size_t j = 0; j < q->count; j++) DIFF(p->val[j] != q->val[j], "info %s[%zu]", q->name, j);
  }
#undef DIFF
  return bad;
}

/* Read file both ways; every frame must be identical. Returns the frame count. */
static size_t compare_reader(const char *file, const char *format, kiln_opts *o1, kiln_opts *o2) {
  kiln_error err;
  kiln_atoms **ref = NULL;
  size_t nref = 0;
  CHECK_OK(kiln_io_read(file, format, o1, &ref, &nref, &err));
  kiln_frames *r = NULL;
  CHECK_OK(kiln_frames_open(&r, file, format, o2, &err));
  if (!r) { free_frames(ref, nref); return 0; }
  kiln_atoms *a = NULL, *first = NULL;
  size_t k = 0;
  for (;;) {
    long step = -99;
    double time = -99;
    int got = 0;
    kiln_status st = kiln_frames_next(r, &a, &step, &time, &got, &err);
    CHECK(st == KILN_OK);
    if (st) { fprintf(stderr, "  %s: %s\n", file, err.msg); break; }
    if (!got) break;
    if (!first) first = a;
    CHECK(a == first); /* refilled in place */
    if (k >= nref) { CHECK(k < nref); break; }
    char what[300];
    snprintf(what, sizeof what, "%s frame %zu", file, k);
    CHECK(diff_atoms(a, ref[k], what) == 0);
    const kiln_info *is = kiln_atoms_info_get(ref[k], "step"), *it = kiln_atoms_info_get(ref[k], "time");
    CHECK(step == (is ? (long)is->val[0] : (long)k));
    if (it) CHECK(time == it->val[0]);
    else CHECK(isnan(time));
    k++;
  }
  CHECK(k == nref);
  CHECK(kiln_frames_index(r) == (long)nref);
  kiln_atoms_free(a);
  kiln_frames_close(r);
  free_frames(ref, nref);
  return k;
}

static kiln_opts *symbols_opt(const char *s1, const char *s2) {
  kiln_error err;
  kiln_opts *o, *l;
  kiln_opts_new(&o, &err);
  kiln_opts_add_table(o, "symbols", &l, &err);
  kiln_opts_add_str(l, NULL, s1, &err);
  if (s2) kiln_opts_add_str(l, NULL, s2, &err);
  return o;
}

TEST(test_same_as_io_read) {
  kiln_error err;
  CHECK(compare_reader("tests/data/lmp_tri_a.dump", NULL, NULL, NULL) == 3); /* element column, unsorted */
  CHECK(compare_reader("tests/data/lmp_tri_b.dump", NULL, NULL, NULL) == 3); /* xs + image flags, mass, c_pe */
  kiln_opts *o1 = symbols_opt("Si", "O"), *o2 = symbols_opt("Si", "O");
  CHECK(compare_reader("tests/data/lmp_tri_c.dump", NULL, o1, o2) == 3);      /* xu, types + symbols */
  kiln_opts_free(o1);
  kiln_opts_free(o2);
  CHECK(compare_reader("tests/data/ase_frames.xyz", NULL, NULL, NULL) >= 2);
  CHECK(compare_reader("tests/data/lmp_tri.data", NULL, NULL, NULL) == 1);
  /* h5md and POSCAR written here from the dump frames */
  kiln_atoms **fr;
  size_t n;
  CHECK_OK(kiln_io_read("tests/data/lmp_tri_a.dump", NULL, NULL, &fr, &n, &err));
  CHECK_OK(kiln_io_write(tp("tri.h5"), NULL, NULL, fr, n, 0, &err));
  CHECK_OK(kiln_io_write(tp("POSCAR"), NULL, NULL, fr + 2, 1, 0, &err));
  free_frames(fr, n);
  CHECK(compare_reader(tp("tri.h5"), NULL, NULL, NULL) == 3);
  CHECK(compare_reader(tp("POSCAR"), NULL, NULL, NULL) == 1);
  kiln_frames *r;
  CHECK_OK(kiln_frames_open(&r, tp("tri.h5"), NULL, NULL, &err));
  CHECK(kiln_frames_count(r) == 3);
  kiln_frames_close(r);
  CHECK_OK(kiln_frames_open(&r, "tests/data/lmp_tri_a.dump", NULL, NULL, &err));
  CHECK(kiln_frames_count(r) == -1);
  kiln_frames_close(r);
  /* a multi-frame xyz written by kiln: frames of different sizes */
  kiln_atoms *two[2];
  CHECK_OK(kiln_io_read("tests/data/lmp_tri_a.dump", NULL, NULL, &fr, &n, &err));
  two[0] = fr[0];
  two[1] = fr[1];
  CHECK_OK(kiln_atoms_resize(fr[1], 11, &err));
  CHECK_OK(kiln_io_write(tp("two.xyz"), NULL, NULL, two, 2, 0, &err));
  free_frames(fr, n);
  CHECK(compare_reader(tp("two.xyz"), NULL, NULL, NULL) == 2);
}

/* Shuffled %.6f dumps (the benchmark's number form: the fast parser path) with a
 * different atom order in every frame, compared with kiln_io_read. */
TEST(test_unsorted_fast_dump) {
  kiln_error err;
  kiln_atoms **fr;
  size_t n;
  CHECK_OK(kiln_io_read("tests/data/lmp_tri_a.dump", NULL, NULL, &fr, &n, &err));
  FILE *f = fopen(tp("shuf.lammpstrj"), "w");
  for (size_t k = 0; k < n; k++) {
    const kiln_atoms *a = fr[k];
    size_t perm[64];
    for (size_t i = 0; i < a->n; i++) perm[i] = i;
    for (size_t i = a->n - 1; i > 0; i--) {
      size_t j = rnd() % (i + 1), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    fprintf(f, "ITEM: TIMESTEP\n%zu\nITEM: NUMBER OF ATOMS\n%zu\nITEM: BOX BOUNDS pp pp pp\n", 1000 + 10 * k, a->n);
    for (int d = 0; d < 3; d++) fprintf(f, "%.6f %.6f\n", -1.0 * d, a->cell[d][d] - 1.0 * d);
    fprintf(f, "ITEM: ATOMS type x id y z vx vy vz\n");
    for (size_t q = 0; q < a->n; q++) {
      size_t i = perm[q];
      fprintf(f, "%d %.6f %lld %.6f %.6f %.6f %.6f %.6f\n", a->type[i] + 1, a->x[i][0], (long long)a->id[i] * 7,
              a->x[i][1], a->x[i][2], 1e3 * a->v[i][0], 1e3 * a->v[i][1], 1e3 * a->v[i][2]);
    }
  }
  fclose(f);
  free_frames(fr, n);
  kiln_opts *o1 = symbols_opt("Si", "O"), *o2 = symbols_opt("Si", "O");
  CHECK(compare_reader(tp("shuf.lammpstrj"), NULL, o1, o2) == 3);
  kiln_opts_free(o1);
  kiln_opts_free(o2);
  /* ids are sorted: the frame reader's atom 0 has the smallest id */
  kiln_frames *r;
  o1 = symbols_opt("Si", "O");
  CHECK_OK(kiln_frames_open(&r, tp("shuf.lammpstrj"), NULL, o1, &err));
  kiln_atoms *a = NULL;
  long step;
  double time;
  int got;
  CHECK_OK(kiln_frames_next(r, &a, &step, &time, &got, &err));
  CHECK(got == 1 && step == 1000 && isnan(time));
  for (size_t i = 1; a && i < a->n; i++) CHECK(a->id[i] > a->id[i - 1]);
  CHECK(a && a->id[0] == 7);
  CHECK(a && fabs(a->v[0][0]) < 0.1); /* Å/ps -> Å/fs */
  /* a different atoms object is refused */
  kiln_atoms *other = NULL;
  CHECK_OK(kiln_atoms_new(&other, a ? a->n : 1, &err));
  CHECK_ERR(kiln_frames_next(r, &other, &step, &time, &got, &err), KILN_EINVAL, "previous frame");
  kiln_atoms_free(other);
  kiln_atoms_free(a);
  kiln_frames_close(r);
  kiln_opts_free(o1);
}

/* The fast decimal parser against glibc strtod on random decimal strings. */
TEST(test_fast_parser) {
  int nfast = 0, nexact = 0, maxulp = 0, nbad = 0;
  const int N = 100000;
  char s[96];
  for (int t = 0; t < N; t++) {
    int form = (int)(rnd() % 8);
    double mag = pow(10.0, -8.0 + 16.0 * urand()) * (rnd() & 1 ? -1 : 1);
    switch (form) {
    case 0: snprintf(s, sizeof s, "%.*f", (int)(rnd() % 10), mag); break;
    case 1: snprintf(s, sizeof s, "%.*e", (int)(rnd() % 18), mag); break;
    case 2:
    case 3:
    case 4: { /* digit strings: sign, int part, fraction, exponent; form 4 long mantissas */
      char *p = s;
      int r = (int)(rnd() % 3);
      if (r == 1) *p++ = '-';
      else if (r == 2) *p++ = '+';
      int ni = (int)(rnd() % (form == 4 ? 14 : 8)), nf = (int)(rnd() % (form == 4 ? 14 : 10));
      if (ni + nf == 0) ni = 1;
      for (int k = 0; k < ni; k++) *p++ = (char)('0' + rnd() % 10);
      if (nf || rnd() % 4 == 0) *p++ = '.';
      for (int k = 0; k < nf; k++) *p++ = (char)('0' + rnd() % 10);
      if (form == 3) p += sprintf(p, "%c%s%d", rnd() & 1 ? 'e' : 'E', rnd() & 1 ? "-" : (rnd() & 1 ? "+" : ""),
                                  (int)(rnd() % 40));
      *p = 0;
      break;
    }
    case 5: snprintf(s, sizeof s, "%.17g", mag); break;
    case 6: snprintf(s, sizeof s, "%lld", (long long)(rnd() >> (rnd() % 64)) * (rnd() & 1 ? -1 : 1)); break;
    default: snprintf(s, sizeof s, "%.6f", -20.0 + 40.0 * urand()); break;
    }
    double ref = strtod(s, NULL), v = NAN, vf;
    const char *e = kilni_scan_real_fast(s, &vf);
    if (e && *e == 0) nfast++;
    if (!kilni_parse_real_n(s, strlen(s), &v)) { nbad++; fprintf(stderr, "  rejected '%s'\n", s); continue; }
    int64_t ia, ib;
    memcpy(&ia, &v, 8);
    memcpy(&ib, &ref, 8);
    if (ia == ib) { nexact++; continue; }
    int64_t ulp = ia > ib ? ia - ib : ib - ia;
    if (ulp > maxulp) maxulp = ulp > 1000 ? 1000 : (int)ulp;
    if (ulp > 1) fprintf(stderr, "  '%s': %.17g vs strtod %.17g\n", s, v, ref);
  }
  printf("  fast parser: %d strings, %d on the fast path, %d bit-identical to strtod, max %d ulp\n", N, nfast,
         nexact, maxulp);
  CHECK(nbad == 0);
  CHECK(maxulp <= 1);
  CHECK(nexact == N);       /* in fact exact: one correctly rounded operation */
  CHECK(nfast > N / 2);
  /* edge forms: same acceptance as strtod-based kilni_parse_real */
  const char *forms[] = {"0", "-0", "-0.000000", "1.", ".5", "-.5e1", "+3", "1e22", "1e23", "9007199254740993",
                         "123456789012345678901234", "4.9e-324", "1e-400", "1e400", "inf", "nan", "0x10", "1e",
                         "1.2.3", "--1", "1e+", "e5", ".", "-", "1 ", "12a", "1e5x", "00000000000000000000001.5"};
  for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
    double a = 1234, b = 5678;
    int oa = kilni_parse_real_n(forms[k], strlen(forms[k]), &a), ob = kilni_parse_real(forms[k], &b);
    CHECK(oa == ob);
    if (oa && ob) CHECK(memcmp(&a, &b, 8) == 0 || (isnan(a) && isnan(b)));
    if (oa != ob) fprintf(stderr, "  form '%s': %d vs %d\n", forms[k], oa, ob);
  }
}

/* Read frames until the first error; returns the status, frames read in *nok. */
static kiln_status read_all(const char *file, kiln_opts *o, int *nok, kiln_error *err) {
  kiln_frames *r;
  kiln_status st = kiln_frames_open(&r, file, NULL, o, err);
  *nok = 0;
  if (st) return st;
  kiln_atoms *a = NULL;
  for (;;) {
    int got;
    if ((st = kiln_frames_next(r, &a, NULL, NULL, &got, err)) || !got) break;
    (*nok)++;
  }
  kiln_atoms_free(a);
  kiln_frames_close(r);
  return st;
}

static const char *frame_text(int step, int natoms, const char *atoms) {
  static char buf[4][1024];
  static int k = 0;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k],
           "ITEM: TIMESTEP\n%d\nITEM: NUMBER OF ATOMS\n%d\nITEM: BOX BOUNDS pp pp pp\n0 10\n0 10\n0 10\n"
           "ITEM: ATOMS id type x y z\n%s", step, natoms, atoms);
  return buf[k];
}

TEST(test_dump_errors) {
  kiln_error err;
  kiln_opts *o = symbols_opt("Si", NULL);
  const char *good = "1 1 0.5 0.5 0.5\n2 1 1.5 1.5 1.5\n3 1 2.5 2.5 2.5\n";
  char text[4096], msg[600];
  const char *f = tp("bad.dump");
  int nok;
  /* truncated last frame: frame 1 is read, then the error names the line */
  snprintf(text, sizeof text, "%s%s", frame_text(0, 3, good), frame_text(10, 3, "1 1 0.5 0.5 0.5\n2 1 1.5 1.5 1.5\n"));
  put_file(f, text);
  snprintf(msg, sizeof msg, "%s:23: expected 3 atom lines, file ends after 2", f);
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, msg);
  CHECK(nok == 1);
  kiln_atoms **fr = NULL;
  size_t nfr = 0;
  CHECK_ERR(kiln_io_read(f, NULL, o, &fr, &nfr, &err), KILN_EFORMAT, msg); /* the same message */
  /* bad number: file, line, field, value */
  snprintf(text, sizeof text, "%s%s", frame_text(0, 3, good), frame_text(10, 3, "1 1 0.5 0.5 0.5\n2 1 1.5 1.2.3 1.5\n3 1 1 1 1\n"));
  put_file(f, text);
  snprintf(msg, sizeof msg, "%s:23: field 'y' (column 4): expected a number (got '1.2.3')", f);
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, msg);
  CHECK(nok == 1);
  CHECK_ERR(kiln_io_read(f, NULL, o, &fr, &nfr, &err), KILN_EFORMAT, msg);
  snprintf(text, sizeof text, "%s", frame_text(0, 3, "1 1 0.5 0.5 0.5\n2 1 1.5 1.5 1.5\n3 1 2.5 2.5 nan(0x1)\n"));
  put_file(f, text);
  snprintf(msg, sizeof msg, "%s:12: field 'z' (column 5): expected a number (got 'nan(0x1)')", f);
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, msg);
  /* column count */
  snprintf(text, sizeof text, "%s", frame_text(0, 3, "1 1 0.5 0.5 0.5\n2 1 1.5 1.5\n3 1 2.5 2.5 2.5\n"));
  put_file(f, text);
  snprintf(msg, sizeof msg, "%s:11: expected 5 columns (got 4)", f);
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, msg);
  snprintf(text, sizeof text, "%s", frame_text(0, 3, "1 1 0.5 0.5 0.5\n2 1 1.5 1.5 1.5 7\n3 1 2.5 2.5 2.5\n"));
  put_file(f, text);
  snprintf(msg, sizeof msg, "%s:11: expected 5 columns (got 6)", f);
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, msg);
  /* bad type, fractional id */
  snprintf(text, sizeof text, "%s", frame_text(0, 3, "1 1 0.5 0.5 0.5\n2 0 1.5 1.5 1.5\n3 1 2.5 2.5 2.5\n"));
  put_file(f, text);
  snprintf(msg, sizeof msg, "%s:11: field 'type' (column 2): expected a type 1..1024 (got 0)", f);
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, msg);
  /* the set of ids changes; the count changes; an id twice */
  snprintf(text, sizeof text, "%s%s", frame_text(0, 3, good), frame_text(10, 3, "1 1 0.5 0.5 0.5\n7 1 1.5 1.5 1.5\n3 1 1 1 1\n"));
  put_file(f, text);
  snprintf(msg, sizeof msg, "%s:23: field 'id': atom id 7 is not in the first frame", f);
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, msg);
  CHECK(nok == 1);
  snprintf(text, sizeof text, "%s%s", frame_text(0, 3, good), frame_text(10, 3, "1 1 0.5 0.5 0.5\n3 1 1.5 1.5 1.5\n3 1 1 1 1\n"));
  put_file(f, text);
  snprintf(msg, sizeof msg, "%s:24: ATOMS: atom id 3 appears twice", f);
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, msg);
  snprintf(text, sizeof text, "%s%s", frame_text(0, 3, good), frame_text(10, 2, "1 1 0.5 0.5 0.5\n3 1 1.5 1.5 1.5\n"));
  put_file(f, text);
  snprintf(msg, sizeof msg, "%s:16: NUMBER OF ATOMS: 2 differs from the first frame's 3", f);
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, msg);
  /* the file ends inside a frame header; an empty file; no element information */
  snprintf(text, sizeof text, "%sITEM: TIMESTEP\n10\n", frame_text(0, 3, good));
  put_file(f, text);
  snprintf(msg, sizeof msg, "%s:14: the file ends inside a frame (after ITEM: TIMESTEP", f);
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, msg);
  CHECK(nok == 1);
  put_file(f, "");
  CHECK_ERR(read_all(f, o, &nok, &err), KILN_EFORMAT, "no frames");
  put_file(f, frame_text(0, 3, good));
  snprintf(msg, sizeof msg, "%s:9: ATOMS: cannot tell the elements", f);
  CHECK_ERR(read_all(f, NULL, &nok, &err), KILN_EFORMAT, msg);
  /* unknown options; index is not for streams; missing file */
  kiln_opts *bad;
  kiln_opts_new(&bad, &err);
  kiln_opts_add_num(bad, "indx", 1, &err);
  kiln_frames *r = NULL;
  CHECK_ERR(kiln_frames_open(&r, f, NULL, bad, &err), KILN_EINVAL, "unknown option 'indx'");
  kiln_opts_free(bad);
  kiln_opts_new(&bad, &err);
  kiln_opts_add_num(bad, "index", 1, &err);
  CHECK_ERR(kiln_frames_open(&r, f, NULL, bad, &err), KILN_EINVAL, "option 'index'");
  kiln_opts_free(bad);
  CHECK_ERR(kiln_frames_open(&r, tp("missing.dump"), NULL, NULL, &err), KILN_EIO, "cannot open");
  CHECK_ERR(kiln_frames_open(&r, tp("x.unknown"), NULL, NULL, &err), KILN_EINVAL, "cannot tell the format");
  /* CRLF line ends, blank lines between frames, numbers in unusual forms (strtod fallback) */
  snprintf(text, sizeof text, "%s\n\n%s",
           frame_text(0, 3, "1 1 5e-1 0.5 +0.5\r\n2 1 1.5 1.5000000000000000000001 1.5\r\n3 1 2.5 2.5 25E-1\n"),
           frame_text(10, 3, good));
  put_file(f, text);
  CHECK(read_all(f, o, &nok, &err) == KILN_OK && nok == 2);
  kiln_opts_free(o);
}

/* ---------------------------------------------------------------- kiln_corr_feed */

typedef struct prog { long calls, last_done, last_total, stop_at; } prog;
static int on_progress(void *ud, long done, long total) {
  prog *p = ud;
  p->calls++;
  p->last_done = done;
  p->last_total = total;
  return p->stop_at > 0 && done >= p->stop_at;
}

/* A 2x2x2 simple-cubic crystal (8 atoms, a = 2.5 Å) with small displacements,
 * written as nfr frames every 5 fs to an H5MD file and as a LAMMPS dump (steps 0, 10,
 * ... without ITEM: TIME, %.6f numbers). */
static void write_sc_traj(const char *h5, const char *dump, int nfr) {
  kiln_error err;
  kiln_traj *t = NULL;
  kiln_traj_open(&t, h5, "w", &err);
  FILE *f = fopen(dump, "w");
  for (int k = 0; k < nfr; k++) {
    kiln_atoms *a;
    kiln_atoms_new(&a, 8, &err);
    double cell[3][3] = {{5, 0, 0}, {0, 5, 0}, {0, 0, 5}};
    memcpy(a->cell, cell, sizeof cell);
    a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
    for (int i = 0; i < 8; i++) {
      kiln_atoms_set_symbol(a, (size_t)i, "Ar", &err);
      for (int d = 0; d < 3; d++) {
        a->x[i][d] = 2.5 * ((i >> d) & 1) + 0.05 * sin(0.7 * k + i + 2.0 * d);
        a->v[i][d] = 0.002 * cos(0.7 * k + i + 2.0 * d);
      }
    }
    kiln_traj_append(t, a, 10L * k, 5.0 * k, KILN_TRAJ_POS | KILN_TRAJ_VEL, &err);
    fprintf(f, "ITEM: TIMESTEP\n%d\nITEM: NUMBER OF ATOMS\n8\nITEM: BOX BOUNDS pp pp pp\n0 5\n0 5\n0 5\n"
               "ITEM: ATOMS id type x y z vx vy vz\n", 10 * k);
    for (int i = 7; i >= 0; i--)
      fprintf(f, "%d 1 %.6f %.6f %.6f %.6f %.6f %.6f\n", i + 1, a->x[i][0], a->x[i][1], a->x[i][2],
              1e3 * a->v[i][0], 1e3 * a->v[i][1], 1e3 * a->v[i][2]);
    kiln_atoms_free(a);
  }
  fclose(f);
  kiln_traj_close(t, &err);
}

/* A correlator whose init works today: vacf if written, else green (sc lattice). */
static kiln_corr *any_corr(const char **style) {
  kiln_error err;
  kiln_corr *c = NULL;
  *style = "vacf";
  if (kiln_corr_new(&c, "vacf", NULL, &err) == KILN_OK) return c;
  printf("  (vacf: %s; feed tested with green)\n", err.msg);
  kiln_opts *o, *uc, *cell, *row, *pos, *sc;
  kiln_opts_new(&o, &err);
  kiln_opts_add_table(o, "unitcell", &uc, &err);
  kiln_opts_add_table(uc, "cell", &cell, &err);
  for (int i = 0; i < 3; i++) {
    kiln_opts_add_table(cell, NULL, &row, &err);
    for (int j = 0; j < 3; j++) kiln_opts_add_num(row, NULL, i == j ? 2.5 : 0.0, &err);
  }
  kiln_opts_add_table(uc, "positions", &pos, &err);
  kiln_opts_add_table(pos, NULL, &row, &err);
  for (int j = 0; j < 3; j++) kiln_opts_add_num(row, NULL, 0.0, &err);
  kiln_opts_add_table(o, "supercell", &sc, &err);
  for (int j = 0; j < 3; j++) kiln_opts_add_num(sc, NULL, 2, &err);
  kiln_opts_add_num(o, "T", 300, &err);
  *style = "green";
  if (kiln_corr_new(&c, "green", o, &err) != KILN_OK) {
    printf("  (green: %s)\n", err.msg);
    c = NULL;
  }
  kiln_opts_free(o);
  return c;
}

static kiln_opts *feed_opts(long start, long stop, long every, double timestep) {
  kiln_error err;
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  if (start >= 0) kiln_opts_add_num(o, "start", (double)start, &err);
  if (stop >= 0) kiln_opts_add_num(o, "stop", (double)stop, &err);
  if (every > 0) kiln_opts_add_num(o, "every", (double)every, &err);
  if (timestep > 0) kiln_opts_add_num(o, "timestep", timestep, &err);
  return o;
}

TEST(test_feed) {
  kiln_error err;
  const char *h5 = tp("sc.h5"), *dump = tp("sc.dump");
  write_sc_traj(h5, dump, 12);
  const char *style;
  kiln_corr *c1 = any_corr(&style), *c2 = any_corr(&style);
  CHECK(c1 && c2);
  if (!c1 || !c2) {
    printf("  NEEDS RE-RUN: no correlator style initialises yet\n");
    kiln_corr_free(c1);
    kiln_corr_free(c2);
    return;
  }
  kiln_corr *cs[2] = {c1, c2};
  /* h5md: times from the file (5 fs), all frames, progress with the exact total */
  prog p = {0, 0, 0, 0};
  CHECK_OK(kiln_corr_feed(cs, 2, h5, NULL, NULL, on_progress, &p, &err));
  CHECK(kiln_corr_nframes(c1) == 12 && kiln_corr_nframes(c2) == 12);
  CHECK_CLOSE(kiln_corr_dt(c1), 5.0, 1e-12, 0);
  CHECK(p.calls == 12 && p.last_done == 12 && p.last_total == 12);
  kiln_corr_free(c2);
  /* start/stop/every: frames 2, 5, 8 of 12 -> 3 frames 15 fs apart (a fresh correlator) */
  c2 = any_corr(&style);
  kiln_opts *o = feed_opts(2, 10, 3, -1);
  p = (prog){0, 0, 0, 0};
  CHECK_OK(kiln_corr_feed(&c2, 1, h5, NULL, o, on_progress, &p, &err));
  CHECK(kiln_corr_nframes(c2) == 3);
  CHECK_CLOSE(kiln_corr_dt(c2), 15.0, 1e-12, 0);
  CHECK(p.calls == 3 && p.last_total == 3);
  kiln_opts_free(o);
  kiln_corr_free(c2);
  /* dump without times: step * timestep (steps 0, 10, ...; 0.5 fs -> 5 fs), total unknown */
  c2 = any_corr(&style);
  o = feed_opts(-1, -1, 2, 0.5);
  kiln_opts *syms;
  kiln_opts_add_table(o, "symbols", &syms, &err);
  kiln_opts_add_str(syms, NULL, "Ar", &err);
  p = (prog){0, 0, 0, 0};
  CHECK_OK(kiln_corr_feed(&c2, 1, dump, NULL, o, on_progress, &p, &err));
  CHECK(kiln_corr_nframes(c2) == 6);
  CHECK_CLOSE(kiln_corr_dt(c2), 10.0, 1e-12, 0);
  CHECK(p.calls == 6 && p.last_total == -1);
  kiln_opts_free(o);
  /* feeding the same file again continues in time order only: frame times go back */
  o = feed_opts(-1, -1, -1, 0.5);
  kiln_opts_add_table(o, "symbols", &syms, &err);
  kiln_opts_add_str(syms, NULL, "Ar", &err);
  CHECK_ERR(kiln_corr_feed(&c2, 1, dump, NULL, o, NULL, NULL, &err), KILN_EINVAL, "frame 0: correlator");
  kiln_opts_free(o);
  kiln_corr_free(c2);
  /* dump without times and without timestep: frames carry no time, dt stays unknown */
  c2 = any_corr(&style);
  o = feed_opts(-1, 4, -1, -1);
  kiln_opts_add_table(o, "symbols", &syms, &err);
  kiln_opts_add_str(syms, NULL, "Ar", &err);
  CHECK_OK(kiln_corr_feed(&c2, 1, dump, "lammps-dump", o, NULL, NULL, &err));
  CHECK(kiln_corr_nframes(c2) == 4);
  CHECK(isnan(kiln_corr_dt(c2)));
  kiln_opts_free(o);
  kiln_corr_free(c2);
  /* interrupt by the progress callback */
  c2 = any_corr(&style);
  p = (prog){0, 0, 0, 4};
  CHECK_ERR(kiln_corr_feed(&c2, 1, h5, NULL, NULL, on_progress, &p, &err), KILN_EINTR, "interrupted after 4 frames");
  CHECK(kiln_corr_nframes(c2) == 4);
  kiln_corr_free(c2);
  /* option errors: unknown (named by the reader), bad ranges */
  o = feed_opts(-1, -1, -1, -1);
  kiln_opts_add_num(o, "evry", 2, &err);
  CHECK_ERR(kiln_corr_feed(&c1, 1, h5, NULL, o, NULL, NULL, &err), KILN_EINVAL, "unknown option 'evry'");
  kiln_opts_free(o);
  o = feed_opts(5, 3, -1, -1);
  CHECK_ERR(kiln_corr_feed(&c1, 1, h5, NULL, o, NULL, NULL, &err), KILN_EINVAL, "stop must be >= start");
  kiln_opts_free(o);
  o = feed_opts(-1, -1, 0, -1);
  kiln_opts_add_num(o, "every", 0, &err);
  CHECK_ERR(kiln_corr_feed(&c1, 1, h5, NULL, o, NULL, NULL, &err), KILN_EINVAL, "every must be >= 1");
  kiln_opts_free(o);
  o = feed_opts(50, -1, -1, -1);
  CHECK_ERR(kiln_corr_feed(&c1, 1, h5, NULL, o, NULL, NULL, &err), KILN_EINVAL, "no frames of");
  kiln_opts_free(o);
  CHECK(kiln_corr_nframes(c1) == 12); /* untouched by the failed calls */
  kiln_corr_free(c1);
}

/* Feeding from a file and adding the same frames one by one give bit-identical sqw
 * results (both go through kiln_corr_add_frame). Skipped while sqw is not written. */
TEST(test_feed_same_as_add) {
  kiln_error err;
  const char *h5 = tp("sc2.h5"), *dump = tp("sc2.dump");
  write_sc_traj(h5, dump, 9);
  kiln_opts *o, *q, *row;
  kiln_opts_new(&o, &err);
  kiln_opts_add_table(o, "q", &q, &err);
  for (int k = 1; k <= 2; k++) {
    kiln_opts_add_table(q, NULL, &row, &err);
    kiln_opts_add_num(row, NULL, 2 * M_PI / 5.0 * k, &err);
    kiln_opts_add_num(row, NULL, 2 * M_PI / 5.0, &err);
    kiln_opts_add_num(row, NULL, 0.0, &err);
  }
  kiln_opts_add_num(o, "window", 4, &err);
  kiln_opts_add_bool(o, "incoherent", 1, &err);
  kiln_corr *a = NULL, *b = NULL;
  if (kiln_corr_new(&a, "sqw", o, &err) != KILN_OK) {
    printf("  SKIP: sqw: %s (NEEDS RE-RUN when sqw is written)\n", err.msg);
    kiln_opts_free(o);
    return;
  }
  CHECK_OK(kiln_corr_new(&b, "sqw", o, &err));
  kiln_opts_free(o);
  CHECK_OK(kiln_corr_feed(&a, 1, h5, NULL, NULL, NULL, NULL, &err));
  kiln_frames *r;
  CHECK_OK(kiln_frames_open(&r, h5, NULL, NULL, &err));
  kiln_atoms *at = NULL;
  long step;
  double time;
  int got, n = 0;
  while (kiln_frames_next(r, &at, &step, &time, &got, &err) == KILN_OK && got) {
    CHECK_OK(kiln_corr_add_frame(b, at, time, &err));
    n++;
  }
  CHECK(n == 9);
  kiln_atoms_free(at);
  kiln_frames_close(r);
  kiln_result *ra = NULL, *rb = NULL;
  CHECK_OK(kiln_corr_result(a, &ra, &err));
  CHECK_OK(kiln_corr_result(b, &rb, &err));
  int items = 0;
  for (size_t k = 0; ra && rb && k < ra->n; k++) {
    const kiln_result_item *x = &ra->item[k], *y = kiln_result_get(rb, x->name);
    CHECK(y && y->a->rows == x->a->rows && y->a->cols == x->a->cols);
    if (!y || y->a->rows != x->a->rows || y->a->cols != x->a->cols) continue;
    CHECK(memcmp(x->a->data, y->a->data, x->a->rows * x->a->cols * sizeof(double)) == 0);
    items++;
  }
  CHECK(items >= 4 && kiln_result_get(ra, "fqt_coh") != NULL);
  kiln_result_free(ra);
  kiln_result_free(rb);
  kiln_corr_free(a);
  kiln_corr_free(b);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/kiln_test_frames_XXXXXX");
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  RUN(test_same_as_io_read);
  RUN(test_unsorted_fast_dump);
  RUN(test_fast_parser);
  RUN(test_dump_errors);
  RUN(test_feed);
  RUN(test_feed_same_as_add);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return check_summary();
}
