/* src/wave/frozen.c: frozen-phonon averaging of diffraction intensities and STEM scans
 * (kiln/frozen.h). One workspace (slicer + propagator + wave + scratch) per OpenMP thread,
 * made serially (FFTW planning is not re-entrant); inside a parallel region each
 * workspace runs FFTW single-threaded. Averages are summed in configuration order, so
 * the result does not depend on the number of threads. */
#include <fftw3.h>
#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/frozen.h"
#include "kiln/rng.h"
#include "wave/frozen_internal.h"

typedef struct fz_work {
  kiln_slicer *s;
  kiln_multislice *m;
  kiln_wave *w;
  double *scratch;   /* nx*ny intensity of one run */
  fz_slot cur;       /* STEM: the configuration currently in the slicer */
  long cur_id;       /* -1: none */
} fz_work;

struct kiln_frozen {
  kiln_frozen_opts o;
  int *Z;
  int nt;
  fz_work *work;
  fz_slot *pend;     /* nt pending configurations */
  double *pendI;     /* nt * nx*ny intensities of a batch */
  size_t npend;
  double *sum;       /* nx*ny */
  size_t count;
  kiln_frozen_probe inc;
};

/* ------------------------------------------------------------------ small helpers */

void kiln_frozen_gauss_hermite(int n, double *x, double *w) {
  if (n <= 1) {
    x[0] = 0;
    w[0] = 1;
    return;
  }
  /* He_{k+1} = x He_k - k He_{k-1}; roots by bracketing on [-7, 7], weights
   * n! / (n^2 He_{n-1}(x)^2) for the standard normal measure */
  double fact = 1;
  for (int k = 2; k <= n; k++) fact *= k;
  int found = 0;
  double h = 1e-3, xa = -7, pa = 0;
  for (int step = 0; found < n && step < 14000; step++) {
    double xb = xa + h, p0 = 1, p1 = xb;
    for (int k = 1; k < n; k++) {
      double p2 = xb * p1 - k * p0;
      p0 = p1;
      p1 = p2;
    }
    if (step > 0 && ((pa < 0) != (p1 < 0))) {
      double lo = xa, hi = xb, flo = pa;
      for (int it = 0; it < 80; it++) {
        double mid = 0.5 * (lo + hi), q0 = 1, q1 = mid;
        for (int k = 1; k < n; k++) {
          double q2 = mid * q1 - k * q0;
          q0 = q1;
          q1 = q2;
        }
        if ((q1 < 0) == (flo < 0)) {
          lo = mid;
          flo = q1;
        } else {
          hi = mid;
        }
      }
      double r = 0.5 * (lo + hi), q0 = 1, q1 = r;
      for (int k = 1; k < n - 1; k++) {
        double q2 = r * q1 - k * q0;
        q0 = q1;
        q1 = q2;
      }
      x[found] = r;
      w[found] = fact / ((double)n * n * q1 * q1);
      found++;
    }
    xa = xb;
    pa = p1;
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += w[i];
  for (int i = 0; i < n; i++) w[i] /= s;
  for (int i = 0; i < n; i++)  /* the symmetric rule: exact zero in the middle */
    if (fabs(x[i]) < 1e-12) x[i] = 0;
}

static double wrap(double x, double l) {
  double y = x - floor(x / l) * l;
  return (y >= l || y < 0) ? 0.0 : y;
}

/* z into the slab [0, L): positions within L/2 outside a face are clamped onto it (an atom
 * vibrating about z = 0 stays in the first slice instead of jumping to the last); farther
 * ones are taken modulo L first. */
static double zmap(double z, double l) {
  if (z < -0.5 * l || z >= 1.5 * l) z = wrap(z, l);
  if (z < 0) return 0.0;
  if (z >= l) return nextafter(l, 0.0);
  return z;
}

static kiln_status slot_fill(fz_slot *s, const kiln_frozen_config *c, const kiln_wave_grid *g,
                             kiln_error *err) {
  if (c->n > s->cap) {
    size_t cap = c->n + c->n / 4 + 8;
    double(*x)[3] = realloc(s->xyz, cap * sizeof *x);
    if (!x) return KILN_FAIL(err, KILN_ENOMEM, "frozen phonons: out of memory (%zu atoms)", c->n);
    s->xyz = x;
    int32_t *e = realloc(s->el, cap * sizeof *e);
    if (!e) return KILN_FAIL(err, KILN_ENOMEM, "frozen phonons: out of memory (%zu atoms)", c->n);
    s->el = e;
    s->cap = cap;
  }
  s->n = c->n;
  s->thickness = c->thickness;
  for (size_t i = 0; i < c->n; i++) {
    s->xyz[i][0] = wrap(c->xyz[i][0], g->lx);
    s->xyz[i][1] = wrap(c->xyz[i][1], g->ly);
    s->xyz[i][2] = zmap(c->xyz[i][2], c->thickness);
    s->el[i] = c->el[i];
  }
  return KILN_OK;
}

/* displace s (already filled from c) by Einstein deviates of stream (seed, stream) */
static void slot_displace(fz_slot *s, const kiln_frozen_config *c, const kiln_wave_grid *g,
                          const double *sigma, uint64_t seed, uint64_t stream) {
  kiln_rng r;
  kiln_rng_seed(&r, seed, stream);
  for (size_t i = 0; i < c->n; i++) {
    double sg = sigma[c->el[i]];
    double d0 = kiln_rng_normal(&r), d1 = kiln_rng_normal(&r), d2 = kiln_rng_normal(&r);
    s->xyz[i][0] = wrap(c->xyz[i][0] + sg * d0, g->lx);
    s->xyz[i][1] = wrap(c->xyz[i][1] + sg * d1, g->ly);
    s->xyz[i][2] = zmap(c->xyz[i][2] + sg * d2, c->thickness);
  }
}

static kiln_status check_config(const kiln_frozen *f, const kiln_frozen_config *c,
                                kiln_error *err) {
  if (!(c->thickness > 0) || !isfinite(c->thickness))
    return KILN_FAIL(err, KILN_EINVAL, "frozen phonons: thickness must be positive (got %g Å)",
                     c->thickness);
  if (c->n && (!c->xyz || !c->el))
    return KILN_FAIL(err, KILN_EINVAL, "frozen phonons: configuration without positions");
  for (size_t i = 0; i < c->n; i++) {
    if (c->el[i] < 0 || c->el[i] >= f->o.nelem)
      return KILN_FAIL(err, KILN_EINVAL, "frozen phonons: atom %zu has element index %d "
                       "(the engine has %d elements)", i, (int)c->el[i], f->o.nelem);
    if (!isfinite(c->xyz[i][0]) || !isfinite(c->xyz[i][1]) || !isfinite(c->xyz[i][2]))
      return KILN_FAIL(err, KILN_EINVAL, "frozen phonons: atom %zu has a non-finite position", i);
  }
  return KILN_OK;
}

/* ------------------------------------------------------------------ engine */

static void work_free(fz_work *w) {
  kiln_slicer_free(w->s);
  kiln_multislice_free(w->m);
  kiln_wave_free(w->w);
  free(w->scratch);
  free(w->cur.xyz);
  free(w->cur.el);
}

void kiln_frozen_free(kiln_frozen *f) {
  if (!f) return;
  for (int t = 0; t < f->nt; t++) {
    if (f->work) work_free(&f->work[t]);
    if (f->pend) {
      free(f->pend[t].xyz);
      free(f->pend[t].el);
    }
  }
  free(f->work);
  free(f->pend);
  free(f->pendI);
  free(f->sum);
  free(f->Z);
  free(f);
}

kiln_status kiln_frozen_new(kiln_frozen **out, const kiln_frozen_opts *o, kiln_error *err) {
  *out = NULL;
  const kiln_wave_grid *g = &o->grid;
  if (!g->nx || !g->ny || !(g->lx > 0) || !(g->ly > 0))
    return KILN_FAIL(err, KILN_EINVAL, "frozen phonons: empty grid (%zu x %zu points, %g x %g Å)",
                     g->nx, g->ny, g->lx, g->ly);
  if (!(o->energy > 0))
    return KILN_FAIL(err, KILN_EINVAL, "frozen phonons: energy must be positive (got %g eV)",
                     o->energy);
  if (!(o->dz > 0))
    return KILN_FAIL(err, KILN_EINVAL, "frozen phonons: slice thickness must be positive "
                     "(got %g Å)", o->dz);
  if (o->precision != KILN_WAVE_F32 && o->precision != KILN_WAVE_F64)
    return KILN_FAIL(err, KILN_EINVAL, "frozen phonons: precision must be KILN_WAVE_F32 or "
                     "KILN_WAVE_F64 (got %d)", o->precision);
  if (o->nelem < 0 || (o->nelem > 0 && !o->Z))
    return KILN_FAIL(err, KILN_EINVAL, "frozen phonons: bad element list (%d elements)",
                     o->nelem);
  kiln_frozen *f = calloc(1, sizeof *f);
  if (!f) return KILN_FAIL(err, KILN_ENOMEM, "frozen phonons: out of memory");
  f->o = *o;
  f->nt = o->nthreads > 0 ? o->nthreads : omp_get_max_threads();
  if (f->nt < 1) f->nt = 1;
  size_t np = g->nx * g->ny;
  f->Z = malloc(((size_t)o->nelem + 1) * sizeof *f->Z);
  f->work = calloc((size_t)f->nt, sizeof *f->work);
  f->pend = calloc((size_t)f->nt, sizeof *f->pend);
  f->pendI = malloc((size_t)f->nt * np * sizeof *f->pendI);
  f->sum = calloc(np, sizeof *f->sum);
  if (!f->Z || !f->work || !f->pend || !f->pendI || !f->sum) {
    kiln_frozen_free(f);
    return KILN_FAIL(err, KILN_ENOMEM, "frozen phonons: out of memory (%d threads, %zu x %zu)",
                     f->nt, g->nx, g->ny);
  }
  if (o->nelem) memcpy(f->Z, o->Z, (size_t)o->nelem * sizeof *f->Z);
  f->o.Z = f->Z;
  /* planning may still happen inside the workers (probes): make it safe */
  fftw_make_planner_thread_safe();
  fftwf_make_planner_thread_safe();
  kiln_slicer_opts so = {.grid = *g, .dz = o->dz, .finite = o->finite,
                         .precision = o->precision, .nelem = o->nelem, .Z = f->Z};
  kiln_status st = KILN_OK;
  for (int t = 0; t < f->nt && !st; t++) {
    fz_work *w = &f->work[t];
    w->cur_id = -1;
    if ((st = kiln_slicer_new(&w->s, &so, err))) break;
    if ((st = kiln_multislice_new(&w->m, g, o->energy, o->dz, o->precision,
                                  f->nt == 1 ? 0 : 1, err))) break;
    if ((st = kiln_wave_new(&w->w, g, o->energy, o->precision, err))) break;
    if (!(w->scratch = malloc(np * sizeof *w->scratch)))
      st = KILN_FAIL(err, KILN_ENOMEM, "frozen phonons: out of memory");
  }
  if (st) {
    kiln_frozen_free(f);
    return st;
  }
  *out = f;
  return KILN_OK;
}

int kiln_frozen_nthreads(const kiln_frozen *f) { return f->nt; }
const kiln_wave_grid *kiln_frozen_grid(const kiln_frozen *f) { return &f->o.grid; }
size_t kiln_frozen_count(const kiln_frozen *f) { return f->count; }

static kiln_status check_probe(const kiln_frozen_probe *p, kiln_error *err) {
  if (!p->probe) return KILN_OK;
  if (!(p->semiangle > 0) || !isfinite(p->semiangle))
    return KILN_FAIL(err, KILN_EINVAL, "probe: convergence semiangle must be positive "
                     "(got %g mrad)", 1e3 * p->semiangle);
  if (p->source_fwhm < 0 || !isfinite(p->source_fwhm))
    return KILN_FAIL(err, KILN_EINVAL, "probe: source size must be >= 0 (got %g Å)",
                     p->source_fwhm);
  if (p->source_points < 0 || p->source_points > 8)
    return KILN_FAIL(err, KILN_EINVAL, "probe: source_points must be 1..8 per axis (got %d)",
                     p->source_points);
  return KILN_OK;
}

/* Intensity of one configuration (already in w->s) for incident p, ADDED to I with
 * weight `scale`. */
static kiln_status run_incident(kiln_frozen *f, fz_work *w, const kiln_frozen_probe *p,
                                double scale, double *I, kiln_error *err) {
  size_t np = f->o.grid.nx * f->o.grid.ny;
  kiln_status st;
  if (!p->probe) {
    kiln_wave_plane(w->w);
    if ((st = kiln_multislice_run(w->m, w->w, w->s, err))) return st;
    memset(w->scratch, 0, np * sizeof *w->scratch);
    if ((st = kiln_multislice_diffraction(w->m, w->w, w->scratch, err))) return st;
    for (size_t i = 0; i < np; i++) I[i] += scale * w->scratch[i];
    return KILN_OK;
  }
  int ns = 1;
  double xs[8] = {0}, ws[8] = {1};
  if (p->source_fwhm > 0) {
    ns = p->source_points ? p->source_points : 3;
    kiln_frozen_gauss_hermite(ns, xs, ws);
  }
  double sg = p->source_fwhm / (2.0 * sqrt(2.0 * log(2.0)));
  for (int a = 0; a < ns; a++)
    for (int b = 0; b < ns; b++) {
      double x = p->x0 + sg * xs[b], y = p->y0 + sg * xs[a];
      if ((st = kiln_wave_probe(w->w, x, y, p->semiangle, &p->ab, err))) return st;
      if ((st = kiln_multislice_run(w->m, w->w, w->s, err))) return st;
      memset(w->scratch, 0, np * sizeof *w->scratch);
      if ((st = kiln_multislice_diffraction(w->m, w->w, w->scratch, err))) return st;
      double wt = scale * ws[a] * ws[b];
      for (size_t i = 0; i < np; i++) I[i] += wt * w->scratch[i];
    }
  return KILN_OK;
}

kiln_status kiln_frozen_flush(kiln_frozen *f, kiln_error *err) {
  if (!f->npend) return KILN_OK;
  size_t np = f->o.grid.nx * f->o.grid.ny, nb = f->npend;
  kiln_error *terr = calloc((size_t)f->nt, sizeof *terr);
  kiln_status *tst = calloc((size_t)f->nt, sizeof *tst);
  if (!terr || !tst) {
    free(terr);
    free(tst);
    return KILN_FAIL(err, KILN_ENOMEM, "frozen phonons: out of memory");
  }
  int nth = (int)nb < f->nt ? (int)nb : f->nt;
  if (nth == 1) { /* one workspace: FFTW may thread inside */
    fz_work *w = &f->work[0];
    fz_slot *s = &f->pend[0];
    double *I = f->pendI;
    memset(I, 0, np * sizeof *I);
    tst[0] = kiln_slicer_set_atoms(w->s, s->n, (const double(*)[3])s->xyz, s->el, s->thickness,
                                   &terr[0]);
    if (!tst[0]) tst[0] = run_incident(f, w, &f->inc, 1.0, I, &terr[0]);
    w->cur_id = -1;
  } else {
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1)
    for (size_t b = 0; b < nb; b++) {
      int t = omp_get_thread_num();
      if (tst[t]) continue;
      fz_work *w = &f->work[t];
      fz_slot *s = &f->pend[b];
      double *I = f->pendI + b * np;
      memset(I, 0, np * sizeof *I);
      tst[t] = kiln_slicer_set_atoms(w->s, s->n, (const double(*)[3])s->xyz, s->el,
                                     s->thickness, &terr[t]);
      if (!tst[t]) tst[t] = run_incident(f, w, &f->inc, 1.0, I, &terr[t]);
      w->cur_id = -1;
    }
  }
  kiln_status st = KILN_OK;
  for (int t = 0; t < f->nt; t++)
    if (tst[t]) {
      st = tst[t];
      if (err) *err = terr[t];
      break;
    }
  free(terr);
  free(tst);
  f->npend = 0;
  if (st) return st;
  for (size_t b = 0; b < nb; b++) { /* in configuration order: thread-count independent */
    const double *I = f->pendI + b * np;
    for (size_t i = 0; i < np; i++) f->sum[i] += I[i];
  }
  f->count += nb;
  return KILN_OK;
}

kiln_status kiln_frozen_set_incident(kiln_frozen *f, const kiln_frozen_probe *p,
                                     kiln_error *err) {
  kiln_frozen_probe plane = {0};
  if (!p) p = &plane;
  kiln_status st = check_probe(p, err);
  if (st) return st;
  if ((st = kiln_frozen_flush(f, err))) return st;
  f->inc = *p;
  return KILN_OK;
}

void kiln_frozen_reset(kiln_frozen *f) {
  f->npend = 0;
  f->count = 0;
  memset(f->sum, 0, f->o.grid.nx * f->o.grid.ny * sizeof *f->sum);
}

kiln_status kiln_frozen_add(kiln_frozen *f, const kiln_frozen_config *c, kiln_error *err) {
  kiln_status st = check_config(f, c, err);
  if (st) return st;
  if ((st = slot_fill(&f->pend[f->npend], c, &f->o.grid, err))) return st;
  if (++f->npend == (size_t)f->nt) return kiln_frozen_flush(f, err);
  return KILN_OK;
}

kiln_status kiln_frozen_add_einstein(kiln_frozen *f, const kiln_frozen_config *c,
                                     const double *sigma, size_t nconf, uint64_t seed,
                                     uint64_t first_stream, kiln_error *err) {
  kiln_status st = check_config(f, c, err);
  if (st) return st;
  for (int e = 0; e < f->o.nelem; e++)
    if (!(sigma[e] >= 0) || !isfinite(sigma[e]))
      return KILN_FAIL(err, KILN_EINVAL, "einstein: sigma of element Z=%d must be >= 0 "
                       "(got %g Å)", f->Z[e], sigma[e]);
  for (size_t j = 0; j < nconf; j++) {
    fz_slot *s = &f->pend[f->npend];
    if ((st = slot_fill(s, c, &f->o.grid, err))) return st;
    slot_displace(s, c, &f->o.grid, sigma, seed, first_stream + j);
    if (++f->npend == (size_t)f->nt && (st = kiln_frozen_flush(f, err))) return st;
  }
  return KILN_OK;
}

kiln_status kiln_frozen_mean(kiln_frozen *f, double *I, size_t *count, kiln_error *err) {
  kiln_status st = kiln_frozen_flush(f, err);
  if (st) return st;
  if (count) *count = f->count;
  if (!f->count)
    return KILN_FAIL(err, KILN_EINVAL, "frozen phonons: no configurations were added");
  size_t np = f->o.grid.nx * f->o.grid.ny;
  for (size_t i = 0; i < np; i++) I[i] = f->sum[i] / (double)f->count;
  return KILN_OK;
}

/* ------------------------------------------------------------------ patterns */

double kiln_frozen_kmax(const kiln_wave_grid *g) {
  double kx = (double)g->nx / (2.0 * g->lx), ky = (double)g->ny / (2.0 * g->ly);
  return 2.0 / 3.0 * (kx < ky ? kx : ky);
}

void kiln_frozen_pattern_dims(const kiln_wave_grid *g, int crop, size_t *onx, size_t *ony,
                              size_t *cx, size_t *cy) {
  if (!crop) {
    *onx = g->nx;
    *ony = g->ny;
    *cx = g->nx / 2;
    *cy = g->ny / 2;
    return;
  }
  double km = kiln_frozen_kmax(g);
  size_t mx = (size_t)floor(km * g->lx + 1e-9), my = (size_t)floor(km * g->ly + 1e-9);
  if (2 * mx + 1 > g->nx) mx = (g->nx - 1) / 2;
  if (2 * my + 1 > g->ny) my = (g->ny - 1) / 2;
  *onx = 2 * mx + 1;
  *ony = 2 * my + 1;
  *cx = mx;
  *cy = my;
}

void kiln_frozen_pattern(const kiln_wave_grid *g, int crop, const double *I, double *out) {
  size_t onx, ony, cx, cy;
  kiln_frozen_pattern_dims(g, crop, &onx, &ony, &cx, &cy);
  for (size_t j = 0; j < ony; j++) {
    long ky = (long)j - (long)cy;
    size_t iy = (size_t)((ky % (long)g->ny + (long)g->ny) % (long)g->ny);
    for (size_t i = 0; i < onx; i++) {
      long kx = (long)i - (long)cx;
      size_t ix = (size_t)((kx % (long)g->nx + (long)g->nx) % (long)g->nx);
      out[j * onx + i] = I[iy * g->nx + ix];
    }
  }
}

/* ------------------------------------------------------------------ STEM */

typedef struct h5out {
  hid_t file, data;
  size_t onx, ony;
} h5out;

static kiln_status h5fail(kiln_error *err, const char *file, const char *what) {
  H5Eclear2(H5E_DEFAULT);
  return KILN_FAIL(err, KILN_EEXTERNAL, "4D-STEM file %s: %s failed", file, what);
}

static void h5attr(hid_t obj, const char *name, double v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
  }
  H5Sclose(sp);
}

static void h5attr_str(hid_t obj, const char *name, const char *s) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(s) + 1);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    H5Awrite(a, t, s);
    H5Aclose(a);
  }
  H5Sclose(sp);
  H5Tclose(t);
}

static kiln_status h5vec(hid_t file, const char *name, const double *v, size_t n,
                         const char *unit, const char *fname, kiln_error *err) {
  hsize_t d = n;
  hid_t sp = H5Screate_simple(1, &d, NULL);
  hid_t ds = H5Dcreate2(file, name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(sp);
  if (ds < 0) return h5fail(err, fname, name);
  herr_t e = H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  h5attr_str(ds, "unit", unit);
  H5Dclose(ds);
  return e < 0 ? h5fail(err, fname, name) : KILN_OK;
}

static kiln_status h5_open(h5out *h, kiln_frozen *f, const kiln_frozen_stem_opts *o,
                           size_t ncfgtot, kiln_error *err) {
  const kiln_wave_grid *g = &f->o.grid;
  size_t cx, cy;
  kiln_frozen_pattern_dims(g, o->crop, &h->onx, &h->ony, &cx, &cy);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  h->file = H5Fcreate(o->file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (h->file < 0) return h5fail(err, o->file, "creating the file");
  hsize_t dims[4] = {o->scan.ny, o->scan.nx, h->ony, h->onx};
  hsize_t chunk[4] = {1, 1, h->ony, h->onx};
  hid_t sp = H5Screate_simple(4, dims, NULL);
  hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(pl, 4, chunk);
  h->data = H5Dcreate2(h->file, "data", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
  H5Pclose(pl);
  H5Sclose(sp);
  if (h->data < 0) return h5fail(err, o->file, "creating dataset 'data'");
  h5attr_str(h->data, "dims", "scan_y, scan_x, ky, kx");
  h5attr_str(h->data, "unit", "fraction of the incident intensity per pixel");
  h5attr(h->file, "energy", f->o.energy);
  h5attr(h->file, "semiangle_mrad", 1e3 * o->probe.semiangle);
  h5attr(h->file, "slice_thickness", f->o.dz);
  h5attr(h->file, "configurations", (double)ncfgtot);
  h5attr(h->file, "source_fwhm", o->probe.source_fwhm);
  h5attr(h->file, "wavelength", kiln_wave_wavelength(f->o.energy));
  h5attr(h->file, "cropped", o->crop ? 1.0 : 0.0);
  h5attr_str(h->file, "creator", "kiln");
  size_t nk = h->onx > h->ony ? h->onx : h->ony;
  size_t ns = o->scan.nx > o->scan.ny ? o->scan.nx : o->scan.ny;
  double *v = malloc((nk > ns ? nk : ns) * sizeof *v);
  if (!v) return KILN_FAIL(err, KILN_ENOMEM, "4D-STEM: out of memory");
  kiln_status st;
  for (size_t i = 0; i < h->onx; i++) v[i] = ((double)i - (double)cx) / g->lx;
  st = h5vec(h->file, "kx", v, h->onx, "1/Å", o->file, err);
  for (size_t i = 0; !st && i < h->ony; i++) v[i] = ((double)i - (double)cy) / g->ly;
  if (!st) st = h5vec(h->file, "ky", v, h->ony, "1/Å", o->file, err);
  for (size_t i = 0; !st && i < o->scan.nx; i++)
    v[i] = o->scan.x0 + (double)i * (o->scan.x1 - o->scan.x0) / (double)o->scan.nx;
  if (!st) st = h5vec(h->file, "scan_x", v, o->scan.nx, "Å", o->file, err);
  for (size_t i = 0; !st && i < o->scan.ny; i++)
    v[i] = o->scan.y0 + (double)i * (o->scan.y1 - o->scan.y0) / (double)o->scan.ny;
  if (!st) st = h5vec(h->file, "scan_y", v, o->scan.ny, "Å", o->file, err);
  free(v);
  return st;
}

static void h5_close(h5out *h) {
  if (h->data >= 0) H5Dclose(h->data);
  if (h->file >= 0) H5Fclose(h->file);
}

static kiln_status h5_write(h5out *h, size_t iy, size_t ix, const float *pat, const char *fname,
                            kiln_error *err) {
  hsize_t start[4] = {iy, ix, 0, 0}, count[4] = {1, 1, h->ony, h->onx};
  hsize_t md = h->ony * h->onx;
  hid_t fs = H5Dget_space(h->data);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t ms = H5Screate_simple(1, &md, NULL);
  herr_t e = H5Dwrite(h->data, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, pat);
  H5Sclose(ms);
  H5Sclose(fs);
  return e < 0 ? h5fail(err, fname, "writing a pattern") : KILN_OK;
}

kiln_status kiln_frozen_stem(kiln_frozen *f, const kiln_frozen_config *cfg, size_t ncfg,
                             const kiln_frozen_stem_opts *o, double *images, kiln_error *err) {
  const kiln_wave_grid *g = &f->o.grid;
  kiln_frozen_probe pr = o->probe;
  pr.probe = 1;
  kiln_status st = check_probe(&pr, err);
  if (st) return st;
  if (!ncfg) return KILN_FAIL(err, KILN_EINVAL, "stem: no configurations given");
  if (!o->scan.nx || !o->scan.ny)
    return KILN_FAIL(err, KILN_EINVAL, "stem: empty scan grid (%zu x %zu positions)",
                     o->scan.nx, o->scan.ny);
  for (size_t d = 0; d < o->ndet; d++)
    if (!(o->inner[d] >= 0) || !(o->outer[d] > o->inner[d]))
      return KILN_FAIL(err, KILN_EINVAL, "stem: detector %zu: need 0 <= inner < outer (got "
                       "%g, %g mrad)", d + 1, 1e3 * o->inner[d], 1e3 * o->outer[d]);
  for (size_t k = 0; k < ncfg; k++)
    if ((st = check_config(f, &cfg[k], err))) return st;
  size_t nsub = o->sigma ? (o->nconf ? o->nconf : 1) : 1;
  if (o->sigma)
    for (int e = 0; e < f->o.nelem; e++)
      if (!(o->sigma[e] >= 0) || !isfinite(o->sigma[e]))
        return KILN_FAIL(err, KILN_EINVAL, "stem: sigma of element Z=%d must be >= 0 (got %g Å)",
                         f->Z[e], o->sigma[e]);
  size_t ntot = ncfg * nsub, npos = o->scan.nx * o->scan.ny, np = g->nx * g->ny;
  if ((st = kiln_frozen_flush(f, err))) return st;

  h5out h = {.file = -1, .data = -1};
  if (o->file && (st = h5_open(&h, f, o, ntot, err))) {
    h5_close(&h);
    remove(o->file);
    return st;
  }
  int nth = npos < (size_t)f->nt ? (int)npos : f->nt;
  kiln_error *terr = calloc((size_t)f->nt, sizeof *terr);
  kiln_status *tst = calloc((size_t)f->nt, sizeof *tst);
  double *acc = malloc((size_t)f->nt * np * sizeof *acc); /* per-thread averaged pattern */
  size_t pn = o->file ? h.onx * h.ony : 1;
  double *patd = malloc((size_t)f->nt * pn * sizeof *patd);
  float *patf = malloc((size_t)f->nt * pn * sizeof *patf);
  if (!terr || !tst || !acc || !patd || !patf) {
    free(terr), free(tst), free(acc), free(patd), free(patf);
    h5_close(&h);
    return KILN_FAIL(err, KILN_ENOMEM, "stem: out of memory");
  }
  int failed = 0;
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1)
  for (size_t p = 0; p < npos; p++) {
    int t = omp_get_thread_num();
    int stop;
#pragma omp atomic read
    stop = failed;
    if (stop || tst[t]) continue;
    fz_work *w = &f->work[t];
    double *I = acc + (size_t)t * np;
    size_t ix = p % o->scan.nx, iy = p / o->scan.nx;
    kiln_frozen_probe q = pr;
    q.x0 = o->scan.x0 + (double)ix * (o->scan.x1 - o->scan.x0) / (double)o->scan.nx;
    q.y0 = o->scan.y0 + (double)iy * (o->scan.y1 - o->scan.y0) / (double)o->scan.ny;
    memset(I, 0, np * sizeof *I);
    kiln_status s = KILN_OK;
    for (size_t c = 0; c < ntot && !s; c++) {
      size_t k = c / nsub, j = c % nsub;
      if (w->cur_id != (long)c) {
        s = slot_fill(&w->cur, &cfg[k], g, &terr[t]);
        if (!s && o->sigma) slot_displace(&w->cur, &cfg[k], g, o->sigma, o->seed, c);
        if (!s)
          s = kiln_slicer_set_atoms(w->s, w->cur.n, (const double(*)[3])w->cur.xyz, w->cur.el,
                                    w->cur.thickness, &terr[t]);
        w->cur_id = s ? -1 : (long)c;
      }
      (void)j;
      if (!s) s = run_incident(f, w, &q, 1.0 / (double)ntot, I, &terr[t]);
    }
    if (!s) {
      for (size_t d = 0; d < o->ndet; d++)
        images[d * npos + p] = kiln_wave_annular(g, f->o.energy, I, o->inner[d], o->outer[d]);
      if (o->file) {
        double *pd = patd + (size_t)t * pn;
        float *pf = patf + (size_t)t * pn;
        kiln_frozen_pattern(g, o->crop, I, pd);
        for (size_t i = 0; i < pn; i++) pf[i] = (float)pd[i];
#pragma omp critical(kiln_frozen_h5)
        s = h5_write(&h, iy, ix, pf, o->file, &terr[t]);
      }
    }
    if (s) {
      tst[t] = s;
#pragma omp atomic write
      failed = 1;
    }
  }
  for (int t = 0; t < f->nt; t++) {
    f->work[t].cur_id = -1; /* the accumulator's batches reuse the slicers */
    if (tst[t] && !st) {
      st = tst[t];
      if (err) *err = terr[t];
    }
  }
  free(terr), free(tst), free(acc), free(patd), free(patf);
  h5_close(&h);
  if (st && o->file) remove(o->file);
  return st;
}
