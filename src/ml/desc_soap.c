/* src/ml/desc_soap.c: the descriptor styles "soap" (SOAP power spectrum) and
 * "soap_vector" (lambda=1 covariant SOAP features, Cartesian x, y, z blocks), over the
 * machinery of soap_basis.c and soap_core.c: rows X, the sparse gradient kiln_desc_grad
 * and a back-propagation that never stores the gradient (OpenMP over centres with
 * thread-local force arrays). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "ml/ml_internal.h"
#include "ml/soap_internal.h"

/* fewer centres than this: one thread (threads do not pay for small systems) */
#define SOAP_OMP_MIN 256

typedef struct {
  soap_basis *b;
  soap_ws *ws;
  int nws;
  double *fth;              /* nthreads x n x 3 */
  size_t fcap;
  double Wth[64][9];
} soap_state;

static void soap_destroy(void *state) {
  soap_state *s = state;
  if (!s) return;
  for (int t = 0; t < s->nws; t++) soap_ws_free(&s->ws[t]);
  free(s->ws);
  free(s->fth);
  soap_basis_free(s->b);
  free(s);
}

static kiln_status init_common(int vector, void **state, double *cutoff, size_t *ncols,
                               const kiln_opts *o, kiln_error *err) {
  soap_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "descriptor soap: out of memory");
  kiln_status st = soap_basis_new(&s->b, vector, o, vector ? "descriptor soap_vector"
                                                           : "descriptor soap", err);
  if (st) {
    free(s);
    return st;
  }
  *state = s;
  *cutoff = s->b->rcut;
  *ncols = s->b->ncols;
  return KILN_OK;
}

static kiln_status soap_init(void **state, double *cutoff, size_t *ncols, const kiln_opts *o,
                             kiln_error *err) {
  return init_common(0, state, cutoff, ncols, o, err);
}

static kiln_status soap_vector_init(void **state, double *cutoff, size_t *ncols,
                                    const kiln_opts *o, kiln_error *err) {
  return init_common(1, state, cutoff, ncols, o, err);
}

static int soap_map_species(const void *state, const char *symbol) {
  return soap_basis_channel(((const soap_state *)state)->b, symbol);
}

/* thread count and per-thread workspaces for the rows of nl */
static kiln_status prepare(soap_state *s, const kiln_neigh *nl, int *nthr, kiln_error *err) {
  int nt = nl->n >= SOAP_OMP_MIN ? omp_get_max_threads() : 1;
  if (nt < 1) nt = 1;
  if (nt > 64) nt = 64;
  if (nt > s->nws) {
    soap_ws *p = realloc(s->ws, (size_t)nt * sizeof *p);
    if (!p) return KILN_FAIL(err, KILN_ENOMEM, "descriptor soap: out of memory");
    memset(p + s->nws, 0, (size_t)(nt - s->nws) * sizeof *p);
    s->ws = p;
    s->nws = nt;
  }
  int maxnb = 0;
  for (size_t i = 0; i < nl->n; i++) {
    const int len = (int)(nl->offset[i + 1] - nl->offset[i]);
    if (len > maxnb) maxnb = len;
  }
  for (int t = 0; t < nt; t++) {
    soap_ws *w = &s->ws[t];
    kiln_status st = soap_ws_reserve(w, s->b, maxnb, err);
    if (st) return st;
    const size_t need = (size_t)w->cap * 3;
    if (w->auxcap < need) {
      free(w->aux);
      w->aux = malloc(need * sizeof *w->aux);
      w->auxcap = w->aux ? need : 0;
      if (!w->aux) return KILN_FAIL(err, KILN_ENOMEM, "descriptor soap: out of memory");
    }
  }
  *nthr = nt;
  return KILN_OK;
}

static kiln_status coincident(const char *name, kiln_error *err) {
  return KILN_FAIL(err, KILN_EINVAL,
                   "descriptor %s: two atoms at the same position (distance < 1e-10 Å)", name);
}

static kiln_status soap_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                                const int32_t *tmap, double *X, kiln_desc_grad *g,
                                kiln_error *err) {
  soap_state *s = state;
  const soap_basis *b = s->b;
  const char *name = b->vector ? "soap_vector" : "soap";
  const size_t n = nl->n, nc = b->ncols;
  int nthr;
  kiln_status st = prepare(s, nl, &nthr, err);
  if (st) return st;
  if (g) {
    if ((st = kiln_desc_grad_reserve(g, n, nc, 0, err))) return st;
    const double rc2 = b->rcut * b->rcut;
    size_t tot = 0;
    for (size_t i = 0; i < n; i++) {
      g->offset[i] = tot;
      for (size_t jj = nl->offset[i]; jj < nl->offset[i + 1]; jj++) {
        const int32_t k = nl->index[jj];
        double r2 = 0;
        for (int c = 0; c < 3; c++) {
          const double d = nl->xe[k][c] - nl->xe[i][c];
          r2 += d * d;
        }
        if (r2 < rc2 && r2 >= 1e-20) tot++;
      }
    }
    g->offset[n] = tot;
    if ((st = kiln_desc_grad_reserve(g, n, nc, tot, err))) return st;
  }
  int bad = 0;
#pragma omp parallel num_threads(nthr) reduction(| : bad)
  {
    soap_ws *w = &s->ws[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 8)
    for (size_t i = 0; i < n; i++) {
      if (soap_expand(b, w, i, a, nl, tmap, g != NULL)) bad = 1;
      if (X) soap_features(b, w, w->c, X + i * nc);
      if (g) {
        const size_t off = g->offset[i];
        for (int e = 0; e < w->nnb; e++) {
          g->j[off + e] = nl->owner[w->nb[e].k];
          for (int c = 0; c < 3; c++) g->rij[off + e][c] = w->nb[e].rij[c];
          soap_entry_grad(b, w, e, g->d + (off + e) * 3 * nc);
        }
      }
    }
  }
  return bad ? coincident(name, err) : KILN_OK;
}

static kiln_status soap_backprop(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                                 const int32_t *tmap, const double *dEdX, double (*f)[3],
                                 double W[3][3], kiln_error *err) {
  soap_state *s = state;
  const soap_basis *b = s->b;
  const char *name = b->vector ? "soap_vector" : "soap";
  const size_t n = nl->n, nc = b->ncols;
  int nthr;
  kiln_status st = prepare(s, nl, &nthr, err);
  if (st) return st;
  const size_t need = (size_t)nthr * n * 3;
  if (s->fcap < need) {
    free(s->fth);
    s->fth = malloc(need * sizeof *s->fth);
    s->fcap = s->fth ? need : 0;
    if (!s->fth) return KILN_FAIL(err, KILN_ENOMEM, "descriptor %s: out of memory", name);
  }
  int bad = 0;
#pragma omp parallel num_threads(nthr) reduction(| : bad)
  {
    const int t = omp_get_thread_num();
    soap_ws *w = &s->ws[t];
    double (*ft)[3] = (double (*)[3])(s->fth + (size_t)t * n * 3);
    double *Wt = s->Wth[t];
    memset(ft, 0, n * sizeof *ft);
    memset(Wt, 0, 9 * sizeof *Wt);
    double (*dEdr)[3] = (double (*)[3])w->aux;
#pragma omp for schedule(dynamic, 8)
    for (size_t i = 0; i < n; i++) {
      if (soap_expand(b, w, i, a, nl, tmap, 1)) bad = 1;
      soap_features_adjoint(b, w, w->c, dEdX + i * nc, w->G);
      soap_nb_forces(b, w, dEdr);
      for (int e = 0; e < w->nnb; e++) {
        const soap_nb *nb = w->nb + e;
        double *fj = ft[nl->owner[nb->k]];
        for (int c = 0; c < 3; c++) {
          fj[c] -= dEdr[e][c];
          ft[i][c] += dEdr[e][c];
        }
        for (int x = 0; x < 3; x++)
          for (int y = 0; y < 3; y++) Wt[x * 3 + y] -= nb->rij[x] * dEdr[e][y];
      }
    }
  }
  for (int t = 0; t < nthr; t++) {
    const double (*ft)[3] = (const double (*)[3])(s->fth + (size_t)t * n * 3);
    if (f)
      for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) f[i][c] += ft[i][c];
    if (W)
      for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) W[x][y] += s->Wth[t][x * 3 + y];
  }
  return bad ? coincident(name, err) : KILN_OK;
}

#define SOAP_OPTIONS                                                                           \
  "cutoff=number (Å, required: neighbours beyond it do not count)\n"                          \
  "cutoff_width=number (Å, default 0.5: width of the cosine switch ending at cutoff)\n"       \
  "sigma=number (Å, default 0.5: width of the Gaussian put on each neighbour)\n"              \
  "nmax=integer (default 8: radial functions, orthonormalised GTOs)\n"                         \
  "lmax=integer (default 6: spherical harmonics degree)\n"                                      \
  "elements=list of strings (neighbour species channels, e.g. {\"Ba\",\"Ti\",\"O\"}; default: " \
  "one channel for every species)\n"                                                           \
  "center_atom=boolean (default false: include the centre atom's own Gaussian)"

const kiln_desc_style kiln_desc_soap_style = {
    .name = "soap",
    .description = "SOAP power spectrum p_{na,n'b,l} = pi sqrt(8/(2l+1)) sum_m c^a_nlm c^b_n'lm "
                   "(x sqrt 2 off the diagonal), unique pairs (na) <= (n'b); ncols = "
                   "K(K+1)/2 (lmax+1), K = nmax * number of channels",
    .citation = "A. P. Bartok, R. Kondor and G. Csanyi, Phys. Rev. B 87, 184115 (2013)",
    .options = SOAP_OPTIONS,
    .init = soap_init,
    .map_species = soap_map_species,
    .compute = soap_compute,
    .backprop = soap_backprop,
    .destroy = soap_destroy,
};

const kiln_desc_style kiln_desc_soap_vector_style = {
    .name = "soap_vector",
    .description = "lambda=1 covariant SOAP features v_k = sum G^{l,l+1}_{m m' k} c^a_nlm "
                   "c^b_n'(l+1)m' (real Gaunt coefficients, k = x, y, z); column comp*Dv + q, "
                   "Dv = K(K+1)/2 lmax (all_pairs: K^2 lmax); ncols = 3 Dv",
    .citation = "A. Grisafi, D. M. Wilkins, G. Csanyi and M. Ceriotti, Phys. Rev. Lett. 120, "
                "036002 (2018)",
    .options = SOAP_OPTIONS "\nall_pairs=boolean (default false: (na) <= (n'b) pairs only; true: "
                            "every ordered pair)",
    .init = soap_vector_init,
    .map_species = soap_map_species,
    .compute = soap_compute,
    .backprop = soap_backprop,
    .destroy = soap_destroy,
};
