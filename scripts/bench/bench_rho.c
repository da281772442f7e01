/* scripts/bench/bench_rho.c: timing of the density Fourier components rho(q,t) (the sqw
 * kernel, src/corr/rho.c) and of the whole sqw correlator per frame, on the issue-3
 * benchmark case: 4096-atom Si (diamond 8x8x8, a = 5.431 A, thermal-like random
 * displacements), 100 commensurate q-points. Two q sets: "path" = the Gamma-X-K-Gamma-L
 * points of the supercell under the 24 axis permutations x sign patterns used by
 * ../shared/bench/dynasor (first 100), and "general" = 100 random (h,k,l) in [-8,8]^3 with
 * no zero index (worst case for the lattice factorisation). Times are process CPU time
 * (robust on a shared machine); run with OMP_NUM_THREADS=1 for the one-core number.
 *   make && cc -O3 -march=native -fopenmp -Iinclude -Isrc -o build/bench_rho \
 *        scripts/bench/bench_rho.c lib/libkiln.a $(pkg-config --libs hdf5 fftw3 lapacke openblas) -lm \
 *        && OMP_NUM_THREADS=1 build/bench_rho [nframes]
 * Prints ns per atom.q-point.frame for the kernel, and for the correlator with the
 * coherent part only, + incoherent (default incoherent_step), + currents. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include "kiln/kiln.h"
#include "kiln/corr.h"
#include "corr/rho.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define NQ 100

static int path_q(double (*hkl)[3]) {
  int pts[32][3], np = 0;
  for (int k = 0; k <= 8; k++) { pts[np][0] = 0; pts[np][1] = k; pts[np][2] = 0; np++; }
  int xk[3][3] = {{0, 8, 0}, {3, 7, 0}, {6, 6, 0}};
  for (int i = 0; i < 3; i++) { memcpy(pts[np], xk[i], sizeof xk[i]); np++; }
  for (int k = 6; k >= 0; k--) { pts[np][0] = k; pts[np][1] = k; pts[np][2] = 0; np++; }
  for (int k = 0; k <= 4; k++) { pts[np][0] = k; pts[np][1] = k; pts[np][2] = k; np++; }
  static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  static const int sg[4][3] = {{1, 1, 1}, {-1, 1, 1}, {1, -1, 1}, {1, 1, -1}};
  int n = 0;
  for (int p = 0; p < np && n < NQ; p++)
    for (int a = 0; a < 6 && n < NQ; a++)
      for (int b = 0; b < 4 && n < NQ; b++) {
        double q[3];
        for (int d = 0; d < 3; d++) q[d] = pts[p][perm[a][d]] * sg[b][d];
        int dup = 0;
        for (int i = 0; i < n; i++)
          if (hkl[i][0] == q[0] && hkl[i][1] == q[1] && hkl[i][2] == q[2]) dup = 1;
        if (!dup) { memcpy(hkl[n], q, sizeof q); n++; }
      }
  return n;
}

static void general_q(double (*hkl)[3], kiln_rng *r) {
  for (int i = 0; i < NQ; i++)
    for (int d = 0; d < 3; d++) {
      int m;
      do m = (int)floor(17 * kiln_rng_uniform(r)) - 8; while (m == 0);
      hkl[i][d] = m;
    }
}

static void jiggle(kiln_atoms *a, const kiln_atoms *ref, kiln_rng *r) {
  for (size_t i = 0; i < a->n; i++)
    for (int d = 0; d < 3; d++) {
      a->x[i][d] = ref->x[i][d] + 0.08 * kiln_rng_normal(r);
      a->v[i][d] = 0.006 * kiln_rng_normal(r);
    }
}

/* the whole correlator: ns per atom.q.frame of kiln_corr_add_frame */
static double bench_corr(const kiln_atoms *ref, double (*hkl)[3], int nframes, int window,
                         int incoherent, int currents, kiln_rng *r) {
  kiln_error err;
  kiln_opts *o;
  kiln_opts_new(&o, &err);
  kiln_opts *qt, *ht;
  kiln_opts_add_table(o, "hkl", &ht, &err);
  for (int i = 0; i < NQ; i++) {
    kiln_opts *row;
    kiln_opts_add_table(ht, NULL, &row, &err);
    for (int d = 0; d < 3; d++) kiln_opts_add_num(row, NULL, hkl[i][d], &err);
  }
  (void)qt;
  kiln_opts_add_num(o, "window", window, &err);
  kiln_opts_add_num(o, "dt", 5.0, &err);
  kiln_opts_add_bool(o, "incoherent", incoherent, &err);
  kiln_opts_add_bool(o, "currents", currents, &err);
  kiln_corr *c;
  if (kiln_corr_new(&c, "sqw", o, &err)) { printf("%s\n", err.msg); exit(1); }
  kiln_atoms *a;
  kiln_atoms_copy(&a, ref, &err);
  double t = 0;
  for (int f = 0; f < nframes; f++) {
    jiggle(a, ref, r);
    double t0 = now();
    if (kiln_corr_add_frame(c, a, NAN, &err)) { printf("%s\n", err.msg); exit(1); }
    t += now() - t0;
  }
  double t0 = now();
  kiln_result *res;
  if (kiln_corr_result(c, &res, &err)) { printf("%s\n", err.msg); exit(1); }
  double tres = now() - t0;
  printf("    (result: %.3f s)", tres);
  kiln_result_free(res);
  kiln_corr_free(c);
  kiln_atoms_free(a);
  kiln_opts_free(o);
  return t / nframes / (double)ref->n / NQ * 1e9;
}

int main(int argc, char **argv) {
  int nframes = argc > 1 ? atoi(argv[1]) : 200;
  kiln_error err;
  kiln_atoms *c, *ref, *a;
  if (kiln_crystal_diamond(&c, "Si", 5.431, &err) || kiln_atoms_supercell(&ref, c, 8, 8, 8, &err)) {
    printf("%s\n", err.msg);
    return 1;
  }
  kiln_atoms_copy(&a, ref, &err);
  kiln_rng r;
  kiln_rng_seed(&r, 7, 0);
  double hp[NQ][3], hg[NQ][3];
  int n = path_q(hp);
  general_q(hg, &r);
  printf("4096-atom Si, %d q-points, %d frames, %d thread(s)\n", n, nframes,
         omp_get_max_threads());
  for (int set = 0; set < 2; set++) {
    double(*hkl)[3] = set ? hg : hp;
    unsigned char comm[NQ];
    memset(comm, 1, sizeof comm);
    kilni_rho_setup rs = {a->n, NQ, a->nspecies, a->type, (const double(*)[3])hkl, comm, 0, 0};
    kilni_rho *k;
    if (kilni_rho_new(&k, &rs, &err)) { printf("%s\n", err.msg); return 1; }
    double inv[3][3];
    kiln_cell_inverse(a->cell, inv, &err);
    double(*rho)[2] = malloc(NQ * sizeof *rho);
    double t = 0;
    for (int f = 0; f < nframes; f++) {
      jiggle(a, ref, &r);
      double t0 = now();
      kilni_rho_frame(k, (const double(*)[3])a->x, NULL, (const double(*)[3])inv, rho, NULL, NULL,
                      0, NULL, -1);
      t += now() - t0;
    }
    printf("%-8s rho kernel:            %.3f ns per atom.q.frame\n", set ? "general" : "path",
           t / nframes / (double)a->n / NQ * 1e9);
    kilni_rho_free(k);
    free(rho);
    int W = nframes > 500 ? 500 : nframes / 2;
    double tc = bench_corr(ref, hkl, nframes, W, 0, 0, &r);
    printf("\n%-8s sqw coherent:          %.3f ns per atom.q.frame (window %d)\n",
           set ? "general" : "path", tc, W);
    double ti = bench_corr(ref, hkl, nframes, W, 1, 0, &r);
    printf("\n%-8s sqw + incoherent:      %.3f ns per atom.q.frame (incoherent part %.3f, %.2fx)\n",
           set ? "general" : "path", ti, ti - tc, (ti - tc) / tc);
    double tj = bench_corr(ref, hkl, nframes, W, 0, 1, &r);
    printf("\n%-8s sqw + currents:        %.3f ns per atom.q.frame (currents part %.3f)\n",
           set ? "general" : "path", tj, tj - tc);
  }
  kiln_atoms_free(a);
  kiln_atoms_free(ref);
  kiln_atoms_free(c);
  return 0;
}
