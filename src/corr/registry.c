/* src/corr/registry.c: the correlator styles (from styles.def), construction,
 * frame timing (evenly spaced frames, dt), results and the MD observer glue. */
#include <stdlib.h>
#include <string.h>
#include "corr_internal.h"

static const kiln_corr_style *const styles[] = {
#define KILN_CORR_STYLE(name, sym) &sym,
#include "styles.def"
#undef KILN_CORR_STYLE
};

#define NSTYLES (sizeof styles / sizeof styles[0])

size_t kiln_corr_nstyles(void) { return NSTYLES; }

const kiln_corr_style *kiln_corr_style_at(size_t i) { return i < NSTYLES ? styles[i] : NULL; }

const kiln_corr_style *kiln_corr_style_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < NSTYLES; i++)
    if (strcmp(styles[i]->name, name) == 0) return styles[i];
  return NULL;
}

const kiln_corr_style *kiln_corr_style_of(const kiln_corr *c) { return c->style; }

kiln_status kiln_corr_new(kiln_corr **out, const char *style, const kiln_opts *o,
                          kiln_error *err) {
  *out = NULL;
  const kiln_corr_style *s = kiln_corr_style_find(style);
  if (!s) {
    char names[256] = "";
    for (size_t i = 0; i < NSTYLES; i++) {
      if (i) strncat(names, ", ", sizeof names - strlen(names) - 1);
      strncat(names, styles[i]->name, sizeof names - strlen(names) - 1);
    }
    return KILN_FAIL(err, KILN_EINVAL, "unknown correlator style '%s' (styles: %s)",
                     style ? style : "(null)", names);
  }
  kiln_corr *c = calloc(1, sizeof *c);
  if (!c) return KILN_FAIL(err, KILN_ENOMEM, "correlator %s: out of memory", s->name);
  c->style = s;
  snprintf(c->what, sizeof c->what, "correlator %s", s->name);
  c->dt = NAN;
  c->t_first = c->t_last = NAN;
  kiln_status st = KILN_OK;
  if (o && (st = kiln_opts_check_known(o, c->what, s->options, "dt", err))) goto fail;
  double dt = NAN;
  if (o && kiln_opts_get(o, "dt")) {
    if ((st = kiln_opts_num(o, c->what, "dt", 0, 0, &dt, err))) goto fail;
    if (!(dt > 0) || !isfinite(dt)) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s: dt must be a positive time in fs (got %g)", c->what,
                     dt);
      goto fail;
    }
    c->dt = dt;
    c->dt_given = 1;
  }
  if ((st = s->init(c, o, err))) goto fail;
  if (o && (st = kiln_opts_check_unused(o, c->what, err))) goto fail;
  *out = c;
  return KILN_OK;
fail:
  kiln_corr_free(c);
  return st;
}

void kiln_corr_free(kiln_corr *c) {
  if (!c) return;
  if (c->style->destroy) c->style->destroy(c);
  free(c);
}

long kiln_corr_nframes(const kiln_corr *c) { return c->nframes; }
double kiln_corr_dt(const kiln_corr *c) { return c->dt; }

/* Frame spacing: from dt, or from the first two frame times; later frames must keep it. */
static kiln_status check_time(kiln_corr *c, double time, kiln_error *err) {
  if (isnan(time)) {
    if (c->nframes > 0 && !isnan(c->t_last))
      return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has no time but earlier frames had one",
                       c->what, c->nframes);
    return KILN_OK;
  }
  if (c->nframes > 0 && isnan(c->t_last))
    return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has a time (%g fs) but earlier frames had none",
                     c->what, c->nframes, time);
  if (c->nframes == 0) return KILN_OK;
  double step = time - c->t_last;
  if (!(step > 0))
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: frame %ld at %g fs is not after the previous frame (%g fs); frames must "
                     "come in time order", c->what, c->nframes, time, c->t_last);
  if (isnan(c->dt)) {
    c->dt = step;
    return KILN_OK;
  }
  if (fabs(step - c->dt) > 1e-6 * c->dt)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: frames are not evenly spaced: frame %ld comes %g fs after the previous "
                     "one, expected %g fs%s", c->what, c->nframes, step, c->dt,
                     c->dt_given ? " (the dt option)" : " (the spacing of the first two frames)");
  return KILN_OK;
}

kiln_status kiln_corr_add_frame(kiln_corr *c, const kiln_atoms *a, double time,
                                kiln_error *err) {
  kiln_status st = check_time(c, time, err);
  if (st) return st;
  if ((st = c->style->frame(c, a, err))) return st;
  if (c->nframes == 0) c->t_first = time;
  c->t_last = time;
  c->nframes++;
  return KILN_OK;
}

kiln_status kiln_corr_result(kiln_corr *c, kiln_result **out, kiln_error *err) {
  *out = NULL;
  if (c->nframes == 0)
    return KILN_FAIL(err, KILN_ESTATE, "%s: no frames yet (attach it to md:run or feed it frames)",
                     c->what);
  kiln_result *r;
  kiln_status st = kiln_result_new(&r, err);
  if (st) return st;
  if ((st = kiln_result_attr_str(r, "style", c->style->name, err)) ||
      (st = kiln_result_attr_num(r, "dt", c->dt, err)) ||
      (st = kiln_result_attr_num(r, "nframes", (double)c->nframes, err)) ||
      (st = c->style->result(c, r, err))) {
    kiln_result_free(r);
    return st;
  }
  *out = r;
  return KILN_OK;
}

kiln_status kiln_corr_require_dt(kiln_corr *c, kiln_error *err) {
  if (isnan(c->dt) && c->nframes > 1)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: the frames carry no time; give the frame spacing as the dt option (fs)",
                     c->what);
  return KILN_OK;
}

static kiln_status observe(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                           kiln_error *err) {
  (void)step;
  return kiln_corr_add_frame(ud, a, th ? th->time : (double)NAN, err);
}

kiln_observer kiln_corr_observer(kiln_corr *c, long every) {
  kiln_observer ob = {observe, c, every > 0 ? every : 1, 0};
  return ob;
}
