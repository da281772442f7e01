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
  s->reservoir = 0.0;
  return kilni_md_thermostat_opts(md, o, "md csvr", "tau", &s->tau, err);
}

static kiln_status rescale(kiln_md *md, kiln_atoms *a, double h, kiln_error *err) {
  csvr_state *s = md->state;
  double nf, mvv;
  kiln_status st = kilni_md_thermal(md, a, "md csvr", &nf, &mvv, err);
  if (st) return st;
  const double K = 0.5 * mvv;
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
  return kilni_md_verlet_pre(md, a, rescale, err);
}

static kiln_status post_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  return kilni_md_verlet_post(md, a, rescale, err);
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
