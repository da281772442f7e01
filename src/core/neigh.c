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
 *     sorted by index without any sort. The mirrored local pairs of a full list
 *     (row j: its own search result, i < j) are copied and sorted.
 * Threads (above PAR_MIN atoms): the wrap, ghost generation, binning, search and
 * transposition are split into parts whose outputs are placed by prefix counts, so
 * the list is the same for any thread count.
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
  double cell[3][3];          /* reference cell h0 (the cell of the last build) */
  double binv0[3][3];         /* inverse of the binning basis of h0 (s = x binv0) */
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
  size_t cap_tcnt;            /* threaded transposition: per-part row counts / cursors */
  size_t *tcnt;
  size_t cap_gcnt;            /* threaded ghost generation: per-(shift, part) counts */
  size_t *gcnt;
} priv_t;

/* threads worth using for a pass over about work items (1 inside a parallel region) */
#define PAR_MIN 4096
static int nthreads_for(size_t work) {
  if (work < PAR_MIN || omp_in_parallel()) return 1;
  int t = omp_get_max_threads();
  return t < 1 ? 1 : t;
}

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
    free(p->tcnt);
    free(p->gcnt);
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

static inline void ext_pos(const kiln_atoms *a, const double (*xs)[3], size_t o,
                           const int32_t im[3], double out[3]) {
  const double *x = xs[o];
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
  for (size_t c = 0; c < nchunk; c++) { /* chunk c goes to base cstart..., in order */
    size_t l = p->clen[c];
    p->clen[c] = base;
    base += l;
  }
#pragma omp parallel for num_threads(T) schedule(static)
  for (size_t c = 0; c < nchunk; c++) {
    size_t jb = ne * c / nchunk, je = ne * (c + 1) / nchunk;
    size_t b = p->clen[c], cs = p->cstart[c];
    size_t l = (c + 1 < nchunk ? p->clen[c + 1] : base) - b;
    memcpy(p->tidx + b, p->tbuf[p->cthr[c]] + cs, l * sizeof *p->tidx);
    for (size_t j = jb; j < je; j++) p->toff[j] = p->toff[j] - cs + b;
  }
  p->toff[ne] = base;
  return KILN_OK;
}

/* ascending insertion sort of a short run (a few dozen entries, partly ordered) */
static void sort_short(int32_t *v, size_t k) {
  for (size_t a = 1; a < k; a++) {
    int32_t x = v[a];
    size_t b = a;
    while (b > 0 && v[b - 1] > x) {
      v[b] = v[b - 1];
      b--;
    }
    v[b] = x;
  }
}

#define MAXPART 64

/* j-major pairs (tidx, toff) -> i-major CSR rows (offset, nhalf, index). A row holds its
 * half entries in increasing j, then (full) the mirrored local pairs in increasing i and
 * the non-half ghost pairs in increasing j. The extended atoms are split into P parts of
 * about equal pair counts; each part counts its entries per row, the counts become
 * per-part cursors (part c writes after parts < c, so every row stays in increasing
 * order), and the parts scatter independently. The mirrored block of local row j is its
 * own search result, sorted. The result does not depend on P. */
static kiln_status transpose(kiln_neigh *nl, priv_t *p, size_t ne, int full, kiln_error *err) {
  const size_t n = nl->n;
  const size_t *toff = p->toff;
  const int32_t *tidx = p->tidx;
  const size_t npair = toff[ne];
  int P = nthreads_for(npair > n ? npair : n);
  if (P > MAXPART) P = MAXPART;
  size_t jb[MAXPART + 1], psum[MAXPART + 1];
  jb[0] = 0;
  for (int c = 1; c < P; c++) { /* first j with toff[j] >= npair * c / P */
    size_t want = (size_t)((double)npair * c / P), lo = jb[c - 1], hi = ne;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (toff[mid] < want) lo = mid + 1;
      else hi = mid;
    }
    jb[c] = lo;
  }
  jb[P] = ne;
  const size_t need = (size_t)P * n * (full ? 2 : 1);
  if (need > p->cap_tcnt || !p->tcnt) {
    void *tmp_;
    size_t c = newcap_for(p->cap_tcnt, need);
    if (GROW(p->tcnt, c))
      return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory for %zu row counts", need);
    p->cap_tcnt = c;
  }
  size_t *ch = p->tcnt, *cg = full ? p->tcnt + (size_t)P * n : NULL;

  /* counts per part and row: half entries, (full) non-half ghost entries */
#pragma omp parallel for num_threads(P) schedule(static, 1) if (P > 1)
  for (int c = 0; c < P; c++) {
    size_t *h = ch + (size_t)c * n, *g = full ? cg + (size_t)c * n : NULL;
    memset(h, 0, n * sizeof *h);
    if (full) memset(g, 0, n * sizeof *g);
    size_t j = jb[c];
    for (; j < jb[c + 1] && j < n; j++)
      for (size_t q = toff[j]; q < toff[j + 1]; q++) h[tidx[q]]++;
    if (full) {
      for (; j < jb[c + 1]; j++)
        for (size_t q = toff[j]; q < toff[j + 1]; q++) {
          int32_t e = tidx[q];
          if (e >= 0) h[e]++;
          else g[~e]++;
        }
    } else {
      for (; j < jb[c + 1]; j++)
        for (size_t q = toff[j]; q < toff[j + 1]; q++) h[tidx[q]]++;
    }
  }

  /* row lengths (cnt_h), nhalf, then offsets and per-part cursors */
#pragma omp parallel for num_threads(P) schedule(static, 1) if (P > 1)
  for (int c = 0; c < P; c++) {
    size_t ib = n * (size_t)c / (size_t)P, ie = n * (size_t)(c + 1) / (size_t)P, sum = 0;
    for (size_t i = ib; i < ie; i++) {
      size_t nh = 0, len;
      for (int u = 0; u < P; u++) nh += ch[(size_t)u * n + i];
      len = nh;
      if (full) {
        len += toff[i + 1] - toff[i];
        for (int u = 0; u < P; u++) len += cg[(size_t)u * n + i];
      }
      nl->nhalf[i] = (int32_t)nh; /* also for half lists: the whole row */
      p->cnt_h[i] = len;
      sum += len;
    }
    psum[c] = sum;
  }
  size_t tot = 0;
  for (int c = 0; c < P; c++) {
    size_t l = psum[c];
    psum[c] = tot;
    tot += l;
  }
  nl->offset[n] = tot;
  if (tot > p->cap_index || !nl->index) {
    void *tmp_;
    size_t c = newcap_for(p->cap_index, tot);
    if (GROW(nl->index, c))
      return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory for %zu neighbors", tot);
    p->cap_index = c;
  }
#pragma omp parallel for num_threads(P) schedule(static, 1) if (P > 1)
  for (int c = 0; c < P; c++) {
    size_t ib = n * (size_t)c / (size_t)P, ie = n * (size_t)(c + 1) / (size_t)P;
    size_t run = psum[c];
    for (size_t i = ib; i < ie; i++) {
      nl->offset[i] = run;
      size_t cur = run;
      for (int u = 0; u < P; u++) {
        size_t k = ch[(size_t)u * n + i];
        ch[(size_t)u * n + i] = cur;
        cur += k;
      }
      if (full) {
        cur += toff[i + 1] - toff[i];
        for (int u = 0; u < P; u++) {
          size_t k = cg[(size_t)u * n + i];
          cg[(size_t)u * n + i] = cur;
          cur += k;
        }
      }
      run += p->cnt_h[i];
    }
  }

  /* scatter; (full) the mirrored local pairs */
  int32_t *index = nl->index;
#pragma omp parallel num_threads(P) if (P > 1)
  {
#pragma omp for schedule(static, 1)
    for (int c = 0; c < P; c++) {
      size_t *h = ch + (size_t)c * n, *g = full ? cg + (size_t)c * n : NULL;
      size_t j = jb[c];
      for (; j < jb[c + 1] && j < n; j++)
        for (size_t q = toff[j]; q < toff[j + 1]; q++) index[h[tidx[q]]++] = (int32_t)j;
      if (full) {
        for (; j < jb[c + 1]; j++)
          for (size_t q = toff[j]; q < toff[j + 1]; q++) {
            int32_t e = tidx[q];
            if (e >= 0) index[h[e]++] = (int32_t)j;
            else index[g[~e]++] = (int32_t)j;
          }
      } else {
        for (; j < jb[c + 1]; j++)
          for (size_t q = toff[j]; q < toff[j + 1]; q++) index[h[tidx[q]]++] = (int32_t)j;
      }
    }
    if (full) {
#pragma omp for schedule(static)
      for (long jl = 0; jl < (long)n; jl++) {
        size_t j = (size_t)jl, k = toff[j + 1] - toff[j];
        int32_t *dst = index + nl->offset[j] + (size_t)nl->nhalf[j];
        memcpy(dst, tidx + toff[j], k * sizeof *dst);
        sort_short(dst, k);
      }
    }
  }
  return KILN_OK;
}

/* wrap local atom i into the cell along periodic directions (s, img, owner, xe, xref);
 * 1: non-finite position, 2: more than 1e9 cells away (*fout: the cell count) */
static inline int wrap_atom(kiln_neigh *nl, priv_t *p, const kiln_atoms *a, const double (*xs)[3],
                            const double Binv[3][3], const int per[3], size_t i, double *fout) {
  const double *x = xs[i];
  if (!isfinite(x[0]) || !isfinite(x[1]) || !isfinite(x[2])) return 1;
  double *s = p->s[i];
  for (int d = 0; d < 3; d++) {
    s[d] = x[0] * Binv[0][d] + x[1] * Binv[1][d] + x[2] * Binv[2][d];
    nl->img[i][d] = 0;
    if (per[d]) {
      double f = floor(s[d]);
      double w = s[d] - f;
      if (w >= 1.0) { w = 0.0; f += 1.0; }
      if (fabs(f) > 1e9) {
        *fout = f;
        return 2;
      }
      s[d] = w;
      nl->img[i][d] = -(int32_t)f;
    }
  }
  nl->owner[i] = (int32_t)i;
  ext_pos(a, xs, i, nl->img[i], nl->xe[i]);
  memcpy(p->xref[i], x, sizeof p->xref[i]);
  return 0;
}

/* is the image of local atom i shifted by t inside the ghost slab? */
static inline int ghost_in(const double si[3], const int t[3], const double pad[3]) {
  double u0 = si[0] + t[0], u1 = si[1] + t[1], u2 = si[2] + t[2];
  return !((t[0] && (u0 < -pad[0] || u0 >= 1 + pad[0])) ||
           (t[1] && (u1 < -pad[1] || u1 >= 1 + pad[1])) ||
           (t[2] && (u2 < -pad[2] || u2 >= 1 + pad[2])));
}

static inline void put_ghost(kiln_neigh *nl, priv_t *p, const kiln_atoms *a,
                             const double (*xs)[3], size_t i, const int t[3], size_t k) {
  nl->owner[k] = (int32_t)i;
  for (int d = 0; d < 3; d++) {
    nl->img[k][d] = nl->img[i][d] + t[d];
    p->s[k][d] = p->s[i][d] + t[d];
  }
  ext_pos(a, xs, i, nl->img[k], nl->xe[k]);
}

/* per-direction masks of the shifts t (bit t + m[d]) that keep atom i's image in the slab,
 * packed 8 bits per direction (needs 2 m[d] + 1 <= 8) */
static inline uint32_t ghost_mask(const double si[3], const int m[3], const double pad[3]) {
  uint32_t mk = 0;
  for (int d = 0; d < 3; d++)
    for (int t = -m[d]; t <= m[d]; t++) {
      const int tt[3] = {d == 0 ? t : 0, d == 1 ? t : 0, d == 2 ? t : 0};
      if (ghost_in(si, tt, pad)) mk |= 1u << (8 * d + t + m[d]);
    }
  return mk;
}

/* Ghost images, ordered by shift (t2, t1, t0 ascending, the zero shift skipped), then by
 * owner. Whether an image is kept is decided per direction, so masks of the kept shifts
 * (in lbin, free until the binning) are computed once per atom. Threaded: the owners are
 * split into parts, each part counts its images per shift, and the images are written at
 * offsets from those counts, in the same order. */
static kiln_status make_ghosts(kiln_neigh *nl, priv_t *p, const kiln_atoms *a,
                               const double (*xs)[3], const int m[3], const double pad[3],
                               size_t *ne_out, kiln_error *err) {
  const size_t n = a->n;
  const int nsh = (2 * m[0] + 1) * (2 * m[1] + 1) * (2 * m[2] + 1);
  const int use_mask = m[0] <= 3 && m[1] <= 3 && m[2] <= 3;
  uint32_t *mk = (uint32_t *)p->lbin;
  int P = nthreads_for(n);
  kiln_status st;
  if (use_mask) {
#pragma omp parallel for num_threads(P) schedule(static) if (P > 1)
    for (long i = 0; i < (long)n; i++) mk[i] = ghost_mask(p->s[i], m, pad);
  }
#define KEEP(i, t, t0, t1, t2)                                                            \
  (use_mask ? (mk[i] >> ((t0) + m[0]) & mk[i] >> (8 + (t1) + m[1]) &                    \
               mk[i] >> (16 + (t2) + m[2]) & 1u)                                          \
            : (uint32_t)ghost_in(p->s[i], t, pad))
  if (P > 1 && nsh <= 125) {
    size_t need = (size_t)nsh * (size_t)P;
    if (need > p->cap_gcnt || !p->gcnt) {
      void *tmp_;
      if (GROW(p->gcnt, need)) return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory");
      p->cap_gcnt = need;
    }
    size_t *cnt = p->gcnt; /* [shift][part] */
#pragma omp parallel for num_threads(P) schedule(static, 1)
    for (int c = 0; c < P; c++) {
      size_t ib = n * (size_t)c / (size_t)P, ie = n * (size_t)(c + 1) / (size_t)P;
      int sh = 0;
      for (int t2 = -m[2]; t2 <= m[2]; t2++)
        for (int t1 = -m[1]; t1 <= m[1]; t1++)
          for (int t0 = -m[0]; t0 <= m[0]; t0++, sh++) {
            const int t[3] = {t0, t1, t2};
            size_t k = 0;
            if (t0 || t1 || t2)
              for (size_t i = ib; i < ie; i++) k += KEEP(i, t, t0, t1, t2);
            cnt[(size_t)sh * P + c] = k;
          }
    }
    size_t tot = n;
    for (size_t q = 0; q < need; q++) {
      size_t k = cnt[q];
      cnt[q] = tot;
      tot += k;
    }
    if ((st = ensure_ext(nl, p, tot, err))) return st;
#pragma omp parallel for num_threads(P) schedule(static, 1)
    for (int c = 0; c < P; c++) {
      size_t ib = n * (size_t)c / (size_t)P, ie = n * (size_t)(c + 1) / (size_t)P;
      int sh = 0;
      for (int t2 = -m[2]; t2 <= m[2]; t2++)
        for (int t1 = -m[1]; t1 <= m[1]; t1++)
          for (int t0 = -m[0]; t0 <= m[0]; t0++, sh++) {
            const int t[3] = {t0, t1, t2};
            if (!t0 && !t1 && !t2) continue;
            size_t k = cnt[(size_t)sh * P + c];
            for (size_t i = ib; i < ie; i++)
              if (KEEP(i, t, t0, t1, t2)) put_ghost(nl, p, a, xs, i, t, k++);
          }
    }
    *ne_out = tot;
    return KILN_OK;
  }
  size_t ne = n;
  for (int t2 = -m[2]; t2 <= m[2]; t2++)
    for (int t1 = -m[1]; t1 <= m[1]; t1++)
      for (int t0 = -m[0]; t0 <= m[0]; t0++) {
        if (!t0 && !t1 && !t2) continue;
        const int t[3] = {t0, t1, t2};
        for (size_t i = 0; i < n; i++) {
          if (!KEEP(i, t, t0, t1, t2)) continue;
          if (ne >= p->cap_ext && (st = ensure_ext(nl, p, ne + 1, err))) return st;
          put_ghost(nl, p, a, xs, i, t, ne++);
        }
      }
#undef KEEP
  *ne_out = ne;
  return KILN_OK;
}

/* ---- build ------------------------------------------------------------- */

/* The build, with the atoms taken at positions xs (a->x, or saved reference positions). */
static kiln_status build_at(kiln_neigh *nl, const kiln_atoms *a, const double (*xs)[3],
                            kiln_error *err) {
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

  /* 1. wrap local atoms (threaded; an error names the first bad atom) */
  int T = nthreads_for(n);
  int bad = 0;
#pragma omp parallel for num_threads(T) schedule(static) reduction(| : bad) if (T > 1)
  for (long il = 0; il < (long)n; il++) {
    double f;
    if (wrap_atom(nl, p, a, xs, Binv, per, (size_t)il, &f)) bad = 1;
  }
  if (bad)
    for (size_t i = 0; i < n; i++) {
      double f;
      int w = wrap_atom(nl, p, a, xs, Binv, per, i, &f);
      if (w == 1)
        return KILN_FAIL(err, KILN_EDOM, "neighbor list: atom %zu has a non-finite position",
                         i + 1);
      if (w == 2)
        return KILN_FAIL(err, KILN_ERANGE,
                         "neighbor list: atom %zu is %g cells away from the cell", i + 1, f);
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
  if ((st = make_ghosts(nl, p, a, xs, m, pad, &ne, err))) return st;
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
#pragma omp parallel for num_threads(T) schedule(static) if (T > 1)
  for (long il = 0; il < (long)n; il++) {
    size_t i = (size_t)il;
    long b[3];
    for (int d = 0; d < 3; d++) {
      b[d] = nb[d] > 1 ? (long)floor((p->s[i][d] - lo[d]) / wid[d]) : 0;
      if (b[d] < 0) b[d] = 0;
      if (b[d] >= nb[d]) b[d] = nb[d] - 1;
    }
    p->lbin[i] = (int32_t)(b[0] + nb[0] * (b[1] + nb[1] * b[2]));
  }
  for (size_t i = 0; i < n; i++) p->binstart[p->lbin[i] + 1]++;
  for (size_t b = 0; b < nbins; b++) p->binstart[b + 1] += p->binstart[b];
  /* counting sort, with toff as the per-bin cursor (nbins may exceed n + ng) */
  if (nbins > p->cap_ext && (st = ensure_ext(nl, p, nbins, err))) return st;
  memcpy(p->toff, p->binstart, nbins * sizeof *p->toff);
  for (size_t i = 0; i < n; i++) p->binatom[p->toff[p->lbin[i]]++] = (int32_t)i;

  /* 4. pair search, j-major. For local j: local i < j. For ghost j: every local i for a
   * full list (non-half pairs stored as ~i), only the half-criterion ones for a half list.
   * Candidates come from contiguous runs of bins along the first axis; the positions are
   * copied in bin order so the run is read sequentially, and the append is branch-free. */
#pragma omp parallel for num_threads(T) schedule(static) if (T > 1)
  for (long q = 0; q < (long)n; q++) memcpy(p->xb[q], nl->xe[p->binatom[q]], sizeof p->xb[q]);
  grid_t g = {{nb[0], nb[1], nb[2]}, {lo[0], lo[1], lo[2]}, {wid[0], wid[1], wid[2]}, rc2, full};
  if ((st = search_all(nl, p, &g, ne, err))) return st;

  /* 5-6. the i-major CSR rows */
  if ((st = transpose(nl, p, ne, full, err))) return st;

  p->valid = 1;
  p->n = n;
  p->generation = a->generation;
  memcpy(p->pbc, a->pbc, sizeof p->pbc);
  memcpy(p->cell, a->cell, sizeof p->cell);
  memcpy(p->binv0, Binv, sizeof p->binv0);
  nl->nbuilds++;
  return KILN_OK;
}

static void refresh(kiln_neigh *nl, const kiln_atoms *a) {
  const size_t ne = nl->n + nl->ng;
  const int T = nthreads_for(ne);
#pragma omp parallel for num_threads(T) schedule(static) if (T > 1)
  for (long k = 0; k < (long)ne; k++)
    ext_pos(a, (const double(*)[3])a->x, (size_t)nl->owner[k], nl->img[k], nl->xe[k]);
}

kiln_status kiln_neigh_build(kiln_neigh *nl, const kiln_atoms *a, kiln_error *err) {
  return build_at(nl, a, (const double(*)[3])a->x, err);
}

kiln_status kiln_neigh_build_from_cell(kiln_neigh *nl, const kiln_atoms *a,
                                       const double (*xref)[3], const double cell0[3][3],
                                       kiln_error *err) {
  if (!xref) return kiln_neigh_build(nl, a, err);
  if (xref == (const double(*)[3])((priv_t *)nl->priv)->xref)
    return KILN_FAIL(err, KILN_EINVAL,
                     "neighbor list: build_from needs a copy of the reference positions, not "
                     "the list's own array");
  kiln_status st;
  if (cell0) {
    /* the build sees the atoms in the reference cell; ghosts are then refreshed in a's */
    kiln_atoms *b = malloc(sizeof *b);
    if (!b) return KILN_FAIL(err, KILN_ENOMEM, "neighbor list: out of memory");
    *b = *a;
    memcpy(b->cell, cell0, sizeof b->cell);
    st = build_at(nl, b, xref, err);
    free(b);
  } else {
    st = build_at(nl, a, xref, err);
  }
  if (!st) refresh(nl, a);
  return st;
}

kiln_status kiln_neigh_build_from(kiln_neigh *nl, const kiln_atoms *a, const double (*xref)[3],
                                  kiln_error *err) {
  return kiln_neigh_build_from_cell(nl, a, xref, NULL, err);
}

const double (*kiln_neigh_reference(const kiln_neigh *nl, size_t *n))[3] {
  const priv_t *p = nl ? nl->priv : NULL;
  if (n) *n = 0;
  if (!p || !p->valid) return NULL;
  if (n) *n = p->n;
  return (const double(*)[3])p->xref;
}

int kiln_neigh_reference_cell(const kiln_neigh *nl, double cell[3][3]) {
  const priv_t *p = nl ? nl->priv : NULL;
  if (!p || !p->valid) return 0;
  memcpy(cell, p->cell, sizeof p->cell);
  return 1;
}

/* Largest singular value of the 3x3 matrix D (an upper bound, rounded up a little):
 * the square root of the largest eigenvalue of D^T D (closed form for a symmetric 3x3),
 * never more than the Frobenius norm. */
static double norm2_upper(const double D[3][3]) {
  double S[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) S[i][j] = D[0][i] * D[0][j] + D[1][i] * D[1][j] + D[2][i] * D[2][j];
  const double tr = S[0][0] + S[1][1] + S[2][2];
  const double p1 = S[0][1] * S[0][1] + S[0][2] * S[0][2] + S[1][2] * S[1][2];
  const double q = tr / 3;
  const double p2 = (S[0][0] - q) * (S[0][0] - q) + (S[1][1] - q) * (S[1][1] - q) +
                    (S[2][2] - q) * (S[2][2] - q) + 2 * p1;
  double lam = q;
  if (p2 > 0) {
    const double pp = sqrt(p2 / 6);
    double Bm[3][3];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) Bm[i][j] = (S[i][j] - (i == j ? q : 0)) / pp;
    double r = 0.5 * (Bm[0][0] * (Bm[1][1] * Bm[2][2] - Bm[1][2] * Bm[2][1]) -
                      Bm[0][1] * (Bm[1][0] * Bm[2][2] - Bm[1][2] * Bm[2][0]) +
                      Bm[0][2] * (Bm[1][0] * Bm[2][1] - Bm[1][1] * Bm[2][0]));
    r = r < -1 ? -1 : r > 1 ? 1 : r;
    lam = q + 2 * pp * cos(acos(r) / 3);
  }
  const double fro = sqrt(tr);
  double sig = sqrt(lam > 0 ? lam : 0) * (1 + 1e-9) + 1e-14 * (1 + fro);
  return sig < fro ? sig : fro;
}

/* Is the list still valid after a cell change? With the binning bases B0 (reference cell)
 * and B (now), M = B0^-1 B maps the reference configuration affinely onto the new cell,
 * and every lattice vector n.h0 onto n.h. With u_i = x_i - xref_i M (the non-affine part of
 * the motion), a pair vector is d = d0 M + u_j - u_i, so |d| >= |d0| (1 - e) - 2 max|u|,
 * e = ||M - I||_2. A pair left out at the build had |d0| >= cutoff + skin (and every
 * image that close was in the ghost set), so it stays beyond the cutoff while
 *     max_i |u_i| + e (cutoff + skin) / 2 <= skin / 2.
 * Returns 1 when a rebuild is needed (also when the new cell is unusable: the build then
 * reports why). */
static int cell_moved_too_far(const kiln_neigh *nl, const priv_t *p, const kiln_atoms *a) {
  double B[3][3], Binv[3][3], h[3], M[3][3], D[3][3];
  kiln_error e0;
  if (basis(a, B, Binv, h, &e0)) return 1;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      M[i][j] = p->binv0[i][0] * B[0][j] + p->binv0[i][1] * B[1][j] + p->binv0[i][2] * B[2][j];
      D[i][j] = M[i][j] - (i == j);
    }
  const double rc = nl->cutoff + nl->skin;
  const double budget = nl->skin * (1 - 1e-12) - norm2_upper(D) * rc; /* room for 2 max|u| */
  if (!(budget > 0)) return 1;
  const double lim = 0.25 * budget * budget;
  const long n = (long)a->n;
  const int T = nthreads_for(a->n);
  int need = 0;
#pragma omp parallel for num_threads(T) schedule(static) reduction(| : need) if (T > 1)
  for (long i = 0; i < n; i++) {
    const double *r = p->xref[i], *x = a->x[i];
    double u2 = 0;
    for (int c = 0; c < 3; c++) {
      double u = x[c] - (r[0] * M[0][c] + r[1] * M[1][c] + r[2] * M[2][c]);
      u2 += u * u;
    }
    need |= !(u2 <= lim);
  }
  return need;
}

kiln_status kiln_neigh_update(kiln_neigh *nl, const kiln_atoms *a, int *rebuilt,
                              kiln_error *err) {
  priv_t *p = nl->priv;
  int need = !p->valid || p->n != a->n || p->generation != a->generation ||
             memcmp(p->pbc, a->pbc, sizeof p->pbc) != 0;
  if (!need && memcmp(p->cell, a->cell, sizeof p->cell) != 0) {
    need = cell_moved_too_far(nl, p, a);
  } else if (!need) {
    const double lim = 0.25 * nl->skin * nl->skin;
    const long n = (long)a->n;
    const int T = nthreads_for(a->n);
#pragma omp parallel for num_threads(T) schedule(static) reduction(| : need) if (T > 1)
    for (long i = 0; i < n; i++) {
      double dx = a->x[i][0] - p->xref[i][0], dy = a->x[i][1] - p->xref[i][1],
             dz = a->x[i][2] - p->xref[i][2];
      need |= !(dx * dx + dy * dy + dz * dz <= lim);
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
  const int T = nthreads_for(nl->ng);
#pragma omp parallel for num_threads(T) schedule(static) if (T > 1)
  for (long k = (long)n; k < (long)ne; k++)
    memcpy(arr + (size_t)k * ncols, arr + (size_t)nl->owner[k] * ncols, ncols * sizeof *arr);
}
