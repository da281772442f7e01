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

-- Exact ensemble check: for N free particles the NpT volume distribution is the Gamma
-- law p(V) ~ V^N exp(-P V / kT), so <V> = (N+1) kT/P and var V = (N+1) (kT/P)^2. A wrong
-- Jacobian (V^(N-1) or V^(N+1)) moves <V> by 6 % for N = 16; three seeds give the mean to
-- about 1 % and the variance to about 3 %.
test("npt: ideal gas volume distribution is the exact isothermal-isobaric Gamma law", function()
  local N, T, P = 16, 300, 0.02
  local kT = kiln.units.kB * T
  local kTP = kT / (P / 160.21766208)        -- kT/P in Å^3 (P in eV/Å^3)
  local s1, s2, n = 0, 0, 0
  for seed = 1, 3 do
    local a = kiln.crystal.sc{symbol = "Ar", a = 10.0}:supercell(2, 2, 4)
    a:rattle{sigma = 0.5, seed = seed}
    a:set_velocities{T = T, seed = seed}
    local pot = kiln.potential.lj{epsilon = 0, sigma = 1, cutoff = 1.0}
    local md = kiln.md.npt{dt = 5, T = T, P = P, tau_p = 2000, compressibility = 20,
                           damping = 100, seed = seed}
    md:run(a, pot, 4000, {thermo = 0})
    md:run(a, pot, 400000, {thermo = 0, every = 20, observe = {function(_, at)
      local v = at:volume()
      s1, s2, n = s1 + v, s2 + v * v, n + 1
    end}})
  end
  local m = s1 / n
  local var = s2 / n - m * m
  local m_exact, var_exact = (N + 1) * kTP, (N + 1) * kTP * kTP
  assert(math.abs(m / m_exact - 1) < 0.04, string.format("<V> %.1f vs exact %.1f", m, m_exact))
  assert(math.abs(var / var_exact - 1) < 0.12, string.format("var V %.4g vs exact %.4g", var, var_exact))
end)
