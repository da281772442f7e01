/* src/lattice/lattice.c: lattice models: neighbour shells by distance, neighbour tables,
 * interactions, energies and local energy changes (see include/kiln/lattice.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/lattice.h"
#include "kiln/neigh.h"
#include "lattice_internal.h"

size_t kiln_lattice_nsites(const kiln_lattice *m) { return m->n; }
int kiln_lattice_nspecies(const kiln_lattice *m) { return m->ns; }
int kiln_lattice_nshells(const kiln_lattice *m) { return m->nsh; }
double kiln_lattice_shell_distance(const kiln_lattice *m, int k) {
  return k >= 0 && k < m->nsh ? m->dist[k] : 0.0;
}
int kiln_lattice_shell_size(const kiln_lattice *m, int k) {
  return k >= 0 && k < m->nsh ? m->zmax[k] : 0;
}
const int32_t *kiln_lattice_neighbors(const kiln_lattice *m, int k, size_t i, int *count) {
  if (k < 0 || k >= m->nsh || i >= m->n) {
    if (count) *count = 0;
    return NULL;
  }
  if (count) *count = (int)(m->off[k][i + 1] - m->off[k][i]);
  return m->nb[k] + m->off[k][i];
}
size_t kiln_lattice_ntriangles(const kiln_lattice *m) { return m->ntri; }

void kiln_lattice_free(kiln_lattice *m) {
  if (!m) return;
  for (int k = 0; k < KILN_LATTICE_MAX_SHELLS; k++) {
    free(m->off[k]);
    free(m->nb[k]);
  }
  free(m->toff);
  free(m->tri);
  free(m);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A scale for the first-shell distance: the smallest minimum-image distance from a few
 * sites to all others (periodic directions folded with the cell inverse). */
static kiln_status nearest_scale(const kiln_atoms *a, double *dmin, kiln_error *err) {
  int anyp = a->pbc[0] || a->pbc[1] || a->pbc[2];
  double inv[3][3] = {{0}};
  if (anyp) {
    kiln_status st = kiln_cell_inverse(a->cell, inv, err);
    if (st) return KILN_FAIL(err, KILN_EINVAL, "lattice: the cell is singular but pbc is set");
  }
  double best = INFINITY;
  size_t nsample = a->n < 8 ? a->n : 8;
  for (size_t s = 0; s < nsample; s++) {
    size_t i = s * (a->n / nsample);
    for (size_t j = 0; j < a->n; j++) {
      if (j == i) continue;
      double d[3];
      for (int c = 0; c < 3; c++) d[c] = a->x[j][c] - a->x[i][c];
      if (anyp) {
        double f[3];
        for (int c = 0; c < 3; c++) f[c] = d[0] * inv[0][c] + d[1] * inv[1][c] + d[2] * inv[2][c];
        for (int c = 0; c < 3; c++)
          if (a->pbc[c]) f[c] -= nearbyint(f[c]);
        for (int c = 0; c < 3; c++)
          d[c] = f[0] * a->cell[0][c] + f[1] * a->cell[1][c] + f[2] * a->cell[2][c];
      }
      double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
      if (r > 0 && r < best) best = r;
    }
  }
  if (!isfinite(best) || best <= 0)
    return KILN_FAIL(err, KILN_EINVAL, "lattice: cannot find a nearest-neighbour distance "
                     "(%zu sites; sites must not coincide)", a->n);
  *dmin = best;
  return KILN_OK;
}

static double entry_dist(const kiln_neigh *nl, size_t i, int32_t j) {
  double d[3];
  for (int c = 0; c < 3; c++) d[c] = nl->xe[j][c] - nl->xe[i][c];
  return sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
}

static kiln_status build_triangles(kiln_lattice *m, kiln_error *err) {
  const size_t n = m->n;
  m->toff = calloc(n + 1, sizeof *m->toff);
  if (!m->toff) return KILN_FAIL(err, KILN_ENOMEM, "lattice: out of memory (triangles)");
  size_t cap = 0, cnt = 0;
  for (int pass = 0; pass < 2; pass++) {
    cnt = 0;
    for (size_t i = 0; i < n; i++) {
      if (pass) m->toff[i] = cnt;
      const size_t o = m->off[0][i], z = m->off[0][i + 1] - o;
      const int32_t *nb = m->nb[0] + o;
      for (size_t p = 0; p < z; p++)
        for (size_t q = p + 1; q < z; q++) {
          int32_t j = nb[p], l = nb[q];
          if (j == l) continue;
          const int32_t *nj = m->nb[0] + m->off[0][j];
          size_t zj = m->off[0][j + 1] - m->off[0][j];
          int found = 0;
          for (size_t r = 0; r < zj; r++)
            if (nj[r] == l) { found = 1; break; }
          if (!found) continue;
          if (pass) {
            m->tri[2 * cnt] = j;
            m->tri[2 * cnt + 1] = l;
          }
          cnt++;
        }
    }
    if (!pass) {
      cap = cnt;
      m->tri = malloc((2 * cap + 1) * sizeof *m->tri);
      if (!m->tri) return KILN_FAIL(err, KILN_ENOMEM, "lattice: out of memory (triangles)");
    }
  }
  m->toff[n] = cnt;
  m->ntri = cnt / 3;
  return KILN_OK;
}

kiln_status kiln_lattice_new(kiln_lattice **out, const kiln_atoms *a, int nspecies, int nshells,
                             double tol, int triangles, kiln_error *err) {
  *out = NULL;
  if (!a || a->n < 2)
    return KILN_FAIL(err, KILN_EINVAL, "lattice: need at least 2 sites (got %zu)", a ? a->n : 0);
  if (a->n > (size_t)INT32_MAX / 4)
    return KILN_FAIL(err, KILN_ERANGE, "lattice: too many sites (%zu)", a->n);
  if (nspecies < 2 || nspecies > KILN_LATTICE_MAX_SPECIES)
    return KILN_FAIL(err, KILN_EINVAL, "lattice: nspecies must be in 2..%d (got %d)",
                     KILN_LATTICE_MAX_SPECIES, nspecies);
  if (nshells < 1 || nshells > KILN_LATTICE_MAX_SHELLS)
    return KILN_FAIL(err, KILN_EINVAL, "lattice: shells must be in 1..%d (got %d)",
                     KILN_LATTICE_MAX_SHELLS, nshells);
  if (!(tol > 0 && tol < 0.5))
    return KILN_FAIL(err, KILN_EINVAL, "lattice: shell tolerance must be in (0, 0.5) (got %g)", tol);
  double d1 = 0;
  kiln_status st = nearest_scale(a, &d1, err);
  if (st) return st;
  kiln_lattice *m = calloc(1, sizeof *m);
  if (!m) return KILN_FAIL(err, KILN_ENOMEM, "lattice: out of memory");
  m->n = a->n;
  m->ns = nspecies;
  m->nsh = nshells;
  kiln_neigh *nl = NULL;
  double *dist = NULL, centers[KILN_LATTICE_MAX_SHELLS + 1], bound[KILN_LATTICE_MAX_SHELLS];
  double rc = d1 * (1 + 2 * tol) * 1.2;
  int found = 0;
  for (int iter = 0; iter < 14 && !found; iter++, rc *= 1.35) {
    kiln_neigh_free(nl);
    nl = NULL;
    if ((st = kiln_neigh_new(&nl, KILN_NEIGH_FULL, rc, 0.0, err))) goto fail;
    if ((st = kiln_neigh_build(nl, a, err))) goto fail;
    size_t ne = nl->offset[m->n];
    free(dist);
    dist = malloc((ne + 1) * sizeof *dist);
    if (!dist) { st = KILN_FAIL(err, KILN_ENOMEM, "lattice: out of memory"); goto fail; }
    size_t nd = 0;
    for (size_t i = 0; i < m->n; i++)
      for (size_t e = nl->offset[i]; e < nl->offset[i + 1]; e++) {
        double r = entry_dist(nl, i, nl->index[e]);
        if (r < rc) dist[nd++] = r;
      }
    if (nd == 0) continue;
    qsort(dist, nd, sizeof *dist, cmp_double);
    const double gap = tol * dist[0];
    int nc = 0;
    double sum = 0;
    size_t cnt = 0;
    for (size_t e = 0; e <= nd; e++) {
      if (e == nd || (e > 0 && dist[e] - dist[e - 1] > gap)) {
        centers[nc++] = sum / (double)cnt;
        sum = 0;
        cnt = 0;
        if (nc > nshells || e == nd) break;
      }
      sum += dist[e];
      cnt++;
    }
    if (nc > nshells) found = 1;
  }
  if (!found) {
    st = KILN_FAIL(err, KILN_EINVAL,
                   "lattice: found fewer than %d neighbour shells within %g Å (first shell "
                   "%g Å); the site set is too small or too irregular for tol=%g",
                   nshells + 1, rc / 1.35, d1, tol);
    goto fail;
  }
  for (int k = 0; k < nshells; k++) {
    m->dist[k] = centers[k];
    bound[k] = 0.5 * (centers[k] + centers[k + 1]);
  }
  /* tables */
  for (int k = 0; k < nshells; k++) {
    m->off[k] = calloc(m->n + 1, sizeof *m->off[k]);
    if (!m->off[k]) { st = KILN_FAIL(err, KILN_ENOMEM, "lattice: out of memory"); goto fail; }
  }
  for (int pass = 0; pass < 2; pass++) {
    size_t cnt[KILN_LATTICE_MAX_SHELLS] = {0};
    for (size_t i = 0; i < m->n; i++) {
      for (int k = 0; k < nshells; k++) m->off[k][i] = cnt[k];
      for (size_t e = nl->offset[i]; e < nl->offset[i + 1]; e++) {
        int32_t j = nl->index[e];
        double r = entry_dist(nl, i, j);
        int k = 0;
        while (k < nshells && r >= bound[k]) k++;
        if (k == nshells) continue;
        int32_t o = nl->owner[j];
        if ((size_t)o == i) {
          st = KILN_FAIL(err, KILN_EINVAL,
                         "lattice: site %zu is its own neighbour in shell %d (%g Å): the "
                         "periodic cell is too small for %d shells; use a larger supercell",
                         i + 1, k + 1, r, nshells);
          goto fail;
        }
        if (pass) m->nb[k][cnt[k]] = o;
        cnt[k]++;
      }
    }
    for (int k = 0; k < nshells; k++) {
      m->off[k][m->n] = cnt[k];
      if (!pass) {
        m->nb[k] = malloc((cnt[k] + 1) * sizeof *m->nb[k]);
        if (!m->nb[k]) { st = KILN_FAIL(err, KILN_ENOMEM, "lattice: out of memory"); goto fail; }
      }
    }
  }
  for (int k = 0; k < nshells; k++) {
    int z = 0;
    for (size_t i = 0; i < m->n; i++) {
      int c = (int)(m->off[k][i + 1] - m->off[k][i]);
      if (c > z) z = c;
    }
    m->zmax[k] = z;
  }
  if (triangles && (st = build_triangles(m, err))) goto fail;
  m->has_tri = triangles != 0;
  kiln_neigh_free(nl);
  free(dist);
  *out = m;
  return KILN_OK;
fail:
  kiln_neigh_free(nl);
  free(dist);
  kiln_lattice_free(m);
  return st;
}

/* ---- interactions ----------------------------------------------------- */

static int bad_species(const kiln_lattice *m, int a) { return a < 0 || a >= m->ns; }

kiln_status kiln_lattice_set_pair(kiln_lattice *m, int k, int a, int b, double J, kiln_error *err) {
  if (k < 0 || k >= m->nsh)
    return KILN_FAIL(err, KILN_EINVAL, "lattice: shell %d out of range 1..%d", k + 1, m->nsh);
  if (bad_species(m, a) || bad_species(m, b))
    return KILN_FAIL(err, KILN_EINVAL, "lattice: species %d or %d out of range 1..%d", a + 1,
                     b + 1, m->ns);
  if (!isfinite(J)) return KILN_FAIL(err, KILN_EINVAL, "lattice: pair energy is not finite");
  m->V[k][a][b] = m->V[k][b][a] = J;
  int nz = 0;
  for (int x = 0; x < m->ns; x++)
    for (int y = 0; y < m->ns; y++) nz |= m->V[k][x][y] != 0;
  m->vnz[k] = nz;
  return KILN_OK;
}

kiln_status kiln_lattice_set_triplet(kiln_lattice *m, int a, int b, int c, double K,
                                     kiln_error *err) {
  if (!m->has_tri)
    return KILN_FAIL(err, KILN_ESTATE, "lattice: the model was built without triangles");
  if (bad_species(m, a) || bad_species(m, b) || bad_species(m, c))
    return KILN_FAIL(err, KILN_EINVAL, "lattice: triplet species out of range 1..%d", m->ns);
  if (!isfinite(K)) return KILN_FAIL(err, KILN_EINVAL, "lattice: triplet energy is not finite");
  int s[3] = {a, b, c};
  static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (int p = 0; p < 6; p++) m->K[s[perm[p][0]]][s[perm[p][1]]][s[perm[p][2]]] = K;
  int nz = 0;
  for (int x = 0; x < m->ns; x++)
    for (int y = 0; y < m->ns; y++)
      for (int z = 0; z < m->ns; z++) nz |= m->K[x][y][z] != 0;
  m->knz = nz;
  return KILN_OK;
}

kiln_status kiln_lattice_set_mu(kiln_lattice *m, int a, double mu, kiln_error *err) {
  if (bad_species(m, a))
    return KILN_FAIL(err, KILN_EINVAL, "lattice: species %d out of range 1..%d", a + 1, m->ns);
  if (!isfinite(mu)) return KILN_FAIL(err, KILN_EINVAL, "lattice: mu is not finite");
  m->mu[a] = mu;
  return KILN_OK;
}

double kiln_lattice_get_pair(const kiln_lattice *m, int k, int a, int b) {
  if (k < 0 || k >= m->nsh || bad_species(m, a) || bad_species(m, b)) return 0.0;
  return m->V[k][a][b];
}
double kiln_lattice_get_mu(const kiln_lattice *m, int a) { return bad_species(m, a) ? 0.0 : m->mu[a]; }

/* ---- energies ---------------------------------------------------------- */

kiln_status kiln_lattice_check_occ(const kiln_lattice *m, const int32_t *occ, kiln_error *err) {
  for (size_t i = 0; i < m->n; i++)
    if (occ[i] < 0 || occ[i] >= m->ns)
      return KILN_FAIL(err, KILN_EINVAL, "lattice: site %zu has species %d (must be 1..%d)", i + 1,
                       (int)occ[i] + 1, m->ns);
  return KILN_OK;
}

double kiln_lattice_energy(const kiln_lattice *m, const int32_t *occ) {
  double e2 = 0, e3 = 0;
  for (int k = 0; k < m->nsh; k++) {
    if (!m->vnz[k]) continue;
    const size_t *off = m->off[k];
    const int32_t *nb = m->nb[k];
    for (size_t i = 0; i < m->n; i++) {
      const double *Vi = m->V[k][occ[i]];
      for (size_t e = off[i]; e < off[i + 1]; e++) e2 += Vi[occ[nb[e]]];
    }
  }
  if (m->has_tri && m->knz)
    for (size_t i = 0; i < m->n; i++)
      for (size_t t = m->toff[i]; t < m->toff[i + 1]; t++)
        e3 += m->K[occ[i]][occ[m->tri[2 * t]]][occ[m->tri[2 * t + 1]]];
  return 0.5 * e2 + e3 / 3.0;
}

double kiln_lattice_flip_delta(const kiln_lattice *m, const int32_t *occ, size_t i, int b) {
  const int a = occ[i];
  if (a == b) return 0.0;
  double d = 0;
  for (int k = 0; k < m->nsh; k++) {
    if (!m->vnz[k]) continue;
    const double *Va = m->V[k][a], *Vb = m->V[k][b];
    const int32_t *nb = m->nb[k];
    for (size_t e = m->off[k][i]; e < m->off[k][i + 1]; e++) {
      const int s = occ[nb[e]];
      d += Vb[s] - Va[s];
    }
  }
  if (m->has_tri && m->knz)
    for (size_t t = m->toff[i]; t < m->toff[i + 1]; t++) {
      const int sj = occ[m->tri[2 * t]], sl = occ[m->tri[2 * t + 1]];
      d += m->K[b][sj][sl] - m->K[a][sj][sl];
    }
  return d;
}

double kiln_lattice_swap_delta(const kiln_lattice *m, int32_t *occ, size_t i, size_t j) {
  const int a = occ[i], b = occ[j];
  if (a == b || i == j) return 0.0;
  double d = kiln_lattice_flip_delta(m, occ, i, b);
  occ[i] = b;
  d += kiln_lattice_flip_delta(m, occ, j, a);
  occ[i] = a;
  return d;
}

void kiln_lattice_bond_counts(const kiln_lattice *m, const int32_t *occ, double *c, double *t) {
  const int ns = m->ns;
  memset(c, 0, (size_t)m->nsh * ns * ns * sizeof *c);
  for (int k = 0; k < m->nsh; k++) {
    double *ck = c + (size_t)k * ns * ns;
    const int32_t *nb = m->nb[k];
    for (size_t i = 0; i < m->n; i++) {
      double *ci = ck + (size_t)occ[i] * ns;
      for (size_t e = m->off[k][i]; e < m->off[k][i + 1]; e++) ci[occ[nb[e]]] += 0.5;
    }
  }
  if (t) {
    memset(t, 0, (size_t)ns * ns * ns * sizeof *t);
    if (m->has_tri)
      for (size_t i = 0; i < m->n; i++)
        for (size_t q = m->toff[i]; q < m->toff[i + 1]; q++)
          t[((size_t)occ[i] * ns + occ[m->tri[2 * q]]) * ns + occ[m->tri[2 * q + 1]]] += 1.0 / 3.0;
  }
}
