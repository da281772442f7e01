-- kiln.effham: helpers for the effective-Hamiltonian potential style
-- (kiln.potential.effective_hamiltonian, src/pot/pot_effective_hamiltonian.c):
-- the pseudo-atom lattice, parameter files, order parameters. See doc/effective_hamiltonian.md.
local kiln = require "kiln"

local M = {}

M.DEFAULT_PARAMS = "../shared/data/batio3-effective-hamiltonian/batio3_nishimatsu2010.params"
M.KB = 8.617333262e-5          -- eV/K
M.UC_CM2 = 1602.176634         -- e/Å² -> µC/cm²

M.__help = [[
kiln.effham: the pseudo-atom lattice and order parameters of kiln.potential.effective_hamiltonian.
  kiln.effham.params(file)                      parameter table of a .params file (default: BaTiO3 2010)
  kiln.effham.lattice{n=16 | n={Lx,Ly,Lz}, params=, u={ux,uy,uz}, noise=0, seed=1}
                                                L³ pseudo-atoms (species "Ti", mass = mass_amu)
  kiln.effham.order(atoms, {params=})           {u=, sorted=, eta=, P=, a=, phase=} after a compute
  kiln.effham.classify(sorted, threshold)       "R" | "O" | "T" | "C"
  kiln.effham.dipole(atoms, zstar)              total dipole Z* Σu (e·Å)]]

local cache = {}

--- params(file) -> table of the numeric "key = value" entries of a parameter file
function M.params(file)
  file = file or M.DEFAULT_PARAMS
  if cache[file] then return cache[file] end
  local f, msg = io.open(file, "r")
  if not f then error("kiln.effham.params: cannot open '" .. file .. "' (" .. tostring(msg) .. ")", 2) end
  local p = {}
  for line in f:lines() do
    line = line:gsub("#.*$", "")
    local k, v = line:match("^%s*([%w_]+)%s*=%s*(%S+)")
    if k and tonumber(v) then p[k] = tonumber(v) end
  end
  f:close()
  if not p.a0 then error("kiln.effham.params: '" .. file .. "' has no a0", 2) end
  cache[file] = p
  return p
end

--- lattice{n=, params=, a0=, mass=, u=, noise=, seed=} -> kiln.Atoms
-- One pseudo-atom per cell at (i, j, k) a0 + u, z fastest; cubic cell L a0.
function M.lattice(o)
  o = o or {}
  local n = o.n or 8
  local L = type(n) == "table" and n or {n, n, n}
  for d = 1, 3 do
    if math.type(L[d]) ~= "integer" or L[d] < 1 then
      error("kiln.effham.lattice: n must be a positive integer or {Lx, Ly, Lz}", 2)
    end
  end
  local p = (o.a0 and o.mass) and {} or M.params(o.params)
  local a0, mass = o.a0 or p.a0, o.mass or p.mass_amu or 100
  local u = o.u or {0, 0, 0}
  local noise = o.noise or 0
  local rng = noise > 0 and kiln.Rng(o.seed or 1) or nil
  local pos, sym, mas = {}, {}, {}
  local i = 0
  for x = 0, L[1] - 1 do
    for y = 0, L[2] - 1 do
      for z = 0, L[3] - 1 do
        i = i + 1
        local r = {x * a0 + u[1], y * a0 + u[2], z * a0 + u[3]}
        if rng then for c = 1, 3 do r[c] = r[c] + noise * rng:normal() end end
        pos[i], sym[i], mas[i] = r, "Ti", mass
      end
    end
  end
  return kiln.Atoms{cell = {{L[1] * a0, 0, 0}, {0, L[2] * a0, 0}, {0, 0, L[3] * a0}},
                    symbols = sym, positions = pos, masses = mas}
end

--- classify(sorted, thr) -> phase letter from the sorted |<u>| components (Å)
function M.classify(s, thr)
  thr = thr or 0.04
  local k = (s[1] > thr and 1 or 0) + (s[2] > thr and 1 or 0) + (s[3] > thr and 1 or 0)
  return ({[0] = "C", "T", "O", "R"})[k]
end

--- order(atoms, {params=, threshold=}) -> order parameters of the last evaluation
-- u: mean local mode (Å); sorted: |u| components, largest first; eta: homogeneous strain
-- (Voigt, engineering shears); P: polarization Z*<u>/V_cell (µC/cm²); a: lattice constants
-- a0 (1 + eta_1..3) (Å); phase: R/O/T/C from sorted.
function M.order(atoms, o)
  o = o or {}
  local u = atoms:info("effham_u")
  if not u then
    error("kiln.effham.order: the atoms carry no 'effham_u' (evaluate the potential first)", 2)
  end
  local eta = atoms:info("effham_eta") or {0, 0, 0, 0, 0, 0}
  local p = M.params(o.params)
  local s = {math.abs(u[1]), math.abs(u[2]), math.abs(u[3])}
  table.sort(s, function(x, y) return x > y end)
  local V = p.a0 ^ 3
  local P = {}
  for c = 1, 3 do P[c] = p.Z_star * u[c] / V * M.UC_CM2 end
  return {u = u, sorted = s, eta = eta, P = P,
          a = {p.a0 * (1 + eta[1]), p.a0 * (1 + eta[2]), p.a0 * (1 + eta[3])},
          phase = M.classify(s, o.threshold)}
end

--- dipole(atoms, zstar) -> {Mx, My, Mz} = Z* Σ u (e·Å) from the last evaluation
function M.dipole(atoms, zstar)
  local u = atoms:info("effham_u")
  zstar = zstar or M.params().Z_star
  local n = atoms.n or #atoms
  return {zstar * n * u[1], zstar * n * u[2], zstar * n * u[3]}
end

return M
