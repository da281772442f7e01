-- Benchmark driver for scripts/bench-md.sh: the same systems as ../shared/bench/lammps/in.*
-- usage: kiln scripts/bench/md.lua SYSTEM NSTEPS [NREP]
--   SYSTEM: lj | eam | sw | tersoff
-- prints one line: "kiln SYSTEM natoms N steps S loop_s T atomsteps_per_s R rebuilds B"
local kiln = require "kiln"
local system, nsteps = arg[1], tonumber(arg[2] or "100")
local potdir = os.getenv("POTDIR") or "/usr/share/lammps/potentials"
local kB = kiln.units.kB

local atoms, pot, md, skin
if system == "lj" then
  -- LJ melt in reduced units mapped onto eV/Å/amu: epsilon = 1 eV, sigma = 1 Å, m = 1 amu,
  -- so tau = sqrt(m sigma^2 / epsilon) = sqrt(103.6427) fs = 10.18 fs; rho* = 0.8442, T* = 1.44.
  local nrep = tonumber(arg[3] or "20")
  atoms = kiln.crystal.fcc{symbol="Ar", a=(4 / 0.8442)^(1/3)}:supercell(nrep, nrep, nrep)
  atoms:set_masses(1.0)
  pot = kiln.potential.lj{epsilon=1.0, sigma=1.0, cutoff=2.5}
  local tau = math.sqrt(kiln.units.mvv2e)
  atoms:set_velocities{T=1.44 / kB, seed=87287}
  md = kiln.md.verlet{dt=0.005 * tau}
  skin = 0.3
elseif system == "eam" then
  local nrep = tonumber(arg[3] or "20")
  atoms = kiln.crystal.fcc{symbol="Cu", a=3.615}:supercell(nrep, nrep, nrep)
  pot = kiln.potential.eam{file=potdir .. "/Cu_u3.eam"}
  atoms:set_velocities{T=300, seed=376847}
  md = kiln.md.verlet{dt=5.0}
  skin = 1.0
elseif system == "sw" or system == "tersoff" then
  local nrep = tonumber(arg[3] or "16")
  atoms = kiln.crystal.diamond{symbol="Si", a=5.431}:supercell(nrep, nrep, nrep)
  atoms:set_masses(28.0855)
  if system == "sw" then pot = kiln.potential.sw{file=potdir .. "/Si.sw"}
  else pot = kiln.potential.tersoff{file=potdir .. "/Si.tersoff"} end
  atoms:set_velocities{T=1000, seed=376847}
  md = kiln.md.verlet{dt=1.0}
  skin = 1.0
else
  error("unknown system '" .. tostring(system) .. "' (lj, eam, sw, tersoff)")
end

-- setup (first force evaluation and neighbor build) is excluded, as LAMMPS' loop time does
md:run(atoms, pot, 1, {thermo=0, skin=skin})
local t0 = kiln.wtime()
md:run(atoms, pot, nsteps, {thermo=0, skin=skin})
local dt = kiln.wtime() - t0
local th = md:thermo()
io.write(string.format("kiln %s natoms %d steps %d loop_s %.4f atomsteps_per_s %.0f etot %.6f T %.2f\n",
  system, #atoms, nsteps, dt, #atoms * nsteps / dt, th.etot, th.T))
