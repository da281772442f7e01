/* src/wave/detect.c: diffraction intensities and annular detectors. */
#include <math.h>
#include <stddef.h>
#include "prop_internal.h"

kiln_status kiln_multislice_diffraction(kiln_multislice *m, const kiln_wave *w, double *I,
                                        kiln_error *err) {
  kiln_status st = kiln_multislice_check_wave_(m, w, "diffraction", err);
  if (st != KILN_OK) return st;
  if (!I) return KILN_FAIL(err, KILN_EINVAL, "diffraction: intensity array I is NULL");
  return kiln_multislice_intensity_(m, w, I, err);
}

double kiln_wave_annular(const kiln_wave_grid *g, double energy_ev, const double *I,
                         double inner, double outer) {
  if (!g || !I || !(outer > inner)) return 0.0;
  double lambda = kiln_wave_wavelength(energy_ev), s = 0.0;
  for (size_t iy = 0; iy < g->ny; iy++) {
    double ky = kiln_wave_freq_(iy, g->ny, g->ly);
    for (size_t ix = 0; ix < g->nx; ix++) {
      double kx = kiln_wave_freq_(ix, g->nx, g->lx);
      double th = lambda * sqrt(kx * kx + ky * ky);
      if (th >= inner && th < outer) s += I[iy * g->nx + ix];
    }
  }
  return s;
}
