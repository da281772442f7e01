/* src/pot/triplet_file.h (private): reader for LAMMPS many-body potential files
 * whose entries are "e1 e2 e3 p1 ... pN" (sw, tersoff, and relatives).
 *
 * Entries are read as LAMMPS reads them: '#' starts a comment; an entry starts on
 * a non-blank line and continues over following lines until it has 3 + nparam
 * fields. An entry with more fields (or a file ending inside an entry) is an
 * error naming the file and line, as is a field that is not a number.
 *
 * Elements in use: the `elements` option if given, else every element named in the
 * file, in order of first appearance. The option is a list {"Si","C"}, a string
 * "Si C", or a table that also maps species symbols to file element names
 * {Si="Si(D)", "Ge"} (species Si uses the file's Si(D) entries, Ge its Ge entries).
 * Entries naming an element not in use are skipped. tf->idx[(i*nel + j)*nel + k]
 * is the entry of triplet (i, j, k), or -1 if the file has none.
 */
#ifndef KILN_POT_TRIPLET_FILE_H
#define KILN_POT_TRIPLET_FILE_H
#include "kiln/atoms.h"
#include "kiln/neigh.h"
#include "kiln/opts.h"

typedef struct kilni_triplet_file {
  char *path;                 /* as given */
  int nparam;                 /* numbers per entry (after the 3 element names) */
  int nel;                    /* elements in use */
  char el[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  int explicit_elements;      /* 1 if the elements option was given */
  int nalias;                 /* species symbol -> element, from keyed elements entries */
  char alias[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  int alias_el[KILN_MAX_SPECIES];
  int nentry;                 /* entries kept (all three elements in use) */
  double *val;                /* nentry x nparam */
  int *line;                  /* nentry: line where the entry starts */
  int *idx;                   /* nel^3 entry index or -1 */
} kilni_triplet_file;

/* Read `path`. `what` prefixes messages ("potential sw"); names[nparam] name the
 * numeric fields for messages. elements may be NULL. On failure tf is freed. */
kiln_status kilni_triplet_read(kilni_triplet_file *tf, const char *what, const char *path,
                               int nparam, const char *const *names, const kiln_opts *elements,
                               kiln_error *err);
void kilni_triplet_free(kilni_triplet_file *tf);

/* Element index of a species symbol (alias first, then by name), or -1. */
int kilni_triplet_element(const kilni_triplet_file *tf, const char *symbol);

/* Check that every triplet over the elements flagged in use[nel] has an entry;
 * else KILN_EFORMAT naming the file and the first missing triplet. */
kiln_status kilni_triplet_check(const kilni_triplet_file *tf, const char *what, const int *use,
                                kiln_error *err);

/* Error helper for parameter validation: "what: path:line: field 'name' ..." */
kiln_status kilni_triplet_bad(const kilni_triplet_file *tf, const char *what, int entry,
                              const char *field, const char *why, double value, kiln_error *err);

/* Elements flagged present in a configuration: use[e] = 1 if an atom of a species
 * mapped (through tmap) to element e exists. use has tf->nel slots. */
void kilni_triplet_present(const kilni_triplet_file *tf, const kiln_atoms *a,
                           const int32_t *tmap, int *use);

/* The common start of a style's init: the required `file` option, the file (with
 * the `elements` option), the check that no option is left unused and, when the
 * elements were given, kilni_triplet_check of every triplet (*checked = 1). On
 * failure tf is freed. */
kiln_status kilni_triplet_open(kilni_triplet_file *tf, int *checked, const char *what,
                               int nparam, const char *const *names, const kiln_opts *o,
                               kiln_error *err);

/* The common start of a style's compute: unless checked, kilni_triplet_check of the
 * elements present; *elem (capacity *elem_cap) grown and filled with the element of
 * every extended atom; *maxnb = the longest neighbor row of a local atom. */
kiln_status kilni_triplet_prepare(const kilni_triplet_file *tf, int checked, const char *what,
                                  const kiln_atoms *a, const kiln_neigh *nl,
                                  const int32_t *tmap, int32_t **elem, size_t *elem_cap,
                                  size_t *maxnb, kiln_error *err);
#endif
