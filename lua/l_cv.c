/* lua/l_cv.c: placeholder (being written). */
#include "lkiln.h"
int luaopen_kiln_c_cv(lua_State *L) {
  lua_newtable(L);
  return 1;
}
