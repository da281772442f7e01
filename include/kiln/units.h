/* kiln/units.h: internal units are Å, eV, amu, fs, K, elementary charge.
 * Conversions to GPa, THz, meV, cm^-1 happen only at the user's edge. */
#ifndef KILN_UNITS_H
#define KILN_UNITS_H

#define KILN_KB        8.617333262e-5        /* Boltzmann constant, eV/K (CODATA 2018, exact) */
#define KILN_MVV2E     103.642696562         /* 1 amu*Å^2/fs^2 in eV (CODATA 2018) */
#define KILN_EV_PER_A3_TO_GPA 160.2176634    /* 1 eV/Å^3 in GPa (e = 1.602176634e-19 C, exact) */
#define KILN_HBAR      0.6582119569          /* ħ in eV*fs */
#define KILN_THZ_TO_RADFS (2.0 * 3.14159265358979323846 * 1e-3) /* ω[rad/fs] per ν[THz] */

/* Convert a value between named units of the same dimension; returns 0 and sets
 * *out on success, -1 if the pair is unknown. Names: "eV","meV","kJ/mol","kcal/mol",
 * "Ha","Ry","J"; "A","nm","bohr","m"; "fs","ps","s"; "eV/A^3","GPa","bar","atm","Pa";
 * "THz","meV","cm-1","rad/fs" (frequency/energy equivalence, ħω). */
int kiln_units_convert(double value, const char *from, const char *to, double *out);
#endif
