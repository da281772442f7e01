/* repl.c: the kiln read-eval-print loop.
 *
 * On a terminal: GNU readline (callback interface, so Ctrl-C at the prompt
 * clears the line instead of killing the process), history in ~/.kiln_history
 * (KILN_HISTORY overrides, empty disables), tab completion of globals, fields
 * after '.' and methods after ':' (through metatable __index tables), prompts
 * from _PROMPT/_PROMPT2. Elsewhere (a pipe or a file on stdin): the same loop
 * reading plain lines, without prompts.
 *
 * Each input is compiled as "return <line>" first (so bare expressions print
 * their value; "=expr" works too), then as a statement; a syntax error ending
 * in <eof> asks for another line (lua.c's multi-line continuation). Results
 * are printed with tostring, plain tables one level deep. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

#include "lua.h"
#include "lauxlib.h"

#include "cli.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define HISTORY_MAX 1000
#define PROMPT1 "kiln> "
#define PROMPT2 "...> "
#define CHUNKNAME "=stdin"

static lua_State *replL = NULL;      /* for the completion callback */
static const char *const printer_key = "kiln.repl.printer";
static const char *const completer_key = "kiln.repl.completer";

/* ---------------------------------------------------------------- Lua helpers */

/* Result printer: returns one string for all values (tab separated). Plain
 * tables (no __tostring/__name) are shown one level deep; long ones one
 * entry per line. */
static const char printer_src[] =
  "local keywords = {}\n"
  "for w in ('and break do else elseif end false for function goto if in local nil not or '..\n"
  "          'repeat return then true until while'):gmatch('%a+') do keywords[w] = true end\n"
  "local MAXITEMS = 40\n"
  "local function plain(v)\n"
  "  if type(v) ~= 'table' then return false end\n"
  "  local mt = debug.getmetatable(v)\n"
  "  return not (mt and (rawget(mt, '__tostring') or rawget(mt, '__name')))\n"
  "end\n"
  "local function quote(s) return (string.format('%q', s):gsub('\\\\\\n', '\\\\n')) end\n"
  "local function scalar(v)\n"
  "  if type(v) == 'string' then return quote(v) end\n"
  "  if plain(v) then return next(v) == nil and '{}' or '{...}' end\n"
  "  return tostring(v)\n"
  "end\n"
  "local rank = {number = 1, string = 2, boolean = 3}\n"
  "local function before(a, b)\n"
  "  local ra, rb = rank[type(a)] or 4, rank[type(b)] or 4\n"
  "  if ra ~= rb then return ra < rb end\n"
  "  if ra == 1 or ra == 2 then return a < b end\n"
  "  return tostring(a) < tostring(b)\n"
  "end\n"
  "local function keystr(k)\n"
  "  if type(k) == 'string' and k:match('^[%a_][%w_]*$') and not keywords[k] then return k end\n"
  "  return '[' .. scalar(k) .. ']'\n"
  "end\n"
  "local function tablestr(t)\n"
  "  local items, n = {}, rawlen(t)\n"
  "  local total = 0\n"
  "  for i = 1, n do\n"
  "    total = total + 1\n"
  "    if #items < MAXITEMS then items[#items + 1] = scalar(rawget(t, i)) end\n"
  "  end\n"
  "  local keys = {}\n"
  "  for k in next, t do\n"
  "    if not (math.type(k) == 'integer' and k >= 1 and k <= n) then keys[#keys + 1] = k end\n"
  "  end\n"
  "  table.sort(keys, before)\n"
  "  for _, k in ipairs(keys) do\n"
  "    total = total + 1\n"
  "    if #items < MAXITEMS then items[#items + 1] = keystr(k) .. ' = ' .. scalar(rawget(t, k)) end\n"
  "  end\n"
  "  if total == 0 then return '{}' end\n"
  "  local more = total > #items and ('... (' .. (total - #items) .. ' more)') or nil\n"
  "  local one = '{' .. table.concat(items, ', ') .. (more and (', ' .. more) or '') .. '}'\n"
  "  if #one <= 78 and not one:find('\\n') then return one end\n"
  "  return '{\\n  ' .. table.concat(items, ',\\n  ') .. ',' .. (more and ('\\n  ' .. more) or '') .. '\\n}'\n"
  "end\n"
  "return function(...)\n"
  "  local out = {}\n"
  "  for i = 1, select('#', ...) do\n"
  "    local v = (select(i, ...))\n"
  "    out[i] = plain(v) and tablestr(v) or tostring(v)\n"
  "  end\n"
  "  return table.concat(out, '\\t')\n"
  "end\n";

/* Completer: text -> sorted list of full replacements for text. */
static const char completer_src[] =
  "local keywords = {}\n"
  "for w in ('and break do else elseif end false for function goto if in local nil not or '..\n"
  "          'repeat return then true until while'):gmatch('%a+') do keywords[#keywords + 1] = w end\n"
  "local function callable(x)\n"
  "  if type(x) == 'function' then return true end\n"
  "  local mt = debug.getmetatable(x)\n"
  "  return mt ~= nil and rawget(mt, '__call') ~= nil\n"
  "end\n"
  "-- names of v: its own string keys (tables), then those of the metatable __index chain\n"
  "local function collect(v, methods, found, depth)\n"
  "  if depth > 8 then return end\n"
  "  if type(v) == 'table' then\n"
  "    for k, x in next, v do\n"
  "      if type(k) == 'string' and k:match('^[%a_][%w_]*$') and found[k] == nil\n"
  "         and (not methods or callable(x)) then found[k] = x end\n"
  "    end\n"
  "  end\n"
  "  local mt = debug.getmetatable(v)\n"
  "  if type(mt) == 'table' then\n"
  "    local idx = rawget(mt, '__index')\n"
  "    if type(idx) ~= 'table' then idx = rawget(mt, 'methods') end  -- kiln binding convention\n"
  "    if type(idx) == 'table' and idx ~= v then collect(idx, methods, found, depth + 1) end\n"
  "    local fields = rawget(mt, '__fields')                      -- computed fields, if listed\n"
  "    if type(fields) == 'table' and not methods then\n"
  "      for _, k in ipairs(fields) do if found[k] == nil then found[k] = true end end\n"
  "    end\n"
  "  end\n"
  "end\n"
  "return function(text)\n"
  "  local partial = text:match('[%a_][%w_]*$') or ''\n"
  "  local head = text:sub(1, #text - #partial)\n"
  "  local found, sep = {}, ''\n"
  "  if head == '' then\n"
  "    collect(_G, false, found, 0)\n"
  "    for _, w in ipairs(keywords) do if found[w] == nil then found[w] = false end end\n"
  "  else\n"
  "    sep = head:sub(-1)\n"
  "    local expr = head:sub(1, -2)\n"
  "    if (sep ~= '.' and sep ~= ':') or not expr:match('^[%a_][%w_]*$') and\n"
  "       not expr:match('^[%a_][%w_]*[%.%w_]*[%w_]$') then return {} end\n"
  "    local v = _G\n"
  "    for name in expr:gmatch('[^.]+') do\n"
  "      local ok, r = pcall(function() return v[name] end)\n"
  "      if not ok or r == nil then return {} end\n"
  "      v = r\n"
  "    end\n"
  "    collect(v, sep == ':', found, 0)\n"
  "  end\n"
  "  local out = {}\n"
  "  for k, x in pairs(found) do\n"
  "    if k:sub(1, #partial) == partial and (sep == '' or not k:match('^__')) then\n"
  "      out[#out + 1] = head .. k .. ((x ~= false and callable(x)) and '(' or '')\n"
  "    end\n"
  "  end\n"
  "  table.sort(out)\n"
  "  return out\n"
  "end\n";

/* Compile src, run it, store the function it returns in the registry. */
static int store_helper(lua_State *L, const char *src, const char *name, const char *key) {
  if (luaL_loadbuffer(L, src, strlen(src), name) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    kiln_cli_report(L, LUA_ERRRUN);
    return 0;
  }
  lua_setfield(L, LUA_REGISTRYINDEX, key);
  return 1;
}

/* ---------------------------------------------------------------- history */

static char histfile[PATH_MAX];
static int hist_save = 0;

static void history_open(void) {
  const char *env = getenv("KILN_HISTORY");
  const char *home = getenv("HOME");
  histfile[0] = '\0';
  if (env) snprintf(histfile, sizeof histfile, "%s", env);   /* "" disables */
  else if (home && *home) snprintf(histfile, sizeof histfile, "%s/.kiln_history", home);
  using_history();
  stifle_history(HISTORY_MAX);
  if (!histfile[0]) return;
  read_history(histfile);
  FILE *f = fopen(histfile, "a");              /* writable? (creates it) */
  if (f) { fclose(f); hist_save = 1; }
}

/* A chunk of several lines is stored as one line (joined with spaces) unless
 * a comment or a long string could change its meaning. */
static void history_add(const char *chunk) {
  if (chunk[strspn(chunk, " \t\n")] == '\0') return;
  char *s = strdup(chunk);
  if (!s) return;
  if (!strstr(s, "--") && !strstr(s, "[[") && !strstr(s, "[="))
    for (char *p = s; *p; p++)
      if (*p == '\n') *p = ' ';
  HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
  if (!(last && strcmp(last->line, s) == 0)) {
    add_history(s);
    if (hist_save && append_history(1, histfile) != 0) hist_save = 0;
  }
  free(s);
}

static void history_close(void) {
  if (hist_save) history_truncate_file(histfile, HISTORY_MAX);
}

/* ---------------------------------------------------------------- completion */

static char word_breaks[] = " \t\n\"'><=;+-*/%^~#{}()[],&|";

static char **complete(const char *text, int start, int end) {
  (void)end;
  rl_attempted_completion_over = 1;
  rl_completion_append_character = '\0';
  if (start > 0 && (rl_line_buffer[start - 1] == '"' || rl_line_buffer[start - 1] == '\'')) {
    rl_attempted_completion_over = 0;          /* inside a string: file names */
    rl_completion_append_character = rl_line_buffer[start - 1];
    return NULL;
  }
  lua_State *L = replL;
  if (!L) return NULL;
  int top = lua_gettop(L);
  char **m = NULL;
  lua_getfield(L, LUA_REGISTRYINDEX, completer_key);
  lua_pushstring(L, text);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    size_t n = (size_t)lua_rawlen(L, -1);
    if (n > 0 && (m = malloc((n + 2) * sizeof *m)) != NULL) {
      size_t k = 0, common = SIZE_MAX;
      for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        const char *s = lua_tostring(L, -1);
        m[++k] = strdup(s ? s : "");
        lua_pop(L, 1);
        size_t c = 0;
        while (m[k][c] && m[k][c] == m[1][c]) c++;
        if (c < common) common = c;
      }
      if (n == 1) { m[0] = m[1]; m[1] = NULL; }
      else {
        m[0] = strndup(m[1], common);
        m[n + 1] = NULL;
      }
    }
  }
  lua_settop(L, top);
  return m;
}

/* ---------------------------------------------------------------- reading */

static volatile sig_atomic_t prompt_sigint = 0;
static void prompt_action(int sig) { (void)sig; prompt_sigint = 1; }

static char *cb_line = NULL;
static int cb_done = 0;
static void on_line(char *line) {
  cb_line = line;
  cb_done = 1;
  rl_callback_handler_remove();
}

/* SIGINT stays blocked while readline runs and is let through only inside
 * pselect (with the mask in wait_mask), so a Ctrl-C is always noticed: either
 * in the wait below or in getc_fn, which readline uses to read each key. */
static sigset_t wait_mask;

static int getc_fn(FILE *f) {
  int fd = fileno(f);
  for (;;) {
    if (prompt_sigint) return EOF;             /* read_tty drops the line */
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    int n = pselect(fd + 1, &fds, NULL, NULL, NULL, &wait_mask);
    if (n < 0) {
      if (errno == EINTR) continue;
      return EOF;
    }
    unsigned char c;
    ssize_t k = read(fd, &c, 1);
    if (k == 1) return c;
    if (k == 0 || errno != EINTR) return EOF;
  }
}

/* Read one line with readline. Returns 1 (line in *out, malloc'ed), 0 (end
 * of input) or -1 (Ctrl-C: the line was dropped). */
static int read_tty(const char *prompt, char **out) {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &wait_mask);
  sigdelset(&wait_mask, SIGINT);
  prompt_sigint = 0;
  cb_done = 0;
  cb_line = NULL;
  rl_getc_function = getc_fn;
  rl_callback_handler_install(prompt, on_line);
  int fd = fileno(rl_instream ? rl_instream : stdin), r;
  for (;;) {
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    int n = cb_done ? 0 : pselect(fd + 1, &fds, NULL, NULL, NULL, &wait_mask);
    if (prompt_sigint) {                       /* Ctrl-C: drop the line */
      prompt_sigint = 0;
      free(cb_line);
      cb_line = NULL;
      rl_free_line_state();
      rl_callback_sigcleanup();
      rl_replace_line("", 0);
      rl_crlf();
      rl_callback_handler_remove();
      r = -1;
      break;
    }
    if (cb_done) { r = cb_line != NULL; break; }
    if (n < 0) {
      if (errno == EINTR) { rl_check_signals(); continue; }
      rl_callback_handler_remove();
      r = 0;
      break;
    }
    rl_callback_read_char();
  }
  sigprocmask(SIG_SETMASK, &wait_mask, NULL);
  *out = cb_line;
  return r;
}

/* Plain line reading (stdin is not a terminal). */
static int read_plain(char **out) {
  char *buf = NULL;
  size_t cap = 0;
  ssize_t n = getline(&buf, &cap, stdin);
  if (n < 0) { free(buf); *out = NULL; return 0; }
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
  *out = buf;
  return 1;
}

typedef struct repl {
  lua_State *L;
  int interactive;
  int failed;
} repl;

static const char *get_prompt(lua_State *L, int first, char *buf, size_t len) {
  lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
  const char *p = lua_isstring(L, -1) ? lua_tostring(L, -1) : (first ? PROMPT1 : PROMPT2);
  snprintf(buf, len, "%s", p);
  lua_pop(L, 1);
  return buf;
}

/* Push the next line. Returns 1, 0 (end of input) or -1 (interrupted). */
static int pushline(repl *R, int first) {
  char *line = NULL, prompt[256];
  int r = R->interactive ? read_tty(get_prompt(R->L, first, prompt, sizeof prompt), &line)
                         : read_plain(&line);
  if (r <= 0) return r;
  lua_pushstring(R->L, line);
  free(line);
  return 1;
}

/* A syntax error that ends at <eof>: the chunk goes on in the next line. */
static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    static const char mark[] = "<eof>";
    const size_t ml = sizeof mark - 1;
    if (msg && len >= ml && strcmp(msg + len - ml, mark) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

enum { LOAD_EOF = -1, LOAD_INTR = -2, LOAD_EMPTY = -3 };

/* Read and compile one chunk: on success the function is on the stack and
 * the status returned; LOAD_* for end of input, Ctrl-C or an empty line. */
static int loadline(repl *R) {
  lua_State *L = R->L;
  int r = pushline(R, 1);
  if (r == 0) return LOAD_EOF;
  if (r < 0) return LOAD_INTR;
  const char *line = lua_tostring(L, -1);
  if (line[strspn(line, " \t")] == '\0') { lua_pop(L, 1); return LOAD_EMPTY; }
  int eq = line[0] == '=';
  /* 1. as an expression */
  const char *expr = eq ? line + 1 : line;
  const char *ret = lua_pushfstring(L, "return %s;", expr);
  int status = luaL_loadbuffer(L, ret, strlen(ret), CHUNKNAME);
  if (status == LUA_OK) {
    lua_remove(L, -2);                           /* the "return" text */
    if (R->interactive) history_add(line);
    lua_remove(L, -2);                           /* the line */
    return status;
  }
  lua_pop(L, 2);                                 /* error message and "return" text */
  /* 2. as statements, reading more lines while incomplete */
  if (eq) {
    lua_pushfstring(L, "return %s", line + 1);
    lua_remove(L, -2);
  }
  for (;;) {
    size_t len;
    const char *chunk = lua_tolstring(L, -1, &len);
    status = luaL_loadbuffer(L, chunk, len, CHUNKNAME);
    if (!incomplete(L, status)) break;
    r = pushline(R, 0);
    if (r < 0) { lua_pop(L, 1); return LOAD_INTR; }
    if (r == 0) {                                /* end of input inside a chunk */
      status = luaL_loadbuffer(L, chunk, len, CHUNKNAME);
      break;
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
  if (R->interactive) {
    const char *chunk = lua_tostring(L, -2);
    if (eq && strncmp(chunk, "return ", 7) == 0) {
      lua_pushfstring(L, "=%s", chunk + 7);
      history_add(lua_tostring(L, -1));
      lua_pop(L, 1);
    } else history_add(chunk);
  }
  lua_remove(L, -2);                             /* the chunk text */
  return status;
}

/* Print the n values on top of the stack (and pop them). */
static void print_results(repl *R, int n) {
  lua_State *L = R->L;
  lua_getfield(L, LUA_REGISTRYINDEX, printer_key);
  if (!lua_isfunction(L, -1)) {                  /* no printer: plain tostring */
    lua_pop(L, 1);
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
  }
  lua_insert(L, -n - 1);
  int status = kiln_cli_docall(L, n, 1);
  if (status == LUA_OK) {
    if (lua_isstring(L, -1)) {
      size_t len;
      const char *s = lua_tolstring(L, -1, &len);
      fwrite(s, 1, len, stdout);
      fputc('\n', stdout);
    }
    lua_pop(L, 1);
  } else {
    kiln_cli_report_short(L, status);
    R->failed = 1;
  }
  fflush(stdout);
}

/* require name; on failure print a one-line warning (the REPL still works). */
static int require_quiet(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  int status = kiln_cli_docall(L, 1, 1);
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    size_t n = msg ? strcspn(msg, "\n") : 0;
    fflush(stdout);
    fprintf(stderr, "kiln: warning: require \"%s\" failed: %.*s\n", name, (int)n, msg ? msg : "");
    fflush(stderr);
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* Make `kiln` and `help` globals (a warning, not a failure, if missing). */
static void preload(lua_State *L) {
  int top = lua_gettop(L);
  if (lua_getglobal(L, "kiln") == LUA_TNIL && require_quiet(L, "kiln")) lua_setglobal(L, "kiln");
  lua_settop(L, top);
  if (lua_getglobal(L, "help") == LUA_TNIL) {
    if (lua_getglobal(L, "kiln") == LUA_TTABLE && lua_getfield(L, -1, "help") != LUA_TNIL)
      lua_setglobal(L, "help");
    else if (require_quiet(L, "kiln.help"))
      lua_setglobal(L, "help");
  }
  lua_settop(L, top);
}

int kiln_repl(lua_State *L, int interactive) {
  repl R = {L, interactive, 0};
  int base = lua_gettop(L);
  store_helper(L, printer_src, "=repl-printer", printer_key);
  store_helper(L, completer_src, "=repl-completer", completer_key);
  preload(L);
  struct sigaction sa, old;
  if (interactive) {
    replL = L;
    rl_readline_name = "kiln";
    rl_catch_signals = 0;                        /* Ctrl-C is ours (see read_tty) */
    rl_attempted_completion_function = complete;
    rl_completer_word_break_characters = word_breaks;
    history_open();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = prompt_action;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    fputs("help() lists the modules, Tab completes, Ctrl-D quits.\n", stdout);
    fflush(stdout);
  }
  for (;;) {
    lua_settop(L, base);
    int status = loadline(&R);
    if (status == LOAD_EOF) break;
    if (status == LOAD_INTR || status == LOAD_EMPTY) continue;
    if (status == LUA_OK) status = kiln_cli_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) {
      int n = lua_gettop(L) - base;
      if (n > 0) print_results(&R, n);
    } else {
      kiln_cli_report_short(L, status);
      R.failed = 1;
    }
  }
  lua_settop(L, base);
  if (interactive) {
    fputc('\n', stdout);
    fflush(stdout);
    history_close();
    sigaction(SIGINT, &old, NULL);
    replL = NULL;
  }
  return interactive ? 0 : R.failed;
}
