/* src/io/io.c: format guessing, read/write dispatch, and the helpers shared by
 * the format files (line reader, atomic writer, numbers, options, frame lists). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "io/io_internal.h"
#include "kiln/units.h"

/* ------------------------------------------------------------ line reader */

kiln_status kilni_reader_open(kilni_reader *r, const char *file, kiln_error *err) {
  memset(r, 0, sizeof *r);
  r->file = file;
  if (!file) return KILN_FAIL(err, KILN_EINVAL, "file name is NULL");
  r->fp = fopen(file, "r");
  if (!r->fp) return KILN_FAIL(err, KILN_EIO, "cannot open '%s': %s", file, strerror(errno));
  return KILN_OK;
}

int kilni_reader_next(kilni_reader *r, kiln_error *err) {
  errno = 0;
  ssize_t len = getline(&r->line, &r->cap, r->fp);
  if (len < 0) {
    if (ferror(r->fp)) {
      r->st = KILN_FAIL(err, KILN_EIO, "%s: read error after line %ld: %s", r->file, r->lineno,
                        strerror(errno ? errno : EIO));
      return -1;
    }
    if (errno == ENOMEM) {
      r->st = KILN_FAIL(err, KILN_ENOMEM, "%s:%ld: out of memory reading a line", r->file, r->lineno + 1);
      return -1;
    }
    r->len = 0;
    return 0;
  }
  while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r')) r->line[--len] = 0;
  r->len = (size_t)len;
  r->lineno++;
  return 1;
}

kiln_status kilni_reader_rewind(kilni_reader *r, kiln_error *err) {
  if (fseek(r->fp, 0, SEEK_SET) != 0)
    return KILN_FAIL(err, KILN_EIO, "%s: cannot rewind: %s", r->file, strerror(errno));
  clearerr(r->fp);
  r->lineno = 0;
  return KILN_OK;
}

void kilni_reader_close(kilni_reader *r) {
  if (r->fp) fclose(r->fp);
  free(r->line);
  memset(r, 0, sizeof *r);
}

static kiln_status vferr(kiln_error *err, const char *file, long line, const char *fmt, va_list ap) {
  char buf[448];
  vsnprintf(buf, sizeof buf, fmt, ap);
  return KILN_FAIL(err, KILN_EFORMAT, "%s:%ld: %s", file ? file : "?", line, buf);
}

kiln_status kilni_ferr(kiln_error *err, const kilni_reader *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kiln_status st = vferr(err, r->file, r->lineno, fmt, ap);
  va_end(ap);
  return st;
}

kiln_status kilni_ferr_at(kiln_error *err, const char *file, long line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kiln_status st = vferr(err, file, line, fmt, ap);
  va_end(ap);
  return st;
}

/* ------------------------------------------------------------ atomic writer */

char *kilni_tmpname(const char *file) {
  size_t len = strlen(file) + 32;
  char *t = malloc(len);
  if (t) snprintf(t, len, "%s.tmp.%ld", file, (long)getpid());
  return t;
}

kiln_status kilni_writer_open(kilni_writer *w, const char *file, int append, kiln_error *err) {
  memset(w, 0, sizeof *w);
  w->file = file;
  if (!file) return KILN_FAIL(err, KILN_EINVAL, "file name is NULL");
  if (append) {
    w->fp = fopen(file, "a");
    if (!w->fp) return KILN_FAIL(err, KILN_EIO, "cannot open '%s' for appending: %s", file, strerror(errno));
    return KILN_OK;
  }
  if (!(w->tmp = kilni_tmpname(file))) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  w->fp = fopen(w->tmp, "w");
  if (!w->fp) {
    kiln_status st = KILN_FAIL(err, KILN_EIO, "cannot create '%s': %s", w->tmp, strerror(errno));
    free(w->tmp);
    w->tmp = NULL;
    return st;
  }
  return KILN_OK;
}

kiln_status kilni_writer_commit(kilni_writer *w, kiln_error *err) {
  kiln_status st = KILN_OK;
  int bad = ferror(w->fp);
  int e = errno;
  if (fclose(w->fp) != 0 && !bad) { bad = 1; e = errno; }
  w->fp = NULL;
  if (bad)
    st = KILN_FAIL(err, KILN_EIO, "error writing '%s': %s", w->tmp ? w->tmp : w->file,
                   strerror(e ? e : EIO));
  else if (w->tmp && rename(w->tmp, w->file) != 0)
    st = KILN_FAIL(err, KILN_EIO, "cannot rename '%s' to '%s': %s", w->tmp, w->file, strerror(errno));
  if (st && w->tmp) remove(w->tmp);
  free(w->tmp);
  w->tmp = NULL;
  return st;
}

void kilni_writer_abort(kilni_writer *w) {
  if (w->fp) fclose(w->fp);
  w->fp = NULL;
  if (w->tmp) remove(w->tmp);
  free(w->tmp);
  w->tmp = NULL;
}

/* ------------------------------------------------------------ tokens, numbers */

int kilni_split(char *s, char **tok, int max) {
  int n = 0;
  while (*s) {
    while (*s && isspace((unsigned char)*s)) s++;
    if (!*s) break;
    if (n < max) tok[n] = s;
    n++;
    while (*s && !isspace((unsigned char)*s)) s++;
    if (*s) *s++ = 0;
  }
  return n;
}

int kilni_parse_real(const char *s, double *v) {
  if (!s || !*s) return 0;
  for (const char *p = s; *p; p++)
    if (*p == 'x' || *p == 'X' || *p == '(') return 0;  /* no hex, no nan(...) */
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || *end) return 0;
  if (errno == ERANGE && fabs(x) > 1.0) return 0;  /* overflow; underflow to 0 is fine */
  *v = x;
  return 1;
}

int kilni_parse_long(const char *s, long long *v) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  long long x = strtoll(s, &end, 10);
  if (end == s || *end || errno == ERANGE) return 0;
  *v = x;
  return 1;
}

int kilni_parse_bool(const char *s, int *v) {
  static const char *t[] = {"T", "True", "true", "TRUE"}, *f[] = {"F", "False", "false", "FALSE"};
  for (int k = 0; k < 4; k++) {
    if (strcmp(s, t[k]) == 0) { *v = 1; return 1; }
    if (strcmp(s, f[k]) == 0) { *v = 0; return 1; }
  }
  return 0;
}

char *kilni_fmt_real(char *buf, double v) {
  if (v == 0.0) { strcpy(buf, signbit(v) ? "-0" : "0"); return buf; }
  if (!isfinite(v)) { strcpy(buf, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"); return buf; }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, 32, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  return buf;
}

char *kilni_fmt_real_dot(char *buf, double v) {
  kilni_fmt_real(buf, v);
  if (!strpbrk(buf, ".eEnNiI")) strcat(buf, ".0");
  return buf;
}

const char *kilni_basename(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* ------------------------------------------------------------ options */

kiln_status kilni_opt_index(const kiln_opts *o, const char *what, int *has, long *index,
                            kiln_error *err) {
  *has = 0;
  *index = 0;
  if (!kiln_opts_get(o, "index")) return KILN_OK;
  kiln_status st = kiln_opts_int(o, what, "index", 0, 0, index, err);
  if (st) return st;
  *has = 1;
  return KILN_OK;
}

static kiln_status put_symbol(char syms[][KILN_SYMBOL_LEN], int max, int *n, const char *s,
                              const char *what, kiln_error *err) {
  size_t len = strlen(s);
  if (len < 1 || len >= KILN_SYMBOL_LEN)
    return KILN_FAIL(err, KILN_EINVAL, "%s: option 'symbols': symbol '%s' must have 1..%d characters",
                     what, s, KILN_SYMBOL_LEN - 1);
  if (*n >= max)
    return KILN_FAIL(err, KILN_EINVAL, "%s: option 'symbols': more than %d symbols", what, max);
  memcpy(syms[(*n)++], s, len + 1);
  return KILN_OK;
}

kiln_status kilni_opt_symbols(const kiln_opts *o, const char *what,
                              char syms[][KILN_SYMBOL_LEN], int max, int *n, kiln_error *err) {
  *n = 0;
  kiln_opts *s = kiln_opts_get(o, "symbols");
  if (!s) return KILN_OK;
  kiln_status st;
  if (s->kind == KILN_OPT_STR) {
    char buf[1024], *tok[256];
    snprintf(buf, sizeof buf, "%s", s->str);
    int nt = kilni_split(buf, tok, 256);
    if (nt > 256) nt = 256;
    for (int k = 0; k < nt; k++)
      if ((st = put_symbol(syms, max, n, tok[k], what, err))) return st;
  } else if (s->kind == KILN_OPT_TABLE) {
    size_t np = kiln_opts_npos(s);
    for (size_t k = 0; k < np; k++) {
      kiln_opts *c = kiln_opts_at(s, k);
      if (c->kind != KILN_OPT_STR)
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'symbols': entry %zu must be a string", what, k + 1);
      if ((st = put_symbol(syms, max, n, c->str, what, err))) return st;
    }
  } else {
    return KILN_FAIL(err, KILN_EINVAL, "%s: option 'symbols' must be a list of element symbols", what);
  }
  if (*n == 0) return KILN_FAIL(err, KILN_EINVAL, "%s: option 'symbols' is empty", what);
  return KILN_OK;
}

kiln_status kilni_opt_lammps_units(const kiln_opts *o, const char *what, double *vel,
                                   double *force, double *time, kiln_error *err) {
  const char *u;
  kiln_status st = kiln_opts_str(o, what, "units", 1, "metal", &u, err);
  if (st) return st;
  if (strcmp(u, "metal") == 0) {
    *vel = 1e-3;   /* Å/ps -> Å/fs */
    *force = 1.0;  /* eV/Å */
    *time = 1e3;   /* ps -> fs */
  } else if (strcmp(u, "real") == 0) {
    double kcal;
    if (kiln_units_convert(1.0, "kcal/mol", "eV", &kcal) != 0)
      return KILN_FAIL(err, KILN_EINVAL, "%s: no kcal/mol to eV conversion", what);
    *vel = 1.0;    /* Å/fs */
    *force = kcal; /* kcal/mol/Å -> eV/Å */
    *time = 1.0;   /* fs */
  } else {
    return KILN_FAIL(err, KILN_EINVAL, "%s: option 'units' must be \"metal\" or \"real\" (got '%s')",
                     what, u);
  }
  return KILN_OK;
}

/* ------------------------------------------------------------ frame lists */

kiln_status kilni_frames_push(kilni_frames *f, kiln_atoms *a, kiln_error *err) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 16;
    kiln_atoms **p = realloc(f->a, cap * sizeof *p);
    if (!p) {
      kiln_atoms_free(a);
      return KILN_FAIL(err, KILN_ENOMEM, "out of memory for %zu frames", cap);
    }
    f->a = p;
    f->cap = cap;
  }
  f->a[f->n++] = a;
  return KILN_OK;
}

void kilni_frames_free(kilni_frames *f) {
  for (size_t i = 0; i < f->n; i++) kiln_atoms_free(f->a[i]);
  free(f->a);
  memset(f, 0, sizeof *f);
}

kiln_status kilni_resolve_index(long index, size_t n, const char *file, size_t *out,
                                kiln_error *err) {
  long long k = index < 0 ? (long long)n + index : index;
  if (k < 0 || k >= (long long)n)
    return KILN_FAIL(err, KILN_ERANGE, "index %ld is out of range: '%s' has %zu frame%s", index,
                     file, n, n == 1 ? "" : "s");
  *out = (size_t)k;
  return KILN_OK;
}

kiln_status kilni_frames_select(kilni_frames *f, long index, const char *file, kiln_error *err) {
  size_t k = 0;
  kiln_status st = kilni_resolve_index(index, f->n, file, &k, err);
  if (st) return st;
  for (size_t i = 0; i < f->n; i++)
    if (i != k) kiln_atoms_free(f->a[i]);
  f->a[0] = f->a[k];
  f->n = 1;
  return KILN_OK;
}

/* ------------------------------------------------------------ species, cell */

kiln_status kilni_set_species(kiln_atoms *a, size_t i, const char *sym, kiln_error *err) {
  int32_t t;
  kiln_status st = kiln_atoms_species_index(a, sym, &t, err);
  if (st) return st;
  a->type[i] = t;
  int z = kiln_element_z(sym);
  a->mass[i] = z ? kiln_element_mass(z) : 0.0;
  return KILN_OK;
}

int kilni_element_from_mass(double m, double tol) {
  int best = 0;
  double bd = tol;
  for (int z = 1; z <= 118; z++) {
    double d = fabs(kiln_element_mass(z) - m);
    if (d <= bd) { bd = d; best = z; }
  }
  return best;
}

double kilni_det3(const double m[3][3]) {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
         m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

void kilni_vecmat(const double x[3], const double m[3][3], double y[3]) {
  for (int j = 0; j < 3; j++) y[j] = x[0] * m[0][j] + x[1] * m[1][j] + x[2] * m[2][j];
}

/* ------------------------------------------------------------ dispatch */

static int has_ext(const char *base, const char *ext) {
  size_t lb = strlen(base), le = strlen(ext);
  return lb > le && strcasecmp(base + lb - le, ext) == 0;
}

static int has_prefix(const char *base, const char *pre) {
  return strncasecmp(base, pre, strlen(pre)) == 0;
}

const char *kiln_io_guess_format(const char *file) {
  if (!file) return NULL;
  const char *b = kilni_basename(file);
  if (has_ext(b, ".xyz") || has_ext(b, ".extxyz")) return "extxyz";
  if (has_ext(b, ".data") || has_ext(b, ".lmp")) return "lammps-data";
  if (has_ext(b, ".dump") || has_ext(b, ".lammpstrj")) return "lammps-dump";
  if (has_ext(b, ".vasp") || has_ext(b, ".poscar")) return "vasp";
  if (has_ext(b, ".h5") || has_ext(b, ".h5md")) return "h5md";
  if (has_prefix(b, "data.")) return "lammps-data";
  if (has_prefix(b, "dump.")) return "lammps-dump";
  if (strncmp(b, "POSCAR", 6) == 0 || strncmp(b, "CONTCAR", 7) == 0) return "vasp";
  return NULL;
}

typedef enum { F_XYZ, F_LDATA, F_LDUMP, F_VASP, F_H5MD, F_BAD } fmt_id;

static fmt_id fmt_lookup(const char *f) {
  if (!strcmp(f, "extxyz") || !strcmp(f, "xyz")) return F_XYZ;
  if (!strcmp(f, "lammps-data")) return F_LDATA;
  if (!strcmp(f, "lammps-dump")) return F_LDUMP;
  if (!strcmp(f, "vasp") || !strcmp(f, "poscar")) return F_VASP;
  if (!strcmp(f, "h5md")) return F_H5MD;
  return F_BAD;
}

static kiln_status resolve_format(const char *file, const char *format, const kiln_opts *o,
                                  fmt_id *id, kiln_error *err) {
  kiln_opts *of = kiln_opts_get(o, "format");  /* accepted (and marked used) here */
  if (!format && of && of->kind == KILN_OPT_STR) format = of->str;
  if (!file) return KILN_FAIL(err, KILN_EINVAL, "file name is NULL");
  if (!format && !(format = kiln_io_guess_format(file)))
    return KILN_FAIL(err, KILN_EINVAL,
                     "cannot tell the format of '%s' from its name; give format= (extxyz, "
                     "lammps-data, lammps-dump, vasp, h5md)", file);
  *id = fmt_lookup(format);
  if (*id == F_BAD)
    return KILN_FAIL(err, KILN_EINVAL,
                     "unknown format '%s' (expected extxyz, lammps-data, lammps-dump, vasp, h5md)",
                     format);
  return KILN_OK;
}

kiln_status kiln_io_read(const char *file, const char *format, const kiln_opts *o,
                         kiln_atoms ***frames, size_t *nframes, kiln_error *err) {
  *frames = NULL;
  *nframes = 0;
  fmt_id id = F_BAD;
  kiln_status st = resolve_format(file, format, o, &id, err);
  if (st) return st;
  kiln_atoms *one = NULL;
  switch (id) {
  case F_XYZ: return kiln_xyz_read(file, o, frames, nframes, err);
  case F_LDUMP: return kiln_lammps_dump_read(file, o, frames, nframes, err);
  case F_H5MD: return kilni_h5md_read_all(file, o, frames, nframes, err);
  case F_LDATA: st = kiln_lammps_data_read(file, o, &one, err); break;
  case F_VASP: st = kiln_poscar_read(file, o, &one, err); break;
  default: return KILN_FAIL(err, KILN_EINVAL, "bad format");
  }
  if (st) return st;
  kiln_atoms **arr = malloc(sizeof *arr);
  if (!arr) {
    kiln_atoms_free(one);
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  }
  arr[0] = one;
  *frames = arr;
  *nframes = 1;
  return KILN_OK;
}

kiln_status kiln_io_write(const char *file, const char *format, const kiln_opts *o,
                          kiln_atoms *const *frames, size_t nframes, int append, kiln_error *err) {
  fmt_id id = F_BAD;
  kiln_status st = resolve_format(file, format, o, &id, err);
  if (st) return st;
  if (kiln_opts_get(o, "append")) { /* the option form of the append argument */
    int ap;
    if ((st = kiln_opts_bool(o, "io write", "append", 0, 0, &ap, err))) return st;
    append = append || ap;
  }
  if (!frames && nframes) return KILN_FAIL(err, KILN_EINVAL, "frames is NULL");
  for (size_t i = 0; i < nframes; i++)
    if (!frames[i]) return KILN_FAIL(err, KILN_EINVAL, "frame %zu is NULL", i);
  const char *name = id == F_LDATA ? "lammps-data" : id == F_VASP ? "vasp" : NULL;
  if (name && nframes != 1)
    return KILN_FAIL(err, KILN_EINVAL, "format %s holds one structure (got %zu frames) writing '%s'",
                     name, nframes, file);
  if (name && append)
    return KILN_FAIL(err, KILN_EINVAL, "format %s cannot be appended to ('%s')", name, file);
  switch (id) {
  case F_XYZ: return kiln_xyz_write(file, o, frames, nframes, append, err);
  case F_LDATA: return kiln_lammps_data_write(file, o, frames[0], err);
  case F_VASP: return kiln_poscar_write(file, o, frames[0], err);
  case F_H5MD: return kilni_h5md_write_all(file, o, frames, nframes, append, err);
  case F_LDUMP:
    return KILN_FAIL(err, KILN_ENOTSUP, "format lammps-dump is read only (writing '%s')", file);
  default: return KILN_FAIL(err, KILN_EINVAL, "bad format");
  }
}

int kilni_nonzero3(const double (*v)[3], size_t n) {
  for (size_t i = 0; i < n; i++)
    if (v[i][0] != 0.0 || v[i][1] != 0.0 || v[i][2] != 0.0) return 1;
  return 0;
}

kiln_status kilni_read_done(kiln_atoms *a, kiln_atoms **out, kiln_status st) {
  if (st) kiln_atoms_free(a);
  else *out = a;
  return st;
}
