/* src/pimd/pimd_baro.c: constant pressure / stress for path-integral MD: the stochastic
 * cell rescaling barostat (src/md/barostat.h) acting on the centroid.
 *
 * Choice of the cell move for a ring polymer (as in i-PI's barostats: Bussi, Zykova-Timan
 * & Parrinello, J. Chem. Phys. 130, 074101 (2009); Kapil et al., Comput. Phys. Commun.
 * 236, 214 (2019)): a deformation mu scales the centroid positions and the cell of every
 * bead, x_ij' = mu xc_i + (x_ij - xc_i), leaves the internal (non-centroid) normal modes
 * unchanged (so the spring energy is unchanged), and scales the centroid velocities by
 * mu^-T. In the ring-polymer partition function at T the centroid coordinates contribute
 * the Jacobian V^N and the beads' potentials the centroid virial, so the force on the
 * cell is the centroid-virial (quantum) pressure tensor
 *   P = (sum_i m_i vc_i (x) vc_i + (1/P) sum_j W_cv,j) / V,
 *   W_cv,j = W_j - sum_i (x_ij - xc_i) (x) f_ij      (W_j the virial of bead j),
 * whose kinetic part (the centroid kinetic tensor, mean N kT I) stands for the Jacobian,
 * exactly as the kinetic pressure does in classical SCR; then kilni_scr_* samples
 * exp(-(H_P/P + P0 V)/kT) with kT = kB T (H_P/P is the ring-polymer energy in physical
 * units, so the barostat runs at the physical temperature and target).
 *
 * Placement in the step: B(dt/2) [draw mu from P after the kick, with the virials of the
 * last force call] A(dt/2) C O A(dt/2) [forces; heat] B(dt/2), where C = the move
 * between the two half drifts of the centroid (the symmetric drift-scale-drift of the SCR
 * paper's Trotter step; the internal modes rotate freely in A), and the kinetic part of the
 * pressure after the move is taken right after C (before the thermostat). */
#include <math.h>
#include <string.h>
#include "pimd_internal.h"
#include "kiln/units.h"

#define WHAT "md pimd"

kiln_status kilni_pimd_baro_opts(kiln_pimd_baro *b, kiln_pimd_par *par, const kiln_opts *o,
                                 kiln_error *err) {
  memset(b, 0, sizeof *b);
  kiln_status st;
  const kiln_opts *op = kiln_opts_get(o, "P"), *os = kiln_opts_get(o, "stress");
  if (!op && !os) {
    static const char *const only[] = {"tau_p", "compressibility", "mode", "barostat"};
    for (int k = 0; k < 4; k++)
      if (kiln_opts_get(o, only[k]))
        return KILN_FAIL(err, KILN_EINVAL,
                         WHAT ": %s= is a barostat option, but no target was given: add P= (GPa, "
                         "isotropic pressure) or stress= (3x3 GPa, tension positive)", only[k]);
    return KILN_OK;
  }
  if ((st = kilni_scr_opts(&b->scr, o, WHAT, &b->p0, err))) return st;
  const double tr = -b->p0 * KILN_EV_PER_A3_TO_GPA;                 /* mean target stress, GPa */
  const double taup = b->scr.tau, beta = b->scr.beta / KILN_EV_PER_A3_TO_GPA;
  b->scr.kT = KILN_KB * par->T;
  kiln_rng_seed(&b->rng, par->seed, 1);
  b->on = 1;
  par->barostat = 1;
  par->mode = b->scr.mode;
  par->P0 = -tr;
  par->tau_p = taup;
  par->compressibility = beta;
  return KILN_OK;
}

void kilni_pimd_cv_virial(const kiln_pimd *pm, double W[3][3]) {
  const int P = pm->par.P;
  const size_t n = pm->n;
  double S[3][3] = {{0}};
  for (int j = 0; j < P; j++)
    for (int a = 0; a < 3; a++)
      for (int c = 0; c < 3; c++) S[a][c] += pm->res[j].virial[a][c];
  if (P > 1) {
    const double inv = 1.0 / P;
    for (size_t i = 0; i < n; i++) {
      double xc[3] = {0, 0, 0};
      for (int j = 0; j < P; j++)
        for (int c = 0; c < 3; c++) xc[c] += pm->bead[j]->x[i][c];
      for (int c = 0; c < 3; c++) xc[c] *= inv;
      for (int j = 0; j < P; j++) {
        const double *x = pm->bead[j]->x[i], *f = pm->bead[j]->f[i];
        for (int a = 0; a < 3; a++)
          for (int c = 0; c < 3; c++) S[a][c] -= (x[a] - xc[a]) * f[c];
      }
    }
  }
  for (int a = 0; a < 3; a++)
    for (int c = 0; c < 3; c++) W[a][c] = S[a][c] / P;
}

/* sum_i m_i vc_i (x) vc_i (eV) from the centroid mode p0 = sqrt(P) vc */
static void centroid_ktensor(const kiln_pimd *pm, double K[3][3]) {
  const double c0 = pm->C[0], *p = pm->p, *mass = pm->bead[0]->mass;
  double S[3][3] = {{0}};
  for (size_t i = 0; i < pm->n; i++) {
    const double v[3] = {c0 * p[3 * i], c0 * p[3 * i + 1], c0 * p[3 * i + 2]};
    for (int a = 0; a < 3; a++)
      for (int c = 0; c < 3; c++) S[a][c] += mass[i] * v[a] * v[c];
  }
  for (int a = 0; a < 3; a++)
    for (int c = 0; c < 3; c++) K[a][c] = S[a][c] * KILN_MVV2E;
}

static void ptensor(const double K[3][3], const double W[3][3], double V, double Pt[3][3]) {
  for (int a = 0; a < 3; a++)
    for (int c = 0; c < 3; c++) Pt[a][c] = (K[a][c] + W[a][c]) / V;
}

kiln_status kilni_pimd_baro_draw(kiln_pimd *pm, kiln_error *err) {
  kiln_pimd_baro *b = &pm->baro;
  const kiln_atoms *b0 = pm->bead[0];
  if (!(b0->pbc[0] && b0->pbc[1] && b0->pbc[2]))
    return KILN_FAIL(err, KILN_EINVAL, WHAT ": the barostat needs a cell periodic in all three "
                     "directions (pbc = %d %d %d)", b0->pbc[0], b0->pbc[1], b0->pbc[2]);
  const double V = kiln_atoms_volume(b0);
  double K[3][3], W[3][3], Pt[3][3];
  centroid_ktensor(pm, K);
  kilni_pimd_cv_virial(pm, W);
  ptensor(K, W, V, Pt);
  return kilni_scr_propose(&b->scr, Pt, V, pm->par.dt, &b->rng, &b->mv, err);
}

static void inv3(const double m[3][3], double r[3][3]) {
  const double c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1];
  const double c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2];
  const double c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0];
  const double id = 1.0 / (m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02);
  r[0][0] = c00 * id;
  r[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) * id;
  r[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) * id;
  r[1][0] = c01 * id;
  r[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) * id;
  r[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) * id;
  r[2][0] = c02 * id;
  r[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) * id;
  r[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) * id;
}

void kilni_pimd_baro_move(kiln_pimd *pm) {
  kiln_pimd_baro *b = &pm->baro;
  const double(*mu)[3] = (const double(*)[3])b->mv.mu;
  double mi[3][3];
  inv3(mu, mi);
  double *q = pm->q, *p = pm->p; /* centroid mode */
  for (size_t i = 0; i < pm->n; i++) {
    double *x = q + 3 * i, *v = p + 3 * i;
    const double x0[3] = {x[0], x[1], x[2]}, v0[3] = {v[0], v[1], v[2]};
    for (int a = 0; a < 3; a++) {
      x[a] = mu[a][0] * x0[0] + mu[a][1] * x0[1] + mu[a][2] * x0[2];
      v[a] = mi[0][a] * v0[0] + mi[1][a] * v0[1] + mi[2][a] * v0[2]; /* mu^-T v */
    }
  }
  for (int j = 0; j < pm->par.P; j++) {
    kiln_atoms *bj = pm->bead[j];
    for (int k = 0; k < 3; k++) {
      const double c[3] = {bj->cell[k][0], bj->cell[k][1], bj->cell[k][2]};
      for (int a = 0; a < 3; a++) bj->cell[k][a] = mu[a][0] * c[0] + mu[a][1] * c[1] + mu[a][2] * c[2];
    }
  }
  centroid_ktensor(pm, b->K1);
}

void kilni_pimd_baro_heat(kiln_pimd *pm) {
  kiln_pimd_baro *b = &pm->baro;
  const double V = kiln_atoms_volume(pm->bead[0]);
  double W[3][3], Pt[3][3];
  kilni_pimd_cv_virial(pm, W);
  ptensor(b->K1, W, V, Pt);
  b->res += kilni_scr_heat(&b->scr, &b->mv, Pt, V);
  if (b->scr.mode != KILNI_SCR_ISO) {
    double d = 0.0;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) d += (b->scr.P0[i][j] - (i == j ? b->p0 : 0.0)) * b->mv.e[i][j];
    b->wdev += 0.5 * (b->mv.V0 + V) * d;
  }
}
