-- tests/lua/test_ml.lua: the kiln.ml Lua API (numerics are tested in tests/c/test_regress.c
-- and test_design.c): exact answers on small systems, argument forms and error messages.
local kiln = require "kiln"
local ml = kiln.ml

local function rng_matrix(rng, n, m)
  local t = {}
  for i = 1, n do
    t[i] = {}
    for j = 1, m do t[i][j] = rng:uniform() - 0.5 end
  end
  return t
end

test("ridge recovers an exact solution, with weights, and lambda shrinks it", function()
  local rng = kiln.Rng(7)
  local A = rng_matrix(rng, 25, 4)
  local xt = {1.5, -2, 0.25, 3}
  local b, w = {}, {}
  for i = 1, 25 do
    local s = 0
    for j = 1, 4 do s = s + A[i][j] * xt[j] end
    b[i] = s
    w[i] = 0.1 + i
  end
  for _, form in ipairs{{A = A, b = b, w = w}, {A = kiln.Array(A), b = kiln.Array(b), w = kiln.Array(w)},
                        {A = A, b = b, w = 2.0}, {A = A, b = b}} do
    local x, rank = ml.ridge(form)
    assert(rank == 4)
    local r, c = x:shape()
    assert(r == 4 and c == 1)
    for j = 1, 4 do close(x[j], xt[j], 0, 1e-10) end
  end
  local x1 = ml.ridge{A = A, b = b, lambda = 0.1}
  local x2 = ml.ridge{A = A, b = b, lambda = 10}
  local n1, n2 = 0, 0
  for j = 1, 4 do n1, n2 = n1 + x1[j] ^ 2, n2 + x2[j] ^ 2 end
  assert(n2 < n1 and n1 < 1.5 ^ 2 + 4 + 0.25 ^ 2 + 9)
end)

test("ridge: normal equations of a 3 x 2 system by hand", function()
  -- A = {{1,0},{0,1},{1,1}}, b = {1,2,4}: (A^T A + I) x = A^T b -> {{3,1},{1,3}} x = {5,6}
  local x = ml.ridge{A = {{1, 0}, {0, 1}, {1, 1}}, b = {1, 2, 4}, lambda = 1}
  close(x[1], (15 - 6) / 8, 1e-13)
  close(x[2], (18 - 5) / 8, 1e-13)
end)

test("ridge: errors name the argument and the sizes", function()
  local A = {{1, 0}, {0, 1}, {1, 1}}
  checkerror("kiln.ml.ridge: A has 3 rows but b has 2", ml.ridge, {A = A, b = {1, 2}})
  checkerror("kiln.ml.ridge: A has 3 rows but w has 4", ml.ridge, {A = A, b = {1, 2, 3}, w = {1, 1, 1, 1}})
  checkerror("kiln.ml.ridge: A= is required", ml.ridge, {b = {1}})
  checkerror("unknown option 'lamda'", ml.ridge, {A = A, b = {1, 2, 3}, lamda = 1})
  checkerror("lambda must be a finite number >= 0", ml.ridge, {A = A, b = {1, 2, 3}, lambda = -1})
  checkerror("weight 2 must be a finite number >= 0", ml.ridge, {A = A, b = {1, 2, 3}, w = {1, -1, 1}})
  -- the error blames the caller's line
  local ok, msg = pcall(function() local x = ml.ridge{A = A, b = {1}}; return x end)
  assert(not ok and msg:find("test_ml.lua:%d+: kiln.ml.ridge"), msg)
end)

test("sgpr: a 2 x 2 case by hand and the interpolation limit", function()
  -- K = Kmm = {{1, .5}, {.5, 1}}, sigma -> 0: K alpha = y
  local K = {{1, 0.5}, {0.5, 1}}
  local alpha = ml.sgpr{K = K, y = {1, 2}, sigma = 1e-7, Kmm = K, jitter = 0}
  close(alpha[1] + 0.5 * alpha[2], 1, 0, 1e-9)
  close(0.5 * alpha[1] + alpha[2], 2, 0, 1e-9)
  -- sigma = 1, Kmm = I: alpha = (I + K^T K)^-1 K^T y
  local a2 = ml.sgpr{K = {{1, 0}, {0, 2}}, y = {1, 1}, sigma = {1, 1}, Kmm = {{1, 0}, {0, 1}}, jitter = 0}
  close(a2[1], 1 / 2, 1e-13)
  close(a2[2], 2 / 5, 1e-13)
  checkerror("kiln.ml.sgpr: K has 2 rows but y has 3", ml.sgpr, {K = K, y = {1, 2, 3}, sigma = 1, Kmm = K})
  checkerror("Kmm is 1 x 1 but K has 2 columns", ml.sgpr, {K = K, y = {1, 2}, sigma = 1, Kmm = {{1}}})
  checkerror("not positive definite", ml.sgpr, {K = K, y = {1, 2}, sigma = 1, Kmm = {{0, 0}, {0, 0}}, jitter = 0})
  checkerror("sigma= (noise per observation", ml.sgpr, {K = K, y = {1, 2}, Kmm = K})
end)

test("fps: farthest points on a line", function()
  local X = {{0}, {1}, {10}, {4}, {6}}
  local idx, mind = ml.fps(X, 4)
  -- from 0: 10 (distance 10), then 4 and 6 tie at 4 (the first wins), then 6 (distance 2)
  assert(idx[1] == 1 and idx[2] == 3 and idx[3] == 4 and idx[4] == 5, table.concat(idx, " "))
  assert(mind[1] == math.huge)
  close(mind[2], 10, 1e-15); close(mind[3], 4, 1e-15); close(mind[4], 2, 1e-15)
  local i2 = ml.fps(kiln.Array(X), 2, {start = 3})
  assert(i2[1] == 3 and i2[2] == 1)
  checkerror("cannot choose 6 rows out of 5", ml.fps, X, 6)
  checkerror("start must be a row 1..5", ml.fps, X, 2, {start = 9})
end)

test("kernel: normalised dot products, element mask", function()
  local K = ml.kernel({{1, 0}, {1, 1}, {0, 2}}, {1, 1, 2}, {{1, 0}, {0, 1}}, {1, 2}, 2)
  local r, c = K:shape()
  assert(r == 3 and c == 2)
  close(K[1][1], 1, 1e-15); assert(K[1][2] == 0)
  close(K[2][1], 0.5, 1e-15); assert(K[2][2] == 0)
  assert(K[3][1] == 0); close(K[3][2], 1, 1e-15)
  local K2 = ml.kernel({{1, 1}}, nil, {{1, 0}}, nil, 3)
  close(K2:get(1, 1), 0.5 ^ 1.5, 1e-14)
  checkerror("S has 3 columns but X has 2", ml.kernel, {{1, 1}}, nil, {{1, 0, 0}}, nil, 2)
  checkerror("elX has 2 entries but there are 1 rows", ml.kernel, {{1, 1}}, {1, 1}, {{1, 0}}, nil, 2)
  checkerror("zeta must be a finite number >= 1", ml.kernel, {{1, 1}}, nil, {{1, 0}}, nil, 0.5)
end)

test("vstack and matvec", function()
  local A = ml.vstack{kiln.Array{{1, 2}, {3, 4}}, {{5, 6}}, kiln.Array(0, 2)}
  local r, c = A:shape()
  assert(r == 3 and c == 2 and A[3][2] == 6 and A[2][1] == 3)
  local y = ml.matvec(A, {1, -1})
  assert(y[1] == -1 and y[2] == -1 and y[3] == -1)
  local y2 = ml.matvec(A, kiln.Array{{2}, {1}})
  assert(y2[3] == 16)
  checkerror("kiln.ml.vstack: block 2 has 3 columns but block 1 has 2", ml.vstack, {{{1, 2}}, {{1, 2, 3}}})
  checkerror("kiln.ml.matvec: A has 2 columns but x has 3 values", ml.matvec, A, {1, 2, 3})
end)

test("help texts", function()
  local help = require "kiln.help"
  assert(help.text(kiln.ml):find("ridge", 1, true))
  assert(help.text(kiln.ml.ridge):find("lambda", 1, true))
  assert(help.text(kiln.ml.fps):find("farthest", 1, true))
end)
