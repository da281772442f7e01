/* src/corr/corr_spatial.c: equal-time spatial (Pearson) correlation maps of per-cell
 * vectors.
 *
 * The simulation cell is divided into supercell = {n1, n2, n3} cells; every atom is put in
 * a cell once, from its fractional coordinates in the first frame. Each frame, the per-atom
 * vector (velocities, displacements, or a named n x 3 property) is averaged per cell, p(R),
 * and
 *   C_ab(dR) = [<p_a(R) p_b(R + dR)> - mu_a mu_b] / (sigma_a sigma_b)
 * with <> over all cells R and frames, mu_a and sigma_a² the mean and variance of p_a over
 * the same. The sums over R are done as products of the grid Fourier transforms. */
#include <stdlib.h>
#include <string.h>
#include "corr_internal.h"
#include "corr/green_grid.h"

enum { PROP_VEL, PROP_DISP, PROP_NAMED };

typedef struct {
  int kind;
  char prop[64];
  int n[3];
  size_t nc;
  /* from the first frame */
  size_t natoms;
  size_t *cellof;        /* atom -> cell */
  double *inv_count;     /* cell -> 1/atoms in it */
  double (*x0u)[3], (*xprev)[3], (*xu)[3];  /* displacements: unwrapped positions */
  double cell0[3][3];
  kilni_grid_dft dft;
  double (*P)[2];        /* nc x 3 */
  double (*S)[2];        /* nc x 9: sum over frames of conj(P_a(k)) P_b(k) */
  double sum[3], sum2[3];
  long nf;
} spatial_state;

static void destroy(kiln_corr *c) {
  spatial_state *s = c->state;
  if (!s) return;
  free(s->cellof);
  free(s->inv_count);
  free(s->x0u);
  free(s->xprev);
  free(s->xu);
  kilni_grid_dft_free(&s->dft);
  free(s->P);
  free(s->S);
  free(s);
  c->state = NULL;
}

static kiln_status init(kiln_corr *c, const kiln_opts *o, kiln_error *err) {
  spatial_state *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  c->state = s;
  const char *p;
  kiln_status st;
  if ((st = kiln_opts_str(o, c->what, "prop", 1, "velocities", &p, err))) return st;
  if (strlen(p) >= sizeof s->prop)
    return KILN_FAIL(err, KILN_EINVAL, "%s: prop name '%s' is too long", c->what, p);
  snprintf(s->prop, sizeof s->prop, "%s", p);
  s->kind = strcmp(p, "velocities") == 0 ? PROP_VEL
            : strcmp(p, "displacements") == 0 ? PROP_DISP : PROP_NAMED;
  if ((st = kilni_grid_opt(o, c->what, "supercell", s->n, err))) return st;
  s->nc = (size_t)s->n[0] * (size_t)s->n[1] * (size_t)s->n[2];
  if ((st = kilni_grid_dft_init(&s->dft, s->n, 3, c->what, err))) return st;
  s->P = malloc(s->nc * 3 * sizeof *s->P);
  s->S = calloc(s->nc * 9, sizeof *s->S);
  if (!s->P || !s->S) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  return KILN_OK;
}

static kiln_status setup(kiln_corr *c, spatial_state *s, const kiln_atoms *a, kiln_error *err) {
  const size_t n = a->n;
  double inv[3][3];
  kiln_status st = kiln_cell_inverse(a->cell, inv, err);
  if (st) return KILN_FAIL(err, KILN_EINVAL, "%s: the first frame needs a cell", c->what);
  memcpy(s->cell0, a->cell, sizeof s->cell0);
  s->natoms = n;
  s->cellof = malloc((n ? n : 1) * sizeof *s->cellof);
  s->inv_count = calloc(s->nc, sizeof *s->inv_count);
  if (!s->cellof || !s->inv_count) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
  for (size_t j = 0; j < n; j++) {
    size_t cell = 0;
    for (int k = 0; k < 3; k++) {
      double f = a->x[j][0] * inv[0][k] + a->x[j][1] * inv[1][k] + a->x[j][2] * inv[2][k];
      f -= floor(f);
      long m = (long)floor(f * s->n[k]);
      if (m >= s->n[k]) m = s->n[k] - 1;
      if (m < 0) m = 0;
      cell = cell * (size_t)s->n[k] + (size_t)m;
    }
    s->cellof[j] = cell;
    s->inv_count[cell] += 1;
  }
  for (size_t i = 0; i < s->nc; i++) {
    if (s->inv_count[i] == 0)
      return KILN_FAIL(err, KILN_EINVAL, "%s: grid cell %zu of %d x %d x %d holds no atom in the "
                       "first frame (use a coarser supercell)", c->what, i, s->n[0], s->n[1],
                       s->n[2]);
    s->inv_count[i] = 1.0 / s->inv_count[i];
  }
  if (s->kind == PROP_DISP) {
    s->x0u = malloc((n ? n : 1) * sizeof *s->x0u);
    s->xprev = malloc((n ? n : 1) * sizeof *s->xprev);
    s->xu = malloc((n ? n : 1) * sizeof *s->xu);
    if (!s->x0u || !s->xprev || !s->xu)
      return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
    memcpy(s->x0u, a->x, n * sizeof *s->x0u);
    memcpy(s->xprev, a->x, n * sizeof *s->xprev);
    memcpy(s->xu, a->x, n * sizeof *s->xu);
  }
  return KILN_OK;
}

static kiln_status frame(kiln_corr *c, const kiln_atoms *a, kiln_error *err) {
  spatial_state *s = c->state;
  kiln_status st;
  if (!s->cellof) {
    if ((st = setup(c, s, a, err))) return st;
  } else if (a->n != s->natoms) {
    return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has %zu atoms, the first had %zu", c->what,
                     c->nframes, a->n, s->natoms);
  }
  const double *src = NULL;
  if (s->kind == PROP_VEL) {
    if (!a->v) return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has no velocities", c->what,
                                c->nframes);
    src = &a->v[0][0];
  } else if (s->kind == PROP_NAMED) {
    const kiln_prop *p = kiln_atoms_prop_get(a, s->prop);
    if (!p || p->kind == KILN_VAL_STR || p->ncols != 3)
      return KILN_FAIL(err, KILN_EINVAL, "%s: frame %ld has no per-atom property '%s' with 3 "
                       "numeric columns (or use prop = \"velocities\" / \"displacements\")",
                       c->what, c->nframes, s->prop);
    src = p->val;
  } else {
    if (c->nframes > 0) {
      double inv[3][3];
      if ((st = kiln_cell_inverse(a->cell, inv, err))) return st;
      for (size_t j = 0; j < a->n; j++) {
        double d[3];
        for (int x = 0; x < 3; x++) d[x] = a->x[j][x] - s->xprev[j][x];
        kilni_min_image(a->cell, inv, a->pbc, d);
        for (int x = 0; x < 3; x++) {
          s->xu[j][x] += d[x];
          s->xprev[j][x] = a->x[j][x];
        }
      }
    }
  }
  memset(s->P, 0, s->nc * 3 * sizeof *s->P);
  for (size_t j = 0; j < a->n; j++) {
    double val[3];
    if (src) memcpy(val, src + 3 * j, sizeof val);
    else
      for (int x = 0; x < 3; x++) val[x] = s->xu[j][x] - s->x0u[j][x];
    double w = s->inv_count[s->cellof[j]];
    for (int x = 0; x < 3; x++) s->P[s->cellof[j] * 3 + (size_t)x][0] += w * val[x];
  }
  for (size_t i = 0; i < s->nc; i++)
    for (int x = 0; x < 3; x++) {
      double v = s->P[i * 3 + (size_t)x][0];
      s->sum[x] += v;
      s->sum2[x] += v * v;
    }
  kilni_grid_dft_run(&s->dft, s->P, -1);
  for (size_t k = 0; k < s->nc; k++) {
    const double (*p)[2] = s->P + k * 3;
    double (*acc)[2] = s->S + k * 9;
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++) { /* conj(P_x) P_y */
        acc[3 * x + y][0] += p[x][0] * p[y][0] + p[x][1] * p[y][1];
        acc[3 * x + y][1] += p[x][0] * p[y][1] - p[x][1] * p[y][0];
      }
  }
  s->nf++;
  return KILN_OK;
}

static kiln_status result(kiln_corr *c, kiln_result *r, kiln_error *err) {
  spatial_state *s = c->state;
  const size_t nc = s->nc;
  double (*t)[2] = malloc(nc * 9 * sizeof *t);
  double *corr = malloc(nc * 9 * sizeof *corr), *dR = malloc(nc * 3 * sizeof *dR);
  kiln_status st = KILN_OK;
  kilni_grid_dft g9;
  memset(&g9, 0, sizeof g9);
  if (!t || !corr || !dR) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", c->what);
    goto done;
  }
  if ((st = kilni_grid_dft_init(&g9, s->n, 9, c->what, err))) goto done;
  memcpy(t, s->S, nc * 9 * sizeof *t);
  /* sum_R p_a(R) p_b(R + dR) = Nc^-1 sum_k conj(P_a(k)) P_b(k) e^{+i k.dR} */
  kilni_grid_dft_run(&g9, t, +1);
  const double nsamp = (double)s->nf * (double)nc;
  double mu[3], sd[3];
  for (int x = 0; x < 3; x++) {
    mu[x] = s->sum[x] / nsamp;
    double var = s->sum2[x] / nsamp - mu[x] * mu[x];
    sd[x] = var > 0 ? sqrt(var) : 0;
  }
  for (size_t i = 0; i < nc; i++) {
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++) {
        double m = t[i * 9 + 3 * (size_t)x + (size_t)y][0] / ((double)nc * nsamp);
        double den = sd[x] * sd[y];
        corr[i * 9 + 3 * (size_t)x + (size_t)y] = den > 0 ? (m - mu[x] * mu[y]) / den : (double)NAN;
      }
    int m[3] = {(int)(i / ((size_t)s->n[1] * s->n[2])), (int)(i / s->n[2] % s->n[1]),
                (int)(i % s->n[2])};
    double f[3];
    for (int k = 0; k < 3; k++) {
      int mm = m[k] > s->n[k] / 2 ? m[k] - s->n[k] : m[k];
      f[k] = (double)mm / s->n[k];
    }
    for (int x = 0; x < 3; x++)
      dR[3 * i + (size_t)x] = f[0] * s->cell0[0][x] + f[1] * s->cell0[1][x] + f[2] * s->cell0[2][x];
  }
  const char *unit = s->kind == PROP_VEL ? "Å/fs" : s->kind == PROP_DISP ? "Å" : "";
  if ((st = kiln_result_add_copy(r, "corr", corr, nc, 9, "1",
                                 "Pearson correlation C_ab(dR), columns xx xy xz yx yy yz zx zy zz, "
                                 "rows as dR", err)) ||
      (st = kiln_result_add_copy(r, "dR", dR, nc, 3, "Å",
                                 "cell offset dR (grid index (m1 n2 + m2) n3 + m3, folded to "
                                 "-n/2 < m <= n/2)", err)) ||
      (st = kiln_result_add_copy(r, "mean", mu, 1, 3, unit, "mean of the per-cell vector", err)) ||
      (st = kiln_result_add_copy(r, "sigma", sd, 1, 3, unit,
                                 "standard deviation of the per-cell vector components", err)) ||
      (st = kiln_result_attr_str(r, "prop", s->prop, err)) ||
      (st = kiln_result_attr_num(r, "ncells", (double)nc, err)))
    goto done;
done:
  kilni_grid_dft_free(&g9);
  free(t);
  free(corr);
  free(dR);
  return st;
}

const kiln_corr_style kiln_corr_spatial_style = {
    .name = "spatial",
    .description = "equal-time Pearson correlation maps C_ab(dR) of per-cell averaged vectors "
                   "(velocities, displacements or a per-atom property)",
    .citation = "",
    .options = "prop=string (\"velocities\" (default), \"displacements\" (from the first "
               "frame, unwrapped) or the name of an n x 3 per-atom property)\n"
               "supercell={n1,n2,n3} (grid of cells along the cell vectors; atoms assigned "
               "from the first frame; required)",
    .init = init,
    .frame = frame,
    .result = result,
    .destroy = destroy,
};
