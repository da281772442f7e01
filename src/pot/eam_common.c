/* src/pot/eam_common.c: file reader, LAMMPS-compatible splines and the EAM
 * kernel shared by the eam (funcfl) and eam/alloy (setfl) styles.
 *
 * Numerics follow LAMMPS pair_eam (version 29 Sep 2021): tables are splined
 * with finite-difference slopes (interpolate), looked up at p = x/delta + 1,
 * m = int(p) clamped to [1, n-1] for rho and <= n-1 for r, with the fraction
 * clamped to <= 1; F(rho) beyond rhomax gets the linear term fp*(rho-rhomax).
 *
 * Algorithm (half list): pass 1 accumulates densities of local and ghost atoms
 * (per-thread arrays), ghosts are folded onto owners, F and F' are evaluated
 * for local atoms, F' is copied to ghosts, pass 2 accumulates pair forces. Pass
 * 1 also stores the neighbours inside the cutoff with their distances
 * (branch-free filter), which pass 2 reuses: no second cutoff test or sqrt. */
#include "pot/eam_common.h"
#include "pot/pot_internal.h"
#include "pot/pot_part.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define EAM_INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------------------------ */
/* reader */

kiln_status eam_rd_open(eam_reader *rd, const char *path, const char *what, kiln_error *err) {
  memset(rd, 0, sizeof *rd);
  rd->path = path;
  rd->what = what;
  rd->fp = fopen(path, "r");
  if (!rd->fp)
    return KILN_FAIL(err, KILN_EIO, "%s: cannot open file '%s': %s", what, path, strerror(errno));
  return KILN_OK;
}

void eam_rd_close(eam_reader *rd) {
  if (rd->fp) fclose(rd->fp);
  free(rd->line);
  rd->fp = NULL;
  rd->line = NULL;
}

static int rd_getline(eam_reader *rd) {
  if (getline(&rd->line, &rd->cap, rd->fp) < 0) return 0;
  rd->lineno++;
  return 1;
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Split the current line into tokens (comment stripped); returns count. */
static int rd_tokenize(eam_reader *rd) {
  char *s = rd->line;
  char *hash = strchr(s, '#');
  if (hash) *hash = '\0';
  rd->ntok = 0;
  while (*s) {
    while (*s && is_space(*s)) s++;
    if (!*s) break;
    if (rd->ntok < (int)(sizeof rd->tok / sizeof rd->tok[0])) rd->tok[rd->ntok++] = s;
    while (*s && !is_space(*s)) s++;
    if (*s) *s++ = '\0';
  }
  return rd->ntok;
}

kiln_status eam_rd_skip(eam_reader *rd, const char *desc, kiln_error *err) {
  if (!rd_getline(rd))
    return KILN_FAIL(err, KILN_EFORMAT, "%s: file '%s' ends after line %ld: expected %s",
                     rd->what, rd->path, rd->lineno, desc);
  /* LAMMPS files may declare "UNITS: <style>" on their first line */
  const char *u = rd->lineno == 1 ? strstr(rd->line, "UNITS:") : NULL;
  char unit[32] = "";
  if (u && sscanf(u + 6, "%31s", unit) == 1 && strcmp(unit, "metal") != 0)
    return KILN_FAIL(err, KILN_ENOTSUP, "%s: file '%s', line 1: the file is in LAMMPS '%s' "
                     "units; only 'metal' (eV, Å) files are supported", rd->what, rd->path, unit);
  return KILN_OK;
}

kiln_status eam_rd_words(eam_reader *rd, int nmin, const char *desc, kiln_error *err) {
  for (;;) {
    if (!rd_getline(rd))
      return KILN_FAIL(err, KILN_EFORMAT, "%s: file '%s' ends after line %ld: expected %s",
                       rd->what, rd->path, rd->lineno, desc);
    if (rd_tokenize(rd) > 0) break;
  }
  if (rd->ntok < nmin)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: file '%s', line %ld: expected %d fields (%s), found %d",
                     rd->what, rd->path, rd->lineno, nmin, desc, rd->ntok);
  return KILN_OK;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || !isfinite(v)) return 0;
  /* strtod also takes hex floats and "infinity"; LAMMPS does not */
  for (const char *c = s; *c; c++)
    if (!strchr("0123456789+-.eE", *c)) return 0;
  *out = v;
  return 1;
}

kiln_status eam_rd_double(eam_reader *rd, int k, const char *desc, double *out, kiln_error *err) {
  if (k >= rd->ntok)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: file '%s', line %ld, field %d: missing (%s)",
                     rd->what, rd->path, rd->lineno, k + 1, desc);
  if (!parse_double(rd->tok[k], out))
    return KILN_FAIL(err, KILN_EFORMAT, "%s: file '%s', line %ld, field %d: '%.40s' is not a number (%s)",
                     rd->what, rd->path, rd->lineno, k + 1, rd->tok[k], desc);
  return KILN_OK;
}

kiln_status eam_rd_int(eam_reader *rd, int k, const char *desc, long *out, kiln_error *err) {
  if (k >= rd->ntok)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: file '%s', line %ld, field %d: missing (%s)",
                     rd->what, rd->path, rd->lineno, k + 1, desc);
  char *end;
  errno = 0;
  long v = strtol(rd->tok[k], &end, 10);
  if (end == rd->tok[k] || *end != '\0' || errno)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: file '%s', line %ld, field %d: '%.40s' is not an integer (%s)",
                     rd->what, rd->path, rd->lineno, k + 1, rd->tok[k], desc);
  *out = v;
  return KILN_OK;
}

kiln_status eam_rd_values(eam_reader *rd, long n, double *out, const char *desc,
                          kiln_error *err) {
  long i = 0;
  while (i < n) {
    if (!rd_getline(rd))
      return KILN_FAIL(err, KILN_EFORMAT,
                       "%s: file '%s' is truncated: it ends after line %ld with %ld of %ld values of %s",
                       rd->what, rd->path, rd->lineno, i, n, desc);
    char *s = rd->line;
    char *hash = strchr(s, '#');
    if (hash) *hash = '\0';
    int field = 0;
    while (*s && i < n) {
      while (*s && is_space(*s)) s++;
      if (!*s) break;
      char *t = s;
      while (*s && !is_space(*s)) s++;
      if (*s) *s++ = '\0';
      field++;
      if (!parse_double(t, &out[i]))
        return KILN_FAIL(err, KILN_EFORMAT,
                         "%s: file '%s', line %ld, field %d: '%.40s' is not a number (value %ld of %ld of %s)",
                         rd->what, rd->path, rd->lineno, field, t, i + 1, n, desc);
      i++;
    }
  }
  return KILN_OK;
}

/* ------------------------------------------------------------------ */
/* tables */

static void *alloc64(size_t bytes) {
  size_t sz = (bytes + 63) / 64 * 64;
  if (sz == 0) sz = 64;
  return aligned_alloc(64, sz);
}

kiln_status eam_alloc(eam_pot **out, const char *what, int nel, kiln_error *err) {
  *out = NULL;
  eam_pot *p = calloc(1, sizeof *p);
  if (!p) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  p->what = what;
  p->nel = nel;
  p->names = calloc((size_t)nel, sizeof *p->names);
  p->active = calloc((size_t)nel, sizeof *p->active);
  if (!p->names || !p->active) {
    eam_free(p);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  }
  *out = p;
  return KILN_OK;
}

void eam_free(void *state) {
  eam_pot *p = state;
  if (!p) return;
  if (p->names)
    for (int i = 0; i < p->nel; i++) free(p->names[i]);
  free(p->names);
  free(p->active);
  free(p->frho);
  free(p->t1);
  free(p->t2);
  free(p->elem);
  free(p->rho);
  free(p->fp);
  free(p->rhot);
  free(p->cj);
  free(p->cr);
  free(p->cbeg);
  free(p->cnt);
  free(p);
}

void eam_spline(int n, double delta, const double *f, double *spline) {
  double (*s)[7] = (double (*)[7])spline;
  for (int m = 1; m <= n; m++) s[m][6] = f[m];
  s[1][5] = s[2][6] - s[1][6];
  s[2][5] = 0.5 * (s[3][6] - s[1][6]);
  s[n - 1][5] = 0.5 * (s[n][6] - s[n - 2][6]);
  s[n][5] = s[n][6] - s[n - 1][6];
  for (int m = 3; m <= n - 2; m++)
    s[m][5] = ((s[m - 2][6] - s[m + 2][6]) + 8.0 * (s[m + 1][6] - s[m - 1][6])) / 12.0;
  for (int m = 1; m <= n - 1; m++) {
    s[m][4] = 3.0 * (s[m + 1][6] - s[m][6]) - 2.0 * s[m][5] - s[m + 1][5];
    s[m][3] = s[m][5] + s[m + 1][5] - 2.0 * (s[m + 1][6] - s[m][6]);
  }
  s[n][4] = 0.0;
  s[n][3] = 0.0;
  for (int m = 1; m <= n; m++) {
    s[m][2] = s[m][5] / delta;
    s[m][1] = 2.0 * s[m][4] / delta;
    s[m][0] = 3.0 * s[m][3] / delta;
  }
  for (int k = 0; k < 7; k++) s[0][k] = 0.0;
}

kiln_status eam_finish(eam_pot *p, double *const *frho, double *const *rhor,
                       double *const *z2r, kiln_error *err) {
  const int nel = p->nel, nrho = p->nrho, nr = p->nr;
  if (nrho < 5 || nr < 5)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: tables too short (nrho %d, nr %d; need >= 5)",
                     p->what, nrho, nr);
  p->rdr = 1.0 / p->dr;
  p->rdrho = 1.0 / p->drho;
  p->cutsq = p->cut * p->cut;
  const size_t rows = (size_t)nr + 1;
  const size_t npair = (size_t)nel * (size_t)nel;
  const size_t nz = (size_t)nel * (size_t)(nel + 1) / 2;
  p->frho = alloc64((size_t)nel * ((size_t)nrho + 1) * 7 * sizeof(double));
  p->t1 = alloc64(npair * rows * 8 * sizeof(double));
  p->t2 = alloc64(npair * rows * 16 * sizeof(double));
  double *rs = malloc((size_t)nel * rows * 7 * sizeof(double));
  double *zs = malloc(nz * rows * 7 * sizeof(double));
  if (!p->frho || !p->t1 || !p->t2 || !rs || !zs) {
    free(rs);
    free(zs);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory for spline tables", p->what);
  }
  for (int e = 0; e < nel; e++) {
    eam_spline(nrho, p->drho, frho[e], p->frho + (size_t)e * ((size_t)nrho + 1) * 7);
    eam_spline(nr, p->dr, rhor[e], rs + (size_t)e * rows * 7);
  }
  for (size_t k = 0; k < nz; k++) eam_spline(nr, p->dr, z2r[k], zs + k * rows * 7);
  for (int a = 0; a < nel; a++)
    for (int b = 0; b < nel; b++) {
      size_t pr = (size_t)a * (size_t)nel + (size_t)b;
      int hi = a > b ? a : b, lo = a > b ? b : a;
      const double *za = zs + ((size_t)hi * (size_t)(hi + 1) / 2 + (size_t)lo) * rows * 7;
      const double *ra = rs + (size_t)a * rows * 7, *rb = rs + (size_t)b * rows * 7;
      double *o1 = p->t1 + pr * rows * 8, *o2 = p->t2 + pr * rows * 16;
      for (size_t m = 0; m < rows; m++) {
        const double *ca = ra + m * 7, *cb = rb + m * 7, *cz = za + m * 7;
        double *q1 = o1 + m * 8, *q2 = o2 + m * 16;
        for (int k = 0; k < 4; k++) {
          q1[k] = cb[3 + k];      /* density at i (type a) due to j (type b) */
          q1[4 + k] = ca[3 + k];  /* density at j due to i */
        }
        for (int k = 0; k < 3; k++) {
          q2[k] = cb[k];          /* rhojp */
          q2[3 + k] = ca[k];      /* rhoip */
          q2[6 + k] = cz[k];      /* z2' */
        }
        for (int k = 0; k < 4; k++) q2[9 + k] = cz[3 + k];
        q2[13] = q2[14] = q2[15] = 0.0;
      }
    }
  free(rs);
  free(zs);
  return KILN_OK;
}

int eam_map_species(const void *state, const char *symbol) {
  const eam_pot *p = state;
  for (int i = 0; i < p->nel; i++)
    if (p->active[i] && strcmp(p->names[i], symbol) == 0) return i;
  return -1;
}

kiln_status eam_opt_strings(const kiln_opts *o, const char *what, const char *key,
                            const char **out, int max, int *n, char *buf, size_t bufsize,
                            kiln_error *err) {
  *n = 0;
  kiln_opts *t = kiln_opts_get(o, key);
  if (!t) return KILN_OK;
  if (t->kind == KILN_OPT_STR) {
    if (!buf) { /* one entry */
      out[0] = t->str;
      *n = 1;
      return KILN_OK;
    }
    /* "Cu Ni": whitespace-separated names, copied into buf */
    if (strlen(t->str) + 1 > bufsize)
      return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' is too long", what, key);
    strcpy(buf, t->str);
    for (char *s = buf; *s;) {
      while (*s && is_space(*s)) *s++ = '\0';
      if (!*s) break;
      if (*n >= max)
        return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' has more than %d entries", what, key,
                         max);
      out[(*n)++] = s;
      while (*s && !is_space(*s)) s++;
    }
    if (*n == 0)
      return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' is empty", what, key);
    return KILN_OK;
  }
  if (t->kind != KILN_OPT_TABLE)
    return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' must be a list of strings", what, key);
  size_t np = kiln_opts_npos(t);
  if (np == 0 || np != t->nchild)
    return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' must be a non-empty list of strings",
                     what, key);
  if (np > (size_t)max)
    return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' has %zu entries (at most %d)", what, key,
                     np, max);
  for (size_t i = 0; i < np; i++) {
    kiln_opts *c = kiln_opts_at(t, i);
    if (!c || c->kind != KILN_OPT_STR)
      return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' entry %zu is not a string", what, key,
                       i + 1);
    out[i] = c->str;
  }
  *n = (int)np;
  return KILN_OK;
}

/* ------------------------------------------------------------------ */
/* kernel */

static kiln_status eam_scratch(eam_pot *p, size_t N, size_t n, size_t npairs, int nthr,
                               kiln_error *err) {
  if (N > p->cap || nthr > p->cap_thr) {
    size_t cap = N > p->cap ? N + N / 8 + 16 : p->cap;
    int ct = nthr > p->cap_thr ? nthr : p->cap_thr;
    free(p->elem);
    free(p->rho);
    free(p->fp);
    free(p->rhot);
    p->elem = malloc(cap * sizeof *p->elem);
    p->rho = alloc64(cap * sizeof(double));
    p->fp = alloc64(cap * sizeof(double));
    p->rhot = ct > 1 ? alloc64((size_t)(ct - 1) * cap * sizeof(double)) : NULL;
    p->cap = cap;
    p->cap_thr = ct;
    if (!p->elem || !p->rho || !p->fp || (ct > 1 && !p->rhot)) {
      p->cap = 0;
      p->cap_thr = 0;
      return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory for %zu atoms", p->what, N);
    }
  }
  if (n > p->cap_n || !p->cbeg) {
    size_t cap = n + n / 8 + 16;
    free(p->cbeg);
    free(p->cnt);
    p->cbeg = malloc(cap * sizeof *p->cbeg);
    p->cnt = malloc(cap * sizeof *p->cnt);
    p->cap_n = cap;
    if (!p->cbeg || !p->cnt) {
      p->cap_n = 0;
      return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory for %zu atoms", p->what, n);
    }
  }
  if (npairs > p->cpair_cap || !p->cj) {
    size_t cap = npairs + npairs / 8 + 64;
    free(p->cj);
    free(p->cr);
    /* only the in-cutoff part (about half) is ever touched */
    p->cj = malloc(cap * sizeof *p->cj);
    p->cr = malloc(cap * sizeof *p->cr);
    p->cpair_cap = cap;
    if (!p->cj || !p->cr) {
      p->cpair_cap = 0;
      return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory for %zu neighbor pairs", p->what,
                       npairs);
    }
  }
  return KILN_OK;
}

#define EAM_CHUNK 256

/* Pass 1 for local atom i (list entries beg..end): densities; the pairs inside
 * the cutoff go to cj/cr from position pos on. Returns their number. */
EAM_INLINE int pass1_atom(const eam_pot *p, const kiln_neigh *nl, size_t i, size_t beg,
                          size_t end, size_t pos, const int32_t *elem, double *rho,
                          const int multi) {
  const double (*xe)[3] = (const double (*)[3])nl->xe;
  const int32_t *idx = nl->index;
  const double xi = xe[i][0], yi = xe[i][1], zi = xe[i][2];
  const double cutsq = p->cutsq, rdr = p->rdr;
  const int nrm1 = p->nr - 1;
  const size_t rows = (size_t)p->nr + 1;
  const int nel = p->nel;
  const double *tb = p->t1;
  const int ei = multi ? elem[i] : 0;
  int32_t *c = p->cj + pos;
  double *cr = p->cr + pos;
  double rs[EAM_CHUNK];
  double rhoi = 0.0;
  int nc = 0;
  for (size_t b0 = beg; b0 < end; b0 += EAM_CHUNK) {
    size_t b1 = end - b0 > EAM_CHUNK ? b0 + EAM_CHUNK : end;
    int k0 = nc, kk = 0;
    /* branch-free filter (pos <= beg, so c[nc] never passes entry jj) */
    for (size_t jj = b0; jj < b1; jj++) {
      int32_t j = idx[jj];
      double dx = xi - xe[j][0], dy = yi - xe[j][1], dz = zi - xe[j][2];
      double rsq = dx * dx + dy * dy + dz * dz;
      c[nc] = j;
      rs[kk] = rsq;
      int in = rsq < cutsq;
      nc += in;
      kk += in;
    }
    for (int k = 0; k < kk; k++) {
      int32_t j = c[k0 + k];
      double r = sqrt(rs[k]);
      cr[k0 + k] = r;
      double pp = r * rdr + 1.0;
      int m = (int)pp;
      if (m > nrm1) m = nrm1;
      pp -= m;
      if (pp > 1.0) pp = 1.0;
      const double *t;
      if (multi) t = tb + (((size_t)ei * (size_t)nel + (size_t)elem[j]) * rows + (size_t)m) * 8;
      else t = tb + (size_t)m * 8;
      rhoi += ((t[0] * pp + t[1]) * pp + t[2]) * pp + t[3];
      rho[j] += ((t[4] * pp + t[5]) * pp + t[6]) * pp + t[7];
    }
  }
  rho[i] += rhoi;
  return nc;
}

/* Pass 2 for local atom i: pair forces and energies. Returns the pair energy. */
EAM_INLINE double pass2_atom(const eam_pot *p, const kiln_neigh *nl, size_t i,
                             const int32_t *elem, const double *fp, double (*f)[3], double *e,
                             const int multi, const int peratom) {
  const double (*xe)[3] = (const double (*)[3])nl->xe;
  const double xi = xe[i][0], yi = xe[i][1], zi = xe[i][2];
  const double rdr = p->rdr;
  const int nrm1 = p->nr - 1;
  const size_t rows = (size_t)p->nr + 1;
  const int nel = p->nel;
  const double *tb = p->t2;
  const int ei = multi ? elem[i] : 0;
  const int32_t *c = p->cj + p->cbeg[i];
  const double *cr = p->cr + p->cbeg[i];
  const int nc = p->cnt[i];
  const double fpi = fp[i];
  double fxi = 0.0, fyi = 0.0, fzi = 0.0, esum = 0.0, eih = 0.0;
  for (int k = 0; k < nc; k++) {
    int32_t j = c[k];
    double dx = xi - xe[j][0], dy = yi - xe[j][1], dz = zi - xe[j][2];
    double r = cr[k];
    double pp = r * rdr + 1.0;
    int m = (int)pp;
    if (m > nrm1) m = nrm1;
    pp -= m;
    if (pp > 1.0) pp = 1.0;
    const double *t;
    if (multi) t = tb + (((size_t)ei * (size_t)nel + (size_t)elem[j]) * rows + (size_t)m) * 16;
    else t = tb + (size_t)m * 16;
    double rhojp = (t[0] * pp + t[1]) * pp + t[2];
    double rhoip = multi ? (t[3] * pp + t[4]) * pp + t[5] : rhojp;
    double z2p = (t[6] * pp + t[7]) * pp + t[8];
    double z2 = ((t[9] * pp + t[10]) * pp + t[11]) * pp + t[12];
    double recip = 1.0 / r;
    double phi = z2 * recip;
    double phip = z2p * recip - phi * recip;
    double psip = fpi * rhojp + fp[j] * rhoip + phip;
    double fpair = -psip * recip;
    fxi += dx * fpair;
    fyi += dy * fpair;
    fzi += dz * fpair;
    f[j][0] -= dx * fpair;
    f[j][1] -= dy * fpair;
    f[j][2] -= dz * fpair;
    esum += phi;
    if (peratom) {
      eih += 0.5 * phi;
      e[j] += 0.5 * phi;
    }
  }
  f[i][0] += fxi;
  f[i][1] += fyi;
  f[i][2] += fzi;
  if (peratom) e[i] += eih;
  return esum;
}

EAM_INLINE double embed_atom(const eam_pot *p, double rho, int el, double *fpo) {
  double pp = rho * p->rdrho + 1.0;
  /* clamp before the int conversion (huge or negative densities) */
  double pc = pp < (double)p->nrho ? pp : (double)p->nrho;
  if (!(pc > 0.0)) pc = 0.0;
  int m = (int)pc;
  if (m > p->nrho - 1) m = p->nrho - 1;
  if (m < 1) m = 1;
  pp -= m;
  if (pp > 1.0) pp = 1.0;
  const double *c = p->frho + ((size_t)el * ((size_t)p->nrho + 1) + (size_t)m) * 7;
  double fpv = (c[0] * pp + c[1]) * pp + c[2];
  double phi = ((c[3] * pp + c[4]) * pp + c[5]) * pp + c[6];
  if (rho > p->rhomax) phi += fpv * (rho - p->rhomax);
  *fpo = fpv;
  return phi;
}

kiln_status eam_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                        kiln_pot_work *w, kiln_error *err) {
  eam_pot *p = state;
  const size_t n = nl->n, N = nl->n + nl->ng;
  const int nthr = w->nthreads > 0 ? w->nthreads : 1;
  kiln_status st = eam_scratch(p, N, n, n ? nl->offset[n] : 0, nthr, err);
  if (st) return st;
  const int multi = p->nel > 1;
  if (multi) {
    if (!w->tmap)
      return KILN_FAIL(err, KILN_ESTATE, "%s: no species map given for %d elements", p->what,
                       p->nel);
    for (size_t k = 0; k < N; k++) {
      int32_t el = w->tmap[a->type[nl->owner[k]]];
      if (el < 0 || el >= p->nel)
        return KILN_FAIL(err, KILN_EINVAL, "%s: atom %zu (species '%s') has no EAM element",
                         p->what, (size_t)nl->owner[k] + 1,
                         a->species[a->type[nl->owner[k]]]);
      p->elem[k] = el;
    }
  }
  const int peratom = (w->want & KILN_EVAL_PERATOM) && w->e;
  double *rho = p->rho, *fp = p->fp;

#pragma omp parallel num_threads(nthr)
  {
    const int t = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    double *rt = t == 0 ? rho : p->rhot + (size_t)(t - 1) * p->cap;
    memset(rt, 0, N * sizeof(double));
    /* compact pair storage: restart at the list offset of each new chunk of atoms */
    size_t pos = 0, inext = (size_t)-1;
    /* the pair passes split the atoms by list entries (half lists load the low indices) */
    const size_t ib = kilni_part_begin(nl, t, nt, 4.0);
    const size_t ie = kilni_part_begin(nl, t + 1, nt, 4.0);
    for (size_t i = ib; i < ie; i++) {
      size_t beg = nl->offset[i], end = kilni_half_end(nl, i);
      if (i != inext) pos = beg;
      p->cbeg[i] = pos;
      int nc = multi ? pass1_atom(p, nl, i, beg, end, pos, p->elem, rt, 1)
                     : pass1_atom(p, nl, i, beg, end, pos, p->elem, rt, 0);
      p->cnt[i] = nc;
      pos += (size_t)nc;
      inext = i + 1;
    }
#pragma omp barrier
    if (nt > 1) {
#pragma omp for schedule(static)
      for (size_t k = 0; k < N; k++) {
        double s = rho[k];
        for (int u = 1; u < nt; u++) s += p->rhot[(size_t)(u - 1) * p->cap + k];
        rho[k] = s;
      }
    }
#pragma omp single
    kiln_neigh_fold(nl, rho, 1);

    double eemb = 0.0;
    double *et = peratom ? w->e[t] : NULL;
#pragma omp for schedule(static)
    for (size_t i = 0; i < n; i++) {
      double phi = embed_atom(p, rho[i], multi ? p->elem[i] : 0, &fp[i]);
      eemb += phi;
      if (peratom) et[i] += phi;
    }
#pragma omp for schedule(static)
    for (size_t k = n; k < N; k++) fp[k] = fp[nl->owner[k]]; /* kiln_neigh_forward */

    double (*ft)[3] = w->f[t];
    double epair = 0.0;
    if (multi && peratom) {
      for (size_t i = ib; i < ie; i++)
        epair += pass2_atom(p, nl, i, p->elem, fp, ft, et, 1, 1);
    } else if (multi) {
      for (size_t i = ib; i < ie; i++)
        epair += pass2_atom(p, nl, i, p->elem, fp, ft, et, 1, 0);
    } else if (peratom) {
      for (size_t i = ib; i < ie; i++)
        epair += pass2_atom(p, nl, i, p->elem, fp, ft, et, 0, 1);
    } else {
      for (size_t i = ib; i < ie; i++)
        epair += pass2_atom(p, nl, i, p->elem, fp, ft, et, 0, 0);
    }
    w->energy[t] += eemb + epair;
  }
  return KILN_OK;
}

double **eam_rows(long nrows, long n) {
  double **t = calloc((size_t)nrows, sizeof *t);
  if (!t) return NULL;
  for (long i = 0; i < nrows; i++)
    if (!(t[i] = calloc((size_t)n + 1, sizeof(double)))) {
      eam_free_rows(t, nrows);
      return NULL;
    }
  return t;
}

void eam_free_rows(double **rows, long nrows) {
  if (!rows) return;
  for (long i = 0; i < nrows; i++) free(rows[i]);
  free(rows);
}
