-- kiln.cv: collective variables (see doc/cv.md). A CV object has
--   cv:value(atoms) -> s                 (a number)
--   cv:gradient(atoms) -> s, g           (g = ds/dr, kiln.Array n x 3, units of s per Å)
--   cv.name, cv.kind
-- C kernels with analytic gradients: distance, angle, cell, steinhardt, perovskite;
-- kiln.cv.lua(fn) wraps any Lua function of the atoms (central finite-difference
-- gradient). kiln.cv.external(fn) is the "external" potential (energy from Lua).
-- Units: Å, radians, Å^3, e·Å.
local ccv = require "kiln.c.cv"
local carray = require "kiln.c.array"
local argcheck = require "kiln.argcheck"
argcheck.internal()

local M = {}
local fail, check_keys, is_array = argcheck.fail, argcheck.check_keys, argcheck.is_array

M.__help = [[
kiln.cv: collective variables with gradients (doc/cv.md).
  kiln.cv.distance(i, j)                 |r_j - r_i| (Å, minimum image)
  kiln.cv.angle(i, j, k)                 angle i-j-k at j (radians)
  kiln.cv.cell("a"|"b"|"c"|"alpha"|"beta"|"gamma"|"volume")   no atomic gradient
  kiln.cv.steinhardt{l=6, rcut=, rin=}   global Q_l, smooth cutoff; cv:peratom(atoms)
  kiln.cv.perovskite{atoms=, A=, B=, X=, kind="offcenter"|"dipole", component=3, charges=}
                                         cell-mean local polarization; cv:cells(atoms)
  kiln.cv.lua(function(atoms) return s end, {h=1e-4, name=})   FD gradient
  kiln.cv.external(function(atoms, want_forces) return E, F, W end) -> kiln.Potential
Every CV: cv:value(atoms) -> s;  cv:gradient(atoms) -> s, kiln.Array n x 3 (ds/dr)]]

local CV = {}
CV.__index = CV
CV.__name = "kiln.CV"
function CV:value(atoms) return (self:gradient(atoms, true)) end
function CV.__tostring(c) return "kiln.CV(" .. c.name .. ")" end

local function make(t) return setmetatable(t, CV) end
M.is_cv = function(x) return getmetatable(x) == CV end

local function index(fname, i, what)
  if math.type(i) ~= "integer" or i < 1 then
    fail(fname, string.format("%s must be a positive integer atom index (got %s)", what, tostring(i)))
  end
  return i
end

function M.distance(i, j)
  index("kiln.cv.distance", i, "i")
  index("kiln.cv.distance", j, "j")
  return make{kind = "distance", name = string.format("distance(%d,%d)", i, j),
              gradient = function(_, atoms) return ccv.distance(atoms, i, j) end}
end

function M.angle(i, j, k)
  for n, v in ipairs{i, j, k} do index("kiln.cv.angle", v, ({"i", "j", "k"})[n]) end
  return make{kind = "angle", name = string.format("angle(%d,%d,%d)", i, j, k),
              gradient = function(_, atoms) return ccv.angle(atoms, i, j, k) end}
end

local CELL = {a = 0, b = 1, c = 2, alpha = 3, beta = 4, gamma = 5, volume = 6}
-- Cell CVs have no atomic gradient (zeros); the third result of gradient is ds/dcell
-- (3x3, rows = lattice vectors). A bias on them acts only through the virial.
function M.cell(which)
  local w = CELL[which]
  if not w then
    fail("kiln.cv.cell", "quantity must be one of a, b, c, alpha, beta, gamma, volume (got " ..
                         tostring(which) .. ")")
  end
  return make{kind = "cell", name = "cell." .. which, which = w,
              gradient = function(_, atoms)
                local s, gh = ccv.cell(atoms, w)
                return s, carray.new(#atoms, 3), gh
              end}
end

function M.steinhardt(o)
  o = check_keys("kiln.cv.steinhardt", o, {"l", "rcut", "rin"})
  local l = o.l or 6
  if type(o.rcut) ~= "number" then fail("kiln.cv.steinhardt", "rcut (Å) is required") end
  local rin = o.rin or 0.8 * o.rcut
  local c = make{kind = "steinhardt", name = "Q" .. l, l = l, rcut = o.rcut, rin = rin}
  function c:gradient(atoms, nograd)
    local Q, _, g = ccv.steinhardt(atoms, l, rin, o.rcut, false, not nograd)
    return Q, g
  end
  function c:value(atoms) return (ccv.steinhardt(atoms, l, rin, o.rcut, false, false)) end
  function c:peratom(atoms)
    local _, q = ccv.steinhardt(atoms, l, rin, o.rcut, true, false)
    return q
  end
  return c
end

-- charges: {Ba=2, Ti=4, O=-2} by symbol, a list / n x 1 Array per atom, or n x 9 Born tensors
local function charge_array(fname, atoms, ch)
  if ch == nil then return nil end
  if is_array(ch) then return ch end
  if type(ch) ~= "table" then fail(fname, "charges: table by symbol or kiln.Array expected") end
  if #ch > 0 then return carray.new(ch) end
  local q = {}
  for i = 1, #atoms do
    local s = atoms:get_symbol(i)
    if type(ch[s]) ~= "number" then fail(fname, "charges: no charge for element " .. s) end
    q[i] = ch[s]
  end
  return carray.new(q)
end

function M.perovskite(o)
  local fname = "kiln.cv.perovskite"
  o = check_keys(fname, o, {"atoms", "A", "B", "X", "kind", "component", "charges"})
  if not o.atoms then fail(fname, "atoms= (a reference structure, e.g. the cubic cell) is required") end
  local kind = o.kind or "offcenter"
  if kind ~= "offcenter" and kind ~= "dipole" then
    fail(fname, "kind must be 'offcenter' or 'dipole' (got " .. tostring(kind) .. ")")
  end
  local comp = o.component or 3
  if comp ~= 1 and comp ~= 2 and comp ~= 3 then fail(fname, "component must be 1, 2 or 3") end
  local map = ccv.perovskite(o.atoms, o.A or "Ba", o.B or "Ti", o.X or "O")
  local q = charge_array(fname, o.atoms, o.charges)
  if kind == "dipole" and not q then fail(fname, "kind='dipole' needs charges=") end
  local c = make{kind = "perovskite", name = kind .. "." .. ({"x", "y", "z"})[comp], map = map,
                 ncell = #map}
  -- per-cell vectors (ncell x 3): off-centering (Å) or cell dipoles (e·Å)
  function c:cells(atoms)
    if kind == "offcenter" then return map:offcenter(atoms) end
    return map:dipole(atoms, q)
  end
  function c:value(atoms)
    local d = self:cells(atoms)
    return d:sum(comp) / #map
  end
  function c:gradient(atoms)
    local g = (kind == "offcenter") and map:gradient(atoms, kind, comp) or map:gradient(atoms, kind, comp, q)
    return self:value(atoms), g
  end
  return c
end

-- Any Lua function of the atoms; the gradient by central differences (step h Å).
function M.lua(fn, o)
  if type(fn) ~= "function" then fail("kiln.cv.lua", "function(atoms) -> number expected") end
  o = check_keys("kiln.cv.lua", o, {"h", "name"})
  local h = o.h or 1e-4
  local c = make{kind = "lua", name = o.name or "lua", h = h}
  function c:value(atoms)
    local s = fn(atoms)
    if type(s) ~= "number" then fail("kiln.cv.lua", "the function returned " .. type(s) .. ", not a number") end
    return s
  end
  function c:gradient(atoms)
    local s = self:value(atoms)
    local n = #atoms
    local g = carray.new(n, 3)
    local x = atoms:positions()
    for i = 1, n do
      for k = 1, 3 do
        local x0 = x:get(i, k)
        x:set(i, k, x0 + h)
        local sp = fn(atoms)
        x:set(i, k, x0 - h)
        local sm = fn(atoms)
        x:set(i, k, x0)
        g:set(i, k, (sp - sm) / (2 * h))
      end
    end
    return s, g
  end
  return c
end

-- kiln.cv.external(fn): a kiln.Potential whose energy comes from fn(atoms, want_forces)
-- -> energy (eV), forces (n x 3, eV/Å; required when want_forces), virial (3x3, optional;
-- default sum_i x_i (x) f_i). The atoms passed to fn are valid only during the call.
function M.external(fn)
  if type(fn) ~= "function" then fail("kiln.cv.external", "function(atoms, want_forces) expected") end
  return ccv.external(fn)
end

-- kiln.cv.bias(cv, V) -> kiln.Potential for a bias energy V(s) -> energy, dV/ds on one CV
-- (forces -dV/ds ds/dr); used by kiln.metad and for umbrellas.
function M.bias(cvs, V)
  if M.is_cv(cvs) then cvs = {cvs} end
  for k, c in ipairs(cvs) do
    if not M.is_cv(c) then fail("kiln.cv.bias", "CV " .. k .. " is not a kiln.cv object") end
  end
  local n = #cvs
  return ccv.external(function(atoms, wantf)
    local s, gs = {}, {}
    for k = 1, n do
      if wantf then s[k], gs[k] = cvs[k]:gradient(atoms)
      else s[k] = cvs[k]:value(atoms) end
    end
    local e, dV = V(n == 1 and s[1] or s)
    if not wantf then return e end
    if type(dV) == "number" then dV = {dV} end
    local c = {}
    for k = 1, n do c[k] = -dV[k] end
    return e, ccv.combine(#atoms, gs, c)
  end)
end

M.c = ccv
return M
