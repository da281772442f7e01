/* src/corr/corr_sqw.c: the "sqw" correlator: intermediate scattering function
 * F(q,t) and dynamic structure factor S(q,w), coherent with all species
 * partials, incoherent (self) part, longitudinal and transverse current
 * correlations, for a fixed list of q-points (doc/correlators.md, "sqw").
 *
 * Per frame: rho_a(q) = sum_{j in a} exp(i q.r_j) and (currents) j_a(q) =
 * sum_{j in a} v_j exp(i q.r_j) from the lattice-factorised kernel (rho.c);
 * their time correlations by the streaming block-FFT correlator (tcorr.c);
 * the self part from the per-atom phase autocorrelation against time origins
 * every incoherent_step frames (rho.c), accumulated directly per lag.
 * Normalisation: F_AB(q,t) = (1/N) <rho_A(q,t)* rho_B(q,0)>, N = all atoms. */
#include <stdlib.h>
#include <string.h>
#include "corr_internal.h"
#include "rho.h"

typedef double cplx[2];

typedef struct {
  /* options */
  size_t nq;
  double (*q)[3];          /* Cartesian q from the options (rad/Å), NULL if only hkl given */
  double (*hkl)[3];        /* reciprocal-lattice coordinates (given, or from the first frame) */
  int hkl_given, q_given;
  unsigned char *comm;
  size_t nnoncomm;
  size_t W, step, istep;
  int incoherent, currents;
  const char *wfun;        /* static string */
  /* from the first frame */
  int ready;
  size_t natoms;
  int nspec;
  char species[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  int32_t *type;
  size_t nper[KILN_MAX_SPECIES];
  kilni_rho *rho;
  kiln_tcorr *tc_rho, *tc_cur;
  cplx *rho_buf, *j_buf, *self_buf;
  /* incoherent */
  size_t nslots;
  long *slot_origin;       /* frame index of the origin in each slot, -1: empty */
  int *slot_list;
  cplx *self_acc;          /* nspec x nq x W */
  double *self_cnt;        /* W */
  long t;                  /* frames seen */
} sqw_state;

static const char *const wfun_names[] = {"none", "hann", "gauss", "exp"};

static void unsetup(sqw_state *s);

static void sqw_destroy(kiln_corr *c) {
  sqw_state *s = c->state;
  if (!s) return;
  s->q_given = s->hkl_given = 0;   /* free them too */
  unsetup(s);
  free(s->comm);
  free(s);
  c->state = NULL;
}

/* rows x 3 numbers from option `key` (a positional list of {x, y, z}). */
static kiln_status read_rows(const kiln_opts *o, const char *what, const char *key,
                             double (**out)[3], size_t *n, kiln_error *err) {
  *out = NULL;
  *n = 0;
  kiln_opts *t = kiln_opts_get(o, key);
  if (!t) return KILN_OK;
  size_t m = kiln_opts_npos(t);
  if (t->kind != KILN_OPT_TABLE || m == 0)
    return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' must be a non-empty list of {x, y, z} rows",
                     what, key);
  double(*r)[3] = malloc(m * sizeof *r);
  if (!r) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  for (size_t i = 0; i < m; i++) {
    kiln_opts *row = kiln_opts_at(t, i);
    if (!row || row->kind != KILN_OPT_TABLE || kiln_opts_npos(row) != 3) {
      free(r);
      return KILN_FAIL(err, KILN_EINVAL, "%s: %s row %zu must hold 3 numbers", what, key, i + 1);
    }
    for (int d = 0; d < 3; d++) {
      kiln_opts *x = kiln_opts_at(row, (size_t)d);
      if (!x || x->kind != KILN_OPT_NUM || !isfinite(x->num)) {
        free(r);
        return KILN_FAIL(err, KILN_EINVAL, "%s: %s row %zu entry %d is not a finite number", what,
                         key, i + 1, d + 1);
      }
      r[i][d] = x->num;
    }
  }
  *out = r;
  *n = m;
  return KILN_OK;
}

static kiln_status get_size(const kiln_opts *o, const char *what, const char *key, long def,
                            long min, size_t *out, kiln_error *err) {
  long v;
  kiln_status st = kiln_opts_int(o, what, key, 1, def, &v, err);
  if (st) return st;
  if (v < min)
    return KILN_FAIL(err, KILN_EINVAL, "%s: %s must be >= %ld (got %ld)", what, key, min, v);
  *out = (size_t)v;
  return KILN_OK;
}

static kiln_status sqw_init(kiln_corr *c, const kiln_opts *o, kiln_error *err) {
  sqw_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  c->state = s;
  const char *what = c->what;
  kiln_status st;
  size_t nh = 0;
  if ((st = read_rows(o, what, "q", &s->q, &s->nq, err)) ||
      (st = read_rows(o, what, "hkl", &s->hkl, &nh, err)))
    return st;
  if (!s->q && !s->hkl)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: option 'q' (the q-points: a list of {qx, qy, qz} rows in rad/Å) is "
                     "required", what);
  if (!s->q) s->nq = nh;
  if (s->q && s->hkl && nh != s->nq)
    return KILN_FAIL(err, KILN_EINVAL, "%s: hkl has %zu rows but q has %zu", what, nh, s->nq);
  s->hkl_given = s->hkl != NULL;
  s->q_given = s->q != NULL;
  if ((st = get_size(o, what, "window", 200, 2, &s->W, err)) ||
      (st = get_size(o, what, "step", 1, 1, &s->step, err)) ||
      (st = kiln_opts_bool(o, what, "incoherent", 1, 0, &s->incoherent, err)) ||
      (st = kiln_opts_bool(o, what, "currents", 1, 0, &s->currents, err)) ||
      (st = get_size(o, what, "incoherent_step", (long)((s->W + 1) / 2), 1, &s->istep, err)))
    return st;
  const char *wf;
  if ((st = kiln_opts_str(o, what, "window_function", 1, "none", &wf, err))) return st;
  s->wfun = NULL;
  for (int i = 0; i < 4; i++)
    if (strcmp(wf, wfun_names[i]) == 0) s->wfun = wfun_names[i];
  if (!s->wfun)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: window_function '%s' is unknown (choose none, hann, gauss or exp)", what,
                     wf);
  if (s->istep > s->W) s->istep = s->W;
  if (!(s->comm = calloc(s->nq, 1)))
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  return KILN_OK;
}

/* Undo a setup (so that a first frame that failed leaves no half-made state). */
static void unsetup(sqw_state *s) {
  if (!s->q_given) {
    free(s->q);
    s->q = NULL;
  }
  if (!s->hkl_given) {
    free(s->hkl);
    s->hkl = NULL;
  }
  free(s->type);
  kilni_rho_free(s->rho);
  kiln_tcorr_free(s->tc_rho);
  kiln_tcorr_free(s->tc_cur);
  free(s->rho_buf);
  free(s->j_buf);
  free(s->self_buf);
  free(s->slot_origin);
  free(s->slot_list);
  free(s->self_acc);
  free(s->self_cnt);
  s->type = NULL;
  s->rho = NULL;
  s->tc_rho = s->tc_cur = NULL;
  s->rho_buf = s->j_buf = s->self_buf = s->self_acc = NULL;
  s->slot_origin = NULL;
  s->slot_list = NULL;
  s->self_cnt = NULL;
  memset(s->nper, 0, sizeof s->nper);
}

/* First frame: species, atom count, hkl, buffers. */
static kiln_status setup(kiln_corr *c, sqw_state *s, const kiln_atoms *a, const double inv[3][3],
                         kiln_error *err) {
  const char *what = c->what;
  unsetup(s);
  if (a->n == 0) return KILN_FAIL(err, KILN_EINVAL, "%s: the frame has no atoms", what);
  if (a->nspecies < 1 || a->nspecies > KILN_MAX_SPECIES)
    return KILN_FAIL(err, KILN_EINVAL, "%s: the frame has %d species", what, a->nspecies);
  s->natoms = a->n;
  s->nspec = a->nspecies;
  memcpy(s->species, a->species, sizeof s->species);
  if (!(s->type = malloc(a->n * sizeof *s->type)))
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  memcpy(s->type, a->type, a->n * sizeof *s->type);
  for (size_t i = 0; i < a->n; i++) {
    if (a->type[i] < 0 || a->type[i] >= a->nspecies)
      return KILN_FAIL(err, KILN_EINVAL, "%s: atom %zu has type %d outside 0..%d", what, i + 1,
                       (int)a->type[i], a->nspecies - 1);
    s->nper[a->type[i]]++;
  }
  /* hkl: q.a_j = 2 pi h_j */
  if (!s->hkl_given) {
    if (!(s->hkl = malloc(s->nq * sizeof *s->hkl)))
      return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
    for (size_t q = 0; q < s->nq; q++)
      for (int d = 0; d < 3; d++)
        s->hkl[q][d] = (a->cell[d][0] * s->q[q][0] + a->cell[d][1] * s->q[q][1] +
                        a->cell[d][2] * s->q[q][2]) / (2 * M_PI);
  } else if (!s->q) {
    if (!(s->q = malloc(s->nq * sizeof *s->q)))
      return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
    for (size_t q = 0; q < s->nq; q++)
      for (int d = 0; d < 3; d++)
        s->q[q][d] = 2 * M_PI * (s->hkl[q][0] * inv[d][0] + s->hkl[q][1] * inv[d][1] +
                                 s->hkl[q][2] * inv[d][2]);
  } else {
    for (size_t q = 0; q < s->nq; q++) {
      double qc[3], dq = 0, qn = 0;
      for (int d = 0; d < 3; d++) {
        qc[d] = 2 * M_PI * (s->hkl[q][0] * inv[d][0] + s->hkl[q][1] * inv[d][1] +
                            s->hkl[q][2] * inv[d][2]);
        dq += (qc[d] - s->q[q][d]) * (qc[d] - s->q[q][d]);
        qn += s->q[q][d] * s->q[q][d];
      }
      if (sqrt(dq) > 1e-6 * fmax(1.0, sqrt(qn)))
        return KILN_FAIL(err, KILN_EINVAL,
                         "%s: q-point %zu = (%g, %g, %g) rad/Å does not match hkl (%g, %g, %g) on "
                         "the first frame's cell, which gives (%g, %g, %g)", what, q + 1,
                         s->q[q][0], s->q[q][1], s->q[q][2], s->hkl[q][0], s->hkl[q][1],
                         s->hkl[q][2], qc[0], qc[1], qc[2]);
    }
  }
  s->nnoncomm = 0;
  for (size_t q = 0; q < s->nq; q++) {
    int ok = 1;
    for (int d = 0; d < 3; d++) {
      double r = nearbyint(s->hkl[q][d]);
      if (fabs(s->hkl[q][d] - r) > 1e-6 || fabs(r) > 1e6) ok = 0;
    }
    s->comm[q] = (unsigned char)ok;
    if (ok)
      for (int d = 0; d < 3; d++) s->hkl[q][d] = nearbyint(s->hkl[q][d]);
    else
      s->nnoncomm++;
  }
  s->nslots = s->incoherent ? (s->W + s->istep - 1) / s->istep : 0;
  kilni_rho_setup rs = {a->n, s->nq, s->nspec, a->type, (const double(*)[3])s->hkl, s->comm,
                        s->currents, s->nslots};
  kiln_status st = kilni_rho_new(&s->rho, &rs, err);
  if (st) return st;
  const size_t nq = s->nq, ns = (size_t)s->nspec;
  /* coherent: series (q, a), pairs (q, a, b) for all ordered species pairs */
  size_t np = nq * ns * ns;
  size_t(*pairs)[2] = malloc(np * 4 * sizeof *pairs);
  if (!pairs) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  for (size_t q = 0; q < nq; q++)
    for (size_t x = 0; x < ns; x++)
      for (size_t y = 0; y < ns; y++) {
        pairs[(q * ns + x) * ns + y][0] = q * ns + x;
        pairs[(q * ns + x) * ns + y][1] = q * ns + y;
      }
  st = kiln_tcorr_new(&s->tc_rho, nq * ns, (const size_t(*)[2])pairs, np, s->W, s->step, err);
  if (!st && s->currents) {
    /* currents: series (q, a, c) with c = L, Tx, Ty, Tz; pairs (q, a, b, c) */
    for (size_t q = 0; q < nq; q++)
      for (size_t x = 0; x < ns; x++)
        for (size_t y = 0; y < ns; y++)
          for (size_t k = 0; k < 4; k++) {
            size_t p = ((q * ns + x) * ns + y) * 4 + k;
            pairs[p][0] = (q * ns + x) * 4 + k;
            pairs[p][1] = (q * ns + y) * 4 + k;
          }
    st = kiln_tcorr_new(&s->tc_cur, nq * ns * 4, (const size_t(*)[2])pairs, np * 4, s->W,
                        s->step, err);
  }
  free(pairs);
  if (st) return st;
  s->rho_buf = malloc(nq * ns * sizeof *s->rho_buf);
  if (s->currents) s->j_buf = malloc(nq * ns * 3 * sizeof *s->j_buf);
  if (s->incoherent) {
    s->self_buf = malloc(s->nslots * nq * ns * sizeof *s->self_buf);
    s->slot_origin = malloc(s->nslots * sizeof *s->slot_origin);
    s->slot_list = malloc(s->nslots * sizeof *s->slot_list);
    s->self_acc = calloc(ns * nq * s->W, sizeof *s->self_acc);
    s->self_cnt = calloc(s->W, sizeof *s->self_cnt);
  }
  if (!s->rho_buf || (s->currents && !s->j_buf) ||
      (s->incoherent && (!s->self_buf || !s->slot_origin || !s->slot_list || !s->self_acc ||
                         !s->self_cnt)))
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory for %zu q-points x window %zu", what,
                     nq, s->W);
  for (size_t k = 0; k < s->nslots; k++) s->slot_origin[k] = -1;
  s->ready = 1;
  return KILN_OK;
}

static kiln_status check_frame(const kiln_corr *c, const sqw_state *s, const kiln_atoms *a,
                               kiln_error *err) {
  if (a->n != s->natoms)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: frame %ld has %zu atoms but the first frame had %zu (the atom count "
                     "must not change)", c->what, c->nframes, a->n, s->natoms);
  if (a->nspecies != s->nspec)
    return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has %d species but the first frame had %d",
                     c->what, c->nframes, a->nspecies, s->nspec);
  for (int k = 0; k < s->nspec; k++)
    if (strcmp(a->species[k], s->species[k]))
      return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld: species %d is %s but was %s in the first "
                       "frame", c->what, c->nframes, k + 1, a->species[k], s->species[k]);
  if (memcmp(a->type, s->type, a->n * sizeof *a->type))
    for (size_t i = 0; i < a->n; i++)
      if (a->type[i] != s->type[i])
        return KILN_FAIL(err, KILN_EINVAL,
                         "%s: frame %ld: atom %zu is %s but was %s in the first frame", c->what,
                         c->nframes, i + 1, a->type[i] >= 0 && a->type[i] < a->nspecies
                                             ? a->species[a->type[i]] : "?",
                         s->species[s->type[i]]);
  return KILN_OK;
}

static kiln_status sqw_frame(kiln_corr *c, const kiln_atoms *a, kiln_error *err) {
  sqw_state *s = c->state;
  double inv[3][3];
  kiln_status st = kiln_cell_inverse(a->cell, inv, err);
  if (st)
    return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld needs a cell (q-points are given on its "
                     "reciprocal lattice): %.300s", c->what, c->nframes, err ? err->msg : "");
  if (!s->ready) {
    if ((st = setup(c, s, a, inv, err))) {
      unsetup(s);
      return st;
    }
  } else if ((st = check_frame(c, s, a, err))) {
    return st;
  }
  if (s->currents && !a->v)
    return KILN_FAIL(err, KILN_EINVAL, "%s: currents need velocities, frame %ld has none",
                     c->what, c->nframes);
  if (s->currents && c->nframes == 0) {
    /* a file without velocity columns gives all-zero velocities: say so rather than
     * return zero currents (checked on the first frame; an MD frame never has v = 0) */
    int any = 0;
    for (size_t i = 0; i < a->n && !any; i++)
      any = a->v[i][0] != 0 || a->v[i][1] != 0 || a->v[i][2] != 0;
    if (!any && a->n > 1)
      return KILN_FAIL(err, KILN_EINVAL,
                       "%s: currents=true but the first frame's velocities are all zero (does the "
                       "trajectory have velocity columns?)", c->what);
  }
  const size_t nq = s->nq, ns = (size_t)s->nspec, W = s->W;
  const long t = s->t;
  /* incoherent: alive origins (lag 1..W-1), and whether this frame is a new origin */
  size_t nself = 0;
  int store = -1;
  if (s->incoherent) {
    for (size_t k = 0; k < s->nslots; k++)
      if (s->slot_origin[k] >= 0 && t - s->slot_origin[k] < (long)W)
        s->slot_list[nself++] = (int)k;
    if (t % (long)s->istep == 0) store = (int)((t / (long)s->istep) % (long)s->nslots);
  }
  kilni_rho_frame(s->rho, (const double(*)[3])a->x, (const double(*)[3])a->v,
                  (const double(*)[3])inv, s->rho_buf, s->j_buf, s->slot_list, nself, s->self_buf,
                  store);
  memcpy(kiln_tcorr_slot(s->tc_rho), s->rho_buf, nq * ns * sizeof *s->rho_buf);
  if ((st = kiln_tcorr_push(s->tc_rho, err))) return st;
  if (s->currents) {
    cplx *slot = kiln_tcorr_slot(s->tc_cur);
    for (size_t q = 0; q < nq; q++) {
      double qc[3], qn = 0;
      for (int d = 0; d < 3; d++) {
        qc[d] = s->hkl[q][0] * inv[d][0] + s->hkl[q][1] * inv[d][1] + s->hkl[q][2] * inv[d][2];
        qn += qc[d] * qc[d];
      }
      qn = sqrt(qn);
      for (int d = 0; d < 3; d++) qc[d] = qn > 0 ? qc[d] / qn : 0.0;
      for (size_t x = 0; x < ns; x++) {
        const cplx *jj = s->j_buf + (q * ns + x) * 3;
        cplx *o = slot + (q * ns + x) * 4;
        for (int ri = 0; ri < 2; ri++) {
          double l = qc[0] * jj[0][ri] + qc[1] * jj[1][ri] + qc[2] * jj[2][ri];
          o[0][ri] = l;
          /* q = 0 has no direction: both parts are reported as zero */
          for (int d = 0; d < 3; d++) o[1 + d][ri] = qn > 0 ? jj[d][ri] - qc[d] * l : 0.0;
        }
      }
    }
    if ((st = kiln_tcorr_push(s->tc_cur, err))) return st;
  }
  if (s->incoherent) {
    for (size_t k = 0; k < nself; k++) {
      const long lag = t - s->slot_origin[s->slot_list[k]];
      for (size_t q = 0; q < nq; q++)
        for (size_t x = 0; x < ns; x++) {
          cplx *acc = s->self_acc + (x * nq + q) * W + (size_t)lag;
          (*acc)[0] += s->self_buf[(k * nq + q) * ns + x][0];
          (*acc)[1] += s->self_buf[(k * nq + q) * ns + x][1];
        }
      s->self_cnt[lag] += 1;
    }
    if (store >= 0) {
      /* lag 0: conj(e) e = 1 for every atom, exactly */
      s->slot_origin[store] = t;
      for (size_t q = 0; q < nq; q++)
        for (size_t x = 0; x < ns; x++) s->self_acc[(x * nq + q) * W][0] += (double)s->nper[x];
      s->self_cnt[0] += 1;
    }
  }
  s->t++;
  return KILN_OK;
}

/* ------------------------------------------------------------------ results */

typedef struct {
  kiln_result *r;
  double dt;
  const double *win;      /* W window weights */
  size_t nq, W;
  kiln_error *err;
} outctx;

/* Add F (nq x W) as `fname` and its spectrum as `sname` (either may be NULL). */
static kiln_status add_pair(outctx *o, const char *fname, const char *sname, const double *f,
                            const char *funit, const char *sunit, const char *fdesc,
                            const char *sdesc) {
  kiln_status st = KILN_OK;
  const size_t n = o->nq * o->W;
  if (fname && (st = kiln_result_add_copy(o->r, fname, f, o->nq, o->W, funit, fdesc, o->err)))
    return st;
  if (!sname) return KILN_OK;
  double *sp = malloc(n * sizeof *sp);
  if (!sp) return KILN_FAIL(o->err, KILN_ENOMEM, "sqw: out of memory for results");
  for (size_t q = 0; q < o->nq; q++)
    for (size_t k = 0; k < o->W; k++) sp[q * o->W + k] = f[q * o->W + k] * o->win[k];
  if (isfinite(o->dt)) {
    st = kiln_corr_cos_transform(sp, o->W, o->nq, o->dt, sp, o->err);
  } else {
    for (size_t i = 0; i < n; i++) sp[i] = NAN;
  }
  if (!st) st = kiln_result_add_copy(o->r, sname, sp, o->nq, o->W, sunit, sdesc, o->err);
  free(sp);
  return st;
}

static kiln_status sqw_result(kiln_corr *c, kiln_result *r, kiln_error *err) {
  kiln_status dst = kiln_corr_require_dt(c, err);
  if (dst) return dst;
  sqw_state *s = c->state;
  const size_t nq = s->nq, ns = (size_t)s->nspec, W = s->W;
  const double N = (double)s->natoms, dt = c->dt;
  kiln_status st = KILN_OK;
  double *tmp = malloc(W * 2 * sizeof *tmp), *win = malloc(W * sizeof *win);
  double *tot = calloc(nq * W, sizeof *tot), *part = malloc(nq * W * sizeof *part);
  double *tot2 = calloc(nq * W, sizeof *tot2), *part2 = malloc(nq * W * sizeof *part2);
  size_t np = nq * ns * ns;
  cplx *cc = malloc(np * (s->currents ? 4 : 1) * W * sizeof *cc);
  char name[128], name2[128], desc[256];
  if (!tmp || !win || !tot || !part || !tot2 || !part2 || !cc) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory for results", c->what);
    goto done;
  }
  if ((st = kiln_corr_window(s->wfun, W, win, err))) goto done;
  outctx o = {r, dt, win, nq, W, err};
  /* q, hkl, time, omega */
  if ((st = kiln_result_add_copy(r, "q", &s->q[0][0], nq, 3, "rad/Å",
                                 "q-points (Cartesian, including 2π)", err)))
    goto done;
  if ((st = kiln_result_add_copy(r, "hkl", &s->hkl[0][0], nq, 3, "1",
                                 "q-points on the reciprocal lattice of the first frame's cell",
                                 err)))
    goto done;
  for (size_t k = 0; k < W; k++) tmp[k] = (double)k * dt;
  if ((st = kiln_result_add_copy(r, "time", tmp, W, 1, "fs", "time lag", err))) goto done;
  kiln_corr_omega(W, dt, tmp);
  if ((st = kiln_result_add_copy(r, "omega", tmp, W, 1, "rad/fs",
                                 "angular frequency of the spectra, ω_k = kπ/((W-1)dt)", err)))
    goto done;
  /* coherent */
  if ((st = kiln_tcorr_get(s->tc_rho, cc, NULL, err))) goto done;
  for (size_t x = 0; x < ns; x++)
    for (size_t y = x; y < ns; y++) {
      for (size_t q = 0; q < nq; q++)
        for (size_t k = 0; k < W; k++) {
          double v = cc[((q * ns + x) * ns + y) * W + k][0];
          if (y != x) v += cc[((q * ns + y) * ns + x) * W + k][0];
          part[q * W + k] = v / N;
          tot[q * W + k] += v / N;
        }
      snprintf(name, sizeof name, "fqt_partial/%s-%s", s->species[x], s->species[y]);
      snprintf(name2, sizeof name2, "sqw_partial/%s-%s", s->species[x], s->species[y]);
      snprintf(desc, sizeof desc, "partial %s-%s of S(q,ω)%s", s->species[x], s->species[y],
               x != y ? " (both orders)" : "");
      if ((st = add_pair(&o, name, name2, part, "1", "fs",
                         x != y ? "partial intermediate scattering function (1/N)Re<ρA*ρB + ρB*ρA>"
                                : "partial intermediate scattering function (1/N)<ρA(q,t)* ρA(q,0)>",
                         desc)))
        goto done;
    }
  if ((st = add_pair(&o, "fqt_coh", "sqw_coh", tot, "1", "fs",
                     "coherent intermediate scattering function F(q,t) (sum of partials)",
                     "coherent dynamic structure factor S(q,ω)")))
    goto done;
  /* currents */
  if (s->currents) {
    if ((st = kiln_tcorr_get(s->tc_cur, cc, NULL, err))) goto done;
    memset(tot, 0, nq * W * sizeof *tot);
    memset(tot2, 0, nq * W * sizeof *tot2);
    for (size_t x = 0; x < ns; x++)
      for (size_t y = x; y < ns; y++) {
        for (size_t q = 0; q < nq; q++)
          for (size_t k = 0; k < W; k++) {
            double l = 0, tr = 0;
            for (int pass = 0; pass < (y != x ? 2 : 1); pass++) {
              size_t p = pass ? (q * ns + y) * ns + x : (q * ns + x) * ns + y;
              l += cc[(p * 4 + 0) * W + k][0];
              tr += cc[(p * 4 + 1) * W + k][0] + cc[(p * 4 + 2) * W + k][0] +
                    cc[(p * 4 + 3) * W + k][0];
            }
            part[q * W + k] = l / N;
            part2[q * W + k] = tr / (2 * N);
            tot[q * W + k] += l / N;
            tot2[q * W + k] += tr / (2 * N);
          }
        snprintf(name, sizeof name, "cl_partial/%s-%s", s->species[x], s->species[y]);
        snprintf(name2, sizeof name2, "clw_partial/%s-%s", s->species[x], s->species[y]);
        if ((st = add_pair(&o, name, name2, part, "Å^2/fs^2", "Å^2/fs",
                           "partial longitudinal current correlation", "its spectrum")))
          goto done;
        snprintf(name, sizeof name, "ct_partial/%s-%s", s->species[x], s->species[y]);
        snprintf(name2, sizeof name2, "ctw_partial/%s-%s", s->species[x], s->species[y]);
        if ((st = add_pair(&o, name, name2, part2, "Å^2/fs^2", "Å^2/fs",
                           "partial transverse current correlation (per transverse component)",
                           "its spectrum")))
          goto done;
      }
    if ((st = add_pair(&o, "cl", "clw", tot, "Å^2/fs^2", "Å^2/fs",
                       "longitudinal current correlation C_L(q,t) = (1/N)<j_L(q,t)* j_L(q,0)>",
                       "longitudinal current spectrum C_L(q,ω)")) ||
        (st = add_pair(&o, "ct", "ctw", tot2, "Å^2/fs^2", "Å^2/fs",
                       "transverse current correlation C_T(q,t), per transverse component",
                       "transverse current spectrum C_T(q,ω)")))
      goto done;
  }
  /* incoherent */
  if (s->incoherent) {
    memset(tot, 0, nq * W * sizeof *tot);
    for (size_t x = 0; x < ns; x++) {
      for (size_t q = 0; q < nq; q++)
        for (size_t k = 0; k < W; k++) {
          double n = s->self_cnt[k];
          double v = n > 0 ? s->self_acc[(x * nq + q) * W + k][0] / (n * N) : 0.0;
          part[q * W + k] = v;
          tot[q * W + k] += v;
        }
      snprintf(name, sizeof name, "fqt_self/%s", s->species[x]);
      snprintf(name2, sizeof name2, "sqw_self/%s", s->species[x]);
      if ((st = add_pair(&o, name, name2, part, "1", "fs",
                         "self intermediate scattering function of one species, (1/N) sum over "
                         "its atoms", "its spectrum")))
        goto done;
    }
    if ((st = add_pair(&o, "fqt_incoh", "sqw_incoh", tot, "1", "fs",
                       "incoherent (self) intermediate scattering function F_s(q,t)",
                       "incoherent dynamic structure factor S_s(q,ω)")))
      goto done;
  }
  /* attributes */
  {
    char sp[KILN_MAX_SPECIES * (KILN_SYMBOL_LEN + 1) + 1] = "";
    for (size_t x = 0; x < ns; x++) {
      if (x) strcat(sp, " ");
      strcat(sp, s->species[x]);
    }
    if ((st = kiln_result_attr_num(r, "window", (double)W, err)) ||
        (st = kiln_result_attr_num(r, "step", (double)s->step, err)) ||
        (st = kiln_result_attr_num(r, "nq", (double)nq, err)) ||
        (st = kiln_result_attr_num(r, "natoms", N, err)) ||
        (st = kiln_result_attr_num(r, "noncommensurate", (double)s->nnoncomm, err)) ||
        (st = kiln_result_attr_str(r, "species", sp, err)) ||
        (st = kiln_result_attr_str(r, "window_function", s->wfun, err)) ||
        (st = kiln_result_attr_str(r, "units", "time fs, omega rad/fs, q rad/Å; F per atom "
                                   "(1/N, N = all atoms), S(q,ω) fs with (1/2π)∫S dω = F(q,0); "
                                   "currents (Å/fs)^2, their spectra Å^2/fs", err)))
      goto done;
    if (s->incoherent &&
        (st = kiln_result_attr_num(r, "incoherent_step", (double)s->istep, err)))
      goto done;
  }
done:
  free(tmp);
  free(win);
  free(tot);
  free(part);
  free(tot2);
  free(part2);
  free(cc);
  return st;
}

/* result is only called after at least one frame (the framework checks). */
const kiln_corr_style kiln_corr_sqw_style = {
    .name = "sqw",
    .description =
        "dynamic structure factor: intermediate scattering function F(q,t) and S(q,ω) for a "
        "list of q-points, coherent with all species partials, incoherent (self) part, "
        "longitudinal and transverse current correlations",
    .citation = "J. P. Hansen and I. R. McDonald, Theory of Simple Liquids, ch. 7-8; "
                "E. Fransson et al., Adv. Theory Simul. 4, 2000240 (2021) (dynasor)",
    .options =
        "q={{qx,qy,qz}, ...} (rad/Å including 2π; required)\n"
        "hkl={{h,k,l}, ...} (reciprocal-lattice indices of each q on the cell; default: from the "
        "first frame's cell)\n"
        "window=integer (time lags in frames, default 200)\n"
        "step=integer (frames between time origins of the coherent part, default 1)\n"
        "incoherent=boolean (default false: also the self part F_s(q,t))\n"
        "incoherent_step=integer (frames between time origins of the self part, default "
        "ceil(window/2))\n"
        "currents=boolean (default false: also longitudinal and transverse current "
        "correlations; needs velocities)\n"
        "window_function=string (none, hann, gauss or exp; applied before the transform, "
        "default none)",
    .init = sqw_init,
    .frame = sqw_frame,
    .result = sqw_result,
    .destroy = sqw_destroy,
};
