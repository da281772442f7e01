-- kiln.phase: PCA, Gaussian mixtures (EM + BIC), populations and ΔG, block averaging,
-- Δμ(T) fits and T_c, free-energy perturbation, free-energy profiles, CV maps.
-- Synthetic data from seeded kiln.Rng streams; checks against analytic values and the
-- sampling error of each estimate.
local kiln = require "kiln"
local phase = kiln.phase
local kB = kiln.units.kB
local sqrt, log, exp, abs = math.sqrt, math.log, math.exp, math.abs

-- |got - want| <= nsig * se, with a readable message
local function within(got, want, se, nsig, what)
  if not (abs(got - want) <= nsig * se) then
    error(string.format("%s: %.6g vs %.6g (%.2f sigma, se %.3g)", what, got, want, abs(got - want) / se, se), 2)
  end
end

-- n draws of a mixture of 2-D Gaussians: X (rows), true labels
local function mixture(rng, comps, n)
  local X, lab = {}, {}
  for i = 1, n do
    local u, j, acc = rng:uniform(), #comps, 0
    for c = 1, #comps do acc = acc + comps[c].w; if u < acc then j = c; break end end
    local t = comps[j]
    local L11 = sqrt(t.C[1][1])
    local L21 = t.C[2][1] / L11
    local L22 = sqrt(t.C[2][2] - L21 * L21)
    local z1, z2 = rng:normal(), rng:normal()
    X[i] = {t.mu[1] + L11 * z1, t.mu[2] + L21 * z1 + L22 * z2}
    lab[i] = j
  end
  return X, lab
end

local TRUTH = {
  {w = 0.5, mu = {0, 0}, C = {{1.0, 0.3}, {0.3, 0.5}}},
  {w = 0.3, mu = {5, 0.5}, C = {{0.6, -0.2}, {-0.2, 0.8}}},
  {w = 0.2, mu = {1.5, 5}, C = {{0.7, 0.0}, {0.0, 0.4}}},
}

-- model component matching truth component j (nearest mean)
local function match(m, truth)
  local map = {}
  for j, t in ipairs(truth) do
    local best, bj = math.huge, 1
    for c = 1, m.k do
      local d2 = (m.means[c][1] - t.mu[1]) ^ 2 + (m.means[c][2] - t.mu[2]) ^ 2
      if d2 < best then best, bj = d2, c end
    end
    map[j] = bj
  end
  return map
end

test("gmm: EM recovers weights, means, covariances of a 3-Gaussian mixture; BIC picks k = 3", function()
  local n = 3000
  local X, lab = mixture(kiln.Rng(2024), TRUTH, n)
  local m = phase.gmm(kiln.Array(X), {kmax = 5, seed = 1})   -- a kiln.Array works as well as rows
  assert(m.k == 3, "BIC chose k = " .. m.k)
  assert(#m.selection == 5)
  for _, s in ipairs(m.selection) do
    if s.k ~= 3 then assert(s.bic > m.bic, "k = " .. s.k .. " has a lower BIC") end
  end
  assert(m.converged)
  local map = match(m, TRUTH)
  for j, t in ipairs(TRUTH) do
    local c = map[j]
    local nj = t.w * n
    within(m.weights[c], t.w, sqrt(t.w * (1 - t.w) / n), 3, "weight " .. j)
    for a = 1, 2 do
      within(m.means[c][a], t.mu[a], sqrt(t.C[a][a] / nj), 3, "mean " .. j .. "." .. a)
      for b = a, 2 do
        local se = sqrt((t.C[a][a] * t.C[b][b] + t.C[a][b] ^ 2) / nj)
        within(m.covariances[c][a][b], t.C[a][b], se, 3, "cov " .. j .. "." .. a .. b)
        assert(m.covariances[c][a][b] == m.covariances[c][b][a])
      end
    end
  end
  local ws = 0
  for j = 1, 3 do ws = ws + m.weights[j] end
  close(ws, 1, 1e-12)
  -- BIC = -2 loglik + p ln n with p = 2 + 3*2 + 3*3 = 17
  assert(m.nparams == 17)
  close(m.bic, -2 * m.loglik + 17 * log(n), 1e-12)
  -- posteriors: rows sum to 1, > 95 % correct; predict = argmax; logpdf = log Σ π N
  local P = m:posterior(X)
  local pred = m:predict(X)
  local right = 0
  for i = 1, n do
    close(P[i][1] + P[i][2] + P[i][3], 1, 1e-12)
    if pred[i] == map[lab[i]] then right = right + 1 end
    local bj = 1
    for j = 2, 3 do if P[i][j] > P[i][bj] then bj = j end end
    assert(bj == pred[i])
  end
  assert(right / n > 0.95, "assignment accuracy " .. right / n)
  local lp = m:logpdf(X)
  local ll = 0
  for i = 1, n do ll = ll + lp[i] end
  close(ll, m.loglik, 1e-6)
  -- the log density at a point by hand
  local x = {1, 1}
  local dens = 0
  for j = 1, 3 do
    local C, mu = m.covariances[j], m.means[j]
    local det = C[1][1] * C[2][2] - C[1][2] ^ 2
    local d1, d2 = x[1] - mu[1], x[2] - mu[2]
    local q = (C[2][2] * d1 * d1 - 2 * C[1][2] * d1 * d2 + C[1][1] * d2 * d2) / det
    dens = dens + m.weights[j] * exp(-0.5 * q) / (2 * math.pi * sqrt(det))
  end
  close(m:logpdf({x})[1], log(dens), 1e-10)
  -- populations of the posteriors ~ the mixture weights; labels give counts
  local frac, err = phase.populations(P)
  for j = 1, 3 do close(frac[j], m.weights[j], 1e-4); assert(err[j] > 0 and err[j] < 0.02) end
  local fl = phase.populations(pred, {k = 3})
  close(fl[1] + fl[2] + fl[3], 1, 1e-12)
end)

test("gmm: frame weights reweight the mixture; diag covariances; 3-D data (general path)", function()
  local rng = kiln.Rng(7)
  local comps = {{w = 0.5, mu = {0, 0}, C = {{1, 0}, {0, 1}}}, {w = 0.5, mu = {8, 0}, C = {{1, 0}, {0, 1}}}}
  local X, lab = mixture(rng, comps, 2000)
  local w = {}
  for i = 1, #X do w[i] = lab[i] == 1 and 3 or 1 end
  local m = phase.gmm(X, {k = 2, weights = w, covariance = "diag"})
  local n1 = 0
  for i = 1, #X do if lab[i] == 1 then n1 = n1 + 1 end end
  close(m.weights[1], 3 * n1 / (3 * n1 + (#X - n1)), 1e-4)   -- separated: the weighted count
  assert(m.covariances[1][1][2] == 0 and m.covariances[2][1][2] == 0)
  assert(m.nparams == 1 + 4 + 4)
  -- 3-D: two components
  local X3 = {}
  for i = 1, 1500 do
    local j = i % 2
    X3[i] = {6 * j + rng:normal(), rng:normal() * 0.5, -3 * j + rng:normal() * 2}
  end
  local m3 = phase.gmm(X3, {kmax = 3, seed = 3})
  assert(m3.k == 2, "k = " .. m3.k)
  within(m3.means[2][1], 6, sqrt(1 / 750), 3, "3-D mean x")
  within(m3.means[2][3], -3, sqrt(4 / 750), 3, "3-D mean z")
  within(m3.covariances[1][3][3], 4, 4 * sqrt(2 / 750), 3, "3-D var z")
  -- same seed, same model
  local again = phase.gmm(X3, {kmax = 3, seed = 3})
  assert(again.loglik == m3.loglik)
end)

test("pca: recovers the axes and variances of data generated along known directions", function()
  local rng = kiln.Rng(11)
  local e1 = {1 / sqrt(2), 1 / sqrt(2), 0}
  local e2 = {-1 / sqrt(3), 1 / sqrt(3), 1 / sqrt(3)}
  local e3 = {e1[2] * e2[3] - e1[3] * e2[2], e1[3] * e2[1] - e1[1] * e2[3], e1[1] * e2[2] - e1[2] * e2[1]}
  local axes, sd, mean = {e1, e2, e3}, {3, 1, 0.3}, {1, -2, 0.5}
  local n = 5000
  local X = {}
  for i = 1, n do
    local z = {rng:normal() * sd[1], rng:normal() * sd[2], rng:normal() * sd[3]}
    local x = {}
    for a = 1, 3 do x[a] = mean[a] + z[1] * e1[a] + z[2] * e2[a] + z[3] * e3[a] end
    X[i] = x
  end
  local p = phase.pca(X)
  for j = 1, 3 do
    local dot = 0
    for a = 1, 3 do dot = dot + p.components[j][a] * axes[j][a] end
    assert(abs(dot) > 0.999, "component " .. j .. " |dot| = " .. abs(dot))
    within(p.variance[j], sd[j] ^ 2, sd[j] ^ 2 * sqrt(2 / (n - 1)), 3, "variance " .. j)
    within(p.mean[j], mean[j], 3 / sqrt(n), 3, "mean " .. j)
  end
  close(p.ratio[1] + p.ratio[2] + p.ratio[3], 1, 1e-12)
  -- scores: centred, their variances are the eigenvalues, uncorrelated
  local s1, s11, s12 = 0, 0, 0
  for i = 1, n do
    local s = p.scores[i]
    s1, s11, s12 = s1 + s[1], s11 + s[1] ^ 2, s12 + s[1] * s[2]
  end
  close(s1 / n, 0, 0, 1e-10)
  close(s11 / (n - 1), p.variance[1], 1e-10)
  close(s12 / (n - 1), 0, 0, 1e-9)
  local t = p:transform({X[1]})
  close(t[1][2], p.scores[1][2], 1e-12)
  local p2 = phase.pca(X, {k = 1, scale = true})
  assert(#p2.scores[1] == 1)
end)

test("eigsym (Jacobi): A V = V diag(w), orthonormal V, descending w", function()
  local A = {{4, 1, -2, 0.5}, {1, 2, 0, 1}, {-2, 0, 3, -1}, {0.5, 1, -1, 1}}
  local w, V = phase._eigsym(A, 4)
  for j = 1, 4 do
    if j > 1 then assert(w[j] <= w[j - 1]) end
    for i = 1, 4 do
      local av = 0
      for k = 1, 4 do av = av + A[i][k] * V[k][j] end
      close(av, w[j] * V[i][j], 0, 1e-12)
    end
    for l = 1, 4 do
      local dot = 0
      for i = 1, 4 do dot = dot + V[i][j] * V[i][l] end
      close(dot, j == l and 1 or 0, 0, 1e-12)
    end
  end
  close(w[1] + w[2] + w[3] + w[4], 10, 1e-12)   -- trace
end)

test("block_average: SEM of AR(1) series matches the analytic value", function()
  local phi, n, runs = 0.8, 20000, 10
  local rng = kiln.Rng(5)
  local sem2, means = 0, {}
  for r = 1, runs do
    local e = rng:normal(n)
    local x, xs = {}, 0
    xs = e[1] / sqrt(1 - phi * phi)        -- stationary start
    for i = 1, n do
      if i > 1 then xs = phi * xs + e[i] end
      x[i] = xs
    end
    local mean, sem, info = phase.block_average(x, {nblocks = 20})
    assert(info.nblocks == 20)
    sem2 = sem2 + sem * sem / runs
    means[r] = mean
  end
  -- Var(mean) = Var(x)/n (1+φ)/(1-φ), Var(x) = 1/(1-φ²); block length 1000 >> τ ≈ 9
  local exact = sqrt(1 / (1 - phi * phi) / n * (1 + phi) / (1 - phi))
  -- each sem² has a relative sd sqrt(2/19); averaged over 10 runs: 0.10; sem: 0.05
  within(sqrt(sem2), exact, 0.05 * exact, 3, "AR(1) SEM")
  -- and the run-to-run scatter of the means is of that size too
  local _, err = phase.combine(means)
  within(err * sqrt(runs), exact, exact / sqrt(2 * (runs - 1)), 3, "scatter of means")
  -- weights: a constant weight changes nothing; plain mean exact
  local x = {1, 2, 3, 4, 5, 6, 7, 8}
  local m1, s1 = phase.block_average(x, {nblocks = 4})
  local m2, s2 = phase.block_average(x, {nblocks = 4, weights = {2, 2, 2, 2, 2, 2, 2, 2}})
  close(m1, 4.5, 1e-15); close(m2, 4.5, 1e-15); close(s1, s2, 1e-12)
  -- block means 1.5 3.5 5.5 7.5: sd = sqrt(20/3), sem = sd/2
  close(s1, sqrt(20 / 3) / 2, 1e-12)
end)

test("combine: independent runs with and without errors", function()
  local m, e = phase.combine{1, 2, 3, 4}
  close(m, 2.5, 1e-15); close(e, sqrt(5 / 3 / 4), 1e-12)
  local m2, e2, info = phase.combine{{1.0, 0.1}, {1.1, 0.2}}
  close(m2, (1 / 0.01 + 1.1 / 0.04) / (1 / 0.01 + 1 / 0.04), 1e-12)
  close(e2, 1 / sqrt(1 / 0.01 + 1 / 0.04), 1e-12)   -- χ² = 0.2 < 1: not scaled
  assert(info.scale == 1)
  local _, e3, info3 = phase.combine{{value = 0, err = 0.1}, {value = 1, err = 0.1}}
  assert(info3.scale > 1 and e3 > 0.1 / sqrt(2))       -- discrepant runs: PDG scale factor
  checkerror("give an error for every run or for none", phase.combine, {1, {2, 0.1}})
end)

test("populations and delta_g: exact for labels, jackknife error ~ multinomial", function()
  local T = 400
  close(phase.delta_g(0.25, 0.75, T), -kB * T * log(3), 1e-14)
  local rng = kiln.Rng(9)
  local n, pB = 20000, 0.3
  local labels, nB = {}, 0
  for i = 1, n do
    labels[i] = rng:uniform() < pB and 2 or 1
    if labels[i] == 2 then nB = nB + 1 end
  end
  local frac, ferr = phase.populations(labels)
  close(frac[2], nB / n, 1e-14)
  within(ferr[2], sqrt(pB * (1 - pB) / n), sqrt(pB * (1 - pB) / n) * 0.16, 3, "population error")
  local dG, err = phase.delta_g{P = labels, A = 1, B = 2, T = T, nblocks = 40}
  close(dG, -kB * T * log(nB / (n - nB)), 1e-12)
  local exact = kB * T * sqrt(1 / (n * pB * (1 - pB)))
  within(err, exact, exact * 0.11, 3, "ΔG error")
  -- posteriors and weights: weighting phase 1 frames by 2 halves pB/pA
  local w = {}
  for i = 1, n do w[i] = labels[i] == 1 and 2 or 1 end
  local dGw = phase.delta_g{P = labels, T = T, weights = w}
  close(dGw - dG, kB * T * log(2), 1e-10)
  local P = {}
  for i = 1, n do P[i] = labels[i] == 1 and {0.9, 0.1} or {0.1, 0.9} end
  local fr = phase.populations(P)
  close(fr[2], 0.1 + 0.8 * nB / n, 1e-12)
  checkerror("zero population", phase.delta_g, {P = {1, 1, 1, 1}, T = 300, k = 2})
end)

test("delta_mu: linear fit recovers T_c; propagated error agrees with Monte Carlo", function()
  -- noise-free: exact
  local a, b = 0.05, -1e-4           -- Δμ = a + b T (eV): T_c = 500 K
  local T, dG = {}, {}
  for i = 1, 9 do T[i] = 400 + 25 * (i - 1); dG[i] = a + b * T[i] end
  local f = phase.delta_mu(T, dG)
  close(f.a, a, 1e-10); close(f.b, b, 1e-10); close(f.Tc, 500, 1e-10)
  close(f.dH, a, 1e-10); close(f.dS, -b, 1e-10)
  -- Monte Carlo: σ = 2 meV per point
  local sigma, nrep = 0.002, 2000
  local errs = {}
  for i = 1, 9 do errs[i] = sigma end
  local rng = kiln.Rng(13)
  local s1, s2, pe, cab = 0, 0, 0, 0
  local sa, sb = 0, 0
  for _ = 1, nrep do
    local y = {}
    for i = 1, 9 do y[i] = a + b * T[i] + sigma * rng:normal() end
    local g = phase.delta_mu(T, y, {errors = errs})
    s1, s2, pe = s1 + g.Tc, s2 + g.Tc ^ 2, pe + g.Tc_err ^ 2
    sa, sb, cab = sa + g.a, sb + g.b, cab + g.a * g.b
  end
  local mean = s1 / nrep
  local sd = sqrt(s2 / nrep - mean ^ 2)
  local prop = sqrt(pe / nrep)
  within(sd, prop, prop / sqrt(2 * nrep), 4, "MC sd of T_c vs propagated error")
  within(mean, 500, sd / sqrt(nrep), 4, "mean T_c")
  -- cov(a, b) from the fit against the MC covariance
  local g0 = phase.delta_mu(T, dG, {errors = errs})
  local cov_mc = cab / nrep - (sa / nrep) * (sb / nrep)
  close(cov_mc, g0.cov[1][2], 0.1)
  local v, e = g0:at(500)
  close(v, 0, 0, 1e-12); assert(e > 0)
  -- without errors: scaled by the residual scatter; tc{} convenience
  local y = {}
  for i = 1, 9 do y[i] = a + b * T[i] + ((i % 2 == 0) and 1e-3 or -1e-3) end
  local h = phase.tc{T = T, dG = y}
  assert(h.Tc_err > 0 and abs(h.Tc - 500) < 20, tostring(h))
  assert(tostring(h):find("T_c ="))
end)

test("tc from phase series per temperature", function()
  local rng = kiln.Rng(17)
  local a, b = 0.02, -5e-5            -- T_c = 400 K
  local Ts, P = {360, 380, 400, 420, 440}, {}
  for i, T in ipairs(Ts) do
    local pB = 1 / (1 + exp((a + b * T) / (kB * T)))   -- Δμ = -kT ln(pB/pA)
    local lab = {}
    for f = 1, 4000 do lab[f] = rng:uniform() < pB and 2 or 1 end
    P[i] = lab
  end
  local fit = phase.tc{T = Ts, P = P, nblocks = 20}
  within(fit.Tc, 400, fit.Tc_err, 4, "T_c")
  assert(fit.Tc_err < 20 and #fit.dG == 5 and #fit.errors == 5)
end)

test("fep: shifted harmonic (linear ΔE) gives the analytic ΔG, error and n_eff", function()
  local T = 300
  local kT = kB * T
  local kappa, c = 1.0, 0.037         -- eV/Å², eV
  local x0 = sqrt(kT / kappa)         -- β κ x0² = 1: var(βΔE) = 1
  local n = 20000
  local rng = kiln.Rng(21)
  local EA, EB = {}, {}
  for i = 1, n do
    local x = rng:normal() * sqrt(kT / kappa)    -- exact Boltzmann sample of A
    EA[i] = 0.5 * kappa * x * x
    EB[i] = 0.5 * kappa * (x - x0) ^ 2 + c
  end
  local r = phase.fep{energies_A = EA, energies_B = EB, T = T, nblocks = 100}
  local exact_err = kT * sqrt((exp(1) - 1) / n)
  within(r.dG, c, r.err, 3.5, "ΔG")
  within(r.err, exact_err, 0.08 * exact_err, 3, "ΔG error")
  within(r.n_eff, n / exp(1), 0.05 * n / exp(1), 1, "n_eff")
  within(r.dG2, c, 3 * kT / sqrt(n), 3, "second-order cumulant")
  assert(r.n == n and r.method == "block jackknife")
  local rb = phase.fep{dE = (function() local d = {} for i = 1, n do d[i] = EB[i] - EA[i] end return d end)(),
                       T = T, nblocks = 100, bootstrap = 400, seed = 2}
  close(rb.dG, r.dG, 1e-12)
  within(rb.err, r.err, 0.1 * r.err, 3, "bootstrap error")
  -- constant ΔE: exact, no error; weights of a biased run
  local k = phase.fep{dE = {0.1, 0.1, 0.1, 0.1}, T = T, nblocks = 2}
  close(k.dG, 0.1, 1e-14); close(k.err, 0, 0, 1e-14); close(k.n_eff, 4, 1e-12)
  local wdg = phase.fep{dE = {0, 0.1}, T = T, weights = {3, 1}, nblocks = 2}
  close(wdg.dG, -kT * log((3 + exp(-0.1 / kT)) / 4), 1e-12)
end)

test("fep from frames: potentials, functions and oracles give E_A and E_B", function()
  local pot = kiln.potential.lj{epsilon = 0.0104, sigma = 3.40, cutoff = 8.0}
  local frames = {}
  for i = 1, 12 do
    local a = kiln.crystal.fcc{symbol = "Ar", a = 5.26}
    a:rattle{sigma = 0.05, seed = i}
    frames[i] = a
  end
  local shifted = function(a) return pot:energy(a) + 0.05 end
  local r = phase.fep{frames = frames, A = pot, B = shifted, T = 100, nblocks = 3}
  close(r.dG, 0.05, 1e-10); close(r.err, 0, 0, 1e-12)
  local pot2 = kiln.potential.lj{epsilon = 0.0110, sigma = 3.40, cutoff = 8.0}
  local EA, EB = {}, {}
  for i = 1, 12 do EA[i], EB[i] = pot:energy(frames[i]), pot2:energy(frames[i]) end
  local r1 = phase.fep{frames = frames, A = pot, B = kiln.oracle.potential(pot2), T = 100, nblocks = 3}
  local r2 = phase.fep{energies_A = EA, energies_B = EB, T = 100, nblocks = 3}
  close(r1.dG, r2.dG, 1e-12)
  checkerror("B must be a kiln.Potential, an oracle or a function", phase.fep,
             {frames = frames, A = pot, B = 3, T = 100})
end)

-- ∫ of the normal density N(0, σ) over [x0, x1] (Simpson)
local function gauss_mass(x0, x1, sig)
  local m, h, s = 40, (x1 - x0) / 40, 0
  for i = 0, m do
    local x = x0 + i * h
    local f = exp(-0.5 * (x / sig) ^ 2) / (sig * sqrt(2 * math.pi))
    s = s + f * ((i == 0 or i == m) and 1 or (i % 2 == 1 and 4 or 2))
  end
  return s * h / 3
end

test("profile: F(s) of a known density, plain and reweighted", function()
  local T = 300
  local kT = kB * T
  local sig, n = 0.5, 50000
  local rng = kiln.Rng(31)
  local e = rng:normal(n)
  local s = {}
  for i = 1, n do s[i] = sig * e[i] end
  local pr = phase.profile(s, {T = T, bins = 24, range = {-1.2, 1.2}, nblocks = 50})
  assert(#pr.s == 24 and #pr.edges == 25)
  local fmin = math.huge
  for j = 1, 24 do if pr.F[j] < fmin then fmin = pr.F[j] end end
  close(fmin, 0, 0, 1e-15)
  -- compare with the bin-integrated exact density, after the best constant shift
  local d, wsum, ex = 0, 0, {}
  for j = 1, 24 do
    ex[j] = -kT * log(gauss_mass(pr.edges[j], pr.edges[j + 1], sig) / (pr.edges[j + 1] - pr.edges[j]))
    local wj = 1 / pr.err[j] ^ 2
    d, wsum = d + wj * (pr.F[j] - ex[j]), wsum + wj
  end
  d = d / wsum
  local chi2 = 0
  for j = 1, 24 do
    local z = (pr.F[j] - ex[j] - d) / pr.err[j]
    assert(abs(z) < 4, "bin " .. j .. " z = " .. z)
    chi2 = chi2 + z * z
    -- density: p = counts / (n h)
    close(pr.p[j], pr.counts[j] / (n * 0.1), 1e-12)
  end
  assert(chi2 / 23 < 2, "chi2/dof = " .. chi2 / 23)
  -- reweighted: uniform samples on [-1, 1] with Boltzmann weights of U = ½ κ s²
  local kappa = 0.2
  local u, w = {}, {}
  for i = 1, n do
    u[i] = 2 * rng:uniform() - 1
    w[i] = exp(-0.5 * kappa * u[i] ^ 2 / kT)
  end
  local pw = phase.profile(u, {T = T, bins = 20, range = {-1, 1}, weights = w, nblocks = 50})
  local jmin = 1
  for j = 1, 20 do if pw.F[j] < pw.F[jmin] then jmin = j end end
  for j = 1, 20 do
    -- exact bin average of exp(-βU) for U quadratic: use the value at the centre (error ~ h² κ/24)
    local want = 0.5 * kappa * (pw.s[j] ^ 2 - pw.s[jmin] ^ 2)
    within(pw.F[j], want, pw.err[j] + pw.err[jmin] + 1e-4, 3, "reweighted F bin " .. j)
  end
  -- empty bins: F = math.huge
  local pe = phase.profile({0.1, 0.2, 0.15, 0.9}, {T = T, bins = 4, range = {0, 1}, nblocks = 2})
  assert(pe.F[2] == math.huge and pe.F[1] == 0)
end)

test("plot_map: CV map coloured by phase probability", function()
  local ok = require("kiln.plot").available()
  local X, lab = mixture(kiln.Rng(3), TRUTH, 300)
  local m = phase.gmm(X, {k = 3})
  local P = m:posterior(X)
  local file = tmpname(".png")
  local stem = file:gsub("%.png$", "")
  local out, err = phase.plot_map(X, P, {file = file, model = m, xlabel = "P_x", ylabel = "P_y"})
  local f = io.open(stem .. ".dat")
  assert(f, "no .dat")
  local first = f:read("l"); f:close()
  assert(first:find("plot_map"))
  local g = io.open(stem .. ".gp"); local gp = g:read("a"); g:close()
  assert(gp:find("lc rgb variable") and gp:find("phase 3") and gp:find("means"))
  local file2 = tmpname(".png")
  local out2 = phase.plot_map(X, P, {file = file2, phase = 2})
  local stem2 = file2:gsub("%.png$", "")
  os.remove(stem .. ".dat"); os.remove(stem .. ".gp"); os.remove(stem2 .. ".dat"); os.remove(stem2 .. ".gp")
  if not ok then skip("gnuplot not available: " .. tostring(err)) end
  assert(out == file, err)
  assert(out2 == file2)
  local p = io.open(file, "rb"); local sig = p:read(4); p:close()
  assert(sig == "\137PNG")
  checkerror("X2 must have 2 columns", phase.plot_map, {{1, 2, 3}}, nil, {file = file})
  assert(lab)
end)

test("misuse: clear errors at the caller", function()
  checkerror("phase.gmm: unknown option 'K'", phase.gmm, {{1, 2}}, {K = 2})
  checkerror("give k= or kmax=, not both", phase.gmm, {{1}, {2}}, {k = 1, kmax = 2})
  checkerror("X[2] has 1 values but X[1] has 2", phase.pca, {{1, 2}, {3}})
  checkerror("weights has 1 values but there are 2 frames", phase.block_average, {1, 2}, {weights = {1}})
  checkerror("T must be a temperature > 0 K", phase.delta_g, 0.5, 0.5, -1)
  checkerror("T has 2 values but dG has 3", phase.delta_mu, {1, 2}, {1, 2, 3})
  checkerror("energies_A= and energies_B=", phase.fep, {T = 300})
  checkerror("covariance must be", phase.gmm, {{1}, {2}}, {covariance = "tied"})
  local msg = checkerror("phase.pca", function() phase.pca("x") end)
  assert(msg:find("test_phase.lua"), msg)   -- blames the caller's line
end)
