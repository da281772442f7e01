-- kiln.fit: nonlinear least squares (Levenberg–Marquardt) with parameter covariance,
-- bounds and weights, and spectral line shapes (damped harmonic oscillator, Lorentzian,
-- Gaussian) with one- and two-oscillator fits. Pure Lua; see doc/fit.md.
--
--   fit.lm{f=function(x, p) -> y | residual=function(p) -> {r_i}, x=, y=, p0=,
--          weights= | sigma=, bounds={lower=, upper=}, fixed=, jacobian=, maxit=, tol=}
--     -> {p=, cov=, err=, chi2=, dof=, chi2_reduced=, r2=, iterations=, converged=, ...}
--   fit.shapes.dho(omega, {omega0, gamma, A}) -> chi''(omega)
--   fit.shapes.dho_s(omega, {omega0, gamma, A}, {T=, quantum=true}) -> S(omega)
--   fit.shapes.lorentzian(x, {x0, fwhm, area}), fit.shapes.gaussian(x, {x0, fwhm, area})
--   fit.dho(omega, y, {n=1|2, sigma=, weights=, range=, p0=, background=}) -> fit result
--     with .oscillators = {{omega0=, gamma=, A=, err={...}}, ...}

local argcheck = require "kiln.argcheck"
argcheck.internal()
local fail, is_array, check_keys = argcheck.fail, argcheck.is_array, argcheck.check_keys

local M = {}

local sqrt, abs, exp, huge = math.sqrt, math.abs, math.exp, math.huge
local HBAR = 0.6582119569        -- eV fs
local KB = 8.617333262e-5        -- eV/K

local function isnum(x) return type(x) == "number" and x == x and x ~= huge and x ~= -huge end

---------------------------------------------------------------- small dense algebra
-- Cholesky factor L (lower, rows) of the symmetric n x n A, or nil if not positive definite.
local function cholesky(A, n)
  local L = {}
  for i = 1, n do L[i] = {} for j = 1, n do L[i][j] = 0.0 end end
  for j = 1, n do
    local s = A[j][j]
    for k = 1, j - 1 do s = s - L[j][k] * L[j][k] end
    if not (s > 0) then return nil end
    local d = sqrt(s)
    L[j][j] = d
    for i = j + 1, n do
      local t = A[i][j]
      for k = 1, j - 1 do t = t - L[i][k] * L[j][k] end
      L[i][j] = t / d
    end
  end
  return L
end

local function chol_solve(L, b, n)
  local y = {}
  for i = 1, n do
    local s = b[i]
    for k = 1, i - 1 do s = s - L[i][k] * y[k] end
    y[i] = s / L[i][i]
  end
  local x = {}
  for i = n, 1, -1 do
    local s = y[i]
    for k = i + 1, n do s = s - L[k][i] * x[k] end
    x[i] = s / L[i][i]
  end
  return x
end

local function chol_inverse(L, n)
  local inv = {}
  for i = 1, n do inv[i] = {} end
  for j = 1, n do
    local e = {}
    for i = 1, n do e[i] = (i == j) and 1.0 or 0.0 end
    local c = chol_solve(L, e, n)
    for i = 1, n do inv[i][j] = c[i] end
  end
  for i = 1, n do            -- symmetrise rounding
    for j = i + 1, n do
      local v = 0.5 * (inv[i][j] + inv[j][i])
      inv[i][j], inv[j][i] = v, v
    end
  end
  return inv
end
M._cholesky, M._chol_solve, M._chol_inverse = cholesky, chol_solve, chol_inverse

---------------------------------------------------------------- argument helpers
local function numlist(v, fname, what, n)
  local t = argcheck.list_of(v, fname, what)
  for i = 1, #t do
    if not isnum(t[i]) then fail(fname, string.format("%s[%d] is not a finite number (got %s)", what, i, tostring(t[i]))) end
  end
  if n and #t ~= n then fail(fname, string.format("%s has %d values, expected %d", what, #t, n)) end
  return t
end

-- x values as a Lua list: numbers (list, n x 1 Array) or rows (n x k Array, list of tables)
local function xlist(x, fname)
  if is_array(x) then
    local r, c = x:shape()
    local t = x:totable()
    if c == 1 then
      for i = 1, r do if type(t[i]) == "table" then t[i] = t[i][1] end end
    end
    return t
  end
  if type(x) ~= "table" then fail(fname, "x must be a list or a kiln.Array (got " .. type(x) .. ")") end
  return x
end

-- per-point weights from weights= or sigma= (a number or a list); absolute = sigma given
local function weights_of(o, n, fname)
  if o.weights ~= nil and o.sigma ~= nil then fail(fname, "give weights= or sigma=, not both") end
  local w = {}
  if o.sigma ~= nil then
    local s = type(o.sigma) == "number" and o.sigma or nil
    local sl = s == nil and numlist(o.sigma, fname, "sigma", n) or nil
    for i = 1, n do
      local si = s or sl[i]
      if not (si > 0) then fail(fname, string.format("sigma[%d] must be > 0 (got %g)", i, si)) end
      w[i] = 1.0 / (si * si)
    end
    return w, true
  end
  if o.weights ~= nil then
    local s = type(o.weights) == "number" and o.weights or nil
    local wl = s == nil and numlist(o.weights, fname, "weights", n) or nil
    for i = 1, n do
      local wi = s or wl[i]
      if not (wi >= 0) then fail(fname, string.format("weights[%d] must be >= 0 (got %g)", i, wi)) end
      w[i] = wi
    end
    return w, false
  end
  for i = 1, n do w[i] = 1.0 end
  return w, false
end

---------------------------------------------------------------- Levenberg–Marquardt
local LM_KEYS = {"f", "residual", "x", "y", "p0", "weights", "sigma", "bounds", "fixed",
                 "jacobian", "maxit", "tol", "lambda", "step", "absolute_sigma", "names"}

function M.lm(o)
  local fname = "kiln.fit.lm"
  if type(o) ~= "table" then fail(fname, "options table expected (got " .. type(o) .. ")") end
  check_keys(fname, o, LM_KEYS)
  if o.p0 == nil then fail(fname, "p0 (initial parameters) is required") end
  local p0 = numlist(o.p0, fname, "p0")
  local m = #p0
  if m == 0 then fail(fname, "p0 is empty") end
  local model, resfn = o.f, o.residual
  if (model == nil) == (resfn == nil) then fail(fname, "give exactly one of f= (model f(x, p)) and residual= (function(p))") end
  if model ~= nil and type(model) ~= "function" then fail(fname, "f must be a function(x, p) (got " .. type(model) .. ")") end
  if resfn ~= nil and type(resfn) ~= "function" then fail(fname, "residual must be a function(p) (got " .. type(resfn) .. ")") end
  local jac = o.jacobian
  if jac ~= nil and type(jac) ~= "function" then fail(fname, "jacobian must be a function (got " .. type(jac) .. ")") end
  local maxit = o.maxit or 200
  local tol = o.tol or 1e-8
  local fdstep = o.step or 6e-6
  if not (math.type(maxit) == "integer" and maxit >= 1) then fail(fname, "maxit must be an integer >= 1 (got " .. tostring(maxit) .. ")") end
  if not (isnum(tol) and tol > 0) then fail(fname, "tol must be > 0 (got " .. tostring(tol) .. ")") end

  -- data
  local x, y, n
  if model then
    if o.x == nil or o.y == nil then fail(fname, "x= and y= are required with f=") end
    x = xlist(o.x, fname)
    y = numlist(o.y, fname, "y")
    n = #y
    if #x ~= n then fail(fname, string.format("x has %d values but y has %d", #x, n)) end
  else
    if o.x ~= nil or o.y ~= nil then fail(fname, "x= and y= are not used with residual= (it returns the residuals)") end
    local ok, r = pcall(resfn, p0)
    if not ok then error(r, 0) end
    if type(r) ~= "table" and not is_array(r) then fail(fname, "residual(p) must return a list of numbers (got " .. type(r) .. ")") end
    n = is_array(r) and (r:shape()) or #r
  end
  if n == 0 then fail(fname, "no data points") end
  local w, absolute = weights_of(o, n, fname)
  if o.absolute_sigma ~= nil then absolute = o.absolute_sigma and true or false end
  local sw = {}
  for i = 1, n do sw[i] = sqrt(w[i]) end

  -- bounds and fixed parameters
  local lo, hi = {}, {}
  for j = 1, m do lo[j], hi[j] = -huge, huge end
  if o.bounds ~= nil then
    check_keys(fname, o.bounds, {"lower", "upper"}, "bounds")
    for key, t in pairs{lower = lo, upper = hi} do
      local b = o.bounds[key]
      if b ~= nil then
        if type(b) ~= "table" then fail(fname, "bounds." .. key .. " must be a list of " .. m .. " numbers (nil or ±math.huge for none)") end
        for j = 1, m do
          local v = b[j]
          if v ~= nil then
            if type(v) ~= "number" or v ~= v then fail(fname, string.format("bounds.%s[%d] is not a number", key, j)) end
            t[j] = v
          end
        end
      end
    end
    for j = 1, m do
      if lo[j] > hi[j] then fail(fname, string.format("bounds: lower[%d] = %g > upper[%d] = %g", j, lo[j], j, hi[j])) end
    end
  end
  local fixed = {}
  if o.fixed ~= nil then
    if type(o.fixed) ~= "table" then fail(fname, "fixed must be a list of booleans (true: hold the parameter at p0)") end
    for j = 1, m do fixed[j] = o.fixed[j] and true or false end
  else
    for j = 1, m do fixed[j] = false end
  end
  local function clip(p)
    local q = {}
    for j = 1, m do
      local v = p[j]
      if v < lo[j] then v = lo[j] elseif v > hi[j] then v = hi[j] end
      q[j] = v
    end
    return q
  end

  local nfev = 0
  -- weighted residuals r_i = sqrt(w_i) (y_i - f(x_i, p)) (model), sqrt(w_i) r_i(p) (residual=)
  local function resid(p)
    nfev = nfev + 1
    local r = {}
    if model then
      for i = 1, n do
        local v = model(x[i], p)
        if type(v) ~= "number" then fail(fname, string.format("f(x[%d], p) returned %s, expected a number", i, type(v))) end
        r[i] = sw[i] * (y[i] - v)
      end
    else
      local rr = resfn(p)
      if is_array(rr) then rr = rr:totable() end
      if type(rr) ~= "table" or #rr ~= n then
        fail(fname, string.format("residual(p) must return %d numbers (got %s)", n, type(rr) == "table" and #rr or type(rr)))
      end
      for i = 1, n do
        local v = rr[i]
        if type(v) == "table" then v = v[1] end
        r[i] = sw[i] * v
      end
    end
    return r
  end
  local function sumsq(r)
    local s = 0.0
    for i = 1, n do s = s + r[i] * r[i] end
    return s
  end

  -- J_ij = d(sqrt(w_i) f_i)/dp_j  (= -dr_i/dp_j), so that r(p + d) ~ r - J d
  local function jacobian(p, r)
    local J = {}
    for i = 1, n do J[i] = {} end
    if jac then
      if model then
        for i = 1, n do
          local g = jac(x[i], p)
          if type(g) ~= "table" then fail(fname, string.format("jacobian(x[%d], p) must return %d numbers", i, m)) end
          for j = 1, m do J[i][j] = sw[i] * g[j] end
        end
      else
        local g = jac(p)
        if is_array(g) then g = g:totable() end
        if type(g) ~= "table" or #g ~= n then fail(fname, string.format("jacobian(p) must return %d rows of %d numbers (dr_i/dp_j)", n, m)) end
        for i = 1, n do for j = 1, m do J[i][j] = -sw[i] * g[i][j] end end
      end
      return J
    end
    for j = 1, m do
      if fixed[j] then
        for i = 1, n do J[i][j] = 0.0 end
      else
        local pj = p[j]
        local h = fdstep * math.max(abs(pj), 1e-6)
        local pp, pm = {}, {}
        for k = 1, m do pp[k], pm[k] = p[k], p[k] end
        local up, dn = pj + h, pj - h
        local rp, rm, span
        if up > hi[j] then        -- one-sided at a bound
          pm[j] = pj - h
          rp, rm, span = r, resid(pm), h
        elseif dn < lo[j] then
          pp[j] = pj + h
          rp, rm, span = resid(pp), r, h
        else
          pp[j], pm[j] = up, dn
          rp, rm, span = resid(pp), resid(pm), up - dn
        end
        for i = 1, n do J[i][j] = -(rp[i] - rm[i]) / span end
      end
    end
    return J
  end

  local p = clip(p0)
  local r = resid(p)
  local chi2 = sumsq(r)
  if not isnum(chi2) then
    for i = 1, n do
      if not isnum(r[i]) then fail(fname, string.format("the residual at p0 is not finite (point %d: %s)", i, tostring(r[i]))) end
    end
    fail(fname, "chi2 at p0 is not finite")
  end
  local J = jacobian(p, r)
  local lambda = o.lambda or 1e-3
  local D = {}
  for j = 1, m do D[j] = 0.0 end
  local converged, message = false, "maximum iterations reached"
  local it = 0
  while it < maxit do
    it = it + 1
    local A, g = {}, {}
    for j = 1, m do
      A[j] = {}
      local s = 0.0
      for i = 1, n do s = s + J[i][j] * r[i] end
      g[j] = s
    end
    for j = 1, m do
      for k = j, m do
        local s = 0.0
        for i = 1, n do s = s + J[i][j] * J[i][k] end
        A[j][k], A[k][j] = s, s
      end
      if A[j][j] > D[j] then D[j] = A[j][j] end     -- Marquardt scaling (largest seen)
    end
    local dmax = 0.0
    for j = 1, m do if D[j] > dmax then dmax = D[j] end end
    -- free parameters: not fixed, not at a bound with the gradient pushing out
    local free = {}
    for j = 1, m do
      if not fixed[j] and not (p[j] <= lo[j] and g[j] < 0) and not (p[j] >= hi[j] and g[j] > 0)
         and A[j][j] > 0 then
        free[#free + 1] = j
      end
    end
    local nf = #free
    if nf == 0 then converged, message = true, "all parameters fixed or at bounds"; break end
    if chi2 == 0 then converged, message = true, "zero residual"; break end
    -- convergence: the undamped (Gauss–Newton) step is small, or its predicted decrease is
    local Af, gf = {}, {}
    for a = 1, nf do
      Af[a] = {}
      for b = 1, nf do Af[a][b] = A[free[a]][free[b]] end
      gf[a] = g[free[a]]
    end
    local L = cholesky(Af, nf)
    if L then
      local d = chol_solve(L, gf, nf)
      local pred, small = 0.0, true
      for a = 1, nf do
        pred = pred + gf[a] * d[a]
        local j = free[a]
        if abs(d[a]) > tol * (abs(p[j]) + tol) then small = false end
      end
      if small or pred <= tol * chi2 then
        -- polish: take the full Gauss–Newton step when it does not increase chi2 (exact for
        -- linear models)
        local q = {}
        for j = 1, m do q[j] = p[j] end
        for a = 1, nf do q[free[a]] = q[free[a]] + d[a] end
        q = clip(q)
        local rq = resid(q)
        local c2 = sumsq(rq)
        if c2 <= chi2 then p, r, chi2 = q, rq, c2; J = jacobian(p, r) end
        converged = true
        message = small and "parameter step below tol" or "predicted chi2 decrease below tol"
        break
      end
    end
    -- damped steps until chi2 decreases
    local accepted = false
    while true do
      local Bf = {}
      for a = 1, nf do
        Bf[a] = {}
        for b = 1, nf do Bf[a][b] = Af[a][b] end
        local dj = D[free[a]]
        if dj < 1e-15 * dmax then dj = 1e-15 * dmax end
        Bf[a][a] = Bf[a][a] + lambda * dj
      end
      local Lb = cholesky(Bf, nf)
      if Lb then
        local d = chol_solve(Lb, gf, nf)
        local q = {}
        for j = 1, m do q[j] = p[j] end
        for a = 1, nf do q[free[a]] = q[free[a]] + d[a] end
        q = clip(q)
        local moved = false
        for j = 1, m do if q[j] ~= p[j] then moved = true end end
        if moved then
          local rq = resid(q)
          local c2 = sumsq(rq)
          if c2 < chi2 then        -- false for NaN
            p, r, chi2 = q, rq, c2
            lambda = math.max(lambda / 10, 1e-12)
            accepted = true
            break
          end
        end
      end
      lambda = lambda * 10
      if lambda > 1e16 then break end
    end
    if not accepted then
      converged, message = true, "no further decrease of chi2 (numerical minimum)"
      break
    end
    J = jacobian(p, r)
  end

  -- covariance from J at the solution
  local dof = n
  local act = {}
  for j = 1, m do if not fixed[j] then act[#act + 1] = j; dof = dof - 1 end end
  local na = #act
  local Aa = {}
  for a = 1, na do
    Aa[a] = {}
    for b = 1, na do
      local s = 0.0
      local ja, jb = act[a], act[b]
      for i = 1, n do s = s + J[i][ja] * J[i][jb] end
      Aa[a][b] = s
    end
  end
  local cov = {}
  for j = 1, m do cov[j] = {} for k = 1, m do cov[j][k] = 0.0 end end
  local scale = absolute and 1.0 or (dof > 0 and chi2 / dof or 0 / 0)
  local La = cholesky(Aa, na)
  local singular = La == nil
  if La then
    local inv = chol_inverse(La, na)
    for a = 1, na do for b = 1, na do cov[act[a]][act[b]] = inv[a][b] * scale end end
  else
    for a = 1, na do for b = 1, na do cov[act[a]][act[b]] = 0 / 0 end end
  end
  local err = {}
  for j = 1, m do err[j] = sqrt(cov[j][j]) end
  local at_bound = {}
  for j = 1, m do at_bound[j] = (p[j] <= lo[j] or p[j] >= hi[j]) end

  local res = {p = p, cov = cov, err = err, chi2 = chi2, dof = dof,
               chi2_reduced = dof > 0 and chi2 / dof or 0 / 0, iterations = it,
               converged = converged, message = message, nfev = nfev, lambda = lambda,
               at_bound = at_bound, singular = singular, absolute_sigma = absolute,
               names = o.names}
  if model then
    local yfit, resv = {}, {}
    local ssr, sw0, sy = 0.0, 0.0, 0.0
    for i = 1, n do
      yfit[i] = model(x[i], p)
      resv[i] = y[i] - yfit[i]
      ssr = ssr + w[i] * resv[i] * resv[i]
      sw0, sy = sw0 + w[i], sy + w[i] * y[i]
    end
    local ybar, sst = sy / sw0, 0.0
    for i = 1, n do sst = sst + w[i] * (y[i] - ybar) ^ 2 end
    res.yfit, res.residuals = yfit, resv
    res.r2 = sst > 0 and 1 - ssr / sst or 0 / 0
    res.f = function(xx) return model(xx, p) end
  end
  if o.names then
    res.named, res.named_err = {}, {}
    for j = 1, m do
      local k = o.names[j]
      if k then res.named[k], res.named_err[k] = p[j], err[j] end
    end
  end
  return res
end

---------------------------------------------------------------- line shapes
local shapes = {}
M.shapes = shapes

local function elementwise(fn)
  return function(x, p, o)
    if type(x) == "number" then return fn(x, p, o) end
    local xs = argcheck.list_of(x, "kiln.fit.shapes", "x")
    local out = {}
    for i = 1, #xs do out[i] = fn(xs[i], p, o) end
    return out
  end
end

-- chi''(w) of a damped harmonic oscillator: A w0^2 w g / ((w0^2 - w^2)^2 + (w g)^2)
local function dho(w, p)
  local w0, g, A = p[1], p[2], p[3]
  local d = w0 * w0 - w * w
  return A * w0 * w0 * w * g / (d * d + w * w * g * g)
end
shapes.dho = elementwise(dho)

-- full complex chi: A w0^2 / (w0^2 - w^2 - i w g) -> real, imaginary parts
shapes.dho_complex = function(w, p)
  local w0, g, A = p[1], p[2], p[3]
  local d = w0 * w0 - w * w
  local den = d * d + w * w * g * g
  return A * w0 * w0 * d / den, A * w0 * w0 * w * g / den
end

-- Lua 5.4 has no math.expm1: 1 - e^{-x} with a series for small x
local function one_minus_exp_neg(xq)
  if abs(xq) < 1e-5 then return xq - 0.5 * xq * xq + xq * xq * xq / 6 end
  return 1 - exp(-xq)
end
-- S(w) = [n(w) + 1] chi''(w) / pi (quantum, detailed balance S(-w) = e^{-hw/kT} S(w)),
-- or (kT / (hbar w)) chi''(w) / pi (classical; the high-T limit). w in rad/fs, T in K.
local function dho_s(w, p, o)
  o = o or {}
  local T = o.T
  if not (isnum(T) and T > 0) then fail("kiln.fit.shapes.dho_s", "T= (K, > 0) is required") end
  local w0, g, A = p[1], p[2], p[3]
  local d = w0 * w0 - w * w
  local chi_over_w = A * w0 * w0 * g / (d * d + w * w * g * g)
  local kT = KB * T
  if o.quantum == false then return kT / HBAR * chi_over_w / math.pi end
  local xq = HBAR * w / kT
  local fac
  if xq == 0 then fac = kT / HBAR else fac = w / one_minus_exp_neg(xq) end
  return fac * chi_over_w / math.pi
end
shapes.dho_s = elementwise(dho_s)

-- Lorentzian with FWHM and area: area/pi * (fwhm/2) / ((x - x0)^2 + (fwhm/2)^2)
shapes.lorentzian = elementwise(function(x, p)
  local hw = 0.5 * p[2]
  local d = x - p[1]
  return p[3] / math.pi * hw / (d * d + hw * hw)
end)

-- Gaussian with FWHM and area
local FW2S = 1 / (2 * sqrt(2 * math.log(2)))
shapes.gaussian = elementwise(function(x, p)
  local s = p[2] * FW2S
  local d = (x - p[1]) / s
  return p[3] / (s * sqrt(2 * math.pi)) * exp(-0.5 * d * d)
end)

---------------------------------------------------------------- DHO fits
-- sum of n oscillators (p = {w01, g1, A1, w02, g2, A2, ...}) plus an optional constant
local function dho_sum(nosc, bg)
  return function(w, p)
    local s = bg and p[3 * nosc + 1] or 0.0
    for k = 0, nosc - 1 do
      local w0, g, A = p[3 * k + 1], p[3 * k + 2], p[3 * k + 3]
      local d = w0 * w0 - w * w
      s = s + A * w0 * w0 * w * g / (d * d + w * w * g * g)
    end
    return s
  end
end

-- analytic derivatives of the oscillator sum
local function dho_sum_grad(nosc, bg)
  return function(w, p)
    local gr = {}
    for k = 0, nosc - 1 do
      local w0, g, A = p[3 * k + 1], p[3 * k + 2], p[3 * k + 3]
      local d = w0 * w0 - w * w
      local den = d * d + w * w * g * g
      local num = w0 * w0 * w * g
      local f = num / den
      -- d/dw0: A [2 w0 w g / den - num * 4 w0 d / den^2]
      gr[3 * k + 1] = A * (2 * w0 * w * g / den - num * 4 * w0 * d / (den * den))
      gr[3 * k + 2] = A * (w0 * w0 * w / den - num * 2 * w * w * g / (den * den))
      gr[3 * k + 3] = f
    end
    if bg then gr[3 * nosc + 1] = 1.0 end
    return gr
  end
end

-- initial guess of one oscillator from the largest peak of (w, y): position, FWHM ~ gamma,
-- height h = A w0 / gamma
local function guess_peak(w, y)
  local n = #w
  local best, bi = -huge, nil
  for i = 1, n do
    local ys = y[i]
    if i > 1 and i < n then ys = (y[i - 1] + 2 * y[i] + y[i + 1]) / 4 end
    if ys > best then best, bi = ys, i end
  end
  if not bi or not (best > 0) then return nil end
  local half = 0.5 * best
  local il, ir = bi, bi
  while il > 1 and y[il] > half do il = il - 1 end
  while ir < n and y[ir] > half do ir = ir + 1 end
  local w0 = w[bi]
  local fw = w[ir] - w[il]
  if not (fw > 0) then fw = (w[n] - w[1]) / n * 2 end
  if w0 <= 0 then w0 = 0.5 * (w[1] + w[n]) end
  local g = fw
  return {w0, g, best * g / w0}
end

function M.dho(omega, y, o)
  local fname = "kiln.fit.dho"
  o = check_keys(fname, o, {"n", "sigma", "weights", "range", "p0", "background", "bounds",
                            "maxit", "tol", "jacobian"})
  local w = numlist(omega, fname, "omega")
  local yy = numlist(y, fname, "y", #w)
  local nosc = o.n or 1
  if nosc ~= 1 and nosc ~= 2 then fail(fname, "n must be 1 or 2 (got " .. tostring(nosc) .. ")") end
  local bg = o.background and true or false
  -- range and per-point sigma/weights
  local sig = o.sigma
  local wts = o.weights
  local sl = (sig ~= nil and type(sig) ~= "number") and numlist(sig, fname, "sigma", #w) or nil
  local wl = (wts ~= nil and type(wts) ~= "number") and numlist(wts, fname, "weights", #w) or nil
  local lo, hi = -huge, huge
  if o.range ~= nil then
    local r1, r2 = type(o.range) == "table" and o.range[1], type(o.range) == "table" and o.range[2]
    if type(r1) ~= "number" or type(r2) ~= "number" or r1 ~= r1 or r2 ~= r2 or r1 >= r2 then
      fail(fname, "range must be {omega_min, omega_max} with omega_min < omega_max")
    end
    lo, hi = o.range[1], o.range[2]
  end
  local xs, ys, ss, ws = {}, {}, {}, {}
  for i = 1, #w do
    if w[i] >= lo and w[i] <= hi then
      xs[#xs + 1], ys[#xs + 1] = w[i], yy[i]
      if sl then ss[#xs] = sl[i] end
      if wl then ws[#xs] = wl[i] end
    end
  end
  local np = 3 * nosc + (bg and 1 or 0)
  if #xs <= np then fail(fname, string.format("%d points in range for %d parameters", #xs, np)) end
  local lmopts = {x = xs, y = ys, maxit = o.maxit, tol = o.tol}
  if sig ~= nil then lmopts.sigma = sl and ss or sig end
  if wts ~= nil then lmopts.weights = wl and ws or wts end
  local wspan = xs[#xs] - xs[1]
  local gmin = 1e-9 * math.max(abs(xs[#xs]), abs(xs[1]), 1e-300)
  local lower, upper = {}, {}
  for k = 0, nosc - 1 do
    lower[3 * k + 1], lower[3 * k + 2], lower[3 * k + 3] = gmin, gmin, 0.0
  end
  if o.bounds then
    lower = o.bounds.lower or lower
    upper = o.bounds.upper or upper
  end
  local p0 = o.p0
  if p0 == nil then
    local g1 = guess_peak(xs, ys)
    if not g1 then fail(fname, "no positive peak in y to start from; give p0=") end
    if nosc == 1 then
      p0 = g1
    else
      -- fit one oscillator, then put the second at the largest peak of the residual
      local f1 = M.lm{f = dho_sum(1, false), jacobian = dho_sum_grad(1, false), x = xs, y = ys,
                      p0 = g1, bounds = {lower = {gmin, gmin, 0}}, maxit = 50}
      local rres = {}
      for i = 1, #xs do rres[i] = ys[i] - f1.yfit[i] end
      local g2 = guess_peak(xs, rres)
      if not g2 or abs(g2[1] - f1.p[1]) < 1e-3 * wspan then
        g2 = {f1.p[1] * (f1.p[1] < 0.5 * (xs[1] + xs[#xs]) and 1.6 or 0.6), f1.p[2], 0.3 * f1.p[3]}
      end
      -- split the strength: the first guess keeps its width and the residual peak adds
      p0 = {g1[1], g1[2], g1[3], g2[1], g2[2], g2[3]}
      if f1.p[3] > 0 then p0[1], p0[2], p0[3] = f1.p[1], f1.p[2], f1.p[3] end
    end
    if bg then p0[np] = 0.0 end
  else
    p0 = numlist(p0, fname, "p0", np)
  end
  lmopts.f = dho_sum(nosc, bg)
  if o.jacobian ~= false then lmopts.jacobian = dho_sum_grad(nosc, bg) end
  lmopts.p0 = p0
  lmopts.bounds = {lower = lower, upper = upper}
  local res = M.lm(lmopts)
  -- oscillators sorted by frequency (parameters and covariance reordered to match)
  local order = {}
  for k = 1, nosc do order[k] = k end
  table.sort(order, function(a, b) return res.p[3 * a - 2] < res.p[3 * b - 2] end)
  local perm = {}
  for k = 1, nosc do for c = 1, 3 do perm[3 * (k - 1) + c] = 3 * (order[k] - 1) + c end end
  if bg then perm[np] = np end
  local p, err, cov = {}, {}, {}
  for a = 1, np do
    p[a], err[a], cov[a] = res.p[perm[a]], res.err[perm[a]], {}
    for b = 1, np do cov[a][b] = res.cov[perm[a]][perm[b]] end
  end
  res.p, res.err, res.cov = p, err, cov
  res.oscillators = {}
  for k = 1, nosc do
    local i = 3 * (k - 1)
    res.oscillators[k] = {omega0 = p[i + 1], gamma = p[i + 2], A = p[i + 3],
                          err = {omega0 = err[i + 1], gamma = err[i + 2], A = err[i + 3]}}
  end
  if bg then res.background, res.background_err = p[np], err[np] end
  local f = dho_sum(nosc, bg)
  res.f = function(ww) return f(ww, p) end
  res.model = function(ww)
    if type(ww) == "number" then return f(ww, p) end
    local out, l = {}, argcheck.list_of(ww, fname, "omega")
    for i = 1, #l do out[i] = f(l[i], p) end
    return out
  end
  res.p0 = p0
  return res
end

M.__help = [[
kiln.fit: nonlinear least squares and line shapes (doc/fit.md).
  fit.lm{f=function(x, p) return y end | residual=function(p) return {r...} end, x=, y=, p0=,
         weights= | sigma=, bounds={lower=, upper=}, fixed=, jacobian=, maxit=200, tol=1e-8}
    -> {p=, cov=, err=, chi2=, dof=, chi2_reduced=, r2=, iterations=, converged=, message=, yfit=}
  fit.shapes.dho(omega, {omega0, gamma, A})      chi''(ω) = A ω0² ω γ / ((ω0² − ω²)² + (ωγ)²)
  fit.shapes.dho_s(omega, p, {T=, quantum=true}) S(ω) = [n(ω)+1] χ''(ω)/π (detailed balance)
  fit.shapes.lorentzian(x, {x0, fwhm, area}), fit.shapes.gaussian(x, {x0, fwhm, area})
  fit.dho(omega, y, {n=1|2, sigma=, weights=, range=, p0=, background=false})
    -> lm result + oscillators={{omega0=, gamma=, A=, err={...}}, ...} (sorted by omega0)]]

return M
