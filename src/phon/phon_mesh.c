/* src/phon/phon_mesh.c: quantities summed over a Γ-centred q mesh: density of states
 * (Gaussian smearing, projected on the basis atoms), thermal displacement tensors and the
 * harmonic thermodynamics. Conventions in include/kiln/phonons.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/units.h"
#include "phon/phon_internal.h"

kiln_status kilni_phon_check_mesh(const int mesh[3], const char *what, kiln_error *err) {
  for (int d = 0; d < 3; d++)
    if (mesh[d] < 1 || mesh[d] > 1000)
      return KILN_FAIL(err, KILN_EINVAL, "phonons %s: mesh must be three integers in 1..1000 "
                       "(got %d x %d x %d)", what, mesh[0], mesh[1], mesh[2]);
  return KILN_OK;
}

void kilni_phon_mesh_q(const kiln_phonons *ph, const int mesh[3], const int m[3], double q[3]) {
  const double f[3] = {(double)m[0] / mesh[0], (double)m[1] / mesh[1], (double)m[2] / mesh[2]};
  kiln_phonons_q_cart(ph, f, q);
}

kiln_status kiln_phonons_dos(const kiln_phonons *ph, const int mesh[3], double sigma,
                             double flo, double fhi, size_t nbins, double *freq, double *dos,
                             double *pdos, kiln_error *err) {
  kiln_status st = kilni_phon_check_mesh(mesh, "dos", err);
  if (st) return st;
  if (!(sigma > 0) || !isfinite(sigma))
    return KILN_FAIL(err, KILN_EINVAL, "phonons dos: sigma must be > 0 THz (got %g)", sigma);
  if (nbins < 2) return KILN_FAIL(err, KILN_EINVAL, "phonons dos: nbins must be >= 2 (got %zu)", nbins);
  const size_t nb = ph->nb, m = 3 * nb;
  const size_t nq = (size_t)mesh[0] * (size_t)mesh[1] * (size_t)mesh[2];
  double *nu = malloc(nq * m * sizeof *nu);          /* frequencies */
  double *wk = malloc(nq * m * nb * sizeof *wk);     /* |e_κ|² per mode */
  double *ev = malloc(2 * m * m * sizeof *ev);
  if (!nu || !wk || !ev) {
    free(nu);
    free(wk);
    free(ev);
    return KILN_FAIL(err, KILN_ENOMEM, "phonons dos: out of memory (%zu q-points)", nq);
  }
  size_t iq = 0;
  int mm[3];
  for (mm[0] = 0; !st && mm[0] < mesh[0]; mm[0]++)
    for (mm[1] = 0; !st && mm[1] < mesh[1]; mm[1]++)
      for (mm[2] = 0; !st && mm[2] < mesh[2]; mm[2]++, iq++) {
        double q[3];
        kilni_phon_mesh_q(ph, mesh, mm, q);
        if ((st = kiln_phonons_modes(ph, q, nu + iq * m, ev, err))) break;
        for (size_t j = 0; j < m; j++)
          for (size_t k = 0; k < nb; k++) {
            double s = 0;
            for (int a = 0; a < 3; a++) {
              const double *z = ev + 2 * ((3 * k + (size_t)a) * m + j);
              s += z[0] * z[0] + z[1] * z[1];
            }
            wk[(iq * m + j) * nb + k] = s;
          }
      }
  free(ev);
  if (!st) {
    if (!(fhi > flo)) {
      double lo = INFINITY, hi = -INFINITY;
      for (size_t t = 0; t < nq * m; t++) {
        lo = fmin(lo, nu[t]);
        hi = fmax(hi, nu[t]);
      }
      flo = lo - 5 * sigma;
      fhi = hi + 5 * sigma;
    }
    const double df = (fhi - flo) / (double)(nbins - 1);
    const double norm = 1.0 / ((double)nq * sigma * sqrt(2 * M_PI));
    for (size_t b = 0; b < nbins; b++) {
      freq[b] = flo + df * (double)b;
      dos[b] = 0;
    }
    if (pdos) memset(pdos, 0, nb * nbins * sizeof *pdos);
    for (size_t t = 0; t < nq * m; t++) {
      /* only bins within 8 sigma contribute (exp(-32) ~ 1e-14) */
      long b0 = (long)ceil((nu[t] - 8 * sigma - flo) / df), b1 = (long)floor((nu[t] + 8 * sigma - flo) / df);
      if (b0 < 0) b0 = 0;
      if (b1 > (long)nbins - 1) b1 = (long)nbins - 1;
      for (long b = b0; b <= b1; b++) {
        const double x = (freq[b] - nu[t]) / sigma;
        const double g = norm * exp(-0.5 * x * x);
        dos[b] += g;
        if (pdos)
          for (size_t k = 0; k < nb; k++) pdos[k * nbins + (size_t)b] += g * wk[t * nb + k];
      }
    }
  }
  free(nu);
  free(wk);
  return st;
}

/* <Q²> of a mode (amu Å²) for eigenvalue lam (eV/(Å² amu)) */
static double mode_var(double lam, double T, int quantum) {
  if (!quantum) return KILN_KB * T / lam;
  const double w = sqrt(lam / KILN_MVV2E);             /* rad/fs */
  const double x = KILN_HBAR * w / (2 * KILN_KB * T);  /* ħω / 2kT */
  const double coth = T > 0 ? (x > 300 ? 1.0 : 1.0 / tanh(x)) : 1.0;
  return KILN_HBAR / (2 * w) * coth / KILN_MVV2E;
}

/* λ from a frequency in THz (signed) */
static double lam_of(double nu) { return (nu < 0 ? -1 : 1) * (nu / KILN_PHONON_THZ) * (nu / KILN_PHONON_THZ); }

kiln_status kiln_phonons_msd(const kiln_phonons *ph, const int mesh[3], double T, int quantum,
                             double *u2, kiln_error *err) {
  kiln_status st = kilni_phon_check_mesh(mesh, "msd", err);
  if (st) return st;
  if (!(T >= 0) || !isfinite(T))
    return KILN_FAIL(err, KILN_EINVAL, "phonons msd: T must be >= 0 K (got %g)", T);
  const size_t nb = ph->nb, m = 3 * nb;
  const size_t nq = (size_t)mesh[0] * (size_t)mesh[1] * (size_t)mesh[2];
  double *ev = malloc(2 * m * m * sizeof *ev), *nu = malloc(m * sizeof *nu);
  if (!ev || !nu) {
    free(ev);
    free(nu);
    return KILN_FAIL(err, KILN_ENOMEM, "phonons msd: out of memory");
  }
  memset(u2, 0, nb * 9 * sizeof *u2);
  int mm[3];
  for (mm[0] = 0; !st && mm[0] < mesh[0]; mm[0]++)
    for (mm[1] = 0; !st && mm[1] < mesh[1]; mm[1]++)
      for (mm[2] = 0; !st && mm[2] < mesh[2]; mm[2]++) {
        double q[3];
        kilni_phon_mesh_q(ph, mesh, mm, q);
        if ((st = kiln_phonons_modes(ph, q, nu, ev, err))) break;
        const int gamma = !mm[0] && !mm[1] && !mm[2];
        for (size_t j = gamma ? 3 : 0; j < m; j++) {
          if (!(nu[j] > 0)) {
            st = KILN_FAIL(err, KILN_EDOM, "phonons msd: mode %zu at q = (%d/%d, %d/%d, %d/%d) has "
                           "frequency %g THz; thermal amplitudes need a stable crystal (nu > 0)",
                           j + 1, mm[0], mesh[0], mm[1], mesh[1], mm[2], mesh[2], nu[j]);
            break;
          }
          if (T == 0 && !quantum) continue;
          const double v = mode_var(lam_of(nu[j]), T, quantum) / (double)nq;
          for (size_t k = 0; k < nb; k++)
            for (int a = 0; a < 3; a++)
              for (int b = 0; b < 3; b++) {
                const double *za = ev + 2 * ((3 * k + (size_t)a) * m + j);
                const double *zb = ev + 2 * ((3 * k + (size_t)b) * m + j);
                u2[k * 9 + 3 * a + b] += v * (za[0] * zb[0] + za[1] * zb[1]) / ph->mass[k];
              }
        }
      }
  free(ev);
  free(nu);
  return st;
}

kiln_status kiln_phonons_thermal(const kiln_phonons *ph, const int mesh[3], double T,
                                 double *F, double *S, double *Cv, double *E, kiln_error *err) {
  kiln_status st = kilni_phon_check_mesh(mesh, "thermal", err);
  if (st) return st;
  if (!(T >= 0) || !isfinite(T))
    return KILN_FAIL(err, KILN_EINVAL, "phonons thermal: T must be >= 0 K (got %g)", T);
  const size_t m = 3 * ph->nb;
  const size_t nq = (size_t)mesh[0] * (size_t)mesh[1] * (size_t)mesh[2];
  double *nu = malloc(m * sizeof *nu);
  if (!nu) return KILN_FAIL(err, KILN_ENOMEM, "phonons thermal: out of memory");
  double f = 0, s = 0, c = 0, e = 0;
  const double kT = KILN_KB * T;
  int mm[3];
  for (mm[0] = 0; !st && mm[0] < mesh[0]; mm[0]++)
    for (mm[1] = 0; !st && mm[1] < mesh[1]; mm[1]++)
      for (mm[2] = 0; !st && mm[2] < mesh[2]; mm[2]++) {
        double q[3];
        kilni_phon_mesh_q(ph, mesh, mm, q);
        if ((st = kiln_phonons_modes(ph, q, nu, NULL, err))) break;
        for (size_t j = 0; j < m; j++) {
          if (nu[j] < 1e-3) continue;
          const double hw = KILN_HBAR * nu[j] * KILN_THZ_TO_RADFS;   /* eV */
          f += 0.5 * hw;
          e += 0.5 * hw;
          if (T > 0) {
            const double x = hw / kT;
            if (x < 700) {
              const double em1 = expm1(x), l1 = log1p(-exp(-x));
              f += kT * l1;
              e += hw / em1;
              s += KILN_KB * (x / em1 - l1);
              c += KILN_KB * x * x * exp(x) / (em1 * em1);
            }
          }
        }
      }
  free(nu);
  if (st) return st;
  *F = f / (double)nq;
  *S = s / (double)nq;
  *Cv = c / (double)nq;
  *E = e / (double)nq;
  return KILN_OK;
}
