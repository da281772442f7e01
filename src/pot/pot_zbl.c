/* src/pot/pot_zbl.c: Ziegler-Biersack-Littmark screened nuclear repulsion, as LAMMPS
 * pair_style zbl inner outer.
 *
 * E(r) = Zi Zj e^2/(4 pi eps0 r) phi(r/a) + S(r),  a = 0.46850 / (Zi^0.23 + Zj^0.23) Å,
 * phi(x) = 0.18175 e^{-3.19980 x} + 0.50986 e^{-0.94229 x} + 0.28022 e^{-0.40290 x}
 *          + 0.02817 e^{-0.20162 x},
 * e^2/(4 pi eps0) = 14.399645 eV Å (LAMMPS metal units). S(r) = C for r <= inner and
 * C + A/3 t^3 + B/4 t^4 (t = r - inner) up to outer, with A, B, C chosen so that E, E'
 * and E'' vanish at outer (LAMMPS's switching function). Z per element; a pair of
 * different elements uses both. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/potential.h"
#include "pot/pot_internal.h"

#define ZBL_QQR2E 14.399645

typedef struct {
  double zze, d[4], sw1, sw2, sw3, sw4, sw5;
} zbl_pair;

typedef struct {
  int nel;
  char sym[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  double z[KILN_MAX_SPECIES];
  double inner, outer;
  zbl_pair *p;               /* nel x nel */
  int32_t *te; size_t te_cap;
} zbl_state;

static const double zc[4] = {0.02817, 0.28022, 0.50986, 0.18175};
static const double zd[4] = {0.20162, 0.40290, 0.94229, 3.19980};

static double e_zbl(const zbl_pair *P, double r) {
  double s = 0;
  for (int k = 0; k < 4; k++) s += zc[k] * exp(-P->d[k] * r);
  return P->zze * s / r;
}
static double de_zbl(const zbl_pair *P, double r) {
  double s = 0, s1 = 0;
  for (int k = 0; k < 4; k++) {
    const double ex = zc[k] * exp(-P->d[k] * r);
    s += ex;
    s1 -= P->d[k] * ex;
  }
  return P->zze * (s1 / r - s / (r * r));
}
static double d2e_zbl(const zbl_pair *P, double r) {
  double s = 0, s1 = 0, s2 = 0;
  for (int k = 0; k < 4; k++) {
    const double ex = zc[k] * exp(-P->d[k] * r);
    s += ex;
    s1 -= P->d[k] * ex;
    s2 += P->d[k] * P->d[k] * ex;
  }
  return P->zze * (s2 / r - 2.0 * s1 / (r * r) + 2.0 * s / (r * r * r));
}

static void zbl_destroy(void *state) {
  zbl_state *s = state;
  if (!s) return;
  free(s->p);
  free(s->te);
  free(s);
}

static kiln_status zbl_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  const char *what = "potential zbl";
  zbl_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  kiln_status st;
  if ((st = kiln_opts_num(o, what, "inner", 0, 0, &s->inner, err)) ||
      (st = kiln_opts_num(o, what, "outer", 0, 0, &s->outer, err)))
    goto fail;
  if (!(s->inner > 0) || !(s->outer >= s->inner)) {
    st = KILN_FAIL(err, KILN_EINVAL, "%s: need 0 < inner <= outer (got inner %g, outer %g)",
                   what, s->inner, s->outer);
    goto fail;
  }
  const kiln_opts *el = kiln_opts_get(o, "elements"), *zt = kiln_opts_get(o, "z");
  if (!el || !zt) {
    st = KILN_FAIL(err, KILN_EINVAL, "%s: missing option '%s' (elements={\"Ta\"}, z={73})", what,
                   el ? "z" : "elements");
    goto fail;
  }
  size_t ne = kiln_opts_npos(el), nz = kiln_opts_npos(zt);
  if (el->kind != KILN_OPT_TABLE || zt->kind != KILN_OPT_TABLE || ne == 0 || ne != nz ||
      ne > KILN_MAX_SPECIES) {
    st = KILN_FAIL(err, KILN_EINVAL, "%s: elements and z must be lists of the same length "
                   "(got %zu and %zu)", what, ne, nz);
    goto fail;
  }
  s->nel = (int)ne;
  for (size_t i = 0; i < ne; i++) {
    const kiln_opts *e = kiln_opts_at(el, i), *z = kiln_opts_at(zt, i);
    if (e->kind != KILN_OPT_STR || strlen(e->str) >= KILN_SYMBOL_LEN) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s: elements[%zu] must be an element symbol", what, i + 1);
      goto fail;
    }
    if (z->kind != KILN_OPT_NUM || !(z->num > 0)) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s: z[%zu] must be a positive number (nuclear charge)",
                     what, i + 1);
      goto fail;
    }
    strcpy(s->sym[i], e->str);
    s->z[i] = z->num;
  }
  if ((st = kiln_opts_check_unused(o, what, err))) goto fail;
  s->p = calloc(ne * ne, sizeof *s->p);
  if (!s->p) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
    goto fail;
  }
  for (int a = 0; a < s->nel; a++)
    for (int b = 0; b < s->nel; b++) {
      zbl_pair *P = &s->p[a * s->nel + b];
      const double ainv = (pow(s->z[a], 0.23) + pow(s->z[b], 0.23)) / 0.46850;
      for (int k = 0; k < 4; k++) P->d[k] = zd[k] * ainv;
      P->zze = s->z[a] * s->z[b] * ZBL_QQR2E;
      const double tc = s->outer - s->inner;
      const double fc = e_zbl(P, s->outer), fcp = de_zbl(P, s->outer),
                   fcpp = d2e_zbl(P, s->outer);
      if (tc > 0) {
        const double swa = (-3.0 * fcp + tc * fcpp) / (tc * tc);
        const double swb = (2.0 * fcp - tc * fcpp) / (tc * tc * tc);
        P->sw1 = swa;
        P->sw2 = swb;
        P->sw3 = swa / 3.0;
        P->sw4 = swb / 4.0;
        P->sw5 = -fc + (tc / 2.0) * fcp - (tc * tc / 12.0) * fcpp;
      } else {
        P->sw5 = -fc;
      }
    }
  *state = s;
  *cutoff = s->outer;
  return KILN_OK;
fail:
  zbl_destroy(s);
  return st;
}

static int zbl_map(const void *state, const char *symbol) {
  const zbl_state *s = state;
  for (int e = 0; e < s->nel; e++)
    if (strcmp(s->sym[e], symbol) == 0) return e;
  return -1;
}

static kiln_status zbl_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                               kiln_pot_work *w, kiln_error *err) {
  zbl_state *s = state;
  kiln_status st = kilni_ext_elements(&s->te, &s->te_cap, a, nl, w->tmap, "potential zbl", err);
  if (st) return st;
  const int32_t *te = s->te;
  const double(*xe)[3] = (const double(*)[3])nl->xe;
  const double cutsq = s->outer * s->outer, innersq = s->inner * s->inner, inner = s->inner;
  const int pa = (w->want & KILN_EVAL_PERATOM) && w->e;
  const size_t n = nl->n;
  const int nel = s->nel;
#pragma omp parallel num_threads(w->nthreads)
  {
    const int t = omp_get_thread_num();
    double(*f)[3] = w->f[t];
    double *e = pa ? w->e[t] : NULL;
    double eng = 0;
#pragma omp for schedule(static)
    for (size_t i = 0; i < n; i++) {
      const zbl_pair *Pi = s->p + te[i] * nel;
      double fix = 0, fiy = 0, fiz = 0, eii = 0;
      for (size_t jj = nl->offset[i]; jj < kilni_half_end(nl, i); jj++) {
        const int32_t j = nl->index[jj];
        const double dx = xe[i][0] - xe[j][0], dy = xe[i][1] - xe[j][1], dz = xe[i][2] - xe[j][2];
        const double rsq = dx * dx + dy * dy + dz * dz;
        if (rsq >= cutsq) continue;
        const zbl_pair *P = Pi + te[j];
        const double r = sqrt(rsq);
        double fpair = de_zbl(P, r);
        double ev = e_zbl(P, r) + P->sw5;
        if (rsq > innersq) {
          const double tt = r - inner;
          fpair += tt * tt * (P->sw1 + P->sw2 * tt);
          ev += tt * tt * tt * (P->sw3 + P->sw4 * tt);
        }
        fpair *= -1.0 / r;
        fix += dx * fpair; fiy += dy * fpair; fiz += dz * fpair;
        f[j][0] -= dx * fpair; f[j][1] -= dy * fpair; f[j][2] -= dz * fpair;
        eng += ev;
        if (e) { eii += 0.5 * ev; e[j] += 0.5 * ev; }
      }
      f[i][0] += fix; f[i][1] += fiy; f[i][2] += fiz;
      if (e) e[i] += eii;
    }
    w->energy[t] += eng;
  }
  return KILN_OK;
}

const kiln_pot_style kiln_pot_zbl_style = {
    .name = "zbl",
    .description = "Ziegler-Biersack-Littmark universal screened nuclear repulsion with "
                   "LAMMPS's switching function between inner and outer (pair_style zbl)",
    .citation = "J. F. Ziegler, J. P. Biersack and U. Littmark, The Stopping and Range of Ions "
                "in Matter (Pergamon, 1985)",
    .options = "inner=number (Å: the switching function starts here)\n"
               "outer=number (Å: cutoff, where energy, force and curvature reach zero)\n"
               "elements=list of strings (element symbols, e.g. {\"Ta\"})\n"
               "z=list of numbers (nuclear charge of each element, e.g. {73})",
    .flags = KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM,
    .init = zbl_init,
    .map_species = zbl_map,
    .compute = zbl_compute,
    .destroy = zbl_destroy,
    .compute_full = NULL,
};
