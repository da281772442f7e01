#!/usr/bin/env python3
"""Generate reference data for kiln's potential styles with LAMMPS (/usr/bin/lmp).

For every case in CASES this script builds a small strained, rattled crystal in
pure Python, writes it as a LAMMPS data file tests/ref/<name>.data (atom_style
atomic, "Masses" lines carry "# Symbol" comments), runs LAMMPS with the case's
pair_style/pair_coeff lines (run 0) and writes tests/ref/<name>.ref in the format
read by tests/c/test_ref.c (see /work/brief.md, "Reference-data test format").

usage:  python3 tests/ref/gen_lammps_ref.py            # every case
        python3 tests/ref/gen_lammps_ref.py pair-lj    # one (or several) cases
        python3 tests/ref/gen_lammps_ref.py --list

Adding a case: add an entry to CASES (copy one below). Keys:
  style      kiln style name
  options    kiln options as "dotted.path=value" strings (integers are 1-based
             positional keys; values: number, true/false, else string)
  lammps     LAMMPS lines after read_data (pair_style, pair_coeff, pair_modify)
  structure  dict for build(): lattice (fcc|bcc|sc|diamond), a (A), reps (nx,ny,nz),
             species [(symbol, fraction), ...] (in LAMMPS type order 1, 2, ...), tilt (xy,xz,yz as fractions of the
             edge), strain (exx,eyy,ezz), rattle (A, Gaussian sigma), seed, pbc (1/0 x3),
             vacuum (A added along non-periodic directions), vacancies (lattice-site
             indices removed, e.g. [17])
  tolerance  relative tolerance written to the .ref file (default 1e-10)
  extra      optional list of extra lines copied into the .ref (e.g. "fd_tolerance 1e-5")
The potential files of LAMMPS live in /usr/share/lammps/potentials (read them there).
Run from the repository root or anywhere: paths are relative to this file.
"""
import math
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LMP = os.environ.get("LMP", "/usr/bin/lmp")
NKTV2P_METAL = 1.6021765e6  # LAMMPS metal units: pressure (bar) * volume (A^3) / nktv2p = eV

MASSES = {"Ar": 39.948, "Kr": 83.798, "Cu": 63.546, "Ni": 58.6934, "Si": 28.085,
          "Ge": 72.63, "C": 12.011, "Al": 26.9815385, "Ta": 180.94788, "W": 183.84,
          "Fe": 55.845, "Ga": 69.723, "N": 14.007, "Mo": 95.95, "Ag": 107.8682,
          "Au": 196.966569, "Pd": 106.42, "Pt": 195.084, "Ti": 47.867, "O": 15.999,
          "B": 10.81}

BASIS = {
    "sc": [(0, 0, 0)],
    "bcc": [(0, 0, 0), (0.5, 0.5, 0.5)],
    "fcc": [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)],
    "diamond": [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5),
                (0.25, 0.25, 0.25), (0.75, 0.75, 0.25), (0.75, 0.25, 0.75), (0.25, 0.75, 0.75)],
}

CASES = {
    # Two species, every pair given explicitly (one with its own cutoff), triclinic, the
    # cutoff (8 A) longer than half the cell (~10.6 A): several images of an atom interact.
    "pair-lj": dict(
        style="lj",
        options=["cutoff=8.0",
                 "pairs.1.1=Ar", "pairs.1.2=Ar", "pairs.1.epsilon=0.0104", "pairs.1.sigma=3.40",
                 "pairs.2.1=Ar", "pairs.2.2=Kr", "pairs.2.epsilon=0.0121", "pairs.2.sigma=3.52",
                 "pairs.2.cutoff=7.5",
                 "pairs.3.1=Kr", "pairs.3.2=Kr", "pairs.3.epsilon=0.0140", "pairs.3.sigma=3.65"],
        lammps=["pair_style lj/cut 8.0",
                "pair_coeff 1 1 0.0104 3.40",
                "pair_coeff 1 2 0.0121 3.52 7.5",
                "pair_coeff 2 2 0.0140 3.65"],
        structure=dict(lattice="fcc", a=5.30, reps=(2, 2, 2), species=[("Ar", 0.6), ("Kr", 0.4)],
                       tilt=(0.12, -0.08, 0.05), strain=(0.02, -0.015, 0.01), rattle=0.12, seed=1,
                       pbc=(1, 1, 1)),
    ),
    # One species, energy shifted to zero at the cutoff; a single conventional cell
    # (5.3 A) much smaller than the cutoff (8.5 A): many images of every atom.
    "pair-lj-shift": dict(
        style="lj",
        options=["epsilon=0.0104", "sigma=3.40", "cutoff=8.5", "shift=true"],
        lammps=["pair_style lj/cut 8.5", "pair_coeff 1 1 0.0104 3.40", "pair_modify shift yes"],
        structure=dict(lattice="fcc", a=5.30, reps=(1, 1, 2), species=[("Ar", 1.0)],
                       tilt=(0.2, 0.1, -0.15), strain=(-0.01, 0.02, 0.0), rattle=0.15, seed=2,
                       pbc=(1, 1, 1)),
    ),
    # Two species, a slab: periodic in x and y only.
    "pair-morse": dict(
        style="morse",
        options=["cutoff=6.0",
                 "pairs.1.1=Cu", "pairs.1.2=Cu", "pairs.1.D0=0.3429", "pairs.1.alpha=1.3588",
                 "pairs.1.r0=2.866",
                 "pairs.2.1=Cu", "pairs.2.2=Ni", "pairs.2.D0=0.3703", "pairs.2.alpha=1.3948",
                 "pairs.2.r0=2.8",
                 "pairs.3.1=Ni", "pairs.3.2=Ni", "pairs.3.D0=0.4205", "pairs.3.alpha=1.4199",
                 "pairs.3.r0=2.78", "pairs.3.cutoff=5.5"],
        lammps=["pair_style morse 6.0",
                "pair_coeff 1 1 0.3429 1.3588 2.866",
                "pair_coeff 1 2 0.3703 1.3948 2.8",
                "pair_coeff 2 2 0.4205 1.4199 2.78 5.5"],
        structure=dict(lattice="fcc", a=3.60, reps=(3, 3, 2), species=[("Cu", 0.5), ("Ni", 0.5)],
                       tilt=(0.1, 0.0, 0.0), strain=(0.01, 0.02, -0.02), rattle=0.1, seed=3,
                       pbc=(1, 1, 0), vacuum=8.0),
    ),
    # Overlay of lj and morse (LAMMPS hybrid/overlay), single species with shift.
    "pair-sum": dict(
        style="sum",
        options=["1.style=lj", "1.epsilon=0.05", "1.sigma=2.3", "1.cutoff=5.0",
                 "2.style=morse", "2.D0=0.3429", "2.alpha=1.3588", "2.r0=2.866", "2.cutoff=6.0",
                 "2.shift=true"],
        lammps=["pair_style hybrid/overlay lj/cut 5.0 morse 6.0",
                "pair_coeff 1 1 lj/cut 0.05 2.3",
                "pair_coeff 1 1 morse 0.3429 1.3588 2.866",
                "pair_modify pair morse shift yes"],
        structure=dict(lattice="fcc", a=3.65, reps=(2, 2, 3), species=[("Cu", 1.0)],
                       tilt=(-0.1, 0.05, 0.1), strain=(0.0, 0.01, 0.03), rattle=0.1, seed=4,
                       pbc=(1, 1, 1)),
    ),
    # EAM (funcfl, Foiles Cu): fcc Cu with a vacancy, strained, sheared (triclinic), rattled.
    "metal-eam": dict(
        style="eam",
        options=["file=/usr/share/lammps/potentials/Cu_u3.eam"],
        lammps=["pair_style eam", "pair_coeff 1 1 /usr/share/lammps/potentials/Cu_u3.eam"],
        structure=dict(lattice="fcc", a=3.615, reps=(3, 3, 3), species=[("Cu", 1.0)],
                       tilt=(0.08, -0.05, 0.04), strain=(0.03, -0.02, 0.015), rattle=0.12,
                       seed=11, vacancies=[17], pbc=(1, 1, 1)),
    ),
    # EAM setfl alloy (CuNi.eam.alloy, elements Ni Cu in the file): random fcc Cu-Ni; the
    # cell along z (7.1 A) is shorter than twice the cutoff (6.39 A).
    "metal-eam-alloy": dict(
        style="eam/alloy",
        options=["file=/usr/share/lammps/potentials/CuNi.eam.alloy"],
        lammps=["pair_style eam/alloy",
                "pair_coeff * * /usr/share/lammps/potentials/CuNi.eam.alloy Cu Ni"],
        structure=dict(lattice="fcc", a=3.56, reps=(3, 3, 2), species=[("Cu", 0.6), ("Ni", 0.4)],
                       tilt=(0.0, 0.0, 0.0), strain=(0.02, -0.01, 0.03), rattle=0.12, seed=5,
                       pbc=(1, 1, 1)),
    ),
    # EAM from two funcfl files (Cu_u3 + Ni_u3: different dr, so both are resampled onto a
    # common grid; cross pair term 27.2*0.529*Z_Cu*Z_Ni), triclinic and small.
    "metal-eam-mix": dict(
        style="eam",
        options=["files.1=/usr/share/lammps/potentials/Cu_u3.eam",
                 "files.2=/usr/share/lammps/potentials/Ni_u3.eam"],
        lammps=["pair_style eam",
                "pair_coeff 1 1 /usr/share/lammps/potentials/Cu_u3.eam",
                "pair_coeff 2 2 /usr/share/lammps/potentials/Ni_u3.eam"],
        structure=dict(lattice="fcc", a=3.58, reps=(3, 2, 2), species=[("Cu", 0.5), ("Ni", 0.5)],
                       tilt=(0.1, 0.08, -0.12), strain=(0.01, 0.02, -0.01), rattle=0.12, seed=7,
                       pbc=(1, 1, 1)),
    ),
    # Stillinger-Weber Si (Si.sw): diamond compressed along x and z, rattled, so that
    # second-neighbor pairs (3.84 A unstrained) sit just inside the cutoff a*sigma = 3.7712 A.
    "covalent-sw": dict(
        style="sw",
        options=["file=/usr/share/lammps/potentials/Si.sw"],
        lammps=["pair_style sw", "pair_coeff * * /usr/share/lammps/potentials/Si.sw Si"],
        structure=dict(lattice="diamond", a=5.431, reps=(2, 2, 2), species=[("Si", 1.0)],
                       strain=(-0.02, 0.01, -0.015), rattle=0.1, seed=21, pbc=(1, 1, 1)),
    ),
    # SW Si, triclinic, one conventional cell along x and y (5.4 A, shorter than twice
    # the cutoff): several images of an atom are neighbors; elements given explicitly.
    "covalent-sw-tri": dict(
        style="sw",
        options=["file=/usr/share/lammps/potentials/Si.sw", "elements.1=Si"],
        lammps=["pair_style sw", "pair_coeff * * /usr/share/lammps/potentials/Si.sw Si"],
        structure=dict(lattice="diamond", a=5.431, reps=(1, 1, 2), species=[("Si", 1.0)],
                       tilt=(0.15, -0.1, 0.12), strain=(-0.01, 0.015, -0.02), rattle=0.12,
                       seed=22, pbc=(1, 1, 1)),
    ),
    # Two-element SW (GaN.sw, Bere and Serra): random Ga/N on diamond sites, triclinic;
    # the three-body ijk entries differ from the ijj/ikk ones.
    "covalent-sw-multi": dict(
        style="sw",
        options=["file=/usr/share/lammps/potentials/GaN.sw"],
        lammps=["pair_style sw", "pair_coeff * * /usr/share/lammps/potentials/GaN.sw Ga N"],
        structure=dict(lattice="diamond", a=4.5, reps=(2, 2, 2), species=[("Ga", 0.5), ("N", 0.5)],
                       tilt=(0.05, 0.04, -0.06), strain=(0.02, -0.02, 0.01), rattle=0.1, seed=24,
                       pbc=(1, 1, 1)),
    ),
    # Tersoff Si (Si.tersoff, m = 3, lambda3 != 0): diamond expanded to a = 6.0 A and
    # rattled, so that ~30 bonds sit in the switching region R-D..R+D = 2.8..3.2 A.
    "covalent-tersoff": dict(
        style="tersoff",
        options=["file=/usr/share/lammps/potentials/Si.tersoff"],
        lammps=["pair_style tersoff", "pair_coeff * * /usr/share/lammps/potentials/Si.tersoff Si"],
        structure=dict(lattice="diamond", a=6.0, reps=(2, 2, 2), species=[("Si", 1.0)],
                       strain=(0.02, -0.01, 0.01), rattle=0.15, seed=22, pbc=(1, 1, 1)),
    ),
    # Tersoff SiC (SiC.tersoff): random Si/C on diamond sites of 3C-SiC (a = 4.36 A),
    # triclinic, strained; C-C, Si-C and Si-Si bonds in their switching regions.
    "covalent-tersoff-multi": dict(
        style="tersoff",
        options=["file=/usr/share/lammps/potentials/SiC.tersoff", "elements.1=Si",
                 "elements.2=C"],
        lammps=["pair_style tersoff",
                "pair_coeff * * /usr/share/lammps/potentials/SiC.tersoff Si C"],
        structure=dict(lattice="diamond", a=4.36, reps=(2, 2, 2), species=[("Si", 0.5), ("C", 0.5)],
                       tilt=(0.06, -0.04, 0.05), strain=(-0.03, 0.02, -0.02), rattle=0.1, seed=23,
                       pbc=(1, 1, 1)),
    ),
    # Tersoff SiGe from SiCGe.tersoff, whose silicon is named Si(D): the species Si is
    # mapped to it with a keyed elements entry (LAMMPS: pair_coeff ... Si(D) Ge).
    "covalent-tersoff-sige": dict(
        style="tersoff",
        options=["file=/usr/share/lammps/potentials/SiCGe.tersoff", "elements.Si=Si(D)",
                 "elements.1=Ge"],
        lammps=["pair_style tersoff",
                "pair_coeff * * /usr/share/lammps/potentials/SiCGe.tersoff Si(D) Ge"],
        structure=dict(lattice="diamond", a=5.53, reps=(2, 2, 1), species=[("Si", 0.5), ("Ge", 0.5)],
                       tilt=(-0.05, 0.03, 0.08), strain=(0.02, -0.03, 0.04), rattle=0.15, seed=25,
                       pbc=(1, 1, 1)),
    ),
    # Three-element Tersoff (BNC.tersoff): its i-j-k entries have other R, D than the i-k-k
    # ones, so the cutoff of r_ik is taken per triplet (kiln's general path); random B/N/C
    # on expanded diamond sites (nearest neighbors ~1.8 A, in the 1.9-2.1 A switching regions).
    "covalent-tersoff-bnc": dict(
        style="tersoff",
        options=["file=/usr/share/lammps/potentials/BNC.tersoff"],
        lammps=["pair_style tersoff",
                "pair_coeff * * /usr/share/lammps/potentials/BNC.tersoff B N C"],
        structure=dict(lattice="diamond", a=4.2, reps=(2, 2, 2),
                       species=[("B", 0.4), ("N", 0.4), ("C", 0.2)],
                       tilt=(0.04, 0.05, -0.03), strain=(0.01, -0.02, 0.02), rattle=0.12, seed=26,
                       pbc=(1, 1, 1)),
    ),
    # Tersoff with m = 1 and lambda3 != 0 (GaN.tersoff, Nord et al.): random Ga/N.
    "covalent-tersoff-gan": dict(
        style="tersoff",
        options=["file=/usr/share/lammps/potentials/GaN.tersoff"],
        lammps=["pair_style tersoff",
                "pair_coeff * * /usr/share/lammps/potentials/GaN.tersoff Ga N"],
        structure=dict(lattice="diamond", a=4.6, reps=(2, 2, 2), species=[("Ga", 0.5), ("N", 0.5)],
                       tilt=(0.0, 0.0, 0.0), strain=(0.03, -0.02, 0.01), rattle=0.15, seed=27,
                       pbc=(1, 1, 1)),
    ),
}


def build(s):
    """Strained, tilted, rattled supercell: (cell rows lower-triangular, symbols, positions)."""
    rng = random.Random(s.get("seed", 1))
    a = s["a"]
    nx, ny, nz = s["reps"]
    ex, ey, ez = s.get("strain", (0, 0, 0))
    txy, txz, tyz = s.get("tilt", (0, 0, 0))
    lx, ly, lz = a * nx * (1 + ex), a * ny * (1 + ey), a * nz * (1 + ez)
    cell = [[lx, 0.0, 0.0], [txy * lx, ly, 0.0], [txz * lx, tyz * ly, lz]]
    frac = []
    for i in range(nx):
        for j in range(ny):
            for k in range(nz):
                for b in BASIS[s["lattice"]]:
                    frac.append(((i + b[0]) / nx, (j + b[1]) / ny, (k + b[2]) / nz))
    for v in sorted(s.get("vacancies", []), reverse=True):
        del frac[v]
    n = len(frac)
    # species: exact counts from the fractions, shuffled
    syms = []
    for sym, fr in s["species"]:
        syms += [sym] * int(round(fr * n))
    syms = (syms + [s["species"][0][0]] * n)[:n]
    rng.shuffle(syms)
    sig = s.get("rattle", 0.0)
    pos = []
    for f in frac:
        x = [f[0] * cell[0][c] + f[1] * cell[1][c] + f[2] * cell[2][c] for c in range(3)]
        pos.append([x[c] + rng.gauss(0.0, sig) for c in range(3)])
    return cell, syms, pos


def write_data(path, name, cell, syms, pos, pbc, vacuum, types):
    """types: symbols in LAMMPS type order (1, 2, ...), as the pair_coeff lines use them"""
    lo = [0.0, 0.0, 0.0]
    hi = [cell[0][0], cell[1][1], cell[2][2]]
    for d in range(3):  # non-periodic: make room around the atoms (LAMMPS "f" boundary)
        if not pbc[d]:
            lo[d] = min(p[d] for p in pos) - vacuum
            hi[d] = max(p[d] for p in pos) + vacuum
    with open(path, "w") as f:
        f.write("# kiln reference structure %s (tests/ref/gen_lammps_ref.py)\n\n" % name)
        f.write("%d atoms\n%d atom types\n\n" % (len(pos), len(types)))
        for d, ax in enumerate("xyz"):
            f.write("%.17g %.17g %slo %shi\n" % (lo[d], hi[d], ax, ax))
        f.write("%.17g %.17g %.17g xy xz yz\n\n" % (cell[1][0], cell[2][0], cell[2][1]))
        f.write("Masses\n\n")
        for t, s in enumerate(types):
            f.write("%d %.10g # %s\n" % (t + 1, MASSES[s], s))
        f.write("\nAtoms # atomic\n\n")
        for i, (s, p) in enumerate(zip(syms, pos)):
            f.write("%d %d %.17g %.17g %.17g\n" % (i + 1, types.index(s) + 1, p[0], p[1], p[2]))


LMP_TEMPLATE = """units metal
atom_style atomic
atom_modify map array
boundary {boundary}
read_data {data}
{pair}
compute peat all pe/atom
compute pesum all reduce sum c_peat
compute vir all pressure NULL virial
variable e equal pe
variable es equal c_pesum
variable v equal vol
{pvars}
thermo_style custom step pe c_pesum c_vir[1] c_vir[2] c_vir[3] c_vir[4] c_vir[5] c_vir[6]
run 0
print "KILN energy ${{ef}}"
print "KILN eatom_sum ${{esf}}"
print "KILN vol ${{vf}}"
print "KILN press ${{p1f}} ${{p2f}} ${{p3f}} ${{p4f}} ${{p5f}} ${{p6f}}"
write_dump all custom {forces} id fx fy fz modify format float %.17g sort id
"""


def run_case(name, case):
    s = case["structure"]
    pbc = s.get("pbc", (1, 1, 1))
    cell, syms, pos = build(s)
    data_rel = "tests/ref/%s.data" % name
    data = os.path.join(ROOT, data_rel)
    write_data(data, name, cell, syms, pos, pbc, s.get("vacuum", 10.0),
               [sym for sym, _ in s["species"]])
    pvars = ["variable ef format e %.17g", "variable esf format es %.17g",
             "variable vf format v %.17g"]
    for k in range(1, 7):
        pvars.append("variable p%d equal c_vir[%d]" % (k, k))
        pvars.append("variable p%df format p%d %%.17g" % (k, k))
    with tempfile.TemporaryDirectory() as tmp:
        forces = os.path.join(tmp, "forces.dump")
        deck = LMP_TEMPLATE.format(boundary=" ".join("p" if p else "f" for p in pbc), data=data,
                                   pair="\n".join(case["lammps"]), pvars="\n".join(pvars),
                                   forces=forces)
        inp = os.path.join(tmp, "in.ref")
        with open(inp, "w") as f:
            f.write(deck)
        r = subprocess.run([LMP, "-in", inp, "-log", os.path.join(tmp, "log"), "-screen", "none"],
                           cwd=tmp, capture_output=True, text=True)
        log = open(os.path.join(tmp, "log")).read() if os.path.exists(os.path.join(tmp, "log")) else ""
        if r.returncode != 0 or "ERROR" in log:
            sys.exit("LAMMPS failed for %s:\n%s\n%s" % (name, r.stdout + r.stderr, log[-3000:]))
        vals = {}
        for line in log.splitlines():
            if line.startswith("KILN "):
                w = line.split()
                vals[w[1]] = [float(x) for x in w[2:]]
        version = next((l.strip() for l in log.splitlines() if l.startswith("LAMMPS (")), "LAMMPS")
        lines = open(forces).read().splitlines()
        k = lines.index(next(l for l in lines if l.startswith("ITEM: ATOMS")))
        frows = [l.split() for l in lines[k + 1:] if l.strip()]
    vol = vals["vol"][0]
    W = [p * vol / NKTV2P_METAL for p in vals["press"]]
    out = os.path.join(HERE, "%s.ref" % name)
    with open(out, "w") as f:
        f.write("# %s: generated by tests/ref/gen_lammps_ref.py with %s\n" % (name, version))
        for l in case["lammps"]:
            f.write("# lammps: %s\n" % l)
        f.write("style %s\n" % case["style"])
        for o in case["options"]:
            f.write("option %s\n" % o)
        f.write("structure %s\n" % data_rel)
        if tuple(pbc) != (1, 1, 1):
            f.write("pbc %d %d %d\n" % tuple(pbc))
        f.write("tolerance %g\n" % case.get("tolerance", 1e-10))
        for l in case.get("extra", []):
            f.write(l + "\n")
        f.write("energy %.17g\n" % vals["energy"][0])
        f.write("virial %s\n" % " ".join("%.17g" % w for w in W))
        f.write("eatom_sum %.17g\n" % vals["eatom_sum"][0])
        f.write("natoms %d\n" % len(frows))
        for row in frows:
            f.write("force %s %s %s %s\n" % tuple(row))
    print("wrote %s (%d atoms, E = %.10g eV)" % (os.path.relpath(out, ROOT), len(frows),
                                                 vals["energy"][0]))


def main(argv):
    if "--list" in argv:
        print("\n".join(sorted(CASES)))
        return
    names = [a for a in argv if not a.startswith("-")] or sorted(CASES)
    for n in names:
        if n not in CASES:
            sys.exit("unknown case '%s' (known: %s)" % (n, ", ".join(sorted(CASES))))
        run_case(n, CASES[n])


if __name__ == "__main__":
    main(sys.argv[1:])
