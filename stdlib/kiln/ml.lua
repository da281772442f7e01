-- kiln.ml: the regression kernels of training (C, src/ml/regress.c and design.c; see
-- doc/ml.md and include/kiln/ml.h).
--
--   kiln.ml.ridge{A=, b=, w=, lambda=} -> x (kiln.Array n x 1), rank
--   kiln.ml.sgpr{K=, y=, sigma=, Kmm=, jitter=} -> alpha (kiln.Array m x 1)
--   kiln.ml.fps(X, m[, {start=1}]) -> idx (1-based list), mind (list)
--   kiln.ml.kernel(X, elX, S, elS, zeta) -> K (kiln.Array n x m)
--   kiln.ml.vstack{A1, A2, ...} -> kiln.Array;  kiln.ml.matvec(A, x) -> kiln.Array (rows x 1)
--
-- Matrices are kiln.Arrays or Lua tables of rows; vectors are n x 1 Arrays or lists.
local cml = require "kiln.c.ml"
local argcheck = require "kiln.argcheck"
argcheck.internal()

local M = {}
local fail = argcheck.fail
local check_keys = argcheck.check_keys
local is_array = argcheck.is_array

-- the C calls report "kiln.ml.<f>: message" (or a Lua argument error): re-raise it at
-- the user's line under the public name
local function call(fname, f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then
    local msg = tostring(r[2]):gsub("^[^\n]-ml%.lua:%d+: ", "")
    msg = msg:gsub("^" .. fname:gsub("%.", "%%.") .. ": ", "")
    msg = msg:gsub("^bad argument #(%d+) to '[^']*' ", "argument #%1 ")
    fail(fname, msg)
  end
  return table.unpack(r, 2, r.n)
end

-- rows and columns of a matrix argument (kiln.Array or table of rows / list)
local function shape(x, fname, name, required)
  if x == nil then
    if required then fail(fname, name .. "= is required (a kiln.Array or a table of rows)") end
    return nil
  end
  if is_array(x) then return x:shape() end
  if type(x) ~= "table" then
    fail(fname, string.format("%s must be a kiln.Array or a table of rows (got %s)", name, type(x)))
  end
  local r = #x
  if r == 0 then return 0, 0 end
  local first = x[1]
  if type(first) == "number" then return r, 1 end
  if is_array(first) then
    local a, b = first:shape()
    return r, a * b
  end
  if type(first) ~= "table" then
    fail(fname, string.format("%s[1] must be a row (table of numbers) (got %s)", name, type(first)))
  end
  return r, #first
end

local function number(v, fname, name, lo, def)
  if v == nil then return def end
  if type(v) ~= "number" or v ~= v or v == math.huge or v < lo then
    fail(fname, string.format("%s must be a finite number >= %g (got %s)", name, lo, tostring(v)))
  end
  return v
end

function M.ridge(o)
  local fname = "kiln.ml.ridge"
  o = check_keys(fname, o, {"A", "b", "w", "lambda"})
  local m, n = shape(o.A, fname, "A", true)
  if m == 0 or n == 0 then fail(fname, string.format("A is empty (%d x %d)", m, n)) end
  local mb, nb = shape(o.b, fname, "b", true)
  if mb * nb ~= m then
    fail(fname, string.format("A has %d rows but b has %d", m, mb * nb))
  end
  if o.w ~= nil and type(o.w) ~= "number" then
    local mw, nw = shape(o.w, fname, "w", false)
    if mw * nw ~= m then fail(fname, string.format("A has %d rows but w has %d", m, mw * nw)) end
  end
  local w = o.w
  if type(w) == "number" then
    local t = {}
    for i = 1, m do t[i] = w end
    w = t
  end
  local lambda = number(o.lambda, fname, "lambda", 0, 0)
  local x, rank = call(fname, cml.ridge, o.A, o.b, w, lambda)
  return x, rank
end

function M.sgpr(o)
  local fname = "kiln.ml.sgpr"
  o = check_keys(fname, o, {"K", "y", "sigma", "Kmm", "jitter"})
  local n, m = shape(o.K, fname, "K", true)
  if n == 0 or m == 0 then fail(fname, string.format("K is empty (%d x %d)", n, m)) end
  local ny, cy = shape(o.y, fname, "y", true)
  if ny * cy ~= n then fail(fname, string.format("K has %d rows but y has %d", n, ny * cy)) end
  if o.sigma == nil then fail(fname, "sigma= (noise per observation, a number or a list) is required") end
  if type(o.sigma) == "number" then
    if not (o.sigma > 0) then fail(fname, "sigma must be > 0 (got " .. tostring(o.sigma) .. ")") end
  else
    local ns, cs = shape(o.sigma, fname, "sigma", true)
    if ns * cs ~= n then fail(fname, string.format("K has %d rows but sigma has %d", n, ns * cs)) end
  end
  local mm, cm = shape(o.Kmm, fname, "Kmm", true)
  if mm ~= m or cm ~= m then
    fail(fname, string.format("Kmm is %d x %d but K has %d columns (sparse points)", mm, cm, m))
  end
  local jitter = number(o.jitter, fname, "jitter", 0, 1e-10)
  local alpha = call(fname, cml.sgpr, o.K, o.y, o.sigma, o.Kmm, jitter)
  return alpha
end

function M.fps(X, m, o)
  local fname = "kiln.ml.fps"
  local n = shape(X, fname, "X", true)
  if math.type(m) ~= "integer" and not (type(m) == "number" and m == math.floor(m)) then
    fail(fname, "m (the number of rows to choose) must be an integer (got " .. tostring(m) .. ")")
  end
  m = math.tointeger(m)
  if m < 0 or m > n then fail(fname, string.format("cannot choose %d rows out of %d", m, n)) end
  o = check_keys(fname, o, {"start"})
  local start = o.start or 1
  if math.type(start) ~= "integer" or start < 1 or start > math.max(n, 1) then
    fail(fname, string.format("start must be a row 1..%d (got %s)", n, tostring(start)))
  end
  local idx, mind = call(fname, cml.fps, X, m, start)
  return idx, mind
end

function M.kernel(X, elX, S, elS, zeta)
  local fname = "kiln.ml.kernel"
  local n, d = shape(X, fname, "X", true)
  local m, ds = shape(S, fname, "S", true)
  if m > 0 and n > 0 and d ~= ds then fail(fname, string.format("S has %d columns but X has %d", ds, d)) end
  if elX ~= nil and type(elX) ~= "table" and not is_array(elX) then
    fail(fname, "elX must be a list of element indices or nil (got " .. type(elX) .. ")")
  end
  if elS ~= nil and type(elS) ~= "table" and not is_array(elS) then
    fail(fname, "elS must be a list of element indices or nil (got " .. type(elS) .. ")")
  end
  zeta = number(zeta, fname, "zeta", 1, nil)
  if zeta == nil then fail(fname, "zeta (the kernel exponent, >= 1) is required") end
  local K = call(fname, cml.kernel, X, elX, S, elS, zeta)
  return K
end

function M.vstack(list)
  local fname = "kiln.ml.vstack"
  if type(list) ~= "table" or is_array(list) then
    fail(fname, "expected a list of matrices {A1, A2, ...} (got " ..
                (is_array(list) and "a kiln.Array" or type(list)) .. ")")
  end
  local cols, first
  for i = 1, #list do
    local r, c = shape(list[i], fname, "block " .. i, true)
    if r > 0 then
      if cols and c ~= cols then
        fail(fname, string.format("block %d has %d columns but block %d has %d", i, c, first, cols))
      end
      cols, first = cols or c, first or i
    end
  end
  local A = call(fname, cml.vstack, list)
  return A
end

function M.matvec(A, x)
  local fname = "kiln.ml.matvec"
  local r, c = shape(A, fname, "A", true)
  local nx, cx = shape(x, fname, "x", true)
  if r > 0 and nx * cx ~= c then
    fail(fname, string.format("A has %d columns but x has %d values", c, nx * cx))
  end
  local y = call(fname, cml.matvec, A, x)
  return y
end

M.__help = [[
kiln.ml: regression kernels for machine-learned potentials (LAPACKE/OpenBLAS).
  kiln.ml.ridge{A=, b=, w=, lambda=0} -> x (Array n x 1), rank
      minimise sum_r w_r (A_r.x - b_r)^2 + lambda |x|^2 (SVD, dgelsd)
  kiln.ml.sgpr{K=, y=, sigma=, Kmm=, jitter=1e-10} -> alpha (Array m x 1)
      sparse GP weights (Kmm + K^T S^-2 K)^-1 K^T S^-2 y; sigma a number or one per row
  kiln.ml.fps(X, m[, {start=1}]) -> idx (1-based list), mind (list; mind[1] = math.huge)
  kiln.ml.kernel(X, elX, S, elS, zeta) -> K (Array n x m): (xhat.shat)^zeta, 0 across elements
  kiln.ml.vstack{A1, A2, ...} -> Array (rows stacked)   kiln.ml.matvec(A, x) -> Array (A x)
See doc/ml.md.]]

return M
