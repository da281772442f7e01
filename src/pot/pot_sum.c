/* src/pot/pot_sum.c: overlay of several potentials, E = sum_k E_k (forces, virial and
 * per-atom energies likewise). A COMPOSITE style: each part is evaluated through
 * kiln_pot_compute with its own neighbor list (its own cutoff and list kind, skin 1 A).
 * Options: a list of tables {style="lj", ...options of that style}; the parts are then
 * owned by the sum. kiln_pot_new_sum builds a sum over existing potentials it borrows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pot/pot_internal.h"

#define SUM_SKIN 1.0

typedef struct {
  size_t n;
  kiln_pot **parts;
  int owns;
  kiln_neigh **nl;
  double (*f)[3];
  size_t fcap;
  double *e;
  size_t ecap;
} sum_state;

static void sum_destroy(void *state) {
  sum_state *s = state;
  if (!s) return;
  for (size_t k = 0; k < s->n; k++) {
    if (s->owns) kiln_pot_free(s->parts[k]);
    if (s->nl) kiln_neigh_free(s->nl[k]);
  }
  free(s->parts);
  free(s->nl);
  free(s->f);
  free(s->e);
  free(s);
}

kiln_status kilni_sum_state_new(void **state, double *cutoff, kiln_pot *const *parts, size_t n,
                                int owns, kiln_error *err) {
  *state = NULL;
  if (n == 0) return KILN_FAIL(err, KILN_EINVAL, "potential sum needs at least one part");
  sum_state *s = calloc(1, sizeof *s);
  if (!s || !(s->parts = calloc(n, sizeof *s->parts)) || !(s->nl = calloc(n, sizeof *s->nl))) {
    if (s) free(s->parts);
    free(s);
    return KILN_FAIL(err, KILN_ENOMEM, "potential sum: out of memory");
  }
  s->n = n;
  s->owns = owns;
  double rc = 0;
  for (size_t k = 0; k < n; k++) {
    if (!parts[k]) {
      s->owns = 0;
      sum_destroy(s);
      return KILN_FAIL(err, KILN_EINVAL, "potential sum: part %zu is NULL", k + 1);
    }
    s->parts[k] = parts[k];
    double c = kiln_pot_cutoff(parts[k]);
    if (c > rc) rc = c;
  }
  *cutoff = rc;
  *state = s;
  return KILN_OK;
}

static void sum_invalidate(void *state) {
  sum_state *s = state;
  if (!s) return;
  for (size_t k = 0; k < s->n; k++) {
    if (s->nl[k]) kiln_neigh_invalidate(s->nl[k]);
    kiln_pot_invalidate(s->parts[k]); /* nested sums */
  }
}

void kilni_sum_set_omp_min(void *state, size_t natoms) {
  sum_state *s = state;
  if (!s) return;
  for (size_t k = 0; k < s->n; k++) kiln_pot_set_omp_min(s->parts[k], natoms);
}

static kiln_status sum_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  size_t n = kiln_opts_npos(o);
  if (n == 0)
    return KILN_FAIL(err, KILN_EINVAL, "potential sum: give the parts as a list of tables "
                     "{style=\"lj\", ...}, e.g. {{style=\"lj\", ...}, {style=\"morse\", ...}}");
  kiln_status st = kiln_opts_check_unused(o, "potential sum", err);
  if (st) return st;
  kiln_pot **parts = calloc(n, sizeof *parts);
  if (!parts) return KILN_FAIL(err, KILN_ENOMEM, "potential sum: out of memory");
  for (size_t k = 0; k < n && !st; k++) {
    const kiln_opts *c = kiln_opts_at(o, k);
    char what[64];
    snprintf(what, sizeof what, "potential sum part %zu", k + 1);
    const char *style;
    if (c->kind != KILN_OPT_TABLE) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s must be a table {style=\"...\", ...}", what);
      break;
    }
    if ((st = kiln_opts_str(c, what, "style", 0, NULL, &style, err))) break;
    if ((st = kiln_pot_new(&parts[k], style, c, err))) {
      char msg[sizeof err->msg];
      snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
      st = KILN_FAIL(err, st, "%s: %s", what, msg);
    }
  }
  if (!st) st = kilni_sum_state_new(state, cutoff, parts, n, 1, err);
  if (st)
    for (size_t k = 0; k < n; k++) kiln_pot_free(parts[k]);
  free(parts);
  return st;
}

static kiln_status sum_full(void *state, kiln_atoms *a, unsigned want, double *energy,
                            double virial[3][3], double *eatom, kiln_error *err) {
  sum_state *s = state;
  const size_t n = a->n;
  const int pa = eatom && (want & KILN_EVAL_PERATOM);
  const int wf = (want & KILN_EVAL_FORCES) != 0;
  if (wf && (n > s->fcap || !s->f)) {
    free(s->f);
    s->fcap = n + n / 8 + 16;
    if (!(s->f = malloc(s->fcap * sizeof *s->f))) {
      s->fcap = 0;
      return KILN_FAIL(err, KILN_ENOMEM, "potential sum: out of memory");
    }
  }
  if (wf) memset(s->f, 0, n * sizeof *s->f);
  if (pa) memset(eatom, 0, n * sizeof *eatom);
  *energy = 0;
  memset(virial, 0, 9 * sizeof(double));
  for (size_t k = 0; k < s->n; k++) {
    kiln_pot *p = s->parts[k];
    const kiln_pot_style *ps = kiln_pot_get_style(p);
    kiln_neigh *nl = NULL;
    if (!((ps->flags & KILN_POT_COMPOSITE) && ps->compute_full)) {
      if (!s->nl[k]) {
        double rc = kiln_pot_cutoff(p) > 0 ? kiln_pot_cutoff(p) : 1e-6;
        kiln_status st = kiln_neigh_new(&s->nl[k], kiln_pot_neigh_kind(p), rc, SUM_SKIN, err);
        if (st) return st;
      }
      nl = s->nl[k];
    }
    kiln_pot_result r;
    kiln_status st = kiln_pot_compute(p, a, nl, want, &r, err);
    if (st) return st;
    *energy += r.energy;
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++) virial[x][y] += r.virial[x][y];
    if (wf)
      for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) s->f[i][c] += a->f[i][c];
    if (pa && r.eatom)
      for (size_t i = 0; i < n; i++) eatom[i] += r.eatom[i];
  }
  if (wf) memcpy(a->f, s->f, n * sizeof *s->f);
  return KILN_OK;
}

static kiln_status sum_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                               kiln_pot_work *w, kiln_error *err) {
  return KILN_FAIL(err, KILN_ESTATE, "potential sum is evaluated through compute_full");
}

const kiln_pot_style kiln_pot_sum_style = {
    .name = "sum",
    .description = "overlay of several potentials: energies, forces, virials and per-atom "
                   "energies add up (LAMMPS hybrid/overlay)",
    .citation = "",
    .options = "a list of parts, each a table {style=\"name\", ...options of that style}, e.g. "
               "{{style=\"lj\", epsilon=0.01, sigma=3.4, cutoff=8}, {style=\"morse\", ...}}",
    .flags = KILN_POT_COMPOSITE | KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM,
    .init = sum_init,
    .map_species = NULL,
    .compute = sum_compute,
    .destroy = sum_destroy,
    .compute_full = sum_full,
    .invalidate = sum_invalidate,
};
