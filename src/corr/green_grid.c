/* src/corr/green_grid.c: separable 3-D DFT on a small grid of cells (see green_grid.h).
 * The grids are supercells (a few to a few tens of cells per direction), so a direct
 * O(n) sum per line, n1*n2*n3*(n1+n2+n3)*ncomp complex products, is fast enough and
 * works for any n. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/opts.h"
#include "corr/green_grid.h"

kiln_status kilni_grid_dft_init(kilni_grid_dft *g, const int n[3], size_t ncomp, const char *what,
                                kiln_error *err) {
  memset(g, 0, sizeof *g);
  int nmax = 1;
  g->nc = 1;
  for (int d = 0; d < 3; d++) {
    g->n[d] = n[d];
    g->nc *= (size_t)n[d];
    if (n[d] > nmax) nmax = n[d];
  }
  g->ncomp = ncomp;
  for (int d = 0; d < 3; d++) {
    size_t m = (size_t)n[d];
    if (!(g->tw[d] = malloc(m * m * sizeof *g->tw[d]))) goto nomem;
    for (size_t j = 0; j < m; j++)
      for (size_t k = 0; k < m; k++) {
        double ph = -2.0 * M_PI * (double)((j * k) % m) / (double)m;
        g->tw[d][j * m + k][0] = cos(ph);
        g->tw[d][j * m + k][1] = sin(ph);
      }
  }
  if (!(g->tmp = malloc((size_t)nmax * ncomp * sizeof *g->tmp))) goto nomem;
  return KILN_OK;
nomem:
  kilni_grid_dft_free(g);
  return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (grid transform)", what);
}

void kilni_grid_dft_free(kilni_grid_dft *g) {
  for (int d = 0; d < 3; d++) free(g->tw[d]);
  free(g->tmp);
  memset(g, 0, sizeof *g);
}

void kilni_grid_dft_run(kilni_grid_dft *g, double (*data)[2], int sign) {
  const size_t nc = g->ncomp;
  const size_t n0 = (size_t)g->n[0], n1 = (size_t)g->n[1], n2 = (size_t)g->n[2];
  const size_t stride[3] = {n1 * n2, n2, 1};
  const double sg = sign < 0 ? 1.0 : -1.0;  /* twiddles hold the sign -1 */
  for (int d = 0; d < 3; d++) {
    const size_t m = (size_t)g->n[d];
    if (m == 1) continue;
    const size_t st = stride[d];
    for (size_t c0 = 0; c0 < n0; c0++)
      for (size_t c1 = 0; c1 < n1; c1++)
        for (size_t c2 = 0; c2 < n2; c2++) {
          size_t idx[3] = {c0, c1, c2};
          if (idx[d] != 0) continue;
          const size_t base = (c0 * n1 + c1) * n2 + c2;
          for (size_t k = 0; k < m; k++) {
            double (*t)[2] = g->tmp + k * nc;
            for (size_t c = 0; c < nc; c++) t[c][0] = t[c][1] = 0;
            for (size_t j = 0; j < m; j++) {
              const double wr = g->tw[d][j * m + k][0], wi = sg * g->tw[d][j * m + k][1];
              const double (*x)[2] = data + (base + j * st) * nc;
              for (size_t c = 0; c < nc; c++) {
                t[c][0] += wr * x[c][0] - wi * x[c][1];
                t[c][1] += wr * x[c][1] + wi * x[c][0];
              }
            }
          }
          for (size_t k = 0; k < m; k++)
            memcpy(data + (base + k * st) * nc, g->tmp + k * nc, nc * sizeof *g->tmp);
        }
  }
}

kiln_status kilni_grid_opt(const kiln_opts *o, const char *what, const char *key, int n[3],
                           kiln_error *err) {
  kiln_opts *t = o ? kiln_opts_get(o, key) : NULL;
  if (!t) return KILN_FAIL(err, KILN_EINVAL, "%s: missing option '%s' ({n1, n2, n3})", what, key);
  t->used = 1;
  if (t->kind != KILN_OPT_TABLE || kiln_opts_npos(t) != 3)
    return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' must be a list of 3 positive integers",
                     what, key);
  for (size_t i = 0; i < 3; i++) {
    kiln_opts *e = kiln_opts_at(t, i);
    e->used = 1;
    if (e->kind != KILN_OPT_NUM || !(e->num >= 1) || e->num != floor(e->num) || e->num > 1e6)
      return KILN_FAIL(err, KILN_EINVAL, "%s: %s[%zu] must be a positive integer (got %s%g)",
                       what, key, i + 1, e->kind == KILN_OPT_NUM ? "" : "a non-number ",
                       e->kind == KILN_OPT_NUM ? e->num : 0.0);
    n[i] = (int)e->num;
  }
  return KILN_OK;
}

kiln_status kilni_vec3_list_opt(const kiln_opts *o, const char *what, const char *key,
                                int required, double (**out)[3], size_t *n, kiln_error *err) {
  *out = NULL;
  *n = 0;
  kiln_opts *t = o ? kiln_opts_get(o, key) : NULL;
  if (!t) {
    if (required)
      return KILN_FAIL(err, KILN_EINVAL, "%s: missing option '%s' ({{x, y, z}, ...})", what, key);
    return KILN_OK;
  }
  size_t m = kiln_opts_npos(t);
  if (t->kind != KILN_OPT_TABLE || m == 0)
    return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' must be a non-empty list {{x, y, z}, ...}",
                     what, key);
  double (*v)[3] = malloc(m * sizeof *v);
  if (!v) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  for (size_t i = 0; i < m; i++) {
    kiln_opts *r = kiln_opts_at(t, i);
    if (r->kind != KILN_OPT_TABLE || kiln_opts_npos(r) != 3) {
      free(v);
      return KILN_FAIL(err, KILN_EINVAL, "%s: %s[%zu] must be a list of 3 numbers", what, key,
                       i + 1);
    }
    for (size_t k = 0; k < 3; k++) {
      kiln_opts *e = kiln_opts_at(r, k);
      if (e->kind != KILN_OPT_NUM || !isfinite(e->num)) {
        free(v);
        return KILN_FAIL(err, KILN_EINVAL, "%s: %s[%zu][%zu] must be a finite number", what, key,
                         i + 1, k + 1);
      }
      v[i][k] = e->num;
    }
  }
  *out = v;
  *n = m;
  return KILN_OK;
}

void kilni_min_image(const double cell[3][3], const double inv[3][3], const int pbc[3],
                     double d[3]) {
  double s[3];
  for (int k = 0; k < 3; k++) {
    s[k] = d[0] * inv[0][k] + d[1] * inv[1][k] + d[2] * inv[2][k];
    if (pbc[k]) s[k] -= nearbyint(s[k]);
  }
  for (int k = 0; k < 3; k++) d[k] = s[0] * cell[0][k] + s[1] * cell[1][k] + s[2] * cell[2][k];
}
