-- kiln.potential through Lua: analytic LJ dimer, sums, SW diamond, errors.
local kiln = require "kiln"

local eps, sig = 0.0104, 3.40
local function lj(r) return 4 * eps * ((sig / r) ^ 12 - (sig / r) ^ 6) end
-- force on atom 2 along +r (-dE/dr)
local function ljf(r) return 24 * eps / r * (2 * (sig / r) ^ 12 - (sig / r) ^ 6) end

local function dimer(r, L, s1, s2)
  return kiln.Atoms{cell = L and {{L, 0, 0}, {0, L, 0}, {0, 0, L}} or nil,
                    symbols = {s1 or "Ar", s2 or "Ar"}, positions = {{1, 1, 1}, {1 + r, 1, 1}}}
end

test("LJ dimer vs analytic", function()
  local pot = kiln.potential.lj{epsilon = eps, sigma = sig, cutoff = 8.5}
  for _, r in ipairs{3.2, 3.8, 4.5, 7.0} do
    local a = dimer(r)
    local res = pot:compute(a)
    close(res.energy, lj(r), 1e-12)
    close(res.forces[2][1], ljf(r), 1e-12)
    close(res.forces[1][1], -ljf(r), 1e-12)
    assert(math.abs(res.forces[2][2]) < 1e-15)
    -- forces are also stored in the atoms
    close(a:forces()[2][1], ljf(r), 1e-12)
    -- virial W = sum x (x) f = r * F
    close(res.virial[1][1], r * ljf(r), 1e-12)
    assert(res.virial[2][2] == 0 and res.stress[1][1] == 0)  -- no cell: no stress
    close(res.energies[1] + res.energies[2], res.energy, 1e-12)
    close(res.energies[1], res.energies[2], 1e-12)
    close(pot:energy(a), lj(r), 1e-12)
  end
  -- beyond the cutoff
  assert(pot:energy(dimer(9.0)) == 0)
end)

test("LJ stress and periodic box", function()
  local pot = kiln.potential.lj{epsilon = eps, sigma = sig, cutoff = 8.5}
  local L, r = 30, 3.8
  local a = dimer(r, L)
  local res = pot:compute(a)
  close(res.energy, lj(r), 1e-12)
  close(res.stress[1][1], -r * ljf(r) / L ^ 3, 1e-12)   -- eV/Å^3, ASE sign
  assert(res.stress[1][2] == 0)
end)

test("LJ shift and pairs", function()
  local rc = 8.0
  local p = kiln.potential.lj{epsilon = eps, sigma = sig, cutoff = rc, shift = true}
  close(p:energy(dimer(4.0)), lj(4.0) - lj(rc), 1e-12)
  local e2, s2 = 0.0121, 3.52
  local pairs = kiln.potential.lj{cutoff = 8.0, pairs = {
    {"Ar", "Ar", epsilon = eps, sigma = sig},
    {"Ar", "Kr", epsilon = e2, sigma = s2},
    {"Kr", "Kr", epsilon = 0.0140, sigma = 3.65}}}
  local r = 3.9
  close(pairs:energy(dimer(r, nil, "Ar", "Kr")), 4 * e2 * ((s2 / r) ^ 12 - (s2 / r) ^ 6), 1e-12)
  close(pairs:energy(dimer(r)), lj(r), 1e-12)
end)

test("sum of potentials", function()
  local p1 = kiln.potential.lj{epsilon = eps, sigma = sig, cutoff = 8.5}
  local p2 = kiln.potential.morse{D0 = 0.1, alpha = 1.2, r0 = 3.5, cutoff = 8.0}
  local s = kiln.potential.sum{p1, p2}
  assert(s.style == "sum" and s.cutoff == 8.5 and #s.parts == 2 and rawequal(s.parts[1], p1))
  local a = dimer(3.7, 25)
  local r1, r2 = p1:compute(a), p2:compute(a)
  local rs = s:compute(a)
  close(rs.energy, r1.energy + r2.energy, 1e-13)
  close(rs.forces[2][1], r1.forces[2][1] + r2.forces[2][1], 1e-13)
  close(rs.virial[1][1], r1.virial[1][1] + r2.virial[1][1], 1e-13)
  close(rs.energies[1], r1.energies[1] + r2.energies[1], 1e-13)
  -- Morse: D0 [exp(-2 alpha (r - r0)) - 2 exp(-alpha (r - r0))]
  local x = math.exp(-1.2 * (3.7 - 3.5))
  close(r2.energy, 0.1 * (x * x - 2 * x), 1e-12)
  -- parts stay alive while the sum lives, and cannot be closed before it
  p1, p2 = nil, nil
  collectgarbage()
  close(s:energy(a), rs.energy, 1e-14)
  checkerror("cannot close a kiln.Potential while it is in use", function() s.parts[1]:close() end)
  local part = s.parts[1]
  s:close()
  part:close()
  -- the table form builds and owns its parts
  local t = kiln.potential.sum{{style = "lj", epsilon = eps, sigma = sig, cutoff = 8.5},
                               {style = "morse", D0 = 0.1, alpha = 1.2, r0 = 3.5, cutoff = 8.0}}
  close(t:energy(a), rs.energy, 1e-13)
end)

test("Stillinger-Weber diamond Si", function()
  local si = kiln.crystal.diamond{symbol = "Si", a = 5.431}:supercell(2, 2, 2)
  local sw = kiln.potential.sw{file = "/usr/share/lammps/potentials/Si.sw"}
  local r = sw:compute(si)
  -- perfect diamond at (almost exactly) the SW lattice constant: -2 epsilon per atom
  close(r.energy / #si, -2 * 2.1683, 1e-6)
  assert(r.forces:max_abs() < 1e-10)
  close(r.virial[1][1], r.virial[2][2], 1e-10, 1e-10)
  assert(math.abs(r.virial[1][2]) < 1e-9)
  assert(sw.style == "sw" and math.abs(sw.cutoff - 3.77118) < 1e-4)
end)

test("fields, tostring, styles", function()
  local p = kiln.potential.lj{epsilon = eps, sigma = sig, cutoff = 8.5}
  assert(p.cutoff == 8.5 and p.style == "lj" and type(p.description) == "string")
  assert(tostring(p) == "kiln.Potential(lj, cutoff=8.5 A)", tostring(p))
  local names = {}
  for _, rec in ipairs(kiln.potential.styles()) do
    assert(type(rec.description) == "string" and type(rec.citation) == "string"
           and type(rec.options) == "string")
    names[rec.name] = true
  end
  assert(names.lj and names.sw and names["eam/alloy"])
  assert(kiln.potential["eam/alloy"].name == "eam/alloy")
  assert(kiln.potential.eam_alloy.name == "eam/alloy")
  assert(kiln.potential.sw.name == "sw" and kiln.potential.sw.__help:find("Stillinger"))
  assert(type(kiln.potential.__help) == "string" and type(kiln.Potential.__help) == "string")
  local q = kiln.Potential("lj", {epsilon = eps, sigma = sig, cutoff = 5})
  assert(q.cutoff == 5)
  p:close()
  assert(tostring(p) == "kiln.Potential (closed)")
  checkerror("attempt to use a closed kiln.Potential", p.energy, p, dimer(3))
end)

test("errors", function()
  checkerror("potential lj: unknown option 'cutof'", kiln.potential.lj,
             {epsilon = eps, sigma = sig, cutoff = 8, cutof = 8})
  checkerror("unknown potential style 'ljj' (known: lj", function() return kiln.potential.ljj end)
  checkerror("nope.sw", kiln.potential.sw, {file = "tests/out/nope.sw"})
  local sw = kiln.potential.sw{file = "/usr/share/lammps/potentials/Si.sw"}
  checkerror("potential sw has no parameters for element 'Ar'", sw.compute, sw, dimer(3))
  checkerror("bad argument #1 to 'kiln.potential.lj' (options table expected, got number)",
             kiln.potential.lj, 5)
  checkerror("entry 2: kiln.Potential expected, got number", kiln.potential.sum, {sw, 3})
  checkerror("kiln.Atoms expected", sw.compute, sw, 5)
  checkerror("option 'x': unsupported value of type kiln.Atoms", kiln.potential.lj,
             {x = dimer(3)})
end)
