/* lua/l_io.c: kiln.io.read / kiln.io.write / kiln.io.guess_format.
 * read returns a list of kiln.Atoms for multi-frame formats (extxyz,
 * lammps-dump, h5md) and one kiln.Atoms for single-structure formats (vasp,
 * lammps-data) or when {index=i} is given (1-based, negative from the end).
 * A file that cannot be opened gives nil, msg; malformed content raises. */
#include <stdlib.h>
#include <string.h>
#include "lkiln.h"

/* Scratch holding frames from the core until they are boxed: its __gc frees
 * whatever was not moved into a box (so raising in between cannot leak). */
#define FRAMES_BOX "kiln.io.frames"
typedef struct frames_box {
  kiln_atoms **f;
  size_t n;
} frames_box;

static int frames_gc(lua_State *L) {
  frames_box *b = luaL_checkudata(L, 1, FRAMES_BOX);
  if (b->f) {
    for (size_t i = 0; i < b->n; i++) kiln_atoms_free(b->f[i]);
    free(b->f);
  }
  b->f = NULL;
  b->n = 0;
  return 0;
}

static frames_box *newframes(lua_State *L) {
  frames_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->f = NULL;
  b->n = 0;
  if (luaL_newmetatable(L, FRAMES_BOX)) {
    lua_pushcfunction(L, frames_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return b;
}

/* move frame i out of the scratch into a new kiln.Atoms on the stack */
static void pushframe(lua_State *L, frames_box *fb, size_t i) {
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_ATOMS, 1);
  b->p = fb->f[i];
  fb->f[i] = NULL;
}

static int single_format(const char *fmt) {
  return fmt && (!strcmp(fmt, "vasp") || !strcmp(fmt, "poscar") || !strcmp(fmt, "lammps-data"));
}

static int l_io_read(lua_State *L) {
  const char *file = luaL_checkstring(L, 1);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  const char *fmt = kiln_l_optstrfield(L, 2, "format", NULL);
  if (!fmt) fmt = kiln_io_guess_format(file);
  int has_index = 0;
  long index = 0;
  if (lua_istable(L, 2) && lua_getfield(L, 2, "index") != LUA_TNIL) {
    has_index = 1;
    index = kiln_l_optintfield(L, 2, "index", 0);
    if (index == 0) luaL_error(L, "kiln.io.read: index is 1-based (or negative from the end); got 0");
    lua_pop(L, 1);
  } else if (lua_istable(L, 2)) {
    lua_pop(L, 1);
  }
  kiln_opts *o = kiln_l_toopts(L, 2, (const char *const[]){"index", NULL});
  kiln_error err;
  if (has_index)
    kiln_l_check(L, kiln_opts_add_num(o, "index", (double)(index > 0 ? index - 1 : index), &err),
                 &err, "kiln.io.read");
  frames_box *fb = newframes(L);
  kiln_status st = kiln_io_read(file, NULL, o, &fb->f, &fb->n, &err);
  if (st != KILN_OK && has_index && index > 0) kiln_l_fix_index(&err, index - 1, index);
  if (st == KILN_EIO) {
    luaL_pushfail(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  kiln_l_check(L, st, &err, "kiln.io.read");
  if (has_index || single_format(fmt)) {
    if (fb->n != 1) luaL_error(L, "kiln.io.read: expected one structure from '%s', got %d", file,
                               (int)fb->n);
    pushframe(L, fb, 0);
    return 1;
  }
  lua_createtable(L, (int)fb->n, 0);
  for (size_t i = 0; i < fb->n; i++) {
    pushframe(L, fb, i);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* kiln.io.write(file, atoms_or_list, {format=, append=, ...}) */
static int l_io_write(lua_State *L) {
  const char *file = luaL_checkstring(L, 1);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  int append = kiln_l_optboolfield(L, 3, "append", 0);
  kiln_opts *o = kiln_l_toopts(L, 3, (const char *const[]){"append", NULL});
  kiln_atoms **fr;
  size_t n;
  if (kiln_l_testbox(L, 2, KILN_L_ATOMS)) {
    fr = lua_newuserdatauv(L, sizeof *fr, 0);
    fr[0] = kiln_l_checkatoms(L, 2);
    n = 1;
  } else {
    luaL_argexpected(L, lua_istable(L, 2), 2, "kiln.Atoms or list of kiln.Atoms");
    n = lua_rawlen(L, 2);
    if (n == 0 && append) return 0; /* appending nothing */
    luaL_argcheck(L, n > 0, 2, "empty list: no structure to write");
    fr = lua_newuserdatauv(L, (n ? n : 1) * sizeof *fr, 0);
    for (size_t i = 0; i < n; i++) {
      lua_rawgeti(L, 2, (lua_Integer)i + 1);
      if (!kiln_l_testbox(L, -1, KILN_L_ATOMS))
        luaL_argerror(L, 2, lua_pushfstring(L, "entry %d: kiln.Atoms expected, got %s", (int)i + 1,
                                            kiln_l_typename(L, -1)));
      fr[i] = kiln_l_checkatoms(L, -1);
      lua_pop(L, 1);
    }
  }
  kiln_error err;
  kiln_l_check(L, kiln_io_write(file, NULL, o, fr, n, append, &err), &err, "kiln.io.write");
  return 0;
}

static int l_io_guess_format(lua_State *L) {
  const char *f = kiln_io_guess_format(luaL_checkstring(L, 1));
  if (f) lua_pushstring(L, f);
  else luaL_pushfail(L);
  return 1;
}

static const luaL_Reg funcs[] = {{"read", l_io_read},
                                 {"write", l_io_write},
                                 {"guess_format", l_io_guess_format},
                                 {NULL, NULL}};

int luaopen_kiln_c_io(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
