/* lua/l_pimd.c: placeholder (being written). */
#include "lkiln.h"
int luaopen_kiln_c_pimd(lua_State *L) {
  lua_newtable(L);
  return 1;
}
