/* src/wave/wave.c: kiln_wave, a complex field on a periodic transverse grid. */
#include <fftw3.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "prop_internal.h"

kiln_status kiln_wave_check_grid_(const kiln_wave_grid *g, const char *what, kiln_error *err) {
  if (!g) return KILN_FAIL(err, KILN_EINVAL, "%s: grid is NULL", what);
  if (g->nx < 1 || g->ny < 1)
    return KILN_FAIL(err, KILN_EINVAL, "%s: grid has nx = %zu, ny = %zu points (need >= 1)", what,
                     g->nx, g->ny);
  if (g->nx > INT_MAX / 2 || g->ny > INT_MAX / 2 || g->nx > SIZE_MAX / 16 / g->ny)
    return KILN_FAIL(err, KILN_ERANGE, "%s: grid %zu x %zu is too large for FFTW", what, g->nx,
                     g->ny);
  if (!(g->lx > 0) || !(g->ly > 0))
    return KILN_FAIL(err, KILN_EINVAL, "%s: grid extent %g x %g Å must be positive", what, g->lx,
                     g->ly);
  return KILN_OK;
}

static size_t elem_size(int prec) {
  return prec == KILN_WAVE_F32 ? sizeof(fftwf_complex) : sizeof(fftw_complex);
}

kiln_status kiln_wave_new(kiln_wave **out, const kiln_wave_grid *g, double energy_ev,
                          int precision, kiln_error *err) {
  if (!out) return KILN_FAIL(err, KILN_EINVAL, "wave: output pointer is NULL");
  *out = NULL;
  kiln_status st = kiln_wave_check_grid_(g, "wave", err);
  if (st != KILN_OK) return st;
  if (!(energy_ev > 0))
    return KILN_FAIL(err, KILN_EINVAL, "wave: energy %g eV must be positive", energy_ev);
  if (precision != KILN_WAVE_F32 && precision != KILN_WAVE_F64)
    return KILN_FAIL(err, KILN_EINVAL,
                     "wave: precision %d is neither KILN_WAVE_F32 (1) nor KILN_WAVE_F64 (2)",
                     precision);
  kiln_wave *w = calloc(1, sizeof *w);
  if (!w) return KILN_FAIL(err, KILN_ENOMEM, "wave: out of memory");
  w->g = *g;
  w->energy = energy_ev;
  w->prec = precision;
  size_t bytes = g->nx * g->ny * elem_size(precision);
  w->data = fftw_malloc(bytes);   /* fftw_malloc and fftwf_malloc align alike */
  if (!w->data) {
    free(w);
    return KILN_FAIL(err, KILN_ENOMEM, "wave: out of memory for a %zu x %zu grid (%zu bytes)",
                     g->nx, g->ny, bytes);
  }
  memset(w->data, 0, bytes);
  *out = w;
  return KILN_OK;
}

void kiln_wave_free(kiln_wave *w) {
  if (!w) return;
  fftw_free(w->data);
  free(w);
}

kiln_status kiln_wave_copy(kiln_wave **out, const kiln_wave *w, kiln_error *err) {
  if (!w) {
    if (out) *out = NULL;
    return KILN_FAIL(err, KILN_EINVAL, "wave copy: source wave is NULL");
  }
  kiln_status st = kiln_wave_new(out, &w->g, w->energy, w->prec, err);
  if (st != KILN_OK) return st;
  memcpy((*out)->data, w->data, w->g.nx * w->g.ny * elem_size(w->prec));
  return KILN_OK;
}

const kiln_wave_grid *kiln_wave_get_grid(const kiln_wave *w) { return &w->g; }
double kiln_wave_energy(const kiln_wave *w) { return w->energy; }
int kiln_wave_precision(const kiln_wave *w) { return w->prec; }
void *kiln_wave_data(kiln_wave *w) { return w->data; }

double kiln_wave_norm(const kiln_wave *w) {
  size_t n = w->g.nx * w->g.ny;
  double s = 0.0;
  if (w->prec == KILN_WAVE_F32) {
    const float *p = w->data;
    for (size_t i = 0; i < 2 * n; i++) s += (double)p[i] * (double)p[i];
  } else {
    const double *p = w->data;
    for (size_t i = 0; i < 2 * n; i++) s += p[i] * p[i];
  }
  return s / (double)n;
}

void kiln_wave_plane(kiln_wave *w) {
  size_t n = w->g.nx * w->g.ny;
  if (w->prec == KILN_WAVE_F32) {
    float *p = w->data;
    for (size_t i = 0; i < n; i++) { p[2 * i] = 1.0f; p[2 * i + 1] = 0.0f; }
  } else {
    double *p = w->data;
    for (size_t i = 0; i < n; i++) { p[2 * i] = 1.0; p[2 * i + 1] = 0.0; }
  }
}
