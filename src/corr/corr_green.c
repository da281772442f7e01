/* src/corr/corr_green.c: lattice Green's function and finite-temperature phonons from the
 * displacement covariance (Kong's method, as LAMMPS fix phonon).
 *
 * Atoms are mapped once (first frame) to sites (R, kappa) of a reference lattice: the unit
 * cell (option unitcell) repeated supercell = {n1, n2, n3} times. Each frame gives the
 * mass-weighted displacement field w(R, kappa) = sqrt(m) (x - x_site) (minimum image) and
 *   U(q) = Nc^-1/2 sum_R w(R) exp(-i q.R)            (3 nb components per q, grid DFT)
 * accumulated as sums of U and U U^dagger. Then
 *   G(q) = <U U^+> - <U><U>^+,   D(q) = kB T G(q)^-1  (pseudo-inverse: eigenvalues of G
 * below 1e-9 of the largest on the grid, i.e. the frozen centre of mass at Gamma, give 0),
 *   Psi(R) = Nc^-1 sum_q D(q) exp(-i q.R),   Phi(0 kappa, R kappa') = sqrt(m m') Psi(R),
 * and D at any q by Fourier interpolation of Psi with minimum-image weights. Phases use the
 * cell vector R only (not R + tau_kappa); eigenvalues do not depend on that choice. */
#include <stdlib.h>
#include <string.h>
#include "corr_internal.h"
#include "corr/green_grid.h"
#include "kiln/linalg.h"
#include "kiln/units.h"

typedef struct {
  double A[3][3], Ainv[3][3];  /* unit cell rows and inverse */
  double (*tau)[3];            /* nb basis positions (Cartesian, Å) */
  size_t nb, nd;               /* basis atoms, nd = 3 nb */
  int n[3];
  size_t nc;
  double Topt;                 /* K, NAN if not given */
  double (*path)[3];
  size_t npath;
  /* from the first frame */
  size_t natoms;
  size_t *site;                /* atom -> cell*nb + kappa */
  double *sqm;                 /* atom -> sqrt(mass) */
  double *mb;                  /* basis masses */
  double (*ref)[3];            /* atom -> reference site position */
  double cell[3][3], inv[3][3];
  kilni_grid_dft dft;
  double (*U)[2];              /* nc x nd */
  double (*sumU)[2];           /* nc x nd */
  double (*sumUU)[2];          /* nc x nd x nd */
  long nsamp;
  double sumT;
  long nT;
} green_state;

static void destroy(kiln_corr *c) {
  green_state *s = c->state;
  if (!s) return;
  free(s->tau);
  free(s->path);
  free(s->site);
  free(s->sqm);
  free(s->mb);
  free(s->ref);
  kilni_grid_dft_free(&s->dft);
  free(s->U);
  free(s->sumU);
  free(s->sumUU);
  free(s);
  c->state = NULL;
}

static kiln_status init(kiln_corr *c, const kiln_opts *o, kiln_error *err) {
  green_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  c->state = s;
  s->Topt = NAN;
  kiln_status st;
  kiln_opts *uc = o ? kiln_opts_get(o, "unitcell") : NULL;
  if (!uc || uc->kind != KILN_OPT_TABLE)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: option 'unitcell' = {cell = {{..},{..},{..}}, positions = {{..}, ...}} "
                     "(Å) is required", c->what);
  double (*rows)[3];
  size_t nrows;
  if ((st = kilni_vec3_list_opt(uc, c->what, "cell", 1, &rows, &nrows, err))) return st;
  if (nrows != 3) {
    free(rows);
    return KILN_FAIL(err, KILN_EINVAL, "%s: unitcell.cell must have 3 rows (got %zu)", c->what,
                     nrows);
  }
  memcpy(s->A, rows, sizeof s->A);
  free(rows);
  if ((st = kiln_cell_inverse(s->A, s->Ainv, err)))
    return KILN_FAIL(err, KILN_EINVAL, "%s: unitcell.cell is singular", c->what);
  if ((st = kilni_vec3_list_opt(uc, c->what, "positions", 1, &s->tau, &s->nb, err))) return st;
  if ((st = kiln_opts_check_unused(uc, "correlator green: unitcell", err))) return st;
  s->nd = 3 * s->nb;
  if ((st = kilni_grid_opt(o, c->what, "supercell", s->n, err))) return st;
  s->nc = (size_t)s->n[0] * (size_t)s->n[1] * (size_t)s->n[2];
  if (kiln_opts_get(o, "T")) {
    if ((st = kiln_opts_num(o, c->what, "T", 0, 0, &s->Topt, err))) return st;
    if (!(s->Topt > 0) || !isfinite(s->Topt))
      return KILN_FAIL(err, KILN_EINVAL, "%s: T must be a positive temperature in K (got %g)",
                       c->what, s->Topt);
  }
  if ((st = kilni_vec3_list_opt(o, c->what, "path", 0, &s->path, &s->npath, err))) return st;
  return KILN_OK;
}

/* Map the atoms of the first frame to lattice sites. */
static kiln_status map_sites(kiln_corr *c, green_state *s, const kiln_atoms *a, kiln_error *err) {
  const size_t n = a->n, nb = s->nb;
  if (n != s->nc * nb)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: %zu atoms, but the reference lattice (%zu basis atoms x %d x %d x %d "
                     "cells) has %zu sites", c->what, n, nb, s->n[0], s->n[1], s->n[2],
                     s->nc * nb);
  for (int i = 0; i < 3; i++) {
    if (!a->pbc[i])
      return KILN_FAIL(err, KILN_EINVAL, "%s: the cell must be periodic along all three axes "
                       "(axis %d is not)", c->what, i + 1);
    double len = sqrt(a->cell[i][0] * a->cell[i][0] + a->cell[i][1] * a->cell[i][1] +
                      a->cell[i][2] * a->cell[i][2]);
    for (int k = 0; k < 3; k++)
      if (fabs(a->cell[i][k] - s->n[i] * s->A[i][k]) > 1e-5 * len)
        return KILN_FAIL(err, KILN_EINVAL,
                         "%s: the simulation cell is not the unit cell times supercell: cell "
                         "row %d = (%g, %g, %g) Å, expected %d x (%g, %g, %g)", c->what, i + 1,
                         a->cell[i][0], a->cell[i][1], a->cell[i][2], s->n[i], s->A[i][0],
                         s->A[i][1], s->A[i][2]);
  }
  memcpy(s->cell, a->cell, sizeof s->cell);
  kiln_status st = kiln_cell_inverse(s->cell, s->inv, err);
  if (st) return st;
  s->natoms = n;
  s->site = malloc(n * sizeof *s->site);
  s->sqm = malloc(n * sizeof *s->sqm);
  s->ref = malloc(n * sizeof *s->ref);
  s->mb = malloc(nb * sizeof *s->mb);
  size_t *owner = malloc(n * sizeof *owner);
  s->U = malloc(s->nc * s->nd * sizeof *s->U);
  s->sumU = calloc(s->nc * s->nd, sizeof *s->sumU);
  s->sumUU = calloc(s->nc * s->nd * s->nd, sizeof *s->sumUU);
  if (!s->site || !s->sqm || !s->ref || !s->mb || !owner || !s->U || !s->sumU || !s->sumUU) {
    free(owner);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu atoms)", c->what, n);
  }
  for (size_t i = 0; i < n; i++) owner[i] = (size_t)-1;
  for (size_t k = 0; k < nb; k++) s->mb[k] = -1;
  for (size_t j = 0; j < n; j++) {
    double best = INFINITY;
    size_t bsite = 0;
    double bref[3] = {0, 0, 0};
    for (size_t k = 0; k < nb; k++) {
      double d[3], f[3];
      for (int x = 0; x < 3; x++) d[x] = a->x[j][x] - s->tau[k][x];
      for (int x = 0; x < 3; x++)
        f[x] = d[0] * s->Ainv[0][x] + d[1] * s->Ainv[1][x] + d[2] * s->Ainv[2][x];
      long r[3];
      double e[3], r0[3];
      for (int x = 0; x < 3; x++) r[x] = lround(f[x]);
      for (int x = 0; x < 3; x++) {
        r0[x] = s->tau[k][x] + r[0] * s->A[0][x] + r[1] * s->A[1][x] + r[2] * s->A[2][x];
        e[x] = a->x[j][x] - r0[x];
      }
      kilni_min_image(s->cell, s->inv, a->pbc, e);
      double dist = sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
      if (dist < best) {
        best = dist;
        size_t cell = 0;
        for (int x = 0; x < 3; x++) {
          long m = r[x] % s->n[x];
          if (m < 0) m += s->n[x];
          cell = cell * (size_t)s->n[x] + (size_t)m;
        }
        bsite = cell * nb + k;
        memcpy(bref, r0, sizeof bref);
      }
    }
    if (owner[bsite] != (size_t)-1) {
      size_t o1 = owner[bsite];
      free(owner);
      return KILN_FAIL(err, KILN_EINVAL,
                       "%s: atoms %zu and %zu (0-based) map to the same lattice site (cell %zu, "
                       "basis atom %zu): the first frame is too far from the reference lattice "
                       "(atom %zu is %.3g Å from its site)", c->what, o1, j,
                       bsite / nb, bsite % nb, j, best);
    }
    owner[bsite] = j;
    s->site[j] = bsite;
    memcpy(s->ref[j], bref, sizeof bref);
    double m = a->mass[j];
    size_t k = bsite % nb;
    if (!(m > 0))
      return free(owner), KILN_FAIL(err, KILN_EINVAL, "%s: atom %zu has mass %g", c->what, j, m);
    if (s->mb[k] < 0) s->mb[k] = m;
    else if (fabs(s->mb[k] - m) > 1e-9 * m)
      return free(owner),
             KILN_FAIL(err, KILN_EINVAL, "%s: basis atom %zu has masses %g and %g amu in "
                       "different cells", c->what, k, s->mb[k], m);
    s->sqm[j] = sqrt(m);
  }
  free(owner);
  return kilni_grid_dft_init(&s->dft, s->n, s->nd, c->what, err);
}

static kiln_status frame(kiln_corr *c, const kiln_atoms *a, kiln_error *err) {
  green_state *s = c->state;
  kiln_status st;
  if (!s->site) {
    if ((st = map_sites(c, s, a, err))) return st;
  } else if (a->n != s->natoms) {
    return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has %zu atoms, the first had %zu",
                     c->what, c->nframes, a->n, s->natoms);
  }
  for (int i = 0; i < 3; i++)
    for (int k = 0; k < 3; k++)
      if (fabs(a->cell[i][k] - s->cell[i][k]) > 1e-6 * (1 + fabs(s->cell[i][k])))
        return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has a different cell (row %d: %g vs "
                         "%g Å); the method needs a fixed cell (NVT)", c->what, c->nframes,
                         i + 1, a->cell[i][k], s->cell[i][k]);
  const size_t nd = s->nd, nq = s->nc;
  const double norm = 1.0 / sqrt((double)nq);
  for (size_t j = 0; j < a->n; j++) {
    double e[3];
    for (int x = 0; x < 3; x++) e[x] = a->x[j][x] - s->ref[j][x];
    kilni_min_image(s->cell, s->inv, a->pbc, e);
    double (*u)[2] = s->U + s->site[j] * 3;
    for (int x = 0; x < 3; x++) {
      u[x][0] = norm * s->sqm[j] * e[x];
      u[x][1] = 0;
    }
  }
  kilni_grid_dft_run(&s->dft, s->U, -1);
  for (size_t q = 0; q < nq; q++) {
    const double (*u)[2] = s->U + q * nd;
    double (*su)[2] = s->sumU + q * nd;
    double (*g)[2] = s->sumUU + q * nd * nd;
    for (size_t i = 0; i < nd; i++) {
      su[i][0] += u[i][0];
      su[i][1] += u[i][1];
      for (size_t k = 0; k < nd; k++) { /* U_i conj(U_k) */
        g[i * nd + k][0] += u[i][0] * u[k][0] + u[i][1] * u[k][1];
        g[i * nd + k][1] += u[i][1] * u[k][0] - u[i][0] * u[k][1];
      }
    }
  }
  s->nsamp++;
  if (a->v) {
    double ke = kiln_atoms_kinetic_energy(a);
    if (ke > 0) {
      s->sumT += kiln_atoms_temperature(a);
      s->nT++;
    }
  }
  return KILN_OK;
}

/* eigenvalue of D (eV/(Å² amu)) -> THz, negative for imaginary modes */
static double to_thz(double lam) {
  double w = sqrt(fabs(lam) / KILN_MVV2E) / KILN_THZ_TO_RADFS;
  return lam < 0 ? -w : w;
}

typedef struct {
  double T;
  double *D;     /* nc x nd x nd complex (interleaved) */
  double *freq;  /* nc x nd */
  double *psi;   /* nc x nd x nd real: Psi(R) */
  double *w, *v, *g;
} green_work;

static void work_free(green_work *w) {
  free(w->D);
  free(w->freq);
  free(w->psi);
  free(w->w);
  free(w->v);
  free(w->g);
}

static kiln_status temperature(kiln_corr *c, const green_state *s, double *T, const char **src,
                               kiln_error *err) {
  if (!isnan(s->Topt)) {
    *T = s->Topt;
    *src = "option";
    return KILN_OK;
  }
  if (s->nT == s->nsamp && s->nT > 0) {
    *T = s->sumT / (double)s->nT;
    *src = "kinetic";
    return KILN_OK;
  }
  return KILN_FAIL(err, KILN_EINVAL,
                   "%s: no temperature: give the option T (K), or feed frames with velocities "
                   "(then the mean kinetic temperature is used; %ld of %ld frames had them)",
                   c->what, s->nT, s->nsamp);
}

/* D(q), frequencies on the grid and Psi(R). */
static kiln_status compute(kiln_corr *c, green_state *s, green_work *w, kiln_error *err) {
  const size_t nd = s->nd, nq = s->nc, nd2 = nd * nd;
  const char *src;
  kiln_status st = temperature(c, s, &w->T, &src, err);
  if (st) return st;
  const double kT = KILN_KB * w->T, inv_n = 1.0 / (double)s->nsamp;
  w->D = malloc(nq * nd2 * 2 * sizeof *w->D);
  w->freq = malloc(nq * nd * sizeof *w->freq);
  w->psi = malloc(nq * nd2 * sizeof *w->psi);
  w->w = malloc(nd * sizeof *w->w);
  w->v = malloc(nd2 * 2 * sizeof *w->v);
  w->g = malloc(nd2 * 2 * sizeof *w->g);
  if (!w->D || !w->freq || !w->psi || !w->w || !w->v || !w->g)
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  /* eigenvalues of G below 1e-9 of the largest over the grid (the frozen centre of mass at
   * Gamma, round-off) are treated as zero: their modes get frequency 0 */
  double gmax = 0;
  for (int pass = 0; pass < 2; pass++)
  for (size_t q = 0; q < nq; q++) {
    const double (*su)[2] = s->sumU + q * nd;
    const double (*sg)[2] = s->sumUU + q * nd2;
    double *g = w->g, *D = w->D + q * nd2 * 2;
    for (size_t i = 0; i < nd; i++)
      for (size_t k = 0; k < nd; k++) {
        double mi[2] = {su[i][0] * inv_n, su[i][1] * inv_n};
        double mk[2] = {su[k][0] * inv_n, su[k][1] * inv_n};
        g[2 * (i * nd + k)] = sg[i * nd + k][0] * inv_n - (mi[0] * mk[0] + mi[1] * mk[1]);
        g[2 * (i * nd + k) + 1] = sg[i * nd + k][1] * inv_n - (mi[1] * mk[0] - mi[0] * mk[1]);
      }
    if ((st = kiln_linalg_zheev(nd, g, w->w, pass ? w->v : NULL, err))) return st;
    if (pass == 0) {
      if (w->w[nd - 1] > gmax) gmax = w->w[nd - 1];
      continue;
    }
    memset(D, 0, nd2 * 2 * sizeof *D);
    for (size_t m = 0; m < nd; m++) {
      if (!(w->w[m] > 1e-9 * gmax)) continue;
      double f = kT / w->w[m];
      for (size_t i = 0; i < nd; i++)
        for (size_t k = 0; k < nd; k++) { /* f v_i conj(v_k) */
          const double *vi = w->v + 2 * (i * nd + m), *vk = w->v + 2 * (k * nd + m);
          D[2 * (i * nd + k)] += f * (vi[0] * vk[0] + vi[1] * vk[1]);
          D[2 * (i * nd + k) + 1] += f * (vi[1] * vk[0] - vi[0] * vk[1]);
        }
    }
    if ((st = kiln_linalg_zheev(nd, D, w->freq + q * nd, NULL, err))) return st;
    for (size_t m = 0; m < nd; m++) w->freq[q * nd + m] = to_thz(w->freq[q * nd + m]);
  }
  /* Psi(R) = Nc^-1 sum_q D(q) exp(-i q.R): the same transform, over q */
  double (*tmp)[2] = malloc(nq * nd2 * sizeof *tmp);
  kilni_grid_dft big;
  if (!tmp) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  if ((st = kilni_grid_dft_init(&big, s->n, nd2, c->what, err))) return free(tmp), st;
  memcpy(tmp, w->D, nq * nd2 * sizeof *tmp);
  kilni_grid_dft_run(&big, tmp, -1);
  for (size_t i = 0; i < nq * nd2; i++) w->psi[i] = tmp[i][0] / (double)nq;
  kilni_grid_dft_free(&big);
  free(tmp);
  return KILN_OK;
}

/* Minimum-image Fourier interpolation of D at Cartesian q (rad/Å); d: nd x nd complex. */
static void interp(const green_state *s, const double *psi, const double q[3], double *d) {
  const size_t nd = s->nd, nb = s->nb;
  memset(d, 0, nd * nd * 2 * sizeof *d);
  for (int r0 = 0; r0 < s->n[0]; r0++)
    for (int r1 = 0; r1 < s->n[1]; r1++)
      for (int r2 = 0; r2 < s->n[2]; r2++) {
        size_t cell = ((size_t)r0 * s->n[1] + r1) * s->n[2] + r2;
        const double *p = psi + cell * nd * nd;
        for (size_t ka = 0; ka < nb; ka++)
          for (size_t kb = 0; kb < nb; kb++) {
            /* images R + L of the cell vector, L a supercell translation: keep the ones
             * where kappa' (in cell R+L) is nearest to kappa (in cell 0) */
            double best = 1e300, ph[2] = {0, 0};
            int cnt = 0;
            for (int l0 = -2; l0 <= 2; l0++)
              for (int l1 = -2; l1 <= 2; l1++)
                for (int l2 = -2; l2 <= 2; l2++) {
                  double R[3], dd = 0;
                  int f[3] = {r0 + l0 * s->n[0], r1 + l1 * s->n[1], r2 + l2 * s->n[2]};
                  for (int x = 0; x < 3; x++) {
                    R[x] = f[0] * s->A[0][x] + f[1] * s->A[1][x] + f[2] * s->A[2][x];
                    double e = R[x] + s->tau[kb][x] - s->tau[ka][x];
                    dd += e * e;
                  }
                  double dist = sqrt(dd), qr = q[0] * R[0] + q[1] * R[1] + q[2] * R[2];
                  if (dist < best - 1e-6 * (1 + best)) {
                    best = dist;
                    cnt = 1;
                    ph[0] = cos(qr);
                    ph[1] = sin(qr);
                  } else if (dist <= best + 1e-6 * (1 + best)) {
                    cnt++;
                    ph[0] += cos(qr);
                    ph[1] += sin(qr);
                  }
                }
            ph[0] /= cnt;
            ph[1] /= cnt;
            for (int x = 0; x < 3; x++)
              for (int y = 0; y < 3; y++) {
                size_t i = ka * 3 + (size_t)x, k = kb * 3 + (size_t)y;
                double v = p[i * nd + k];
                d[2 * (i * nd + k)] += v * ph[0];
                d[2 * (i * nd + k) + 1] += v * ph[1];
              }
          }
      }
}

static kiln_status freq_at(kiln_corr *c, green_state *s, const green_work *w,
                           const double (*q)[3], size_t nq, double *freq, kiln_error *err) {
  const size_t nd = s->nd;
  double *d = malloc(nd * nd * 2 * sizeof *d);
  if (!d) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  kiln_status st = KILN_OK;
  for (size_t i = 0; i < nq && !st; i++) {
    interp(s, w->psi, q[i], d);
    if (!(st = kiln_linalg_zheev(nd, d, freq + i * nd, NULL, err)))
      for (size_t m = 0; m < nd; m++) freq[i * nd + m] = to_thz(freq[i * nd + m]);
  }
  free(d);
  return st;
}

kiln_status kiln_corr_green_dispersion(kiln_corr *c, const double (*q)[3], size_t nq,
                                       double *freq, kiln_error *err) {
  if (c->style != &kiln_corr_green_style)
    return KILN_FAIL(err, KILN_EINVAL, "%s: dispersion needs a green correlator", c->what);
  green_state *s = c->state;
  if (!s->nsamp) return KILN_FAIL(err, KILN_ESTATE, "%s: no frames yet", c->what);
  green_work w = {0};
  kiln_status st = compute(c, s, &w, err);
  if (!st) st = freq_at(c, s, &w, q, nq, freq, err);
  work_free(&w);
  return st;
}

static kiln_status result(kiln_corr *c, kiln_result *r, kiln_error *err) {
  green_state *s = c->state;
  const size_t nd = s->nd, nq = s->nc, nd2 = nd * nd;
  green_work w = {0};
  kiln_status st = compute(c, s, &w, err);
  const char *src = isnan(s->Topt) ? "kinetic" : "option";
  double *buf = NULL;
  if (st) goto done;
  if (!(buf = malloc(nq * nd2 * sizeof *buf))) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
    goto done;
  }
  /* q grid and cells */
  double *qg = buf, *qf = buf + 3 * nq, *cl = buf + 6 * nq;
  double (*qgrid)[3] = malloc(nq * sizeof *qgrid);
  if (!qgrid) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
    goto done;
  }
  for (size_t i = 0; i < nq; i++) {
    int m[3] = {(int)(i / ((size_t)s->n[1] * s->n[2])), (int)(i / s->n[2] % s->n[1]),
                (int)(i % s->n[2])};
    for (int x = 0; x < 3; x++) {
      qf[3 * i + x] = (double)m[x] / s->n[x];
      int f = m[x] > s->n[x] / 2 ? m[x] - s->n[x] : m[x];
      cl[3 * i + x] = f;
    }
    for (int x = 0; x < 3; x++) /* b_i = 2 pi (A^-1)^T rows: q = sum_i f_i b_i */
      qgrid[i][x] = qg[3 * i + x] = 2 * M_PI *
          (qf[3 * i] * s->Ainv[x][0] + qf[3 * i + 1] * s->Ainv[x][1] +
           qf[3 * i + 2] * s->Ainv[x][2]);
  }
  if ((st = kiln_result_add_copy(r, "qgrid", qg, nq, 3, "rad/Å",
                                 "commensurate q-points of the supercell grid (Cartesian, incl. 2π)",
                                 err)) ||
      (st = kiln_result_add_copy(r, "qgrid_frac", qf, nq, 3, "1",
                                 "the q grid in reduced coordinates of the unit cell's reciprocal "
                                 "lattice", err)) ||
      (st = kiln_result_add_copy(r, "cells", cl, nq, 3, "1",
                                 "lattice coordinates of the cell vectors R of force_constants "
                                 "(folded to -n/2 < r <= n/2)", err)) ||
      (st = kiln_result_add_copy(r, "freq_grid", w.freq, nq, nd, "THz",
                                 "phonon frequencies on the q grid, ascending (negative: imaginary)",
                                 err)))
    goto done_q;
  for (size_t i = 0; i < nq * nd2; i++) buf[i] = w.D[2 * i];
  if ((st = kiln_result_add_copy(r, "dynmat_grid/re", buf, nq * nd, nd, "eV/(Å² amu)",
                                 "real part of D(q) = kB T G(q)^-1, rows (q, kappa, alpha), "
                                 "columns (kappa', beta)", err)))
    goto done_q;
  for (size_t i = 0; i < nq * nd2; i++) buf[i] = w.D[2 * i + 1];
  if ((st = kiln_result_add_copy(r, "dynmat_grid/im", buf, nq * nd, nd, "eV/(Å² amu)",
                                 "imaginary part of D(q)", err)))
    goto done_q;
  for (size_t q = 0; q < nq; q++)
    for (size_t i = 0; i < nd; i++)
      for (size_t k = 0; k < nd; k++)
        buf[q * nd2 + i * nd + k] =
            w.psi[q * nd2 + i * nd + k] * sqrt(s->mb[i / 3] * s->mb[k / 3]);
  if ((st = kiln_result_add_copy(r, "force_constants", buf, nq * nd, nd, "eV/Å²",
                                 "Phi(0 kappa alpha, R kappa' beta), rows (R, kappa, alpha) with R "
                                 "as in cells, columns (kappa', beta)", err)))
    goto done_q;
  if (s->npath) {
    double *fp = malloc(s->npath * nd * sizeof *fp);
    if (!fp) {
      st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
      goto done_q;
    }
    if (!(st = freq_at(c, s, &w, (const double (*)[3])s->path, s->npath, fp, err)))
      st = kiln_result_add_copy(r, "freq_path", fp, s->npath, nd, "THz",
                                "frequencies at the path q-points (Fourier interpolation), "
                                "ascending", err);
    free(fp);
    if (!st)
      st = kiln_result_add_copy(r, "path", &s->path[0][0], s->npath, 3, "rad/Å",
                                "the path q-points (Cartesian)", err);
    if (st) goto done_q;
  }
  if ((st = kiln_result_add_copy(r, "T", &w.T, 1, 1, "K", "temperature used in D = kB T G^-1",
                                 err)) ||
      (st = kiln_result_attr_num(r, "T", w.T, err)) ||
      (st = kiln_result_attr_str(r, "T_source", src, err)) ||
      (st = kiln_result_attr_num(r, "nbasis", (double)s->nb, err)) ||
      (st = kiln_result_attr_num(r, "ncells", (double)nq, err)))
    goto done_q;
done_q:
  free(qgrid);
done:
  free(buf);
  work_free(&w);
  return st;
}

const kiln_corr_style kiln_corr_green_style = {
    .name = "green",
    .description = "phonons at finite temperature from the displacement covariance: lattice "
                   "Green's function G(q), dynamical matrix D(q) = kB T G(q)^-1, force "
                   "constants, frequencies on the supercell q grid and along a path",
    .citation = "C. Kong, Comput. Phys. Commun. 182, 2201 (2011)",
    .options = "unitcell={cell={{ax,ay,az},{bx,by,bz},{cx,cy,cz}}, positions={{x,y,z},...}} "
               "(Å; Cartesian basis positions; required)\n"
               "supercell={n1,n2,n3} (the simulation cell is the unit cell times these; "
               "required)\n"
               "T=number (K; default: the mean kinetic temperature of the frames, which must "
               "carry velocities)\n"
               "path={{qx,qy,qz},...} (rad/Å incl. 2π; frequencies there by Fourier "
               "interpolation, item freq_path)",
    .init = init,
    .frame = frame,
    .result = result,
    .destroy = destroy,
};
