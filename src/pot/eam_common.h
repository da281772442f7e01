/* src/pot/eam_common.h: private, shared by the EAM styles (pot_eam.c funcfl,
 * pot_eam_alloy.c setfl). Tables are brought to LAMMPS's internal form
 * (pair_eam: file2array + array2spline) and evaluated with its cubic
 * "7-coefficient" interpolation, so results agree with LAMMPS to rounding.
 *
 * Grid convention (as LAMMPS): 1-based tables f[1..n] on x = (m-1)*delta.
 * Spline row m holds c[0..6]: value = ((c3 p + c4) p + c5) p + c6 and
 * derivative = (c0 p + c1) p + c2 (already divided by delta), 0 <= p <= 1. */
#ifndef KILN_POT_EAM_COMMON_H
#define KILN_POT_EAM_COMMON_H
#include <stdio.h>
#include "kiln/potential.h"

/* ---- a line/field-tracking reader for potential files ---- */
typedef struct eam_reader {
  FILE *fp;
  const char *path;
  const char *what;   /* "potential eam" */
  char *line;         /* current line (tokens point into it) */
  size_t cap;
  long lineno;
  char *tok[64];
  int ntok;           /* tokens on the current line (capped at 64) */
} eam_reader;

kiln_status eam_rd_open(eam_reader *rd, const char *path, const char *what, kiln_error *err);
void eam_rd_close(eam_reader *rd);
/* Read one raw line (header comment); error at end of file. */
kiln_status eam_rd_skip(eam_reader *rd, const char *desc, kiln_error *err);
/* Read the next non-blank line ('#' starts a comment) with >= nmin fields. */
kiln_status eam_rd_words(eam_reader *rd, int nmin, const char *desc, kiln_error *err);
/* Field k (0-based) of the current line as a number / integer. */
kiln_status eam_rd_double(eam_reader *rd, int k, const char *desc, double *out, kiln_error *err);
kiln_status eam_rd_int(eam_reader *rd, int k, const char *desc, long *out, kiln_error *err);
/* n numbers spread over as many lines as needed (surplus fields on the last
 * line are ignored, as LAMMPS does). */
kiln_status eam_rd_values(eam_reader *rd, long n, double *out, const char *desc,
                          kiln_error *err);

/* ---- tables and evaluation ---- */
typedef struct eam_pot {
  const char *what;         /* "potential eam" / "potential eam/alloy" */
  int nel;                  /* elements (files for funcfl) */
  char **names;             /* nel element names */
  int *active;              /* nel: 1 if species may map to it */
  int nrho, nr;
  double drho, dr, rdrho, rdr, rhomax, cut, cutsq;
  double *frho;             /* nel x (nrho+1) x 7 spline rows */
  double *t1;               /* nel*nel x (nr+1) x 8: pass 1, [rho_b value | rho_a value] */
  double *t2;               /* nel*nel x (nr+1) x 16: pass 2, [rho_b' | rho_a' | z2' | z2] */
  /* scratch, grown on demand (not in hot loops) */
  size_t cap;
  int cap_thr;
  int32_t *elem;            /* n+ng element index per extended atom */
  double *rho, *fp;         /* n+ng */
  double *rhot;             /* (cap_thr-1) x cap per-thread densities */
  /* pairs inside the cutoff found in pass 1, reused by pass 2: atom i's are
   * cj/cr[cbeg[i] .. cbeg[i]+cnt[i]) (neighbor index, distance); a thread's atoms
   * are stored compactly from the list offset of the first atom of its chunk */
  int32_t *cj;              /* capacity cpair_cap */
  double *cr;
  size_t cpair_cap;
  size_t *cbeg;             /* capacity cap_n */
  int32_t *cnt;
  size_t cap_n;
} eam_pot;

/* Allocate a pot with nel elements (names/active zeroed). */
kiln_status eam_alloc(eam_pot **out, const char *what, int nel, kiln_error *err);
void eam_free(void *state);
/* LAMMPS interpolate(): spline[(n+1)*7] from f[1..n] on spacing delta. */
void eam_spline(int n, double delta, const double *f, double *spline);
/* From LAMMPS-grid arrays (1-based rows of length nrho+1 / nr+1):
 * frho[nel], rhor[nel], z2r[nel*(nel+1)/2] (pair (i>=j) at i*(i+1)/2+j),
 * with p->nrho, nr, drho, dr, rhomax, cut set: build all splines. */
kiln_status eam_finish(eam_pot *p, double *const *frho, double *const *rhor,
                       double *const *z2r, kiln_error *err);
/* nrows zeroed rows of n+1 doubles (1-based tables f[1..n]); NULL when out of memory. */
double **eam_rows(long nrows, long n);
/* Free eam_rows' result (NULL allowed). */
void eam_free_rows(double **rows, long nrows);
int eam_map_species(const void *state, const char *symbol);
kiln_status eam_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                        kiln_pot_work *w, kiln_error *err);
/* Parse an optional list option `key` of strings; *n = count (0 if absent). A
 * plain string is one entry, or, when buf is given, whitespace-separated entries
 * copied into buf ("Cu Ni"). */
kiln_status eam_opt_strings(const kiln_opts *o, const char *what, const char *key,
                            const char **out, int max, int *n, char *buf, size_t bufsize,
                            kiln_error *err);
#endif
