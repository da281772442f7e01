-- kiln.phonons: harmonic phonons from any kiln potential by finite displacements, with
-- phonopy's conventions (see doc/phonons.md and include/kiln/phonons.h).
--
--   local ph = kiln.phonons{atoms=unitcell, potential=pot, supercell={4,4,4}, delta=0.01}
--   ph:frequencies(q) ph:dispersion(path) ph:eigenvectors(q) ph:dos{...} ph:msd{...}
--   ph:thermal{...} ph:sample{...} ph:force_constants() ph:write_force_constants(file)
--
-- Units: q in Cartesian rad/Å (2π included; frac=true for reduced coordinates of the unit
-- cell's reciprocal lattice), frequencies THz (imaginary modes negative), Å, amu, K, eV.

local cph = require "kiln.c.phonons"
local help = require "kiln.help"

local M = {THz = cph.THz}
local Phonons = cph.methods

local function fail(fname, msg) error(fname .. ": " .. msg, 3) end

local function check_keys(o, allowed, fname)
  if o == nil then return {} end
  if type(o) ~= "table" then fail(fname, "options table expected (got " .. type(o) .. ")") end
  local set = {}
  for _, k in ipairs(allowed) do set[k] = true end
  for k in pairs(o) do
    if type(k) ~= "string" or not set[k] then
      fail(fname, string.format("unknown option '%s' (options: %s)", tostring(k),
                                table.concat(allowed, ", ")))
    end
  end
  return o
end

-- n or {n1, n2, n3} -> n1, n2, n3
local function three(v, fname, what)
  if type(v) == "number" then v = {v, v, v} end
  if type(v) ~= "table" or #v ~= 3 then
    fail(fname, what .. " must be an integer or {n1, n2, n3} (got " .. tostring(v) .. ")")
  end
  for i = 1, 3 do
    if math.type(v[i]) ~= "integer" and not (type(v[i]) == "number" and v[i] == math.floor(v[i])) then
      fail(fname, what .. " must hold integers (got " .. tostring(v[i]) .. ")")
    end
  end
  return math.tointeger(v[1]), math.tointeger(v[2]), math.tointeger(v[3])
end

-- the C calls report "what: message"; re-raise at the user's line
local function call(fname, f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then
    local msg = tostring(r[2]):gsub("^[^\n]-phonons%.lua:%d+: ", "")
    error(msg, 3)
  end
  return table.unpack(r, 2, r.n)
end

---------------------------------------------------------------- constructor
local NEW_KEYS = {"atoms", "potential", "supercell", "delta", "stencil", "asr", "force_constants"}

local function new(o)
  local fname = "kiln.phonons"
  o = check_keys(o, NEW_KEYS, fname)
  if o.atoms == nil then fail(fname, "atoms= (the unit cell, a kiln.Atoms) is required") end
  local n1, n2, n3 = three(o.supercell or 1, fname, "supercell")
  if o.force_constants ~= nil then
    if type(o.force_constants) ~= "string" then
      fail(fname, "force_constants= must be a file name (phonopy FORCE_CONSTANTS format)")
    end
    return call(fname, cph.read_fc, o.atoms, o.force_constants, n1, n2, n3, o.asr and true or false)
  end
  if o.potential == nil then fail(fname, "potential= (a kiln.Potential) is required") end
  if o.delta ~= nil and (type(o.delta) ~= "number" or not (o.delta > 0)) then
    fail(fname, "delta must be a positive number of Å (got " .. tostring(o.delta) .. ")")
  end
  return call(fname, cph.new, o.atoms, o.potential, n1, n2, n3, o.delta or 0.01, o.stencil or 2,
              o.asr and true or false)
end

M.new = new
setmetatable(M, {__call = function(_, o) return new(o) end})

---------------------------------------------------------------- q-points
-- q as: a path table {q=Array n x 3, ...}, an Array n x 3, a list of {qx,qy,qz}, or one
-- {qx,qy,qz}. Returns Array/table of rows (Cartesian) and whether one q was given.
local function qrows(ph, q, frac, fname)
  if type(q) == "table" and q.q ~= nil then q = q.q end
  local single = false
  if type(q) == "table" and type(q[1]) == "number" then
    q, single = {q}, true
  end
  if q == nil then fail(fname, "q-points expected (a path table, kiln.Array n x 3 or {{qx,qy,qz}, ...})") end
  if frac then q = call(fname, ph._qcart, ph, q) end
  return q, single
end

function Phonons:frequencies(q, o)
  o = check_keys(o, {"frac"}, "frequencies")
  local rows = qrows(self, q, o.frac, "frequencies")
  return call("frequencies", self._frequencies, self, rows)
end

function Phonons:eigenvectors(q, o)
  o = check_keys(o, {"frac"}, "eigenvectors")
  local rows, single = qrows(self, q, o.frac, "eigenvectors")
  local function one(v)
    local f, re, im = call("eigenvectors", self._modes, self, v)
    return {freq = f, re = re, im = im}
  end
  if single then return one(rows[1]) end
  local out = {}
  local n = type(rows) == "table" and #rows or rows:shape()
  for i = 1, n do
    local r = rows[i]
    out[i] = one({r[1], r[2], r[3]})
  end
  return out
end

function Phonons:dynamical_matrix(q, o)
  o = check_keys(o, {"frac"}, "dynamical_matrix")
  local rows = qrows(self, q, o.frac, "dynamical_matrix")
  local r = rows[1]
  return call("dynamical_matrix", self._dynmat, self, {r[1], r[2], r[3]})
end

function Phonons:dispersion(path, o)
  o = check_keys(o, {"frac"}, "dispersion")
  local rows = qrows(self, path, o.frac, "dispersion")
  local freq = call("dispersion", self._frequencies, self, rows)
  local x = type(path) == "table" and path.x or nil
  if x == nil then   -- cumulative |Δq| (rad/Å)
    local q = type(rows) == "table" and rows or rows:totable()
    x = {0}
    for i = 2, #q do
      local d = 0
      for c = 1, 3 do d = d + (q[i][c] - q[i - 1][c]) ^ 2 end
      x[i] = x[i - 1] + math.sqrt(d)
    end
  end
  return {x = x, freq = freq, q = rows, labels = type(path) == "table" and path.labels or nil}
end

---------------------------------------------------------------- mesh quantities
local function mesh_of(ph, o, fname)
  if o.mesh == nil then return table.unpack(ph.size) end
  return three(o.mesh, fname, "mesh")
end

-- species of the basis atoms, in order of first appearance
local function species(ph)
  local u = ph:unitcell()
  local syms = u:symbols()
  u:close()
  local order, seen = {}, {}
  for _, s in ipairs(syms) do
    if not seen[s] then seen[s] = true; order[#order + 1] = s end
  end
  return syms, order
end

function Phonons:dos(o)
  local fname = "dos"
  o = check_keys(o, {"mesh", "sigma", "nbins", "fmin", "fmax"}, fname)
  local m1, m2, m3 = mesh_of(self, o, fname)
  local sigma = o.sigma or 0.1
  local f, d, p = call(fname, self._dos, self, m1, m2, m3, sigma, o.fmin or 0, o.fmax or 0,
                       o.nbins or 201)
  local syms, order = species(self)
  local pdos = {}
  local nb = #syms
  local nbins = #f
  for _, s in ipairs(order) do
    local arr = require("kiln").Array(nbins)
    for k = 1, nb do
      if syms[k] == s then
        for b = 1, nbins do arr[b] = arr[b] + p:get(k, b) end
      end
    end
    pdos[s] = arr
  end
  return {freq = f, dos = d, pdos = pdos, pdos_atoms = p}
end

function Phonons:msd(o)
  local fname = "msd"
  o = check_keys(o, {"T", "quantum", "mesh"}, fname)
  if type(o.T) ~= "number" then fail(fname, "T= (K) is required") end
  local m1, m2, m3 = mesh_of(self, o, fname)
  local quantum = o.quantum
  if quantum == nil then quantum = true end
  local u = call(fname, self._msd, self, m1, m2, m3, o.T, quantum)
  local syms, order = species(self)
  local out, count, atoms = {}, {}, {}
  for k = 1, #syms do
    local tr = u:get(k, 1) + u:get(k, 5) + u:get(k, 9)
    atoms[k] = tr
    out[syms[k]] = (out[syms[k]] or 0) + tr
    count[syms[k]] = (count[syms[k]] or 0) + 1
  end
  for _, s in ipairs(order) do out[s] = out[s] / count[s] end
  out.atoms = atoms
  out.tensor = u
  return out
end

function Phonons:thermal(o)
  local fname = "thermal"
  o = check_keys(o, {"T", "mesh"}, fname)
  local m1, m2, m3 = mesh_of(self, o, fname)
  if type(o.T) == "number" then
    local F, S, Cv, E = call(fname, self._thermal, self, m1, m2, m3, o.T)
    return {T = o.T, F = F, S = S, Cv = Cv, E = E}
  end
  if type(o.T) ~= "table" then fail(fname, "T= (K, a number or a list) is required") end
  local r = {T = o.T, F = {}, S = {}, Cv = {}, E = {}}
  for i, T in ipairs(o.T) do
    r.F[i], r.S[i], r.Cv[i], r.E[i] = call(fname, self._thermal, self, m1, m2, m3, T)
  end
  return r
end

---------------------------------------------------------------- sampling
local seed_counter = 0
function Phonons:sample(o)
  local fname = "sample"
  o = check_keys(o, {"supercell", "T", "quantum", "seed", "stream", "velocities"}, fname)
  if type(o.T) ~= "number" then fail(fname, "T= (K) is required") end
  local m1, m2, m3
  if o.supercell == nil then m1, m2, m3 = table.unpack(self.size)
  else m1, m2, m3 = three(o.supercell, fname, "supercell") end
  local quantum = o.quantum
  if quantum == nil then quantum = true end
  local velocities = o.velocities
  if velocities == nil then velocities = true end
  local seed = o.seed
  if seed == nil then seed_counter = seed_counter + 1; seed = seed_counter end
  if math.type(seed) ~= "integer" then fail(fname, "seed must be an integer") end
  return call(fname, self._sample, self, m1, m2, m3, o.T, quantum, seed, o.stream or 0, velocities)
end

---------------------------------------------------------------- force constants
function Phonons:force_constants() return self:_fc() end

function Phonons:write_force_constants(file, o)
  o = check_keys(o, {"compact"}, "write_force_constants")
  if type(file) ~= "string" then fail("write_force_constants", "file name expected") end
  call("write_force_constants", self._write_fc, self, file, o.compact and true or false)
  return file
end

---------------------------------------------------------------- plot
function Phonons:plot_dispersion(o)
  local fname = "plot_dispersion"
  o = check_keys(o, {"file", "path", "frac", "title"}, fname)
  if o.path == nil then fail(fname, "path= (q-points) is required") end
  local d = self:dispersion(o.path, {frac = o.frac})
  local x = d.x
  if type(x) ~= "table" then x = x:totable() end
  local series = {}
  local nq, nm = d.freq:shape()
  for j = 1, nm do
    local y = {}
    for i = 1, nq do y[i] = d.freq:get(i, j) end
    series[j] = {x = x, y = y, label = j == 1 and "phonons" or nil, color = "#1f77b4"}
  end
  return require("kiln.plot").lines{file = o.file, title = o.title or "phonon dispersion",
                                    xlabel = type(o.path) == "table" and o.path.x and "q path" or "q path (rad/Å)", ylabel = "frequency (THz)",
                                    key = false, series = series}
end

---------------------------------------------------------------- help
M.__help = [[
kiln.phonons: harmonic phonons from a potential by finite displacements (phonopy's method
and conventions). Units: q Cartesian rad/Å (2π included; frac=true: reduced coordinates of
the unit cell's reciprocal lattice), frequency THz (imaginary modes as negative numbers),
Å, amu, K, eV.
  local ph = kiln.phonons{atoms=unitcell, potential=pot, supercell={4,4,4}, delta=0.01,
                          stencil=2 (or 4), asr=false}
  kiln.phonons{atoms=unitcell, supercell={4,4,4}, force_constants="FORCE_CONSTANTS"}
  ph:frequencies(q[, {frac=}])        -> kiln.Array nq x 3nb (THz)
  ph:dispersion(path)                 -> {x=, freq=Array, q=, labels=}
  ph:eigenvectors(q)                  -> {freq=, re=, im=} (row j = mode j)
  ph:dynamical_matrix(q)              -> re, im (eV/(Å² amu))
  ph:dos{mesh=, sigma=0.1, nbins=201, fmin=, fmax=} -> {freq=, dos=, pdos={Si=...}, pdos_atoms=}
  ph:msd{T=, quantum=true, mesh=}     -> {<species>= <|u|²> (Å²), atoms=, tensor=}
  ph:thermal{T=, mesh=}               -> {F=, E= (eV), S=, Cv= (eV/K)} per unit cell
  ph:sample{supercell=, T=, quantum=true, seed=, velocities=true} -> kiln.Atoms
  ph:force_constants() ph:write_force_constants(file[, {compact=}]) ph:plot_dispersion{file=, path=}
  ph:unitcell() ph:supercell() ph.nbasis ph.nmodes ph.natoms ph.size]]

Phonons.__help = M.__help

local DOCS = {
  frequencies = [[
ph:frequencies(q[, {frac=false}]) -> kiln.Array nq x 3nb: frequencies (THz, ascending; an
imaginary mode is negative). q: Cartesian rad/Å, as a kiln.qpoints path table (field q), a
kiln.Array n x 3, a list {{qx,qy,qz}, ...} or one {qx,qy,qz}; frac=true: reduced coordinates.]],
  dispersion = [[
ph:dispersion(path[, {frac=}]) -> {x=, freq= Array nq x 3nb (THz), q=, labels=}: x and labels
are taken from the path table when present, else x is the cumulative |Δq| (rad/Å).]],
  eigenvectors = [[
ph:eigenvectors(q) -> {freq= Array 3nb x 1 (THz), re=, im= Array 3nb x 3nb}: row j is the unit
eigenvector of mode j, component 3(κ-1)+α; phonopy's phase convention (exp(i q·r) with full
atomic positions). A list of q gives a list of such tables.]],
  dynamical_matrix = [[
ph:dynamical_matrix(q) -> re, im: the 3nb x 3nb dynamical matrix D(q) (eV/(Å² amu)).]],
  dos = [[
ph:dos{mesh={n1,n2,n3} (default the supercell), sigma=0.1 (THz), nbins=201, fmin=, fmax=}
-> {freq=, dos= (states/THz per unit cell, integral 3nb), pdos={<species>=Array}, pdos_atoms=}
Gaussian smearing over a Γ-centred mesh.]],
  msd = [[
ph:msd{T= (K), quantum=true, mesh= (default the supercell)} -> {<species>= <|u|²> (Å²),
atoms={per basis atom}, tensor= Array nb x 9 (<u_α u_β>, Å²)}: the harmonic mean-square
displacement on the mesh, the three acoustic modes at Γ left out (as ph:sample does).]],
  thermal = [[
ph:thermal{T= (K, number or list), mesh=} -> {F=, E= (eV), S=, Cv= (eV/K)} per unit cell,
zero-point energy included, modes below 1e-3 THz left out.]],
  sample = [[
ph:sample{supercell={n1,n2,n3} (default the force-constant supercell), T= (K), quantum=true,
seed=, stream=0, velocities=true} -> kiln.Atoms: the unit cell repeated, every normal mode of
the commensurate q-points given a Gaussian amplitude (<Q²> = kT/ω² classical, or
ħ/(2ω) coth(ħω/2kT)), positions displaced and velocities set; acoustic Γ modes left out.]],
  force_constants = [[
ph:force_constants() -> kiln.Array (nb N) x 9: Φ_αβ(κ; j) (eV/Å²), row (κ-1) N + j, column
3(α-1)+β, j in kiln's supercell order (ph:supercell()).]],
  write_force_constants = [[
ph:write_force_constants(file[, {compact=false}]): phonopy's FORCE_CONSTANTS format in phonopy's
supercell order (full N x N, or compact nb x N).]],
  plot_dispersion = [[
ph:plot_dispersion{file=, path=, title=} -> figure path (or nil, msg): the dispersion through
kiln.plot.lines.]],
}
for k, text in pairs(DOCS) do help.register(Phonons[k], text) end
help.register(new, M.__help)

return M
