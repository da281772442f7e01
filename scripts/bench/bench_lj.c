/* scripts/bench/bench_lj.c: C-level timing of the lj kernel and the neighbor list on the
 * LAMMPS bench/in.lj system: 32000 atoms, fcc rho* = 0.8442, rc = 2.5 sigma, skin 0.3 sigma,
 * velocity Verlet NVE at dt = 0.005 tau (eps = 1 eV, sigma = 1 A, m = 1 amu). Times are
 * process CPU time (robust on a shared machine).
 *   make && cc -O3 -march=native -fopenmp -Iinclude -o build/bench_lj scripts/bench/bench_lj.c \
 *        lib/libkiln.a $(pkg-config --libs hdf5 fftw3) -lm && OMP_NUM_THREADS=1 build/bench_lj [nsteps]
 * Compare with: OMP_NUM_THREADS=1 lmp -in ../shared/bench/lammps/in.lj (Loop time x %CPU). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <omp.h>
#include "kiln/kiln.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(int argc, char **argv) {
  int nsteps = argc > 1 ? atoi(argv[1]) : 200;
  int eflag_every = argc > 2 ? atoi(argv[2]) : 50;
  kiln_error err;
  kiln_atoms *c, *a;
  double alat = cbrt(4.0 / 0.8442);
  if (kiln_crystal_fcc(&c, "Ar", alat, &err) || kiln_atoms_supercell(&a, c, 20, 20, 20, &err)) { printf("%s\n", err.msg); return 1; }
  for (size_t i = 0; i < a->n; i++) a->mass[i] = 1.0;
  kiln_opts *o; kiln_opts_new(&o, &err);
  kiln_opts_add_num(o, "epsilon", 1.0, &err); kiln_opts_add_num(o, "sigma", 1.0, &err); kiln_opts_add_num(o, "cutoff", 2.5, &err);
  kiln_pot *p;
  if (kiln_pot_new(&p, "lj", o, &err)) { printf("%s\n", err.msg); return 1; }
  kiln_neigh *nl; kiln_neigh_new(&nl, KILN_NEIGH_HALF, 2.5, 0.3, &err);
  kiln_rng r; kiln_rng_seed(&r, 1, 0);
  double kT = 1.44, m = 1.0, conv = 1.0 / KILN_MVV2E; /* eV/A/amu -> A/fs^2 */
  double sv = sqrt(kT * conv / m);
  for (size_t i = 0; i < a->n; i++) for (int d = 0; d < 3; d++) a->v[i][d] = sv * kiln_rng_normal(&r);
  double tau = sqrt(1.0 * KILN_MVV2E); /* fs */
  double dt = 0.005 * tau;
  kiln_pot_result res;
  if (kiln_pot_compute(p, a, nl, KILN_EVAL_ALL & ~KILN_EVAL_PERATOM, &res, &err)) { printf("%s\n", err.msg); return 1; }
  printf("E0/N = %.6f  P_vir = %.6f\n", res.energy / a->n, (res.virial[0][0]+res.virial[1][1]+res.virial[2][2])/3/kiln_atoms_volume(a));
  long b0 = nl->nbuilds;
  double tf = 0, t0 = now();
  for (int s = 1; s <= nsteps; s++) {
    for (size_t i = 0; i < a->n; i++) for (int d = 0; d < 3; d++) { a->v[i][d] += 0.5 * dt * conv * a->f[i][d] / m; a->x[i][d] += dt * a->v[i][d]; }
    unsigned want = KILN_EVAL_FORCES | (s % eflag_every == 0 ? KILN_EVAL_ENERGY | KILN_EVAL_VIRIAL : 0);
    double t1 = now();
    if (kiln_pot_compute(p, a, nl, want, &res, &err)) { printf("%s\n", err.msg); return 1; }
    tf += now() - t1;
    for (size_t i = 0; i < a->n; i++) for (int d = 0; d < 3; d++) a->v[i][d] += 0.5 * dt * conv * a->f[i][d] / m;
  }
  double t = now() - t0;
  kiln_pot_compute(p, a, nl, KILN_EVAL_ALL, &res, &err);
  double ke = 0; for (size_t i = 0; i < a->n; i++) for (int d = 0; d < 3; d++) ke += 0.5 * m * a->v[i][d] * a->v[i][d] * KILN_MVV2E;
  printf("threads %d steps %d: %.3f s total, %.3f s in compute (%.3f us/atom-step total), builds %ld, neighbors %zu, ghosts %zu, E/N=%.6f Etot/N=%.6f\n",
         omp_get_max_threads(), nsteps, t, tf, t / nsteps / a->n * 1e6, nl->nbuilds - b0, nl->offset[nl->n], nl->ng, res.energy/a->n, (res.energy+ke)/a->n);
  /* time one build */
  double tb = 1e9; for (int k = 0; k < 7; k++) { double t2 = now(); kiln_neigh_build(nl, a, &err); t2 = now() - t2; if (t2 < tb) tb = t2; }
  kiln_neigh_invalidate(nl);
  kiln_pot_compute(p, a, nl, KILN_EVAL_FORCES, &res, &err);
  double tc = 1e9; for (int k = 0; k < 20; k++) { double t2 = now(); kiln_pot_compute(p, a, nl, KILN_EVAL_FORCES, &res, &err); t2 = now() - t2; if (t2 < tc) tc = t2; }
  printf("one build %.2f ms, one force compute (no rebuild) %.2f ms\n", tb * 1e3, tc * 1e3);
  kiln_pot_free(p); kiln_neigh_free(nl); kiln_opts_free(o); kiln_atoms_free(a); kiln_atoms_free(c);
  return 0;
}
