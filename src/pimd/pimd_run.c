/* src/pimd/pimd_run.c: the PIMD step loop (as kiln_md_run: observers, progress,
 * checkpoints, resume). Forces: one potential evaluation per bead, each bead with its
 * own neighbor list; beads run one after the other, each evaluation using the
 * potential's own threads (a kiln_pot keeps per-call scratch, so one potential cannot
 * be evaluated on several beads at once). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pimd_internal.h"

static const unsigned want = KILN_EVAL_ENERGY | KILN_EVAL_FORCES | KILN_EVAL_VIRIAL;

static kiln_status check_args(const kiln_pimd *pm, const kiln_atoms *a, const kiln_pot *pot,
                              long nsteps, const kiln_md_run_opts *ro, kiln_error *err) {
  if (!pm || !a || !pot)
    return KILN_FAIL(err, KILN_EINVAL, "pimd run: integrator, atoms and potential are required");
  if (nsteps < 0)
    return KILN_FAIL(err, KILN_EINVAL, "pimd run: number of steps must be >= 0 (got %ld)", nsteps);
  for (size_t k = 0; k < ro->nobs; k++) {
    if (!ro->obs[k].fn)
      return KILN_FAIL(err, KILN_EINVAL, "pimd run: observer %zu has no function", k + 1);
    if (ro->obs[k].every < 1)
      return KILN_FAIL(err, KILN_EINVAL, "pimd run: observer %zu: every must be >= 1 (got %ld)",
                       k + 1, ro->obs[k].every);
  }
  if (ro->checkpoint_every < 0)
    return KILN_FAIL(err, KILN_EINVAL, "pimd run: checkpoint every must be >= 0 steps (got %ld)",
                     ro->checkpoint_every);
  if (ro->resume && !ro->checkpoint)
    return KILN_FAIL(err, KILN_EINVAL, "pimd run: resume needs a checkpoint file");
  if (a->n == 0) return KILN_FAIL(err, KILN_EINVAL, "pimd run: the atoms object is empty");
  for (size_t i = 0; i < a->n; i++)
    if (!(a->mass[i] > 0.0) || !isfinite(a->mass[i]))
      return KILN_FAIL(err, KILN_EINVAL,
                       "pimd run: atom %zu (id %lld) has mass %g amu; masses must be positive",
                       i + 1, (long long)a->id[i], a->mass[i]);
  return KILN_OK;
}

/* the beads still belong to a: same size and a holds the centroid last written */
static int beads_match(const kiln_pimd *pm, const kiln_atoms *a) {
  if (!pm->bead || pm->n != a->n) return 0;
  if (memcmp(pm->xc, a->x, a->n * 3 * sizeof(double))) return 0;
  if (memcmp(pm->bead[0]->type, a->type, a->n * sizeof *a->type)) return 0;
  return 1;
}

static kiln_status ensure_lists(kiln_pimd *pm, const kiln_pot *pot, double skin,
                                kiln_error *err) {
  const int kind = kiln_pot_neigh_kind(pot);
  const double rc = kiln_pot_cutoff(pot);
  for (int j = 0; j < pm->par.P; j++) {
    kiln_neigh *nl = pm->nl[j];
    if (nl && nl->kind == kind && nl->cutoff == rc && nl->skin == skin) continue;
    kiln_neigh_free(nl);
    pm->nl[j] = NULL;
    kiln_status st = kiln_neigh_new(&pm->nl[j], kind, rc, skin, err);
    if (st) return st;
  }
  return KILN_OK;
}

static kiln_status forces(kiln_pimd *pm, kiln_pot *pot, kiln_error *err) {
  for (int j = 0; j < pm->par.P; j++) {
    kiln_status st = kiln_pot_compute(pot, pm->bead[j], pm->nl[j], want, &pm->res[j], err);
    if (st) return st;
  }
  return KILN_OK;
}

static kiln_status observe(kiln_pimd *pm, kiln_atoms *a, const kiln_md_run_opts *ro,
                           const int *beads, int at_start, kiln_error *err) {
  for (size_t k = 0; k < ro->nobs; k++) {
    const kiln_observer *ob = &ro->obs[k];
    if (at_start ? !ob->at_start : pm->par.step % ob->every != 0) continue;
    const int nb = beads && beads[k] ? pm->par.P : 0;
    for (int j = 0; j < (nb ? nb : 1); j++) {
      kiln_error oerr = {0};
      pm->cur_bead = nb ? j : -1;
      kiln_status st = ob->fn(ob->ud, pm->par.step, nb ? pm->bead[j] : a, &pm->th.th, &oerr);
      pm->cur_bead = -1;
      if (st) {
        if (!oerr.msg[0])
          KILN_FAIL(&oerr, st, "pimd run: observer %zu failed at step %ld (%s)", k + 1,
                    pm->par.step, kiln_strerror(st));
        if (err) *err = oerr;
        return st;
      }
    }
  }
  return KILN_OK;
}

static kiln_status write_chk(kiln_pimd *pm, kiln_pot *pot, const char *file, long *last,
                             kiln_error *err) {
  kiln_status st = kiln_pimd_checkpoint_write(pm, file, err);
  if (!st) {
    *last = pm->par.step;
    kiln_pot_invalidate(pot);
  }
  return st;
}

kiln_status kiln_pimd_run(kiln_pimd *pm, kiln_atoms *a, kiln_pot *pot, long nsteps,
                          const kiln_pimd_run_opts *pro, kiln_error *err) {
  static const kiln_md_run_opts none = {0};
  const kiln_md_run_opts *ro = pro ? &pro->md : &none;
  const int *obs_beads = pro ? pro->obs_beads : NULL;
  kiln_status st = check_args(pm, a, pot, nsteps, ro, err);
  if (st) return st;
  const double skin = ro->skin > 0.0 ? ro->skin : 1.0;

  int resumed = 0;
  if (ro->resume && access(ro->checkpoint, F_OK) == 0) {
    if ((st = kiln_pimd_checkpoint_read(pm, a, ro->checkpoint, err))) return st;
    resumed = 1;
  }
  if (!resumed) {
    pm->run_start = pm->par.step;
    pm->run_target = pm->par.step + nsteps;
  }
  const long total = pm->run_target - pm->run_start;
  if (!beads_match(pm, a)) {
    if ((st = kilni_pimd_make_beads(pm, a, err))) return st;
  } else {
    /* the cell, masses and species may have been edited between runs */
    for (int j = 0; j < pm->par.P; j++) {
      memcpy(pm->bead[j]->cell, a->cell, sizeof a->cell);
      memcpy(pm->bead[j]->pbc, a->pbc, sizeof a->pbc);
      memcpy(pm->bead[j]->mass, a->mass, a->n * sizeof *a->mass);
    }
  }
  if ((st = ensure_lists(pm, pot, skin, err))) return st;
  if (pm->fvalid) {
    /* restored from a checkpoint: rebuild each list as the writer had it */
    kiln_pot_invalidate(pot);
    for (int j = 0; j < pm->par.P && !st; j++)
      if (pm->xref && pm->xref[j])
        st = kiln_neigh_build_from_cell(pm->nl[j], pm->bead[j], (const double(*)[3])pm->xref[j],
                                        (const double(*)[3])pm->xcell[j], err);
  } else {
    st = forces(pm, pot, err);
  }
  for (int j = 0; pm->xref && j < pm->par.P; j++) {
    free(pm->xref[j]);
    pm->xref[j] = NULL;
  }
  pm->fvalid = 0;
  if (st) return st;
  kilni_pimd_centroid_to(pm, a);
  kilni_pimd_thermo_fill(pm);
  if ((st = observe(pm, a, ro, obs_beads, 1, err))) return st;

  long last_chk = resumed ? pm->par.step : -1;
  while (pm->par.step < pm->run_target) {
    if ((st = kilni_pimd_pre_force(pm, err))) return st;
    if ((st = forces(pm, pot, err))) return st;
    kilni_pimd_post_force(pm);
    pm->par.step++;
    pm->par.time += pm->par.dt;
    kilni_pimd_centroid_to(pm, a);
    int fire = 0;
    for (size_t k = 0; k < ro->nobs && !fire; k++) fire = pm->par.step % ro->obs[k].every == 0;
    if (fire) {
      kilni_pimd_thermo_fill(pm);
      if ((st = observe(pm, a, ro, obs_beads, 0, err))) goto stop;
      if (a->n != pm->n) {
        st = KILN_FAIL(err, KILN_EINVAL, "pimd run: an observer changed the number of atoms "
                       "(%zu -> %zu); PIMD observers must not change the atoms", pm->n, a->n);
        goto stop;
      }
      kilni_pimd_centroid_to(pm, a); /* observers see the centroid; edits are not kept */
    }
    if (ro->checkpoint && ro->checkpoint_every > 0 && pm->par.step % ro->checkpoint_every == 0)
      if ((st = write_chk(pm, pot, ro->checkpoint, &last_chk, err))) goto stop;
    if (ro->progress && ro->progress(ro->progress_ud, pm->par.step - pm->run_start, total)) {
      if (ro->checkpoint && last_chk != pm->par.step &&
          (st = write_chk(pm, pot, ro->checkpoint, &last_chk, err)))
        goto stop;
      st = KILN_FAIL(err, KILN_EINTR, "interrupted (after step %ld of %ld)",
                     pm->par.step - pm->run_start, total);
      goto stop;
    }
  }
  if (ro->checkpoint && last_chk != pm->par.step)
    st = write_chk(pm, pot, ro->checkpoint, &last_chk, err);
stop:
  if (a->n == pm->n) kilni_pimd_centroid_to(pm, a);
  kilni_pimd_thermo_fill(pm);
  return st;
}
