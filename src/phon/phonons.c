/* src/phon/phonons.c: finite-displacement force constants, phonopy's FORCE_CONSTANTS files,
 * the dynamical matrix with phonopy's shortest-image weights, frequencies and eigenvectors.
 * Conventions in include/kiln/phonons.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln/linalg.h"
#include "phon/phon_internal.h"

#define IMG_TOL 1e-5   /* Å: equal-length images (phonopy's symprec default) */
#define IMG_RANGE 2    /* supercell translations searched: -2..2 after wrapping */

void kiln_phonons_free(kiln_phonons *ph) {
  if (!ph) return;
  kiln_atoms_free(ph->unit);
  kiln_atoms_free(ph->super);
  free(ph->fc);
  free(ph->nz);
  free(ph->mass);
  free(ph->img_off);
  free(ph->img);
  free(ph);
}

size_t kiln_phonons_nbasis(const kiln_phonons *ph) { return ph->nb; }
size_t kiln_phonons_nsuper(const kiln_phonons *ph) { return ph->n; }
void kiln_phonons_get_supercell(const kiln_phonons *ph, int sc[3]) {
  for (int d = 0; d < 3; d++) sc[d] = ph->sc[d];
}
const kiln_atoms *kiln_phonons_unit(const kiln_phonons *ph) { return ph->unit; }
const kiln_atoms *kiln_phonons_super(const kiln_phonons *ph) { return ph->super; }
const double *kiln_phonons_fc(const kiln_phonons *ph) { return ph->fc; }

size_t kiln_phonons_to_phonopy(const kiln_phonons *ph, size_t j) {
  size_t k = j % ph->nb, c = j / ph->nb;
  size_t l3 = c % (size_t)ph->sc[2], l2 = (c / (size_t)ph->sc[2]) % (size_t)ph->sc[1];
  size_t l1 = c / ((size_t)ph->sc[2] * (size_t)ph->sc[1]);
  return k * ph->nc + (l3 * (size_t)ph->sc[1] + l2) * (size_t)ph->sc[0] + l1;
}

size_t kiln_phonons_from_phonopy(const kiln_phonons *ph, size_t p) {
  size_t k = p / ph->nc, c = p % ph->nc;
  size_t l1 = c % (size_t)ph->sc[0], l2 = (c / (size_t)ph->sc[0]) % (size_t)ph->sc[1];
  size_t l3 = c / ((size_t)ph->sc[0] * (size_t)ph->sc[1]);
  return ((l1 * (size_t)ph->sc[1] + l2) * (size_t)ph->sc[2] + l3) * ph->nb + k;
}

void kiln_phonons_q_cart(const kiln_phonons *ph, const double frac[3], double q[3]) {
  /* reciprocal vector b_j = 2π (column j of inv) */
  for (int c = 0; c < 3; c++)
    q[c] = 2 * M_PI * (frac[0] * ph->inv[c][0] + frac[1] * ph->inv[c][1] + frac[2] * ph->inv[c][2]);
}

void kiln_phonons_q_frac(const kiln_phonons *ph, const double q[3], double frac[3]) {
  const double(*a)[3] = (const double(*)[3])ph->unit->cell;
  for (int j = 0; j < 3; j++)
    frac[j] = (q[0] * a[j][0] + q[1] * a[j][1] + q[2] * a[j][2]) / (2 * M_PI);
}

/* the object without force constants: unit copy, supercell, masses */
static kiln_status phon_alloc(kiln_phonons **out, const kiln_atoms *unit,
                              const kiln_phonons_settings *s, kiln_error *err) {
  *out = NULL;
  if (!unit || !s) return KILN_FAIL(err, KILN_EINVAL, "phonons: unit cell and settings are required");
  if (unit->n == 0) return KILN_FAIL(err, KILN_EINVAL, "phonons: the unit cell has no atoms");
  for (int d = 0; d < 3; d++) {
    if (!unit->pbc[d])
      return KILN_FAIL(err, KILN_EINVAL, "phonons: the unit cell must be periodic in x, y and z "
                       "(pbc[%d] is false)", d + 1);
    if (s->supercell[d] < 1 || s->supercell[d] > 1000)
      return KILN_FAIL(err, KILN_EINVAL, "phonons: supercell repeats must be in 1..1000 (got %d x "
                       "%d x %d)", s->supercell[0], s->supercell[1], s->supercell[2]);
  }
  if (kiln_atoms_volume(unit) < 1e-6)
    return KILN_FAIL(err, KILN_EINVAL, "phonons: the unit cell has zero volume (%g A^3)",
                     kiln_atoms_volume(unit));
  for (size_t i = 0; i < unit->n; i++)
    if (!(unit->mass[i] > 0))
      return KILN_FAIL(err, KILN_EINVAL, "phonons: atom %zu (%s) has mass %g amu; masses must be "
                       "positive", i + 1, kiln_atoms_symbol(unit, i), unit->mass[i]);
  kiln_phonons *ph = calloc(1, sizeof *ph);
  if (!ph) return KILN_FAIL(err, KILN_ENOMEM, "phonons: out of memory");
  kiln_status st = kiln_atoms_copy(&ph->unit, unit, err);
  if (!st) st = kiln_atoms_supercell(&ph->super, unit, s->supercell[0], s->supercell[1],
                                     s->supercell[2], err);
  if (!st) st = kiln_cell_inverse(unit->cell, ph->inv, err);
  if (st) {
    kiln_phonons_free(ph);
    return st;
  }
  for (int d = 0; d < 3; d++) ph->sc[d] = s->supercell[d];
  ph->nb = unit->n;
  ph->nc = (size_t)s->supercell[0] * (size_t)s->supercell[1] * (size_t)s->supercell[2];
  ph->n = ph->nb * ph->nc;
  ph->fc = calloc(ph->nb * ph->n * 9, sizeof *ph->fc);
  ph->nz = calloc(ph->nb * ph->n, 1);
  ph->mass = malloc(ph->nb * sizeof *ph->mass);
  ph->img_off = calloc(ph->nb * ph->n + 1, sizeof *ph->img_off);
  if (!ph->fc || !ph->nz || !ph->mass || !ph->img_off) {
    kiln_phonons_free(ph);
    return KILN_FAIL(err, KILN_ENOMEM, "phonons: out of memory (%zu x %zu force-constant blocks)",
                     ph->nb, ph->n);
  }
  for (size_t k = 0; k < ph->nb; k++) ph->mass[k] = unit->mass[k];
  *out = ph;
  return KILN_OK;
}

kiln_status kilni_phon_finish(kiln_phonons *ph, int asr, kiln_error *err) {
  const size_t nb = ph->nb, n = ph->n;
  if (asr)
    for (size_t k = 0; k < nb; k++) {
      double sum[9] = {0};
      for (size_t j = 0; j < n; j++)
        for (int e = 0; e < 9; e++) sum[e] += ph->fc[(k * n + j) * 9 + e];
      for (int e = 0; e < 9; e++) ph->fc[(k * n + k) * 9 + e] -= sum[e];
    }
  for (size_t p = 0; p < nb * n; p++) {
    ph->nz[p] = 0;
    for (int e = 0; e < 9; e++)
      if (ph->fc[p * 9 + e] != 0) ph->nz[p] = 1;
  }
  /* shortest images: x_j - x_κ wrapped into the supercell, then every T within ±IMG_RANGE */
  const kiln_atoms *S = ph->super;
  double sinv[3][3];
  kiln_status st = kiln_cell_inverse(S->cell, sinv, err);
  if (st) return st;
  const int R = IMG_RANGE, nt = (2 * R + 1) * (2 * R + 1) * (2 * R + 1);
  double(*cand)[3] = malloc((size_t)nt * sizeof *cand);
  double *len = malloc((size_t)nt * sizeof *len);
  size_t cap = nb * n * 2 + 16, used = 0;
  double(*img)[3] = malloc(cap * sizeof *img);
  if (!cand || !len || !img) {
    free(cand);
    free(len);
    free(img);
    return KILN_FAIL(err, KILN_ENOMEM, "phonons: out of memory (image vectors)");
  }
  for (size_t k = 0; k < nb; k++)
    for (size_t j = 0; j < n; j++) {
      const size_t p = k * n + j;
      ph->img_off[p] = used;
      double d[3], s[3];
      for (int c = 0; c < 3; c++) d[c] = S->x[j][c] - S->x[k][c];
      for (int c = 0; c < 3; c++) {
        s[c] = d[0] * sinv[0][c] + d[1] * sinv[1][c] + d[2] * sinv[2][c];
        s[c] -= floor(s[c] + 0.5);
      }
      double best = INFINITY;
      int m = 0;
      for (int t0 = -R; t0 <= R; t0++)
        for (int t1 = -R; t1 <= R; t1++)
          for (int t2 = -R; t2 <= R; t2++, m++) {
            const double f[3] = {s[0] + t0, s[1] + t1, s[2] + t2};
            double r2 = 0;
            for (int c = 0; c < 3; c++) {
              cand[m][c] = f[0] * S->cell[0][c] + f[1] * S->cell[1][c] + f[2] * S->cell[2][c];
              r2 += cand[m][c] * cand[m][c];
            }
            len[m] = sqrt(r2);
            if (len[m] < best) best = len[m];
          }
      for (m = 0; m < nt; m++) {
        if (len[m] > best + IMG_TOL) continue;
        if (used == cap) {
          size_t nc2 = cap * 2;
          double(*g)[3] = realloc(img, nc2 * sizeof *img);
          if (!g) {
            free(cand);
            free(len);
            free(img);
            return KILN_FAIL(err, KILN_ENOMEM, "phonons: out of memory (image vectors)");
          }
          img = g;
          cap = nc2;
        }
        for (int c = 0; c < 3; c++) img[used][c] = cand[m][c];
        used++;
      }
    }
  ph->img_off[nb * n] = used;
  free(cand);
  free(len);
  free(ph->img);
  ph->img = img;
  return KILN_OK;
}

kiln_status kiln_phonons_new(kiln_phonons **out, const kiln_atoms *unit, kiln_pot *pot,
                             const kiln_phonons_settings *s, kiln_progress_fn progress,
                             void *ud, kiln_error *err) {
  if (!out) return KILN_FAIL(err, KILN_EINVAL, "phonons: output pointer is NULL");
  *out = NULL;
  if (!pot) return KILN_FAIL(err, KILN_EINVAL, "phonons: a potential is required");
  const double delta = s && s->delta > 0 ? s->delta : 0.01;
  const int stencil = s && s->stencil ? s->stencil : 2;
  if (s && !isfinite(s->delta))
    return KILN_FAIL(err, KILN_EINVAL, "phonons: delta must be a positive number of A (got %g)",
                     s->delta);
  if (stencil != 2 && stencil != 4)
    return KILN_FAIL(err, KILN_EINVAL, "phonons: stencil must be 2 (+-delta) or 4 (+-delta, "
                     "+-2 delta), got %d", stencil);
  kiln_phonons *ph;
  kiln_status st = phon_alloc(&ph, unit, s, err);
  if (st) return st;
  const size_t nb = ph->nb, n = ph->n;
  kiln_atoms *w = NULL;
  double(*fs)[3] = malloc(4 * n * sizeof *fs);
  if (!fs) st = KILN_FAIL(err, KILN_ENOMEM, "phonons: out of memory (%zu atoms)", n);
  if (!st) st = kiln_atoms_copy(&w, ph->super, err);
  const double hs[4] = {delta, -delta, 2 * delta, -2 * delta};
  long done = 0, total = (long)(nb * 3 * (size_t)stencil);
  for (size_t k = 0; !st && k < nb; k++)
    for (int a = 0; !st && a < 3; a++) {
      for (int p = 0; !st && p < stencil; p++) {
        memcpy(w->x, ph->super->x, n * sizeof *w->x);
        w->x[k][a] += hs[p];
        kiln_pot_result r;
        if ((st = kiln_pot_compute_once(pot, w, KILN_EVAL_FORCES, &r, err))) break;
        memcpy(fs + (size_t)p * n, w->f, n * sizeof *fs);
        done++;
        if (progress && progress(ud, done, total))
          st = KILN_FAIL(err, KILN_EINTR, "phonons: interrupted after %ld of %ld force evaluations",
                         done, total);
      }
      if (st) break;
      for (size_t j = 0; j < n; j++)
        for (int b = 0; b < 3; b++) {
          double dfd;
          if (stencil == 2) dfd = (fs[j][b] - fs[n + j][b]) / (2 * delta);
          else
            dfd = (8 * (fs[j][b] - fs[n + j][b]) - (fs[2 * n + j][b] - fs[3 * n + j][b])) /
                  (12 * delta);
          ph->fc[(k * n + j) * 9 + 3 * a + b] = -dfd;
        }
    }
  free(fs);
  kiln_atoms_free(w);
  if (!st) st = kilni_phon_finish(ph, s->asr, err);
  if (st) {
    kiln_phonons_free(ph);
    return st;
  }
  *out = ph;
  return KILN_OK;
}

kiln_status kiln_phonons_new_fc(kiln_phonons **out, const kiln_atoms *unit,
                                const kiln_phonons_settings *s, const double *fc,
                                kiln_error *err) {
  if (!out) return KILN_FAIL(err, KILN_EINVAL, "phonons: output pointer is NULL");
  *out = NULL;
  if (!fc) return KILN_FAIL(err, KILN_EINVAL, "phonons: force constants are NULL");
  kiln_phonons *ph;
  kiln_status st = phon_alloc(&ph, unit, s, err);
  if (st) return st;
  for (size_t e = 0; e < ph->nb * ph->n * 9; e++)
    if (!isfinite(fc[e])) {
      st = KILN_FAIL(err, KILN_EINVAL, "phonons: force constant %zu is not finite (%g)", e + 1, fc[e]);
      break;
    }
  if (!st) {
    memcpy(ph->fc, fc, ph->nb * ph->n * 9 * sizeof *fc);
    st = kilni_phon_finish(ph, s->asr, err);
  }
  if (st) {
    kiln_phonons_free(ph);
    return st;
  }
  *out = ph;
  return KILN_OK;
}

kiln_status kiln_phonons_write_fc(const kiln_phonons *ph, const char *file, int compact,
                                  kiln_error *err) {
  FILE *f = fopen(file, "w");
  if (!f) return KILN_FAIL(err, KILN_EIO, "phonons: cannot write '%s': %s", file, strerror(errno));
  const size_t n = ph->n, nb = ph->nb;
  fprintf(f, "%4zu %4zu\n", compact ? nb : n, n);
  for (size_t pi = 0; pi < n; pi++) {
    size_t i = kiln_phonons_from_phonopy(ph, pi);      /* displaced atom (κ, L) */
    if (compact && i >= nb) continue;                   /* only L = 0 */
    const size_t k = i % nb, L = i / nb;
    const size_t L3 = L % (size_t)ph->sc[2], L2 = (L / (size_t)ph->sc[2]) % (size_t)ph->sc[1],
                 L1 = L / ((size_t)ph->sc[2] * (size_t)ph->sc[1]);
    for (size_t pj = 0; pj < n; pj++) {
      size_t j = kiln_phonons_from_phonopy(ph, pj);
      /* translate (κ', l') by -L: Φ((κ,L), (κ',l')) = Φ((κ,0), (κ', l'-L)) */
      const size_t k2 = j % nb, l = j / nb;
      const size_t l3 = l % (size_t)ph->sc[2], l2 = (l / (size_t)ph->sc[2]) % (size_t)ph->sc[1],
                   l1 = l / ((size_t)ph->sc[2] * (size_t)ph->sc[1]);
      const size_t m1 = (l1 + (size_t)ph->sc[0] - L1) % (size_t)ph->sc[0];
      const size_t m2 = (l2 + (size_t)ph->sc[1] - L2) % (size_t)ph->sc[1];
      const size_t m3 = (l3 + (size_t)ph->sc[2] - L3) % (size_t)ph->sc[2];
      const size_t jj = ((m1 * (size_t)ph->sc[1] + m2) * (size_t)ph->sc[2] + m3) * nb + k2;
      const double *b = ph->fc + (k * n + jj) * 9;
      fprintf(f, "%zu %zu\n", pi + 1, pj + 1);
      for (int a = 0; a < 3; a++)
        fprintf(f, "%24.16e %24.16e %24.16e\n", b[3 * a], b[3 * a + 1], b[3 * a + 2]);
    }
  }
  int bad = ferror(f);
  if (fclose(f) || bad)
    return KILN_FAIL(err, KILN_EIO, "phonons: error writing '%s'", file);
  return KILN_OK;
}

kiln_status kiln_phonons_read_fc(kiln_phonons **out, const kiln_atoms *unit,
                                 const kiln_phonons_settings *s, const char *file,
                                 kiln_error *err) {
  if (!out) return KILN_FAIL(err, KILN_EINVAL, "phonons: output pointer is NULL");
  *out = NULL;
  kiln_phonons *ph;
  kiln_status st = phon_alloc(&ph, unit, s, err);
  if (st) return st;
  FILE *f = fopen(file, "r");
  if (!f) {
    kiln_phonons_free(ph);
    return KILN_FAIL(err, KILN_EIO, "phonons: cannot open '%s': %s", file, strerror(errno));
  }
  const size_t n = ph->n, nb = ph->nb;
  size_t r = 0, c = 0;
  unsigned char *seen = calloc(nb * n, 1);
  if (!seen) st = KILN_FAIL(err, KILN_ENOMEM, "phonons: out of memory");
  else if (fscanf(f, "%zu %zu", &r, &c) != 2)
    st = KILN_FAIL(err, KILN_EFORMAT, "%s:1: expected the header 'rows N'", file);
  else if (c != n || (r != n && r != nb))
    st = KILN_FAIL(err, KILN_EFORMAT, "%s:1: header '%zu %zu' does not fit %zu atoms x %zu cells "
                   "(expected '%zu %zu' or '%zu %zu')", file, r, c, nb, ph->nc, n, n, nb, n);
  for (size_t e = 0; !st && e < r * c; e++) {
    size_t pi, pj;
    double b[9];
    if (fscanf(f, "%zu %zu", &pi, &pj) != 2 || pi < 1 || pi > n || pj < 1 || pj > n) {
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: block %zu: expected two atom indices in 1..%zu",
                     file, e + 1, n);
      break;
    }
    for (int q = 0; q < 9; q++)
      if (fscanf(f, "%lf", &b[q]) != 1 || !isfinite(b[q])) {
        st = KILN_FAIL(err, KILN_EFORMAT, "%s: block %zu (%zu %zu): expected 9 finite numbers",
                       file, e + 1, pi, pj);
        break;
      }
    if (st) break;
    size_t i = kiln_phonons_from_phonopy(ph, pi - 1), j = kiln_phonons_from_phonopy(ph, pj - 1);
    if (i >= nb) continue;   /* full layout: the rows of the L = 0 atoms are enough */
    memcpy(ph->fc + (i * n + j) * 9, b, sizeof b);
    seen[i * n + j] = 1;
  }
  for (size_t p = 0; !st && p < nb * n; p++)
    if (!seen[p])
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: no block for atoms %zu %zu (phonopy order)", file,
                     kiln_phonons_to_phonopy(ph, p / n) + 1, kiln_phonons_to_phonopy(ph, p % n) + 1);
  free(seen);
  fclose(f);
  if (!st) st = kilni_phon_finish(ph, s->asr, err);
  if (st) {
    kiln_phonons_free(ph);
    return st;
  }
  *out = ph;
  return KILN_OK;
}

kiln_status kiln_phonons_dynmat(const kiln_phonons *ph, const double q[3], double *d,
                                kiln_error *err) {
  if (!isfinite(q[0]) || !isfinite(q[1]) || !isfinite(q[2]))
    return KILN_FAIL(err, KILN_EINVAL, "phonons: q = (%g, %g, %g) is not finite", q[0], q[1], q[2]);
  const size_t nb = ph->nb, n = ph->n, m = 3 * nb;
  memset(d, 0, 2 * m * m * sizeof *d);
  for (size_t k = 0; k < nb; k++)
    for (size_t j = 0; j < n; j++) {
      const size_t p = k * n + j;
      if (!ph->nz[p]) continue;
      const size_t k2 = j % nb;
      double cr = 0, ci = 0;
      for (size_t t = ph->img_off[p]; t < ph->img_off[p + 1]; t++) {
        const double ph_ = q[0] * ph->img[t][0] + q[1] * ph->img[t][1] + q[2] * ph->img[t][2];
        cr += cos(ph_);
        ci += sin(ph_);
      }
      const double w = 1.0 / ((double)(ph->img_off[p + 1] - ph->img_off[p]) *
                              sqrt(ph->mass[k] * ph->mass[k2]));
      cr *= w;
      ci *= w;
      const double *b = ph->fc + p * 9;
      for (int a = 0; a < 3; a++)
        for (int c = 0; c < 3; c++) {
          double *z = d + 2 * ((3 * k + (size_t)a) * m + 3 * k2 + (size_t)c);
          z[0] += b[3 * a + c] * cr;
          z[1] += b[3 * a + c] * ci;
        }
    }
  /* exactly Hermitian: (D + D†)/2 */
  for (size_t i = 0; i < m; i++)
    for (size_t j = i; j < m; j++) {
      double *u = d + 2 * (i * m + j), *l = d + 2 * (j * m + i);
      double re = 0.5 * (u[0] + l[0]), im = 0.5 * (u[1] - l[1]);
      u[0] = re;
      u[1] = im;
      l[0] = re;
      l[1] = -im;
    }
  return KILN_OK;
}

kiln_status kiln_phonons_modes(const kiln_phonons *ph, const double q[3], double *freq,
                               double *evec, kiln_error *err) {
  const size_t m = 3 * ph->nb;
  double *d = malloc(2 * m * m * sizeof *d);
  if (!d) return KILN_FAIL(err, KILN_ENOMEM, "phonons: out of memory (dynamical matrix %zu)", m);
  kiln_status st = kiln_phonons_dynmat(ph, q, d, err);
  if (!st) st = kiln_linalg_zheev(m, d, freq, evec, err);
  free(d);
  if (st) return st;
  for (size_t i = 0; i < m; i++)
    freq[i] = (freq[i] < 0 ? -1.0 : 1.0) * sqrt(fabs(freq[i])) * KILN_PHONON_THZ;
  return KILN_OK;
}
