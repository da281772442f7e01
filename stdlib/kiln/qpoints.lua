-- kiln.qpoints: q-points for correlators and phonons (doc/qpoints.md).
--
-- q vectors are Cartesian in rad/Å and include the 2π (q·r is a phase). Only q
-- commensurate with the simulated (super)cell are returned: q·a_i/2π integer for
-- each cell row a_i; (h, k, l) are those integers. The Bravais lattice and its
-- orientation are detected from the positions (pure translations of the
-- structure), or given with lattice= and a= (c= for hex/tet, b= and c= for orc).
--
--   qpoints.lattice(atoms[, opts])             -> {lattice=, a=, b=, c=, primitive=, ...}
--   qpoints.points(atoms, {"X", "L"}[, opts])  -> kiln.Array 2 x 3 (rad/Å)
--   qpoints.path(atoms, {"G","X","K","G","L"}, {n=, zones=})   -> path table
--   qpoints.shells(atoms, {qmax=, nshells= | width=, per_shell=, seed=}) -> table
--   qpoints.commensurate(atoms, q[, {tol=}])   -> ok, hkl
--   qpoints.spherical_average(q, values, {qnorms=, width=} | {nbins=})

local cq = require "kiln.c.qpoints"
local carray = require "kiln.c.array"
local help = require "kiln.help"

local function kiln_array(rows, cols) return carray.new(rows, cols) end

local M = {}

-- Misuse is raised as {usage = msg} inside and re-raised by the public function
-- with error(msg, 2), so messages name the caller's line.
local function fail(fname, msg) error({usage = "kiln.qpoints." .. fname .. ": " .. msg}) end

local function public(fname, f, text)
  local g = function(...)
    local res = table.pack(pcall(f, ...))
    if res[1] then return table.unpack(res, 2, res.n) end
    local e = res[2]
    if type(e) == "table" and e.usage then error(e.usage, 2) end
    if type(e) == "string" then
      e = e:gsub("^[^\n]-%.lua:%d+: ", ""):gsub("^[^\n]-%[C%]: ", "")
      e = e:gsub("^bad argument (#%d+) to '[^']*'", "bad argument %1 to 'kiln.qpoints." .. fname .. "'")
      if not e:find("^kiln%.qpoints") and not e:find("^bad argument") then
        e = "kiln.qpoints." .. fname .. ": " .. e
      end
    end
    error(e, 2)
  end
  M[fname] = g
  help.register(g, text)
  return g
end

local function checkopts(fname, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(fname, "options must be a table (got " .. type(opts) .. ")") end
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for n in pairs(allowed) do names[#names + 1] = n end
      table.sort(names)
      fail(fname, string.format("unknown option '%s' (known: %s)", tostring(k), table.concat(names, ", ")))
    end
  end
  return opts
end

local function checkatoms(fname, atoms)
  local ok, n = pcall(function() return atoms:natoms() end)
  if not ok or type(n) ~= "number" then
    fail(fname, "argument #1 must be a kiln.Atoms (got " .. type(atoms) .. ")")
  end
  return atoms
end

local function fmtvec(v) return string.format("(%.6g, %.6g, %.6g)", v[1], v[2], v[3]) end

local function warn(fname, msg) io.stderr:write("kiln.qpoints." .. fname .. ": warning: " .. msg .. "\n") end

-- The lattice from options (lattice=, a=, b=, c=) or detected from the positions.
local function getlattice(fname, atoms, o)
  if o.lattice ~= nil then
    if type(o.lattice) ~= "string" then fail(fname, "lattice= must be a name such as \"fcc\"") end
    if type(o.a) ~= "number" then
      fail(fname, "lattice=\"" .. o.lattice .. "\" needs the conventional lattice constant a= (Å)")
    end
    local ok, lat = pcall(cq.make, o.lattice, o.a, o.b or 0, o.c or 0)
    if not ok then fail(fname, (tostring(lat):gsub("^qpoints: ", ""))) end
    return lat
  end
  if o.a ~= nil or o.b ~= nil or o.c ~= nil then
    fail(fname, "a=, b= and c= go with lattice= (e.g. lattice=\"fcc\", a=5.431)")
  end
  checkatoms(fname, atoms)
  local ok, lat = pcall(cq.detect, atoms, o.tol)
  if not ok then fail(fname, (tostring(lat):gsub("^lattice detection: ", "lattice detection failed: "))) end
  return lat
end

local function unclassified(fname, lat, natoms)
  local p = lat.primitive
  local function len(v) return math.sqrt(v[1] ^ 2 + v[2] ^ 2 + v[3] ^ 2) end
  fail(fname, string.format(
    "cannot classify the lattice of this structure (found %d primitive cell%s of %d atom%s, " ..
    "primitive vectors %.4g %.4g %.4g Å): pass lattice= and a= (e.g. lattice=\"fcc\", a=5.431) " ..
    "or give q as Cartesian vectors {qx, qy, qz}", lat.ncells, lat.ncells == 1 and "" or "s",
    lat.nbasis, lat.nbasis == 1 and "" or "s", len(p[1]), len(p[2]), len(p[3])))
end

local function check_symmetry(fname, lat, natoms)
  if lat.nbasis > 64 and lat.ncells == 1 then
    warn(fname, string.format("no translational symmetry found among %d atoms (thermal noise " ..
         "or defects?): labels refer to the whole cell as a %s lattice; use tol= or lattice=/a=",
         natoms, lat.lattice))
  end
end

local GAMMA = {G = true, Gamma = true, ["Γ"] = true}

-- A point of a label list: a label name, a Cartesian {qx, qy, qz} (rad/Å) or
-- {frac = {f1, f2, f3}} in the conventional reciprocal basis; -> q, name
local function labelpoint(fname, lat, item)
  if type(item) == "string" then
    if lat.lattice == "triclinic" and not GAMMA[item] then unclassified(fname, lat) end
    local q, msg = cq.point(lat, item)
    if not q then fail(fname, msg) end
    return q, GAMMA[item] and "G" or item
  elseif type(item) == "table" then
    local f = item.frac
    if f ~= nil then
      if type(f) ~= "table" or #f ~= 3 then fail(fname, "frac= must be {f1, f2, f3}") end
      local B, q = lat.reciprocal, {0, 0, 0}
      for d = 1, 3 do q[d] = f[1] * B[1][d] + f[2] * B[2][d] + f[3] * B[3][d] end
      return q, item.name or string.format("[%g,%g,%g]", f[1], f[2], f[3])
    end
    if type(item[1]) == "number" and type(item[2]) == "number" and type(item[3]) == "number" then
      return {item[1], item[2], item[3]}, item.name or fmtvec(item)
    end
  end
  fail(fname, "a q-point must be a label such as \"X\", a Cartesian {qx, qy, qz} in rad/Å or " ..
       "{frac = {f1, f2, f3}} (got " .. type(item) .. ")")
end

local function dist(a, b)
  return math.sqrt((a[1] - b[1]) ^ 2 + (a[2] - b[2]) ^ 2 + (a[3] - b[3]) ^ 2)
end

local function integral_rows(t, tol)
  for d = 1, 3 do if math.abs(t[d] - math.floor(t[d] + 0.5)) > tol then return false end end
  return true
end

---------------------------------------------------------------- result tables
local Set = {}
Set.__index = Set
Set.__len = function(s) return s.n end
Set.__tostring = function(s)
  if s.kind == "path" then
    local names = {}
    for _, l in ipairs(s.labels) do
      if l.zone == 1 then names[#names + 1] = l.name end
    end
    return string.format("kiln.qpoints path: %d q-points on %s (%s, a = %.6g Å), %d zone%s", s.n,
                         table.concat(names, "-"), s.lattice, s.a, s.nzones, s.nzones == 1 and "" or "s")
  end
  return string.format("kiln.qpoints shells: %d q-points in %d shells of width %.4g rad/Å up to %.4g rad/Å",
                       s.n, s.nshells, s.width, s.qmax)
end

local function subsample(m, n)
  if not n or m <= n then
    local idx = {}
    for i = 1, m do idx[i] = i end
    return idx
  end
  local idx = {}
  for j = 1, n do idx[j] = math.floor((j - 1) * (m - 1) / (n - 1) + 0.5) + 1 end
  return idx
end

---------------------------------------------------------------- lattice, points
public("lattice", function(atoms, opts)
  local o = checkopts("lattice", opts, {lattice = true, a = true, b = true, c = true, tol = true})
  return getlattice("lattice", atoms, o)
end, [[
lattice(atoms[, {tol=0.25, lattice=, a=, b=, c=}]) -> table: the Bravais lattice.
Fields: lattice ("fcc", "bcc", "sc", "hex", "tet", "bct", "orc" or "triclinic"), a, b, c
(conventional constants, Å), primitive and conventional (3x3 rows, Å, in the structure's
orientation), reciprocal (3x3 rows 2π conv^-T, rad/Å), ncells (primitive cells in the
structure), nbasis (atoms per primitive cell), labels (list of names).
Detected from the positions (pure translations within tol Å); lattice=/a= skips detection.]])

public("points", function(atoms, labels, opts)
  local o = checkopts("points", opts, {lattice = true, a = true, b = true, c = true, tol = true})
  local lat = getlattice("points", atoms, o)
  if labels == nil then
    local out = {}
    for _, name in ipairs(lat.labels) do out[name] = (labelpoint("points", lat, name)) end
    return out
  end
  if type(labels) == "string" then return (labelpoint("points", lat, labels)) end
  if type(labels) ~= "table" then fail("points", "labels must be a list such as {\"X\", \"L\"}") end
  local arr = kiln_array(#labels, 3)
  for i, item in ipairs(labels) do
    local q = labelpoint("points", lat, item)
    arr[i] = q
  end
  return arr
end, [[
points(atoms, {"X", "L"}[, opts]) -> kiln.Array n x 3: Cartesian q of the labels (rad/Å).
points(atoms, "X") -> {qx, qy, qz};  points(atoms) -> {G = {...}, X = {...}, ...} (all labels).
"G", "Gamma" and "Γ" are Γ. Options as qpoints.lattice.]])

---------------------------------------------------------------- commensurate
public("commensurate", function(atoms, q, opts)
  local o = checkopts("commensurate", opts, {tol = true})
  checkatoms("commensurate", atoms)
  local tol = o.tol or 1e-6
  local cell = atoms:cell()
  if type(q) == "table" and type(q[1]) == "number" then
    if #q ~= 3 then fail("commensurate", "a q-vector must have 3 components (got " .. #q .. ")") end
    local ok, hkl = cq.commensurate(cell, {q}, tol)
    local function int(v) return math.tointeger(v) or v end
    return ok[1], {int(hkl:get(1, 1)), int(hkl:get(1, 2)), int(hkl:get(1, 3))}
  end
  if type(q) == "table" and getmetatable(q) == Set then q = q.q end
  return cq.commensurate(cell, q, tol)
end, [[
commensurate(atoms, q[, {tol=1e-6}]) -> ok, hkl: is q (rad/Å) commensurate with the cell of atoms,
i.e. are h_i = q·a_i/2π integers (within tol)? For one vector {qx, qy, qz}: a boolean and
{h, k, l} (rounded). For a kiln.Array n x 3 (or a table of rows, or a path table): a list of
booleans and a kiln.Array n x 3 of rounded (h, k, l).]])

---------------------------------------------------------------- path
public("path", function(atoms, labels, opts)
  local fname = "path"
  local o = checkopts(fname, opts, {n = true, zones = true, lattice = true, a = true, b = true,
                                    c = true, tol = true, qtol = true})
  checkatoms(fname, atoms)
  if type(labels) ~= "table" or #labels == 0 then
    fail(fname, "argument #2 must be a list of labels such as {\"G\", \"X\", \"K\", \"G\", \"L\"}")
  end
  local nmax = o.n
  if nmax ~= nil and (math.type(nmax) ~= "integer" and not (type(nmax) == "number" and nmax == math.floor(nmax))
                      or nmax < 2) then
    fail(fname, "n= (maximum points per segment) must be an integer >= 2 (got " .. tostring(nmax) .. ")")
  end
  local qtol = o.qtol or 1e-6
  local lat = getlattice(fname, atoms, o)
  check_symmetry(fname, lat, atoms:natoms())
  local cell = atoms:cell()

  -- split at "|" into groups of points
  local groups, cur = {}, {}
  for i, item in ipairs(labels) do
    if item == "|" then
      if #cur > 0 then groups[#groups + 1] = cur end
      cur = {}
    else
      local q, name = labelpoint(fname, lat, item)
      cur[#cur + 1] = {q = q, name = name, index = i}
    end
  end
  if #cur > 0 then groups[#groups + 1] = cur end
  if #groups == 0 then fail(fname, "no q-points in the label list") end

  -- warn once per label point that is not commensurate
  local warned = {}
  for _, g in ipairs(groups) do
    for _, p in ipairs(g) do
      local ok, hkl = cq.commensurate(cell, {p.q}, qtol)
      p.exact = ok[1]
      p.hkl = {hkl:get(1, 1), hkl:get(1, 2), hkl:get(1, 3)}
      if not ok[1] and not warned[p.name] then
        warned[p.name] = true
        local h = {}
        for d = 1, 3 do
          local v = 0
          for e = 1, 3 do v = v + p.q[e] * cell[d][e] end
          h[d] = v / (2 * math.pi)
        end
        warn(fname, string.format("%s = %s rad/Å is not commensurate with the supercell " ..
             "(h, k, l = %.4g, %.4g, %.4g); the path keeps the commensurate points next to it",
             p.name, fmtvec(p.q), h[1], h[2], h[3]))
      end
    end
  end

  -- the path in the first zone: hkl rows, x and labels
  local H, X, L = {}, {}, {}
  local x0 = 0.0
  local function addpoint(h, x)
    local last = H[#H]
    if last and last[1] == h[1] and last[2] == h[2] and last[3] == h[3] then return end
    H[#H + 1] = h
    X[#X + 1] = x
  end
  local function addlabel(p, x)
    L[#L + 1] = {name = p.name, x = x, exact = p.exact, hkl = p.hkl, ipt = #H}
  end
  for _, g in ipairs(groups) do
    if #g == 1 then
      local p = g[1]
      if p.exact then addpoint(p.hkl, x0) end
      addlabel(p, x0)
    end
    for i = 1, #g - 1 do
      local pa, pb = g[i], g[i + 1]
      local seg = cq.segment(cell, pa.q, pb.q, qtol)
      local m = #seg
      local qs = cq.hkl_to_q(cell, seg)
      if i == 1 then addlabel(pa, x0) end
      for _, j in ipairs(subsample(m, nmax)) do
        local q = {qs:get(j, 1), qs:get(j, 2), qs:get(j, 3)}
        addpoint({seg:get(j, 1), seg:get(j, 2), seg:get(j, 3)}, x0 + dist(q, pa.q))
      end
      x0 = x0 + dist(pa.q, pb.q)
      addlabel(pb, x0)
    end
  end
  if #H == 0 then
    fail(fname, "no q-point on this path is commensurate with the supercell (cell lengths " ..
         string.format("%.4g %.4g %.4g Å", math.sqrt(cell[1][1]^2 + cell[1][2]^2 + cell[1][3]^2),
                       math.sqrt(cell[2][1]^2 + cell[2][2]^2 + cell[2][3]^2),
                       math.sqrt(cell[3][1]^2 + cell[3][2]^2 + cell[3][3]^2)) .. "): use a larger supercell")
  end
  -- label index: the point at the label (exact) or the nearest in x
  for _, l in ipairs(L) do
    local best, bd = nil, math.huge
    for i, h in ipairs(H) do
      if l.exact and h[1] == l.hkl[1] and h[2] == l.hkl[2] and h[3] == l.hkl[3] and
         math.abs(X[i] - l.x) < 1e-9 * (1 + l.x) then
        best = i
        break
      end
      local d = math.abs(X[i] - l.x)
      if d < bd then best, bd = i, d end
    end
    l.index = best
  end

  -- zones: q + G, G in units of the conventional reciprocal vectors
  local zones = o.zones or {{0, 0, 0}}
  if type(zones) ~= "table" or #zones == 0 then
    fail(fname, "zones= must be a list of reciprocal lattice vectors such as {{0,0,0}, {1,1,1}}")
  end
  local B, P = lat.reciprocal, lat.primitive
  local Gh = {}
  for z, g in ipairs(zones) do
    if type(g) ~= "table" or type(g[1]) ~= "number" or type(g[2]) ~= "number" or type(g[3]) ~= "number" then
      fail(fname, "zone " .. z .. " must be {g1, g2, g3} (units of the conventional 2π/a)")
    end
    local G = {0, 0, 0}
    for d = 1, 3 do G[d] = g[1] * B[1][d] + g[2] * B[2][d] + g[3] * B[3][d] end
    local ok, hkl = cq.commensurate(cell, {G}, qtol)
    if not ok[1] then
      fail(fname, string.format("zone %d {%g, %g, %g} gives G = %s rad/Å, not commensurate with the supercell",
                                z, g[1], g[2], g[3], fmtvec(G)))
    end
    local gp = {}
    for i = 1, 3 do gp[i] = (G[1] * P[i][1] + G[2] * P[i][2] + G[3] * P[i][3]) / (2 * math.pi) end
    if not integral_rows(gp, 1e-6) then
      warn(fname, string.format("zone {%g, %g, %g} is not a reciprocal lattice vector of the %s " ..
           "lattice: q + G is not equivalent to q", g[1], g[2], g[3], lat.lattice))
    end
    Gh[z] = {hkl:get(1, 1), hkl:get(1, 2), hkl:get(1, 3)}
  end
  local np, nz = #H, #zones
  local hkl = kiln_array(np * nz, 3)
  local x, zone = kiln_array(np * nz, 1), kiln_array(np * nz, 1)
  local outlabels = {}
  for z = 1, nz do
    local g = Gh[z]
    for i = 1, np do
      local r = (z - 1) * np + i
      hkl:set(r, 1, H[i][1] + g[1]); hkl:set(r, 2, H[i][2] + g[2]); hkl:set(r, 3, H[i][3] + g[3])
      x:set(r, 1, X[i])
      zone:set(r, 1, z)
    end
    for _, l in ipairs(L) do
      outlabels[#outlabels + 1] = {index = (z - 1) * np + l.index, name = l.name, x = l.x,
                                   zone = z, exact = l.exact}
    end
  end
  return setmetatable({
    kind = "path", q = cq.hkl_to_q(cell, hkl), hkl = hkl, x = x, zone = zone, labels = outlabels,
    lattice = lat.lattice, a = lat.a, b = lat.b, c = lat.c, n = np * nz, nzones = nz,
    zones = zones, cell = cell,
  }, Set)
end, [[
path(atoms, {"G", "X", "K", "G", "L"}[, opts]) -> path table: the q commensurate with the
supercell of atoms along the straight segments between high-symmetry points (rad/Å).
Each segment holds every commensurate point (ends included); joints are not repeated;
"|" breaks the path ({"G","X","|","K","G"}). A label that is not commensurate is warned
about (stderr) and the commensurate points next to it are kept. Items may also be
Cartesian {qx, qy, qz} (rad/Å) or {frac={f1,f2,f3}} (conventional reciprocal basis).
Options: n= (at most n points per segment, evenly subsampled), zones={{0,0,0},{1,1,1},...}
(the path repeated at q + G, G in units of the conventional 2π/a, one block per zone),
lattice=, a=, b=, c= (override detection), tol= (detection, Å), qtol=1e-6.
Fields: q (kiln.Array n x 3, rad/Å), hkl (n x 3 integers: q = h b1 + k b2 + l b3 of the
supercell), x (n x 1, path distance in rad/Å, from 0 in each zone), zone (n x 1),
labels ({index=, name=, x=, zone=, exact=}, ...), lattice, a, n (#p), nzones.]])

---------------------------------------------------------------- shells
public("shells", function(atoms, opts)
  local fname = "shells"
  local o = checkopts(fname, opts, {qmax = true, qmin = true, nshells = true, width = true,
                                    per_shell = true, seed = true})
  checkatoms(fname, atoms)
  local qmax = o.qmax
  if type(qmax) ~= "number" or not (qmax > 0 and qmax < math.huge) then
    fail(fname, "qmax= (largest |q|, rad/Å) must be a positive number (got " .. tostring(qmax) .. ")")
  end
  if o.nshells ~= nil and o.width ~= nil then fail(fname, "give nshells= or width=, not both") end
  local nshells, width
  if o.width ~= nil then
    if type(o.width) ~= "number" or not (o.width > 0) then
      fail(fname, "width= (shell width, rad/Å) must be positive (got " .. tostring(o.width) .. ")")
    end
    width = o.width
    nshells = math.max(1, math.ceil(qmax / width - 1e-9))
  else
    nshells = o.nshells or 10
    if math.type(nshells) ~= "integer" or nshells < 1 then
      fail(fname, "nshells= must be an integer >= 1 (got " .. tostring(nshells) .. ")")
    end
    width = qmax / nshells
  end
  local per = o.per_shell or 0
  if math.type(per) ~= "integer" or per < 0 then
    fail(fname, "per_shell= must be an integer >= 0 (0 = all; got " .. tostring(per) .. ")")
  end
  local seed = o.seed or 1
  if math.type(seed) ~= "integer" or seed < 0 then
    fail(fname, "seed= must be an integer >= 0 (got " .. tostring(seed) .. ")")
  end
  local cell = atoms:cell()
  local hall, qnall = cq.sphere(cell, o.qmin or 0, qmax)
  local keep = cq.pick_shells(qnall, nshells * width, nshells, per, seed)
  local rows = {}
  local avail, picked = kiln_array(nshells, 1), kiln_array(nshells, 1)
  for i = 1, #keep do
    local qn = qnall:get(i, 1)
    local s = math.min(nshells, math.max(1, math.ceil(qn / width - 1e-12)))
    if qn > 0 then avail:set(s, 1, avail:get(s, 1) + 1) end
    if keep:get(i, 1) > 0 then rows[#rows + 1] = i end
  end
  local n = #rows
  local hkl, qnorm, shell = kiln_array(n, 3), kiln_array(n, 1), kiln_array(n, 1)
  for r, i in ipairs(rows) do
    hkl:set(r, 1, hall:get(i, 1)); hkl:set(r, 2, hall:get(i, 2)); hkl:set(r, 3, hall:get(i, 3))
    qnorm:set(r, 1, qnall:get(i, 1))
    local s = keep:get(i, 1)
    shell:set(r, 1, s)
    picked:set(s, 1, picked:get(s, 1) + 1)
  end
  local centers = kiln_array(nshells, 1)
  for s = 1, nshells do centers:set(s, 1, (s - 0.5) * width) end
  return setmetatable({
    kind = "shells", q = cq.hkl_to_q(cell, hkl), hkl = hkl, qnorm = qnorm, shell = shell,
    centers = centers, available = avail, counts = picked, nshells = nshells, width = width,
    qmax = qmax, n = n, cell = cell,
  }, Set)
end, [[
shells(atoms, {qmax=, nshells=10 | width=, per_shell=0, seed=1, qmin=0}) -> table: q
commensurate with the supercell, 0 < |q| <= qmax (rad/Å), in |q| shells of equal width
(shell s holds ((s-1) w, s w]); per_shell > 0 keeps that many per shell, drawn at random
(seeded, reproducible); 0 keeps all.
Fields: q (n x 3, rad/Å), hkl (n x 3), qnorm (n x 1), shell (n x 1, 1-based), centers
(nshells x 1, shell mid-points), available and counts (nshells x 1: commensurate q in each
shell, and kept), nshells, width, qmax, n (#s).]])

---------------------------------------------------------------- spherical average
public("spherical_average", function(q, values, opts)
  local fname = "spherical_average"
  local o = checkopts(fname, opts, {qnorms = true, width = true, sum = true, nbins = true,
                                    qmin = true, qmax = true})
  local qn
  if type(q) == "table" and getmetatable(q) == Set then
    qn = q.qnorm
    q = q.q
  end
  if not qn then
    local ok, rows = pcall(function()
      if type(q) == "userdata" then return q:totable() end
      return q
    end)
    if not ok or type(rows) ~= "table" then
      fail(fname, "q must be a kiln.Array n x 3, a table of rows or a qpoints table (got " .. type(q) .. ")")
    end
    local t = {}
    for i, r in ipairs(rows) do
      if type(r) ~= "table" or #r ~= 3 then fail(fname, "q row " .. i .. " must have 3 numbers") end
      t[i] = math.sqrt(r[1] ^ 2 + r[2] ^ 2 + r[3] ^ 2)
    end
    qn = t
  end
  if values == nil then fail(fname, "values (n x m, one row per q) are missing") end
  if o.nbins ~= nil then
    if o.qnorms ~= nil or o.width ~= nil then fail(fname, "give nbins= or qnorms=/width=, not both") end
    local nb = o.nbins
    if math.type(nb) ~= "integer" or nb < 1 then fail(fname, "nbins= must be an integer >= 1") end
    local lo, hi = o.qmin or 0, o.qmax
    if not hi then
      hi = 0
      local t = type(qn) == "table" and qn or qn:totable()
      for _, v in ipairs(t) do if v > hi then hi = v end end
    end
    local out, counts = cq.bins(qn, values, lo, hi, nb)
    local centers = kiln_array(nb, 1)
    for k = 1, nb do centers:set(k, 1, lo + (k - 0.5) * (hi - lo) / nb) end
    return out, centers, counts
  end
  if o.qnorms == nil or o.width == nil then
    fail(fname, "give qnorms= (output |q|, rad/Å) and width= (Gaussian sigma, rad/Å), or nbins=")
  end
  return cq.gauss(qn, values, o.qnorms, o.width, o.sum)
end, [[
spherical_average(q, values, {qnorms=, width=[, sum=false]}) -> kiln.Array nQ x m
spherical_average(q, values, {nbins=[, qmin=0, qmax=max |q|]}) -> means, centers, counts
Average over the direction of q (rad/Å; a kiln.Array n x 3, table of rows, or a path/shells
table) of values (kiln.Array n x m, one row per q, e.g. S(q, ω) rows). Gaussian: output
row k = sum_i w_i values_i, w_i = exp(-½((|q_i| - Q_k)/width)²) normalised to sum 1
(sum=true: not normalised); NaN where no q is within ~40 widths. Binned: the mean in each
of nbins equal |q| bins (NaN if empty), the bin centres and the counts.]])

M.__help = [[
kiln.qpoints: q-points commensurate with the supercell (rad/Å, including 2π).
  qpoints.lattice(atoms)                     detected Bravais lattice {lattice=, a=, ...}
  qpoints.points(atoms, {"X", "L"})          label coordinates (kiln.Array n x 3)
  qpoints.path(atoms, {"G","X","K","G","L"}, {n=, zones=})   path table for correlators
  qpoints.shells(atoms, {qmax=, nshells=, per_shell=, seed=}) random q in |q| shells
  qpoints.commensurate(atoms, q)             ok, hkl
  qpoints.spherical_average(q, values, {qnorms=, width=} or {nbins=})
Labels (Setyawan–Curtarolo; "G" = Γ): fcc G X W K L U; bcc G H N P; sc G X M R;
hex G M K A L H; tet G X M Z R A; orc G X Y Z S U T R. Override detection with
lattice="fcc", a=5.431 (c= for hex/tet, b= c= for orc).]]

return M
