/* src/pot/pot_soap_gap.c: sparse GAP on the SOAP power spectrum (kiln's own versioned
 * text model, doc/soap_gap.md):
 *     E = sum_i [ e0(el_i) + sum_{s: el_s = el_i} alpha_s (xhat_i . shat_s)^zeta ],
 * xhat = X/|X| the normalised "soap" row of atom i, shat the normalised sparse rows.
 * One fused pass per centre (expansion, power spectrum, kernels, dE/dX, its adjoint
 * dE/dc and the neighbour forces), OpenMP over centres; the framework turns the forces
 * on extended atoms into the virial. */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/potential.h"
#include "ml/ml_internal.h"
#include "ml/soap_internal.h"
#include "pot/pot_internal.h"
#include "pot/soap_gap.h"

#define WHAT "potential soap_gap"

typedef struct {
  soap_basis *b;
  int nel;
  char sym[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  double e0[KILN_MAX_SPECIES];
  int32_t chan[KILN_MAX_SPECIES];     /* model element -> descriptor channel */
  double zeta;
  int izeta;                          /* zeta as an integer, -1 if not one */
  size_t D, m[KILN_MAX_SPECIES];
  double *S[KILN_MAX_SPECIES];        /* m x D normalised sparse rows, per element */
  double *alpha[KILN_MAX_SPECIES];
  size_t maxm;
  soap_ws *ws;
  int nws;
} gap_state;

static void gap_destroy(void *state) {
  gap_state *s = state;
  if (!s) return;
  for (int t = 0; t < s->nws; t++) soap_ws_free(&s->ws[t]);
  free(s->ws);
  for (int e = 0; e < KILN_MAX_SPECIES; e++) {
    free(s->S[e]);
    free(s->alpha[e]);
  }
  soap_basis_free(s->b);
  free(s);
}

static int find_el(const gap_state *s, const char *sym) {
  for (int e = 0; e < s->nel; e++)
    if (strcmp(s->sym[e], sym) == 0) return e;
  return -1;
}

/* whole-token integer / number parsing */
static int parse_num(const char *t, double *v) {
  if (!t) return 0;
  char *end;
  errno = 0;
  *v = strtod(t, &end);
  return end != t && *end == '\0' && errno == 0 && isfinite(*v);
}

typedef struct {
  const char *path;
  long line;
} src_pos;

#define FERR(code, ...) file_fail(err, code, pos, __VA_ARGS__)
static kiln_status file_fail(kiln_error *err, kiln_status code, src_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static kiln_status file_fail(kiln_error *err, kiln_status code, src_pos pos, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return KILN_FAIL(err, code, "%s: %s:%ld: %s", WHAT, pos.path, pos.line, msg);
}

static kiln_status gap_read(gap_state *s, const char *path, kiln_error *err) {
  FILE *fp = fopen(path, "r");
  if (!fp)
    return KILN_FAIL(err, KILN_EIO, "%s: cannot open model file '%s': %s", WHAT, path,
                     strerror(errno));
  src_pos pos = {path, 0};
  char *buf = NULL, *save = NULL;
  size_t cap = 0;
  kiln_opts *o = NULL;
  kiln_status st = kiln_opts_new(&o, err);
  int version = 0, have_zeta = 0, have_desc = 0, in_sparse = 0;
  long nsparse = -1, ncols = -1, nread = 0, sparse_line = 0, ncols_line = 0;
  double *rows = NULL, *alpha = NULL;
  int32_t *rel = NULL;
  while (!st && getline(&buf, &cap, fp) >= 0) {
    pos.line++;
    char *t = strtok_r(buf, " \t\r\n", &save);
    if (!t || t[0] == '#') continue;
    if (!version) {
      double v;
      if (strcmp(t, "kiln_soap_gap") != 0) {
        st = FERR(KILN_EFORMAT, "not a kiln soap_gap model (expected 'kiln_soap_gap 1', got '%s')", t);
        break;
      }
      if (!parse_num(strtok_r(NULL, " \t\r\n", &save), &v) || v != 1) {
        st = FERR(KILN_EFORMAT, "unsupported kiln_soap_gap version (this kiln reads version 1)");
        break;
      }
      version = 1;
      continue;
    }
    if (in_sparse) {
      if (nread >= nsparse) {
        st = FERR(KILN_EFORMAT, "more than nsparse=%ld sparse rows", nsparse);
        break;
      }
      int e = find_el(s, t);
      if (e < 0) {
        st = FERR(KILN_EFORMAT, "sparse row %ld: element '%s' has no e0 line", nread + 1, t);
        break;
      }
      rel[nread] = e;
      if (!parse_num(strtok_r(NULL, " \t\r\n", &save), &alpha[nread])) {
        st = FERR(KILN_EFORMAT, "sparse row %ld: bad or missing alpha", nread + 1);
        break;
      }
      long k = 0;
      double *x = rows + (size_t)nread * (size_t)ncols;
      for (char *w = strtok_r(NULL, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save), k++) {
        if (k >= ncols || !parse_num(w, &x[k])) break;
      }
      if (k != ncols || strtok_r(NULL, " \t\r\n", &save)) {
        /* count what is there for the message */
        st = FERR(KILN_EFORMAT, "sparse row %ld: expected ncols=%ld numbers after the element "
                  "and alpha (found %s%ld)", nread + 1, ncols, k >= ncols ? "more than " : "", k);
        break;
      }
      nread++;
      continue;
    }
    char *v = strtok_r(NULL, " \t\r\n", &save);
    if (strcmp(t, "descriptor") == 0) {
      if (!v || strcmp(v, "soap") != 0) {
        st = FERR(KILN_EFORMAT, "descriptor '%s' is not supported (only 'soap')", v ? v : "");
        break;
      }
      have_desc = 1;
    } else if (strcmp(t, "option") == 0) {
      char *eq = v ? strchr(v, '=') : NULL;
      if (!eq || eq == v) {
        st = FERR(KILN_EFORMAT, "option line must be 'option key=value'");
        break;
      }
      *eq = '\0';
      if ((st = kiln_opts_set_path(o, v, eq + 1, err))) {
        st = FERR(KILN_EFORMAT, "option '%s': %s", v, err->msg);
        break;
      }
    } else if (strcmp(t, "zeta") == 0) {
      double z;
      if (!parse_num(v, &z) || !(z > 0) || z > 64) {
        st = FERR(KILN_EFORMAT, "zeta must be a number in (0, 64] (got '%s')", v ? v : "");
        break;
      }
      s->zeta = z;
      s->izeta = z == floor(z) ? (int)z : -1;
      have_zeta = 1;
    } else if (strcmp(t, "e0") == 0) {
      double e;
      char *ev = strtok_r(NULL, " \t\r\n", &save);
      if (!v || strlen(v) >= KILN_SYMBOL_LEN || !parse_num(ev, &e)) {
        st = FERR(KILN_EFORMAT, "e0 line must be 'e0 <element> <eV>'");
        break;
      }
      if (find_el(s, v) >= 0) {
        st = FERR(KILN_EFORMAT, "e0 for '%s' given twice", v);
        break;
      }
      if (s->nel >= KILN_MAX_SPECIES) {
        st = FERR(KILN_EFORMAT, "too many elements");
        break;
      }
      strcpy(s->sym[s->nel], v);
      s->e0[s->nel++] = e;
    } else if (strcmp(t, "nsparse") == 0 || strcmp(t, "ncols") == 0) {
      double x;
      if (!parse_num(v, &x) || x < (t[0] == 'n' && t[1] == 's' ? 0 : 1) || x != floor(x) || x > 1e9) {
        st = FERR(KILN_EFORMAT, "%s must be a non-negative integer (got '%s')", t, v ? v : "");
        break;
      }
      if (t[1] == 's') nsparse = (long)x;
      else { ncols = (long)x; ncols_line = pos.line; }
    } else if (strcmp(t, "sparse") == 0) {
      const char *miss = !have_desc ? "descriptor" : !have_zeta ? "zeta" : s->nel == 0 ? "e0"
                         : nsparse < 0 ? "nsparse" : ncols < 0 ? "ncols" : NULL;
      if (miss) {
        st = FERR(KILN_EFORMAT, "'%s' line missing before 'sparse'", miss);
        break;
      }
      in_sparse = 1;
      sparse_line = pos.line;
      const size_t nm = nsparse ? (size_t)nsparse : 1;
      rows = malloc(nm * (size_t)ncols * sizeof *rows);
      alpha = malloc(nm * sizeof *alpha);
      rel = malloc(nm * sizeof *rel);
      if (!rows || !alpha || !rel) st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", WHAT);
    } else {
      st = FERR(KILN_EFORMAT, "unknown keyword '%s'", t);
    }
  }
  if (!st && !version) st = FERR(KILN_EFORMAT, "empty file (expected 'kiln_soap_gap 1')");
  if (!st && !in_sparse) st = FERR(KILN_EFORMAT, "no 'sparse' section");
  if (!st && nread < nsparse)
    st = FERR(KILN_EFORMAT, "expected nsparse=%ld sparse rows after line %ld, found %ld", nsparse,
              sparse_line, nread);
  /* the descriptor */
  if (!st) {
    char what[600];
    snprintf(what, sizeof what, "%s: %s: descriptor soap", WHAT, path);
    if (!(st = kiln_opts_check_known(o, what, kiln_desc_soap_style.options, NULL, err)) &&
        !(st = soap_basis_new(&s->b, 0, o, what, err)))
      st = kiln_opts_check_unused(o, what, err);
    if (st == KILN_EINVAL) {            /* bad options are bad file content */
      st = KILN_EFORMAT;
      if (err) err->code = st;
    }
  }
  if (!st && (size_t)ncols != s->b->ncols) {
    pos.line = ncols_line;
    st = FERR(KILN_EFORMAT, "ncols %ld does not match the descriptor (soap with nmax=%d lmax=%d "
              "and %d channel(s) has %zu columns)", ncols, s->b->nmax, s->b->lmax, s->b->nel,
              s->b->ncols);
  }
  for (int e = 0; !st && e < s->nel; e++) {
    s->chan[e] = soap_basis_channel(s->b, s->sym[e]);
    if (s->chan[e] < 0)
      st = KILN_FAIL(err, KILN_EFORMAT,
                     "%s: %s: element '%s' (e0 line) is not in the descriptor's elements list",
                     WHAT, path, s->sym[e]);
  }
  /* group by element, normalise */
  if (!st) {
    s->D = (size_t)ncols;
    for (int e = 0; e < s->nel && !st; e++) {
      size_t m = 0;
      for (long r = 0; r < nsparse; r++) m += rel[r] == e;
      s->m[e] = m;
      if (m > s->maxm) s->maxm = m;
      if (!m) continue;
      s->S[e] = malloc(m * s->D * sizeof(double));
      s->alpha[e] = malloc(m * sizeof(double));
      if (!s->S[e] || !s->alpha[e]) {
        st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", WHAT);
        break;
      }
      size_t k = 0;
      for (long r = 0; r < nsparse; r++) {
        if (rel[r] != e) continue;
        const double *x = rows + (size_t)r * s->D;
        double nn = 0;
        for (size_t c = 0; c < s->D; c++) nn += x[c] * x[c];
        if (!(nn > 0)) {
          pos.line = sparse_line + 1 + r;   /* exact when no comments sit among the rows */
          st = FERR(KILN_EFORMAT, "sparse row %ld is zero (cannot be normalised)", r + 1);
          break;
        }
        nn = 1 / sqrt(nn);
        for (size_t c = 0; c < s->D; c++) s->S[e][k * s->D + c] = x[c] * nn;
        s->alpha[e][k++] = alpha[r];
      }
    }
  }
  free(rows);
  free(alpha);
  free(rel);
  free(buf);
  kiln_opts_free(o);
  fclose(fp);
  return st;
}

static kiln_status gap_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  const char *path;
  kiln_status st = kiln_opts_str(o, WHAT, "file", 0, NULL, &path, err);
  if (st) return st;
  if ((st = kiln_opts_check_unused(o, WHAT, err))) return st;
  gap_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", WHAT);
  if ((st = gap_read(s, path, err))) {
    gap_destroy(s);
    return st;
  }
  *state = s;
  *cutoff = s->b->rcut;
  return KILN_OK;
}

static int gap_map_species(const void *state, const char *symbol) {
  return find_el(state, symbol);
}

static inline double powi(double x, int n) {
  double r = 1;
  while (n) {
    if (n & 1) r *= x;
    x *= x;
    n >>= 1;
  }
  return r;
}

static kiln_status gap_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                               kiln_pot_work *w, kiln_error *err) {
  gap_state *s = state;
  const soap_basis *b = s->b;
  const size_t n = nl->n, D = s->D;
  const int nthr = w->nthreads > 0 ? w->nthreads : 1;
  if (nthr > s->nws) {
    soap_ws *p = realloc(s->ws, (size_t)nthr * sizeof *p);
    if (!p) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", WHAT);
    memset(p + s->nws, 0, (size_t)(nthr - s->nws) * sizeof *p);
    s->ws = p;
    s->nws = nthr;
  }
  int maxnb = 0;
  for (size_t i = 0; i < n; i++) {
    const int len = (int)(nl->offset[i + 1] - nl->offset[i]);
    if (len > maxnb) maxnb = len;
  }
  for (int t = 0; t < nthr; t++) {
    soap_ws *ws = &s->ws[t];
    kiln_status st = soap_ws_reserve(ws, b, maxnb, err);
    if (st) return st;
    const size_t need = (size_t)ws->cap * 3 + s->maxm + 1;
    if (ws->auxcap < need) {
      free(ws->aux);
      ws->aux = malloc(need * sizeof *ws->aux);
      ws->auxcap = ws->aux ? need : 0;
      if (!ws->aux) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", WHAT);
    }
  }
  int32_t chan[KILN_MAX_SPECIES];
  for (int t = 0; t < a->nspecies; t++) chan[t] = s->chan[w->tmap[t]];
  const int peratom = (w->want & KILN_EVAL_PERATOM) && w->e;
  const int forces = (w->want & (KILN_EVAL_FORCES | KILN_EVAL_VIRIAL)) != 0;
  const double zeta = s->zeta;
  const int izeta = s->izeta;
  int bad = 0;
#pragma omp parallel num_threads(nthr) reduction(| : bad)
  {
    const int t = omp_get_thread_num();
    soap_ws *ws = &s->ws[t];
    double (*f)[3] = w->f[t];
    double *e = peratom ? w->e[t] : NULL;
    double (*dEdr)[3] = (double (*)[3])ws->aux;
    double *beta = ws->aux + (size_t)ws->cap * 3;
    double *x = ws->x, *dx = ws->dx;
    double eng = 0;
#pragma omp for schedule(dynamic, 4)
    for (size_t i = 0; i < n; i++) {
      const int ge = w->tmap[a->type[i]];
      double ei = s->e0[ge];
      const size_t m = s->m[ge];
      if (m == 0) {
        eng += ei;
        if (e) e[i] += ei;
        continue;
      }
      if (soap_expand(b, ws, i, a, nl, chan, forces)) bad = 1;
      soap_features(b, ws, ws->c, x);
      double nn = 0;
#pragma omp simd reduction(+ : nn)
      for (size_t c = 0; c < D; c++) nn += x[c] * x[c];
      if (!(nn > 0)) {           /* isolated atom: no environment, e0 only */
        eng += ei;
        if (e) e[i] += ei;
        continue;
      }
      const double ninv = 1 / sqrt(nn);
      for (size_t c = 0; c < D; c++) x[c] *= ninv;
      const double *S = s->S[ge], *al = s->alpha[ge];
      double ek = 0;
      for (size_t q = 0; q < m; q++) {
        const double *sr = S + q * D;
        double d = 0;
#pragma omp simd reduction(+ : d)
        for (size_t c = 0; c < D; c++) d += sr[c] * x[c];
        /* integer zeta: any sign of d; else (as kiln_kernel_poly) 0 for d <= 0 */
        const double p = izeta > 0 ? powi(d, izeta - 1) : (d > 0 ? pow(d, zeta - 1) : 0.0);
        ek += al[q] * p * d;
        beta[q] = al[q] * zeta * p;
      }
      ei += ek;
      eng += ei;
      if (e) e[i] += ei;
      if (!forces) continue;
      /* dE/dxhat = sum beta_q shat_q; dE/dX = (dE/dxhat - (dE/dxhat . xhat) xhat) / |X| */
      memset(dx, 0, D * sizeof *dx);
      for (size_t q = 0; q < m; q++) {
        const double bq = beta[q], *sr = S + q * D;
#pragma omp simd
        for (size_t c = 0; c < D; c++) dx[c] += bq * sr[c];
      }
      double dd = 0;
      for (size_t c = 0; c < D; c++) dd += dx[c] * x[c];
      for (size_t c = 0; c < D; c++) dx[c] = (dx[c] - dd * x[c]) * ninv;
      soap_features_adjoint(b, ws, ws->c, dx, ws->G);
      soap_nb_forces(b, ws, dEdr);
      double fx = 0, fy = 0, fz = 0;
      for (int q = 0; q < ws->nnb; q++) {
        double *fk = f[ws->nb[q].k];
        fk[0] -= dEdr[q][0];
        fk[1] -= dEdr[q][1];
        fk[2] -= dEdr[q][2];
        fx += dEdr[q][0];
        fy += dEdr[q][1];
        fz += dEdr[q][2];
      }
      f[i][0] += fx;
      f[i][1] += fy;
      f[i][2] += fz;
    }
    w->energy[t] += eng;
  }
  if (bad)
    return KILN_FAIL(err, KILN_EINVAL, "%s: two atoms at the same position (distance < 1e-10 Å)",
                     WHAT);
  return KILN_OK;
}

kiln_status kilni_soap_gap_write(const char *path, size_t nopt, const char *const *opt,
                                 double zeta, int nel, const char (*sym)[KILN_SYMBOL_LEN],
                                 const double *e0, size_t m, size_t ncols, const int32_t *el,
                                 const double *alpha, const double *S, kiln_error *err) {
  FILE *fp = fopen(path, "w");
  if (!fp)
    return KILN_FAIL(err, KILN_EIO, "soap_gap writer: cannot create '%s': %s", path,
                     strerror(errno));
  fprintf(fp, "# kiln soap_gap model\nkiln_soap_gap 1\ndescriptor soap\n");
  for (size_t k = 0; k < nopt; k++) fprintf(fp, "option %s\n", opt[k]);
  fprintf(fp, "zeta %.17g\n", zeta);
  for (int e = 0; e < nel; e++) fprintf(fp, "e0 %s %.17g\n", sym[e], e0[e]);
  fprintf(fp, "nsparse %zu\nncols %zu\nsparse\n", m, ncols);
  for (size_t s = 0; s < m; s++) {
    fprintf(fp, "%s %.17g", sym[el[s]], alpha[s]);
    for (size_t c = 0; c < ncols; c++) fprintf(fp, " %.17g", S[s * ncols + c]);
    fputc('\n', fp);
  }
  if (fclose(fp) != 0)
    return KILN_FAIL(err, KILN_EIO, "soap_gap writer: error writing '%s'", path);
  return KILN_OK;
}

const kiln_pot_style kiln_pot_soap_gap_style = {
    .name = "soap_gap",
    .description = "sparse GAP on the SOAP power spectrum with a polynomial kernel: E_i = "
                   "e0(el_i) + sum_s alpha_s (xhat_i . shat_s)^zeta over the sparse rows of the "
                   "same element; kiln's text model file (doc/soap_gap.md)",
    .citation = "A. P. Bartok, M. C. Payne, R. Kondor and G. Csanyi, Phys. Rev. Lett. 104, "
                "136403 (2010); A. P. Bartok, R. Kondor and G. Csanyi, Phys. Rev. B 87, "
                "184115 (2013)",
    .options = "file=string (path of a kiln soap_gap model file, version 1)",
    .flags = KILN_POT_NEEDS_FULL_LIST | KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM |
             KILN_POT_MANYBODY,
    .init = gap_init,
    .map_species = gap_map_species,
    .compute = gap_compute,
    .destroy = gap_destroy,
    .compute_full = NULL,
};
