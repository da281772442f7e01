/* scripts/bench/fft_bound.c: the bare FFTW bound of one multislice slice, compiled and run
 * by scripts/bench-multislice.sh: psi *= T, forward FFT in place, psi *= P, inverse FFT in
 * place (single precision, complex-to-complex, FFTW_MEASURE plans unless told otherwise).
 * usage: fft_bound N [reps] [estimate|measure|patient]
 * prints: fft_bound N=<N> plan_s=<s> fwd_ms= bwd_ms= mult2_ms= slice_ms= */
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void cmul(fftwf_complex *restrict a, const fftwf_complex *restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float re = a[i][0] * b[i][0] - a[i][1] * b[i][1];
    float im = a[i][0] * b[i][1] + a[i][1] * b[i][0];
    a[i][0] = re;
    a[i][1] = im;
  }
}

int main(int argc, char **argv) {
  int N = argc > 1 ? atoi(argv[1]) : 1024, reps = argc > 2 ? atoi(argv[2]) : 20;
  const char *fl = argc > 3 ? argv[3] : "measure";
  unsigned flags = !strcmp(fl, "estimate") ? FFTW_ESTIMATE
                   : !strcmp(fl, "patient") ? FFTW_PATIENT : FFTW_MEASURE;
  size_t n = (size_t)N * (size_t)N;
  fftwf_complex *psi = fftwf_malloc(n * sizeof *psi), *T = fftwf_malloc(n * sizeof *T),
                *P = fftwf_malloc(n * sizeof *P);
  double t0 = now();
  fftwf_plan fw = fftwf_plan_dft_2d(N, N, psi, psi, FFTW_FORWARD, flags);
  fftwf_plan bw = fftwf_plan_dft_2d(N, N, psi, psi, FFTW_BACKWARD, flags);
  double tplan = now() - t0;
  for (size_t i = 0; i < n; i++) {
    psi[i][0] = 1.0f; psi[i][1] = 0.0f;
    T[i][0] = 0.999f; T[i][1] = 0.01f * (float)(i % 7);
    P[i][0] = 1.0f / (float)n; P[i][1] = 0.0f;
  }
  double tf = 0, tb = 0, tm = 0;
  for (int r = -1; r < reps; r++) {   /* r = -1: warm-up */
    double a = now();
    cmul(psi, T, n);
    double b = now();
    fftwf_execute(fw);
    double c = now();
    cmul(psi, P, n);
    double d = now();
    fftwf_execute(bw);
    double e = now();
    if (r >= 0) { tm += (b - a) + (d - c); tf += c - b; tb += e - d; }
  }
  double s = 1e3 / reps;
  printf("fft_bound N=%d plan_s=%.3f fwd_ms=%.3f bwd_ms=%.3f mult2_ms=%.3f slice_ms=%.3f check=%g\n",
         N, tplan, tf * s, tb * s, tm * s, (tf + tb + tm) * s, (double)psi[0][0]);
  fftwf_destroy_plan(fw);
  fftwf_destroy_plan(bw);
  fftwf_free(psi); fftwf_free(T); fftwf_free(P);
  return 0;
}
