/* tests/c/test_regress.c: kiln_ridge against the normal equations and exactly solvable
 * systems, kiln_sgpr against the dense formula and its interpolation limit, kiln_fps
 * against brute force. References are computed here by plain Gaussian elimination. */
#include <stdlib.h>
#include "check.h"
#include "kiln/kiln.h"
#include "kiln/ml.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* solve M x = r (n x n, row-major; both overwritten) by partial pivoting */
static void gauss(size_t n, double *M, double *r) {
  for (size_t k = 0; k < n; k++) {
    size_t p = k;
    for (size_t i = k + 1; i < n; i++)
      if (fabs(M[i * n + k]) > fabs(M[p * n + k])) p = i;
    if (p != k) {
      for (size_t c = 0; c < n; c++) {
        double t = M[k * n + c];
        M[k * n + c] = M[p * n + c];
        M[p * n + c] = t;
      }
      double t = r[k];
      r[k] = r[p];
      r[p] = t;
    }
    for (size_t i = k + 1; i < n; i++) {
      double f = M[i * n + k] / M[k * n + k];
      for (size_t c = k; c < n; c++) M[i * n + c] -= f * M[k * n + c];
      r[i] -= f * r[k];
    }
  }
  for (size_t k = n; k-- > 0;) {
    double s = r[k];
    for (size_t c = k + 1; c < n; c++) s -= M[k * n + c] * r[c];
    r[k] = s / M[k * n + k];
  }
}

TEST(test_ridge_normal_equations) {
  enum { M = 20, N = 5 };
  double A[M * N], b[M], w[M], x[N];
  for (int k = 0; k < M * N; k++) A[k] = urand() - 0.5;
  for (int r = 0; r < M; r++) {
    b[r] = urand() - 0.5;
    w[r] = 0.2 + 2 * urand();
  }
  const double lambda = 0.3;
  kiln_error err;
  size_t rank = 0;
  CHECK_OK(kiln_ridge(M, N, A, b, w, lambda, x, &rank, &err));
  CHECK(rank == N);
  double NM[N * N] = {0}, rhs[N] = {0};
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) {
      for (int r = 0; r < M; r++) NM[i * N + j] += A[r * N + i] * w[r] * A[r * N + j];
      if (i == j) NM[i * N + j] += lambda;
    }
    for (int r = 0; r < M; r++) rhs[i] += A[r * N + i] * w[r] * b[r];
  }
  gauss(N, NM, rhs);
  for (int i = 0; i < N; i++) CHECK_CLOSE(x[i], rhs[i], 1e-11, 1e-13);
  /* w NULL equals w = 1 */
  double ones[M], x1[N], x2[N];
  for (int r = 0; r < M; r++) ones[r] = 1;
  CHECK_OK(kiln_ridge(M, N, A, b, NULL, lambda, x1, NULL, &err));
  CHECK_OK(kiln_ridge(M, N, A, b, ones, lambda, x2, NULL, &err));
  for (int i = 0; i < N; i++) CHECK_CLOSE(x1[i], x2[i], 1e-13, 1e-15);
}

TEST(test_ridge_exact_and_shrinkage) {
  enum { M = 30, N = 6 };
  double A[M * N], b[M], w[M], xt[N], x[N];
  for (int k = 0; k < M * N; k++) A[k] = urand() - 0.5;
  for (int i = 0; i < N; i++) xt[i] = 3 * urand() - 1.5;
  for (int r = 0; r < M; r++) {
    b[r] = 0;
    for (int i = 0; i < N; i++) b[r] += A[r * N + i] * xt[i];
    w[r] = r % 3 == 0 ? 100.0 : 0.01 + urand();
  }
  kiln_error err;
  size_t rank;
  CHECK_OK(kiln_ridge(M, N, A, b, w, 0.0, x, &rank, &err));
  CHECK(rank == N);
  for (int i = 0; i < N; i++) CHECK_CLOSE(x[i], xt[i], 0, 1e-10);
  /* lambda shrinks |x| monotonically towards 0 */
  double prev = 0;
  for (int i = 0; i < N; i++) prev += x[i] * x[i];
  const double lams[4] = {1e-3, 0.1, 10, 1e4};
  for (int l = 0; l < 4; l++) {
    CHECK_OK(kiln_ridge(M, N, A, b, w, lams[l], x, &rank, &err));
    double nn = 0;
    for (int i = 0; i < N; i++) nn += x[i] * x[i];
    CHECK(nn < prev);
    prev = nn;
  }
  CHECK(sqrt(prev) < 0.1);
}

TEST(test_ridge_rank_deficient) {
  enum { M = 15, N = 4 };
  double A[M * N], b[M], x[N];
  const double xt[3] = {0.5, -1.0, 2.0};
  for (int r = 0; r < M; r++) {
    for (int i = 0; i < 3; i++) A[r * N + i] = urand() - 0.5;
    A[r * N + 3] = A[r * N + 0] + A[r * N + 1];   /* dependent column */
    b[r] = A[r * N] * xt[0] + A[r * N + 1] * xt[1] + A[r * N + 2] * xt[2];
  }
  kiln_error err;
  size_t rank;
  CHECK_OK(kiln_ridge(M, N, A, b, NULL, 0.0, x, &rank, &err));
  CHECK(rank == 3);
  /* the minimum-norm solution: fits exactly and is orthogonal to the null vector (1,1,0,-1) */
  for (int r = 0; r < M; r++) {
    double f = 0;
    for (int i = 0; i < N; i++) f += A[r * N + i] * x[i];
    CHECK_CLOSE(f, b[r], 0, 1e-12);
  }
  CHECK_CLOSE(x[0] + x[1] - x[3], 0, 0, 1e-12);
  /* x = xt + t (1,1,0,-1) with t = -(xt0 + xt1)/3 */
  double t = -(xt[0] + xt[1]) / 3;
  CHECK_CLOSE(x[0], xt[0] + t, 0, 1e-12);
  CHECK_CLOSE(x[3], -t, 0, 1e-12);
  /* with lambda > 0 the augmented system has full rank */
  CHECK_OK(kiln_ridge(M, N, A, b, NULL, 1e-6, x, &rank, &err));
  CHECK(rank == N);
}

TEST(test_ridge_errors) {
  kiln_error err;
  double A[4] = {1, 2, 3, 4}, b[2] = {1, 2}, w[2] = {1, -1}, x[2];
  CHECK_ERR(kiln_ridge(2, 2, A, b, w, 0, x, NULL, &err), KILN_EINVAL, "weight 2");
  CHECK_ERR(kiln_ridge(2, 2, A, b, NULL, -1, x, NULL, &err), KILN_EINVAL, "lambda");
  CHECK_ERR(kiln_ridge(0, 2, A, b, NULL, 0, x, NULL, &err), KILN_EINVAL, "0 x 2");
  A[3] = NAN;
  CHECK_ERR(kiln_ridge(2, 2, A, b, NULL, 0, x, NULL, &err), KILN_EINVAL, "A[2][2]");
}

/* dense reference: (Kmm + jitter I + K^T S^-2 K)^-1 K^T S^-2 y */
static void sgpr_ref(size_t nobs, size_t m, const double *K, const double *y, const double *s,
                     const double *Kmm, double jitter, double *alpha) {
  double *NM = calloc(m * m, sizeof *NM);
  for (size_t a = 0; a < m; a++) {
    alpha[a] = 0;
    for (size_t c = 0; c < m; c++) {
      NM[a * m + c] = Kmm[a * m + c] + (a == c ? jitter : 0);
      for (size_t r = 0; r < nobs; r++) NM[a * m + c] += K[r * m + a] * K[r * m + c] / (s[r] * s[r]);
    }
    for (size_t r = 0; r < nobs; r++) alpha[a] += K[r * m + a] * y[r] / (s[r] * s[r]);
  }
  gauss(m, NM, alpha);
  free(NM);
}

TEST(test_sgpr_dense) {
  enum { NOBS = 12, M = 4 };
  double K[NOBS * M], y[NOBS], s[NOBS], B[M * M], Kmm[M * M], alpha[M], ref[M];
  for (int k = 0; k < NOBS * M; k++) K[k] = urand();
  for (int r = 0; r < NOBS; r++) {
    y[r] = 2 * urand() - 1;
    s[r] = 0.05 + 0.5 * urand();
  }
  for (int k = 0; k < M * M; k++) B[k] = urand() - 0.5;
  for (int a = 0; a < M; a++)
    for (int c = 0; c < M; c++) {
      Kmm[a * M + c] = a == c ? 0.5 : 0;
      for (int k = 0; k < M; k++) Kmm[a * M + c] += B[a * M + k] * B[c * M + k];
    }
  kiln_error err;
  const double jitter = 1e-3;
  CHECK_OK(kiln_sgpr(NOBS, M, K, y, s, Kmm, jitter, alpha, &err));
  sgpr_ref(NOBS, M, K, y, s, Kmm, jitter, ref);
  for (int a = 0; a < M; a++) CHECK_CLOSE(alpha[a], ref[a], 1e-10, 1e-12);
  /* errors: not positive definite, bad sigma */
  double Z[M * M] = {0};
  Z[0] = -1;
  CHECK_ERR(kiln_sgpr(NOBS, M, K, y, s, Z, 0, alpha, &err), KILN_EDOM, "positive definite");
  s[3] = 0;
  CHECK_ERR(kiln_sgpr(NOBS, M, K, y, s, Kmm, 0, alpha, &err), KILN_EINVAL, "sigma[4]");
}

TEST(test_sgpr_interpolates) {
  enum { N = 10, D = 3 };
  double X[N * D], K[N * N], y[N], s[N], alpha[N];
  for (int k = 0; k < N * D; k++) X[k] = 3 * urand();
  for (int i = 0; i < N; i++) {
    y[i] = sin(X[i * D]) + X[i * D + 1];
    s[i] = 1e-7;
    for (int j = 0; j < N; j++) {
      double d2 = 0;
      for (int c = 0; c < D; c++) d2 += (X[i * D + c] - X[j * D + c]) * (X[i * D + c] - X[j * D + c]);
      K[i * N + j] = exp(-d2);
    }
  }
  kiln_error err;
  CHECK_OK(kiln_sgpr(N, N, K, y, s, K, 0.0, alpha, &err));
  double maxerr = 0;
  for (int i = 0; i < N; i++) {
    double p = 0;
    for (int j = 0; j < N; j++) p += K[i * N + j] * alpha[j];
    CHECK_CLOSE(p, y[i], 0, 1e-8);
    if (fabs(p - y[i]) > maxerr) maxerr = fabs(p - y[i]);
  }
  /* larger noise: the fit no longer interpolates */
  for (int i = 0; i < N; i++) s[i] = 1.0;
  CHECK_OK(kiln_sgpr(N, N, K, y, s, K, 0.0, alpha, &err));
  double dev = 0;
  for (int i = 0; i < N; i++) {
    double p = 0;
    for (int j = 0; j < N; j++) p += K[i * N + j] * alpha[j];
    dev += fabs(p - y[i]);
  }
  CHECK(dev > 1e-2);
}

TEST(test_fps_brute_force) {
  enum { N = 40, D = 4, M = 15 };
  double X[N * D], mind[M];
  size_t idx[M];
  for (int k = 0; k < N * D; k++) X[k] = urand();
  kiln_error err;
  const size_t start = 2;
  CHECK_OK(kiln_fps(N, D, X, M, start, idx, mind, &err));
  /* brute force: the unchosen row farthest from the chosen set (first on ties) */
  size_t ref[M];
  int chosen[N] = {0};
  ref[0] = start;
  chosen[start] = 1;
  CHECK(idx[0] == start && isinf(mind[0]));
  for (int k = 1; k < M; k++) {
    double best = -1;
    size_t bi = 0;
    for (size_t i = 0; i < N; i++) {
      if (chosen[i]) continue;
      double dmin = INFINITY;
      for (int p = 0; p < k; p++) {
        double d2 = 0;
        for (int c = 0; c < D; c++) d2 += (X[i * D + c] - X[ref[p] * D + c]) * (X[i * D + c] - X[ref[p] * D + c]);
        if (sqrt(d2) < dmin) dmin = sqrt(d2);
      }
      if (dmin > best) { best = dmin; bi = i; }
    }
    ref[k] = bi;
    chosen[bi] = 1;
    CHECK(idx[k] == bi);
    CHECK_CLOSE(mind[k], best, 1e-13, 0);
    CHECK(mind[k] <= mind[k - 1] || k == 1);   /* non-increasing */
  }
  /* all rows: a permutation */
  size_t all[N];
  CHECK_OK(kiln_fps(N, D, X, N, 0, all, NULL, &err));
  int seen[N] = {0};
  for (int k = 0; k < N; k++) seen[all[k]]++;
  for (int k = 0; k < N; k++) CHECK(seen[k] == 1);
  CHECK_ERR(kiln_fps(N, D, X, N + 1, 0, all, NULL, &err), KILN_EINVAL, "41 rows out of 40");
  CHECK_ERR(kiln_fps(N, D, X, 3, N, all, NULL, &err), KILN_ERANGE, "start row 41");
}

int main(void) {
  RUN(test_ridge_normal_equations);
  RUN(test_ridge_exact_and_shrinkage);
  RUN(test_ridge_rank_deficient);
  RUN(test_ridge_errors);
  RUN(test_sgpr_dense);
  RUN(test_sgpr_interpolates);
  RUN(test_fps_brute_force);
  return check_summary();
}
