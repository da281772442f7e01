/* src/md/barostat.c: the stochastic cell rescaling step (see barostat.h for the
 * equations and conventions). */
#include <math.h>
#include <string.h>
#include "barostat.h"
#include "kiln/units.h"

static double frob(const double A[3][3], const double B[3][3]) {
  double s = 0.0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) s += A[i][j] * B[i][j];
  return s;
}

/* F = V dev(P - P0), restricted to the diagonal (aniso) or symmetrised (full) */
static void dev_force(const kilni_scr *b, const double P[3][3], double V, double F[3][3]) {
  double D[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      D[i][j] = 0.5 * (P[i][j] + P[j][i]) - b->P0[i][j];
  const double tr = (D[0][0] + D[1][1] + D[2][2]) / 3.0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double d = i == j ? D[i][j] - tr : D[i][j];
      if (b->mode == KILNI_SCR_ANISO && i != j) d = 0.0;
      if (b->mode == KILNI_SCR_ISO) d = 0.0;
      F[i][j] = V * d;
    }
}

static double iso_force(const kilni_scr *b, const double P[3][3], double V) {
  const double p = (P[0][0] + P[1][1] + P[2][2]) / 3.0;
  const double p0 = (b->P0[0][0] + b->P0[1][1] + b->P0[2][2]) / 3.0;
  return -2.0 * sqrt(V) * (p0 - p - 0.5 * b->kT / V);
}

/* exp of a small 3x3 matrix by its Taylor series (|e| <= 0.1 here) */
static void expm3(const double e[3][3], double out[3][3]) {
  double term[3][3], next[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) out[i][j] = term[i][j] = (double)(i == j);
  for (int k = 1; k <= 14; k++) {
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        double s = 0.0;
        for (int l = 0; l < 3; l++) s += term[i][l] * e[l][j];
        next[i][j] = s / k;
      }
    memcpy(term, next, sizeof term);
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) out[i][j] += term[i][j];
  }
}

kiln_status kilni_scr_propose(const kilni_scr *b, const double P[3][3], double V, double dt,
                              kiln_rng *rng, kilni_scr_move *mv, kiln_error *err) {
  if (!(V > 0.0) || !isfinite(V))
    return KILN_FAIL(err, KILN_EINVAL, "barostat: the cell volume is %g Å^3 (a periodic cell "
                     "is needed)", V);
  memset(mv, 0, sizeof *mv);
  mv->dt = dt;
  mv->V0 = V;
  /* isotropic part in lambda = sqrt(V) */
  const double kT = b->kT, lam = sqrt(V);
  const double D = kT * b->beta / (4.0 * b->tau);
  mv->f0 = iso_force(b, P, V);
  mv->dlam = D / kT * mv->f0 * dt + sqrt(2.0 * D * dt) * kiln_rng_normal(rng);
  mv->q0 = 0.5 * mv->dlam * mv->f0 - D * dt / (4.0 * kT) * mv->f0 * mv->f0;
  if (!(mv->dlam / lam > -0.05) || !(mv->dlam / lam < 0.05) || !isfinite(mv->dlam))
    return KILN_FAIL(err, KILN_EINVAL,
                     "barostat: the volume would change by %.3g%% in one step of %g fs "
                     "(pressure %g GPa against the target %g GPa): make tau_p longer or the "
                     "compressibility smaller",
                     100.0 * (pow(1.0 + mv->dlam / lam, 2.0) - 1.0), dt,
                     (P[0][0] + P[1][1] + P[2][2]) / 3.0 * KILN_EV_PER_A3_TO_GPA,
                     (b->P0[0][0] + b->P0[1][1] + b->P0[2][2]) / 3.0 * KILN_EV_PER_A3_TO_GPA);
  const double s = pow(1.0 + mv->dlam / lam, 2.0 / 3.0); /* exp(eps/3) */

  /* traceless strain */
  double E[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  if (b->mode != KILNI_SCR_ISO) {
    mv->mob = b->beta / (V * b->tau);
    dev_force(b, P, V, mv->F0);
    const double sig = sqrt(2.0 * kT * mv->mob * dt);
    double N[3][3] = {{0}};
    for (int i = 0; i < 3; i++) N[i][i] = kiln_rng_normal(rng);
    if (b->mode == KILNI_SCR_FULL)
      for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++) N[i][j] = N[j][i] = kiln_rng_normal(rng) / sqrt(2.0);
    const double tr = (N[0][0] + N[1][1] + N[2][2]) / 3.0;
    for (int i = 0; i < 3; i++) N[i][i] -= tr;
    double emax = 0.0;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        mv->e[i][j] = mv->mob * mv->F0[i][j] * dt + sig * N[i][j];
        emax = fmax(emax, fabs(mv->e[i][j]));
      }
    if (!(emax < 0.05))
      return KILN_FAIL(err, KILN_EINVAL,
                       "barostat: the cell would be strained by %.3g in one step of %g fs: make "
                       "tau_p longer or the compressibility smaller",
                       emax, dt);
    mv->q0 += 0.5 * frob(mv->e, mv->F0) - 0.25 * mv->mob * dt * frob(mv->F0, mv->F0);
    expm3(mv->e, E);
  }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) mv->mu[i][j] = s * E[i][j];
  return KILN_OK;
}

double kilni_scr_heat(const kilni_scr *b, const kilni_scr_move *mv, const double P[3][3],
                      double V) {
  const double kT = b->kT;
  const double D = kT * b->beta / (4.0 * b->tau);
  const double f1 = iso_force(b, P, V);
  double q = mv->q0 + 0.5 * mv->dlam * f1 + D * mv->dt / (4.0 * kT) * f1 * f1 +
             0.5 * kT * log(mv->V0 / V);
  if (b->mode != KILNI_SCR_ISO) {
    double F1[3][3];
    dev_force(b, P, V, F1);
    q += 0.5 * frob(mv->e, F1) + 0.25 * mv->mob * mv->dt * frob(F1, F1);
  }
  return q;
}

static void inv3(const double m[3][3], double r[3][3]) {
  const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                     m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                     m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const double id = 1.0 / det;
  r[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) * id;
  r[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) * id;
  r[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) * id;
  r[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) * id;
  r[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) * id;
  r[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) * id;
  r[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) * id;
  r[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) * id;
  r[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) * id;
}

void kilni_scr_apply(const double mu[3][3], kiln_atoms *a, double dt) {
  double mi[3][3], mit[3][3], r2[3][3];
  inv3(mu, mi);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) mit[i][j] = mi[j][i];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) r2[i][j] = 0.5 * (mu[i][j] + mit[i][j]) * dt;
  for (size_t k = 0; k < a->n; k++) {
    double *x = a->x[k], *v = a->v[k];
    const double x0[3] = {x[0], x[1], x[2]}, v0[3] = {v[0], v[1], v[2]};
    for (int i = 0; i < 3; i++) {
      x[i] = mu[i][0] * x0[0] + mu[i][1] * x0[1] + mu[i][2] * x0[2] + r2[i][0] * v0[0] +
             r2[i][1] * v0[1] + r2[i][2] * v0[2];
      v[i] = mit[i][0] * v0[0] + mit[i][1] * v0[1] + mit[i][2] * v0[2];
    }
  }
  for (int k = 0; k < 3; k++) {
    const double c[3] = {a->cell[k][0], a->cell[k][1], a->cell[k][2]};
    for (int i = 0; i < 3; i++) a->cell[k][i] = mu[i][0] * c[0] + mu[i][1] * c[1] + mu[i][2] * c[2];
  }
}

void kilni_pressure_tensor(const kiln_atoms *a, const double W[3][3], double V,
                           double P[3][3]) {
  double K[3][3] = {{0}};
  for (size_t k = 0; k < a->n; k++) {
    const double *v = a->v[k], m = a->mass[k];
    for (int i = 0; i < 3; i++)
      for (int j = i; j < 3; j++) K[i][j] += m * v[i] * v[j];
  }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      const double kij = i <= j ? K[i][j] : K[j][i];
      P[i][j] = V > 0.0 ? (kij * KILN_MVV2E + W[i][j]) / V : 0.0;
    }
}

static kiln_status parse_stress(const kiln_opts *t, const char *what, double S[3][3],
                                kiln_error *err) {
  if (t->kind != KILN_OPT_TABLE || kiln_opts_npos(t) != 3)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: stress must be a 3x3 table {{xx,xy,xz},{yx,yy,yz},{zx,zy,zz}} in GPa",
                     what);
  for (size_t i = 0; i < 3; i++) {
    const kiln_opts *row = kiln_opts_at(t, i);
    if (!row || row->kind != KILN_OPT_TABLE || kiln_opts_npos(row) != 3)
      return KILN_FAIL(err, KILN_EINVAL, "%s: stress row %zu must have 3 numbers (GPa)", what,
                       i + 1);
    for (size_t j = 0; j < 3; j++) {
      const kiln_opts *x = kiln_opts_at(row, j);
      if (!x || x->kind != KILN_OPT_NUM || !isfinite(x->num))
        return KILN_FAIL(err, KILN_EINVAL, "%s: stress[%zu][%zu] must be a finite number (GPa)",
                         what, i + 1, j + 1);
      S[i][j] = x->num;
    }
  }
  ((kiln_opts *)t)->used = 1;
  for (int i = 0; i < 3; i++)
    for (int j = i + 1; j < 3; j++)
      if (fabs(S[i][j] - S[j][i]) > 1e-12 * (1.0 + fabs(S[i][j])))
        return KILN_FAIL(err, KILN_EINVAL,
                         "%s: the target stress must be symmetric (stress[%d][%d] = %g, "
                         "stress[%d][%d] = %g GPa)",
                         what, i + 1, j + 1, S[i][j], j + 1, i + 1, S[j][i]);
  return KILN_OK;
}

kiln_status kilni_scr_opts(kilni_scr *b, const kiln_opts *o, const char *what, double *p0,
                           kiln_error *err) {
  kiln_status st;
  const char *str;
  if ((st = kiln_opts_str(o, what, "barostat", 1, "scr", &str, err))) return st;
  if (strcmp(str, "scr") != 0)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: unknown barostat '%s' (known: scr, stochastic cell rescaling)", what, str);
  /* target: P (GPa, isotropic) or stress (3x3 GPa, ASE sign: tension positive) */
  const kiln_opts *op = kiln_opts_get(o, "P"), *os = kiln_opts_get(o, "stress");
  if (op && os) return KILN_FAIL(err, KILN_EINVAL, "%s: give either P= or stress=, not both", what);
  if (!op && !os)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: missing the target: P= (GPa, isotropic pressure) or stress= (3x3 "
                     "GPa, tension positive)", what);
  double S[3][3] = {{0}};
  if (op) {
    double P;
    if ((st = kiln_opts_num(o, what, "P", 0, 0.0, &P, err))) return st;
    if (!isfinite(P))
      return KILN_FAIL(err, KILN_EINVAL, "%s: P must be a finite pressure in GPa (got %g)", what,
                       P);
    for (int i = 0; i < 3; i++) S[i][i] = -P;
  } else if ((st = parse_stress(os, what, S, err))) {
    return st;
  }
  if ((st = kiln_opts_str(o, what, "mode", 1, op ? "iso" : "full", &str, err))) return st;
  if (!strcmp(str, "iso")) b->mode = KILNI_SCR_ISO;
  else if (!strcmp(str, "aniso")) b->mode = KILNI_SCR_ANISO;
  else if (!strcmp(str, "full")) b->mode = KILNI_SCR_FULL;
  else
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: unknown mode '%s' (iso: volume only; aniso: the three cell "
                     "lengths; full: all six cell components)", what, str);
  const double tr = (S[0][0] + S[1][1] + S[2][2]) / 3.0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      const double dev = S[i][j] - (i == j ? tr : 0.0);
      if (b->mode == KILNI_SCR_ISO && fabs(dev) > 1e-12)
        return KILN_FAIL(err, KILN_EINVAL,
                         "%s: mode 'iso' needs a hydrostatic target; stress[%d][%d] differs "
                         "by %g GPa (use mode='aniso' or 'full')", what, i + 1, j + 1, dev);
      if (b->mode == KILNI_SCR_ANISO && i != j && S[i][j] != 0.0)
        return KILN_FAIL(err, KILN_EINVAL,
                         "%s: mode 'aniso' keeps the cell angles, so the target shear "
                         "stress[%d][%d] = %g GPa must be 0 (use mode='full')", what, i + 1,
                         j + 1, S[i][j]);
      b->P0[i][j] = -S[i][j] / KILN_EV_PER_A3_TO_GPA;
    }
  *p0 = -tr / KILN_EV_PER_A3_TO_GPA;
  double taup, beta;
  if ((st = kiln_opts_num(o, what, "tau_p", 0, 0.0, &taup, err))) return st;
  if (!(taup > 0.0) || !isfinite(taup))
    return KILN_FAIL(err, KILN_EINVAL, "%s: tau_p must be a positive time in fs (got %g)", what,
                     taup);
  if ((st = kiln_opts_num(o, what, "compressibility", 1, 0.01, &beta, err))) return st;
  if (!(beta > 0.0) || !isfinite(beta))
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: compressibility must be positive, in 1/GPa (got %g)", what, beta);
  b->tau = taup;
  b->beta = beta * KILN_EV_PER_A3_TO_GPA; /* 1/GPa -> Å^3/eV */
  return KILN_OK;
}
