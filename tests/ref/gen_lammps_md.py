#!/usr/bin/env python3
"""Generate end-to-end NVE reference trajectories for kiln's velocity Verlet with LAMMPS.

For every case in CASES: build a small strained, rattled crystal (build() of
gen_lammps_ref.py), draw Gaussian velocities for TEMP K with zero total momentum,
write tests/ref/md-<name>.data (LAMMPS data file, atom_style atomic, Masses with
"# Sym" comments, Velocities in metal units A/ps), run LAMMPS (units metal, fix nve,
neighbor 1.0 bin, neigh_modify every 1 delay 0 check yes) for NSTEPS steps and write
tests/ref/md-<name>.mdref, read by tests/c/test_md_lammps.c:

    style sw
    option file=/usr/share/lammps/potentials/Si.sw     # as in tests/ref/*.ref
    structure tests/ref/md-sw.data
    dt 1                                              # fs
    nsteps 10
    pe <eV>                                           # after nsteps
    ke <eV>
    atom id x y z vx vy vz                            # A and A/fs, after nsteps

Masses: LAMMPS metal units convert with mvv2e = 1.0364269e-4 (eV per amu A^2/ps^2),
kiln with CODATA 2018, KILN_MVV2E = 103.642696562 (eV per amu A^2/fs^2): they differ
by 6.3e-8 relative. Both only ever use the product m*mvv2e (acceleration f/(m mvv2e),
kinetic energy m mvv2e v^2/2), so the LAMMPS deck overrides the masses of the data file
with m * 1.03642696562 / 1.0364269: LAMMPS then integrates exactly kiln's equations of
motion and the comparison is limited by round-off only. The mass lines come after
pair_coeff because LAMMPS's eam (funcfl) pair_coeff sets the type's mass from the
potential file (Cu_u3.eam: 63.55), which kiln does not do (it keeps the atoms'
masses). --raw-masses: keep the data-file masses in LAMMPS, to see the size of the
unit-constant effect (such files fail the test's tolerances).

usage:  python3 tests/ref/gen_lammps_md.py [--raw-masses] [case ...]
"""
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_lammps_ref as G  # noqa: E402

MVV2E_LAMMPS = 1.0364269e-4      # metal: eV per amu A^2/ps^2 (LAMMPS update.cpp)
MVV2E_KILN = 103.642696562e-6    # include/kiln/units.h KILN_MVV2E, per A^2/ps^2
KB = 8.617333262e-5              # eV/K
NSTEPS = 10
TEMP = 600.0

CASES = {
    "sw": dict(
        style="sw", dt=1.0,
        options=["file=/usr/share/lammps/potentials/Si.sw"],
        lammps=["pair_style sw", "pair_coeff * * /usr/share/lammps/potentials/Si.sw Si"],
        structure=dict(lattice="diamond", a=5.431, reps=(2, 2, 2), species=[("Si", 1.0)],
                       strain=(-0.02, 0.01, -0.015), rattle=0.08, seed=31, pbc=(1, 1, 1))),
    "tersoff": dict(
        style="tersoff", dt=1.0,
        options=["file=/usr/share/lammps/potentials/Si.tersoff"],
        lammps=["pair_style tersoff",
                "pair_coeff * * /usr/share/lammps/potentials/Si.tersoff Si"],
        structure=dict(lattice="diamond", a=5.6, reps=(2, 2, 2), species=[("Si", 1.0)],
                       tilt=(0.05, -0.03, 0.04), strain=(0.02, -0.01, 0.01), rattle=0.1,
                       seed=32, pbc=(1, 1, 1))),
    "eam": dict(
        style="eam", dt=2.0,
        options=["file=/usr/share/lammps/potentials/Cu_u3.eam"],
        lammps=["pair_style eam", "pair_coeff 1 1 /usr/share/lammps/potentials/Cu_u3.eam"],
        structure=dict(lattice="fcc", a=3.615, reps=(2, 2, 3), species=[("Cu", 1.0)],
                       tilt=(0.06, -0.04, 0.03), strain=(0.02, -0.01, 0.015), rattle=0.08,
                       seed=33, pbc=(1, 1, 1))),
    "lj": dict(
        style="lj", dt=1.0,
        options=["cutoff=8.0",
                 "pairs.1.1=Ar", "pairs.1.2=Ar", "pairs.1.epsilon=0.0104", "pairs.1.sigma=3.40",
                 "pairs.2.1=Ar", "pairs.2.2=Kr", "pairs.2.epsilon=0.0121", "pairs.2.sigma=3.52",
                 "pairs.3.1=Kr", "pairs.3.2=Kr", "pairs.3.epsilon=0.0140", "pairs.3.sigma=3.65"],
        lammps=["pair_style lj/cut 8.0",
                "pair_coeff 1 1 0.0104 3.40",
                "pair_coeff 1 2 0.0121 3.52",
                "pair_coeff 2 2 0.0140 3.65"],
        structure=dict(lattice="fcc", a=5.30, reps=(2, 2, 2), species=[("Ar", 0.5), ("Kr", 0.5)],
                       tilt=(0.1, -0.05, 0.04), strain=(0.01, -0.01, 0.02), rattle=0.08, seed=34,
                       pbc=(1, 1, 1))),
}

DECK = """units metal
atom_style atomic
atom_modify map array
boundary p p p
read_data {data}
{pair}
{masses}
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep {dt_ps!r}
fix 1 all nve
variable pe equal pe
variable ke equal ke
variable pef format pe %.17g
variable kef format ke %.17g
thermo_style custom step pe ke
thermo_modify format float %.16g
thermo {nsteps}
run {nsteps}
print "KILN pe ${{pef}}"
print "KILN ke ${{kef}}"
write_dump all custom {dump} id x y z vx vy vz modify format float %.17g sort id
"""


def run_case(name, case, raw_masses):
    s = case["structure"]
    cell, syms, pos = G.build(s)
    types = [sym for sym, _ in s["species"]]
    rng = random.Random(1000 + s["seed"])
    mass = [G.MASSES[sym] for sym in syms]
    vel = []  # A/ps
    for m in mass:
        sd = (KB * TEMP / (m * MVV2E_LAMMPS)) ** 0.5
        vel.append([rng.gauss(0.0, sd) for _ in range(3)])
    mtot = sum(mass)
    p = [sum(m * v[c] for m, v in zip(mass, vel)) / mtot for c in range(3)]
    vel = [[v[c] - p[c] for c in range(3)] for v in vel]
    data_rel = "tests/ref/md-%s.data" % name
    data = os.path.join(G.ROOT, data_rel)
    G.write_data(data, "md-" + name, cell, syms, pos, (1, 1, 1), 0.0, types)
    with open(data) as f:  # write_data's title names its own script
        body = f.read().split("\n", 1)[1]
    with open(data, "w") as f:
        f.write("# kiln NVE start md-%s (tests/ref/gen_lammps_md.py), velocities A/ps\n" % name)
        f.write(body)
        f.write("\nVelocities\n\n")
        for i, v in enumerate(vel):
            f.write("%d %.17g %.17g %.17g\n" % (i + 1, v[0], v[1], v[2]))
    ratio = 1.0 if raw_masses else MVV2E_KILN / MVV2E_LAMMPS
    masses = "\n".join("mass %d %.17g" % (t + 1, G.MASSES[sym] * ratio)
                       for t, sym in enumerate(types))
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "final.dump")
        inp = os.path.join(tmp, "in.md")
        with open(inp, "w") as f:
            f.write(DECK.format(data=data, masses=masses, pair="\n".join(case["lammps"]),
                                dt_ps=case["dt"] * 1e-3, nsteps=NSTEPS, dump=dump))
        r = subprocess.run([G.LMP, "-in", inp, "-log", os.path.join(tmp, "log"),
                            "-screen", "none"], cwd=tmp, capture_output=True, text=True)
        logf = os.path.join(tmp, "log")
        log = open(logf).read() if os.path.exists(logf) else ""
        if r.returncode != 0 or "ERROR" in log:
            sys.exit("LAMMPS failed for %s:\n%s\n%s" % (name, r.stdout + r.stderr, log[-3000:]))
        vals = {}
        for line in log.splitlines():
            if line.startswith("KILN "):
                w = line.split()
                vals[w[1]] = float(w[2])
        version = next((l.strip() for l in log.splitlines() if l.startswith("LAMMPS (")), "LAMMPS")
        lines = open(dump).read().splitlines()
        k = next(i for i, l in enumerate(lines) if l.startswith("ITEM: ATOMS"))
        rows = [l.split() for l in lines[k + 1:] if l.strip()]
    out = os.path.join(G.HERE, "md-%s.mdref" % name)
    with open(out, "w") as f:
        f.write("# md-%s: generated by tests/ref/gen_lammps_md.py with %s\n" % (name, version))
        f.write("# NVE (fix nve), %d steps from the positions and velocities of %s\n"
                % (NSTEPS, data_rel))
        f.write("# lammps masses: %s\n" % ("as in the data file (raw)" if raw_masses else
                                            "data-file masses * KILN_MVV2E/LAMMPS mvv2e"))
        for l in case["lammps"]:
            f.write("# lammps: %s\n" % l)
        f.write("style %s\n" % case["style"])
        for o in case["options"]:
            f.write("option %s\n" % o)
        f.write("structure %s\n" % data_rel)
        f.write("dt %.17g\nnsteps %d\n" % (case["dt"], NSTEPS))
        f.write("pe %.17g\nke %.17g\n" % (vals["pe"], vals["ke"]))
        for row in rows:
            x = [float(v) for v in row[1:4]]
            v = [float(u) * 1e-3 for u in row[4:7]]  # A/ps -> A/fs
            f.write("atom %s %.17g %.17g %.17g %.17g %.17g %.17g\n" % (row[0], *x, *v))
    print("wrote %s (%d atoms, pe %.10g eV, ke %.10g eV)" % (os.path.relpath(out, G.ROOT),
                                                              len(rows), vals["pe"], vals["ke"]))


def main(argv):
    raw = "--raw-masses" in argv
    names = [a for a in argv if not a.startswith("-")] or sorted(CASES)
    for n in names:
        if n not in CASES:
            sys.exit("unknown case '%s' (known: %s)" % (n, ", ".join(sorted(CASES))))
        run_case(n, CASES[n], raw)


if __name__ == "__main__":
    main(sys.argv[1:])
