/* src/corr/result.c: kiln_result, a list of named arrays with units plus
 * scalar/string attributes (what correlators and other analyses return). */
#include <stdlib.h>
#include <string.h>
#include "kiln/corr.h"

kiln_status kiln_result_new(kiln_result **out, kiln_error *err) {
  *out = calloc(1, sizeof **out);
  if (!*out) return KILN_FAIL(err, KILN_ENOMEM, "result: out of memory");
  return KILN_OK;
}

static void item_clear(kiln_result_item *it) {
  free(it->name);
  free(it->unit);
  free(it->desc);
  kiln_array_free(it->a);
}

void kiln_result_free(kiln_result *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++) item_clear(&r->item[i]);
  for (size_t i = 0; i < r->nattr; i++) {
    free(r->attr[i].name);
    free(r->attr[i].str);
  }
  free(r->item);
  free(r->attr);
  free(r);
}

static char *dupstr(const char *s) {
  if (!s) s = "";
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

const kiln_result_item *kiln_result_get(const kiln_result *r, const char *name) {
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->item[i].name, name) == 0) return &r->item[i];
  return NULL;
}

kiln_status kiln_result_add(kiln_result *r, const char *name, kiln_array *a, const char *unit,
                            const char *desc, kiln_error *err) {
  if (!name || !*name || !a) {
    kiln_array_free(a);
    return KILN_FAIL(err, KILN_EINVAL, "result: an item needs a name and an array");
  }
  kiln_result_item it = {dupstr(name), a, dupstr(unit), dupstr(desc)};
  if (!it.name || !it.unit || !it.desc) {
    item_clear(&it);
    return KILN_FAIL(err, KILN_ENOMEM, "result: out of memory");
  }
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->item[i].name, name) == 0) {
      item_clear(&r->item[i]);
      r->item[i] = it;
      return KILN_OK;
    }
  if (r->n == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 8;
    kiln_result_item *p = realloc(r->item, cap * sizeof *p);
    if (!p) {
      item_clear(&it);
      return KILN_FAIL(err, KILN_ENOMEM, "result: out of memory");
    }
    r->item = p;
    r->cap = cap;
  }
  r->item[r->n++] = it;
  return KILN_OK;
}

kiln_status kiln_result_add_copy(kiln_result *r, const char *name, const double *data,
                                 size_t rows, size_t cols, const char *unit, const char *desc,
                                 kiln_error *err) {
  kiln_array *a;
  kiln_status st = kiln_array_from(&a, data, rows, cols, err);
  if (st) return st;
  return kiln_result_add(r, name, a, unit, desc, err);
}

static kiln_status attr_slot(kiln_result *r, const char *name, kiln_result_attr **out,
                             kiln_error *err) {
  for (size_t i = 0; i < r->nattr; i++)
    if (strcmp(r->attr[i].name, name) == 0) {
      free(r->attr[i].str);
      r->attr[i].str = NULL;
      *out = &r->attr[i];
      return KILN_OK;
    }
  if (r->nattr == r->acap) {
    size_t cap = r->acap ? 2 * r->acap : 8;
    kiln_result_attr *p = realloc(r->attr, cap * sizeof *p);
    if (!p) return KILN_FAIL(err, KILN_ENOMEM, "result: out of memory");
    r->attr = p;
    r->acap = cap;
  }
  kiln_result_attr *a = &r->attr[r->nattr];
  memset(a, 0, sizeof *a);
  if (!(a->name = dupstr(name))) return KILN_FAIL(err, KILN_ENOMEM, "result: out of memory");
  r->nattr++;
  *out = a;
  return KILN_OK;
}

kiln_status kiln_result_attr_num(kiln_result *r, const char *name, double v, kiln_error *err) {
  kiln_result_attr *a;
  kiln_status st = attr_slot(r, name, &a, err);
  if (st) return st;
  a->is_str = 0;
  a->num = v;
  return KILN_OK;
}

kiln_status kiln_result_attr_str(kiln_result *r, const char *name, const char *v,
                                 kiln_error *err) {
  kiln_result_attr *a;
  kiln_status st = attr_slot(r, name, &a, err);
  if (st) return st;
  a->is_str = 1;
  if (!(a->str = dupstr(v))) return KILN_FAIL(err, KILN_ENOMEM, "result: out of memory");
  return KILN_OK;
}
