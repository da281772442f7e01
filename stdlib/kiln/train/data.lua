-- kiln.train.data: labelled data sets (structure records) from extxyz, mlearn JSON and
-- FitSNAP JSON; splits by seed and by group; summaries. See doc/train.md.
local U = require "kiln.train.util"
local json = require "kiln.json"
local catoms = require "kiln.c.atoms"
local cio = require "kiln.c.io"
U.internal()

local M = {}

local function volume(a) return a:volume() end

---------------------------------------------------------------- extxyz
local ENERGY_KEYS = {"energy", "total_energy", "free_energy", "Energy", "dft_energy"}

local function nine(v, where, key)
  if type(v) ~= "table" or (#v ~= 9 and #v ~= 6) then
    error(string.format("%s: info '%s' must hold 9 numbers (3x3) or 6 (Voigt xx yy zz yz xz xy); got %s",
                        where, key, type(v) == "table" and (#v .. " values") or type(v)), 0)
  end
  for i = 1, #v do
    if type(v[i]) ~= "number" then
      error(string.format("%s: info '%s'[%d] is not a number (got %s)", where, key, i, type(v[i])), 0)
    end
  end
  if #v == 6 then
    return {{v[1], v[6], v[5]}, {v[6], v[2], v[4]}, {v[5], v[4], v[3]}}
  end
  return U.mat3(v)
end

-- one kiln.Atoms with extxyz info/props -> structure record
local function record_from_atoms(a, where, o)
  local info = a:info()
  local r = {atoms = a}
  local ekey = o.energy_key
  if ekey then
    if info[ekey] == nil then
      error(string.format("%s: no energy: info key '%s' is missing", where, ekey), 0)
    end
  else
    for _, k in ipairs(ENERGY_KEYS) do if info[k] ~= nil then ekey = k break end end
  end
  if ekey then
    local e = info[ekey]
    if type(e) ~= "number" then
      error(string.format("%s: info '%s' must be a number (eV; got %s)", where, ekey, type(e)), 0)
    end
    r.energy = e
  end
  local fkey = o.forces_key or "forces"
  local has = {}
  for _, name in ipairs(a:arrays()) do has[name] = true end
  if has[fkey] then
    local f = a:array(fkey)
    if not U.is_array(f) then
      error(string.format("%s: per-atom property '%s' must be real numbers", where, fkey), 0)
    end
    local n, c = f:shape()
    if c ~= 3 or n ~= #a then
      error(string.format("%s: per-atom property '%s' must be n x 3 (got %d x %d)", where, fkey, n, c), 0)
    end
    r.forces = f
  elseif o.forces_key then
    error(string.format("%s: no forces: per-atom property '%s' is missing", where, fkey), 0)
  end
  local V = volume(a)
  if info.virial ~= nil then
    r.virial = nine(info.virial, where, "virial")
  elseif info.stress ~= nil then
    local s = nine(info.stress, where, "stress")
    if not (V > 0) then
      error(string.format("%s: info 'stress' needs a cell (volume is %g)", where, V), 0)
    end
    r.virial = {}
    for i = 1, 3 do
      r.virial[i] = {}
      for j = 1, 3 do r.virial[i][j] = -s[i][j] * V end
    end
  end
  local dk = info.dipole ~= nil and "dipole" or (info.polarization ~= nil and "polarization") or nil
  if dk then
    local d = info[dk]
    if type(d) ~= "table" or #d ~= 3 then
      error(string.format("%s: info '%s' must hold 3 numbers (e·Å)", where, dk), 0)
    end
    r.dipole = {d[1], d[2], d[3]}
  end
  local g = o.group
  if not g then
    local gk = o.group_key or "config_type"
    if info[gk] ~= nil then g = tostring(info[gk]) end
  end
  r.group = g or "all"
  if type(info.weight) == "number" then r.weight = info.weight end
  r.id = o.id_prefix and string.format("%s:%d", o.id_prefix, o.index) or nil
  return r
end

local function read_extxyz(path, o)
  local ok, frames, msg = pcall(cio.read, path, {format = "extxyz"})
  if not ok then error((tostring(frames):gsub("^[^\n]-%.lua:%d+: ", ""):gsub("^kiln%.io%.read: ", "")), 0) end
  if not frames then error(msg, 0) end
  if type(frames) ~= "table" then frames = {frames} end
  local ds = {}
  for i, a in ipairs(frames) do
    local where = string.format("%s: frame %d", path, i)
    local oo = U.copy(o)
    oo.id_prefix, oo.index = path:match("[^/]*$"), i
    ds[i] = record_from_atoms(a, where, oo)
  end
  return ds
end

---------------------------------------------------------------- FitSNAP JSON
-- FitSNAP data file: optional '#' comment line(s), then
-- {"Dataset": {"Data": [{Positions, Forces, Energy, Stress, Lattice, AtomTypes, NumAtoms}],
--   "StressStyle": "bar", ...}}; Stress is the pressure tensor as LAMMPS reports it
-- (positive = compressed), so virial W = +Stress*V (in eV after bar -> eV/Å^3).
local function fitsnap_record(c, where, group, id, o)
  local function need(k)
    if c[k] == nil then error(string.format("%s: key '%s' is missing", where, k), 0) end
    return c[k]
  end
  local lat, pos, types = need("Lattice"), need("Positions"), need("AtomTypes")
  local n = #pos
  if c.NumAtoms and c.NumAtoms ~= n then
    error(string.format("%s: NumAtoms is %s but Positions has %d rows", where, tostring(c.NumAtoms), n), 0)
  end
  if #types ~= n then
    error(string.format("%s: AtomTypes has %d entries, Positions %d", where, #types, n), 0)
  end
  if type(lat) ~= "table" or #lat ~= 3 then
    error(string.format("%s: Lattice must be 3 rows of 3 numbers", where), 0)
  end
  local a = catoms.new{cell = lat, symbols = types, positions = pos, pbc = {true, true, true}}
  local r = {atoms = a, group = group, id = id}
  if c.Energy ~= nil then
    if type(c.Energy) ~= "number" then
      error(string.format("%s: Energy must be a number (got %s)", where, type(c.Energy)), 0)
    end
    r.energy = c.Energy
  end
  if c.Forces ~= nil then
    local f = c.Forces
    if type(f) ~= "table" or #f ~= n then
      error(string.format("%s: Forces must have %d rows of 3 numbers", where, n), 0)
    end
    r.forces = U.Array(n, 3)
    for i = 1, n do
      local row = f[i]
      if type(row) ~= "table" or #row ~= 3 then
        error(string.format("%s: Forces[%d] must be 3 numbers", where, i), 0)
      end
      for d = 1, 3 do r.forces:set(i, d, row[d]) end
    end
  end
  if c.Stress ~= nil then
    local s = c.Stress
    if type(s) ~= "table" or #s ~= 3 then
      error(string.format("%s: Stress must be 3 rows of 3 numbers", where), 0)
    end
    local conv = o.stress_unit == "bar" and U.BAR or
                 (o.stress_unit == "kbar" or o.stress_unit == "kB") and 1e3 * U.BAR or
                 (o.stress_unit == "GPa") and 1e4 * U.BAR or
                 (o.stress_unit == "eV/A^3" or o.stress_unit == "eVperA3") and 1 or nil
    if not conv then
      error(string.format("%s: unknown StressStyle '%s' (bar, kbar, GPa, eV/A^3)", where,
                          tostring(o.stress_unit)), 0)
    end
    local V = a:volume()
    r.virial = {}
    for i = 1, 3 do
      r.virial[i] = {}
      for j = 1, 3 do r.virial[i][j] = s[i][j] * conv * V end
    end
  end
  return r
end

local function read_fitsnap_file(path, group, ds, o)
  local doc = json.read(path, {comments = true})
  local D = type(doc) == "table" and doc.Dataset
  if type(D) ~= "table" or type(D.Data) ~= "table" then
    error(path .. ": not a FitSNAP data file (no Dataset.Data list)", 0)
  end
  for _, k in ipairs{"EnergyStyle", "ForcesStyle", "PositionsStyle", "LatticeStyle"} do
    local v = D[k]
    if v ~= nil and v ~= "electronvolt" and v ~= "electronvoltperangstrom" and v ~= "angstrom" then
      error(string.format("%s: %s '%s' is not supported (eV and Å only)", path, k, tostring(v)), 0)
    end
  end
  local oo = {stress_unit = D.StressStyle or "bar"}
  local base = path:match("[^/]*$"):gsub("%.json$", "")
  for i, c in ipairs(D.Data) do
    local id = #D.Data > 1 and string.format("%s/%s:%d", group, base, i) or (group .. "/" .. base)
    ds[#ds + 1] = fitsnap_record(c, string.format("%s: configuration %d", path, i), group, id, oo)
  end
end

local function read_fitsnap(path, o)
  local ds = {}
  if not U.isdir(path) then
    read_fitsnap_file(path, o.group or "all", ds, o)
    return ds
  end
  local entries = U.listdir(path)
  local groups, files = {}, {}
  for _, e in ipairs(entries) do
    if e:match("%.json$") then files[#files + 1] = e
    elseif U.isdir(path .. "/" .. e) then groups[#groups + 1] = e end
  end
  local want
  if o.group then
    want = {}
    for _, g in ipairs(type(o.group) == "table" and o.group or {o.group}) do want[g] = true end
  end
  if #files > 0 then   -- a single group directory
    local g = path:gsub("/+$", ""):match("[^/]*$")
    for _, f in ipairs(files) do read_fitsnap_file(path .. "/" .. f, g, ds, o) end
    return ds
  end
  local found = {}
  for _, g in ipairs(groups) do
    if not want or want[g] then
      found[g] = true
      for _, f in ipairs(U.listdir(path .. "/" .. g, "%.json$")) do
        read_fitsnap_file(path .. "/" .. g .. "/" .. f, g, ds, o)
      end
    end
  end
  if want then
    for g in pairs(want) do
      if not found[g] then
        error(string.format("%s: no group '%s' (groups: %s)", path, g, table.concat(groups, ", ")), 0)
      end
    end
  end
  return ds
end

---------------------------------------------------------------- mlearn JSON
-- mlearn (materialsvirtuallab/mlearn data/<El>/training.json): a list of
-- {structure = pymatgen Structure dict, outputs = {energy= (eV, total), forces=,
--  virial_stress= 6 numbers (kbar, VASP order xx yy zz xy yz zx, positive = compressive)},
--  num_atoms=, group= or tag=}.
local function pmg_atoms(s, where)
  local lat = s.lattice and s.lattice.matrix
  if type(lat) ~= "table" or #lat ~= 3 then
    error(where .. ": structure.lattice.matrix is missing", 0)
  end
  local sym, pos = {}, {}
  for i, site in ipairs(s.sites or {}) do
    local el = site.species and site.species[1] and site.species[1].element or site.label
    if type(el) ~= "string" then error(string.format("%s: site %d has no element", where, i), 0) end
    sym[i] = el
    if site.xyz then pos[i] = site.xyz
    elseif site.abc then
      local f = site.abc
      pos[i] = {}
      for d = 1, 3 do pos[i][d] = f[1] * lat[1][d] + f[2] * lat[2][d] + f[3] * lat[3][d] end
    else error(string.format("%s: site %d has no xyz or abc", where, i), 0) end
  end
  return catoms.new{cell = lat, symbols = sym, positions = pos, pbc = {true, true, true}}
end

local function read_mlearn(path, o)
  local doc = json.read(path)
  if type(doc) ~= "table" or #doc == 0 then error(path .. ": expected a JSON list of structures", 0) end
  local ds = {}
  for i, e in ipairs(doc) do
    local where = string.format("%s: entry %d", path, i)
    if type(e) ~= "table" or type(e.structure) ~= "table" then
      error(where .. ": no 'structure'", 0)
    end
    local a = pmg_atoms(e.structure, where)
    local out = e.outputs or e.data or {}
    local r = {atoms = a, id = string.format("%s:%d", path:match("[^/]*$"), i)}
    local g = e.group or e.tag or e.config_type
    r.group = o.group or (type(g) == "string" and g) or "all"
    if out.energy ~= nil then r.energy = out.energy
    elseif out.energy_per_atom ~= nil then r.energy = out.energy_per_atom * #a end
    if out.forces ~= nil then
      local f = out.forces
      if #f ~= #a then error(string.format("%s: forces has %d rows for %d atoms", where, #f, #a), 0) end
      r.forces = U.Array(#a, 3)
      for k = 1, #a do for d = 1, 3 do r.forces:set(k, d, f[k][d]) end end
    end
    local vs = out.virial_stress or out.stress
    if vs ~= nil then
      if #vs ~= 6 then error(where .. ": virial_stress must hold 6 numbers", 0) end
      local s = U.BAR * 1e3   -- kbar -> eV/Å^3
      local V = a:volume()
      local xx, yy, zz, xy, yz, zx = vs[1], vs[2], vs[3], vs[4], vs[5], vs[6]
      r.virial = {{xx * s * V, xy * s * V, zx * s * V}, {xy * s * V, yy * s * V, yz * s * V},
                  {zx * s * V, yz * s * V, zz * s * V}}
    end
    ds[i] = r
  end
  return ds
end

---------------------------------------------------------------- read
local function guess(path)
  if U.isdir(path) then return "fitsnap" end
  local f = io.open(path, "rb")
  if not f then return nil end
  local head = f:read(4096) or ""
  f:close()
  local body = head:gsub("^%s*#[^\n]*\n", ""):gsub("^%s+", "")
  if body:sub(1, 1) == "{" and head:find('"Dataset"', 1, true) then return "fitsnap" end
  if body:sub(1, 1) == "[" then return "mlearn" end
  if path:match("%.json$") then return body:sub(1, 1) == "{" and "fitsnap" or "mlearn" end
  return "extxyz"
end

local READ_KEYS = {"format", "group", "group_key", "energy_key", "forces_key", "weight"}

function M.read(path, o)
  local fname = "kiln.train.read"
  if type(path) ~= "string" then U.fail(fname, "file or directory name expected (got " .. type(path) .. ")") end
  o = U.check_keys(fname, o, READ_KEYS)
  local fmt = o.format
  if not fmt then
    if not U.exists(path) and not U.isdir(path) then
      U.fail(fname, "cannot open '" .. path .. "': no such file or directory")
    end
    fmt = guess(path)
  end
  local readers = {extxyz = read_extxyz, xyz = read_extxyz, fitsnap = read_fitsnap, mlearn = read_mlearn}
  local rd = readers[fmt]
  if not rd then U.fail(fname, "unknown format '" .. tostring(fmt) .. "' (extxyz, fitsnap, mlearn)") end
  local ok, ds = pcall(rd, path, o)
  if not ok then U.fail(fname, tostring(ds):gsub("^kiln%.io%.read: ", "")) end
  if o.weight then for _, r in ipairs(ds) do r.weight = o.weight end end
  return ds
end

-- Wrap plain Atoms with labels from a potential (used by tests and oracles).
function M.label(frames, pot, o)
  local fname = "kiln.train.label"
  o = U.check_keys(fname, o, {"group", "virial", "forces"})
  local ds = {}
  for i, a in ipairs(frames) do
    local r = pot:compute(a)
    ds[i] = {atoms = a, energy = r.energy, forces = o.forces ~= false and r.forces or nil,
             virial = o.virial ~= false and r.virial or nil, group = o.group or "all"}
  end
  return ds
end

---------------------------------------------------------------- write (extxyz)
function M.write(path, ds, o)
  local fname = "kiln.train.write"
  U.dataset(fname, ds)
  o = U.check_keys(fname, o, {"append"})
  local frames = {}
  for i, r in ipairs(ds) do
    local a = r.atoms:copy()
    local info = {}
    if r.energy then info.energy = r.energy end
    if r.virial then
      local v = {}
      for p = 1, 3 do for q = 1, 3 do v[#v + 1] = r.virial[p][q] end end
      info.virial = v
    end
    if r.dipole then info.dipole = {r.dipole[1], r.dipole[2], r.dipole[3]} end
    if r.group then info.config_type = r.group end
    if r.weight then info.weight = r.weight end
    a.info = info
    -- reference forces go through the built-in forces array and `forces=true` (a prop
    -- named "forces" cannot be created on Atoms that have none: set_array would set the
    -- built-in array), frame by frame so that unlabelled frames get no forces column
    if r.forces then
      local F = a:forces()
      for j = 1, #a do for c = 1, 3 do F[j][c] = r.forces:get(j, c) end end
    end
    frames[i] = {a, r.forces ~= nil}
  end
  for i, fa in ipairs(frames) do
    local ok, err = pcall(cio.write, path, {fa[1]}, {format = "extxyz", forces = fa[2],
                                                      append = (i > 1) or o.append or false})
    if not ok then U.fail(fname, tostring(err)) end
  end
  return path
end

---------------------------------------------------------------- groups, split
function M.groups(ds)
  local names, by = {}, {}
  for i, r in ipairs(ds) do
    local g = r.group or "all"
    if not by[g] then by[g] = {}; names[#names + 1] = g end
    by[g][#by[g] + 1] = i
  end
  table.sort(names)
  return names, by
end

function M.summary(ds)
  local names, by = M.groups(ds)
  local out = {n = #ds, natoms = 0, groups = {}}
  for _, r in ipairs(ds) do out.natoms = out.natoms + #r.atoms end
  for _, g in ipairs(names) do
    local s = {n = #by[g], natoms = 0, energies = 0, forces = 0, virials = 0}
    for _, i in ipairs(by[g]) do
      local r = ds[i]
      s.natoms = s.natoms + #r.atoms
      if r.energy then s.energies = s.energies + 1 end
      if r.forces then s.forces = s.forces + 1 end
      if r.virial then s.virials = s.virials + 1 end
    end
    out.groups[g] = s
  end
  return out
end

-- counts of a list of n items split by fractions (largest remainder, test/validation
-- first get at least one item each when their fraction > 0 and n allows)
local function counts(n, fr)
  local c, rem, tot = {}, {}, 0
  for k = 1, 3 do
    local x = n * fr[k]
    c[k] = math.floor(x)
    rem[k] = x - c[k]
    tot = tot + c[k]
  end
  while tot < n do
    local best = 1
    for k = 2, 3 do if rem[k] > rem[best] then best = k end end
    c[best] = c[best] + 1
    rem[best] = -1
    tot = tot + 1
  end
  return c
end

local SPLIT_KEYS = {"fractions", "seed", "by", "holdout"}

function M.split(ds, o)
  local fname = "kiln.train.split"
  U.dataset(fname, ds)
  o = U.check_keys(fname, o, SPLIT_KEYS)
  local fr = o.fractions or {0.8, 0.1, 0.1}
  if type(fr) ~= "table" then U.fail(fname, "fractions must be {train, validation, test}") end
  if fr.train or fr.validation or fr.test then
    fr = {fr.train or 0, fr.validation or 0, fr.test or 0}
  end
  if #fr == 2 then fr = {fr[1], 0, fr[2]} end
  local s = 0
  for k = 1, 3 do
    if type(fr[k]) ~= "number" or fr[k] < 0 then
      U.fail(fname, "fractions must be three numbers >= 0 {train, validation, test}")
    end
    s = s + fr[k]
  end
  if math.abs(s - 1) > 1e-9 then U.fail(fname, string.format("fractions must add up to 1 (got %g)", s)) end
  local seed = o.seed or 1
  if math.type(seed) ~= "integer" and not (type(seed) == "number" and seed == math.floor(seed)) then
    U.fail(fname, "seed must be an integer")
  end
  if o.by ~= nil and o.by ~= "group" and o.by ~= "structure" then
    U.fail(fname, "by must be \"group\" (stratified) or \"structure\"")
  end
  local out = {train = {}, validation = {}, test = {}}
  local keys = {"train", "validation", "test"}
  local hold = {}
  if o.holdout then
    local h = type(o.holdout) == "string" and {o.holdout} or o.holdout
    for _, g in ipairs(h) do hold[g] = true end
  end
  local pool, held = {}, {}
  for i, r in ipairs(ds) do
    if hold[r.group or "all"] then held[#held + 1] = i else pool[#pool + 1] = i end
  end
  local function assign(list, stream)
    local perm = U.permutation(#list, math.tointeger(seed), stream)
    local c = counts(#list, fr)
    local k, used = 1, 0
    for _, p in ipairs(perm) do
      while k <= 3 and used >= c[k] do k, used = k + 1, 0 end
      local t = out[keys[k]]
      t[#t + 1] = list[p]
      used = used + 1
    end
  end
  if o.by == "group" then
    local names, by = {}, {}
    for _, i in ipairs(pool) do
      local g = ds[i].group or "all"
      if not by[g] then by[g] = {}; names[#names + 1] = g end
      by[g][#by[g] + 1] = i
    end
    table.sort(names)
    for gi, g in ipairs(names) do assign(by[g], 100 + gi) end
  else
    assign(pool, 100)
  end
  for _, i in ipairs(held) do out.test[#out.test + 1] = i end
  for _, k in ipairs(keys) do
    table.sort(out[k])
    local recs = {}
    for j, i in ipairs(out[k]) do recs[j] = ds[i] end
    out[k] = recs
  end
  return out
end

-- Concatenate datasets.
function M.concat(...)
  local out = {}
  for _, d in ipairs{...} do for _, r in ipairs(d) do out[#out + 1] = r end end
  return out
end

-- Records with group in the list (or a predicate).
function M.select(ds, what)
  local keep
  if type(what) == "function" then keep = what
  else
    local set = {}
    for _, g in ipairs(type(what) == "string" and {what} or what) do set[g] = true end
    keep = function(r) return set[r.group or "all"] end
  end
  local out = {}
  for _, r in ipairs(ds) do if keep(r) then out[#out + 1] = r end end
  return out
end

return M
