-- kiln.train.snap: weighted ridge fits of SNAP and qSNAP models (linear in the
-- bispectrum columns, one beta0 per element), written as LAMMPS .snapcoeff/.snapparam.
-- Row conventions follow FitSNAP (see doc/train.md):
--   energy rows: (E - E_baseline)/N (eV/atom), columns [count_e/N | sum_i B_i/N]
--   force rows:  F - F_baseline (eV/Å)
--   virial rows: (W - W_baseline)/N (eV/atom, Voigt xx yy zz yz xz xy), or, with a
--                stress= weight, the pressure tensor W/V in bar (FitSNAP's stress rows)
-- Each row's residual is multiplied by its weight (FitSNAP's w), so the least-squares
-- weight passed to kiln.ml.ridge is its square.
local U = require "kiln.train.util"
U.internal()

local M = {}

local function kiln() return require "kiln" end

-- number of linear bispectrum components for twojmax (LAMMPS ordering j >= j1)
function M.snap_ncoeff(twojmax)
  local n = 0
  for j1 = 0, twojmax do
    for j2 = 0, j1 do
      for j = j1 - j2, math.min(twojmax, j1 + j2), 2 do
        if j >= j1 then n = n + 1 end
      end
    end
  end
  return n
end

local fmtnum = U.fmtnum

-- Write LAMMPS .snapparam and .snapcoeff files. params: {twojmax, rcutfac, rfac0,
-- rmin0, switchflag, bzeroflag, quadratic, elements, radelem, wj}; coeff[e] = list of
-- the element's coefficients (beta0 first).
function M.write_snap(prefix, p, coeff, comment)
  U.mkdir(U.dirname(prefix))
  local pf = prefix .. ".snapparam"
  local cf = prefix .. ".snapcoeff"
  local f = assert(io.open(pf, "w"))
  local stamp = "# DATE: " .. os.date("!%Y-%m-%d") .. " UNITS: metal CONTRIBUTOR: kiln.train.snap\n"
  f:write(stamp, "# kiln SNAP parameters", comment and (" (" .. comment .. ")") or "", "\n\n")
  f:write("# required\n")
  f:write("rcutfac ", fmtnum(p.rcutfac), "\n")
  f:write("twojmax ", tostring(math.tointeger(p.twojmax)), "\n\n# optional\n")
  f:write("rfac0 ", fmtnum(p.rfac0), "\n")
  f:write("rmin0 ", fmtnum(p.rmin0), "\n")
  f:write("switchflag ", p.switchflag == false and "0" or "1", "\n")
  f:write("bzeroflag ", p.bzeroflag and "1" or "0", "\n")
  f:write("quadraticflag ", p.quadratic and "1" or "0", "\n")
  f:close()
  f = assert(io.open(cf, "w"))
  f:write(stamp, "# kiln SNAP coefficients", comment and (" (" .. comment .. ")") or "", "\n\n")
  local ncoeff = #coeff[1]
  f:write(string.format("%d %d\n", #p.elements, ncoeff))
  for e, name in ipairs(p.elements) do
    f:write(string.format("%s %s %s\n", name, fmtnum(p.radelem[e]), fmtnum(p.wj[e])))
    if #coeff[e] ~= ncoeff then error("write_snap: element " .. name .. " has a different coefficient count", 2) end
    for k = 1, ncoeff do f:write(fmtnum(coeff[e][k]), "\n") end
  end
  f:close()
  return {coeff = cf, param = pf}
end

-- Read a .snapcoeff file -> elements list, radelem, wj, coeff[e] lists
function M.read_snapcoeff(file)
  local words = {}
  for line in io.lines(file) do
    line = line:gsub("#.*", "")
    for w in line:gmatch("%S+") do words[#words + 1] = w end
  end
  local k = 1
  local function nxt() local w = words[k]; k = k + 1; return w end
  local nel, nc = tonumber(nxt()), tonumber(nxt())
  local out = {elements = {}, radelem = {}, wj = {}, coeff = {}}
  for e = 1, nel do
    out.elements[e] = nxt()
    out.radelem[e] = tonumber(nxt())
    out.wj[e] = tonumber(nxt())
    local c = {}
    for i = 1, nc do c[i] = tonumber(nxt()) end
    out.coeff[e] = c
  end
  return out
end

function M.read_snapparam(file)
  local p = {}
  for line in io.lines(file) do
    line = line:gsub("#.*", "")
    local k, v = line:match("^%s*(%S+)%s+(%S+)")
    if k then p[k] = tonumber(v) or v end
  end
  return p
end

---------------------------------------------------------------- parameters
local SNAP_KEYS = {"data", "twojmax", "rcutfac", "rfac0", "rmin0", "radelem", "wj", "elements",
                   "quadratic", "switchflag", "bzeroflag", "weights", "lambda", "baseline", "out",
                   "design", "keep_design", "verbose", "metrics"}

local function params_of(fname, o, ds)
  local p = {}
  p.twojmax = o.twojmax or 6
  if math.type(p.twojmax) ~= "integer" and not (type(p.twojmax) == "number" and p.twojmax == math.floor(p.twojmax)) then
    U.fail(fname, "twojmax must be an integer (got " .. tostring(p.twojmax) .. ")")
  end
  p.twojmax = math.tointeger(p.twojmax)
  p.rcutfac = o.rcutfac or 4.67637
  p.rfac0 = o.rfac0 or 0.99363
  p.rmin0 = o.rmin0 or 0.0
  p.switchflag = o.switchflag ~= false
  p.bzeroflag = o.bzeroflag or false
  p.quadratic = o.quadratic or false
  local el = o.elements
  if el == nil then
    local seen, list = {}, {}
    for _, r in ipairs(ds) do
      for _, s in ipairs(r.atoms:symbols()) do
        if not seen[s] then seen[s] = true; list[#list + 1] = s end
      end
    end
    table.sort(list)
    el = list
  end
  if type(el) == "string" then el = {el} end
  p.elements = el
  local function perel(v, default, what)
    if v == nil then v = default end
    if type(v) == "number" then
      local t = {}
      for i = 1, #el do t[i] = v end
      return t
    end
    if type(v) ~= "table" or #v ~= #el then
      U.fail(fname, string.format("%s must be a number or a list of %d numbers (one per element)", what, #el))
    end
    return v
  end
  p.radelem = perel(o.radelem, 0.5, "radelem")
  p.wj = perel(o.wj, 1.0, "wj")
  return p
end

local function descriptor_for(p)
  return kiln().descriptor.snap{twojmax = p.twojmax, rcutfac = p.rcutfac, rfac0 = p.rfac0,
    rmin0 = p.rmin0, elements = p.elements, radelem = p.radelem, wj = p.wj,
    switchflag = p.switchflag, bzeroflag = p.bzeroflag, quadratic = p.quadratic}
end
M._descriptor_for = descriptor_for

-- weights for a record: {energy=, force=, virial=, stress=}
local DEFAULT_W = {energy = 1.0, force = 1.0, virial = 0.1}
local function weights_for(wt, r)
  local d = wt and wt.default or {}
  local g = wt and wt[r.group or "all"] or {}
  local out = {}
  for _, k in ipairs{"energy", "force", "virial", "stress"} do
    local v = g[k]
    if v == nil then v = d[k] end
    if v == nil and not (k == "virial" and (g.stress or d.stress)) then v = DEFAULT_W[k] end
    out[k] = v
  end
  local s = r.weight or 1
  for k, v in pairs(out) do out[k] = v * s end
  return out
end
M._weights_for = weights_for

local function check_weights(fname, wt)
  if wt == nil then return end
  if type(wt) ~= "table" then U.fail(fname, "weights must be a table {default={energy=, force=, virial=}, <group>={...}}") end
  for g, t in pairs(wt) do
    if type(t) ~= "table" then U.fail(fname, "weights." .. tostring(g) .. " must be a table {energy=, force=, virial=}") end
    for k, v in pairs(t) do
      if k ~= "energy" and k ~= "force" and k ~= "virial" and k ~= "stress" then
        U.fail(fname, string.format("weights.%s: unknown key '%s' (energy, force, virial, stress)", g, tostring(k)))
      end
      if type(v) ~= "number" or v < 0 then
        U.fail(fname, string.format("weights.%s.%s must be a number >= 0", g, k))
      end
    end
  end
end

---------------------------------------------------------------- design assembly
-- Per-structure design blocks (descriptor rows + baseline-subtracted targets), kept so
-- that refits with new weights or lambda do not recompute descriptors.
local function structure_blocks(d, r, baseline, nel)
  local n = #r.atoms
  local want_f = r.forces ~= nil
  local want_v = r.virial ~= nil
  -- one block of descriptor columns per centre element (one beta vector per element)
  local des = d:design(r.atoms, {forces = want_f, virial = want_v, per_element = nel > 1})
  local blk = {n = n, design = des, group = r.group or "all", V = r.atoms:volume(), rec = r}
  local base = baseline and baseline:compute(r.atoms) or nil
  if r.energy then blk.e = r.energy - (base and base.energy or 0) end
  if want_f then
    local F = {}
    for i = 1, n do
      for c = 1, 3 do
        F[3 * (i - 1) + c] = r.forces:get(i, c) - (base and base.forces:get(i, c) or 0)
      end
    end
    blk.f = F
  end
  if want_v then
    local vr = U.voigt(r.virial)
    local vb = base and U.voigt(base.virial) or {0, 0, 0, 0, 0, 0}
    blk.v = {}
    for k = 1, 6 do blk.v[k] = vr[k] - vb[k] end
  end
  local c = des.counts or {}
  blk.counts = {}
  for e = 1, nel do blk.counts[e] = c[e] or 0 end
  return blk
end

-- Assemble A (rows x (nel + ncols)), b and ridge weights from blocks.
local function assemble(blocks, wt, nel, ncols)
  local rows = 0
  local plan = {}
  for bi, blk in ipairs(blocks) do
    local w = weights_for(wt, blk.rec)
    plan[bi] = w
    if blk.e and w.energy > 0 then rows = rows + 1 end
    if blk.f and w.force > 0 then rows = rows + 3 * blk.n end
    if blk.v and ((w.stress or 0) > 0 or (not w.stress and (w.virial or 0) > 0)) then rows = rows + 6 end
  end
  if rows == 0 then return nil end
  local nc = nel + ncols
  local A = U.Array(rows, nc)
  local b = U.Array(rows, 1)
  local wv = U.Array(rows, 1)
  local kind = {}
  local row = 0
  for bi, blk in ipairs(blocks) do
    local w = plan[bi]
    local des = blk.design
    local n = blk.n
    if blk.e and w.energy > 0 then
      row = row + 1
      local E = des.energy
      for e = 1, nel do A:set(row, e, blk.counts[e]) end
      for k = 1, ncols do A:set(row, nel + k, E:get(1, k)) end
      b:set(row, 1, blk.e)
      local s = w.energy / n
      wv:set(row, 1, s * s)
      kind[row] = 1
    end
    if blk.f and w.force > 0 then
      local Fd = des.forces
      local s = w.force * w.force
      for q = 1, 3 * n do
        row = row + 1
        for k = 1, ncols do A:set(row, nel + k, Fd:get(q, k)) end
        b:set(row, 1, blk.f[q])
        wv:set(row, 1, s)
        kind[row] = 2
      end
    end
    if blk.v then
      local s
      if w.stress then s = w.stress * U.NKTV2P / blk.V     -- bar per eV of virial
      else s = (w.virial or 0) / n end
      if s > 0 then
        local Vd = des.virial
        for q = 1, 6 do
          row = row + 1
          for k = 1, ncols do A:set(row, nel + k, Vd:get(q, k)) end
          b:set(row, 1, blk.v[q])
          wv:set(row, 1, s * s)
          kind[row] = 3
        end
      end
    end
  end
  return A, b, wv, kind
end

---------------------------------------------------------------- models
-- Build a model table (potential from written files) from fitted coefficients.
function M.snap_model(p, x, o)
  local nel = #p.elements
  local ncols = (#x - nel) // nel
  local coeff = {}
  for e = 1, nel do
    local c = {x[e]}
    for k = 1, ncols do c[k + 1] = x[nel + (e - 1) * ncols + k] end
    coeff[e] = c
  end
  local out = o.out
  if not out then
    local tmp = os.tmpname()
    os.remove(tmp)
    out = tmp .. "_kiln_snap"
  end
  local files = M.write_snap(out, p, coeff, o.comment or "fitted by kiln.train.snap")
  local K = kiln()
  local ok, snap = pcall(K.potential.snap, {coeff = files.coeff, param = files.param})
  if not o.out then
    os.remove(files.coeff); os.remove(files.param)
    files = nil
  end
  if not ok then error(snap, 0) end
  local pot = snap
  if o.baseline then pot = K.potential.sum{snap, o.baseline} end
  local xa = U.Array(#x, 1)
  for i = 1, #x do xa:set(i, 1, x[i]) end
  return {kind = "snap", potential = pot, snap = snap, baseline = o.baseline, coeff = xa,
          coefficients = coeff, params = p, files = files, elements = p.elements}
end

function M.snap(o)
  local fname = "kiln.train.snap"
  o = U.check_keys(fname, o, SNAP_KEYS)
  local ds = U.dataset(fname, U.need(fname, o, "data", nil, "a dataset from kiln.train.read"))
  check_weights(fname, o.weights)
  local lambda = o.lambda or 1e-8
  if type(lambda) ~= "number" or lambda < 0 then U.fail(fname, "lambda must be a number >= 0") end
  local K = kiln()
  local t0 = K.wtime()
  local p = params_of(fname, o, ds)
  local nel = #p.elements
  local blocks, d
  if o.design then
    blocks, d = o.design.blocks, o.design.descriptor
  else
    local ok, dd = pcall(descriptor_for, p)
    if not ok then U.fail(fname, tostring(dd)) end
    d = dd
    blocks = {}
    for i, r in ipairs(ds) do
      local okb, blk = pcall(structure_blocks, d, r, o.baseline, nel)
      if not okb then
        U.fail(fname, string.format("structure %d (%s): %s", i, r.id or r.group or "?", tostring(blk)))
      end
      blocks[i] = blk
    end
  end
  local ncols = d.ncols * nel
  local tdesign = K.wtime() - t0
  local A, b, w = assemble(blocks, o.weights, nel, ncols)
  if not A then U.fail(fname, "no rows to fit: every structure lacks labels or has zero weights") end
  local x, rank = K.ml.ridge{A = A, b = b, w = w, lambda = lambda}
  local xs = {}
  for i = 1, #x do xs[i] = x:get(i, 1) end
  -- coefficient layout in the fit: [beta0_e (nel) | descriptor columns (per element blocks)]
  local model = M.snap_model(p, xs, {out = o.out, baseline = o.baseline})
  model.rank = rank
  model.lambda = lambda
  model.weights = o.weights
  model.nrows = A:shape()
  model.time = K.wtime() - t0
  model.time_design = tdesign
  if o.keep_design then model.design = {blocks = blocks, descriptor = d} end
  if o.metrics ~= false then
    local metrics = require "kiln.train.metrics"
    model.metrics = metrics.metrics(model.potential, ds)
  end
  return model
end

---------------------------------------------------------------- FitSNAP input files
-- Read a FitSNAP input (.in, INI sections) -> {sections..., weights=, snap=}
function M.read_fitsnap_input(file)
  local fname = "kiln.train.read_fitsnap_input"
  local f, err = io.open(file)
  if not f then U.fail(fname, "cannot open " .. tostring(err)) end
  local sec, out = nil, {}
  local ln = 0
  for line in f:lines() do
    ln = ln + 1
    local l = line:gsub("#.*", ""):gsub("^%s+", ""):gsub("%s+$", "")
    local s = l:match("^%[(.-)%]$")
    if s then sec = s; out[sec] = out[sec] or {}
    elseif l ~= "" then
      local k, v = l:match("^([^=]-)%s*=%s*(.*)$")
      if not k or not sec then f:close(); U.fail(fname, string.format("%s:%d: expected key = value", file, ln)) end
      out[sec][k] = v
    end
  end
  f:close()
  local B = out.BISPECTRUM or {}
  local types = {}
  for t in (B.type or ""):gmatch("%S+") do types[#types + 1] = t end
  local function nums(s)
    local t = {}
    for w in (s or ""):gmatch("%S+") do t[#t + 1] = tonumber(w) end
    return t
  end
  out.snap = {twojmax = tonumber(B.twojmax), rcutfac = tonumber(B.rcutfac), rfac0 = tonumber(B.rfac0),
              rmin0 = tonumber(B.rmin0), radelem = nums(B.radelem), wj = nums(B.wj), elements = types,
              bzeroflag = B.bzeroflag == "1", quadratic = B.quadraticflag == "1"}
  local G = out.GROUPS or {}
  local cols = {}
  for w in (G.group_sections or "name training_size testing_size eweight fweight vweight"):gmatch("%S+") do
    cols[#cols + 1] = w
  end
  local weights, fractions = {}, {}
  for k, v in pairs(G) do
    if k ~= "group_sections" and k ~= "group_types" and k ~= "smartweights" and k ~= "random_sampling"
       and k ~= "BOLTZT" then
      local vals = nums(v)
      local rec = {}
      for i = 2, #cols do rec[cols[i]] = vals[i - 1] end
      weights[k] = {energy = rec.eweight, force = rec.fweight, stress = rec.vweight}
      fractions[k] = {train = rec.training_size, test = rec.testing_size}
    end
  end
  out.weights, out.fractions = weights, fractions
  local R = out.REFERENCE or {}
  out.reference = R.pair_style
  return out
end

return M
