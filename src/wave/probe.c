/* src/wave/probe.c: convergent probes with Krivanek aberrations. */
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "prop_internal.h"

/* Aberration phase chi (rad) at scattering angle alpha (rad), azimuth phi. */
static double chi_of(const kiln_aberrations *a, double lambda, double alpha, double phi) {
  double a2 = alpha * alpha, a3 = a2 * alpha, a4 = a2 * a2, a6 = a4 * a2;
  double s = a2 / 2.0 * (a->C10 + a->C12 * cos(2.0 * (phi - a->phi12))) +
             a3 / 3.0 * (a->C21 * cos(phi - a->phi21) + a->C23 * cos(3.0 * (phi - a->phi23))) +
             a4 / 4.0 * (a->C30 + a->C32 * cos(2.0 * (phi - a->phi32)) +
                         a->C34 * cos(4.0 * (phi - a->phi34))) +
             a6 / 6.0 * a->C50;
  return 2.0 * M_PI / lambda * s;
}

kiln_status kiln_wave_probe(kiln_wave *w, double x0, double y0, double semiangle,
                            const kiln_aberrations *ab, kiln_error *err) {
  if (!w) return KILN_FAIL(err, KILN_EINVAL, "probe: wave is NULL");
  if (!(semiangle > 0) || !isfinite(semiangle))
    return KILN_FAIL(err, KILN_EINVAL, "probe: aperture semiangle %g rad must be positive",
                     semiangle);
  if (!isfinite(x0) || !isfinite(y0))
    return KILN_FAIL(err, KILN_EINVAL, "probe: position (%g, %g) Å is not finite", x0, y0);
  const kiln_wave_grid *g = &w->g;
  size_t nx = g->nx, ny = g->ny, n = nx * ny;
  double lambda = kiln_wave_wavelength(w->energy);
  double dk = fmax(1.0 / g->lx, 1.0 / g->ly), dalpha = lambda * dk;
  static const kiln_aberrations none;
  const kiln_aberrations *a = ab ? ab : &none;

  fftw_complex *buf = fftw_malloc(n * sizeof *buf);
  if (!buf) return KILN_FAIL(err, KILN_ENOMEM, "probe: out of memory for %zu x %zu", nx, ny);
  fftw_plan plan = NULL;
#pragma omp critical(kiln_fftw_planner)
  plan = fftw_plan_dft_2d((int)ny, (int)nx, buf, buf, FFTW_BACKWARD, FFTW_ESTIMATE);
  if (!plan) {
    fftw_free(buf);
    return KILN_FAIL(err, KILN_EEXTERNAL, "probe: FFTW could not plan a %zu x %zu transform", nx,
                     ny);
  }
  /* psi(k) = A(k) exp(-i chi(k)) exp(-2 pi i k.r0); psi(r) = sum_k psi(k) exp(2 pi i k.r) */
  for (size_t iy = 0; iy < ny; iy++) {
    double ky = kiln_wave_freq_(iy, ny, g->ly);
    for (size_t ix = 0; ix < nx; ix++) {
      double kx = kiln_wave_freq_(ix, nx, g->lx);
      double alpha = lambda * sqrt(kx * kx + ky * ky);
      double A = (semiangle - alpha) / dalpha + 0.5;
      A = A < 0 ? 0 : A > 1 ? 1 : A;
      double ph = 0.0;
      if (A > 0) ph = -chi_of(a, lambda, alpha, atan2(ky, kx)) - 2.0 * M_PI * (kx * x0 + ky * y0);
      buf[iy * nx + ix][0] = A * cos(ph);
      buf[iy * nx + ix][1] = A * sin(ph);
    }
  }
  fftw_execute(plan);
#pragma omp critical(kiln_fftw_planner)
  fftw_destroy_plan(plan);
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += buf[i][0] * buf[i][0] + buf[i][1] * buf[i][1];
  if (!(s > 0)) {
    fftw_free(buf);
    return KILN_FAIL(err, KILN_EINVAL,
                     "probe: aperture %g rad holds no frequency of the %zu x %zu grid (pixel "
                     "%g rad)", semiangle, nx, ny, dalpha);
  }
  double sc = 1.0 / sqrt(s / (double)n);
  if (w->prec == KILN_WAVE_F32) {
    float *p = w->data;
    for (size_t i = 0; i < n; i++) {
      p[2 * i] = (float)(buf[i][0] * sc);
      p[2 * i + 1] = (float)(buf[i][1] * sc);
    }
  } else {
    double *p = w->data;
    for (size_t i = 0; i < n; i++) {
      p[2 * i] = buf[i][0] * sc;
      p[2 * i + 1] = buf[i][1] * sc;
    }
  }
  fftw_free(buf);
  return KILN_OK;
}
