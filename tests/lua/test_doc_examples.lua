-- Every ```lua block of the user manual pages (doc/lua-api.md, doc/plot.md,
-- doc/repl.md) and README.md runs. Each block runs in its own environment over a
-- prelude of the names the prose assumes (a, pot, traj, md, atoms, t, e, temp,
-- q, omega, s). Small edits keep it fast and tidy: long runs are shortened, the
-- supercells are 2x2x2, file names go to tests/out, `...` placeholders in
-- function bodies are dropped, and help() returns its text instead of printing.
local kiln = require "kiln"
local help = require "kiln.help"

local PAGES = {"doc/lua-api.md", "doc/plot.md", "doc/repl.md", "README.md", "doc/qpoints.md",
               "doc/phonons.md", "doc/ins.md", "doc/correlators.md", "doc/correlators-sqw.md",
               "doc/correlators-more.md", "doc/descriptors.md", "doc/ml.md", "doc/train.md", "doc/dipole.md", "doc/oracle.md", "doc/active.md",
               "doc/snap.md", "doc/soap_gap.md", "doc/tds.md", "doc/coulomb.md",
               "doc/multislice-lua.md", "doc/lattice.md", "doc/fit.md", "doc/dielectric.md", "doc/phase.md",
               "doc/pimd.md", "doc/cv.md", "doc/metad.md", "doc/npt.md", "doc/effective_hamiltonian.md"}

local function blocks(file)
  local f = assert(io.open(file))
  local text = f:read("a")
  f:close()
  local out = {}
  for b in text:gmatch("```lua\n(.-)```") do out[#out + 1] = b end
  return out
end

local function adapt(src)
  local files = {}
  src = src:gsub("%) %.%.%. end", ") end")                      -- function(...) ... end
  src = src:gsub("supercell%(4, 4, 4%)", "supercell(2, 2, 2)")
  for _, n in ipairs{"10000", "2000"} do src = src:gsub("%f[%d]" .. n .. "%f[%D]", "40") end
  src = src:gsub("every = 1000", "every = 20")
  src = src:gsub([["([%w_]+%.(%w+))"]], function(name, ext)
    if ext == "h5" or ext == "chk" or ext == "png" or ext == "xyz" or ext == "svg" then
      local p = tmpname("_" .. name)
      files[#files + 1] = p
      return string.format("%q", p)
    end
  end)
  return src, files
end

local function prelude()
  local env = setmetatable({}, {__index = _G})
  env.kiln = kiln
  env.help = function(x) return help.text(x) end
  env.plot = require "kiln.plot"          -- doc/plot.md: local plot = require "kiln.plot"
  env.print = function() end
  env.a = kiln.Atoms{cell = {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}}, symbols = {"Ar", "Ar"},
                     positions = {{0, 0, 0}, {3.8, 0, 0}}}
  env.atoms = kiln.crystal.fcc{symbol = "Ar", a = 5.26}
  env.atoms:set_velocities{T = 50, seed = 1}
  env.pot = kiln.potential.lj{epsilon = 0.0104, sigma = 3.40, cutoff = 6.0}
  env.traj = kiln.io.trajectory(tmpname(".h5"), "w")
  env.md = kiln.md.verlet{dt = 1.0}
  env.t, env.e, env.temp = {0, 1, 2, 3}, {-1.0, -1.1, -1.05, -1.02}, {300, 310, 295, 301}
  env.q, env.omega = {0.1, 0.2, 0.3}, {1, 2}
  env.s = {{1, 2}, {3, 4}, {5, 6}}
  return env
end

for _, page in ipairs(PAGES) do
  for i, src in ipairs(blocks(page)) do
    test(page .. " example " .. i, function()
      local code, files = adapt(src)
      local env = prelude()
      local fn, err = load(code, "=" .. page .. "#" .. i, "t", env)
      assert(fn, err)
      local ok, msg = pcall(fn)
      env.traj:close()
      for _, f in ipairs(files) do           -- plots leave .gp/.dat beside the figure
        local stem = f:gsub("%.%a+$", "")
        os.remove(stem .. ".gp"); os.remove(stem .. ".dat")
      end
      assert(ok, msg)
    end)
  end
end

test("the manual has examples", function()
  local n = 0
  for _, page in ipairs(PAGES) do n = n + #blocks(page) end
  assert(n >= 10, n)
end)
