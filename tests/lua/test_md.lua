-- kiln.md through Lua: observers, thermo, errors and interrupts, checkpoints.
local kiln = require "kiln"
local core = require "kiln.c.core"

local SW = "/usr/share/lammps/potentials/Si.sw"

local function silicon(seed)
  local si = kiln.crystal.diamond{symbol = "Si", a = 5.431}:supercell(2, 2, 2)
  si:rattle{sigma = 0.02, seed = 3}
  si:set_velocities{T = 600, seed = seed or 1}
  return si
end

local quiet = {thermo = 0, progress = false}
local function opts(t)
  local o = {thermo = 0, progress = false}
  for k, v in pairs(t or {}) do o[k] = v end
  return o
end

test("NVE energy conservation", function()
  local si, sw = silicon(), kiln.potential.sw{file = SW}
  local md = kiln.md.verlet{dt = 1.0}
  local e = {}
  md:run(si, sw, 200, opts{every = 10, observe = {function(_, _, th) e[#e + 1] = th.etot end}})
  assert(#e == 20)
  local emax, emin = -math.huge, math.huge
  for _, v in ipairs(e) do emax, emin = math.max(emax, v), math.min(emin, v) end
  -- SW Si at 600 K, 1 fs: fluctuations of the total energy well below 1 meV/atom
  assert((emax - emin) / #si < 1e-4, "spread " .. (emax - emin) / #si)
end)

test("observers: counts, arguments, thermo fields", function()
  local si, sw = silicon(), kiln.potential.sw{file = SW}
  local md = kiln.md.langevin{dt = 0.5, T = 300, damping = 50, seed = 4}
  local steps, every25, last = {}, 0, nil
  local th = md:run(si, sw, 100, opts{every = 10, observe = {
    function(step, atoms, thermo)
      steps[#steps + 1] = step
      assert(rawequal(atoms, si))
      last = thermo
    end,
    {fn = function() every25 = every25 + 1 end, every = 25},
  }})
  assert(#steps == 10 and steps[1] == 10 and steps[10] == 100)
  assert(every25 == 4)
  for _, k in ipairs{"step", "time", "T", "epot", "ekin", "etot", "pressure", "volume", "conserved"} do
    assert(type(last[k]) == "number", k)
  end
  assert(last.step == 100 and math.type(last.step) == "integer")
  close(last.time, 50.0, 1e-12)
  close(last.etot, last.epot + last.ekin, 1e-12)
  close(last.volume, si:volume(), 1e-12)
  close(last.T, si:temperature(), 1e-12)
  close(last.ekin, si:kinetic_energy(), 1e-12)
  -- the run returns the final thermo; md:thermo() gives the same
  assert(th.step == 100 and md:thermo().step == 100 and md.step == 100)
  close(md:thermo().epot, th.epot, 1e-14)
  close(md.time, 50, 1e-12)
  -- a single observer function may be given directly
  local n = 0
  md:run(si, sw, 6, opts{every = 2, observe = function() n = n + 1 end})
  assert(n == 3 and md.step == 106)
  -- zero steps is fine
  md:run(si, sw, 0, quiet)
  assert(md.step == 106)
end)

test("observer errors propagate and the state stays valid", function()
  local si, sw = silicon(), kiln.potential.sw{file = SW}
  local md = kiln.md.verlet{dt = 1.0}
  local msg = checkerror("boom at 30", md.run, md, si, sw, 100,
                         opts{observe = {function(step) if step == 30 then error("boom at " .. step) end end}})
  assert(md.step == 30)
  -- table error values come through unchanged
  local ok, e = pcall(md.run, md, si, sw, 5, opts{observe = {function() error({code = 7}) end}})
  assert(not ok and type(e) == "table" and e.code == 7)
  assert(md.step == 31)
  -- continue
  md:run(si, sw, 9, quiet)
  assert(md.step == 40)
  -- closing objects the run uses is refused
  checkerror("cannot close a kiln.Atoms while it is in use", md.run, md, si, sw, 3,
             opts{observe = {function(_, a) a:close() end}})
  checkerror("cannot close a kiln.Potential while it is in use", md.run, md, si, sw, 3,
             opts{observe = {function() sw:close() end}})
  assert(#si == 64 and sw.cutoff > 3)
  checkerror("this integrator is already running", md.run, md, si, sw, 3,
             opts{observe = {function() md:run(si, sw, 1, quiet) end}})
end)

test("interrupt", function()
  local si, sw = silicon(), kiln.potential.sw{file = SW}
  local md = kiln.md.verlet{dt = 1.0}
  checkerror("interrupted! (after step 20 of 100)", md.run, md, si, sw, 100,
             opts{observe = {function(step) if step == 20 then core.set_interrupted(true) end end}})
  assert(md.step == 20)
  md:run(si, sw, 80, quiet)   -- the flag was cleared; continue
  assert(md.step == 100)
end)

local function maxdiff(a, b)
  local m = 0
  for i = 1, #a do for d = 1, 3 do m = math.max(m, math.abs(a[i][d] - b[i][d])) end end
  return m
end

test("checkpoint and restore are bit for bit", function()
  local sw = kiln.potential.sw{file = SW}
  local si = silicon()
  local md = kiln.md.langevin{dt = 1.0, T = 500, damping = 100, seed = 9}
  md:run(si, sw, 30, quiet)
  local chk = tmpname(".chk")
  md:checkpoint(chk)           -- atoms of the last run
  md:run(si, sw, 20, quiet)
  local x1, v1 = si:positions_copy(), si:velocities():copy()

  local other = kiln.crystal.diamond{symbol = "Si", a = 5.431}:supercell(2, 2, 2)
  local md2 = kiln.md.langevin{dt = 1.0, T = 500, damping = 100, seed = 9}
  md2:restore(chk, other)
  assert(md2.step == 30)
  md2:run(other, sw, 20, quiet)
  assert(maxdiff(x1, other:positions()) == 0 and maxdiff(v1, other:velocities()) == 0)
  assert(md2.step == 50)
  checkerror("md:checkpoint", md2.checkpoint, md2, "tests/out/no/such/dir/x.chk")
  local fresh = kiln.md.verlet{dt = 1}
  checkerror("no atoms given and no previous run", fresh.checkpoint, fresh, chk)
end)

test("interrupted run resumes from its checkpoint", function()
  local sw = kiln.potential.sw{file = SW}
  local function integrator() return kiln.md.csvr{dt = 1.0, T = 400, tau = 50, seed = 5} end
  -- reference: 40 uninterrupted steps without any checkpoint (a resume rebuilds the
  -- neighbor list from the positions of its last build, so the schedule does not matter)
  local ref = silicon()
  integrator():run(ref, sw, 40, opts{})
  -- the same run, interrupted at step 25
  local chk = tmpname(".chk")
  local a = silicon()
  local md = integrator()
  checkerror("interrupted! (after step 25 of 40)", md.run, md, a, sw, 40, opts{
    checkpoint = {file = chk, every = 5},
    observe = {function(step) if step == 25 then core.set_interrupted(true) end end}})
  -- a new process would start from scratch and resume
  local b = silicon()
  local md2 = integrator()
  md2:run(b, sw, 40, opts{checkpoint = {file = chk, every = 5, resume = true}})
  assert(md2.step == 40)
  assert(maxdiff(ref:positions(), b:positions()) == 0, maxdiff(ref:positions(), b:positions()))
  assert(maxdiff(ref:velocities(), b:velocities()) == 0)
end)

test("interrupted run with a composite potential (buck + coul/ewald, own neighbor list) resumes bit for bit", function()
  local function pot()
    local buck = kiln.potential.buck{cutoff = 7, pairs = {
      {"Sr", "O", A = 1769.51, rho = 0.319894, C = 0}, {"Ti", "O", A = 14567.40, rho = 0.197584, C = 0},
      {"O", "O", A = 6249.17, rho = 0.231472, C = 0}, {"Sr", "Sr", A = 0, rho = 1, C = 0},
      {"Sr", "Ti", A = 0, rho = 1, C = 0}, {"Ti", "Ti", A = 0, rho = 1, C = 0}}}
    local coul = kiln.potential["coul/ewald"]{cutoff = 7, accuracy = 1e-5,
                                              charges = {Sr = 1.84, Ti = 2.36, O = -1.40}}
    return kiln.potential.sum{buck, coul}
  end
  local function sto()
    local a = kiln.crystal.perovskite{A = "Sr", B = "Ti", X = "O", a = 3.9051}:supercell(2, 2, 2)
    a:set_velocities{T = 600, seed = 3}
    return a
  end
  local function integrator() return kiln.md.csvr{dt = 2.0, T = 600, tau = 50, seed = 5} end
  -- the reference writes the same checkpoints: every checkpoint makes the potential's own
  -- lists rebuild (kiln_pot_invalidate), which a resume reproduces
  local ref = sto()
  integrator():run(ref, pot(), 40, opts{checkpoint = {file = tmpname(".chk"), every = 5}})
  local chk = tmpname(".chk")
  local a, md = sto(), integrator()
  checkerror("interrupted! (after step 25 of 40)", md.run, md, a, pot(), 40, opts{
    checkpoint = {file = chk, every = 5},
    observe = {function(step) if step == 25 then core.set_interrupted(true) end end}})
  local b, md2 = sto(), integrator()
  md2:run(b, pot(), 40, opts{checkpoint = {file = chk, every = 5, resume = true}})
  assert(maxdiff(ref:positions(), b:positions()) == 0, maxdiff(ref:positions(), b:positions()))
  assert(maxdiff(ref:velocities(), b:velocities()) == 0)
end)

test("trajectory observer", function()
  local file = tmpname(".h5")
  local traj = kiln.io.trajectory(file, "w")
  local si, sw = silicon(), kiln.potential.sw{file = SW}
  local md = kiln.md.verlet{dt = 2.0}
  local x10
  md:run(si, sw, 20, opts{every = 5, observe = {traj, function(step, a)
    if step == 10 then x10 = a:positions_copy() end
  end}})
  assert(#traj == 4)
  checkerror("cannot close a kiln.Trajectory while it is in use", md.run, md, si, sw, 5,
             opts{every = 5, observe = {traj, function() traj:close() end}})
  traj:close()
  local t <close> = kiln.io.trajectory(file, "r")
  assert(#t == 5)
  local a, step, time = t:read(2)
  assert(step == 10)
  close(time, 20.0, 1e-12)
  assert(maxdiff(a:positions(), x10) < 1e-12)
  local f = a:forces()
  assert(f:max_abs() > 0, "forces were stored")
  checkerror("closed kiln.Trajectory as an observer", function()
    local tt = kiln.io.trajectory(tmpname(".h5"), "w")
    tt:close()
    md:run(si, sw, 1, opts{observe = {tt}})
  end)
end)

test("run option errors", function()
  local si, sw = silicon(), kiln.potential.sw{file = SW}
  local md = kiln.md.verlet{dt = 1.0}
  checkerror("md:run: unknown option 'evry'", md.run, md, si, sw, 10, opts{evry = 3})
  checkerror("md:run: observer 1: function or kiln.Trajectory expected, got number", md.run, md,
             si, sw, 10, opts{observe = {3}})
  checkerror("got kiln.Atoms", md.run, md, si, sw, 10, opts{observe = {si}})
  checkerror("every must be >= 1", md.run, md, si, sw, 10, opts{every = 0})
  checkerror("non-negative number of steps", md.run, md, si, sw, -1)
  checkerror("kiln.Potential expected", md.run, md, si, si, 10)
  checkerror("md:run checkpoint: unknown option 'evry'", md.run, md, si, sw, 1,
             opts{checkpoint = {file = "x", evry = 1}})
  checkerror("md langevin: missing option 'T'", kiln.md.langevin, {dt = 1, damping = 10})
  checkerror("md verlet: unknown option 'damping'", kiln.md.verlet, {dt = 1, damping = 10})
  checkerror("unknown md style 'verlett'", function() return kiln.md.verlett end)
end)

test("styles, fields, tostring", function()
  local names = {}
  for _, rec in ipairs(kiln.md.styles()) do names[rec.name] = rec end
  assert(names.verlet and names.langevin and names.csvr and names.nosehoover)
  assert(names.langevin.options:find("damping", 1, true))
  assert(kiln.md.langevin.__help:find("damping", 1, true))
  local md = kiln.md.langevin{dt = 1.0, T = 300, damping = 100, seed = 1}
  assert(md.dt == 1.0 and md.T == 300 and md.seed == 1 and md.style == "langevin" and md.step == 0)
  assert(tostring(md) == "kiln.Integrator(langevin, dt=1 fs, T=300 K, step=0, time=0 fs)",
         tostring(md))
  md:close()
  assert(tostring(md) == "kiln.Integrator (closed)")
  checkerror("attempt to use a closed kiln.Integrator", md.thermo, md)
end)
