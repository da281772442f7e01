-- kiln.md.pimd through Lua: the harmonic (spring) fcc crystal against the exact quantum
-- energy from its phonon frequencies (kiln.phonons), estimator agreement, P = 1 against
-- kiln.md.langevin bit for bit, centroid and bead observers, checkpoint/resume, errors.
local kiln = require "kiln"

local HBAR, KB = 0.6582119569, 8.617333262e-5
local short = os.getenv("KILN_SHORT") == "1"
local function asinh(x) return math.log(x + math.sqrt(x * x + 1)) end

-- fcc nearest-neighbour springs at rest length: harmonic up to (u/r0)^2 ~ 1e-4
local function crystal()
  local a = kiln.crystal.fcc{symbol = "Ar", a = 4.0}:supercell(2, 2, 2)
  a:set_masses(100.0)
  local pot = kiln.potential.harmonic{k = 10.0, r0 = 4.0 / math.sqrt(2), cutoff = 3.4}
  return a, pot
end

local quiet = {thermo = 0, progress = false}

test("harmonic crystal: PIMD energy within 1 % of the exact quantum result", function()
  local a, pot = crystal()
  local ph = kiln.phonons{atoms = a, potential = pot, supercell = {1, 1, 1}}
  local f = ph:frequencies({{0, 0, 0}}, {frac = true})
  local w, w2 = {}, 0
  for j = 1, 3 * #a do
    local nu = f[1][j]
    if nu > 1e-3 then w[#w + 1] = 2 * math.pi * nu * 1e-3; w2 = w2 + w[#w]^2 end
  end
  assert(#w == 3 * #a - 3, "expected 3 zero modes, got " .. 3 * #a - #w)
  local wE = math.sqrt(w2 / #w)
  local kT = HBAR * wE / 5            -- beta hbar w_E = 5
  local T, P = kT / KB, 32
  local exact, classical, exactP = 1.5 * kT, 1.5 * kT, 1.5 * kT   -- 3 free (centre-of-mass) modes
  for _, om in ipairs(w) do
    local x = HBAR * om / kT
    exact = exact + 0.5 * HBAR * om / math.tanh(0.5 * x)
    classical = classical + kT
    local a2 = x / (2 * P)
    exactP = exactP + 0.5 * HBAR * om / math.tanh(P * asinh(a2)) / math.sqrt(1 + a2 * a2)
  end
  local pm = kiln.md.pimd{beads = P, T = T, dt = 2.0, tau = 100, seed = 3}
  pm:run(a, pot, short and 300 or 1000, quiet)
  local n, se, sp, sc, blocks = 0, 0, 0, 0, {}
  local nsamp = short and 200 or 2000
  pm:run(a, pot, nsamp * 4, {thermo = 0, progress = false, every = 4, observe = function(_, _, th)
    n = n + 1
    se, sp, sc = se + th.etot, sp + th.ekin_prim, sc + th.ekin_cv
    local b = (n - 1) * 10 // nsamp + 1
    blocks[b] = (blocks[b] or 0) + th.etot
  end})
  local e = se / n
  local v = 0
  for b = 1, 10 do v = v + (blocks[b] / (nsamp / 10) - e)^2 end
  local err = math.sqrt(v / 90)
  print(string.format("  fcc springs, 32 atoms, beta hbar w_E = 5 (T = %.2f K), P = %d: E = %.5f +- %.5f eV, " ..
    "exact %.5f (%+.2f %%), P-bead exact %.5f, classical %.5f; KE prim %.5f cv %.5f",
    T, P, e, err, exact, 100 * (e / exact - 1), exactP, classical, sp / n, sc / n))
  assert(math.abs(e / exact - 1) < (short and 0.03 or 0.01))
  assert(math.abs(sp - sc) / n < 4 * err + 0.01 * sc / n)
end)

test("P = 1 is kiln.md.langevin bit for bit", function()
  local a, pot = crystal()
  a:set_velocities{T = 50, seed = 4}
  local b = a:copy()
  kiln.md.langevin{dt = 2, T = 50, damping = 70, seed = 9}:run(a, pot, 100, quiet)
  local th = kiln.md.pimd{beads = 1, dt = 2, T = 50, tau = 70, seed = 9}:run(b, pot, 100, quiet)
  local xa, xb = a:positions(), b:positions()
  for i = 1, #a do for c = 1, 3 do assert(xa[i][c] == xb[i][c]) end end
  assert(th.beads == 1 and th.espring == 0)
end)

test("observers: centroid and beads", function()
  local a, pot = crystal()
  local pm = kiln.md.pimd{beads = 4, dt = 2, T = 30, seed = 1}
  local nc, nb, seen = 0, 0, {}
  local sum
  pm:run(a, pot, 10, {thermo = 0, progress = false, observe = {
    {function(step, atoms, th) nc = nc + 1; assert(th.beads == 4) end, every = 2},
    {function(step, atoms, th, j)
      nb = nb + 1; seen[j] = true
      if step == 10 then
        local x = atoms:positions()
        sum = sum or {0, 0, 0}
        for c = 1, 3 do sum[c] = sum[c] + x[1][c] / 4 end
      end
    end, every = 5, beads = true}}})
  assert(nc == 5 and nb == 8 and seen[1] and seen[4])
  local xc = a:positions()
  for c = 1, 3 do assert(math.abs(xc[1][c] - sum[c]) < 1e-12) end
  local b2 = pm:bead(2, a:copy())
  assert(#b2 == #a)
end)

test("checkpoint and resume continue bit for bit", function()
  local file = os.tmpname()
  os.remove(file)
  local a, pot = crystal()
  a:set_velocities{T = 30, seed = 2}
  local b, c = a:copy(), a:copy()
  kiln.md.pimd{beads = 3, dt = 2, T = 30, seed = 5}:run(a, pot, 30, quiet)
  local p2 = kiln.md.pimd{beads = 3, dt = 2, T = 30, seed = 5}
  -- the run stops at step 13 (an observer fails); the checkpoint of step 12 stays
  local ok = pcall(p2.run, p2, b, pot, 30, {thermo = 0, progress = false,
    checkpoint = {file = file, every = 12},
    observe = function(step) if step == 13 then error("stop") end end})
  assert(not ok)
  -- a fresh object finishes the 30-step run from the file
  local p3 = kiln.md.pimd{beads = 3, dt = 2, T = 30, seed = 5}
  p3:run(b, pot, 999, {thermo = 0, progress = false, checkpoint = {file = file, resume = true}})
  assert(p3.step == 30, p3.step)
  local xa, xb = a:positions(), b:positions()
  for i = 1, #a do for k = 1, 3 do assert(xa[i][k] == xb[i][k]) end end
  assert(pcall(function() p2:checkpoint(file) end))
  os.remove(file)
end)

test("NpT PIMD: barostat fields, frozen barostat = NVT, NST with a stress target", function()
  local function argon()
    local a = kiln.crystal.fcc{symbol = "Ar", a = 5.30}:supercell(2, 2, 2)
    a:set_velocities{T = 25, seed = 3}
    return a, kiln.potential.lj{epsilon = 0.0104, sigma = 3.40, cutoff = 7.5, shift = true}
  end
  local a, lj = argon()
  local b = a:copy()
  local pm = kiln.md.pimd{beads = 2, T = 25, dt = 5, seed = 2, P = 0.0, tau_p = 1e30,
                          compressibility = 0.4}
  assert(pm.barostat == "scr" and pm.mode == "iso" and pm.tau_p == 1e30 and pm.P == 0)
  local th = pm:run(a, lj, 40, quiet)
  kiln.md.pimd{beads = 2, T = 25, dt = 5, seed = 2}:run(b, lj, 40, quiet)
  local xa, xb = a:positions(), b:positions()
  for i = 1, #a do for c = 1, 3 do assert(xa[i][c] == xb[i][c]) end end
  assert(#th.lengths == 3 and math.abs(th.angles[3] - 90) < 1e-9)
  -- fully flexible cell under a uniaxial tension: the cell moves, angles stay near 90
  local c = argon()
  local v0 = c:volume()
  local nst = kiln.md.pimd{beads = 2, T = 25, dt = 5, seed = 4, mode = "full", tau_p = 200,
                           compressibility = 0.4, stress = {{0.1, 0, 0}, {0, 0, 0}, {0, 0, 0}}}
  local t0 = nst:run(c, lj, 1, quiet)
  local t1 = nst:run(c, lj, 200, quiet)
  print(string.format("  NST PIMD 200 steps: V %.1f -> %.1f A^3, lengths %.3f %.3f %.3f, " ..
    "conserved %.6f -> %.6f eV", v0, t1.volume, t1.lengths[1], t1.lengths[2], t1.lengths[3],
    t0.conserved, t1.conserved))
  assert(t1.volume ~= v0 and nst.mode == "full")
  assert(t1.lengths[1] > (t1.lengths[2] + t1.lengths[3]) / 2)  -- stretched along x
  assert(math.abs(t1.conserved - t0.conserved) < 2e-3)
end)

test("errors", function()
  local ok, msg = pcall(kiln.md.pimd, {beads = 0, T = 10, dt = 1})
  assert(not ok and msg:find("beads must be"), msg)
  ok, msg = pcall(kiln.md.pimd, {beads = 2, T = 10, dt = 1, thermostat = "andersen"})
  assert(not ok and msg:find("unknown thermostat"), msg)
  ok, msg = pcall(kiln.md.pimd, {beads = 2, T = 10, dt = 1, damping = 3})
  assert(not ok and msg:find("damping"), msg)
  ok, msg = pcall(kiln.md.pimd, {beads = 2, T = 10, dt = 1, tau_p = 100})
  assert(not ok and msg:find("no target was given"), msg)
  ok, msg = pcall(kiln.md.pimd, {beads = 2, T = 10, dt = 1, P = 0, tau_p = 100, mode = "diag"})
  assert(not ok and msg:find("unknown mode 'diag'"), msg)
  ok, msg = pcall(kiln.md.pimd, {beads = 2, T = 10, dt = 1, P = 0})
  assert(not ok and msg:find("tau_p"), msg)
end)
