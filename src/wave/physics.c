/* src/wave/physics.c: relativistic electron wavelength and interaction parameter, grids. */
#include <math.h>
#include "kiln/fft.h"
#include "kiln/wave.h"
#include "slicer_internal.h"

double kiln_wave_wavelength(double energy_ev) {
  return KILN_HC_EVA / sqrt(energy_ev * (2.0 * KILN_MEC2_EV + energy_ev));
}

/* sigma = 2 pi m e lambda / h^2 with the relativistic mass m = m0 (1 + E/(m0 c^2)); in eV
 * and Å this is 2 pi / (lambda E) * (m0 c^2 + E) / (2 m0 c^2 + E). */
double kiln_wave_sigma(double energy_ev) {
  double lam = kiln_wave_wavelength(energy_ev);
  return 2.0 * KILN_PI / (lam * energy_ev) * (KILN_MEC2_EV + energy_ev) /
         (2.0 * KILN_MEC2_EV + energy_ev);
}

static size_t npts(double l, double sampling) {
  double n = ceil(l / sampling * (1.0 - 1e-12));
  return kiln_fft_good_size(n < 1.0 ? 1 : (size_t)n);
}

kiln_status kiln_wave_grid_make(kiln_wave_grid *g, double lx, double ly, size_t nx, size_t ny,
                                double sampling, kiln_error *err) {
  if (!g) return KILN_FAIL(err, KILN_EINVAL, "wave grid: output pointer is NULL");
  if (!(lx > 0.0) || !(ly > 0.0) || !isfinite(lx) || !isfinite(ly))
    return KILN_FAIL(err, KILN_EINVAL, "wave grid: extent must be positive and finite (got %g x %g Å)",
                     lx, ly);
  if (nx == 0 && ny == 0) {
    if (!(sampling > 0.0) || !isfinite(sampling))
      return KILN_FAIL(err, KILN_EINVAL,
                       "wave grid: no gpts given and sampling = %g Å is not positive", sampling);
    if (lx / sampling > 1e6 || ly / sampling > 1e6)
      return KILN_FAIL(err, KILN_ERANGE,
                       "wave grid: %g x %g Å at %g Å per pixel needs more than 1e6 points per axis",
                       lx, ly, sampling);
    nx = npts(lx, sampling);
    ny = npts(ly, sampling);
  } else if (nx == 0 || ny == 0) {
    return KILN_FAIL(err, KILN_EINVAL, "wave grid: gpts must both be >= 1 (got %zu x %zu)", nx, ny);
  }
  if (nx > 1000000 || ny > 1000000)
    return KILN_FAIL(err, KILN_ERANGE, "wave grid: %zu x %zu points is too large", nx, ny);
  g->nx = nx;
  g->ny = ny;
  g->lx = lx;
  g->ly = ly;
  return KILN_OK;
}
