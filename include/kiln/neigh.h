/* kiln/neigh.h: Verlet neighbor lists with ghost images (LAMMPS-like).
 *
 * The list works on an "extended" set of atoms: the n local atoms followed by
 * ng ghost images of them across periodic boundaries (as many images as the
 * cutoff needs, so cells smaller than twice the cutoff are handled). Entry k
 * (0 <= k < n+ng) is atom owner[k] shifted by the lattice vector img[k]·cell:
 *     xe[k] = x[owner[k]] + img[k][0]*cell[0] + img[k][1]*cell[1] + img[k][2]*cell[2]
 * (local atoms are stored at their wrapped position, so img[k] may be nonzero
 * also for k < n; owner[k] == k for k < n).
 *
 * Neighbors are stored in CSR form for local atoms i < n: entries
 * index[offset[i] .. offset[i+1]) are extended indices j with |xe[j]-xe[i]| <
 * cutoff + skin.
 *  - KILN_NEIGH_HALF: each physical pair once (i < owner[j], or the same owner
 *    with a lexicographically positive relative image).
 *  - KILN_NEIGH_FULL: each pair from both sides; within each i, the first
 *    nhalf[i] entries are exactly the half-list ones (so one list serves both).
 *
 * Building is O(N): extended atoms are binned in fractional coordinates with
 * bins no thinner than cutoff+skin; triclinic cells are supported.
 *
 * kiln_neigh_update keeps the list (refreshing only the ghost positions xe from
 * the stored images, with the current cell) while it provably still holds every
 * pair within the cutoff, and rebuilds it otherwise:
 *  - the pbc, atom count or atoms->generation changed, or the list was
 *    invalidated / never built: rebuild;
 *  - the cell is the reference cell h0 (the cell at the last build, bit for bit):
 *    rebuild when any atom moved more than skin/2 from its reference position;
 *  - the cell changed to h (a barostat, a strain): with M the affine map taking
 *    h0 to h (M = B0^-1 B for the binning bases, which on the periodic rows is
 *    h0^-1 h), u_i = x_i - xref_i M the non-affine displacement and
 *    e = ||M - I||_2, rebuild unless  max_i |u_i| + e (cutoff+skin)/2 <= skin/2.
 *    (A pair vector is d = d0 M + u_j - u_i, so |d| >= |d0|(1 - e) - 2 max|u|:
 *    any pair within the cutoff now was within cutoff+skin at the build, and
 *    hence in the list with its ghost image.) Positions scaled with the cell
 *    about the origin (x -> x M) do not count as displacement.
 */
#ifndef KILN_NEIGH_H
#define KILN_NEIGH_H
#include <stddef.h>
#include <stdint.h>
#include "atoms.h"

enum { KILN_NEIGH_HALF = 1, KILN_NEIGH_FULL = 2 };

typedef struct kiln_neigh {
  int kind;
  double cutoff, skin;
  int force_n2;             /* 1: O(N^2) build (testing), 0: binned */
  size_t n, ng;             /* local and ghost counts */
  double (*xe)[3];          /* n+ng extended positions (Å) */
  int32_t *owner;           /* n+ng */
  int32_t (*img)[3];        /* n+ng integer lattice shifts relative to x[owner] */
  size_t *offset;           /* n+1 */
  int32_t *index;           /* offset[n] neighbor entries (extended indices) */
  int32_t *nhalf;           /* n counts: half-list part of each row (HALF: the whole row) */
  long nbuilds;             /* number of full rebuilds so far */
  /* private bookkeeping (reference positions, bins, capacities) */
  void *priv;
} kiln_neigh;

kiln_status kiln_neigh_new(kiln_neigh **out, int kind, double cutoff, double skin,
                           kiln_error *err);
void kiln_neigh_free(kiln_neigh *nl);
/* Rebuild if needed (see above), else refresh ghost positions. *rebuilt (may be
 * NULL) tells which happened. */
kiln_status kiln_neigh_update(kiln_neigh *nl, const kiln_atoms *a, int *rebuilt,
                              kiln_error *err);
/* Unconditional rebuild. */
kiln_status kiln_neigh_build(kiln_neigh *nl, const kiln_atoms *a, kiln_error *err);
/* Make the next update rebuild. */
void kiln_neigh_invalidate(kiln_neigh *nl);
/* The reference positions of the last build (n x 3, Å, as a->x was then: not wrapped),
 * from which kiln_neigh_update measures the skin/2 displacement; *n (may be NULL) gets
 * their count. NULL (and *n = 0) if the list was never built, was invalidated or its
 * last build failed. Valid until the next build or kiln_neigh_free. */
const double (*kiln_neigh_reference(const kiln_neigh *nl, size_t *n))[3];
/* Rebuild as if the atoms were at xref (a->n x 3; cell, pbc, types and count from a):
 * the same ghosts, bins and entry order as kiln_neigh_build at those positions. Then the
 * ghost positions xe are refreshed from a->x, and xref stays the reference, so the next
 * kiln_neigh_update rebuilds exactly when one after the original build would (used to
 * restore a list from a checkpoint). xref NULL: same as kiln_neigh_build; xref must be a
 * copy (not the array kiln_neigh_reference returns for nl: KILN_EINVAL). */
kiln_status kiln_neigh_build_from(kiln_neigh *nl, const kiln_atoms *a, const double (*xref)[3],
                                  kiln_error *err);
/* The reference cell h0 (the cell of the last build, from which kiln_neigh_update
 * measures the deformation) into cell; returns 1, or 0 (cell untouched) when
 * kiln_neigh_reference would return NULL. A checkpoint that saves the reference
 * positions must save this cell too to restore the list exactly. */
int kiln_neigh_reference_cell(const kiln_neigh *nl, double cell[3][3]);
/* kiln_neigh_build_from with the build done in the reference cell cell0 (saved with
 * xref from kiln_neigh_reference_cell) instead of a->cell: the same list as the
 * original build; the ghost positions are then refreshed from a->x in a->cell and
 * cell0 stays the reference cell. cell0 NULL: a->cell (= kiln_neigh_build_from);
 * xref NULL: kiln_neigh_build (cell0 ignored). */
kiln_status kiln_neigh_build_from_cell(kiln_neigh *nl, const kiln_atoms *a,
                                       const double (*xref)[3], const double cell0[3][3],
                                       kiln_error *err);

/* Add ghost rows of arr ((n+ng) x ncols) onto their owners (reverse communication). */
void kiln_neigh_fold(const kiln_neigh *nl, double *arr, size_t ncols);
/* Copy owner rows onto their ghosts (forward communication). */
void kiln_neigh_forward(const kiln_neigh *nl, double *arr, size_t ncols);
#endif
