/* src/io/frames.c: kiln_frames, frame by frame reading of trajectory files (one frame
 * in memory). lammps-dump goes to the fast streaming parser (dump_fast.c), extxyz
 * to the XYZ frame parser one frame at a time, h5md to kiln_traj_read, and the
 * single-structure formats to kiln_io_read. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "io/io_internal.h"

typedef enum { FR_XYZ, FR_DUMP, FR_H5MD, FR_ONE } fr_kind;

struct kiln_frames {
  fr_kind kind;
  char *file;
  long index;          /* frames returned so far */
  long count;          /* -1 unknown */
  kilni_dump *dump;
  kilni_reader xyz;
  int xyz_open;
  kiln_traj *traj;
  kiln_atoms *one;     /* FR_ONE: the structure until returned */
  kiln_atoms *last;    /* the atoms handed out (FR_XYZ, FR_H5MD, FR_ONE) */
};

static kiln_status resolve(const char *file, const char *format, const kiln_opts *o, fr_kind *k,
                           const char **name, kiln_error *err) {
  kiln_opts *of = kiln_opts_get(o, "format");
  if (!format && of && of->kind == KILN_OPT_STR) format = of->str;
  if (!file) return KILN_FAIL(err, KILN_EINVAL, "file name is NULL");
  if (!format && !(format = kiln_io_guess_format(file)))
    return KILN_FAIL(err, KILN_EINVAL,
                     "cannot tell the format of '%s' from its name; give format= (extxyz, "
                     "lammps-data, lammps-dump, vasp, h5md)", file);
  *name = format;
  if (!strcmp(format, "extxyz") || !strcmp(format, "xyz")) *k = FR_XYZ;
  else if (!strcmp(format, "lammps-dump")) *k = FR_DUMP;
  else if (!strcmp(format, "h5md")) *k = FR_H5MD;
  else if (!strcmp(format, "lammps-data") || !strcmp(format, "vasp") || !strcmp(format, "poscar")) *k = FR_ONE;
  else
    return KILN_FAIL(err, KILN_EINVAL,
                     "unknown format '%s' (expected extxyz, lammps-data, lammps-dump, vasp, h5md)", format);
  return KILN_OK;
}

void kiln_frames_close(kiln_frames *r) {
  if (!r) return;
  kilni_dump_close(r->dump);
  if (r->xyz_open) kilni_reader_close(&r->xyz);
  if (r->traj) kiln_traj_close(r->traj, NULL);
  kiln_atoms_free(r->one);
  free(r->file);
  free(r);
}

kiln_status kiln_frames_open(kiln_frames **out, const char *file, const char *format,
                             const kiln_opts *o, kiln_error *err) {
  *out = NULL;
  fr_kind kind = FR_ONE;
  const char *fname = NULL;
  kiln_status st = resolve(file, format, o, &kind, &fname, err);
  if (st) return st;
  if (kiln_opts_get(o, "index"))
    return KILN_FAIL(err, KILN_EINVAL, "reading frames of '%s': option 'index' is not for frame by frame reading "
                     "(use start/stop, or kiln_io_read)", file);
  kiln_frames *r = calloc(1, sizeof *r);
  if (!r || !(r->file = strdup(file))) {
    free(r);
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  }
  r->kind = kind;
  r->count = -1;
  switch (kind) {
  case FR_DUMP: st = kilni_dump_open(&r->dump, file, o, err); break;
  case FR_XYZ:
    if (!(st = kiln_opts_check_unused(o, "extxyz read", err)) && !(st = kilni_reader_open(&r->xyz, file, err)))
      r->xyz_open = 1;
    break;
  case FR_H5MD: {
    size_t n = 0;
    if ((st = kiln_opts_check_unused(o, "h5md read", err))) break;
    if ((st = kiln_traj_open(&r->traj, file, "r", err))) break;
    if ((st = kiln_traj_nframes(r->traj, &n, err))) break;
    r->count = (long)n;
    break;
  }
  case FR_ONE: {
    kiln_atoms **fr = NULL;
    size_t n = 0;
    if ((st = kiln_io_read(file, fname, o, &fr, &n, err))) break;
    r->one = fr[0];
    for (size_t k = 1; k < n; k++) kiln_atoms_free(fr[k]);
    free(fr);
    r->count = 1;
    break;
  }
  }
  if (st) {
    kiln_frames_close(r);
    return st;
  }
  *out = r;
  return KILN_OK;
}

long kiln_frames_count(kiln_frames *r) { return r ? r->count : -1; }
long kiln_frames_index(const kiln_frames *r) { return r ? r->index : 0; }

/* Put the contents of src into dst (same pointer for the caller), free src. */
static void move_into(kiln_atoms *dst, kiln_atoms *src) {
  unsigned gen = dst->generation;
  kiln_atoms tmp = *dst;
  *dst = *src;
  *src = tmp;
  dst->generation = gen + 1u;
  kiln_atoms_free(src);
}

static int info_num(const kiln_atoms *a, const char *name, double *v) {
  const kiln_info *in = kiln_atoms_info_get(a, name);
  if (!in || in->kind == KILN_VAL_STR || in->count != 1) return 0;
  *v = in->val[0];
  return 1;
}

kiln_status kiln_frames_next(kiln_frames *r, kiln_atoms **a, long *step, double *time, int *got,
                             kiln_error *err) {
  *got = 0;
  if (step) *step = 0;
  if (time) *time = (double)NAN;
  if (!r || !a) return KILN_FAIL(err, KILN_EINVAL, "reading frames: NULL argument");
  kiln_status st = KILN_OK;
  if (r->kind == FR_DUMP) {
    if ((st = kilni_dump_next(r->dump, a, step, time, got, err))) return st;
    if (*got) r->index++;
    return KILN_OK;
  }
  if (*a && *a != r->last)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: reading frames: the atoms passed in must be NULL or the ones of the previous frame", r->file);
  kiln_atoms *fr = NULL;
  long s = r->index;
  double t = (double)NAN, v;
  switch (r->kind) {
  case FR_XYZ: {
    int g = 0;
    if ((st = kilni_xyz_next(&r->xyz, &fr, &g, err))) return st;
    if (!g) {
      if (r->index == 0) return KILN_FAIL(err, KILN_EFORMAT, "%s: no frames (empty file)", r->file);
      return KILN_OK;
    }
    if (info_num(fr, "step", &v)) s = (long)v;
    if (info_num(fr, "time", &v)) t = v;
    break;
  }
  case FR_H5MD: {
    if (r->index >= r->count) {
      if (r->count == 0) return KILN_FAIL(err, KILN_EFORMAT, "%s: no frames", r->file);
      return KILN_OK;
    }
    if ((st = kiln_traj_read(r->traj, r->index, &fr, &s, &t, err))) return st;
    double sv = (double)s;
    if ((st = kiln_atoms_info_set(fr, "step", KILN_VAL_INT, 1, &sv, err)) ||
        (st = kiln_atoms_info_set(fr, "time", KILN_VAL_REAL, 1, &t, err))) {
      kiln_atoms_free(fr);
      return st;
    }
    break;
  }
  case FR_ONE:
    if (!r->one) return KILN_OK;
    fr = r->one;
    r->one = NULL;
    if (info_num(fr, "step", &v)) s = (long)v;
    if (info_num(fr, "time", &v)) t = v;
    break;
  default: return KILN_FAIL(err, KILN_EINVAL, "reading frames: bad reader");
  }
  if (*a) move_into(*a, fr);
  else *a = fr;
  r->last = *a;
  r->index++;
  if (step) *step = s;
  if (time) *time = t;
  *got = 1;
  return KILN_OK;
}
