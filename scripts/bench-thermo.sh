#!/bin/sh
# Thermodynamics benchmarks (issue 6), one core unless said otherwise.
# usage: scripts/bench-thermo.sh [NSTEPS]     env: KILN (default bin/kiln), REPS (default 3)
#  pimd:   PIMD cost per bead-step relative to classical Langevin MD on the same system
#          (SW Si, 512 atoms, P = 8; goal <= 1.1x per bead); the fastest of REPS runs.
#  effham: scripts/bench/thermo_effham.sh, when present.
set -e
cd "$(dirname "$0")/.."
NSTEPS=${1:-100}; REPS=${REPS:-3}
KILN=${KILN:-bin/kiln}
[ -x "$KILN" ] || { echo "build kiln first (make)"; exit 1; }

echo "== pimd (SW Si 512 atoms, P = 8, $NSTEPS steps, one core; fastest of $REPS)"
best=""
for r in $(seq "$REPS"); do
  line=$(OMP_NUM_THREADS=1 "$KILN" scripts/bench/pimd.lua "$NSTEPS" 8)
  ratio=$(echo "$line" | awk '{for(i=1;i<=NF;i++) if($i=="ratio") print $(i+1)}')
  if [ -z "$best" ] || awk -v a="$ratio" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$ratio; bestline=$line; fi
done
echo "$bestline"
echo "(ratio = PIMD time per bead-step / classical Langevin time per step; goal <= 1.1)"

if [ -f scripts/bench/thermo_effham.sh ]; then
  echo "== effham"
  sh scripts/bench/thermo_effham.sh
fi
