/* lua/l_crystal.c: kiln.crystal.* builders, each taking one options table
 * (lengths in Å) and returning a new kiln.Atoms. */
#include <string.h>
#include "lkiln.h"

static const char *reqstr(lua_State *L, const char *what, const char *key) {
  if (lua_getfield(L, 1, key) != LUA_TSTRING)
    luaL_error(L, "%s: option '%s' (element symbol) expected, got %s", what, key,
               kiln_l_typename(L, -1));
  const char *s = lua_tostring(L, -1);
  lua_pop(L, 1); /* anchored by the options table */
  return s;
}

static double reqnum(lua_State *L, const char *what, const char *key) {
  int ok;
  lua_getfield(L, 1, key);
  double v = lua_tonumberx(L, -1, &ok);
  if (!ok)
    luaL_error(L, "%s: option '%s' (number, Å) expected, got %s", what, key,
               kiln_l_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

static kiln_atoms **newatoms(lua_State *L) {
  return (kiln_atoms **)&kiln_l_newbox(L, KILN_L_ATOMS, 1)->p;
}

/* crystal with one element: {symbol=, a=} */
static int one(lua_State *L, const char *what,
               kiln_status (*fn)(kiln_atoms **, const char *, double, kiln_error *)) {
  luaL_checktype(L, 1, LUA_TTABLE);
  kiln_l_checkkeys(L, 1, what, (const char *const[]){"symbol", "a", NULL});
  const char *s = reqstr(L, what, "symbol");
  double a = reqnum(L, what, "a");
  kiln_error err;
  kiln_l_check(L, fn(newatoms(L), s, a, &err), &err, what);
  return 1;
}

static int l_fcc(lua_State *L) { return one(L, "crystal fcc", kiln_crystal_fcc); }
static int l_bcc(lua_State *L) { return one(L, "crystal bcc", kiln_crystal_bcc); }
static int l_sc(lua_State *L) { return one(L, "crystal sc", kiln_crystal_sc); }
static int l_diamond(lua_State *L) { return one(L, "crystal diamond", kiln_crystal_diamond); }

static int l_hcp(lua_State *L) {
  const char *what = "crystal hcp";
  luaL_checktype(L, 1, LUA_TTABLE);
  kiln_l_checkkeys(L, 1, what, (const char *const[]){"symbol", "a", "c", NULL});
  const char *s = reqstr(L, what, "symbol");
  double a = reqnum(L, what, "a");
  double c = kiln_l_optnumfield(L, 1, "c", 0.0);
  kiln_error err;
  kiln_l_check(L, kiln_crystal_hcp(newatoms(L), s, a, c, &err), &err, what);
  return 1;
}

static int l_rocksalt(lua_State *L) {
  const char *what = "crystal rocksalt";
  luaL_checktype(L, 1, LUA_TTABLE);
  kiln_l_checkkeys(L, 1, what, (const char *const[]){"A", "B", "a", NULL});
  const char *A = reqstr(L, what, "A"), *B = reqstr(L, what, "B");
  double a = reqnum(L, what, "a");
  kiln_error err;
  kiln_l_check(L, kiln_crystal_rocksalt(newatoms(L), A, B, a, &err), &err, what);
  return 1;
}

static int l_perovskite(lua_State *L) {
  const char *what = "crystal perovskite";
  luaL_checktype(L, 1, LUA_TTABLE);
  kiln_l_checkkeys(L, 1, what, (const char *const[]){"A", "B", "X", "a", NULL});
  const char *A = reqstr(L, what, "A"), *B = reqstr(L, what, "B"), *X = reqstr(L, what, "X");
  double a = reqnum(L, what, "a");
  kiln_error err;
  kiln_l_check(L, kiln_crystal_perovskite(newatoms(L), A, B, X, a, &err), &err, what);
  return 1;
}

static int l_hbn(lua_State *L) {
  const char *what = "crystal hbn";
  luaL_checktype(L, 1, LUA_TTABLE);
  kiln_l_checkkeys(L, 1, what, (const char *const[]){"A", "B", "a", "c", NULL});
  const char *A = reqstr(L, what, "A"), *B = reqstr(L, what, "B");
  double a = reqnum(L, what, "a");
  double c = kiln_l_optnumfield(L, 1, "c", 20.0);
  kiln_error err;
  kiln_l_check(L, kiln_crystal_hbn(newatoms(L), A, B, a, c, &err), &err, what);
  return 1;
}

static int l_from_cell(lua_State *L) {
  const char *what = "crystal from_cell";
  luaL_checktype(L, 1, LUA_TTABLE);
  kiln_l_checkkeys(L, 1, what, (const char *const[]){"cell", "symbols", "scaled_positions", NULL});
  double cell[3][3];
  lua_getfield(L, 1, "cell");
  if (lua_isnil(L, -1)) luaL_error(L, "%s: missing option 'cell'", what);
  kiln_l_checkmat3(L, lua_gettop(L), cell);
  lua_getfield(L, 1, "scaled_positions");
  if (lua_isnil(L, -1)) luaL_error(L, "%s: missing option 'scaled_positions'", what);
  size_t n;
  const double *frac = kiln_l_checkmatrix(L, lua_gettop(L), 0, 3, &n, NULL);
  if (lua_getfield(L, 1, "symbols") != LUA_TTABLE)
    luaL_error(L, "%s: option 'symbols' (list of element symbols) expected", what);
  int st = lua_gettop(L);
  if (lua_rawlen(L, st) != n)
    luaL_error(L, "%s: %d symbols for %d positions", what, (int)lua_rawlen(L, st), (int)n);
  const char **sym = lua_newuserdatauv(L, (n ? n : 1) * sizeof(char *), 0);
  for (size_t i = 0; i < n; i++) {
    if (lua_rawgeti(L, st, (lua_Integer)i + 1) != LUA_TSTRING)
      luaL_error(L, "%s: symbols[%d]: string expected", what, (int)i + 1);
    sym[i] = lua_tostring(L, -1); /* anchored by the symbols table */
    lua_pop(L, 1);
  }
  kiln_error err;
  kiln_l_check(L, kiln_crystal_from_cell(newatoms(L), (const double(*)[3])cell, n, sym,
                                         (const double(*)[3])frac, &err),
               &err, what);
  return 1;
}

static const luaL_Reg funcs[] = {{"fcc", l_fcc},
                                 {"bcc", l_bcc},
                                 {"sc", l_sc},
                                 {"diamond", l_diamond},
                                 {"hcp", l_hcp},
                                 {"rocksalt", l_rocksalt},
                                 {"perovskite", l_perovskite},
                                 {"hbn", l_hbn},
                                 {"from_cell", l_from_cell},
                                 {NULL, NULL}};

int luaopen_kiln_c_crystal(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
