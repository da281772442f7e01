/* lua/l_atoms.c: kiln.Atoms, a box around kiln_atoms.
 * positions()/velocities()/forces()/masses() are views (kiln.Array) that keep
 * the atoms alive; cell()/pbc()/symbols() return plain tables (copies).
 * Conveniences written in Lua (set_velocities{T=}, rattle, info proxy) are in
 * stdlib/kiln/init.lua. Indices are 1-based here, 0-based in the core. */
#include <stdio.h>
#include <string.h>
#include "lkiln.h"

kiln_atoms *kiln_l_checkatoms(lua_State *L, int i) {
  return kiln_l_checkbox(L, i, KILN_L_ATOMS)->p;
}

/* let the GC know about big configurations (about 100 bytes per atom) */
static void gchint(lua_State *L, const kiln_atoms *a) {
  if (a && a->n > 2000) lua_gc(L, LUA_GCSTEP, (int)(a->n / 10));
}

static kiln_l_box *checkabox(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_ATOMS); }

static size_t checkatom(lua_State *L, int arg, const kiln_atoms *a) {
  lua_Integer i = luaL_checkinteger(L, arg);
  if (i < 1 || (size_t)i > a->n)
    luaL_argerror(L, arg, lua_pushfstring(L, "atom index %d out of range (1..%d)", (int)i,
                                          (int)a->n));
  return (size_t)(i - 1);
}

/* ---- setters shared with the constructor ---- */

static void set_symbols(lua_State *L, kiln_atoms *a, int arg) {
  kiln_error err;
  if (lua_type(L, arg) == LUA_TSTRING) {
    const char *s = lua_tostring(L, arg);
    for (size_t i = 0; i < a->n; i++)
      kiln_l_check(L, kiln_atoms_set_symbol(a, i, s, &err), &err, "kiln.Atoms");
    return;
  }
  luaL_checktype(L, arg, LUA_TTABLE);
  size_t n = lua_rawlen(L, arg);
  if (n != a->n)
    luaL_error(L, "kiln.Atoms: symbols has %d entries for %d atoms", (int)n, (int)a->n);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, arg, (lua_Integer)i + 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "kiln.Atoms: symbols[%d]: string expected, got %s", (int)i + 1,
                 kiln_l_typename(L, -1));
    kiln_l_check(L, kiln_atoms_set_symbol(a, i, lua_tostring(L, -1), &err), &err, "kiln.Atoms");
    lua_pop(L, 1);
  }
}

static void set_rows(lua_State *L, kiln_atoms *a, int arg, double (*dst)[3]) {
  const double *d = kiln_l_checkmatrix(L, arg, a->n, 3, NULL, NULL);
  if (a->n) memmove(dst, d, a->n * 3 * sizeof(double));
  lua_pop(L, 1);
}

static void set_scaled(lua_State *L, kiln_atoms *a, int arg) {
  const double *s = kiln_l_checkmatrix(L, arg, a->n, 3, NULL, NULL);
  for (size_t i = 0; i < a->n; i++)
    for (int j = 0; j < 3; j++)
      a->x[i][j] = s[3 * i] * a->cell[0][j] + s[3 * i + 1] * a->cell[1][j] +
                   s[3 * i + 2] * a->cell[2][j];
  lua_pop(L, 1);
}

static void set_masses(lua_State *L, kiln_atoms *a, int arg) {
  if (lua_type(L, arg) == LUA_TNUMBER) {  /* one mass for every atom */
    double m = lua_tonumber(L, arg);
    luaL_argcheck(L, m > 0, arg, "positive mass expected");
    for (size_t i = 0; i < a->n; i++) a->mass[i] = m;
    return;
  }
  const double *m = kiln_l_checkmatrix(L, arg, a->n, 1, NULL, NULL);
  if (a->n) memmove(a->mass, m, a->n * sizeof(double));
  lua_pop(L, 1);
}

static void set_pbc(lua_State *L, kiln_atoms *a, int arg) {
  if (lua_isboolean(L, arg)) {
    a->pbc[0] = a->pbc[1] = a->pbc[2] = lua_toboolean(L, arg);
    return;
  }
  luaL_argexpected(L, lua_istable(L, arg) && lua_rawlen(L, arg) == 3, arg,
                   "boolean or table of 3 booleans");
  for (int k = 0; k < 3; k++) {
    lua_rawgeti(L, arg, k + 1);
    luaL_argexpected(L, lua_isboolean(L, -1), arg, "boolean or table of 3 booleans");
    a->pbc[k] = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
}

static void set_ids(lua_State *L, kiln_atoms *a, int arg) {
  luaL_checktype(L, arg, LUA_TTABLE);
  if (lua_rawlen(L, arg) != a->n)
    luaL_error(L, "kiln.Atoms: ids has %d entries for %d atoms", (int)lua_rawlen(L, arg),
               (int)a->n);
  for (size_t i = 0; i < a->n; i++) {
    lua_rawgeti(L, arg, (lua_Integer)i + 1);
    int ok;
    lua_Integer id = lua_tointegerx(L, -1, &ok);
    if (!ok) luaL_error(L, "kiln.Atoms: ids[%d]: integer expected", (int)i + 1);
    a->id[i] = (int64_t)id;
    lua_pop(L, 1);
  }
}

/* ---- info and per-atom arrays ---- */

static void push_info(lua_State *L, const kiln_info *in) {
  if (in->kind == KILN_VAL_STR) {
    lua_pushstring(L, in->str ? in->str : "");
    return;
  }
  if (in->count != 1) lua_createtable(L, (int)in->count, 0);
  for (size_t k = 0; k < in->count; k++) {
    if (in->kind == KILN_VAL_INT) lua_pushinteger(L, (lua_Integer)in->val[k]);
    else if (in->kind == KILN_VAL_BOOL) lua_pushboolean(L, in->val[k] != 0);
    else lua_pushnumber(L, in->val[k]);
    if (in->count != 1) lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  if (in->count == 0) lua_pushnil(L);
}

/* Classify a value or a flat/nested list: returns the values (row-major) and
 * their count in *n, leaving one anchoring value on the stack. */
static const double *flatten_values(lua_State *L, int v, kiln_val_kind *kind, size_t *n) {
  v = lua_absindex(L, v);
  int t = lua_type(L, v);
  if (t == LUA_TNUMBER || t == LUA_TBOOLEAN) {
    double *d = lua_newuserdatauv(L, sizeof(double), 0);
    *d = t == LUA_TBOOLEAN ? lua_toboolean(L, v) : lua_tonumber(L, v);
    *kind = t == LUA_TBOOLEAN ? KILN_VAL_BOOL : lua_isinteger(L, v) ? KILN_VAL_INT : KILN_VAL_REAL;
    *n = 1;
    return d;
  }
  size_t r, c;
  if (kiln_l_testarray(L, v, &r, &c)) {
    *kind = KILN_VAL_REAL;
    *n = r * c;
    return kiln_l_checkmatrix(L, v, 0, 0, &r, &c);
  }
  if (t != LUA_TTABLE) luaL_error(L, "info value: number, boolean, string or list expected, got %s",
                                  kiln_l_typename(L, v));
  /* booleans list? */
  lua_rawgeti(L, v, 1);
  int first = lua_type(L, -1);
  lua_pop(L, 1);
  if (first == LUA_TBOOLEAN) {
    size_t len = lua_rawlen(L, v);
    double *d = lua_newuserdatauv(L, (len ? len : 1) * sizeof(double), 0);
    for (size_t k = 0; k < len; k++) {
      lua_rawgeti(L, v, (lua_Integer)k + 1);
      d[k] = lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
    *kind = KILN_VAL_BOOL;
    *n = len;
    return d;
  }
  /* all integers? */
  int allint = 1;
  size_t len = lua_rawlen(L, v);
  for (size_t k = 0; k < len && allint; k++) {
    lua_rawgeti(L, v, (lua_Integer)k + 1);
    allint = lua_isinteger(L, -1);
    lua_pop(L, 1);
  }
  *kind = allint && len ? KILN_VAL_INT : KILN_VAL_REAL;
  const double *d = kiln_l_checkmatrix(L, v, 0, 0, &r, &c);
  *n = r * c;
  return d;
}

static void set_info(lua_State *L, kiln_atoms *a, const char *key, int v) {
  kiln_error err;
  if (lua_isnil(L, v)) {
    kiln_atoms_info_remove(a, key);
    return;
  }
  if (lua_type(L, v) == LUA_TSTRING) {
    kiln_l_check(L, kiln_atoms_info_set_str(a, key, lua_tostring(L, v), &err), &err, "set_info");
    return;
  }
  kiln_val_kind kind;
  size_t n;
  const double *d = flatten_values(L, v, &kind, &n);
  kiln_l_check(L, kiln_atoms_info_set(a, key, kind, n, d, &err), &err, "set_info");
  lua_pop(L, 1);
}

static void set_info_table(lua_State *L, kiln_atoms *a, int t) {
  t = lua_absindex(L, t);
  luaL_checktype(L, t, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "info keys must be strings");
    set_info(L, a, lua_tostring(L, -2), lua_gettop(L));
    lua_pop(L, 1);
  }
}

/* a:info() -> table of everything; a:info(key) -> value or nil; a:info(key, v) sets */
static int l_atoms_info(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  if (lua_isnoneornil(L, 2)) {
    lua_createtable(L, 0, (int)a->ninfo);
    for (size_t k = 0; k < a->ninfo; k++) {
      push_info(L, &a->info[k]);
      lua_setfield(L, -2, a->info[k].name);
    }
    return 1;
  }
  const char *key = luaL_checkstring(L, 2);
  if (lua_gettop(L) >= 3) {
    set_info(L, a, key, 3);
    return 0;
  }
  kiln_info *in = kiln_atoms_info_get(a, key);
  if (in) push_info(L, in);
  else lua_pushnil(L);
  return 1;
}

static int l_atoms_set_info(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  if (lua_istable(L, 2)) {
    set_info_table(L, a, 2);
    return 0;
  }
  set_info(L, a, luaL_checkstring(L, 2), 3);
  return 0;
}

static void push_prop(lua_State *L, const kiln_prop *p, size_t n) {
  if (p->kind == KILN_VAL_REAL || p->kind == KILN_VAL_INT) {
    kiln_l_pusharray(L, p->val, n, p->ncols);
    return;
  }
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    if (p->ncols > 1) lua_createtable(L, (int)p->ncols, 0);
    for (size_t j = 0; j < p->ncols; j++) {
      size_t k = i * p->ncols + j;
      if (p->kind == KILN_VAL_STR) lua_pushstring(L, p->str[k] ? p->str[k] : "");
      else lua_pushboolean(L, p->val[k] != 0);
      if (p->ncols > 1) lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static const char *const builtin_arrays[] = {"positions", "velocities", "forces", "masses",
                                             "symbols", "numbers", "ids", NULL};

static int l_atoms_symbols(lua_State *L);
static int l_atoms_ids(lua_State *L);

static int push_builtin(lua_State *L, kiln_atoms *a, int self, const char *name) {
  if (!strcmp(name, "positions")) kiln_l_pusharray(L, (double *)a->x, a->n, 3);
  else if (!strcmp(name, "velocities")) kiln_l_pusharray(L, (double *)a->v, a->n, 3);
  else if (!strcmp(name, "forces")) kiln_l_pusharray(L, (double *)a->f, a->n, 3);
  else if (!strcmp(name, "masses")) kiln_l_pusharray(L, a->mass, a->n, 1);
  else if (!strcmp(name, "symbols")) { lua_pushvalue(L, self); l_atoms_symbols(L); lua_remove(L, -2); }
  else if (!strcmp(name, "ids")) { lua_pushvalue(L, self); l_atoms_ids(L); lua_remove(L, -2); }
  else if (!strcmp(name, "numbers")) {
    lua_createtable(L, (int)a->n, 0);
    for (size_t i = 0; i < a->n; i++) {
      lua_pushinteger(L, kiln_element_z(kiln_atoms_symbol(a, i)));
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  } else return 0;
  return 1;
}

static void set_array(lua_State *L, kiln_atoms *a, const char *name, int v) {
  kiln_error err;
  v = lua_absindex(L, v);
  if (lua_isnil(L, v)) {
    kiln_atoms_prop_remove(a, name);
    return;
  }
  if (!kiln_atoms_prop_get(a, name)) {
    if (!strcmp(name, "positions")) { set_rows(L, a, v, a->x); return; }
    if (!strcmp(name, "velocities")) { set_rows(L, a, v, a->v); return; }
    if (!strcmp(name, "forces")) { set_rows(L, a, v, a->f); return; }
    if (!strcmp(name, "masses")) { set_masses(L, a, v); return; }
    if (!strcmp(name, "symbols")) { set_symbols(L, a, v); return; }
    if (!strcmp(name, "ids")) { set_ids(L, a, v); return; }
  }
  if (lua_istable(L, v)) {
    lua_rawgeti(L, v, 1);
    int t = lua_type(L, -1);
    if (t == LUA_TTABLE) {
      lua_rawgeti(L, -1, 1);
      t = lua_type(L, -1) == LUA_TSTRING ? LUA_TSTRING : LUA_TNUMBER;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    size_t n = lua_rawlen(L, v);
    if (n != a->n) luaL_error(L, "set_array '%s': %d rows for %d atoms", name, (int)n, (int)a->n);
    if (t == LUA_TSTRING) {
      /* strings (one column, or rows of strings) */
      size_t ncols = 1;
      lua_rawgeti(L, v, 1);
      if (lua_istable(L, -1)) ncols = lua_rawlen(L, -1);
      lua_pop(L, 1);
      const char **s = lua_newuserdatauv(L, ((n * ncols) > 0 ? n * ncols : 1) * sizeof(char *), 0);
      for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, v, (lua_Integer)i + 1);
        for (size_t j = 0; j < ncols; j++) {
          if (lua_istable(L, -1)) lua_rawgeti(L, -1, (lua_Integer)j + 1);
          else lua_pushvalue(L, -1);
          if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "set_array '%s': row %d: string expected", name, (int)i + 1);
          s[i * ncols + j] = lua_tostring(L, -1); /* anchored by v */
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      kiln_l_check(L, kiln_atoms_prop_set_str(a, name, ncols, s, &err), &err, "set_array");
      lua_pop(L, 1);
      return;
    }
    if (t == LUA_TBOOLEAN) {
      double *d = lua_newuserdatauv(L, (n ? n : 1) * sizeof(double), 0);
      for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, v, (lua_Integer)i + 1);
        d[i] = lua_toboolean(L, -1);
        lua_pop(L, 1);
      }
      kiln_l_check(L, kiln_atoms_prop_set(a, name, KILN_VAL_BOOL, 1, d, &err), &err, "set_array");
      lua_pop(L, 1);
      return;
    }
  }
  size_t r, c;
  const double *d = kiln_l_checkmatrix(L, v, a->n, 0, &r, &c);
  if (c == 0) c = 1;
  kiln_l_check(L, kiln_atoms_prop_set(a, name, KILN_VAL_REAL, c, d, &err), &err, "set_array");
  lua_pop(L, 1);
}

/* a:array(name) -> copy (Array for numbers, table for strings/booleans) or nil;
 * a:array(name, v) sets (nil removes). Built-in names when no such property. */
static int l_atoms_array(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  const char *name = luaL_checkstring(L, 2);
  if (lua_gettop(L) >= 3) {
    set_array(L, a, name, 3);
    return 0;
  }
  kiln_prop *p = kiln_atoms_prop_get(a, name);
  if (p) push_prop(L, p, a->n);
  else if (!push_builtin(L, a, 1, name)) lua_pushnil(L);
  return 1;
}

static int l_atoms_set_array(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  set_array(L, a, luaL_checkstring(L, 2), 3);
  return 0;
}

/* a:arrays() -> sorted list of per-atom property names (without built-ins) */
static int l_atoms_arrays(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  lua_createtable(L, (int)a->nprops, 0);
  for (size_t k = 0; k < a->nprops; k++) {
    lua_pushstring(L, a->props[k].name);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  return 1;
}

/* ---- constructor ---- */

static const char *const new_keys[] = {"n", "cell", "symbols", "positions", "scaled_positions",
                                       "velocities", "masses", "pbc", "ids", "info", NULL};

static size_t count_from(lua_State *L, int t) {
  const char *const src[] = {"positions", "scaled_positions", "symbols", NULL};
  for (int k = 0; src[k]; k++) {
    int ty = lua_getfield(L, t, src[k]);
    size_t n = 0;
    int found = 0;
    if (ty == LUA_TTABLE) { n = lua_rawlen(L, -1); found = 1; }
    else if (ty == LUA_TUSERDATA && kiln_l_testarray(L, -1, &n, NULL)) found = 1;
    lua_pop(L, 1);
    if (found) return n;
  }
  return 0;
}

static int l_atoms_new(lua_State *L) {
  kiln_error err;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0, 1, "non-negative atom count expected");
    kiln_l_box *b = kiln_l_newbox(L, KILN_L_ATOMS, 1);
    kiln_l_check(L, kiln_atoms_new((kiln_atoms **)&b->p, (size_t)n, &err), &err, "kiln.Atoms");
    return 1;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  kiln_l_checkkeys(L, 1, "kiln.Atoms", new_keys);
  long n = kiln_l_optintfield(L, 1, "n", -1);
  if (n < 0) n = (long)count_from(L, 1);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_ATOMS, 1);
  int self = lua_gettop(L);
  kiln_l_check(L, kiln_atoms_new((kiln_atoms **)&b->p, (size_t)n, &err), &err, "kiln.Atoms");
  kiln_atoms *a = b->p;
  int hascell = 0;
  if (lua_getfield(L, 1, "cell") != LUA_TNIL) {
    double cell[3][3];
    kiln_l_checkmat3(L, lua_gettop(L), cell);
    kiln_l_check(L, kiln_atoms_set_cell(a, cell, 0, &err), &err, "kiln.Atoms");
    hascell = 1;
  }
  lua_pop(L, 1);
  a->pbc[0] = a->pbc[1] = a->pbc[2] = hascell;
  if (lua_getfield(L, 1, "pbc") != LUA_TNIL) set_pbc(L, a, lua_gettop(L));
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "symbols") != LUA_TNIL) set_symbols(L, a, lua_gettop(L));
  else if (n > 0) luaL_error(L, "kiln.Atoms: missing option 'symbols'");
  lua_pop(L, 1);
  int hasx = lua_getfield(L, 1, "positions") != LUA_TNIL;
  if (hasx) set_rows(L, a, lua_gettop(L), a->x);
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "scaled_positions") != LUA_TNIL) {
    if (hasx) luaL_error(L, "kiln.Atoms: give positions or scaled_positions, not both");
    if (!hascell) luaL_error(L, "kiln.Atoms: scaled_positions need a cell");
    set_scaled(L, a, lua_gettop(L));
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "velocities") != LUA_TNIL) set_rows(L, a, lua_gettop(L), a->v);
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "masses") != LUA_TNIL) set_masses(L, a, lua_gettop(L));
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "ids") != LUA_TNIL) set_ids(L, a, lua_gettop(L));
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "info") != LUA_TNIL) set_info_table(L, a, lua_gettop(L));
  lua_pop(L, 1);
  lua_settop(L, self);
  return 1;
}

/* ---- methods ---- */

static int l_atoms_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)kiln_l_checkatoms(L, 1)->n);
  return 1;
}

static int l_atoms_positions(lua_State *L) { kiln_l_pushview(L, 1, KILN_L_VIEW_X); return 1; }
static int l_atoms_velocities(lua_State *L) { kiln_l_pushview(L, 1, KILN_L_VIEW_V); return 1; }
static int l_atoms_forces(lua_State *L) { kiln_l_pushview(L, 1, KILN_L_VIEW_F); return 1; }
static int l_atoms_masses(lua_State *L) { kiln_l_pushview(L, 1, KILN_L_VIEW_MASS); return 1; }

static int l_atoms_positions_copy(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  kiln_l_pusharray(L, (double *)a->x, a->n, 3);
  return 1;
}

static int l_atoms_scaled_positions(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  kiln_error err;
  double inv[3][3];
  kiln_l_check(L, kiln_cell_inverse(a->cell, inv, &err), &err, "scaled_positions");
  double *d = kiln_l_pusharray(L, NULL, a->n, 3);
  for (size_t i = 0; i < a->n; i++) kiln_atoms_to_frac(a, inv, a->x[i], d + 3 * i);
  return 1;
}

static int l_atoms_set_positions(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  set_rows(L, a, 2, a->x);
  return 0;
}

static int l_atoms_set_scaled_positions(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  set_scaled(L, a, 2);
  return 0;
}

static int l_atoms_set_velocities(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  set_rows(L, a, 2, a->v);
  return 0;
}

static int l_atoms_set_forces(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  set_rows(L, a, 2, a->f);
  return 0;
}

static int l_atoms_set_masses(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  set_masses(L, a, 2);
  return 0;
}

static int l_atoms_symbols(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  lua_createtable(L, (int)a->n, 0);
  for (size_t i = 0; i < a->n; i++) {
    lua_pushstring(L, kiln_atoms_symbol(a, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_atoms_set_symbols(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  set_symbols(L, a, 2);
  return 0;
}

static int l_atoms_species(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  lua_createtable(L, a->nspecies, 0);
  for (int k = 0; k < a->nspecies; k++) {
    lua_pushstring(L, a->species[k]);
    lua_rawseti(L, -2, k + 1);
  }
  return 1;
}

static int l_atoms_get_symbol(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  lua_pushstring(L, kiln_atoms_symbol(a, checkatom(L, 2, a)));
  return 1;
}

static int l_atoms_set_symbol(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  size_t i = checkatom(L, 2, a);
  kiln_error err;
  kiln_l_check(L, kiln_atoms_set_symbol(a, i, luaL_checkstring(L, 3), &err), &err, "set_symbol");
  return 0;
}

static int l_atoms_ids(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  lua_createtable(L, (int)a->n, 0);
  for (size_t i = 0; i < a->n; i++) {
    lua_pushinteger(L, (lua_Integer)a->id[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_atoms_set_ids(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  set_ids(L, a, 2);
  return 0;
}

static int l_atoms_cell(lua_State *L) {
  kiln_l_pushmat3(L, (const double(*)[3])kiln_l_checkatoms(L, 1)->cell);
  return 1;
}

static int l_atoms_set_cell(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  double cell[3][3];
  kiln_l_checkmat3(L, 2, cell);
  kiln_l_checkkeys(L, 3, "set_cell", (const char *const[]){"scale_atoms", NULL});
  int scale = kiln_l_optboolfield(L, 3, "scale_atoms", 0);
  kiln_error err;
  kiln_l_check(L, kiln_atoms_set_cell(a, (const double(*)[3])cell, scale, &err), &err, "set_cell");
  return 0;
}

static int l_atoms_volume(lua_State *L) {
  lua_pushnumber(L, kiln_atoms_volume(kiln_l_checkatoms(L, 1)));
  return 1;
}

static int l_atoms_pbc(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  lua_createtable(L, 3, 0);
  for (int k = 0; k < 3; k++) {
    lua_pushboolean(L, a->pbc[k]);
    lua_rawseti(L, -2, k + 1);
  }
  return 1;
}

static int l_atoms_set_pbc(lua_State *L) {
  set_pbc(L, kiln_l_checkatoms(L, 1), 2);
  return 0;
}

static int l_atoms_wrap(lua_State *L) {
  kiln_error err;
  kiln_l_check(L, kiln_atoms_wrap(kiln_l_checkatoms(L, 1), &err), &err, "wrap");
  lua_settop(L, 1);
  return 1;
}

static int l_atoms_copy(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_ATOMS, 1);
  kiln_error err;
  kiln_l_check(L, kiln_atoms_copy((kiln_atoms **)&b->p, a, &err), &err, "copy");
  gchint(L, b->p);
  return 1;
}

static int l_atoms_supercell(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  lua_Integer na = luaL_checkinteger(L, 2);
  lua_Integer nb = luaL_optinteger(L, 3, na), nc = luaL_optinteger(L, 4, nb);
  luaL_argcheck(L, na >= 1, 2, "positive integer expected");
  luaL_argcheck(L, nb >= 1, 3, "positive integer expected");
  luaL_argcheck(L, nc >= 1, 4, "positive integer expected");
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_ATOMS, 1);
  kiln_error err;
  kiln_l_check(L, kiln_atoms_supercell((kiln_atoms **)&b->p, a, (int)na, (int)nb, (int)nc, &err),
               &err, "supercell");
  gchint(L, b->p);
  return 1;
}

static int l_atoms_append(lua_State *L) {
  kiln_l_box *b = checkabox(L, 1);
  kiln_l_checknotbusy(L, b, KILN_L_ATOMS, "resize");
  const char *sym = luaL_checkstring(L, 2);
  double x[3];
  kiln_l_checkvec3(L, 3, x);
  kiln_error err;
  kiln_l_check(L, kiln_atoms_append(b->p, sym, x, &err), &err, "append");
  lua_settop(L, 1);
  return 1;
}

static int l_atoms_temperature(lua_State *L) {
  lua_pushnumber(L, kiln_atoms_temperature(kiln_l_checkatoms(L, 1)));
  return 1;
}

static int l_atoms_kinetic_energy(lua_State *L) {
  lua_pushnumber(L, kiln_atoms_kinetic_energy(kiln_l_checkatoms(L, 1)));
  return 1;
}

static int l_atoms_dof(lua_State *L) {
  lua_pushnumber(L, kiln_atoms_dof(kiln_l_checkatoms(L, 1)));
  return 1;
}

static int l_atoms_zero_momentum(lua_State *L) {
  kiln_atoms_zero_momentum(kiln_l_checkatoms(L, 1));
  lua_settop(L, 1);
  return 1;
}

static int l_atoms_close(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_ATOMS);
  kiln_l_checknotbusy(L, b, KILN_L_ATOMS, "close");
  kiln_atoms_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_atoms_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_ATOMS);
  if (b->busy) return 0; /* cannot happen for __gc; __close of a busy object leaves it open */
  kiln_atoms_free(b->p);
  b->p = NULL;
  return 0;
}

static void addg(luaL_Buffer *B, double v) {
  char s[32];
  snprintf(s, sizeof s, "%.6g", v == 0 ? 0.0 : v);
  luaL_addstring(B, s);
}

static int l_atoms_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_ATOMS);
  kiln_atoms *a = b->p;
  if (!a) {
    lua_pushfstring(L, "%s (closed)", KILN_L_ATOMS);
    return 1;
  }
  luaL_Buffer B;
  luaL_buffinit(L, &B);
  char s[64];
  snprintf(s, sizeof s, "%s(n=%zu, ", KILN_L_ATOMS, a->n);
  luaL_addstring(&B, s);
  /* formula: species in order of first appearance, with counts */
  size_t count[KILN_MAX_SPECIES] = {0};
  int order[KILN_MAX_SPECIES], norder = 0;
  for (size_t i = 0; i < a->n; i++) {
    int t = a->type[i];
    if (t < 0 || t >= KILN_MAX_SPECIES) continue;
    if (count[t]++ == 0) order[norder++] = t;
  }
  for (int k = 0; k < norder; k++) {
    snprintf(s, sizeof s, "%s%zu", a->species[order[k]][0] ? a->species[order[k]] : "X",
             count[order[k]]);
    luaL_addstring(&B, s);
  }
  if (norder) luaL_addstring(&B, ", ");
  luaL_addstring(&B, "cell=[");
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      addg(&B, a->cell[i][j]);
      luaL_addstring(&B, j < 2 ? " " : i < 2 ? "; " : "");
    }
  snprintf(s, sizeof s, "], pbc=%c%c%c)", a->pbc[0] ? 'T' : 'F', a->pbc[1] ? 'T' : 'F',
           a->pbc[2] ? 'T' : 'F');
  luaL_addstring(&B, s);
  luaL_pushresult(&B);
  return 1;
}

static const luaL_Reg atoms_methods[] = {
    {"natoms", l_atoms_len},
    {"positions", l_atoms_positions},
    {"positions_copy", l_atoms_positions_copy},
    {"scaled_positions", l_atoms_scaled_positions},
    {"velocities", l_atoms_velocities},
    {"forces", l_atoms_forces},
    {"masses", l_atoms_masses},
    {"set_positions", l_atoms_set_positions},
    {"set_scaled_positions", l_atoms_set_scaled_positions},
    {"set_velocities", l_atoms_set_velocities},
    {"set_forces", l_atoms_set_forces},
    {"set_masses", l_atoms_set_masses},
    {"symbols", l_atoms_symbols},
    {"set_symbols", l_atoms_set_symbols},
    {"species", l_atoms_species},
    {"get_symbol", l_atoms_get_symbol},
    {"set_symbol", l_atoms_set_symbol},
    {"ids", l_atoms_ids},
    {"set_ids", l_atoms_set_ids},
    {"cell", l_atoms_cell},
    {"set_cell", l_atoms_set_cell},
    {"volume", l_atoms_volume},
    {"pbc", l_atoms_pbc},
    {"set_pbc", l_atoms_set_pbc},
    {"wrap", l_atoms_wrap},
    {"copy", l_atoms_copy},
    {"supercell", l_atoms_supercell},
    {"append", l_atoms_append},
    {"temperature", l_atoms_temperature},
    {"kinetic_energy", l_atoms_kinetic_energy},
    {"dof", l_atoms_dof},
    {"zero_momentum", l_atoms_zero_momentum},
    {"info", l_atoms_info},
    {"set_info", l_atoms_set_info},
    {"array", l_atoms_array},
    {"set_array", l_atoms_set_array},
    {"arrays", l_atoms_arrays},
    {"close", l_atoms_close},
    {NULL, NULL}};

static const luaL_Reg atoms_meta[] = {{"__len", l_atoms_len},
                                      {"__gc", l_atoms_gc},
                                      {"__close", l_atoms_gc},
                                      {"__tostring", l_atoms_tostring},
                                      {NULL, NULL}};

static const luaL_Reg atoms_funcs[] = {{"new", l_atoms_new}, {NULL, NULL}};

int luaopen_kiln_c_atoms(lua_State *L) {
  kiln_l_newclass(L, KILN_L_ATOMS, atoms_meta, atoms_methods);
  luaL_newlib(L, atoms_funcs);
  kiln_l_exportclass(L, KILN_L_ATOMS);
  lua_createtable(L, 0, 0);
  for (int k = 0; builtin_arrays[k]; k++) {
    lua_pushstring(L, builtin_arrays[k]);
    lua_rawseti(L, -2, k + 1);
  }
  lua_setfield(L, -2, "builtin_arrays");
  return 1;
}
