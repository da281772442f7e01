/* src/core/neigh.c: Verlet neighbor lists with ghost images (see kiln/neigh.h).
 *
 * Build outline (O(N)):
 *  1. A binning basis B: the cell rows for periodic directions, an orthonormal
 *     completion for the others (so 0-, 1- and 2-periodic systems with a zero or
 *     skewed cell vector are handled alike). Fractional coordinates s = x B^-1.
 *  2. Local atoms are wrapped to 0 <= s < 1 along periodic directions; the shift
 *     goes to img[i]. Ghost images are added for every lattice shift t with
 *     -rc/h <= s + t < 1 + rc/h (h: perpendicular height), as many layers as
 *     rc/h needs, so cells thinner than the cutoff are exact.
 *  3. Local atoms are counting-sorted into bins no thinner than rc/REACH and
 *     each extended atom j queries the (2*REACH+1)^3 stencil of local atoms i
 *     around it. Pairs of two local atoms are found once (i < j), ghost pairs
 *     once from the ghost side. The pairs are kept j-major, then scattered into
 *     the i-major CSR rows; scanning j in increasing order leaves every row
 *     sorted by index without any sort. A second scatter adds the mirrored
 *     local pairs of the full list, again in increasing order.
 * rc = cutoff + skin throughout. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/neigh.h"

#define REACH 2                 /* stencil half-width in bins (bins >= rc/REACH thick) */
#define MARGIN 1e-8             /* relative safety margin on bin and ghost-slab widths */

typedef struct {
  int valid;
  size_t n;
  unsigned generation;
  int pbc[3];
  double cell[3][3];
  size_t cap_loc;             /* xref, lbin, cnt_h, cnt_r, lpos, nhalf, offset(+1), binatom */
  double (*xref)[3];          /* positions at the last build */
  double (*xb)[3];            /* local positions in bin order (pair search) */
  int32_t *lbin;              /* bin of each local atom */
  int32_t *binatom;           /* local atoms sorted by bin (ascending index within a bin) */
  size_t *cnt_h, *cnt_r;      /* per-row half / rest counts */
  size_t cap_ext;             /* xe, owner, img, s, toff(+1) */
  double (*s)[3];             /* fractional coordinates of extended atoms (basis B) */
  size_t *toff;               /* j-major pair offsets */
  size_t cap_tmp;
  int32_t *tidx;              /* j-major pairs: local i (or ~i for a non-half ghost pair) */
  size_t cap_index;
  size_t cap_bins;
  size_t *binstart;           /* nbins+1 */
  int nthr;                   /* threaded search: per-thread pair buffers */
  int32_t **tbuf;
  size_t *tcap;
  size_t cap_chunk;           /* chunk bookkeeping */
  size_t *cstart, *clen;
  int *cthr;
} priv_t;

/* the bin grid of one build, shared by the search threads */
typedef struct {
  long nb[3];
  double lo[3], wid[3];
  double rc2;
  int full;
} grid_t;

static size_t newcap_for(size_t cap, size_t need) {
  size_t c = cap ? cap : 64;
  while (c < need) c += c / 2 + 16;
  return c;
}

/* realloc p to c elements (at least 1); evaluates to 0 on success, -1 on failure */
#define GROW(p, c) (tmp_ = realloc((p), ((c) ? (c) : 1) * sizeof *(p)), tmp_ ? ((p) = tmp_, 0) : -1)

static kiln_status ensure_loc(kiln_neigh *nl, priv_t *p, size_t n, kiln_error *err) {
  if (n <= p->cap_loc && p->xref) return KILN_OK;
  void *tmp_;
  size_t c = newcap_for(p->cap_loc, n);
  if (GROW(p->xref, c) || GROW(p->xb, c) ||
      GROW(p->lbin, c) ||
      GROW(p->binatom, c) ||
      GROW(p->cnt_h, c) ||
      GROW(p->cnt_r, c) ||
      GROW(nl->offset, c + 1) ||
      GROW(nl->nhalf, c))
    return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory for %zu atoms", n);
  p->cap_loc = c;
  return KILN_OK;
}

static kiln_status ensure_ext(kiln_neigh *nl, priv_t *p, size_t need, kiln_error *err) {
  if (need <= p->cap_ext && nl->xe) return KILN_OK;
  void *tmp_;
  size_t c = newcap_for(p->cap_ext, need);
  if (c > (size_t)INT32_MAX)
    return KILN_FAIL(err, KILN_ERANGE,
                     "neighbor list: %zu extended atoms (local + ghost images) exceed the "
                     "32-bit index range; the cell is too small for the cutoff", need);
  if (GROW(nl->xe, c) ||
      GROW(nl->owner, c) ||
      GROW(nl->img, c) ||
      GROW(p->s, c) ||
      GROW(p->toff, c + 1))
    return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory for %zu ghost atoms", need);
  p->cap_ext = c;
  return KILN_OK;
}

static kiln_status ensure_tmp(priv_t *p, size_t need, kiln_error *err) {
  if (need <= p->cap_tmp && p->tidx) return KILN_OK;
  void *tmp_;
  size_t c = newcap_for(p->cap_tmp, need);
  if (GROW(p->tidx, c))
    return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory for %zu pairs", need);
  p->cap_tmp = c;
  return KILN_OK;
}

kiln_status kiln_neigh_new(kiln_neigh **out, int kind, double cutoff, double skin,
                           kiln_error *err) {
  *out = NULL;
  if (kind != KILN_NEIGH_HALF && kind != KILN_NEIGH_FULL)
    return KILN_FAIL(err, KILN_EINVAL, "neighbor list kind must be HALF (1) or FULL (2), got %d",
                     kind);
  if (!(cutoff > 0) || !isfinite(cutoff))
    return KILN_FAIL(err, KILN_EINVAL, "neighbor list cutoff must be positive (got %g)", cutoff);
  if (!(skin >= 0) || !isfinite(skin))
    return KILN_FAIL(err, KILN_EINVAL, "neighbor list skin must be >= 0 (got %g)", skin);
  kiln_neigh *nl = calloc(1, sizeof *nl);
  priv_t *p = calloc(1, sizeof *p);
  if (!nl || !p) {
    free(nl);
    free(p);
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory creating a neighbor list");
  }
  nl->kind = kind;
  nl->cutoff = cutoff;
  nl->skin = skin;
  nl->priv = p;
  *out = nl;
  return KILN_OK;
}

void kiln_neigh_free(kiln_neigh *nl) {
  if (!nl) return;
  priv_t *p = nl->priv;
  if (p) {
    free(p->xref);
    free(p->xb);
    free(p->lbin);
    free(p->binatom);
    free(p->cnt_h);
    free(p->cnt_r);
    free(p->s);
    free(p->toff);
    free(p->tidx);
    free(p->binstart);
    for (int t = 0; t < p->nthr; t++) free(p->tbuf[t]);
    free(p->tbuf);
    free(p->tcap);
    free(p->cstart);
    free(p->clen);
    free(p->cthr);
    free(p);
  }
  free(nl->xe);
  free(nl->owner);
  free(nl->img);
  free(nl->offset);
  free(nl->index);
  free(nl->nhalf);
  free(nl);
}

void kiln_neigh_invalidate(kiln_neigh *nl) {
  if (nl && nl->priv) ((priv_t *)nl->priv)->valid = 0;
}

/* ---- geometry ---------------------------------------------------------- */

static void cross(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}
static double dot(const double a[3], const double b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
static double norm(const double a[3]) { return sqrt(dot(a, a)); }

/* Binning basis: periodic rows from the cell, the rest an orthonormal completion.
 * Fills B, its inverse (s = x * Binv) and the perpendicular heights. */
static kiln_status basis(const kiln_atoms *a, double B[3][3], double Binv[3][3], double h[3],
                         kiln_error *err) {
  int per[3], np = 0;
  for (int d = 0; d < 3; d++) {
    per[d] = a->pbc[d] != 0;
    np += per[d];
    if (per[d]) {
      for (int c = 0; c < 3; c++) {
        if (!isfinite(a->cell[d][c]))
          return KILN_FAIL(err, KILN_EINVAL, "neighbor list: cell vector %d is not finite", d + 1);
        B[d][c] = a->cell[d][c];
      }
      if (norm(B[d]) == 0)
        return KILN_FAIL(err, KILN_EINVAL,
                         "neighbor list: cell vector %d is zero but direction %d is periodic",
                         d + 1, d + 1);
    }
  }
  if (np == 0) {
    for (int d = 0; d < 3; d++)
      for (int c = 0; c < 3; c++) B[d][c] = d == c;
  } else if (np == 1) {
    int pd = per[0] ? 0 : per[1] ? 1 : 2;
    const double *v = B[pd];
    int ax = 0; /* axis least aligned with v */
    for (int c = 1; c < 3; c++)
      if (fabs(v[c]) < fabs(v[ax])) ax = c;
    double e[3] = {0, 0, 0}, u[3], w[3];
    e[ax] = 1;
    cross(v, e, u);
    double nu = norm(u);
    for (int c = 0; c < 3; c++) u[c] /= nu;
    cross(v, u, w);
    double nw = norm(w);
    for (int c = 0; c < 3; c++) w[c] /= nw;
    int d1 = (pd + 1) % 3, d2 = (pd + 2) % 3;
    for (int c = 0; c < 3; c++) {
      B[d1][c] = u[c];
      B[d2][c] = w[c];
    }
  } else if (np == 2) {
    int nd = !per[0] ? 0 : !per[1] ? 1 : 2;
    double u[3];
    cross(B[(nd + 1) % 3], B[(nd + 2) % 3], u);
    double nu = norm(u);
    if (nu == 0)
      return KILN_FAIL(err, KILN_EINVAL,
                       "neighbor list: the two periodic cell vectors are parallel");
    for (int c = 0; c < 3; c++) B[nd][c] = u[c] / nu;
  }
  double c12[3], c20[3], c01[3];
  cross(B[1], B[2], c12);
  cross(B[2], B[0], c20);
  cross(B[0], B[1], c01);
  double det = dot(B[0], c12);
  double scale = norm(B[0]) * norm(B[1]) * norm(B[2]);
  if (!(fabs(det) > 1e-12 * scale))
    return KILN_FAIL(err, KILN_EINVAL,
                     "neighbor list: the cell is degenerate (volume %g A^3) along its periodic "
                     "directions", det);
  for (int c = 0; c < 3; c++) {
    Binv[c][0] = c12[c] / det;
    Binv[c][1] = c20[c] / det;
    Binv[c][2] = c01[c] / det;
  }
  h[0] = fabs(det) / norm(c12);
  h[1] = fabs(det) / norm(c20);
  h[2] = fabs(det) / norm(c01);
  return KILN_OK;
}

static inline void ext_pos(const kiln_atoms *a, size_t o, const int32_t im[3], double out[3]) {
  const double *x = a->x[o];
  for (int c = 0; c < 3; c++)
    out[c] = x[c] + (double)im[0] * a->cell[0][c] + (double)im[1] * a->cell[1][c] +
             (double)im[2] * a->cell[2][c];
}

/* half-list criterion for local i and extended j (with i != j as atoms) */
static inline int is_half(const kiln_neigh *nl, int32_t i, int32_t j) {
  int32_t o = nl->owner[j];
  if (i != o) return i < o;
  for (int c = 0; c < 3; c++) {
    int32_t d = nl->img[j][c] - nl->img[i][c];
    if (d != 0) return d > 0;
  }
  return 0;
}

/* Pair search for the extended atoms jb..je-1, j-major: appends to *buf (capacity *cap,
 * grown with realloc) from *used on, sets toff[j] to the buffer offsets. For local j:
 * local i < j. For ghost j: every local i for a full list (non-half pairs stored as ~i),
 * only the half-criterion ones for a half list. Candidates come from contiguous runs of
 * bins along the first axis, read sequentially from the bin-ordered copy xb, and the
 * append is branch-free. Returns 0, or -1 when out of memory. */
static int search(const kiln_neigh *nl, priv_t *p, const grid_t *g, size_t jb, size_t je,
                  int32_t **buf, size_t *cap, size_t *used) {
  const size_t n = nl->n;
  const long *nb = g->nb;
  const double *lo = g->lo, *wid = g->wid;
  const double rc2 = g->rc2;
  const int full = g->full;
  size_t np = *used;
  const int32_t *owner = nl->owner;
  const double(*xe)[3] = (const double(*)[3])nl->xe;
  const double(*xb)[3] = (const double(*)[3])p->xb;
  const int32_t *binatom = p->binatom;
  const size_t *binstart = p->binstart;
  for (size_t j = jb; j < je; j++) {
    p->toff[j] = np;
    const double *sj = p->s[j];
    long b0[3], b1[3];
    int empty = 0;
    for (int d = 0; d < 3; d++) {
      if (nb[d] == 1) {
        b0[d] = 0;
        b1[d] = 0;
        continue;
      }
      double q = floor((sj[d] - lo[d]) / wid[d]);
      if (q < -REACH - 1) q = -REACH - 1;
      if (q > (double)nb[d] + REACH) q = (double)nb[d] + REACH;
      long c = (long)q;
      b0[d] = c - REACH < 0 ? 0 : c - REACH;
      b1[d] = c + REACH >= nb[d] ? nb[d] - 1 : c + REACH;
      if (b0[d] > b1[d]) empty = 1;
    }
    if (empty) continue;
    const int jlocal = j < n;
    const int32_t oj = owner[j];
    /* a ghost of i itself is a half pair when its relative image is lexicographically > 0 */
    const int selfhalf = !jlocal && is_half(nl, oj, (int32_t)j);
    const double xj = xe[j][0], yj = xe[j][1], zj = xe[j][2];
    /* this query appends at most n entries (+1 scratch slot for the branch-free write) */
    if (np + n + 1 > *cap) {
      size_t c = newcap_for(*cap, np + n + 1);
      int32_t *q = realloc(*buf, c * sizeof *q);
      if (!q) return -1;
      *buf = q;
      *cap = c;
    }
    int32_t *tidx = *buf;
    for (long c2 = b0[2]; c2 <= b1[2]; c2++)
      for (long c1 = b0[1]; c1 <= b1[1]; c1++) {
        size_t rowb = (size_t)(nb[0] * (c1 + nb[1] * c2));
        size_t qb = binstart[rowb + (size_t)b0[0]], qe = binstart[rowb + (size_t)b1[0] + 1];
        if (jlocal) {
          const int32_t jj = (int32_t)j;
          for (size_t q = qb; q < qe; q++) {
            double dx = xb[q][0] - xj, dy = xb[q][1] - yj, dz = xb[q][2] - zj;
            int32_t i = binatom[q];
            tidx[np] = i;
            np += (dx * dx + dy * dy + dz * dz < rc2) & (i < jj);
          }
        } else {
          for (size_t q = qb; q < qe; q++) {
            double dx = xb[q][0] - xj, dy = xb[q][1] - yj, dz = xb[q][2] - zj;
            int32_t i = binatom[q];
            int hf = (i < oj) | ((i == oj) & selfhalf);
            tidx[np] = hf ? i : ~i;
            np += (dx * dx + dy * dy + dz * dz < rc2) & (hf | full);
          }
        }
      }
  }
  *used = np;
  return 0;
}

/* The search over all extended atoms into p->tidx / p->toff (toff[ne] = pair count). With
 * several OpenMP threads, chunks of j go to per-thread buffers and are concatenated in
 * order, so the result is identical for any thread count. */
static kiln_status search_all(kiln_neigh *nl, priv_t *p, const grid_t *g, size_t ne,
                              kiln_error *err) {
  int T = omp_get_max_threads();
  if (T < 1 || ne < 4096 || omp_in_parallel()) T = 1;
  if (T == 1) {
    size_t used = 0;
    if (search(nl, p, g, 0, ne, &p->tidx, &p->cap_tmp, &used))
      return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory for the pair search");
    p->toff[ne] = used;
    return KILN_OK;
  }
  if (T > p->nthr) {
    int32_t **tb = realloc(p->tbuf, (size_t)T * sizeof *tb);
    if (tb) p->tbuf = tb;
    size_t *tc = realloc(p->tcap, (size_t)T * sizeof *tc);
    if (tc) p->tcap = tc;
    if (!tb || !tc) return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory");
    for (int t = p->nthr; t < T; t++) {
      p->tbuf[t] = NULL;
      p->tcap[t] = 0;
    }
    p->nthr = T;
  }
  size_t nchunk = (size_t)T * 16;
  if (nchunk > p->cap_chunk) {
    void *tmp_;
    if (GROW(p->cstart, nchunk) || GROW(p->clen, nchunk) || GROW(p->cthr, nchunk))
      return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory");
    p->cap_chunk = nchunk;
  }
  int fail = 0;
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num();
    size_t used = 0;
#pragma omp for schedule(dynamic, 1)
    for (size_t c = 0; c < nchunk; c++) {
      size_t jb = ne * c / nchunk, je = ne * (c + 1) / nchunk;
      p->cstart[c] = used;
      p->cthr[c] = t;
      if (search(nl, p, g, jb, je, &p->tbuf[t], &p->tcap[t], &used)) {
#pragma omp atomic write
        fail = 1;
      }
      p->clen[c] = used - p->cstart[c];
    }
  }
  if (fail) return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory for the pair search");
  size_t tot = 0;
  for (size_t c = 0; c < nchunk; c++) tot += p->clen[c];
  kiln_status st = ensure_tmp(p, tot + 1, err);
  if (st) return st;
  size_t base = 0;
  for (size_t c = 0; c < nchunk; c++) {
    size_t jb = ne * c / nchunk, je = ne * (c + 1) / nchunk;
    memcpy(p->tidx + base, p->tbuf[p->cthr[c]] + p->cstart[c], p->clen[c] * sizeof *p->tidx);
    for (size_t j = jb; j < je; j++) p->toff[j] = p->toff[j] - p->cstart[c] + base;
    base += p->clen[c];
  }
  p->toff[ne] = base;
  return KILN_OK;
}

/* ---- build ------------------------------------------------------------- */

kiln_status kiln_neigh_build(kiln_neigh *nl, const kiln_atoms *a, kiln_error *err) {
  priv_t *p = nl->priv;
  const size_t n = a->n;
  const double rc = nl->cutoff + nl->skin, rc2 = rc * rc;
  const int full = nl->kind == KILN_NEIGH_FULL;
  kiln_status st;
  p->valid = 0;
  if (n > (size_t)INT32_MAX / 2)
    return KILN_FAIL(err, KILN_ERANGE, "neighbor list: too many atoms (%zu)", n);
  if ((st = ensure_loc(nl, p, n, err))) return st;
  if ((st = ensure_ext(nl, p, n, err))) return st;
  double B[3][3], Binv[3][3], h[3];
  if ((st = basis(a, B, Binv, h, err))) return st;
  int per[3] = {a->pbc[0] != 0, a->pbc[1] != 0, a->pbc[2] != 0};

  /* 1. wrap local atoms */
  for (size_t i = 0; i < n; i++) {
    const double *x = a->x[i];
    if (!isfinite(x[0]) || !isfinite(x[1]) || !isfinite(x[2]))
      return KILN_FAIL(err, KILN_EDOM, "neighbor list: atom %zu has a non-finite position", i + 1);
    double *s = p->s[i];
    for (int d = 0; d < 3; d++) {
      s[d] = x[0] * Binv[0][d] + x[1] * Binv[1][d] + x[2] * Binv[2][d];
      nl->img[i][d] = 0;
      if (per[d]) {
        double f = floor(s[d]);
        double w = s[d] - f;
        if (w >= 1.0) { w = 0.0; f += 1.0; }
        if (fabs(f) > 1e9)
          return KILN_FAIL(err, KILN_ERANGE,
                           "neighbor list: atom %zu is %g cells away from the cell", i + 1, f);
        s[d] = w;
        nl->img[i][d] = -(int32_t)f;
      }
    }
    nl->owner[i] = (int32_t)i;
    ext_pos(a, i, nl->img[i], nl->xe[i]);
    memcpy(p->xref[i], x, sizeof p->xref[i]);
  }

  /* 2. ghost images */
  int m[3];
  double pad[3];
  for (int d = 0; d < 3; d++) {
    pad[d] = per[d] ? rc / h[d] * (1 + MARGIN) : 0;
    m[d] = per[d] ? (int)ceil(pad[d]) : 0;
  }
  double est = (double)n * (1 + 2 * pad[0]) * (1 + 2 * pad[1]) * (1 + 2 * pad[2]);
  if (est > 1.5e9)
    return KILN_FAIL(err, KILN_ERANGE,
                     "neighbor list: about %.3g ghost images would be needed for cutoff+skin "
                     "%g A in a cell with heights %g, %g, %g A; use a supercell", est, rc,
                     h[0], h[1], h[2]);
  size_t ne = n;
  for (int t2 = -m[2]; t2 <= m[2]; t2++)
    for (int t1 = -m[1]; t1 <= m[1]; t1++)
      for (int t0 = -m[0]; t0 <= m[0]; t0++) {
        if (!t0 && !t1 && !t2) continue;
        const int t[3] = {t0, t1, t2};
        for (size_t i = 0; i < n; i++) {
          const double *si = p->s[i];
          double u0 = si[0] + t0, u1 = si[1] + t1, u2 = si[2] + t2;
          if ((t0 && (u0 < -pad[0] || u0 >= 1 + pad[0])) ||
              (t1 && (u1 < -pad[1] || u1 >= 1 + pad[1])) ||
              (t2 && (u2 < -pad[2] || u2 >= 1 + pad[2])))
            continue;
          if (ne >= p->cap_ext && (st = ensure_ext(nl, p, ne + 1, err))) return st;
          nl->owner[ne] = (int32_t)i;
          for (int d = 0; d < 3; d++) nl->img[ne][d] = nl->img[i][d] + t[d];
          p->s[ne][0] = u0;
          p->s[ne][1] = u1;
          p->s[ne][2] = u2;
          ext_pos(a, i, nl->img[ne], nl->xe[ne]);
          ne++;
        }
      }
  nl->n = n;
  nl->ng = ne - n;

  /* 3. bins over the local atoms */
  double lo[3], wid[3];
  long nb[3];
  for (int d = 0; d < 3; d++) {
    double l0 = 0, l1 = 1;
    if (!per[d]) {
      l0 = HUGE_VAL;
      l1 = -HUGE_VAL;
      for (size_t i = 0; i < n; i++) {
        if (p->s[i][d] < l0) l0 = p->s[i][d];
        if (p->s[i][d] > l1) l1 = p->s[i][d];
      }
      if (n == 0) l0 = l1 = 0;
    }
    double thick = (l1 - l0) * h[d];
    double want = rc * (1 + MARGIN) / REACH;
    double q = thick / want;
    nb[d] = q >= 1 && !nl->force_n2 ? (long)(q < 1e6 ? q : 1e6) : 1;
    lo[d] = l0;
    wid[d] = nb[d] > 1 ? (l1 - l0) / (double)nb[d] : 1.0;
    if (nb[d] > 1 && !per[d]) {
      /* the top edge belongs to the last bin: widen a hair */
      wid[d] = (l1 - l0) * (1 + 1e-12) / (double)nb[d];
    }
  }
  /* keep the bin count O(n) */
  size_t maxbins = 2 * n + 64;
  while ((size_t)nb[0] * (size_t)nb[1] * (size_t)nb[2] > maxbins) {
    int d = nb[0] >= nb[1] && nb[0] >= nb[2] ? 0 : nb[1] >= nb[2] ? 1 : 2;
    double span = wid[d] * (double)nb[d];
    nb[d] = nb[d] / 2 > 1 ? nb[d] / 2 : 1;
    wid[d] = nb[d] > 1 ? span / (double)nb[d] : 1.0;
  }
  size_t nbins = (size_t)nb[0] * (size_t)nb[1] * (size_t)nb[2];
  if (nbins + 1 > p->cap_bins || !p->binstart) {
    void *tmp_;
    size_t c = newcap_for(p->cap_bins, nbins + 1);
    if (GROW(p->binstart, c))
      return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory for %zu bins", nbins);
    p->cap_bins = c;
  }
  memset(p->binstart, 0, (nbins + 1) * sizeof *p->binstart);
  for (size_t i = 0; i < n; i++) {
    long b[3];
    for (int d = 0; d < 3; d++) {
      b[d] = nb[d] > 1 ? (long)floor((p->s[i][d] - lo[d]) / wid[d]) : 0;
      if (b[d] < 0) b[d] = 0;
      if (b[d] >= nb[d]) b[d] = nb[d] - 1;
    }
    int32_t id = (int32_t)(b[0] + nb[0] * (b[1] + nb[1] * b[2]));
    p->lbin[i] = id;
    p->binstart[id + 1]++;
  }
  for (size_t b = 0; b < nbins; b++) p->binstart[b + 1] += p->binstart[b];
  /* counting sort, with toff as the per-bin cursor (nbins may exceed n + ng) */
  if (nbins > p->cap_ext && (st = ensure_ext(nl, p, nbins, err))) return st;
  memcpy(p->toff, p->binstart, nbins * sizeof *p->toff);
  for (size_t i = 0; i < n; i++) p->binatom[p->toff[p->lbin[i]]++] = (int32_t)i;

  /* 4. pair search, j-major. For local j: local i < j. For ghost j: every local i for a
   * full list (non-half pairs stored as ~i), only the half-criterion ones for a half list.
   * Candidates come from contiguous runs of bins along the first axis; the positions are
   * copied in bin order so the run is read sequentially, and the append is branch-free. */
  for (size_t q = 0; q < n; q++) memcpy(p->xb[q], nl->xe[p->binatom[q]], sizeof p->xb[q]);
  grid_t g = {{nb[0], nb[1], nb[2]}, {lo[0], lo[1], lo[2]}, {wid[0], wid[1], wid[2]}, rc2, full};
  if ((st = search_all(nl, p, &g, ne, err))) return st;


  /* counts per row: half entries, and (full) the rest */
  memset(p->cnt_h, 0, n * sizeof *p->cnt_h);
  memset(p->cnt_r, 0, n * sizeof *p->cnt_r);
  for (size_t j = 0; j < ne; j++) {
    size_t q0 = p->toff[j], q1 = p->toff[j + 1];
    if (j < n) {
      p->cnt_r[j] += q1 - q0;
      for (size_t q = q0; q < q1; q++) p->cnt_h[p->tidx[q]]++;
    } else {
      for (size_t q = q0; q < q1; q++) {
        int32_t e = p->tidx[q];
        if (e >= 0) p->cnt_h[e]++;
        else p->cnt_r[~e]++;
      }
    }
  }

  /* 5. offsets and index storage */
  size_t tot = 0;
  for (size_t i = 0; i < n; i++) {
    nl->offset[i] = tot;
    tot += p->cnt_h[i] + (full ? p->cnt_r[i] : 0);
  }
  nl->offset[n] = tot;
  if (tot > p->cap_index || !nl->index) {
    void *tmp_;
    size_t c = newcap_for(p->cap_index, tot);
    if (GROW(nl->index, c))
      return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory for %zu neighbors", tot);
    p->cap_index = c;
  }
  /* cursors: cnt_h -> half cursor, cnt_r -> ghost-rest cursor (after the local-rest block) */
  for (size_t i = 0; i < n; i++) {
    size_t h0 = p->cnt_h[i];
    nl->nhalf[i] = (int32_t)h0; /* also for half lists: the whole row */
    p->cnt_h[i] = nl->offset[i];
    /* the rest block starts with the mirrored local pairs; their number is not known
     * separately, so ghost-rest entries are written from the end of the row backwards
     * in a second step; here cnt_r holds the row end */
    p->cnt_r[i] = nl->offset[i + 1];
  }
  /* 6a. half entries in increasing j: row i gets j */
  for (size_t j = 0; j < ne; j++) {
    for (size_t q = p->toff[j]; q < p->toff[j + 1]; q++) {
      int32_t i = p->tidx[q];
      if (i >= 0) nl->index[p->cnt_h[i]++] = (int32_t)j;
    }
  }
  if (full) {
    /* 6b. ghost-rest entries, written backwards from the row end in decreasing j */
    for (size_t j = ne; j-- > n;) {
      for (size_t q = p->toff[j + 1]; q-- > p->toff[j];) {
        int32_t e = p->tidx[q];
        if (e < 0) {
          int32_t i = ~e;
          nl->index[--p->cnt_r[i]] = (int32_t)j;
        }
      }
    }
    /* 6c. mirrored local pairs: for i ascending, each local j > i in row i's half part
     * gets i in its rest block (which begins right after its half part) */
    for (size_t i = 0; i < n; i++) p->cnt_h[i] = nl->offset[i] + (size_t)nl->nhalf[i];
    for (size_t i = 0; i < n; i++) {
      size_t e = nl->offset[i] + (size_t)nl->nhalf[i];
      for (size_t q = nl->offset[i]; q < e; q++) {
        int32_t j = nl->index[q];
        if ((size_t)j >= n) break; /* ghosts follow the locals in a sorted row */
        nl->index[p->cnt_h[j]++] = (int32_t)i;
      }
    }
  }

  p->valid = 1;
  p->n = n;
  p->generation = a->generation;
  memcpy(p->pbc, a->pbc, sizeof p->pbc);
  memcpy(p->cell, a->cell, sizeof p->cell);
  nl->nbuilds++;
  return KILN_OK;
}

static void refresh(kiln_neigh *nl, const kiln_atoms *a) {
  const size_t ne = nl->n + nl->ng;
  for (size_t k = 0; k < ne; k++) ext_pos(a, (size_t)nl->owner[k], nl->img[k], nl->xe[k]);
}

kiln_status kiln_neigh_update(kiln_neigh *nl, const kiln_atoms *a, int *rebuilt,
                              kiln_error *err) {
  priv_t *p = nl->priv;
  int need = !p->valid || p->n != a->n || p->generation != a->generation ||
             memcmp(p->pbc, a->pbc, sizeof p->pbc) != 0 ||
             memcmp(p->cell, a->cell, sizeof p->cell) != 0;
  if (!need) {
    const double lim = 0.25 * nl->skin * nl->skin;
    const size_t n = a->n;
    for (size_t i = 0; i < n; i++) {
      double dx = a->x[i][0] - p->xref[i][0], dy = a->x[i][1] - p->xref[i][1],
             dz = a->x[i][2] - p->xref[i][2];
      if (!(dx * dx + dy * dy + dz * dz <= lim)) {
        need = 1;
        break;
      }
    }
  }
  if (rebuilt) *rebuilt = need;
  if (need) return kiln_neigh_build(nl, a, err);
  refresh(nl, a);
  return KILN_OK;
}

void kiln_neigh_fold(const kiln_neigh *nl, double *arr, size_t ncols) {
  const size_t n = nl->n, ne = nl->n + nl->ng;
  for (size_t k = n; k < ne; k++) {
    double *dst = arr + (size_t)nl->owner[k] * ncols;
    const double *src = arr + k * ncols;
    for (size_t c = 0; c < ncols; c++) dst[c] += src[c];
  }
}

void kiln_neigh_forward(const kiln_neigh *nl, double *arr, size_t ncols) {
  const size_t n = nl->n, ne = nl->n + nl->ng;
  for (size_t k = n; k < ne; k++)
    memcpy(arr + k * ncols, arr + (size_t)nl->owner[k] * ncols, ncols * sizeof *arr);
}
