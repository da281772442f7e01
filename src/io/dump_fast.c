/* src/io/dump_fast.c: a streaming, fast reader of LAMMPS custom text dumps (one frame
 * per call, atoms reused), and the fast decimal parser it uses.
 *
 * Same conventions as kiln_lammps_dump_read (src/io/lammps.c): columns, units, box and
 * triclinic handling, element inference, atoms in id order, error messages
 * "file:line: field 'name': message (got 'value')". Differences: the set of atom ids
 * (and so the atom count) and the ATOMS columns are fixed by the first frame (a
 * change is an error naming the line); the species table is the first frame's.
 *
 * Speed: the file is read with read(2) in large blocks, lines are found with
 * memchr, numbers are parsed by hand (kilni_scan_real_fast: exact, equal to strtod)
 * with strtod as the fallback for unusual forms, atoms are placed through an
 * id -> index map built from the first frame, and nothing is allocated per frame. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "io/io_internal.h"

#define MAXTYPES 1024
#define BLOCK ((size_t)1 << 22) /* 4 MiB reads */

/* ------------------------------------------------------------ numbers */

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* [+-]digits[.digits][(e|E)[+-]digits]: mantissa digits read as an integer m; when m
 * <= 2^53 and the decimal exponent is within ±22, m and 10^|e| are exact doubles and one
 * multiplication or division rounds correctly, so the result equals strtod's. Anything
 * else returns NULL (the caller falls back to strtod). */
static inline const char *scan_real(const char *p, double *v) {
  int neg = 0;
  if (*p == '-') { neg = 1; p++; }
  else if (*p == '+') p++;
  uint64_t m = 0;
  const char *d0 = p;
  while ((unsigned)(*p - '0') < 10u) m = m * 10u + (uint64_t)(*p++ - '0');
  int nd = (int)(p - d0), e10 = 0;
  if (*p == '.') {
    const char *f0 = ++p;
    while ((unsigned)(*p - '0') < 10u) m = m * 10u + (uint64_t)(*p++ - '0');
    e10 = -(int)(p - f0);
    nd -= e10;
  }
  if (nd == 0 || nd > 19) return NULL;
  if (*p == 'e' || *p == 'E') {
    p++;
    int eneg = 0, ex = 0;
    if (*p == '-') { eneg = 1; p++; }
    else if (*p == '+') p++;
    const char *x0 = p;
    while ((unsigned)(*p - '0') < 10u && p - x0 < 6) ex = ex * 10 + (*p++ - '0');
    if (p == x0 || (unsigned)(*p - '0') < 10u) return NULL;
    e10 += eneg ? -ex : ex;
  }
  if (m > ((uint64_t)1 << 53)) return NULL;
  double x = (double)m;
  if (e10 < 0) {
    if (e10 < -22) return NULL;
    x /= pow10_exact[-e10];
  } else if (e10 > 0) {
    if (e10 > 22) return NULL;
    x *= pow10_exact[e10];
  }
  *v = neg ? -x : x;
  return p;
}

const char *kilni_scan_real_fast(const char *s, double *v) { return scan_real(s, v); }

int kilni_parse_real_n(const char *s, size_t len, double *v) {
  double x;
  const char *e = scan_real(s, &x);
  if (e && (size_t)(e - s) == len) {
    *v = x;
    return 1;
  }
  char buf[128], *b = len < sizeof buf ? buf : malloc(len + 1);
  if (!b) return 0;
  memcpy(b, s, len);
  b[len] = 0;
  int ok = kilni_parse_real(b, v);
  if (b != buf) free(b);
  return ok;
}

/* ------------------------------------------------------------ the reader */

enum { C_ID, C_TYPE, C_ELEM, C_MASS, C_X, C_XS, C_XU, C_XSU, C_IX, C_V, C_F, C_PROP, C_DROP };

typedef struct dcol { int kind, dim; } dcol;

static dcol classify(const char *c) {
  dcol r = {C_PROP, 0};
  static const struct { const char *n; int kind, dim; } known[] = {
      {"id", C_ID, 0}, {"type", C_TYPE, 0}, {"element", C_ELEM, 0}, {"mass", C_MASS, 0},
      {"x", C_X, 0}, {"y", C_X, 1}, {"z", C_X, 2}, {"xs", C_XS, 0}, {"ys", C_XS, 1}, {"zs", C_XS, 2},
      {"xu", C_XU, 0}, {"yu", C_XU, 1}, {"zu", C_XU, 2}, {"xsu", C_XSU, 0}, {"ysu", C_XSU, 1},
      {"zsu", C_XSU, 2}, {"ix", C_IX, 0}, {"iy", C_IX, 1}, {"iz", C_IX, 2}, {"vx", C_V, 0},
      {"vy", C_V, 1}, {"vz", C_V, 2}, {"fx", C_F, 0}, {"fy", C_F, 1}, {"fz", C_F, 2}};
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
    if (!strcmp(c, known[k].n)) { r.kind = known[k].kind; r.dim = known[k].dim; }
  return r;
}

typedef struct fstate {
  long long step, natoms;
  double time;
  int have_step, have_time, have_natoms, have_box, any;
  double lo[3], hi[3], tilt[3];
  int pbc[3];
} fstate;

struct kilni_dump {
  char *file;
  int fd;
  char *buf;
  size_t cap, beg, end;
  int eof;
  char *line;
  size_t len;
  long lineno;
  double nbytes;
  /* options */
  char osym[MAXTYPES][KILN_SYMBOL_LEN];
  int nosym;
  double vfac, ffac, tfac;
  /* fixed by the first frame */
  long nframes;
  size_t n;
  char *header;     /* ATOMS column text of the first frame */
  char *hdrbuf;     /* split copy: column names */
  char **cname;
  dcol *col;
  int ncol, nprop, ck, hasi, unwrap, hasv, hasf;
  int have[C_DROP][3], icol[C_DROP][3];
  double *val;      /* n x ncol, file order */
  char (*elem)[KILN_SYMBOL_LEN];
  int64_t *ids;     /* sorted ids of the first frame */
  size_t *inv;      /* atom j <- file row inv[j] */
  unsigned *stamp;  /* frame stamp per atom (duplicate check) */
  int32_t *direct;  /* id - idmin -> atom, or NULL (then binary search in ids) */
  int64_t idmin;
  size_t drange;
  int32_t tmap[MAXTYPES];
  double smass[KILN_MAX_SPECIES]; /* table mass per species, -1 unknown yet */
  double *pbuf;     /* n: props when they must be (re)created */
  kiln_atoms *last;
};

static kiln_status ferr(kiln_error *err, const kilni_dump *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static kiln_status ferr(kiln_error *err, const kilni_dump *d, const char *fmt, ...) {
  char buf[448];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return KILN_FAIL(err, KILN_EFORMAT, "%s:%ld: %s", d->file, d->lineno, buf);
}

/* Next line into d->line (NUL-terminated, without "\n" or "\r\n"). 1, 0 at EOF, -1 error. */
static int next_line(kilni_dump *d, kiln_error *err, kiln_status *st) {
  for (;;) {
    char *s = d->buf + d->beg;
    size_t avail = d->end - d->beg;
    char *nl = avail ? memchr(s, '\n', avail) : NULL;
    if (nl || (d->eof && avail)) {
      size_t len = nl ? (size_t)(nl - s) : avail;
      s[len] = 0; /* buf has a spare byte past end */
      d->beg += nl ? len + 1 : len;
      if (len && s[len - 1] == '\r') s[--len] = 0;
      d->line = s;
      d->len = len;
      d->lineno++;
      return 1;
    }
    if (d->eof) return 0;
    if (d->beg) {
      memmove(d->buf, s, avail);
      d->beg = 0;
      d->end = avail;
    }
    if (d->cap - d->end < BLOCK / 4) {
      size_t cap = d->cap * 2;
      char *b = realloc(d->buf, cap + 1);
      if (!b) {
        *st = KILN_FAIL(err, KILN_ENOMEM, "%s:%ld: out of memory for a %zu-byte line", d->file,
                        d->lineno + 1, d->cap);
        return -1;
      }
      d->buf = b;
      d->cap = cap;
    }
    ssize_t k = read(d->fd, d->buf + d->end, d->cap - d->end);
    if (k < 0) {
      if (errno == EINTR) continue;
      *st = KILN_FAIL(err, KILN_EIO, "%s: read error after line %ld: %s", d->file, d->lineno,
                      strerror(errno));
      return -1;
    }
    if (k == 0) d->eof = 1;
    d->end += (size_t)k;
    d->nbytes += (double)k;
  }
}

void kilni_dump_close(kilni_dump *d) {
  if (!d) return;
  if (d->fd >= 0) close(d->fd);
  free(d->file);
  free(d->buf);
  free(d->header);
  free(d->hdrbuf);
  free(d->cname);
  free(d->col);
  free(d->val);
  free(d->elem);
  free(d->ids);
  free(d->inv);
  free(d->stamp);
  free(d->direct);
  free(d->pbuf);
  free(d);
}

kiln_status kilni_dump_open(kilni_dump **out, const char *file, const kiln_opts *o,
                            kiln_error *err) {
  const char *what = "lammps-dump read";
  *out = NULL;
  if (!file) return KILN_FAIL(err, KILN_EINVAL, "file name is NULL");
  kilni_dump *d = calloc(1, sizeof *d);
  if (!d) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  d->fd = -1;
  kiln_status st = kilni_opt_symbols(o, what, d->osym, MAXTYPES, &d->nosym, err);
  if (!st) st = kilni_opt_lammps_units(o, what, &d->vfac, &d->ffac, &d->tfac, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (st) goto fail;
  d->cap = BLOCK;
  if (!(d->file = strdup(file)) || !(d->buf = malloc(d->cap + 1))) {
    st = KILN_FAIL(err, KILN_ENOMEM, "out of memory");
    goto fail;
  }
  d->fd = open(file, O_RDONLY);
  if (d->fd < 0) {
    st = KILN_FAIL(err, KILN_EIO, "cannot open '%s': %s", file, strerror(errno));
    goto fail;
  }
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise(d->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  for (int t = 0; t < MAXTYPES; t++) d->tmap[t] = -1;
  for (int s = 0; s < KILN_MAX_SPECIES; s++) d->smass[s] = -1;
  *out = d;
  return KILN_OK;
fail:
  kilni_dump_close(d);
  return st;
}

double kilni_dump_bytes(const kilni_dump *d) { return d->nbytes; }

/* One more line holding an item's value. */
static kiln_status item_value(kilni_dump *d, const char *item, kiln_error *err) {
  kiln_status st = KILN_OK;
  int got = next_line(d, err, &st);
  if (got < 0) return st;
  if (got == 0) return ferr(err, d, "ITEM: %s: file ends before its value", item);
  return KILN_OK;
}

static kiln_status read_box(kilni_dump *d, fstate *fs, char *rest, kiln_error *err) {
  char *tok[8];
  int nt = kilni_split(rest, tok, 8);
  int tri = nt >= 3 && !strcmp(tok[0], "xy") && !strcmp(tok[1], "xz") && !strcmp(tok[2], "yz");
  int off = tri ? 3 : 0;
  for (int k = 0; k < 3; k++) fs->pbc[k] = nt - off == 3 ? !strcmp(tok[off + k], "pp") : 1;
  double b[3][3] = {{0}};
  for (int k = 0; k < 3; k++) {
    kiln_status st = item_value(d, "BOX BOUNDS", err);
    if (st) return st;
    int m = kilni_split(d->line, tok, 4), want = tri ? 3 : 2;
    if (m != want) return ferr(err, d, "BOX BOUNDS: expected %d numbers (got %d)", want, m);
    for (int j = 0; j < want; j++)
      if (!kilni_parse_real(tok[j], &b[k][j]))
        return ferr(err, d, "BOX BOUNDS: expected a real number (got '%.100s')", tok[j]);
  }
  double xy = b[0][2], xz = b[1][2], yz = b[2][2];
  double xmin = fmin(fmin(0.0, xy), fmin(xz, xy + xz)), xmax = fmax(fmax(0.0, xy), fmax(xz, xy + xz));
  fs->lo[0] = b[0][0] - (tri ? xmin : 0.0);
  fs->hi[0] = b[0][1] - (tri ? xmax : 0.0);
  fs->lo[1] = b[1][0] - (tri ? fmin(0.0, yz) : 0.0);
  fs->hi[1] = b[1][1] - (tri ? fmax(0.0, yz) : 0.0);
  fs->lo[2] = b[2][0];
  fs->hi[2] = b[2][1];
  fs->tilt[0] = tri ? xy : 0.0;
  fs->tilt[1] = tri ? xz : 0.0;
  fs->tilt[2] = tri ? yz : 0.0;
  fs->have_box = 1;
  return KILN_OK;
}

/* Column plan from the first frame's ATOMS header. */
static kiln_status plan(kilni_dump *d, const char *header, kiln_error *err) {
  size_t hl = strlen(header);
  if (!(d->header = strdup(header)) || !(d->hdrbuf = strdup(header)))
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  size_t maxc = hl / 2 + 2;
  if (!(d->cname = malloc(maxc * sizeof *d->cname))) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  d->ncol = kilni_split(d->hdrbuf, d->cname, (int)maxc);
  if (d->ncol == 0) return ferr(err, d, "ITEM: ATOMS has no column names");
  if (!(d->col = malloc((size_t)d->ncol * sizeof *d->col))) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  memset(d->have, 0, sizeof d->have);
  for (int k = 0; k < d->ncol; k++) {
    d->col[k] = classify(d->cname[k]);
    if (d->col[k].kind != C_PROP) {
      d->have[d->col[k].kind][d->col[k].dim] = 1;
      d->icol[d->col[k].kind][d->col[k].dim] = k;
    }
  }
  d->ck = -1;
  const int order[4] = {C_XU, C_X, C_XSU, C_XS};
  for (int k = 0; k < 4 && d->ck < 0; k++)
    if (d->have[order[k]][0] && d->have[order[k]][1] && d->have[order[k]][2]) d->ck = order[k];
  if (d->ck < 0)
    return ferr(err, d, "ATOMS: no complete set of coordinates (x y z, xs ys zs, xu yu zu or xsu ysu zsu)");
  d->hasi = d->have[C_IX][0] && d->have[C_IX][1] && d->have[C_IX][2];
  d->unwrap = (d->ck == C_X || d->ck == C_XS) && d->hasi;
  d->hasv = d->have[C_V][0] && d->have[C_V][1] && d->have[C_V][2];
  d->hasf = d->have[C_F][0] && d->have[C_F][1] && d->have[C_F][2];
  d->nprop = 0;
  for (int k = 0; k < d->ncol; k++) {
    dcol *c = &d->col[k];
    if ((c->kind == C_V && !d->hasv) || (c->kind == C_F && !d->hasf) || (c->kind == C_IX && !d->hasi))
      c->kind = C_PROP;
    if (c->kind == C_PROP) d->nprop++;
  }
  if (!d->have[C_ELEM][0] && !d->have[C_TYPE][0]) return ferr(err, d, "ATOMS: needs a 'type' or 'element' column");
  if (!d->have[C_ELEM][0] && !d->nosym && !d->have[C_MASS][0])
    return ferr(err, d, "ATOMS: cannot tell the elements: dump an 'element' or 'mass' column, or give symbols={...}");
  return KILN_OK;
}

static int cmp_i64(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  return a < b ? -1 : a > b;
}

typedef struct idrow { int64_t id; size_t i; } idrow;
static int cmp_idrow(const void *pa, const void *pb) {
  const idrow *a = pa, *b = pb;
  return a->id < b->id ? -1 : a->id > b->id;
}

/* Buffers sized by the first frame; the id map from its ids (row order in d->inv). */
static kiln_status first_frame_setup(kilni_dump *d, kiln_error *err) {
  size_t n = d->n, nn = n ? n : 1;
  d->val = malloc(nn * (size_t)d->ncol * sizeof *d->val);
  d->inv = malloc(nn * sizeof *d->inv);
  d->ids = malloc(nn * sizeof *d->ids);
  d->stamp = calloc(nn, sizeof *d->stamp);
  d->pbuf = malloc(nn * sizeof *d->pbuf);
  if (d->have[C_ELEM][0]) d->elem = calloc(nn, sizeof *d->elem);
  if (!d->val || !d->inv || !d->ids || !d->stamp || !d->pbuf || (d->have[C_ELEM][0] && !d->elem))
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory for %zu atoms", n);
  return KILN_OK;
}

static kiln_status build_map(kilni_dump *d, long header_line, kiln_error *err) {
  size_t n = d->n;
  if (!d->have[C_ID][0]) {
    for (size_t j = 0; j < n; j++) { d->ids[j] = (int64_t)j + 1; d->inv[j] = j; }
    return KILN_OK;
  }
  idrow *o = malloc((n ? n : 1) * sizeof *o);
  if (!o) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  int kid = d->icol[C_ID][0];
  for (size_t i = 0; i < n; i++) {
    o[i].id = (int64_t)d->val[i * (size_t)d->ncol + (size_t)kid];
    o[i].i = i;
  }
  qsort(o, n, sizeof *o, cmp_idrow);
  for (size_t j = 0; j < n; j++) {
    if (j > 0 && o[j].id == o[j - 1].id) {
      long long id = (long long)o[j].id;
      free(o);
      return kilni_ferr_at(err, d->file, header_line, "ATOMS: atom id %lld appears twice", id);
    }
    d->ids[j] = o[j].id;
    d->inv[j] = o[j].i;
  }
  free(o);
  if (n) {
    d->idmin = d->ids[0];
    uint64_t range = (uint64_t)(d->ids[n - 1] - d->ids[0]) + 1;
    if (range <= 4 * (uint64_t)n + 1024) {
      d->drange = (size_t)range;
      if (!(d->direct = malloc(d->drange * sizeof *d->direct))) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
      for (size_t k = 0; k < d->drange; k++) d->direct[k] = -1;
      for (size_t j = 0; j < n; j++) d->direct[d->ids[j] - d->idmin] = (int32_t)j;
    }
  }
  return KILN_OK;
}

static long lookup(const kilni_dump *d, int64_t id) {
  if (d->direct) {
    if (id < d->idmin || (uint64_t)(id - d->idmin) >= d->drange) return -1;
    return d->direct[id - d->idmin];
  }
  const int64_t *p = bsearch(&id, d->ids, d->n, sizeof *d->ids, cmp_i64);
  return p ? (long)(p - d->ids) : -1;
}

/* Parse the n atom lines into d->val / d->elem (file order). */
static kiln_status parse_atoms(kilni_dump *d, kiln_error *err) {
  const size_t n = d->n;
  const int ncol = d->ncol;
  kiln_status st = KILN_OK;
  char last_ok[KILN_SYMBOL_LEN] = "";
  for (size_t i = 0; i < n; i++) {
    int got = next_line(d, err, &st);
    if (got < 0) return st;
    if (got == 0) return ferr(err, d, "expected %zu atom lines, file ends after %zu", n, i);
    const char *p = d->line;
    double *row = &d->val[i * (size_t)ncol];
    int k = 0;
    for (; k < ncol; k++) {
      while (*p == ' ' || *p == '\t') p++;
      if (!*p) break;
      const char *e;
      if (d->col[k].kind == C_ELEM) {
        e = p;
        while (*e && *e != ' ' && *e != '\t') e++;
        size_t l = (size_t)(e - p);
        if (l >= KILN_SYMBOL_LEN) return ferr(err, d, "field 'element' (column %d): unknown element symbol (got '%.100s')", k + 1, p);
        memcpy(d->elem[i], p, l);
        d->elem[i][l] = 0;
        if (strcmp(d->elem[i], last_ok)) {
          if (!kiln_element_z(d->elem[i]))
            return ferr(err, d, "field 'element' (column %d): unknown element symbol (got '%.100s')", k + 1,
                        d->elem[i]);
          strcpy(last_ok, d->elem[i]);
        }
        row[k] = 0;
      } else {
        e = scan_real(p, &row[k]);
        if (!e || (*e && *e != ' ' && *e != '\t')) { /* unusual form: strtod decides */
          e = p;
          while (*e && *e != ' ' && *e != '\t') e++;
          if (!kilni_parse_real_n(p, (size_t)(e - p), &row[k]))
            return ferr(err, d, "field '%s' (column %d): expected a number (got '%.*s')", d->cname[k], k + 1,
                        (int)((e - p) > 100 ? 100 : (e - p)), p);
        }
      }
      p = e;
    }
    while (*p == ' ' || *p == '\t') p++;
    if (k < ncol || *p) { /* count the fields for the message */
      int nt = 0;
      for (const char *q = d->line; *q;) {
        while (*q == ' ' || *q == '\t') q++;
        if (!*q) break;
        nt++;
        while (*q && *q != ' ' && *q != '\t') q++;
      }
      return ferr(err, d, "expected %d columns (got %d)", ncol, nt);
    }
    if (d->have[C_ID][0]) {
      double idv = row[d->icol[C_ID][0]];
      if (idv != floor(idv)) return ferr(err, d, "field 'id': expected an integer (got %g)", idv);
    }
    if (d->have[C_TYPE][0]) {
      double t = row[d->icol[C_TYPE][0]];
      if (t != floor(t) || t < 1 || t > MAXTYPES)
        return ferr(err, d, "field 'type' (column %d): expected a type 1..%d (got %g)", d->icol[C_TYPE][0] + 1,
                    MAXTYPES, t);
    }
  }
  return KILN_OK;
}

/* Later frames: file row i -> atom j through the first frame's ids. */
static kiln_status map_rows(kilni_dump *d, long header_line, kiln_error *err) {
  if (!d->have[C_ID][0]) return KILN_OK; /* file order */
  unsigned stamp = (unsigned)d->nframes + 1u;
  int kid = d->icol[C_ID][0];
  for (size_t i = 0; i < d->n; i++) {
    int64_t id = (int64_t)d->val[i * (size_t)d->ncol + (size_t)kid];
    long j = lookup(d, id);
    if (j < 0)
      return kilni_ferr_at(err, d->file, header_line + 1 + (long)i,
                           "field 'id': atom id %lld is not in the first frame (the frame reader needs the "
                           "same atoms in every frame)", (long long)id);
    if (d->stamp[j] == stamp)
      return kilni_ferr_at(err, d->file, header_line + 1 + (long)i, "ATOMS: atom id %lld appears twice",
                           (long long)id);
    d->stamp[j] = stamp;
    d->inv[j] = i;
  }
  return KILN_OK;
}

static double species_mass(kilni_dump *d, const kiln_atoms *a, int s) {
  if (d->smass[s] < 0) {
    int z = kiln_element_z(a->species[s]);
    d->smass[s] = z ? kiln_element_mass(z) : 0.0;
  }
  return d->smass[s];
}

static kiln_status set_info(kiln_atoms *a, const char *name, kiln_val_kind kind, double v, kiln_error *err) {
  kiln_info *in = kiln_atoms_info_get(a, name);
  if (in && in->kind == kind && in->count == 1) {
    in->val[0] = v;
    return KILN_OK;
  }
  return kiln_atoms_info_set(a, name, kind, 1, &v, err);
}

/* Fill a (n atoms) from the parsed rows. */
static kiln_status fill_atoms(kilni_dump *d, const fstate *fs, kiln_atoms *a, long header_line, kiln_error *err) {
  const size_t n = d->n, ncol = (size_t)d->ncol;
  kiln_status st;
  double cell[3][3] = {{fs->hi[0] - fs->lo[0], 0, 0},
                       {fs->tilt[0], fs->hi[1] - fs->lo[1], 0},
                       {fs->tilt[1], fs->tilt[2], fs->hi[2] - fs->lo[2]}};
  memcpy(a->cell, cell, sizeof cell);
  memcpy(a->pbc, fs->pbc, sizeof a->pbc);
  const int ck = d->ck, hasmass = d->have[C_MASS][0], haselem = d->have[C_ELEM][0];
  const int ict = d->have[C_TYPE][0] ? d->icol[C_TYPE][0] : -1, im = hasmass ? d->icol[C_MASS][0] : -1;
  const int *ic = d->icol[ck], *ii = d->icol[C_IX], *iv = d->icol[C_V], *iff = d->icol[C_F];
  const int scaled = ck == C_XS || ck == C_XSU;
  const double vfac = d->vfac, ffac = d->ffac, lo0 = fs->lo[0], lo1 = fs->lo[1], lo2 = fs->lo[2];
  for (size_t j = 0; j < n; j++) {
    const double *row = &d->val[d->inv[j] * ncol];
    a->id[j] = d->ids[j];
    /* species */
    if (haselem) {
      const char *sym = d->elem[d->inv[j]];
      int32_t s = a->type[j];
      if (d->nframes == 0 || s < 0 || s >= a->nspecies || strcmp(a->species[s], sym)) {
        s = -1;
        for (int q = 0; q < a->nspecies; q++)
          if (!strcmp(a->species[q], sym)) { s = q; break; }
        if (s < 0 && (st = kiln_atoms_species_index(a, sym, &s, err))) return st;
        a->type[j] = s;
      }
      a->mass[j] = species_mass(d, a, s);
    } else {
      int t = ict >= 0 ? (int)row[ict] - 1 : 0;
      if (d->tmap[t] < 0) {
        if (d->nosym)
          return kilni_ferr_at(err, d->file, header_line, "type %d has no symbol: option 'symbols' names %d types",
                               t + 1, d->nosym);
        double m = row[im];
        int z = kilni_element_from_mass(m, 0.1);
        if (!z)
          return kilni_ferr_at(err, d->file, header_line,
                               "type %d has mass %g, which matches no element within 0.1 amu; give symbols={...}",
                               t + 1, m);
        if ((st = kiln_atoms_species_index(a, kiln_element_symbol(z), &d->tmap[t], err))) return st;
      }
      a->type[j] = d->tmap[t];
      a->mass[j] = species_mass(d, a, d->tmap[t]);
    }
    if (hasmass) a->mass[j] = row[im];
    /* positions, velocities, forces */
    double *x = a->x[j];
    if (scaled) {
      double s0 = row[ic[0]], s1 = row[ic[1]], s2 = row[ic[2]];
      for (int q = 0; q < 3; q++) x[q] = s0 * cell[0][q] + s1 * cell[1][q] + s2 * cell[2][q];
    } else {
      x[0] = row[ic[0]] - lo0;
      x[1] = row[ic[1]] - lo1;
      x[2] = row[ic[2]] - lo2;
    }
    if (d->unwrap) {
      double m0 = row[ii[0]], m1 = row[ii[1]], m2 = row[ii[2]];
      for (int q = 0; q < 3; q++) x[q] += m0 * cell[0][q] + m1 * cell[1][q] + m2 * cell[2][q];
    }
    if (d->hasv) {
      a->v[j][0] = row[iv[0]] * vfac;
      a->v[j][1] = row[iv[1]] * vfac;
      a->v[j][2] = row[iv[2]] * vfac;
    }
    if (d->hasf) {
      a->f[j][0] = row[iff[0]] * ffac;
      a->f[j][1] = row[iff[1]] * ffac;
      a->f[j][2] = row[iff[2]] * ffac;
    }
  }
  /* other columns as REAL props, written in place after the first frame */
  for (int k = 0; k < d->ncol; k++) {
    if (d->col[k].kind != C_PROP) continue;
    kiln_prop *p = kiln_atoms_prop_get(a, d->cname[k]);
    double *dst = p && p->kind == KILN_VAL_REAL && p->ncols == 1 ? p->val : d->pbuf;
    for (size_t j = 0; j < n; j++) dst[j] = d->val[d->inv[j] * ncol + (size_t)k];
    if (dst == d->pbuf && (st = kiln_atoms_prop_set(a, d->cname[k], KILN_VAL_REAL, 1, d->pbuf, err))) return st;
  }
  if (fs->have_step) {
    if ((st = set_info(a, "step", KILN_VAL_INT, (double)fs->step, err))) return st;
  } else {
    kiln_atoms_info_remove(a, "step");
  }
  if (fs->have_time) {
    if ((st = set_info(a, "time", KILN_VAL_REAL, fs->time * d->tfac, err))) return st;
  } else {
    kiln_atoms_info_remove(a, "time");
  }
  return KILN_OK;
}

kiln_status kilni_dump_next(kilni_dump *d, kiln_atoms **ap, long *step, double *time, int *gotp,
                            kiln_error *err) {
  *gotp = 0;
  if (step) *step = 0;
  if (time) *time = NAN;
  if (*ap && *ap != d->last)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: reading frames: the atoms passed in must be NULL or the ones of the previous frame", d->file);
  if (*ap && (*ap)->n != d->n)
    return KILN_FAIL(err, KILN_EINVAL, "%s: reading frames: the atoms were resized (%zu atoms, the dump has %zu)",
                     d->file, (*ap)->n, d->n);
  fstate fs;
  memset(&fs, 0, sizeof fs);
  kiln_status st = KILN_OK;
  const char *in_item = NULL;
  for (;;) {
    int got = next_line(d, err, &st);
    if (got < 0) return st;
    if (got == 0) {
      if (fs.any)
        return KILN_FAIL(err, KILN_EFORMAT, "%s:%ld: the file ends inside a frame (after ITEM: %s, before ITEM: ATOMS)",
                         d->file, d->lineno, in_item);
      if (d->nframes == 0) return KILN_FAIL(err, KILN_EFORMAT, "%s: no frames (no ITEM: ATOMS)", d->file);
      return KILN_OK; /* end of file */
    }
    char *s = d->line;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) continue;
    if (strncmp(d->line, "ITEM:", 5) != 0) return ferr(err, d, "expected an ITEM: line (got '%.100s')", d->line);
    char *item = d->line + 5;
    while (*item == ' ') item++;
    fs.any = 1;
    if (!strncmp(item, "TIMESTEP", 8)) {
      in_item = "TIMESTEP";
      if ((st = item_value(d, "TIMESTEP", err))) return st;
      char *tok[2];
      if (kilni_split(d->line, tok, 2) != 1 || !kilni_parse_long(tok[0], &fs.step))
        return ferr(err, d, "TIMESTEP: expected an integer (got '%.100s')", d->line);
      fs.have_step = 1;
    } else if (!strncmp(item, "TIME", 4)) {
      in_item = "TIME";
      if ((st = item_value(d, "TIME", err))) return st;
      char *tok[2];
      if (kilni_split(d->line, tok, 2) != 1 || !kilni_parse_real(tok[0], &fs.time))
        return ferr(err, d, "TIME: expected a real number (got '%.100s')", d->line);
      fs.have_time = 1;
    } else if (!strncmp(item, "UNITS", 5)) {
      in_item = "UNITS";
      if ((st = item_value(d, "UNITS", err))) return st;
    } else if (!strncmp(item, "NUMBER OF ATOMS", 15)) {
      in_item = "NUMBER OF ATOMS";
      if ((st = item_value(d, "NUMBER OF ATOMS", err))) return st;
      char *tok[2];
      if (kilni_split(d->line, tok, 2) != 1 || !kilni_parse_long(tok[0], &fs.natoms) || fs.natoms < 0)
        return ferr(err, d, "NUMBER OF ATOMS: expected a count (got '%.100s')", d->line);
      if (d->nframes > 0 && (size_t)fs.natoms != d->n)
        return ferr(err, d, "NUMBER OF ATOMS: %lld differs from the first frame's %zu (the frame reader needs the "
                    "same atoms in every frame)", fs.natoms, d->n);
      fs.have_natoms = 1;
    } else if (!strncmp(item, "BOX BOUNDS", 10)) {
      in_item = "BOX BOUNDS";
      if ((st = read_box(d, &fs, item + 10, err))) return st;
    } else if (!strncmp(item, "ATOMS", 5)) {
      if (!fs.have_natoms || !fs.have_box) return ferr(err, d, "ITEM: ATOMS before NUMBER OF ATOMS and BOX BOUNDS");
      break;
    } else {
      return ferr(err, d, "unknown item '%.100s'", item);
    }
  }
  /* the ATOMS header */
  long header_line = d->lineno;
  char *hdr = d->line + 5;
  while (*hdr == ' ') hdr++;
  hdr += 5;
  kiln_atoms *a = *ap;
  int fresh = 0;
  if (d->nframes == 0) {
    d->n = (size_t)fs.natoms;
    if ((st = plan(d, hdr, err))) return st;
    if ((st = first_frame_setup(d, err))) return st;
  } else {
    const char *p = hdr, *q = d->header;
    /* same columns (whitespace-insensitive) */
    for (;;) {
      while (*p == ' ' || *p == '\t') p++;
      while (*q == ' ' || *q == '\t') q++;
      if (!*p || !*q || *p != *q) break;
      p++; q++;
    }
    if (*p || *q) return ferr(err, d, "ITEM: ATOMS: the columns differ from the first frame's ('%.100s')", d->header);
  }
  if ((st = parse_atoms(d, err))) return st;
  if (d->nframes == 0) {
    if ((st = build_map(d, header_line, err))) return st;
  } else if ((st = map_rows(d, header_line, err))) {
    return st;
  }
  if (!a) {
    if ((st = kiln_atoms_new(&a, d->n, err))) return st;
    fresh = 1;
    for (int t = 0; t < MAXTYPES; t++) d->tmap[t] = -1;
    for (int q = 0; q < KILN_MAX_SPECIES; q++) d->smass[q] = -1;
    for (int t = 0; t < d->nosym && !st; t++) st = kiln_atoms_species_index(a, d->osym[t], &d->tmap[t], err);
    if (st) { kiln_atoms_free(a); return st; }
  }
  if ((st = fill_atoms(d, &fs, a, header_line, err))) {
    if (fresh) kiln_atoms_free(a);
    return st;
  }
  *ap = d->last = a;
  d->nframes++;
  if (step) *step = fs.have_step ? (long)fs.step : d->nframes - 1;
  if (time) *time = fs.have_time ? fs.time * d->tfac : (double)NAN;
  *gotp = 1;
  return KILN_OK;
}
