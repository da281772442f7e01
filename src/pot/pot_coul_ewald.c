/* src/pot/pot_coul_ewald.c: Coulomb energy of a periodic system by the Ewald sum (as LAMMPS
 * pair_style coul/long + kspace_style ewald).
 *
 * E = k sum_{i<j} q_i q_j erfc(a r_ij)/r_ij   (real space, r < cutoff, all images)
 *   + k (2 pi / V) sum_{k != 0} exp(-k^2/4a^2)/k^2 |S(k)|^2,  S(k) = sum_i q_i exp(i k.r_i)
 *   - k a/sqrt(pi) sum_i q_i^2                       (self)
 *   - k pi Q^2 / (2 a^2 V)                           (neutralising background, Q = sum q_i)
 * The reciprocal sum runs over half of the k-vectors |k| <= kcut (k and -k together); the
 * phases exp(i k.r) come from per-atom recurrences along the three reciprocal vectors.
 * The damping a and kcut follow LAMMPS from the relative accuracy (forces relative to the
 * force between two unit charges 1 A apart); they are fixed at the first evaluation (and
 * again when the atom count or the charges change), not when the cell changes, so the
 * energy is a smooth function of the strain.
 * A COMPOSITE style: it keeps its own half neighbor list (cutoff + 1 A skin) and
 * computes energy, forces, virial and per-atom energies itself. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "pot/coul_common.h"
#include "pot/pot_part.h"

#define EWALD_SKIN 1.0

typedef struct {
  int l, m, n0, n1;   /* k = l b1 + m b2 + n b3 for n0 <= n <= n1 */
  size_t k0;          /* index of the first of them in the k arrays */
} kcol;

typedef struct {
  kilni_charges ch;
  double rc, acc, alpha_opt, kcut_opt;
  /* chosen at setup */
  int ready;
  size_t setup_n;
  double setup_qsq;
  double alpha, kcut;
  kiln_neigh *nl;
  /* scratch */
  double *q;          /* n local charges */
  size_t qcap;
  int nthr;           /* thread slots allocated */
  size_t tcap;        /* rows per thread slot */
  double *fth, *eth;  /* nthr x n x 3, nthr x n */
  double *vth;        /* nthr x 9 */
  double *ep;         /* phases: 3 x (L+1) x n x {re, im} */
  size_t epcap;
  double *tmp;        /* nthr x 2n */
  size_t tmpcap;
  kcol *col;
  size_t ncol, colcap;
  double *kv;         /* nk x 4: kx, ky, kz, A_k */
  double *sk;         /* nk x 2: Re S, Im S */
  size_t nk, kcap;
} ewald_state;

static void ewald_destroy(void *state) {
  ewald_state *s = state;
  if (!s) return;
  kiln_neigh_free(s->nl);
  free(s->q);
  free(s->fth);
  free(s->eth);
  free(s->vth);
  free(s->ep);
  free(s->tmp);
  free(s->col);
  free(s->kv);
  free(s->sk);
  free(s);
}

static kiln_status ewald_init(void **state, double *cutoff, const kiln_opts *o,
                              kiln_error *err) {
  const char *what = "potential coul/ewald";
  ewald_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  kiln_status st = kilni_charges_parse(&s->ch, o, what, err);
  if (!st) st = kiln_opts_num(o, what, "cutoff", 1, 10.0, &s->rc, err);
  if (!st) st = kiln_opts_num(o, what, "accuracy", 1, 1e-6, &s->acc, err);
  if (!st) st = kiln_opts_num(o, what, "alpha", 1, 0.0, &s->alpha_opt, err);
  if (!st) st = kiln_opts_num(o, what, "kcut", 1, 0.0, &s->kcut_opt, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (!st && !(s->rc > 0 && isfinite(s->rc)))
    st = KILN_FAIL(err, KILN_EINVAL, "%s: cutoff must be positive (got %g A)", what, s->rc);
  if (!st && !(s->acc > 0 && s->acc < 1))
    st = KILN_FAIL(err, KILN_EINVAL, "%s: accuracy must be in (0, 1) (got %g)", what, s->acc);
  if (!st && !(s->alpha_opt >= 0 && isfinite(s->alpha_opt)))
    st = KILN_FAIL(err, KILN_EINVAL, "%s: alpha must be positive (got %g 1/A)", what,
                   s->alpha_opt);
  if (!st && !(s->kcut_opt >= 0 && isfinite(s->kcut_opt)))
    st = KILN_FAIL(err, KILN_EINVAL, "%s: kcut must be positive (got %g 1/A)", what,
                   s->kcut_opt);
  if (!st) st = kiln_neigh_new(&s->nl, KILN_NEIGH_HALF, s->rc, EWALD_SKIN, err);
  if (st) {
    ewald_destroy(s);
    return st;
  }
  *cutoff = s->rc;
  *state = s;
  return KILN_OK;
}

static int ewald_map(const void *state, const char *symbol) {
  return kilni_charges_map(&((const ewald_state *)state)->ch, symbol);
}

/* LAMMPS' estimate of the rms force error of the k-space sum along one direction */
static double kspace_rms(int km, double prd, size_t n, double q2, double alpha) {
  return 2.0 * q2 * alpha / prd * sqrt(1.0 / (M_PI * km * (double)n)) *
         exp(-M_PI * M_PI * km * km / (alpha * alpha * prd * prd));
}

/* choose alpha and kcut (LAMMPS ewald.cpp: g_ewald from the accuracy, cutoff, volume,
 * natoms and sum q^2; kmax per direction from the rms estimate) */
static kiln_status ewald_setup(ewald_state *s, const kiln_atoms *a, double qsq, double vol,
                               kiln_error *err) {
  const double acc = s->acc * KILNI_COUL_K;  /* absolute, eV/A */
  const double q2 = qsq * KILNI_COUL_K;
  const size_t n = a->n;
  double alpha = s->alpha_opt;
  if (alpha == 0) {
    double g = acc * sqrt((double)n * s->rc * vol) / (2.0 * q2);
    alpha = g >= 1.0 ? (1.35 - 0.15 * log(acc)) / s->rc : sqrt(-log(g)) / s->rc;
  }
  double kcut = s->kcut_opt;
  if (kcut == 0) {
    double h[3], gsq = 0;
    kiln_cell_heights(a->cell, h);
    for (int d = 0; d < 3; d++) {
      int km = 1;
      while (kspace_rms(km, h[d], n, q2, alpha) > acc) {
        if (++km > 100000)
          return KILN_FAIL(err, KILN_EINVAL, "potential coul/ewald: accuracy %g needs more "
                           "than 1e5 k-vectors along cell vector %d (alpha %g 1/A)", s->acc,
                           d + 1, alpha);
      }
      double g2 = (2 * M_PI * km / h[d]) * (2 * M_PI * km / h[d]);
      if (g2 > gsq) gsq = g2;
    }
    kcut = sqrt(gsq * 1.00001);
  }
  s->alpha = alpha;
  s->kcut = kcut;
  s->setup_n = n;
  s->setup_qsq = qsq;
  s->ready = 1;
  return KILN_OK;
}

/* the half-space k-vectors with |k| <= kcut as columns (l, m, n0..n1); returns L per axis */
static kiln_status make_kvectors(ewald_state *s, const double b[3][3], const double cell[3][3],
                                 double vol, int L[3], kiln_error *err) {
  const double kc2 = s->kcut * s->kcut;
  for (int d = 0; d < 3; d++) {
    double len = sqrt(cell[d][0] * cell[d][0] + cell[d][1] * cell[d][1] +
                      cell[d][2] * cell[d][2]);
    L[d] = (int)floor(s->kcut * len / (2 * M_PI));
    if (L[d] > 100000)
      return KILN_FAIL(err, KILN_EINVAL, "potential coul/ewald: kcut %g 1/A gives %d "
                       "k-vectors along cell vector %d", s->kcut, L[d], d + 1);
  }
  s->ncol = 0;
  s->nk = 0;
  const double a4 = 1.0 / (4 * s->alpha * s->alpha), pref = 4 * M_PI / vol * KILNI_COUL_K;
  for (int pass = 0; pass < 2; pass++) {
    size_t ncol = 0, nk = 0;
    for (int l = 0; l <= L[0]; l++)
      for (int m = (l == 0 ? 0 : -L[1]); m <= L[1]; m++) {
        double k0[3];
        for (int c = 0; c < 3; c++) k0[c] = l * b[0][c] + m * b[1][c];
        int n0 = (l == 0 && m == 0) ? 1 : -L[2], n1 = L[2];
        /* trim to the sphere */
        int first = 1;
        size_t kstart = nk;
        int c0 = 0, c1 = -1;
        for (int nn = n0; nn <= n1; nn++) {
          double kx = k0[0] + nn * b[2][0], ky = k0[1] + nn * b[2][1], kz = k0[2] + nn * b[2][2];
          double k2 = kx * kx + ky * ky + kz * kz;
          if (k2 > kc2) {
            if (!first) break; /* the sphere cuts a line in one segment */
            continue;
          }
          if (first) c0 = nn;
          first = 0;
          c1 = nn;
          if (pass) {
            double *v = s->kv + 4 * nk;
            v[0] = kx;
            v[1] = ky;
            v[2] = kz;
            v[3] = pref * exp(-k2 * a4) / k2;
          }
          nk++;
        }
        if (first) continue;
        if (pass) s->col[ncol] = (kcol){l, m, c0, c1, kstart};
        ncol++;
      }
    if (!pass) {
      if (!(s->col = kilni_grow(s->col, &s->colcap, ncol + 1, ncol + 1, sizeof *s->col)) ||
          !(s->kv = kilni_grow(s->kv, &s->kcap, 4 * nk + 4, 4 * nk + 4, sizeof *s->kv)))
        return KILN_FAIL(err, KILN_ENOMEM, "potential coul/ewald: out of memory (%zu k)", nk);
      free(s->sk);
      if (!(s->sk = malloc((2 * nk + 2) * sizeof *s->sk)))
        return KILN_FAIL(err, KILN_ENOMEM, "potential coul/ewald: out of memory (%zu k)", nk);
    } else {
      s->ncol = ncol;
      s->nk = nk;
    }
  }
  return KILN_OK;
}

/* per-thread scratch for nthr threads and n atoms */
static kiln_status ensure_scratch(ewald_state *s, int nthr, size_t n, kiln_error *err) {
  if (nthr <= s->nthr && n <= s->tcap && s->fth) return KILN_OK;
  free(s->fth);
  free(s->eth);
  free(s->vth);
  free(s->tmp);
  s->nthr = nthr > s->nthr ? nthr : s->nthr;
  s->tcap = n + n / 8 + 16;
  s->fth = malloc((size_t)s->nthr * s->tcap * 3 * sizeof *s->fth);
  s->eth = malloc((size_t)s->nthr * s->tcap * sizeof *s->eth);
  s->vth = malloc((size_t)s->nthr * 9 * sizeof *s->vth);
  s->tmp = malloc((size_t)s->nthr * s->tcap * 2 * sizeof *s->tmp);
  if (!s->fth || !s->eth || !s->vth || !s->tmp) {
    free(s->fth);
    free(s->eth);
    free(s->vth);
    free(s->tmp);
    s->fth = s->eth = s->vth = s->tmp = NULL;
    s->nthr = 0;
    s->tcap = 0;
    return KILN_FAIL(err, KILN_ENOMEM, "potential coul/ewald: out of memory (%zu atoms)", n);
  }
  return KILN_OK;
}

static kiln_status ewald_full(void *state, kiln_atoms *a, unsigned want, double *energy,
                              double virial[3][3], double *eatom, kiln_error *err) {
  ewald_state *s = state;
  const char *what = "potential coul/ewald";
  const size_t n = a->n;
  const int pa = eatom && (want & KILN_EVAL_PERATOM);
  const int wf = (want & KILN_EVAL_FORCES) != 0;
  kiln_status st;
  *energy = 0;
  memset(virial, 0, 9 * sizeof(double));
  if (!(a->pbc[0] && a->pbc[1] && a->pbc[2]))
    return KILN_FAIL(err, KILN_EINVAL, "%s needs a cell periodic in all three directions "
                     "(pbc %d %d %d); use coul/dsf otherwise", what, a->pbc[0], a->pbc[1],
                     a->pbc[2]);
  const double vol = kiln_atoms_volume(a);
  if (!(vol > 0)) return KILN_FAIL(err, KILN_EINVAL, "%s: the cell has no volume", what);
  if (n == 0) return KILN_OK;
  /* species and charges */
  int32_t tmap[KILN_MAX_SPECIES];
  for (int t = 0; t < a->nspecies && t < KILN_MAX_SPECIES; t++) {
    int m = kilni_charges_map(&s->ch, a->species[t]);
    tmap[t] = m < 0 ? 0 : m;
    if (m < 0)
      for (size_t i = 0; i < n; i++)
        if (a->type[i] == t)
          return KILN_FAIL(err, KILN_EINVAL, "%s has no charge for element '%s' (charges "
                           "given: %d elements)", what, a->species[t], s->ch.nel);
  }
  for (size_t i = 0; i < n; i++)
    if (a->type[i] < 0 || a->type[i] >= a->nspecies)
      return KILN_FAIL(err, KILN_EINVAL, "%s: atom %zu has type %d of %d species", what, i + 1,
                       (int)a->type[i], a->nspecies);
  if (!(s->q = kilni_grow(s->q, &s->qcap, n, n + n / 8 + 16, sizeof *s->q)))
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  if ((st = kilni_charges_local(&s->ch, a, tmap, s->q, what, err))) return st;
  const double *q = s->q;
  double qsum = 0, qsq = 0;
  for (size_t i = 0; i < n; i++) {
    qsum += q[i];
    qsq += q[i] * q[i];
  }
  if (qsq == 0) {
    if (wf) memset(a->f, 0, n * sizeof *a->f);
    if (pa) memset(eatom, 0, n * sizeof *eatom);
    return KILN_OK;
  }
  if (!s->ready || s->setup_n != n || fabs(s->setup_qsq - qsq) > 1e-12 * qsq)
    if ((st = ewald_setup(s, a, qsq, vol, err))) return st;
  /* reciprocal vectors b_d = 2 pi (column d of the inverse cell) */
  double inv[3][3], b[3][3];
  if ((st = kiln_cell_inverse(a->cell, inv, err))) return st;
  for (int d = 0; d < 3; d++)
    for (int c = 0; c < 3; c++) b[d][c] = 2 * M_PI * inv[c][d];
  int L[3];
  if ((st = make_kvectors(s, b, a->cell, vol, L, err))) return st;
  const size_t nk = s->nk;
  /* threads: only when there is enough work */
  int nthr = omp_get_max_threads();
  if (nthr < 1 || (double)n * (double)(nk + 50) < 4e4) nthr = 1;
  if ((st = ensure_scratch(s, nthr, n, err))) return st;
  const size_t np = (size_t)(L[0] + 1) + (size_t)(L[1] + 1) + (size_t)(L[2] + 1);
  if (!(s->ep = kilni_grow(s->ep, &s->epcap, np * 2 * n, np * 2 * n + 64, sizeof *s->ep)))
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu phases)", what, np * n);
  /* phase tables: ep_d[l] = exp(i l b_d.x), rows of 2n (re[0..n), im[0..n)) */
  double *ept[3];
  ept[0] = s->ep;
  ept[1] = ept[0] + (size_t)(L[0] + 1) * 2 * n;
  ept[2] = ept[1] + (size_t)(L[1] + 1) * 2 * n;
  for (int d = 0; d < 3; d++) {
    double *e0 = ept[d];
    for (size_t i = 0; i < n; i++) {
      e0[i] = 1.0;
      e0[n + i] = 0.0;
    }
    if (L[d] < 1) continue;
    double *e1 = e0 + 2 * n;
    for (size_t i = 0; i < n; i++) {
      double th = b[d][0] * a->x[i][0] + b[d][1] * a->x[i][1] + b[d][2] * a->x[i][2];
      e1[i] = cos(th);
      e1[n + i] = sin(th);
    }
    for (int l = 2; l <= L[d]; l++) {
      const double *ep = e0 + (size_t)(l - 1) * 2 * n;
      double *el = e0 + (size_t)l * 2 * n;
      for (size_t i = 0; i < n; i++) {
        el[i] = ep[i] * e1[i] - ep[n + i] * e1[n + i];
        el[n + i] = ep[i] * e1[n + i] + ep[n + i] * e1[i];
      }
    }
  }
  /* the real-space part needs the neighbor list */
  if ((st = kiln_neigh_update(s->nl, a, NULL, err))) return st;
  const kiln_neigh *nl = s->nl;
  const int poly = s->ch.poly;
  /* LAMMPS coul/long writes 2/sqrt(pi) as EWALD_F = 1.12837917 (2.6e-9 relative short) */
  const double alpha = s->alpha, a2 = alpha * alpha,
               c2 = (poly ? 1.12837917 : 2 / KILNI_SQRT_PI) * alpha;
  const double cutsq = s->rc * s->rc;
  const double(*xe)[3] = (const double(*)[3])nl->xe;
  const kcol *col = s->col;
  const double *kv = s->kv;
  double *sk = s->sk;
  const long ncol = (long)s->ncol;
  double *fth = s->fth, *eth = s->eth, *vth = s->vth, *tmpall = s->tmp;
  const size_t tcap = s->tcap;
  double erec = 0, ereal = 0;
#pragma omp parallel num_threads(nthr)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    double(*f)[3] = (double(*)[3])(fth + (size_t)t * tcap * 3);
    double *e = eth + (size_t)t * tcap;
    double *tre = tmpall + (size_t)t * tcap * 2, *tim = tre + tcap;
    double v[9] = {0};
    memset(f, 0, n * sizeof *f);
    memset(e, 0, n * sizeof *e);
    /* real space: half list, ghosts credited to their owners */
    const long ib = (long)kilni_part_begin(nl, t, nt, 4.0);
    const long ie = (long)kilni_part_begin(nl, t + 1, nt, 4.0);
    double er = 0;
    for (long i = ib; i < ie; i++) {
      const double qi = KILNI_COUL_K * q[i];
      if (qi == 0.0) continue;
      const double xi = xe[i][0], yi = xe[i][1], zi = xe[i][2];
      double fxi = 0, fyi = 0, fzi = 0, ei = 0;
      for (size_t p = nl->offset[i], pe = kilni_half_end(nl, (size_t)i); p < pe; p++) {
        const int32_t j = nl->index[p];
        const double dx = xi - xe[j][0], dy = yi - xe[j][1], dz = zi - xe[j][2];
        const double r2 = dx * dx + dy * dy + dz * dz;
        if (r2 >= cutsq) continue;
        const int32_t oj = nl->owner[j];
        const double r = sqrt(r2), qq = qi * q[oj];
        const double ex = exp(-a2 * r2), ec = kilni_erfc(alpha * r, ex, poly);
        const double ev = qq * ec / r;
        const double fp = (ev + qq * c2 * ex) / r2;
        fxi += dx * fp;
        fyi += dy * fp;
        fzi += dz * fp;
        f[oj][0] -= dx * fp;
        f[oj][1] -= dy * fp;
        f[oj][2] -= dz * fp;
        v[0] += dx * dx * fp; v[1] += dx * dy * fp; v[2] += dx * dz * fp;
        v[4] += dy * dy * fp; v[5] += dy * dz * fp; v[8] += dz * dz * fp;
        ei += ev;
        e[oj] += 0.5 * ev;
      }
      f[i][0] += fxi;
      f[i][1] += fyi;
      f[i][2] += fzi;
      e[i] += 0.5 * ei;
      er += ei;
    }
#pragma omp atomic
    ereal += er;
    /* reciprocal space, pass 1: structure factors S(k) */
#pragma omp for schedule(dynamic, 4)
    for (long c = 0; c < ncol; c++) {
      const kcol *cc = col + c;
      const double *e1 = ept[0] + (size_t)cc->l * 2 * n;
      const double *e2 = ept[1] + (size_t)abs(cc->m) * 2 * n;
      const double sm = cc->m < 0 ? -1.0 : 1.0;
      for (size_t i = 0; i < n; i++) {
        const double r2r = e2[i], r2i = sm * e2[n + i];
        tre[i] = q[i] * (e1[i] * r2r - e1[n + i] * r2i);
        tim[i] = q[i] * (e1[i] * r2i + e1[n + i] * r2r);
      }
      for (int nn = cc->n0; nn <= cc->n1; nn++) {
        const double *e3 = ept[2] + (size_t)abs(nn) * 2 * n;
        const double sn = nn < 0 ? -1.0 : 1.0;
        double sr = 0, si = 0;
        for (size_t i = 0; i < n; i++) {
          const double pr = e3[i], pi = sn * e3[n + i];
          sr += tre[i] * pr - tim[i] * pi;
          si += tre[i] * pi + tim[i] * pr;
        }
        const size_t k = cc->k0 + (size_t)(nn - cc->n0);
        sk[2 * k] = sr;
        sk[2 * k + 1] = si;
      }
    }
    /* energy and virial of the k-space sum */
    double et = 0;
    const double a4 = 1.0 / (4 * a2);
#pragma omp for schedule(static)
    for (long k = 0; k < (long)nk; k++) {
      const double *kk = kv + 4 * k;
      const double ek = kk[3] * (sk[2 * k] * sk[2 * k] + sk[2 * k + 1] * sk[2 * k + 1]);
      const double k2 = kk[0] * kk[0] + kk[1] * kk[1] + kk[2] * kk[2];
      const double g = 2 * (1.0 / k2 + a4) * ek;
      et += ek;
      v[0] += ek - g * kk[0] * kk[0]; v[1] -= g * kk[0] * kk[1]; v[2] -= g * kk[0] * kk[2];
      v[4] += ek - g * kk[1] * kk[1]; v[5] -= g * kk[1] * kk[2]; v[8] += ek - g * kk[2] * kk[2];
    }
#pragma omp atomic
    erec += et;
    /* pass 2: forces and per-atom energies */
    if (wf || pa) {
#pragma omp for schedule(dynamic, 4)
      for (long c = 0; c < ncol; c++) {
        const kcol *cc = col + c;
        const double *e1 = ept[0] + (size_t)cc->l * 2 * n;
        const double *e2 = ept[1] + (size_t)abs(cc->m) * 2 * n;
        const double sm = cc->m < 0 ? -1.0 : 1.0;
        for (size_t i = 0; i < n; i++) {
          const double r2r = e2[i], r2i = sm * e2[n + i];
          tre[i] = e1[i] * r2r - e1[n + i] * r2i;
          tim[i] = e1[i] * r2i + e1[n + i] * r2r;
        }
        for (int nn = cc->n0; nn <= cc->n1; nn++) {
          const double *e3 = ept[2] + (size_t)abs(nn) * 2 * n;
          const double sn = nn < 0 ? -1.0 : 1.0;
          const size_t k = cc->k0 + (size_t)(nn - cc->n0);
          const double *kk = kv + 4 * k;
          const double sr = sk[2 * k], si = sk[2 * k + 1], ak = kk[3];
          const double kx = 2 * ak * kk[0], ky = 2 * ak * kk[1], kz = 2 * ak * kk[2];
          for (size_t i = 0; i < n; i++) {
            const double pr = e3[i], pi = sn * e3[n + i];
            const double cr = tre[i] * pr - tim[i] * pi, ci = tre[i] * pi + tim[i] * pr;
            /* F_i = 2 A q_i k (Re S sin - Im S cos);  e_i = A q_i (Re S cos + Im S sin) */
            const double g = q[i] * (sr * ci - si * cr);
            f[i][0] += kx * g;
            f[i][1] += ky * g;
            f[i][2] += kz * g;
            e[i] += ak * q[i] * (sr * cr + si * ci);
          }
        }
      }
    }
    double *vt = vth + 9 * (size_t)t;
    for (int c = 0; c < 9; c++) vt[c] = v[c];
  }
  /* self and neutralising background */
  const double cself = -KILNI_COUL_K * alpha / KILNI_SQRT_PI;
  const double ebg = -KILNI_COUL_K * M_PI * qsum * qsum / (2 * a2 * vol);
  const double eself = cself * qsq;
  /* reduce threads */
  double vir[9] = {0};
  for (int t = 0; t < nthr; t++)
    for (int c = 0; c < 9; c++) vir[c] += vth[9 * (size_t)t + c];
  for (size_t i = 0; i < n; i++) {
    double fx = 0, fy = 0, fz = 0, ev = 0;
    for (int t = 0; t < nthr; t++) {
      const double *ft = fth + ((size_t)t * tcap + i) * 3;
      fx += ft[0];
      fy += ft[1];
      fz += ft[2];
      ev += eth[(size_t)t * tcap + i];
    }
    if (wf) {
      a->f[i][0] = fx;
      a->f[i][1] = fy;
      a->f[i][2] = fz;
    }
    if (pa) eatom[i] = ev + cself * q[i] * q[i] + ebg / (double)n;
  }
  *energy = ereal + erec + eself + ebg;
  vir[0] += ebg;
  vir[4] += ebg;
  vir[8] += ebg;
  vir[3] = vir[1];
  vir[6] = vir[2];
  vir[7] = vir[5];
  memcpy(virial, vir, sizeof vir);
  return KILN_OK;
}

static kiln_status ewald_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                                 kiln_pot_work *w, kiln_error *err) {
  (void)state; (void)a; (void)nl; (void)w;
  return KILN_FAIL(err, KILN_ESTATE, "potential coul/ewald is evaluated through compute_full");
}

/* a resumed run must rebuild the list as the uninterrupted one would (checkpoints) */
static void ewald_invalidate(void *state) {
  ewald_state *s = state;
  if (s && s->nl) kiln_neigh_invalidate(s->nl);
}

const kiln_pot_style kiln_pot_coul_ewald_style = {
    .name = "coul/ewald",
    .description = "Coulomb energy of a periodic system by the Ewald sum: erfc-screened real-space "
                   "pairs, reciprocal sum, self term and neutralising background (LAMMPS "
                   "coul/long + kspace_style ewald)",
    .citation = "P. P. Ewald, Ann. Phys. 369, 253 (1921)",
    .options = "cutoff=number (A, real-space cutoff; default 10)\n"
               "accuracy=number (relative rms force error, as LAMMPS kspace_style ewald; "
               "default 1e-6)\n"
               "alpha=number (1/A, splitting parameter; default: chosen from accuracy and "
               "cutoff as LAMMPS does)\n"
               "kcut=number (1/A, reciprocal cutoff |k|; default: chosen from accuracy)\n"
               KILNI_CHARGES_OPTIONS,
    .flags = KILN_POT_COMPOSITE | KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM,
    .init = ewald_init,
    .map_species = ewald_map,
    .compute = ewald_compute,
    .destroy = ewald_destroy,
    .compute_full = ewald_full,
    .invalidate = ewald_invalidate,
};
