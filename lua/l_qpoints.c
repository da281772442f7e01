/* lua/l_qpoints.c: binding module kiln.c.qpoints, the geometry kernels behind
 * stdlib/kiln/qpoints.lua (lattice detection, labels, commensurate segments,
 * spheres, shells, spherical averages). Index triples travel as kiln.Array
 * n x 3 of integral numbers; q in rad/Å (with the 2π). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lkiln.h"
#include "kiln/qpoints.h"

static void setnum(lua_State *L, const char *k, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

static void pushlattice(lua_State *L, const kiln_lattice *lat) {
  lua_createtable(L, 0, 10);
  lua_pushstring(L, kiln_lattice_name(lat->kind));
  lua_setfield(L, -2, "lattice");
  setnum(L, "a", lat->a);
  setnum(L, "b", lat->b);
  setnum(L, "c", lat->c);
  kiln_l_pushmat3(L, lat->prim);
  lua_setfield(L, -2, "primitive");
  kiln_l_pushmat3(L, lat->conv);
  lua_setfield(L, -2, "conventional");
  kiln_l_pushmat3(L, lat->recip);
  lua_setfield(L, -2, "reciprocal");
  lua_pushinteger(L, lat->ncells);
  lua_setfield(L, -2, "ncells");
  lua_pushinteger(L, lat->nbasis);
  lua_setfield(L, -2, "nbasis");
  int n;
  const char *const *names = kiln_lattice_labels(lat->kind, &n);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "labels");
}

/* a lattice table (from detect/make) back to the fields the labels need */
static void tolattice(lua_State *L, int idx, kiln_lattice *lat) {
  memset(lat, 0, sizeof *lat);
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "lattice");
  kiln_error err;
  kiln_lattice_kind kind;
  if (kiln_lattice_kind_from_name(lua_tostring(L, -1), &kind, &err)) kiln_l_fail(L, &err, "qpoints");
  lua_pop(L, 1);
  lat->kind = kind;
  lua_getfield(L, idx, "reciprocal");
  kiln_l_checkmat3(L, lua_gettop(L), lat->recip);
  lua_pop(L, 1);
}

/* detect(atoms[, tol]) -> lattice table */
static int l_detect(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  double tol = luaL_optnumber(L, 2, 0);
  kiln_lattice lat;
  kiln_error err;
  kiln_status st = kiln_lattice_detect(a, tol, &lat, &err);
  kiln_l_check(L, st, &err, "lattice detection");
  pushlattice(L, &lat);
  return 1;
}

/* make(kind, a[, b, c]) -> lattice table */
static int l_make(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  kiln_lattice_kind kind;
  kiln_lattice lat;
  kiln_error err;
  if (kiln_lattice_kind_from_name(name, &kind, &err)) return kiln_l_fail(L, &err, "qpoints");
  kiln_status st = kiln_lattice_make(kind, luaL_checknumber(L, 2), luaL_optnumber(L, 3, 0),
                                     luaL_optnumber(L, 4, 0), &lat, &err);
  if (st) return kiln_l_fail(L, &err, "qpoints");
  pushlattice(L, &lat);
  return 1;
}

/* point(lattice, label) -> {x, y, z} (rad/Å), or nil, message */
static int l_point(lua_State *L) {
  kiln_lattice lat;
  tolattice(L, 1, &lat);
  const char *label = luaL_checkstring(L, 2);
  double q[3];
  kiln_error err;
  if (kiln_lattice_point(&lat, label, q, &err)) {
    lua_pushnil(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  lua_createtable(L, 3, 0);
  for (int d = 0; d < 3; d++) {
    lua_pushnumber(L, q[d]);
    lua_rawseti(L, -2, d + 1);
  }
  return 1;
}

/* reciprocal(cell) -> 3x3 rows b_j (rad/Å) */
static int l_reciprocal(lua_State *L) {
  double cell[3][3], r[3][3];
  kiln_l_checkmat3(L, 1, cell);
  kiln_error err;
  kiln_l_check(L, kiln_cell_reciprocal(cell, r, &err), &err, "qpoints");
  kiln_l_pushmat3(L, r);
  return 1;
}

static void pushhkl(lua_State *L, const long (*hkl)[3], size_t n) {
  double *d = kiln_l_pusharray(L, NULL, n, 3);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < 3; k++) d[3 * i + k] = (double)hkl[i][k];
}

/* segment(cell, qa, qb[, tol]) -> Array n x 3 of (h, k, l) */
static int l_segment(lua_State *L) {
  double cell[3][3], qa[3], qb[3];
  kiln_l_checkmat3(L, 1, cell);
  kiln_l_checkvec3(L, 2, qa);
  kiln_l_checkvec3(L, 3, qb);
  double tol = luaL_optnumber(L, 4, 1e-6);
  long (*hkl)[3] = NULL;
  size_t n = 0;
  kiln_error err;
  kiln_status st = kiln_qpoints_segment(cell, qa, qb, tol, &hkl, &n, &err);
  if (st) return kiln_l_fail(L, &err, "qpoints");
  pushhkl(L, (const long (*)[3])hkl, n);
  free(hkl);
  return 1;
}

/* commensurate(cell, q (n x 3)[, tol]) -> {bool...}, Array n x 3 (h, k, l rounded) */
static int l_commensurate(lua_State *L) {
  double cell[3][3];
  kiln_l_checkmat3(L, 1, cell);
  size_t n;
  const double *q = kiln_l_checkmatrix(L, 2, 0, 3, &n, NULL);
  double tol = luaL_optnumber(L, 3, 1e-6);
  lua_createtable(L, (int)n, 0);
  double *d = kiln_l_pusharray(L, NULL, n, 3);
  for (size_t i = 0; i < n; i++) {
    long h[3];
    int ok = kiln_qpoint_commensurate(cell, q + 3 * i, tol, h);
    for (int k = 0; k < 3; k++) d[3 * i + k] = (double)h[k];
    lua_pushboolean(L, ok);
    lua_rawseti(L, -3, (lua_Integer)i + 1);
  }
  return 2;
}

/* hkl_to_q(cell, hkl (n x 3)) -> Array n x 3 of q (rad/Å) */
static int l_hkl_to_q(lua_State *L) {
  double cell[3][3], B[3][3];
  kiln_l_checkmat3(L, 1, cell);
  kiln_error err;
  kiln_l_check(L, kiln_cell_reciprocal(cell, B, &err), &err, "qpoints");
  size_t n;
  const double *h = kiln_l_checkmatrix(L, 2, 0, 3, &n, NULL);
  double *q = kiln_l_pusharray(L, NULL, n, 3);
  for (size_t i = 0; i < n; i++)
    for (int d = 0; d < 3; d++)
      q[3 * i + d] = h[3 * i] * B[0][d] + h[3 * i + 1] * B[1][d] + h[3 * i + 2] * B[2][d];
  return 1;
}

/* sphere(cell, qmin, qmax) -> Array hkl (n x 3), Array |q| (n x 1) */
static int l_sphere(lua_State *L) {
  double cell[3][3], B[3][3];
  kiln_l_checkmat3(L, 1, cell);
  double qmin = luaL_checknumber(L, 2), qmax = luaL_checknumber(L, 3);
  long (*hkl)[3] = NULL;
  size_t n = 0;
  kiln_error err;
  kiln_status st = kiln_qpoints_sphere(cell, qmin, qmax, &hkl, &n, &err);
  if (!st) st = kiln_cell_reciprocal(cell, B, &err);
  if (st) {
    free(hkl);
    return kiln_l_fail(L, &err, "qpoints");
  }
  pushhkl(L, (const long (*)[3])hkl, n);
  double *qn = kiln_l_pusharray(L, NULL, n, 1);
  for (size_t i = 0; i < n; i++) {
    double q[3];
    for (int d = 0; d < 3; d++)
      q[d] = (double)hkl[i][0] * B[0][d] + (double)hkl[i][1] * B[1][d] + (double)hkl[i][2] * B[2][d];
    qn[i] = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);
  }
  free(hkl);
  return 2;
}

/* pick_shells(qnorm (n x 1), qmax, nshells, per_shell, seed) -> Array n x 1:
 * 1-based shell of each kept point, 0 for dropped */
static int l_pick_shells(lua_State *L) {
  size_t n;
  const double *qn = kiln_l_checkmatrix(L, 1, 0, 1, &n, NULL);
  double qmax = luaL_checknumber(L, 2);
  lua_Integer ns = luaL_checkinteger(L, 3), per = luaL_checkinteger(L, 4),
              seed = luaL_checkinteger(L, 5);
  luaL_argcheck(L, ns >= 1 && ns <= 1000000, 3, "number of shells in [1, 10^6] expected");
  luaL_argcheck(L, seed >= 0, 5, "non-negative seed expected");
  int *keep = lua_newuserdatauv(L, (n ? n : 1) * sizeof *keep, 0);
  kiln_error err;
  kiln_status st = kiln_qpoints_pick_shells(qn, n, qmax, (int)ns, (long)per,
                                            (unsigned long long)seed, keep, &err);
  if (st) return kiln_l_fail(L, &err, "qpoints");
  double *out = kiln_l_pusharray(L, NULL, n, 1);
  for (size_t i = 0; i < n; i++) out[i] = keep[i] + 1;
  return 1;
}

/* gauss(qnorm (n x 1), values (n x m), Q (k x 1), width, sum) -> Array k x m */
static int l_gauss(lua_State *L) {
  size_t n, nv, m, nQ;
  const double *qn = kiln_l_checkmatrix(L, 1, 0, 1, &n, NULL);
  const double *v = kiln_l_checkmatrix(L, 2, 0, 0, &nv, &m);
  if (nv != n)
    return luaL_error(L, "spherical_average: values have %d rows but there are %d q-points",
                      (int)nv, (int)n);
  const double *Q = kiln_l_checkmatrix(L, 3, 0, 1, &nQ, NULL);
  double width = luaL_checknumber(L, 4);
  int sum = lua_toboolean(L, 5);
  double *out = kiln_l_pusharray(L, NULL, nQ, m);
  kiln_error err;
  kiln_status st = kiln_qpoints_spherical_gauss(qn, v, n, m, Q, nQ, width, sum, out, &err);
  if (st) return kiln_l_fail(L, &err, "spherical_average");
  return 1;
}

/* bins(qnorm, values, qlo, qhi, nbins) -> Array nbins x m (means), Array nbins x 1 (counts) */
static int l_bins(lua_State *L) {
  size_t n, nv, m;
  const double *qn = kiln_l_checkmatrix(L, 1, 0, 1, &n, NULL);
  const double *v = kiln_l_checkmatrix(L, 2, 0, 0, &nv, &m);
  if (nv != n)
    return luaL_error(L, "spherical_average: values have %d rows but there are %d q-points",
                      (int)nv, (int)n);
  double lo = luaL_checknumber(L, 3), hi = luaL_checknumber(L, 4);
  lua_Integer nb = luaL_checkinteger(L, 5);
  luaL_argcheck(L, nb >= 1 && nb <= 100000000, 5, "number of bins >= 1 expected");
  long *cnt = lua_newuserdatauv(L, (size_t)nb * sizeof *cnt, 0);
  double *out = kiln_l_pusharray(L, NULL, (size_t)nb, m);
  kiln_error err;
  kiln_status st = kiln_qpoints_spherical_bins(qn, v, n, m, lo, hi, (size_t)nb, out, cnt, &err);
  if (st) return kiln_l_fail(L, &err, "spherical_average");
  double *c = kiln_l_pusharray(L, NULL, (size_t)nb, 1);
  for (lua_Integer i = 0; i < nb; i++) c[i] = (double)cnt[i];
  return 2;
}

static const luaL_Reg funcs[] = {
    {"detect", l_detect},       {"make", l_make},
    {"point", l_point},         {"reciprocal", l_reciprocal},
    {"segment", l_segment},     {"commensurate", l_commensurate},
    {"hkl_to_q", l_hkl_to_q},   {"sphere", l_sphere},
    {"pick_shells", l_pick_shells}, {"gauss", l_gauss},
    {"bins", l_bins},           {NULL, NULL}};

int luaopen_kiln_c_qpoints(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
