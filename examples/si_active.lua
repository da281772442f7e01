-- kiln example: active learning of a silicon potential from scratch.
--
-- A committee of SNAP models is grown by kiln.active: start from a few rattled diamond cells
-- labelled by the oracle, explore by Langevin MD with the committee at several temperatures,
-- label the snapshots where the committee disagrees most (farthest-point diverse), retrain,
-- repeat until the disagreement falls below the threshold. The oracle is Stillinger–Weber
-- (cheap, so the whole loop takes seconds), or CP2K DFT (PBE) with one switch:
--
--   bin/kiln examples/si_active.lua                     SW oracle, 64-atom cell, 8 iterations
--   KILN_ORACLE=cp2k bin/kiln examples/si_active.lua    CP2K oracle (8-atom cell; minutes per
--                                                       structure on one core: see doc/oracle.md)
--   KILN_SHORT=1 bin/kiln examples/si_active.lua        short mode (run by `make check`)
--   KILN_OUTDIR=dir                                     output directory (default si_active_out)
--
-- Rerunning continues from the checkpoint in <outdir>/al (delete it to start again).
-- Writes <outdir>/al/{dataset.xyz, state.lua, progress.png, disagreement_NNN.png} and the
-- final mean model <outdir>/si_al.snapcoeff / .snapparam (runs in LAMMPS with pair_style snap).
-- Documented in doc/active.md.
local kiln = require "kiln"

local short = os.getenv("KILN_SHORT") == "1"
local outdir = os.getenv("KILN_OUTDIR") or "si_active_out"
local ORACLE = os.getenv("KILN_ORACLE") or "sw"     -- "sw" or "cp2k"

---------------------------------------------------------------- settings
local A = 5.431                                     -- Å, diamond Si
local SW_FILE = "/usr/share/lammps/potentials/Si.sw"
local cp2k = ORACLE == "cp2k"
local NCELL = (short or cp2k) and 1 or 2            -- conventional cells per edge (8 or 64 atoms)
local TEMPS = short and {300, 900} or {300, 600, 900, 1200}   -- K, exploration temperatures
local STEPS = short and 100 or 1000                 -- MD steps per temperature and iteration
local EVERY = short and 10 or 50                    -- steps between snapshots
local ITERATIONS = short and 2 or (cp2k and 4 or 8)
local SELECT = {threshold = 0.05, max = cp2k and 3 or 6}      -- eV/Å, structures per iteration
local NINITIAL = cp2k and 4 or 6                    -- rattled + strained starting structures
local NTEST = short and 4 or (cp2k and 4 or 20)     -- held-out test structures
local SNAP = {twojmax = short and 4 or 6, lambda = 1e-6}      -- SNAP hyperparameters (rcut 4.68 Å)
local K = 4                                         -- committee size (bootstrap)

local function mkdir(dir) os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'") end
mkdir(outdir)

---------------------------------------------------------------- the oracle
local sw = kiln.potential.sw{file = SW_FILE}
local oracle
if cp2k then
  -- PBE, DZVP-MOLOPT-SR-GTH, 300 Ry, 2x2x2 k-points; labels cached in <outdir>/cp2k_cache
  oracle = kiln.oracle.cp2k{cutoff = 300, rel_cutoff = 60, kpoints = {2, 2, 2}, xc = "PBE",
                            basis = "DZVP-MOLOPT-SR-GTH", potential = "GTH-PBE",
                            timeout = 3600, threads = 1, cache = outdir .. "/cp2k_cache"}
else
  oracle = kiln.oracle.potential(sw)
end
print(string.format("oracle: %s; cell %d atoms; T = %s K; %d iterations", ORACLE, 8 * NCELL ^ 3,
                    table.concat(TEMPS, ", "), ITERATIONS))

local start = kiln.crystal.diamond{symbol = "Si", a = A}:supercell(NCELL, NCELL, NCELL)

---------------------------------------------------------------- held-out test data
-- Snapshots of reference dynamics (SW Langevin MD, independent of the learning loop),
-- labelled by the oracle.
local function test_set()
  local frames = {}
  local per = math.max(1, NTEST // #TEMPS)
  for ti, T in ipairs(TEMPS) do
    local a = start:copy()
    a:set_velocities{T = T, seed = 500 + ti}
    local md = kiln.md.langevin{dt = 1.0, T = T, damping = 100, seed = 500 + ti}
    md:run(a, sw, 500, {thermo = 0, progress = false})
    for k = 1, per do
      md:run(a, sw, 100, {thermo = 0, progress = false})
      frames[#frames + 1] = {atoms = a:copy(), group = string.format("T%d", T)}
    end
  end
  return oracle:label(frames)
end
local t0 = kiln.wtime()
local test = test_set()
print(string.format("held-out test set: %d structures (%.1f s)", #test, kiln.wtime() - t0))

---------------------------------------------------------------- active learning
local report = kiln.active.run{
  oracle = oracle,
  initial = {atoms = start, n = NINITIAL, rattle = 0.05, strain = 0.02},
  fit = function(ds) return kiln.train.snap{data = ds, twojmax = SNAP.twojmax, lambda = SNAP.lambda,
                                            metrics = false} end,
  k = K,
  explore = {T = TEMPS, steps = STEPS, every = EVERY, dt = 1.0},
  select = SELECT,
  iterations = ITERATIONS,
  validation = test,
  dir = outdir .. "/al",
  resume = not short,                               -- the short mode always starts afresh
}

---------------------------------------------------------------- report
print("\niter  n_train  snapshots  above  labelled  disagreement mean/max (eV/Å)  test RMSE E (meV/atom)  F (eV/Å)")
for _, it in ipairs(report.iterations) do
  print(string.format("%4d  %7d  %9d  %5d  %8d  %13.4f / %.4f  %22.2f  %8.4f", it.iteration, it.n_train,
                      it.n_explored, it.n_candidates, it.n_selected, it.disagreement.mean,
                      it.disagreement.max, 1000 * it.rmse.energy, it.rmse.force))
end
local m = kiln.train.metrics(report.potential, test)
print(string.format("\nfinal model: %d training structures%s; %d oracle evaluations in this run " ..
                    "(with the test set), %d cache hits", report.final.n_train,
                    report.converged and " (converged)" or "", oracle.calls, oracle.hits))
print(string.format("held-out test (%d structures): energy RMSE %.2f meV/atom (MAE %.2f), " ..
                    "force RMSE %.4f eV/Å (MAE %.4f)", #test, 1000 * m.energy.rmse, 1000 * m.energy.mae,
                    m.force.rmse, m.force.mae))
if cp2k and oracle.calls > 0 then
  print(string.format("CP2K cost: %.1f s per structure (%d evaluations)", oracle.seconds / oracle.calls,
                      oracle.calls))
end
local model = report.model
if model and model.params and model.coefficients then
  local files = kiln.train.write_snap(outdir .. "/si_al", model.params, model.coefficients,
                                      "active learning, " .. ORACLE .. " oracle")
  print("model: " .. files.coeff .. ", " .. files.param)
end
print(string.format("total %.1f s", kiln.wtime() - t0))

-- sanity checks of the short mode (make check)
if short then
  local it = report.iterations
  assert(#it >= 1 and report.final.n_train > NINITIAL, "the loop added no data")
  assert(m.force.rmse < 0.5, "force RMSE " .. m.force.rmse)
end
