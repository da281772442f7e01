-- kiln.ins: scattering weights and corrections that turn the partial S_ab(q, w) of a
-- correlator into a neutron (or X-ray, electron) spectrum. Pure Lua; see doc/ins.md.
--
--   weights   ins.neutron(sym) ins.b_coh(sym) ins.sigma_inc(sym) ins.inc_weight(sym)
--             ins.xray_form_factor(sym, q) ins.electron_form_factor(sym, q)
--             ins.weights(species, {kind=, q=}) ins.combine(result, weights)
--   energy    ins.meV(w) ins.radfs(E) ins.convert(v, from, to)
--   factors   ins.quantum_correction(w, T, kind) ins.bose(w, T) ins.one_phonon(w, T)
--             ins.debye_waller(q, msd_or_U) ins.inv_q2(q) ins.omega2(w)
--             ins.correct(map, w, T, kind) ins.scale_rows(map, f) ins.scale_cols(map, f)
--   plotting  ins.plot_spectrum(file, omega_meV, series, opts)
--
-- Units: q in rad/Å (kiln's q includes the 2π: q = 4π sinθ/λ, the neutron |Q| in Å⁻¹);
-- scattering lengths in fm, cross sections in barn (1 b = 100 fm²); X-ray form factors in
-- electrons, electron form factors in Å; energies in meV unless a function says otherwise
-- (correlator results carry ω in rad/fs: ins.meV(w) converts). Sign convention: ω > 0 is
-- neutron energy loss (the sample gains energy), as in S(q, ω) of the correlators.

local cunits = require "kiln.c.units"
local carray = require "kiln.c.array"

local M = {}

local help_ok, help = pcall(require, "kiln.help")
local function doc(fn, text)
  if help_ok then help.register(fn, text) end
  return fn
end

---------------------------------------------------------------- constants
M.hbar = cunits.hbar * 1000.0            -- ħ in meV·fs: ħω[meV] = 658.2119569·ω[rad/fs]
M.kB = cunits.kB * 1000.0                -- k_B in meV/K (0.08617333262)
M.barn = 100.0                           -- fm² per barn

local PI = math.pi
local A0 = 0.529177210903                -- Bohr radius in Å (CODATA 2018)

---------------------------------------------------------------- small helpers
local argcheck = require "kiln.argcheck"
argcheck.internal()
local fail, is_array, list_of = argcheck.fail, argcheck.is_array, argcheck.list_of

-- Apply f to a number or to each element of a list/Array; returns a number or a list.
local function map1(x, f, fname, what)
  local l, scalar = list_of(x, fname, what)
  if scalar then return (f(l[1])) end
  local out = {}
  for i = 1, #l do out[i] = f(l[i]) end
  return out
end

-- A matrix (rows of numbers) from a kiln.Array or a Lua table of rows. A flat list of
-- numbers is one row. Returns rows, nrows, ncols, was_array.
local function matrix_of(m, fname, what)
  local was = is_array(m)
  if was then
    local r, c = m:shape()
    local rows = {}
    for i = 1, r do
      local row = {}
      for j = 1, c do row[j] = m:get(i, j) end
      rows[i] = row
    end
    return rows, r, c, true
  end
  if type(m) ~= "table" then
    fail(fname, string.format("%s must be a kiln.Array or a table of rows (got %s)", what, type(m)))
  end
  if type(m[1]) == "number" then m = {m} end
  local nr, nc = #m, nil
  for i = 1, nr do
    local row = m[i]
    if type(row) ~= "table" then
      fail(fname, string.format("%s row %d is not a table (got %s)", what, i, type(row)))
    end
    nc = nc or #row
    if #row ~= nc then
      fail(fname, string.format("%s row %d has %d values, row 1 has %d", what, i, #row, nc))
    end
  end
  return m, nr, nc or 0, was
end

local function out_matrix(rows, as_array)
  if as_array then return carray.new(rows) end
  return rows
end

-- |q| from a number, or a row {qx, qy, qz}
local function qnorm(q)
  if type(q) == "number" then return math.abs(q) end
  return math.sqrt(q[1] ^ 2 + (q[2] or 0) ^ 2 + (q[3] or 0) ^ 2)
end

-- list of |q| from a number, a list of numbers, a list of {qx,qy,qz} rows or an Array
local function qnorms(q, fname)
  if type(q) == "number" then return {math.abs(q)}, true end
  if is_array(q) then
    local r, c = q:shape()
    local out = {}
    for i = 1, r do
      local s = 0
      for j = 1, c do s = s + q:get(i, j) ^ 2 end
      out[i] = math.sqrt(s)
    end
    return out, false
  end
  if type(q) ~= "table" then fail(fname, "q must be a number, a list or an n x 3 table (got " .. type(q) .. ")") end
  local out = {}
  for i = 1, #q do out[i] = qnorm(q[i]) end
  return out, false
end

local function check_T(T, fname)
  if type(T) ~= "number" or not (T > 0 and T < math.huge) then
    fail(fname, "temperature T must be a number > 0 K (got " .. tostring(T) .. ")")
  end
end

local UNITS = {meV = true, ["rad/fs"] = true, THz = true, ["cm-1"] = true, eV = true}
local function to_meV_factor(unit, fname)
  unit = unit or "meV"
  if not UNITS[unit] then
    fail(fname, "unknown energy unit '" .. tostring(unit) .. "' (use meV, rad/fs, THz, cm-1 or eV)")
  end
  return cunits.convert(1.0, unit, "meV")
end

---------------------------------------------------------------- energy units
M.meV = doc(function(omega)
  local f = M.hbar
  return map1(omega, function(w) return w * f end, "ins.meV", "omega")
end, [[
ins.meV(omega) -> ħω in meV for ω in rad/fs (number, list or n x 1 kiln.Array -> number or list).
ħω[meV] = 658.2119569 · ω[rad/fs].]])

M.radfs = doc(function(E)
  local f = 1.0 / M.hbar
  return map1(E, function(e) return e * f end, "ins.radfs", "E")
end, [[
ins.radfs(E_meV) -> ω in rad/fs for an energy in meV (number or list).]])

M.convert = doc(function(v, from, to)
  local ok, f = pcall(cunits.convert, 1.0, from, to)
  if not ok or type(f) ~= "number" then
    fail("ins.convert", string.format("cannot convert '%s' to '%s' (use meV, rad/fs, THz, cm-1, eV)",
                                      tostring(from), tostring(to)))
  end
  return map1(v, function(x) return x * f end, "ins.convert", "value")
end, [[
ins.convert(v, from, to) -> v in unit `to` (number or list). Units: meV, eV, rad/fs, THz,
cm-1 (energies through E = ħω). Example: ins.convert(1, "THz", "meV") = 4.135667696.]])

---------------------------------------------------------------- neutron data
local ndata
local function neutron_data()
  ndata = ndata or require "kiln.data.neutron"
  return ndata
end

local ALIAS = {D = "H2", T = "H3"}

-- The record of an element ("Si") or isotope ("Si28", "H2", "D", "T"), or raises.
local function nrecord(sym, fname)
  if type(sym) ~= "string" then
    fail(fname, "element symbol expected (got " .. type(sym) .. ")")
  end
  local d = neutron_data()
  local key = ALIAS[sym] or sym
  local r = d.elements[key] or d.isotopes[key]
  if not r then
    local el = key:match("^(%a+)%d+$")
    if el and d.elements[el] then
      fail(fname, string.format("no neutron data for isotope '%s' (tabulated isotopes of %s: %s)",
                                sym, el, (function()
                                  local t = {}
                                  for k in pairs(d.isotopes) do
                                    if k:match("^(%a+)%d+$") == el then t[#t + 1] = k end
                                  end
                                  table.sort(t)
                                  return table.concat(t, ", ")
                                end)()))
    end
    fail(fname, string.format("unknown element or isotope '%s' (no neutron data)", sym))
  end
  return r
end

M.neutron = doc(function(sym)
  local r = nrecord(sym, "ins.neutron")
  local out = {symbol = sym}
  for k, v in pairs(r) do out[k] = v end
  return out
end, [[
ins.neutron(sym) -> {symbol=, Z=, A= (isotopes), b= (fm), b_im= (fm), sigma_coh=, sigma_inc=,
sigma_scat=, sigma_abs= (barn, absorption at 2200 m/s), abundance= (isotopes, fraction)}.
Elements ("Si"): Rauch & Waschkowski 2003 (ILL booklet); isotopes ("Si28", "H2" = "D",
"H3" = "T"): Sears 1992. Unknown symbols raise an error naming them.]])

M.b_coh = doc(function(sym)
  local r = nrecord(sym, "ins.b_coh")
  if r.b == nil then fail("ins.b_coh", "no tabulated coherent scattering length for '" .. sym .. "'") end
  return r.b, r.b_im or 0.0
end, [[
ins.b_coh(sym) -> b_re, b_im: the bound coherent scattering length (fm). Example: Si -> 4.15071, 0.]])

M.sigma_inc = doc(function(sym)
  local r = nrecord(sym, "ins.sigma_inc")
  if r.sigma_inc == nil then fail("ins.sigma_inc", "no tabulated incoherent cross section for '" .. sym .. "'") end
  return r.sigma_inc
end, [[
ins.sigma_inc(sym) -> σ_inc in barn (bound incoherent cross section). Example: H -> 80.26.]])

M.inc_weight = doc(function(sym)
  local s = M.sigma_inc(sym)
  return math.sqrt(s * M.barn / (4 * PI))
end, [[
ins.inc_weight(sym) -> √(σ_inc/4π) in fm (1 barn = 100 fm²): the weight whose square multiplies
the self part S_α(q, ω). Example: H -> √(8026/4π) = 25.27 fm.]])

---------------------------------------------------------------- form factors
local xdata, edata
local function xray_rec(sym, fname)
  xdata = xdata or require "kiln.data.xray"
  local r = type(sym) == "string" and xdata[ALIAS[sym] and "H" or sym:gsub("^(%a+)%d+$", "%1")]
  if not r then fail(fname, string.format("unknown element or ion '%s' (no X-ray form factor)", tostring(sym))) end
  return r
end
local function electron_rec(sym, fname)
  edata = edata or require "kiln.data.electron"
  local r = type(sym) == "string" and edata[ALIAS[sym] and "H" or sym:gsub("^(%a+)%d+$", "%1")]
  if not r then fail(fname, string.format("unknown element '%s' (no electron form factor)", tostring(sym))) end
  return r
end

-- Kirkland f_e at kiln q (rad/Å): Kirkland's q_K = q/(2π)
local function fe_kirkland(r, q)
  local qk2 = (q / (2 * PI)) ^ 2
  local f = 0.0
  for i = 1, 3 do f = f + r.a[i] / (qk2 + r.b[i]) + r.c[i] * math.exp(-r.d[i] * qk2) end
  return f
end

M.electron_form_factor = doc(function(sym, q)
  local r = electron_rec(sym, "ins.electron_form_factor")
  return map1(q, function(x) return fe_kirkland(r, x) end, "ins.electron_form_factor", "q")
end, [[
ins.electron_form_factor(sym, q) -> f_e(q) in Å (Kirkland 2010 parametrization, Z = 1..98);
q in rad/Å (kiln's q = 2π/d = 4π sinθ/λ; Kirkland's argument is q/2π). Number or list.]])

M.xray_form_factor = doc(function(sym, q, opts)
  local method = type(opts) == "table" and opts.method or opts or "wk"
  if method == "mott-bethe" then
    local r = electron_rec(sym, "ins.xray_form_factor")
    local Z = r.Z
    -- Mott–Bethe: f_e(s) = (Z - f_x(s)) / (8π² a0 s²), s = sinθ/λ = q/(4π)  =>
    -- f_x(q) = Z - (a0/2) q² f_e(q)   (q in rad/Å, a0 and f_e in Å)
    return map1(q, function(x) return Z - 0.5 * A0 * x * x * fe_kirkland(r, x) end,
                "ins.xray_form_factor", "q")
  elseif method ~= "wk" then
    fail("ins.xray_form_factor", "unknown method '" .. tostring(method) .. "' (use \"wk\" or \"mott-bethe\")")
  end
  local r = xray_rec(sym, "ins.xray_form_factor")
  return map1(q, function(x)
    local s2 = (x / (4 * PI)) ^ 2
    local f = r.c
    for i = 1, 5 do f = f + r.a[i] * math.exp(-r.b[i] * s2) end
    return f
  end, "ins.xray_form_factor", "q")
end, [[
ins.xray_form_factor(sym, q[, {method="wk"}]) -> f_x(q) in electrons; q in rad/Å (s = sinθ/λ = q/4π).
method "wk": Waasmaier & Kirfel (1995) five-Gaussian fit (neutral atoms and ions "O2-",
"Si4+"), valid for s <= 6 Å⁻¹. method "mott-bethe": from Kirkland's electron form factor,
f_x = Z - (a0/2) q² f_e(q) (a0 = 0.529177 Å), for neutral atoms. Example: Si at s = 0.5
(q = 2π) -> 6.24 (wk), 6.25 (mott-bethe).]])

---------------------------------------------------------------- weights
local function species_list(sp, fname)
  if type(sp) == "string" then return {sp} end
  if type(sp) == "userdata" then
    local ok, l = pcall(function() return sp:species() end)
    if ok and type(l) == "table" then return l end
  end
  if type(sp) ~= "table" then
    fail(fname, "species must be a list of symbols or a kiln.Atoms (got " .. type(sp) .. ")")
  end
  local seen, out = {}, {}
  for i = 1, #sp do
    local s = sp[i]
    if type(s) ~= "string" then fail(fname, string.format("species[%d] is not a string (got %s)", i, type(s))) end
    if not seen[s] then seen[s] = true; out[#out + 1] = s end
  end
  return out
end

M.weights = doc(function(species, opts)
  local fname = "ins.weights"
  opts = opts or {}
  if type(opts) == "string" then opts = {kind = opts} end
  if type(opts) ~= "table" then fail(fname, "options table expected (got " .. type(opts) .. ")") end
  for k in pairs(opts) do
    if k ~= "kind" and k ~= "q" and k ~= "method" then fail(fname, "unknown option '" .. tostring(k) .. "'") end
  end
  local kind = opts.kind or "neutron"
  local sp = species_list(species, fname)
  local w = {kind = kind, species = sp, b = {}, b_im = {}, inc = {}}
  if kind == "neutron" then
    w.units = "fm"
    for _, s in ipairs(sp) do
      local r = nrecord(s, fname)
      if r.b == nil then fail(fname, "no tabulated coherent scattering length for '" .. s .. "'") end
      w.b[s], w.b_im[s] = r.b, r.b_im or 0.0
      w.inc[s] = math.sqrt((r.sigma_inc or 0.0) * M.barn / (4 * PI))
    end
  elseif kind == "xray" or kind == "electron" then
    w.units = kind == "xray" and "electrons" or "Å"
    w.fq = {}
    for _, s in ipairs(sp) do
      local f
      if kind == "xray" then
        xray_rec(s, fname)
        local method = opts.method
        f = function(q) return M.xray_form_factor(s, q, method and {method = method} or nil) end
      else
        electron_rec(s, fname)
        f = function(q) return M.electron_form_factor(s, q) end
      end
      w.fq[s] = f
      w.b_im[s], w.inc[s] = 0.0, 0.0
      if type(opts.q) == "number" then w.b[s] = f(opts.q) end
    end
    if type(opts.q) == "number" then w.fq = nil; w.q = opts.q end
  else
    fail(fname, "unknown kind '" .. tostring(kind) .. "' (use \"neutron\", \"xray\" or \"electron\")")
  end
  return w
end, [[
ins.weights(species[, {kind="neutron", q=, method=}]) -> weights table for ins.combine:
  {kind=, units=, species={...}, b={[sp]=re}, b_im={[sp]=im}, inc={[sp]=√(σ_inc/4π)}, fq=}
species: a list of symbols (repeats are ignored, so a:symbols() works) or a kiln.Atoms.
kind "neutron": b = b_coh (fm), inc = √(σ_inc/4π) (fm).
kind "xray" / "electron": b = f(q) (electrons / Å), inc = 0; with q= (rad/Å) the form
factors are evaluated there, otherwise fq[sp](q) is kept and ins.combine evaluates it at
each |q| of the result. S_coh = Σ_αβ Re(b_α b_β*) S_αβ, S_inc = Σ_α inc_α² S_α(self).]])

-- b_α at |q| (re, im)
local function bval(w, s, q)
  if w.fq and w.fq[s] then return w.fq[s](q), 0.0 end
  local b = w.b[s]
  if b == nil then fail("ins.combine", "the weights have no species '" .. s .. "'") end
  return b, w.b_im[s] or 0.0
end

local function pair_species(key, w)
  local a, b = key:match("^(.-)%-(.+)$")
  if not a then fail("ins.combine", "partial key '" .. key .. "' is not of the form \"A-B\"") end
  return a, b
end

M.combine = doc(function(result, w, opts)
  local fname = "ins.combine"
  if type(result) ~= "table" then fail(fname, "result table expected (got " .. type(result) .. ")") end
  if type(w) ~= "table" or type(w.b) ~= "table" then fail(fname, "weights from ins.weights expected") end
  opts = opts or {}
  local partial, self = result.sqw_partial, result.sqw_self
  if partial == nil and self == nil then        -- flat names "sqw_partial/A-B", "sqw_self/A"
    for k, v in pairs(result) do
      if type(k) == "string" then
        local pk = k:match("^sqw_partial/(.+)$")
        local sk = k:match("^sqw_self/(.+)$")
        if pk then partial = partial or {}; partial[pk] = v end
        if sk then self = self or {}; self[sk] = v end
      end
    end
  end
  if partial == nil and self == nil then fail(fname, "result has neither sqw_partial nor sqw_self") end
  local qs = result.q and qnorms(result.q, fname) or nil
  if w.fq and not qs then
    fail(fname, "q-dependent form factors need result.q (or build the weights with q=)")
  end
  local flat = false                           -- plain lists of numbers in, lists out
  local function weighted_sum(parts, factor_of)
    local acc, nr, nc, as_array
    local keys = {}
    for k in pairs(parts) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, key in ipairs(keys) do
      local p = parts[key]
      if type(p) == "table" and type(p[1]) == "number" then flat = true end
      local rows, r, c, was = matrix_of(p, fname, "partial '" .. key .. "'")
      if not acc then
        nr, nc, as_array = r, c, was
        acc = {}
        for i = 1, r do local row = {}; for j = 1, c do row[j] = 0.0 end; acc[i] = row end
      elseif r ~= nr or c ~= nc then
        fail(fname, string.format("partial '%s' is %dx%d, others are %dx%d", key, r, c, nr, nc))
      end
      for i = 1, r do
        local f = factor_of(key, qs and qs[i] or w.q or 0.0)
        local row, src = acc[i], rows[i]
        if f ~= 0 then for j = 1, c do row[j] = row[j] + f * src[j] end end
      end
    end
    return acc and out_matrix(acc, as_array) or nil
  end
  local out = {}
  if partial then
    out.coh = weighted_sum(partial, function(key, q)
      local a, b = pair_species(key, w)
      local ar, ai = bval(w, a, q)
      local br, bi = bval(w, b, q)
      return ar * br + ai * bi
    end)
  end
  if self then
    out.inc = weighted_sum(self, function(key)
      local v = w.inc[key]
      if v == nil then fail("ins.combine", "the weights have no species '" .. key .. "'") end
      return v * v
    end)
  end
  if out.coh and out.inc then
    local c, nr, nc, was = matrix_of(out.coh, fname, "coh")
    local i2 = matrix_of(out.inc, fname, "inc")
    if #i2 ~= nr or #(i2[1] or {}) ~= nc then fail(fname, "coherent and self parts differ in shape") end
    local t = {}
    for i = 1, nr do
      local row = {}
      for j = 1, nc do row[j] = c[i][j] + i2[i][j] end
      t[i] = row
    end
    out.total = out_matrix(t, was)
  else
    out.total = out.coh or out.inc
  end
  if flat then
    for _, k in ipairs{"coh", "inc", "total"} do
      if type(out[k]) == "table" and #out[k] == 1 then out[k] = out[k][1] end
    end
  end
  out.units = w.kind == "neutron" and "fm^2 x [S]" or (w.units .. "^2 x [S]")
  return out
end, [[
ins.combine(result, weights) -> {coh=, inc=, total=}: weighted sums of a correlator result.
result.sqw_partial["A-B"]: nq x nω (kiln.Array or table of rows), one entry per unordered pair
  (cross terms already hold both orders); result.sqw_self["A"]: nq x nω; result.q: nq x 3
  (rad/Å; needed only for q-dependent form factors).
coh = Σ_pairs Re(b_A b_B*) S_AB, inc = Σ_A inc_A² S_A(self), total = coh + inc. Arrays in,
Arrays out; tables in, tables out. Units: weight units² (fm² for neutrons) times those of S.]])

---------------------------------------------------------------- corrections
-- x / (1 - e^-x), stable near 0 and for large |x|
local function qc_harmonic(x)
  if math.abs(x) < 1e-2 then                 -- Bernoulli series, error < x^8/1.2e6
    local x2 = x * x
    return 1 + x / 2 + x2 / 12 - x2 * x2 / 720 + x2 * x2 * x2 / 30240
  end
  if x < -700 then return 0.0 end
  return x / (1 - math.exp(-x))
end

local function qc_opts(opts, fname)
  local kind, unit = "harmonic", "meV"
  if type(opts) == "string" then kind = opts
  elseif type(opts) == "table" then kind = opts.kind or kind; unit = opts.unit or unit
  elseif opts ~= nil then fail(fname, "options must be a kind string or a table (got " .. type(opts) .. ")") end
  if kind == "standard" then kind = "harmonic" end
  if kind ~= "harmonic" and kind ~= "schofield" then
    fail(fname, "unknown quantum correction '" .. tostring(kind) .. "' (use \"harmonic\" or \"schofield\")")
  end
  return kind, to_meV_factor(unit, fname)
end

M.quantum_correction = doc(function(omega, T, opts)
  local fname = "ins.quantum_correction"
  check_T(T, fname)
  local kind, f = qc_opts(opts, fname)
  local beta = 1.0 / (M.kB * T)
  return map1(omega, function(w)
    local x = beta * w * f
    if kind == "harmonic" then return qc_harmonic(x) end
    return math.exp(x / 2)
  end, fname, "omega")
end, [[
ins.quantum_correction(omega, T[, kind | {kind=, unit="meV"}]) -> factor(s) multiplying a
classical S_cl(q, ω): "harmonic" (also "standard", default) βħω/(1 - e^{-βħω}); "schofield"
e^{βħω/2}. ω in meV (or unit= "rad/fs", "THz", "cm-1"), T in K, ω > 0 = energy loss.
Both give S(q, -ω) = e^{-βħω} S(q, ω) for an even S_cl; harmonic -> 1 as ω -> 0 and
-> βħω for βħω >> 1.]])

M.bose = doc(function(omega, T, unit)
  local fname = "ins.bose"
  check_T(T, fname)
  local f = to_meV_factor(unit, fname)
  local beta = 1.0 / (M.kB * T)
  return map1(omega, function(w)
    local x = beta * w * f
    if x == 0 then return math.huge end
    return 1.0 / (math.exp(x) - 1.0)
  end, fname, "omega")
end, [[
ins.bose(omega, T[, unit="meV"]) -> n(ω) = 1/(e^{βħω} - 1) (negative for ω < 0: n(-ω) = -1 - n(ω)).]])

M.one_phonon = doc(function(omega, T, unit)
  local fname = "ins.one_phonon"
  check_T(T, fname)
  local f = to_meV_factor(unit, fname)
  local beta = 1.0 / (M.kB * T)
  return map1(omega, function(w)
    local e = w * f
    if e == 0 then return math.huge end
    return (1.0 / (math.exp(beta * e) - 1.0) + 1.0) / e
  end, fname, "omega")
end, [[
ins.one_phonon(omega, T[, unit="meV"]) -> (n(ω) + 1)/ω in 1/meV (ω in meV): the one-phonon
factor of harmonic INS intensities (at ω < 0 it equals n(|ω|)/|ω|).]])

M.debye_waller = doc(function(q, u)
  local fname = "ins.debye_waller"
  if type(u) == "number" then
    if u < 0 then fail(fname, "mean-square displacement must be >= 0 Å² (got " .. u .. ")") end
    if type(q) == "table" and type(q[1]) == "number" and #q == 3 then
      return math.exp(-(q[1] ^ 2 + q[2] ^ 2 + q[3] ^ 2) * u / 3)
    end
    return map1(q, function(x) return math.exp(-x * x * u / 3) end, fname, "q")
  elseif type(u) == "table" and type(u[1]) == "table" then
    if type(q) ~= "table" or #q ~= 3 then fail(fname, "an anisotropic U needs a q vector {qx, qy, qz}") end
    local s = 0
    for i = 1, 3 do for j = 1, 3 do s = s + q[i] * u[i][j] * q[j] end end
    return math.exp(-s)
  end
  fail(fname, "second argument must be the MSD <|u|²> (Å²) or a 3x3 U = <u_i u_j> (Å²)")
end, [[
ins.debye_waller(q, msd) -> exp(-q² <|u|²>/3) = e^{-2W} (intensity factor), q in rad/Å
(number, list or a vector {qx,qy,qz}), msd = <|u|²> the 3-D mean-square displacement (Å²).
ins.debye_waller({qx,qy,qz}, U) -> exp(-q·U·q) for a 3x3 displacement covariance U = <u_i u_j>.
(An MD S(q, ω) already contains it; this is for harmonic or frozen-phonon models.)]])

M.inv_q2 = doc(function(q)
  local l, scalar = qnorms(q, "ins.inv_q2")
  for i = 1, #l do l[i] = 1.0 / (l[i] * l[i]) end
  if scalar then return l[1] end
  return l
end, [[
ins.inv_q2(q) -> 1/|q|² (Å²) for a number, a list, or n x 3 rows (vectors). Use with ins.scale_rows.]])

M.omega2 = doc(function(omega)
  return map1(omega, function(w) return w * w end, "ins.omega2", "omega")
end, [[
ins.omega2(omega) -> ω² (same unit squared). ω²/q² S(q, ω) is the longitudinal current spectrum.]])

M.scale_rows = doc(function(map, f)
  local rows, nr, nc, was = matrix_of(map, "ins.scale_rows", "map")
  local fl = type(f) == "number" and nil or list_of(f, "ins.scale_rows", "factors")
  if fl and #fl ~= nr then
    fail("ins.scale_rows", string.format("%d factors for %d rows", #fl, nr))
  end
  local out = {}
  for i = 1, nr do
    local s, row = fl and fl[i] or f, {}
    for j = 1, nc do row[j] = rows[i][j] * s end
    out[i] = row
  end
  return out_matrix(out, was)
end, [[
ins.scale_rows(map, factors) -> a new map with row i multiplied by factors[i] (rows = q).]])

M.scale_cols = doc(function(map, f)
  local rows, nr, nc, was = matrix_of(map, "ins.scale_cols", "map")
  local fl = type(f) == "number" and nil or list_of(f, "ins.scale_cols", "factors")
  if fl and #fl ~= nc then
    fail("ins.scale_cols", string.format("%d factors for %d columns", #fl, nc))
  end
  local out = {}
  for i = 1, nr do
    local row = {}
    for j = 1, nc do row[j] = rows[i][j] * (fl and fl[j] or f) end
    out[i] = row
  end
  return out_matrix(out, was)
end, [[
ins.scale_cols(map, factors) -> a new map with column j multiplied by factors[j] (columns = ω).]])

M.correct = doc(function(map, omega, T, opts)
  local fname = "ins.correct"
  local f = M.quantum_correction(list_of(omega, fname, "omega"), T, opts)
  local _, _, nc = matrix_of(map, fname, "map")
  if #f ~= nc then fail(fname, string.format("%d frequencies for %d columns", #f, nc)) end
  return M.scale_cols(map, f)
end, [[
ins.correct(map, omega, T[, kind | {kind=, unit=}]) -> map (rows q, columns ω) times the quantum
correction at each ω (see ins.quantum_correction; ω in meV unless unit= says otherwise).]])

---------------------------------------------------------------- plotting
M.plot_spectrum = doc(function(file, omega, series, opts)
  local fname = "ins.plot_spectrum"
  local plot = require "kiln.plot"
  opts = opts or {}
  local x = list_of(omega, fname, "omega")
  if type(series) ~= "table" and not is_array(series) then
    fail(fname, "series must be a list of numbers or a list of {y=, label=} tables")
  end
  if is_array(series) or type(series[1]) == "number" then series = {{y = series}} end
  local s = {}
  for i, se in ipairs(series) do
    if type(se) ~= "table" then fail(fname, string.format("series[%d] is not a table", i)) end
    local y = list_of(se.y or se, fname, string.format("series[%d].y", i))
    if #y ~= #x then fail(fname, string.format("series[%d] has %d values for %d energies", i, #y, #x)) end
    s[i] = {x = x, y = y, label = se.label, color = se.color, lw = se.lw, with = se.with}
  end
  return plot.lines{file = file, title = opts.title, xlabel = opts.xlabel or "energy transfer (meV)",
                    ylabel = opts.ylabel or "S(q, ω) (arb. units)", xrange = opts.xrange,
                    yrange = opts.yrange, logy = opts.logy, size = opts.size, series = s}
end, [[
ins.plot_spectrum(file, omega_meV, series[, {title=, xlabel=, ylabel=, xrange=, yrange=, logy=}])
-> path, or nil and a message (no gnuplot). series: a list of numbers, or a list of
{y=, label=, color=, lw=} tables (one per curve). Uses kiln.plot.lines (keeps .gp/.dat).]])

M.__help = [[
kiln.ins: neutron (X-ray, electron) weights and corrections for S(q, ω) (see doc/ins.md).
Units: q rad/Å (= Å⁻¹ incl. 2π), b fm, σ barn, energies meV (ins.meV converts rad/fs).
  ins.neutron(sym) ins.b_coh(sym) ins.sigma_inc(sym) ins.inc_weight(sym)
  ins.xray_form_factor(sym, q) ins.electron_form_factor(sym, q)
  ins.weights(species, {kind="neutron"|"xray"|"electron", q=}) ins.combine(result, w)
  ins.quantum_correction(w, T, "harmonic"|"schofield") ins.correct(map, w, T)
  ins.bose(w, T) ins.one_phonon(w, T) ins.debye_waller(q, msd) ins.inv_q2(q) ins.omega2(w)
  ins.scale_rows(map, f) ins.scale_cols(map, f) ins.meV(w) ins.radfs(E) ins.convert(v, a, b)
  ins.plot_spectrum(file, omega_meV, series)
Instruments (resolution, kinematics): kiln.instruments.]]

return M
