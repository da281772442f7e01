/* src/cv/cv_perov.c: local polarization proxies of ABX3 perovskites: one cell per B
 * site with its 6 nearest X (octahedron) and 8 nearest A (cube corners). The B-site
 * off-centering against the centre of its X6 octahedron (Gigli et al.) and cell
 * dipoles with weights 1 (B), 1/2 (X on faces), 1/8 (A on corners), so every atom has
 * total weight 1 over the cells and the cell dipoles sum to the total dipole. */
#include <stdlib.h>
#include <string.h>
#include "cv/cv_internal.h"

void kiln_cv_perov_map_free(kiln_perov_map *m) {
  if (!m) return;
  free(m->b);
  free(m->x);
  free(m->a);
  memset(m, 0, sizeof *m);
}

static int species_of(const kiln_atoms *at, const char *sym) {
  for (int t = 0; t < at->nspecies; t++)
    if (!strcmp(at->species[t], sym)) return t;
  return -1;
}

/* keep the k nearest: insertion into sorted arrays */
static void keep(double *dist, int64_t *idx, int k, double d, int64_t j) {
  if (d >= dist[k - 1]) return;
  int p = k - 1;
  while (p > 0 && dist[p - 1] > d) {
    dist[p] = dist[p - 1];
    idx[p] = idx[p - 1];
    p--;
  }
  dist[p] = d;
  idx[p] = j;
}

kiln_status kiln_cv_perov_map(const kiln_atoms *at, const char *A, const char *B, const char *X,
                              kiln_perov_map *m, kiln_error *err) {
  memset(m, 0, sizeof *m);
  int tA = species_of(at, A), tB = species_of(at, B), tX = species_of(at, X);
  if (tA < 0 || tB < 0 || tX < 0)
    return KILN_FAIL(err, KILN_EINVAL, "cv perovskite: species %s (A), %s (B), %s (X): '%s' "
                     "is not in the atoms", A, B, X, tA < 0 ? A : tB < 0 ? B : X);
  size_t nb = 0, nx = 0, na = 0;
  for (size_t i = 0; i < at->n; i++) {
    nb += at->type[i] == tB;
    nx += at->type[i] == tX;
    na += at->type[i] == tA;
  }
  if (nx < 6 || na < 1 || nx != 3 * nb || na != nb)
    return KILN_FAIL(err, KILN_EINVAL, "cv perovskite: composition %zu %s, %zu %s, %zu %s is "
                     "not ABX3", na, A, nb, B, nx, X);
  m->b = malloc(nb * sizeof *m->b);
  m->x = malloc(nb * sizeof *m->x);
  m->a = malloc(nb * sizeof *m->a);
  if (!m->b || !m->x || !m->a) {
    kiln_cv_perov_map_free(m);
    return KILN_FAIL(err, KILN_ENOMEM, "cv perovskite: out of memory");
  }
  double inv[3][3];
  int ok = kilni_cv_inv(at, inv);
  size_t c = 0;
  for (size_t i = 0; i < at->n; i++) {
    if (at->type[i] != tB) continue;
    double dx[6], da[8];
    int64_t ix[6], ia[8];
    for (int k = 0; k < 6; k++) { dx[k] = INFINITY; ix[k] = -1; }
    for (int k = 0; k < 8; k++) { da[k] = INFINITY; ia[k] = -1; }
    for (size_t j = 0; j < at->n; j++) {
      if (at->type[j] != tX && at->type[j] != tA) continue;
      double d[3] = {at->x[j][0] - at->x[i][0], at->x[j][1] - at->x[i][1],
                     at->x[j][2] - at->x[i][2]};
      kilni_cv_mic(at, inv, ok, d);
      double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
      if (at->type[j] == tX) keep(dx, ix, 6, r2, (int64_t)j);
      else keep(da, ia, 8, r2, (int64_t)j);
    }
    if (ix[5] < 0 || ia[7] < 0) {
      kiln_cv_perov_map_free(m);
      return KILN_FAIL(err, KILN_EINVAL, "cv perovskite: B atom %zu has fewer than 6 %s or 8 %s "
                       "neighbours (cell too small?)", i + 1, X, A);
    }
    m->b[c] = (int64_t)i;
    memcpy(m->x[c], ix, sizeof ix);
    memcpy(m->a[c], ia, sizeof ia);
    c++;
  }
  m->ncell = c;
  return KILN_OK;
}

static kiln_status check_map(const kiln_atoms *at, const kiln_perov_map *m, kiln_error *err) {
  for (size_t c = 0; c < m->ncell; c++) {
    if (m->b[c] < 0 || (size_t)m->b[c] >= at->n)
      return KILN_FAIL(err, KILN_EINVAL, "cv perovskite: the cell map does not fit these atoms "
                       "(%zu atoms)", at->n);
    for (int k = 0; k < 8; k++)
      if ((k < 6 && (size_t)m->x[c][k] >= at->n) || (size_t)m->a[c][k] >= at->n)
        return KILN_FAIL(err, KILN_EINVAL, "cv perovskite: the cell map does not fit these "
                         "atoms (%zu atoms)", at->n);
  }
  return KILN_OK;
}

kiln_status kiln_cv_perov_offcenter(const kiln_atoms *at, const kiln_perov_map *m,
                                    double (*d)[3], kiln_error *err) {
  kiln_status st = check_map(at, m, err);
  if (st) return st;
  double inv[3][3];
  int ok = kilni_cv_inv(at, inv);
  for (size_t c = 0; c < m->ncell; c++) {
    const double *rb = at->x[m->b[c]];
    double s[3] = {0, 0, 0};
    for (int k = 0; k < 6; k++) {
      const double *rx = at->x[m->x[c][k]];
      double v[3] = {rx[0] - rb[0], rx[1] - rb[1], rx[2] - rb[2]};
      kilni_cv_mic(at, inv, ok, v);
      for (int q = 0; q < 3; q++) s[q] += v[q];
    }
    for (int q = 0; q < 3; q++) d[c][q] = -s[q] / 6.0;
  }
  return KILN_OK;
}

/* Z_k as a 3x3 matrix */
static void zmat(const double *q, const double *Z, int64_t k, double z[3][3]) {
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) z[a][b] = Z ? Z[9 * k + 3 * a + b] : (a == b ? q[k] : 0.0);
}

kiln_status kiln_cv_perov_dipole(const kiln_atoms *at, const kiln_perov_map *m, const double *q,
                                 const double *Z, double (*p)[3], kiln_error *err) {
  if (!q == !Z)
    return KILN_FAIL(err, KILN_EINVAL, "cv perovskite dipole: give either charges or Born "
                     "charges (exactly one)");
  kiln_status st = check_map(at, m, err);
  if (st) return st;
  double inv[3][3];
  int ok = kilni_cv_inv(at, inv);
  for (size_t c = 0; c < m->ncell; c++) {
    const double *rb = at->x[m->b[c]];
    double s[3] = {0, 0, 0};
    for (int k = 0; k < 14; k++) {
      int64_t j = k < 6 ? m->x[c][k] : m->a[c][k - 6];
      double w = k < 6 ? 0.5 : 0.125;
      const double *rj = at->x[j];
      double v[3] = {rj[0] - rb[0], rj[1] - rb[1], rj[2] - rb[2]}, z[3][3];
      kilni_cv_mic(at, inv, ok, v);
      zmat(q, Z, j, z);
      for (int a = 0; a < 3; a++) s[a] += w * (z[a][0] * v[0] + z[a][1] * v[1] + z[a][2] * v[2]);
    }
    for (int a = 0; a < 3; a++) p[c][a] = s[a];
  }
  return KILN_OK;
}

kiln_status kiln_cv_perov_grad(const kiln_atoms *at, const kiln_perov_map *m, int kind, int comp,
                               const double *q, const double *Z, double (*g)[3],
                               kiln_error *err) {
  if (comp < 0 || comp > 2 || (kind != 0 && kind != 1))
    return KILN_FAIL(err, KILN_EINVAL, "cv perovskite gradient: kind %d / component %d invalid",
                     kind, comp);
  if (kind == 1 && !q == !Z)
    return KILN_FAIL(err, KILN_EINVAL, "cv perovskite dipole: give either charges or Born "
                     "charges (exactly one)");
  kiln_status st = check_map(at, m, err);
  if (st) return st;
  memset(g, 0, at->n * sizeof *g);
  if (m->ncell == 0) return KILN_OK;
  const double f = 1.0 / (double)m->ncell;
  for (size_t c = 0; c < m->ncell; c++) {
    int64_t b = m->b[c];
    if (kind == 0) {
      g[b][comp] += f;
      for (int k = 0; k < 6; k++) g[m->x[c][k]][comp] -= f / 6.0;
    } else {
      for (int k = 0; k < 14; k++) {
        int64_t j = k < 6 ? m->x[c][k] : m->a[c][k - 6];
        double w = k < 6 ? 0.5 : 0.125, z[3][3];
        zmat(q, Z, j, z);
        for (int bq = 0; bq < 3; bq++) {
          g[j][bq] += f * w * z[comp][bq];
          g[b][bq] -= f * w * z[comp][bq];
        }
      }
    }
  }
  return KILN_OK;
}
