#!/usr/bin/python3
"""Compare an extended XYZ file, as ASE reads it, with a plain reference file.

usage: check_ase_roundtrip.py FILE.xyz FILE.ref   -> exit 0 if every value matches
Used by tests/c/test_io.c: kiln writes FILE.xyz and FILE.ref (its own numbers);
ASE must read the same numbers. Also imported by gen_ase_extxyz.py (write_ref).

Reference format, one record per line ('#' comments):
  frame N                      starts a frame of N atoms
  cell ax ay az bx by bz cx cy cz
  pbc 0 1 1
  info NAME v1 [v2 ...]        numbers (energy and stress come from ASE's calculator;
                               stress as 9 values of the 3x3 matrix, row-major)
  infostr NAME text...         a string (rest of the line)
  ekin E                       kinetic energy (eV)
  atom I SYMBOL x y z mass     I is 0-based
  arr NAME I v1 [v2 ...]       per-atom array (vel = velocities in A/fs; forces from
                               the calculator; others from atoms.arrays)
  arrstr NAME I s1 [s2 ...]    per-atom string array
"""
import sys
import numpy as np


def fmt(v):
    return repr(float(v))


def write_ref(path, frames):
    from ase import units
    with open(path, "w") as f:
        f.write("# written by tests/data/gen_ase_extxyz.py from ASE's own reading\n")
        for a in frames:
            f.write("frame %d\n" % len(a))
            f.write("cell %s\n" % " ".join(fmt(x) for x in a.cell.array.reshape(-1)))
            f.write("pbc %s\n" % " ".join(str(int(p)) for p in a.pbc))
            res = a.calc.results if a.calc is not None else {}
            if "energy" in res:
                f.write("info energy %s\n" % fmt(res["energy"]))
            if "stress" in res:
                s = a.get_stress(voigt=False)
                f.write("info stress %s\n" % " ".join(fmt(x) for x in s.reshape(-1)))
            for k, v in a.info.items():
                if k in res:
                    continue
                if isinstance(v, str):
                    f.write("infostr %s %s\n" % (k, v))
                else:
                    vals = np.atleast_1d(np.asarray(v, dtype=float)).reshape(-1)
                    f.write("info %s %s\n" % (k, " ".join(fmt(x) for x in vals)))
            f.write("ekin %s\n" % fmt(a.get_kinetic_energy()))
            m = a.get_masses()
            for i, (s, p) in enumerate(zip(a.get_chemical_symbols(), a.positions)):
                f.write("atom %d %s %s %s\n" % (i, s, " ".join(fmt(x) for x in p), fmt(m[i])))
            arrs = {}
            if "momenta" in a.arrays:
                arrs["vel"] = a.get_velocities() * units.fs
            if "forces" in res:
                arrs["forces"] = res["forces"]
            for k, v in a.arrays.items():
                if k not in ("numbers", "positions", "momenta", "masses"):
                    arrs[k] = v
            for k, v in arrs.items():
                v = np.asarray(v, dtype=float).reshape(len(a), -1)
                for i in range(len(a)):
                    f.write("arr %s %d %s\n" % (k, i, " ".join(fmt(x) for x in v[i])))


def close(a, b, rel):
    a, b = float(a), float(b)
    return abs(a - b) <= rel * max(abs(a), abs(b)) or abs(a - b) <= 1e-300


def check(xyz, ref):
    from ase import units
    from ase.io import read
    frames = read(xyz, ":", format="extxyz")
    bad = []
    k = -1
    a = None
    for ln, line in enumerate(open(ref), 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        w = line.split()
        tag = w[0]
        where = "%s:%d" % (ref, ln)
        try:
            if tag == "frame":
                k += 1
                a = frames[k]
                if len(a) != int(w[1]):
                    bad.append("%s: natoms %d vs %s" % (where, len(a), w[1]))
            elif tag == "cell":
                got = a.cell.array.reshape(-1)
                if not all(close(x, y, 1e-15) for x, y in zip(got, w[1:])):
                    bad.append("%s: cell %s" % (where, got))
            elif tag == "pbc":
                if [int(p) for p in a.pbc] != [int(x) for x in w[1:]]:
                    bad.append("%s: pbc %s" % (where, a.pbc))
            elif tag == "info":
                name = w[1]
                res = a.calc.results if a.calc is not None else {}
                if name == "stress":
                    got = a.get_stress(voigt=False).reshape(-1)
                elif name in res:
                    got = np.atleast_1d(np.asarray(res[name], dtype=float)).reshape(-1)
                else:
                    got = np.atleast_1d(np.asarray(a.info[name], dtype=float)).reshape(-1)
                if len(got) != len(w) - 2 or not all(close(x, y, 1e-15) for x, y in zip(got, w[2:])):
                    bad.append("%s: info %s = %s" % (where, name, list(got)))
            elif tag == "infostr":
                want = line.split(None, 2)[2] if len(w) > 2 else ""
                if a.info.get(w[1]) != want:
                    bad.append("%s: info %s = %r" % (where, w[1], a.info.get(w[1])))
            elif tag == "ekin":
                if not close(a.get_kinetic_energy(), w[1], 1e-12):
                    bad.append("%s: ekin %r" % (where, a.get_kinetic_energy()))
            elif tag == "atom":
                i = int(w[1])
                if a.get_chemical_symbols()[i] != w[2]:
                    bad.append("%s: symbol %s" % (where, a.get_chemical_symbols()[i]))
                if not all(close(x, y, 1e-15) for x, y in zip(a.positions[i], w[3:6])):
                    bad.append("%s: position %s" % (where, a.positions[i]))
                if not close(a.get_masses()[i], w[6], 1e-15):
                    bad.append("%s: mass %r" % (where, a.get_masses()[i]))
            elif tag == "arr":
                name, i = w[1], int(w[2])
                rel = 1e-15
                res = a.calc.results if a.calc is not None else {}
                if name == "forces":
                    got = a.get_forces()[i]
                elif name in res:  # ASE moves charges, energies, ... to the calculator
                    got = np.atleast_1d(np.asarray(res[name][i], dtype=float))
                elif name == "vel" and "vel" not in a.arrays:
                    got, rel = a.get_velocities()[i] * units.fs, 1e-7  # CODATA versions differ
                else:  # ASE renames charge(s) to initial_charges
                    key = "initial_charges" if name in ("charge", "charges") and name not in a.arrays else name
                    got = np.atleast_1d(np.asarray(a.arrays[key][i], dtype=float))
                if len(got) != len(w) - 3 or not all(close(x, y, rel) for x, y in zip(got, w[3:])):
                    bad.append("%s: arr %s[%d] = %s" % (where, name, i, list(got)))
            elif tag == "arrstr":
                name, i = w[1], int(w[2])
                got = [str(x) for x in np.atleast_1d(a.arrays[name][i])]
                if got != w[3:]:
                    bad.append("%s: arrstr %s[%d] = %s" % (where, name, i, got))
            else:
                bad.append("%s: unknown record %s" % (where, tag))
        except Exception as e:  # missing keys etc.
            bad.append("%s: %s: %r" % (where, tag, e))
    if k + 1 != len(frames):
        bad.append("%s: %d frames in the reference, ASE read %d" % (ref, k + 1, len(frames)))
    for b in bad[:20]:
        print(b)
    return 0 if not bad else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(check(sys.argv[1], sys.argv[2]))
