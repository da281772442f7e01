/* src/pimd/pimd_internal.h: the kiln_pimd object (private to src/pimd). */
#ifndef KILN_PIMD_INTERNAL_H
#define KILN_PIMD_INTERNAL_H
#include "kiln/pimd.h"
#include "md/barostat.h"

/* the optional barostat (stochastic cell rescaling on the centroid; pimd_baro.c) */
typedef struct kiln_pimd_baro {
  int on;
  kilni_scr scr;        /* settings: kT = kB T (physical), P0 physical */
  double p0;            /* isotropic target, eV/Å^3 */
  double res;           /* eV: barostat heat (sum of kilni_scr_heat) */
  double wdev;          /* eV: work of a deviatoric target stress */
  kiln_rng rng;         /* its own stream (seed, stream 1) */
  kilni_scr_move mv;    /* the move of the current step */
  double K1[3][3];      /* sum m vc (x) vc (eV), centroid velocities right after the move */
} kiln_pimd_baro;

struct kiln_pimd {
  kiln_pimd_par par;
  kiln_rng rng;
  long run_start, run_target;
  double *C;            /* P x P, C[j*P + k] */
  double *wk;           /* P mode frequencies (rad/fs) */
  double *c1, *c2;      /* P: O-step coefficients (c2 without 1/sqrt(m)) */
  double wP;            /* rad/fs */
  size_t n;             /* atoms per bead (0: no beads yet) */
  kiln_atoms **bead;    /* P */
  kiln_neigh **nl;      /* P */
  kiln_pot_result *res; /* P */
  double *q, *p;        /* P*n*3 normal-mode positions and velocities */
  double *xc;           /* n*3 centroid last written into the user's atoms */
  double reservoir;     /* eV removed by the thermostat (ring-polymer energy scale) */
  int fvalid;           /* bead forces valid (restored from a checkpoint) */
  double (**xref)[3];   /* P neighbor-list references restored from a checkpoint, or NULL */
  double (*xcell)[3][3];/* P reference cells of those lists */
  int cur_bead;
  kiln_pimd_baro baro;
  kiln_pimd_thermo th;
};

/* free the beads and everything sized by n */
void kilni_pimd_drop_beads(kiln_pimd *pm);
/* make P beads as copies of a (n = a->n) */
kiln_status kilni_pimd_make_beads(kiln_pimd *pm, const kiln_atoms *a, kiln_error *err);
/* write the centroid into a (positions, velocities, forces) and remember it */
void kilni_pimd_centroid_to(kiln_pimd *pm, kiln_atoms *a);
/* estimators into pm->th */
void kilni_pimd_thermo_fill(kiln_pimd *pm);
/* one BAOAB step without the force call and final kick: B A O A (with a barostat:
 * B [draw] A(dt/2) C O A(dt/2), C the centroid cell move); fails only if the barostat
 * move is too large */
kiln_status kilni_pimd_pre_force(kiln_pimd *pm, kiln_error *err);
/* [barostat heat] B */
void kilni_pimd_post_force(kiln_pimd *pm);

/* barostat (pimd_baro.c) */
/* parse P/stress/mode/barostat/tau_p/compressibility (all absent: b->on = 0) */
kiln_status kilni_pimd_baro_opts(kiln_pimd_baro *b, kiln_pimd_par *par, const kiln_opts *o,
                                 kiln_error *err);
/* (1/P) sum_j W_cv,j (eV): the centroid virial sum_i xc_i (x) f_ij = W_j - sum_i
 * (x_ij - xc_i) (x) f_ij, averaged over the beads */
void kilni_pimd_cv_virial(const kiln_pimd *pm, double W[3][3]);
/* draw the move from the state after the first half kick (pm->p holds the modes) */
kiln_status kilni_pimd_baro_draw(kiln_pimd *pm, kiln_error *err);
/* scale the centroid mode (q0 = mu q0, p0 = mu^-T p0) and every bead's cell */
void kilni_pimd_baro_move(kiln_pimd *pm);
/* after the force call: add the heat of the move */
void kilni_pimd_baro_heat(kiln_pimd *pm);
#endif
