/* src/io/h5md.c: H5MD 1.1 trajectories (the only io file that calls HDF5).
 *
 * Layout written:
 *   /h5md                     @version = [1, 1]
 *   /h5md/author              @name
 *   /h5md/creator             @name = "kiln", @version = KILN_VERSION
 *   /particles/all/box        @dimension = 3, @boundary = ["periodic"|"none"] x 3
 *   /particles/all/box/edges/{step (int64, n), time (double, n), value (double, n x 3 x 3)}
 *   /particles/all/{position,velocity,force}/{step, time, value (n x N x 3)}  (as asked)
 *   /particles/all/species    int32 (N), @symbols = symbol table (fixed strings)
 *   /particles/all/mass       double (N), amu
 *   /particles/all/id         int64 (N)
 * value datasets are chunked along frames (a few frames per chunk), shuffled and
 * deflate-compressed (level 4), and extensible. Units (attribute "unit"): angstrom,
 * angstrom fs-1, eV angstrom-1, fs, amu. The file is flushed after every append, and
 * the box is written last, so a reader that opens the file sees complete frames
 * (the frame count is that of box/edges). Readers open without HDF5 file locking so
 * they can read while the writer still has the file open. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/io_internal.h"
#include "kiln/kiln.h"

struct kiln_traj {
  hid_t file;
  char *path;
  int writable;
  int laid_out;     /* particles group exists */
  unsigned what;    /* KILN_TRAJ_* present */
  size_t natoms;
  int32_t *types;   /* species of the first frame (append checks) */
  int nspecies;
  char species[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
};

#define GRP_ALL "/particles/all"
static const char *tdnames[3] = {"position", "velocity", "force"};
static const char *tdunits[3] = {"angstrom", "angstrom fs-1", "eV angstrom-1"};

/* ------------------------------------------------------------ errors */

typedef struct walk_ud { char msg[200]; int done; } walk_ud;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *ud) {
  walk_ud *w = ud;
  if (!w->done && e->desc && e->desc[0]) {
    snprintf(w->msg, sizeof w->msg, "%s", e->desc);
    w->done = 1;
  }
  (void)n;
  return 0;
}

/* KILN_EEXTERNAL "file: <action> '<object>' failed: <innermost HDF5 message>" */
static kiln_status h5err(kiln_error *err, const char *file, const char *action, const char *obj) {
  walk_ud w = {"", 0};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
  H5Eclear2(H5E_DEFAULT);
  return KILN_FAIL(err, KILN_EEXTERNAL, "%s: %s '%s' failed%s%s", file, action, obj, w.msg[0] ? ": " : "",
                   w.msg);
}

static void quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* ------------------------------------------------------------ small helpers */

static int exists(hid_t loc, const char *path) {
  /* check each component so missing parents are not errors */
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || !*p) {
      char c = *p;
      *p = 0;
      if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) return 0;
      if (!c) return 1;
      *p = c;
    }
  }
}

static kiln_status attr_write(hid_t obj, const char *name, hid_t type, hid_t space, const void *data,
                              const char *file, kiln_error *err) {
  hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return h5err(err, file, "create attribute", name);
  herr_t h = H5Awrite(a, type, data);
  H5Aclose(a);
  if (h < 0) return h5err(err, file, "write attribute", name);
  return KILN_OK;
}

static kiln_status attr_str(hid_t obj, const char *name, const char *s, const char *file, kiln_error *err) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(s) + 1);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  hid_t sp = H5Screate(H5S_SCALAR);
  kiln_status st = attr_write(obj, name, t, sp, s, file, err);
  H5Sclose(sp);
  H5Tclose(t);
  return st;
}

/* array of fixed-size strings (width w) */
static kiln_status attr_strs(hid_t obj, const char *name, const char *data, size_t count, size_t w,
                             const char *file, kiln_error *err) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, w);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  hsize_t d = count;
  hid_t sp = H5Screate_simple(1, &d, NULL);
  kiln_status st = attr_write(obj, name, t, sp, data, file, err);
  H5Sclose(sp);
  H5Tclose(t);
  return st;
}

static kiln_status attr_ints(hid_t obj, const char *name, const int *v, size_t count, const char *file,
                             kiln_error *err) {
  hsize_t d = count;
  hid_t sp = count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &d, NULL);
  kiln_status st = attr_write(obj, name, H5T_NATIVE_INT, sp, v, file, err);
  H5Sclose(sp);
  return st;
}

/* Read an attribute of fixed strings into out[count][w] (w bytes each). */
static kiln_status attr_read_strs(hid_t obj, const char *name, char *out, size_t max, size_t w, size_t *count,
                                  const char *file, kiln_error *err) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return h5err(err, file, "open attribute", name);
  hid_t sp = H5Aget_space(a);
  hssize_t n = H5Sget_simple_extent_npoints(sp);
  H5Sclose(sp);
  kiln_status st = KILN_OK;
  if (n < 1 || (size_t)n > max) {
    st = KILN_FAIL(err, KILN_EFORMAT, "%s: attribute '%s' has %lld entries (expected 1..%zu)", file, name,
                   (long long)n, max);
  } else {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, w);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    if (H5Aread(a, t, out) < 0) st = h5err(err, file, "read attribute", name);
    H5Tclose(t);
    *count = (size_t)n;
  }
  H5Aclose(a);
  return st;
}

/* Extensible dataset: dims (0, inner...), chunked along frames. */
static kiln_status make_td(hid_t grp, const char *name, hid_t type, int rank, const hsize_t *inner,
                           const char *unit, const char *file, kiln_error *err) {
  hsize_t dims[3] = {0, 0, 0}, maxd[3] = {H5S_UNLIMITED, 0, 0}, chunk[3] = {1, 1, 1};
  size_t per = 1;
  for (int k = 1; k < rank; k++) {
    dims[k] = maxd[k] = chunk[k] = inner[k - 1];
    per *= inner[k - 1];
  }
  size_t fpc = 65536 / (per * 8);
  chunk[0] = fpc < 1 ? 1 : fpc > 16 ? 16 : fpc;
  hid_t sp = H5Screate_simple(rank, dims, maxd);
  hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(pl, rank, chunk);
  if (rank > 1 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
    H5Pset_shuffle(pl);
    H5Pset_deflate(pl, 4);
  }
  hid_t ds = H5Dcreate2(grp, name, type, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
  H5Pclose(pl);
  H5Sclose(sp);
  if (ds < 0) return h5err(err, file, "create dataset", name);
  kiln_status st = unit ? attr_str(ds, "unit", unit, file, err) : KILN_OK;
  H5Dclose(ds);
  return st;
}

/* Create group name with step/time/value. */
static kiln_status make_tgroup(hid_t parent, const char *name, int rank, const hsize_t *inner,
                               const char *unit, const char *file, kiln_error *err) {
  hid_t g = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) return h5err(err, file, "create group", name);
  kiln_status st = make_td(g, "step", H5T_STD_I64LE, 1, NULL, NULL, file, err);
  if (!st) st = make_td(g, "time", H5T_IEEE_F64LE, 1, NULL, "fs", file, err);
  if (!st) st = make_td(g, "value", H5T_IEEE_F64LE, rank, inner, unit, file, err);
  H5Gclose(g);
  return st;
}

/* Write wdata to (or, with wdata NULL, read rdata from) row `row` of dataset ds whose
 * dataspace sp has the given rank and dims. Negative on an HDF5 error. */
static herr_t row_io(hid_t ds, hid_t sp, hid_t memtype, int rank, const hsize_t *dims, hsize_t row,
                     const void *wdata, void *rdata) {
  hsize_t start[3] = {row, 0, 0}, count[3];
  for (int k = 0; k < rank; k++) count[k] = k ? dims[k] : 1;
  H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t ms = H5Screate_simple(rank, count, NULL);
  herr_t r = wdata ? H5Dwrite(ds, memtype, ms, sp, H5P_DEFAULT, wdata)
                   : H5Dread(ds, memtype, ms, sp, H5P_DEFAULT, rdata);
  H5Sclose(ms);
  return r;
}

/* Append one row to dataset path (row = all inner elements). */
static kiln_status append_row(hid_t f, const char *path, hid_t memtype, const void *data, const char *file,
                              kiln_error *err) {
  hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
  if (ds < 0) return h5err(err, file, "open dataset", path);
  hid_t sp = H5Dget_space(ds);
  int rank = H5Sget_simple_extent_ndims(sp);
  hsize_t dims[3] = {0, 0, 0};
  H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  hsize_t old = dims[0];
  dims[0] = old + 1;
  kiln_status st = KILN_OK;
  if (H5Dset_extent(ds, dims) < 0) {
    st = h5err(err, file, "extend dataset", path);
  } else {
    sp = H5Dget_space(ds);
    if (row_io(ds, sp, memtype, rank, dims, old, data, NULL) < 0)
      st = h5err(err, file, "write dataset", path);
    H5Sclose(sp);
  }
  H5Dclose(ds);
  return st;
}

/* Read row i of dataset path into data (caller sized). */
static kiln_status read_row(hid_t f, const char *path, hid_t memtype, hsize_t i, void *data,
                            const char *file, kiln_error *err) {
  hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
  if (ds < 0) return h5err(err, file, "open dataset", path);
  hid_t sp = H5Dget_space(ds);
  int rank = H5Sget_simple_extent_ndims(sp);
  hsize_t dims[3] = {0, 0, 0};
  H5Sget_simple_extent_dims(sp, dims, NULL);
  kiln_status st = KILN_OK;
  if (rank < 1 || rank > 3 || i >= dims[0]) {
    st = KILN_FAIL(err, KILN_EFORMAT, "%s: dataset '%s' has %llu rows, cannot read row %llu", file, path,
                   (unsigned long long)dims[0], (unsigned long long)i);
  } else {
    if (row_io(ds, sp, memtype, rank, dims, i, NULL, data) < 0)
      st = h5err(err, file, "read dataset", path);
  }
  H5Sclose(sp);
  H5Dclose(ds);
  return st;
}

/* dims of a dataset (rank <= 3) */
static kiln_status ds_dims(hid_t f, const char *path, int *rank, hsize_t dims[3], const char *file,
                           kiln_error *err) {
  hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
  if (ds < 0) return h5err(err, file, "open dataset", path);
  hid_t sp = H5Dget_space(ds);
  *rank = H5Sget_simple_extent_ndims(sp);
  dims[0] = dims[1] = dims[2] = 0;
  kiln_status st = KILN_OK;
  if (*rank < 0 || *rank > 3) st = KILN_FAIL(err, KILN_EFORMAT, "%s: dataset '%s' has rank %d", file, path, *rank);
  else H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  H5Dclose(ds);
  return st;
}

static kiln_status write_fixed(hid_t g, const char *name, hid_t ftype, hid_t mtype, size_t n, const void *data,
                               hid_t *out, const char *file, kiln_error *err) {
  hsize_t d = n;
  hid_t sp = H5Screate_simple(1, &d, NULL);
  hid_t ds = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(sp);
  if (ds < 0) return h5err(err, file, "create dataset", name);
  if (H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    H5Dclose(ds);
    return h5err(err, file, "write dataset", name);
  }
  if (out) *out = ds;
  else H5Dclose(ds);
  return KILN_OK;
}

static kiln_status read_fixed(hid_t f, const char *path, hid_t mtype, size_t n, void *data, const char *file,
                              kiln_error *err) {
  int rank = 0;
  hsize_t dims[3];
  kiln_status st = ds_dims(f, path, &rank, dims, file, err);
  if (st) return st;
  if (rank != 1 || dims[0] != n)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: dataset '%s' should hold %zu values", file, path, n);
  hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
  if (ds < 0) return h5err(err, file, "open dataset", path);
  herr_t h = H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  H5Dclose(ds);
  if (h < 0) return h5err(err, file, "read dataset", path);
  return KILN_OK;
}

/* ------------------------------------------------------------ layout */

static kiln_status write_h5md_group(kiln_traj *t, kiln_error *err) {
  hid_t g = H5Gcreate2(t->file, "/h5md", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) return h5err(err, t->path, "create group", "/h5md");
  int ver[2] = {1, 1};
  kiln_status st = attr_ints(g, "version", ver, 2, t->path, err);
  hid_t a = -1, c = -1;
  if (!st && (a = H5Gcreate2(g, "author", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
    st = h5err(err, t->path, "create group", "/h5md/author");
  if (!st) {
    const char *user = getenv("USER");
    st = attr_str(a, "name", user && user[0] ? user : "unknown", t->path, err);
  }
  if (!st && (c = H5Gcreate2(g, "creator", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
    st = h5err(err, t->path, "create group", "/h5md/creator");
  if (!st) st = attr_str(c, "name", "kiln", t->path, err);
  if (!st) st = attr_str(c, "version", KILN_VERSION, t->path, err);
  if (a >= 0) H5Gclose(a);
  if (c >= 0) H5Gclose(c);
  H5Gclose(g);
  return st;
}

static kiln_status layout(kiln_traj *t, const kiln_atoms *a, unsigned what, kiln_error *err) {
  const char *file = t->path;
  size_t n = a->n;
  kiln_status st = KILN_OK;
  hid_t gp = H5Gcreate2(t->file, "/particles", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (gp < 0) return h5err(err, file, "create group", "/particles");
  hid_t g = H5Gcreate2(gp, "all", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(gp);
  if (g < 0) return h5err(err, file, "create group", GRP_ALL);
  hid_t box = H5Gcreate2(g, "box", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (box < 0) { H5Gclose(g); return h5err(err, file, "create group", GRP_ALL "/box"); }
  int dim = 3;
  char bnd[3][16];
  for (int d = 0; d < 3; d++) snprintf(bnd[d], sizeof bnd[d], "%s", a->pbc[d] ? "periodic" : "none");
  hsize_t in33[2] = {3, 3}, inN3[2] = {n, 3};
  st = attr_ints(box, "dimension", &dim, 1, file, err);
  if (!st) st = attr_strs(box, "boundary", &bnd[0][0], 3, sizeof bnd[0], file, err);
  if (!st) st = make_tgroup(box, "edges", 3, in33, "angstrom", file, err);
  H5Gclose(box);
  for (int k = 0; k < 3 && !st; k++)
    if (what & (1u << k)) st = make_tgroup(g, tdnames[k], 3, inN3, tdunits[k], file, err);
  hid_t ds = -1;
  if (!st) st = write_fixed(g, "species", H5T_STD_I32LE, H5T_NATIVE_INT32, n, a->type, &ds, file, err);
  if (!st) {
    char sym[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
    memset(sym, 0, sizeof sym);
    int ns = a->nspecies > 0 ? a->nspecies : 1;
    for (int s = 0; s < a->nspecies; s++) memcpy(sym[s], a->species[s], KILN_SYMBOL_LEN);
    if (!a->nspecies) strcpy(sym[0], "X");
    st = attr_strs(ds, "symbols", &sym[0][0], (size_t)ns, KILN_SYMBOL_LEN, file, err);
  }
  if (ds >= 0) H5Dclose(ds);
  if (!st) st = write_fixed(g, "mass", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n, a->mass, &ds, file, err);
  if (!st) { st = attr_str(ds, "unit", "amu", file, err); H5Dclose(ds); }
  if (!st) st = write_fixed(g, "id", H5T_STD_I64LE, H5T_NATIVE_INT64, n, a->id, NULL, file, err);
  H5Gclose(g);
  return st;
}

/* Read what an existing file holds (natoms, species, what). */
static kiln_status inspect(kiln_traj *t, kiln_error *err) {
  const char *file = t->path;
  if (!exists(t->file, GRP_ALL "/species")) return KILN_OK; /* no frames yet */
  int rank = 0;
  hsize_t dims[3];
  kiln_status st = ds_dims(t->file, GRP_ALL "/species", &rank, dims, file, err);
  if (st) return st;
  if (rank != 1) return KILN_FAIL(err, KILN_EFORMAT, "%s: '%s' is not a 1-d dataset", file, GRP_ALL "/species");
  t->natoms = (size_t)dims[0];
  if (!(t->types = malloc((t->natoms ? t->natoms : 1) * sizeof *t->types)))
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  if ((st = read_fixed(t->file, GRP_ALL "/species", H5T_NATIVE_INT32, t->natoms, t->types, file, err))) return st;
  hid_t ds = H5Dopen2(t->file, GRP_ALL "/species", H5P_DEFAULT);
  if (ds < 0) return h5err(err, file, "open dataset", GRP_ALL "/species");
  char sym[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  size_t ns = 0;
  memset(sym, 0, sizeof sym);
  st = attr_read_strs(ds, "symbols", &sym[0][0], KILN_MAX_SPECIES, KILN_SYMBOL_LEN, &ns, file, err);
  H5Dclose(ds);
  if (st) return st;
  t->nspecies = (int)ns;
  for (size_t s = 0; s < ns; s++) {
    sym[s][KILN_SYMBOL_LEN - 1] = 0;
    memcpy(t->species[s], sym[s], KILN_SYMBOL_LEN);
  }
  for (size_t i = 0; i < t->natoms; i++)
    if (t->types[i] < 0 || t->types[i] >= t->nspecies)
      return KILN_FAIL(err, KILN_EFORMAT, "%s: species of atom %zu is %d but there are %d symbols", file, i + 1,
                       (int)t->types[i], t->nspecies);
  t->what = 0;
  for (int k = 0; k < 3; k++) {
    char p[64];
    snprintf(p, sizeof p, GRP_ALL "/%s/value", tdnames[k]);
    if (exists(t->file, p)) t->what |= 1u << k;
  }
  if (!exists(t->file, GRP_ALL "/box/edges/value"))
    return KILN_FAIL(err, KILN_EFORMAT, "%s: no '%s' dataset", file, GRP_ALL "/box/edges/value");
  t->laid_out = 1;
  return KILN_OK;
}

/* ------------------------------------------------------------ public API */

kiln_status kiln_traj_open(kiln_traj **out, const char *file, const char *mode, kiln_error *err) {
  *out = NULL;
  if (!file || !mode) return KILN_FAIL(err, KILN_EINVAL, "trajectory: file and mode are required");
  int r = !strcmp(mode, "r"), w = !strcmp(mode, "w"), a = !strcmp(mode, "a");
  if (!r && !w && !a)
    return KILN_FAIL(err, KILN_EINVAL, "trajectory '%s': mode must be \"r\", \"w\" or \"a\" (got '%s')", file, mode);
  quiet();
  kiln_traj *t = calloc(1, sizeof *t);
  if (!t || !(t->path = strdup(file))) {
    free(t);
    return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  }
  t->file = -1;
  kiln_status st = KILN_OK;
  FILE *probe = (r || a) ? fopen(file, "rb") : NULL;
  if (r && !probe) {
    st = KILN_FAIL(err, KILN_EIO, "cannot open '%s': %s", file, strerror(errno));
    goto fail;
  }
  if (probe) fclose(probe);
  if (probe && H5Fis_hdf5(file) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    st = KILN_FAIL(err, KILN_EFORMAT, "'%s' is not an HDF5 file", file);
    goto fail;
  }
  if (r) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_file_locking(fapl, 0, 1);
    t->file = H5Fopen(file, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (t->file < 0) { st = h5err(err, file, "open", file); goto fail; }
    if (!exists(t->file, GRP_ALL)) {
      st = KILN_FAIL(err, KILN_EFORMAT, "%s: no '%s' group (not an H5MD trajectory written by kiln?)", file, GRP_ALL);
      goto fail;
    }
  } else if (a && probe) {
    t->file = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    if (t->file < 0) { st = h5err(err, file, "open", file); goto fail; }
    t->writable = 1;
    if (!exists(t->file, "/h5md") && (st = write_h5md_group(t, err))) goto fail;
  } else {
    t->file = H5Fcreate(file, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (t->file < 0) { st = h5err(err, file, "create", file); goto fail; }
    t->writable = 1;
    if ((st = write_h5md_group(t, err))) goto fail;
    H5Fflush(t->file, H5F_SCOPE_GLOBAL);
  }
  if ((st = inspect(t, err))) goto fail;
  *out = t;
  return KILN_OK;
fail:
  kiln_traj_close(t, NULL);
  return st;
}

kiln_status kiln_traj_close(kiln_traj *t, kiln_error *err) {
  if (!t) return KILN_OK;
  kiln_status st = KILN_OK;
  if (t->file >= 0 && H5Fclose(t->file) < 0) st = h5err(err, t->path, "close", t->path);
  free(t->types);
  free(t->path);
  free(t);
  return st;
}

kiln_status kiln_traj_nframes(kiln_traj *t, size_t *n, kiln_error *err) {
  *n = 0;
  if (!t) return KILN_FAIL(err, KILN_EINVAL, "trajectory is NULL");
  if (!t->laid_out) return KILN_OK;
  int rank = 0;
  hsize_t dims[3];
  kiln_status st = ds_dims(t->file, GRP_ALL "/box/edges/step", &rank, dims, t->path, err);
  if (st) return st;
  *n = (size_t)dims[0];
  return KILN_OK;
}

kiln_status kiln_traj_append(kiln_traj *t, const kiln_atoms *a, long step, double time,
                             unsigned what, kiln_error *err) {
  if (!t || !a) return KILN_FAIL(err, KILN_EINVAL, "trajectory append: NULL argument");
  const char *file = t->path;
  if (!t->writable) return KILN_FAIL(err, KILN_ESTATE, "trajectory '%s' is open for reading", file);
  what &= KILN_TRAJ_POS | KILN_TRAJ_VEL | KILN_TRAJ_FORCE;
  if (!what) return KILN_FAIL(err, KILN_EINVAL, "trajectory '%s': append needs what (KILN_TRAJ_POS|...)", file);
  if (a->n == 0) return KILN_FAIL(err, KILN_EINVAL, "trajectory '%s': cannot store 0 atoms", file);
  for (size_t i = 0; i < a->n; i++)
    if (a->type[i] < 0 || a->type[i] >= a->nspecies)
      return KILN_FAIL(err, KILN_EINVAL, "trajectory '%s': atom %zu has type %d but there are %d species", file,
                       i + 1, (int)a->type[i], a->nspecies);
  kiln_status st;
  if (!t->laid_out) {
    if ((st = layout(t, a, what, err))) return st;
    t->laid_out = 1;
    if ((st = inspect(t, err))) return st;
  }
  if (a->n != t->natoms)
    return KILN_FAIL(err, KILN_EINVAL, "trajectory '%s' holds %zu atoms; cannot append %zu", file, t->natoms, a->n);
  if (what != t->what)
    return KILN_FAIL(err, KILN_EINVAL,
                     "trajectory '%s' stores what=0x%x (position 1, velocity 2, force 4); append asked 0x%x",
                     file, t->what, what);
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->species[a->type[i]], t->species[t->types[i]]) != 0)
      return KILN_FAIL(err, KILN_EINVAL, "trajectory '%s': atom %zu is %s but the trajectory has %s", file, i + 1,
                       a->species[a->type[i]], t->species[t->types[i]]);
  int64_t st64 = step;
  for (int k = 0; k < 3; k++) {
    if (!(what & (1u << k))) continue;
    const double(*data)[3] = k == 0 ? (const double(*)[3])a->x : k == 1 ? (const double(*)[3])a->v
                                                                          : (const double(*)[3])a->f;
    char p[96];
    snprintf(p, sizeof p, GRP_ALL "/%s/value", tdnames[k]);
    if ((st = append_row(t->file, p, H5T_NATIVE_DOUBLE, data, file, err))) return st;
    snprintf(p, sizeof p, GRP_ALL "/%s/step", tdnames[k]);
    if ((st = append_row(t->file, p, H5T_NATIVE_INT64, &st64, file, err))) return st;
    snprintf(p, sizeof p, GRP_ALL "/%s/time", tdnames[k]);
    if ((st = append_row(t->file, p, H5T_NATIVE_DOUBLE, &time, file, err))) return st;
  }
  /* box last: its length is the frame count readers see */
  if ((st = append_row(t->file, GRP_ALL "/box/edges/value", H5T_NATIVE_DOUBLE, a->cell, file, err))) return st;
  if ((st = append_row(t->file, GRP_ALL "/box/edges/time", H5T_NATIVE_DOUBLE, &time, file, err))) return st;
  if ((st = append_row(t->file, GRP_ALL "/box/edges/step", H5T_NATIVE_INT64, &st64, file, err))) return st;
  if (H5Fflush(t->file, H5F_SCOPE_GLOBAL) < 0) return h5err(err, file, "flush", file);
  return KILN_OK;
}

kiln_status kiln_traj_read(kiln_traj *t, long i, kiln_atoms **out, long *step, double *time,
                           kiln_error *err) {
  *out = NULL;
  if (!t) return KILN_FAIL(err, KILN_EINVAL, "trajectory is NULL");
  const char *file = t->path;
  size_t n, k;
  kiln_status st = kiln_traj_nframes(t, &n, err);
  if (st) return st;
  if ((st = kilni_resolve_index(i, n, file, &k, err))) return st;
  kiln_atoms *a;
  if ((st = kiln_atoms_new(&a, t->natoms, err))) return st;
  for (int s = 0; s < t->nspecies; s++)
    if ((st = kiln_atoms_species_index(a, t->species[s], NULL, err))) goto fail;
  memcpy(a->type, t->types, t->natoms * sizeof *a->type);
  if ((st = read_fixed(t->file, GRP_ALL "/mass", H5T_NATIVE_DOUBLE, t->natoms, a->mass, file, err))) goto fail;
  if (exists(t->file, GRP_ALL "/id") &&
      (st = read_fixed(t->file, GRP_ALL "/id", H5T_NATIVE_INT64, t->natoms, a->id, file, err)))
    goto fail;
  if ((st = read_row(t->file, GRP_ALL "/box/edges/value", H5T_NATIVE_DOUBLE, k, a->cell, file, err))) goto fail;
  hid_t box = H5Gopen2(t->file, GRP_ALL "/box", H5P_DEFAULT);
  if (box < 0) { st = h5err(err, file, "open group", GRP_ALL "/box"); goto fail; }
  char bnd[3][16];
  size_t nb = 0;
  memset(bnd, 0, sizeof bnd);
  st = attr_read_strs(box, "boundary", &bnd[0][0], 3, sizeof bnd[0], &nb, file, err);
  H5Gclose(box);
  if (st) goto fail;
  for (int d = 0; d < 3; d++) a->pbc[d] = nb == 3 && !strncmp(bnd[d], "periodic", 8);
  for (int c = 0; c < 3; c++) {
    if (!(t->what & (1u << c))) continue;
    double(*data)[3] = c == 0 ? a->x : c == 1 ? a->v : a->f;
    char p[96];
    snprintf(p, sizeof p, GRP_ALL "/%s/value", tdnames[c]);
    if ((st = read_row(t->file, p, H5T_NATIVE_DOUBLE, k, data, file, err))) goto fail;
  }
  int64_t s64 = 0;
  double tm = 0.0;
  if ((st = read_row(t->file, GRP_ALL "/box/edges/step", H5T_NATIVE_INT64, k, &s64, file, err))) goto fail;
  if ((st = read_row(t->file, GRP_ALL "/box/edges/time", H5T_NATIVE_DOUBLE, k, &tm, file, err))) goto fail;
  if (step) *step = (long)s64;
  if (time) *time = tm;
  *out = a;
  return KILN_OK;
fail:
  kiln_atoms_free(a);
  return st;
}

/* ------------------------------------------------------------ kiln_io_read/write */

kiln_status kilni_h5md_read_all(const char *file, const kiln_opts *o, kiln_atoms ***frames,
                                size_t *nframes, kiln_error *err) {
  const char *what = "h5md read";
  *frames = NULL;
  *nframes = 0;
  int has_index;
  long index;
  kiln_status st = kilni_opt_index(o, what, &has_index, &index, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (st) return st;
  kiln_traj *t;
  if ((st = kiln_traj_open(&t, file, "r", err))) return st;
  size_t n, first = 0, last;
  kilni_frames fr = {0};
  if ((st = kiln_traj_nframes(t, &n, err))) goto done;
  if (n == 0) { st = KILN_FAIL(err, KILN_EFORMAT, "%s: no frames", file); goto done; }
  last = n - 1;
  if (has_index) {
    if ((st = kilni_resolve_index(index, n, file, &first, err))) goto done;
    last = first;
  }
  for (size_t k = first; k <= last; k++) {
    kiln_atoms *a;
    long step;
    double tm;
    if ((st = kiln_traj_read(t, (long)k, &a, &step, &tm, err))) goto done;
    double sv = (double)step;
    if ((st = kiln_atoms_info_set(a, "step", KILN_VAL_INT, 1, &sv, err)) ||
        (st = kiln_atoms_info_set(a, "time", KILN_VAL_REAL, 1, &tm, err))) {
      kiln_atoms_free(a);
      goto done;
    }
    if ((st = kilni_frames_push(&fr, a, err))) goto done;
  }
done:
  if (st) {
    kiln_traj_close(t, NULL);
    kilni_frames_free(&fr);
    return st;
  }
  if ((st = kiln_traj_close(t, err))) {
    kilni_frames_free(&fr);
    return st;
  }
  *frames = fr.a;
  *nframes = fr.n;
  return KILN_OK;
}

kiln_status kilni_h5md_write_all(const char *file, const kiln_opts *o, kiln_atoms *const *frames,
                                 size_t nframes, int append, kiln_error *err) {
  const char *what = "h5md write";
  int vel = -1, frc = -1;
  kiln_status st = KILN_OK;
  if (kiln_opts_get(o, "velocities")) st = kiln_opts_bool(o, what, "velocities", 0, 0, &vel, err);
  if (!st && kiln_opts_get(o, "forces")) st = kiln_opts_bool(o, what, "forces", 0, 0, &frc, err);
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (st) return st;
  unsigned w = KILN_TRAJ_POS;
  int anyv = 0, anyf = 0;
  for (size_t k = 0; k < nframes; k++) {
    anyv |= kilni_nonzero3((const double(*)[3])frames[k]->v, frames[k]->n);
    anyf |= kilni_nonzero3((const double(*)[3])frames[k]->f, frames[k]->n);
  }
  if (vel > 0 || (vel < 0 && anyv)) w |= KILN_TRAJ_VEL;
  if (frc > 0 || (frc < 0 && anyf)) w |= KILN_TRAJ_FORCE;
  char *tmp = NULL;
  if (!append && !(tmp = kilni_tmpname(file))) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
  kiln_traj *t;
  if ((st = kiln_traj_open(&t, tmp ? tmp : file, append ? "a" : "w", err))) { free(tmp); return st; }
  if (append && t->laid_out) w = t->what;
  for (size_t k = 0; k < nframes && !st; k++) {
    const kiln_info *is = kiln_atoms_info_get(frames[k], "step"), *it = kiln_atoms_info_get(frames[k], "time");
    long step = is && is->kind != KILN_VAL_STR && is->count == 1 ? (long)is->val[0] : (long)k;
    double tm = it && it->kind != KILN_VAL_STR && it->count == 1 ? it->val[0] : 0.0;
    st = kiln_traj_append(t, frames[k], step, tm, w, err);
  }
  kiln_status st2 = kiln_traj_close(t, st ? NULL : err);
  if (!st) st = st2;
  if (tmp) {
    if (!st && rename(tmp, file) != 0)
      st = KILN_FAIL(err, KILN_EIO, "cannot rename '%s' to '%s': %s", tmp, file, strerror(errno));
    if (st) remove(tmp);
    free(tmp);
  }
  return st;
}
