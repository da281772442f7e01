-- kiln.oracle: potential, command (a Python spring program) and CP2K oracles; the
-- structure hash; the on-disk cache (no second evaluation, settings in the key); errors.
-- CP2K cases skip (with the reason) when cp2k is not installed.
local kiln = require "kiln"
local oracle = kiln.oracle

local SW = "/usr/share/lammps/potentials/Si.sw"

local function si8(sigma, seed)
  return kiln.crystal.diamond{symbol = "Si", a = 5.431}:rattle{sigma = sigma or 0.05, seed = seed or 1}
end

local function tmpdir()
  local d = tmpname("_dir")
  os.execute("rm -rf '" .. d .. "' && mkdir -p '" .. d .. "'")
  return d
end

local function rmdir(d) os.execute("rm -rf '" .. d .. "'") end

-- harmonic springs between all image pairs closer than rc (the formula of
-- tests/data/oracle_springs.py, written again here as the reference)
local function springs(a, k, r0, rc)
  local n, x, cell = #a, a:positions(), a:cell()
  local e, f, w = 0.0, {}, {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}
  for i = 1, n do f[i] = {0, 0, 0} end
  for i = 1, n do
    for j = i, n do
      for p = -1, 1 do for q = -1, 1 do for s = -1, 1 do
        if not (i == j and p == 0 and q == 0 and s == 0) then
          local d = {}
          for m = 1, 3 do
            d[m] = x:get(j, m) - x:get(i, m) + p * cell[1][m] + q * cell[2][m] + s * cell[3][m]
          end
          local r = math.sqrt(d[1] ^ 2 + d[2] ^ 2 + d[3] ^ 2)
          if r < rc then
            local half = (i == j) and 0.5 or 1.0      -- self-images are counted from both ends
            e = e + half * 0.5 * k * (r - r0) ^ 2
            local g = half * k * (r - r0) / r
            for m = 1, 3 do f[i][m] = f[i][m] + g * d[m]; f[j][m] = f[j][m] - g * d[m] end
            for m = 1, 3 do for l = 1, 3 do w[m][l] = w[m][l] - g * d[m] * d[l] end end
          end
        end
      end end end
    end
  end
  return e, f, w
end

---------------------------------------------------------------- hash
test("structure hash: FNV-1a, rounding to 1e-8 Å, sensitive to what matters", function()
  -- FNV-1a 64 test vectors
  assert(oracle.fnv1a("") == "cbf29ce484222325", oracle.fnv1a(""))
  assert(oracle.fnv1a("a") == "af63dc4c8601ec8c", oracle.fnv1a("a"))
  assert(oracle.fnv1a("foobar") == "85944171f73967e8", oracle.fnv1a("foobar"))
  local a = si8()
  local h = oracle.hash(a)
  assert(#h == 16 and h:match("^%x+$"))
  assert(oracle.hash(a:copy()) == h)
  local b = a:copy(); b:positions():set(3, 2, b:positions():get(3, 2) + 1e-10)
  assert(oracle.hash(b) == h, "a 1e-10 Å change must not change the hash")
  b:positions():set(3, 2, b:positions():get(3, 2) + 1e-6)
  assert(oracle.hash(b) ~= h)
  local c = a:copy(); c:set_symbol(1, "Ge")
  assert(oracle.hash(c) ~= h)
  local d = a:copy(); d:set_pbc{true, true, false}
  assert(oracle.hash(d) ~= h)
  local e = a:copy(); local cell = e:cell(); cell[1][1] = cell[1][1] + 1e-5; e:set_cell(cell)
  assert(oracle.hash(e) ~= h)
end)

---------------------------------------------------------------- potential oracle
test("potential oracle labels like pot:compute and leaves the input alone", function()
  local sw = kiln.potential.sw{file = SW}
  local o = oracle.potential(sw)
  local a = si8()
  local x0 = a:positions_copy()
  local r = o:label(a)
  local ref = sw:compute(a:copy())
  close(r.energy, ref.energy, 1e-14)
  assert(r.forces:shape() == 8)
  for i = 1, 8 do for d = 1, 3 do close(r.forces:get(i, d), ref.forces:get(i, d), 1e-12, 1e-14) end end
  for i = 1, 3 do for j = 1, 3 do close(r.virial[i][j], ref.virial[i][j], 1e-12, 1e-14) end end
  assert(r.id == oracle.hash(a) and r.group == "all")
  assert(r.atoms ~= a and #r.atoms == 8)
  assert(a:forces():max_abs() == 0, "input atoms untouched")
  for i = 1, 8 do assert(a:positions():get(i, 1) == x0:get(i, 1)) end
  assert(o.calls == 1 and o.hits == 0)
  -- lists and records: group/id/weight kept, stale labels replaced
  local list = o:label{a, {atoms = si8(0.05, 2), group = "rattled", weight = 2, energy = 99}}
  assert(#list == 2 and list[2].group == "rattled" and list[2].weight == 2)
  assert(list[2].energy ~= 99)
  assert(o.calls == 3)
end)

test("cache: a second label (another oracle object, same settings) costs nothing", function()
  local dir = tmpdir()
  local sw = kiln.potential.sw{file = SW}
  local o1 = oracle.potential(sw, {cache = {dir = dir}})
  local frames = {si8(0.05, 1), si8(0.05, 2), si8(0.05, 3)}
  local r1 = o1:label(frames)
  assert(o1.calls == 3 and o1.hits == 0)
  local o2 = oracle.potential(sw, {cache = dir})
  local r2 = o2:label(frames)
  assert(o2.calls == 0 and o2.hits == 3, o2.calls .. " calls")
  for k = 1, 3 do
    assert(r2[k].energy == r1[k].energy, "energies round-trip exactly")
    for i = 1, 8 do for d = 1, 3 do assert(r2[k].forces:get(i, d) == r1[k].forces:get(i, d)) end end
    for i = 1, 3 do for j = 1, 3 do assert(r2[k].virial[i][j] == r1[k].virial[i][j]) end end
  end
  assert(o2:cached(frames[1]) and not o2:cached(si8(0.05, 4)))
  -- other settings (another key) do not hit the old entries
  local o3 = oracle.potential(sw, {cache = dir, key = "other"})
  assert(o3.settings_hash ~= o1.settings_hash)
  o3:label(frames[1])
  assert(o3.calls == 1 and o3.hits == 0)
  -- a corrupt entry is a miss, not an error
  local files = io.popen("ls '" .. dir .. "'/*-" .. o1.settings_hash .. ".xyz"):read("a")
  local first = files:match("[^\n]+")
  local fh = io.open(first, "w"); fh:write("garbage\n"); fh:close()
  local o4 = oracle.potential(sw, {cache = dir})
  o4:label(frames)
  assert(o4.calls == 1 and o4.hits == 2, o4.calls .. " " .. o4.hits)
  rmdir(dir)
end)

---------------------------------------------------------------- command oracle
test("command oracle: a Python spring program, energy/forces/stress against the formula", function()
  if os.execute("command -v python3 >/dev/null 2>&1") ~= true then skip("python3 not found") end
  local dir = tmpdir()
  local o = oracle.command{command = "python3 tests/data/oracle_springs.py {input} {output} 2.0 2.35 3.0",
                           cache = dir}
  local a = si8(0.08, 5)
  local r = o:label(a)
  local e, f, w = springs(a, 2.0, 2.35, 3.0)
  close(r.energy, e, 1e-12)
  assert(math.abs(e) > 0.01, e)
  for i = 1, 8 do for d = 1, 3 do close(r.forces:get(i, d), f[i][d], 1e-10, 1e-12) end end
  for i = 1, 3 do for j = 1, 3 do close(r.virial[i][j], w[i][j], 1e-10, 1e-12) end end
  -- forces are -dE/dx of the program's own energies (central differences)
  local h = 1e-4
  local b = a:copy(); b:positions():set(2, 3, b:positions():get(2, 3) + h)
  local c = a:copy(); c:positions():set(2, 3, c:positions():get(2, 3) - h)
  local ep, em = o:label(b).energy, o:label(c).energy
  close(-(ep - em) / (2 * h), r.forces:get(2, 3), 1e-6, 1e-7)
  assert(o.calls == 3)
  o:label(a)
  assert(o.calls == 3 and o.hits == 1)
  rmdir(dir)
end)

test("command oracle errors: exit status, missing output, timeout, bad options", function()
  local o = oracle.command{command = "echo boom >&2; exit 3 # {input} {output}"}
  local msg = checkerror("exited with status 3", o.label, o, si8())
  assert(msg:find("boom", 1, true), msg)
  o = oracle.command{command = "true {input} {output}"}
  checkerror("wrote no output file", o.label, o, si8())
  o = oracle.command{command = "sleep 5; : {input} {output}", timeout = 0.2}
  local t0 = kiln.wtime()
  checkerror("timed out after 0.2 s", o.label, o, si8())
  assert(kiln.wtime() - t0 < 4)
  o = oracle.command{command = "cp {input} {output}"}
  checkerror("no energy=", o.label, o, si8())
  checkerror("{input} and {output}", oracle.command, {command = "prog"})
  checkerror("unknown option 'timout'", oracle.command, {command = "p {input} {output}", timout = 1})
  checkerror("oracle:label", o.label, si8())
end)

---------------------------------------------------------------- CP2K
test("cp2k input: cell, coordinates, kinds, k-points, placeholders", function()
  local o = oracle.cp2k{cutoff = 300, kpoints = {2, 2, 2}, smearing = 1000, command = "no-cp2k-here"}
  local a = si8()
  a:set_symbol(2, "C")
  local text = o:input(a)
  assert(text:find("CUTOFF 300\n", 1, true))
  assert(text:find("SCHEME MONKHORST-PACK 2 2 2", 1, true))
  assert(text:find("&KIND Si\n      BASIS_SET DZVP-MOLOPT-SR-GTH\n      POTENTIAL GTH-PBE", 1, true))
  assert(text:find("&KIND C\n", 1, true))
  assert(text:find("A 5.4310000000 0.0000000000 0.0000000000", 1, true))
  assert(text:find("ELECTRONIC_TEMPERATURE [K] 1000", 1, true))
  assert(text:find("PERIODIC XYZ", 1, true) and text:find("STRESS_TENSOR ANALYTICAL", 1, true))
  assert(not text:find("{{", 1, true))
  local n = 0
  for _ in text:match("&COORD(.-)&END COORD"):gmatch("\n      [SC]i? %-?%d") do n = n + 1 end
  assert(n == 8, n)
  -- Gamma only: no &KPOINTS; a changed cutoff changes the settings hash
  local g = oracle.cp2k{cutoff = 300}
  assert(not g:input(a):find("KPOINTS", 1, true))
  assert(oracle.cp2k{cutoff = 350}.settings_hash ~= g.settings_hash)
  assert(oracle.cp2k{cutoff = 300, command = "other"}.settings_hash == g.settings_hash)
  -- user templates: unknown placeholders are errors
  local tpl = tmpname(".inp")
  local fh = io.open(tpl, "w"); fh:write("&GLOBAL\n{{PROJECT}} {{NOPE}}\n"); fh:close()
  local u = oracle.cp2k{template = tpl}
  checkerror("unknown template placeholder {{NOPE}}", u.input, u, a)
  checkerror("kpoints must be", oracle.cp2k, {kpoints = {2, 2}})
  checkerror("unknown option 'cutof'", oracle.cp2k, {cutof = 3})
  local mixed = si8(); mixed:set_pbc{true, true, false}
  checkerror("mixed periodicity", g.input, g, mixed)
end)

test("cp2k missing: a clear error saying how to install it", function()
  local o = oracle.cp2k{command = "kiln-no-such-cp2k"}
  local msg = checkerror("not found on PATH", o.label, o, si8())
  assert(msg:find("apt-get install cp2k cp2k-data", 1, true), msg)
  assert(o.calls == 0)
end)

test("cp2k output parser: units and the stress sign", function()
  local text = [[
 ENERGY| Total FORCE_EVAL ( QS ) energy [a.u.]:              -7.5
 ATOMIC FORCES in [a.u.]

 # Atom   Kind   Element          X              Y              Z
      1      1      Si          0.01000000     0.00000000    -0.02000000
      2      1      Si         -0.01000000     0.00000000     0.02000000
 SUM OF ATOMIC FORCES           0.00000000     0.00000000     0.00000000     0.00000000

 STRESS| Analytical stress tensor [GPa]
 STRESS|                        x                   y                   z
 STRESS|      x        1.00000000000E+00   2.00000000000E-01   0.00000000000E+00
 STRESS|      y        2.00000000000E-01   1.00000000000E+00   0.00000000000E+00
 STRESS|      z        0.00000000000E+00   0.00000000000E+00  -3.00000000000E+00
]]
  local r = oracle.parse_cp2k(text, 2, 40.0)
  close(r.energy, -7.5 * 27.211386245988, 1e-15)
  close(r.forces:get(1, 1), 0.01 * 27.211386245988 / 0.529177210903, 1e-15)
  close(r.forces:get(2, 3), 0.02 * 27.211386245988 / 0.529177210903, 1e-15)
  -- CP2K prints the pressure tensor: virial = P V (1 GPa = 1/160.2176634 eV/Å^3)
  close(r.virial[1][1], 40.0 / 160.2176634, 1e-15)
  close(r.virial[1][2], 0.2 * 40.0 / 160.2176634, 1e-15)
  close(r.virial[3][3], -3 * 40.0 / 160.2176634, 1e-15)
  local _, err = oracle.parse_cp2k("nothing", 2, 1)
  assert(err:find("ENERGY", 1, true))
end)

local function have_cp2k()
  return os.execute("command -v cp2k >/dev/null 2>&1") == true and
         io.open("/usr/share/cp2k/BASIS_MOLOPT") ~= nil
end

-- 2-atom primitive Si, minimal settings: about 3 s of CPU per CP2K run
local A = 5.431
local function si2(dx)
  return kiln.Atoms{cell = {{0, A / 2, A / 2}, {A / 2, 0, A / 2}, {A / 2, A / 2, 0}}, symbols = "Si",
                    positions = {{0, 0, 0}, {A / 4 + (dx or 0.05), A / 4 - 0.03, A / 4}}}
end
local CHEAP = {cutoff = 150, rel_cutoff = 30, basis = "SZV-MOLOPT-SR-GTH", kpoints = {2, 2, 2},
               scf = {eps = 1e-6}}

test("cp2k: energy range, forces sum to zero and match finite differences; cache", function()
  if not have_cp2k() then skip("cp2k not installed (apt-get install cp2k cp2k-data)") end
  local dir = tmpdir()
  local opts = {cache = dir}
  for k, v in pairs(CHEAP) do opts[k] = v end
  local o = oracle.cp2k(opts)
  local r = o:label(si2())
  -- Si GTH-PBE (4 valence electrons): about -3.9 Ha = -106 eV per atom
  assert(r.energy / 2 < -100 and r.energy / 2 > -112, r.energy)
  local s = {0, 0, 0}
  for i = 1, 2 do for d = 1, 3 do s[d] = s[d] + r.forces:get(i, d) end end
  for d = 1, 3 do assert(math.abs(s[d]) < 1e-3, "force sum " .. s[d]) end
  assert(math.abs(r.forces:get(2, 1)) > 0.3, r.forces:get(2, 1))
  local h = 0.01
  local ep, em = o:label(si2(0.05 + h)).energy, o:label(si2(0.05 - h)).energy
  local fd = -(ep - em) / (2 * h)
  -- measured: |F - FD| = 2e-5 eV/Å
  close(r.forces:get(2, 1), fd, 0, 2e-3)
  assert(r.virial and r.virial[1][1] ~= 0)
  assert(o.calls == 3)
  local o2 = oracle.cp2k(opts)
  o2:label(si2())
  assert(o2.calls == 0 and o2.hits == 1)
  rmdir(dir)
end)

test("cp2k errors: SCF not converged, timeout", function()
  if not have_cp2k() then skip("cp2k not installed (apt-get install cp2k cp2k-data)") end
  local opts = {}
  for k, v in pairs(CHEAP) do opts[k] = v end
  opts.scf = {eps = 1e-10, max = 2}
  local o = oracle.cp2k(opts)
  local msg = checkerror("SCF did not converge", o.label, o, si2())
  local dir = msg:match("kept in (%S+)%)")
  assert(dir, msg)
  rmdir(dir)
  opts.scf, opts.timeout = nil, 0.3
  o = oracle.cp2k(opts)
  msg = checkerror("CP2K timed out after 0.3 s", o.label, o, si2())
  dir = msg:match("kept in (%S+)%)")
  if dir then rmdir(dir) end
  assert(o.calls == 0)
end)
