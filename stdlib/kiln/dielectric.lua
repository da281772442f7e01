-- kiln.dielectric: dielectric response from total-dipole data. Pure Lua; see doc/dielectric.md.
--
--   dielectric.static{M=, V=, T=, eps_inf=1, nblocks=10, skip=0}
--     -> {eps= 3x3, err= 3x3, eps_iso=, err_iso=, cov_M= 3x3 (e² Å²), mean_M=, factor=, ...}
--     ε_ab = ε∞_ab + (⟨M_a M_b⟩ − ⟨M_a⟩⟨M_b⟩) / (ε0 V k_B T), errors by block jackknife
--   dielectric.curie_weiss(T, eps, {errors=, range={Tmin, Tmax}, background=false, p0=})
--     -> {C=, T0=, eps_b=, err={C=, T0=, eps_b=}, cov=, chi2=, dof=, r2=, fit=, f=}
--   dielectric.chi(src, {omega=, eps_inf=, dt=, window=, T=, V=, window_function=, step=})
--     -> {omega=, freq=, chi_real=, chi_imag=, eps_real=, eps_imag=, eps_static=, T=, volume=}
--     src: a kiln.correlator.dipole, its result, or a dipole series (then dt=, T=, V= needed)
--   dielectric.dho_fit(src, {n=1|2, range=, sigma=, weights=, background=, p0=, + chi options})
--     -> kiln.fit.dho on χ''(ω), with .chi and oscillator frequencies nu0 (THz)
-- Units: M in e·Å, V in Å³, T in K, ω in rad/fs. ε0 = 5.526349406e-3 e²/(eV·Å).

local argcheck = require "kiln.argcheck"
argcheck.internal()
local fail, is_array, check_keys = argcheck.fail, argcheck.is_array, argcheck.check_keys
local fit = require "kiln.fit"

local M = {}

-- ε0 in e²/(eV Å): 8.8541878128e-12 C²/(J m) × (1 J/eV = 1.602176634e-19) / (e² = (1.602176634e-19 C)²)
-- / (1e10 Å/m) = 8.8541878128e-12 / 1.602176634e-9 = 5.526349406e-3; equivalently
-- 1/(4π ε0) = 14.3996454784 eV Å / e².
M.EPS0 = 5.526349406e-3
M.KB = 8.617333262e-5            -- eV/K

local sqrt, abs, huge = math.sqrt, math.abs, math.huge
local function isnum(x) return type(x) == "number" and x == x and x ~= huge and x ~= -huge end

-- A dipole series as a Lua list of {x, y, z}: list of triples, n x 3 kiln.Array, or a
-- table with field M (kiln.dipole observer series or model:series()).
local function dipoles_of(src, fname)
  local Ms = src
  if type(src) == "table" and not is_array(src) and src.M ~= nil then Ms = src.M end
  if is_array(Ms) then
    local _, c = Ms:shape()
    if c ~= 3 then fail(fname, "M must have 3 columns (got " .. c .. ")") end
    Ms = Ms:totable()
  end
  if type(Ms) ~= "table" then
    fail(fname, "M must be a list of {Mx, My, Mz} (e·Å), an n x 3 kiln.Array or a dipole series {M=} (got " .. type(Ms) .. ")")
  end
  for i = 1, #Ms do
    local v = Ms[i]
    if type(v) ~= "table" or not (isnum(v[1]) and isnum(v[2]) and isnum(v[3])) then
      fail(fname, string.format("M[%d] is not three finite numbers {Mx, My, Mz}", i))
    end
  end
  return Ms
end

local function mat3(v, fname, what)
  if type(v) == "number" then return {{v, 0, 0}, {0, v, 0}, {0, 0, v}} end
  if is_array(v) then v = v:totable() end
  if type(v) == "table" and #v == 3 and type(v[1]) == "number" then
    return {{v[1], 0, 0}, {0, v[2], 0}, {0, 0, v[3]}}
  end
  if type(v) ~= "table" or #v ~= 3 then fail(fname, what .. " must be a number, 3 diagonal values or a 3x3 table") end
  for a = 1, 3 do
    if type(v[a]) ~= "table" then fail(fname, what .. " must be a number, 3 diagonal values or a 3x3 table") end
    for b = 1, 3 do
      if not isnum(v[a][b]) then fail(fname, string.format("%s[%d][%d] is not a number", what, a, b)) end
    end
  end
  return v
end

local function posnum(v, fname, what, unit)
  if not (isnum(v) and v > 0) then
    fail(fname, string.format("%s= (%s) must be a number > 0 (got %s)", what, unit, tostring(v)))
  end
  return v
end

---------------------------------------------------------------- static ε
-- ε from sums over frames: s1[a] = Σ M_a, s2[a][b] = Σ M_a M_b, count n
local function eps_from(s1, s2, n, factor, einf)
  local e = {}
  for a = 1, 3 do
    e[a] = {}
    for b = 1, 3 do
      local c = s2[a][b] / n - (s1[a] / n) * (s1[b] / n)
      e[a][b] = einf[a][b] + c * factor
    end
  end
  return e
end

function M.static(o)
  local fname = "kiln.dielectric.static"
  if type(o) ~= "table" then fail(fname, "options table expected (got " .. type(o) .. ")") end
  check_keys(fname, o, {"M", "V", "T", "eps_inf", "nblocks", "skip"})
  if o.M == nil then fail(fname, "M= (total dipoles per frame, e·Å) is required") end
  local Ms = dipoles_of(o.M, fname)
  local V = posnum(o.V, fname, "V", "Å³")
  local T = posnum(o.T, fname, "T", "K")
  local einf = mat3(o.eps_inf == nil and 1.0 or o.eps_inf, fname, "eps_inf")
  local skip = o.skip or 0
  if not (math.type(skip) == "integer" and skip >= 0) then fail(fname, "skip must be an integer >= 0") end
  local n = #Ms - skip
  if n < 2 then fail(fname, string.format("need at least 2 frames after skip (got %d)", n)) end
  local nb = o.nblocks or 10
  if not (math.type(nb) == "integer" and nb >= 2) then fail(fname, "nblocks must be an integer >= 2 (got " .. tostring(nb) .. ")") end
  if nb > n then nb = n end
  local factor = 1.0 / (M.EPS0 * V * M.KB * T)
  -- per-block sums (the last block takes the remainder)
  local bsize = n // nb
  local b1, b2, bn = {}, {}, {}
  for k = 1, nb do
    b1[k] = {0, 0, 0}; b2[k] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}; bn[k] = 0
  end
  -- centre on the first frame for numerical stability (ε is shift invariant)
  local m0 = Ms[skip + 1]
  for i = 1, n do
    local v = Ms[skip + i]
    local k = math.min((i - 1) // bsize + 1, nb)
    local d = {v[1] - m0[1], v[2] - m0[2], v[3] - m0[3]}
    local s1, s2 = b1[k], b2[k]
    for a = 1, 3 do
      s1[a] = s1[a] + d[a]
      for b = 1, 3 do s2[a][b] = s2[a][b] + d[a] * d[b] end
    end
    bn[k] = bn[k] + 1
  end
  local t1, t2 = {0, 0, 0}, {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}
  for k = 1, nb do
    for a = 1, 3 do
      t1[a] = t1[a] + b1[k][a]
      for b = 1, 3 do t2[a][b] = t2[a][b] + b2[k][a][b] end
    end
  end
  local eps = eps_from(t1, t2, n, factor, einf)
  -- delete-one-block jackknife
  local jk = {}
  for k = 1, nb do
    local s1, s2 = {}, {}
    for a = 1, 3 do
      s1[a] = t1[a] - b1[k][a]
      s2[a] = {}
      for b = 1, 3 do s2[a][b] = t2[a][b] - b2[k][a][b] end
    end
    jk[k] = eps_from(s1, s2, n - bn[k], factor, einf)
  end
  local err = {}
  local iso, jiso = (eps[1][1] + eps[2][2] + eps[3][3]) / 3, {}
  for k = 1, nb do jiso[k] = (jk[k][1][1] + jk[k][2][2] + jk[k][3][3]) / 3 end
  local function jkerr(get)
    local mean = 0.0
    for k = 1, nb do mean = mean + get(k) end
    mean = mean / nb
    local s = 0.0
    for k = 1, nb do s = s + (get(k) - mean) ^ 2 end
    return sqrt((nb - 1) / nb * s)
  end
  for a = 1, 3 do
    err[a] = {}
    for b = 1, 3 do err[a][b] = jkerr(function(k) return jk[k][a][b] end) end
  end
  local cov, mean = {}, {}
  for a = 1, 3 do
    mean[a] = m0[a] + t1[a] / n
    cov[a] = {}
    for b = 1, 3 do cov[a][b] = t2[a][b] / n - (t1[a] / n) * (t1[b] / n) end
  end
  return {eps = eps, err = err, eps_iso = iso, err_iso = jkerr(function(k) return jiso[k] end),
          cov_M = cov, mean_M = mean, factor = factor, nframes = n, nblocks = nb,
          V = V, T = T, eps_inf = einf}
end

---------------------------------------------------------------- Curie–Weiss
function M.curie_weiss(T, eps, o)
  local fname = "kiln.dielectric.curie_weiss"
  o = check_keys(fname, o, {"errors", "range", "background", "p0", "maxit", "tol"})
  local Tl = argcheck.list_of(T, fname, "T")
  local el = argcheck.list_of(eps, fname, "eps")
  if #Tl ~= #el then fail(fname, string.format("T has %d values but eps has %d", #Tl, #el)) end
  local errl
  if o.errors ~= nil then
    errl = argcheck.list_of(o.errors, fname, "errors")
    if #errl == 1 and #Tl > 1 then for i = 2, #Tl do errl[i] = errl[1] end end
    if #errl ~= #Tl then fail(fname, string.format("errors has %d values but T has %d", #errl, #Tl)) end
  end
  local lo, hi = -huge, huge
  if o.range ~= nil then
    if type(o.range) ~= "table" or not isnum(o.range[1]) or not isnum(o.range[2]) then
      fail(fname, "range must be {Tmin, Tmax} (K)")
    end
    lo, hi = o.range[1], o.range[2]
  end
  local xs, ys, ss = {}, {}, {}
  for i = 1, #Tl do
    if Tl[i] >= lo and Tl[i] <= hi then
      xs[#xs + 1], ys[#xs + 1] = Tl[i], el[i]
      if errl then ss[#xs] = errl[i] end
    end
  end
  local bg = o.background
  local freebg = bg == true
  local fixbg = type(bg) == "number" and bg or 0.0
  if bg ~= nil and type(bg) ~= "boolean" and type(bg) ~= "number" then
    fail(fname, "background must be true (fit ε_b), false (0) or a number (fixed ε_b)")
  end
  local np = freebg and 3 or 2
  if #xs < np + 1 then fail(fname, string.format("%d points in range for %d parameters", #xs, np)) end
  local Tmin = huge
  for i = 1, #xs do if xs[i] < Tmin then Tmin = xs[i] end end
  local p0 = o.p0
  if p0 == nil then
    -- 1/(ε − ε_b) = (T − T0)/C: a straight line in T
    local sx, sy, sxx, sxy, k = 0, 0, 0, 0, 0
    for i = 1, #xs do
      local d = ys[i] - fixbg
      if d > 0 then
        local u = 1 / d
        sx, sy, sxx, sxy, k = sx + xs[i], sy + u, sxx + xs[i] ^ 2, sxy + xs[i] * u, k + 1
      end
    end
    local den = k * sxx - sx * sx
    if k < 2 or den == 0 then fail(fname, "cannot guess C and T0 (need ε − ε_b > 0 at two temperatures); give p0=") end
    local slope = (k * sxy - sx * sy) / den
    local icpt = (sy - slope * sx) / k
    if not (slope > 0) then fail(fname, "1/ε does not increase with T in the range: not Curie–Weiss-like; check range= or give p0=") end
    p0 = {1 / slope, -icpt / slope}
    if p0[2] >= Tmin then p0[2] = Tmin - 0.1 * math.max(1, abs(Tmin)) end
    if freebg then p0[3] = fixbg end
  else
    p0 = argcheck.list_of(p0, fname, "p0")
    if #p0 ~= np then fail(fname, string.format("p0 must have %d values {C, T0%s}", np, freebg and ", eps_b" or "")) end
  end
  local model = function(t, p) return p[1] / (t - p[2]) + (freebg and p[3] or fixbg) end
  local jac = function(t, p)
    local d = t - p[2]
    return {1 / d, p[1] / (d * d), 1.0}
  end
  local upper = {huge, Tmin - 1e-9 * math.max(1, abs(Tmin))}
  local res = fit.lm{f = model, jacobian = jac, x = xs, y = ys, p0 = p0,
                     sigma = errl and ss or nil, bounds = {upper = upper},
                     maxit = o.maxit, tol = o.tol, names = {"C", "T0", "eps_b"}}
  local p, e = res.p, res.err
  return {C = p[1], T0 = p[2], eps_b = freebg and p[3] or fixbg,
          err = {C = e[1], T0 = e[2], eps_b = freebg and e[3] or 0.0},
          cov = res.cov, chi2 = res.chi2, dof = res.dof, chi2_reduced = res.chi2_reduced,
          r2 = res.r2, converged = res.converged, fit = res, T = xs, eps = ys,
          f = function(t) return model(t, p) end}
end

---------------------------------------------------------------- χ(ω)
local function tolist(a)
  if a == nil then return nil end
  if is_array(a) then
    local t = a:totable()
    for i = 1, #t do if type(t[i]) == "table" then t[i] = t[i][1] end end
    return t
  end
  return a
end

local function scalar(a)
  if is_array(a) then return a:get(1, 1) end
  if type(a) == "table" then return a[1] end
  return a
end

local function interp(xs, ys, x)
  local n = #xs
  if x <= xs[1] then return ys[1] end
  if x >= xs[n] then return ys[n] end
  local lo, hi = 1, n
  while hi - lo > 1 do
    local mid = (lo + hi) // 2
    if xs[mid] <= x then lo = mid else hi = mid end
  end
  local t = (x - xs[lo]) / (xs[hi] - xs[lo])
  return ys[lo] + t * (ys[hi] - ys[lo])
end

local CHI_KEYS = {"omega", "eps_inf", "dt", "window", "T", "V", "window_function", "step"}

function M.chi(src, o)
  local fname = "kiln.dielectric.chi"
  o = check_keys(fname, o, CHI_KEYS)
  local res
  if type(src) == "userdata" or (type(src) == "table" and type(src.result) == "function") then
    res = src:result()                                  -- a kiln.correlator.dipole
  elseif type(src) == "table" and not is_array(src) and src.chi_imag ~= nil then
    res = src                                           -- its result table
  else
    -- a dipole series: feed a dipole correlator with it
    local Ms = dipoles_of(src, fname)
    local dt = o.dt
    local times = type(src) == "table" and not is_array(src) and src.time or nil
    if is_array(times) then times = tolist(times) end
    if dt == nil and times and #times >= 2 then dt = times[2] - times[1] end
    posnum(dt, fname, "dt", "fs between frames")
    local T = posnum(o.T, fname, "T", "K")
    local V = posnum(o.V, fname, "V", "Å³")
    local window = o.window or math.min(500, #Ms)
    local corr = require("kiln.correlator").dipole{window = window, T = T, volume = V,
                                                   window_function = o.window_function,
                                                   step = o.step}
    local L = V ^ (1 / 3)
    local kiln = require "kiln"
    local a = kiln.Atoms{cell = {{L, 0, 0}, {0, L, 0}, {0, 0, L}}, symbols = {"H"}, positions = {{0, 0, 0}}}
    for i = 1, #Ms do
      a.info.dipole = {Ms[i][1], Ms[i][2], Ms[i][3]}
      corr:add(a, (i - 1) * dt)
    end
    res = corr:result()
  end
  local om = tolist(res.omega)
  local cr, ci = tolist(res.chi_real), tolist(res.chi_imag)
  if not (om and cr and ci) then fail(fname, "the source has no omega/chi_real/chi_imag (not a dipole correlator result)") end
  local einf = o.eps_inf or 1.0
  if not isnum(einf) then fail(fname, "eps_inf must be a number") end
  local out = {T = scalar(res.T), volume = scalar(res.volume), eps_static = scalar(res.eps_static),
               result = res, eps_inf = einf}
  if o.omega ~= nil then
    local w = argcheck.list_of(o.omega, fname, "omega")
    local r2, i2 = {}, {}
    for k = 1, #w do r2[k], i2[k] = interp(om, cr, w[k]), interp(om, ci, w[k]) end
    om, cr, ci = w, r2, i2
  end
  local fr, er = {}, {}
  for k = 1, #om do fr[k] = om[k] / (2 * math.pi) * 1000; er[k] = einf + cr[k] end
  out.omega, out.freq, out.chi_real, out.chi_imag = om, fr, cr, ci
  out.eps_real, out.eps_imag = er, ci
  return out
end

function M.dho_fit(src, o)
  local fname = "kiln.dielectric.dho_fit"
  local fitkeys = {"n", "range", "sigma", "weights", "background", "p0", "bounds", "maxit", "tol"}
  local all = {}
  for _, k in ipairs(fitkeys) do all[#all + 1] = k end
  for _, k in ipairs(CHI_KEYS) do all[#all + 1] = k end
  o = check_keys(fname, o, all)
  local copts, fopts = {}, {}
  for _, k in ipairs(CHI_KEYS) do copts[k] = o[k] end
  for _, k in ipairs(fitkeys) do fopts[k] = o[k] end
  local chi = M.chi(src, copts)
  -- leave out ω = 0 (χ'' = 0 there by construction) unless a range says otherwise
  if fopts.range == nil then fopts.range = {1e-300, huge} end
  local res = fit.dho(chi.omega, chi.chi_imag, fopts)
  for _, osc in ipairs(res.oscillators) do
    osc.nu0 = osc.omega0 / (2 * math.pi) * 1000
    osc.err.nu0 = osc.err.omega0 / (2 * math.pi) * 1000
  end
  res.chi = chi
  return res
end

M.__help = [[
kiln.dielectric: dielectric response from total dipoles (doc/dielectric.md). Units: M e·Å, V Å³, T K,
ω rad/fs; ε0 = 5.526349406e-3 e²/(eV·Å).
  static{M=, V=, T=, eps_inf=1, nblocks=10, skip=0} -> {eps=3x3, err=3x3, eps_iso=, err_iso=, cov_M=, mean_M=}
      ε = ε∞ + (⟨MM⟩ − ⟨M⟩⟨M⟩)/(ε0 V k_B T); errors by delete-one-block jackknife
  curie_weiss(T, eps, {errors=, range={Tmin,Tmax}, background=false|true|number, p0=})
      -> {C=, T0=, eps_b=, err={C=,T0=,eps_b=}, cov=, chi2=, dof=, r2=, f=}: ε = C/(T − T0) + ε_b
  chi(src, {omega=, eps_inf=, dt=, T=, V=, window=}) -> {omega=, freq=, chi_real=, chi_imag=, eps_real=, ...}
      src: kiln.correlator.dipole (or its result) or a dipole series (list, Array, observer series)
  dho_fit(src, {n=1|2, range=, sigma=, background=, + chi options}) -> kiln.fit.dho result on χ''(ω)]]

return M
