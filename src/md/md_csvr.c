/* src/md/md_csvr.c: "csvr", canonical sampling through stochastic velocity
 * rescaling (Bussi, Donadio, Parrinello). The kinetic energy K is resampled
 * exactly from the solution of its stochastic equation over a time h:
 *   K' = c K + (1-c) (Kt/Nf) (R1^2 + S) + 2 R1 sqrt(c (1-c) K Kt / Nf)
 * with c = exp(-h/tau), Kt = Nf kT/2, R1 standard normal, S chi-squared with
 * Nf-1 degrees of freedom (kiln_rng_chisq), and all velocities are scaled by
 * alpha = ±sqrt(K'/K); alpha is negative when sqrt(cK) + sqrt((1-c)Kt/Nf) R1 < 0,
 * which makes the update the exact projection of a global Langevin step
 * (Bussi & Parrinello, PRE 75, 056707 (2007)); in practice it never happens.
 *
 * Splitting: the rescaling is applied in two half steps (h = dt/2) around the
 * velocity-Verlet step, so the scheme is symmetric:
 *   pre_force:  R(dt/2) B A(dt)      post_force: B R(dt/2)
 * Nf = kiln_atoms_dof(a). The energy the rescaling removes accumulates in the
 * reservoir; etot + reservoir is conserved up to the Verlet error. */
#include <math.h>
#include "md_internal.h"
#include "kiln/units.h"

typedef struct csvr_state {
  double tau;       /* fs */
  double reservoir; /* eV */
} csvr_state;

static kiln_status init(kiln_md *md, const kiln_opts *o, kiln_error *err) {
  csvr_state *s = md->state;
  kiln_status st = kilni_md_need_T(md, o, "md csvr", err);
  if (st) return st;
  if ((st = kiln_opts_num(o, "md csvr", "tau", 0, 0.0, &s->tau, err))) return st;
  if (!(s->tau > 0.0) || !isfinite(s->tau))
    return KILN_FAIL(err, KILN_EINVAL, "md csvr: tau must be a positive time in fs (got %g)",
                     s->tau);
  s->reservoir = 0.0;
  return KILN_OK;
}

static kiln_status rescale(kiln_md *md, kiln_atoms *a, double h, kiln_error *err) {
  csvr_state *s = md->state;
  const double nf = kiln_atoms_dof(a);
  if (!(nf >= 1.0))
    return KILN_FAIL(err, KILN_EINVAL, "md csvr: %zu atoms have no thermal degrees of freedom",
                     a->n);
  const double K = 0.5 * kilni_md_mvv(a);
  if (!(K > 0.0))
    return KILN_FAIL(err, KILN_EINVAL,
                     "md csvr: the kinetic energy is zero, so velocities cannot be rescaled "
                     "(give the atoms initial velocities, e.g. a:set_velocities{T=%g})",
                     md->T);
  const double Kt = 0.5 * nf * KILN_KB * md->T;
  const double c = exp(-h / s->tau);
  const double r1 = kiln_rng_normal(&md->rng);
  const double S = kiln_rng_chisq(&md->rng, (long)nf - 1);
  const double Knew = c * K + (1.0 - c) * Kt / nf * (r1 * r1 + S) +
                      2.0 * r1 * sqrt(c * (1.0 - c) * K * Kt / nf);
  double alpha = sqrt(Knew / K);
  if (sqrt(c * K) + sqrt((1.0 - c) * Kt / nf) * r1 < 0.0) alpha = -alpha;
  kilni_md_scale(a, alpha);
  s->reservoir += K - Knew;
  return KILN_OK;
}

static kiln_status pre_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  kiln_status st = rescale(md, a, 0.5 * md->dt, err);
  if (st) return st;
  kilni_md_kick(a, 0.5 * md->dt);
  kilni_md_drift(a, md->dt);
  return KILN_OK;
}

static kiln_status post_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  kilni_md_kick(a, 0.5 * md->dt);
  return rescale(md, a, 0.5 * md->dt, err);
}

static double reservoir(const kiln_md *md) { return ((const csvr_state *)md->state)->reservoir; }

const kiln_md_style kiln_md_csvr_style = {
    .name = "csvr",
    .description = "canonical sampling through stochastic velocity rescaling (Bussi thermostat)",
    .citation = "G. Bussi, D. Donadio, M. Parrinello, J. Chem. Phys. 126, 014101 (2007)",
    .options = "dt=number (fs, required) time step\n"
               "T=number (K, required) target temperature\n"
               "tau=number (fs, required) relaxation time of the kinetic energy\n"
               "seed=integer (default 1) random stream\n",
    .init = init,
    .pre_force = pre_force,
    .post_force = post_force,
    .reservoir = reservoir,
    .destroy = NULL,
    .state_size = sizeof(csvr_state),
};
