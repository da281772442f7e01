/* src/md/md_verlet.c: "verlet", NVE velocity Verlet.
 *   pre_force:  v += dt/2 f/m;  x += dt v
 *   post_force: v += dt/2 f/m
 * Conserved quantity: the total energy (no reservoir). */
#include "md_internal.h"

static kiln_status init(kiln_md *md, const kiln_opts *o, kiln_error *err) {
  (void)md;
  /* The framework parses T for the thermostats; NVE has no target temperature,
   * so a T here is almost certainly a mistake. */
  if (o && kiln_opts_get(o, "T"))
    return KILN_FAIL(err, KILN_EINVAL,
                     "md verlet: option 'T' has no effect in NVE dynamics (set initial velocities "
                     "on the atoms, or use a thermostat: langevin, csvr, nosehoover)");
  return KILN_OK;
}

static kiln_status pre_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  return kilni_md_verlet_pre(md, a, NULL, err);
}

static kiln_status post_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  return kilni_md_verlet_post(md, a, NULL, err);
}

const kiln_md_style kiln_md_verlet_style = {
    .name = "verlet",
    .description = "NVE velocity Verlet (symplectic, second order)",
    .citation = "W. C. Swope, H. C. Andersen, P. H. Berens, K. R. Wilson, "
                "J. Chem. Phys. 76, 637 (1982)",
    .options = "dt=number (fs, required) time step\n",
    .init = init,
    .pre_force = pre_force,
    .post_force = post_force,
    .reservoir = NULL,
    .destroy = NULL,
    .state_size = 0,
};
