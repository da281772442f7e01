/* src/ext/fft_fftw.c: kiln_fft on FFTW3 (the only file that touches FFTW). */
#include <fftw3.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/fft.h"

enum { KIND_R2C, KIND_C2R, KIND_C2C };
static const char *const kind_name[] = {"r2c", "c2r", "c2c"};

struct kiln_fft {
  fftw_plan plan;
  void *in, *out;
  size_t n, howmany;
  int kind;
};

/* The FFTW planner (and plan destruction) is not thread-safe; execute is. */
static fftw_plan make_plan(int kind, int n, int howmany, void *in, void *out, int sign) {
  fftw_plan p = NULL;
  int nh = n / 2 + 1;
#pragma omp critical(kiln_fftw_planner)
  {
    switch (kind) {
    case KIND_R2C:
      p = fftw_plan_many_dft_r2c(1, &n, howmany, in, NULL, 1, n, out, NULL, 1, nh,
                                 FFTW_ESTIMATE);
      break;
    case KIND_C2R:
      p = fftw_plan_many_dft_c2r(1, &n, howmany, in, NULL, 1, nh, out, NULL, 1, n,
                                 FFTW_ESTIMATE);
      break;
    default:
      p = fftw_plan_many_dft(1, &n, howmany, in, NULL, 1, n, out, NULL, 1, n, sign,
                             FFTW_ESTIMATE);
      break;
    }
  }
  return p;
}

static kiln_status create(kiln_fft **out, int kind, size_t n, size_t howmany, int sign,
                          kiln_error *err) {
  if (!out) return KILN_FAIL(err, KILN_EINVAL, "fft %s: output pointer is NULL", kind_name[kind]);
  *out = NULL;
  if (n == 0 || howmany == 0)
    return KILN_FAIL(err, KILN_EINVAL, "fft %s: length n = %zu and howmany = %zu must be >= 1",
                     kind_name[kind], n, howmany);
  if (kind == KIND_C2C && sign != -1 && sign != 1)
    return KILN_FAIL(err, KILN_EINVAL, "fft c2c: sign must be -1 (forward) or +1 (backward), got %d",
                     sign);
  size_t nh = n / 2 + 1;
  size_t nin = kind == KIND_R2C ? n : kind == KIND_C2R ? 2 * nh : 2 * n;   /* doubles per row */
  size_t nout = kind == KIND_R2C ? 2 * nh : kind == KIND_C2R ? n : 2 * n;
  if (n > INT_MAX / 2 || howmany > INT_MAX || howmany > SIZE_MAX / sizeof(double) / (2 * n + 2))
    return KILN_FAIL(err, KILN_ERANGE, "fft %s: n = %zu x howmany = %zu is too large for FFTW",
                     kind_name[kind], n, howmany);
  kiln_fft *f = calloc(1, sizeof *f);
  if (!f) return KILN_FAIL(err, KILN_ENOMEM, "fft %s: out of memory", kind_name[kind]);
  f->n = n;
  f->howmany = howmany;
  f->kind = kind;
  f->in = fftw_malloc(nin * howmany * sizeof(double));
  f->out = fftw_malloc(nout * howmany * sizeof(double));
  if (!f->in || !f->out) {
    kiln_fft_free(f);
    return KILN_FAIL(err, KILN_ENOMEM, "fft %s: out of memory for n = %zu x howmany = %zu buffers",
                     kind_name[kind], n, howmany);
  }
  memset(f->in, 0, nin * howmany * sizeof(double));
  memset(f->out, 0, nout * howmany * sizeof(double));
  f->plan = make_plan(kind, (int)n, (int)howmany, f->in, f->out, sign);
  if (!f->plan) {
    kiln_fft_free(f);
    return KILN_FAIL(err, KILN_EEXTERNAL, "fft %s: FFTW could not plan n = %zu, howmany = %zu",
                     kind_name[kind], n, howmany);
  }
  *out = f;
  return KILN_OK;
}

kiln_status kiln_fft_new_r2c(kiln_fft **out, size_t n, size_t howmany, kiln_error *err) {
  return create(out, KIND_R2C, n, howmany, -1, err);
}

kiln_status kiln_fft_new_c2r(kiln_fft **out, size_t n, size_t howmany, kiln_error *err) {
  return create(out, KIND_C2R, n, howmany, 1, err);
}

kiln_status kiln_fft_new_c2c(kiln_fft **out, size_t n, size_t howmany, int sign,
                             kiln_error *err) {
  return create(out, KIND_C2C, n, howmany, sign, err);
}

double *kiln_fft_in(kiln_fft *f) { return f->in; }
void *kiln_fft_out(kiln_fft *f) { return f->out; }
size_t kiln_fft_n(const kiln_fft *f) { return f->n; }
size_t kiln_fft_howmany(const kiln_fft *f) { return f->howmany; }

void kiln_fft_execute(kiln_fft *f) { fftw_execute(f->plan); }

void kiln_fft_free(kiln_fft *f) {
  if (!f) return;
  if (f->plan) {
#pragma omp critical(kiln_fftw_planner)
    fftw_destroy_plan(f->plan);
  }
  fftw_free(f->in);
  fftw_free(f->out);
  free(f);
}

size_t kiln_fft_good_size(size_t n) {
  if (n <= 1) return 1;
  for (size_t m = n;; m++) {
    size_t r = m;
    static const size_t primes[] = {2, 3, 5, 7};
    for (int i = 0; i < 4; i++)
      while (r % primes[i] == 0) r /= primes[i];
    if (r == 1) return m;
  }
}

kiln_status kiln_autocorr(const double *x, size_t n, size_t nlag, double *c, kiln_error *err) {
  if (!x || !c) return KILN_FAIL(err, KILN_EINVAL, "autocorr: x or c is NULL");
  if (n == 0) return KILN_FAIL(err, KILN_EINVAL, "autocorr: series length n = 0 (need n >= 1)");
  if (nlag > n)
    return KILN_FAIL(err, KILN_EINVAL, "autocorr: nlag = %zu exceeds the series length n = %zu",
                     nlag, n);
  if (nlag == 0) return KILN_OK;
  size_t N = kiln_fft_good_size(n + nlag), nh = N / 2 + 1;
  kiln_fft *fw = NULL, *bw = NULL;
  kiln_status st = kiln_fft_new_r2c(&fw, N, 1, err);
  if (st == KILN_OK) st = kiln_fft_new_c2r(&bw, N, 1, err);
  if (st != KILN_OK) {
    kiln_fft_free(fw);
    return st;
  }
  double *in = kiln_fft_in(fw);
  memcpy(in, x, n * sizeof *x);
  memset(in + n, 0, (N - n) * sizeof *in);
  kiln_fft_execute(fw);
  const double(*X)[2] = kiln_fft_out(fw);
  double(*P)[2] = (double(*)[2])kiln_fft_in(bw);
  for (size_t k = 0; k < nh; k++) {
    P[k][0] = X[k][0] * X[k][0] + X[k][1] * X[k][1];
    P[k][1] = 0.0;
  }
  kiln_fft_execute(bw);
  const double *r = kiln_fft_out(bw);   /* r[k] = N * sum_i x[i] x[i+k] */
  for (size_t k = 0; k < nlag; k++) c[k] = r[k] / ((double)N * (double)(n - k));
  kiln_fft_free(fw);
  kiln_fft_free(bw);
  return KILN_OK;
}
