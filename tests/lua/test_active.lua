-- kiln.active: the active-learning loop on an 8-atom Si cell with the Stillinger–Weber
-- oracle and a committee of 4 SNAP models (2J = 4): two iterations, the committee
-- disagreement falls; the checkpoint resumes without paying the oracle again (also after
-- a crash in the middle of an iteration); the data set file; argument errors.
local kiln = require "kiln"
local active = kiln.active

local SW = "/usr/share/lammps/potentials/Si.sw"
local sw = kiln.potential.sw{file = SW}
local base = kiln.crystal.diamond{symbol = "Si", a = 5.431}

local function fit(ds) return kiln.train.snap{data = ds, twojmax = 4, lambda = 1e-6, metrics = false} end

local function tmpdir()
  local d = tmpname("_al")
  os.execute("rm -rf '" .. d .. "'")
  return d
end
local function rmdir(d) os.execute("rm -rf '" .. d .. "'") end

local validation
local function val()
  if not validation then
    local frames = {}
    for i = 1, 6 do frames[i] = base:copy():rattle{sigma = 0.1, seed = 100 + i} end
    validation = kiln.oracle.potential(sw):label(frames)
  end
  return validation
end

local function settings(dir, oracle, iterations)
  return {oracle = oracle, initial = {atoms = base, n = 4, rattle = 0.05}, fit = fit, k = 4,
          explore = {T = {300, 600, 900}, steps = 200, every = 10},
          select = {threshold = 0.05, max = 4}, iterations = iterations, validation = val(),
          dir = dir, verbose = false, plot = false}
end

test("two iterations with the SW oracle: disagreement falls, data grows, files written", function()
  local dir = tmpdir()
  local o = kiln.oracle.potential(sw)
  local rep = active.run(settings(dir, o, 2))
  local it = rep.iterations
  assert(#it == 2, #it)
  assert(it[1].n_train == 4 and it[1].n_explored == 60, it[1].n_explored)
  assert(it[1].n_selected == 4 and it[1].n_candidates > 4)
  assert(it[2].n_train == 8)
  -- measured: mean 0.061 -> 0.031 eV/Å, max 0.19 -> 0.14 eV/Å
  assert(it[2].disagreement.mean < 0.8 * it[1].disagreement.mean,
         it[1].disagreement.mean .. " -> " .. it[2].disagreement.mean)
  assert(it[2].disagreement.max < it[1].disagreement.max)
  -- the selected snapshots are above the threshold, the histogram counts every snapshot
  for _, d in ipairs(it[1].selected_disagreement) do assert(d > 0.05) end
  local n = 0
  for _, c in ipairs(it[1].disagreement.hist.counts) do n = n + c end
  assert(n == 60)
  -- validation errors exist and are sane for SNAP 2J=4 on SW (measured ~0.12 eV/Å)
  assert(it[2].rmse.force > 0.01 and it[2].rmse.force < 0.5, it[2].rmse.force)
  assert(rep.final.n_train == 4 + it[1].n_selected + it[2].n_selected)
  assert(o.calls == rep.final.n_train, o.calls)
  assert(rep.potential and rep.potential:energy(base:copy()) < 0)
  assert(#rep.committee.members == 4)
  -- checkpoint files: the data set reads back (also with kiln.train.read)
  local ds = active.read_dataset(dir .. "/dataset.xyz")
  assert(#ds == rep.final.n_train)
  local ref = sw:compute(ds[5].atoms:copy())
  close(ds[5].energy, ref.energy, 1e-14)
  close(ds[5].forces:get(3, 2), ref.forces:get(3, 2), 1e-12, 1e-14)
  close(ds[5].virial[1][2], ref.virial[1][2], 1e-12, 1e-14)
  assert(ds[5].group == "al_001" and ds[1].group == "initial")
  local tr = kiln.train.read(dir .. "/dataset.xyz")
  assert(#tr == #ds and tr[5].forces and tr[5].virial)
  assert(io.open(dir .. "/state.lua"))
  rmdir(dir)
end)

test("resume: a rerun continues from the last iteration and never pays the oracle twice", function()
  local dir = tmpdir()
  local o1 = kiln.oracle.potential(sw)
  local r1 = active.run(settings(dir, o1, 1))
  assert(#r1.iterations == 1 and o1.calls == 8)
  -- same dir, same number of iterations: nothing to do, no oracle call
  local o2 = kiln.oracle.potential(sw)
  local r2 = active.run(settings(dir, o2, 1))
  assert(o2.calls == 0 and o2.hits == 0 and #r2.iterations == 1 and r2.resumed == 1)
  -- more iterations: only the new structures are labelled; iteration 1 is kept as it was
  local o3 = kiln.oracle.potential(sw)
  local r3 = active.run(settings(dir, o3, 2))
  assert(#r3.iterations == 2 and o3.calls == r3.iterations[2].n_selected, o3.calls)
  assert(r3.iterations[1].disagreement.mean == r1.iterations[1].disagreement.mean)
  -- a fresh run gives the same second iteration (the loop is deterministic)
  local dir2 = tmpdir()
  local r4 = active.run(settings(dir2, kiln.oracle.potential(sw), 2))
  close(r4.iterations[2].disagreement.mean, r3.iterations[2].disagreement.mean, 1e-9)
  rmdir(dir); rmdir(dir2)
end)

test("crash in the middle of an iteration: the rerun takes the finished labels from the cache", function()
  local dir = tmpdir()
  local budget = 6          -- 4 initial + 2 of the 4 selected in iteration 1, then "crash"
  local function flaky()
    return kiln.oracle.new{kind = "sw_flaky", settings = {file = SW}, evaluate = function(_, a)
      if budget == 0 then error("simulated crash", 0) end
      budget = budget - 1
      local r = sw:compute(a)
      return {energy = r.energy, forces = r.forces, virial = r.virial}
    end}
  end
  local o1 = flaky()
  checkerror("simulated crash", active.run, settings(dir, o1, 1))
  assert(o1.calls == 6)
  budget = 100
  local o2 = flaky()
  local r = active.run(settings(dir, o2, 1))
  assert(#r.iterations == 1 and r.iterations[1].n_selected == 4)
  assert(o2.hits == 2 and o2.calls == 2, o2.hits .. " hits, " .. o2.calls .. " calls")
  rmdir(dir)
end)

test("oracle_errors=\"skip\": structures the oracle fails on are left out", function()
  local dir = tmpdir()
  local n = 0
  local o = kiln.oracle.new{kind = "sw_every_other", settings = {}, evaluate = function(_, a)
    n = n + 1
    if n > 4 and n % 2 == 0 then error("SCF did not converge (simulated)", 0) end
    local r = sw:compute(a)
    return {energy = r.energy, forces = r.forces, virial = r.virial}
  end}
  local s = settings(dir, o, 1)
  checkerror("simulated", active.run, s)
  rmdir(dir)
  n = 0
  s.oracle_errors = "skip"
  local o2 = kiln.oracle.new{kind = "sw_every_other", settings = {}, evaluate = o.evaluate}
  s.oracle = o2
  local r = active.run(s)
  local it = r.iterations[1]
  assert(#it.failed == 2 and it.failed[1]:find("simulated", 1, true), #it.failed)
  assert(r.final.n_train == 4 + it.n_selected - 2)
  checkerror("oracle_errors must be", active.run, {oracle = o, fit = fit, oracle_errors = "ignore"})
  rmdir(dir)
end)

test("errors name the option", function()
  local o = kiln.oracle.potential(sw)
  checkerror("oracle= is required", active.run, {fit = fit})
  checkerror("fit= is required", active.run, {oracle = o})
  checkerror("unknown option 'iteration'", active.run, {oracle = o, fit = fit, iteration = 2})
  checkerror("unknown explore key 'temp'", active.run, {oracle = o, fit = fit, explore = {temp = 3}})
  local empty = tmpdir()
  checkerror("no data", active.run, {oracle = o, fit = fit, dir = empty})
  rmdir(empty)
  -- a directory made with another oracle is not resumed silently
  local dir = tmpdir()
  active.run(settings(dir, kiln.oracle.potential(sw), 1))
  local other = kiln.oracle.potential(sw, {key = "other"})
  checkerror("was made with another oracle", active.run, settings(dir, other, 1))
  rmdir(dir)
end)
