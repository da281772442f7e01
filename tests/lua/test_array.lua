-- kiln.Array: construction, 1-based access, copies vs views, stale views, errors.
local kiln = require "kiln"

local function argon2()
  return kiln.Atoms{cell = {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}}, symbols = "Ar",
                    positions = {{0, 0, 0}, {3.8, 0, 0}}}
end

test("construct from rows", function()
  local a = kiln.Array{{1, 2, 3}, {4, 5, 6}}
  assert(#a == 2)
  local r, c = a:shape()
  assert(r == 2 and c == 3)
  assert(a[1][1] == 1 and a[2][3] == 6 and a:get(2, 1) == 4)
  assert(#a[1] == 3)
  local t = a:totable()
  assert(t[2][2] == 5 and #t == 2 and #t[1] == 3)
end)

test("vectors and zeros", function()
  local v = kiln.Array{1.5, 2.5, 3.5}
  local r, c = v:shape()
  assert(r == 3 and c == 1)
  assert(v[2] == 2.5 and v:get(3) == 3.5)
  v[2] = 7
  assert(v:get(2, 1) == 7)
  local z = kiln.Array(4, 2)
  r, c = z:shape()
  assert(r == 4 and c == 2 and z[4][2] == 0)
  assert(select(2, kiln.Array(5):shape()) == 1)
  assert(#kiln.Array{} == 0)
end)

test("set elements and rows", function()
  local a = kiln.Array(2, 3)
  a[1][2] = 5
  a:set(2, 3, -1)
  a[2] = {7, 8, 9}
  assert(a[1][2] == 5 and a[2][1] == 7 and a[2][3] == 9)
  a[1] = a[2]        -- a row proxy is a row
  assert(a[1][3] == 9)
  a:fill(0.5)
  assert(a:sum() == 3.0)
  a:assign{{1, 2, 3}, {4, 5, 6}}
  assert(a:sum() == 21 and a:sum(3) == 9 and a:max_abs() == 6)
  assert(a:column(2)[2] == 5)
end)

test("copy is independent", function()
  local a = kiln.Array{{1, 2}, {3, 4}}
  local b = a:copy()
  b[1][1] = 100
  assert(a[1][1] == 1 and b[1][1] == 100)
  assert(not a:isview() and not b:isview())
end)

test("tostring", function()
  local s = tostring(kiln.Array{{1, 2, 3}, {4, 5, 6}})
  assert(s:find("kiln.Array(2x3)", 1, true), s)
  assert(s:find("6", 1, true))
  local big = tostring(kiln.Array(100, 3))
  assert(big:find("...", 1, true), big)
  assert(tostring(kiln.Array{1}[1]) == "1.0")
end)

test("errors", function()
  local a = kiln.Array{{1, 2, 3}, {4, 5, 6}}
  checkerror("row index 3 out of range (1..2)", function() return a[3] end)
  checkerror("column index 4 out of range (1..3)", function() return a[1][4] end)
  checkerror("row index 0 out of range", function() return a:get(0, 1) end)
  checkerror("row 2: 2 values expected, got 1", kiln.Array, {{1, 2}, {3}})
  checkerror("row 1, column 2: number expected, got string", kiln.Array, {{1, "x"}})
  checkerror("number expected", function() a:set(1, 1, "y") end)
  checkerror("cannot set field 'foo'", function() a.foo = 1 end)
  checkerror("positive column count expected", kiln.Array, 3, 0)
  local c = kiln.Array(2, 2)
  c:close()
  checkerror("attempt to use a closed kiln.Array", function() return c[1] end)
  assert(tostring(c) == "kiln.Array (closed)")
end)

test("views write through to atoms", function()
  local at = argon2()
  local x = at:positions()
  assert(x:isview())
  x[2][1] = 4.0
  assert(at:positions()[2][1] == 4.0)
  at:set_positions{{1, 1, 1}, {2, 2, 2}}
  assert(x[1][1] == 1 and x[2][3] == 2)
  local m = at:masses()
  close(m[1], 39.948, 1e-12)
  m[1] = 40
  assert(at:masses()[1] == 40)
  assert(tostring(x):find("view of kiln.Atoms positions", 1, true))
end)

test("view keeps its atoms alive", function()
  local v = argon2():velocities()
  collectgarbage()
  collectgarbage()
  v[1][1] = 0.25
  assert(v[1][1] == 0.25 and #v == 2)
end)

test("stale and closed views", function()
  local at = argon2()
  local x = at:positions()
  local row = x[1]
  at:append("Kr", {1, 1, 1})
  checkerror("stale view: kiln.Atoms was resized", function() return x[1][1] end)
  checkerror("stale view: kiln.Atoms was resized", function() return row[1] end)
  assert(tostring(x):find("stale view", 1, true))
  local y = at:positions()
  assert(#y == 3 and y[3][2] == 1)
  at:close()
  checkerror("attempt to use a closed kiln.Atoms", function() return y[1] end)
  checkerror("cannot close a view", function() y:close() end)
end)

test("Arrays as matrix arguments", function()
  local at = argon2()
  local new = kiln.Array{{0, 0, 0}, {0, 0, 5}}
  at:set_positions(new)
  assert(at:positions()[2][3] == 5)
  at:set_positions{new[2], new[1]}   -- rows given as row proxies
  assert(at:positions()[1][3] == 5)
  checkerror("Array with 3 columns expected", at.set_positions, at, kiln.Array(2, 2))
end)
