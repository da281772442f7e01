/* src/core/atoms.c: the atoms container (see kiln/atoms.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/atoms.h"
#include "kiln/units.h"

static char *dupstr(const char *s) {
  if (!s) s = "";
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* realloc that never asks for 0 bytes and leaves *p alone on failure */
static int grow_mem(void *pp, size_t count, size_t size) {
  void **p = (void **)pp;
  void *q = realloc(*p, (count ? count : 1) * size);
  if (!q) return -1;
  *p = q;
  return 0;
}

#define MAX_ATOMS ((size_t)1 << 40)

/* ---------------------------------------------------------------- props/info */

static void prop_destroy(kiln_prop *p, size_t n) {
  free(p->name);
  free(p->val);
  if (p->str) {
    for (size_t k = 0; k < n * p->ncols; k++) free(p->str[k]);
    free(p->str);
  }
  memset(p, 0, sizeof *p);
}

static void info_destroy(kiln_info *in) {
  free(in->name);
  free(in->val);
  free(in->str);
  memset(in, 0, sizeof *in);
}

/* Build a prop holding n*ncols copies (val or str may be NULL: zeros / ""). */
static kiln_status prop_make(kiln_prop *p, const char *name, kiln_val_kind kind, size_t n,
                             size_t ncols, const double *val, const char *const *str,
                             kiln_error *err) {
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->ncols = ncols;
  size_t m = n * ncols;
  if (!(p->name = dupstr(name))) goto nomem;
  if (kind == KILN_VAL_STR) {
    if (!(p->str = calloc(m ? m : 1, sizeof(char *)))) goto nomem;
    for (size_t k = 0; k < m; k++)
      if (!(p->str[k] = dupstr(str ? str[k] : ""))) goto nomem;
  } else {
    if (!(p->val = calloc(m ? m : 1, sizeof(double)))) goto nomem;
    if (val && m) memcpy(p->val, val, m * sizeof(double));
  }
  return KILN_OK;
nomem:
  prop_destroy(p, n);
  return KILN_FAIL(err, KILN_ENOMEM, "out of memory storing property '%s'", name);
}

static kiln_status info_make(kiln_info *in, const char *name, kiln_val_kind kind, size_t count,
                             const double *val, const char *str, kiln_error *err) {
  memset(in, 0, sizeof *in);
  in->kind = kind;
  in->count = kind == KILN_VAL_STR ? 1 : count;
  if (!(in->name = dupstr(name))) goto nomem;
  if (kind == KILN_VAL_STR) {
    if (!(in->str = dupstr(str))) goto nomem;
  } else {
    if (!(in->val = calloc(count ? count : 1, sizeof(double)))) goto nomem;
    if (val && count) memcpy(in->val, val, count * sizeof(double));
  }
  return KILN_OK;
nomem:
  info_destroy(in);
  return KILN_FAIL(err, KILN_ENOMEM, "out of memory storing info '%s'", name);
}

static kiln_status check_name(const char *name, const char *what, kiln_error *err) {
  if (!name || !name[0]) return KILN_FAIL(err, KILN_EINVAL, "%s name must be a non-empty string", what);
  return KILN_OK;
}

/* Insert or replace a prop (takes ownership of *p's contents). */
static kiln_status prop_put(kiln_atoms *a, kiln_prop *p, kiln_error *err) {
  for (size_t k = 0; k < a->nprops; k++)
    if (strcmp(a->props[k].name, p->name) == 0) {
      prop_destroy(&a->props[k], a->n);
      a->props[k] = *p;
      return KILN_OK;
    }
  if (grow_mem(&a->props, a->nprops + 1, sizeof *a->props)) {
    kiln_status st = KILN_FAIL(err, KILN_ENOMEM, "out of memory storing property '%s'", p->name);
    prop_destroy(p, a->n);
    return st;
  }
  a->props[a->nprops++] = *p;
  return KILN_OK;
}

static kiln_status info_put(kiln_atoms *a, kiln_info *in, kiln_error *err) {
  for (size_t k = 0; k < a->ninfo; k++)
    if (strcmp(a->info[k].name, in->name) == 0) {
      info_destroy(&a->info[k]);
      a->info[k] = *in;
      return KILN_OK;
    }
  if (grow_mem(&a->info, a->ninfo + 1, sizeof *a->info)) {
    kiln_status st = KILN_FAIL(err, KILN_ENOMEM, "out of memory storing info '%s'", in->name);
    info_destroy(in);
    return st;
  }
  a->info[a->ninfo++] = *in;
  return KILN_OK;
}

kiln_status kiln_atoms_prop_set(kiln_atoms *a, const char *name, kiln_val_kind kind,
                                size_t ncols, const double *val, kiln_error *err) {
  kiln_status st = check_name(name, "property", err);
  if (st) return st;
  if (kind == KILN_VAL_STR)
    return KILN_FAIL(err, KILN_EINVAL, "property '%s': use kiln_atoms_prop_set_str for strings", name);
  if (kind != KILN_VAL_REAL && kind != KILN_VAL_INT && kind != KILN_VAL_BOOL)
    return KILN_FAIL(err, KILN_EINVAL, "property '%s': unknown value kind %d", name, (int)kind);
  if (ncols < 1 || ncols > 1024)
    return KILN_FAIL(err, KILN_EINVAL, "property '%s': ncols must be 1..1024 (got %zu)", name, ncols);
  kiln_prop p;
  if ((st = prop_make(&p, name, kind, a->n, ncols, val, NULL, err))) return st;
  return prop_put(a, &p, err);
}

kiln_status kiln_atoms_prop_set_str(kiln_atoms *a, const char *name, size_t ncols,
                                    const char *const *str, kiln_error *err) {
  kiln_status st = check_name(name, "property", err);
  if (st) return st;
  if (ncols < 1 || ncols > 1024)
    return KILN_FAIL(err, KILN_EINVAL, "property '%s': ncols must be 1..1024 (got %zu)", name, ncols);
  kiln_prop p;
  if ((st = prop_make(&p, name, KILN_VAL_STR, a->n, ncols, NULL, str, err))) return st;
  return prop_put(a, &p, err);
}

kiln_prop *kiln_atoms_prop_get(const kiln_atoms *a, const char *name) {
  if (!a || !name) return NULL;
  for (size_t k = 0; k < a->nprops; k++)
    if (strcmp(a->props[k].name, name) == 0) return &a->props[k];
  return NULL;
}

void kiln_atoms_prop_remove(kiln_atoms *a, const char *name) {
  kiln_prop *p = kiln_atoms_prop_get(a, name);
  if (!p) return;
  size_t k = (size_t)(p - a->props);
  prop_destroy(p, a->n);
  memmove(&a->props[k], &a->props[k + 1], (a->nprops - k - 1) * sizeof *p);
  a->nprops--;
}

kiln_status kiln_atoms_info_set(kiln_atoms *a, const char *name, kiln_val_kind kind,
                                size_t count, const double *val, kiln_error *err) {
  kiln_status st = check_name(name, "info", err);
  if (st) return st;
  if (kind == KILN_VAL_STR)
    return KILN_FAIL(err, KILN_EINVAL, "info '%s': use kiln_atoms_info_set_str for strings", name);
  if (kind != KILN_VAL_REAL && kind != KILN_VAL_INT && kind != KILN_VAL_BOOL)
    return KILN_FAIL(err, KILN_EINVAL, "info '%s': unknown value kind %d", name, (int)kind);
  if (count > ((size_t)1 << 32))
    return KILN_FAIL(err, KILN_EINVAL, "info '%s': count %zu is too large", name, count);
  if (count && !val)
    return KILN_FAIL(err, KILN_EINVAL, "info '%s': values are NULL for count %zu", name, count);
  kiln_info in;
  if ((st = info_make(&in, name, kind, count, val, NULL, err))) return st;
  return info_put(a, &in, err);
}

kiln_status kiln_atoms_info_set_str(kiln_atoms *a, const char *name, const char *str,
                                    kiln_error *err) {
  kiln_status st = check_name(name, "info", err);
  if (st) return st;
  kiln_info in;
  if ((st = info_make(&in, name, KILN_VAL_STR, 1, NULL, str, err))) return st;
  return info_put(a, &in, err);
}

kiln_info *kiln_atoms_info_get(const kiln_atoms *a, const char *name) {
  if (!a || !name) return NULL;
  for (size_t k = 0; k < a->ninfo; k++)
    if (strcmp(a->info[k].name, name) == 0) return &a->info[k];
  return NULL;
}

void kiln_atoms_info_remove(kiln_atoms *a, const char *name) {
  kiln_info *in = kiln_atoms_info_get(a, name);
  if (!in) return;
  size_t k = (size_t)(in - a->info);
  info_destroy(in);
  memmove(&a->info[k], &a->info[k + 1], (a->ninfo - k - 1) * sizeof *in);
  a->ninfo--;
}

/* ------------------------------------------------------------ lifecycle */

/* Make room for cap atoms in the per-atom arrays (not props). */
static kiln_status reserve(kiln_atoms *a, size_t cap, kiln_error *err) {
  if (cap <= a->capacity && a->x) return KILN_OK;
  if (cap > MAX_ATOMS) return KILN_FAIL(err, KILN_ERANGE, "too many atoms (%zu)", cap);
  if (grow_mem(&a->x, cap, sizeof *a->x) || grow_mem(&a->v, cap, sizeof *a->v) ||
      grow_mem(&a->f, cap, sizeof *a->f) || grow_mem(&a->type, cap, sizeof *a->type) ||
      grow_mem(&a->mass, cap, sizeof *a->mass) || grow_mem(&a->id, cap, sizeof *a->id))
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory for %zu atoms", cap);
  a->capacity = cap;
  a->generation++;
  return KILN_OK;
}

kiln_status kiln_atoms_new(kiln_atoms **out, size_t n, kiln_error *err) {
  *out = NULL;
  kiln_atoms *a = calloc(1, sizeof *a);
  if (!a) return KILN_FAIL(err, KILN_ENOMEM, "out of memory allocating atoms");
  kiln_status st = reserve(a, n, err);
  if (st) { kiln_atoms_free(a); return st; }
  a->n = n;
  if (n) {
    memset(a->x, 0, n * sizeof *a->x);
    memset(a->v, 0, n * sizeof *a->v);
    memset(a->f, 0, n * sizeof *a->f);
    memset(a->type, 0, n * sizeof *a->type);
    memset(a->mass, 0, n * sizeof *a->mass);
  }
  for (size_t i = 0; i < n; i++) a->id[i] = (int64_t)i + 1;
  *out = a;
  return KILN_OK;
}

void kiln_atoms_free(kiln_atoms *a) {
  if (!a) return;
  free(a->x); free(a->v); free(a->f);
  free(a->type); free(a->mass); free(a->id);
  for (size_t k = 0; k < a->nprops; k++) prop_destroy(&a->props[k], a->n);
  free(a->props);
  for (size_t k = 0; k < a->ninfo; k++) info_destroy(&a->info[k]);
  free(a->info);
  free(a);
}

/* Copy everything except the per-atom arrays' contents (cell, species, info). */
static kiln_status copy_meta(kiln_atoms *b, const kiln_atoms *a, kiln_error *err) {
  memcpy(b->cell, a->cell, sizeof b->cell);
  memcpy(b->pbc, a->pbc, sizeof b->pbc);
  b->nspecies = a->nspecies;
  memcpy(b->species, a->species, sizeof b->species);
  for (size_t k = 0; k < a->ninfo; k++) {
    const kiln_info *in = &a->info[k];
    kiln_status st = in->kind == KILN_VAL_STR
                         ? kiln_atoms_info_set_str(b, in->name, in->str, err)
                         : kiln_atoms_info_set(b, in->name, in->kind, in->count, in->val, err);
    if (st) return st;
  }
  return KILN_OK;
}

kiln_status kiln_atoms_copy(kiln_atoms **out, const kiln_atoms *a, kiln_error *err) {
  *out = NULL;
  if (!a) return KILN_FAIL(err, KILN_EINVAL, "cannot copy NULL atoms");
  kiln_atoms *b;
  kiln_status st = kiln_atoms_new(&b, a->n, err);
  if (st) return st;
  size_t n = a->n;
  if (n) {
    memcpy(b->x, a->x, n * sizeof *a->x);
    memcpy(b->v, a->v, n * sizeof *a->v);
    memcpy(b->f, a->f, n * sizeof *a->f);
    memcpy(b->type, a->type, n * sizeof *a->type);
    memcpy(b->mass, a->mass, n * sizeof *a->mass);
    memcpy(b->id, a->id, n * sizeof *a->id);
  }
  if ((st = copy_meta(b, a, err))) goto fail;
  for (size_t k = 0; k < a->nprops; k++) {
    const kiln_prop *p = &a->props[k];
    kiln_prop q;
    if ((st = prop_make(&q, p->name, p->kind, n, p->ncols, p->val, (const char *const *)p->str, err)))
      goto fail;
    if ((st = prop_put(b, &q, err))) goto fail;
  }
  *out = b;
  return KILN_OK;
fail:
  kiln_atoms_free(b);
  return st;
}

kiln_status kiln_atoms_resize(kiln_atoms *a, size_t n, kiln_error *err) {
  size_t old = a->n;
  if (n == old) return KILN_OK;
  if (n > old) {
    size_t cap = a->capacity;
    if (n > cap) {
      cap = cap + cap / 2 > n ? cap + cap / 2 : n;
      kiln_status st = reserve(a, cap, err);
      if (st) return st;
    }
    /* grow every property before committing the new n */
    for (size_t k = 0; k < a->nprops; k++) {
      kiln_prop *p = &a->props[k];
      size_t m0 = old * p->ncols, m = n * p->ncols;
      if (p->kind == KILN_VAL_STR) {
        if (grow_mem(&p->str, m, sizeof *p->str)) goto nomem;
        for (size_t j = m0; j < m; j++) p->str[j] = NULL;
        for (size_t j = m0; j < m; j++)
          if (!(p->str[j] = dupstr(""))) {
            for (size_t q = m0; q < j; q++) { free(p->str[q]); p->str[q] = NULL; }
            goto nomem;
          }
      } else {
        if (grow_mem(&p->val, m, sizeof *p->val)) goto nomem;
        memset(p->val + m0, 0, (m - m0) * sizeof *p->val);
      }
      continue;
    nomem:
      /* undo the string fills of earlier props so the object stays consistent */
      for (size_t q = 0; q < k; q++)
        if (a->props[q].kind == KILN_VAL_STR)
          for (size_t j = old * a->props[q].ncols; j < n * a->props[q].ncols; j++) {
            free(a->props[q].str[j]);
            a->props[q].str[j] = NULL;
          }
      return KILN_FAIL(err, KILN_ENOMEM, "out of memory resizing property '%s' to %zu atoms",
                       p->name, n);
    }
    int64_t maxid = 0;
    for (size_t i = 0; i < old; i++)
      if (a->id[i] > maxid) maxid = a->id[i];
    for (size_t i = old; i < n; i++) {
      for (int d = 0; d < 3; d++) a->x[i][d] = a->v[i][d] = a->f[i][d] = 0.0;
      a->type[i] = 0;
      a->mass[i] = 0.0;
      a->id[i] = ++maxid;
    }
  } else {
    for (size_t k = 0; k < a->nprops; k++) {
      kiln_prop *p = &a->props[k];
      if (p->kind == KILN_VAL_STR)
        for (size_t j = n * p->ncols; j < old * p->ncols; j++) free(p->str[j]);
      /* shrink the storage; failure to shrink is harmless */
      if (p->kind == KILN_VAL_STR) (void)grow_mem(&p->str, n * p->ncols, sizeof *p->str);
      else (void)grow_mem(&p->val, n * p->ncols, sizeof *p->val);
    }
  }
  a->n = n;
  a->generation++;
  return KILN_OK;
}

/* ------------------------------------------------------------ species */

kiln_status kiln_atoms_species_index(kiln_atoms *a, const char *symbol, int32_t *type,
                                     kiln_error *err) {
  size_t len = symbol ? strlen(symbol) : 0;
  if (len < 1 || len >= KILN_SYMBOL_LEN)
    return KILN_FAIL(err, KILN_EINVAL, "species symbol '%s' must have 1..%d characters",
                     symbol ? symbol : "(null)", KILN_SYMBOL_LEN - 1);
  for (int t = 0; t < a->nspecies; t++)
    if (strcmp(a->species[t], symbol) == 0) {
      if (type) *type = t;
      return KILN_OK;
    }
  if (a->nspecies >= KILN_MAX_SPECIES)
    return KILN_FAIL(err, KILN_ERANGE, "too many species (at most %d) adding '%s'",
                     KILN_MAX_SPECIES, symbol);
  memcpy(a->species[a->nspecies], symbol, len + 1);
  if (type) *type = a->nspecies;
  a->nspecies++;
  return KILN_OK;
}

kiln_status kiln_atoms_set_symbol(kiln_atoms *a, size_t i, const char *symbol, kiln_error *err) {
  if (i >= a->n)
    return KILN_FAIL(err, KILN_ERANGE, "atom index %zu out of range (n = %zu)", i, a->n);
  int z = kiln_element_z(symbol);
  if (!z) return KILN_FAIL(err, KILN_EINVAL, "unknown element '%s'", symbol ? symbol : "(null)");
  int32_t t;
  kiln_status st = kiln_atoms_species_index(a, symbol, &t, err);
  if (st) return st;
  a->type[i] = t;
  a->mass[i] = kiln_element_mass(z);
  return KILN_OK;
}

const char *kiln_atoms_symbol(const kiln_atoms *a, size_t i) {
  if (!a || i >= a->n) return NULL;
  int32_t t = a->type[i];
  return (t >= 0 && t < a->nspecies) ? a->species[t] : "";
}

kiln_status kiln_atoms_append(kiln_atoms *a, const char *symbol, const double x[3],
                              kiln_error *err) {
  int z = kiln_element_z(symbol);
  if (!z) return KILN_FAIL(err, KILN_EINVAL, "unknown element '%s'", symbol ? symbol : "(null)");
  int32_t t;
  kiln_status st = kiln_atoms_species_index(a, symbol, &t, err);
  if (st) return st;
  if ((st = kiln_atoms_resize(a, a->n + 1, err))) return st;
  size_t i = a->n - 1;
  for (int d = 0; d < 3; d++) a->x[i][d] = x ? x[d] : 0.0;
  a->type[i] = t;
  a->mass[i] = kiln_element_mass(z);
  return KILN_OK;
}

/* ------------------------------------------------------------ cell */

static double det3(const double m[3][3]) {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
         m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

static void cross(const double u[3], const double v[3], double w[3]) {
  w[0] = u[1] * v[2] - u[2] * v[1];
  w[1] = u[2] * v[0] - u[0] * v[2];
  w[2] = u[0] * v[1] - u[1] * v[0];
}

static double norm(const double u[3]) { return sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]); }

kiln_status kiln_cell_inverse(const double cell[3][3], double inv[3][3], kiln_error *err) {
  double det = det3(cell);
  double scale = norm(cell[0]) * norm(cell[1]) * norm(cell[2]);
  if (!isfinite(det) || !isfinite(scale))
    return KILN_FAIL(err, KILN_EINVAL, "cell contains a non-finite value");
  if (scale == 0.0 || fabs(det) <= 1e-12 * scale)
    return KILN_FAIL(err, KILN_EINVAL, "cell is singular (volume %g)", fabs(det));
  double c[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      int i1 = (i + 1) % 3, i2 = (i + 2) % 3, j1 = (j + 1) % 3, j2 = (j + 2) % 3;
      c[i][j] = cell[i1][j1] * cell[i2][j2] - cell[i1][j2] * cell[i2][j1]; /* cofactor */
    }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) inv[i][j] = c[j][i] / det;
  return KILN_OK;
}

void kiln_atoms_to_frac(const kiln_atoms *a, const double inv[3][3], const double x[3], double s[3]) {
  (void)a;
  for (int j = 0; j < 3; j++) s[j] = x[0] * inv[0][j] + x[1] * inv[1][j] + x[2] * inv[2][j];
}

double kiln_atoms_volume(const kiln_atoms *a) { return fabs(det3(a->cell)); }

void kiln_cell_heights(const double cell[3][3], double h[3]) {
  double vol = fabs(det3(cell));
  for (int i = 0; i < 3; i++) {
    double w[3];
    cross(cell[(i + 1) % 3], cell[(i + 2) % 3], w);
    double area = norm(w);
    h[i] = area > 0.0 ? vol / area : 0.0;
  }
}

kiln_status kiln_atoms_set_cell(kiln_atoms *a, const double cell[3][3], int scale_atoms,
                                kiln_error *err) {
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      if (!isfinite(cell[i][j]))
        return KILN_FAIL(err, KILN_EINVAL, "cell[%d][%d] is not finite (%g)", i, j, cell[i][j]);
  if (scale_atoms && a->n) {
    double inv[3][3];
    kiln_status st = kiln_cell_inverse(a->cell, inv, err);
    if (st) {
      if (err) {
        char buf[sizeof err->msg];
        memcpy(buf, err->msg, sizeof buf);
        KILN_FAIL(err, st, "cannot scale atoms with the cell: current %.400s", buf);
      }
      return st;
    }
    for (size_t i = 0; i < a->n; i++) {
      double s[3];
      kiln_atoms_to_frac(a, inv, a->x[i], s);
      for (int d = 0; d < 3; d++)
        a->x[i][d] = s[0] * cell[0][d] + s[1] * cell[1][d] + s[2] * cell[2][d];
    }
  }
  memcpy(a->cell, cell, sizeof a->cell);
  return KILN_OK;
}

kiln_status kiln_atoms_wrap(kiln_atoms *a, kiln_error *err) {
  if (!a->pbc[0] && !a->pbc[1] && !a->pbc[2]) return KILN_OK;
  double inv[3][3];
  kiln_status st = kiln_cell_inverse(a->cell, inv, err);
  if (st) return st;
  for (size_t i = 0; i < a->n; i++) {
    double s[3];
    kiln_atoms_to_frac(a, inv, a->x[i], s);
    for (int d = 0; d < 3; d++) {
      if (!a->pbc[d]) continue;
      double k = floor(s[d]);
      if (k != 0.0)
        for (int e = 0; e < 3; e++) a->x[i][e] -= k * a->cell[d][e];
    }
  }
  return KILN_OK;
}

/* ------------------------------------------------------------ supercell */

kiln_status kiln_atoms_supercell(kiln_atoms **out, const kiln_atoms *a, int na, int nb, int nc,
                                 kiln_error *err) {
  *out = NULL;
  if (na < 1 || nb < 1 || nc < 1)
    return KILN_FAIL(err, KILN_EINVAL, "supercell repeats must be >= 1 (got %d x %d x %d)", na, nb, nc);
  size_t reps = (size_t)na * (size_t)nb * (size_t)nc, n = a->n;
  if (reps > MAX_ATOMS || (n && reps > MAX_ATOMS / n))
    return KILN_FAIL(err, KILN_ERANGE, "supercell %d x %d x %d of %zu atoms is too large", na, nb,
                     nc, n);
  kiln_atoms *b;
  kiln_status st = kiln_atoms_new(&b, n * reps, err);
  if (st) return st;
  if ((st = copy_meta(b, a, err))) goto fail;
  int rep[3] = {na, nb, nc};
  for (int d = 0; d < 3; d++)
    for (int e = 0; e < 3; e++) b->cell[d][e] = rep[d] * a->cell[d][e];
  size_t j = 0;
  for (int ia = 0; ia < na; ia++)
    for (int ib = 0; ib < nb; ib++)
      for (int ic = 0; ic < nc; ic++) {
        double sh[3];
        for (int e = 0; e < 3; e++)
          sh[e] = ia * a->cell[0][e] + ib * a->cell[1][e] + ic * a->cell[2][e];
        for (size_t i = 0; i < n; i++, j++) {
          for (int e = 0; e < 3; e++) {
            b->x[j][e] = a->x[i][e] + sh[e];
            b->v[j][e] = a->v[i][e];
            b->f[j][e] = a->f[i][e];
          }
          b->type[j] = a->type[i];
          b->mass[j] = a->mass[i];
        }
      }
  for (size_t k = 0; k < a->nprops; k++) {
    const kiln_prop *p = &a->props[k];
    kiln_prop q;
    if ((st = prop_make(&q, p->name, p->kind, n * reps, p->ncols, NULL, NULL, err))) goto fail;
    size_t m = n * p->ncols;
    for (size_t r = 0; r < reps; r++) {
      if (p->kind == KILN_VAL_STR) {
        for (size_t t = 0; t < m; t++) {
          char *s = dupstr(p->str[t]);
          if (!s) {
            prop_destroy(&q, n * reps);
            st = KILN_FAIL(err, KILN_ENOMEM, "out of memory replicating property '%s'", p->name);
            goto fail;
          }
          free(q.str[r * m + t]);
          q.str[r * m + t] = s;
        }
      } else if (m) {
        memcpy(q.val + r * m, p->val, m * sizeof(double));
      }
    }
    if ((st = prop_put(b, &q, err))) goto fail;
  }
  *out = b;
  return KILN_OK;
fail:
  kiln_atoms_free(b);
  return st;
}

/* ------------------------------------------------------------ kinetics */

double kiln_atoms_kinetic_energy(const kiln_atoms *a) {
  double s = 0.0;
  for (size_t i = 0; i < a->n; i++)
    s += a->mass[i] * (a->v[i][0] * a->v[i][0] + a->v[i][1] * a->v[i][1] + a->v[i][2] * a->v[i][2]);
  return 0.5 * KILN_MVV2E * s;
}

double kiln_atoms_dof(const kiln_atoms *a) {
  double n = (double)a->n;
  /* pair forces conserve the total momentum with or without periodic boundaries */
  return a->n > 1 ? 3.0 * n - 3.0 : 3.0 * n;
}

double kiln_atoms_temperature(const kiln_atoms *a) {
  double dof = kiln_atoms_dof(a);
  return dof > 0.0 ? 2.0 * kiln_atoms_kinetic_energy(a) / (dof * KILN_KB) : 0.0;
}

void kiln_atoms_zero_momentum(kiln_atoms *a) {
  double p[3] = {0, 0, 0}, m = 0.0;
  for (size_t i = 0; i < a->n; i++) {
    m += a->mass[i];
    for (int d = 0; d < 3; d++) p[d] += a->mass[i] * a->v[i][d];
  }
  if (!(m > 0.0)) return;
  for (int d = 0; d < 3; d++) p[d] /= m;
  for (size_t i = 0; i < a->n; i++)
    for (int d = 0; d < 3; d++) a->v[i][d] -= p[d];
}
