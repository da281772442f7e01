/* src/io/io_internal.h: helpers shared by the structure-file readers and writers
 * (private to src/io). A line reader that counts lines, an atomic file writer,
 * strict number parsing, shortest round-trip number formatting, option helpers and
 * a growable frame list. */
#ifndef KILN_IO_INTERNAL_H
#define KILN_IO_INTERNAL_H
#include <stdio.h>
#include "kiln/io.h"

/* ---- line reader: lines without the trailing "\n" / "\r\n"; lineno is 1-based */
typedef struct kilni_reader {
  FILE *fp;
  const char *file;
  char *line;   /* current line (owned; valid until the next call) */
  size_t cap;
  size_t len;
  long lineno;  /* number of the line in `line` (0 before the first) */
  kiln_status st; /* status of the last failed read */
} kilni_reader;

/* KILN_EIO "cannot open 'f': <strerror>" */
kiln_status kilni_reader_open(kilni_reader *r, const char *file, kiln_error *err);
/* 1: a line was read; 0: end of file; -1: read error (err filled, r->st set). */
int kilni_reader_next(kilni_reader *r, kiln_error *err);
kiln_status kilni_reader_rewind(kilni_reader *r, kiln_error *err);
void kilni_reader_close(kilni_reader *r);
/* KILN_EFORMAT "file:lineno: <message>" for the reader's current line. */
kiln_status kilni_ferr(kiln_error *err, const kilni_reader *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Same with an explicit line number. */
kiln_status kilni_ferr_at(kiln_error *err, const char *file, long line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---- atomic writer: writes "file.tmp.<pid>" then renames it over file on commit.
 * With append, writes straight into file (opened for appending). */
typedef struct kilni_writer {
  FILE *fp;
  const char *file;
  char *tmp;  /* NULL when appending */
} kilni_writer;
kiln_status kilni_writer_open(kilni_writer *w, const char *file, int append, kiln_error *err);
/* Close, check for write errors and rename. On failure the temp file is removed. */
kiln_status kilni_writer_commit(kilni_writer *w, kiln_error *err);
/* Close and remove the temp file (after an error). */
void kilni_writer_abort(kilni_writer *w);
/* "file.tmp.<pid>" (malloc'd) or NULL */
char *kilni_tmpname(const char *file);

/* ---- tokens and numbers */
/* Split s in place at whitespace; stores up to max token pointers; returns the
 * total number of tokens (may exceed max). */
int kilni_split(char *s, char **tok, int max);
/* Whole-token parses (no trailing garbage; no hex). 1 on success. */
int kilni_parse_real(const char *s, double *v);
int kilni_parse_long(const char *s, long long *v);
/* T/F/True/False/true/false/TRUE/FALSE. 1 on success. */
int kilni_parse_bool(const char *s, int *v);
/* Shortest "%.{15,16,17}g" that reads back exactly; buf >= 32 chars. */
char *kilni_fmt_real(char *buf, double v);
/* Like kilni_fmt_real but always looks like a real (adds ".0" to "3"). */
char *kilni_fmt_real_dot(char *buf, double v);
/* Last path component. */
const char *kilni_basename(const char *path);

/* ---- atoms */
/* 1 if any of the n rows of v (velocities, forces) is nonzero. */
int kilni_nonzero3(const double (*v)[3], size_t n);
/* The end of a single-structure reader: on success *out = a, else a is freed.
 * Returns st. */
kiln_status kilni_read_done(kiln_atoms *a, kiln_atoms **out, kiln_status st);

/* ---- options */
/* index option: *has = 0 when absent. */
kiln_status kilni_opt_index(const kiln_opts *o, const char *what, int *has, long *index,
                            kiln_error *err);
/* symbols option: a list {"Si","O"} or a string "Si O"; *n = 0 when absent. */
kiln_status kilni_opt_symbols(const kiln_opts *o, const char *what,
                              char syms[][KILN_SYMBOL_LEN], int max, int *n, kiln_error *err);
/* LAMMPS units option: "metal" (default) or "real". Sets the velocity factor
 * (file -> Å/fs), force factor (file -> eV/Å) and time factor (file -> fs). */
kiln_status kilni_opt_lammps_units(const kiln_opts *o, const char *what, double *vel,
                                   double *force, double *time, kiln_error *err);

/* ---- frame lists */
typedef struct kilni_frames {
  kiln_atoms **a;
  size_t n, cap;
} kilni_frames;
kiln_status kilni_frames_push(kilni_frames *f, kiln_atoms *a, kiln_error *err); /* frees a on failure */
void kilni_frames_free(kilni_frames *f);
/* Resolve a frame index (negative from the end) against n frames. */
kiln_status kilni_resolve_index(long index, size_t n, const char *file, size_t *out,
                                kiln_error *err);
/* Keep only frame `index` of f (negative from the end). */
kiln_status kilni_frames_select(kilni_frames *f, long index, const char *file, kiln_error *err);

/* ---- species helpers */
/* Assign element symbol to atom i: type via species_index, mass from the table
 * (or keep mass if the symbol is not an element and mass_known). */
kiln_status kilni_set_species(kiln_atoms *a, size_t i, const char *sym, kiln_error *err);
/* Nearest element to mass m within tol amu; 0 if none. */
int kilni_element_from_mass(double m, double tol);

/* ---- small cell maths */
double kilni_det3(const double m[3][3]);
/* y = x * m (row vector times matrix) */
void kilni_vecmat(const double x[3], const double m[3][3], double y[3]);

/* h5md through kiln_io_read/write (in h5md.c) */
kiln_status kilni_h5md_read_all(const char *file, const kiln_opts *o, kiln_atoms ***frames,
                                size_t *nframes, kiln_error *err);
kiln_status kilni_h5md_write_all(const char *file, const kiln_opts *o, kiln_atoms *const *frames,
                                 size_t nframes, int append, kiln_error *err);

/* ---- streaming readers (kiln_frames, src/io/frames.c) */
/* Fast decimal parse at s (no leading space) of [+-]digits[.digits][(e|E)[+-]digits]
 * with at most 19 digits, mantissa <= 2^53 and a decimal exponent within +-22: exact
 * (equal to strtod). Returns the end, or NULL for any other form (callers fall back
 * to kilni_parse_real). In dump_fast.c. */
const char *kilni_scan_real_fast(const char *s, double *v);
/* Whole token s[0..len): the fast parse, else kilni_parse_real (same acceptance). */
int kilni_parse_real_n(const char *s, size_t len, double *v);
/* LAMMPS dump, one frame per call (dump_fast.c). Options: symbols, units. *a: NULL
 * (allocated) or the atoms of the previous call (reused). *got = 0 at the end. */
typedef struct kilni_dump kilni_dump;
kiln_status kilni_dump_open(kilni_dump **out, const char *file, const kiln_opts *o,
                            kiln_error *err);
kiln_status kilni_dump_next(kilni_dump *d, kiln_atoms **a, long *step, double *time, int *got,
                            kiln_error *err);
double kilni_dump_bytes(const kilni_dump *d); /* bytes read so far */
void kilni_dump_close(kilni_dump *d);
/* Next extended-XYZ frame from r as new atoms (xyz.c); *got = 0 at the end. */
kiln_status kilni_xyz_next(kilni_reader *r, kiln_atoms **out, int *got, kiln_error *err);
#endif
