/* tests/c/test_neigh.c: neighbor lists against brute force over lattice images. */
#include <omp.h>
#include <stdlib.h>
#include "check.h"
#include "kiln/kiln.h"

/* a pair seen from atom i: neighbor atom j shifted by lattice vector n */
typedef struct { int32_t i, j, n0, n1, n2; } pair_t;

static int cmp_pair(const void *pa, const void *pb) {
  const pair_t *a = pa, *b = pb;
  if (a->i != b->i) return a->i < b->i ? -1 : 1;
  if (a->j != b->j) return a->j < b->j ? -1 : 1;
  if (a->n0 != b->n0) return a->n0 < b->n0 ? -1 : 1;
  if (a->n1 != b->n1) return a->n1 < b->n1 ? -1 : 1;
  if (a->n2 != b->n2) return a->n2 < b->n2 ? -1 : 1;
  return 0;
}

/* the same physical pair written once: i < j, or i == j with a lexicographically
 * positive shift */
static pair_t canon(pair_t p) {
  int flip = p.i > p.j;
  if (p.i == p.j) flip = p.n0 < 0 || (p.n0 == 0 && (p.n1 < 0 || (p.n1 == 0 && p.n2 < 0)));
  if (flip) {
    pair_t q = {p.j, p.i, -p.n0, -p.n1, -p.n2};
    return q;
  }
  return p;
}

static double heightof(const double c[3][3], int d) {
  const double *a = c[(d + 1) % 3], *b = c[(d + 2) % 3];
  double x[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
  double vol = fabs(c[d][0] * x[0] + c[d][1] * x[1] + c[d][2] * x[2]);
  return vol / sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
}

/* all (i, j, n) with |x_j + n.cell - x_i| < rc, excluding i == j, n == 0. Fractional
 * positions must lie within -0.5 .. 1.5. Returns the count, fills *out (malloc). */
static size_t brute(const kiln_atoms *a, double rc, pair_t **out) {
  int M[3];
  for (int d = 0; d < 3; d++) {
    double h = heightof(a->cell, d);
    M[d] = !a->pbc[d] ? 0 : h > 0 ? (int)ceil(rc / h) + 3 : 6;
  }
  size_t cap = 1024, np = 0;
  pair_t *v = malloc(cap * sizeof *v);
  for (size_t i = 0; i < a->n; i++)
    for (size_t j = 0; j < a->n; j++)
      for (int n0 = -M[0]; n0 <= M[0]; n0++)
        for (int n1 = -M[1]; n1 <= M[1]; n1++)
          for (int n2 = -M[2]; n2 <= M[2]; n2++) {
            if (i == j && !n0 && !n1 && !n2) continue;
            double r2 = 0;
            for (int c = 0; c < 3; c++) {
              double d = a->x[j][c] + n0 * a->cell[0][c] + n1 * a->cell[1][c] +
                         n2 * a->cell[2][c] - a->x[i][c];
              r2 += d * d;
            }
            if (r2 >= rc * rc) continue;
            if (np == cap) v = realloc(v, (cap *= 2) * sizeof *v);
            pair_t p = {(int32_t)i, (int32_t)j, n0, n1, n2};
            v[np++] = p;
          }
  qsort(v, np, sizeof *v, cmp_pair);
  *out = v;
  return np;
}

/* entries of the list as (i, owner, relative image) */
static size_t from_list(const kiln_neigh *nl, int half_only, pair_t **out) {
  size_t np = 0;
  pair_t *v = malloc((nl->offset[nl->n] + 1) * sizeof *v);
  for (size_t i = 0; i < nl->n; i++) {
    size_t end = half_only ? nl->offset[i] + (size_t)nl->nhalf[i] : nl->offset[i + 1];
    for (size_t q = nl->offset[i]; q < end; q++) {
      int32_t j = nl->index[q];
      pair_t p = {(int32_t)i, nl->owner[j], nl->img[j][0] - nl->img[i][0],
                  nl->img[j][1] - nl->img[i][1], nl->img[j][2] - nl->img[i][2]};
      v[np++] = p;
    }
  }
  *out = v;
  return np;
}

static int same_pairs(pair_t *a, size_t na, pair_t *b, size_t nb) {
  if (na != nb) return 0;
  qsort(a, na, sizeof *a, cmp_pair);
  qsort(b, nb, sizeof *b, cmp_pair);
  for (size_t k = 0; k < na; k++)
    if (cmp_pair(a + k, b + k)) return 0;
  return 1;
}

static double uni(kiln_rng *r, double lo, double hi) { return lo + (hi - lo) * kiln_rng_uniform(r); }

/* random triclinic cell with given edge scale and random positions (fractional -0.4..1.4
 * along periodic directions, so that wrapping is exercised) */
static kiln_atoms *random_atoms(kiln_rng *r, size_t n, double L, const int pbc[3]) {
  kiln_error err;
  kiln_atoms *a;
  if (kiln_atoms_new(&a, n, &err)) return NULL;
  double cell[3][3] = {{L * uni(r, 0.8, 1.2), 0, 0},
                       {L * uni(r, -0.4, 0.4), L * uni(r, 0.8, 1.2), 0},
                       {L * uni(r, -0.4, 0.4), L * uni(r, -0.4, 0.4), L * uni(r, 0.8, 1.2)}};
  /* rotate a little so no vector is axis-aligned */
  double th = uni(r, 0, 1), c = cos(th), s = sin(th);
  for (int k = 0; k < 3; k++) {
    double x = cell[k][0], y = cell[k][1];
    cell[k][0] = c * x - s * y;
    cell[k][1] = s * x + c * y;
  }
  memcpy(a->cell, cell, sizeof cell);
  for (int d = 0; d < 3; d++) a->pbc[d] = pbc[d];
  for (size_t i = 0; i < n; i++) {
    double f[3];
    for (int d = 0; d < 3; d++) f[d] = pbc[d] ? uni(r, -0.4, 1.4) : uni(r, 0, 1);
    for (int c2 = 0; c2 < 3; c2++)
      a->x[i][c2] = f[0] * cell[0][c2] + f[1] * cell[1][c2] + f[2] * cell[2][c2];
  }
  return a;
}

/* full structural checks of one list against brute force at radius rc (bref/nbref: a
 * precomputed brute(a, rc) result, or NULL to compute it here) */
static void check_list_ref(const kiln_neigh *nl, const kiln_atoms *a, double rc, const char *tag,
                           const pair_t *bref, size_t nbref) {
  pair_t *ref, *got;
  size_t nref;
  if (bref) {
    nref = nbref;
    ref = malloc((nref + 1) * sizeof *ref);
    memcpy(ref, bref, nref * sizeof *ref);
  } else {
    nref = brute(a, rc, &ref);
  }
  /* xe consistent with owner/img; locals own themselves */
  int bad = 0;
  for (size_t k = 0; k < nl->n + nl->ng; k++) {
    if (k < nl->n && nl->owner[k] != (int32_t)k) bad++;
    for (int c = 0; c < 3; c++) {
      double x = a->x[nl->owner[k]][c] + nl->img[k][0] * a->cell[0][c] +
                 nl->img[k][1] * a->cell[1][c] + nl->img[k][2] * a->cell[2][c];
      if (x != nl->xe[k][c]) bad++;
    }
    for (int d = 0; d < 3; d++)
      if (!a->pbc[d] && nl->img[k][d] != 0) bad++;
  }
  CHECK(bad == 0);
  /* rows sorted within the half part and the rest, entries within rc, half criterion */
  int unsorted = 0, far = 0, crit = 0;
  for (size_t i = 0; i < nl->n; i++) {
    size_t b = nl->offset[i], h = b + (size_t)nl->nhalf[i], e = nl->offset[i + 1];
    for (size_t q = b; q < e; q++) {
      int32_t j = nl->index[q];
      if (q + 1 < e && q + 1 != h && nl->index[q + 1] <= j) unsorted++;
      double r2 = 0;
      for (int c = 0; c < 3; c++) r2 += (nl->xe[j][c] - nl->xe[i][c]) * (nl->xe[j][c] - nl->xe[i][c]);
      if (r2 >= rc * rc) far++;
      pair_t p = {(int32_t)i, nl->owner[j], nl->img[j][0] - nl->img[i][0],
                  nl->img[j][1] - nl->img[i][1], nl->img[j][2] - nl->img[i][2]};
      pair_t cp = canon(p);
      int is_half = cp.i == p.i && cp.j == p.j && cp.n0 == p.n0 && cp.n1 == p.n1 && cp.n2 == p.n2;
      if (is_half != (q < h)) crit++;
    }
  }
  CHECK(unsorted == 0);
  CHECK(far == 0);
  CHECK(crit == 0);
  if (nl->kind == KILN_NEIGH_FULL) {
    size_t ngot = from_list(nl, 0, &got);
    int ok = same_pairs(ref, nref, got, ngot);
    if (!ok) fprintf(stderr, "  %s: full list %zu entries, brute force %zu\n", tag, ngot, nref);
    CHECK(ok);
    free(got);
  }
  /* half list (or half part): the canonical pairs, each once */
  size_t ngot = from_list(nl, 1, &got);
  size_t nc = 0;
  for (size_t k = 0; k < nref; k++) {
    pair_t c = canon(ref[k]);
    if (!cmp_pair(&c, ref + k)) ref[nc++] = c;
  }
  int ok = same_pairs(ref, nc, got, ngot);
  if (!ok) fprintf(stderr, "  %s: half list %zu entries, brute force %zu\n", tag, ngot, nc);
  CHECK(ok);
  free(got);
  free(ref);
}

static void check_list(const kiln_neigh *nl, const kiln_atoms *a, double rc, const char *tag) {
  check_list_ref(nl, a, rc, tag, NULL, 0);
}

TEST(test_brute_all_pbc) {
  kiln_error err;
  kiln_rng r;
  kiln_rng_seed(&r, 7, 0);
  long total = 0;
  for (int mask = 0; mask < 8; mask++) {
    const int pbc[3] = {mask & 1, (mask >> 1) & 1, (mask >> 2) & 1};
    /* cell edge relative to rc: large (binned), ~rc, well below rc */
    const double Ls[3] = {9.0, 3.2, 1.3};
    const size_t ns[3] = {60, 12, 3};
    for (int c = 0; c < 3; c++) {
      kiln_atoms *a = random_atoms(&r, ns[c], Ls[c], pbc);
      pair_t *bref;
      size_t nbref = brute(a, 3.0, &bref);
      for (int kind = 1; kind <= 2; kind++)
        for (int n2 = 0; n2 < 2; n2++) {
          kiln_neigh *nl;
          CHECK_OK(kiln_neigh_new(&nl, kind, 2.5, 0.5, &err));
          nl->force_n2 = n2;
          CHECK_OK(kiln_neigh_build(nl, a, &err));
          char tag[64];
          snprintf(tag, sizeof tag, "pbc %d%d%d L %g kind %d n2 %d", pbc[0], pbc[1], pbc[2],
                   Ls[c], kind, n2);
          check_list_ref(nl, a, 3.0, tag, bref, nbref);
          total += (long)nl->offset[nl->n];
          kiln_neigh_free(nl);
        }
      free(bref);
      kiln_atoms_free(a);
    }
  }
  CHECK(total > 1000);
}

/* many bins: a larger random system, binned vs O(N^2) vs brute force */
TEST(test_large_binned) {
  kiln_error err;
  kiln_rng r;
  kiln_rng_seed(&r, 11, 0);
  const int pbc[3] = {1, 1, 1};
  kiln_atoms *a = random_atoms(&r, 300, 13.0, pbc);
  kiln_neigh *nl, *n2;
  CHECK_OK(kiln_neigh_new(&nl, KILN_NEIGH_FULL, 2.0, 0.3, &err));
  CHECK_OK(kiln_neigh_new(&n2, KILN_NEIGH_FULL, 2.0, 0.3, &err));
  n2->force_n2 = 1;
  CHECK_OK(kiln_neigh_build(nl, a, &err));
  CHECK_OK(kiln_neigh_build(n2, a, &err));
  check_list(nl, a, 2.3, "large");
  CHECK(nl->offset[nl->n] == n2->offset[n2->n]);
  CHECK(nl->ng == n2->ng);
  int same = 1;
  for (size_t q = 0; q < nl->offset[nl->n]; q++) same &= nl->index[q] == n2->index[q];
  CHECK(same);
  kiln_neigh_free(nl);
  kiln_neigh_free(n2);
  /* mixed pbc with a non-periodic direction whose cell vector is zero */
  const int pbc2[3] = {1, 0, 1};
  kiln_atoms *b = random_atoms(&r, 200, 12.0, pbc2);
  for (int c = 0; c < 3; c++) b->cell[1][c] = 0;
  CHECK_OK(kiln_neigh_new(&nl, KILN_NEIGH_HALF, 2.0, 0.3, &err));
  CHECK_OK(kiln_neigh_build(nl, b, &err));
  check_list(nl, b, 2.3, "zero b");
  kiln_neigh_free(nl);
  /* no pbc, no cell at all */
  const int pbc0[3] = {0, 0, 0};
  kiln_atoms *c0 = random_atoms(&r, 300, 12.0, pbc0);
  memset(c0->cell, 0, sizeof c0->cell);
  CHECK_OK(kiln_neigh_new(&nl, KILN_NEIGH_FULL, 2.0, 0.3, &err));
  CHECK_OK(kiln_neigh_build(nl, c0, &err));
  CHECK(nl->ng == 0);
  check_list(nl, c0, 2.3, "no cell");
  kiln_neigh_free(nl);
  kiln_atoms_free(a);
  kiln_atoms_free(b);
  kiln_atoms_free(c0);
}

/* the threaded build (search above 4096 extended atoms; wrapping, ghost images and the
 * row scatter above 4096 local atoms) gives the same list and ghosts as one thread and as
 * the O(N^2) search */
TEST(test_threads) {
  kiln_error err;
  kiln_rng r;
  kiln_rng_seed(&r, 13, 0);
  const int pbc[3] = {1, 0, 1};
  kiln_atoms *a = random_atoms(&r, 5000, 28.5, pbc);
  int nt = omp_get_max_threads();
  for (int kind = 1; kind <= 2; kind++) {
    kiln_neigh *l1, *l2;
    CHECK_OK(kiln_neigh_new(&l1, kind, 3.0, 0.4, &err));
    CHECK_OK(kiln_neigh_new(&l2, kind, 3.0, 0.4, &err));
    l1->force_n2 = 1;
    omp_set_num_threads(1);
    CHECK_OK(kiln_neigh_build(l1, a, &err));
    omp_set_num_threads(2);
    CHECK_OK(kiln_neigh_build(l2, a, &err));
    CHECK_OK(kiln_neigh_build(l2, a, &err)); /* again, reusing the buffers */
    CHECK(l1->n > 4096);
    CHECK(l1->offset[l1->n] == l2->offset[l2->n] && l1->offset[l1->n] > 10000);
    int same = l1->ng == l2->ng;
    for (size_t i = 0; same && i <= l1->n; i++) same = l1->offset[i] == l2->offset[i];
    for (size_t i = 0; same && i < l1->n; i++) same = l1->nhalf[i] == l2->nhalf[i];
    for (size_t q = 0; same && q < l1->offset[l1->n]; q++) same = l1->index[q] == l2->index[q];
    CHECK(same);
    int same_ghosts = l1->ng == l2->ng;
    for (size_t k = 0; same_ghosts && k < l1->n + l1->ng; k++)
      same_ghosts = l1->owner[k] == l2->owner[k] && !memcmp(l1->img[k], l2->img[k], sizeof l1->img[k]) &&
                    !memcmp(l1->xe[k], l2->xe[k], sizeof l1->xe[k]);
    CHECK(same_ghosts);
    kiln_neigh_free(l1);
    kiln_neigh_free(l2);
  }
  omp_set_num_threads(nt);
  kiln_atoms_free(a);
}

/* a single atom in a cell much smaller than the cutoff: its own images */
TEST(test_one_atom_tiny_cell) {
  kiln_error err;
  kiln_atoms *a;
  CHECK_OK(kiln_atoms_new(&a, 1, &err));
  double cell[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  memcpy(a->cell, cell, sizeof cell);
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  kiln_neigh *nl;
  CHECK_OK(kiln_neigh_new(&nl, KILN_NEIGH_FULL, 1.8, 0.0, &err));
  CHECK_OK(kiln_neigh_build(nl, a, &err));
  /* lattice points with 0 < |n| < 1.8: 6 (|n|=1) + 12 (sqrt 2) + 8 (sqrt 3) = 26 */
  CHECK(nl->offset[1] == 26);
  CHECK(nl->nhalf[0] == 13);
  kiln_neigh_free(nl);
  kiln_atoms_free(a);
}

TEST(test_skin_rebuild) {
  kiln_error err;
  kiln_rng r;
  kiln_rng_seed(&r, 5, 0);
  const int pbc[3] = {1, 1, 1};
  kiln_atoms *a = random_atoms(&r, 80, 8.0, pbc);
  kiln_neigh *nl;
  const double skin = 0.4;
  CHECK_OK(kiln_neigh_new(&nl, KILN_NEIGH_FULL, 2.0, skin, &err));
  int rebuilt = -1;
  CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
  CHECK(rebuilt == 1 && nl->nbuilds == 1);
  /* every atom moves by < skin/2 in a random direction: no rebuild, list still valid
   * at the bare cutoff */
  for (size_t i = 0; i < a->n; i++) {
    double d[3] = {kiln_rng_normal(&r), kiln_rng_normal(&r), kiln_rng_normal(&r)};
    double s = 0.49 * skin / sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    for (int c = 0; c < 3; c++) a->x[i][c] += s * d[c];
  }
  CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
  CHECK(rebuilt == 0 && nl->nbuilds == 1);
  /* every pair within the bare cutoff is still listed; xe follows the atoms */
  pair_t *ref, *got;
  size_t nref = brute(a, 2.0, &ref), ngot = from_list(nl, 0, &got);
  size_t found = 0;
  qsort(got, ngot, sizeof *got, cmp_pair);
  for (size_t k = 0; k < nref; k++)
    found += bsearch(ref + k, got, ngot, sizeof *got, cmp_pair) != NULL;
  CHECK(found == nref);
  free(ref);
  free(got);
  int bad = 0;
  for (size_t k = 0; k < nl->n + nl->ng; k++)
    for (int c = 0; c < 3; c++) {
      double x = a->x[nl->owner[k]][c] + nl->img[k][0] * a->cell[0][c] +
                 nl->img[k][1] * a->cell[1][c] + nl->img[k][2] * a->cell[2][c];
      bad += x != nl->xe[k][c];
    }
  CHECK(bad == 0);
  /* one atom beyond skin/2 from its build position: rebuild */
  a->x[3][0] += 1.1 * skin;
  CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
  CHECK(rebuilt == 1 && nl->nbuilds == 2);
  check_list(nl, a, 2.4, "after rebuild");
  CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
  CHECK(rebuilt == 0);
  /* a small cell change keeps the list (the deformation bound, see test_cell_deform);
   * a large one rebuilds */
  a->cell[0][0] *= 1.001;
  CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
  CHECK(rebuilt == 0 && nl->nbuilds == 2);
  a->cell[0][0] *= 1.2;
  CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
  CHECK(rebuilt == 1 && nl->nbuilds == 3);
  check_list(nl, a, 2.4, "after a large cell change");
  /* generation change, pbc change, invalidate */
  a->generation++;
  CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
  CHECK(rebuilt == 1);
  a->pbc[2] = 0;
  CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
  CHECK(rebuilt == 1);
  check_list(nl, a, 2.4, "pbc 110");
  kiln_neigh_invalidate(nl);
  CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
  CHECK(rebuilt == 1 && nl->nbuilds == 6);
  /* atom count change */
  CHECK_OK(kiln_atoms_resize(a, 60, &err));
  CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
  CHECK(rebuilt == 1 && nl->n == 60);
  check_list(nl, a, 2.4, "resized");
  kiln_neigh_free(nl);
  kiln_atoms_free(a);
}

/* pairs of the list closer than r now (from the current xe), sorted; half_only: the half
 * part of each row */
static size_t list_within(const kiln_neigh *nl, int half_only, double r, pair_t **out) {
  pair_t *v;
  size_t nall = from_list(nl, half_only, &v), np = 0, k = 0;
  for (size_t i = 0; i < nl->n; i++) {
    size_t end = half_only ? nl->offset[i] + (size_t)nl->nhalf[i] : nl->offset[i + 1];
    for (size_t q = nl->offset[i]; q < end; q++, k++) {
      int32_t j = nl->index[q];
      double r2 = 0;
      for (int c = 0; c < 3; c++) r2 += (nl->xe[j][c] - nl->xe[i][c]) * (nl->xe[j][c] - nl->xe[i][c]);
      if (r2 < r * r) v[np++] = v[k];
    }
  }
  (void)nall;
  qsort(v, np, sizeof *v, cmp_pair);
  *out = v;
  return np;
}

/* The list kept across a cell change holds exactly the pairs within the cutoff of a fresh
 * build and of brute force; xe follows the atoms and the new cell. */
static int kept_list_exact(const kiln_neigh *nl, const kiln_atoms *a, const char *tag) {
  kiln_error err;
  const double rc = nl->cutoff;
  int bad = 0;
  for (size_t k = 0; k < nl->n + nl->ng; k++)
    for (int c = 0; c < 3; c++) {
      double x = a->x[nl->owner[k]][c] + nl->img[k][0] * a->cell[0][c] +
                 nl->img[k][1] * a->cell[1][c] + nl->img[k][2] * a->cell[2][c];
      bad += x != nl->xe[k][c];
    }
  /* brute force (full, and its canonical half) */
  pair_t *ref, *got, *fr;
  size_t nref = brute(a, rc, &ref);
  const int half = nl->kind == KILN_NEIGH_HALF;
  if (half) {
    size_t nc = 0;
    for (size_t k = 0; k < nref; k++) {
      pair_t c = canon(ref[k]);
      if (!cmp_pair(&c, ref + k)) ref[nc++] = c;
    }
    nref = nc;
  }
  size_t ngot = list_within(nl, half, rc, &got);
  int ok = same_pairs(ref, nref, got, ngot);
  /* a fresh O(N^2) build of the same kind, cut to rc */
  kiln_neigh *f;
  if (kiln_neigh_new(&f, nl->kind, nl->cutoff, nl->skin, &err)) return 0;
  f->force_n2 = 1;
  size_t nfr = 0;
  if (!kiln_neigh_build(f, a, &err)) {
    nfr = list_within(f, half, rc, &fr);
    ok &= same_pairs(fr, nfr, got, ngot);
    free(fr);
  } else {
    ok = 0;
  }
  kiln_neigh_free(f);
  if (!ok || bad)
    fprintf(stderr, "  %s: kept list %zu pairs within rc, brute force %zu, fresh %zu, xe bad %d\n",
            tag, ngot, nref, nfr, bad);
  free(ref);
  free(got);
  return ok && !bad;
}

/* x -> x F and cell -> cell F (rows are vectors) */
static void deform(kiln_atoms *a, const double F[3][3]) {
  for (size_t i = 0; i <= a->n; i++) {
    double *v = i < a->n ? a->x[i] : NULL;
    for (int k = 0; k < (v ? 1 : 3); k++) {
      double *w = v ? v : a->cell[k];
      double y[3];
      for (int c = 0; c < 3; c++) y[c] = w[0] * F[0][c] + w[1] * F[1][c] + w[2] * F[2][c];
      memcpy(w, y, sizeof y);
    }
  }
}

/* a random deformation gradient I + eps*(iso + shear) with ||F - I|| about eps */
static void random_F(kiln_rng *r, double eps, int shear, double F[3][3]) {
  double iso = uni(r, -1, 1);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      F[i][j] = (i == j) + eps * (shear ? uni(r, -0.6, 0.6) : 0) + (i == j ? eps * iso * 0.6 : 0);
}

/* Small random iso and shear deformations of a triclinic cell with thermal displacements:
 * no rebuild, and the kept list is exactly right at the cutoff after every step; a large
 * deformation rebuilds. Small cells (several ghost layers) and mixed pbc included. */
TEST(test_cell_deform) {
  kiln_error err;
  kiln_rng r;
  kiln_rng_seed(&r, 17, 0);
  const double cutoff = 2.5, skin = 0.5;
  struct { int pbc[3]; double L; size_t n; } cases[] = {
      {{1, 1, 1}, 7.0, 90}, {{1, 1, 1}, 2.2, 4}, {{1, 1, 0}, 6.0, 50}, {{1, 0, 0}, 4.0, 20}};
  int steps_ok = 0, nsteps = 0;
  for (size_t cs = 0; cs < sizeof cases / sizeof *cases; cs++)
    for (int kind = 1; kind <= 2; kind++) {
      kiln_atoms *a = random_atoms(&r, cases[cs].n, cases[cs].L, cases[cs].pbc);
      kiln_neigh *nl;
      CHECK_OK(kiln_neigh_new(&nl, kind, cutoff, skin, &err));
      int rebuilt = -1;
      CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
      CHECK(rebuilt == 1);
      /* 12 steps, each straining by up to ~2e-3 and moving atoms by up to 0.01 A: after
       * them e (cutoff+skin)/2 + max|u| stays well inside skin/2 = 0.25 */
      for (int step = 0; step < 12; step++) {
        double F[3][3];
        random_F(&r, 2e-3, step % 3 != 0, F);
        deform(a, F);
        for (size_t i = 0; i < a->n; i++)
          for (int c = 0; c < 3; c++) a->x[i][c] += uni(&r, -0.006, 0.006);
        CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
        char tag[96];
        snprintf(tag, sizeof tag, "case %zu kind %d step %d", cs, kind, step);
        nsteps++;
        steps_ok += rebuilt == 0 && kept_list_exact(nl, a, tag);
      }
      CHECK(nl->nbuilds == 1);
      /* a shear of 0.25 > skin / (cutoff + skin): rebuild, and the new list is right at
       * cutoff+skin */
      double G[3][3] = {{1, 0, 0}, {0.25, 1, 0}, {0, 0, 1}};
      deform(a, G);
      CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
      CHECK(rebuilt == 1 && nl->nbuilds == 2);
      check_list(nl, a, cutoff + skin, "after a large shear");
      kiln_neigh_free(nl);
      kiln_atoms_free(a);
    }
  CHECK(steps_ok == nsteps && nsteps == 96);
}

/* Near the limit of the bound: random deformations (strains up to ~0.3, so e (cutoff+skin)
 * runs from 0 to beyond the skin) and displacements up to 0.3 A (skin/2), or none. Whenever
 * the list is kept it is exact at the cutoff; both outcomes occur often. */
TEST(test_cell_deform_limit) {
  kiln_error err;
  kiln_rng r;
  kiln_rng_seed(&r, 23, 0);
  const double cutoff = 2.0, skin = 0.6;
  int kept = 0, rebuilt_n = 0, exact = 0;
  for (int trial = 0; trial < 60; trial++) {
    const int pbc[3] = {1, 1, trial % 4 != 3};
    kiln_atoms *a = random_atoms(&r, trial % 2 ? 40 : 6, trial % 2 ? 5.5 : 2.0, pbc);
    kiln_neigh *nl;
    CHECK_OK(kiln_neigh_new(&nl, 1 + trial % 2, cutoff, skin, &err));
    CHECK_OK(kiln_neigh_build(nl, a, &err));
    double F[3][3];
    random_F(&r, uni(&r, 0, 0.3), 1, F);
    deform(a, F);
    double amp = trial % 3 ? uni(&r, 0, 0.3) : 0.0;
    for (size_t i = 0; i < a->n; i++) {
      double d[3] = {kiln_rng_normal(&r), kiln_rng_normal(&r), kiln_rng_normal(&r)};
      double s = amp / sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
      for (int c = 0; c < 3; c++) a->x[i][c] += s * d[c];
    }
    int rebuilt = -1;
    CHECK_OK(kiln_neigh_update(nl, a, &rebuilt, &err));
    if (rebuilt) {
      rebuilt_n++;
    } else {
      char tag[64];
      snprintf(tag, sizeof tag, "limit trial %d", trial);
      kept++;
      exact += kept_list_exact(nl, a, tag);
    }
    kiln_neigh_free(nl);
    kiln_atoms_free(a);
  }
  CHECK(exact == kept);
  if (!(kept >= 10 && rebuilt_n >= 10)) fprintf(stderr, "  kept %d rebuilt %d\n", kept, rebuilt_n);
  CHECK(kept >= 10 && rebuilt_n >= 10);
}

/* Restoring a list from saved reference positions and the reference cell
 * (kiln_neigh_build_from_cell) after the cell changed gives the same list as the
 * original, and the same later rebuild decisions. */
TEST(test_build_from_cell) {
  kiln_error err;
  kiln_rng r;
  kiln_rng_seed(&r, 29, 0);
  const int pbc[3] = {1, 1, 1};
  kiln_atoms *a = random_atoms(&r, 70, 6.5, pbc);
  kiln_neigh *l1, *l2;
  CHECK_OK(kiln_neigh_new(&l1, KILN_NEIGH_FULL, 2.2, 0.4, &err));
  CHECK_OK(kiln_neigh_new(&l2, KILN_NEIGH_FULL, 2.2, 0.4, &err));
  double h0[3][3], got[3][3];
  CHECK(kiln_neigh_reference_cell(l1, got) == 0);
  memcpy(h0, a->cell, sizeof h0);
  CHECK_OK(kiln_neigh_build(l1, a, &err));
  CHECK(kiln_neigh_reference_cell(l1, got) == 1 && !memcmp(got, h0, sizeof h0));
  double F[3][3];
  random_F(&r, 3e-3, 1, F);
  deform(a, F);
  int rebuilt = -1;
  CHECK_OK(kiln_neigh_update(l1, a, &rebuilt, &err));
  CHECK(rebuilt == 0);
  size_t nref = 0;
  const double(*x0)[3] = kiln_neigh_reference(l1, &nref);
  CHECK(nref == a->n);
  double(*xr)[3] = malloc(nref * sizeof *xr);
  memcpy(xr, x0, nref * sizeof *xr);
  CHECK_OK(kiln_neigh_reference_cell(l1, got) == 1 ? KILN_OK : KILN_EINVAL);
  CHECK_OK(kiln_neigh_build_from_cell(l2, a, (const double(*)[3])xr, got, &err));
  CHECK(kiln_neigh_reference_cell(l2, got) == 1 && !memcmp(got, h0, sizeof h0));
  int same = l1->n == l2->n && l1->ng == l2->ng;
  for (size_t i = 0; same && i <= l1->n; i++) same = l1->offset[i] == l2->offset[i];
  for (size_t q = 0; same && q < l1->offset[l1->n]; q++) same = l1->index[q] == l2->index[q];
  for (size_t k = 0; same && k < l1->n + l1->ng; k++)
    same = l1->owner[k] == l2->owner[k] && !memcmp(l1->img[k], l2->img[k], sizeof l1->img[k]) &&
           !memcmp(l1->xe[k], l2->xe[k], sizeof l1->xe[k]);
  CHECK(same);
  CHECK(kept_list_exact(l2, a, "restored"));
  /* both decide alike on the next deformations */
  int agree = 1, r1 = 0, r2 = 0;
  for (int step = 0; step < 8; step++) {
    random_F(&r, 0.004, 1, F);
    deform(a, F);
    CHECK_OK(kiln_neigh_update(l1, a, &r1, &err));
    CHECK_OK(kiln_neigh_update(l2, a, &r2, &err));
    agree &= r1 == r2;
  }
  CHECK(agree && l1->nbuilds == 1 && l2->nbuilds == 1);
  double G[3][3] = {{1.3, 0, 0}, {0, 1, 0}, {0, 0.2, 1}};
  deform(a, G);
  CHECK_OK(kiln_neigh_update(l1, a, &r1, &err));
  CHECK_OK(kiln_neigh_update(l2, a, &r2, &err));
  CHECK(r1 == 1 && r2 == 1 && l1->nbuilds == 2 && l2->nbuilds == 2);
  /* without the cell (cell0 NULL) the build is in a->cell: the reference cell is that */
  CHECK_OK(kiln_neigh_build_from_cell(l2, a, (const double(*)[3])xr, NULL, &err));
  CHECK(kiln_neigh_reference_cell(l2, got) == 1 && !memcmp(got, a->cell, sizeof got));
  CHECK_ERR(kiln_neigh_build_from_cell(l1, a, kiln_neigh_reference(l1, NULL), h0, &err),
            KILN_EINVAL, "copy");
  free(xr);
  kiln_neigh_free(l1);
  kiln_neigh_free(l2);
  kiln_atoms_free(a);
}

TEST(test_fold_forward) {
  kiln_error err;
  kiln_rng r;
  kiln_rng_seed(&r, 3, 0);
  const int pbc[3] = {1, 1, 0};
  kiln_atoms *a = random_atoms(&r, 30, 4.0, pbc);
  kiln_neigh *nl;
  CHECK_OK(kiln_neigh_new(&nl, KILN_NEIGH_HALF, 2.5, 0.2, &err));
  CHECK_OK(kiln_neigh_build(nl, a, &err));
  size_t ne = nl->n + nl->ng;
  CHECK(nl->ng > nl->n);
  double *v = calloc(ne * 2, sizeof *v);
  for (size_t i = 0; i < nl->n; i++) {
    v[2 * i] = (double)i;
    v[2 * i + 1] = -2.0 * (double)i;
  }
  kiln_neigh_forward(nl, v, 2);
  int bad = 0;
  for (size_t k = 0; k < ne; k++)
    bad += v[2 * k] != nl->owner[k] || v[2 * k + 1] != -2.0 * nl->owner[k];
  CHECK(bad == 0);
  /* fold: each ghost carries 1; owner gets 1 + number of its images */
  for (size_t k = 0; k < ne; k++) v[2 * k] = 1, v[2 * k + 1] = 0.5;
  kiln_neigh_fold(nl, v, 2);
  size_t *cnt = calloc(nl->n, sizeof *cnt);
  for (size_t k = nl->n; k < ne; k++) cnt[nl->owner[k]]++;
  double sum = 0;
  for (size_t i = 0; i < nl->n; i++) {
    bad += v[2 * i] != 1.0 + (double)cnt[i] || v[2 * i + 1] != 0.5 * (1.0 + (double)cnt[i]);
    sum += v[2 * i];
  }
  CHECK(bad == 0);
  CHECK(sum == (double)ne);
  free(cnt);
  free(v);
  kiln_neigh_free(nl);
  kiln_atoms_free(a);
}

TEST(test_errors) {
  kiln_error err;
  kiln_neigh *nl;
  CHECK_ERR(kiln_neigh_new(&nl, 3, 2.0, 0.3, &err), KILN_EINVAL, "kind");
  CHECK_ERR(kiln_neigh_new(&nl, KILN_NEIGH_HALF, -1.0, 0.3, &err), KILN_EINVAL, "cutoff");
  CHECK_ERR(kiln_neigh_new(&nl, KILN_NEIGH_HALF, 2.0, -0.1, &err), KILN_EINVAL, "skin");
  kiln_atoms *a;
  CHECK_OK(kiln_atoms_new(&a, 2, &err));
  a->pbc[0] = 1; /* periodic with a zero cell vector */
  CHECK_OK(kiln_neigh_new(&nl, KILN_NEIGH_HALF, 2.0, 0.3, &err));
  CHECK_ERR(kiln_neigh_build(nl, a, &err), KILN_EINVAL, "cell vector 1 is zero");
  a->pbc[0] = 0;
  a->x[1][0] = NAN;
  CHECK_ERR(kiln_neigh_update(nl, a, NULL, &err), KILN_EDOM, "atom 2");
  a->x[1][0] = 1.0;
  CHECK_OK(kiln_neigh_update(nl, a, NULL, &err));
  CHECK(nl->n == 2 && nl->ng == 0 && nl->offset[2] == 1);
  kiln_neigh_free(nl);
  kiln_atoms_free(a);
}

int main(void) {
  RUN(test_brute_all_pbc);
  RUN(test_large_binned);
  RUN(test_threads);
  RUN(test_one_atom_tiny_cell);
  RUN(test_skin_rebuild);
  RUN(test_cell_deform);
  RUN(test_cell_deform_limit);
  RUN(test_build_from_cell);
  RUN(test_fold_forward);
  RUN(test_errors);
  return check_summary();
}
