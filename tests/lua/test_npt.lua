-- kiln.md.npt through Lua: md:run, the thermo table (volume, cell lengths and angles).
local kiln = require "kiln"

local function argon()
  local a = kiln.crystal.fcc{symbol = "Ar", a = 5.30}:supercell(2, 2, 2)
  a:set_velocities{T = 30, seed = 2}
  return a
end
local function lj()
  return kiln.potential.lj{epsilon = 0.0104, sigma = 3.40, cutoff = 8.5, shift = true}
end

test("npt: iso run, thermo has volume, lengths, angles", function()
  local a, pot = argon(), lj()
  local v0 = a:volume()
  local md = kiln.md.npt{dt = 5, T = 30, P = -0.1, tau_p = 300, compressibility = 0.4,
                         tau = 100, seed = 1}
  local seen = 0
  local th = md:run(a, pot, 400, {thermo = 0, progress = false, every = 100, observe = {
    function(step, atoms, t)
      seen = seen + 1
      assert(t.volume > 0 and #t.lengths == 3 and #t.angles == 3)
    end}})
  assert(seen == 4)
  assert(th.volume > v0, "tension expands the crystal: " .. th.volume .. " vs " .. v0)
  assert(math.abs(th.lengths[1] - th.lengths[2]) < 1e-9 * th.lengths[1], "iso keeps the shape")
  assert(math.abs(th.angles[3] - 90) < 1e-9)
  assert(math.abs(th.lengths[1] * th.lengths[2] * th.lengths[3] - th.volume) < 1e-6 * th.volume)
end)

test("npt: full mode and stress table; errors", function()
  local a, pot = argon(), lj()
  local md = kiln.md.npt{dt = 5, T = 30, stress = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
                         tau_p = 300, compressibility = 0.4, damping = 100}
  local th = md:run(a, pot, 100, {thermo = 0, progress = false})
  assert(th.angles[1] ~= 90 or th.angles[2] ~= 90 or th.angles[3] ~= 90)
  local ok, msg = pcall(kiln.md.npt, {dt = 5, T = 30, tau_p = 100, tau = 100})
  assert(not ok and msg:find("missing the target"), msg)
  ok, msg = pcall(kiln.md.npt, {dt = 5, T = 30, P = 0, tau_p = 100, tau = 100, mode = "xyz"})
  assert(not ok and msg:find("unknown mode"), msg)
end)
