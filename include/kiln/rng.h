/* kiln/rng.h: seeded random number streams (xoshiro256**). POD state: copy it
 * to save/restore (checkpoints); streams from the same seed with different
 * stream ids are independent (seeded via splitmix64 of seed and stream). */
#ifndef KILN_RNG_H
#define KILN_RNG_H
#include <stdint.h>

typedef struct kiln_rng {
  uint64_t s[4];
  double spare;      /* cached second normal deviate */
  int has_spare;
} kiln_rng;

void kiln_rng_seed(kiln_rng *r, uint64_t seed, uint64_t stream);
uint64_t kiln_rng_u64(kiln_rng *r);
double kiln_rng_uniform(kiln_rng *r);   /* [0, 1) with 53 random bits */
double kiln_rng_normal(kiln_rng *r);    /* standard normal */
/* Sum of n squared standard normals (chi-squared with n dof), used by CSVR. */
double kiln_rng_chisq(kiln_rng *r, long n);
#endif
