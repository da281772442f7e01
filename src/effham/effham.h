/* src/effham/effham.h: private interface of the BaTiO3-type effective Hamiltonian
 * (local soft mode u + homogeneous and inhomogeneous strain; Zhong-Vanderbilt-Rabe form
 * in the reciprocal-space formulation of Nishimatsu et al. 2008). Used by
 * src/pot/pot_effective_hamiltonian.c; formulas in doc/effective_hamiltonian.md.
 *
 * Mapping onto kiln atoms: one pseudo-atom per perovskite cell. Its position is
 * x = h^T s0 + u (s0 = the cell's reference fractional site (i/L), h = the current cell,
 * rows = lattice vectors), so u is the local mode in Å in the lab frame. The homogeneous
 * strain is the cell's deformation against the reference cell diag(L a0) (mode "cell"),
 * or minimised at every evaluation (mode "relax", as feram), or zero ("none"). The
 * acoustic displacements w are minimised at every evaluation in k-space. */
#ifndef KILN_EFFHAM_H
#define KILN_EFFHAM_H
#include <stddef.h>
#include <stdint.h>
#include "kiln/atoms.h"
#include "kiln/error.h"

/* e^2/(4 pi eps0) in eV Å, as feram */
#define KILNI_EFFHAM_COULOMB 14.399644
/* GPa -> eV/Å^3 */
#define KILNI_EFFHAM_GPA 6.241509074e-3

typedef struct kilni_effham_params {
  double a0, zstar, epsinf;                       /* Å, e, - */
  double kappa2, alpha, gamma, k1, k2, k3, k4;    /* eV/Å^2, /Å^4, /Å^4, /Å^6 (x3), /Å^8 */
  double j[7];                                    /* eV/Å^2 */
  double B11, B12, B44;                           /* eV per cell */
  double B1xx, B1yy, B4yz;                        /* eV/Å^2 */
  double mass;                                    /* amu */
} kilni_effham_params;

/* Parameter names as in the .params file (and as potential options). */
#define KILNI_EFFHAM_NPAR 24
extern const char *const kilni_effham_parnames[KILNI_EFFHAM_NPAR];
double *kilni_effham_parptr(kilni_effham_params *p, int k);

/* Read a "key = value  # comment" file; unknown keys are ignored, a0, Z_star,
 * epsilon_inf, kappa2, alpha, gamma are required, the rest default to 0 (mass to 100). */
kiln_status kilni_effham_read_params(kilni_effham_params *p, const char *file, kiln_error *err);

enum { KILNI_EFFHAM_STRAIN_CELL = 0, KILNI_EFFHAM_STRAIN_RELAX = 1, KILNI_EFFHAM_STRAIN_NONE = 2 };

/* energy terms (eV), in this order in kilni_effham.terms */
enum { KILNI_EH_QUAD = 0,   /* short range incl. kappa2 u^2, plus dipole-dipole */
       KILNI_EH_ANH,        /* on-site alpha, gamma, k1..k4 */
       KILNI_EH_ELAS_HOMO,  /* homogeneous elastic */
       KILNI_EH_COUP_HOMO,  /* homogeneous strain - mode coupling */
       KILNI_EH_INHO,       /* inhomogeneous elastic + coupling at the optimum w */
       KILNI_EH_FIELD,      /* -Z* E.u */
       KILNI_EH_PRESSURE,   /* p N a0^3 (eta1+eta2+eta3), relax mode only */
       KILNI_EH_NTERMS };

typedef struct kilni_effham {
  kilni_effham_params P;
  int strain_mode, inho, dipole;
  double pressure;            /* eV/Å^3 (relax mode) */
  double field[3];            /* V/Å */
  double kappa_ewald;         /* 1/Å, 0: sqrt(pi)/a0 */
  int Lfix[3];                /* from the option n (0: from the cell) */
  /* grid-dependent data (rebuilt when L changes) */
  int L[3];
  size_t N, nk;               /* cells, half-spectrum points L0*L1*(L2/2+1) */
  double *phi;                /* nk x 6 (xx yy zz yz xz xy) / N */
  double *kinv;               /* nk x 21: -G = -D K^-1 D^T / N (packed upper, 1/eV); 0 at k=0 */
  double *rbuf;               /* 9 x N (fftw_malloc) */
  void *cbuf;                 /* 9 x nk complex (fftw_malloc) */
  void *fwd, *bwd;            /* fftw_plan */
  int plan_threads;
  double (*usite)[3];         /* N */
  int32_t *site;              /* natoms: atom -> cell */
  unsigned char *mark;        /* N */
  size_t site_cap;
  /* results of the last evaluation */
  double eta[6];              /* homogeneous strain (Voigt, engineering shears) */
  double umean[3];            /* Å */
  double terms[KILNI_EH_NTERMS];
} kilni_effham;

kiln_status kilni_effham_setup_grid(kilni_effham *s, const int L[3], kiln_error *err);
void kilni_effham_free_grid(kilni_effham *s);
/* Energy, forces (a->f when f != NULL), virial W = -dE/d(deformation)^T (kiln sign),
 * per-atom energies (eatom != NULL). */
kiln_status kilni_effham_eval(kilni_effham *s, kiln_atoms *a, double *energy, double (*f)[3],
                              double virial[3][3], double *eatom, kiln_error *err);
/* The quadratic kernel Phi(k) (eV/Å^2, 6 components xx yy zz yz xz xy) for a wave vector
 * k (1/Å) of the infinite simple-cubic lattice: short range + 2 kappa2 + dipole Ewald. */
void kilni_effham_phi(const kilni_effham *s, const double k[3], double out[6]);
#endif
