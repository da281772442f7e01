-- Benchmark driver for scripts/bench-mlip.sh, section "train": the FitSNAP Ta data set
-- (../shared/data/fitsnap-Ta-JCP2014, 363 structures, 4224 atoms), 2J=6 SNAP with the
-- Ta06A hyperparameters, FitSNAP's group weights and ZBL reference, plain least squares.
-- usage: kiln scripts/bench/mlip_train.lua [quadratic]
-- prints one line: "kiln train read_s R fit_s F design_s D rows N cols C force_mae M force_rmse R2"
local kiln = require "kiln"
local train = kiln.train
local DATA = os.getenv("DATA") or "../shared/data/fitsnap-Ta-JCP2014"
local quadratic = arg[1] == "quadratic"
local t0 = kiln.wtime()
local ds = train.read(DATA .. "/JSON")
local fin = train.read_fitsnap_input(DATA .. "/ref_Ta-example.in")
local t_read = kiln.wtime() - t0
local s = fin.snap
local zbl = kiln.potential.zbl{inner = 4.0, outer = 4.8, elements = {"Ta"}, z = {73}}
local out = os.getenv("OUT") or "build/bench"
local model = train.snap{data = ds, twojmax = s.twojmax, rcutfac = s.rcutfac, rfac0 = s.rfac0,
                         rmin0 = s.rmin0, radelem = s.radelem, wj = s.wj, elements = s.elements,
                         weights = fin.weights, lambda = quadratic and 1e-6 or 0, baseline = zbl,
                         quadratic = quadratic, out = out .. "/Ta_bench"}
local rows, cols = model.nrows, model.coeff:shape()
io.write(string.format("kiln train%s read_s %.3f fit_s %.3f design_s %.3f rows %d cols %d force_mae %.5f force_rmse %.5f energy_mae_meV %.3f\n",
  quadratic and "_q" or "", t_read, model.time, model.time_design, rows, cols,
  model.metrics.force.mae, model.metrics.force.rmse, model.metrics.energy.mae * 1e3))
