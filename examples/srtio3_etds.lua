-- kiln example: electron thermal diffuse scattering (eTDS) of SrTiO3 along [110], from MD
-- snapshots versus the Einstein model with the same mean-square displacements.
--
-- SrTiO3 with the rigid-ion model of Thomas, Marks and Begg (2005) (Buckingham + Coulomb,
-- damped shifted force) in an orthogonal [110] supercell: Langevin equilibration at 300 K,
-- then Langevin sampling while an observer measures the per-element mean-square
-- displacements from the lattice sites and a multislice observer averages the parallel-beam
-- diffraction of MD snapshots (frozen phonons straight from the run). The same number of
-- Einstein configurations (independent Gaussian displacements per element, with the MSD
-- measured in the MD) gives the uncorrelated reference. The two patterns differ only in the
-- correlation of the displacements: Bragg intensities agree (same Debye-Waller factors), the
-- diffuse intensity is redistributed. kiln.tds compares them at the R points
-- ((1/2 1/2 1/2)-type, zone-boundary points where the soft antiferrodistortive (R25)
-- octahedral-rotation phonons scatter), along a line across the R points, and at X, M and
-- Bragg points.
--
--   bin/kiln examples/srtio3_etds.lua                    full run: 5760 atoms, 9 ps (~4 min on 2 cores)
--   KILN_SHORT=1 bin/kiln examples/srtio3_etds.lua       short mode (run by `make check`)
--   KILN_OUTDIR=dir bin/kiln examples/srtio3_etds.lua    output directory (default srtio3_etds_out)
--
-- Writes srtio3_etds_md.png and srtio3_etds_einstein.png (log-scaled patterns, R points
-- marked), srtio3_etds_profile.png (the line across the R points), each with its .gp/.dat.
-- Documented in doc/srtio3_etds.md.
local kiln = require "kiln"
local tds = kiln.tds

local short = os.getenv("KILN_SHORT") == "1"
local outdir = os.getenv("KILN_OUTDIR") or "srtio3_etds_out"

---------------------------------------------------------------- settings
local A = 3.9051                        -- Å, cubic lattice constant (Thomas et al. 2005)
local T = 300                           -- K
local DT = 1.0                          -- fs
-- [110] cell from kiln.wave.orient: x || [001] (a), y || [1-10] (a√2), z || [110] (a√2, beam).
-- R = (1/2,-1/2,1/2) is at kx = 1/(2a), ky = 1/(√2 a): on a pixel when NX is even.
local NX, NY, NZ = 12, 8, 6             -- 46.9 x 44.2 Å, 33.1 Å thick, 5760 atoms
if short then NX, NY, NZ = 4, 3, 4 end  -- 15.6 x 16.6 Å, 22.1 Å thick, 480 atoms
local N_EQUIL = short and 200 or 3000   -- steps of Langevin equilibration
local N_SAMPLE = short and 200 or 6000  -- steps of sampling
local MSD_EVERY = short and 10 or 20    -- steps between MSD frames
local CONF_EVERY = short and 100 or 300 -- steps between diffraction snapshots (2 or 20 configurations)
local ENERGY = 200e3                    -- eV
local GPTS = short and 192 or 512       -- grid points per side (~0.09 Å per pixel)
local CROP = short and 1.6 or 2.0       -- 1/Å, half-width of the images
local SEED = 7

local files = {
  md = outdir .. "/srtio3_etds_md.png",
  einstein = outdir .. "/srtio3_etds_einstein.png",
  profile = outdir .. "/srtio3_etds_profile.png",
}

local function say(fmt, ...) print(string.format(fmt, ...)) end
local t_start = kiln.wtime()
local timings, t_stage = {}, t_start
local function lap(name)
  local now = kiln.wtime()
  timings[#timings + 1] = {name, now - t_stage}
  t_stage = now
end
local function mkdir(dir) os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'") end

say("kiln %s: eTDS of SrTiO3 [110] at %g K, MD frozen phonons vs Einstein%s; output in %s/",
    kiln.version, T, short and " (short mode)" or "", outdir)
mkdir(outdir)

---------------------------------------------------------------- 1. structure and potential
-- the cubic perovskite turned so that [110] runs along z (the beam)
local cubic = kiln.crystal.perovskite{A = "Sr", B = "Ti", X = "O", a = A}
local cell110, zone = kiln.wave.orient(cubic, {1, 1, 0})
local rep = zone.repeat_length                       -- a√2: two atomic planes per repeat
local DZ = rep / 4                                   -- slices of 1.38 Å
-- shift the planes (z = 0 and rep/2) to the middle of a slice, so thermal displacements
-- do not move atoms across slice boundaries
local sto = cell110:supercell(NX, NY, NZ)
do
  local x = sto:positions()
  for i = 1, #sto do x:set(i, 3, x:get(i, 3) + DZ / 2) end
end
local ref = sto:copy()                               -- lattice sites
local cell = sto:cell()
local L = {cell[1][1], cell[2][2], cell[3][3]}
say("  %d atoms in %d x %d x %d [110] cells: %.2f x %.2f Å, %.2f Å thick (x || [%s], y || [%s])",
    #sto, NX, NY, NZ, L[1], L[2], L[3], table.concat(zone.indices[1], " "),
    table.concat(zone.indices[2], " "))

local buck = kiln.potential.buck{cutoff = 10, pairs = {
  {"Sr", "O", A = 1769.51, rho = 0.319894, C = 0},
  {"Ti", "O", A = 14567.40, rho = 0.197584, C = 0},
  {"O", "O", A = 6249.17, rho = 0.231472, C = 0},
  {"Sr", "Sr", A = 0, rho = 1, C = 0}, {"Sr", "Ti", A = 0, rho = 1, C = 0},
  {"Ti", "Ti", A = 0, rho = 1, C = 0}}}
local coul = kiln.potential["coul/dsf"]{cutoff = 10, alpha = 0.2,
                                        charges = {Sr = 1.84, Ti = 2.36, O = -1.40}}
local pot = kiln.potential.sum{buck, coul}

---------------------------------------------------------------- 2. MD
say("\n[1/4] Langevin equilibration at %g K: %.1f ps (dt = %g fs)", T, N_EQUIL * DT / 1000, DT)
sto:set_velocities{T = 2 * T, seed = SEED}            -- half goes into the potential energy
local md = kiln.md.langevin{dt = DT, T = T, damping = 100, seed = SEED + 1}
md:run(sto, pot, N_EQUIL, {thermo = N_EQUIL // 4, progress = true})

-- mean-square displacement from the lattice sites, per element and direction; the
-- displacement of the whole crystal in each frame (drift of the centre of mass under the
-- thermostat) is removed
local syms = ref:symbols()
local x0 = ref:positions_copy()
local msd = {}
for _, s in ipairs{"Sr", "Ti", "O"} do msd[s] = {0, 0, 0, n = 0} end
local nframes = 0
local function msd_observer(step, atoms)
  local x = atoms:positions()
  local n = #atoms
  local u = {}
  local mean = {0, 0, 0}
  for i = 1, n do
    local ui = {}
    for c = 1, 3 do
      local d = x:get(i, c) - x0:get(i, c)
      d = d - L[c] * math.floor(d / L[c] + 0.5)      -- minimum image (orthogonal box)
      ui[c] = d
      mean[c] = mean[c] + d
    end
    u[i] = ui
  end
  for c = 1, 3 do mean[c] = mean[c] / n end
  for i = 1, n do
    local m = msd[syms[i]]
    for c = 1, 3 do m[c] = m[c] + (u[i][c] - mean[c]) ^ 2 end
    m.n = m.n + 1
  end
  nframes = nframes + 1
end

-- the multislice engine (plane wave, slices of DZ) and its md:run observer: every
-- CONF_EVERY steps the atoms of the run are propagated and their diffraction intensity
-- added to the frozen-phonon average (no copies, no trajectory file)
local ms = kiln.multislice.new{energy = ENERGY, gpts = {GPTS, GPTS}, slice = DZ}
local frozen = ms:observer{every = CONF_EVERY}   -- steps that are multiples of CONF_EVERY
lap("equilibrate")
say("\n[2/4] Langevin sampling: %.1f ps; MSD every %d fs, a diffraction snapshot every %d fs",
    N_SAMPLE * DT / 1000, MSD_EVERY, CONF_EVERY)
local Tsum, Tn = 0, 0
md:run(sto, pot, N_SAMPLE, {every = MSD_EVERY, thermo = N_SAMPLE // 4, progress = true,
                           observe = {msd_observer, frozen,
                                      function(_, _, th) Tsum, Tn = Tsum + th.T, Tn + 1 end}})
local pmd = frozen:result{crop = true}
say("  mean T %.1f K; %d MSD frames; %d MD configurations in the diffraction average",
    Tsum / Tn, nframes, pmd.count)
lap("sample + MD patterns")
local sigma, u2 = {}, {}
for _, s in ipairs{"Sr", "Ti", "O"} do
  local m = msd[s]
  local ux, uy, uz = m[1] / m.n, m[2] / m.n, m[3] / m.n
  u2[s] = {ux, uy, uz, ux + uy + uz}
  sigma[s] = math.sqrt((ux + uy + uz) / 3)           -- isotropic Einstein sigma per direction
  say("  %-2s <u²> = %.5f Å² (x %.5f, y %.5f, z %.5f); Einstein σ = %.4f Å", s, ux + uy + uz,
      ux, uy, uz, sigma[s])
end

---------------------------------------------------------------- 3. Einstein model
say("\n[3/4] Einstein model: %d configurations with the MD's σ per element, %d² grid, %g kV",
    pmd.count, GPTS, ENERGY / 1000)
local pein = ms:frozen_phonons{atoms = ref, source = "einstein", sigma = sigma, n = pmd.count,
                               seed = SEED + 2, crop = true}
lap("Einstein patterns")

---------------------------------------------------------------- 4. analysis
say("\n[4/4] Analysis with kiln.tds")
-- cubic Miller indices (h k l) -> k in the pattern plane (1/Å)
local recip = zone.recip
local function kof(hkl)
  return {hkl[1] * recip[1][1] + hkl[2] * recip[2][1] + hkl[3] * recip[3][1],
          hkl[1] * recip[1][2] + hkl[2] * recip[2][2] + hkl[3] * recip[3][2]}
end
local function name(hkl)
  local t = {}
  for i = 1, 3 do
    local v = hkl[i]
    t[i] = v == math.floor(v) and string.format("%d", v) or string.format("%d/2", math.floor(2 * v))
  end
  return "(" .. table.concat(t, ",") .. ")"
end
-- in-zone points (h, -h, l) of each kind inside |k| <= kmax: h + k = 0 is the [110] zone law
local function points(kind, kmax)
  local out = {}
  for h2 = -8, 8 do
    for l2 = -8, 8 do
      local h, l = h2 / 2, l2 / 2
      -- (h, -h, l): h half-integer gives two half indices, l half-integer one more
      local nh = (h2 % 2 ~= 0 and 2 or 0) + (l2 % 2 ~= 0 and 1 or 0)
      local k = kof{h, -h, l}
      local kn = math.sqrt(k[1] ^ 2 + k[2] ^ 2)
      local want = (kind == "R" and nh == 3) or (kind == "M" and nh == 2) or
                   (kind == "X" and nh == 1) or (kind == "Bragg" and nh == 0 and kn > 0)
      if want and kn <= kmax then out[#out + 1] = {hkl = {h, -h, l}, k = k, kn = kn} end
    end
  end
  table.sort(out, function(a, b) return a.kn < b.kn end)
  return out
end

-- mean intensity at points of each kind (first shells, |k| < 1.2 1/Å)
local KSHELL = 1.2
local rows = {}
for _, kind in ipairs{"Bragg", "R", "M", "X"} do
  local pts = points(kind, KSHELL)
  local smd, sein = 0, 0
  for _, p in ipairs(pts) do
    smd = smd + tds.sample(pmd, p.k[1], p.k[2])
    sein = sein + tds.sample(pein, p.k[1], p.k[2])
  end
  rows[#rows + 1] = {kind = kind, n = #pts, md = smd / #pts, ein = sein / #pts}
end
-- one pixel beside each Bragg spot (±kx, ±ky): where acoustic phonons scatter
do
  local pts = points("Bragg", KSHELL)
  local smd, sein, n = 0, 0, 0
  for _, p in ipairs(pts) do
    for _, d in ipairs{{pmd.dk[1], 0}, {-pmd.dk[1], 0}, {0, pmd.dk[2]}, {0, -pmd.dk[2]}} do
      smd = smd + tds.sample(pmd, p.k[1] + d[1], p.k[2] + d[2])
      sein = sein + tds.sample(pein, p.k[1] + d[1], p.k[2] + d[2])
      n = n + 1
    end
  end
  table.insert(rows, 2, {kind = "Bragg±1", n = n, md = smd / n, ein = sein / n})
end

-- the line across the R points: (h, -h, 1/2) from h = -3/2 to 3/2 (R at h = ±1/2, ±3/2,
-- X at h = 0, ±1), averaged over one pixel across
local from, to = {-1.5, 1.5, 0.5}, {1.5, -1.5, 0.5}
local width = math.min(pmd.dk[1], pmd.dk[2])
local prof_md = tds.profile(pmd, {from = from, to = to, recip = recip, width = width})
local prof_ein = tds.profile(pein, {from = from, to = to, recip = recip, width = width})
prof_md.label = string.format("MD frozen phonons (%d configurations)", pmd.count)
prof_ein.label = string.format("Einstein, same <u²> (%d configurations)", pein.count)
local fit = tds.fit_scale(prof_ein, prof_md, {background = true})

-- FWHM of the diffuse peak at R = (1/2,-1/2,1/2) along the line ([1-10]) and along [001]
local R = {0.5, -0.5, 0.5}
local kR = kof(R)
local dir110 = {recip[1][1] - recip[2][1], recip[1][2] - recip[2][2]}   -- (1,-1,0) direction
local dir001 = {recip[3][1], recip[3][2]}
local lenX = math.sqrt(dir110[1] ^ 2 + dir110[2] ^ 2) / 2               -- R to X along the line
local lenM = math.sqrt(dir001[1] ^ 2 + dir001[2] ^ 2) / 2               -- R to M along [001]
local function width_at(p, dir, win)
  local w, info = tds.fwhm(p, {k = kR, along = dir, window = win, search = 1.5 * width,
                               background = "min"})
  if not w then return nil, info end
  return w, info
end
local fw = {}
for _, c in ipairs{{"md", pmd}, {"ein", pein}} do
  fw[c[1]] = {width_at(c[2], dir110, lenX), (width_at(c[2], dir001, lenM))}
end

---------------------------------------------------------------- figures
local marks = {}                                     -- the first shell of R points
for _, p in ipairs(points("R", 0.3)) do marks[#marks + 1] = {k = p.k, label = "R"} end
local line = {prof_md.from_k, prof_md.to_k}
-- one colour scale for both patterns: from the MD's brightest non-central pixel
local hi = 0
for _, p in ipairs(points("Bragg", CROP)) do hi = math.max(hi, tds.sample(pmd, p.k[1], p.k[2])) end
local range = {hi * 1e-5, hi}
local png1, e1 = tds.image(pmd, {file = files.md, crop = CROP, range = range, marks = marks, line = line,
                                 title = string.format("SrTiO3 [110], %g K: MD frozen phonons (%d configurations)",
                                                       T, pmd.count)})
local png2, e2 = tds.image(pein, {file = files.einstein, crop = CROP, range = range, marks = marks,
                                  line = line,
                                  title = string.format("SrTiO3 [110]: Einstein model, same <u²> (%d configurations)",
                                                        pein.count)})
local smarks = {}
for _, h in ipairs{-1.5, -0.5, 0.5, 1.5} do
  local k = kof{h, -h, 0.5}
  local s = math.sqrt((k[1] - prof_md.from_k[1]) ^ 2 + (k[2] - prof_md.from_k[2]) ^ 2)
  smarks[#smarks + 1] = {s = s, label = h == -1.5 and "R points" or nil}
end
-- intensities in units of 1e-6 of the incident beam for readable axis labels
local function scaled(p)
  local I = {}
  for i, v in ipairs(p.I) do I[i] = v * 1e6 end
  return {s = p.s, I = I, label = p.label}
end
local png3, e3 = tds.plot_profiles({scaled(prof_md), scaled(prof_ein)}, {
  file = files.profile, logy = true, marks = smarks,
  title = "SrTiO3 [110]: line (h,-h,1/2), h = -3/2 .. 3/2 (R at half-integer h, X at integer h)",
  xlabel = "distance from (-3/2,3/2,1/2) (1/Å)", ylabel = "intensity per pixel (1e-6 of the incident beam)"})
for _, r in ipairs{{png1, e1}, {png2, e2}, {png3, e3}} do
  print("  " .. (r[1] and ("wrote " .. r[1]) or ("no figure: " .. tostring(r[2]))))
end
lap("analysis + figures")

---------------------------------------------------------------- summary
say("\nSrTiO3 [110] at %.0f K (%d atoms, %d MD / %d Einstein configurations, %g kV, %d² grid, dk = %.4f x %.4f 1/Å)",
    Tsum / Tn, #sto, pmd.count, pein.count, ENERGY / 1000, GPTS, pmd.dk[1], pmd.dk[2])
say("  mean intensity at in-zone points with |k| < %g 1/Å:", KSHELL)
say("  %-8s %4s %14s %14s %10s", "point", "n", "MD", "Einstein", "MD/Ein")
for _, r in ipairs(rows) do
  say("  %-8s %4d %14.4e %14.4e %10.3f", r.kind, r.n, r.md, r.ein, r.md / r.ein)
end
local rR
for _, r in ipairs(rows) do if r.kind == "R" then rR = r end end
say("  TDS intensity ratio MD/Einstein at R: %.3f", rR.md / rR.ein)
local function fwtxt(w) return w and string.format("%.4f 1/Å", w) or "no peak (no half-maximum crossings)" end
say("  FWHM at R %s along [1-10] (window ±%.3f 1/Å): MD %s, Einstein %s", name(R), lenX,
    fwtxt(fw.md[1]), fwtxt(fw.ein[1]))
say("  FWHM at R %s along [001]  (window ±%.3f 1/Å): MD %s, Einstein %s", name(R), lenM,
    fwtxt(fw.md[2]), fwtxt(fw.ein[2]))
say("  (pixel size %.4f 1/Å: widths of one or two pixels are resolution limited)", width)
say("  Einstein profile fitted to the MD profile (scale + background): scale %.3f, background %.3e, R² = %.3f",
    fit.scale, fit.background, fit.r2)
print("\nTimings (wall clock):")
for _, t in ipairs(timings) do say("  %-22s %7.2f s", t[1], t[2]) end
say("  %-22s %7.2f s", "total", kiln.wtime() - t_start)
