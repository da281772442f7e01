-- kiln.replica: temperature replica exchange (parallel tempering) in one process
-- (see doc/metad.md). Each replica has its own atoms and Langevin integrator; every
-- `every` steps neighbouring temperatures attempt an exchange with the Metropolis
-- criterion min(1, exp((1/kT_i - 1/kT_j)(E_i - E_j))); on acceptance the configurations
-- swap and velocities are rescaled by sqrt(T_new/T_old). MPI is not available in this
-- build: replicas run one after the other in this process.
local cunits = require "kiln.c.units"
local argcheck = require "kiln.argcheck"
argcheck.internal()

local M = {}
local fail, check_keys = argcheck.fail, argcheck.check_keys

M.__help = [[
kiln.replica: temperature replica exchange in one process (doc/metad.md).
  local re = kiln.replica.new{atoms=a, potential=pot, T={300, 400, 550, 750}, dt=1,
                              damping=100, seed=1}
  re:run(nexchanges, {every=100, observe=function(re, sweep) ... end})
  re.replicas[k] = {T=, atoms=, md=} (sorted by T; atoms swap between them)
  re:acceptance() -> list of rates for the pairs (k, k+1)
MPI is not available here: replicas run sequentially.]]

function M.new(o)
  local fname = "kiln.replica.new"
  o = check_keys(fname, o, {"atoms", "potential", "T", "dt", "damping", "seed"})
  local kiln = require "kiln"
  if type(o.T) ~= "table" or #o.T < 2 then fail(fname, "T: a list of at least 2 temperatures (K)") end
  if not o.atoms or not o.potential then fail(fname, "atoms= and potential= are required") end
  local Ts = {}
  for i, t in ipairs(o.T) do Ts[i] = t end
  table.sort(Ts)
  local seed = o.seed or 1
  local self = setmetatable({potential = o.potential, replicas = {}, accepted = {}, attempted = {},
                             rng = kiln.Rng(seed, 1000), sweeps = 0}, M)
  for k, T in ipairs(Ts) do
    local a = o.atoms:copy()
    a:set_velocities{T = T, seed = seed + k}
    self.replicas[k] = {T = T, atoms = a,
                        md = kiln.md.langevin{dt = o.dt or 1, T = T, damping = o.damping or 100,
                                              seed = seed + 100 * k}}
  end
  for k = 1, #Ts - 1 do self.accepted[k], self.attempted[k] = 0, 0 end
  return self
end
M.__index = M
M.__name = "kiln.ReplicaExchange"

local function scale_velocities(a, f)
  local v = a:velocities()
  for i = 1, #a do for c = 1, 3 do v:set(i, c, v:get(i, c) * f) end end
end

function M:run(nex, o)
  o = check_keys("replica:run", o, {"every", "observe"})
  local every = o.every or 100
  local kB = cunits.kB
  local R = self.replicas
  for _ = 1, nex do
    for k = 1, #R do R[k].md:run(R[k].atoms, self.potential, every, {thermo = 0, progress = false}) end
    local E = {}
    for k = 1, #R do E[k] = self.potential:energy(R[k].atoms) end
    self.sweeps = self.sweeps + 1
    for k = (self.sweeps % 2 == 1) and 1 or 2, #R - 1, 2 do
      local bi, bj = 1 / (kB * R[k].T), 1 / (kB * R[k + 1].T)
      local d = (bi - bj) * (E[k] - E[k + 1])
      self.attempted[k] = self.attempted[k] + 1
      if d >= 0 or self.rng:uniform() < math.exp(d) then
        self.accepted[k] = self.accepted[k] + 1
        R[k].atoms, R[k + 1].atoms = R[k + 1].atoms, R[k].atoms
        scale_velocities(R[k].atoms, math.sqrt(R[k].T / R[k + 1].T))
        scale_velocities(R[k + 1].atoms, math.sqrt(R[k + 1].T / R[k].T))
        E[k], E[k + 1] = E[k + 1], E[k]
      end
    end
    if o.observe then o.observe(self, self.sweeps) end
  end
  return self
end

function M:acceptance()
  local r = {}
  for k = 1, #self.replicas - 1 do
    r[k] = self.attempted[k] > 0 and self.accepted[k] / self.attempted[k] or 0
  end
  return r
end

return M
