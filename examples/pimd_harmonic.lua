-- examples/pimd_harmonic.lua: quantum vs classical energy of a harmonic crystal as T falls.
-- An fcc crystal of nearest-neighbour springs (32 atoms, 100 amu, k = 10 eV/Å²) is run with
-- classical Langevin MD and with path-integral MD (kiln.md.pimd, PILE-L) from 600 K down to
-- 10 K; beside them the exact quantum energy from the crystal's own phonon frequencies
-- (kiln.phonons): E = sum over modes (ħω/2) coth(βħω/2) (+ kT/2 per free centre-of-mass mode).
-- The number of beads grows as T falls (P ≈ 6 βħω_max, at least 4).
--   bin/kiln examples/pimd_harmonic.lua
--   KILN_SHORT=1 bin/kiln examples/pimd_harmonic.lua      short mode (run by `make check`)
--   KILN_OUTDIR=dir bin/kiln examples/pimd_harmonic.lua   output directory (default pimd_harmonic_out)
-- Writes a table and pimd_harmonic.png (energy per atom vs T).
local kiln = require "kiln"
local plot = require "kiln.plot"

local short = os.getenv("KILN_SHORT") == "1"
local outdir = os.getenv("KILN_OUTDIR") or "pimd_harmonic_out"
os.execute("mkdir -p '" .. outdir:gsub("'", "'\\''") .. "'")
local HBAR, KB = 0.6582119569, 8.617333262e-5

local function crystal()
  local a = kiln.crystal.fcc{symbol = "Ar", a = 4.0}:supercell(2, 2, 2)
  a:set_masses(100.0)
  return a
end
local pot = kiln.potential.harmonic{k = 10.0, r0 = 4.0 / math.sqrt(2), cutoff = 3.4}
local a0 = crystal()
local n = #a0
local f = kiln.phonons{atoms = a0, potential = pot, supercell = {1, 1, 1}}:frequencies({{0, 0, 0}}, {frac = true})
local w, wmax = {}, 0
for j = 1, 3 * n do
  if f[1][j] > 1e-3 then w[#w + 1] = 2 * math.pi * f[1][j] * 1e-3; wmax = math.max(wmax, w[#w]) end
end
local function exact(T)
  local kT = KB * T
  local e = 1.5 * kT                     -- 3 free centre-of-mass modes: kinetic only
  for _, om in ipairs(w) do e = e + 0.5 * HBAR * om / math.tanh(0.5 * HBAR * om / kT) end
  return e
end

local temps = short and {600, 150, 40} or {600, 300, 150, 80, 40, 20, 10}
local nequil, nsamp = short and 1000 or 3000, short and 1000 or 8000
local rows = {}
print(string.format("%8s %4s %14s %14s %14s %14s", "T(K)", "P", "E_classical", "E_pimd", "E_exact", "E_exact_cl"))
for _, T in ipairs(temps) do
  local P = math.max(4, math.ceil(6 * HBAR * wmax / (KB * T)))
  local function average(integrator)
    local a = crystal()
    a:set_velocities{T = T, seed = 1}
    integrator:run(a, pot, nequil, {thermo = 0, progress = false})
    local s, c = 0, 0
    integrator:run(a, pot, nsamp, {thermo = 0, progress = false, every = 5,
      observe = function(_, _, th) s, c = s + th.etot, c + 1 end})
    return s / c
  end
  local ecl = average(kiln.md.langevin{dt = 2.0, T = T, damping = 100, seed = 2})
  local eq = average(kiln.md.pimd{beads = P, dt = 2.0, T = T, tau = 100, seed = 3})
  local ex = exact(T)
  local excl = (3 * n - 1.5) * KB * T
  rows[#rows + 1] = {T = T, P = P, cl = ecl / n, q = eq / n, ex = ex / n, excl = excl / n}
  print(string.format("%8.1f %4d %14.6f %14.6f %14.6f %14.6f", T, P, ecl / n, eq / n, ex / n, excl / n))
end
print("(energies per atom, eV; E_exact_cl = classical equipartition; the zero-point energy is "
      .. string.format("%.6f eV/atom)", exact(1e-3) / n))

local function col(k) local t = {} for i, r in ipairs(rows) do t[i] = r[k] end return t end
local Ts = col("T")
local Tfine, Efine = {}, {}
for i = 0, 60 do Tfine[#Tfine + 1] = 5 + i * 10; Efine[#Efine + 1] = exact(Tfine[#Tfine]) / n end
local png, perr = plot.lines{
  file = outdir .. "/pimd_harmonic.png",
  series = {
    {x = Tfine, y = Efine, color = "#000000", label = "exact quantum"},
    {x = Ts, y = col("excl"), color = "#7f7f7f", label = "exact classical"},
    {x = Ts, y = col("cl"), color = "#1f77b4", label = "classical MD", marker = true},
    {x = Ts, y = col("q"), color = "#d62728", label = "PIMD", marker = true},
  },
  title = "fcc spring crystal: energy per atom", xlabel = "T (K)", ylabel = "E (eV/atom)",
}
print(png and ("wrote " .. png) or ("no figure: " .. tostring(perr)))
