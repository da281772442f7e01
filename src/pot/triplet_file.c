/* src/pot/triplet_file.c: reader for LAMMPS three-element-entry potential files
 * (Stillinger-Weber, Tersoff). See triplet_file.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pot/pot_internal.h"
#include "pot/triplet_file.h"

typedef struct { char *s; int line; } token;

static const char *const SEP = " \t\r\n\f\v";

static kiln_status slurp(const char *what, const char *path, char **out, kiln_error *err) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return KILN_FAIL(err, KILN_EIO, "%s: cannot open file '%s': %s", what, path, strerror(errno));
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  if (!buf) { fclose(fp); return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory reading '%s'", what, path); }
  for (;;) {
    if (len + 1 >= cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) { free(buf); fclose(fp); return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory reading '%s'", what, path); }
      buf = nb; cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - 1 - len, fp);
    len += got;
    if (got == 0) break;
  }
  int bad = ferror(fp);
  fclose(fp);
  if (bad) { free(buf); return KILN_FAIL(err, KILN_EIO, "%s: error reading file '%s'", what, path); }
  buf[len] = '\0';
  *out = buf;
  return KILN_OK;
}

static int find_name(char (*names)[KILN_SYMBOL_LEN], int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0) return i;
  return -1;
}

/* Add an element symbol to the list (no duplicates). */
static kiln_status add_element(kilni_triplet_file *tf, const char *what, const char *s, int line,
                               kiln_error *err) {
  if (find_name(tf->el, tf->nel, s) >= 0) return KILN_OK;
  if (strlen(s) >= KILN_SYMBOL_LEN)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: element name '%s' is too long (at most %d characters)",
                     what, tf->path, line, s, KILN_SYMBOL_LEN - 1);
  if (tf->nel >= KILN_MAX_SPECIES)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: %s: more than %d elements", what, tf->path, KILN_MAX_SPECIES);
  strcpy(tf->el[tf->nel++], s);
  return KILN_OK;
}

/* The elements option: a list of names, one string of names, or a table whose keyed
 * entries map a species symbol to a file element name. */
static kiln_status read_elements(kilni_triplet_file *tf, const char *what, kiln_opts *eo,
                                 kiln_error *err) {
  tf->nel = 0;
  tf->nalias = 0;
  eo->used = 1;
  if (eo->kind == KILN_OPT_STR) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", eo->str ? eo->str : "");
    char *save = NULL;
    for (char *w = strtok_r(tmp, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
      if (tf->nel >= KILN_MAX_SPECIES || strlen(w) >= KILN_SYMBOL_LEN)
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements': bad element list '%s'", what, eo->str);
      if (find_name(tf->el, tf->nel, w) >= 0)
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements': '%s' given twice", what, w);
      strcpy(tf->el[tf->nel++], w);
    }
  } else if (eo->kind == KILN_OPT_TABLE) {
    for (size_t i = 0; i < eo->nchild; i++) {
      kiln_opts *c = &eo->child[i];
      c->used = 1;
      if (c->kind != KILN_OPT_STR || !c->str) {
        if (c->key)
          return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements.%s' must be a file element name",
                           what, c->key);
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements': entry %zu is not a string", what, i + 1);
      }
      if (strlen(c->str) >= KILN_SYMBOL_LEN || (c->key && strlen(c->key) >= KILN_SYMBOL_LEN))
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements': name '%s' is too long", what,
                         strlen(c->str) >= KILN_SYMBOL_LEN ? c->str : c->key);
      int e = find_name(tf->el, tf->nel, c->str);
      if (e >= 0 && !c->key)
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements': '%s' given twice", what, c->str);
      if (e < 0) {
        if (tf->nel >= KILN_MAX_SPECIES)
          return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements': too many elements", what);
        e = tf->nel;
        strcpy(tf->el[tf->nel++], c->str);
      }
      if (c->key) {
        strcpy(tf->alias[tf->nalias], c->key);
        tf->alias_el[tf->nalias++] = e;
      }
    }
  } else {
    return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements' must be a list of element names", what);
  }
  if (tf->nel == 0) return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements' is empty", what);
  return KILN_OK;
}

kiln_status kilni_triplet_read(kilni_triplet_file *tf, const char *what, const char *path,
                               int nparam, const char *const *names, const kiln_opts *elements,
                               kiln_error *err) {
  memset(tf, 0, sizeof *tf);
  tf->nparam = nparam;
  tf->path = malloc(strlen(path) + 1);
  if (!tf->path) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  strcpy(tf->path, path);

  char *buf = NULL;
  token *tok = NULL;
  int *estart = NULL;          /* token index where entry e starts */
  kiln_status st = slurp(what, path, &buf, err);
  if (st) goto fail;

  /* units: LAMMPS files may declare "UNITS: <style>" on their first line */
  {
    char *nl = strchr(buf, '\n');
    size_t l1 = nl ? (size_t)(nl - buf) : strlen(buf);
    char first[512];
    snprintf(first, sizeof first, "%.*s", (int)(l1 < 511 ? l1 : 511), buf);
    char *u = strstr(first, "UNITS:");
    if (u) {
      char unit[32] = "";
      if (sscanf(u + 6, "%31s", unit) == 1 && strcmp(unit, "metal") != 0) {
        st = KILN_FAIL(err, KILN_ENOTSUP, "%s: %s:1: file is in LAMMPS '%s' units; only 'metal' "
                       "(eV, Å) files are supported", what, path, unit);
        goto fail;
      }
    }
  }

  /* tokens with line numbers, comments stripped */
  size_t ntok = 0, captok = 256;
  tok = malloc(captok * sizeof *tok);
  if (!tok) { st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what); goto fail; }
  /* entries: an entry starts at a line with fields when no entry is open */
  const int nf = 3 + nparam;
  int nent = 0, capent = 64;
  estart = malloc((size_t)capent * sizeof *estart);
  if (!estart) { st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what); goto fail; }
  {
    char *p = buf;
    int line = 0;
    size_t open = 0;  /* fields in the open entry (0: none open) */
    while (p) {
      line++;
      char *next = strchr(p, '\n');
      if (next) *next++ = '\0';
      char *hash = strchr(p, '#');
      if (hash) *hash = '\0';
      char *save = NULL;
      for (char *w = strtok_r(p, SEP, &save); w; w = strtok_r(NULL, SEP, &save)) {
        if (ntok == captok) {
          token *nt = realloc(tok, 2 * captok * sizeof *tok);
          if (!nt) { st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what); goto fail; }
          tok = nt; captok *= 2;
        }
        if (open == 0) {
          if (nent == capent) {
            int *ne = realloc(estart, 2 * (size_t)capent * sizeof *estart);
            if (!ne) { st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what); goto fail; }
            estart = ne; capent *= 2;
          }
          estart[nent++] = (int)ntok;
        }
        tok[ntok].s = w;
        tok[ntok].line = line;
        ntok++;
        open++;
      }
      /* an entry is complete at the end of the line where it reaches nf fields */
      if (open > 0 && open >= (size_t)nf) {
        if (open > (size_t)nf) {
          int l0 = tok[estart[nent - 1]].line;
          st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: entry has %zu fields, expected %d "
                         "(3 element names and %d parameters)", what, path, l0, open, nf, nparam);
          goto fail;
        }
        open = 0;
      }
      p = next;
    }
    if (open > 0) {
      int l0 = tok[estart[nent - 1]].line;
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: incomplete entry at end of file: %zu fields, "
                     "expected %d (3 element names and %d parameters)", what, path, l0, open, nf, nparam);
      goto fail;
    }
  }
  if (nent == 0) {
    st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s: no entries found", what, path);
    goto fail;
  }

  /* elements in use */
  kiln_opts *eo = elements ? kiln_opts_get(elements, "elements") : NULL;
  if (eo) {
    tf->explicit_elements = 1;
    st = read_elements(tf, what, eo, err);
    if (st) goto fail;
    for (int i = 0; i < tf->nel; i++) {
      int found = 0;
      for (int e = 0; e < nent && !found; e++)
        for (int c = 0; c < 3; c++)
          if (strcmp(tok[estart[e] + c].s, tf->el[i]) == 0) found = 1;
      if (!found) {
        st = KILN_FAIL(err, KILN_EINVAL, "%s: element '%s' (option 'elements') has no entries in %s",
                       what, tf->el[i], path);
        goto fail;
      }
    }
  } else {
    for (int e = 0; e < nent; e++)
      for (int c = 0; c < 3; c++) {
        st = add_element(tf, what, tok[estart[e] + c].s, tok[estart[e] + c].line, err);
        if (st) goto fail;
      }
  }

  /* parse every entry (also the skipped ones: a typo anywhere is reported) */
  size_t nel3 = (size_t)tf->nel * tf->nel * tf->nel;
  tf->val = malloc((size_t)nent * nparam * sizeof *tf->val);
  tf->line = malloc((size_t)nent * sizeof *tf->line);
  tf->idx = malloc(nel3 * sizeof *tf->idx);
  if (!tf->val || !tf->line || !tf->idx) { st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what); goto fail; }
  for (size_t q = 0; q < nel3; q++) tf->idx[q] = -1;
  for (int e = 0; e < nent; e++) {
    token *t = tok + estart[e];
    double *v = tf->val + (size_t)tf->nentry * nparam;
    for (int q = 0; q < nparam; q++) {
      char *end = NULL;
      errno = 0;
      double x = strtod(t[3 + q].s, &end);
      if (end == t[3 + q].s || *end != '\0' || !isfinite(x)) {
        st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: field '%s': expected a number (got '%s')", what,
                       path, t[3 + q].line, names[q], t[3 + q].s);
        goto fail;
      }
      v[q] = x;
    }
    int ie = find_name(tf->el, tf->nel, t[0].s), je = find_name(tf->el, tf->nel, t[1].s),
        ke = find_name(tf->el, tf->nel, t[2].s);
    if (ie < 0 || je < 0 || ke < 0) continue;
    size_t slot = ((size_t)ie * tf->nel + je) * tf->nel + ke;
    if (tf->idx[slot] >= 0) {
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: duplicate entry for %s %s %s (first at line %d)", what,
                     path, t[0].line, t[0].s, t[1].s, t[2].s, tf->line[tf->idx[slot]]);
      goto fail;
    }
    tf->idx[slot] = tf->nentry;
    tf->line[tf->nentry] = t[0].line;
    tf->nentry++;
  }
  free(buf);
  free(tok);
  free(estart);
  return KILN_OK;
fail:
  free(buf);
  free(tok);
  free(estart);
  kilni_triplet_free(tf);
  return st;
}

void kilni_triplet_free(kilni_triplet_file *tf) {
  if (!tf) return;
  free(tf->path);
  free(tf->val);
  free(tf->line);
  free(tf->idx);
  tf->path = NULL; tf->val = NULL; tf->line = NULL; tf->idx = NULL;
  tf->nel = tf->nentry = 0;
}

int kilni_triplet_element(const kilni_triplet_file *tf, const char *symbol) {
  for (int i = 0; i < tf->nalias; i++)
    if (strcmp(tf->alias[i], symbol) == 0) return tf->alias_el[i];
  for (int i = 0; i < tf->nel; i++)
    if (strcmp(tf->el[i], symbol) == 0) return i;
  return -1;
}

kiln_status kilni_triplet_check(const kilni_triplet_file *tf, const char *what, const int *use,
                                kiln_error *err) {
  int n = tf->nel;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      for (int k = 0; k < n; k++) {
        if (use && !(use[i] && use[j] && use[k])) continue;
        if (tf->idx[((size_t)i * n + j) * n + k] < 0)
          return KILN_FAIL(err, KILN_EFORMAT, "%s: %s has no entry for the triplet %s %s %s "
                           "(every triplet of the elements in use is needed)",
                           what, tf->path, tf->el[i], tf->el[j], tf->el[k]);
      }
  return KILN_OK;
}

kiln_status kilni_triplet_bad(const kilni_triplet_file *tf, const char *what, int entry,
                              const char *field, const char *why, double value, kiln_error *err) {
  return KILN_FAIL(err, KILN_EFORMAT, "%s: %s:%d: field '%s': %s (got %g)", what, tf->path,
                   tf->line[entry], field, why, value);
}

void kilni_triplet_present(const kilni_triplet_file *tf, const kiln_atoms *a, const int32_t *tmap,
                           int *use) {
  int seen[KILN_MAX_SPECIES] = {0};
  for (int e = 0; e < tf->nel; e++) use[e] = 0;
  for (size_t i = 0; i < a->n; i++) {
    int32_t t = a->type[i];
    if (t >= 0 && t < KILN_MAX_SPECIES) seen[t] = 1;
  }
  for (int t = 0; t < a->nspecies && t < KILN_MAX_SPECIES; t++)
    if (seen[t] && tmap[t] >= 0 && tmap[t] < tf->nel) use[tmap[t]] = 1;
}

kiln_status kilni_triplet_open(kilni_triplet_file *tf, int *checked, const char *what,
                               int nparam, const char *const *names, const kiln_opts *o,
                               kiln_error *err) {
  const char *file = NULL;
  *checked = 0;
  kiln_status st = kiln_opts_str(o, what, "file", 0, NULL, &file, err);
  if (st) return st;
  st = kilni_triplet_read(tf, what, file, nparam, names, o, err);
  if (st) return st;
  st = kiln_opts_check_unused(o, what, err);
  if (!st && tf->explicit_elements) {
    st = kilni_triplet_check(tf, what, NULL, err);
    *checked = !st;
  }
  if (st) kilni_triplet_free(tf);
  return st;
}

kiln_status kilni_triplet_prepare(const kilni_triplet_file *tf, int checked, const char *what,
                                  const kiln_atoms *a, const kiln_neigh *nl,
                                  const int32_t *tmap, int32_t **elem, size_t *elem_cap,
                                  size_t *maxnb, kiln_error *err) {
  if (!checked) {
    int use[KILN_MAX_SPECIES];
    kilni_triplet_present(tf, a, tmap, use);
    kiln_status st = kilni_triplet_check(tf, what, use, err);
    if (st) return st;
  }
  size_t m = 0;
  for (size_t i = 0; i < nl->n; i++) {
    size_t c = nl->offset[i + 1] - nl->offset[i];
    if (c > m) m = c;
  }
  *maxnb = m;
  return kilni_ext_elements(elem, elem_cap, a, nl, tmap, what, err);
}
