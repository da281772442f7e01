-- kiln.tds: line profiles, FWHM, least-squares scale fits and images against analytic
-- patterns (2-D Gaussians, Lorentzians), and argument errors.
local kiln = require "kiln"
local tds = require "kiln.tds"

-- An analytic pattern ny x nx, direct beam at (ny//2+1, nx//2+1): I = f(kx, ky).
local function make(nx, ny, dkx, dky, f)
  local I = kiln.Array(ny, nx)
  local cx, cy = nx // 2, ny // 2
  for r = 1, ny do
    local ky = (r - 1 - cy) * dky
    for c = 1, nx do I:set(r, c, f((c - 1 - cx) * dkx, ky)) end
  end
  return {I = I, dk = {dkx, dky}, energy = 200e3}
end

local function gauss2(x0, y0, sigma, amp)
  return function(kx, ky) return amp * math.exp(-((kx - x0) ^ 2 + (ky - y0) ^ 2) / (2 * sigma ^ 2)) end
end

test("module is reachable as kiln.tds", function()
  assert(kiln.tds == tds)
  assert(type(tds.profile) == "function" and type(tds.fwhm) == "function")
end)

test("profile of a 2-D Gaussian is the 1-D Gaussian along the line", function()
  local sigma, x0, y0 = 0.12, 0.05, -0.03
  local p = make(96, 80, 0.01, 0.0125, gauss2(x0, y0, sigma, 3.0))
  -- a line through the centre at an angle: I(s) = 3 exp(-(s - s0)^2 / 2 sigma^2)
  local a, b = {x0 - 0.3, y0 - 0.2}, {x0 + 0.3, y0 + 0.2}
  local pr = tds.profile(p, {from_k = a, to_k = b, n = 121})
  assert(#pr.s == 121 and #pr.I == 121)
  local L = math.sqrt(0.6 ^ 2 + 0.4 ^ 2)
  close(pr.length, L, 1e-14)
  local maxerr = 0
  for i = 1, 121 do
    local exact = 3.0 * math.exp(-(pr.s[i] - L / 2) ^ 2 / (2 * sigma ^ 2))
    maxerr = math.max(maxerr, math.abs(pr.I[i] - exact))
  end
  -- bilinear interpolation error <= (hx^2 + hy^2)/8 max|f''| = (0.01^2 + 0.0125^2)/8 * 3/sigma^2
  -- = 6.7e-3 (of a peak of 3)
  assert(maxerr < 6.7e-3 and maxerr > 1e-4, maxerr)
  -- exact at pixel centres along a pixel row (bilinear is exact on the grid)
  local row = tds.profile(p, {from_k = {-0.4, 0.0}, to_k = {0.4, 0.0}, n = 81})
  for i = 1, 81 do
    local kx = -0.4 + (i - 1) * 0.01
    close(row.I[i], gauss2(x0, y0, sigma, 3.0)(kx, 0.0), 1e-12, 1e-15)
  end
end)

test("profile with indices and a reciprocal basis; width averaging", function()
  local p = make(64, 64, 0.02, 0.02, function(kx, ky) return 1 + 2 * kx + 3 * ky end)  -- linear: exact
  local recip = {{0.1, 0.0}, {0.0, 0.2}}
  local pr = tds.profile(p, {from = {-1, -1}, to = {2, 1}, recip = recip, n = 11, width = 0.1})
  close(pr.from_k[1], -0.1, 1e-15); close(pr.to_k[2], 0.2, 1e-15)
  for i = 1, 11 do
    local k = pr.k[i]
    close(pr.I[i], 1 + 2 * k[1] + 3 * k[2], 1e-12)   -- average across the width of a linear field
  end
  -- three indices and a 3 x 2 basis (tds.reciprocal of a beam-frame cell)
  local rc = tds.reciprocal{{5, 0, 0}, {0, 4, 0}, {0, 0, 10}}
  close(rc[1][1], 0.2, 1e-15); close(rc[2][2], 0.25, 1e-15); close(rc[3][1], 0, 0, 1e-15)
  local pr3 = tds.profile(p, {from = {0, 0, 3}, to = {1, 1, 0}, recip = rc, n = 3})
  close(pr3.length, math.sqrt(0.2 ^ 2 + 0.25 ^ 2), 1e-14)
  -- a pattern-level recip and a plain Array with dk=
  p.recip = recip
  local pr2 = tds.profile(p, {from = {0, 0}, to = {1, 0}, n = 2})
  close(pr2.I[2], 1.2, 1e-12)
  local pa = tds.profile(p.I, {dk = 0.02, from_k = {0, 0}, to_k = {0.1, 0}, n = 2})
  close(pa.I[2], 1.2, 1e-12)
end)

test("pattern centre = {column, row} (kiln.multislice) and FFT order", function()
  -- 5 x 6 pattern with k = 0 at column 2, row 4 (1-based): I = 1 + kx + 10 ky
  local I = kiln.Array(5, 6)
  for r = 1, 5 do for c = 1, 6 do I:set(r, c, 1 + (c - 2) * 0.1 + 10 * (r - 4) * 0.2) end end
  local p = {I = I, dk = {0.1, 0.2}, centre = {2, 4}}
  close(tds.sample(p, 0, 0), 1, 1e-14)
  close(tds.sample(p, 0.25, -0.3), 1 + 0.25 - 3, 1e-13)
  assert(tds.sample(p, -0.2, 0) == nil)            -- left of column 1
  checkerror("pattern.centre = {7, 1} is outside", tds.sample, {I = I, dk = 0.1, centre = {7, 1}}, 0, 0)
  -- FFT order: k = 0 at (1, 1), negative k wrap to the end
  local F = kiln.Array(4, 4)
  for r = 1, 4 do for c = 1, 4 do
    local ix, iy = (c - 1 + 2) % 4 - 2, (r - 1 + 2) % 4 - 2
    F:set(r, c, 1 + ix + 4 * iy)
  end end
  close(tds.sample({I = F, dk = 1, order = "fft"}, -1, -1), 1 - 1 - 4, 1e-14)
  close(tds.sample({I = F, dk = 1, order = "fft"}, 0.5, 0), 1.5, 1e-14)
end)

test("FWHM of a Gaussian is 2 sqrt(2 ln 2) sigma", function()
  local sigma = 0.37
  local s, I = {}, {}
  for i = 1, 4001 do
    s[i] = -3 + (i - 1) * 0.0015
    I[i] = 5 * math.exp(-(s[i] - 0.2) ^ 2 / (2 * sigma ^ 2))
  end
  local w, info = tds.fwhm({s = s, I = I})
  local exact = 2 * math.sqrt(2 * math.log(2)) * sigma
  close(w, exact, 1e-3)
  close(w, exact, 1e-5)                                  -- linear interpolation: O(h^2)
  close(info.position, 0.2, 0, 1e-3)
  close(info.peak, 5, 1e-6)
  -- on a 2-D pattern: a line through the spot (bilinear interpolation, 1 pixel = sigma/10)
  local sg = 0.1
  local p = make(128, 128, 0.01, 0.01, gauss2(0.2, -0.1, sg, 1.0))
  local w2, info2 = tds.fwhm(p, {k = {0.2, -0.1}, window = 0.4})
  close(w2, 2 * math.sqrt(2 * math.log(2)) * sg, 2e-3)
  close(info2.k[1], 0.2, 0, 1e-9); close(info2.k[2], -0.1, 0, 1e-9)
  local w3 = tds.fwhm(p, {k = {0.2, -0.1}, along = {1, 1}, window = 0.4})
  close(w3, 2 * math.sqrt(2 * math.log(2)) * sg, 5e-3)
  -- indexed point with recip
  local w4 = tds.fwhm(p, {at = {2, -1}, recip = {{0.1, 0}, {0, 0.1}}, along = {0, 1}, window = 0.4})
  close(w4, w2, 1e-9)
end)

test("FWHM of a Lorentzian is 2 gamma; background options", function()
  local gamma = 0.05
  local s, I, J = {}, {}, {}
  for i = 1, 8001 do
    s[i] = -2 + (i - 1) * 0.0005
    I[i] = 1 / (1 + (s[i] / gamma) ^ 2)
    J[i] = 2.0 + 0.3 * s[i] + 4 * I[i]                    -- on a linear background
  end
  local w = tds.fwhm({s = s, I = I})
  close(w, 2 * gamma, 1e-3)
  -- window around at=0 and a linear background through the window's end points: the
  -- Lorentzian tail at ±1 (0.0025 of the peak) biases the width by about that much
  local wb, info = tds.fwhm({s = s, I = J}, {at = 0, window = 1, background = "linear"})
  close(wb, 2 * gamma, 5e-3)
  close(info.background, 2.0, 0.01)
  local wc = tds.fwhm({s = s, I = J}, {at = 0, window = 1.5, background = 2.0})
  close(wc, 2 * gamma, 5e-3)                             -- the slope moves the crossings a little
  local wn = tds.fwhm({s = s, I = J}, {at = 0, window = 1.5})
  assert(wn > 3 * gamma, wn)                             -- without background: the half of 6 is 3
  -- a window that does not hold the half maximum: nil, message
  local x, msg = tds.fwhm({s = s, I = I}, {at = 0, window = 0.02})
  assert(x == nil and msg:find("outside the window", 1, true), msg)
  -- search= picks the peak near `at` when a taller one is in the window
  local K = {}
  for i = 1, #s do K[i] = I[i] + 3 / (1 + ((s[i] - 1) / gamma) ^ 2) end
  local _, ik = tds.fwhm({s = s, I = K}, {at = 0, search = 0.2})
  close(ik.position, 0, 0, 1e-9)
end)

test("fit_scale recovers scale and background exactly (R^2 = 1)", function()
  local sim, meas = {}, {}
  for i = 1, 50 do
    sim[i] = math.exp(-((i - 25) / 7) ^ 2) + 0.1 * math.sin(i)
    meas[i] = 2.5 * sim[i] + 0.3
  end
  local f = tds.fit_scale(sim, meas, {background = true})
  close(f.scale, 2.5, 1e-12); close(f.background, 0.3, 1e-12)
  close(f.r2, 1, 1e-12)
  assert(#f.residual == 50 and math.abs(f.residual[7]) < 1e-12)
  assert(f.rms < 1e-12 and f.n == 50)
  -- without background: exact for pure scaling
  local m2 = {}
  for i = 1, 50 do m2[i] = 0.7 * sim[i] end
  local g = tds.fit_scale(sim, m2)
  close(g.scale, 0.7, 1e-13); assert(g.background == 0); close(g.r2, 1, 1e-12)
  -- profiles and Arrays are accepted
  local h = tds.fit_scale({s = {}, I = sim}, kiln.Array(m2))
  close(h.scale, 0.7, 1e-13)
end)

test("fit_scale with noise: R^2 < 1, scale near the truth, weights and NaN", function()
  local rng = kiln.Rng(7)
  local sim, meas = {}, {}
  for i = 1, 400 do
    sim[i] = math.exp(-((i - 200) / 40) ^ 2)
    meas[i] = 1.8 * sim[i] + 0.05 + 0.02 * rng:normal()
  end
  local f = tds.fit_scale(sim, meas, {background = true})
  assert(f.r2 < 1 and f.r2 > 0.98, f.r2)
  close(f.scale, 1.8, 0.02); close(f.background, 0.05, 0.2)
  close(f.rms, 0.02, 0.15)
  -- independent check: ordinary least squares by the normal equations
  local n, sx, sy, sxx, sxy = 0, 0, 0, 0, 0
  for i = 1, 400 do n, sx, sy, sxx, sxy = n + 1, sx + sim[i], sy + meas[i], sxx + sim[i] ^ 2, sxy + sim[i] * meas[i] end
  local a = (n * sxy - sx * sy) / (n * sxx - sx * sx)
  close(f.scale, a, 1e-10)
  -- zero weight and NaN points are left out
  local w = {}
  for i = 1, 400 do w[i] = 1 end
  w[3] = 0; meas[3] = 1e6; meas[4] = 0 / 0
  local g = tds.fit_scale(sim, meas, {background = true, weights = w})
  close(g.scale, f.scale, 0.01)
  assert(g.n == 398 and g.residual[4] ~= g.residual[4])
end)

test("image writes a log-scaled PNG with its .gp and .dat", function()
  local p = make(64, 48, 0.02, 0.025, function(kx, ky)
    local v = 1e-4
    for h = -2, 2 do for k = -2, 2 do
      v = v + math.exp(-((kx - 0.2 * h) ^ 2 + (ky - 0.25 * k) ^ 2) / (2 * 0.02 ^ 2)) * 10 ^ (-(h * h + k * k) / 2)
    end end
    return v
  end)
  local file = tmpname("_pattern.png")
  local png, err = tds.image(p, {file = file, crop = 0.5, title = "test",
                                 marks = {{k = {0.1, 0.125}, label = "R"}}, line = {{-0.4, 0.125}, {0.4, 0.125}}})
  local stem = file:gsub("%.png$", "")
  local gp = io.open(stem .. ".gp"); assert(gp, "no .gp written")
  local script = gp:read("a"); gp:close()
  assert(script:find("logscale cb", 1, true) and script:find("matrix", 1, true))
  local dat = io.open(stem .. ".dat"); assert(dat)
  local nrow = 0
  for l in dat:lines() do if not l:match("^#") then nrow = nrow + 1 end end
  dat:close()
  assert(nrow == 41, nrow)            -- crop 0.5 1/Å: ±20 rows of 0.025
  os.remove(stem .. ".gp"); os.remove(stem .. ".dat")
  if not png then
    if err:find("not found", 1, true) then skip(err) end
    error(err)
  end
  local f = assert(io.open(file, "rb"))
  assert(f:read(8) == "\137PNG\r\n\26\n"); f:close()
  os.remove(file)
  local file2 = tmpname("_prof.png")
  local pr = tds.profile(p, {from_k = {-0.5, 0}, to_k = {0.5, 0}})
  local png2 = tds.plot_profiles({pr, {s = pr.s, I = pr.I, label = "copy"}},
                                 {file = file2, logy = true, marks = {{s = 0.5, label = "000"}}})
  assert(png2 == file2)
  local stem2 = file2:gsub("%.png$", "")
  os.remove(file2); os.remove(stem2 .. ".gp"); os.remove(stem2 .. ".dat")
end)

test("bad input: errors name the function and the argument", function()
  local p = make(16, 16, 0.1, 0.1, function() return 1 end)
  checkerror("tds.profile: from= needs recip=", tds.profile, p, {from = {1, 0}, to = {0, 1}})
  checkerror("tds.profile: unknown option 'form'", tds.profile, p, {form = {1, 0}})
  checkerror("tds.profile: the line leaves the pattern", tds.profile, p, {from_k = {0, 0}, to_k = {5, 0}})
  checkerror("from has 3 indices but recip has 2", tds.profile, p,
             {from = {1, 0, 0}, to = {0, 1}, recip = {{1, 0}, {0, 1}}})
  checkerror("dk= (1/Å per pixel", tds.profile, p.I, {from_k = {0, 0}, to_k = {0.1, 0}})
  checkerror("dk must be > 0", tds.profile, p.I, {dk = -1, from_k = {0, 0}, to_k = {0.1, 0}})
  checkerror("tds.profile: pattern must be", tds.profile, 42, {})
  checkerror("n must be an integer >= 2", tds.profile, p, {from_k = {0, 0}, to_k = {0.1, 0}, n = 1})
  checkerror("from and to are the same point", tds.profile, p, {from_k = {0, 0}, to_k = {0, 0}})
  checkerror("tds.fit_scale: sim has 3 values but meas has 2", tds.fit_scale, {1, 2, 3}, {1, 2})
  checkerror("tds.fit_scale: meas[2] is not a number", tds.fit_scale, {1, 2}, {1, "x"})
  checkerror("sim is zero", tds.fit_scale, {0, 0, 0}, {1, 2, 3})
  checkerror("sim is constant", tds.fit_scale, {1, 1, 1}, {1, 2, 3}, {background = true})
  checkerror("weights[1] is negative", tds.fit_scale, {1, 2}, {1, 2}, {weights = {-1, 1}})
  checkerror("tds.fwhm: background must be", tds.fwhm, {s = {0, 1, 2}, I = {0, 1, 0}}, {background = "x"})
  checkerror("tds.fwhm: at= (indices, with recip=) or k=", tds.fwhm, p, {})
  checkerror("tds.image: file= (the figure's path", tds.image, p, {})
  checkerror("tds.image: unsupported figure type '.jpg'", tds.image, p, {file = "x.jpg"})
  checkerror("tds.reciprocal: cell is singular", tds.reciprocal, {{1, 0, 0}, {2, 0, 0}, {0, 0, 1}})
  -- the error blames the caller's line, not kiln/tds.lua
  local msg = checkerror("tds.profile", tds.profile, p, {from = {1, 0}, to = {0, 1}})
  assert(not msg:find("tds.lua", 1, true) or msg:find("test_tds.lua", 1, true), msg)
end)
