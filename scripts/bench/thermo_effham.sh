#!/bin/sh
# Effective-Hamiltonian MD benchmark (issue 6): BaTiO3 (Nishimatsu 2010 parameters),
# kiln.md.langevin at 250 K, dt 2 fs, dipole-dipole and short range by FFT, inhomogeneous
# strain relaxed every step. Cost in ns per unit cell per MD step (md) and per force call
# (force) for 16^3, 24^3 and 32^3 cells on one core and on two, beside feram's recorded
# ~400 ns/cell/step on one thread (../shared/data/batio3-effective-hamiltonian/README.md,
# section 8; goal <= 200 ns on one core).
# usage: scripts/bench/thermo_effham.sh [L...]     (default: 16 24 32)
# env:   O (build dir, default build/bench), CC (default cc), THREADS (default "1 2"),
#        PLANNER (FFTW planner for the 3-D transforms: estimate | measure (default))
set -e
cd "$(dirname "$0")/../.."
O=${O:-build/bench}; CC=${CC:-cc}; THREADS=${THREADS:-"1 2"}; PLANNER=${PLANNER:-measure}
SIZES=${*:-"16 24 32"}
mkdir -p "$O"
make -s O="$O" "$O/lib/libkiln.a" >/dev/null
LIBS="-lfftw3f_omp -lfftw3_omp -lfftw3f -lfftw3 $(pkg-config --libs hdf5 2>/dev/null) -llapacke -lopenblas -lm"
$CC -O3 -march=native -fopenmp -Iinclude -o "$O/effham_bench" scripts/bench/effham_bench.c \
    "$O/lib/libkiln.a" $LIBS
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k {print $2}'; }
echo "effective Hamiltonian MD (BaTiO3), ns per cell per step; feram anchor ~400 ns (1 thread), goal <= 200"
printf '%-6s %-8s %-8s %10s %10s %10s\n' cells threads steps md_ns force_ns feram_ns
for L in $SIZES; do
  for t in $THREADS; do
    r=$(OMP_NUM_THREADS=$t KILN_FFTW_PLANNER=$PLANNER "$O/effham_bench" "$L")
    echo "$r" >> "$O/thermo_effham.log"
    ref=-; [ "$t" = 1 ] && ref=400
    printf '%-6s %-8s %-8s %10s %10s %10s\n' "${L}^3" "$t" "$(field "$r" steps)" \
      "$(field "$r" md_ns)" "$(field "$r" force_ns)" "$ref"
  done
done
