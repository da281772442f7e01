-- kiln.active: active learning of a machine-learned potential (doc/active.md).
--
--   local report = kiln.active.run{
--     oracle = kiln.oracle.potential(sw),            -- what labels structures
--     initial = {atoms = a, n = 8, rattle = 0.05},   -- start from scratch (or data = ds)
--     fit = function(ds, i) return kiln.train.snap{data = ds, twojmax = 4} end,
--     k = 4,                                         -- committee size (bootstrap)
--     explore = {T = {300, 600, 900}, steps = 200, every = 20, dt = 1},
--     select = {threshold = 0.1, max = 4},
--     iterations = 5, dir = "al_run"}
--
-- Each iteration: fit a committee on the data so far, measure it on the validation set,
-- explore by MD with the committee's mean potential at each temperature, compute the
-- committee disagreement (max over atoms of the per-atom force std) of every snapshot,
-- keep those above the threshold, pick at most `max` of them by farthest-point sampling
-- of their mean descriptor rows, label them with the oracle and add them to the data.
-- Everything is checkpointed in `dir` after every iteration; a rerun continues.
local kiln = require "kiln"
local catoms = require "kiln.c.atoms"
local check = require "kiln.argcheck"
check.internal()

local M = {}
local fail = check.fail

---------------------------------------------------------------- small helpers
local function is_atoms(x) return getmetatable(x) == catoms.metatable end
local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function exists(p) local f = io.open(p) if f then f:close() return true end return false end
local function mkdir_p(d) return os.execute("mkdir -p " .. shq(d)) == true end

local function check_keys(fname, t, allowed, what)
  if t == nil then return {} end
  if type(t) ~= "table" then fail(fname, (what or "options") .. " must be a table (got " .. type(t) .. ")") end
  local set = {}
  for _, k in ipairs(allowed) do set[k] = true end
  for k in pairs(t) do
    if not set[k] then
      fail(fname, string.format("unknown %s '%s' (known: %s)", what and (what .. " key") or "option",
                                tostring(k), table.concat(allowed, ", ")))
    end
  end
  return t
end

-- A Lua-table text that loads back with load() (numbers exact, keys sorted).
local function dump(v, indent)
  indent = indent or ""
  local t = type(v)
  if t == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return "0/0" end
    if v == math.huge then return "math.huge" elseif v == -math.huge then return "-math.huge" end
    return string.format("%.17g", v)
  elseif t == "string" then return string.format("%q", v)
  elseif t == "boolean" or t == "nil" then return tostring(v)
  elseif t ~= "table" then return "nil" end
  local n = #v
  local parts, inner = {}, indent .. "  "
  for i = 1, n do parts[#parts + 1] = dump(v[i], inner) end
  local keys = {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    local val = v[k]
    local tv = type(val)
    if tv == "number" or tv == "string" or tv == "boolean" or tv == "table" then
      local key = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or ("[" .. dump(k) .. "]")
      parts[#parts + 1] = key .. " = " .. dump(val, inner)
    end
  end
  if #parts == 0 then return "{}" end
  local flat = "{" .. table.concat(parts, ", ") .. "}"
  local numeric = #keys == 0
  for i = 1, n do if type(v[i]) ~= "number" then numeric = false end end
  if numeric or (#flat < 100 and not flat:find("\n")) then return flat end
  return "{\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
end
M._dump = dump

local function write_atomic(path, text)
  local tmp = string.format("%s.tmp.%d", path, math.random(1 << 30))
  local f = assert(io.open(tmp, "w"))
  f:write(text)
  f:close()
  assert(os.rename(tmp, path))
end

local function load_state(path)
  local f = io.open(path)
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local chunk = load(text, "=" .. path, "t", {math = {huge = math.huge}})
  if not chunk then return nil end
  local ok, st = pcall(chunk)
  if ok and type(st) == "table" then return st end
  return nil
end

---------------------------------------------------------------- data set files
-- Records as extxyz: info energy, virial (9 numbers, eV), config_type (group), weight,
-- al_id (the record id) and al_iteration; the forces column. kiln.train.read reads it too.
local function write_dataset(path, ds)
  local frames = {}
  for i, r in ipairs(ds) do
    local a = r.atoms
    local c = kiln.Atoms{cell = a:cell(), symbols = a:symbols(), positions = a:positions_copy(),
                         pbc = a:pbc()}
    if r.forces then c:set_forces(r.forces) end
    local info = {energy = r.energy, config_type = r.group or "all"}
    if r.virial then
      local v = r.virial
      info.virial = {v[1][1], v[1][2], v[1][3], v[2][1], v[2][2], v[2][3], v[3][1], v[3][2], v[3][3]}
    end
    if r.weight then info.weight = r.weight end
    if r.id then info.al_id = "id:" .. tostring(r.id) end
    if r.iteration then info.al_iteration = r.iteration end
    c:set_info(info)
    frames[i] = c
  end
  kiln.io.write(path, frames, {forces = true})   -- atomic (temporary file + rename)
end

local function read_dataset(path)
  local frames = kiln.io.read(path)
  local ds = {}
  for i, a in ipairs(frames) do
    local info = a:info()
    local has = {}
    for _, p in ipairs(a:arrays()) do has[p] = true end
    local r = {atoms = a, energy = info.energy, group = info.config_type or "all",
               weight = info.weight, iteration = info.al_iteration,
               id = type(info.al_id) == "string" and info.al_id:gsub("^id:", "") or nil}
    if has.forces then r.forces = a:array("forces") end
    if info.virial then
      local v = info.virial
      r.virial = {{v[1], v[2], v[3]}, {v[4], v[5], v[6]}, {v[7], v[8], v[9]}}
    end
    ds[i] = r
  end
  return ds
end

---------------------------------------------------------------- statistics
local function stats(values, nbins, hmax)
  local n = #values
  local s, mx = 0, 0
  for _, v in ipairs(values) do s = s + v; if v > mx then mx = v end end
  local sorted = {}
  for i, v in ipairs(values) do sorted[i] = v end
  table.sort(sorted)
  local median = n > 0 and (n % 2 == 1 and sorted[(n + 1) // 2] or 0.5 * (sorted[n // 2] + sorted[n // 2 + 1])) or 0
  hmax = hmax or mx
  if not (hmax > 0) then hmax = 1 end
  local edges, counts = {}, {}
  for b = 0, nbins do edges[b + 1] = hmax * b / nbins end
  for b = 1, nbins do counts[b] = 0 end
  for _, v in ipairs(values) do
    local b = math.min(nbins, math.floor(v / hmax * nbins) + 1)
    counts[b] = counts[b] + 1
  end
  return {mean = n > 0 and s / n or 0, max = mx, median = median, n = n,
          hist = {edges = edges, counts = counts}}
end

local function min_distance(a)
  local n = #a
  local best = math.huge
  for i = 1, n - 1 do
    for j = i + 1, n do
      local d = a:distance(i, j)
      if d < best then best = d end
    end
  end
  return best
end

---------------------------------------------------------------- descriptors for diversity
local function elements_of(ds, extra)
  local seen, list = {}, {}
  local function add(a)
    for _, s in ipairs(a:symbols()) do
      if not seen[s] then seen[s] = true; list[#list + 1] = s end
    end
  end
  for _, r in ipairs(ds) do add(r.atoms) end
  for _, a in ipairs(extra or {}) do add(a) end
  table.sort(list)
  return list
end

local function default_descriptor(elements)
  local ne = #elements
  local radelem, wj = {}, {}
  for i = 1, ne do radelem[i], wj[i] = 0.5, 1.0 end
  return kiln.descriptor.snap{twojmax = 4, rcutfac = 4.67637, rfac0 = 0.99363, rmin0 = 0,
                              elements = elements, radelem = radelem, wj = wj,
                              switchflag = true, bzeroflag = true}
end

-- One feature row per structure: the mean descriptor row over its atoms, with the
-- columns standardised over the candidates (so every component counts).
local function structure_features(d, list)
  local rows = {}
  local ncols
  for k, a in ipairs(list) do
    local X = d:compute(a)
    local n, c = X:shape()
    ncols = c
    local row = {}
    for j = 1, c do
      local s = 0
      for i = 1, n do s = s + X:get(i, j) end
      row[j] = s / math.max(n, 1)
    end
    rows[k] = row
  end
  local m = #rows
  for j = 1, ncols or 0 do
    local s, ss = 0, 0
    for k = 1, m do s = s + rows[k][j] end
    local mean = s / m
    for k = 1, m do ss = ss + (rows[k][j] - mean) ^ 2 end
    local sd = math.sqrt(ss / m)
    for k = 1, m do rows[k][j] = sd > 1e-12 and (rows[k][j] - mean) / sd or 0 end
  end
  return kiln.Array(rows)
end

---------------------------------------------------------------- the loop
local RUN_KEYS = {"data", "initial", "oracle", "fit", "k", "method", "seed", "explore", "select",
                  "iterations", "converge", "validation", "dir", "resume", "verbose", "plot",
                  "oracle_errors"}
local INITIAL_KEYS = {"atoms", "n", "rattle", "strain", "seed"}
local EXPLORE_KEYS = {"atoms", "T", "steps", "every", "dt", "md", "rmin", "damping"}
local SELECT_KEYS = {"threshold", "max", "diversity", "descriptor"}
local CONVERGE_KEYS = {"disagreement", "rmse"}
local FIT_KEYS = {"k", "method", "fit", "seed"}

local function number_opt(fname, v, name, dflt, lo)
  if v == nil then v = dflt end
  if type(v) ~= "number" or v ~= v or (lo and v < lo) then
    fail(fname, string.format("%s must be a number%s (got %s)", name, lo and (" >= " .. lo) or "", tostring(v)))
  end
  return v
end

local function int_opt(fname, v, name, dflt, lo)
  v = number_opt(fname, v, name, dflt, lo)
  local i = math.tointeger(v)
  if not i then fail(fname, name .. " must be an integer (got " .. tostring(v) .. ")") end
  return i
end

local function log(verbose, fmt, ...)
  if verbose then
    io.stdout:write(string.format(fmt, ...), "\n")
    io.stdout:flush()
  end
end

-- random homogeneous strain (symmetric, uniform in [-s, s] per component), atoms scaled
local function strained(a, s, rng)
  if not s or s == 0 then return a end
  local e = {}
  for i = 1, 3 do e[i] = {} end
  for i = 1, 3 do
    for j = i, 3 do
      local v = (2 * rng:uniform() - 1) * s
      if i ~= j then v = 0.5 * v end
      e[i][j], e[j][i] = v, v
    end
  end
  local cell = a:cell()
  local new = {}
  for r = 1, 3 do
    new[r] = {}
    for c = 1, 3 do
      local v = cell[r][c]
      for k = 1, 3 do v = v + cell[r][k] * e[k][c] end
      new[r][c] = v
    end
  end
  a:set_cell(new, {scale_atoms = true})
  return a
end

local function make_committee(fitspec, ds, iteration)
  local c = kiln.train.committee{fit = fitspec.fit, data = ds, k = fitspec.k,
                                 method = fitspec.method, seed = fitspec.seed + iteration}
  return c
end

local function model_metrics(pot, ds)
  if not ds or #ds == 0 then return nil end
  local m = kiln.train.metrics(pot, ds, {by_group = false})
  return {energy = m.energy and m.energy.rmse, force = m.force and m.force.rmse,
          energy_mae = m.energy and m.energy.mae, force_mae = m.force and m.force.mae}
end

local function plots(dir, report, it)
  local ok, plot = pcall(require, "kiln.plot")
  if not ok or not plot.available() then return end
  local h = it.disagreement.hist
  local x, y = {}, {}
  for b = 1, #h.counts do
    x[#x + 1], y[#y + 1] = h.edges[b], h.counts[b]
    x[#x + 1], y[#y + 1] = h.edges[b + 1], h.counts[b]
  end
  local thr = report.threshold
  pcall(plot.lines, {file = string.format("%s/disagreement_%03d.png", dir, it.iteration),
                     title = string.format("iteration %d: committee disagreement of %d MD snapshots",
                                           it.iteration, it.n_explored),
                     xlabel = "max atomic force std (eV/Å)", ylabel = "snapshots",
                     series = {{x = x, y = y, label = "snapshots"},
                               {x = {thr, thr}, y = {0, math.max(1, table.unpack(h.counts))},
                                label = "threshold"}}})
  local its, dmean, dmax, fr, ntr = {}, {}, {}, {}, {}
  for _, r in ipairs(report.iterations) do
    its[#its + 1] = r.iteration
    dmean[#dmean + 1] = math.max(r.disagreement.mean, 1e-6)
    dmax[#dmax + 1] = math.max(r.disagreement.max, 1e-6)
    fr[#fr + 1] = r.rmse and r.rmse.force or nil
    ntr[#ntr + 1] = r.n_train
  end
  local series = {{x = its, y = dmean, label = "mean disagreement (eV/Å)"},
                  {x = its, y = dmax, label = "max disagreement (eV/Å)"}}
  if #fr == #its then series[#series + 1] = {x = its, y = fr, label = "validation force RMSE (eV/Å)"} end
  series[#series + 1] = {x = its, y = ntr, label = "training structures", axis = 2}
  pcall(plot.lines, {file = dir .. "/progress.png", title = "active learning",
                     xlabel = "iteration", ylabel = "eV/Å", y2label = "structures", logy = true,
                     series = series})
end

function M.run(o)
  local fname = "kiln.active.run"
  o = check_keys(fname, o, RUN_KEYS)
  local oracle = o.oracle
  if type(oracle) ~= "table" or type(oracle.label) ~= "function" then
    fail(fname, "oracle= is required (kiln.oracle.potential(pot), kiln.oracle.cp2k{...}, ...)")
  end
  -- the committee
  local fitspec
  if type(o.fit) == "function" then
    fitspec = {fit = o.fit, k = o.k, method = o.method}
  elseif type(o.fit) == "table" then
    fitspec = check_keys(fname, o.fit, FIT_KEYS, "fit")
    if type(fitspec.fit) ~= "function" then fail(fname, "fit.fit must be a function(ds, i) -> model") end
  else
    fail(fname, "fit= is required: function(ds, i) -> model, or {k=, method=, fit=}")
  end
  local seed = int_opt(fname, o.seed, "seed", 1, 0)
  fitspec = {fit = fitspec.fit, k = int_opt(fname, fitspec.k, "k", 4, 2),
             method = fitspec.method or "bootstrap", seed = int_opt(fname, fitspec.seed, "fit.seed", seed, 0)}
  -- exploration
  local ex = check_keys(fname, o.explore, EXPLORE_KEYS, "explore")
  local Ts = ex.T or {300}
  if type(Ts) == "number" then Ts = {Ts} end
  for i, T in ipairs(Ts) do number_opt(fname, T, "explore.T[" .. i .. "]", nil, 0) end
  local steps = int_opt(fname, ex.steps, "explore.steps", 200, 1)
  local every = int_opt(fname, ex.every, "explore.every", 20, 1)
  local dt = number_opt(fname, ex.dt, "explore.dt", 1.0, 0)
  local damping = number_opt(fname, ex.damping, "explore.damping", 100, 0)
  local make_md = ex.md or function(T, s) return kiln.md.langevin{dt = dt, T = T, damping = damping, seed = s} end
  if type(make_md) ~= "function" then fail(fname, "explore.md must be a function(T, seed) -> integrator") end
  -- selection and convergence
  local sel = check_keys(fname, o.select, SELECT_KEYS, "select")
  local threshold = number_opt(fname, sel.threshold, "select.threshold", 0.1, 0)
  local maxsel = int_opt(fname, sel.max, "select.max", 10, 1)
  local diversity = sel.diversity or "fps"
  if diversity ~= "fps" and diversity ~= "none" then
    fail(fname, "select.diversity must be \"fps\" or \"none\" (got " .. tostring(diversity) .. ")")
  end
  local conv = check_keys(fname, o.converge, CONVERGE_KEYS, "converge")
  local iterations = int_opt(fname, o.iterations, "iterations", 5, 1)
  local skip_errors = o.oracle_errors == "skip"
  if o.oracle_errors ~= nil and o.oracle_errors ~= "skip" and o.oracle_errors ~= "raise" then
    fail(fname, "oracle_errors must be \"raise\" or \"skip\" (got " .. tostring(o.oracle_errors) .. ")")
  end
  local verbose = o.verbose ~= false
  local dir = o.dir or "al_run"
  if type(dir) ~= "string" then fail(fname, "dir must be a directory name") end
  if not mkdir_p(dir) then fail(fname, "cannot create the directory '" .. dir .. "'") end
  local state_file, data_file = dir .. "/state.lua", dir .. "/dataset.xyz"
  if oracle.use_cache and not oracle.cache then oracle:use_cache(dir .. "/oracle_cache") end

  ---------------------------------------------------------- state: new or resumed
  local ds, report
  local st = o.resume ~= false and load_state(state_file) or nil
  if st then
    if st.oracle_settings and oracle.settings_hash and st.oracle_settings ~= oracle.settings_hash then
      fail(fname, string.format("'%s' was made with another oracle (settings %s, now %s): use another " ..
                                "dir= or resume=false", dir, st.oracle_settings, oracle.settings_hash))
    end
    ds = exists(data_file) and read_dataset(data_file) or {}
    report = st.report
    report.resumed = (report.resumed or 0) + 1
    log(verbose, "active: resuming %s after iteration %d (%d structures)", dir, #report.iterations, #ds)
  else
    os.remove(state_file)
    os.remove(data_file)
    report = {iterations = {}, threshold = threshold, dir = dir, oracle = oracle.kind}
    ds = {}
    if o.data then
      if type(o.data) ~= "table" then fail(fname, "data must be a dataset (list of records)") end
      for i, r in ipairs(o.data) do
        if type(r) ~= "table" or not is_atoms(r.atoms) or not r.energy then
          fail(fname, string.format("data[%d] is not a labelled record {atoms=, energy=, forces=}", i))
        end
        ds[#ds + 1] = r
      end
    end
    if o.initial then
      local ini = check_keys(fname, o.initial, INITIAL_KEYS, "initial")
      if not is_atoms(ini.atoms) then fail(fname, "initial.atoms must be a kiln.Atoms") end
      local n = int_opt(fname, ini.n, "initial.n", 8, 1)
      local sigma = number_opt(fname, ini.rattle, "initial.rattle", 0.05, 0)
      local strain = number_opt(fname, ini.strain, "initial.strain", 0, 0)
      local iseed = int_opt(fname, ini.seed, "initial.seed", seed, 0)
      local rng = kiln.Rng(iseed, 7)
      local frames = {}
      for j = 1, n do
        local a = strained(ini.atoms:copy(), strain, rng)
        frames[j] = {atoms = a:rattle{sigma = sigma, seed = iseed * 1000 + j}, group = "initial"}
      end
      log(verbose, "active: labelling %d initial structures with the %s oracle", n, oracle.kind)
      local labelled = oracle:label(frames)
      for _, r in ipairs(labelled) do r.iteration = 0; ds[#ds + 1] = r end
    end
    if #ds == 0 then fail(fname, "no data: give data= (labelled records) or initial={atoms=, n=}") end
    write_dataset(data_file, ds)
    write_atomic(state_file, "return " .. dump{version = 1, oracle_settings = oracle.settings_hash,
                                               report = report} .. "\n")
  end
  report.threshold = threshold

  -- starting structures of the exploration
  local starts = ex.atoms
  if is_atoms(starts) then starts = {starts} end
  if starts == nil then starts = {o.initial and o.initial.atoms or ds[1].atoms} end
  if type(starts) ~= "table" or not is_atoms(starts[1]) then
    fail(fname, "explore.atoms must be a kiln.Atoms or a list of them")
  end
  local rmin = ex.rmin or 0.6 * min_distance(starts[1])
  local descriptor = sel.descriptor

  ---------------------------------------------------------- iterations
  local committee, pot
  local done = #report.iterations
  local converged = report.converged
  for it = done + 1, iterations do
    if converged then break end
    local t0 = kiln.wtime()
    local calls0 = oracle.calls or 0
    committee = make_committee(fitspec, ds, it)
    pot = committee:potential()
    local rmse = model_metrics(pot, o.validation)
    -- explore
    local snaps = {}
    for ti, T in ipairs(Ts) do
      local a = starts[(ti - 1) % #starts + 1]:copy()
      local s = seed * 100000 + it * 100 + ti
      a:set_velocities{T = T, seed = s}
      local md = make_md(T, s)
      local blew_up = false
      local observe = function(step, atoms)
        local c = atoms:copy()
        if #c <= 256 and min_distance(c) < rmin then
          blew_up = true
          error("active: exploration left the physical region", 0)
        end
        snaps[#snaps + 1] = {atoms = c, T = T, step = step}
      end
      local ok, err = pcall(md.run, md, a, pot, steps, {every = every, observe = {observe},
                                                        thermo = 0, progress = false})
      if not ok and not blew_up then error(err, 0) end
      if blew_up then log(verbose, "active: iteration %d, T = %g K: MD stopped (atoms closer than %.2f Å)", it, T, rmin) end
    end
    -- disagreement
    local dis = {}
    for k, sn in ipairs(snaps) do
      sn.disagreement = committee:predict(sn.atoms).max_force_std
      dis[k] = sn.disagreement
    end
    local dstat = stats(dis, 20)
    local cand = {}
    for _, sn in ipairs(snaps) do if sn.disagreement > threshold then cand[#cand + 1] = sn end end
    table.sort(cand, function(p, q) return p.disagreement > q.disagreement end)
    local entry = {iteration = it, n_train = #ds, n_explored = #snaps, n_candidates = #cand,
                   disagreement = dstat, rmse = rmse}
    -- converged?
    local conv_ok = #cand == 0
    if conv.disagreement then conv_ok = dstat.max < conv.disagreement end
    if conv.rmse then conv_ok = conv_ok and rmse ~= nil and rmse.force ~= nil and rmse.force < conv.rmse end
    if (conv.disagreement or conv.rmse or #cand == 0) and conv_ok then
      converged = true
      entry.converged = true
    end
    -- select and label
    local chosen = {}
    if not converged and #cand > 0 then
      if #cand <= maxsel or diversity == "none" then
        for k = 1, math.min(maxsel, #cand) do chosen[k] = cand[k] end
      else
        descriptor = descriptor or default_descriptor(elements_of(ds, starts))
        local list = {}
        for k, sn in ipairs(cand) do list[k] = sn.atoms end
        local X = structure_features(descriptor, list)
        local idx = kiln.ml.fps(X, maxsel, {start = 1})   -- start at the most uncertain
        for k, i in ipairs(idx) do chosen[k] = cand[i] end
      end
      entry.failed = {}
      for k, sn in ipairs(chosen) do
        local rec = {atoms = sn.atoms, group = string.format("al_%03d", it)}
        local r
        if skip_errors then
          local ok, res = pcall(oracle.label, oracle, rec)
          if ok then r = res
          else
            entry.failed[#entry.failed + 1] = tostring(res)
            log(verbose, "active: iteration %d: the oracle failed on snapshot %d (skipped): %s", it, k, tostring(res))
          end
        else
          r = oracle:label(rec)
        end
        if r then
          r.iteration, r.T = it, sn.T
          ds[#ds + 1] = r
        end
      end
    end
    entry.n_selected = #chosen
    local sel_d = {}
    for k, sn in ipairs(chosen) do sel_d[k] = sn.disagreement end
    entry.selected_disagreement = sel_d
    entry.oracle_calls = (oracle.calls or 0) - calls0
    entry.time = kiln.wtime() - t0
    report.iterations[#report.iterations + 1] = entry
    report.converged = converged or nil
    write_dataset(data_file, ds)
    write_atomic(state_file, "return " .. dump{version = 1, oracle_settings = oracle.settings_hash,
                                               report = report} .. "\n")
    if o.plot ~= false then plots(dir, report, entry) end
    log(verbose, "active: iteration %d: %d training structures, %d snapshots, disagreement mean %.4f max %.4f " ..
                 "eV/Å, %d above %.3g, %d labelled%s%s (%.1f s)", it, entry.n_train, #snaps, dstat.mean,
        dstat.max, #cand, threshold, #chosen,
        rmse and string.format(", validation RMSE %.2f meV/atom %.4f eV/Å", 1000 * (rmse.energy or 0), rmse.force or 0) or "",
        converged and ", converged" or "", entry.time)
  end

  ---------------------------------------------------------- final model
  committee = make_committee(fitspec, ds, #report.iterations + 1)
  pot = committee:potential()
  report.final = {n_train = #ds, rmse = model_metrics(pot, o.validation)}
  report.committee = committee
  report.model = committee.mean_model or committee.members[1]
  report.potential = pot
  report.data = ds
  report.oracle_calls = oracle.calls
  if report.final.rmse then
    log(verbose, "active: final model on %d structures: validation RMSE %.2f meV/atom, %.4f eV/Å", #ds,
        1000 * (report.final.rmse.energy or 0), report.final.rmse.force or 0)
  end
  return report
end

M.read_dataset = read_dataset
M.write_dataset = write_dataset

M.__help = [[
kiln.active: active learning of an MLIP (see doc/active.md).
  kiln.active.run{oracle=, fit=function(ds, i) -> model, k=4, data= or initial={atoms=, n=, rattle=},
    explore={T={300, 600, 900}, steps=200, every=20, dt=1}, select={threshold=0.1, max=10},
    iterations=5, converge={disagreement=, rmse=}, validation=, dir="al_run", resume=true}
    -> report {iterations={{n_train=, n_selected=, disagreement={mean=, max=, hist=}, rmse=}, ...},
               final=, committee=, model=, potential=, data=}
  kiln.active.read_dataset(file) / write_dataset(file, ds)   the checkpointed data set]]

-- help texts of the functions: stdlib/kiln/docs.lua (D["kiln.active.*"])

return M
