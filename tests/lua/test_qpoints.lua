-- kiln.qpoints: lattice detection, labels against ASE (tests/ref/qpoints-ase.txt from
-- tests/ref/gen_qpoints_ref.py), commensurate paths (dynasor's Si 8x8x8 G-X-K-G-L
-- segment lengths 9, 3, 7, 5), zones, shells, spherical averages and errors.
local kiln = require "kiln"
local qp = require "kiln.qpoints"

local TWO_PI = 2 * math.pi

local function diamond(n) return kiln.crystal.diamond{symbol = "Si", a = 5.431}:supercell(n, n, n) end

-- capture what the module writes to io.stderr while f runs
local function stderr_of(f, ...)
  local saved, buf = io.stderr, {}
  io.stderr = {write = function(_, ...) for _, s in ipairs{...} do buf[#buf + 1] = s end end}
  local ok, r = pcall(f, ...)
  io.stderr = saved
  if not ok then error(r, 2) end
  return table.concat(buf), r
end

-- largest |q·a_i/2π - round| over all rows of an n x 3 Array
local function max_frac_err(cell, q)
  local m = 0
  for i = 1, #q do
    for r = 1, 3 do
      local h = (q:get(i, 1) * cell[r][1] + q:get(i, 2) * cell[r][2] + q:get(i, 3) * cell[r][3]) / TWO_PI
      m = math.max(m, math.abs(h - math.floor(h + 0.5)))
    end
  end
  return m
end

local function read_ref()
  local pts, segs = {}, {}
  for line in io.lines("tests/ref/qpoints-ase.txt") do
    local kind, a, b, c, label, x, y, z =
      line:match("^point (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+)")
    if kind then
      pts[#pts + 1] = {kind = kind, a = tonumber(a), b = tonumber(b), c = tonumber(c), label = label,
                       q = {tonumber(x), tonumber(y), tonumber(z)}}
    end
    local nrep, p, q, n = line:match("^segcount %S+ (%d+) (%S+) (%S+) (%d+)")
    if nrep then segs[#segs + 1] = {nrep = tonumber(nrep), from = p, to = q, n = tonumber(n)} end
  end
  return pts, segs
end

test("detect diamond Si 4x4x4: fcc, a = 5.431", function()
  local lat = qp.lattice(diamond(4))
  assert(lat.lattice == "fcc", lat.lattice)
  close(lat.a, 5.431, 0, 1e-9)
  assert(lat.ncells == 256 and lat.nbasis == 2)
  for i = 1, 3 do for d = 1, 3 do close(lat.conventional[i][d], i == d and 5.431 or 0, 0, 1e-9) end end
  assert(table.concat(lat.labels, " ") == "G X W K L U")
end)

test("detect fcc Ar, bcc Fe, perovskite, rocksalt, hcp Mg", function()
  local cases = {
    {kiln.crystal.fcc{symbol = "Ar", a = 5.26}:supercell(3, 3, 3), "fcc", 5.26, 1},
    {kiln.crystal.bcc{symbol = "Fe", a = 2.87}:supercell(4, 4, 4), "bcc", 2.87, 1},
    {kiln.crystal.perovskite{A = "Ba", B = "Ti", X = "O", a = 4.0}:supercell(2, 2, 2), "sc", 4.0, 5},
    {kiln.crystal.rocksalt{A = "Na", B = "Cl", a = 5.64}:supercell(2, 2, 2), "fcc", 5.64, 2},
    {kiln.crystal.hcp{symbol = "Mg", a = 3.21, c = 5.21}:supercell(3, 3, 2), "hex", 3.21, 2},
  }
  for _, c in ipairs(cases) do
    local lat = qp.lattice(c[1])
    assert(lat.lattice == c[2], c[2] .. " detected as " .. lat.lattice)
    close(lat.a, c[3], 0, 1e-9)
    assert(lat.nbasis == c[4], lat.nbasis)
  end
  close(qp.lattice(cases[5][1]).c, 5.21, 0, 1e-9)
end)

test("rattled supercells are still detected", function()
  local a = diamond(4):rattle{sigma = 0.01, seed = 5}
  local lat = qp.lattice(a)
  assert(lat.lattice == "fcc" and lat.ncells == 256)
  close(lat.a, 5.431, 0, 1e-9)   -- exact: the lattice is a rational part of the cell
  -- larger noise (0.04 Å) with the default tolerance 0.25 Å
  for seed = 1, 3 do
    lat = qp.lattice(kiln.crystal.fcc{symbol = "Ar", a = 5.26}:supercell(4, 4, 4):rattle{sigma = 0.04, seed = seed})
    assert(lat.lattice == "fcc" and lat.ncells == 256)
  end
  -- thermal-size noise (0.07 Å, Si at ~300 K): the default retries with 0.5 Å
  lat = qp.lattice(diamond(4):rattle{sigma = 0.07, seed = 2})
  assert(lat.lattice == "fcc" and lat.ncells == 256)
  close(lat.a, 5.431, 0, 1e-9)
  -- a tolerance below the noise finds no translation: one cell of 512 atoms, and path() warns
  local a2 = diamond(4):rattle{sigma = 0.01, seed = 5}
  lat = qp.lattice(a2, {tol = 1e-3})
  assert(lat.ncells == 1 and lat.nbasis == 512)
  local msg = stderr_of(qp.path, a2, {"G", "X"}, {tol = 1e-3})
  assert(msg:find("no translational symmetry found among 512 atoms", 1, true), msg)
end)

test("special points equal ASE's (lattice= override and detection)", function()
  local pts = read_ref()
  assert(#pts == 34)
  for _, p in ipairs(pts) do
    local q = qp.points(nil, p.label, {lattice = p.kind, a = p.a, b = p.b, c = p.c})
    for d = 1, 3 do close(q[d], p.q[d], 0, 1e-12) end
  end
  -- the same coordinates from structures built by kiln.crystal (axis-aligned)
  local built = {
    fcc = diamond(2), bcc = kiln.crystal.bcc{symbol = "Fe", a = 2.87}:supercell(2, 2, 2),
    sc = kiln.crystal.sc{symbol = "Po", a = 3.35}:supercell(2, 2, 2),
    hex = kiln.crystal.hcp{symbol = "Mg", a = 3.21, c = 5.21}:supercell(2, 2, 2),
  }
  local n = 0
  for _, p in ipairs(pts) do
    local at = built[p.kind]
    if at and (p.kind ~= "fcc" or true) then
      local a_ref = p.kind == "fcc" and 5.431 or p.a
      local q = qp.points(at, p.label)
      -- fcc reference is for a = 5.431 (diamond Si) too
      assert(math.abs(a_ref - p.a) < 1e-12)
      for d = 1, 3 do close(q[d], p.q[d], 0, 1e-9) end
      n = n + 1
    end
  end
  assert(n == 20, n)
  -- "Gamma" and "Γ" are G; points() with a list gives an Array
  local arr = qp.points(diamond(2), {"Gamma", "Γ", "X"})
  assert(#arr == 3 and arr:get(1, 1) == 0 and arr:get(2, 2) == 0)
  close(arr:get(3, 2), TWO_PI / 5.431, 1e-15)
  local all = qp.points(diamond(2))
  assert(all.W and all.U and all.K and all.L and all.X and all.G)
end)

test("Si 8x8x8 G-X-K-G-L: segments 9, 3, 7, 5 as dynasor; every q commensurate", function()
  local a = diamond(8)
  local p = qp.path(a, {"G", "X", "K", "G", "L"})
  assert(#p == 21 and p.n == 21, #p)             -- 9 + 3 + 7 + 5 - 3 joints
  local idx = {}
  for i, l in ipairs(p.labels) do idx[i] = l.index; assert(l.exact) end
  assert(#idx == 5)
  local lens = {}
  for i = 1, 4 do lens[i] = idx[i + 1] - idx[i] + 1 end
  assert(table.concat(lens, ",") == "9,3,7,5", table.concat(lens, ","))
  assert(max_frac_err(a:cell(), p.q) < 1e-9)
  -- hkl: q = h b1 + k b2 + l b3 with b = 2π/(8a) for the cubic supercell
  local b = TWO_PI / (8 * 5.431)
  for i = 1, #p do
    for d = 1, 3 do close(p.q:get(i, d), p.hkl:get(i, d) * b, 0, 1e-12) end
  end
  -- x: cumulative |Δq| with labels at their path positions
  close(p.x:get(9, 1), TWO_PI / 5.431, 1e-12)                 -- |G-X| = 2π/a
  close(p.labels[3].x, TWO_PI / 5.431 * (1 + math.sqrt(10) / 4), 1e-12)  -- + |X-K|
  for i = 2, #p do assert(p.x:get(i, 1) > p.x:get(i - 1, 1)) end
  assert(p.lattice == "fcc" and math.abs(p.a - 5.431) < 1e-9)
  assert(tostring(p):find("21 q-points on G-X-K-G-L", 1, true), tostring(p))
end)

test("segment counts on other segments match a brute-force enumeration", function()
  local _, segs = read_ref()
  assert(#segs == 16)
  local cache = {}
  for _, s in ipairs(segs) do
    cache[s.nrep] = cache[s.nrep] or diamond(s.nrep)
    local p = qp.path(cache[s.nrep], {s.from, s.to})
    assert(#p == s.n, s.from .. "-" .. s.to .. " x" .. s.nrep .. ": " .. #p .. " vs " .. s.n)
  end
end)

test("n=, breaks and zones", function()
  local a = diamond(8)
  local p = qp.path(a, {"G", "X"}, {n = 3})
  assert(#p == 3 and p.hkl:get(2, 2) == 4 and p.hkl:get(3, 2) == 8)
  -- a break: G-X then K-G, no joint shared
  p = qp.path(a, {"G", "X", "|", "K", "G"})
  assert(#p == 9 + 7, #p)
  assert(p.labels[2].name == "X" and p.labels[3].name == "K")
  close(p.labels[3].x, p.labels[2].x, 1e-15)    -- the break adds no distance
  -- zones: one block per zone, x from 0 in each, hkl shifted by G
  p = qp.path(a, {"G", "X", "K", "G", "L"}, {zones = {{0, 0, 0}, {1, 1, 1}, {2, 0, 0}}})
  assert(#p == 63 and p.nzones == 3 and #p.labels == 15)
  for i = 1, 21 do
    assert(p.zone:get(i, 1) == 1 and p.zone:get(21 + i, 1) == 2 and p.zone:get(42 + i, 1) == 3)
    close(p.x:get(21 + i, 1), p.x:get(i, 1), 0, 0)
    for d = 1, 3 do
      assert(p.hkl:get(21 + i, d) == p.hkl:get(i, d) + 8)
      assert(p.hkl:get(42 + i, d) == p.hkl:get(i, d) + (d == 1 and 16 or 0))
    end
  end
  assert(p.labels[6].index == 22 and p.labels[6].zone == 2 and p.labels[6].name == "G")
  assert(max_frac_err(a:cell(), p.q) < 1e-9)
  -- a zone that is not a reciprocal lattice vector of fcc is warned about
  local msg = stderr_of(qp.path, a, {"G", "X"}, {zones = {{1, 0, 0}}})
  assert(msg:find("not a reciprocal lattice vector of the fcc lattice", 1, true), msg)
end)

test("labels that are not commensurate: warning, points in between", function()
  local a = diamond(3)           -- K = 2π/a (3/4, 3/4, 0) gives h = 2.25: not commensurate
  local msg, p = stderr_of(qp.path, a, {"G", "X", "K", "G"})
  assert(msg:find("K = (0.867683, 0.867683, 0) rad/Å is not commensurate", 1, true), msg)
  local nl = select(2, msg:gsub("\n", ""))
  assert(nl == 1, msg)                                   -- one line, once per label
  -- G-X: 4 points; X-K: only X; K-G: (2,2,0), (1,1,0), G
  assert(#p == 4 + 3, #p)
  assert(p.labels[3].exact == false and p.labels[3].name == "K")
  assert(max_frac_err(a:cell(), p.q) < 1e-9)
  -- Cartesian and fractional items
  p = qp.path(a, {{0, 0, 0}, {frac = {0, 1, 0}, name = "X'"}})
  assert(#p == 4 and p.labels[2].name == "X'")
end)

test("override lattice= a=", function()
  local a = diamond(4)
  local p1 = qp.path(a, {"G", "X", "K", "G", "L"})
  local p2 = qp.path(a, {"G", "X", "K", "G", "L"}, {lattice = "fcc", a = 5.431})
  assert(#p1 == #p2)
  for i = 1, #p1 do for d = 1, 3 do close(p1.q:get(i, d), p2.q:get(i, d), 0, 1e-12) end end
  local lat = qp.lattice(nil, {lattice = "hcp", a = 3.0, c = 5.0})
  assert(lat.lattice == "hex" and lat.c == 5.0)
end)

test("shells: all commensurate q bucketed by |q|, seeded random picks", function()
  local a = kiln.crystal.sc{symbol = "Po", a = 10}:supercell(1, 1, 1)   -- b = 2π/10
  local b = TWO_PI / 10
  local s = qp.shells(a, {qmax = 3 * b, nshells = 3})
  -- (0,b]: 6, (b,2b]: 12+8+6, (2b,3b]: 24+24+12+30
  assert(#s == 122, #s)
  assert(s.available:get(1, 1) == 6 and s.available:get(2, 1) == 26 and s.available:get(3, 1) == 90)
  for i = 1, #s do
    local qn = s.qnorm:get(i, 1)
    assert(qn > 0 and qn <= 3 * b * (1 + 1e-12))
    local sh = s.shell:get(i, 1)
    assert(qn > (sh - 1) * b * (1 - 1e-12) and qn <= sh * b * (1 + 1e-12))
  end
  local s1 = qp.shells(a, {qmax = 3 * b, width = b, per_shell = 5, seed = 7})
  local s2 = qp.shells(a, {qmax = 3 * b, width = b, per_shell = 5, seed = 7})
  local s3 = qp.shells(a, {qmax = 3 * b, width = b, per_shell = 5, seed = 8})
  assert(#s1 == 15 and s1.counts:get(2, 1) == 5)
  local same, diff = true, false
  for i = 1, #s1 do
    for d = 1, 3 do
      same = same and s1.hkl:get(i, d) == s2.hkl:get(i, d)
      diff = diff or s1.hkl:get(i, d) ~= s3.hkl:get(i, d)
    end
  end
  assert(same and diff)
  assert(max_frac_err(a:cell(), s1.q) < 1e-9)
  -- a larger case stays quick: Si 8x8x8 up to 3 rad/Å
  local t0 = os.clock()
  local big = qp.shells(diamond(8), {qmax = 3, nshells = 30, per_shell = 20, seed = 1})
  assert(#big <= 600 and #big > 400, #big)
  assert(os.clock() - t0 < 5)
end)

test("spherical average: narrow Gaussian returns f(Q); weights sum to 1", function()
  -- a 200 Å box: |q| of the commensurate points is nearly continuous (b = 0.031 rad/Å)
  local a = kiln.crystal.sc{symbol = "Po", a = 200}
  local s = qp.shells(a, {qmin = 0.3, qmax = 0.6, nshells = 1})
  local n = #s
  assert(n == 25296, n)
  local v = kiln.Array(n, 2)
  for i = 1, n do
    local qn = s.qnorm:get(i, 1)
    v:set(i, 1, qn * qn)
    v:set(i, 2, 1.0)
  end
  local Q, width = {0.4, 0.45, 0.5}, 0.01
  local out = qp.spherical_average(s, v, {qnorms = Q, width = width})
  local r, c = out:shape()
  assert(r == 3 and c == 2)
  for k = 1, 3 do
    -- continuum expectation: points have density ∝ q², so <q²> = ∫q⁴g / ∫q²g
    local num, den = 0, 0
    for j = -4000, 4000 do
      local q = Q[k] + j * width * 1e-3
      local g = math.exp(-0.5 * ((q - Q[k]) / width) ^ 2) * q * q
      num, den = num + g * q * q, den + g
    end
    close(out:get(k, 1), num / den, 0, 2e-4)
    close(out:get(k, 1), Q[k] ^ 2, 5e-3)       -- f(Q) for a narrow width
    close(out:get(k, 2), 1.0, 1e-13)          -- normalised weights sum to 1
  end
  -- sum=true: plain sums, checked against a direct evaluation
  local sum = qp.spherical_average(s.q, v, {qnorms = {0.45}, width = 0.05, sum = true})
  local ws = 0
  for i = 1, n do ws = ws + math.exp(-0.5 * ((s.qnorm:get(i, 1) - 0.45) / 0.05) ^ 2) end
  close(sum:get(1, 2), ws, 1e-12)
  -- binned: means and counts
  local m, centers, counts = qp.spherical_average(s, v, {nbins = 3, qmin = 0.3, qmax = 0.6})
  assert(#m == 3 and counts:sum() == n)
  close(centers:get(1, 1), 0.35, 1e-14)
  local bs, bc = {0, 0, 0}, {0, 0, 0}
  for i = 1, n do
    local qn = s.qnorm:get(i, 1)
    local k = math.min(3, math.floor((qn - 0.3) / 0.1) + 1)
    bs[k], bc[k] = bs[k] + qn * qn, bc[k] + 1
  end
  for k = 1, 3 do
    close(m:get(k, 2), 1.0, 1e-14)
    assert(counts:get(k, 1) == bc[k])
    close(m:get(k, 1), bs[k] / bc[k], 1e-12)      -- direct mean
    local lo, hi = 0.3 + (k - 1) * 0.1, 0.3 + k * 0.1   -- continuum: 3/5 (hi⁵-lo⁵)/(hi³-lo³)
    close(m:get(k, 1), 0.6 * (hi ^ 5 - lo ^ 5) / (hi ^ 3 - lo ^ 3), 1.5e-2)
  end
end)

test("commensurate()", function()
  local a = diamond(4)
  local ok, hkl = qp.commensurate(a, {TWO_PI / 5.431, 0, 0})
  assert(ok == true and hkl[1] == 4 and hkl[2] == 0)
  ok = qp.commensurate(a, {TWO_PI / 5.431 / 8, 0, 0})
  assert(ok == false)
  local oks, h = qp.commensurate(a, kiln.Array{{0, 0, 0}, {TWO_PI / 5.431 / 4, 0, 0}, {0.1, 0, 0}})
  assert(oks[1] and oks[2] and not oks[3] and h:get(2, 1) == 1)
end)

test("errors name what is wrong", function()
  local a = diamond(2)
  checkerror("unknown q-point label 'H' for a fcc lattice (valid: G X W K L U)", qp.path, a, {"G", "H"})
  local tri = kiln.Atoms{cell = {{4, 0, 0}, {1, 5, 0}, {0.5, 1.5, 6}}, symbols = {"Si", "Si"},
                         scaled_positions = {{0, 0, 0}, {0.3, 0.1, 0.6}}}
  local msg = checkerror("cannot classify the lattice", qp.path, tri, {"G", "X"})
  assert(msg:find("lattice=", 1, true) and msg:find("1 primitive cell of 2 atoms", 1, true), msg)
  checkerror("unknown option 'foo'", qp.path, a, {"G", "X"}, {foo = 1})
  checkerror("needs the conventional lattice constant a=", qp.points, a, {"X"}, {lattice = "fcc"})
  checkerror("unknown lattice 'rhombo'", qp.points, a, {"X"}, {lattice = "rhombo", a = 3})
  checkerror("n= (maximum points per segment) must be an integer >= 2", qp.path, a, {"G", "X"}, {n = 1})
  checkerror("not commensurate with the supercell", qp.path, diamond(3), {"G", "X"}, {zones = {{0.5, 0, 0}}})
  checkerror("qmax=", qp.shells, a, {})
  checkerror("give qnorms=", qp.spherical_average, {{1, 0, 0}}, {1}, {})
  checkerror("values have 2 rows but there are 1 q-points", qp.spherical_average, {{1, 0, 0}}, {1, 2},
             {qnorms = {1}, width = 0.1})
  checkerror("periodic in all 3", qp.lattice, kiln.Atoms{cell = {{5, 0, 0}, {0, 5, 0}, {0, 0, 5}},
             symbols = {"Ar"}, positions = {{0, 0, 0}}, pbc = {true, true, false}})
  -- errors blame the caller's line
  local ok, e = pcall(function() qp.path(a, {"G", "H"}) end)
  assert(not ok and e:find("test_qpoints.lua", 1, true), e)
end)
