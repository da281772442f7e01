-- tests/lua/test_cv.lua: kiln.cv objects (gradients against finite differences, reference
-- Steinhardt values, perovskite sum rule) and the external potential from Lua.
local kiln = require "kiln"

local function fd_max(cv, a, h)
  local _, g = cv:gradient(a)
  local x = a:positions()
  local worst = 0
  for i = 1, #a do
    for k = 1, 3 do
      local x0 = x:get(i, k)
      x:set(i, k, x0 + h); local sp = cv:value(a)
      x:set(i, k, x0 - h); local sm = cv:value(a)
      x:set(i, k, x0)
      worst = math.max(worst, math.abs((sp - sm) / (2 * h) - g:get(i, k)))
    end
  end
  return worst
end

test("C CV gradients match finite differences", function()
  local a = kiln.crystal.fcc{symbol = "Cu", a = 3.6}:supercell(2, 2, 2)
  a:rattle{sigma = 0.15, seed = 4}
  assert(fd_max(kiln.cv.distance(1, 5), a, 1e-5) < 1e-8)
  assert(fd_max(kiln.cv.angle(2, 1, 3), a, 1e-5) < 1e-8)
  assert(fd_max(kiln.cv.steinhardt{l = 6, rin = 2.9, rcut = 3.4}, a, 1e-5) < 1e-7)
  local lcv = kiln.cv.lua(function(at) return at:distance(1, 5) end)
  assert(fd_max(lcv, a, 1e-5) < 1e-6)
  local s, g, gh = kiln.cv.cell("volume"):gradient(a)
  close(s, a:volume(), 1e-12)
  assert(g:max_abs() == 0 and math.abs(gh[1][1] - 7.2 * 7.2) < 1e-9)
end)

test("Steinhardt reference values", function()
  local f = kiln.crystal.fcc{symbol = "Cu", a = 3.6}:supercell(3, 3, 3)
  close(kiln.cv.steinhardt{l = 6, rin = 2.9, rcut = 3.3}:value(f), 0.57452, 0, 5e-5)
  close(kiln.cv.steinhardt{l = 4, rin = 2.9, rcut = 3.3}:value(f), 0.19094, 0, 5e-5)
  local b = kiln.crystal.bcc{symbol = "Fe", a = 3.2}:supercell(4, 4, 4)
  local q6 = kiln.cv.steinhardt{l = 6, rin = 3.6, rcut = 4.2}
  close(q6:value(b), 0.51069, 0, 5e-5)
  close(kiln.cv.steinhardt{l = 4, rin = 3.6, rcut = 4.2}:value(b), 0.03637, 0, 5e-5)
  close(q6:peratom(b):get(7, 1), 0.51069, 0, 5e-5)
end)

test("perovskite cell dipoles sum to the total dipole", function()
  local p = kiln.crystal.perovskite{A = "Ba", B = "Ti", X = "O", a = 4.0}:supercell(2, 2, 2)
  local ref = p:positions_copy()
  local q = {Ba = 2, Ti = 4, O = -2}
  local cvz = kiln.cv.perovskite{atoms = p, kind = "dipole", charges = q, component = 3}
  local off = kiln.cv.perovskite{atoms = p, kind = "offcenter", component = 1}
  assert(cvz.ncell == 8 and math.abs(cvz:value(p)) < 1e-12 and math.abs(off:value(p)) < 1e-12)
  p:rattle{sigma = 0.1, seed = 9}
  local x = p:positions()
  local M = 0
  for i = 1, #p do M = M + q[p:get_symbol(i)] * (x:get(i, 3) - ref:get(i, 3)) end
  close(cvz:cells(p):sum(3), M, 1e-12, 1e-12)
  assert(fd_max(cvz, p, 1e-4) < 1e-9 and fd_max(off, p, 1e-4) < 1e-9)
end)

test("external potential: forces and errors", function()
  local pot = kiln.cv.external(function(at, wf)
    local x = at:positions()
    local e, f = 0, {}
    for i = 1, #at do
      local r = x:get(i, 1)
      e = e + r ^ 4
      f[i] = {-4 * r ^ 3, 0, 0}
    end
    return e, f
  end)
  assert(pot.style == "external")
  local a = kiln.Atoms{symbols = {"H", "H"}, positions = {{0.5, 0, 0}, {-0.3, 0.1, 0}}, pbc = false}
  local r = pot:compute(a)
  close(r.energy, 0.5 ^ 4 + 0.3 ^ 4, 1e-14)
  close(r.forces:get(1, 1), -0.5, 1e-14)
  close(r.virial[1][1], 0.5 * -0.5 + -0.3 * (4 * 0.027), 1e-12)
  local bad = kiln.cv.external(function() return "x" end)
  checkerror("must return the energy", bad.energy, bad, a)
  local nof = kiln.cv.external(function() return 1 end)
  checkerror("forces (n x 3) were asked for", nof.compute, nof, a)
  local boom = kiln.cv.external(function() error("boom here") end)
  checkerror("boom here", boom.energy, boom, a)
  checkerror("unknown option", kiln.cv.steinhardt, {l = 6, rcut = 3, bogus = 1})
end)
