/* src/corr/rho.c: the density / current Fourier-component kernel and the
 * per-atom phase autocorrelation of the self part (see rho.h).
 *
 * Layout: atoms are grouped by species, each species cut into blocks of RHO_BS
 * atoms (the last block of a species padded with phantom atoms whose phases
 * are 0, so they add nothing and every loop runs over exactly RHO_BS lanes).
 * Per block and thread: the base phases z_d (structure of arrays), the power
 * tables z_d^m for m in [mmin_d, mmax_d] (row m: RHO_BS real parts then RHO_BS
 * imaginary parts), then for every q a short vectorised product-and-sum over
 * the block. Each block writes its own partial sums, reduced afterwards in
 * block order, so the result does not depend on the number of threads. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "rho.h"

#define RHO_BS 64          /* atoms per block */
#define RESEED 64          /* coherent tables: exact phase every RESEED powers */

typedef double cplx[2];

typedef struct {
  int nf;                  /* number of non-zero indices (0..3) */
  int off[3];              /* row offsets (doubles) into the table of the non-zero indices */
} qdesc;

typedef struct {
  double *tab;             /* table rows */
  double *z, *f, *s, *v, *dz; /* 3 x 2 x BS, 3 x BS, 3 x BS, 3 x BS, 3 x 2 x BS */
  double *cur;             /* 2 x BS running power */
} scratch;

struct kilni_rho {
  size_t natoms, nq, nblk, npad;
  int nspec, currents;
  size_t nslots;
  size_t *perm;            /* npad: original atom index, or SIZE_MAX for padding */
  int *blk_spec;           /* nblk */
  size_t *blk_n;           /* nblk: real atoms in the block */
  double (*hkl)[3];
  unsigned char *comm;
  qdesc *qd;               /* nq (commensurate ones) */
  int mmin[3], mmax[3], toff[3];
  size_t nrows;            /* table rows (all dims) */
  size_t ncomp;            /* complex sums per q per block: 1 (+3 currents) */
  int any_noncomm;
  cplx *blk_out;           /* nblk x nq x ncomp */
  cplx *blk_self;          /* nblk x nslots x nq (only the slots asked for in a call) */
  double *slot_z;          /* nslots x 3 x 2 x npad: base phases of the origins */
  double *slot_s;          /* nslots x 3 x npad: fractional coordinates (non-commensurate only) */
  int nthr;
  scratch *w;
  void *mem;               /* one aligned allocation for the per-thread scratch */
};

static void *aalloc(size_t bytes) {
  bytes = (bytes + 63) / 64 * 64;
  void *p = aligned_alloc(64, bytes ? bytes : 64);
  if (p) memset(p, 0, bytes ? bytes : 64);
  return p;
}

void kilni_rho_free(kilni_rho *r) {
  if (!r) return;
  free(r->perm);
  free(r->blk_spec);
  free(r->blk_n);
  free(r->hkl);
  free(r->comm);
  free(r->qd);
  free(r->blk_out);
  free(r->blk_self);
  free(r->slot_z);
  free(r->slot_s);
  free(r->w);
  free(r->mem);
  free(r);
}

kiln_status kilni_rho_new(kilni_rho **out, const kilni_rho_setup *s, kiln_error *err) {
  *out = NULL;
  kilni_rho *r = calloc(1, sizeof *r);
  if (!r) return KILN_FAIL(err, KILN_ENOMEM, "sqw: out of memory");
  r->natoms = s->natoms;
  r->nq = s->nq;
  r->nspec = s->nspec;
  r->currents = s->currents;
  r->nslots = s->nslots;
  r->ncomp = s->currents ? 4 : 1;
  /* blocks: per species, ceil(n_a / BS) */
  size_t *cnt = calloc((size_t)s->nspec, sizeof *cnt);
  if (!cnt) goto nomem;
  for (size_t i = 0; i < s->natoms; i++) cnt[s->type[i]]++;
  for (int a = 0; a < s->nspec; a++) r->nblk += (cnt[a] + RHO_BS - 1) / RHO_BS;
  r->npad = r->nblk * RHO_BS;
  r->perm = malloc((r->npad ? r->npad : 1) * sizeof *r->perm);
  r->blk_spec = malloc((r->nblk ? r->nblk : 1) * sizeof *r->blk_spec);
  r->blk_n = malloc((r->nblk ? r->nblk : 1) * sizeof *r->blk_n);
  r->hkl = malloc((s->nq ? s->nq : 1) * sizeof *r->hkl);
  r->comm = malloc(s->nq ? s->nq : 1);
  r->qd = calloc(s->nq ? s->nq : 1, sizeof *r->qd);
  if (!r->perm || !r->blk_spec || !r->blk_n || !r->hkl || !r->comm || !r->qd) {
    free(cnt);
    goto nomem;
  }
  {
    size_t b = 0, p = 0;
    for (int a = 0; a < s->nspec; a++) {
      size_t nb = (cnt[a] + RHO_BS - 1) / RHO_BS, left = cnt[a], i = 0;
      for (size_t k = 0; k < nb; k++, b++) {
        r->blk_spec[b] = a;
        r->blk_n[b] = left < RHO_BS ? left : RHO_BS;
        left -= r->blk_n[b];
        for (size_t l = 0; l < RHO_BS; l++, p++) {
          while (i < s->natoms && s->type[i] != a) i++;
          if (l < r->blk_n[b]) r->perm[p] = i++;
          else r->perm[p] = SIZE_MAX;
        }
      }
    }
  }
  free(cnt);
  memcpy(r->hkl, s->hkl, s->nq * sizeof *r->hkl);
  memcpy(r->comm, s->comm, s->nq);
  for (int d = 0; d < 3; d++) r->mmin[d] = r->mmax[d] = 0;
  for (size_t q = 0; q < s->nq; q++) {
    if (!s->comm[q]) {
      r->any_noncomm = 1;
      continue;
    }
    for (int d = 0; d < 3; d++) {
      int m = (int)lrint(s->hkl[q][d]);
      if (m < r->mmin[d]) r->mmin[d] = m;
      if (m > r->mmax[d]) r->mmax[d] = m;
    }
  }
  r->nrows = 0;
  for (int d = 0; d < 3; d++) {
    r->toff[d] = (int)r->nrows;
    r->nrows += (size_t)(r->mmax[d] - r->mmin[d] + 1);
  }
  for (size_t q = 0; q < s->nq; q++) {
    if (!s->comm[q]) continue;
    qdesc *qd = &r->qd[q];
    for (int d = 0; d < 3; d++) {
      int m = (int)lrint(s->hkl[q][d]);
      if (m) qd->off[qd->nf++] = (r->toff[d] + m - r->mmin[d]) * 2 * RHO_BS;
    }
  }
  r->blk_out = malloc((r->nblk * s->nq * r->ncomp + 1) * sizeof(cplx));
  if (!r->blk_out) goto nomem;
  if (s->nslots) {
    r->blk_self = malloc((r->nblk * s->nslots * s->nq + 1) * sizeof(cplx));
    r->slot_z = calloc(s->nslots * 6 * r->npad + 1, sizeof(double));
    if (!r->blk_self || !r->slot_z) goto nomem;
    if (r->any_noncomm && !(r->slot_s = calloc(s->nslots * 3 * r->npad + 1, sizeof(double))))
      goto nomem;
  }
  /* per-thread scratch */
  r->nthr = omp_get_max_threads();
  if (r->nthr < 1) r->nthr = 1;
  size_t per = (r->nrows * 2 + 6 + 3 + 3 + 3 + 6 + 2) * RHO_BS;   /* doubles */
  r->w = calloc((size_t)r->nthr, sizeof *r->w);
  r->mem = aalloc((size_t)r->nthr * per * sizeof(double));
  if (!r->w || !r->mem) goto nomem;
  for (int t = 0; t < r->nthr; t++) {
    double *p = (double *)r->mem + (size_t)t * per;
    scratch *w = &r->w[t];
    w->tab = p; p += r->nrows * 2 * RHO_BS;
    w->z = p; p += 6 * RHO_BS;
    w->f = p; p += 3 * RHO_BS;
    w->s = p; p += 3 * RHO_BS;
    w->v = p; p += 3 * RHO_BS;
    w->dz = p; p += 6 * RHO_BS;
    w->cur = p;
  }
  *out = r;
  return KILN_OK;
nomem:
  kilni_rho_free(r);
  return KILN_FAIL(err, KILN_ENOMEM, "sqw: out of memory for %zu atoms x %zu q-points",
                   s->natoms, s->nq);
}

/* f = s - nearest integer, z = exp(2 pi i f), for one block. */
static void cis_block(const double *restrict s, double *restrict f, double *restrict zr,
                      double *restrict zi) {
#pragma omp simd
  for (size_t i = 0; i < RHO_BS; i++) {
    double g = s[i] - kilni_round(s[i]);
    kilni_cs e = kilni_cis2pi(g);
    f[i] = g;
    zr[i] = e.c;
    zi[i] = e.s;
  }
}

/* Base phases of block b: fractional coordinates s (raw), reduced f, z = exp(2 pi i f). */
static void block_base(const kilni_rho *r, size_t b, const double (*x)[3], const double (*v)[3],
                       const double inv[3][3], scratch *w) {
  const size_t *perm = r->perm + b * RHO_BS;
  for (size_t i = 0; i < RHO_BS; i++) {
    size_t a = perm[i];
    if (a == SIZE_MAX) {
      for (int d = 0; d < 3; d++) w->s[d * RHO_BS + i] = w->v[d * RHO_BS + i] = 0.0;
      continue;
    }
    for (int d = 0; d < 3; d++)
      w->s[d * RHO_BS + i] = x[a][0] * inv[0][d] + x[a][1] * inv[1][d] + x[a][2] * inv[2][d];
    if (r->currents)
      for (int d = 0; d < 3; d++) w->v[d * RHO_BS + i] = v[a][d];
  }
  for (int d = 0; d < 3; d++)
    cis_block(w->s + d * RHO_BS, w->f + d * RHO_BS, w->z + 2 * d * RHO_BS,
              w->z + (2 * d + 1) * RHO_BS);
  if (r->blk_n[b] < RHO_BS)   /* phantom atoms: zero phase, add nothing */
    for (int d = 0; d < 3; d++)
      for (size_t i = r->blk_n[b]; i < RHO_BS; i++) w->z[2 * d * RHO_BS + i] = w->z[(2 * d + 1) * RHO_BS + i] = 0.0;
}

/* Power tables from the base phases z (3 x 2 x BS). f (3 x BS, reduced
 * fractional coordinates) re-seeds the recurrence every RESEED powers; NULL: no
 * re-seeding (pure recurrence). */
static void build_tables(const kilni_rho *r, const double *z, const double *f, scratch *w) {
  double *restrict cr = w->cur, *restrict ci = w->cur + RHO_BS;
  for (int d = 0; d < 3; d++) {
    const int lo = r->mmin[d], hi = r->mmax[d], top = hi > -lo ? hi : -lo;
    const double *restrict zr = z + 2 * d * RHO_BS, *restrict zi = zr + RHO_BS;
    const double *restrict fd = f ? f + d * RHO_BS : NULL;
    double *base = w->tab + (size_t)(r->toff[d] - lo) * 2 * RHO_BS;   /* row 0 */
    {
      double *restrict row = base;
      for (size_t i = 0; i < RHO_BS; i++) {
        row[i] = zr[i] != 0.0 || zi[i] != 0.0 ? 1.0 : 0.0;
        row[RHO_BS + i] = 0.0;
      }
    }
    for (size_t i = 0; i < RHO_BS; i++) {
      cr[i] = zr[i];
      ci[i] = zi[i];
    }
    for (int m = 1; m <= top; m++) {
      if (m > 1) {
        if (fd && m % RESEED == 0) {
          const double dm = (double)m;
#pragma omp simd
          for (size_t i = 0; i < RHO_BS; i++) {
            double g = dm * fd[i];
            g -= kilni_round(g);
            kilni_cs e = kilni_cis2pi(g);
            int live = zr[i] != 0.0 || zi[i] != 0.0;
            cr[i] = live ? e.c : 0.0;
            ci[i] = live ? e.s : 0.0;
          }
        } else {
#pragma omp simd
          for (size_t i = 0; i < RHO_BS; i++) {
            double a = cr[i] * zr[i] - ci[i] * zi[i];
            ci[i] = cr[i] * zi[i] + ci[i] * zr[i];
            cr[i] = a;
          }
        }
      }
      if (m <= hi) {
        double *restrict row = base + (size_t)m * 2 * RHO_BS;
        memcpy(row, cr, RHO_BS * sizeof *row);
        memcpy(row + RHO_BS, ci, RHO_BS * sizeof *row);
      }
      if (-m >= lo) {
        double *restrict row = base - (size_t)m * 2 * RHO_BS;
#pragma omp simd
        for (size_t i = 0; i < RHO_BS; i++) {
          row[i] = cr[i];
          row[RHO_BS + i] = -ci[i];
        }
      }
    }
  }
}

/* Sum over the block of the product of nf table rows: mode 0: out[0] = sum e;
 * mode 1 (currents): also out[1..3] = sum v_d e; mode 2: only Re(sum e) (the
 * self part needs no more). nf and mode are constants after inlining. */
enum { SUM_C = 0, SUM_CUR = 1, SUM_RE = 2 };
static inline __attribute__((always_inline)) void qsum(const double *tab, const qdesc *qd,
                                                       int nf, int mode, const double *v,
                                                       size_t nreal, cplx *out) {
  const double *restrict a = tab + qd->off[0], *restrict b = tab + qd->off[1],
                         *restrict c = tab + qd->off[2];
  const double *restrict vx = v, *restrict vy = v + RHO_BS, *restrict vz = v + 2 * RHO_BS;
  const int cur = mode == SUM_CUR;
  double sr = 0, si = 0, xr = 0, xi = 0, yr = 0, yi = 0, zr = 0, zi = 0;
  if (nf == 0) {
    sr = (double)nreal;
    if (cur)
      for (size_t i = 0; i < RHO_BS; i++) {
        xr += vx[i];
        yr += vy[i];
        zr += vz[i];
      }
  } else if (mode == SUM_RE) {
#pragma omp simd reduction(+ : sr)
    for (size_t i = 0; i < RHO_BS; i++) {
      double er = a[i];
      if (nf == 2) er = a[i] * b[i] - a[RHO_BS + i] * b[RHO_BS + i];
      if (nf == 3) {
        double tr = a[i] * b[i] - a[RHO_BS + i] * b[RHO_BS + i];
        double ti = a[i] * b[RHO_BS + i] + a[RHO_BS + i] * b[i];
        er = tr * c[i] - ti * c[RHO_BS + i];
      }
      sr += er;
    }
  } else {
#pragma omp simd reduction(+ : sr, si, xr, xi, yr, yi, zr, zi)
    for (size_t i = 0; i < RHO_BS; i++) {
      double er = a[i], ei = a[RHO_BS + i];
      if (nf >= 2) {
        double tr = er * b[i] - ei * b[RHO_BS + i];
        ei = er * b[RHO_BS + i] + ei * b[i];
        er = tr;
      }
      if (nf >= 3) {
        double tr = er * c[i] - ei * c[RHO_BS + i];
        ei = er * c[RHO_BS + i] + ei * c[i];
        er = tr;
      }
      sr += er;
      si += ei;
      if (cur) {
        xr += er * vx[i];
        xi += ei * vx[i];
        yr += er * vy[i];
        yi += ei * vy[i];
        zr += er * vz[i];
        zi += ei * vz[i];
      }
    }
  }
  out[0][0] = sr;
  out[0][1] = si;
  if (cur) {
    out[1][0] = xr; out[1][1] = xi;
    out[2][0] = yr; out[2][1] = yi;
    out[3][0] = zr; out[3][1] = zi;
  }
}

#define QSUM_ALL(MODE)                                                  \
  switch (qd->nf) {                                                     \
  case 0: qsum(w->tab, qd, 0, MODE, w->v, nreal, o); break;             \
  case 1: qsum(w->tab, qd, 1, MODE, w->v, nreal, o); break;             \
  case 2: qsum(w->tab, qd, 2, MODE, w->v, nreal, o); break;             \
  default: qsum(w->tab, qd, 3, MODE, w->v, nreal, o); break;            \
  }

/* All commensurate q of one block from the tables in w->tab. */
static void qloop(const kilni_rho *r, const scratch *w, size_t nreal, int mode, cplx *out,
                  size_t stride) {
  for (size_t q = 0; q < r->nq; q++) {
    if (!r->comm[q]) continue;
    const qdesc *qd = &r->qd[q];
    cplx *o = out + q * stride;
    if (mode == SUM_CUR) {
      QSUM_ALL(SUM_CUR)
    } else if (mode == SUM_RE) {
      QSUM_ALL(SUM_RE)
    } else {
      QSUM_ALL(SUM_C)
    }
  }
}

/* Non-commensurate q, direct: exp(2 pi i (h.s)) with s the raw fractional
 * coordinates in w->s (or the displacement ds for the self part). */
static void qloop_direct(const kilni_rho *r, const double *s, size_t nreal, int cur,
                         const double *v, cplx *out, size_t stride) {
  for (size_t q = 0; q < r->nq; q++) {
    if (r->comm[q]) continue;
    const double h = r->hkl[q][0], k = r->hkl[q][1], l = r->hkl[q][2];
    const double *restrict s1 = s, *restrict s2 = s + RHO_BS, *restrict s3 = s + 2 * RHO_BS;
    const double *restrict vx = v, *restrict vy = v + RHO_BS, *restrict vz = v + 2 * RHO_BS;
    double sr = 0, si = 0, xr = 0, xi = 0, yr = 0, yi = 0, zr = 0, zi = 0;
#pragma omp simd reduction(+ : sr, si, xr, xi, yr, yi, zr, zi)
    for (size_t i = 0; i < RHO_BS; i++) {
      double g = h * s1[i] + k * s2[i] + l * s3[i];
      g -= kilni_round(g);
      kilni_cs e = kilni_cis2pi(g);
      double live = i < nreal ? 1.0 : 0.0;
      double er = e.c * live, ei = e.s * live;
      sr += er;
      si += ei;
      if (cur) {
        xr += er * vx[i];
        xi += ei * vx[i];
        yr += er * vy[i];
        yi += ei * vy[i];
        zr += er * vz[i];
        zi += ei * vz[i];
      }
    }
    cplx *o = out + q * stride;
    o[0][0] = sr;
    o[0][1] = si;
    if (cur) {
      o[1][0] = xr; o[1][1] = xi;
      o[2][0] = yr; o[2][1] = yi;
      o[3][0] = zr; o[3][1] = zi;
    }
  }
}

void kilni_rho_frame(kilni_rho *r, const double (*x)[3], const double (*v)[3],
                     const double inv[3][3], double (*rho)[2], double (*j)[2],
                     const int *self_slot, size_t nself, double (*self)[2], int store_slot) {
  const size_t nq = r->nq, ncomp = r->ncomp, npad = r->npad;
  const long nblk = (long)r->nblk;
#pragma omp parallel for schedule(static) num_threads(r->nthr)
  for (long bl = 0; bl < nblk; bl++) {
    const size_t b = (size_t)bl;
    scratch *w = &r->w[omp_get_thread_num()];
    const size_t nreal = r->blk_n[b];
    block_base(r, b, x, v, inv, w);
    build_tables(r, w->z, w->f, w);
    cplx *out = r->blk_out + b * nq * ncomp;
    qloop(r, w, nreal, r->currents ? SUM_CUR : SUM_C, out, ncomp);
    if (r->any_noncomm) qloop_direct(r, w->s, nreal, r->currents, w->v, out, ncomp);
    /* self part: per-atom phase autocorrelation against the stored origins */
    for (size_t k = 0; k < nself; k++) {
      const size_t sl = (size_t)self_slot[k];
      const double *zo = r->slot_z + sl * 6 * npad;
      for (int d = 0; d < 3; d++) {
        const double *restrict ar = zo + (2 * d) * npad + b * RHO_BS,
                               *restrict ai = zo + (2 * d + 1) * npad + b * RHO_BS;
        const double *restrict br = w->z + 2 * d * RHO_BS, *restrict bi = br + RHO_BS;
        double *restrict dr = w->dz + 2 * d * RHO_BS, *restrict di = dr + RHO_BS;
#pragma omp simd
        for (size_t i = 0; i < RHO_BS; i++) {
          dr[i] = ar[i] * br[i] + ai[i] * bi[i];
          di[i] = ar[i] * bi[i] - ai[i] * br[i];
        }
      }
      build_tables(r, w->dz, NULL, w);
      cplx *so = r->blk_self + (b * nself + k) * nq;
      qloop(r, w, nreal, SUM_RE, so, 1);
      if (r->any_noncomm) {
        const double *so_s = r->slot_s + sl * 3 * npad;
        double *ds = w->dz;   /* reuse: 3 x BS displacements */
        for (int d = 0; d < 3; d++)
          for (size_t i = 0; i < RHO_BS; i++)
            ds[d * RHO_BS + i] = w->s[d * RHO_BS + i] - so_s[d * npad + b * RHO_BS + i];
        qloop_direct(r, ds, nreal, 0, w->v, so, 1);
      }
    }
    if (store_slot >= 0) {
      double *zo = r->slot_z + (size_t)store_slot * 6 * npad;
      for (int d = 0; d < 6; d++)
        memcpy(zo + d * npad + b * RHO_BS, w->z + d * RHO_BS, RHO_BS * sizeof(double));
      if (r->any_noncomm) {
        double *so_s = r->slot_s + (size_t)store_slot * 3 * npad;
        for (int d = 0; d < 3; d++)
          memcpy(so_s + d * npad + b * RHO_BS, w->s + d * RHO_BS, RHO_BS * sizeof(double));
      }
    }
  }
  /* reduce over blocks, in block order */
  const int ns = r->nspec;
  memset(rho, 0, nq * (size_t)ns * sizeof *rho);
  if (r->currents) memset(j, 0, nq * (size_t)ns * 3 * sizeof *j);
  if (nself) memset(self, 0, nself * nq * (size_t)ns * sizeof *self);
  for (size_t b = 0; b < r->nblk; b++) {
    const int a = r->blk_spec[b];
    const cplx *out = r->blk_out + b * nq * ncomp;
    for (size_t q = 0; q < nq; q++) {
      rho[q * ns + a][0] += out[q * ncomp][0];
      rho[q * ns + a][1] += out[q * ncomp][1];
      if (r->currents)
        for (int d = 0; d < 3; d++) {
          j[(q * ns + a) * 3 + d][0] += out[q * ncomp + 1 + d][0];
          j[(q * ns + a) * 3 + d][1] += out[q * ncomp + 1 + d][1];
        }
    }
    for (size_t k = 0; k < nself; k++) {
      const cplx *so = r->blk_self + (b * nself + k) * nq;
      for (size_t q = 0; q < nq; q++) {
        self[(k * nq + q) * ns + a][0] += so[q][0];
        self[(k * nq + q) * ns + a][1] += so[q][1];
      }
    }
  }
}
