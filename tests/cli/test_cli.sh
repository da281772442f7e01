#!/bin/sh
# tests/cli/test_cli.sh: the kiln executable from the outside (options, scripts,
# error reporting, the line REPL on a pipe, help, plotting, Ctrl-C).
# usage: sh tests/cli/test_cli.sh [path/to/kiln]     (cwd = repo root)
# Prints "PASS cli:<name>", "FAIL cli:<name>: <why>" or "SKIP cli:<name>: <why>";
# exits 1 if anything failed.
KILN=${1:-bin/kiln}
case $KILN in /*) ;; *) KILN=$(pwd)/$KILN ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/kiln-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
pass() { echo "PASS cli:$1"; }
fail() { echo "FAIL cli:$1: $2"; fails=$((fails + 1)); }
skip() { echo "SKIP cli:$1: $2"; }
# check NAME EXPECTED ACTUAL
check() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$2], got [$3]"; fi; }
# contains NAME NEEDLE HAYSTACK
contains() {
  case $3 in *"$2"*) pass "$1" ;; *) fail "$1" "[$2] not in [$3]" ;; esac
}

if [ ! -x "$KILN" ]; then fail exists "$KILN is not an executable"; exit 1; fi

# -e, repeated -e, and the order of -e and -l
check e_print "2" "$("$KILN" -e 'print(1+1)')"
check e_repeat "6" "$("$KILN" -e 'x = 2' -e 'print(x * 3)')"
check e_attached "7" "$("$KILN" -e'print(7)')"
check l_module "function" "$("$KILN" -l string -e 'print(type(string.format))')"

# version and usage
out=$("$KILN" -v); rc=$?
contains version "kiln 0.1" "$out"; check version_rc 0 $rc
contains version_long "Lua 5.4" "$("$KILN" --version)"
out=$("$KILN" -h); rc=$?
contains usage "usage:" "$out"; check usage_rc 0 $rc
out=$("$KILN" -z 2>&1); rc=$?
contains bad_option "unrecognized option '-z'" "$out"; check bad_option_rc 1 $rc
out=$("$KILN" -e 2>&1); rc=$?
contains e_needs_arg "'-e' needs an argument" "$out"; check e_needs_arg_rc 1 $rc

# a script with arguments: arg table and ...
cat >"$T/args.lua" <<'EOF'
print(#arg, arg[0]:match("[^/]*$"), arg[1], arg[2], select("#", ...), ...)
print(arg[-1] ~= nil)
EOF
out=$("$KILN" "$T/args.lua" a "b c")
check script_args "2	args.lua	a	b c	2	a	b c
true" "$out"

# a failing script: exit status 1, "kiln: file:line: message" first, then a traceback
printf 'local x = 1\nlocal function f() error("boom " .. x) end\nf()\n' >"$T/fail.lua"
"$KILN" "$T/fail.lua" >"$T/out" 2>"$T/err"; rc=$?
check error_rc 1 $rc
check error_message "kiln: $T/fail.lua:2: boom 1" "$(head -n 1 "$T/err")"
contains error_traceback "stack traceback:" "$(cat "$T/err")"
check error_no_stdout "" "$(cat "$T/out")"
printf 'x = = 1\n' >"$T/syntax.lua"
out=$("$KILN" "$T/syntax.lua" 2>&1); rc=$?
contains syntax_error "kiln: $T/syntax.lua:1: unexpected symbol near '='" "$out"
check syntax_error_rc 1 $rc
out=$("$KILN" "$T/missing.lua" 2>&1); rc=$?
contains missing_script "cannot open $T/missing.lua" "$out"; check missing_script_rc 1 $rc
out=$("$KILN" -e 'error({code = 3})' 2>&1); rc=$?
contains error_object "(error object is a table value)" "$out"; check error_object_rc 1 $rc
out=$("$KILN" -e 'os.exit(3)'); check os_exit 3 $?

# standard input as a script
check stdin_script "-	x" "$(echo 'print(arg[0], ...)' | "$KILN" - x)"

# the REPL on a pipe: expressions print, statements run, no prompts
check pipe_print "2" "$(echo 'print(1+1)' | "$KILN")"
check pipe_eq "5" "$(printf '=2+3\n' | "$KILN" -i)"
check pipe_expr "5" "$(printf '2+3\n' | "$KILN")"
check pipe_multi_values "1	nil	x" "$(printf '1, nil, "x"\n' | "$KILN")"
check pipe_multiline "1
2" "$(printf 'for i=1,2 do\nprint(i)\nend\n' | "$KILN")"
check pipe_multiline_expr "30" "$(printf '=10 +\n20\n' | "$KILN")"
check pipe_table "{1, 2, x = 3}" "$(printf '{1,2,x=3}\n' | "$KILN")"
check pipe_nested "{a = {...}, b = {}, s = \"q\"}" "$(printf '{a={1},b={},s="q"}\n' | "$KILN")"
check pipe_state "42" "$(printf 'local_ok = 41\nlocal_ok + 1\n' | "$KILN")"
out=$(printf 'nosuch()\nprint("after")\n' | "$KILN" 2>"$T/err"); rc=$?
check pipe_error_continues "after" "$out"
contains pipe_error_message "kiln: stdin:1: attempt to call a nil value (global 'nosuch')" "$(cat "$T/err")"
check pipe_error_rc 1 $rc
# a REPL error raised by a C function called from the typed chunk: one line, no
# traceback; an error inside a function defined earlier keeps its traceback
err=$(printf 'error("x")\nkiln.crystal.fcc{symbol="Cu", a=3.6}:supercell(0)\n' | "$KILN" 2>&1)
check pipe_error_short "kiln: stdin:1: x
kiln: stdin:1: bad argument #1 to 'supercell' (positive integer expected)" "$err"
err=$(printf 'function f() error("deep") end\nf()\n' | "$KILN" 2>&1)
contains pipe_error_traceback "in function 'f'" "$err"
out=$(printf 'if true then\n' | "$KILN" 2>&1); rc=$?
contains pipe_eof_in_chunk "'end' expected" "$out"
check pipe_ok_rc 0 "$(printf 'x = 1\n' | "$KILN" >/dev/null; echo $?)"
out=$(printf '=2*4\n' | "$KILN" -i -e 'print("first")')
check i_after_e "first
8" "$out"
printf 'greeting = "hi"\n' >"$T/pre.lua"
check i_after_script "hi" "$(printf '=greeting\n' | "$KILN" -i "$T/pre.lua")"

# kiln is preloaded in the REPL; scripts require it (package.path from the executable)
check repl_kiln_global "table" "$(printf '=type(kiln)\n' | "$KILN")"
check script_require "0.1.0" "$("$KILN" -e 'print(require("kiln").version)')"
check script_no_global "nil" "$("$KILN" -e 'print(kiln)')"
mkdir -p "$T/mods/pkg"
echo 'return "from KILN_PATH"' >"$T/mods/mymod.lua"
echo 'return "pkg init"' >"$T/mods/pkg/init.lua"
check kiln_path "from KILN_PATH" "$(KILN_PATH="$T/mods" "$KILN" -e 'print((require "mymod"))')"
check kiln_path_init "pkg init" "$(KILN_PATH="/nonexistent:$T/mods" "$KILN" -e 'print((require "pkg"))')"

# help in the REPL
out=$(printf 'help(kiln.potential.lj)\n' | "$KILN" 2>&1)
contains help_lj_name "kiln.potential.lj" "$out"
contains help_lj_epsilon "epsilon=" "$out"
contains help_lj_cutoff "cutoff=" "$out"
out=$(printf 'help()\n' | "$KILN" 2>&1)
contains help_overview "Modules" "$out"
out=$(printf 'help(12345)\n' | "$KILN" 2>&1)
check help_unknown "no help for 12345" "$out"

# plotting: a PNG plus the .gp and .dat beside it
if "$KILN" -e 'os.exit(require("kiln.plot").available() and 0 or 1)'; then
  out=$("$KILN" -e "
    local plot = require 'kiln.plot'
    print(plot.lines{file='$T/e.png', xlabel='t', ylabel='E',
                     series={{x={1,2,3}, y={3,1,2}, label='E'}, {x={1,2,3}, y={5,6,7}, axis=2}}})" 2>&1)
  check plot_return "$T/e.png" "$out"
  if [ -f "$T/e.png" ] && [ -f "$T/e.gp" ] && [ -f "$T/e.dat" ]; then pass plot_files
  else fail plot_files "missing $(ls "$T" | tr '\n' ' ')"; fi
  check plot_png_magic "PNG" "$(dd if="$T/e.png" bs=1 skip=1 count=3 2>/dev/null)"
  # the kept script re-runs as it is
  rm -f "$T/e.png"
  (cd "$T" && gnuplot e.gp) && [ -f "$T/e.png" ] && pass plot_rerun || fail plot_rerun "gnuplot e.gp failed"
else
  skip plot "gnuplot not available"
fi

# Ctrl-C (SIGINT) stops a running Lua loop with "interrupted!" and exit status 1
"$KILN" -e 'while true do end' 2>"$T/err" &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid; rc=$?
check sigint_rc 1 $rc
contains sigint_message "kiln: interrupted!" "$(cat "$T/err")"

# ... and a C loop (md:run polls kiln_l_interrupted) at a step boundary, with its own message
cat >"$T/md.lua" <<'EOF'
local kiln = require "kiln"
local a = kiln.crystal.fcc{symbol = "Ar", a = 5.26}:supercell(2, 2, 2)
a:set_velocities{T = 50, seed = 1}
local pot = kiln.potential.lj{epsilon = 0.0104, sigma = 3.40, cutoff = 6.0}
io.stdout:write("running\n"); io.stdout:flush()
kiln.md.verlet{dt = 1.0}:run(a, pot, 1000000000, {thermo = 0, progress = false})
EOF
"$KILN" "$T/md.lua" >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q running "$T/out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
kill -INT $pid
wait $pid; rc=$?
check sigint_md_rc 1 $rc
contains sigint_md_message "md.lua:6: interrupted! (after step" "$(cat "$T/err")"

# the interactive REPL through a pseudo-terminal (history, completion, Ctrl-C)
if command -v python3 >/dev/null 2>&1; then
  python3 "$(dirname "$0")/repl_tty.py" "$KILN" || fails=$((fails + 1))
else
  skip repl_tty "python3 not available"
fi

[ $fails -eq 0 ]
