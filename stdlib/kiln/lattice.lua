-- kiln.lattice: lattice Monte Carlo on occupation models (see doc/lattice.md and
-- include/kiln/lattice.h).
--
--   local m = kiln.lattice.model{sites=atoms | {{x,y},...}, cell=, species={"A","B"}, shells=2,
--                                pairs={{shell=1, "A", "B", J=-0.1}, ...}, mu={A=0.02}, ...}
--   local r = m:run{kT= | T=, sweeps=, equil=, move="flip"|"swap"|"swap_local"|"cluster"}
--   r:at(kT) (single-histogram reweighting), kiln.lattice.binder_crossing(r1, r2),
--   kiln.lattice.cv_peak(r), m:environments{shells=1}, kiln.lattice.fit{...} (statistical
--   distance between environment distributions), kiln.lattice.scan / phase_diagram.
--
-- Energies are in the user's unit (eV with T in K, or any unit with kT= in the same unit).
-- Heat capacities are per site in units of kB; order parameters per site.

local clat = require "kiln.c.lattice"
local kiln = require "kiln"

local M = {}
local Model = clat.methods
local KB = kiln.units.kB

local function fail(fname, msg) error(fname .. ": " .. msg, 3) end

local function check_keys(o, allowed, fname)
  if o == nil then return {} end
  if type(o) ~= "table" then fail(fname, "options table expected (got " .. type(o) .. ")") end
  local set = {}
  for _, k in ipairs(allowed) do set[k] = true end
  for k in pairs(o) do
    if type(k) == "string" and not set[k] then
      fail(fname, string.format("unknown option '%s' (options: %s)", k, table.concat(allowed, ", ")))
    end
  end
  return o
end

-- the C calls report "what: message"; re-raise at the user's line
local function call(f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then
    local msg = tostring(r[2]):gsub("^[^\n]-lattice%.lua:%d+: ", "")
    error(msg, 3)
  end
  return table.unpack(r, 2, r.n)
end

local MOVES = {flip = clat.FLIP, metropolis = clat.FLIP, sgc = clat.FLIP, swap = clat.SWAP_ANY,
               kawasaki = clat.SWAP_ANY, swap_local = clat.SWAP_LOCAL, cluster = clat.CLUSTER,
               wolff = clat.CLUSTER}

local function kT_of(o, fname)
  if o.kT and o.T then fail(fname, "give kT= (energy units) or T= (K), not both") end
  local kT = o.kT or (o.T and o.T * KB)
  if type(kT) ~= "number" or not (kT > 0) then
    fail(fname, "a temperature is required: kT= (energy units) or T= (K) > 0")
  end
  return kT
end

---------------------------------------------------------------- sites
-- A site list {{x, y[, z]}, ...} (cell= 2x2/3x3 for periodic, else an open set) or a
-- kiln.Atoms -> kiln.Atoms
local function site_atoms(sites, cell, fname)
  if type(sites) == "userdata" then return sites end
  if type(sites) ~= "table" or #sites < 2 then
    fail(fname, "sites must be a kiln.Atoms or a list of at least 2 {x, y[, z]} positions")
  end
  local pos = {}
  local lo, hi = {math.huge, math.huge, math.huge}, {-math.huge, -math.huge, -math.huge}
  for i, p in ipairs(sites) do
    if type(p) ~= "table" or type(p[1]) ~= "number" or type(p[2]) ~= "number" then
      fail(fname, "site " .. i .. " must be {x, y[, z]} numbers")
    end
    local q = {p[1], p[2], type(p[3]) == "number" and p[3] or 0}
    pos[i] = q
    for c = 1, 3 do lo[c] = math.min(lo[c], q[c]); hi[c] = math.max(hi[c], q[c]) end
  end
  local c3, pbc
  if cell then
    if #cell == 2 then
      c3 = {{cell[1][1], cell[1][2], 0}, {cell[2][1], cell[2][2], 0}, {0, 0, 1}}
      pbc = {true, true, false}
    else
      c3, pbc = cell, {true, true, true}
    end
  else
    c3 = {{hi[1] - lo[1] + 1, 0, 0}, {0, hi[2] - lo[2] + 1, 0}, {0, 0, hi[3] - lo[3] + 1}}
    pbc = {false, false, false}
    for _, q in ipairs(pos) do for c = 1, 3 do q[c] = q[c] - lo[c] end end
  end
  return kiln.Atoms{cell = c3, symbols = "H", positions = pos, pbc = pbc}
end

local function species_index(model, s, fname)
  local f = model:_fields()
  if math.type(s) == "integer" and s >= 1 and s <= f.nspecies then return s end
  local i = f.index[s]
  if not i then
    fail(fname, string.format("unknown species '%s' (species: %s)", tostring(s),
                              table.concat(f.species, ", ")))
  end
  return i
end

---------------------------------------------------------------- model
local MODEL_KEYS = {"sites", "cell", "species", "shells", "tol", "pairs", "clusters", "mu",
                    "occupation", "composition", "seed", "order"}

function M.model(o)
  local fname = "kiln.lattice.model"
  check_keys(o, MODEL_KEYS, fname)
  if type(o) ~= "table" then fail(fname, "options table expected") end
  local species = o.species or {"A", "B"}
  if type(species) ~= "table" or #species < 2 then
    fail(fname, "species must be a list of at least 2 names (e.g. {\"A\", \"B\", \"Vac\"})")
  end
  local nshells = o.shells
  if nshells == nil then
    nshells = 1
    for _, p in ipairs(o.pairs or {}) do nshells = math.max(nshells, p.shell or 1) end
  end
  if math.type(nshells) ~= "integer" or nshells < 1 then
    fail(fname, "shells must be a positive integer (got " .. tostring(nshells) .. ")")
  end
  local atoms = site_atoms(o.sites, o.cell, fname)
  local m = call(clat.new, atoms, #species, nshells, o.tol or 0.05, o.clusters ~= nil)
  local f = m:_fields()
  f.species, f.nspecies, f.index, f.sites = {}, #species, {}, atoms
  for i, s in ipairs(species) do f.species[i] = s; f.index[s] = i end
  for _, p in ipairs(o.pairs or {}) do m:set_pair(p) end
  for _, c in ipairs(o.clusters or {}) do
    if type(c) ~= "table" or #c ~= 3 or type(c.K) ~= "number" then
      fail(fname, "clusters entries must be {\"A\", \"B\", \"C\", K=energy} (first-shell triangles)")
    end
    call(m._set_triplet, m, species_index(m, c[1], fname), species_index(m, c[2], fname),
         species_index(m, c[3], fname), c.K)
  end
  if o.mu then m:set_mu(o.mu) end
  if o.occupation then m:set_occupation(o.occupation)
  elseif o.composition then m:randomize{composition = o.composition, seed = o.seed}
  else
    -- from the symbols of the atoms when they name the species, else all species 1
    local occ, ok = {}, type(o.sites) == "userdata"
    if ok then
      for i, s in ipairs(atoms:symbols()) do
        occ[i] = f.index[s]
        if not occ[i] then ok = false; break end
      end
    end
    if ok then m:_set_occ(occ) end
  end
  if o.order then m:set_order(o.order) end
  return m
end

function Model:species() return self:_fields().species end
function Model:sites() return self:_fields().sites end
function Model:shell(k) return self:_shell(k) end
function Model:neighbors(k, i) return self:_neighbors(k, i) end

--- m:set_pair{shell=1, "A", "B", J=}
function Model:set_pair(p)
  local fname = "set_pair"
  if type(p) ~= "table" or type(p.J) ~= "number" or p[1] == nil or p[2] == nil then
    fail(fname, "pairs entries must be {shell=k, \"A\", \"B\", J=energy}")
  end
  call(self._set_pair, self, p.shell or 1, species_index(self, p[1], fname),
       species_index(self, p[2], fname), p.J)
end

function Model:get_pair(shell, a, b)
  return self:_get_pair(shell, species_index(self, a, "get_pair"), species_index(self, b, "get_pair"))
end

--- m:set_mu{A=, B=} chemical potentials (energy units)
function Model:set_mu(mu)
  for k, v in pairs(mu) do call(self._set_mu, self, species_index(self, k, "set_mu"), v) end
end

--- occupation as species indices (integer list) or names
function Model:set_occupation(occ)
  local t = {}
  for i, s in ipairs(occ) do t[i] = species_index(self, s, "set_occupation") end
  call(self._set_occ, self, t)
end
function Model:occupation() return self:_occ() end
function Model:symbols()
  local sp, t = self:_fields().species, self:_occ()
  for i = 1, #t do t[i] = sp[t[i]] end
  return t
end
function Model:counts()
  local c = {}
  for i = 1, self.nspecies do c[i] = 0 end
  for _, s in ipairs(self:_occ()) do c[s] = c[s] + 1 end
  return c
end

--- m:randomize{composition={A=0.5, B=0.5}, seed=1}: exact counts (rounded), shuffled
function Model:randomize(o)
  o = check_keys(o, {"composition", "seed"}, "randomize")
  local n, f = self.nsites, self:_fields()
  local comp = o.composition or {}
  local counts, tot, frac = {}, 0, {}
  for i = 1, f.nspecies do frac[i] = 0 end
  for k, v in pairs(comp) do frac[species_index(self, k, "randomize")] = v end
  local fs = 0
  for i = 1, f.nspecies do fs = fs + frac[i] end
  if fs == 0 then for i = 1, f.nspecies do frac[i] = 1 end; fs = f.nspecies end
  for i = 1, f.nspecies do counts[i] = math.floor(n * frac[i] / fs + 0.5); tot = tot + counts[i] end
  counts[f.nspecies] = counts[f.nspecies] + (n - tot)
  local occ, k = {}, 1
  for s = 1, f.nspecies do for _ = 1, counts[s] do occ[k] = s; k = k + 1 end end
  local rng = kiln.Rng(o.seed or 1, 7)
  for i = n, 2, -1 do
    local j = 1 + math.floor(rng:uniform() * i)
    occ[i], occ[j] = occ[j], occ[i]
  end
  self:_set_occ(occ)
end

--- order parameter: {sublattice=labels per site (numbers; 1/2 or +-1), k={kx,ky,kz} (rad/Å),
--- species={A=1, B=-1}}; m = (1/N) sum_i w_i sigma(s_i)
function Model:set_order(o)
  local fname = "set_order"
  check_keys(o, {"sublattice", "k", "species"}, fname)
  local f = self:_fields()
  local w
  if o.sublattice then
    w = {}
    for i, l in ipairs(o.sublattice) do
      w[i] = (l == 1 or l == true) and 1 or (l == 2 or l == false) and -1 or l
    end
  elseif o.k then
    w = {}
    local x = f.sites:positions_copy()
    for i = 1, self.nsites do
      local r = x[i]
      w[i] = math.cos(o.k[1] * r[1] + o.k[2] * r[2] + (o.k[3] or 0) * r[3])
    end
  end
  local sig
  if o.species then
    sig = {}
    for i = 1, f.nspecies do sig[i] = 0 end
    for k, v in pairs(o.species) do sig[species_index(self, k, fname)] = v end
  end
  f.order_w, f.order_sigma = w, sig
end

function Model:flip_delta(i, s) return self:_flip_delta(i, species_index(self, s, "flip_delta")) end
function Model:swap_delta(i, j) return self:_swap_delta(i, j) end

---------------------------------------------------------------- runs and results
local Result = {}
Result.__index = Result

local RUN_KEYS = {"kT", "T", "sweeps", "equil", "every", "move", "seed", "rng"}

--- m:run{kT=|T=, sweeps=1000, equil=0, every=1, move="flip", seed=1 | rng=kiln.Rng}
function Model:run(o)
  local fname = "run"
  check_keys(o, RUN_KEYS, fname)
  o = o or {}
  local kT = kT_of(o, fname)
  local move = MOVES[o.move or "flip"]
  if not move then fail(fname, "unknown move '" .. tostring(o.move) .. "' (flip, swap, swap_local, cluster)") end
  local f = self:_fields()
  local rng = o.rng or kiln.Rng(o.seed or 1)
  local every = o.every or 1
  if (o.equil or 0) > 0 then call(self._run, self, rng, 1 / kT, move, o.equil, o.equil, f.order_w, f.order_sigma) end
  local E, O, C, acc = call(self._run, self, rng, 1 / kT, move, o.sweeps or 1000, every, f.order_w,
                            f.order_sigma)
  local n, ns = #E, self.nspecies
  local mu = {}
  for a = 1, ns do mu[a] = self:_get_mu(a) end
  -- columns: E, H, H^2, |m|, m^2, m^4, E^2, c_1..c_ns  (H = E - sum mu_a N_a)
  local X = kiln.Array(n, 7 + ns)
  local H = kiln.Array(n, 1)
  for s = 1, n do
    local e, h = E[s], E[s]
    for a = 1, ns do h = h - mu[a] * C:get(s, a) end
    local q = O[s]
    X:set(s, 1, e); X:set(s, 2, h); X:set(s, 3, h * h); X:set(s, 4, math.abs(q))
    X:set(s, 5, q * q); X:set(s, 6, q * q * q * q); X:set(s, 7, e * e)
    for a = 1, ns do X:set(s, 7 + a, C:get(s, a) / self.nsites) end
    H:set(s, 1, h)
  end
  return setmetatable({kT = kT, T = kT / KB, beta = 1 / kT, nsites = self.nsites, nsamples = n,
                       energy = E, order = O, counts = C, accepted = acc, _X = X, _H = H,
                       move = o.move or "flip",
                       acceptance = acc / math.max(1, (o.sweeps or 1000) * self.nsites)}, Result)
end

--- r:at(kT) -> {kT=, E= (per site), cv= (per site, kB), m=<|m|>, m2=, m4=, U= (Binder),
---  c={...} (mean fractions), ess= (effective samples)} by single-histogram reweighting
function Result:at(kT)
  kT = kT or self.kT
  local w, ess = clat.weights(self._H, {1 / kT - self.beta})
  local a = clat.wmean(self._X, w)
  local N = self.nsites
  local var = a:get(1, 3) - a:get(1, 2) ^ 2
  local c = {}
  for s = 8, select(2, a:shape()) do c[#c + 1] = a:get(1, s) end
  return {kT = kT, T = kT / KB, E = a:get(1, 1) / N, H = a:get(1, 2) / N,
          cv = var / (kT * kT) / N, m = a:get(1, 4), m2 = a:get(1, 5), m4 = a:get(1, 6),
          U = 1 - a:get(1, 6) / (3 * a:get(1, 5) ^ 2), c = c, ess = ess}
end
function Result:mean_energy() return self:at().E end
function Result:heat_capacity() return self:at().cv end
function Result:binder() return self:at().U end

--- binder_crossing(r1, r2, {lo=, hi=}) -> kT where U1(kT) = U2(kT) (bisection on reweighted curves)
function M.binder_crossing(r1, r2, o)
  o = o or {}
  local k0 = 0.5 * (r1.kT + r2.kT)
  local lo, hi = o.lo or 0.97 * k0, o.hi or 1.03 * k0
  local function d(k) return r1:at(k).U - r2:at(k).U end
  local dlo, dhi = d(lo), d(hi)
  if dlo * dhi > 0 then return nil, string.format("no crossing in [%g, %g]", lo, hi) end
  for _ = 1, 50 do
    local mid = 0.5 * (lo + hi)
    local dm = d(mid)
    if (dm > 0) == (dlo > 0) then lo, dlo = mid, dm else hi = mid end
  end
  return 0.5 * (lo + hi)
end

--- cv_peak(r | {r1, r2, ...}, {lo=, hi=, n=60}) -> kT of the heat-capacity maximum, cv there
--- (each kT is reweighted from the run nearest in temperature)
function M.cv_peak(runs, o)
  o = o or {}
  if runs.at then runs = {runs} end
  local kmin, kmax = math.huge, -math.huge
  for _, r in ipairs(runs) do kmin = math.min(kmin, r.kT); kmax = math.max(kmax, r.kT) end
  local lo, hi = o.lo or kmin * (#runs > 1 and 1 or 0.97), o.hi or kmax * (#runs > 1 and 1 or 1.03)
  local function cv(k)
    local best
    for _, r in ipairs(runs) do if not best or math.abs(r.kT - k) < math.abs(best.kT - k) then best = r end end
    return best:at(k).cv
  end
  local n, bk, bc = o.n or 60, lo, -math.huge
  for i = 0, n do
    local k = lo + (hi - lo) * i / n
    local c = cv(k)
    if c > bc then bk, bc = k, c end
  end
  -- golden refinement around the best grid point
  local a, b = math.max(lo, bk - (hi - lo) / n), math.min(hi, bk + (hi - lo) / n)
  local g = (math.sqrt(5) - 1) / 2
  for _ = 1, 30 do
    local x1, x2 = b - g * (b - a), a + g * (b - a)
    if cv(x1) > cv(x2) then b = x2 else a = x1 end
  end
  bk = 0.5 * (a + b)
  return bk, cv(bk)
end

--- scan{model=, kT={...} | T={...}, sweeps=, equil=, every=, move=, seed=} -> list of rows
--- {kT=, T=, E=, cv=, m=, U=, c=, result=} (the model keeps the last state: cools in order)
function M.scan(o)
  local fname = "kiln.lattice.scan"
  check_keys(o, {"model", "kT", "T", "sweeps", "equil", "every", "move", "seed"}, fname)
  local temps = o.kT or {}
  if o.T then temps = {}; for i, t in ipairs(o.T) do temps[i] = t * KB end end
  if #temps == 0 then fail(fname, "kT={...} or T={...} required") end
  local rng = kiln.Rng(o.seed or 1)
  local rows = {}
  for i, k in ipairs(temps) do
    local r = o.model:run{kT = k, sweeps = o.sweeps or 1000, equil = o.equil or 200,
                          every = o.every, move = o.move, rng = rng}
    local a = r:at()
    a.result = r
    rows[i] = a
  end
  return rows
end

--- phase_diagram{model=, kT={...}, composition={...} (fraction of species 1), sweeps=, equil=,
--- seed=} -> {kT=, composition=, order= [i][j] <|m|>, cv= [i][j]} (canonical swaps)
function M.phase_diagram(o)
  local fname = "kiln.lattice.phase_diagram"
  check_keys(o, {"model", "kT", "composition", "sweeps", "equil", "seed"}, fname)
  local m = o.model
  local sp = m:species()
  local out = {kT = o.kT, composition = o.composition, order = {}, cv = {}}
  for j, c in ipairs(o.composition) do
    m:randomize{composition = {[sp[1]] = c, [sp[2]] = 1 - c}, seed = (o.seed or 1) + j}
    for i = #o.kT, 1, -1 do    -- cool from the highest temperature
      local r = m:run{kT = o.kT[i], sweeps = o.sweeps or 500, equil = o.equil or 200, move = "swap",
                      seed = (o.seed or 1) * 1000 + i * 31 + j}
      local a = r:at()
      out.order[i] = out.order[i] or {}
      out.cv[i] = out.cv[i] or {}
      out.order[i][j], out.cv[i][j] = a.m, a.cv
    end
  end
  return out
end

---------------------------------------------------------------- environments
--- m:environments{shells=1} -> {p={...} (fractions over types), counts={...}, n=complete sites,
---   types={ {species="A", counts={{A=..,B=..}, ...per shell}} }, nshells=}
function Model:environments(o)
  o = check_keys(o, {"shells"}, "environments")
  local k = o.shells or 1
  local h, n = call(self._env_hist, self, k)
  local f = self:_fields()
  local out = {counts = h:column(1), n = n, nshells = k, p = {}, types = {}}
  for c, v in ipairs(out.counts) do out.p[c] = n > 0 and v / n or 0 end
  setmetatable(out.types, {__index = function(t, c)
    local s, cnt = self:_env_decode(k, c)
    local e = {species = f.species[s], counts = {}}
    for sh = 1, k do
      local row = {}
      for a = 1, f.nspecies do row[f.species[a]] = cnt[(sh - 1) * f.nspecies + a] end
      e.counts[sh] = row
    end
    rawset(t, c, e)
    return e
  end})
  return out
end

--- observed configuration -> model on its sites with its occupation.
--- cfg: {x={...}, y={...}, species={...}} | {{x, y, "A"}, ...} | kiln.Atoms; opts: species=,
--- shells=, tol=, cell=
function M.observed(cfg, o)
  local fname = "kiln.lattice.observed"
  o = o or {}
  local sites, sp = {}, {}
  if type(cfg) == "userdata" then
    return M.model{sites = cfg, species = o.species, shells = o.shells, tol = o.tol}
  end
  if cfg.x then
    for i = 1, #cfg.x do sites[i] = {cfg.x[i], cfg.y[i], cfg.z and cfg.z[i] or 0}; sp[i] = cfg.species[i] end
  else
    for i, r in ipairs(cfg) do sites[i] = {r[1], r[2], type(r[3]) == "number" and r[3] or 0}; sp[i] = r[#r] end
  end
  if #sites < 2 then fail(fname, "an observed configuration needs sites") end
  return M.model{sites = sites, cell = o.cell or cfg.cell, species = o.species, shells = o.shells,
                 tol = o.tol, occupation = sp}
end

---------------------------------------------------------------- distances
--- distance(p, q, kind): "bhattacharyya" (-ln sum sqrt(pq)), "wootters" (acos sum sqrt(pq)),
--- "kl" (sum q ln(q/p)); p, q lists (normalised here)
function M.distance(p, q, kind)
  local sp, sq = 0, 0
  for i = 1, #q do sp = sp + (p[i] or 0); sq = sq + q[i] end
  kind = kind or "bhattacharyya"
  if kind == "kl" then
    local d = 0
    for i = 1, #q do
      if q[i] > 0 then d = d + q[i] / sq * math.log((q[i] / sq) / math.max((p[i] or 0) / sp, 1e-12)) end
    end
    return d
  end
  local bc = 0
  for i = 1, #q do bc = bc + math.sqrt((p[i] or 0) / sp * q[i] / sq) end
  bc = math.min(bc, 1)
  if kind == "wootters" then return math.acos(bc) end
  if kind == "bhattacharyya" then return -math.log(math.max(bc, 1e-300)) end
  error("distance: unknown kind '" .. tostring(kind) .. "' (bhattacharyya, wootters, kl)", 2)
end

---------------------------------------------------------------- Nelder–Mead
--- nelder_mead(f, x0, {step=, tol=1e-6, maxit=400}) -> x, f(x)
function M.nelder_mead(f, x0, o)
  o = o or {}
  local n = #x0
  local pts, vals = {}, {}
  local function add(x) pts[#pts + 1] = x; vals[#vals + 1] = f(x) end
  add({table.unpack(x0)})
  for i = 1, n do
    local x = {table.unpack(x0)}
    local st = type(o.step) == "table" and o.step[i] or o.step or 0.1
    x[i] = x[i] + st
    add(x)
  end
  for _ = 1, o.maxit or 400 do
    local idx = {}
    for i = 1, n + 1 do idx[i] = i end
    table.sort(idx, function(a, b) return vals[a] < vals[b] end)
    local P, V = {}, {}
    for i, k in ipairs(idx) do P[i], V[i] = pts[k], vals[k] end
    pts, vals = P, V
    if math.abs(vals[n + 1] - vals[1]) <= (o.tol or 1e-9) then
      local spread = 0
      for i = 2, n + 1 do for d = 1, n do spread = math.max(spread, math.abs(pts[i][d] - pts[1][d])) end end
      if spread < (o.xtol or 1e-4) then break end
    end
    local c = {}
    for d = 1, n do
      c[d] = 0
      for i = 1, n do c[d] = c[d] + pts[i][d] / n end
    end
    local function along(t)
      local x = {}
      for d = 1, n do x[d] = c[d] + t * (pts[n + 1][d] - c[d]) end
      return x, f(x)
    end
    local xr, fr = along(-1)
    if fr < vals[1] then
      local xe, fe = along(-2)
      if fe < fr then pts[n + 1], vals[n + 1] = xe, fe else pts[n + 1], vals[n + 1] = xr, fr end
    elseif fr < vals[n] then
      pts[n + 1], vals[n + 1] = xr, fr
    else
      local xc, fc = along(fr < vals[n + 1] and -0.5 or 0.5)
      if fc < math.min(fr, vals[n + 1]) then
        pts[n + 1], vals[n + 1] = xc, fc
      else
        for i = 2, n + 1 do
          local x = {}
          for d = 1, n do x[d] = pts[1][d] + 0.5 * (pts[i][d] - pts[1][d]) end
          pts[i], vals[i] = x, f(x)
        end
      end
    end
  end
  local best = 1
  for i = 2, #vals do if vals[i] < vals[best] then best = i end end
  return pts[best], vals[best]
end

---------------------------------------------------------------- fitting
local FIT_KEYS = {"model", "observed", "params", "mu", "kT", "T", "move", "env_shells", "distance",
                  "samples", "every", "equil", "iterations", "seed", "tol", "observed_tol",
                  "min_ess", "average", "verbose"}

--- fit{model=, observed={cfg, ...}, params={{shell=1, "A", "B"}, ...}, mu={"A"}, kT=|T=,
---     move="swap"|"flip", env_shells=, distance="bhattacharyya", samples=400, every=2,
---     equil=300, iterations=24, average=8, seed=1, tol=1e-3 (relative), observed_tol=0.1,
---     min_ess=0.1}
--- -> {J={...}, mu={...}, distance=, history={...}, q=, p=}; the model keeps the fitted values.
function M.fit(o)
  local fname = "kiln.lattice.fit"
  check_keys(o, FIT_KEYS, fname)
  local m = o.model
  if type(m) ~= "userdata" then fail(fname, "model= (a kiln.lattice.model) is required") end
  local f = m:_fields()
  local kT = kT_of(o, fname)
  local beta = 1 / kT
  local params = o.params or {}
  local mus = o.mu or {}
  if #params + #mus == 0 then fail(fname, "nothing to fit: give params={{shell=, \"A\", \"B\"}, ...} and/or mu={\"A\"}") end
  local nenv = o.env_shells
  if not nenv then
    nenv = 1
    for _, p in ipairs(params) do nenv = math.max(nenv, p.shell or 1) end
  end
  if nenv > m.nshells then fail(fname, "env_shells=" .. nenv .. " but the model has " .. m.nshells .. " shells") end
  local move = MOVES[o.move or (#mus > 0 and "flip" or "swap")]
  local kind = o.distance or "bhattacharyya"
  -- observed environment histogram (summed over configurations)
  local obs = o.observed
  if type(obs) ~= "table" then fail(fname, "observed= must be a configuration or a list of them") end
  if obs.x or type(obs[1]) == "table" and type(obs[1][1]) == "number" then obs = {obs} end
  local q, nobs, comp = nil, 0, {}
  for a = 1, f.nspecies do comp[a] = 0 end
  for _, cfg in ipairs(obs) do
    local om = M.observed(cfg, {species = f.species, shells = nenv, tol = o.observed_tol or 0.1})
    for k = 1, nenv do
      local _, zo = om:shell(k)
      local _, zm = m:shell(k)
      if zo ~= zm then
        fail(fname, string.format("observed shell %d has %d neighbours but the model's has %d", k, zo, zm))
      end
    end
    local e = om:environments{shells = nenv}
    q = q or {}
    for c, v in ipairs(e.counts) do q[c] = (q[c] or 0) + v end
    nobs = nobs + e.n
    for a, v in ipairs(om:counts()) do comp[a] = comp[a] + v end
    om:close()
  end
  -- parameters
  local theta, spec = {}, {}
  for i, p in ipairs(params) do
    local a, b = species_index(m, p[1], fname), species_index(m, p[2], fname)
    spec[i] = {kind = "pair", shell = p.shell or 1, a = a, b = b}
    theta[i] = m:_get_pair(p.shell or 1, a, b)
  end
  for _, s in ipairs(mus) do
    local a = species_index(m, s, fname)
    spec[#spec + 1] = {kind = "mu", a = a}
    theta[#theta + 1] = m:_get_mu(a)
  end
  local nf = #spec
  local function apply(th)
    for i, s in ipairs(spec) do
      if s.kind == "pair" then m:_set_pair(s.shell, s.a, s.b, th[i]) else m:_set_mu(s.a, th[i]) end
    end
  end
  -- start from the observed composition for canonical runs
  if move ~= clat.FLIP then
    local cc = {}
    for a = 1, f.nspecies do cc[f.species[a]] = comp[a] end
    m:randomize{composition = cc, seed = o.seed}
  end
  local rng = kiln.Rng(o.seed or 1, 11)
  local ns = f.nspecies
  local S = o.samples or 400
  local history = {}
  local last_p, dist
  for it = 1, o.iterations or 24 do
    apply(theta)
    call(m._run, m, rng, beta, move, o.equil or 300, o.equil or 300, f.order_w, f.order_sigma)
    local Hs, B, _, _, C = call(m._sample, m, rng, beta, move, S, o.every or 2, nenv)
    -- features: energy = sum theta_f phi_f (+ const)
    local phi = kiln.Array(S, nf)
    for s = 1, S do
      for i, sp in ipairs(spec) do
        local v
        if sp.kind == "pair" then
          local base = (sp.shell - 1) * ns * ns
          v = B:get(s, base + (sp.a - 1) * ns + sp.b)
          if sp.a ~= sp.b then v = 2 * v end
        else
          v = -C:get(s, sp.a)
        end
        phi:set(s, i, beta * v)
      end
    end
    local function pdist(th)
      local dth = {}
      for i = 1, nf do dth[i] = th[i] - theta[i] end
      local w, ess = clat.weights(phi, dth)
      local p = clat.wmean(Hs, w)
      local pl = {}
      for c = 1, #q do pl[c] = p:get(1, c) end
      return M.distance(pl, q, kind), ess, pl
    end
    local min_ess = (o.min_ess or 0.1) * S
    local function obj(th)
      local d, ess = pdist(th)
      if ess < min_ess then return d + 10 * (1 - ess / min_ess) + 1 end
      return d
    end
    local step = {}
    for i = 1, nf do step[i] = math.max(0.1 * math.abs(theta[i]), 0.02 * kT) end
    local th1 = M.nelder_mead(obj, theta, {step = step, tol = 1e-12, xtol = 1e-5 * kT, maxit = 300})
    local d0 = pdist(theta)
    local d1, ess1, p1 = pdist(th1)
    history[it] = {theta = {table.unpack(theta)}, distance = d0, next = th1, next_distance = d1, ess = ess1}
    if o.verbose then
      io.stderr:write(string.format("fit %d: theta=%s D=%.3e -> %s D=%.3e ess=%.0f\n", it,
        table.concat(theta, ","), d0, table.concat(th1, ","), d1, ess1))
    end
    local change = 0
    for i = 1, nf do change = math.max(change, math.abs(th1[i] - theta[i]) / math.max(math.abs(th1[i]), 0.05 * kT)) end
    theta, last_p, dist = th1, p1, d1
    if change < (o.tol or 1e-3) then break end
  end
  -- the iterates scatter by the Monte Carlo noise of the model side once converged:
  -- the estimate is the mean of the last `average` of them
  local nav = math.min(o.average or 8, #history)
  if nav > 1 then
    local mean = {}
    for i = 1, nf do
      mean[i] = 0
      for h = #history - nav + 1, #history do mean[i] = mean[i] + history[h].next[i] / nav end
    end
    theta = mean
  end
  apply(theta)
  local out = {J = {}, mu = {}, theta = theta, distance = dist, history = history,
               q = q, p = last_p, nobserved = nobs, kT = kT}
  for i, s in ipairs(spec) do
    if s.kind == "pair" then out.J[#out.J + 1] = theta[i] else out.mu[f.species[s.a]] = theta[i] end
  end
  return out
end

M.__help = [[
kiln.lattice: lattice Monte Carlo on occupation models (see doc/lattice.md).
  model{sites=atoms|{{x,y},...}, cell=, species={"A","B"}, shells=, pairs={{shell=1,"A","B",J=}},
        clusters={{"A","A","A",K=}}, mu={A=}, composition={A=0.5}, order={sublattice=|k=, species=}}
  m:run{kT=|T=, sweeps=, equil=, move="flip"|"swap"|"swap_local"|"cluster"} -> r; r:at(kT)
  binder_crossing(r1, r2), cv_peak(runs), scan{...}, phase_diagram{...}
  m:environments{shells=1}, observed(cfg), distance(p, q, kind), fit{...}, nelder_mead(f, x0)]]

return M
