-- kiln example: fit a SNAP potential for tantalum to the data of Thompson et al.
-- (J. Comput. Phys. 285, 316 (2015); FitSNAP's Ta_Linear_JCP2014 example), compare with
-- FitSNAP's own fit, and run MD with the result.
--
-- 2J = 6 bispectrum (the Ta06A hyperparameters), FitSNAP's group weights (read from its
-- input file ref_Ta-example.in), ZBL reference potential (inner 4.0 Å, outer 4.8 Å, Z = 73)
-- subtracted from the targets before the fit and added back to the model, plain least
-- squares (lambda = 0, FitSNAP's SVD solver). Errors per group are printed beside FitSNAP's
-- reference table (ref_Ta_metrics.md): energy meV/atom, force eV/Å, stress GPa.
-- Then: Langevin equilibration of bcc Ta at 300 K with the fitted potential and an NVE run,
-- reporting the temperature and the energy drift.
--
--   bin/kiln examples/ta_snap.lua                   full run (fit + 2 ps Langevin + 5 ps NVE)
--   KILN_SHORT=1 bin/kiln examples/ta_snap.lua      short mode (run by `make check`): the same
--                                                   fit (it takes seconds), a few MD steps
--   KILN_OUTDIR=dir bin/kiln examples/ta_snap.lua   output directory (default ta_snap_out)
--
-- Writes Ta_kiln.snapcoeff / Ta_kiln.snapparam (LAMMPS files: pair_style hybrid/overlay
-- zbl 4.0 4.8 snap, as FitSNAP's example), ta_parity.png and ta_metrics.txt.
-- Documented in doc/train.md.
local kiln = require "kiln"
local train = kiln.train

local short = os.getenv("KILN_SHORT") == "1"
local outdir = os.getenv("KILN_OUTDIR") or "ta_snap_out"
local DATA = "../shared/data/fitsnap-Ta-JCP2014"
do   -- also when run from examples/
  local probe = io.open(DATA .. "/ref_Ta-example.in")
  if probe then probe:close() else DATA = "../" .. DATA end
end

local T = 300                          -- K
local DT = 1.0                         -- fs (tantalum, 181 amu: 1 fs is conservative)
local N_EQUIL = short and 20 or 2000   -- Langevin steps
local N_NVE = short and 20 or 5000     -- NVE steps
local NCELL = short and 3 or 5         -- bcc cells per edge (54 or 250 atoms)

os.execute("mkdir -p '" .. outdir .. "'")
local t_start = kiln.wtime()

---------------------------------------------------------------- data and settings
print("[1/4] Reading the FitSNAP Ta data set and input file")
local t0 = kiln.wtime()
local ds = train.read(DATA .. "/JSON")
local fin = train.read_fitsnap_input(DATA .. "/ref_Ta-example.in")
local sum = train.summary(ds)
print(string.format("  %d structures, %d atoms, %d groups (%.2f s)", sum.n, sum.natoms,
                    #train.groups(ds), kiln.wtime() - t0))
local s = fin.snap
print(string.format("  SNAP 2J=%d rcutfac=%g rfac0=%g rmin0=%g radelem=%g wj=%g; reference: %s",
                    s.twojmax, s.rcutfac, s.rfac0, s.rmin0, s.radelem[1], s.wj[1], fin.reference))

-- FitSNAP's reference potential: hybrid/overlay zero 10.0 zbl 4.0 4.8, pair_coeff zbl 73 73
local zbl = kiln.potential.zbl{inner = 4.0, outer = 4.8, elements = {"Ta"}, z = {73}}

---------------------------------------------------------------- fit
print("[2/4] Fitting (weighted least squares, FitSNAP group weights)")
local model = train.snap{data = ds, twojmax = s.twojmax, rcutfac = s.rcutfac, rfac0 = s.rfac0,
                         rmin0 = s.rmin0, radelem = s.radelem, wj = s.wj, elements = s.elements,
                         weights = fin.weights, lambda = 0, baseline = zbl,
                         out = outdir .. "/Ta_kiln"}
print(string.format("  fit time %.2f s (descriptors and design rows %.2f s), %d rows x %d columns, rank %d",
                    model.time, model.time_design, model.nrows, model.coeff:shape(), model.rank))
print("  files: " .. model.files.coeff .. ", " .. model.files.param)

-- FitSNAP's coefficients, for comparison
local snapio = require "kiln.train.snap"
local ref = snapio.read_snapcoeff(DATA .. "/ref_Ta_pot.snapcoeff").coeff[1]
local maxrel = 0
for k = 1, #ref do
  maxrel = math.max(maxrel, math.abs(model.coefficients[1][k] - ref[k]) / math.abs(ref[k]))
end
print(string.format("  largest relative difference to FitSNAP's coefficients: %.2g", maxrel))

---------------------------------------------------------------- errors vs FitSNAP
print("[3/4] Errors per group (training set, as FitSNAP reports them)")
-- FitSNAP's table: rows ('group', 'Unweighted', 'Energy'|'Force'|'Stress'), ncount mae rmse rsq
local refm = {}
for line in io.lines(DATA .. "/ref_Ta_metrics.md") do
  local g, w, kind, n, mae, rmse = line:match("%('([^']+)', '(%a+)', '(%a+)'%)%s*|%s*(%S+)%s*|%s*(%S+)%s*|%s*(%S+)%s*|")
  if g and w == "Unweighted" then
    g = g == "*ALL" and "ALL" or g
    refm[g] = refm[g] or {}
    refm[g][kind] = {n = tonumber(n), mae = tonumber(mae), rmse = tonumber(rmse)}
  end
end
local m = model.metrics
local lines = {}
local function out(l) print(l); lines[#lines + 1] = l end
out(string.format("  %-14s %19s %19s %17s %17s %15s %15s", "", "E MAE meV/atom", "E RMSE meV/atom",
                  "F MAE eV/Å", "F RMSE eV/Å", "S MAE GPa", "S RMSE GPa"))
out(string.format("  %-14s %9s %9s %9s %9s %8s %8s %8s %8s %7s %7s %7s %7s", "group", "kiln", "FitSNAP",
                  "kiln", "FitSNAP", "kiln", "FitSNAP", "kiln", "FitSNAP", "kiln", "FitSNAP", "kiln", "FitSNAP"))
local names = train.groups(ds)
names[#names + 1] = "ALL"
local BAR_GPA = 1e-4
for _, g in ipairs(names) do
  local k = g == "ALL" and m or m.groups[g]
  local r = refm[g] or {}
  local function rv(kind, f, scale) return r[kind] and r[kind][f] * scale or 0 / 0 end
  out(string.format("  %-14s %9.3f %9.3f %9.3f %9.3f %8.4f %8.4f %8.4f %8.4f %7.3f %7.3f %7.3f %7.3f", g,
    k.energy.mae * 1e3, rv("Energy", "mae", 1e3), k.energy.rmse * 1e3, rv("Energy", "rmse", 1e3),
    k.force.mae, rv("Force", "mae", 1), k.force.rmse, rv("Force", "rmse", 1),
    k.stress.mae, rv("Stress", "mae", BAR_GPA), k.stress.rmse, rv("Stress", "rmse", BAR_GPA)))
end
local f = assert(io.open(outdir .. "/ta_metrics.txt", "w"))
f:write(table.concat(lines, "\n"), "\n")
f:close()
local fmae, fref = m.force.mae, refm.ALL and refm.ALL.Force.mae
if fref then
  print(string.format("  force MAE %.4f eV/Å (FitSNAP %.4f), energy MAE %.1f meV/atom (FitSNAP %.1f)",
                      fmae, fref, m.energy.mae * 1e3, refm.ALL.Energy.mae * 1e3))
  assert(math.abs(fmae - fref) < 0.02 * fref, "the fit does not reproduce FitSNAP's force error")
end
local png, perr = train.parity(model, ds, {file = outdir .. "/ta_parity.png",
                                           title = "SNAP Ta (2J=6) + ZBL, FitSNAP JCP2014 training set"})
print("  parity plot: " .. (png or ("not made: " .. tostring(perr))))

---------------------------------------------------------------- MD with the fitted potential
print(string.format("[4/4] MD of bcc Ta (%d atoms) at %g K with the fitted potential", 2 * NCELL ^ 3, T))
local a = kiln.crystal.bcc{symbol = "Ta", a = 3.316}:supercell(NCELL, NCELL, NCELL)
a:set_velocities{T = T, seed = 7}
local pot = model.potential
local lv = kiln.md.langevin{dt = DT, T = T, damping = 100, seed = 1}
lv:run(a, pot, N_EQUIL, {thermo = 0})
local nve = kiln.md.verlet{dt = DT}
local rows = {}
local tm = kiln.wtime()
nve:run(a, pot, N_NVE, {thermo = 0, every = math.max(1, N_NVE // 100),
                        observe = {function(step, _, th) rows[#rows + 1] = {th.time, th.etot, th.T} end}})
local tmd = kiln.wtime() - tm
local Tm, n = 0, #rows
for _, r in ipairs(rows) do Tm = Tm + r[3] end
Tm = Tm / n
-- drift: least-squares slope of etot(t)
local st, se, stt, ste = 0, 0, 0, 0
for _, r in ipairs(rows) do st = st + r[1]; se = se + r[2]; stt = stt + r[1] ^ 2; ste = ste + r[1] * r[2] end
local slope = n > 1 and (n * ste - st * se) / (n * stt - st * st) or 0     -- eV/fs
local natoms = #a
print(string.format("  NVE %d steps: mean T %.1f K, energy drift %.3g meV/atom/ps, %.0f atom-steps/s",
                    N_NVE, Tm, slope * 1e3 * 1e3 / natoms, natoms * N_NVE / tmd))
print(string.format("done in %.1f s; outputs in %s/", kiln.wtime() - t_start, outdir))
