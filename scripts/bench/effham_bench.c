/* scripts/bench/effham_bench.c: cost of effective-Hamiltonian MD (BaTiO3, Nishimatsu 2010
 * parameters, kiln.md.langevin at 250 K, dt 2 fs, inhomogeneous strain relaxed each step,
 * dipole-dipole by FFT) in ns per unit cell per step, for the grid sizes given.
 * usage: effham_bench L [L...]   (threads from OMP_NUM_THREADS)
 * prints one line per L: L=.. cells=.. threads=.. steps=.. md_ns=.. force_ns=.. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kiln/md.h"
#include "kiln/potential.h"
#include "kiln/rng.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int die(const kiln_error *e) {
  fprintf(stderr, "effham_bench: %s\n", e->msg);
  return 1;
}

int main(int argc, char **argv) {
  const double a0 = 3.98597;
  kiln_error err;
  for (int k = 1; k < argc; k++) {
    const int L = atoi(argv[k]);
    const size_t n = (size_t)L * L * L;
    kiln_atoms *a;
    if (kiln_atoms_new(&a, n, &err)) return die(&err);
    int32_t t;
    kiln_atoms_species_index(a, "Ti", &t, &err);
    double cell[3][3] = {{L * a0, 0, 0}, {0, L * a0, 0}, {0, 0, L * a0}};
    kiln_atoms_set_cell(a, cell, 0, &err);
    a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
    kiln_rng rng;
    kiln_rng_seed(&rng, 1, 0);
    size_t i = 0;
    for (int x = 0; x < L; x++)
      for (int y = 0; y < L; y++)
        for (int z = 0; z < L; z++, i++) {
          const int R[3] = {x, y, z};
          for (int c = 0; c < 3; c++) a->x[i][c] = R[c] * a0 + 0.1 + 0.03 * kiln_rng_normal(&rng);
          a->type[i] = t;
          a->mass[i] = 38.24;
        }
    kiln_opts *po, *mo;
    kiln_opts_new(&po, &err);
    kiln_pot *p;
    if (kiln_pot_new(&p, "effective_hamiltonian", po, &err)) return die(&err);
    kiln_opts_new(&mo, &err);
    kiln_opts_add_num(mo, "dt", 2.0, &err);
    kiln_opts_add_num(mo, "T", 250.0, &err);
    kiln_opts_add_num(mo, "damping", 200.0, &err);
    kiln_md *md;
    if (kiln_md_new(&md, "langevin", mo, &err)) return die(&err);
    if (kiln_md_run(md, a, p, 20, NULL, &err)) return die(&err);  /* plans, kernels, warm up */
    long steps = (long)(4e7 / (double)n) + 10;
    double t0 = now();
    if (kiln_md_run(md, a, p, steps, NULL, &err)) return die(&err);
    double tmd = (now() - t0) / steps / (double)n * 1e9;
    t0 = now();
    for (long s = 0; s < steps; s++)
      if (kiln_pot_compute(p, a, NULL, KILN_EVAL_ENERGY | KILN_EVAL_FORCES | KILN_EVAL_VIRIAL,
                           NULL, &err))
        return die(&err);
    double tf = (now() - t0) / steps / (double)n * 1e9;
    printf("L=%d cells=%zu threads=%d steps=%ld md_ns=%.1f force_ns=%.1f\n", L, n,
           omp_get_max_threads(), steps, tmd, tf);
    fflush(stdout);
    kiln_md_free(md);
    kiln_pot_free(p);
    kiln_opts_free(po);
    kiln_opts_free(mo);
    kiln_atoms_free(a);
  }
  return 0;
}
