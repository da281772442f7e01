/* lua/l_array.c: kiln.Array, a rows x cols matrix of doubles, 1-based in Lua.
 * Either owning (a kiln_array) or a view into a kiln.Atoms field (positions,
 * velocities, forces, masses). A view keeps its parent alive (uv1) and checks
 * the parent's generation on every access ("stale view: kiln.Atoms was resized").
 * arr[i] is a row proxy (kiln.ArrayRow) for matrices, a number for vectors (cols 1). */
#include <stdio.h>
#include <string.h>
#include "lkiln.h"

typedef struct larray {
  kiln_array *own;     /* owning storage, NULL for views and when closed */
  kiln_l_box *parent;  /* view: the kiln.Atoms box (kept alive by uv1) */
  int field;           /* view: KILN_L_VIEW_* */
  unsigned gen;        /* view: parent generation when made */
  size_t n;            /* view: parent atom count when made */
  size_t rows, cols;
} larray;

typedef struct lrow {
  larray *arr;   /* kept alive by uv1 */
  size_t i;      /* 0-based row */
} lrow;

static const char *const field_names[] = {"positions", "velocities", "forces", "masses"};

static double *adata(lua_State *L, larray *b) {
  if (b->parent) {
    kiln_atoms *a = b->parent->p;
    if (!a) luaL_error(L, "attempt to use a closed %s", KILN_L_ATOMS);
    if (a->generation != b->gen || a->n != b->n)
      luaL_error(L, "stale view: %s was resized", KILN_L_ATOMS);
    switch (b->field) {
      case KILN_L_VIEW_X: return (double *)a->x;
      case KILN_L_VIEW_V: return (double *)a->v;
      case KILN_L_VIEW_F: return (double *)a->f;
      default: return a->mass;
    }
  }
  if (!b->own) luaL_error(L, "attempt to use a closed %s", KILN_L_ARRAY);
  return b->own->data;
}

static larray *checkarr(lua_State *L, int i) { return luaL_checkudata(L, i, KILN_L_ARRAY); }

double *kiln_l_testarray(lua_State *L, int i, size_t *rows, size_t *cols) {
  larray *b = luaL_testudata(L, i, KILN_L_ARRAY);
  if (b) {
    double *d = adata(L, b);
    if (rows) *rows = b->rows;
    if (cols) *cols = b->cols;
    return d;
  }
  lrow *r = luaL_testudata(L, i, KILN_L_ARRAYROW);
  if (r) {
    double *d = adata(L, r->arr);
    if (rows) *rows = 1;
    if (cols) *cols = r->arr->cols;
    return d + r->i * r->arr->cols;
  }
  return NULL;
}

double *kiln_l_pusharray(lua_State *L, const double *data, size_t rows, size_t cols) {
  larray *b = lua_newuserdatauv(L, sizeof *b, 1);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, KILN_L_ARRAY);
  kiln_error err;
  kiln_status st = data ? kiln_array_from(&b->own, data, rows, cols, &err)
                        : kiln_array_new(&b->own, rows, cols, &err);
  kiln_l_check(L, st, &err, "kiln.Array");
  b->rows = rows;
  b->cols = cols;
  if (rows * cols > 8192) lua_gc(L, LUA_GCSTEP, (int)(rows * cols * sizeof(double) / 1024));
  return b->own->data;
}

void kiln_l_pusharray_take(lua_State *L, kiln_array **a) {
  if (!(*a)->owner) { /* a view over memory we do not own: copy it */
    kiln_l_pusharray(L, (*a)->data, (*a)->rows, (*a)->cols);
    return;
  }
  larray *b = lua_newuserdatauv(L, sizeof *b, 1); /* may raise: *a is still the caller's */
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, KILN_L_ARRAY);
  b->own = *a;
  b->rows = (*a)->rows;
  b->cols = (*a)->cols;
  *a = NULL;
  if (b->rows * b->cols > 8192) lua_gc(L, LUA_GCSTEP, (int)(b->rows * b->cols * sizeof(double) / 1024));
}

void kiln_l_pushview(lua_State *L, int parent, int field) {
  parent = lua_absindex(L, parent);
  kiln_l_box *pb = kiln_l_checkbox(L, parent, KILN_L_ATOMS);
  kiln_atoms *a = pb->p;
  larray *b = lua_newuserdatauv(L, sizeof *b, 1);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, KILN_L_ARRAY);
  b->parent = pb;
  b->field = field;
  b->gen = a->generation;
  b->n = a->n;
  b->rows = a->n;
  b->cols = field == KILN_L_VIEW_MASS ? 1 : 3;
  lua_pushvalue(L, parent);
  lua_setiuservalue(L, -2, 1);
}

/* ---- constructor ---- */

static int l_array_new(lua_State *L) {
  lua_settop(L, 2);
  if (lua_type(L, 1) == LUA_TNUMBER) {
    lua_Integer r = luaL_checkinteger(L, 1), c = luaL_optinteger(L, 2, 1);
    luaL_argcheck(L, r >= 0, 1, "non-negative row count expected");
    luaL_argcheck(L, c >= 1, 2, "positive column count expected");
    kiln_l_pusharray(L, NULL, (size_t)r, (size_t)c);
    return 1;
  }
  size_t r, c;
  const double *d = kiln_l_checkmatrix(L, 1, 0, 0, &r, &c);
  if (r == 0) c = (size_t)luaL_optinteger(L, 2, 1);
  kiln_l_pusharray(L, d, r, c);
  return 1;
}

/* ---- element access ---- */

static size_t checkindex(lua_State *L, int arg, size_t n, const char *what) {
  lua_Integer i = luaL_checkinteger(L, arg);
  if (i < 1 || (size_t)i > n)
    luaL_error(L, "%s index %d out of range (1..%d)", what, (int)i, (int)n);
  return (size_t)(i - 1);
}

static int l_array_get(lua_State *L) {
  larray *b = checkarr(L, 1);
  double *d = adata(L, b);
  size_t i = checkindex(L, 2, b->rows, "row");
  size_t j = lua_isnoneornil(L, 3) && b->cols == 1 ? 0 : checkindex(L, 3, b->cols, "column");
  lua_pushnumber(L, d[i * b->cols + j]);
  return 1;
}

static int l_array_set(lua_State *L) {
  larray *b = checkarr(L, 1);
  double *d = adata(L, b);
  size_t i = checkindex(L, 2, b->rows, "row");
  if (b->cols == 1 && lua_gettop(L) == 3) {
    d[i] = luaL_checknumber(L, 3);
    return 0;
  }
  size_t j = checkindex(L, 3, b->cols, "column");
  d[i * b->cols + j] = luaL_checknumber(L, 4);
  return 0;
}

static void pushrow(lua_State *L, int arr, larray *b, size_t i) {
  lrow *r = lua_newuserdatauv(L, sizeof *r, 1);
  r->arr = b;
  r->i = i;
  luaL_setmetatable(L, KILN_L_ARRAYROW);
  lua_pushvalue(L, arr);
  lua_setiuservalue(L, -2, 1);
}

static int l_array_index(lua_State *L) {
  larray *b = checkarr(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    double *d = adata(L, b);
    size_t i = checkindex(L, 2, b->rows, "row");
    if (b->cols == 1) lua_pushnumber(L, d[i]);
    else pushrow(L, 1, b, i);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static void setrow(lua_State *L, larray *b, double *d, size_t i, int v) {
  if (b->cols == 1 && lua_type(L, v) == LUA_TNUMBER) {
    d[i] = lua_tonumber(L, v);
    return;
  }
  const double *src = kiln_l_checkmatrix(L, v, 1, b->cols, NULL, NULL);
  memmove(d + i * b->cols, src, b->cols * sizeof(double));
  lua_pop(L, 1);
}

static int l_array_newindex(lua_State *L) {
  larray *b = checkarr(L, 1);
  double *d = adata(L, b);
  if (lua_type(L, 2) != LUA_TNUMBER)
    return luaL_error(L, "cannot set field '%s' of a %s", luaL_tolstring(L, 2, NULL), KILN_L_ARRAY);
  size_t i = checkindex(L, 2, b->rows, "row");
  /* a table row {x,y,z} is converted as a one-row matrix */
  if (lua_istable(L, 3) && b->cols > 1) {
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 3);
    lua_rawseti(L, -2, 1);
    lua_replace(L, 3);
  }
  setrow(L, b, d, i, 3);
  return 0;
}

static int l_array_len(lua_State *L) {
  larray *b = checkarr(L, 1);
  adata(L, b);
  lua_pushinteger(L, (lua_Integer)b->rows);
  return 1;
}

static int l_array_shape(lua_State *L) {
  larray *b = checkarr(L, 1);
  adata(L, b);
  lua_pushinteger(L, (lua_Integer)b->rows);
  lua_pushinteger(L, (lua_Integer)b->cols);
  return 2;
}

static int l_array_totable(lua_State *L) {
  larray *b = checkarr(L, 1);
  double *d = adata(L, b);
  lua_createtable(L, (int)b->rows, 0);
  for (size_t i = 0; i < b->rows; i++) {
    if (b->cols == 1) {
      lua_pushnumber(L, d[i]);
    } else {
      lua_createtable(L, (int)b->cols, 0);
      for (size_t j = 0; j < b->cols; j++) {
        lua_pushnumber(L, d[i * b->cols + j]);
        lua_rawseti(L, -2, (lua_Integer)j + 1);
      }
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_array_copy(lua_State *L) {
  larray *b = checkarr(L, 1);
  double *d = adata(L, b);
  kiln_l_pusharray(L, d, b->rows, b->cols);
  return 1;
}

static int l_array_fill(lua_State *L) {
  larray *b = checkarr(L, 1);
  double *d = adata(L, b);
  double v = luaL_checknumber(L, 2);
  for (size_t k = 0; k < b->rows * b->cols; k++) d[k] = v;
  lua_settop(L, 1);
  return 1;
}

/* arr:assign(other): copy values of a same-shaped Array or table into arr */
static int l_array_assign(lua_State *L) {
  larray *b = checkarr(L, 1);
  double *d = adata(L, b);
  const double *src = kiln_l_checkmatrix(L, 2, b->rows, b->cols, NULL, NULL);
  memmove(d, src, b->rows * b->cols * sizeof(double));
  lua_settop(L, 1);
  return 1;
}

static int l_array_isview(lua_State *L) {
  larray *b = checkarr(L, 1);
  lua_pushboolean(L, b->parent != NULL);
  return 1;
}

static int l_array_gc(lua_State *L) {
  larray *b = checkarr(L, 1);
  kiln_array_free(b->own);
  b->own = NULL;
  b->parent = NULL;
  return 0;
}

static int l_array_close(lua_State *L) {
  larray *b = checkarr(L, 1);
  if (b->parent) return luaL_error(L, "cannot close a view (close its kiln.Atoms instead)");
  return l_array_gc(L);
}

static void addnum(luaL_Buffer *B, double v) {
  char s[32];
  snprintf(s, sizeof s, "%12.6g", v);
  luaL_addstring(B, s);
}

static int l_array_tostring(lua_State *L) {
  larray *b = checkarr(L, 1);
  if (!b->parent && !b->own) {
    lua_pushfstring(L, "%s (closed)", KILN_L_ARRAY);
    return 1;
  }
  if (b->parent && (!b->parent->p || ((kiln_atoms *)b->parent->p)->generation != b->gen ||
                    ((kiln_atoms *)b->parent->p)->n != b->n)) {
    lua_pushfstring(L, "%s (stale view of %s %s)", KILN_L_ARRAY, KILN_L_ATOMS,
                    field_names[b->field]);
    return 1;
  }
  double *d = adata(L, b);
  luaL_Buffer B;
  luaL_buffinit(L, &B);
  char head[128];
  if (b->parent)
    snprintf(head, sizeof head, "%s(%zux%zu, view of %s %s)", KILN_L_ARRAY, b->rows, b->cols,
             KILN_L_ATOMS, field_names[b->field]);
  else
    snprintf(head, sizeof head, "%s(%zux%zu)", KILN_L_ARRAY, b->rows, b->cols);
  luaL_addstring(&B, head);
  size_t show = 8;
  for (size_t i = 0; i < b->rows; i++) {
    if (b->rows > show && i == show / 2) {
      luaL_addstring(&B, "\n  ...");
      i = b->rows - show / 2;
    }
    luaL_addstring(&B, "\n");
    size_t cshow = b->cols > 10 ? 10 : b->cols;
    for (size_t j = 0; j < cshow; j++) addnum(&B, d[i * b->cols + j]);
    if (cshow < b->cols) luaL_addstring(&B, " ...");
  }
  luaL_pushresult(&B);
  return 1;
}

/* ---- rows ---- */

static lrow *checkrow(lua_State *L, int i, double **d) {
  lrow *r = luaL_checkudata(L, i, KILN_L_ARRAYROW);
  *d = adata(L, r->arr) + r->i * r->arr->cols;
  return r;
}

static int l_row_index(lua_State *L) {
  double *d;
  lrow *r = checkrow(L, 1, &d);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    size_t j = checkindex(L, 2, r->arr->cols, "column");
    lua_pushnumber(L, d[j]);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int l_row_newindex(lua_State *L) {
  double *d;
  lrow *r = checkrow(L, 1, &d);
  size_t j = checkindex(L, 2, r->arr->cols, "column");
  d[j] = luaL_checknumber(L, 3);
  return 0;
}

static int l_row_len(lua_State *L) {
  double *d;
  lrow *r = checkrow(L, 1, &d);
  lua_pushinteger(L, (lua_Integer)r->arr->cols);
  return 1;
}

static int l_row_totable(lua_State *L) {
  double *d;
  lrow *r = checkrow(L, 1, &d);
  lua_createtable(L, (int)r->arr->cols, 0);
  for (size_t j = 0; j < r->arr->cols; j++) {
    lua_pushnumber(L, d[j]);
    lua_rawseti(L, -2, (lua_Integer)j + 1);
  }
  return 1;
}

static int l_row_tostring(lua_State *L) {
  double *d;
  lrow *r = checkrow(L, 1, &d);
  luaL_Buffer B;
  luaL_buffinit(L, &B);
  luaL_addstring(&B, "{");
  for (size_t j = 0; j < r->arr->cols; j++) {
    char s[32];
    snprintf(s, sizeof s, "%s%.17g", j ? ", " : "", d[j]);
    luaL_addstring(&B, s);
  }
  luaL_addstring(&B, "}");
  luaL_pushresult(&B);
  return 1;
}

static const luaL_Reg array_methods[] = {
    {"get", l_array_get},         {"set", l_array_set},   {"shape", l_array_shape},
    {"totable", l_array_totable}, {"copy", l_array_copy}, {"fill", l_array_fill},
    {"assign", l_array_assign},   {"isview", l_array_isview}, {"close", l_array_close},
    {NULL, NULL}};

static const luaL_Reg array_meta[] = {
    {"__newindex", l_array_newindex}, {"__len", l_array_len},       {"__gc", l_array_gc},
    {"__close", l_array_gc},          {"__tostring", l_array_tostring}, {NULL, NULL}};

static const luaL_Reg row_methods[] = {{"totable", l_row_totable}, {NULL, NULL}};

static const luaL_Reg row_meta[] = {{"__newindex", l_row_newindex},
                                    {"__len", l_row_len},
                                    {"__tostring", l_row_tostring},
                                    {NULL, NULL}};

int luaopen_kiln_c_array(lua_State *L) {
  kiln_l_newclass(L, KILN_L_ARRAY, array_meta, array_methods);
  kiln_l_setindex(L, KILN_L_ARRAY, l_array_index);
  kiln_l_newclass(L, KILN_L_ARRAYROW, row_meta, row_methods);
  kiln_l_setindex(L, KILN_L_ARRAYROW, l_row_index);
  lua_newtable(L);
  lua_pushcfunction(L, l_array_new);
  lua_setfield(L, -2, "new");
  kiln_l_exportclass(L, KILN_L_ARRAY);
  return 1;
}
