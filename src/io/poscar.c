/* src/io/poscar.c: VASP 5 POSCAR / CONTCAR.
 *
 * Reading: comment; scale (one number; negative = target volume in Å^3; or three
 * numbers scaling the x, y, z components); three lattice vectors (rows); the
 * symbols line (required unless option symbols={...}; "Si_pv" or "Si/abc" reduce to
 * "Si"); counts; optional "Selective dynamics"; "Direct" or "Cartesian" (C/K first
 * letter; Cartesian coordinates are scaled too); positions (selective flags become
 * the BOOL prop "selective_dynamics", 3 columns, 1 = free). An optional velocity
 * block follows (a blank or "Cartesian"/"Direct" line, then one line per atom, Å/fs);
 * a lattice-velocities block (MD with a moving cell) is ignored. pbc is T T T.
 *
 * Writing: comment = info "comment" or the formula; scale 1; symbols and counts
 * in runs of consecutive atoms of one species (atom order is kept; a species can
 * appear in several runs); Cartesian positions unless option direct=true; selective
 * flags from the "selective_dynamics" prop; velocities (Cartesian) if any nonzero. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "io/io_internal.h"

#define MAXGROUPS 1024

static kiln_status next_line(kilni_reader *r, const char *what, kiln_error *err) {
  int got = kilni_reader_next(r, err);
  if (got < 0) return r->st;
  if (got == 0) return kilni_ferr(err, r, "file ends before %s", what);
  return KILN_OK;
}

static kiln_status read_numbers(kilni_reader *r, const char *field, int n, double *v, char **tok,
                                int maxtok, int *ntok, kiln_error *err) {
  int nt = kilni_split(r->line, tok, maxtok);
  if (ntok) *ntok = nt;
  if (nt < n) return kilni_ferr(err, r, "%s: expected %d numbers (got %d)", field, n, nt);
  for (int k = 0; k < n; k++)
    if (!kilni_parse_real(tok[k], &v[k]))
      return kilni_ferr(err, r, "field '%s' (column %d): expected a real number (got '%.100s')", field, k + 1,
                        tok[k]);
  return KILN_OK;
}

static int first_char(const char *s) {
  while (*s && isspace((unsigned char)*s)) s++;
  return (unsigned char)*s;
}

kiln_status kiln_poscar_read(const char *file, const kiln_opts *o, kiln_atoms **out,
                             kiln_error *err) {
  const char *what = "vasp read";
  *out = NULL;
  char osym[MAXGROUPS][KILN_SYMBOL_LEN];
  int nosym, has_index;
  long index;
  kiln_status st = kilni_opt_symbols(o, what, osym, MAXGROUPS, &nosym, err);
  if (!st) st = kilni_opt_index(o, what, &has_index, &index, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (st) return st;
  if (has_index && index != 0 && index != -1)
    return KILN_FAIL(err, KILN_ERANGE, "index %ld is out of range: '%s' has 1 frame", index, file);

  kilni_reader r;
  if ((st = kilni_reader_open(&r, file, err))) return st;
  kiln_atoms *a = NULL;
  double *flags = NULL;
  char *tok[MAXGROUPS + 8];
  char sym[MAXGROUPS][KILN_SYMBOL_LEN];
  long long cnt[MAXGROUPS];
  int ngroups = 0;
  if ((st = next_line(&r, "the comment line", err))) goto done;
  if ((st = next_line(&r, "the scale factor", err))) goto done;
  double scale[3];
  int nt = kilni_split(r.line, tok, 4);
  if (nt != 1 && nt != 3) { st = kilni_ferr(err, &r, "scale: expected 1 or 3 numbers (got %d)", nt); goto done; }
  for (int k = 0; k < nt; k++)
    if (!kilni_parse_real(tok[k], &scale[k]) || scale[k] == 0.0) {
      st = kilni_ferr(err, &r, "scale: expected a nonzero real number (got '%.100s')", tok[k]);
      goto done;
    }
  double cell[3][3];
  for (int i = 0; i < 3; i++) {
    if ((st = next_line(&r, "the lattice vectors", err))) goto done;
    if ((st = read_numbers(&r, "lattice", 3, cell[i], tok, 8, NULL, err))) goto done;
  }
  if (nt == 1) {
    double s = scale[0];
    if (s < 0) {
      double v = fabs(kilni_det3(cell));
      if (!(v > 0)) { st = kilni_ferr_at(err, file, 2, "scale: negative (a volume) but the lattice has zero volume"); goto done; }
      s = cbrt(-s / v);
    }
    scale[0] = scale[1] = scale[2] = s;
  } else {
    for (int k = 0; k < 3; k++)
      if (scale[k] < 0) { st = kilni_ferr_at(err, file, 2, "scale: three factors must be positive"); goto done; }
  }
  for (int i = 0; i < 3; i++)
    for (int d = 0; d < 3; d++) cell[i][d] *= scale[d];

  /* symbols (VASP 5) or counts (VASP 4) */
  if ((st = next_line(&r, "the symbols line", err))) goto done;
  char line6[4096];
  snprintf(line6, sizeof line6, "%s", r.line);
  long line6no = r.lineno;
  nt = kilni_split(line6, tok, MAXGROUPS + 1);
  long long tmp;
  int vasp4 = nt > 0 && kilni_parse_long(tok[0], &tmp);
  if (nt == 0 || nt > MAXGROUPS) { st = kilni_ferr(err, &r, "symbols: expected 1..%d symbols (got %d)", MAXGROUPS, nt); goto done; }
  if (!vasp4) {
    ngroups = nt;
    for (int k = 0; k < nt; k++) {
      char s[64];
      snprintf(s, sizeof s, "%s", tok[k]);
      s[strcspn(s, "_/")] = 0;
      if (!kiln_element_z(s) && !nosym) {
        st = kilni_ferr(err, &r, "field 'symbols' (column %d): unknown element symbol (got '%.100s')", k + 1, tok[k]);
        goto done;
      }
      size_t ls = strlen(s);
      if (ls >= KILN_SYMBOL_LEN) ls = KILN_SYMBOL_LEN - 1;
      memcpy(sym[k], s, ls);
      sym[k][ls] = 0;
    }
    if ((st = next_line(&r, "the counts line", err))) goto done;
    nt = kilni_split(r.line, tok, MAXGROUPS + 1);
  } else {
    ngroups = nt;
    if (!nosym) {
      st = kilni_ferr_at(err, file, line6no,
                         "symbols line missing (VASP 4 format: counts on line 6); give symbols={...}");
      goto done;
    }
  }
  if (nt != ngroups) {
    st = kilni_ferr(err, &r, "counts: expected %d numbers, one per symbol (got %d)", ngroups, nt);
    goto done;
  }
  long long natoms = 0;
  for (int k = 0; k < nt; k++) {
    if (!kilni_parse_long(tok[k], &cnt[k]) || cnt[k] < 0) {
      st = kilni_ferr(err, &r, "field 'counts' (column %d): expected a non-negative integer (got '%.100s')", k + 1, tok[k]);
      goto done;
    }
    natoms += cnt[k];
  }
  if (nosym) {
    if (nosym != ngroups) {
      st = KILN_FAIL(err, KILN_EINVAL, "%s: option 'symbols' has %d symbols but the file has %d groups", file,
                     nosym, ngroups);
      goto done;
    }
    for (int k = 0; k < ngroups; k++) strcpy(sym[k], osym[k]);
  }

  if ((st = next_line(&r, "the coordinate mode", err))) goto done;
  int selective = 0;
  if (tolower(first_char(r.line)) == 's') {
    selective = 1;
    if ((st = next_line(&r, "the coordinate mode", err))) goto done;
  }
  int c0 = tolower(first_char(r.line));
  int cart = c0 == 'c' || c0 == 'k';
  if ((st = kiln_atoms_new(&a, (size_t)natoms, err))) goto done;
  memcpy(a->cell, cell, sizeof cell);
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  if (selective && !(flags = malloc(((size_t)natoms + 1) * 3 * sizeof *flags))) {
    st = KILN_FAIL(err, KILN_ENOMEM, "out of memory");
    goto done;
  }
  size_t i = 0;
  for (int g = 0; g < ngroups; g++)
    for (long long j = 0; j < cnt[g]; j++, i++) {
      if ((st = kilni_set_species(a, i, sym[g], err))) goto done;
      if (!kiln_element_z(sym[g])) {
        st = KILN_FAIL(err, KILN_EINVAL, "%s: '%s' is not an element symbol", file, sym[g]);
        goto done;
      }
      int got = kilni_reader_next(&r, err);
      if (got < 0) { st = r.st; goto done; }
      if (got == 0) { st = kilni_ferr(err, &r, "expected %lld atom lines, file ends after %zu", natoms, i); goto done; }
      double p[3];
      int np;
      if ((st = read_numbers(&r, "position", 3, p, tok, 8, &np, err))) goto done;
      if (selective) {
        for (int d = 0; d < 3; d++) {
          int b;
          const char *f = 3 + d < np ? tok[3 + d] : NULL;
          if (!f || !kilni_parse_bool(f, &b)) {
            st = kilni_ferr(err, &r, "field 'selective' (column %d): expected T or F (got '%.100s')", 4 + d,
                            f ? f : "");
            goto done;
          }
          flags[3 * i + (size_t)d] = b;
        }
      }
      if (cart)
        for (int d = 0; d < 3; d++) a->x[i][d] = p[d] * scale[d];
      else
        kilni_vecmat(p, cell, a->x[i]);
    }
  /* optional velocities */
  int got = kilni_reader_next(&r, err);
  if (got < 0) { st = r.st; goto done; }
  if (got == 1) {
    int c = tolower(first_char(r.line));
    if (c == 0 || c == 'c' || c == 'k' || c == 'd') {
      int vdirect = c == 'd';
      for (size_t k = 0; k < (size_t)natoms; k++) {
        got = kilni_reader_next(&r, err);
        if (got < 0) { st = r.st; goto done; }
        if (got == 0 || (k == 0 && first_char(r.line) == 0)) {
          if (k == 0) break; /* no velocities */
          st = kilni_ferr(err, &r, "velocities: expected %lld lines, file ends after %zu", natoms, k);
          goto done;
        }
        if (k == 0 && tolower(first_char(r.line)) == 'l') break; /* lattice velocities */
        double v[3];
        if ((st = read_numbers(&r, "velocity", 3, v, tok, 8, NULL, err))) goto done;
        if (vdirect) kilni_vecmat(v, cell, a->v[k]);
        else memcpy(a->v[k], v, sizeof v);
      }
    }
  }
  if (selective) st = kiln_atoms_prop_set(a, "selective_dynamics", KILN_VAL_BOOL, 3, flags, err);
done:
  kilni_reader_close(&r);
  free(flags);
  return kilni_read_done(a, out, st);
}

kiln_status kiln_poscar_write(const char *file, const kiln_opts *o, const kiln_atoms *a,
                              kiln_error *err) {
  const char *what = "vasp write";
  int direct;
  kiln_status st = kiln_opts_bool(o, what, "direct", 1, 0, &direct, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (st) return st;
  if (!a) return KILN_FAIL(err, KILN_EINVAL, "writing '%s': atoms is NULL", file);
  size_t n = a->n;
  for (size_t i = 0; i < n; i++)
    if (a->type[i] < 0 || a->type[i] >= a->nspecies)
      return KILN_FAIL(err, KILN_EINVAL, "writing '%s': atom %zu has type %d but there are %d species", file,
                       i + 1, (int)a->type[i], a->nspecies);
  double inv[3][3];
  if (direct && (st = kiln_cell_inverse(a->cell, inv, err))) return st;
  if (!(fabs(kilni_det3(a->cell)) > 0))
    return KILN_FAIL(err, KILN_EINVAL, "writing '%s': POSCAR needs a cell with nonzero volume", file);
  const kiln_prop *sel = kiln_atoms_prop_get(a, "selective_dynamics");
  if (sel && (sel->kind == KILN_VAL_STR || sel->ncols != 3))
    return KILN_FAIL(err, KILN_EINVAL, "writing '%s': prop 'selective_dynamics' must be 3 boolean columns", file);
  const int vel = kilni_nonzero3((const double (*)[3])a->v, n);

  kilni_writer w;
  if ((st = kilni_writer_open(&w, file, 0, err))) return st;
  FILE *fp = w.fp;
  char b0[40], b1[40], b2[40];
  const kiln_info *cm = kiln_atoms_info_get(a, "comment");
  if (cm && cm->kind == KILN_VAL_STR && cm->str && !strchr(cm->str, '\n')) {
    fprintf(fp, "%s\n", cm->str);
  } else { /* formula in order of first appearance */
    for (int t = 0; t < a->nspecies; t++) {
      size_t c = 0;
      for (size_t i = 0; i < n; i++) c += a->type[i] == t;
      if (c) fprintf(fp, "%s%zu", a->species[t], c);
    }
    fputc('\n', fp);
  }
  fputs("1.0\n", fp);
  for (int i = 0; i < 3; i++)
    fprintf(fp, " %s %s %s\n", kilni_fmt_real(b0, a->cell[i][0]), kilni_fmt_real(b1, a->cell[i][1]),
            kilni_fmt_real(b2, a->cell[i][2]));
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && a->type[j] == a->type[i]) j++;
    fprintf(fp, " %s", a->species[a->type[i]]);
    i = j;
  }
  fputc('\n', fp);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && a->type[j] == a->type[i]) j++;
    fprintf(fp, " %zu", j - i);
    i = j;
  }
  fputc('\n', fp);
  if (sel) fputs("Selective dynamics\n", fp);
  fputs(direct ? "Direct\n" : "Cartesian\n", fp);
  for (size_t i = 0; i < n; i++) {
    double p[3];
    if (direct) kilni_vecmat(a->x[i], inv, p);
    else memcpy(p, a->x[i], sizeof p);
    fprintf(fp, " %s %s %s", kilni_fmt_real(b0, p[0]), kilni_fmt_real(b1, p[1]), kilni_fmt_real(b2, p[2]));
    if (sel)
      for (int d = 0; d < 3; d++) fprintf(fp, " %c", sel->val[3 * i + (size_t)d] != 0.0 ? 'T' : 'F');
    fputc('\n', fp);
  }
  if (vel) {
    fputs("\n", fp); /* a blank line opens Cartesian velocities, as VASP writes CONTCAR */
    for (size_t i = 0; i < n; i++)
      fprintf(fp, " %s %s %s\n", kilni_fmt_real(b0, a->v[i][0]), kilni_fmt_real(b1, a->v[i][1]),
              kilni_fmt_real(b2, a->v[i][2]));
  }
  return kilni_writer_commit(&w, err);
}
