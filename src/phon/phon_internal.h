/* src/phon/phon_internal.h: the phonons object, shared by the files of src/phon/. */
#ifndef KILN_PHON_INTERNAL_H
#define KILN_PHON_INTERNAL_H
#include "kiln/phonons.h"

struct kiln_phonons {
  kiln_atoms *unit, *super;
  int sc[3];
  size_t nb, nc, n;        /* basis atoms, cells (n1 n2 n3), supercell atoms nb*nc */
  double *fc;              /* nb*n*9, eV/Å² */
  unsigned char *nz;       /* nb*n: block (κ, j) is not all zero */
  double *mass;            /* nb, amu */
  double inv[3][3];        /* inverse of the unit cell (frac = x inv) */
  size_t *img_off;         /* nb*n + 1: images of pair (κ, j) at img[img_off[p] .. img_off[p+1]) */
  double (*img)[3];        /* shortest vectors x_j + T - x_κ (Å) */
};

/* Apply the sum rule, flag the non-zero blocks and find the shortest image vectors. */
kiln_status kilni_phon_finish(kiln_phonons *ph, int asr, kiln_error *err);
/* The reduced mesh point m (0-based, m_i < mesh_i) as Cartesian q. */
void kilni_phon_mesh_q(const kiln_phonons *ph, const int mesh[3], const int m[3], double q[3]);
kiln_status kilni_phon_check_mesh(const int mesh[3], const char *what, kiln_error *err);
#endif
