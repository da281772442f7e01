/* src/core/crystal.c: crystal builders. Atom orders and hexagonal settings follow
 * ASE's ase.build.bulk (cubic=True for the cubic lattices). */
#include <math.h>
#include <stdlib.h>
#include "kiln/crystal.h"

static kiln_status check_a(const char *what, const char *name, double a, kiln_error *err) {
  if (!(a > 0.0) || !isfinite(a))
    return KILN_FAIL(err, KILN_EINVAL, "crystal %s: lattice constant %s must be positive (got %g)",
                     what, name, a);
  return KILN_OK;
}

static kiln_status check_sym(const char *what, const char *sym, kiln_error *err) {
  if (!sym || !kiln_element_z(sym))
    return KILN_FAIL(err, KILN_EINVAL, "crystal %s: unknown element '%s'", what,
                     sym ? sym : "(null)");
  return KILN_OK;
}

kiln_status kiln_crystal_from_cell(kiln_atoms **out, const double cell[3][3], size_t n,
                                   const char *const *symbols, const double (*frac)[3],
                                   kiln_error *err) {
  *out = NULL;
  double inv[3][3];
  kiln_status st = kiln_cell_inverse(cell, inv, err);
  if (st) return st;
  if (n && (!symbols || !frac))
    return KILN_FAIL(err, KILN_EINVAL, "crystal: symbols or fractional positions are NULL");
  for (size_t i = 0; i < n; i++) {
    if (!kiln_element_z(symbols[i]))
      return KILN_FAIL(err, KILN_EINVAL, "crystal: atom %zu has unknown element '%s'", i + 1,
                       symbols[i] ? symbols[i] : "(null)");
    for (int d = 0; d < 3; d++)
      if (!isfinite(frac[i][d]))
        return KILN_FAIL(err, KILN_EINVAL, "crystal: atom %zu has a non-finite position", i + 1);
  }
  kiln_atoms *a;
  if ((st = kiln_atoms_new(&a, n, err))) return st;
  if ((st = kiln_atoms_set_cell(a, cell, 0, err))) goto fail;
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  for (size_t i = 0; i < n; i++) {
    if ((st = kiln_atoms_set_symbol(a, i, symbols[i], err))) goto fail;
    for (int d = 0; d < 3; d++)
      a->x[i][d] = frac[i][0] * cell[0][d] + frac[i][1] * cell[1][d] + frac[i][2] * cell[2][d];
  }
  *out = a;
  return KILN_OK;
fail:
  kiln_atoms_free(a);
  return st;
}

static kiln_status cubic(kiln_atoms **out, double a, size_t n, const char *const *sym,
                         const double (*frac)[3], kiln_error *err) {
  double cell[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, a}};
  return kiln_crystal_from_cell(out, cell, n, sym, frac, err);
}

kiln_status kiln_crystal_fcc(kiln_atoms **out, const char *sym, double a, kiln_error *err) {
  *out = NULL;
  kiln_status st;
  if ((st = check_a("fcc", "a", a, err)) || (st = check_sym("fcc", sym, err))) return st;
  static const double f[4][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}};
  const char *s[4] = {sym, sym, sym, sym};
  return cubic(out, a, 4, s, f, err);
}

kiln_status kiln_crystal_bcc(kiln_atoms **out, const char *sym, double a, kiln_error *err) {
  *out = NULL;
  kiln_status st;
  if ((st = check_a("bcc", "a", a, err)) || (st = check_sym("bcc", sym, err))) return st;
  static const double f[2][3] = {{0, 0, 0}, {.5, .5, .5}};
  const char *s[2] = {sym, sym};
  return cubic(out, a, 2, s, f, err);
}

kiln_status kiln_crystal_sc(kiln_atoms **out, const char *sym, double a, kiln_error *err) {
  *out = NULL;
  kiln_status st;
  if ((st = check_a("sc", "a", a, err)) || (st = check_sym("sc", sym, err))) return st;
  static const double f[1][3] = {{0, 0, 0}};
  const char *s[1] = {sym};
  return cubic(out, a, 1, s, f, err);
}

kiln_status kiln_crystal_diamond(kiln_atoms **out, const char *sym, double a, kiln_error *err) {
  *out = NULL;
  kiln_status st;
  if ((st = check_a("diamond", "a", a, err)) || (st = check_sym("diamond", sym, err))) return st;
  static const double f[8][3] = {{0, 0, 0},      {.25, .25, .25}, {0, .5, .5}, {.25, .75, .75},
                                 {.5, 0, .5},    {.75, .25, .75}, {.5, .5, 0}, {.75, .75, .25}};
  const char *s[8] = {sym, sym, sym, sym, sym, sym, sym, sym};
  return cubic(out, a, 8, s, f, err);
}

kiln_status kiln_crystal_rocksalt(kiln_atoms **out, const char *A, const char *B, double a,
                                  kiln_error *err) {
  *out = NULL;
  kiln_status st;
  if ((st = check_a("rocksalt", "a", a, err)) || (st = check_sym("rocksalt", A, err)) ||
      (st = check_sym("rocksalt", B, err)))
    return st;
  static const double f[8][3] = {{0, 0, 0},   {.5, 0, 0},   {0, .5, .5}, {.5, .5, .5},
                                 {.5, 0, .5}, {0, 0, .5},   {.5, .5, 0}, {0, .5, 0}};
  const char *s[8] = {A, B, A, B, A, B, A, B};
  return cubic(out, a, 8, s, f, err);
}

kiln_status kiln_crystal_perovskite(kiln_atoms **out, const char *A, const char *B, const char *X,
                                    double a, kiln_error *err) {
  *out = NULL;
  kiln_status st;
  if ((st = check_a("perovskite", "a", a, err)) || (st = check_sym("perovskite", A, err)) ||
      (st = check_sym("perovskite", B, err)) || (st = check_sym("perovskite", X, err)))
    return st;
  static const double f[5][3] = {{0, 0, 0}, {.5, .5, .5}, {.5, .5, 0}, {.5, 0, .5}, {0, .5, .5}};
  const char *s[5] = {A, B, X, X, X};
  return cubic(out, a, 5, s, f, err);
}

static void hex_cell(double a, double c, double cell[3][3]) {
  double h[3][3] = {{a, 0, 0}, {-0.5 * a, 0.5 * sqrt(3.0) * a, 0}, {0, 0, c}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) cell[i][j] = h[i][j];
}

kiln_status kiln_crystal_hcp(kiln_atoms **out, const char *sym, double a, double c, kiln_error *err) {
  *out = NULL;
  kiln_status st;
  if ((st = check_a("hcp", "a", a, err)) || (st = check_sym("hcp", sym, err))) return st;
  if (isnan(c) || isinf(c))
    return KILN_FAIL(err, KILN_EINVAL, "crystal hcp: lattice constant c must be finite (got %g)", c);
  if (c <= 0.0) c = sqrt(8.0 / 3.0) * a;
  double cell[3][3];
  hex_cell(a, c, cell);
  static const double f[2][3] = {{1.0 / 3, 2.0 / 3, 0.25}, {2.0 / 3, 1.0 / 3, 0.75}};
  const char *s[2] = {sym, sym};
  return kiln_crystal_from_cell(out, cell, 2, s, f, err);
}

kiln_status kiln_crystal_hbn(kiln_atoms **out, const char *A, const char *B, double a, double c,
                             kiln_error *err) {
  *out = NULL;
  kiln_status st;
  if ((st = check_a("hbn", "a", a, err)) || (st = check_a("hbn", "c", c, err)) ||
      (st = check_sym("hbn", A, err)) || (st = check_sym("hbn", B, err)))
    return st;
  double cell[3][3];
  hex_cell(a, c, cell);
  static const double f[2][3] = {{0, 0, 0}, {1.0 / 3, 2.0 / 3, 0}};
  const char *s[2] = {A, B};
  return kiln_crystal_from_cell(out, cell, 2, s, f, err);
}
