-- kiln.wave: fast-electron waves (kiln.Wave: plane waves, probes with aberrations) and
-- zone-axis orientation of crystals for multislice. See doc/multislice-lua.md.
--
--   local w = kiln.wave.new{extent={lx, ly}, gpts={nx, ny} | sampling=, energy=200e3,
--                           precision="float32"|"float64"}
--   w:plane(); w:probe{x=, y=, semiangle= (mrad), aberrations={defocus=, Cs=, C12=, ...}}
--   w:intensity(), w:amplitude(), w:phase() -> kiln.Array ny x nx; w:norm()
--   w:diffraction{crop=} -> pattern table {I=, dk=, ...} (direct beam at the centre)
--   kiln.wave.orient(atoms, {u, v, w}) -> atoms (beam along z, orthogonal cell), info
--   kiln.wave.zone001/zone110/zone111(atoms); kiln.wave.wavelength(E), kiln.wave.sigma(E)
local cw = require "kiln.c.wave"
local carray = require "kiln.c.array"
local argcheck = require "kiln.argcheck"
argcheck.internal()
local fail, check_keys = argcheck.fail, argcheck.check_keys

local M = {}
local Wave = cw.Wave.methods

local function typename(x)
  local mt = getmetatable(x)
  return type(mt) == "table" and rawget(mt, "__name") or type(x)
end

-- a C call whose "what: message" error is raised again at the user's line as "fname: message"
local function call(fname, f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then
    local msg = tostring(r[2]):gsub("^[^\n]-%.lua:%d+: ", ""):gsub("^[%w_.:]+: ", "", 1)
    msg = msg:gsub("^bad argument #(%d+) to '[^']*' ", "argument #%1 ")
    fail(fname, msg)
  end
  return table.unpack(r, 2, r.n)
end

M.wavelength = function(E) return cw.wavelength(E) end
M.sigma = function(E) return cw.sigma(E) end

M.new = function(o)
  if type(o) ~= "table" then fail("kiln.wave.new", "options {extent=, gpts= | sampling=, energy=} expected") end
  return call("kiln.wave.new", cw.new_wave, o)
end

-- w:diffraction{crop=false} -> pattern table
local cdiff = Wave.diffraction
function Wave.diffraction(w, o)
  o = o or {}
  check_keys("wave:diffraction", o, {"crop"})
  local I = call("wave:diffraction", cdiff, w, o.crop)
  return {I = I, dk = {1 / w.lx, 1 / w.ly}, extent = {w.lx, w.ly}, energy = w.energy,
          wavelength = w.wavelength, crop = o.crop and true or false}
end

---------------------------------------------------------------- orientation

local function gcd(a, b)
  a, b = math.abs(a), math.abs(b)
  while b ~= 0 do a, b = b, a % b end
  return a
end

local function dot(a, b) return a[1] * b[1] + a[2] * b[2] + a[3] * b[3] end
local function norm(a) return math.sqrt(dot(a, a)) end
local function comb(n, A)   -- n1 a1 + n2 a2 + n3 a3
  return {n[1] * A[1][1] + n[2] * A[2][1] + n[3] * A[3][1],
          n[1] * A[1][2] + n[2] * A[2][2] + n[3] * A[3][2],
          n[1] * A[1][3] + n[2] * A[2][3] + n[3] * A[3][3]}
end
local function det3(m)
  return m[1][1] * (m[2][2] * m[3][3] - m[2][3] * m[3][2])
       - m[1][2] * (m[2][1] * m[3][3] - m[2][3] * m[3][1])
       + m[1][3] * (m[2][1] * m[3][2] - m[2][2] * m[3][1])
end
local function inv3(m)
  local d = det3(m)
  local r = {}
  for i = 1, 3 do
    r[i] = {}
    for j = 1, 3 do
      local a, b = (j % 3) + 1, ((j + 1) % 3) + 1
      local c, e = (i % 3) + 1, ((i + 1) % 3) + 1
      r[i][j] = (m[a][c] * m[b][e] - m[a][e] * m[b][c]) / d
    end
  end
  return r
end

local function lattice_name(L)
  local eq = function(x, y) return math.abs(x - y) <= 1e-6 * math.max(x, y) end
  if eq(L[1], L[2]) and eq(L[2], L[3]) then return "cubic" end
  if eq(L[1], L[2]) or eq(L[2], L[3]) or eq(L[1], L[3]) then return "tetragonal" end
  return "orthorhombic"
end

-- orient(atoms, {u, v, w}[, {max_index=6}]) -> atoms with the beam along z, info
M.orient = function(atoms, uvw, o)
  local fname = "kiln.wave.orient"
  if typename(atoms) ~= "kiln.Atoms" then
    fail(fname, "argument #1: kiln.Atoms expected (got " .. typename(atoms) .. ")")
  end
  if argcheck.is_array(uvw) then uvw = uvw:totable() end
  if type(uvw) ~= "table" or #uvw ~= 3 then fail(fname, "zone axis {u, v, w} (integers) expected") end
  for i = 1, 3 do
    if math.type(uvw[i]) ~= "integer" and not (type(uvw[i]) == "number" and uvw[i] == math.floor(uvw[i])) then
      fail(fname, "zone axis indices must be integers (got " .. tostring(uvw[i]) .. ")")
    end
  end
  o = o or {}
  check_keys(fname, o, {"max_index"})
  local N = o.max_index or 6
  local g = gcd(gcd(uvw[1], uvw[2]), uvw[3])
  if g == 0 then fail(fname, "zone axis [0 0 0] has no direction") end
  local u = {math.tointeger(uvw[1] // g), math.tointeger(uvw[2] // g), math.tointeger(uvw[3] // g)}
  local A = atoms:cell()
  local L = {norm(A[1]), norm(A[2]), norm(A[3])}
  for i = 1, 3 do
    if L[i] == 0 then fail(fname, "the atoms have no cell (lattice vector " .. i .. " is zero)") end
  end
  for i = 1, 3 do
    for j = i + 1, 3 do
      local c = dot(A[i], A[j]) / (L[i] * L[j])
      if math.abs(c) > 1e-6 then
        fail(fname, string.format("the cell is not orthogonal (angle between a%d and a%d is %.4f°): " ..
             "orient needs a cubic, tetragonal or orthorhombic conventional cell", i, j,
             math.deg(math.acos(c))))
      end
    end
  end
  local lname = lattice_name(L)
  local d = comb(u, A)
  local dn = norm(d)
  -- lattice vectors perpendicular to d, shortest first
  local cand = {}
  for i = -N, N do
    for j = -N, N do
      for k = -N, N do
        if not (i == 0 and j == 0 and k == 0) and gcd(gcd(i, j), k) == 1 then
          local v = comb({i, j, k}, A)
          local vn = norm(v)
          if math.abs(dot(v, d)) <= 1e-6 * vn * dn then
            cand[#cand + 1] = {n = {i, j, k}, v = v, len = vn}
          end
        end
      end
    end
  end
  local function key(c) return c.n[1] * 10000 + c.n[2] * 100 + c.n[3] end
  table.sort(cand, function(a, b)
    if math.abs(a.len - b.len) > 1e-9 * a.len then return a.len < b.len end
    return key(a) > key(b)
  end)
  local p, q = cand[1], nil
  if p then
    for c = 2, #cand do
      local v = cand[c]
      if math.abs(dot(v.v, p.v)) <= 1e-6 * v.len * p.len then q = v; break end
    end
  end
  if not p or not q then
    fail(fname, string.format("no orthogonal supercell with [%d %d %d] along z in this %s lattice " ..
         "(a = %.6g, b = %.6g, c = %.6g Å; lattice vectors with indices up to %d tried)",
         u[1], u[2], u[3], lname, L[1], L[2], L[3], N))
  end
  local M3 = {p.n, q.n, u}
  local m = det3(M3)
  if m < 0 then
    q = {n = {-q.n[1], -q.n[2], -q.n[3]}, v = {-q.v[1], -q.v[2], -q.v[3]}, len = q.len}
    M3 = {p.n, q.n, u}
    m = -m
  end
  m = math.floor(m + 0.5)
  local lx, ly, lz = p.len, q.len, dn
  -- fractional coordinates in the new cell: s_new = s_old * inv(M3)
  local Minv = inv3(M3)
  local sp = atoms:scaled_positions():totable()
  local syms = atoms:symbols()
  local lo, hi = {0, 0, 0}, {0, 0, 0}
  for c = 0, 7 do  -- corners of the new cell in old fractional coordinates
    local f = {c & 1, (c >> 1) & 1, (c >> 2) & 1}
    for ax = 1, 3 do
      local x = f[1] * M3[1][ax] + f[2] * M3[2][ax] + f[3] * M3[3][ax]
      if x < lo[ax] then lo[ax] = x end
      if x > hi[ax] then hi[ax] = x end
    end
  end
  local pos, sym = {}, {}
  local eps = 1e-9
  for t1 = lo[1] - 1, hi[1] do
    for t2 = lo[2] - 1, hi[2] do
      for t3 = lo[3] - 1, hi[3] do
        for a = 1, #sp do
          local s = {sp[a][1] + t1, sp[a][2] + t2, sp[a][3] + t3}
          local f = {}
          local inside = true
          for ax = 1, 3 do
            local x = s[1] * Minv[1][ax] + s[2] * Minv[2][ax] + s[3] * Minv[3][ax]
            if x > -eps and x < eps then x = 0 end
            if x >= 1 - eps and x < 1 + eps then x = 1 end
            if x < 0 or x >= 1 then inside = false; break end
            f[ax] = x
          end
          if inside then
            pos[#pos + 1] = {f[1] * lx, f[2] * ly, f[3] * lz}
            sym[#sym + 1] = syms[a]
          end
        end
      end
    end
  end
  if #pos ~= #sp * m then
    fail(fname, string.format("internal: %d atoms found for %d cells of %d atoms", #pos, m, #sp))
  end
  local out = (require "kiln").Atoms{cell = {{lx, 0, 0}, {0, ly, 0}, {0, 0, lz}}, symbols = sym,
                                     positions = pos, pbc = true}
  -- rotation (rows: new x, y, z in the old frame) and the old reciprocal vectors in the new
  -- frame, projected on the pattern plane (1/Å, no 2π): recip for kiln.tds
  local R = {{p.v[1] / lx, p.v[2] / lx, p.v[3] / lx}, {q.v[1] / ly, q.v[2] / ly, q.v[3] / ly},
             {d[1] / lz, d[2] / lz, d[3] / lz}}
  local Ainv = inv3(A)  -- columns are the reciprocal vectors b_i (b_i . a_j = delta_ij)
  local recip = {}
  for i = 1, 3 do
    local b = {Ainv[1][i], Ainv[2][i], Ainv[3][i]}
    recip[i] = {dot(R[1], b), dot(R[2], b), dot(R[3], b)}
  end
  return out, {lattice = lname, zone = u, indices = {p.n, q.n, u}, cells = m,
               rotation = R, recip = recip, extent = {lx, ly}, repeat_length = lz}
end

M.zone001 = function(atoms) return M.orient(atoms, {0, 0, 1}) end
M.zone110 = function(atoms) return M.orient(atoms, {1, 1, 0}) end
M.zone111 = function(atoms) return M.orient(atoms, {1, 1, 1}) end

M.Wave = cw.Wave
return M
