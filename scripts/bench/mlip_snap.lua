-- Benchmark driver for scripts/bench-mlip.sh, section "SNAP MD": the systems of
-- ../shared/bench/lammps/in.snap (Ta06A) and in.snap_w (W 2J=8): SNAP + ZBL(4.0, 4.8),
-- 10x10x10 bcc cells (2000 atoms), 300 K, dt 0.5 fs, NVE, skin 1 Å.
-- usage: kiln scripts/bench/mlip_snap.lua ta|w NSTEPS [NREP]
-- prints one line: "kiln SYSTEM natoms N steps S loop_s T atomsteps_per_s R timesteps_per_s R2 ..."
local kiln = require "kiln"
local system, nsteps = arg[1] or "ta", tonumber(arg[2] or "100")
local nrep = tonumber(arg[3] or "10")
local potdir = os.getenv("POTDIR") or "/usr/share/lammps/potentials"
local sym, a0, mass, z, coeff, param
if system == "ta" then
  sym, a0, mass, z = "Ta", 3.316, 180.88, 73
  coeff, param = potdir .. "/Ta06A.snapcoeff", potdir .. "/Ta06A.snapparam"
elseif system == "w" then
  sym, a0, mass, z = "W", 3.1803, 183.84, 74
  coeff, param = potdir .. "/W_2940_2017_2.snapcoeff", potdir .. "/W_2940_2017_2.snapparam"
else
  error("unknown system '" .. tostring(system) .. "' (ta, w)")
end
local atoms = kiln.crystal.bcc{symbol=sym, a=a0}:supercell(nrep, nrep, nrep)
atoms:set_masses(mass)
local pot = kiln.potential.sum{
  kiln.potential.zbl{inner=4.0, outer=4.8, elements={sym}, z={z}},
  kiln.potential.snap{coeff=coeff, param=param}}
atoms:set_velocities{T=300, seed=4928459}
local md = kiln.md.verlet{dt=0.5}
md:run(atoms, pot, 1, {thermo=0, skin=1.0})
local t0 = kiln.wtime()
md:run(atoms, pot, nsteps, {thermo=0, skin=1.0})
local dt = kiln.wtime() - t0
local th = md:thermo()
io.write(string.format("kiln snap_%s natoms %d steps %d loop_s %.4f atomsteps_per_s %.0f timesteps_per_s %.4f etot %.6f T %.2f\n",
  system, #atoms, nsteps, dt, #atoms * nsteps / dt, nsteps / dt, th.etot, th.T))
