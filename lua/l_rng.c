/* lua/l_rng.c: kiln.Rng, a seeded random stream (kiln_rng, xoshiro256**), so
 * Lua conveniences (set_velocities{T=}, rattle) are reproducible and
 * independent of math.random. The state is POD, embedded in the userdata. */
#include <string.h>
#include "lkiln.h"

static kiln_rng *checkrng(lua_State *L, int i) { return luaL_checkudata(L, i, KILN_L_RNG); }

/* kiln.Rng(seed[, stream]) */
static int l_rng_new(lua_State *L) {
  lua_Integer seed = luaL_checkinteger(L, 1), stream = luaL_optinteger(L, 2, 0);
  luaL_argcheck(L, seed >= 0, 1, "non-negative seed expected");
  luaL_argcheck(L, stream >= 0, 2, "non-negative stream expected");
  kiln_rng *r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  luaL_setmetatable(L, KILN_L_RNG);
  kiln_rng_seed(r, (uint64_t)seed, (uint64_t)stream);
  return 1;
}

static int l_rng_uniform(lua_State *L) {
  lua_pushnumber(L, kiln_rng_uniform(checkrng(L, 1)));
  return 1;
}

/* rng:normal([n]) -> one deviate, or a kiln.Array n x 1 */
static int l_rng_normal(lua_State *L) {
  kiln_rng *r = checkrng(L, 1);
  if (lua_isnoneornil(L, 2)) {
    lua_pushnumber(L, kiln_rng_normal(r));
    return 1;
  }
  lua_Integer n = luaL_checkinteger(L, 2), m = luaL_optinteger(L, 3, 1);
  luaL_argcheck(L, n >= 0, 2, "non-negative count expected");
  luaL_argcheck(L, m >= 1, 3, "positive column count expected");
  double *d = kiln_l_pusharray(L, NULL, (size_t)n, (size_t)m);
  for (lua_Integer k = 0; k < n * m; k++) d[k] = kiln_rng_normal(r);
  return 1;
}

static int l_rng_tostring(lua_State *L) {
  checkrng(L, 1);
  lua_pushfstring(L, "%s (xoshiro256**)", KILN_L_RNG);
  return 1;
}

static const luaL_Reg methods[] = {
    {"uniform", l_rng_uniform}, {"normal", l_rng_normal}, {NULL, NULL}};
static const luaL_Reg meta[] = {{"__tostring", l_rng_tostring}, {NULL, NULL}};
static const luaL_Reg funcs[] = {{"new", l_rng_new}, {NULL, NULL}};

int luaopen_kiln_c_rng(lua_State *L) {
  kiln_l_newclass(L, KILN_L_RNG, meta, methods);
  luaL_newlib(L, funcs);
  kiln_l_exportclass(L, KILN_L_RNG);
  return 1;
}
