/* lua/l_lattice.c: placeholder (being written). */
#include "lkiln.h"
int luaopen_kiln_c_lattice(lua_State *L) {
  lua_newtable(L);
  return 1;
}
