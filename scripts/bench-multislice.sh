#!/bin/sh
# Multislice benchmark: SrTiO3 [100], 101.53 x 101.53 Å (26 x 26 cells), 154 slices of
# 1.9525 Å, 200 kV plane wave, float32, one thread; 1024^2 and 2048^2.
# Per grid it prints, measured in the same run:
#   bound  the bare FFTW bound (scripts/bench/fft_bound.c: psi *= T, forward 2-D FFT in
#          place, psi *= P, inverse FFT in place; FFTW_MEASURE plans)
#   prop   kiln_multislice_step per slice, the two distinct slice potentials prebuilt
#   full   kiln_multislice_run per slice: every slice's potential built on the fly by
#          kiln_slicer (the benchmark's "potentials included" number)
# next to abTEM 1.0.9's recorded numbers (../shared/bench/multislice/results_run2.jsonl,
# one thread, potentials included: 79 ms at 1024^2, 379 ms at 2048^2).
# usage: scripts/bench-multislice.sh [N...]          (default: 1024 2048)
# env:   QUICK=1 (20 slices instead of 154), SLICES=n, REPS (bound repetitions, 20),
#        PLANNER (kiln's FFTW planner: estimate | measure (default) | patient),
#        O (build dir for the library, default build/bench), CC (default cc)
set -e
cd "$(dirname "$0")/.."
O=${O:-build/bench}; CC=${CC:-cc}; REPS=${REPS:-20}; PLANNER=${PLANNER:-measure}
SLICES=${SLICES:-154}; [ "${QUICK:-0}" = 1 ] && SLICES=20
SIZES=${*:-"1024 2048"}
mkdir -p "$O"
make -s O="$O" "$O/lib/libkiln.a" >/dev/null
LIBS="-lfftw3f_omp -lfftw3_omp -lfftw3f -lfftw3 $(pkg-config --libs hdf5 2>/dev/null) -llapacke -lopenblas -lm"
$CC -O3 -march=native -o "$O/fft_bound" scripts/bench/fft_bound.c -lfftw3f -lm
if nm "$O/lib/libkiln.a" 2>/dev/null | grep -q ' T kiln_slicer_build$'; then
  $CC -O3 -march=native -fopenmp -Iinclude -o "$O/multislice_bench" scripts/bench/multislice_bench.c \
      "$O/lib/libkiln.a" $LIBS
else
  echo "note: kiln_slicer is not in the library yet; only the FFTW bound is measured"
fi
abtem_ms() { case $1 in 1024) echo 79;; 2048) echo 379;; *) echo "-";; esac; }
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k {print $2}'; }

printf '%-6s %-7s %10s %10s %10s %10s %12s %12s %10s\n' grid slices bound_ms prop_ms full_ms \
  build_ms prop/bound full/bound abTEM_ms
for N in $SIZES; do
  b=$(OMP_NUM_THREADS=1 "$O/fft_bound" "$N" "$REPS" measure)
  echo "$b" >> "$O/multislice.log"
  bound=$(field "$b" slice_ms)
  if [ -x "$O/multislice_bench" ]; then
    k=$(OMP_NUM_THREADS=1 KILN_FFTW_PLANNER=$PLANNER "$O/multislice_bench" "$N" "$SLICES")
    echo "$k" >> "$O/multislice.log"
    prop=$(field "$k" prop_ms); full=$(field "$k" full_ms); build=$(field "$k" build_ms)
  else
    prop=-; full=-; build=-
  fi
  awk -v N="$N" -v s="$SLICES" -v b="$bound" -v p="$prop" -v f="$full" -v bu="$build" \
      -v a="$(abtem_ms "$N")" 'BEGIN {
    rp = (p == "-") ? "-" : sprintf("%.2f", p / b); rf = (f == "-") ? "-" : sprintf("%.2f", f / b);
    printf "%-6s %-7s %10.2f %10s %10s %10s %12s %12s %10s\n", N "^2", s, b, p, f, bu, rp, rf, a }'
done
echo "(ms per slice per configuration, one thread; log in $O/multislice.log)"
