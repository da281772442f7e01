/* scripts/bench/multislice_bench.c: kiln multislice timing for SrTiO3 [100] (compiled by
 * scripts/bench-multislice.sh against lib/libkiln.a). 101.53 x 101.53 Å (26 x 26 cells),
 * slices of a/2 = 1.9525 Å (one SrO or TiO2 plane, centred), 200 kV plane wave, float32,
 * one thread (KILN_FFTW_PLANNER in the environment chooses the FFTW planner effort).
 * usage: multislice_bench N NSLICES
 * prints one line: kiln_multislice N= slices= plan_s= prop_ms= (propagation only, the two
 * distinct slice potentials built beforehand) full_ms= (kiln_multislice_run: each slice's
 * potential built on the fly by kiln_slicer) build_ms= (kiln_slicer_build alone), norm= */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kiln/wave.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define DIE(...) do { fprintf(stderr, __VA_ARGS__); fprintf(stderr, ": %s\n", err.msg); return 1; } while (0)

int main(int argc, char **argv) {
  size_t N = argc > 1 ? (size_t)atol(argv[1]) : 1024;
  size_t nsl = argc > 2 ? (size_t)atol(argv[2]) : 154;
  const double a = 3.905, E = 200e3, dz = a / 2;
  const int nc = 26;
  kiln_error err = {0};
  kiln_wave_grid g;
  if (kiln_wave_grid_make(&g, nc * a, nc * a, N, N, 0, &err)) DIE("grid");
  /* atoms: slice l even = SrO plane (Sr at 0,0; O at .5,.5), odd = TiO2 (Ti at .5,.5;
   * O at .5,0 and 0,.5); z at the slice centre */
  size_t nat = (size_t)nc * nc * (nsl / 2 * 5 + (nsl % 2) * 2), k = 0;
  double(*xyz)[3] = malloc(nat * sizeof *xyz);
  int32_t *el = malloc(nat * sizeof *el);
  for (size_t l = 0; l < nsl; l++)
    for (int i = 0; i < nc; i++)
      for (int j = 0; j < nc; j++) {
        double z = (l + 0.5) * dz;
        static const double sro[2][2] = {{0, 0}, {0.5, 0.5}}, tio[3][2] = {{0.5, 0.5}, {0.5, 0}, {0, 0.5}};
        int m = l % 2 ? 3 : 2;
        for (int s = 0; s < m; s++) {
          const double *f = l % 2 ? tio[s] : sro[s];
          xyz[k][0] = (i + f[0]) * a;
          xyz[k][1] = (j + f[1]) * a;
          xyz[k][2] = z;
          el[k++] = l % 2 ? (s == 0 ? 1 : 2) : (s == 0 ? 0 : 2);
        }
      }
  static const int Z[3] = {38, 22, 8};
  kiln_slicer_opts so = {g, dz, 0, KILN_WAVE_F32, 3, Z};
  kiln_slicer *sl = NULL;
  if (kiln_slicer_new(&sl, &so, &err)) DIE("slicer");
  if (kiln_slicer_set_atoms(sl, k, (const double(*)[3])xyz, el, nsl * dz, &err)) DIE("atoms");
  size_t n = N * N;
  float *V[2] = {malloc(n * sizeof(float)), malloc(n * sizeof(float))};
  double tb = now();
  for (int s = 0; s < 2; s++)
    if (kiln_slicer_build(sl, (size_t)s, V[s], &err)) DIE("build");
  double build_ms = (now() - tb) / 2 * 1e3;
  kiln_wave *w = NULL;
  kiln_multislice *ms = NULL;
  double tp = now();
  if (kiln_multislice_new(&ms, &g, E, dz, KILN_WAVE_F32, 1, &err)) DIE("multislice");
  double plan_s = now() - tp;
  if (kiln_wave_new(&w, &g, E, KILN_WAVE_F32, &err)) DIE("wave");
  /* warm-up, then propagation alone */
  kiln_wave_plane(w);
  kiln_multislice_step(ms, w, V[0], &err);
  kiln_wave_plane(w);
  double t0 = now();
  for (size_t l = 0; l < nsl; l++)
    if (kiln_multislice_step(ms, w, V[l % 2], &err)) DIE("step");
  double prop_ms = (now() - t0) / nsl * 1e3;
  double norm_prop = kiln_wave_norm(w);
  /* potentials on the fly */
  kiln_wave_plane(w);
  t0 = now();
  if (kiln_multislice_run(ms, w, sl, &err)) DIE("run");
  double full_ms = (now() - t0) / nsl * 1e3;
  printf("kiln_multislice N=%zu slices=%zu atoms=%zu plan_s=%.3f prop_ms=%.3f full_ms=%.3f "
         "build_ms=%.3f norm_prop=%.6f norm_full=%.6f\n", N, nsl, k, plan_s, prop_ms, full_ms,
         build_ms, norm_prop, kiln_wave_norm(w));
  kiln_wave_free(w);
  kiln_multislice_free(ms);
  kiln_slicer_free(sl);
  free(V[0]); free(V[1]); free(xyz); free(el);
  return 0;
}
