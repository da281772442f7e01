-- kiln.train: MLIP training: data sets (extxyz, mlearn JSON, FitSNAP JSON), splits,
-- SNAP/qSNAP (weighted ridge) and SOAP-GAP (sparse GP) fits, metrics, parity plots,
-- learning curves, sweeps and committees. See doc/train.md.
local M = {}
M.__help = [[
kiln.train: fit machine-learned potentials (see doc/train.md).
  read(path, {format=, group=}) write label summary groups select concat split
  snap{data=, twojmax=, weights=, lambda=, baseline=, out=}   SNAP/qSNAP (LAMMPS files)
  gap{data=, soap=, nsparse=, zeta=, sigma=, e0=, out=}       SOAP-GAP (kiln soap_gap file)
  metrics(model, ds) report(m) parity(model, ds, {file=}) learning_curve{...} sweep{...}
  committee{fit=, data=, k=, method=}  read_fitsnap_input(file)]]
local parts = {"kiln.train.data", "kiln.train.metrics", "kiln.train.snap", "kiln.train.gap",
               "kiln.train.committee"}
for _, name in ipairs(parts) do
  local ok, m = pcall(require, name)
  if ok then for k, v in pairs(m) do M[k] = v end
  elseif not tostring(m):find("module '" .. name .. "' not found", 1, true) then error(m, 0) end
end
return M
