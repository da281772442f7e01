-- tests/lua/test_descriptor.lua: kiln.descriptor and the design rows through Lua: forces and
-- virials of E = w.sum_i X_i (linear) and of the kernel model against finite differences
-- of d:compute, and SNAP rows contracted with the Ta06A coefficients against LAMMPS
-- (../shared/data/snap-ref, made by LAMMPS with ML-SNAP). Styles that are not available
-- yet are skipped.
local kiln = require "kiln"
local ml = kiln.ml

local TA16 = "../shared/data/snap-ref/ta16.xyz"
local SNAP = {twojmax = 6, rcutfac = 4.67637, rfac0 = 0.99363, rmin0 = 0, elements = {"Ta"},
              radelem = {0.5}, wj = {1}, bzeroflag = false}

local function try(style, opts)
  local ok, d = pcall(kiln.descriptor[style], opts)
  if not ok then
    if tostring(d):find("not implemented", 1, true) then skip(style .. " not implemented yet") end
    error(d, 0)
  end
  return d
end

local function ta16() return kiln.io.read(TA16)[1] end

-- a small two-species cell, strained and rattled
local function sio()
  local a = kiln.crystal.rocksalt{A = "Mg", B = "O", a = 4.2}
  a:set_cell({{4.2, 0.1, 0}, {0, 4.3, 0.05}, {0.1, 0, 4.1}}, {scale_atoms = true})
  a:rattle{sigma = 0.08, seed = 3}
  return a
end

-- E = sum_i sum_c w_c X_ic (or the kernel energy when sparse is given), from d:compute
local function energy(d, a, w, sparse, zeta)
  local X, el = d:compute(a)
  local n, nc = X:shape()
  local e = 0
  if not sparse then
    for i = 1, n do for c = 1, nc do e = e + w[c] * X:get(i, c) end end
    return e
  end
  local K = ml.kernel(X, el, sparse.X, sparse.el, zeta)
  local _, m = K:shape()
  for i = 1, n do for s = 1, m do e = e + w[s] * K:get(i, s) end end
  return e
end

local function dot(rows, w)
  return ml.matvec(rows, w)
end

-- forces (a few atoms) and the full virial of the rows against finite differences
local function check_rows(d, a, rows, w, sparse, zeta, tol)
  local F, W = dot(rows.forces, w), dot(rows.virial, w)
  local x = a:positions()
  local h = 1e-5
  local n = #a
  local maxf = 0
  for _, j in ipairs{1, math.max(1, n // 2), n} do
    for c = 1, 3 do
      local x0 = x:get(j, c)
      x:set(j, c, x0 + h); local ep = energy(d, a, w, sparse, zeta)
      x:set(j, c, x0 - h); local em = energy(d, a, w, sparse, zeta)
      x:set(j, c, x0)
      local fd = -(ep - em) / (2 * h)
      close(F[3 * (j - 1) + c], fd, tol, tol)
      maxf = math.max(maxf, math.abs(fd))
    end
  end
  assert(maxf > 1e-3, "forces are trivially small")
  -- W_ab = -dE/d eps_ab for x -> x (I + eps), cell -> cell (I + eps); Voigt xx yy zz yz xz xy
  local VA, VB = {1, 2, 3, 2, 1, 1}, {1, 2, 3, 3, 3, 2}
  local cell0 = a:cell()
  for v = 1, 6 do
    local e = {}
    for s, eps in ipairs{h, -h} do
      local b = a:copy()
      local cell = {}
      for r = 1, 3 do
        cell[r] = {cell0[r][1], cell0[r][2], cell0[r][3]}
        cell[r][VB[v]] = cell[r][VB[v]] + eps * cell0[r][VA[v]]
      end
      b:set_cell(cell, {scale_atoms = true})
      e[s] = energy(d, b, w, sparse, zeta)
    end
    close(W[v], -(e[1] - e[2]) / (2 * h), tol, tol)
  end
end

test("styles, records and errors", function()
  local names = {}
  for _, r in ipairs(kiln.descriptor.styles()) do
    names[r.name] = true
    assert(r.kind == "descriptor" and type(r.options) == "string")
  end
  assert(names.snap and names.soap and names.soap_vector)
  checkerror("unknown descriptor style 'snapp'", function() return kiln.descriptor.snapp end)
  checkerror("kiln.descriptor.snap: options table expected", kiln.descriptor.snap, 3)
  local help = require "kiln.help"
  assert(help.text(kiln.descriptor):find("kiln.descriptor", 1, true))
  assert(help.text(kiln.descriptor.snap):find("Options", 1, true) or
         help.text(kiln.descriptor.snap):find("snap", 1, true))
end)

test("snap: fields, compute, unknown option", function()
  local d = try("snap", SNAP)
  assert(d.ncols == 30 and d.style == "snap")
  close(d.cutoff, 4.67637, 1e-12)
  assert(d.elements[1] == "Ta" and #d.elements == 1)
  assert(tostring(d):find("kiln.Descriptor(snap", 1, true))
  local X, el = d:compute(ta16())
  local r, c = X:shape()
  assert(r == 16 and c == 30 and #el == 16 and el[1] == 1)
  checkerror("unknown option", kiln.descriptor.snap, {twojmax = 6, rcutfac = 4.67, elements = {"Ta"},
                                                      radelem = {0.5}, wj = {1}, nonsense = 1})
  checkerror("no parameters for element 'Mg'", d.compute, d, sio())
  d:close()
  checkerror("closed", function() return d.ncols end)
end)

test("snap: design rows with the Ta06A coefficients reproduce LAMMPS", function()
  local d = try("snap", SNAP)
  local a = ta16()
  local rows = d:design(a)
  assert(rows.counts[1] == 16)
  local r, c = rows.forces:shape()
  assert(r == 48 and c == 30)
  -- beta from the LAMMPS potential file (first of 31 is beta0)
  local beta = {}
  local f = assert(io.open("/usr/share/lammps/potentials/Ta06A.snapcoeff"))
  local lines = 0
  for line in f:lines() do
    if line:match("%S") and not line:match("^%s*#") then
      lines = lines + 1
      if lines > 2 then beta[#beta + 1] = tonumber(line:match("%S+")) end
    end
  end
  f:close()
  local w = {table.unpack(beta, 2, 31)}
  local E = dot(rows.energy, w)[1] + 16 * beta[1]
  close(E, -267.895901400558, 1e-10)
  -- forces from the dump (id x y z fx fy fz ...)
  local dump = assert(io.open("../shared/data/snap-ref/ta16_snap_only.dump"))
  local F = dot(rows.forces, w)
  local n = 0
  for line in dump:lines() do
    local id, fx, fy, fz = line:match("^(%d+) %S+ %S+ %S+ (%S+) (%S+) (%S+)")
    if id then
      id = tonumber(id)
      close(F[3 * (id - 1) + 1], tonumber(fx), 0, 1e-8)
      close(F[3 * (id - 1) + 2], tonumber(fy), 0, 1e-8)
      close(F[3 * (id - 1) + 3], tonumber(fz), 0, 1e-8)
      n = n + 1
    end
  end
  dump:close()
  assert(n == 16)
  -- pressure virial: P_ab V / nktv2p
  local W = dot(rows.virial, w)
  local k = a:volume() / 1.6021765e6
  close(W[1], -1159163.24 * k, 2e-8)
  close(W[2], -1160609.79 * k, 2e-8)
  close(W[3], -1163344.99 * k, 2e-8)
  close(W[4], 1062.73 * k, 1e-5)   -- yz
  close(W[5], 284.80 * k, 1e-4)    -- xz
  close(W[6], -2339.47 * k, 1e-5)  -- xy
  -- forces=false, virial=false
  local e_only = d:design(a, {forces = false, virial = false})
  assert(e_only.forces == nil and e_only.virial == nil and e_only.energy)
  checkerror("unknown option 'force'", d.design, d, a, {force = true})
end)

test("snap: linear and kernel rows against finite differences", function()
  local d = try("snap", SNAP)
  local a = ta16()
  a:rattle{sigma = 0.05, seed = 5}
  local rng = kiln.Rng(11)
  local w = {}
  for c = 1, d.ncols do w[c] = rng:uniform() - 0.5 end
  check_rows(d, a, d:design(a), w, nil, nil, 1e-6)
  -- kernel rows against 4 sparse rows (perturbed environments of a different structure)
  local b = ta16()
  b:rattle{sigma = 0.2, seed = 9}
  local Xb = d:compute(b)
  local T, S = Xb:totable(), {}
  for s = 1, 4 do S[s] = T[s * 3] end
  local sparse = {X = kiln.Array(S), el = {1, 1, 1, 1}}
  local alpha = {0.3, -0.2, 0.5, 0.1}
  local rows = d:kernel_design(a, sparse, {zeta = 2})
  local r, c = rows.forces:shape()
  assert(r == 48 and c == 4)
  check_rows(d, a, rows, alpha, sparse, 2, 1e-6)
end)

test("soap: kernel rows of two species against finite differences", function()
  local d = try("soap", {cutoff = 3.5, nmax = 3, lmax = 2, elements = {"Mg", "O"}})
  local a = sio()
  assert(#d.elements == 2)
  local X, el = d:compute(a)
  local n = #a
  local idx = kiln.ml.fps(X, 4)
  local S, elS = {}, {}
  local T = X:totable()
  for k, i in ipairs(idx) do S[k], elS[k] = T[i], el[i] end
  local sparse = {X = kiln.Array(S), el = elS}
  local rows = d:kernel_design(a, sparse, {zeta = 4})
  assert(rows.counts[1] + rows.counts[2] == n)
  check_rows(d, a, rows, {0.4, -0.3, 0.2, 0.5}, sparse, 4, 1e-6)
  local rng = kiln.Rng(2)
  local w = {}
  for c = 1, d.ncols do w[c] = rng:uniform() - 0.5 end
  check_rows(d, a, d:design(a), w, nil, nil, 1e-6)
end)

test("per_element rows: one block per element, adding up to the plain rows", function()
  local d = try("soap", {cutoff = 3.5, nmax = 2, lmax = 2, elements = {"Mg", "O"}})
  local a = sio()
  local plain = d:design(a)
  local pe = d:design(a, {per_element = true})
  local nc = d.ncols
  local r, c = pe.forces:shape()
  assert(r == 3 * #a and c == 2 * nc)
  for k = 1, nc do
    close(pe.energy[1][k] + pe.energy[1][nc + k], plain.energy[1][k], 1e-12, 1e-14)
    for row = 1, r, 5 do
      close(pe.forces[row][k] + pe.forces[row][nc + k], plain.forces[row][k], 1e-12, 1e-13)
    end
    close(pe.virial[4][k] + pe.virial[4][nc + k], plain.virial[4][k], 1e-12, 1e-13)
  end
  -- finite differences of E = sum_i w_{el(i)}.X_i (Mg atoms use w[1..nc], O atoms w[nc+1..])
  local rng = kiln.Rng(4)
  local w = {}
  for k = 1, 2 * nc do w[k] = rng:uniform() - 0.5 end
  local F = ml.matvec(pe.forces, w)
  local x = a:positions()
  local function E()
    local X, el = d:compute(a)
    local e = 0
    for i = 1, #a do
      for k = 1, nc do e = e + w[(el[i] - 1) * nc + k] * X:get(i, k) end
    end
    return e
  end
  local h = 1e-5
  for _, j in ipairs{1, 5} do
    for cc = 1, 3 do
      local x0 = x:get(j, cc)
      x:set(j, cc, x0 + h); local ep = E()
      x:set(j, cc, x0 - h); local em = E()
      x:set(j, cc, x0)
      close(F[3 * (j - 1) + cc], -(ep - em) / (2 * h), 1e-6, 1e-6)
    end
  end
end)

