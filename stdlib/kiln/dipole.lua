-- kiln.dipole: a symmetry-adapted (lambda = 1) kernel model of per-atom dipoles whose
-- sum is the dipole of the cell (SA-GPR, Grisafi et al. 2018), its Born charges, its
-- file format and an MD observer. See doc/dipole.md.
--
--   local model = kiln.dipole.fit{data = set, vector = {cutoff=5, nmax=4, lmax=3},
--                                 zeta = 2, nsparse = 200, sigma = 0.05}
--   local p = model:predict(atoms)        -- {total = {Mx, My, Mz}, atoms = Array n x 3}
--   local Z = model:born_charges(atoms)   -- Array n x 9 (e), row j: dM_a/dr_jb at 3(a-1)+b
--   model:save("bto.dipole"); local m2 = kiln.dipole.load("bto.dipole")
--   md:run(atoms, pot, 1000, {observe = {model:observer{every = 5}}})
local cdip = require "kiln.c.dipole"
local carray = require "kiln.c.array"
local argcheck = require "kiln.argcheck"
argcheck.internal()

local fail = argcheck.fail
local check_keys = argcheck.check_keys
local Model = cdip.methods
local M = {}

-- 1 e/Å² in µC/cm²
M.E_PER_A2_TO_UC_PER_CM2 = 1602.176634

local FORMAT_VERSION = 1

---------------------------------------------------------------- helpers

-- a C call whose "what: message" error is raised again at the user's line as "fname: message"
local function call(fname, f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then
    local msg = tostring(r[2]):gsub("^[^\n]-dipole%.lua:%d+: ", "")
    msg = msg:gsub("^kiln%.dipole: ", ""):gsub("^model:[%w_]+: ", "")
    msg = msg:gsub("^bad argument #(%d+) to '[^']*' ", "argument #%1 ")
    fail(fname, msg)
  end
  return table.unpack(r, 2, r.n)
end

local function typename(x)
  local mt = getmetatable(x)
  return type(mt) == "table" and rawget(mt, "__name") or type(x)
end

local function check_atoms(fname, a, what)
  if typename(a) ~= "kiln.Atoms" then
    fail(fname, string.format("%s: a kiln.Atoms expected (got %s)", what or "atoms", typename(a)))
  end
end

local function deepcopy(t)
  if type(t) ~= "table" then return t end
  local o = {}
  for k, v in pairs(t) do o[k] = deepcopy(v) end
  return o
end

local function vec3(fname, v, what)
  if argcheck.is_array(v) then v = v:totable() end
  if type(v) ~= "table" then fail(fname, what .. " must be {x, y, z} (got " .. type(v) .. ")") end
  local out = {}
  for k = 1, 3 do
    local x = v[k]
    if type(x) == "table" then x = x[1] end
    if type(x) ~= "number" then fail(fname, what .. " must be {x, y, z} numbers") end
    out[k] = x
  end
  return out
end

local function inv3(c)
  local a, b, d = c[1], c[2], c[3]
  local det = a[1] * (b[2] * d[3] - b[3] * d[2]) - a[2] * (b[1] * d[3] - b[3] * d[1]) +
              a[3] * (b[1] * d[2] - b[2] * d[1])
  if math.abs(det) < 1e-12 then return nil end
  local m = {
    {(b[2] * d[3] - b[3] * d[2]) / det, (a[3] * d[2] - a[2] * d[3]) / det, (a[2] * b[3] - a[3] * b[2]) / det},
    {(b[3] * d[1] - b[1] * d[3]) / det, (a[1] * d[3] - a[3] * d[1]) / det, (a[3] * b[1] - a[1] * b[3]) / det},
    {(b[1] * d[2] - b[2] * d[1]) / det, (a[2] * d[1] - a[1] * d[2]) / det, (a[1] * b[2] - a[2] * b[1]) / det},
  }
  return m
end

-- row vector v times 3x3 matrix m
local function vm(v, m)
  return {v[1] * m[1][1] + v[2] * m[2][1] + v[3] * m[3][1],
          v[1] * m[1][2] + v[2] * m[2][2] + v[3] * m[3][2],
          v[1] * m[1][3] + v[2] * m[2][3] + v[3] * m[3][3]}
end

local function round(x) return math.floor(x + 0.5) end

---------------------------------------------------------------- polarization quantum

local function born_of(rec)
  local Z = rec.born_charges
  if Z == nil then
    local ok, arr = pcall(rec.atoms.array, rec.atoms, "born_charge")
    if ok and arr ~= nil then Z = arr end
  end
  if Z == nil then return nil end
  if argcheck.is_array(Z) then Z = Z:totable() end
  return Z
end

-- Fold the dipoles of a dataset onto consistent branches of the polarization lattice
-- (M is defined modulo q e R for lattice vectors R). See doc/dipole.md.
function M.fold(data, o)
  local fname = "kiln.dipole.fold"
  o = check_keys(fname, o, {"quantum", "born_charges", "reference"})
  if type(data) ~= "table" or #data == 0 then fail(fname, "data must be a non-empty list of records") end
  local q = o.quantum or 1
  local use_born = o.born_charges ~= false
  local N = #data
  local P, X, C, IC, Z, key = {}, {}, {}, {}, {}, {}
  local function load(k, rec, what)
    if type(rec) ~= "table" then fail(fname, what .. " is not a record") end
    check_atoms(fname, rec.atoms, what .. ".atoms")
    P[k] = vec3(fname, rec.dipole, what .. ".dipole")
    local a = rec.atoms
    C[k] = a:cell()
    IC[k] = inv3(C[k])
    X[k] = a:positions():totable()
    Z[k] = use_born and born_of(rec) or nil
    key[k] = #X[k] .. ":" .. table.concat(a:symbols(), ",")
  end
  for k, rec in ipairs(data) do load(k, rec, string.format("data[%d]", k)) end
  local ref = o.reference or 1
  local anchored = false
  if type(ref) == "table" then   -- a record whose dipole is on the wanted branch
    load(N + 1, ref, "reference")
    ref, anchored = N + 1, true
  elseif type(ref) ~= "number" or ref < 1 or ref > N or ref % 1 ~= 0 then
    fail(fname, "reference must be a record index in 1.." .. N .. " or a record {atoms=, dipole=}")
  end
  local NT = anchored and N + 1 or N
  -- structures with the same atoms (count and order of species) form a group; within a
  -- group, chain each structure to its nearest (RMS minimum-image displacement) already
  -- folded one (Prim's minimum spanning tree), starting at the reference
  local out, parent, group, ngroups = {}, {}, {}, 0
  local nfolded, ncomp = 0, 0
  local function disp(i, j)   -- displacements j - i (minimum image, cell of j)
    local d, s = {}, 0.0
    local xi, xj, c, ic = X[i], X[j], C[j], IC[j]
    for k = 1, #xi do
      local v = {xj[k][1] - xi[k][1], xj[k][2] - xi[k][2], xj[k][3] - xi[k][3]}
      if ic then
        local f = vm(v, ic)
        for t = 1, 3 do f[t] = f[t] - round(f[t]) end
        v = vm(f, c)
      end
      d[k] = v
      s = s + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]
    end
    return d, math.sqrt(s / math.max(1, #xi))
  end
  local done = {}
  local order = {ref}
  for k = 1, NT do if k ~= ref then order[#order + 1] = k end end
  for _, root in ipairs(order) do
    if not done[root] then
      ngroups = ngroups + 1
      local members = {}
      for k = 1, NT do if not done[k] and key[k] == key[root] then members[#members + 1] = k end end
      local best, bestp = {}, {}
      done[root] = true
      out[root] = {P[root][1], P[root][2], P[root][3]}
      group[root] = ngroups
      local last = root
      for _ = 2, #members do
        for _, k in ipairs(members) do
          if not done[k] then
            local _, dd = disp(last, k)
            if best[k] == nil or dd < best[k] then best[k], bestp[k] = dd, last end
          end
        end
        local j, bd = nil, math.huge
        for _, k in ipairs(members) do
          if not done[k] and best[k] < bd then j, bd = k, best[k] end
        end
        local i = bestp[j]
        local est = {out[i][1], out[i][2], out[i][3]}
        if Z[i] or Z[j] then
          local d = disp(i, j)
          for k = 1, #d do
            local zi, zj = (Z[i] or Z[j])[k], (Z[j] or Z[i])[k]
            for a = 1, 3 do
              for b = 1, 3 do
                est[a] = est[a] + 0.5 * (zi[3 * (a - 1) + b] + zj[3 * (a - 1) + b]) * d[k][b]
              end
            end
          end
        end
        local p = P[j]
        local n = {0, 0, 0}
        if IC[j] then
          local f = vm({est[1] - p[1], est[2] - p[2], est[3] - p[3]}, IC[j])
          for t = 1, 3 do n[t] = round(f[t] / q) end
        end
        local shift = vm(n, C[j])
        out[j] = {p[1] + q * shift[1], p[2] + q * shift[2], p[3] + q * shift[3]}
        if n[1] ~= 0 or n[2] ~= 0 or n[3] ~= 0 then
          nfolded = nfolded + 1
          for t = 1, 3 do if n[t] ~= 0 then ncomp = ncomp + 1 end end
        end
        parent[j] = i
        group[j] = ngroups
        done[j] = true
        last = j
      end
    end
  end
  local anchor_group = anchored and group[N + 1] or nil
  out[N + 1], group[N + 1], parent[N + 1] = nil, nil, nil
  return out, {nfolded = nfolded, ncomponents = ncomp, ngroups = ngroups, group = group,
               parent = parent, quantum = q, anchored_group = anchor_group}
end

---------------------------------------------------------------- fitting

local fit_keys = {"data", "vector", "scalar", "zeta", "nsparse", "sigma", "lambda", "jitter",
                  "fold_quantum", "quantum", "elements", "reference", "born_charges"}

local function collect_elements(data)
  local seen, list = {}, {}
  for _, rec in ipairs(data) do
    for _, s in ipairs(rec.atoms:symbols()) do
      if not seen[s] then seen[s] = true; list[#list + 1] = s end
    end
  end
  return list
end

-- sparse environments per element by farthest-point sampling on the normalised scalar
-- descriptors (or, without them, on the rotation invariants |V_i[:,q]|)
local function fps(X, m)
  local n = X:shape()
  local d = select(2, X:shape())
  local rows = X:totable()
  local mind, idx = {}, {1}
  for i = 1, n do mind[i] = math.huge end
  local cur = 1
  for s = 2, math.min(m, n) do
    local best, bi = -1, nil
    local rc = rows[cur]
    for i = 1, n do
      local ri, t = rows[i], 0.0
      for c = 1, d do local v = ri[c] - rc[c]; t = t + v * v end
      if t < mind[i] then mind[i] = t end
      if mind[i] > best then best, bi = mind[i], i end
    end
    idx[s] = bi
    cur = bi
  end
  return idx
end

local function fps_select(X, m)
  local ok, ml = pcall(require, "kiln.ml")
  if ok and type(ml) == "table" and ml.fps then
    local ok2, idx = pcall(ml.fps, X, m)
    if ok2 and type(idx) == "table" then return idx end
  end
  return fps(X, m)
end

local function invariants(XV, nv)
  local n = XV:shape()
  local T = XV:totable()
  local out = carray.new(n, nv)
  for i = 1, n do
    local r = T[i]
    for q = 1, nv do
      local x, y, z = r[q], r[nv + q], r[2 * nv + q]
      out:set(i, q, math.sqrt(x * x + y * y + z * z))
    end
  end
  return out
end

local function solve(fname, A, y, R, reg, jitter)
  local x = call(fname, cdip.solve, A, y, R, reg, jitter)
  return x
end

function M.fit(o)
  local fname = "kiln.dipole.fit"
  o = check_keys(fname, o, fit_keys)
  local data = o.data
  if type(data) ~= "table" or #data == 0 then
    fail(fname, "data must be a non-empty list of structure records {atoms=, dipole={x,y,z}}")
  end
  for k, rec in ipairs(data) do
    if type(rec) ~= "table" then fail(fname, string.format("data[%d] is not a record", k)) end
    check_atoms(fname, rec.atoms, string.format("data[%d].atoms", k))
    if rec.dipole == nil then fail(fname, string.format("data[%d] has no dipole", k)) end
    vec3(fname, rec.dipole, string.format("data[%d].dipole", k))
  end
  local zeta = o.zeta or 2
  if type(zeta) ~= "number" or zeta % 1 ~= 0 or zeta < 1 then
    fail(fname, "zeta must be an integer >= 1 (got " .. tostring(zeta) .. ")")
  end
  if o.sigma ~= nil and o.lambda ~= nil then fail(fname, "give sigma (sparse GP) or lambda (ridge), not both") end
  local sigma, lambda = o.sigma, o.lambda
  if lambda == nil and sigma == nil then sigma = 0.05 end
  if sigma ~= nil and not (type(sigma) == "number" and sigma > 0) then
    fail(fname, "sigma must be a number > 0 (e·Å)")
  end
  if lambda ~= nil and not (type(lambda) == "number" and lambda >= 0) then
    fail(fname, "lambda must be a number >= 0")
  end
  local jitter = o.jitter or 1e-8
  local vector = deepcopy(o.vector or {})
  if type(vector) ~= "table" then fail(fname, "vector must be a table of soap_vector options") end
  local elements = o.elements or vector.elements or collect_elements(data)
  vector.elements = deepcopy(elements)
  local scalar = nil
  if o.scalar ~= false and (o.scalar ~= nil or zeta > 1) then
    scalar = deepcopy(o.scalar or vector)
    scalar.all_pairs = nil
    scalar.elements = deepcopy(elements)
  end
  if zeta > 1 and not scalar then fail(fname, "zeta > 1 needs a scalar descriptor (scalar=false given)") end

  local model = call(fname, cdip.new, "soap_vector", vector, scalar and "soap" or nil, scalar, zeta)
  local meta = model:_meta()
  meta.vector, meta.scalar, meta.elements = vector, scalar, deepcopy(elements)

  -- targets, folded onto consistent branches
  local targets, finfo = {}, nil
  if o.fold_quantum ~= false then
    targets, finfo = M.fold(data, {quantum = o.quantum, reference = o.reference,
                                   born_charges = o.born_charges})
  else
    for k, rec in ipairs(data) do targets[k] = vec3(fname, rec.dipole, "dipole") end
  end

  -- features
  local XV, XS, EL = {}, {}, {}
  for k, rec in ipairs(data) do
    XV[k], XS[k], EL[k] = call(fname, model.features, model, rec.atoms)
  end
  local nv = model.nv
  local sel_src = XS
  if not scalar then
    sel_src = {}
    for k = 1, #data do sel_src[k] = invariants(XV[k], nv) end
  end

  -- sparse environments per element, in proportion to the environments available
  local cand = {}
  local ntot = 0
  for k = 1, #data do
    for i, e in ipairs(EL[k]) do
      cand[e] = cand[e] or {ks = {}, is = {}}
      local c = cand[e]
      c.ks[#c.ks + 1] = k
      c.is[#c.is + 1] = i
      ntot = ntot + 1
    end
  end
  local nsp = o.nsparse or 100
  local want = {}
  for e, c in pairs(cand) do
    local n = #c.ks
    local m
    if type(nsp) == "table" then
      m = nsp[elements[e]] or fail(fname, "nsparse has no entry for element " .. tostring(elements[e]))
    elseif type(nsp) == "number" and nsp >= 1 then
      m = math.max(1, round(nsp * n / ntot))
    else
      fail(fname, "nsparse must be a number >= 1 or a table {Element = count}")
    end
    want[e] = math.min(m, n)
  end
  local sel_el, sel_k, sel_i = {}, {}, {}
  local es = {}
  for e in pairs(cand) do es[#es + 1] = e end
  table.sort(es)
  local nsparse_el = {}
  for _, e in ipairs(es) do
    local c = cand[e]
    local Xc = cdip.gather(sel_src, c.ks, c.is, true)
    local idx = fps_select(Xc, want[e])
    for _, r in ipairs(idx) do
      sel_el[#sel_el + 1] = e
      sel_k[#sel_k + 1] = c.ks[r]
      sel_i[#sel_i + 1] = c.is[r]
    end
    nsparse_el[elements[e]] = #idx
  end
  local V = cdip.gather(XV, sel_k, sel_i)
  local S = scalar and cdip.gather(XS, sel_k, sel_i) or nil
  call(fname, model.set_sparse, model, sel_el, V, S)
  local m = model.nsparse

  -- rows of M = rows . a, weighted by sqrt(weight)
  local N = #data
  local rows = {}
  for k = 1, N do
    rows[k] = call(fname, model.rows, model, XV[k], XS[k], EL[k]):totable()
    XV[k], XS[k], sel_src[k] = nil, nil, nil
  end
  local sw = {}
  for k, rec in ipairs(data) do
    local w = rec.weight or 1
    if type(w) ~= "number" or w < 0 then fail(fname, string.format("data[%d].weight must be >= 0", k)) end
    sw[k] = math.sqrt(w)
  end
  local R = sigma and model:kmm() or nil
  local reg = sigma and sigma * sigma or lambda

  local function build(extra)   -- extra: number of constant columns (3 per group)
    local ncol = 3 * m + extra
    local A = carray.new(3 * N, ncol)
    local y = carray.new(3 * N, 1)
    for k = 1, N do
      for a = 1, 3 do
        local r = 3 * (k - 1) + a
        local src = rows[k][a]
        for c = 1, 3 * m do A:set(r, c, sw[k] * src[c]) end
        if extra > 0 then A:set(r, 3 * m + 3 * (finfo.group[k] - 1) + a, sw[k]) end
        y:set(r, 1, sw[k] * targets[k][a])
      end
    end
    return A, y
  end

  -- the branch of each group: a fit with a free constant dipole per group; the lattice
  -- vector nearest to that constant is taken off the group's targets
  if finfo then
    local extra = 3 * finfo.ngroups
    local A, y = build(extra)
    local Raug
    if R then
      local Rt = R:totable()
      local tr = 0
      for p = 1, 3 * m do tr = tr + Rt[p][p] end
      tr = tr / (3 * m)
      Raug = carray.new(3 * m + extra, 3 * m + extra)
      for p = 1, 3 * m do for q2 = 1, 3 * m do Raug:set(p, q2, Rt[p][q2]) end end
      for p = 3 * m + 1, 3 * m + extra do Raug:set(p, p, 1e-8 * tr) end
    end
    local x = solve(fname, A, y, Raug, reg, jitter):totable()
    finfo.offsets = {}
    for g = 1, finfo.ngroups do
      local c = {x[3 * m + 3 * (g - 1) + 1], x[3 * m + 3 * (g - 1) + 2], x[3 * m + 3 * (g - 1) + 3]}
      local root
      for k = 1, N do if finfo.group[k] == g then root = k; break end end
      local ic = root and inv3(data[root].atoms:cell())
      local f = ic and vm(c, ic) or {0, 0, 0}
      local n = {}
      for t = 1, 3 do n[t] = g == finfo.anchored_group and 0 or round(f[t] / finfo.quantum) end
      if not root then n = {0, 0, 0} end
      local shift = root and vm(n, data[root].atoms:cell()) or {0, 0, 0}
      for k = 1, N do
        if finfo.group[k] == g then
          for t = 1, 3 do targets[k][t] = targets[k][t] - finfo.quantum * shift[t] end
        end
      end
      finfo.offsets[g] = {constant = c, fractional = f, shift = n}
    end
  end

  local A, y = build(0)
  local x = solve(fname, A, y, R, reg, jitter)
  call(fname, model.set_weights, model, x)

  -- training errors
  local xt = x:totable()
  local se, ae, cnt = 0, 0, 0
  for k = 1, N do
    for a = 1, 3 do
      local p = 0
      local src = rows[k][a]
      for c = 1, 3 * m do p = p + src[c] * xt[c] end
      local d = p - targets[k][a]
      se, ae, cnt = se + d * d, ae + math.abs(d), cnt + 1
    end
  end
  meta.info = {ntrain = N, nsparse = nsparse_el, zeta = zeta, sigma = sigma, lambda = lambda,
               jitter = jitter, rmse_train = math.sqrt(se / cnt), mae_train = ae / cnt,
               fold = finfo}
  meta.targets = targets
  return model
end

---------------------------------------------------------------- model methods

function Model:predict(atoms)
  check_atoms("predict", atoms)
  local mu, Mt = call("predict", self.compute, self, atoms, false)
  return {total = Mt, atoms = mu}
end

function Model:born_charges(atoms)
  check_atoms("born_charges", atoms)
  local _, _, Z = call("born_charges", self.compute, self, atoms, true)
  return Z
end

function Model:polarization(atoms)
  check_atoms("polarization", atoms)
  local x, y, z = call("polarization", self.dipole, self, atoms)
  local V = atoms:volume()
  local f = M.E_PER_A2_TO_UC_PER_CM2 / V
  return {x * f, y * f, z * f}
end

-- An md:run observer (a function, or {fn=, every=} when every is given) computing M at
-- each call, stored in the frame's info "dipole" (info=true, default) so a
-- kiln.correlator.dipole listed after it uses it, appended to series and to file.
function Model:observer(o)
  local fname = "observer"
  o = check_keys(fname, o, {"every", "file", "info"})
  local series = {step = {}, time = {}, M = {}}
  local f
  if o.file then
    local err
    f, err = io.open(o.file, "w")
    if not f then fail(fname, "cannot open " .. tostring(o.file) .. ": " .. tostring(err)) end
    f:write("# kiln.dipole observer: step time_fs Mx My Mz (e·Å)\n")
    f:flush()
  end
  local setinfo = o.info ~= false
  local model = self
  local function obs(step, atoms, thermo)
    local x, y, z = model:dipole(atoms)
    if setinfo then atoms.info.dipole = {x, y, z} end
    local n = #series.step + 1
    series.step[n], series.time[n], series.M[n] = step, thermo and thermo.time or 0, {x, y, z}
    if f then
      f:write(string.format("%d %.10g %.12g %.12g %.12g\n", step, series.time[n], x, y, z))
      f:flush()
    end
  end
  if o.every then return {fn = obs, every = o.every}, series end
  return obs, series
end

-- dotted-path option lines of a (nested) options table
local function flatten(t, prefix, out)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  for _, k in ipairs(keys) do
    local v = t[k]
    local path = prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    if type(v) == "table" then flatten(v, path, out)
    elseif type(v) == "number" then
      out[#out + 1] = path .. "=" .. (math.type(v) == "integer" and tostring(v) or string.format("%.17g", v))
    else out[#out + 1] = path .. "=" .. tostring(v) end
  end
  return out
end

local function set_path(t, path, value)
  local parts = {}
  for p in path:gmatch("[^%.]+") do parts[#parts + 1] = tonumber(p) and math.tointeger(tonumber(p)) or p end
  local cur = t
  for i = 1, #parts - 1 do
    cur[parts[i]] = cur[parts[i]] or {}
    cur = cur[parts[i]]
  end
  local v
  if value == "true" then v = true
  elseif value == "false" then v = false
  else v = math.tointeger(tonumber(value)) or tonumber(value) or value end
  cur[parts[#parts]] = v
end

local function fmtrow(row)
  local t = {}
  for i, v in ipairs(row) do t[i] = string.format("%.17g", v) end
  return table.concat(t, " ")
end

function Model:save(file)
  local fname = "save"
  if type(file) ~= "string" then fail(fname, "file name expected") end
  local meta = self:_meta()
  if self.nsparse == 0 then fail(fname, "the model has no sparse environments (not fitted)") end
  local out = {"# kiln dipole model (doc/dipole.md)", "kiln_dipole " .. FORMAT_VERSION,
               "vector soap_vector"}
  for _, l in ipairs(flatten(meta.vector or {}, nil, {})) do out[#out + 1] = "voption " .. l end
  if meta.scalar then
    out[#out + 1] = "scalar soap"
    for _, l in ipairs(flatten(meta.scalar, nil, {})) do out[#out + 1] = "soption " .. l end
  else
    out[#out + 1] = "scalar none"
  end
  out[#out + 1] = "zeta " .. self.zeta
  out[#out + 1] = "elements " .. table.concat(meta.elements, " ")
  out[#out + 1] = "nsparse " .. self.nsparse
  out[#out + 1] = "nvector " .. 3 * self.nv
  out[#out + 1] = "nscalar " .. (meta.scalar and self.ns or 0)
  out[#out + 1] = "sparse"
  local el, V, S = self:sparse()
  local a = self:weights():totable()
  V = V:totable()
  S = S and S:totable()
  for s = 1, #el do
    out[#out + 1] = string.format("%s %s %s%s", meta.elements[el[s]], fmtrow(a[s]), fmtrow(V[s]),
                                  S and " " .. fmtrow(S[s]) or "")
  end
  local f, err = io.open(file, "w")
  if not f then fail(fname, "cannot write " .. file .. ": " .. tostring(err)) end
  f:write(table.concat(out, "\n"), "\n")
  f:close()
  return file
end

function M.load(file)
  local fname = "kiln.dipole.load"
  if type(file) ~= "string" then fail(fname, "file name expected") end
  local f, err = io.open(file, "r")
  if not f then fail(fname, "cannot open " .. file .. ": " .. tostring(err)) end
  local lines = {}
  for l in f:lines() do lines[#lines + 1] = l end
  f:close()
  local hdr = {vector = {}, scalar = nil}
  local i = 1
  local function bad(msg) fail(fname, string.format("%s line %d: %s", file, i, msg)) end
  local version
  while i <= #lines do
    local l = lines[i]
    if l:match("^%s*#") or l:match("^%s*$") then
    elseif l:match("^sparse%s*$") then i = i + 1; break
    else
      local k, rest = l:match("^(%S+)%s*(.*)$")
      if k == "kiln_dipole" then version = tonumber(rest)
        if version ~= FORMAT_VERSION then bad("unsupported version " .. rest .. " (this kiln reads " .. FORMAT_VERSION .. ")") end
      elseif k == "vector" then if rest ~= "soap_vector" then bad("unknown vector descriptor " .. rest) end
      elseif k == "scalar" then
        if rest == "soap" then hdr.scalar = hdr.scalar or {}
        elseif rest ~= "none" then bad("unknown scalar descriptor " .. rest) end
      elseif k == "voption" or k == "soption" then
        local p, v = rest:match("^([^=]+)=(.*)$")
        if not p then bad("option line without '='") end
        if k == "soption" then hdr.scalar = hdr.scalar or {} end
        set_path(k == "voption" and hdr.vector or hdr.scalar, p, v)
      elseif k == "zeta" or k == "nsparse" or k == "nvector" or k == "nscalar" then
        hdr[k] = math.tointeger(tonumber(rest)) or bad(k .. " must be an integer")
      elseif k == "elements" then
        hdr.elements = {}
        for s in rest:gmatch("%S+") do hdr.elements[#hdr.elements + 1] = s end
      else bad("unknown keyword '" .. k .. "'") end
    end
    i = i + 1
  end
  if not version then fail(fname, file .. ": not a kiln dipole model (no 'kiln_dipole' line)") end
  for _, k in ipairs{"zeta", "nsparse", "nvector", "nscalar", "elements"} do
    if hdr[k] == nil then fail(fname, file .. ": missing '" .. k .. "' line") end
  end
  local model = call(fname, cdip.new, "soap_vector", hdr.vector, hdr.scalar and "soap" or nil,
                     hdr.scalar, hdr.zeta)
  if 3 * model.nv ~= hdr.nvector or (hdr.scalar and model.ns or 0) ~= hdr.nscalar then
    fail(fname, string.format("%s: the descriptor options give %d vector / %d scalar columns, the "
                              .. "file has %d / %d", file, 3 * model.nv, hdr.scalar and model.ns or 0,
                              hdr.nvector, hdr.nscalar))
  end
  local index = {}
  for e, s in ipairs(hdr.elements) do index[s] = e end
  local el, A, V, S = {}, {}, {}, {}
  local nw = 3 + hdr.nvector + hdr.nscalar
  for s = 1, hdr.nsparse do
    local l = lines[i]
    if not l then bad(string.format("expected %d sparse rows, found %d", hdr.nsparse, s - 1)) end
    local sym, rest = l:match("^(%S+)%s+(.*)$")
    if not index[sym] then bad("unknown element '" .. tostring(sym) .. "'") end
    local v = {}
    for x in rest:gmatch("%S+") do v[#v + 1] = tonumber(x) or bad("not a number: " .. x) end
    if #v ~= nw then bad(string.format("%d numbers, expected %d", #v, nw)) end
    el[s] = index[sym]
    A[s] = {v[1], v[2], v[3]}
    V[s] = table.move(v, 4, 3 + hdr.nvector, 1, {})
    if hdr.nscalar > 0 then S[s] = table.move(v, 4 + hdr.nvector, nw, 1, {}) end
    i = i + 1
  end
  call(fname, model.set_sparse, model, el, V, hdr.scalar and S or nil, A)
  local meta = model:_meta()
  meta.vector, meta.scalar, meta.elements = hdr.vector, hdr.scalar, hdr.elements
  return model
end

Model.__help = [[
kiln.DipoleModel: per-atom dipoles mu_i (e·Å) whose sum is the cell dipole M.
  model:predict(atoms) -> {total = {Mx, My, Mz}, atoms = kiln.Array n x 3}
  model:dipole(atoms) -> Mx, My, Mz        model:polarization(atoms) -> {Px, Py, Pz} µC/cm²
  model:born_charges(atoms) -> kiln.Array n x 9 (e): row j, column 3(a-1)+b = dM_a/dr_jb
  model:save(file)   kiln.dipole.load(file)
  model:observer{every=, file=, info=true} -> md:run observer (sets info "dipole"), series
  model.info (fit report), model.nsparse, model.zeta, model.nv, model.ns, model.cutoff]]

M.Model = Model
M.__help = [[
kiln.dipole: symmetry-adapted (lambda = 1) kernel model of per-atom dipoles (SA-GPR).
  kiln.dipole.fit{data=, vector={soap_vector options}, scalar={soap options}|false,
                  zeta=2, nsparse=100, sigma=0.05 | lambda=, fold_quantum=true} -> model
  kiln.dipole.fold(data[, {quantum=1, reference=1}]) -> folded dipoles, report
  kiln.dipole.load(file) -> model
See help(kiln.dipole.Model) and doc/dipole.md.]]

return M
