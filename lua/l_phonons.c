/* lua/l_phonons.c: kiln.Phonons, a box around kiln_phonons (include/kiln/phonons.h).
 * Low-level functions with positional arguments; stdlib/kiln/phonons.lua gives them the
 * public named-option API (kiln.phonons{...}, ph:frequencies(q), ph:dos{...}, ...).
 * Matrices: modes and dynamical matrices are returned as real and imaginary kiln.Arrays
 * with one ROW per mode (row j = eigenvector of mode j, component 3(κ-1)+α). */
#include <string.h>
#include "lkiln.h"
#include "kiln/phonons.h"

#define KILN_L_PHONONS "kiln.Phonons"

static kiln_phonons *checkph(lua_State *L, int i) {
  return kiln_l_checkbox(L, i, KILN_L_PHONONS)->p;
}

static int interrupted(void *ud, long done, long total) {
  (void)ud;
  (void)done;
  (void)total;
  if (kiln_l_interrupted) {
    kiln_l_interrupted = 0;
    return 1;
  }
  return 0;
}

static void checksettings(lua_State *L, int arg, kiln_phonons_settings *s) {
  for (int d = 0; d < 3; d++) s->supercell[d] = (int)luaL_checkinteger(L, arg + d);
  s->delta = luaL_optnumber(L, arg + 3, 0.01);
  s->stencil = (int)luaL_optinteger(L, arg + 4, 2);
  s->asr = lua_toboolean(L, arg + 5);
}

/* new(atoms, pot, n1, n2, n3, delta, stencil, asr) */
static int l_new(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  kiln_pot *p = kiln_l_checkpot(L, 2);
  kiln_phonons_settings s;
  checksettings(L, 3, &s);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_PHONONS, 0);
  kiln_error err;
  kiln_l_check(L, kiln_phonons_new((kiln_phonons **)&b->p, a, p, &s, interrupted, NULL, &err),
               &err, "kiln.phonons");
  return 1;
}

/* read_fc(atoms, file, n1, n2, n3, asr) */
static int l_read_fc(lua_State *L) {
  kiln_atoms *a = kiln_l_checkatoms(L, 1);
  const char *file = luaL_checkstring(L, 2);
  kiln_phonons_settings s = {{0, 0, 0}, 0, 0, 0};
  for (int d = 0; d < 3; d++) s.supercell[d] = (int)luaL_checkinteger(L, 3 + d);
  s.asr = lua_toboolean(L, 6);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_PHONONS, 0);
  kiln_error err;
  kiln_l_check(L, kiln_phonons_read_fc((kiln_phonons **)&b->p, a, &s, file, &err), &err,
               "kiln.phonons");
  return 1;
}

static void checkmesh(lua_State *L, int arg, int mesh[3]) {
  for (int d = 0; d < 3; d++) mesh[d] = (int)luaL_checkinteger(L, arg + d);
}

/* ph:_frequencies(q nq x 3, rad/Å) -> Array nq x 3nb (THz) */
static int l_frequencies(lua_State *L) {
  kiln_phonons *ph = checkph(L, 1);
  size_t nq;
  const double *q = kiln_l_checkmatrix(L, 2, 0, 3, &nq, NULL);
  const size_t m = 3 * kiln_phonons_nbasis(ph);
  double *out = kiln_l_pusharray(L, NULL, nq, m);
  kiln_error err;
  for (size_t i = 0; i < nq; i++)
    kiln_l_check(L, kiln_phonons_modes(ph, q + 3 * i, out + i * m, NULL, &err), &err, "frequencies");
  return 1;
}

/* push the column-major (LAPACK) eigenvector matrix as re, im Arrays, one row per mode */
static void push_rows(lua_State *L, const double *z, size_t m, int transpose) {
  double *re = kiln_l_pusharray(L, NULL, m, m);
  double *im = kiln_l_pusharray(L, NULL, m, m);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++) {
      const double *c = z + 2 * (transpose ? j * m + i : i * m + j);
      re[i * m + j] = c[0];
      im[i * m + j] = c[1];
    }
}

/* ph:_modes(q) -> freq (3nb x 1, THz), re, im (3nb x 3nb, row j = mode j) */
static int l_modes(lua_State *L) {
  kiln_phonons *ph = checkph(L, 1);
  double q[3];
  kiln_l_checkvec3(L, 2, q);
  const size_t m = 3 * kiln_phonons_nbasis(ph);
  double *freq = kiln_l_pusharray(L, NULL, m, 1);
  double *z = lua_newuserdatauv(L, 2 * m * m * sizeof *z, 0);
  kiln_error err;
  kiln_l_check(L, kiln_phonons_modes(ph, q, freq, z, &err), &err, "eigenvectors");
  push_rows(L, z, m, 1);
  lua_remove(L, -3);
  return 3;
}

/* ph:_dynmat(q) -> re, im (3nb x 3nb, eV/(Å² amu)) */
static int l_dynmat(lua_State *L) {
  kiln_phonons *ph = checkph(L, 1);
  double q[3];
  kiln_l_checkvec3(L, 2, q);
  const size_t m = 3 * kiln_phonons_nbasis(ph);
  double *z = lua_newuserdatauv(L, 2 * m * m * sizeof *z, 0);
  kiln_error err;
  kiln_l_check(L, kiln_phonons_dynmat(ph, q, z, &err), &err, "dynamical_matrix");
  push_rows(L, z, m, 0);
  return 2;
}

/* ph:_dos(m1, m2, m3, sigma, flo, fhi, nbins) -> freq, dos, pdos (nb x nbins) */
static int l_dos(lua_State *L) {
  kiln_phonons *ph = checkph(L, 1);
  int mesh[3];
  checkmesh(L, 2, mesh);
  double sigma = luaL_checknumber(L, 5), flo = luaL_checknumber(L, 6), fhi = luaL_checknumber(L, 7);
  lua_Integer nbins = luaL_checkinteger(L, 8);
  luaL_argcheck(L, nbins >= 2 && nbins <= 10000000, 8, "nbins must be in 2..1e7");
  const size_t nb = kiln_phonons_nbasis(ph);
  double *f = kiln_l_pusharray(L, NULL, (size_t)nbins, 1);
  double *d = kiln_l_pusharray(L, NULL, (size_t)nbins, 1);
  double *p = kiln_l_pusharray(L, NULL, nb, (size_t)nbins);
  kiln_error err;
  kiln_l_check(L, kiln_phonons_dos(ph, mesh, sigma, flo, fhi, (size_t)nbins, f, d, p, &err), &err,
               "dos");
  return 3;
}

/* ph:_msd(m1, m2, m3, T, quantum) -> Array nb x 9 (Å², <u_α u_β> row-major per atom) */
static int l_msd(lua_State *L) {
  kiln_phonons *ph = checkph(L, 1);
  int mesh[3];
  checkmesh(L, 2, mesh);
  double T = luaL_checknumber(L, 5);
  int quantum = lua_toboolean(L, 6);
  double *u = kiln_l_pusharray(L, NULL, kiln_phonons_nbasis(ph), 9);
  kiln_error err;
  kiln_l_check(L, kiln_phonons_msd(ph, mesh, T, quantum, u, &err), &err, "msd");
  return 1;
}

/* ph:_thermal(m1, m2, m3, T) -> F (eV), S (eV/K), Cv (eV/K), E (eV) per unit cell */
static int l_thermal(lua_State *L) {
  kiln_phonons *ph = checkph(L, 1);
  int mesh[3];
  checkmesh(L, 2, mesh);
  double T = luaL_checknumber(L, 5), F, S, Cv, E;
  kiln_error err;
  kiln_l_check(L, kiln_phonons_thermal(ph, mesh, T, &F, &S, &Cv, &E, &err), &err, "thermal");
  lua_pushnumber(L, F);
  lua_pushnumber(L, S);
  lua_pushnumber(L, Cv);
  lua_pushnumber(L, E);
  return 4;
}

/* ph:_sample(m1, m2, m3, T, quantum, seed, stream, velocities) -> kiln.Atoms */
static int l_sample(lua_State *L) {
  kiln_phonons *ph = checkph(L, 1);
  int mesh[3];
  checkmesh(L, 2, mesh);
  double T = luaL_checknumber(L, 5);
  int quantum = lua_toboolean(L, 6);
  lua_Integer seed = luaL_checkinteger(L, 7), stream = luaL_optinteger(L, 8, 0);
  int vel = lua_toboolean(L, 9);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_ATOMS, 1);
  kiln_error err;
  kiln_l_check(L, kiln_phonons_sample(ph, mesh, T, quantum, (uint64_t)seed, (uint64_t)stream, vel,
                                      (kiln_atoms **)&b->p, &err), &err, "sample");
  return 1;
}

/* ph:write_fc(file, compact) */
static int l_write_fc(lua_State *L) {
  kiln_phonons *ph = checkph(L, 1);
  const char *file = luaL_checkstring(L, 2);
  kiln_error err;
  kiln_l_check(L, kiln_phonons_write_fc(ph, file, lua_toboolean(L, 3), &err), &err,
               "write_force_constants");
  return 0;
}

/* ph:_fc() -> Array (nb N) x 9, kiln supercell order */
static int l_fc(lua_State *L) {
  kiln_phonons *ph = checkph(L, 1);
  size_t nb = kiln_phonons_nbasis(ph), n = kiln_phonons_nsuper(ph);
  kiln_l_pusharray(L, kiln_phonons_fc(ph), nb * n, 9);
  return 1;
}

static int push_atoms_copy(lua_State *L, const kiln_atoms *a) {
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_ATOMS, 1);
  kiln_error err;
  kiln_l_check(L, kiln_atoms_copy((kiln_atoms **)&b->p, a, &err), &err, "phonons");
  return 1;
}
static int l_unitcell(lua_State *L) { return push_atoms_copy(L, kiln_phonons_unit(checkph(L, 1))); }
static int l_supercell(lua_State *L) { return push_atoms_copy(L, kiln_phonons_super(checkph(L, 1))); }

/* ph:_qcart(frac nq x 3) -> Array nq x 3 (rad/Å); ph:_qfrac(q) the inverse */
static int qconv(lua_State *L, int tocart) {
  kiln_phonons *ph = checkph(L, 1);
  size_t nq;
  const double *q = kiln_l_checkmatrix(L, 2, 0, 3, &nq, NULL);
  double *out = kiln_l_pusharray(L, NULL, nq, 3);
  for (size_t i = 0; i < nq; i++) {
    if (tocart) kiln_phonons_q_cart(ph, q + 3 * i, out + 3 * i);
    else kiln_phonons_q_frac(ph, q + 3 * i, out + 3 * i);
  }
  return 1;
}
static int l_qcart(lua_State *L) { return qconv(L, 1); }
static int l_qfrac(lua_State *L) { return qconv(L, 0); }

static int l_close(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_PHONONS);
  kiln_phonons_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_index(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_PHONONS);
  const char *k = lua_tostring(L, 2);
  if (k && b->p) {
    kiln_phonons *ph = b->p;
    if (!strcmp(k, "nbasis")) { lua_pushinteger(L, (lua_Integer)kiln_phonons_nbasis(ph)); return 1; }
    if (!strcmp(k, "nmodes")) { lua_pushinteger(L, 3 * (lua_Integer)kiln_phonons_nbasis(ph)); return 1; }
    if (!strcmp(k, "natoms")) { lua_pushinteger(L, (lua_Integer)kiln_phonons_nsuper(ph)); return 1; }
    if (!strcmp(k, "size")) {
      int sc[3];
      kiln_phonons_get_supercell(ph, sc);
      lua_createtable(L, 3, 0);
      for (int d = 0; d < 3; d++) {
        lua_pushinteger(L, sc[d]);
        lua_rawseti(L, -2, d + 1);
      }
      return 1;
    }
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int l_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_PHONONS);
  if (!b->p) {
    lua_pushfstring(L, "%s (closed)", KILN_L_PHONONS);
    return 1;
  }
  int sc[3];
  kiln_phonons_get_supercell(b->p, sc);
  lua_pushfstring(L, "%s(%d atoms in the unit cell, supercell %dx%dx%d)", KILN_L_PHONONS,
                  (int)kiln_phonons_nbasis(b->p), sc[0], sc[1], sc[2]);
  return 1;
}

static const luaL_Reg methods[] = {
    {"_frequencies", l_frequencies}, {"_modes", l_modes},   {"_dynmat", l_dynmat},
    {"_dos", l_dos},                 {"_msd", l_msd},       {"_thermal", l_thermal},
    {"_sample", l_sample},           {"_write_fc", l_write_fc}, {"_fc", l_fc},
    {"unitcell", l_unitcell},        {"supercell", l_supercell}, {"_qcart", l_qcart},
    {"_qfrac", l_qfrac},             {"close", l_close},    {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__gc", l_close}, {"__close", l_close}, {"__tostring", l_tostring}, {NULL, NULL}};

static const luaL_Reg funcs[] = {{"new", l_new}, {"read_fc", l_read_fc}, {NULL, NULL}};

int luaopen_kiln_c_phonons(lua_State *L) {
  kiln_l_newclass(L, KILN_L_PHONONS, meta, methods);
  kiln_l_setindex(L, KILN_L_PHONONS, l_index);
  luaL_newlib(L, funcs);
  kiln_l_exportclass(L, KILN_L_PHONONS);
  lua_pushnumber(L, KILN_PHONON_THZ);
  lua_setfield(L, -2, "THz");
  return 1;
}
