-- kiln quickstart: diamond Si (4x4x4 = 512 atoms) with Stillinger–Weber.
-- 300 K Maxwell–Boltzmann velocities, Langevin (BAOAB) equilibration, then NVE.
-- Writes an H5MD trajectory, an extended XYZ snapshot and a PNG plot of the total
-- energy and temperature versus time.
--   bin/kiln examples/quickstart.lua            (full: 2 ps + 4 ps)
--   KILN_SHORT=1 bin/kiln examples/quickstart.lua   (the short mode run by `make check`)
local kiln = require "kiln"
local plot = require "kiln.plot"

local short = os.getenv("KILN_SHORT") == "1"
local outdir = os.getenv("KILN_OUTDIR") or "."
local n_langevin = short and 200 or 2000   -- steps of 1 fs
local n_nve      = short and 200 or 4000

local si = kiln.crystal.diamond{symbol="Si", a=5.431}:supercell(4, 4, 4)
si:set_velocities{T=300, seed=1}
local pot = kiln.potential.sw{file="/usr/share/lammps/potentials/Si.sw"}
print(si)
print(pot)

-- thermo rows for the plot; time continues across the two runs
local rows, t_offset = {}, 0.0
local function record(step, atoms, th)
  rows[#rows + 1] = {time = t_offset + th.time, etot = th.etot, T = th.T}
end

local traj <close> = kiln.io.trajectory(outdir .. "/quickstart.h5", "w")

print("\n-- Langevin thermostat, 300 K, damping 100 fs")
local langevin = kiln.md.langevin{dt=1.0, T=300, damping=100, seed=1}
langevin:run(si, pot, n_langevin, {every=10, observe={record, traj}, thermo=n_langevin // 10,
                                   progress=true})
t_offset = langevin:thermo().time

print("\n-- NVE (velocity Verlet)")
local nve = kiln.md.verlet{dt=1.0}
nve:run(si, pot, n_nve, {every=10, observe={record, traj}, thermo=n_nve // 10, progress=true})

kiln.io.write(outdir .. "/quickstart.xyz", si)
local png, msg = plot.thermo(rows, outdir .. "/quickstart.png",
                             {title = "Si, Stillinger-Weber, 512 atoms: Langevin 300 K, then NVE"})

-- energy conservation over the NVE part, per atom
local e0, emax = nil, 0.0
for _, r in ipairs(rows) do
  if r.time > t_offset then
    e0 = e0 or r.etot
    emax = math.max(emax, math.abs(r.etot - e0))
  end
end
print(string.format("\nNVE: max |E(t) - E(0)| = %.2e eV/atom over %.1f ps", emax / #si, n_nve / 1000))
print("wrote " .. outdir .. "/quickstart.h5, " .. outdir .. "/quickstart.xyz, " .. (png or msg))
