/* src/io/xyz.c: extended XYZ as ASE reads and writes it (plain XYZ read too).
 *
 * Frame = natoms line, comment line, natoms atom lines. The comment line holds
 * key=value pairs (values quoted with "..", '..', {..} or [..]; a backslash escapes
 * the next character; a bare key means key=T). Values become numbers (int if every
 * part is an int, else real), booleans (T/F/True/False...), or strings; vectors are
 * split at whitespace and commas. Special keys: Lattice (9 numbers, rows a b c ->
 * cell), pbc (3 booleans; default T T T with a Lattice, else F F F), Properties
 * (name:type:ncols triples, types S R I L). stress and virial are 3x3 (9 numbers in
 * Fortran order as ASE writes them, or 6 Voigt values xx yy zz yz xz xy) and are
 * stored in info as 9 reals, row-major. A comment without any '=' is plain XYZ: it
 * is kept as info "comment" and the columns are species x y z (extra ignored).
 *
 * Per-atom columns: species -> symbols (masses from the periodic table), pos ->
 * positions, masses -> masses, vel/velocities -> velocities (Å/fs), momenta (ASE
 * units amu·Å/t, t = Å·sqrt(amu/eV)) -> velocities p/m/sqrt(KILN_MVV2E) (this keeps
 * the kinetic energy exact in kiln units), Z -> symbols when there is no species
 * column. Every other column (forces, energies, charges, ...) becomes a prop of
 * its type: reference forces in a training file are the prop "forces", never
 * atoms->f (which holds kiln's own computed forces).
 *
 * Writing: species, pos, masses (only if some mass differs from the periodic
 * table), vel (if any velocity is nonzero; option velocities=true/false forces it;
 * option momenta=true writes ASE momenta instead), forces = atoms->f when option
 * forces=true (it then replaces a prop named forces), then every prop. Info goes
 * to the comment line; numbers use the shortest form that reads back exactly. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "io/io_internal.h"
#include "kiln/units.h"

#define MAXCOLS 4096

/* ------------------------------------------------------------ comment line */

typedef struct kvpair { char *key, *val; } kvpair;
typedef struct kvlist {
  kvpair *p;
  size_t n, cap;
  char *buf;
} kvlist;

static void kv_free(kvlist *l) {
  free(l->p);
  free(l->buf);
  memset(l, 0, sizeof *l);
}

static char closing(char c) {
  switch (c) {
  case '"': return '"';
  case '\'': return '\'';
  case '{': return '}';
  case '[': return ']';
  default: return 0;
  }
}

/* One token into *out (NUL-terminated); quoted segments are copied verbatim
 * (backslash escapes). Returns 0, or -1 on an unterminated quote. */
static int read_token(const char **ps, char **pout, int stop_at_eq) {
  const char *p = *ps;
  char *out = *pout;
  while (*p) {
    char c = *p, close = closing(c);
    if (c == '\\') {
      if (p[1]) { *out++ = p[1]; p += 2; } else p++;
    } else if (close) {
      p++;
      while (*p && *p != close) {
        if (*p == '\\' && p[1]) { *out++ = p[1]; p += 2; }
        else *out++ = *p++;
      }
      if (!*p) return -1;
      p++;
    } else if (isspace((unsigned char)c) || (stop_at_eq && c == '=')) {
      break;
    } else {
      *out++ = *p++;
    }
  }
  *out++ = 0;
  *ps = p;
  *pout = out;
  return 0;
}

static kiln_status parse_comment(const kilni_reader *r, const char *s, kvlist *l, kiln_error *err) {
  memset(l, 0, sizeof *l);
  size_t len = strlen(s);
  if (!(l->buf = malloc(2 * len + 16))) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  char *out = l->buf;
  const char *p = s;
  for (;;) {
    while (*p && isspace((unsigned char)*p)) p++;
    if (!*p) break;
    char *key = out;
    if (read_token(&p, &out, 1)) return kilni_ferr(err, r, "comment line: unterminated quote");
    while (*p && isspace((unsigned char)*p)) p++;
    char *val;
    if (*p == '=') {
      p++;
      while (*p && isspace((unsigned char)*p)) p++;
      val = out;
      if (read_token(&p, &out, 0)) return kilni_ferr(err, r, "comment line: unterminated quote in '%s'", key);
    } else {
      val = out;
      *out++ = 'T';
      *out++ = 0;
    }
    if (!key[0]) return kilni_ferr(err, r, "comment line: a value without a key (got '=%s')", val);
    if (l->n == l->cap) {
      size_t cap = l->cap ? 2 * l->cap : 16;
      kvpair *q = realloc(l->p, cap * sizeof *q);
      if (!q) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
      l->p = q;
      l->cap = cap;
    }
    l->p[l->n].key = key;
    l->p[l->n].val = val;
    l->n++;
  }
  return KILN_OK;
}

/* A typed comment value. */
typedef struct tval {
  kiln_val_kind kind;
  size_t count;
  double *val;     /* numbers (malloc'd) */
  const char *str; /* the raw string for KILN_VAL_STR */
} tval;

/* Split at whitespace and commas (copy in buf). */
static int split_vec(char *buf, char **tok, int max) {
  int n = 0;
  char *s = buf;
  while (*s) {
    while (*s && (isspace((unsigned char)*s) || *s == ',')) s++;
    if (!*s) break;
    if (n < max) tok[n] = s;
    n++;
    while (*s && !isspace((unsigned char)*s) && *s != ',') s++;
    if (*s) *s++ = 0;
  }
  return n;
}

static kiln_status type_value(const char *v, tval *t, kiln_error *err) {
  memset(t, 0, sizeof *t);
  t->kind = KILN_VAL_STR;
  t->str = v;
  size_t len = strlen(v);
  char *buf = malloc(len + 1);
  int maxt = (int)(len / 2 + 2);
  char **tok = malloc((size_t)maxt * sizeof *tok);
  double *val = malloc((size_t)maxt * sizeof *val);
  if (!buf || !tok || !val) {
    free(buf); free(tok); free(val);
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  }
  memcpy(buf, v, len + 1);
  int n = split_vec(buf, tok, maxt);
  int isint = n > 0, isreal = n > 0, isbool = n > 0;
  for (int k = 0; k < n; k++) {
    long long iv;
    double dv;
    int bv;
    if (isint && kilni_parse_long(tok[k], &iv)) val[k] = (double)iv;
    else {
      isint = 0;
      if (isreal && kilni_parse_real(tok[k], &dv)) val[k] = dv;
      else isreal = 0;
    }
    if (isbool && !kilni_parse_bool(tok[k], &bv)) isbool = 0;
  }
  if (isint || isreal) {
    t->kind = isint ? KILN_VAL_INT : KILN_VAL_REAL;
  } else if (isbool) {
    for (int k = 0; k < n; k++) { int bv = 0; kilni_parse_bool(tok[k], &bv); val[k] = bv; }
    t->kind = KILN_VAL_BOOL;
  }
  free(buf);
  free(tok);
  if (t->kind == KILN_VAL_STR) {
    free(val);
  } else {
    t->val = val;
    t->count = (size_t)n;
  }
  return KILN_OK;
}

/* ------------------------------------------------------------ columns */

enum { T_SPECIES, T_POS, T_VEL, T_MOMENTA, T_MASS, T_Z, T_PROP, T_IGNORE };

typedef struct colspec {
  char name[128];
  char type;     /* S R I L */
  int ncols;
  int first;     /* first column (0-based) */
  int target;
  double *val;   /* props: n*ncols numbers */
  char **str;    /* props: n*ncols strings */
} colspec;

static void cols_free(colspec *c, int nc, size_t n) {
  for (int k = 0; k < nc; k++) {
    free(c[k].val);
    if (c[k].str) {
      for (size_t j = 0; j < n * (size_t)c[k].ncols; j++) free(c[k].str[j]);
      free(c[k].str);
    }
  }
  free(c);
}

static kiln_status check_col(const kilni_reader *r, const colspec *c, char type, int ncols,
                             kiln_error *err) {
  if (c->type != type || c->ncols != ncols)
    return kilni_ferr(err, r, "Properties: '%s' must be %c:%d (got %c:%d)", c->name, type, ncols,
                      c->type, c->ncols);
  return KILN_OK;
}

/* Parse "species:S:1:pos:R:3:..." into specs. */
static kiln_status parse_properties(const kilni_reader *r, const char *s, colspec **out, int *nout,
                                    int *totcols, kiln_error *err) {
  *out = NULL;
  *nout = 0;
  size_t len = strlen(s);
  char *buf = malloc(len + 1);
  if (!buf) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  memcpy(buf, s, len + 1);
  int nparts = 1;
  for (char *p = buf; *p; p++) nparts += *p == ':';
  kiln_status st = KILN_OK;
  colspec *c = NULL;
  if (nparts % 3 != 0) {
    st = kilni_ferr(err, r, "Properties: expected name:type:count triples (got '%.200s')", s);
    goto done;
  }
  int nc = nparts / 3;
  if (!(c = calloc((size_t)nc, sizeof *c))) { st = KILN_FAIL(err, KILN_ENOMEM, "out of memory"); goto done; }
  char *p = buf;
  int col = 0;
  for (int k = 0; k < nc; k++) {
    char *name = p, *type, *cnt;
    p = strchr(p, ':'); *p++ = 0; type = p;
    p = strchr(p, ':'); *p++ = 0; cnt = p;
    char *e = strchr(p, ':');
    if (e) { *e = 0; p = e + 1; }
    long long ncol;
    if (!name[0] || strlen(name) >= sizeof c[k].name) {
      st = kilni_ferr(err, r, "Properties: bad column name '%.100s'", name);
      goto done;
    }
    if (strlen(type) != 1 || !strchr("SRIL", type[0])) {
      st = kilni_ferr(err, r, "Properties: unknown type '%s' for '%s' (expected S, R, I or L)", type, name);
      goto done;
    }
    if (!kilni_parse_long(cnt, &ncol) || ncol < 1 || ncol > MAXCOLS) {
      st = kilni_ferr(err, r, "Properties: column count of '%s' must be a positive integer (got '%s')",
                      name, cnt);
      goto done;
    }
    strcpy(c[k].name, name);
    c[k].type = type[0];
    c[k].ncols = (int)ncol;
    c[k].first = col;
    col += (int)ncol;
    if (col > MAXCOLS) { st = kilni_ferr(err, r, "Properties: more than %d columns", MAXCOLS); goto done; }
  }
  *out = c;
  *nout = nc;
  *totcols = col;
  c = NULL;
done:
  free(c);
  free(buf);
  return st;
}

/* ------------------------------------------------------------ reading */

static const char *kind_word(char type) {
  switch (type) {
  case 'R': return "a real number";
  case 'I': return "an integer";
  case 'L': return "a logical T or F";
  default: return "a string";
  }
}

/* Store a comment key into info (stress/virial as 3x3 row-major). */
static kiln_status put_info(const kilni_reader *r, kiln_atoms *a, const char *key, const char *v,
                            kiln_error *err) {
  tval t;
  kiln_status st = type_value(v, &t, err);
  if (st) return st;
  if (!strcmp(key, "stress") || !strcmp(key, "virial")) {
    if (t.kind != KILN_VAL_REAL && t.kind != KILN_VAL_INT) {
      free(t.val);
      return kilni_ferr(err, r, "%s: expected 9 or 6 numbers (got '%.200s')", key, v);
    }
    double m[9];
    if (t.count == 9) {
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) m[3 * i + j] = t.val[i + 3 * j]; /* Fortran order */
    } else if (t.count == 6) { /* Voigt xx yy zz yz xz xy */
      const double *s = t.val;
      double full[9] = {s[0], s[5], s[4], s[5], s[1], s[3], s[4], s[3], s[2]};
      memcpy(m, full, sizeof m);
    } else {
      size_t cnt = t.count;
      free(t.val);
      return kilni_ferr(err, r, "%s: expected 9 or 6 numbers (got %zu)", key, cnt);
    }
    free(t.val);
    return kiln_atoms_info_set(a, key, KILN_VAL_REAL, 9, m, err);
  }
  if (t.kind == KILN_VAL_STR) return kiln_atoms_info_set_str(a, key, t.str, err);
  st = kiln_atoms_info_set(a, key, t.kind, t.count, t.val, err);
  free(t.val);
  return st;
}

static kiln_status set_lattice(const kilni_reader *r, kiln_atoms *a, const char *v, kiln_error *err) {
  tval t;
  kiln_status st = type_value(v, &t, err);
  if (st) return st;
  if (t.kind != KILN_VAL_REAL && t.kind != KILN_VAL_INT) {
    st = kilni_ferr(err, r, "Lattice: expected 9 numbers (got '%.200s')", v);
  } else if (t.count != 9) {
    st = kilni_ferr(err, r, "Lattice: expected 9 numbers (got %zu)", t.count);
  } else {
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) a->cell[i][j] = t.val[3 * i + j];
  }
  free(t.val);
  return st;
}

static kiln_status set_pbc(const kilni_reader *r, kiln_atoms *a, const char *v, kiln_error *err) {
  char buf[256], *tok[4];
  snprintf(buf, sizeof buf, "%s", v);
  int n = split_vec(buf, tok, 4), b[3];
  if (n == 1 && kilni_parse_bool(tok[0], &b[0])) {
    a->pbc[0] = a->pbc[1] = a->pbc[2] = b[0];
    return KILN_OK;
  }
  if (n != 3 || !kilni_parse_bool(tok[0], &b[0]) || !kilni_parse_bool(tok[1], &b[1]) ||
      !kilni_parse_bool(tok[2], &b[2]))
    return kilni_ferr(err, r, "pbc: expected 3 values T or F (got '%.200s')", v);
  for (int d = 0; d < 3; d++) a->pbc[d] = b[d];
  return KILN_OK;
}

/* Read the atom lines of one frame whose natoms and comment lines were read. */
static kiln_status read_frame(kilni_reader *r, size_t natoms, kiln_atoms **out, kiln_error *err) {
  *out = NULL;
  kiln_atoms *a = NULL;
  kvlist kv = {0};
  colspec *c = NULL;
  int nc = 0, totcols = 0, plain = 0;
  char **tok = NULL;
  kiln_status st;
  long comment_line = r->lineno;
  if ((st = kiln_atoms_new(&a, natoms, err))) return st;

  if (!strchr(r->line, '=')) {
    plain = 1;
    const char *s = r->line;
    while (*s && isspace((unsigned char)*s)) s++;
    size_t l = strlen(s);
    while (l > 0 && isspace((unsigned char)s[l - 1])) l--;
    if (l > 0) {
      char *cm = malloc(l + 1);
      if (!cm) { st = KILN_FAIL(err, KILN_ENOMEM, "out of memory"); goto fail; }
      memcpy(cm, s, l);
      cm[l] = 0;
      st = kiln_atoms_info_set_str(a, "comment", cm, err);
      free(cm);
      if (st) goto fail;
    }
  } else {
    if ((st = parse_comment(r, r->line, &kv, err))) goto fail;
  }

  /* Lattice, pbc, Properties first; the rest into info */
  int have_lattice = 0, have_pbc = 0;
  const char *props = "species:S:1:pos:R:3";
  for (size_t k = 0; k < kv.n; k++) {
    const char *key = kv.p[k].key, *v = kv.p[k].val;
    if (!strcmp(key, "Lattice")) {
      if ((st = set_lattice(r, a, v, err))) goto fail;
      have_lattice = 1;
    } else if (!strcmp(key, "pbc")) {
      if ((st = set_pbc(r, a, v, err))) goto fail;
      have_pbc = 1;
    } else if (!strcmp(key, "Properties")) {
      props = v;
    } else if ((st = put_info(r, a, key, v, err))) {
      goto fail;
    }
  }
  if (!have_pbc)
    for (int d = 0; d < 3; d++) a->pbc[d] = have_lattice;
  if ((st = parse_properties(r, props, &c, &nc, &totcols, err))) goto fail;

  int ispecies = -1, iz = -1, ipos = -1, imom = -1, ivel = -1, imass = -1;
  for (int k = 0; k < nc; k++) {
    colspec *s = &c[k];
    s->target = T_PROP;
    if (!strcmp(s->name, "species")) {
      if ((st = check_col(r, s, 'S', 1, err))) goto fail;
      s->target = T_SPECIES; ispecies = k;
    } else if (!strcmp(s->name, "pos") || !strcmp(s->name, "positions")) {
      if ((st = check_col(r, s, 'R', 3, err))) goto fail;
      s->target = T_POS; ipos = k;
    } else if ((!strcmp(s->name, "vel") || !strcmp(s->name, "velocities")) && ivel < 0) {
      if ((st = check_col(r, s, 'R', 3, err))) goto fail;
      s->target = T_VEL; ivel = k;
    } else if (!strcmp(s->name, "momenta")) {
      if ((st = check_col(r, s, 'R', 3, err))) goto fail;
      s->target = T_MOMENTA; imom = k;
    } else if (!strcmp(s->name, "masses")) {
      if ((st = check_col(r, s, 'R', 1, err))) goto fail;
      s->target = T_MASS; imass = k;
    } else if (!strcmp(s->name, "Z")) {
      if ((st = check_col(r, s, 'I', 1, err))) goto fail;
      s->target = T_Z; iz = k;
    }
  }
  if (ipos < 0) { st = kilni_ferr_at(err, r->file, comment_line, "Properties: no 'pos' column"); goto fail; }
  if (ispecies < 0 && iz < 0) {
    st = kilni_ferr_at(err, r->file, comment_line, "Properties: no 'species' or 'Z' column");
    goto fail;
  }
  if (ispecies >= 0 && iz >= 0) c[iz].target = T_IGNORE; /* redundant with species */
  if (ivel >= 0 && imom >= 0) c[imom].target = T_PROP;
  for (int k = 0; k < nc; k++) {
    if (c[k].target != T_PROP) continue;
    size_t m = natoms * (size_t)c[k].ncols;
    if (c[k].type == 'S') c[k].str = calloc(m ? m : 1, sizeof(char *));
    else c[k].val = calloc(m ? m : 1, sizeof(double));
    if (!c[k].str && !c[k].val) { st = KILN_FAIL(err, KILN_ENOMEM, "out of memory"); goto fail; }
  }

  int maxtok = totcols + 1;
  if (!(tok = malloc((size_t)maxtok * sizeof *tok))) { st = KILN_FAIL(err, KILN_ENOMEM, "out of memory"); goto fail; }
  char last_sym[KILN_SYMBOL_LEN] = "";
  int32_t last_type = -1;
  double last_mass = 0.0;
  for (size_t i = 0; i < natoms; i++) {
    int got = kilni_reader_next(r, err);
    if (got < 0) { st = r->st; goto fail; }
    if (got == 0) {
      st = kilni_ferr(err, r, "expected %zu atom lines, file ends after %zu", natoms, i);
      goto fail;
    }
    int nt = kilni_split(r->line, tok, maxtok);
    if (nt < totcols || (nt > totcols && !plain)) {
      st = kilni_ferr(err, r, "expected %d columns (got %d)", totcols, nt);
      goto fail;
    }
    for (int k = 0; k < nc; k++) {
      colspec *s = &c[k];
      for (int j = 0; j < s->ncols; j++) {
        const char *t = tok[s->first + j];
        double dv = 0.0;
        long long iv = 0;
        int bv = 0, ok = 1;
        switch (s->type) {
        case 'R': ok = kilni_parse_real(t, &dv); break;
        case 'I': ok = kilni_parse_long(t, &iv); dv = (double)iv; break;
        case 'L': ok = kilni_parse_bool(t, &bv); dv = bv; break;
        default: break;
        }
        if (!ok) {
          st = kilni_ferr(err, r, "field '%s' (column %d): expected %s (got '%.100s')", s->name,
                          s->first + j + 1, kind_word(s->type), t);
          goto fail;
        }
        switch (s->target) {
        case T_SPECIES:
          if (strcmp(t, last_sym) != 0) {
            int z = kiln_element_z(t);
            if (!z || strlen(t) >= KILN_SYMBOL_LEN) {
              st = kilni_ferr(err, r, "field 'species' (column %d): unknown element symbol (got '%.100s')",
                              s->first + 1, t);
              goto fail;
            }
            if ((st = kiln_atoms_species_index(a, t, &last_type, err))) goto fail;
            strcpy(last_sym, t);
            last_mass = kiln_element_mass(z);
          }
          a->type[i] = last_type;
          a->mass[i] = last_mass;
          break;
        case T_Z:
          if (ispecies < 0) {
            const char *sym = iv >= 1 && iv <= 118 ? kiln_element_symbol((int)iv) : NULL;
            if (!sym) {
              st = kilni_ferr(err, r, "field 'Z' (column %d): not an atomic number 1..118 (got '%.100s')",
                              s->first + 1, t);
              goto fail;
            }
            if ((st = kilni_set_species(a, i, sym, err))) goto fail;
          }
          break;
        case T_POS: a->x[i][j] = dv; break;
        case T_VEL: case T_MOMENTA: a->v[i][j] = dv; break;
        case T_MASS: break; /* applied after species (columns may come in any order) */
        case T_PROP:
          if (s->type == 'S') {
            if (!(s->str[i * (size_t)s->ncols + (size_t)j] = strdup(t))) {
              st = KILN_FAIL(err, KILN_ENOMEM, "out of memory");
              goto fail;
            }
          } else {
            s->val[i * (size_t)s->ncols + (size_t)j] = dv;
          }
          break;
        default: break;
        }
      }
    }
    if (imass >= 0) {
      double m;
      kilni_parse_real(tok[c[imass].first], &m);
      a->mass[i] = m;
    }
  }
  if (imom >= 0 && c[imom].target == T_MOMENTA) {
    double f = 1.0 / sqrt(KILN_MVV2E);
    for (size_t i = 0; i < natoms; i++) {
      if (!(a->mass[i] > 0.0)) {
        st = kilni_ferr_at(err, r->file, comment_line + 1 + (long)i,
                           "momenta: atom %zu has mass %g; cannot make velocities", i + 1, a->mass[i]);
        goto fail;
      }
      for (int d = 0; d < 3; d++) a->v[i][d] *= f / a->mass[i];
    }
  }
  for (int k = 0; k < nc; k++) {
    colspec *s = &c[k];
    if (s->target != T_PROP) continue;
    if (s->type == 'S')
      st = kiln_atoms_prop_set_str(a, s->name, (size_t)s->ncols, (const char *const *)s->str, err);
    else
      st = kiln_atoms_prop_set(a, s->name,
                               s->type == 'R' ? KILN_VAL_REAL : s->type == 'I' ? KILN_VAL_INT : KILN_VAL_BOOL,
                               (size_t)s->ncols, s->val, err);
    if (st) goto fail;
  }
  cols_free(c, nc, natoms);
  free(tok);
  kv_free(&kv);
  *out = a;
  return KILN_OK;
fail:
  cols_free(c, nc, natoms);
  free(tok);
  kv_free(&kv);
  kiln_atoms_free(a);
  return st;
}

/* Read the next natoms line, skipping blank lines. 1: got one; 0: EOF; <0 error. */
static int next_natoms(kilni_reader *r, size_t *natoms, kiln_error *err, kiln_status *st) {
  for (;;) {
    int got = kilni_reader_next(r, err);
    if (got < 0) { *st = r->st; return -1; }
    if (got == 0) return 0;
    char *tok[2];
    int nt = kilni_split(r->line, tok, 2);
    if (nt == 0) continue;
    long long n;
    if (nt != 1 || !kilni_parse_long(tok[0], &n) || n < 0) {
      *st = kilni_ferr(err, r, "expected the number of atoms (got '%.100s')", nt ? tok[0] : "");
      return -1;
    }
    *natoms = (size_t)n;
    return 1;
  }
}

/* Skip the comment and atom lines of a frame. */
static kiln_status skip_frame(kilni_reader *r, size_t natoms, kiln_error *err) {
  for (size_t i = 0; i < natoms + 1; i++) {
    int got = kilni_reader_next(r, err);
    if (got < 0) return r->st;
    if (got == 0) {
      if (i == 0) return kilni_ferr(err, r, "expected a comment line and %zu atom lines, file ends", natoms);
      return kilni_ferr(err, r, "expected %zu atom lines, file ends after %zu", natoms, i - 1);
    }
  }
  return KILN_OK;
}

kiln_status kilni_xyz_next(kilni_reader *r, kiln_atoms **out, int *got, kiln_error *err) {
  *out = NULL;
  *got = 0;
  size_t natoms;
  kiln_status st = KILN_OK;
  int g = next_natoms(r, &natoms, err, &st);
  if (g <= 0) return g < 0 ? st : KILN_OK;
  g = kilni_reader_next(r, err);
  if (g < 0) return r->st;
  if (g == 0) return kilni_ferr(err, r, "expected a comment line and %zu atom lines, file ends", natoms);
  if ((st = read_frame(r, natoms, out, err))) return st;
  *got = 1;
  return KILN_OK;
}

kiln_status kiln_xyz_read(const char *file, const kiln_opts *o, kiln_atoms ***frames,
                          size_t *nframes, kiln_error *err) {
  *frames = NULL;
  *nframes = 0;
  int has_index;
  long index;
  kiln_status st = kilni_opt_index(o, "extxyz read", &has_index, &index, err);
  if (st) return st;
  if ((st = kiln_opts_check_unused(o, "extxyz read", err))) return st;
  kilni_reader r;
  if ((st = kilni_reader_open(&r, file, err))) return st;
  kilni_frames fr = {0};
  size_t target = 0, natoms;
  int got;
  if (has_index && index < 0) { /* count frames first */
    size_t count = 0;
    while ((got = next_natoms(&r, &natoms, err, &st)) == 1) {
      if ((st = skip_frame(&r, natoms, err))) goto done;
      count++;
    }
    if (got < 0) goto done;
    if ((st = kilni_resolve_index(index, count, file, &target, err))) goto done;
    if ((st = kilni_reader_rewind(&r, err))) goto done;
  } else if (has_index) {
    target = (size_t)index;
  }
  for (size_t k = 0;; k++) {
    got = next_natoms(&r, &natoms, err, &st);
    if (got < 0) goto done;
    if (got == 0) break;
    if (has_index && k < target) {
      if ((st = skip_frame(&r, natoms, err))) goto done;
      continue;
    }
    got = kilni_reader_next(&r, err);
    if (got < 0) { st = r.st; goto done; }
    if (got == 0) {
      st = kilni_ferr(err, &r, "expected a comment line and %zu atom lines, file ends", natoms);
      goto done;
    }
    kiln_atoms *a;
    if ((st = read_frame(&r, natoms, &a, err))) goto done;
    if ((st = kilni_frames_push(&fr, a, err))) goto done;
    if (has_index) break;
  }
  if (has_index && fr.n == 0) {
    size_t count = 0; /* frames before EOF: index >= count */
    if ((st = kilni_reader_rewind(&r, err))) goto done;
    while ((got = next_natoms(&r, &natoms, err, &st)) == 1 && !skip_frame(&r, natoms, err)) count++;
    st = kilni_resolve_index(index, count, file, &target, err);
    goto done;
  }
done:
  kilni_reader_close(&r);
  if (st) {
    kilni_frames_free(&fr);
    return st;
  }
  if (fr.n == 0) {
    kilni_frames_free(&fr);
    return KILN_FAIL(err, KILN_EFORMAT, "%s: no frames (empty file)", file);
  }
  *frames = fr.a;
  *nframes = fr.n;
  return KILN_OK;
}

/* ------------------------------------------------------------ writing */

typedef struct wopts {
  int forces;     /* write atoms->f as forces */
  int velocities; /* -1 auto, 0 no, 1 yes */
  int momenta;    /* write ASE momenta instead of vel */
} wopts;

/* Does s need quoting in the comment line? */
static int needs_quote(const char *s) {
  if (!*s) return 1;
  for (; *s; s++)
    if (isspace((unsigned char)*s) || strchr("=\"'{}[]\\,", *s)) return 1;
  return 0;
}

static void put_str(FILE *fp, const char *s) {
  if (!needs_quote(s)) { fputs(s, fp); return; }
  fputc('"', fp);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', fp);
    fputc(*s, fp);
  }
  fputc('"', fp);
}

static void put_num(FILE *fp, kiln_val_kind kind, double v) {
  char buf[40];
  if (kind == KILN_VAL_BOOL) fputs(v != 0.0 ? "T" : "F", fp);
  else if (kind == KILN_VAL_INT) fprintf(fp, "%lld", (long long)v);
  else fputs(kilni_fmt_real_dot(buf, v), fp);
}

static void put_info_val(FILE *fp, const kiln_info *in) {
  if (in->kind == KILN_VAL_STR) { put_str(fp, in->str ? in->str : ""); return; }
  int special = (!strcmp(in->name, "stress") || !strcmp(in->name, "virial")) && in->count == 9;
  if (in->count == 1) { put_num(fp, in->kind, in->val[0]); return; }
  fputc('"', fp);
  for (size_t k = 0; k < in->count; k++) {
    size_t idx = special ? (k % 3) * 3 + k / 3 : k; /* Fortran order for 3x3 */
    if (k) fputc(' ', fp);
    put_num(fp, in->kind, in->val[idx]);
  }
  fputc('"', fp);
}

static int reserved_prop(const char *name, const wopts *w) {
  static const char *res[] = {"species", "pos", "positions", "Z", "masses", "vel", "velocities", "momenta"};
  for (size_t k = 0; k < sizeof res / sizeof res[0]; k++)
    if (!strcmp(name, res[k])) return 1;
  return w->forces && !strcmp(name, "forces");
}

static kiln_status write_frame(FILE *fp, const char *file, const kiln_atoms *a, const wopts *w,
                               kiln_error *err) {
  size_t n = a->n;
  char buf[40];
  /* validate string props and species first */
  for (size_t i = 0; i < n; i++) {
    if (a->type[i] < 0 || a->type[i] >= a->nspecies)
      return KILN_FAIL(err, KILN_EINVAL, "writing '%s': atom %zu has type %d but there are %d species",
                       file, i + 1, (int)a->type[i], a->nspecies);
  }
  for (size_t k = 0; k < a->nprops; k++) {
    const kiln_prop *p = &a->props[k];
    if (p->kind != KILN_VAL_STR || reserved_prop(p->name, w)) continue;
    for (size_t j = 0; j < n * p->ncols; j++) {
      const char *s = p->str[j];
      if (!s || !*s || strpbrk(s, " \t\n\r\v\f"))
        return KILN_FAIL(err, KILN_EINVAL,
                         "writing '%s': string property '%s' of atom %zu is empty or has spaces ('%s')",
                         file, p->name, j / p->ncols + 1, s ? s : "");
    }
  }
  for (size_t k = 0; k < a->nprops; k++)
    if (strpbrk(a->props[k].name, " \t:=\"") && !reserved_prop(a->props[k].name, w))
      return KILN_FAIL(err, KILN_EINVAL,
                       "writing '%s': property name '%s' cannot hold spaces, ':', '=' or quotes", file,
                       a->props[k].name);
  int masses = 0, vel = w->velocities > 0;
  for (size_t i = 0; i < n; i++) {
    int z = kiln_element_z(a->species[a->type[i]]);
    if (!z || a->mass[i] != kiln_element_mass(z)) masses = 1;
    if (w->velocities < 0 && (a->v[i][0] != 0.0 || a->v[i][1] != 0.0 || a->v[i][2] != 0.0)) vel = 1;
  }
  if (vel && w->momenta)
    for (size_t i = 0; i < n; i++)
      if (!(a->mass[i] > 0.0))
        return KILN_FAIL(err, KILN_EINVAL, "writing '%s': momenta need positive masses (atom %zu has %g)",
                         file, i + 1, a->mass[i]);

  fprintf(fp, "%zu\n", n);
  int have_cell = a->pbc[0] || a->pbc[1] || a->pbc[2];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) have_cell |= a->cell[i][j] != 0.0;
  if (have_cell) {
    fputs("Lattice=\"", fp);
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) fprintf(fp, "%s%s", i + j ? " " : "", kilni_fmt_real_dot(buf, a->cell[i][j]));
    fputs("\" ", fp);
  }
  fputs("Properties=species:S:1:pos:R:3", fp);
  if (masses) fputs(":masses:R:1", fp);
  if (vel) fputs(w->momenta ? ":momenta:R:3" : ":vel:R:3", fp);
  if (w->forces) fputs(":forces:R:3", fp);
  for (size_t k = 0; k < a->nprops; k++) {
    const kiln_prop *p = &a->props[k];
    if (reserved_prop(p->name, w)) continue;
    char t = p->kind == KILN_VAL_REAL ? 'R' : p->kind == KILN_VAL_INT ? 'I' : p->kind == KILN_VAL_BOOL ? 'L' : 'S';
    fprintf(fp, ":%s:%c:%zu", p->name, t, p->ncols);
  }
  for (size_t k = 0; k < a->ninfo; k++) {
    const kiln_info *in = &a->info[k];
    if (!strcmp(in->name, "Lattice") || !strcmp(in->name, "Properties") || !strcmp(in->name, "pbc"))
      continue;
    fputc(' ', fp);
    put_str(fp, in->name);
    fputc('=', fp);
    put_info_val(fp, in);
  }
  fprintf(fp, " pbc=\"%c %c %c\"\n", a->pbc[0] ? 'T' : 'F', a->pbc[1] ? 'T' : 'F', a->pbc[2] ? 'T' : 'F');

  double pf = sqrt(KILN_MVV2E);
  for (size_t i = 0; i < n; i++) {
    fprintf(fp, "%-2s", a->species[a->type[i]]);
    for (int d = 0; d < 3; d++) fprintf(fp, " %s", kilni_fmt_real(buf, a->x[i][d]));
    if (masses) fprintf(fp, " %s", kilni_fmt_real(buf, a->mass[i]));
    if (vel)
      for (int d = 0; d < 3; d++)
        fprintf(fp, " %s", kilni_fmt_real(buf, w->momenta ? a->v[i][d] * a->mass[i] * pf : a->v[i][d]));
    if (w->forces)
      for (int d = 0; d < 3; d++) fprintf(fp, " %s", kilni_fmt_real(buf, a->f[i][d]));
    for (size_t k = 0; k < a->nprops; k++) {
      const kiln_prop *p = &a->props[k];
      if (reserved_prop(p->name, w)) continue;
      for (size_t j = 0; j < p->ncols; j++) {
        size_t idx = i * p->ncols + j;
        fputc(' ', fp);
        if (p->kind == KILN_VAL_STR) fputs(p->str[idx], fp);
        else if (p->kind == KILN_VAL_REAL) fputs(kilni_fmt_real(buf, p->val[idx]), fp);
        else put_num(fp, p->kind, p->val[idx]);
      }
    }
    fputc('\n', fp);
  }
  return KILN_OK;
}

kiln_status kiln_xyz_write(const char *file, const kiln_opts *o, kiln_atoms *const *frames,
                           size_t nframes, int append, kiln_error *err) {
  const char *what = "extxyz write";
  wopts w = {0, -1, 0};
  kiln_status st = kiln_opts_bool(o, what, "forces", 1, 0, &w.forces, err);
  if (!st) st = kiln_opts_bool(o, what, "momenta", 1, 0, &w.momenta, err);
  if (!st && kiln_opts_get(o, "velocities")) st = kiln_opts_bool(o, what, "velocities", 0, 0, &w.velocities, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (st) return st;
  if (!frames && nframes) return KILN_FAIL(err, KILN_EINVAL, "frames is NULL");
  kilni_writer wr;
  if ((st = kilni_writer_open(&wr, file, append, err))) return st;
  for (size_t k = 0; k < nframes; k++) {
    if (!frames[k]) { st = KILN_FAIL(err, KILN_EINVAL, "frame %zu is NULL", k); break; }
    if ((st = write_frame(wr.fp, file, frames[k], &w, err))) break;
  }
  if (st) {
    kilni_writer_abort(&wr);
    return st;
  }
  return kilni_writer_commit(&wr, err);
}
