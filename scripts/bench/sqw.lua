-- Benchmark driver for scripts/bench-sqw.sh: coherent and incoherent S(q,w) of the
-- 4096-atom Si Stillinger-Weber trajectory of ../shared/bench/dynasor (2001 frames every
-- 5 fs, 100 q-points on G-X-K-G-L replicated by the 6 axis permutations x 4 sign
-- patterns, window 500), read from the LAMMPS dump, and computed in situ during kiln's own
-- MD with the deck's protocol.
--
-- usage: kiln scripts/bench/sqw.lua offline DUMP      coherent: parse, rho(q,t), correlation
--        kiln scripts/bench/sqw.lua incoherent DUMP   the same run with incoherent=true
--        kiln scripts/bench/sqw.lua insitu            MD alone vs MD + correlator
-- env:   BENCH_FRAMES (frames used, default 2001), BENCH_NQ (100), BENCH_WINDOW (500),
--        BENCH_ISTEP (incoherent_step: frames between the self part's time origins),
--        BENCH_REPS (runs per stage, default 3),
--        BENCH_NVT_STEPS (in situ equilibration, default 5000; with fewer frames the NVE
--        length, at most 5000), POTDIR
-- Prints a readable table and one machine line "RESULT key=value ..." for the shell script.
-- Stages: total = one feed pass over the file with the full correlator, then c:result();
--   parse = a feed pass with one q-point and window 2 (its rho is 1% of the full one);
--   rho = the first 20 frames held in memory and added (c:add) as many times as there are
--   frames, with window 2 (no correlation work to speak of); correlation = the same with
--   the full window (and incoherent part) minus rho; result = c:result() (FFTs to S(q,w)).
--   Each stage is the fastest of BENCH_REPS runs (default 3) by CPU time. CPU times are the
--   process's (all threads); run with OMP_NUM_THREADS=1 for one-core numbers.
local kiln = require "kiln"
local mode, dump = arg[1], arg[2]
local NF = tonumber(os.getenv("BENCH_FRAMES") or "2001")
local NQ = tonumber(os.getenv("BENCH_NQ") or "100")
local W = tonumber(os.getenv("BENCH_WINDOW") or "500")
local ISTEP = tonumber(os.getenv("BENCH_ISTEP") or "") -- incoherent_step (nil: the style's default)
local REPS = tonumber(os.getenv("BENCH_REPS") or "3")     -- runs per stage (the fastest is kept)
local NCACHE = 20                                           -- frames held in memory for the rho timing
local DT = 5.0 -- fs between frames (dump every 5 steps of 1 fs)
local potdir = os.getenv("POTDIR") or "/usr/share/lammps/potentials"
local A0 = 5.431
local HBAR_MEV_FS = 658.2119569 -- meV fs: E = hbar w

---------------------------------------------------------------- q-points
-- The path G-X-K-G-L on the 8x8x8 conventional supercell as integer indices h of the
-- supercell's reciprocal lattice (q = 2 pi h / L), as time_dynasor_sqw.py builds it:
-- replicated by the axis permutations (itertools order) x sign patterns, de-duplicated
-- keeping first occurrences, the first NQ kept.
local function int(x) return math.tointeger(x) or math.floor(x + 0.5) end

local function gcd(a, b) a, b = math.abs(a), math.abs(b); while b ~= 0 do a, b = b, a % b end; return a end

local function path_direct(n)
  local P = {G = {0, 0, 0}, X = {0, 1, 0}, K = {0.75, 0.75, 0}, L = {0.5, 0.5, 0.5}} -- 2 pi / a units
  local hkl = {}
  for _, seg in ipairs{{"G", "X"}, {"X", "K"}, {"K", "G"}, {"G", "L"}} do
    local A, B = {}, {}
    for d = 1, 3 do
      local x, y = P[seg[1]][d] * n, P[seg[2]][d] * n
      assert(x == math.floor(x) and y == math.floor(y), "label not commensurate")
      A[d], B[d] = int(x), int(y)
    end
    local D = {B[1] - A[1], B[2] - A[2], B[3] - A[3]}
    local g = gcd(gcd(D[1], D[2]), D[3])
    for k = 0, g do hkl[#hkl + 1] = {A[1] + k * D[1] // g, A[2] + k * D[2] // g, A[3] + k * D[3] // g} end
  end
  return hkl
end

-- kiln.qpoints.path when available (its hkl are the supercell indices), checked against
-- the direct construction; the direct list otherwise.
local function path_hkl(atoms, n)
  local direct = path_direct(n)
  local ok, qp = pcall(require, "kiln.qpoints")
  if ok and type(qp) == "table" and qp.path then
    local ok2, p = pcall(qp.path, atoms, {"G", "X", "K", "G", "L"}, {lattice = "fcc", a = A0})
    if ok2 and type(p) == "table" and p.hkl then
      local h = p.hkl:totable()
      -- the same points (kiln.qpoints.path drops the repeated labels at segment joints)
      local seen, same = {}, true
      for _, v in ipairs(direct) do seen[string.format("%d,%d,%d", v[1], v[2], v[3])] = true end
      for i, v in ipairs(h) do
        h[i] = {int(v[1]), int(v[2]), int(v[3])}
        if not seen[string.format("%d,%d,%d", h[i][1], h[i][2], h[i][3])] then same = false end
      end
      if same then return h, "kiln.qpoints.path" end
      io.stderr:write("kiln.qpoints.path differs from the direct construction; using the direct one\n")
    end
  end
  return direct, "built directly"
end

local function qlist(atoms)
  local c = atoms:cell()
  for i = 1, 3 do for j = 1, 3 do
    assert(i == j or math.abs(c[i][j]) < 1e-9, "the benchmark expects an orthogonal box")
  end end
  local n = math.floor(c[1][1] / A0 + 0.5)
  local path, source = path_hkl(atoms, n)
  local perms = {{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}}
  local signs = {{1, 1, 1}, {-1, 1, 1}, {1, -1, 1}, {1, 1, -1}}
  local seen, hkl = {}, {}
  for _, p in ipairs(perms) do
    for _, s in ipairs(signs) do
      for _, h in ipairs(path) do
        local v = {int(h[p[1]] * s[1]), int(h[p[2]] * s[2]), int(h[p[3]] * s[3])}
        local key = string.format("%d,%d,%d", v[1], v[2], v[3])
        if not seen[key] then seen[key] = true; hkl[#hkl + 1] = v end
      end
    end
  end
  local nunique = #hkl
  local q = {}
  for i = 1, math.min(NQ, #hkl) do
    local h = hkl[i]
    q[i] = {2 * math.pi * h[1] / c[1][1], 2 * math.pi * h[2] / c[2][2], 2 * math.pi * h[3] / c[3][3]}
  end
  return q, #path, nunique, source
end

---------------------------------------------------------------- helpers

local function peaks_meV(res, q, target)
  local best, bi = math.huge, 1
  for i, v in ipairs(q) do
    local d = (v[1] - target[1]) ^ 2 + (v[2] - target[2]) ^ 2 + (v[3] - target[3]) ^ 2
    if d < best then best, bi = d, i end
  end
  local s, w = res.sqw_coh:totable(), res.omega:totable()
  local row = s[bi]
  local function om(k) return type(w[k]) == "table" and w[k][1] or w[k] end
  local mx = 0
  for k = 1, #row do if om(k) * HBAR_MEV_FS > 2 and row[k] > mx then mx = row[k] end end
  local out = {}
  for k = 2, #row - 1 do
    local e = om(k) * HBAR_MEV_FS
    if e > 2 and row[k] > row[k - 1] and row[k] >= row[k + 1] and row[k] > 0.05 * mx and #out < 8 then
      out[#out + 1] = string.format("%.2f", e)
    end
  end
  return table.concat(out, " ")
end

local function result_line(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    parts[#parts + 1] = k .. "=" .. (type(v) == "number" and string.format("%.6g", v) or tostring(v))
  end
  print("RESULT " .. table.concat(parts, " "))
end

-- bytes of the first frame (all frames have the same size in this dump)
local function frame_bytes(file)
  local f = assert(io.open(file, "rb"))
  local n, items = 0, 0
  for line in f:lines("L") do
    if line:sub(1, 14) == "ITEM: TIMESTEP" then
      items = items + 1
      if items == 2 then break end
    end
    n = n + #line
  end
  f:close()
  return n
end

local function first_frame(file)
  return kiln.io.read(file, {index = 1, symbols = {"Si"}})
end

-- One pass over the file into a new sqw correlator: wall s, cpu s, the correlator.
local function pass(file, q, window, incoherent)
  local c = kiln.correlator.sqw{q = q, window = window, dt = DT, incoherent = incoherent or nil,
                                incoherent_step = incoherent and ISTEP or nil}
  local t0, c0 = kiln.wtime(), os.clock()
  kiln.correlator.feed(file, {c}, {symbols = {"Si"}, timestep = 1.0, stop = NF, progress = false})
  return kiln.wtime() - t0, os.clock() - c0, c
end

---------------------------------------------------------------- offline

-- nframes frames through c:add from frames held in memory (no parsing): wall s, cpu s
local function add_loop(frames, nframes, q, window, incoherent)
  local c = kiln.correlator.sqw{q = q, window = window, dt = DT, incoherent = incoherent or nil,
                                incoherent_step = incoherent and ISTEP or nil}
  local t0, c0 = kiln.wtime(), os.clock()
  for k = 1, nframes do c:add(frames[(k - 1) % #frames + 1], (k - 1) * DT) end
  local w, cp = kiln.wtime() - t0, os.clock() - c0
  c:close()
  return w, cp
end

-- best (lowest CPU) of REPS runs of f(): wall, cpu, extra results of that run
local function best(f)
  local bw, bc, bx
  for _ = 1, REPS do
    local w, cp, x = f()
    if not bc or cp < bc then bw, bc = w, cp; if bx and bx.close then bx:close() end; bx = x
    elseif x and x.close then x:close() end
  end
  return bw, bc, bx
end

local function offline(file, incoherent)
  local a = first_frame(file)
  local natoms = #a
  local q, npath, nunique, source = qlist(a)
  local nq = #q
  print(string.format("kiln S(q,w) from %s: %d atoms, up to %d frames, %d q-points (path %d points, %s; " ..
                      "%d unique after symmetrisation), window %d, dt %g fs, %s; best of %d runs per stage",
                      file, natoms, NF, nq, npath, source, nunique, W, DT,
                      incoherent and "coherent + incoherent" or "coherent", REPS))
  -- whole runs over the file: full (one pass), and parsing (+ one q-point, window 2)
  local wf, cf, cfull = best(function() return pass(file, q, W, incoherent) end)
  local nframes = cfull.nframes
  local t0, c0 = kiln.wtime(), os.clock()
  local res = cfull:result()
  local wres, cres = kiln.wtime() - t0, os.clock() - c0
  local istep = res.incoherent_step
  cfull:close()
  local wp, cpp = best(function() local w, cp, c = pass(file, {q[2]}, 2); c:close(); return w, cp end)
  -- rho and correlation without parsing: NCACHE frames in memory, fed nframes times
  local cache = {}
  for k = 1, math.min(NCACHE, nframes) do cache[k] = kiln.io.read(file, {index = k, symbols = {"Si"}}) end
  local wr, cr = best(function() return add_loop(cache, nframes, q, 2) end)
  local wc, cc = best(function() return add_loop(cache, nframes, q, W, incoherent) end)
  local wcorr, ccorr = math.max(wc - wr, 0), math.max(cc - cr, 0)
  local ns_wall = wr / (natoms * nq * nframes) * 1e9
  local ns_cpu = cr / (natoms * nq * nframes) * 1e9
  local mb = frame_bytes(file) * nframes / 1e6
  local fmt = "  %-38s %9.3f s wall %9.3f s cpu"
  print(string.format(fmt .. "   (%.0f MB/s cpu)", "parse the dump (+1 q-point)", wp, cpp, mb / cpp))
  print(string.format(fmt .. "   (%.3f ns/atom/q/frame cpu, %.3f wall)", "rho(q,t), all q-points", wr, cr, ns_cpu, ns_wall))
  print(string.format(fmt, incoherent and "correlation (coherent + incoherent)" or "correlation (coherent)", wcorr, ccorr))
  print(string.format(fmt, "result (FFT to S(q,w))", wres, cres))
  print(string.format(fmt, "total: one pass over the file + result", wf + wres, cf + cres))
  print(string.format("  (sum of the stages: %.3f s cpu; frames %d, %.0f MB of text)", cpp + cr + ccorr + cres, nframes, mb))
  if not incoherent then
    local X = {2 * math.pi / A0, 0, 0}
    local L = {math.pi / A0, math.pi / A0, math.pi / A0}
    print("  S(q,w) peaks at X (meV): " .. peaks_meV(res, q, X))
    print("  S(q,w) peaks at L (meV): " .. peaks_meV(res, q, L))
  else
    print(string.format("  incoherent time origins every %s frames", tostring(istep)))
  end
  result_line{mode = incoherent and "incoherent" or "coherent", natoms = natoms, nq = nq, nframes = nframes, mb = mb,
              window = W, parse_wall = wp, parse_cpu = cpp, rho_wall = wr, rho_cpu = cr,
              rho_ns_wall = ns_wall, rho_ns_cpu = ns_cpu, corr_wall = wcorr, corr_cpu = ccorr,
              result_wall = wres, result_cpu = cres, total_wall = wf + wres, total_cpu = cf + cres,
              incoherent_step = istep or 0}
end

---------------------------------------------------------------- in situ

local function insitu()
  local nve_steps = math.floor(DT + 0.5) * (NF - 1)
  local nvt_steps = tonumber(os.getenv("BENCH_NVT_STEPS") or (NF >= 2001 and "5000" or tostring(math.min(5000, nve_steps))))
  local atoms = kiln.crystal.diamond{symbol = "Si", a = A0}:supercell(8, 8, 8)
  atoms:set_masses(28.0855)
  local pot = kiln.potential.sw{file = potdir .. "/Si.sw"}
  atoms:set_velocities{T = 600, seed = 4928459}
  local q, npath, nunique, source = qlist(atoms)
  print(string.format("kiln in situ: %d atoms Si SW, NVT %d steps at 300 K then NVE %d steps (dt 1 fs), " ..
                      "sqw every 5 steps: %d q-points (%s), window %d", #atoms, nvt_steps, nve_steps, #q, source, W))
  local t0, c0 = kiln.wtime(), os.clock()
  kiln.md.nosehoover{dt = 1.0, T = 300, tau = 100}:run(atoms, pot, nvt_steps, {thermo = 0, skin = 1.0})
  local w_nvt, c_nvt = kiln.wtime() - t0, os.clock() - c0
  local start = atoms:copy()
  -- MD alone
  t0, c0 = kiln.wtime(), os.clock()
  local th = kiln.md.verlet{dt = 1.0}:run(atoms, pot, nve_steps, {thermo = 0, skin = 1.0})
  local w_md, c_md = kiln.wtime() - t0, os.clock() - c0
  -- MD + correlator, from the same state
  local a2 = start:copy()
  local sq = kiln.correlator.sqw{q = q, window = W, dt = DT}
  t0, c0 = kiln.wtime(), os.clock()
  local th2 = kiln.md.verlet{dt = 1.0}:run(a2, pot, nve_steps, {thermo = 0, skin = 1.0, observe = {sq}, every = 5})
  local w_mdc, c_mdc = kiln.wtime() - t0, os.clock() - c0
  t0, c0 = kiln.wtime(), os.clock()
  local res = sq:result()
  local w_res, c_res = kiln.wtime() - t0, os.clock() - c0
  local fmt = "  %-36s %9.3f s wall %9.3f s cpu"
  print(string.format(fmt, "NVT equilibration", w_nvt, c_nvt))
  print(string.format(fmt, "NVE, MD alone", w_md, c_md))
  print(string.format(fmt, "NVE, MD + sqw correlator", w_mdc, c_mdc))
  print(string.format(fmt, "correlator in situ (difference)", w_mdc - w_md, c_mdc - c_md))
  print(string.format(fmt, "result (FFT to S(q,w))", w_res, c_res))
  print(string.format("  frames %d, final T %.1f K (%.1f K with the correlator; same trajectory: %s)", sq.nframes,
                      th.T, th2.T, th.etot == th2.etot and "yes" or "NO"))
  local X = {2 * math.pi / A0, 0, 0}
  print("  S(q,w) peaks at X (meV): " .. peaks_meV(res, q, X))
  result_line{mode = "insitu", natoms = #atoms, nq = #q, nframes = sq.nframes, window = W, nvt_wall = w_nvt,
              md_wall = w_md, md_cpu = c_md, mdcorr_wall = w_mdc, mdcorr_cpu = c_mdc, result_wall = w_res,
              corr_wall = w_mdc - w_md, corr_cpu = c_mdc - c_md}
  sq:close()
end

if mode == "offline" or mode == "incoherent" then
  assert(dump, "usage: kiln scripts/bench/sqw.lua offline|incoherent DUMP")
  offline(dump, mode == "incoherent")
elseif mode == "insitu" then
  insitu()
else
  error("usage: kiln scripts/bench/sqw.lua offline DUMP | incoherent DUMP | insitu")
end
