-- kiln.multislice: multislice propagation, frozen-phonon diffraction (Einstein, harmonic
-- phonons, MD frames, an md:run observer), STEM detectors and 4D-STEM files.
-- See doc/multislice-lua.md. The numerics are in C (src/wave/, include/kiln/frozen.h).
--
--   local ms = kiln.multislice.new{energy=200e3, gpts={512,512} | sampling=0.05, slice=1.95,
--                                  projection="infinite", precision="float32", threads=0}
--   ms:diffraction(atoms | {atoms, ...}[, {crop=, probe=}]) -> pattern
--   ms:frozen_phonons{atoms=, source="einstein", sigma={Sr=, Ti=, O=}, n=, seed=} -> pattern
--   ms:frozen_phonons{source="phonons", phonons=ph, T=, quantum=, n=, seed=, zone=}
--   ms:frozen_phonons{source={atoms...} | "traj.h5", every=, start=, stop=}
--   local fp = ms:observer{every=10}; md:run(a, pot, n, {observe={fp}}); fp:result()
--   ms:stem{atoms=, scan={...}, semiangle=, aberrations=, detectors={bf={0,10}, ...},
--           file="4d.h5", source_size=, sigma=, configs=} -> {bf=Array, ..., x=, y=}
--   ms:propagate(wave, atoms)
local cw = require "kiln.c.wave"
local argcheck = require "kiln.argcheck"
argcheck.internal()
local fail, check_keys = argcheck.fail, argcheck.check_keys

local M = {}
local MS = cw.Multislice.methods

local function typename(x)
  local mt = getmetatable(x)
  return type(mt) == "table" and rawget(mt, "__name") or type(x)
end

local function call(fname, f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then
    local msg = tostring(r[2]):gsub("^[^\n]-%.lua:%d+: ", "")
    msg = msg:gsub("^multislice: ", ""):gsub("^stem: ", ""):gsub("^frozen_phonons: ", "")
    msg = msg:gsub("^probe: ", ""):gsub("^kiln%.multislice%.new: ", "")
    msg = msg:gsub("^bad argument #(%d+) to '[^']*' ", "argument #%1 ")
    fail(fname, msg)
  end
  return table.unpack(r, 2, r.n)
end

M.new = function(o)
  if type(o) ~= "table" then
    fail("kiln.multislice.new", "options {energy=, gpts= | sampling=, slice=, ...} expected")
  end
  return call("kiln.multislice.new", cw.new_multislice, o)
end

-- the atoms of x: one kiln.Atoms or a list of them
local function atoms_list(fname, x, what)
  if typename(x) == "kiln.Atoms" then return {x} end
  if type(x) ~= "table" or #x == 0 then
    fail(fname, (what or "atoms") .. ": kiln.Atoms or a non-empty list of kiln.Atoms expected (got " ..
                typename(x) .. ")")
  end
  for i, a in ipairs(x) do
    if typename(a) ~= "kiln.Atoms" then
      fail(fname, string.format("%s[%d]: kiln.Atoms expected (got %s)", what or "atoms", i, typename(a)))
    end
  end
  return x
end

local function set_probe(fname, ms, probe)
  if probe ~= nil and type(probe) ~= "table" then
    fail(fname, "probe must be a table {x=, y=, semiangle=, aberrations=, source_size=}")
  end
  call(fname, MS._incident, ms, probe)
end

-- the mean pattern of what ms has accumulated
local function result(ms, o, fname)
  fname = fname or "multislice:result"
  o = check_keys(fname, o, {"crop"})
  local I, count, cx, cy = call(fname, MS._mean, ms, o.crop)
  return {I = I, dk = {1 / ms.lx, 1 / ms.ly}, extent = {ms.lx, ms.ly}, count = count,
          centre = {cx, cy}, energy = ms.energy, wavelength = ms.wavelength, kmax = ms.kmax,
          thickness = ms.thickness, crop = o.crop and true or false,
          recip = {{1 / ms.lx, 0}, {0, 1 / ms.ly}}}
end

function MS.result(ms, o) return result(ms, o) end
function MS.count_(ms) return ms.count end

-- ms:diffraction(atoms | list[, {crop=, probe=}]) -> pattern (mean over the list)
function MS.diffraction(ms, x, o)
  local fname = "multislice:diffraction"
  o = check_keys(fname, o, {"crop", "probe"})
  local list = atoms_list(fname, x)
  ms:reset()
  set_probe(fname, ms, o.probe)
  for _, a in ipairs(list) do call(fname, MS._add, ms, a) end
  return result(ms, {crop = o.crop}, fname)
end

local FP_KEYS = {"atoms", "source", "sigma", "n", "seed", "stream", "crop", "probe", "phonons",
                 "T", "quantum", "zone", "every", "start", "stop", "format", "symbols", "supercell"}

-- ms:frozen_phonons{...} -> pattern (see the header)
function MS.frozen_phonons(ms, o)
  local fname = "multislice:frozen_phonons"
  if type(o) ~= "table" then fail(fname, "options table expected") end
  check_keys(fname, o, FP_KEYS)
  local src = o.source or "einstein"
  ms:reset()
  set_probe(fname, ms, o.probe)
  if src == "einstein" then
    if typename(o.atoms) ~= "kiln.Atoms" then fail(fname, "atoms= (kiln.Atoms) is required") end
    if type(o.sigma) ~= "table" then
      fail(fname, "sigma = {El = <Å>, ...} (Einstein rms displacement per direction) is required")
    end
    local n = o.n or 16
    if math.type(n) ~= "integer" or n < 1 then fail(fname, "n must be an integer >= 1") end
    call(fname, MS._einstein, ms, o.atoms, o.sigma, n, o.seed or 1, o.stream or 0)
  elseif src == "phonons" then
    local ph = o.phonons
    if typename(ph) ~= "kiln.Phonons" and type(ph) ~= "table" and type(ph) ~= "userdata" then
      fail(fname, "phonons= (a kiln.phonons object) is required with source = \"phonons\"")
    end
    if type(o.T) ~= "number" or o.T < 0 then fail(fname, "T= (K, >= 0) is required") end
    local n = o.n or 16
    if math.type(n) ~= "integer" or n < 1 then fail(fname, "n must be an integer >= 1") end
    local quantum = o.quantum
    if quantum == nil then quantum = true end
    for i = 1, n do
      local snap = ph:sample{T = o.T, quantum = quantum, seed = o.seed or 1,
                             stream = (o.stream or 0) + i - 1, velocities = false,
                             supercell = o.supercell}
      if o.zone then snap = (require "kiln.wave").orient(snap, o.zone) end
      call(fname, MS._add, ms, snap)
    end
  elseif type(src) == "string" then
    call(fname, MS._add_file, ms, src, {format = o.format, every = o.every, start = o.start,
                                        stop = o.stop, symbols = o.symbols})
  elseif type(src) == "table" then
    for _, a in ipairs(atoms_list(fname, src, "source")) do call(fname, MS._add, ms, a) end
  else
    fail(fname, "source must be \"einstein\", \"phonons\", a list of kiln.Atoms or a trajectory " ..
                "file name (got " .. typename(src) .. ")")
  end
  return result(ms, {crop = o.crop}, fname)
end

-- ms:observer{every=1, probe=} -> a new kiln.Multislice that averages the frames of md:run
function MS.observer(ms, o)
  local fname = "multislice:observer"
  o = check_keys(fname, o, {"every", "probe"})
  local every = o.every or 1
  if math.type(every) ~= "integer" or every < 1 then fail(fname, "every must be an integer >= 1") end
  local fp = call(fname, MS._clone, ms, every)
  set_probe(fname, fp, o.probe)
  return fp
end

local STEM_KEYS = {"atoms", "scan", "semiangle", "aberrations", "detectors", "file", "crop",
                   "source_size", "source_points", "sigma", "configs", "seed"}

-- ms:stem{...} -> {<detector> = Array ny x nx, x = {...}, y = {...}}
function MS.stem(ms, o)
  local fname = "multislice:stem"
  if type(o) ~= "table" then fail(fname, "options table expected") end
  check_keys(fname, o, STEM_KEYS)
  local list = atoms_list(fname, o.atoms)
  local scan = check_keys(fname, o.scan, {"x0", "y0", "x1", "y1", "n"}, "scan")
  if o.scan == nil then fail(fname, "scan = {x0=, y0=, x1=, y1=, n={nx, ny}} is required") end
  local n = scan.n
  if type(n) == "number" then n = {n, n} end
  if type(n) ~= "table" or math.type(n[1]) ~= "integer" or math.type(n[2]) ~= "integer" or
     n[1] < 1 or n[2] < 1 then
    fail(fname, "scan.n must be {nx, ny} (positive integers) or one integer")
  end
  if type(o.semiangle) ~= "number" or o.semiangle <= 0 then
    fail(fname, "semiangle= (mrad, > 0) is required")
  end
  local dets = o.detectors or {bf = {0, 10}, adf = {40, 100}, haadf = {80, 200}}
  local names, rings = {}, {}
  for k, v in pairs(dets) do
    if type(k) ~= "string" or type(v) ~= "table" or type(v[1]) ~= "number" or type(v[2]) ~= "number" then
      fail(fname, "detectors = {name = {inner, outer} (mrad), ...} expected")
    end
    if not (v[1] >= 0 and v[2] > v[1]) then
      fail(fname, string.format("detector %s: need 0 <= inner < outer (got %g, %g mrad)", k, v[1], v[2]))
    end
    names[#names + 1] = k
  end
  table.sort(names)
  for i, k in ipairs(names) do rings[i] = dets[k] end
  local lx, ly = list[1]:cell()[1][1], list[1]:cell()[2][2]
  local s = {x0 = scan.x0 or 0, y0 = scan.y0 or 0, x1 = scan.x1 or lx, y1 = scan.y1 or ly, n = n}
  local probe = {semiangle = o.semiangle, aberrations = o.aberrations,
                 source_size = o.source_size, source_points = o.source_points}
  local imgs = call(fname, MS._stem, ms, list,
                    {scan = s, probe = probe, detectors = rings, sigma = o.sigma,
                     configs = o.configs, seed = o.seed, file = o.file, crop = o.crop})
  local out = {x = {}, y = {}, detectors = names}
  for i, k in ipairs(names) do out[k] = imgs[i] end
  for i = 1, n[1] do out.x[i] = s.x0 + (i - 1) * (s.x1 - s.x0) / n[1] end
  for i = 1, n[2] do out.y[i] = s.y0 + (i - 1) * (s.y1 - s.y0) / n[2] end
  return out
end

M.Multislice = cw.Multislice
return M
