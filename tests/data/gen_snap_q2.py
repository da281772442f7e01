#!/usr/bin/env python3
"""Write tests/data/snap_q2.snapparam/.snapcoeff: a made-up two-element quadratic SNAP
(qSNAP) model for tests (twojmax 4: 14 components, 1 + 14 + 105 coefficients per
element), with distinct radelem/wj per element, rmin0 > 0 and bzeroflag 1 to exercise
every option. Deterministic (fixed seed); values are arbitrary but small."""
import random, os
here = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(7)
nb = 14
nq = nb * (nb + 1) // 2
with open(os.path.join(here, "snap_q2.snapparam"), "w") as f:
    f.write("# made-up qSNAP test model (tests/data/gen_snap_q2.py)\n\n")
    f.write("twojmax 4   # keyword order is free\nrcutfac 4.1\nrfac0 0.97\nrmin0 0.3\n")
    f.write("switchflag 1\nbzeroflag 1\nquadraticflag 1\n")
with open(os.path.join(here, "snap_q2.snapcoeff"), "w") as f:
    f.write("# made-up qSNAP test model (tests/data/gen_snap_q2.py)\n\n")
    f.write("2 %d\n" % (1 + nb + nq))
    for name, rad, wj in (("Nb", 0.55, 1.0), ("Mo", 0.45, 0.7)):
        f.write("%s %g %g\n" % (name, rad, wj))
        f.write("%.6f\n" % rng.uniform(-3, -1))
        for _ in range(nb):
            f.write("%.6f\n" % rng.uniform(-0.1, 0.1))
        for _ in range(nq):
            f.write("%.6f\n" % rng.uniform(-0.004, 0.004))
