/* src/wave/multislice.c: the multislice propagator.
 *
 * The 2-D FFTs are done as batches of contiguous 1-D transforms with blocked transposes
 * in between (rows along x, then the kept columns along y): FFTW plans of contiguous
 * batches are fast even with FFTW_ESTIMATE, whereas 2-D in-place plans with power-of-two
 * strides are not (10-20x slower here). Reciprocal space is held transposed, [kx][ky], and
 * only the columns with |kx| < k_max (the band limit) are transformed along y, multiplied
 * and transformed back: about 5/6 of the work of two full 2-D FFTs. */
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "prop_internal.h"

#define TB 32   /* transpose tile */
/* Split [0, n) over nt threads (a plain loop when nt == 1: an OpenMP region around a
 * simd loop costs a 9x slowdown here even with if(false)). */
#define SPLIT(nt, n, CALL)                                                           \
  do {                                                                               \
    if ((nt) <= 1) { size_t i0 = 0, i1 = (n); CALL; }                                \
    else {                                                                           \
      _Pragma("omp parallel num_threads(nt)") {                                      \
        size_t nth = (size_t)omp_get_num_threads(), me = (size_t)omp_get_thread_num(); \
        size_t i0 = (n) * me / nth, i1 = (n) * (me + 1) / nth;                       \
        CALL;                                                                        \
      }                                                                              \
    }                                                                                \
  } while (0)

#define R float
#define SUF f32
#include "ms_kernels.h"
#undef R
#undef SUF
#define R double
#define SUF f64
#include "ms_kernels.h"
#undef R
#undef SUF

struct kiln_multislice {
  kiln_wave_grid g;
  double energy, dz, lambda, sigma, kmax;
  int prec, nthreads;
  size_t na, nb, nk;     /* kept kx columns: [0, na) and [nx - nb, nx); nk = na + nb */
  void *prop;            /* P(k) mask(k) / (nx ny) on the kept columns, [nk][ny] complex */
  void *T;               /* [nk][ny] complex scratch (transposed spectrum) */
  void *F;               /* [ny][nx] complex scratch (diffraction; row plans made on it) */
  void *TF;              /* [nx][ny] complex (diffraction, lazy) */
  void *V;               /* slice potential for kiln_multislice_run (lazy) */
  void *rx_f, *rx_b;     /* ny transforms of length nx (fftw_plan or fftwf_plan) */
  void *ry_f, *ry_b;     /* nk transforms of length ny */
  void *ryall;           /* nx forward transforms of length ny (diffraction, lazy) */
};

/* Planner effort: FFTW_ESTIMATE unless KILN_FFTW_PLANNER=measure|patient|exhaustive. */
static unsigned planner_flags(void) {
  const char *e = getenv("KILN_FFTW_PLANNER");
  if (!e) return FFTW_ESTIMATE;
  if (!strcmp(e, "measure")) return FFTW_MEASURE;
  if (!strcmp(e, "patient")) return FFTW_PATIENT;
  if (!strcmp(e, "exhaustive")) return FFTW_EXHAUSTIVE;
  return FFTW_ESTIMATE;
}

void kiln_wave_fftw_init_threads_(void) {
  /* Idempotent in FFTW >= 3.3 (a second call returns at once). */
  fftw_init_threads();
  fftwf_init_threads();
}

static size_t csize(int prec) {
  return prec == KILN_WAVE_F32 ? sizeof(fftwf_complex) : sizeof(fftw_complex);
}

/* howmany contiguous in-place transforms of length n on buf (serialised planner). */
static void *plan_rows(int prec, int nthreads, size_t n, size_t howmany, void *buf, int sign) {
  void *p = NULL;
  int nn = (int)n, hm = (int)howmany;
  unsigned fl = planner_flags();
  if (howmany == 0) return NULL;
#pragma omp critical(kiln_fftw_planner)
  {
    kiln_wave_fftw_init_threads_();
    if (prec == KILN_WAVE_F32) {
      fftwf_plan_with_nthreads(nthreads);
      p = fftwf_plan_many_dft(1, &nn, hm, buf, NULL, 1, nn, buf, NULL, 1, nn, sign, fl);
      fftwf_plan_with_nthreads(1);
    } else {
      fftw_plan_with_nthreads(nthreads);
      p = fftw_plan_many_dft(1, &nn, hm, buf, NULL, 1, nn, buf, NULL, 1, nn, sign, fl);
      fftw_plan_with_nthreads(1);
    }
  }
  return p;
}

static void destroy_plan(int prec, void *p) {
  if (!p) return;
#pragma omp critical(kiln_fftw_planner)
  {
    if (prec == KILN_WAVE_F32) fftwf_destroy_plan(p);
    else fftw_destroy_plan(p);
  }
}

/* Run plan p (made on another array of the same layout and alignment) on a. */
static void exec(int prec, void *p, void *a) {
  if (!p) return;
  if (prec == KILN_WAVE_F32) fftwf_execute_dft(p, a, a);
  else fftw_execute_dft(p, a, a);
}

void kiln_multislice_free(kiln_multislice *m) {
  if (!m) return;
  destroy_plan(m->prec, m->rx_f);
  destroy_plan(m->prec, m->rx_b);
  destroy_plan(m->prec, m->ry_f);
  destroy_plan(m->prec, m->ry_b);
  destroy_plan(m->prec, m->ryall);
  fftw_free(m->prop);
  fftw_free(m->T);
  fftw_free(m->F);
  fftw_free(m->TF);
  fftw_free(m->V);
  free(m);
}

kiln_status kiln_multislice_new(kiln_multislice **out, const kiln_wave_grid *g,
                                double energy_ev, double dz, int precision, int nthreads,
                                kiln_error *err) {
  if (!out) return KILN_FAIL(err, KILN_EINVAL, "multislice: output pointer is NULL");
  *out = NULL;
  kiln_status st = kiln_wave_check_grid_(g, "multislice", err);
  if (st != KILN_OK) return st;
  if (!(energy_ev > 0) || !isfinite(energy_ev))
    return KILN_FAIL(err, KILN_EINVAL, "multislice: energy %g eV must be positive", energy_ev);
  if (!(dz >= 0) || !isfinite(dz))
    return KILN_FAIL(err, KILN_EINVAL, "multislice: slice thickness dz = %g Å must be >= 0", dz);
  if (precision != KILN_WAVE_F32 && precision != KILN_WAVE_F64)
    return KILN_FAIL(err, KILN_EINVAL,
                     "multislice: precision %d is neither KILN_WAVE_F32 (1) nor KILN_WAVE_F64 (2)",
                     precision);
  if (nthreads < 0 || nthreads > 4096)
    return KILN_FAIL(err, KILN_EINVAL, "multislice: nthreads = %d (need 0..4096; 0 = 1)",
                     nthreads);
  kiln_multislice *m = calloc(1, sizeof *m);
  if (!m) return KILN_FAIL(err, KILN_ENOMEM, "multislice: out of memory");
  m->g = *g;
  m->energy = energy_ev;
  m->dz = dz;
  m->prec = precision;
  m->nthreads = nthreads > 0 ? nthreads : 1;
  m->lambda = kiln_wave_wavelength(energy_ev);
  m->sigma = kiln_wave_sigma(energy_ev);
  m->kmax = kiln_wave_kmax_(g);
  size_t nx = g->nx, ny = g->ny, n = nx * ny, es = csize(precision);
  for (size_t ix = 0; ix < nx; ix++)
    if (fabs(kiln_wave_freq_(ix, nx, g->lx)) < m->kmax) {
      if (ix < (nx + 1) / 2) m->na++;
      else m->nb++;
    }
  m->nk = m->na + m->nb;
  size_t nT = (m->nk ? m->nk : 1) * ny;
  m->prop = fftw_malloc(nT * es);
  m->T = fftw_malloc(nT * es);
  m->F = fftw_malloc(n * es);
  if (!m->prop || !m->T || !m->F) {
    kiln_multislice_free(m);
    return KILN_FAIL(err, KILN_ENOMEM, "multislice: out of memory for a %zu x %zu grid", nx, ny);
  }
  memset(m->T, 0, nT * es);
  memset(m->F, 0, n * es);
  m->rx_f = plan_rows(precision, m->nthreads, nx, ny, m->F, FFTW_FORWARD);
  m->rx_b = plan_rows(precision, m->nthreads, nx, ny, m->F, FFTW_BACKWARD);
  m->ry_f = plan_rows(precision, m->nthreads, ny, m->nk, m->T, FFTW_FORWARD);
  m->ry_b = plan_rows(precision, m->nthreads, ny, m->nk, m->T, FFTW_BACKWARD);
  if (!m->rx_f || !m->rx_b || (m->nk && (!m->ry_f || !m->ry_b))) {
    kiln_multislice_free(m);
    return KILN_FAIL(err, KILN_EEXTERNAL, "multislice: FFTW could not plan a %zu x %zu transform",
                     nx, ny);
  }
  /* P(k) = exp(-i pi lambda dz k^2) for |k| < k_max, else 0; 1/(nx ny) folded in.
   * Layout [j][iy], j over the kept columns. */
  double inv = 1.0 / (double)n, k2max = m->kmax * m->kmax;
  for (size_t j = 0; j < m->nk; j++) {
    size_t ix = j < m->na ? j : nx - m->nb + (j - m->na);
    double kx = kiln_wave_freq_(ix, nx, g->lx);
    for (size_t iy = 0; iy < ny; iy++) {
      double ky = kiln_wave_freq_(iy, ny, g->ly), k2 = kx * kx + ky * ky;
      double re = 0.0, im = 0.0;
      if (k2 < k2max) {
        double ph = -M_PI * m->lambda * dz * k2;
        re = cos(ph) * inv;
        im = sin(ph) * inv;
      }
      size_t i = j * ny + iy;
      if (precision == KILN_WAVE_F32) {
        ((float *)m->prop)[2 * i] = (float)re;
        ((float *)m->prop)[2 * i + 1] = (float)im;
      } else {
        ((double *)m->prop)[2 * i] = re;
        ((double *)m->prop)[2 * i + 1] = im;
      }
    }
  }
  *out = m;
  return KILN_OK;
}

/* Fast single-precision sincos: Cody-Waite reduction to [-pi/4, pi/4] by quadrant,
 * minimax polynomials (Cephes coefficients), branch-free so the loop vectorises.
 * Absolute error ~1e-7 for |x| < 1e4. */
static inline void sincos_fast(float x, float *s, float *c) {
  const float magic = 12582912.0f; /* 1.5 * 2^23: round to nearest integer */
  float qf = (x * 0.636619772f + magic) - magic;
  int q = (int)qf;
  float r = x - qf * 1.5703125f;
  r -= qf * 4.837512969970703125e-4f;
  r -= qf * 7.54978995489188216e-8f;
  float z = r * r;
  float sp = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * r + r;
  float cp = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) *
                 z * z - 0.5f * z + 1.0f;
  int swap = q & 1;
  float sv = swap ? cp : sp, cv = swap ? sp : cp;
  *s = (q & 2) ? -sv : sv;
  *c = ((q + 1) & 2) ? -cv : cv;
}

static void transmit_f32_(float *restrict p, const float *restrict V, float sg, size_t i0,
                          size_t i1) {
  for (size_t i = i0; i < i1; i++) {
    float s, c;
    sincos_fast(sg * V[i], &s, &c);
    float re = p[2 * i], im = p[2 * i + 1];
    p[2 * i] = re * c - im * s;
    p[2 * i + 1] = re * s + im * c;
  }
}

static void transmit_f64_(double *restrict p, const double *restrict V, double sg, size_t i0,
                          size_t i1) {
  for (size_t i = i0; i < i1; i++) {
    double ph = sg * V[i], s = sin(ph), c = cos(ph);
    double re = p[2 * i], im = p[2 * i + 1];
    p[2 * i] = re * c - im * s;
    p[2 * i + 1] = re * s + im * c;
  }
}

static void transmit_f32(float *p, const float *V, float sg, size_t n, int nt) {
  SPLIT(nt, n, transmit_f32_(p, V, sg, i0, i1));
}
static void transmit_f64(double *p, const double *V, double sg, size_t n, int nt) {
  SPLIT(nt, n, transmit_f64_(p, V, sg, i0, i1));
}

kiln_status kiln_multislice_check_wave_(const kiln_multislice *m, const kiln_wave *w, const char *what,
                              kiln_error *err) {
  if (!m || !w) return KILN_FAIL(err, KILN_EINVAL, "%s: multislice or wave is NULL", what);
  if (w->g.nx != m->g.nx || w->g.ny != m->g.ny || fabs(w->g.lx - m->g.lx) > 1e-12 * m->g.lx ||
      fabs(w->g.ly - m->g.ly) > 1e-12 * m->g.ly)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: wave grid %zu x %zu (%g x %g Å) differs from the propagator's %zu x %zu "
                     "(%g x %g Å)", what, w->g.nx, w->g.ny, w->g.lx, w->g.ly, m->g.nx, m->g.ny,
                     m->g.lx, m->g.ly);
  if (w->prec != m->prec)
    return KILN_FAIL(err, KILN_EINVAL, "%s: wave precision %d differs from the propagator's %d",
                     what, w->prec, m->prec);
  if (fabs(w->energy - m->energy) > 1e-9 * m->energy)
    return KILN_FAIL(err, KILN_EINVAL, "%s: wave energy %g eV differs from the propagator's %g eV",
                     what, w->energy, m->energy);
  return KILN_OK;
}

kiln_status kiln_multislice_step(kiln_multislice *m, kiln_wave *w, const void *V,
                                 kiln_error *err) {
  kiln_status st = kiln_multislice_check_wave_(m, w, "multislice step", err);
  if (st != KILN_OK) return st;
  size_t nx = m->g.nx, ny = m->g.ny, n = nx * ny, na = m->na, nb = m->nb, nk = m->nk;
  int nt = m->nthreads, pr = m->prec;
  if (pr == KILN_WAVE_F32) {
    float *p = w->data, *T = m->T;
    if (V) transmit_f32(p, V, (float)m->sigma, n, nt);
    exec(pr, m->rx_f, p);
    transpose_in_f32(T, p, nx, ny, 0, na, nt);
    transpose_in_f32(T + 2 * na * ny, p, nx, ny, nx - nb, nb, nt);
    exec(pr, m->ry_f, T);
    cmul_f32(T, m->prop, nk * ny, nt);
    exec(pr, m->ry_b, T);
    transpose_out_f32(p, T, nx, ny, 0, na, nt);
    transpose_out_f32(p, T + 2 * na * ny, nx, ny, nx - nb, nb, nt);
    zero_cols_f32(p, nx, ny, na, nx - nb, nt);
    exec(pr, m->rx_b, p);
  } else {
    double *p = w->data, *T = m->T;
    if (V) transmit_f64(p, V, m->sigma, n, nt);
    exec(pr, m->rx_f, p);
    transpose_in_f64(T, p, nx, ny, 0, na, nt);
    transpose_in_f64(T + 2 * na * ny, p, nx, ny, nx - nb, nb, nt);
    exec(pr, m->ry_f, T);
    cmul_f64(T, m->prop, nk * ny, nt);
    exec(pr, m->ry_b, T);
    transpose_out_f64(p, T, nx, ny, 0, na, nt);
    transpose_out_f64(p, T + 2 * na * ny, nx, ny, nx - nb, nb, nt);
    zero_cols_f64(p, nx, ny, na, nx - nb, nt);
    exec(pr, m->rx_b, p);
  }
  return KILN_OK;
}

kiln_status kiln_multislice_run(kiln_multislice *m, kiln_wave *w, kiln_slicer *s,
                                kiln_error *err) {
  kiln_status st = kiln_multislice_check_wave_(m, w, "multislice run", err);
  if (st != KILN_OK) return st;
  if (!s) return KILN_FAIL(err, KILN_EINVAL, "multislice run: slicer is NULL");
  size_t n = m->g.nx * m->g.ny;
  if (!m->V) {
    m->V = fftw_malloc(n * (m->prec == KILN_WAVE_F32 ? sizeof(float) : sizeof(double)));
    if (!m->V)
      return KILN_FAIL(err, KILN_ENOMEM, "multislice run: out of memory for the slice potential");
  }
  size_t ns = kiln_slicer_nslices(s);
  for (size_t k = 0; k < ns; k++) {
    st = kiln_slicer_build(s, k, m->V, err);
    if (st != KILN_OK) return st;
    st = kiln_multislice_step(m, w, m->V, err);
    if (st != KILN_OK) return st;
  }
  return KILN_OK;
}

kiln_status kiln_multislice_intensity_(kiln_multislice *m, const kiln_wave *w, double *I,
                                       kiln_error *err) {
  size_t nx = m->g.nx, ny = m->g.ny, n = nx * ny, es = csize(m->prec);
  int pr = m->prec, nt = m->nthreads;
  if (!m->TF) {
    m->TF = fftw_malloc(n * es);
    if (!m->TF)
      return KILN_FAIL(err, KILN_ENOMEM, "diffraction: out of memory for a %zu x %zu grid", nx, ny);
    memset(m->TF, 0, n * es);
    m->ryall = plan_rows(pr, nt, ny, nx, m->TF, FFTW_FORWARD);
    if (!m->ryall)
      return KILN_FAIL(err, KILN_EEXTERNAL, "diffraction: FFTW could not plan %zu x %zu", nx, ny);
  }
  memcpy(m->F, w->data, n * es);
  exec(pr, m->rx_f, m->F);
  if (pr == KILN_WAVE_F32) transpose_in_f32(m->TF, m->F, nx, ny, 0, nx, nt);
  else transpose_in_f64(m->TF, m->F, nx, ny, 0, nx, nt);
  exec(pr, m->ryall, m->TF);
  /* Parseval: sum_k |F_k|^2 = n sum_r |psi_r|^2, so I = |F|^2 / n^2 sums to the norm. */
  double sc = 1.0 / ((double)n * (double)n);
  for (size_t ix = 0; ix < nx; ix++)
    for (size_t iy = 0; iy < ny; iy++) {
      size_t j = ix * ny + iy;
      double re, im;
      if (pr == KILN_WAVE_F32) {
        re = (double)((const float *)m->TF)[2 * j];
        im = (double)((const float *)m->TF)[2 * j + 1];
      } else {
        re = ((const double *)m->TF)[2 * j];
        im = ((const double *)m->TF)[2 * j + 1];
      }
      I[iy * nx + ix] += sc * (re * re + im * im);
    }
  return KILN_OK;
}
