/* src/pot/registry.c: the table of potential styles (expanded from styles.def) and
 * the evaluation framework: species mapping, neighbor-list update, per-thread force
 * and energy arrays, thread reduction, virial (sum over extended atoms of xe (x) fe),
 * folding of ghost contributions onto their owners, stress. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pot/pot_internal.h"

static const kiln_pot_style *const styles[] = {
#define KILN_POT_STYLE(name, sym) &sym,
#include "pot/styles.def"
#undef KILN_POT_STYLE
};
#define NSTYLES (sizeof styles / sizeof styles[0])

const kiln_pot_style *kiln_pot_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < NSTYLES; i++)
    if (strcmp(styles[i]->name, name) == 0) return styles[i];
  return NULL;
}

size_t kiln_pot_nstyles(void) { return NSTYLES; }

const kiln_pot_style *kiln_pot_style_at(size_t i) { return i < NSTYLES ? styles[i] : NULL; }

struct kiln_pot {
  const kiln_pot_style *style;
  void *state;
  double cutoff;
  void *scratch;                 /* kiln_pot_work.scratch, kept across calls, free()d */
  int nthr;                      /* thread slots allocated */
  size_t rows;                   /* rows allocated per thread (f: rows x 3, e: rows) */
  int have_e;                    /* e[] allocated at the current size */
  double (**f)[3];
  size_t *fclean;                /* f[t], t >= 1: rows 0..fclean[t]-1 are known to be zero */
  int fdirty;                    /* an evaluation stopped before its reduction */
  double **e;
  double *energy;
  double *eatom;
  size_t eatom_cap;
  int32_t tmap[KILN_MAX_SPECIES];
  kiln_neigh *own;               /* kiln_pot_compute_once */
  size_t omp_min;                /* fewer local atoms than this: one thread */
};

kiln_status kiln_pot_new(kiln_pot **out, const char *style, const kiln_opts *o, kiln_error *err) {
  *out = NULL;
  const kiln_pot_style *s = kiln_pot_find(style);
  if (!s) {
    char list[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < NSTYLES && len + 20 < sizeof list; i++)
      len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                              styles[i]->name);
    return KILN_FAIL(err, KILN_EINVAL, "unknown potential style '%s' (known: %s)",
                     style ? style : "(null)", list);
  }
  /* a misspelt option is named before it shows up as a missing one */
  char what[96];
  snprintf(what, sizeof what, "potential %s", s->name);
  kiln_status st0 = kiln_opts_check_known(o, what, s->options, NULL, err);
  if (st0) return st0;
  kiln_pot *p = calloc(1, sizeof *p);
  if (!p) return KILN_FAIL(err, KILN_ENOMEM, "out of memory creating potential %s", s->name);
  p->style = s;
  p->omp_min = KILN_POT_OMP_MIN;
  kiln_opts *empty = NULL;
  if (!o) {
    kiln_status st = kiln_opts_new(&empty, err);
    if (st) {
      free(p);
      return st;
    }
    o = empty;
  }
  double rc = 0;
  kiln_status st = s->init(&p->state, &rc, o, err);
  kiln_opts_free(empty);
  if (st) {
    free(p);
    return st;
  }
  if (!(rc >= 0) || !isfinite(rc)) {
    if (s->destroy) s->destroy(p->state);
    free(p);
    return KILN_FAIL(err, KILN_EINVAL, "potential %s: invalid cutoff %g", s->name, rc);
  }
  p->cutoff = rc;
  *out = p;
  return KILN_OK;
}

kiln_status kiln_pot_new_sum(kiln_pot **out, kiln_pot *const *parts, size_t n, kiln_error *err) {
  *out = NULL;
  kiln_pot *p = calloc(1, sizeof *p);
  if (!p) return KILN_FAIL(err, KILN_ENOMEM, "out of memory creating potential sum");
  p->style = &kiln_pot_sum_style;
  p->omp_min = KILN_POT_OMP_MIN;
  kiln_status st = kilni_sum_state_new(&p->state, &p->cutoff, parts, n, 0, err);
  if (st) {
    free(p);
    return st;
  }
  *out = p;
  return KILN_OK;
}

static void free_work(kiln_pot *p) {
  for (int t = 0; t < p->nthr; t++) {
    free(p->f[t]);
    if (p->e) free(p->e[t]);
  }
  free(p->f);
  free(p->fclean);
  free(p->e);
  free(p->energy);
  p->f = NULL;
  p->fclean = NULL;
  p->e = NULL;
  p->energy = NULL;
  p->nthr = 0;
  p->rows = 0;
  p->have_e = 0;
}

void kiln_pot_free(kiln_pot *p) {
  if (!p) return;
  if (p->style->destroy) p->style->destroy(p->state);
  free_work(p);
  free(p->eatom);
  free(p->scratch);
  kiln_neigh_free(p->own);
  free(p);
}

const kiln_pot_style *kiln_pot_get_style(const kiln_pot *p) { return p->style; }
double kiln_pot_cutoff(const kiln_pot *p) { return p->cutoff; }
void *kiln_pot_state(const kiln_pot *p) { return p->state; }
int kiln_pot_neigh_kind(const kiln_pot *p) {
  return (p->style->flags & KILN_POT_NEEDS_FULL_LIST) ? KILN_NEIGH_FULL : KILN_NEIGH_HALF;
}

/* per-thread arrays for nthr threads and rows rows (grown, never shrunk) */
static kiln_status ensure_work(kiln_pot *p, int nthr, size_t rows, int peratom, kiln_error *err) {
  if (nthr > p->nthr || rows > p->rows || (peratom && !p->have_e)) {
    int nt = nthr > p->nthr ? nthr : p->nthr;
    size_t nr = rows > p->rows ? rows + rows / 8 + 64 : p->rows;
    int he = peratom || p->have_e;
    free_work(p);
    p->f = calloc((size_t)nt, sizeof *p->f);
    p->fclean = calloc((size_t)nt, sizeof *p->fclean);
    p->e = calloc((size_t)nt, sizeof *p->e);
    p->energy = calloc((size_t)nt, sizeof *p->energy);
    int bad = !p->f || !p->fclean || !p->e || !p->energy;
    p->nthr = nt;
    for (int t = 0; !bad && t < nt; t++) {
      p->f[t] = malloc(nr * sizeof *p->f[t]);
      if (he) p->e[t] = malloc(nr * sizeof *p->e[t]);
      bad = !p->f[t] || (he && !p->e[t]);
    }
    if (bad) {
      free_work(p);
      return KILN_FAIL(err, KILN_ENOMEM, "potential %s: out of memory for %d x %zu forces",
                       p->style->name, nt, nr);
    }
    p->rows = nr;
    p->have_e = he;
  }
  return KILN_OK;
}

/* map the species present in the atoms to the style's elements */
static kiln_status map_species(kiln_pot *p, const kiln_atoms *a, kiln_error *err) {
  const int ns = a->nspecies;
  if (ns < 0 || ns > KILN_MAX_SPECIES)
    return KILN_FAIL(err, KILN_EINVAL, "atoms have an invalid species count %d", ns);
  int present[KILN_MAX_SPECIES] = {0};
  for (size_t i = 0; i < a->n; i++) {
    int32_t t = a->type[i];
    if (t < 0 || t >= ns)
      return KILN_FAIL(err, KILN_EINVAL,
                       "atom %zu has type %d but the atoms have %d species", i + 1, (int)t, ns);
    present[t] = 1;
  }
  for (int t = 0; t < ns; t++) {
    if (!p->style->map_species) {
      p->tmap[t] = 0;
      continue;
    }
    int m = p->style->map_species(p->state, a->species[t]);
    if (m < 0) {
      if (present[t])
        return KILN_FAIL(err, KILN_EINVAL, "potential %s has no parameters for element '%s'",
                         p->style->name, a->species[t]);
      m = 0; /* unused species */
    }
    p->tmap[t] = m;
  }
  return KILN_OK;
}

static void finish_result(kiln_pot_result *res, const kiln_atoms *a) {
  for (int x = 0; x < 3; x++)
    for (int y = x + 1; y < 3; y++) {
      double m = 0.5 * (res->virial[x][y] + res->virial[y][x]);
      res->virial[x][y] = res->virial[y][x] = m;
    }
  const double(*c)[3] = (const double(*)[3])a->cell;
  double vol = fabs(c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1]) -
                    c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0]) +
                    c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0]));
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) res->stress[x][y] = vol > 0 ? -res->virial[x][y] / vol : 0.0;
}

static kiln_status ensure_eatom(kiln_pot *p, size_t n, kiln_error *err) {
  if (n <= p->eatom_cap && p->eatom) return KILN_OK;
  size_t c = n + n / 8 + 16;
  double *q = realloc(p->eatom, c * sizeof *q);
  if (!q) return KILN_FAIL(err, KILN_ENOMEM, "potential %s: out of memory", p->style->name);
  p->eatom = q;
  p->eatom_cap = c;
  return KILN_OK;
}

kiln_status kiln_pot_compute(kiln_pot *p, kiln_atoms *a, kiln_neigh *nl, unsigned want,
                             kiln_pot_result *res, kiln_error *err) {
  kiln_pot_result dummy;
  if (!res) res = &dummy;
  memset(res, 0, sizeof *res);
  if (!p || !a) return KILN_FAIL(err, KILN_EINVAL, "kiln_pot_compute: NULL potential or atoms");
  const kiln_pot_style *s = p->style;
  const size_t n = a->n;
  const int peratom = (want & KILN_EVAL_PERATOM) != 0;
  kiln_status st;

  if ((s->flags & KILN_POT_COMPOSITE) && s->compute_full) {
    if (peratom && (st = ensure_eatom(p, n, err))) return st;
    double vir[3][3] = {{0}};
    double energy = 0;
    st = s->compute_full(p->state, a, want, &energy, vir, peratom ? p->eatom : NULL, err);
    if (st) return st;
    res->energy = energy;
    memcpy(res->virial, vir, sizeof vir);
    res->eatom = peratom ? p->eatom : NULL;
    finish_result(res, a);
    return KILN_OK;
  }

  if (!nl) return KILN_FAIL(err, KILN_EINVAL, "potential %s: no neighbor list given", s->name);
  if (nl->cutoff < p->cutoff)
    return KILN_FAIL(err, KILN_EINVAL,
                     "potential %s: neighbor list cutoff %g A is shorter than the potential "
                     "cutoff %g A", s->name, nl->cutoff, p->cutoff);
  if ((s->flags & KILN_POT_NEEDS_FULL_LIST) && nl->kind != KILN_NEIGH_FULL)
    return KILN_FAIL(err, KILN_EINVAL, "potential %s needs a full neighbor list (got half)",
                     s->name);
  if ((st = map_species(p, a, err))) return st;
  if ((st = kiln_neigh_update(nl, a, NULL, err))) return st;

  const size_t ne = nl->n + nl->ng;
  int nthr = omp_get_max_threads();
  if (nthr < 1 || nl->n < p->omp_min) nthr = 1;  /* threads do not pay for small systems */
  if ((st = ensure_work(p, nthr, ne, peratom, err))) return st;

  /* zero the thread arrays. f[0] receives the sum and is cleared every time; the others
   * are cleared by the reduction below, so only rows not known to be zero are cleared
   * here (a failed evaluation leaves them marked dirty). */
  if (nthr == 1) {
    memset(p->f[0], 0, ne * sizeof *p->f[0]);
    if (peratom) memset(p->e[0], 0, ne * sizeof *p->e[0]);
  } else {
    if (p->fdirty)
      for (int t = 0; t < p->nthr; t++) p->fclean[t] = 0;
#pragma omp parallel num_threads(nthr)
    {
      const int u = omp_get_thread_num(), nu = omp_get_num_threads();
      const size_t rb = ne * (size_t)u / (size_t)nu, re = ne * (size_t)(u + 1) / (size_t)nu;
      memset(p->f[0] + rb, 0, (re - rb) * sizeof *p->f[0]);
      for (int t = 1; t < nthr; t++) {
        size_t lo = p->fclean[t] > rb ? p->fclean[t] : rb;
        if (lo < re) memset(p->f[t] + lo, 0, (re - lo) * sizeof *p->f[t]);
      }
      if (peratom)
        for (int t = 0; t < nthr; t++) memset(p->e[t] + rb, 0, (re - rb) * sizeof *p->e[t]);
    }
    p->fdirty = 1; /* until the reduction has cleared the rows again */
  }
  for (int t = 0; t < nthr; t++) p->energy[t] = 0;

  kiln_pot_work w = {.nthreads = nthr,
                     .want = want,
                     .f = p->f,
                     .e = peratom ? p->e : NULL,
                     .energy = p->energy,
                     .tmap = p->tmap,
                     .scratch = p->scratch};
  st = s->compute(p->state, a, nl, &w, err);
  p->scratch = w.scratch;
  if (st) return st;

  double(*f)[3] = p->f[0];
  double *e = peratom ? p->e[0] : NULL;
  double energy = 0;
  for (int t = 0; t < nthr; t++) energy += p->energy[t];
  double v00 = 0, v01 = 0, v02 = 0, v10 = 0, v11 = 0, v12 = 0, v20 = 0, v21 = 0, v22 = 0;
  const double(*xe)[3] = (const double(*)[3])nl->xe;
  const long nel = (long)ne;
  if (nthr == 1) {
    for (long k = 0; k < nel; k++) {
      const double *xk = xe[k], *fk = f[k];
      v00 += xk[0] * fk[0]; v01 += xk[0] * fk[1]; v02 += xk[0] * fk[2];
      v10 += xk[1] * fk[0]; v11 += xk[1] * fk[1]; v12 += xk[1] * fk[2];
      v20 += xk[2] * fk[0]; v21 += xk[2] * fk[1]; v22 += xk[2] * fk[2];
    }
  } else {
    double(*const *ft)[3] = p->f;
    double *const *et = p->e;
#pragma omp parallel for num_threads(nthr) schedule(static) \
    reduction(+ : v00, v01, v02, v10, v11, v12, v20, v21, v22)
    for (long k = 0; k < nel; k++) {
      double fx = ft[0][k][0], fy = ft[0][k][1], fz = ft[0][k][2];
      for (int t = 1; t < nthr; t++) {
        fx += ft[t][k][0];
        fy += ft[t][k][1];
        fz += ft[t][k][2];
      }
      ft[0][k][0] = fx;
      ft[0][k][1] = fy;
      ft[0][k][2] = fz;
      for (int t = 1; t < nthr; t++) ft[t][k][0] = ft[t][k][1] = ft[t][k][2] = 0.0;
      if (peratom) {
        double ev = et[0][k];
        for (int t = 1; t < nthr; t++) ev += et[t][k];
        et[0][k] = ev;
      }
      const double *xk = xe[k];
      v00 += xk[0] * fx; v01 += xk[0] * fy; v02 += xk[0] * fz;
      v10 += xk[1] * fx; v11 += xk[1] * fy; v12 += xk[1] * fz;
      v20 += xk[2] * fx; v21 += xk[2] * fy; v22 += xk[2] * fz;
    }
  }
  if (nthr > 1) { /* f[1..] rows 0..ne-1 are zero again, rows beyond were not touched */
    for (int t = 1; t < nthr; t++)
      if (p->fclean[t] < ne) p->fclean[t] = ne;
    p->fdirty = 0;
  }
  res->energy = energy;
  res->virial[0][0] = v00; res->virial[0][1] = v01; res->virial[0][2] = v02;
  res->virial[1][0] = v10; res->virial[1][1] = v11; res->virial[1][2] = v12;
  res->virial[2][0] = v20; res->virial[2][1] = v21; res->virial[2][2] = v22;
  finish_result(res, a);

  if (want & KILN_EVAL_FORCES) {
    kiln_neigh_fold(nl, &f[0][0], 3);
    if (nthr == 1) {
      memcpy(a->f, f, n * sizeof *f);
    } else {
#pragma omp parallel num_threads(nthr)
      {
        const int u = omp_get_thread_num(), nu = omp_get_num_threads();
        const size_t rb = n * (size_t)u / (size_t)nu, re = n * (size_t)(u + 1) / (size_t)nu;
        memcpy(a->f + rb, f + rb, (re - rb) * sizeof *f);
      }
    }
  }
  if (peratom) {
    if ((st = ensure_eatom(p, n, err))) return st;
    kiln_neigh_fold(nl, e, 1);
    memcpy(p->eatom, e, n * sizeof *e);
    res->eatom = p->eatom;
  }
  return KILN_OK;
}

kiln_status kiln_pot_compute_once(kiln_pot *p, kiln_atoms *a, unsigned want,
                                  kiln_pot_result *res, kiln_error *err) {
  if (!p) return KILN_FAIL(err, KILN_EINVAL, "kiln_pot_compute_once: NULL potential");
  if ((p->style->flags & KILN_POT_COMPOSITE) && p->style->compute_full)
    return kiln_pot_compute(p, a, NULL, want, res, err);
  if (!p->own) {
    double rc = p->cutoff > 0 ? p->cutoff : 1e-6;
    kiln_status st = kiln_neigh_new(&p->own, kiln_pot_neigh_kind(p), rc, 1.0, err);
    if (st) return st;
  }
  return kiln_pot_compute(p, a, p->own, want, res, err);
}

void kiln_pot_set_omp_min(kiln_pot *p, size_t natoms) {
  if (!p) return;
  p->omp_min = natoms;
  if (p->style == &kiln_pot_sum_style) kilni_sum_set_omp_min(p->state, natoms);
}

void kiln_pot_invalidate(kiln_pot *p) {
  if (!p) return;
  if (p->own) kiln_neigh_invalidate(p->own);
  if (p->style->invalidate) p->style->invalidate(p->state);
}
