-- kiln.train.metrics: errors of a potential (or fitted model) on a data set, tables,
-- parity plots, learning curves and hyperparameter sweeps. See doc/train.md.
local U = require "kiln.train.util"
U.internal()

local M = {}

-- the kiln.Potential of a model table, a committee or a potential
local function potential_of(fname, m)
  if type(m) == "userdata" and m.compute then return m end
  if type(m) == "table" then
    if m.potential then
      if type(m.potential) == "function" then return m:potential() end
      return m.potential
    end
  end
  U.fail(fname, "a kiln.Potential or a fitted model {potential=...} expected (got " .. type(m) .. ")")
end
M._potential_of = potential_of

-- Predictions for every record: list of {energy=, forces=Array, virial=3x3}
function M.predict(model, ds)
  local fname = "kiln.train.predict"
  U.dataset(fname, ds)
  if type(model) == "table" and model.predict_record then
    local out = {}
    for i, r in ipairs(ds) do out[i] = model:predict_record(r.atoms) end
    return out
  end
  local pot = potential_of(fname, model)
  local out = {}
  for i, r in ipairs(ds) do
    local a = r.atoms
    local ok, res = pcall(pot.compute, pot, a)
    if not ok then
      U.fail(fname, string.format("structure %d (%s): %s", i, r.id or r.group or "?", tostring(res)))
    end
    out[i] = {energy = res.energy, forces = res.forces, virial = res.virial}
  end
  return out
end

---------------------------------------------------------------- statistics
local function acc() return {n = 0, se = 0, ae = 0, sy = 0, syy = 0, maxe = 0} end
local function add(s, ref, pred)
  local d = pred - ref
  s.n = s.n + 1
  s.se = s.se + d * d
  s.ae = s.ae + math.abs(d)
  s.sy = s.sy + ref
  s.syy = s.syy + ref * ref
  if math.abs(d) > s.maxe then s.maxe = math.abs(d) end
end
local function finish(s)
  if s.n == 0 then return {n = 0} end
  local mean = s.sy / s.n
  local sst = s.syy - s.n * mean * mean
  return {n = s.n, rmse = math.sqrt(s.se / s.n), mae = s.ae / s.n, max = s.maxe,
          r2 = sst > 0 and 1 - s.se / sst or nil}
end
M._acc, M._add, M._finish = acc, add, finish

local KINDS = {"energy", "energy_total", "force", "virial", "stress"}

local function accumulate(set, r, p)
  local n = #r.atoms
  if r.energy and p.energy then
    add(set.energy, r.energy / n, p.energy / n)
    add(set.energy_total, r.energy, p.energy)
  end
  if r.forces and p.forces then
    local F, P = r.forces, p.forces
    for i = 1, n do for d = 1, 3 do add(set.force, F:get(i, d), P:get(i, d)) end end
  end
  if r.virial and p.virial then
    local vr, vp = U.voigt(r.virial), U.voigt(p.virial)
    local V = r.atoms:volume()
    for k = 1, 6 do
      add(set.virial, vr[k], vp[k])
      if V > 0 then add(set.stress, -vr[k] / V * 160.21766208, -vp[k] / V * 160.21766208) end
    end
  end
end

local function newset()
  local s = {}
  for _, k in ipairs(KINDS) do s[k] = acc() end
  return s
end
local function finishset(s)
  local o = {}
  for _, k in ipairs(KINDS) do o[k] = finish(s[k]) end
  return o
end

function M.metrics(model, ds, o)
  local fname = "kiln.train.metrics"
  U.dataset(fname, ds)
  o = U.check_keys(fname, o, {"by_group", "predictions"})
  local pred = o.predictions or M.predict(model, ds)
  local all, groups = newset(), {}
  for i, r in ipairs(ds) do
    accumulate(all, r, pred[i])
    if o.by_group ~= false then
      local g = r.group or "all"
      groups[g] = groups[g] or newset()
      accumulate(groups[g], r, pred[i])
    end
  end
  local out = finishset(all)
  if o.by_group ~= false then
    out.groups = {}
    for g, s in pairs(groups) do out.groups[g] = finishset(s) end
  end
  out.n = #ds
  return out
end

local function fmt(v, scale)
  if v == nil then return "-" end
  return string.format("%.4g", v * (scale or 1))
end

-- A plain-text table of metrics: energy meV/atom, force eV/Å, stress GPa.
function M.report(m, o)
  local fname = "kiln.train.report"
  if type(m) ~= "table" or not m.energy then U.fail(fname, "metrics table (from kiln.train.metrics) expected") end
  o = U.check_keys(fname, o, {"print", "title"})
  local lines = {}
  local head = string.format("%-16s %6s %10s %10s %8s %7s %9s %9s %8s %6s %9s %9s",
                             "group", "nE", "E MAE", "E RMSE", "E R2", "nF", "F MAE", "F RMSE",
                             "F R2", "nS", "S MAE", "S RMSE")
  if o.title then lines[#lines + 1] = o.title end
  lines[#lines + 1] = head
  lines[#lines + 1] = string.format("%-16s %6s %10s %10s %8s %7s %9s %9s %8s %6s %9s %9s", "",
                                    "", "meV/atom", "meV/atom", "", "", "eV/Å", "eV/Å", "", "", "GPa", "GPa")
  local function row(name, s)
    lines[#lines + 1] = string.format("%-16s %6d %10s %10s %8s %7d %9s %9s %8s %6d %9s %9s", name,
      s.energy.n or 0, fmt(s.energy.mae, 1e3), fmt(s.energy.rmse, 1e3), fmt(s.energy.r2),
      s.force.n or 0, fmt(s.force.mae), fmt(s.force.rmse), fmt(s.force.r2),
      s.stress.n or 0, fmt(s.stress.mae), fmt(s.stress.rmse))
  end
  if m.groups then
    local names = {}
    for g in pairs(m.groups) do names[#names + 1] = g end
    table.sort(names)
    for _, g in ipairs(names) do row(g, m.groups[g]) end
  end
  row("ALL", m)
  local text = table.concat(lines, "\n")
  if o.print ~= false then print(text) end
  return text
end

---------------------------------------------------------------- parity plot
local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

function M.parity(model, ds, o)
  local fname = "kiln.train.parity"
  U.dataset(fname, ds)
  o = U.check_keys(fname, o, {"file", "title", "predictions", "size"})
  local file = o.file or "parity.png"
  if type(file) ~= "string" then U.fail(fname, "file must be a file name (.png, .svg or .pdf)") end
  local pred = o.predictions or M.predict(model, ds)
  local dir = U.dirname(file)
  local base = file:match("[^/]*$"):gsub("%.[^.]*$", "")
  local ext = (file:match("%.([^./]+)$") or "png"):lower()
  local prefix = dir == "." and "" or dir .. "/"
  U.mkdir(dir)
  local dat = prefix .. base .. ".dat"
  local f = assert(io.open(dat, "w"))
  f:write("# kiln.train.parity: block 0 energy (eV/atom): reference predicted group\n")
  local emin, emax, fmin, fmax = math.huge, -math.huge, math.huge, -math.huge
  for i, r in ipairs(ds) do
    if r.energy and pred[i].energy then
      local n = #r.atoms
      local a, b = r.energy / n, pred[i].energy / n
      f:write(string.format("%.10g %.10g %s\n", a, b, (r.group or "all"):gsub("%s", "_")))
      emin, emax = math.min(emin, a, b), math.max(emax, a, b)
    end
  end
  f:write("\n\n# block 1 force components (eV/Å): reference predicted\n")
  for i, r in ipairs(ds) do
    if r.forces and pred[i].forces then
      local F, P = r.forces, pred[i].forces
      for k = 1, #r.atoms do
        for d = 1, 3 do
          local a, b = F:get(k, d), P:get(k, d)
          f:write(string.format("%.8g %.8g\n", a, b))
          fmin, fmax = math.min(fmin, a, b), math.max(fmax, a, b)
        end
      end
    end
  end
  f:close()
  if emin > emax then emin, emax = -1, 1 end
  if fmin > fmax then fmin, fmax = -1, 1 end
  local size = o.size or {1100, 520}
  local plot = require "kiln.plot"
  local avail, term = plot.available()
  local terminal
  if ext == "png" then
    terminal = (term == "png") and string.format("set terminal png size %d,%d", size[1], size[2]) or
               string.format("set terminal pngcairo size %d,%d noenhanced font 'Sans,11'", size[1], size[2])
  elseif ext == "svg" then terminal = string.format("set terminal svg size %d,%d noenhanced", size[1], size[2])
  elseif ext == "pdf" then terminal = string.format("set terminal pdfcairo size %.1fin,%.1fin noenhanced", size[1] / 100, size[2] / 100)
  else U.fail(fname, "unsupported figure type '." .. ext .. "' (use .png, .svg or .pdf)") end
  local m = M.metrics(nil, ds, {predictions = pred, by_group = false})
  local gp = prefix .. base .. ".gp"
  local s = {
    "# " .. base .. ".gp: written by kiln.train.parity; rerun with: gnuplot " .. base .. ".gp",
    "set encoding utf8", terminal, "set output '" .. file:match("[^/]*$") .. "'",
    "set multiplot layout 1,2" .. (o.title and (" title '" .. o.title:gsub("'", "''") .. "'") or ""),
    "set size square", "set key top left", "set grid",
    string.format("set xrange [%.10g:%.10g]; set yrange [%.10g:%.10g]", emin, emax, emin, emax),
    "set xlabel 'reference energy (eV/atom)'", "set ylabel 'predicted energy (eV/atom)'",
    string.format("set title 'energy: MAE %.3g meV/atom, RMSE %.3g meV/atom'",
                  (m.energy.mae or 0) * 1e3, (m.energy.rmse or 0) * 1e3),
    string.format("plot '%s' index 0 using 1:2 with points pt 7 ps 0.6 title 'structures', x with lines lc 'black' notitle", base .. ".dat"),
    string.format("set xrange [%.10g:%.10g]; set yrange [%.10g:%.10g]", fmin, fmax, fmin, fmax),
    "set xlabel 'reference force (eV/Å)'", "set ylabel 'predicted force (eV/Å)'",
    string.format("set title 'force: MAE %.3g eV/Å, RMSE %.3g eV/Å'", m.force.mae or 0, m.force.rmse or 0),
    string.format("plot '%s' index 1 using 1:2 with points pt 7 ps 0.3 title 'components', x with lines lc 'black' notitle", base .. ".dat"),
    "unset multiplot",
  }
  local g = assert(io.open(gp, "w"))
  g:write(table.concat(s, "\n"), "\n")
  g:close()
  if not avail then return nil, term end
  local prog = plot.program or os.getenv("KILN_GNUPLOT") or "gnuplot"
  local p = io.popen("cd " .. shq(dir) .. " && " .. shq(prog) .. " " .. shq(base .. ".gp") .. " </dev/null 2>&1")
  local out = p:read("a")
  local _, _, code = p:close()
  if code ~= 0 then return nil, "gnuplot failed on " .. gp .. ": " .. (out or "") end
  return file
end

---------------------------------------------------------------- learning curve, sweep
function M.learning_curve(o)
  local fname = "kiln.train.learning_curve"
  o = U.check_keys(fname, o, {"fit", "data", "test", "sizes", "seed", "file", "repeats"})
  local fit = U.need(fname, o, "fit", "function", "function(ds) return model end")
  local data = U.dataset(fname, U.need(fname, o, "data"), "data")
  local test = U.dataset(fname, U.need(fname, o, "test"), "test")
  local sizes = o.sizes
  if type(sizes) ~= "table" or #sizes == 0 then
    U.fail(fname, "sizes must be a list of training-set sizes (structures or fractions <= 1)")
  end
  local perm = U.permutation(#data, o.seed or 1, 11)
  local rows = {}
  for k, s in ipairs(sizes) do
    if type(s) ~= "number" or s <= 0 then U.fail(fname, "sizes must be positive numbers") end
    local n = (math.type(s) == "float" and s <= 1) and math.max(1, math.floor(s * #data + 0.5)) or
              math.tointeger(math.floor(s))
    if n > #data then U.fail(fname, string.format("sizes[%d] = %g is more than the %d structures", k, s, #data)) end
    local sub = {}
    for i = 1, n do sub[i] = data[perm[i]] end
    local model = fit(sub)
    local mt = M.metrics(model, test, {by_group = false})
    local mtr = M.metrics(model, sub, {by_group = false})
    rows[k] = {size = n, test = mt, train = mtr}
  end
  local out = {rows = rows}
  if o.file then
    local plot = require "kiln.plot"
    local x, et, etr, ft, ftr = {}, {}, {}, {}, {}
    for k, r in ipairs(rows) do
      x[k] = r.size
      et[k] = (r.test.energy.rmse or 0 / 0) * 1e3
      etr[k] = (r.train.energy.rmse or 0 / 0) * 1e3
      ft[k] = r.test.force.rmse or 0 / 0
      ftr[k] = r.train.force.rmse or 0 / 0
    end
    out.file, out.plot_error = plot.lines{file = o.file, xlabel = "training structures",
      ylabel = "energy RMSE (meV/atom)", y2label = "force RMSE (eV/Å)", logx = true,
      title = "learning curve",
      series = {{x = x, y = et, label = "E test", with = "linespoints"},
                {x = x, y = etr, label = "E train", with = "linespoints"},
                {x = x, y = ft, label = "F test", axis = 2, with = "linespoints"},
                {x = x, y = ftr, label = "F train", axis = 2, with = "linespoints"}}}
  end
  return out
end

-- score of a metrics table: energy RMSE (eV/atom) + force RMSE (eV/Å), or a user function
local function default_score(m)
  return (m.energy.rmse or 0) + (m.force.rmse or 0)
end

function M.sweep(o)
  local fname = "kiln.train.sweep"
  o = U.check_keys(fname, o, {"fit", "grid", "validation", "score"})
  local fit = U.need(fname, o, "fit", "function", "function(params) return model end")
  local grid = U.need(fname, o, "grid", "table", "{lambda={...}, twojmax={...}}")
  local val = U.dataset(fname, U.need(fname, o, "validation"), "validation")
  local score = o.score or default_score
  local keys = {}
  for k, v in pairs(grid) do
    if type(v) ~= "table" or #v == 0 then U.fail(fname, "grid." .. tostring(k) .. " must be a list of values") end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local points = {{}}
  for _, k in ipairs(keys) do
    local nxt = {}
    for _, p in ipairs(points) do
      for _, v in ipairs(grid[k]) do
        local q = U.copy(p)
        q[k] = v
        nxt[#nxt + 1] = q
      end
    end
    points = nxt
  end
  local results, best = {}, nil
  for i, p in ipairs(points) do
    local model = fit(U.copy(p))
    local m = M.metrics(model, val, {by_group = false})
    local sc = score(m)
    results[i] = {params = p, metrics = m, score = sc}
    if not best or sc < best.score then best = results[i] end
  end
  return {points = results, best = best}
end

return M
