/* lua/l_lattice.c: kiln.LatticeModel, a box around a kiln_lattice (include/kiln/lattice.h)
 * and its current occupation. Low-level positional functions, 1-based species, sites and
 * shells; stdlib/kiln/lattice.lua gives them the public API (kiln.lattice.model{...}). */
#include <stdlib.h>
#include <string.h>
#include "lkiln.h"
#include "kiln/lattice.h"

#define KILN_L_LATTICE "kiln.LatticeModel"

typedef struct lmodel {
  kiln_lattice *m;
  int32_t *occ;
  size_t n;
  int ns;
} lmodel;

static lmodel *checkmodel(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_LATTICE)->p; }

static void freemodel(lmodel *lm) {
  if (!lm) return;
  kiln_lattice_free(lm->m);
  free(lm->occ);
  free(lm);
}

/* new(atoms, nspecies, nshells, tol, triangles) */
static int l_new(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  int ns = (int)luaL_checkinteger(L, 2), nsh = (int)luaL_checkinteger(L, 3);
  double tol = luaL_optnumber(L, 4, 0.05);
  int tri = lua_toboolean(L, 5);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_LATTICE, 1);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  lmodel *lm = calloc(1, sizeof *lm);
  if (!lm) return luaL_error(L, "kiln.lattice.model: out of memory");
  kiln_error err;
  kiln_status st = kiln_lattice_new(&lm->m, a, ns, nsh, tol, tri, &err);
  if (st) {
    free(lm);
    kiln_l_check(L, st, &err, "kiln.lattice.model");
  }
  lm->n = kiln_lattice_nsites(lm->m);
  lm->ns = ns;
  lm->occ = calloc(lm->n, sizeof *lm->occ);
  if (!lm->occ) {
    freemodel(lm);
    return luaL_error(L, "kiln.lattice.model: out of memory");
  }
  b->p = lm;
  return 1;
}

static int checkspecies(lua_State *L, lmodel *lm, int arg) {
  lua_Integer a = luaL_checkinteger(L, arg);
  luaL_argcheck(L, a >= 1 && a <= lm->ns, arg, "species index out of range");
  return (int)a - 1;
}

static int checkshell(lua_State *L, lmodel *lm, int arg) {
  lua_Integer k = luaL_checkinteger(L, arg);
  luaL_argcheck(L, k >= 1 && k <= kiln_lattice_nshells(lm->m), arg, "shell index out of range");
  return (int)k - 1;
}

static size_t checksite(lua_State *L, lmodel *lm, int arg) {
  lua_Integer i = luaL_checkinteger(L, arg);
  luaL_argcheck(L, i >= 1 && (size_t)i <= lm->n, arg, "site index out of range");
  return (size_t)i - 1;
}

/* m:_set_pair(k, a, b, J) */
static int l_set_pair(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  int k = checkshell(L, lm, 2), a = checkspecies(L, lm, 3), b = checkspecies(L, lm, 4);
  kiln_error err;
  kiln_l_check(L, kiln_lattice_set_pair(lm->m, k, a, b, luaL_checknumber(L, 5), &err), &err,
               "set_pair");
  return 0;
}
static int l_get_pair(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  int k = checkshell(L, lm, 2), a = checkspecies(L, lm, 3), b = checkspecies(L, lm, 4);
  lua_pushnumber(L, kiln_lattice_get_pair(lm->m, k, a, b));
  return 1;
}
/* m:_set_triplet(a, b, c, K) */
static int l_set_triplet(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  int a = checkspecies(L, lm, 2), b = checkspecies(L, lm, 3), c = checkspecies(L, lm, 4);
  kiln_error err;
  kiln_l_check(L, kiln_lattice_set_triplet(lm->m, a, b, c, luaL_checknumber(L, 5), &err), &err,
               "set_triplet");
  return 0;
}
static int l_set_mu(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  int a = checkspecies(L, lm, 2);
  kiln_error err;
  kiln_l_check(L, kiln_lattice_set_mu(lm->m, a, luaL_checknumber(L, 3), &err), &err, "set_mu");
  return 0;
}
static int l_get_mu(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  lua_pushnumber(L, kiln_lattice_get_mu(lm->m, checkspecies(L, lm, 2)));
  return 1;
}

/* m:_set_occ({1-based species per site}) */
static int l_set_occ(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (luaL_len(L, 2) != (lua_Integer)lm->n)
    return luaL_error(L, "occupation: expected %d sites, got %d", (int)lm->n, (int)luaL_len(L, 2));
  for (size_t i = 0; i < lm->n; i++) {
    lua_geti(L, 2, (lua_Integer)i + 1);
    int isnum;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum || v < 1 || v > lm->ns)
      return luaL_error(L, "occupation: site %d must hold a species index 1..%d", (int)i + 1, lm->ns);
    lm->occ[i] = (int32_t)v - 1;
  }
  return 0;
}
static int l_occ(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  lua_createtable(L, (int)lm->n, 0);
  for (size_t i = 0; i < lm->n; i++) {
    lua_pushinteger(L, lm->occ[i] + 1);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}
static int l_get(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  lua_pushinteger(L, lm->occ[checksite(L, lm, 2)] + 1);
  return 1;
}
static int l_set(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  size_t i = checksite(L, lm, 2);
  lm->occ[i] = checkspecies(L, lm, 3);
  return 0;
}

static int l_energy(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  lua_pushnumber(L, kiln_lattice_energy(lm->m, lm->occ));
  return 1;
}
static int l_flip_delta(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  size_t i = checksite(L, lm, 2);
  lua_pushnumber(L, kiln_lattice_flip_delta(lm->m, lm->occ, i, checkspecies(L, lm, 3)));
  return 1;
}
static int l_swap_delta(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  size_t i = checksite(L, lm, 2), j = checksite(L, lm, 3);
  lua_pushnumber(L, kiln_lattice_swap_delta(lm->m, lm->occ, i, j));
  return 1;
}

static void fill_numbers(lua_State *L, int tbl, double *v, size_t n, const char *what) {
  for (size_t i = 0; i < n; i++) {
    lua_geti(L, tbl, (lua_Integer)i + 1);
    int isnum;
    v[i] = lua_tonumberx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum) luaL_error(L, "%s: entry %d is not a number", what, (int)i + 1);
  }
}

/* reads optional tables w (n) and sigma (ns) at args iw, is into userdata buffers */
static void get_weights(lua_State *L, lmodel *lm, int iw, int is, const double **w,
                        const double **sig) {
  *w = NULL;
  *sig = NULL;
  if (!lua_isnoneornil(L, iw)) {
    luaL_checktype(L, iw, LUA_TTABLE);
    if (luaL_len(L, iw) != (lua_Integer)lm->n)
      luaL_error(L, "order: site weights must have %d entries (got %d)", (int)lm->n,
                 (int)luaL_len(L, iw));
    double *v = lua_newuserdatauv(L, lm->n * sizeof *v, 0);
    fill_numbers(L, iw, v, lm->n, "order weights");
    *w = v;
  } else lua_pushnil(L);
  if (!lua_isnoneornil(L, is)) {
    luaL_checktype(L, is, LUA_TTABLE);
    if (luaL_len(L, is) != (lua_Integer)lm->ns)
      luaL_error(L, "order: species values must have %d entries (got %d)", lm->ns,
                 (int)luaL_len(L, is));
    double *v = lua_newuserdatauv(L, (size_t)lm->ns * sizeof *v, 0);
    fill_numbers(L, is, v, (size_t)lm->ns, "order species values");
    *sig = v;
  } else lua_pushnil(L);
}

static int interrupted_check(lua_State *L) {
  if (kiln_l_interrupted) {
    kiln_l_interrupted = 0;
    return luaL_error(L, "lattice run: interrupted");
  }
  return 0;
}

/* m:_run(rng, beta, move, nsweeps, every, w|nil, sigma|nil) -> E, order, counts (Arrays), accepted */
static int l_run(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  kiln_rng *rng = luaL_checkudata(L, 2, KILN_L_RNG);
  kiln_lattice_run r;
  r.beta = luaL_checknumber(L, 3);
  r.move = (int)luaL_checkinteger(L, 4);
  r.nsweeps = (long)luaL_checkinteger(L, 5);
  r.every = (long)luaL_optinteger(L, 6, 1);
  luaL_argcheck(L, r.every >= 1 && r.nsweeps >= 0, 6, "sweeps >= 0 and every >= 1 required");
  get_weights(L, lm, 7, 8, &r.w, &r.sigma);
  size_t nrec = (size_t)(r.nsweeps / r.every);
  double *E = kiln_l_pusharray(L, NULL, nrec, 1);
  double *O = kiln_l_pusharray(L, NULL, nrec, 1);
  double *C = kiln_l_pusharray(L, NULL, nrec, (size_t)lm->ns);
  long acc = 0;
  kiln_error err;
  /* run in chunks so Ctrl-C can stop a long run */
  long done = 0, chunk = r.every * (1 + 2000000 / (long)(lm->n * (size_t)r.every + 1));
  while (done < r.nsweeps) {
    kiln_lattice_run rc = r;
    rc.nsweeps = r.nsweeps - done < chunk ? r.nsweeps - done : chunk;
    long a = 0;
    size_t off = (size_t)(done / r.every);
    kiln_l_check(L, kiln_lattice_sweep(lm->m, lm->occ, rng, &rc, E + off, O + off,
                                       C + off * (size_t)lm->ns, &a, &err), &err, "run");
    acc += a;
    done += rc.nsweeps;
    interrupted_check(L);
  }
  lua_pushinteger(L, acc);
  return 4;
}

/* m:_sample(rng, beta, move, nsamples, every, nenv, w|nil, sigma|nil)
 *   -> H (nsamples x ncodes env histogram), B (nsamples x nsh*ns*ns bond counts),
 *      E (nsamples x 1), order (nsamples x 1), counts (nsamples x ns) */
static int l_sample(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  kiln_rng *rng = luaL_checkudata(L, 2, KILN_L_RNG);
  kiln_lattice_run r;
  r.beta = luaL_checknumber(L, 3);
  r.move = (int)luaL_checkinteger(L, 4);
  lua_Integer nsamp = luaL_checkinteger(L, 5);
  r.every = (long)luaL_checkinteger(L, 6);
  int nenv = (int)luaL_checkinteger(L, 7);
  luaL_argcheck(L, nsamp >= 1 && r.every >= 1, 5, "samples >= 1 and every >= 1 required");
  get_weights(L, lm, 8, 9, &r.w, &r.sigma);
  r.nsweeps = r.every;
  size_t nc = kiln_lattice_env_ncodes(lm->m, nenv);
  if (nc == 0) return luaL_error(L, "sample: bad environment shells %d", nenv);
  const size_t nsh = (size_t)kiln_lattice_nshells(lm->m), ns = (size_t)lm->ns;
  double *H = kiln_l_pusharray(L, NULL, (size_t)nsamp, nc);
  double *B = kiln_l_pusharray(L, NULL, (size_t)nsamp, nsh * ns * ns);
  double *E = kiln_l_pusharray(L, NULL, (size_t)nsamp, 1);
  double *O = kiln_l_pusharray(L, NULL, (size_t)nsamp, 1);
  double *C = kiln_l_pusharray(L, NULL, (size_t)nsamp, ns);
  int32_t *code = lua_newuserdatauv(L, lm->n * sizeof *code, 0);
  kiln_error err;
  for (lua_Integer s = 0; s < nsamp; s++) {
    kiln_l_check(L, kiln_lattice_sweep(lm->m, lm->occ, rng, &r, E + s, O + s, C + s * ns, NULL,
                                       &err), &err, "sample");
    kiln_l_check(L, kiln_lattice_env_codes(lm->m, lm->occ, nenv, code, &err), &err, "sample");
    double *h = H + (size_t)s * nc;
    for (size_t i = 0; i < lm->n; i++)
      if (code[i] >= 0) h[code[i]] += 1;
    kiln_lattice_bond_counts(lm->m, lm->occ, B + (size_t)s * nsh * ns * ns, NULL);
    if ((s & 63) == 0) interrupted_check(L);
  }
  lua_pop(L, 1);
  return 5;
}

/* m:_env_hist(nenv) -> Array ncodes x 1 (counts), number of complete sites */
static int l_env_hist(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  int nenv = (int)luaL_checkinteger(L, 2);
  size_t nc = kiln_lattice_env_ncodes(lm->m, nenv);
  if (nc == 0) return luaL_error(L, "environments: bad environment shells %d (model has %d)", nenv,
                                 kiln_lattice_nshells(lm->m));
  double *h = kiln_l_pusharray(L, NULL, nc, 1);
  int32_t *code = lua_newuserdatauv(L, lm->n * sizeof *code, 0);
  kiln_error err;
  kiln_l_check(L, kiln_lattice_env_codes(lm->m, lm->occ, nenv, code, &err), &err, "environments");
  lua_Integer ncomplete = 0;
  for (size_t i = 0; i < lm->n; i++)
    if (code[i] >= 0) {
      h[code[i]] += 1;
      ncomplete++;
    }
  lua_pop(L, 1);
  lua_pushinteger(L, ncomplete);
  return 2;
}

/* m:_env_codes(nenv) -> table (1-based codes, 0 for incomplete sites) */
static int l_env_codes(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  int nenv = (int)luaL_checkinteger(L, 2);
  int32_t *code = lua_newuserdatauv(L, lm->n * sizeof *code, 0);
  kiln_error err;
  kiln_l_check(L, kiln_lattice_env_codes(lm->m, lm->occ, nenv, code, &err), &err, "environments");
  lua_createtable(L, (int)lm->n, 0);
  for (size_t i = 0; i < lm->n; i++) {
    lua_pushinteger(L, code[i] + 1);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* m:_env_decode(nenv, code1) -> species (1-based), {counts shell-major, ns per shell} */
static int l_env_decode(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  int nenv = (int)luaL_checkinteger(L, 2);
  size_t nc = kiln_lattice_env_ncodes(lm->m, nenv);
  lua_Integer c = luaL_checkinteger(L, 3);
  luaL_argcheck(L, nc > 0 && c >= 1 && (size_t)c <= nc, 3, "environment code out of range");
  int sp, counts[KILN_LATTICE_MAX_SHELLS * KILN_LATTICE_MAX_SPECIES];
  kiln_lattice_env_decode(lm->m, nenv, (int32_t)(c - 1), &sp, counts);
  lua_pushinteger(L, sp + 1);
  lua_createtable(L, nenv * lm->ns, 0);
  for (int q = 0; q < nenv * lm->ns; q++) {
    lua_pushinteger(L, counts[q]);
    lua_rawseti(L, -2, q + 1);
  }
  return 2;
}

/* m:_bond_counts() -> Array nshells x ns*ns */
static int l_bond_counts(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  const size_t nsh = (size_t)kiln_lattice_nshells(lm->m), ns = (size_t)lm->ns;
  double *c = kiln_l_pusharray(L, NULL, nsh, ns * ns);
  kiln_lattice_bond_counts(lm->m, lm->occ, c, NULL);
  return 1;
}

/* m:_neighbors(k, i) -> table of 1-based sites */
static int l_neighbors(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  int k = checkshell(L, lm, 2);
  size_t i = checksite(L, lm, 3);
  int cnt;
  const int32_t *nb = kiln_lattice_neighbors(lm->m, k, i, &cnt);
  lua_createtable(L, cnt, 0);
  for (int e = 0; e < cnt; e++) {
    lua_pushinteger(L, nb[e] + 1);
    lua_rawseti(L, -2, e + 1);
  }
  return 1;
}

static int l_shell(lua_State *L) {
  lmodel *lm = checkmodel(L, 1);
  int k = checkshell(L, lm, 2);
  lua_pushnumber(L, kiln_lattice_shell_distance(lm->m, k));
  lua_pushinteger(L, kiln_lattice_shell_size(lm->m, k));
  return 2;
}

/* weights(phi Array ns x nf, dtheta table nf) -> w Array ns x 1, ess */
static int l_weights(lua_State *L) {
  size_t ns, nf;
  const double *phi = kiln_l_checkmatrix(L, 1, 0, 0, &ns, &nf);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (luaL_len(L, 2) != (lua_Integer)nf)
    return luaL_error(L, "weights: dtheta must have %d entries", (int)nf);
  double *dt = lua_newuserdatauv(L, (nf + 1) * sizeof *dt, 0);
  fill_numbers(L, 2, dt, nf, "weights");
  double *w = kiln_l_pusharray(L, NULL, ns, 1);
  double ess = kiln_lattice_weights(ns, nf, phi, dt, w);
  lua_pushnumber(L, ess);
  return 2;
}

/* wmean(X Array ns x nc, w Array ns x 1) -> Array 1 x nc */
static int l_wmean(lua_State *L) {
  size_t ns, nc, nw, one;
  const double *X = kiln_l_checkmatrix(L, 1, 0, 0, &ns, &nc);
  const double *w = kiln_l_checkmatrix(L, 2, 0, 0, &nw, &one);
  if (nw * one != ns) return luaL_error(L, "wmean: %d weights for %d samples", (int)(nw * one), (int)ns);
  double *out = kiln_l_pusharray(L, NULL, 1, nc);
  kiln_lattice_wmean(ns, nc, X, w, out);
  return 1;
}

/* m:_fields() -> the table of Lua-side fields */
static int l_fields(lua_State *L) {
  luaL_checkudata(L, 1, KILN_L_LATTICE);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

static int l_close(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_LATTICE);
  freemodel(b->p);
  b->p = NULL;
  return 0;
}

static int l_index(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_LATTICE);
  const char *k = lua_tostring(L, 2);
  if (k && b->p) {
    lmodel *lm = b->p;
    if (!strcmp(k, "nsites")) { lua_pushinteger(L, (lua_Integer)lm->n); return 1; }
    if (!strcmp(k, "nspecies")) { lua_pushinteger(L, lm->ns); return 1; }
    if (!strcmp(k, "nshells")) { lua_pushinteger(L, kiln_lattice_nshells(lm->m)); return 1; }
    if (!strcmp(k, "ntriangles")) {
      lua_pushinteger(L, (lua_Integer)kiln_lattice_ntriangles(lm->m));
      return 1;
    }
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (lua_isnil(L, -1) && k) {
    /* the Lua layer keeps per-model fields (species, sites, ...) in the user value */
    if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
      lua_pushvalue(L, 2);
      lua_rawget(L, -2);
    }
  }
  return 1;
}

static int l_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_LATTICE);
  if (!b->p) {
    lua_pushfstring(L, "%s (closed)", KILN_L_LATTICE);
    return 1;
  }
  lmodel *lm = b->p;
  lua_pushfstring(L, "%s(%d sites, %d species, %d shells)", KILN_L_LATTICE, (int)lm->n, lm->ns,
                  kiln_lattice_nshells(lm->m));
  return 1;
}

static const luaL_Reg methods[] = {
    {"_set_pair", l_set_pair}, {"_get_pair", l_get_pair}, {"_set_triplet", l_set_triplet},
    {"_set_mu", l_set_mu},     {"_get_mu", l_get_mu},     {"_set_occ", l_set_occ},
    {"_occ", l_occ},           {"_get", l_get},           {"_set", l_set},
    {"energy", l_energy},      {"_flip_delta", l_flip_delta}, {"_swap_delta", l_swap_delta},
    {"_run", l_run},           {"_sample", l_sample},     {"_env_hist", l_env_hist},
    {"_env_codes", l_env_codes}, {"_env_decode", l_env_decode}, {"_bond_counts", l_bond_counts},
    {"_neighbors", l_neighbors}, {"_shell", l_shell},     {"close", l_close},
    {"_fields", l_fields},
    {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__gc", l_close}, {"__close", l_close}, {"__tostring", l_tostring}, {NULL, NULL}};

static const luaL_Reg funcs[] = {
    {"new", l_new}, {"weights", l_weights}, {"wmean", l_wmean}, {NULL, NULL}};

int luaopen_kiln_c_lattice(lua_State *L) {
  kiln_l_newclass(L, KILN_L_LATTICE, meta, methods);
  kiln_l_setindex(L, KILN_L_LATTICE, l_index);
  luaL_newlib(L, funcs);
  kiln_l_exportclass(L, KILN_L_LATTICE);
  lua_pushinteger(L, KILN_LATTICE_FLIP);
  lua_setfield(L, -2, "FLIP");
  lua_pushinteger(L, KILN_LATTICE_SWAP_LOCAL);
  lua_setfield(L, -2, "SWAP_LOCAL");
  lua_pushinteger(L, KILN_LATTICE_SWAP_ANY);
  lua_setfield(L, -2, "SWAP_ANY");
  lua_pushinteger(L, KILN_LATTICE_CLUSTER);
  lua_setfield(L, -2, "CLUSTER");
  return 1;
}
