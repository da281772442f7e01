-- kiln.correlator: streaming time-correlation functions (see doc/correlators.md).
--
--   local sq  = kiln.correlator.sqw{q=path, window=500, dt=5.0, incoherent=true}
--   local dos = kiln.correlator.vacf{window=1000}
--   md:run(atoms, pot, 10000, {observe={sq, dos}, every=5})   -- in situ
--   kiln.correlator.feed("run.dump", {sq, dos}, {timestep=1.0}) -- or from a file
--   local res = sq:result()    -- {omega=kiln.Array, ..., units={...}, dt=, nframes=, style=}
--   sq:write("sqw.h5")         -- HDF5, units as attributes
--
-- Every style of the C registry is a constructor kiln.correlator.<style>{...};
-- help(kiln.correlator.<style>) lists its options. Units: fs, Å, rad/Å (q with
-- the 2π), rad/fs (ω); results carry their units (res.units).

local ccorr = require "kiln.c.corr"
local cunits = require "kiln.c.units"

local M = {}
local Correlator = ccorr.methods
M.Correlator = Correlator

-- Errors raised in C or below a wrapper are re-raised at the user's line: strip
-- this file's position and rename "bad argument #n to '?'".
local function clean(r, label, shift)
  if type(r) ~= "string" then return r end
  r = r:gsub("^[^\n]-correlator%.lua:%d+: ", "")
  r = r:gsub("^bad argument #(%d+) to '[^']*'", function(n)
    return "bad argument #" .. (tonumber(n) - shift) .. " to '" .. label .. "'"
  end)
  return r
end

-- (level 3: the caller of the public wrapper; wrappers must not tail-call this)
local function call(label, shift, f, ...)
  local ok, r = pcall(f, ...)
  if ok then return r end
  error(clean(r, label, shift), 3)
end

local function argerror(fname, i, expected, got)
  error(string.format("bad argument #%d to '%s' (%s expected, got %s)", i, fname, expected,
                      got == nil and "no value" or type(got)), 3)
end

local function typename(x)
  local mt = getmetatable(x)
  return type(mt) == "table" and rawget(mt, "__name") or type(x)
end

---------------------------------------------------------------- options

-- does the style document option `name` (a line "name=...")?
local function documents(rec, name)
  for line in (rec.options .. "\n"):gmatch("([^\n]*)\n") do
    if line:match("^%s*" .. name:gsub("%p", "%%%0") .. "%s*=") then return true end
  end
  return false
end

-- a kiln.qpoints result (path, shells): a table with a field q (and hkl, labels...),
-- not a list of rows
local function is_qtable(v)
  return type(v) == "table" and rawget(v, "q") ~= nil and rawlen(v) == 0
end

-- The user's options, adapted for the C constructor (the user's table is not changed):
--   q = / path = a kiln.qpoints table -> its q (and hkl= when the style takes hkl)
--   unitcell = kiln.Atoms -> {cell=, positions=}
local function adapt(rec, opts)
  if opts == nil then return nil end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  for _, key in ipairs{"q", "path"} do
    local v = o[key]
    if is_qtable(v) then
      o[key] = v.q
      if v.hkl ~= nil and o.hkl == nil and documents(rec, "hkl") then o.hkl = v.hkl end
    end
  end
  if typename(o.unitcell) == "kiln.Atoms" then
    local a = o.unitcell
    o.unitcell = {cell = a:cell(), positions = a:positions_copy()}
  end
  return o
end

---------------------------------------------------------------- styles

local names = {}

local function record(rec)
  local label = "kiln.correlator." .. rec.name
  rec.__help = string.format("%s{...}: %s%s%s\n(a kiln.Correlator: see help(kiln.correlator))",
                             label, rec.description,
                             rec.citation ~= "" and "\nCitation: " .. rec.citation or "",
                             rec.options ~= "" and "\nOptions (besides dt= (fs), the frame spacing; " ..
                               "default: from the frame times):\n  " ..
                               rec.options:gsub("\n$", ""):gsub("\n", "\n  ") or "")
  return setmetatable(rec, {
    __call = function(_, opts)
      if opts ~= nil and type(opts) ~= "table" then argerror(label, 1, "options table", opts) end
      local c = call(label, 0, ccorr.new, rec.name, adapt(rec, opts))
      return c
    end,
    __tostring = function() return label .. " (correlator style: " .. rec.description .. ")" end,
  })
end

local records = {}
for _, rec in ipairs(ccorr.styles()) do
  M[rec.name] = record(rec)
  records[rec.name] = rec
  names[#names + 1] = rec.name
end

--- styles() -> list of the style records {name=, description=, citation=, options=, kind=}
function M.styles()
  local out = {}
  for i, rec in ipairs(ccorr.styles()) do out[i] = rec end
  return out
end

--- new(style, opts): the same as kiln.correlator[style](opts)
function M.new(style, opts)
  if type(style) ~= "string" then argerror("kiln.correlator.new", 1, "style name", style) end
  if opts ~= nil and type(opts) ~= "table" then argerror("kiln.correlator.new", 2, "table", opts) end
  local rec = records[style]
  local c = call("kiln.correlator.new", 0, ccorr.new, style, rec and adapt(rec, opts) or opts)
  return c
end

---------------------------------------------------------------- results

local function shape(a)
  local r, c = a:shape()
  return c == 1 and tostring(r) or (r .. "x" .. c)
end

local function result_tostring(res)
  local lines = {string.format("correlator result (%s, %s frames, dt=%s fs)", tostring(res.style),
                               tostring(res.nframes), tostring(res.dt))}
  local function walk(t, u, prefix)
    local keys = {}
    for k in pairs(t) do
      if type(k) == "string" and k ~= "units" and k ~= "descriptions" then keys[#keys + 1] = k end
    end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = t[k]
      if typename(v) == "kiln.Array" then
        local unit = type(u) == "table" and u[k] or ""
        lines[#lines + 1] = string.format("  %-28s %-10s %s", prefix .. k, shape(v), unit)
      elseif type(v) == "table" then
        walk(v, type(u) == "table" and u[k] or nil, prefix .. k .. ".")
      end
    end
  end
  walk(res, res.units, "")
  return table.concat(lines, "\n")
end
local result_mt = {__tostring = result_tostring, __name = "kiln.correlator result"}

---------------------------------------------------------------- methods

local c_add, c_feed, c_result, c_write = Correlator.add, Correlator.feed, Correlator.result,
                                         Correlator.write

function Correlator:add(atoms, time)
  local r = call("add", 1, c_add, self, atoms, time)
  return r
end

function Correlator:feed(file, opts)
  local r = call("feed", 1, c_feed, self, file, opts)
  return r
end

function Correlator:result()
  local r = call("result", 1, c_result, self)
  return setmetatable(r, result_mt)
end

function Correlator:write(file, opts)
  local r = call("write", 1, c_write, self, file, opts)
  return r
end

Correlator.__help = [[
kiln.Correlator: a streaming correlator (made by kiln.correlator.<style>{...}).
It keeps no trajectory: memory is set by its options (q-points x window, ...).
  c:add(atoms[, time])          feed one frame (time in fs; frames evenly spaced, in order)
  c:feed(file[, opts])          feed every frame of a trajectory file (see kiln.correlator.feed)
  c:result() -> table           everything so far (also mid-run): arrays as kiln.Array,
                                item "a/b" as res.a.b, res.units / res.descriptions (same
                                nesting), attributes res.style, res.dt (fs), res.nframes, ...
  c:write(file.h5[, {group="/", append=false}])   the result to HDF5 (units as attributes)
  c.style  c.nframes  c.dt (fs, nil until known)  c.description  c.citation  c:close()
In md:run: observe = {c, {c2, every=10}} feeds a frame every `every` steps.]]

---------------------------------------------------------------- module functions

--- feed(file, {c1, c2, ...} or c[, opts]): one pass over a trajectory file
function M.feed(file, list, opts)
  if type(file) ~= "string" then argerror("kiln.correlator.feed", 1, "file name", file) end
  call("kiln.correlator.feed", 0, ccorr.feed, file, list, opts)
end

--- write(file, res[, {group=, append=}]): a result table (from c:result() or made in Lua)
function M.write(file, res, opts)
  if type(file) ~= "string" then argerror("kiln.correlator.write", 1, "file name", file) end
  if type(res) ~= "table" then argerror("kiln.correlator.write", 2, "result table", res) end
  call("kiln.correlator.write", 0, ccorr.write, file, res, opts)
end

-- x * factor for a number, a kiln.Array (a new Array) or a list of numbers (a new list)
local function scale(x, f, fname)
  if type(x) == "number" then return x * f end
  if typename(x) == "kiln.Array" then
    local out = x:copy()
    local r, c = out:shape()
    for i = 1, r do for j = 1, c do out:set(i, j, f * out:get(i, j)) end end
    return out
  end
  if type(x) == "table" then
    local out = {}
    for i, v in ipairs(x) do out[i] = v * f end
    return out
  end
  argerror(fname, 1, "number, kiln.Array or list", x)
end

--- convert(x, from, to): x (number, kiln.Array or list) in unit `from` to unit `to`
function M.convert(x, from, to)
  local ok, f = pcall(cunits.convert, 1.0, from, to)
  if not ok then error(clean(f, "kiln.correlator.convert", 0), 2) end
  local r = scale(x, f, "kiln.correlator.convert")
  return r
end

--- to_meV(omega): angular frequency (rad/fs) as energy ħω (meV)
function M.to_meV(x) local r = M.convert(x, "rad/fs", "meV"); return r end
--- to_THz(omega): angular frequency (rad/fs) as frequency ω/2π (THz)
function M.to_THz(x) local r = M.convert(x, "rad/fs", "THz"); return r end

M.__help = [[
kiln.correlator: streaming time-correlation functions, fed by md:run (observe = {c})
or from trajectory files, with memory independent of the run length.
Styles: ]] .. table.concat(names, " ") .. [[ (help(kiln.correlator.<style>) lists the options)
  kiln.correlator.<style>{dt=, ...}  -> kiln.Correlator   (dt: frame spacing in fs)
  kiln.correlator.new(style, opts)   the same by name; kiln.correlator.styles() the records
  c:add(atoms[, time]), c:feed(file[, opts]), c:result(), c:write(file.h5[, opts])
  kiln.correlator.feed(file, {c1, c2, ...}[, {format=, start=1, stop=, every=1,
                       timestep= (fs per MD step), symbols={...}, progress=true}])
      one pass over the file for all of them (start/stop: 1-based frame numbers, inclusive)
  kiln.correlator.write(file.h5, res[, {group="/", append=false}])  a result table to HDF5
  kiln.correlator.to_meV(omega), to_THz(omega), convert(x, from, to)   unit helpers
Options given as a kiln.qpoints table (q = path) use its q (and hkl); unitcell = a kiln.Atoms
is its cell and positions. Units: fs, Å, rad/Å (q includes 2π), rad/fs (ω).]]

return setmetatable(M, {__index = function(_, k)
  if type(k) == "string" and k:sub(1, 2) ~= "__" then
    error(string.format("unknown correlator style '%s' (known: %s)", k, table.concat(names, ", ")), 2)
  end
end})
