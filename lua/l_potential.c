/* lua/l_potential.c: kiln.Potential, a box around kiln_pot.
 * new(style, opts) for any registered style; sum{p1, p2, ...} keeps its parts
 * alive in uv1 (the core sum borrows them). Fields: pot.cutoff (Å), pot.style. */
#include <stdio.h>
#include <string.h>
#include "lkiln.h"

kiln_pot *kiln_l_checkpot(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_POT)->p; }

static int l_pot_new(lua_State *L) {
  const char *style = luaL_checkstring(L, 1);
  kiln_opts *o = kiln_l_toopts(L, 2, NULL);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_POT, 1);
  kiln_error err;
  char what[96];
  snprintf(what, sizeof what, "potential %s", style);
  kiln_l_check(L, kiln_pot_new((kiln_pot **)&b->p, style, o, &err), &err, what);
  return 1;
}

/* sum{p1, p2, ...}: the parts are borrowed by the core and kept alive in uv1 */
static int l_pot_sum(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  size_t n = lua_rawlen(L, 1);
  luaL_argcheck(L, n >= 1, 1, "list of kiln.Potential expected");
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || (size_t)lua_tointeger(L, -1) > n)
      luaL_error(L, "potential sum: only a list of potentials is accepted (got key %s)",
                 luaL_tolstring(L, -1, NULL));
  }
  kiln_pot **parts = lua_newuserdatauv(L, n * sizeof *parts, 0);
  lua_createtable(L, (int)n, 0); /* the parts, for uv1 */
  int tparts = lua_gettop(L);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    kiln_l_box *pb = kiln_l_testbox(L, -1, KILN_L_POT);
    if (!pb)
      luaL_error(L, "potential sum: entry %d: kiln.Potential expected, got %s", (int)i + 1,
                 kiln_l_typename(L, -1));
    if (!pb->p) luaL_error(L, "potential sum: entry %d: attempt to use a closed %s", (int)i + 1,
                           KILN_L_POT);
    parts[i] = pb->p;
    lua_rawseti(L, tparts, (lua_Integer)i + 1);
  }
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_POT, 1);
  kiln_error err;
  kiln_l_check(L, kiln_pot_new_sum((kiln_pot **)&b->p, parts, n, &err), &err, "potential sum");
  /* from here on the parts cannot be closed before the sum */
  lua_pushvalue(L, tparts);
  lua_setiuservalue(L, -2, 1);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, tparts, (lua_Integer)i + 1);
    ((kiln_l_box *)lua_touserdata(L, -1))->busy++;
    lua_pop(L, 1);
  }
  return 1;
}

static void push_style(lua_State *L, const kiln_pot_style *s) {
  lua_createtable(L, 0, 8);
  lua_pushstring(L, s->name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, s->description ? s->description : "");
  lua_setfield(L, -2, "description");
  lua_pushstring(L, s->citation ? s->citation : "");
  lua_setfield(L, -2, "citation");
  lua_pushstring(L, s->options ? s->options : "");
  lua_setfield(L, -2, "options");
  lua_pushboolean(L, (s->flags & KILN_POT_MANYBODY) != 0);
  lua_setfield(L, -2, "manybody");
  lua_pushboolean(L, (s->flags & KILN_POT_HAVE_PERATOM) != 0);
  lua_setfield(L, -2, "peratom");
  lua_pushboolean(L, (s->flags & KILN_POT_NEEDS_FULL_LIST) != 0);
  lua_setfield(L, -2, "full_list");
  lua_pushboolean(L, (s->flags & KILN_POT_COMPOSITE) != 0);
  lua_setfield(L, -2, "composite");
  lua_pushliteral(L, "potential");
  lua_setfield(L, -2, "kind");
}

static int l_pot_styles(lua_State *L) {
  size_t n = kiln_pot_nstyles();
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    push_style(L, kiln_pot_style_at(i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* pot:compute(a) -> {energy=, forces=Array, virial=3x3, stress=3x3, energies=Array} */
static int l_pot_compute(lua_State *L) {
  kiln_pot *p = kiln_l_checkpot(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  const kiln_pot_style *s = kiln_pot_get_style(p);
  unsigned want = KILN_EVAL_ENERGY | KILN_EVAL_FORCES | KILN_EVAL_VIRIAL;
  if (s->flags & KILN_POT_HAVE_PERATOM) want |= KILN_EVAL_PERATOM;
  kiln_pot_result r;
  memset(&r, 0, sizeof r);
  kiln_error err;
  kiln_l_check(L, kiln_pot_compute_once(p, a, want, &r, &err), &err, "compute");
  lua_createtable(L, 0, 5);
  lua_pushnumber(L, r.energy);
  lua_setfield(L, -2, "energy");
  kiln_l_pusharray(L, (double *)a->f, a->n, 3);
  lua_setfield(L, -2, "forces");
  kiln_l_pushmat3(L, (const double(*)[3])r.virial);
  lua_setfield(L, -2, "virial");
  kiln_l_pushmat3(L, (const double(*)[3])r.stress);
  lua_setfield(L, -2, "stress");
  if ((want & KILN_EVAL_PERATOM) && r.eatom) {
    kiln_l_pusharray(L, r.eatom, a->n, 1);
    lua_setfield(L, -2, "energies");
  }
  return 1;
}

static int l_pot_energy(lua_State *L) {
  kiln_pot *p = kiln_l_checkpot(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  kiln_pot_result r;
  memset(&r, 0, sizeof r);
  kiln_error err;
  kiln_l_check(L, kiln_pot_compute_once(p, a, KILN_EVAL_ENERGY, &r, &err), &err, "energy");
  lua_pushnumber(L, r.energy);
  return 1;
}

static int l_pot_close(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_POT);
  kiln_l_checknotbusy(L, b, KILN_L_POT, "close");
  kiln_pot_free(b->p);
  b->p = NULL;
  /* release the parts of a sum */
  if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
    size_t n = lua_rawlen(L, -1);
    for (size_t i = 0; i < n; i++) {
      lua_rawgeti(L, -1, (lua_Integer)i + 1);
      kiln_l_box *pb = lua_touserdata(L, -1);
      if (pb && pb->busy > 0) pb->busy--;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 1);
  return 0;
}

static int l_pot_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_POT);
  if (b->busy) return 0;
  return l_pot_close(L);
}

static int l_pot_index(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_POT);
  const char *k = lua_tostring(L, 2);
  if (k && b->p) {
    const kiln_pot_style *s = kiln_pot_get_style(b->p);
    if (!strcmp(k, "cutoff")) { lua_pushnumber(L, kiln_pot_cutoff(b->p)); return 1; }
    if (!strcmp(k, "style")) { lua_pushstring(L, s->name); return 1; }
    if (!strcmp(k, "description")) { lua_pushstring(L, s->description); return 1; }
    if (!strcmp(k, "citation")) { lua_pushstring(L, s->citation); return 1; }
    if (!strcmp(k, "parts")) {
      if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) return 1;
      /* a copy, so the user cannot change what the sum keeps alive */
      size_t n = lua_rawlen(L, -1);
      lua_createtable(L, (int)n, 0);
      for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, -2, (lua_Integer)i + 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
      return 1;
    }
  }
  if (k && !b->p &&
      (!strcmp(k, "cutoff") || !strcmp(k, "style") || !strcmp(k, "description") ||
       !strcmp(k, "citation") || !strcmp(k, "parts")))
    luaL_error(L, "attempt to use a closed %s (field '%s')", KILN_L_POT, k);
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int l_pot_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_POT);
  if (!b->p) {
    lua_pushfstring(L, "%s (closed)", KILN_L_POT);
    return 1;
  }
  const kiln_pot_style *s = kiln_pot_get_style(b->p);
  char buf[160];
  snprintf(buf, sizeof buf, "%s(%s, cutoff=%.6g A)", KILN_L_POT, s->name, kiln_pot_cutoff(b->p));
  lua_pushstring(L, buf);
  return 1;
}

static const luaL_Reg pot_methods[] = {{"compute", l_pot_compute},
                                       {"energy", l_pot_energy},
                                       {"close", l_pot_close},
                                       {NULL, NULL}};

static const luaL_Reg pot_meta[] = {{"__gc", l_pot_gc},
                                    {"__close", l_pot_gc},
                                    {"__tostring", l_pot_tostring},
                                    {NULL, NULL}};

static const luaL_Reg pot_funcs[] = {
    {"new", l_pot_new}, {"sum", l_pot_sum}, {"styles", l_pot_styles}, {NULL, NULL}};

int luaopen_kiln_c_potential(lua_State *L) {
  kiln_l_newclass(L, KILN_L_POT, pot_meta, pot_methods);
  kiln_l_setindex(L, KILN_L_POT, l_pot_index);
  luaL_newlib(L, pot_funcs);
  kiln_l_exportclass(L, KILN_L_POT);
  return 1;
}
