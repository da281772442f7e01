/* src/ml/snap_core.c: the SNAP bispectrum, its adjoint (Y) and its derivatives.
 * See snap_core.h for the definitions; formulas follow LAMMPS ML-SNAP (sna.cpp) and
 * Varshalovich et al. for the Clebsch-Gordan coefficients. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ml/snap_core.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static double factorial(int n) {
  double f = 1.0;
  for (int k = 2; k <= n; k++) f *= k;
  return f;
}

/* Clebsch-Gordan <j1/2 m1' j2/2 m2' | j/2 m'> in LAMMPS's array labels (Racah formula) */
static double clebsch_gordan(int j1, int j2, int j, int m1, int m2) {
  const int aa2 = 2 * m1 - j1, bb2 = 2 * m2 - j2;
  const int m = (aa2 + bb2 + j) / 2;
  if (m < 0 || m > j) return 0.0;
  int zlo = 0;
  if (-(j - j2 + aa2) / 2 > zlo) zlo = -(j - j2 + aa2) / 2;
  if (-(j - j1 - bb2) / 2 > zlo) zlo = -(j - j1 - bb2) / 2;
  int zhi = (j1 + j2 - j) / 2;
  if ((j1 - aa2) / 2 < zhi) zhi = (j1 - aa2) / 2;
  if ((j2 + bb2) / 2 < zhi) zhi = (j2 + bb2) / 2;
  double sum = 0.0;
  for (int z = zlo; z <= zhi; z++) {
    const double ifac = (z % 2) ? -1.0 : 1.0;
    sum += ifac / (factorial(z) * factorial((j1 + j2 - j) / 2 - z) *
                   factorial((j1 - aa2) / 2 - z) * factorial((j2 + bb2) / 2 - z) *
                   factorial((j - j2 + aa2) / 2 + z) * factorial((j - j1 - bb2) / 2 + z));
  }
  const int cc2 = 2 * m - j;
  const double dcg = sqrt(factorial((j1 + j2 - j) / 2) * factorial((j1 - j2 + j) / 2) *
                          factorial((-j1 + j2 + j) / 2) / factorial((j1 + j2 + j) / 2 + 1));
  const double sfac = sqrt(factorial((j1 + aa2) / 2) * factorial((j1 - aa2) / 2) *
                           factorial((j2 + bb2) / 2) * factorial((j2 - bb2) / 2) *
                           factorial((j + cc2) / 2) * factorial((j - cc2) / 2) * (j + 1));
  return sum * dcg * sfac;
}

int snap_ncomponents(int J) {
  int n = 0;
  for (int j1 = 0; j1 <= J; j1++)
    for (int j2 = 0; j2 <= j1; j2++)
      for (int j = j1 - j2; j <= (J < j1 + j2 ? J : j1 + j2); j += 2)
        if (j >= j1) n++;
  return n;
}

void snap_basis_free(snap_basis *b) {
  if (!b) return;
  free(b->trip);
  free(b->zt0);
  free(b->zjju);
  free(b->tc);
  free(b->ti);
  free(b->bt);
  free(b->btrip);
  free(b->tidx);
  free(b->rootpq);
  free(b->uwgt);
  memset(b, 0, sizeof *b);
}

kiln_status snap_basis_init(snap_basis *b, int J, double rfac0, double rmin0, int switchflag,
                            int bzeroflag, const char *what, kiln_error *err) {
  memset(b, 0, sizeof *b);
  if (J < 0 || J > 30)
    return KILN_FAIL(err, KILN_EINVAL, "%s: twojmax must be in 0..30 (got %d)", what, J);
  b->twojmax = J;
  b->rfac0 = rfac0;
  b->rmin0 = rmin0;
  b->wself = 1.0;
  b->switchflag = switchflag;
  b->bzeroflag = bzeroflag;
  int nu = 0;
  for (int j = 0; j <= J; j++) {
    b->ublock[j] = nu;
    nu += (j + 1) * (j + 1);
  }
  b->nu = nu;
  const int J1 = J + 1;
  /* triples and Z entries */
  int nt = 0, nz = 0;
  for (int j1 = 0; j1 <= J; j1++)
    for (int j2 = 0; j2 <= j1; j2++)
      for (int j = j1 - j2; j <= (J < j1 + j2 ? J : j1 + j2); j += 2) {
        nt++;
        nz += (j / 2 + 1) * (j + 1);
      }
  b->ntrip = nt;
  b->nz = nz;
  b->nb = snap_ncomponents(J);
  b->trip = calloc((size_t)nt, sizeof *b->trip);
  b->zt0 = calloc((size_t)nz + 1, sizeof *b->zt0);
  b->zjju = calloc((size_t)nz, sizeof *b->zjju);
  b->bt = calloc((size_t)b->nb, sizeof *b->bt);
  b->btrip = calloc((size_t)b->nb, sizeof *b->btrip);
  b->tidx = malloc((size_t)J1 * J1 * J1 * sizeof *b->tidx);
  b->rootpq = calloc((size_t)(J + 2) * (J + 2), sizeof *b->rootpq);
  b->uwgt = calloc((size_t)nu, sizeof *b->uwgt);
  if (!b->trip || !b->zt0 || !b->zjju || !b->bt || !b->btrip || !b->tidx || !b->rootpq ||
      !b->uwgt) {
    snap_basis_free(b);
    return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (twojmax %d)", what, J);
  }
  for (int k = 0; k < J1 * J1 * J1; k++) b->tidx[k] = -1;
#define TIDX(j1, j2, j) b->tidx[((j1) * J1 + (j2)) * J1 + (j)]
  nt = nz = 0;
  int nb = 0;
  for (int j1 = 0; j1 <= J; j1++)
    for (int j2 = 0; j2 <= j1; j2++)
      for (int j = j1 - j2; j <= (J < j1 + j2 ? J : j1 + j2); j += 2) {
        snap_triple *t = &b->trip[nt];
        t->j1 = j1; t->j2 = j2; t->j = j;
        t->z0 = nz;
        t->bidx = -1;
        TIDX(j1, j2, j) = nt;
        for (int e = 0; e < (j / 2 + 1) * (j + 1); e++) b->zjju[nz + e] = b->ublock[j] + e;
        nz += (j / 2 + 1) * (j + 1);
        nt++;
      }
  for (int j1 = 0; j1 <= J; j1++)
    for (int j2 = 0; j2 <= j1; j2++)
      for (int j = j1 - j2; j <= (J < j1 + j2 ? J : j1 + j2); j += 2)
        if (j >= j1) {
          b->bt[nb][0] = j1; b->bt[nb][1] = j2; b->bt[nb][2] = j;
          b->btrip[nb] = TIDX(j1, j2, j);
          b->trip[TIDX(j1, j2, j)].bidx = nb;
          nb++;
        }
  /* which beta each triple carries into Y (B is symmetric in its three labels up to
   * (j+1) factors: a triple with j < j1 is the same invariant as a B component) */
  for (int t = 0; t < nt; t++) {
    snap_triple *T = &b->trip[t];
    const int j1 = T->j1, j2 = T->j2, j = T->j;
    double fac;
    int jjb;
    if (j >= j1) {
      jjb = T->bidx;
      fac = (j1 == j) ? (j2 == j ? 3.0 : 2.0) : 1.0;
    } else if (j >= j2) {
      jjb = b->trip[TIDX(j, j2, j1)].bidx;
      fac = (j2 == j) ? 2.0 : 1.0;
    } else {
      jjb = b->trip[TIDX(j2, j, j1)].bidx;
      fac = 1.0;
    }
    if (j1 > j) fac *= (j1 + 1) / (j + 1.0);
    T->yb = jjb;
    T->yfac = fac;
  }
  /* CG product terms of every Z entry */
  size_t nterm = 0, capt = 1024;
  b->tc = malloc(capt * sizeof *b->tc);
  b->ti = malloc(capt * sizeof *b->ti);
  double *cg = malloc((size_t)J1 * J1 * sizeof *cg);
  if (!b->tc || !b->ti || !cg) goto oom;
  for (int t = 0; t < nt; t++) {
    const int j1 = b->trip[t].j1, j2 = b->trip[t].j2, j = b->trip[t].j;
    for (int m1 = 0; m1 <= j1; m1++)
      for (int m2 = 0; m2 <= j2; m2++) cg[m1 * (j2 + 1) + m2] = clebsch_gordan(j1, j2, j, m1, m2);
    int e = b->trip[t].z0;
    for (int mb = 0; 2 * mb <= j; mb++)
      for (int ma = 0; ma <= j; ma++, e++) {
        b->zt0[e] = (int)nterm;
        int ma1min = (2 * ma - j - j2 + j1) / 2;
        if (ma1min < 0) ma1min = 0;
        const int ma2max = (2 * ma - j - (2 * ma1min - j1) + j2) / 2;
        int na = (2 * ma - j + j2 + j1) / 2;
        if (na > j1) na = j1;
        na = na - ma1min + 1;
        int mb1min = (2 * mb - j - j2 + j1) / 2;
        if (mb1min < 0) mb1min = 0;
        const int mb2max = (2 * mb - j - (2 * mb1min - j1) + j2) / 2;
        int nbb = (2 * mb - j + j2 + j1) / 2;
        if (nbb > j1) nbb = j1;
        nbb = nbb - mb1min + 1;
        int jju1 = b->ublock[j1] + (j1 + 1) * mb1min;
        int jju2 = b->ublock[j2] + (j2 + 1) * mb2max;
        int icgb = mb1min * (j2 + 1) + mb2max;
        for (int ib = 0; ib < nbb; ib++) {
          int ma1 = ma1min, ma2 = ma2max, icga = ma1min * (j2 + 1) + ma2max;
          for (int ia = 0; ia < na; ia++) {
            if (nterm == capt) {
              capt *= 2;
              double *tc = realloc(b->tc, capt * sizeof *tc);
              if (!tc) goto oom;
              b->tc = tc;
              int32_t(*ti)[2] = realloc(b->ti, capt * sizeof *ti);
              if (!ti) goto oom;
              b->ti = ti;
            }
            b->tc[nterm] = cg[icgb] * cg[icga];
            b->ti[nterm][0] = jju1 + ma1;
            b->ti[nterm][1] = jju2 + ma2;
            nterm++;
            ma1++;
            ma2--;
            icga += j2;
          }
          jju1 += j1 + 1;
          jju2 -= j2 + 1;
          icgb += j2;
        }
        if (j1 == j2) {  /* u1 u2 is symmetric: merge the (i1,i2) and (i2,i1) terms */
          size_t t0 = (size_t)b->zt0[e], out = t0;
          for (size_t q = t0; q < nterm; q++) {
            const int32_t a1 = b->ti[q][0], a2 = b->ti[q][1];
            if (a1 > a2) continue;
            double cq = b->tc[q];
            if (a1 < a2)
              for (size_t u = t0; u < nterm; u++)
                if (b->ti[u][0] == a2 && b->ti[u][1] == a1) cq += b->tc[u];
            b->tc[out] = cq;
            b->ti[out][0] = a1;
            b->ti[out][1] = a2;
            out++;
          }
          nterm = out;
        }
      }
  }
  b->zt0[nz] = (int)nterm;
  b->nterm = (int)nterm;
  free(cg);
  cg = NULL;
  /* rootpq[p][q] = sqrt(p/q) */
  for (int p = 1; p <= J + 1; p++)
    for (int q = 1; q <= J + 1; q++) b->rootpq[p * (J + 2) + q] = sqrt((double)p / q);
  /* weights of the unique half: rows mb < j/2 count twice (their mirror images), the
   * middle row of even j: ma < j/2 twice, ma = j/2 once, ma > j/2 not at all */
  for (int j = 0; j <= J; j++)
    for (int mb = 0; 2 * mb <= j; mb++)
      for (int ma = 0; ma <= j; ma++) {
        double wgt = 2.0;
        if (2 * mb == j) wgt = ma < mb ? 2.0 : (ma == mb ? 1.0 : 0.0);
        b->uwgt[b->ublock[j] + mb * (j + 1) + ma] = wgt;
      }
  for (int j = 0; j <= J; j++) b->bzero[j] = b->wself * b->wself * b->wself * (j + 1);
#undef TIDX
  return KILN_OK;
oom:
  free(cg);
  snap_basis_free(b);
  return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory (twojmax %d)", what, J);
}

/* ------------------------------------------------------------------ workspace */
void snap_work_free(snap_work *w) {
  if (!w) return;
  free(w->rij); free(w->rcut); free(w->wj); free(w->idx);
  free(w->nur); free(w->nui);
  free(w->ur); free(w->ui); free(w->yr); free(w->yi);
  free(w->zr); free(w->zi); free(w->B); free(w->beta);
  free(w->dur); free(w->dui); free(w->lay);
  memset(w, 0, sizeof *w);
}

kiln_status snap_work_init(snap_work *w, const snap_basis *b, kiln_error *err) {
  memset(w, 0, sizeof *w);
  w->b = b;
  const size_t nu = (size_t)b->nu, nz = (size_t)b->nz, nb = (size_t)b->nb;
  w->ur = calloc(nu, sizeof(double)); w->ui = calloc(nu, sizeof(double));
  w->yr = calloc(nu, sizeof(double)); w->yi = calloc(nu, sizeof(double));
  w->zr = calloc(nz, sizeof(double)); w->zi = calloc(nz, sizeof(double));
  w->B = calloc(nb, sizeof(double)); w->beta = calloc(nb, sizeof(double));
  w->dur = calloc(3 * nu, sizeof(double)); w->dui = calloc(3 * nu, sizeof(double));
  w->lay = calloc(12 * (size_t)(b->twojmax + 1) * (b->twojmax + 1), sizeof(double));
  if (!w->ur || !w->ui || !w->yr || !w->yi || !w->zr || !w->zi || !w->B || !w->beta ||
      !w->dur || !w->dui || !w->lay) {
    snap_work_free(w);
    return KILN_FAIL(err, KILN_ENOMEM, "snap: out of memory for the workspace");
  }
  return KILN_OK;
}

kiln_status snap_work_reserve(snap_work *w, int nn, kiln_error *err) {
  if (nn <= w->cap) return KILN_OK;
  int cap = nn + nn / 2 + 8;
  const size_t nu = (size_t)w->b->nu;
  free(w->rij); free(w->rcut); free(w->wj); free(w->idx); free(w->nur); free(w->nui);
  w->rij = malloc((size_t)cap * sizeof *w->rij);
  w->rcut = malloc((size_t)cap * sizeof *w->rcut);
  w->wj = malloc((size_t)cap * sizeof *w->wj);
  w->idx = malloc((size_t)cap * sizeof *w->idx);
  w->nur = malloc((size_t)cap * nu * sizeof *w->nur);
  w->nui = malloc((size_t)cap * nu * sizeof *w->nui);
  if (!w->rij || !w->rcut || !w->wj || !w->idx || !w->nur || !w->nui) {
    free(w->rij); free(w->rcut); free(w->wj); free(w->idx); free(w->nur); free(w->nui);
    w->rij = NULL; w->rcut = w->wj = w->nur = w->nui = NULL; w->idx = NULL;
    w->cap = 0;
    return KILN_FAIL(err, KILN_ENOMEM, "snap: out of memory for %d neighbors", nn);
  }
  w->cap = cap;
  return KILN_OK;
}

/* ------------------------------------------------------------------ geometry */
typedef struct {
  double r, uhat[3];
  double ar, ai, br, bi;             /* Cayley-Klein parameters */
  double dar[3], dai[3], dbr[3], dbi[3];
  double sfac, dsfac;                /* switching function (times wj) and its r-derivative */
} snap_geom;

static void geometry(const snap_basis *B, const double d[3], double rcut, double wj,
                     int derivs, snap_geom *g) {
  const double x = d[0], y = d[1], z = d[2];
  const double rsq = x * x + y * y + z * z, r = sqrt(rsq);
  const double rscale0 = B->rfac0 * M_PI / (rcut - B->rmin0);
  const double theta0 = (r - B->rmin0) * rscale0;
  const double z0 = r * cos(theta0) / sin(theta0);
  const double r0inv = 1.0 / sqrt(rsq + z0 * z0);
  g->r = r;
  g->ar = r0inv * z0;
  g->ai = -r0inv * z;
  g->br = r0inv * y;
  g->bi = -r0inv * x;
  double sfac = 1.0, dsfac = 0.0;
  if (B->switchflag) {
    if (r <= B->rmin0) sfac = 1.0;
    else if (r > rcut) sfac = 0.0;
    else {
      const double rcutfac = M_PI / (rcut - B->rmin0);
      sfac = 0.5 * (cos((r - B->rmin0) * rcutfac) + 1.0);
      dsfac = -0.5 * sin((r - B->rmin0) * rcutfac) * rcutfac;
    }
  }
  g->sfac = sfac * wj;
  g->dsfac = dsfac * wj;
  if (!derivs) return;
  const double rinv = 1.0 / r;
  g->uhat[0] = x * rinv; g->uhat[1] = y * rinv; g->uhat[2] = z * rinv;
  const double dz0dr = z0 / r - (r * rscale0) * (rsq + z0 * z0) / rsq;
  const double dr0invdr = -r0inv * r0inv * r0inv * (r + z0 * dz0dr);
  for (int k = 0; k < 3; k++) {
    const double dr0inv = dr0invdr * g->uhat[k];
    const double dz0 = dz0dr * g->uhat[k];
    g->dar[k] = dz0 * r0inv + z0 * dr0inv;
    g->dai[k] = -z * dr0inv;
    g->dbr[k] = y * dr0inv;
    g->dbi[k] = -x * dr0inv;
  }
  g->dai[2] += -r0inv;
  g->dbr[1] += r0inv;
  g->dbi[0] += -r0inv;
}

/* U of one neighbor: rows mb <= j/2 of every layer, plus for odd j the row (j+1)/2
 * (mirror image) that the next layer's recursion reads. */
static void u_half(const snap_basis *B, const snap_geom *g, double *ur, double *ui) {
  const int J = B->twojmax, ld = J + 2;
  const double *rp = B->rootpq;
  const double ar = g->ar, ai = g->ai, br = g->br, bi = g->bi;
  ur[0] = 1.0;
  ui[0] = 0.0;
  for (int j = 1; j <= J; j++) {
    const int o = B->ublock[j], op = B->ublock[j - 1];
    for (int mb = 0; 2 * mb <= j; mb++) {
      const double *pr = ur + op + mb * j, *pi = ui + op + mb * j;
      double *qr = ur + o + mb * (j + 1), *qi = ui + o + mb * (j + 1);
      const double *rq = rp + (j - mb);   /* rq[p*ld] = sqrt(p/(j-mb)) */
      double c1 = rq[j * ld];
      qr[0] = c1 * (ar * pr[0] + ai * pi[0]);
      qi[0] = c1 * (ar * pi[0] - ai * pr[0]);
      for (int ma = 1; ma < j; ma++) {
        c1 = rq[(j - ma) * ld];
        const double c2 = rq[ma * ld];
        qr[ma] = c1 * (ar * pr[ma] + ai * pi[ma]) - c2 * (br * pr[ma - 1] + bi * pi[ma - 1]);
        qi[ma] = c1 * (ar * pi[ma] - ai * pr[ma]) - c2 * (br * pi[ma - 1] - bi * pr[ma - 1]);
      }
      const double c2 = rq[j * ld];
      qr[j] = -c2 * (br * pr[j - 1] + bi * pi[j - 1]);
      qi[j] = -c2 * (br * pi[j - 1] - bi * pr[j - 1]);
    }
    if (j & 1) {
      const int s = (j - 1) / 2, m = (j + 1) / 2;
      const double *sr = ur + o + s * (j + 1), *si = ui + o + s * (j + 1);
      double *tr = ur + o + m * (j + 1), *ti = ui + o + m * (j + 1);
      for (int ma = 0; ma <= j; ma++) {
        const double sg = ((ma + s) & 1) ? -1.0 : 1.0;
        tr[j - ma] = sg * sr[ma];
        ti[j - ma] = -sg * si[ma];
      }
    }
  }
}

void snap_utot(snap_work *w) {
  const snap_basis *B = w->b;
  const int J = B->twojmax, nu = B->nu;
  double *ur = w->ur, *ui = w->ui;
  memset(ur, 0, (size_t)nu * sizeof *ur);
  memset(ui, 0, (size_t)nu * sizeof *ui);
  for (int j = 0; j <= J; j++)
    for (int m = 0; m <= j; m++) ur[B->ublock[j] + m * (j + 1) + m] = B->wself;
  for (int k = 0; k < w->nn; k++) {
    snap_geom g;
    geometry(B, w->rij[k], w->rcut[k], w->wj[k], 0, &g);
    double *nr = w->nur + (size_t)k * nu, *ni = w->nui + (size_t)k * nu;
    u_half(B, &g, nr, ni);
    const double sf = g.sfac;
    for (int j = 0; j <= J; j++) {
      const int o = B->ublock[j], len = (j / 2 + 1) * (j + 1);
      for (int e = o; e < o + len; e++) {
        ur[e] += sf * nr[e];
        ui[e] += sf * ni[e];
      }
    }
  }
  /* mirror the other rows: u[j-mb][j-ma] = (-1)^(ma+mb) conj(u[mb][ma]) */
  for (int j = 1; j <= J; j++) {
    const int o = B->ublock[j];
    for (int mb = 0; 2 * mb < j; mb++) {
      const double *sr = ur + o + mb * (j + 1), *si = ui + o + mb * (j + 1);
      double *tr = ur + o + (j - mb) * (j + 1), *ti = ui + o + (j - mb) * (j + 1);
      for (int ma = 0; ma <= j; ma++) {
        const double sg = ((ma + mb) & 1) ? -1.0 : 1.0;
        tr[j - ma] = sg * sr[ma];
        ti[j - ma] = -sg * si[ma];
      }
    }
  }
}

/* Z entry e from utot */
static inline void z_entry(const snap_basis *B, const double *ur, const double *ui, int e,
                           double *zr, double *zi) {
  double sr = 0.0, si = 0.0;
  const int t1 = B->zt0[e + 1];
  for (int t = B->zt0[e]; t < t1; t++) {
    const int32_t i1 = B->ti[t][0], i2 = B->ti[t][1];
    const double c = B->tc[t];
    sr += c * (ur[i1] * ur[i2] - ui[i1] * ui[i2]);
    si += c * (ur[i1] * ui[i2] + ui[i1] * ur[i2]);
  }
  *zr = sr;
  *zi = si;
}

void snap_bispectrum(snap_work *w, double *Bout) {
  const snap_basis *B = w->b;
  const double *ur = w->ur, *ui = w->ui, *wg = B->uwgt;
  for (int k = 0; k < B->nb; k++) {
    const snap_triple *T = &B->trip[B->btrip[k]];
    const int len = (T->j / 2 + 1) * (T->j + 1);
    double s = 0.0;
    for (int q = 0; q < len; q++) {
      const int e = T->z0 + q, u = B->zjju[e];
      if (wg[u] == 0.0) continue;
      double zr, zi;
      z_entry(B, ur, ui, e, &zr, &zi);
      s += wg[u] * (ur[u] * zr + ui[u] * zi);
    }
    Bout[k] = s - (B->bzeroflag ? B->bzero[T->j] : 0.0);
  }
}

void snap_z_all(snap_work *w) {
  const snap_basis *B = w->b;
  const double *wg = B->uwgt;
  for (int e = 0; e < B->nz; e++) {
    double zr, zi;
    const int u = B->zjju[e];
    if (wg[u] == 0.0) { w->zr[e] = w->zi[e] = 0.0; continue; }
    z_entry(B, w->ur, w->ui, e, &zr, &zi);
    w->zr[e] = wg[u] * zr;
    w->zi[e] = wg[u] * zi;
  }
}

void snap_y(snap_work *w, const double *beta, double *Bout) {
  const snap_basis *B = w->b;
  const double *ur = w->ur, *ui = w->ui, *wg = B->uwgt;
  double *yr = w->yr, *yi = w->yi;
  memset(yr, 0, (size_t)B->nu * sizeof *yr);
  memset(yi, 0, (size_t)B->nu * sizeof *yi);
  for (int t = 0; t < B->ntrip; t++) {
    const snap_triple *T = &B->trip[t];
    const double bj = T->yfac * beta[T->yb];
    const int len = (T->j / 2 + 1) * (T->j + 1);
    const int want_b = Bout && T->bidx >= 0;
    double s = 0.0;
    for (int q = 0; q < len; q++) {
      const int e = T->z0 + q, u = B->zjju[e];
      if (wg[u] == 0.0) continue;
      double zr, zi;
      z_entry(B, ur, ui, e, &zr, &zi);
      yr[u] += bj * zr;
      yi[u] += bj * zi;
      if (want_b) s += wg[u] * (ur[u] * zr + ui[u] * zi);
    }
    if (want_b) Bout[T->bidx] = s - (B->bzeroflag ? B->bzero[T->j] : 0.0);
  }
  for (int u = 0; u < B->nu; u++) {
    yr[u] *= wg[u];
    yi[u] *= wg[u];
  }
}

/* d(sfac U)/dr of neighbor k (rows mb <= j/2) into w->dur/dui [c*nu + idx] */
static void du_half(snap_work *w, int k) {
  const snap_basis *B = w->b;
  const int J = B->twojmax, ld = J + 2, nu = B->nu;
  const double *rp = B->rootpq;
  snap_geom g;
  geometry(B, w->rij[k], w->rcut[k], w->wj[k], 1, &g);
  const double *ur = w->nur + (size_t)k * nu, *ui = w->nui + (size_t)k * nu;
  double *dr = w->dur, *di = w->dui;
  const double ar = g.ar, ai = g.ai, br = g.br, bi = g.bi;
  for (int c = 0; c < 3; c++) dr[c * nu] = di[c * nu] = 0.0;
  for (int j = 1; j <= J; j++) {
    const int o = B->ublock[j], op = B->ublock[j - 1];
    for (int c = 0; c < 3; c++) {
      const double dar = g.dar[c], dai = g.dai[c], dbr = g.dbr[c], dbi = g.dbi[c];
      double *Dr = dr + c * nu, *Di = di + c * nu;
      for (int mb = 0; 2 * mb <= j; mb++) {
        const double *pr = ur + op + mb * j, *pi = ui + op + mb * j;
        const double *dpr = Dr + op + mb * j, *dpi = Di + op + mb * j;
        double *qr = Dr + o + mb * (j + 1), *qi = Di + o + mb * (j + 1);
        const double *rq = rp + (j - mb);
        for (int ma = 0; ma <= j; ma++) {
          double vr = 0.0, vi = 0.0;
          if (ma < j) {
            const double c1 = rq[(j - ma) * ld];
            vr += c1 * (dar * pr[ma] + dai * pi[ma] + ar * dpr[ma] + ai * dpi[ma]);
            vi += c1 * (dar * pi[ma] - dai * pr[ma] + ar * dpi[ma] - ai * dpr[ma]);
          }
          if (ma > 0) {
            const double c2 = rq[ma * ld];
            vr -= c2 * (dbr * pr[ma - 1] + dbi * pi[ma - 1] + br * dpr[ma - 1] + bi * dpi[ma - 1]);
            vi -= c2 * (dbr * pi[ma - 1] - dbi * pr[ma - 1] + br * dpi[ma - 1] - bi * dpr[ma - 1]);
          }
          qr[ma] = vr;
          qi[ma] = vi;
        }
      }
      if (j & 1) {
        const int s = (j - 1) / 2, m = (j + 1) / 2;
        const double *sr = Dr + o + s * (j + 1), *si = Di + o + s * (j + 1);
        double *tr = Dr + o + m * (j + 1), *ti = Di + o + m * (j + 1);
        for (int ma = 0; ma <= j; ma++) {
          const double sg = ((ma + s) & 1) ? -1.0 : 1.0;
          tr[j - ma] = sg * sr[ma];
          ti[j - ma] = -sg * si[ma];
        }
      }
    }
  }
  /* total derivative of sfac*U: dsfac U uhat + sfac dU (half rows) */
  const double sf = g.sfac, dsf = g.dsfac;
  for (int c = 0; c < 3; c++) {
    const double f = dsf * g.uhat[c];
    double *Dr = dr + c * nu, *Di = di + c * nu;
    for (int j = 0; j <= J; j++) {
      const int o = B->ublock[j], len = (j / 2 + 1) * (j + 1);
      for (int e = o; e < o + len; e++) {
        Dr[e] = f * ur[e] + sf * Dr[e];
        Di[e] = f * ui[e] + sf * Di[e];
      }
    }
  }
}

/* dE/dr_ij of neighbor k with the dU recursion fused with the contraction against Y:
 * only two layers of dU are kept (in registers/L1), never the whole array. */
void snap_dedr(snap_work *w, int k, double dedr[3]) {
  const snap_basis *B = w->b;
  const int J = B->twojmax, ld = J + 2, nu = B->nu, L = (J + 1) * (J + 1);
  const double *rp = B->rootpq;
  snap_geom g;
  geometry(B, w->rij[k], w->rcut[k], w->wj[k], 1, &g);
  const double *ur = w->nur + (size_t)k * nu, *ui = w->nui + (size_t)k * nu;
  const double *yr = w->yr, *yi = w->yi;
  const double ar = g.ar, ai = g.ai, br = g.br, bi = g.bi;
  /* layer buffers: [c][L] for real and imaginary parts, previous and current */
  double *pr_ = w->lay, *pi_ = pr_ + 3 * L, *cr_ = pi_ + 3 * L, *ci_ = cr_ + 3 * L;
  double s0 = 0, s1 = 0, s2 = 0;     /* dU_c . Y */
  double suy = ur[0] * yr[0] + ui[0] * yi[0];
  pr_[0] = pr_[L] = pr_[2 * L] = 0.0;
  pi_[0] = pi_[L] = pi_[2 * L] = 0.0;
  for (int j = 1; j <= J; j++) {
    const int o = B->ublock[j], op = B->ublock[j - 1];
    for (int mb = 0; 2 * mb <= j; mb++) {
      const double *Ur = ur + op + mb * j, *Ui = ui + op + mb * j;
      const double *Yr = yr + o + mb * (j + 1), *Yi = yi + o + mb * (j + 1);
      const double *Qr = ur + o + mb * (j + 1), *Qi = ui + o + mb * (j + 1);
      const double *rq = rp + (j - mb);
      for (int ma = 0; ma <= j; ma++) suy += Qr[ma] * Yr[ma] + Qi[ma] * Yi[ma];
      for (int c = 0; c < 3; c++) {
        const double dar = g.dar[c], dai = g.dai[c], dbr = g.dbr[c], dbi = g.dbi[c];
        const double *dpr = pr_ + c * L + mb * j, *dpi = pi_ + c * L + mb * j;
        double *qr = cr_ + c * L + mb * (j + 1), *qi = ci_ + c * L + mb * (j + 1);
        double acc = 0.0;
        /* ma = 0: first term only */
        {
          const double c1 = rq[j * ld];
          const double vr = c1 * (dar * Ur[0] + dai * Ui[0] + ar * dpr[0] + ai * dpi[0]);
          const double vi = c1 * (dar * Ui[0] - dai * Ur[0] + ar * dpi[0] - ai * dpr[0]);
          qr[0] = vr; qi[0] = vi;
          acc += vr * Yr[0] + vi * Yi[0];
        }
        for (int ma = 1; ma < j; ma++) {
          const double c1 = rq[(j - ma) * ld], c2 = rq[ma * ld];
          const double vr = c1 * (dar * Ur[ma] + dai * Ui[ma] + ar * dpr[ma] + ai * dpi[ma]) -
                            c2 * (dbr * Ur[ma - 1] + dbi * Ui[ma - 1] + br * dpr[ma - 1] +
                                  bi * dpi[ma - 1]);
          const double vi = c1 * (dar * Ui[ma] - dai * Ur[ma] + ar * dpi[ma] - ai * dpr[ma]) -
                            c2 * (dbr * Ui[ma - 1] - dbi * Ur[ma - 1] + br * dpi[ma - 1] -
                                  bi * dpr[ma - 1]);
          qr[ma] = vr; qi[ma] = vi;
          acc += vr * Yr[ma] + vi * Yi[ma];
        }
        {
          const double c2 = rq[j * ld];
          const double vr = -c2 * (dbr * Ur[j - 1] + dbi * Ui[j - 1] + br * dpr[j - 1] +
                                   bi * dpi[j - 1]);
          const double vi = -c2 * (dbr * Ui[j - 1] - dbi * Ur[j - 1] + br * dpi[j - 1] -
                                   bi * dpr[j - 1]);
          qr[j] = vr; qi[j] = vi;
          acc += vr * Yr[j] + vi * Yi[j];
        }
        if (c == 0) s0 += acc; else if (c == 1) s1 += acc; else s2 += acc;
      }
    }
    if (j & 1) {  /* the mirror row the next layer reads */
      const int s = (j - 1) / 2, m = (j + 1) / 2;
      for (int c = 0; c < 3; c++) {
        const double *sr = cr_ + c * L + s * (j + 1), *si = ci_ + c * L + s * (j + 1);
        double *tr = cr_ + c * L + m * (j + 1), *ti = ci_ + c * L + m * (j + 1);
        for (int ma = 0; ma <= j; ma++) {
          const double sg = ((ma + s) & 1) ? -1.0 : 1.0;
          tr[j - ma] = sg * sr[ma];
          ti[j - ma] = -sg * si[ma];
        }
      }
    }
    double *t;
    t = pr_; pr_ = cr_; cr_ = t;
    t = pi_; pi_ = ci_; ci_ = t;
  }
  dedr[0] = g.dsfac * g.uhat[0] * suy + g.sfac * s0;
  dedr[1] = g.dsfac * g.uhat[1] * suy + g.sfac * s1;
  dedr[2] = g.dsfac * g.uhat[2] * suy + g.sfac * s2;
}

/* sum over the unique half of layer jl of dU . Z (Z weighted) for Z block z0 */
static inline double dot_dz(const snap_basis *B, const double *Dr, const double *Di,
                            const double *zr, const double *zi, int jl, int z0) {
  const int o = B->ublock[jl], len = (jl / 2 + 1) * (jl + 1);
  double s = 0.0;
  for (int q = 0; q < len; q++) s += Dr[o + q] * zr[z0 + q] + Di[o + q] * zi[z0 + q];
  return s;
}

void snap_dbdr(snap_work *w, int k, double *dB, size_t ldb) {
  const snap_basis *B = w->b;
  const int J = B->twojmax, nu = B->nu, J1 = J + 1;
  du_half(w, k);
  for (int c = 0; c < 3; c++) {
    const double *Dr = w->dur + c * nu, *Di = w->dui + c * nu;
    for (int q = 0; q < B->nb; q++) {
      const int j1 = B->bt[q][0], j2 = B->bt[q][1], j = B->bt[q][2];
      double s = dot_dz(B, Dr, Di, w->zr, w->zi, j, B->trip[B->btrip[q]].z0);
      const int t1 = B->tidx[(j * J1 + j2) * J1 + j1];
      s += (j + 1) / (j1 + 1.0) * dot_dz(B, Dr, Di, w->zr, w->zi, j1, B->trip[t1].z0);
      const int t2 = B->tidx[(j * J1 + j1) * J1 + j2];
      s += (j + 1) / (j2 + 1.0) * dot_dz(B, Dr, Di, w->zr, w->zi, j2, B->trip[t2].z0);
      dB[(size_t)c * ldb + (size_t)q] = s;
    }
  }
}
