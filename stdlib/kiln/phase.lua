-- kiln.phase: phase analysis of order parameters and collective variables (pure Lua;
-- see doc/phase.md). Data are kiln.Arrays (n x d) or Lua tables of rows (a plain list
-- of numbers is n x 1); frame weights (weights=) for biased runs are accepted
-- everywhere. Energies in eV, temperatures in K.
--
--   phase.pca(X, {center=true, scale=false, k=, weights=}) -> {mean, components, variance, ratio, scores}
--   phase.gmm(X, {k= | kmax=, seed=1, restarts=3, tol=1e-6, maxit=500, weights=,
--                 covariance="full"|"diag", reg=1e-6}) -> model (model:posterior/predict/logpdf)
--   phase.populations(P | labels, {weights=, k=, nblocks=}) -> fractions, errors
--   phase.delta_g(pA, pB, T) -> ΔG = -kT ln(pB/pA)   |   phase.delta_g{P=, A=, B=, T=, ...} -> ΔG, err
--   phase.block_average(series, {nblocks=20, weights=}) -> mean, sem, info
--   phase.combine{run1, run2, ...} -> mean, err, info    (runs: numbers or {value, err})
--   phase.delta_mu(T, dG, {errors=, scale=}) -> fit {a, b, cov, Tc, Tc_err, dH, dS, ...}
--   phase.tc{T=, dG=, errors= | P=, A=, B=, weights=, nblocks=} -> the same fit (+ dG, errors)
--   phase.fep{energies_A=, energies_B= | dE= | frames=, A=, B=; T=, weights=, nblocks=, bootstrap=, seed=}
--       -> {dG, err, n_eff, n, mean_dE, dG2}
--   phase.profile(s, {T=, bins=50, range=, weights=, nblocks=10}) -> {s, F, err, p, edges, counts}
--   phase.plot_map(X2, P, {file="map.png", phase=, model=, xlabel=, ylabel=, title=, colors=})
local carray = require "kiln.c.array"
local cunits = require "kiln.c.units"
local crng = require "kiln.c.rng"
local argcheck = require "kiln.argcheck"
argcheck.internal()

local M = {}
local fail, check_keys, is_array = argcheck.fail, argcheck.check_keys, argcheck.is_array
local sqrt, log, exp, abs, floor, huge = math.sqrt, math.log, math.exp, math.abs, math.floor, math.huge
local kB = cunits.kB
local LOG2PI = log(2 * math.pi)

local function isnum(x) return type(x) == "number" and x == x and x ~= huge and x ~= -huge end

---------------------------------------------------------------- input helpers
-- rows (list of lists), n, d from a kiln.Array, a table of rows or a list of numbers
local function matrix(X, fname, name)
  name = name or "X"
  if is_array(X) then X = X:totable() end
  if type(X) ~= "table" then
    fail(fname, string.format("%s must be a kiln.Array (n x d) or a table of rows (got %s)", name, type(X)))
  end
  local n = #X
  if n == 0 then fail(fname, name .. " is empty") end
  local rows, d = {}, nil
  if type(X[1]) == "number" then
    d = 1
    for i = 1, n do
      local v = X[i]
      if not isnum(v) then fail(fname, string.format("%s[%d] is not a finite number (got %s)", name, i, tostring(v))) end
      rows[i] = {v}
    end
    return rows, n, d
  end
  for i = 1, n do
    local r = X[i]
    if is_array(r) then r = r:totable() end
    if type(r) ~= "table" then
      fail(fname, string.format("%s[%d] must be a row (table of numbers) (got %s)", name, i, type(r)))
    end
    d = d or #r
    if #r ~= d or d == 0 then
      fail(fname, string.format("%s[%d] has %d values but %s[1] has %d", name, i, #r, name, d))
    end
    local row = {}
    for j = 1, d do
      local v = r[j]
      if type(v) == "table" then v = v[1] end
      if not isnum(v) then
        fail(fname, string.format("%s[%d][%d] is not a finite number (got %s)", name, i, j, tostring(v)))
      end
      row[j] = v
    end
    rows[i] = row
  end
  return rows, n, d
end

local function vector(x, fname, name)
  local v = argcheck.list_of(x, fname, name)
  for i = 1, #v do
    if not isnum(v[i]) then fail(fname, string.format("%s[%d] is not finite (got %s)", name, i, tostring(v[i]))) end
  end
  return v
end

-- frame weights: nil (all 1) or a list of n finite numbers >= 0 with a positive sum
local function weights(w, n, fname)
  if w == nil then return nil end
  local v = argcheck.list_of(w, fname, "weights")
  if #v ~= n then fail(fname, string.format("weights has %d values but there are %d frames", #v, n)) end
  local s = 0
  for i = 1, n do
    if not isnum(v[i]) or v[i] < 0 then
      fail(fname, string.format("weights[%d] must be a finite number >= 0 (got %s)", i, tostring(v[i])))
    end
    s = s + v[i]
  end
  if not (s > 0) then fail(fname, "weights sum to zero") end
  return v
end

local function temperature(T, fname)
  if not isnum(T) or T <= 0 then fail(fname, "T must be a temperature > 0 K (got " .. tostring(T) .. ")") end
  return T
end

local function posint(v, fname, name, def, lo)
  if v == nil then return def end
  lo = lo or 1
  if math.type(v) ~= "integer" and not (isnum(v) and v == floor(v)) then
    fail(fname, string.format("%s must be an integer >= %d (got %s)", name, lo, tostring(v)))
  end
  v = floor(v)
  if v < lo then fail(fname, string.format("%s must be an integer >= %d (got %d)", name, lo, v)) end
  return v
end

-- Kish effective sample size of weights (n when unweighted)
local function kish(w, n)
  if not w then return n end
  local s, s2 = 0, 0
  for i = 1, n do s = s + w[i]; s2 = s2 + w[i] * w[i] end
  return s * s / s2
end

---------------------------------------------------------------- small linear algebra
-- Eigenvalues (descending) and eigenvectors (columns V[i][j]: component i of vector j) of a
-- symmetric d x d matrix by cyclic Jacobi rotations.
local function eigsym(A, d)
  local a, V = {}, {}
  for i = 1, d do
    a[i], V[i] = {}, {}
    for j = 1, d do a[i][j] = A[i][j]; V[i][j] = (i == j) and 1 or 0 end
  end
  local scale = 0
  for i = 1, d do for j = 1, d do scale = scale + a[i][j] ^ 2 end end
  for _ = 1, 100 do
    local off = 0
    for p = 1, d - 1 do for q = p + 1, d do off = off + a[p][q] ^ 2 end end
    if off <= 1e-30 * scale or off == 0 then break end
    for p = 1, d - 1 do
      for q = p + 1, d do
        local apq = a[p][q]
        if apq ~= 0 then
          local theta = (a[q][q] - a[p][p]) / (2 * apq)
          local t = (theta >= 0 and 1 or -1) / (abs(theta) + sqrt(theta * theta + 1))
          local c = 1 / sqrt(t * t + 1)
          local s = t * c
          for k = 1, d do
            local akp, akq = a[k][p], a[k][q]
            a[k][p], a[k][q] = c * akp - s * akq, s * akp + c * akq
          end
          for k = 1, d do
            local apk, aqk = a[p][k], a[q][k]
            a[p][k], a[q][k] = c * apk - s * aqk, s * apk + c * aqk
          end
          for k = 1, d do
            local vkp, vkq = V[k][p], V[k][q]
            V[k][p], V[k][q] = c * vkp - s * vkq, s * vkp + c * vkq
          end
        end
      end
    end
  end
  local order = {}
  for j = 1, d do order[j] = j end
  table.sort(order, function(x, y) return a[x][x] > a[y][y] end)
  local w, vec = {}, {}
  for jj, j in ipairs(order) do
    w[jj] = a[j][j]
    for i = 1, d do vec[i] = vec[i] or {}; vec[i][jj] = V[i][j] end
  end
  return w, vec
end
M._eigsym = eigsym

-- Cholesky factor (lower, rows) of a symmetric positive-definite matrix, or nil
local function chol(S, d)
  local L = {}
  for i = 1, d do L[i] = {}; for j = 1, d do L[i][j] = 0 end end
  for j = 1, d do
    local s = S[j][j]
    for k = 1, j - 1 do s = s - L[j][k] ^ 2 end
    if not (s > 0) then return nil end
    local ljj = sqrt(s)
    L[j][j] = ljj
    for i = j + 1, d do
      local t = S[i][j]
      for k = 1, j - 1 do t = t - L[i][k] * L[j][k] end
      L[i][j] = t / ljj
    end
  end
  return L
end

---------------------------------------------------------------- weighted moments
local function wmean_cov(X, n, d, w)
  local W, W2 = 0, 0
  local mu = {}
  for a = 1, d do mu[a] = 0 end
  for i = 1, n do
    local wi = w and w[i] or 1
    W, W2 = W + wi, W2 + wi * wi
    local x = X[i]
    for a = 1, d do mu[a] = mu[a] + wi * x[a] end
  end
  for a = 1, d do mu[a] = mu[a] / W end
  local C = {}
  for a = 1, d do C[a] = {}; for b = 1, d do C[a][b] = 0 end end
  for i = 1, n do
    local wi = w and w[i] or 1
    local x = X[i]
    for a = 1, d do
      local da = wi * (x[a] - mu[a])
      local Ca = C[a]
      for b = a, d do Ca[b] = Ca[b] + da * (x[b] - mu[b]) end
    end
  end
  -- reliability-weights correction: n - 1 for unit weights
  local den = W - W2 / W
  if not (den > 0) then den = W end
  for a = 1, d do for b = a, d do C[a][b] = C[a][b] / den; C[b][a] = C[a][b] end end
  return mu, C, W
end

---------------------------------------------------------------- PCA
function M.pca(X, o)
  local fname = "phase.pca"
  o = check_keys(fname, o, {"center", "scale", "k", "weights"})
  local rows, n, d = matrix(X, fname)
  local w = weights(o.weights, n, fname)
  local k = posint(o.k, fname, "k", d)
  if k > d then fail(fname, string.format("k = %d exceeds the number of columns %d", k, d)) end
  local mu, C = wmean_cov(rows, n, d, w)
  if o.center == false then
    -- second moments about the origin
    local W = 0
    for a = 1, d do for b = 1, d do C[a][b] = 0 end end
    for i = 1, n do
      local wi = w and w[i] or 1
      W = W + wi
      for a = 1, d do for b = 1, d do C[a][b] = C[a][b] + wi * rows[i][a] * rows[i][b] end end
    end
    for a = 1, d do for b = 1, d do C[a][b] = C[a][b] / W end end
    for a = 1, d do mu[a] = 0 end
  end
  local sd = {}
  for a = 1, d do sd[a] = 1 end
  if o.scale then
    for a = 1, d do
      sd[a] = sqrt(C[a][a])
      if not (sd[a] > 0) then sd[a] = 1 end
    end
    for a = 1, d do for b = 1, d do C[a][b] = C[a][b] / (sd[a] * sd[b]) end end
  end
  local lam, V = eigsym(C, d)
  local comps, total = {}, 0
  for j = 1, d do
    -- sign: the largest-magnitude component positive
    local big, sgn = 0, 1
    for i = 1, d do if abs(V[i][j]) > big then big = abs(V[i][j]); sgn = V[i][j] < 0 and -1 or 1 end end
    comps[j] = {}
    for i = 1, d do comps[j][i] = sgn * V[i][j] end
    if lam[j] < 0 then lam[j] = 0 end
    total = total + lam[j]
  end
  local ratio = {}
  for j = 1, d do ratio[j] = total > 0 and lam[j] / total or 0 end
  local scores = {}
  for i = 1, n do
    local x, s = rows[i], {}
    for j = 1, k do
      local c, v = comps[j], 0
      for a = 1, d do v = v + c[a] * (x[a] - mu[a]) / sd[a] end
      s[j] = v
    end
    scores[i] = s
  end
  local res = {mean = mu, scale = sd, components = comps, variance = lam, ratio = ratio, scores = scores, k = k}
  function res.transform(_, Y)
    local ry, ny, dy = matrix(Y, "pca:transform", "X")
    if dy ~= d then fail("pca:transform", string.format("X has %d columns but the PCA has %d", dy, d)) end
    local out = {}
    for i = 1, ny do
      local s = {}
      for j = 1, k do
        local c, v = comps[j], 0
        for a = 1, d do v = v + c[a] * (ry[i][a] - mu[a]) / sd[a] end
        s[j] = v
      end
      out[i] = s
    end
    return out
  end
  return res
end

---------------------------------------------------------------- Gaussian mixtures
local Model = {}
Model.__index = Model

-- component j: log of its normalised density at x
local function comp_logpdf(c, x, d)
  local L, mu = c.L, c.mu
  local z, m = {}, 0
  for a = 1, d do
    local t = x[a] - mu[a]
    local La = L[a]
    for b = 1, a - 1 do t = t - La[b] * z[b] end
    t = t / La[a]
    z[a] = t
    m = m + t * t
  end
  return c.lognorm - 0.5 * m
end

local function prepare(c, d)
  local L = chol(c.cov, d)
  if not L then return false end
  c.L = L
  local ld = 0
  for a = 1, d do ld = ld + log(L[a][a]) end
  c.lognorm = -0.5 * d * LOG2PI - ld
  return true
end

-- E step: responsibilities R (n x k, overwritten) and the weighted log-likelihood
local function estep(comps, k, X, n, d, w, R)
  local ll = 0
  local lp, v = {}, {}
  for j = 1, k do lp[j] = log(comps[j].weight) + comps[j].lognorm end
  if d == 2 then
    -- unrolled 2-D case (the usual CV map): z = L^-1 (x - mu)
    local m1, m2, i11, l21, i22 = {}, {}, {}, {}, {}
    for j = 1, k do
      local c = comps[j]
      m1[j], m2[j] = c.mu[1], c.mu[2]
      i11[j], l21[j], i22[j] = 1 / c.L[1][1], c.L[2][1], 1 / c.L[2][2]
    end
    for i = 1, n do
      local x = X[i]
      local x1, x2 = x[1], x[2]
      local m = -huge
      for j = 1, k do
        local z1 = (x1 - m1[j]) * i11[j]
        local z2 = (x2 - m2[j] - l21[j] * z1) * i22[j]
        local t = lp[j] - 0.5 * (z1 * z1 + z2 * z2)
        v[j] = t
        if t > m then m = t end
      end
      local s = 0
      for j = 1, k do local e = exp(v[j] - m); v[j] = e; s = s + e end
      local r = R[i]
      for j = 1, k do r[j] = v[j] / s end
      ll = ll + (w and w[i] or 1) * (m + log(s))
    end
    return ll
  end
  for i = 1, n do
    local x = X[i]
    local m = -huge
    for j = 1, k do
      local t = lp[j] - comps[j].lognorm + comp_logpdf(comps[j], x, d)
      v[j] = t
      if t > m then m = t end
    end
    local s = 0
    for j = 1, k do local e = exp(v[j] - m); v[j] = e; s = s + e end
    local r = R[i]
    for j = 1, k do r[j] = v[j] / s end
    ll = ll + (w and w[i] or 1) * (m + log(s))
  end
  return ll
end

local function mstep(comps, k, X, n, d, w, R, W, reg, diag)
  -- one pass: weighted counts and means; a second: scatter about the new means
  local N, MU = {}, {}
  for j = 1, k do
    N[j] = 0
    local mu = {}
    for a = 1, d do mu[a] = 0 end
    MU[j] = mu
  end
  for i = 1, n do
    local r, x, wi = R[i], X[i], w and w[i] or 1
    for j = 1, k do
      local rw = r[j] * wi
      if rw > 0 then
        N[j] = N[j] + rw
        local mu = MU[j]
        for a = 1, d do mu[a] = mu[a] + rw * x[a] end
      end
    end
  end
  local S = {}
  for j = 1, k do
    if N[j] > 0 then for a = 1, d do MU[j][a] = MU[j][a] / N[j] end end
    local Sj = {}
    for a = 1, d do Sj[a] = {}; for b = 1, d do Sj[a][b] = 0 end end
    S[j] = Sj
  end
  if d == 2 and not diag then
    local s11, s12, s22 = {}, {}, {}
    for j = 1, k do s11[j], s12[j], s22[j] = 0, 0, 0 end
    for i = 1, n do
      local r, x, wi = R[i], X[i], w and w[i] or 1
      local x1, x2 = x[1], x[2]
      for j = 1, k do
        local rw = r[j] * wi
        if rw > 0 then
          local mu = MU[j]
          local d1, d2 = x1 - mu[1], x2 - mu[2]
          s11[j] = s11[j] + rw * d1 * d1
          s12[j] = s12[j] + rw * d1 * d2
          s22[j] = s22[j] + rw * d2 * d2
        end
      end
    end
    for j = 1, k do
      S[j][1][1], S[j][1][2], S[j][2][2] = s11[j], s12[j], s22[j]
    end
  else
    for i = 1, n do
      local r, x, wi = R[i], X[i], w and w[i] or 1
      for j = 1, k do
        local rw = r[j] * wi
        if rw > 0 then
          local mu, Sj = MU[j], S[j]
          for a = 1, d do
            local da = rw * (x[a] - mu[a])
            local Sa = Sj[a]
            if diag then Sa[a] = Sa[a] + da * (x[a] - mu[a])
            else for b = a, d do Sa[b] = Sa[b] + da * (x[b] - mu[b]) end end
          end
        end
      end
    end
  end
  for j = 1, k do
    local c, Nj, Sj = comps[j], N[j], S[j]
    if Nj > 1e-12 * W then
      for a = 1, d do
        for b = a, d do Sj[a][b] = Sj[a][b] / Nj; Sj[b][a] = Sj[a][b] end
        Sj[a][a] = Sj[a][a] + reg
      end
      c.mu, c.cov, c.weight = MU[j], Sj, Nj / W
    else
      c.weight = 1e-12   -- an empty component keeps its place but takes no frames
    end
    if not prepare(c, d) then
      for a = 1, d do c.cov[a][a] = c.cov[a][a] + 10 * reg end
      if not prepare(c, d) then return false end
    end
  end
  return true
end

-- weighted k-means++ seeding followed by a few Lloyd iterations -> hard responsibilities
local function kmeans_init(X, n, d, w, k, rng, R)
  local function pick(prob, total)
    local u = rng:uniform() * total
    local acc = 0
    for i = 1, n do
      acc = acc + prob[i]
      if acc >= u and prob[i] > 0 then return i end
    end
    for i = n, 1, -1 do if prob[i] > 0 then return i end end
    return n
  end
  local centers = {}
  local prob, total = {}, 0
  for i = 1, n do prob[i] = w and w[i] or 1; total = total + prob[i] end
  local first = pick(prob, total)
  centers[1] = {table.unpack(X[first])}
  local D2 = {}
  for i = 1, n do D2[i] = huge end
  for c = 2, k do
    total = 0
    local last = centers[c - 1]
    for i = 1, n do
      local x, s = X[i], 0
      for a = 1, d do s = s + (x[a] - last[a]) ^ 2 end
      if s < D2[i] then D2[i] = s end
      prob[i] = (w and w[i] or 1) * D2[i]
      total = total + prob[i]
    end
    if total <= 0 then centers[c] = {table.unpack(X[floor(rng:uniform() * n) + 1])}
    else centers[c] = {table.unpack(X[pick(prob, total)])} end
  end
  local label = {}
  for it = 1, 30 do
    local changed = 0
    for i = 1, n do
      local x, best, bj = X[i], huge, 1
      for j = 1, k do
        local cj, s = centers[j], 0
        for a = 1, d do s = s + (x[a] - cj[a]) ^ 2 end
        if s < best then best, bj = s, j end
      end
      if label[i] ~= bj then changed = changed + 1; label[i] = bj end
    end
    if changed == 0 and it > 1 then break end
    local sums, cnt = {}, {}
    for j = 1, k do sums[j] = {}; cnt[j] = 0; for a = 1, d do sums[j][a] = 0 end end
    for i = 1, n do
      local j, wi = label[i], w and w[i] or 1
      cnt[j] = cnt[j] + wi
      for a = 1, d do sums[j][a] = sums[j][a] + wi * X[i][a] end
    end
    for j = 1, k do
      if cnt[j] > 0 then for a = 1, d do centers[j][a] = sums[j][a] / cnt[j] end end
    end
  end
  for i = 1, n do
    local r = R[i]
    for j = 1, k do r[j] = 0 end
    r[label[i]] = 1
  end
end

local function nparams(k, d, diag)
  return (k - 1) + k * d + k * (diag and d or d * (d + 1) // 2)
end

local function fit_k(X, n, d, w, W, k, o, rng)
  local best
  for _ = 1, o.restarts do
    local R = {}
    for i = 1, n do R[i] = {} end
    kmeans_init(X, n, d, w, k, rng, R)
    local comps = {}
    for j = 1, k do comps[j] = {mu = {}, cov = {}, weight = 1 / k} end
    local ok = mstep(comps, k, X, n, d, w, R, W, o.reg, o.diag)
    local ll, prev, it, converged = -huge, -huge, 0, false
    while ok do
      it = it + 1
      ll = estep(comps, k, X, n, d, w, R)
      if abs(ll - prev) <= o.tol * W then converged = true; break end
      if it >= o.maxit then break end
      prev = ll
      ok = mstep(comps, k, X, n, d, w, R, W, o.reg, o.diag)
    end
    if ok and (not best or ll > best.loglik) then
      best = {comps = comps, loglik = ll, iterations = it, converged = converged}
    end
  end
  if not best then return nil end
  local comps = best.comps
  table.sort(comps, function(p, q)
    for a = 1, d do if p.mu[a] ~= q.mu[a] then return p.mu[a] < q.mu[a] end end
    return false
  end)
  local p = nparams(k, d, o.diag)
  local m = setmetatable({
    k = k, d = d, covariance = o.diag and "diag" or "full",
    weights = {}, means = {}, covariances = {},
    loglik = best.loglik, n_eff = W, nparams = p,
    bic = -2 * best.loglik + p * log(W), aic = -2 * best.loglik + 2 * p,
    iterations = best.iterations, converged = best.converged, _c = comps,
  }, Model)
  for j = 1, k do
    m.weights[j], m.means[j], m.covariances[j] = comps[j].weight, comps[j].mu, comps[j].cov
  end
  return m
end

function M.gmm(X, o)
  local fname = "phase.gmm"
  o = check_keys(fname, o, {"k", "kmax", "seed", "restarts", "tol", "maxit", "weights",
                            "covariance", "reg"})
  local rows, n, d = matrix(X, fname)
  local w = weights(o.weights, n, fname)
  if o.k ~= nil and o.kmax ~= nil then fail(fname, "give k= or kmax=, not both") end
  local kmin, kmax
  if o.kmax ~= nil then kmin, kmax = 1, posint(o.kmax, fname, "kmax", nil)
  else kmin = posint(o.k, fname, "k", 1); kmax = kmin end
  if kmax > n then fail(fname, string.format("%d components need at least %d frames (got %d)", kmax, kmax, n)) end
  local cov = o.covariance or "full"
  if cov ~= "full" and cov ~= "diag" then
    fail(fname, "covariance must be \"full\" or \"diag\" (got " .. tostring(cov) .. ")")
  end
  local tol = o.tol or 1e-5
  if not isnum(tol) or tol <= 0 then fail(fname, "tol must be > 0 (got " .. tostring(tol) .. ")") end
  local opts = {restarts = posint(o.restarts, fname, "restarts", 3), maxit = posint(o.maxit, fname, "maxit", 500),
                tol = tol, diag = cov == "diag"}
  -- weights scaled to sum to the effective sample size (the n of the BIC)
  local neff = kish(w, n)
  local ws
  if w then
    local s = 0
    for i = 1, n do s = s + w[i] end
    ws = {}
    for i = 1, n do ws[i] = w[i] * neff / s end
  end
  local _, C = wmean_cov(rows, n, d, ws)
  local meanvar = 0
  for a = 1, d do meanvar = meanvar + C[a][a] / d end
  if not (meanvar > 0) then meanvar = 1 end
  local reg = o.reg or 1e-6
  if not isnum(reg) or reg < 0 then fail(fname, "reg must be >= 0 (got " .. tostring(reg) .. ")") end
  opts.reg = reg * meanvar
  local seed = o.seed or 1
  local selection, best = {}, nil
  for k = kmin, kmax do
    local rng = crng.new(seed, k)
    local m = fit_k(rows, n, d, ws, neff, k, opts, rng)
    if m then
      selection[#selection + 1] = {k = k, bic = m.bic, aic = m.aic, loglik = m.loglik}
      if not best or m.bic < best.bic then best = m end
    end
  end
  if not best then fail(fname, "EM failed: singular covariances (try a larger reg=)") end
  best.selection = selection
  return best
end

-- log of each component's weighted density: lp[i][j] = log(π_j N(x_i | μ_j, Σ_j))
local function logjoint(m, X, fname)
  local rows, n, d = matrix(X, fname)
  if d ~= m.d then fail(fname, string.format("X has %d columns but the model has %d", d, m.d)) end
  local out = {}
  local lw = {}
  for j = 1, m.k do lw[j] = log(m._c[j].weight) end
  for i = 1, n do
    local r = {}
    for j = 1, m.k do r[j] = lw[j] + comp_logpdf(m._c[j], rows[i], d) end
    out[i] = r
  end
  return out, n
end

local function lse(r)
  local mx = -huge
  for j = 1, #r do if r[j] > mx then mx = r[j] end end
  local s = 0
  for j = 1, #r do s = s + exp(r[j] - mx) end
  return mx + log(s)
end

--- model:posterior(X) -> n x k table of phase probabilities (rows sum to 1)
function Model:posterior(X)
  local lp, n = logjoint(self, X, "model:posterior")
  for i = 1, n do
    local r = lp[i]
    local l = lse(r)
    for j = 1, #r do r[j] = exp(r[j] - l) end
  end
  return lp
end

--- model:predict(X) -> list of labels (1..k, the most probable component)
function Model:predict(X)
  local lp, n = logjoint(self, X, "model:predict")
  local lab = {}
  for i = 1, n do
    local r, bj = lp[i], 1
    for j = 2, #r do if r[j] > r[bj] then bj = j end end
    lab[i] = bj
  end
  return lab
end

--- model:logpdf(X) -> list of log mixture densities
function Model:logpdf(X)
  local lp, n = logjoint(self, X, "model:logpdf")
  local out = {}
  for i = 1, n do out[i] = lse(lp[i]) end
  return out
end

function Model:__tostring()
  local l = {string.format("phase.gmm: k=%d (%s covariances), d=%d, loglik=%.6g, BIC=%.6g",
                           self.k, self.covariance, self.d, self.loglik, self.bic)}
  for j = 1, self.k do
    local mu = {}
    for a = 1, self.d do mu[a] = string.format("%.4g", self.means[j][a]) end
    l[#l + 1] = string.format("  %d: weight %.4f  mean {%s}", j, self.weights[j], table.concat(mu, ", "))
  end
  return table.concat(l, "\n")
end

---------------------------------------------------------------- blocks and errors
-- block b (1..B) of n frames: first and last index (contiguous, sizes differ by <= 1)
local function block_range(b, B, n)
  return floor((b - 1) * n / B) + 1, floor(b * n / B)
end

local function check_nblocks(nb, n, fname, def)
  nb = posint(nb, fname, "nblocks", def, 2)
  if nb > n then
    if def and nb == def then nb = n   -- default on a short series: one frame per block
    else fail(fname, string.format("nblocks = %d exceeds the number of frames %d", nb, n)) end
  end
  if nb < 2 then fail(fname, "need at least 2 frames for an error estimate") end
  return nb
end

-- Jackknife over blocks: sums[b] = list of m partial sums of block b; f(totals) -> estimate.
-- Returns f(all), its standard error, and the leave-one-out estimates.
local function jackknife(sums, m, f)
  local B = #sums
  local tot = {}
  for q = 1, m do tot[q] = 0 end
  for b = 1, B do for q = 1, m do tot[q] = tot[q] + sums[b][q] end end
  local theta = f(tot)
  local loo, mean = {}, 0
  local t = {}
  for b = 1, B do
    for q = 1, m do t[q] = tot[q] - sums[b][q] end
    loo[b] = f(t)
    mean = mean + loo[b] / B
  end
  local v = 0
  for b = 1, B do v = v + (loo[b] - mean) ^ 2 end
  v = v * (B - 1) / B
  return theta, sqrt(v), loo
end

function M.block_average(series, o)
  local fname = "phase.block_average"
  o = check_keys(fname, o, {"nblocks", "weights"})
  local x = vector(series, fname, "series")
  local n = #x
  local w = weights(o.weights, n, fname)
  local B = check_nblocks(o.nblocks, n, fname, 20)
  local sums, means = {}, {}
  for b = 1, B do
    local i0, i1 = block_range(b, B, n)
    local s, sw = 0, 0
    for i = i0, i1 do
      local wi = w and w[i] or 1
      s, sw = s + wi * x[i], sw + wi
    end
    sums[b] = {s, sw}
    means[b] = sw > 0 and s / sw or 0 / 0
  end
  local mean, sem = jackknife(sums, 2, function(t) return t[1] / t[2] end)
  return mean, sem, {nblocks = B, block_means = means, block_size = n / B}
end

function M.combine(runs)
  local fname = "phase.combine"
  if type(runs) ~= "table" or #runs == 0 then
    fail(fname, "a list of runs is required: {v1, v2, ...} or {{value, err}, ...}")
  end
  local v, e = {}, {}
  local with_err
  for i, r in ipairs(runs) do
    local val, err
    if type(r) == "number" then val = r
    elseif type(r) == "table" then val, err = r.value or r[1], r.err or r[2]
    else fail(fname, string.format("runs[%d] must be a number or {value, err} (got %s)", i, type(r))) end
    if not isnum(val) then fail(fname, string.format("runs[%d]: value is not a finite number", i)) end
    if err ~= nil and (not isnum(err) or err <= 0) then
      fail(fname, string.format("runs[%d]: err must be a finite number > 0 (got %s)", i, tostring(err)))
    end
    if with_err == nil then with_err = err ~= nil
    elseif with_err ~= (err ~= nil) then fail(fname, "give an error for every run or for none") end
    v[i], e[i] = val, err
  end
  local N = #v
  if with_err then
    local sw, s = 0, 0
    for i = 1, N do local wi = 1 / e[i] ^ 2; sw = sw + wi; s = s + wi * v[i] end
    local mean = s / sw
    local chi2 = 0
    for i = 1, N do chi2 = chi2 + ((v[i] - mean) / e[i]) ^ 2 end
    local err = 1 / sqrt(sw)
    local red = N > 1 and chi2 / (N - 1) or 0
    local scale = red > 1 and sqrt(red) or 1
    return mean, err * scale, {n = N, chi2 = chi2, dof = N - 1, err_stat = err, scale = scale}
  end
  if N < 2 then fail(fname, "need at least 2 runs without errors") end
  local mean = 0
  for i = 1, N do mean = mean + v[i] / N end
  local s2 = 0
  for i = 1, N do s2 = s2 + (v[i] - mean) ^ 2 end
  s2 = s2 / (N - 1)
  return mean, sqrt(s2 / N), {n = N, sd = sqrt(s2)}
end

---------------------------------------------------------------- populations, ΔG
-- per-frame phase probabilities from posteriors (n x k) or labels (1..k): rows, n, k
local function phase_rows(P, fname, k)
  if is_array(P) then
    local _, c = P:shape()
    P = P:totable()
    if c == 1 then
      for i = 1, #P do if type(P[i]) == "table" then P[i] = P[i][1] end end
    end
  end
  if type(P) ~= "table" or #P == 0 then
    fail(fname, "P must be a list of labels (1..k) or an n x k table of phase probabilities")
  end
  local n = #P
  if type(P[1]) == "number" then
    local kk = k or 0
    for i = 1, n do
      local l = P[i]
      if math.type(l) ~= "integer" and not (isnum(l) and l == floor(l)) or l < 1 then
        fail(fname, string.format("labels[%d] must be an integer >= 1 (got %s)", i, tostring(l)))
      end
      if l > kk then
        if k then fail(fname, string.format("labels[%d] = %d exceeds k = %d", i, l, k)) end
        kk = floor(l)
      end
    end
    return function(i, j) return P[i] == j and 1 or 0 end, n, kk
  end
  local rows = matrix(P, fname, "P")
  local kk = #rows[1]
  if k and k ~= kk then fail(fname, string.format("P has %d columns but k = %d", kk, k)) end
  return function(i, j) return rows[i][j] end, n, kk
end

-- per-block sums {Σ w p_1, ..., Σ w p_k, Σ w}
local function population_blocks(get, n, k, w, B)
  local sums = {}
  for b = 1, B do
    local i0, i1 = block_range(b, B, n)
    local s = {}
    for j = 1, k + 1 do s[j] = 0 end
    for i = i0, i1 do
      local wi = w and w[i] or 1
      for j = 1, k do s[j] = s[j] + wi * get(i, j) end
      s[k + 1] = s[k + 1] + wi
    end
    sums[b] = s
  end
  return sums
end

function M.populations(P, o)
  local fname = "phase.populations"
  o = check_keys(fname, o, {"weights", "k", "nblocks"})
  local get, n, k = phase_rows(P, fname, o.k and posint(o.k, fname, "k", nil))
  local w = weights(o.weights, n, fname)
  local B = (o.nblocks or n >= 4) and check_nblocks(o.nblocks, n, fname, 20) or 1
  local sums = population_blocks(get, n, k, w, B)
  local frac, err = {}, {}
  for j = 1, k do
    if B >= 2 then
      frac[j], err[j] = jackknife(sums, k + 1, function(t) return t[j] / t[k + 1] end)
    else
      frac[j] = sums[1][j] / sums[1][k + 1]
    end
  end
  return frac, B >= 2 and err or nil
end

function M.delta_g(a, b, T)
  local fname = "phase.delta_g"
  if type(a) == "number" then
    if not isnum(a) or a <= 0 or not isnum(b) or b <= 0 then
      fail(fname, string.format("populations must be > 0 (got %s, %s)", tostring(a), tostring(b)))
    end
    T = temperature(T, fname)
    return -kB * T * log(b / a)
  end
  local o = check_keys(fname, a, {"P", "labels", "A", "B", "T", "weights", "nblocks", "k"})
  local P = o.P or o.labels
  if P == nil then fail(fname, "P= (posteriors or labels) is required, or call delta_g(pA, pB, T)") end
  local Tv = temperature(o.T, fname)
  local get, n, k = phase_rows(P, fname, o.k and posint(o.k, fname, "k", nil))
  local A, Bp = posint(o.A, fname, "A", 1), posint(o.B, fname, "B", 2)
  if A > k or Bp > k then fail(fname, string.format("phases A=%d, B=%d but there are %d", A, Bp, k)) end
  local w = weights(o.weights, n, fname)
  local nb = check_nblocks(o.nblocks, n, fname, 20)
  local sums = population_blocks(get, n, k, w, nb)
  local dg, err = jackknife(sums, k + 1, function(t)
    if t[A] <= 0 or t[Bp] <= 0 then return 0 / 0 end
    return -kB * Tv * log(t[Bp] / t[A])
  end)
  if dg ~= dg or err ~= err then
    local tot = {0, 0}
    for b = 1, nb do tot[1] = tot[1] + sums[b][A]; tot[2] = tot[2] + sums[b][Bp] end
    if tot[1] <= 0 or tot[2] <= 0 then
      fail(fname, string.format("phase %d has zero population: ΔG is undefined", tot[1] <= 0 and A or Bp))
    end
    err = huge   -- a phase seen in one block only
  end
  return dg, err
end

---------------------------------------------------------------- Δμ(T) and T_c
local Fit = {}
Fit.__index = Fit

--- fit:at(T) -> Δμ(T) (eV), its standard error
function Fit:at(T)
  local t = T - self.T0
  local v = self._ca[1][1] + 2 * t * self._ca[1][2] + t * t * self._ca[2][2]
  return self.a + self.b * T, sqrt(math.max(v, 0))
end

function Fit:__tostring()
  return string.format("Δμ(T) = %.6g %+.6g T eV (n=%d, χ²=%.3g/%d): T_c = %.6g ± %.3g K",
                       self.a, self.b, self.n, self.chi2, self.dof, self.Tc, self.Tc_err)
end

function M.delta_mu(T, dG, o)
  local fname = "phase.delta_mu"
  o = check_keys(fname, o, {"errors", "scale"})
  local t = vector(T, fname, "T")
  local y = vector(dG, fname, "dG")
  local n = #t
  if #y ~= n then fail(fname, string.format("T has %d values but dG has %d", n, #y)) end
  if n < 2 then fail(fname, "need at least 2 temperatures") end
  local e
  if o.errors ~= nil then
    e = vector(o.errors, fname, "errors")
    if #e ~= n then fail(fname, string.format("errors has %d values but T has %d", #e, n)) end
    for i = 1, n do
      if not (e[i] > 0) then fail(fname, string.format("errors[%d] must be > 0 (got %g)", i, e[i])) end
    end
  elseif n < 3 then
    fail(fname, "need errors= or at least 3 temperatures (the scatter sets the error)")
  end
  local S, St = 0, 0
  for i = 1, n do local wi = e and 1 / e[i] ^ 2 or 1; S = S + wi; St = St + wi * t[i] end
  local T0 = St / S
  -- centred fit y = a0 + b (T - T0): a0 and b are uncorrelated
  local Stt, Sy, Sty = 0, 0, 0
  for i = 1, n do
    local wi, u = e and 1 / e[i] ^ 2 or 1, t[i] - T0
    Stt, Sy, Sty = Stt + wi * u * u, Sy + wi * y[i], Sty + wi * u * y[i]
  end
  if not (Stt > 0) then fail(fname, "all temperatures are equal: no slope") end
  local a0, b = Sy / S, Sty / Stt
  local chi2 = 0
  for i = 1, n do
    local r = y[i] - a0 - b * (t[i] - T0)
    chi2 = chi2 + (e and (r / e[i]) ^ 2 or r * r)
  end
  local dof = n - 2
  local s2 = 1
  if not e then s2 = dof > 0 and chi2 / dof or 0
  elseif o.scale and dof > 0 then s2 = chi2 / dof end
  local va0, vb = s2 / S, s2 / Stt
  local a = a0 - b * T0
  local cov = {{va0 + T0 * T0 * vb, -T0 * vb}, {-T0 * vb, vb}}
  local Tc, Tc_err = 0 / 0, 0 / 0
  if b ~= 0 then
    Tc = T0 - a0 / b
    local r = a0 / b
    Tc_err = sqrt(va0 / (b * b) + r * r * vb / (b * b))
  end
  return setmetatable({
    a = a, b = b, a_err = sqrt(cov[1][1]), b_err = sqrt(vb), cov = cov,
    Tc = Tc, Tc_err = Tc_err, dH = a, dS = -b, chi2 = chi2, dof = dof, n = n, T0 = T0,
    _ca = {{va0, 0}, {0, vb}},
  }, Fit)
end

function M.tc(o)
  local fname = "phase.tc"
  o = check_keys(fname, o, {"T", "dG", "errors", "P", "A", "B", "weights", "nblocks", "scale"})
  local T = vector(o.T, fname, "T")
  local dG, errs = o.dG, o.errors
  if o.P ~= nil then
    if dG ~= nil then fail(fname, "give dG= or P=, not both") end
    if type(o.P) ~= "table" or #o.P ~= #T then
      fail(fname, string.format("P must be a list of %d series (one per temperature)", #T))
    end
    dG, errs = {}, {}
    for i = 1, #T do
      dG[i], errs[i] = M.delta_g{P = o.P[i], A = o.A, B = o.B, T = T[i], nblocks = o.nblocks,
                                 weights = o.weights and o.weights[i]}
    end
  elseif dG == nil then
    fail(fname, "dG= (ΔG per temperature, eV) or P= (phase series per temperature) is required")
  end
  local fit = M.delta_mu(T, dG, {errors = errs, scale = o.scale})
  fit.T, fit.dG, fit.errors = T, vector(dG, fname, "dG"), errs and vector(errs, fname, "errors")
  return fit
end

---------------------------------------------------------------- FEP
-- energy (eV) of atoms under a kiln.Potential (pot:energy), an oracle (o:label(atoms).energy)
-- or a function(atoms) -> eV
local function energy_of(model, atoms, fname, name, i)
  local e
  if type(model) == "function" then e = model(atoms)
  elseif type(model) == "userdata" or type(model) == "table" then
    local ok, f = pcall(function() return model.energy end)
    if ok and type(f) == "function" then e = model:energy(atoms)
    else
      local ok2, l = pcall(function() return model.label end)
      if ok2 and type(l) == "function" then
        local r = model:label(atoms)
        e = type(r) == "table" and r.energy
      else
        fail(fname, name .. " must be a kiln.Potential, an oracle or a function(atoms) -> eV")
      end
    end
  else
    fail(fname, name .. " must be a kiln.Potential, an oracle or a function(atoms) -> eV (got " .. type(model) .. ")")
  end
  if not isnum(e) then
    fail(fname, string.format("%s gave no finite energy for frame %d (got %s)", name, i, tostring(e)))
  end
  return e
end

-- energies of a list of frames (or a kiln.Trajectory) under model
local function frame_energies(frames, model, fname, name)
  local out = {}
  if type(frames) == "userdata" then
    local ok, it = pcall(function() return frames:frames() end)
    if not ok then fail(fname, "frames must be a list of kiln.Atoms or a kiln.Trajectory") end
    for i, a in it do out[i] = energy_of(model, a, fname, name, i) end
    return out
  end
  if type(frames) ~= "table" then fail(fname, "frames must be a list of kiln.Atoms or a kiln.Trajectory") end
  for i = 1, #frames do out[i] = energy_of(model, frames[i], fname, name, i) end
  return out
end

function M.fep(o)
  local fname = "phase.fep"
  o = check_keys(fname, o, {"energies_A", "energies_B", "dE", "T", "weights", "nblocks",
                            "bootstrap", "seed", "frames", "A", "B"})
  local T = temperature(o.T, fname)
  if o.frames ~= nil then
    if o.dE ~= nil then fail(fname, "give dE= or frames=, not both") end
    if o.B == nil then fail(fname, "frames= needs B= (a kiln.Potential, an oracle or a function(atoms) -> eV)") end
    if o.A == nil and o.energies_A == nil then fail(fname, "frames= needs A= or energies_A=") end
    local eb = frame_energies(o.frames, o.B, fname, "B")
    local ea = o.energies_A or frame_energies(o.frames, o.A, fname, "A")
    o = {energies_A = ea, energies_B = eb, weights = o.weights, nblocks = o.nblocks,
         bootstrap = o.bootstrap, seed = o.seed}
  end
  local dE
  if o.dE ~= nil then
    if o.energies_A ~= nil or o.energies_B ~= nil then fail(fname, "give dE= or energies_A=/energies_B=, not both") end
    dE = vector(o.dE, fname, "dE")
  else
    if o.energies_A == nil or o.energies_B == nil then
      fail(fname, "energies_A= and energies_B= (eV per frame sampled in A) or dE= are required")
    end
    local ea, eb = vector(o.energies_A, fname, "energies_A"), vector(o.energies_B, fname, "energies_B")
    if #ea ~= #eb then fail(fname, string.format("energies_A has %d values but energies_B has %d", #ea, #eb)) end
    dE = {}
    for i = 1, #ea do dE[i] = eb[i] - ea[i] end
  end
  local n = #dE
  if n == 0 then fail(fname, "no frames") end
  local w = weights(o.weights, n, fname)
  local beta = 1 / (kB * T)
  local mx, mean, W = -huge, 0, 0
  for i = 1, n do
    local x = -beta * dE[i]
    if x > mx then mx = x end
    local wi = w and w[i] or 1
    mean, W = mean + wi * dE[i], W + wi
  end
  mean = mean / W
  local var = 0
  for i = 1, n do var = var + (w and w[i] or 1) * (dE[i] - mean) ^ 2 end
  var = var / W
  local e = {}
  local se, se2 = 0, 0
  for i = 1, n do
    local v = (w and w[i] or 1) * exp(-beta * dE[i] - mx)
    e[i] = v
    se, se2 = se + v, se2 + v * v
  end
  local function dg(t) return -(mx + log(t[1] / t[2])) / beta end
  local dG = dg{se, W}
  local res = {dG = dG, n = n, n_eff = se * se / se2, mean_dE = mean, dG2 = mean - 0.5 * beta * var,
               T = T}
  if n >= 2 then
    local B = check_nblocks(o.nblocks, n, fname, 20)
    local sums = {}
    for b = 1, B do
      local i0, i1 = block_range(b, B, n)
      local s, sw = 0, 0
      for i = i0, i1 do s, sw = s + e[i], sw + (w and w[i] or 1) end
      sums[b] = {s, sw}
    end
    res.nblocks = B
    if o.bootstrap then
      local nboot = posint(o.bootstrap == true and 200 or o.bootstrap, fname, "bootstrap", 200, 2)
      local rng = crng.new(o.seed or 1, 7)
      local m1, m2 = 0, 0
      for _ = 1, nboot do
        local t = {0, 0}
        for _ = 1, B do
          local b = floor(rng:uniform() * B) + 1
          t[1], t[2] = t[1] + sums[b][1], t[2] + sums[b][2]
        end
        local g = dg(t)
        m1, m2 = m1 + g, m2 + g * g
      end
      m1 = m1 / nboot
      res.err = sqrt(math.max(m2 / nboot - m1 * m1, 0) * nboot / (nboot - 1))
      res.method = "block bootstrap"
    else
      local _, err = jackknife(sums, 2, dg)
      res.err = err
      res.method = "block jackknife"
    end
  end
  return res
end

---------------------------------------------------------------- free-energy profile
function M.profile(cv, o)
  local fname = "phase.profile"
  o = check_keys(fname, o, {"T", "bins", "range", "weights", "nblocks"})
  local T = temperature(o.T, fname)
  local s = vector(cv, fname, "cv")
  local n = #s
  if n < 2 then fail(fname, "need at least 2 values") end
  local w = weights(o.weights, n, fname)
  local nb = posint(o.bins, fname, "bins", 50)
  local lo, hi
  if o.range ~= nil then
    if type(o.range) ~= "table" or not isnum(o.range[1]) or not isnum(o.range[2]) or o.range[2] <= o.range[1] then
      fail(fname, "range must be {min, max} with min < max")
    end
    lo, hi = o.range[1], o.range[2]
  else
    lo, hi = huge, -huge
    for i = 1, n do if s[i] < lo then lo = s[i] end; if s[i] > hi then hi = s[i] end end
    if hi <= lo then hi = lo + 1; lo = lo - 1 end
  end
  local h = (hi - lo) / nb
  local B = check_nblocks(o.nblocks, n, fname, 10)
  local sums = {}
  for b = 1, B do
    local t = {}
    for j = 1, nb + 1 do t[j] = 0 end
    sums[b] = t
  end
  local counts, W = {}, 0
  for j = 1, nb do counts[j] = 0 end
  for b = 1, B do
    local i0, i1 = block_range(b, B, n)
    local t = sums[b]
    for i = i0, i1 do
      local wi = w and w[i] or 1
      t[nb + 1] = t[nb + 1] + wi       -- all frames, also those outside the range
      W = W + wi
      local j = floor((s[i] - lo) / h) + 1
      if s[i] == hi then j = nb end
      if j >= 1 and j <= nb then
        t[j] = t[j] + wi
        counts[j] = counts[j] + 1
      end
    end
  end
  local kT = kB * T
  local centres, edges, F, err, p = {}, {}, {}, {}, {}
  for j = 0, nb do edges[j + 1] = lo + j * h end
  local fmin = huge
  for j = 1, nb do
    centres[j] = lo + (j - 0.5) * h
    local f, e = jackknife(sums, nb + 1, function(t)
      if t[j] <= 0 then return 0 / 0 end
      return -kT * log(t[j] / (t[nb + 1] * h))
    end)
    if f ~= f then f, e = huge, huge elseif e ~= e then e = huge end
    F[j], err[j] = f, e
    local tot = 0
    for b = 1, B do tot = tot + sums[b][j] end
    p[j] = tot / (W * h)
    if f < fmin then fmin = f end
  end
  for j = 1, nb do if F[j] < huge then F[j] = F[j] - fmin end end
  return {s = centres, F = F, err = err, p = p, edges = edges, counts = counts, T = T,
          n_eff = kish(w, n), nblocks = B}
end

---------------------------------------------------------------- CV map figure
local PALETTE = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"}

local function hex(c)
  local r, g, b = c:match("^#(%x%x)(%x%x)(%x%x)$")
  if not r then return nil end
  return {tonumber(r, 16), tonumber(g, 16), tonumber(b, 16)}
end

local function shquote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function gpquote(s) return "'" .. tostring(s):gsub("'", "''") .. "'" end

function M.plot_map(X2, P, o)
  local fname = "phase.plot_map"
  o = check_keys(fname, o, {"file", "phase", "model", "xlabel", "ylabel", "title", "colors", "size",
                            "pointsize"})
  local file = o.file or "map.png"
  if type(file) ~= "string" or file == "" then fail(fname, "file must be a file name (e.g. \"map.png\")") end
  local rows, n, d = matrix(X2, fname, "X2")
  if d ~= 2 then fail(fname, string.format("X2 must have 2 columns (got %d)", d)) end
  local get, k = nil, 1
  if P ~= nil then
    local np
    get, np, k = phase_rows(P, fname)
    if np ~= n then fail(fname, string.format("P has %d rows but X2 has %d", np, n)) end
  end
  local cols = {}
  for j = 1, math.max(k, 1) do
    local c = o.colors and o.colors[j] or PALETTE[(j - 1) % #PALETTE + 1]
    cols[j] = hex(c) or fail(fname, string.format("colors[%d] must be \"#rrggbb\" (got %s)", j, tostring(c)))
    cols[j].s = c
  end
  local phase = o.phase and posint(o.phase, fname, "phase", nil)
  if phase and (not get or phase > k) then fail(fname, "phase= needs P with at least " .. phase .. " columns") end
  local dir, name = file:match("^(.*)/([^/]*)$")
  if not dir then dir, name = ".", file end
  if dir == "" then dir = "/" end
  local base, ext = name:match("^(.*)%.([^.]+)$")
  if not base then fail(fname, "file needs an extension .png, .svg or .pdf") end
  ext = ext:lower()
  local size = o.size or {800, 640}
  local plot = require "kiln.plot"
  local avail, pngterm = plot.available()
  local term
  if ext == "png" then
    term = (pngterm == "png") and string.format("set terminal png size %d,%d noenhanced", size[1], size[2])
      or string.format("set terminal pngcairo size %d,%d noenhanced font 'Sans,11'", size[1], size[2])
  elseif ext == "svg" then
    term = string.format("set terminal svg size %d,%d dynamic noenhanced font 'Sans,11'", size[1], size[2])
  elseif ext == "pdf" then
    term = string.format("set terminal pdfcairo size %.2fin,%.2fin noenhanced font 'Sans,10'", size[1] / 100, size[2] / 100)
  else
    fail(fname, "unsupported figure type '." .. ext .. "' (use .png, .svg or .pdf)")
  end
  local prefix = dir == "." and "" or dir .. "/"
  local dat, gp = prefix .. base .. ".dat", prefix .. base .. ".gp"
  local ps = o.pointsize or 0.5
  local f = io.open(dat, "w")
  if not f then return nil, "cannot write " .. dat end
  f:write("# ", base, ".dat: written by kiln.phase.plot_map; columns x y colour(rgb int) p_max label\n")
  for i = 1, n do
    local r, g, b, pmax, lab = 0, 0, 0, 1, 1
    if get then
      pmax = -1
      for j = 1, k do
        local pj = get(i, j)
        r, g, b = r + pj * cols[j][1], g + pj * cols[j][2], b + pj * cols[j][3]
        if pj > pmax then pmax, lab = pj, j end
      end
    else
      r, g, b = cols[1][1], cols[1][2], cols[1][3]
    end
    local rgb = (floor(r + 0.5) << 16) + (floor(g + 0.5) << 8) + floor(b + 0.5)
    local val = phase and get(i, phase) or pmax
    f:write(string.format("%.10g %.10g %d %.6g %d\n", rows[i][1], rows[i][2], rgb, val, lab))
  end
  local m = o.model
  if m then
    f:write("\n\n# means of the mixture components\n")
    for j = 1, m.k do f:write(string.format("%.10g %.10g %d\n", m.means[j][1], m.means[j][2], j)) end
  end
  f:close()
  local l = {
    "# " .. base .. ".gp: written by kiln.phase.plot_map; edit and rerun with: gnuplot " .. base .. ".gp",
    "set encoding utf8", term, "set output " .. gpquote(name),
  }
  if o.title then l[#l + 1] = "set title " .. gpquote(o.title) end
  l[#l + 1] = "set xlabel " .. gpquote(o.xlabel or "CV 1")
  l[#l + 1] = "set ylabel " .. gpquote(o.ylabel or "CV 2")
  l[#l + 1] = "set grid"
  l[#l + 1] = "set key outside right top"
  local parts = {}
  if phase then
    l[#l + 1] = "set cbrange [0:1]"
    l[#l + 1] = "set cblabel " .. gpquote("P(phase " .. phase .. ")")
    l[#l + 1] = "set palette defined (0 '#3b4cc0', 0.5 '#dddddd', 1 '#b40426')"
    parts[1] = string.format("%s index 0 using 1:2:4 with points pt 7 ps %g lc palette notitle",
                             gpquote(base .. ".dat"), ps)
  else
    parts[1] = string.format("%s index 0 using 1:2:3 with points pt 7 ps %g lc rgb variable notitle",
                             gpquote(base .. ".dat"), ps)
    if get then
      for j = 1, k do
        parts[#parts + 1] = string.format("NaN with points pt 7 ps 1.5 lc rgb %s title %s",
                                          gpquote(cols[j].s), gpquote("phase " .. j))
      end
    end
  end
  if m then
    parts[#parts + 1] = string.format("%s index 1 using 1:2 with points pt 2 ps 2.5 lw 3 lc rgb 'black' title 'means'",
                                      gpquote(base .. ".dat"))
  end
  l[#l + 1] = "plot " .. table.concat(parts, ", \\\n     ")
  f = io.open(gp, "w")
  if not f then return nil, "cannot write " .. gp end
  f:write(table.concat(l, "\n"), "\n")
  f:close()
  if not avail then return nil, pngterm or "gnuplot not found (install gnuplot-nox)" end
  local prog = plot.program or os.getenv("KILN_GNUPLOT") or "gnuplot"
  local p = io.popen("cd " .. shquote(dir) .. " && " .. shquote(prog) .. " " .. shquote(base .. ".gp") ..
                     " </dev/null 2>&1")
  if not p then return nil, "cannot run gnuplot" end
  local out = p:read("a") or ""
  local _, _, code = p:close()
  if code ~= 0 then
    return nil, string.format("gnuplot failed on %s (exit %s): %s", gp, tostring(code), (out:gsub("%s+$", "")))
  end
  local chk = io.open(file, "rb")
  if not chk then return nil, "gnuplot did not write " .. file end
  chk:close()
  return file
end

M.__help = [[
kiln.phase: phase analysis of order parameters / CVs (pure Lua; see doc/phase.md).
Data: kiln.Array (n x d) or tables of rows; weights= (frame weights of biased runs) everywhere.
  phase.pca(X, {center=true, scale=false, k=}) -> {mean, components (rows), variance, ratio, scores}
  phase.gmm(X, {k= | kmax=, seed=, restarts=3, covariance="full"|"diag", weights=})
      -> model {k, weights, means, covariances, loglik, bic, selection}
         model:posterior(X) (n x k)  model:predict(X) (labels)  model:logpdf(X)
  phase.populations(P | labels, {weights=, nblocks=}) -> fractions, errors
  phase.delta_g(pA, pB, T) -> -kT ln(pB/pA) (eV);  phase.delta_g{P=, A=1, B=2, T=} -> ΔG, err
  phase.block_average(series, {nblocks=20}) -> mean, sem;  phase.combine{runs} -> mean, err
  phase.delta_mu(T, dG, {errors=}) -> fit {a, b, cov, Tc, Tc_err, dH, dS}; phase.tc{T=, dG= | P=}
  phase.fep{energies_A=, energies_B= | frames=, A=, B=; T=} -> {dG, err, n_eff}
  phase.profile(s, {T=, bins=50, weights=}) -> {s, F (eV, min 0), err, p}
  phase.plot_map(X2, P, {file="map.png", phase=, model=}) -> CV map coloured by phase probability]]

return M
