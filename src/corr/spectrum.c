/* src/corr/spectrum.c: window functions and the even (cosine) transform that
 * turns a time correlation into a spectrum (see kiln/corr.h).
 *
 * The transform is a DCT-I, done as the real FFT of the even extension
 * y = (c0, c1, ..., c_{n-1}, c_{n-2}, ..., c1) of length 2(n-1):
 *   Y_k = c0 + (-1)^k c_{n-1} + 2 sum_{j=1}^{n-2} c_j cos(pi j k / (n-1)),
 * and S_k = dt Y_k. Its inverse gives c0 = (1/(n-1)) sum'_k Y_k, which is the
 * discrete sum rule (dw/pi) sum'_k S_k = c0 with dw = pi/((n-1) dt). */
#include <stdlib.h>
#include <string.h>
#include "corr_internal.h"
#include "kiln/fft.h"

kiln_status kiln_corr_window(const char *name, size_t nlag, double *w, kiln_error *err) {
  if (!name) name = "none";
  int kind = strcmp(name, "none") == 0    ? 0
             : strcmp(name, "hann") == 0  ? 1
             : strcmp(name, "gauss") == 0 ? 2
             : strcmp(name, "exp") == 0   ? 3
                                          : -1;
  if (kind < 0)
    return KILN_FAIL(err, KILN_EINVAL,
                     "window function '%s' is unknown (choose none, hann, gauss or exp)", name);
  const double sigma = (double)nlag / 3.0;
  for (size_t k = 0; k < nlag; k++) {
    double x = (double)k;
    switch (kind) {
    case 0: w[k] = 1.0; break;
    case 1: {
      double c = nlag > 1 ? cos(M_PI * x / (2.0 * (double)(nlag - 1))) : 1.0;
      w[k] = c * c;
      break;
    }
    case 2: w[k] = exp(-0.5 * (x / sigma) * (x / sigma)); break;
    default: w[k] = exp(-3.0 * x / (double)nlag); break;
    }
  }
  return KILN_OK;
}

void kiln_corr_omega(size_t nlag, double dt, double *omega) {
  for (size_t k = 0; k < nlag; k++)
    omega[k] = nlag > 1 ? (double)k * M_PI / ((double)(nlag - 1) * dt) : 0.0;
}

kiln_status kiln_corr_cos_transform(const double *c, size_t nlag, size_t howmany, double dt,
                                    double *s, kiln_error *err) {
  if (nlag < 2)
    return KILN_FAIL(err, KILN_EINVAL, "cosine transform: need at least 2 lags (got %zu)", nlag);
  if (!(dt > 0) || !isfinite(dt))
    return KILN_FAIL(err, KILN_EINVAL, "cosine transform: dt must be a positive time (got %g fs)",
                     dt);
  if (howmany == 0) return KILN_OK;
  const size_t m = 2 * (nlag - 1);
  kiln_fft *f;
  kiln_status st = kiln_fft_new_r2c(&f, m, 1, err);
  if (st) return st;
  double *in = kiln_fft_in(f);
  const double(*out)[2] = kiln_fft_out(f);
  for (size_t r = 0; r < howmany; r++) {
    const double *cr = c + r * nlag;
    double *sr = s + r * nlag;
    for (size_t j = 0; j < nlag; j++) in[j] = cr[j];
    for (size_t j = nlag; j < m; j++) in[j] = cr[m - j];
    kiln_fft_execute(f);
    for (size_t k = 0; k < nlag; k++) sr[k] = dt * out[k][0];
  }
  kiln_fft_free(f);
  return KILN_OK;
}
