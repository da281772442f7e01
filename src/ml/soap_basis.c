/* src/ml/soap_basis.c: option parsing and the tables of the SOAP descriptors: the
 * orthonormalised GTO radial basis, the radial integrals I_nl(d) (Gauss-Legendre
 * quadrature over scaled modified spherical Bessel functions, tabulated as piecewise
 * cubic Hermite polynomials), real spherical harmonics with gradients, the feature pair
 * tables and the real Gaunt coefficients coupling l and l+1 to a Cartesian vector. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/linalg.h"
#include "ml/soap_internal.h"

#define LM1 (SOAP_LMAX_MAX + 1)

/* Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_n). */
static void gauss_legendre(int n, double *x, double *w) {
  for (int i = 0; i < (n + 1) / 2; i++) {
    double z = cos(M_PI * (i + 0.75) / (n + 0.5)), dp = 1;
    for (int it = 0; it < 100; it++) {
      double p0 = 1, p1 = z;
      for (int k = 2; k <= n; k++) {
        double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      if (n == 1) { p1 = z; p0 = 1; }
      dp = n * (z * p1 - p0) / (z * z - 1);
      double dz = p1 / dp;
      z -= dz;
      if (fabs(dz) < 1e-16) break;
    }
    /* recompute the derivative at the converged node */
    double p0 = 1, p1 = z;
    for (int k = 2; k <= n; k++) {
      double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    dp = n * (z * p1 - p0) / (z * z - 1);
    x[i] = -z;
    x[n - 1 - i] = z;
    w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
}

/* e^{-x} i_l(x) for l = 0..L (x >= 0). Series for x <= 300 (positive terms), downward
 * recurrence from the two top orders when x >= 1e-3, the finite closed form above 300. */
static double sbessel_series(int l, double x) {
  if (x == 0) return l == 0 ? 1.0 : 0.0;
  double lf = 0;                          /* log (2l+1)!! */
  for (int k = 1; k <= l; k++) lf += log(2.0 * k + 1);
  double t = exp(l * log(x) - lf - x), s = t, y = 0.5 * x * x;
  for (int k = 0; k < 2000; k++) {
    t *= y / ((k + 1.0) * (2.0 * l + 2 * k + 3));
    s += t;
    if (t < 1e-18 * s && k > x) break;
  }
  return s;
}

static void sbessel_scaled(int L, double x, double *out) {
  if (x > 300) {
    for (int l = 0; l <= L; l++) {
      double s = 0, c = 1;                 /* c = (l+k)!/(k!(l-k)!) / (2x)^k */
      for (int k = 0; k <= l; k++) {
        s += (k & 1) ? -c : c;
        c *= (double)(l + k + 1) * (l - k) / ((k + 1.0) * 2 * x);
      }
      out[l] = s / (2 * x);
    }
    return;
  }
  if (x < 1e-3 || L < 1) {
    for (int l = 0; l <= L; l++) out[l] = sbessel_series(l, x);
    return;
  }
  out[L] = sbessel_series(L, x);
  out[L - 1] = sbessel_series(L - 1, x);
  for (int l = L - 1; l >= 1; l--) out[l - 1] = out[l + 1] + (2 * l + 1) / x * out[l];
}

/* primitive GTO phi_k(r), normalised */
static double prim(const soap_basis *b, int k, double r) {
  return b->pnorm[k] * pow(r, k) * exp(-b->pb[k] * r * r);
}

double soap_radial_g(const soap_basis *b, int n, double r) {
  double s = 0;
  for (int k = 0; k < b->nmax; k++) s += b->T[n * b->nmax + k] * prim(b, k, r);
  return s;
}

void soap_radial_direct(const soap_basis *b, double d, double *I, double *dI) {
  enum { NGL = 12 };
  double gx[NGL], gw[NGL];
  gauss_legendre(NGL, gx, gw);
  const int nmax = b->nmax, L = b->lmax, Q = b->Q;
  const double s2 = b->sigma * b->sigma;
  for (int q = 0; q < Q; q++) I[q] = dI[q] = 0;
  double lo = d - 9 * b->sigma, hi = d + 9 * b->sigma;
  if (lo < 0) lo = 0;
  int npan = (int)ceil((hi - lo) / b->sigma);
  if (npan < 4) npan = 4;
  const double pw = (hi - lo) / npan;
  double bi[SOAP_LMAX_MAX + 2], g[SOAP_NMAX_MAX], ph[SOAP_NMAX_MAX];
  for (int p = 0; p < npan; p++) {
    for (int t = 0; t < NGL; t++) {
      const double r = lo + pw * (p + 0.5 * (gx[t] + 1));
      const double wt = 0.5 * pw * gw[t] * 4 * M_PI * r * r * exp(-(r - d) * (r - d) / (2 * s2));
      sbessel_scaled(L + 1, r * d / s2, bi);
      for (int k = 0; k < nmax; k++) ph[k] = prim(b, k, r);
      for (int n = 0; n < nmax; n++) {
        double s = 0;
        for (int k = 0; k < nmax; k++) s += b->T[n * nmax + k] * ph[k];
        g[n] = s * wt;
      }
      for (int l = 0; l <= L; l++) {
        const double di = (l ? l * bi[l - 1] : 0) + (l + 1) * bi[l + 1];
        const double f = bi[l], df = -d / s2 * bi[l] + r / s2 * di / (2 * l + 1);
        for (int n = 0; n < nmax; n++) {
          I[l * nmax + n] += g[n] * f;
          dI[l * nmax + n] += g[n] * df;
        }
      }
    }
  }
}

void soap_radial_eval(const soap_basis *b, double d, double *R, double *dR) {
  double fc = 1, dfc = 0;
  const double r1 = b->rcut - b->cw;
  if (d > r1) {
    const double a = M_PI / b->cw;
    fc = 0.5 * (1 + cos(a * (d - r1)));
    dfc = -0.5 * a * sin(a * (d - r1));
  }
  double s = d * b->hinv;
  int g = (int)s;
  if (g >= b->ngrid) g = b->ngrid - 1;
  if (g < 0) g = 0;
  const double t = s - g;
  const int Q = b->Q;
  const double *c0 = b->rad + (size_t)g * Q * 4, *c1 = c0 + Q, *c2 = c1 + Q, *c3 = c2 + Q;
  const double hinv = b->hinv;
#pragma omp simd
  for (int q = 0; q < Q; q++) {
    const double v = c0[q] + t * (c1[q] + t * (c2[q] + t * c3[q]));
    const double dv = (c1[q] + t * (2 * c2[q] + t * 3 * c3[q])) * hinv;
    R[q] = fc * v;
    dR[q] = dfc * v + fc * dv;
  }
}

void soap_ylm(const soap_basis *b, const double u[3], double rinv, double *Y, double *dY) {
  const int L = b->lmax, L2 = b->L2;
  const double x = u[0], y = u[1], z = u[2];
  double A[LM1 + 1], B[LM1 + 1];
  A[0] = 1;
  B[0] = 0;
  for (int m = 1; m <= L; m++) {
    A[m] = x * A[m - 1] - y * B[m - 1];
    B[m] = x * B[m - 1] + y * A[m - 1];
  }
  double *dx = dY, *dy = dY ? dY + L2 : NULL, *dz = dY ? dY + 2 * L2 : NULL;
  double qmm = 1;                           /* (2m-1)!! */
  for (int m = 0; m <= L; m++) {
    if (m > 0) qmm *= 2 * m - 1;
    double q0 = 0, dq0 = 0, q1 = qmm, dq1 = 0;
    for (int l = m; l <= L; l++) {
      double q, dq;
      if (l == m) { q = qmm; dq = 0; }
      else if (l == m + 1) { q = (2 * m + 1) * z * qmm; dq = (2 * m + 1) * qmm; }
      else {
        const double a = b->ya[l * LM1 + m], c = b->yb[l * LM1 + m];
        q = a * z * q1 - c * q0;
        dq = a * (q1 + z * dq1) - c * dq0;
      }
      if (l > m) { q0 = q1; dq0 = dq1; }
      q1 = q; dq1 = dq;
      const double N = b->yn[l * LM1 + m];
      const int i0 = l * l + l;
      if (m == 0) {
        Y[i0] = N * q;
        if (dY) { dx[i0] = 0; dy[i0] = 0; dz[i0] = N * dq; }
      } else {
        Y[i0 + m] = N * q * A[m];
        Y[i0 - m] = N * q * B[m];
        if (dY) {
          const double nq = N * q * m;
          dx[i0 + m] = nq * A[m - 1]; dy[i0 + m] = -nq * B[m - 1]; dz[i0 + m] = N * dq * A[m];
          dx[i0 - m] = nq * B[m - 1]; dy[i0 - m] = nq * A[m - 1];  dz[i0 - m] = N * dq * B[m];
        }
      }
    }
  }
  if (dY)
    for (int i = 0; i < L2; i++) {
      const double ud = x * dx[i] + y * dy[i] + z * dz[i];
      dx[i] = (dx[i] - x * ud) * rinv;
      dy[i] = (dy[i] - y * ud) * rinv;
      dz[i] = (dz[i] - z * ud) * rinv;
    }
}

/* ------------------------------------------------------------------ options */
static int find_sym(const soap_basis *b, const char *w) {
  for (int e = 0; e < b->nsym; e++)
    if (strcmp(b->sym[e], w) == 0) return e;
  return -1;
}

static kiln_status read_elements(soap_basis *b, kiln_opts *eo, const char *what, kiln_error *err) {
  eo->used = 1;
  b->nsym = 0;
  if (eo->kind == KILN_OPT_STR) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", eo->str ? eo->str : "");
    char *save = NULL;
    for (char *w = strtok_r(tmp, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
      if (b->nsym >= KILN_MAX_SPECIES || strlen(w) >= KILN_SYMBOL_LEN)
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements': bad element list '%s'", what,
                         eo->str);
      if (find_sym(b, w) >= 0)
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements': '%s' given twice", what, w);
      strcpy(b->sym[b->nsym++], w);
    }
  } else if (eo->kind == KILN_OPT_TABLE) {
    for (size_t i = 0; i < eo->nchild; i++) {
      kiln_opts *c = &eo->child[i];
      c->used = 1;
      if (c->kind != KILN_OPT_STR || !c->str || c->key)
        return KILN_FAIL(err, KILN_EINVAL,
                         "%s: option 'elements': entry %zu is not an element name (give a list "
                         "such as {\"Si\", \"O\"})", what, i + 1);
      if (strlen(c->str) >= KILN_SYMBOL_LEN || b->nsym >= KILN_MAX_SPECIES)
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements': bad name '%s'", what, c->str);
      if (find_sym(b, c->str) >= 0)
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements': '%s' given twice", what,
                         c->str);
      strcpy(b->sym[b->nsym++], c->str);
    }
  } else {
    return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements' must be a list of element names",
                     what);
  }
  if (b->nsym == 0) return KILN_FAIL(err, KILN_EINVAL, "%s: option 'elements' is empty", what);
  return KILN_OK;
}

int soap_basis_channel(const soap_basis *b, const char *symbol) {
  if (b->nsym == 0) return 0;
  for (int e = 0; e < b->nsym; e++)
    if (strcmp(b->sym[e], symbol) == 0) return e;
  return -1;
}

void soap_basis_free(soap_basis *b) {
  if (!b) return;
  free(b->rad);
  free(b->pair);
  free(b->pscale);
  free(b->goff);
  free(b->gaunt);
  free(b);
}

static kiln_status build_radial(soap_basis *b, const char *what, kiln_error *err) {
  const int nmax = b->nmax, Q = b->Q;
  /* primitives and their Loewdin orthonormalisation */
  for (int k = 0; k < nmax; k++) {
    const double s = b->rcut * fmax(sqrt((double)k), 1.0) / nmax;
    b->pb[k] = 1 / (2 * s * s);
    const double p = 1.5 + k;       /* int_0^inf r^{2+2k} e^{-2 b r^2} dr */
    b->pnorm[k] = 1 / sqrt(exp(lgamma(p)) / (2 * pow(2 * b->pb[k], p)));
  }
  double S[SOAP_NMAX_MAX * SOAP_NMAX_MAX], V[SOAP_NMAX_MAX * SOAP_NMAX_MAX], w[SOAP_NMAX_MAX];
  for (int i = 0; i < nmax; i++)
    for (int j = 0; j < nmax; j++) {
      const double p = 0.5 * (3 + i + j);
      S[i * nmax + j] = b->pnorm[i] * b->pnorm[j] * exp(lgamma(p)) /
                        (2 * pow(b->pb[i] + b->pb[j], p));
    }
  kiln_status st = kiln_linalg_dsyev((size_t)nmax, S, w, V, err);
  if (st) return st;
  if (w[0] < 1e-13 * w[nmax - 1])
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: the radial basis with nmax=%d is numerically degenerate (overlap "
                     "eigenvalue %.3g); use a smaller nmax", what, nmax, w[0]);
  for (int i = 0; i < nmax; i++)
    for (int j = 0; j < nmax; j++) {
      double s = 0;
      for (int k = 0; k < nmax; k++) s += V[i * nmax + k] * V[j * nmax + k] / sqrt(w[k]);
      b->T[i * nmax + j] = s;
    }
  /* table of I and dI/dd on nodes g h, g = 0..ngrid */
  const double hmax = fmin(b->sigma, b->rcut / nmax) / 32;
  b->ngrid = (int)ceil(b->rcut / hmax);
  b->h = b->rcut / b->ngrid;
  b->hinv = 1 / b->h;
  const int ng = b->ngrid;
  double *node = malloc((size_t)(ng + 1) * 2 * Q * sizeof *node);
  b->rad = malloc((size_t)ng * Q * 4 * sizeof *b->rad);
  if (!node || !b->rad) {
    free(node);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (radial table)", what);
  }
#pragma omp parallel for schedule(dynamic, 4)
  for (int g = 0; g <= ng; g++)
    soap_radial_direct(b, g * b->h, node + (size_t)g * 2 * Q, node + (size_t)g * 2 * Q + Q);
  for (int g = 0; g < ng; g++) {
    const double *f0 = node + (size_t)g * 2 * Q, *d0 = f0 + Q, *f1 = f0 + 2 * Q, *d1 = f1 + Q;
    double *c = b->rad + (size_t)g * Q * 4;
    for (int q = 0; q < Q; q++) {
      const double a = d0[q] * b->h, e = d1[q] * b->h;
      c[q] = f0[q];
      c[Q + q] = a;
      c[2 * Q + q] = 3 * (f1[q] - f0[q]) - 2 * a - e;
      c[3 * Q + q] = 2 * (f0[q] - f1[q]) + a + e;
    }
  }
  for (int n = 0; n < nmax; n++) b->rad0[n] = node[n] / sqrt(4 * M_PI);   /* l = 0 at d = 0 */
  free(node);
  return KILN_OK;
}

static void build_ylm(soap_basis *b) {
  for (int l = 0; l <= b->lmax; l++)
    for (int m = 0; m <= l; m++) {
      double f = 1;                       /* (l-m)!/(l+m)! */
      for (int k = l - m + 1; k <= l + m; k++) f /= k;
      double N = sqrt((2 * l + 1) / (4 * M_PI) * f);
      if (m > 0) N *= sqrt(2.0);
      b->yn[l * LM1 + m] = N;
      b->ya[l * LM1 + m] = l > m ? (2 * l - 1.0) / (l - m) : 0;
      b->yb[l * LM1 + m] = l > m ? (l + m - 1.0) / (l - m) : 0;
    }
}

static kiln_status build_features(soap_basis *b, const char *what, kiln_error *err) {
  const int K = b->K;
  b->npair = b->all_pairs ? (size_t)K * K : (size_t)K * (K + 1) / 2;
  b->pair = malloc(b->npair * sizeof *b->pair);
  b->pscale = malloc(b->npair * sizeof *b->pscale);
  if (!b->pair || !b->pscale) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  size_t p = 0;
  for (int A = 0; A < K; A++)
    for (int B = b->all_pairs ? 0 : A; B < K; B++) {
      b->pair[p][0] = A;
      b->pair[p][1] = B;
      b->pscale[p] = A == B ? 1.0 : sqrt(2.0);
      p++;
    }
  for (int l = 0; l <= b->lmax; l++) b->lnorm[l] = M_PI * sqrt(8.0 / (2 * l + 1));
  if (!b->vector) {
    b->nfeat = b->ncols = b->npair * (size_t)(b->lmax + 1);
    return KILN_OK;
  }
  b->nfeat = b->npair * (size_t)b->lmax;
  b->ncols = 3 * b->nfeat;
  /* real Gaunt coefficients by exact quadrature on the sphere */
  const int L = b->lmax, nz = L + 3, nph = 2 * L + 4;
  double zx[SOAP_LMAX_MAX + 3], zw[SOAP_LMAX_MAX + 3];
  gauss_legendre(nz, zx, zw);
  size_t gsz = 0;
  for (int l = 0; l < L; l++) gsz += (size_t)(2 * l + 1) * (2 * l + 3) * 3;
  double *acc = calloc(gsz, sizeof *acc);
  b->goff = malloc((size_t)(L + 1) * sizeof *b->goff);
  double *Y = malloc((size_t)b->L2 * sizeof *Y);
  if (!acc || !b->goff || !Y) {
    free(acc);
    free(Y);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  }
  for (int iz = 0; iz < nz; iz++)
    for (int ip = 0; ip < nph; ip++) {
      const double phi = 2 * M_PI * ip / nph, st = sqrt(1 - zx[iz] * zx[iz]);
      const double u[3] = {st * cos(phi), st * sin(phi), zx[iz]};
      const double wt = zw[iz] * 2 * M_PI / nph;
      soap_ylm(b, u, 1, Y, NULL);
      size_t o = 0;
      for (int l = 0; l < L; l++)
        for (int i = 0; i < 2 * l + 1; i++)
          for (int j = 0; j < 2 * l + 3; j++)
            for (int k = 0; k < 3; k++)
              acc[o++] += wt * Y[l * l + i] * Y[(l + 1) * (l + 1) + j] * u[k];
    }
  size_t nnz = 0;
  for (size_t o = 0; o < gsz; o++)
    if (fabs(acc[o]) > 1e-12) nnz++;
  b->gaunt = malloc((nnz ? nnz : 1) * sizeof *b->gaunt);
  if (!b->gaunt) {
    free(acc);
    free(Y);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  }
  size_t o = 0, e = 0;
  for (int l = 0; l < L; l++) {
    b->goff[l] = (int)e;
    for (int i = 0; i < 2 * l + 1; i++)
      for (int j = 0; j < 2 * l + 3; j++)
        for (int k = 0; k < 3; k++, o++)
          if (fabs(acc[o]) > 1e-12)
            b->gaunt[e++] = (struct soap_gaunt){(int16_t)i, (int16_t)j, (int16_t)k, acc[o]};
  }
  b->goff[L] = (int)e;
  free(acc);
  free(Y);
  return KILN_OK;
}

kiln_status soap_basis_new(soap_basis **out, int vector, const kiln_opts *o, const char *what,
                           kiln_error *err) {
  *out = NULL;
  soap_basis *b = calloc(1, sizeof *b);
  if (!b) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  b->vector = vector;
  long nmax, lmax;
  int center = 0, allp = 0;
  kiln_status st;
  if ((st = kiln_opts_int(o, what, "nmax", 1, 8, &nmax, err)) ||
      (st = kiln_opts_int(o, what, "lmax", 1, 6, &lmax, err)) ||
      (st = kiln_opts_num(o, what, "cutoff", 0, 0, &b->rcut, err)) ||
      (st = kiln_opts_num(o, what, "cutoff_width", 1, 0.5, &b->cw, err)) ||
      (st = kiln_opts_num(o, what, "sigma", 1, 0.5, &b->sigma, err)) ||
      (st = kiln_opts_bool(o, what, "center_atom", 1, 0, &center, err)))
    goto fail;
  if (vector && (st = kiln_opts_bool(o, what, "all_pairs", 1, 0, &allp, err))) goto fail;
  if (nmax < 1 || nmax > SOAP_NMAX_MAX) {
    st = KILN_FAIL(err, KILN_EINVAL, "%s: nmax=%ld must be in 1..%d", what, nmax, SOAP_NMAX_MAX);
    goto fail;
  }
  if (lmax < (vector ? 1 : 0) || lmax > SOAP_LMAX_MAX) {
    st = KILN_FAIL(err, KILN_EINVAL, "%s: lmax=%ld must be in %d..%d", what, lmax, vector ? 1 : 0,
                   SOAP_LMAX_MAX);
    goto fail;
  }
  if (!(b->rcut > 0) || !isfinite(b->rcut)) {
    st = KILN_FAIL(err, KILN_EINVAL, "%s: cutoff=%g must be > 0 (Å)", what, b->rcut);
    goto fail;
  }
  if (!(b->cw > 0) || b->cw > b->rcut) {
    st = KILN_FAIL(err, KILN_EINVAL, "%s: cutoff_width=%g must be in (0, cutoff=%g] (Å)", what,
                   b->cw, b->rcut);
    goto fail;
  }
  if (!(b->sigma >= 0.05 * b->rcut / nmax) || !(b->sigma <= b->rcut)) {
    st = KILN_FAIL(err, KILN_EINVAL, "%s: sigma=%g must be in [%g, cutoff=%g] (Å)", what, b->sigma,
                   0.05 * b->rcut / nmax, b->rcut);
    goto fail;
  }
  kiln_opts *eo = kiln_opts_get(o, "elements");
  if (eo && (st = read_elements(b, eo, what, err))) goto fail;
  b->nmax = (int)nmax;
  b->lmax = (int)lmax;
  b->center_atom = center;
  b->all_pairs = allp;
  b->nel = b->nsym ? b->nsym : 1;
  b->L2 = (b->lmax + 1) * (b->lmax + 1);
  b->K = b->nmax * b->nel;
  b->Q = b->nmax * (b->lmax + 1);
  build_ylm(b);
  if ((st = build_radial(b, what, err)) || (st = build_features(b, what, err))) goto fail;
  *out = b;
  return KILN_OK;
fail:
  soap_basis_free(b);
  return st;
}
