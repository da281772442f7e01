/* lua/l_init.c: registers the C modules in package.preload (linit.c idiom),
 * so `require "kiln.c.atoms"` etc. work; stdlib/kiln/init.lua builds the
 * public `kiln` table on top of them. */
#include <time.h>
#include "lkiln.h"

static const luaL_Reg modules[] = {
    {"kiln.c.array", luaopen_kiln_c_array},   {"kiln.c.atoms", luaopen_kiln_c_atoms},
    {"kiln.c.crystal", luaopen_kiln_c_crystal}, {"kiln.c.potential", luaopen_kiln_c_potential},
    {"kiln.c.md", luaopen_kiln_c_md},         {"kiln.c.io", luaopen_kiln_c_io},
    {"kiln.c.traj", luaopen_kiln_c_traj},     {"kiln.c.units", luaopen_kiln_c_units},
    {"kiln.c.rng", luaopen_kiln_c_rng},       {"kiln.c.corr", luaopen_kiln_c_corr},
    {"kiln.c.qpoints", luaopen_kiln_c_qpoints}, {"kiln.c.phonons", luaopen_kiln_c_phonons},
    {"kiln.c.ml", luaopen_kiln_c_ml},         {"kiln.c.dipole", luaopen_kiln_c_dipole},
    {"kiln.c.wave", luaopen_kiln_c_wave},     {"kiln.c.pimd", luaopen_kiln_c_pimd},
    {"kiln.c.cv", luaopen_kiln_c_cv},         {"kiln.c.lattice", luaopen_kiln_c_lattice},
    {NULL, NULL}};

/* kiln.c.core.set_interrupted(true): what Ctrl-C does (test hook) */
static int l_set_interrupted(lua_State *L) {
  kiln_l_interrupted = lua_toboolean(L, 1) ? 1 : 0;
  return 0;
}

/* kiln.wtime(): wall-clock seconds (monotonic), for timing runs */
static int l_wtime(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
  return 1;
}

/* kiln.c.core: version, Lua version, wall clock, interrupt test hook */
static int luaopen_kiln_c_core(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, l_wtime);
  lua_setfield(L, -2, "wtime");
  lua_pushcfunction(L, l_set_interrupted);
  lua_setfield(L, -2, "set_interrupted");
  lua_pushliteral(L, KILN_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushliteral(L, LUA_RELEASE);
  lua_setfield(L, -2, "lua_version");
  return 1;
}

void kiln_l_openlibs(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const luaL_Reg *m = modules; m->func; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  lua_pushcfunction(L, luaopen_kiln_c_core);
  lua_setfield(L, -2, "kiln.c.core");
  lua_pop(L, 1);
}
