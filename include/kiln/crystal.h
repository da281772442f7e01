/* kiln/crystal.h: crystal builders (conventional cubic cells unless stated).
 * a, c in Å. Symbols are element symbols. */
#ifndef KILN_CRYSTAL_H
#define KILN_CRYSTAL_H
#include "atoms.h"

kiln_status kiln_crystal_fcc(kiln_atoms **out, const char *sym, double a, kiln_error *err);      /* 4 atoms */
kiln_status kiln_crystal_bcc(kiln_atoms **out, const char *sym, double a, kiln_error *err);      /* 2 atoms */
kiln_status kiln_crystal_sc(kiln_atoms **out, const char *sym, double a, kiln_error *err);       /* 1 atom */
kiln_status kiln_crystal_diamond(kiln_atoms **out, const char *sym, double a, kiln_error *err);  /* 8 atoms */
/* hcp: hexagonal cell a, c (c <= 0 means ideal c = sqrt(8/3) a), 2 atoms */
kiln_status kiln_crystal_hcp(kiln_atoms **out, const char *sym, double a, double c, kiln_error *err);
/* rocksalt AB: 8 atoms (A at fcc sites, B at +a/2 x) */
kiln_status kiln_crystal_rocksalt(kiln_atoms **out, const char *A, const char *B, double a, kiln_error *err);
/* cubic perovskite ABX3: 5 atoms, A at 0, B at body centre, X at face centres */
kiln_status kiln_crystal_perovskite(kiln_atoms **out, const char *A, const char *B, const char *X,
                                    double a, kiln_error *err);
/* hexagonal BN monolayer (or any AB honeycomb): 2 atoms, a in-plane lattice constant,
 * vacuum c along z (pbc z still set, as ASE does for layered cells). */
kiln_status kiln_crystal_hbn(kiln_atoms **out, const char *A, const char *B, double a, double c,
                             kiln_error *err);
/* General: cell rows, n atoms with symbols and fractional positions. */
kiln_status kiln_crystal_from_cell(kiln_atoms **out, const double cell[3][3], size_t n,
                                   const char *const *symbols, const double (*frac)[3],
                                   kiln_error *err);
#endif
