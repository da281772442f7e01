-- kiln.lattice: shells on kiln crystals, energy changes, Kawasaki composition, SGC ideal
-- mixing c = 1/(1+exp(-dmu/kT)), 2-D Ising Binder crossing (reduced: L = 8/16, 2 %; the
-- 1 % check with L = 8/16/32 is tests/c/test_lattice.c), and the statistical-distance fit
-- recovering J1, J2 of a square-lattice alloy within 5 %.
local kiln = require "kiln"
local lat = kiln.lattice

local function square(L)
  local s = {}
  for x = 0, L - 1 do for y = 0, L - 1 do s[#s + 1] = {x, y} end end
  return s
end

local function ising(L)
  return lat.model{sites = square(L), cell = {{L, 0}, {0, L}}, species = {"up", "down"},
                   pairs = {{shell = 1, "up", "up", J = -1}, {shell = 1, "down", "down", J = -1},
                            {shell = 1, "up", "down", J = 1}}}
end

test("shells of an fcc supercell and energy changes", function()
  local a = kiln.crystal.fcc{symbol = "Cu", a = 3.6}:supercell(3, 3, 3)
  local m = lat.model{sites = a, species = {"Cu", "Au", "Vac"}, shells = 2,
                      pairs = {{shell = 1, "Cu", "Au", J = -0.05}, {shell = 2, "Au", "Au", J = 0.02},
                               {shell = 1, "Cu", "Vac", J = 0.1}}}
  local d1, z1 = m:shell(1)
  local d2, z2 = m:shell(2)
  close(d1, 3.6 / math.sqrt(2), 1e-12); assert(z1 == 12 and z2 == 6)
  assert(m:counts()[1] == 108)                       -- symbols "Cu" name species 1
  close(m:energy(), 0, 0, 1e-12)
  m:randomize{composition = {Cu = 0.5, Au = 0.4, Vac = 0.1}, seed = 3}
  local e0 = m:energy()
  local occ = m:occupation()
  local s = occ[5] % 3 + 1
  local d = m:flip_delta(5, s)
  occ[5] = s
  m:set_occupation(occ)
  close(m:energy() - e0, d, 1e-10, 1e-12)
  checkerror("unknown species 'Pt'", function() m:set_pair{shell = 1, "Pt", "Cu", J = 1} end)
end)

test("Kawasaki conserves composition; SGC ideal mixing", function()
  local m = ising(12)
  m:randomize{composition = {up = 0.3, down = 0.7}, seed = 2}
  for _, mv in ipairs{"swap", "swap_local"} do
    local r = m:run{kT = 1.5, sweeps = 50, move = mv, seed = 4}
    assert(r.accepted > 100)
    for s = 1, r.nsamples do assert(r.counts:get(s, 1) == 43) end
  end
  local g = lat.model{sites = square(12), cell = {{12, 0}, {0, 12}}, species = {"A", "B"}}
  for _, dmu in ipairs{-0.8, 0.5} do
    g:set_mu{A = dmu}
    local r = g:run{kT = 0.7, sweeps = 1500, equil = 100}
    close(r:at().c[1], 1 / (1 + math.exp(-dmu / 0.7)), 0, 0.005)
  end
end)

test("2-D Ising T_c from the Binder crossing (reduced: L = 8/16, 2 %)", function()
  local r8 = ising(8):run{kT = 2.27, sweeps = 30000, equil = 200, move = "cluster", seed = 1}
  local r16 = ising(16):run{kT = 2.27, sweeps = 20000, equil = 200, move = "cluster", seed = 2}
  local tc = lat.binder_crossing(r8, r16, {lo = 2.2, hi = 2.34})
  close(tc, 2 / math.log(1 + math.sqrt(2)), 0.02)
  local kc = lat.cv_peak(r16, {lo = 2.15, hi = 2.45})
  assert(kc > 2.2 and kc < 2.45, kc)            -- the L = 16 C_v peak sits above T_c
end)

test("statistical-distance fit recovers J1, J2 within 5 %", function()
  local J1, J2, kT, L = -0.5, 0.3, 1.3, 48
  local function alloy(n, j1, j2, seed)
    return lat.model{sites = square(n), cell = {{n, 0}, {0, n}}, species = {"A", "B"}, shells = 2,
                     pairs = {{shell = 1, "A", "B", J = j1}, {shell = 2, "A", "B", J = j2}},
                     composition = {A = 0.5, B = 0.5}, seed = seed}
  end
  local g = alloy(L, J1, J2, 8)
  g:run{kT = kT, sweeps = 1000, move = "swap", seed = 9}
  local obs, sites = {}, square(L)
  for c = 1, 32 do
    g:run{kT = kT, sweeps = 300, move = "swap", seed = 3100 + c}
    local cfg, sym = {}, g:symbols()
    for i, p in ipairs(sites) do cfg[i] = {p[1], p[2], sym[i]} end
    obs[c] = cfg
  end
  local m = alloy(32, -0.3, 0.0, 3)
  local res = lat.fit{model = m, observed = obs, params = {{shell = 1, "A", "B"}, {shell = 2, "A", "B"}},
                      kT = kT, samples = 600}
  close(res.J[1], J1, 0.05)
  close(res.J[2], J2, 0.05)
  close(m:get_pair(1, "A", "B"), res.J[1], 1e-12)
end)
