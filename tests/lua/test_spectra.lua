-- tests/lua/test_spectra.lua: end-to-end physics of the spectra tool chain through the
-- public Lua API, with real MD of a crystal whose phonons are known exactly: fcc with
-- nearest-neighbour harmonic springs (kiln.potential.harmonic at rest length a/√2, cutoff
-- between the first and second shells), argon mass, 10 K. References are independent of
-- the correlators: the analytic fcc dispersion, kiln.phonons (finite-displacement force
-- constants; itself checked against phonopy in tests/c/test_phonons.c), e^{-βħω} from
-- the constants in kiln.units, and the in-situ correlators themselves (offline feeding).
--
--   1. S(q,ω), C_L(q,ω), C_T(q,ω) peak at the LA / TA frequencies (Γ-X and Γ-L)
--   2. kiln.correlator.green reproduces the harmonic dispersion within 1 % (Langevin MD)
--   3. the VACF DOS matches ph:dos (moments, shape), and a wrong DOS fails the criterion
--   4. sum rules and detailed balance after kiln.ins quantum corrections
--   5. offline (H5MD, extxyz) = in situ, bit for bit
--
-- KILN_SHORT=1 (the ASan build in `make debug`) shortens the MD runs; tolerances that
-- depend on statistics are widened there and say so. KILN_TEST_VERBOSE=1 prints the
-- measured numbers; KILN_SPECTRA_SEED=n shifts every random seed (to check that no
-- tolerance relies on a lucky seed).
local kiln = require "kiln"
local ins = kiln.ins

local SHORT = (os.getenv("KILN_SHORT") or "") ~= "" and os.getenv("KILN_SHORT") ~= "0"
local VERBOSE = (os.getenv("KILN_TEST_VERBOSE") or "") ~= ""
local SEED = math.tointeger(tonumber(os.getenv("KILN_SPECTRA_SEED") or "0")) or 0
local function say(fmt, ...)
  if VERBOSE then io.stderr:write(string.format(fmt, ...), "\n") end
end

---------------------------------------------------------------- the model crystal
local A = 5.26                     -- Å, fcc lattice constant
local KSPRING = 1.0                -- eV/Å²
local T = 10.0                     -- K
local R0 = A / math.sqrt(2)        -- nearest-neighbour distance = spring rest length
local CUT = (R0 + A) / 2           -- between the 1st (a/√2) and 2nd (a) shells
local THZ = kiln.phonons.THz       -- THz per √(eV/(Å² amu))
local TWOPI = 2 * math.pi

local pot = kiln.potential.harmonic{k = KSPRING, r0 = R0, cutoff = CUT}
local h = A / 2
local prim = kiln.crystal.from_cell{cell = {{0, h, h}, {h, 0, h}, {h, h, 0}}, symbols = {"Ar"},
                                    scaled_positions = {{0, 0, 0}}}
local MASS = prim:masses()[1]      -- 39.948 amu

-- exact phonons: primitive cell (3 branches), 4x4x4 force-constant supercell
local ph = kiln.phonons{atoms = prim, potential = pot, supercell = 4, stencil = 4, delta = 1e-3}
-- conventional cell 4x4x4 (256 atoms) for the thermal starting states
local phc = kiln.phonons{atoms = kiln.crystal.fcc{symbol = "Ar", a = A}, potential = pot,
                         supercell = 4}

-- q-points commensurate with the 4x4x4 conventional supercell: Γ-X and Γ-L
local B = TWOPI / (4 * A)
local Q = {{B, 0, 0}, {2 * B, 0, 0}, {3 * B, 0, 0}, {4 * B, 0, 0},   -- ..., X = 2π/a (1,0,0)
           {B, B, B}, {2 * B, 2 * B, 2 * B}}                          -- ..., L = 2π/a (½,½,½)
local QNAME = {"X/4", "X/2", "3X/4", "X", "L/2", "L"}
local NQ = #Q

-- analytic fcc nearest-neighbour dispersion, from D_ab(q) = (k/m) Σ_NN (1 − cos q·R) R̂_a R̂_b
-- (ω² in eV/(Å² amu) → ν in THz):
--   [100], q = (q,0,0):         ω_L² = 4 (k/m)(1 − cos(qa/2)), ω_T² = 2 (k/m)(1 − cos(qa/2))
--   [111], q = (2π/a) ξ(1,1,1): ω_L² = 4 (k/m)(1 − cos 2πξ),   ω_T² = (k/m)(1 − cos 2πξ)
local function analytic(q)
  local km = KSPRING / MASS
  if q[2] == 0 then
    local c = 1 - math.cos(q[1] * A / 2)
    return math.sqrt(2 * km * c) * THZ, math.sqrt(4 * km * c) * THZ
  end
  local xi = q[1] * A / TWOPI
  local c = 1 - math.cos(TWOPI * xi)
  return math.sqrt(km * c) * THZ, math.sqrt(4 * km * c) * THZ
end

local EXACT = {}                  -- EXACT[i] = {TA, LA} in THz from kiln.phonons
do
  local f = ph:frequencies(Q)
  for i = 1, NQ do EXACT[i] = {f[i][1], f[i][3]} end
end

---------------------------------------------------------------- helpers
local function rad_fs_to_THz(w) return w / TWOPI * 1000 end

-- parabolic interpolation of the maximum of row i of map over columns k0..k1:
-- returns the peak position in units of the column spacing, 0-based (ω = pos·Δω)
local function peak(map, i, k0, k1)
  local best, kb = -math.huge, nil
  for k = k0, k1 do
    local v = map[i][k]
    if v > best then best, kb = v, k end
  end
  local ym, y0, yp = map[i][kb - 1], map[i][kb], map[i][kb + 1]
  local d = 0.5 * (ym - yp) / (ym - 2 * y0 + yp)
  return (kb - 1) + d, best
end

-- the main NVE run (tests 1, 4): 256 atoms from a classical thermal snapshot of the
-- harmonic crystal (equilibrium from the first step), velocity Verlet dt = 2 fs
-- (ω_max dt = 0.088), frames every 10 steps (20 fs), run once and shared.
local DT, EVERY = 2.0, 10
local DTF = DT * EVERY
local WSQ = 256                              -- sqw window: Δν = 1/(2·255·20 fs) = 0.098 THz
local NSTEPS = SHORT and 12000 or 40000     -- 1200 / 4000 frames
local main
local function main_run()
  if main then return main end
  local atoms = phc:sample{T = T, quantum = false, seed = 7 + SEED}
  local sq = kiln.correlator.sqw{q = Q, window = WSQ, incoherent = true, currents = true,
                                 window_function = "hann"}
  local md = kiln.md.verlet{dt = DT}
  local t0 = os.clock()
  local e0 = pot:energy(atoms) + atoms:kinetic_energy()
  md:run(atoms, pot, NSTEPS, {observe = {sq}, every = EVERY, thermo = 0, progress = false})
  local th = md:thermo()
  main = {res = sq:result(), cpu = os.clock() - t0, drift = (th.etot - e0) / th.ekin}
  say("main run: %d steps, %d frames, %.2f s cpu, T = %.3f K, energy drift %.1e of E_kin",
      NSTEPS, sq.nframes, main.cpu, th.T, main.drift)
  return main
end

---------------------------------------------------------------- 0. the reference itself
test("kiln.phonons on the spring crystal = analytic fcc NN dispersion", function()
  for i = 1, NQ do
    local ta, la = analytic(Q[i])
    local f = ph:frequencies({Q[i]})
    close(f[1][1], ta, 1e-10); close(f[1][2], ta, 1e-10); close(f[1][3], la, 1e-10)
    close(EXACT[i][1], ta, 1e-10); close(EXACT[i][2], la, 1e-10)
  end
  -- X: √(4k/m), √(8k/m); L: √(2k/m), √(8k/m)
  close(EXACT[4][1], math.sqrt(4 * KSPRING / MASS) * THZ, 1e-9)
  close(EXACT[6][2], math.sqrt(8 * KSPRING / MASS) * THZ, 1e-9)
  close(EXACT[6][1], math.sqrt(2 * KSPRING / MASS) * THZ, 1e-9)
end)

---------------------------------------------------------------- 1. peaks
-- Where a pure cosine cos(ω0 t) puts the interpolated peak: the spectra's own transform
-- (Hann window over W lags, columns ω_k = kΔω, S_k = Σ'_j w_j cos(ω0 t_j) cos(ω_k t_j),
-- both ±ω0 images included) followed by the same parabolic interpolation. x0 = ω0·dt
-- of the frames; returns the peak in columns (0-based: ω = pos·Δω).
local function hann_peak(W, x0)
  local k0 = math.floor(x0 * (W - 1) / math.pi + 0.5)
  local row = {}
  for k = k0 - 3, k0 + 3 do
    local s = 1
    for j = 1, W - 1 do
      local w = math.cos(math.pi * j / (2 * (W - 1))) ^ 2
      local c = w * math.cos(x0 * j) * math.cos(k * math.pi * j / (W - 1))
      s = s + (j == W - 1 and c or 2 * c)
    end
    row[k + 1] = s
  end
  return (peak({row}, 1, k0, k0 + 2))
end

-- velocity Verlet turns ω into (2/dt) asin(ω dt/2): the frequency the MD actually has
-- (+0.03 % at the top of the band for dt = 2 fs)
local function verlet_nu(nu)
  local w = nu * TWOPI / 1000
  return rad_fs_to_THz(2 / DT * math.asin(w * DT / 2))
end

test("S(q,w), C_L, C_T peak at the dynamical-matrix frequencies", function()
  -- Along Γ-X and Γ-L the density couples (to first order in u) only to the LA mode,
  -- the transverse current only to the two TA modes, and in a harmonic crystal in NVE
  -- each mode is a pure cosine: the spectra are the window's lobe centred on the mode
  -- frequency. Resolution Δν = 1/(2 (W−1) dt) = 0.098 THz. Checks, for each q:
  --  a. the interpolated peaks of C_L and S(q,ω) within 0.15 Δν (0.2-0.8 %) of the exact
  --     LA frequency, of C_T of the TA one. The budget: parabolic interpolation on the
  --     Hann lobe errs by up to 0.053 Δν (computed below), the Verlet shift ≤ 0.022 Δν,
  --     and the crystal is not exactly harmonic: the springs' geometric nonlinearity
  --     shifts the zone-boundary LA peaks (X, L: three or four degenerate standing
  --     waves that exchange energy) by up to ±0.053 Δν = ±7e-4 at 4-10 K, depending on
  --     the snapshot (measured over 32 seeds; below 0.1 K the shift is < 0.005 Δν);
  --  b. tighter: within 0.08 Δν of where a pure cosine at the Verlet frequency puts the
  --     interpolated peak (hann_peak): what is left is that anharmonic shift (< 0.004 Δν
  --     away from X and L) plus noise;
  --     KILN_SHORT (1200 frames instead of 4000): 0.2 and 0.15 Δν (measured up to
  --     0.125 Δν over 32 seeds);
  --  c. continuity, ω² S(q,ω) = q² C_L(q,ω): √(q² C_L/S) at the peak column equals ω_LA
  --     within 0.5 % (Verlet velocities differ from the derivative of the positions by
  --     O((ω dt)²/8) ≈ 1e-3 at the top of the band);
  --  d. the TA mode is invisible in S(q,ω) on these lines: |S(ω_TA)| < 2e-3 of the peak.
  local m = main_run()
  assert(math.abs(m.drift) < 1e-3, "NVE energy drift " .. m.drift)
  local res = m.res
  local dw = res.omega[2]
  local dnu = rad_fs_to_THz(dw)
  close(dw, math.pi / ((WSQ - 1) * DTF), 1e-12)
  assert(res.nframes == NSTEPS // EVERY and res.dt == DTF and res.window == WSQ)
  local bias = 0                                    -- interpolation bias on this grid
  for step = 0, 19 do
    local k0 = 40 + step / 20
    bias = math.max(bias, math.abs(hann_peak(WSQ, k0 * math.pi / (WSQ - 1)) - k0))
  end
  assert(bias > 0.03 and bias < 0.06, "interpolation bias " .. bias)
  say("Δν = %.4f THz; parabolic interpolation bias of the Hann lobe <= %.4f Δν", dnu, bias)
  local worst_a, worst_b, worst_c, worst_d = 0, 0, 0, 0
  for i = 1, NQ do
    local ta, la = EXACT[i][1], EXACT[i][2]
    local tav, lav = verlet_nu(ta), verlet_nu(la)
    local pl = peak(res.clw, i, 3, WSQ - 1) * dnu
    local pt = peak(res.ctw, i, 3, WSQ - 1) * dnu
    local ps, smax = peak(res.sqw_coh, i, 3, WSQ - 1)
    ps = ps * dnu
    local predl = hann_peak(WSQ, lav * TWOPI / 1000 * DTF) * dnu
    local predt = hann_peak(WSQ, tav * TWOPI / 1000 * DTF) * dnu
    local kp = math.floor(ps / dnu + 0.5) + 1
    local q2 = Q[i][1] ^ 2 + Q[i][2] ^ 2 + Q[i][3] ^ 2
    local cont = math.sqrt(q2 * res.clw[i][kp] / res.sqw_coh[i][kp]) / (lav * TWOPI / 1000)
    local kt = math.floor(ta / dnu + 0.5) + 1
    local tvis = math.abs(res.sqw_coh[i][kt]) / smax
    say("%-5s LA %.4f: C_L %.4f S %.4f (%+.3f, %+.3f Δν; vs cosine %+.4f, %+.4f) | " ..
        "TA %.4f: C_T %.4f (%+.3f Δν; vs cosine %+.4f) | continuity %+.1e | S(TA)/S(LA) %.1e",
        QNAME[i], la, pl, ps, (pl - la) / dnu, (ps - la) / dnu, (pl - predl) / dnu,
        (ps - predl) / dnu, ta, pt, (pt - ta) / dnu, (pt - predt) / dnu, cont - 1, tvis)
    for _, d in ipairs{(pl - la) / dnu, (ps - la) / dnu, (pt - ta) / dnu} do
      worst_a = math.max(worst_a, math.abs(d))
    end
    for _, d in ipairs{(pl - predl) / dnu, (ps - predl) / dnu, (pt - predt) / dnu} do
      worst_b = math.max(worst_b, math.abs(d))
    end
    worst_c = math.max(worst_c, math.abs(cont - 1))
    worst_d = math.max(worst_d, tvis)
  end
  say("peaks: max |peak - exact| %.3f Δν, max |peak - cosine| %.4f Δν, continuity %.1e, " ..
      "TA in S %.1e", worst_a, worst_b, worst_c, worst_d)
  assert(worst_a <= (SHORT and 0.2 or 0.15),
         string.format("a peak is %.3f Δν from the exact frequency", worst_a))
  assert(worst_b <= (SHORT and 0.15 or 0.08),
         string.format("a peak is %.4f Δν from the pure-cosine peak", worst_b))
  assert(worst_c <= 5e-3, string.format("continuity off by %.2e", worst_c))
  assert(worst_d <= 2e-3, string.format("TA visible in S: %.2e", worst_d))
end)

---------------------------------------------------------------- 2. green
test("green: harmonic dispersion within 1% from Langevin MD at 10 K", function()
  -- 64 atoms (4x4x4 primitive cells, 64 grid q). BAOAB Langevin samples the
  -- configurations of a harmonic crystal exactly for any dt below the stability limit
  -- (Leimkuhler & Matthews 2013), so a long step (30 fs, ω_max dt = 1.33 < 2) and a
  -- damping time near 1/ω (30 fs) make frames 60 fs apart nearly independent
  -- (measured: the rms error falls as 1/√frames and is ~0.5/√frames). T is given (T=),
  -- not taken from the velocities, which BAOAB samples only approximately at this dt.
  -- Statistics: a frequency from N independent frames has a relative error ≈ 0.5/√N
  -- (√2 more at zone-boundary q ≡ −q): 150000 frames give σ ≈ 0.19 %, so each of the
  -- 189 grid frequencies is required within 1.2 % (~4.5σ at the zone boundary), their
  -- rms within 0.3 %, the mean deviation (a bias) within 0.1 %, and the dispersion
  -- proper -- each frequency averaged over its symmetry-equivalent grid points --
  -- within the issue's 1 %.
  -- KILN_SHORT: 25000 frames, σ ≈ 0.45 %: 3 %, 0.7 %, 0.2 % and 2 %.
  local nsteps = SHORT and 50000 or 300000
  local tol_each, tol_rms, tol_mean, tol_star = 0.012, 0.003, 0.001, 0.01
  if SHORT then tol_each, tol_rms, tol_mean, tol_star = 0.03, 0.007, 0.002, 0.02 end
  -- a path along Γ-X and Γ-L, through grid points (X/2, X, L/2, L) and between them
  local path = {}
  for s = 1, 16 do path[#path + 1] = {s / 16 * TWOPI / A, 0, 0} end
  for s = 1, 8 do local x = s / 16 * TWOPI / A; path[#path + 1] = {x, x, x} end
  local atoms = prim:supercell(4, 4, 4)
  local g = kiln.correlator.green{unitcell = prim, supercell = {4, 4, 4}, T = T, path = path}
  local md = kiln.md.langevin{dt = 30, T = T, damping = 30, seed = 5 + SEED}
  local t0 = os.clock()
  md:run(atoms, pot, 1000, {thermo = 0, progress = false})       -- 30 ps to equilibrate
  md:run(atoms, pot, nsteps, {observe = {g}, every = 2, thermo = 0, progress = false})
  local cpu = os.clock() - t0
  local res = g:result()
  assert(res.nframes == nsteps // 2 and res.T[1] == T and res.attrs.T_source == "option")
  local ex = ph:frequencies(res.qgrid)
  local maxe, s2, sr, n, gamma_max = 0, 0, 0, 0, 0
  local stars = {}                  -- grid q with the same exact frequencies: one star
  for i = 1, 64 do
    if ex[i][3] > 1e-3 then
      local key = string.format("%.6f %.6f %.6f", ex[i][1], ex[i][2], ex[i][3])
      local st = stars[key] or {n = 0, sum = {0, 0, 0}, ex = {ex[i][1], ex[i][2], ex[i][3]}}
      stars[key] = st
      st.n = st.n + 1
      for j = 1, 3 do
        local d = res.freq_grid[i][j] / ex[i][j] - 1
        maxe = math.max(maxe, math.abs(d)); s2 = s2 + d * d; sr = sr + d; n = n + 1
        st.sum[j] = st.sum[j] + res.freq_grid[i][j]
      end
    else
      -- Γ: Langevin noise moves the centre of mass (a random walk, not a phonon), so
      -- G(Γ) is large but finite and the acoustic "frequencies" small (~0.05 THz), not 0
      for j = 1, 3 do gamma_max = math.max(gamma_max, math.abs(res.freq_grid[i][j])) end
    end
  end
  local rms, mean = math.sqrt(s2 / n), sr / n
  local smax, nstars = 0, 0
  for _, st in pairs(stars) do
    nstars = nstars + 1
    for j = 1, 3 do smax = math.max(smax, math.abs(st.sum[j] / st.n / st.ex[j] - 1)) end
  end
  -- the path: Fourier interpolation of the measured force constants. Near Γ the
  -- frequencies are small and the (absolute) noise of the interpolation is not, so the
  -- error is measured against the top of the band: 1 % of it (2 % with KILN_SHORT)
  local exp_path = ph:frequencies(path)
  local ptop, top = 0, EXACT[4][2]
  for i = 1, #path do
    for j = 1, 3 do
      ptop = math.max(ptop, math.abs(res.freq_path[i][j] - exp_path[i][j]) / top)
    end
  end
  say("green: %d frames, %.2f s cpu: grid max %.3f%% rms %.3f%% mean %+.3f%%; " ..
      "%d stars max %.3f%%; Γ acoustic %.4f THz; path max %.3f%% of the top", g.nframes, cpu,
      100 * maxe, 100 * rms, 100 * mean, nstars, 100 * smax, gamma_max, 100 * ptop)
  assert(n == 189 and nstars >= 6, "grid")
  assert(maxe <= tol_each, string.format("grid frequency off by %.3f%%", 100 * maxe))
  assert(rms <= tol_rms, string.format("rms %.3f%%", 100 * rms))
  assert(math.abs(mean) <= tol_mean, string.format("mean deviation %.3f%%", 100 * mean))
  assert(smax <= tol_star, string.format("star-averaged frequency off by %.3f%%", 100 * smax))
  assert(ptop <= (SHORT and 0.02 or 0.01),
         string.format("path off by %.3f%% of the top", 100 * ptop))
  assert(gamma_max < 0.2, "Γ acoustic " .. gamma_max)
end)

---------------------------------------------------------------- 3. VACF DOS
-- trapezoid moments of g on a uniform grid: ∫g, ⟨ν⟩, ⟨ν²⟩
local function moments(f, g, n)
  local s0, s1, s2 = 0, 0, 0
  for k = 1, n do
    local w = (k == 1 or k == n) and 0.5 or 1
    s0 = s0 + w * g[k]; s1 = s1 + w * g[k] * f[k]; s2 = s2 + w * g[k] * f[k] ^ 2
  end
  return s0 * (f[2] - f[1]), s1 / s0, s2 / s0
end

test("VACF DOS of NVE MD = phonon DOS; a 3% wrong DOS fails", function()
  -- In NVE each normal mode keeps the energy the starting snapshot gave it, so the VACF
  -- DOS weighs the modes by random (exponential) energies: one 256-atom run has ±1.5 %
  -- noise on ⟨ν⟩. The DOS is therefore averaged over NS independent snapshots
  -- (ph:sample, classical, 10 K), each run 1500 steps (150 frames):
  -- σ(⟨ν⟩) ≈ 0.4/√(765 NS) = 0.26 % (NS = 32; 0.36 % with KILN_SHORT's 16), σ(⟨ν²⟩)
  -- ≈ 1.5× that. Reference: ph:dos on a 24³ mesh on the same frequency grid, Gaussian
  -- σ = 0.75 Δν (the Gaussian that best matches the Hann lobe of the VACF spectrum;
  -- measured). The
  -- snapshot freezes the 3 acoustic Γ modes (no centre-of-mass motion), so the MD DOS
  -- spreads the same 3 states per atom over 765 of the 768 modes: the reference moments
  -- are scaled by 768/765 (+0.4 %). Criteria: ⟨ν⟩, ⟨ν²⟩ within 2 %; ∫|g1 − g2| dν / 3
  -- < 0.08 (measured 0.04). Control: the reference with its frequency axis scaled by
  -- 1.03 or 0.97 must fail the moment criterion (⟨ν²⟩ off by ~6 %) and, on its own, the
  -- shape criterion (measured ~0.11).
  local W, NS, NSTEPS = 50, SHORT and 16 or 32, 1500
  local freq, dos = nil, {}
  local t0 = os.clock()
  for s = 1, NS do
    local atoms = phc:sample{T = T, quantum = false, seed = 100 + s + 1000 * SEED}
    local v = kiln.correlator.vacf{window = W, window_function = "hann"}
    kiln.md.verlet{dt = DT}:run(atoms, pot, NSTEPS, {observe = {v}, every = EVERY, thermo = 0,
                                                     progress = false})
    local r = v:result()
    assert(r.nframes == NSTEPS // EVERY and r.dt == DTF)
    freq = freq or r.freq
    for k = 1, W do dos[k] = (dos[k] or 0) + r.dos[k] / NS end
  end
  local cpu = os.clock() - t0
  local dnu = freq[2]
  close(dnu, 1000 / (2 * (W - 1) * DTF), 1e-12)       -- THz
  local n0, m1, m2 = moments(freq, dos, W)
  close(n0, 3, 1e-12)                                  -- Σ' g Δν = 3 exactly
  local function reference(scale)   -- ph:dos with the frequency axis scaled: g(ν/s)/s
    local d = ph:dos{mesh = 24, sigma = 0.75 * dnu / scale, nbins = W, fmin = 0,
                     fmax = freq[W] / scale}
    close(d.freq[2] * scale, dnu, 1e-12)
    local g = {}
    for k = 1, W do g[k] = d.dos[k] / scale end
    return g
  end
  local function compare(g)
    local _, r1, r2 = moments(freq, g, W)
    r1, r2 = r1 * 768 / 765, r2 * 768 / 765
    local ov = 0
    for k = 1, W do
      local w = (k == 1 or k == W) and 0.5 or 1
      ov = ov + w * math.abs(dos[k] - g[k]) / 3
    end
    return m1 / r1 - 1, m2 / r2 - 1, ov * dnu, r1, r2
  end
  local d1, d2, ov, r1, r2 = compare(reference(1))
  say("DOS: %d runs, %.2f s cpu; MD <ν> %.4f <ν²> %.4f, phonons (x768/765) %.4f %.4f: " ..
      "%+.2f%% %+.2f%%, overlap %.4f", NS, cpu, m1, m2, r1, r2, 100 * d1, 100 * d2, ov)
  assert(math.abs(d1) <= 0.02 and math.abs(d2) <= 0.02, "DOS moments")
  assert(ov < 0.08, "DOS shape: ∫|g1-g2| = " .. ov)
  for _, scale in ipairs{1.03, 0.97} do
    local e1, e2, eov = compare(reference(scale))
    say("  control x%.2f: %+.2f%% %+.2f%%, overlap %.4f", scale, 100 * e1, 100 * e2, eov)
    assert((math.abs(e1) > 0.02 or math.abs(e2) > 0.02) and eov > 0.08, "control passed")
  end
end)

---------------------------------------------------------------- 4. sum rules
test("sum rules on the MD S(q,w); detailed balance after the quantum correction", function()
  local res = main_run().res
  local W = WSQ
  local dw = res.omega[2]
  local function sum(map, i, f)     -- (Δω/π) Σ'_k f(ω_k) S(q_i, ω_k)
    local s = 0
    for k = 1, W do
      local w = (k == 1 or k == W) and 0.5 or 1
      s = s + w * (f and f(res.omega[k]) or 1) * map[i][k]
    end
    return dw / math.pi * s
  end
  -- (Δω/π) Σ' S(q,ω) = F(q,0) for every q and every item; F_s(q,0) = 1
  local pairs_ = {{"fqt_coh", "sqw_coh"}, {"fqt_incoh", "sqw_incoh"}, {"cl", "clw"}, {"ct", "ctw"}}
  local worst = 0
  for i = 1, NQ do
    local items = {{res.fqt_partial["Ar-Ar"], res.sqw_partial["Ar-Ar"]},
                   {res.fqt_self.Ar, res.sqw_self.Ar}}
    for _, p in ipairs(pairs_) do items[#items + 1] = {res[p[1]], res[p[2]]} end
    for _, it in ipairs(items) do
      local f0 = it[1][i][1]
      local d = math.abs(sum(it[2], i) - f0) / math.abs(f0)
      worst = math.max(worst, d)
      assert(d <= 1e-10, string.format("sum rule q %d: %.3g", i, d))
    end
    assert(math.abs(res.fqt_incoh[i][1] - 1) <= 1e-14, "F_s(q,0) = " .. res.fqt_incoh[i][1])
    assert(math.abs(res.fqt_self.Ar[i][1] - 1) <= 1e-14, "F_s,Ar(q,0) = " .. res.fqt_self.Ar[i][1])
    -- the coherent F(q,0) = S(q) is the Ar-Ar partial (one species)
    assert(res.fqt_coh[i][1] == res.fqt_partial["Ar-Ar"][i][1])
  end
  say("sum rules: worst relative deviation %.2e", worst)

  -- f-sum rule of the classical spectrum via continuity: (Δω/π) Σ' ω² S(q,ω) =
  -- −F''(q,0) = q² C_L(q, t=0), both sides from the MD. Exact for a stationary average;
  -- here 1 % (3 % with KILN_SHORT; measured up to 0.45 % and 1.4 % over 10 seeds):
  -- finitely many time origins (the standing waves at X and L are not averaged over all
  -- phases), the Verlet velocity lag (test 1) and the Hann window's own second moment
  -- (Δω²/2, 7e-4 of ω² at the lowest q)
  local worst_f = 0
  for i = 1, NQ do
    local q2 = Q[i][1] ^ 2 + Q[i][2] ^ 2 + Q[i][3] ^ 2
    local w2 = sum(res.sqw_coh, i, function(w) return w * w end)
    worst_f = math.max(worst_f, math.abs(w2 / (q2 * res.cl[i][1]) - 1))
  end
  say("f-sum (continuity): worst relative deviation %.2e", worst_f)
  assert(worst_f <= (SHORT and 0.03 or 0.01), "f-sum rule off by " .. worst_f)

  -- detailed balance. The classical S is even in ω: the negative-ω side is the mirror
  -- image (doc/ins.md). Neutron-weighted total (coherent + incoherent), then the quantum
  -- correction on the full grid -ω_max..ω_max (meV).
  local total = ins.combine(res, ins.weights{"Ar"}).total
  local E = ins.meV(res.omega)
  local Efull, map = {}, {}
  for k = W, 2, -1 do Efull[#Efull + 1] = -E[k] end
  for k = 1, W do Efull[#Efull + 1] = E[k] end
  for i = 1, NQ do
    local row = {}
    for k = W, 2, -1 do row[#row + 1] = total[i][k] end
    for k = 1, W do row[#row + 1] = total[i][k] end
    map[i] = row
  end
  local hbar, kB = kiln.units.hbar, kiln.units.kB          -- eV fs, eV/K
  for _, kind in ipairs{"harmonic", "schofield"} do
    local sq = ins.correct(map, Efull, T, kind)
    local worst_db = 0
    for i = 1, NQ do
      for k = 2, W do
        local pos, neg = W - 1 + k, W + 1 - k             -- columns of +ω_k and -ω_k
        local x = hbar * res.omega[k] / (kB * T)          -- βħω from kiln.units
        local want = math.exp(-x)
        if sq[i][pos] ~= 0 then
          local d = math.abs(sq[i][neg] / sq[i][pos] / want - 1)
          worst_db = math.max(worst_db, d)
        end
      end
      assert(sq[i][W] == map[i][W], "ω = 0 unchanged")
      if kind == "harmonic" then
        -- first moment of the corrected spectrum = (βħ/2) × second moment of the
        -- classical one (the corrected f-sum rule, ħq²/2m at equilibrium)
        local s1 = 0
        for c = 1, 2 * W - 1 do
          local wt = (c == 1 or c == 2 * W - 1) and 0.5 or 1
          s1 = s1 + wt * (Efull[c] / (hbar * 1000)) * sq[i][c]
        end
        s1 = s1 * dw / (2 * math.pi)
        local s2 = 0
        for k = 1, W do
          local wt = (k == 1 or k == W) and 0.5 or 1
          s2 = s2 + wt * res.omega[k] ^ 2 * total[i][k]
        end
        s2 = s2 * dw / math.pi
        close(s1, hbar / (2 * kB * T) * s2, 1e-9)
      end
    end
    say("detailed balance (%s): worst |S(-ω)/S(ω) e^{βħω} - 1| = %.2e", kind, worst_db)
    assert(worst_db <= 1e-10, kind .. " detailed balance " .. worst_db)
  end
end)

---------------------------------------------------------------- 5. offline = in situ
-- every kiln.Array leaf of a result table, by dotted path
local function leaves(t, prefix, out)
  out = out or {}
  for k, v in pairs(t) do
    if k ~= "units" and k ~= "descriptions" and k ~= "attrs" then
      local p = (prefix and prefix .. "." or "") .. k
      local mt = getmetatable(v)
      if type(mt) == "table" and mt.__name == "kiln.Array" then out[p] = v
      elseif type(v) == "table" then leaves(v, p, out) end
    end
  end
  return out
end

local function identical(r1, r2, what)
  local l1, l2 = leaves(r1), leaves(r2)
  local n, nval = 0, 0
  for p, a in pairs(l1) do
    local b = assert(l2[p], what .. ": missing " .. p)
    local ra, ca = a:shape()
    local rb, cb = b:shape()
    assert(ra == rb and ca == cb, what .. ": shape of " .. p)
    for i = 1, ra do
      for j = 1, ca do
        local x, y = a:get(i, j), b:get(i, j)
        if x ~= y then
          error(string.format("%s: %s[%d][%d] differs: %.17g vs %.17g", what, p, i, j, x, y))
        end
        nval = nval + 1
      end
    end
    n = n + 1
  end
  for p in pairs(l2) do assert(l1[p], what .. ": extra " .. p) end
  for k, v in pairs(r1.attrs) do assert(r2.attrs[k] == v, what .. ": attribute " .. k) end
  return n, nval
end

test("offline (H5MD, extxyz) = in situ, bit for bit", function()
  -- one NVE run observed by the correlators in situ, an H5MD trajectory (md:run
  -- observer) and an extxyz file (a Lua observer; kiln.io.write writes the shortest
  -- decimal that reads back to the same double, so the text round trip is exact too)
  local atoms = phc:sample{T = T, quantum = false, seed = 3 + SEED}
  local function correlators()
    return {kiln.correlator.sqw{q = Q, window = 40, incoherent = true, incoherent_step = 5,
                                currents = true, window_function = "hann"},
            kiln.correlator.vacf{window = 40, step = 2}}
  end
  local insitu = correlators()
  local h5, xyz = tmpname(".h5"), tmpname(".xyz")
  local traj = kiln.io.trajectory(h5, "w")
  local nframes = 0
  local function write_xyz(step, a, th)
    local c = a:copy()
    c.info = {step = step, time = th.time}
    kiln.io.write(xyz, c, {append = nframes > 0})
    nframes = nframes + 1
  end
  kiln.md.verlet{dt = DT}:run(atoms, pot, 400, {observe = {traj, insitu[1], insitu[2], write_xyz},
                                                every = 4, thermo = 0, progress = false})
  traj:close()
  assert(nframes == 100 and insitu[1].nframes == 100)
  local from_h5, from_xyz = correlators(), correlators()
  kiln.correlator.feed(h5, from_h5, {progress = false})
  kiln.correlator.feed(xyz, from_xyz, {progress = false})
  local counts = {}
  for c = 1, 2 do
    local ref = insitu[c]:result()
    local n1, v1 = identical(ref, from_h5[c]:result(), insitu[c].style .. " h5md")
    local n2, v2 = identical(ref, from_xyz[c]:result(), insitu[c].style .. " extxyz")
    assert(n1 == n2 and v1 == v2)
    counts[#counts + 1] = string.format("%s %d arrays / %d numbers", insitu[c].style, n1, v1)
  end
  say("offline = in situ: %s", table.concat(counts, ", "))
end)
