/* src/phon/phon_sample.c: thermal snapshots from the normal modes of the q-points
 * commensurate with a supercell (frozen phonons). Conventions in include/kiln/phonons.h.
 *
 * u(lκ) = 1/sqrt(Nc m_κ) Σ_q Σ_j Q_qj e_κ(qj) exp(i q·r_lκ), real because Q_{-q} = Q_q* and
 * e(-q) = e(q)*. Each pair {q, -q} (q ≠ -q) carries Q_q = (a + ib)/sqrt(2) with a, b
 * independent normal deviates of variance <Q²>, and contributes 2 Re[...]. A q with 2q a
 * reciprocal-lattice vector (Γ, zone-boundary points) is its own partner: there the matrix
 * with the lattice-vector phase, D'(q) = U D(q) U† (U = diag exp(i q·τ_κ)), is real, its
 * real eigenvectors e' give u(lκ) = Q e'_κ cos(q·R_l) / sqrt(Nc m_κ) with real Q. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/linalg.h"
#include "kiln/rng.h"
#include "kiln/units.h"
#include "phon/phon_internal.h"

static double mode_var(double lam, double T, int quantum) {
  if (!quantum) return KILN_KB * T / lam;
  const double w = sqrt(lam / KILN_MVV2E);
  const double x = KILN_HBAR * w / (2 * KILN_KB * T);
  const double coth = T > 0 ? (x > 300 ? 1.0 : 1.0 / tanh(x)) : 1.0;
  return KILN_HBAR / (2 * w) * coth / KILN_MVV2E;
}

static size_t mesh_index(const int mesh[3], const int m[3]) {
  return ((size_t)m[0] * (size_t)mesh[1] + (size_t)m[1]) * (size_t)mesh[2] + (size_t)m[2];
}

kiln_status kiln_phonons_sample(const kiln_phonons *ph, const int mesh[3], double T, int quantum,
                                uint64_t seed, uint64_t stream, int velocities,
                                kiln_atoms **out, kiln_error *err) {
  if (!out) return KILN_FAIL(err, KILN_EINVAL, "phonons sample: output pointer is NULL");
  *out = NULL;
  kiln_status st = kilni_phon_check_mesh(mesh, "sample", err);
  if (st) return st;
  if (!(T >= 0) || !isfinite(T))
    return KILN_FAIL(err, KILN_EINVAL, "phonons sample: T must be >= 0 K (got %g)", T);
  const size_t nb = ph->nb, m = 3 * nb;
  kiln_atoms *a = NULL;
  if ((st = kiln_atoms_supercell(&a, ph->unit, mesh[0], mesh[1], mesh[2], err))) return st;
  const size_t n = a->n, nc = n / nb;
  double *x0 = malloc(n * 3 * sizeof *x0);
  double *d = malloc(2 * m * m * sizeof *d), *ev = malloc(2 * m * m * sizeof *ev);
  double *lam = malloc(m * sizeof *lam), *dr = malloc(m * m * sizeof *dr);
  double *cu = malloc(2 * m * sizeof *cu), *cv = malloc(2 * m * sizeof *cv);
  double *xi = malloc(2 * m * sizeof *xi), *eta = malloc(2 * m * sizeof *eta);
  if (!x0 || !d || !ev || !lam || !dr || !cu || !cv || !xi || !eta) {
    st = KILN_FAIL(err, KILN_ENOMEM, "phonons sample: out of memory (%zu atoms)", n);
    goto done;
  }
  memcpy(x0, a->x, n * 3 * sizeof *x0);
  memset(a->v, 0, n * sizeof *a->v);
  kiln_rng rng;
  kiln_rng_seed(&rng, seed, stream);
  const double cnorm = 1.0 / sqrt((double)nc);
  int mm[3];
  for (mm[0] = 0; !st && mm[0] < mesh[0]; mm[0]++)
    for (mm[1] = 0; !st && mm[1] < mesh[1]; mm[1]++)
      for (mm[2] = 0; !st && mm[2] < mesh[2]; mm[2]++) {
        const int neg[3] = {(mesh[0] - mm[0]) % mesh[0], (mesh[1] - mm[1]) % mesh[1],
                            (mesh[2] - mm[2]) % mesh[2]};
        const size_t i0 = mesh_index(mesh, mm), i1 = mesh_index(mesh, neg);
        if (i1 < i0) continue;                     /* done with its partner */
        const int self = i1 == i0, gamma = !mm[0] && !mm[1] && !mm[2];
        double q[3];
        kilni_phon_mesh_q(ph, mesh, mm, q);
        if ((st = kiln_phonons_dynmat(ph, q, d, err))) break;
        if (self) {
          /* D' = U D U†, real: D'[κα,κ'β] = Re(D e^{i q·(τκ - τκ')}) */
          for (size_t r = 0; r < m; r++)
            for (size_t c = 0; c < m; c++) {
              const double *t1 = ph->unit->x[r / 3], *t2 = ph->unit->x[c / 3];
              const double phs = q[0] * (t1[0] - t2[0]) + q[1] * (t1[1] - t2[1]) + q[2] * (t1[2] - t2[2]);
              const double *z = d + 2 * (r * m + c);
              dr[r * m + c] = z[0] * cos(phs) - z[1] * sin(phs);
            }
          if ((st = kiln_linalg_dsyev(m, dr, lam, ev, err))) break;
        } else if ((st = kiln_linalg_zheev(m, d, lam, ev, err))) {
          break;
        }
        memset(cu, 0, 2 * m * sizeof *cu);
        memset(cv, 0, 2 * m * sizeof *cv);
        /* Random vectors ξ (positions) and η (velocities) in the 3nb-dimensional space,
         * projected onto each mode: mode j gets the amplitude e_j† ξ. Within a degenerate
         * subspace the sum of e_j e_j† is the projector whatever basis LAPACK returned
         * (it may differ with the OpenBLAS thread count), so the same seed gives the same
         * snapshot to rounding. For a real q (self) the vectors are real N(0,1); otherwise
         * complex with N(0,1) parts, and 2 Re[(a + ib)/√2 e e^{iφ}] gives the √2 below. */
        for (size_t r = 0; r < m; r++) {
          xi[2 * r] = kiln_rng_normal(&rng);
          xi[2 * r + 1] = self ? 0 : kiln_rng_normal(&rng);
          eta[2 * r] = kiln_rng_normal(&rng);
          eta[2 * r + 1] = self ? 0 : kiln_rng_normal(&rng);
        }
        for (size_t j = gamma ? 3 : 0; j < m; j++) {
          if (!(lam[j] > 0)) {
            st = KILN_FAIL(err, KILN_EDOM, "phonons sample: mode %zu at q = (%d/%d, %d/%d, %d/%d) "
                           "has frequency %g THz; thermal sampling needs a stable crystal", j + 1,
                           mm[0], mesh[0], mm[1], mesh[1], mm[2], mesh[2],
                           -sqrt(fabs(lam[j])) * KILN_PHONON_THZ);
            break;
          }
          const double var = (T == 0 && !quantum) ? 0 : mode_var(lam[j], T, quantum);
          const double su = sqrt(var), sv = sqrt(var * lam[j] / KILN_MVV2E);
          if (self) {
            double qa = 0, pa = 0;
            for (size_t r = 0; r < m; r++) {
              qa += ev[r * m + j] * xi[2 * r];
              pa += ev[r * m + j] * eta[2 * r];
            }
            qa *= su;
            pa *= sv;
            for (size_t r = 0; r < m; r++) {
              cu[2 * r] += qa * ev[r * m + j];
              cv[2 * r] += pa * ev[r * m + j];
            }
          } else {
            double ar = 0, ai = 0, br = 0, bi = 0;  /* e_j† ξ, e_j† η */
            for (size_t r = 0; r < m; r++) {
              const double *z = ev + 2 * (r * m + j);
              ar += z[0] * xi[2 * r] + z[1] * xi[2 * r + 1];
              ai += z[0] * xi[2 * r + 1] - z[1] * xi[2 * r];
              br += z[0] * eta[2 * r] + z[1] * eta[2 * r + 1];
              bi += z[0] * eta[2 * r + 1] - z[1] * eta[2 * r];
            }
            ar *= su * M_SQRT2;
            ai *= su * M_SQRT2;
            br *= sv * M_SQRT2;
            bi *= sv * M_SQRT2;
            for (size_t r = 0; r < m; r++) {
              const double *z = ev + 2 * (r * m + j);
              cu[2 * r] += ar * z[0] - ai * z[1];
              cu[2 * r + 1] += ar * z[1] + ai * z[0];
              cv[2 * r] += br * z[0] - bi * z[1];
              cv[2 * r + 1] += br * z[1] + bi * z[0];
            }
          }
        }
        if (st) break;
        for (size_t i = 0; i < n; i++) {
          const size_t k = i % nb;
          const double *x0i = x0 + 3 * i, *tk = ph->unit->x[k];
          double c, s;
          if (self) {   /* cos(q·R_l), R_l = x - τκ */
            c = cos(q[0] * (x0i[0] - tk[0]) + q[1] * (x0i[1] - tk[1]) + q[2] * (x0i[2] - tk[2]));
            s = 0;
          } else {
            const double phs = q[0] * x0i[0] + q[1] * x0i[1] + q[2] * x0i[2];
            c = cos(phs);
            s = sin(phs);
          }
          const double w = cnorm / sqrt(ph->mass[k]);
          for (int al = 0; al < 3; al++) {
            const size_t r = 3 * k + (size_t)al;
            a->x[i][al] += w * (cu[2 * r] * c - cu[2 * r + 1] * s);
            if (velocities) a->v[i][al] += w * (cv[2 * r] * c - cv[2 * r + 1] * s);
          }
        }
      }
done:
  free(x0);
  free(d);
  free(ev);
  free(lam);
  free(dr);
  free(cu);
  free(cv);
  free(xi);
  free(eta);
  if (st) {
    kiln_atoms_free(a);
    return st;
  }
  *out = a;
  return KILN_OK;
}
