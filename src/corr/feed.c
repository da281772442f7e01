/* src/corr/feed.c: kiln_corr_feed, correlators fed from a trajectory file one frame
 * at a time (kiln_frames: one frame in memory). */
#include <stdio.h>
#include <string.h>
#include "corr_internal.h"
#include "kiln/io.h"

/* Prefix err's message with where in the file the frame came from. */
static kiln_status where(kiln_error *err, kiln_status st, const char *file, long k) {
  if (err && st) {
    char pre[128];
    int lp = snprintf(pre, sizeof pre, "feeding '%.80s', frame %ld: ", file, k);
    if (lp < 0 || lp >= (int)sizeof pre) return st;
    size_t lm = strlen(err->msg);
    if ((size_t)lp + lm >= sizeof err->msg) lm = sizeof err->msg - 1 - (size_t)lp;
    memmove(err->msg + lp, err->msg, lm);
    memcpy(err->msg, pre, (size_t)lp);
    err->msg[(size_t)lp + lm] = 0;
  }
  return st;
}

kiln_status kiln_corr_feed(kiln_corr *const *c, size_t nc, const char *file, const char *format,
                           const kiln_opts *o, kiln_progress_fn progress, void *progress_ud,
                           kiln_error *err) {
  const char *what = "correlator feed";
  if (!c && nc) return KILN_FAIL(err, KILN_EINVAL, "%s: correlators are NULL", what);
  for (size_t i = 0; i < nc; i++)
    if (!c[i]) return KILN_FAIL(err, KILN_EINVAL, "%s: correlator %zu is NULL", what, i + 1);
  if (!file) return KILN_FAIL(err, KILN_EINVAL, "%s: file name is NULL", what);
  long start = 0, stop = -1, every = 1;
  double timestep = NAN;
  kiln_status st = kiln_opts_int(o, what, "start", 1, 0, &start, err);
  if (!st) st = kiln_opts_int(o, what, "stop", 1, -1, &stop, err);
  if (!st) st = kiln_opts_int(o, what, "every", 1, 1, &every, err);
  if (!st && kiln_opts_get(o, "timestep")) st = kiln_opts_num(o, what, "timestep", 0, 0, &timestep, err);
  if (st) return st;
  if (start < 0) return KILN_FAIL(err, KILN_EINVAL, "%s: start must be a frame index >= 0 (got %ld)", what, start);
  if (stop < -1 || (stop >= 0 && stop < start))
    return KILN_FAIL(err, KILN_EINVAL, "%s: stop must be >= start (%ld), or -1 for all frames (got %ld)", what,
                     start, stop);
  if (every < 1) return KILN_FAIL(err, KILN_EINVAL, "%s: every must be >= 1 (got %ld)", what, every);
  if (!isnan(timestep) && !(timestep > 0 && isfinite(timestep)))
    return KILN_FAIL(err, KILN_EINVAL, "%s: timestep must be a positive time in fs (got %g)", what, timestep);

  kiln_frames *r;
  if ((st = kiln_frames_open(&r, file, format, o, err))) return st;
  long count = kiln_frames_count(r), total = -1;
  if (count >= 0) {
    long end = stop >= 0 && stop < count ? stop : count;
    total = end > start ? (end - start + every - 1) / every : 0;
  }
  kiln_atoms *a = NULL;
  long k = 0, done = 0;
  for (; stop < 0 || k < stop; k++) {
    long step;
    double time;
    int got;
    if ((st = kiln_frames_next(r, &a, &step, &time, &got, err))) break;
    if (!got) break;
    if (k < start || (k - start) % every) continue;
    if (isnan(time) && !isnan(timestep)) time = (double)step * timestep;
    for (size_t i = 0; i < nc && !st; i++) st = kiln_corr_add_frame(c[i], a, time, err);
    if (st) {
      where(err, st, file, k);
      break;
    }
    done++;
    if (progress && progress(progress_ud, done, total)) {
      st = KILN_FAIL(err, KILN_EINTR, "%s: interrupted after %ld frames of '%s'", what, done, file);
      break;
    }
  }
  if (!st && done == 0)
    st = KILN_FAIL(err, KILN_EINVAL, "%s: no frames of '%s' were fed (start %ld, stop %ld, every %ld; the file has %ld)",
                   what, file, start, stop, every, k);
  kiln_atoms_free(a);
  kiln_frames_close(r);
  return st;
}
