/* src/md/md_nosehoover.c: "nosehoover", a Nosé-Hoover chain thermostat
 * integrated as Martyna, Tuckerman, Tobias & Klein (Mol. Phys. 87, 1117 (1996)):
 *   pre_force:  C(dt/2) B A(dt)      post_force: B C(dt/2)
 * where C(h) is the palindromic Trotter update of the chain over h, split into
 * nc sub-steps each with the Suzuki-Yoshida weights of order sy (1, 3 or 5).
 * Chain masses: Q1 = Nf kT tau^2, Qj = kT tau^2 (j >= 2), Nf = kiln_atoms_dof.
 * Conserved quantity: etot + sum_j Qj veta_j^2 / 2 + Nf kT eta_1 + kT sum_{j>=2} eta_j;
 * the extended-system terms are the reservoir. Units: Q eV fs^2, veta 1/fs. */
#include <math.h>
#include "md_internal.h"
#include "kiln/units.h"

#define NHC_MAX 16

typedef struct nhc_state {
  double tau;               /* fs */
  long M, nc, nsy;          /* chain length, sub-steps, Suzuki-Yoshida order */
  double w[5];              /* Suzuki-Yoshida weights */
  double nf, kT;            /* as used in the last update (for the reservoir) */
  double Q[NHC_MAX], eta[NHC_MAX], veta[NHC_MAX];
} nhc_state;

static kiln_status init(kiln_md *md, const kiln_opts *o, kiln_error *err) {
  nhc_state *s = md->state;
  const char *what = "md nosehoover";
  kiln_status st = kilni_md_thermostat_opts(md, o, what, "tau", &s->tau, err);
  if (st) return st;
  if ((st = kiln_opts_int(o, what, "chain", 1, 3, &s->M, err))) return st;
  if (s->M < 1 || s->M > NHC_MAX)
    return KILN_FAIL(err, KILN_EINVAL, "%s: chain must be between 1 and %d thermostats (got %ld)",
                     what, NHC_MAX, s->M);
  if ((st = kiln_opts_int(o, what, "nc", 1, 1, &s->nc, err))) return st;
  if (s->nc < 1 || s->nc > 1000)
    return KILN_FAIL(err, KILN_EINVAL, "%s: nc (sub-steps per half step) must be 1..1000 (got %ld)",
                     what, s->nc);
  if ((st = kiln_opts_int(o, what, "sy", 1, 1, &s->nsy, err))) return st;
  if (s->nsy == 1) {
    s->w[0] = 1.0;
  } else if (s->nsy == 3) {
    s->w[0] = s->w[2] = 1.0 / (2.0 - cbrt(2.0));
    s->w[1] = 1.0 - 2.0 * s->w[0];
  } else if (s->nsy == 5) {
    s->w[0] = s->w[1] = s->w[3] = s->w[4] = 1.0 / (4.0 - cbrt(4.0));
    s->w[2] = 1.0 - 4.0 * s->w[0];
  } else {
    return KILN_FAIL(err, KILN_EINVAL, "%s: sy (Suzuki-Yoshida order) must be 1, 3 or 5 (got %ld)",
                     what, s->nsy);
  }
  return KILN_OK;
}

/* Update the chain over h and scale the velocities accordingly. */
static kiln_status chain(kiln_md *md, kiln_atoms *a, double h, kiln_error *err) {
  nhc_state *s = md->state;
  const long M = s->M;
  const double kT = KILN_KB * md->T;
  double nf, K2; /* K2 = 2 K, eV */
  kiln_status st = kilni_md_thermal(md, a, "md nosehoover", &nf, &K2, err);
  if (st) return st;
  double *Q = s->Q, *eta = s->eta, *ve = s->veta, G[NHC_MAX];
  s->nf = nf;
  s->kT = kT;
  Q[0] = nf * kT * s->tau * s->tau;
  for (long j = 1; j < M; j++) Q[j] = kT * s->tau * s->tau;
  G[0] = (K2 - nf * kT) / Q[0];
  for (long j = 1; j < M; j++) G[j] = (Q[j - 1] * ve[j - 1] * ve[j - 1] - kT) / Q[j];

  double scale = 1.0;
  for (long ic = 0; ic < s->nc; ic++) {
    for (long k = 0; k < s->nsy; k++) {
      const double d = s->w[k] * h / (double)s->nc, d2 = 0.5 * d, d4 = 0.25 * d;
      /* down the chain */
      ve[M - 1] += d2 * G[M - 1];
      for (long j = M - 2; j >= 0; j--) {
        double e = exp(-d4 * ve[j + 1]);
        ve[j] = (ve[j] * e + d2 * G[j]) * e;
      }
      /* particles and chain positions */
      double sc = exp(-d * ve[0]);
      scale *= sc;
      K2 *= sc * sc;
      for (long j = 0; j < M; j++) eta[j] += d * ve[j];
      G[0] = (K2 - nf * kT) / Q[0];
      /* up the chain */
      for (long j = 0; j < M - 1; j++) {
        double e = exp(-d4 * ve[j + 1]);
        ve[j] = (ve[j] * e + d2 * G[j]) * e;
        G[j + 1] = (Q[j] * ve[j] * ve[j] - kT) / Q[j + 1];
      }
      ve[M - 1] += d2 * G[M - 1];
    }
  }
  kilni_md_scale(a, scale);
  return KILN_OK;
}

static kiln_status pre_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  return kilni_md_verlet_pre(md, a, chain, err);
}

static kiln_status post_force(kiln_md *md, kiln_atoms *a, kiln_error *err) {
  return kilni_md_verlet_post(md, a, chain, err);
}

static double reservoir(const kiln_md *md) {
  const nhc_state *s = md->state;
  double r = 0.0;
  for (long j = 0; j < s->M; j++) {
    r += 0.5 * s->Q[j] * s->veta[j] * s->veta[j];
    r += (j == 0 ? s->nf : 1.0) * s->kT * s->eta[j];
  }
  return r;
}

const kiln_md_style kiln_md_nosehoover_style = {
    .name = "nosehoover",
    .description = "Nose-Hoover chain thermostat (MTK integration, optional Suzuki-Yoshida)",
    .citation = "G. J. Martyna, M. E. Tuckerman, D. J. Tobias, M. L. Klein, "
                "Mol. Phys. 87, 1117 (1996)",
    .options = "dt=number (fs, required) time step\n"
               "T=number (K, required) target temperature\n"
               "tau=number (fs, required) thermostat period (chain masses Q = Nf kT tau^2, kT tau^2)\n"
               "chain=integer (default 3, 1..16) number of thermostats in the chain\n"
               "nc=integer (default 1) sub-steps of each half-step chain update\n"
               "sy=integer (default 1; 1, 3 or 5) Suzuki-Yoshida order of each sub-step\n",
    .init = init,
    .pre_force = pre_force,
    .post_force = post_force,
    .reservoir = reservoir,
    .destroy = NULL,
    .state_size = sizeof(nhc_state),
};
