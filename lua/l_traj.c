/* lua/l_traj.c: kiln.Trajectory, an H5MD trajectory file (kiln_traj).
 * kiln.io.trajectory(file, mode) with mode "r", "w" or "a"; traj:append(a,
 * {step=, time=}); traj:read(i) (1-based, negative from the end); #traj;
 * traj:close(); supports <close>. A trajectory in md:run's observe list
 * appends positions, velocities and forces with the step and time. */
#include <stdio.h>
#include <string.h>
#include "lkiln.h"

kiln_traj *kiln_l_checktraj(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_TRAJ)->p; }

/* uv1: file name, uv2: mode */
static int l_traj_open(lua_State *L) {
  const char *file = luaL_checkstring(L, 1);
  const char *mode = luaL_optstring(L, 2, "r");
  if (strcmp(mode, "r") && strcmp(mode, "w") && strcmp(mode, "a"))
    luaL_argerror(L, 2, lua_pushfstring(L, "mode must be \"r\", \"w\" or \"a\", got '%s'", mode));
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_TRAJ, 2);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lua_pushstring(L, mode);
  lua_setiuservalue(L, -2, 2);
  kiln_error err;
  kiln_status st = kiln_traj_open((kiln_traj **)&b->p, file, mode, &err);
  if (st == KILN_EIO) {
    luaL_pushfail(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  kiln_l_check(L, st, &err, "kiln.io.trajectory");
  return 1;
}

static size_t nframes(lua_State *L, kiln_traj *t) {
  size_t n = 0;
  kiln_error err;
  kiln_l_check(L, kiln_traj_nframes(t, &n, &err), &err, "kiln.Trajectory");
  return n;
}

static int l_traj_append(lua_State *L) {
  kiln_traj *t = kiln_l_checktraj(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  kiln_l_checkkeys(L, 3, "traj:append",
                   (const char *const[]){"step", "time", "velocities", "forces", NULL});
  long step = kiln_l_optintfield(L, 3, "step", -1);
  if (step < 0) step = (long)nframes(L, t);
  double time = kiln_l_optnumfield(L, 3, "time", 0.0);
  unsigned what = KILN_TRAJ_POS;
  if (kiln_l_optboolfield(L, 3, "velocities", 1)) what |= KILN_TRAJ_VEL;
  if (kiln_l_optboolfield(L, 3, "forces", 1)) what |= KILN_TRAJ_FORCE;
  kiln_error err;
  kiln_l_check(L, kiln_traj_append(t, a, step, time, what, &err), &err, "traj:append");
  lua_settop(L, 1);
  return 1;
}

/* traj:read(i) -> atoms, step, time */
static int l_traj_read(lua_State *L) {
  kiln_traj *t = kiln_l_checktraj(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  luaL_argcheck(L, i != 0, 2, "frame index is 1-based (or negative from the end)");
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_ATOMS, 1);
  long step = 0;
  double time = 0;
  kiln_error err;
  kiln_status st = kiln_traj_read(t, (long)(i > 0 ? i - 1 : i), (kiln_atoms **)&b->p, &step,
                                  &time, &err);
  if (st != KILN_OK && i > 0) kiln_l_fix_index(&err, (long)i - 1, (long)i);
  kiln_l_check(L, st, &err, "traj:read");
  lua_pushinteger(L, step);
  lua_pushnumber(L, time);
  return 3;
}

static int l_traj_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)nframes(L, kiln_l_checktraj(L, 1)));
  return 1;
}

static int l_traj_close(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_TRAJ);
  kiln_l_checknotbusy(L, b, KILN_L_TRAJ, "close");
  kiln_traj *t = b->p;
  b->p = NULL;
  kiln_error err;
  kiln_l_check(L, kiln_traj_close(t, &err), &err, "traj:close");
  return 0;
}

static int l_traj_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_TRAJ);
  if (b->busy) return 0;
  kiln_traj *t = b->p;
  b->p = NULL;
  kiln_traj_close(t, NULL); /* errors cannot be reported from __gc */
  return 0;
}

static int l_traj_isopen(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_TRAJ);
  lua_pushboolean(L, b->p != NULL);
  return 1;
}

static int l_traj_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_TRAJ);
  lua_getiuservalue(L, 1, 1);
  lua_getiuservalue(L, 1, 2);
  const char *file = lua_tostring(L, -2), *mode = lua_tostring(L, -1);
  if (!b->p) {
    lua_pushfstring(L, "%s('%s', closed)", KILN_L_TRAJ, file ? file : "?");
    return 1;
  }
  size_t n = 0;
  kiln_status st = kiln_traj_nframes(b->p, &n, NULL);
  if (st == KILN_OK)
    lua_pushfstring(L, "%s('%s', mode=%s, frames=%d)", KILN_L_TRAJ, file, mode, (int)n);
  else
    lua_pushfstring(L, "%s('%s', mode=%s)", KILN_L_TRAJ, file, mode);
  return 1;
}

/* ---- as an md:run observer ---- */

static kiln_status traj_obs(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                            kiln_error *err) {
  kiln_l_box *b = ud;
  return kiln_traj_append(b->p, a, step, th->time, KILN_TRAJ_POS | KILN_TRAJ_VEL | KILN_TRAJ_FORCE,
                          err);
}

int kiln_l_traj_observer(lua_State *L, int idx, kiln_l_runctx *ctx, kiln_observer *o,
                         kiln_l_box **busy) {
  kiln_l_box *b = kiln_l_testbox(L, idx, KILN_L_TRAJ);
  if (!b) return 0;
  if (!b->p) luaL_error(L, "md:run: attempt to use a closed %s as an observer", KILN_L_TRAJ);
  o->fn = traj_obs;
  o->ud = b;
  *busy = b;
  return 1;
}

static const luaL_Reg traj_methods[] = {{"append", l_traj_append},
                                        {"read", l_traj_read},
                                        {"nframes", l_traj_len},
                                        {"close", l_traj_close},
                                        {"isopen", l_traj_isopen},
                                        {NULL, NULL}};

static const luaL_Reg traj_meta[] = {{"__len", l_traj_len},
                                     {"__gc", l_traj_gc},
                                     {"__close", l_traj_gc},
                                     {"__tostring", l_traj_tostring},
                                     {NULL, NULL}};

static const luaL_Reg traj_funcs[] = {{"open", l_traj_open}, {NULL, NULL}};

int luaopen_kiln_c_traj(lua_State *L) {
  kiln_l_newclass(L, KILN_L_TRAJ, traj_meta, traj_methods);
  luaL_newlib(L, traj_funcs);
  kiln_l_exportclass(L, KILN_L_TRAJ);
  return 1;
}
