-- kiln: the public Lua API (`local kiln = require "kiln"`); see doc/lua-api.md.
-- Builds the `kiln` table from the preloaded C modules (kiln.c.*) and extends
-- the C classes with conveniences written in Lua. Units: Å, eV, amu, fs, K, e.

local core = require "kiln.c.core"
local carray = require "kiln.c.array"
local catoms = require "kiln.c.atoms"
local ccrystal = require "kiln.c.crystal"
local cpot = require "kiln.c.potential"
local cmd = require "kiln.c.md"
local cio = require "kiln.c.io"
local ctraj = require "kiln.c.traj"
local cunits = require "kiln.c.units"
local crng = require "kiln.c.rng"

local kiln = {version = core.version, wtime = core.wtime}
kiln.__help = [[
kiln ]] .. core.version .. [[ — atomistic simulation with classical potentials.
Units: Å, eV, amu, fs, K, e (pressure in GPa, stress in eV/Å^3).
  kiln.Atoms{...}        structures (kiln.crystal.* builders, kiln.io.read)
  kiln.Array{...}        numeric matrices (views into atoms, results)
  kiln.crystal           fcc bcc sc diamond hcp rocksalt perovskite hbn from_cell
  kiln.potential         lj sw tersoff eam eam/alloy ... and sum{p1, p2}
  kiln.md                verlet langevin csvr nosehoover ...; md:run(atoms, pot, nsteps, opts)
  kiln.io                read write trajectory
  kiln.units             convert(v, from, to), constants kB, hbar, ...
  kiln.Rng(seed)         seeded random stream
  kiln.version           "]] .. core.version .. [["]]

local function argerror(fname, i, expected, got)
  error(string.format("bad argument #%d to '%s' (%s expected, got %s)", i, fname, expected,
                      got == nil and "no value" or type(got)), 3)
end

-- Call a C constructor from a Lua wrapper so that errors blame the user's line
-- (not this file) and name the public function.
-- onfail(msg), if given, may return a better message for a failed call.
-- (Level 3 is the caller of the wrapper that calls this: keep it a plain call,
-- not a tail call, in wrappers; `construct` tail-calls it, which keeps the level.)
local function construct(label, ctor, ...)
  local ok, r, msg = pcall(ctor, ...)
  if ok then return r, msg end   -- msg: a constructor's nil, msg
  if type(r) == "string" then
    r = r:gsub("^[^\n]-init%.lua:%d+: ", "")
    r = r:gsub("^(bad argument #%d+ to )'[^']*'", "%1'" .. label .. "'")
  end
  error(r, 3)
end

-- A C module function under its public name: errors blame the caller's line
-- and name `label` (not the internal kiln.c.* module) in messages.
local function public(label, cfn)
  return function(...)
    local r, msg = construct(label, cfn, ...)
    return r, msg
  end
end

-- A class table: the C method table, callable as a constructor.
local function class(label, methods, ctor, help)
  methods.__help = help
  return setmetatable(methods, {__call = function(_, ...)
    local r, msg = construct(label, ctor, ...)
    return r, msg
  end})
end

---------------------------------------------------------------- kiln.Array
local Array = carray.methods
kiln.Array = class("kiln.Array", Array, carray.new, [[
kiln.Array: a rows x cols matrix of numbers, 1-based. Views (a:positions()) write
through to their kiln.Atoms; copies own their data.
  kiln.Array{{1,2,3},{4,5,6}}   from rows        kiln.Array{1,2,3}  column vector (3x1)
  kiln.Array(n, m)              zeros n x m      kiln.Array(n)      zeros n x 1
  arr[i][j], arr[i][j] = v      element (row proxy)   vec[i]  number when cols == 1
  arr[i] = {x, y, z}            set a row
  arr:get(i, j), arr:set(i, j, v)   element access without a row proxy
  #arr, arr:shape() -> rows, cols
  arr:totable()                 plain Lua table (rows of numbers; numbers for vectors)
  arr:copy()                    owning copy          arr:isview()
  arr:fill(v), arr:assign(other) set all values / copy from a same-shaped Array or table
  arr:sum([j]), arr:max_abs()   sum of all values (or of column j); largest |value|
  arr:column(j)                 column j as a Lua list
  tostring(arr)                 shape and the first/last rows]])

function Array:sum(j)
  local r, c = self:shape()
  local s = 0.0
  for i = 1, r do
    if j then s = s + self:get(i, j)
    else for k = 1, c do s = s + self:get(i, k) end end
  end
  return s
end

function Array:max_abs()
  local r, c = self:shape()
  local m = 0.0
  for i = 1, r do
    for k = 1, c do
      local v = math.abs(self:get(i, k))
      if v > m then m = v end
    end
  end
  return m
end

function Array:column(j)
  local r = self:shape()
  local t = {}
  for i = 1, r do t[i] = self:get(i, j) end
  return t
end

---------------------------------------------------------------- kiln.Rng
local Rng = crng.methods
kiln.Rng = class("kiln.Rng", Rng, crng.new, [[
kiln.Rng(seed[, stream]): a seeded random stream (xoshiro256**); streams of one
seed are independent.
  rng:uniform()       number in [0, 1)
  rng:normal()        standard normal deviate; rng:normal(n[, m]) -> kiln.Array n x m]])

---------------------------------------------------------------- kiln.Atoms
local Atoms = catoms.methods
local atoms_mt = catoms.metatable

kiln.Atoms = class("kiln.Atoms", Atoms, catoms.new, [[
kiln.Atoms: a configuration. Units: positions Å, velocities Å/fs, forces eV/Å, masses amu.
  kiln.Atoms{cell={{..},{..},{..}}, symbols={"Si",...}, positions={{x,y,z},...},
             pbc={true,true,true}}   -- or scaled_positions=, velocities=, masses=, ids=, info=
             (pbc defaults to true when a cell is given; symbols="Si" sets all atoms)
  kiln.Atoms(n)               n atoms at the origin, no species, no cell
  #a, a:natoms()
  a:positions() a:velocities() a:forces() a:masses()   kiln.Array views (n x 3, n x 1)
  a:positions_copy()  a:scaled_positions()             copies (Å, fractional)
  a:set_positions(m) a:set_scaled_positions(m) a:set_forces(m) a:set_masses(m)
  a:set_velocities(m)         from an Array or table (Å/fs)
  a:set_velocities{T=300, seed=1, exact=false}
                              Maxwell–Boltzmann at T (K), total momentum removed; as ASE's
                              MaxwellBoltzmannDistribution + Stationary, not rescaled unless exact=true
  a:symbols() a:species() a:get_symbol(i) a:set_symbol(i, s) a:set_symbols(list_or_symbol)
  a:ids() a:set_ids(list)
  a:cell() -> 3x3 table (rows a, b, c in Å)   a:set_cell(cell, {scale_atoms=false})
  a:volume() (Å^3)   a:pbc() -> {b, b, b}   a:set_pbc(b or {b, b, b})
  a:copy() a:wrap() a:supercell(nx[, ny, nz]) a:append(symbol, {x, y, z})
  a:rattle{sigma=0.001, seed=1}  add Gaussian noise (Å) to positions
  a:temperature() (K)  a:kinetic_energy() (eV)  a:dof()  a:zero_momentum()
  a:center_of_mass() -> {x, y, z}   a:distance(i, j[, mic=true]) (Å)
  a.info.energy, a.info.energy = v, a:info(key[, v]), a:info() -> table, a:set_info(tbl)
  a:array(name[, v]), a:set_array(name, v), a:arrays()  per-atom properties
                              (copies; numbers as kiln.Array, strings/booleans as tables;
                              built-ins positions velocities forces masses symbols numbers ids)
  a:close()                   free now (also <close>)]])

-- Call a C method from a Lua method so that errors blame the user's line and
-- name the method (arguments counted as in a method call: self is not #1).
local function cmethod(name, cfn, ...)
  local ok, r = pcall(cfn, ...)
  if ok then return r end
  if type(r) == "string" then
    r = r:gsub("^[^\n]-init%.lua:%d+: ", "")
    r = r:gsub("^bad argument #(%d+) to '[^']*'", function(n)
      return "bad argument #" .. (tonumber(n) - 1) .. " to '" .. name .. "'"
    end)
  end
  error(r, 3)
end

-- a.info: a proxy table over a:info() that is also callable as a method
local info_proxies = setmetatable({}, {__mode = "k"})
local c_info, c_set_info = Atoms.info, Atoms.set_info
local function info_proxy(a)
  local p = info_proxies[a]
  if p then return p end
  p = setmetatable({}, {
    -- (no tail calls to cmethod: it blames the caller two frames up)
    __index = function(_, k) local v = cmethod("info", c_info, a, k); return v end,
    __newindex = function(_, k, v) cmethod("info", c_info, a, k, v) end,
    __call = function(_, self, ...) local v = cmethod("info", c_info, self, ...); return v end,
    __pairs = function() local t = cmethod("info", c_info, a); return next, t, nil end,
    __tostring = function()
      local t, keys = c_info(a), {}
      for k in pairs(t) do keys[#keys + 1] = k end
      table.sort(keys)
      for i, k in ipairs(keys) do
        local v = t[k]
        if type(v) == "table" then v = "{" .. table.concat(v, ", ") .. "}" end
        keys[i] = k .. "=" .. tostring(v)
      end
      return "kiln.Atoms info{" .. table.concat(keys, ", ") .. "}"
    end,
  })
  info_proxies[a] = p
  return p
end

atoms_mt.__index = function(a, k)
  if k == "info" then return info_proxy(a) end
  return Atoms[k]
end
atoms_mt.__newindex = function(a, k, v)
  if k == "info" then
    for key in pairs(c_info(a)) do c_info(a, key, nil) end
    if v ~= nil then c_set_info(a, v) end
    return
  end
  error(string.format("cannot set field '%s' of a kiln.Atoms (use a method, a.info or a:array)",
                      tostring(k)), 2)
end

local c_set_velocities = Atoms.set_velocities
local function check_keys(fname, t, allowed)
  for k in pairs(t) do
    if not allowed[k] then error(string.format("%s: unknown option '%s'", fname, tostring(k)), 3) end
  end
end

function Atoms:set_velocities(v)
  if type(v) ~= "table" or v.T == nil then
    cmethod("set_velocities", c_set_velocities, self, v)
    return self
  end
  check_keys("set_velocities", v, {T = true, seed = true, exact = true, zero_momentum = true})
  local T = v.T
  if type(T) ~= "number" or not (T >= 0 and T < math.huge) then
    error("set_velocities: T must be a temperature >= 0 K (got " .. tostring(T) .. ")", 2)
  end
  local n = #self
  local rng = crng.new(v.seed or 1, 1)
  local g = rng:normal(n, 3)
  local m = self:masses()
  local kB, mvv2e = cunits.kB, cunits.mvv2e
  for i = 1, n do
    local s = math.sqrt(kB * T / (m[i] * mvv2e))   -- Å/fs
    for d = 1, 3 do g:set(i, d, s * g:get(i, d)) end
  end
  c_set_velocities(self, g)
  if v.zero_momentum ~= false then self:zero_momentum() end
  if v.exact and n > 0 then
    local t = self:temperature()
    if t > 0 then
      local f = math.sqrt(T / t)
      local vel = self:velocities()
      for i = 1, n do for d = 1, 3 do vel:set(i, d, f * vel:get(i, d)) end end
    end
  end
  return self
end

function Atoms:rattle(o)
  if type(o) == "number" then o = {sigma = o} end
  o = o or {}
  if type(o) ~= "table" then argerror("rattle", 1, "table", o) end
  check_keys("rattle", o, {sigma = true, seed = true})
  local sigma = o.sigma or 0.001
  if type(sigma) ~= "number" or not (sigma >= 0 and sigma < math.huge) then
    error("rattle: sigma must be a finite length >= 0 Å (got " .. tostring(sigma) .. ")", 2)
  end
  local seed = o.seed or 1
  if math.type(seed) ~= "integer" and not (type(seed) == "number" and seed == math.floor(seed)) then
    error("rattle: seed must be an integer (got " .. tostring(seed) .. ")", 2)
  end
  local n = #self
  local g = crng.new(seed, 2):normal(n, 3)
  local x = self:positions()
  for i = 1, n do
    for d = 1, 3 do x:set(i, d, x:get(i, d) + sigma * g:get(i, d)) end
  end
  return self
end

function Atoms:center_of_mass()
  local x, m = self:positions(), self:masses()
  local c, mt = {0.0, 0.0, 0.0}, 0.0
  for i = 1, #self do
    local mi = m[i]
    mt = mt + mi
    for d = 1, 3 do c[d] = c[d] + mi * x:get(i, d) end
  end
  if mt > 0 then for d = 1, 3 do c[d] = c[d] / mt end end
  return c
end

-- inverse of a 3x3 matrix given as rows (nil if singular)
local function inv3(m)
  local a, b, c = m[1], m[2], m[3]
  local det = a[1] * (b[2] * c[3] - b[3] * c[2]) - a[2] * (b[1] * c[3] - b[3] * c[1]) +
              a[3] * (b[1] * c[2] - b[2] * c[1])
  if det == 0 then return nil end
  return {
    {(b[2] * c[3] - b[3] * c[2]) / det, (a[3] * c[2] - a[2] * c[3]) / det, (a[2] * b[3] - a[3] * b[2]) / det},
    {(b[3] * c[1] - b[1] * c[3]) / det, (a[1] * c[3] - a[3] * c[1]) / det, (a[3] * b[1] - a[1] * b[3]) / det},
    {(b[1] * c[2] - b[2] * c[1]) / det, (a[2] * c[1] - a[1] * c[2]) / det, (a[1] * b[2] - a[2] * b[1]) / det},
  }
end

-- distance between atoms i and j (Å); with mic (default) the shortest periodic
-- image along periodic directions (searching the 27 neighbouring images)
function Atoms:distance(i, j, mic)
  local x = self:positions()
  local d = {x:get(j, 1) - x:get(i, 1), x:get(j, 2) - x:get(i, 2), x:get(j, 3) - x:get(i, 3)}
  local cell, pbc = self:cell(), self:pbc()
  local inv = inv3(cell)
  if mic == false or not inv or not (pbc[1] or pbc[2] or pbc[3]) then
    return math.sqrt(d[1] ^ 2 + d[2] ^ 2 + d[3] ^ 2)
  end
  local f = {}
  for k = 1, 3 do
    f[k] = d[1] * inv[1][k] + d[2] * inv[2][k] + d[3] * inv[3][k]
    if pbc[k] then f[k] = f[k] - math.floor(f[k] + 0.5) end
  end
  local best
  for p = -1, 1 do for q = -1, 1 do for r = -1, 1 do
    local g = {f[1] + (pbc[1] and p or 0), f[2] + (pbc[2] and q or 0), f[3] + (pbc[3] and r or 0)}
    local r2 = 0
    for k = 1, 3 do
      local v = g[1] * cell[1][k] + g[2] * cell[2][k] + g[3] * cell[3][k]
      r2 = r2 + v * v
    end
    if not best or r2 < best then best = r2 end
  end end end
  return math.sqrt(best)
end

---------------------------------------------------------------- kiln.crystal
kiln.crystal = {}
for k, f in pairs(ccrystal) do
  kiln.crystal[k] = type(f) == "function" and public("kiln.crystal." .. k, f) or f
end
kiln.crystal.__help = [[
kiln.crystal: builders returning a new kiln.Atoms (conventional cells, lengths in Å).
  fcc{symbol=, a=} (4 atoms)   bcc{symbol=, a=} (2)   sc{symbol=, a=} (1)   diamond{symbol=, a=} (8)
  hcp{symbol=, a=, c=} (2; c defaults to the ideal sqrt(8/3) a)
  rocksalt{A=, B=, a=} (8)     perovskite{A=, B=, X=, a=} (5, ABX3)
  hbn{A=, B=, a=, c=20} (2; honeycomb monolayer, vacuum c along z)
  from_cell{cell=3x3, symbols={...}, scaled_positions={{..},...}}
Example: kiln.crystal.diamond{symbol="Si", a=5.431}:supercell(4, 4, 4)]]

---------------------------------------------------------------- styles
-- A style constructor is a callable record {name=, description=, citation=,
-- options=, kind=}: kiln.potential.sw{file=...}; help() prints the record.
local function style_record(rec, kind, make)
  local label = "kiln." .. kind .. "." .. rec.name
  rec.__help = string.format("%s{...}: %s%s%s", label, rec.description,
                             rec.citation ~= "" and "\nCitation: " .. rec.citation or "",
                             rec.options ~= "" and "\nOptions:\n  " ..
                               rec.options:gsub("\n$", ""):gsub("\n", "\n  ") or "")
  return setmetatable(rec, {
    __call = function(_, opts)
      if opts ~= nil and type(opts) ~= "table" then argerror(label, 1, "options table", opts) end
      return (construct(label, make, rec.name, opts))
    end,
    __tostring = function() return label .. " (" .. kind .. " style: " .. rec.description .. ")" end,
  })
end

local function style_module(kind, c, help)
  local m = {__help = help}
  local names = {}
  for _, rec in ipairs(c.styles()) do
    local r = style_record(rec, kind, c.new)
    m[rec.name] = r
    names[#names + 1] = rec.name
    -- "eam/alloy" is also kiln.potential.eam_alloy: a separate record of the same
    -- style, so each table has one name (help() names objects by where they are)
    local alias = rec.name:gsub("[/%-]", "_")
    if alias ~= rec.name then
      local copy = {}
      for k, v in pairs(rec) do copy[k] = v end
      m[alias] = style_record(copy, kind, c.new)
    end
  end
  function m.styles()
    local out = {}
    for i, rec in ipairs(c.styles()) do out[i] = rec end
    return out
  end
  return setmetatable(m, {__index = function(_, k)
    if type(k) == "string" and k:sub(1, 2) ~= "__" then
      error(string.format("unknown %s style '%s' (known: %s)", kind, k, table.concat(names, ", ")), 2)
    end
  end})
end

---------------------------------------------------------------- kiln.potential
local Potential = cpot.methods
kiln.Potential = class("kiln.Potential", Potential, cpot.new, [[
kiln.Potential: an interatomic potential (made by kiln.potential.<style>{...}).
  pot:compute(a) -> {energy= (eV), forces= kiln.Array n x 3 (eV/Å, a copy),
                     virial= 3x3 table (eV, W = sum r (x) f = -stress*V, as ASE),
                     stress= 3x3 table (eV/Å^3), energies= kiln.Array n x 1 (eV, per atom)}
                    also stores the forces in a:forces()
  pot:energy(a) -> eV
  pot.cutoff (Å)  pot.style  pot.description  pot.citation  pot.parts (sum only)
  pot:close()
  kiln.Potential(style, opts) is the same as kiln.potential[style](opts)]])

kiln.potential = style_module("potential", cpot, [[
kiln.potential: interatomic potentials by style name; kiln.potential.styles() lists
the records {name=, description=, citation=, options=}.
  kiln.potential.lj{epsilon=0.0104, sigma=3.40, cutoff=8.5}
  kiln.potential.lj{cutoff=8, pairs={{"Ar","Ar", epsilon=, sigma=}, {"Ar","Kr", ...}}}
  kiln.potential.sw{file="/usr/share/lammps/potentials/Si.sw"}
  kiln.potential["eam/alloy"]{file=...}  (also kiln.potential.eam_alloy)
  kiln.potential.sum{p1, p2, ...}        energies, forces and virials add
help(kiln.potential.<style>) shows a style's options.]])

do
  local sumrec
  for _, rec in ipairs(cpot.styles()) do if rec.name == "sum" then sumrec = rec end end
  sumrec = sumrec or {name = "sum", citation = "", options = "",
                      description = "sum of other potentials: kiln.potential.sum{p1, p2, ...}",
                      kind = "potential"}
  sumrec.options = "kiln.potential.sum{p1, p2, ...}: kiln.Potential objects (borrowed; the sum " ..
                   "keeps them alive and they cannot be closed before it)\nor " ..
                   (sumrec.options ~= "" and sumrec.options or "option tables {style=, ...}")
  rawset(kiln.potential, "sum", style_record(sumrec, "potential", function(_, list)
    if type(list) ~= "table" then
      error("bad argument #1 to 'kiln.potential.sum' (list of kiln.Potential expected, got " ..
            type(list) .. ")", 0)
    end
    -- {p1, p2} of kiln.Potential objects (borrowed, kept alive by the sum), or
    -- option tables {{style="lj", ...}, ...} that the sum builds and owns. Objects that
    -- carry a potential (kiln.train models, kiln.metad biases: a table with a
    -- kiln.Potential in field `potential`) count as that potential.
    local parts, carried = {}, false
    for i, v in ipairs(list) do
      if type(v) == "table" and type(rawget(v, "potential") or v.potential) == "userdata" then
        parts[i], carried = v.potential, true
      else
        parts[i] = v
      end
    end
    if carried then return cpot.sum(parts) end
    if type(list[1]) == "table" then return cpot.new("sum", list) end
    return cpot.sum(list)
  end))
end

---------------------------------------------------------------- kiln.md
local Integrator = cmd.methods
kiln.Integrator = class("kiln.Integrator", Integrator, cmd.new, [[
kiln.Integrator: an MD integrator (made by kiln.md.<style>{dt=, ...}). Units: dt fs, T K.
  md:run(a, pot, nsteps, {
      every = 1,            -- observer interval (steps)
      observe = {traj, function(step, atoms, thermo) ... end, {fn=f, every=100}},
      thermo = N,           -- print a thermo row every N steps (default ~10 rows; 0 = off)
      progress = true,      -- progress line with rate and ETA on stderr (terminal only)
      checkpoint = {file="run.chk", every=1000, resume=false},   -- or a file name
      skin = 1.0})          -- neighbor-list skin (Å)
    -> thermo table; Ctrl-C stops at a step boundary ("interrupted! (after step S of N)")
       and the state stays valid, so md:run can be called again
  md:thermo() -> {step=, time= (fs), T= (K), epot=, ekin=, etot= (eV), pressure= (GPa),
                  volume= (Å^3), conserved= (eV)}
  md:checkpoint(file[, atoms])   write everything needed to continue bit for bit
  md:restore(file, atoms)        read it back (replaces the atoms' contents)
  md.step md.time (fs) md.dt (fs) md.T (K) md.seed md.style   md:close()]])

kiln.md = style_module("md", cmd, [[
kiln.md: integrators by style name; kiln.md.styles() lists the records.
  kiln.md.verlet{dt=1.0}                                  NVE velocity Verlet
  kiln.md.langevin{dt=1.0, T=300, damping=100, seed=1}    Langevin (BAOAB)
  kiln.md.csvr{dt=1.0, T=300, tau=100, seed=1}            Bussi stochastic velocity rescaling
  kiln.md.nosehoover{dt=1.0, T=300, tau=100, chain=3}     Nosé–Hoover chain
  kiln.md.npt{dt=1.0, T=300, P=0, tau_p=1000}             NpT/NST (stochastic cell rescaling)
  kiln.md.pimd{beads=16, T=300, dt=0.5}                   path-integral MD (doc/pimd.md)
then md:run(atoms, pot, nsteps, {...}); see help(kiln.Integrator).]])

-- kiln.md.pimd: path-integral MD (kiln.c.pimd, doc/pimd.md)
do
  local cpimd = require "kiln.c.pimd"
  local PIMD = cpimd.methods
  kiln.PIMD = class("kiln.PIMD", PIMD, cpimd.new, [[
kiln.PIMD: path-integral MD, made by kiln.md.pimd{beads=P, T=, dt=, thermostat="pile_l",
tau=100, lambda=1, seed=1} (thermostat: pile_l, pile_g, trpmd, none). Units: fs, K, GPa.
  NpT / NST PIMD: add P= (GPa) or stress= (3x3 GPa, tension positive), tau_p= (fs),
  compressibility= (1/GPa, default 0.01), mode= (iso|aniso|full), as for kiln.md.npt:
  stochastic cell rescaling driven by the centroid-virial (quantum) pressure; the move
  scales the centroids and every bead's cell, internal bead displacements unscaled.
  pm:run(a, pot, nsteps, {every=, observe=, thermo=, progress=, checkpoint=, skin=}) -> thermo
    a holds the centroid after each step; observers see it, or each bead with
    {fn, beads=true} (fn(step, atoms, thermo, bead))
  pm:thermo() -> {step, time, T, epot (bead mean), ekin (= ekin_cv), ekin_cv, ekin_prim,
                  etot (= epot + ekin_cv), etot_prim, pressure (centroid virial, GPa), volume,
                  espring, ekin_beads, rg (Å), conserved, beads}
  pm:bead(j, a) -> the atoms a (a copy of the system) holding bead j (1-based)
  pm:checkpoint(file)   pm.beads pm.dt pm.T pm.tau pm.seed pm.step pm.time pm.thermostat
  (with a barostat also pm.barostat pm.mode pm.tau_p pm.compressibility pm.P)
  thermo also has lengths, angles (cell, Å and degrees); conserved includes P0 V and the
  barostat heat]])
  function PIMD:run(a, pot, nsteps, opts)
    return self:_run(a, pot, nsteps, opts, a:copy())
  end
  function PIMD:bead(j, a)
    if a == nil then error("pimd:bead(j, atoms): atoms (a copy of the system) expected", 2) end
    return self:_bead(j, a)
  end
  rawset(kiln.md, "pimd", setmetatable({name = "pimd", kind = "md", description =
    "path-integral MD: ring polymer, exact normal-mode propagation, PILE-L/PILE-G/TRPMD, " ..
    "optional NpT/NST (stochastic cell rescaling on the centroid)",
    citation = "M. Ceriotti, M. Parrinello, T. E. Markland, D. E. Manolopoulos, " ..
               "J. Chem. Phys. 133, 124104 (2010)", options = "see help(kiln.PIMD)",
    __help = "kiln.md.pimd{beads=, T=, dt=, thermostat=, tau=, lambda=, seed=[, P= or stress=, " ..
             "tau_p=, compressibility=, mode=]}: see help(kiln.PIMD)"},
    {__call = function(_, opts) return (construct("kiln.md.pimd", cpimd.new, opts)) end}))
end

---------------------------------------------------------------- kiln.io
local Trajectory = ctraj.methods
kiln.Trajectory = class("kiln.Trajectory", Trajectory, ctraj.open, [[
kiln.Trajectory: an H5MD trajectory file (kiln.io.trajectory(file, mode)).
  traj:append(a, {step=, time= (fs), velocities=true, forces=true})
  traj:read(i) -> atoms, step, time   (1-based; negative counts from the end)
  #traj, traj:nframes()   traj:frames() -> iterator i, atoms, step, time
  traj:close() (also <close>; closed by the garbage collector too)
As an md:run observer it appends positions, velocities and forces with step and time.]])

function Trajectory:frames()
  local i, n = 0, #self
  return function()
    i = i + 1
    if i <= n then
      local a, step, time = self:read(i)
      return i, a, step, time
    end
  end
end

kiln.io = {
  read = public("kiln.io.read", cio.read),
  write = public("kiln.io.write", cio.write),
  guess_format = public("kiln.io.guess_format", cio.guess_format),
  trajectory = public("kiln.io.trajectory", ctraj.open),
  __help = [[
kiln.io: structure files and trajectories (formats: extxyz, lammps-data, lammps-dump,
vasp, h5md; guessed from the file name or given as format=).
  kiln.io.read(file[, {format=, index=, symbols=...}])
      -> list of kiln.Atoms (extxyz, lammps-dump, h5md) or one kiln.Atoms (vasp,
         lammps-data, or when index= is given: 1-based, negative from the end);
         nil, msg if the file cannot be opened; malformed content raises "file:line: ..."
  kiln.io.write(file, atoms_or_list[, {format=, append=false, ...}])
  kiln.io.trajectory(file, mode)   mode "r", "w" or "a" -> kiln.Trajectory (or nil, msg)
  kiln.io.guess_format(file) -> format name or nil]],
}

---------------------------------------------------------------- kiln.units
kiln.units = {}
for k, v in pairs(cunits) do kiln.units[k] = v end
kiln.units.__help = [[
kiln.units: internal units are Å, eV, amu, fs, K, e.
  kiln.units.convert(v, from, to)    e.g. convert(1, "eV", "kJ/mol"), convert(p, "eV/A^3", "GPa")
      energy: eV meV kJ/mol kcal/mol Ha Ry J    length: A nm bohr m    time: fs ps s
      pressure: eV/A^3 GPa bar atm Pa           frequency: THz meV cm-1 rad/fs (E = ħω)
  kiln.units.kB (eV/K)  hbar (eV fs)  mvv2e (eV per amu Å^2/fs^2)
  eV_A3_to_GPa (GPa per eV/Å^3)  THz_to_radfs]]

-- Fields of the other userdata types are read-only: say so instead of Lua's
-- "attempt to index a kiln.Potential value".
for _, c in ipairs{{cpot, "kiln.Potential", "options are fixed when it is made"},
                   {cmd, "kiln.Integrator", "make a new integrator to change dt, T, ..."},
                   {ctraj, "kiln.Trajectory", "use traj:append"},
                   {crng, "kiln.Rng", "use its methods"}} do
  local mt = c[1].metatable
  if mt and mt.__newindex == nil then
    mt.__newindex = function(_, k, _)
      error(string.format("cannot set field '%s' of a %s (read-only; %s)", tostring(k), c[2], c[3]), 2)
    end
  end
end

-- Modules in their own files (stdlib/kiln/<name>.lua), loaded on first use so
-- `require "kiln"` stays cheap: kiln.plot, kiln.qpoints, kiln.correlator, ...
local LAZY = {help = true, plot = true, qpoints = true, phonons = true, correlator = true,
              ins = true, instruments = true, descriptor = true, ml = true, train = true,
              oracle = true, active = true, dipole = true, wave = true,
              multislice = true, tds = true, phase = true, fit = true, dielectric = true,
              lattice = true, cv = true, metad = true, replica = true, effham = true}
setmetatable(kiln, {__index = function(t, k)
  if LAZY[k] then
    local m = require("kiln." .. k)
    rawset(t, k, m)
    return m
  end
end})

return kiln
