-- Benchmark driver for scripts/bench-mlip.sh, section "gap": a SOAP-GAP for Si
-- (nmax 8, lmax 6, cutoff 5 Å, zeta 4, 200 sparse points) fitted to Stillinger-Weber
-- labels of rattled 216-atom diamond cells, then the cost of one energy+forces+virial
-- evaluation per atom on 216 atoms, one thread (OMP_NUM_THREADS=1 from the script).
-- usage: kiln scripts/bench/mlip_gap.lua [NREP]
-- prints "kiln gap natoms N fit_s F us_per_atom U force_rmse R"
local kiln = require "kiln"
local train = kiln.train
local nrep = tonumber(arg[1] or "20")
local sw = kiln.potential.sw{file = "/usr/share/lammps/potentials/Si.sw"}
local base = kiln.crystal.diamond{symbol = "Si", a = 5.431}:supercell(3, 3, 3)
local ds = {}
for k = 1, 6 do
  local a = base:copy()
  a:rattle{sigma = 0.05 + 0.02 * k, seed = 100 + k}
  ds[#ds + 1] = a
end
ds = train.label(ds, sw)
local out = os.getenv("OUT") or "build/bench"
local t0 = kiln.wtime()
local model = train.gap{data = ds, soap = {nmax = 8, lmax = 6, cutoff = 5.0, elements = {"Si"}},
                        nsparse = 200, zeta = 4, sigma = {energy = 0.001, force = 0.05},
                        out = out .. "/si_bench.gap"}
local t_fit = kiln.wtime() - t0
local test = base:copy()
test:rattle{sigma = 0.1, seed = 999}
local pot = model.potential
pot:compute(test)
local t1 = kiln.wtime()
for _ = 1, nrep do test:positions()[1][1] = test:positions()[1][1] + 1e-6; pot:compute(test) end
local per = (kiln.wtime() - t1) / nrep / #test
local m = train.metrics(pot, train.label({test}, sw))
io.write(string.format("kiln gap natoms %d fit_s %.3f us_per_atom %.2f force_rmse %.4f\n",
  #test, t_fit, per * 1e6, m.force.rmse))
