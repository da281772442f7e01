-- kiln.oracle: what labels structures with energies, forces and virials (doc/oracle.md).
--   kiln.oracle.potential(pot[, opts])   any kiln potential (cheap; tests, toy loops)
--   kiln.oracle.cp2k{...}                CP2K (Quickstep DFT) as a subprocess
--   kiln.oracle.command{command=...}     any program reading and writing extxyz files
-- Every oracle has o:label(atoms | record | list) -> structure record(s) (the shared data
-- convention: {atoms=, energy= eV, forces= Array n x 3 eV/Å, virial= 3x3 eV (ASE sign,
-- W = -stress*V), group=, id=, weight=}), o.calls (real evaluations), o.hits (cache hits),
-- o.seconds (time spent in real evaluations), and an optional on-disk cache keyed by
-- a structure hash and the oracle's settings hash.
local kiln = require "kiln"
local catoms = require "kiln.c.atoms"
local carray = require "kiln.c.array"
local check = require "kiln.argcheck"
check.internal()

local M = {}

-- Conversions (CODATA 2018, the values kiln.units uses):
local HARTREE = kiln.units.convert(1, "Ha", "eV")     -- 27.211386245988 eV
local BOHR = kiln.units.convert(1, "bohr", "A")       -- 0.529177210903 Å
local GPA = kiln.units.eV_A3_to_GPa                   -- 160.2176634 GPa per eV/Å^3
M.HARTREE, M.BOHR, M.GPA_PER_EV_A3 = HARTREE, BOHR, GPA

---------------------------------------------------------------- small helpers
local function is_atoms(x) return getmetatable(x) == catoms.metatable end
local function is_array(x) return getmetatable(x) == carray.metatable end

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)                       -- run a shell command -> exit code
  local ok, how, code = os.execute(cmd)
  if ok then return 0 end
  if how == "signal" then return 128 + (code or 0) end
  return code or 1
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

local function slurp(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write_atomic(path, text)
  local tmp = string.format("%s.tmp.%d", path, math.random(1 << 30))
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  f:write(text)
  f:close()
  local ok, e = os.rename(tmp, path)
  if not ok then os.remove(tmp) return nil, e end
  return true
end

local function mkdir_p(dir) return sh("mkdir -p " .. shq(dir)) == 0 end
local function rm_rf(dir) sh("rm -rf " .. shq(dir)) end

local function tmpdir(prefix)
  local t = os.tmpname()                  -- a fresh unique file: reuse its name as a dir
  os.remove(t)
  local d = t .. "_" .. prefix
  if not mkdir_p(d) then return nil end
  return d
end

local function last_lines(text, n)
  if not text or text == "" then return "(no output)" end
  local lines = {}
  for l in text:gmatch("[^\n]*") do lines[#lines + 1] = l end
  while #lines > 0 and lines[#lines]:match("^%s*$") do lines[#lines] = nil end
  local first = math.max(1, #lines - n + 1)
  return table.concat(lines, "\n", first)
end

local function which(cmd)
  local word = cmd:match("^%s*(%S+)")
  if not word then return nil end
  return sh("command -v " .. shq(word) .. " >/dev/null 2>&1") == 0, word
end

local function check_opts(fname, o, allowed)
  if o == nil then return {} end
  if type(o) ~= "table" then check.fail(fname, "options must be a table (got " .. type(o) .. ")") end
  for k in pairs(o) do
    if not allowed[k] then
      local names = {}
      for n in pairs(allowed) do names[#names + 1] = n end
      table.sort(names)
      check.fail(fname, string.format("unknown option '%s' (known: %s)", tostring(k),
                                      table.concat(names, ", ")))
    end
  end
  return o
end

local function set(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end

---------------------------------------------------------------- hashing
-- FNV-1a, 64 bit (Lua integers wrap around on overflow), as 16 hex digits.
local function fnv1a(s)
  local h = 0xcbf29ce484222325
  local prime = 0x100000001b3
  local n = #s
  for i = 1, n, 256 do
    local b = {s:byte(i, math.min(i + 255, n))}
    for k = 1, #b do h = (h ~ b[k]) * prime end
  end
  return string.format("%016x", h)
end
M.fnv1a = fnv1a

-- A length rounded to 1e-8 Å as an integer string ("-0" cannot occur).
local function q8(x)
  local v = math.floor(x * 1e8 + 0.5)
  if math.type(v) == "integer" then return tostring(v) end
  return string.format("%.17g", x)
end

-- The canonical text of a structure: symbols, positions and cell rounded to 1e-8 Å, pbc.
function M.canonical(a)
  if not is_atoms(a) then check.fail("kiln.oracle.canonical", "expected a kiln.Atoms (got " .. type(a) .. ")") end
  local n = #a
  local out = {"kiln-structure 1", tostring(n)}
  local pbc = a:pbc()
  out[#out + 1] = (pbc[1] and "T" or "F") .. (pbc[2] and "T" or "F") .. (pbc[3] and "T" or "F")
  local cell = a:cell()
  local c = {}
  for i = 1, 3 do for j = 1, 3 do c[#c + 1] = q8(cell[i][j]) end end
  out[#out + 1] = table.concat(c, " ")
  local sym, x = a:symbols(), a:positions()
  for i = 1, n do
    out[#out + 1] = string.format("%s %s %s %s", sym[i], q8(x:get(i, 1)), q8(x:get(i, 2)),
                                  q8(x:get(i, 3)))
  end
  return table.concat(out, "\n") .. "\n"
end

function M.hash(a) return fnv1a(M.canonical(a)) end

-- A deterministic text of a settings table (sorted keys), for the settings hash.
local function serialize(v)
  local t = type(v)
  if t == "table" then
    if is_array(v) then v = v:totable() end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(p, r) return tostring(p) < tostring(r) end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. serialize(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "number" then
    if math.type(v) == "integer" or v == math.floor(v) and math.abs(v) < 2^53 then
      return string.format("%d", math.tointeger(v) or v)
    end
    return string.format("%.17g", v)
  elseif t == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end
M.serialize = serialize

---------------------------------------------------------------- records
-- A fresh kiln.Atoms with only cell, symbols, positions and pbc (no props or info).
local function clean_atoms(a)
  return kiln.Atoms{cell = a:cell(), symbols = a:symbols(), positions = a:positions_copy(),
                    pbc = a:pbc()}
end

local function to_forces(f, n, who)
  if f == nil then return nil end
  if type(f) == "table" and not is_array(f) then f = kiln.Array(f) end
  if not is_array(f) then error(who .. ": forces must be an n x 3 kiln.Array or table", 0) end
  local r, c = f:shape()
  if r ~= n or c ~= 3 then
    error(string.format("%s: forces have shape %d x %d, expected %d x 3", who, r, c, n), 0)
  end
  return f
end

local function to_virial(v, who)
  if v == nil then return nil end
  if is_array(v) then v = v:totable() end
  if type(v) ~= "table" then error(who .. ": virial must be a 3x3 table", 0) end
  if #v == 9 and type(v[1]) == "number" then
    return {{v[1], v[2], v[3]}, {v[4], v[5], v[6]}, {v[7], v[8], v[9]}}
  end
  local out = {}
  for i = 1, 3 do
    if type(v[i]) ~= "table" then error(who .. ": virial must be a 3x3 table", 0) end
    out[i] = {v[i][1], v[i][2], v[i][3]}
  end
  return out
end

local function finite(x) return type(x) == "number" and x == x and x > -math.huge and x < math.huge end

---------------------------------------------------------------- the cache
-- One extxyz file per (structure, settings): <dir>/<structure hash>-<settings hash>.xyz with
-- info energy, virial (9 values, eV), oracle, oracle_settings, structure_hash and the forces
-- column; <dir>/<settings hash>.settings holds the settings text for inspection. Files are
-- written to a temporary name and renamed (kiln.io.write), so a killed run never leaves a
-- partial entry.
local function cache_file(o, h)
  return string.format("%s/%s-%s.xyz", o.cache, h, o.settings_hash)
end

local function cache_read(o, h, n)
  local file = cache_file(o, h)
  if not exists(file) then return nil end
  local ok, frames = pcall(kiln.io.read, file)
  if not ok or type(frames) ~= "table" or not frames[1] then return nil end
  local a = frames[1]
  local info = a:info()
  if info.oracle_settings ~= o.settings_hash or info.structure_hash ~= h or #a ~= n then
    return nil
  end
  local r = {energy = info.energy}
  local props = {}
  for _, p in ipairs(a:arrays()) do props[p] = true end
  if props.forces then r.forces = a:array("forces") end
  if info.virial then r.virial = to_virial(info.virial, "cache") end
  if info.has_virial == false then r.virial = nil end
  return r
end

local function cache_write(o, h, a, r)
  local c = clean_atoms(a)
  if r.forces then c:set_forces(r.forces) end
  local info = {energy = r.energy, oracle = o.kind, oracle_settings = o.settings_hash,
                structure_hash = h}
  if r.virial then
    local v = r.virial
    info.virial = {v[1][1], v[1][2], v[1][3], v[2][1], v[2][2], v[2][3], v[3][1], v[3][2], v[3][3]}
  end
  c:set_info(info)
  kiln.io.write(cache_file(o, h), c, {forces = r.forces ~= nil})
end

---------------------------------------------------------------- the oracle class
local Oracle = {}
Oracle.__index = Oracle
M.Oracle = Oracle

-- kiln.oracle.new{kind=, settings=, evaluate=function(o, atoms) -> {energy=, forces=, virial=},
-- cache=} : an oracle from a Lua function (the three built-in kinds use this).
function M.new(spec)
  if type(spec) ~= "table" or type(spec.evaluate) ~= "function" then
    check.fail("kiln.oracle.new", "expected {kind=, settings=, evaluate=function(o, atoms) ... end}")
  end
  local o = setmetatable({kind = spec.kind or "custom", settings = spec.settings or {},
                          evaluate = spec.evaluate, calls = 0, hits = 0, seconds = 0.0,
                          group = spec.group}, Oracle)
  o.settings_hash = fnv1a(o.kind .. "\n" .. serialize(o.settings))
  local cache = spec.cache
  if type(cache) == "table" then cache = cache.dir end
  if cache ~= nil and cache ~= false then o:use_cache(cache) end
  return o
end

-- o:use_cache(dir): store labels in (and take them from) the directory dir.
function Oracle:use_cache(cache)
  local who = "kiln.oracle." .. self.kind
  if type(cache) ~= "string" then
    check.fail(who, "cache must be a directory name or {dir=} (got " .. type(cache) .. ")")
  end
  if not mkdir_p(cache) then check.fail(who, "cannot create the cache directory '" .. cache .. "'") end
  self.cache = cache
  local sfile = string.format("%s/%s.settings", cache, self.settings_hash)
  if not exists(sfile) then
    write_atomic(sfile, "kind " .. self.kind .. "\n" .. serialize(self.settings) .. "\n")
  end
  return self
end

function Oracle:__tostring()
  return string.format("kiln.oracle.%s (settings %s, %d calls, %d cache hits%s)", self.kind,
                       self.settings_hash, self.calls, self.hits,
                       self.cache and ", cache " .. self.cache or "")
end

-- Label one structure: from the cache, else by a real evaluation (then cached).
function Oracle:_one(a, rec)
  local n = #a
  local h = M.hash(a)
  local r = self.cache and cache_read(self, h, n)
  if r then
    self.hits = self.hits + 1
  else
    local t0 = kiln.wtime()
    local ok, res = pcall(self.evaluate, self, a:copy(), h)
    if not ok then
      if type(res) == "string" then res = res:gsub("^[^\n]-oracle%.lua:%d+: ", "") end
      error(res, 0)
    end
    self.seconds = self.seconds + (kiln.wtime() - t0)
    self.calls = self.calls + 1
    local who = "kiln.oracle." .. self.kind
    if type(res) ~= "table" or not finite(res.energy) then
      error(who .. ": the evaluation returned no finite energy", 0)
    end
    r = {energy = res.energy, forces = to_forces(res.forces, n, who),
         virial = to_virial(res.virial, who)}
    if self.cache then cache_write(self, h, a, r) end
  end
  local out = {atoms = a:copy(), energy = r.energy, forces = r.forces, virial = r.virial,
               id = h, group = self.group or "all"}
  if rec then
    for k, v in pairs(rec) do
      if k == "group" or k == "id" or (out[k] == nil and k ~= "energy" and k ~= "forces" and
                                        k ~= "virial" and k ~= "atoms") then
        out[k] = v
      end
    end
    if rec.group == nil then out.group = self.group or "all" end
  end
  return out
end

-- o:label(x): x is a kiln.Atoms, a structure record ({atoms=, ...}: its group, id and
-- weight are kept) or a list of them -> one record or a list of records.
function Oracle:label(x)
  if getmetatable(self) ~= Oracle then
    check.fail("oracle:label", "call it as o:label(atoms) (with a colon)")
  end
  if is_atoms(x) then return self:_one(x) end
  if type(x) ~= "table" then
    check.fail("oracle:label", "expected a kiln.Atoms, a record {atoms=} or a list (got " .. type(x) .. ")")
  end
  if is_atoms(x.atoms) then return self:_one(x.atoms, x) end
  local out = {}
  for i, item in ipairs(x) do
    if is_atoms(item) then out[i] = self:_one(item)
    elseif type(item) == "table" and is_atoms(item.atoms) then out[i] = self:_one(item.atoms, item)
    else check.fail("oracle:label", string.format("item %d is not a kiln.Atoms or a record {atoms=}", i)) end
  end
  return out
end

-- o:cached(atoms) -> true when a label for these atoms is in the cache
function Oracle:cached(a)
  if not self.cache then return false end
  return cache_read(self, M.hash(a), #a) ~= nil
end

---------------------------------------------------------------- kiln.oracle.potential
function M.potential(pot, opts)
  local fname = "kiln.oracle.potential"
  if type(pot) == "table" and not getmetatable(pot) and pot.pot ~= nil then
    opts, pot = pot, pot.pot
  end
  if type(pot) ~= "userdata" or type(pot.compute) ~= "function" then
    check.fail(fname, "expected a kiln.Potential (got " .. type(pot) .. ")")
  end
  opts = check_opts(fname, opts, set{"pot", "cache", "key", "group"})
  local settings = {style = pot.style, cutoff = pot.cutoff, key = opts.key}
  return M.new{kind = "potential", settings = settings, cache = opts.cache, group = opts.group,
               evaluate = function(_, a)
                 local r = pot:compute(a)
                 return {energy = r.energy, forces = r.forces, virial = r.virial}
               end}
end

---------------------------------------------------------------- kiln.oracle.cp2k
local CP2K_OPTS = set{"command", "template", "xc", "basis", "potential", "cutoff", "rel_cutoff",
                      "kpoints", "charge", "multiplicity", "scf", "smearing", "timeout", "workdir",
                      "keep", "threads", "data_dir", "basis_files", "potential_files", "cache",
                      "key", "group"}

local function per_element(v, sym, what)
  if type(v) == "string" then return v end
  if type(v) == "table" and type(v[sym]) == "string" then return v[sym] end
  error(string.format("kiln.oracle.cp2k: no %s for element %s", what, sym), 0)
end

local function resolve_data(o, name)
  if name:sub(1, 1) == "/" then return name end
  local p = o.data_dir .. "/" .. name
  if exists(p) then return p end
  return name
end

local function fill(template, values)
  local missing
  local text = template:gsub("{{([%w_]+)}}", function(k)
    local v = values[k]
    if v == nil then missing = missing or k return "" end
    return v
  end)
  if missing then error("kiln.oracle.cp2k: unknown template placeholder {{" .. missing .. "}}", 0) end
  return text
end

local function fmt(x) return string.format("%.10f", x) end

-- The CP2K input text for these atoms (also used by o:input(atoms)).
local function cp2k_input(o, a, project)
  local s = o.settings
  local pbc = a:pbc()
  local periodic
  if pbc[1] and pbc[2] and pbc[3] then periodic = true
  elseif not (pbc[1] or pbc[2] or pbc[3]) then periodic = false
  else error("kiln.oracle.cp2k: mixed periodicity (pbc " .. tostring(pbc[1]) .. " " .. tostring(pbc[2]) ..
             " " .. tostring(pbc[3]) .. ") is not supported: use all true or all false", 0) end
  local cell = a:cell()
  local vol = a:volume()
  if not (vol > 0) then
    error("kiln.oracle.cp2k: the structure needs a cell (for a molecule: a box with vacuum, pbc=false)", 0)
  end
  local v = {PROJECT = project, CHARGE = tostring(s.charge), MULTIPLICITY = tostring(s.multiplicity),
             UKS = s.multiplicity > 1 and "UKS" or "", CUTOFF = serialize(s.cutoff),
             REL_CUTOFF = serialize(s.rel_cutoff), EPS_SCF = string.format("%.3E", s.scf.eps),
             MAX_SCF = tostring(s.scf.max), XC = s.xc, PERIODIC = periodic and "XYZ" or "NONE",
             STRESS = periodic and "ANALYTICAL" or "NONE"}
  local bl, pl = {}, {}
  for _, f in ipairs(s.basis_files) do bl[#bl + 1] = "    BASIS_SET_FILE_NAME " .. resolve_data(o, f) end
  for _, f in ipairs(s.potential_files) do pl[#pl + 1] = "    POTENTIAL_FILE_NAME " .. resolve_data(o, f) end
  v.BASIS_FILES, v.POTENTIAL_FILES = table.concat(bl, "\n"), table.concat(pl, "\n")
  v.POISSON = periodic and "" or
    "    &POISSON\n      PERIODIC NONE\n      PSOLVER MT\n    &END POISSON"
  if s.kpoints then
    local k = s.kpoints
    v.KPOINTS = string.format("    &KPOINTS\n      SCHEME MONKHORST-PACK %d %d %d\n" ..
                              "      SYMMETRY OFF\n    &END KPOINTS", k[1], k[2], k[3])
  else
    v.KPOINTS = ""
  end
  if s.smearing then
    v.SMEAR = string.format("      ADDED_MOS %d\n      &SMEAR ON\n        METHOD FERMI_DIRAC\n" ..
                            "        ELECTRONIC_TEMPERATURE [K] %s\n      &END SMEAR",
                            math.max(8, #a), serialize(s.smearing))
  else
    v.SMEAR = ""
  end
  local rows = {}
  for i, name in ipairs{"A", "B", "C"} do
    rows[i] = string.format("      %s %s %s %s", name, fmt(cell[i][1]), fmt(cell[i][2]), fmt(cell[i][3]))
  end
  v.CELL = table.concat(rows, "\n")
  local sym, x = a:symbols(), a:positions()
  local coords, kinds, seen = {}, {}, {}
  for i = 1, #a do
    coords[i] = string.format("      %s %s %s %s", sym[i], fmt(x:get(i, 1)), fmt(x:get(i, 2)), fmt(x:get(i, 3)))
    if not seen[sym[i]] then
      seen[sym[i]] = true
      kinds[#kinds + 1] = string.format("    &KIND %s\n      BASIS_SET %s\n      POTENTIAL %s\n    &END KIND",
                                        sym[i], per_element(s.basis, sym[i], "basis"),
                                        per_element(s.potential, sym[i], "potential"))
    end
  end
  v.COORD, v.KINDS = table.concat(coords, "\n"), table.concat(kinds, "\n")
  return fill(o.template_text, v)
end

local function num(s) return tonumber((s:gsub("[dD]", "e"))) end

-- Parse a CP2K ENERGY_FORCE output: energy (eV), forces (eV/Å), virial (eV, ASE sign).
-- Exposed as kiln.oracle.parse_cp2k(text, natoms, volume) for tests and user scripts.
function M.parse_cp2k(text, n, volume)
  local energy
  for e in text:gmatch("ENERGY| Total FORCE_EVAL %( %a+ %) energy %[[^%]]*%]:%s*(%S+)") do energy = e end
  if not energy then return nil, "no 'ENERGY| Total FORCE_EVAL' line in the output" end
  energy = num(energy) * HARTREE
  local start
  local pos = 1
  while true do
    local s, e = text:find("ATOMIC FORCES in %[a%.u%.%]", pos)
    if not s then break end
    start, pos = e, e + 1
  end
  if not start then return nil, "no 'ATOMIC FORCES in [a.u.]' block in the output" end
  local forces = kiln.Array(n, 3)
  local count = 0
  local stop = text:find("SUM OF ATOMIC FORCES", start, true) or #text
  local block = text:sub(start, stop)
  for line in block:gmatch("[^\n]+") do
    local i, fx, fy, fz = line:match("^%s*(%d+)%s+%d+%s+%S+%s+(%S+)%s+(%S+)%s+(%S+)%s*$")
    if i then
      i = tonumber(i)
      if i < 1 or i > n then return nil, "force block names atom " .. i .. " of " .. n end
      forces:set(i, 1, num(fx) * HARTREE / BOHR)
      forces:set(i, 2, num(fy) * HARTREE / BOHR)
      forces:set(i, 3, num(fz) * HARTREE / BOHR)
      count = count + 1
    end
  end
  if count ~= n then return nil, string.format("force block has %d atoms, expected %d", count, n) end
  local virial
  local sstart
  pos = 1
  while true do
    local s, e = text:find("STRESS| Analytical stress tensor [GPa]", pos, true)
    if not s then s, e = text:find("STRESS| Numerical stress tensor [GPa]", pos, true) end
    if not s then break end
    sstart, pos = e, e + 1
  end
  if sstart and volume then
    local rows = {}
    for line in text:sub(sstart + 1, sstart + 800):gmatch("[^\n]+") do
      local comp, a1, a2, a3 = line:match("^%s*STRESS|%s+([xyz])%s+(%S+)%s+(%S+)%s+(%S+)%s*$")
      if comp and num(a1) and num(a2) and num(a3) then
        rows[#rows + 1] = {comp, num(a1), num(a2), num(a3)}
        if #rows == 3 then break end
      end
    end
    if #rows == 3 then
      -- CP2K prints the pressure tensor (positive = compressed), i.e. -stress in ASE's sign;
      -- the virial is W = -stress*V = P*V (eV).
      virial = {}
      for i = 1, 3 do
        virial[i] = {}
        for j = 1, 3 do virial[i][j] = rows[i][j + 1] / GPA * volume end
      end
    end
  end
  return {energy = energy, forces = forces, virial = virial}
end

function M.cp2k(opts)
  local fname = "kiln.oracle.cp2k"
  opts = check_opts(fname, opts, CP2K_OPTS)
  local scf = opts.scf or {}
  if type(scf) ~= "table" then check.fail(fname, "scf must be a table {eps=, max=}") end
  local function posnum(k, v, dflt)
    v = v == nil and dflt or v
    if type(v) ~= "number" or not (v > 0 and v < math.huge) then
      check.fail(fname, string.format("%s must be a positive number (got %s)", k, tostring(v)))
    end
    return v
  end
  local kp = opts.kpoints
  if kp ~= nil then
    if type(kp) == "number" then kp = {kp, kp, kp} end
    if type(kp) ~= "table" or #kp ~= 3 then check.fail(fname, "kpoints must be {n1, n2, n3} or nil (Gamma)") end
    for i = 1, 3 do
      if math.type(kp[i]) ~= "integer" and not (type(kp[i]) == "number" and kp[i] == math.floor(kp[i])) or kp[i] < 1 then
        check.fail(fname, "kpoints must be three integers >= 1 (got " .. tostring(kp[i]) .. ")")
      end
    end
    kp = {math.tointeger(kp[1]), math.tointeger(kp[2]), math.tointeger(kp[3])}
    if kp[1] == 1 and kp[2] == 1 and kp[3] == 1 then kp = nil end
  end
  local template_text, template_name
  if opts.template then
    template_text = slurp(opts.template)
    if not template_text then check.fail(fname, "cannot read the template '" .. tostring(opts.template) .. "'") end
    template_name = opts.template
  else
    template_text, template_name = require "kiln.data.cp2k_template", "built-in"
  end
  local mult = opts.multiplicity or 1
  if math.type(mult) ~= "integer" or mult < 1 then check.fail(fname, "multiplicity must be an integer >= 1") end
  local charge = opts.charge or 0
  if math.type(charge) ~= "integer" then check.fail(fname, "charge must be an integer") end
  local function list(v, d)
    if v == nil then return d end
    if type(v) == "string" then return {v} end
    return v
  end
  local settings = {
    xc = opts.xc or "PBE",
    basis = opts.basis or "DZVP-MOLOPT-SR-GTH",
    potential = opts.potential or "GTH-PBE",
    cutoff = posnum("cutoff", opts.cutoff, 400),
    rel_cutoff = posnum("rel_cutoff", opts.rel_cutoff, 60),
    kpoints = kp,
    charge = charge,
    multiplicity = mult,
    scf = {eps = posnum("scf.eps", scf.eps, 1e-7), max = math.tointeger(posnum("scf.max", scf.max, 100)) or 100},
    smearing = opts.smearing and posnum("smearing", opts.smearing) or nil,
    basis_files = list(opts.basis_files, {"BASIS_MOLOPT", "GTH_BASIS_SETS"}),
    potential_files = list(opts.potential_files, {"GTH_POTENTIALS"}),
    template = fnv1a(template_text),
    key = opts.key,
  }
  local command = opts.command or "cp2k"
  local timeout = posnum("timeout", opts.timeout, 3600)
  local threads = math.tointeger(posnum("threads", opts.threads, 1))
  if not threads then check.fail(fname, "threads must be an integer") end
  local o = M.new{kind = "cp2k", settings = settings, cache = opts.cache, group = opts.group,
                  evaluate = function(self, a, h) return self:_run(a, h) end}
  o.command, o.timeout, o.threads, o.keep = command, timeout, threads, opts.keep and true or false
  o.workdir, o.template_text, o.template_name = opts.workdir, template_text, template_name
  o.data_dir = opts.data_dir or os.getenv("CP2K_DATA_DIR") or "/usr/share/cp2k"
  o.input = function(self, a) return cp2k_input(self, a, "kiln") end
  o._run = function(self, a, h)
    local found, prog = which(self.command)
    if not found then
      error(string.format("kiln.oracle.cp2k: the CP2K program '%s' was not found on PATH; " ..
                          "install it (Debian/Ubuntu: apt-get install cp2k cp2k-data) or give " ..
                          "command= (e.g. command=\"cp2k.psmp\")", prog or self.command), 0)
    end
    for _, f in ipairs(self.settings.basis_files) do
      if f:sub(1, 1) ~= "/" and not exists(self.data_dir .. "/" .. f) then
        error(string.format("kiln.oracle.cp2k: basis file '%s' not found in %s (install cp2k-data, " ..
                            "or set data_dir= / CP2K_DATA_DIR)", f, self.data_dir), 0)
      end
    end
    local input = cp2k_input(self, a, "kiln")
    local dir
    if self.workdir then
      dir = string.format("%s/%s-%s", self.workdir, h, self.settings_hash)
      if not mkdir_p(dir) then error("kiln.oracle.cp2k: cannot create '" .. dir .. "'", 0) end
    else
      dir = tmpdir("cp2k")
      if not dir then error("kiln.oracle.cp2k: cannot create a temporary directory", 0) end
    end
    local fh = assert(io.open(dir .. "/kiln.inp", "w"))
    fh:write(input)
    fh:close()
    os.remove(dir .. "/kiln.out")
    local cmd = string.format("cd %s && OMP_NUM_THREADS=%d timeout -k 10 %.6g %s -i kiln.inp -o kiln.out " ..
                              "> kiln.log 2>&1", shq(dir), self.threads, self.timeout, self.command)
    local code = sh(cmd)
    local out = slurp(dir .. "/kiln.out") or ""
    local function failed(msg)
      error(string.format("kiln.oracle.cp2k: %s (input and output kept in %s)", msg, dir), 0)
    end
    if code == 124 or code == 137 then
      failed(string.format("CP2K timed out after %g s (timeout=)", self.timeout))
    elseif code ~= 0 then
      local log = slurp(dir .. "/kiln.log") or ""
      failed(string.format("CP2K exited with status %d; last lines of the output:\n%s", code,
                           last_lines(out ~= "" and out or log, 15)))
    end
    if out:find("SCF run NOT converged", 1, true) then
      failed(string.format("CP2K's SCF did not converge (MAX_SCF %d, EPS_SCF %g): raise scf.max, " ..
                           "try smearing= (K), or check the structure", self.settings.scf.max,
                           self.settings.scf.eps))
    end
    local r, perr = M.parse_cp2k(out, #a, a:volume())
    if not r then failed("cannot read the CP2K output: " .. perr) end
    if not self.keep and not self.workdir then rm_rf(dir) end
    return r
  end
  return o
end

---------------------------------------------------------------- kiln.oracle.command
local CMD_OPTS = set{"command", "input_format", "output_format", "timeout", "workdir", "keep",
                     "cache", "key", "group"}

function M.command(opts)
  local fname = "kiln.oracle.command"
  if type(opts) == "string" then opts = {command = opts} end
  opts = check_opts(fname, opts, CMD_OPTS)
  if type(opts.command) ~= "string" or not opts.command:find("{output}", 1, true) then
    check.fail(fname, "command must be a string with {input} and {output} placeholders " ..
                      "(e.g. \"myprog {input} {output}\")")
  end
  local infmt, outfmt = opts.input_format or "extxyz", opts.output_format or "extxyz"
  if infmt ~= "extxyz" or outfmt ~= "extxyz" then
    check.fail(fname, "only input_format=\"extxyz\" and output_format=\"extxyz\" are supported")
  end
  local timeout = opts.timeout or 3600
  if type(timeout) ~= "number" or not (timeout > 0) then check.fail(fname, "timeout must be a positive number (s)") end
  local settings = {command = opts.command, input_format = infmt, output_format = outfmt, key = opts.key}
  local o = M.new{kind = "command", settings = settings, cache = opts.cache, group = opts.group,
                  evaluate = function(self, a, h) return self:_run(a, h) end}
  o.timeout, o.workdir, o.keep = timeout, opts.workdir, opts.keep and true or false
  o._run = function(self, a, h)
    local dir
    if self.workdir then
      dir = string.format("%s/%s-%s", self.workdir, h, self.settings_hash)
      if not mkdir_p(dir) then error(fname .. ": cannot create '" .. dir .. "'", 0) end
    else
      dir = tmpdir("cmd")
      if not dir then error(fname .. ": cannot create a temporary directory", 0) end
    end
    local infile, outfile, logfile = dir .. "/input.xyz", dir .. "/output.xyz", dir .. "/log.txt"
    os.remove(outfile)
    kiln.io.write(infile, clean_atoms(a))
    local cmd = self.settings.command:gsub("{(%a+)}", function(k)
      if k == "input" then return shq(infile) elseif k == "output" then return shq(outfile)
      elseif k == "dir" then return shq(dir) end
    end)
    local code = sh(string.format("timeout -k 10 %.6g sh -c %s > %s 2>&1", self.timeout,
                                  shq(cmd), shq(logfile)))
    local function failed(msg)
      error(string.format("%s: %s (files kept in %s)", fname, msg, dir), 0)
    end
    if code == 124 or code == 137 then failed(string.format("the command timed out after %g s (timeout=)", self.timeout)) end
    if code ~= 0 then
      failed(string.format("the command exited with status %d%s; its output:\n%s", code,
                           code == 127 and " (command not found)" or "", last_lines(slurp(logfile), 15)))
    end
    if not exists(outfile) then failed("the command wrote no output file {output}") end
    local ok, frames = pcall(kiln.io.read, outfile)
    if not ok then failed("cannot read the output: " .. tostring(frames)) end
    local b = frames[#frames]
    if not b or #b ~= #a then failed(string.format("the output has %s atoms, expected %d", b and #b or "no", #a)) end
    local info = b:info()
    local energy = info.energy or info.free_energy
    if not finite(energy) then failed("the output has no energy= in its comment line") end
    local props = {}
    for _, p in ipairs(b:arrays()) do props[p] = true end
    if not props.forces then failed("the output has no forces column (Properties=...:forces:R:3)") end
    local r = {energy = energy, forces = b:array("forces")}
    if info.virial then
      r.virial = to_virial(info.virial, fname)
    elseif info.stress then
      local s = to_virial(info.stress, fname)   -- eV/Å^3, ASE sign: virial = -stress * V
      local vol = b:volume()
      for i = 1, 3 do for j = 1, 3 do s[i][j] = -s[i][j] * vol end end
      r.virial = s
    end
    if not self.keep and not self.workdir then rm_rf(dir) end
    return r
  end
  return o
end

---------------------------------------------------------------- help
M.__help = [[
kiln.oracle: label structures with energies (eV), forces (eV/Å) and virials (eV, ASE sign).
  kiln.oracle.potential(pot[, {cache=, key=}])       any kiln potential
  kiln.oracle.cp2k{cutoff=400, kpoints={2,2,2}, xc="PBE", basis="DZVP-MOLOPT-SR-GTH",
                   potential="GTH-PBE", timeout=3600, cache=, ...}   CP2K subprocess
  kiln.oracle.command{command="prog {input} {output}", timeout=, cache=}   any program (extxyz)
  o:label(atoms | record | list) -> structure record(s) {atoms=, energy=, forces=, virial=, id=}
  o.calls (real evaluations)  o.hits (cache hits)  o.seconds (time in evaluations)
  cache={dir=} or cache="dir": results on disk by structure hash + settings hash
  kiln.oracle.hash(atoms) -> 16 hex digits (FNV-1a of the structure rounded to 1e-8 Å)
See doc/oracle.md.]]

-- help texts of the functions: stdlib/kiln/docs.lua (D["kiln.oracle.*"])

return M
