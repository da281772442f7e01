/* src/ml/registry.c: the table of descriptor styles (expanded from styles.def), the
 * descriptor object (style state, its own full neighbor list, species map) and the
 * generic gradient store and back-propagation used by styles without their own. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ml/ml_internal.h"

static const kiln_desc_style *const styles[] = {
#define KILN_DESC_STYLE(name, sym) &sym,
#include "ml/styles.def"
#undef KILN_DESC_STYLE
};
#define NSTYLES (sizeof styles / sizeof styles[0])

struct kiln_desc {
  const kiln_desc_style *style;
  void *state;
  double cutoff;
  size_t ncols;
  kiln_neigh *nl;
  int32_t tmap[KILN_MAX_SPECIES];
  kiln_desc_grad g;          /* scratch for the generic backprop */
  double *X;                 /* scratch rows for the generic backprop */
  size_t xcap;
};

const kiln_desc_style *kiln_desc_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < NSTYLES; i++)
    if (strcmp(styles[i]->name, name) == 0) return styles[i];
  return NULL;
}

size_t kiln_desc_nstyles(void) { return NSTYLES; }

const kiln_desc_style *kiln_desc_style_at(size_t i) { return i < NSTYLES ? styles[i] : NULL; }

kiln_status kiln_desc_grad_reserve(kiln_desc_grad *g, size_t n, size_t ncols, size_t nentries,
                                   kiln_error *err) {
  if (n + 1 > g->cap_n) {
    size_t cap = n + 1 + n / 4;
    size_t *p = realloc(g->offset, cap * sizeof *p);
    if (!p) return KILN_FAIL(err, KILN_ENOMEM, "descriptor gradient: out of memory (%zu atoms)", n);
    g->offset = p;
    g->cap_n = cap;
  }
  size_t old = g->cap_entries * (g->ncols ? g->ncols : 1);
  if (nentries > g->cap_entries || nentries * ncols > old) {
    size_t cap = nentries + nentries / 4 + 16;
    int32_t *j = realloc(g->j, cap * sizeof *j);
    if (j) g->j = j;
    double(*r)[3] = j ? realloc(g->rij, cap * sizeof *r) : NULL;
    if (r) g->rij = r;
    double *d = r ? realloc(g->d, cap * 3 * (ncols ? ncols : 1) * sizeof *d) : NULL;
    if (!d)
      return KILN_FAIL(err, KILN_ENOMEM,
                       "descriptor gradient: out of memory (%zu entries x %zu columns)", nentries,
                       ncols);
    g->d = d;
    g->cap_entries = cap;
  }
  g->n = n;
  g->ncols = ncols;
  return KILN_OK;
}

void kiln_desc_grad_free(kiln_desc_grad *g) {
  if (!g) return;
  free(g->offset);
  free(g->j);
  free(g->rij);
  free(g->d);
  memset(g, 0, sizeof *g);
}

kiln_status kiln_desc_new(kiln_desc **out, const char *style, const kiln_opts *o,
                          kiln_error *err) {
  *out = NULL;
  const kiln_desc_style *s = kiln_desc_find(style);
  if (!s) {
    char list[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < NSTYLES && len + 20 < sizeof list; i++)
      len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                              styles[i]->name);
    return KILN_FAIL(err, KILN_EINVAL, "unknown descriptor style '%s' (known: %s)",
                     style ? style : "(null)", list);
  }
  char what[96];
  snprintf(what, sizeof what, "descriptor %s", s->name);
  kiln_opts *empty = NULL;
  kiln_status st;
  if (!o) {
    if ((st = kiln_opts_new(&empty, err))) return st;
    o = empty;
  }
  if ((st = kiln_opts_check_known(o, what, s->options, NULL, err))) goto done;
  kiln_desc *d = calloc(1, sizeof *d);
  if (!d) {
    st = KILN_FAIL(err, KILN_ENOMEM, "out of memory creating %s", what);
    goto done;
  }
  d->style = s;
  if ((st = s->init(&d->state, &d->cutoff, &d->ncols, o, err))) {
    free(d);
    goto done;
  }
  if ((st = kiln_opts_check_unused(o, what, err)) ||
      (st = kiln_neigh_new(&d->nl, KILN_NEIGH_FULL, d->cutoff, 1.0, err))) {
    kiln_desc_free(d);
    goto done;
  }
  *out = d;
done:
  kiln_opts_free(empty);
  return st;
}

void kiln_desc_free(kiln_desc *d) {
  if (!d) return;
  if (d->style->destroy) d->style->destroy(d->state);
  kiln_neigh_free(d->nl);
  kiln_desc_grad_free(&d->g);
  free(d->X);
  free(d);
}

const kiln_desc_style *kiln_desc_get_style(const kiln_desc *d) { return d->style; }
void *kiln_desc_state(const kiln_desc *d) { return d->state; }
size_t kiln_desc_ncols(const kiln_desc *d) { return d->ncols; }
double kiln_desc_cutoff(const kiln_desc *d) { return d->cutoff; }


kiln_status kiln_desc_map(kiln_desc *d, const kiln_atoms *a, int32_t *out, kiln_error *err) {
  const int ns = a->nspecies;
  if (ns < 0 || ns > KILN_MAX_SPECIES)
    return KILN_FAIL(err, KILN_EINVAL, "atoms have an invalid species count %d", ns);
  int present[KILN_MAX_SPECIES] = {0};
  for (size_t i = 0; i < a->n; i++) {
    int32_t t = a->type[i];
    if (t < 0 || t >= ns)
      return KILN_FAIL(err, KILN_EINVAL, "atom %zu has type %d but the atoms have %d species",
                       i + 1, (int)t, ns);
    present[t] = 1;
  }
  for (int t = 0; t < ns; t++) {
    int m = d->style->map_species ? d->style->map_species(d->state, a->species[t]) : 0;
    if (m < 0) {
      if (present[t])
        return KILN_FAIL(err, KILN_EINVAL, "descriptor %s has no parameters for element '%s'",
                         d->style->name, a->species[t]);
      m = 0;
    }
    out[t] = m;
  }
  return KILN_OK;
}

static kiln_status prepare(kiln_desc *d, const kiln_atoms *a, kiln_error *err) {
  kiln_status st = kiln_desc_map(d, a, d->tmap, err);
  if (st) return st;
  return kiln_neigh_update(d->nl, a, NULL, err);
}

kiln_status kiln_desc_compute(kiln_desc *d, const kiln_atoms *a, double *X, kiln_desc_grad *g,
                              kiln_error *err) {
  kiln_status st = prepare(d, a, err);
  if (st) return st;
  return d->style->compute(d->state, a, d->nl, d->tmap, X, g, err);
}

kiln_status kiln_desc_backprop(kiln_desc *d, const kiln_atoms *a, const double *dEdX,
                               double (*f)[3], double W[3][3], kiln_error *err) {
  kiln_status st = prepare(d, a, err);
  if (st) return st;
  const size_t n = a->n, nc = d->ncols;
  memset(f, 0, n * sizeof *f);
  if (W) memset(W, 0, 9 * sizeof(double));
  if (d->style->backprop) return d->style->backprop(d->state, a, d->nl, d->tmap, dEdX, f, W, err);
  /* generic: the full gradient, contracted */
  if ((st = d->style->compute(d->state, a, d->nl, d->tmap, NULL, &d->g, err))) return st;
  const kiln_desc_grad *g = &d->g;
  for (size_t i = 0; i < n; i++) {
    const double *w = dEdX + i * nc;
    for (size_t e = g->offset[i]; e < g->offset[i + 1]; e++) {
      double fk[3];
      for (int c = 0; c < 3; c++) {
        const double *row = g->d + (e * 3 + (size_t)c) * nc;
        double s = 0;
        for (size_t k = 0; k < nc; k++) s += w[k] * row[k];
        fk[c] = -s;   /* force on neighbor k from E_i */
      }
      size_t j = (size_t)g->j[e];
      for (int c = 0; c < 3; c++) {
        f[j][c] += fk[c];
        f[i][c] -= fk[c];
      }
      if (W)
        for (int x = 0; x < 3; x++)
          for (int y = 0; y < 3; y++) W[x][y] += g->rij[e][x] * fk[y];
    }
  }
  return KILN_OK;
}
