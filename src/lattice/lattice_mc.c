/* src/lattice/lattice_mc.c: Metropolis / Kawasaki / semi-grand-canonical sweeps, local
 * environments and reweighting helpers (see include/kiln/lattice.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/lattice.h"
#include "lattice_internal.h"

static inline size_t randidx(kiln_rng *r, size_t n) {
  size_t i = (size_t)(kiln_rng_uniform(r) * (double)n);
  return i < n ? i : n - 1;
}

static inline int accept(kiln_rng *r, double beta, double dh) {
  return dh <= 0 || kiln_rng_uniform(r) < exp(-beta * dh);
}

/* Wolff clusters need an Ising-equivalent model: 2 species, V_k[0][0] == V_k[1][1],
 * J_k = (V_k[0][1] - V_k[0][0]) / 2 >= 0, no triangles, mu_0 == mu_1. */
static kiln_status cluster_check(const kiln_lattice *m, double beta, double *padd,
                                 kiln_error *err) {
  if (m->ns != 2)
    return KILN_FAIL(err, KILN_EINVAL, "lattice run: cluster moves need 2 species (got %d)", m->ns);
  if (m->has_tri && m->knz)
    return KILN_FAIL(err, KILN_EINVAL, "lattice run: cluster moves do not support triplet terms");
  if (m->mu[0] != m->mu[1])
    return KILN_FAIL(err, KILN_EINVAL, "lattice run: cluster moves need mu_1 == mu_2 (got %g, %g)",
                     m->mu[0], m->mu[1]);
  for (int k = 0; k < m->nsh; k++) {
    double J = 0.5 * (m->V[k][0][1] - m->V[k][0][0]);
    if (fabs(m->V[k][0][0] - m->V[k][1][1]) > 1e-12 * (fabs(m->V[k][0][0]) + 1e-300) || J < 0)
      return KILN_FAIL(err, KILN_EINVAL,
                       "lattice run: cluster moves need a ferromagnetic Ising-like model "
                       "(shell %d: V11=%g V22=%g V12=%g)", k + 1, m->V[k][0][0], m->V[k][1][1],
                       m->V[k][0][1]);
    padd[k] = 1 - exp(-2 * beta * J);
  }
  return KILN_OK;
}

/* One Wolff cluster flip (sites are flipped as they join, so a flipped site is never
 * added twice); E, M and cnt follow exactly. Returns the cluster size. */
static size_t wolff(const kiln_lattice *m, int32_t *occ, kiln_rng *rng, const double *padd,
                    int32_t *stack, double *E, double *M, const double *w, const double *sig,
                    double *cnt) {
  size_t seed = randidx(rng, m->n), top = 0, size = 0;
  const int a = occ[seed], b = 1 - a;
  const double dm = sig[b] - sig[a];
  *E += kiln_lattice_flip_delta(m, occ, seed, b);
  occ[seed] = b;
  *M += (w ? w[seed] : 1.0) * dm;
  size++;
  stack[top++] = (int32_t)seed;
  while (top) {
    int32_t i = stack[--top];
    for (int k = 0; k < m->nsh; k++) {
      if (padd[k] <= 0) continue;
      for (size_t e = m->off[k][i]; e < m->off[k][i + 1]; e++) {
        int32_t j = m->nb[k][e];
        if (occ[j] == a && kiln_rng_uniform(rng) < padd[k]) {
          *E += kiln_lattice_flip_delta(m, occ, (size_t)j, b);
          occ[j] = b;
          *M += (w ? w[j] : 1.0) * dm;
          size++;
          stack[top++] = j;
        }
      }
    }
  }
  cnt[a] -= (double)size;
  cnt[b] += (double)size;
  return size;
}

kiln_status kiln_lattice_sweep(const kiln_lattice *m, int32_t *occ, kiln_rng *rng,
                               const kiln_lattice_run *r, double *energy, double *order,
                               double *counts, long *accepted, kiln_error *err) {
  if (!r || !(r->beta >= 0) || !isfinite(r->beta))
    return KILN_FAIL(err, KILN_EINVAL, "lattice run: beta must be finite and >= 0 (got %g)",
                     r ? r->beta : (double)NAN);
  if (r->nsweeps < 0 || r->every < 1)
    return KILN_FAIL(err, KILN_EINVAL, "lattice run: sweeps (%ld) must be >= 0 and every (%ld) >= 1",
                     r->nsweeps, r->every);
  if (r->move < KILN_LATTICE_FLIP || r->move > KILN_LATTICE_CLUSTER)
    return KILN_FAIL(err, KILN_EINVAL, "lattice run: unknown move %d", r->move);
  kiln_status st = kiln_lattice_check_occ(m, occ, err);
  if (st) return st;
  const size_t n = m->n;
  const int ns = m->ns;
  double sig[KILN_LATTICE_MAX_SPECIES] = {0};
  if (r->sigma) memcpy(sig, r->sigma, (size_t)ns * sizeof *sig);
  else { sig[0] = 1; sig[1] = -1; }
  const double *w = r->w;
  double cnt[KILN_LATTICE_MAX_SPECIES] = {0};
  double E = kiln_lattice_energy(m, occ), M = 0;
  for (size_t i = 0; i < n; i++) {
    cnt[occ[i]] += 1;
    M += (w ? w[i] : 1.0) * sig[occ[i]];
  }
  const double beta = r->beta;
  long acc = 0, rec = 0;
  double padd[KILN_LATTICE_MAX_SHELLS] = {0};
  int32_t *stack = NULL;
  if (r->move == KILN_LATTICE_CLUSTER) {
    if ((st = cluster_check(m, beta, padd, err))) return st;
    stack = malloc(n * sizeof *stack);
    if (!stack)
      return KILN_FAIL(err, KILN_ENOMEM, "lattice run: out of memory (cluster move)");
  }
  for (long sw = 1; sw <= r->nsweeps; sw++) {
    if (r->move == KILN_LATTICE_CLUSTER) {
      size_t flipped = 0;
      while (flipped < n) {
        size_t c = wolff(m, occ, rng, padd, stack, &E, &M, w, sig, cnt);
        flipped += c;
        acc++;
      }
    } else
    for (size_t t = 0; t < n; t++) {
      size_t i = randidx(rng, n);
      const int a = occ[i];
      if (r->move == KILN_LATTICE_FLIP) {
        int b;
        if (ns == 2) b = 1 - a;
        else {
          b = (int)randidx(rng, (size_t)ns - 1);
          if (b >= a) b++;
        }
        double dE = kiln_lattice_flip_delta(m, occ, i, b);
        if (accept(rng, beta, dE - (m->mu[b] - m->mu[a]))) {
          occ[i] = b;
          E += dE;
          M += (w ? w[i] : 1.0) * (sig[b] - sig[a]);
          cnt[a] -= 1;
          cnt[b] += 1;
          acc++;
        }
      } else {
        size_t j;
        if (r->move == KILN_LATTICE_SWAP_LOCAL) {
          size_t z = m->off[0][i + 1] - m->off[0][i];
          if (z == 0) continue;
          j = (size_t)m->nb[0][m->off[0][i] + randidx(rng, z)];
        } else {
          j = randidx(rng, n);
        }
        const int b = occ[j];
        if (a == b) continue;
        double dE = kiln_lattice_swap_delta(m, occ, i, j);
        if (accept(rng, beta, dE)) {
          occ[i] = b;
          occ[j] = a;
          E += dE;
          M += ((w ? w[i] : 1.0) - (w ? w[j] : 1.0)) * (sig[b] - sig[a]);
          acc++;
        }
      }
    }
    if (sw % r->every == 0) {
      if (energy) energy[rec] = E;
      if (order) order[rec] = M / (double)n;
      if (counts) memcpy(counts + (size_t)rec * ns, cnt, (size_t)ns * sizeof *cnt);
      rec++;
    }
  }
  free(stack);
  if (accepted) *accepted = acc;
  return KILN_OK;
}

/* ---- environments ------------------------------------------------------ */

static size_t env_radix(const kiln_lattice *m, int nenv, size_t radix[KILN_LATTICE_MAX_SHELLS]) {
  double total = m->ns;
  size_t r = (size_t)m->ns;
  for (int k = 0; k < nenv; k++) {
    radix[k] = r;
    for (int a = 0; a < m->ns - 1; a++) {
      total *= (double)(m->zmax[k] + 1);
      r *= (size_t)(m->zmax[k] + 1);
    }
    if (total > 1e7) return 0;
  }
  return r;
}

size_t kiln_lattice_env_ncodes(const kiln_lattice *m, int nenv) {
  if (nenv < 1 || nenv > m->nsh) return 0;
  size_t radix[KILN_LATTICE_MAX_SHELLS];
  return env_radix(m, nenv, radix);
}

kiln_status kiln_lattice_env_codes(const kiln_lattice *m, const int32_t *occ, int nenv,
                                   int32_t *code, kiln_error *err) {
  if (nenv < 1 || nenv > m->nsh)
    return KILN_FAIL(err, KILN_EINVAL, "lattice: environment shells must be in 1..%d (got %d)",
                     m->nsh, nenv);
  size_t radix[KILN_LATTICE_MAX_SHELLS];
  if (!env_radix(m, nenv, radix))
    return KILN_FAIL(err, KILN_ERANGE, "lattice: too many environment types for %d shells and "
                     "%d species (> 1e7)", nenv, m->ns);
  const int ns = m->ns;
  for (size_t i = 0; i < m->n; i++) {
    size_t c = (size_t)occ[i];
    int complete = 1;
    for (int k = 0; k < nenv && complete; k++) {
      const size_t o = m->off[k][i], z = m->off[k][i + 1] - o;
      if ((int)z != m->zmax[k]) { complete = 0; break; }
      int h[KILN_LATTICE_MAX_SPECIES] = {0};
      for (size_t e = 0; e < z; e++) h[occ[m->nb[k][o + e]]]++;
      size_t base = radix[k];
      for (int a = 0; a < ns - 1; a++) {
        c += base * (size_t)h[a];
        base *= (size_t)(m->zmax[k] + 1);
      }
    }
    code[i] = complete ? (int32_t)c : -1;
  }
  return KILN_OK;
}

void kiln_lattice_env_decode(const kiln_lattice *m, int nenv, int32_t code, int *species,
                             int *counts) {
  const int ns = m->ns;
  size_t c = (size_t)code;
  *species = (int)(c % (size_t)ns);
  c /= (size_t)ns;
  for (int k = 0; k < nenv; k++) {
    int rest = m->zmax[k];
    for (int a = 0; a < ns - 1; a++) {
      int v = (int)(c % (size_t)(m->zmax[k] + 1));
      c /= (size_t)(m->zmax[k] + 1);
      counts[k * ns + a] = v;
      rest -= v;
    }
    counts[k * ns + ns - 1] = rest;
  }
}

/* ---- reweighting -------------------------------------------------------- */

double kiln_lattice_weights(size_t ns, size_t nf, const double *phi, const double *dtheta,
                            double *w) {
  if (ns == 0) return 0.0;
  double lmax = -INFINITY;
  for (size_t s = 0; s < ns; s++) {
    double l = 0;
    for (size_t f = 0; f < nf; f++) l -= dtheta[f] * phi[s * nf + f];
    w[s] = l;
    if (l > lmax) lmax = l;
  }
  double sum = 0;
  for (size_t s = 0; s < ns; s++) {
    w[s] = exp(w[s] - lmax);
    sum += w[s];
  }
  double s2 = 0;
  for (size_t s = 0; s < ns; s++) {
    w[s] /= sum;
    s2 += w[s] * w[s];
  }
  return 1.0 / s2;
}

void kiln_lattice_wmean(size_t ns, size_t nc, const double *x, const double *w, double *out) {
  memset(out, 0, nc * sizeof *out);
  for (size_t s = 0; s < ns; s++) {
    const double ws = w[s];
    if (ws == 0) continue;
    const double *xs = x + s * nc;
    for (size_t c = 0; c < nc; c++) out[c] += ws * xs[c];
  }
}
