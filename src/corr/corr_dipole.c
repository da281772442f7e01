/* src/corr/corr_dipole.c: total-dipole autocorrelation and the dielectric susceptibility
 * by the classical fluctuation-dissipation theorem.
 *
 * M per frame: the frame's info "dipole" (3 numbers, e Å), or with charges = {El = q, ...}
 * M = sum_j q_j r_j with positions unwrapped continuously from frame to frame (each atom
 * moves by the minimum-image displacement since the previous frame), so atoms crossing
 * the periodic boundary do not make M jump.
 *   C(t)   = <M(0).M(t)> - <M>.<M>         (all origins every `step` frames, kiln_tcorr;
 *                                           <M> over all frames)
 *   chi(w) = [C(0) + i w int_0^inf C(t) e^{i w t} dt] / (3 eps0 V kB T)
 *   chi'   = [C(0) - w int C sin]/(3 eps0 V kT),  chi'' = w int C cos /(3 eps0 V kT)
 * The integrals are trapezoid sums over the window (after the window function), the cosine
 * one the same as kiln_corr_cos_transform (half of its even transform). */
#include <stdlib.h>
#include <string.h>
#include "corr_internal.h"
#include "corr/green_grid.h"
#include "kiln/units.h"

#define EPS0 5.526349406e-3 /* vacuum permittivity, e²/(eV Å) */

typedef struct {
  size_t window, step;
  char wfun[16];
  double Topt, Vopt;
  int use_charges;
  int ncharge;
  char csym[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  double cval[KILN_MAX_SPECIES];
  /* charges route */
  size_t natoms;
  double *q;              /* per atom */
  double (*xprev)[3];     /* last frame's raw positions */
  double (*xu)[3];        /* unwrapped positions */
  kiln_tcorr *tc;
  double sumM[3], sumM2;  /* over all frames */
  double sumV, sumT;
  long nV, nT, n;
} dipole_state;

static void destroy(kiln_corr *c) {
  dipole_state *s = c->state;
  if (!s) return;
  free(s->q);
  free(s->xprev);
  free(s->xu);
  kiln_tcorr_free(s->tc);
  free(s);
  c->state = NULL;
}

static kiln_status init(kiln_corr *c, const kiln_opts *o, kiln_error *err) {
  dipole_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  c->state = s;
  long window, step;
  const char *wf;
  kiln_status st;
  s->Topt = s->Vopt = NAN;
  if ((st = kiln_opts_int(o, c->what, "window", 1, 500, &window, err)) ||
      (st = kiln_opts_int(o, c->what, "step", 1, 1, &step, err)) ||
      (st = kiln_opts_str(o, c->what, "window_function", 1, "none", &wf, err)))
    return st;
  if (window < 2 || window > 100000000)
    return KILN_FAIL(err, KILN_EINVAL, "%s: window must be at least 2 lags (got %ld)", c->what,
                     window);
  if (step < 1 || step > window)
    return KILN_FAIL(err, KILN_EINVAL, "%s: step must be between 1 and window = %ld (got %ld)",
                     c->what, window, step);
  double tmp[2];
  if (kiln_corr_window(wf, 2, tmp, err))
    return KILN_FAIL(err, KILN_EINVAL, "%s: window_function '%s' is unknown (none, hann, gauss, "
                     "exp)", c->what, wf);
  snprintf(s->wfun, sizeof s->wfun, "%s", wf);
  s->window = (size_t)window;
  s->step = (size_t)step;
  if (o && kiln_opts_get(o, "T")) {
    if ((st = kiln_opts_num(o, c->what, "T", 0, 0, &s->Topt, err))) return st;
    if (!(s->Topt > 0) || !isfinite(s->Topt))
      return KILN_FAIL(err, KILN_EINVAL, "%s: T must be a positive temperature in K (got %g)",
                       c->what, s->Topt);
  }
  if (o && kiln_opts_get(o, "volume")) {
    if ((st = kiln_opts_num(o, c->what, "volume", 0, 0, &s->Vopt, err))) return st;
    if (!(s->Vopt > 0) || !isfinite(s->Vopt))
      return KILN_FAIL(err, KILN_EINVAL, "%s: volume must be positive (Å³, got %g)", c->what,
                       s->Vopt);
  }
  kiln_opts *ch = o ? kiln_opts_get(o, "charges") : NULL;
  if (ch) {
    if (ch->kind != KILN_OPT_TABLE || ch->nchild == 0)
      return KILN_FAIL(err, KILN_EINVAL, "%s: charges must be a table {Element = charge (e), "
                       "...}", c->what);
    for (size_t i = 0; i < ch->nchild; i++) {
      kiln_opts *e = &ch->child[i];
      e->used = 1;
      if (!e->key || e->kind != KILN_OPT_NUM || !isfinite(e->num))
        return KILN_FAIL(err, KILN_EINVAL, "%s: charges entry %zu must be Element = number (e)",
                         c->what, i + 1);
      if (s->ncharge == KILN_MAX_SPECIES)
        return KILN_FAIL(err, KILN_EINVAL, "%s: too many charges", c->what);
      snprintf(s->csym[s->ncharge], KILN_SYMBOL_LEN, "%s", e->key);
      s->cval[s->ncharge++] = e->num;
    }
    s->use_charges = 1;
  }
  size_t pairs[2][2] = {{0, 0}, {1, 1}};
  return kiln_tcorr_new(&s->tc, 2, (const size_t(*)[2])pairs, 2, s->window, s->step, err);
}

static kiln_status setup_charges(kiln_corr *c, dipole_state *s, const kiln_atoms *a,
                                 kiln_error *err) {
  const size_t n = a->n;
  s->natoms = n;
  s->q = malloc((n ? n : 1) * sizeof *s->q);
  s->xprev = malloc((n ? n : 1) * sizeof *s->xprev);
  s->xu = malloc((n ? n : 1) * sizeof *s->xu);
  if (!s->q || !s->xprev || !s->xu) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  double qsum = 0, qabs = 0;
  for (size_t j = 0; j < n; j++) {
    const char *sym = kiln_atoms_symbol(a, j);
    int k;
    for (k = 0; k < s->ncharge; k++)
      if (sym && strcmp(sym, s->csym[k]) == 0) break;
    if (k == s->ncharge)
      return KILN_FAIL(err, KILN_EINVAL, "%s: no charge given for atom %zu (%s); charges = "
                       "{%s = ..., ...} must name every element", c->what, j, sym ? sym : "?",
                       s->ncharge ? s->csym[0] : "");
    s->q[j] = s->cval[k];
    qsum += s->q[j];
    qabs += fabs(s->q[j]);
  }
  if (fabs(qsum) > 1e-8 * (qabs > 0 ? qabs : 1))
    return KILN_FAIL(err, KILN_EINVAL, "%s: the charges sum to %g e, not 0: the dipole of a "
                     "charged cell depends on the origin", c->what, qsum);
  memcpy(s->xprev, a->x, n * sizeof *s->xprev);
  memcpy(s->xu, a->x, n * sizeof *s->xu);
  return KILN_OK;
}

static kiln_status frame(kiln_corr *c, const kiln_atoms *a, kiln_error *err) {
  dipole_state *s = c->state;
  double M[3] = {0, 0, 0};
  kiln_status st;
  if (s->use_charges) {
    if (!s->q) {
      if ((st = setup_charges(c, s, a, err))) return st;
    } else {
      if (a->n != s->natoms)
        return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has %zu atoms, the first had %zu",
                         c->what, c->nframes, a->n, s->natoms);
      double inv[3][3];
      int per = a->pbc[0] || a->pbc[1] || a->pbc[2];
      if (per && (st = kiln_cell_inverse(a->cell, inv, err))) return st;
      for (size_t j = 0; j < a->n; j++) {
        double d[3];
        for (int x = 0; x < 3; x++) d[x] = a->x[j][x] - s->xprev[j][x];
        if (per) kilni_min_image(a->cell, inv, a->pbc, d);
        for (int x = 0; x < 3; x++) {
          s->xu[j][x] += d[x];
          s->xprev[j][x] = a->x[j][x];
        }
      }
    }
    for (size_t j = 0; j < a->n; j++)
      for (int x = 0; x < 3; x++) M[x] += s->q[j] * s->xu[j][x];
  } else {
    const kiln_info *inf = kiln_atoms_info_get(a, "dipole");
    if (!inf || inf->kind == KILN_VAL_STR || inf->count != 3)
      return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has no info \"dipole\" with 3 numbers "
                       "(e Å); give charges = {El = q, ...} to compute M from positions",
                       c->what, c->nframes);
    memcpy(M, inf->val, sizeof M);
  }
  double (*z)[2] = kiln_tcorr_slot(s->tc);
  z[0][0] = M[0];
  z[0][1] = M[1];
  z[1][0] = M[2];
  z[1][1] = 0;
  if ((st = kiln_tcorr_push(s->tc, err))) return st;
  for (int x = 0; x < 3; x++) s->sumM[x] += M[x];
  s->sumM2 += M[0] * M[0] + M[1] * M[1] + M[2] * M[2];
  s->n++;
  double V = kiln_atoms_volume(a);
  if (V > 0 && (a->pbc[0] || a->pbc[1] || a->pbc[2])) {
    s->sumV += V;
    s->nV++;
  }
  if (a->v && kiln_atoms_kinetic_energy(a) > 0) {
    s->sumT += kiln_atoms_temperature(a);
    s->nT++;
  }
  return KILN_OK;
}

static kiln_status result(kiln_corr *c, kiln_result *r, kiln_error *err) {
  kiln_status dst = kiln_corr_require_dt(c, err);
  if (dst) return dst;
  dipole_state *s = c->state;
  if (isnan(c->dt))
    return KILN_FAIL(err, KILN_EINVAL, "%s: the frame spacing is unknown (feed two frames with "
                     "times or give the dt option)", c->what);
  double T = s->Topt, V = s->Vopt;
  if (isnan(T)) {
    if (s->nT != s->n || s->nT == 0)
      return KILN_FAIL(err, KILN_EINVAL, "%s: no temperature: give the option T (K), or feed "
                       "frames with velocities (%ld of %ld frames had them)", c->what, s->nT,
                       s->n);
    T = s->sumT / (double)s->nT;
  }
  if (isnan(V)) {
    if (s->nV != s->n || s->nV == 0)
      return KILN_FAIL(err, KILN_EINVAL, "%s: no volume: the frames need a periodic cell, or "
                       "give the option volume (Å³)", c->what);
    V = s->sumV / (double)s->nV;
  }
  const size_t W = s->window;
  double (*cc)[2] = malloc(2 * W * sizeof *cc);
  double *C = malloc(W * sizeof *C), *t = malloc(W * sizeof *t), *om = malloc(W * sizeof *om);
  double *wf = malloc(W * sizeof *wf), *cw = malloc(W * sizeof *cw), *ss = malloc(W * sizeof *ss);
  double *chr = malloc(W * sizeof *chr), *chi = malloc(W * sizeof *chi), *nu = malloc(W * sizeof *nu);
  kiln_status st = KILN_OK;
  if (!cc || !C || !t || !om || !wf || !cw || !ss || !chr || !chi || !nu) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
    goto done;
  }
  if ((st = kiln_tcorr_get(s->tc, cc, NULL, err))) goto done;
  const double inv_n = 1.0 / (double)s->n;
  const double mean[3] = {s->sumM[0] * inv_n, s->sumM[1] * inv_n, s->sumM[2] * inv_n};
  const double m2 = mean[0] * mean[0] + mean[1] * mean[1] + mean[2] * mean[2];
  const double var = s->sumM2 * inv_n - m2;
  for (size_t k = 0; k < W; k++) {
    C[k] = cc[k][0] + cc[W + k][0] - m2;
    t[k] = (double)k * c->dt;
  }
  if ((st = kiln_corr_window(s->wfun, W, wf, err))) goto done;
  for (size_t k = 0; k < W; k++) cw[k] = C[k] * wf[k];
  /* cosine part: int_0^inf C cos = S/2 with S the even transform */
  if ((st = kiln_corr_cos_transform(cw, W, 1, c->dt, ss, err))) goto done;
  kiln_corr_omega(W, c->dt, om);
  const double pref = 1.0 / (3.0 * EPS0 * V * KILN_KB * T);
  for (size_t k = 0; k < W; k++) {
    double sn = 0;  /* trapezoid int_0^{(W-1)dt} C(t) sin(w t) dt */
    for (size_t j = 1; j < W; j++)
      sn += (j == W - 1 ? 0.5 : 1.0) * cw[j] * sin(om[k] * (double)j * c->dt);
    sn *= c->dt;
    chr[k] = pref * (C[0] - om[k] * sn);
    chi[k] = pref * om[k] * 0.5 * ss[k];
    nu[k] = om[k] / KILN_THZ_TO_RADFS;
  }
  double eps_static = pref * var, Tv = T, Vv = V;
  if ((st = kiln_result_add_copy(r, "time", t, W, 1, "fs", "time lag", err)) ||
      (st = kiln_result_add_copy(r, "macf", C, W, 1, "e² Å²",
                                 "<dM(0).dM(t)>: <M(0).M(t)> - <M>.<M>", err)) ||
      (st = kiln_result_add_copy(r, "omega", om, W, 1, "rad/fs", "angular frequency", err)) ||
      (st = kiln_result_add_copy(r, "freq", nu, W, 1, "THz", "frequency omega/2π", err)) ||
      (st = kiln_result_add_copy(r, "chi_real", chr, W, 1, "1",
                                 "chi'(omega) = [C(0) - omega int C sin]/(3 eps0 V kB T)", err)) ||
      (st = kiln_result_add_copy(r, "chi_imag", chi, W, 1, "1",
                                 "chi''(omega) = omega int_0^inf C cos /(3 eps0 V kB T)", err)) ||
      (st = kiln_result_add_copy(r, "eps_static", &eps_static, 1, 1, "1",
                                 "static dipolar contribution <dM²>/(3 eps0 V kB T) "
                                 "(eps_s - eps_inf)", err)) ||
      (st = kiln_result_add_copy(r, "dipole_mean", mean, 1, 3, "e Å", "<M> over all frames",
                                 err)) ||
      (st = kiln_result_add_copy(r, "T", &Tv, 1, 1, "K", "temperature used", err)) ||
      (st = kiln_result_add_copy(r, "volume", &Vv, 1, 1, "Å³", "volume used (mean over frames)",
                                 err)) ||
      (st = kiln_result_attr_num(r, "window", (double)W, err)) ||
      (st = kiln_result_attr_num(r, "step", (double)s->step, err)) ||
      (st = kiln_result_attr_str(r, "window_function", s->wfun, err)) ||
      (st = kiln_result_attr_str(r, "source", s->use_charges ? "charges" : "info dipole", err)))
    goto done;
done:
  free(cc);
  free(C);
  free(t);
  free(om);
  free(wf);
  free(cw);
  free(ss);
  free(chr);
  free(chi);
  free(nu);
  return st;
}

const kiln_corr_style kiln_corr_dipole_style = {
    .name = "dipole",
    .description = "total dipole autocorrelation and the dipolar susceptibility chi(omega) by "
                   "the classical fluctuation-dissipation theorem",
    .citation = "M. Neumann, Mol. Phys. 50, 841 (1983)",
    .options = "window=integer (lags in frames, default 500)\n"
               "step=integer (frames between time origins, default 1)\n"
               "window_function=string (none, hann, gauss or exp, default none)\n"
               "charges={El=q, ...} (e; M = sum q_j r_j with continuously unwrapped positions; "
               "default: the frames' info \"dipole\", e Å)\n"
               "T=number (K; default: the mean kinetic temperature of the frames)\n"
               "volume=number (Å³; default: the mean cell volume of the frames)",
    .init = init,
    .frame = frame,
    .result = result,
    .destroy = destroy,
};
