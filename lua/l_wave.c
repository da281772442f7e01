/* lua/l_wave.c: binding module kiln.c.wave — kiln.Wave (a box around kiln_wave) and
 * kiln.Multislice (settings plus a kiln_frozen engine, made when the first configuration
 * fixes the extent and the elements), and the md:run observer maker
 * kiln_l_frozen_observer. The user API is in stdlib/kiln/{wave,multislice}.lua.
 *
 *   new_wave{extent={lx,ly}, gpts={nx,ny} | sampling=, energy=, precision=} -> kiln.Wave
 *   w:plane()  w:probe{x=, y=, semiangle= (mrad), aberrations={...}}
 *   w:intensity() w:amplitude() w:phase() -> Array ny x nx    w:norm()  w:copy()
 *   w:diffraction([crop]) -> Array (centred), cx, cy (1-based centre)
 *   w.nx w.ny w.lx w.ly w.energy w.wavelength w.precision
 *   new_multislice{energy=, gpts= | sampling=, slice=, projection=, precision=, threads=}
 *   ms:_add(atoms)  ms:_einstein(atoms, {El=sigma}, n, seed, stream)
 *   ms:_add_file(file, {format=, start=, stop=, every=, symbols=})
 *   ms:_mean(crop) -> I, count, cx, cy     ms:reset()   ms:_incident(probe table | nil)
 *   ms:_stem({atoms...}, opts) -> {Array per detector}   ms:propagate(wave, atoms)
 *   ms:_clone([every]) -> a new kiln.Multislice with the same settings (an observer)
 *   fields: energy wavelength sigma slice threads count precision projection nx ny lx ly
 * As an md:run observer a kiln.Multislice adds the atoms of every `every`-th step (its own
 * every, from _clone; md:run's every applies first) to its average; not at step 0. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/frozen.h"
#include "kiln/io.h"
#include "kiln/wave.h"
#include "lkiln.h"

#define KILN_L_WAVE "kiln.Wave"
#define KILN_L_MS "kiln.Multislice"


/* luaL_error with the C library's printf (%g, %zu) */
static int errf(lua_State *L, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return luaL_error(L, "%s", buf);
}

static const char *prec_name(int p) { return p == KILN_WAVE_F64 ? "float64" : "float32"; }

static int check_prec(lua_State *L, int t, const char *what) {
  const char *s = kiln_l_optstrfield(L, t, "precision", "float32");
  if (!strcmp(s, "float32")) return KILN_WAVE_F32;
  if (!strcmp(s, "float64")) return KILN_WAVE_F64;
  return errf(L, "%s: precision must be \"float32\" or \"float64\" (got \"%s\")", what, s);
}

/* {a, b} of positive numbers in field key of table t; returns 0 if absent */
static int opt_pair(lua_State *L, int t, const char *key, double v[2], const char *what) {
  int ty = lua_getfield(L, t, key);
  if (ty == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (ty == LUA_TNUMBER) {
    v[0] = v[1] = lua_tonumber(L, -1);
  } else if (ty == LUA_TTABLE && lua_rawlen(L, -1) == 2) {
    for (int i = 0; i < 2; i++) {
      lua_rawgeti(L, -1, i + 1);
      if (!lua_isnumber(L, -1)) errf(L, "%s: %s must be {x, y} numbers", what, key);
      v[i] = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
  } else {
    errf(L, "%s: %s must be a number or {x, y} (got %s)", what, key, kiln_l_typename(L, -1));
  }
  lua_pop(L, 1);
  return 1;
}

/* aberrations table at idx (may be nil): Krivanek C_nm (Å), phi_nm (rad); defocus = -C10,
 * Cs = C30 */
static void check_aberrations(lua_State *L, int idx, kiln_aberrations *ab, const char *what) {
  memset(ab, 0, sizeof *ab);
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  static const char *const names[] = {"C10", "C12", "phi12", "C21", "phi21", "C23", "phi23",
                                      "C30", "C32", "phi32", "C34", "phi34", "C50", "defocus",
                                      "Cs", NULL};
  kiln_l_checkkeys(L, idx, what, names);
  double *f[] = {&ab->C10, &ab->C12, &ab->phi12, &ab->C21, &ab->phi21, &ab->C23, &ab->phi23,
                 &ab->C30, &ab->C32, &ab->phi32, &ab->C34, &ab->phi34, &ab->C50};
  for (int i = 0; i < 13; i++) *f[i] = kiln_l_optnumfield(L, idx, names[i], 0.0);
  if (lua_getfield(L, idx, "defocus") != LUA_TNIL) {
    if (ab->C10 != 0) errf(L, "%s: give defocus or C10, not both", what);
    ab->C10 = -luaL_checknumber(L, -1);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "Cs") != LUA_TNIL) {
    if (ab->C30 != 0) errf(L, "%s: give Cs or C30, not both", what);
    ab->C30 = luaL_checknumber(L, -1);
  }
  lua_pop(L, 1);
}

/* ================================================================== kiln.Wave */

static kiln_wave *checkwave(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_WAVE)->p; }

static int l_wave_new(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  static const char *const keys[] = {"extent", "gpts", "sampling", "energy", "precision", NULL};
  kiln_l_checkkeys(L, 1, "kiln.wave.new", keys);
  double ext[2], gp[2] = {0, 0};
  if (!opt_pair(L, 1, "extent", ext, "kiln.wave.new"))
    return errf(L, "kiln.wave.new: extent = {lx, ly} (Å) is required");
  int hasg = opt_pair(L, 1, "gpts", gp, "kiln.wave.new");
  double samp = kiln_l_optnumfield(L, 1, "sampling", 0.0);
  if (hasg && samp > 0) return errf(L, "kiln.wave.new: give gpts or sampling, not both");
  if (!hasg && !(samp > 0))
    return errf(L, "kiln.wave.new: gpts = {nx, ny} or sampling = (Å) is required");
  if (hasg && (gp[0] < 1 || gp[1] < 1 || gp[0] != floor(gp[0]) || gp[1] != floor(gp[1])))
    return errf(L, "kiln.wave.new: gpts must be positive integers (got %g, %g)", gp[0], gp[1]);
  double e = kiln_l_optnumfield(L, 1, "energy", NAN);
  if (!(e > 0)) return errf(L, "kiln.wave.new: energy (eV) must be positive (got %g)", e);
  int prec = check_prec(L, 1, "kiln.wave.new");
  kiln_wave_grid g;
  kiln_error err;
  kiln_l_check(L, kiln_wave_grid_make(&g, ext[0], ext[1], (size_t)gp[0], (size_t)gp[1], samp, &err),
               &err, "kiln.wave.new");
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_WAVE, 0);
  kiln_l_check(L, kiln_wave_new((kiln_wave **)&b->p, &g, e, prec, &err), &err, "kiln.wave.new");
  kiln_wave_plane(b->p);
  return 1;
}

static int l_wave_plane(lua_State *L) {
  kiln_wave_plane(checkwave(L, 1));
  lua_settop(L, 1);
  return 1;
}

static int l_wave_probe(lua_State *L) {
  kiln_wave *w = checkwave(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  static const char *const keys[] = {"x", "y", "semiangle", "aberrations", NULL};
  kiln_l_checkkeys(L, 2, "wave:probe", keys);
  const kiln_wave_grid *g = kiln_wave_get_grid(w);
  double x = kiln_l_optnumfield(L, 2, "x", g->lx / 2), y = kiln_l_optnumfield(L, 2, "y", g->ly / 2);
  double a = kiln_l_optnumfield(L, 2, "semiangle", NAN);
  if (!(a > 0)) return errf(L, "wave:probe: semiangle (mrad) must be positive (got %g)", a);
  kiln_aberrations ab;
  lua_getfield(L, 2, "aberrations");
  check_aberrations(L, lua_gettop(L), &ab, "wave:probe aberrations");
  kiln_error err;
  kiln_l_check(L, kiln_wave_probe(w, x, y, 1e-3 * a, &ab, &err), &err, "wave:probe");
  lua_settop(L, 1);
  return 1;
}

/* which: 0 intensity, 1 amplitude, 2 phase */
static int wave_values(lua_State *L, int which) {
  kiln_wave *w = checkwave(L, 1);
  const kiln_wave_grid *g = kiln_wave_get_grid(w);
  size_t n = g->nx * g->ny;
  double *o = kiln_l_pusharray(L, NULL, g->ny, g->nx);
  const void *d = kiln_wave_data(w);
  int f64 = kiln_wave_precision(w) == KILN_WAVE_F64;
  for (size_t i = 0; i < n; i++) {
    double re = f64 ? ((const double *)d)[2 * i] : (double)((const float *)d)[2 * i];
    double im = f64 ? ((const double *)d)[2 * i + 1] : (double)((const float *)d)[2 * i + 1];
    o[i] = which == 0 ? re * re + im * im : which == 1 ? hypot(re, im) : atan2(im, re);
  }
  return 1;
}
static int l_wave_intensity(lua_State *L) { return wave_values(L, 0); }
static int l_wave_amplitude(lua_State *L) { return wave_values(L, 1); }
static int l_wave_phase(lua_State *L) { return wave_values(L, 2); }

static int l_wave_norm(lua_State *L) {
  lua_pushnumber(L, kiln_wave_norm(checkwave(L, 1)));
  return 1;
}

static int l_wave_copy(lua_State *L) {
  kiln_wave *w = checkwave(L, 1);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_WAVE, 0);
  kiln_error err;
  kiln_l_check(L, kiln_wave_copy((kiln_wave **)&b->p, w, &err), &err, "wave:copy");
  return 1;
}

/* w:diffraction([crop]) -> Array (centred), cx, cy (1-based column/row of k = 0) */
static int l_wave_diffraction(lua_State *L) {
  kiln_wave *w = checkwave(L, 1);
  int crop = lua_toboolean(L, 2);
  const kiln_wave_grid *g = kiln_wave_get_grid(w);
  size_t np = g->nx * g->ny, onx, ony, cx, cy;
  double *I = lua_newuserdatauv(L, np * sizeof *I, 0);
  memset(I, 0, np * sizeof *I);
  kiln_multislice *m = NULL;
  kiln_error err;
  kiln_status st = kiln_multislice_new(&m, g, kiln_wave_energy(w), 1.0, kiln_wave_precision(w),
                                       1, &err);
  if (!st) st = kiln_multislice_diffraction(m, w, I, &err);
  kiln_multislice_free(m);
  kiln_l_check(L, st, &err, "wave:diffraction");
  kiln_frozen_pattern_dims(g, crop, &onx, &ony, &cx, &cy);
  double *o = kiln_l_pusharray(L, NULL, ony, onx);
  kiln_frozen_pattern(g, crop, I, o);
  lua_pushinteger(L, (lua_Integer)cx + 1);
  lua_pushinteger(L, (lua_Integer)cy + 1);
  return 3;
}

static int l_wave_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_WAVE);
  if (b->busy) return 0;
  kiln_wave_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_wave_index(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_WAVE);
  const char *k = lua_tostring(L, 2);
  if (k && b->p) {
    kiln_wave *w = b->p;
    const kiln_wave_grid *g = kiln_wave_get_grid(w);
    if (!strcmp(k, "nx")) return lua_pushinteger(L, (lua_Integer)g->nx), 1;
    if (!strcmp(k, "ny")) return lua_pushinteger(L, (lua_Integer)g->ny), 1;
    if (!strcmp(k, "lx")) return lua_pushnumber(L, g->lx), 1;
    if (!strcmp(k, "ly")) return lua_pushnumber(L, g->ly), 1;
    if (!strcmp(k, "energy")) return lua_pushnumber(L, kiln_wave_energy(w)), 1;
    if (!strcmp(k, "wavelength"))
      return lua_pushnumber(L, kiln_wave_wavelength(kiln_wave_energy(w))), 1;
    if (!strcmp(k, "precision")) return lua_pushstring(L, prec_name(kiln_wave_precision(w))), 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int l_wave_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_WAVE);
  if (!b->p) return lua_pushfstring(L, "%s (closed)", KILN_L_WAVE), 1;
  const kiln_wave_grid *g = kiln_wave_get_grid(b->p);
  char buf[160];
  snprintf(buf, sizeof buf, "%s(%zux%zu, %g x %g Å, %g keV, %s)", KILN_L_WAVE, g->nx, g->ny,
           g->lx, g->ly, 1e-3 * kiln_wave_energy(b->p), prec_name(kiln_wave_precision(b->p)));
  lua_pushstring(L, buf);
  return 1;
}

/* ================================================================== kiln.Multislice */

typedef struct lms {
  double energy, dz, sampling;
  size_t gx, gy;          /* gpts, 0: from sampling */
  int finite, prec, nthreads;
  long every;             /* as an observer */
  kiln_frozen *f;         /* engine for grid g and elements Z (NULL until a configuration) */
  kiln_wave_grid g;
  int nelem, Z[KILN_MAX_SPECIES];
  kiln_frozen_probe inc;  /* incident wave of the averages */
  int32_t *el;            /* scratch per atom (element index in Z) */
  size_t elcap;
  double thickness;
} lms;

static lms *checkms(lua_State *L, int i) { return kiln_l_checkbox(L, i, KILN_L_MS)->p; }

static void lms_free(lms *p) {
  if (!p) return;
  kiln_frozen_free(p->f);
  free(p->el);
  free(p);
}

/* The configuration of atoms a for p's engine (made or checked): cfg filled, el in p->el. */
static kiln_status ms_config(lms *p, const kiln_atoms *a, kiln_frozen_config *cfg,
                             kiln_error *err) {
  const double(*c)[3] = (const double(*)[3])a->cell;
  double lx = c[0][0], ly = c[1][1], lz = c[2][2];
  double scale = fmax(fabs(lx), fmax(fabs(ly), fabs(lz)));
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      if (i != j && fabs(c[i][j]) > 1e-8 * scale)
        return KILN_FAIL(err, KILN_EINVAL, "the cell must be orthogonal with a along x, b along y "
                         "and the beam along c = z (cell[%d][%d] = %g Å); use kiln.wave.orient",
                         i + 1, j + 1, c[i][j]);
  if (!(lx > 0) || !(ly > 0) || !(lz > 0))
    return KILN_FAIL(err, KILN_EINVAL, "the cell has a non-positive length (%g, %g, %g Å)", lx,
                     ly, lz);
  int Z[KILN_MAX_SPECIES], nz = 0, map[KILN_MAX_SPECIES];
  for (int s = 0; s < a->nspecies; s++) {
    int z = kiln_element_z(a->species[s]);
    if (z < 1 || z > 98)
      return KILN_FAIL(err, KILN_EINVAL, "species '%s' is not an element with scattering "
                       "factors (Z 1..98)", a->species[s]);
    int k = 0;
    while (k < nz && Z[k] != z) k++;
    if (k == nz) Z[nz++] = z;
    map[s] = k;
  }
  kiln_wave_grid g;
  kiln_status st = kiln_wave_grid_make(&g, lx, ly, p->gx, p->gy, p->sampling, err);
  if (st) return st;
  int same = p->f && g.nx == p->g.nx && g.ny == p->g.ny && fabs(g.lx - p->g.lx) <= 1e-9 * lx &&
             fabs(g.ly - p->g.ly) <= 1e-9 * ly && nz == p->nelem &&
             !memcmp(Z, p->Z, (size_t)nz * sizeof *Z);
  if (!same) {
    if (p->f && kiln_frozen_count(p->f) > 0)
      return KILN_FAIL(err, KILN_EINVAL, "this configuration (%g x %g Å, %d elements) does not "
                       "match the %zu averaged so far (%g x %g Å, %d elements); call reset() "
                       "first", lx, ly, nz, kiln_frozen_count(p->f), p->g.lx, p->g.ly, p->nelem);
    kiln_frozen_free(p->f);
    p->f = NULL;
    kiln_frozen_opts fo = {.grid = g, .energy = p->energy, .dz = p->dz, .finite = p->finite,
                           .precision = p->prec, .nthreads = p->nthreads, .nelem = nz, .Z = Z};
    if ((st = kiln_frozen_new(&p->f, &fo, err))) return st;
    p->g = g;
    p->nelem = nz;
    memcpy(p->Z, Z, (size_t)nz * sizeof *Z);
    if ((st = kiln_frozen_set_incident(p->f, &p->inc, err))) return st;
  }
  if (a->n > p->elcap) {
    int32_t *e = realloc(p->el, a->n * sizeof *e);
    if (!e) return KILN_FAIL(err, KILN_ENOMEM, "out of memory (%zu atoms)", a->n);
    p->el = e;
    p->elcap = a->n;
  }
  for (size_t i = 0; i < a->n; i++) p->el[i] = map[a->type[i]];
  *cfg = (kiln_frozen_config){.n = a->n, .xyz = (const double(*)[3])a->x, .el = p->el,
                              .thickness = lz};
  p->thickness = lz;
  return KILN_OK;
}

static int l_ms_new(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  static const char *const keys[] = {"energy", "gpts", "sampling", "slice", "projection",
                                     "precision", "threads", NULL};
  kiln_l_checkkeys(L, 1, "kiln.multislice.new", keys);
  double gp[2] = {0, 0};
  int hasg = opt_pair(L, 1, "gpts", gp, "kiln.multislice.new");
  double samp = kiln_l_optnumfield(L, 1, "sampling", 0.0);
  if (hasg && samp > 0) return errf(L, "kiln.multislice.new: give gpts or sampling, not both");
  if (!hasg && !(samp > 0))
    return errf(L, "kiln.multislice.new: gpts = {nx, ny} or sampling = (Å per pixel) is "
                      "required");
  if (hasg && (gp[0] < 1 || gp[1] < 1 || gp[0] != floor(gp[0]) || gp[1] != floor(gp[1])))
    return errf(L, "kiln.multislice.new: gpts must be positive integers (got %g, %g)",
                      gp[0], gp[1]);
  double e = kiln_l_optnumfield(L, 1, "energy", NAN);
  if (!(e > 0)) return errf(L, "kiln.multislice.new: energy (eV) must be positive (got %g)", e);
  double dz = kiln_l_optnumfield(L, 1, "slice", 2.0);
  if (!(dz > 0)) return errf(L, "kiln.multislice.new: slice (Å) must be positive (got %g)", dz);
  const char *proj = kiln_l_optstrfield(L, 1, "projection", "infinite");
  int finite = !strcmp(proj, "finite");
  if (!finite && strcmp(proj, "infinite"))
    return errf(L, "kiln.multislice.new: projection must be \"infinite\" or \"finite\" "
                      "(got \"%s\")", proj);
  long th = kiln_l_optintfield(L, 1, "threads", 0);
  if (th < 0) return errf(L, "kiln.multislice.new: threads must be >= 0 (got %d)", (int)th);
  int prec = check_prec(L, 1, "kiln.multislice.new");
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_MS, 0);
  lms *p = calloc(1, sizeof *p);
  if (!p) return errf(L, "kiln.multislice.new: out of memory");
  p->energy = e;
  p->dz = dz;
  p->sampling = hasg ? 0 : samp;
  p->gx = (size_t)gp[0];
  p->gy = (size_t)gp[1];
  p->finite = finite;
  p->prec = prec;
  p->nthreads = (int)th;
  p->every = 1;
  b->p = p;
  return 1;
}

/* ms:_clone([every]) */
static int l_ms_clone(lua_State *L) {
  lms *q = checkms(L, 1);
  long every = (long)luaL_optinteger(L, 2, 1);
  if (every < 1) return errf(L, "multislice:observer: every must be >= 1 (got %d)", (int)every);
  kiln_l_box *b = kiln_l_newbox(L, KILN_L_MS, 0);
  lms *p = calloc(1, sizeof *p);
  if (!p) return errf(L, "multislice:observer: out of memory");
  *p = *q;
  p->f = NULL;
  p->el = NULL;
  p->elcap = 0;
  p->nelem = 0;
  p->every = every;
  b->p = p;
  return 1;
}

static int l_ms_add(lua_State *L) {
  lms *p = checkms(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  kiln_frozen_config c;
  kiln_error err;
  kiln_status st = ms_config(p, a, &c, &err);
  if (!st) st = kiln_frozen_add(p->f, &c, &err);
  kiln_l_check(L, st, &err, "multislice");
  return 0;
}

/* sigma per element of p's engine from a table {El = sigma} at idx */
static void sigma_table(lua_State *L, lms *p, int idx, double *sig, const char *what) {
  luaL_checktype(L, idx, LUA_TTABLE);
  for (int e = 0; e < p->nelem; e++) {
    const char *sym = kiln_element_symbol(p->Z[e]);
    if (lua_getfield(L, idx, sym) != LUA_TNUMBER)
      errf(L, "%s: sigma has no number for %s (give sigma = {%s = <Å>, ...})", what, sym, sym);
    sig[e] = lua_tonumber(L, -1);
    if (!(sig[e] >= 0) || !isfinite(sig[e]))
      errf(L, "%s: sigma.%s must be >= 0 (got %g Å)", what, sym, sig[e]);
    lua_pop(L, 1);
  }
}

/* ms:_einstein(atoms, sigma, n, seed, stream) */
static int l_ms_einstein(lua_State *L) {
  lms *p = checkms(L, 1);
  kiln_atoms *a = kiln_l_checkatoms(L, 2);
  lua_Integer n = luaL_checkinteger(L, 4), seed = luaL_optinteger(L, 5, 1);
  lua_Integer stream = luaL_optinteger(L, 6, 0);
  luaL_argcheck(L, n >= 1, 4, "number of configurations >= 1 expected");
  kiln_frozen_config c;
  kiln_error err;
  kiln_l_check(L, ms_config(p, a, &c, &err), &err, "multislice");
  double sig[KILN_MAX_SPECIES];
  sigma_table(L, p, 3, sig, "frozen_phonons");
  kiln_l_check(L, kiln_frozen_add_einstein(p->f, &c, sig, (size_t)n, (uint64_t)seed,
                                           (uint64_t)stream, &err), &err, "multislice");
  return 0;
}

/* ms:_add_file(file, {format=, start=, stop=, every=, symbols=}) -> frames added */
static int l_ms_add_file(lua_State *L) {
  lms *p = checkms(L, 1);
  const char *file = luaL_checkstring(L, 2);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  static const char *const keys[] = {"format", "start", "stop", "every", "symbols", "units", NULL};
  kiln_l_checkkeys(L, 3, "frozen_phonons", keys);
  const char *format = kiln_l_optstrfield(L, 3, "format", NULL);
  long start = kiln_l_optintfield(L, 3, "start", 1), stop = kiln_l_optintfield(L, 3, "stop", -1);
  long every = kiln_l_optintfield(L, 3, "every", 1);
  if (start < 1 || every < 1)
    return errf(L, "frozen_phonons: start and every must be >= 1 (got %d, %d)", (int)start,
                      (int)every);
  static const char *const skip[] = {"format", "start", "stop", "every", NULL};
  kiln_opts *o = kiln_l_toopts(L, 3, skip);
  kiln_frames *fr = NULL;
  kiln_atoms *a = NULL;
  kiln_error err;
  kiln_status st = kiln_frames_open(&fr, file, format, o, &err);
  long idx = 0, added = 0;
  while (!st) {
    int got = 0;
    if ((st = kiln_frames_next(fr, &a, NULL, NULL, &got, &err)) || !got) break;
    idx++;
    if (idx < start || (idx - start) % every) continue;
    if (stop >= 1 && idx > stop) break;
    kiln_frozen_config c;
    if ((st = ms_config(p, a, &c, &err))) break;
    if ((st = kiln_frozen_add(p->f, &c, &err))) break;
    added++;
  }
  kiln_atoms_free(a);
  kiln_frames_close(fr);
  kiln_l_check(L, st, &err, "frozen_phonons");
  lua_pushinteger(L, added);
  return 1;
}

/* ms:_mean(crop) -> I (centred Array), count, cx, cy (1-based) */
static int l_ms_mean(lua_State *L) {
  lms *p = checkms(L, 1);
  int crop = lua_toboolean(L, 2);
  if (!p->f) return errf(L, "multislice: no configurations were added");
  size_t np = p->g.nx * p->g.ny, cnt = 0, onx, ony, cx, cy;
  double *I = lua_newuserdatauv(L, np * sizeof *I, 0);
  kiln_error err;
  kiln_l_check(L, kiln_frozen_mean(p->f, I, &cnt, &err), &err, "multislice");
  kiln_frozen_pattern_dims(&p->g, crop, &onx, &ony, &cx, &cy);
  double *o = kiln_l_pusharray(L, NULL, ony, onx);
  kiln_frozen_pattern(&p->g, crop, I, o);
  lua_pushinteger(L, (lua_Integer)cnt);
  lua_pushinteger(L, (lua_Integer)cx + 1);
  lua_pushinteger(L, (lua_Integer)cy + 1);
  return 4;
}

static int l_ms_reset(lua_State *L) {
  lms *p = checkms(L, 1);
  if (p->f) kiln_frozen_reset(p->f);
  lua_settop(L, 1);
  return 1;
}

/* probe table at idx -> kiln_frozen_probe (probe = 1) */
static void check_probe_table(lua_State *L, int idx, kiln_frozen_probe *q, const char *what,
                              int with_xy) {
  static const char *const keys[] = {"x", "y", "semiangle", "aberrations", "source_size",
                                     "source_points", NULL};
  static const char *const keys_noxy[] = {"semiangle", "aberrations", "source_size",
                                          "source_points", NULL};
  kiln_l_checkkeys(L, idx, what, with_xy ? keys : keys_noxy);
  memset(q, 0, sizeof *q);
  q->probe = 1;
  q->x0 = kiln_l_optnumfield(L, idx, "x", 0);
  q->y0 = kiln_l_optnumfield(L, idx, "y", 0);
  double a = kiln_l_optnumfield(L, idx, "semiangle", NAN);
  if (!(a > 0)) errf(L, "%s: semiangle (mrad) must be positive (got %g)", what, a);
  q->semiangle = 1e-3 * a;
  lua_getfield(L, idx, "aberrations");
  check_aberrations(L, lua_gettop(L), &q->ab, what);
  lua_pop(L, 1);
  q->source_fwhm = kiln_l_optnumfield(L, idx, "source_size", 0);
  q->source_points = (int)kiln_l_optintfield(L, idx, "source_points", 3);
  if (q->source_fwhm < 0) errf(L, "%s: source_size (Å) must be >= 0", what);
  if (q->source_points < 1 || q->source_points > 8)
    errf(L, "%s: source_points must be 1..8 (got %d)", what, q->source_points);
}

/* ms:_incident(probe table | nil) */
static int l_ms_incident(lua_State *L) {
  lms *p = checkms(L, 1);
  kiln_frozen_probe q = {0};
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    check_probe_table(L, 2, &q, "probe", 1);
  }
  kiln_error err;
  if (p->f) kiln_l_check(L, kiln_frozen_set_incident(p->f, &q, &err), &err, "probe");
  p->inc = q;
  return 0;
}

/* ms:_stem({atoms...}, {scan={x0=,y0=,x1=,y1=,n={nx,ny}}, probe={semiangle=, aberrations=,
 *   source_size=, source_points=}, detectors={{inner, outer} (mrad), ...}, sigma={El=},
 *   configs=, seed=, file=, crop=}) -> {Array ny x nx per detector} */
static int l_ms_stem(lua_State *L) {
  lms *p = checkms(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  size_t ncfg = lua_rawlen(L, 2);
  if (!ncfg) return errf(L, "stem: no atoms given");
  kiln_frozen_config *cfg = lua_newuserdatauv(L, ncfg * sizeof *cfg, 0);
  int32_t **els = lua_newuserdatauv(L, ncfg * sizeof *els, 0);
  int eltab = lua_gettop(L);
  kiln_error err;
  for (size_t k = 0; k < ncfg; k++) {
    lua_rawgeti(L, 2, (lua_Integer)k + 1);
    kiln_atoms *a = kiln_l_checkatoms(L, -1);
    lua_pop(L, 1); /* anchored by the list */
    if (k == 0 && p->f) kiln_frozen_reset(p->f);
    kiln_l_check(L, ms_config(p, a, &cfg[k], &err), &err, "stem");
    els[k] = lua_newuserdatauv(L, (a->n ? a->n : 1) * sizeof **els, 0);
    memcpy(els[k], p->el, a->n * sizeof **els);
    cfg[k].el = els[k];
  }
  (void)eltab;
  kiln_frozen_stem_opts so;
  memset(&so, 0, sizeof so);
  int o = 3;
  if (lua_getfield(L, o, "probe") != LUA_TTABLE) return errf(L, "stem: probe table missing");
  check_probe_table(L, lua_gettop(L), &so.probe, "stem", 0);
  lua_pop(L, 1);
  if (lua_getfield(L, o, "scan") != LUA_TTABLE) return errf(L, "stem: scan table missing");
  int sc = lua_gettop(L);
  so.scan.x0 = kiln_l_optnumfield(L, sc, "x0", 0);
  so.scan.y0 = kiln_l_optnumfield(L, sc, "y0", 0);
  so.scan.x1 = kiln_l_optnumfield(L, sc, "x1", p->g.lx);
  so.scan.y1 = kiln_l_optnumfield(L, sc, "y1", p->g.ly);
  double n2[2] = {0, 0};
  if (!opt_pair(L, sc, "n", n2, "stem scan") || n2[0] < 1 || n2[1] < 1 || n2[0] != floor(n2[0]) ||
      n2[1] != floor(n2[1]))
    return errf(L, "stem: scan.n = {nx, ny} positive integers required");
  so.scan.nx = (size_t)n2[0];
  so.scan.ny = (size_t)n2[1];
  lua_pop(L, 1);
  lua_getfield(L, o, "detectors");
  int dt = lua_gettop(L);
  so.ndet = lua_istable(L, dt) ? lua_rawlen(L, dt) : 0;
  double *in = lua_newuserdatauv(L, (so.ndet + 1) * 2 * sizeof *in, 0), *out = in + so.ndet + 1;
  for (size_t d = 0; d < so.ndet; d++) {
    lua_rawgeti(L, dt, (lua_Integer)d + 1);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    in[d] = 1e-3 * luaL_checknumber(L, -2);
    out[d] = 1e-3 * luaL_checknumber(L, -1);
    lua_pop(L, 3);
  }
  so.inner = in;
  so.outer = out;
  double sig[KILN_MAX_SPECIES];
  if (lua_getfield(L, o, "sigma") == LUA_TTABLE) {
    sigma_table(L, p, lua_gettop(L), sig, "stem");
    so.sigma = sig;
    so.nconf = (size_t)kiln_l_optintfield(L, o, "configs", 1);
    so.seed = (uint64_t)kiln_l_optintfield(L, o, "seed", 1);
  }
  lua_pop(L, 1);
  so.file = kiln_l_optstrfield(L, o, "file", NULL);
  so.crop = kiln_l_optboolfield(L, o, "crop", 0);
  size_t npos = so.scan.nx * so.scan.ny;
  double *img = lua_newuserdatauv(L, (so.ndet ? so.ndet : 1) * npos * sizeof *img, 0);
  kiln_l_check(L, kiln_frozen_stem(p->f, cfg, ncfg, &so, img, &err), &err, "stem");
  lua_createtable(L, (int)so.ndet, 0);
  for (size_t d = 0; d < so.ndet; d++) {
    kiln_l_pusharray(L, img + d * npos, so.scan.ny, so.scan.nx);
    lua_rawseti(L, -2, (lua_Integer)d + 1);
  }
  return 1;
}

/* ms:propagate(wave, atoms) -> wave (through every slice of the atoms) */
static int l_ms_propagate(lua_State *L) {
  lms *p = checkms(L, 1);
  kiln_wave *w = checkwave(L, 2);
  kiln_atoms *a = kiln_l_checkatoms(L, 3);
  kiln_frozen_config c;
  kiln_error err;
  const kiln_wave_grid *g = kiln_wave_get_grid(w);
  kiln_l_check(L, ms_config(p, a, &c, &err), &err, "multislice:propagate");
  if (g->nx != p->g.nx || g->ny != p->g.ny || fabs(g->lx - p->g.lx) > 1e-9 * g->lx ||
      fabs(g->ly - p->g.ly) > 1e-9 * g->ly)
    return errf(L, "multislice:propagate: the wave (%dx%d, %g x %g Å) does not match the "
                      "grid of these atoms (%dx%d, %g x %g Å)", (int)g->nx, (int)g->ny, g->lx,
                      g->ly, (int)p->g.nx, (int)p->g.ny, p->g.lx, p->g.ly);
  if (kiln_wave_precision(w) != p->prec || fabs(kiln_wave_energy(w) - p->energy) > 1e-9 * p->energy)
    return errf(L, "multislice:propagate: the wave (%s, %g eV) does not match the "
                      "multislice (%s, %g eV)", prec_name(kiln_wave_precision(w)),
                      kiln_wave_energy(w), prec_name(p->prec), p->energy);
  kiln_slicer *s = NULL;
  kiln_multislice *m = NULL;
  kiln_slicer_opts so = {.grid = p->g, .dz = p->dz, .finite = p->finite, .precision = p->prec,
                         .nelem = p->nelem, .Z = p->Z};
  kiln_status st = kiln_slicer_new(&s, &so, &err);
  if (!st) st = kiln_multislice_new(&m, &p->g, p->energy, p->dz, p->prec, p->nthreads, &err);
  if (!st) {
    /* positions into the box as the engine does (kiln/frozen.h) */
    double(*x)[3] = malloc((c.n ? c.n : 1) * sizeof *x);
    if (!x) st = KILN_FAIL(&err, KILN_ENOMEM, "out of memory");
    for (size_t i = 0; !st && i < c.n; i++) {
      double l[3] = {p->g.lx, p->g.ly, c.thickness};
      for (int d = 0; d < 3; d++) {
        double z = c.xyz[i][d];
        if (d < 2 || z < -0.5 * l[d] || z >= 1.5 * l[d]) {
          z -= floor(z / l[d]) * l[d];
          if (z >= l[d] || z < 0) z = 0;
        }
        x[i][d] = z < 0 ? 0 : z >= l[d] ? nextafter(l[d], 0.0) : z;
      }
    }
    if (!st) st = kiln_slicer_set_atoms(s, c.n, (const double(*)[3])x, c.el, c.thickness, &err);
    free(x);
  }
  if (!st) st = kiln_multislice_run(m, w, s, &err);
  kiln_multislice_free(m);
  kiln_slicer_free(s);
  kiln_l_check(L, st, &err, "multislice:propagate");
  lua_settop(L, 2);
  return 1;
}

static int l_ms_gc(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_MS);
  if (b->busy) return 0;
  lms_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_ms_close(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_MS);
  kiln_l_checknotbusy(L, b, KILN_L_MS, "close");
  lms_free(b->p);
  b->p = NULL;
  return 0;
}

static int l_ms_index(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_MS);
  const char *k = lua_tostring(L, 2);
  lms *p = b->p;
  if (k && p) {
    if (!strcmp(k, "energy")) return lua_pushnumber(L, p->energy), 1;
    if (!strcmp(k, "wavelength")) return lua_pushnumber(L, kiln_wave_wavelength(p->energy)), 1;
    if (!strcmp(k, "sigma")) return lua_pushnumber(L, kiln_wave_sigma(p->energy)), 1;
    if (!strcmp(k, "slice")) return lua_pushnumber(L, p->dz), 1;
    if (!strcmp(k, "precision")) return lua_pushstring(L, prec_name(p->prec)), 1;
    if (!strcmp(k, "projection")) return lua_pushstring(L, p->finite ? "finite" : "infinite"), 1;
    if (!strcmp(k, "every")) return lua_pushinteger(L, p->every), 1;
    if (!strcmp(k, "threads"))
      return lua_pushinteger(L, p->f ? kiln_frozen_nthreads(p->f) : p->nthreads), 1;
    if (!strcmp(k, "count"))
      return lua_pushinteger(L, p->f ? (lua_Integer)kiln_frozen_count(p->f) : 0), 1;
    if (p->f) {
      if (!strcmp(k, "nx")) return lua_pushinteger(L, (lua_Integer)p->g.nx), 1;
      if (!strcmp(k, "ny")) return lua_pushinteger(L, (lua_Integer)p->g.ny), 1;
      if (!strcmp(k, "lx")) return lua_pushnumber(L, p->g.lx), 1;
      if (!strcmp(k, "ly")) return lua_pushnumber(L, p->g.ly), 1;
      if (!strcmp(k, "thickness")) return lua_pushnumber(L, p->thickness), 1;
      if (!strcmp(k, "kmax")) return lua_pushnumber(L, kiln_frozen_kmax(&p->g)), 1;
    }
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int l_ms_tostring(lua_State *L) {
  kiln_l_box *b = luaL_checkudata(L, 1, KILN_L_MS);
  lms *p = b->p;
  if (!p) return lua_pushfstring(L, "%s (closed)", KILN_L_MS), 1;
  char buf[200];
  if (p->f)
    snprintf(buf, sizeof buf, "%s(%g keV, %zux%zu, %g x %g Å, slice %g Å, %s, %zu configurations)",
             KILN_L_MS, 1e-3 * p->energy, p->g.nx, p->g.ny, p->g.lx, p->g.ly, p->dz,
             prec_name(p->prec), kiln_frozen_count(p->f));
  else
    snprintf(buf, sizeof buf, "%s(%g keV, slice %g Å, %s)", KILN_L_MS, 1e-3 * p->energy, p->dz,
             prec_name(p->prec));
  lua_pushstring(L, buf);
  return 1;
}

/* ---- md:run observer ---- */

static kiln_status ms_obs(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                          kiln_error *err) {
  (void)th;
  lms *p = ud;
  if (step % p->every) return KILN_OK;
  kiln_frozen_config c;
  kiln_status st = ms_config(p, a, &c, err);
  if (!st) st = kiln_frozen_add(p->f, &c, err);
  return st;
}

int kiln_l_frozen_observer(lua_State *L, int idx, kiln_l_runctx *ctx, kiln_observer *o,
                           kiln_l_box **busy) {
  (void)ctx;
  kiln_l_box *b = kiln_l_testbox(L, idx, KILN_L_MS);
  if (!b) return 0;
  if (!b->p) errf(L, "md:run: attempt to use a closed %s as an observer", KILN_L_MS);
  o->fn = ms_obs;
  o->ud = b->p;
  o->at_start = 0;
  *busy = b;
  return 1;
}

static const luaL_Reg wave_methods[] = {
    {"plane", l_wave_plane},         {"probe", l_wave_probe},
    {"intensity", l_wave_intensity}, {"amplitude", l_wave_amplitude},
    {"phase", l_wave_phase},         {"norm", l_wave_norm},
    {"copy", l_wave_copy},           {"diffraction", l_wave_diffraction},
    {NULL, NULL}};
static const luaL_Reg wave_meta[] = {
    {"__gc", l_wave_gc}, {"__close", l_wave_gc}, {"__tostring", l_wave_tostring}, {NULL, NULL}};

static const luaL_Reg ms_methods[] = {
    {"_add", l_ms_add},       {"_einstein", l_ms_einstein}, {"_add_file", l_ms_add_file},
    {"_mean", l_ms_mean},     {"reset", l_ms_reset},        {"_incident", l_ms_incident},
    {"_stem", l_ms_stem},     {"propagate", l_ms_propagate}, {"_clone", l_ms_clone},
    {"close", l_ms_close},    {NULL, NULL}};
static const luaL_Reg ms_meta[] = {
    {"__gc", l_ms_gc}, {"__close", l_ms_gc}, {"__tostring", l_ms_tostring}, {NULL, NULL}};

/* wavelength(E), sigma(E) */
static int l_wavelength(lua_State *L) {
  lua_pushnumber(L, kiln_wave_wavelength(luaL_checknumber(L, 1)));
  return 1;
}
static int l_sigma(lua_State *L) {
  lua_pushnumber(L, kiln_wave_sigma(luaL_checknumber(L, 1)));
  return 1;
}

static const luaL_Reg funcs[] = {{"new_wave", l_wave_new},
                                 {"new_multislice", l_ms_new},
                                 {"wavelength", l_wavelength},
                                 {"sigma", l_sigma},
                                 {NULL, NULL}};

int luaopen_kiln_c_wave(lua_State *L) {
  kiln_l_newclass(L, KILN_L_WAVE, wave_meta, wave_methods);
  kiln_l_setindex(L, KILN_L_WAVE, l_wave_index);
  kiln_l_newclass(L, KILN_L_MS, ms_meta, ms_methods);
  kiln_l_setindex(L, KILN_L_MS, l_ms_index);
  luaL_newlib(L, funcs);
  lua_createtable(L, 0, 2);
  kiln_l_exportclass(L, KILN_L_WAVE);
  lua_setfield(L, -2, "Wave");
  lua_createtable(L, 0, 2);
  kiln_l_exportclass(L, KILN_L_MS);
  lua_setfield(L, -2, "Multislice");
  return 1;
}
