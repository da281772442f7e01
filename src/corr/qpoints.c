/* src/corr/qpoints.c: Bravais lattice of a structure (usually a supercell) and
 * its high-symmetry points.
 *
 * Detection: the pure translations of the structure are the differences
 * r_j - r_0 (j of the rarest species) that map every atom onto an atom of the
 * same species within a tolerance. With n_s atoms of that species every such
 * translation is a multiple of 1/n_s in fractional coordinates of the cell
 * (the quotient group has an order dividing n_s), so the translation lattice is
 * kept exactly as an integer lattice in Hermite normal form; a candidate
 * already in it is skipped without testing. The basis is then reduced to short
 * vectors and the conventional cell is found among small lattice vectors:
 * orthogonal triples (cubic P/I/F, tetragonal P/I, orthorhombic P, told apart
 * by lengths, volume ratio and centring) or a 120° pair with a perpendicular
 * vector (hexagonal). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/qpoints.h"

#define TWO_PI 6.283185307179586476925286766559

static double dot3(const double a[3], const double b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
static void cross3(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}
static double det3m(const double m[3][3]) {
  double c[3];
  cross3(m[1], m[2], c);
  return dot3(m[0], c);
}

/* ------------------------------------------------------------------ names */
static const char *const NAMES[KILN_LAT_COUNT] = {"triclinic", "sc", "fcc", "bcc", "hex",
                                                  "tet", "bct", "orc"};

const char *kiln_lattice_name(kiln_lattice_kind kind) {
  return (kind >= 0 && kind < KILN_LAT_COUNT) ? NAMES[kind] : "unknown";
}

kiln_status kiln_lattice_kind_from_name(const char *name, kiln_lattice_kind *kind,
                                        kiln_error *err) {
  static const struct { const char *name; kiln_lattice_kind kind; } alias[] = {
      {"sc", KILN_LAT_SC},          {"cubic", KILN_LAT_SC},         {"perovskite", KILN_LAT_SC},
      {"fcc", KILN_LAT_FCC},        {"diamond", KILN_LAT_FCC},      {"rocksalt", KILN_LAT_FCC},
      {"bcc", KILN_LAT_BCC},        {"hex", KILN_LAT_HEX},          {"hexagonal", KILN_LAT_HEX},
      {"hcp", KILN_LAT_HEX},        {"tet", KILN_LAT_TET},          {"tetragonal", KILN_LAT_TET},
      {"bct", KILN_LAT_BCT},        {"orc", KILN_LAT_ORC},          {"orthorhombic", KILN_LAT_ORC},
      {"triclinic", KILN_LAT_TRICLINIC}};
  for (size_t i = 0; name && i < sizeof alias / sizeof alias[0]; i++)
    if (!strcmp(name, alias[i].name)) {
      *kind = alias[i].kind;
      return KILN_OK;
    }
  return KILN_FAIL(err, KILN_EINVAL,
                   "unknown lattice '%s' (known: sc, fcc, bcc, hex, tet, bct, orc; also cubic, "
                   "hcp, hexagonal, tetragonal, orthorhombic, diamond, rocksalt, perovskite)",
                   name ? name : "(null)");
}

/* ------------------------------------------------------------------ labels */
typedef struct { const char *name; double f[3]; } label_def;

/* fractional coordinates in the conventional reciprocal basis */
static const label_def L_SC[] = {{"G", {0, 0, 0}}, {"X", {0, .5, 0}}, {"M", {.5, .5, 0}},
                                 {"R", {.5, .5, .5}}};
static const label_def L_FCC[] = {{"G", {0, 0, 0}},     {"X", {0, 1, 0}},     {"W", {.5, 1, 0}},
                                  {"K", {.75, .75, 0}}, {"L", {.5, .5, .5}}, {"U", {.25, 1, .25}}};
static const label_def L_BCC[] = {{"G", {0, 0, 0}}, {"H", {0, 1, 0}}, {"N", {.5, .5, 0}},
                                  {"P", {.5, .5, .5}}};
static const label_def L_HEX[] = {{"G", {0, 0, 0}},          {"M", {.5, 0, 0}},
                                  {"K", {1. / 3, 1. / 3, 0}}, {"A", {0, 0, .5}},
                                  {"L", {.5, 0, .5}},        {"H", {1. / 3, 1. / 3, .5}}};
static const label_def L_TET[] = {{"G", {0, 0, 0}},  {"X", {0, .5, 0}},  {"M", {.5, .5, 0}},
                                  {"Z", {0, 0, .5}}, {"R", {0, .5, .5}}, {"A", {.5, .5, .5}}};
static const label_def L_ORC[] = {{"G", {0, 0, 0}},   {"X", {.5, 0, 0}},  {"Y", {0, .5, 0}},
                                  {"Z", {0, 0, .5}},  {"S", {.5, .5, 0}}, {"U", {.5, 0, .5}},
                                  {"T", {0, .5, .5}}, {"R", {.5, .5, .5}}};
static const label_def L_G[] = {{"G", {0, 0, 0}}};

static const label_def *label_table(kiln_lattice_kind kind, int *n) {
#define TAB(t) do { *n = (int)(sizeof t / sizeof t[0]); return t; } while (0)
  switch (kind) {
  case KILN_LAT_SC: TAB(L_SC);
  case KILN_LAT_FCC: TAB(L_FCC);
  case KILN_LAT_BCC: TAB(L_BCC);
  case KILN_LAT_HEX: TAB(L_HEX);
  case KILN_LAT_TET: TAB(L_TET);
  case KILN_LAT_ORC: TAB(L_ORC);
  default: TAB(L_G);
  }
#undef TAB
}

const char *const *kiln_lattice_labels(kiln_lattice_kind kind, int *n) {
  static const char *const names[KILN_LAT_COUNT][8] = {
      {"G"},
      {"G", "X", "M", "R"},
      {"G", "X", "W", "K", "L", "U"},
      {"G", "H", "N", "P"},
      {"G", "M", "K", "A", "L", "H"},
      {"G", "X", "M", "Z", "R", "A"},
      {"G"},
      {"G", "X", "Y", "Z", "S", "U", "T", "R"}};
  if (kind < 0 || kind >= KILN_LAT_COUNT) kind = KILN_LAT_TRICLINIC;
  label_table(kind, n);
  return names[kind];
}

kiln_status kiln_lattice_point(const kiln_lattice *lat, const char *label, double q[3],
                               kiln_error *err) {
  if (!label) return KILN_FAIL(err, KILN_EINVAL, "q-point label is NULL");
  const char *name = label;
  if (!strcmp(label, "Gamma") || !strcmp(label, "\xce\x93")) name = "G";
  int n;
  const label_def *t = label_table(lat->kind, &n);
  for (int i = 0; i < n; i++)
    if (!strcmp(t[i].name, name)) {
      for (int d = 0; d < 3; d++)
        q[d] = t[i].f[0] * lat->recip[0][d] + t[i].f[1] * lat->recip[1][d] +
               t[i].f[2] * lat->recip[2][d];
      return KILN_OK;
    }
  char list[128] = "";
  size_t len = 0;
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? " " : "", t[i].name);
  if (lat->kind == KILN_LAT_TRICLINIC || lat->kind == KILN_LAT_BCT)
    return KILN_FAIL(err, KILN_EINVAL,
                     "unknown q-point label '%s' for a %s lattice (only G is defined: give "
                     "fractional or Cartesian q instead, or lattice= and a= to override)",
                     label, kiln_lattice_name(lat->kind));
  return KILN_FAIL(err, KILN_EINVAL, "unknown q-point label '%s' for a %s lattice (valid: %s)",
                   label, kiln_lattice_name(lat->kind), list);
}

/* ------------------------------------------------------------------ helpers */
static kiln_status finish(kiln_lattice *lat, kiln_error *err) {
  double inv[3][3];
  kiln_status st = kiln_cell_inverse(lat->conv, inv, err);
  if (st) return st;
  for (int j = 0; j < 3; j++)
    for (int d = 0; d < 3; d++) lat->recip[j][d] = TWO_PI * inv[d][j];
  return KILN_OK;
}

kiln_status kiln_lattice_make(kiln_lattice_kind kind, double a, double b, double c,
                              kiln_lattice *lat, kiln_error *err) {
  memset(lat, 0, sizeof *lat);
  if (kind <= KILN_LAT_TRICLINIC || kind >= KILN_LAT_COUNT)
    return KILN_FAIL(err, KILN_EINVAL,
                     "cannot make a %s lattice from constants (give sc, fcc, bcc, hex, tet, bct "
                     "or orc)", kiln_lattice_name(kind));
  if (!(a > 0) || !isfinite(a))
    return KILN_FAIL(err, KILN_EINVAL, "%s lattice: a must be a positive length in Å (got %g)",
                     kiln_lattice_name(kind), a);
  int needc = kind == KILN_LAT_HEX || kind == KILN_LAT_TET || kind == KILN_LAT_BCT ||
              kind == KILN_LAT_ORC;
  if (kind != KILN_LAT_ORC || !(b > 0)) b = a;
  if (!needc) c = a;
  if (!(c > 0) || !isfinite(c) || !isfinite(b))
    return KILN_FAIL(err, KILN_EINVAL, "%s lattice: c must be a positive length in Å (got %g)",
                     kiln_lattice_name(kind), c);
  lat->kind = kind;
  lat->a = a, lat->b = b, lat->c = c;
  double conv[3][3] = {{a, 0, 0}, {0, b, 0}, {0, 0, c}};
  if (kind == KILN_LAT_HEX) {
    conv[1][0] = -0.5 * a;
    conv[1][1] = 0.5 * sqrt(3.0) * a;
  }
  memcpy(lat->conv, conv, sizeof conv);
  memcpy(lat->prim, conv, sizeof conv);
  if (kind == KILN_LAT_FCC) {
    double p[3][3] = {{0, a / 2, a / 2}, {a / 2, 0, a / 2}, {a / 2, a / 2, 0}};
    memcpy(lat->prim, p, sizeof p);
  } else if (kind == KILN_LAT_BCC || kind == KILN_LAT_BCT) {
    double p[3][3] = {{-a / 2, a / 2, c / 2}, {a / 2, -a / 2, c / 2}, {a / 2, a / 2, -c / 2}};
    memcpy(lat->prim, p, sizeof p);
  }
  lat->ncells = 1;
  lat->nbasis = 0;
  return finish(lat, err);
}

/* ------------------------------------------------------------------ integer lattice (HNF) */
/* Lattices L with D Z^3 ⊆ L ⊆ Z^3, kept as an upper-triangular basis H (rows). */
static void hnf_add(long long H[3][3], const long long v[3], long long D) {
  long long R[12][3];
  int nr = 0;
  for (int i = 0; i < 3; i++, nr++) memcpy(R[nr], H[i], sizeof R[0]);
  memcpy(R[nr++], v, sizeof R[0]);
  for (int j = 0; j < 3; j++, nr++) {
    R[nr][0] = R[nr][1] = R[nr][2] = 0;
    R[nr][j] = D;
  }
  for (int c = 0; c < 3; c++) {
    for (int r = c + 1; r < nr; r++)
      while (R[r][c] != 0) {
        long long q = R[c][c] / R[r][c];
        for (int j = 0; j < 3; j++) {
          long long t = R[c][j] - q * R[r][j];
          R[c][j] = R[r][j];
          R[r][j] = t;
        }
      }
    if (R[c][c] < 0)
      for (int j = 0; j < 3; j++) R[c][j] = -R[c][j];
    /* reduce entries mod D, then add fresh D e_j rows (j > c): they keep the
     * lattice unchanged by the reduction */
    for (int r = c; r < nr; r++)
      for (int j = c + 1; j < 3; j++) R[r][j] %= D;
    for (int j = c + 1; j < 3; j++, nr++) {
      R[nr][0] = R[nr][1] = R[nr][2] = 0;
      R[nr][j] = D;
    }
  }
  for (int j = 1; j < 3; j++)
    for (int i = 0; i < j; i++) {
      long long q = R[i][j] / R[j][j];
      if (R[i][j] - q * R[j][j] < 0) q--;
      for (int k = j; k < 3; k++) R[i][k] -= q * R[j][k];
    }
  for (int i = 0; i < 3; i++) memcpy(H[i], R[i], sizeof R[0]);
}

static int hnf_member(const long long H[3][3], const long long v0[3]) {
  long long v[3] = {v0[0], v0[1], v0[2]};
  for (int c = 0; c < 3; c++) {
    if (v[c] % H[c][c]) return 0;
    long long q = v[c] / H[c][c];
    for (int j = c; j < 3; j++) v[j] -= q * H[c][j];
  }
  return 1;
}

/* ------------------------------------------------------------------ spatial hash */
typedef struct {
  const kiln_atoms *a;
  double (*s)[3];  /* wrapped fractional coordinates */
  int m[3];
  size_t *start;   /* m0*m1*m2 + 1 */
  size_t *idx;
  double tol2;
} grid;

static int bin1(double s, int m) {
  int b = (int)floor(s * m);
  b %= m;
  return b < 0 ? b + m : b;
}

/* Is there an atom of species type within tol of the fractional point p? If
 * so, add its fractional offset from p (the nearest such atom) to acc. */
static int grid_find(const grid *g, const double p[3], int32_t type, double acc[3]) {
  const kiln_atoms *a = g->a;
  int c[3], lo[3], hi[3];
  for (int d = 0; d < 3; d++) {
    c[d] = bin1(p[d], g->m[d]);
    if (g->m[d] >= 3) lo[d] = c[d] - 1, hi[d] = c[d] + 1;
    else lo[d] = 0, hi[d] = g->m[d] - 1;
  }
  double best = g->tol2, bf[3] = {0, 0, 0};
  int found = 0;
  for (int i = lo[0]; i <= hi[0]; i++)
    for (int j = lo[1]; j <= hi[1]; j++)
      for (int k = lo[2]; k <= hi[2]; k++) {
        int bi = (i + g->m[0]) % g->m[0], bj = (j + g->m[1]) % g->m[1],
            bk = (k + g->m[2]) % g->m[2];
        size_t b = ((size_t)bi * (size_t)g->m[1] + (size_t)bj) * (size_t)g->m[2] + (size_t)bk;
        for (size_t t = g->start[b]; t < g->start[b + 1]; t++) {
          size_t at = g->idx[t];
          if (a->type[at] != type) continue;
          double df[3], dx[3];
          for (int d = 0; d < 3; d++) {
            df[d] = g->s[at][d] - p[d];
            df[d] -= nearbyint(df[d]);
          }
          for (int d = 0; d < 3; d++)
            dx[d] = df[0] * a->cell[0][d] + df[1] * a->cell[1][d] + df[2] * a->cell[2][d];
          double r2 = dot3(dx, dx);
          if (r2 <= best) {
            best = r2;
            memcpy(bf, df, sizeof bf);
            found = 1;
          }
        }
      }
  if (found)
    for (int d = 0; d < 3; d++) acc[d] += bf[d];
  return found;
}

/* Does the fractional translation t map every atom onto one of its species?
 * If so, refine t by the mean offset (noise averages out over the atoms). The
 * candidate t = r_j - r_0 carries the noise of two atoms: it is first refined
 * on the first atoms with a looser tolerance, then checked on all. */
static int maps(grid *g, double t[3]) {
  double acc[3] = {0, 0, 0}, tol2 = g->tol2;
  size_t n1 = g->a->n < 64 ? g->a->n : 64;
  g->tol2 = 2.25 * tol2;
  for (size_t i = 0; i < n1; i++) {
    double p[3] = {g->s[i][0] + t[0], g->s[i][1] + t[1], g->s[i][2] + t[2]};
    if (!grid_find(g, p, g->a->type[i], acc)) {
      g->tol2 = tol2;
      return 0;
    }
  }
  g->tol2 = tol2;
  for (int d = 0; d < 3; d++) t[d] += acc[d] / (double)n1, acc[d] = 0;
  for (size_t i = 0; i < g->a->n; i++) {
    double p[3] = {g->s[i][0] + t[0], g->s[i][1] + t[1], g->s[i][2] + t[2]};
    if (!grid_find(g, p, g->a->type[i], acc)) return 0;
  }
  for (int d = 0; d < 3; d++) t[d] += acc[d] / (double)g->a->n;
  return 1;
}

typedef struct { double len2; double f[3]; } cand;
static int cand_cmp(const void *x, const void *y) {
  const cand *a = x, *b = y;
  if (a->len2 != b->len2) return a->len2 < b->len2 ? -1 : 1;
  for (int d = 0; d < 3; d++)
    if (a->f[d] != b->f[d]) return a->f[d] < b->f[d] ? -1 : 1;
  return 0;
}

/* ------------------------------------------------------------------ reduction */
static void reduce_basis(double b[3][3]) {
  for (int iter = 0; iter < 200; iter++) {
    int changed = 0;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        if (i == j) continue;
        double mu = dot3(b[i], b[j]) / dot3(b[j], b[j]);
        double k = nearbyint(mu);
        if (k != 0 && fabs(mu) > 0.5 + 1e-9) {
          for (int d = 0; d < 3; d++) b[i][d] -= k * b[j][d];
          changed = 1;
        }
      }
    for (int i = 0; i < 3; i++) {
      int j = (i + 1) % 3, k = (i + 2) % 3;
      for (int s1 = -1; s1 <= 1; s1 += 2)
        for (int s2 = -1; s2 <= 1; s2 += 2) {
          double c[3];
          for (int d = 0; d < 3; d++) c[d] = b[i][d] + s1 * b[j][d] + s2 * b[k][d];
          if (dot3(c, c) < dot3(b[i], b[i]) * (1 - 1e-12)) {
            memcpy(b[i], c, sizeof c);
            changed = 1;
          }
        }
    }
    if (!changed) break;
  }
  /* sort by length, right-handed */
  for (int i = 0; i < 3; i++)
    for (int j = i + 1; j < 3; j++)
      if (dot3(b[j], b[j]) < dot3(b[i], b[i]) * (1 - 1e-12)) {
        double t[3];
        memcpy(t, b[i], sizeof t);
        memcpy(b[i], b[j], sizeof t);
        memcpy(b[j], t, sizeof t);
      }
  if (det3m(b) < 0)
    for (int d = 0; d < 3; d++) b[2][d] = -b[2][d];
}

/* ------------------------------------------------------------------ classification */
#define LTOL 1e-3   /* relative length tolerance */
#define ATOL 1e-3   /* |cos| tolerance for right angles and 120° */

static int same_len(double l1, double l2) { return fabs(l1 - l2) <= LTOL * fmax(l1, l2); }
static int near_int(double x) { return fabs(x - nearbyint(x)) <= 1e-3; }

/* is the Cartesian vector v a lattice vector of the primitive basis with inverse pinv? */
static int in_lattice(const double pinv[3][3], const double v[3]) {
  for (int j = 0; j < 3; j++)
    if (!near_int(v[0] * pinv[0][j] + v[1] * pinv[1][j] + v[2] * pinv[2][j])) return 0;
  return 1;
}

static int dominant_axis(const double v[3]) {
  int k = 0;
  for (int d = 1; d < 3; d++)
    if (fabs(v[d]) > fabs(v[k]) + 1e-9 * fabs(v[k])) k = d;
  return k;
}

static void set_row(double m[3][3], int i, const double v[3], double s) {
  for (int d = 0; d < 3; d++) m[i][d] = s * v[d];
}

/* Cubic: from one orthogonal equal triple, x along the member closest to +x,
 * y closest to +y, z completing a right-handed set. */
static void orient_cubic(const double t[3][3], double conv[3][3]) {
  double best = -1e300;
  int bi = 0, bs = 1;
  for (int i = 0; i < 3; i++)
    for (int s = -1; s <= 1; s += 2)
      if (s * t[i][0] > best + 1e-9 * fabs(best)) best = s * t[i][0], bi = i, bs = s;
  set_row(conv, 0, t[bi], bs);
  best = -1e300;
  int bj = 0, js = 1;
  for (int i = 0; i < 3; i++) {
    if (i == bi) continue;
    for (int s = -1; s <= 1; s += 2)
      if (s * t[i][1] > best + 1e-9 * fabs(best)) best = s * t[i][1], bj = i, js = s;
  }
  set_row(conv, 1, t[bj], js);
  int k = 3 - bi - bj;
  double c[3];
  cross3(conv[0], conv[1], c);
  set_row(conv, 2, t[k], dot3(c, t[k]) > 0 ? 1 : -1);
}

/* Tetragonal: c (index ic) positive along its dominant axis; a1 from the two
 * others closest to the first remaining Cartesian axis; a2 right-handed. */
static void orient_tet(const double t[3][3], int ic, double conv[3][3]) {
  int dc = dominant_axis(t[ic]);
  double cs = t[ic][dc] >= 0 ? 1 : -1;
  set_row(conv, 2, t[ic], cs);
  int ax = dc == 0 ? 1 : 0;
  int o[2], no = 0;
  for (int i = 0; i < 3; i++)
    if (i != ic) o[no++] = i;
  double best = -1e300;
  int bi = o[0], bs = 1;
  for (int q = 0; q < 2; q++)
    for (int s = -1; s <= 1; s += 2)
      if (s * t[o[q]][ax] > best + 1e-9 * fabs(best)) best = s * t[o[q]][ax], bi = o[q], bs = s;
  set_row(conv, 0, t[bi], bs);
  int other = bi == o[0] ? o[1] : o[0];
  double c[3];
  cross3(conv[2], conv[0], c);  /* a2 direction for a right-handed (a1, a2, c) */
  set_row(conv, 1, t[other], dot3(c, t[other]) > 0 ? 1 : -1);
}

/* Orthorhombic: each axis to the Cartesian direction it is most aligned with
 * (the permutation maximising the sum of |cos|), pointing along +. */
static void orient_orc(const double t[3][3], double conv[3][3]) {
  static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  double best = -1;
  int bp = 0;
  for (int p = 0; p < 6; p++) {
    double s = 0;
    for (int d = 0; d < 3; d++) s += fabs(t[perm[p][d]][d]) / sqrt(dot3(t[perm[p][d]], t[perm[p][d]]));
    if (s > best + 1e-12) best = s, bp = p;
  }
  for (int d = 0; d < 3; d++) {
    const double *v = t[perm[bp][d]];
    set_row(conv, d, v, v[d] >= 0 ? 1 : -1);
  }
}

/* Hexagonal: c along its dominant axis (+); a1 the in-plane vector of length a
 * closest to the first remaining Cartesian axis; a2 at 120° with det > 0. */
static void orient_hex(const double u[3], const double v[3], const double w[3],
                       double conv[3][3]) {
  int dc = dominant_axis(w);
  set_row(conv, 2, w, w[dc] >= 0 ? 1 : -1);
  int ax = dc == 0 ? 1 : 0;
  double six[6][3];
  for (int d = 0; d < 3; d++) {
    six[0][d] = u[d], six[1][d] = -u[d], six[2][d] = v[d], six[3][d] = -v[d];
    six[4][d] = u[d] + v[d], six[5][d] = -u[d] - v[d];
  }
  int bi = 0;
  for (int i = 1; i < 6; i++)
    if (six[i][ax] > six[bi][ax] + 1e-9 * fabs(six[bi][ax])) bi = i;
  set_row(conv, 0, six[bi], 1);
  double l2 = dot3(six[bi], six[bi]);
  for (int i = 0; i < 6; i++) {
    double cs = dot3(six[i], six[bi]) / l2, c[3];
    if (fabs(cs + 0.5) > 0.1) continue;
    cross3(six[bi], six[i], c);
    if (dot3(c, conv[2]) > 0) {
      set_row(conv, 1, six[i], 1);
      break;
    }
  }
}

static void classify(const double P[3][3], kiln_lattice *lat) {
  double pinv[3][3], Vp = fabs(det3m(P));
  kiln_error e;
  if (kiln_cell_inverse(P, pinv, &e)) return;
  /* the "positive half" of the lattice vectors with coefficients in [-2, 2] */
  double V[62][3], len[62];
  int nv = 0;
  for (int i = -2; i <= 2; i++)
    for (int j = -2; j <= 2; j++)
      for (int k = -2; k <= 2; k++) {
        int first = i ? i : (j ? j : k);
        if (first <= 0) continue;
        for (int d = 0; d < 3; d++) V[nv][d] = i * P[0][d] + j * P[1][d] + k * P[2][d];
        len[nv] = sqrt(dot3(V[nv], V[nv]));
        nv++;
      }
  int best = 0;  /* priority: 30 cubic, 25 hexagonal, 20 tetragonal, 10 orthorhombic */
  double bt[3][3];
  kiln_lattice_kind bk = KILN_LAT_TRICLINIC;
  int bic = 0;
  for (int i = 0; i < nv; i++)
    for (int j = i + 1; j < nv; j++) {
      double cij = dot3(V[i], V[j]) / (len[i] * len[j]);
      if (fabs(cij) <= ATOL) {
        for (int k = j + 1; k < nv; k++) {
          if (fabs(dot3(V[i], V[k]) / (len[i] * len[k])) > ATOL ||
              fabs(dot3(V[j], V[k]) / (len[j] * len[k])) > ATOL)
            continue;
          double t[3][3];
          memcpy(t[0], V[i], sizeof t[0]);
          memcpy(t[1], V[j], sizeof t[0]);
          memcpy(t[2], V[k], sizeof t[0]);
          double r = fabs(det3m(t)) / Vp;
          int rr = (int)nearbyint(r);
          if (fabs(r - rr) > 1e-3 * r || (rr != 1 && rr != 2 && rr != 4)) continue;
          int e01 = same_len(len[i], len[j]), e02 = same_len(len[i], len[k]),
              e12 = same_len(len[j], len[k]);
          double body[3], f01[3], f02[3], f12[3];
          for (int d = 0; d < 3; d++) {
            body[d] = 0.5 * (t[0][d] + t[1][d] + t[2][d]);
            f01[d] = 0.5 * (t[0][d] + t[1][d]);
            f02[d] = 0.5 * (t[0][d] + t[2][d]);
            f12[d] = 0.5 * (t[1][d] + t[2][d]);
          }
          kiln_lattice_kind kk = KILN_LAT_TRICLINIC;
          int score = 0, ic = 0;
          if (e01 && e02) {
            if (rr == 1) kk = KILN_LAT_SC;
            else if (rr == 2 && in_lattice(pinv, body)) kk = KILN_LAT_BCC;
            else if (rr == 4 && in_lattice(pinv, f01) && in_lattice(pinv, f02) &&
                     in_lattice(pinv, f12))
              kk = KILN_LAT_FCC;
            if (kk) score = 30;
          } else if (e01 || e02 || e12) {
            ic = e01 ? 2 : (e02 ? 1 : 0);
            if (rr == 1) kk = KILN_LAT_TET;
            else if (rr == 2 && in_lattice(pinv, body)) kk = KILN_LAT_BCT;
            if (kk) score = 20;
          } else if (rr == 1) {
            kk = KILN_LAT_ORC;
            score = 10;
          }
          if (score > best) {
            best = score;
            bk = kk;
            bic = ic;
            memcpy(bt, t, sizeof t);
          }
        }
      } else if (best < 25 && fabs(fabs(cij) - 0.5) <= ATOL && same_len(len[i], len[j])) {
        /* 120° pair (or 60°: use -V[j]) with a perpendicular third vector */
        double u[3], v[3];
        memcpy(u, V[i], sizeof u);
        for (int d = 0; d < 3; d++) v[d] = cij > 0 ? -V[j][d] : V[j][d];
        for (int k = 0; k < nv; k++) {
          if (fabs(dot3(u, V[k]) / (len[i] * len[k])) > ATOL ||
              fabs(dot3(v, V[k]) / (len[j] * len[k])) > ATOL)
            continue;
          double t[3][3];
          memcpy(t[0], u, sizeof u);
          memcpy(t[1], v, sizeof v);
          memcpy(t[2], V[k], sizeof t[2]);
          double r = fabs(det3m(t)) / Vp;
          if (fabs(r - 1) > 1e-3) continue;
          best = 25;
          bk = KILN_LAT_HEX;
          memcpy(bt, t, sizeof t);
          break;
        }
      }
    }
  lat->kind = bk;
  double conv[3][3];
  switch (bk) {
  case KILN_LAT_SC: case KILN_LAT_FCC: case KILN_LAT_BCC:
    orient_cubic(bt, conv);
    lat->a = lat->b = lat->c =
        (sqrt(dot3(conv[0], conv[0])) + sqrt(dot3(conv[1], conv[1])) + sqrt(dot3(conv[2], conv[2]))) / 3;
    break;
  case KILN_LAT_TET: case KILN_LAT_BCT:
    orient_tet(bt, bic, conv);
    lat->a = lat->b = 0.5 * (sqrt(dot3(conv[0], conv[0])) + sqrt(dot3(conv[1], conv[1])));
    lat->c = sqrt(dot3(conv[2], conv[2]));
    break;
  case KILN_LAT_ORC:
    orient_orc(bt, conv);
    lat->a = sqrt(dot3(conv[0], conv[0]));
    lat->b = sqrt(dot3(conv[1], conv[1]));
    lat->c = sqrt(dot3(conv[2], conv[2]));
    break;
  case KILN_LAT_HEX:
    orient_hex(bt[0], bt[1], bt[2], conv);
    lat->a = lat->b = 0.5 * (sqrt(dot3(conv[0], conv[0])) + sqrt(dot3(conv[1], conv[1])));
    lat->c = sqrt(dot3(conv[2], conv[2]));
    break;
  default:
    memcpy(conv, P, sizeof conv);
    lat->a = sqrt(dot3(P[0], P[0]));
    lat->b = sqrt(dot3(P[1], P[1]));
    lat->c = sqrt(dot3(P[2], P[2]));
  }
  memcpy(lat->conv, conv, sizeof conv);
}

/* ------------------------------------------------------------------ detection */
static kiln_status detect(const kiln_atoms *a, double tol, kiln_lattice *lat, kiln_error *err);

kiln_status kiln_lattice_detect(const kiln_atoms *a, double tol, kiln_lattice *lat,
                                kiln_error *err) {
  if (tol > 0) return detect(a, tol, lat, err);
  /* default: 0.25 Å, then 0.5 Å when nothing was found (thermal snapshots) */
  kiln_status st = detect(a, 0.25, lat, err);
  if (st || lat->ncells > 1 || a->n < 2) return st;
  double h[3];
  kiln_cell_heights(a->cell, h);
  if (0.5 >= 0.25 * fmin(h[0], fmin(h[1], h[2]))) return st;
  kiln_lattice wide;
  kiln_error e2;
  if (detect(a, 0.5, &wide, &e2) == KILN_OK && wide.ncells > 1) *lat = wide;
  return KILN_OK;
}

static kiln_status detect(const kiln_atoms *a, double tol, kiln_lattice *lat, kiln_error *err) {
  memset(lat, 0, sizeof *lat);
  if (!a || a->n == 0) return KILN_FAIL(err, KILN_EINVAL, "lattice detection: no atoms");
  if (!(a->pbc[0] && a->pbc[1] && a->pbc[2]))
    return KILN_FAIL(err, KILN_EINVAL,
                     "lattice detection needs a cell periodic in all 3 directions (pbc is %d %d %d)",
                     a->pbc[0], a->pbc[1], a->pbc[2]);
  double inv[3][3], h[3];
  kiln_status st = kiln_cell_inverse(a->cell, inv, err);
  if (st) return st;
  kiln_cell_heights(a->cell, h);
  double hmin = fmin(h[0], fmin(h[1], h[2]));
  if (!isfinite(tol) || tol >= 0.25 * hmin)
    return KILN_FAIL(err, KILN_EINVAL,
                     "lattice detection: tolerance %g Å must be below a quarter of the smallest "
                     "cell height (%g Å)", tol, hmin);
  size_t n = a->n;
  long cnt[KILN_MAX_SPECIES] = {0};
  for (size_t i = 0; i < n; i++) {
    if (a->type[i] < 0 || a->type[i] >= KILN_MAX_SPECIES)
      return KILN_FAIL(err, KILN_EINVAL, "lattice detection: atom %zu has invalid type %d", i + 1,
                       (int)a->type[i]);
    cnt[a->type[i]]++;
  }
  int ref = -1;
  for (int t = 0; t < KILN_MAX_SPECIES; t++)
    if (cnt[t] > 0 && (ref < 0 || cnt[t] < cnt[ref])) ref = t;
  long long D = cnt[ref];

  grid g = {.a = a, .tol2 = tol * tol};
  g.s = malloc(n * sizeof *g.s);
  g.idx = malloc(n * sizeof *g.idx);
  cand *c = malloc((size_t)D * sizeof *c);
  double spacing = cbrt(fabs(det3m(a->cell)) / (double)n);
  size_t nb = 1;
  for (int d = 0; d < 3; d++) {
    double m = floor(h[d] / spacing);
    double mmax = floor(h[d] / (1.5 * tol));  /* bins at least as wide as the loose tolerance */
    if (m > mmax) m = mmax;
    if (m > 256) m = 256;
    if (m < 1) m = 1;
    g.m[d] = (int)m;
    nb *= (size_t)g.m[d];
  }
  g.start = calloc(nb + 1, sizeof *g.start);
  if (!g.s || !g.idx || !c || !g.start) {
    st = KILN_FAIL(err, KILN_ENOMEM, "lattice detection: out of memory for %zu atoms", n);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    for (int d = 0; d < 3; d++) {
      double s = a->x[i][0] * inv[0][d] + a->x[i][1] * inv[1][d] + a->x[i][2] * inv[2][d];
      s -= floor(s);
      if (s >= 1.0) s = 0.0;
      g.s[i][d] = s;
    }
  }
  for (size_t i = 0; i < n; i++) {
    size_t b = ((size_t)bin1(g.s[i][0], g.m[0]) * (size_t)g.m[1] + (size_t)bin1(g.s[i][1], g.m[1])) *
                   (size_t)g.m[2] + (size_t)bin1(g.s[i][2], g.m[2]);
    g.start[b + 1]++;
  }
  for (size_t b = 0; b < nb; b++) g.start[b + 1] += g.start[b];
  {
    size_t *fill = malloc(nb * sizeof *fill);
    if (!fill) {
      st = KILN_FAIL(err, KILN_ENOMEM, "lattice detection: out of memory for %zu bins", nb);
      goto done;
    }
    memcpy(fill, g.start, nb * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
      size_t b = ((size_t)bin1(g.s[i][0], g.m[0]) * (size_t)g.m[1] + (size_t)bin1(g.s[i][1], g.m[1])) *
                     (size_t)g.m[2] + (size_t)bin1(g.s[i][2], g.m[2]);
      g.idx[fill[b]++] = i;
    }
    free(fill);
  }
  /* candidates r_j - r_0 over atoms of the reference species (minimum image) */
  size_t r0 = 0;
  while (a->type[r0] != ref) r0++;
  size_t nc = 0;
  for (size_t j = 0; j < n; j++) {
    if (a->type[j] != ref || j == r0) continue;
    double f[3], dx[3];
    for (int d = 0; d < 3; d++) {
      f[d] = g.s[j][d] - g.s[r0][d];
      f[d] -= nearbyint(f[d]);
    }
    for (int d = 0; d < 3; d++)
      dx[d] = f[0] * a->cell[0][d] + f[1] * a->cell[1][d] + f[2] * a->cell[2][d];
    c[nc].len2 = dot3(dx, dx);
    memcpy(c[nc].f, f, sizeof f);
    nc++;
  }
  qsort(c, nc, sizeof *c, cand_cmp);
  /* The translation lattice: exact integer HNF (multiples of 1/D) plus a
   * reduced Cartesian basis B with inverse Binv for tolerant membership tests. */
  long long H[3][3] = {{D, 0, 0}, {0, D, 0}, {0, 0, D}};
  double B[3][3], Binv[3][3];
  memcpy(B, a->cell, sizeof B);
  reduce_basis(B);
  if ((st = kiln_cell_inverse(B, Binv, err))) goto done;
  for (size_t k = 0; k < nc; k++) {
    /* already in the lattice (nearest lattice point within tol)? */
    double x[3], cc[3], r[3];
    for (int d = 0; d < 3; d++)
      x[d] = c[k].f[0] * a->cell[0][d] + c[k].f[1] * a->cell[1][d] + c[k].f[2] * a->cell[2][d];
    for (int j = 0; j < 3; j++)
      cc[j] = nearbyint(x[0] * Binv[0][j] + x[1] * Binv[1][j] + x[2] * Binv[2][j]);
    for (int d = 0; d < 3; d++) r[d] = x[d] - cc[0] * B[0][d] - cc[1] * B[1][d] - cc[2] * B[2][d];
    if (dot3(r, r) <= g.tol2) continue;
    double t[3] = {c[k].f[0], c[k].f[1], c[k].f[2]};
    if (!maps(&g, t)) continue;
    long long v[3];
    double res[3];
    for (int d = 0; d < 3; d++) {
      double kk = nearbyint(t[d] * (double)D);
      res[d] = t[d] - kk / (double)D;
      v[d] = ((long long)kk % D + D) % D;
    }
    for (int d = 0; d < 3; d++)
      r[d] = res[0] * a->cell[0][d] + res[1] * a->cell[1][d] + res[2] * a->cell[2][d];
    if (dot3(r, r) > 0.25 * g.tol2 || hnf_member(H, v)) continue;
    hnf_add(H, v, D);
    for (int i = 0; i < 3; i++)
      for (int d = 0; d < 3; d++) {
        B[i][d] = 0;
        for (int j = 0; j < 3; j++) B[i][d] += (double)H[i][j] / (double)D * a->cell[j][d];
      }
    reduce_basis(B);
    if ((st = kiln_cell_inverse(B, Binv, err))) goto done;
  }
  /* each diagonal entry divides D (D e_i is in the lattice) */
  long long ncells = (D / H[0][0]) * (D / H[1][1]) * (D / H[2][2]);
  if (ncells <= 0 || (long long)n % ncells != 0) {
    st = KILN_FAIL(err, KILN_EINVAL,
                   "lattice detection: found %lld lattice translations, but %zu atoms are not a "
                   "multiple of that (tolerance %g Å too large?)", ncells, n, tol);
    goto done;
  }
  double P[3][3];
  for (int i = 0; i < 3; i++)
    for (int d = 0; d < 3; d++) {
      P[i][d] = 0;
      for (int j = 0; j < 3; j++) P[i][d] += (double)H[i][j] / (double)D * a->cell[j][d];
    }
  reduce_basis(P);
  memcpy(lat->prim, P, sizeof P);
  lat->ncells = (long)ncells;
  lat->nbasis = (long)((long long)n / ncells);
  classify(P, lat);
  st = finish(lat, err);
done:
  free(g.s);
  free(g.idx);
  free(g.start);
  free(c);
  return st;
}
