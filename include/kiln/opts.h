/* kiln/opts.h: a small tree of named options, the one way settings reach
 * styles (potentials, integrators, ...) without the core seeing Lua.
 * A node is a number, boolean, string or a list/table of child nodes; table
 * children have a key (string) or are positional (key == NULL, 0-based order).
 * The Lua binding converts a Lua table {cutoff=8, pairs={{"Ar","Ar",epsilon=..}}}
 * into this tree; C tests build it with the kiln_opts_add_* helpers. */
#ifndef KILN_OPTS_H
#define KILN_OPTS_H
#include <stddef.h>
#include "error.h"

typedef enum { KILN_OPT_NUM, KILN_OPT_BOOL, KILN_OPT_STR, KILN_OPT_TABLE } kiln_opt_kind;

typedef struct kiln_opts {
  char *key;                 /* NULL for positional entries and the root */
  kiln_opt_kind kind;
  double num;                /* NUM, BOOL (0/1) */
  char *str;                 /* STR */
  struct kiln_opts *child;   /* TABLE: children in insertion order */
  size_t nchild, cap;
  int used;                  /* set when looked up; lets styles report unknown keys */
} kiln_opts;

kiln_status kiln_opts_new(kiln_opts **out, kiln_error *err);  /* empty table */
void kiln_opts_free(kiln_opts *o);
/* Add children to a TABLE node (key may be NULL for positional). The returned
 * pointer of add_table is valid until the next add on the same parent. */
kiln_status kiln_opts_add_num(kiln_opts *t, const char *key, double v, kiln_error *err);
kiln_status kiln_opts_add_bool(kiln_opts *t, const char *key, int v, kiln_error *err);
kiln_status kiln_opts_add_str(kiln_opts *t, const char *key, const char *v, kiln_error *err);
kiln_status kiln_opts_add_table(kiln_opts *t, const char *key, kiln_opts **child, kiln_error *err);

/* Lookups (NULL / not found is not an error for the _get form). */
kiln_opts *kiln_opts_get(const kiln_opts *t, const char *key);
kiln_opts *kiln_opts_at(const kiln_opts *t, size_t i); /* positional child i (0-based) */
size_t kiln_opts_npos(const kiln_opts *t);             /* number of positional children */

/* Typed lookups. If the key is absent: *out = def and KILN_OK when has_def, else
 * KILN_EINVAL "missing option 'key'". Wrong type: KILN_EINVAL naming key and type.
 * `what` names the owner for messages, e.g. "potential lj". */
kiln_status kiln_opts_num(const kiln_opts *t, const char *what, const char *key, int has_def,
                          double def, double *out, kiln_error *err);
kiln_status kiln_opts_int(const kiln_opts *t, const char *what, const char *key, int has_def,
                          long def, long *out, kiln_error *err);
kiln_status kiln_opts_bool(const kiln_opts *t, const char *what, const char *key, int has_def,
                           int def, int *out, kiln_error *err);
/* *out points into the tree (or to def). */
kiln_status kiln_opts_str(const kiln_opts *t, const char *what, const char *key, int has_def,
                          const char *def, const char **out, kiln_error *err);
/* After parsing: KILN_EINVAL "potential lj: unknown option 'cutof'" for any keyed
 * child of t never looked up. */
kiln_status kiln_opts_check_unused(const kiln_opts *t, const char *what, kiln_error *err);
/* Before parsing: KILN_EINVAL "potential lj: unknown option 'cutof' (options: epsilon, sigma,
 * ...)" for a keyed child of t whose name is neither documented in `doc` (a style's option
 * text: one "name=..." per line) nor in `extra` (space-separated names, may be NULL).
 * Catches a misspelling before it surfaces as a missing required option. A doc naming no
 * options disables the check. Keys already marked used (consumed by a caller) are
 * skipped. Does not mark anything used. */
kiln_status kiln_opts_check_known(const kiln_opts *t, const char *what, const char *doc,
                                  const char *extra, kiln_error *err);
/* Set a value by dotted path, e.g. "pairs.1.epsilon" (used by the reference-data
 * test driver). An all-digits component is a 1-based positional index; missing
 * keyed and positional tables are created (positional ones in order). value is a
 * number if strtod consumes it fully, "true"/"false" a boolean, else a string;
 * an existing entry at the path is replaced. */
kiln_status kiln_opts_set_path(kiln_opts *root, const char *path, const char *value,
                               kiln_error *err);
#endif
