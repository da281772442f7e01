-- kiln.instruments: resolution functions and kinematic constraints of neutron
-- spectrometers, and user-defined instruments. Pure Lua; see doc/ins.md.
--
--   instruments.tosca{bank="both"|"backward"|"forward", Ef=, book=false}   indirect, fixed banks
--   instruments.lagrange{setting="Cu(220)"|"Cu(331)"|"Si(311)"|"Si(111)"}   indirect, 10-90°
--   instruments.maps{Ei=, frequency=, package="A"|"B"|"S"}                direct, PyChop model
--   instruments.arcs{Ei=, frequency=, package="ARCS-100-1.5-AST", moderator="v2"}
--   instruments.define{name=, Ei= | Ef=, angles={min, max}, resolution={c0, c1, ...} | f}
--   instruments.get(name[, opts])   by name (case-insensitive); instruments.list()
--
-- Every instrument has inst:sigma(w) inst:fwhm(w) inst:qrange(w) inst:qlines(w)
-- inst:accessible(q, w) inst:broaden(w, s) inst:apply(sqw, q, w).
-- Units: energy transfer ω in meV (ω > 0: neutron energy loss), σ in meV (Gaussian standard
-- deviation), |Q| in Å⁻¹ (= kiln's rad/Å), angles in degrees (scattering angle 2θ).
--
-- Sources of the formulas and numbers (facts only, no code copied): resins (pace-neutrons)
-- instrument data for TOSCA, Lagrange, MAPS, ARCS; Abins (Mantid) for the TOSCA/Lagrange
-- conventions; PyChop (Mantid; T. G. Perring's CHOP) for the Fermi-chopper resolution model.

local carray = require "kiln.c.array"

local M = {}

local PI = math.pi
local SIG2FWHM = 2 * math.sqrt(2 * math.log(2))           -- 2.35482

-- Neutron kinematics from CODATA 2018 (m_n, h exact, e exact): E in meV.
local M_N, H_PLANCK, E_CHARGE = 1.67492749804e-27, 6.62607015e-34, 1.602176634e-19
local HBAR = H_PLANCK / (2 * PI)
local E2V = math.sqrt(2 * E_CHARGE * 1e-3 / M_N)              -- v[m/s] = E2V·√E   (437.3934)
local E2K = 2 * M_N * E_CHARGE * 1e-3 / HBAR ^ 2 * 1e-20       -- k²[Å⁻²] = E2K·E  (0.4825964)
local E2L = (2 * PI) ^ 2 / E2K                                 -- λ²[Å²] = E2L/E   (81.80421)
M.E2K, M.E2V, M.E2L = E2K, E2V, E2L

local argcheck = require "kiln.argcheck"
argcheck.internal()
local fail, is_array, list_of = argcheck.fail, argcheck.is_array, argcheck.list_of

local function qnorms(q, fname)
  if type(q) == "number" then return {math.abs(q)}, true end
  if is_array(q) then
    local r, c = q:shape()
    local out = {}
    for i = 1, r do
      local s = 0
      for j = 1, c do s = s + q:get(i, j) ^ 2 end
      out[i] = math.sqrt(s)
    end
    return out, false
  end
  if type(q) ~= "table" then fail(fname, "q must be a number, a list or n x 3 rows (got " .. type(q) .. ")") end
  local out = {}
  for i = 1, #q do
    local v = q[i]
    if type(v) == "table" then v = math.sqrt(v[1] ^ 2 + (v[2] or 0) ^ 2 + (v[3] or 0) ^ 2) end
    if type(v) ~= "number" then fail(fname, string.format("q[%d] is not a number or a vector", i)) end
    out[i] = math.abs(v)
  end
  return out, false
end

local function matrix_of(m, fname)
  if is_array(m) then
    local r, c = m:shape()
    local rows = {}
    for i = 1, r do
      local row = {}
      for j = 1, c do row[j] = m:get(i, j) end
      rows[i] = row
    end
    return rows, r, c, true
  end
  if type(m) ~= "table" then fail(fname, "S(q, ω) must be a kiln.Array or a table of rows (got " .. type(m) .. ")") end
  local nc = m[1] and #m[1] or 0
  for i = 1, #m do
    if type(m[i]) ~= "table" or #m[i] ~= nc then
      fail(fname, string.format("S(q, ω) row %d is not a row of %d numbers", i, nc))
    end
  end
  return m, #m, nc, false
end

---------------------------------------------------------------- numerics
-- erf(x): Taylor series for |x| < 3, continued fraction for erfc beyond (|error| < 1e-14)
local function erf(x)
  local ax = math.abs(x)
  if ax < 3 then
    local x2, term, sum, n = x * x, x, x, 0
    repeat
      n = n + 1
      term = -term * x2 / n
      local add = term / (2 * n + 1)
      sum = sum + add
    until math.abs(add) < 1e-17 * math.abs(sum) or n > 200
    return 2 / math.sqrt(PI) * sum
  end
  -- erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated bottom-up
  local f = ax
  for k = 60, 1, -1 do f = ax + (k / 2) / f end
  local erfc = math.exp(-ax * ax) / math.sqrt(PI) / f
  return x > 0 and 1 - erfc or erfc - 1
end
M._erf = erf

-- Gauss–Legendre nodes and weights on [-1, 1] (Newton on P_n)
local gl_cache = {}
local function gauss_legendre(n)
  if gl_cache[n] then return gl_cache[n][1], gl_cache[n][2] end
  local x, w = {}, {}
  for i = 1, n do
    local z = math.cos(PI * (i - 0.25) / (n + 0.5))
    local dp
    for _ = 1, 100 do
      local p0, p1 = 1.0, z
      for k = 2, n do p0, p1 = p1, ((2 * k - 1) * z * p1 - (k - 1) * p0) / k end
      dp = n * (z * p1 - p0) / (z * z - 1)
      local dz = p1 / dp
      z = z - dz
      if math.abs(dz) < 1e-15 then break end
    end
    local p0, p1 = 1.0, z
    for k = 2, n do p0, p1 = p1, ((2 * k - 1) * z * p1 - (k - 1) * p0) / k end
    dp = n * (z * p1 - p0) / (z * z - 1)
    x[i], w[i] = z, 2 / ((1 - z * z) * dp * dp)
  end
  gl_cache[n] = {x, w}
  return x, w
end

-- e^{-z} Σ_{k>m} z^k/k! = 1 - e^{-z} Σ_{k<=m} z^k/k!, without cancellation for small z
local function exp_tail(z, m)
  if z > 1 then
    local s, t = 1.0, 1.0
    for k = 1, m do t = t * z / k; s = s + t end
    return 1 - math.exp(-z) * s
  end
  local t = 1.0
  for k = 1, m do t = t * z / k end
  local s, k = 0.0, m
  repeat
    k = k + 1
    t = t * z / k
    s = s + t
  until t <= 1e-17 * s or k > 200
  return math.exp(-z) * s
end

-- Variance of the absorption depth in a He-3 tube, in units of the (inner) radius squared,
-- for a parallel beam uniformly covering the tube; alf = 2·r·Σ (tube diameter in absorption
-- mean free paths). Independent evaluation (depth moments along each chord in closed form,
-- Gauss–Legendre over the chord position) of the quantity that PyChop's tube_mts tabulates
-- as a Chebyshev expansion; agrees with it to ~1e-13 for alf <= 100.
local function tube_depth_variance(alf)
  if not (alf > 0) then return 0.25 end     -- no absorption: <x²> over the unit disc
  local mu = alf / 2                        -- absorption per radius
  local xs, ws = gauss_legendre(64)
  local m0, m1, m2 = 0.0, 0.0, 0.0
  for a = 1, #xs do
    local phi = (xs[a] + 1) * PI / 4        -- chord at height y = sin(phi), phi in [0, π/2]
    local h = math.cos(phi)
    local wy = ws[a] * PI / 4 * h           -- dy = cos(phi) dphi
    local z = 2 * mu * h                    -- chord length in mean free paths
    -- moments of the depth u in [0, 2h] with density mu e^{-mu u}
    local a0 = exp_tail(z, 0)
    local a1 = exp_tail(z, 1) / mu
    local a2 = 2 * exp_tail(z, 2) / (mu * mu)
    -- x = u - h, the depth from the tube axis
    m0 = m0 + wy * a0
    m1 = m1 + wy * (a1 - h * a0)
    m2 = m2 + wy * (a2 - 2 * h * a1 + h * h * a0)
  end
  local mean = m1 / m0
  return m2 / m0 - mean * mean
end
M._tube_depth_variance = tube_depth_variance

-- Least-squares polynomial of degree deg through (x, y), in the variable mapped to [-1, 1]
-- (as numpy's Polynomial.fit); returns an evaluator.
local function polyfit(x, y, deg)
  local lo, hi = math.huge, -math.huge
  for i = 1, #x do lo = math.min(lo, x[i]); hi = math.max(hi, x[i]) end
  local off, scl = (hi + lo) / 2, (hi > lo) and 2 / (hi - lo) or 1
  local n = deg + 1
  local A, rhs = {}, {}
  for r = 1, n do A[r] = {}; rhs[r] = 0; for c = 1, n do A[r][c] = 0 end end
  for i = 1, #x do
    local t, pw = (x[i] - off) * scl, {1}
    for k = 2, n do pw[k] = pw[k - 1] * t end
    for r = 1, n do
      rhs[r] = rhs[r] + pw[r] * y[i]
      for c = 1, n do A[r][c] = A[r][c] + pw[r] * pw[c] end
    end
  end
  for col = 1, n do                          -- Gaussian elimination, partial pivoting
    local piv = col
    for r = col + 1, n do if math.abs(A[r][col]) > math.abs(A[piv][col]) then piv = r end end
    A[col], A[piv], rhs[col], rhs[piv] = A[piv], A[col], rhs[piv], rhs[col]
    for r = col + 1, n do
      local f = A[r][col] / A[col][col]
      for c = col, n do A[r][c] = A[r][c] - f * A[col][c] end
      rhs[r] = rhs[r] - f * rhs[col]
    end
  end
  local coef = {}
  for r = n, 1, -1 do
    local s = rhs[r]
    for c = r + 1, n do s = s - A[r][c] * coef[c] end
    coef[r] = s / A[r][r]
  end
  return function(v)
    local t, s = (v - off) * scl, 0.0
    for k = n, 1, -1 do s = s * t + coef[k] end
    return s
  end, coef
end
M._polyfit = polyfit

---------------------------------------------------------------- instrument objects
local Instrument = {}
Instrument.__index = Instrument
Instrument.__name = "kiln.Instrument"
Instrument.__tostring = function(s)
  return string.format("kiln.Instrument %s (%s geometry, %s)", s.name, s.geometry,
                       s.Ei and string.format("Ei = %g meV", s.Ei) or string.format("Ef = %g meV", s.Ef))
end

-- k_i², k_f² (Å⁻²) at energy transfer w for the angle range r; nil if not kinematically possible
local function k2(inst, w, r)
  local ei, ef
  if inst.geometry == "direct" then ei, ef = inst.Ei, inst.Ei - w
  else ef = r.Ef or inst.Ef; ei = ef + w end
  if not (ei > 0 and ef > 0) then return nil end
  return E2K * ei, E2K * ef
end

local function qat(ki2, kf2, deg)
  local v = ki2 + kf2 - 2 * math.sqrt(ki2 * kf2) * math.cos(math.rad(deg))
  return math.sqrt(math.max(v, 0.0))
end

local function in_omega_range(inst, w)
  local r = inst.omega_range
  return not r or (w >= r[1] and w <= r[2])
end

function Instrument:sigma(omega)
  local l, scalar = list_of(omega, "inst:sigma", "omega")
  local out = {}
  for i = 1, #l do out[i] = self._sigma(l[i]) end
  if scalar then return out[1] end
  return out
end

function Instrument:fwhm(omega)
  local s, scalar = list_of(self:sigma(omega), "inst:fwhm", "sigma")
  for i = 1, #s do s[i] = s[i] * SIG2FWHM end
  if scalar then return s[1] end
  return s
end

function Instrument:qrange(omega)
  if type(omega) ~= "number" then fail("inst:qrange", "omega must be a number (meV)") end
  if not in_omega_range(self, omega) then return nil end
  local qmin, qmax
  for _, r in ipairs(self.angles) do
    local ki2, kf2 = k2(self, omega, r)
    if ki2 then
      local a, b = qat(ki2, kf2, r[1]), qat(ki2, kf2, r[2])
      qmin = math.min(qmin or a, a, b)
      qmax = math.max(qmax or b, a, b)
    end
  end
  return qmin, qmax
end

function Instrument:qlines(omega)
  if type(omega) ~= "number" then fail("inst:qlines", "omega must be a number (meV)") end
  local out = {}
  for i, r in ipairs(self.angles) do
    local ki2, kf2 = k2(self, omega, r)
    out[i] = ki2 and qat(ki2, kf2, (r[1] + r[2]) / 2) or nil
  end
  return out
end

local function accessible1(inst, q, w)
  if not in_omega_range(inst, w) then return false end
  for _, r in ipairs(inst.angles) do
    local ki2, kf2 = k2(inst, w, r)
    if ki2 then
      if r[1] == r[2] then                              -- a fixed bank: within dq of its line
        if math.abs(q - qat(ki2, kf2, r[1])) <= inst.dq then return true end
      else
        local c = (ki2 + kf2 - q * q) / (2 * math.sqrt(ki2 * kf2))
        if c >= -1 and c <= 1 then
          local deg = math.deg(math.acos(c))
          if deg >= r[1] - 1e-9 and deg <= r[2] + 1e-9 then return true end
        end
      end
    end
  end
  return false
end

function Instrument:accessible(q, omega)
  local qs, qscalar = qnorms(q, "inst:accessible")
  local ws, wscalar = list_of(omega, "inst:accessible", "omega")
  if qscalar and wscalar then return accessible1(self, qs[1], ws[1]) end
  local out = {}
  for i = 1, #qs do
    local row = {}
    for j = 1, #ws do row[j] = accessible1(self, qs[i], ws[j]) end
    out[i] = row
  end
  if qscalar then return out[1] end
  return out
end

-- Gaussian kernel of source point j into buf[1..hi-lo+1] (unnormalised): e^{-(x_i-x_j)²/2σ²}.
-- On a uniform grid by a two-multiplication recurrence (three exps per kernel), else by exp.
local function fill_kernel(P, j, buf)
  local x, lo, hi, s = P.x, P.lo[j], P.hi[j], P.sig[j]
  if P.uniform then
    local a = P.h * P.h / (2 * s * s)
    local ea, e2a = math.exp(-a), math.exp(-2 * a)
    local k, r = 1.0, ea
    for i = j, hi do buf[i - lo + 1] = k; k = k * r; r = r * e2a end
    k, r = ea, ea * e2a
    for i = j - 1, lo, -1 do buf[i - lo + 1] = k; k = k * r; r = r * e2a end
  else
    local xj = x[j]
    for i = lo, hi do buf[i - lo + 1] = math.exp(-0.5 * ((x[i] - xj) / s) ^ 2) end
  end
end

-- Broadening plan for a grid: for each source point j its window [lo, hi] (|x_i - x_j| <=
-- cut·σ_j) and the norm Σ_i K_ij Δ_i, so that every kernel has unit area on the grid.
-- σ <= 0 (or NaN) means no broadening (a delta).
local function plan(inst, x, cut, fname)
  local n = #x
  for i = 2, n do
    if not (x[i] > x[i - 1]) then fail(fname, string.format("omega must increase (omega[%d] = %g after %g)", i, x[i], x[i - 1])) end
  end
  local dx = {}
  for i = 1, n do dx[i] = (x[math.min(i + 1, n)] - x[math.max(i - 1, 1)]) / 2 end
  if n == 1 then dx[1] = 1 end
  local h = n > 1 and (x[n] - x[1]) / (n - 1) or 1
  local uniform = true
  for i = 2, n do
    if math.abs(x[i] - x[i - 1] - h) > 1e-9 * h then uniform = false; break end
  end
  local P = {x = x, dx = dx, h = h, uniform = uniform, lo = {}, hi = {}, sig = {}, norm = {}}
  local buf = {}
  for j = 1, n do
    local s = inst._sigma(x[j])
    local lo, hi = j, j
    if s ~= s or s <= 0 then
      P.sig[j] = false
    else
      local reach = cut * s
      while lo > 1 and x[j] - x[lo - 1] <= reach do lo = lo - 1 end
      while hi < n and x[hi + 1] - x[j] <= reach do hi = hi + 1 end
      P.sig[j] = s
    end
    P.lo[j], P.hi[j] = lo, hi
    if P.sig[j] then
      fill_kernel(P, j, buf)
      local norm = 0.0
      for i = lo, hi do norm = norm + buf[i - lo + 1] * dx[i] end
      P.norm[j] = norm
    else
      P.norm[j] = dx[j]
    end
  end
  return P
end

-- Broaden each row of rows (lists of length n) with plan P; returns new rows.
local function apply_plan(P, rows)
  local n, nr = #P.x, #rows
  local out = {}
  for r = 1, nr do
    local o = {}
    for i = 1, n do o[i] = 0.0 end
    out[r] = o
  end
  local buf = {1.0}
  for j = 1, n do
    local lo, hi = P.lo[j], P.hi[j]
    if P.sig[j] then fill_kernel(P, j, buf) else buf[1] = 1.0 end
    local f = P.dx[j] / P.norm[j]
    for r = 1, nr do
      local a = rows[r][j] * f
      if a ~= 0 then
        local o = out[r]
        for i = lo, hi do o[i] = o[i] + a * buf[i - lo + 1] end
      end
    end
  end
  return out
end

function Instrument:broaden(omega, spectrum, opts)
  local fname = "inst:broaden"
  opts = opts or {}
  local x = list_of(omega, fname, "omega")
  local y = list_of(spectrum, fname, "spectrum")
  if #x ~= #y then fail(fname, string.format("%d energies but %d spectrum values", #x, #y)) end
  return apply_plan(plan(self, x, opts.cutoff or 6, fname), {y})[1]
end

function Instrument:apply(sqw, q, omega, opts)
  local fname = "inst:apply"
  opts = opts or {}
  local rows, nr, nc, was = matrix_of(sqw, fname)
  local x = list_of(omega, fname, "omega")
  local qs = qnorms(q, fname)
  if #x ~= nc then fail(fname, string.format("%d energies for %d columns", #x, nc)) end
  if #qs ~= nr then fail(fname, string.format("%d q-points for %d rows", #qs, nr)) end
  local out
  if opts.broaden ~= false then
    out = apply_plan(plan(self, x, opts.cutoff or 6, fname), rows)
  else
    out = {}
    for i = 1, nr do out[i] = {table.unpack(rows[i])} end
  end
  local fill = opts.fill or 0.0
  if opts.mask ~= false then
    for i = 1, nr do
      local row = out[i]
      for j = 1, nc do
        if not accessible1(self, qs[i], x[j]) then row[j] = fill end
      end
    end
  end
  if was then return carray.new(out) end
  return out
end

local function new_instrument(t)
  t.dq = t.dq or 0.1
  return setmetatable(t, Instrument)
end

---------------------------------------------------------------- validation helpers
local function check_keys(fname, o, allowed)
  if o == nil then return {} end
  if type(o) ~= "table" then fail(fname, "options table expected (got " .. type(o) .. ")") end
  for k in pairs(o) do
    if not allowed[k] then fail(fname, "unknown option '" .. tostring(k) .. "'") end
  end
  return o
end

local function check_range(fname, what, v, lo, hi, unit)
  if type(v) ~= "number" or v ~= v then fail(fname, what .. " must be a number (got " .. tostring(v) .. ")") end
  if v < lo or v > hi then
    fail(fname, string.format("%s = %g %s is outside the allowed range %g-%g %s", what, v, unit, lo, hi, unit))
  end
end

local function pick(fname, what, v, options)
  for k, rec in pairs(options) do
    if k:lower() == tostring(v):lower() then return k, rec end
  end
  local names = {}
  for k in pairs(options) do names[#names + 1] = k end
  table.sort(names)
  fail(fname, string.format("unknown %s '%s' (known: %s)", what, tostring(v), table.concat(names, ", ")))
end

local function poly_sigma(c)
  return function(w)
    local s = 0.0
    for k = #c, 1, -1 do s = s * w + c[k] end
    return s
  end
end

---------------------------------------------------------------- TOSCA
local TOSCA_BACK, TOSCA_FORWARD = 134.98885653282196, 45.0
M.TOSCA_SIGMA = {0.3099604960830007, 0.005, 8.065543937349209e-07}   -- σ (meV), ascending powers

M.tosca = function(o)
  local fname = "instruments.tosca"
  o = check_keys(fname, o, {bank = true, Ef = true, book = true, dq = true})
  local bank = (o.bank or "both"):lower()
  local ef = o.Ef or 32.0 / 8.06554465              -- Abins: 32 cm⁻¹ = 3.9675 meV, both banks
  if type(ef) ~= "number" or ef <= 0 then fail(fname, "Ef must be a positive energy in meV (got " .. tostring(o.Ef) .. ")") end
  local back = {TOSCA_BACK, TOSCA_BACK, Ef = o.book and 3.32 or nil, label = "backward"}
  local fwd = {TOSCA_FORWARD, TOSCA_FORWARD, Ef = o.book and 3.35 or nil, label = "forward"}
  local angles
  if bank == "both" or bank == "all" then angles = {back, fwd}
  elseif bank == "backward" then angles = {back}
  elseif bank == "forward" then angles = {fwd}
  else fail(fname, "unknown bank '" .. tostring(o.bank) .. "' (use \"backward\", \"forward\" or \"both\")") end
  return new_instrument{
    name = "TOSCA", geometry = "indirect", Ef = ef, angles = angles, dq = o.dq,
    _sigma = poly_sigma(M.TOSCA_SIGMA),
    info = {bank = bank, resolution = "resins tosca.yaml AbINS polynomial (Dymkowski 2018; Cheng 2019)"},
  }
end

---------------------------------------------------------------- Lagrange
local LAGRANGE = {
  ["Cu(220)"] = {fit = {-3.5961e-2, 2.156e-2, 7.6987e-5}, cut = 25, low = 0.8, ei = {26, 500}},
  ["Cu(331)"] = {fit = {6.58362118e-01, 5.15925386e-04, 1.11911095e-04, -8.60511597e-08}, ei = {67, 500}},
  ["Si(311)"] = {fit = {0.8}, ei = {16.5, 60}},
  ["Si(111)"] = {fit = {0.8}, ei = {4.5, 20}},
}

M.lagrange = function(o)
  local fname = "instruments.lagrange"
  o = check_keys(fname, o, {setting = true, Ef = true, angles = true, dq = true, restrict = true})
  local name, s = pick(fname, "monochromator setting", o.setting or "Cu(220)", LAGRANGE)
  local ef = o.Ef or 4.5
  local p = poly_sigma(s.fit)
  local cut, low = s.cut, s.low
  local ang = o.angles or {10, 90}
  return new_instrument{
    name = "Lagrange", geometry = "indirect", Ef = ef, angles = {{ang[1], ang[2]}}, dq = o.dq,
    omega_range = o.restrict ~= false and {s.ei[1] - ef, s.ei[2] - ef} or nil,
    _sigma = function(w)                       -- reported width W = 2σ (Abins, resins)
      if cut and w < cut then return low / 2 end
      return p(w) / 2
    end,
    info = {setting = name, Ei_range = s.ei},
  }
end

---------------------------------------------------------------- PyChop model (Fermi chopper)
-- Soft hat (Herbert library, used by PyChop to scale the MAPS moderator width at low Ei)
local function soft_hat(x, p)
  local height, grad, x1, x2 = p[1], p[2], p[3], p[4]
  local s1, s2 = math.abs(p[5]) / SIG2FWHM, math.abs(p[6]) / SIG2FWHM
  local sig = ((x2 - x) * s1 - (x1 - x) * s2) / (x2 - x1)
  if x < x1 then sig = s1 elseif x > x2 then sig = s2 end
  local e1 = (x1 - x) / (math.sqrt(2) * sig)
  local e2 = (x2 - x) / (math.sqrt(2) * sig)
  return (erf(e2) - erf(e1)) * ((height + grad * (x - (x2 + x1) / 2)) / 2) + 1
end

-- Moderator time width squared (FWHM², s²) at Ei (meV)
local function moderator_t2(mod, ei)
  if mod.table_lambda then                    -- measured widths (FWHM, μs) vs λ (Å), linear
    local lam = math.sqrt(E2L / ei)
    local L, W = mod.table_lambda, mod.table_width
    if lam >= L[1] then
      lam = math.min(lam, L[#L])
      local k = 1
      while k < #L - 1 and lam > L[k + 1] do k = k + 1 end
      local t = (lam - L[k]) / (L[k + 1] - L[k])
      local wd = (W[k] + t * (W[k + 1] - W[k])) * 1e-6
      return wd * wd
    end
  end
  local vi = E2V * math.sqrt(ei)
  if mod.type == 1 then                        -- Ikeda–Carpenter: variance 3/α² + R(2-R)/β²
    local s1, s2, b1, b2, emod = table.unpack(mod.pars)
    local sig = math.sqrt(s1 * s1 + s2 * s2 * E2L / ei)
    local a = vi * 1e-6 * sig                  -- α in 1/μs (Σ in 1/m times v)
    local b = ei > 130 and b2 or b1
    local r = math.exp(-ei / emod)
    return (3 / (a * a) + r * (2 - r) / (b * b)) * 1e-12 * SIG2FWHM ^ 2
  elseif mod.type == 2 then                    -- modified χ²: (δ0 + δG √E)/1.96 as a length / v
    local d0, dg = mod.pars[1] * 1e-3, mod.pars[2] * 1e-3
    if mod.scale then d0 = d0 * soft_hat(ei, mod.scale) end
    return ((d0 + dg * math.sqrt(ei)) / 1.96 / vi) ^ 2 * SIG2FWHM ^ 2
  end
  error("unknown moderator type " .. tostring(mod.type))
end

-- Fermi chopper time width squared (FWHM², s²), or nil and γ when nothing is transmitted
local function chopper_t2(pk, freq, ei)
  local w = 2 * PI * freq
  local gam = (2 * pk.radius ^ 2 / pk.pslit) * math.abs(1 / pk.rho - 2 * w / (E2V * math.sqrt(ei)))
  if gam >= 4 then return nil, gam end
  local g
  if gam <= 1 then
    g = (1 - gam ^ 4 / 10) / (1 - gam ^ 2 / 6)
  else
    local r = math.sqrt(gam)
    g = 0.6 * gam * (r - 2) ^ 2 * (r + 8) / (r + 4)
  end
  return (pk.pslit / (2 * pk.radius * w)) ^ 2 / 6 * g * SIG2FWHM ^ 2, gam
end

-- σ (meV) of the PyChop model at energy transfers ws (all < Ei); c = instrument constants
local function pychop_sigmas(c, pk, freq, ei, ws, jitter)
  local x0, xa, x1, x2 = c.x0, c.xa, c.x1, c.x2
  local tmod = moderator_t2(c.moderator, ei)
  local tchp = chopper_t2(pk, freq, ei)
  local tjit = ((jitter or 0) * 1e-6) ^ 2
  local w = 2 * PI * freq
  local tanth = math.tan(math.rad(c.theta))
  local vi = E2V * math.sqrt(ei)
  local fac = w * (xa + x1)
  local g1 = 1 - (w * tanth / vi) * (xa + x1)
  local f1 = (1 + (x1 / x0) * g1) / fac
  g1 = g1 / fac
  local g2 = 1 - (w * tanth / vi) * (x0 - xa)
  local f2 = (1 + (x1 / x0) * g2) / fac
  g2 = g2 / fac
  local det = c.detector
  local reff = det.depth / 2 * (1 - 0.063)     -- inner radius: wall 6.3 % of the radius
  local tape = (c.aperture ^ 2 / 12) * SIG2FWHM ^ 2
  local tsam = (c.sample_width ^ 2 / 12) * SIG2FWHM ^ 2
  local out = {}
  for i, wt in ipairs(ws) do
    local ef = ei - wt
    local vf = E2V * math.sqrt(ef)
    local vr = (vi / vf) ^ 3
    local modfac = (x1 + vr * x2) / x0
    local chpfac = 1 + modfac
    local apefac = f1 + (vr * x2 / x0) * g1
    local v = tmod * modfac ^ 2 + tchp * chpfac ^ 2 + tjit * chpfac ^ 2 + tape * apefac ^ 2
    -- He-3 tube depth: Σ(k) = 143.23 m⁻¹ · (3.49416 Å⁻¹ / k) at 10 atm (1/v absorption)
    local kf = math.sqrt(E2K * ef)
    local alf = 2 * reff * 143.23 * 3.49416 / kf * (det.atm / 10)
    v = v + (1 / vf) ^ 2 * tube_depth_variance(alf) * reff ^ 2 * SIG2FWHM ^ 2
    local samfac = -f2 - (vr * x2 / x0) * g2   -- flat plate, γ = φ = 0
    v = v + samfac ^ 2 * tsam
    out[i] = 2 * E2V * math.sqrt(ef ^ 3 * v) / x2 / SIG2FWHM
  end
  return out
end

local MAPS = {
  x0 = 10.143, xa = 8.27, x1 = 1.899, x2 = 6.0, theta = 32.0, aperture = 0.094,
  sample_width = 0.048, detector = {depth = 0.025, atm = 10},
  moderator = {type = 2, pars = {38.6, 0.5226}, scale = {1.0, 0.0, 0.0, 150.0, 0.01, 70.0},
               -- measured moderator FWHM (μs) vs λ (Å), sorted (PyChop/resins maps.yaml)
               table_lambda = {1.05928, 1.27303, 1.44378, 1.55951, 1.70813, 1.91018, 2.07872,
                               2.2052, 2.41516, 2.47745, 2.70006, 3.11649, 3.25499, 3.81593, 5.39537},
               table_width = {20, 25, 30, 31, 35, 37, 38, 40, 41, 40, 44, 47, 48, 54, 62}},
  packages = {A = {pslit = 1.087e-3, radius = 49e-3, rho = 1.3},
              B = {pslit = 1.812e-3, radius = 49e-3, rho = 0.92},
              S = {pslit = 2.899e-3, radius = 49e-3, rho = 1.3}},
  default_package = "A", Ei = {0, 2000}, default_Ei = 500, freq = {50, 600, 50}, default_freq = 400,
  angles = {{3.0, 19.8}, {21.1, 29.8}, {31.1, 39.8}, {41.1, 49.8}, {51.1, 59.8}},
}

local ARCS = {
  x0 = 11.61, xa = 9.342, x1 = 2.0, x2 = 3.0, theta = -13.75, aperture = 0.1751,
  sample_width = 0.048, detector = {depth = 0.025, atm = 10},
  moderators = {v2 = {type = 1, pars = {281.0, 79.0, 0.087, 0.4, 172.0}},
                v1 = {type = 1, pars = {119.63, 33.618, 0.037, 0.17, 172.42}}},
  packages = {["ARCS-100-1.5-AST"] = {pslit = 1.52e-3, radius = 50e-3, rho = 0.58},
              ["ARCS-700-1.5-AST"] = {pslit = 1.52e-3, radius = 50e-3, rho = 1.535},
              ["ARCS-700-0.5-AST"] = {pslit = 0.51e-3, radius = 50e-3, rho = 1.535},
              ["SEQ-100-2.0-AST"] = {pslit = 2.03e-3, radius = 50e-3, rho = 0.58},
              ["SEQ-700-3.5-AST"] = {pslit = 3.56e-3, radius = 50e-3, rho = 1.535}},
  default_package = "ARCS-100-1.5-AST", Ei = {20, 1500}, default_Ei = 200, freq = {60, 600, 60},
  default_freq = 300, angles = {{2.373, 135.955}},
}

local function pychop_instrument(fname, name, c, o)
  o = check_keys(fname, o, {Ei = true, frequency = true, package = true, moderator = true,
                            jitter = true, angles = true, order = true, npoints = true})
  local ei = o.Ei or c.default_Ei
  check_range(fname, "Ei", ei, c.Ei[1], c.Ei[2], "meV")
  if ei <= 0 then fail(fname, "Ei must be > 0 meV (got " .. ei .. ")") end
  local freq = o.frequency or c.default_freq
  if type(freq) ~= "number" or freq < c.freq[1] or freq > c.freq[2] or freq % c.freq[3] ~= 0 then
    fail(fname, string.format("frequency = %s Hz is not allowed (%g to %g Hz in steps of %g)",
                              tostring(freq), c.freq[1], c.freq[2], c.freq[3]))
  end
  local pkname, pk = pick(fname, "chopper package", o.package or c.default_package, c.packages)
  local cc = c
  if c.moderators then
    local mname, mod = pick(fname, "moderator model", o.moderator or "v2", c.moderators)
    cc = setmetatable({moderator = mod, moderator_name = mname}, {__index = c})
  end
  local _, gam = chopper_t2(pk, freq, ei)
  if gam >= 4 then
    fail(fname, string.format("no transmission through package %s at %g Hz for Ei = %g meV (gamma = %.3g >= 4)",
                              pkname, freq, ei, gam))
  end
  -- σ on 40 points ω ∈ [0, Ei) and a degree-4 least-squares polynomial, as resins does
  local npts, order = o.npoints or 40, o.order or 4
  local ws = {}
  for i = 1, npts do ws[i] = ei * (i - 1) / npts end
  local sig = pychop_sigmas(cc, pk, freq, ei, ws, o.jitter)
  local poly = polyfit(ws, sig, order)
  local ang = c.angles
  if o.angles then ang = {{o.angles[1], o.angles[2]}} end
  local inst = new_instrument{
    name = name, geometry = "direct", Ei = ei, angles = ang, _sigma = poly,
    info = {package = pkname, frequency = freq, moderator = cc.moderator_name,
            fit_omega = ws, fit_sigma = sig},
  }
  -- the unfitted model value (ω < Ei)
  inst.model_sigma = function(self, omega)
    local l, scalar = list_of(omega, "inst:model_sigma", "omega")
    for i = 1, #l do
      if l[i] >= ei then fail("inst:model_sigma", string.format("omega = %g meV is not below Ei = %g meV", l[i], ei)) end
    end
    local s = pychop_sigmas(cc, pk, freq, ei, l, o.jitter)
    if scalar then return s[1] end
    return s
  end
  return inst
end

M.maps = function(o) return pychop_instrument("instruments.maps", "MAPS", MAPS, o) end
M.arcs = function(o) return pychop_instrument("instruments.arcs", "ARCS", ARCS, o) end

---------------------------------------------------------------- user-defined
M.define = function(o)
  local fname = "instruments.define"
  o = check_keys(fname, o, {name = true, Ei = true, Ef = true, angles = true, resolution = true,
                            dq = true, omega_range = true})
  if (o.Ei == nil) == (o.Ef == nil) then fail(fname, "give exactly one of Ei= (direct) or Ef= (indirect), in meV") end
  local e = o.Ei or o.Ef
  if type(e) ~= "number" or not (e > 0) then
    fail(fname, string.format("%s must be a positive energy in meV (got %s)", o.Ei and "Ei" or "Ef", tostring(e)))
  end
  local a = o.angles
  if type(a) == "number" then a = {a, a} end
  if type(a) ~= "table" then fail(fname, "angles= {min, max} (degrees), a list of such ranges, or one angle is required") end
  local angles = {}
  if type(a[1]) == "table" then
    for i, r in ipairs(a) do angles[i] = {r[1], r[2] or r[1], Ef = r.Ef} end
  else
    angles[1] = {a[1], a[2] or a[1]}
  end
  for i, r in ipairs(angles) do
    if type(r[1]) ~= "number" or type(r[2]) ~= "number" or r[1] < 0 or r[2] > 180 or r[1] > r[2] then
      fail(fname, string.format("angles range %d must be {min, max} with 0 <= min <= max <= 180 degrees", i))
    end
  end
  local res = o.resolution
  local sig
  if type(res) == "function" then
    sig = function(w)
      local v = res(w)
      if type(v) ~= "number" then error(fname .. ": resolution function returned " .. type(v) .. " at omega = " .. w, 0) end
      return v
    end
  elseif type(res) == "table" and #res > 0 then
    for i = 1, #res do
      if type(res[i]) ~= "number" then fail(fname, string.format("resolution[%d] is not a number", i)) end
    end
    sig = poly_sigma(res)
  elseif type(res) == "number" then
    sig = function() return res end
  else
    fail(fname, "resolution= {c0, c1, ...} (σ in meV, ascending powers of ω) or a function(omega_meV) is required")
  end
  return new_instrument{
    name = o.name or "custom", geometry = o.Ei and "direct" or "indirect", Ei = o.Ei, Ef = o.Ef,
    angles = angles, dq = o.dq, _sigma = sig, omega_range = o.omega_range, info = {},
  }
end

---------------------------------------------------------------- by name
local BUILDERS = {TOSCA = "tosca", Lagrange = "lagrange", ["IN1-Lagrange"] = "lagrange",
                  MAPS = "maps", ARCS = "arcs"}

M.get = function(name, opts)
  local fname = "instruments.get"
  if type(name) ~= "string" then fail(fname, "instrument name expected (got " .. type(name) .. ")") end
  local _, b = pick(fname, "instrument", name, BUILDERS)
  return M[b](opts)
end

M.list = function() return {"TOSCA", "Lagrange", "MAPS", "ARCS"} end

do
  local ok, help = pcall(require, "kiln.help")
  if ok then
    local D = {
      tosca = "instruments.tosca{bank=\"both\", Ef=3.9675, book=false, dq=0.1} -> TOSCA (indirect, banks at 134.99° and 45°); σ = 0.30996 + 0.005ω + 8.0655e-7ω² meV",
      lagrange = "instruments.lagrange{setting=\"Cu(220)\", Ef=4.5, angles={10, 90}} -> IN1-Lagrange; σ = W/2 (W reported width), Cu(220): W = 0.8 meV below 25 meV",
      maps = "instruments.maps{Ei=500, frequency=400, package=\"A\"} -> MAPS (direct), PyChop Fermi-chopper σ(ω) fitted by a degree-4 polynomial on 40 points",
      arcs = "instruments.arcs{Ei=200, frequency=300, package=\"ARCS-100-1.5-AST\", moderator=\"v2\"} -> ARCS (direct), PyChop model",
      define = "instruments.define{name=, Ei= | Ef=, angles={min, max} (degrees), resolution={c0, c1, ...} (σ meV, ascending) | function(omega_meV), dq=0.1} -> a user instrument",
      get = "instruments.get(name[, opts]) -> an instrument by name: TOSCA, Lagrange (IN1-Lagrange), MAPS, ARCS (case-insensitive)",
      list = "instruments.list() -> {\"TOSCA\", \"Lagrange\", \"MAPS\", \"ARCS\"}",
    }
    for k, text in pairs(D) do help.register(M[k], text) end
  end
end

M.__help = [[
kiln.instruments: neutron spectrometers (resolution σ(ω) and kinematics); see doc/ins.md.
Units: ω meV (> 0 = energy loss), σ meV (Gaussian standard deviation), |Q| Å⁻¹, angles degrees.
  instruments.tosca{bank="both"|"backward"|"forward", Ef=3.9675, book=false}
  instruments.lagrange{setting="Cu(220)"|"Cu(331)"|"Si(311)"|"Si(111)"}
  instruments.maps{Ei=500, frequency=400, package="A"|"B"|"S"}
  instruments.arcs{Ei=200, frequency=300, package="ARCS-100-1.5-AST", moderator="v2"}
  instruments.define{name=, Ei= | Ef=, angles={min, max}, resolution={c0, c1, ...} | function}
  instruments.get(name[, opts])   instruments.list()
Methods: inst:sigma(w) inst:fwhm(w) inst:qrange(w) -> qmin, qmax  inst:qlines(w)
  inst:accessible(q, w) inst:broaden(w, s) inst:apply(sqw, q, w, {fill=0, mask=true})]]

Instrument.__help = [[
kiln.Instrument: a spectrometer from kiln.instruments. Fields: name, geometry ("direct" or
"indirect"), Ei or Ef (meV), angles (list of {min, max} scattering angles, degrees), dq (Å⁻¹,
tolerance of fixed-angle banks), info.
  inst:sigma(omega) -> σ (meV) at ω (meV); number or list    inst:fwhm(omega) = 2.35482 σ
  inst:qrange(omega) -> qmin, qmax (Å⁻¹), nil if ω is not reachable
  inst:qlines(omega) -> {|Q| per angle range} (fixed banks: the Q(ω) lines)
  inst:accessible(q, omega) -> boolean (or nq x nω table of booleans for lists)
  inst:broaden(omega, spectrum[, {cutoff=6}]) -> spectrum convolved with the variable-width
      Gaussian (normalised on the grid: the area Σ s_i Δω_i is preserved exactly)
  inst:apply(sqw, q, omega[, {fill=0, mask=true, broaden=true}]) -> broadened S(q, ω) (rows q,
      columns ω), zero (fill) where (q, ω) is not accessible
  inst:model_sigma(omega) (MAPS, ARCS) -> the PyChop value before the polynomial fit]]

setmetatable(M, {__index = function(_, k)
  if type(k) == "string" and k:sub(1, 1) ~= "_" then
    error(string.format("unknown instrument '%s' (known: tosca, lagrange, maps, arcs, define, get)", k), 2)
  end
end})

return M
