/* tests/c/test_tcorr.c: the streaming block-FFT time correlator against a
 * brute-force double loop, and the spectrum transform (sum rule, Lorentzian). */
#include <malloc.h>
#include <stdlib.h>
#include "check.h"
#include "corr/corr_internal.h"
#include "kiln/rng.h"

/* brute force: c[p][tau] = mean over origins t (t % step == 0, t + tau < T) of conj(x_a(t)) x_b(t+tau) */
static void brute(const double (*x)[2], size_t nser, long T, const size_t (*pairs)[2],
                  size_t npairs, size_t W, size_t step, double (*c)[2], double *cnt) {
  for (size_t p = 0; p < npairs; p++)
    for (size_t tau = 0; tau < W; tau++) {
      double sr = 0, si = 0, n = 0;
      for (long t = 0; t + (long)tau < T; t += (long)step) {
        const double *a = x[(size_t)t * nser + pairs[p][0]];
        const double *b = x[(size_t)(t + (long)tau) * nser + pairs[p][1]];
        sr += a[0] * b[0] + a[1] * b[1];
        si += a[0] * b[1] - a[1] * b[0];
        n += 1;
      }
      c[p * W + tau][0] = n > 0 ? sr / n : 0;
      c[p * W + tau][1] = n > 0 ? si / n : 0;
      if (p == 0) cnt[tau] = n;
    }
}

/* max |a-b| / max|b| */
static double relerr(const double (*a)[2], const double (*b)[2], size_t n) {
  double d = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    d = fmax(d, fmax(fabs(a[i][0] - b[i][0]), fabs(a[i][1] - b[i][1])));
    m = fmax(m, fmax(fabs(b[i][0]), fabs(b[i][1])));
  }
  return m > 0 ? d / m : d;
}

static double run_case(size_t nser, size_t W, size_t step, long T, int read_every,
                       unsigned seed) {
  kiln_error err;
  size_t pairs[8][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 2}, {2, 0}, {1, 2}, {0, 2}};
  size_t npairs = nser >= 3 ? 8 : 4;
  kiln_rng r;
  kiln_rng_seed(&r, seed, 0);
  double(*x)[2] = malloc((size_t)T * nser * sizeof *x);
  for (long i = 0; i < T * (long)nser; i++) {
    x[i][0] = kiln_rng_normal(&r) + 0.5;
    x[i][1] = kiln_rng_normal(&r);
  }
  kiln_tcorr *tc;
  CHECK_OK(kiln_tcorr_new(&tc, nser, (const size_t(*)[2])pairs, npairs, W, step, &err));
  double(*c)[2] = malloc(npairs * W * sizeof *c), (*cb)[2] = malloc(npairs * W * sizeof *cb);
  double *n = malloc(W * sizeof *n), *nb = malloc(W * sizeof *nb);
  double worst = 0;
  for (long t = 0; t < T; t++) {
    double(*slot)[2] = kiln_tcorr_slot(tc);
    for (size_t s = 0; s < nser; s++) {
      slot[s][0] = x[(size_t)t * nser + s][0];
      slot[s][1] = x[(size_t)t * nser + s][1];
    }
    CHECK_OK(kiln_tcorr_push(tc, &err));
    if ((read_every && (t + 1) % read_every == 0) || t == T - 1) {
      CHECK_OK(kiln_tcorr_get(tc, c, n, &err));
      brute((const double(*)[2])x, nser, t + 1, (const size_t(*)[2])pairs, npairs, W, step, cb,
            nb);
      worst = fmax(worst, relerr((const double(*)[2])c, (const double(*)[2])cb, npairs * W));
      for (size_t k = 0; k < W; k++) CHECK(n[k] == nb[k]);
    }
  }
  CHECK(kiln_tcorr_nframes(tc) == T);
  CHECK(kiln_tcorr_window(tc) == W);
  kiln_tcorr_free(tc);
  free(x); free(c); free(cb); free(n); free(nb);
  return worst;
}

TEST(test_tcorr_brute_step1) {
  double e = 0;
  e = fmax(e, run_case(2, 16, 1, 5, 0, 1));      /* shorter than the window */
  e = fmax(e, run_case(2, 16, 1, 16, 0, 2));     /* exactly one block */
  e = fmax(e, run_case(3, 16, 1, 83, 0, 3));     /* not a multiple of the window */
  e = fmax(e, run_case(3, 25, 1, 250, 0, 4));    /* a multiple; good_size(50) = 50 */
  e = fmax(e, run_case(2, 17, 1, 200, 0, 5));    /* odd window, L = good_size(34) = 35 */
  printf("  tcorr step 1: max rel err vs brute force %.2e\n", e);
  CHECK(e < 1e-12);
}

TEST(test_tcorr_brute_step3) {
  double e = 0;
  e = fmax(e, run_case(3, 16, 3, 7, 0, 6));
  e = fmax(e, run_case(3, 16, 3, 97, 0, 7));
  e = fmax(e, run_case(2, 11, 3, 130, 0, 8));
  e = fmax(e, run_case(2, 10, 4, 101, 0, 9));    /* step does not divide... but window */
  printf("  tcorr step 3/4: max rel err vs brute force %.2e\n", e);
  CHECK(e < 1e-12);
}

/* reading at every frame must not change what later frames give */
TEST(test_tcorr_read_midrun) {
  double e = fmax(run_case(3, 12, 1, 61, 1, 10), run_case(3, 12, 3, 61, 1, 11));
  e = fmax(e, run_case(2, 9, 2, 50, 7, 12));
  printf("  tcorr read every frame: max rel err %.2e\n", e);
  CHECK(e < 1e-12);
}

/* a long run (many blocks) stays exact; memory is fixed at construction (push
 * never allocates), so it does not grow with the number of frames */
TEST(test_tcorr_long) {
  double e = run_case(2, 8, 1, 2003, 0, 13);
  printf("  tcorr 2003 frames, window 8: max rel err %.2e\n", e);
  CHECK(e < 1e-12);
  kiln_error err;
  kiln_tcorr *tc;
  size_t pairs[2][2] = {{0, 0}, {0, 1}};
  CHECK_OK(kiln_tcorr_new(&tc, 2, (const size_t(*)[2])pairs, 2, 50, 3, &err));
  size_t before = mallinfo2().uordblks;   /* heap in use (0 under ASan: then trivially equal) */
  for (long t = 0; t < 5000; t++) {
    double(*slot)[2] = kiln_tcorr_slot(tc);
    slot[0][0] = slot[1][1] = (double)(t % 7);
    slot[0][1] = slot[1][0] = 1.0;
    CHECK_OK(kiln_tcorr_push(tc, &err));
  }
  size_t after = mallinfo2().uordblks;
  printf("  heap in use before/after 5000 frames: %zu / %zu bytes\n", before, after);
  CHECK(after == before);
  kiln_tcorr_free(tc);
}

TEST(test_tcorr_errors) {
  kiln_error err;
  kiln_tcorr *t;
  size_t bad[1][2] = {{0, 3}};
  CHECK_ERR(kiln_tcorr_new(&t, 2, (const size_t(*)[2])bad, 1, 10, 1, &err), KILN_EINVAL,
            "outside");
  CHECK_ERR(kiln_tcorr_new(&t, 2, NULL, 0, 0, 1, &err), KILN_EINVAL, "window");
}

/* ---------------------------------------------------------------- spectrum */

TEST(test_window) {
  kiln_error err;
  const char *names[] = {"none", "hann", "gauss", "exp"};
  double w[50];
  for (int i = 0; i < 4; i++) {
    CHECK_OK(kiln_corr_window(names[i], 50, w, &err));
    CHECK(w[0] == 1.0);
    for (int k = 1; k < 50; k++) CHECK(w[k] <= w[k - 1] && w[k] >= 0);
  }
  CHECK_OK(kiln_corr_window("hann", 50, w, &err));
  CHECK_CLOSE(w[49], 0.0, 0, 1e-15);
  CHECK_CLOSE(w[1], pow(cos(M_PI / 98), 2), 1e-15, 0);
  CHECK_OK(kiln_corr_window("gauss", 30, w, &err));
  CHECK_CLOSE(w[10], exp(-0.5), 1e-15, 0);
  CHECK_OK(kiln_corr_window("exp", 30, w, &err));
  CHECK_CLOSE(w[10], exp(-1.0), 1e-15, 0);
  CHECK_ERR(kiln_corr_window("hamming", 5, w, &err), KILN_EINVAL, "hamming");
}

TEST(test_cos_transform_sum_rule) {
  kiln_error err;
  kiln_rng r;
  kiln_rng_seed(&r, 42, 0);
  size_t sizes[] = {2, 3, 17, 64, 501};
  for (int i = 0; i < 5; i++) {
    size_t n = sizes[i];
    double *c = malloc(3 * n * sizeof *c), *s = malloc(3 * n * sizeof *s), *om = malloc(n * sizeof *om);
    for (size_t j = 0; j < 3 * n; j++) c[j] = kiln_rng_normal(&r);
    double dt = 2.5;
    CHECK_OK(kiln_corr_cos_transform(c, n, 3, dt, s, &err));
    kiln_corr_omega(n, dt, om);
    double dw = om[1] - om[0];
    CHECK_CLOSE(dw, M_PI / ((double)(n - 1) * dt), 1e-15, 0);
    for (int row = 0; row < 3; row++) {
      const double *sr = s + row * n, *cr = c + row * n;
      double sum = 0.5 * (sr[0] + sr[n - 1]);
      for (size_t k = 1; k + 1 < n; k++) sum += sr[k];
      CHECK_CLOSE(dw / M_PI * sum, cr[0], 1e-12, 1e-13);
      /* direct evaluation of the definition at a few k */
      for (size_t k = 0; k < n; k += (n > 10 ? n / 5 : 1)) {
        double d = cr[0] + cr[n - 1] * cos(om[k] * (double)(n - 1) * dt);
        for (size_t j = 1; j + 1 < n; j++) d += 2 * cr[j] * cos(om[k] * (double)j * dt);
        CHECK_CLOSE(sr[k], dt * d, 1e-11, 1e-11);
      }
    }
    /* in place */
    CHECK_OK(kiln_corr_cos_transform(c, n, 3, dt, c, &err));
    for (size_t j = 0; j < 3 * n; j++) CHECK(c[j] == s[j]);
    free(c); free(s); free(om);
  }
  double c2[2] = {1, 1}, s2[2];
  CHECK_ERR(kiln_corr_cos_transform(c2, 1, 1, 1.0, s2, &err), KILN_EINVAL, "2 lags");
  CHECK_ERR(kiln_corr_cos_transform(c2, 2, 1, 0.0, s2, &err), KILN_EINVAL, "dt");
}

/* c(t) = cos(w0 t) exp(-t/tau): S(w) = tau/(1+(w-w0)^2 tau^2) + tau/(1+(w+w0)^2 tau^2) */
TEST(test_cos_transform_lorentzian) {
  kiln_error err;
  const size_t n = 8001;
  const double dt = 0.1, tau = 50, w0 = 0.2;
  double *c = malloc(n * sizeof *c), *s = malloc(n * sizeof *s), *om = malloc(n * sizeof *om);
  for (size_t j = 0; j < n; j++) c[j] = cos(w0 * (double)j * dt) * exp(-(double)j * dt / tau);
  CHECK_OK(kiln_corr_cos_transform(c, n, 1, dt, s, &err));
  kiln_corr_omega(n, dt, om);
  size_t kmax = 0;
  double maxdev = 0;
  for (size_t k = 0; k < n; k++) {
    if (s[k] > s[kmax]) kmax = k;
    double a = tau / (1 + pow((om[k] - w0) * tau, 2)) + tau / (1 + pow((om[k] + w0) * tau, 2));
    maxdev = fmax(maxdev, fabs(s[k] - a));
  }
  printf("  Lorentzian: peak at %.5f rad/fs (w0 %.5f, dw %.2e), height %.6f (analytic %.6f), "
         "max abs dev %.2e\n", om[kmax], w0, om[1], s[kmax], tau + tau / (1 + 4 * w0 * w0 * tau * tau),
         maxdev);
  CHECK(fabs(om[kmax] - w0) <= 0.5 * om[1]);
  CHECK(maxdev < 1e-3 * tau);
  free(c); free(s); free(om);
}

int main(void) {
  RUN(test_tcorr_brute_step1);
  RUN(test_tcorr_brute_step3);
  RUN(test_tcorr_read_midrun);
  RUN(test_tcorr_long);
  RUN(test_tcorr_errors);
  RUN(test_window);
  RUN(test_cos_transform_sum_rule);
  RUN(test_cos_transform_lorentzian);
  return check_summary();
}
