/* src/ml/desc_snap.c: descriptor style "snap": the SNAP bispectrum rows of LAMMPS
 * compute sna/atom (same components, same order), optionally extended by the qSNAP
 * quadratic features (0.5 B_k^2, then B_k B_l for l > k, for each k in turn: the order
 * of the quadratic coefficients in a .snapcoeff file). No constant column.
 * Gradients dX_i/dr_j for training; back-propagation by the adjoint (Y) method. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "ml/ml_internal.h"
#include "ml/snap_core.h"

typedef struct {
  snap_basis b;
  int nel;
  snap_elem elem[KILN_MAX_SPECIES];
  double rcutfac;
  int quadratic;
  size_t nb, ncols;
  double rcut[KILN_MAX_SPECIES * KILN_MAX_SPECIES];
  snap_work *work;
  double **scr;                 /* per thread: 3*nb dB + nb beta */
  double **fbuf;                /* per thread force buffers (backprop), n x 3 */
  size_t fcap;
  int nwork;
} dsnap;

static void dsnap_destroy(void *state) {
  dsnap *s = state;
  if (!s) return;
  for (int t = 0; t < s->nwork; t++) {
    snap_work_free(&s->work[t]);
    free(s->scr[t]);
    free(s->fbuf[t]);
  }
  free(s->work);
  free(s->scr);
  free(s->fbuf);
  snap_basis_free(&s->b);
  free(s);
}

static kiln_status read_list(const kiln_opts *o, const char *what, const char *key, int str,
                             int *n, snap_elem *el, kiln_error *err) {
  const kiln_opts *t = kiln_opts_get(o, key);
  if (!t) return KILN_FAIL(err, KILN_EINVAL, "%s: missing option '%s'", what, key);
  size_t np = kiln_opts_npos(t);
  if (t->kind != KILN_OPT_TABLE || np == 0 || np > KILN_MAX_SPECIES)
    return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' must be a list of 1..%d %s", what, key,
                     KILN_MAX_SPECIES, str ? "element names" : "numbers");
  if (*n >= 0 && (int)np != *n)
    return KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' has %zu entries but elements has %d",
                     what, key, np, *n);
  for (size_t i = 0; i < np; i++) {
    const kiln_opts *c = kiln_opts_at(t, i);
    if (str) {
      if (c->kind != KILN_OPT_STR || strlen(c->str) >= sizeof el[i].name)
        return KILN_FAIL(err, KILN_EINVAL, "%s: %s[%zu] must be an element name", what, key,
                         i + 1);
      strcpy(el[i].name, c->str);
    } else {
      if (c->kind != KILN_OPT_NUM || !(c->num > 0))
        return KILN_FAIL(err, KILN_EINVAL, "%s: %s[%zu] must be a positive number", what, key,
                         i + 1);
      if (key[0] == 'r') el[i].radelem = c->num; else el[i].wj = c->num;
    }
  }
  *n = (int)np;
  return KILN_OK;
}

static kiln_status dsnap_init(void **state, double *cutoff, size_t *ncols, const kiln_opts *o,
                              kiln_error *err) {
  const char *what = "descriptor snap";
  dsnap *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  kiln_status st;
  const char *param = NULL, *coeff = NULL;
  if ((st = kiln_opts_str(o, what, "param", 1, NULL, &param, err)) ||
      (st = kiln_opts_str(o, what, "coeff", 1, NULL, &coeff, err)))
    goto fail;
  int twoj, sw, bz, quad;
  double rfac0, rmin0;
  if (param || coeff) {
    if (!param || !coeff) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s: give both param= and coeff= (or neither)", what);
      goto fail;
    }
    static const char *const expl[] = {"twojmax", "rcutfac", "rfac0", "rmin0", "switchflag",
                                       "bzeroflag", "quadratic", "elements", "radelem", "wj"};
    for (size_t k = 0; k < sizeof expl / sizeof *expl; k++)
      if (kiln_opts_get(o, expl[k])) {
        st = KILN_FAIL(err, KILN_EINVAL, "%s: option '%s' cannot be combined with param=/coeff= "
                       "(the files define it)", what, expl[k]);
        goto fail;
      }
    snap_model m;
    if ((st = snap_model_read(&m, coeff, param, what, err))) goto fail;
    if (m.nelem > KILN_MAX_SPECIES) {
      snap_model_free(&m);
      st = KILN_FAIL(err, KILN_EINVAL, "%s: %s: too many elements", what, coeff);
      goto fail;
    }
    s->nel = m.nelem;
    memcpy(s->elem, m.elem, (size_t)m.nelem * sizeof *m.elem);
    s->rcutfac = m.rcutfac;
    twoj = m.twojmax; sw = m.switchflag; bz = m.bzeroflag; quad = m.quadraticflag;
    rfac0 = m.rfac0; rmin0 = m.rmin0;
    snap_model_free(&m);
  } else {
    long tj;
    if ((st = kiln_opts_int(o, what, "twojmax", 0, 0, &tj, err)) ||
        (st = kiln_opts_num(o, what, "rcutfac", 0, 0, &s->rcutfac, err)) ||
        (st = kiln_opts_num(o, what, "rfac0", 1, 0.99363, &rfac0, err)) ||
        (st = kiln_opts_num(o, what, "rmin0", 1, 0.0, &rmin0, err)) ||
        (st = kiln_opts_bool(o, what, "switchflag", 1, 1, &sw, err)) ||
        (st = kiln_opts_bool(o, what, "bzeroflag", 1, 1, &bz, err)) ||
        (st = kiln_opts_bool(o, what, "quadratic", 1, 0, &quad, err)))
      goto fail;
    if (tj < 0 || tj > 30 || !(s->rcutfac > 0) || !(rfac0 > 0 && rfac0 <= 1) || rmin0 < 0) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s: need 0 <= twojmax <= 30, rcutfac > 0, 0 < rfac0 <= 1"
                     ", rmin0 >= 0 (got %ld, %g, %g, %g)", what, tj, s->rcutfac, rfac0, rmin0);
      goto fail;
    }
    twoj = (int)tj;
    int ne = -1;
    if ((st = read_list(o, what, "elements", 1, &ne, s->elem, err))) goto fail;
    if ((st = read_list(o, what, "radelem", 0, &ne, s->elem, err))) goto fail;
    if (kiln_opts_get(o, "wj")) {
      if ((st = read_list(o, what, "wj", 0, &ne, s->elem, err))) goto fail;
    } else {
      for (int e = 0; e < ne; e++) s->elem[e].wj = 1.0;
    }
    s->nel = ne;
  }
  if ((st = snap_basis_init(&s->b, twoj, rfac0, rmin0, sw, bz, what, err))) goto fail;
  s->quadratic = quad;
  s->nb = (size_t)s->b.nb;
  s->ncols = s->nb + (quad ? s->nb * (s->nb + 1) / 2 : 0);
  double cmax = 0;
  for (int a = 0; a < s->nel; a++)
    for (int c = 0; c < s->nel; c++) {
      double rc = (s->elem[a].radelem + s->elem[c].radelem) * s->rcutfac;
      s->rcut[a * s->nel + c] = rc;
      if (rc > cmax) cmax = rc;
    }
  if (!(cmax > rmin0)) {
    st = KILN_FAIL(err, KILN_EINVAL, "%s: cutoff %g A must exceed rmin0 %g A", what, cmax, rmin0);
    goto fail;
  }
  *state = s;
  *cutoff = cmax;
  *ncols = s->ncols;
  return KILN_OK;
fail:
  dsnap_destroy(s);
  return st;
}

static int dsnap_map(const void *state, const char *symbol) {
  const dsnap *s = state;
  for (int e = 0; e < s->nel; e++)
    if (strcmp(s->elem[e].name, symbol) == 0) return e;
  return -1;
}

static kiln_status ensure(dsnap *s, int nthr, int maxnb, size_t nf, kiln_error *err) {
  if (nthr > s->nwork) {
    snap_work *w = realloc(s->work, (size_t)nthr * sizeof *w);
    if (w) s->work = w;
    double **sc = w ? realloc(s->scr, (size_t)nthr * sizeof *sc) : NULL;
    if (sc) s->scr = sc;
    double **fb = sc ? realloc(s->fbuf, (size_t)nthr * sizeof *fb) : NULL;
    if (!fb) return KILN_FAIL(err, KILN_ENOMEM, "descriptor snap: out of memory");
    s->fbuf = fb;
    for (int t = s->nwork; t < nthr; t++) {
      s->scr[t] = NULL;
      s->fbuf[t] = NULL;
      kiln_status st = snap_work_init(&s->work[t], &s->b, err);
      if (st) return st;
      s->nwork = t + 1;
      if (!(s->scr[t] = malloc(4 * s->nb * sizeof(double))))
        return KILN_FAIL(err, KILN_ENOMEM, "descriptor snap: out of memory");
    }
    s->fcap = 0;
  }
  for (int t = 0; t < nthr; t++) {
    kiln_status st = snap_work_reserve(&s->work[t], maxnb, err);
    if (st) return st;
  }
  if (nf > s->fcap) {
    for (int t = 0; t < s->nwork; t++) {
      free(s->fbuf[t]);
      if (!(s->fbuf[t] = malloc(nf * 3 * sizeof(double)))) {
        s->fcap = 0;
        return KILN_FAIL(err, KILN_ENOMEM, "descriptor snap: out of memory (%zu atoms)", nf);
      }
    }
    s->fcap = nf;
  }
  return KILN_OK;
}

/* neighbors of centre i inside the pair cutoffs into W; returns their count */
static int gather(const dsnap *s, snap_work *W, const kiln_atoms *a, const kiln_neigh *nl,
                  const int32_t *tmap, size_t i) {
  const double(*xe)[3] = (const double(*)[3])nl->xe;
  const int ei = tmap[a->type[i]];
  int nn = 0;
  for (size_t jj = nl->offset[i]; jj < nl->offset[i + 1]; jj++) {
    const int32_t j = nl->index[jj];
    const int ej = tmap[a->type[nl->owner[j]]];
    const double dx = xe[j][0] - xe[i][0], dy = xe[j][1] - xe[i][1], dz = xe[j][2] - xe[i][2];
    const double rsq = dx * dx + dy * dy + dz * dz;
    const double rc = s->rcut[ei * s->nel + ej];
    if (rsq < rc * rc && rsq > 1e-20) {
      W->rij[nn][0] = dx; W->rij[nn][1] = dy; W->rij[nn][2] = dz;
      W->rcut[nn] = rc;
      W->wj[nn] = s->elem[ej].wj;
      W->idx[nn] = nl->owner[j];
      nn++;
    }
  }
  W->nn = nn;
  return nn;
}

static int max_row(const kiln_neigh *nl) {
  int m = 1;
  for (size_t i = 0; i < nl->n; i++) {
    int c = (int)(nl->offset[i + 1] - nl->offset[i]);
    if (c > m) m = c;
  }
  return m;
}

static void quad_row(size_t nb, const double *B, double *x) {
  size_t q = nb;
  for (size_t k = 0; k < nb; k++) {
    x[q++] = 0.5 * B[k] * B[k];
    for (size_t l = k + 1; l < nb; l++) x[q++] = B[k] * B[l];
  }
}

static kiln_status dsnap_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                                 const int32_t *tmap, double *X, kiln_desc_grad *g,
                                 kiln_error *err) {
  dsnap *s = state;
  const size_t n = nl->n, nb = s->nb, nc = s->ncols;
  int nthr = omp_get_max_threads();
  if (nthr < 1 || n < 64) nthr = 1;
  kiln_status st = ensure(s, nthr, max_row(nl), 0, err);
  if (st) return st;
  if (g) {  /* count the entries inside the cutoffs */
    size_t ne = 0;
    if ((st = kiln_desc_grad_reserve(g, n, nc, 0, err))) return st;
    for (size_t i = 0; i < n; i++) {
      g->offset[i] = ne;
      ne += (size_t)gather(s, &s->work[0], a, nl, tmap, i);
    }
    g->offset[n] = ne;
    if ((st = kiln_desc_grad_reserve(g, n, nc, ne, err))) return st;
  }
#pragma omp parallel for num_threads(nthr) schedule(dynamic, 4)
  for (size_t i = 0; i < n; i++) {
    const int t = omp_get_thread_num();
    snap_work *W = &s->work[t];
    double *B = W->B;
    int nn = gather(s, W, a, nl, tmap, i);
    snap_utot(W);
    if (g) snap_z_all(W);
    snap_bispectrum(W, B);
    if (X) {
      double *x = X + i * nc;
      memcpy(x, B, nb * sizeof *B);
      if (s->quadratic) quad_row(nb, B, x);
    }
    if (!g) continue;
    double *dB = s->scr[t];
    for (int k = 0; k < nn; k++) {
      const size_t e = g->offset[i] + (size_t)k;
      g->j[e] = W->idx[k];
      for (int c = 0; c < 3; c++) g->rij[e][c] = W->rij[k][c];
      double *d = g->d + e * 3 * nc;
      snap_dbdr(W, k, s->quadratic ? dB : d, s->quadratic ? nb : nc);
      if (!s->quadratic) continue;
      for (int c = 0; c < 3; c++) {
        const double *db = dB + c * nb;
        double *row = d + c * nc;
        memcpy(row, db, nb * sizeof *db);
        size_t q = nb;
        for (size_t u = 0; u < nb; u++) {
          row[q++] = B[u] * db[u];
          for (size_t l = u + 1; l < nb; l++) row[q++] = db[u] * B[l] + B[u] * db[l];
        }
      }
    }
  }
  return KILN_OK;
}

static kiln_status dsnap_backprop(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                                  const int32_t *tmap, const double *dEdX, double (*f)[3],
                                  double W3[3][3], kiln_error *err) {
  dsnap *s = state;
  const size_t n = nl->n, nb = s->nb, nc = s->ncols;
  int nthr = omp_get_max_threads();
  if (nthr < 1 || n < 64) nthr = 1;
  kiln_status st = ensure(s, nthr, max_row(nl), nthr > 1 ? n : 0, err);
  if (st) return st;
  double vir[9] = {0};
#pragma omp parallel num_threads(nthr)
  {
    const int t = omp_get_thread_num();
    snap_work *W = &s->work[t];
    double(*ft)[3] = nthr > 1 ? (double(*)[3])s->fbuf[t] : f;
    if (nthr > 1) memset(ft, 0, n * sizeof *ft);
    double v[9] = {0};
#pragma omp for schedule(dynamic, 4)
    for (size_t i = 0; i < n; i++) {
      const int nn = gather(s, W, a, nl, tmap, i);
      snap_utot(W);
      const double *w = dEdX + i * nc;
      double *beta = W->beta;
      memcpy(beta, w, nb * sizeof *beta);
      if (s->quadratic) {
        snap_bispectrum(W, W->B);
        const double *B = W->B;
        size_t q = nb;
        for (size_t k = 0; k < nb; k++) {
          beta[k] += w[q++] * B[k];
          for (size_t l = k + 1; l < nb; l++) {
            beta[k] += w[q] * B[l];
            beta[l] += w[q] * B[k];
            q++;
          }
        }
      }
      snap_y(W, beta, NULL);
      for (int k = 0; k < nn; k++) {
        double d[3];
        snap_dedr(W, k, d);
        double *fj = ft[W->idx[k]];
        for (int c = 0; c < 3; c++) {
          fj[c] -= d[c];
          ft[i][c] += d[c];
        }
        for (int x = 0; x < 3; x++)
          for (int y = 0; y < 3; y++) v[3 * x + y] -= W->rij[k][x] * d[y];
      }
    }
#pragma omp critical
    for (int q = 0; q < 9; q++) vir[q] += v[q];
    if (nthr > 1) {
#pragma omp barrier
#pragma omp for schedule(static)
      for (size_t i = 0; i < n; i++)
        for (int u = 0; u < nthr; u++) {
          const double *fu = s->fbuf[u] + 3 * i;
          f[i][0] += fu[0]; f[i][1] += fu[1]; f[i][2] += fu[2];
        }
    }
  }
  if (W3)
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++) W3[x][y] += vir[3 * x + y];
  return KILN_OK;
}

const kiln_desc_style kiln_desc_snap_style = {
    .name = "snap",
    .description = "SNAP bispectrum components B_{j1 j2 j} of the neighbor density (LAMMPS "
                   "compute sna/atom order), optionally with the qSNAP quadratic products",
    .citation = "A. P. Thompson, L. P. Swiler, C. R. Trott, S. M. Foiles and G. J. Tucker, "
                "J. Comput. Phys. 285, 316 (2015)",
    .options = "twojmax=integer (2 Jmax, band limit; 6 gives 30 components, 8 gives 55)\n"
               "rcutfac=number (cutoff scale, Å: the cutoff of a pair is (radelem_i + radelem_j)"
               " * rcutfac)\n"
               "rfac0=number (polar-angle scale, default 0.99363)\n"
               "rmin0=number (inner radius, Å, default 0)\n"
               "switchflag=boolean (smooth cosine switch to the cutoff, default true)\n"
               "bzeroflag=boolean (subtract the isolated-atom B, default true as in LAMMPS)\n"
               "quadratic=boolean (append the qSNAP products 0.5 B_k^2, B_k B_l; default false)\n"
               "elements=list of strings (element names, e.g. {\"Ta\"})\n"
               "radelem=list of numbers (radius of each element, dimensionless)\n"
               "wj=list of numbers (neighbor weight of each element, default 1)\n"
               "param=string (LAMMPS .snapparam file, instead of the options above; with coeff)\n"
               "coeff=string (LAMMPS .snapcoeff file giving elements, radelem and wj; with "
               "param)",
    .init = dsnap_init,
    .map_species = dsnap_map,
    .compute = dsnap_compute,
    .backprop = dsnap_backprop,
    .destroy = dsnap_destroy,
};
