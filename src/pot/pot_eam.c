/* src/pot/pot_eam.c: style "eam", embedded-atom method from DYNAMO funcfl
 * files (one element per file, as LAMMPS pair_style eam reads them).
 *
 * Several files make an alloy: each file's tables are interpolated (4-point
 * Lagrange, as LAMMPS file2array) onto one grid whose spacings and extents are
 * the maxima over the files, and the pair term between elements i and j is
 * z2r(r) = 27.2*0.529 * Z_i(r) Z_j(r) (Hartree*Bohr -> eV*Å, LAMMPS's constants).
 * The cutoff is the largest of the files' cutoffs. */
#include <stdlib.h>
#include <string.h>

#include "pot/eam_common.h"
#include "pot/pot_internal.h"

#define WHAT "potential eam"
#define MAXFILES 16

typedef struct funcfl {
  long z;
  double mass;
  long nrho, nr;
  double drho, dr, cut;
  double *frho, *zr, *rhor;   /* 1-based: [1..nrho], [1..nr] */
} funcfl;

static void funcfl_free(funcfl *f) {
  free(f->frho);
  free(f->zr);
  free(f->rhor);
  f->frho = f->zr = f->rhor = NULL;
}

static kiln_status read_funcfl(const char *path, funcfl *f, kiln_error *err) {
  eam_reader rd;
  memset(f, 0, sizeof *f);
  kiln_status st = eam_rd_open(&rd, path, WHAT, err);
  if (st) return st;
  if ((st = eam_rd_skip(&rd, "a comment line", err))) goto done;
  if ((st = eam_rd_words(&rd, 2, "atomic number, mass", err))) goto done;
  if ((st = eam_rd_int(&rd, 0, "atomic number", &f->z, err))) goto done;
  if ((st = eam_rd_double(&rd, 1, "mass", &f->mass, err))) goto done;
  if ((st = eam_rd_words(&rd, 5, "nrho, drho, nr, dr, cutoff", err))) goto done;
  if ((st = eam_rd_int(&rd, 0, "nrho", &f->nrho, err))) goto done;
  if ((st = eam_rd_double(&rd, 1, "drho", &f->drho, err))) goto done;
  if ((st = eam_rd_int(&rd, 2, "nr", &f->nr, err))) goto done;
  if ((st = eam_rd_double(&rd, 3, "dr", &f->dr, err))) goto done;
  if ((st = eam_rd_double(&rd, 4, "cutoff", &f->cut, err))) goto done;
  if (f->nrho < 5 || f->nrho > 10000000 || f->nr < 5 || f->nr > 10000000 || !(f->drho > 0.0) ||
      !(f->dr > 0.0) || !(f->cut > 0.0)) {
    st = KILN_FAIL(err, KILN_EFORMAT,
                   "%s: file '%s', line %ld: invalid grid (nrho %ld, drho %g, nr %ld, dr %g, "
                   "cutoff %g; need nrho, nr >= 5 and positive spacings and cutoff)",
                   WHAT, path, rd.lineno, f->nrho, f->drho, f->nr, f->dr, f->cut);
    goto done;
  }
  f->frho = calloc((size_t)f->nrho + 1, sizeof(double));
  f->zr = calloc((size_t)f->nr + 1, sizeof(double));
  f->rhor = calloc((size_t)f->nr + 1, sizeof(double));
  if (!f->frho || !f->zr || !f->rhor) {
    st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory reading '%s'", WHAT, path);
    goto done;
  }
  if ((st = eam_rd_values(&rd, f->nrho, f->frho + 1, "F(rho)", err))) goto done;
  if ((st = eam_rd_values(&rd, f->nr, f->zr + 1, "Z(r)", err))) goto done;
  if ((st = eam_rd_values(&rd, f->nr, f->rhor + 1, "rho(r)", err))) goto done;
done:
  eam_rd_close(&rd);
  if (st) funcfl_free(f);
  return st;
}

/* 4-point Lagrange value of table y[1..ny] (spacing dy) at x (LAMMPS file2array). */
static double lagrange(const double *y, long ny, double dy, double x) {
  const double sixth = 1.0 / 6.0;
  double p = x / dy + 1.0;
  long k = (long)p;
  if (k > ny - 2) k = ny - 2;
  if (k < 2) k = 2;
  p -= (double)k;
  if (p > 2.0) p = 2.0;
  double c1 = -sixth * p * (p - 1.0) * (p - 2.0);
  double c2 = 0.5 * (p * p - 1.0) * (p - 2.0);
  double c3 = -0.5 * p * (p + 1.0) * (p - 2.0);
  double c4 = sixth * p * (p * p - 1.0);
  return c1 * y[k - 1] + c2 * y[k] + c3 * y[k + 1] + c4 * y[k + 2];
}

static kiln_status eam_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  *state = NULL;
  const char *file = NULL;
  const char *paths[MAXFILES], *names[MAXFILES];
  int nfile = 0, nnames = 0;
  char nbuf[512];
  kiln_status st = kiln_opts_str(o, WHAT, "file", 1, NULL, &file, err);
  if (st) return st;
  kiln_opts *fl = kiln_opts_get(o, "files");
  if (file && fl)
    return KILN_FAIL(err, KILN_EINVAL, "%s: give either file= or files=, not both", WHAT);
  if (file) {
    paths[0] = file;
    nfile = 1;
  } else if (fl) {
    if ((st = eam_opt_strings(o, WHAT, "files", paths, MAXFILES, &nfile, NULL, 0, err))) return st;
  } else {
    return KILN_FAIL(err, KILN_EINVAL, "%s: missing option 'file' (a DYNAMO funcfl file, "
                     "e.g. /usr/share/lammps/potentials/Cu_u3.eam)", WHAT);
  }
  if ((st = eam_opt_strings(o, WHAT, "elements", names, MAXFILES, &nnames, nbuf, sizeof nbuf, err))) return st;
  if (nnames && nnames != nfile)
    return KILN_FAIL(err, KILN_EINVAL, "%s: %d element names given for %d file(s)", WHAT, nnames,
                     nfile);
  if ((st = kiln_opts_check_unused(o, WHAT, err))) return st;

  funcfl ff[MAXFILES];
  memset(ff, 0, sizeof ff);
  eam_pot *p = NULL;
  double **fr = NULL, **rr = NULL, **zz = NULL;
  int nz = nfile * (nfile + 1) / 2;
  for (int i = 0; i < nfile; i++)
    if ((st = read_funcfl(paths[i], &ff[i], err))) goto fail;
  if ((st = eam_alloc(&p, WHAT, nfile, err))) goto fail;
  for (int i = 0; i < nfile; i++) {
    const char *nm = nnames ? names[i] : kiln_element_symbol((int)ff[i].z);
    if (!nnames && (ff[i].z < 1 || ff[i].z > 118 || !nm)) {
      st = KILN_FAIL(err, KILN_EFORMAT,
                     "%s: file '%s', line 2: atomic number %ld is not an element; name it with "
                     "elements={...}", WHAT, paths[i], ff[i].z);
      goto fail;
    }
    for (int k = 0; k < i; k++)
      if (strcmp(p->names[k], nm) == 0) {
        st = KILN_FAIL(err, KILN_EINVAL, "%s: files '%s' and '%s' are both for element %s",
                       WHAT, paths[k], paths[i], nm);
        goto fail;
      }
    p->names[i] = strdup(nm);
    p->active[i] = 1;
    if (!p->names[i]) {
      st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", WHAT);
      goto fail;
    }
  }
  /* common grid: max spacings and extents over the files (LAMMPS file2array) */
  double dr = 0.0, drho = 0.0, rmax = 0.0, rhomax = 0.0, cut = 0.0;
  for (int i = 0; i < nfile; i++) {
    if (ff[i].dr > dr) dr = ff[i].dr;
    if (ff[i].drho > drho) drho = ff[i].drho;
    if ((double)(ff[i].nr - 1) * ff[i].dr > rmax) rmax = (double)(ff[i].nr - 1) * ff[i].dr;
    if ((double)(ff[i].nrho - 1) * ff[i].drho > rhomax)
      rhomax = (double)(ff[i].nrho - 1) * ff[i].drho;
    if (ff[i].cut > cut) cut = ff[i].cut;
  }
  p->nr = (int)(rmax / dr + 0.5);
  p->nrho = (int)(rhomax / drho + 0.5);
  p->dr = dr;
  p->drho = drho;
  p->rhomax = rhomax;
  p->cut = cut;
  fr = eam_rows(nfile, p->nrho);
  rr = eam_rows(nfile, p->nr);
  zz = eam_rows(nz, p->nr);
  if (!fr || !rr || !zz) goto oom;
  for (int i = 0; i < nfile; i++) {
    for (int m = 1; m <= p->nrho; m++)
      fr[i][m] = lagrange(ff[i].frho, ff[i].nrho, ff[i].drho, (m - 1) * drho);
    for (int m = 1; m <= p->nr; m++)
      rr[i][m] = lagrange(ff[i].rhor, ff[i].nr, ff[i].dr, (m - 1) * dr);
  }
  for (int i = 0, n = 0; i < nfile; i++)
    for (int j = 0; j <= i; j++, n++) {
      for (int m = 1; m <= p->nr; m++) {
        double r = (m - 1) * dr;
        double zi = lagrange(ff[i].zr, ff[i].nr, ff[i].dr, r);
        double zj = lagrange(ff[j].zr, ff[j].nr, ff[j].dr, r);
        zz[n][m] = 27.2 * 0.529 * zi * zj;
      }
    }
  if ((st = eam_finish(p, fr, rr, zz, err))) goto fail;
  goto done;
oom:
  st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", WHAT);
fail:
  eam_free(p);
  p = NULL;
done:
  eam_free_rows(fr, nfile);
  eam_free_rows(rr, nfile);
  eam_free_rows(zz, nz);
  for (int i = 0; i < nfile; i++) funcfl_free(&ff[i]);
  if (st) return st;
  *state = p;
  *cutoff = p->cut;
  return KILN_OK;
}

const kiln_pot_style kiln_pot_eam_style = {
  .name = "eam",
  .description = "embedded-atom method from DYNAMO funcfl files (LAMMPS pair_style eam)",
  .citation = "M. S. Daw and M. I. Baskes, Phys. Rev. B 29, 6443 (1984); "
              "S. M. Foiles, M. I. Baskes, M. S. Daw, Phys. Rev. B 33, 7983 (1986)",
  .options = "file=string: DYNAMO funcfl file (element from its atomic number)\n"
             "files={string,...}: several funcfl files, one per element (alloy mixing "
             "z2r = 27.2*0.529*Z_i*Z_j)\n"
             "elements={string,...}: element names for the files, overriding the atomic numbers",
  .flags = KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM | KILN_POT_MANYBODY,
  .init = eam_init,
  .map_species = eam_map_species,
  .compute = eam_compute,
  .destroy = eam_free,
  .compute_full = NULL,
};
