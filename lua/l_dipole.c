/* lua/l_dipole.c: binding module kiln.c.dipole — the lambda = 1 dipole model
 * (kiln/dipole.h) as a kiln.DipoleModel box. The fit, file format and observers are
 * in stdlib/kiln/dipole.lua; this file only converts arguments.
 *
 *   new(vstyle, vopts, sstyle|nil, sopts|nil, zeta) -> kiln.DipoleModel
 *   m:features(atoms) -> XV (n x 3nv), XS (n x ns) or nil, el (1-based list)
 *   m:set_sparse(el, V, S|nil[, a])   m:sparse() -> el, V, S|nil (S normalised)
 *   m:weights() -> Array m x 3        m:set_weights(a)
 *   m:design(atoms) -> Array 3 x 3m   m:kmm() -> Array 3m x 3m
 *   m:compute(atoms[, born]) -> mu (n x 3), {Mx, My, Mz}, Z (n x 9) or nil
 *   m:dipole(atoms) -> Mx, My, Mz
 *   m.nv m.ns m.zeta m.nsparse m.cutoff     m:close()
 *   m:series() -> {step=, time= (n x 1), M= (n x 3)}   m:clear_series()
 *   m:_meta() -> the Lua table of the model's Lua-side fields (user value 1; its keys
 *                are also readable as m.key)
 *   m:rows(XV, XS|nil, el) -> Array 3 x 3m (from features already computed)
 *   solve(A, y, R|nil, reg, jitter) -> x (n x 1)
 *   gather(arrays, ks, is[, normalise]) -> Array: row r = row is[r] of arrays[ks[r]]
 * As an md:run observer (kiln_l_dipole_observer, listed in l_md.c's makers) the
 * model computes M at every call (not at the start, as correlators), stores it in the frame's info
 * "dipole" (for a kiln.correlator.dipole listed after it) and appends (step, time, M)
 * to its series. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/dipole.h"
#include "lkiln.h"

#define KILN_L_DIPOLE "kiln.DipoleModel"

typedef struct ldip {
  kiln_dipole *d;
  double *ser;          /* nser x 5: step, time (fs), Mx, My, Mz */
  size_t nser, cap;
} ldip;

static ldip *checkldip(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_DIPOLE)->p; }
static kiln_dipole *checkdip(lua_State *L, int i) { return checkldip(L, i)->d; }

static void ldip_free(ldip *p) {
  if (!p) return;
  kiln_dipole_free(p->d);
  free(p->ser);
  free(p);
}

/* new(vstyle, vopts, sstyle|nil, sopts|nil, zeta) */
static int l_new(lua_State *L) {
  const char *vstyle = luaL_checkstring(L, 1);
  const char *sstyle = luaL_optstring(L, 3, NULL);
  lua_Integer zeta = luaL_checkinteger(L, 5);
  kiln_opts *vo = kiln_l_toopts(L, 2, NULL);
  kiln_opts *so = sstyle ? kiln_l_toopts(L, 4, NULL) : NULL;
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_DIPOLE, 1);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  ldip *p = calloc(1, sizeof *p);
  if (!p) return luaL_error(L, "kiln.dipole: out of memory");
  b->p = p; /* owned by the box from here */
  kiln_error err;
  kiln_l_check(L, kiln_dipole_new(&p->d, vstyle, vo, sstyle, so, (int)zeta, &err), &err,
               "kiln.dipole");
  return 1;
}

static void push_ellist(lua_State *L, const int32_t *el, size_t n) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)el[i] + 1);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int l_features(lua_State *L) {
  kiln_dipole *d = checkdip(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  kiln_dipole_model *mdl = kiln_dipole_get_model(d);
  (void)mdl;
  size_t nc = kiln_desc_ncols(kiln_dipole_vector_desc(d));
  kiln_desc *sd = kiln_dipole_scalar_desc(d);
  size_t ns = sd ? kiln_desc_ncols(sd) : 0;
  int32_t *el = lua_newuserdatauv(L, (a->n ? a->n : 1) * sizeof *el, 0);
  int eli = lua_gettop(L);
  double *XV = kiln_l_pusharray(L, NULL, a->n, nc);
  double *XS = NULL;
  if (sd) XS = kiln_l_pusharray(L, NULL, a->n, ns);
  else lua_pushnil(L);
  kiln_error err;
  kiln_l_check(L, kiln_dipole_features(d, a, el, XV, XS, &err), &err, "model:features");
  push_ellist(L, el, a->n);
  lua_remove(L, eli);
  return 3;
}

/* list of 1-based element indices at idx (n entries) into el (0-based) */
static void check_ellist(lua_State *L, int idx, size_t n, int32_t *el) {
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lua_rawlen(L, idx) != n)
    luaL_error(L, "model:set_sparse: %d element indices for %d sparse rows", (int)lua_rawlen(L, idx),
               (int)n);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    int ok;
    lua_Integer v = lua_tointegerx(L, -1, &ok);
    if (!ok || v < 1 || v > KILN_MAX_SPECIES)
      luaL_error(L, "model:set_sparse: element index %d is not an integer in 1..%d", (int)i + 1,
                 KILN_MAX_SPECIES);
    el[i] = (int32_t)(v - 1);
    lua_pop(L, 1);
  }
}

/* m:set_sparse(el, V, S|nil[, a]) */
static int l_set_sparse(lua_State *L) {
  kiln_dipole *d = checkdip(L, 1);
  lua_settop(L, 5); /* checkmatrix pushes scratch values above the arguments */
  size_t nc = kiln_desc_ncols(kiln_dipole_vector_desc(d));
  kiln_desc *sd = kiln_dipole_scalar_desc(d);
  size_t m, c;
  const double *V = kiln_l_checkmatrix(L, 3, 0, nc, &m, &c);
  const double *S = NULL, *a = NULL;
  if (sd) S = kiln_l_checkmatrix(L, 4, m, kiln_desc_ncols(sd), NULL, &c);
  else if (!lua_isnoneornil(L, 4))
    return luaL_error(L, "model:set_sparse: the model has no scalar descriptor (S must be nil)");
  if (!lua_isnoneornil(L, 5)) a = kiln_l_checkmatrix(L, 5, m, 3, NULL, &c);
  int32_t *el = lua_newuserdatauv(L, (m ? m : 1) * sizeof *el, 0);
  check_ellist(L, 2, m, el);
  kiln_error err;
  kiln_l_check(L, kiln_dipole_set_sparse(d, m, el, V, S, a, &err), &err, "model:set_sparse");
  return 0;
}

static int l_sparse(lua_State *L) {
  kiln_dipole_model *mdl = kiln_dipole_get_model(checkdip(L, 1));
  push_ellist(L, mdl->el, mdl->m);
  kiln_l_pusharray(L, mdl->V, mdl->m, 3 * mdl->nv);
  if (mdl->ns) kiln_l_pusharray(L, mdl->S, mdl->m, mdl->ns);
  else lua_pushnil(L);
  return 3;
}

static int l_weights(lua_State *L) {
  kiln_dipole_model *mdl = kiln_dipole_get_model(checkdip(L, 1));
  kiln_l_pusharray(L, mdl->a, mdl->m, 3);
  return 1;
}

static int l_set_weights(lua_State *L) {
  kiln_dipole_model *mdl = kiln_dipole_get_model(checkdip(L, 1));
  if (!mdl->V) return luaL_error(L, "model:set_weights: no sparse environments yet");
  size_t c;
  const double *a = NULL;
  size_t r;
  /* an m x 3 matrix, or a 3m column */
  a = kiln_l_checkmatrix(L, 2, 0, 0, &r, &c);
  if (r * c != 3 * mdl->m)
    return luaL_error(L, "model:set_weights: %d values for %d sparse environments (3 each)",
                      (int)(r * c), (int)mdl->m);
  kiln_error err;
  kiln_l_check(L, kiln_dipole_model_set_weights(mdl, a, &err), &err, "model:set_weights");
  return 0;
}

static int l_design(lua_State *L) {
  kiln_dipole *d = checkdip(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  size_t m = kiln_dipole_get_model(d)->m;
  double *rows = kiln_l_pusharray(L, NULL, 3, 3 * m);
  kiln_error err;
  kiln_l_check(L, kiln_dipole_design(d, a, rows, &err), &err, "model:design");
  return 1;
}

/* m:rows(XV, XS|nil, el) */
static int l_rows(lua_State *L) {
  kiln_dipole *d = checkdip(L, 1);
  lua_settop(L, 4);
  kiln_dipole_model *mdl = kiln_dipole_get_model(d);
  if (!mdl->V) return luaL_error(L, "model:rows: no sparse environments yet");
  size_t n, c;
  const double *XV = kiln_l_checkmatrix(L, 2, 0, 3 * mdl->nv, &n, &c);
  const double *XS = NULL;
  kiln_desc *sd = kiln_dipole_scalar_desc(d);
  if (sd && !lua_isnoneornil(L, 3)) XS = kiln_l_checkmatrix(L, 3, n, kiln_desc_ncols(sd), NULL, &c);
  int32_t *el = lua_newuserdatauv(L, (n ? n : 1) * sizeof *el, 0);
  luaL_checktype(L, 4, LUA_TTABLE);
  if (lua_rawlen(L, 4) != n)
    return luaL_error(L, "model:rows: %d element indices for %d atoms", (int)lua_rawlen(L, 4), (int)n);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, 4, (lua_Integer)i + 1);
    el[i] = (int32_t)lua_tointeger(L, -1) - 1;
    lua_pop(L, 1);
  }
  double *rows = kiln_l_pusharray(L, NULL, 3, 3 * mdl->m);
  kiln_error err;
  kiln_l_check(L, kiln_dipole_rows(mdl, n, el, XV, XS, rows, &err), &err, "model:rows");
  return 1;
}

/* gather(arrays, ks, is[, normalise]) */
static double *gather_src(lua_State *L, size_t r, size_t *cols, const double **row) {
  lua_rawgeti(L, 2, (lua_Integer)r + 1);
  lua_Integer k = lua_tointeger(L, -1);
  lua_rawgeti(L, 3, (lua_Integer)r + 1);
  lua_Integer i = lua_tointeger(L, -1);
  lua_pop(L, 2);
  lua_rawgeti(L, 1, k);
  size_t rows;
  double *src = kiln_l_testarray(L, -1, &rows, cols);
  lua_pop(L, 1); /* the array stays referenced by the arrays table */
  if (!src || i < 1 || (size_t)i > rows)
    luaL_error(L, "gather: entry %d: row %d of array %d does not exist", (int)r + 1, (int)i,
               (int)k);
  *row = src + (size_t)(i - 1) * *cols;
  return src;
}

static int l_gather(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  int norm = lua_toboolean(L, 4);
  lua_settop(L, 4);
  size_t nr = lua_rawlen(L, 2), cols = 0, c;
  if (lua_rawlen(L, 3) != nr) return luaL_error(L, "gather: ks and is differ in length");
  const double *row;
  if (nr > 0) gather_src(L, 0, &cols, &row);
  double *dst = kiln_l_pusharray(L, NULL, nr, cols);
  for (size_t r = 0; r < nr; r++) {
    gather_src(L, r, &c, &row);
    if (c != cols) return luaL_error(L, "gather: arrays differ in width (%d vs %d)", (int)c, (int)cols);
    double sc = 1;
    if (norm) {
      sc = 0;
      for (size_t q = 0; q < cols; q++) sc += row[q] * row[q];
      sc = sc > 0 ? 1 / sqrt(sc) : 0;
    }
    for (size_t q = 0; q < cols; q++) dst[r * cols + q] = sc * row[q];
  }
  return 1;
}

static int l_kmm(lua_State *L) {
  kiln_dipole_model *mdl = kiln_dipole_get_model(checkdip(L, 1));
  double *K = kiln_l_pusharray(L, NULL, 3 * mdl->m, 3 * mdl->m);
  kiln_error err;
  kiln_l_check(L, kiln_dipole_kmm(mdl, K, &err), &err, "model:kmm");
  return 1;
}

static void push_vec3(lua_State *L, const double v[3]) {
  lua_createtable(L, 3, 0);
  for (int k = 0; k < 3; k++) {
    lua_pushnumber(L, v[k]);
    lua_rawseti(L, -2, k + 1);
  }
}

/* m:compute(atoms[, born]) -> mu, M, Z|nil */
static int l_compute(lua_State *L) {
  kiln_dipole *d = checkdip(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  int born = lua_toboolean(L, 3);
  double *mu = kiln_l_pusharray(L, NULL, a->n, 3);
  int mui = lua_gettop(L);
  double M[3];
  double *Z = NULL;
  if (born) Z = kiln_l_pusharray(L, NULL, a->n, 9);
  kiln_error err;
  kiln_l_check(L, kiln_dipole_compute(d, a, (double(*)[3])mu, M, (double(*)[9])Z, &err), &err,
               "model:compute");
  push_vec3(L, M);
  lua_insert(L, mui + 1);
  if (!born) lua_pushnil(L);
  return 3;
}

/* m:dipole(atoms) -> Mx, My, Mz */
static int l_dipole(lua_State *L) {
  kiln_dipole *d = checkdip(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  double M[3];
  kiln_error err;
  kiln_l_check(L, kiln_dipole_compute(d, a, NULL, M, NULL, &err), &err, "model:dipole");
  for (int k = 0; k < 3; k++) lua_pushnumber(L, M[k]);
  return 3;
}

/* solve(A, y, R|nil, reg, jitter) -> x */
static int l_solve(lua_State *L) {
  lua_settop(L, 5);
  size_t nr, n, c;
  const double *A = kiln_l_checkmatrix(L, 1, 0, 0, &nr, &n);
  const double *y = kiln_l_checkmatrix(L, 2, nr, 1, NULL, &c);
  const double *R = lua_isnoneornil(L, 3) ? NULL : kiln_l_checkmatrix(L, 3, n, n, NULL, &c);
  double reg = luaL_checknumber(L, 4), jitter = luaL_optnumber(L, 5, 0.0);
  double *x = kiln_l_pusharray(L, NULL, n, 1);
  kiln_error err;
  kiln_l_check(L, kiln_dipole_solve(nr, n, A, y, R, reg, jitter, x, &err), &err,
               "kiln.dipole.fit");
  return 1;
}

/* ---- series recorded as an md:run observer ---- */

static int l_series(lua_State *L) {
  ldip *p = checkldip(L, 1);
  lua_createtable(L, 0, 3);
  double *st = kiln_l_pusharray(L, NULL, p->nser, 1);
  for (size_t k = 0; k < p->nser; k++) st[k] = p->ser[5 * k];
  lua_setfield(L, -2, "step");
  double *t = kiln_l_pusharray(L, NULL, p->nser, 1);
  for (size_t k = 0; k < p->nser; k++) t[k] = p->ser[5 * k + 1];
  lua_setfield(L, -2, "time");
  double *M = kiln_l_pusharray(L, NULL, p->nser, 3);
  for (size_t k = 0; k < p->nser; k++) memcpy(M + 3 * k, p->ser + 5 * k + 2, 3 * sizeof *M);
  lua_setfield(L, -2, "M");
  return 1;
}

static int l_clear_series(lua_State *L) {
  checkldip(L, 1)->nser = 0;
  return 0;
}

static kiln_status dip_obs(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                           kiln_error *err) {
  ldip *p = ud;
  double M[3];
  kiln_status st = kiln_dipole_compute(p->d, a, NULL, M, NULL, err);
  if (st) return st;
  if ((st = kiln_atoms_info_set(a, "dipole", KILN_VAL_REAL, 3, M, err))) return st;
  if (p->nser == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 256;
    double *s = realloc(p->ser, cap * 5 * sizeof *s);
    if (!s) return KILN_FAIL(err, KILN_ENOMEM, "dipole observer: out of memory (%zu frames)", cap);
    p->ser = s;
    p->cap = cap;
  }
  double *r = p->ser + 5 * p->nser++;
  r[0] = (double)step;
  r[1] = th ? th->time : 0.0;
  memcpy(r + 2, M, sizeof M);
  return KILN_OK;
}

int kiln_l_dipole_observer(lua_State *L, int idx, kiln_l_runctx *ctx, kiln_observer *o,
                           kiln_l_box **busy) {
  (void)ctx;
  kiln_l_box *b = kiln_l_testbox(L, idx, KILN_L_DIPOLE);
  if (!b) return 0;
  if (!b->p) luaL_error(L, "md:run: attempt to use a closed %s as an observer", KILN_L_DIPOLE);
  o->fn = dip_obs;
  o->ud = b->p;
  o->at_start = 0; /* as correlators: the first frame is after `every` steps */
  *busy = b;
  return 1;
}

static int l_meta(lua_State *L) {
  checkldip(L, 1);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

static int l_close(lua_State *L) {
  kiln_l_box *b = kiln_l_testbox(L, 1, KILN_L_DIPOLE);
  if (!b) return luaL_typeerror(L, 1, KILN_L_DIPOLE);
  kiln_l_checknotbusy(L, b, KILN_L_DIPOLE, "close");
  ldip_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_gc(lua_State *L) {
  kiln_l_box *b = kiln_l_testbox(L, 1, KILN_L_DIPOLE);
  if (b && !b->busy) {
    ldip_free(b->p);
    b->p = NULL;
  }
  return 0;
}

static int l_tostring(lua_State *L) {
  kiln_l_box *b = kiln_l_testbox(L, 1, KILN_L_DIPOLE);
  if (!b || !b->p) {
    lua_pushfstring(L, "%s (closed)", KILN_L_DIPOLE);
    return 1;
  }
  kiln_dipole *d = ((ldip *)b->p)->d;
  kiln_dipole_model *mdl = kiln_dipole_get_model(d);
  lua_pushfstring(L, "%s (%d sparse environments, zeta %d)", KILN_L_DIPOLE, (int)mdl->m,
                  kiln_dipole_zeta(d));
  return 1;
}

/* fields: nv ns zeta nsparse cutoff; else methods */
static int l_index(lua_State *L) {
  const char *k = lua_tostring(L, 2);
  if (k) {
    kiln_l_box *b = kiln_l_testbox(L, 1, KILN_L_DIPOLE);
    if (b && b->p) {
      kiln_dipole *d = ((ldip *)b->p)->d;
      kiln_desc *sd = kiln_dipole_scalar_desc(d);
      if (!strcmp(k, "nv")) {
        lua_pushinteger(L, (lua_Integer)kiln_desc_ncols(kiln_dipole_vector_desc(d)) / 3);
        return 1;
      }
      if (!strcmp(k, "ns")) {
        lua_pushinteger(L, sd ? (lua_Integer)kiln_desc_ncols(sd) : 0);
        return 1;
      }
      if (!strcmp(k, "zeta")) {
        lua_pushinteger(L, kiln_dipole_zeta(d));
        return 1;
      }
      if (!strcmp(k, "nsparse")) {
        lua_pushinteger(L, (lua_Integer)kiln_dipole_get_model(d)->m);
        return 1;
      }
      if (!strcmp(k, "cutoff")) {
        double rc = kiln_desc_cutoff(kiln_dipole_vector_desc(d));
        if (sd && kiln_desc_cutoff(sd) > rc) rc = kiln_desc_cutoff(sd);
        lua_pushnumber(L, rc);
        return 1;
      }
    }
  }
  lua_pushvalue(L, 2);
  if (lua_gettable(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  if (!kiln_l_testbox(L, 1, KILN_L_DIPOLE) || lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static const luaL_Reg methods[] = {
    {"features", l_features}, {"set_sparse", l_set_sparse}, {"sparse", l_sparse},
    {"weights", l_weights},   {"set_weights", l_set_weights}, {"design", l_design},
    {"kmm", l_kmm},           {"rows", l_rows},           {"compute", l_compute},       {"dipole", l_dipole},
    {"series", l_series},     {"clear_series", l_clear_series}, {"_meta", l_meta},
    {"close", l_close},       {NULL, NULL}};
static const luaL_Reg meta[] = {
    {"__gc", l_gc}, {"__close", l_gc}, {"__tostring", l_tostring}, {NULL, NULL}};
static const luaL_Reg funcs[] = {{"new", l_new}, {"solve", l_solve}, {"gather", l_gather}, {NULL, NULL}};

int luaopen_kiln_c_dipole(lua_State *L) {
  kiln_l_newclass(L, KILN_L_DIPOLE, meta, methods);
  kiln_l_setindex(L, KILN_L_DIPOLE, l_index);
  luaL_newlib(L, funcs);
  kiln_l_exportclass(L, KILN_L_DIPOLE);
  return 1;
}
