/* lua/l_cv.c: module kiln.c.cv: collective-variable kernels (values and gradients as
 * kiln.Array n x 3), perovskite cell maps (kiln.PerovskiteCells), the metadynamics grid
 * (kiln.MetadGrid) and the "external" potential driven by a Lua function. */
#include <stdlib.h>
#include <string.h>
#include "lkiln.h"
#include "kiln/cv.h"

#define KILN_L_PEROV "kiln.PerovskiteCells"
#define KILN_L_METAD "kiln.MetadGrid"

static size_t checkidx(lua_State *L, int arg, size_t n) {
  lua_Integer i = luaL_checkinteger(L, arg);
  luaL_argcheck(L, i >= 1 && (size_t)i <= n, arg, "atom index out of range");
  return (size_t)(i - 1);
}

/* run f filling a fresh Array n x 3 for the gradient; returns the value */
static int l_distance(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  size_t i = checkidx(L, 2, a->n), j = checkidx(L, 3, a->n);
  double *g = kiln_l_pusharray(L, NULL, a->n, 3), s;
  kiln_error err;
  kiln_l_check(L, kiln_cv_distance(a, i, j, &s, (double(*)[3])g, &err), &err, "cv distance");
  lua_pushnumber(L, s);
  lua_insert(L, -2);
  return 2;
}

static int l_angle(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  size_t i = checkidx(L, 2, a->n), j = checkidx(L, 3, a->n), k = checkidx(L, 4, a->n);
  double *g = kiln_l_pusharray(L, NULL, a->n, 3), s;
  kiln_error err;
  kiln_l_check(L, kiln_cv_angle(a, i, j, k, &s, (double(*)[3])g, &err), &err, "cv angle");
  lua_pushnumber(L, s);
  lua_insert(L, -2);
  return 2;
}

/* cell(atoms, which 0..6) -> value, dS/dcell (3x3 table) */
static int l_cell(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  int w = (int)luaL_checkinteger(L, 2);
  double s, g[3][3];
  kiln_error err;
  kiln_l_check(L, kiln_cv_cell(a, w, &s, g, &err), &err, "cv cell");
  lua_pushnumber(L, s);
  kiln_l_pushmat3(L, (const double(*)[3])g);
  return 2;
}

/* cell_virial(cell, dEdh) -> W 3x3 */
static int l_cell_virial(lua_State *L) {
  double h[3][3], d[3][3], W[3][3];
  kiln_l_checkmat3(L, 1, h);
  kiln_l_checkmat3(L, 2, d);
  kiln_cv_cell_virial((const double(*)[3])h, (const double(*)[3])d, W);
  kiln_l_pushmat3(L, (const double(*)[3])W);
  return 1;
}

/* steinhardt(atoms, l, rin, rcut, peratom, gradient) -> Q, q (Array n x 1 or nil), g (or nil) */
static int l_steinhardt(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  int l = (int)luaL_checkinteger(L, 2);
  double rin = luaL_checknumber(L, 3), rc = luaL_checknumber(L, 4);
  int pa = lua_toboolean(L, 5), gr = lua_toboolean(L, 6);
  double *q = NULL, *g = NULL, Q;
  lua_settop(L, 6);
  if (pa) q = kiln_l_pusharray(L, NULL, a->n, 1); else lua_pushnil(L);
  if (gr) g = kiln_l_pusharray(L, NULL, a->n, 3); else lua_pushnil(L);
  kiln_error err;
  kiln_l_check(L, kiln_cv_steinhardt(a, l, rin, rc, &Q, q, (double(*)[3])g, &err), &err,
               "cv steinhardt");
  lua_pushnumber(L, Q);
  lua_insert(L, -3);
  return 3;
}

/* ---------------------------------------------------------------- perovskite cells */
static kiln_perov_map *checkperov(lua_State *L, int i) {
  kiln_l_box *b = kiln_l_checkbox(L, i, KILN_L_PEROV);
  return b->p;
}

static int l_perov_new(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  const char *A = luaL_checkstring(L, 2), *B = luaL_checkstring(L, 3), *X = luaL_checkstring(L, 4);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_PEROV, 0);
  kiln_perov_map *m = calloc(1, sizeof *m);
  if (!m) return luaL_error(L, "cv perovskite: out of memory");
  kiln_error err;
  kiln_status st = kiln_cv_perov_map(a, A, B, X, m, &err);
  if (st) free(m);
  kiln_l_check(L, st, &err, "kiln.cv.perovskite");
  b->p = m;
  return 1;
}

static int l_perov_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_PEROV);
  if (b->p) {
    kiln_cv_perov_map_free(b->p);
    free(b->p);
    b->p = NULL;
  }
  return 0;
}

/* charges at arg: Array/table n x 1 (q) or n x 9 (Z) */
static void charges(lua_State *L, int arg, size_t n, const double **q, const double **Z) {
  size_t r, c;
  const double *d = kiln_l_checkmatrix(L, arg, n, 0, &r, &c);
  *q = *Z = NULL;
  if (c == 1) *q = d;
  else if (c == 9) *Z = d;
  else luaL_argerror(L, arg, "charges: n x 1 (charges) or n x 9 (Born tensors) expected");
}

static int l_perov_offcenter(lua_State *L) {
  kiln_perov_map *m = checkperov(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  double *d = kiln_l_pusharray(L, NULL, m->ncell, 3);
  kiln_error err;
  kiln_l_check(L, kiln_cv_perov_offcenter(a, m, (double(*)[3])d, &err), &err, "offcenter");
  return 1;
}

static int l_perov_dipole(lua_State *L) {
  kiln_perov_map *m = checkperov(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  const double *q, *Z;
  charges(L, 3, a->n, &q, &Z);
  double *p = kiln_l_pusharray(L, NULL, m->ncell, 3);
  kiln_error err;
  kiln_l_check(L, kiln_cv_perov_dipole(a, m, q, Z, (double(*)[3])p, &err), &err, "dipole");
  return 1;
}

/* map:gradient(atoms, kind ("offcenter"|"dipole"), comp 1..3[, charges]) -> Array n x 3 */
static int l_perov_grad(lua_State *L) {
  kiln_perov_map *m = checkperov(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  static const char *const kinds[] = {"offcenter", "dipole", NULL};
  int kind = luaL_checkoption(L, 3, NULL, kinds);
  int comp = (int)luaL_checkinteger(L, 4) - 1;
  const double *q = NULL, *Z = NULL;
  if (kind == 1) charges(L, 5, a->n, &q, &Z);
  double *g = kiln_l_pusharray(L, NULL, a->n, 3);
  kiln_error err;
  kiln_l_check(L, kiln_cv_perov_grad(a, m, kind, comp, q, Z, (double(*)[3])g, &err), &err,
               "gradient");
  return 1;
}

static int l_perov_cells(lua_State *L) {
  kiln_perov_map *m = checkperov(L, 1);
  lua_createtable(L, (int)m->ncell, 0);
  for (size_t c = 0; c < m->ncell; c++) {
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, m->b[c] + 1);
    lua_setfield(L, -2, "B");
    lua_createtable(L, 6, 0);
    for (int k = 0; k < 6; k++) {
      lua_pushinteger(L, m->x[c][k] + 1);
      lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "X");
    lua_createtable(L, 8, 0);
    for (int k = 0; k < 8; k++) {
      lua_pushinteger(L, m->a[c][k] + 1);
      lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "A");
    lua_rawseti(L, -2, (lua_Integer)c + 1);
  }
  return 1;
}

static int l_perov_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)checkperov(L, 1)->ncell);
  return 1;
}

/* ---------------------------------------------------------------- metad grid */
static kiln_metad *checkmetad(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_METAD)->p; }

static void numlist(lua_State *L, int arg, int n, double *v, const char *what) {
  if (lua_isnumber(L, arg) && n == 1) {
    v[0] = lua_tonumber(L, arg);
    return;
  }
  luaL_checktype(L, arg, LUA_TTABLE);
  if ((int)lua_rawlen(L, arg) != n) luaL_error(L, "metad: %s needs %d values", what, n);
  for (int k = 0; k < n; k++) {
    lua_rawgeti(L, arg, k + 1);
    if (!lua_isnumber(L, -1)) luaL_error(L, "metad: %s[%d] is not a number", what, k + 1);
    v[k] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
}

/* grid_new(ncv, min{}, max{}, nbins{}, sigma{}, w0, biasfactor, kT) */
static int l_metad_new(lua_State *L) {
  int ncv = (int)luaL_checkinteger(L, 1);
  luaL_argcheck(L, ncv == 1 || ncv == 2, 1, "1 or 2 CVs");
  double mn[2], mx[2], nb[2], sg[2];
  numlist(L, 2, ncv, mn, "grid min");
  numlist(L, 3, ncv, mx, "grid max");
  numlist(L, 4, ncv, nb, "grid n");
  numlist(L, 5, ncv, sg, "sigma");
  int nbi[2] = {(int)nb[0], ncv > 1 ? (int)nb[1] : 0};
  double w0 = luaL_checknumber(L, 6), gam = luaL_checknumber(L, 7), kT = luaL_checknumber(L, 8);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_METAD, 0);
  kiln_error err;
  kiln_l_check(L, kiln_metad_new((kiln_metad **)&b->p, ncv, mn, mx, nbi, sg, w0, gam, kT, &err),
               &err, "kiln.metad");
  return 1;
}

static int l_metad_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_METAD);
  kiln_metad_free(b->p);
  b->p = NULL;
  return 0;
}

/* g:bias(s) -> V, {dV/ds...}; s a number (1 CV) or list */
static int l_metad_bias(lua_State *L) {
  kiln_metad *m = checkmetad(L, 1);
  int n = kiln_metad_ncv(m);
  double s[2], g[2];
  numlist(L, 2, n, s, "s");
  lua_pushnumber(L, kiln_metad_bias(m, s, g));
  lua_createtable(L, n, 0);
  for (int k = 0; k < n; k++) {
    lua_pushnumber(L, g[k]);
    lua_rawseti(L, -2, k + 1);
  }
  return 2;
}

static int l_metad_deposit(lua_State *L) {
  kiln_metad *m = checkmetad(L, 1);
  double s[2];
  numlist(L, 2, kiln_metad_ncv(m), s, "s");
  kiln_error err;
  kiln_l_check(L, kiln_metad_deposit(m, s, luaL_optnumber(L, 3, 0.0), &err), &err, "deposit");
  return 0;
}

static int l_metad_nhills(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)kiln_metad_nhills(checkmetad(L, 1)));
  return 1;
}

/* g:hill(k) -> {centre}, height, time */
static int l_metad_hill(lua_State *L) {
  kiln_metad *m = checkmetad(L, 1);
  lua_Integer k = luaL_checkinteger(L, 2);
  luaL_argcheck(L, k >= 1 && (size_t)k <= kiln_metad_nhills(m), 2, "hill index out of range");
  double c[2], h, t;
  kiln_metad_hill(m, (size_t)k - 1, c, &h, &t);
  int n = kiln_metad_ncv(m);
  lua_createtable(L, n, 0);
  for (int q = 0; q < n; q++) {
    lua_pushnumber(L, c[q]);
    lua_rawseti(L, -2, q + 1);
  }
  lua_pushnumber(L, h);
  lua_pushnumber(L, t);
  return 3;
}

static int l_metad_write(lua_State *L) {
  kiln_metad *m = checkmetad(L, 1);
  kiln_error err;
  kiln_l_check(L, kiln_metad_write(m, luaL_checkstring(L, 2), &err), &err, "write");
  return 0;
}

static int l_metad_read(lua_State *L) {
  kiln_metad *m = checkmetad(L, 1);
  kiln_error err;
  kiln_l_check(L, kiln_metad_read(m, luaL_checkstring(L, 2), &err), &err, "read");
  return 0;
}

/* g:grid() -> npts{}, min{}, dx{};  g:values() -> Array (npts1 x npts2, or npts x 1) */
static int l_metad_grid(lua_State *L) {
  kiln_metad *m = checkmetad(L, 1);
  int n = kiln_metad_ncv(m), np[2];
  double mn[2], dx[2];
  kiln_metad_grid(m, np, mn, dx);
  for (int t = 0; t < 3; t++) {
    lua_createtable(L, n, 0);
    for (int k = 0; k < n; k++) {
      if (t == 0) lua_pushinteger(L, np[k]);
      else lua_pushnumber(L, t == 1 ? mn[k] : dx[k]);
      lua_rawseti(L, -2, k + 1);
    }
  }
  return 3;
}

static int l_metad_values(lua_State *L) {
  kiln_metad *m = checkmetad(L, 1);
  int n = kiln_metad_ncv(m), np[2];
  double mn[2], dx[2];
  kiln_metad_grid(m, np, mn, dx);
  kiln_l_pusharray(L, kiln_metad_values(m), (size_t)np[0], n > 1 ? (size_t)np[1] : 1);
  return 1;
}

static int l_metad_ct(lua_State *L) {
  lua_pushnumber(L, kiln_metad_ct(checkmetad(L, 1)));
  return 1;
}

/* ---------------------------------------------------------------- external potential */
typedef struct {
  lua_State *T;    /* dedicated thread; the Lua function is at T's stack index 1 */
} ext_ud;

typedef struct {
  kiln_atoms *a;
  unsigned want;
  double *energy;
  double (*f)[3];
  double (*W)[3];
  int *vdone;
} ext_call;

/* under pcall on T: fn at 1, call record at 2 */
static int ext_trampoline(lua_State *L) {
  ext_call *c = lua_touserdata(L, 2);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_ATOMS, 1); /* borrowed, closed after the call */
  b->p = c->a;
  b->busy = 1;
  int box = lua_gettop(L);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, box);
  lua_pushboolean(L, (c->want & KILN_EVAL_FORCES) != 0);
  int st = lua_pcall(L, 2, 3, 0);
  b->p = NULL;
  b->busy = 0;
  if (st != LUA_OK) return lua_error(L);
  int r = box + 1;
  if (!lua_isnumber(L, r))
    return luaL_error(L, "external potential: the function must return the energy (eV), "
                      "got %s", kiln_l_typename(L, r));
  *c->energy = lua_tonumber(L, r);
  if ((c->want & KILN_EVAL_FORCES) || !lua_isnil(L, r + 1)) {
    if (lua_isnil(L, r + 1)) {
      if (c->want & KILN_EVAL_FORCES)
        return luaL_error(L, "external potential: forces (n x 3) were asked for but the "
                          "function returned none");
    } else {
      size_t rows, cols;
      const double *f = kiln_l_checkmatrix(L, r + 1, c->a->n, 3, &rows, &cols);
      memcpy(c->f, f, c->a->n * 3 * sizeof(double));
    }
  }
  if (!lua_isnil(L, r + 2)) {
    kiln_l_checkmat3(L, r + 2, c->W);
    *c->vdone = 1;
  }
  return 0;
}

static kiln_status ext_fn(void *ud, kiln_atoms *a, unsigned want, double *energy,
                          double (*f)[3], double W[3][3], int *vdone, kiln_error *err) {
  ext_ud *u = ud;
  lua_State *T = u->T;
  ext_call c = {a, want, energy, f, W, vdone};
  if (!lua_checkstack(T, 8)) return KILN_FAIL(err, KILN_ENOMEM, "external potential: Lua stack");
  lua_settop(T, 1);
  lua_pushcfunction(T, ext_trampoline);
  lua_pushvalue(T, 1);
  lua_pushlightuserdata(T, &c);
  if (lua_pcall(T, 2, 0, 0) != LUA_OK) {
    const char *msg = lua_tostring(T, -1);
    kiln_status st = KILN_FAIL(err, KILN_EEXTERNAL, "%s", msg ? msg : "(error object is not a string)");
    lua_settop(T, 1);
    return st;
  }
  lua_settop(T, 1);
  return KILN_OK;
}

static void ext_free(void *ud) { free(ud); }

/* external(fn) -> kiln.Potential; fn(atoms, want_forces) -> energy, forces, virial */
static int l_external(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_POT, 1); /* 2 */
  kiln_error err;
  kiln_l_check(L, kiln_pot_new((kiln_pot **)&b->p, "external", NULL, &err), &err,
               "kiln.cv.external");
  ext_ud *u = malloc(sizeof *u);
  if (!u) return luaL_error(L, "kiln.cv.external: out of memory");
  lua_State *T = lua_newthread(L); /* 3 */
  lua_pushvalue(L, 1);
  lua_xmove(L, T, 1);
  u->T = T;
  kiln_l_check(L, kiln_pot_external_set(b->p, ext_fn, u, ext_free, &err), &err,
               "kiln.cv.external");
  /* anchor the thread (and with it the function) in the potential */
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, "thread");
  lua_setiuservalue(L, 2, 1);
  lua_settop(L, 2);
  return 1;
}

/* combine(n, {g1, g2...}, {c1, c2...}) -> Array n x 3 = sum_k c_k g_k */
static int l_combine(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  size_t m = lua_rawlen(L, 2);
  double *out = kiln_l_pusharray(L, NULL, (size_t)n, 3);
  int top = lua_gettop(L);
  for (size_t k = 0; k < m; k++) {
    lua_rawgeti(L, 2, (lua_Integer)k + 1);
    lua_rawgeti(L, 3, (lua_Integer)k + 1);
    double c = luaL_checknumber(L, -1);
    size_t r, cc;
    const double *g = kiln_l_checkmatrix(L, top + 1, (size_t)n, 3, &r, &cc);
    for (size_t i = 0; i < 3 * (size_t)n; i++) out[i] += c * g[i];
    lua_settop(L, top);
  }
  return 1;
}

static const luaL_Reg perov_methods[] = {{"offcenter", l_perov_offcenter},
                                         {"dipole", l_perov_dipole},
                                         {"gradient", l_perov_grad},
                                         {"cells", l_perov_cells},
                                         {NULL, NULL}};
static const luaL_Reg perov_meta[] = {{"__gc", l_perov_gc}, {"__close", l_perov_gc},
                                      {"__len", l_perov_len}, {NULL, NULL}};
static const luaL_Reg metad_methods[] = {
    {"bias", l_metad_bias},   {"deposit", l_metad_deposit}, {"nhills", l_metad_nhills},
    {"hill", l_metad_hill},   {"write", l_metad_write},     {"read", l_metad_read},
    {"grid", l_metad_grid},   {"values", l_metad_values},   {"ct", l_metad_ct},
    {NULL, NULL}};
static const luaL_Reg metad_meta[] = {{"__gc", l_metad_gc}, {"__close", l_metad_gc}, {NULL, NULL}};

static const luaL_Reg funcs[] = {{"distance", l_distance},
                                 {"angle", l_angle},
                                 {"cell", l_cell},
                                 {"cell_virial", l_cell_virial},
                                 {"steinhardt", l_steinhardt},
                                 {"perovskite", l_perov_new},
                                 {"metad_grid", l_metad_new},
                                 {"external", l_external},
                                 {"combine", l_combine},
                                 {NULL, NULL}};

int luaopen_kiln_c_cv(lua_State *L) {
  kiln_l_newclass(L, KILN_L_PEROV, perov_meta, perov_methods);
  kiln_l_newclass(L, KILN_L_METAD, metad_meta, metad_methods);
  luaL_newlib(L, funcs);
  return 1;
}
