/* src/wave/slicer_internal.h: constants and helpers shared by physics.c, kirkland.c and
 * slicer.c (private to src/wave/; the propagator files have their own prop_internal.h). */
#ifndef KILN_SLICER_INTERNAL_H
#define KILN_SLICER_INTERNAL_H

/* CODATA 2018 */
#define KILN_HC_EVA     12398.419843320026   /* h c (eV·Å), exact */
#define KILN_MEC2_EV    510998.95000         /* electron rest energy m c^2 (eV) */
#define KILN_BOHR_A     0.529177210903       /* Bohr radius a0 (Å) */
#define KILN_E2_EVA     14.399645478425668   /* e^2 / (4 pi eps0) (eV·Å), "e" of Kirkland */
#define KILN_PI         3.14159265358979323846

/* Modified Bessel function K0(x) for x > 0 (relative error ~1e-15). */
double kiln_bessel_k0_(double x);
#endif
