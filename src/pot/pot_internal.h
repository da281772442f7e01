/* src/pot/pot_internal.h: private helpers shared by the potential styles and the
 * registry (not part of the public API). */
#ifndef KILN_POT_INTERNAL_H
#define KILN_POT_INTERNAL_H
#include <stdlib.h>
#include "kiln/potential.h"

/* Every style record, declared from styles.def. */
#define KILN_POT_STYLE(name, sym) extern const kiln_pot_style sym;
#include "pot/styles.def"
#undef KILN_POT_STYLE

/* Half-list row of local atom i: index[offset[i] .. kilni_half_end(nl, i)). Works with
 * both list kinds (the first nhalf[i] entries of a full row are the half-list ones, and
 * kiln_neigh fills nhalf[i] with the row length for a half list). */
static inline size_t kilni_half_end(const kiln_neigh *nl, size_t i) {
  return nl->offset[i] + (size_t)nl->nhalf[i];
}

/* Scratch growth (outside hot loops): p itself if it holds need elements (and is not
 * NULL), else a fresh block of alloc >= need elements of size bytes (p is freed, the
 * contents are lost). NULL when out of memory, with *cap = 0. */
static inline void *kilni_grow(void *p, size_t *cap, size_t need, size_t alloc, size_t size) {
  if (p && need <= *cap) return p;
  free(p);
  p = malloc(alloc * size);
  *cap = p ? alloc : 0;
  return p;
}

/* el[k] = tmap[type of the owner of extended atom k] for every atom of nl (local and
 * ghost), *el grown as needed (capacity *cap). */
static inline kiln_status kilni_ext_elements(int32_t **el, size_t *cap, const kiln_atoms *a,
                                             const kiln_neigh *nl, const int32_t *tmap,
                                             const char *what, kiln_error *err) {
  const size_t ne = nl->n + nl->ng;
  if (!(*el = kilni_grow(*el, cap, ne, ne + ne / 4 + 16, sizeof **el)))
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu atoms)", what, ne);
  int32_t *e = *el;
  for (size_t k = 0; k < ne; k++) e[k] = tmap[a->type[nl->owner[k]]];
  return KILN_OK;
}

/* Mark which of the style's elements occur in the atoms: used[el] = 1 for every
 * el = tmap[type[i]] (nel entries, cleared first). */
static inline void kilni_elements_used(const kiln_atoms *a, const int32_t *tmap, int nel,
                                       int *used) {
  for (int e = 0; e < nel; e++) used[e] = 0;
  for (size_t i = 0; i < a->n; i++) used[tmap[a->type[i]]] = 1;
}

/* Pair-table parsing shared by lj and morse: the `pairs` option
 *   pairs = {{"Ar","Ar", name1=..., name2=..., cutoff=...}, ...}
 * or, without pairs, one species-agnostic set taken from the root options.
 * Fills nel, symbols and a nel x nel table of nparam values (+ cutoff as the last
 * column, + a set flag). All values are read with kiln_opts_num; names lists the
 * required parameter names; cutoff defaults to the root `cutoff` option. */
typedef struct {
  int nel;                                  /* 1 for the single form */
  int single;                               /* no pairs given: any species maps to 0 */
  char sym[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  int np;                                   /* parameters per pair (without cutoff) */
  double *val;                              /* nel*nel*(np+1): params..., cutoff */
  unsigned char *set;                       /* nel*nel */
} kilni_pairtab;

/* The common start of a pair style's init: kilni_pairtab_parse, the `shift` option
 * (default false) and the check that no option is left unused. */
kiln_status kilni_pairtab_init(kilni_pairtab *pt, int *shift, const kiln_opts *o,
                               const char *what, int np, const char *const *names,
                               kiln_error *err);
kiln_status kilni_pairtab_parse(kilni_pairtab *pt, const kiln_opts *o, const char *what,
                                int np, const char *const *names, kiln_error *err);
void kilni_pairtab_free(kilni_pairtab *pt);
int kilni_pairtab_map(const kilni_pairtab *pt, const char *symbol);
/* KILN_EINVAL naming the first missing pair among the elements present in a. */
kiln_status kilni_pairtab_check(const kilni_pairtab *pt, const kiln_atoms *a,
                                const int32_t *tmap, const char *what, kiln_error *err);
/* kiln_pot_set_omp_min on every part (nested sums included) */
void kilni_sum_set_omp_min(void *state, size_t natoms);
/* State of a "sum" over parts (owns: free the parts with the sum). pot_sum.c. */
kiln_status kilni_sum_state_new(void **state, double *cutoff, kiln_pot *const *parts, size_t n,
                                int owns, kiln_error *err);
#endif
