-- kiln.train.committee: k models fitted on bootstrap resamples or k-fold splits of a
-- data set; mean prediction and disagreement per atom and per structure.
local U = require "kiln.train.util"
U.internal()

local M = {}
local Committee = {}
Committee.__index = Committee

local function potential_of(m)
  if type(m) == "userdata" then return m end
  if type(m) == "table" and m.potential then return m.potential end
  error("committee member is not a kiln.Potential or a model {potential=...}", 0)
end

-- Predictions of every member for atoms -> mean and spread.
function Committee:predict(atoms)
  local k = #self.members
  local n = #atoms
  local es, fs, vs = {}, {}, {}
  for i, mem in ipairs(self.members) do
    local r = potential_of(mem):compute(atoms)
    es[i], fs[i], vs[i] = r.energy, r.forces, r.virial
  end
  local emean = 0
  for i = 1, k do emean = emean + es[i] end
  emean = emean / k
  local evar = 0
  for i = 1, k do evar = evar + (es[i] - emean) ^ 2 end
  local F = U.Array(n, 3)
  for a = 1, n do
    for c = 1, 3 do
      local s = 0
      for i = 1, k do s = s + fs[i]:get(a, c) end
      F:set(a, c, s / k)
    end
  end
  local Fs = U.Array(n, 1)
  local maxs, sums = 0, 0
  for a = 1, n do
    local s = 0
    for i = 1, k do
      for c = 1, 3 do s = s + (fs[i]:get(a, c) - F:get(a, c)) ^ 2 end
    end
    s = math.sqrt(s / k)
    Fs:set(a, 1, s)
    sums = sums + s
    if s > maxs then maxs = s end
  end
  local V = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}
  for p = 1, 3 do for q = 1, 3 do
    local s = 0
    for i = 1, k do s = s + vs[i][p][q] end
    V[p][q] = s / k
  end end
  return {energy = emean, energy_std = math.sqrt(evar / k), forces = F, force_std = Fs,
          max_force_std = maxs, mean_force_std = n > 0 and sums / n or 0, virial = V,
          energies = es}
end

-- used by kiln.train.metrics/predict: the committee mean as a prediction
function Committee:predict_record(atoms)
  local p = self:predict(atoms)
  return {energy = p.energy, forces = p.forces, virial = p.virial}
end

-- Disagreement per structure: list of {energy_std= (eV/atom), max_force_std=, mean_force_std=}
function Committee:disagreement(ds)
  local out = {}
  for i, r in ipairs(ds) do
    local a = r.atoms or r
    local p = self:predict(a)
    out[i] = {energy_std = p.energy_std / math.max(#a, 1), max_force_std = p.max_force_std,
              mean_force_std = p.mean_force_std}
  end
  return out
end

-- A single kiln.Potential for the committee: for SNAP or qSNAP members (linear in their
-- coefficients, so the mean model predicts the mean) with the same
-- hyperparameters, the mean of the coefficients (itself a SNAP model, written next to
-- the first member's files); otherwise the first member's potential.
function Committee:potential()
  if self._potential then return self._potential end
  local first = self.members[1]
  local same = type(first) == "table" and first.kind == "snap"
  if same then
    for _, m in ipairs(self.members) do
      if type(m) ~= "table" or m.kind ~= "snap" or m.coeff:shape() ~= first.coeff:shape() or
         m.params.twojmax ~= first.params.twojmax or m.baseline ~= first.baseline then
        same = false
      end
    end
  end
  if not same then
    self._potential = potential_of(first)
    return self._potential
  end
  local snap = require "kiln.train.snap"
  local k = #self.members
  local x = {}
  for i = 1, first.coeff:shape() do
    local s = 0
    for _, m in ipairs(self.members) do s = s + m.coeff:get(i, 1) end
    x[i] = s / k
  end
  local prefix = first.files and (first.files.coeff:gsub("%.snapcoeff$", "") .. "_mean") or nil
  local model = snap.snap_model(first.params, x, {out = prefix, baseline = first.baseline,
                                                  comment = "mean of a committee of " .. k})
  self.mean_model = model
  self._potential = model.potential
  return self._potential
end

local COMMITTEE_KEYS = {"fit", "data", "k", "method", "seed", "members"}

function M.committee(o)
  local fname = "kiln.train.committee"
  o = U.check_keys(fname, o, COMMITTEE_KEYS)
  local self = setmetatable({}, Committee)
  if o.members then
    if type(o.members) ~= "table" or #o.members == 0 then U.fail(fname, "members must be a list of models") end
    self.members = o.members
    self.k = #o.members
    return self
  end
  local fit = U.need(fname, o, "fit", "function", "function(ds, i) return model end")
  local ds = U.dataset(fname, U.need(fname, o, "data"))
  local k = o.k or 4
  if math.type(k) ~= "integer" or k < 1 then U.fail(fname, "k must be an integer >= 1") end
  local method = o.method or "bootstrap"
  local seed = o.seed or 1
  local n = #ds
  local subsets = {}
  if method == "bootstrap" then
    local crng = require "kiln.c.rng"
    local rng = crng.new(seed, 13)
    for i = 1, k do
      local sub = {}
      for j = 1, n do sub[j] = ds[math.floor(rng:uniform() * n) + 1] end
      subsets[i] = sub
    end
  elseif method == "kfold" then
    if k < 2 or k > n then U.fail(fname, string.format("kfold needs 2 <= k <= %d structures (got %d)", n, k)) end
    local perm = U.permutation(n, seed, 17)
    local fold = {}
    for j, p in ipairs(perm) do fold[p] = (j - 1) % k + 1 end
    for i = 1, k do
      local sub = {}
      for j = 1, n do if fold[j] ~= i then sub[#sub + 1] = ds[j] end end
      subsets[i] = sub
    end
    self.folds = fold
  else
    U.fail(fname, "method must be \"bootstrap\" or \"kfold\" (got " .. tostring(method) .. ")")
  end
  self.members = {}
  for i = 1, k do
    self.members[i] = fit(subsets[i], i)
    if self.members[i] == nil then U.fail(fname, "fit returned nil for member " .. i) end
  end
  self.k, self.method, self.seed = k, method, seed
  return self
end

M.Committee = Committee
return M
