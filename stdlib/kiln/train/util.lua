-- kiln.train.util: shared helpers of the kiln.train submodules (argument checks that
-- blame the user's line, small matrix helpers, file names). Not a public API.
local argcheck = require "kiln.argcheck"
local carray = require "kiln.c.array"

local U = {}
argcheck.internal()
U.internal = argcheck.internal
U.fail = argcheck.fail
U.is_array = argcheck.is_array
U.check_keys = argcheck.check_keys

-- eV/Å^3 per bar (1 bar = 1e5 Pa; 1 eV/Å^3 = 1.602176634e11 Pa)
U.BAR = 1e5 / 1.602176634e11
-- LAMMPS metal nktv2p (bar per eV/Å^3), the number FitSNAP uses
U.NKTV2P = 1.6021765e6

-- The shortest decimal text (15 to 17 digits) that reads back as the same double.
function U.fmtnum(v)
  for p = 15, 17 do
    local s = string.format("%." .. p .. "g", v)
    if tonumber(s) == v then return s end
  end
  return string.format("%.17g", v)
end

function U.need(fname, o, key, kind, hint)
  local v = o[key]
  if v == nil then U.fail(fname, key .. "= is required" .. (hint and (" (" .. hint .. ")") or "")) end
  if kind and type(v) ~= kind then
    U.fail(fname, string.format("%s must be a %s (got %s)", key, kind, type(v)))
  end
  return v
end

function U.dataset(fname, ds, what)
  what = what or "data"
  if type(ds) ~= "table" then
    U.fail(fname, what .. " must be a dataset (a list of structure records; got " .. type(ds) .. ")")
  end
  if #ds == 0 then U.fail(fname, what .. " is an empty dataset") end
  for i, r in ipairs(ds) do
    if type(r) ~= "table" or r.atoms == nil then
      U.fail(fname, string.format("%s[%d] is not a structure record {atoms=, energy=, forces=, ...}",
                                  what, i))
    end
  end
  return ds
end

function U.Array(n, m) return carray.new(n, m) end

-- 3x3 table (rows) from 9 row-major numbers
function U.mat3(v)
  return {{v[1], v[2], v[3]}, {v[4], v[5], v[6]}, {v[7], v[8], v[9]}}
end

-- Voigt xx yy zz yz xz xy of a 3x3 table
function U.voigt(m)
  return {m[1][1], m[2][2], m[3][3], m[2][3], m[1][3], m[1][2]}
end

function U.dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

function U.mkdir(dir)
  if dir and dir ~= "." and dir ~= "" then
    os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
  end
end

function U.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- list the entries of a directory (sorted), or nil
function U.listdir(dir, pattern)
  local p = io.popen("ls -1 '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  if not p then return nil end
  local out = {}
  for line in p:lines() do
    if not pattern or line:match(pattern) then out[#out + 1] = line end
  end
  p:close()
  table.sort(out)
  return out
end

function U.isdir(path)
  local ok = os.execute("test -d '" .. path:gsub("'", "'\\''") .. "'")
  return ok == true or ok == 0
end

-- copy a list (shallow)
function U.copy(t)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  return o
end

-- element counts of an Atoms for a list of element names -> list of counts
function U.counts(atoms, elements)
  local idx = {}
  for i, e in ipairs(elements) do idx[e] = i end
  local c = {}
  for i = 1, #elements do c[i] = 0 end
  for _, s in ipairs(atoms:symbols()) do
    local k = idx[s]
    if k then c[k] = c[k] + 1 end
  end
  return c
end

-- A deterministic pseudo-random permutation of 1..n from seed (xoshiro via kiln.Rng)
function U.permutation(n, seed, stream)
  local crng = require "kiln.c.rng"
  local rng = crng.new(seed or 1, stream or 7)
  local p = {}
  for i = 1, n do p[i] = i end
  for i = n, 2, -1 do
    local j = math.floor(rng:uniform() * i) + 1
    p[i], p[j] = p[j], p[i]
  end
  return p, rng
end

return U
