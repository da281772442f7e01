/* src/pot/coul_common.h: private helpers of the Coulomb styles (coul/dsf, coul/ewald):
 * the Coulomb constant, the `charges` option (per element) or the per-atom property
 * "charge", and the erfc variants (exact, or the polynomial LAMMPS uses). */
#ifndef KILN_COUL_COMMON_H
#define KILN_COUL_COMMON_H
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "pot/pot_internal.h"

/* e^2 / (4 pi eps0) in eV*Å (CODATA 2018: e exact, eps0 = 8.8541878128e-12 F/m).
 * LAMMPS metal units use 14.399645 (2.3e-8 relative smaller). */
#define KILNI_COUL_K 14.39964547842567
#define KILNI_SQRT_PI 1.7724538509055160273

/* charges per element, or per atom from the property "charge" */
typedef struct {
  int nel;          /* 0: per-atom property "charge" */
  char sym[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  double q[KILN_MAX_SPECIES];
  int poly;         /* erfc="lammps": the Abramowitz-Stegun 7.1.26 polynomial */
} kilni_charges;

static inline kiln_status kilni_charges_parse(kilni_charges *c, const kiln_opts *o,
                                              const char *what, kiln_error *err) {
  memset(c, 0, sizeof *c);
  const char *mode;
  kiln_status st = kiln_opts_str(o, what, "erfc", 1, "exact", &mode, err);
  if (st) return st;
  if (!strcmp(mode, "lammps")) c->poly = 1;
  else if (strcmp(mode, "exact"))
    return KILN_FAIL(err, KILN_EINVAL, "%s: erfc must be \"exact\" or \"lammps\" (got \"%s\")",
                     what, mode);
  const kiln_opts *t = kiln_opts_get(o, "charges");
  if (!t) return KILN_OK;
  if (t->kind != KILN_OPT_TABLE || t->nchild == 0 || kiln_opts_npos(t) != 0)
    return KILN_FAIL(err, KILN_EINVAL, "%s: charges must be a table of element charges (e), "
                     "e.g. charges={Na=1, Cl=-1}", what);
  for (size_t k = 0; k < t->nchild; k++) {
    const kiln_opts *ch = &t->child[k];
    if (strlen(ch->key) >= KILN_SYMBOL_LEN || c->nel >= KILN_MAX_SPECIES)
      return KILN_FAIL(err, KILN_EINVAL, "%s: charges: bad element symbol '%s'", what, ch->key);
    double q;
    if ((st = kiln_opts_num(t, what, ch->key, 0, 0, &q, err))) return st;
    if (!isfinite(q))
      return KILN_FAIL(err, KILN_EINVAL, "%s: charge of %s is not finite", what, ch->key);
    snprintf(c->sym[c->nel], KILN_SYMBOL_LEN, "%s", ch->key);
    c->q[c->nel++] = q;
  }
  return KILN_OK;
}

static inline int kilni_charges_map(const kilni_charges *c, const char *symbol) {
  if (c->nel == 0) return 0;
  for (int e = 0; e < c->nel; e++)
    if (!strcmp(c->sym[e], symbol)) return e;
  return -1;
}

/* q[i] for the n local atoms */
static inline kiln_status kilni_charges_local(const kilni_charges *c, const kiln_atoms *a,
                                              const int32_t *tmap, double *q, const char *what,
                                              kiln_error *err) {
  if (c->nel) {
    for (size_t i = 0; i < a->n; i++) q[i] = c->q[tmap[a->type[i]]];
    return KILN_OK;
  }
  const kiln_prop *p = kiln_atoms_prop_get(a, "charge");
  if (!p || p->kind == KILN_VAL_STR || p->ncols != 1 || !p->val)
    return KILN_FAIL(err, KILN_EINVAL, "%s: no charges: give charges={El=q, ...} or a per-atom "
                     "property \"charge\" (one number per atom, e)", what);
  for (size_t i = 0; i < a->n; i++) {
    q[i] = p->val[i];
    if (!isfinite(q[i]))
      return KILN_FAIL(err, KILN_EINVAL, "%s: atom %zu has charge %g", what, i + 1, q[i]);
  }
  return KILN_OK;
}

/* erfc(x) for x >= 0 given ex = exp(-x^2): exact, or the LAMMPS polynomial */
static inline double kilni_erfc(double x, double ex, int poly) {
  if (!poly) return erfc(x);
  const double t = 1.0 / (1.0 + 0.3275911 * x);
  return t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 +
              t * (-1.453152027 + t * 1.061405429)))) * ex;
}

#define KILNI_CHARGES_OPTIONS                                                                  \
  "charges={El=q, ...} (e, per element; default: the per-atom property \"charge\")\n"         \
  "erfc=string (\"exact\" (default) or \"lammps\": the Abramowitz-Stegun polynomial LAMMPS "   \
  "uses, ~1e-7 relative, and its other constants; for comparisons with LAMMPS at round-off)"
#endif
