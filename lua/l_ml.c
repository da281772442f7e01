/* lua/l_ml.c: module kiln.c.ml — descriptors (kiln.Descriptor, a box around kiln_desc
 * with its gradient scratch) and the regression kernels of include/kiln/ml.h.
 * stdlib/kiln/descriptor.lua and stdlib/kiln/ml.lua give them the public API
 * (kiln.descriptor.<style>{...}, kiln.ml.ridge{...}, ...). Element indices are 1-based
 * in Lua, 0-based in C; matrices are kiln.Arrays (or tables of rows). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lkiln.h"
#include "kiln/ml.h"

#define KILN_L_DESC "kiln.Descriptor"

typedef struct ldesc {
  kiln_desc *d;
  kiln_desc_grad g, gk;   /* gradient scratch, kept between calls */
} ldesc;

static void ldesc_free(ldesc *p) {
  if (!p) return;
  kiln_desc_free(p->d);
  kiln_desc_grad_free(&p->g);
  kiln_desc_grad_free(&p->gk);
  free(p);
}

static ldesc *checkdesc(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_DESC)->p; }

/* ------------------------------------------------------------------ styles */
static void push_style(lua_State *L, const kiln_desc_style *s) {
  lua_createtable(L, 0, 5);
  lua_pushstring(L, s->name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, s->description ? s->description : "");
  lua_setfield(L, -2, "description");
  lua_pushstring(L, s->citation ? s->citation : "");
  lua_setfield(L, -2, "citation");
  lua_pushstring(L, s->options ? s->options : "");
  lua_setfield(L, -2, "options");
  lua_pushliteral(L, "descriptor");
  lua_setfield(L, -2, "kind");
}

static int l_styles(lua_State *L) {
  size_t n = kiln_desc_nstyles();
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    push_style(L, kiln_desc_style_at(i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* new(style, opts) -> kiln.Descriptor */
static int l_new(lua_State *L) {
  const char *style = luaL_checkstring(L, 1);
  kiln_opts *o = kiln_l_toopts(L, 2, NULL);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_DESC, 0);
  ldesc *p = calloc(1, sizeof *p);
  if (!p) return luaL_error(L, "kiln.descriptor.%s: out of memory", style);
  b->p = p;   /* the box owns it from here (freed by __gc even if new fails) */
  kiln_error err;
  char what[64];
  snprintf(what, sizeof what, "kiln.descriptor.%s", style);
  kiln_l_check(L, kiln_desc_new(&p->d, style, o, &err), &err, what);
  return 1;
}

/* ------------------------------------------------------------------ descriptor methods */
/* number of elements of the descriptor: the largest index any chemical symbol maps to,
 * plus 1 (0 if the style has no species map) */
static int nelements(const kiln_desc *d, const char **names, int cap) {
  const kiln_desc_style *s = kiln_desc_get_style(d);
  if (!s->map_species) return 0;
  int nel = 0;
  for (int z = 1; z <= 118; z++) {
    const char *sym = kiln_element_symbol(z);
    if (!sym) continue;
    int k = s->map_species(kiln_desc_state(d), sym);
    if (k >= 0 && k < cap) {
      if (names && !names[k]) names[k] = sym;
      if (k + 1 > nel) nel = k + 1;
    }
  }
  return nel;
}

/* element index (0-based) of every atom into el (n) */
static void atom_elements(lua_State *L, ldesc *p, const kiln_atoms *a, int32_t *el, const char *what) {
  int32_t tmap[KILN_MAX_SPECIES];
  kiln_error err;
  kiln_l_check(L, kiln_desc_map(p->d, a, tmap, &err), &err, what);
  for (size_t i = 0; i < a->n; i++) el[i] = tmap[a->type[i]];
}

static void push_ellist(lua_State *L, const int32_t *el, size_t n) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)el[i] + 1);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* d:compute(atoms) -> X (n x ncols), el (list, 1-based) */
static int l_compute(lua_State *L) {
  ldesc *p = checkdesc(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  const size_t n = a->n, nc = kiln_desc_ncols(p->d);
  double *X = kiln_l_pusharray(L, NULL, n, nc);
  int32_t *el = lua_newuserdatauv(L, (n ? n : 1) * sizeof *el, 0);
  atom_elements(L, p, a, el, "compute");
  kiln_error err;
  kiln_l_check(L, kiln_desc_compute(p->d, a, X, NULL, &err), &err, "compute");
  push_ellist(L, el, n);
  lua_remove(L, -2);
  return 2;
}

/* fill the result table at the top with energy/forces/virial rows of K (n x nc) + grad */
static void design_rows(lua_State *L, size_t n, size_t nc, const double *X,
                        const kiln_desc_grad *g, const int32_t *el, int nel, int forces,
                        int virial, const char *what) {
  const size_t w = nc * (size_t)nel;
  double *erow = kiln_l_pusharray(L, NULL, 1, w);
  lua_setfield(L, -2, "energy");
  double *frows = NULL, *vrows = NULL;
  if (forces) {
    frows = kiln_l_pusharray(L, NULL, 3 * n, w);
    lua_setfield(L, -2, "forces");
  }
  if (virial) {
    vrows = kiln_l_pusharray(L, NULL, 6, w);
    lua_setfield(L, -2, "virial");
  }
  kiln_error err;
  kiln_l_check(L, kiln_design_linear_el(n, nc, X, g, el, nel, erow, frows, vrows, &err), &err,
               what);
}

static void push_counts(lua_State *L, ldesc *p, const int32_t *el, size_t n) {
  const char *names[KILN_MAX_SPECIES] = {0};
  int nel = nelements(p->d, names, KILN_MAX_SPECIES);
  for (size_t i = 0; i < n; i++)
    if (el[i] + 1 > nel) nel = el[i] + 1;
  lua_createtable(L, nel, 0);
  for (int k = 0; k < nel; k++) {
    lua_Integer c = 0;
    for (size_t i = 0; i < n; i++) c += el[i] == k;
    lua_pushinteger(L, c);
    lua_rawseti(L, -2, k + 1);
  }
}

/* d:design(atoms[, {forces=true, virial=true, per_element=false}]) -> {energy=, forces=, virial=,
 * counts=}; per_element: one block of ncols columns per element (#d.elements blocks) */
static int l_design(lua_State *L) {
  ldesc *p = checkdesc(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  int forces = kiln_l_optboolfield(L, 3, "forces", 1);
  int virial = kiln_l_optboolfield(L, 3, "virial", 1);
  int per_element = kiln_l_optboolfield(L, 3, "per_element", 0);
  const size_t n = a->n, nc = kiln_desc_ncols(p->d);
  int32_t *el = lua_newuserdatauv(L, (n ? n : 1) * sizeof *el, 0);
  const int ud = lua_gettop(L);
  atom_elements(L, p, a, el, "design");
  double *X = lua_newuserdatauv(L, (n && nc ? n * nc : 1) * sizeof *X, 0);
  kiln_error err;
  kiln_l_check(L, kiln_desc_compute(p->d, a, X, (forces || virial) ? &p->g : NULL, &err), &err,
               "design");
  lua_createtable(L, 0, 4);
  int nel = 1;
  if (per_element) {
    nel = nelements(p->d, NULL, KILN_MAX_SPECIES);
    for (size_t i = 0; i < n; i++)
      if (el[i] + 1 > nel) nel = el[i] + 1;
    if (nel < 1) nel = 1;
  }
  design_rows(L, n, nc, X, &p->g, per_element ? el : NULL, nel, forces, virial, "design");
  push_counts(L, p, el, n);
  lua_setfield(L, -2, "counts");
  lua_replace(L, ud);
  lua_settop(L, ud);
  return 1;
}

/* element list (1-based Lua ints, or nil) at arg into 0-based el (n); NULL if nil */
static int32_t *check_ellist(lua_State *L, int arg, size_t n, const char *what, const char *name) {
  if (lua_isnoneornil(L, arg)) return NULL;
  int32_t *el = lua_newuserdatauv(L, (n ? n : 1) * sizeof *el, 0);
  size_t r, c;
  const double *v = kiln_l_testarray(L, arg, &r, &c);
  if (v) {
    if (r * c != n)
      luaL_error(L, "%s: %s has %d entries but there are %d rows", what, name, (int)(r * c), (int)n);
    for (size_t i = 0; i < n; i++) el[i] = (int32_t)v[i] - 1;
  } else {
    if (!lua_istable(L, arg))
      luaL_error(L, "%s: %s must be a list of element indices (got %s)", what, name,
                 kiln_l_typename(L, arg));
    if (lua_rawlen(L, arg) != n)
      luaL_error(L, "%s: %s has %d entries but there are %d rows", what, name,
                 (int)lua_rawlen(L, arg), (int)n);
    for (size_t i = 0; i < n; i++) {
      lua_rawgeti(L, arg, (lua_Integer)i + 1);
      int ok;
      lua_Integer k = lua_tointegerx(L, -1, &ok);
      if (!ok || k < 1 || k > KILN_MAX_SPECIES)
        luaL_error(L, "%s: %s[%d] must be an element index 1..%d (got %s)", what, name,
                   (int)i + 1, KILN_MAX_SPECIES, luaL_tolstring(L, -1, NULL));
      el[i] = (int32_t)(k - 1);
      lua_pop(L, 1);
    }
  }
  return el;
}

static const double *check_matrix_named(lua_State *L, int arg, size_t cols, size_t *rows,
                                        const char *what, const char *name) {
  size_t r, c;
  const double *d = kiln_l_testarray(L, arg, &r, &c);
  if (!d && !lua_istable(L, arg))
    luaL_error(L, "%s: %s must be a kiln.Array or a table of rows (got %s)", what, name,
               kiln_l_typename(L, arg));
  d = kiln_l_checkmatrix(L, arg, 0, 0, &r, &c);
  if (cols && c != cols && r > 0)
    luaL_error(L, "%s: %s has %d columns but %d are needed", what, name, (int)c, (int)cols);
  if (rows) *rows = r;
  return d;
}

/* d:kernel_design(atoms, S, elS, zeta[, {forces=true, virial=true}]) */
static int l_kernel_design(lua_State *L) {
  const char *what = "kernel_design";
  ldesc *p = checkdesc(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  const size_t n = a->n, nc = kiln_desc_ncols(p->d);
  size_t m;
  const double *S = check_matrix_named(L, 3, nc, &m, what, "sparse.X");
  if (m == 0) luaL_error(L, "%s: sparse.X has no rows", what);
  int32_t *es = check_ellist(L, 4, m, what, "sparse.el");
  double zeta = luaL_checknumber(L, 5);
  int forces = kiln_l_optboolfield(L, 6, "forces", 1);
  int virial = kiln_l_optboolfield(L, 6, "virial", 1);
  int32_t *el = lua_newuserdatauv(L, (n ? n : 1) * sizeof *el, 0);
  const int ud = lua_gettop(L);
  atom_elements(L, p, a, el, what);
  double *X = lua_newuserdatauv(L, (n && nc ? n * nc : 1) * sizeof *X, 0);
  double *K = lua_newuserdatauv(L, (n && m ? n * m : 1) * sizeof *K, 0);
  const int grad = forces || virial;
  kiln_error err;
  kiln_l_check(L, kiln_desc_compute(p->d, a, X, grad ? &p->g : NULL, &err), &err, what);
  kiln_l_check(L, kiln_kernel_poly(n, nc, X, el, grad ? &p->g : NULL, m, S, es, zeta, K,
                                   grad ? &p->gk : NULL, &err), &err, what);
  lua_createtable(L, 0, 4);
  design_rows(L, n, m, K, &p->gk, NULL, 1, forces, virial, what);
  push_counts(L, p, el, n);
  lua_setfield(L, -2, "counts");
  lua_replace(L, ud);
  lua_settop(L, ud);
  return 1;
}

static int l_close(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_DESC);
  kiln_l_checknotbusy(L, b, KILN_L_DESC, "close");
  ldesc_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_DESC);
  if (b->busy) return 0;
  ldesc_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_index(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_DESC);
  const char *k = lua_tostring(L, 2);
  ldesc *p = b->p;
  if (k && (!strcmp(k, "ncols") || !strcmp(k, "cutoff") || !strcmp(k, "style") ||
            !strcmp(k, "elements"))) {
    if (!p || !p->d) return luaL_error(L, "attempt to use a closed %s (field '%s')", KILN_L_DESC, k);
    if (!strcmp(k, "ncols")) lua_pushinteger(L, (lua_Integer)kiln_desc_ncols(p->d));
    else if (!strcmp(k, "cutoff")) lua_pushnumber(L, kiln_desc_cutoff(p->d));
    else if (!strcmp(k, "style")) lua_pushstring(L, kiln_desc_get_style(p->d)->name);
    else {
      const char *names[KILN_MAX_SPECIES] = {0};
      int nel = nelements(p->d, names, KILN_MAX_SPECIES);
      lua_createtable(L, nel, 0);
      for (int e = 0; e < nel; e++) {
        lua_pushstring(L, names[e] ? names[e] : "?");
        lua_rawseti(L, -2, e + 1);
      }
    }
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int l_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_DESC);
  ldesc *p = b->p;
  if (!p || !p->d) {
    lua_pushfstring(L, "%s (closed)", KILN_L_DESC);
    return 1;
  }
  char buf[160];
  snprintf(buf, sizeof buf, "%s(%s, %zu columns, cutoff=%.6g A)", KILN_L_DESC,
           kiln_desc_get_style(p->d)->name, kiln_desc_ncols(p->d), kiln_desc_cutoff(p->d));
  lua_pushstring(L, buf);
  return 1;
}

/* ------------------------------------------------------------------ regression */
/* a column of n values: kiln.Array with n entries, or a flat list */
static const double *check_vector(lua_State *L, int arg, size_t n, const char *what,
                                  const char *name, const char *against, size_t *nout) {
  size_t r, c;
  const double *d = kiln_l_testarray(L, arg, &r, &c);
  if (d) {
    if (n && r * c != n)
      luaL_error(L, "%s: %s has %d rows but %s has %d", what, against, (int)n, name, (int)(r * c));
    lua_pushvalue(L, arg);
    if (nout) *nout = r * c;
    return d;
  }
  if (!lua_istable(L, arg))
    luaL_error(L, "%s: %s must be a kiln.Array or a list of numbers (got %s)", what, name,
               kiln_l_typename(L, arg));
  size_t len = lua_rawlen(L, arg);
  if (n && len != n)
    luaL_error(L, "%s: %s has %d rows but %s has %d", what, against, (int)n, name, (int)len);
  double *out = lua_newuserdatauv(L, (len ? len : 1) * sizeof *out, 0);
  for (size_t i = 0; i < len; i++) {
    lua_rawgeti(L, arg, (lua_Integer)i + 1);
    if (lua_istable(L, -1)) {   /* {{v}, {v}} column */
      lua_rawgeti(L, -1, 1);
      lua_replace(L, -2);
    }
    int ok;
    out[i] = lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_error(L, "%s: %s[%d] is not a number", what, name, (int)i + 1);
    lua_pop(L, 1);
  }
  if (nout) *nout = len;
  return out;
}

/* width of the matrix argument at arg (after check_matrix_named) */
static size_t matrix_cols(lua_State *L, int arg) {
  size_t r, c;
  if (kiln_l_testarray(L, arg, &r, &c)) return c;
  if (!lua_istable(L, arg) || lua_rawlen(L, arg) == 0) return 0;
  lua_rawgeti(L, arg, 1);
  if (lua_type(L, -1) == LUA_TNUMBER) c = 1;
  else if (lua_istable(L, -1)) c = lua_rawlen(L, -1);
  else if (!kiln_l_testarray(L, -1, &r, &c)) c = 0;
  else c = r * c;
  lua_pop(L, 1);
  return c;
}

/* ridge(A, b, w|nil, lambda) -> x (n x 1), rank */
static int l_ridge(lua_State *L) {
  const char *what = "kiln.ml.ridge";
  size_t m, n;
  const double *A = check_matrix_named(L, 1, 0, &m, what, "A");
  n = matrix_cols(L, 1);
  if (m == 0 || n == 0) luaL_error(L, "%s: A is empty (%d x %d)", what, (int)m, (int)n);
  const double *b = check_vector(L, 2, m, what, "b", "A", NULL);
  const double *w = lua_isnoneornil(L, 3) ? NULL : check_vector(L, 3, m, what, "w", "A", NULL);
  double lambda = luaL_optnumber(L, 4, 0.0);
  double *x = kiln_l_pusharray(L, NULL, n, 1);
  size_t rank = 0;
  kiln_error err;
  kiln_l_check(L, kiln_ridge(m, n, A, b, w, lambda, x, &rank, &err), &err, what);
  lua_pushinteger(L, (lua_Integer)rank);
  return 2;
}

/* sgpr(K, y, sigma (number or vector), Kmm, jitter) -> alpha (m x 1) */
static int l_sgpr(lua_State *L) {
  const char *what = "kiln.ml.sgpr";
  size_t nobs, mm;
  const double *K = check_matrix_named(L, 1, 0, &nobs, what, "K");
  const size_t m = matrix_cols(L, 1);
  if (nobs == 0 || m == 0) luaL_error(L, "%s: K is empty (%d x %d)", what, (int)nobs, (int)m);
  const double *y = check_vector(L, 2, nobs, what, "y", "K", NULL);
  const double *sigma;
  if (lua_type(L, 3) == LUA_TNUMBER) {
    double s = lua_tonumber(L, 3);
    double *sv = lua_newuserdatauv(L, nobs * sizeof *sv, 0);
    for (size_t i = 0; i < nobs; i++) sv[i] = s;
    sigma = sv;
  } else {
    sigma = check_vector(L, 3, nobs, what, "sigma", "K", NULL);
  }
  const double *Kmm = check_matrix_named(L, 4, 0, &mm, what, "Kmm");
  if (mm != m || matrix_cols(L, 4) != m)
    luaL_error(L, "%s: Kmm is %d x %d but K has %d columns (sparse points)", what, (int)mm,
               (int)matrix_cols(L, 4), (int)m);
  double jitter = luaL_optnumber(L, 5, 1e-10);
  double *alpha = kiln_l_pusharray(L, NULL, m, 1);
  kiln_error err;
  kiln_l_check(L, kiln_sgpr(nobs, m, K, y, sigma, Kmm, jitter, alpha, &err), &err, what);
  return 1;
}

/* fps(X, m, start) -> idx (1-based list), mind (list; mind[1] = math.huge) */
static int l_fps(lua_State *L) {
  const char *what = "kiln.ml.fps";
  size_t n;
  const double *X = check_matrix_named(L, 1, 0, &n, what, "X");
  const size_t d = matrix_cols(L, 1);
  lua_Integer m = luaL_checkinteger(L, 2);
  lua_Integer start = luaL_optinteger(L, 3, 1);
  if (m < 0 || (size_t)m > n)
    luaL_error(L, "%s: cannot choose %d rows out of %d", what, (int)m, (int)n);
  if (m > 0 && (start < 1 || (size_t)start > n))
    luaL_error(L, "%s: start must be a row 1..%d (got %d)", what, (int)n, (int)start);
  size_t *idx = lua_newuserdatauv(L, (m ? (size_t)m : 1) * sizeof *idx, 0);
  double *mind = lua_newuserdatauv(L, (m ? (size_t)m : 1) * sizeof *mind, 0);
  kiln_error err;
  kiln_l_check(L, kiln_fps(n, d, X, (size_t)m, (size_t)(start - 1), idx, mind, &err), &err, what);
  lua_createtable(L, (int)m, 0);
  lua_createtable(L, (int)m, 0);
  for (lua_Integer k = 0; k < m; k++) {
    lua_pushinteger(L, (lua_Integer)idx[k] + 1);
    lua_rawseti(L, -3, k + 1);
    lua_pushnumber(L, mind[k]);
    lua_rawseti(L, -2, k + 1);
  }
  return 2;
}

/* kernel(X, elX|nil, S, elS|nil, zeta) -> K (n x m) */
static int l_kernel(lua_State *L) {
  const char *what = "kiln.ml.kernel";
  size_t n, m;
  const double *X = check_matrix_named(L, 1, 0, &n, what, "X");
  const size_t d = matrix_cols(L, 1);
  const int32_t *ex = check_ellist(L, 2, n, what, "elX");
  const double *S = check_matrix_named(L, 3, 0, &m, what, "S");
  if (m > 0 && matrix_cols(L, 3) != d)
    luaL_error(L, "%s: S has %d columns but X has %d", what, (int)matrix_cols(L, 3), (int)d);
  const int32_t *es = check_ellist(L, 4, m, what, "elS");
  double zeta = luaL_checknumber(L, 5);
  double *K = kiln_l_pusharray(L, NULL, n, m);
  if (n == 0 || m == 0 || d == 0) return 1;
  kiln_error err;
  kiln_l_check(L, kiln_kernel_poly(n, d, X, ex, NULL, m, S, es, zeta, K, NULL, &err), &err, what);
  return 1;
}

/* vstack({A1, A2, ...}) -> Array */
static int l_vstack(lua_State *L) {
  const char *what = "kiln.ml.vstack";
  luaL_checktype(L, 1, LUA_TTABLE);
  const size_t nb = lua_rawlen(L, 1);
  const int top = lua_gettop(L);
  size_t rows = 0, cols = 0;
  int first = 0;
  for (size_t k = 1; k <= nb; k++) {
    lua_rawgeti(L, 1, (lua_Integer)k);
    const int at = lua_gettop(L);
    char name[32];
    snprintf(name, sizeof name, "block %d", (int)k);
    size_t r;
    check_matrix_named(L, at, 0, &r, what, name);
    size_t c = matrix_cols(L, at);
    if (r > 0) {
      if (first && c != cols)
        luaL_error(L, "%s: block %d has %d columns but block %d has %d", what, (int)k, (int)c,
                   first, (int)cols);
      if (!first) { first = (int)k; cols = c; }
      rows += r;
    }
    lua_settop(L, at);   /* keep the block (and any scratch it needed: re-made below) */
  }
  lua_settop(L, top);
  double *out = kiln_l_pusharray(L, NULL, rows, cols);
  const int outi = lua_gettop(L);
  size_t at_row = 0;
  for (size_t k = 1; k <= nb; k++) {
    lua_rawgeti(L, 1, (lua_Integer)k);
    size_t r;
    const double *d = check_matrix_named(L, -1, 0, &r, what, "block");
    if (r > 0) memcpy(out + at_row * cols, d, r * cols * sizeof *out);
    at_row += r;
    lua_settop(L, outi);
  }
  return 1;
}

/* matvec(A, x) -> A x (rows x 1) */
static int l_matvec(lua_State *L) {
  const char *what = "kiln.ml.matvec";
  size_t r, nx;
  const double *A = check_matrix_named(L, 1, 0, &r, what, "A");
  const size_t c = matrix_cols(L, 1);
  const double *x = check_vector(L, 2, 0, what, "x", "A", &nx);
  if (r > 0 && nx != c)
    luaL_error(L, "%s: A has %d columns but x has %d values", what, (int)c, (int)nx);
  double *y = kiln_l_pusharray(L, NULL, r, 1);
  for (size_t i = 0; i < r; i++) {
    const double *a = A + i * c;
    double s = 0;
    for (size_t k = 0; k < c; k++) s += a[k] * x[k];
    y[i] = s;
  }
  return 1;
}

static const luaL_Reg methods[] = {{"compute", l_compute},
                                   {"design", l_design},
                                   {"_kernel_design", l_kernel_design},
                                   {"close", l_close},
                                   {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__gc", l_gc}, {"__close", l_gc}, {"__tostring", l_tostring}, {NULL, NULL}};

static const luaL_Reg funcs[] = {{"new", l_new},       {"styles", l_styles}, {"ridge", l_ridge},
                                 {"sgpr", l_sgpr},     {"fps", l_fps},       {"kernel", l_kernel},
                                 {"vstack", l_vstack}, {"matvec", l_matvec}, {NULL, NULL}};

int luaopen_kiln_c_ml(lua_State *L) {
  kiln_l_newclass(L, KILN_L_DESC, meta, methods);
  kiln_l_setindex(L, KILN_L_DESC, l_index);
  luaL_newlib(L, funcs);
  kiln_l_exportclass(L, KILN_L_DESC);
  return 1;
}
