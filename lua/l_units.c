/* lua/l_units.c: kiln.units — unit conversion and the internal constants.
 * Internal units: Å, eV, amu, fs, K, e. */
#include "lkiln.h"

/* convert(value, from, to) -> number; raises for an unknown pair */
static int l_units_convert(lua_State *L) {
  double v = luaL_checknumber(L, 1);
  const char *from = luaL_checkstring(L, 2), *to = luaL_checkstring(L, 3);
  double out;
  if (kiln_units_convert(v, from, to, &out) != 0)
    return luaL_error(L, "kiln.units.convert: cannot convert '%s' to '%s' (unknown unit or "
                         "different dimensions)", from, to);
  lua_pushnumber(L, out);
  return 1;
}

static const luaL_Reg funcs[] = {{"convert", l_units_convert}, {NULL, NULL}};

int luaopen_kiln_c_units(lua_State *L) {
  luaL_newlib(L, funcs);
  static const struct { const char *name; double v; } k[] = {
      {"kB", KILN_KB},                     /* eV/K */
      {"mvv2e", KILN_MVV2E},               /* eV per amu Å^2/fs^2 */
      {"eV_A3_to_GPa", KILN_EV_PER_A3_TO_GPA},
      {"hbar", KILN_HBAR},                 /* eV fs */
      {"THz_to_radfs", KILN_THZ_TO_RADFS}, /* rad/fs per THz */
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    lua_pushnumber(L, k[i].v);
    lua_setfield(L, -2, k[i].name);
  }
  return 1;
}
