#!/bin/sh
# Regenerate the LAMMPS samples read by tests/c/test_io.c (run from the repo root):
#   sh tests/data/gen_lammps_samples.sh
# A triclinic box with a shifted origin (lo != 0), two types (Si, O masses), soft
# repulsion, velocities, 200 MD steps so atoms cross the periodic boundaries. Outputs:
#   lmp_tri.data     write_data at step 200 (Masses without symbols, image flags, Velocities)
#   lmp_tri_a.dump   id type element x y z vx vy vz fx fy fz   (wrapped; unsorted ids)
#   lmp_tri_b.dump   id type xs ys zs ix iy iz mass c_pe        (scaled + image flags)
#   lmp_tri_c.dump   id type xu yu zu                           (unwrapped)
# each dump at steps 0, 100, 200. LAMMPS: /usr/bin/lmp (Debian 12, 29 Sep 2021).
set -e
LMP=${LMP:-/usr/bin/lmp}
cd "$(dirname "$0")"
cat > gen_lammps_samples.in <<'DECK'
units metal
atom_style atomic
boundary p p p
region box prism -1.5 6.6 0.5 7.8 -2.0 4.9 1.7 -1.1 0.9 units box
create_box 2 box
create_atoms 1 random 12 4821 box
create_atoms 2 random 8 1234 box
mass 1 28.0855
mass 2 15.9994
pair_style soft 2.0
pair_coeff * * 5.0
velocity all create 3000.0 77 dist gaussian
compute pe all pe/atom
timestep 0.002
fix integrate all nve
dump a all custom 100 lmp_tri_a.dump id type element x y z vx vy vz fx fy fz
dump_modify a element Si O format float %.16e
dump b all custom 100 lmp_tri_b.dump id type xs ys zs ix iy iz mass c_pe
dump_modify b format float %.16e sort id
dump c all custom 100 lmp_tri_c.dump id type xu yu zu
dump_modify c format float %.16e sort id
run 200
write_data lmp_tri.data
DECK
"$LMP" -log none -screen none -in gen_lammps_samples.in
rm -f gen_lammps_samples.in
