/* src/pimd/pimd.c: the ring polymer: options, normal modes, the BAOAB step with the
 * exact free ring-polymer propagation and the PILE thermostats, and the estimators.
 * See include/kiln/pimd.h for the conventions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pimd_internal.h"
#include "kiln/units.h"

#define PI 3.14159265358979323846

static const char *const options_doc =
    "beads=integer (required) number of beads P\n"
    "dt=number (fs, required) time step\n"
    "T=number (K, required) temperature\n"
    "thermostat=string (default pile_l) pile_l, pile_g, trpmd or none\n"
    "tau=number (fs, default 100) centroid thermostat time\n"
    "lambda=number (default 1) internal-mode friction gamma_k = 2 lambda w_k\n"
    "seed=integer (default 1) random streams (thermostat 0, barostat 1)\n"
    "P=number (GPa) isotropic target pressure: turns the barostat on (or stress=)\n"
    "stress=table (GPa) 3x3 target stress, tension positive (or P=)\n"
    "mode=string (iso|aniso|full; default iso with P, full with stress)\n"
    "barostat=string (default scr) stochastic cell rescaling on the centroid\n"
    "tau_p=number (fs, required with P/stress) barostat relaxation time\n"
    "compressibility=number (1/GPa, default 0.01) estimate of the isothermal "
    "compressibility\n";

/* orthogonal real normal-mode matrix (Ceriotti et al. 2010): x_j = sum_k C[j][k] q_k */
static void make_cmat(double *C, int P) {
  for (int j = 0; j < P; j++)
    for (int k = 0; k < P; k++) {
      double v;
      if (k == 0) v = sqrt(1.0 / P);
      else if (2 * k < P) v = sqrt(2.0 / P) * cos(2.0 * PI * j * k / P);
      else if (2 * k == P) v = sqrt(1.0 / P) * ((j % 2) ? -1.0 : 1.0);
      else v = sqrt(2.0 / P) * sin(2.0 * PI * j * k / P);
      C[j * P + k] = P == 1 ? 1.0 : v;
    }
}

kiln_status kiln_pimd_new(kiln_pimd **out, const kiln_opts *o, kiln_error *err) {
  const char *what = "md pimd";
  *out = NULL;
  kiln_status st;
  long P, seed;
  double dt, T, tau, lambda;
  const char *ts;
  if ((st = kiln_opts_check_known(o, what, options_doc, NULL, err))) return st;
  if ((st = kiln_opts_int(o, what, "beads", 0, 0, &P, err))) return st;
  if (P < 1 || P > 100000)
    return KILN_FAIL(err, KILN_EINVAL, "%s: beads must be an integer >= 1 (got %ld)", what, P);
  if ((st = kiln_opts_num(o, what, "dt", 0, 0.0, &dt, err))) return st;
  if (!(dt > 0.0) || !isfinite(dt))
    return KILN_FAIL(err, KILN_EINVAL, "%s: dt must be a positive time step in fs (got %g)", what,
                     dt);
  if ((st = kiln_opts_num(o, what, "T", 0, 0.0, &T, err))) return st;
  if (!(T > 0.0) || !isfinite(T))
    return KILN_FAIL(err, KILN_EINVAL, "%s: T must be a positive temperature in K (got %g)", what,
                     T);
  if ((st = kiln_opts_str(o, what, "thermostat", 1, "pile_l", &ts, err))) return st;
  int kind;
  if (!strcmp(ts, "pile_l")) kind = KILN_PIMD_PILE_L;
  else if (!strcmp(ts, "pile_g")) kind = KILN_PIMD_PILE_G;
  else if (!strcmp(ts, "trpmd")) kind = KILN_PIMD_TRPMD;
  else if (!strcmp(ts, "none")) kind = KILN_PIMD_NONE;
  else
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: unknown thermostat '%s' (known: pile_l, pile_g, trpmd, none)", what, ts);
  if ((st = kiln_opts_num(o, what, "tau", 1, 100.0, &tau, err))) return st;
  if (!(tau > 0.0) || !isfinite(tau))
    return KILN_FAIL(err, KILN_EINVAL, "%s: tau must be a positive time in fs (got %g)", what, tau);
  if ((st = kiln_opts_num(o, what, "lambda", 1, 1.0, &lambda, err))) return st;
  if (!(lambda >= 0.0) || !isfinite(lambda))
    return KILN_FAIL(err, KILN_EINVAL, "%s: lambda must be >= 0 (got %g)", what, lambda);
  if ((st = kiln_opts_int(o, what, "seed", 1, 1, &seed, err))) return st;
  if (seed < 0) return KILN_FAIL(err, KILN_EINVAL, "%s: seed must be >= 0 (got %ld)", what, seed);
  kiln_pimd_par par = {.P = (int)P, .dt = dt, .T = T, .tau = tau, .lambda = lambda,
                       .thermostat = kind, .seed = (uint64_t)seed};
  kiln_pimd_baro baro;
  if ((st = kilni_pimd_baro_opts(&baro, &par, o, err))) return st;
  if ((st = kiln_opts_check_unused(o, what, err))) return st;

  kiln_pimd *pm = calloc(1, sizeof *pm);
  if (!pm) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  pm->par = par;
  pm->baro = baro;
  pm->cur_bead = -1;
  pm->C = malloc((size_t)P * (size_t)P * sizeof *pm->C);
  pm->wk = malloc((size_t)P * sizeof *pm->wk);
  pm->c1 = malloc((size_t)P * sizeof *pm->c1);
  pm->c2 = malloc((size_t)P * sizeof *pm->c2);
  if (!pm->C || !pm->wk || !pm->c1 || !pm->c2) {
    kiln_pimd_free(pm);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory for %ld beads", what, P);
  }
  kiln_rng_seed(&pm->rng, pm->par.seed, 0);
  make_cmat(pm->C, (int)P);
  const double TP = (double)P * T;
  pm->wP = (double)P * KILN_KB * T / KILN_HBAR;
  for (int k = 0; k < P; k++) {
    pm->wk[k] = 2.0 * pm->wP * sin(k * PI / (double)P);
    double gamma = k == 0 ? (kind == KILN_PIMD_TRPMD ? 0.0 : 1.0 / tau) : 2.0 * lambda * pm->wk[k];
    /* k = 0: the langevin style's expressions, so that P = 1 matches it bit for bit */
    const double c1 = k == 0 && gamma > 0.0 ? exp(-dt / tau) : exp(-dt * gamma);
    pm->c1[k] = c1;
    pm->c2[k] = sqrt((1.0 - c1 * c1) * KILN_KB * TP / KILN_MVV2E);
  }
  *out = pm;
  return KILN_OK;
}

void kilni_pimd_drop_beads(kiln_pimd *pm) {
  const int P = pm->par.P;
  for (int j = 0; pm->bead && j < P; j++) kiln_atoms_free(pm->bead[j]);
  for (int j = 0; pm->nl && j < P; j++) kiln_neigh_free(pm->nl[j]);
  for (int j = 0; pm->xref && j < P; j++) free(pm->xref[j]);
  free(pm->bead);
  free(pm->nl);
  free(pm->xref);
  free(pm->xcell);
  free(pm->res);
  free(pm->q);
  free(pm->p);
  free(pm->xc);
  pm->bead = NULL;
  pm->nl = NULL;
  pm->xref = NULL;
  pm->xcell = NULL;
  pm->res = NULL;
  pm->q = pm->p = pm->xc = NULL;
  pm->n = 0;
  pm->fvalid = 0;
}

void kiln_pimd_free(kiln_pimd *pm) {
  if (!pm) return;
  kilni_pimd_drop_beads(pm);
  free(pm->C);
  free(pm->wk);
  free(pm->c1);
  free(pm->c2);
  free(pm);
}

const kiln_pimd_par *kiln_pimd_params(const kiln_pimd *pm) { return &pm->par; }
const kiln_atoms *kiln_pimd_bead(const kiln_pimd *pm, int j) {
  return pm->bead && j >= 0 && j < pm->par.P ? pm->bead[j] : NULL;
}
int kiln_pimd_current_bead(const kiln_pimd *pm) { return pm->cur_bead; }
double kiln_pimd_cmat(const kiln_pimd *pm, int j, int k) { return pm->C[j * pm->par.P + k]; }
double kiln_pimd_omega(const kiln_pimd *pm, int k) { return pm->wk[k]; }
void kiln_pimd_get_thermo(const kiln_pimd *pm, kiln_pimd_thermo *th) { *th = pm->th; }

kiln_status kilni_pimd_make_beads(kiln_pimd *pm, const kiln_atoms *a, kiln_error *err) {
  kilni_pimd_drop_beads(pm);
  const int P = pm->par.P;
  const size_t n = a->n;
  pm->bead = calloc((size_t)P, sizeof *pm->bead);
  pm->nl = calloc((size_t)P, sizeof *pm->nl);
  pm->res = calloc((size_t)P, sizeof *pm->res);
  pm->q = malloc((size_t)P * n * 3 * sizeof *pm->q);
  pm->p = malloc((size_t)P * n * 3 * sizeof *pm->p);
  pm->xc = malloc(n * 3 * sizeof *pm->xc);
  int bad = !pm->bead || !pm->nl || !pm->res || !pm->q || !pm->p || !pm->xc;
  for (int j = 0; !bad && j < P; j++) bad = kiln_atoms_copy(&pm->bead[j], a, err) != KILN_OK;
  if (bad) {
    kilni_pimd_drop_beads(pm);
    return KILN_FAIL(err, KILN_ENOMEM, "md pimd: out of memory for %d beads of %zu atoms", P, n);
  }
  pm->n = n;
  return KILN_OK;
}

void kilni_pimd_centroid_to(kiln_pimd *pm, kiln_atoms *a) {
  const int P = pm->par.P;
  const size_t n3 = pm->n * 3;
  const double inv = 1.0 / P;
  double *x = &a->x[0][0], *v = &a->v[0][0], *f = &a->f[0][0];
  for (size_t e = 0; e < n3; e++) {
    double sx = 0.0, sv = 0.0, sf = 0.0;
    for (int j = 0; j < P; j++) {
      sx += (&pm->bead[j]->x[0][0])[e];
      sv += (&pm->bead[j]->v[0][0])[e];
      sf += (&pm->bead[j]->f[0][0])[e];
    }
    x[e] = P == 1 ? sx : sx * inv;
    v[e] = P == 1 ? sv : sv * inv;
    f[e] = P == 1 ? sf : sf * inv;
  }
  memcpy(pm->xc, x, n3 * sizeof *x);
  memcpy(a->cell, pm->bead[0]->cell, sizeof a->cell);
}

/* ------------------------------------------------------------------ step */

static void kick(kiln_pimd *pm, double h) {
  const double c = h / KILN_MVV2E;
  for (int j = 0; j < pm->par.P; j++) {
    kiln_atoms *b = pm->bead[j];
    const size_t n = b->n;
    for (size_t i = 0; i < n; i++) {
      double s = c / b->mass[i];
      b->v[i][0] += s * b->f[i][0];
      b->v[i][1] += s * b->f[i][1];
      b->v[i][2] += s * b->f[i][2];
    }
  }
}

/* y[k] = sum_j C[j][k] x_j (to normal modes) for positions and velocities */
static void to_nm(kiln_pimd *pm) {
  const int P = pm->par.P;
  const size_t n3 = pm->n * 3;
  for (int k = 0; k < P; k++) {
    double *q = pm->q + (size_t)k * n3, *p = pm->p + (size_t)k * n3;
    const double c0 = pm->C[k];
    const double *x = &pm->bead[0]->x[0][0], *v = &pm->bead[0]->v[0][0];
    for (size_t e = 0; e < n3; e++) {
      q[e] = c0 * x[e];
      p[e] = c0 * v[e];
    }
    for (int j = 1; j < P; j++) {
      const double c = pm->C[j * P + k];
      x = &pm->bead[j]->x[0][0];
      v = &pm->bead[j]->v[0][0];
      for (size_t e = 0; e < n3; e++) {
        q[e] += c * x[e];
        p[e] += c * v[e];
      }
    }
  }
}

static void from_nm(kiln_pimd *pm) {
  const int P = pm->par.P;
  const size_t n3 = pm->n * 3;
  for (int j = 0; j < P; j++) {
    double *x = &pm->bead[j]->x[0][0], *v = &pm->bead[j]->v[0][0];
    const double *q = pm->q, *p = pm->p;
    const double c0 = pm->C[j * P];
    for (size_t e = 0; e < n3; e++) {
      x[e] = c0 * q[e];
      v[e] = c0 * p[e];
    }
    for (int k = 1; k < P; k++) {
      const double c = pm->C[j * P + k];
      q = pm->q + (size_t)k * n3;
      p = pm->p + (size_t)k * n3;
      for (size_t e = 0; e < n3; e++) {
        x[e] += c * q[e];
        v[e] += c * p[e];
      }
    }
  }
}

/* global CSVR (Bussi) on the centroid mode over dt; returns the energy removed */
static double csvr_centroid(kiln_pimd *pm, const double *mass) {
  double *p = pm->p;
  const size_t n = pm->n;
  double mvv = 0.0;
  for (size_t i = 0; i < n; i++)
    mvv += mass[i] * (p[3 * i] * p[3 * i] + p[3 * i + 1] * p[3 * i + 1] + p[3 * i + 2] * p[3 * i + 2]);
  const double K = 0.5 * KILN_MVV2E * mvv;
  if (!(K > 0.0)) return 0.0;
  const double nf = 3.0 * (double)n;
  const double Kt = 0.5 * nf * KILN_KB * pm->par.T * pm->par.P;
  const double c = exp(-pm->par.dt / pm->par.tau);
  const double r1 = kiln_rng_normal(&pm->rng);
  const double S = kiln_rng_chisq(&pm->rng, (long)nf - 1);
  const double Knew = c * K + (1.0 - c) * Kt / nf * (r1 * r1 + S) +
                      2.0 * r1 * sqrt(c * (1.0 - c) * K * Kt / nf);
  double alpha = sqrt(Knew / K);
  if (sqrt(c * K) + sqrt((1.0 - c) * Kt / nf) * r1 < 0.0) alpha = -alpha;
  for (size_t e = 0; e < 3 * n; e++) p[e] *= alpha;
  return K - Knew;
}

kiln_status kilni_pimd_pre_force(kiln_pimd *pm, kiln_error *err) {
  const int P = pm->par.P;
  const size_t n = pm->n, n3 = 3 * n;
  const double h = 0.5 * pm->par.dt;
  const double *mass = pm->bead[0]->mass;
  const int therm = pm->par.thermostat;
  kick(pm, h);
  to_nm(pm);
  const int baro = pm->baro.on;
  if (baro) {
    kiln_status st = kilni_pimd_baro_draw(pm, err);
    if (st) {
      kick(pm, -h); /* leave the beads as they were (up to rounding) */
      return st;
    }
  }
  double d = 0.0; /* sum m (v_old^2 - v_new^2) of the Langevin parts */
  for (int k = 0; k < P; k++) {
    double *q = pm->q + (size_t)k * n3, *p = pm->p + (size_t)k * n3;
    const double w = pm->wk[k];
    const int ou = therm == KILN_PIMD_PILE_L || therm == KILN_PIMD_TRPMD ||
                   (therm == KILN_PIMD_PILE_G && k > 0);
    const double c1 = pm->c1[k], c2 = pm->c2[k];
    if (k == 0) {
      for (size_t e = 0; e < n3; e++) q[e] += h * p[e];
      if (baro) kilni_pimd_baro_move(pm);
      if (therm == KILN_PIMD_PILE_G) pm->reservoir += csvr_centroid(pm, mass);
      if (ou) {
        for (size_t i = 0; i < n; i++) {
          double *v = p + 3 * i;
          const double m = mass[i], sig = c2 / sqrt(m);
          double before = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
          v[0] = c1 * v[0] + sig * kiln_rng_normal(&pm->rng);
          v[1] = c1 * v[1] + sig * kiln_rng_normal(&pm->rng);
          v[2] = c1 * v[2] + sig * kiln_rng_normal(&pm->rng);
          d += m * (before - (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]));
        }
      }
      for (size_t e = 0; e < n3; e++) q[e] += h * p[e];
      continue;
    }
    const double cw = cos(w * h), sw = sin(w * h), swo = sw / w, wsw = w * sw;
    for (size_t i = 0; i < n; i++) {
      const double m = mass[i], sig = ou ? c2 / sqrt(m) : 0.0;
      for (int c = 0; c < 3; c++) {
        double x = q[3 * i + c], v = p[3 * i + c];
        double x1 = cw * x + swo * v;
        v = cw * v - wsw * x;
        if (ou) {
          double vn = c1 * v + sig * kiln_rng_normal(&pm->rng);
          d += m * (v * v - vn * vn);
          v = vn;
        }
        q[3 * i + c] = cw * x1 + swo * v;
        p[3 * i + c] = cw * v - wsw * x1;
      }
    }
  }
  pm->reservoir += 0.5 * KILN_MVV2E * d;
  from_nm(pm);
  return KILN_OK;
}

void kilni_pimd_post_force(kiln_pimd *pm) {
  if (pm->baro.on) kilni_pimd_baro_heat(pm);
  kick(pm, 0.5 * pm->par.dt);
}

/* ------------------------------------------------------------------ estimators */

void kilni_pimd_thermo_fill(kiln_pimd *pm) {
  kiln_pimd_thermo *t = &pm->th;
  const int P = pm->par.P;
  const size_t n = pm->n;
  const double kT = KILN_KB * pm->par.T;
  const double *mass = pm->bead[0]->mass;
  double epot = 0.0, trw = 0.0, kb = 0.0, spring = 0.0, cvsum = 0.0, r2 = 0.0;
  for (int j = 0; j < P; j++) {
    const kiln_atoms *b = pm->bead[j], *b1 = pm->bead[(j + 1) % P];
    epot += pm->res[j].energy;
    trw += pm->res[j].virial[0][0] + pm->res[j].virial[1][1] + pm->res[j].virial[2][2];
    double mv = 0.0, ms = 0.0, cv = 0.0, rr = 0.0;
    for (size_t i = 0; i < n; i++) {
      const double m = mass[i];
      const double *v = b->v[i];
      mv += m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      for (int c = 0; c < 3; c++) {
        const double dx = b1->x[i][c] - b->x[i][c];
        ms += m * dx * dx;
        double xc = 0.0;
        for (int l = 0; l < P; l++) xc += pm->bead[l]->x[i][c];
        const double u = b->x[i][c] - xc / P;
        cv += u * b->f[i][c];
        rr += u * u;
      }
    }
    kb += mv;
    spring += ms;
    cvsum += cv;
    r2 += rr;
  }
  const double nf = 3.0 * (double)n;
  kb *= 0.5 * KILN_MVV2E;
  spring *= 0.5 * KILN_MVV2E * pm->wP * pm->wP;
  if (P == 1) spring = 0.0;
  t->beads = P;
  t->ekin_beads = kb;
  t->espring = spring;
  t->ekin_prim = 0.5 * nf * P * kT - spring / P;
  t->ekin_cv = 0.5 * nf * kT - 0.5 * cvsum / P;
  t->rg = n ? sqrt(r2 / ((double)n * P)) : 0.0;
  kiln_thermo *th = &t->th;
  th->step = pm->par.step;
  th->time = pm->par.time;
  const double dof = kiln_atoms_dof(pm->bead[0]);
  th->T = dof > 0.0 ? 2.0 * kb / (dof * KILN_KB * (double)P * P) : 0.0;
  th->epot = epot / P;
  th->ekin = t->ekin_cv;
  th->etot = th->epot + th->ekin;
  th->volume = kiln_atoms_volume(pm->bead[0]);
  th->pressure = th->volume > 0.0 ? (2.0 * t->ekin_cv + trw / P) / (3.0 * th->volume) *
                                        KILN_EV_PER_A3_TO_GPA
                                  : 0.0;
  th->conserved = (kb + epot + spring + pm->reservoir) / P;
  if (pm->baro.on) th->conserved += pm->baro.p0 * th->volume + pm->baro.res + pm->baro.wdev;
  /* cell lengths and angles; quantum pressure tensor (N kT I + W_cv) / V */
  const double(*c)[3] = (const double(*)[3])pm->bead[0]->cell;
  double len[3];
  for (int k = 0; k < 3; k++) len[k] = sqrt(c[k][0] * c[k][0] + c[k][1] * c[k][1] + c[k][2] * c[k][2]);
  for (int k = 0; k < 3; k++) {
    const int i = (k + 1) % 3, j = (k + 2) % 3;
    const double dd = c[i][0] * c[j][0] + c[i][1] * c[j][1] + c[i][2] * c[j][2];
    th->lengths[k] = len[k];
    th->angles[k] = len[i] > 0.0 && len[j] > 0.0
                        ? acos(fmax(-1.0, fmin(1.0, dd / (len[i] * len[j])))) * 180.0 / PI
                        : 0.0;
  }
  double W[3][3];
  kilni_pimd_cv_virial(pm, W);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      th->ptensor[i][j] = th->volume > 0.0 ? ((i == j ? (double)n * kT : 0.0) +
                                              0.5 * (W[i][j] + W[j][i])) /
                                                 th->volume * KILN_EV_PER_A3_TO_GPA
                                           : 0.0;
}
