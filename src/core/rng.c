/* src/core/rng.c: xoshiro256** streams seeded with splitmix64 (Blackman & Vigna),
 * polar Box-Muller normals and chi-squared deviates (Marsaglia-Tsang gamma). */
#include <math.h>
#include "kiln/rng.h"

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void kiln_rng_seed(kiln_rng *r, uint64_t seed, uint64_t stream) {
  /* Hash seed and stream separately, then run splitmix64 from the combination:
   * nearby (seed, stream) pairs give unrelated xoshiro states. */
  uint64_t a = seed, b = stream ^ 0xD1B54A32D192ED03ULL;
  uint64_t x = splitmix64(&a) ^ rotl(splitmix64(&b), 17);
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1; /* never all zero */
  r->spare = 0.0;
  r->has_spare = 0;
}

uint64_t kiln_rng_u64(kiln_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double kiln_rng_uniform(kiln_rng *r) {
  return (double)(kiln_rng_u64(r) >> 11) * 0x1.0p-53;
}

double kiln_rng_normal(kiln_rng *r) {
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double u, v, s;
  do {
    u = 2.0 * kiln_rng_uniform(r) - 1.0;
    v = 2.0 * kiln_rng_uniform(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double f = sqrt(-2.0 * log(s) / s);
  r->spare = v * f;
  r->has_spare = 1;
  return u * f;
}

/* Gamma(alpha, 1) for alpha >= 1 (Marsaglia & Tsang 2000, exact rejection method). */
static double gamma_ge1(kiln_rng *r, double alpha) {
  double d = alpha - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = kiln_rng_normal(r);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    double u = kiln_rng_uniform(r);
    double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
    if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) return d * v;
  }
}

double kiln_rng_chisq(kiln_rng *r, long n) {
  if (n <= 0) return 0.0;
  if (n <= 16) {
    double s = 0.0;
    for (long i = 0; i < n; i++) {
      double g = kiln_rng_normal(r);
      s += g * g;
    }
    return s;
  }
  return 2.0 * gamma_ge1(r, 0.5 * (double)n); /* chi2(n) = 2 Gamma(n/2) */
}
