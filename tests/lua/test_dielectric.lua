-- kiln.dielectric: static ε from synthetic Gaussian dipole fluctuations (analytic value),
-- units against an SI hand calculation, Curie–Weiss fits (coverage of the errors), χ(ω)
-- through the dipole correlator, and damped-oscillator fits of χ''(ω).
local kiln = require "kiln"
local die = require "kiln.dielectric"
local fit = require "kiln.fit"

-- SI: ε0 = 8.8541878128e-12 F/m, e = 1.602176634e-19 C, kB = 1.380649e-23 J/K
local function factor_si(V, T)
  local qm = 1.602176634e-19 * 1e-10                 -- 1 e·Å in C·m
  return qm * qm / (8.8541878128e-12 * V * 1e-30 * 1.380649e-23 * T)
end

-- n samples of M ~ N(mu, L L^T)
local function gaussian_dipoles(n, mu, L, seed)
  local rng = kiln.Rng(seed)
  local out = {}
  for i = 1, n do
    local z = {rng:normal(), rng:normal(), rng:normal()}
    local m = {}
    for a = 1, 3 do
      m[a] = mu[a]
      for b = 1, 3 do m[a] = m[a] + L[a][b] * z[b] end
    end
    out[i] = m
  end
  return out
end

test("module is reachable as kiln.dielectric", function()
  assert(kiln.dielectric == die)
  close(1 / (4 * math.pi * die.EPS0), 14.3996454784, 1e-8)   -- 10-digit ε0, as the correlator
end)

test("units: 1/(ε0 V kT) against an SI hand calculation", function()
  -- <δM²> = 1 e²Å² along x, V = 1000 Å³, T = 300 K: Δε = (1.602e-29 C m)² / (ε0 V kB T) = 6.9995
  local s = die.static{M = {{1, 0, 0}, {-1, 0, 0}}, V = 1000, T = 300}
  close(s.factor, factor_si(1000, 300), 1e-8)
  close(s.factor, 6.99950, 1e-5)
  close(s.eps[1][1], 1 + s.factor, 1e-12)                 -- <M²> - <M>² = 1
  close(s.eps[2][2], 1, 0, 0); close(s.eps[1][2], 0, 0, 0)
  close(s.eps_iso, 1 + s.factor / 3, 1e-12)
end)

test("static ε from Gaussian fluctuations with a known covariance", function()
  local L = {{2.0, 0, 0}, {0.6, 1.2, 0}, {-0.3, 0.4, 0.8}}
  local Sigma = {}
  for a = 1, 3 do
    Sigma[a] = {}
    for b = 1, 3 do
      local s = 0
      for k = 1, 3 do s = s + L[a][k] * L[b][k] end
      Sigma[a][b] = s
    end
  end
  local N, V, T = 20000, 2000, 250
  local Ms = gaussian_dipoles(N, {3, -1, 0.5}, L, 11)
  local einf = {{5.1, 0.1, 0}, {0.1, 5.2, 0}, {0, 0, 6.0}}
  local s = die.static{M = Ms, V = V, T = T, eps_inf = einf, nblocks = 20}
  local f = factor_si(V, T)
  local worst = 0
  for a = 1, 3 do
    for b = 1, 3 do
      local exact = einf[a][b] + Sigma[a][b] * f
      -- the standard deviation of a sample covariance: sqrt((S_aa S_bb + S_ab²)/N)
      local sd = math.sqrt((Sigma[a][a] * Sigma[b][b] + Sigma[a][b] ^ 2) / N) * f
      local pull = math.abs(s.eps[a][b] - exact) / sd
      worst = math.max(worst, pull)
      if os.getenv("KILN_FIT_VERBOSE") then print("pull", a, b, pull, s.err[a][b] / sd) end
      assert(pull < 3.5, string.format("eps[%d][%d] = %g, exact %g, sd %g", a, b, s.eps[a][b], exact, sd))
      -- block-jackknife error near the analytic one (20 blocks: ~16 % scatter)
      assert(s.err[a][b] > 0.55 * sd and s.err[a][b] < 1.6 * sd,
             string.format("err[%d][%d] = %g vs analytic %g", a, b, s.err[a][b], sd))
    end
  end
  assert(s.eps[1][2] == s.eps[2][1])
  close(s.mean_M[1], 3, 0, 0.05)
  -- the same from an Array, an observer-style series and with skip
  local A = kiln.Array(Ms)
  local s2 = die.static{M = A, V = V, T = T, eps_inf = einf, nblocks = 20}
  close(s2.eps[2][3], s.eps[2][3], 1e-12)
  local s3 = die.static{M = {M = Ms, step = {}, time = {}}, V = V, T = T, eps_inf = einf, nblocks = 20}
  close(s3.eps[1][1], s.eps[1][1], 1e-12)
  local s4 = die.static{M = Ms, V = V, T = T, skip = 10000}
  assert(s4.nframes == 10000)
end)

test("static ε agrees with the dipole correlator's eps_static", function()
  local Ms = gaussian_dipoles(500, {0, 0, 0}, {{1, 0, 0}, {0.2, 1, 0}, {0, 0, 0.5}}, 3)
  local s = die.static{M = Ms, V = 800, T = 300}
  local c = die.chi(Ms, {dt = 1.0, T = 300, V = 800, window = 20})
  close(c.eps_static, s.eps_iso - 1, 1e-9)
  close(c.chi_real[1], c.eps_static, 1e-9)
  assert(#c.omega == 20 and #c.freq == 20)
  close(c.freq[2], c.omega[2] / (2 * math.pi) * 1000, 1e-12)
end)

test("Curie–Weiss: C and T0 recovered within their errors (coverage over 50 seeds)", function()
  local C, T0 = 1.5e5, 380.0
  local T = {}
  for i = 1, 12 do T[i] = 395 + 15 * i end
  local inC, inT, n = 0, 0, 50
  for seed = 1, n do
    local rng = kiln.Rng(seed)
    local e, err = {}, {}
    for i = 1, #T do
      local v = C / (T[i] - T0)
      err[i] = 0.02 * v
      e[i] = v + err[i] * rng:normal()
    end
    local r = die.curie_weiss(T, e, {errors = err})
    assert(r.converged, r.fit.message)
    if math.abs(r.C - C) <= r.err.C then inC = inC + 1 end
    if math.abs(r.T0 - T0) <= r.err.T0 then inT = inT + 1 end
  end
  if os.getenv("KILN_FIT_VERBOSE") then print("CW coverage", inC / n, inT / n) end
  assert(inC / n >= 0.5 and inC / n <= 0.85, inC / n)
  assert(inT / n >= 0.5 and inT / n <= 0.85, inT / n)
  -- noise-free with a background: exact; range selects points
  local e = {}
  for i = 1, #T do e[i] = C / (T[i] - T0) + 40 end
  local r = die.curie_weiss(T, e, {background = true})
  close(r.C, C, 1e-6); close(r.T0, T0, 1e-8); close(r.eps_b, 40, 1e-5)
  close(r.f(500), C / 120 + 40, 1e-8)
  local rf = die.curie_weiss(T, e, {background = 40, range = {450, 1000}})
  close(rf.C, C, 1e-8); close(rf.T0, T0, 1e-9)
  assert(#rf.T == 9 and rf.eps_b == 40)
end)

test("χ(ω) of a stochastic oscillator dipole: DHO fit recovers ω0 and γ", function()
  -- Langevin oscillator x'' = -ω0² x - γ x' + noise, M = (x, 0, 0): χ'' is a DHO with ω0, γ
  local w0, g, dt = 0.06, 0.01, 2.0
  local rng = kiln.Rng(21)
  local x, v, series = 1, 0, {}
  local c1 = math.exp(-g * dt)
  for i = 1, 60000 do
    -- BAOAB-like splitting: half kick, drift, friction + noise, drift, half kick
    v = v - 0.5 * dt * w0 * w0 * x
    x = x + 0.5 * dt * v
    v = c1 * v + math.sqrt(1 - c1 * c1) * rng:normal()
    x = x + 0.5 * dt * v
    v = v - 0.5 * dt * w0 * w0 * x
    series[i] = {x, 0, 0}
  end
  local r = die.dho_fit({M = series}, {dt = dt, T = 300, V = 1000, window = 1500, range = {0, 0.15}})
  assert(r.converged, r.message)
  local o = r.oscillators[1]
  if os.getenv("KILN_FIT_VERBOSE") then print("osc", o.omega0, o.err.omega0, o.gamma, o.err.gamma, o.A, r.chi.eps_static) end
  close(o.omega0, w0, 0.02)
  close(o.gamma, g, 0.25)
  -- A is the static χ'(0) of the mode: the correlator's eps_static
  close(o.A, r.chi.eps_static, 0.15)
  close(o.nu0, o.omega0 / (2 * math.pi) * 1000, 1e-12)
  -- the same from a correlator result table
  local fake = {omega = {}, chi_real = {}, chi_imag = {}, eps_static = 2.0, T = 300, volume = 1}
  for k = 1, 300 do
    local w = (k - 1) * 5e-4
    fake.omega[k] = w
    fake.chi_real[k], fake.chi_imag[k] = fit.shapes.dho_complex(w, {0.07, 0.015, 2.0})
  end
  local rf = die.dho_fit(fake, {})
  close(rf.oscillators[1].omega0, 0.07, 1e-8); close(rf.oscillators[1].gamma, 0.015, 1e-7)
  close(rf.oscillators[1].A, 2.0, 1e-7)
  local ci = die.chi(fake, {omega = {0.07}, eps_inf = 4})
  close(ci.chi_imag[1], 2.0 * 0.07 / 0.015, 1e-9); close(ci.eps_real[1], 4 + ci.chi_real[1], 1e-15)
end)

test("misuse: clear errors", function()
  checkerror("M= (total dipoles per frame, e·Å) is required", die.static, {V = 1, T = 1})
  checkerror("V= (Å³) must be a number > 0", die.static, {M = {{0, 0, 0}, {1, 1, 1}}, T = 1})
  checkerror("M[2] is not three finite numbers", die.static, {M = {{0, 0, 0}, {1, 1}}, V = 1, T = 1})
  checkerror("unknown option 'volume'", die.static, {M = {{0, 0, 0}}, volume = 1, T = 1})
  checkerror("T has 2 values but eps has 3", die.curie_weiss, {1, 2}, {1, 2, 3})
  checkerror("dt= (fs between frames)", die.chi, {{0, 0, 0}, {1, 1, 1}}, {T = 1, V = 1})
end)
