/* src/md/run.c: integrator objects and the step loop.
 *
 * One step: style->pre_force -> kiln_pot_compute (energy, forces, virial; the
 * neighbor list is updated inside) -> style->post_force -> step++, time += dt ->
 * thermo (only when an observer fires) -> observers (forces are recomputed if they
 * changed the atoms) -> checkpoint -> progress.
 * Nothing is allocated inside the loop. The core never calls Lua: a binding
 * wraps Lua functions as kiln_observer callbacks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "md_internal.h"

kiln_status kilni_md_thermostat_opts(const kiln_md *md, const kiln_opts *o, const char *what,
                                     const char *key, double *time, kiln_error *err) {
  if (!kiln_opts_get(o, "T"))
    return KILN_FAIL(err, KILN_EINVAL, "%s: missing option 'T' (target temperature, K)", what);
  if (!(md->T > 0.0))
    return KILN_FAIL(err, KILN_EINVAL, "%s: T must be a positive temperature in K (got %g)", what,
                     md->T);
  kiln_status st = kiln_opts_num(o, what, key, 0, 0.0, time, err);
  if (st) return st;
  if (!(*time > 0.0) || !isfinite(*time))
    return KILN_FAIL(err, KILN_EINVAL, "%s: %s must be a positive time in fs (got %g)", what, key,
                     *time);
  return KILN_OK;
}

kiln_status kilni_md_thermal(const kiln_md *md, const kiln_atoms *a, const char *what,
                             double *nf, double *mvv, kiln_error *err) {
  *nf = kiln_atoms_dof(a);
  if (!(*nf >= 1.0))
    return KILN_FAIL(err, KILN_EINVAL, "%s: %zu atoms have no thermal degrees of freedom", what,
                     a->n);
  *mvv = kilni_md_mvv(a);
  if (!(*mvv > 0.0))
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: the kinetic energy is zero, so velocities cannot be rescaled "
                     "(give the atoms initial velocities, e.g. a:set_velocities{T=%g})",
                     what, md->T);
  return KILN_OK;
}

static kiln_status unknown_style(const char *style, kiln_error *err) {
  char names[256] = "";
  size_t len = 0;
  for (size_t i = 0; i < kiln_md_nstyles() && len + 1 < sizeof names; i++)
    len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "",
                            kiln_md_style_at(i)->name);
  return KILN_FAIL(err, KILN_EINVAL, "unknown md style '%s' (known: %s)", style ? style : "(null)",
                   names);
}

kiln_status kiln_md_new(kiln_md **out, const char *style, const kiln_opts *o, kiln_error *err) {
  *out = NULL;
  const kiln_md_style *s = kiln_md_find(style);
  if (!s) return unknown_style(style, err);
  char what[64];
  snprintf(what, sizeof what, "md %s", s->name);

  double dt, T;
  long seed;
  kiln_status st;
  /* a misspelt option is named before it shows up as a missing one */
  if ((st = kiln_opts_check_known(o, what, s->options, "dt T seed", err))) return st;
  if ((st = kiln_opts_num(o, what, "dt", 0, 0.0, &dt, err))) return st;
  if (!(dt > 0.0) || !isfinite(dt))
    return KILN_FAIL(err, KILN_EINVAL, "%s: dt must be a positive time step in fs (got %g)", what,
                     dt);
  if ((st = kiln_opts_num(o, what, "T", 1, 0.0, &T, err))) return st;
  if (!(T >= 0.0) || !isfinite(T))
    return KILN_FAIL(err, KILN_EINVAL, "%s: T must be a temperature >= 0 K (got %g)", what, T);
  if ((st = kiln_opts_int(o, what, "seed", 1, 1, &seed, err))) return st;
  if (seed < 0)
    return KILN_FAIL(err, KILN_EINVAL, "%s: seed must be >= 0 (got %ld)", what, seed);

  kilni_md_impl *m = calloc(1, sizeof *m);
  if (!m) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  kiln_md *md = &m->pub;
  md->style = s;
  md->dt = dt;
  md->T = T;
  md->seed = (uint64_t)seed;
  kiln_rng_seed(&md->rng, md->seed, 0);
  if (s->state_size && !(md->state = calloc(1, s->state_size))) {
    free(m);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory for the integrator state", what);
  }
  if ((s->init && (st = s->init(md, o, err))) || (st = kiln_opts_check_unused(o, what, err))) {
    kiln_md_free(md);
    return st;
  }
  md->thermo.conserved = 0.0;
  *out = md;
  return KILN_OK;
}

void kiln_md_free(kiln_md *md) {
  if (!md) return;
  kilni_md_impl *m = (kilni_md_impl *)md;
  if (md->style && md->style->destroy) md->style->destroy(md);
  free(md->state);
  kiln_neigh_free(md->nl);
  free(m->fx);
  free(m->ftype);
  free(m->xref);
  free(m);
}

/* ------------------------------------------------ forces-valid bookkeeping */

void kilni_md_forces_mark(kiln_md *md, const kiln_atoms *a, const kiln_pot *pot, int any_pot) {
  kilni_md_impl *m = (kilni_md_impl *)md;
  m->fvalid = 0;
  if (a->n > m->fcap) {
    double (*x)[3] = realloc(m->fx, a->n * sizeof *x);
    if (!x) return; /* forces will just be recomputed */
    m->fx = x;
    int32_t *t = realloc(m->ftype, a->n * sizeof *t);
    if (!t) return;
    m->ftype = t;
    m->fcap = a->n;
  }
  if (a->n) {
    memcpy(m->fx, a->x, a->n * sizeof *m->fx);
    memcpy(m->ftype, a->type, a->n * sizeof *m->ftype);
  }
  memcpy(m->fcell, a->cell, sizeof m->fcell);
  memcpy(m->fpbc, a->pbc, sizeof m->fpbc);
  m->fn = a->n;
  m->fgen = a->generation;
  m->fa = a;
  m->fpot = pot;
  m->fany_pot = any_pot;
  m->fvalid = 1;
}

static int forces_valid(const kiln_md *md, const kiln_atoms *a, const kiln_pot *pot) {
  const kilni_md_impl *m = (const kilni_md_impl *)md;
  if (!m->fvalid || m->fa != a || (!m->fany_pot && m->fpot != pot)) return 0;
  if (a->n != m->fn || a->generation != m->fgen) return 0;
  if (memcmp(m->fcell, a->cell, sizeof m->fcell) || memcmp(m->fpbc, a->pbc, sizeof m->fpbc))
    return 0;
  if (a->n && (memcmp(m->fx, a->x, a->n * sizeof *m->fx) ||
               memcmp(m->ftype, a->type, a->n * sizeof *m->ftype)))
    return 0;
  return 1;
}

/* ------------------------------------------------------------------ run */

static kiln_status check_args(const kiln_md *md, const kiln_atoms *a, const kiln_pot *pot,
                              long nsteps, const kiln_md_run_opts *ro, kiln_error *err) {
  if (!md || !a || !pot)
    return KILN_FAIL(err, KILN_EINVAL, "md run: integrator, atoms and potential are required");
  if (nsteps < 0)
    return KILN_FAIL(err, KILN_EINVAL, "md run: number of steps must be >= 0 (got %ld)", nsteps);
  for (size_t k = 0; k < ro->nobs; k++) {
    if (!ro->obs[k].fn)
      return KILN_FAIL(err, KILN_EINVAL, "md run: observer %zu has no function", k + 1);
    if (ro->obs[k].every < 1)
      return KILN_FAIL(err, KILN_EINVAL, "md run: observer %zu: every must be >= 1 (got %ld)",
                       k + 1, ro->obs[k].every);
  }
  if (ro->checkpoint_every < 0)
    return KILN_FAIL(err, KILN_EINVAL, "md run: checkpoint every must be >= 0 steps (got %ld)",
                     ro->checkpoint_every);
  if (ro->checkpoint && !ro->checkpoint[0])
    return KILN_FAIL(err, KILN_EINVAL, "md run: empty checkpoint file name");
  if (ro->resume && !ro->checkpoint)
    return KILN_FAIL(err, KILN_EINVAL, "md run: resume needs a checkpoint file");
  return KILN_OK;
}

static kiln_status check_atoms(const kiln_atoms *a, kiln_error *err) {
  if (a->n == 0) return KILN_FAIL(err, KILN_EINVAL, "md run: the atoms object is empty");
  for (size_t i = 0; i < a->n; i++)
    if (!(a->mass[i] > 0.0) || !isfinite(a->mass[i]))
      return KILN_FAIL(err, KILN_EINVAL,
                       "md run: atom %zu (id %lld) has mass %g amu; masses must be positive",
                       i + 1, (long long)a->id[i], a->mass[i]);
  return KILN_OK;
}

/* keep md->nl if it fits the potential, else make a new one */
static kiln_status ensure_list(kiln_md *md, const kiln_pot *pot, double skin, kiln_error *err) {
  const int kind = kiln_pot_neigh_kind(pot);
  const double rc = kiln_pot_cutoff(pot);
  if (md->nl && md->nl->kind == kind && md->nl->cutoff == rc && md->nl->skin == skin)
    return KILN_OK;
  kiln_neigh_free(md->nl);
  md->nl = NULL;
  return kiln_neigh_new(&md->nl, kind, rc, skin, err);
}

/* md->nl goes on untouched (its reference positions are in the file, so a resumed run
 * rebuilds the same list). The lists a potential keeps itself (sum parts) are not saved:
 * they are rebuilt here, as they will be at the start of a run resumed from the file. */
static kiln_status write_chk(kiln_md *md, const kiln_atoms *a, kiln_pot *pot, const char *file,
                             long *last_chk, kiln_error *err) {
  kiln_status st = kiln_md_checkpoint_write(md, a, file, err);
  if (!st) {
    *last_chk = md->step;
    kiln_pot_invalidate(pot);
  }
  return st;
}

kiln_status kiln_md_run(kiln_md *md, kiln_atoms *a, kiln_pot *pot, long nsteps,
                        const kiln_md_run_opts *ro, kiln_error *err) {
  static const kiln_md_run_opts none = {0};
  const unsigned want = KILN_EVAL_ENERGY | KILN_EVAL_FORCES | KILN_EVAL_VIRIAL;
  if (!ro) ro = &none;
  kiln_status st = check_args(md, a, pot, nsteps, ro, err);
  if (st) return st;
  kilni_md_impl *m = (kilni_md_impl *)md;
  const double skin = ro->skin > 0.0 ? ro->skin : 1.0;

  /* resume: restore the checkpoint and finish the run that wrote it */
  int resumed = 0;
  if (ro->resume && access(ro->checkpoint, F_OK) == 0) {
    if ((st = kiln_md_checkpoint_read(md, a, ro->checkpoint, err))) return st;
    resumed = 1;
  }
  if (!resumed) {
    md->run_start = md->step;
    md->run_target = md->step + nsteps;
  }
  const long total = md->run_target - md->run_start;
  if ((st = check_atoms(a, err))) return st;
  if ((st = ensure_list(md, pot, skin, err))) return st;

  /* reference positions of the checkpoint writer's list (consumed here either way) */
  double(*xref)[3] = m->xref;
  const size_t nxref = m->nxref;
  m->xref = NULL;
  m->nxref = 0;
  if (forces_valid(md, a, pot)) {
    /* forces restored from a checkpoint: md->nl is rebuilt from the writer's reference
     * positions (the same list, and the same rebuild steps after it); the potential's own
     * lists start afresh, as they did at the checkpoint in the run that wrote it */
    if (m->fany_pot) {
      kiln_pot_invalidate(pot);
      if (xref && nxref == a->n)
        st = kiln_neigh_build_from_cell(md->nl, a, (const double(*)[3])xref,
                                        (const double(*)[3])m->xcell, err);
    }
    free(xref);
    if (st) return st;
  } else {
    free(xref);
    m->fvalid = 0;
    if ((st = kiln_pot_compute(pot, a, md->nl, want, &md->last, err))) return st;
  }
  m->fvalid = 0; /* positions change from here on */
  kilni_md_thermo_fill(md, a);
  for (size_t k = 0; k < ro->nobs; k++) {
    const kiln_observer *ob = &ro->obs[k];
    if (!ob->at_start) continue;
    kiln_error oerr = {0};
    if ((st = ob->fn(ob->ud, md->step, a, &md->thermo, &oerr))) {
      if (!oerr.msg[0])
        KILN_FAIL(&oerr, st, "md run: observer %zu failed at the start (step %ld, %s)", k + 1,
                  md->step, kiln_strerror(st));
      if (err) *err = oerr;
      return st;
    }
  }

  long last_chk = resumed ? md->step : -1;
  const kiln_md_style *s = md->style;
  while (md->step < md->run_target) {
    if ((st = s->pre_force(md, a, err))) return st;
    if ((st = kiln_pot_compute(pot, a, md->nl, want, &md->last, err))) return st;
    if ((st = s->post_force(md, a, err))) return st;
    md->step++;
    md->time += md->dt;

    /* a step boundary: the state is consistent from here on */
    int have_thermo = 0;
    for (size_t k = 0; k < ro->nobs; k++) {
      const kiln_observer *ob = &ro->obs[k];
      if (md->step % ob->every) continue;
      if (!have_thermo) {
        kilni_md_thermo_fill(md, a);
        have_thermo = 1;
        /* observers may change the atoms (positions, cell, species, atoms added) */
        kilni_md_forces_mark(md, a, pot, 0);
      }
      kiln_error oerr = {0};
      if ((st = ob->fn(ob->ud, md->step, a, &md->thermo, &oerr))) {
        if (!oerr.msg[0])
          KILN_FAIL(&oerr, st, "md run: observer %zu failed at step %ld (%s)", k + 1, md->step,
                    kiln_strerror(st));
        if (err) *err = oerr;
        goto stop;
      }
    }
    if (have_thermo) {
      /* if an observer changed the atoms, the next half kick needs their new forces */
      const int changed = !forces_valid(md, a, pot);
      m->fvalid = 0;
      if (changed && ((st = check_atoms(a, err)) ||
                      (st = kiln_pot_compute(pot, a, md->nl, want, &md->last, err)))) {
        kilni_md_thermo_fill(md, a);
        return st;
      }
    }
    if (ro->checkpoint && ro->checkpoint_every > 0 && md->step % ro->checkpoint_every == 0)
      if ((st = write_chk(md, a, pot, ro->checkpoint, &last_chk, err))) goto stop;
    if (ro->progress && ro->progress(ro->progress_ud, md->step - md->run_start, total)) {
      if (ro->checkpoint && last_chk != md->step &&
          (st = write_chk(md, a, pot, ro->checkpoint, &last_chk, err)))
        goto stop;
      st = KILN_FAIL(err, KILN_EINTR, "interrupted (after step %ld of %ld)",
                     md->step - md->run_start, total);
      goto stop;
    }
  }
  if (ro->checkpoint && last_chk != md->step)
    st = write_chk(md, a, pot, ro->checkpoint, &last_chk, err);

stop:
  kilni_md_thermo_fill(md, a);
  if (m->fvalid && !forces_valid(md, a, pot))
    m->fvalid = 0; /* an observer changed the atoms, then failed: forces are stale */
  else
    kilni_md_forces_mark(md, a, pot, 0);
  return st;
}
