-- kiln.metad: well-tempered metadynamics on one or two collective variables, with
-- reweighting (see doc/metad.md). The bias is a kiln.Potential of style "external"
-- (bias.potential) to add to the physical potential with kiln.potential.sum; hills
-- are deposited by an md:run observer (bias:observer(), every `pace` steps).
-- Units: eV, K, fs; CV units as the CV.
local ccv = require "kiln.c.cv"
local cunits = require "kiln.c.units"
local cv = require "kiln.cv"
local argcheck = require "kiln.argcheck"
argcheck.internal()

local M = {}
local fail, check_keys = argcheck.fail, argcheck.check_keys
local exp, log = math.exp, math.log

M.__help = [[
kiln.metad: well-tempered metadynamics (doc/metad.md).
  local b = kiln.metad.new{cv=kiln.cv.distance(1, 2) (or {cv1, cv2}), sigma=0.1 (or {s1, s2}),
      height=0.01 (eV), biasfactor=10 (0: plain metadynamics), pace=100 (steps), T=300 (K),
      grid={min, max, n} (or {{min, max, n}, {min, max, n}}), file="hills.txt", restart=false,
      flush=10 (hills between file writes)}
  pot = kiln.potential.sum{phys, b.potential}
  md:run(atoms, pot, nsteps, {observe={b:observer()}})   -- deposits hills, records frames
  b:fes() -> s (list; 2 CVs: {s1 list, s2 list}), F (list, eV, min 0; 2 CVs: F[i][j])
  b:bias(s) -> V, {dV/ds}     b:ct() -> c(t) (eV)     b:nhills()   b:write([file])
  b.frames: {step=, time=, s=, bias=, ct=} per deposition (before it)
  b:weights{skip=0.2} -> list of normalised frame weights exp((V - c(t))/kT) (Tiwary–Parrinello)
  kiln.metad.populations(b, function(s) return s < 0 end, {skip=}) -> unbiased fraction]]

local function grid1(fname, g)
  if type(g) ~= "table" or type(g[1]) ~= "number" or type(g[2]) ~= "number" or type(g[3]) ~= "number" then
    fail(fname, "grid must be {min, max, n} (per CV)")
  end
  return g[1], g[2], g[3]
end

function M.new(o)
  local fname = "kiln.metad.new"
  o = check_keys(fname, o, {"cv", "sigma", "height", "biasfactor", "pace", "grid", "T", "file",
                            "restart", "flush"})
  local cvs = o.cv
  if cv.is_cv(cvs) then cvs = {cvs} end
  if type(cvs) ~= "table" or #cvs < 1 or #cvs > 2 then fail(fname, "cv must be one kiln.cv object or a list of two") end
  for k, c in ipairs(cvs) do if not cv.is_cv(c) then fail(fname, "cv " .. k .. " is not a kiln.cv object") end end
  local n = #cvs
  if type(o.T) ~= "number" or o.T <= 0 then fail(fname, "T (K) is required") end
  if type(o.height) ~= "number" or o.height <= 0 then fail(fname, "height (eV) > 0 is required") end
  local sigma = type(o.sigma) == "number" and {o.sigma} or o.sigma
  if type(sigma) ~= "table" or #sigma ~= n then fail(fname, "sigma: one width per CV") end
  local grid = o.grid
  if not grid then fail(fname, "grid={min, max, n} is required") end
  if n == 1 and type(grid[1]) == "number" then grid = {grid} end
  if #grid ~= n then fail(fname, "grid: one {min, max, n} per CV") end
  local mins, maxs, ns = {}, {}, {}
  for k = 1, n do mins[k], maxs[k], ns[k] = grid1(fname, grid[k]) end
  local kT = cunits.kB * o.T
  local gamma = o.biasfactor or 0
  local g = ccv.metad_grid(n, mins, maxs, ns, sigma, o.height, gamma, kT)
  local self = {cvs = cvs, ncv = n, grid = g, kT = kT, T = o.T, biasfactor = gamma,
                pace = o.pace or 500, file = o.file, flush = o.flush or 10, frames = {}}
  if o.restart then
    if not o.file then fail(fname, "restart=true needs file=") end
    g:read(o.file)
  end
  self.potential = cv.bias(cvs, function(s) return g:bias(s) end)
  return setmetatable(self, M)
end
M.__index = M
M.__name = "kiln.Metad"

function M:bias(s) return self.grid:bias(s) end
function M:ct() return self.grid:ct() end
function M:nhills() return self.grid:nhills() end
function M:write(file)
  file = file or self.file
  if not file then fail("metad:write", "no file given") end
  self.grid:write(file)
end

-- Deposit a hill at the CVs of atoms now (time t, fs), recording the frame first.
function M:deposit(atoms, t, step)
  local s = {}
  for k = 1, self.ncv do s[k] = self.cvs[k]:value(atoms) end
  local arg = self.ncv == 1 and s[1] or s
  local V = self.grid:bias(arg)
  self.frames[#self.frames + 1] = {step = step, time = t, s = self.ncv == 1 and s[1] or s,
                                   bias = V, ct = self.grid:ct()}
  self.grid:deposit(arg, t or 0)
  if self.file and self.grid:nhills() % self.flush == 0 then self.grid:write(self.file) end
end

-- An md:run observer entry depositing every `pace` steps.
function M:observer()
  return {fn = function(step, atoms, th) self:deposit(atoms, th.time, step) end, every = self.pace}
end

-- Free-energy surface estimate F(s) = -gamma/(gamma-1) V(s) (plain: -V), minimum 0.
function M:fes()
  local npts, mn, dx = self.grid:grid()
  local V = self.grid:values()
  local f = self.biasfactor > 1 and -self.biasfactor / (self.biasfactor - 1) or -1
  if self.ncv == 1 then
    local s, F, lo = {}, {}, math.huge
    for i = 1, npts[1] do
      s[i] = mn[1] + (i - 1) * dx[1]
      F[i] = f * V:get(i, 1)
      if F[i] < lo then lo = F[i] end
    end
    for i = 1, #F do F[i] = F[i] - lo end
    return s, F
  end
  local s1, s2, F, lo = {}, {}, {}, math.huge
  for i = 1, npts[1] do s1[i] = mn[1] + (i - 1) * dx[1] end
  for j = 1, npts[2] do s2[j] = mn[2] + (j - 1) * dx[2] end
  for i = 1, npts[1] do
    F[i] = {}
    for j = 1, npts[2] do
      F[i][j] = f * V:get(i, j)
      if F[i][j] < lo then lo = F[i][j] end
    end
  end
  for i = 1, npts[1] do for j = 1, npts[2] do F[i][j] = F[i][j] - lo end end
  return {s1, s2}, F
end

-- Tiwary–Parrinello weights of the recorded frames, exp((V(s,t) - c(t))/kT), normalised
-- to sum 1; the first fraction `skip` of the frames gets weight 0 (transient).
function M:weights(o)
  o = check_keys("metad:weights", o, {"skip"})
  local fr = self.frames
  local n0 = math.floor((o.skip or 0) * #fr)
  local w, mx = {}, -math.huge
  for i = 1, #fr do
    local a = (fr[i].bias - fr[i].ct) / self.kT
    w[i] = a
    if i > n0 and a > mx then mx = a end
  end
  local sum = 0
  for i = 1, #fr do
    w[i] = i > n0 and exp(w[i] - mx) or 0
    sum = sum + w[i]
  end
  for i = 1, #fr do w[i] = w[i] / sum end
  return w
end

-- Unbiased probability of the frames where pred(s) is true.
function M.populations(b, pred, o)
  local w = b:weights(o)
  local p = 0
  for i, f in ipairs(b.frames) do if pred(f.s) then p = p + w[i] end end
  return p
end

return M
