/* src/corr/corr_internal.h: what correlator styles share (private to src/corr). */
#ifndef KILN_CORR_INTERNAL_H
#define KILN_CORR_INTERNAL_H
#include <math.h>
#include "kiln/corr.h"

struct kiln_corr {
  const kiln_corr_style *style;
  void *state;           /* the style's own */
  char what[64];         /* "correlator sqw", for messages */
  double dt;             /* fs between frames; NAN until known */
  int dt_given;          /* dt came from the options */
  double t_first, t_last;/* times of the first and last frame fed (NAN if unknown) */
  long nframes;          /* frames fed so far */
};

/* For styles whose results need the frame spacing (time axes, spectra): KILN_EINVAL
 * naming the dt option when more than one frame was fed and no spacing is known.
 * Styles that only average over frames (green, spatial) do not call it. */
kiln_status kiln_corr_require_dt(kiln_corr *c, kiln_error *err);

/* The style records (expanded from styles.def). */
#define KILN_CORR_STYLE(name, sym) extern const kiln_corr_style sym;
#include "styles.def"
#undef KILN_CORR_STYLE

/* ---- streaming block-FFT time correlator (src/corr/tcorr.c) ----
 * nser complex series x_s(t), t = 0, 1, 2, ... (one value per series per
 * frame), and npairs pairs (a, b). For lags τ = 0..window-1 it accumulates
 *   C_ab(τ) = Σ_{t ∈ origins, t+τ < T} conj(x_a(t)) x_b(t+τ)
 * and counts n(τ) (number of terms), with time origins every `step` frames
 * (step = 1: every frame is an origin). FFT-based (FFTW, zero-padded blocks of
 * 2*window), so the cost per frame is O(nser log window) and the memory
 * O(nser * window), independent of the number of frames. Results may be read
 * at any time; reading does not change what later frames add. */
typedef struct kiln_tcorr kiln_tcorr;
kiln_status kiln_tcorr_new(kiln_tcorr **out, size_t nser, const size_t (*pairs)[2],
                           size_t npairs, size_t window, size_t step, kiln_error *err);
void kiln_tcorr_free(kiln_tcorr *t);
/* Where the caller writes the nser values of the next frame ({re, im} each). */
double (*kiln_tcorr_slot(kiln_tcorr *t))[2];
/* Commit the frame written into the slot. */
kiln_status kiln_tcorr_push(kiln_tcorr *t, kiln_error *err);
/* Averages so far: c[p*window + τ] = C_p(τ)/n(τ) (npairs x window complex;
 * zero where n(τ) = 0), and n(τ) in count (may be NULL). */
kiln_status kiln_tcorr_get(kiln_tcorr *t, double (*c)[2], double *count, kiln_error *err);
size_t kiln_tcorr_window(const kiln_tcorr *t);
long kiln_tcorr_nframes(const kiln_tcorr *t);
#endif
