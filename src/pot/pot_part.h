/* src/pot/pot_part.h: work-balanced static split of the local atoms over threads.
 * In a half list the low-index atoms hold more pairs (cross-boundary pairs are stored on
 * the lower index), so equal atom counts per thread leave the first thread with more
 * work. The split balances (list entries + w0 per atom) instead; it depends only on the
 * list and the thread count, so runs stay reproducible. */
#ifndef KILN_POT_PART_H
#define KILN_POT_PART_H
#include <stddef.h>
#include "kiln/neigh.h"

/* first atom of part t of nt: the first i whose work prefix offset[i] + w0 i reaches
 * t/nt of the total (t = 0 gives 0, t = nt gives n) */
static inline size_t kilni_part_begin(const kiln_neigh *nl, int t, int nt, double w0) {
  const size_t n = nl->n;
  if (t <= 0 || n == 0) return 0;
  if (t >= nt) return n;
  const double want = ((double)nl->offset[n] + w0 * (double)n) * t / nt;
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if ((double)nl->offset[mid] + w0 * (double)mid < want) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
#endif
