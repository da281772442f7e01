/* lua/l_corr.c: binding module kiln.c.corr — kiln.Correlator (a box around
 * kiln_corr), results as Lua tables of kiln.Array, HDF5 output, feeding from
 * trajectory files with a progress line, and the md:run observer maker.
 *
 *   new(style, opts) -> kiln.Correlator        styles() -> list of style records
 *   c:add(atoms[, time])  c:feed(file[, opts])  c:result() -> table
 *   c:write(file[, {group=, append=}])          c:close()
 *   c.style c.nframes c.dt (nil until known) c.description c.citation
 *   feed(file, {c1, c2, ...}[, opts])           one pass over the file for all
 *   write(file, result_table[, {group=, append=}])   a Lua result table to HDF5
 *
 * Result tables: item "a/b" is res.a.b (a kiln.Array that owns the data, handed
 * over without a copy), its unit res.units.a.b and its description
 * res.descriptions.a.b (same nesting); the result's attributes (style, dt,
 * nframes, ...) are plain fields (integral numbers as Lua integers). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kiln/corr.h"
#include "lkiln.h"

#define RESULT_BOX "kiln.c.Result"

static kiln_corr *checkcorr(lua_State *L, int i) {
  return kiln_l_checkbox(L, i, KILN_L_CORR)->p;
}

/* ---- construction, styles ---- */

static int l_corr_new(lua_State *L) {
  const char *style = luaL_checkstring(L, 1);
  kiln_opts *o = kiln_l_toopts(L, 2, NULL);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_CORR, 0);
  kiln_error err;
  char what[96];
  snprintf(what, sizeof what, "correlator %s", style);
  kiln_l_check(L, kiln_corr_new((kiln_corr **)&b->p, style, o, &err), &err, what);
  return 1;
}

static int l_corr_styles(lua_State *L) {
  size_t n = kiln_corr_nstyles();
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    const kiln_corr_style *s = kiln_corr_style_at(i);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, s->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, s->description ? s->description : "");
    lua_setfield(L, -2, "description");
    lua_pushstring(L, s->citation ? s->citation : "");
    lua_setfield(L, -2, "citation");
    lua_pushstring(L, s->options ? s->options : "");
    lua_setfield(L, -2, "options");
    lua_pushliteral(L, "correlator");
    lua_setfield(L, -2, "kind");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* ---- frames ---- */

/* c:add(atoms[, time]) -> c   (time in fs; nil: unknown, then dt must be an option) */
static int l_corr_add(lua_State *L) {
  kiln_corr *c = checkcorr(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  double t = NAN;
  if (!lua_isnoneornil(L, 3)) {
    t = luaL_checknumber(L, 3);
    luaL_argcheck(L, isfinite(t), 3, "finite time (fs) expected");
  }
  kiln_error err;
  kiln_l_check(L, kiln_corr_add_frame(c, a, t, &err), &err, "");
  lua_settop(L, 1);
  return 1;
}

/* ---- feeding from a file: progress line (terminal only), Ctrl-C ---- */

static const char *const feed_keys[] = {"format", "start", "stop", "every", "timestep",
                                        "symbols", "units", "progress", NULL};

/* Feed the correlators in the list at `list` from file with options at `opts`. */
static int feed_list(lua_State *L, int file_idx, int list, int opts) {
  const char *file = luaL_checkstring(L, file_idx);
  size_t n = lua_rawlen(L, list);
  if (n == 0) return luaL_error(L, "kiln.correlator.feed: no correlators given");
  if (!lua_isnoneornil(L, opts)) luaL_checktype(L, opts, LUA_TTABLE);
  kiln_l_checkkeys(L, opts, "kiln.correlator.feed", feed_keys);
  kiln_corr **cs = lua_newuserdatauv(L, n * sizeof *cs, 0);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, list, (lua_Integer)i + 1);
    kiln_l_box *b = kiln_l_testbox(L, -1, KILN_L_CORR);
    if (!b)
      return luaL_error(L, "kiln.correlator.feed: entry %d: kiln.Correlator expected, got %s",
                        (int)i + 1, kiln_l_typename(L, -1));
    if (!b->p)
      return luaL_error(L, "kiln.correlator.feed: entry %d: attempt to use a closed %s",
                        (int)i + 1, KILN_L_CORR);
    for (size_t j = 0; j < i; j++)
      if (cs[j] == b->p)
        return luaL_error(L, "kiln.correlator.feed: entries %d and %d are the same correlator "
                          "(it would see every frame twice)", (int)j + 1, (int)i + 1);
    cs[i] = b->p;
    lua_pop(L, 1);
  }
  const char *format = kiln_l_optstrfield(L, opts, "format", NULL);
  int progress = kiln_l_optboolfield(L, opts, "progress", 1);
  long start = kiln_l_optintfield(L, opts, "start", 1);
  if (start < 1)
    return luaL_error(L, "kiln.correlator.feed: start is a 1-based frame number >= 1 (got %d)",
                      (int)start);
  long stop = kiln_l_optintfield(L, opts, "stop", -1);
  if (stop != -1 && stop < start)
    return luaL_error(L, "kiln.correlator.feed: stop (%d) is before start (%d)", (int)stop,
                      (int)start);
  static const char *const skip[] = {"format", "progress", "start", "stop", NULL};
  kiln_opts *o = kiln_l_toopts(L, opts, skip);
  kiln_error err;
  kiln_status st = KILN_OK;
  /* the core counts frames from 0 with stop exclusive: Lua's 1-based inclusive
   * stop is the same number */
  if (start > 1) st = kiln_opts_add_num(o, "start", (double)(start - 1), &err);
  if (!st && stop >= 1) st = kiln_opts_add_num(o, "stop", (double)stop, &err);
  kiln_l_check(L, st, &err, "kiln.correlator.feed");
  kiln_l_progress *fs = lua_newuserdatauv(L, sizeof *fs, 0);
  kiln_l_progress_init(fs, "frame", progress);
  kiln_error_clear(&err);
  st = kiln_corr_feed(cs, n, file, format, o, kiln_l_progress_cb, fs, &err);
  kiln_l_progress_clear(fs);
  if (st == KILN_EINTR && fs->interrupted)
    return luaL_error(L, "interrupted! (after %d frames of %s; the correlators keep them)",
                      (int)fs->done, file);
  kiln_l_check(L, st, &err, "kiln.correlator.feed");
  return 0;
}

/* feed(file, {c1, c2, ...} or c[, opts]) */
static int l_feed(lua_State *L) {
  lua_settop(L, 3);
  if (kiln_l_testbox(L, 2, KILN_L_CORR)) { /* a single correlator */
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 1);
    lua_replace(L, 2);
  }
  luaL_argexpected(L, lua_istable(L, 2), 2, "list of kiln.Correlator");
  return feed_list(L, 1, 2, 3);
}

/* c:feed(file[, opts]) -> c */
static int l_corr_feed(lua_State *L) {
  checkcorr(L, 1);
  lua_settop(L, 3);
  lua_createtable(L, 1, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  feed_list(L, 2, 4, 3);
  lua_settop(L, 1);
  return 1;
}

/* ---- results as Lua tables ---- */

static int result_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, RESULT_BOX);
  kiln_result_free(b->p);
  b->p = NULL;
  return 0;
}

/* Push a box that frees the result when collected (so a raised error cannot leak it). */
static kiln_l_box *push_result_box(lua_State *L, kiln_result *r) {
  kiln_l_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->p = NULL;
  b->busy = 0;
  if (luaL_newmetatable(L, RESULT_BOX)) {
    lua_pushcfunction(L, result_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  b->p = r;
  return b;
}

/* Walk/create the subtables of `name` ("a/b/c": a, then b) under the table at t;
 * leaves the innermost table on the stack and returns the last component (into buf). */
static const char *descend(lua_State *L, int t, const char *name, char *buf, size_t cap,
                           const char *full) {
  lua_pushvalue(L, t);
  for (;;) {
    const char *slash = strchr(name, '/');
    if (!slash) break;
    size_t n = (size_t)(slash - name);
    lua_pushlstring(L, name, n);
    int ty = lua_rawget(L, -2);
    if (ty == LUA_TNIL) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushlstring(L, name, n);
      lua_pushvalue(L, -2);
      lua_rawset(L, -4);
    } else if (ty != LUA_TTABLE) {
      luaL_error(L, "result: item '%s' clashes with item '%.*s' (a group and an array of the "
                 "same name)", full, (int)(slash - full), full);
    }
    lua_remove(L, -2);
    name = slash + 1;
  }
  snprintf(buf, cap, "%s", name);
  return buf;
}

static void set_leaf(lua_State *L, int t, const char *name, int val) {
  char leaf[256];
  descend(L, t, name, leaf, sizeof leaf, name);
  if (lua_getfield(L, -1, leaf) != LUA_TNIL)
    luaL_error(L, "result: item '%s' clashes with another item or group of that name", name);
  lua_pop(L, 1);
  lua_pushvalue(L, val);
  lua_setfield(L, -2, leaf);
  lua_pop(L, 1);
}

static void push_number(lua_State *L, double v) {
  if (v == floor(v) && fabs(v) < 9007199254740992.0) lua_pushinteger(L, (lua_Integer)v);
  else lua_pushnumber(L, v);
}

/* Top-level names of a result table that are not items: units, descriptions, attrs. */
static int reserved(const char *name) {
  static const char *const r[] = {"units", "descriptions", "attrs"};
  for (int i = 0; i < 3; i++) {
    size_t n = strlen(r[i]);
    if (!strncmp(name, r[i], n) && (name[n] == 0 || name[n] == '/')) return 1;
  }
  return 0;
}

/* Push the Lua table for r (owned by the box at rbox; its arrays are taken). */
static void push_result_table(lua_State *L, int rbox) {
  kiln_result *r = ((kiln_l_box *)lua_touserdata(L, rbox))->p;
  luaL_checkstack(L, 12, "result");
  lua_createtable(L, 0, (int)(r->n + r->nattr + 2));
  int res = lua_gettop(L);
  lua_newtable(L);
  int units = lua_gettop(L);
  lua_newtable(L);
  int descs = lua_gettop(L);
  for (size_t i = 0; i < r->n; i++) {
    kiln_result_item *it = &r->item[i];
    if (reserved(it->name))
      luaL_error(L, "result: item name '%s' is reserved (units, descriptions, attrs)", it->name);
    kiln_l_pusharray_take(L, &it->a);
    set_leaf(L, res, it->name, lua_gettop(L));
    lua_pop(L, 1);
    lua_pushstring(L, it->unit ? it->unit : "");
    set_leaf(L, units, it->name, lua_gettop(L));
    lua_pushstring(L, it->desc ? it->desc : "");
    set_leaf(L, descs, it->name, lua_gettop(L));
    lua_pop(L, 2);
  }
  /* attributes: all in res.attrs, and as plain fields unless an item has the name */
  lua_createtable(L, 0, (int)r->nattr);
  int attrs = lua_gettop(L);
  for (size_t i = 0; i < r->nattr; i++) {
    const kiln_result_attr *a = &r->attr[i];
    if (a->is_str) lua_pushstring(L, a->str ? a->str : "");
    else push_number(L, a->num);
    lua_pushvalue(L, -1);
    lua_setfield(L, attrs, a->name);
    if (lua_getfield(L, res, a->name) == LUA_TNIL && !reserved(a->name)) {
      lua_pop(L, 1);
      lua_setfield(L, res, a->name);
    } else {
      lua_pop(L, 2);
    }
  }
  lua_setfield(L, res, "attrs");
  lua_pushvalue(L, units);
  lua_setfield(L, res, "units");
  lua_pushvalue(L, descs);
  lua_setfield(L, res, "descriptions");
  lua_settop(L, res);
}

/* c:result() -> table */
static int l_corr_result(lua_State *L) {
  kiln_corr *c = checkcorr(L, 1);
  kiln_result *r;
  kiln_error err;
  kiln_l_check(L, kiln_corr_result(c, &r, &err), &err, "");
  kiln_l_box *rb = push_result_box(L, r);
  push_result_table(L, lua_gettop(L));
  kiln_result_free(rb->p); /* the arrays were taken; free the rest now */
  rb->p = NULL;
  return 1;
}

/* ---- HDF5 output ---- */

static void write_opts(lua_State *L, int opts, const char **group, int *append,
                       const char *what) {
  if (!lua_isnoneornil(L, opts)) luaL_checktype(L, opts, LUA_TTABLE);
  kiln_l_checkkeys(L, opts, what, (const char *const[]){"group", "append", NULL});
  *group = kiln_l_optstrfield(L, opts, "group", "/");
  *append = kiln_l_optboolfield(L, opts, "append", 0);
}

/* c:write(file[, {group="/", append=false}]) -> c */
static int l_corr_write(lua_State *L) {
  kiln_corr *c = checkcorr(L, 1);
  const char *file = luaL_checkstring(L, 2);
  const char *group;
  int append;
  write_opts(L, 3, &group, &append, "correlator:write");
  kiln_result *r;
  kiln_error err;
  kiln_l_check(L, kiln_corr_result(c, &r, &err), &err, "");
  push_result_box(L, r);
  char what[96];
  snprintf(what, sizeof what, "correlator %s", kiln_corr_style_of(c)->name);
  kiln_status st = kiln_result_write_h5(r, file, group, append, &err);
  kiln_l_check(L, st, &err, what);
  lua_settop(L, 1);
  return 1;
}

/* Look up the string at path `name` ("a/b") in the table at t: nested or flat key. */
static const char *lookup_str(lua_State *L, int t, const char *name) {
  if (!lua_istable(L, t)) return "";
  if (lua_getfield(L, t, name) == LUA_TSTRING) return lua_tostring(L, -1); /* flat "a/b" */
  lua_pop(L, 1);
  lua_pushvalue(L, t);
  const char *p = name;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    lua_pushlstring(L, p, n);
    int ty = lua_rawget(L, -2);
    lua_remove(L, -2);
    if (!slash) {
      if (ty == LUA_TSTRING) return lua_tostring(L, -1); /* left on the stack: anchored */
      lua_pop(L, 1);
      return "";
    }
    if (ty != LUA_TTABLE) {
      lua_pop(L, 1);
      return "";
    }
    p = slash + 1;
  }
}

/* The entries of the table at t (numbers, strings, booleans) as attributes of r. */
static void collect_attrs(lua_State *L, kiln_result *r, int t) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    kiln_error err;
    kiln_status st = KILN_OK;
    int ty = lua_type(L, -1);
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "kiln.correlator.write: attrs has a key %s (attributes have names)",
                 luaL_tolstring(L, -2, NULL));
    const char *k = lua_tostring(L, -2);
    if (ty == LUA_TSTRING) st = kiln_result_attr_str(r, k, lua_tostring(L, -1), &err);
    else if (ty == LUA_TNUMBER || ty == LUA_TBOOLEAN)
      st = kiln_result_attr_num(r, k, ty == LUA_TBOOLEAN ? lua_toboolean(L, -1) : lua_tonumber(L, -1), &err);
    else
      luaL_error(L, "kiln.correlator.write: attrs.%s: number or string expected, got %s", k,
                 kiln_l_typename(L, -1));
    kiln_l_check(L, st, &err, "kiln.correlator.write");
    lua_pop(L, 1);
  }
}

/* Add the arrays of the Lua table at t (a result or one of its groups) to r. */
static void collect(lua_State *L, kiln_result *r, int t, const char *prefix, int units,
                    int descs, int depth) {
  if (depth > 16) luaL_error(L, "kiln.correlator.write: result nested too deeply");
  luaL_checkstack(L, 10, "kiln.correlator.write");
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int v = lua_gettop(L);
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "kiln.correlator.write: %s%s%shas a key %s (entries must have names)",
                 *prefix ? "'" : "", prefix, *prefix ? "' " : "the result ",
                 luaL_tolstring(L, -2, NULL));
    const char *k = lua_tostring(L, -2);
    if (depth == 0 && (!strcmp(k, "units") || !strcmp(k, "descriptions"))) {
      lua_pop(L, 1);
      continue;
    }
    if (depth == 0 && !strcmp(k, "attrs") && lua_istable(L, v)) { /* done first */
      lua_pop(L, 1);
      continue;
    }
    char name[512];
    snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "/" : "", k);
    kiln_error err;
    kiln_status st = KILN_OK;
    int ty = lua_type(L, v);
    if (ty == LUA_TNUMBER || ty == LUA_TSTRING || ty == LUA_TBOOLEAN) {
      if (depth > 0)
        luaL_error(L, "kiln.correlator.write: '%s': attributes (numbers, strings) must be "
                   "top-level fields", name);
      if (ty == LUA_TSTRING) st = kiln_result_attr_str(r, k, lua_tostring(L, v), &err);
      else st = kiln_result_attr_num(r, k, ty == LUA_TBOOLEAN ? lua_toboolean(L, v) : lua_tonumber(L, v), &err);
    } else if (kiln_l_testarray(L, v, NULL, NULL) || (ty == LUA_TTABLE && lua_rawlen(L, v) > 0)) {
      size_t rows, cols;
      const double *d = kiln_l_checkmatrix(L, v, 0, 0, &rows, &cols);
      int top = lua_gettop(L);
      const char *unit = lookup_str(L, units, name);
      const char *desc = lookup_str(L, descs, name);
      st = kiln_result_add_copy(r, name, d, rows, cols, unit, desc, &err);
      lua_settop(L, top - 1);
    } else if (ty == LUA_TTABLE) {
      collect(L, r, v, name, units, descs, depth + 1);
    } else {
      luaL_error(L, "kiln.correlator.write: '%s': kiln.Array, table or attribute expected, got %s",
                 name, kiln_l_typename(L, v));
    }
    kiln_l_check(L, st, &err, "kiln.correlator.write");
    lua_settop(L, v - 1);
  }
}

/* write(file, result_table[, {group=, append=}]) */
static int l_write(lua_State *L) {
  const char *file = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  const char *group;
  int append;
  write_opts(L, 3, &group, &append, "kiln.correlator.write");
  lua_settop(L, 3);
  lua_getfield(L, 2, "units");        /* 4 */
  lua_getfield(L, 2, "descriptions"); /* 5 */
  kiln_result *r;
  kiln_error err;
  kiln_l_check(L, kiln_result_new(&r, &err), &err, "kiln.correlator.write");
  push_result_box(L, r);              /* 6 */
  /* res.attrs first, so that plain fields (res.dt = ...) override them */
  if (lua_getfield(L, 2, "attrs") == LUA_TTABLE) collect_attrs(L, r, lua_gettop(L));
  lua_settop(L, 6);
  collect(L, r, 2, "", 4, 5, 0);
  kiln_l_check(L, kiln_result_write_h5(r, file, group, append, &err), &err,
               "kiln.correlator.write");
  return 0;
}

/* ---- lifetime, fields ---- */

static int l_corr_close(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_CORR);
  kiln_l_checknotbusy(L, b, KILN_L_CORR, "close");
  kiln_corr_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_corr_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_CORR);
  if (b->busy) return 0;
  kiln_corr_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_corr_isopen(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_CORR);
  lua_pushboolean(L, b->p != NULL);
  return 1;
}

static const char *const fields[] = {"style", "nframes", "dt", "description", "citation", NULL};

static int l_corr_index(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_CORR);
  const char *k = lua_tostring(L, 2);
  int f = -1;
  for (int i = 0; k && fields[i]; i++)
    if (!strcmp(k, fields[i])) f = i;
  if (f >= 0) {
    kiln_corr *c = b->p;
    if (!c) return luaL_error(L, "attempt to use a closed %s (field '%s')", KILN_L_CORR, k);
    const kiln_corr_style *s = kiln_corr_style_of(c);
    switch (f) {
      case 0: lua_pushstring(L, s->name); break;
      case 1: lua_pushinteger(L, (lua_Integer)kiln_corr_nframes(c)); break;
      case 2: {
        double dt = kiln_corr_dt(c);
        if (isnan(dt)) lua_pushnil(L);
        else lua_pushnumber(L, dt);
        break;
      }
      case 3: lua_pushstring(L, s->description ? s->description : ""); break;
      default: lua_pushstring(L, s->citation ? s->citation : ""); break;
    }
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int l_corr_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_CORR);
  if (!b->p) {
    lua_pushfstring(L, "%s (closed)", KILN_L_CORR);
    return 1;
  }
  char buf[160];
  double dt = kiln_corr_dt(b->p);
  if (isnan(dt))
    snprintf(buf, sizeof buf, "%s(%s, frames=%ld)", KILN_L_CORR, kiln_corr_style_of(b->p)->name,
             kiln_corr_nframes(b->p));
  else
    snprintf(buf, sizeof buf, "%s(%s, frames=%ld, dt=%g fs)", KILN_L_CORR,
             kiln_corr_style_of(b->p)->name, kiln_corr_nframes(b->p), dt);
  lua_pushstring(L, buf);
  return 1;
}

/* ---- as an md:run observer ---- */

int kiln_l_corr_observer(lua_State *L, int idx, kiln_l_runctx *ctx, kiln_observer *o,
                         kiln_l_box **busy) {
  (void)ctx;
  kiln_l_box *b = kiln_l_testbox(L, idx, KILN_L_CORR);
  if (!b) return 0;
  if (!b->p) luaL_error(L, "md:run: attempt to use a closed %s as an observer", KILN_L_CORR);
  kiln_observer ob = kiln_corr_observer(b->p, 1);
  o->fn = ob.fn;
  o->ud = ob.ud;
  o->at_start = ob.at_start;
  *busy = b;
  return 1;
}

static const luaL_Reg corr_methods[] = {{"add", l_corr_add},
                                        {"feed", l_corr_feed},
                                        {"result", l_corr_result},
                                        {"write", l_corr_write},
                                        {"close", l_corr_close},
                                        {"isopen", l_corr_isopen},
                                        {NULL, NULL}};

static const luaL_Reg corr_meta[] = {{"__gc", l_corr_gc},
                                     {"__close", l_corr_gc},
                                     {"__tostring", l_corr_tostring},
                                     {NULL, NULL}};

static const luaL_Reg corr_funcs[] = {{"new", l_corr_new},
                                      {"styles", l_corr_styles},
                                      {"feed", l_feed},
                                      {"write", l_write},
                                      {NULL, NULL}};

int luaopen_kiln_c_corr(lua_State *L) {
  kiln_l_newclass(L, KILN_L_CORR, corr_meta, corr_methods);
  kiln_l_setindex(L, KILN_L_CORR, l_corr_index);
  luaL_newlib(L, corr_funcs);
  kiln_l_exportclass(L, KILN_L_CORR);
  return 1;
}
