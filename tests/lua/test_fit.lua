-- kiln.fit: Levenberg–Marquardt against exact least squares, Rosenbrock, bounds, and
-- damped-oscillator fits of synthetic noisy spectra (coverage of the stated errors).
local kiln = require "kiln"
local fit = require "kiln.fit"

-- solve a small dense system by Gaussian elimination with partial pivoting (independent of fit.lua)
local function gsolve(A, b)
  local n = #b
  local M = {}
  for i = 1, n do M[i] = {} for j = 1, n do M[i][j] = A[i][j] end M[i][n + 1] = b[i] end
  for c = 1, n do
    local piv = c
    for r = c + 1, n do if math.abs(M[r][c]) > math.abs(M[piv][c]) then piv = r end end
    M[c], M[piv] = M[piv], M[c]
    for r = c + 1, n do
      local f = M[r][c] / M[c][c]
      for k = c, n + 1 do M[r][k] = M[r][k] - f * M[c][k] end
    end
  end
  local x = {}
  for i = n, 1, -1 do
    local s = M[i][n + 1]
    for k = i + 1, n do s = s - M[i][k] * x[k] end
    x[i] = s / M[i][i]
  end
  return x
end

local function inverse(A)
  local n, inv = #A, {}
  for i = 1, n do inv[i] = {} end
  for j = 1, n do
    local e = {}
    for i = 1, n do e[i] = i == j and 1 or 0 end
    local c = gsolve(A, e)
    for i = 1, n do inv[i][j] = c[i] end
  end
  return inv
end

test("module is reachable as kiln.fit", function()
  assert(kiln.fit == fit)
  assert(type(fit.lm) == "function" and type(fit.shapes.dho) == "function")
end)

test("linear model: exact weighted least squares and covariance", function()
  local x, y, w, sig = {}, {}, {}, {}
  for i = 1, 30 do
    x[i] = (i - 1) * 0.2
    y[i] = 1.3 - 0.7 * x[i] + 0.05 * x[i] ^ 2 + 0.1 * math.sin(3.1 * i)
    sig[i] = 0.05 + 0.01 * (i % 4)
    w[i] = 1 / sig[i] ^ 2
  end
  -- normal equations X^T W X p = X^T W y
  local A, b = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, {0, 0, 0}
  for i = 1, 30 do
    local row = {1, x[i], x[i] ^ 2}
    for j = 1, 3 do
      b[j] = b[j] + w[i] * row[j] * y[i]
      for k = 1, 3 do A[j][k] = A[j][k] + w[i] * row[j] * row[k] end
    end
  end
  local pex = gsolve(A, b)
  local inv = inverse(A)
  local chi2 = 0
  for i = 1, 30 do chi2 = chi2 + w[i] * (y[i] - pex[1] - pex[2] * x[i] - pex[3] * x[i] ^ 2) ^ 2 end
  local f = function(xx, p) return p[1] + p[2] * xx + p[3] * xx * xx end
  -- sigma given: covariance (X^T W X)^-1 unscaled
  local r = fit.lm{f = f, x = x, y = y, sigma = sig, p0 = {0, 0, 0}}
  assert(r.converged, r.message)
  for j = 1, 3 do close(r.p[j], pex[j], 1e-9, 1e-12) end
  for j = 1, 3 do for k = 1, 3 do close(r.cov[j][k], inv[j][k], 1e-6, 1e-14) end end
  close(r.chi2, chi2, 1e-9)
  assert(r.dof == 27)
  -- weights given: the same p, covariance scaled by chi2/dof
  local r2 = fit.lm{f = f, x = x, y = y, weights = w, p0 = {1, 1, 1}}
  for j = 1, 3 do close(r2.p[j], pex[j], 1e-9, 1e-12) end
  for j = 1, 3 do
    for k = 1, 3 do close(r2.cov[j][k], inv[j][k] * chi2 / 27, 1e-6, 1e-14) end
    close(r2.err[j], math.sqrt(inv[j][j] * chi2 / 27), 1e-6)
  end
  assert(r2.r2 > 0.99 and r2.r2 <= 1, r2.r2)
  assert(r2.iterations <= 5, r2.iterations)
end)

test("Rosenbrock converges from (-1.2, 1), with and without a Jacobian", function()
  local res = function(p) return {10 * (p[2] - p[1] ^ 2), 1 - p[1]} end
  local r = fit.lm{residual = res, p0 = {-1.2, 1}}
  assert(r.converged, r.message)
  close(r.p[1], 1, 1e-7); close(r.p[2], 1, 1e-7)
  assert(r.chi2 < 1e-14, r.chi2)
  local jr = fit.lm{residual = res, p0 = {-1.2, 1},
                    jacobian = function(p) return {{-20 * p[1], 10}, {-1, 0}} end}
  assert(jr.converged, jr.message)
  close(jr.p[1], 1, 1e-7); close(jr.p[2], 1, 1e-7)
  -- a harder start
  local r3 = fit.lm{residual = res, p0 = {-3, -4}, maxit = 500}
  assert(r3.converged, r3.message)
  close(r3.p[1], 1, 1e-6); close(r3.p[2], 1, 1e-6)
end)

test("bounds are respected (projection) and active bounds give the constrained minimum", function()
  local res = function(p) return {10 * (p[2] - p[1] ^ 2), 1 - p[1]} end
  local seen_out = false
  local r = fit.lm{residual = function(p)
                     if p[1] > 0.5 then seen_out = true end
                     return res(p)
                   end, p0 = {-1.2, 1}, bounds = {upper = {0.5, nil}}}
  assert(not seen_out, "a residual was evaluated outside the bounds")
  close(r.p[1], 0.5, 1e-12); close(r.p[2], 0.25, 1e-7)
  assert(r.at_bound[1] and not r.at_bound[2])
  -- a straight line with the slope capped: intercept = mean(y) - b mean(x) exactly
  local x, y = {}, {}
  for i = 1, 10 do x[i], y[i] = i, 2 * i + 1 + 0.1 * math.cos(i) end
  local l = fit.lm{f = function(xx, p) return p[1] + p[2] * xx end, x = x, y = y, p0 = {0, 0},
                   bounds = {lower = {-math.huge, 0}, upper = {math.huge, 1.5}}}
  close(l.p[2], 1.5, 1e-14)
  local mx, my = 0, 0
  for i = 1, 10 do mx, my = mx + x[i] / 10, my + y[i] / 10 end
  close(l.p[1], my - 1.5 * mx, 1e-9)
  -- lower bound never crossed even from a start outside (clipped)
  local q = fit.lm{f = function(xx, p)
                     assert(p[1] >= 2, "evaluated below the lower bound")
                     return p[1] * xx end, x = {1, 2, 3}, y = {1, 2, 3}, p0 = {0},
                   bounds = {lower = {2}}}
  close(q.p[1], 2, 0, 0)
end)

test("fixed parameters stay at p0", function()
  local x, y = {}, {}
  for i = 1, 10 do x[i], y[i] = i, 3 * i + 2 end
  local r = fit.lm{f = function(xx, p) return p[1] + p[2] * xx end, x = x, y = y, p0 = {1, 0},
                   fixed = {true, false}}
  assert(r.p[1] == 1)
  assert(r.dof == 9 and r.cov[1][1] == 0)
  -- least squares slope through (x, y - 1): sum x (y-1) / sum x^2
  local sxy, sxx = 0, 0
  for i = 1, 10 do sxy, sxx = sxy + x[i] * (y[i] - 1), sxx + x[i] ^ 2 end
  close(r.p[2], sxy / sxx, 1e-10)
end)

test("line shapes: DHO peak, areas, detailed balance, classical limit", function()
  local p = {0.08, 0.01, 5}
  close(fit.shapes.dho(0.08, p), 5 * 0.08 / 0.01, 1e-14)          -- A ω0/γ at ω0
  close(fit.shapes.dho(-0.05, p), -fit.shapes.dho(0.05, p), 1e-15)   -- odd
  -- Kramers–Kronig sum: (2/π) ∫_0^∞ χ''(ω)/ω dω = χ'(0) = A
  local s, h = 0, 1e-5
  for k = 1, 400000 do local w = (k - 0.5) * h; s = s + fit.shapes.dho(w, p) / w * h end
  close(2 / math.pi * s, 5, 2e-3)
  local re, im = fit.shapes.dho_complex(0, p)
  close(re, 5, 1e-15); assert(im == 0)
  -- areas
  local la, ga = 0, 0
  for k = -200000, 200000 do
    local x = k * 1e-3
    la = la + fit.shapes.lorentzian(x, {0.3, 0.5, 2.0}) * 1e-3
    ga = ga + fit.shapes.gaussian(x, {0.3, 0.5, 2.0}) * 1e-3
  end
  close(la, 2.0 / math.pi * (math.atan((200 - 0.3) / 0.25) + math.atan((200 + 0.3) / 0.25)), 1e-6)
  close(ga, 2.0, 1e-10)
  close(fit.shapes.gaussian(0.55, {0.3, 0.5, 2.0}), 0.5 * fit.shapes.gaussian(0.3, {0.3, 0.5, 2.0}), 1e-12)
  close(fit.shapes.lorentzian(0.55, {0.3, 0.5, 2.0}), 0.5 * fit.shapes.lorentzian(0.3, {0.3, 0.5, 2.0}), 1e-12)
  -- S(-ω)/S(ω) = exp(-ħω/kT)
  local hbar, kB = 0.6582119569, 8.617333262e-5
  for _, w in ipairs{0.01, 0.05, 0.1} do
    local sp = fit.shapes.dho_s(w, p, {T = 100})
    local sm = fit.shapes.dho_s(-w, p, {T = 100})
    close(sm / sp, math.exp(-hbar * w / (kB * 100)), 1e-12)
    -- classical = quantum at high T (ħω/kT -> 0)
    close(fit.shapes.dho_s(w, p, {T = 1e7, quantum = false}), fit.shapes.dho_s(w, p, {T = 1e7}), 1e-4)
  end
  -- ω = 0 is finite: kT/ħ · Aγ/ω0² / π
  close(fit.shapes.dho_s(0, p, {T = 300}), kB * 300 / hbar * 5 * 0.01 / 0.08 ^ 2 / math.pi, 1e-14)
  local v = fit.shapes.dho({0.07, 0.08}, p)
  assert(#v == 2 and v[2] == fit.shapes.dho(0.08, p))
end)

-- synthetic spectrum on 0 < ω <= 0.2 rad/fs with Gaussian noise of width sigma
local function spectrum(osc, sigma, seed, npts)
  local rng = kiln.Rng(seed)
  local w, y = {}, {}
  npts = npts or 200
  for i = 1, npts do
    w[i] = i * 0.2 / npts
    local s = 0
    for _, o in ipairs(osc) do s = s + fit.shapes.dho(w[i], o) end
    y[i] = s + sigma * rng:normal()
  end
  return w, y
end

local function coverage(osc, sigma, nseeds, n)
  local within, total, nconv = {}, 0, 0
  local np = 3 * #osc
  for j = 1, np do within[j] = 0 end
  local truth = {}
  for _, o in ipairs(osc) do for c = 1, 3 do truth[#truth + 1] = o[c] end end
  for seed = 1, nseeds do
    local w, y = spectrum(osc, sigma, seed)
    local r = fit.dho(w, y, {n = n, sigma = sigma})
    if r.converged then nconv = nconv + 1 end
    for j = 1, np do
      if math.abs(r.p[j] - truth[j]) <= r.err[j] then within[j] = within[j] + 1 end
    end
    total = total + 1
  end
  return within, total, nconv
end

test("one-oscillator DHO fits: parameters within their errors (~68 % over 50 seeds)", function()
  local osc = {{0.08, 0.012, 5.0}}
  local within, total, nconv = coverage(osc, 0.4, 50, 1)
  assert(nconv == total, nconv)
  for j = 1, 3 do
    local f = within[j] / total
    assert(f >= 0.5 and f <= 0.85, string.format("parameter %d: %.2f within 1 sigma", j, f))
  end
  -- a single fit is close and knows its errors
  local w, y = spectrum(osc, 0.4, 99)
  local r = fit.dho(w, y, {sigma = 0.4})
  assert(math.abs(r.oscillators[1].omega0 - 0.08) < 4 * r.oscillators[1].err.omega0)
  assert(r.oscillators[1].err.omega0 < 1e-3 and r.chi2_reduced > 0.7 and r.chi2_reduced < 1.3)
end)

test("two-oscillator DHO fits: initial guesses by peak finding, ~68 % coverage", function()
  local osc = {{0.05, 0.01, 4.0}, {0.12, 0.025, 2.0}}
  local within, total, nconv = coverage(osc, 0.2, 50, 2)
  assert(nconv == total, nconv)
  local all = 0
  for j = 1, 6 do
    local f = within[j] / total
    all = all + within[j]
    assert(f >= 0.5 and f <= 0.85, string.format("parameter %d: %.2f within 1 sigma", j, f))
  end
  local fa = all / (6 * total)
  assert(fa > 0.6 and fa < 0.76, fa)
  -- sorted by frequency; the weaker, broader mode second
  local w, y = spectrum(osc, 0.2, 7)
  local r = fit.dho(w, y, {n = 2, sigma = 0.2})
  assert(r.oscillators[1].omega0 < r.oscillators[2].omega0)
  close(r.oscillators[2].omega0, 0.12, 0.02)
  -- with a constant background and weights instead of sigma (covariance scaled by chi2/dof)
  for i = 1, #y do y[i] = y[i] + 0.7 end
  local rb = fit.dho(w, y, {n = 2, background = true, weights = 1})
  close(rb.background, 0.7, 0, 4 * rb.background_err)
  close(rb.oscillators[1].omega0, 0.05, 0.01)
end)

test("finite-difference and analytic Jacobians give the same DHO fit", function()
  local w, y = spectrum({{0.08, 0.012, 5.0}}, 0.3, 3)
  local a = fit.dho(w, y, {sigma = 0.3})
  local b = fit.dho(w, y, {sigma = 0.3, jacobian = false})
  for j = 1, 3 do
    close(a.p[j], b.p[j], 1e-6)
    close(a.err[j], b.err[j], 1e-4)
  end
end)

test("misuse: clear errors", function()
  checkerror("p0 (initial parameters) is required", fit.lm, {f = function() return 0 end, x = {1}, y = {1}})
  checkerror("unknown option 'foo'", fit.lm, {residual = function(p) return {p[1]} end, p0 = {1}, foo = 1})
  checkerror("give exactly one of f=", fit.lm, {p0 = {1}})
  checkerror("x has 2 values but y has 3", fit.lm, {f = function() return 0 end, x = {1, 2}, y = {1, 2, 3}, p0 = {1}})
  checkerror("bounds: lower[1] = 2 > upper[1] = 1", fit.lm,
             {residual = function(p) return {p[1]} end, p0 = {1}, bounds = {lower = {2}, upper = {1}}})
  checkerror("sigma[2] must be > 0", fit.lm, {f = function() return 0 end, x = {1, 2}, y = {1, 2}, p0 = {1}, sigma = {1, 0}})
  checkerror("the residual at p0 is not finite", fit.lm, {f = function() return 0 / 0 end, x = {1, 2}, y = {1, 2}, p0 = {1}})
  checkerror("n must be 1 or 2", fit.dho, {1, 2, 3, 4, 5}, {0, 1, 2, 1, 0}, {n = 3})
  checkerror("T= (K, > 0) is required", fit.shapes.dho_s, 0.1, {0.1, 0.01, 1})
end)
