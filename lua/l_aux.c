/* lua/l_aux.c: helpers shared by the binding files (see lkiln.h). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "lkiln.h"

volatile sig_atomic_t kiln_l_interrupted = 0;

/* ---- boxes ---- */

kiln_l_box *kiln_l_newbox(lua_State *L, const char *tname, int nuv) {
  kiln_l_box *b = lua_newuserdatauv(L, sizeof *b, nuv);
  b->p = NULL;
  b->busy = 0;
  luaL_setmetatable(L, tname);
  return b;
}

kiln_l_box *kiln_l_testbox(lua_State *L, int i, const char *tname) {
  return luaL_testudata(L, i, tname);
}

kiln_l_box *kiln_l_checkbox(lua_State *L, int i, const char *tname) {
  kiln_l_box *b = luaL_checkudata(L, i, tname);
  if (!b->p) luaL_error(L, "attempt to use a closed %s", tname);
  return b;
}

void kiln_l_checknotbusy(lua_State *L, kiln_l_box *b, const char *tname, const char *what) {
  if (b->busy) luaL_error(L, "cannot %s a %s while it is in use (by md:run or a potential sum)", what,
               tname);
}

/* ---- errors ---- */

const char *kiln_l_typename(lua_State *L, int i) {
  if (luaL_getmetafield(L, i, "__name") == LUA_TSTRING) {
    const char *n = lua_tostring(L, -1);
    lua_pop(L, 1); /* the name stays alive in the metatable */
    return n;
  }
  if (lua_type(L, i) == LUA_TLIGHTUSERDATA) return "light userdata";
  return luaL_typename(L, i);
}

int kiln_l_fail(lua_State *L, const kiln_error *err, const char *what) {
  const char *msg = err && err->msg[0] ? err->msg : kiln_strerror(err ? err->code : KILN_EINVAL);
  /* core messages often start with the owner already ("potential lj: ...") */
  size_t n = what ? strlen(what) : 0;
  if (n && !(strncmp(msg, what, n) == 0 && msg[n] == ':')) return luaL_error(L, "%s: %s", what, msg);
  return luaL_error(L, "%s", msg);
}

void kiln_l_fix_index(kiln_error *err, long idx0, long idx1) {
  if (!err || idx0 == idx1) return;
  char from[48], to[48], out[sizeof err->msg];
  snprintf(from, sizeof from, "index %ld ", idx0);
  snprintf(to, sizeof to, "index %ld ", idx1);
  const char *hit = strstr(err->msg, from);
  if (!hit) return;
  snprintf(out, sizeof out, "%.*s%s%s", (int)(hit - err->msg), err->msg, to, hit + strlen(from));
  memcpy(err->msg, out, sizeof out);
}

void kiln_l_check(lua_State *L, kiln_status st, const kiln_error *err, const char *what) {
  if (st != KILN_OK) kiln_l_fail(L, err, what);
}

/* ---- options ---- */

#define OPTS_BOX "kiln.Opts"

static int opts_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, OPTS_BOX);
  kiln_opts_free(b->p);
  b->p = NULL;
  return 0;
}

static int skipped(const char *k, const char *const *skip) {
  for (; skip && *skip; skip++)
    if (strcmp(k, *skip) == 0) return 1;
  return 0;
}

static void fill_opts(lua_State *L, int idx, kiln_opts *t, const char *const *skip, char *path,
                      size_t plen, int depth);

/* Convert the value on top of the stack into child `key` of t (pops it). */
static void add_value(lua_State *L, kiln_opts *t, const char *key, char *path, size_t plen,
                      int depth) {
  kiln_error err;
  kiln_status st = KILN_OK;
  int top = lua_gettop(L);
  switch (lua_type(L, top)) {
    case LUA_TNUMBER: st = kiln_opts_add_num(t, key, lua_tonumber(L, top), &err); break;
    case LUA_TBOOLEAN: st = kiln_opts_add_bool(t, key, lua_toboolean(L, top), &err); break;
    case LUA_TSTRING: st = kiln_opts_add_str(t, key, lua_tostring(L, top), &err); break;
    case LUA_TTABLE: {
      kiln_opts *c;
      st = kiln_opts_add_table(t, key, &c, &err);
      if (st == KILN_OK) fill_opts(L, top, c, NULL, path, plen, depth + 1);
      break;
    }
    case LUA_TUSERDATA: {
      size_t rows, cols;
      double *d = kiln_l_testarray(L, top, &rows, &cols);
      if (d) {
        kiln_opts *c;
        st = kiln_opts_add_table(t, key, &c, &err);
        /* an Array row (arr[i]) is one flat list, like a vector */
        if (luaL_testudata(L, top, KILN_L_ARRAYROW)) {
          rows = cols;
          cols = 1;
        }
        for (size_t i = 0; st == KILN_OK && i < rows; i++) {
          if (cols == 1) {
            st = kiln_opts_add_num(c, NULL, d[i], &err);
          } else {
            kiln_opts *r;
            st = kiln_opts_add_table(c, NULL, &r, &err);
            for (size_t j = 0; st == KILN_OK && j < cols; j++)
              st = kiln_opts_add_num(r, NULL, d[i * cols + j], &err);
          }
        }
        break;
      }
    }
    /* fallthrough */
    default:
      luaL_error(L, "option '%s': unsupported value of type %s", path, kiln_l_typename(L, top));
  }
  kiln_l_check(L, st, &err, "options");
  lua_pop(L, 1);
}

static void fill_opts(lua_State *L, int idx, kiln_opts *t, const char *const *skip, char *path,
                      size_t plen, int depth) {
  if (depth > 32) luaL_error(L, "options nested too deeply (a table that contains itself?)");
  luaL_checkstack(L, 6, "options");
  idx = lua_absindex(L, idx);
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  for (lua_Integer i = 1; i <= n; i++) {
    snprintf(path + plen, 256 - plen, "%s%lld", plen ? "." : "", (long long)i);
    lua_rawgeti(L, idx, i);
    add_value(L, t, NULL, path, strlen(path), depth);
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -2);
      if (depth == 0 && skipped(k, skip)) {
        lua_pop(L, 1);
        continue;
      }
      snprintf(path + plen, 256 - plen, "%s%s", plen ? "." : "", k);
      add_value(L, t, k, path, strlen(path), depth);
    } else if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 && lua_tointeger(L, -2) <= n) {
      lua_pop(L, 1);
    } else {
      path[plen] = '\0';
      lua_pushvalue(L, -2);
      const char *ks = luaL_tolstring(L, -1, NULL);
      if (plen)
        luaL_error(L, "option '%s': key %s is not a name or a list index (1..%d)", path, ks, (int)n);
      luaL_error(L, "options: key %s is not a name or a list index (1..%d)", ks, (int)n);
    }
  }
  path[plen] = '\0';
}

kiln_opts *kiln_l_toopts(lua_State *L, int idx, const char *const *skip) {
  idx = lua_absindex(L, idx);
  if (!lua_isnoneornil(L, idx)) luaL_checktype(L, idx, LUA_TTABLE);
  kiln_l_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->p = NULL;
  b->busy = 0;
  if (luaL_newmetatable(L, OPTS_BOX)) {
    lua_pushcfunction(L, opts_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  kiln_error err;
  kiln_opts *o;
  kiln_l_check(L, kiln_opts_new(&o, &err), &err, "options");
  b->p = o;
  if (lua_istable(L, idx)) {
    char path[256] = "";
    fill_opts(L, idx, o, skip, path, 0, 0);
  }
  return o;
}

void kiln_l_checkkeys(lua_State *L, int idx, const char *what, const char *const *allowed) {
  if (!lua_istable(L, idx)) return;
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      luaL_error(L, "%s: options must have names (got a %s key)", what, kiln_l_typename(L, -1));
    }
    const char *k = lua_tostring(L, -1);
    if (!skipped(k, allowed)) luaL_error(L, "%s: unknown option '%s'", what, k);
  }
}

static int getfield(lua_State *L, int idx, const char *key) {
  if (lua_isnoneornil(L, idx)) return LUA_TNIL;
  if (!lua_istable(L, idx)) luaL_typeerror(L, idx, "table");
  return lua_getfield(L, idx, key);
}

double kiln_l_optnumfield(lua_State *L, int idx, const char *key, double def) {
  int t = getfield(L, idx, key);
  if (t == LUA_TNIL) {
    if (!lua_isnoneornil(L, idx)) lua_pop(L, 1);
    return def;
  }
  int ok;
  double v = lua_tonumberx(L, -1, &ok);
  if (!ok) luaL_error(L, "option '%s': number expected, got %s", key, kiln_l_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

long kiln_l_optintfield(lua_State *L, int idx, const char *key, long def) {
  int t = getfield(L, idx, key);
  if (t == LUA_TNIL) {
    if (!lua_isnoneornil(L, idx)) lua_pop(L, 1);
    return def;
  }
  int ok;
  lua_Integer v = lua_tointegerx(L, -1, &ok);
  if (!ok) {
    if (lua_type(L, -1) == LUA_TNUMBER)
      luaL_error(L, "option '%s': integer expected, got %g", key, lua_tonumber(L, -1));
    luaL_error(L, "option '%s': integer expected, got %s", key, kiln_l_typename(L, -1));
  }
  lua_pop(L, 1);
  return (long)v;
}

int kiln_l_optboolfield(lua_State *L, int idx, const char *key, int def) {
  int t = getfield(L, idx, key);
  if (t == LUA_TNIL) {
    if (!lua_isnoneornil(L, idx)) lua_pop(L, 1);
    return def;
  }
  if (t != LUA_TBOOLEAN)
    luaL_error(L, "option '%s': boolean expected, got %s", key, kiln_l_typename(L, -1));
  int v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* The returned string stays valid while the options table holds it. */
const char *kiln_l_optstrfield(lua_State *L, int idx, const char *key, const char *def) {
  int t = getfield(L, idx, key);
  if (t == LUA_TNIL) {
    if (!lua_isnoneornil(L, idx)) lua_pop(L, 1);
    return def;
  }
  if (t != LUA_TSTRING)
    luaL_error(L, "option '%s': string expected, got %s", key, kiln_l_typename(L, -1));
  const char *s = lua_tostring(L, -1);
  lua_pop(L, 1);
  return s;
}

/* ---- matrices ---- */

static double flatnum(lua_State *L, int arg, lua_Integer i) {
  int ok;
  lua_rawgeti(L, arg, i);
  double v = lua_tonumberx(L, -1, &ok);
  if (!ok)
    luaL_argerror(L, arg, lua_pushfstring(L, "element %d: number expected, got %s", (int)i,
                                          kiln_l_typename(L, -1)));
  lua_pop(L, 1);
  return v;
}

const double *kiln_l_checkmatrix(lua_State *L, int arg, size_t rows_expected, size_t cols,
                                 size_t *rows_out, size_t *cols_out) {
  arg = lua_absindex(L, arg);
  size_t r, c;
  double *d = kiln_l_testarray(L, arg, &r, &c);
  if (d) {
    if (cols && c != cols)
      luaL_argerror(L, arg, lua_pushfstring(L, "Array with %d columns expected, got %dx%d",
                                            (int)cols, (int)r, (int)c));
    if (rows_expected && r != rows_expected)
      luaL_argerror(L, arg, lua_pushfstring(L, "Array with %d rows expected, got %dx%d",
                                            (int)rows_expected, (int)r, (int)c));
    lua_pushvalue(L, arg);
    if (rows_out) *rows_out = r;
    if (cols_out) *cols_out = c;
    return d;
  }
  if (!lua_istable(L, arg)) luaL_typeerror(L, arg, "kiln.Array or table");
  r = lua_rawlen(L, arg);
  if (rows_expected && r != rows_expected)
    luaL_argerror(L, arg, lua_pushfstring(L, "%d rows expected, got %d", (int)rows_expected, (int)r));
  /* a flat list of numbers is a column vector */
  int flat = 0;
  if (r > 0) {
    lua_rawgeti(L, arg, 1);
    flat = lua_type(L, -1) == LUA_TNUMBER;
    if (!flat && !lua_istable(L, -1) && !kiln_l_testarray(L, -1, NULL, NULL))
      luaL_argerror(L, arg, lua_pushfstring(L, "row 1: table expected, got %s",
                                            kiln_l_typename(L, -1)));
    if (!flat && lua_istable(L, -1)) c = lua_rawlen(L, -1);
    else if (!flat) kiln_l_testarray(L, -1, NULL, &c);
    else c = 1;
    lua_pop(L, 1);
  } else {
    c = cols;
  }
  if (flat && cols > 1)
    luaL_argerror(L, arg, lua_pushfstring(L, "table of rows with %d numbers expected", (int)cols));
  if (cols && c != cols)
    luaL_argerror(L, arg, lua_pushfstring(L, "row 1: %d values expected, got %d", (int)cols, (int)c));
  double *out = lua_newuserdatauv(L, ((r * c) > 0 ? r * c : 1) * sizeof(double), 0);
  for (size_t i = 0; i < r; i++) {
    if (flat) {
      out[i] = flatnum(L, arg, (lua_Integer)i + 1);
      continue;
    }
    lua_rawgeti(L, arg, (lua_Integer)i + 1);
    size_t ar, ac;
    double *ad = kiln_l_testarray(L, -1, &ar, &ac);
    if (ad) { /* an Array row (arr[i]) or a 1-row Array is accepted as a row */
      if (ar * ac != c)
        luaL_argerror(L, arg, lua_pushfstring(L, "row %d: %d values expected, got %d", (int)i + 1,
                                              (int)c, (int)(ar * ac)));
      memcpy(out + i * c, ad, c * sizeof(double));
    } else {
      if (!lua_istable(L, -1))
        luaL_argerror(L, arg, lua_pushfstring(L, "row %d: table expected, got %s", (int)i + 1,
                                              kiln_l_typename(L, -1)));
      if (lua_rawlen(L, -1) != c)
        luaL_argerror(L, arg, lua_pushfstring(L, "row %d: %d values expected, got %d", (int)i + 1,
                                              (int)c, (int)lua_rawlen(L, -1)));
      int row = lua_gettop(L);
      for (size_t j = 0; j < c; j++) {
        int ok;
        lua_rawgeti(L, row, (lua_Integer)j + 1);
        out[i * c + j] = lua_tonumberx(L, -1, &ok);
        if (!ok)
          luaL_argerror(L, arg, lua_pushfstring(L, "row %d, column %d: number expected, got %s",
                                                (int)i + 1, (int)j + 1, kiln_l_typename(L, -1)));
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  if (rows_out) *rows_out = r;
  if (cols_out) *cols_out = c;
  return out;
}

void kiln_l_checkmat3(lua_State *L, int arg, double m[3][3]) {
  const double *d = kiln_l_checkmatrix(L, arg, 3, 3, NULL, NULL);
  memcpy(m, d, 9 * sizeof(double));
  lua_pop(L, 1);
}

void kiln_l_checkvec3(lua_State *L, int arg, double v[3]) {
  size_t r, c;
  double *d = kiln_l_testarray(L, arg, &r, &c);
  if (d) {
    if (r * c != 3)
      luaL_argerror(L, arg, lua_pushfstring(L, "3 values expected, got %dx%d", (int)r, (int)c));
    memcpy(v, d, 3 * sizeof(double));
    return;
  }
  luaL_argexpected(L, lua_istable(L, arg), arg, "table of 3 numbers");
  if (lua_rawlen(L, arg) != 3)
    luaL_argerror(L, arg, lua_pushfstring(L, "3 values expected, got %d", (int)lua_rawlen(L, arg)));
  for (int k = 0; k < 3; k++) v[k] = flatnum(L, arg, k + 1);
}

void kiln_l_pushmat3(lua_State *L, const double m[3][3]) {
  lua_createtable(L, 3, 0);
  for (int i = 0; i < 3; i++) {
    lua_createtable(L, 3, 0);
    for (int j = 0; j < 3; j++) {
      lua_pushnumber(L, m[i][j]);
      lua_rawseti(L, -2, j + 1);
    }
    lua_rawseti(L, -2, i + 1);
  }
}

/* ---- classes ---- */

void kiln_l_newclass(lua_State *L, const char *tname, const luaL_Reg *mm, const luaL_Reg *methods) {
  luaL_newmetatable(L, tname);
  luaL_setfuncs(L, mm, 0);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods");
  if (lua_getfield(L, -2, "__index") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_setfield(L, -2, "__index");
  } else {
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

void kiln_l_getmethods(lua_State *L, const char *tname) {
  luaL_getmetatable(L, tname);
  lua_getfield(L, -1, "methods");
  lua_remove(L, -2);
}

void kiln_l_setindex(lua_State *L, const char *tname, lua_CFunction index) {
  luaL_getmetatable(L, tname);
  lua_getfield(L, -1, "methods");
  lua_pushcclosure(L, index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void kiln_l_exportclass(lua_State *L, const char *tname) {
  kiln_l_getmethods(L, tname);
  lua_setfield(L, -2, "methods");
  luaL_getmetatable(L, tname);
  lua_setfield(L, -2, "metatable");
}

/* ---- progress line ---- */

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void kiln_l_progress_init(kiln_l_progress *p, const char *unit, int want) {
  memset(p, 0, sizeof *p);
  p->unit = unit;
  p->show = want && isatty(fileno(stderr));
  p->t0 = p->tlast = mono_now();
}

int kiln_l_progress_cb(void *ud, long done, long total) {
  kiln_l_progress *p = ud;
  p->done = done;
  p->total = total;
  if (kiln_l_interrupted) {
    kiln_l_interrupted = 0;
    p->interrupted = 1;
    return 1;
  }
  if (!p->show) return 0;
  const double t = mono_now();
  if (t - p->tlast < 0.25 && !(done == total && p->shown)) return 0;
  const double el = t - p->t0, rate = el > 0 ? (double)done / el : 0.0;
  if (total >= 0)
    fprintf(stderr, "\r\033[K  %s %ld/%ld (%.0f%%)  %.4g %ss/s  ETA %.0f s", p->unit, done,
            total, total ? 100.0 * (double)done / (double)total : 100.0, rate, p->unit,
            rate > 0 ? (double)(total - done) / rate : 0.0);
  else
    fprintf(stderr, "\r\033[K  %s %ld  %.4g %ss/s", p->unit, done, rate, p->unit);
  fflush(stderr);
  p->shown = 1;
  p->tlast = t;
  return 0;
}

void kiln_l_progress_clear(kiln_l_progress *p) {
  if (p->shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->shown = 0;
  }
}
