-- kiln.correlator through Lua: construction and errors, results as tables of
-- kiln.Array with units, the md:run observer, feeding from files, HDF5 output
-- (read back with h5dump), the unit helpers. Style physics is tested by each
-- style's own tests; here the numbers checked are ones the binding must carry
-- exactly (VACF of prescribed velocities, identical offline/in-situ results).
local kiln = require "kiln"
local core = require "kiln.c.core"

local quiet = {thermo = 0, progress = false}
local function opts(t)
  local o = {thermo = 0, progress = false}
  for k, v in pairs(t or {}) do o[k] = v end
  return o
end

local function argon(seed)
  local a = kiln.crystal.fcc{symbol = "Ar", a = 5.26}:supercell(2, 2, 2)
  a:rattle{sigma = 0.02, seed = 4}
  a:set_velocities{T = 40, seed = seed or 1}
  return a
end
local function lj() return kiln.potential.lj{epsilon = 0.0104, sigma = 3.40, cutoff = 6.0} end

-- every kiln.Array leaf of a result, by dotted path
local function leaves(t, prefix, out)
  out = out or {}
  for k, v in pairs(t) do
    if k ~= "units" and k ~= "descriptions" and k ~= "attrs" then
      local p = (prefix and prefix .. "." or "") .. k
      local mt = getmetatable(v)
      if type(mt) == "table" and mt.__name == "kiln.Array" then out[p] = v
      elseif type(v) == "table" then leaves(v, p, out) end
    end
  end
  return out
end

local function at(t, path)
  for k in path:gmatch("[^.]+") do t = t and t[k] end
  return t
end

local function same_array(a, b)
  local ra, ca = a:shape()
  local rb, cb = b:shape()
  if ra ~= rb or ca ~= cb then return false end
  for i = 1, ra do
    for j = 1, ca do
      local x, y = a:get(i, j), b:get(i, j)
      if x ~= y and not (x ~= x and y ~= y) then return false end
    end
  end
  return true
end

local function same_result(r1, r2)
  local l1, l2 = leaves(r1), leaves(r2)
  local n = 0
  for p, a in pairs(l1) do
    assert(l2[p], "missing " .. p)
    assert(same_array(a, l2[p]), "differs: " .. p)
    n = n + 1
  end
  for p in pairs(l2) do assert(l1[p], "extra " .. p) end
  return n
end

-- h5dump (if installed): numbers of a dataset, and a scalar attribute
local function h5dump_ok() return os.execute("h5dump --version >/dev/null 2>&1") == true end
local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local s = p:read("a")
  p:close()
  return s
end
local function h5values(file, path)
  local s = run(string.format("h5dump -y -w 0 -m %%.17g -d '%s' '%s'", path, file))
  local dims = s:match("DATASPACE%s+SIMPLE%s+{%s+%(([^)]*)%)")
  local data = s:match("DATA%s+{(.-)}")
  assert(dims and data, "h5dump " .. path .. ": " .. s:sub(1, 300))
  local d, v = {}, {}
  for x in dims:gmatch("%d+") do d[#d + 1] = tonumber(x) end
  for x in data:gmatch("[^,%s]+") do v[#v + 1] = tonumber(x) end
  return v, d
end
local function h5attr(file, path)
  local s = run(string.format("h5dump -a '%s' '%s'", path, file))
  local v = s:match("DATA%s+{%s*%(0%):%s*(.-)%s*}")
  assert(v, "h5dump attribute " .. path .. ": " .. s:sub(1, 300))
  local str = v:match('^"(.*)"$')
  if not str then return tonumber(v) end
  -- h5dump prints non-ASCII bytes as octal escapes (sign-extended: \37777777703 = 0xC3)
  return (str:gsub("\\(%d+)", function(o) return string.char(tonumber(o, 8) % 256) end))
end
local function tmp_leftovers(file)
  local dir = file:match("^(.*)/") or "."
  local base = file:match("([^/]*)$")
  return run(string.format("ls '%s' | grep -F '%s.tmp.' || true", dir, base)) ~= ""
end

---------------------------------------------------------------- construction

test("styles, records and help", function()
  local names = {}
  for _, r in ipairs(kiln.correlator.styles()) do
    names[r.name] = true
    assert(r.kind == "correlator" and type(r.description) == "string")
    assert(kiln.correlator[r.name] ~= nil)
    local h = kiln.correlator[r.name].__help
    assert(h:find("kiln.correlator." .. r.name .. "{...}", 1, true))
  end
  for _, n in ipairs{"sqw", "vacf", "green", "dipole", "spatial"} do assert(names[n], n) end
  local help = require "kiln.help"
  assert(help.text(kiln.correlator):find("kiln.correlator.feed", 1, true))
  assert(help.text(kiln.correlator.vacf):find("window", 1, true))
  local c = kiln.correlator.vacf{window = 4}
  assert(help.text(c):find("c:add(atoms[, time])", 1, true))
  assert(help.text("kiln.Correlator:result"):find("res.units", 1, true))
end)

test("unknown style lists the styles", function()
  local msg = checkerror("unknown correlator style 'nosuch'", function() return kiln.correlator.nosuch end)
  assert(msg:find("sqw, vacf, green, dipole, spatial", 1, true), msg)
  msg = checkerror("unknown correlator style 'nosuch'", kiln.correlator.new, "nosuch", {})
  assert(msg:find("(styles: sqw, vacf, green, dipole, spatial)", 1, true), msg)
end)

test("unknown option named, errors at the caller's line", function()
  local msg = checkerror("unknown option 'windwo'", kiln.correlator.vacf, {windwo = 10})
  assert(msg:find("options: window", 1, true), msg)
  -- errors blame the line of the call in this file, not the stdlib
  local ok, m = pcall(function() local c = kiln.correlator.vacf{windwo = 10}; return c end)
  assert(not ok and m:find("^[^:]*test_correlator%.lua:%d+: correlator vacf: unknown option"), m)
  checkerror("bad argument #1 to 'kiln.correlator.vacf' (options table expected, got number)",
             kiln.correlator.vacf, 5)
  checkerror("dt must be a positive time in fs (got -1)", kiln.correlator.vacf, {dt = -1})
end)

test("result before any frame is an error", function()
  local c = kiln.correlator.vacf{window = 4, dt = 1}
  checkerror("correlator vacf: no frames yet (attach it to md:run or feed it frames)", c.result, c)
  checkerror("no frames yet", c.write, c, tmpname(".h5"))
  assert(c.nframes == 0 and c.dt == 1 and c.style == "vacf")
  assert(tostring(c) == "kiln.Correlator(vacf, frames=0, dt=1 fs)", tostring(c))
  local d = kiln.correlator.vacf{window = 4}
  assert(d.dt == nil and tostring(d) == "kiln.Correlator(vacf, frames=0)")
end)

test("closed correlator", function()
  local c = kiln.correlator.vacf{window = 4}
  assert(c:isopen())
  c:close()
  assert(not c:isopen())
  checkerror("attempt to use a closed kiln.Correlator", c.add, c, argon())
  checkerror("attempt to use a closed kiln.Correlator (field 'nframes')", function() return c.nframes end)
  assert(tostring(c) == "kiln.Correlator (closed)")
  c:close() -- twice is fine
end)

---------------------------------------------------------------- results

test("vacf of prescribed velocities: exact numbers, units, attributes", function()
  -- two atoms, v1 = (s, 0, 0), v2 = (0, 2s, 0) with s = ±0.01 alternating in sign every
  -- frame: Z(τ) = mean_j <v_j(0).v_j(τ)> = (-1)^τ (s² + 4s²)/2 exactly
  local a = kiln.Atoms{cell = {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}}, symbols = {"Ar", "Ne"},
                       positions = {{0, 0, 0}, {5, 5, 5}}}
  local c = kiln.correlator.vacf{window = 5}
  local s = 0.01
  for k = 0, 19 do
    local sg = (k % 2 == 0) and 1 or -1
    a:set_velocities{{sg * s, 0, 0}, {0, sg * 2 * s, 0}}
    assert(c:add(a, 2.0 * k) == c)
  end
  assert(c.nframes == 20 and c.dt == 2.0)
  local res = c:result()
  assert(res.style == "vacf" and res.nframes == 20 and res.dt == 2)
  assert(math.type(res.nframes) == "integer")
  assert(res.attrs.nframes == 20 and res.attrs.window == 5)
  local z = res.vacf
  assert(getmetatable(z).__name == "kiln.Array" and #z == 5)
  for tau = 0, 4 do close(z[tau + 1], (tau % 2 == 0 and 1 or -1) * 2.5 * s * s, 1e-12) end
  -- per species: Ar s², Ne 4 s²
  close(res.vacf_partial.Ar[1], s * s, 1e-12)
  close(res.vacf_partial.Ne[2], -4 * s * s, 1e-12)
  close(res.time[5], 8.0, 1e-15)
  assert(res.units.vacf == "Å²/fs²" and res.units.time == "fs" and res.units.omega == "rad/fs")
  assert(res.units.vacf_partial.Ar == "Å²/fs²")
  assert(type(res.descriptions.vacf) == "string" and #res.descriptions.vacf > 0)
  -- every array has a unit at the same path
  for p in pairs(leaves(res)) do assert(type(at(res.units, p)) == "string", p) end
  assert(tostring(res):find("vacf_partial.Ne", 1, true))
  -- results are snapshots: more frames later do not change an earlier table
  c:add(a, 40.0)
  assert(c.nframes == 21 and res.nframes == 20)
end)

test("frame timing errors", function()
  local a = argon()
  local c = kiln.correlator.vacf{window = 4}
  c:add(a, 0.0):add(a, 5.0)
  checkerror("frames are not evenly spaced: frame 2 comes 7 fs after the previous one, expected 5 fs",
             c.add, c, a, 12.0)
  checkerror("bad argument #2 to 'add' (finite time (fs) expected)", c.add, c, a, 0 / 0)
  checkerror("bad argument #1 to 'add' (kiln.Atoms expected, got number)", c.add, c, 3)
  local d = kiln.correlator.vacf{window = 4}
  d:add(a):add(a)
  checkerror("the frames carry no time; give the frame spacing as the dt option", d.result, d)
end)

test("options: Arrays, kiln.qpoints tables and kiln.Atoms unit cells", function()
  local a = argon()
  local ok = pcall(kiln.correlator.sqw, {q = {{0.5, 0, 0}}, window = 4})
  if not ok then skip("sqw style not available") end
  local q = kiln.Array{{2 * math.pi / 5.26 * 0.5, 0, 0}, {2 * math.pi / 5.26, 0, 0}}
  local s1 = kiln.correlator.sqw{q = q, window = 4, dt = 5}
  -- a kiln.qpoints-style table {q=, hkl=}: its q (and hkl) are used
  local hkl = kiln.Array{{1, 0, 0}, {2, 0, 0}}
  local s2 = kiln.correlator.sqw{q = {q = q, hkl = hkl, labels = {"a", "b"}}, window = 4, dt = 5}
  for k = 1, 6 do
    a:rattle{sigma = 0.01, seed = k}
    s1:add(a)
    s2:add(a)
  end
  local r1, r2 = s1:result(), s2:result()
  assert(same_array(r1.q, q) and same_array(r2.q, q))
  assert(same_array(r2.hkl, hkl))
  assert(same_array(r1.fqt_coh, r2.fqt_coh))
  -- a real kiln.qpoints path (a table with a metatable and __len) works the same way
  local okq, path = pcall(function() local p = kiln.qpoints.path(a, {"G", "X"}); return p end)
  if okq then
    local s3 = kiln.correlator.sqw{q = path, window = 4, dt = 5}
    for _ = 1, 3 do s3:add(a) end
    local r3 = s3:result()
    assert(same_array(r3.q, path.q) and same_array(r3.hkl, path.hkl))
  end
  -- green: unitcell = kiln.Atoms is {cell=, positions=}
  local uc = kiln.crystal.fcc{symbol = "Ar", a = 5.26}
  -- (and Array rows q[i] inside an option table are lists of numbers; a vector Array a list)
  local g1 = kiln.correlator.green{unitcell = uc, supercell = kiln.Array{2, 2, 2}, T = 40,
                                   path = {q[1], q[2]}}
  local g2 = kiln.correlator.green{unitcell = {cell = uc:cell(), positions = uc:positions()},
                                   supercell = {2, 2, 2}, T = 40, path = {q = q}}
  local b = uc:supercell(2, 2, 2)
  for k = 1, 5 do
    b:rattle{sigma = 0.02, seed = 10 + k}
    g1:add(b, 10.0 * k)
    g2:add(b, 10.0 * k)
  end
  local r1g = g1:result()
  assert(#r1g.freq_path == 2)
  assert(same_result(r1g, g2:result()) > 3)
end)

---------------------------------------------------------------- md:run

test("md:run observer: every, per-observer every, in situ = fed by hand", function()
  local a = argon()
  local md = kiln.md.verlet{dt = 2.0}
  local c1 = kiln.correlator.vacf{window = 8}
  local c2 = kiln.correlator.vacf{window = 8}
  local c3 = kiln.correlator.vacf{window = 8}
  local mid
  md:run(a, lj(), 60, opts{every = 2, observe = {
    c1, {c2, every = 5},
    function(step, atoms, th)
      c3:add(atoms, th.time)
      if step == 30 then mid = c1:result() end     -- mid-run results are allowed
      if step == 40 then
        checkerror("cannot close a kiln.Correlator while it is in use", c1.close, c1)
      end
    end}})
  assert(c1.nframes == 30 and c2.nframes == 12 and c3.nframes == 30)
  assert(c1.dt == 4.0 and c2.dt == 10.0)
  assert(mid.nframes == 15)
  -- the same frames in situ and by hand give bit-identical results
  assert(same_result(c1:result(), c3:result()) >= 4)
  -- the run keeps going after the run: more frames
  md:run(a, lj(), 10, opts{every = 2, observe = {c1}})
  assert(c1.nframes == 35)
  checkerror("md:run: observer 1: unknown key 'evry'", md.run, md, a, lj(), 2,
             opts{observe = {{c1, evry = 2}}})
  c1:close()
  checkerror("md:run: attempt to use a closed kiln.Correlator as an observer", md.run, md, a, lj(),
             2, opts{observe = {c1}})
end)

test("observer error stops the run with the correlator's message", function()
  local a = argon()
  local md = kiln.md.verlet{dt = 2.0}
  local c = kiln.correlator.vacf{window = 4, dt = 3.0}   -- wrong dt: frames come every 2 fs
  local msg = checkerror("frames are not evenly spaced", md.run, md, a, lj(), 10, opts{observe = {c}})
  assert(msg:find("expected 3 fs (the dt option)", 1, true), msg)
end)

---------------------------------------------------------------- files

test("feed from a trajectory file = in situ; several at once; start/stop/every", function()
  local a = argon(7)
  local f = tmpname(".h5")
  local traj = kiln.io.trajectory(f, "w")
  local insitu = kiln.correlator.vacf{window = 6}
  local md = kiln.md.verlet{dt = 2.0}
  md:run(a, lj(), 40, opts{every = 2, observe = {traj, insitu}})
  traj:close()
  local c1, c2 = kiln.correlator.vacf{window = 6}, kiln.correlator.vacf{window = 6, step = 2}
  kiln.correlator.feed(f, {c1, c2}, {progress = false})
  assert(c1.nframes == 20 and c2.nframes == 20 and c1.dt == 4.0)
  assert(same_result(c1:result(), insitu:result()) >= 4)
  -- method form, and a frame range: frames 3..12, every 3rd -> 3, 6, 9, 12
  local c3 = kiln.correlator.vacf{window = 3}
  assert(c3:feed(f, {start = 3, stop = 12, every = 3, progress = false}) == c3)
  assert(c3.nframes == 4 and c3.dt == 12.0)
  kiln.correlator.feed(f, c3, {start = 15, stop = 15, progress = false})
  assert(c3.nframes == 5)
  checkerror("entries 1 and 2 are the same correlator", kiln.correlator.feed, f, {c1, c1})
  checkerror("entry 2: kiln.Correlator expected, got number", kiln.correlator.feed, f, {c1, 5})
  checkerror("unknown option 'strat'", kiln.correlator.feed, f, {c1}, {strat = 2})
  checkerror("start is a 1-based frame number >= 1 (got 0)", kiln.correlator.feed, f, {c1}, {start = 0})
  checkerror("no correlators given", kiln.correlator.feed, f, {})
  checkerror("cannot open", kiln.correlator.feed, "tests/out/no_such_file.h5", {c1})
  -- Ctrl-C stops cleanly; the frames fed so far stay
  local c4 = kiln.correlator.vacf{window = 3}
  core.set_interrupted(true)
  checkerror("interrupted! (after 1 frames of", c4.feed, c4, f, {progress = false})
  assert(c4.nframes == 1)
end)

test("HDF5: write, read back, nested groups, attributes, atomic, append", function()
  if not h5dump_ok() then skip("h5dump not installed") end
  local a = kiln.Atoms{cell = {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}}, symbols = {"Ar", "Ne"},
                       positions = {{0, 0, 0}, {5, 5, 5}}}
  local c = kiln.correlator.vacf{window = 4}
  for k = 0, 9 do
    a:set_velocities{{0.01 * math.sin(k), 0, 0.003}, {0, 0.02 * math.cos(k), 0.001 * k}}
    c:add(a, 1.5 * k)
  end
  local res = c:result()
  local f = tmpname(".h5")
  assert(c:write(f) == c)
  assert(not tmp_leftovers(f))
  local v, d = h5values(f, "/vacf")
  assert(#d == 1 and d[1] == 4 and #v == 4)
  for i = 1, 4 do assert(v[i] == res.vacf[i], i) end          -- %.17g: exact
  v, d = h5values(f, "/vacf_partial/Ne")
  for i = 1, 4 do assert(v[i] == res.vacf_partial.Ne[i]) end
  assert(h5attr(f, "/vacf/unit") == "Å²/fs²")
  assert(h5attr(f, "/vacf_partial/Ne/unit") == "Å²/fs²")
  assert(h5attr(f, "/omega/unit") == "rad/fs")
  assert(h5attr(f, "/vacf/description") == res.descriptions.vacf)
  assert(h5attr(f, "/style") == "vacf" and h5attr(f, "/dt") == 1.5 and h5attr(f, "/nframes") == 10)
  -- append a group; an existing group is an error and leaves the file as it was
  c:write(f, {group = "run2/vacf", append = true})
  v = h5values(f, "/run2/vacf/vacf")
  assert(v[3] == res.vacf[3])
  assert(h5values(f, "/vacf")[2] == res.vacf[2])
  checkerror("group '/run2/vacf' already exists", c.write, c, f, {group = "run2/vacf", append = true})
  checkerror("unknown option 'grp'", c.write, c, f, {grp = "x"})
  -- without append the file is replaced (atomically)
  c:write(f, {group = "only"})
  assert(h5values(f, "/only/vacf")[1] == res.vacf[1])
  assert(not run("h5ls '" .. f .. "'"):find("run2", 1, true))
  assert(not tmp_leftovers(f))
  checkerror("cannot create", c.write, c, "tests/out/no/such/dir/x.h5")
end)

test("kiln.correlator.write: a result table made in Lua", function()
  if not h5dump_ok() then skip("h5dump not installed") end
  local f = tmpname(".h5")
  local res = {
    energy = kiln.Array{0.5, 1.5, 2.5},
    map = {{1, 2}, {3, 4}, {5, 6}},                          -- a plain table of rows
    sub = {deep = {x = kiln.Array{{1.25, -2}}}},
    units = {energy = "meV", ["map"] = "1/meV", sub = {deep = {x = "Å"}}},
    descriptions = {energy = "energy transfer"},
    T = 300, instrument = "ARCS",
    attrs = {T = 1, Ei = 60},                                -- plain fields win over attrs
  }
  kiln.correlator.write(f, res, {group = "spectrum"})
  local v, d = h5values(f, "/spectrum/map")
  assert(d[1] == 3 and d[2] == 2 and v[4] == 4)
  v, d = h5values(f, "/spectrum/sub/deep/x")
  assert(d[1] == 1 and d[2] == 2 and v[1] == 1.25 and v[2] == -2)
  assert(h5attr(f, "/spectrum/energy/unit") == "meV")
  assert(h5attr(f, "/spectrum/energy/description") == "energy transfer")
  assert(h5attr(f, "/spectrum/map/unit") == "1/meV")
  assert(h5attr(f, "/spectrum/sub/deep/x/unit") == "Å")
  assert(h5attr(f, "/spectrum/T") == 300 and h5attr(f, "/spectrum/Ei") == 60)
  assert(h5attr(f, "/spectrum/instrument") == "ARCS")
  -- a correlator result round-trips through write
  local c = kiln.correlator.vacf{window = 3, dt = 1}
  local a = argon()
  for _ = 1, 4 do c:add(a) end
  kiln.correlator.write(f, c:result(), {group = "vacf", append = true})
  assert(h5attr(f, "/vacf/vacf_partial/Ar/unit") == "Å²/fs²")
  checkerror("bad argument #2 to 'kiln.correlator.write' (result table expected, got no value)",
             kiln.correlator.write, f)
  checkerror("'sub/deep': attributes (numbers, strings) must be top-level fields",
             kiln.correlator.write, f, {sub = {deep = 3}})
end)

---------------------------------------------------------------- units

test("unit helpers", function()
  close(kiln.correlator.to_meV(1.0), 658.2119569, 1e-9)       -- ħ in meV fs
  close(kiln.correlator.to_THz(2 * math.pi), 1000.0, 1e-12)   -- 2π rad/fs = 1000 THz
  local w = kiln.Array{0.0, 0.01, 0.02}
  local e = kiln.correlator.to_meV(w)
  assert(getmetatable(e).__name == "kiln.Array" and e ~= w and w[2] == 0.01)
  close(e[3], 0.02 * 658.2119569, 1e-9)
  local t = kiln.correlator.convert({1, 2}, "THz", "meV")
  close(t[2], 2 * 4.135667696, 1e-9)
  checkerror("cannot convert", kiln.correlator.convert, 1, "rad/fs", "Å")
end)

test("sqw currents from frames without velocities: a clear error, not zero currents", function()
  local a = argon(1)
  local still = a:copy()
  still:set_velocities{T = 0, seed = 1}
  local sq = kiln.correlator.sqw{q = {{2 * math.pi / 5.26, 0, 0}}, window = 4, dt = 1.0,
                                 currents = true}
  checkerror("velocities are all zero", sq.add, sq, still)
  local ok = kiln.correlator.sqw{q = {{2 * math.pi / 5.26, 0, 0}}, window = 4, dt = 1.0,
                                 currents = true}
  ok:add(a)
  assert(ok.nframes == 1)
end)
