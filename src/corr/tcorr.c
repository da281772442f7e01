/* src/corr/tcorr.c: streaming block-FFT time correlator (kiln_tcorr, see corr_internal.h).
 *
 * Frames are grouped in blocks of W = window frames. The current (incomplete)
 * block is kept raw (W x nser values). When a block k completes, its zero-padded
 * transform B_k (length L = good_size(2W) >= 2W) is taken; then block k-1 is
 * correlated as the origin block against the 2W frames of blocks k-1 and k:
 *   acc_p(f) += conj(A_{k-1,a}(f)) (B_{k-1,b}(f) + e^{-2 pi i f W/L} B_{k,b}(f))
 * where A is the transform of the block masked to its time origins (A = B when
 * step = 1). Lags < W from an origin in block k-1 never leave blocks k-1, k, and
 * L >= 2W keeps the circular correlation free of wrap-around. The lag-domain
 * sums are one inverse transform of acc_p away (done at read time). Reading also
 * adds, into a copy, the origins not yet processed (block k-1 against the
 * partial block, the partial block against itself), so results are exact at any
 * frame count and reading never changes the state.
 * Memory: nser (W + 2L [+ L if step > 1]) + npairs L complex numbers. */
#include <stdlib.h>
#include <string.h>
#include "corr_internal.h"
#include "kiln/fft.h"

typedef double cplx[2];

struct kiln_tcorr {
  size_t nser, npairs, W, step, L;
  size_t (*pairs)[2];
  long T;                /* frames pushed */
  cplx *raw;             /* W x nser: the current block, frame-major */
  cplx *Bprev, *Bnew;    /* nser x L: transforms of the last complete block / scratch */
  cplx *Aprev;           /* nser x L: masked transform of the last complete block (Bprev if step 1) */
  cplx *acc;             /* npairs x L */
  cplx *ph;              /* L: exp(-2 pi i f W / L) */
  kiln_fft *fwd, *inv;   /* c2c length L, forward / backward, one row */
};

void kiln_tcorr_free(kiln_tcorr *t) {
  if (!t) return;
  free(t->pairs);
  free(t->raw);
  free(t->Bprev);
  free(t->Bnew);
  if (t->Aprev != t->Bprev) free(t->Aprev);
  free(t->acc);
  free(t->ph);
  kiln_fft_free(t->fwd);
  kiln_fft_free(t->inv);
  free(t);
}

static void *czalloc(size_t n) { return calloc(n ? n : 1, sizeof(cplx)); }

kiln_status kiln_tcorr_new(kiln_tcorr **out, size_t nser, const size_t (*pairs)[2],
                           size_t npairs, size_t window, size_t step, kiln_error *err) {
  *out = NULL;
  if (nser == 0 || window == 0 || step == 0)
    return KILN_FAIL(err, KILN_EINVAL,
                     "time correlator: series (%zu), window (%zu) and step (%zu) must all be >= 1",
                     nser, window, step);
  if (npairs && !pairs)
    return KILN_FAIL(err, KILN_EINVAL, "time correlator: %zu pairs but no pair list", npairs);
  for (size_t p = 0; p < npairs; p++)
    if (pairs[p][0] >= nser || pairs[p][1] >= nser)
      return KILN_FAIL(err, KILN_EINVAL,
                       "time correlator: pair %zu = (%zu, %zu) names a series outside 0..%zu", p,
                       pairs[p][0], pairs[p][1], nser - 1);
  if (window > ((size_t)1 << 28) || nser > ((size_t)1 << 40) / window)
    return KILN_FAIL(err, KILN_ERANGE, "time correlator: window %zu x %zu series is too large",
                     window, nser);
  kiln_tcorr *t = calloc(1, sizeof *t);
  if (!t) return KILN_FAIL(err, KILN_ENOMEM, "time correlator: out of memory");
  t->nser = nser;
  t->npairs = npairs;
  t->W = window;
  t->step = step;
  t->L = kiln_fft_good_size(2 * window);
  const size_t L = t->L;
  t->pairs = malloc((npairs ? npairs : 1) * sizeof *t->pairs);
  t->raw = czalloc(window * nser);
  t->Bprev = czalloc(L * nser);
  t->Bnew = czalloc(L * nser);
  t->Aprev = step > 1 ? czalloc(L * nser) : t->Bprev;
  t->acc = czalloc(L * npairs);
  t->ph = czalloc(L);
  if (!t->pairs || !t->raw || !t->Bprev || !t->Bnew || !t->Aprev || !t->acc || !t->ph) {
    kiln_tcorr_free(t);
    return KILN_FAIL(err, KILN_ENOMEM,
                     "time correlator: out of memory for %zu series x window %zu (%zu pairs)",
                     nser, window, npairs);
  }
  if (npairs) memcpy(t->pairs, pairs, npairs * sizeof *t->pairs);
  for (size_t f = 0; f < L; f++) {
    /* exact integer reduction of f*W mod L keeps the phase argument small */
    double x = -2.0 * M_PI * (double)((f * window) % L) / (double)L;
    t->ph[f][0] = cos(x);
    t->ph[f][1] = sin(x);
  }
  kiln_status st = kiln_fft_new_c2c(&t->fwd, L, 1, -1, err);
  if (!st) st = kiln_fft_new_c2c(&t->inv, L, 1, +1, err);
  if (st) {
    kiln_tcorr_free(t);
    return st;
  }
  *out = t;
  return KILN_OK;
}

size_t kiln_tcorr_window(const kiln_tcorr *t) { return t->W; }
long kiln_tcorr_nframes(const kiln_tcorr *t) { return t->T; }

double (*kiln_tcorr_slot(kiln_tcorr *t))[2] {
  return t->raw + (size_t)(t->T % (long)t->W) * t->nser;
}

/* Transform of series s of the raw block (first n frames, the block starting at
 * global frame t0), masked to time origins if mask, into dst (L values). */
static void block_fft(kiln_tcorr *t, size_t s, size_t n, long t0, int mask, cplx *dst) {
  cplx *in = (cplx *)kiln_fft_in(t->fwd);
  const size_t nser = t->nser, step = t->step;
  for (size_t i = 0; i < n; i++) {
    int keep = !mask || ((size_t)(t0 + (long)i) % step) == 0;
    in[i][0] = keep ? t->raw[i * nser + s][0] : 0.0;
    in[i][1] = keep ? t->raw[i * nser + s][1] : 0.0;
  }
  memset(in + n, 0, (t->L - n) * sizeof *in);
  kiln_fft_execute(t->fwd);
  memcpy(dst, kiln_fft_out(t->fwd), t->L * sizeof *dst);
}

/* acc(f) += conj(A(f)) (B0(f) + ph(f) B1(f)); B1 may be NULL (then just B0). */
static void accumulate(cplx *restrict acc, const cplx *A, const cplx *B0, const cplx *B1,
                       const cplx *ph, size_t L) {
  for (size_t f = 0; f < L; f++) {
    double yr = B0[f][0], yi = B0[f][1];
    if (B1) {
      yr += ph[f][0] * B1[f][0] - ph[f][1] * B1[f][1];
      yi += ph[f][0] * B1[f][1] + ph[f][1] * B1[f][0];
    }
    double ar = A[f][0], ai = -A[f][1];
    acc[f][0] += ar * yr - ai * yi;
    acc[f][1] += ar * yi + ai * yr;
  }
}

kiln_status kiln_tcorr_push(kiln_tcorr *t, kiln_error *err) {
  (void)err;
  t->T++;
  if (t->T % (long)t->W) return KILN_OK;
  /* block k = T/W - 1 just completed; it starts at frame t0 */
  const size_t L = t->L, W = t->W;
  const long k = t->T / (long)W - 1, t0 = k * (long)W;
  for (size_t s = 0; s < t->nser; s++) block_fft(t, s, W, t0, 0, t->Bnew + s * L);
  if (k >= 1)
    for (size_t p = 0; p < t->npairs; p++)
      accumulate(t->acc + p * L, t->Aprev + t->pairs[p][0] * L, t->Bprev + t->pairs[p][1] * L,
                 t->Bnew + t->pairs[p][1] * L, t->ph, L);
  cplx *tmp = t->Bprev;
  t->Bprev = t->Bnew;
  t->Bnew = tmp;
  if (t->step > 1)
    for (size_t s = 0; s < t->nser; s++) block_fft(t, s, W, t0, 1, t->Aprev + s * L);
  else
    t->Aprev = t->Bprev;
  return KILN_OK;
}

kiln_status kiln_tcorr_get(kiln_tcorr *t, double (*c)[2], double *count, kiln_error *err) {
  const size_t L = t->L, W = t->W, nser = t->nser;
  const long T = t->T, nb = T / (long)W;
  const size_t r = (size_t)(T % (long)W);
  cplx *Bpart = NULL, *Apart = NULL, *spec = NULL;
  if (r > 0) {
    /* t->Bnew is scratch between blocks: the partial block's transform goes there */
    Bpart = t->Bnew;
    for (size_t s = 0; s < nser; s++) block_fft(t, s, r, nb * (long)W, 0, Bpart + s * L);
    if (t->step > 1) {
      if (!(Apart = czalloc(L * nser)))
        return KILN_FAIL(err, KILN_ENOMEM, "time correlator: out of memory reading results");
      for (size_t s = 0; s < nser; s++) block_fft(t, s, r, nb * (long)W, 1, Apart + s * L);
    } else {
      Apart = Bpart;
    }
  }
  if (!(spec = czalloc(L))) {
    if (Apart != Bpart) free(Apart);
    return KILN_FAIL(err, KILN_ENOMEM, "time correlator: out of memory reading results");
  }
  double *n = count;
  for (size_t p = 0; p < t->npairs; p++) {
    const size_t a = t->pairs[p][0], b = t->pairs[p][1];
    memcpy(spec, t->acc + p * L, L * sizeof *spec);
    if (nb >= 1)
      accumulate(spec, t->Aprev + a * L, t->Bprev + b * L, r ? Bpart + b * L : NULL, t->ph, L);
    if (r > 0) accumulate(spec, Apart + a * L, Bpart + b * L, NULL, t->ph, L);
    memcpy(kiln_fft_in(t->inv), spec, L * sizeof *spec);
    kiln_fft_execute(t->inv);
    const cplx *o = kiln_fft_out(t->inv);
    for (size_t tau = 0; tau < W; tau++) {
      long last = T - 1 - (long)tau;   /* origins 0, step, ... <= last */
      double cnt = last >= 0 ? (double)(last / (long)t->step + 1) : 0.0;
      double s = cnt > 0 ? 1.0 / ((double)L * cnt) : 0.0;
      c[p * W + tau][0] = o[tau][0] * s;
      c[p * W + tau][1] = o[tau][1] * s;
      if (n && p == 0) n[tau] = cnt;
    }
  }
  if (n && t->npairs == 0)
    for (size_t tau = 0; tau < W; tau++) {
      long last = T - 1 - (long)tau;
      n[tau] = last >= 0 ? (double)(last / (long)t->step + 1) : 0.0;
    }
  free(spec);
  if (Apart != Bpart) free(Apart);
  return KILN_OK;
}
