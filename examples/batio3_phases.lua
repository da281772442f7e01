-- examples/batio3_phases.lua: BaTiO3 through its phases with the first-principles effective
-- Hamiltonian (Nishimatsu et al. 2010 parameters, kiln.potential.effective_hamiltonian).
--
-- Cooling (and, in full mode, heating) through C -> T -> O -> R with Langevin MD, the
-- homogeneous strain minimised every step under p = -0.005 T GPa (the protocol behind the
-- published curves; EH_MODE=npt uses kiln.md.npt with the cell as the strain instead).
-- Order parameters = the mean local-mode components (the polarization), sorted by size;
-- Gaussian-mixture phases on them (kiln.phase), Delta mu(T) between neighbouring phases and
-- T_c; the T_c table beside the published values for the same Hamiltonian; eps(T) from
-- dipole fluctuations with a Curie-Weiss fit; chi(omega) in the cubic phase with a
-- two-oscillator fit (kiln.dielectric). PNG figures $KILN_OUTDIR/batio3_phases_*.png.
--
-- KILN_SHORT=1: 8^3 cells, few temperatures and steps (a smoke test, < 30 s).
-- Full mode: 12^3 cells (EH_L=16 for 16^3), 10 K steps, 4000 + 8000 steps of 2 fs per T.
-- Run from the repository root: build/<x>/bin/kiln examples/batio3_phases.lua
local kiln = require "kiln"
local eh, phase, diel, plot = kiln.effham, kiln.phase, kiln.dielectric, kiln.plot

local SHORT = os.getenv("KILN_SHORT") == "1"
local MODE = os.getenv("EH_MODE") or "relax"
local L = tonumber(os.getenv("EH_L") or (SHORT and 8 or 12))
local OUT = os.getenv("EH_OUT") or ((os.getenv("KILN_OUTDIR") or ".") .. "/batio3_phases")
local P = eh.params()
local N, V = L ^ 3, L ^ 3 * P.a0 ^ 3
local DT = 2.0
local NEQ, NPROD, EVERY = 4000, 8000, 20
local TEMPS = {}
if SHORT then
  TEMPS = {420, 300, 180, 60}; NEQ, NPROD, EVERY = 600, 600, 10
else
  for T = 460, 20, -10 do TEMPS[#TEMPS + 1] = T end
end
local function pressure(T) return -0.005 * T end          -- GPa, "to simulate thermal expansion"

-- published transition temperatures of this Hamiltonian (README 6.1, p = -0.005 T GPa)
local PUB = {{"C-T", 411, 413}, {"T-O", 170, 203}, {"O-R", 87, 118}}

local atoms = eh.lattice{n = L, u = {0, 0, 0}, noise = 0.03, seed = 7}

-- one temperature: equilibrate, then sample the order parameters every EVERY steps
local function run_T(T, seed)
  local pot, md
  if MODE == "npt" then
    pot = kiln.potential.effective_hamiltonian{}
    md = kiln.md.npt{dt = DT, T = T, P = pressure(T), mode = "full", tau_p = 2000,
                     compressibility = 0.01, damping = 500, seed = seed}
  else
    pot = kiln.potential.effective_hamiltonian{strain = "relax", pressure = pressure(T)}
    md = kiln.md.langevin{dt = DT, T = T, damping = 500, seed = seed}
  end
  md:run(atoms, pot, NEQ, {thermo = 0, progress = false})
  local rec = {T = T, X = {}, M = {}, a = {0, 0, 0}, u = {0, 0, 0}, s = {0, 0, 0}}
  md:run(atoms, pot, NPROD, {thermo = 0, progress = false, every = EVERY, observe = {
    function(_, a)
      local o = eh.order(a)
      rec.X[#rec.X + 1] = o.sorted
      rec.M[#rec.M + 1] = {P.Z_star * N * o.u[1], P.Z_star * N * o.u[2], P.Z_star * N * o.u[3]}
      for c = 1, 3 do
        rec.a[c] = rec.a[c] + o.a[c]; rec.s[c] = rec.s[c] + o.sorted[c]
        rec.u[c] = rec.u[c] + o.u[c]
      end
    end}})
  local nf = #rec.X
  for c = 1, 3 do rec.a[c] = rec.a[c] / nf; rec.s[c] = rec.s[c] / nf; rec.u[c] = rec.u[c] / nf end
  rec.phase = eh.classify(rec.s, 0.04)
  local st = diel.static{M = rec.M, V = V, T = T, eps_inf = P.epsilon_inf, nblocks = 5}
  rec.eps, rec.eps_err = st.eps_iso, st.err_iso
  return rec
end

local function scan(temps, label, seed0)
  local out = {}
  io.write(string.format("%s, %d^3 cells, %s strain, p = -0.005 T GPa\n", label, L, MODE))
  io.write("   T(K)  |u|1    |u|2    |u|3   (A)  a1     a2     a3 (A)   phase  eps\n")
  for i, T in ipairs(temps) do
    local r = run_T(T, seed0 + i)
    out[i] = r
    io.write(string.format("%7.0f  %.4f  %.4f  %.4f   %.4f %.4f %.4f   %s   %9.1f\n", T, r.s[1],
                           r.s[2], r.s[3], r.a[1], r.a[2], r.a[3], r.phase, r.eps))
    io.flush()
  end
  return out
end

-- T where the majority phase first changes between neighbouring grid temperatures
local function transitions(recs)
  local found = {}
  for i = 2, #recs do
    local p1, p2 = recs[i - 1].phase, recs[i].phase
    if p1 ~= p2 then
      local key = ({CT = "C-T", TC = "C-T", TO = "T-O", OT = "T-O", OR = "O-R", RO = "O-R"})[p1 .. p2]
      if key and not found[key] then found[key] = 0.5 * (recs[i - 1].T + recs[i].T) end
    end
  end
  return found
end

local cool = scan(TEMPS, "cooling", 100)
local heat
if not SHORT then
  local up = {}
  for i = #TEMPS, 1, -1 do up[#up + 1] = TEMPS[i] end
  atoms = eh.lattice{n = L, u = {0.11, 0.11, 0.11}, noise = 0.02, seed = 8}
  heat = scan(up, "heating", 500)
end

-- Gaussian mixture on the sorted order parameters of every frame of the cooling run
local X, Tframe = {}, {}
for _, r in ipairs(cool) do
  for _, x in ipairs(r.X) do X[#X + 1] = x; Tframe[#Tframe + 1] = r.T end
end
local gm = phase.gmm(X, {kmax = SHORT and 4 or 6, seed = 1})
local label = {}
for j = 1, gm.k do label[j] = eh.classify(gm.means[j], 0.04) end
io.write(string.format("GMM: BIC picks k = %d components:", gm.k))
for j = 1, gm.k do
  io.write(string.format("  %s (%.3f %.3f %.3f)", label[j], gm.means[j][1], gm.means[j][2],
                         gm.means[j][3]))
end
io.write("\n")

-- phase populations per temperature (posterior sums grouped by phase letter) -> Delta G
local letters = {"C", "T", "O", "R"}
local pops = {}
for _, r in ipairs(cool) do
  local post = gm:posterior(r.X)
  local pr = {C = 0, T = 0, O = 0, R = 0}
  for _, row in ipairs(post) do
    for j = 1, gm.k do pr[label[j]] = pr[label[j]] + row[j] / #post end
  end
  pops[#pops + 1] = {T = r.T, p = pr}
end
local dmu = {}
for k = 1, 3 do
  local A, B = letters[k], letters[k + 1]
  local T, dG = {}, {}
  for _, q in ipairs(pops) do
    local pa, pb = q.p[A], q.p[B]
    if pa > 0.02 and pb > 0.02 then
      T[#T + 1] = q.T
      dG[#dG + 1] = phase.delta_g(pa, pb, q.T)
    end
  end
  dmu[A .. "-" .. B] = {T = T, dG = dG}
  if #T >= 3 then dmu[A .. "-" .. B].fit = phase.delta_mu(T, dG) end
end

-- T_c table
local tc_cool = transitions(cool)
local tc_heat = heat and transitions(heat) or {}
io.write("\nT_c (K)      cooling  heating   Delta-mu fit        published: cooling  heating  (p = -0.005 T GPa)\n")
for _, row in ipairs(PUB) do
  local key = row[1]
  local f = dmu[key] and dmu[key].fit
  io.write(string.format("%-8s  %9s  %7s   %-18s           %4d     %4d\n", key,
                         tc_cool[key] and string.format("%.0f", tc_cool[key]) or "-",
                         tc_heat[key] and string.format("%.0f", tc_heat[key]) or "-",
                         f and string.format("%.0f +- %.0f", f.Tc, f.Tc_err) or "-", row[2], row[3]))
end

-- eps(T) and a Curie-Weiss fit on the cubic side
local Tc = tc_cool["C-T"] or 400
local Tcw, Ecw, Err = {}, {}, {}
for _, r in ipairs(cool) do
  if r.T > Tc + 5 then
    Tcw[#Tcw + 1] = r.T; Ecw[#Ecw + 1] = r.eps; Err[#Err + 1] = math.max(r.eps_err, 0.05 * r.eps)
  end
end
local cw
if #Tcw >= 3 then
  local ok, res = pcall(diel.curie_weiss, Tcw, Ecw, {errors = Err, background = false})
  if ok then
    cw = res
    io.write(string.format("\nCurie-Weiss above %.0f K: C = %.3g +- %.2g K, T0 = %.1f +- %.1f K\n",
                           Tc, cw.C, cw.err.C, cw.T0, cw.err.T0))
  else
    io.write("\nCurie-Weiss fit failed: " .. tostring(res) .. "\n")
  end
end

-- chi(omega) in the cubic phase: dipole every step, weak Langevin coupling
local Tchi = SHORT and 450 or math.floor(Tc + 40)
atoms = eh.lattice{n = L, noise = 0.03, seed = 9}
local pot = kiln.potential.effective_hamiltonian{strain = "relax", pressure = pressure(Tchi)}
local md = kiln.md.langevin{dt = DT, T = Tchi, damping = 5000, seed = 3}
md:run(atoms, pot, SHORT and 500 or 4000, {thermo = 0, progress = false})
local Mser = {}
md:run(atoms, pot, SHORT and 3000 or 40000, {thermo = 0, progress = false, every = 1, observe = {
  function(_, a) Mser[#Mser + 1] = eh.dipole(a, P.Z_star) end}})
local okf, fitchi = pcall(diel.dho_fit, Mser, {n = 2, dt = DT, T = Tchi, V = V,
                                               window = SHORT and 500 or 2000, range = {0.002, 0.1}})
if okf then
  io.write(string.format("chi(omega) at %d K, two damped oscillators:", Tchi))
  for _, o in ipairs(fitchi.oscillators) do
    io.write(string.format("  nu0 = %.2f THz, gamma = %.4f rad/fs;", o.nu0, o.gamma))
  end
  io.write("\n")
else
  io.write("chi(omega) fit failed: " .. tostring(fitchi) .. "\n")
end

-- figures
local function col(recs, f)
  local x, y = {}, {}
  for i, r in ipairs(recs) do x[i] = r.T; y[i] = f(r) end
  return x, y
end
local series = {}
for c = 1, 3 do
  local x, y = col(cool, function(r) return r.s[c] end)
  series[#series + 1] = {x = x, y = y, label = "cooling |u|_" .. c, with = "linespoints"}
  if heat then
    local xh, yh = col(heat, function(r) return r.s[c] end)
    series[#series + 1] = {x = xh, y = yh, label = "heating |u|_" .. c, with = "linespoints"}
  end
end
plot.lines{file = OUT .. "_order.png", xlabel = "T (K)", ylabel = "sorted |<u>| (A)",
           title = "BaTiO3 effective Hamiltonian: order parameters", series = series}
local sa = {}
for c = 1, 3 do
  local x, y = col(cool, function(r) return r.a[c] end)
  sa[#sa + 1] = {x = x, y = y, label = "a_" .. c .. " cooling", with = "linespoints"}
end
plot.lines{file = OUT .. "_lattice.png", xlabel = "T (K)", ylabel = "a (A)", series = sa}
local xe, ye = col(cool, function(r) return r.eps end)
local se = {{x = xe, y = ye, label = "eps (dipole fluctuations)", with = "points"}}
if cw then
  local xf, yf = {}, {}
  for T = math.floor(cw.T0 + 5), TEMPS[1] do xf[#xf + 1] = T; yf[#yf + 1] = cw.f(T) end
  se[#se + 1] = {x = xf, y = yf, label = "Curie-Weiss"}
end
plot.lines{file = OUT .. "_eps.png", xlabel = "T (K)", ylabel = "eps", logy = true, series = se}
if okf then
  plot.lines{file = OUT .. "_chi.png", xlabel = "nu (THz)", ylabel = "Im chi",
             series = {{x = fitchi.chi.freq, y = fitchi.chi.chi_imag, label = "MD"},
                       {x = fitchi.chi.freq, y = fitchi.model(fitchi.chi.omega), label = "2 DHO"}}}
end
local dm = {}
for key, d in pairs(dmu) do
  if #d.T > 0 then dm[#dm + 1] = {x = d.T, y = d.dG, label = "Delta G " .. key, with = "points"} end
end
if #dm > 0 then
  plot.lines{file = OUT .. "_dmu.png", xlabel = "T (K)", ylabel = "Delta G (eV)", series = dm}
end
phase.plot_map((function() local Y = {} for i, x in ipairs(X) do Y[i] = {x[1], x[3]} end return Y end)(),
               gm:posterior(X), {file = OUT .. "_map.png", xlabel = "|u|_1 (A)", ylabel = "|u|_3 (A)"})
return {cool = cool, heat = heat, tc_cool = tc_cool, tc_heat = tc_heat, gmm = gm}
