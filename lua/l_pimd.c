/* lua/l_pimd.c: kiln.PIMD, a box around kiln_pimd (include/kiln/pimd.h); module kiln.c.pimd.
 *   new(opts) -> kiln.PIMD
 *   pm:_run(atoms, pot, nsteps, opts, scratch) -> thermo table (kiln.md.pimd's :run wraps it;
 *       scratch is a copy of the atoms that Lua bead observers receive, refilled per bead)
 *   pm:thermo()  pm:bead(j) -> a new kiln.Atoms (copy of bead j, 1-based)
 *   pm:checkpoint(file)  pm:close()   fields: beads dt T tau seed step time thermostat, and
 *   with a barostat: barostat mode tau_p compressibility P (GPa, isotropic target)
 * Observers: a function(step, atoms, thermo[, bead]), a kiln.Trajectory or another md:run
 * observer object, or {obj, every=N, beads=true}. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kiln/pimd.h"
#include "lkiln.h"

#define KILN_L_PIMD "kiln.PIMD"

static kiln_pimd *checkpm(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_PIMD)->p; }

static int l_new(lua_State *L) {
  kiln_opts *o = kiln_l_toopts(L, 1, NULL);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_PIMD, 2);
  kiln_error err;
  kiln_l_check(L, kiln_pimd_new((kiln_pimd **)&b->p, o, &err), &err, "kiln.md.pimd");
  return 1;
}

static void push_thermo(lua_State *L, const kiln_pimd_thermo *t) {
  const kiln_thermo *th = &t->th;
  lua_createtable(L, 0, 16);
  lua_pushinteger(L, th->step);
  lua_setfield(L, -2, "step");
#define F(name)                \
  lua_pushnumber(L, th->name); \
  lua_setfield(L, -2, #name);
  F(time) F(T) F(epot) F(ekin) F(etot) F(pressure) F(volume) F(conserved)
#undef F
#define G(name)               \
  lua_pushnumber(L, t->name); \
  lua_setfield(L, -2, #name);
  G(ekin_prim) G(ekin_cv) G(espring) G(ekin_beads) G(rg)
#undef G
  lua_pushnumber(L, th->epot + t->ekin_prim);
  lua_setfield(L, -2, "etot_prim");
  lua_pushinteger(L, t->beads);
  lua_setfield(L, -2, "beads");
  lua_createtable(L, 3, 0);
  for (int k = 0; k < 3; k++) {
    lua_pushnumber(L, th->lengths[k]);
    lua_rawseti(L, -2, k + 1);
  }
  lua_setfield(L, -2, "lengths");
  lua_createtable(L, 3, 0);
  for (int k = 0; k < 3; k++) {
    lua_pushnumber(L, th->angles[k]);
    lua_rawseti(L, -2, k + 1);
  }
  lua_setfield(L, -2, "angles");
}

typedef struct runstate {
  kiln_l_runctx ctx;
  kiln_pimd *pm;
  int scratch_idx;
  kiln_l_progress pr;  /* progress line, Ctrl-C */
  int header;
} runstate;

static kiln_status thermo_obs(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                              kiln_error *err) {
  runstate *rs = ud;
  (void)step; (void)a; (void)err;
  kiln_pimd_thermo t;
  kiln_pimd_get_thermo(rs->pm, &t);
  kiln_l_progress_clear(&rs->pr);
  if (!rs->header) {
    fprintf(stdout, "%10s %11s %10s %14s %14s %14s %14s %11s %9s %12s\n", "Step", "Time(ps)",
            "Temp(K)", "PotEng(eV)", "KinCV(eV)", "KinPrim(eV)", "TotEng(eV)", "Press(GPa)",
            "Rg(A)", "Volume(A3)");
    rs->header = 1;
  }
  fprintf(stdout, "%10ld %11.5f %10.3f %14.6f %14.6f %14.6f %14.6f %11.5f %9.5f %12.4f\n",
          th->step, th->time * 1e-3, th->T, th->epot, t.ekin_cv, t.ekin_prim, th->etot,
          th->pressure, t.rg, th->volume);
  fflush(stdout);
  return KILN_OK;
}

typedef struct luaobs {
  runstate *rs;
  int fn;
} luaobs;

static int call_obs(lua_State *L) {
  const kiln_pimd *pm = lua_touserdata(L, 4);
  lua_settop(L, 3);
  kiln_pimd_thermo t;
  kiln_pimd_get_thermo(pm, &t);
  push_thermo(L, &t);
  int j = kiln_pimd_current_bead(pm);
  if (j >= 0) lua_pushinteger(L, j + 1);
  lua_call(L, j >= 0 ? 4 : 3, 0);
  return 0;
}

static kiln_status luaobs_fn(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                             kiln_error *err) {
  (void)th;
  luaobs *o = ud;
  runstate *rs = o->rs;
  lua_State *L = rs->ctx.L;
  int aidx = rs->ctx.atoms_idx;
  if (kiln_pimd_current_bead(rs->pm) >= 0) {
    /* a bead: copy it into the scratch atoms the Lua function receives */
    kiln_atoms *s = *(kiln_atoms **)lua_touserdata(L, rs->scratch_idx);
    if (s->n != a->n)
      return KILN_FAIL(err, KILN_EINVAL, "pimd run: bead observer scratch has %zu atoms, not %zu",
                       s->n, a->n);
    memcpy(s->x, a->x, a->n * sizeof *a->x);
    memcpy(s->v, a->v, a->n * sizeof *a->v);
    memcpy(s->f, a->f, a->n * sizeof *a->f);
    aidx = rs->scratch_idx;
  }
  lua_pushcfunction(L, call_obs);
  lua_pushvalue(L, o->fn);
  lua_pushinteger(L, step);
  lua_pushvalue(L, aidx);
  lua_pushlightuserdata(L, rs->pm);
  if (lua_pcall(L, 4, 0, 0) != LUA_OK) {
    lua_replace(L, rs->ctx.errslot);
    rs->ctx.lua_failed = 1;
    return KILN_FAIL(err, KILN_EEXTERNAL, "Lua observer failed at step %ld", step);
  }
  return KILN_OK;
}

static const kiln_l_observer_maker makers[] = {
    kiln_l_traj_observer, kiln_l_corr_observer, kiln_l_dipole_observer, kiln_l_frozen_observer,
    NULL,
};

static const char *const run_keys[] = {"every", "observe", "thermo", "progress", "checkpoint",
                                       "skin", NULL};

/* pm:_run(atoms, pot, nsteps, opts, scratch) */
static int l_run(lua_State *L) {
  kiln_l_box *mb = kiln_l_checkbox(L, 1, KILN_L_PIMD);
  kiln_l_box *ab = kiln_l_checkbox(L, 2, KILN_L_ATOMS);
  kiln_l_box *pb = kiln_l_checkbox(L, 3, KILN_L_POT);
  lua_Integer nsteps = luaL_checkinteger(L, 4);
  luaL_argcheck(L, nsteps >= 0, 4, "non-negative number of steps expected");
  if (!lua_isnoneornil(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
  kiln_l_checkbox(L, 6, KILN_L_ATOMS);
  lua_settop(L, 6);
  if (mb->busy) return luaL_error(L, "pimd:run: this integrator is already running");
  kiln_l_checkkeys(L, 5, "pimd:run", run_keys);
  kiln_pimd_run_opts ro;
  memset(&ro, 0, sizeof ro);
  long every = kiln_l_optintfield(L, 5, "every", 1);
  if (every < 1) luaL_error(L, "pimd:run: every must be >= 1 (got %d)", (int)every);
  long thermo = kiln_l_optintfield(L, 5, "thermo", nsteps >= 10 ? (long)((nsteps + 9) / 10) : 1);
  int progress = kiln_l_optboolfield(L, 5, "progress", 1);
  ro.md.skin = kiln_l_optnumfield(L, 5, "skin", 0.0);
  if (!lua_isnil(L, 5)) {
    int t = lua_getfield(L, 5, "checkpoint");
    if (t == LUA_TSTRING) {
      ro.md.checkpoint = lua_tostring(L, -1);
    } else if (t == LUA_TTABLE) {
      int c = lua_gettop(L);
      kiln_l_checkkeys(L, c, "pimd:run checkpoint",
                       (const char *const[]){"file", "every", "resume", NULL});
      ro.md.checkpoint = kiln_l_optstrfield(L, c, "file", NULL);
      if (!ro.md.checkpoint) luaL_error(L, "pimd:run: checkpoint table needs a 'file'");
      ro.md.checkpoint_every = kiln_l_optintfield(L, c, "every", 0);
      ro.md.resume = kiln_l_optboolfield(L, c, "resume", 0);
    } else if (t != LUA_TNIL) {
      luaL_error(L, "pimd:run: option 'checkpoint': file name or table expected");
    }
    /* the value stays at slot 7, anchoring the file name */
  } else {
    lua_pushnil(L);
  }
  /* 7: checkpoint anchor, 8: error slot, 9: runstate, 10: observe list */
  lua_pushnil(L);
  runstate *rs = lua_newuserdatauv(L, sizeof *rs, 0);
  memset(rs, 0, sizeof *rs);
  rs->ctx = (kiln_l_runctx){.L = L, .atoms_idx = 2, .errslot = 8};
  rs->pm = mb->p;
  rs->scratch_idx = 6;
  kiln_l_progress_init(&rs->pr, "step", progress);
  if (lua_istable(L, 5)) lua_getfield(L, 5, "observe");
  else lua_pushnil(L);
  {
    int single = !lua_isnil(L, -1) && !lua_istable(L, -1);
    if (lua_istable(L, -1)) {
      single = lua_getfield(L, -1, "fn") != LUA_TNIL;
      single |= lua_getfield(L, -2, "beads") != LUA_TNIL;
      single |= lua_getfield(L, -3, "every") != LUA_TNIL;
      lua_pop(L, 3);
    }
    if (single) {
      lua_createtable(L, 1, 0);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 1);
    }
  }
  const int obs = 10;
  size_t nlist = lua_istable(L, obs) ? lua_rawlen(L, obs) : 0, cap = nlist + 1;
  kiln_observer *ov = lua_newuserdatauv(L, cap * sizeof *ov, 0);
  int *beads = lua_newuserdatauv(L, cap * sizeof *beads, 0);
  kiln_l_box **busy = lua_newuserdatauv(L, (cap + 3) * sizeof *busy, 0);
  memset(ov, 0, cap * sizeof *ov);
  memset(beads, 0, cap * sizeof *beads);
  memset(busy, 0, (cap + 3) * sizeof *busy);
  size_t nobs = 0;
  for (size_t k = 0; k < nlist; k++) {
    luaL_checkstack(L, 8, "pimd:run observers");
    lua_rawgeti(L, obs, (lua_Integer)k + 1);
    int v = lua_gettop(L);
    long ev = every;
    int wb = 0;
    if (lua_istable(L, v)) {
      lua_pushnil(L);
      while (lua_next(L, v)) {
        lua_pop(L, 1);
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) == 1) continue;
        if (lua_type(L, -1) != LUA_TSTRING ||
            (strcmp(lua_tostring(L, -1), "fn") && strcmp(lua_tostring(L, -1), "every") &&
             strcmp(lua_tostring(L, -1), "beads")))
          luaL_error(L, "pimd:run: observer %d: unknown key '%s' (use {obj, every=N, beads=true})",
                     (int)k + 1, luaL_tolstring(L, -1, NULL));
      }
      ev = kiln_l_optintfield(L, v, "every", every);
      wb = kiln_l_optboolfield(L, v, "beads", 0);
      if (ev < 1) luaL_error(L, "pimd:run: observer %d: every must be >= 1", (int)k + 1);
      if (lua_getfield(L, v, "fn") == LUA_TNIL) {
        lua_pop(L, 1);
        lua_rawgeti(L, v, 1);
      }
      v = lua_gettop(L);
    }
    int made = 0;
    if (lua_isfunction(L, v)) {
      luaobs *lo = lua_newuserdatauv(L, sizeof *lo, 0);
      lo->rs = rs;
      lo->fn = v;
      ov[nobs].fn = luaobs_fn;
      ov[nobs].ud = lo;
      made = 1;
    }
    for (int m = 0; makers[m] && !made; m++)
      made = makers[m](L, v, &rs->ctx, &ov[nobs], &busy[nobs]);
    if (!made)
      luaL_error(L, "pimd:run: observer %d: function or kiln.Trajectory expected, got %s",
                 (int)k + 1, kiln_l_typename(L, v));
    ov[nobs].every = ev;
    beads[nobs++] = wb;
  }
  if (thermo > 0 && nsteps > 0)
    ov[nobs++] = (kiln_observer){.fn = thermo_obs, .ud = rs, .every = thermo, .at_start = 1};
  ro.md.obs = ov;
  ro.md.nobs = nobs;
  ro.obs_beads = beads;
  ro.md.progress = kiln_l_progress_cb;
  ro.md.progress_ud = &rs->pr;
  luaL_checkstack(L, 16, "pimd:run");
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, 1, 1);
  lua_pushvalue(L, 3);
  lua_setiuservalue(L, 1, 2);
  busy[cap] = mb;
  busy[cap + 1] = ab;
  busy[cap + 2] = pb;
  for (size_t k = 0; k < cap + 3; k++)
    if (busy[k]) busy[k]->busy++;
  kiln_error err;
  kiln_error_clear(&err);
  kiln_status st = kiln_pimd_run(mb->p, ab->p, pb->p, (long)nsteps, &ro, &err);
  for (size_t k = 0; k < cap + 3; k++)
    if (busy[k]) busy[k]->busy--;
  kiln_l_progress_clear(&rs->pr);
  if (rs->ctx.lua_failed) {
    lua_pushvalue(L, 8);
    return lua_error(L);
  }
  if (st == KILN_EINTR && rs->pr.interrupted)
    return luaL_error(L, "interrupted! (after step %d of %d)", (int)rs->pr.done,
                      (int)rs->pr.total);
  kiln_l_check(L, st, &err, "pimd:run");
  kiln_pimd_thermo t;
  kiln_pimd_get_thermo(mb->p, &t);
  push_thermo(L, &t);
  return 1;
}

static int l_thermo(lua_State *L) {
  kiln_pimd_thermo t;
  kiln_pimd_get_thermo(checkpm(L, 1), &t);
  push_thermo(L, &t);
  return 1;
}

/* pm:_bead(j, into): copy bead j (1-based) into the atoms `into` (same size) */
static int l_bead(lua_State *L) {
  kiln_pimd *pm = checkpm(L, 1);
  lua_Integer j = luaL_checkinteger(L, 2);
  kiln_atoms *into = kiln_l_checkatoms(L, 3);
  const kiln_atoms *b = kiln_pimd_bead(pm, (int)j - 1);
  if (!b) return luaL_error(L, "pimd:bead: no bead %d (beads 1..%d, after a run)", (int)j,
                            kiln_pimd_params(pm)->P);
  if (into->n != b->n) return luaL_error(L, "pimd:bead: atoms have %d atoms, bead %d", (int)into->n, (int)b->n);
  memcpy(into->x, b->x, b->n * sizeof *b->x);
  memcpy(into->v, b->v, b->n * sizeof *b->v);
  memcpy(into->f, b->f, b->n * sizeof *b->f);
  lua_settop(L, 3);
  return 1;
}

static int l_checkpoint(lua_State *L) {
  kiln_pimd *pm = checkpm(L, 1);
  const char *file = luaL_checkstring(L, 2);
  kiln_error err;
  kiln_l_check(L, kiln_pimd_checkpoint_write(pm, file, &err), &err, "pimd:checkpoint");
  return 0;
}

static int l_close(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_PIMD);
  kiln_l_checknotbusy(L, b, KILN_L_PIMD, "close");
  kiln_pimd_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_PIMD);
  if (b->busy) return 0;
  kiln_pimd_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_index(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_PIMD);
  const char *k = lua_tostring(L, 2);
  if (k && b->p) {
    const kiln_pimd_par *p = kiln_pimd_params(b->p);
    static const char *const tn[] = {"none", "pile_l", "pile_g", "trpmd"};
    if (!strcmp(k, "beads")) { lua_pushinteger(L, p->P); return 1; }
    if (!strcmp(k, "dt")) { lua_pushnumber(L, p->dt); return 1; }
    if (!strcmp(k, "T")) { lua_pushnumber(L, p->T); return 1; }
    if (!strcmp(k, "tau")) { lua_pushnumber(L, p->tau); return 1; }
    if (!strcmp(k, "seed")) { lua_pushinteger(L, (lua_Integer)p->seed); return 1; }
    if (!strcmp(k, "step")) { lua_pushinteger(L, p->step); return 1; }
    if (!strcmp(k, "time")) { lua_pushnumber(L, p->time); return 1; }
    if (!strcmp(k, "thermostat")) { lua_pushstring(L, tn[p->thermostat]); return 1; }
    if (!strcmp(k, "style")) { lua_pushliteral(L, "pimd"); return 1; }
    if (p->barostat) {
      static const char *const mn[] = {"iso", "aniso", "full"};
      if (!strcmp(k, "barostat")) { lua_pushliteral(L, "scr"); return 1; }
      if (!strcmp(k, "mode")) { lua_pushstring(L, mn[p->mode]); return 1; }
      if (!strcmp(k, "tau_p")) { lua_pushnumber(L, p->tau_p); return 1; }
      if (!strcmp(k, "compressibility")) { lua_pushnumber(L, p->compressibility); return 1; }
      if (!strcmp(k, "P")) { lua_pushnumber(L, p->P0); return 1; }
    }
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int l_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_PIMD);
  if (!b->p) {
    lua_pushfstring(L, "%s (closed)", KILN_L_PIMD);
    return 1;
  }
  const kiln_pimd_par *p = kiln_pimd_params(b->p);
  char buf[200];
  snprintf(buf, sizeof buf, "%s(beads=%d, dt=%g fs, T=%g K, step=%ld)", KILN_L_PIMD, p->P, p->dt,
           p->T, p->step);
  lua_pushstring(L, buf);
  return 1;
}

static const luaL_Reg methods[] = {{"_run", l_run},       {"thermo", l_thermo},
                                   {"_bead", l_bead},     {"checkpoint", l_checkpoint},
                                   {"close", l_close},    {NULL, NULL}};
static const luaL_Reg meta[] = {{"__gc", l_gc}, {"__close", l_gc}, {"__tostring", l_tostring},
                                {NULL, NULL}};
static const luaL_Reg funcs[] = {{"new", l_new}, {NULL, NULL}};

int luaopen_kiln_c_pimd(lua_State *L) {
  kiln_l_newclass(L, KILN_L_PIMD, meta, methods);
  kiln_l_setindex(L, KILN_L_PIMD, l_index);
  luaL_newlib(L, funcs);
  kiln_l_exportclass(L, KILN_L_PIMD);
  return 1;
}
