/* src/pot/pot_external.c: style "external", a potential whose energy, forces and
 * virial come from a callback (kiln_pot_external_set, include/kiln/cv.h): biases
 * (metadynamics, umbrellas), analytic model potentials and Lua-defined energies.
 * A COMPOSITE style: evaluated through compute_full, no neighbor list. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/cv.h"
#include "pot/pot_internal.h"

typedef struct {
  kiln_external_fn fn;
  void *ud;
  void (*free_ud)(void *);
  double (*f)[3];
  size_t fcap;
} ext_state;

static kiln_status ext_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  (void)o;
  ext_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "potential external: out of memory");
  *state = s;
  *cutoff = 1e-3; /* nominal: no neighbours needed, but md:run makes a list (cutoff > 0) */
  return KILN_OK;
}

static void ext_destroy(void *state) {
  ext_state *s = state;
  if (!s) return;
  if (s->free_ud) s->free_ud(s->ud);
  free(s->f);
  free(s);
}

kiln_status kiln_pot_external_set(kiln_pot *p, kiln_external_fn fn, void *ud,
                                  void (*free_ud)(void *), kiln_error *err) {
  if (!p || kiln_pot_get_style(p) != &kiln_pot_external_style)
    return KILN_FAIL(err, KILN_EINVAL, "kiln_pot_external_set: the potential is not of style "
                     "external (got %s)", p ? kiln_pot_get_style(p)->name : "NULL");
  ext_state *s = kiln_pot_state(p);
  if (s->free_ud) s->free_ud(s->ud);
  s->fn = fn;
  s->ud = ud;
  s->free_ud = free_ud;
  return KILN_OK;
}

static kiln_status ext_full(void *state, kiln_atoms *a, unsigned want, double *energy,
                            double virial[3][3], double *eatom, kiln_error *err) {
  ext_state *s = state;
  if (!s->fn)
    return KILN_FAIL(err, KILN_ESTATE, "potential external: no callback set (use "
                     "kiln.cv.external or kiln_pot_external_set)");
  const size_t n = a->n;
  if (!(s->f = kilni_grow(s->f, &s->fcap, n ? n : 1, n + 16, sizeof *s->f)))
    return KILN_FAIL(err, KILN_ENOMEM, "potential external: out of memory (%zu atoms)", n);
  memset(s->f, 0, n * sizeof *s->f);
  memset(virial, 0, 9 * sizeof(double));
  *energy = 0;
  int vdone = 0;
  kiln_status st = s->fn(s->ud, a, want, energy, s->f, virial, &vdone, err);
  if (st) return st;
  if (!isfinite(*energy))
    return KILN_FAIL(err, KILN_EINVAL, "potential external: the callback returned energy %g",
                     *energy);
  if (!vdone) {
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++) {
        double w = 0;
        for (size_t i = 0; i < n; i++) w += a->x[i][x] * s->f[i][y];
        virial[x][y] = w;
      }
  }
  if (want & KILN_EVAL_FORCES) memcpy(a->f, s->f, n * sizeof *s->f);
  if (eatom) memset(eatom, 0, n * sizeof *eatom);
  return KILN_OK;
}

static kiln_status ext_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                               kiln_pot_work *w, kiln_error *err) {
  (void)state; (void)a; (void)nl; (void)w;
  return KILN_FAIL(err, KILN_ESTATE, "potential external is evaluated through compute_full");
}

const kiln_pot_style kiln_pot_external_style = {
    .name = "external",
    .description = "energy, forces and virial from a callback (a Lua function via "
                   "kiln.cv.external(fn), or C via kiln_pot_external_set): biases and model "
                   "potentials",
    .citation = "",
    .options = "",
    .flags = KILN_POT_COMPOSITE | KILN_POT_HAVE_VIRIAL,
    .init = ext_init,
    .map_species = NULL,
    .compute = ext_compute,
    .destroy = ext_destroy,
    .compute_full = ext_full,
};
