/* src/pimd/pimd_chk.c: PIMD checkpoints. Binary, native byte order (a restart file for
 * the same machine, like the md checkpoints): magic, sizes, step/time/RNG/thermostat
 * state, the cell and the barostat state, then per bead its positions, velocities,
 * forces, energy and virial and the reference positions and cell of its neighbor list
 * (so a resumed run rebuilds the same list).
 * Written to <file>.tmp, then renamed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pimd_internal.h"

static const char magic[16] = "kiln-pimd-chk-2";

typedef struct chk_head {
  char magic[16];
  int32_t P, thermostat, barostat, mode;
  uint64_t n, seed;
  int64_t step, run_start, run_target;
  double time, dt, T, tau, lambda, reservoir;
  kiln_rng rng;
  double cell[3][3];
  double baro_res, baro_wdev;
  kiln_rng baro_rng;
} chk_head;

kiln_status kiln_pimd_checkpoint_write(kiln_pimd *pm, const char *file, kiln_error *err) {
  if (!pm->bead)
    return KILN_FAIL(err, KILN_EINVAL, "pimd checkpoint: nothing to write (no run yet)");
  const size_t n = pm->n;
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", file) >= (int)sizeof tmp)
    return KILN_FAIL(err, KILN_EINVAL, "pimd checkpoint: file name too long");
  FILE *fp = fopen(tmp, "wb");
  if (!fp) return KILN_FAIL(err, KILN_EIO, "pimd checkpoint: cannot write '%s'", tmp);
  chk_head h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, magic, sizeof magic);
  h.P = pm->par.P;
  h.thermostat = pm->par.thermostat;
  h.n = n;
  h.seed = pm->par.seed;
  h.step = pm->par.step;
  h.run_start = pm->run_start;
  h.run_target = pm->run_target;
  h.time = pm->par.time;
  h.dt = pm->par.dt;
  h.T = pm->par.T;
  h.tau = pm->par.tau;
  h.lambda = pm->par.lambda;
  h.reservoir = pm->reservoir;
  h.rng = pm->rng;
  h.barostat = pm->baro.on;
  h.mode = pm->par.mode;
  memcpy(h.cell, pm->bead[0]->cell, sizeof h.cell);
  h.baro_res = pm->baro.res;
  h.baro_wdev = pm->baro.wdev;
  h.baro_rng = pm->baro.rng;
  int ok = fwrite(&h, sizeof h, 1, fp) == 1;
  for (int j = 0; ok && j < pm->par.P; j++) {
    const kiln_atoms *b = pm->bead[j];
    ok = fwrite(b->x, sizeof *b->x, n, fp) == n && fwrite(b->v, sizeof *b->v, n, fp) == n &&
         fwrite(b->f, sizeof *b->f, n, fp) == n &&
         fwrite(&pm->res[j].energy, sizeof(double), 1, fp) == 1 &&
         fwrite(pm->res[j].virial, sizeof pm->res[j].virial, 1, fp) == 1;
    size_t nr = 0;
    const double(*xr)[3] = pm->nl[j] ? kiln_neigh_reference(pm->nl[j], &nr) : NULL;
    double c0[3][3];
    int32_t has = xr && nr == n && kiln_neigh_reference_cell(pm->nl[j], c0);
    ok = ok && fwrite(&has, sizeof has, 1, fp) == 1;
    if (ok && has) ok = fwrite(xr, sizeof *xr, n, fp) == n && fwrite(c0, sizeof c0, 1, fp) == 1;
  }
  if (fclose(fp) != 0) ok = 0;
  if (!ok || rename(tmp, file) != 0) {
    remove(tmp);
    return KILN_FAIL(err, KILN_EIO, "pimd checkpoint: writing '%s' failed", file);
  }
  return KILN_OK;
}

kiln_status kiln_pimd_checkpoint_read(kiln_pimd *pm, kiln_atoms *a, const char *file,
                                      kiln_error *err) {
  FILE *fp = fopen(file, "rb");
  if (!fp) return KILN_FAIL(err, KILN_EIO, "pimd checkpoint: cannot open '%s'", file);
  chk_head h;
  kiln_status st = KILN_OK;
  if (fread(&h, sizeof h, 1, fp) != 1 || memcmp(h.magic, magic, sizeof magic)) {
    fclose(fp);
    return KILN_FAIL(err, KILN_EFORMAT, "pimd checkpoint: '%s' is not a kiln PIMD checkpoint",
                     file);
  }
  if (h.P != pm->par.P || h.n != a->n || h.thermostat != pm->par.thermostat) {
    fclose(fp);
    return KILN_FAIL(err, KILN_EINVAL,
                     "pimd checkpoint: '%s' has %d beads of %llu atoms (thermostat %d); this run "
                     "has %d beads of %zu atoms (thermostat %d)",
                     file, (int)h.P, (unsigned long long)h.n, (int)h.thermostat, pm->par.P, a->n,
                     pm->par.thermostat);
  }
  if (h.barostat != pm->par.barostat || (h.barostat && h.mode != pm->par.mode)) {
    fclose(fp);
    return KILN_FAIL(err, KILN_EINVAL,
                     "pimd checkpoint: '%s' was written %s a barostat (mode %d); this run has %s "
                     "(mode %d)", file, h.barostat ? "with" : "without", (int)h.mode,
                     pm->par.barostat ? "one" : "none", pm->par.mode);
  }
  if ((st = kilni_pimd_make_beads(pm, a, err))) {
    fclose(fp);
    return st;
  }
  const size_t n = a->n;
  pm->xref = calloc((size_t)pm->par.P, sizeof *pm->xref);
  pm->xcell = calloc((size_t)pm->par.P, sizeof *pm->xcell);
  int ok = pm->xref != NULL && pm->xcell != NULL;
  for (int j = 0; ok && j < pm->par.P; j++) {
    kiln_atoms *b = pm->bead[j];
    ok = fread(b->x, sizeof *b->x, n, fp) == n && fread(b->v, sizeof *b->v, n, fp) == n &&
         fread(b->f, sizeof *b->f, n, fp) == n &&
         fread(&pm->res[j].energy, sizeof(double), 1, fp) == 1 &&
         fread(pm->res[j].virial, sizeof pm->res[j].virial, 1, fp) == 1;
    int32_t has = 0;
    ok = ok && fread(&has, sizeof has, 1, fp) == 1;
    if (ok && has) {
      pm->xref[j] = malloc(n * sizeof *pm->xref[j]);
      ok = pm->xref[j] && fread(pm->xref[j], sizeof *pm->xref[j], n, fp) == n &&
           fread(pm->xcell[j], sizeof pm->xcell[j], 1, fp) == 1;
    }
  }
  fclose(fp);
  if (!ok) {
    kilni_pimd_drop_beads(pm);
    return KILN_FAIL(err, KILN_EFORMAT, "pimd checkpoint: '%s' is truncated or unreadable", file);
  }
  pm->par.step = h.step;
  pm->par.time = h.time;
  pm->run_start = h.run_start;
  pm->run_target = h.run_target;
  pm->reservoir = h.reservoir;
  pm->rng = h.rng;
  for (int j = 0; j < pm->par.P; j++) memcpy(pm->bead[j]->cell, h.cell, sizeof h.cell);
  pm->baro.res = h.baro_res;
  pm->baro.wdev = h.baro_wdev;
  pm->baro.rng = h.baro_rng;
  pm->fvalid = 1;
  kilni_pimd_centroid_to(pm, a);
  kilni_pimd_thermo_fill(pm);
  return KILN_OK;
}
