-- kiln.plot: figures through gnuplot (PNG, SVG or PDF, chosen by the file name).
--
-- Every figure keeps its gnuplot script (<name>.gp) and data (<name>.dat)
-- beside it, so a user can restyle it and run `gnuplot <name>.gp` again.
-- Data and script are written atomically (temporary file + rename).
--
--   plot.lines{file="energy.png", title=, xlabel=, ylabel=, y2label=, logx=, logy=,
--              xrange={a, b}, yrange={a, b}, key=true, size={800, 560},
--              series={{x=, y=, label=, axis=2, with="lines", lw=2, color="#1f77b4"}, ...}}
--   plot.heatmap{file=, x=, y=, z= (z[i][j] at x[i], y[j]), xlabel=, ylabel=, cblabel=, logz=}
--   plot.thermo(rows, file)   total energy and temperature versus time (two y axes)
--
-- Each returns the figure's path, or nil and a message when the figure could
-- not be made (the .gp and .dat files are still written when possible):
-- "gnuplot not found (install gnuplot-nox)". Misuse (missing or malformed
-- arguments) raises. The gnuplot program can be set with plot.program = "path"
-- or the environment variable KILN_GNUPLOT.

local M = {}

local function shquote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function gpquote(s) return "'" .. tostring(s):gsub("'", "''") .. "'" end

-- The gnuplot program: plot.program if set, else $KILN_GNUPLOT, else "gnuplot".
local function program() return M.program or os.getenv("KILN_GNUPLOT") or "gnuplot" end

local term_cache = {}

-- The set of gnuplot terminals ({pngcairo=true, ...}), or false if gnuplot
-- cannot be run.
local function terminals()
  local prog = program()
  if term_cache[prog] ~= nil then return term_cache[prog] end
  local set = false
  local f = io.popen(shquote(prog) .. ' -e "set terminal" </dev/null 2>&1')
  if f then
    local out = f:read("a") or ""
    f:close()
    for name in out:gmatch("\n%s*([%w_]+)%s%s") do
      set = set or {}
      set[name] = true
    end
  end
  term_cache[prog] = set
  return set
end

--- true and the terminal used for PNG files, or false and a message.
function M.available()
  local t = terminals()
  if not t then return false, "gnuplot not found (install gnuplot-nox)" end
  return true, t.pngcairo and "pngcairo" or (t.png and "png") or nil
end

-- Misuse is raised as {usage = msg} inside and re-raised at the public
-- function with error(msg, 2), so the message names the caller's line.
local function fail(fname, msg) error({usage = fname .. ": " .. msg}) end

local function public(f)
  return function(...)
    local res = table.pack(pcall(f, ...))
    if res[1] then return table.unpack(res, 2, res.n) end
    local e = res[2]
    if type(e) == "table" and e.usage then error(e.usage, 2) end
    error(e, 0)
  end
end

-- A list of numbers from a table, a table of 1-element rows or a kiln.Array.
local function numbers(v, fname, what)
  if type(v) == "userdata" then
    local ok, t = pcall(function() return v:totable() end)
    if not ok or type(t) ~= "table" then fail(fname, what .. " must be a list of numbers") end
    v = t
  end
  if type(v) ~= "table" then
    fail(fname, what .. " must be a list of numbers (got " .. type(v) .. ")")
  end
  local out = {}
  for i = 1, #v do
    local x = v[i]
    if type(x) == "table" then x = x[1] end
    if x ~= nil and type(x) ~= "number" then
      fail(fname, string.format("%s[%d] is not a number (got %s)", what, i, type(x)))
    end
    out[i] = x
  end
  return out
end

local function fmt(v)
  if v == nil or v ~= v or v == math.huge or v == -math.huge then return "NaN" end
  return string.format("%.10g", v)
end

-- Split "dir/name.ext" into dir ("." if none), base name without extension, extension.
local function split_path(file)
  local dir, name = file:match("^(.*)/([^/]*)$")
  if not dir then dir, name = ".", file end
  if dir == "" then dir = "/" end
  local base, ext = name:match("^(.*)%.([^.]+)$")
  if not base or base == "" then base, ext = name, "" end
  return dir, base, ext:lower()
end

-- Write a file through a temporary name and a rename. fill(f) writes the content.
local function write_atomic(path, fill)
  local tmp = string.format("%s.tmp%d", path, math.random(1, 1 << 30))
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  local ok, werr = pcall(fill, f)
  local cok, cerr = f:close()
  if not ok or not cok then
    os.remove(tmp)
    return nil, tostring(ok and cerr or werr)
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then
    os.remove(tmp)
    return nil, rerr
  end
  return true
end

local function terminal_line(ext, size, terms, fname)
  local w, h = size[1], size[2]
  if ext == "png" then
    if terms and not terms.pngcairo and terms.png then
      return string.format("set terminal png size %d,%d noenhanced", w, h)
    end
    return string.format("set terminal pngcairo size %d,%d noenhanced font 'Sans,11'", w, h)
  elseif ext == "svg" then
    return string.format("set terminal svg size %d,%d dynamic noenhanced font 'Sans,11'", w, h)
  elseif ext == "pdf" then
    return string.format("set terminal pdfcairo size %.2fin,%.2fin noenhanced font 'Sans,10'",
                         w / 100, h / 100)
  end
  fail(fname, "unsupported figure type '." .. ext .. "' (use .png, .svg or .pdf)")
end

local function check_options(o, fname)
  if type(o) ~= "table" then fail(fname, "options table expected (got " .. type(o) .. ")") end
  if type(o.file) ~= "string" or o.file == "" then
    fail(fname, "file= (the figure's path, e.g. \"energy.png\") is required")
  end
  local size = o.size or {800, 560}
  if type(size) ~= "table" or type(size[1]) ~= "number" or type(size[2]) ~= "number" then
    fail(fname, "size must be {width, height} in pixels")
  end
  return size
end

local function range_line(name, r, fname)
  if r == nil then return nil end
  if type(r) ~= "table" or (r[1] ~= nil and type(r[1]) ~= "number") or
     (r[2] ~= nil and type(r[2]) ~= "number") then
    fail(fname, name .. " must be {min, max} (nil for automatic)")
  end
  return string.format("set %s [%s:%s]", name, r[1] and fmt(r[1]) or "*", r[2] and fmt(r[2]) or "*")
end

-- Write .dat and .gp, run gnuplot in the figure's directory.
local function render(file, ext, dat_fill, script_lines)
  local dir, base = split_path(file)
  local dat = (dir == "." and "" or dir .. "/") .. base .. ".dat"
  local gp = (dir == "." and "" or dir .. "/") .. base .. ".gp"
  local ok, err = write_atomic(dat, dat_fill)
  if not ok then return nil, "cannot write " .. dat .. ": " .. tostring(err) end
  ok, err = write_atomic(gp, function(f) f:write(table.concat(script_lines, "\n"), "\n") end)
  if not ok then return nil, "cannot write " .. gp .. ": " .. tostring(err) end
  if not terminals() then return nil, "gnuplot not found (install gnuplot-nox)" end
  local cmd = "cd " .. shquote(dir) .. " && " .. shquote(program()) .. " " .. shquote(base .. ".gp") ..
              " </dev/null 2>&1"
  local p = io.popen(cmd)
  if not p then return nil, "cannot run gnuplot" end
  local out = p:read("a") or ""
  local _, _, code = p:close()
  if code ~= 0 then
    out = out:gsub("%s+$", "")
    return nil, string.format("gnuplot failed on %s (exit %s): %s", gp, tostring(code), out)
  end
  local f = io.open(file, "rb")
  if not f then return nil, "gnuplot did not write " .. file .. (out ~= "" and (": " .. out) or "") end
  f:close()
  return file
end

local function header(kind, o, ext, size, terms, fname)
  local _, base = split_path(o.file)
  local l = {
    "# " .. base .. ".gp: written by kiln.plot." .. kind .. "; edit and rerun with: gnuplot " .. base .. ".gp",
    "set encoding utf8",
    terminal_line(ext, size, terms, fname),
    "set output " .. gpquote(o.file:match("[^/]*$")),
  }
  if o.title then l[#l + 1] = "set title " .. gpquote(o.title) end
  if o.xlabel then l[#l + 1] = "set xlabel " .. gpquote(o.xlabel) end
  if o.ylabel then l[#l + 1] = "set ylabel " .. gpquote(o.ylabel) end
  return l, base
end

--- Line plot of one or more series; see the module comment.
local function lines(o)
  local fname = "plot.lines"
  local size = check_options(o, fname)
  local series = o.series
  if series == nil and o.y ~= nil then series = {{x = o.x, y = o.y, label = o.label}} end
  if type(series) ~= "table" or #series == 0 then
    fail(fname, "series={{x=, y=, label=}, ...} (or x=, y=) is required")
  end
  local data, y2 = {}, false
  for k, s in ipairs(series) do
    if type(s) ~= "table" then fail(fname, "series[" .. k .. "] must be a table") end
    local y = numbers(s.y, fname, "series[" .. k .. "].y")
    local x
    if s.x ~= nil then x = numbers(s.x, fname, "series[" .. k .. "].x")
    else x = {}; for i = 1, #y do x[i] = i end end
    if #x ~= #y then
      fail(fname, string.format("series[%d]: x has %d values but y has %d", k, #x, #y))
    end
    if s.axis ~= nil and s.axis ~= 1 and s.axis ~= 2 then
      fail(fname, "series[" .. k .. "].axis must be 1 or 2 (got " .. tostring(s.axis) .. ")")
    end
    y2 = y2 or s.axis == 2
    data[k] = {x = x, y = y, s = s}
  end
  local _, _, ext = split_path(o.file)
  local terms = terminals()
  local l, base = header("lines", o, ext, size, terms, fname)
  if o.y2label then l[#l + 1] = "set y2label " .. gpquote(o.y2label) end
  if y2 then l[#l + 1] = "set ytics nomirror"; l[#l + 1] = "set y2tics" end
  if o.logx then l[#l + 1] = "set logscale x" end
  if o.logy then l[#l + 1] = "set logscale y" end
  if o.logy2 then l[#l + 1] = "set logscale y2" end
  l[#l + 1] = range_line("xrange", o.xrange, fname)
  l[#l + 1] = range_line("yrange", o.yrange, fname)
  l[#l + 1] = range_line("y2range", o.y2range, fname)
  l[#l + 1] = "set grid"
  if o.key == false then l[#l + 1] = "unset key" else l[#l + 1] = "set key opaque " .. (o.key_position or "top right") end
  local parts = {}
  for k, d in ipairs(data) do
    local s = d.s
    local p = string.format("%s index %d using 1:2 with %s", k == 1 and gpquote(base .. ".dat") or "''",
                            k - 1, s.with or "lines")
    if (s.with or "lines"):find("line") then p = p .. " lw " .. fmt(s.lw or 2) end
    if s.color then p = p .. " lc rgb " .. gpquote(s.color) end
    p = p .. (s.label and (" title " .. gpquote(s.label)) or " notitle")
    if s.axis == 2 then p = p .. " axes x1y2" end
    parts[k] = p
  end
  l[#l + 1] = "plot " .. table.concat(parts, ", \\\n     ")
  local fill = function(f)
    f:write("# ", base, ".dat: written by kiln.plot.lines; one block per series (gnuplot index 0, 1, ...)\n")
    for k, d in ipairs(data) do
      if k > 1 then f:write("\n\n") end
      f:write(string.format("# series %d: %s%s\n", k, d.s.label or "(no label)",
                            d.s.axis == 2 and " (right axis)" or ""))
      for i = 1, #d.x do f:write(fmt(d.x[i]), " ", fmt(d.y[i]), "\n") end
    end
  end
  return render(o.file, ext, fill, l)
end

local function uniform(v)
  if #v < 2 then return true end
  local h = (v[#v] - v[1]) / (#v - 1)
  if h == 0 then return false end
  for i = 2, #v do
    if math.abs((v[i] - v[i - 1]) - h) > 1e-6 * math.abs(h) then return false end
  end
  return true
end

--- Colour map of z over a grid; z[i][j] is the value at (x[i], y[j]).
local function heatmap(o)
  local fname = "plot.heatmap"
  local size = check_options(o, fname)
  local z = o.z
  if type(z) == "userdata" then
    local ok, t = pcall(function() return z:totable() end)
    z = ok and t or nil
  end
  if type(z) ~= "table" or #z == 0 or type(z[1]) ~= "table" then
    fail(fname, "z= must be a non-empty 2-D table (z[i][j] at x[i], y[j]) or a kiln.Array")
  end
  local nx, ny = #z, #z[1]
  if ny == 0 then fail(fname, "z[1] is empty") end
  local rows = {}
  for i = 1, nx do
    rows[i] = numbers(z[i], fname, "z[" .. i .. "]")
    if #rows[i] ~= ny then
      fail(fname, string.format("z[%d] has %d values but z[1] has %d", i, #rows[i], ny))
    end
  end
  local x, y = {}, {}
  if o.x ~= nil then x = numbers(o.x, fname, "x") else for i = 1, nx do x[i] = i end end
  if o.y ~= nil then y = numbers(o.y, fname, "y") else for j = 1, ny do y[j] = j end end
  if #x ~= nx then fail(fname, string.format("x has %d values but z has %d rows", #x, nx)) end
  if #y ~= ny then fail(fname, string.format("y has %d values but z has %d columns", #y, ny)) end
  local _, _, ext = split_path(o.file)
  local terms = terminals()
  local l, base = header("heatmap", o, ext, size, terms, fname)
  if o.cblabel then l[#l + 1] = "set cblabel " .. gpquote(o.cblabel) end
  if o.logz then l[#l + 1] = "set logscale cb"; l[#l + 1] = "set format cb '%.0e'" end
  l[#l + 1] = range_line("cbrange", o.zrange, fname)
  l[#l + 1] = "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21908d', 3 '#5dc963', 4 '#fde725')"
  l[#l + 1] = "set tics out"
  local img = uniform(x) and uniform(y)
  if img then
    local hx = nx > 1 and (x[nx] - x[1]) / (nx - 1) / 2 or 0.5
    local hy = ny > 1 and (y[ny] - y[1]) / (ny - 1) / 2 or 0.5
    l[#l + 1] = string.format("set xrange [%s:%s]", fmt(math.min(x[1], x[nx]) - math.abs(hx)),
                              fmt(math.max(x[1], x[nx]) + math.abs(hx)))
    l[#l + 1] = string.format("set yrange [%s:%s]", fmt(math.min(y[1], y[ny]) - math.abs(hy)),
                              fmt(math.max(y[1], y[ny]) + math.abs(hy)))
    l[#l + 1] = "plot " .. gpquote(base .. ".dat") .. " using 1:2:3 with image notitle"
  else
    l[#l + 1] = "set view map"
    l[#l + 1] = "set pm3d map corners2color c1"
    l[#l + 1] = "set autoscale xfix"
    l[#l + 1] = "set autoscale yfix"
    l[#l + 1] = "splot " .. gpquote(base .. ".dat") .. " using 1:2:3 with pm3d notitle"
  end
  local logz = o.logz
  local fill = function(f)
    f:write("# ", base, ".dat: written by kiln.plot.heatmap; columns x y z, one block per x\n")
    for i = 1, nx do
      local r = rows[i]
      for j = 1, ny do
        local v = r[j]
        if logz and v ~= nil and v <= 0 then v = nil end
        f:write(fmt(x[i]), " ", fmt(y[j]), " ", fmt(v), "\n")
      end
      f:write("\n")
    end
  end
  return render(o.file, ext, fill, l)
end

--- Total energy (left axis, eV) and temperature (right axis, K) versus time
--- (fs) from md thermo rows {time=, etot=, T=} (or columns {time={}, etot={}, T={}}).
local function thermo(rows, file, o)
  local fname = "plot.thermo"
  if type(rows) ~= "table" then fail(fname, "rows must be a list of thermo tables {time=, etot=, T=}") end
  o = o or {}
  local t, e, T = {}, {}, {}
  local xlabel = "time (fs)"
  if type(rows.etot) == "table" then
    t = numbers(rows.time or rows.step, fname, "time")
    e = numbers(rows.etot, fname, "etot")
    T = numbers(rows.T, fname, "T")
    if rows.time == nil then xlabel = "step" end
  else
    for i, r in ipairs(rows) do
      if type(r) ~= "table" then fail(fname, "rows[" .. i .. "] must be a thermo table") end
      t[i] = r.time or r.step
      if r.time == nil then xlabel = "step" end
      e[i], T[i] = r.etot, r.T
    end
  end
  if #t == 0 then fail(fname, "no thermo rows to plot") end
  return lines{
    file = file or o.file or "thermo.png", title = o.title or "MD run",
    xlabel = xlabel, ylabel = "total energy (eV)", y2label = "temperature (K)", size = o.size,
    key_position = o.key_position or "outside top center horizontal",  -- off both curves
    series = {{x = t, y = e, label = "total energy"}, {x = t, y = T, label = "temperature", axis = 2}},
  }
end

M.lines = public(lines)
M.heatmap = public(heatmap)
M.thermo = public(thermo)

M.__help = [[
kiln.plot: figures through gnuplot; the .gp script and .dat data stay beside the figure.
  plot.lines{file="e.png", title=, xlabel=, ylabel=, y2label=, logx=, logy=, xrange=, yrange=,
             series={{x=, y=, label=, axis=2, with="lines", lw=, color=}, ...}}
  plot.heatmap{file=, x=, y=, z= (z[i][j] at x[i], y[j]), xlabel=, ylabel=, cblabel=, logz=}
  plot.thermo(rows, file)   md thermo rows {time=, etot=, T=}: energy and temperature vs time
  plot.available()          true (and the PNG terminal) or false, message
Returns the figure path, or nil, message ("gnuplot not found (install gnuplot-nox)").
File type from the name: .png, .svg, .pdf.]]

return M
