/* src/core/opts.c: the tree of named options (see kiln/opts.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/opts.h"

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* Free what a node owns except its key; leaves it an empty table. */
static void clear(kiln_opts *o) {
  for (size_t i = 0; i < o->nchild; i++) {
    clear(&o->child[i]);
    free(o->child[i].key);
  }
  free(o->child);
  free(o->str);
  o->child = NULL;
  o->str = NULL;
  o->nchild = o->cap = 0;
  o->kind = KILN_OPT_TABLE;
  o->num = 0;
}

kiln_status kiln_opts_new(kiln_opts **out, kiln_error *err) {
  *out = calloc(1, sizeof **out);
  if (!*out) return KILN_FAIL(err, KILN_ENOMEM, "out of memory allocating options");
  (*out)->kind = KILN_OPT_TABLE;
  return KILN_OK;
}

void kiln_opts_free(kiln_opts *o) {
  if (!o) return;
  clear(o);
  free(o->key);
  free(o);
}

static const char *pfx(const char *what) { return what && what[0] ? what : "options"; }

/* Append a zeroed child (kind TABLE) with a copy of key. */
static kiln_status add(kiln_opts *t, const char *key, kiln_opts **out, kiln_error *err) {
  *out = NULL;
  if (!t || t->kind != KILN_OPT_TABLE)
    return KILN_FAIL(err, KILN_EINVAL, "cannot add option '%s' to a non-table option",
                     key ? key : "(positional)");
  if (t->nchild == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 4;
    kiln_opts *c = realloc(t->child, cap * sizeof *c);
    if (!c) return KILN_FAIL(err, KILN_ENOMEM, "out of memory adding option");
    t->child = c;
    t->cap = cap;
  }
  kiln_opts *c = &t->child[t->nchild];
  memset(c, 0, sizeof *c);
  c->kind = KILN_OPT_TABLE;
  if (key && !(c->key = dupstr(key)))
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory adding option '%s'", key);
  t->nchild++;
  *out = c;
  return KILN_OK;
}

kiln_status kiln_opts_add_num(kiln_opts *t, const char *key, double v, kiln_error *err) {
  kiln_opts *c;
  kiln_status st = add(t, key, &c, err);
  if (st) return st;
  c->kind = KILN_OPT_NUM;
  c->num = v;
  return KILN_OK;
}

kiln_status kiln_opts_add_bool(kiln_opts *t, const char *key, int v, kiln_error *err) {
  kiln_opts *c;
  kiln_status st = add(t, key, &c, err);
  if (st) return st;
  c->kind = KILN_OPT_BOOL;
  c->num = v ? 1 : 0;
  return KILN_OK;
}

kiln_status kiln_opts_add_str(kiln_opts *t, const char *key, const char *v, kiln_error *err) {
  kiln_opts *c;
  kiln_status st = add(t, key, &c, err);
  if (st) return st;
  if (!(c->str = dupstr(v ? v : ""))) {
    t->nchild--;
    free(c->key);
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory adding option '%s'", key ? key : "");
  }
  c->kind = KILN_OPT_STR;
  return KILN_OK;
}

kiln_status kiln_opts_add_table(kiln_opts *t, const char *key, kiln_opts **child, kiln_error *err) {
  kiln_opts *c;
  kiln_status st = add(t, key, &c, err);
  if (child) *child = c;
  return st;
}

kiln_opts *kiln_opts_get(const kiln_opts *t, const char *key) {
  if (!t || !key || t->kind != KILN_OPT_TABLE) return NULL;
  for (size_t i = 0; i < t->nchild; i++)
    if (t->child[i].key && strcmp(t->child[i].key, key) == 0) {
      t->child[i].used = 1;
      return &t->child[i];
    }
  return NULL;
}

kiln_opts *kiln_opts_at(const kiln_opts *t, size_t i) {
  if (!t || t->kind != KILN_OPT_TABLE) return NULL;
  for (size_t k = 0; k < t->nchild; k++)
    if (!t->child[k].key && i-- == 0) {
      t->child[k].used = 1;
      return &t->child[k];
    }
  return NULL;
}

size_t kiln_opts_npos(const kiln_opts *t) {
  size_t n = 0;
  if (!t || t->kind != KILN_OPT_TABLE) return 0;
  for (size_t k = 0; k < t->nchild; k++) n += t->child[k].key == NULL;
  return n;
}

/* "string 'abc'", "number 2.5", "boolean true", "table" */
static const char *describe(const kiln_opts *o, char *buf, size_t len) {
  switch (o->kind) {
  case KILN_OPT_NUM: snprintf(buf, len, "number %.17g", o->num); break;
  case KILN_OPT_BOOL: snprintf(buf, len, "boolean %s", o->num != 0 ? "true" : "false"); break;
  case KILN_OPT_STR: snprintf(buf, len, "string '%.200s'", o->str); break;
  default: snprintf(buf, len, "table"); break;
  }
  return buf;
}

/* Find key; NULL result with KILN_OK means "absent, use default". */
static kiln_status lookup(const kiln_opts *t, const char *what, const char *key, int has_def,
                          kiln_opts **o, kiln_error *err) {
  *o = kiln_opts_get(t, key);
  if (!*o && !has_def)
    return KILN_FAIL(err, KILN_EINVAL, "%s: missing option '%s'", pfx(what), key);
  return KILN_OK;
}

static kiln_status wrong(const kiln_opts *o, const char *what, const char *key, const char *want,
                         kiln_error *err) {
  char buf[256];
  return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' must be %s (got %s)", pfx(what), key, want,
                   describe(o, buf, sizeof buf));
}

kiln_status kiln_opts_num(const kiln_opts *t, const char *what, const char *key, int has_def,
                          double def, double *out, kiln_error *err) {
  kiln_opts *o;
  kiln_status st = lookup(t, what, key, has_def, &o, err);
  if (st) return st;
  if (!o) { *out = def; return KILN_OK; }
  if (o->kind != KILN_OPT_NUM) return wrong(o, what, key, "a number", err);
  *out = o->num;
  return KILN_OK;
}

kiln_status kiln_opts_int(const kiln_opts *t, const char *what, const char *key, int has_def,
                          long def, long *out, kiln_error *err) {
  kiln_opts *o;
  kiln_status st = lookup(t, what, key, has_def, &o, err);
  if (st) return st;
  if (!o) { *out = def; return KILN_OK; }
  if (o->kind != KILN_OPT_NUM || o->num != floor(o->num) || fabs(o->num) > 9.0e15)
    return wrong(o, what, key, "an integer", err);
  *out = (long)o->num;
  return KILN_OK;
}

kiln_status kiln_opts_bool(const kiln_opts *t, const char *what, const char *key, int has_def,
                           int def, int *out, kiln_error *err) {
  kiln_opts *o;
  kiln_status st = lookup(t, what, key, has_def, &o, err);
  if (st) return st;
  if (!o) { *out = def; return KILN_OK; }
  if (o->kind != KILN_OPT_BOOL) return wrong(o, what, key, "a boolean", err);
  *out = o->num != 0;
  return KILN_OK;
}

kiln_status kiln_opts_str(const kiln_opts *t, const char *what, const char *key, int has_def,
                          const char *def, const char **out, kiln_error *err) {
  kiln_opts *o;
  kiln_status st = lookup(t, what, key, has_def, &o, err);
  if (st) return st;
  if (!o) { *out = def; return KILN_OK; }
  if (o->kind != KILN_OPT_STR) return wrong(o, what, key, "a string", err);
  *out = o->str;
  return KILN_OK;
}

kiln_status kiln_opts_check_unused(const kiln_opts *t, const char *what, kiln_error *err) {
  if (!t || t->kind != KILN_OPT_TABLE) return KILN_OK;
  for (size_t i = 0; i < t->nchild; i++)
    if (t->child[i].key && !t->child[i].used)
      return KILN_FAIL(err, KILN_EINVAL, "%s: unknown option '%s'", pfx(what), t->child[i].key);
  return KILN_OK;
}

/* Next option name from *p: in a style's doc text the name before '=' at the start of a
 * line (doc = 1), in a space-separated list any word (doc = 0). Returns 0 at the end. */
static int next_name(const char **p, int doc, char name[64]) {
  while (**p) {
    const char *s = *p;
    while (*s == ' ' || *s == '\t' || *s == '\n') s++;
    const char *b = s;
    while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
           (s > b && *s >= '0' && *s <= '9'))
      s++;
    size_t n = (size_t)(s - b);
    int ok = n > 0 && n < 64 && (!doc || *s == '=');
    if (ok) snprintf(name, 64, "%.*s", (int)n, b);
    while (*s && *s != (doc ? '\n' : ' ')) s++;   /* doc: one name per line */
    *p = s;
    if (ok) return 1;
  }
  return 0;
}

/* Is key among the names of doc and extra? *any: doc documents at least one name. */
static int known_name(const char *doc, const char *extra, const char *key, int *any) {
  char name[64];
  int found = 0;
  *any = 0;
  for (const char *p = doc; next_name(&p, 1, name);) {
    *any = 1;
    found |= strcmp(name, key) == 0;
  }
  for (const char *p = extra ? extra : ""; next_name(&p, 0, name);) found |= strcmp(name, key) == 0;
  return found;
}

kiln_status kiln_opts_check_known(const kiln_opts *t, const char *what, const char *doc,
                                  const char *extra, kiln_error *err) {
  if (!t || t->kind != KILN_OPT_TABLE || !doc) return KILN_OK;
  for (size_t i = 0; i < t->nchild; i++) {
    const char *key = t->child[i].key;
    int any;
    /* keys already used were consumed by the caller (e.g. sum's "style") */
    if (!key || t->child[i].used || known_name(doc, extra, key, &any) || !any) continue;
    char list[512] = "", name[64];
    size_t len = 0;
    int dummy;
    for (int k = 0; k < 2; k++)
      for (const char *p = k ? (extra ? extra : "") : doc; next_name(&p, !k, name);)
        if (!(k && known_name(doc, NULL, name, &dummy)) &&  /* extra may repeat a doc name */
            len + strlen(name) + 3 < sizeof list)
          len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", name);
    return KILN_FAIL(err, KILN_EINVAL, "%s: unknown option '%s' (options: %s)", pfx(what), key,
                     list);
  }
  return KILN_OK;
}

/* ---- dotted paths ("pairs.1.epsilon") for the reference-data driver ---- */

static int all_digits(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

/* Child of table t named by path component c (created as a table if absent).
 * Does not mark it used. */
static kiln_status step(kiln_opts *t, const char *c, const char *path, kiln_opts **out,
                        kiln_error *err) {
  *out = NULL;
  if (t->kind != KILN_OPT_TABLE)
    return KILN_FAIL(err, KILN_EINVAL, "option path '%s': '%s' is inside a non-table option",
                     path, c);
  if (all_digits(c)) {
    errno = 0;
    unsigned long long k = strtoull(c, NULL, 10);
    if (k == 0 || errno || k > 1000000)
      return KILN_FAIL(err, KILN_EINVAL,
                       "option path '%s': positional index '%s' must be 1..1000000", path, c);
    size_t np = kiln_opts_npos(t);
    while (np < k) { /* create positional tables in order up to k */
      kiln_opts *n;
      kiln_status st = add(t, NULL, &n, err);
      if (st) return st;
      np++;
    }
    for (size_t i = 0, seen = 0; i < t->nchild; i++)
      if (!t->child[i].key && ++seen == k) { *out = &t->child[i]; break; }
    return KILN_OK;
  }
  for (size_t i = 0; i < t->nchild; i++)
    if (t->child[i].key && strcmp(t->child[i].key, c) == 0) { *out = &t->child[i]; return KILN_OK; }
  return add(t, c, out, err);
}

kiln_status kiln_opts_set_path(kiln_opts *root, const char *path, const char *value,
                               kiln_error *err) {
  if (!root || !path || !value)
    return KILN_FAIL(err, KILN_EINVAL, "option path: NULL argument");
  size_t len = strlen(path);
  if (len == 0 || path[0] == '.' || path[len - 1] == '.' || strstr(path, ".."))
    return KILN_FAIL(err, KILN_EINVAL, "option path '%s' is malformed (empty component)", path);
  char *buf = dupstr(path);
  if (!buf) return KILN_FAIL(err, KILN_ENOMEM, "out of memory parsing option path");
  kiln_opts *node = root;
  kiln_status st = KILN_OK;
  char *c = buf;
  for (;;) {
    char *dot = strchr(c, '.');
    if (dot) *dot = '\0';
    st = step(node, c, path, &node, err);
    if (st || !dot) break;
    c = dot + 1;
  }
  free(buf);
  if (st) return st;
  /* node is the leaf: replace whatever it held with the parsed value. */
  char *s = NULL;
  char *end;
  double v = strtod(value, &end);
  int isnum = value[0] && *end == '\0';
  int isbool = !isnum && (strcmp(value, "true") == 0 || strcmp(value, "false") == 0);
  if (!isnum && !isbool && !(s = dupstr(value)))
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory setting option '%s'", path);
  clear(node);
  if (isnum) {
    node->kind = KILN_OPT_NUM;
    node->num = v;
  } else if (isbool) {
    node->kind = KILN_OPT_BOOL;
    node->num = value[0] == 't';
  } else {
    node->kind = KILN_OPT_STR;
    node->str = s;
  }
  return KILN_OK;
}
