#!/usr/bin/env python3
"""Reference data for kiln.phonons from phonopy (python3-phonopy 2.17) on kiln's force constants.

For each case below this script
  1. runs kiln (a small Lua script) to compute the force constants of the unit cell by finite
     displacements and write them in phonopy's compact FORCE_CONSTANTS format
     (tests/ref/phonons-<case>.fc) with the unit cell as POSCAR (tests/ref/phonons-<case>.poscar);
  2. loads both (with kiln's masses) into phonopy (Phonopy(unitcell, supercell_matrix), primitive = unit cell),
     sets the force constants and writes tests/ref/phonons-<case>.freq:
       - frequencies (THz) at 20 q-points (reduced coordinates of the unit cell's reciprocal
         lattice), "q f1 f2 f3 nu_1 ... nu_3nb" lines;
       - "thermal T F S Cv" (eV, eV/K per unit cell, 8x8x8 Gamma-centred mesh, modes below
         1e-3 THz left out) and "msd T <u_x^2> <u_y^2> <u_z^2>" per basis atom (A^2,
         quantum amplitudes, modes below 0.01 THz left out) on the same mesh.
Read by tests/c/test_phonons.c, which recomputes the force constants with kiln and compares
them with the .fc file (1e-8 eV/A^2) and its frequencies with the .freq file (1e-6 THz).

Units: phonopy is given factor = KILN_PHONON_THZ = 1e3/(2 pi sqrt(KILN_MVV2E)) = 15.6333042372
(kiln's CODATA 2018 value for sqrt(eV/(A^2 amu))/(2 pi) in THz) instead of its own VaspToTHz =
15.6333023 (older constants; the two differ by 1.2e-7 relative, 2e-6 THz at 16 THz). Thermal
values are converted from phonopy's kJ/mol and J/K/mol with phonopy's own EvTokJmol.

usage:  python3 tests/ref/gen_phonopy_ref.py [--kiln path/to/kiln]   (from the repository root)
"""
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from phonopy import Phonopy
from phonopy.file_IO import parse_FORCE_CONSTANTS
from phonopy.interface.vasp import read_vasp
from phonopy.units import EvTokJmol

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KILN_PHONON_THZ = 15.633304237201818

A_SI = 5.431
A_CU = 3.615
CASES = {
    # Si, diamond primitive cell (2 atoms), Stillinger-Weber, 3x3x3 supercell (54 atoms)
    "si-sw": dict(
        cell=[[0, A_SI / 2, A_SI / 2], [A_SI / 2, 0, A_SI / 2], [A_SI / 2, A_SI / 2, 0]],
        symbols=["Si", "Si"], frac=[[0, 0, 0], [0.25, 0.25, 0.25]],
        potential='kiln.potential.sw{file="/usr/share/lammps/potentials/Si.sw"}',
        supercell=(3, 3, 3)),
    # fcc primitive cell, nearest-neighbour springs at rest length, 4x4x4 supercell
    "fcc-spring": dict(
        cell=[[0, A_CU / 2, A_CU / 2], [A_CU / 2, 0, A_CU / 2], [A_CU / 2, A_CU / 2, 0]],
        symbols=["Cu"], frac=[[0, 0, 0]],
        potential="kiln.potential.harmonic{k=2.0, r0=%.17g, cutoff=%.17g}"
                  % (A_CU / math.sqrt(2), (A_CU / math.sqrt(2) + A_CU) / 2),
        supercell=(4, 4, 4)),
}

QPOINTS = [[0, 0, 0], [0.5, 0, 0.5], [0.5, 0.5, 0.5], [0.375, 0.375, 0.75], [0.25, 0, 0.25],
           [0.1, 0.2, 0.3], [0.5, 0.25, 0.75], [0.05, 0.05, 0.1], [0.3, -0.2, 0.45],
           [0.7, 0.1, -0.3], [1 / 3, 1 / 3, 0], [0.25, 0.25, 0.25], [0.125, 0.5, 0.375],
           [0.5, 0.5, 0], [0.9, 0.8, 0.7], [0.01, 0, 0], [0.6, 0.35, 0.15], [0.2, 0.4, 0.6],
           [-0.45, 0.15, 0.3], [0.75, 0.5, 0.25]]


def kiln_binary(argv):
    if "--kiln" in argv:
        return argv[argv.index("--kiln") + 1]
    for p in ["bin/kiln"] + sorted(os.path.join("build", d, "bin/kiln") for d in os.listdir("build")
                                   if os.path.isdir(os.path.join("build", d))):
        if os.path.exists(os.path.join(ROOT, p)):
            return os.path.join(ROOT, p)
    sys.exit("kiln binary not found; pass --kiln path")


LUA = """
local kiln = require "kiln"
local u = kiln.crystal.from_cell{cell=%(cell)s, symbols=%(symbols)s, scaled_positions=%(frac)s}
local pot = %(potential)s
local ph = kiln.phonons{atoms=u, potential=pot, supercell={%(sc)s}}
ph:write_force_constants("%(fc)s", {compact=true})
kiln.io.write("%(poscar)s", u, {format="vasp"})
print("MASSES " .. table.concat(u:masses():totable(), " "))
"""


def lua_table(v):
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua_table(x) for x in v) + "}"
    if isinstance(v, str):
        return '"%s"' % v
    return "%.17g" % v


def run_case(name, case, kiln):
    fc_file = os.path.join(HERE, "phonons-%s.fc" % name)
    poscar = os.path.join(HERE, "phonons-%s.poscar" % name)
    script = LUA % dict(cell=lua_table(case["cell"]), symbols=lua_table(case["symbols"]),
                        frac=lua_table(case["frac"]), potential=case["potential"],
                        sc=", ".join(str(n) for n in case["supercell"]), fc=fc_file, poscar=poscar)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        res = subprocess.run([kiln, f.name], check=True, cwd=ROOT, capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    masses = [float(x) for line in res.stdout.splitlines() if line.startswith("MASSES")
              for x in line.split()[1:]]
    unit = read_vasp(poscar)
    unit.masses = masses   # kiln's masses (IUPAC conventional values, e.g. Si 28.085, not 28.0855)
    ph = Phonopy(unit, np.diag(case["supercell"]), factor=KILN_PHONON_THZ)
    fc = parse_FORCE_CONSTANTS(fc_file, p2s_map=ph.primitive.p2s_map)
    ph.force_constants = fc
    ph.run_qpoints(QPOINTS)
    freqs = ph.get_qpoints_dict()["frequencies"]
    out = os.path.join(HERE, "phonons-%s.freq" % name)
    with open(out, "w") as f:
        f.write("# phonons-%s: phonopy %s on kiln's force constants phonons-%s.fc "
                "(tests/ref/gen_phonopy_ref.py)\n" % (name, __import__("phonopy").__version__, name))
        f.write("# supercell %d %d %d, factor %.15g THz, masses %s amu\n"
                % (tuple(case["supercell"]) + (KILN_PHONON_THZ, " ".join("%.10g" % x for x in masses))))
        for q, nu in zip(QPOINTS, freqs):
            f.write("q %.15g %.15g %.15g %s\n" % (tuple(q) + (" ".join("%.12f" % x for x in nu),)))
        ph.run_mesh([8, 8, 8], is_gamma_center=True, is_mesh_symmetry=False, with_eigenvectors=True)
        for T in (100.0, 300.0, 1000.0):
            ph.run_thermal_properties(temperatures=[T], cutoff_frequency=1e-3)
            tp = ph.get_thermal_properties_dict()
            F = tp["free_energy"][0] / EvTokJmol
            S = tp["entropy"][0] / EvTokJmol / 1000
            C = tp["heat_capacity"][0] / EvTokJmol / 1000
            f.write("thermal %g %.12e %.12e %.12e\n" % (T, F, S, C))
        for T in (300.0,):
            ph.run_thermal_displacements(temperatures=[T], freq_min=0.01)
            d = ph.get_thermal_displacements_dict()["thermal_displacements"][0]
            f.write("msd %g %s\n" % (T, " ".join("%.12e" % x for x in d)))
    print("wrote", out)


def main(argv):
    kiln = kiln_binary(argv)
    for name, case in CASES.items():
        run_case(name, case, kiln)


if __name__ == "__main__":
    main(sys.argv[1:])
