#!/bin/sh
# S(q,w) benchmark: kiln against dynasor 2.2 on the setup of ../shared/bench/dynasor (4096-atom
# Si Stillinger-Weber at 300 K, 2001 frames every 5 fs, 100 q-points on G-X-K-G-L replicated
# by axis permutations and sign patterns, window 500).
# usage: scripts/bench-sqw.sh [OUTDIR]                 (default build/bench-sqw)
# env:   KILN (default bin/kiln), LMP (default lmp), DYN (default ../shared/bench/dynasor)
#        BENCH_FRAMES (default 2001 = all; e.g. 201 for a quick run), BENCH_NQ (100),
#        BENCH_WINDOW (500), BENCH_NVT_STEPS (5000), BENCH_ISTEP (frames between the time
#        origins of the incoherent part; default: the sqw style's), THREADS (OpenMP threads, default 1),
#        SKIP_INSITU=1 (skip the in-situ MD part), DYNASOR_PATH (a dynasor 2.x source tree:
#        then ../shared/bench/dynasor/time_dynasor_sqw.py runs side by side)
# Steps: (1) the LAMMPS trajectory (skipped when the dump exists), (2) kiln reading it and
# computing coherent S(q,w): seconds per stage and ns per atom*q-point*frame for rho(q,t),
# (3) the same with the incoherent part, (4) the same in situ during kiln's own MD (MD alone
# vs MD + correlator), (5) ratios against dynasor's recorded CPU times.
set -e
cd "$(dirname "$0")/.."
OUT=${1:-${OUT:-build/bench-sqw}}
KILN=${KILN:-bin/kiln}; LMP=${LMP:-lmp}; DYN=${DYN:-../shared/bench/dynasor}
THREADS=${THREADS:-1}
BENCH_FRAMES=${BENCH_FRAMES:-2001}; BENCH_NQ=${BENCH_NQ:-100}; BENCH_WINDOW=${BENCH_WINDOW:-500}
export BENCH_FRAMES BENCH_NQ BENCH_WINDOW BENCH_ISTEP
[ -x "$KILN" ] || { echo "build kiln first (make), or set KILN"; exit 1; }
DYN=$(cd "$DYN" && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
DUMP=$OUT/si_sw_4096.dump
TIMEFMT='%e s wall, %U s user, %M kB max RSS'

# RESULT-line value: val KEY "LINE"
val() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# a number from dynasor's recorded JSON: jnum KEY FILE
jnum() { sed -n "s/.*\"$1\": *\([0-9.eE+-]*\).*/\1/p" "$2" | head -1; }

echo "== (1) trajectory: LAMMPS, $DYN/in.si_sw_traj"
if [ -s "$DUMP" ]; then
  echo "   $DUMP exists ($(du -m "$DUMP" | cut -f1) MiB), not regenerated"
  if [ -s "$OUT/lmp.time" ]; then
    if grep -q Elapsed "$OUT/lmp.time"; then  # /usr/bin/time -v output (run_bench.sh)
      echo "   LAMMPS took:$(grep -E 'Elapsed|User time' "$OUT/lmp.time" | sed 's/^[[:space:]]*/ /' | tr '\n' ';')"
    else
      echo "   LAMMPS took: $(grep -v '^Command' "$OUT/lmp.time")"
    fi
  fi
else
  command -v "$LMP" >/dev/null || { echo "LAMMPS not found (make deps installs lammps)"; exit 1; }
  (cd "$OUT" && OMP_NUM_THREADS=1 /usr/bin/time -f "$TIMEFMT" -o lmp.time "$LMP" -in "$DYN/in.si_sw_traj" \
     -var potdir /usr/share/lammps/potentials -var out "$OUT" -log "$OUT/log.lammps" -screen none)
  echo "   LAMMPS (1 rank): $(grep -v '^Command' "$OUT/lmp.time"); dump $(du -m "$DUMP" | cut -f1) MiB"
fi
cat /proc/loadavg 2>/dev/null | awk '{print "   load average now: " $1 " " $2 " " $3 " (wall times suffer on a shared machine; CPU times do not)"}'

echo "== (2) kiln offline, coherent (OMP_NUM_THREADS=$THREADS, $BENCH_FRAMES frames)"
OMP_NUM_THREADS=$THREADS "$KILN" scripts/bench/sqw.lua offline "$DUMP" | tee "$OUT/kiln-coherent.txt"
coh=$(grep '^RESULT' "$OUT/kiln-coherent.txt")

echo "== (3) kiln offline, coherent + incoherent"
OMP_NUM_THREADS=$THREADS "$KILN" scripts/bench/sqw.lua incoherent "$DUMP" | tee "$OUT/kiln-incoherent.txt"
inc=$(grep '^RESULT' "$OUT/kiln-incoherent.txt")

ins=""
if [ -z "$SKIP_INSITU" ]; then
  echo "== (4) kiln in situ: its own MD with the deck's protocol, correlator every 5 steps"
  OMP_NUM_THREADS=$THREADS "$KILN" scripts/bench/sqw.lua insitu | tee "$OUT/kiln-insitu.txt"
  ins=$(grep '^RESULT' "$OUT/kiln-insitu.txt")
else
  echo "== (4) in situ: skipped (SKIP_INSITU)"
fi

echo "== (5) against dynasor 2.2 (recorded CPU times, $DYN/results; 2-core VM, shared)"
d_total=$(jnum cpu_compute_dynamic_structure_factors_s "$DYN/results/run2_w500_s1_q100.json")
d_parse=$(jnum cpu_read_all_frames_s "$DYN/results/breakdown.json")
d_rho=$(jnum cpu_ns_per_atom_q_exp "$DYN/results/breakdown.json")
nf=$(val nframes "$coh")
awk -v nf="$nf" -v dt="$d_total" -v dp="$d_parse" -v dr="$d_rho" \
    -v kt="$(val total_cpu "$coh")" -v kp="$(val parse_cpu "$coh")" -v kr="$(val rho_ns_cpu "$coh")" \
    -v kc="$(val corr_cpu "$coh")" -v kro="$(val rho_cpu "$coh")" \
    -v it="$(val total_cpu "$inc")" -v ic="$(val corr_cpu "$inc")" \
    -v ktw="$(val total_wall "$coh")" -v itw="$(val total_wall "$inc")" 'BEGIN{
  s = nf / 2001; if (s <= 0) s = 1
  note = (nf == 2001) ? "" : sprintf("  (dynasor scaled to %d of 2001 frames)", nf)
  printf "   %-34s %12s %12s %9s\n", "", "dynasor CPU", "kiln CPU", "speed-up"
  printf "   %-34s %10.2f s %10.3f s %8.1fx%s\n", "coherent S(q,w), whole run", dt * s, kt, dt * s / kt, note
  printf "   %-34s %10.2f s %10.3f s %8.1fx\n", "parsing the dump", dp * s, kp, dp * s / kp
  printf "   %-34s %8.2f ns   %8.3f ns %8.1fx\n", "rho(q,t) per atom*q-point*frame", dr, kr, dr / kr
  printf "   kiln incoherent run: %.3f s CPU (%.3f s wall), %.2fx the coherent run; the incoherent part\n", it, itw, it / kt
  printf "   costs %.3f s CPU = %.2fx the coherent rho + correlation (%.3f s)\n", it - kt, (it - kt) / (kro + kc), kro + kc
  printf "   (dynasor: incoherent costs window/step times the coherent correlation; recorded: +12 s CPU\n"
  printf "    for 521 frames, origins every 10, 20 q-points)\n"
  printf "   target: >= 20x on the whole run, <= 2 ns/atom/q for rho, incoherent <= 2x coherent\n"
}'
if [ -n "$ins" ]; then
  awk -v md="$(val md_cpu "$ins")" -v mc="$(val mdcorr_cpu "$ins")" -v mdw="$(val md_wall "$ins")" \
      -v mcw="$(val mdcorr_wall "$ins")" -v n="$(val nframes "$ins")" 'BEGIN{
    printf "   in situ: MD %.2f s CPU, MD + correlator %.2f s CPU (+%.1f%%; %d frames); wall %.2f / %.2f s\n",
      md, mc, 100 * (mc - md) / md, n, mdw, mcw }'
fi

if [ -n "$DYNASOR_PATH" ] && [ -f "$DYNASOR_PATH/dynasor/__init__.py" ]; then
  echo "== dynasor side by side (DYNASOR_PATH=$DYNASOR_PATH)"
  PYTHONPATH=$DYNASOR_PATH /usr/bin/time -f "$TIMEFMT" -o "$OUT/dynasor.time" /usr/bin/python3 -W ignore \
    "$DYN/time_dynasor_sqw.py" --dump "$DUMP" --window "$BENCH_WINDOW" --window-step 1 --nq "$BENCH_NQ" \
    --frame-stop "$BENCH_FRAMES" | tee "$OUT/dynasor.json"
  echo "   dynasor process: $(cat "$OUT/dynasor.time")"
else
  echo "   dynasor is not installed here (no python3-dynasor in Debian bookworm): the numbers above are the"
  echo "   recorded ones. Set DYNASOR_PATH to a dynasor 2.x source tree to run it side by side."
fi
