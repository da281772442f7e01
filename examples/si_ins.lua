-- kiln example: an inelastic neutron scattering (INS) prediction for crystalline Si.
--
-- Stillinger–Weber Si at 300 K: equilibrate with a Langevin thermostat, then run NVE while
-- a streaming S(q, ω) correlator watches Γ-X-K-Γ-L in six Brillouin zones (no trajectory
-- is written). The partial S(q, ω) are weighted with neutron scattering lengths, quantum
-- corrected at 300 K, and passed through the resolution and kinematic limits of ARCS
-- (SNS) at Ei = 120 meV. The X-point peaks of the MD spectra (coherent S(q, ω) and the
-- longitudinal / transverse current correlations) are compared with the harmonic phonon
-- frequencies of the same potential (finite displacements, kiln.phonons).
--
--   bin/kiln examples/si_ins.lua                    full run: 4096 atoms, 5 ps + 20 ps
--   KILN_SHORT=1 bin/kiln examples/si_ins.lua       short mode (run by `make check`)
--   KILN_OUTDIR=dir bin/kiln examples/si_ins.lua    output directory (default si_ins_out)
--
-- Writes si_ins.h5 (correlator result + processed spectra, units as attributes),
-- si_ins_xpoint.png (the X-point spectra) and si_ins_dispersion.png (the heat map).
-- Documented in doc/si_ins.md.
local kiln = require "kiln"
local plot = require "kiln.plot"
local ins, instruments = kiln.ins, kiln.instruments

local short = os.getenv("KILN_SHORT") == "1"
local outdir = os.getenv("KILN_OUTDIR") or "si_ins_out"

---------------------------------------------------------------- settings
local A = 5.431                          -- Å, diamond Si lattice constant
local T = 300                            -- K
local DT = 1.0                           -- fs, MD time step
local EVERY = 5                          -- steps between correlator frames (5 fs)
local NCELL = short and 4 or 8           -- conventional cells per edge (4 and 8: K is commensurate)
local N_EQUIL = short and 300 or 5000    -- steps of Langevin equilibration
local N_RUN = short and 600 or 20000     -- steps of NVE with the correlator
local WINDOW = short and 60 or 500       -- correlation window (frames): 2.5 ps in the full run
-- Zones G (units 2π/a). The X point of the path is 2π/a (0, 1, 0); in the zones with G along
-- (0, 1, 0) the total Q = X + G is parallel to X, so the current correlations C_L and C_T
-- (taken along and across Q) separate the longitudinal from the transverse branches.
local ZONES = {{0, 0, 0}, {0, 2, 0}, {1, 1, 1}, {2, 0, 0}, {2, 2, 0}, {3, 1, 1}}
local EI = 120                           -- meV, ARCS incident energy (Si phonons end near 70 meV)
local EMAX = 100                         -- meV, top of the processed spectra and plots
local PEAK_THRESHOLD = 0.05              -- report peaks above this fraction of the spectrum's maximum
local POT_FILE = "/usr/share/lammps/potentials/Si.sw"

local files = {
  h5 = outdir .. "/si_ins.h5",
  xpoint = outdir .. "/si_ins_xpoint.png",
  heatmap = outdir .. "/si_ins_dispersion.png",
}

---------------------------------------------------------------- small helpers
local t_start = kiln.wtime()
local timings = {}
local stage_no, stage_t0, stage_name = 0, nil, nil
local NSTAGES = 7
local function stage(name, what)
  local now = kiln.wtime()
  if stage_name then timings[#timings + 1] = {stage_name, now - stage_t0} end
  if not name then return end
  stage_no, stage_t0, stage_name = stage_no + 1, now, name
  print(string.format("\n[%d/%d] %s", stage_no, NSTAGES, what))
end

local function mkdir(dir)            -- kiln has no mkdir: use the shell
  os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
end

-- The first n columns of an nr × nc Array, optionally times a factor, as a new Array.
local function first_cols(arr, n, factor)
  local nr = arr:shape()
  local out = kiln.Array(nr, n)
  factor = factor or 1.0
  for i = 1, nr do
    for j = 1, n do out:set(i, j, arr:get(i, j) * factor) end
  end
  return out
end

-- Sum of the given rows of an Array (first n columns) as a Lua list.
local function sum_rows(arr, rows, n)
  local s = {}
  for j = 1, n do s[j] = 0.0 end
  for _, i in ipairs(rows) do
    for j = 1, n do s[j] = s[j] + arr:get(i, j) end
  end
  return s
end

-- Peaks of y(x) on a uniform grid: local maxima over ±nb points, above threshold·max
-- (the maximum taken over x >= xmin), refined by a parabola through the three points
-- around the maximum. Returns {{x=, height=}, ...} in increasing x.
local function find_peaks(x, y, threshold, xmin, nb)
  local n, ymax = #y, -math.huge
  for i = 1, n do if x[i] >= xmin and y[i] > ymax then ymax = y[i] end end
  local peaks, h = {}, x[2] - x[1]
  for i = 2, n - 1 do
    if x[i] >= xmin and y[i] >= threshold * ymax then
      local is_max = true
      for k = math.max(1, i - nb), math.min(n, i + nb) do
        if k ~= i and y[k] > y[i] then is_max = false; break end
      end
      if is_max then
        local a, b, c = y[i - 1], y[i], y[i + 1]
        local den = a - 2 * b + c
        local d = den ~= 0 and 0.5 * (a - c) / den or 0.0
        peaks[#peaks + 1] = {x = x[i] + d * h, height = b - 0.25 * (a - c) * d}
      end
    end
  end
  return peaks
end

-- Match peaks to modes: each peak goes to the nearest of the candidate groups (those for
-- which accept(g) is true); each group keeps the nearest of its peaks (or none).
local function assign(peaks, groups, key, accept)
  for _, p in ipairs(peaks) do
    local best
    for _, g in ipairs(groups) do
      if accept(g) and (not best or math.abs(p.x - g.E) < math.abs(p.x - best.E)) then best = g end
    end
    if best and (not best[key] or math.abs(p.x - best.E) < math.abs(best[key].x - best.E)) then
      best[key] = p
    end
  end
end

local function peak_list(peaks)
  local t = {}
  for i, p in ipairs(peaks) do t[i] = string.format("%.2f", p.x) end
  return #t > 0 and table.concat(t, ", ") or "(none)"
end

local function ghkl(G) return string.format("(%d%d%d)", G[1], G[2], G[3]) end

print(string.format("kiln %s: INS of Stillinger-Weber Si at %g K%s; output in %s/", kiln.version, T,
                    short and " (short mode)" or "", outdir))
mkdir(outdir)

---------------------------------------------------------------- 1. structure and q-points
stage("setup", string.format("Structure, potential and q-points: %d×%d×%d conventional diamond cells",
                             NCELL, NCELL, NCELL))
local si = kiln.crystal.diamond{symbol = "Si", a = A}:supercell(NCELL, NCELL, NCELL)
local pot = kiln.potential.sw{file = POT_FILE}
print("  " .. tostring(si))
print("  " .. tostring(pot))
local path = kiln.qpoints.path(si, {"G", "X", "K", "G", "L"}, {zones = ZONES})
print("  " .. tostring(path))
local zone_names = {}
for z, G in ipairs(ZONES) do zone_names[z] = ghkl(G) end
print("  zones G (2π/a): " .. table.concat(zone_names, " "))

-- rows of the X point in each zone
local xrows = {}
for _, l in ipairs(path.labels) do
  if l.name == "X" then xrows[l.zone] = l.index end
end

---------------------------------------------------------------- 2. equilibration
stage("equilibrate", string.format("Equilibration: Langevin thermostat at %g K, %.1f ps (dt = %g fs)",
                                   T, N_EQUIL * DT / 1000, DT))
si:set_velocities{T = T, seed = 1}
local langevin = kiln.md.langevin{dt = DT, T = T, damping = 100, seed = 2}
langevin:run(si, pot, N_EQUIL, {thermo = N_EQUIL // 5, progress = true})

---------------------------------------------------------------- 3. NVE + streaming S(q, ω)
stage("nve", string.format("NVE %.1f ps with S(q, ω) on %d q-points, a frame every %d fs, window %d (%.2f ps)",
                           N_RUN * DT / 1000, #path, EVERY, WINDOW, (WINDOW - 1) * EVERY * DT / 1000))
local sq = kiln.correlator.sqw{q = path, window = WINDOW, incoherent = true, currents = true,
                               window_function = "hann"}
local Tsum, Tn = 0.0, 0
local function temperature(step, atoms, th) Tsum, Tn = Tsum + th.T, Tn + 1 end
local nve = kiln.md.verlet{dt = DT}
nve:run(si, pot, N_RUN, {every = EVERY, observe = {sq, temperature}, thermo = N_RUN // 5,
                         progress = true})
print(string.format("  mean T during NVE: %.1f K over %d frames", Tsum / Tn, sq.nframes))

---------------------------------------------------------------- 4. neutron spectra
stage("ins", string.format("Neutron weights, quantum correction (%g K), ARCS resolution and kinematics (Ei = %g meV)",
                           T, EI))
local res = sq:result()
local Eall = kiln.correlator.to_meV(res.omega)       -- Array W×1, meV
local nE = 0
while nE < #Eall and Eall[nE + 1] <= EMAX do nE = nE + 1 end
local E = {}
for j = 1, nE do E[j] = Eall[j] end
local dE = E[2] - E[1]
-- S(q, ω) in fs (per rad/fs) -> S(q, E) in 1/meV: (1/2π)∫S dω = ∫S dE
local PER_MEV = 1.0 / (2 * math.pi * ins.hbar)
print(string.format("  energy grid: %d points, 0 to %.1f meV, step %.3f meV", nE, E[nE], dE))

local w = ins.weights(si, {kind = "neutron"})
print(string.format("  Si: b_coh = %.4f fm, incoherent weight √(σ_inc/4π) = %.4f fm", w.b.Si, w.inc.Si))
local s = ins.combine(res, w)                         -- coh, inc, total: nq × W (fm² fs)
local s_classical = first_cols(s.total, nE, PER_MEV)  -- fm²/meV
local s_quantum = ins.correct(s_classical, E, T)      -- × βħω/(1 − e^{−βħω})
local arcs = instruments.arcs{Ei = EI, frequency = 600, package = "ARCS-700-1.5-AST"}
local s_arcs = arcs:apply(s_quantum, path.q, E, {fill = 0 / 0})   -- NaN where not measurable
print(string.format("  ARCS-700-1.5-AST chopper at 600 Hz: resolution FWHM %.2f meV at 0, %.2f meV at 50 meV", arcs:fwhm(0), arcs:fwhm(50)))
local nmask = 0
for i = 1, #path do for j = 1, nE do if s_arcs:get(i, j) ~= s_arcs:get(i, j) then nmask = nmask + 1 end end end
print(string.format("  %d of %d (q, E) points are outside the ARCS detector coverage", nmask, #path * nE))

-- X point: the MD spectra summed over zones (each zone shows other branches): S(q, ω) over
-- all zones, the currents over the zones where Q = X + G is parallel to X
local xr, xr_par, par_names = {}, {}, {}
for z, G in ipairs(ZONES) do
  xr[z] = xrows[z]
  if G[1] == 0 and G[3] == 0 then xr_par[#xr_par + 1] = xrows[z]; par_names[#par_names + 1] = zone_names[z] end
end
local x_scoh = sum_rows(res.sqw_coh, xr, nE)
local x_cl = sum_rows(res.clw, xr_par, nE)
local x_ct = sum_rows(res.ctw, xr_par, nE)
print("  X-point currents from the zones with Q parallel to X: " .. table.concat(par_names, " "))
for j = 1, nE do
  x_scoh[j], x_cl[j], x_ct[j] = x_scoh[j] * PER_MEV, x_cl[j] * PER_MEV, x_ct[j] * PER_MEV
end

---------------------------------------------------------------- 5. harmonic phonons
stage("phonons", "Harmonic phonons of the same potential: 2-atom primitive cell, 4×4×4 supercell, finite displacements")
local h = A / 2
local prim = kiln.crystal.from_cell{cell = {{0, h, h}, {h, 0, h}, {h, h, 0}}, symbols = {"Si", "Si"},
                                    scaled_positions = {{0, 0, 0}, {0.25, 0.25, 0.25}}}
local ph = kiln.phonons{atoms = prim, potential = pot, supercell = {4, 4, 4}, asr = true}
local THZ_TO_MEV = kiln.units.convert(1.0, "THz", "meV")
local qX = {0, 2 * math.pi / A, 0}                    -- X = 2π/a (0, 1, 0), as in the path
local evX = ph:eigenvectors(qX)
-- group the six modes at X into degenerate sets, each longitudinal or transverse
local groups = {}
for m = 1, 6 do
  local f = evX.freq[m] * THZ_TO_MEV
  local lfrac = 0.0                                   -- Σ_κ |e_κ · q̂|², q̂ = y
  for k = 0, 1 do lfrac = lfrac + evX.re[m][3 * k + 2] ^ 2 + evX.im[m][3 * k + 2] ^ 2 end
  local g = groups[#groups]
  if g and math.abs(f - g.E) < 0.05 then
    g.modes[#g.modes + 1] = m; g.lfrac = g.lfrac + lfrac
  else
    groups[#groups + 1] = {E = f, modes = {m}, lfrac = lfrac}
  end
end
for _, g in ipairs(groups) do
  g.pol = g.lfrac / #g.modes > 0.5 and "L" or "T"
  local acoustic, optical = g.modes[1] <= 3, g.modes[#g.modes] > 3
  if acoustic and optical then g.name = g.pol .. "A/" .. g.pol .. "O"
  else g.name = g.pol .. (acoustic and "A" or "O") end
end
local nq1 = 0                                          -- the path in zone 1 (the first rows)
for i = 1, #path do if path.zone[i] == 1 then nq1 = nq1 + 1 end end
local q1 = kiln.Array(nq1, 3)
for i = 1, nq1 do q1[i] = path.q[i] end
local disp = ph:dispersion({q = q1})
local harm_x, harm_f = kiln.Array(nq1), kiln.Array(nq1, 6)
for i = 1, nq1 do
  harm_x[i] = path.x[i]
  for m = 1, 6 do harm_f:set(i, m, disp.freq[i][m] * THZ_TO_MEV) end
end
local hx = {}
for m = 1, 6 do hx[m] = string.format("%.2f", evX.freq[m] * THZ_TO_MEV) end
print("  harmonic frequencies at X (meV): " .. table.concat(hx, " "))

---------------------------------------------------------------- 6. peaks
stage("peaks", string.format("X-point peaks (parabolic interpolation, above %g%% of each spectrum's maximum)",
                             PEAK_THRESHOLD * 100))
local EPEAK_MIN = 3.0                                 -- meV: skip the quasi-elastic line
local nb = math.max(1, math.floor(0.6 / dE + 0.5))    -- local maximum over ±0.6 meV
local pk = {
  scoh = find_peaks(E, x_scoh, PEAK_THRESHOLD, EPEAK_MIN, nb),
  cl = find_peaks(E, x_cl, PEAK_THRESHOLD, EPEAK_MIN, nb),
  ct = find_peaks(E, x_ct, PEAK_THRESHOLD, EPEAK_MIN, nb),
}
print("  S(q, ω) coherent: " .. peak_list(pk.scoh) .. " meV")
print("  C_L(q, ω):        " .. peak_list(pk.cl) .. " meV")
print("  C_T(q, ω):        " .. peak_list(pk.ct) .. " meV")
local cmp = kiln.Array(#groups, 5)
assign(pk.cl, groups, "cur", function(g) return g.pol == "L" end)
assign(pk.ct, groups, "cur", function(g) return g.pol == "T" end)
assign(pk.scoh, groups, "s", function() return true end)
for i, g in ipairs(groups) do
  cmp:set(i, 1, g.E)
  cmp:set(i, 2, g.cur and g.cur.x or 0 / 0)
  cmp:set(i, 3, g.cur and g.cur.x - g.E or 0 / 0)
  cmp:set(i, 4, g.s and g.s.x or 0 / 0)
  cmp:set(i, 5, g.s and g.s.x - g.E or 0 / 0)
end

---------------------------------------------------------------- 7. output files
stage("output", "Writing the HDF5 file and the figures")
local function peaks_array(p)
  local t = {}
  for i, q in ipairs(p) do t[i] = {q.x, q.height} end
  if #t == 0 then return kiln.Array(0, 2) end
  return kiln.Array(t)
end
local mode_names, harm_X = {}, kiln.Array(6)
for i, g in ipairs(groups) do mode_names[i] = g.name end
for m = 1, 6 do harm_X[m] = evX.freq[m] * THZ_TO_MEV end
local zone_hkl = kiln.Array(ZONES)
local arcs_x = {}
for z = 1, #ZONES do arcs_x[z] = {} end
for z = 1, #ZONES do for j = 1, nE do arcs_x[z][j] = s_arcs:get(xrows[z], j) end end

sq:write(files.h5, {group = "sqw"})
kiln.correlator.write(files.h5, {
  energy = kiln.Array(E),
  q = path.q, hkl = path.hkl, path_x = path.x, zone = path.zone, zone_G = zone_hkl,
  sqw_classical = s_classical, sqw_quantum = s_quantum, sqw_arcs = s_arcs,
  xpoint = {
    rows = kiln.Array(xr), rows_parallel = kiln.Array(xr_par), sqw_coh = kiln.Array(x_scoh), cl = kiln.Array(x_cl), ct = kiln.Array(x_ct),
    sqw_arcs = kiln.Array(arcs_x),
    peaks = {sqw_coh = peaks_array(pk.scoh), cl = peaks_array(pk.cl), ct = peaks_array(pk.ct)},
    harmonic = harm_X, comparison = cmp,
  },
  harmonic = {path_x = harm_x, freq = harm_f},
  units = {
    energy = "meV", q = "rad/Å", hkl = "1", path_x = "rad/Å", zone = "1", zone_G = "2π/a",
    sqw_classical = "fm^2/meV", sqw_quantum = "fm^2/meV", sqw_arcs = "fm^2/meV",
    xpoint = {rows = "1", rows_parallel = "1", sqw_coh = "1/meV", cl = "Å^2/fs^2/meV", ct = "Å^2/fs^2/meV",
              sqw_arcs = "fm^2/meV", peaks = {sqw_coh = "meV, 1/meV", cl = "meV, Å^2/fs^2/meV",
              ct = "meV, Å^2/fs^2/meV"}, harmonic = "meV", comparison = "meV"},
    harmonic = {path_x = "rad/Å", freq = "meV"},
  },
  descriptions = {
    energy = "energy transfer ħω (neutron energy loss), the columns of every map",
    q = "q-points (rows of every map), Cartesian, 2π included",
    hkl = "q in units of the supercell's reciprocal vectors",
    path_x = "distance along G-X-K-G-L from the start of each zone",
    zone = "zone index of each q (row of zone_G)",
    zone_G = "reciprocal lattice vector G of each zone, conventional units 2π/a",
    sqw_classical = "neutron-weighted S(q,E) = Σ b_A b_B S_AB + Σ (σ_inc/4π) S_self, classical MD, per atom",
    sqw_quantum = "sqw_classical × βħω/(1 − exp(−βħω)) (harmonic quantum correction)",
    sqw_arcs = "sqw_quantum broadened with the ARCS resolution; NaN where (q,E) is not accessible",
    xpoint = {
      rows = "rows of the X point in each zone",
      sqw_coh = "coherent S(q,E) of the MD (classical, unweighted), summed over the X points of all zones",
      rows_parallel = "rows of the X point in the zones with Q = X + G parallel to X (used for cl, ct)",
      cl = "longitudinal current spectrum C_L(q,E), summed over the X points with Q parallel to X",
      ct = "transverse current spectrum C_T(q,E) (per component), summed over the X points with Q parallel to X",
      sqw_arcs = "sqw_arcs at the X point, one row per zone",
      peaks = {sqw_coh = "peaks: energy, height", cl = "peaks: energy, height", ct = "peaks: energy, height"},
      harmonic = "harmonic frequencies at X (6 modes, ascending)",
      comparison = "per mode group (attribute modes): harmonic, MD current peak, MD − harmonic, MD S(q,E) peak, S peak − harmonic",
    },
    harmonic = {path_x = "path distance (zone 1)", freq = "harmonic dispersion along zone 1 (6 branches)"},
  },
  T = T, Ei = EI, instrument = "ARCS", package = "ARCS-700-1.5-AST", chopper_frequency = 600,
  xpoint_modes = table.concat(mode_names, " "),     -- rows of xpoint/comparison
  natoms = #si, potential = POT_FILE, md_time_ps = N_RUN * DT / 1000, mean_T = Tsum / Tn,
}, {group = "ins", append = true})
print("  wrote " .. files.h5 .. "  (groups /sqw: correlator result, /ins: processed spectra)")

-- X-point figure: the ARCS spectrum at X in each zone, with the harmonic frequencies
local colors = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"}
local series, ymax = {}, 0.0
for z = 1, #ZONES do
  local G = ZONES[z]
  local y = arcs_x[z]
  for j = 1, nE do if y[j] == y[j] and E[j] > EPEAK_MIN and y[j] > ymax then ymax = y[j] end end
  series[#series + 1] = {x = E, y = y, color = colors[(z - 1) % #colors + 1],
                         label = string.format("Q = (%d,%d,%d) 2π/a", G[1], G[2] + 1, G[3])}
end
if ymax <= 0 then ymax = 1 end
for i, g in ipairs(groups) do
  series[#series + 1] = {x = {g.E, g.E}, y = {0, 1.1 * ymax}, color = "#7f7f7f", lw = 1,
                         label = i == 1 and "harmonic (0 K)" or nil}
end
local png1, err1 = plot.lines{
  file = files.xpoint, series = series, xrange = {0, EMAX}, yrange = {0, 1.15 * ymax},
  title = string.format("Si (SW) at X, %g K MD: neutron S(Q,E), quantum corrected, ARCS Ei = %g meV", T, EI),
  xlabel = "energy transfer (meV)", ylabel = "S(Q, E) (fm²/meV per atom)",
}
print("  " .. (png1 and ("wrote " .. png1) or ("no X-point figure: " .. err1)))

-- heat map: the zones side by side along x, separated by a blank column
local hm_x, hm_z = {}, {}
local offset, zvals = 0.0, {}
for z = 1, #ZONES do
  if z > 1 then
    offset = offset + 0.15
    hm_x[#hm_x + 1] = offset - 0.075
    local blank = {}
    for j = 1, nE do blank[j] = 0 / 0 end
    hm_z[#hm_z + 1] = blank
  end
  local last = 0.0
  for i = 1, #path do
    if path.zone[i] == z then
      hm_x[#hm_x + 1] = offset + path.x[i]
      last = path.x[i]
      local row = {}
      for j = 1, nE do
        local v = s_arcs:get(i, j)
        row[j] = v
        if E[j] >= 8 and v == v and v > 0 then zvals[#zvals + 1] = v end
      end
      hm_z[#hm_z + 1] = row
    end
  end
  offset = offset + last
end
-- colour scale: three decades below the 99.5th percentile of the inelastic (E >= 8 meV)
-- intensities, so that the Bragg tails do not set it
table.sort(zvals)
local zmax = #zvals > 0 and zvals[math.max(1, math.floor(0.995 * #zvals))] or 1.0
local png2, err2 = plot.heatmap{
  file = files.heatmap, x = hm_x, y = E, z = hm_z, logz = true, zrange = {zmax * 1e-3, zmax},
  title = "Si (SW) 300 K, ARCS Ei = " .. EI .. " meV: G-X-K-G-L in zones " .. table.concat(zone_names, " "),
  xlabel = string.format("distance along G-X-K-G-L (%.2f 1/Å per zone), zones side by side", path.x[nq1]), ylabel = "energy transfer (meV)",
  cblabel = "S(Q, E) (fm²/meV)", size = {1200, 600},
}
print("  " .. (png2 and ("wrote " .. png2) or ("no heat map: " .. err2)))
stage(nil)

---------------------------------------------------------------- summary
print(string.format("\nX-point phonons of Stillinger-Weber Si: MD at %.0f K (%d atoms, %.1f ps NVE) vs harmonic (0 K)",
                    Tsum / Tn, #si, N_RUN * DT / 1000))
print(string.format("  MD energy grid %.2f meV (Hann window); peak positions by parabolic interpolation", dE))
print("  mode    harmonic   MD C_L/C_T   MD-harm        MD S(q,E)   S-harm   (meV)")
for _, g in ipairs(groups) do
  local cur = g.cur and string.format("%9.2f   %+7.2f (%+5.1f%%)", g.cur.x, g.cur.x - g.E,
                                      100 * (g.cur.x - g.E) / g.E) or "      —                     "
  local sc = g.s and string.format("%9.2f   %+6.2f", g.s.x, g.s.x - g.E) or "      —"
  print(string.format("  %-6s %9.2f  %s %s", g.name, g.E, cur, sc))
end
print("\nTimings (wall clock):")
for _, t in ipairs(timings) do print(string.format("  %-12s %7.2f s", t[1], t[2])) end
print(string.format("  %-12s %7.2f s", "total", kiln.wtime() - t_start))
