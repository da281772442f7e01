/* src/md/md_langevin.c: "langevin", Langevin dynamics with the BAOAB splitting
 * (Leimkuhler & Matthews). With B = half kick, A = half drift and O = the exact
 * Ornstein-Uhlenbeck update over a full step,
 *   pre_force:  B A O A        post_force: B
 * O:  v <- c1 v + sqrt((1 - c1^2) kT / m) xi,   c1 = exp(-dt / damping)
 * (kT/m in eV/amu is divided by KILN_MVV2E to give (Å/fs)^2). The kinetic energy
 * the O step removes is accumulated in the reservoir, so etot + reservoir is the
 * conserved quantity (it drifts only by the splitting error of B and A). */
#include <math.h>
#include "md_internal.h"
#include "kiln/units.h"

typedef struct langevin_state {
  double damping;   /* fs, 1/gamma */
  double reservoir; /* eV taken out of the system by the O steps */
} langevin_state;

static kiln_status init(kiln_md *md, const kiln_opts *o, kiln_error *err) {
  langevin_state *s = md->state;
  s->reservoir = 0.0;
  return kilni_md_thermostat_opts(md, o, "md langevin", "damping", &s->damping, err);
}

/* exact OU step over dt for every atom; returns the kinetic energy removed (eV) */
static double ou_step(kiln_md *md, kiln_atoms *a, const langevin_state *s) {
  const double c1 = exp(-md->dt / s->damping);
  const double c2 = sqrt((1.0 - c1 * c1) * KILN_KB * md->T / KILN_MVV2E);
  double d = 0.0; /* sum m (v_old^2 - v_new^2) */
  for (size_t i = 0; i < a->n; i++) {
    double *v = a->v[i];
    const double m = a->mass[i], sig = c2 / sqrt(m);
    double before = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    v[0] = c1 * v[0] + sig * kiln_rng_normal(&md->rng);
    v[1] = c1 * v[1] + sig * kiln_rng_normal(&md->rng);
    v[2] = c1 * v[2] + sig * kiln_rng_normal(&md->rng);
    d += m * (before - (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]));
  }
  return 0.5 * KILN_MVV2E * d;
}

static kiln_status pre_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  (void)err;
  langevin_state *s = md->state;
  kilni_md_kick(a, 0.5 * md->dt);
  kilni_md_drift(a, 0.5 * md->dt);
  s->reservoir += ou_step(md, a, s);
  kilni_md_drift(a, 0.5 * md->dt);
  return KILN_OK;
}

static kiln_status post_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  return kilni_md_verlet_post(md, a, NULL, err);
}

static double reservoir(const kiln_md *md) {
  return ((const langevin_state *)md->state)->reservoir;
}

const kiln_md_style kiln_md_langevin_style = {
    .name = "langevin",
    .description = "Langevin dynamics, BAOAB splitting with an exact Ornstein-Uhlenbeck step",
    .citation = "B. Leimkuhler, C. Matthews, Appl. Math. Res. Express 2013, 34 (2013)",
    .options = "dt=number (fs, required) time step\n"
               "T=number (K, required) target temperature\n"
               "damping=number (fs, required) velocity relaxation time 1/gamma\n"
               "seed=integer (default 1) random stream\n",
    .init = init,
    .pre_force = pre_force,
    .post_force = post_force,
    .reservoir = reservoir,
    .destroy = NULL,
    .state_size = sizeof(langevin_state),
};
