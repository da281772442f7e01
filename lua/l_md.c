/* lua/l_md.c: kiln.Integrator, a box around kiln_md, and md:run.
 * md:run turns Lua values into C observers (see `makers` below), prints thermo
 * rows and a progress line (terminal only), polls kiln_l_interrupted, and
 * re-raises a Lua observer's error unchanged. uv1/uv2 remember the atoms and
 * potential of the last run (for md:checkpoint(file) without atoms). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lkiln.h"

static kiln_md *checkmd(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_MD)->p; }

static int l_md_new(lua_State *L) {
  const char *style = luaL_checkstring(L, 1);
  kiln_opts *o = kiln_l_toopts(L, 2, NULL);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_MD, 2);
  kiln_error err;
  char what[96];
  snprintf(what, sizeof what, "md %s", style);
  kiln_l_check(L, kiln_md_new((kiln_md **)&b->p, style, o, &err), &err, what);
  return 1;
}

static int l_md_styles(lua_State *L) {
  size_t n = kiln_md_nstyles();
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    const kiln_md_style *s = kiln_md_style_at(i);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, s->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, s->description ? s->description : "");
    lua_setfield(L, -2, "description");
    lua_pushstring(L, s->citation ? s->citation : "");
    lua_setfield(L, -2, "citation");
    lua_pushstring(L, s->options ? s->options : "");
    lua_setfield(L, -2, "options");
    lua_pushliteral(L, "md");
    lua_setfield(L, -2, "kind");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static void push_thermo(lua_State *L, const kiln_thermo *th) {
  lua_createtable(L, 0, 9);
  lua_pushinteger(L, th->step);
  lua_setfield(L, -2, "step");
#define F(name)                    \
  lua_pushnumber(L, th->name);     \
  lua_setfield(L, -2, #name);
  F(time) F(T) F(epot) F(ekin) F(etot) F(pressure) F(volume) F(conserved)
#undef F
  /* cell lengths (Å) and angles (degrees), as lists of 3 */
  const double *arr[2] = {th->lengths, th->angles};
  const char *nm[2] = {"lengths", "angles"};
  for (int k = 0; k < 2; k++) {
    lua_createtable(L, 3, 0);
    for (int i = 0; i < 3; i++) {
      lua_pushnumber(L, arr[k][i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, nm[k]);
  }
}

/* ---- run state, progress, thermo printing ---- */

typedef struct runstate {
  kiln_l_runctx ctx;   /* first: makers see this part */
  kiln_l_progress pr;  /* progress line, Ctrl-C */
  int header;          /* thermo header printed */
} runstate;

static kiln_status thermo_obs(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                              kiln_error *err) {
  runstate *rs = ud;
  char row[256];
  kiln_l_progress_clear(&rs->pr);
  if (!rs->header) {
    kiln_thermo_header(row, sizeof row);
    fprintf(stdout, "%s\n", row);
    rs->header = 1;
  }
  kiln_thermo_row(th, row, sizeof row);
  fprintf(stdout, "%s\n", row);
  fflush(stdout);
  return KILN_OK;
}

/* ---- observers: Lua functions ---- */

typedef struct luaobs {
  kiln_l_runctx *ctx;
  int fn;  /* stack index of the function */
} luaobs;

/* called under lua_pcall: fn, step, atoms, thermo (light userdata) */
static int call_obs(lua_State *L) {
  const kiln_thermo *th = lua_touserdata(L, 4);
  lua_settop(L, 3);
  push_thermo(L, th);
  lua_call(L, 3, 0);
  return 0;
}

static kiln_status luaobs_fn(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                             kiln_error *err) {
  luaobs *o = ud;
  lua_State *L = o->ctx->L;
  /* none of these pushes allocates, and the stack was grown in advance */
  lua_pushcfunction(L, call_obs);
  lua_pushvalue(L, o->fn);
  lua_pushinteger(L, step);
  lua_pushvalue(L, o->ctx->atoms_idx);
  lua_pushlightuserdata(L, (void *)th);
  if (lua_pcall(L, 4, 0, 0) != LUA_OK) {
    lua_replace(L, o->ctx->errslot);
    o->ctx->lua_failed = 1;
    return KILN_FAIL(err, KILN_EEXTERNAL, "Lua observer failed at step %ld", step);
  }
  return KILN_OK;
}

static int lua_function_observer(lua_State *L, int idx, kiln_l_runctx *ctx, kiln_observer *o,
                                 kiln_l_box **busy) {
  if (!lua_isfunction(L, idx)) return 0;
  luaobs *lo = lua_newuserdatauv(L, sizeof *lo, 0);
  lo->ctx = ctx;
  lo->fn = lua_absindex(L, idx);
  o->fn = luaobs_fn;
  o->ud = lo;
  return 1;
}

/* Things that can observe an MD run. Add a kind: write a maker, list it here. */
static const kiln_l_observer_maker makers[] = {
    lua_function_observer,
    kiln_l_traj_observer,
    kiln_l_corr_observer,
    kiln_l_dipole_observer,
    kiln_l_frozen_observer,
    NULL,
};

/* ---- md:run ---- */

static const char *const run_keys[] = {"every", "observe", "thermo", "progress",
                                       "checkpoint", "skin", NULL};

static void setbusy(kiln_l_box **boxes, size_t n, int d) {
  for (size_t k = 0; k < n; k++)
    if (boxes[k]) boxes[k]->busy += d;
}

static void checkpoint_opts(lua_State *L, int opts, kiln_md_run_opts *ro) {
  if (lua_isnoneornil(L, opts)) return;
  int t = lua_getfield(L, opts, "checkpoint");
  if (t == LUA_TSTRING) {
    ro->checkpoint = lua_tostring(L, -1); /* anchored by opts */
  } else if (t == LUA_TTABLE) {
    int c = lua_gettop(L);
    kiln_l_checkkeys(L, c, "md:run checkpoint", (const char *const[]){"file", "every", "resume", NULL});
    ro->checkpoint = kiln_l_optstrfield(L, c, "file", NULL);
    if (!ro->checkpoint) luaL_error(L, "md:run: checkpoint table needs a 'file'");
    ro->checkpoint_every = kiln_l_optintfield(L, c, "every", 0);
    ro->resume = kiln_l_optboolfield(L, c, "resume", 0);
  } else if (t != LUA_TNIL) {
    luaL_error(L, "md:run: option 'checkpoint': file name or table expected, got %s",
               kiln_l_typename(L, -1));
  }
  lua_pop(L, 1);
}

/* Push the observe option as a list (or nil): a single function, object or
 * {fn=, every=} is wrapped in a list. */
static void push_observe_list(lua_State *L, int opts) {
  if (lua_istable(L, opts)) lua_getfield(L, opts, "observe");
  else lua_pushnil(L);
  int single = !lua_isnil(L, -1) && !lua_istable(L, -1);
  if (lua_istable(L, -1)) {
    single = lua_getfield(L, -1, "fn") != LUA_TNIL;
    lua_pop(L, 1);
  }
  if (single) {
    lua_createtable(L, 1, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
  }
}

/* Turn the entries of list `obs` into C observers ov[] (and the boxes they
 * borrow into busy[]); returns their number. Values stay on the stack. */
static size_t make_observers(lua_State *L, int obs, runstate *rs, long every, kiln_observer *ov,
                             kiln_l_box **busy) {
  size_t nobs = 0, nlist = lua_istable(L, obs) ? lua_rawlen(L, obs) : 0;
  for (size_t k = 0; k < nlist; k++) {
    luaL_checkstack(L, 8, "md:run observers");
    lua_rawgeti(L, obs, (lua_Integer)k + 1);
    int v = lua_gettop(L);
    long ev = every;
    if (lua_istable(L, v)) { /* {obj, every=N} or {fn=obj, every=N} */
      lua_pushnil(L); /* keys: fn, every, or the object at [1] */
      while (lua_next(L, v)) {
        lua_pop(L, 1);
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) == 1) continue;
        if (lua_type(L, -1) != LUA_TSTRING || (strcmp(lua_tostring(L, -1), "fn") &&
                                                strcmp(lua_tostring(L, -1), "every")))
          luaL_error(L, "md:run: observer %d: unknown key '%s' (use {obj, every=N} or "
                     "{fn=obj, every=N})", (int)k + 1, luaL_tolstring(L, -1, NULL));
      }
      ev = kiln_l_optintfield(L, v, "every", every);
      if (ev < 1)
        luaL_error(L, "md:run: observer %d: every must be >= 1 (got %d)", (int)k + 1, (int)ev);
      if (lua_getfield(L, v, "fn") == LUA_TNIL) {
        lua_pop(L, 1);
        lua_rawgeti(L, v, 1);
      }
      v = lua_gettop(L);
    }
    int made = 0;
    for (int m = 0; makers[m] && !made; m++)
      made = makers[m](L, v, &rs->ctx, &ov[nobs], &busy[nobs]);
    if (!made)
      luaL_error(L, "md:run: observer %d: function or kiln.Trajectory expected, got %s",
                 (int)k + 1, kiln_l_typename(L, v));
    ov[nobs++].every = ev;
  }
  return nobs;
}

/* md:run(atoms, pot, nsteps[, opts]) -> thermo table */
static int l_md_run(lua_State *L) {
  kiln_l_box *mb = kiln_l_checkbox(L, 1, KILN_L_MD);
  kiln_l_box *ab = kiln_l_checkbox(L, 2, KILN_L_ATOMS);
  kiln_l_box *pb = kiln_l_checkbox(L, 3, KILN_L_POT);
  lua_Integer nsteps = luaL_checkinteger(L, 4);
  luaL_argcheck(L, nsteps >= 0, 4, "non-negative number of steps expected");
  if (!lua_isnoneornil(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
  lua_settop(L, 5);
  if (mb->busy) return luaL_error(L, "md:run: this integrator is already running");
  kiln_l_checkkeys(L, 5, "md:run", run_keys);

  kiln_md_run_opts ro;
  memset(&ro, 0, sizeof ro);
  long every = kiln_l_optintfield(L, 5, "every", 1);
  if (every < 1) luaL_error(L, "md:run: every must be >= 1 (got %d)", (int)every);
  long thermo = kiln_l_optintfield(L, 5, "thermo", nsteps >= 10 ? (long)((nsteps + 9) / 10) : 1);
  if (thermo < 0) luaL_error(L, "md:run: thermo must be >= 0 steps (got %d)", (int)thermo);
  int progress = kiln_l_optboolfield(L, 5, "progress", 1);
  ro.skin = kiln_l_optnumfield(L, 5, "skin", 0.0);
  checkpoint_opts(L, 5, &ro);

  lua_pushnil(L); /* 6: error slot */
  runstate *rs = lua_newuserdatauv(L, sizeof *rs, 0); /* 7 */
  memset(rs, 0, sizeof *rs);
  rs->ctx = (kiln_l_runctx){.L = L, .atoms_idx = 2, .errslot = 6, .lua_failed = 0};
  kiln_l_progress_init(&rs->pr, "step", progress);

  push_observe_list(L, 5); /* 8 */
  size_t cap = (lua_istable(L, 8) ? lua_rawlen(L, 8) : 0) + 1; /* + thermo printer */
  kiln_observer *ov = lua_newuserdatauv(L, cap * sizeof *ov, 0);
  memset(ov, 0, cap * sizeof *ov);
  kiln_l_box **busy = lua_newuserdatauv(L, (cap + 3) * sizeof *busy, 0);
  memset(busy, 0, (cap + 3) * sizeof *busy);
  size_t nobs = make_observers(L, 8, rs, every, ov, busy);
  if (thermo > 0 && nsteps > 0) {
    ov[nobs++] = (kiln_observer){.fn = thermo_obs, .ud = rs, .every = thermo, .at_start = 1};
  }
  ro.obs = ov;
  ro.nobs = nobs;
  ro.progress = kiln_l_progress_cb;
  ro.progress_ud = &rs->pr;
  luaL_checkstack(L, 16, "md:run"); /* room for the Lua observers' calls */

  /* remember atoms and potential for md:checkpoint(file) */
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, 1, 1);
  lua_pushvalue(L, 3);
  lua_setiuservalue(L, 1, 2);

  busy[cap] = mb;
  busy[cap + 1] = ab;
  busy[cap + 2] = pb;
  setbusy(busy, cap + 3, +1);
  kiln_error err;
  kiln_error_clear(&err);
  kiln_status st = kiln_md_run(mb->p, ab->p, pb->p, (long)nsteps, &ro, &err);
  setbusy(busy, cap + 3, -1);
  kiln_l_progress_clear(&rs->pr);

  if (rs->ctx.lua_failed) { /* re-raise the observer's error value unchanged */
    lua_pushvalue(L, 6);
    return lua_error(L);
  }
  if (st == KILN_EINTR && rs->pr.interrupted)
    return luaL_error(L, "interrupted! (after step %d of %d)", (int)rs->pr.done,
                      (int)rs->pr.total);
  kiln_l_check(L, st, &err, "md:run");
  kiln_thermo th;
  kiln_md_get_thermo(mb->p, &th);
  push_thermo(L, &th);
  return 1;
}

/* ---- other methods ---- */

static int l_md_thermo(lua_State *L) {
  kiln_thermo th;
  kiln_md_get_thermo(checkmd(L, 1), &th);
  push_thermo(L, &th);
  return 1;
}

/* md:checkpoint(file[, atoms]) (default: the atoms of the last run) */
static int l_md_checkpoint(lua_State *L) {
  kiln_md *md = checkmd(L, 1);
  const char *file = luaL_checkstring(L, 2);
  if (lua_isnoneornil(L, 3)) {
    lua_settop(L, 2);
    if (lua_getiuservalue(L, 1, 1) == LUA_TNIL)
      return luaL_error(L, "md:checkpoint: no atoms given and no previous run");
  }
  kiln_atoms *a = kiln_l_checkatoms(L, 3);
  kiln_error err;
  kiln_l_check(L, kiln_md_checkpoint_write(md, a, file, &err), &err, "md:checkpoint");
  return 0;
}

/* md:restore(file, atoms): replaces the atoms' contents and the integrator state */
static int l_md_restore(lua_State *L) {
  kiln_l_box *mb = kiln_l_checkbox(L, 1, KILN_L_MD);
  const char *file = luaL_checkstring(L, 2);
  kiln_l_box *ab = kiln_l_checkbox(L, 3, KILN_L_ATOMS);
  kiln_l_checknotbusy(L, mb, KILN_L_MD, "restore");
  kiln_l_checknotbusy(L, ab, KILN_L_ATOMS, "restore into");
  kiln_error err;
  kiln_l_check(L, kiln_md_checkpoint_read(mb->p, ab->p, file, &err), &err, "md:restore");
  lua_pushvalue(L, 3);
  lua_setiuservalue(L, 1, 1);
  lua_settop(L, 3);
  return 1;
}

static int l_md_close(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_MD);
  kiln_l_checknotbusy(L, b, KILN_L_MD, "close");
  kiln_md_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_md_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_MD);
  if (b->busy) return 0;
  kiln_md_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_md_index(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_MD);
  const char *k = lua_tostring(L, 2);
  kiln_md *md = b->p;
  if (k && md) {
    if (!strcmp(k, "step")) { lua_pushinteger(L, md->step); return 1; }
    if (!strcmp(k, "time")) { lua_pushnumber(L, md->time); return 1; }
    if (!strcmp(k, "dt")) { lua_pushnumber(L, md->dt); return 1; }
    if (!strcmp(k, "T")) { lua_pushnumber(L, md->T); return 1; }
    if (!strcmp(k, "seed")) { lua_pushinteger(L, (lua_Integer)md->seed); return 1; }
    if (!strcmp(k, "style")) { lua_pushstring(L, md->style->name); return 1; }
  }
  if (k && !md &&
      (!strcmp(k, "step") || !strcmp(k, "time") || !strcmp(k, "dt") || !strcmp(k, "T") ||
       !strcmp(k, "seed") || !strcmp(k, "style")))
    luaL_error(L, "attempt to use a closed %s (field '%s')", KILN_L_MD, k);
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int l_md_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_MD);
  kiln_md *md = b->p;
  if (!md) {
    lua_pushfstring(L, "%s (closed)", KILN_L_MD);
    return 1;
  }
  char buf[200];
  snprintf(buf, sizeof buf, "%s(%s, dt=%g fs, T=%g K, step=%ld, time=%g fs)", KILN_L_MD,
           md->style->name, md->dt, md->T, md->step, md->time);
  lua_pushstring(L, buf);
  return 1;
}

static const luaL_Reg md_methods[] = {{"run", l_md_run},
                                      {"thermo", l_md_thermo},
                                      {"checkpoint", l_md_checkpoint},
                                      {"restore", l_md_restore},
                                      {"close", l_md_close},
                                      {NULL, NULL}};

static const luaL_Reg md_meta[] = {{"__gc", l_md_gc},
                                   {"__close", l_md_gc},
                                   {"__tostring", l_md_tostring},
                                   {NULL, NULL}};

static const luaL_Reg md_funcs[] = {{"new", l_md_new}, {"styles", l_md_styles}, {NULL, NULL}};

int luaopen_kiln_c_md(lua_State *L) {
  kiln_l_newclass(L, KILN_L_MD, md_meta, md_methods);
  kiln_l_setindex(L, KILN_L_MD, l_md_index);
  luaL_newlib(L, md_funcs);
  kiln_l_exportclass(L, KILN_L_MD);
  return 1;
}
