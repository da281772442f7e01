/* src/cv/metad.c: well-tempered metadynamics bias on a grid of 1 or 2 CVs (Barducci,
 * Bussi, Parrinello, PRL 100, 020603 (2008)); Tiwary–Parrinello c(t) (J. Phys. Chem. B
 * 119, 736 (2015)); hills files written atomically and replayed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cv/cv_internal.h"

struct kiln_metad {
  int ncv;
  double min[2], max[2], dx[2], sigma[2];
  int npts[2];
  size_t ntot;
  double w0, gamma, kT;
  double *V;          /* ntot */
  double *dV;         /* ntot x ncv */
  size_t nh, cap;
  double *hc;         /* nh x ncv centres */
  double *hw, *ht;    /* heights, times */
};

kiln_status kiln_metad_new(kiln_metad **out, int ncv, const double *min, const double *max,
                           const int *nbins, const double *sigma, double w0, double biasfactor,
                           double kT, kiln_error *err) {
  *out = NULL;
  if (ncv != 1 && ncv != 2)
    return KILN_FAIL(err, KILN_EINVAL, "metad: %d CVs (1 or 2 supported)", ncv);
  if (!(w0 > 0) || !(kT > 0))
    return KILN_FAIL(err, KILN_EINVAL, "metad: height %g eV and kT %g eV must be > 0", w0, kT);
  size_t ntot = 1;
  for (int k = 0; k < ncv; k++) {
    if (!(max[k] > min[k]) || nbins[k] < 2 || nbins[k] > 1000000 || !(sigma[k] > 0))
      return KILN_FAIL(err, KILN_EINVAL, "metad: CV %d: grid min %g, max %g, n %d, sigma %g "
                       "(need max > min, n >= 2, sigma > 0)", k + 1, min[k], max[k], nbins[k],
                       sigma[k]);
    ntot *= (size_t)nbins[k] + 1;
  }
  if (ntot > 50000000)
    return KILN_FAIL(err, KILN_EINVAL, "metad: grid of %zu points is too large", ntot);
  kiln_metad *m = calloc(1, sizeof *m);
  if (!m) return KILN_FAIL(err, KILN_ENOMEM, "metad: out of memory");
  m->ncv = ncv;
  m->ntot = ntot;
  for (int k = 0; k < ncv; k++) {
    m->min[k] = min[k];
    m->max[k] = max[k];
    m->npts[k] = nbins[k] + 1;
    m->dx[k] = (max[k] - min[k]) / nbins[k];
    m->sigma[k] = sigma[k];
  }
  if (ncv == 1) m->npts[1] = 1;
  m->w0 = w0;
  m->gamma = biasfactor;
  m->kT = kT;
  m->V = calloc(ntot, sizeof *m->V);
  m->dV = calloc(ntot * (size_t)ncv, sizeof *m->dV);
  if (!m->V || !m->dV) {
    kiln_metad_free(m);
    return KILN_FAIL(err, KILN_ENOMEM, "metad: out of memory for %zu grid points", ntot);
  }
  *out = m;
  return KILN_OK;
}

void kiln_metad_free(kiln_metad *m) {
  if (!m) return;
  free(m->V);
  free(m->dV);
  free(m->hc);
  free(m->hw);
  free(m->ht);
  free(m);
}

int kiln_metad_ncv(const kiln_metad *m) { return m->ncv; }
size_t kiln_metad_nhills(const kiln_metad *m) { return m->nh; }

void kiln_metad_hill(const kiln_metad *m, size_t k, double *c, double *height, double *t) {
  for (int q = 0; q < m->ncv; q++) c[q] = m->hc[k * (size_t)m->ncv + q];
  *height = m->hw[k];
  *t = m->ht[k];
}

static int tempered(const kiln_metad *m) { return m->gamma > 1 && isfinite(m->gamma); }

double kiln_metad_bias(const kiln_metad *m, const double *s, double *grad) {
  for (int k = 0; k < m->ncv; k++) {
    if (grad) grad[k] = 0;
  }
  for (int k = 0; k < m->ncv; k++)
    if (!(s[k] >= m->min[k] && s[k] <= m->max[k])) return 0.0;
  if (m->ncv == 1) {
    double u = (s[0] - m->min[0]) / m->dx[0];
    int i = (int)floor(u);
    if (i >= m->npts[0] - 1) i = m->npts[0] - 2;
    if (i < 0) i = 0;
    double t = u - i, h = m->dx[0];
    double v0 = m->V[i], v1 = m->V[i + 1], d0 = m->dV[i] * h, d1 = m->dV[i + 1] * h;
    double t2 = t * t, t3 = t2 * t;
    double h00 = 2 * t3 - 3 * t2 + 1, h10 = t3 - 2 * t2 + t, h01 = -2 * t3 + 3 * t2,
           h11 = t3 - t2;
    double val = h00 * v0 + h10 * d0 + h01 * v1 + h11 * d1;
    if (grad) {
      double g00 = 6 * t2 - 6 * t, g10 = 3 * t2 - 4 * t + 1, g01 = -6 * t2 + 6 * t,
             g11 = 3 * t2 - 2 * t;
      grad[0] = (g00 * v0 + g10 * d0 + g01 * v1 + g11 * d1) / h;
    }
    return val;
  }
  double u = (s[0] - m->min[0]) / m->dx[0], w = (s[1] - m->min[1]) / m->dx[1];
  int i = (int)floor(u), j = (int)floor(w);
  if (i >= m->npts[0] - 1) i = m->npts[0] - 2;
  if (j >= m->npts[1] - 1) j = m->npts[1] - 2;
  if (i < 0) i = 0;
  if (j < 0) j = 0;
  double tu = u - i, tw = w - j;
  size_t n1 = (size_t)m->npts[1];
  size_t p00 = (size_t)i * n1 + j, p01 = p00 + 1, p10 = p00 + n1, p11 = p10 + 1;
  double c00 = (1 - tu) * (1 - tw), c01 = (1 - tu) * tw, c10 = tu * (1 - tw), c11 = tu * tw;
  if (grad)
    for (int k = 0; k < 2; k++)
      grad[k] = c00 * m->dV[2 * p00 + k] + c01 * m->dV[2 * p01 + k] + c10 * m->dV[2 * p10 + k] +
                c11 * m->dV[2 * p11 + k];
  return c00 * m->V[p00] + c01 * m->V[p01] + c10 * m->V[p10] + c11 * m->V[p11];
}

kiln_status kiln_metad_add_hill(kiln_metad *m, const double *s, double height, double t,
                                kiln_error *err) {
  for (int k = 0; k < m->ncv; k++)
    if (!isfinite(s[k]))
      return KILN_FAIL(err, KILN_EINVAL, "metad: hill centre %d is not finite", k + 1);
  if (!isfinite(height)) return KILN_FAIL(err, KILN_EINVAL, "metad: hill height not finite");
  if (m->nh == m->cap) {
    size_t c = m->cap ? 2 * m->cap : 256;
    double *hc = realloc(m->hc, c * (size_t)m->ncv * sizeof *hc);
    if (hc) m->hc = hc;
    double *hw = realloc(m->hw, c * sizeof *hw);
    if (hw) m->hw = hw;
    double *ht = realloc(m->ht, c * sizeof *ht);
    if (ht) m->ht = ht;
    if (!hc || !hw || !ht) return KILN_FAIL(err, KILN_ENOMEM, "metad: out of memory for hills");
    m->cap = c;
  }
  for (int k = 0; k < m->ncv; k++) m->hc[m->nh * (size_t)m->ncv + k] = s[k];
  m->hw[m->nh] = height;
  m->ht[m->nh] = t;
  m->nh++;
  /* grid points within 6 sigma */
  int lo[2] = {0, 0}, hi[2] = {0, 0};
  for (int k = 0; k < m->ncv; k++) {
    double a = (s[k] - 6 * m->sigma[k] - m->min[k]) / m->dx[k];
    double b = (s[k] + 6 * m->sigma[k] - m->min[k]) / m->dx[k];
    lo[k] = a < 0 ? 0 : (int)ceil(a);
    hi[k] = b > m->npts[k] - 1 ? m->npts[k] - 1 : (int)floor(b);
    if (b < 0 || a > m->npts[k] - 1) return KILN_OK; /* off the grid */
  }
  if (m->ncv == 1) {
    for (int i = lo[0]; i <= hi[0]; i++) {
      double d = m->min[0] + i * m->dx[0] - s[0];
      double g = height * exp(-0.5 * d * d / (m->sigma[0] * m->sigma[0]));
      m->V[i] += g;
      m->dV[i] -= g * d / (m->sigma[0] * m->sigma[0]);
    }
  } else {
    for (int i = lo[0]; i <= hi[0]; i++) {
      double d0 = m->min[0] + i * m->dx[0] - s[0];
      double e0 = -0.5 * d0 * d0 / (m->sigma[0] * m->sigma[0]);
      for (int j = lo[1]; j <= hi[1]; j++) {
        double d1 = m->min[1] + j * m->dx[1] - s[1];
        double g = height * exp(e0 - 0.5 * d1 * d1 / (m->sigma[1] * m->sigma[1]));
        size_t p = (size_t)i * (size_t)m->npts[1] + (size_t)j;
        m->V[p] += g;
        m->dV[2 * p] -= g * d0 / (m->sigma[0] * m->sigma[0]);
        m->dV[2 * p + 1] -= g * d1 / (m->sigma[1] * m->sigma[1]);
      }
    }
  }
  return KILN_OK;
}

kiln_status kiln_metad_deposit(kiln_metad *m, const double *s, double t, kiln_error *err) {
  double w = m->w0;
  if (tempered(m)) w *= exp(-kiln_metad_bias(m, s, NULL) / (m->kT * (m->gamma - 1)));
  return kiln_metad_add_hill(m, s, w, t, err);
}

kiln_status kiln_metad_write(const kiln_metad *m, const char *file, kiln_error *err) {
  size_t len = strlen(file);
  char *tmp = malloc(len + 8);
  if (!tmp) return KILN_FAIL(err, KILN_ENOMEM, "metad: out of memory");
  snprintf(tmp, len + 8, "%s.tmp", file);
  FILE *fp = fopen(tmp, "w");
  if (!fp) {
    kiln_status st = KILN_FAIL(err, KILN_EIO, "metad: cannot write hills file '%s': %s", tmp,
                               strerror(errno));
    free(tmp);
    return st;
  }
  fprintf(fp, "# kiln metad hills 1\n# time(fs) centre[%d] sigma[%d] height(eV) biasfactor\n",
          m->ncv, m->ncv);
  for (size_t h = 0; h < m->nh; h++) {
    fprintf(fp, "%.17g", m->ht[h]);
    for (int k = 0; k < m->ncv; k++) fprintf(fp, " %.17g", m->hc[h * (size_t)m->ncv + k]);
    for (int k = 0; k < m->ncv; k++) fprintf(fp, " %.17g", m->sigma[k]);
    fprintf(fp, " %.17g %.17g\n", m->hw[h], m->gamma);
  }
  int bad = ferror(fp);
  bad |= fclose(fp) != 0;
  if (bad || rename(tmp, file) != 0) {
    kiln_status st = KILN_FAIL(err, KILN_EIO, "metad: writing hills file '%s' failed: %s",
                               file, strerror(errno));
    remove(tmp);
    free(tmp);
    return st;
  }
  free(tmp);
  return KILN_OK;
}

kiln_status kiln_metad_read(kiln_metad *m, const char *file, kiln_error *err) {
  FILE *fp = fopen(file, "r");
  if (!fp)
    return KILN_FAIL(err, KILN_EIO, "metad: cannot read hills file '%s': %s", file,
                     strerror(errno));
  char line[1024];
  long ln = 0;
  kiln_status st = KILN_OK;
  while (!st && fgets(line, sizeof line, fp)) {
    ln++;
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '#' || *p == '\n' || *p == 0) continue;
    double v[7];
    int want = 2 * m->ncv + 3, got = 0;
    char *e;
    while (got < want) {
      v[got] = strtod(p, &e);
      if (e == p) break;
      p = e;
      got++;
    }
    if (got != want) {
      st = KILN_FAIL(err, KILN_EINVAL, "metad: hills file '%s' line %ld: expected %d numbers "
                     "(time, %d centres, %d sigmas, height, biasfactor), got %d", file, ln, want,
                     m->ncv, m->ncv, got);
      break;
    }
    for (int k = 0; k < m->ncv; k++)
      if (fabs(v[1 + m->ncv + k] - m->sigma[k]) > 1e-12 * m->sigma[k])
        st = KILN_FAIL(err, KILN_EINVAL, "metad: hills file '%s' line %ld: sigma %g differs "
                       "from this bias's %g", file, ln, v[1 + m->ncv + k], m->sigma[k]);
    if (!st) st = kiln_metad_add_hill(m, v + 1, v[1 + 2 * m->ncv], v[0], err);
  }
  fclose(fp);
  return st;
}

void kiln_metad_grid(const kiln_metad *m, int *npts, double *min, double *dx) {
  for (int k = 0; k < m->ncv; k++) {
    npts[k] = m->npts[k];
    min[k] = m->min[k];
    dx[k] = m->dx[k];
  }
}

const double *kiln_metad_values(const kiln_metad *m) { return m->V; }

double kiln_metad_ct(const kiln_metad *m) {
  if (!tempered(m)) return 0.0;
  const double b = 1.0 / m->kT, g = m->gamma;
  double mx1 = -INFINITY, mx2 = -INFINITY;
  for (size_t p = 0; p < m->ntot; p++) {
    double a1 = g / (g - 1) * b * m->V[p], a2 = b * m->V[p] / (g - 1);
    if (a1 > mx1) mx1 = a1;
    if (a2 > mx2) mx2 = a2;
  }
  double s1 = 0, s2 = 0;
  for (size_t p = 0; p < m->ntot; p++) {
    s1 += exp(g / (g - 1) * b * m->V[p] - mx1);
    s2 += exp(b * m->V[p] / (g - 1) - mx2);
  }
  return m->kT * (mx1 + log(s1) - mx2 - log(s2));
}
