-- kiln.tds: analysis of electron diffraction patterns (thermal diffuse scattering).
-- Pure Lua over kiln.Array patterns; see doc/tds.md.
--
--   tds.profile(pattern, {from=, to= | from_k=, to_k=, recip=, n=, width=, width_px=})
--   tds.fwhm(pattern | profile, {at= | k=, along=, window=, search=, background=})
--   tds.fit_scale(sim, meas, {background=false, weights=})
--   tds.image(pattern, {file=, log=true, crop=, range=, decades=, title=, marks=, line=})
--   tds.plot_profiles({profile, ...}, {file=, logy=, labels=, title=})
--   tds.reciprocal(cell) -> 3 x 2 in-plane reciprocal vectors (1/Å) of a beam-frame cell
--   tds.pattern(I, dk[, extra]) -> a pattern table; tds.sample(pattern, kx, ky)
--
-- A pattern is a table {I = kiln.Array ny x nx (intensity), dk = {dkx, dky} (1/Å per
-- pixel, or one number), ...} with the direct beam at row ny//2 + 1, column nx//2 + 1
-- (fftshifted; order = "fft" for unshifted FFT order). Row index = ky, column = kx.
-- A plain kiln.Array is accepted with dk= in the options. Spatial frequencies are k = 1/d
-- in 1/Å (no 2π), as in kiln.wave.

local carray = require "kiln.c.array"
local argcheck = require "kiln.argcheck"
argcheck.internal()
local fail, is_array, check_keys = argcheck.fail, argcheck.is_array, argcheck.check_keys

local M = {}

local floor, sqrt, abs = math.floor, math.sqrt, math.abs
local function isnum(x) return type(x) == "number" and x == x and x ~= math.huge and x ~= -math.huge end

---------------------------------------------------------------- patterns
-- dk from a number, {dkx, dky} or {x=, y=}
local function dk_of(dk, fname)
  if isnum(dk) then
    if dk <= 0 then fail(fname, "dk must be > 0 (1/Å per pixel; got " .. dk .. ")") end
    return dk, dk
  end
  if type(dk) == "table" and not is_array(dk) then
    local x, y = dk[1] or dk.x, dk[2] or dk.y
    if isnum(x) and isnum(y) and x > 0 and y > 0 then return x, y end
  end
  fail(fname, "dk must be a number > 0 or {dkx, dky} (1/Å per pixel; got " ..
              (type(dk) == "table" and "a malformed table" or tostring(dk)) .. ")")
end

-- Normalise a pattern argument: a pattern table, or a kiln.Array (or table of rows)
-- with o.dk. Returns {I=, get=function(row, col), nx=, ny=, dkx=, dky=, cx=, cy= (0-based
-- column/row of k = 0), fft=bool, energy=, recip=}.
local function pattern_of(p, o, fname, what)
  what = what or "pattern"
  o = o or {}
  local I, src = p, {}
  if type(p) == "table" and not is_array(p) then
    src = p
    I = p.I or p.intensity or p.diffraction
    if I == nil and type(p[1]) == "table" then I = p end   -- a table of rows
  end
  if I == nil or (type(I) ~= "table" and type(I) ~= "userdata") then
    fail(fname, what .. " must be a kiln.Array, a table of rows or a pattern table {I=, dk=} (got " ..
                (type(p) == "table" and "a table without I=" or
                (is_array(p) and "?" or type(p))) .. ")")
  end
  local ny, nx, get
  if is_array(I) then
    ny, nx = I:shape()
    local g = I.get
    get = function(r, c) return g(I, r, c) end
  elseif type(I) == "table" and type(I[1]) == "table" then
    ny, nx = #I, #I[1]
    for r = 1, ny do
      if type(I[r]) ~= "table" or #I[r] ~= nx then
        fail(fname, string.format("%s row %d has %s values, row 1 has %d", what, r,
                                  type(I[r]) == "table" and tostring(#I[r]) or "no", nx))
      end
    end
    get = function(r, c) return I[r][c] end
  else
    fail(fname, what .. ".I must be a kiln.Array ny x nx (got " .. type(I) .. ")")
  end
  if nx < 2 or ny < 2 then
    fail(fname, string.format("%s must be at least 2 x 2 pixels (got %d x %d)", what, ny, nx))
  end
  local dk = o.dk or src.dk
  if dk == nil and src.extent then
    local e = src.extent
    if type(e) == "table" and isnum(e[1]) and isnum(e[2]) then dk = {1 / e[1], 1 / e[2]} end
  end
  if dk == nil then
    fail(fname, "the pixel size dk= (1/Å per pixel, a number or {dkx, dky}) is required " ..
                "(in the pattern table or the options)")
  end
  local dkx, dky = dk_of(dk, fname)
  local fft = (src.order == "fft") or (o.order == "fft")
  local cx, cy = nx // 2, ny // 2
  local ce = src.centre                      -- {column, row} of k = 0 (1-based), kiln.multislice
  if not fft and type(ce) == "table" and math.type(ce[1]) == "integer" and math.type(ce[2]) == "integer" then
    if ce[1] < 1 or ce[1] > nx or ce[2] < 1 or ce[2] > ny then
      fail(fname, string.format("%s.centre = {%d, %d} is outside the %d x %d pattern", what, ce[1], ce[2], ny, nx))
    end
    cx, cy = ce[1] - 1, ce[2] - 1
  end
  return {I = I, get = get, nx = nx, ny = ny, dkx = dkx, dky = dky, cx = cx, cy = cy,
          fft = fft, energy = src.energy, recip = src.recip}
end

-- Bilinear interpolation at (kx, ky) (1/Å); nil outside the pattern (shifted order).
local function sample(pat, kx, ky)
  local fx, fy = kx / pat.dkx, ky / pat.dky
  local nx, ny = pat.nx, pat.ny
  local c0, r0
  if pat.fft then
    c0, r0 = fx, fy
  else
    c0, r0 = fx + pat.cx, fy + pat.cy
    if c0 < -1e-9 or r0 < -1e-9 or c0 > nx - 1 + 1e-9 or r0 > ny - 1 + 1e-9 then return nil end
  end
  local c, r = floor(c0), floor(r0)
  local tc, tr = c0 - c, r0 - r
  local c1, r1 = c + 1, r + 1
  if pat.fft then
    c, c1, r, r1 = c % nx, c1 % nx, r % ny, r1 % ny
  else
    if c1 > nx - 1 then c1 = nx - 1 end
    if r1 > ny - 1 then r1 = ny - 1 end
    if c < 0 then c = 0 end
    if r < 0 then r = 0 end
  end
  local get = pat.get
  local v00, v01 = get(r + 1, c + 1), get(r + 1, c1 + 1)
  local v10, v11 = get(r1 + 1, c + 1), get(r1 + 1, c1 + 1)
  return (1 - tr) * ((1 - tc) * v00 + tc * v01) + tr * ((1 - tc) * v10 + tc * v11)
end

M.pattern = function(I, dk, extra)
  local fname = "tds.pattern"
  if type(I) == "function" then              -- I(kx, ky) on an nx x ny grid (extra.nx, extra.ny)
    local nx, ny = type(extra) == "table" and extra.nx, type(extra) == "table" and extra.ny
    if math.type(nx) ~= "integer" or math.type(ny) ~= "integer" or nx < 2 or ny < 2 then
      fail(fname, "a function I(kx, ky) needs {nx=, ny=} (integers >= 2) as the third argument")
    end
    local dkx, dky = dk_of(dk, fname)
    local f, A = I, carray.new(ny, nx)
    for r = 1, ny do
      local ky = (r - 1 - ny // 2) * dky
      for c = 1, nx do A:set(r, c, f((c - 1 - nx // 2) * dkx, ky)) end
    end
    I = A
    local e = {}
    for k, v in pairs(extra) do if k ~= "nx" and k ~= "ny" then e[k] = v end end
    extra = e
  end
  local pat = pattern_of(I, {dk = dk}, fname, "I")
  local t = {I = pat.I, dk = {pat.dkx, pat.dky}}
  if extra ~= nil then
    if type(extra) ~= "table" then fail(fname, "extra must be a table (got " .. type(extra) .. ")") end
    for k, v in pairs(extra) do if t[k] == nil then t[k] = v end end
  end
  return t
end

M.sample = function(pattern, kx, ky, o)
  local fname = "tds.sample"
  local pat = pattern_of(pattern, o, fname)
  if not isnum(kx) or not isnum(ky) then fail(fname, "kx and ky must be numbers (1/Å)") end
  return sample(pat, kx, ky)
end

---------------------------------------------------------------- reciprocal vectors
-- A point {h, k[, l]} with recip (rows = reciprocal basis vectors, 1/Å, x and y used)
-- -> kx, ky.
local function recip_of(r, fname)
  if r == nil then return nil end
  if is_array(r) then r = r:totable() end
  if type(r) ~= "table" or #r < 1 then
    fail(fname, "recip must be a list of reciprocal basis vectors {{b1x, b1y}, {b2x, b2y}[, ...]} (1/Å)")
  end
  for i = 1, #r do
    if type(r[i]) ~= "table" or not isnum(r[i][1]) or not isnum(r[i][2]) then
      fail(fname, "recip[" .. i .. "] must be a vector {bx, by} (1/Å)")
    end
  end
  return r
end

local function kpoint(hk, k, recip, fname, name, kname)
  if k ~= nil then
    if type(k) ~= "table" or not isnum(k[1]) or not isnum(k[2]) then
      fail(fname, kname .. " must be {kx, ky} (1/Å)")
    end
    return k[1], k[2]
  end
  if hk == nil then fail(fname, name .. "= (indices, with recip=) or " .. kname .. "= ({kx, ky} in 1/Å) is required") end
  if type(hk) ~= "table" then fail(fname, name .. " must be a list of indices {h, k[, l]} (got " .. type(hk) .. ")") end
  if not recip then
    fail(fname, name .. "= needs recip= (the reciprocal basis vectors, 1/Å), or give " .. kname .. "= in 1/Å")
  end
  if #hk ~= #recip then
    fail(fname, string.format("%s has %d indices but recip has %d vectors", name, #hk, #recip))
  end
  local kx, ky = 0.0, 0.0
  for i = 1, #hk do
    if not isnum(hk[i]) then fail(fname, name .. "[" .. i .. "] is not a number") end
    kx, ky = kx + hk[i] * recip[i][1], ky + hk[i] * recip[i][2]
  end
  return kx, ky
end

M.reciprocal = function(cell)
  local fname = "tds.reciprocal"
  if is_array(cell) then cell = cell:totable() end
  if type(cell) ~= "table" or #cell ~= 3 then fail(fname, "cell must be 3 x 3 (rows a, b, c in Å)") end
  for i = 1, 3 do
    if type(cell[i]) ~= "table" or not (isnum(cell[i][1]) and isnum(cell[i][2]) and isnum(cell[i][3])) then
      fail(fname, "cell row " .. i .. " must be {x, y, z} (Å)")
    end
  end
  local a, b, c = cell[1], cell[2], cell[3]
  local function cross(u, v) return {u[2] * v[3] - u[3] * v[2], u[3] * v[1] - u[1] * v[3], u[1] * v[2] - u[2] * v[1]} end
  local bc, ca, ab = cross(b, c), cross(c, a), cross(a, b)
  local V = a[1] * bc[1] + a[2] * bc[2] + a[3] * bc[3]
  if abs(V) < 1e-12 then fail(fname, "cell is singular (volume " .. V .. " Å^3)") end
  return {{bc[1] / V, bc[2] / V}, {ca[1] / V, ca[2] / V}, {ab[1] / V, ab[2] / V}}
end

---------------------------------------------------------------- profiles
local PROFILE_KEYS = {"from", "to", "from_k", "to_k", "recip", "n", "width", "width_px", "nwidth", "dk", "order"}

M.profile = function(pattern, o)
  local fname = "tds.profile"
  if o == nil then fail(fname, "options {from=, to=, recip=} or {from_k=, to_k=} are required") end
  o = check_keys(fname, o, PROFILE_KEYS)
  local pat = pattern_of(pattern, o, fname)
  local recip = recip_of(o.recip or pat.recip, fname)
  local ax, ay = kpoint(o.from, o.from_k, recip, fname, "from", "from_k")
  local bx, by = kpoint(o.to, o.to_k, recip, fname, "to", "to_k")
  local L = sqrt((bx - ax) ^ 2 + (by - ay) ^ 2)
  if L <= 0 then fail(fname, "from and to are the same point") end
  local dmin = math.min(pat.dkx, pat.dky)
  local n = o.n
  if n == nil then n = 4 * math.ceil(L / dmin) + 1
  elseif math.type(n) ~= "integer" or n < 2 then
    fail(fname, "n must be an integer >= 2 (got " .. tostring(n) .. ")")
  end
  local width = 0.0
  if o.width ~= nil then
    if not isnum(o.width) or o.width < 0 then fail(fname, "width must be a number >= 0 (1/Å)") end
    width = o.width
  end
  if o.width_px ~= nil then
    if not isnum(o.width_px) or o.width_px < 0 then fail(fname, "width_px must be a number >= 0 (pixels)") end
    width = o.width_px * dmin
  end
  local nw = 1
  if width > 0 then nw = math.max(2, math.ceil(2 * width / dmin) + 1) end
  if o.nwidth ~= nil then
    if math.type(o.nwidth) ~= "integer" or o.nwidth < 1 then fail(fname, "nwidth must be an integer >= 1") end
    nw = o.nwidth
  end
  local ux, uy = (bx - ax) / L, (by - ay) / L
  local px, py = -uy, ux                       -- perpendicular
  local s, I, k = {}, {}, {}
  for i = 1, n do
    local t = (i - 1) / (n - 1)
    local cx, cy = ax + t * (bx - ax), ay + t * (by - ay)
    local sum = 0.0
    for j = 1, nw do
      local off = nw == 1 and 0.0 or width * ((j - 1) / (nw - 1) - 0.5)
      local v = sample(pat, cx + off * px, cy + off * py)
      if v == nil then
        fail(fname, string.format("the line leaves the pattern at k = (%.4g, %.4g) 1/Å " ..
             "(the pattern covers |kx| <= %.4g, |ky| <= %.4g)", cx + off * px, cy + off * py,
             pat.cx * pat.dkx, pat.cy * pat.dky))
      end
      sum = sum + v
    end
    s[i], I[i], k[i] = t * L, sum / nw, {cx, cy}
  end
  return {s = s, I = I, k = k, from_k = {ax, ay}, to_k = {bx, by}, length = L, width = width}
end

---------------------------------------------------------------- FWHM
-- FWHM of the samples (s, y) around the maximum within the index range [i1, i2] (peak
-- searched in [j1, j2]). Returns fwhm, info or nil, message.
local function half_width(s, y, i1, i2, j1, j2)
  local imax
  for i = j1, j2 do
    if y[i] == y[i] and (not imax or y[i] > y[imax]) then imax = i end
  end
  if not imax or not (y[imax] > 0) then return nil, "no peak above the background" end
  local half = y[imax] / 2
  local left, right
  for i = imax - 1, i1, -1 do
    if y[i] <= half then
      left = s[i] + (half - y[i]) / (y[i + 1] - y[i]) * (s[i + 1] - s[i])
      break
    end
  end
  for i = imax + 1, i2 do
    if y[i] <= half then
      right = s[i - 1] + (y[i - 1] - half) / (y[i - 1] - y[i]) * (s[i] - s[i - 1])
      break
    end
  end
  if not left or not right then
    return nil, string.format("the %s half-maximum crossing is outside the window (peak at s = %.4g)",
                              left and "right" or "left", s[imax])
  end
  return right - left, {imax = imax, left = left, right = right, half = half}
end

local FWHM_KEYS = {"at", "k", "recip", "along", "window", "search", "background", "n", "dk", "order", "width", "width_px"}

local function fwhm_of_profile(fname, s, I, o, at)
  local n = #s
  if n < 3 or #I ~= n then fail(fname, "the profile needs s and I of equal length >= 3") end
  local i1, i2 = 1, n
  if o.window ~= nil and at ~= nil then
    if not isnum(o.window) or o.window <= 0 then fail(fname, "window must be a number > 0 (1/Å)") end
    while i1 < n and s[i1] < at - o.window do i1 = i1 + 1 end
    while i2 > 1 and s[i2] > at + o.window do i2 = i2 - 1 end
  end
  local j1, j2 = i1, i2
  if o.search ~= nil then
    if not isnum(o.search) or o.search < 0 then fail(fname, "search must be a number >= 0 (1/Å)") end
    local c = at or s[(i1 + i2) // 2]
    while j1 < i2 and s[j1] < c - o.search do j1 = j1 + 1 end
    while j2 > j1 and s[j2] > c + o.search do j2 = j2 - 1 end
  end
  if i2 - i1 < 2 then fail(fname, "the window holds fewer than 3 samples") end
  -- background: a number, "min" (smallest value in the window) or "linear" (the line
  -- through the window's end points)
  local bg = o.background
  local bgf
  if bg == nil or bg == false then bgf = function() return 0.0 end
  elseif isnum(bg) then bgf = function() return bg end
  elseif bg == "min" then
    local m = math.huge
    for i = i1, i2 do if I[i] < m then m = I[i] end end
    bgf = function() return m end
  elseif bg == "linear" then
    local sa, sb, ya, yb = s[i1], s[i2], I[i1], I[i2]
    bgf = function(x) return ya + (yb - ya) * (x - sa) / (sb - sa) end
  else
    fail(fname, "background must be a number, \"min\" or \"linear\" (got " .. tostring(bg) .. ")")
  end
  local y = {}
  for i = 1, n do y[i] = I[i] - bgf(s[i]) end
  local w, info = half_width(s, y, i1, i2, j1, j2)
  if not w then return nil, fname .. ": " .. info end
  info.peak = I[info.imax]
  info.position = s[info.imax]
  info.background = bgf(s[info.imax])
  info.height = y[info.imax]
  return w, info
end

M.fwhm = function(p, o)
  local fname = "tds.fwhm"
  o = check_keys(fname, o, FWHM_KEYS)
  -- a profile {s=, I=}
  if type(p) == "table" and not is_array(p) and p.s ~= nil then
    local s = argcheck.list_of(p.s, fname, "profile.s")
    local I = argcheck.list_of(p.I, fname, "profile.I")
    local at = o.at
    if at ~= nil and not isnum(at) then fail(fname, "at must be a position s along the profile (1/Å)") end
    return fwhm_of_profile(fname, s, I, o, at)
  end
  -- a pattern: a line through the point
  local pat = pattern_of(p, o, fname)
  local recip = recip_of(o.recip or pat.recip, fname)
  local kx, ky = kpoint(o.at, o.k, recip, fname, "at", "k")
  local ux, uy = 1.0, 0.0
  if o.along ~= nil then
    local a = o.along
    if type(a) ~= "table" or not isnum(a[1]) or not isnum(a[2]) then
      fail(fname, "along must be a direction {ux, uy} in the pattern plane")
    end
    local l = sqrt(a[1] ^ 2 + a[2] ^ 2)
    if l == 0 then fail(fname, "along must not be the zero vector") end
    ux, uy = a[1] / l, a[2] / l
  end
  local dmin = math.min(pat.dkx, pat.dky)
  local win = o.window or 10 * dmin
  if not isnum(win) or win <= 0 then fail(fname, "window must be a number > 0 (1/Å)") end
  local n = o.n or (2 * math.ceil(win / dmin) * 16 + 1)
  local prof = M.profile(p, {from_k = {kx - win * ux, ky - win * uy}, to_k = {kx + win * ux, ky + win * uy},
                             n = n, dk = o.dk, order = o.order, width = o.width, width_px = o.width_px})
  local w, info = fwhm_of_profile(fname, prof.s, prof.I,
                                  {search = o.search, background = o.background}, win)
  if not w then return nil, info end
  local d = info.position - win
  info.k = {kx + d * ux, ky + d * uy}
  info.profile = prof
  return w, info
end

---------------------------------------------------------------- least-squares scale
-- all values of a number list, kiln.Array (any shape) or profile {I=}
local function values(x, fname, what)
  if type(x) == "table" and not is_array(x) and x.I ~= nil then x = x.I end
  if is_array(x) then
    local r, c = x:shape()
    local out = {}
    for i = 1, r do for j = 1, c do out[#out + 1] = x:get(i, j) end end
    return out
  end
  if type(x) ~= "table" then
    fail(fname, what .. " must be a list of numbers, a kiln.Array or a profile {I=} (got " .. type(x) .. ")")
  end
  if type(x[1]) == "table" then   -- table of rows
    local out = {}
    for i = 1, #x do
      if type(x[i]) ~= "table" then fail(fname, what .. " row " .. i .. " is not a table") end
      for j = 1, #x[i] do out[#out + 1] = x[i][j] end
    end
    x = out
  end
  for i = 1, #x do
    if type(x[i]) ~= "number" then
      fail(fname, string.format("%s[%d] is not a number (got %s)", what, i, type(x[i])))
    end
  end
  return x
end

M.fit_scale = function(sim, meas, o)
  local fname = "tds.fit_scale"
  o = check_keys(fname, o, {"background", "weights"})
  local s = values(sim, fname, "sim")
  local m = values(meas, fname, "meas")
  if #s ~= #m then fail(fname, string.format("sim has %d values but meas has %d", #s, #m)) end
  local w
  if o.weights ~= nil then
    if isnum(o.weights) then w = nil
    else
      w = values(o.weights, fname, "weights")
      if #w ~= #s then fail(fname, string.format("weights has %d values but sim has %d", #w, #s)) end
      for i = 1, #w do
        if w[i] < 0 then fail(fname, string.format("weights[%d] is negative (%g)", i, w[i])) end
      end
    end
  end
  local bg = o.background
  if bg ~= nil and type(bg) ~= "boolean" then fail(fname, "background must be true or false") end
  -- weighted sums over usable points (finite sim and meas, weight > 0)
  local sw, ss, sm, nuse = 0.0, 0.0, 0.0, 0
  local use = {}
  for i = 1, #s do
    local wi = w and w[i] or 1.0
    if wi > 0 and isnum(s[i]) and isnum(m[i]) then
      use[i] = wi
      sw, ss, sm, nuse = sw + wi, ss + wi * s[i], sm + wi * m[i], nuse + 1
    end
  end
  if nuse < (bg and 3 or 2) then
    fail(fname, string.format("need at least %d usable points (finite, weight > 0); got %d", bg and 3 or 2, nuse))
  end
  local sbar, mbar = ss / sw, sm / sw
  local num, den, stot = 0.0, 0.0, 0.0
  for i, wi in pairs(use) do
    local ds, dm = s[i] - (bg and sbar or 0.0), m[i] - mbar
    num = num + wi * ds * (m[i] - (bg and mbar or 0.0))
    den = den + wi * ds * ds
    stot = stot + wi * dm * dm
  end
  if den <= 0 then fail(fname, "sim is " .. (bg and "constant" or "zero") .. ": the scale is undetermined") end
  local a = num / den
  local b = bg and (mbar - a * sbar) or 0.0
  local res, sres = {}, 0.0
  for i = 1, #s do
    if use[i] then
      local r = m[i] - (a * s[i] + b)
      res[i] = r
      sres = sres + use[i] * r * r
    else
      res[i] = 0 / 0
    end
  end
  local r2 = stot > 0 and 1 - sres / stot or (sres == 0 and 1.0 or 0 / 0)
  return {scale = a, background = b, r2 = r2, residual = res, rms = sqrt(sres / sw), n = nuse}
end

---------------------------------------------------------------- figures
local function shquote(x) return "'" .. tostring(x):gsub("'", "'\\''") .. "'" end
local function gpquote(x) return "'" .. tostring(x):gsub("'", "''") .. "'" end
local function fmt(v) return string.format("%.6g", v) end

local function split_path(file)
  local dir, name = file:match("^(.*)/([^/]*)$")
  if not dir then dir, name = ".", file end
  if dir == "" then dir = "/" end
  local base, ext = name:match("^(.*)%.([^.]+)$")
  if not base or base == "" then base, ext = name, "" end
  return dir, base, ext:lower()
end

local function write_atomic(path, fill)
  local tmp = string.format("%s.tmp%d", path, math.random(1, 1 << 30))
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  local ok, werr = pcall(fill, f)
  local cok, cerr = f:close()
  if not ok or not cok then os.remove(tmp); return nil, tostring(ok and cerr or werr) end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp); return nil, rerr end
  return true
end

local function gnuplot() return (package.loaded["kiln.plot"] and package.loaded["kiln.plot"].program) or
                                os.getenv("KILN_GNUPLOT") or "gnuplot" end

local function terminal_line(ext, size, fname)
  local w, h = size[1], size[2]
  if ext == "png" then return string.format("set terminal pngcairo size %d,%d noenhanced font 'Sans,11'", w, h)
  elseif ext == "svg" then return string.format("set terminal svg size %d,%d dynamic noenhanced font 'Sans,11'", w, h)
  elseif ext == "pdf" then return string.format("set terminal pdfcairo size %.2fin,%.2fin noenhanced font 'Sans,10'", w / 100, h / 100)
  end
  fail(fname, "unsupported figure type '." .. ext .. "' (use .png, .svg or .pdf)")
end

local function render(file, dat_fill, script)
  local dir, base = split_path(file)
  local stem = (dir == "." and "" or dir .. "/") .. base
  local ok, err = write_atomic(stem .. ".dat", dat_fill)
  if not ok then return nil, "cannot write " .. stem .. ".dat: " .. tostring(err) end
  ok, err = write_atomic(stem .. ".gp", function(f) f:write(table.concat(script, "\n"), "\n") end)
  if not ok then return nil, "cannot write " .. stem .. ".gp: " .. tostring(err) end
  local p = io.popen("cd " .. shquote(dir) .. " && " .. shquote(gnuplot()) .. " " .. shquote(base .. ".gp") ..
                     " </dev/null 2>&1")
  if not p then return nil, "cannot run gnuplot" end
  local out = (p:read("a") or ""):gsub("%s+$", "")
  local _, _, code = p:close()
  if code == 127 then return nil, "gnuplot not found (install gnuplot-nox)" end
  if code ~= 0 then return nil, string.format("gnuplot failed on %s.gp (exit %s): %s", stem, tostring(code), out) end
  local f = io.open(file, "rb")
  if not f then return nil, "gnuplot did not write " .. file end
  f:close()
  return file
end

local function check_file(o, fname)
  if type(o.file) ~= "string" or o.file == "" then
    fail(fname, "file= (the figure's path, e.g. \"pattern.png\") is required")
  end
  local size = o.size or {760, 700}
  if type(size) ~= "table" or not isnum(size[1]) or not isnum(size[2]) then
    fail(fname, "size must be {width, height} in pixels")
  end
  local _, _, ext = split_path(o.file)
  return size, terminal_line(ext, size, fname)
end

local IMAGE_KEYS = {"file", "log", "crop", "range", "decades", "title", "marks", "line", "lines", "size",
                    "dk", "order", "cblabel", "exclude"}

M.image = function(pattern, o)
  local fname = "tds.image"
  if o == nil then fail(fname, "options {file=} are required") end
  o = check_keys(fname, o, IMAGE_KEYS)
  local pat = pattern_of(pattern, o, fname)
  local _, term = check_file(o, fname)
  local nx, ny, dkx, dky = pat.nx, pat.ny, pat.dkx, pat.dky
  -- pixel window (0-based offsets from the direct beam)
  local cropx, cropy = nx, ny
  if o.crop ~= nil then
    local c = o.crop
    local cx, cy
    if isnum(c) then cx, cy = c, c
    elseif type(c) == "table" and isnum(c[1]) and isnum(c[2]) then cx, cy = c[1], c[2]
    else fail(fname, "crop must be a number or {kx_max, ky_max} (1/Å)") end
    if cx <= 0 or cy <= 0 then fail(fname, "crop must be > 0 (1/Å)") end
    cropx, cropy = floor(cx / dkx + 1e-9), floor(cy / dky + 1e-9)
  end
  local xlo, xhi = -math.min(pat.cx, cropx), math.min(nx - 1 - pat.cx, cropx)
  local ylo, yhi = -math.min(pat.cy, cropy), math.min(ny - 1 - pat.cy, cropy)
  if pat.fft then
    xlo, xhi = -math.min(nx // 2, cropx), math.min((nx - 1) // 2, cropx)
    ylo, yhi = -math.min(ny // 2, cropy), math.min((ny - 1) // 2, cropy)
  end
  local function at(iy, ix)           -- offsets from the direct beam
    if pat.fft then return pat.get(iy % ny + 1, ix % nx + 1) end
    return pat.get(pat.cy + iy + 1, pat.cx + ix + 1)
  end
  local log = o.log ~= false
  -- colour range: the largest value outside `exclude` pixels of the direct beam (default 2),
  -- `decades` (default 4) below it on a log scale; or range={lo, hi}
  local lo, hi
  if o.range ~= nil then
    local r = o.range
    if type(r) ~= "table" or not isnum(r[1]) or not isnum(r[2]) or r[2] <= r[1] or (log and r[1] <= 0) then
      fail(fname, "range must be {min, max} with min < max" .. (log and " and min > 0 (log scale)" or ""))
    end
    lo, hi = r[1], r[2]
  else
    local ex = o.exclude or 2
    if not isnum(ex) or ex < 0 then fail(fname, "exclude must be a number of pixels >= 0") end
    local vmax, vmin = -math.huge, math.huge
    for iy = ylo, yhi do
      for ix = xlo, xhi do
        local v = at(iy, ix)
        if ix * ix + iy * iy > ex * ex and v > vmax then vmax = v end
        if v < vmin then vmin = v end
      end
    end
    if not (vmax > -math.huge) then vmax = at(0, 0) end
    local dec = o.decades or 4
    if not isnum(dec) or dec <= 0 then fail(fname, "decades must be a number > 0") end
    if log then
      if not (vmax > 0) then return nil, fname .. ": no positive intensity to show on a log scale" end
      hi, lo = vmax, vmax * 10 ^ (-dec)
    else
      hi, lo = vmax, vmin
      if hi <= lo then hi = lo + 1 end
    end
  end
  local _, base = split_path(o.file)
  local s = {
    "# " .. base .. ".gp: written by kiln.tds.image; edit and rerun with: gnuplot " .. base .. ".gp",
    "set encoding utf8", term, "set output " .. gpquote(o.file:match("[^/]*$")),
    "set size ratio -1", "set tics out", "set xlabel 'k_x (1/Å)'", "set ylabel 'k_y (1/Å)'",
    "set palette defined (0 '#000004', 1 '#3b0f70', 2 '#8c2981', 3 '#de4968', 4 '#fe9f6d', 5 '#fcfdbf')",
    string.format("set cbrange [%s:%s]", fmt(lo), fmt(hi)),
    string.format("set xrange [%s:%s]", fmt((xlo - 0.5) * dkx), fmt((xhi + 0.5) * dkx)),
    string.format("set yrange [%s:%s]", fmt((ylo - 0.5) * dky), fmt((yhi + 0.5) * dky)),
    "set cblabel " .. gpquote(o.cblabel or (log and "intensity (log scale)" or "intensity")),
  }
  if log then s[#s + 1] = "set logscale cb"; s[#s + 1] = "set format cb '%.0e'" end
  if o.title then s[#s + 1] = "set title " .. gpquote(o.title) end
  -- marks: {{k={kx, ky}, label=}, ...}; lines: {{from_k, to_k}, ...} (or line={from_k, to_k})
  if o.marks ~= nil then
    if type(o.marks) ~= "table" then fail(fname, "marks must be a list of {k={kx, ky}, label=}") end
    for i, m in ipairs(o.marks) do
      local k = type(m) == "table" and (m.k or m)
      if type(k) ~= "table" or not isnum(k[1]) or not isnum(k[2]) then
        fail(fname, "marks[" .. i .. "] must be {k={kx, ky}, label=} (1/Å)")
      end
      s[#s + 1] = string.format("set object %d circle at %s,%s size %s front fillstyle empty border lc rgb '#00ffff' lw 1",
                                i, fmt(k[1]), fmt(k[2]), fmt(m.radius or 2 * math.max(dkx, dky)))
      if m.label then
        s[#s + 1] = string.format("set label %d %s at %s,%s offset 0.6,0.6 front tc rgb '#00ffff'", i,
                                  gpquote(m.label), fmt(k[1]), fmt(k[2]))
      end
    end
  end
  local lines = o.lines or (o.line and {o.line}) or {}
  if type(lines) ~= "table" then fail(fname, "lines must be a list of {{kx, ky}, {kx, ky}}") end
  for i, l in ipairs(lines) do
    if type(l) ~= "table" or type(l[1]) ~= "table" or type(l[2]) ~= "table" or not isnum(l[1][1]) or
       not isnum(l[1][2]) or not isnum(l[2][1]) or not isnum(l[2][2]) then
      fail(fname, "line " .. i .. " must be {{kx1, ky1}, {kx2, ky2}} (1/Å)")
    end
    s[#s + 1] = string.format("set arrow %d from %s,%s to %s,%s nohead front lc rgb '#ffffff' lw 1 dt 2", i,
                              fmt(l[1][1]), fmt(l[1][2]), fmt(l[2][1]), fmt(l[2][2]))
  end
  s[#s + 1] = string.format("plot %s matrix using (%s + $1*%s):(%s + $2*%s):3 with image notitle",
                            gpquote(base .. ".dat"), fmt(xlo * dkx), fmt(dkx), fmt(ylo * dky), fmt(dky))
  local floor_v = log and lo * 1e-3 or nil
  local fill = function(f)
    f:write(string.format("# %s.dat: written by kiln.tds.image; matrix: one line per ky from %s, " ..
                          "columns kx from %s, steps %s, %s 1/Å\n", base, fmt(ylo * dky), fmt(xlo * dkx),
                          fmt(dkx), fmt(dky)))
    for iy = ylo, yhi do
      local row = {}
      for ix = xlo, xhi do
        local v = at(iy, ix)
        if floor_v and not (v > floor_v) then v = floor_v end
        row[#row + 1] = fmt(v)
      end
      f:write(table.concat(row, " "), "\n")
    end
  end
  return render(o.file, fill, s)
end

M.plot_profiles = function(profiles, o)
  local fname = "tds.plot_profiles"
  if type(profiles) ~= "table" or is_array(profiles) then fail(fname, "profiles must be a list of profiles {s=, I=}") end
  if profiles.s ~= nil then profiles = {profiles} end
  if #profiles == 0 then fail(fname, "profiles is empty") end
  o = check_keys(fname, o, {"file", "logy", "labels", "title", "xlabel", "ylabel", "size", "marks", "xrange", "yrange"})
  local plot = require "kiln.plot"
  local series = {}
  local colors = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}
  for i, p in ipairs(profiles) do
    if type(p) ~= "table" or p.s == nil or p.I == nil then
      fail(fname, "profiles[" .. i .. "] must be a profile {s=, I=} (from tds.profile)")
    end
    series[i] = {x = p.s, y = p.I, label = (o.labels and o.labels[i]) or p.label or ("profile " .. i),
                 color = p.color or colors[(i - 1) % #colors + 1]}
  end
  if o.marks ~= nil then   -- vertical lines at positions s: {{s=, label=}, ...}
    local lo, hi = math.huge, -math.huge
    for _, p in ipairs(profiles) do
      for _, v in ipairs(p.I) do
        if v == v and (not o.logy or v > 0) then lo, hi = math.min(lo, v), math.max(hi, v) end
      end
    end
    for i, m in ipairs(o.marks) do
      if type(m) ~= "table" or not isnum(m.s) then fail(fname, "marks[" .. i .. "] must be {s=, label=}") end
      series[#series + 1] = {x = {m.s, m.s}, y = {lo, hi}, color = "#7f7f7f", lw = 1, label = m.label}
    end
  end
  local png, err = plot.lines{file = o.file, series = series, logy = o.logy ~= false and o.logy or nil,
                              title = o.title, xlabel = o.xlabel or "distance along the line (1/Å)",
                              ylabel = o.ylabel or "intensity", size = o.size, xrange = o.xrange,
                              yrange = o.yrange}
  return png, err
end

M.__help = [[
kiln.tds: electron diffraction pattern analysis (line profiles, FWHM, scale fits, log images).
A pattern is {I = kiln.Array ny x nx, dk = {dkx, dky} (1/Å per pixel)} with the direct beam at
row ny//2+1, column nx//2+1 (k = 1/d, no 2π); a plain Array is accepted with dk= in the options.
  tds.profile(p, {from={h,k}, to={h,k}, recip=, n=, width=}) -> {s=, I=, k=, length=}
  tds.fwhm(p or profile, {at=, k=, along=, window=, search=, background=}) -> fwhm (1/Å), info
  tds.fit_scale(sim, meas, {background=false, weights=}) -> {scale=, background=, r2=, residual=, rms=}
  tds.image(p, {file="p.png", log=true, crop=, range=, decades=4, marks=, line=, title=}) -> path
  tds.plot_profiles({prof1, prof2}, {file=, labels=, logy=, marks=}) -> path
  tds.reciprocal(cell) -> 3 x 2 in-plane reciprocal vectors (1/Å) of a cell in the beam frame
  tds.pattern(I, dk[, extra]) -> pattern table (I: Array, or a function I(kx, ky) with
                               extra = {nx=, ny=});  tds.sample(p, kx, ky) -> bilinear value]]

return M
