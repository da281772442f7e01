-- kiln.help: texts for modules, styles, objects, functions and names; never raises.
local kiln = require "kiln"
local help = require "kiln.help"

local function has(text, ...)
  for _, s in ipairs{...} do
    if not text:find(s, 1, true) then error("missing '" .. s .. "' in:\n" .. text, 2) end
  end
end

test("overview lists modules, types and styles", function()
  local t = help.text()
  has(t, "Modules", "crystal", "potential", "md", "io", "kiln.Atoms", "kiln.Potential",
      "Styles in kiln.potential", "lj")
  has(help.text(kiln), "Modules")
end)

test("every potential and md style: record fields from styles()", function()
  for _, mod in ipairs{"potential", "md"} do
    local recs = kiln[mod].styles()
    assert(#recs > 0)
    for _, rec in ipairs(recs) do
      local t = help.text(kiln[mod][rec.name])
      has(t, "kiln." .. mod .. "." .. rec.name, "style:    " .. rec.name, rec.description)
      if rec.citation ~= "" then has(t, rec.citation) end
      for line in rec.options:gmatch("[^\n]+") do has(t, line) end
    end
  end
end)

test("lj style: name and options", function()
  local t = help.text(kiln.potential.lj)
  has(t, "kiln.potential.lj", "epsilon=", "sigma=", "cutoff=", "options:")
end)

test("module: its text, functions and styles", function()
  has(help.text(kiln.crystal), "diamond", "fcc", "Functions:")
  has(help.text(kiln.potential), "Styles", "sw", "tersoff")
  has(help.text(require "kiln.plot"), "kiln.plot", "lines", "heatmap", "thermo")
end)

test("objects: type text, style record, methods", function()
  local pot = kiln.potential.lj{epsilon = 0.0104, sigma = 3.40, cutoff = 8.5}
  has(help.text(pot), "kiln.Potential", "compute", "energy", "epsilon=", "style:    lj")
  local si = kiln.crystal.diamond{symbol = "Si", a = 5.431}
  has(help.text(si), "kiln.Atoms", "positions", "supercell")
  local md = kiln.md.langevin{dt = 1.0, T = 300, damping = 100, seed = 1}
  has(help.text(md), "kiln.Integrator", "run", "damping")
  has(help.text(kiln.Atoms), "kiln.Atoms", "Methods")
end)

test("functions: documented by identity", function()
  has(help.text(kiln.io.read), "read(file")
  has(help.text(kiln.crystal.diamond), "kiln.crystal.diamond", "8 atoms")
  has(help.text(kiln.Potential.compute), "pot:compute(a)")
  has(help.text(print), "print", "Lua standard function")
  local function f(alpha, beta) return alpha + beta end
  has(help.text(f), "(alpha, beta)", "no documentation")
  help.register(f, "f(alpha, beta): adds")
  has(help.text(f), "f(alpha, beta): adds")
end)

test("names: dotted paths, Type:method, style names", function()
  has(help.text("kiln.io.read"), "read(file")
  has(help.text("io.read"), "read(file")
  has(help.text("md:run"), "md:run(")
  has(help.text("Atoms:positions"), "a:positions()")
  has(help.text("sw"), "Stillinger")
  has(help.text("kiln.potential"), "Styles")
end)

test("unknown input: 'no help for', never raises", function()
  assert(help.text(42) == "no help for 42")
  assert(help.text(nil) == "no help for nil")
  assert(help.text("no_such_thing") == 'no help for "no_such_thing"')
  has(help.text({1, 2, 3}), "no help for table")
  local evil = setmetatable({}, {__index = function() error("boom") end,
                                 __tostring = function() error("bad tostring") end})
  has(help.text(evil), "no help for")
  has(help.text(coroutine.create(function() end)), "no help for thread")
  has(help.text(io.stdout), "FILE*")
  local out = tmpname(".txt")
  local f = assert(io.open(out, "w"))
  io.output(f)
  local ok = pcall(help, evil)
  help()
  help(nil)
  io.output():close()
  io.output(io.stdout)
  assert(ok, "help raised")
  local s = io.open(out):read("a")
  has(s, "no help for", "Modules")
end)

test("callable module: help(x) prints help.text(x)", function()
  local out = tmpname(".txt")
  local f = assert(io.open(out, "w"))
  io.output(f)
  help(kiln.potential.sw)
  io.output():close()
  io.output(io.stdout)
  local s = io.open(out):read("a")
  assert(s == help.text(kiln.potential.sw) .. "\n")
end)
