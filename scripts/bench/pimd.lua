-- Benchmark driver for scripts/bench-thermo.sh (section pimd): SW Si (diamond 4x4x4, 512
-- atoms), classical Langevin MD vs PIMD with P beads, both with the same potential.
-- usage: kiln scripts/bench/pimd.lua [NSTEPS] [P]
-- prints: "pimd natoms N beads P md_us_per_step X pimd_us_per_bead_step Y ratio R"
local kiln = require "kiln"
local nsteps, P = tonumber(arg[1] or "100"), tonumber(arg[2] or "8")
local potdir = os.getenv("POTDIR") or "/usr/share/lammps/potentials"
local function system()
  local a = kiln.crystal.diamond{symbol = "Si", a = 5.431}:supercell(4, 4, 4)
  a:set_velocities{T = 300, seed = 1}
  return a
end
local pot = kiln.potential.sw{file = potdir .. "/Si.sw"}
local q = {thermo = 0, progress = false}
local a = system()
local md = kiln.md.langevin{dt = 1.0, T = 300, damping = 100}
md:run(a, pot, 5, q)
local t0 = kiln.wtime()
md:run(a, pot, nsteps, q)
local tmd = (kiln.wtime() - t0) / nsteps
local b = system()
local pm = kiln.md.pimd{beads = P, dt = 1.0, T = 300, tau = 100}
pm:run(b, pot, 5, q)
t0 = kiln.wtime()
pm:run(b, pot, nsteps, q)
local tpi = (kiln.wtime() - t0) / nsteps / P
io.write(string.format("pimd natoms %d beads %d md_us_per_step %.1f pimd_us_per_bead_step %.1f ratio %.3f\n",
  #a, P, 1e6 * tmd, 1e6 * tpi, tpi / tmd))
