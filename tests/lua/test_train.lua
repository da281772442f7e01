-- kiln.train and kiln.json: JSON decoder, data readers (FitSNAP JSON, mlearn JSON,
-- extxyz), splits, metrics against hand-computed values, committees, and the fits:
-- a SNAP/qSNAP model refitted to data it generated reproduces its coefficients; GAP
-- interpolates its own training energies as the noise goes to 0.
local kiln = require "kiln"
local json = require "kiln.json"
local train = require "kiln.train"

local TA = "../shared/data/fitsnap-Ta-JCP2014/JSON"
local POT = "/usr/share/lammps/potentials/"

local function have(mod, field)
  local ok, m = pcall(require, mod)
  if not ok then return false end
  if field then
    local ok2, v = pcall(function() return m[field] end)
    return ok2 and v ~= nil
  end
  return true
end

local function have_style(kind, name)
  local ok = pcall(function() return kiln[kind][name] end)
  return ok
end

---------------------------------------------------------------- JSON
test("json: values, escapes, integers and floats", function()
  local v = json.decode('{"a": [1, -2.5e1, 0.0, true, false, null], "s": "x\\"\\u00e9\\ud83d\\ude00\\n", "o": {}}')
  assert(v.a[1] == 1 and math.type(v.a[1]) == "integer")
  assert(v.a[2] == -25.0 and math.type(v.a[2]) == "float")
  assert(v.a[3] == 0.0 and math.type(v.a[3]) == "float")
  assert(v.a[4] == true and v.a[5] == false and v.a[6] == json.null)
  assert(v.s == 'x"é😀\n', v.s)
  assert(next(v.o) == nil)
  local back = json.decode(json.encode(v))
  assert(back.a[2] == -25.0 and back.s == v.s)
  close(json.decode("[0.1]")[1], 0.1, 0)
end)

test("json: errors name line and column", function()
  local cases = {
    {'{"a": 1,}', "t.json:1:9: expected a string key"},
    {'[1, 2', "t.json:1:6: expected ',' or ']'"},
    {'{\n  "a" 1}', "t.json:2:7: expected ':' after key 'a'"},
    {'[01]', "t.json:1:2: bad number '01'"},
    {'[1.]', "t.json:1:4: bad number: digit expected after '.'"},
    {'["abc', "t.json:1:2: unterminated string"},
    {'{"a":1} x', "t.json:1:9: trailing 'x'"},
    {'[1,\n  tru]', "t.json:2:3: unexpected 't' (expected 'true')"},
    {'{"a":1,"a":2}', "t.json:1:8: duplicate key 'a'"},
    {'["a\tb"]', "t.json:1:4: control character"},
    {'', "t.json:1:1: unexpected end of input"},
  }
  for _, c in ipairs(cases) do
    checkerror(c[2], json.decode, c[1], {name = "t.json"})
  end
  -- comment lines before the value (FitSNAP files), and an error inside such a file
  assert(json.decode("# hi\n# there\n[1]", {comments = true})[1] == 1)
  checkerror("bad.json:3:19: expected a string key, got ','", json.read, "tests/data/train/bad.json")
end)

---------------------------------------------------------------- readers
test("FitSNAP reader: one group, counts and stress -> virial sign", function()
  local ds = train.read(TA, {group = "Displaced_A15"})
  assert(#ds == 9, #ds)
  local nat, nf = 0, 0
  for _, r in ipairs(ds) do
    nat = nat + #r.atoms
    nf = nf + 3 * r.forces:shape()
    assert(r.group == "Displaced_A15" and r.energy and r.virial)
  end
  assert(nat == 576 and nf == 1728, nat .. " " .. nf)   -- FitSNAP's metrics: 1728 force rows
  -- Volume_BCC: W_xx = -V dE/dV for an isotropic cell; the JSON "Stress" is the LAMMPS
  -- pressure tensor (positive = compressed), so W = +Stress*V
  local v = train.read(TA .. "/Volume_BCC")
  assert(#v == 21 and v[1].group == "Volume_BCC")
  table.sort(v, function(a, b) return a.atoms:volume() < b.atoms:volume() end)
  local checked = 0
  for i = 2, #v - 1 do
    local dEdV = (v[i + 1].energy - v[i - 1].energy) / (v[i + 1].atoms:volume() - v[i - 1].atoms:volume())
    local W = -v[i].atoms:volume() * dEdV
    local w = v[i].virial[1][1]
    if math.abs(W) > 3 then
      assert(W * w > 0, "virial sign: " .. W .. " vs " .. w)
      close(w, W, 0.1)
      checked = checked + 1
    end
  end
  assert(checked > 10)
  -- BCC_3.1: Stress 596204.82 bar, a = 3.1 Å, 2 atoms
  for _, r in ipairs(v) do
    if r.id == "Volume_BCC/BCC_3.1" then
      close(r.virial[1][1], 596204.82 * 3.1 ^ 3 / 1.602176634e6, 1e-12)
      close(r.energy, -22.620568, 1e-15)
    end
  end
  checkerror("no group 'Nope'", train.read, TA, {group = "Nope"})
end)

test("mlearn JSON reader (kbar, VASP order, pressure sign)", function()
  local ds = train.read("tests/data/train/mlearn_tiny.json")
  assert(#ds == 2 and ds[1].group == "Elastic" and ds[2].group == "Volume")
  assert(#ds[1].atoms == 2 and ds[1].energy == -21.5)
  close(ds[1].forces:get(1, 3), -0.2, 0)
  close(ds[2].atoms:positions():get(2, 1), 1.6, 1e-15)
  local s = 1e8 / 1.602176634e11 * 27   -- 1 kbar in eV/Å^3 times V
  close(ds[1].virial[1][1], 10 * s, 1e-12)
  close(ds[1].virial[1][2], 1 * s, 1e-12)   -- xy
  close(ds[1].virial[2][3], 2 * s, 1e-12)   -- yz
  close(ds[1].virial[1][3], 3 * s, 1e-12)   -- zx
end)

test("extxyz: mlearn file and a round trip through train.write", function()
  local ds = train.read("../shared/data/mlearn/Si_training.xyz")
  assert(#ds == 214, #ds)
  local r = ds[1]
  assert(r.group == "Vacancy" and r.energy == -295.49753016 and r.forces:shape() == 63)
  close(r.virial[1][1], -4.856013507, 1e-12)    -- the file's virial wins over its stress
  local f = tmpname(".xyz")
  train.write(f, {ds[1], ds[2]})
  local back = train.read(f)
  assert(#back == 2 and back[1].group == "Vacancy")
  close(back[2].energy, ds[2].energy, 0)
  for i = 1, #ds[2].atoms do
    for c = 1, 3 do close(back[2].forces:get(i, c), ds[2].forces:get(i, c), 0) end
  end
  for p = 1, 3 do for q = 1, 3 do close(back[1].virial[p][q], ds[1].virial[p][q], 0) end end
  -- a stress-only frame: virial = -stress*V
  local a = kiln.crystal.bcc{symbol = "Ta", a = 3.3}
  a.info = {energy = -23.0, stress = {0.01, 0, 0, 0, 0.02, 0, 0, 0, 0.03}}
  kiln.io.write(f, a)
  local s = train.read(f)
  close(s[1].virial[2][2], -0.02 * 3.3 ^ 3, 1e-14)
  -- malformed labels name the file, frame and key
  a.info = {energy = "high"}
  kiln.io.write(f, a)
  checkerror("frame 1: info 'energy' must be a number", train.read, f)
  a.info = {energy = 1.0, stress = {1, 2}}
  kiln.io.write(f, a)
  checkerror("xyz:2: stress: expected 9 or 6 numbers (got 2)", train.read, f)
  a.info = {energy = 1.0}
  kiln.io.write(f, a)
  checkerror("frame 1: no energy: info key 'E' is missing", train.read, f, {energy_key = "E"})
  checkerror("cannot open 'nope.xyz'", train.read, "nope.xyz")
  -- total_energy and polarization (e·Å) keys of the BaTiO3 set
  local b = train.read("../shared/data/batio3-allegro-pol/BaTiO3_tutorial59.xyz")
  assert(#b == 59 and b[1].dipole and b[1].energy and b[1].virial and b[1].forces:shape() == 135)
  checkerror("unknown option 'grop'", train.read, f, {grop = 1})
end)

---------------------------------------------------------------- splits
test("split: reproducible by seed, fractions, stratified by group, holdout", function()
  local ds = {}
  for i = 1, 100 do ds[i] = {atoms = kiln.Atoms(1), group = i <= 60 and "A" or (i <= 90 and "B" or "C"), id = i} end
  local s1 = train.split(ds, {fractions = {0.8, 0.1, 0.1}, seed = 5})
  local s2 = train.split(ds, {fractions = {0.8, 0.1, 0.1}, seed = 5})
  local s3 = train.split(ds, {fractions = {0.8, 0.1, 0.1}, seed = 6})
  assert(#s1.train == 80 and #s1.validation == 10 and #s1.test == 10)
  local same, diff = true, false
  for i = 1, 80 do
    if s1.train[i].id ~= s2.train[i].id then same = false end
    if s1.train[i].id ~= s3.train[i].id then diff = true end
  end
  assert(same and diff)
  local seen = {}
  for _, k in ipairs{"train", "validation", "test"} do
    for _, r in ipairs(s1[k]) do assert(not seen[r.id]); seen[r.id] = true end
  end
  local g = train.split(ds, {fractions = {0.5, 0.2, 0.3}, seed = 1, by = "group"})
  local function count(list, name) local n = 0 for _, r in ipairs(list) do if r.group == name then n = n + 1 end end return n end
  assert(count(g.train, "A") == 30 and count(g.validation, "A") == 12 and count(g.test, "A") == 18)
  assert(count(g.train, "B") == 15 and count(g.validation, "B") == 6 and count(g.test, "B") == 9)
  assert(count(g.train, "C") == 5 and count(g.validation, "C") == 2 and count(g.test, "C") == 3)
  local h = train.split(ds, {fractions = {0.9, 0, 0.1}, seed = 1, holdout = {"C"}})
  assert(count(h.train, "C") == 0 and count(h.test, "C") == 10 and #h.train == 81 and #h.test == 19)
  checkerror("fractions must add up to 1", train.split, ds, {fractions = {0.5, 0.2}})
end)

---------------------------------------------------------------- metrics
-- a fake model with fixed predictions: energies 3 and 3 for references 2 and 4 (2 atoms
-- each), forces off by (+0.1, -0.2, 0) on atom 1 and 0 on atom 2
local function fake_data()
  local ds = {}
  for i = 1, 2 do
    local a = kiln.crystal.bcc{symbol = "Ta", a = 3.3}
    local F = kiln.Array{{1, 2, 3}, {-1, -2, -3}}
    ds[i] = {atoms = a, energy = 2 * i, forces = F, group = i == 1 and "x" or "y",
             virial = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
  end
  local model = {predict_record = function(_, a)
    local F = kiln.Array{{1.1, 1.8, 3}, {-1, -2, -3}}
    return {energy = 3, forces = F, virial = {{1.5, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
  end}
  return ds, model
end

test("metrics: hand-computed RMSE, MAE, R2, per group; report text", function()
  local ds, model = fake_data()
  local m = train.metrics(model, ds, {by_group = true})
  -- energies per atom: ref 1, 2; pred 1.5, 1.5 -> errors 0.5, -0.5; R2 = 1 - 0.5/0.5 = 0
  close(m.energy.mae, 0.5, 1e-15); close(m.energy.rmse, 0.5, 1e-15); close(m.energy.r2, 0, 0, 1e-15)
  assert(m.energy.n == 2 and m.energy_total.n == 2)
  close(m.energy_total.mae, 1.0, 1e-15)
  -- forces: 12 components, errors 0.1 and 0.2 twice (once per structure)
  assert(m.force.n == 12)
  close(m.force.mae, (0.1 + 0.2) * 2 / 12, 1e-12)
  close(m.force.rmse, math.sqrt((0.01 + 0.04) * 2 / 12), 1e-12)
  local sst = 0
  for _, v in ipairs{1, 2, 3, 1, 2, 3} do sst = sst + 2 * v * v end   -- mean 0
  close(m.force.r2, 1 - 0.1 / sst, 1e-12)
  -- virial: one of 6 components off by 0.5 eV; stress in GPa = -W/V * 160.2
  close(m.virial.mae, 0.5 / 6, 1e-12)
  close(m.stress.mae, 0.5 / 6 / 3.3 ^ 3 * 160.21766208, 1e-9)
  close(m.groups.x.energy.mae, 0.5, 1e-15)
  assert(m.groups.y.energy.n == 1)
  local text = train.report(m, {print = false})
  assert(text:find("ALL", 1, true) and text:find("500", 1, true), text)
end)

test("parity plot and learning curve files", function()
  local plot = require "kiln.plot"
  if not plot.available() then skip("gnuplot not available") end
  local ds, model = fake_data()
  local f = tmpname("_parity.png")
  local out, err = train.parity(model, ds, {file = f})
  assert(out == f, err)
  local h = assert(io.open(f, "rb")); local sig = h:read(8); h:close()
  assert(sig == "\137PNG\r\n\26\n")
  os.remove((f:gsub("%.png$", ".gp"))); os.remove((f:gsub("%.png$", ".dat")))
  local lc = train.learning_curve{fit = function(sub) return model end, data = ds, test = ds,
                                  sizes = {1, 2}, seed = 1}
  assert(#lc.rows == 2 and lc.rows[1].size == 1 and lc.rows[2].test.energy.mae == 0.5)
  local sw = train.sweep{fit = function(p) return p.good and model or {predict_record = function(_, a)
      return {energy = 0, forces = kiln.Array(2, 3), virial = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}} end} end,
    grid = {good = {false, true}}, validation = ds}
  assert(#sw.points == 2 and sw.best.params.good == true)
end)

---------------------------------------------------------------- committees
test("committee: zero disagreement for identical members, positive otherwise", function()
  local a = kiln.crystal.fcc{symbol = "Ar", a = 5.3}:supercell(2, 2, 2)
  a:rattle{sigma = 0.05, seed = 3}
  local lj1 = kiln.potential.lj{epsilon = 0.0104, sigma = 3.40, cutoff = 6.0}
  local lj2 = kiln.potential.lj{epsilon = 0.0110, sigma = 3.38, cutoff = 6.0}
  local same = train.committee{members = {lj1, lj1, lj1}}
  local p = same:predict(a)
  assert(p.energy_std < 1e-12 and p.max_force_std < 1e-12, p.energy_std .. " " .. p.max_force_std)
  close(p.energy, lj1:energy(a), 1e-14)
  local c = train.committee{members = {lj1, lj2}}
  local q = c:predict(a)
  local e1, e2 = lj1:energy(a), lj2:energy(a)
  close(q.energy, (e1 + e2) / 2, 1e-13)
  close(q.energy_std, math.abs(e1 - e2) / 2, 1e-12)
  -- per-atom spread: rms over members of |F_m - F_mean| = |F1 - F2| / 2
  local F1 = lj1:compute(a).forces
  local F2 = lj2:compute(a).forces
  local d = math.sqrt((F1:get(5, 1) - F2:get(5, 1)) ^ 2 + (F1:get(5, 2) - F2:get(5, 2)) ^ 2 +
                      (F1:get(5, 3) - F2:get(5, 3)) ^ 2) / 2
  close(q.force_std:get(5, 1), d, 1e-12)
  assert(q.max_force_std > 0)
  local dis = c:disagreement{{atoms = a}}
  assert(dis[1].max_force_std > 0)
  assert(c:potential() == lj1)   -- not SNAP: the first member
  -- fit-driven committees (kfold, bootstrap) call fit k times with disjoint folds
  local ds = {}
  for i = 1, 6 do ds[i] = {atoms = a, energy = i} end
  local seen = {}
  local kf = train.committee{fit = function(sub, i) seen[i] = #sub; return lj1 end, data = ds, k = 3,
                             method = "kfold", seed = 2}
  assert(kf.k == 3 and seen[1] == 4 and seen[2] == 4 and seen[3] == 4)
  checkerror("method must be", train.committee, {fit = function() return lj1 end, data = ds, method = "x"})
end)

---------------------------------------------------------------- fits (need kiln.descriptor / kiln.ml)
local function ml_ready()
  if not (have("kiln.descriptor", "snap") and have("kiln.ml", "ridge")) then
    skip("kiln.descriptor / kiln.ml not available yet")
  end
  if not have_style("potential", "snap") then skip("kiln.potential.snap not available yet") end
end

-- rattled, strained bcc Ta cells of 2 and 16 atoms
local function ta_cells(n, seed)
  local out = {}
  for i = 1, n do
    local a = kiln.crystal.bcc{symbol = "Ta", a = 3.25 + 0.04 * (i % 4)}
    if i % 2 == 0 then a = a:supercell(2, 2, 2) end
    local c = a:cell()
    c[1][2] = 0.05 * (i % 3)
    a:set_cell(c, {scale_atoms = true})
    a:rattle{sigma = 0.12, seed = seed + i}
    out[i] = a
  end
  return out
end

-- a perturbed copy of Ta06A (linear) or a random small qSNAP written by kiln.train
local function reference_snap(dir, quadratic)
  local snap = require "kiln.train.snap"
  local p = {twojmax = quadratic and 2 or 6, rcutfac = 4.67637, rfac0 = 0.99363, rmin0 = 0,
             elements = {"Ta"}, radelem = {0.5}, wj = {1}, switchflag = true, quadratic = quadratic}
  local c
  if not quadratic then
    c = snap.read_snapcoeff(POT .. "Ta06A.snapcoeff").coeff[1]
    for k = 2, #c do c[k] = c[k] * (1 + 0.1 * math.sin(k)) end
  else
    local nl = snap.snap_ncoeff(2)
    c = {-2.5}
    for k = 1, nl + nl * (nl + 1) // 2 do c[k + 1] = 0.02 * math.cos(3 * k) end
  end
  local files = snap.write_snap(dir .. (quadratic and "/q" or "/lin"), p, {c})
  return kiln.potential.snap{coeff = files.coeff, param = files.param}, c, p
end

local function refit_check(quadratic)
  ml_ready()
  local dir = tmpname("_snapref")
  os.execute("mkdir -p " .. dir)
  local pot, c, p = reference_snap(dir, quadratic)
  local ds = train.label(ta_cells(quadratic and 16 or 8, 10), pot)
  local model = train.snap{data = ds, twojmax = p.twojmax, rcutfac = p.rcutfac, rfac0 = p.rfac0,
                           rmin0 = 0, radelem = 0.5, wj = 1, elements = {"Ta"}, quadratic = quadratic,
                           lambda = 0, weights = {default = {energy = 1, force = 1, virial = 1}},
                           out = dir .. "/fit"}
  local x = model.coefficients[1]
  assert(#x == #c, #x .. " vs " .. #c)
  local maxc = 0
  for k = 1, #c do maxc = math.max(maxc, math.abs(c[k])) end
  for k = 1, #c do close(x[k], c[k], 0, 1e-8 * maxc) end
  assert(model.metrics.force.rmse < 1e-8, model.metrics.force.rmse)
  -- the written files read back as the same potential
  local e1 = pot:energy(ds[1].atoms)
  close(model.potential:energy(ds[1].atoms), e1, 1e-9)
  os.execute("rm -rf " .. dir)
end

test("SNAP refitted to data it generated reproduces its coefficients", function()
  refit_check(false)
end)

test("qSNAP refitted to data it generated reproduces its coefficients", function()
  refit_check(true)
end)

test("train.write keeps reference forces of structures built in memory (no forces prop)", function()
  local a = kiln.crystal.bcc{symbol = "Ta", a = 3.3}:supercell(2, 1, 1)
  a:rattle{sigma = 0.1, seed = 1}
  local lj = kiln.potential.lj{epsilon = 0.01, sigma = 2.5, cutoff = 5}
  local ds = train.label({a, a:copy()}, lj)
  ds[2].forces = nil
  local file = tmpname(".xyz")
  train.write(file, ds)
  local back = train.read(file)
  assert(#back == 2 and back[2].forces == nil)
  for j = 1, #a do for c = 1, 3 do close(back[1].forces:get(j, c), ds[1].forces:get(j, c), 1e-14, 1e-16) end end
  os.remove(file)
end)

test("two-element qSNAP (Nb/Mo) refitted to data it generated reproduces both elements' coefficients", function()
  ml_ready()
  local pot = kiln.potential.snap{coeff = "tests/data/snap_q2.snapcoeff", param = "tests/data/snap_q2.snapparam"}
  local snapio = require "kiln.train.snap"
  local ref = snapio.read_snapcoeff("tests/data/snap_q2.snapcoeff")
  local frames = {}
  for i = 1, 10 do
    local a = kiln.crystal.bcc{symbol = "Nb", a = 3.25 + 0.01 * i}:supercell(2, 2, 2)
    for k = 1, #a, 2 + i % 4 do a:set_symbol(k, "Mo") end   -- compositions vary: beta0 per element
    a:rattle{sigma = 0.12, seed = 40 + i}
    frames[i] = a
  end
  local ds = train.label(frames, pot)
  local dir = tmpname("_snapq2")
  os.execute("mkdir -p " .. dir)
  local model = train.snap{data = ds, twojmax = 4, rcutfac = 4.1, rfac0 = 0.97, rmin0 = 0.3,
                           elements = ref.elements, radelem = ref.radelem, wj = ref.wj,
                           quadratic = true, bzeroflag = true, lambda = 0,
                           weights = {default = {energy = 1, force = 1, virial = 1}}, out = dir .. "/fit"}
  for e = 1, 2 do
    local x, c = model.coefficients[e], ref.coeff[e]
    assert(#x == #c, #x .. " vs " .. #c)
    local maxc = 0
    for k = 1, #c do maxc = math.max(maxc, math.abs(c[k])) end
    for k = 1, #c do close(x[k], c[k], 0, 1e-7 * maxc) end
  end
  assert(model.metrics.force.rmse < 1e-7, model.metrics.force.rmse)
  os.execute("rm -rf " .. dir)
end)

test("SNAP committee: mean of coefficients is a SNAP model; kfold members differ", function()
  ml_ready()
  local dir = tmpname("_snapcom")
  os.execute("mkdir -p " .. dir)
  local pot = reference_snap(dir, false)
  local ds = train.label(ta_cells(8, 40), pot)
  for i, r in ipairs(ds) do r.energy = r.energy + 0.01 * math.sin(i) end   -- noise
  local com = train.committee{data = ds, k = 4, method = "kfold", seed = 3, fit = function(sub, i)
    return train.snap{data = sub, twojmax = 6, elements = {"Ta"}, lambda = 1e-6, metrics = false,
                      out = dir .. "/m" .. i}
  end}
  local mean = com:potential()
  assert(mean.style == "snap" and com.mean_model)
  local x = com.mean_model.coeff
  local s = 0
  for _, m in ipairs(com.members) do s = s + m.coeff:get(2, 1) end
  close(x:get(2, 1), s / 4, 1e-12)
  local d = com:disagreement(ds)
  assert(d[1].max_force_std > 0)
  os.execute("rm -rf " .. dir)
end)

test("GAP interpolates its own training energies as noise -> 0", function()
  if not (have("kiln.descriptor", "soap") and have("kiln.ml", "sgpr")) then
    skip("kiln.descriptor.soap / kiln.ml.sgpr not available yet")
  end
  if not have_style("potential", "soap_gap") then skip("kiln.potential.soap_gap not available yet") end
  local sw = kiln.potential.sw{file = POT .. "Si.sw"}
  local frames = {}
  for i = 1, 4 do
    local a = kiln.crystal.diamond{symbol = "Si", a = 5.40 + 0.03 * i}
    a:rattle{sigma = 0.1, seed = i}
    frames[i] = a
  end
  local ds = train.label(frames, sw)
  local dir = tmpname("_gap")
  local errs = {}
  for k, s in ipairs{1e-2, 1e-7} do
    local model = train.gap{data = ds, soap = {nmax = 4, lmax = 3, cutoff = 4.0, elements = {"Si"}},
                            nsparse = "all", zeta = 2, sigma = {energy = s, force = false},
                            out = dir .. k}
    local e = 0
    for _, r in ipairs(ds) do e = math.max(e, math.abs(model.potential:energy(r.atoms) - r.energy)) end
    errs[k] = e
    os.remove(dir .. k .. ".gap")
  end
  assert(errs[2] < 1e-5, "max energy error at sigma 1e-7: " .. errs[2])
  assert(errs[2] < errs[1], errs[1] .. " " .. errs[2])
end)
