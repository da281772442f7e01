-- kiln.io through Lua: round trips, single vs multi-frame results, index,
-- nil,msg for missing files, raised file:line errors for malformed ones.
local kiln = require "kiln"

local function maxdiff(a, b)
  local m = 0
  local r, c = a:shape()
  for i = 1, r do for d = 1, c do m = math.max(m, math.abs(a[i][d] - b[i][d])) end end
  return m
end

local function sample()
  local a = kiln.crystal.rocksalt{A = "Na", B = "Cl", a = 5.64}
  a:rattle{sigma = 0.03, seed = 5}
  a:set_cell({{5.64, 0, 0}, {0.3, 5.5, 0}, {0.1, 0.2, 5.7}})  -- triclinic
  a:set_velocities{T = 300, seed = 2}
  a.info.energy = -27.25
  a.info.config = "strained"
  a:array("charge", {1, -1, 1, -1, 1, -1, 1, -1})
  return a
end

test("extxyz round trip", function()
  local a = sample()
  local f = tmpname(".xyz")
  kiln.io.write(f, a)
  local frames = kiln.io.read(f)
  assert(type(frames) == "table" and #frames == 1)
  local b = frames[1]
  assert(#b == 8 and b:get_symbol(2) == "Cl")
  assert(maxdiff(a:positions(), b:positions()) < 1e-12)
  local ca, cb = a:cell(), b:cell()
  for i = 1, 3 do for j = 1, 3 do close(ca[i][j], cb[i][j], 1e-14, 1e-14) end end
  close(b.info.energy, -27.25, 1e-15)
  assert(b.info.config == "strained")
  assert(b:array("charge")[2] == -1)
  assert(b:pbc()[1] and b:pbc()[3])
end)

test("extxyz lists, append, index", function()
  local a = sample()
  local f = tmpname(".xyz")
  kiln.io.write(f, {a, a:supercell(2, 1, 1)})
  kiln.io.write(f, a:supercell(3, 1, 1), {append = true})
  local frames = kiln.io.read(f)
  assert(#frames == 3 and #frames[1] == 8 and #frames[2] == 16 and #frames[3] == 24)
  local second = kiln.io.read(f, {index = 2})
  assert(getmetatable(second).__name == "kiln.Atoms" and #second == 16)
  assert(#kiln.io.read(f, {index = -1}) == 24)
  assert(#kiln.io.read(f, {index = 1, format = "extxyz"}) == 8)
  checkerror("index is 1-based", kiln.io.read, f, {index = 0})
  checkerror("out of range", kiln.io.read, f, {index = 4})
end)

test("single-structure formats return one Atoms", function()
  local a = sample()
  local poscar = tmpname("_POSCAR")
  kiln.io.write(poscar, a, {format = "vasp"})
  local b = kiln.io.read(poscar, {format = "vasp"})
  assert(getmetatable(b).__name == "kiln.Atoms" and #b == 8)
  assert(maxdiff(a:positions(), b:positions()) < 1e-9)
  local data = tmpname(".data")
  kiln.io.write(data, a)
  local c = kiln.io.read(data)
  assert(getmetatable(c).__name == "kiln.Atoms" and #c == 8)
  assert(maxdiff(a:positions(), c:positions()) < 1e-9)
  assert(c:get_symbol(1) == "Na" and c:get_symbol(8) == "Cl")
  checkerror("holds one structure", kiln.io.write, tmpname(".data"), {a, a})
end)

test("missing file gives nil, msg", function()
  local r, msg = kiln.io.read("tests/out/does-not-exist.xyz")
  assert(r == nil and msg:find("does-not-exist.xyz", 1, true), msg)
  local t, tmsg = kiln.io.trajectory("tests/out/does-not-exist.h5", "r")
  assert(t == nil and tmsg:find("does-not-exist.h5", 1, true), tmsg)
end)

test("malformed file raises with file:line", function()
  local f = tmpname(".xyz")
  local h = io.open(f, "w")
  h:write('2\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3\nSi 0 0 0\nSi 1 x 1\n')
  h:close()
  local msg = checkerror(f .. ":4:", kiln.io.read, f)
  assert(msg:find("'x'", 1, true), msg)
  checkerror("cannot tell the format", kiln.io.read, "tests/out/file.unknownext")
  checkerror("unknown format 'pdb'", kiln.io.read, f, {format = "pdb"})
  assert(kiln.io.guess_format("POSCAR") == "vasp" and kiln.io.guess_format("x.h5") == "h5md")
  assert(kiln.io.guess_format("x.foo") == nil)
end)

test("trajectory round trip", function()
  local f = tmpname(".h5")
  local a = sample()
  do
    local t <close> = kiln.io.trajectory(f, "w")
    t:append(a, {step = 0, time = 0})
    a:positions()[1][1] = 0.125
    t:append(a, {step = 10, time = 5.0})
    assert(#t == 2 and tostring(t):find("frames=2", 1, true))
  end
  local t = kiln.io.trajectory(f, "r")
  local b, step, time = t:read(-1)
  assert(step == 10 and time == 5.0 and b:positions()[1][1] == 0.125)
  assert(maxdiff(a:velocities(), b:velocities()) < 1e-15)
  local n = 0
  for i, fr, s in t:frames() do
    n = n + 1
    assert(#fr == 8 and s == (i - 1) * 10)
  end
  assert(n == 2)
  checkerror("frame index is 1-based", t.read, t, 0)
  t:close()
  checkerror("attempt to use a closed kiln.Trajectory", t.read, t, 1)
  assert(tostring(t):find("closed", 1, true))
  -- read the whole trajectory as a list of frames
  local frames = kiln.io.read(f)
  assert(#frames == 2)
  -- append mode adds frames
  local t2 = kiln.io.trajectory(f, "a")
  t2:append(a, {step = 20, time = 10})
  assert(#t2 == 3)
  t2:close()
  checkerror([[mode must be "r", "w" or "a", got 'x']], kiln.io.trajectory, f, "x")
end)
