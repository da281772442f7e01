/* src/lattice/lattice_internal.h: the lattice model struct (private to src/lattice). */
#ifndef KILN_LATTICE_INTERNAL_H
#define KILN_LATTICE_INTERNAL_H
#include "kiln/lattice.h"

struct kiln_lattice {
  size_t n;
  int ns, nsh;
  double dist[KILN_LATTICE_MAX_SHELLS];
  int zmax[KILN_LATTICE_MAX_SHELLS];
  size_t *off[KILN_LATTICE_MAX_SHELLS];  /* n+1 per shell */
  int32_t *nb[KILN_LATTICE_MAX_SHELLS];
  double V[KILN_LATTICE_MAX_SHELLS][KILN_LATTICE_MAX_SPECIES][KILN_LATTICE_MAX_SPECIES];
  int vnz[KILN_LATTICE_MAX_SHELLS];      /* shell has a nonzero interaction */
  double K[KILN_LATTICE_MAX_SPECIES][KILN_LATTICE_MAX_SPECIES][KILN_LATTICE_MAX_SPECIES];
  int knz, has_tri;
  double mu[KILN_LATTICE_MAX_SPECIES];
  size_t *toff;    /* n+1: site-triangle entries of site i */
  int32_t *tri;    /* pairs (j, l) */
  size_t ntri;
};
#endif
