-- kiln.train.gap: sparse GP (SOAP-GAP) fits on energies and forces, written in kiln's
-- soap_gap model format (doc/soap_gap.md) and loaded as kiln.potential.soap_gap.
--   E = sum_i [ e0[el_i] + sum_s alpha_s k(x_i, x_s) ],  k = (xhat_i . xhat_s)^zeta
-- Sparse points: farthest-point sampling per element on the normalised descriptor rows.
-- Noise: sigma.energy is per atom (eV/atom): the total-energy row of a structure of N
-- atoms has noise sigma.energy*sqrt(N); sigma.force per component (eV/Å); sigma.virial
-- per component of W (eV) when given (virials are then fitted too).
local U = require "kiln.train.util"
U.internal()

local M = {}
local function kiln() return require "kiln" end

local GAP_KEYS = {"data", "soap", "nsparse", "zeta", "sigma", "e0", "baseline", "out", "jitter",
                  "sparse", "metrics", "descriptor"}

local fmtnum = U.fmtnum

-- "option" lines of an options table in dotted-path syntax (sorted keys)
local function option_lines(t, prefix, out)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    local v = t[k]
    local key = prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    if type(v) == "table" then option_lines(v, key, out)
    elseif type(v) == "boolean" then out[#out + 1] = "option " .. key .. "=" .. (v and "true" or "false")
    elseif type(v) == "number" then out[#out + 1] = "option " .. key .. "=" .. fmtnum(v)
    else out[#out + 1] = "option " .. key .. "=" .. tostring(v) end
  end
  return out
end

-- Write a kiln soap_gap model file. m = {soap=opts, zeta=, e0={[el]=eV}, elements=,
-- S=Array m x D, el={1-based}, alpha=Array or list}
function M.write_gap(file, m)
  U.mkdir(U.dirname(file))
  local f = assert(io.open(file, "w"))
  f:write("# kiln soap_gap model\n")
  f:write("kiln_soap_gap 1\n")
  f:write("descriptor soap\n")
  for _, l in ipairs(option_lines(m.soap, nil, {})) do f:write(l, "\n") end
  f:write("zeta ", fmtnum(m.zeta), "\n")
  for _, e in ipairs(m.elements) do f:write("e0 ", e, " ", fmtnum(m.e0[e] or 0), "\n") end
  local ns, D = m.S:shape()
  f:write("nsparse ", ns, "\n")
  f:write("ncols ", D, "\n")
  f:write("sparse\n")
  local alpha = m.alpha
  for s = 1, ns do
    local a = type(alpha) == "table" and alpha[s] or alpha:get(s, 1)
    local parts = {m.elements[m.el[s]], fmtnum(a)}
    for k = 1, D do parts[#parts + 1] = fmtnum(m.S:get(s, k)) end
    f:write(table.concat(parts, " "), "\n")
  end
  f:close()
  return file
end

local function rownorm(X, i, D)
  local s = 0
  for k = 1, D do local v = X:get(i, k); s = s + v * v end
  return math.sqrt(s)
end

-- least-squares e0 per element from (counts, energies): solve the nel x nel normal equations
local function fit_e0(counts, energies, nel)
  local Nm, rhs = {}, {}
  for a = 1, nel do Nm[a] = {}; rhs[a] = 0; for b = 1, nel do Nm[a][b] = 0 end end
  for i, c in ipairs(counts) do
    for a = 1, nel do
      rhs[a] = rhs[a] + c[a] * energies[i]
      for b = 1, nel do Nm[a][b] = Nm[a][b] + c[a] * c[b] end
    end
  end
  -- tiny ridge keeps elements absent from the data at 0
  for a = 1, nel do Nm[a][a] = Nm[a][a] + 1e-12 * (1 + Nm[a][a]) end
  -- Gaussian elimination with partial pivoting
  for k = 1, nel do
    local piv = k
    for r = k + 1, nel do if math.abs(Nm[r][k]) > math.abs(Nm[piv][k]) then piv = r end end
    Nm[k], Nm[piv] = Nm[piv], Nm[k]
    rhs[k], rhs[piv] = rhs[piv], rhs[k]
    for r = k + 1, nel do
      local f = Nm[r][k] / Nm[k][k]
      for c = k, nel do Nm[r][c] = Nm[r][c] - f * Nm[k][c] end
      rhs[r] = rhs[r] - f * rhs[k]
    end
  end
  local x = {}
  for k = nel, 1, -1 do
    local s = rhs[k]
    for c = k + 1, nel do s = s - Nm[k][c] * x[c] end
    x[k] = s / Nm[k][k]
  end
  return x
end

function M.gap(o)
  local fname = "kiln.train.gap"
  o = U.check_keys(fname, o, GAP_KEYS)
  local ds = U.dataset(fname, U.need(fname, o, "data", nil, "a dataset from kiln.train.read"))
  local soap = U.need(fname, o, "soap", "table", "descriptor options {nmax=, lmax=, cutoff=, ...}")
  local zeta = o.zeta or 4
  local sig = o.sigma or {}
  if type(sig) ~= "table" then U.fail(fname, "sigma must be {energy= (eV/atom), force= (eV/Å), virial= (eV)}") end
  local sE, sF, sV = sig.energy or 0.001, sig.force or 0.05, sig.virial
  if sig.force == false then sF = nil end
  local jitter = o.jitter or 1e-8
  local K = kiln()
  local t0 = K.wtime()
  local ok, d = pcall(K.descriptor.soap, soap)
  if not ok then U.fail(fname, tostring(d)) end
  local elements = soap.elements or d.elements
  if type(elements) == "string" then elements = {elements} end
  local nel = #elements
  -- descriptor rows of every atom, per element
  local allX, allel, Xs = {}, {}, {}
  local D = d.ncols
  local byel = {}
  for e = 1, nel do byel[e] = {} end
  for i, r in ipairs(ds) do
    local okc, X, el = pcall(d.compute, d, r.atoms)
    if not okc then U.fail(fname, string.format("structure %d (%s): %s", i, r.id or r.group or "?", tostring(X))) end
    Xs[i], allel[i] = X, el
    for a = 1, #r.atoms do
      local l = byel[el[a]]
      l[#l + 1] = {i, a}
    end
  end
  -- sparse points per element (farthest-point sampling on normalised rows)
  local nsp = o.nsparse or 100
  local S_rows, S_el = {}, {}
  for e = 1, nel do
    local list = byel[e]
    local want = type(nsp) == "table" and (nsp[elements[e]] or nsp[e]) or nsp
    if want == "all" or want == nil or want > #list then want = #list end
    if want > 0 then
      local Xe = U.Array(#list, D)
      for q, ia in ipairs(list) do
        local X = Xs[ia[1]]
        local nrm = rownorm(X, ia[2], D)
        if nrm == 0 then nrm = 1 end
        for k = 1, D do Xe:set(q, k, X:get(ia[2], k) / nrm) end
      end
      local idx
      if want == #list then
        idx = {}
        for q = 1, #list do idx[q] = q end
      else
        idx = K.ml.fps(Xe, want, {start = 1})
      end
      for _, q in ipairs(idx) do
        local ia = list[q]
        local X = Xs[ia[1]]
        local row = {}
        for k = 1, D do row[k] = X:get(ia[2], k) end
        S_rows[#S_rows + 1] = row
        S_el[#S_el + 1] = e
      end
    end
  end
  local m = #S_rows
  if m == 0 then U.fail(fname, "no sparse points (no atoms of the descriptor's elements)") end
  local S = U.Array(m, D)
  for s = 1, m do for k = 1, D do S:set(s, k, S_rows[s][k]) end end
  local sparse = {X = S, el = S_el}
  -- baseline and e0
  local counts, etarget = {}, {}
  local bases = {}
  for i, r in ipairs(ds) do
    local c = {}
    for e = 1, nel do c[e] = 0 end
    for _, e in ipairs(allel[i]) do c[e] = c[e] + 1 end
    counts[i] = c
    if o.baseline then bases[i] = o.baseline:compute(r.atoms) end
    if r.energy then etarget[#etarget + 1] = r.energy - (bases[i] and bases[i].energy or 0) end
  end
  local e0 = {}
  if o.e0 == nil or o.e0 == "auto" then
    local cs, es = {}, {}
    for i, r in ipairs(ds) do
      if r.energy then cs[#cs + 1] = counts[i]; es[#es + 1] = r.energy - (bases[i] and bases[i].energy or 0) end
    end
    local x = #cs > 0 and fit_e0(cs, es, nel) or {}
    for e = 1, nel do e0[elements[e]] = x[e] or 0 end
  elseif type(o.e0) == "number" then
    for e = 1, nel do e0[elements[e]] = o.e0 end
  elseif type(o.e0) == "table" then
    for e = 1, nel do e0[elements[e]] = o.e0[elements[e]] or 0 end
  else
    U.fail(fname, "e0 must be \"auto\", a number or {element = eV}")
  end
  -- observation rows
  local nobs = 0
  for _, r in ipairs(ds) do
    if r.energy then nobs = nobs + 1 end
    if r.forces and sF then nobs = nobs + 3 * #r.atoms end
    if r.virial and sV then nobs = nobs + 6 end
  end
  if nobs == 0 then U.fail(fname, "no labels to fit (energies or forces)") end
  local Knm = U.Array(nobs, m)
  local y = U.Array(nobs, 1)
  local sg = U.Array(nobs, 1)
  local row = 0
  for i, r in ipairs(ds) do
    local n = #r.atoms
    local des = d:kernel_design(r.atoms, sparse, {zeta = zeta, forces = (r.forces ~= nil and sF ~= nil),
                                                  virial = (r.virial ~= nil and sV ~= nil)})
    local b = bases[i]
    if r.energy then
      row = row + 1
      for s = 1, m do Knm:set(row, s, des.energy:get(1, s)) end
      local e = r.energy - (b and b.energy or 0)
      for k = 1, nel do e = e - counts[i][k] * e0[elements[k]] end
      y:set(row, 1, e)
      sg:set(row, 1, sE * math.sqrt(n))
    end
    if r.forces and sF then
      for q = 1, 3 * n do
        row = row + 1
        for s = 1, m do Knm:set(row, s, des.forces:get(q, s)) end
        local a, c = (q - 1) // 3 + 1, (q - 1) % 3 + 1
        y:set(row, 1, r.forces:get(a, c) - (b and b.forces:get(a, c) or 0))
        sg:set(row, 1, sF)
      end
    end
    if r.virial and sV then
      local vr = U.voigt(r.virial)
      local vb = b and U.voigt(b.virial) or {0, 0, 0, 0, 0, 0}
      for q = 1, 6 do
        row = row + 1
        for s = 1, m do Knm:set(row, s, des.virial:get(q, s)) end
        y:set(row, 1, vr[q] - vb[q])
        sg:set(row, 1, sV)
      end
    end
  end
  local Kmm = K.ml.kernel(S, S_el, S, S_el, zeta)
  local alpha = K.ml.sgpr{K = Knm, y = y, sigma = sg, Kmm = Kmm, jitter = jitter}
  local out = o.out
  if not out then
    local tmp = os.tmpname()
    os.remove(tmp)
    out = tmp .. "_kiln_gap"
  end
  local file = out:match("%.gap$") and out or (out .. ".gap")
  local soapopts = U.copy(soap)
  soapopts.elements = elements
  M.write_gap(file, {soap = soapopts, zeta = zeta, e0 = e0, elements = elements, S = S, el = S_el,
                     alpha = alpha})
  local okp, gp = pcall(K.potential.soap_gap, {file = file})
  if not o.out then os.remove(file) end
  if not okp then U.fail(fname, tostring(gp)) end
  local pot = gp
  if o.baseline then pot = K.potential.sum{gp, o.baseline} end
  local model = {kind = "gap", potential = pot, gap = gp, baseline = o.baseline, alpha = alpha,
                 sparse = sparse, e0 = e0, elements = elements, zeta = zeta, files = o.out and {model = file} or nil,
                 nsparse = m, nobs = nobs}
  model.time = K.wtime() - t0
  if o.metrics ~= false then
    model.metrics = require("kiln.train.metrics").metrics(pot, ds)
  end
  return model
end

return M
