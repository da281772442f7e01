/* lua/lkiln.h: helpers shared by the Lua binding files (lua/l_*.c).
 *
 * The binding converts arguments (1-based -> 0-based, Lua tables and kiln.Array
 * -> C arrays), calls the core, and turns a kiln_status into a Lua error. No
 * physics here.
 *
 * Userdata ("boxes"): every core object is wrapped in a kiln_l_box whose
 * metatable has a __name ("kiln.Atoms", ...). Boxes are created closed (p ==
 * NULL) and filled after the core constructor succeeds; __gc == __close frees p
 * and sets it to NULL. `busy` counts borrowers (a running md:run, a potential
 * sum holding its parts): close() on a busy object raises, and __gc/__close
 * leave it alone, instead of freeing memory still in use.
 */
#ifndef LKILN_H
#define LKILN_H
#include <signal.h>
#include <stddef.h>
#include "lua.h"
#include "lauxlib.h"
#include "kiln/kiln.h"

#define KILN_L_ATOMS "kiln.Atoms"
#define KILN_L_ARRAY "kiln.Array"
#define KILN_L_ARRAYROW "kiln.ArrayRow"
#define KILN_L_POT "kiln.Potential"
#define KILN_L_MD "kiln.Integrator"
#define KILN_L_TRAJ "kiln.Trajectory"
#define KILN_L_RNG "kiln.Rng"
#define KILN_L_CORR "kiln.Correlator"

/* Set by the SIGINT handler (REPL / main); the md progress callback returns
 * non-zero when it is set, then clears it. Defined in l_aux.c. */
extern volatile sig_atomic_t kiln_l_interrupted;

typedef struct kiln_l_box {
  void *p;   /* the core object, NULL when closed */
  int busy;  /* > 0 while borrowed by a running call */
} kiln_l_box;

/* Push a new closed box with metatable tname and nuv user values. */
kiln_l_box *kiln_l_newbox(lua_State *L, const char *tname, int nuv);
/* Check that arg i is an open box of type tname ("attempt to use a closed kiln.X"). */
kiln_l_box *kiln_l_checkbox(lua_State *L, int i, const char *tname);
/* The box at i if it is of type tname (open or closed), else NULL. */
kiln_l_box *kiln_l_testbox(lua_State *L, int i, const char *tname);
/* Raise if the box is busy ("cannot <what> a kiln.X while it is in use ..."). */
void kiln_l_checknotbusy(lua_State *L, kiln_l_box *b, const char *tname, const char *what);

/* Typed accessors */
kiln_atoms *kiln_l_checkatoms(lua_State *L, int i);
kiln_pot *kiln_l_checkpot(lua_State *L, int i);
kiln_traj *kiln_l_checktraj(lua_State *L, int i);

/* Type name for messages: the __name of a userdata's metatable, else the Lua type. */
const char *kiln_l_typename(lua_State *L, int i);
/* Raise "what: msg" when st != KILN_OK (err->msg passed as %s). */
void kiln_l_check(lua_State *L, kiln_status st, const kiln_error *err, const char *what);
/* The core numbers frames from 0; rewrite "index <idx0> " in err->msg (a core
 * range error for a frame index) as "index <idx1> " so users see their 1-based
 * index. No-op when the text is absent. */
void kiln_l_fix_index(kiln_error *err, long idx0, long idx1);
/* Raise an error with exactly "what: msg" (luaL_error adds the position). */
int kiln_l_fail(lua_State *L, const kiln_error *err, const char *what);

/* Options: convert the Lua table at idx into a kiln_opts tree. Pushes a box
 * owning the tree (freed by the GC), returns the tree. Keys listed in skip
 * (NULL-terminated, may be NULL) are left out. nil/none gives an empty tree.
 * kiln.Array values become positional tables of rows. */
kiln_opts *kiln_l_toopts(lua_State *L, int idx, const char *const *skip);
/* Raise "what: unknown option 'k'" for string keys of table idx not in allowed. */
void kiln_l_checkkeys(lua_State *L, int idx, const char *what, const char *const *allowed);
/* Optional fields of an options table (idx may be none/nil: default). */
double kiln_l_optnumfield(lua_State *L, int idx, const char *key, double def);
long kiln_l_optintfield(lua_State *L, int idx, const char *key, long def);
int kiln_l_optboolfield(lua_State *L, int idx, const char *key, int def);
const char *kiln_l_optstrfield(lua_State *L, int idx, const char *key, const char *def);

/* Arrays. A matrix argument is a kiln.Array or a table of rows (a table of
 * numbers is a column vector when cols == 1). Returns a pointer to rows*cols
 * doubles valid while the value pushed on the stack (the Array itself or a
 * scratch userdata) stays there. cols == 0 accepts any width and sets *cols_out.
 * rows_expected == 0 accepts any row count. Errors are argument errors at arg. */
const double *kiln_l_checkmatrix(lua_State *L, int arg, size_t rows_expected, size_t cols,
                                 size_t *rows_out, size_t *cols_out);
/* A 3x3 matrix (table or Array) at arg into m. */
void kiln_l_checkmat3(lua_State *L, int arg, double m[3][3]);
/* A 3-vector (table of 3 numbers, kiln.Array row or 3-element Array) at arg. */
void kiln_l_checkvec3(lua_State *L, int arg, double v[3]);
/* Push 3x3 as a table of 3 rows. */
void kiln_l_pushmat3(lua_State *L, const double m[3][3]);
/* Push a new owning kiln.Array copying rows*cols values (data may be NULL: zeros). */
double *kiln_l_pusharray(lua_State *L, const double *data, size_t rows, size_t cols);
/* Push a kiln.Array that takes over *a (an owning kiln_array) without copying
 * and sets *a = NULL; a non-owning *a (a view) is copied and left alone. If
 * pushing raises (out of memory), *a is untouched and still the caller's. */
void kiln_l_pusharray_take(lua_State *L, kiln_array **a);
/* Push a kiln.Array view into field `field` of the atoms box at parent index:
 * 0 positions, 1 velocities, 2 forces, 3 masses (n x 1). */
enum { KILN_L_VIEW_X, KILN_L_VIEW_V, KILN_L_VIEW_F, KILN_L_VIEW_MASS };
void kiln_l_pushview(lua_State *L, int parent, int field);
/* Data of the Array (or Array row) at i, checking views for staleness; NULL if
 * i is neither. */
double *kiln_l_testarray(lua_State *L, int i, size_t *rows, size_t *cols);

/* Observers for md:run. A maker turns the Lua value at idx into a C observer:
 * it returns 1 and fills o (fn, ud; every is set by the caller) if the value is
 * of its kind, 0 if not. It may push values (scratch userdata) onto the stack;
 * they stay alive for the whole run. It may set *busy to a box that must not be
 * closed during the run. Makers are listed in l_md.c; adding a kind of
 * observer is one function plus one line there. */
typedef struct kiln_l_runctx {
  lua_State *L;
  int atoms_idx;      /* stack index of the kiln.Atoms being integrated */
  int errslot;        /* stack index where an observer's Lua error value is stored */
  int lua_failed;     /* set by an observer whose Lua code raised */
} kiln_l_runctx;
typedef int (*kiln_l_observer_maker)(lua_State *L, int idx, kiln_l_runctx *ctx,
                                     kiln_observer *o, kiln_l_box **busy);
int kiln_l_traj_observer(lua_State *L, int idx, kiln_l_runctx *ctx, kiln_observer *o,
                         kiln_l_box **busy);
int kiln_l_corr_observer(lua_State *L, int idx, kiln_l_runctx *ctx, kiln_observer *o,
                         kiln_l_box **busy);
int kiln_l_dipole_observer(lua_State *L, int idx, kiln_l_runctx *ctx, kiln_observer *o,
                           kiln_l_box **busy);
int kiln_l_frozen_observer(lua_State *L, int idx, kiln_l_runctx *ctx, kiln_observer *o,
                           kiln_l_box **busy);

/* Progress line and Ctrl-C for long calls (md:run, pimd:run, correlator feeds): the core
 * polls kiln_l_progress_cb (ud = the kiln_l_progress) every step or frame; it returns
 * non-zero once after Ctrl-C (interrupted set) and, on a terminal, redraws
 * "  <unit> done/total (pct)  rate <unit>s/s  ETA" at most 4 times a second (total < 0:
 * unknown, no percentage or ETA). */
typedef struct kiln_l_progress {
  const char *unit;   /* "step", "frame" */
  int show;           /* wanted and stderr is a terminal */
  int shown;          /* a line is on screen */
  int interrupted;    /* stopped by Ctrl-C */
  double t0, tlast;
  long done, total;
} kiln_l_progress;
void kiln_l_progress_init(kiln_l_progress *p, const char *unit, int want);
int kiln_l_progress_cb(void *ud, long done, long total);
/* Erase the line (before printing something else, and at the end). */
void kiln_l_progress_clear(kiln_l_progress *p);

/* Small utilities */
/* Create the metatable tname with metamethods mm and a method table filled
 * with methods, set as __index unless mm has its own __index; leaves nothing on
 * the stack. The method table is also stored in the metatable as "methods". */
void kiln_l_newclass(lua_State *L, const char *tname, const luaL_Reg *mm, const luaL_Reg *methods);
/* Push the method table of class tname. */
void kiln_l_getmethods(lua_State *L, const char *tname);
/* Set __index of class tname to the closure index with the method table as upvalue 1
 * (for classes with computed fields besides their methods). */
void kiln_l_setindex(lua_State *L, const char *tname, lua_CFunction index);
/* Store the method table and the metatable of class tname in the table on top of the
 * stack, as fields "methods" and "metatable". */
void kiln_l_exportclass(lua_State *L, const char *tname);

/* Module openers (registered in package.preload by kiln_l_openlibs). */
int luaopen_kiln_c_array(lua_State *L);
int luaopen_kiln_c_ml(lua_State *L);
int luaopen_kiln_c_dipole(lua_State *L);
int luaopen_kiln_c_wave(lua_State *L);
int luaopen_kiln_c_pimd(lua_State *L);
int luaopen_kiln_c_cv(lua_State *L);
int luaopen_kiln_c_lattice(lua_State *L);
int luaopen_kiln_c_atoms(lua_State *L);
int luaopen_kiln_c_crystal(lua_State *L);
int luaopen_kiln_c_potential(lua_State *L);
int luaopen_kiln_c_md(lua_State *L);
int luaopen_kiln_c_io(lua_State *L);
int luaopen_kiln_c_traj(lua_State *L);
int luaopen_kiln_c_units(lua_State *L);
int luaopen_kiln_c_rng(lua_State *L);
int luaopen_kiln_c_corr(lua_State *L);
int luaopen_kiln_c_qpoints(lua_State *L);
int luaopen_kiln_c_phonons(lua_State *L);
/* Register every luaopen_kiln_c_* in package.preload["kiln.c.<name>"]. Call
 * after luaL_openlibs. Does not change package.path. */
void kiln_l_openlibs(lua_State *L);
#endif
