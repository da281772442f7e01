#!/usr/bin/python3
"""Write tests/data/ase_frames.xyz with ASE's extended XYZ writer and, beside it,
tests/data/ase_frames.ref: the numbers ASE itself reads back from that file, in the
plain line format of check_ase_roundtrip.py (read by tests/c/test_io.c).
Run from the repository root: /usr/bin/python3 tests/data/gen_ase_extxyz.py"""
import numpy as np
from ase import Atoms, units
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write

import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_ase_roundtrip import write_ref

rng = np.random.RandomState(7)

# frame 1: triclinic, pbc F T T, energy/stress/forces, momenta, custom arrays, info
cell = [[5.1, 0.0, 0.2], [1.3, 4.7, 0.0], [-0.8, 0.9, 6.2]]
a = Atoms("Si3O2Ti", positions=rng.uniform(0, 5, (6, 3)), cell=cell, pbc=[False, True, True])
a.set_momenta(rng.normal(0, 0.5, (6, 3)))
a.new_array("charge_custom", rng.normal(size=6))
a.new_array("tag3", rng.randint(-3, 5, (6, 3)))
a.new_array("dipole_at", rng.normal(size=(6, 3)))
a.info["config_type"] = 'bulk "hot" phase'
a.info["temperature"] = 300.0
a.info["n_steps"] = 12
a.info["flag"] = True
a.info["vec"] = np.array([1.5, -2.25, 3.0])
a.info["virial"] = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.5]])  # not symmetric: pins the order
a.calc = SinglePointCalculator(a, energy=-12.345678901234567, forces=rng.normal(size=(6, 3)),
                               stress=rng.normal(size=6) * 0.01)

# frame 2: molecule without cell, set (non-standard) masses, energy only
b = Atoms("Ar2Kr", positions=[[0, 0, 0], [3.1, 0.2, -0.1], [1.0, 2.9, 0.4]])
b.set_masses([40.0, 39.948, 84.0])
b.calc = SinglePointCalculator(b, energy=-0.03125)

here = os.path.dirname(os.path.abspath(__file__))
xyz = os.path.join(here, "ase_frames.xyz")
write(xyz, [a, b], format="extxyz")
write_ref(os.path.join(here, "ase_frames.ref"), read(xyz, ":", format="extxyz"))
