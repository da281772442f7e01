/* src/pot/pair_loop.h: the half-list pair loop shared by the simple pair styles (morse,
 * harmonic, buck): per-element-pair coefficients, OpenMP over a work-balanced split of the
 * atoms, per-thread forces and energies, per-atom energies split half and half.
 *
 * A style keeps its coefficients in an nel x nel table of structs whose FIRST member is
 * `double cutsq` and supplies an inline kernel
 *     static inline __attribute__((always_inline))
 *     void eval(const void *coef, double r2, double *fp, double *ev)
 * giving fp = -dE/dr / r (so the force on i is fp (xi - xj)) and the pair energy ev.
 * kilni_pair_half_loop is always inlined, so a kernel named at the call site is inlined
 * into the loop (no call per pair). */
#ifndef KILN_POT_PAIR_LOOP_H
#define KILN_POT_PAIR_LOOP_H
#include <omp.h>
#include "pot/pot_internal.h"
#include "pot/pot_part.h"

typedef void (*kilni_pair_eval)(const void *coef, double r2, double *fp, double *ev);

static inline __attribute__((always_inline)) void
kilni_pair_half_loop(const kiln_neigh *nl, const int32_t *te, int nel, const void *coef,
                     size_t coef_size, kiln_pot_work *w, kilni_pair_eval eval) {
  const int pa = (w->want & KILN_EVAL_PERATOM) && w->e;
  const double(*x)[3] = (const double(*)[3])nl->xe;
  const char *tab = coef;
#pragma omp parallel num_threads(w->nthreads)
  {
    const int t = omp_get_thread_num();
    double(*f)[3] = w->f[t];
    double *e = pa ? w->e[t] : NULL;
    double eng = 0;
    const int nt = omp_get_num_threads();  /* a work-balanced split, one part per thread */
    const long ib = (long)kilni_part_begin(nl, t, nt, 4.0);
    const long ie = (long)kilni_part_begin(nl, t + 1, nt, 4.0);
    for (long i = ib; i < ie; i++) {
      const double xi = x[i][0], yi = x[i][1], zi = x[i][2];
      const char *ci = tab + (size_t)te[i] * (size_t)nel * coef_size;
      double fxi = 0, fyi = 0, fzi = 0, ei = 0;
      for (size_t q = nl->offset[i], qe = kilni_half_end(nl, (size_t)i); q < qe; q++) {
        const int32_t j = nl->index[q];
        const double dx = xi - x[j][0], dy = yi - x[j][1], dz = zi - x[j][2];
        const double r2 = dx * dx + dy * dy + dz * dz;
        const void *c = ci + (size_t)te[j] * coef_size;
        if (r2 >= *(const double *)c) continue;   /* cutsq, the first member */
        double fp, ev;
        eval(c, r2, &fp, &ev);
        fxi += dx * fp;
        fyi += dy * fp;
        fzi += dz * fp;
        f[j][0] -= dx * fp;
        f[j][1] -= dy * fp;
        f[j][2] -= dz * fp;
        ei += ev;
        if (e) e[j] += 0.5 * ev;
      }
      f[i][0] += fxi;
      f[i][1] += fyi;
      f[i][2] += fzi;
      eng += ei;
      if (e) e[i] += 0.5 * ei;
    }
    w->energy[t] += eng;
  }
}
#endif
