/* tests/c/test_design.c: design rows (kiln_design_linear) and polynomial-kernel features
 * (kiln_kernel_poly) against finite differences of energies, with a small test-only
 * radial descriptor so the test does not depend on any registered style:
 *   X_i[c] = sum_k w_type(k) exp(-(r_ik - mu_c)^2 / s2) fc(r_ik),  fc = (cos(pi r/rc) + 1)/2
 * over the neighbors k of i (periodic images included) within rc. */
#include <stdlib.h>
#include "check.h"
#include "kiln/kiln.h"
#include "kiln/ml.h"

#define NC 6
static const double RC = 5.4, S2 = 0.5;
static const double WTYPE[2] = {1.0, 0.7};

static double mu(int c) { return 1.6 + 0.7 * c; }

static uint64_t rng_state = 88172645463325252ull;
static double urand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* X (n x NC) and, if g, the gradient entries (one per neighbor inside rc) */
static void radial(const kiln_atoms *a, kiln_neigh *nl, double *X, kiln_desc_grad *g) {
  kiln_error err;
  CHECK_OK(kiln_neigh_update(nl, a, NULL, &err));
  const size_t n = a->n;
  size_t ne = 0;
  if (g) {
    CHECK_OK(kiln_desc_grad_reserve(g, n, NC, nl->offset[n], &err));
    g->offset[0] = 0;
  }
  for (size_t i = 0; i < n; i++) {
    double *x = X + i * NC;
    for (int c = 0; c < NC; c++) x[c] = 0;
    for (size_t e = nl->offset[i]; e < nl->offset[i + 1]; e++) {
      int32_t k = nl->index[e];
      double d[3], r2 = 0;
      for (int q = 0; q < 3; q++) {
        d[q] = nl->xe[k][q] - nl->xe[i][q];
        r2 += d[q] * d[q];
      }
      double r = sqrt(r2);
      if (r >= RC) continue;
      const double wk = WTYPE[a->type[nl->owner[k]]];
      const double fc = 0.5 * (cos(M_PI * r / RC) + 1), dfc = -0.5 * M_PI / RC * sin(M_PI * r / RC);
      if (g) {
        g->j[ne] = nl->owner[k];
        for (int q = 0; q < 3; q++) g->rij[ne][q] = d[q];
      }
      for (int c = 0; c < NC; c++) {
        const double t = r - mu(c), ex = exp(-t * t / S2);
        x[c] += wk * ex * fc;
        if (g) {
          const double dr = wk * (ex * dfc - 2 * t / S2 * ex * fc);
          for (int q = 0; q < 3; q++) g->d[(ne * 3 + (size_t)q) * NC + (size_t)c] = dr * d[q] / r;
        }
      }
      ne++;
    }
    if (g) g->offset[i + 1] = ne;
  }
}

/* a small triclinic periodic cell (heights < 2 rc: atoms see their own images), two species */
static kiln_atoms *make_atoms(size_t n) {
  kiln_error err;
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_atoms_new(&a, n, &err));
  const double cell[3][3] = {{5.3, 0, 0}, {0.7, 5.0, 0}, {-0.4, 0.5, 5.6}};
  CHECK_OK(kiln_atoms_set_cell(a, cell, 0, &err));
  for (int d = 0; d < 3; d++) a->pbc[d] = 1;
  for (size_t i = 0; i < n; i++) {
    CHECK_OK(kiln_atoms_set_symbol(a, i, i % 3 == 0 ? "Ge" : "Si", &err));
    double s[3] = {urand(), urand(), urand()};
    for (int q = 0; q < 3; q++) a->x[i][q] = s[0] * cell[0][q] + s[1] * cell[1][q] + s[2] * cell[2][q];
  }
  /* type index: Si and Ge in order of appearance; WTYPE is by type */
  return a;
}

/* model energy of the current positions: linear (K == NULL) or kernel */
typedef struct {
  kiln_neigh *nl;
  const double *w;        /* NC (linear) or m (kernel) */
  size_t m;               /* 0: linear */
  const double *S;
  const int32_t *es;
  double zeta;
  int per_element;        /* linear: w has 2 NC entries, block = type of the centre */
} model;

static double energy(const kiln_atoms *a, const model *md) {
  const size_t n = a->n;
  double *X = malloc(n * NC * sizeof *X);
  radial(a, md->nl, X, NULL);
  double E = 0;
  if (!md->m) {
    for (size_t i = 0; i < n; i++) {
      const double *w = md->w + (md->per_element ? (size_t)a->type[i] * NC : 0);
      for (int c = 0; c < NC; c++) E += w[c] * X[i * NC + c];
    }
  } else {
    kiln_error err;
    double *K = malloc(n * md->m * sizeof *K);
    int32_t *ex = malloc(n * sizeof *ex);
    for (size_t i = 0; i < n; i++) ex[i] = a->type[i];
    CHECK_OK(kiln_kernel_poly(n, NC, X, ex, NULL, md->m, md->S, md->es, md->zeta, K, NULL, &err));
    for (size_t i = 0; i < n; i++)
      for (size_t s = 0; s < md->m; s++) E += md->w[s] * K[i * md->m + s];
    free(K);
    free(ex);
  }
  free(X);
  return E;
}

/* compare the rows (dotted with w) against finite differences of energy() */
static void check_fd(kiln_atoms *a, const model *md, const double *frows, const double *vrows,
                     size_t ncols, double tol) {
  const size_t n = a->n;
  const double h = 1e-5;
  double maxf = 0, maxerr = 0;
  for (size_t j = 0; j < n; j++)
    for (int c = 0; c < 3; c++) {
      double f = 0;
      for (size_t k = 0; k < ncols; k++) f += frows[(3 * j + (size_t)c) * ncols + k] * md->w[k];
      double x0 = a->x[j][c];
      a->x[j][c] = x0 + h;
      double ep = energy(a, md);
      a->x[j][c] = x0 - h;
      double em = energy(a, md);
      a->x[j][c] = x0;
      double fd = -(ep - em) / (2 * h);
      CHECK_CLOSE(f, fd, tol, tol);
      if (fabs(fd) > maxf) maxf = fabs(fd);
      if (fabs(f - fd) > maxerr) maxerr = fabs(f - fd);
    }
  CHECK(maxf > 1e-2);   /* the forces are not trivially zero */
  /* virial: W_ab = -dE/d eps_ab for x -> x (I + eps), cell -> cell (I + eps) */
  static const int VA[6] = {0, 1, 2, 1, 0, 0}, VB[6] = {0, 1, 2, 2, 2, 1};
  kiln_atoms *b = NULL;
  kiln_error err;
  CHECK_OK(kiln_atoms_copy(&b, a, &err));
  double maxw = 0;
  for (int v = 0; v < 6; v++) {
    double W = 0;
    for (size_t k = 0; k < ncols; k++) W += vrows[(size_t)v * ncols + k] * md->w[k];
    double e[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      double eps = sgn ? -h : h;
      int p = VA[v], q = VB[v];
      double cell[3][3];
      for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 3; c++) cell[r][c] = a->cell[r][c];
        cell[r][q] += eps * a->cell[r][p];
      }
      CHECK_OK(kiln_atoms_set_cell(b, cell, 0, &err));
      for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++) b->x[i][c] = a->x[i][c];
        b->x[i][q] += eps * a->x[i][p];
      }
      b->generation++;
      kiln_neigh_invalidate(md->nl);
      e[sgn] = energy(b, md);
    }
    kiln_neigh_invalidate(md->nl);
    double fd = -(e[0] - e[1]) / (2 * h);
    CHECK_CLOSE(W, fd, tol, tol);
    if (fabs(fd) > maxw) maxw = fabs(fd);
  }
  CHECK(maxw > 1e-2);
  kiln_atoms_free(b);
}

TEST(test_linear_rows_fd) {
  kiln_error err;
  kiln_atoms *a = make_atoms(9);
  kiln_neigh *nl = NULL;
  CHECK_OK(kiln_neigh_new(&nl, KILN_NEIGH_FULL, RC, 0.0, &err));
  const size_t n = a->n;
  double *X = malloc(n * NC * sizeof *X), erow[NC], *frows = malloc(3 * n * NC * sizeof *frows),
         vrows[6 * NC];
  kiln_desc_grad g = {0};
  radial(a, nl, X, &g);
  CHECK(g.offset[n] > n);   /* neighbors found, including self images */
  int self = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t e = g.offset[i]; e < g.offset[i + 1]; e++) self += (size_t)g.j[e] == i;
  CHECK(self > 0);
  CHECK_OK(kiln_design_linear(n, NC, X, &g, erow, frows, vrows, &err));
  for (int c = 0; c < NC; c++) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += X[i * NC + c];
    CHECK_CLOSE(erow[c], s, 1e-14, 0);
  }
  /* the columns of the force rows sum to zero (translation invariance) */
  for (int c = 0; c < NC; c++)
    for (int q = 0; q < 3; q++) {
      double s = 0;
      for (size_t j = 0; j < n; j++) s += frows[(3 * j + (size_t)q) * NC + (size_t)c];
      CHECK_CLOSE(s, 0, 0, 1e-12);
    }
  double w[NC];
  for (int c = 0; c < NC; c++) w[c] = urand() - 0.3;
  model md = {nl, w, 0, NULL, NULL, 0, 0};
  check_fd(a, &md, frows, vrows, NC, 1e-7);
  /* outputs are optional; a missing gradient is an error for force rows */
  double erow2[NC];
  CHECK_OK(kiln_design_linear(n, NC, X, NULL, erow2, NULL, NULL, &err));
  CHECK_CLOSE(erow2[2], erow[2], 1e-15, 0);
  CHECK_ERR(kiln_design_linear(n, NC, X, NULL, NULL, frows, NULL, &err), KILN_EINVAL, "gradient");
  CHECK_ERR(kiln_design_linear(n + 1, NC, X, &g, NULL, frows, NULL, &err), KILN_EINVAL,
            "10 x 6");
  /* per-element blocks: they add up to the plain rows, and match finite differences of
   * E = sum_i w_{type(i)}.X_i */
  int32_t el[9];
  for (size_t i = 0; i < n; i++) el[i] = a->type[i];
  double erow2b[2 * NC], vrows2[12 * NC], *frows2 = malloc(3 * n * 2 * NC * sizeof *frows2);
  CHECK_OK(kiln_design_linear_el(n, NC, X, &g, el, 2, erow2b, frows2, vrows2, &err));
  for (int c = 0; c < NC; c++) {
    CHECK_CLOSE(erow2b[c] + erow2b[NC + c], erow[c], 1e-14, 1e-15);
    CHECK(erow2b[c] != 0 && erow2b[NC + c] != 0);
    for (size_t r = 0; r < 3 * n; r++)
      CHECK_CLOSE(frows2[r * 2 * NC + (size_t)c] + frows2[r * 2 * NC + NC + (size_t)c],
                  frows[r * NC + (size_t)c], 1e-13, 1e-14);
  }
  double w2[2 * NC];
  for (int c = 0; c < 2 * NC; c++) w2[c] = urand() - 0.5;
  model md2 = {nl, w2, 0, NULL, NULL, 0, 1};
  check_fd(a, &md2, frows2, vrows2, 2 * NC, 1e-7);
  el[0] = 2;
  CHECK_ERR(kiln_design_linear_el(n, NC, X, &g, el, 2, erow2b, NULL, NULL, &err), KILN_EINVAL,
            "atom 1 has element index 3");
  free(frows2);
  kiln_desc_grad_free(&g);
  kiln_neigh_free(nl);
  kiln_atoms_free(a);
  free(X);
  free(frows);
}

static void kernel_case(double zeta, int masked) {
  kiln_error err;
  kiln_atoms *a = make_atoms(8);
  kiln_neigh *nl = NULL;
  CHECK_OK(kiln_neigh_new(&nl, KILN_NEIGH_FULL, RC, 0.0, &err));
  const size_t n = a->n, m = 5;
  double *X = malloc(n * NC * sizeof *X);
  kiln_desc_grad g = {0}, gK = {0};
  radial(a, nl, X, &g);
  /* sparse rows: perturbed copies of some atoms' rows (realistic overlaps) */
  double S[5 * NC];
  int32_t es[5], ex[8];
  for (size_t i = 0; i < n; i++) ex[i] = a->type[i];
  for (size_t s = 0; s < m; s++) {
    size_t src = (s * 3) % n;
    for (int c = 0; c < NC; c++) S[s * NC + (size_t)c] = X[src * NC + (size_t)c] * (1 + 0.3 * urand());
    es[s] = masked ? ex[src] : 0;
  }
  if (masked) es[4] = 1 - es[4];   /* a sparse row of the other element */
  double *K = malloc(n * m * sizeof *K);
  CHECK_OK(kiln_kernel_poly(n, NC, X, masked ? ex : NULL, &g, m, S, masked ? es : NULL, zeta, K,
                            &gK, &err));
  /* K against the formula */
  for (size_t i = 0; i < n; i++)
    for (size_t s = 0; s < m; s++) {
      double xx = 0, ss = 0, xs = 0;
      for (int c = 0; c < NC; c++) {
        xx += X[i * NC + c] * X[i * NC + c];
        ss += S[s * NC + c] * S[s * NC + c];
        xs += X[i * NC + c] * S[s * NC + c];
      }
      double ref = (!masked || ex[i] == es[s]) ? pow(xs / sqrt(xx * ss), zeta) : 0.0;
      CHECK_CLOSE(K[i * m + s], ref, 1e-13, 1e-15);
    }
  CHECK(gK.n == n && gK.ncols == m && gK.offset[n] == g.offset[n]);
  double *frows = malloc(3 * n * m * sizeof *frows), vrows[6 * 5];
  CHECK_OK(kiln_design_linear(n, m, K, &gK, NULL, frows, vrows, &err));
  double w[5];
  for (size_t s = 0; s < m; s++) w[s] = urand() + 0.2;
  /* energy() passes the atom types as ex; es NULL (unmasked) matches every atom */
  model md = {nl, w, m, S, masked ? es : NULL, zeta, 0};
  check_fd(a, &md, frows, vrows, m, 1e-7);
  /* the gradient of entries of a masked pair is zero */
  if (masked) {
    size_t s = 4;
    for (size_t i = 0; i < n; i++)
      if (ex[i] != es[s])
        for (size_t e = g.offset[i]; e < g.offset[i + 1]; e++)
          for (int q = 0; q < 3; q++) CHECK(gK.d[(e * 3 + (size_t)q) * m + s] == 0.0);
  }
  kiln_desc_grad_free(&g);
  kiln_desc_grad_free(&gK);
  kiln_neigh_free(nl);
  kiln_atoms_free(a);
  free(X);
  free(K);
  free(frows);
}

TEST(test_kernel_fd_zeta2) { kernel_case(2.0, 0); }
TEST(test_kernel_fd_zeta4_masked) { kernel_case(4.0, 1); }
TEST(test_kernel_fd_zeta_noninteger) { kernel_case(2.5, 1); }

TEST(test_kernel_errors) {
  kiln_error err;
  double X[4] = {1, 0, 0, 1}, S[2] = {1, 1}, K[2];
  CHECK_ERR(kiln_kernel_poly(2, 2, X, NULL, NULL, 1, S, NULL, 0.5, K, NULL, &err), KILN_EINVAL,
            "zeta");
  CHECK_ERR(kiln_kernel_poly(2, 2, X, NULL, NULL, 0, S, NULL, 2, K, NULL, &err), KILN_EINVAL,
            "sparse");
  CHECK_OK(kiln_kernel_poly(2, 2, X, NULL, NULL, 1, S, NULL, 2, K, NULL, &err));
  CHECK_CLOSE(K[0], 0.5, 1e-15, 0);
  CHECK_CLOSE(K[1], 0.5, 1e-15, 0);
  kiln_desc_grad gK = {0};
  CHECK_ERR(kiln_kernel_poly(2, 2, X, NULL, NULL, 1, S, NULL, 2, K, &gK, &err), KILN_EINVAL,
            "gradient");
  kiln_desc_grad_free(&gK);
}

int main(void) {
  RUN(test_linear_rows_fd);
  RUN(test_kernel_fd_zeta2);
  RUN(test_kernel_fd_zeta4_masked);
  RUN(test_kernel_fd_zeta_noninteger);
  RUN(test_kernel_errors);
  return check_summary();
}
