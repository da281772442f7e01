-- tests/lua/test_metad.lua: well-tempered metadynamics on a 1-D double well (free-energy
-- difference vs the exact Boltzmann integral, reweighted populations, restart from the
-- hills file), and temperature replica exchange on the same double well.
local kiln = require "kiln"

local h, c, ky = 0.08, 0.01, 1.0          -- barrier ~3 kT at 300 K, tilt c (eV/Å)
local T = 300
local kT = kiln.units.kB * T
local function U(x) return h * (x * x - 1)^2 + c * x end

-- one particle: double well along x, harmonic in y and z
local function double_well()
  return kiln.cv.external(function(at)
    local x = at:positions()
    local px, py, pz = x:get(1, 1), x:get(1, 2), x:get(1, 3)
    return U(px) + 0.5 * ky * (py * py + pz * pz),
           {{-(4 * h * px * (px * px - 1) + c), -ky * py, -ky * pz}}
  end)
end

local function particle()
  local a = kiln.Atoms{symbols = {"H"}, positions = {{-1, 0, 0}}, pbc = {false, false, false}}
  a:set_velocities{T = T, seed = 1}
  return a
end

local function exact()
  local zl, zr = 0, 0
  for i = -3000, 3000 do
    local x = i * 0.001
    local w = math.exp(-U(x) / kT)
    if x < 0 then zl = zl + w elseif x > 0 then zr = zr + w end
  end
  return -kT * math.log(zr / zl), zl / (zl + zr)
end

local xcv = kiln.cv.lua(function(at) return at:positions():get(1, 1) end, {name = "x"})

local function new_bias(file, restart)
  return kiln.metad.new{cv = xcv, sigma = 0.1, height = 0.005, biasfactor = 6, pace = 100,
                        T = T, grid = {-2.5, 2.5, 500}, file = file, restart = restart}
end

test("metad double well: dF within kT/4, reweighted populations", function()
  local dF, pl = exact()
  local a = particle()
  local b = new_bias()
  local pot = kiln.potential.sum{double_well(), b.potential}
  local md = kiln.md.langevin{dt = 2, T = T, damping = 50, seed = 3}
  md:run(a, pot, 150000, {observe = {b:observer()}, thermo = 0, progress = false})
  assert(b:nhills() == 1500)
  local s, F = b:fes()
  local ql, qr = 0, 0
  for i = 1, #s do
    local w = math.exp(-F[i] / kT)
    if s[i] < 0 then ql = ql + w elseif s[i] > 0 then qr = qr + w end
  end
  local dFm = -kT * math.log(qr / ql)
  print(string.format("  metad dF %.5f eV, exact %.5f eV, error %.3f kT", dFm, dF, (dFm - dF) / kT))
  assert(math.abs(dFm - dF) < kT / 4, "dF error too large")
  local p = kiln.metad.populations(b, function(x) return x < 0 end, {skip = 0.2})
  print(string.format("  reweighted P(left) %.4f, exact %.4f", p, pl))
  close(p, pl, 0, 0.05)
  assert(b:ct() > 0)
  local w = b:weights{skip = 0.2}
  assert(#w == #b.frames and w[1] == 0)
end)

test("metad restart from the hills file continues identically", function()
  local f, f2 = tmpname(".hills"), tmpname(".hills")
  local chk = tmpname(".chk")
  local a = particle()
  local b = new_bias(f)
  local pot = kiln.potential.sum{double_well(), b.potential}
  local md = kiln.md.langevin{dt = 2, T = T, damping = 50, seed = 7}
  md:run(a, pot, 3000, {observe = {b:observer()}, thermo = 0, progress = false})
  md:checkpoint(chk, a)
  b:write(f2)      -- the state at the checkpoint (b keeps writing f as it goes on)
  md:run(a, pot, 3000, {observe = {b:observer()}, thermo = 0, progress = false})
  local xA = a:positions():get(1, 1)

  local a2 = particle()
  local b2 = new_bias(f2, true)
  assert(b2:nhills() == 30, "hills read: " .. b2:nhills())
  local pot2 = kiln.potential.sum{double_well(), b2.potential}
  local md2 = kiln.md.langevin{dt = 2, T = T, damping = 50, seed = 7}
  md2:restore(chk, a2)
  md2:run(a2, pot2, 3000, {observe = {b2:observer()}, thermo = 0, progress = false})
  assert(b2:nhills() == b:nhills())
  assert(a2:positions():get(1, 1) == xA, "restart differs: " .. a2:positions():get(1, 1) .. " vs " .. xA)
  local v1 = b:bias(0.3)
  local v2 = b2:bias(0.3)
  assert(v1 == v2)
end)

test("replica exchange on the double well", function()
  local a = particle()
  local pot = double_well()
  local re = kiln.replica.new{atoms = a, potential = pot, T = {150, 250, 400, 650}, dt = 2,
                              damping = 50, seed = 5}
  local left, right = 0, 0
  re:run(300, {every = 100, observe = function(r)
    local x = r.replicas[1].atoms:positions():get(1, 1)
    if x < 0 then left = left + 1 else right = right + 1 end
  end})
  local acc = re:acceptance()
  print(string.format("  acceptance %.2f %.2f %.2f; lowest T: %d left, %d right", acc[1], acc[2],
                      acc[3], left, right))
  for k = 1, 3 do assert(acc[k] > 0 and acc[k] < 1) end
  assert(left > 0 and right > 0, "lowest replica did not visit both wells")
end)

test("metad argument errors", function()
  checkerror("T (K) is required", kiln.metad.new, {cv = xcv, sigma = 0.1, height = 0.01, grid = {0, 1, 10}})
  checkerror("unknown option", kiln.metad.new, {cv = xcv, bogus = 1})
  checkerror("restart=true needs file", kiln.metad.new, {cv = xcv, sigma = 0.1, height = 0.01,
             grid = {0, 1, 10}, T = 300, restart = true})
end)
