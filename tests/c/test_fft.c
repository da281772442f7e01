/* tests/c/test_fft.c: kiln_fft (FFTW wrapper) and kiln_autocorr against analytic
 * transforms and direct sums. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "kiln/kiln.h"

static const double PI = 3.14159265358979323846;

static void fill_random(double *x, size_t n, uint64_t seed) {
  kiln_rng r;
  kiln_rng_seed(&r, seed, 0);
  for (size_t i = 0; i < n; i++) x[i] = 2.0 * kiln_rng_uniform(&r) - 1.0;
}

/* c2c forward then backward gives n * x; r2c then c2r gives n * x; batched rows. */
TEST(test_round_trip) {
  kiln_error err;
  const size_t ns[] = {1, 7, 64, 90, 97};
  for (int t = 0; t < 5; t++) {
    size_t n = ns[t], hm = 3;
    kiln_fft *fw = NULL, *bw = NULL, *r2c = NULL, *c2r = NULL;
    CHECK_OK(kiln_fft_new_c2c(&fw, n, hm, -1, &err));
    CHECK_OK(kiln_fft_new_c2c(&bw, n, hm, +1, &err));
    CHECK_OK(kiln_fft_new_r2c(&r2c, n, hm, &err));
    CHECK_OK(kiln_fft_new_c2r(&c2r, n, hm, &err));
    if (!fw || !bw || !r2c || !c2r) goto done;
    CHECK(kiln_fft_n(r2c) == n && kiln_fft_howmany(r2c) == hm);
    double *x = malloc(2 * n * hm * sizeof *x);
    fill_random(x, 2 * n * hm, 11 + (uint64_t)t);
    memcpy(kiln_fft_in(fw), x, 2 * n * hm * sizeof *x);
    kiln_fft_execute(fw);
    memcpy(kiln_fft_in(bw), kiln_fft_out(fw), 2 * n * hm * sizeof *x);
    kiln_fft_execute(bw);
    const double *y = kiln_fft_out(bw);
    double maxd = 0;
    for (size_t i = 0; i < 2 * n * hm; i++) maxd = fmax(maxd, fabs(y[i] - (double)n * x[i]));
    CHECK(maxd <= 1e-13 * (double)n);
    /* real round trip */
    size_t nh = n / 2 + 1;
    memcpy(kiln_fft_in(r2c), x, n * hm * sizeof *x);
    kiln_fft_execute(r2c);
    memcpy(kiln_fft_in(c2r), kiln_fft_out(r2c), 2 * nh * hm * sizeof *x);
    kiln_fft_execute(c2r);
    const double *z = kiln_fft_out(c2r);
    double maxr = 0;
    for (size_t i = 0; i < n * hm; i++) maxr = fmax(maxr, fabs(z[i] - (double)n * x[i]));
    CHECK(maxr <= 1e-13 * (double)n);
    if (t == 4) printf("  round trip n=97 x3: c2c max err %.2e, r2c/c2r %.2e (scale n)\n", maxd, maxr);
    free(x);
  done:
    kiln_fft_free(fw);
    kiln_fft_free(bw);
    kiln_fft_free(r2c);
    kiln_fft_free(c2r);
  }
}

/* sum |x|^2 = (1/n) sum over the full spectrum, rebuilt from the half spectrum. */
TEST(test_parseval_r2c) {
  kiln_error err;
  const size_t ns[] = {128, 99};
  for (int t = 0; t < 2; t++) {
    size_t n = ns[t], hm = 2, nh = n / 2 + 1;
    kiln_fft *f = NULL;
    CHECK_OK(kiln_fft_new_r2c(&f, n, hm, &err));
    if (!f) continue;
    double *x = kiln_fft_in(f);
    fill_random(x, n * hm, 5);
    double e[2] = {0, 0};
    for (size_t r = 0; r < hm; r++)
      for (size_t i = 0; i < n; i++) e[r] += x[r * n + i] * x[r * n + i];
    kiln_fft_execute(f);
    const double(*X)[2] = kiln_fft_out(f);
    for (size_t r = 0; r < hm; r++) {
      double s = 0;
      for (size_t k = 0; k < nh; k++) {
        double p = X[r * nh + k][0] * X[r * nh + k][0] + X[r * nh + k][1] * X[r * nh + k][1];
        int twice = k > 0 && !(n % 2 == 0 && k == n / 2);
        s += twice ? 2 * p : p;
      }
      CHECK_CLOSE(s / (double)n, e[r], 1e-13, 0);
    }
    kiln_fft_free(f);
  }
}

/* delta at j0 -> X[k] = exp(-2 pi i j0 k / n): flat magnitude 1. */
TEST(test_delta) {
  kiln_error err;
  size_t n = 60, nh = n / 2 + 1;
  kiln_fft *f = NULL;
  CHECK_OK(kiln_fft_new_r2c(&f, n, 2, &err));
  if (!f) return;
  double *x = kiln_fft_in(f);
  memset(x, 0, 2 * n * sizeof *x);
  x[0] = 1.0;         /* row 0: delta at 0 */
  x[n + 7] = 1.0;     /* row 1: delta at 7 */
  kiln_fft_execute(f);
  const double(*X)[2] = kiln_fft_out(f);
  for (size_t k = 0; k < nh; k++) {
    CHECK_CLOSE(X[k][0], 1.0, 0, 1e-15);
    CHECK_CLOSE(X[k][1], 0.0, 0, 1e-15);
    double ph = -2 * PI * 7.0 * (double)k / (double)n;
    CHECK_CLOSE(X[nh + k][0], cos(ph), 0, 1e-14);
    CHECK_CLOSE(X[nh + k][1], sin(ph), 0, 1e-14);
  }
  kiln_fft_free(f);
}

/* periodic Gaussian of width s -> Gaussian s sqrt(2 pi) exp(-2 pi^2 s^2 k^2 / n^2)
 * (aliasing terms ~ exp(-n^2/(8 s^2)) and exp(-n^2/(8 s_k^2)) are < 1e-100 here). */
TEST(test_gaussian) {
  kiln_error err;
  size_t n = 256, nh = n / 2 + 1;
  double s = 8.0;
  kiln_fft *f = NULL;
  CHECK_OK(kiln_fft_new_r2c(&f, n, 1, &err));
  if (!f) return;
  double *x = kiln_fft_in(f);
  for (size_t j = 0; j < n; j++) {
    double d = (double)(j < n - j ? j : n - j);
    x[j] = exp(-d * d / (2 * s * s));
  }
  kiln_fft_execute(f);
  const double(*X)[2] = kiln_fft_out(f);
  double peak = s * sqrt(2 * PI), maxd = 0;
  for (size_t k = 0; k < nh; k++) {
    double kk = (double)k / (double)n;
    double ref = peak * exp(-2 * PI * PI * s * s * kk * kk);
    maxd = fmax(maxd, fmax(fabs(X[k][0] - ref), fabs(X[k][1])));
  }
  CHECK(maxd <= 1e-13 * peak);
  CHECK_CLOSE(X[0][0], peak, 1e-14, 0);
  CHECK_CLOSE(X[4][0], peak * exp(-2 * PI * PI * 64.0 * 16.0 / 65536.0), 1e-13, 0);
  kiln_fft_free(f);
}

/* c2c of real input is Hermitian, X[n-k] = conj X[k], and r2c equals its first half. */
TEST(test_hermitian) {
  kiln_error err;
  size_t n = 45, nh = n / 2 + 1;
  kiln_fft *c = NULL, *r = NULL;
  CHECK_OK(kiln_fft_new_c2c(&c, n, 1, -1, &err));
  CHECK_OK(kiln_fft_new_r2c(&r, n, 1, &err));
  if (c && r) {
    double(*cin)[2] = (double(*)[2])kiln_fft_in(c);
    double *rin = kiln_fft_in(r);
    fill_random(rin, n, 9);
    for (size_t j = 0; j < n; j++) { cin[j][0] = rin[j]; cin[j][1] = 0.0; }
    kiln_fft_execute(c);
    kiln_fft_execute(r);
    const double(*C)[2] = kiln_fft_out(c);
    const double(*R)[2] = kiln_fft_out(r);
    CHECK_CLOSE(C[0][1], 0.0, 0, 1e-13);
    for (size_t k = 1; k < n; k++) {
      CHECK_CLOSE(C[n - k][0], C[k][0], 0, 1e-13);
      CHECK_CLOSE(C[n - k][1], -C[k][1], 0, 1e-13);
    }
    for (size_t k = 0; k < nh; k++) {
      CHECK_CLOSE(R[k][0], C[k][0], 0, 1e-13);
      CHECK_CLOSE(R[k][1], C[k][1], 0, 1e-13);
    }
  }
  kiln_fft_free(c);
  kiln_fft_free(r);
}

/* plans made concurrently from OpenMP threads (the planner is guarded). */
TEST(test_threads) {
  int bad = 0;
#pragma omp parallel for schedule(dynamic) reduction(+ : bad)
  for (int t = 0; t < 16; t++) {
    kiln_error e;
    kiln_fft *f = NULL;
    size_t n = 16 + (size_t)t * 5;
    if (kiln_fft_new_r2c(&f, n, 2, &e) != KILN_OK) { bad++; continue; }
    double *x = kiln_fft_in(f);
    for (size_t i = 0; i < 2 * n; i++) x[i] = 1.0;
    kiln_fft_execute(f);
    const double(*X)[2] = kiln_fft_out(f);
    if (fabs(X[0][0] - (double)n) > 1e-12 || fabs(X[1][0]) > 1e-12) bad++;
    kiln_fft_free(f);
  }
  CHECK(bad == 0);
}

static void autocorr_direct(const double *x, size_t n, size_t nlag, double *c) {
  for (size_t k = 0; k < nlag; k++) {
    double s = 0;
    for (size_t i = 0; i + k < n; i++) s += x[i] * x[i + k];
    c[k] = s / (double)(n - k);
  }
}

TEST(test_autocorr_random) {
  kiln_error err;
  size_t n = 1000, nlag = 300;
  double *x = malloc(n * sizeof *x), *c = malloc(n * sizeof *c), *d = malloc(n * sizeof *d);
  fill_random(x, n, 2026);
  CHECK_OK(kiln_autocorr(x, n, nlag, c, &err));
  autocorr_direct(x, n, nlag, d);
  double maxd = 0;
  for (size_t k = 0; k < nlag; k++) maxd = fmax(maxd, fabs(c[k] - d[k]));
  printf("  autocorr n=1000 nlag=300: max |fft - direct| = %.2e (c[0] = %.6f)\n", maxd, d[0]);
  CHECK(maxd <= 1e-12);
  /* nlag = n (last lag is x[0] x[n-1]), odd n, and n = 1 */
  size_t n2 = 37;
  CHECK_OK(kiln_autocorr(x, n2, n2, c, &err));
  autocorr_direct(x, n2, n2, d);
  for (size_t k = 0; k < n2; k++) CHECK_CLOSE(c[k], d[k], 0, 1e-13);
  CHECK_CLOSE(c[n2 - 1], x[0] * x[n2 - 1], 0, 1e-14);
  CHECK_OK(kiln_autocorr(x, 1, 1, c, &err));
  CHECK_CLOSE(c[0], x[0] * x[0], 1e-14, 0);
  free(x);
  free(c);
  free(d);
}

/* x[i] = cos(w i): c[k] = cos(w k)/2 + 1/(2M) sum_{i<M} cos(w k + 2 w i), M = n-k, and
 * the geometric sum is sin(M w)/sin(w) cos(w k + (M-1) w). */
TEST(test_autocorr_cosine) {
  kiln_error err;
  size_t n = 1000, nlag = 300;
  double w = 2 * PI * 0.0123;
  double *x = malloc(n * sizeof *x), *c = malloc(nlag * sizeof *c);
  for (size_t i = 0; i < n; i++) x[i] = cos(w * (double)i);
  CHECK_OK(kiln_autocorr(x, n, nlag, c, &err));
  double maxd = 0;
  for (size_t k = 0; k < nlag; k++) {
    double M = (double)(n - k), kk = (double)k;
    double ref = 0.5 * cos(w * kk) + sin(M * w) / sin(w) * cos(w * kk + (M - 1) * w) / (2 * M);
    maxd = fmax(maxd, fabs(c[k] - ref));
  }
  printf("  autocorr cosine: max |fft - analytic| = %.2e\n", maxd);
  CHECK(maxd <= 1e-12);
  CHECK_CLOSE(c[0], 0.5 + sin(1000 * w) / sin(w) * cos(999 * w) / 2000, 1e-13, 0);
  free(x);
  free(c);
}

TEST(test_errors) {
  kiln_error err;
  kiln_fft *f = (kiln_fft *)&err;
  double x[4] = {1, 2, 3, 4}, c[8];
  CHECK_ERR(kiln_fft_new_r2c(&f, 0, 1, &err), KILN_EINVAL, "n = 0");
  CHECK(f == NULL);
  CHECK_ERR(kiln_fft_new_c2r(&f, 8, 0, &err), KILN_EINVAL, "howmany = 0");
  CHECK_ERR(kiln_fft_new_c2c(&f, 8, 1, 2, &err), KILN_EINVAL, "got 2");
  CHECK_ERR(kiln_fft_new_c2c(&f, (size_t)1 << 40, 1, -1, &err), KILN_ERANGE, "1099511627776");
  CHECK_ERR(kiln_autocorr(x, 0, 0, c, &err), KILN_EINVAL, "n = 0");
  CHECK_ERR(kiln_autocorr(x, 4, 5, c, &err), KILN_EINVAL, "nlag = 5 exceeds the series length n = 4");
  CHECK_ERR(kiln_autocorr(NULL, 4, 2, c, &err), KILN_EINVAL, "NULL");
  CHECK_OK(kiln_autocorr(x, 4, 0, c, &err));
  kiln_fft_free(NULL);
  CHECK(kiln_fft_good_size(1) == 1 && kiln_fft_good_size(11) == 12 &&
        kiln_fft_good_size(1300) == 1323 && kiln_fft_good_size(1024) == 1024);
}

int main(void) {
  RUN(test_round_trip);
  RUN(test_parseval_r2c);
  RUN(test_delta);
  RUN(test_gaussian);
  RUN(test_hermitian);
  RUN(test_threads);
  RUN(test_autocorr_random);
  RUN(test_autocorr_cosine);
  RUN(test_errors);
  return check_summary();
}
