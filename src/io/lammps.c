/* src/io/lammps.c: LAMMPS data files (atom_style atomic or charge; read and write)
 * and custom text dumps (read).
 *
 * Box: LAMMPS keeps a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz) with the origin at
 * (xlo,ylo,zlo). kiln keeps the same rows as its cell with the origin at 0, so
 * positions are shifted by -(xlo,ylo,zlo) on reading (a dump read the same way gives
 * the same positions). Data files carry no boundary flags: pbc is T T T. Image flags
 * unwrap positions (x + ix a + iy b + iz c). Units option: "metal" (default:
 * velocities Å/ps, time ps) or "real" (Å/fs, forces kcal/mol/Å); kiln keeps Å/fs,
 * eV/Å, fs.
 *
 * Symbols for types come from option symbols={...} (type i -> symbols[i]), else
 * from a comment after the mass ("1 28.0855 # Si"), else the element whose
 * standard mass is nearest to the type's mass within 0.1 amu; masses from the
 * Masses section override table masses.
 *
 * Writing: one LAMMPS type per kiln species (type = species index + 1), masses per
 * type (atoms of one species must share one mass), positions wrapped into the box
 * along periodic directions with image flags, velocities if any is nonzero. A cell
 * that is not in LAMMPS orientation (a along x, b in the xy plane, positive
 * diagonal) is rotated rigidly into it (positions and velocities with it); a
 * left-handed cell cannot be a LAMMPS box and is an error.
 *
 * Dumps (custom text): per frame ITEM: [UNITS] [TIME] TIMESTEP, NUMBER OF ATOMS, BOX
 * BOUNDS (orthogonal, or "xy xz yz" with the bounding box converted back to the
 * box), ATOMS. Coordinates from the first complete set of xu, x, xsu, xs (scaled
 * ones times the cell; x or xs plus ix iy iz are unwrapped). vx vy vz -> velocities,
 * fx fy fz -> atoms->f (a dump's forces are the run's forces), mass -> masses,
 * element -> symbols (else symbols={...}, else the mass column), id -> ids (atoms
 * are sorted by id); every other column (and a partial vector such as vx alone)
 * becomes a REAL prop named after the column. Info: step (int), time (fs, if the
 * dump has ITEM: TIME). Boundary flags "pp" give pbc T, anything else F. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "io/io_internal.h"

#define MAXTYPES 1024

static char *strip_comment(char *s, char **comment) {
  char *h = strchr(s, '#');
  if (comment) *comment = NULL;
  if (h) {
    *h = 0;
    if (comment) *comment = h + 1;
  }
  return s;
}

static int blank(const char *s) {
  for (; *s; s++)
    if (!isspace((unsigned char)*s)) return 0;
  return 1;
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  size_t k = 0;
  while (s[k] && isspace((unsigned char)s[k])) k++;
  if (k) memmove(s, s + k, n - k + 1);
}

/* Nearest-mass element for each type lacking a symbol. */
static kiln_status type_symbols(const char *file, int ntypes, const double *tmass, const int *has_mass,
                                char (*tsym)[KILN_SYMBOL_LEN], char (*osym)[KILN_SYMBOL_LEN], int nosym,
                                kiln_error *err) {
  for (int t = 0; t < ntypes; t++) {
    if (nosym) {
      if (t >= nosym)
        return KILN_FAIL(err, KILN_EINVAL, "%s: option 'symbols' names %d types but the file has %d",
                         file, nosym, ntypes);
      strcpy(tsym[t], osym[t]);
      continue;
    }
    if (tsym[t][0] && kiln_element_z(tsym[t])) continue;
    if (!has_mass[t])
      return KILN_FAIL(err, KILN_EINVAL, "%s: no symbol and no mass for type %d; give symbols={...}",
                       file, t + 1);
    int z = kilni_element_from_mass(tmass[t], 0.1);
    if (!z)
      return KILN_FAIL(err, KILN_EINVAL,
                       "%s: type %d has mass %g, which matches no element within 0.1 amu; give "
                       "symbols={...} or '# Sym' after the mass", file, t + 1, tmass[t]);
    strcpy(tsym[t], kiln_element_symbol(z));
  }
  return KILN_OK;
}

/* Section names of LAMMPS data files (the ones kiln does not read are skipped). */
static int known_section(const char *name) {
  static const char *names[] = {"Atoms", "Velocities", "Masses", "Ellipsoids", "Lines", "Triangles", "Bodies",
                                "Bonds", "Angles", "Dihedrals", "Impropers"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    if (!strcmp(name, names[k])) return 1;
  size_t n = strlen(name);
  return n > 7 && !strcmp(name + n - 7, " Coeffs");
}

typedef struct idx_id { int64_t id; size_t i; } idx_id;
static int cmp_id(const void *pa, const void *pb) {
  const idx_id *a = pa, *b = pb;
  return a->id < b->id ? -1 : a->id > b->id;
}

/* ------------------------------------------------------------ data: read */

kiln_status kiln_lammps_data_read(const char *file, const kiln_opts *o, kiln_atoms **out,
                                  kiln_error *err) {
  const char *what = "lammps-data read";
  *out = NULL;
  char osym[MAXTYPES][KILN_SYMBOL_LEN];
  int nosym, has_index, charge = 0;
  long index;
  double vfac, ffac, tfac;
  const char *style;
  kiln_status st = kilni_opt_symbols(o, what, osym, MAXTYPES, &nosym, err);
  if (!st) st = kilni_opt_lammps_units(o, what, &vfac, &ffac, &tfac, err);
  if (!st) st = kiln_opts_str(o, what, "style", 1, "atomic", &style, err);
  if (!st) st = kilni_opt_index(o, what, &has_index, &index, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (st) return st;
  if (has_index && index != 0 && index != -1)
    return KILN_FAIL(err, KILN_ERANGE, "index %ld is out of range: '%s' has 1 frame", index, file);
  if (!strcmp(style, "charge")) charge = 1;
  else if (strcmp(style, "atomic"))
    return KILN_FAIL(err, KILN_ENOTSUP, "%s: atom_style '%s' is not supported (atomic or charge)", what, style);

  kilni_reader r;
  if ((st = kilni_reader_open(&r, file, err))) return st;
  kiln_atoms *a = NULL;
  idx_id *ids = NULL;
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0}, tilt[3] = {0, 0, 0};
  int have_bounds[3] = {0, 0, 0};
  long long natoms = -1, ntypes = -1;
  double tmass[MAXTYPES];
  int has_mass[MAXTYPES] = {0};
  char tsym[MAXTYPES][KILN_SYMBOL_LEN];
  memset(tsym, 0, sizeof tsym);
  int (*img)[3] = NULL;
  double *q = NULL;
  int got_atoms = 0, got;
  char *tok[16];

  got = kilni_reader_next(&r, err); /* title */
  if (got <= 0) { st = got < 0 ? r.st : KILN_FAIL(err, KILN_EFORMAT, "%s: empty file", file); goto done; }
  /* header */
  char section[128] = "";
  for (;;) {
    got = kilni_reader_next(&r, err);
    if (got < 0) { st = r.st; goto done; }
    if (got == 0) break;
    if (isalpha((unsigned char)r.line[strspn(r.line, " \t")])) {
      snprintf(section, sizeof section, "%s", r.line);
      trim(section);
      break;
    }
    char *s = strip_comment(r.line, NULL);
    if (blank(s)) continue;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", s);
    int nt = kilni_split(s, tok, 16);
    long long v;
    double x0, x1;
    if (nt == 2 && !strcmp(tok[1], "atoms")) {
      if (!kilni_parse_long(tok[0], &v) || v < 0) { st = kilni_ferr(err, &r, "atoms: expected a count (got '%s')", tok[0]); goto done; }
      natoms = v;
    } else if (nt == 3 && !strcmp(tok[1], "atom") && !strcmp(tok[2], "types")) {
      if (!kilni_parse_long(tok[0], &v) || v < 1 || v > MAXTYPES) {
        st = kilni_ferr(err, &r, "atom types: expected a count 1..%d (got '%s')", MAXTYPES, tok[0]);
        goto done;
      }
      ntypes = v;
    } else if (nt == 4 && tok[2][0] && tok[2][0] == tok[3][0] && strchr("xyz", tok[2][0]) &&
               !strcmp(tok[2] + 1, "lo") && !strcmp(tok[3] + 1, "hi")) {
      int d = tok[2][0] - 'x';
      if (!kilni_parse_real(tok[0], &x0) || !kilni_parse_real(tok[1], &x1)) {
        st = kilni_ferr(err, &r, "%s %s: expected 2 numbers (got '%s %s')", tok[2], tok[3], tok[0], tok[1]);
        goto done;
      }
      lo[d] = x0; hi[d] = x1; have_bounds[d] = 1;
    } else if (nt == 6 && !strcmp(tok[3], "xy") && !strcmp(tok[4], "xz") && !strcmp(tok[5], "yz")) {
      for (int k = 0; k < 3; k++)
        if (!kilni_parse_real(tok[k], &tilt[k])) {
          st = kilni_ferr(err, &r, "xy xz yz: expected 3 numbers (got '%s')", tok[k]);
          goto done;
        }
    } else if (nt >= 2 && kilni_parse_long(tok[0], &v) &&
               (strstr(copy, "bond") || strstr(copy, "angle") || strstr(copy, "dihedral") ||
                strstr(copy, "improper") || strstr(copy, "extra") || strstr(copy, "ellipsoids") ||
                strstr(copy, "lines") || strstr(copy, "triangles") || strstr(copy, "bodies"))) {
      /* topology counts: not used by atom_style atomic */
    } else {
      trim(copy);
      st = kilni_ferr(err, &r, "unrecognized header line (got '%.200s')", copy);
      goto done;
    }
  }
  if (natoms < 0) { st = KILN_FAIL(err, KILN_EFORMAT, "%s: header has no 'atoms' line", file); goto done; }
  if (ntypes < 0) { st = KILN_FAIL(err, KILN_EFORMAT, "%s: header has no 'atom types' line", file); goto done; }
  for (int d = 0; d < 3; d++)
    if (!have_bounds[d] || !(hi[d] > lo[d])) {
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: header needs %clo %chi with %chi > %clo", file, 'x' + d,
                     'x' + d, 'x' + d, 'x' + d);
      goto done;
    }
  if ((st = kiln_atoms_new(&a, (size_t)natoms, err))) goto done;
  img = calloc((size_t)natoms + 1, sizeof *img);
  ids = malloc(((size_t)natoms + 1) * sizeof *ids);
  if (charge) q = calloc((size_t)natoms + 1, sizeof *q);
  if (!img || !ids || (charge && !q)) { st = KILN_FAIL(err, KILN_ENOMEM, "out of memory"); goto done; }
  int32_t *ltype = a->type; /* LAMMPS type - 1 until species are assigned */

  /* sections */
  while (section[0]) {
    char *sc = NULL, name[128];
    snprintf(name, sizeof name, "%s", section);
    strip_comment(name, &sc);
    trim(name);
    long start = r.lineno;
    long long want = !strcmp(name, "Masses") ? ntypes
                     : (!strcmp(name, "Atoms") || !strcmp(name, "Velocities")) ? natoms : -1;
    if (!strcmp(name, "Atoms") && sc) {
      char sty[64];
      snprintf(sty, sizeof sty, "%s", sc);
      trim(sty);
      if (sty[0] && strcmp(sty, charge ? "charge" : "atomic")) {
        st = kilni_ferr(err, &r, "Atoms: atom style '%s' is not %s (give style=\"%s\" or convert the file)",
                        sty, charge ? "charge" : "atomic", !strcmp(sty, "charge") ? "charge" : "atomic");
        goto done;
      }
    }
    if (!known_section(name)) {
      st = kilni_ferr(err, &r, "unknown section '%.100s'", name);
      goto done;
    }
    section[0] = 0;
    long long k = 0;
    for (;;) {
      got = kilni_reader_next(&r, err);
      if (got < 0) { st = r.st; goto done; }
      if (got == 0) break;
      if (isalpha((unsigned char)r.line[strspn(r.line, " \t")])) {
        snprintf(section, sizeof section, "%s", r.line);
        trim(section);
        break;
      }
      char *cm;
      char *s = strip_comment(r.line, &cm);
      if (blank(s)) continue;
      if (want < 0) continue; /* skipped section */
      if (k >= want) {
        st = kilni_ferr(err, &r, "%s: more than %lld lines", name, want);
        goto done;
      }
      int nt = kilni_split(s, tok, 16);
      if (!strcmp(name, "Masses")) {
        long long t;
        double m;
        if (nt < 2) { st = kilni_ferr(err, &r, "Masses: expected 'type mass' (got %d fields)", nt); goto done; }
        if (!kilni_parse_long(tok[0], &t) || t < 1 || t > ntypes) {
          st = kilni_ferr(err, &r, "Masses: type must be 1..%lld (got '%s')", ntypes, tok[0]);
          goto done;
        }
        if (!kilni_parse_real(tok[1], &m) || !(m > 0)) {
          st = kilni_ferr(err, &r, "field 'mass' (column 2): expected a positive real number (got '%s')", tok[1]);
          goto done;
        }
        tmass[t - 1] = m;
        has_mass[t - 1] = 1;
        if (cm) {
          char *ct[2];
          if (kilni_split(cm, ct, 2) >= 1 && strlen(ct[0]) < KILN_SYMBOL_LEN) strcpy(tsym[t - 1], ct[0]);
        }
      } else if (!strcmp(name, "Atoms")) {
        int base = 5 + charge;
        if (nt != base && nt != base + 3) {
          st = kilni_ferr(err, &r, "Atoms: expected %d or %d columns for atom_style %s (got %d)", base,
                          base + 3, charge ? "charge" : "atomic", nt);
          goto done;
        }
        long long id, t;
        if (!kilni_parse_long(tok[0], &id) || id < 1) {
          st = kilni_ferr(err, &r, "field 'id' (column 1): expected a positive integer (got '%s')", tok[0]);
          goto done;
        }
        if (!kilni_parse_long(tok[1], &t) || t < 1 || t > ntypes) {
          st = kilni_ferr(err, &r, "field 'type' (column 2): expected a type 1..%lld (got '%s')", ntypes, tok[1]);
          goto done;
        }
        if (charge && !kilni_parse_real(tok[2], &q[k])) {
          st = kilni_ferr(err, &r, "field 'q' (column 3): expected a real number (got '%s')", tok[2]);
          goto done;
        }
        for (int d = 0; d < 3; d++)
          if (!kilni_parse_real(tok[2 + charge + d], &a->x[k][d])) {
            st = kilni_ferr(err, &r, "field '%c' (column %d): expected a real number (got '%s')", 'x' + d,
                            3 + charge + d, tok[2 + charge + d]);
            goto done;
          }
        if (nt == base + 3)
          for (int d = 0; d < 3; d++) {
            long long iv;
            if (!kilni_parse_long(tok[base + d], &iv)) {
              st = kilni_ferr(err, &r, "field 'i%c' (column %d): expected an integer image flag (got '%s')",
                              'x' + d, base + d + 1, tok[base + d]);
              goto done;
            }
            img[k][d] = (int)iv;
          }
        a->id[k] = id;
        ltype[k] = (int32_t)(t - 1);
        ids[k].id = id;
        ids[k].i = (size_t)k;
      } else { /* Velocities: after Atoms (sorted ids) */
        if (!got_atoms) { st = kilni_ferr(err, &r, "Velocities: section comes before Atoms"); goto done; }
        if (nt != 4) { st = kilni_ferr(err, &r, "Velocities: expected 'id vx vy vz' (got %d fields)", nt); goto done; }
        long long id;
        double v[3];
        if (!kilni_parse_long(tok[0], &id)) {
          st = kilni_ferr(err, &r, "field 'id' (column 1): expected an integer (got '%s')", tok[0]);
          goto done;
        }
        for (int d = 0; d < 3; d++)
          if (!kilni_parse_real(tok[1 + d], &v[d])) {
            st = kilni_ferr(err, &r, "field 'v%c' (column %d): expected a real number (got '%s')", 'x' + d,
                            2 + d, tok[1 + d]);
            goto done;
          }
        idx_id key = {id, 0}, *hit = bsearch(&key, ids, (size_t)natoms, sizeof *ids, cmp_id);
        if (!hit) { st = kilni_ferr(err, &r, "Velocities: atom id %lld is not in Atoms", id); goto done; }
        for (int d = 0; d < 3; d++) a->v[hit->i][d] = v[d] * vfac;
      }
      k++;
    }
    if (want >= 0 && k < want) {
      st = kilni_ferr_at(err, file, start, "%s: expected %lld lines, got %lld", name, want, k);
      goto done;
    }
    if (!strcmp(name, "Atoms")) {
      got_atoms = 1;
      qsort(ids, (size_t)natoms, sizeof *ids, cmp_id);
      for (long long i = 1; i < natoms; i++)
        if (ids[i].id == ids[i - 1].id) {
          st = kilni_ferr_at(err, file, start, "Atoms: atom id %lld appears twice", (long long)ids[i].id);
          goto done;
        }
    }
  }
  if (!got_atoms && natoms > 0) { st = KILN_FAIL(err, KILN_EFORMAT, "%s: no Atoms section", file); goto done; }

  if ((st = type_symbols(file, (int)ntypes, tmass, has_mass, tsym, osym, nosym, err))) goto done;
  int32_t tmap[MAXTYPES];
  for (int t = 0; t < ntypes; t++)
    if ((st = kiln_atoms_species_index(a, tsym[t], &tmap[t], err))) goto done;
  double cell[3][3] = {{hi[0] - lo[0], 0, 0}, {tilt[0], hi[1] - lo[1], 0}, {tilt[1], tilt[2], hi[2] - lo[2]}};
  memcpy(a->cell, cell, sizeof cell);
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  for (size_t i = 0; i < (size_t)natoms; i++) {
    int t = ltype[i];
    a->type[i] = tmap[t];
    int z = kiln_element_z(tsym[t]);
    a->mass[i] = has_mass[t] ? tmass[t] : z ? kiln_element_mass(z) : 0.0;
    for (int d = 0; d < 3; d++)
      a->x[i][d] += img[i][0] * cell[0][d] + img[i][1] * cell[1][d] + img[i][2] * cell[2][d] - lo[d];
  }
  if (charge) st = kiln_atoms_prop_set(a, "charge", KILN_VAL_REAL, 1, q, err);
done:
  kilni_reader_close(&r);
  free(img);
  free(ids);
  free(q);
  return kilni_read_done(a, out, st);
}

/* ------------------------------------------------------------ data: write */

/* LAMMPS-oriented cell L and the orthogonal T with L = C T (row vectors: r' = r T).
 * *rot = 0 if C is already in LAMMPS form (T = I). */
static kiln_status lammps_cell(const double c[3][3], double L[3][3], double T[3][3], int *rot,
                               const char *file, kiln_error *err) {
  double det = kilni_det3(c);
  if (!(fabs(det) > 0.0))
    return KILN_FAIL(err, KILN_EINVAL, "writing '%s': the cell has zero volume; LAMMPS needs a box", file);
  if (det < 0)
    return KILN_FAIL(err, KILN_EINVAL,
                     "writing '%s': the cell is left-handed (det %g < 0); LAMMPS boxes are right-handed "
                     "(swap two cell vectors)", file, det);
  memset(T, 0, 9 * sizeof(double));
  if (c[0][1] == 0.0 && c[0][2] == 0.0 && c[1][2] == 0.0 && c[0][0] > 0 && c[1][1] > 0 && c[2][2] > 0) {
    memcpy(L, c, 9 * sizeof(double));
    T[0][0] = T[1][1] = T[2][2] = 1.0;
    *rot = 0;
    return KILN_OK;
  }
  const double *a = c[0], *b = c[1], *cc = c[2];
  double an = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
  double bx = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / an;
  double bb = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
  double by = sqrt(fmax(bb - bx * bx, 0.0));
  double cx = (a[0] * cc[0] + a[1] * cc[1] + a[2] * cc[2]) / an;
  double bc = b[0] * cc[0] + b[1] * cc[1] + b[2] * cc[2];
  double cy = (bc - bx * cx) / by;
  double ccn = cc[0] * cc[0] + cc[1] * cc[1] + cc[2] * cc[2];
  double cz = sqrt(fmax(ccn - cx * cx - cy * cy, 0.0));
  double Lm[3][3] = {{an, 0, 0}, {bx, by, 0}, {cx, cy, cz}};
  memcpy(L, Lm, sizeof Lm);
  double inv[3][3];
  kiln_status st = kiln_cell_inverse(c, inv, err);
  if (st) return st;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) T[i][j] = inv[i][0] * Lm[0][j] + inv[i][1] * Lm[1][j] + inv[i][2] * Lm[2][j];
  *rot = 1;
  return KILN_OK;
}

kiln_status kiln_lammps_data_write(const char *file, const kiln_opts *o, const kiln_atoms *a,
                                   kiln_error *err) {
  const char *what = "lammps-data write";
  double vfac, ffac, tfac;
  kiln_status st = kilni_opt_lammps_units(o, what, &vfac, &ffac, &tfac, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (st) return st;
  if (!a) return KILN_FAIL(err, KILN_EINVAL, "writing '%s': atoms is NULL", file);
  size_t n = a->n;
  double L[3][3], T[3][3], Linv[3][3];
  int rot;
  if ((st = lammps_cell(a->cell, L, T, &rot, file, err))) return st;
  if ((st = kiln_cell_inverse(L, Linv, err))) return st;
  int ntypes = a->nspecies > 0 ? a->nspecies : 1;
  double tmass[KILN_MAX_SPECIES];
  int seen[KILN_MAX_SPECIES] = {0};
  for (size_t i = 0; i < n; i++) {
    int t = a->type[i];
    if (t < 0 || t >= a->nspecies)
      return KILN_FAIL(err, KILN_EINVAL, "writing '%s': atom %zu has type %d but there are %d species",
                       file, i + 1, t, a->nspecies);
    if (!seen[t]) { seen[t] = 1; tmass[t] = a->mass[i]; }
    else if (a->mass[i] != tmass[t])
      return KILN_FAIL(err, KILN_EINVAL,
                       "writing '%s': atoms of species %s have different masses (%.17g and %.17g); a "
                       "LAMMPS data file holds one mass per type", file, a->species[t], tmass[t], a->mass[i]);
  }
  for (int t = 0; t < a->nspecies; t++)
    if (!seen[t]) {
      int z = kiln_element_z(a->species[t]);
      tmass[t] = z ? kiln_element_mass(z) : 1.0;
    }
  /* ids: keep a->id when unique and positive */
  int use_ids = 1;
  idx_id *ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    ids[i].id = a->id[i];
    ids[i].i = i;
    if (a->id[i] < 1) use_ids = 0;
  }
  qsort(ids, n, sizeof *ids, cmp_id);
  for (size_t i = 1; i < n && use_ids; i++)
    if (ids[i].id == ids[i - 1].id) use_ids = 0;
  free(ids);
  const int vel = kilni_nonzero3((const double (*)[3])a->v, n);

  kilni_writer w;
  if ((st = kilni_writer_open(&w, file, 0, err))) return st;
  FILE *fp = w.fp;
  char b0[40], b1[40], b2[40];
  fprintf(fp, "LAMMPS data file written by kiln (atom_style atomic)\n\n%zu atoms\n%d atom types\n\n", n, ntypes);
  fprintf(fp, "0 %s xlo xhi\n", kilni_fmt_real(b0, L[0][0]));
  fprintf(fp, "0 %s ylo yhi\n", kilni_fmt_real(b0, L[1][1]));
  fprintf(fp, "0 %s zlo zhi\n", kilni_fmt_real(b0, L[2][2]));
  if (L[1][0] != 0.0 || L[2][0] != 0.0 || L[2][1] != 0.0)
    fprintf(fp, "%s %s %s xy xz yz\n", kilni_fmt_real(b0, L[1][0]), kilni_fmt_real(b1, L[2][0]),
            kilni_fmt_real(b2, L[2][1]));
  fputs("\nMasses\n\n", fp);
  for (int t = 0; t < ntypes; t++)
    fprintf(fp, "%d %s # %s\n", t + 1, kilni_fmt_real(b0, a->nspecies ? tmass[t] : 1.0),
            a->nspecies ? a->species[t] : "X");
  fputs("\nAtoms # atomic\n\n", fp);
  for (size_t i = 0; i < n; i++) {
    double x[3], s[3];
    int im[3] = {0, 0, 0};
    if (rot) kilni_vecmat(a->x[i], T, x);
    else memcpy(x, a->x[i], sizeof x);
    kilni_vecmat(x, Linv, s);
    for (int d = 0; d < 3; d++)
      if (a->pbc[d] && (s[d] < 0.0 || s[d] >= 1.0)) im[d] = (int)floor(s[d]);
    if (im[0] || im[1] || im[2])
      for (int d = 0; d < 3; d++) x[d] -= im[0] * L[0][d] + im[1] * L[1][d] + im[2] * L[2][d];
    fprintf(fp, "%lld %d %s %s %s %d %d %d\n", use_ids ? (long long)a->id[i] : (long long)i + 1,
            a->type[i] + 1, kilni_fmt_real(b0, x[0]), kilni_fmt_real(b1, x[1]), kilni_fmt_real(b2, x[2]),
            im[0], im[1], im[2]);
  }
  if (vel) {
    fputs("\nVelocities\n\n", fp);
    for (size_t i = 0; i < n; i++) {
      double v[3];
      if (rot) kilni_vecmat(a->v[i], T, v);
      else memcpy(v, a->v[i], sizeof v);
      fprintf(fp, "%lld %s %s %s\n", use_ids ? (long long)a->id[i] : (long long)i + 1,
              kilni_fmt_real(b0, v[0] / vfac), kilni_fmt_real(b1, v[1] / vfac), kilni_fmt_real(b2, v[2] / vfac));
    }
  }
  return kilni_writer_commit(&w, err);
}

/* ------------------------------------------------------------ dump: read */

enum { C_ID, C_TYPE, C_ELEM, C_MASS, C_X, C_XS, C_XU, C_XSU, C_IX, C_V, C_F, C_PROP, C_DROP };

typedef struct dcol { int kind, dim; const char *name; } dcol;

static dcol classify(const char *c) {
  dcol r = {C_PROP, 0, c};
  static const struct { const char *n; int kind, dim; } known[] = {
      {"id", C_ID, 0}, {"type", C_TYPE, 0}, {"element", C_ELEM, 0}, {"mass", C_MASS, 0},
      {"x", C_X, 0}, {"y", C_X, 1}, {"z", C_X, 2}, {"xs", C_XS, 0}, {"ys", C_XS, 1}, {"zs", C_XS, 2},
      {"xu", C_XU, 0}, {"yu", C_XU, 1}, {"zu", C_XU, 2}, {"xsu", C_XSU, 0}, {"ysu", C_XSU, 1},
      {"zsu", C_XSU, 2}, {"ix", C_IX, 0}, {"iy", C_IX, 1}, {"iz", C_IX, 2}, {"vx", C_V, 0},
      {"vy", C_V, 1}, {"vz", C_V, 2}, {"fx", C_F, 0}, {"fy", C_F, 1}, {"fz", C_F, 2}};
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
    if (!strcmp(c, known[k].n)) { r.kind = known[k].kind; r.dim = known[k].dim; }
  return r;
}

typedef struct dstate {
  long long step;
  int have_step, have_time;
  double time;
  long long natoms;
  int have_natoms, have_box;
  double lo[3], hi[3], tilt[3];
  int pbc[3];
} dstate;

/* Parse the "ITEM: ATOMS ..." lines of one frame into new atoms. */
static kiln_status dump_atoms(kilni_reader *r, dstate *ds, char *header, char (*osym)[KILN_SYMBOL_LEN],
                              int nosym, double vfac, double ffac, double tfac, kiln_atoms **out,
                              kiln_error *err) {
  *out = NULL;
  size_t n = (size_t)ds->natoms;
  kiln_status st = KILN_OK;
  size_t maxc = strlen(header) / 2 + 2;
  char **cname = malloc(maxc * sizeof *cname);
  int ncol = cname ? kilni_split(header, cname, (int)maxc) : 0;
  dcol *col = malloc((size_t)(ncol + 1) * sizeof *col);
  char **tok = malloc((size_t)(ncol + 2) * sizeof *tok);
  double *val = NULL;
  char (*elem)[KILN_SYMBOL_LEN] = NULL;
  idx_id *ord = NULL;
  kiln_atoms *a = NULL;
  if (!cname || !col || !tok) { st = KILN_FAIL(err, KILN_ENOMEM, "out of memory"); goto done; }
  if (ncol == 0) { st = kilni_ferr(err, r, "ITEM: ATOMS has no column names"); goto done; }
  int have[C_DROP][3] = {{0}}, icol[C_DROP][3], nprop = 0;
  for (int k = 0; k < ncol; k++) {
    col[k] = classify(cname[k]);
    if (col[k].kind != C_PROP) { have[col[k].kind][col[k].dim] = 1; icol[col[k].kind][col[k].dim] = k; }
    else nprop++;
  }
  int ck = -1;
  const int order[4] = {C_XU, C_X, C_XSU, C_XS};
  for (int k = 0; k < 4 && ck < 0; k++)
    if (have[order[k]][0] && have[order[k]][1] && have[order[k]][2]) ck = order[k];
  if (ck < 0) {
    st = kilni_ferr(err, r, "ATOMS: no complete set of coordinates (x y z, xs ys zs, xu yu zu or xsu ysu zsu)");
    goto done;
  }
  int hasi = have[C_IX][0] && have[C_IX][1] && have[C_IX][2];
  int unwrap = (ck == C_X || ck == C_XS) && hasi;
  int hasv = have[C_V][0] && have[C_V][1] && have[C_V][2];
  int hasf = have[C_F][0] && have[C_F][1] && have[C_F][2];
  /* a partial vector (vx alone, ix iy) is kept as plain props */
  for (int k = 0; k < ncol; k++)
    if ((col[k].kind == C_V && !hasv) || (col[k].kind == C_F && !hasf) || (col[k].kind == C_IX && !hasi)) {
      col[k].kind = C_PROP;
      nprop++;
    }
  if (!have[C_ELEM][0] && !have[C_TYPE][0]) {
    st = kilni_ferr(err, r, "ATOMS: needs a 'type' or 'element' column");
    goto done;
  }
  if (!have[C_ELEM][0] && !nosym && !have[C_MASS][0]) {
    st = kilni_ferr(err, r, "ATOMS: cannot tell the elements: dump an 'element' or 'mass' column, or give symbols={...}");
    goto done;
  }
  val = malloc((n ? n : 1) * (size_t)ncol * sizeof *val);
  ord = malloc((n ? n : 1) * sizeof *ord);
  if (have[C_ELEM][0]) elem = calloc(n ? n : 1, sizeof *elem);
  if (!val || !ord || (have[C_ELEM][0] && !elem)) { st = KILN_FAIL(err, KILN_ENOMEM, "out of memory"); goto done; }
  for (size_t i = 0; i < n; i++) {
    int got = kilni_reader_next(r, err);
    if (got < 0) { st = r->st; goto done; }
    if (got == 0) { st = kilni_ferr(err, r, "expected %zu atom lines, file ends after %zu", n, i); goto done; }
    int nt = kilni_split(r->line, tok, ncol + 1);
    if (nt != ncol) { st = kilni_ferr(err, r, "expected %d columns (got %d)", ncol, nt); goto done; }
    for (int k = 0; k < ncol; k++) {
      double *v = &val[i * (size_t)ncol + (size_t)k];
      if (col[k].kind == C_ELEM) {
        if (strlen(tok[k]) >= KILN_SYMBOL_LEN || !kiln_element_z(tok[k])) {
          st = kilni_ferr(err, r, "field 'element' (column %d): unknown element symbol (got '%.100s')", k + 1, tok[k]);
          goto done;
        }
        strcpy(elem[i], tok[k]);
        *v = 0;
      } else if (!kilni_parse_real(tok[k], v)) {
        st = kilni_ferr(err, r, "field '%s' (column %d): expected a number (got '%.100s')", cname[k], k + 1, tok[k]);
        goto done;
      }
    }
    double idv = have[C_ID][0] ? val[i * (size_t)ncol + (size_t)icol[C_ID][0]] : (double)(i + 1);
    if (idv != floor(idv)) { st = kilni_ferr(err, r, "field 'id': expected an integer (got %g)", idv); goto done; }
    ord[i].id = (int64_t)idv;
    ord[i].i = i;
    if (have[C_TYPE][0]) {
      double t = val[i * (size_t)ncol + (size_t)icol[C_TYPE][0]];
      if (t != floor(t) || t < 1 || t > MAXTYPES) {
        st = kilni_ferr(err, r, "field 'type' (column %d): expected a type 1..%d (got %g)", icol[C_TYPE][0] + 1,
                        MAXTYPES, t);
        goto done;
      }
    }
  }
  qsort(ord, n, sizeof *ord, cmp_id);
  if ((st = kiln_atoms_new(&a, n, err))) goto done;
  double cell[3][3] = {{ds->hi[0] - ds->lo[0], 0, 0},
                       {ds->tilt[0], ds->hi[1] - ds->lo[1], 0},
                       {ds->tilt[1], ds->tilt[2], ds->hi[2] - ds->lo[2]}};
  memcpy(a->cell, cell, sizeof cell);
  memcpy(a->pbc, ds->pbc, sizeof a->pbc);
  char tsym[MAXTYPES][KILN_SYMBOL_LEN];
  int32_t tmap[MAXTYPES];
  for (int t = 0; t < MAXTYPES; t++) tmap[t] = -1;
  for (int t = 0; t < nosym; t++)
    if ((st = kiln_atoms_species_index(a, osym[t], &tmap[t], err))) goto done;
  for (size_t j = 0; j < n; j++) {
    size_t i = ord[j].i;
    const double *row = &val[i * (size_t)ncol];
    if (j > 0 && ord[j].id == ord[j - 1].id && have[C_ID][0]) {
      st = kilni_ferr(err, r, "ATOMS: atom id %lld appears twice", (long long)ord[j].id);
      goto done;
    }
    a->id[j] = ord[j].id;
    int t = have[C_TYPE][0] ? (int)row[icol[C_TYPE][0]] - 1 : 0;
    if (have[C_ELEM][0]) {
      if ((st = kilni_set_species(a, j, elem[i], err))) goto done;
    } else {
      if (tmap[t] < 0) {
        if (nosym) {
          st = kilni_ferr(err, r, "type %d has no symbol: option 'symbols' names %d types", t + 1, nosym);
          goto done;
        }
        double m = row[icol[C_MASS][0]];
        int z = kilni_element_from_mass(m, 0.1);
        if (!z) {
          st = kilni_ferr(err, r, "type %d has mass %g, which matches no element within 0.1 amu; give symbols={...}",
                          t + 1, m);
          goto done;
        }
        strcpy(tsym[t], kiln_element_symbol(z));
        if ((st = kiln_atoms_species_index(a, tsym[t], &tmap[t], err))) goto done;
      }
      a->type[j] = tmap[t];
      int z = kiln_element_z(a->species[tmap[t]]);
      a->mass[j] = z ? kiln_element_mass(z) : 0.0;
    }
    if (have[C_MASS][0]) a->mass[j] = row[icol[C_MASS][0]];
    double x[3];
    for (int d = 0; d < 3; d++) x[d] = row[icol[ck][d]];
    if (ck == C_XS || ck == C_XSU) kilni_vecmat(x, cell, a->x[j]);
    else
      for (int d = 0; d < 3; d++) a->x[j][d] = x[d] - ds->lo[d];
    if (unwrap)
      for (int d = 0; d < 3; d++)
        a->x[j][d] += row[icol[C_IX][0]] * cell[0][d] + row[icol[C_IX][1]] * cell[1][d] +
                      row[icol[C_IX][2]] * cell[2][d];
    for (int d = 0; d < 3; d++) {
      if (hasv) a->v[j][d] = row[icol[C_V][d]] * vfac;
      if (hasf) a->f[j][d] = row[icol[C_F][d]] * ffac;
    }
  }
  /* remaining columns as props */
  if (nprop) {
    double *pv = malloc((n ? n : 1) * sizeof *pv);
    if (!pv) { st = KILN_FAIL(err, KILN_ENOMEM, "out of memory"); goto done; }
    for (int k = 0; k < ncol && !st; k++) {
      if (col[k].kind != C_PROP) continue;
      for (size_t j = 0; j < n; j++) pv[j] = val[ord[j].i * (size_t)ncol + (size_t)k];
      st = kiln_atoms_prop_set(a, cname[k], KILN_VAL_REAL, 1, pv, err);
    }
    free(pv);
    if (st) goto done;
  }
  if (ds->have_step) {
    double sv = (double)ds->step;
    if ((st = kiln_atoms_info_set(a, "step", KILN_VAL_INT, 1, &sv, err))) goto done;
  }
  if (ds->have_time) {
    double tv = ds->time * tfac;
    if ((st = kiln_atoms_info_set(a, "time", KILN_VAL_REAL, 1, &tv, err))) goto done;
  }
done:
  free(cname);
  free(col);
  free(tok);
  free(val);
  free(elem);
  free(ord);
  return kilni_read_done(a, out, st);
}

/* Expect one more line holding a value after an ITEM line. */
static kiln_status item_value(kilni_reader *r, const char *item, kiln_error *err) {
  int got = kilni_reader_next(r, err);
  if (got < 0) return r->st;
  if (got == 0) return kilni_ferr(err, r, "ITEM: %s: file ends before its value", item);
  return KILN_OK;
}

static kiln_status read_box(kilni_reader *r, dstate *ds, char *rest, kiln_error *err) {
  char *tok[8];
  int nt = kilni_split(rest, tok, 8);
  int tri = nt >= 3 && !strcmp(tok[0], "xy") && !strcmp(tok[1], "xz") && !strcmp(tok[2], "yz");
  int off = tri ? 3 : 0;
  for (int d = 0; d < 3; d++) ds->pbc[d] = nt - off == 3 ? !strcmp(tok[off + d], "pp") : 1;
  double b[3][3] = {{0}};
  for (int d = 0; d < 3; d++) {
    kiln_status st = item_value(r, "BOX BOUNDS", err);
    if (st) return st;
    int m = kilni_split(r->line, tok, 4), want = tri ? 3 : 2;
    if (m != want) return kilni_ferr(err, r, "BOX BOUNDS: expected %d numbers (got %d)", want, m);
    for (int k = 0; k < want; k++)
      if (!kilni_parse_real(tok[k], &b[d][k]))
        return kilni_ferr(err, r, "BOX BOUNDS: expected a real number (got '%.100s')", tok[k]);
  }
  double xy = b[0][2], xz = b[1][2], yz = b[2][2];
  /* bounding box -> box: LAMMPS writes lo/hi of the bounding box for triclinic */
  double xmin = fmin(fmin(0.0, xy), fmin(xz, xy + xz)), xmax = fmax(fmax(0.0, xy), fmax(xz, xy + xz));
  ds->lo[0] = b[0][0] - (tri ? xmin : 0.0);
  ds->hi[0] = b[0][1] - (tri ? xmax : 0.0);
  ds->lo[1] = b[1][0] - (tri ? fmin(0.0, yz) : 0.0);
  ds->hi[1] = b[1][1] - (tri ? fmax(0.0, yz) : 0.0);
  ds->lo[2] = b[2][0];
  ds->hi[2] = b[2][1];
  ds->tilt[0] = tri ? xy : 0.0;
  ds->tilt[1] = tri ? xz : 0.0;
  ds->tilt[2] = tri ? yz : 0.0;
  ds->have_box = 1;
  return KILN_OK;
}

kiln_status kiln_lammps_dump_read(const char *file, const kiln_opts *o, kiln_atoms ***frames,
                                  size_t *nframes, kiln_error *err) {
  const char *what = "lammps-dump read";
  *frames = NULL;
  *nframes = 0;
  char osym[MAXTYPES][KILN_SYMBOL_LEN];
  int nosym, has_index;
  long index;
  double vfac, ffac, tfac;
  kiln_status st = kilni_opt_symbols(o, what, osym, MAXTYPES, &nosym, err);
  if (!st) st = kilni_opt_lammps_units(o, what, &vfac, &ffac, &tfac, err);
  if (!st) st = kilni_opt_index(o, what, &has_index, &index, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (st) return st;
  kilni_reader r;
  if ((st = kilni_reader_open(&r, file, err))) return st;
  kilni_frames fr = {0};
  size_t target = 0, count = 0;
  int got;
  if (has_index && index < 0) {
    while ((got = kilni_reader_next(&r, err)) == 1) count += strncmp(r.line, "ITEM: ATOMS", 11) == 0;
    if (got < 0) { st = r.st; goto done; }
    if ((st = kilni_resolve_index(index, count, file, &target, err))) goto done;
    if ((st = kilni_reader_rewind(&r, err))) goto done;
  } else if (has_index) {
    target = (size_t)index;
  }
  dstate ds;
  memset(&ds, 0, sizeof ds);
  size_t k = 0;
  while ((got = kilni_reader_next(&r, err)) == 1) {
    if (blank(r.line)) continue;
    if (strncmp(r.line, "ITEM:", 5) != 0) { st = kilni_ferr(err, &r, "expected an ITEM: line (got '%.100s')", r.line); goto done; }
    char *item = r.line + 5;
    while (*item == ' ') item++;
    if (!strncmp(item, "TIMESTEP", 8)) {
      if ((st = item_value(&r, "TIMESTEP", err))) goto done;
      char *tok[2];
      if (kilni_split(r.line, tok, 2) != 1 || !kilni_parse_long(tok[0], &ds.step)) {
        st = kilni_ferr(err, &r, "TIMESTEP: expected an integer (got '%.100s')", r.line);
        goto done;
      }
      ds.have_step = 1;
    } else if (!strncmp(item, "TIME", 4)) {
      if ((st = item_value(&r, "TIME", err))) goto done;
      char *tok[2];
      if (kilni_split(r.line, tok, 2) != 1 || !kilni_parse_real(tok[0], &ds.time)) {
        st = kilni_ferr(err, &r, "TIME: expected a real number (got '%.100s')", r.line);
        goto done;
      }
      ds.have_time = 1;
    } else if (!strncmp(item, "UNITS", 5)) {
      if ((st = item_value(&r, "UNITS", err))) goto done;
    } else if (!strncmp(item, "NUMBER OF ATOMS", 15)) {
      if ((st = item_value(&r, "NUMBER OF ATOMS", err))) goto done;
      char *tok[2];
      if (kilni_split(r.line, tok, 2) != 1 || !kilni_parse_long(tok[0], &ds.natoms) || ds.natoms < 0) {
        st = kilni_ferr(err, &r, "NUMBER OF ATOMS: expected a count (got '%.100s')", r.line);
        goto done;
      }
      ds.have_natoms = 1;
    } else if (!strncmp(item, "BOX BOUNDS", 10)) {
      if ((st = read_box(&r, &ds, item + 10, err))) goto done;
    } else if (!strncmp(item, "ATOMS", 5)) {
      if (!ds.have_natoms || !ds.have_box) {
        st = kilni_ferr(err, &r, "ITEM: ATOMS before NUMBER OF ATOMS and BOX BOUNDS");
        goto done;
      }
      if (has_index && k < target) {
        for (long long i = 0; i < ds.natoms; i++) {
          got = kilni_reader_next(&r, err);
          if (got < 0) { st = r.st; goto done; }
          if (got == 0) { st = kilni_ferr(err, &r, "expected %lld atom lines, file ends after %lld", ds.natoms, i); goto done; }
        }
      } else {
        char header[4096];
        snprintf(header, sizeof header, "%s", item + 5);
        kiln_atoms *a;
        if ((st = dump_atoms(&r, &ds, header, osym, nosym, vfac, ffac, tfac, &a, err))) goto done;
        if ((st = kilni_frames_push(&fr, a, err))) goto done;
      }
      k++;
      memset(&ds, 0, sizeof ds);
      if (has_index && fr.n) break;
    } else {
      st = kilni_ferr(err, &r, "unknown item '%.100s'", item);
      goto done;
    }
  }
  if (got < 0) { st = r.st; goto done; }
  if (has_index && fr.n == 0) { st = kilni_resolve_index(index, k, file, &target, err); goto done; }
  if (fr.n == 0) st = KILN_FAIL(err, KILN_EFORMAT, "%s: no frames (no ITEM: ATOMS)", file);
done:
  kilni_reader_close(&r);
  if (st) {
    kilni_frames_free(&fr);
    return st;
  }
  *frames = fr.a;
  *nframes = fr.n;
  return KILN_OK;
}
