-- kiln.plot: files written (figure, .gp, .dat), data round trip, gnuplot
-- script content, missing gnuplot, misuse errors.
local plot = require "kiln.plot"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- PNG signature and the IHDR width/height (big-endian at bytes 17..24)
local function png_size(path)
  local s = read(path)
  assert(s:sub(1, 8) == "\137PNG\r\n\26\n", path .. " is not a PNG file")
  return string.unpack(">I4I4", s, 17)
end

-- the figure name, and the .gp/.dat beside it (all removed by cleanup)
local function names(ext)
  local fig = tmpname(ext or ".png")
  local base = fig:gsub("%.[^.]*$", "")
  return fig, base .. ".gp", base .. ".dat"
end

local function cleanup(...) for _, f in ipairs{...} do os.remove(f) end end

-- numeric rows of a .dat file, grouped in blocks separated by blank lines
local function dat_blocks(path)
  local blocks, cur = {}, nil
  for line in io.lines(path) do
    if line:match("^%s*$") then cur = nil
    elseif not line:match("^#") then
      if not cur then cur = {}; blocks[#blocks + 1] = cur end
      local row = {}
      for w in line:gmatch("%S+") do row[#row + 1] = w == "NaN" and "NaN" or tonumber(w) end
      cur[#cur + 1] = row
    end
  end
  return blocks
end

local function need_gnuplot()
  local ok, msg = plot.available()
  if not ok then skip(msg) end
end

test("lines: png, gp and dat written; data round trip", function()
  need_gnuplot()
  local fig, gp, dat = names(".png")
  local x, y, T = {}, {}, {}
  for i = 1, 40 do x[i] = 0.25 * i; y[i] = math.sin(i / 3) * 1e-3 - 12.5; T[i] = 300 + i / 7 end
  local out, err = plot.lines{file = fig, title = "it's a test", xlabel = "time (fs)",
                              ylabel = "E (eV)", y2label = "T (K)",
                              series = {{x = x, y = y, label = "E"}, {x = x, y = T, label = "T", axis = 2}}}
  assert(out == fig, err)
  local w, h = png_size(fig)
  assert(w == 800 and h == 560, "png size " .. w .. "x" .. h)
  local blocks = dat_blocks(dat)
  assert(#blocks == 2, "expected 2 data blocks, got " .. #blocks)
  assert(#blocks[1] == 40 and #blocks[2] == 40)
  for i = 1, 40 do
    close(blocks[1][i][1], x[i], 1e-10)
    close(blocks[1][i][2], y[i], 1e-9)
    close(blocks[2][i][2], T[i], 1e-9)
  end
  local script = read(gp)
  assert(script:find("axes x1y2", 1, true), "right-axis series not on y2")
  assert(script:find("set y2label 'T (K)'", 1, true))
  assert(script:find("set title 'it''s a test'", 1, true), "gnuplot quote of the title")
  assert(script:find("set output '" .. fig:match("[^/]*$") .. "'", 1, true))
  cleanup(gp, dat)
end)

test("lines: y only, Array input, svg output", function()
  need_gnuplot()
  local kiln = require "kiln"
  local fig, gp, dat = names(".svg")
  local arr = kiln.Array{1, 4, 9, 16}
  assert(plot.lines{file = fig, y = arr, logy = true} == fig)
  assert(read(fig):find("<svg", 1, true), "not an SVG file")
  local b = dat_blocks(dat)
  assert(#b == 1 and #b[1] == 4)
  for i = 1, 4 do assert(b[1][i][1] == i and b[1][i][2] == i * i) end
  assert(read(gp):find("set logscale y", 1, true))
  cleanup(gp, dat)
end)

test("heatmap: grid data, image vs pm3d, logz", function()
  need_gnuplot()
  local fig, gp, dat = names(".png")
  local z = {}
  for i = 1, 6 do
    z[i] = {}
    for j = 1, 4 do z[i][j] = (i - 1) * 10 + (j - 1) end   -- z[1][1] = 0: NaN with logz
  end
  assert(plot.heatmap{file = fig, z = z, y = {0, 0.5, 1.0, 1.5}, xlabel = "q", ylabel = "E",
                      cblabel = "S", logz = true} == fig)
  png_size(fig)
  local b = dat_blocks(dat)
  assert(#b == 6, "one block per x")
  for i = 1, 6 do
    assert(#b[i] == 4)
    for j = 1, 4 do
      assert(b[i][j][1] == i)
      close(b[i][j][2], (j - 1) * 0.5, 1e-12, 1e-15)
      if i == 1 and j == 1 then assert(b[i][j][3] == "NaN", "z <= 0 must be NaN with logz")
      else assert(b[i][j][3] == z[i][j]) end
    end
  end
  local script = read(gp)
  assert(script:find("with image", 1, true), "uniform grid drawn as an image")
  assert(script:find("set logscale cb", 1, true))
  cleanup(gp, dat)
  -- non-uniform x: pm3d map
  fig, gp, dat = names(".png")
  assert(plot.heatmap{file = fig, x = {1, 2, 4, 8, 16, 32}, z = z} == fig)
  assert(read(gp):find("with pm3d", 1, true))
  cleanup(gp, dat)
end)

test("thermo: rows of md thermo", function()
  need_gnuplot()
  local fig, gp, dat = names(".png")
  local rows = {}
  for i = 1, 10 do rows[i] = {step = i, time = 2.0 * i, etot = -10 + 1e-4 * i, T = 290 + i} end
  assert(plot.thermo(rows, fig) == fig)
  png_size(fig)
  local b = dat_blocks(dat)
  assert(#b == 2 and #b[1] == 10)
  close(b[1][10][1], 20.0, 1e-12)
  close(b[1][10][2], -10 + 1e-3, 1e-10)
  close(b[2][3][2], 293, 1e-12)
  local script = read(gp)
  assert(script:find("time (fs)", 1, true) and script:find("temperature (K)", 1, true))
  cleanup(gp, dat)
end)

test("missing gnuplot: nil, message; .gp and .dat still written", function()
  local fig, gp, dat = names(".png")
  local saved = plot.program
  plot.program = "/nonexistent/kiln-test/gnuplot"
  local ok, out, err = pcall(plot.lines, {file = fig, y = {1, 2, 3}})
  plot.program = saved
  assert(ok, out)
  assert(out == nil and err == "gnuplot not found (install gnuplot-nox)", tostring(err))
  assert(exists(gp) and exists(dat) and not exists(fig))
  cleanup(gp, dat)
end)

test("no temporary files left behind", function()
  need_gnuplot()
  local fig, gp, dat = names(".png")
  assert(plot.lines{file = fig, y = {3, 1, 2}} == fig)
  local dir = fig:match("^(.*)/") or "."
  local p = io.popen("ls " .. dir)
  local listing = p:read("a")
  p:close()
  assert(not listing:find("%.tmp%d"), "temporary file left: " .. listing)
  cleanup(gp, dat)
end)

test("unwritable directory: nil, message", function()
  local out, err = plot.lines{file = "/nonexistent/kiln-test/dir/x.png", y = {1, 2}}
  assert(out == nil and err:find("cannot write", 1, true), tostring(err))
end)

test("misuse raises with the caller's position", function()
  local msg = checkerror("plot.lines: file=", plot.lines, {y = {1, 2}})
  checkerror("series={{x=, y=, label=}, ...}", plot.lines, {file = "a.png"})
  checkerror("series[1]: x has 2 values but y has 3", plot.lines,
             {file = "a.png", series = {{x = {1, 2}, y = {1, 2, 3}}}})
  checkerror("unsupported figure type '.jpg'", plot.lines, {file = "a.jpg", y = {1}})
  checkerror("series[1].axis must be 1 or 2", plot.lines, {file = "a.png", series = {{y = {1}, axis = 3}}})
  checkerror("z[2] has 1 values but z[1] has 2", plot.heatmap, {file = "a.png", z = {{1, 2}, {3}}})
  checkerror("rows must be a list", plot.thermo, 5)
  assert(not msg:find("plot.lua", 1, true), "error blamed on plot.lua: " .. msg)
  local ok, e = pcall(function() plot.lines{file = "b.png"} end)   -- this line is blamed
  assert(not ok and e:find("test_plot.lua:%d+: plot.lines:"), e)
end)
