/* src/pot/pairtab.c: the per-element-pair parameter tables of the pair styles
 * (lj, morse): options {name1=, name2=, cutoff=} for one species-agnostic set, or
 * pairs={{"A","B", name1=, name2=, cutoff=}, ...} with no mixing rule: every pair
 * of elements that occurs together must be listed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pot/pot_internal.h"

void kilni_pairtab_free(kilni_pairtab *pt) {
  if (!pt) return;
  free(pt->val);
  free(pt->set);
  pt->val = NULL;
  pt->set = NULL;
}

int kilni_pairtab_map(const kilni_pairtab *pt, const char *symbol) {
  if (pt->single) return 0;
  for (int e = 0; e < pt->nel; e++)
    if (strcmp(pt->sym[e], symbol) == 0) return e;
  return -1;
}

static kiln_status alloc_tab(kilni_pairtab *pt, kiln_error *err, const char *what) {
  size_t nn = (size_t)pt->nel * (size_t)pt->nel;
  pt->val = calloc(nn * (size_t)(pt->np + 1), sizeof *pt->val);
  pt->set = calloc(nn, 1);
  if (!pt->val || !pt->set) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  return KILN_OK;
}

static kiln_status pair_symbol(const kiln_opts *p, size_t k, size_t ip, const char *what,
                               const char **out, kiln_error *err) {
  const kiln_opts *s = kiln_opts_at(p, k);
  if (!s || s->kind != KILN_OPT_STR || !s->str[0])
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: pairs[%zu] must start with two element symbols, "
                     "e.g. {\"Ar\",\"Ar\", epsilon=..., sigma=...}", what, ip + 1);
  if (strlen(s->str) >= KILN_SYMBOL_LEN)
    return KILN_FAIL(err, KILN_EINVAL, "%s: pairs[%zu]: element symbol '%s' is too long",
                     what, ip + 1, s->str);
  *out = s->str;
  return KILN_OK;
}

kiln_status kilni_pairtab_parse(kilni_pairtab *pt, const kiln_opts *o, const char *what,
                                int np, const char *const *names, kiln_error *err) {
  memset(pt, 0, sizeof *pt);
  pt->np = np;
  kiln_status st;
  double gcut;
  if ((st = kiln_opts_num(o, what, "cutoff", 1, NAN, &gcut, err))) return st;
  if (!isnan(gcut) && !(gcut > 0 && isfinite(gcut)))
    return KILN_FAIL(err, KILN_EINVAL, "%s: cutoff must be positive (got %g)", what, gcut);
  const kiln_opts *pairs = kiln_opts_get(o, "pairs");
  if (!pairs) {
    pt->single = 1;
    pt->nel = 1;
    snprintf(pt->sym[0], KILN_SYMBOL_LEN, "*");
    if ((st = alloc_tab(pt, err, what))) return st;
    for (int k = 0; k < np; k++)
      if ((st = kiln_opts_num(o, what, names[k], 0, 0, &pt->val[k], err))) return st;
    if (isnan(gcut))
      return KILN_FAIL(err, KILN_EINVAL, "%s: missing option 'cutoff'", what);
    pt->val[np] = gcut;
    pt->set[0] = 1;
    return KILN_OK;
  }
  if (pairs->kind != KILN_OPT_TABLE || kiln_opts_npos(pairs) == 0)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: option 'pairs' must be a list of {\"A\",\"B\", ...} tables", what);
  for (int k = 0; k < np; k++)
    if (kiln_opts_get(o, names[k]))
      return KILN_FAIL(err, KILN_EINVAL,
                       "%s: give '%s' inside each entry of 'pairs', not at the top level",
                       what, names[k]);
  size_t npair = kiln_opts_npos(pairs);
  /* pass 1: element list */
  for (size_t ip = 0; ip < npair; ip++) {
    const kiln_opts *p = kiln_opts_at(pairs, ip);
    if (p->kind != KILN_OPT_TABLE)
      return KILN_FAIL(err, KILN_EINVAL, "%s: pairs[%zu] must be a table", what, ip + 1);
    for (size_t k = 0; k < 2; k++) {
      const char *s;
      if ((st = pair_symbol(p, k, ip, what, &s, err))) return st;
      if (kilni_pairtab_map(pt, s) >= 0) continue;
      if (pt->nel >= KILN_MAX_SPECIES)
        return KILN_FAIL(err, KILN_EINVAL, "%s: more than %d elements in pairs", what,
                         KILN_MAX_SPECIES);
      snprintf(pt->sym[pt->nel++], KILN_SYMBOL_LEN, "%s", s);
    }
  }
  if ((st = alloc_tab(pt, err, what))) return st;
  /* pass 2: values */
  for (size_t ip = 0; ip < npair; ip++) {
    const kiln_opts *p = kiln_opts_at(pairs, ip);
    const char *s0, *s1;
    pair_symbol(p, 0, ip, what, &s0, err);
    pair_symbol(p, 1, ip, what, &s1, err);
    char pw[160];
    snprintf(pw, sizeof pw, "%s pair %s-%s", what, s0, s1);
    if (kiln_opts_npos(p) != 2)
      return KILN_FAIL(err, KILN_EINVAL, "%s: expected 2 element symbols, got %zu positional "
                       "values", pw, kiln_opts_npos(p));
    int a = kilni_pairtab_map(pt, s0), b = kilni_pairtab_map(pt, s1);
    size_t ab = (size_t)a * pt->nel + b, ba = (size_t)b * pt->nel + a;
    if (pt->set[ab])
      return KILN_FAIL(err, KILN_EINVAL, "%s: pair %s-%s is given twice", what, s0, s1);
    double *v = pt->val + ab * (size_t)(np + 1);
    for (int k = 0; k < np; k++)
      if ((st = kiln_opts_num(p, pw, names[k], 0, 0, &v[k], err))) return st;
    if ((st = kiln_opts_num(p, pw, "cutoff", !isnan(gcut), gcut, &v[np], err))) return st;
    if (!(v[np] > 0 && isfinite(v[np])))
      return KILN_FAIL(err, KILN_EINVAL, "%s: cutoff must be positive (got %g)", pw, v[np]);
    if ((st = kiln_opts_check_unused(p, pw, err))) return st;
    memcpy(pt->val + ba * (size_t)(np + 1), v, (size_t)(np + 1) * sizeof *v);
    pt->set[ab] = pt->set[ba] = 1;
  }
  return KILN_OK;
}

kiln_status kilni_pairtab_check(const kilni_pairtab *pt, const kiln_atoms *a,
                                const int32_t *tmap, const char *what, kiln_error *err) {
  if (pt->single) return KILN_OK;
  int used[KILN_MAX_SPECIES];
  kilni_elements_used(a, tmap, pt->nel, used);
  for (int x = 0; x < pt->nel; x++)
    for (int y = x; y < pt->nel; y++)
      if (used[x] && used[y] && !pt->set[(size_t)x * pt->nel + y])
        return KILN_FAIL(err, KILN_EINVAL,
                         "%s: no parameters for the pair %s-%s (every pair of elements present "
                         "must be listed in 'pairs'; there is no mixing rule)",
                         what, pt->sym[x], pt->sym[y]);
  return KILN_OK;
}

kiln_status kilni_pairtab_init(kilni_pairtab *pt, int *shift, const kiln_opts *o,
                               const char *what, int np, const char *const *names,
                               kiln_error *err) {
  kiln_status st = kilni_pairtab_parse(pt, o, what, np, names, err);
  if (!st) st = kiln_opts_bool(o, what, "shift", 1, 0, shift, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  return st;
}
