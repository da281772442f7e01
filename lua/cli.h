/* cli.h: private interface between main.c (the kiln executable) and repl.c
 * (the read-eval-print loop). Not part of the binding API. */
#ifndef KILN_CLI_H
#define KILN_CLI_H
#include "lua.h"

/* Call the function below narg arguments on the stack in protected mode with
 * a traceback message handler, while Ctrl-C interrupts it (sets
 * kiln_l_interrupted and a Lua hook). Returns the lua_pcall status; on error
 * the message (with traceback) is left on the stack. */
int kiln_cli_docall(lua_State *L, int narg, int nres);

/* If status is not LUA_OK, print the message on top of the stack to stderr as
 * "kiln: <message>" and pop it. Returns status. */
int kiln_cli_report(lua_State *L, int status);

/* Same as kiln_cli_report, but drops the traceback when it only names the
 * interactive chunk itself (the REPL does not need "in main chunk"). */
int kiln_cli_report_short(lua_State *L, int status);

/* Run the read-eval-print loop until end of input. interactive != 0: readline
 * with prompts, history and completion; 0: read lines from stdin without
 * prompts (a pipe or a file). Returns 0, or 1 if any chunk failed in
 * non-interactive mode. */
int kiln_repl(lua_State *L, int interactive);

#endif
