-- The BaTiO3 effective Hamiltonian (kiln.potential.effective_hamiltonian, Nishimatsu et al.
-- 2010 parameters) heated from the rhombohedral ground state passes through R -> O -> T -> C
-- (published heating transitions at p = -0.005 T GPa: 118, 203, 413 K; README 6.1 of
-- ../shared/data/batio3-effective-hamiltonian). Temperatures are taken well inside each
-- phase's range, on a small 8^3 lattice, so the classification is robust.
local kiln = require "kiln"
local eh = kiln.effham

test("heating through the phases: R (50 K) -> O (165 K) -> T (310 K) -> C (520 K)", function()
  local atoms = eh.lattice{n = 8, u = {0.11, 0.11, 0.11}, noise = 0.02, seed = 8}
  local want = {{50, "R"}, {165, "O"}, {310, "T"}, {520, "C"}}
  local got = {}
  for i, tw in ipairs(want) do
    local T = tw[1]
    local pot = kiln.potential.effective_hamiltonian{strain = "relax", pressure = -0.005 * T}
    local md = kiln.md.langevin{dt = 2.0, T = T, damping = 500, seed = 40 + i}
    md:run(atoms, pot, 1500, {thermo = 0, progress = false})
    local s, nf = {0, 0, 0}, 0
    md:run(atoms, pot, 1000, {thermo = 0, progress = false, every = 20, observe = {
      function(_, a)
        local o = eh.order(a)
        for c = 1, 3 do s[c] = s[c] + o.sorted[c] end
        nf = nf + 1
      end}})
    for c = 1, 3 do s[c] = s[c] / nf end
    got[i] = eh.classify(s, 0.04)
    assert(got[i] == tw[2], string.format("%g K: phase %s (sorted |<u>| %.4f %.4f %.4f Å), expected %s",
                                          T, got[i], s[1], s[2], s[3], tw[2]))
  end
end)
