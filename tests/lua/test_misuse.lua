-- Misuse from a first-time user's session: clear errors that name the argument
-- and value, 1-based indices in messages, closed objects, read-only fields.
local kiln = require "kiln"
local SW = "/usr/share/lammps/potentials/Si.sw"

local function si8() return kiln.crystal.diamond{symbol = "Si", a = 5.431} end

test("rattle rejects a negative or non-finite sigma and a fractional seed", function()
  local a = si8()
  local x = a:positions_copy()
  checkerror("rattle: sigma must be a finite length >= 0 Å (got -1)", a.rattle, a, {sigma = -1})
  checkerror("rattle: sigma must be a finite length >= 0 Å (got", a.rattle, a, {sigma = 0 / 0})
  checkerror("rattle: sigma must be a finite length >= 0 Å (got inf)", a.rattle, a, {sigma = math.huge})
  checkerror("rattle: sigma must be a finite length >= 0 Å (got x)", a.rattle, a, {sigma = "x"})
  checkerror("rattle: seed must be an integer (got 1.5)", a.rattle, a, {sigma = 0.1, seed = 1.5})
  assert(a:positions()[1][1] == x[1][1])           -- nothing moved
  a:rattle{sigma = 0.1, seed = 3}
  assert(a:positions()[1][1] ~= x[1][1])
end)

test("set_velocities rejects a non-finite T", function()
  local a = si8()
  checkerror("T must be a temperature >= 0 K (got inf)", a.set_velocities, a, {T = math.huge})
  checkerror("T must be a temperature >= 0 K (got", a.set_velocities, a, {T = 0 / 0})
end)

test("frame indices in errors are 1-based", function()
  local file = tmpname(".h5")
  local t = kiln.io.trajectory(file, "w")
  checkerror("traj:read: index 1 is out of range", t.read, t, 1)
  local a = si8()
  t:append(a):append(a)
  t:close()
  local r <close> = kiln.io.trajectory(file)
  checkerror("index 3 is out of range: '" .. file .. "' has 2 frames", r.read, r, 3)
  checkerror("index -3 is out of range", r.read, r, -3)
  checkerror("index 5 is out of range", kiln.io.read, file, {index = 5})
  local xyz = tmpname(".xyz")
  kiln.io.write(xyz, {a, a})
  checkerror("kiln.io.read: index 4 is out of range: '" .. xyz .. "' has 2 frames",
             kiln.io.read, xyz, {index = 4})
end)

test("public names in argument errors, not kiln.c.*", function()
  local m = checkerror("bad argument #1 to 'kiln.io.read' (string expected", kiln.io.read)
  assert(not m:find("kiln.c.", 1, true), m)
  checkerror("bad argument #2 to 'kiln.io.write'", kiln.io.write, tmpname(".xyz"), 5)
  checkerror("bad argument #1 to 'kiln.crystal.fcc' (table expected, got number)", kiln.crystal.fcc, 5)
  checkerror([[bad argument #2 to 'kiln.io.trajectory' (mode must be "r", "w" or "a", got 'q')]],
             kiln.io.trajectory, tmpname(".h5"), "q")
  -- and the error blames the caller's line
  local m2 = checkerror("crystal fcc:", function() local x = kiln.crystal.fcc{symbol = "Cu"}; return x end)
  assert(m2:find("test_misuse.lua:%d+: crystal fcc"), m2)
  -- the wrappers keep the nil, msg of files that cannot be opened
  local r, msg = kiln.io.read("tests/out/no/such.xyz")
  assert(r == nil and msg:find("cannot open", 1, true), msg)
  local t, msg2 = kiln.io.trajectory("tests/out/no/such.h5")
  assert(t == nil and type(msg2) == "string")
end)

test("writing an empty list is an error (appending one is a no-op)", function()
  local f = tmpname(".xyz")
  checkerror("empty list: no structure to write", kiln.io.write, f, {})
  kiln.io.write(f, si8())
  kiln.io.write(f, {}, {append = true})
  assert(#kiln.io.read(f) == 1)
end)

test("a misspelt style option is named as unknown", function()
  checkerror("potential lj: unknown option 'cutof' (options: epsilon, sigma, cutoff, shift, pairs)",
             function() return kiln.potential.lj{epsilon = 0.01, sigma = 3.4, cutof = 8} end)
  checkerror("md langevin: unknown option 'temp'",
             function() return kiln.md.langevin{dt = 1, temp = 300, damping = 100} end)
  -- the option checks of the core still come first when every key is known
  checkerror("missing option 'cutoff'", function() return kiln.potential.lj{epsilon = 1, sigma = 1} end)
  checkerror("cutoff must be positive", function()
    return kiln.potential.lj{epsilon = 1, sigma = 1, cutoff = -3} end)
end)

test("fields of closed objects raise; fields are read-only", function()
  local pot = kiln.potential.sw{file = SW}
  local md = kiln.md.verlet{dt = 1}
  checkerror("cannot set field 'cutoff' of a kiln.Potential (read-only", function() pot.cutoff = 2 end)
  checkerror("cannot set field 'dt' of a kiln.Integrator (read-only", function() md.dt = 2 end)
  local rng = kiln.Rng(1)
  checkerror("cannot set field 'x' of a kiln.Rng", function() rng.x = 1 end)
  pot:close()
  md:close()
  checkerror("attempt to use a closed kiln.Potential (field 'cutoff')", function() return pot.cutoff end)
  checkerror("attempt to use a closed kiln.Potential (field 'style')", function() return pot.style end)
  checkerror("attempt to use a closed kiln.Integrator (field 'step')", function() return md.step end)
  assert(tostring(pot) == "kiln.Potential (closed)" and tostring(md) == "kiln.Integrator (closed)")
  assert(type(pot.close) == "function")    -- methods are still found
end)

test("a.info of a closed kiln.Atoms blames the caller's line", function()
  local a = si8()
  a:close()
  local m = checkerror("attempt to use a closed kiln.Atoms", function() local e = a.info.energy; return e end)
  assert(m:find("test_misuse.lua:%d+:"), m)
end)

test("help by instance-style names", function()
  local help = require "kiln.help"
  assert(help.text("traj:append"):find("kiln.Trajectory:append", 1, true))
  assert(help.text("a:positions"):find("kiln.Atoms:positions", 1, true))
  assert(help.text("arr:totable"):find("kiln.Array:totable", 1, true))
  assert(help.text(kiln.io.read):find("kiln.io.read", 1, true))
  assert(help.text(kiln.crystal.hbn):find("kiln.crystal.hbn", 1, true))
end)
