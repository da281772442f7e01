/* src/wave/prop_internal.h: private layout of kiln_wave and helpers shared by
 * wave.c, probe.c, multislice.c, detect.c (and frozen.c). Not installed. */
#ifndef KILN_WAVE_PROP_INTERNAL_H
#define KILN_WAVE_PROP_INTERNAL_H
#include <stddef.h>
#include "kiln/wave.h"

struct kiln_wave {
  kiln_wave_grid g;
  double energy;   /* eV */
  int prec;        /* KILN_WAVE_F32 / F64 */
  void *data;      /* fftw(f)_malloc'ed nx*ny complex, {re, im} interleaved */
};

/* Spatial frequency (1/Å, no 2 pi) of FFT index i on an axis of n points and extent l. */
static inline double kiln_wave_freq_(size_t i, size_t n, double l) {
  return (i < (n + 1) / 2 ? (double)i : (double)i - (double)n) / l;
}

/* The band limit k_max (1/Å): 2/3 of the Nyquist frequency of the coarser axis. */
static inline double kiln_wave_kmax_(const kiln_wave_grid *g) {
  double kx = 0.5 * (double)g->nx / g->lx, ky = 0.5 * (double)g->ny / g->ly;
  return (2.0 / 3.0) * (kx < ky ? kx : ky);
}

/* Validate a grid (sizes >= 1, extents > 0, FFTW int range); what names the caller. */
kiln_status kiln_wave_check_grid_(const kiln_wave_grid *g, const char *what, kiln_error *err);

/* Turn FFTW threads on once (serialised with the kiln_fftw_planner critical section;
 * call only from inside that section). */
void kiln_wave_fftw_init_threads_(void);

/* multislice.c, for detect.c and frozen.c: */
/* Checks that w matches m (grid, precision, energy); what names the caller. */
kiln_status kiln_multislice_check_wave_(const kiln_multislice *m, const kiln_wave *w,
                                        const char *what, kiln_error *err);
/* Adds |FFT psi|^2 / (nx ny)^2 to I (FFT order, x fastest); w already checked. */
kiln_status kiln_multislice_intensity_(kiln_multislice *m, const kiln_wave *w, double *I,
                                       kiln_error *err);
#endif
