/* src/wave/slicer.c: projected potentials of atom configurations on a periodic grid.
 *
 * Method (doc/multislice-potentials.md): the potential of a slice is a sum over elements
 * of (form factor) x (structure factor) in reciprocal space, kept only inside the
 * propagator's band-limit disk |k| < k_max = 2/3 of the Nyquist frequency of the coarser
 * axis (the propagator zeroes everything beyond it after every slice). The structure factor
 * of the atoms of one element is obtained as in smooth particle-mesh Ewald: each atom is
 * deposited on a real "deposition grid" with a centred cardinal B-spline of order P, the
 * grid is transformed (r2c), and the spline's transform sinc^P(m/M) is divided out per
 * axis. As only |k| < k_max is needed, the deposition grid may be coarser than the output
 * grid (P = 16 on a grid with k_max <= 0.83 of its Nyquist frequency, P = 8 on the output
 * grid itself when that is smaller), and the transforms are pruned: rows r2c, then the
 * columns that meet the disk c2c. The element's projected form factor
 * 2 pi a0 e f_e(k) / (lx ly) is tabulated once per grid on the disk; the products are
 * summed into the output spectrum and one pruned c2r (the disk's columns along y, then all
 * rows) gives V(r) in V·Å.
 *
 * Infinite projection: one (small, pruned) r2c per element present in the slice plus one
 * pruned c2r on the output grid.
 * Finite slices: the 3-D potential is written as a sum of 3-D Gaussians exp(-u q^2) in
 * reciprocal space (Kirkland's three Gaussians exactly; each Lorentzian a/(q^2+b) by the
 * trapezoidal rule on a = int exp(s - e^s (q^2+b)) ds with nodes u_j = e^{s_j} shared by
 * all elements). A Gaussian separates in z, so an atom at z_a contributes to the slice
 * [z0, z0+dz) its 2-D Gaussian times the weight (erf(pi (z0+dz-z_a)/sqrt u) -
 * erf(pi (z0-z_a)/sqrt u))/2: one deposition and one r2c per Gaussian width. */
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/fft.h"
#include "kiln/wave.h"
#include "slicer_internal.h"

#define SPLINE_PMAX 16
#define FIN_H 1.0             /* node spacing in s = ln u for the Lorentzian expansion */
#define FIN_EPS 1e-5          /* truncation of that expansion (relative, at the grid's k_max) */
#define FIN_ZCUT_MAX 10.0     /* z reach of the widest Gaussian (Å) */

struct kiln_slicer {
  kiln_wave_grid g;
  double dz, area;
  int finite, prec, nelem;
  int *Z;
  double (*par)[12];
  size_t nx, ny, nkx;                  /* output grid; nkx = nx/2 + 1 */
  size_t mx, my, mkx;                  /* deposition grid; mkx = mx/2 + 1 */
  int P;                               /* B-spline order */
  double kcut;                         /* band limit k_max (1/Å) */
  size_t ncol;                         /* kx columns 0..ncol-1 meet the disk */
  long rmax;                           /* disk rows: m_y = -rmax..rmax (j = m_y + rmax) */
  size_t nrow, ndisk, *rlen, *roff;    /* per disk row: columns inside, offset in packed arrays */
  void *rgrid, *spec, *acc, *vout;     /* fftw_malloc'd, precision prec */
  void *filt;                          /* infinite: nelem x ndisk filters */
  double *kx2, *ky2, *bx, *by;         /* k^2 and 1/sinc^P: x over ncol, y over nrow */
  double *gx, *gy;                     /* finite: separable filter of one term */
  void *pfr, *pfc, *pbc, *pbr;         /* fftw(f)_plans: rows r2c, columns fwd, columns bwd, rows c2r */
  int zero_tail;                       /* the row c2r may overwrite columns ncol.. of acc */
  /* finite: terms (Gaussian widths u, reach in z, amplitude per element in V·Å·Å^2) */
  int nterm;
  double *tu, *tzc, *tamp;
  /* atoms, sorted by z */
  size_t n, cap, nslices;
  double *ax, *ay, *az, thick;
  int32_t *ael;
  size_t *start;                       /* infinite: atoms of slice k are start[k]..start[k+1]-1 */
  int *present;                        /* scratch per element */
};

static unsigned planner_flags(void) {
  const char *e = getenv("KILN_FFTW_PLANNER");
  if (!e) return FFTW_ESTIMATE;
  if (!strcmp(e, "measure")) return FFTW_MEASURE;
  if (!strcmp(e, "patient")) return FFTW_PATIENT;
  return FFTW_ESTIMATE;
}

/* Centred cardinal B-spline weights of order P: th[i] = M(w + i), w in [0, 1),
 * belonging to the grid point floor(u) + P/2 - i. */
static void spline_weights(int P, double w, double *th) {
  th[0] = w;
  th[1] = 1.0 - w;
  for (int n = 2; n < P; n++) {
    double inv = 1.0 / n;
    th[n] = (1.0 - w) * th[n - 1] * inv;   /* y = w + n: (n+1-y) M_n(y-1) */
    for (int i = n - 1; i >= 1; i--)
      th[i] = ((w + i) * th[i] + (n + 1 - w - i) * th[i - 1]) * inv;
    th[0] = w * th[0] * inv;
  }
}

static double sinc(double x) { return x == 0.0 ? 1.0 : sin(KILN_PI * x) / (KILN_PI * x); }

/* Deposit atom at (x, y) with weight q on the nx x ny deposition grid. */
#define DEFINE_DEPOSIT(T, NAME)                                                             \
  static void NAME(T *grid, size_t nx, size_t ny, int P, double sx, double sy, double x,    \
                   double y, double q) {                                                    \
    double ux = x * sx, uy = y * sy;                                                        \
    ux -= floor(ux / (double)nx) * (double)nx;                                              \
    uy -= floor(uy / (double)ny) * (double)ny;                                              \
    double fx = floor(ux), fy = floor(uy), thx[SPLINE_PMAX], thy[SPLINE_PMAX];              \
    spline_weights(P, ux - fx, thx);                                                        \
    spline_weights(P, uy - fy, thy);                                                        \
    size_t jx[SPLINE_PMAX];                                                                 \
    long ix0 = (long)fx + P / 2, iy0 = (long)fy + P / 2;                                     \
    for (int i = 0; i < P; i++) {                                                           \
      long j = (ix0 - i) % (long)nx;                                                        \
      jx[i] = (size_t)(j < 0 ? j + (long)nx : j);                                           \
    }                                                                                       \
    T wx[SPLINE_PMAX];                                                                      \
    for (int i = 0; i < P; i++) wx[i] = (T)(q * thx[i]);                                    \
    int contiguous = jx[P - 1] + (size_t)(P - 1) == jx[0];                                  \
    for (int k = 0; k < P; k++) {                                                           \
      long j = (iy0 - k) % (long)ny;                                                        \
      T *row = grid + (size_t)(j < 0 ? j + (long)ny : j) * nx;                              \
      T wy = (T)thy[k];                                                                     \
      if (contiguous) {                                                                     \
        T *r = row + jx[P - 1];                                                             \
        for (int i = 0; i < P; i++) r[i] += wy * wx[P - 1 - i];                             \
      } else {                                                                              \
        for (int i = 0; i < P; i++) row[jx[i]] += wy * wx[i];                               \
      }                                                                                     \
    }                                                                                       \
  }
DEFINE_DEPOSIT(float, deposit_f)
DEFINE_DEPOSIT(double, deposit_d)

/* acc[disk] += filt * spec[disk] (infinite) or gx gy * spec (finite, filt == NULL) */
#define DEFINE_DISKACC(T, NAME)                                                             \
  static void NAME(const kiln_slicer *s, const T *restrict filt, const double *gx,          \
                   const double *gy) {                                                      \
    T *acc = s->acc;                                                                        \
    const T *spec = s->spec;                                                                \
    for (size_t j = 0; j < s->nrow; j++) {                                                  \
      long m = (long)j - s->rmax;                                                           \
      size_t iyd = (size_t)(m >= 0 ? m : m + (long)s->my);                                  \
      size_t iyf = (size_t)(m >= 0 ? m : m + (long)s->ny);                                  \
      T *restrict a = acc + 2 * iyf * s->nkx;                                               \
      const T *restrict sp = spec + 2 * iyd * s->mkx;                                       \
      size_t len = s->rlen[j];                                                              \
      if (filt) {                                                                           \
        const T *restrict f = filt + s->roff[j];                                            \
        for (size_t i = 0; i < len; i++) {                                                  \
          a[2 * i] += f[i] * sp[2 * i];                                                     \
          a[2 * i + 1] += f[i] * sp[2 * i + 1];                                             \
        }                                                                                   \
      } else {                                                                              \
        double g = gy[j];                                                                   \
        for (size_t i = 0; i < len; i++) {                                                  \
          T f = (T)(g * gx[i]);                                                             \
          a[2 * i] += f * sp[2 * i];                                                        \
          a[2 * i + 1] += f * sp[2 * i + 1];                                                \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
  }
DEFINE_DISKACC(float, diskacc_f)
DEFINE_DISKACC(double, diskacc_d)

static void destroy_plan(int prec, void *p) {
  if (!p) return;
  if (prec == KILN_WAVE_F32) fftwf_destroy_plan((fftwf_plan)p);
  else fftw_destroy_plan((fftw_plan)p);
}

void kiln_slicer_free(kiln_slicer *s) {
  if (!s) return;
  if (s->pfr || s->pfc || s->pbc || s->pbr) {
#pragma omp critical(kiln_fftw_planner)
    {
      destroy_plan(s->prec, s->pfr);
      destroy_plan(s->prec, s->pfc);
      destroy_plan(s->prec, s->pbc);
      destroy_plan(s->prec, s->pbr);
    }
  }
  fftw_free(s->rgrid);
  fftw_free(s->spec);
  fftw_free(s->acc);
  fftw_free(s->vout);
  fftw_free(s->filt);
  free(s->Z);
  free(s->par);
  free(s->rlen);
  free(s->roff);
  free(s->kx2);
  free(s->ky2);
  free(s->bx);
  free(s->by);
  free(s->gx);
  free(s->gy);
  free(s->tu);
  free(s->tzc);
  free(s->tamp);
  free(s->ax);
  free(s->ay);
  free(s->az);
  free(s->ael);
  free(s->start);
  free(s->present);
  free(s);
}
/* Finite mode: build the term list (shared Lorentzian nodes, then Kirkland Gaussians). */
static kiln_status make_terms(kiln_slicer *s, kiln_error *err) {
  const double C = 2.0 * KILN_PI * KILN_BOHR_A * KILN_E2_EVA;
  double kx = 0.5 * s->nx / s->g.lx, ky = 0.5 * s->ny / s->g.ly;
  double kmax2 = kx * kx + ky * ky, bmin = INFINITY, bmax = 0.0;
  for (int e = 0; e < s->nelem; e++)
    for (int i = 0; i < 3; i++) {
      double b = s->par[e][2 * i + 1];
      if (b < bmin) bmin = b;
      if (b > bmax) bmax = b;
    }
  double smin = log(FIN_EPS / (kmax2 + bmax)), smax = log(40.0 / bmin);
  int nnode = (int)ceil((smax - smin) / FIN_H) + 1;
  int nmax = nnode + 3 * s->nelem;
  s->tu = malloc((size_t)nmax * sizeof *s->tu);
  s->tzc = malloc((size_t)nmax * sizeof *s->tzc);
  s->tamp = calloc((size_t)nmax * (size_t)s->nelem, sizeof *s->tamp);
  if (!s->tu || !s->tzc || !s->tamp)
    return KILN_FAIL(err, KILN_ENOMEM, "slicer: out of memory for %d finite-slice terms", nmax);
  int nt = 0;
  for (int j = 0; j < nnode; j++) {
    double u = exp(smin + j * FIN_H), amax = 0.0;
    for (int e = 0; e < s->nelem; e++) {
      double a = 0.0;
      for (int i = 0; i < 3; i++) a += s->par[e][2 * i] * u * exp(-u * s->par[e][2 * i + 1]);
      s->tamp[(size_t)nt * s->nelem + e] = C * FIN_H * a;
      if (C * FIN_H * a > amax) amax = C * FIN_H * a;
    }
    if (amax < 1e-12) continue;
    s->tu[nt] = u;
    nt++;
  }
  for (int e = 0; e < s->nelem; e++)
    for (int i = 0; i < 3; i++) {
      double c = s->par[e][6 + 2 * i], d = s->par[e][7 + 2 * i];
      if (fabs(c) < 1e-12) continue;
      for (int f = 0; f < s->nelem; f++) s->tamp[(size_t)nt * s->nelem + f] = f == e ? C * c : 0.0;
      s->tu[nt] = d;
      nt++;
    }
  for (int t = 0; t < nt; t++) {
    double zc = 4.5 * sqrt(s->tu[t]) / KILN_PI;
    s->tzc[t] = zc < FIN_ZCUT_MAX ? zc : FIN_ZCUT_MAX;
  }
  s->nterm = nt;
  return KILN_OK;
}

/* Deposition grid along one axis of n points over l for the band limit kcut and the
 * largest usable ratio r = kcut / (Nyquist of the deposition grid): the B-spline
 * aliasing error at the disk edge is about (r / (2 - r))^P, 4e-3 for each entry below. */
static const struct { int P; double r; } dep_opts[] = {{8, 2.0 / 3.0}, {12, 0.7727}, {16, 0.8284}};
static size_t dep_size(size_t n, double l, double kcut, double r) {
  double need = ceil(2.0 * kcut * l / r - 1e-9);
  size_t m = kiln_fft_good_size(need < 2.0 ? 2 : (size_t)need);
  return m < n ? m : n;
}

static kiln_status setup_disk(kiln_slicer *s, kiln_error *err) {
  const kiln_wave_grid *g = &s->g;
  /* the propagator's band limit: 2/3 of the Nyquist frequency of the coarser axis, k^2 < kcut^2 */
  double kxn = 0.5 * (double)g->nx / g->lx, kyn = 0.5 * (double)g->ny / g->ly;
  s->kcut = (2.0 / 3.0) * (kxn < kyn ? kxn : kyn);
  double kc2 = s->kcut * s->kcut;
  size_t best = 0;
  for (int o = 0; o < 3; o++) {
    size_t mx = dep_size(s->nx, g->lx, s->kcut, dep_opts[o].r);
    size_t my = dep_size(s->ny, g->ly, s->kcut, dep_opts[o].r);
    if (o == 0 || mx * my < best) {
      best = mx * my;
      s->mx = mx;
      s->my = my;
      s->P = dep_opts[o].P;
    }
  }
  s->mkx = s->mx / 2 + 1;
  long rmax = (long)floor(s->kcut * g->ly);
  while (rmax > 0 && (rmax / g->ly) * (rmax / g->ly) >= kc2) rmax--;
  s->rmax = rmax;
  s->nrow = (size_t)(2 * rmax + 1);
  s->rlen = malloc(s->nrow * sizeof *s->rlen);
  s->roff = malloc(s->nrow * sizeof *s->roff);
  s->by = malloc(s->nrow * sizeof *s->by);
  s->ky2 = malloc(s->nrow * sizeof *s->ky2);
  s->gy = malloc(s->nrow * sizeof *s->gy);
  if (!s->rlen || !s->roff || !s->by || !s->ky2 || !s->gy)
    return KILN_FAIL(err, KILN_ENOMEM, "slicer: out of memory");
  s->ncol = 0;
  s->ndisk = 0;
  for (size_t j = 0; j < s->nrow; j++) {
    long m = (long)j - rmax;
    double ky = (double)m / g->ly;
    s->ky2[j] = ky * ky;
    s->by[j] = 1.0 / pow(sinc((double)m / (double)s->my), s->P);
    size_t len = (size_t)floor(sqrt(fmax(kc2 - ky * ky, 0.0)) * g->lx) + 1;
    while (len > 1 && ((len - 1) / g->lx) * ((len - 1) / g->lx) + ky * ky >= kc2) len--;
    s->rlen[j] = len;
    s->roff[j] = s->ndisk;
    s->ndisk += len;
    if (len > s->ncol) s->ncol = len;
  }
  if (s->ncol > s->mkx || s->ncol > s->nkx || 2 * (size_t)rmax >= s->my || 2 * (size_t)rmax >= s->ny)
    return KILN_FAIL(err, KILN_ERANGE, "slicer: band-limit disk (%zu columns, %ld rows) does "
                     "not fit the %zu x %zu deposition grid", s->ncol, rmax, s->mx, s->my);
  s->bx = malloc(s->ncol * sizeof *s->bx);
  s->kx2 = malloc(s->ncol * sizeof *s->kx2);
  s->gx = malloc(s->ncol * sizeof *s->gx);
  if (!s->bx || !s->kx2 || !s->gx) return KILN_FAIL(err, KILN_ENOMEM, "slicer: out of memory");
  for (size_t i = 0; i < s->ncol; i++) {
    double kx = (double)i / g->lx;
    s->kx2[i] = kx * kx;
    s->bx[i] = 1.0 / pow(sinc((double)i / (double)s->mx), s->P);
  }
  return KILN_OK;
}

static kiln_status make_plans(kiln_slicer *s, kiln_error *err) {
  unsigned fl = planner_flags();
  int mx = (int)s->mx, my = (int)s->my, nx = (int)s->nx, ny = (int)s->ny;
  int mkx = (int)s->mkx, nkx = (int)s->nkx, nc = (int)s->ncol;
#pragma omp critical(kiln_fftw_planner)
  {
    if (s->prec == KILN_WAVE_F32) {
      s->pfr = fftwf_plan_many_dft_r2c(1, &mx, my, s->rgrid, NULL, 1, mx, s->spec, NULL, 1, mkx, fl);
      s->pfc = fftwf_plan_many_dft(1, &my, nc, s->spec, NULL, mkx, 1, s->spec, NULL, mkx, 1,
                                   FFTW_FORWARD, fl);
      s->pbc = fftwf_plan_many_dft(1, &ny, nc, s->acc, NULL, nkx, 1, s->acc, NULL, nkx, 1,
                                   FFTW_BACKWARD, fl);
      s->pbr = fftwf_plan_many_dft_c2r(1, &nx, ny, s->acc, NULL, 1, nkx, s->vout, NULL, 1, nx,
                                       fl | FFTW_PRESERVE_INPUT);
      if (!s->pbr) {
        s->zero_tail = 1;
        s->pbr = fftwf_plan_many_dft_c2r(1, &nx, ny, s->acc, NULL, 1, nkx, s->vout, NULL, 1, nx, fl);
      }
    } else {
      s->pfr = fftw_plan_many_dft_r2c(1, &mx, my, s->rgrid, NULL, 1, mx, s->spec, NULL, 1, mkx, fl);
      s->pfc = fftw_plan_many_dft(1, &my, nc, s->spec, NULL, mkx, 1, s->spec, NULL, mkx, 1,
                                  FFTW_FORWARD, fl);
      s->pbc = fftw_plan_many_dft(1, &ny, nc, s->acc, NULL, nkx, 1, s->acc, NULL, nkx, 1,
                                  FFTW_BACKWARD, fl);
      s->pbr = fftw_plan_many_dft_c2r(1, &nx, ny, s->acc, NULL, 1, nkx, s->vout, NULL, 1, nx,
                                      fl | FFTW_PRESERVE_INPUT);
      if (!s->pbr) {
        s->zero_tail = 1;
        s->pbr = fftw_plan_many_dft_c2r(1, &nx, ny, s->acc, NULL, 1, nkx, s->vout, NULL, 1, nx, fl);
      }
    }
  }
  if (!s->pfr || !s->pfc || !s->pbc || !s->pbr)
    return KILN_FAIL(err, KILN_EEXTERNAL, "slicer: FFTW could not plan the %zu x %zu / %zu x %zu "
                     "transforms", s->nx, s->ny, s->mx, s->my);
  return KILN_OK;
}

kiln_status kiln_slicer_new(kiln_slicer **out, const kiln_slicer_opts *o, kiln_error *err) {
  if (!out) return KILN_FAIL(err, KILN_EINVAL, "slicer: output pointer is NULL");
  *out = NULL;
  if (!o) return KILN_FAIL(err, KILN_EINVAL, "slicer: options are NULL");
  const kiln_wave_grid *g = &o->grid;
  if (g->nx < 2 || g->ny < 2 || !(g->lx > 0.0) || !(g->ly > 0.0) || !isfinite(g->lx) ||
      !isfinite(g->ly))
    return KILN_FAIL(err, KILN_EINVAL,
                     "slicer: grid %zu x %zu points over %g x %g Å is invalid (need >= 2 points "
                     "and a positive extent)", g->nx, g->ny, g->lx, g->ly);
  if (g->nx > 65536 || g->ny > 65536)
    return KILN_FAIL(err, KILN_ERANGE, "slicer: grid %zu x %zu is too large", g->nx, g->ny);
  if (!(o->dz > 0.0) || !isfinite(o->dz))
    return KILN_FAIL(err, KILN_EINVAL, "slicer: slice thickness dz = %g Å must be positive", o->dz);
  if (o->precision != KILN_WAVE_F32 && o->precision != KILN_WAVE_F64)
    return KILN_FAIL(err, KILN_EINVAL,
                     "slicer: precision %d is neither KILN_WAVE_F32 (1) nor KILN_WAVE_F64 (2)",
                     o->precision);
  if (o->nelem < 1 || !o->Z)
    return KILN_FAIL(err, KILN_EINVAL, "slicer: need at least one element (nelem = %d)", o->nelem);
  kiln_slicer *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "slicer: out of memory");
  s->g = *g;
  s->dz = o->dz;
  s->area = g->lx * g->ly;
  s->finite = o->finite ? 1 : 0;
  s->prec = o->precision;
  s->nelem = o->nelem;
  s->nx = g->nx;
  s->ny = g->ny;
  s->nkx = g->nx / 2 + 1;
  s->Z = malloc((size_t)o->nelem * sizeof *s->Z);
  s->par = malloc((size_t)o->nelem * sizeof *s->par);
  s->present = malloc((size_t)o->nelem * sizeof *s->present);
  if (!s->Z || !s->par || !s->present) {
    kiln_slicer_free(s);
    return KILN_FAIL(err, KILN_ENOMEM, "slicer: out of memory");
  }
  for (int e = 0; e < o->nelem; e++) {
    s->Z[e] = o->Z[e];
    kiln_status st = kiln_kirkland_params(o->Z[e], s->par[e], err);
    if (st != KILN_OK) {
      kiln_slicer_free(s);
      return st;
    }
  }
  kiln_status st = setup_disk(s, err);
  if (st != KILN_OK) {
    kiln_slicer_free(s);
    return st;
  }
  size_t es = s->prec == KILN_WAVE_F32 ? sizeof(float) : sizeof(double);
  s->rgrid = fftw_malloc(s->mx * s->my * es);
  s->spec = fftw_malloc(2 * s->mkx * s->my * es);
  s->acc = fftw_malloc(2 * s->nkx * s->ny * es);
  s->vout = fftw_malloc(s->nx * s->ny * es);
  if (!s->rgrid || !s->vout || !s->spec || !s->acc) {
    kiln_slicer_free(s);
    return KILN_FAIL(err, KILN_ENOMEM, "slicer: out of memory for a %zu x %zu grid", s->nx, s->ny);
  }
  if (s->finite) {
    st = make_terms(s, err);
  } else {
    /* per-element filter 2 pi a0 e f_e(k) / (A b(k)) on the disk */
    s->filt = fftw_malloc((size_t)s->nelem * (s->ndisk ? s->ndisk : 1) * es);
    if (!s->filt) {
      st = KILN_FAIL(err, KILN_ENOMEM, "slicer: out of memory for %d element filters", s->nelem);
    } else {
      const double C = 2.0 * KILN_PI * KILN_BOHR_A * KILN_E2_EVA / s->area;
      for (int e = 0; e < s->nelem; e++)
        for (size_t j = 0; j < s->nrow; j++)
          for (size_t i = 0; i < s->rlen[j]; i++) {
            double v = C * kiln_kirkland_fe(s->par[e], sqrt(s->kx2[i] + s->ky2[j])) * s->bx[i] *
                       s->by[j];
            size_t m = (size_t)e * s->ndisk + s->roff[j] + i;
            if (s->prec == KILN_WAVE_F32) ((float *)s->filt)[m] = (float)v;
            else ((double *)s->filt)[m] = v;
          }
    }
  }
  if (st == KILN_OK) st = make_plans(s, err);
  if (st != KILN_OK) {
    kiln_slicer_free(s);
    return st;
  }
  memset(s->acc, 0, 2 * s->nkx * s->ny * es);
  *out = s;
  return KILN_OK;
}
typedef struct { double z; size_t i; } zkey;
static int cmp_z(const void *a, const void *b) {
  const zkey *p = a, *q = b;
  return p->z < q->z ? -1 : p->z > q->z ? 1 : (p->i > q->i) - (p->i < q->i);
}

kiln_status kiln_slicer_set_atoms(kiln_slicer *s, size_t n, const double (*xyz)[3],
                                  const int32_t *el, double thickness, kiln_error *err) {
  if (!s) return KILN_FAIL(err, KILN_EINVAL, "slicer set_atoms: slicer is NULL");
  if (n > 0 && (!xyz || !el))
    return KILN_FAIL(err, KILN_EINVAL, "slicer set_atoms: positions or elements are NULL");
  if (!(thickness > 0.0) || !isfinite(thickness))
    return KILN_FAIL(err, KILN_EINVAL, "slicer set_atoms: thickness = %g Å must be positive",
                     thickness);
  double ns = ceil(thickness / s->dz * (1.0 - 1e-12));
  if (ns > 1e7)
    return KILN_FAIL(err, KILN_ERANGE, "slicer set_atoms: %g slices of %g Å is too many", ns, s->dz);
  for (size_t i = 0; i < n; i++) {
    if (el[i] < 0 || el[i] >= s->nelem)
      return KILN_FAIL(err, KILN_EINVAL,
                       "slicer set_atoms: atom %zu has element index %d, outside 0..%d", i,
                       (int)el[i], s->nelem - 1);
    if (!isfinite(xyz[i][0]) || !isfinite(xyz[i][1]) || !isfinite(xyz[i][2]))
      return KILN_FAIL(err, KILN_EINVAL, "slicer set_atoms: atom %zu has a non-finite position", i);
  }
  size_t nsl = ns < 1.0 ? 1 : (size_t)ns;
  size_t *start = realloc(s->start, (nsl + 1) * sizeof *start);
  if (!start) return KILN_FAIL(err, KILN_ENOMEM, "slicer set_atoms: out of memory");
  s->start = start;
  if (n > s->cap) {
    double *ax = realloc(s->ax, n * sizeof *ax);
    if (ax) s->ax = ax;
    double *ay = realloc(s->ay, n * sizeof *ay);
    if (ay) s->ay = ay;
    double *az = realloc(s->az, n * sizeof *az);
    if (az) s->az = az;
    int32_t *ae = realloc(s->ael, n * sizeof *ae);
    if (ae) s->ael = ae;
    if (!ax || !ay || !az || !ae)
      return KILN_FAIL(err, KILN_ENOMEM, "slicer set_atoms: out of memory for %zu atoms", n);
    s->cap = n;
  }
  zkey *key = malloc((n ? n : 1) * sizeof *key);
  if (!key) return KILN_FAIL(err, KILN_ENOMEM, "slicer set_atoms: out of memory for %zu atoms", n);
  for (size_t i = 0; i < n; i++) key[i] = (zkey){xyz[i][2], i};
  qsort(key, n, sizeof *key, cmp_z);
  for (size_t j = 0; j < n; j++) {
    size_t i = key[j].i;
    s->ax[j] = xyz[i][0];
    s->ay[j] = xyz[i][1];
    s->az[j] = xyz[i][2];
    s->ael[j] = el[i];
  }
  free(key);
  s->n = n;
  s->nslices = nsl;
  s->thick = thickness;
  /* infinite: slice of an atom = floor(z / dz), clamped to 0..nslices-1 */
  size_t j = 0;
  for (size_t k = 0; k < nsl; k++) {
    s->start[k] = j;
    while (j < n && (k + 1 == nsl || s->az[j] < (double)(k + 1) * s->dz)) j++;
  }
  s->start[nsl] = n;
  return KILN_OK;
}

size_t kiln_slicer_nslices(const kiln_slicer *s) { return s ? s->nslices : 0; }

/* first sorted atom with z >= z0 */
static size_t lower_z(const kiln_slicer *s, double z0) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->az[mid] < z0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* rgrid <- 0 */
static void clear_grid(kiln_slicer *s) {
  memset(s->rgrid, 0, s->mx * s->my * (s->prec == KILN_WAVE_F32 ? sizeof(float) : sizeof(double)));
}

static void deposit(kiln_slicer *s, size_t j, double q) {
  double sx = (double)s->mx / s->g.lx, sy = (double)s->my / s->g.ly;
  if (s->prec == KILN_WAVE_F32)
    deposit_f(s->rgrid, s->mx, s->my, s->P, sx, sy, s->ax[j], s->ay[j], q);
  else deposit_d(s->rgrid, s->mx, s->my, s->P, sx, sy, s->ax[j], s->ay[j], q);
}

/* pruned r2c of the deposition grid: rows, then the disk's columns */
static void forward(kiln_slicer *s) {
  if (s->prec == KILN_WAVE_F32) {
    fftwf_execute((fftwf_plan)s->pfr);
    fftwf_execute((fftwf_plan)s->pfc);
  } else {
    fftw_execute((fftw_plan)s->pfr);
    fftw_execute((fftw_plan)s->pfc);
  }
}

/* acc: zero the disk's columns (and the rest if the row c2r may have written there) */
static void clear_acc(kiln_slicer *s) {
  size_t es = s->prec == KILN_WAVE_F32 ? sizeof(float) : sizeof(double);
  if (s->zero_tail) {
    memset(s->acc, 0, 2 * s->nkx * s->ny * es);
    return;
  }
  char *a = s->acc;
  for (size_t iy = 0; iy < s->ny; iy++) memset(a + 2 * iy * s->nkx * es, 0, 2 * s->ncol * es);
}

kiln_status kiln_slicer_build(kiln_slicer *s, size_t k, void *V, kiln_error *err) {
  if (!s || !V) return KILN_FAIL(err, KILN_EINVAL, "slicer build: slicer or V is NULL");
  if (s->nslices == 0)
    return KILN_FAIL(err, KILN_ESTATE, "slicer build: no atoms set (call kiln_slicer_set_atoms)");
  if (k >= s->nslices)
    return KILN_FAIL(err, KILN_ERANGE, "slicer build: slice %zu out of range (%zu slices)", k,
                     s->nslices);
  int f32 = s->prec == KILN_WAVE_F32, have = 0;
  size_t es = f32 ? sizeof(float) : sizeof(double), nreal = s->nx * s->ny;
  if (!s->finite) {
    size_t a0 = s->start[k], a1 = s->start[k + 1];
    for (int e = 0; e < s->nelem; e++) s->present[e] = 0;
    for (size_t j = a0; j < a1; j++) s->present[s->ael[j]] = 1;
    for (int e = 0; e < s->nelem; e++) {
      if (!s->present[e]) continue;
      clear_grid(s);
      for (size_t j = a0; j < a1; j++)
        if (s->ael[j] == e) deposit(s, j, 1.0);
      forward(s);
      if (!have) clear_acc(s);
      if (f32) diskacc_f(s, (const float *)s->filt + (size_t)e * s->ndisk, NULL, NULL);
      else diskacc_d(s, (const double *)s->filt + (size_t)e * s->ndisk, NULL, NULL);
      have = 1;
    }
  } else {
    double z0 = (double)k * s->dz, z1 = z0 + s->dz;
    const double cA = 1.0 / s->area;
    for (int t = 0; t < s->nterm; t++) {
      double u = s->tu[t], zc = s->tzc[t], r = KILN_PI / sqrt(u);
      size_t a0 = lower_z(s, z0 - zc), a1 = lower_z(s, z1 + zc);
      const double *amp = s->tamp + (size_t)t * s->nelem;
      int any = 0;
      for (size_t j = a0; j < a1; j++) {
        double q = amp[s->ael[j]];
        if (q == 0.0) continue;
        double w = 0.5 * (erf(r * (z1 - s->az[j])) - erf(r * (z0 - s->az[j])));
        if (w * fabs(q) < 1e-14) continue;
        if (!any) clear_grid(s);
        any = 1;
        deposit(s, j, q * w);
      }
      if (!any) continue;
      forward(s);
      if (!have) clear_acc(s);
      for (size_t i = 0; i < s->ncol; i++) s->gx[i] = exp(-u * s->kx2[i]) * s->bx[i] * cA;
      for (size_t i = 0; i < s->nrow; i++) s->gy[i] = exp(-u * s->ky2[i]) * s->by[i];
      if (f32) diskacc_f(s, NULL, s->gx, s->gy);
      else diskacc_d(s, NULL, s->gx, s->gy);
      have = 1;
    }
  }
  if (!have) {
    memset(V, 0, nreal * es);
    return KILN_OK;
  }
  int direct = f32 ? fftwf_alignment_of(V) == fftwf_alignment_of(s->vout)
                   : fftw_alignment_of(V) == fftw_alignment_of(s->vout);
  if (f32) {
    fftwf_execute((fftwf_plan)s->pbc);
    fftwf_execute_dft_c2r((fftwf_plan)s->pbr, s->acc, direct ? V : s->vout);
  } else {
    fftw_execute((fftw_plan)s->pbc);
    fftw_execute_dft_c2r((fftw_plan)s->pbr, s->acc, direct ? V : s->vout);
  }
  if (!direct) memcpy(V, s->vout, nreal * es);
  return KILN_OK;
}
