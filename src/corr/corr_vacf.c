/* src/corr/corr_vacf.c: velocity autocorrelation and the phonon density of states.
 *
 *   Z(t) = sum_j w_j <v_j(0) . v_j(t)> / sum_j w_j     (w_j = 1, or m_j if mass_weighted)
 * averaged over all time origins (every `step` frames) and over the atoms (all, or one
 * species), and g(nu) = 3 S(omega) / (pi Z(0)) d omega/d nu with S the cosine transform of
 * the windowed Z, so that the trapezoid sum of g over nu (THz) is exactly 3.
 *
 * Storage: all-origin FFT correlation (kiln_tcorr). Two real velocity components of the
 * same species are packed into one complex series z = a + i b: Re[conj z(t) z(t+tau)] =
 * a(t)a(t+tau) + b(t)b(t+tau), which is exactly the sum needed, so 3N real components cost
 * ceil(3N/2) complex series (one more per species with an odd count). */
#include <stdlib.h>
#include <string.h>
#include "corr_internal.h"
#include "kiln/units.h"

typedef struct {
  size_t window, step;
  int mass_weighted;
  char wfun[16];
  /* from the first frame */
  size_t natoms;
  int nsp;
  char sym[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  int32_t *type;          /* first frame's types (checked later) */
  size_t nser;
  size_t (*comp)[2];      /* per series: real components (atom*3 + axis), SIZE_MAX if none */
  int *ser_sp;            /* species of each series */
  double *wsp;            /* per species: sum of weights (atoms or masses) */
  double *scale;          /* per atom: 1 or sqrt(m) */
  kiln_tcorr *tc;
} vacf_state;

static void destroy(kiln_corr *c) {
  vacf_state *s = c->state;
  if (!s) return;
  free(s->type);
  free(s->comp);
  free(s->ser_sp);
  free(s->wsp);
  free(s->scale);
  kiln_tcorr_free(s->tc);
  free(s);
  c->state = NULL;
}

static kiln_status init(kiln_corr *c, const kiln_opts *o, kiln_error *err) {
  vacf_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  c->state = s;
  long window, step;
  const char *wf;
  kiln_status st;
  if ((st = kiln_opts_int(o, c->what, "window", 1, 500, &window, err)) ||
      (st = kiln_opts_int(o, c->what, "step", 1, 1, &step, err)) ||
      (st = kiln_opts_bool(o, c->what, "mass_weighted", 1, 0, &s->mass_weighted, err)) ||
      (st = kiln_opts_str(o, c->what, "window_function", 1, "none", &wf, err)))
    return st;
  if (window < 2 || window > 100000000)
    return KILN_FAIL(err, KILN_EINVAL, "%s: window must be at least 2 lags (got %ld)", c->what,
                     window);
  if (step < 1 || step > window)
    return KILN_FAIL(err, KILN_EINVAL, "%s: step must be between 1 and window = %ld (got %ld)",
                     c->what, window, step);
  double tmp[2];
  if ((st = kiln_corr_window(wf, 2, tmp, err)))
    return KILN_FAIL(err, KILN_EINVAL, "%s: window_function '%s' is unknown (none, hann, gauss, "
                     "exp)", c->what, wf);
  snprintf(s->wfun, sizeof s->wfun, "%s", wf);
  s->window = (size_t)window;
  s->step = (size_t)step;
  return KILN_OK;
}

static kiln_status setup(kiln_corr *c, vacf_state *s, const kiln_atoms *a, kiln_error *err) {
  const size_t n = a->n;
  if (n == 0) return KILN_FAIL(err, KILN_EINVAL, "%s: the frame has no atoms", c->what);
  s->natoms = n;
  s->nsp = a->nspecies > 0 ? a->nspecies : 1;
  for (int k = 0; k < s->nsp; k++)
    snprintf(s->sym[k], KILN_SYMBOL_LEN, "%s", a->nspecies > 0 ? a->species[k] : "X");
  size_t *cnt = calloc((size_t)s->nsp, sizeof *cnt);
  s->type = malloc(n * sizeof *s->type);
  s->scale = malloc(n * sizeof *s->scale);
  s->wsp = calloc((size_t)s->nsp, sizeof *s->wsp);
  if (!cnt || !s->type || !s->scale || !s->wsp) {
    free(cnt);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  }
  for (size_t j = 0; j < n; j++) {
    int t = a->nspecies > 0 ? a->type[j] : 0;
    double m = a->mass ? a->mass[j] : 0;
    if (t < 0 || t >= s->nsp) {
      free(cnt);
      return KILN_FAIL(err, KILN_EINVAL, "%s: atom %zu has type %d outside 0..%d", c->what, j, t,
                       s->nsp - 1);
    }
    if (s->mass_weighted && !(m > 0)) {
      free(cnt);
      return KILN_FAIL(err, KILN_EINVAL, "%s: mass_weighted needs positive masses (atom %zu "
                       "has %g amu)", c->what, j, m);
    }
    s->type[j] = t;
    s->scale[j] = s->mass_weighted ? sqrt(m) : 1.0;
    s->wsp[t] += s->mass_weighted ? m : 1.0;
    cnt[t]++;
  }
  s->nser = 0;
  for (int k = 0; k < s->nsp; k++) s->nser += (3 * cnt[k] + 1) / 2;
  s->comp = malloc(s->nser * sizeof *s->comp);
  s->ser_sp = malloc(s->nser * sizeof *s->ser_sp);
  size_t (*pairs)[2] = malloc(s->nser * sizeof *pairs);
  if (!s->comp || !s->ser_sp || !pairs) {
    free(cnt);
    free(pairs);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu series)", c->what, s->nser);
  }
  size_t ns = 0;
  for (int k = 0; k < s->nsp; k++) {
    size_t half = 0;
    for (size_t j = 0; j < n; j++) {
      if (s->type[j] != k) continue;
      for (size_t x = 0; x < 3; x++) {
        if (half == 0) {
          s->comp[ns][0] = 3 * j + x;
          s->comp[ns][1] = SIZE_MAX;
          s->ser_sp[ns] = k;
          half = 1;
        } else {
          s->comp[ns][1] = 3 * j + x;
          ns++;
          half = 0;
        }
      }
    }
    if (half) ns++;
  }
  free(cnt);
  for (size_t i = 0; i < ns; i++) pairs[i][0] = pairs[i][1] = i;
  kiln_status st = kiln_tcorr_new(&s->tc, ns, (const size_t(*)[2])pairs, ns, s->window, s->step,
                                  err);
  free(pairs);
  return st;
}

static kiln_status frame(kiln_corr *c, const kiln_atoms *a, kiln_error *err) {
  vacf_state *s = c->state;
  kiln_status st;
  if (!a->v)
    return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has no velocities", c->what, c->nframes);
  if (!s->tc) {
    if ((st = setup(c, s, a, err))) return st;
  } else {
    if (a->n != s->natoms)
      return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has %zu atoms, the first had %zu", c->what,
                       c->nframes, a->n, s->natoms);
    if (a->nspecies > 0)
      for (size_t j = 0; j < a->n; j++)
        if (a->type[j] != s->type[j])
          return KILN_FAIL(err, KILN_EINVAL, "%s: atom %zu changed species in frame %ld", c->what,
                           j, c->nframes);
  }
  double (*z)[2] = kiln_tcorr_slot(s->tc);
  const double *v = &a->v[0][0];
  for (size_t i = 0; i < s->nser; i++) {
    size_t p = s->comp[i][0], q = s->comp[i][1];
    z[i][0] = v[p] * s->scale[p / 3];
    z[i][1] = q == SIZE_MAX ? 0.0 : v[q] * s->scale[q / 3];
  }
  return kiln_tcorr_push(s->tc, err);
}

static kiln_status result(kiln_corr *c, kiln_result *r, kiln_error *err) {
  kiln_status dst = kiln_corr_require_dt(c, err);
  if (dst) return dst;
  vacf_state *s = c->state;
  if (isnan(c->dt))
    return KILN_FAIL(err, KILN_EINVAL, "%s: the frame spacing is unknown (feed two frames with "
                     "times or give the dt option)", c->what);
  const size_t W = s->window, nsp = (size_t)s->nsp;
  double (*cc)[2] = malloc(s->nser * W * sizeof *cc);
  /* rows: 0 = total, 1 + k = species k */
  double *z = calloc((nsp + 1) * W, sizeof *z), *g = malloc((nsp + 1) * W * sizeof *g);
  double *wf = malloc(W * sizeof *wf), *t = malloc(W * sizeof *t), *om = malloc(W * sizeof *om);
  double *nu = malloc(W * sizeof *nu);
  kiln_status st = KILN_OK;
  if (!cc || !z || !g || !wf || !t || !om || !nu) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu series x %zu lags)", c->what,
                   s->nser, W);
    goto done;
  }
  if ((st = kiln_tcorr_get(s->tc, cc, NULL, err))) goto done;
  for (size_t i = 0; i < s->nser; i++) {
    double *zs = z + (1 + (size_t)s->ser_sp[i]) * W;
    for (size_t k = 0; k < W; k++) zs[k] += cc[i * W + k][0];
  }
  double wtot = 0;
  for (size_t k = 0; k < nsp; k++) wtot += s->wsp[k];
  for (size_t sp = 0; sp < nsp; sp++)
    for (size_t k = 0; k < W; k++) {
      z[k] += z[(1 + sp) * W + k];
      z[(1 + sp) * W + k] /= s->wsp[sp] > 0 ? s->wsp[sp] : 1.0;
    }
  for (size_t k = 0; k < W; k++) z[k] /= wtot;
  if ((st = kiln_corr_window(s->wfun, W, wf, err))) goto done;
  for (size_t row = 0; row <= nsp; row++)
    for (size_t k = 0; k < W; k++) g[row * W + k] = z[row * W + k] * wf[k];
  if ((st = kiln_corr_cos_transform(g, W, nsp + 1, c->dt, g, err))) goto done;
  for (size_t row = 0; row <= nsp; row++) {
    double z0 = z[row * W], f = z0 > 0 ? 3.0 * KILN_THZ_TO_RADFS / (M_PI * z0) : 0.0;
    for (size_t k = 0; k < W; k++) g[row * W + k] *= f;
  }
  kiln_corr_omega(W, c->dt, om);
  for (size_t k = 0; k < W; k++) {
    t[k] = (double)k * c->dt;
    nu[k] = om[k] / KILN_THZ_TO_RADFS;
  }
  const char *zunit = "Å²/fs²";
  if ((st = kiln_result_add_copy(r, "time", t, W, 1, "fs", "time lag", err)) ||
      (st = kiln_result_add_copy(r, "vacf", z, W, 1, zunit,
                                 s->mass_weighted
                                     ? "sum_j m_j <v_j(0).v_j(t)> / sum_j m_j, all atoms"
                                     : "<v_j(0).v_j(t)> averaged over all atoms", err)) ||
      (st = kiln_result_add_copy(r, "omega", om, W, 1, "rad/fs", "angular frequency", err)) ||
      (st = kiln_result_add_copy(r, "freq", nu, W, 1, "THz", "frequency nu = omega/2π", err)) ||
      (st = kiln_result_add_copy(r, "dos", g, W, 1, "1/THz",
                                 "density of states g(nu) from the cosine transform of vacf, "
                                 "trapezoid integral over freq = 3", err)))
    goto done;
  for (size_t sp = 0; sp < nsp; sp++) {
    char name[64];
    snprintf(name, sizeof name, "vacf_partial/%s", s->sym[sp]);
    if ((st = kiln_result_add_copy(r, name, z + (1 + sp) * W, W, 1, zunit,
                                   "vacf of the atoms of one species", err)))
      goto done;
    snprintf(name, sizeof name, "dos_partial/%s", s->sym[sp]);
    if ((st = kiln_result_add_copy(r, name, g + (1 + sp) * W, W, 1, "1/THz",
                                   "partial density of states of one species (integral 3)", err)))
      goto done;
  }
  if ((st = kiln_result_attr_num(r, "window", (double)W, err)) ||
      (st = kiln_result_attr_num(r, "step", (double)s->step, err)) ||
      (st = kiln_result_attr_num(r, "mass_weighted", s->mass_weighted, err)) ||
      (st = kiln_result_attr_str(r, "window_function", s->wfun, err)) ||
      (st = kiln_result_attr_num(r, "natoms", (double)s->natoms, err)))
    goto done;
done:
  free(cc);
  free(z);
  free(g);
  free(wf);
  free(t);
  free(om);
  free(nu);
  return st;
}

const kiln_corr_style kiln_corr_vacf_style = {
    .name = "vacf",
    .description = "velocity autocorrelation (all atoms and per species, optionally mass "
                   "weighted) and the phonon density of states from its cosine transform",
    .citation = "J. M. Dickey and A. Paskin, Phys. Rev. 188, 1407 (1969)",
    .options = "window=integer (lags in frames, default 500)\n"
               "step=integer (frames between time origins, default 1: every frame)\n"
               "mass_weighted=boolean (default false; true: sum_j m_j v_j.v_j / sum_j m_j, "
               "whose transform is the phonon DOS of a classical harmonic crystal)\n"
               "window_function=string (none, hann, gauss or exp; applied before the "
               "transform, default none)",
    .init = init,
    .frame = frame,
    .result = result,
    .destroy = destroy,
};
