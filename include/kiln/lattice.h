/* kiln/lattice.h: lattice Monte Carlo on occupation models.
 *
 * A model is a set of sites (the positions of any kiln_atoms: a crystal, a supercell, a
 * 2-D site list with a cell, or an open image with pbc all 0), nspecies species (indices
 * 0..nspecies-1; vacancies are just a species) and neighbour shells found automatically
 * by distance: shell k (0-based) holds the k-th smallest distinct site–site distance,
 * distances within tol*d1 of each other (d1 the first-shell distance) forming one shell.
 * Periodic images are counted with multiplicity (a small periodic cell sees a neighbour
 * twice when two images are at the same distance); a site may not be its own neighbour.
 *
 * Energy of an occupation s (int32 per site, 0-based species):
 *   E(s) = sum_k sum_{bonds ij in shell k} V_k[s_i][s_j] + sum_{triangles ijl} K[s_i][s_j][s_l]
 * (V_k symmetric; K symmetric in all three; triangles: three sites that are mutually in
 * shell 0). Chemical potentials mu[a] enter the semi-grand-canonical weight
 * exp(-beta (E - sum_i mu[s_i])). Units are the caller's (eV with beta in 1/eV, or
 * dimensionless J with beta = 1/(kT/J)).
 *
 * Moves (one sweep = nsites attempts):
 *   KILN_LATTICE_FLIP        a random site takes a random other species (Metropolis,
 *                            with mu: semi-grand-canonical; 2 species: Ising spin flip)
 *   KILN_LATTICE_SWAP_LOCAL  Kawasaki: a random site and a random first-shell neighbour
 *                            exchange species (composition fixed)
 *   KILN_LATTICE_SWAP_ANY    Kawasaki with a random partner anywhere (non-local)
 *   KILN_LATTICE_CLUSTER     Wolff cluster flips for Ising-equivalent models (2 species,
 *                            V_k[0][0] == V_k[1][1], J_k = (V_k[0][1]-V_k[0][0])/2 >= 0,
 *                            no triplets, mu_0 == mu_1); a sweep is as many clusters as
 *                            flip >= nsites sites in total; accepted counts clusters
 *
 * Local environments: the environment code of site i over shells 0..nenv-1 is
 *   code = s_i + ns * (sum over shells k, species a < ns-1 of c_ka * radix),
 * c_ka the number of species-a neighbours in shell k (mixed radix zmax_k+1, the last
 * species is implied by the coordination). Sites whose shells are incomplete (fewer
 * neighbours than zmax_k, at the edge of an open image) get code -1. */
#ifndef KILN_LATTICE_H
#define KILN_LATTICE_H
#include <stddef.h>
#include <stdint.h>
#include "atoms.h"
#include "rng.h"

#define KILN_LATTICE_MAX_SPECIES 16
#define KILN_LATTICE_MAX_SHELLS 16

enum { KILN_LATTICE_FLIP = 0, KILN_LATTICE_SWAP_LOCAL = 1, KILN_LATTICE_SWAP_ANY = 2,
       KILN_LATTICE_CLUSTER = 3 };

typedef struct kiln_lattice kiln_lattice;

/* Find nshells shells (tol: relative to the first-shell distance, e.g. 0.05) on the sites
 * of a (positions, cell, pbc; species of a are ignored) and build per-shell neighbour
 * tables. triangles != 0 also lists the first-shell triangles of each site. */
kiln_status kiln_lattice_new(kiln_lattice **out, const kiln_atoms *a, int nspecies, int nshells,
                             double tol, int triangles, kiln_error *err);
void kiln_lattice_free(kiln_lattice *m);

size_t kiln_lattice_nsites(const kiln_lattice *m);
int kiln_lattice_nspecies(const kiln_lattice *m);
int kiln_lattice_nshells(const kiln_lattice *m);
/* Mean distance of shell k (Å) and the largest neighbour count of a site in it. */
double kiln_lattice_shell_distance(const kiln_lattice *m, int k);
int kiln_lattice_shell_size(const kiln_lattice *m, int k);
/* Neighbours of site i in shell k (0-based site indices; *count entries). */
const int32_t *kiln_lattice_neighbors(const kiln_lattice *m, int k, size_t i, int *count);
/* Number of first-shell triangles (each counted once); 0 unless built with triangles. */
size_t kiln_lattice_ntriangles(const kiln_lattice *m);

/* Interactions (all zero at creation). set_pair sets V_k[a][b] = V_k[b][a] = J. */
kiln_status kiln_lattice_set_pair(kiln_lattice *m, int k, int a, int b, double J, kiln_error *err);
kiln_status kiln_lattice_set_triplet(kiln_lattice *m, int a, int b, int c, double K,
                                     kiln_error *err);
kiln_status kiln_lattice_set_mu(kiln_lattice *m, int a, double mu, kiln_error *err);
double kiln_lattice_get_pair(const kiln_lattice *m, int k, int a, int b);
double kiln_lattice_get_mu(const kiln_lattice *m, int a);

/* Check that occ holds nsites species indices in 0..nspecies-1. */
kiln_status kiln_lattice_check_occ(const kiln_lattice *m, const int32_t *occ, kiln_error *err);
/* Total interaction energy (no mu term). */
double kiln_lattice_energy(const kiln_lattice *m, const int32_t *occ);
/* Energy change when site i changes to species b (no mu term); O(neighbours). */
double kiln_lattice_flip_delta(const kiln_lattice *m, const int32_t *occ, size_t i, int b);
/* Energy change when sites i and j exchange species (occ is restored on return). */
double kiln_lattice_swap_delta(const kiln_lattice *m, int32_t *occ, size_t i, size_t j);

/* A run: nsweeps sweeps at inverse temperature beta with one kind of move, recording
 * every `every` sweeps (after the sweep). Order parameter: m = (1/N) sum_i w[i] sigma[s_i]
 * (w may be NULL: all 1; sigma NULL: +1 for species 0, -1 for species 1, 0 otherwise).
 * Output arrays (each may be NULL) hold nsweeps/every records: energy (interaction energy
 * per record), order (m), counts (record x nspecies, number of sites of each species).
 * accepted (may be NULL) gets the number of accepted moves. */
typedef struct kiln_lattice_run {
  double beta;
  int move;
  long nsweeps, every;
  const double *w;      /* nsites or NULL */
  const double *sigma;  /* nspecies or NULL */
} kiln_lattice_run;

kiln_status kiln_lattice_sweep(const kiln_lattice *m, int32_t *occ, kiln_rng *rng,
                               const kiln_lattice_run *r, double *energy, double *order,
                               double *counts, long *accepted, kiln_error *err);

/* Bond counts: c[(k*ns + a)*ns + b] = (1/2) sum_i sum_{j in shell k of i} [s_i=a][s_j=b]
 * for k < nshells (so E = sum V_k[a][b] c[k][a][b] + triangle terms). When triangles were
 * built, t[(a*ns + b)*ns + c] (may be NULL) = (1/3) sum over site-triangle entries (so
 * E_tri = sum K[a][b][c] t[a][b][c]). */
void kiln_lattice_bond_counts(const kiln_lattice *m, const int32_t *occ, double *c, double *t);

/* Number of environment codes over shells 0..nenv-1 (see above); 0 if nenv is out of
 * range or the count overflows (> 1e7). */
size_t kiln_lattice_env_ncodes(const kiln_lattice *m, int nenv);
/* Code of every site (-1: incomplete shells). */
kiln_status kiln_lattice_env_codes(const kiln_lattice *m, const int32_t *occ, int nenv,
                                   int32_t *code, kiln_error *err);
/* Decode a code: *species and counts[k*ns + a] for all ns species (the last implied). */
void kiln_lattice_env_decode(const kiln_lattice *m, int nenv, int32_t code, int *species,
                             int *counts);

/* Reweighting helpers. Normalised weights w_s = exp(-sum_f dtheta[f] phi[s*nf+f]) / Z for
 * ns samples (log-sum-exp); returns the effective sample size (sum w)^2/sum w^2. */
double kiln_lattice_weights(size_t ns, size_t nf, const double *phi, const double *dtheta,
                            double *w);
/* out[c] = sum_s w[s] x[s*nc + c] */
void kiln_lattice_wmean(size_t ns, size_t nc, const double *x, const double *w, double *out);
#endif
