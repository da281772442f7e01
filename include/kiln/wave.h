/* kiln/wave.h: fast electrons: projected potentials, waves and the multislice propagator.
 *
 * Conventions: the beam runs along +z; the transverse plane is periodic with extent
 * lx x ly (Å) sampled by nx x ny points; arrays are row-major with index iy*nx + ix
 * (x fastest). Spatial frequencies k = 1/d in 1/Å (no 2 pi), k_x = ix/lx for
 * ix < nx/2, (ix - nx)/lx otherwise (FFT order). Energies in eV, potentials in V,
 * projected potentials in V·Å, angles in mrad at the user's edge, rad inside.
 * Waves are complex; precision is chosen per object: KILN_WAVE_F32 (float complex,
 * the default for speed) or KILN_WAVE_F64 (double complex). A "V" buffer passed
 * between slicer and propagator has nx*ny elements of float or double, matching the
 * precision of both.
 *
 * Files: src/wave/physics.c (lambda, sigma, grids), kirkland.c (+ generated table),
 * slicer*.c (projected potentials), wave.c / probe.c (waves, probes), multislice.c
 * (propagator, FFT plans), detect.c (diffraction, annular detectors), frozen.c
 * (frozen-phonon averaging, scans).
 */
#ifndef KILN_WAVE_H
#define KILN_WAVE_H
#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define KILN_WAVE_F32 1
#define KILN_WAVE_F64 2

/* ------------------------------------------------------------------ grids, physics */
typedef struct kiln_wave_grid {
  size_t nx, ny;   /* grid points */
  double lx, ly;   /* extent (Å) */
} kiln_wave_grid;

/* Fill g from the extent and either gpts (nx, ny > 0) or a sampling (Å per pixel, used
 * when nx == 0: n = the FFT-friendly size >= extent/sampling). */
kiln_status kiln_wave_grid_make(kiln_wave_grid *g, double lx, double ly, size_t nx, size_t ny,
                                double sampling, kiln_error *err);
/* Relativistic electron wavelength (Å) at kinetic energy E (eV). */
double kiln_wave_wavelength(double energy_ev);
/* Interaction parameter sigma (rad / (V·Å)), relativistic: 2 pi m e lambda / h^2. */
double kiln_wave_sigma(double energy_ev);

/* ------------------------------------------------------------------ Kirkland 2010 */
/* The 12 parameters a1 b1 a2 b2 a3 b3 c1 d1 c2 d2 c3 d3 of element Z (1..98). */
kiln_status kiln_kirkland_params(int Z, double p[12], kiln_error *err);
/* Electron scattering factor f_e(k) (Å), k = 1/d (1/Å). */
double kiln_kirkland_fe(const double p[12], double k);
/* 3-D potential V(r) (V) and infinite-projection V_z(r) (V·Å) at radius r (Å, > 0). */
double kiln_kirkland_v(const double p[12], double r);
double kiln_kirkland_vz(const double p[12], double r);

/* ------------------------------------------------------------------ projected potentials */
typedef struct kiln_slicer kiln_slicer;
typedef struct kiln_slicer_opts {
  kiln_wave_grid grid;
  double dz;              /* slice thickness (Å) */
  int finite;             /* 0: infinite projection (an atom contributes its whole V_z to the
                             slice holding its centre); 1: V(r) integrated over each slice */
  int precision;          /* KILN_WAVE_F32 / F64: type of the V buffers kiln_slicer_build fills */
  int nelem;              /* elements (atomic numbers in Z[0..nelem-1]) */
  const int *Z;
} kiln_slicer_opts;

kiln_status kiln_slicer_new(kiln_slicer **out, const kiln_slicer_opts *o, kiln_error *err);
void kiln_slicer_free(kiln_slicer *s);
/* The configuration: n atoms at xyz (Å; x, y taken modulo the grid extent; z from 0 to
 * thickness, the beam entrance at z = 0), el[i] indexes o->Z. Sorts atoms into
 * nslices = ceil(thickness/dz) slices. Copies what it needs. */
kiln_status kiln_slicer_set_atoms(kiln_slicer *s, size_t n, const double (*xyz)[3],
                                  const int32_t *el, double thickness, kiln_error *err);
size_t kiln_slicer_nslices(const kiln_slicer *s);
/* Projected potential of slice k (V·Å) into V (nx*ny float or double). One slicer is not
 * re-entrant; different slicers may build in different threads. */
kiln_status kiln_slicer_build(kiln_slicer *s, size_t k, void *V, kiln_error *err);

/* ------------------------------------------------------------------ waves */
typedef struct kiln_wave kiln_wave;
kiln_status kiln_wave_new(kiln_wave **out, const kiln_wave_grid *g, double energy_ev,
                          int precision, kiln_error *err);
void kiln_wave_free(kiln_wave *w);
kiln_status kiln_wave_copy(kiln_wave **out, const kiln_wave *w, kiln_error *err);
const kiln_wave_grid *kiln_wave_get_grid(const kiln_wave *w);
double kiln_wave_energy(const kiln_wave *w);
int kiln_wave_precision(const kiln_wave *w);
/* float complex or double complex [ny][nx] as {re, im} pairs. */
void *kiln_wave_data(kiln_wave *w);
/* sum |psi|^2 / (nx ny): 1 for a unit plane wave; probes are normalised to 1 too. */
double kiln_wave_norm(const kiln_wave *w);
/* psi = 1 */
void kiln_wave_plane(kiln_wave *w);

/* Aberrations in Krivanek notation (Å, angles in rad): chi(alpha, phi) =
 * 2pi/lambda sum_{n,m} C_nm alpha^(n+1)/(n+1) cos(m (phi - phi_nm)); C10 = -defocus. */
typedef struct kiln_aberrations {
  double C10, C12, phi12, C21, phi21, C23, phi23, C30, C32, phi32, C34, phi34, C50;
} kiln_aberrations;
/* Convergent probe centred at (x0, y0) (Å): aperture semiangle (rad; soft edge of one
 * pixel), aberrations (may be NULL), normalised to kiln_wave_norm == 1. */
kiln_status kiln_wave_probe(kiln_wave *w, double x0, double y0, double semiangle,
                            const kiln_aberrations *ab, kiln_error *err);

/* ------------------------------------------------------------------ propagator */
typedef struct kiln_multislice kiln_multislice;
/* FFT plans (made once, FFTW, nthreads FFTW threads; 0 = 1) and the Fresnel propagator
 * for slices of thickness dz, with the 2/3 band limit (k_max = 2/3 of the Nyquist
 * frequency of the coarser axis: frequencies beyond it are zeroed at each step). */
kiln_status kiln_multislice_new(kiln_multislice **out, const kiln_wave_grid *g,
                                double energy_ev, double dz, int precision, int nthreads,
                                kiln_error *err);
void kiln_multislice_free(kiln_multislice *m);
/* One slice: psi <- IFFT[ P(k) band(k) FFT[ psi exp(i sigma V) ] ]; V from a slicer
 * (same precision; NULL: vacuum). */
kiln_status kiln_multislice_step(kiln_multislice *m, kiln_wave *w, const void *V,
                                 kiln_error *err);
/* Every slice of s in order (building each V into the propagator's own buffer). */
kiln_status kiln_multislice_run(kiln_multislice *m, kiln_wave *w, kiln_slicer *s,
                                kiln_error *err);
/* Diffraction intensity |FFT psi|^2, normalised so that sum I = kiln_wave_norm(w), in
 * FFT order (ix, iy as k above), nx*ny doubles, ADDED to I (for averaging). */
kiln_status kiln_multislice_diffraction(kiln_multislice *m, const kiln_wave *w, double *I,
                                        kiln_error *err);
/* Sum of I over scattering angles inner <= theta < outer (rad), theta = lambda |k|. */
double kiln_wave_annular(const kiln_wave_grid *g, double energy_ev, const double *I,
                         double inner, double outer);
#endif
