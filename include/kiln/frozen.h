/* kiln/frozen.h: frozen-phonon averaging and STEM scans on top of kiln/wave.h.
 *
 * A kiln_frozen engine owns one workspace per thread (a kiln_slicer, a kiln_multislice
 * and a kiln_wave, FFTW single-threaded inside each): configurations (or scan
 * positions) are processed in parallel with OpenMP, memory bounded by one workspace and
 * one pending configuration per thread. Results do not depend on the thread count:
 * per-configuration intensities are summed in configuration order.
 *
 * A configuration is n atoms at xyz (Å) in an orthogonal box lx x ly x thickness (the
 * grid's extent), el[i] indexing opts.Z. x and y are wrapped into the box; z is not
 * wrapped near the faces: z within thickness/2 below 0 or above the thickness is clamped
 * onto the face (an atom vibrating about z = 0 stays in the first slice), farther ones
 * are taken modulo the thickness first.
 * Intensities are in FFT order (kiln/wave.h) and normalised so that a unit incident wave
 * gives sum I = 1; kiln_frozen_pattern turns them into centred (fftshifted) images.
 * Angles in rad here (mrad at the Lua edge). Source: src/wave/frozen.c. */
#ifndef KILN_FROZEN_H
#define KILN_FROZEN_H
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "wave.h"

typedef struct kiln_frozen kiln_frozen;

typedef struct kiln_frozen_opts {
  kiln_wave_grid grid;
  double energy;    /* eV */
  double dz;        /* slice thickness (Å) */
  int finite;       /* projection: 0 infinite, 1 finite (kiln_slicer_opts) */
  int precision;    /* KILN_WAVE_F32 / KILN_WAVE_F64 */
  int nthreads;     /* OpenMP threads (workspaces); <= 0: omp_get_max_threads() */
  int nelem;        /* elements, atomic numbers Z[0..nelem-1] */
  const int *Z;
} kiln_frozen_opts;

typedef struct kiln_frozen_config {
  size_t n;
  const double (*xyz)[3];
  const int32_t *el;
  double thickness;  /* Å */
} kiln_frozen_config;

/* The incident wave: a plane wave (probe == 0) or a convergent probe at (x0, y0) (Å).
 * A partially coherent source (source_fwhm > 0, Å) is an incoherent sum over probes
 * shifted by a Gaussian of that FWHM, sampled by a source_points^2 Gauss-Hermite product
 * rule (source_points 1..8; 0: 3). */
typedef struct kiln_frozen_probe {
  int probe;
  double x0, y0;
  double semiangle;        /* rad */
  kiln_aberrations ab;
  double source_fwhm;      /* Å; 0: coherent */
  int source_points;
} kiln_frozen_probe;

kiln_status kiln_frozen_new(kiln_frozen **out, const kiln_frozen_opts *o, kiln_error *err);
void kiln_frozen_free(kiln_frozen *f);
int kiln_frozen_nthreads(const kiln_frozen *f);
const kiln_wave_grid *kiln_frozen_grid(const kiln_frozen *f);

/* ---- averaging of diffraction intensities over configurations (accumulator) */
/* The incident wave for later adds (NULL: plane wave, the default). Flushes pending. */
kiln_status kiln_frozen_set_incident(kiln_frozen *f, const kiln_frozen_probe *p, kiln_error *err);
/* Forget the accumulated sum (pending configurations are dropped). */
void kiln_frozen_reset(kiln_frozen *f);
/* Queue a configuration (copied); a full batch (one per thread) is propagated. */
kiln_status kiln_frozen_add(kiln_frozen *f, const kiln_frozen_config *c, kiln_error *err);
/* Queue nconf Einstein snapshots of c: every atom displaced by independent normal
 * deviates of standard deviation sigma[el] (Å, per Cartesian direction); snapshot j uses
 * the random stream (seed, first_stream + j), so results are reproducible. */
kiln_status kiln_frozen_add_einstein(kiln_frozen *f, const kiln_frozen_config *c,
                                     const double *sigma, size_t nconf, uint64_t seed,
                                     uint64_t first_stream, kiln_error *err);
/* Propagate the pending configurations. */
kiln_status kiln_frozen_flush(kiln_frozen *f, kiln_error *err);
/* Flush, then the mean intensity (nx*ny doubles, FFT order) into I; *count = number of
 * configurations averaged (KILN_EINVAL when none). */
kiln_status kiln_frozen_mean(kiln_frozen *f, double *I, size_t *count, kiln_error *err);
size_t kiln_frozen_count(const kiln_frozen *f);

/* ---- patterns */
/* Size of the centred pattern: full grid (crop == 0: ony x onx = ny x nx, the direct beam
 * at (cy, cx) = (ny/2, nx/2)) or cropped to the antialiased square |kx|, |ky| <= k_max
 * (2/3 of the Nyquist frequency of the coarser axis). k of column j is (j - cx)/lx. */
void kiln_frozen_pattern_dims(const kiln_wave_grid *g, int crop, size_t *onx, size_t *ony,
                              size_t *cx, size_t *cy);
/* I (FFT order) -> out (ony x onx, centred, cropped when crop). */
void kiln_frozen_pattern(const kiln_wave_grid *g, int crop, const double *I, double *out);
/* k_max of the 2/3 band limit (1/Å). */
double kiln_frozen_kmax(const kiln_wave_grid *g);

/* ---- STEM scans */
typedef struct kiln_frozen_scan {
  double x0, y0, x1, y1;   /* Å; positions x0 + i (x1 - x0)/nx, i = 0..nx-1 (end excluded) */
  size_t nx, ny;
} kiln_frozen_scan;

typedef struct kiln_frozen_stem_opts {
  kiln_frozen_probe probe;       /* probe = 1 implied; x0, y0 ignored */
  kiln_frozen_scan scan;
  size_t ndet;
  const double *inner, *outer;   /* ndet annuli (rad): inner <= theta < outer */
  const double *sigma;           /* Einstein sigma per element (Å) or NULL */
  size_t nconf;                  /* Einstein snapshots per configuration (with sigma) */
  uint64_t seed;
  const char *file;              /* 4D-STEM HDF5 output or NULL */
  int crop;                      /* 4D patterns cropped to the antialiased square */
} kiln_frozen_stem_opts;

/* Scan the probe over the grid; for every position the intensities are averaged over the
 * configurations (cfg[0..ncfg-1], each as it is, or nconf Einstein snapshots of each with
 * streams (seed, k*nconf + j)) and the source points. images: ndet * ny * nx doubles,
 * detector d at images[d*ny*nx + iy*nx + ix] (fraction of the incident intensity).
 * file: HDF5 with /data float32 [ny][nx][ony][onx] chunked one pattern per chunk, /kx,
 * /ky (1/Å), /scan_x, /scan_y (Å), and attributes (energy, semiangle, ...). Positions
 * run in parallel. */
kiln_status kiln_frozen_stem(kiln_frozen *f, const kiln_frozen_config *cfg, size_t ncfg,
                             const kiln_frozen_stem_opts *o, double *images, kiln_error *err);
#endif
