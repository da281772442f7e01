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
-- measured numbers.
local kiln = require "kiln"
local ins = kiln.ins

local SHORT = (os.getenv("KILN_SHORT") or "") ~= "" and os.getenv("KILN_SHORT") ~= "0"
local VERBOSE = (os.getenv("KILN_TEST_VERBOSE") or "") ~= ""
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

-- analytic fcc nearest-neighbour dispersion (ω² in eV/(Å² amu) → ν in THz):
-- along [100], q = (q,0,0):     ω_L² = 4 (k/m)(1 − cos(qa/2)),  ω_T² = 2 (k/m)(1 − cos(qa/2))
-- along [111], q = (2π/a) ξ(1,1,1): ω_L² = 4 (k/m)(1 − cos 2πξ), ω_T² = (k/m)(1 − cos 2πξ)
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
-- harmonic crystal (equilibrium from the first step), velocity Verlet dt = 2 fs,
-- frames every 10 steps (20 fs), run once and shared.
local DT, EVERY = 2.0, 10
local DTF = DT * EVERY
local WSQ = 256                              -- sqw window: Δν = 1/(2·255·20 fs) = 0.098 THz
local NSTEPS = SHORT and 12000 or 40000     -- 1200 / 4000 frames
local main
local function main_run()
  if main then return main end
  local atoms = phc:sample{T = T, quantum = false, seed = 7}
  local sq = kiln.correlator.sqw{q = Q, window = WSQ, incoherent = true, currents = true,
                                 window_function = "hann"}
  local md = kiln.md.verlet{dt = DT}
  local e0
  local t0 = os.clock()
  md:run(atoms, pot, NSTEPS, {observe = {sq}, every = EVERY, thermo = 0, progress = false})
  main = {atoms = atoms, sq = sq, res = sq:result(), md = md, cpu = os.clock() - t0}
  say("main run: %d steps, %d frames, %.2f s cpu, T = %.3f K", NSTEPS, sq.nframes, main.cpu,
      md:thermo().T)
  return main
end

---------------------------------------------------------------- 0. the reference itself
test("kiln.phonons on the spring crystal = analytic fcc NN dispersion", function()
  for i = 1, NQ do
    local ta, la = analytic(Q[i])
    local f = ph:frequencies({Q[i]})
    close(f[1][1], ta, 1e-9); close(f[1][2], ta, 1e-9); close(f[1][3], la, 1e-9)
    close(EXACT[i][1], ta, 1e-9); close(EXACT[i][2], la, 1e-9)
  end
  -- X: √(4k/m), √(8k/m); L: √(2k/m), √(8k/m)
  close(EXACT[4][1], math.sqrt(4 * KSPRING / MASS) * THZ, 1e-9)
  close(EXACT[6][2], math.sqrt(8 * KSPRING / MASS) * THZ, 1e-9)
  close(EXACT[6][1], math.sqrt(2 * KSPRING / MASS) * THZ, 1e-9)
end)

---------------------------------------------------------------- 1. peaks
-- The largest error of the parabolic peak interpolation for a pure cosine under the
-- spectra's own transform (Hann window over W lags, columns ω_k = kΔω): the cosine
-- transform S_k = Σ'_j w_j cos(ω0 t_j) cos(ω_k t_j) evaluated around the peak for ω0 at
-- fractional offsets 0, 0.05, ..., 0.95 of a column. In units of Δω.
local function hann_peak(W, x0)          -- x0 = ω0·dt_frame; returns the interpolated column
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
local function interpolation_bias(W, k0)
  local worst = 0
  for step = 0, 19 do
    local f = step / 20
    local pos = hann_peak(W, (k0 + f) * math.pi / (W - 1))
    worst = math.max(worst, math.abs(pos - (k0 + f)))
  end
  return worst
end

-- velocity Verlet turns ω into (2/dt) asin(ω dt/2): the frequency the MD actually has
local function verlet_nu(nu)
  local w = nu * TWOPI / 1000
  return rad_fs_to_THz(2 / DT * math.asin(w * DT / 2))
end

test("S(q,w), C_L, C_T peak at the dynamical-matrix frequencies", function()
  local m = main_run()
  local res = m.res
  local dw = res.omega[2]
  local dnu = rad_fs_to_THz(dw)
  close(dw, math.pi / ((WSQ - 1) * DTF), 1e-12)
  local bias = interpolation_bias(WSQ, 40)
  say("Δν = %.4f THz; parabolic interpolation bias of the Hann lobe <= %.4f Δν", dnu, bias)
  for i = 1, NQ do
    local ta, la = EXACT[i][1], EXACT[i][2]
    local tav, lav = verlet_nu(ta), verlet_nu(la)
    local pl = peak(res.clw, i, 3, WSQ - 1) * dnu
    local pt = peak(res.ctw, i, 3, WSQ - 1) * dnu
    local ps, smax = peak(res.sqw_coh, i, 3, WSQ - 1)
    ps = ps * dnu
    -- continuity: ω² S(q,ω) = q² C_L(q,ω) at the peak column
    local kp = math.floor(ps / dnu + 0.5) + 1
    local q2 = Q[i][1] ^ 2 + Q[i][2] ^ 2 + Q[i][3] ^ 2
    local cont = res.omega[kp] ^ 2 * res.sqw_coh[i][kp] / (q2 * res.clw[i][kp])
    local wl = res.omega[kp]
    local wexp = lav * TWOPI / 1000
    local cont2 = math.sqrt(q2 * res.clw[i][kp] / res.sqw_coh[i][kp]) / wexp
    local xl = lav * TWOPI / 1000 * DTF
    local predl = hann_peak(WSQ, xl) * dnu
    local predt = hann_peak(WSQ, tav * TWOPI / 1000 * DTF) * dnu
    say("   predicted peaks: LA %.5f (C_L - pred %+.4f dnu, S - pred %+.4f dnu)  TA %.5f (C_T - pred %+.4f dnu)  sqrt(q2CL/S)/w_LA - 1 = %.2e",
        predl, (pl - predl) / dnu, (ps - predl) / dnu, predt, (pt - predt) / dnu, cont2 - 1)
    local kt = math.floor(ta / dnu + 0.5) + 1
    local tvis = res.sqw_coh[i][kt] / smax
    say("%-5s LA %.4f (verlet %.4f) C_L %.4f (%+.3f dnu)  S %.4f (%+.3f dnu) | TA %.4f  C_T %.4f (%+.3f dnu) | w2S/q2CL %.5f  S(TA)/S(LA) %.2e",
        QNAME[i], la, lav, pl, (pl - lav) / dnu, ps, (ps - lav) / dnu, ta, pt, (pt - tav) / dnu, cont, tvis)
  end
end)
