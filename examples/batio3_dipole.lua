-- kiln example: a symmetry-adapted (lambda = 1) dipole model for BaTiO3.
--
-- Data: ../shared/data/batio3-allegro-pol/BaTiO3_full73.xyz (73 frames of a 135-atom
-- 3x3x3 supercell, PBE, Berry-phase polarization in e·Å and Born charges per atom;
-- Falletta et al., allegro-pol, MIT licence, see LICENSE-NOTE.md there). The Berry-phase
-- dipole is defined modulo e·R (R a lattice vector): kiln.dipole.fit folds the training
-- dipoles onto one branch (chain of nearest structures with the Born charges, then the
-- branch whose free constant is nearest zero). The test dipoles are folded onto the same
-- branch. Reports polarization errors (e·Å and µC/cm²) against the spread of the data,
-- R², Born charges predicted (the model's dM/dr, never trained on) vs DFT, and a parity
-- plot.
--
--   bin/kiln examples/batio3_dipole.lua                    full run (~1 min)
--   KILN_SHORT=1 bin/kiln examples/batio3_dipole.lua       short mode (run by `make check`)
--   KILN_OUTDIR=dir bin/kiln examples/batio3_dipole.lua    output directory (default batio3_dipole_out)
--
-- Writes batio3_dipole.model (kiln's dipole model file) and batio3_dipole_parity.png.
-- Documented in doc/dipole.md.
local kiln = require "kiln"
local plot = require "kiln.plot"

local short = os.getenv("KILN_SHORT") == "1"
local outdir = os.getenv("KILN_OUTDIR") or "batio3_dipole_out"
os.execute("mkdir -p '" .. outdir .. "'")

---------------------------------------------------------------- settings
local FILE = "../shared/data/batio3-allegro-pol/BaTiO3_full73.xyz"
local SEED = 2024
local NUSE = short and 16 or 73          -- structures used (short: a random subset)
local TEST_FRACTION = 0.2
local VECTOR = short and {cutoff = 4.5, nmax = 3, lmax = 2}
                      or {cutoff = 5.5, nmax = 4, lmax = 3}
local ZETA = 2
local NSPARSE = short and 60 or 300
local SIGMA = 0.05                        -- e·Å, noise on each dipole component
local UC = kiln.dipole.E_PER_A2_TO_UC_PER_CM2

---------------------------------------------------------------- data, split by seed
local t0 = kiln.wtime()
local frames = kiln.io.read(FILE)
local rng = kiln.Rng(SEED)
local order = {}
for i = 1, #frames do order[i] = i end
for i = #order, 2, -1 do
  local j = 1 + math.floor(rng:uniform() * i)
  order[i], order[j] = order[j], order[i]
end
local data = {}
for k = 1, NUSE do
  local a = frames[order[k]]
  data[k] = {atoms = a, dipole = a.info.polarization, id = tostring(order[k])}
end
local ntest = math.max(2, math.floor(TEST_FRACTION * NUSE + 0.5))
local train, test = {}, {}
for k, r in ipairs(data) do
  if k <= ntest then test[#test + 1] = r else train[#train + 1] = r end
end
print(string.format("BaTiO3: %d structures of %d atoms (%d train, %d test), seed %d",
                    NUSE, #frames[1]:symbols(),
                    #train, #test, SEED))

---------------------------------------------------------------- fit
local model = kiln.dipole.fit{data = train, vector = VECTOR, zeta = ZETA, nsparse = NSPARSE,
                              sigma = SIGMA}
local info = model.info
local counts = {}
for el, n in pairs(info.nsparse) do counts[#counts + 1] = el .. " " .. n end
table.sort(counts)
print(string.format("fit: %d sparse environments (%s), zeta %d, sigma %g e·Å, %.1f s",
                    model.nsparse, table.concat(counts, ", "), ZETA, SIGMA, kiln.wtime() - t0))
local off = info.fold.offsets[1]
print(string.format("polarization quantum: %d of %d training structures folded (%d components);"
                    .. " branch constant %.2f %.2f %.2f quanta -> shift %d %d %d",
                    info.fold.nfolded, #train, info.fold.ncomponents, off.fractional[1],
                    off.fractional[2], off.fractional[3], off.shift[1], off.shift[2], off.shift[3]))
print(string.format("training RMSE %.3f e·Å", info.rmse_train))
model:save(outdir .. "/batio3_dipole.model")

---------------------------------------------------------------- test targets on the training branch
-- fold all structures together (one chain), then move them by the constant lattice shift
-- that maps this chain onto the fitted training targets
local all = kiln.dipole.fold(data)
local shift, spread = {0, 0, 0}, 0
for j, r in ipairs(train) do
  local k = ntest + j
  for a = 1, 3 do
    local d = model.targets[j][a] - all[k][a]
    if j == 1 then shift[a] = d else spread = math.max(spread, math.abs(d - shift[a])) end
  end
end
if spread > 1e-6 then print(string.format("warning: branch shifts differ by %.3g e·Å", spread)) end

-- an independent check of the branch: the linear Born-charge estimate from the ideal cubic
-- perovskite sites (centrosymmetric, M = 0), sum_j Z*_j (r_j - r_j^ideal), with the DFT
-- Z* of the structure; sites on the 1/6 grid of the 3x3x3 supercell, origin at the Ba
local function ideal_estimate(a)
  local x, sym, c = a:positions():totable(), a:symbols(), a:cell()
  local Z = a:array("born_charge"):totable()
  local org = {}
  for k = 1, 3 do
    local L, sx, sy = c[k][k] / 3, 0, 0
    for i = 1, #x do
      if sym[i] == "Ba" then
        sx, sy = sx + math.cos(2 * math.pi * x[i][k] / L), sy + math.sin(2 * math.pi * x[i][k] / L)
      end
    end
    org[k] = math.atan(sy, sx) / (2 * math.pi) * L
  end
  local M = {0, 0, 0}
  for i = 1, #x do
    for b = 1, 3 do
      local g = c[b][b] / 6
      local u = x[i][b] - org[b]
      local d = u - g * math.floor(u / g + 0.5)
      for a2 = 1, 3 do M[a2] = M[a2] + Z[i][3 * (a2 - 1) + b] * d end
    end
  end
  return M
end

---------------------------------------------------------------- errors
local function metrics(set, offset)
  local ref, pred, vol = {}, {}, {}
  for k, r in ipairs(set) do
    local p = model:predict(r.atoms).total
    local t = all[offset + k]
    ref[k] = {t[1] + shift[1], t[2] + shift[2], t[3] + shift[3]}
    pred[k] = p
    vol[k] = r.atoms:volume()
  end
  local n, se, ae, seP, aeP = 0, 0, 0, 0, 0
  local mean = {0, 0, 0}
  for k = 1, #set do for a = 1, 3 do mean[a] = mean[a] + ref[k][a] / #set end end
  local sst = 0
  for k = 1, #set do
    for a = 1, 3 do
      local d = pred[k][a] - ref[k][a]
      n, se, ae = n + 1, se + d * d, ae + math.abs(d)
      local dP = d / vol[k] * UC
      seP, aeP = seP + dP * dP, aeP + math.abs(dP)
      sst = sst + (ref[k][a] - mean[a]) ^ 2
    end
  end
  return {rmse = math.sqrt(se / n), mae = ae / n, rmseP = math.sqrt(seP / n), maeP = aeP / n,
          std = math.sqrt(sst / n), r2 = 1 - se / sst, ref = ref, pred = pred, mean = mean,
          vol = vol}
end
local mtr = metrics(train, ntest)
local mte = metrics(test, 0)
print(string.format("%-6s %8s %8s %10s %10s %9s %7s", "set", "RMSE", "MAE", "RMSE", "MAE",
                    "data std", "R²"))
print(string.format("%-6s %8s %8s %10s %10s %9s", "", "e·Å", "e·Å", "µC/cm²", "µC/cm²", "e·Å"))
for _, row in ipairs{{"train", mtr}, {"test", mte}} do
  local m = row[2]
  print(string.format("%-6s %8.3f %8.3f %10.3f %10.3f %9.2f %7.4f", row[1], m.rmse, m.mae,
                      m.rmseP, m.maeP, m.std, m.r2))
end
local agree, worst = 0, 0
for k, r in ipairs(data) do
  local est, c = ideal_estimate(r.atoms), r.atoms:cell()
  local t = all[k]
  local same = true
  for a = 1, 3 do
    local f = (t[a] + shift[a] - est[a]) / c[a][a]
    worst = math.max(worst, math.abs(f - math.floor(f + 0.5)))
    if math.floor(f + 0.5) ~= 0 then same = false end
  end
  if same then agree = agree + 1 end
end
print(string.format("branch check: %d of %d structures on the branch of the linear Born-charge "
                    .. "estimate from the ideal cubic sites (largest non-integer part %.2f quanta)",
                    agree, #data, worst))
local V = mte.vol[1]
print(string.format("mean test polarization (%.2f, %.2f, %.2f) e·Å = (%.1f, %.1f, %.1f) µC/cm² "
                    .. "(V = %.1f Å³)", mte.mean[1], mte.mean[2], mte.mean[3],
                    mte.mean[1] / V * UC, mte.mean[2] / V * UC, mte.mean[3] / V * UC, V))

---------------------------------------------------------------- Born charges vs DFT
local nborn = short and 1 or 3
local sum = {}
local se, n = 0, 0
for k = 1, nborn do
  local a = test[k].atoms
  local Zm = model:born_charges(a):totable()
  local Zd = a:array("born_charge"):totable()
  for i, s in ipairs(a:symbols()) do
    sum[s] = sum[s] or {n = 0, m = {0, 0, 0}, d = {0, 0, 0}}
    local e = sum[s]
    e.n = e.n + 1
    for c = 1, 3 do
      e.m[c] = e.m[c] + Zm[i][4 * c - 3]
      e.d[c] = e.d[c] + Zd[i][4 * c - 3]
    end
    for q = 1, 9 do se, n = se + (Zm[i][q] - Zd[i][q]) ^ 2, n + 1 end
  end
end
print(string.format("Born charges on %d test structure(s), mean diagonal per element (e):", nborn))
print(string.format("  %-3s %22s   %22s", "", "model xx yy zz", "DFT xx yy zz"))
for _, s in ipairs{"Ba", "Ti", "O"} do
  local e = sum[s]
  if e then
    print(string.format("  %-3s %7.2f %7.2f %7.2f   %7.2f %7.2f %7.2f", s, e.m[1] / e.n,
                        e.m[2] / e.n, e.m[3] / e.n, e.d[1] / e.n, e.d[2] / e.n, e.d[3] / e.n))
  end
end
print(string.format("  RMSE over all 9 components and atoms: %.3f e", math.sqrt(se / n)))

---------------------------------------------------------------- parity plot
local series = {}
local names = {"x", "y", "z"}
local lo, hi = math.huge, -math.huge
for a = 1, 3 do
  local x, y = {}, {}
  for k = 1, #test do
    x[k], y[k] = mte.ref[k][a], mte.pred[k][a]
    lo, hi = math.min(lo, x[k], y[k]), math.max(hi, x[k], y[k])
  end
  series[#series + 1] = {x = x, y = y, label = "test M_" .. names[a], with = "points"}
end
series[#series + 1] = {x = {lo, hi}, y = {lo, hi}, label = "y = x", with = "lines"}
local png, err = plot.lines{file = outdir .. "/batio3_dipole_parity.png",
                            title = "BaTiO3 cell dipole: model vs DFT (test set)",
                            xlabel = "DFT M (e·Å)", ylabel = "model M (e·Å)", series = series}
print(png and ("wrote " .. png) or ("no plot: " .. tostring(err)))
print(string.format("total %.1f s", kiln.wtime() - t0))
