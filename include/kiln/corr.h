/* kiln/corr.h: streaming time-correlation functions ("correlators") and the
 * named-array results they produce.
 *
 * A correlator is made by style name ("sqw", "vacf", "green", "dipole",
 * "spatial") from an options tree, then fed frames one at a time, in time
 * order, either from a running MD (kiln_corr_observer) or from a trajectory
 * file (kiln_corr_feed). It never keeps the trajectory: its memory is bounded
 * by its own settings (q-points x window, ...), independent of run length.
 * kiln_corr_result may be called at any time (also mid-run, without disturbing
 * the accumulation) and returns everything computed so far.
 *
 * Time: frames must be evenly spaced. The spacing is the option dt (fs) when
 * given; otherwise it is taken from the times of the first two frames, and
 * every later frame must keep it (relative 1e-6), else KILN_EINVAL naming the
 * frame and both spacings. Feeding a frame with time = NAN means "unknown"
 * (then dt must be an option). Units: fs, Å, rad/Å (q includes the 2π),
 * rad/fs (ω); results carry their units.
 *
 * Feeding the same frames offline (from a file) or in situ (as an observer)
 * gives bit-identical results: both go through kiln_corr_add_frame. */
#ifndef KILN_CORR_H
#define KILN_CORR_H
#include <stddef.h>
#include "array.h"
#include "atoms.h"
#include "md.h"
#include "opts.h"

/* ---------------------------------------------------------------- results */

/* One named array with its unit and a one-line description. */
typedef struct kiln_result_item {
  char *name;      /* e.g. "sqw_coh", "omega", "fqt_partial/Si-Si" ('/' makes HDF5 subgroups) */
  kiln_array *a;   /* owned */
  char *unit;      /* e.g. "fs", "rad/fs", "rad/Å", "1" (dimensionless) */
  char *desc;
} kiln_result_item;

/* One scalar or string attribute of the whole result (dt, window, T, style...). */
typedef struct kiln_result_attr {
  char *name;
  int is_str;
  double num;
  char *str;
} kiln_result_attr;

typedef struct kiln_result {
  kiln_result_item *item; size_t n, cap;
  kiln_result_attr *attr; size_t nattr, acap;
} kiln_result;

kiln_status kiln_result_new(kiln_result **out, kiln_error *err);
void kiln_result_free(kiln_result *r);  /* NULL is a no-op */
/* Append an item; takes ownership of a (also on failure: a is freed). A name
 * already present is replaced. */
kiln_status kiln_result_add(kiln_result *r, const char *name, kiln_array *a, const char *unit,
                            const char *desc, kiln_error *err);
/* Convenience: a new rows x cols array filled from data (copied). */
kiln_status kiln_result_add_copy(kiln_result *r, const char *name, const double *data,
                                 size_t rows, size_t cols, const char *unit, const char *desc,
                                 kiln_error *err);
kiln_status kiln_result_attr_num(kiln_result *r, const char *name, double v, kiln_error *err);
kiln_status kiln_result_attr_str(kiln_result *r, const char *name, const char *v,
                                 kiln_error *err);
/* Item by name, or NULL. */
const kiln_result_item *kiln_result_get(const kiln_result *r, const char *name);
/* Write to HDF5: each item a dataset under `group` (created; "/" for the root;
 * '/' inside item names makes subgroups), with attributes "unit" and
 * "description"; result attributes become attributes of the group. Written to a
 * temporary file and renamed (atomic) unless append is set, in which case the
 * group is added to an existing file (KILN_EINVAL if the group exists). */
kiln_status kiln_result_write_h5(const kiln_result *r, const char *file, const char *group,
                                 int append, kiln_error *err);

/* ---------------------------------------------------------------- correlators */

typedef struct kiln_corr kiln_corr;

/* A style: the state is private to the style (c->state, see src/corr/corr_internal.h). */
typedef struct kiln_corr_style {
  const char *name, *description, *citation;
  const char *options;  /* one "name=... meaning (unit, default)" per line, as potentials */
  /* parse options (dt, every, ... are parsed by the framework first), allocate
   * what does not depend on the atoms */
  kiln_status (*init)(kiln_corr *c, const kiln_opts *o, kiln_error *err);
  /* one frame; the first call sees the first frame (size buffers from it);
   * later frames must have the same atom count and species (the style checks) */
  kiln_status (*frame)(kiln_corr *c, const kiln_atoms *a, kiln_error *err);
  /* fill r with everything computed so far (must not disturb later frames) */
  kiln_status (*result)(kiln_corr *c, kiln_result *r, kiln_error *err);
  void (*destroy)(kiln_corr *c);
} kiln_corr_style;

size_t kiln_corr_nstyles(void);
const kiln_corr_style *kiln_corr_style_at(size_t i);
const kiln_corr_style *kiln_corr_style_find(const char *name);

/* o may be NULL. Unknown options are an error naming them. */
kiln_status kiln_corr_new(kiln_corr **out, const char *style, const kiln_opts *o,
                          kiln_error *err);
void kiln_corr_free(kiln_corr *c);  /* NULL is a no-op */
const kiln_corr_style *kiln_corr_style_of(const kiln_corr *c);

/* Feed one frame taken at `time` (fs; NAN if unknown). */
kiln_status kiln_corr_add_frame(kiln_corr *c, const kiln_atoms *a, double time,
                                kiln_error *err);
long kiln_corr_nframes(const kiln_corr *c);  /* frames fed so far */
double kiln_corr_dt(const kiln_corr *c);     /* frame spacing (fs), NAN until known */
/* Everything so far as a new result (caller frees); the framework adds the
 * attributes style, dt (fs) and nframes. KILN_EINVAL if no frame was fed. */
kiln_status kiln_corr_result(kiln_corr *c, kiln_result **out, kiln_error *err);

/* An MD observer feeding c every `every` steps (the frame time is the run's
 * time, thermo->time). at_start is 0: the first frame is after `every` steps. */
kiln_observer kiln_corr_observer(kiln_corr *c, long every);

/* Feed frames read one at a time from a trajectory file into nc correlators
 * (each frame goes to all of them). format NULL: guessed from the name.
 * Options (o may be NULL): start, stop (0-based frame indices, stop exclusive,
 * default all), every (use every n-th frame, default 1), timestep (fs per MD
 * step, to give frames a time from their step number when the file has no
 * times: LAMMPS dumps), plus the reader's own options (symbols = {...} for
 * LAMMPS files). progress (may be NULL) is polled once per frame with
 * (frames done, total or -1); a non-zero return stops with KILN_EINTR.
 * Memory: one frame at a time. */
kiln_status kiln_corr_feed(kiln_corr *const *c, size_t nc, const char *file, const char *format,
                           const kiln_opts *o, kiln_progress_fn progress, void *progress_ud,
                           kiln_error *err);

/* ---------------------------------------------------------------- spectra */

/* Window functions applied to a correlation of nlag lags before the transform,
 * w(0) = 1 so the sum rule is kept: "none", "hann" (w = cos²(πk/2(nlag-1))... i.e.
 * the half Hann window falling to 0 at the last lag), "gauss" (w = exp(-½(k/σ)²)
 * with σ = nlag/3), "lorentz"-like "exp" (w = exp(-3k/nlag)). */
kiln_status kiln_corr_window(const char *name, size_t nlag, double *w, kiln_error *err);

/* Even (cosine) transform of a real, time-symmetric correlation c[0..nlag-1]
 * sampled every dt fs, to the spectrum
 *   S(ω_k) = dt [ c0 + 2 Σ_{j=1}^{nlag-2} c_j cos(ω_k j dt) + c_{nlag-1} cos(ω_k (nlag-1) dt) ]
 * at ω_k = k π / ((nlag-1) dt), k = 0..nlag-1 (rad/fs) — a DCT-I, so that
 *   (Δω/π) Σ'_k S(ω_k) = c0   (Σ' : trapezoid, half weight at k = 0 and nlag-1)
 * which is the discrete form of (1/2π) ∫ S(ω) dω = c(0). howmany rows of nlag
 * values, row-major, in and out may alias. nlag >= 2. */
kiln_status kiln_corr_cos_transform(const double *c, size_t nlag, size_t howmany, double dt,
                                    double *s, kiln_error *err);
/* ω_k of that transform (rad/fs), nlag values. */
void kiln_corr_omega(size_t nlag, double dt, double *omega);
/* ---------------------------------------------------------------- style extras */

/* green: phonon frequencies (THz, ascending per q, negative for imaginary) at nq
 * Cartesian q-points (rad/Å incl. 2π) by Fourier interpolation of the force
 * constants estimated from the frames so far; freq holds nq x 3*nbasis values.
 * KILN_EINVAL if c is not a green correlator, KILN_ESTATE before the first frame. */
kiln_status kiln_corr_green_dispersion(kiln_corr *c, const double (*q)[3], size_t nq,
                                       double *freq, kiln_error *err);
#endif
