/* src/pot/pot_tersoff.c: Tersoff potential, as LAMMPS pair_style tersoff.
 *
 * E = 1/2 sum_i sum_{j != i} fc(r_ij) [fR(r_ij) + b_ij fA(r_ij)]
 * fR = A exp(-lambda1 r), fA = -B exp(-lambda2 r),
 * fc = 1 (r < R-D), 1/2 (1 - sin(pi/2 (r-R)/D)) (|r-R| <= D), 0 (r > R+D)
 * b_ij = (1 + (beta zeta_ij)^n)^(-1/(2n)),
 * zeta_ij = sum_{k != i,j} fc(r_ik) g(theta_ijk) exp((lambda3 (r_ij - r_ik))^m)
 * g = gamma (1 + c^2/d^2 - c^2 / (d^2 + (cos theta0 - cos theta)^2)), m = 1 or 3.
 * Entry order in a LAMMPS .tersoff file: e1 e2 e3 m gamma lambda3 c d costheta0 n beta
 * lambda2 B R D lambda1 A. Pair terms (fR, fA, b_ij) use the ijj entry, the zeta terms
 * the ijk entry, as LAMMPS does; b_ij and its derivative use LAMMPS's asymptotic forms
 * for large and small beta*zeta (thresholds c1..c4 from n), and exp() of the zeta
 * exponent is clamped at |arg| > 69.0776 as in LAMMPS. The LAMMPS "shift" keyword
 * is not supported. Per-atom energies as LAMMPS: each pair term half to i, half to j.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/potential.h"
#include "pot/pot_internal.h"
#include "pot/triplet_file.h"

#define NPAR 14
static const char *const names[NPAR] = {"m", "gamma", "lambda3", "c", "d", "costheta0", "n",
                                        "beta", "lambda2", "B", "R", "D", "lambda1", "A"};
static const double PI = 3.14159265358979323846;

typedef struct {
  int m;                            /* 1 or 3 */
  double gamma, lam3, c2, d2, c2d2, h, n, beta, lam2, B, R, D, lam1, A;
  double cut, cutsq, rin;           /* R+D, (R+D)^2, R-D */
  double pi2D, pi4D;                /* pi/(2D), pi/(4D) */
  double lam3m;                     /* lam3^m, for d exp/dr */
  double bc1, bc2, bc3, bc4;        /* b_ij thresholds (LAMMPS c1..c4) */
  double inv2n;                     /* 1/(2n) */
} ts_param;

/* one short-list neighbor of the current atom i */
typedef struct {
  double dx, dy, dz, ux, uy, uz;    /* d = xe[j] - xe[i], unit vector */
  double r, rinv, fc, dfc;          /* fc, dfc with the i,j,j entry */
  double fa, fad;                   /* fA fc and its derivative (i,j,j entry) */
  double fx, fy, fz;                /* force accumulated on j */
  int32_t j, el;
  int inpair;                       /* r < cutoff of the i,j,j entry */
  int half;                         /* in the half part of i's list */
} ts_nb;

/* factors of an ordered neighbor pair (j, k) of the current i */
typedef struct { double cs, g, gd, ex, exd, fc, dfc; int ok; } ts_tr;

typedef struct {
  kilni_triplet_file tf;
  int nel;
  ts_param *par;
  double cutmax;
  int checked;
  int same_ik_cut;                  /* R,D of every ijk entry equal those of ikk */
  ts_nb *buf; size_t buf_cap;
  ts_tr *tbuf; size_t tbuf_cap;      /* per thread an (maxnb+1)^2 matrix */
  int32_t *elem; size_t elem_cap;
} ts_state;

static void ts_destroy(void *state) {
  ts_state *s = state;
  if (!s) return;
  kilni_triplet_free(&s->tf);
  free(s->par);
  free(s->buf);
  free(s->tbuf);
  free(s->elem);
  free(s);
}

static kiln_status ts_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  const char *what = "potential tersoff";
  ts_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  kiln_status st = kilni_triplet_open(&s->tf, &s->checked, what, NPAR, names, o, err);
  if (st) { free(s); return st; }
  s->nel = s->tf.nel;
  s->par = calloc((size_t)s->tf.nentry + 1, sizeof *s->par);
  if (!s->par) { st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what); goto fail; }
  for (int q = 0; q < s->tf.nentry; q++) {
    const double *v = s->tf.val + (size_t)q * NPAR;
    /* LAMMPS's checks: everything but lambda3 and costheta0 non-negative, D <= R,
     * m = 1 or 3 */
    for (int k = 0; k < NPAR; k++)
      if (k != 2 && k != 5 && v[k] < 0) {
        st = kilni_triplet_bad(&s->tf, what, q, names[k], "must be >= 0", v[k], err);
        goto fail;
      }
    if (v[0] != 1.0 && v[0] != 3.0) {
      st = kilni_triplet_bad(&s->tf, what, q, "m", "must be 1 or 3", v[0], err);
      goto fail;
    }
    if (v[11] > v[10]) {
      st = kilni_triplet_bad(&s->tf, what, q, "D", "must not exceed R", v[11], err);
      goto fail;
    }
    ts_param *P = &s->par[q];
    P->m = (int)v[0];
    P->gamma = v[1]; P->lam3 = v[2];
    P->c2 = v[3] * v[3]; P->d2 = v[4] * v[4];
    P->c2d2 = P->c2 / P->d2;
    P->h = v[5]; P->n = v[6]; P->beta = v[7]; P->lam2 = v[8]; P->B = v[9];
    P->R = v[10]; P->D = v[11]; P->lam1 = v[12]; P->A = v[13];
    P->cut = P->R + P->D;
    P->cutsq = P->cut * P->cut;
    P->rin = P->R - P->D;
    P->pi2D = 0.5 * PI / P->D;
    P->pi4D = 0.25 * PI / P->D;
    P->lam3m = P->m == 3 ? 3.0 * P->lam3 * P->lam3 * P->lam3 : P->lam3;
    P->bc1 = pow(2.0 * P->n * 1.0e-16, -1.0 / P->n);
    P->bc2 = pow(2.0 * P->n * 1.0e-8, -1.0 / P->n);
    P->bc3 = 1.0 / P->bc2;
    P->bc4 = 1.0 / P->bc1;
    P->inv2n = 1.0 / (2.0 * P->n);
    if (P->cut > s->cutmax) s->cutmax = P->cut;
  }
  /* can fc(r_ik) be computed once per neighbor k? (true for all distributed files) */
  s->same_ik_cut = 1;
  int ne = s->nel;
  for (int i = 0; i < ne; i++)
    for (int j = 0; j < ne; j++)
      for (int k = 0; k < ne; k++) {
        int a = s->tf.idx[((size_t)i * ne + j) * ne + k], b = s->tf.idx[((size_t)i * ne + k) * ne + k];
        if (a < 0 || b < 0) continue;
        if (s->par[a].R != s->par[b].R || s->par[a].D != s->par[b].D) s->same_ik_cut = 0;
      }
  *state = s;
  *cutoff = s->cutmax;
  return KILN_OK;
fail:
  ts_destroy(s);
  return st;
}

static int ts_map_species(const void *state, const char *symbol) {
  return kilni_triplet_element(&((const ts_state *)state)->tf, symbol);
}

/* cutoff function and its derivative (caller ensures r < R+D) */
static inline void fcut(const ts_param *P, double r, double *fc, double *dfc) {
  if (r < P->rin) { *fc = 1.0; *dfc = 0.0; return; }
  double arg = P->pi2D * (r - P->R);
  *fc = 0.5 * (1.0 - sin(arg));
  *dfc = -P->pi4D * cos(arg);
}

/* b_ij and d b_ij / d zeta, LAMMPS's piecewise form */
static inline void bond_order(const ts_param *P, double zeta, double *bij, double *bijd) {
  const double tmp = P->beta * zeta;
  if (tmp > P->bc1) {
    double s = sqrt(tmp);
    *bij = 1.0 / s;
    *bijd = P->beta * -0.5 / (tmp * s);
  } else if (tmp > P->bc2) {
    double s = sqrt(tmp), tn = pow(tmp, -P->n);
    *bij = (1.0 - tn * P->inv2n) / s;
    *bijd = P->beta * (-0.5 / (tmp * s) * (1.0 - (1.0 + P->inv2n) * tn));
  } else if (tmp < P->bc4) {
    *bij = 1.0;
    *bijd = 0.0;
  } else if (tmp < P->bc3) {
    double tn1 = pow(tmp, P->n - 1.0);
    *bij = 1.0 - tn1 * tmp * P->inv2n;
    *bijd = -0.5 * P->beta * tn1;
  } else {
    double tn = pow(tmp, P->n);
    double b = pow(1.0 + tn, -P->inv2n);
    *bij = b;
    *bijd = -0.5 * b / (1.0 + tn) * tn / zeta;
  }
}

static inline double clamp_exp(double arg) {
  if (arg > 69.0776) return 1.0e30;
  if (arg < -69.0776) return 0.0;
  return exp(arg);
}

/* Angular and radial factors of the ordered pair (j, k) with entry Q: fills T. */
static inline void ts_pair(const ts_param *Q, double cs, double dr, ts_tr *T) {
  const double hc = Q->h - cs;
  const double den = Q->d2 + hc * hc;
  T->cs = cs;
  T->g = Q->gamma * (1.0 + Q->c2d2 - Q->c2 / den);
  T->gd = Q->gamma * (-2.0 * Q->c2 * hc) / (den * den);
  if (Q->lam3 == 0.0) {
    T->ex = 1.0; T->exd = 0.0;
  } else if (Q->m == 3) {
    const double t = Q->lam3 * dr;
    T->ex = clamp_exp(t * t * t);
    T->exd = Q->lam3m * dr * dr * T->ex;
  } else {
    T->ex = clamp_exp(Q->lam3 * dr);
    T->exd = Q->lam3m * T->ex;
  }
}

/* All three-body terms of central atom i with its short list nb[0..ns). tr is an
 * ns x ns scratch matrix of pair factors. same_cut: fc(r_ik) is the per-neighbor
 * value (constant-folded at the two call sites). */
static inline double ts_atom(const ts_state *s, int ei, ts_nb *nb, ts_tr *tr, int ns,
                             double fi[3], double *e, double *ei_acc, const int same_cut) {
  const int nel = s->nel;
  const ts_param *par = s->par;
  const int32_t *prow = s->tf.idx + (size_t)ei * nel * nel;
  double eng = 0.0;
  double fix = 0, fiy = 0, fiz = 0, eacc = 0;
  /* pair factors for every ordered (j, k), computed once per unordered pair: with
   * the same entry for (i,j,k) and (i,k,j), g is symmetric and the exponential of
   * (k, j) is the reciprocal of that of (j, k) (unless clamped) */
  for (int a = 0; a < ns; a++) {
    const ts_nb *J = nb + a;
    const int32_t *pka = prow + (size_t)J->el * nel;
    for (int b = a + 1; b < ns; b++) {
      const ts_nb *K = nb + b;
      const int qab = pka[K->el], qba = prow[(size_t)K->el * nel + J->el];
      const ts_param *Qab = par + qab, *Qba = par + qba;
      ts_tr *Tab = tr + (size_t)a * ns + b, *Tba = tr + (size_t)b * ns + a;
      int okab, okba;
      if (same_cut) {
        okab = J->inpair && K->inpair;
        okba = okab;
      } else {
        okab = J->inpair && K->r < Qab->cut;
        okba = K->inpair && J->r < Qba->cut;
      }
      Tab->ok = okab;
      Tba->ok = okba;
      if (!okab && !okba) continue;
      const double cs = J->ux * K->ux + J->uy * K->uy + J->uz * K->uz;
      const double dr = J->r - K->r;
      if (okab) {
        ts_pair(Qab, cs, dr, Tab);
        if (same_cut) { Tab->fc = K->fc; Tab->dfc = K->dfc; }
        else fcut(Qab, K->r, &Tab->fc, &Tab->dfc);
      }
      if (okba) {
        const double arg = Qba->m == 3 ? Qba->lam3 * dr * Qba->lam3 * dr * Qba->lam3 * dr : Qba->lam3 * dr;
        if (okab && qab == qba && fabs(arg) <= 69.0776) {
          Tba->cs = cs; Tba->g = Tab->g; Tba->gd = Tab->gd;
          if (Qba->lam3 == 0.0) { Tba->ex = 1.0; Tba->exd = 0.0; }
          else {
            Tba->ex = 1.0 / Tab->ex;
            Tba->exd = Qba->m == 3 ? Qba->lam3m * dr * dr * Tba->ex : Qba->lam3m * Tba->ex;
          }
        } else {
          ts_pair(Qba, cs, -dr, Tba);
        }
        if (same_cut) { Tba->fc = J->fc; Tba->dfc = J->dfc; }
        else fcut(Qba, J->r, &Tba->fc, &Tba->dfc);
      }
    }
  }
  for (int a = 0; a < ns; a++) {
    ts_nb *J = nb + a;
    if (!J->inpair) continue;
    const ts_tr *row = tr + (size_t)a * ns;
    double zeta = 0.0;
    for (int b = 0; b < ns; b++)
      if (b != a && row[b].ok) zeta += row[b].fc * row[b].g * row[b].ex;
    const ts_param *P = par + prow[(size_t)J->el * nel + J->el];
    double bij, bijd;
    bond_order(P, zeta, &bij, &bijd);
    /* pair force from the attractive term: along d, magnitude 0.5 bij fA'/r */
    const double fpair = 0.5 * bij * J->fad * J->rinv;
    const double pref = -0.5 * J->fa * bijd;
    const double ea = 0.5 * bij * J->fa;
    eng += ea;
    if (e) { eacc += 0.5 * ea; e[J->j] += 0.5 * ea; }
    fix += J->dx * fpair; fiy += J->dy * fpair; fiz += J->dz * fpair;
    double fjx = -J->dx * fpair, fjy = -J->dy * fpair, fjz = -J->dz * fpair;
    if (pref != 0.0) {
      const double rjinv = J->rinv, ujx = J->ux, ujy = J->uy, ujz = J->uz;
      for (int b = 0; b < ns; b++) {
        if (b == a || !row[b].ok) continue;
        ts_nb *K = nb + b;
        const ts_tr *T = row + b;
        const double a1 = pref * T->fc * T->gd * T->ex;   /* times d cos */
        const double a2 = pref * T->fc * T->g * T->exd;   /* times unit vectors */
        const double a3 = pref * T->dfc * T->g * T->ex;   /* times u_k */
        const double cs = T->cs, rkinv = K->rinv;
        const double ukx = K->ux, uky = K->uy, ukz = K->uz;
        /* d cos / d r_j = (u_k - cs u_j)/r_j, d cos / d r_k = (u_j - cs u_k)/r_k */
        const double b1 = a1 * rjinv, b2 = a1 * rkinv;
        const double cj = a2 - b1 * cs, ck = a3 - a2 - b2 * cs;
        const double drjx = b1 * ukx + cj * ujx;
        const double drjy = b1 * uky + cj * ujy;
        const double drjz = b1 * ukz + cj * ujz;
        const double drkx = ck * ukx + b2 * ujx;
        const double drky = ck * uky + b2 * ujy;
        const double drkz = ck * ukz + b2 * ujz;
        fjx += drjx; fjy += drjy; fjz += drjz;
        K->fx += drkx; K->fy += drky; K->fz += drkz;
        fix -= drjx + drkx; fiy -= drjy + drky; fiz -= drjz + drkz;
      }
    }
    J->fx += fjx; J->fy += fjy; J->fz += fjz;
  }
  fi[0] += fix; fi[1] += fiy; fi[2] += fiz;
  *ei_acc += eacc;
  return eng;
}

static kiln_status ts_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                              kiln_pot_work *w, kiln_error *err) {
  ts_state *s = state;
  const char *what = "potential tersoff";
  const int nel = s->nel;
  const size_t n = nl->n;
  size_t maxnb;
  kiln_status st = kilni_triplet_prepare(&s->tf, s->checked, what, a, nl, w->tmap, &s->elem,
                                         &s->elem_cap, &maxnb, err);
  if (st) return st;
  const int nthr = w->nthreads > 0 ? w->nthreads : 1;
  size_t need = (size_t)nthr * (maxnb + 1);
  if (!(s->buf = kilni_grow(s->buf, &s->buf_cap, need, need, sizeof *s->buf)))
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu neighbors)", what, need);
  size_t tneed = need * (maxnb + 1);
  if (!(s->tbuf = kilni_grow(s->tbuf, &s->tbuf_cap, tneed, tneed, sizeof *s->tbuf)))
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (%zu neighbor pairs)", what, tneed);
  const int32_t *elem = s->elem;

  /* short-list radius per (i, k) element pair: the largest ijk / ikk cutoff */
  double cshort[KILN_MAX_SPECIES];
  for (int i = 0; i < nel; i++) {
    double c = 0;
    for (int q = 0; q < nel * nel; q++) {
      int p = s->tf.idx[(size_t)i * nel * nel + q];
      if (p >= 0 && s->par[p].cutsq > c) c = s->par[p].cutsq;
    }
    cshort[i] = c;
  }
  const double (*xe)[3] = (const double (*)[3])nl->xe;
  const int32_t *p3 = s->tf.idx;
  const ts_param *par = s->par;
  const int peratom = (w->want & KILN_EVAL_PERATOM) && w->e;
  const int same_cut = s->same_ik_cut;

#pragma omp parallel num_threads(nthr)
  {
    const int t = omp_get_thread_num();
    double (*f)[3] = w->f[t];
    double *e = peratom ? w->e[t] : NULL;
    ts_nb *nb = s->buf + (size_t)t * (maxnb + 1);
    ts_tr *tr = s->tbuf + (size_t)t * (maxnb + 1) * (maxnb + 1);
    double eng = 0.0;

#pragma omp for schedule(static)
    for (size_t i = 0; i < n; i++) {
      const int ei = elem[i];
      const double xi = xe[i][0], yi = xe[i][1], zi = xe[i][2];
      const size_t beg = nl->offset[i], end = nl->offset[i + 1];
      const size_t hend = beg + (size_t)nl->nhalf[i];
      const int32_t *prow = p3 + (size_t)ei * nel * nel;
      const double csq = cshort[ei];
      double fi[3] = {0, 0, 0}, eacc = 0;
      int ns = 0;
      for (size_t jj = beg; jj < end; jj++) {
        const int32_t j = nl->index[jj];
        const double dx = xe[j][0] - xi, dy = xe[j][1] - yi, dz = xe[j][2] - zi;
        const double rsq = dx * dx + dy * dy + dz * dz;
        if (rsq >= csq) continue;
        const int ej = elem[j];
        const ts_param *P = par + prow[ej * nel + ej];
        ts_nb *b = nb + ns++;
        const double r = sqrt(rsq), rinv = 1.0 / r;
        b->dx = dx; b->dy = dy; b->dz = dz;
        b->ux = dx * rinv; b->uy = dy * rinv; b->uz = dz * rinv;
        b->r = r; b->rinv = rinv;
        b->fx = b->fy = b->fz = 0.0;
        b->j = j; b->el = ej;
        b->half = jj < hend;
        b->inpair = rsq < P->cutsq;
        if (!b->inpair) { b->fc = b->dfc = b->fa = b->fad = 0.0; continue; }
        double fc, dfc;
        fcut(P, r, &fc, &dfc);
        b->fc = fc; b->dfc = dfc;
        const double e2 = P->B * exp(-P->lam2 * r);
        b->fa = -e2 * fc;
        b->fad = e2 * (P->lam2 * fc - dfc);
        if (b->half) {  /* repulsive pair term, once per pair */
          const double e1 = P->A * exp(-P->lam1 * r);
          const double fpair = -e1 * (dfc - fc * P->lam1) * rinv;  /* along xi - xj */
          const double er = fc * e1;
          fi[0] -= dx * fpair; fi[1] -= dy * fpair; fi[2] -= dz * fpair;
          b->fx += dx * fpair; b->fy += dy * fpair; b->fz += dz * fpair;
          eng += er;
          if (e) { eacc += 0.5 * er; e[j] += 0.5 * er; }
        }
      }
      if (same_cut) eng += ts_atom(s, ei, nb, tr, ns, fi, e, &eacc, 1);
      else eng += ts_atom(s, ei, nb, tr, ns, fi, e, &eacc, 0);
      for (int q = 0; q < ns; q++) {
        double *fj = f[nb[q].j];
        fj[0] += nb[q].fx; fj[1] += nb[q].fy; fj[2] += nb[q].fz;
      }
      f[i][0] += fi[0]; f[i][1] += fi[1]; f[i][2] += fi[2];
      if (e) e[i] += eacc;
    }
    w->energy[t] += eng;
  }
  return KILN_OK;
}

const kiln_pot_style kiln_pot_tersoff_style = {
    .name = "tersoff",
    .description = "Tersoff bond-order potential (LAMMPS pair_style tersoff), any number of "
                   "elements, parameters from a LAMMPS .tersoff file",
    .citation = "J. Tersoff, Phys. Rev. B 37, 6991 (1988); Phys. Rev. B 39, 5566 (1989)",
    .options = "file=string (path of a LAMMPS .tersoff file, metal units)\n"
               "elements=list of strings (elements to use, e.g. {\"Si\",\"C\"}; default: every "
               "element in the file)",
    .flags = KILN_POT_NEEDS_FULL_LIST | KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM |
             KILN_POT_MANYBODY,
    .init = ts_init,
    .map_species = ts_map_species,
    .compute = ts_compute,
    .destroy = ts_destroy,
    .compute_full = NULL,
};
