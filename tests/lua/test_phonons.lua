-- tests/lua/test_phonons.lua: the kiln.phonons Lua API (the numerics are tested in
-- tests/c/test_phonons.c): fcc nearest-neighbour springs, whose X-point frequencies are
-- sqrt(4k/m) and sqrt(8k/m) times 15.6333 THz.
local kiln = require "kiln"

local A = 3.615
local K = 2.0
local function fcc_prim()
  local h = A / 2
  return kiln.crystal.from_cell{cell = {{0, h, h}, {h, 0, h}, {h, h, 0}}, symbols = {"Cu"},
                                scaled_positions = {{0, 0, 0}}}
end
local function spring()
  local r0 = A / math.sqrt(2)
  return kiln.potential.harmonic{k = K, r0 = r0, cutoff = (r0 + A) / 2}
end

local u = fcc_prim()
local ph = kiln.phonons{atoms = u, potential = spring(), supercell = {4, 4, 4}, stencil = 4, delta = 1e-3}
local m = u:masses()[1]
local fT, fL = math.sqrt(4 * K / m) * kiln.phonons.THz, math.sqrt(8 * K / m) * kiln.phonons.THz

test("constructor and fields", function()
  assert(ph.nbasis == 1 and ph.nmodes == 3 and ph.natoms == 64)
  assert(ph.size[1] == 4 and ph.size[3] == 4)
  assert(tostring(ph):find("kiln.Phonons", 1, true))
  assert(#ph:supercell() == 64 and #ph:unitcell() == 1)
  close(kiln.phonons.THz, 1e3 / (2 * math.pi * math.sqrt(kiln.units.mvv2e)), 1e-12)
end)

test("frequencies: q forms and the X point", function()
  -- X = (0.5, 0, 0.5) in reduced coordinates = (0, 0, 2π/a) Cartesian
  local qx = {0, 0, 2 * math.pi / A}
  for _, q in ipairs{{qx}, kiln.Array{qx}, {q = kiln.Array{qx}}} do
    local f = ph:frequencies(q)
    local r, c = f:shape()
    assert(r == 1 and c == 3)
    close(f[1][1], fT, 1e-9); close(f[1][2], fT, 1e-9); close(f[1][3], fL, 1e-9)
  end
  local f = ph:frequencies({0.5, 0, 0.5}, {frac = true})
  close(f[1][3], fL, 1e-9)
  local f0 = ph:frequencies({0, 0, 0})
  assert(math.abs(f0[1][3]) < 1e-5)
end)

test("eigenvectors and dynamical matrix", function()
  local e = ph:eigenvectors({0.1, 0.2, 0.3}, {frac = true})
  local s = 0
  for j = 1, 3 do s = s + e.re[3][j] ^ 2 + e.im[3][j] ^ 2 end
  close(s, 1, 1e-12)
  local re = ph:dynamical_matrix({0, 0, 2 * math.pi / A})
  close(re[3][3], 8 * K / m, 1e-9)
end)

test("dispersion, dos, msd, thermal", function()
  local path = {q = kiln.Array{{0, 0, 0}, {0, 0, 0.5}, {0, 0, 2 * math.pi / A}}, labels = {"G", "X"}}
  local d = ph:dispersion(path)
  assert(#d.x == 3 and d.labels[2] == "X")
  close(d.x[3], 2 * math.pi / A, 1e-12)
  close(d.freq[3][3], fL, 1e-9)
  local dos = ph:dos{mesh = 6, sigma = 0.3, nbins = 300}
  local s = 0
  for i = 2, #dos.freq do s = s + dos.dos[i] * (dos.freq[i] - dos.freq[i - 1]) end
  close(s, 3, 1e-6)
  close(dos.pdos.Cu[100], dos.dos[100], 1e-12)
  local q, c = ph:msd{T = 300}, ph:msd{T = 300, quantum = false}
  assert(q.Cu > c.Cu and c.Cu > 0 and #q.atoms == 1)
  close(q.tensor:get(1, 1) * 3, q.Cu, 1e-12)
  local t = ph:thermal{T = {300, 3000}, mesh = 6}
  assert(t.Cv[2] > t.Cv[1] and t.Cv[2] < 3 * kiln.units.kB)
end)

test("sample", function()
  local a = ph:sample{T = 300, seed = 3}
  assert(#a == 64)
  local b = ph:sample{T = 300, seed = 3}
  close(a:positions()[5][2], b:positions()[5][2], 0, 0)
  local c = ph:sample{T = 300, seed = 3, supercell = 2, quantum = false, velocities = false}
  assert(#c == 8 and c:velocities()[1][1] == 0)
end)

test("force constants file round trip", function()
  local file = tmpname(".fc")
  ph:write_force_constants(file, {compact = true})
  local ph2 = kiln.phonons{atoms = u, supercell = 4, force_constants = file}
  local f1, f2 = ph:frequencies({0.3, 0.1, 0.2}), ph2:frequencies({0.3, 0.1, 0.2})
  for j = 1, 3 do close(f1[1][j], f2[1][j], 1e-12) end
  local fc = ph:force_constants()
  local r, c = fc:shape()
  assert(r == 64 and c == 9)
end)

test("errors", function()
  checkerror("unknown option 'supercel'", function() kiln.phonons{atoms = u, supercel = 2} end)
  checkerror("potential= ", function() kiln.phonons{atoms = u, supercell = 2} end)
  checkerror("supercell", function() kiln.phonons{atoms = u, potential = spring(), supercell = {2, 2}} end)
  checkerror("T= (K) is required", function() ph:msd{} end)
  checkerror("stencil", function() kiln.phonons{atoms = u, potential = spring(), stencil = 3} end)
  checkerror("cannot open", function() kiln.phonons{atoms = u, force_constants = "no/such/file"} end)
end)

test("help", function()
  local help = require "kiln.help"
  assert(help.text(kiln.phonons):find("force_constants", 1, true))
  assert(help.text(ph.dos):find("sigma", 1, true))
end)
