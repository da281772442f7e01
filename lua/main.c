/* main.c: the kiln executable.
 *
 *   kiln                      REPL (a line loop without prompts when stdin is not a terminal)
 *   kiln script.lua [args]    run a script; args in the global `arg` and in `...`
 *   kiln -e 'code' ...        run a string (may repeat; runs before the script)
 *   kiln -l name              require a module into the global `name`
 *   kiln -i script.lua        run the script, then stay in the REPL
 *   kiln -                    run standard input as a script
 *   kiln -v | --version, kiln -h | --help
 *
 * Structure of lua.c: everything runs inside a protected main (pmain), chunks
 * run through docall with a traceback message handler, errors are printed as
 * "kiln: script.lua:12: message" and make the exit status 1. Ctrl-C while a
 * chunk runs sets kiln_l_interrupted (C loops such as md:run poll it and stop
 * at a step boundary) and a Lua hook that raises "interrupted!" in Lua code. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "kiln/kiln.h"
#include "lkiln.h"
#include "cli.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

static const char *progname = "kiln";

/* ---------------------------------------------------------------- interrupts */

static lua_State *globalL = NULL;

/* Hook set by the signal handler: the next Lua event raises the error. */
static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* SIGINT while a chunk runs. lua_sethook is safe in a signal handler. The
 * default action is restored, so a second Ctrl-C kills a process stuck in
 * a loop that polls neither the flag nor the hook.
 * Only a count hook (every Lua instruction): unlike a call hook it does not
 * fire when the message handler is called for the error a C loop raises on
 * its own ("interrupted! (after step 1200 of 5000)" from md:run), so that
 * message survives; Lua code still stops at its next instruction. */
static void laction(int sig) {
  signal(sig, SIG_DFL);
  kiln_l_interrupted = 1;
  if (globalL) lua_sethook(globalL, lstop, LUA_MASKCOUNT, 1);
}

/* Message handler: add a traceback to string messages; use __tostring for
 * other error objects. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;  /* the object's own text, no traceback */
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int kiln_cli_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = laction;
  sigemptyset(&sa.sa_mask);
  globalL = L;
  kiln_l_interrupted = 0;
  sigaction(SIGINT, &sa, &old);
  int status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  /* A Ctrl-C that arrived after the last Lua instruction would leave the hook
   * armed and interrupt the next chunk: disarm it. */
  if (lua_gethook(L) == lstop) lua_sethook(L, NULL, 0, 0);
  kiln_l_interrupted = 0;
  lua_remove(L, base);
  return status;
}

static void print_error(const char *msg) {
  fflush(stdout);
  fprintf(stderr, "%s: %s\n", progname, msg);
  fflush(stderr);
}

int kiln_cli_report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    print_error(msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

static int has(const char *s, size_t n, const char *needle) {
  size_t m = strlen(needle);
  for (size_t k = 0; k + m <= n; k++)
    if (memcmp(s + k, needle, m) == 0) return 1;
  return 0;
}

/* A traceback frame worth showing in the REPL: Lua code other than the
 * interactive chunk itself; not C functions (the one that raised, md:run,
 * pcall), not the wrappers of the kiln stdlib that re-raise C errors. */
static int interesting_frame(const char *s, size_t n) {
  while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
  if (n == 0) return 0;
  if (n >= 4 && memcmp(s, "[C]:", 4) == 0) return 0;
  if (n >= 5 && memcmp(s, "(...", 4) == 0) return 0;   /* (...tail calls...) */
  if (has(s, n, "kiln/init.lua:")) return 0;
  if (n >= 5 && memcmp(s, "stdin", 5) == 0)
    for (size_t k = 0; k + 13 <= n; k++)
      if (memcmp(s + k, "in main chunk", 13) == 0) return 0;
  return 1;
}

int kiln_cli_report_short(lua_State *L, int status) {
  if (status == LUA_OK) return status;
  const char *msg = lua_tostring(L, -1);
  if (msg) {
    const char *tb = strstr(msg, "\nstack traceback:\n");
    if (tb) {
      int keep = 0;
      const char *p = tb + 18;
      while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (interesting_frame(p, n)) keep = 1;
        p += n + (e != NULL);
      }
      if (!keep) {
        lua_pushlstring(L, msg, (size_t)(tb - msg));
        lua_remove(L, -2);
      }
    }
  }
  return kiln_cli_report(L, status);
}

/* ---------------------------------------------------------------- usage */

static void print_version(void) {
  printf("kiln %s (%s)\n", KILN_VERSION, LUA_RELEASE);
  fflush(stdout);
}

static void print_usage(FILE *f) {
  fprintf(f,
          "usage: %s [options] [script [args]]\n"
          "Available options are:\n"
          "  -e code    run the string 'code' (may repeat)\n"
          "  -l name    require library 'name' into global 'name'\n"
          "  -i         enter the REPL after running the script\n"
          "  -v         show version information (also --version)\n"
          "  -h         show this help (also --help)\n"
          "  --         stop handling options\n"
          "  -          run standard input as a script and stop handling options\n"
          "Without a script or -e, kiln starts the REPL (help() there lists the modules).\n"
          "Environment: KILN_PATH (extra module directories, ':'-separated),\n"
          "             KILN_HISTORY (REPL history file, default ~/.kiln_history).\n",
          progname);
  fflush(f);
}

/* ---------------------------------------------------------------- arguments */

enum { HAS_E = 1, HAS_I = 2, HAS_V = 4, HAS_H = 8 };

/* Scan options; returns the flags, sets *script to the index of the script
 * (argc if none), or returns -1 with *script = index of the bad option. */
static int collectargs(char **argv, int argc, int *script) {
  int flags = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    *script = i;
    if (a[0] != '-') return flags;               /* the script */
    if (strcmp(a, "-") == 0) return flags;       /* stdin as the script */
    if (strcmp(a, "--") == 0) { *script = i + 1; return flags; }
    if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) { flags |= HAS_V; continue; }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { flags |= HAS_H; continue; }
    if (strcmp(a, "-i") == 0) { flags |= HAS_I | HAS_V; continue; }
    if (a[1] == 'e' || a[1] == 'l') {
      if (a[1] == 'e') flags |= HAS_E;
      if (a[2] == '\0') {                        /* argument in the next word */
        i++;
        if (i >= argc || argv[i][0] == '-') { *script = i - 1; return -1; }
      }
      continue;
    }
    return -1;                                   /* unknown option */
  }
  *script = argc;
  return flags;
}

/* arg = {[-k] = interpreter and options, [0] = script, [1..] = script args} */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0;               /* no script: arg[0] = the program */
  lua_createtable(L, argc - script - 1 > 0 ? argc - script - 1 : 0, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = kiln_cli_docall(L, 0, 0);
  return kiln_cli_report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* require 'name' into global 'name' (the part before any '=' names the global) */
static int dolibrary(lua_State *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  const char *mod = eq ? eq + 1 : spec;
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  int status = kiln_cli_docall(L, 1, 1);
  if (status == LUA_OK) {
    if (eq) lua_pushlstring(L, spec, (size_t)(eq - spec));
    else {
      const char *dot = strrchr(mod, '.');
      lua_pushstring(L, dot ? dot + 1 : mod);
    }
    lua_insert(L, -2);
    lua_setglobal(L, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  return kiln_cli_report(L, status);
}

/* Run -e and -l in the order given. */
static int runargs(lua_State *L, char **argv, int n) {
  for (int i = 1; i < n; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || (a[1] != 'e' && a[1] != 'l')) continue;
    const char *extra = a[2] ? a + 2 : argv[++i];
    int status = a[1] == 'e' ? dostring(L, extra, "=(command line)") : dolibrary(L, extra);
    if (status != LUA_OK) return 0;
  }
  return 1;
}

static int handle_script(lua_State *L, char **argv) {
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;  /* stdin */
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    lua_getglobal(L, "arg");
    if (lua_type(L, -1) != LUA_TTABLE) return luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
    lua_remove(L, -n - 1);
    status = kiln_cli_docall(L, n, 0);
  }
  return kiln_cli_report(L, status);
}

/* ---------------------------------------------------------------- package.path */

static int has_stdlib(const char *dir) {
  char probe[PATH_MAX + 32];
  snprintf(probe, sizeof probe, "%s/kiln/init.lua", dir);
  return access(probe, R_OK) == 0;
}

static void push_dir(lua_State *L, const char *dir, int *n) {
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", dir, dir);
  (*n)++;
}

/* package.path = <exe>/../stdlib (or the source tree above an O=build/x tree),
 * KILN_STDLIB_DIR, KILN_PATH, then the default path. */
static void set_path(lua_State *L) {
  int n = 0;
  char exe[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len > 0) {
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = '\0';                        /* exe = the bin directory */
      static const char *const rel[] = {"/../stdlib", "/../../../stdlib", "/../share/kiln/stdlib"};
      char cand[PATH_MAX + 32], real[PATH_MAX];
      const char *found = NULL;
      for (size_t k = 0; k < sizeof rel / sizeof rel[0] && !found; k++) {
        snprintf(cand, sizeof cand, "%s%s", exe, rel[k]);
        if (realpath(cand, real) && has_stdlib(real)) found = real;
      }
      if (!found) { snprintf(cand, sizeof cand, "%s%s", exe, rel[0]); found = cand; }
      push_dir(L, found, &n);
    }
  }
#ifdef KILN_STDLIB_DIR
  push_dir(L, KILN_STDLIB_DIR, &n);
#endif
  const char *env = getenv("KILN_PATH");
  if (env && *env) {
    const char *p = env;
    while (*p) {
      size_t k = strcspn(p, ":;");
      if (k > 0) {
        lua_pushlstring(L, p, k);
        const char *entry = lua_tostring(L, -1);
        if (strchr(entry, '?')) { lua_pushliteral(L, ";"); lua_concat(L, 2); n++; }
        else { push_dir(L, entry, &n); lua_remove(L, -2); }
      }
      p += k;
      if (*p) p++;
    }
  }
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_remove(L, -2);
  if (!lua_isstring(L, -1)) { lua_pop(L, 1); lua_pushliteral(L, ""); }
  lua_concat(L, n + 1);
  lua_getglobal(L, "package");
  lua_insert(L, -2);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
}

/* ---------------------------------------------------------------- main */

static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script;
  int args = collectargs(argv, argc, &script);
  if (args < 0) {
    const char *bad = argv[script];
    if (bad[1] == 'e' || bad[1] == 'l') fprintf(stderr, "%s: '%s' needs an argument\n", progname, bad);
    else fprintf(stderr, "%s: unrecognized option '%s'\n", progname, bad);
    print_usage(stderr);
    return 0;
  }
  if (args & HAS_H) { print_usage(stdout); lua_pushboolean(L, 1); return 1; }
  luaL_checkversion(L);
  luaL_openlibs(L);
  kiln_l_openlibs(L);
  set_path(L);
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  int tty = isatty(STDIN_FILENO);
  if ((args & HAS_V) && !((args & HAS_I) && !tty)) print_version();
  if (!runargs(L, argv, script)) return 0;
  if (script < argc && handle_script(L, argv + script) != LUA_OK) return 0;
  int fail = 0;
  if (args & HAS_I) fail = kiln_repl(L, tty);
  else if (script == argc && !(args & (HAS_E | HAS_V))) {
    if (tty) print_version();
    fail = kiln_repl(L, tty);
  }
  lua_pushboolean(L, !fail);
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int result = lua_toboolean(L, -1);
  kiln_cli_report(L, status);
  fflush(stdout);
  lua_close(L);
  return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
