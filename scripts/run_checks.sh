#!/bin/sh
# Run the test tiers and print "N passed, N failed" last.
# usage: scripts/run_checks.sh [OUTDIR] [c|lua|cli|ref|examples ...]
# (the LAMMPS reference tests, build/tests/test_ref, are part of the c tier; `ref` runs only them)
# Every test prints lines "PASS name" / "FAIL name"; a program that dies without
# reporting counts as one failure. KILN_SHORT=1 is set for examples.
O=${1:-.}; shift 2>/dev/null
tiers=${*:-"c lua cli examples"}
KILN=$O/bin/kiln
log=$(mktemp); pass=0; fail=0
run() {  # name, command...
  name=$1; shift
  out=$(mktemp)
  "$@" >"$out" 2>&1; rc=$?
  np=$(grep -c '^PASS ' "$out"); nf=$(grep -c '^FAIL ' "$out")
  if [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then nf=1; echo "FAIL $name (exit $rc)" >>"$out"; fi
  if [ "$rc" -eq 0 ] && [ "$np" -eq 0 ] && [ "$nf" -eq 0 ]; then np=1; fi
  if [ "$nf" -gt 0 ]; then echo "---- $name"; cat "$out"; else echo "ok   $name ($np)"; fi
  pass=$((pass+np)); fail=$((fail+nf)); rm -f "$out"
}
for t in $tiers; do
  case $t in
    c) for b in "$O"/build/tests/test_*; do [ -x "$b" ] && run "c/$(basename "$b")" "$b"; done ;;
    lua) [ -f tests/lua/run.lua ] && run lua "$KILN" tests/lua/run.lua ;;
    cli) for f in tests/cli/test_*.sh; do [ -f "$f" ] && run "cli/$(basename "$f")" sh "$f" "$KILN"; done ;;
    ref) [ -x "$O/build/tests/test_ref" ] && run ref "$O/build/tests/test_ref" ;;
    examples) mkdir -p "$O/build/examples"
              for f in examples/*.lua; do [ -f "$f" ] && \
                run "example/$(basename "$f")" env KILN_SHORT=1 KILN_OUTDIR="$O/build/examples" "$KILN" "$f"; done ;;
  esac
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
