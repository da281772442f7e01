/* src/ml/dipole.c: the lambda = 1 (vector) kernel model of per-atom dipoles, its
 * Born charges, training rows, sparse-sparse kernel and the regularised solve
 * (kiln/dipole.h), plus the object that owns the descriptors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "kiln/dipole.h"
#include "kiln/linalg.h"

static int nthreads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

static int thread_id(void) {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

static double ipow(double x, int p) {
  double r = 1.0;
  for (int k = 0; k < p; k++) r *= x;
  return r;
}

/* ------------------------------------------------------------------ model kernel */

void kiln_dipole_model_free(kiln_dipole_model *mdl) {
  if (!mdl) return;
  free(mdl->el);
  free(mdl->V);
  free(mdl->S);
  free(mdl->a);
  free(mdl->b);
  memset(mdl, 0, sizeof *mdl);
}

static void update_b(kiln_dipole_model *mdl) {
  const size_t nv = mdl->nv;
  for (size_t s = 0; s < mdl->m; s++) {
    const double *V = mdl->V + s * 3 * nv, *a = mdl->a + 3 * s;
    double *b = mdl->b + s * nv;
    for (size_t q = 0; q < nv; q++) b[q] = V[q] * a[0] + V[nv + q] * a[1] + V[2 * nv + q] * a[2];
  }
}

kiln_status kiln_dipole_model_set(kiln_dipole_model *mdl, size_t nv, size_t ns, int zeta,
                                  size_t m, const int32_t *el, const double *V, const double *S,
                                  const double *a, kiln_error *err) {
  if (nv == 0) return KILN_FAIL(err, KILN_EINVAL, "dipole model: no vector features (nv = 0)");
  if (zeta < 1 || zeta > 64)
    return KILN_FAIL(err, KILN_EINVAL, "dipole model: zeta must be an integer in 1..64 (got %d)",
                     zeta);
  if (m > 0 && (!el || !V || (ns > 0 && !S)))
    return KILN_FAIL(err, KILN_EINVAL,
                     "dipole model: %zu sparse environments need element indices, vector rows%s",
                     m, ns > 0 ? " and scalar rows" : "");
  kiln_dipole_model t = {.nv = nv, .ns = ns, .zeta = zeta, .m = m};
  size_t mm = m ? m : 1;
  t.el = malloc(mm * sizeof *t.el);
  t.V = malloc(mm * 3 * nv * sizeof *t.V);
  t.a = calloc(mm * 3, sizeof *t.a);
  t.b = calloc(mm * nv, sizeof *t.b);
  if (ns) t.S = malloc(mm * ns * sizeof *t.S);
  if (!t.el || !t.V || !t.a || !t.b || (ns && !t.S)) {
    kiln_dipole_model_free(&t);
    return KILN_FAIL(err, KILN_ENOMEM, "dipole model: out of memory (%zu sparse x %zu columns)",
                     m, 3 * nv + ns);
  }
  if (m) {
    memcpy(t.el, el, m * sizeof *t.el);
    memcpy(t.V, V, m * 3 * nv * sizeof *t.V);
    if (a) memcpy(t.a, a, m * 3 * sizeof *t.a);
  }
  for (size_t s = 0; s < m && ns; s++) {
    const double *x = S + s * ns;
    double nrm = 0;
    for (size_t c = 0; c < ns; c++) nrm += x[c] * x[c];
    nrm = sqrt(nrm);
    if (!(nrm > 0) || !isfinite(nrm)) {
      kiln_dipole_model_free(&t);
      return KILN_FAIL(err, KILN_EINVAL,
                       "dipole model: sparse environment %zu has a zero or non-finite scalar "
                       "descriptor (norm %g)", s + 1, nrm);
    }
    for (size_t c = 0; c < ns; c++) t.S[s * ns + c] = x[c] / nrm;
  }
  update_b(&t);
  kiln_dipole_model_free(mdl);
  *mdl = t;
  return KILN_OK;
}

kiln_status kiln_dipole_model_set_weights(kiln_dipole_model *mdl, const double *a,
                                          kiln_error *err) {
  if (!mdl->V) return KILN_FAIL(err, KILN_ESTATE, "dipole model: no sparse environments yet");
  for (size_t k = 0; k < 3 * mdl->m; k++)
    if (!isfinite(a[k]))
      return KILN_FAIL(err, KILN_EINVAL, "dipole model: weight %zu is not finite", k + 1);
  memcpy(mdl->a, a, 3 * mdl->m * sizeof *a);
  update_b(mdl);
  return KILN_OK;
}

static kiln_status check_inputs(const kiln_dipole_model *mdl, size_t n, const int32_t *el,
                                const double *XV, const double *XS, kiln_error *err) {
  if (!mdl->V) return KILN_FAIL(err, KILN_ESTATE, "dipole model: no sparse environments yet");
  if (n > 0 && (!el || !XV))
    return KILN_FAIL(err, KILN_EINVAL, "dipole model: element indices and vector rows needed");
  if (n > 0 && mdl->ns > 0 && mdl->zeta > 1 && !XS)
    return KILN_FAIL(err, KILN_EINVAL,
                     "dipole model: the model has a scalar kernel (zeta %d) but no scalar rows "
                     "were given", mdl->zeta);
  return KILN_OK;
}

static kiln_status check_grad(const kiln_desc_grad *g, size_t n, size_t ncols, const char *which,
                              kiln_error *err) {
  if (!g) return KILN_FAIL(err, KILN_EINVAL, "dipole model: Born charges need the %s gradient", which);
  if (g->n != n || g->ncols != ncols)
    return KILN_FAIL(err, KILN_EINVAL,
                     "dipole model: %s gradient is for %zu atoms x %zu columns, expected %zu x %zu",
                     which, g->n, g->ncols, n, ncols);
  return KILN_OK;
}

/* |x_i| of the scalar rows (0 when there is no scalar factor) */
static void scalar_norms(const kiln_dipole_model *mdl, size_t n, const double *XS, double *xn) {
  const size_t ns = mdl->ns;
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    if (ns && mdl->zeta > 1)
      for (size_t c = 0; c < ns; c++) s += XS[i * ns + c] * XS[i * ns + c];
    xn[i] = sqrt(s);
  }
}

kiln_status kiln_dipole_eval(const kiln_dipole_model *mdl, size_t n, const int32_t *el,
                             const double *XV, const kiln_desc_grad *gV, const double *XS,
                             const kiln_desc_grad *gS, double (*mu)[3], double M[3],
                             double (*Z)[9], kiln_error *err) {
  kiln_status st = check_inputs(mdl, n, el, XV, XS, err);
  if (st) return st;
  const size_t nv = mdl->nv, ns = mdl->ns, m = mdl->m, nc = 3 * nv;
  const int zeta = mdl->zeta, scal = ns > 0 && zeta > 1;
  if (Z) {
    if ((st = check_grad(gV, n, nc, "vector descriptor", err))) return st;
    if (scal && (st = check_grad(gS, n, ns, "scalar descriptor", err))) return st;
  }
  const size_t nev = Z ? gV->offset[n] : 0, nes = Z && scal ? gS->offset[n] : 0;
  const int nth = nthreads();
  const size_t stride = nv + 3 * ns + 3;
  double *scr = malloc(((size_t)nth * stride + n + 3 * n + 9 * (nev + nes) + 1) * sizeof *scr);
  if (!scr)
    return KILN_FAIL(err, KILN_ENOMEM, "dipole model: out of memory (%zu atoms, %zu entries)", n,
                     nev + nes);
  double *xn = scr + (size_t)nth * stride, *muv = xn + n, *DV = muv + 3 * n, *DS = DV + 9 * nev;
  scalar_norms(mdl, n, XS, xn);
#pragma omp parallel
  {
    double *w = scr + (size_t)thread_id() * stride, *G = w + nv, *u = G + 3 * ns;
#pragma omp for schedule(dynamic, 8)
    for (size_t i = 0; i < n; i++) {
      const double *Vi = XV + i * nc, *xi = scal ? XS + i * ns : NULL;
      memset(w, 0, nv * sizeof *w);
      if (Z && scal) memset(G, 0, 3 * ns * sizeof *G);
      for (size_t s = 0; s < m; s++) {
        if (mdl->el[s] != el[i]) continue;
        const double *bs = mdl->b + s * nv;
        double k = 1.0, dk = 0.0, c = 0.0;
        const double *Ss = NULL;
        if (scal) {
          if (!(xn[i] > 0)) continue;   /* no environment: k = 0 */
          Ss = mdl->S + s * ns;
          for (size_t p = 0; p < ns; p++) c += xi[p] * Ss[p];
          c /= xn[i];
          k = ipow(c, zeta - 1);
          dk = (zeta - 1) * ipow(c, zeta - 2);
        }
        for (size_t q = 0; q < nv; q++) w[q] += k * bs[q];
        if (Z && scal && dk != 0) {
          for (int a = 0; a < 3; a++) {
            double t = 0;
            for (size_t q = 0; q < nv; q++) t += Vi[a * nv + q] * bs[q];
            u[a] = dk * t / xn[i];
          }
          for (size_t p = 0; p < ns; p++) {
            double dp = Ss[p] - c * xi[p] / xn[i];
            G[p] += u[0] * dp;
            G[ns + p] += u[1] * dp;
            G[2 * ns + p] += u[2] * dp;
          }
        }
      }
      for (int a = 0; a < 3; a++) {
        double t = 0;
        for (size_t q = 0; q < nv; q++) t += Vi[a * nv + q] * w[q];
        muv[3 * i + (size_t)a] = t;
      }
      if (!Z) continue;
      for (size_t e = gV->offset[i]; e < gV->offset[i + 1]; e++)
        for (int c = 0; c < 3; c++) {
          const double *d = gV->d + (e * 3 + (size_t)c) * nc;
          for (int a = 0; a < 3; a++) {
            double t = 0;
            for (size_t q = 0; q < nv; q++) t += d[a * nv + q] * w[q];
            DV[e * 9 + (size_t)(a * 3 + c)] = t;
          }
        }
      if (!scal) continue;
      for (size_t e = gS->offset[i]; e < gS->offset[i + 1]; e++)
        for (int c = 0; c < 3; c++) {
          const double *d = gS->d + (e * 3 + (size_t)c) * ns;
          for (int a = 0; a < 3; a++) {
            double t = 0;
            for (size_t p = 0; p < ns; p++) t += G[a * ns + p] * d[p];
            DS[e * 9 + (size_t)(a * 3 + c)] = t;
          }
        }
    }
  }
  if (mu) memcpy(mu, muv, 3 * n * sizeof *muv);
  if (M) {
    M[0] = M[1] = M[2] = 0;
    for (size_t i = 0; i < n; i++)
      for (int a = 0; a < 3; a++) M[a] += muv[3 * i + (size_t)a];
  }
  if (Z) {
    memset(Z, 0, n * sizeof *Z);
    for (int pass = 0; pass < 1 + scal; pass++) {
      const kiln_desc_grad *g = pass ? gS : gV;
      const double *D = pass ? DS : DV;
      for (size_t i = 0; i < n; i++)
        for (size_t e = g->offset[i]; e < g->offset[i + 1]; e++) {
          size_t j = (size_t)g->j[e];
          for (int k = 0; k < 9; k++) {
            Z[j][k] += D[e * 9 + (size_t)k];
            Z[i][k] -= D[e * 9 + (size_t)k];
          }
        }
    }
  }
  free(scr);
  return KILN_OK;
}

kiln_status kiln_dipole_rows(const kiln_dipole_model *mdl, size_t n, const int32_t *el,
                             const double *XV, const double *XS, double *rows, kiln_error *err) {
  kiln_status st = check_inputs(mdl, n, el, XV, XS, err);
  if (st) return st;
  const size_t nv = mdl->nv, ns = mdl->ns, m = mdl->m, nc = 3 * nv;
  const int zeta = mdl->zeta, scal = ns > 0 && zeta > 1;
  const int nth = nthreads();
  double *scr = malloc(((size_t)nth * nc + n + 1) * sizeof *scr);
  if (!scr) return KILN_FAIL(err, KILN_ENOMEM, "dipole model: out of memory (%zu atoms)", n);
  double *xn = scr + (size_t)nth * nc;
  scalar_norms(mdl, n, XS, xn);
#pragma omp parallel
  {
    double *T = scr + (size_t)thread_id() * nc;
#pragma omp for schedule(dynamic, 4)
    for (size_t s = 0; s < m; s++) {
      memset(T, 0, nc * sizeof *T);
      const double *Ss = scal ? mdl->S + s * ns : NULL, *Vs = mdl->V + s * nc;
      for (size_t i = 0; i < n; i++) {
        if (el[i] != mdl->el[s]) continue;
        double k = 1.0;
        if (scal) {
          if (!(xn[i] > 0)) continue;
          double c = 0;
          for (size_t p = 0; p < ns; p++) c += XS[i * ns + p] * Ss[p];
          k = ipow(c / xn[i], zeta - 1);
        }
        const double *Vi = XV + i * nc;
        for (size_t q = 0; q < nc; q++) T[q] += k * Vi[q];
      }
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
          double t = 0;
          for (size_t q = 0; q < nv; q++) t += T[(size_t)a * nv + q] * Vs[(size_t)b * nv + q];
          rows[(size_t)a * 3 * m + 3 * s + (size_t)b] = t;
        }
    }
  }
  free(scr);
  return KILN_OK;
}

kiln_status kiln_dipole_kmm(const kiln_dipole_model *mdl, double *K, kiln_error *err) {
  if (!mdl->V) return KILN_FAIL(err, KILN_ESTATE, "dipole model: no sparse environments yet");
  const size_t nv = mdl->nv, ns = mdl->ns, m = mdl->m, nc = 3 * nv, ld = 3 * m;
  const int zeta = mdl->zeta, scal = ns > 0 && zeta > 1;
#pragma omp parallel for schedule(dynamic, 4)
  for (size_t s = 0; s < m; s++)
    for (size_t t = 0; t < m; t++) {
      double k = 0.0;
      if (mdl->el[s] == mdl->el[t]) {
        k = 1.0;
        if (scal) {
          double c = 0;
          for (size_t p = 0; p < ns; p++) c += mdl->S[s * ns + p] * mdl->S[t * ns + p];
          k = ipow(c, zeta - 1);
        }
      }
      const double *Vs = mdl->V + s * nc, *Vt = mdl->V + t * nc;
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
          double v = 0;
          if (k != 0)
            for (size_t q = 0; q < nv; q++) v += Vs[(size_t)a * nv + q] * Vt[(size_t)b * nv + q];
          K[(3 * s + (size_t)a) * ld + 3 * t + (size_t)b] = k * v;
        }
    }
  return KILN_OK;
}

kiln_status kiln_dipole_solve(size_t nrows, size_t n, const double *A, const double *y,
                              const double *R, double reg, double jitter, double *x,
                              kiln_error *err) {
  if (n == 0) return KILN_FAIL(err, KILN_EINVAL, "dipole fit: no unknowns");
  if (!(reg >= 0) || !(jitter >= 0) || !isfinite(reg) || !isfinite(jitter))
    return KILN_FAIL(err, KILN_EINVAL,
                     "dipole fit: regularisation %g and jitter %g must be finite and >= 0", reg,
                     jitter);
  double *H = calloc(2 * n * n + 2 * n, sizeof *H);
  if (!H) return KILN_FAIL(err, KILN_ENOMEM, "dipole fit: out of memory (%zu unknowns)", n);
  double *Vec = H + n * n, *w = Vec + n * n, *r = w + n;
  for (size_t k = 0; k < nrows; k++) {
    const double *Ak = A + k * n;
    if (!isfinite(y[k])) {
      free(H);
      return KILN_FAIL(err, KILN_EINVAL, "dipole fit: target %zu is not finite", k + 1);
    }
    for (size_t p = 0; p < n; p++) {
      if (Ak[p] == 0) continue;
      r[p] += Ak[p] * y[k];
      for (size_t q = p; q < n; q++) H[p * n + q] += Ak[p] * Ak[q];
    }
  }
  if (R) {
    double tr = 0;
    for (size_t p = 0; p < n; p++) tr += R[p * n + p];
    tr /= (double)n;
    for (size_t p = 0; p < n; p++) {
      for (size_t q = p; q < n; q++) H[p * n + q] += reg * R[p * n + q];
      H[p * n + p] += reg * jitter * tr;
    }
  } else {
    for (size_t p = 0; p < n; p++) H[p * n + p] += reg;
  }
  kiln_status st = kiln_linalg_dsyev(n, H, w, Vec, err);
  if (st) {
    free(H);
    return st;
  }
  double wmax = fabs(w[n - 1]);
  memset(x, 0, n * sizeof *x);
  for (size_t k = 0; k < n; k++) {
    if (!(w[k] > 1e-13 * wmax)) continue;
    double t = 0;
    for (size_t p = 0; p < n; p++) t += Vec[p * n + k] * r[p];
    t /= w[k];
    for (size_t p = 0; p < n; p++) x[p] += t * Vec[p * n + k];
  }
  free(H);
  return KILN_OK;
}

/* ------------------------------------------------------------------ with descriptors */

struct kiln_dipole {
  kiln_desc *vec, *scal;
  kiln_dipole_model mdl;
  int zeta;
  size_t nv, ns;
  kiln_desc_grad gV, gS;
  double *XV, *XS;
  int32_t *el;
  size_t cap;
};

kiln_status kiln_dipole_new(kiln_dipole **out, const char *vstyle, const kiln_opts *vopts,
                            const char *sstyle, const kiln_opts *sopts, int zeta,
                            kiln_error *err) {
  *out = NULL;
  if (zeta < 1 || zeta > 64)
    return KILN_FAIL(err, KILN_EINVAL, "dipole model: zeta must be an integer in 1..64 (got %d)",
                     zeta);
  kiln_dipole *d = calloc(1, sizeof *d);
  if (!d) return KILN_FAIL(err, KILN_ENOMEM, "dipole model: out of memory");
  d->zeta = zeta;
  kiln_status st = kiln_desc_new(&d->vec, vstyle, vopts, err);
  if (st) goto fail;
  size_t nc = kiln_desc_ncols(d->vec);
  if (nc == 0 || nc % 3) {
    st = KILN_FAIL(err, KILN_EINVAL,
                   "dipole model: vector descriptor %s has %zu columns, not a multiple of 3 "
                   "(x, y, z blocks)", vstyle, nc);
    goto fail;
  }
  d->nv = nc / 3;
  if (sstyle) {
    if ((st = kiln_desc_new(&d->scal, sstyle, sopts, err))) goto fail;
    d->ns = kiln_desc_ncols(d->scal);
  }
  *out = d;
  return KILN_OK;
fail:
  kiln_dipole_free(d);
  return st;
}

void kiln_dipole_free(kiln_dipole *d) {
  if (!d) return;
  kiln_desc_free(d->vec);
  kiln_desc_free(d->scal);
  kiln_dipole_model_free(&d->mdl);
  kiln_desc_grad_free(&d->gV);
  kiln_desc_grad_free(&d->gS);
  free(d->XV);
  free(d->XS);
  free(d->el);
  free(d);
}

kiln_dipole_model *kiln_dipole_get_model(kiln_dipole *d) { return &d->mdl; }
kiln_desc *kiln_dipole_vector_desc(kiln_dipole *d) { return d->vec; }
kiln_desc *kiln_dipole_scalar_desc(kiln_dipole *d) { return d->scal; }
int kiln_dipole_zeta(const kiln_dipole *d) { return d->zeta; }

kiln_status kiln_dipole_set_sparse(kiln_dipole *d, size_t m, const int32_t *el, const double *V,
                                   const double *S, const double *a, kiln_error *err) {
  return kiln_dipole_model_set(&d->mdl, d->nv, d->scal ? d->ns : 0, d->zeta, m, el, V,
                               d->scal ? S : NULL, a, err);
}

static kiln_status reserve(kiln_dipole *d, size_t n, kiln_error *err) {
  if (n <= d->cap && d->el) return KILN_OK;
  size_t cap = n + 16;
  double *XV = realloc(d->XV, cap * 3 * d->nv * sizeof *XV);
  if (XV) d->XV = XV;
  double *XS = XV && d->ns ? realloc(d->XS, cap * d->ns * sizeof *XS) : d->XS;
  if (XS) d->XS = XS;
  int32_t *el = XV && (XS || !d->ns) ? realloc(d->el, cap * sizeof *el) : NULL;
  if (!el) return KILN_FAIL(err, KILN_ENOMEM, "dipole model: out of memory (%zu atoms)", n);
  d->el = el;
  d->cap = cap;
  return KILN_OK;
}

/* features (and gradients when grad) into d's scratch */
static kiln_status features(kiln_dipole *d, const kiln_atoms *a, int grad, kiln_error *err) {
  kiln_status st = reserve(d, a->n, err);
  if (st) return st;
  int32_t tv[KILN_MAX_SPECIES], ts[KILN_MAX_SPECIES];
  if ((st = kiln_desc_map(d->vec, a, tv, err))) return st;
  if (d->scal) {
    if ((st = kiln_desc_map(d->scal, a, ts, err))) return st;
    for (int t = 0; t < a->nspecies; t++)
      if (tv[t] != ts[t])
        return KILN_FAIL(err, KILN_EINVAL,
                         "dipole model: the vector and scalar descriptors number element '%s' "
                         "differently (%d vs %d): give both the same elements list",
                         a->species[t], (int)tv[t] + 1, (int)ts[t] + 1);
  }
  for (size_t i = 0; i < a->n; i++) d->el[i] = tv[a->type[i]];
  if ((st = kiln_desc_compute(d->vec, a, d->XV, grad ? &d->gV : NULL, err))) return st;
  if (d->scal && d->zeta > 1)
    if ((st = kiln_desc_compute(d->scal, a, d->XS, grad ? &d->gS : NULL, err))) return st;
  return KILN_OK;
}

kiln_status kiln_dipole_features(kiln_dipole *d, const kiln_atoms *a, int32_t *el, double *XV,
                                 double *XS, kiln_error *err) {
  kiln_status st = reserve(d, a->n, err);
  if (st) return st;
  int zeta = d->zeta;
  d->zeta = 2; /* scalar rows wanted even for zeta = 1 (sparse selection) */
  st = features(d, a, 0, err);
  d->zeta = zeta;
  if (st) return st;
  if (el) memcpy(el, d->el, a->n * sizeof *el);
  if (XV) memcpy(XV, d->XV, a->n * 3 * d->nv * sizeof *XV);
  if (XS && d->scal) memcpy(XS, d->XS, a->n * d->ns * sizeof *XS);
  return KILN_OK;
}

kiln_status kiln_dipole_compute(kiln_dipole *d, const kiln_atoms *a, double (*mu)[3],
                                double M[3], double (*Z)[9], kiln_error *err) {
  if (!d->mdl.V) return KILN_FAIL(err, KILN_ESTATE, "dipole model: not fitted (no sparse environments)");
  kiln_status st = features(d, a, Z != NULL, err);
  if (st) return st;
  return kiln_dipole_eval(&d->mdl, a->n, d->el, d->XV, Z ? &d->gV : NULL, d->XS,
                          Z ? &d->gS : NULL, mu, M, Z, err);
}

kiln_status kiln_dipole_design(kiln_dipole *d, const kiln_atoms *a, double *rows,
                               kiln_error *err) {
  if (!d->mdl.V) return KILN_FAIL(err, KILN_ESTATE, "dipole model: no sparse environments yet");
  kiln_status st = features(d, a, 0, err);
  if (st) return st;
  return kiln_dipole_rows(&d->mdl, a->n, d->el, d->XV, d->XS, rows, err);
}
