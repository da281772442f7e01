#!/bin/sh
# kiln vs LAMMPS (Debian 12 `lmp`) on the anchor MD systems, side by side in one run.
# usage: scripts/bench-md.sh [NSTEPS] [systems...]     (default 200 steps; lj eam sw tersoff)
# env:   KILN (default bin/kiln), LMP (default lmp), DECKS (default ../shared/bench/lammps)
#        REPS (default 3): runs per side; the fastest run of each side is reported
# Prints atom-steps/s for both, the ratio kiln/LAMMPS (one core each), peak memory per
# atom, and kiln's speed-up with two OpenMP threads.
set -e
cd "$(dirname "$0")/.."
NSTEPS=${1:-200}; REPS=${REPS:-3}; shift 2>/dev/null || true
SYSTEMS=${*:-"lj eam sw tersoff"}
KILN=${KILN:-bin/kiln}; LMP=${LMP:-lmp}; DECKS=${DECKS:-../shared/bench/lammps}
OUT=${OUT:-build/bench}; mkdir -p "$OUT"
[ -x "$KILN" ] || { echo "build kiln first (make)"; exit 1; }
command -v "$LMP" >/dev/null || { echo "LAMMPS not found (make deps installs lammps)"; exit 1; }

# kiln's baseline resident memory (interpreter, libraries) is subtracted for per-atom memory
base_kb=$(/usr/bin/time -f %M "$KILN" -e 'local k = require "kiln"' 2>&1 >/dev/null | tail -1)

printf '%-8s %7s %6s | %12s %12s %6s | %9s %9s | %8s\n' system atoms steps \
  "LAMMPS a-s/s" "kiln a-s/s" ratio "LMP B/at" "kiln B/at" "kiln 2T"
for s in $SYSTEMS; do
  l_rate=0; k_rate=0; k2_rate=0
  for r in $(seq "$REPS"); do
    log="$OUT/log.lammps.$s.$r"
    OMP_NUM_THREADS=1 "$LMP" -in "$DECKS/in.$s" -var nsteps "$NSTEPS" -log "$log" -screen none
    l_loop=$(awk '/^Loop time of/ {print $4}' "$log")
    l_nat=$(awk '/^Loop time of/ {print $(NF-1)}' "$log")
    l_mem=$(awk '/memory allocation/ {print $(NF-1)}' "$log")   # MB, max over ranks
    l_rate=$(awk -v t="$l_loop" -v n="$l_nat" -v s="$NSTEPS" -v b="$l_rate" 'BEGIN{r=n*s/t; printf "%.0f", (r>b?r:b)}')
    k1=$(OMP_NUM_THREADS=1 /usr/bin/time -f "maxrss_kb %M" "$KILN" scripts/bench/md.lua "$s" "$NSTEPS" 2>"$OUT/kiln.$s.time")
    k_rate=$(echo "$k1" | awk -v b="$k_rate" '{for(i=1;i<=NF;i++) if($i=="atomsteps_per_s") r=$(i+1)} END{printf "%.0f", (r>b?r:b)}')
    k_nat=$(echo "$k1" | awk '{for(i=1;i<=NF;i++) if($i=="natoms") print $(i+1)}')
    k_kb=$(awk '/maxrss_kb/ {print $2}' "$OUT/kiln.$s.time")
    k2=$(OMP_NUM_THREADS=2 "$KILN" scripts/bench/md.lua "$s" "$NSTEPS")
    k2_rate=$(echo "$k2" | awk -v b="$k2_rate" '{for(i=1;i<=NF;i++) if($i=="atomsteps_per_s") r=$(i+1)} END{printf "%.0f", (r>b?r:b)}')
    echo "$k1" >> "$OUT/kiln.log"; echo "$k2" >> "$OUT/kiln.log"
  done
  awk -v s="$s" -v n="$k_nat" -v st="$NSTEPS" -v lr="$l_rate" -v kr="$k_rate" -v lm="$l_mem" \
      -v kkb="$k_kb" -v bkb="$base_kb" -v ln="$l_nat" -v k2="$k2_rate" 'BEGIN{
    printf "%-8s %7d %6d | %12.0f %12.0f %6.2f | %9.0f %9.0f | %7.2fx\n", s, n, st, lr, kr, kr/lr,
      lm*1048576/ln, (kkb-bkb)*1024/n, k2/kr }'
done
echo "(fastest of $REPS runs per side; a-s/s = atom-steps per second, one core each; B/at = peak memory per atom: LAMMPS' own"
echo " 'memory allocation' line, kiln's peak RSS minus the interpreter's baseline; 2T = kiln"
echo " two-thread speed-up over one thread)"
