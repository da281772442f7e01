-- kiln.descriptor: descriptors of atomic environments (C styles in src/ml/, listed in
-- src/ml/styles.def) and the design rows that turn them into linear or kernel models.
-- See doc/descriptors.md.
--
--   local d = kiln.descriptor.snap{twojmax=6, rcutfac=4.67637, rfac0=0.99363, rmin0=0,
--                                  elements={"Ta"}, radelem={0.5}, wj={1}}
--   local X, el = d:compute(atoms)             -- Array n x ncols, element index per atom
--   local rows = d:design(atoms)               -- {energy=, forces=, virial=, counts=}
--   local krows = d:kernel_design(atoms, {X=S, el=elS}, {zeta=4})
local cml = require "kiln.c.ml"
local argcheck = require "kiln.argcheck"
argcheck.internal()

local fail = argcheck.fail
local check_opts = argcheck.check_keys
local Descriptor = cml.methods

-- a C call; its "what: message" error is raised again at the user's line as "fname: message"
local function call(fname, f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then
    local msg = tostring(r[2]):gsub("^[^\n]-descriptor%.lua:%d+: ", "")
    msg = msg:gsub("^[%w_]+: ", "")
    msg = msg:gsub("^kiln%.descriptor%.[%w_]+: ", "")
    msg = msg:gsub("^bad argument #(%d+) to '[^']*' ", "argument #%1 ")
    fail(fname, msg)
  end
  return table.unpack(r, 2, r.n)
end

local function check_atoms(fname, a)
  local mt = getmetatable(a)
  if type(a) ~= "userdata" or type(mt) ~= "table" or mt.__name ~= "kiln.Atoms" then
    fail(fname, "a kiln.Atoms expected (got " .. (type(mt) == "table" and mt.__name or type(a)) .. ")")
  end
end

---------------------------------------------------------------- methods
local c_compute, c_design, c_kdesign = Descriptor.compute, Descriptor.design, Descriptor._kernel_design

function Descriptor:compute(atoms)
  check_atoms("compute", atoms)
  local X, el = call("compute", c_compute, self, atoms)
  return X, el
end

function Descriptor:design(atoms, o)
  check_atoms("design", atoms)
  o = check_opts("design", o, {"forces", "virial", "per_element"})
  local rows = call("design", c_design, self, atoms, o)
  return rows
end

function Descriptor:kernel_design(atoms, sparse, o)
  local fname = "kernel_design"
  check_atoms(fname, atoms)
  if type(sparse) ~= "table" or sparse.X == nil then
    fail(fname, "sparse must be a table {X=kiln.Array m x ncols, el={element per row}}")
  end
  o = check_opts(fname, o, {"zeta", "forces", "virial"})
  local zeta = o.zeta or 4
  if type(zeta) ~= "number" or not (zeta >= 1) then
    fail(fname, "zeta must be a number >= 1 (got " .. tostring(zeta) .. ")")
  end
  local rows = call(fname, c_kdesign, self, atoms, sparse.X, sparse.el, zeta, o)
  return rows
end

local mt = cml.metatable
if mt and mt.__newindex == nil then
  mt.__newindex = function(_, k)
    error(string.format("cannot set field '%s' of a kiln.Descriptor (read-only; options are " ..
                        "fixed when it is made)", tostring(k)), 2)
  end
end

---------------------------------------------------------------- style constructors
local M = {}

local function record(rec)
  local label = "kiln.descriptor." .. rec.name
  rec.__help = string.format("%s{...}: %s%s%s", label, rec.description,
                             rec.citation ~= "" and "\nCitation: " .. rec.citation or "",
                             rec.options ~= "" and "\nOptions:\n  " ..
                               rec.options:gsub("\n$", ""):gsub("\n", "\n  ") or "")
  return setmetatable(rec, {
    __call = function(_, opts)
      if opts ~= nil and type(opts) ~= "table" then
        fail(label, "options table expected (got " .. type(opts) .. ")")
      end
      local d = call(label, cml.new, rec.name, opts)
      return d
    end,
    __tostring = function() return label .. " (descriptor style: " .. rec.description .. ")" end,
  })
end

local names = {}
for _, rec in ipairs(cml.styles()) do
  M[rec.name] = record(rec)
  names[#names + 1] = rec.name
end

function M.styles()
  local out = {}
  for i, rec in ipairs(cml.styles()) do out[i] = rec end
  return out
end

M.Descriptor = Descriptor
Descriptor.__help = [[
kiln.Descriptor: per-atom descriptor rows (made by kiln.descriptor.<style>{...}).
  d:compute(atoms) -> X (kiln.Array n x ncols), el (list: 1-based element index per atom)
  d:design(atoms[, {forces=true, virial=true, per_element=false}]) -> rows of E = sum_i w.X_i:
      {energy = Array 1 x ncols (sum_i X_i),
       forces = Array 3n x ncols (row 3(j-1)+c: -sum_i dX_i/dr_jc, eV/Å per unit w),
       virial = Array 6 x ncols (Voigt xx yy zz yz xz xy; W = sum r (x) f, ASE sign),
       counts = {atoms per element}}
      per_element=true: E = sum_i w_{el(i)}.X_i, rows of #d.elements blocks of ncols columns
  d:kernel_design(atoms, {X=S, el=elS}[, {zeta=4, forces=true, virial=true}])
      the same rows for E = sum_i sum_s alpha_s (xhat_i.shat_s)^zeta (same element only),
      with m = #S columns
  d.ncols  d.cutoff (Å)  d.style  d.elements (list of symbols)   d:close()]]

M.__help = [[
kiln.descriptor: descriptors of atomic environments, by style (kiln.descriptor.styles()).
  kiln.descriptor.snap{twojmax=6, rcutfac=4.67637, rfac0=0.99363, rmin0=0, elements={"Ta"},
                       radelem={0.5}, wj={1}}   SNAP bispectrum (as LAMMPS compute sna/atom)
  kiln.descriptor.soap{...}  kiln.descriptor.soap_vector{...}
  -> kiln.Descriptor: d:compute(atoms), d:design(atoms), d:kernel_design(atoms, sparse)
help(kiln.descriptor.<style>) lists a style's options; see doc/descriptors.md.]]

return setmetatable(M, {__index = function(_, k)
  if type(k) == "string" and k:sub(1, 2) ~= "__" then
    error(string.format("unknown descriptor style '%s' (known: %s)", k, table.concat(names, ", ")), 2)
  end
end})
