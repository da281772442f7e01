/* tests/c/test_nve_sw.c: long-time NVE energy conservation of Stillinger–Weber Si
 * at dt = 1 fs (the foundation issue's bar: drift below 1e-5 eV/atom over 10 ps).
 * 216 atoms (3x3x3 diamond), 1000 K initial velocities (about 500 K after
 * equipartition), 10 000 velocity-Verlet steps. The drift is measured two ways:
 * the least-squares slope of E(t) times the run length, and the difference of the
 * mean energy over the last and first tenth of the run. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kiln/kiln.h"

static kiln_error err;

typedef struct { double *t, *e; size_t n, cap; } series;

static kiln_status record(void *ud, long step, kiln_atoms *a, const kiln_thermo *th,
                          kiln_error *e) {
  series *s = ud;
  if (s->n < s->cap) { s->t[s->n] = th->time; s->e[s->n] = th->etot; s->n++; }
  return KILN_OK;
}

TEST(test_sw_nve_drift_10ps) {
  kiln_atoms *unit = NULL, *a = NULL;
  CHECK_OK(kiln_crystal_diamond(&unit, "Si", 5.431, &err));
  CHECK_OK(kiln_atoms_supercell(&a, unit, 3, 3, 3, &err));
  kiln_atoms_free(unit);
  if (!a) return;
  kiln_rng r;
  kiln_rng_seed(&r, 2026, 0);
  for (size_t i = 0; i < a->n; i++) {
    double sd = sqrt(KILN_KB * 1000.0 / (a->mass[i] * KILN_MVV2E));
    for (int d = 0; d < 3; d++) a->v[i][d] = sd * kiln_rng_normal(&r);
  }
  kiln_atoms_zero_momentum(a);

  kiln_opts *o = NULL;
  kiln_pot *pot = NULL;
  kiln_md *md = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_str(o, "file", "/usr/share/lammps/potentials/Si.sw", &err));
  CHECK_OK(kiln_pot_new(&pot, "sw", o, &err));
  kiln_opts_free(o);
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_num(o, "dt", 1.0, &err));
  CHECK_OK(kiln_md_new(&md, "verlet", o, &err));
  kiln_opts_free(o);
  if (!pot || !md) { kiln_atoms_free(a); kiln_pot_free(pot); kiln_md_free(md); return; }

  const long nsteps = 10000, every = 10;
  series s = {malloc(sizeof(double) * 1001), malloc(sizeof(double) * 1001), 0, 1001};
  kiln_observer ob = {record, &s, every, 0};
  kiln_md_run_opts ro = {.obs = &ob, .nobs = 1, .skin = 1.0};
  CHECK_OK(kiln_md_run(md, a, pot, nsteps, &ro, &err));
  CHECK(s.n == (size_t)(nsteps / every));

  if (s.n > 10) {
    double mt = 0, me = 0;
    for (size_t k = 0; k < s.n; k++) { mt += s.t[k]; me += s.e[k]; }
    mt /= (double)s.n; me /= (double)s.n;
    double sxy = 0, sxx = 0, emax = 0;
    for (size_t k = 0; k < s.n; k++) {
      sxy += (s.t[k] - mt) * (s.e[k] - me);
      sxx += (s.t[k] - mt) * (s.t[k] - mt);
      emax = fmax(emax, fabs(s.e[k] - s.e[0]));
    }
    double span = s.t[s.n - 1] - s.t[0];
    double slope_drift = fabs(sxy / sxx * span) / (double)a->n;
    size_t m = s.n / 10;
    double e_first = 0, e_last = 0;
    for (size_t k = 0; k < m; k++) { e_first += s.e[k]; e_last += s.e[s.n - 1 - k]; }
    double block_drift = fabs(e_last - e_first) / (double)m / (double)a->n;
    printf("  SW Si 216 atoms, dt 1 fs, %.1f ps: drift (fit) %.2e eV/atom, "
           "drift (blocks) %.2e eV/atom, max |E-E0| %.2e eV/atom, T %.0f K\n",
           span / 1000.0, slope_drift, block_drift, emax / (double)a->n,
           kiln_atoms_temperature(a));
    CHECK(slope_drift < 1e-5);
    CHECK(block_drift < 1e-5);
    CHECK(emax / (double)a->n < 1e-3);  /* fluctuation stays small, nothing blew up */
  }
  free(s.t); free(s.e);
  kiln_md_free(md);
  kiln_pot_free(pot);
  kiln_atoms_free(a);
}

int main(void) {
  RUN(test_sw_nve_drift_10ps);
  return check_summary();
}
