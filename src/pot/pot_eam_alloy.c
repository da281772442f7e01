/* src/pot/pot_eam_alloy.c: style "eam/alloy", embedded-atom method from a
 * DYNAMO setfl file (several elements, LAMMPS pair_style eam/alloy).
 *
 * File layout: 3 comment lines; "N el1 el2 ..."; "nrho drho nr dr cutoff";
 * per element: "Z mass a0 lattice", F(rho) (nrho values), rho(r) (nr values);
 * then r*phi(r) for each pair i >= j (nr values each). Values may be spread
 * over lines freely. Species map to elements by name. */
#include <stdlib.h>
#include <string.h>

#include "pot/eam_common.h"
#include "pot/pot_internal.h"

#define WHAT "potential eam/alloy"

static kiln_status alloy_init(void **state, double *cutoff, const kiln_opts *o,
                              kiln_error *err) {
  *state = NULL;
  const char *path = NULL;
  const char *use[KILN_MAX_SPECIES];
  int nuse = 0;
  char ubuf[1024];
  kiln_status st = kiln_opts_str(o, WHAT, "file", 0, NULL, &path, err);
  if (st) return st;
  if ((st = eam_opt_strings(o, WHAT, "elements", use, KILN_MAX_SPECIES, &nuse, ubuf, sizeof ubuf, err))) return st;
  if ((st = kiln_opts_check_unused(o, WHAT, err))) return st;

  eam_reader rd;
  if ((st = eam_rd_open(&rd, path, WHAT, err))) return st;
  eam_pot *p = NULL;
  double **fr = NULL, **rr = NULL, **zz = NULL;
  long nel = 0, nz = 0;
  for (int k = 0; k < 3; k++)
    if ((st = eam_rd_skip(&rd, "3 comment lines", err))) goto fail;
  if ((st = eam_rd_words(&rd, 2, "number of elements and their names", err))) goto fail;
  if ((st = eam_rd_int(&rd, 0, "number of elements", &nel, err))) goto fail;
  if (nel < 1 || nel > KILN_MAX_SPECIES) {
    st = KILN_FAIL(err, KILN_EFORMAT, "%s: file '%s', line %ld, field 1: %ld elements (need 1..%d)",
                   WHAT, path, rd.lineno, nel, KILN_MAX_SPECIES);
    goto fail;
  }
  if (rd.ntok != nel + 1) {
    st = KILN_FAIL(err, KILN_EFORMAT, "%s: file '%s', line %ld: %ld elements announced but %d names given",
                   WHAT, path, rd.lineno, nel, rd.ntok - 1);
    goto fail;
  }
  if ((st = eam_alloc(&p, WHAT, (int)nel, err))) goto fail;
  for (long i = 0; i < nel; i++) {
    p->names[i] = strdup(rd.tok[i + 1]);
    if (!p->names[i]) goto oom;
    for (long k = 0; k < i; k++)
      if (strcmp(p->names[k], p->names[i]) == 0) {
        st = KILN_FAIL(err, KILN_EFORMAT, "%s: file '%s', line %ld: element %s listed twice",
                       WHAT, path, rd.lineno, p->names[i]);
        goto fail;
      }
  }
  long nrho, nr;
  double drho, dr, cut;
  if ((st = eam_rd_words(&rd, 5, "nrho, drho, nr, dr, cutoff", err))) goto fail;
  if ((st = eam_rd_int(&rd, 0, "nrho", &nrho, err))) goto fail;
  if ((st = eam_rd_double(&rd, 1, "drho", &drho, err))) goto fail;
  if ((st = eam_rd_int(&rd, 2, "nr", &nr, err))) goto fail;
  if ((st = eam_rd_double(&rd, 3, "dr", &dr, err))) goto fail;
  if ((st = eam_rd_double(&rd, 4, "cutoff", &cut, err))) goto fail;
  if (nrho < 5 || nrho > 10000000 || nr < 5 || nr > 10000000 || !(drho > 0.0) || !(dr > 0.0) ||
      !(cut > 0.0)) {
    st = KILN_FAIL(err, KILN_EFORMAT,
                   "%s: file '%s', line %ld: invalid grid (nrho %ld, drho %g, nr %ld, dr %g, "
                   "cutoff %g; need nrho, nr >= 5 and positive spacings and cutoff)",
                   WHAT, path, rd.lineno, nrho, drho, nr, dr, cut);
    goto fail;
  }
  p->nrho = (int)nrho;
  p->nr = (int)nr;
  p->drho = drho;
  p->dr = dr;
  p->cut = cut;
  p->rhomax = (double)(nrho - 1) * drho;
  nz = nel * (nel + 1) / 2;
  fr = eam_rows(nel, nrho);
  rr = eam_rows(nel, nr);
  zz = eam_rows(nz, nr);
  if (!fr || !rr || !zz) goto oom;
  for (long i = 0; i < nel; i++) {
    char desc[96];
    long z;
    double mass;
    snprintf(desc, sizeof desc, "atomic number and mass of element %s", p->names[i]);
    if ((st = eam_rd_words(&rd, 2, desc, err))) goto fail;
    if ((st = eam_rd_int(&rd, 0, "atomic number", &z, err))) goto fail;
    if ((st = eam_rd_double(&rd, 1, "mass", &mass, err))) goto fail;
    snprintf(desc, sizeof desc, "F(rho) of element %s", p->names[i]);
    if ((st = eam_rd_values(&rd, nrho, fr[i] + 1, desc, err))) goto fail;
    snprintf(desc, sizeof desc, "rho(r) of element %s", p->names[i]);
    if ((st = eam_rd_values(&rd, nr, rr[i] + 1, desc, err))) goto fail;
  }
  for (long i = 0, n = 0; i < nel; i++)
    for (long j = 0; j <= i; j++, n++) {
      char desc[96];
      snprintf(desc, sizeof desc, "r*phi(r) of pair %s-%s", p->names[i], p->names[j]);
      if ((st = eam_rd_values(&rd, nr, zz[n] + 1, desc, err))) goto fail;
    }
  /* species that may be used: all, or those named in elements= */
  for (long i = 0; i < nel; i++) p->active[i] = nuse == 0;
  for (int k = 0; k < nuse; k++) {
    long i = 0;
    while (i < nel && strcmp(p->names[i], use[k]) != 0) i++;
    if (i == nel) {
      char list[256] = "";
      for (long q = 0; q < nel; q++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", q ? " " : "", p->names[q]);
      }
      st = KILN_FAIL(err, KILN_EINVAL, "%s: element '%s' is not in file '%s' (it has: %s)", WHAT,
                     use[k], path, list);
      goto fail;
    }
    p->active[i] = 1;
  }
  if ((st = eam_finish(p, fr, rr, zz, err))) goto fail;
  goto done;
oom:
  st = KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory reading '%s'", WHAT, path);
fail:
  eam_free(p);
  p = NULL;
done:
  eam_rd_close(&rd);
  eam_free_rows(fr, nel);
  eam_free_rows(rr, nel);
  eam_free_rows(zz, nz);
  if (st) return st;
  *state = p;
  *cutoff = p->cut;
  return KILN_OK;
}

const kiln_pot_style kiln_pot_eam_alloy_style = {
  .name = "eam/alloy",
  .description = "embedded-atom method from a DYNAMO setfl file (LAMMPS pair_style eam/alloy)",
  .citation = "M. S. Daw and M. I. Baskes, Phys. Rev. B 29, 6443 (1984)",
  .options = "file=string: setfl file (e.g. /usr/share/lammps/potentials/CuNi.eam.alloy)\n"
             "elements={string,...}: restrict to these elements of the file (default: all); "
             "species map to elements by name",
  .flags = KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM | KILN_POT_MANYBODY,
  .init = alloy_init,
  .map_species = eam_map_species,
  .compute = eam_compute,
  .destroy = eam_free,
  .compute_full = NULL,
};
