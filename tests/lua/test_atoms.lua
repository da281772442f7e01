-- kiln.Atoms and kiln.crystal through Lua: construction forms, accessors,
-- conveniences written in Lua, info/arrays, <close>, error messages.
local kiln = require "kiln"

local cube = {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}}

test("construct with positions", function()
  local a = kiln.Atoms{cell = cube, symbols = {"Si", "O"}, positions = {{0, 0, 0}, {1, 2, 3}}}
  assert(#a == 2 and a:natoms() == 2)
  local s = a:symbols()
  assert(s[1] == "Si" and s[2] == "O" and a:get_symbol(2) == "O")
  local pbc = a:pbc()
  assert(pbc[1] and pbc[2] and pbc[3], "pbc defaults to true with a cell")
  close(a:volume(), 1000, 1e-14)
  close(a:masses()[1], 28.085, 1e-12)   -- IUPAC conventional mass (as ASE)
  close(a:masses()[2], 15.999, 1e-12)
  assert(a:positions()[2][3] == 3)
  local ids = a:ids()
  assert(ids[1] == 1 and ids[2] == 2)
  assert(a:cell()[3][3] == 10 and a:cell()[1][2] == 0)
end)

test("construct with scaled positions, velocities, masses, pbc", function()
  local a = kiln.Atoms{cell = {{4, 0, 0}, {0, 5, 0}, {1, 0, 6}}, symbols = "Cu",
                       scaled_positions = {{0.5, 0.5, 0.5}, {0, 0, 0.5}},
                       velocities = {{0.01, 0, 0}, {-0.01, 0, 0}}, masses = {1, 2},
                       pbc = {true, false, true}}
  local x = a:positions()
  close(x[1][1], 0.5 * 4 + 0.5 * 1, 1e-14)
  close(x[1][2], 2.5, 1e-14)
  close(x[2][1], 0.5, 1e-14)
  close(x[2][3], 3.0, 1e-14)
  local s = a:scaled_positions()
  close(s[1][1], 0.5, 1e-14)
  close(s[2][3], 0.5, 1e-14)
  assert(a:masses()[2] == 2 and a:velocities()[1][1] == 0.01)
  assert(a:pbc()[2] == false and a:symbols()[2] == "Cu")
  -- kinetic energy: 1/2 m v^2 in eV (mvv2e converts amu Å^2/fs^2)
  close(a:kinetic_energy(), 0.5 * (1 + 2) * 1e-4 * kiln.units.mvv2e, 1e-12)
end)

test("Atoms(n) and no cell", function()
  local a = kiln.Atoms(3)
  assert(#a == 3 and a:volume() == 0 and not a:pbc()[1])
  local b = kiln.Atoms{symbols = {"H"}, positions = {{0, 0, 0}}}
  assert(not b:pbc()[1], "pbc defaults to false without a cell")
end)

test("tostring", function()
  local si = kiln.crystal.diamond{symbol = "Si", a = 5.431}:supercell(4, 4, 4)
  assert(tostring(si) ==
         "kiln.Atoms(n=512, Si512, cell=[21.724 0 0; 0 21.724 0; 0 0 21.724], pbc=TTT)",
         tostring(si))
  local bto = kiln.crystal.perovskite{A = "Ba", B = "Ti", X = "O", a = 4.0}
  assert(tostring(bto):find("Ba1Ti1O3", 1, true), tostring(bto))
end)

test("crystal builders", function()
  local function n(a) return #a end
  assert(n(kiln.crystal.fcc{symbol = "Cu", a = 3.61}) == 4)
  assert(n(kiln.crystal.bcc{symbol = "Fe", a = 2.87}) == 2)
  assert(n(kiln.crystal.sc{symbol = "Po", a = 3.35}) == 1)
  assert(n(kiln.crystal.diamond{symbol = "C", a = 3.567}) == 8)
  assert(n(kiln.crystal.rocksalt{A = "Na", B = "Cl", a = 5.64}) == 8)
  local h = kiln.crystal.hcp{symbol = "Mg", a = 3.21}
  assert(n(h) == 2)
  -- ideal c = sqrt(8/3) a; volume = sqrt(3)/2 a^2 c
  close(h:volume(), math.sqrt(3) / 2 * 3.21 ^ 2 * math.sqrt(8 / 3) * 3.21, 1e-12)
  local bn = kiln.crystal.hbn{A = "B", B = "N", a = 2.5, c = 15}
  assert(n(bn) == 2 and bn:cell()[3][3] == 15)
  local fc = kiln.crystal.from_cell{cell = cube, symbols = {"Na", "Cl"},
                                    scaled_positions = {{0, 0, 0}, {0.5, 0.5, 0.5}}}
  assert(fc:positions()[2][1] == 5 and fc:get_symbol(2) == "Cl")
  checkerror("crystal fcc: option 'a' (number, Å) expected", kiln.crystal.fcc, {symbol = "Cu"})
  checkerror("crystal fcc: unknown option 'lattice'", kiln.crystal.fcc,
             {symbol = "Cu", a = 3.6, lattice = 1})
  checkerror("crystal fcc", kiln.crystal.fcc, {symbol = "Cu", a = -1})
end)

test("supercell copy wrap", function()
  local cu = kiln.crystal.fcc{symbol = "Cu", a = 3.61}
  local s = cu:supercell(2, 3, 1)
  assert(#s == 24)
  close(s:volume(), 6 * 3.61 ^ 3, 1e-12)
  local c = s:copy()
  c:positions()[1][1] = 100
  assert(s:positions()[1][1] ~= 100)
  c:wrap()
  close(c:positions()[1][1], 100 - 13 * 7.22, 1e-9)
  assert(#cu:supercell(2) == 32)
  checkerror("positive integer expected", cu.supercell, cu, 0)
end)

test("set_cell", function()
  local a = kiln.Atoms{cell = cube, symbols = "Ar", positions = {{1, 2, 3}}}
  a:set_cell({{20, 0, 0}, {0, 20, 0}, {0, 0, 20}}, {scale_atoms = true})
  close(a:positions()[1][3], 6, 1e-14)
  assert(a:volume() == 8000)
  a:set_cell(cube)
  close(a:positions()[1][3], 6, 1e-14)
  assert(a:volume() == 1000)
  checkerror("set_cell: unknown option 'scale'", a.set_cell, a, cube, {scale = true})
  checkerror("3 rows expected, got 2", a.set_cell, a, {{1, 0, 0}, {0, 1, 0}})
end)

test("set_velocities Maxwell-Boltzmann", function()
  local si = kiln.crystal.diamond{symbol = "Si", a = 5.431}:supercell(4, 4, 4)
  si:set_velocities{T = 300, seed = 7}
  -- zero total momentum
  local v, m = si:velocities(), si:masses()
  for d = 1, 3 do
    local p = 0
    for i = 1, #si do p = p + m[i] * v[i][d] end
    assert(math.abs(p) < 1e-12, "momentum " .. p)
  end
  -- T within 4 sigma (relative sigma sqrt(2/(3N)) = 3.6 % for N = 512)
  local T = si:temperature()
  assert(math.abs(T - 300) < 4 * 300 * math.sqrt(2 / (3 * 512)), "T = " .. T)
  -- reproducible
  local T1 = si:temperature()
  si:set_velocities{T = 300, seed = 7}
  assert(si:temperature() == T1)
  si:set_velocities{T = 300, seed = 8}
  assert(si:temperature() ~= T1)
  si:set_velocities{T = 300, seed = 8, exact = true}
  close(si:temperature(), 300, 1e-12)
  si:set_velocities{T = 0}
  assert(si:kinetic_energy() == 0)
  checkerror("set_velocities: unknown option 'temp'", si.set_velocities, si, {T = 1, temp = 1})
  -- plain form
  local a = kiln.Atoms{cell = cube, symbols = "Ar", positions = {{0, 0, 0}}}
  a:set_velocities{{0.1, 0.2, 0.3}}
  assert(a:velocities()[1][3] == 0.3)
end)

test("rattle", function()
  local cu = kiln.crystal.fcc{symbol = "Cu", a = 3.61}:supercell(5)
  local x0 = cu:positions_copy()
  cu:rattle{sigma = 0.05, seed = 2}
  local x = cu:positions()
  local s2, n = 0, 0
  for i = 1, #cu do for d = 1, 3 do
    s2 = s2 + (x[i][d] - x0[i][d]) ^ 2
    n = n + 1
  end end
  local sd = math.sqrt(s2 / n)
  assert(math.abs(sd - 0.05) < 0.05 * 4 / math.sqrt(2 * n), "stdev " .. sd)
  local c2 = kiln.crystal.fcc{symbol = "Cu", a = 3.61}:supercell(5)
  c2:rattle{sigma = 0.05, seed = 2}
  assert(c2:positions()[7][2] == x[7][2], "same seed, same displacements")
  checkerror("rattle: unknown option 'sigam'", cu.rattle, cu, {sigam = 1})
end)

test("distance and center of mass", function()
  local a = kiln.Atoms{cell = cube, symbols = {"H", "H"}, positions = {{0.5, 0, 0}, {9.5, 0, 0}}}
  close(a:distance(1, 2), 1.0, 1e-12)
  close(a:distance(1, 2, false), 9.0, 1e-12)
  close(a:center_of_mass()[1], 5.0, 1e-12)
end)

test("symbols and ids", function()
  local a = kiln.Atoms{cell = cube, symbols = "Ar", positions = {{0, 0, 0}, {1, 0, 0}}}
  a:set_symbol(2, "Kr")
  assert(a:get_symbol(2) == "Kr")
  close(a:masses()[2], 83.798, 1e-12)
  local sp = a:species()
  assert(sp[1] == "Ar" and sp[2] == "Kr")
  a:set_ids{10, 20}
  assert(a:ids()[2] == 20)
  a:set_symbols("Ne")
  assert(a:get_symbol(1) == "Ne" and a:get_symbol(2) == "Ne")
  checkerror("atom index 3 out of range (1..2)", a.get_symbol, a, 3)
end)

test("info", function()
  local a = kiln.Atoms{cell = cube, symbols = "Ar", positions = {{0, 0, 0}},
                       info = {energy = -1.5, config = "bulk"}}
  assert(a.info.energy == -1.5 and a:info("config") == "bulk")
  a.info.step = 12
  assert(math.type(a.info.step) == "integer" and a.info.step == 12)
  a:info("stress", {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}})
  assert(#a.info.stress == 9 and a.info.stress[6] == 6)
  a.info.flag = true
  assert(a.info.flag == true)
  a:set_info{pbc_note = "x"}
  local keys = {}
  for k in pairs(a.info) do keys[#keys + 1] = k end
  assert(#keys == 6, #keys)
  a.info.energy = nil
  assert(a.info.energy == nil and a:info().config == "bulk")
  assert(tostring(a.info):find("config=bulk", 1, true))
  a.info = {only = 1}
  assert(a.info.config == nil and a.info.only == 1)
end)

test("per-atom arrays", function()
  local a = kiln.Atoms{cell = cube, symbols = {"Na", "Cl"}, positions = {{0, 0, 0}, {5, 5, 5}}}
  a:array("charge", {1, -1})
  a:set_array("dft_forces", {{0, 0, 1}, {0, 0, -1}})
  a:array("label", {"cation", "anion"})
  a:array("fixed", {true, false})
  local q = a:array("charge")
  assert(q[1] == 1 and q[2] == -1)
  local f = a:array("dft_forces")
  assert(select(2, f:shape()) == 3 and f[2][3] == -1)
  assert(a:array("label")[2] == "anion" and a:array("fixed")[1] == true)
  local names = a:arrays()
  assert(#names == 4)
  assert(a:array("numbers")[2] == 17 and a:array("symbols")[1] == "Na")
  assert(a:array("positions")[2][1] == 5 and not a:array("positions"):isview())
  a:array("charge", nil)
  assert(a:array("charge") == nil and #a:arrays() == 3)
  assert(a:array("nothing") == nil)
  checkerror("3 rows for 2 atoms", a.array, a, "label", {"x", "y", "z"})
end)

test("close and <close>", function()
  local a = kiln.Atoms{cell = cube, symbols = "Ar", positions = {{0, 0, 0}}}
  do
    local b <close> = a:copy()
    assert(#b == 1)
    a.info.ref = 1
    _G.__kiln_test_b = b
  end
  assert(tostring(_G.__kiln_test_b) == "kiln.Atoms (closed)")
  checkerror("attempt to use a closed kiln.Atoms", function() return #_G.__kiln_test_b end)
  _G.__kiln_test_b = nil
  a:close()
  a:close()   -- closing twice is harmless
  checkerror("attempt to use a closed kiln.Atoms", a.positions, a)
end)

test("argument errors", function()
  local a = kiln.Atoms{cell = cube, symbols = "Ar", positions = {{0, 0, 0}}}
  checkerror("kiln.Atoms: unknown option 'positons'", kiln.Atoms, {positons = {}})
  checkerror("kiln.Atoms: symbols has 1 entries for 2 atoms", kiln.Atoms,
             {symbols = {"Ar"}, positions = {{0, 0, 0}, {1, 1, 1}}})
  checkerror("scaled_positions need a cell", kiln.Atoms,
             {symbols = "Ar", scaled_positions = {{0, 0, 0}}})
  checkerror("1 rows expected, got 2", a.set_positions, a, {{0, 0, 0}, {1, 1, 1}})
  checkerror("kiln.Array or table expected, got number", a.set_positions, a, 5)
  checkerror("cannot set field 'foo' of a kiln.Atoms", function() a.foo = 1 end)
  checkerror("kiln.Atoms expected", a.positions, 5)
end)
