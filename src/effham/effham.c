/* src/effham/effham.c: the effective Hamiltonian of a perovskite ferroelectric
 * (Zhong-Vanderbilt-Rabe local-mode + strain model, reciprocal-space evaluation as in
 * Nishimatsu et al., PRB 78, 104104 (2008)), written from the formulas in
 * ../shared/data/batio3-effective-hamiltonian/README.md (no code of feram is used).
 *
 * Per evaluation (N cells on an L0 x L1 x L2 grid, fields stored z fastest):
 *   1. u of every pseudo-atom (minimum image against its cell's lattice site) and the
 *      six per-cell strain "charges" c_i = dV_coup/d eta_i (quadratic in u);
 *   2. one batched 3-D r2c FFT of the 3 (+6) fields;
 *   3. in k-space: g(k) = Phi(k) u(k) (short range + 2 kappa2 + dipole Ewald, one real
 *      symmetric 3x3 per k, built once per grid), and the optimal inhomogeneous strain
 *      eta_inho(k) = -D K^-1 D^T c(k) (K = Christoffel matrix, D = i k "gradient");
 *   4. one batched c2r FFT back; then energies, forces and the virial in real space.
 * Cost O(N log N); no allocation after the first call on a grid. */
#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "effham/effham.h"

const char *const kilni_effham_parnames[KILNI_EFFHAM_NPAR] = {
    "a0", "Z_star", "epsilon_inf", "kappa2", "alpha", "gamma", "k1", "k2", "k3", "k4",
    "j1", "j2", "j3", "j4", "j5", "j6", "j7", "B11", "B12", "B44", "B1xx", "B1yy", "B4yz",
    "mass_amu"};

double *kilni_effham_parptr(kilni_effham_params *p, int k) {
  switch (k) {
    case 0: return &p->a0;
    case 1: return &p->zstar;
    case 2: return &p->epsinf;
    case 3: return &p->kappa2;
    case 4: return &p->alpha;
    case 5: return &p->gamma;
    case 6: return &p->k1;
    case 7: return &p->k2;
    case 8: return &p->k3;
    case 9: return &p->k4;
    case 17: return &p->B11;
    case 18: return &p->B12;
    case 19: return &p->B44;
    case 20: return &p->B1xx;
    case 21: return &p->B1yy;
    case 22: return &p->B4yz;
    case 23: return &p->mass;
    default: return (k >= 10 && k <= 16) ? &p->j[k - 10] : NULL;
  }
}

kiln_status kilni_effham_read_params(kilni_effham_params *p, const char *file, kiln_error *err) {
  memset(p, 0, sizeof *p);
  p->mass = 100.0;
  FILE *fp = fopen(file, "r");
  if (!fp)
    return KILN_FAIL(err, KILN_EIO, "effective_hamiltonian: cannot open parameter file '%s'",
                     file);
  int seen[KILNI_EFFHAM_NPAR] = {0};
  char line[512];
  int ln = 0;
  while (fgets(line, sizeof line, fp)) {
    ln++;
    char *h = strchr(line, '#');
    if (h) *h = 0;
    char *eq = strchr(line, '=');
    char key[64];
    if (!eq) {
      if (sscanf(line, "%63s", key) == 1) {
        fclose(fp);
        return KILN_FAIL(err, KILN_EINVAL, "effective_hamiltonian: %s line %d: expected "
                         "'key = value', got '%s'", file, ln, key);
      }
      continue;
    }
    *eq = 0;
    if (sscanf(line, "%63s", key) != 1) continue;
    for (int k = 0; k < KILNI_EFFHAM_NPAR; k++) {
      if (strcmp(key, kilni_effham_parnames[k])) continue;
      char *end;
      double v = strtod(eq + 1, &end);
      if (end == eq + 1 || !isfinite(v)) {
        fclose(fp);
        return KILN_FAIL(err, KILN_EINVAL, "effective_hamiltonian: %s line %d: value of '%s' "
                         "is not a number", file, ln, key);
      }
      *kilni_effham_parptr(p, k) = v;
      seen[k] = 1;
    }
  }
  fclose(fp);
  for (int k = 0; k < 6; k++)
    if (!seen[k])
      return KILN_FAIL(err, KILN_EINVAL, "effective_hamiltonian: %s has no '%s' (required)",
                       file, kilni_effham_parnames[k]);
  return KILN_OK;
}

/* ------------------------------------------------------------------ kernel Phi(k) */

static void short_range(const kilni_effham_params *P, const double k[3], double o[6]) {
  const double *j = P->j;
  double m[3][3] = {{0}};
  for (int sx = -1; sx <= 1; sx++)
    for (int sy = -1; sy <= 1; sy++)
      for (int sz = -1; sz <= 1; sz++) {
        const int s[3] = {sx, sy, sz};
        const int nz = (sx != 0) + (sy != 0) + (sz != 0);
        if (!nz) continue;
        const double cs = cos(P->a0 * (k[0] * sx + k[1] * sy + k[2] * sz));
        for (int a = 0; a < 3; a++) {
          double d = nz == 1 ? (s[a] ? j[1] : j[0]) : nz == 2 ? (s[a] ? j[2] : j[3]) : j[5];
          m[a][a] += d * cs;
          for (int b = a + 1; b < 3; b++) {
            double od = nz == 2 ? j[4] : nz == 3 ? j[6] : 0.0;
            m[a][b] += od * s[a] * s[b] * cs;
          }
        }
      }
  o[0] = m[0][0] + 2 * P->kappa2;
  o[1] = m[1][1] + 2 * P->kappa2;
  o[2] = m[2][2] + 2 * P->kappa2;
  o[3] = m[1][2];
  o[4] = m[0][2];
  o[5] = m[0][1];
}

/* Ewald sum of the dipole tensor (delta - 3 rr)/r^3 over the simple-cubic lattice a0 Z^3
 * with Bloch phase k, tin-foil (k+G = 0 omitted), in 1/Å^3. */
static void dipole_lattice(double a0, double kap, const double k[3], double o[6]) {
  const double rcut = 6.3 / kap, qcut = 2.0 * kap * 6.3;
  const int nr = (int)ceil(rcut / a0), ng = (int)ceil(qcut * a0 / (2 * M_PI)) + 1;
  double m[6] = {0};
  const double spi = sqrt(M_PI), k2 = kap * kap;
  /* real space: half the lattice (R and -R give 2 cos(k.R)) */
  for (int x = 0; x <= nr; x++)
    for (int y = -nr; y <= nr; y++)
      for (int z = -nr; z <= nr; z++) {
        if (x == 0 && (y < 0 || (y == 0 && z <= 0))) continue;
        const double R[3] = {a0 * x, a0 * y, a0 * z};
        const double r2 = R[0] * R[0] + R[1] * R[1] + R[2] * R[2], r = sqrt(r2);
        if (r > rcut) continue;
        const double ex = 2.0 / spi * kap * exp(-k2 * r2), er = erfc(kap * r);
        const double B = er / (r2 * r) + ex / r2;
        const double C = (3.0 * er / (r2 * r) + ex * (2.0 * k2 + 3.0 / r2)) / r2;
        const double w = 2.0 * cos(k[0] * R[0] + k[1] * R[1] + k[2] * R[2]);
        m[0] += w * (B - C * R[0] * R[0]);
        m[1] += w * (B - C * R[1] * R[1]);
        m[2] += w * (B - C * R[2] * R[2]);
        m[3] -= w * C * R[1] * R[2];
        m[4] -= w * C * R[0] * R[2];
        m[5] -= w * C * R[0] * R[1];
      }
  const double self = -4.0 * kap * k2 / (3.0 * spi);
  m[0] += self; m[1] += self; m[2] += self;
  const double g0 = 2 * M_PI / a0, pre = 4 * M_PI / (a0 * a0 * a0);
  for (int x = -ng; x <= ng; x++)
    for (int y = -ng; y <= ng; y++)
      for (int z = -ng; z <= ng; z++) {
        const double q[3] = {k[0] + g0 * x, k[1] + g0 * y, k[2] + g0 * z};
        const double q2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2];
        if (q2 < 1e-20 || q2 > qcut * qcut) continue;
        const double w = pre * exp(-q2 / (4 * k2)) / q2;
        m[0] += w * q[0] * q[0];
        m[1] += w * q[1] * q[1];
        m[2] += w * q[2] * q[2];
        m[3] += w * q[1] * q[2];
        m[4] += w * q[0] * q[2];
        m[5] += w * q[0] * q[1];
      }
  memcpy(o, m, sizeof m);
}

void kilni_effham_phi(const kilni_effham *s, const double k[3], double out[6]) {
  const kilni_effham_params *P = &s->P;
  short_range(P, k, out);
  if (!s->dipole) return;
  double d[6];
  const double kap = s->kappa_ewald > 0 ? s->kappa_ewald : sqrt(M_PI) / P->a0;
  dipole_lattice(P->a0, kap, k, d);
  const double pref = P->zstar * P->zstar * KILNI_EFFHAM_COULOMB / P->epsinf;
  for (int c = 0; c < 6; c++) out[c] += pref * d[c];
}

/* ------------------------------------------------------------------ grid */

void kilni_effham_free_grid(kilni_effham *s) {
#pragma omp critical(kiln_fftw_planner)
  {
    if (s->fwd) fftw_destroy_plan(s->fwd);
    if (s->bwd) fftw_destroy_plan(s->bwd);
  }
  s->fwd = s->bwd = NULL;
  fftw_free(s->rbuf);
  fftw_free(s->cbuf);
  free(s->phi);
  free(s->kinv);
  free(s->usite);
  free(s->mark);
  s->rbuf = NULL; s->cbuf = NULL; s->phi = NULL; s->kinv = NULL; s->usite = NULL;
  s->mark = NULL;
  s->N = s->nk = 0;
  s->L[0] = s->L[1] = s->L[2] = 0;
  s->plan_threads = 0;
}

static int nfields(const kilni_effham *s) { return s->inho ? 9 : 3; }

static unsigned planner_flags(void) {
  const char *e = getenv("KILN_FFTW_PLANNER");
  if (e && !strcmp(e, "measure")) return FFTW_MEASURE;
  if (e && !strcmp(e, "patient")) return FFTW_PATIENT;
  return FFTW_ESTIMATE;
}

/* (re)plan the batched transforms for nthr threads (buffers are kept; MEASURE
 * overwrites them, so this runs before they are filled) */
static kiln_status plan(kilni_effham *s, int nthr, kiln_error *err) {
  const int n[3] = {s->L[0], s->L[1], s->L[2]}, hm = nfields(s);
  const int N = (int)s->N, nk = (int)s->nk;
  unsigned fl = planner_flags();
#pragma omp critical(kiln_fftw_planner)
  {
    if (s->fwd) fftw_destroy_plan(s->fwd);
    if (s->bwd) fftw_destroy_plan(s->bwd);
    fftw_init_threads();
    fftw_plan_with_nthreads(nthr);
    s->fwd = fftw_plan_many_dft_r2c(3, n, hm, s->rbuf, NULL, 1, N, s->cbuf, NULL, 1, nk, fl);
    s->bwd = fftw_plan_many_dft_c2r(3, n, hm, s->cbuf, NULL, 1, nk, s->rbuf, NULL, 1, N, fl);
    fftw_plan_with_nthreads(1);
  }
  if (!s->fwd || !s->bwd)
    return KILN_FAIL(err, KILN_ENOMEM, "effective_hamiltonian: FFTW could not plan %dx%dx%d",
                     n[0], n[1], n[2]);
  s->plan_threads = nthr;
  return KILN_OK;
}

static double fold(int m, int L, double a0) {
  int mf = m <= L / 2 ? m : m - L;
  return 2 * M_PI * mf / (L * a0);
}

kiln_status kilni_effham_setup_grid(kilni_effham *s, const int L[3], kiln_error *err) {
  kilni_effham_free_grid(s);
  for (int d = 0; d < 3; d++) {
    if (L[d] < 1 || L[d] > 4096)
      return KILN_FAIL(err, KILN_EINVAL, "effective_hamiltonian: grid size %d along %c is "
                       "out of range", L[d], "xyz"[d]);
    s->L[d] = L[d];
  }
  const size_t N = (size_t)L[0] * L[1] * L[2], nz = (size_t)L[2] / 2 + 1;
  const size_t nk = (size_t)L[0] * L[1] * nz;
  s->N = N;
  s->nk = nk;
  const int nf = nfields(s);
  s->rbuf = fftw_malloc((size_t)nf * N * sizeof(double));
  s->cbuf = fftw_malloc((size_t)nf * nk * sizeof(fftw_complex));
  s->phi = malloc(nk * 6 * sizeof *s->phi);
  s->kinv = s->inho ? calloc(nk * 21, sizeof *s->kinv) : NULL;
  s->usite = malloc(N * sizeof *s->usite);
  s->mark = malloc(N);
  if (!s->rbuf || !s->cbuf || !s->phi || (s->inho && !s->kinv) || !s->usite || !s->mark) {
    kilni_effham_free_grid(s);
    return KILN_FAIL(err, KILN_ENOMEM, "effective_hamiltonian: out of memory for %zu cells", N);
  }
  const kilni_effham_params *P = &s->P;
  const double a0 = P->a0, invN = 1.0 / (double)N;
  const double B11 = P->B11, B12 = P->B12, B44 = P->B44;
  int bad = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(| : bad)
  for (long q = 0; q < (long)nk; q++) {
    const int mz = (int)(q % (long)nz), my = (int)((q / (long)nz) % L[1]),
              mx = (int)(q / ((long)nz * L[1]));
    const double k[3] = {fold(mx, L[0], a0), fold(my, L[1], a0), fold(mz, L[2], a0)};
    double ph[6];
    kilni_effham_phi(s, k, ph);
    for (int c = 0; c < 6; c++) s->phi[q * 6 + c] = ph[c] * invN;
    if (s->inho && q != 0) {
      /* G = D K^-1 D^T (6x6, 1/eV), K = D^T B D the Christoffel matrix. On a Nyquist
       * plane (k_a = pi/a0 for even L) +k_a and -k_a are the same grid point: G is
       * averaged over both signs so that the operator stays real, symmetric and cubic. */
      const int ny[3] = {L[0] % 2 == 0 && 2 * mx == L[0], L[1] % 2 == 0 && 2 * my == L[1],
                         L[2] % 2 == 0 && 2 * mz == L[2]};
      double Gs[21] = {0};
      int nav = 0;
      for (int sgn = 0; sgn < 8; sgn++) {
        if (((sgn & 1) && !ny[0]) || ((sgn & 2) && !ny[1]) || ((sgn & 4) && !ny[2])) continue;
        const double kx = (sgn & 1) ? -k[0] : k[0], ky = (sgn & 2) ? -k[1] : k[1],
                     kz = (sgn & 4) ? -k[2] : k[2];
        const double Kxx = B11 * kx * kx + B44 * (ky * ky + kz * kz);
        const double Kyy = B11 * ky * ky + B44 * (kx * kx + kz * kz);
        const double Kzz = B11 * kz * kz + B44 * (kx * kx + ky * ky);
        const double Kyz = (B12 + B44) * ky * kz, Kxz = (B12 + B44) * kx * kz,
                     Kxy = (B12 + B44) * kx * ky;
        const double cxx = Kyy * Kzz - Kyz * Kyz, cyy = Kxx * Kzz - Kxz * Kxz,
                     czz = Kxx * Kyy - Kxy * Kxy, cyz = Kxy * Kxz - Kxx * Kyz,
                     cxz = Kxy * Kyz - Kyy * Kxz, cxy = Kxz * Kyz - Kzz * Kxy;
        const double det = Kxx * cxx + Kxy * cxy + Kxz * cxz;
        if (!(det > 0) || !(Kxx > 0)) {
          bad = 1;
          break;
        }
        const double Ki[3][3] = {{cxx / det, cxy / det, cxz / det},
                                 {cxy / det, cyy / det, cyz / det},
                                 {cxz / det, cyz / det, czz / det}};
        /* D: eta_i = i D_ia w_a; rows eta1..eta6 */
        const double D[6][3] = {{kx, 0, 0}, {0, ky, 0}, {0, 0, kz},
                                {0, kz, ky}, {kz, 0, kx}, {ky, kx, 0}};
        double DK[6][3];
        for (int i = 0; i < 6; i++)
          for (int b = 0; b < 3; b++)
            DK[i][b] = D[i][0] * Ki[0][b] + D[i][1] * Ki[1][b] + D[i][2] * Ki[2][b];
        int t = 0;
        for (int i = 0; i < 6; i++)
          for (int j = i; j < 6; j++, t++)
            Gs[t] += DK[i][0] * D[j][0] + DK[i][1] * D[j][1] + DK[i][2] * D[j][2];
        nav++;
      }
      if (bad) continue;
      for (int t = 0; t < 21; t++) s->kinv[q * 21 + t] = -Gs[t] * invN / nav;
    }
  }
  if (bad) {
    kilni_effham_free_grid(s);
    return KILN_FAIL(err, KILN_EINVAL, "effective_hamiltonian: the elastic constants B11=%g "
                     "B12=%g B44=%g do not give a positive acoustic stiffness (set "
                     "inhomogeneous=false to leave the inhomogeneous strain out)", B11, B12, B44);
  }
  return KILN_OK;
}

/* ------------------------------------------------------------------ evaluation */

/* strain charges c_i = dV_coup/d eta_i of one cell */
static inline void charges(double hx, double hy, double b4, const double u[3], double c[6]) {
  const double x2 = u[0] * u[0], y2 = u[1] * u[1], z2 = u[2] * u[2];
  c[0] = hx * x2 + hy * (y2 + z2);
  c[1] = hx * y2 + hy * (z2 + x2);
  c[2] = hx * z2 + hy * (x2 + y2);
  c[3] = b4 * u[1] * u[2];
  c[4] = b4 * u[2] * u[0];
  c[5] = b4 * u[0] * u[1];
}

static void set_info(kiln_atoms *a, const char *name, size_t count, const double *v) {
  kiln_info *in = kiln_atoms_info_get(a, name);
  if (in && in->kind == KILN_VAL_REAL && in->count == count) {
    memcpy(in->val, v, count * sizeof *v);
    return;
  }
  kiln_error e;
  (void)kiln_atoms_info_set(a, name, KILN_VAL_REAL, count, v, &e);
}

kiln_status kilni_effham_eval(kilni_effham *s, kiln_atoms *a, double *energy, double (*f)[3],
                              double virial[3][3], double *eatom, kiln_error *err) {
  const kilni_effham_params *P = &s->P;
  const size_t n = a->n;
  const double a0 = P->a0;
  kiln_status st;
  /* grid: the option n, else the cell lengths in units of a0 (kept while n fits) */
  int L[3];
  if (s->Lfix[0]) {
    memcpy(L, s->Lfix, sizeof L);
  } else if (s->N == n && n > 0) {
    memcpy(L, s->L, sizeof L);
  } else {
    for (int d = 0; d < 3; d++) {
      const double *h = a->cell[d];
      L[d] = (int)floor(sqrt(h[0] * h[0] + h[1] * h[1] + h[2] * h[2]) / a0 + 0.5);
    }
  }
  if ((size_t)L[0] * L[1] * L[2] != n || n == 0)
    return KILN_FAIL(err, KILN_EINVAL, "effective_hamiltonian: %zu pseudo-atoms do not fill a "
                     "%dx%dx%d grid of cells (the cell should be about L a0 = L x %g A along "
                     "each axis, one pseudo-atom per cell; or give n={Lx,Ly,Lz})", n, L[0],
                     L[1], L[2], a0);
  if (!(a->pbc[0] && a->pbc[1] && a->pbc[2]))
    return KILN_FAIL(err, KILN_EINVAL, "effective_hamiltonian: the cell must be periodic in "
                     "all three directions");
  if (L[0] != s->L[0] || L[1] != s->L[1] || L[2] != s->L[2] || !s->rbuf)
    if ((st = kilni_effham_setup_grid(s, L, err))) return st;
  const size_t N = s->N, nk = s->nk;
  int nthr = omp_get_max_threads();
  if (nthr < 1 || N < 4096) nthr = 1;
  if (!s->fwd || nthr != s->plan_threads)
    if ((st = plan(s, nthr, err))) return st;
  if (s->site_cap < n) {
    free(s->site);
    s->site = malloc(n * sizeof *s->site);
    s->site_cap = s->site ? n : 0;
    if (!s->site) return KILN_FAIL(err, KILN_ENOMEM, "effective_hamiltonian: out of memory");
  }
  double inv[3][3];
  if ((st = kiln_cell_inverse(a->cell, inv, err))) return st;
  /* deformation gradient F_ab = h[b][a] / (L_b a0) and the strain */
  double F[3][3];
  for (int x = 0; x < 3; x++)
    for (int y = 0; y < 3; y++) F[x][y] = a->cell[y][x] / (L[y] * a0);
  double eta[6] = {0};
  if (s->strain_mode == KILNI_EFFHAM_STRAIN_CELL) {
    eta[0] = F[0][0] - 1; eta[1] = F[1][1] - 1; eta[2] = F[2][2] - 1;
    eta[3] = F[1][2] + F[2][1]; eta[4] = F[0][2] + F[2][0]; eta[5] = F[0][1] + F[1][0];
  }
  /* 1. u per atom, site map */
  const int L0 = L[0], L1 = L[1], L2 = L[2];
  double (*us)[3] = s->usite;
  int32_t *site = s->site;
  const double (*x)[3] = (const double (*)[3])a->x;
  const double (*cell)[3] = (const double (*)[3])a->cell;
#pragma omp parallel for schedule(static) num_threads(nthr)
  for (long i = 0; i < (long)n; i++) {
    double t[3], d[3];
    int m[3];
    for (int c = 0; c < 3; c++) {
      t[c] = (x[i][0] * inv[0][c] + x[i][1] * inv[1][c] + x[i][2] * inv[2][c]) * L[c];
      double r = floor(t[c] + 0.5);
      d[c] = (t[c] - r) / L[c];
      long mm = (long)r % L[c];
      m[c] = (int)(mm < 0 ? mm + L[c] : mm);
    }
    const int32_t sidx = (int32_t)(((long)m[0] * L1 + m[1]) * L2 + m[2]);
    site[i] = sidx;
    for (int c = 0; c < 3; c++)
      us[sidx][c] = d[0] * cell[0][c] + d[1] * cell[1][c] + d[2] * cell[2][c];
  }
  memset(s->mark, 0, N);
  for (size_t i = 0; i < n; i++) {
    if (s->mark[site[i]])
      return KILN_FAIL(err, KILN_EINVAL, "effective_hamiltonian: pseudo-atom %zu sits in the "
                       "same cell (%d) as another one: |u| must stay below a0/2 = %g A "
                       "(exploded run or wrong lattice?)", i + 1, (int)site[i], 0.5 * a0);
    s->mark[site[i]] = 1;
  }
  (void)L0;
  /* 2. fields and the forward transform */
  const int nf = nfields(s);
  double *rb = s->rbuf;
  const double hx = 0.5 * P->B1xx, hy = 0.5 * P->B1yy, b4 = P->B4yz;
  double cs0 = 0, cs1 = 0, cs2 = 0, cs3 = 0, cs4 = 0, cs5 = 0, um0 = 0, um1 = 0, um2 = 0;
#pragma omp parallel for schedule(static) num_threads(nthr) \
    reduction(+ : cs0, cs1, cs2, cs3, cs4, cs5, um0, um1, um2)
  for (long q = 0; q < (long)N; q++) {
    const double *u = us[q];
    double c[6];
    charges(hx, hy, b4, u, c);
    rb[q] = u[0]; rb[N + q] = u[1]; rb[2 * N + q] = u[2];
    if (nf == 9)
      for (int k = 0; k < 6; k++) rb[(3 + k) * N + q] = c[k];
    cs0 += c[0]; cs1 += c[1]; cs2 += c[2]; cs3 += c[3]; cs4 += c[4]; cs5 += c[5];
    um0 += u[0]; um1 += u[1]; um2 += u[2];
  }
  const double csum[6] = {cs0, cs1, cs2, cs3, cs4, cs5};
  const double Nd = (double)N;
  if (s->strain_mode == KILNI_EFFHAM_STRAIN_RELAX) {
    const double pa = s->pressure * a0 * a0 * a0;
    double r[3], rs = 0;
    for (int c = 0; c < 3; c++) rs += (r[c] = -(csum[c] / Nd + pa));
    const double B11 = P->B11, B12 = P->B12;
    for (int c = 0; c < 3; c++) eta[c] = (r[c] - B12 / (B11 + 2 * B12) * rs) / (B11 - B12);
    for (int c = 3; c < 6; c++) eta[c] = -csum[c] / Nd / P->B44;
  }
  fftw_execute(s->fwd);
  /* 3. k space */
  fftw_complex *cb = s->cbuf;
  const double *phi = s->phi, *kinv = s->kinv;
#pragma omp parallel for schedule(static) num_threads(nthr)
  for (long q = 0; q < (long)nk; q++) {
    const double *p = phi + q * 6;
    double ur[3], ui[3];
    for (int c = 0; c < 3; c++) { ur[c] = cb[c * nk + q][0]; ui[c] = cb[c * nk + q][1]; }
    cb[q][0] = p[0] * ur[0] + p[5] * ur[1] + p[4] * ur[2];
    cb[q][1] = p[0] * ui[0] + p[5] * ui[1] + p[4] * ui[2];
    cb[nk + q][0] = p[5] * ur[0] + p[1] * ur[1] + p[3] * ur[2];
    cb[nk + q][1] = p[5] * ui[0] + p[1] * ui[1] + p[3] * ui[2];
    cb[2 * nk + q][0] = p[4] * ur[0] + p[3] * ur[1] + p[2] * ur[2];
    cb[2 * nk + q][1] = p[4] * ui[0] + p[3] * ui[1] + p[2] * ui[2];
    if (nf == 9) {
      const double *G = kinv + q * 21;
      for (int part = 0; part < 2; part++) {
        double c[6], e[6] = {0};
        for (int k = 0; k < 6; k++) c[k] = cb[(3 + k) * nk + q][part];
        int t = 0;
        for (int i = 0; i < 6; i++) {
          e[i] += G[t] * c[i];
          t++;
          for (int j = i + 1; j < 6; j++, t++) {
            e[i] += G[t] * c[j];
            e[j] += G[t] * c[i];
          }
        }
        for (int k = 0; k < 6; k++) cb[(3 + k) * nk + q][part] = e[k];
      }
    }
  }
  fftw_execute(s->bwd);
  /* 4. energies, forces, u (x) f */
  const double zE[3] = {P->zstar * s->field[0], P->zstar * s->field[1], P->zstar * s->field[2]};
  const double al = P->alpha, ga = P->gamma, k1 = P->k1, k2 = P->k2, k3 = P->k3, k4 = P->k4;
  const double B11 = P->B11, B12 = P->B12, B44 = P->B44;
  const double e_elas = Nd * (0.5 * B11 * (eta[0] * eta[0] + eta[1] * eta[1] + eta[2] * eta[2]) +
                              B12 * (eta[0] * eta[1] + eta[1] * eta[2] + eta[2] * eta[0]) +
                              0.5 * B44 * (eta[3] * eta[3] + eta[4] * eta[4] + eta[5] * eta[5]));
  const double e_p = s->strain_mode == KILNI_EFFHAM_STRAIN_RELAX
                         ? Nd * s->pressure * a0 * a0 * a0 * (eta[0] + eta[1] + eta[2]) : 0.0;
  const double e_site0 = (e_elas + e_p) / Nd;
  double eq = 0, ea = 0, ech = 0, ei = 0, ef = 0;
  double w00 = 0, w01 = 0, w02 = 0, w10 = 0, w11 = 0, w12 = 0, w20 = 0, w21 = 0, w22 = 0;
  const int want_f = f != NULL;
#pragma omp parallel for schedule(static) num_threads(nthr) \
    reduction(+ : eq, ea, ech, ei, ef, w00, w01, w02, w10, w11, w12, w20, w21, w22)
  for (long i = 0; i < (long)n; i++) {
    const size_t q = (size_t)site[i];
    const double *u = us[q];
    const double ux = u[0], uy = u[1], uz = u[2];
    const double g0 = rb[q], g1 = rb[N + q], g2 = rb[2 * N + q];
    double et[6], ein[6] = {0}, c[6];
    if (nf == 9)
      for (int k = 0; k < 6; k++) ein[k] = rb[(3 + k) * N + q];
    for (int k = 0; k < 6; k++) et[k] = eta[k] + ein[k];
    charges(hx, hy, b4, u, c);
    const double x2 = ux * ux, y2 = uy * uy, z2 = uz * uz, u2 = x2 + y2 + z2;
    const double e_anh = al * u2 * u2 + ga * (x2 * y2 + y2 * z2 + z2 * x2) + k1 * u2 * u2 * u2 +
                         k2 * (x2 * x2 * (y2 + z2) + y2 * y2 * (z2 + x2) + z2 * z2 * (x2 + y2)) +
                         k3 * x2 * y2 * z2 + k4 * u2 * u2 * u2 * u2;
    const double e_q = 0.5 * (ux * g0 + uy * g1 + uz * g2);
    double e_ch = 0, e_in = 0;
    for (int k = 0; k < 6; k++) { e_ch += eta[k] * c[k]; e_in += 0.5 * ein[k] * c[k]; }
    const double e_f = -(zE[0] * ux + zE[1] * uy + zE[2] * uz);
    eq += e_q; ea += e_anh; ech += e_ch; ei += e_in; ef += e_f;
    if (eatom) eatom[i] = e_q + e_anh + e_ch + e_in + e_f + e_site0;
    const double c2 = 2 * al * u2 + 3 * k1 * u2 * u2 + 4 * k4 * u2 * u2 * u2;
    const double dax = 2 * ux * (c2 + ga * (y2 + z2) + k2 * (2 * x2 * (y2 + z2) + y2 * y2 + z2 * z2) + k3 * y2 * z2);
    const double day = 2 * uy * (c2 + ga * (z2 + x2) + k2 * (2 * y2 * (z2 + x2) + z2 * z2 + x2 * x2) + k3 * z2 * x2);
    const double daz = 2 * uz * (c2 + ga * (x2 + y2) + k2 * (2 * z2 * (x2 + y2) + x2 * x2 + y2 * y2) + k3 * x2 * y2);
    const double dcx = 2 * ux * (hx * et[0] + hy * (et[1] + et[2])) + b4 * (et[4] * uz + et[5] * uy);
    const double dcy = 2 * uy * (hx * et[1] + hy * (et[2] + et[0])) + b4 * (et[3] * uz + et[5] * ux);
    const double dcz = 2 * uz * (hx * et[2] + hy * (et[0] + et[1])) + b4 * (et[3] * uy + et[4] * ux);
    const double fx = zE[0] - g0 - dax - dcx, fy = zE[1] - g1 - day - dcy,
                 fz = zE[2] - g2 - daz - dcz;
    if (want_f) { f[i][0] = fx; f[i][1] = fy; f[i][2] = fz; }
    w00 += ux * fx; w01 += ux * fy; w02 += ux * fz;
    w10 += uy * fx; w11 += uy * fy; w12 += uy * fz;
    w20 += uz * fx; w21 += uz * fy; w22 += uz * fz;
  }
  double ech_h = 0;
  for (int k = 0; k < 6; k++) ech_h += eta[k] * csum[k];
  (void)ech;
  s->terms[KILNI_EH_QUAD] = eq;
  s->terms[KILNI_EH_ANH] = ea;
  s->terms[KILNI_EH_ELAS_HOMO] = e_elas;
  s->terms[KILNI_EH_COUP_HOMO] = ech_h;
  s->terms[KILNI_EH_INHO] = ei;
  s->terms[KILNI_EH_FIELD] = ef;
  s->terms[KILNI_EH_PRESSURE] = e_p;
  double etot = 0;
  for (int k = 0; k < KILNI_EH_NTERMS; k++) etot += s->terms[k];
  *energy = etot;
  /* virial: W[a][b] = sum u_a f_b - (S F^T)_ba, S = dE/d(strain tensor) */
  const double W[3][3] = {{w00, w01, w02}, {w10, w11, w12}, {w20, w21, w22}};
  double S[3][3] = {{0}};
  if (s->strain_mode == KILNI_EFFHAM_STRAIN_CELL) {
    double sg[6];
    sg[0] = Nd * (B11 * eta[0] + B12 * (eta[1] + eta[2])) + csum[0];
    sg[1] = Nd * (B11 * eta[1] + B12 * (eta[2] + eta[0])) + csum[1];
    sg[2] = Nd * (B11 * eta[2] + B12 * (eta[0] + eta[1])) + csum[2];
    for (int k = 3; k < 6; k++) sg[k] = Nd * B44 * eta[k] + csum[k];
    S[0][0] = sg[0]; S[1][1] = sg[1]; S[2][2] = sg[2];
    S[1][2] = S[2][1] = sg[3]; S[0][2] = S[2][0] = sg[4]; S[0][1] = S[1][0] = sg[5];
  }
  for (int p = 0; p < 3; p++)
    for (int r = 0; r < 3; r++) {
      double sf = 0;
      for (int c = 0; c < 3; c++) sf += S[r][c] * F[p][c];
      virial[p][r] = W[p][r] - sf;
    }
  memcpy(s->eta, eta, sizeof eta);
  s->umean[0] = um0 / Nd; s->umean[1] = um1 / Nd; s->umean[2] = um2 / Nd;
  set_info(a, "effham_eta", 6, s->eta);
  set_info(a, "effham_u", 3, s->umean);
  set_info(a, "effham_terms", KILNI_EH_NTERMS, s->terms);
  return KILN_OK;
}
