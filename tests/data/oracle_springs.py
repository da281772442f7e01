#!/usr/bin/env python3
"""A toy labelling program for kiln.oracle.command (tests/lua/test_oracle.lua).

usage: oracle_springs.py INPUT.xyz OUTPUT.xyz [K R0 RC]

Reads one extxyz frame (Lattice, pos columns; the files kiln.io.write makes) and writes
it back with the energy, forces and stress of harmonic springs between every pair of
atoms (all periodic images) closer than RC:
    E = sum_{pairs, r < RC} K/2 (r - R0)^2          (eV, K in eV/Å^2, lengths Å)
stress = -virial / V with virial = sum_pairs r_ij (x) f_ij (eV/Å^3, ASE sign), written
as stress="..." (9 numbers); forces as the forces:R:3 column. Plain Python, no numpy.
"""
import math
import re
import sys


def main():
    inp, out = sys.argv[1], sys.argv[2]
    k, r0, rc = (float(x) for x in (sys.argv[3:6] if len(sys.argv) >= 6 else (2.0, 2.35, 3.0)))
    with open(inp) as f:
        lines = f.read().splitlines()
    n = int(lines[0])
    head = lines[1]
    lat = [float(x) for x in re.search(r'Lattice="([^"]*)"', head).group(1).split()]
    cell = [lat[0:3], lat[3:6], lat[6:9]]
    sym, pos = [], []
    for line in lines[2:2 + n]:
        w = line.split()
        sym.append(w[0])
        pos.append([float(w[1]), float(w[2]), float(w[3])])
    energy = 0.0
    forces = [[0.0, 0.0, 0.0] for _ in range(n)]
    vir = [[0.0] * 3 for _ in range(3)]
    shifts = [(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)]
    for i in range(n):
        for j in range(n):
            for (a, b, c) in shifts:
                if i == j and (a, b, c) == (0, 0, 0):
                    continue
                d = [pos[j][m] - pos[i][m] + a * cell[0][m] + b * cell[1][m] + c * cell[2][m]
                     for m in range(3)]
                r = math.sqrt(sum(x * x for x in d))
                if r >= rc:
                    continue
                # each pair (and image) is visited twice: half the energy each time
                energy += 0.25 * k * (r - r0) ** 2
                g = k * (r - r0) / r          # dE/dr / r
                for m in range(3):
                    forces[i][m] += 0.5 * g * d[m]   # force on i from this half of the pair
                    forces[j][m] -= 0.5 * g * d[m]
                # virial of the pair: r_ij (x) f_ij with f_ij the force on j: -g d
                for p in range(3):
                    for q in range(3):
                        vir[p][q] += 0.5 * d[p] * (-g * d[q])
    vol = (cell[0][0] * (cell[1][1] * cell[2][2] - cell[1][2] * cell[2][1])
           - cell[0][1] * (cell[1][0] * cell[2][2] - cell[1][2] * cell[2][0])
           + cell[0][2] * (cell[1][0] * cell[2][1] - cell[1][1] * cell[2][0]))
    stress = [-vir[p][q] / vol for p in range(3) for q in range(3)]
    with open(out, "w") as f:
        f.write("%d\n" % n)
        f.write('Lattice="%s" Properties=species:S:1:pos:R:3:forces:R:3 energy=%.17g '
                'stress="%s" pbc="T T T"\n'
                % (" ".join("%.17g" % x for x in lat), energy, " ".join("%.17g" % s for s in stress)))
        for i in range(n):
            f.write("%s %.17g %.17g %.17g %.17g %.17g %.17g\n"
                    % (sym[i], pos[i][0], pos[i][1], pos[i][2], forces[i][0], forces[i][1], forces[i][2]))


if __name__ == "__main__":
    main()
