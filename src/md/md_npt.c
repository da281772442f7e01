/* src/md/md_npt.c: "npt", constant pressure (or stress) and temperature: the stochastic
 * cell rescaling barostat (barostat.h) with a Langevin or CSVR particle thermostat.
 *
 * One step (the time-reversible "Trotter" arrangement of Bernetti & Bussi 2020):
 *   pre_force:  Th(dt/2) B(dt/2) C(dt)      post_force: [heat of C] B(dt/2) Th(dt/2)
 * Th = the thermostat's half step (Langevin: exact Ornstein-Uhlenbeck over dt/2; CSVR:
 * kinetic-energy resampling over dt/2), B = half kick, C = the barostat move drawn from
 * the pressure tensor at the start of the step (virial of the last force call, kinetic
 * part after the half kick), applied together with the drift:
 *   x' = mu x + (mu + mu^-T)/2 v dt,  v' = mu^-T v,  cell' = cell mu^T.
 * The barostat draws from its own random stream (seed, stream 1), so the thermostat
 * consumes md->rng exactly as the NVT styles do.
 *
 * Conserved ("effective energy"): etot + P0 V + W_dev + thermostat reservoir + barostat
 * heat, where P0 is the isotropic target, W_dev the work of a deviatoric target stress
 * (sum of V <dev P0, e> over the moves; zero for a hydrostatic target) and the barostat
 * heat the sum of kilni_scr_heat. */
#include <math.h>
#include <string.h>
#include "barostat.h"
#include "md_internal.h"
#include "kiln/units.h"

enum { TH_LANGEVIN = 0, TH_CSVR = 1 };

typedef struct npt_state {
  kilni_scr scr;
  int thermostat;       /* TH_* */
  double ttime;         /* damping (langevin) or tau (csvr), fs */
  double p0;            /* isotropic target, eV/Å^3 */
  double res_thermo;    /* eV removed by the thermostat */
  double res_baro;      /* eV: barostat heat */
  double wdev;          /* eV: work of the deviatoric target stress */
  kiln_rng brng;        /* barostat stream */
  kilni_scr_move mv;    /* the move of the current step */
} npt_state;

#define WHAT "md npt"

static kiln_status init(kiln_md *md, const kiln_opts *o, kiln_error *err) {
  npt_state *s = md->state;
  memset(s, 0, sizeof *s);
  kiln_status st;
  if ((st = kilni_scr_opts(&s->scr, o, WHAT, &s->p0, err))) return st;

  /* thermostat */
  const char *th;
  const int has_damp = kiln_opts_get(o, "damping") != NULL, has_tau = kiln_opts_get(o, "tau") != NULL;
  if ((st = kiln_opts_str(o, WHAT, "thermostat", 1, has_tau && !has_damp ? "csvr" : "langevin",
                          &th, err)))
    return st;
  if (!strcmp(th, "langevin")) {
    s->thermostat = TH_LANGEVIN;
    if (has_tau)
      return KILN_FAIL(err, KILN_EINVAL,
                       WHAT ": the langevin thermostat takes damping= (fs), not tau=");
    if ((st = kilni_md_thermostat_opts(md, o, WHAT, "damping", &s->ttime, err))) return st;
  } else if (!strcmp(th, "csvr")) {
    s->thermostat = TH_CSVR;
    if (has_damp)
      return KILN_FAIL(err, KILN_EINVAL, WHAT ": the csvr thermostat takes tau= (fs), not damping=");
    if ((st = kilni_md_thermostat_opts(md, o, WHAT, "tau", &s->ttime, err))) return st;
  } else {
    return KILN_FAIL(err, KILN_EINVAL, WHAT ": unknown thermostat '%s' (known: langevin, csvr)",
                     th);
  }
  s->scr.kT = KILN_KB * md->T;
  kiln_rng_seed(&s->brng, md->seed, 1);
  return KILN_OK;
}

/* thermostat half step over h */
static kiln_status thermostat(kiln_md *md, kiln_atoms *a, double h, kiln_error *err) {
  npt_state *s = md->state;
  if (s->thermostat == TH_LANGEVIN) {
    const double c1 = exp(-h / s->ttime);
    const double c2 = sqrt((1.0 - c1 * c1) * KILN_KB * md->T / KILN_MVV2E);
    double d = 0.0;
    for (size_t i = 0; i < a->n; i++) {
      double *v = a->v[i];
      const double m = a->mass[i], sig = c2 / sqrt(m);
      const double before = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
      v[0] = c1 * v[0] + sig * kiln_rng_normal(&md->rng);
      v[1] = c1 * v[1] + sig * kiln_rng_normal(&md->rng);
      v[2] = c1 * v[2] + sig * kiln_rng_normal(&md->rng);
      d += m * (before - (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]));
    }
    s->res_thermo += 0.5 * KILN_MVV2E * d;
    return KILN_OK;
  }
  double nf, mvv;
  kiln_status st = kilni_md_thermal(md, a, WHAT, &nf, &mvv, err);
  if (st) return st;
  const double K = 0.5 * mvv, Kt = 0.5 * nf * KILN_KB * md->T;
  const double c = exp(-h / s->ttime);
  const double r1 = kiln_rng_normal(&md->rng);
  const double S = kiln_rng_chisq(&md->rng, (long)nf - 1);
  const double Knew =
      c * K + (1.0 - c) * Kt / nf * (r1 * r1 + S) + 2.0 * r1 * sqrt(c * (1.0 - c) * K * Kt / nf);
  double alpha = sqrt(Knew / K);
  if (sqrt(c * K) + sqrt((1.0 - c) * Kt / nf) * r1 < 0.0) alpha = -alpha;
  kilni_md_scale(a, alpha);
  s->res_thermo += K - Knew;
  return KILN_OK;
}

static kiln_status pre_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  npt_state *s = md->state;
  kiln_status st = thermostat(md, a, 0.5 * md->dt, err);
  if (st) return st;
  kilni_md_kick(a, 0.5 * md->dt);
  const double V = kiln_atoms_volume(a);
  if (!(a->pbc[0] && a->pbc[1] && a->pbc[2]))
    return KILN_FAIL(err, KILN_EINVAL, WHAT ": the cell must be periodic in all three directions "
                     "(pbc = %d %d %d)", a->pbc[0], a->pbc[1], a->pbc[2]);
  double P[3][3];
  kilni_pressure_tensor(a, md->last.virial, V, P);
  if ((st = kilni_scr_propose(&s->scr, P, V, md->dt, &s->brng, &s->mv, err))) return st;
  kilni_scr_apply(s->mv.mu, a, md->dt);
  return KILN_OK;
}

static kiln_status post_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  npt_state *s = md->state;
  const double V = kiln_atoms_volume(a);
  double P[3][3];
  kilni_pressure_tensor(a, md->last.virial, V, P);
  s->res_baro += kilni_scr_heat(&s->scr, &s->mv, P, V);
  if (s->scr.mode != KILNI_SCR_ISO) {
    double d = 0.0;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) d += (s->scr.P0[i][j] - (i == j ? s->p0 : 0.0)) * s->mv.e[i][j];
    s->wdev += 0.5 * (s->mv.V0 + V) * d;
  }
  kilni_md_kick(a, 0.5 * md->dt);
  return thermostat(md, a, 0.5 * md->dt, err);
}

static double reservoir(const kiln_md *md) {
  const npt_state *s = md->state;
  return s->res_thermo + s->res_baro + s->wdev;
}

static void thermo(const kiln_md *md, const kiln_atoms *a, kiln_thermo *th) {
  const npt_state *s = md->state;
  th->conserved += s->p0 * kiln_atoms_volume(a);
  (void)a;
}

const kiln_md_style kiln_md_npt_style = {
    .name = "npt",
    .description = "constant pressure/stress and temperature: stochastic cell rescaling "
                   "(isotropic, anisotropic or fully flexible) with a Langevin or CSVR "
                   "thermostat",
    .citation = "M. Bernetti, G. Bussi, J. Chem. Phys. 153, 114107 (2020); V. Del Tatto, "
                "P. Raiteri, M. Bernetti, G. Bussi, Appl. Sci. 12, 1139 (2022)",
    .options = "dt=number (fs, required) time step\n"
               "T=number (K, required) target temperature\n"
               "P=number (GPa) isotropic target pressure (or stress=)\n"
               "stress=table (GPa) 3x3 target stress, tension positive (or P=)\n"
               "mode=string (iso|aniso|full; default iso with P, full with stress)\n"
               "barostat=string (default scr) stochastic cell rescaling\n"
               "tau_p=number (fs, required) barostat relaxation time\n"
               "compressibility=number (1/GPa, default 0.01) estimate of the isothermal "
               "compressibility\n"
               "thermostat=string (langevin|csvr; default from damping=/tau=)\n"
               "damping=number (fs) Langevin velocity relaxation time\n"
               "tau=number (fs) CSVR kinetic-energy relaxation time\n"
               "seed=integer (default 1) random streams (thermostat 0, barostat 1)\n",
    .init = init,
    .pre_force = pre_force,
    .post_force = post_force,
    .reservoir = reservoir,
    .destroy = NULL,
    .state_size = sizeof(npt_state),
    .thermo = thermo,
};
