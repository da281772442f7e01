/* src/ml/snap_file.c: LAMMPS .snapparam / .snapcoeff readers (as pair_style snap
 * reads them). '#' starts a comment; blank lines are skipped.
 *   .snapparam: "keyword value" lines in any order; rcutfac and twojmax required;
 *     rfac0 (0.99363), rmin0 (0), switchflag (1), bzeroflag (1), quadraticflag (0),
 *     chemflag (0; 1 is not supported), bnormflag (0; 1 not supported), wselfallflag,
 *     chunksize, parallelthresh (accepted, no effect here).
 *   .snapcoeff: "nelements ncoeffall", then per element a line "name radelem wj"
 *     followed by ncoeffall lines of one coefficient each (beta0 first). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ml/snap_core.h"

typedef struct {
  FILE *f;
  const char *path;
  int line;
  char buf[4096];
  char *tok[8];
  int ntok;
} reader;

/* next non-blank line (comments stripped) split into at most 8 tokens; 0 at EOF */
static int next_line(reader *r) {
  while (fgets(r->buf, sizeof r->buf, r->f)) {
    r->line++;
    char *h = strchr(r->buf, '#');
    if (h) *h = '\0';
    r->ntok = 0;
    char *p = r->buf;
    while (*p) {
      while (*p && isspace((unsigned char)*p)) p++;
      if (!*p) break;
      if (r->ntok < 8) r->tok[r->ntok] = p;
      r->ntok++;
      while (*p && !isspace((unsigned char)*p)) p++;
      if (*p) *p++ = '\0';
    }
    if (r->ntok > 0) return 1;
  }
  return 0;
}

static int parse_num(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return end != s && *end == '\0' && errno == 0;
}

static int parse_int(const char *s, long *v) {
  char *end;
  errno = 0;
  *v = strtol(s, &end, 10);
  return end != s && *end == '\0' && errno == 0;
}

static kiln_status open_reader(reader *r, const char *path, const char *what, const char *kind,
                               kiln_error *err) {
  memset(r, 0, sizeof *r);
  r->path = path;
  r->f = fopen(path, "r");
  if (!r->f)
    return KILN_FAIL(err, KILN_EIO, "%s: cannot open %s file '%s': %s", what, kind, path,
                     strerror(errno));
  return KILN_OK;
}

void snap_model_free(snap_model *m) {
  if (!m) return;
  free(m->elem);
  free(m->coeff);
  memset(m, 0, sizeof *m);
}

int snap_model_element(const snap_model *m, const char *name) {
  for (int e = 0; e < m->nelem; e++)
    if (strcmp(m->elem[e].name, name) == 0) return e;
  return -1;
}

static kiln_status read_param(snap_model *m, const char *path, const char *what,
                              kiln_error *err) {
  reader r;
  kiln_status st = open_reader(&r, path, what, "SNAP parameter", err);
  if (st) return st;
  int have_rcut = 0, have_twoj = 0;
  while (next_line(&r)) {
    if (r.ntok != 2) {
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: expected 'keyword value', got %d fields",
                     what, path, r.line, r.ntok);
      goto done;
    }
    const char *key = r.tok[0], *val = r.tok[1];
    double v;
    if (!parse_num(val, &v)) {
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: field 2 of '%s': '%s' is not a number",
                     what, path, r.line, key, val);
      goto done;
    }
    int isflag = 0, isint = 0;
    if (strcmp(key, "rcutfac") == 0) { m->rcutfac = v; have_rcut = 1; }
    else if (strcmp(key, "twojmax") == 0) { m->twojmax = (int)v; have_twoj = 1; isint = 1; }
    else if (strcmp(key, "rfac0") == 0) m->rfac0 = v;
    else if (strcmp(key, "rmin0") == 0) m->rmin0 = v;
    else if (strcmp(key, "switchflag") == 0) { m->switchflag = (int)v; isflag = 1; }
    else if (strcmp(key, "bzeroflag") == 0) { m->bzeroflag = (int)v; isflag = 1; }
    else if (strcmp(key, "quadraticflag") == 0) { m->quadraticflag = (int)v; isflag = 1; }
    else if (strcmp(key, "wselfallflag") == 0) isflag = 1;
    else if (strcmp(key, "chunksize") == 0 || strcmp(key, "parallelthresh") == 0) isint = 1;
    else if (strcmp(key, "chemflag") == 0 || strcmp(key, "bnormflag") == 0) {
      isflag = 1;
      if (v != 0) {
        st = KILN_FAIL(err, KILN_EFORMAT,
                       "%s: %s:%d: %s %g is not supported (explicit multi-element SNAP); only "
                       "%s 0", what, path, r.line, key, v, key);
        goto done;
      }
    } else {
      st = KILN_FAIL(err, KILN_EFORMAT,
                     "%s: %s:%d: unknown SNAP parameter '%s' (known: rcutfac twojmax rfac0 "
                     "rmin0 switchflag bzeroflag quadraticflag chemflag bnormflag wselfallflag "
                     "chunksize parallelthresh)", what, path, r.line, key);
      goto done;
    }
    if ((isflag && v != 0 && v != 1) || (isint && v != (double)(long)v)) {
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: %s must be %s (got %s)", what, path, r.line,
                     key, isflag ? "0 or 1" : "an integer", val);
      goto done;
    }
  }
  if (!have_rcut || !have_twoj) {
    st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s: missing required SNAP parameter '%s'", what, path,
                   have_rcut ? "twojmax" : "rcutfac");
    goto done;
  }
  if (m->twojmax < 0 || m->twojmax > 30 || !(m->rcutfac > 0)) {
    st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s: need rcutfac > 0 and 0 <= twojmax <= 30 (got %g, "
                   "%d)", what, path, m->rcutfac, m->twojmax);
    goto done;
  }
done:
  fclose(r.f);
  return st;
}

static kiln_status read_coeff(snap_model *m, const char *path, int check_count,
                              const char *what, kiln_error *err) {
  reader r;
  kiln_status st = open_reader(&r, path, what, "SNAP coefficient", err);
  if (st) return st;
  long nel, nall;
  if (!next_line(&r)) {
    st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s: empty SNAP coefficient file", what, path);
    goto done;
  }
  if (r.ntok != 2 || !parse_int(r.tok[0], &nel) || !parse_int(r.tok[1], &nall) || nel < 1 ||
      nel > 64 || nall < 1) {
    st = KILN_FAIL(err, KILN_EFORMAT,
                   "%s: %s:%d: expected 'nelements ncoeff' (two positive integers) on the "
                   "first line", what, path, r.line);
    goto done;
  }
  if (check_count) {
    const long nb = snap_ncomponents(m->twojmax);
    const long want = 1 + nb + (m->quadraticflag ? nb * (nb + 1) / 2 : 0);
    if (nall != want) {
      st = KILN_FAIL(err, KILN_EFORMAT,
                     "%s: %s:%d: field 2: %ld coefficients per element, but twojmax %d%s needs "
                     "%ld (1 + %ld%s)", what, path, r.line, nall, m->twojmax,
                     m->quadraticflag ? " with quadraticflag 1" : "", want, nb,
                     m->quadraticflag ? " + quadratic terms" : "");
      goto done;
    }
  }
  m->nelem = (int)nel;
  m->ncoeffall = (int)nall;
  m->elem = calloc((size_t)nel, sizeof *m->elem);
  m->coeff = calloc((size_t)nel * (size_t)nall, sizeof *m->coeff);
  if (!m->elem || !m->coeff) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory reading %s", what, path);
    goto done;
  }
  for (long e = 0; e < nel; e++) {
    if (!next_line(&r)) {
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: end of file, expected element %ld of %ld",
                     what, path, r.line, e + 1, nel);
      goto done;
    }
    snap_elem *E = &m->elem[e];
    if (r.ntok != 3) {
      st = KILN_FAIL(err, KILN_EFORMAT,
                     "%s: %s:%d: expected 'element radelem wj' for element %ld, got %d fields",
                     what, path, r.line, e + 1, r.ntok);
      goto done;
    }
    if (strlen(r.tok[0]) >= sizeof E->name) {
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: field 1: element name '%s' too long", what,
                     path, r.line, r.tok[0]);
      goto done;
    }
    strcpy(E->name, r.tok[0]);
    for (long q = 0; q < e; q++)
      if (strcmp(m->elem[q].name, E->name) == 0) {
        st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: field 1: element '%s' listed twice", what,
                       path, r.line, E->name);
        goto done;
      }
    for (int k = 1; k <= 2; k++) {
      double v;
      if (!parse_num(r.tok[k], &v) || !(v > 0)) {
        st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: field %d (%s of %s): '%s' is not a "
                       "positive number", what, path, r.line, k + 1, k == 1 ? "radelem" : "wj",
                       E->name, r.tok[k]);
        goto done;
      }
      if (k == 1) E->radelem = v; else E->wj = v;
    }
    for (long c = 0; c < nall; c++) {
      if (!next_line(&r)) {
        st = KILN_FAIL(err, KILN_EFORMAT,
                       "%s: %s:%d: end of file after %ld of %ld coefficients of element %s",
                       what, path, r.line, c, nall, E->name);
        goto done;
      }
      double v;
      if (r.ntok != 1 || !parse_num(r.tok[0], &v)) {
        st = KILN_FAIL(err, KILN_EFORMAT,
                       "%s: %s:%d: field 1: expected one number (coefficient %ld of element %s)"
                       ", got '%s'%s", what, path, r.line, c + 1, E->name, r.tok[0],
                       r.ntok != 1 ? " and more fields" : "");
        goto done;
      }
      m->coeff[e * nall + c] = v;
    }
  }
  if (next_line(&r)) {
    st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: unexpected extra data after %ld elements x %ld "
                   "coefficients ('%s')", what, path, r.line, nel, nall, r.tok[0]);
    goto done;
  }
done:
  fclose(r.f);
  return st;
}

kiln_status snap_model_read(snap_model *m, const char *coeff, const char *param,
                            const char *what, kiln_error *err) {
  memset(m, 0, sizeof *m);
  m->rfac0 = 0.99363;
  m->rmin0 = 0.0;
  m->switchflag = 1;
  m->bzeroflag = 1;
  m->quadraticflag = 0;
  kiln_status st;
  if (param && (st = read_param(m, param, what, err))) return st;
  if ((st = read_coeff(m, coeff, param != NULL, what, err))) {
    snap_model_free(m);
    return st;
  }
  m->ncoeff = param ? snap_ncomponents(m->twojmax) : 0;
  return KILN_OK;
}
