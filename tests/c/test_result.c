/* tests/c/test_result.c: kiln_result (named arrays with units, attributes) and
 * kiln_result_write_h5, read back with the HDF5 C API: values bit for bit,
 * shapes (vectors 1-D, matrices 2-D), "unit"/"description" attributes, '/' in
 * names as subgroups, group attributes, atomic write (no temp file left, an
 * existing file untouched on failure), append (adds a group; existing group is
 * an error and leaves the file as it was). */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "kiln/corr.h"

static char tmpdir[256];

static const char *path(const char *name) {
  static char buf[4][512];
  static int k = 0;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

static int tmp_leftovers(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -q '\\.tmp\\.'", tmpdir);
  return system(cmd) == 0;
}

/* A result like a correlator's: a vector, a matrix, a nested item, attributes. */
static kiln_result *sample(double scale) {
  kiln_error err;
  kiln_result *r;
  if (kiln_result_new(&r, &err)) return NULL;
  double omega[5], sqw[3 * 4], part[2 * 2];
  for (int i = 0; i < 5; i++) omega[i] = scale * 0.1 * i;
  for (int i = 0; i < 12; i++) sqw[i] = scale * (1.0 / (i + 3.0));  /* not exact in binary */
  for (int i = 0; i < 4; i++) part[i] = -scale * (i + 0.25);
  int bad = kiln_result_add_copy(r, "omega", omega, 5, 1, "rad/fs", "angular frequency", &err) ||
            kiln_result_add_copy(r, "sqw_coh", sqw, 3, 4, "fs", "coherent S(q,ω)", &err) ||
            kiln_result_add_copy(r, "fqt_partial/Si-Si", part, 2, 2, "1", "", &err) ||
            kiln_result_attr_str(r, "style", "sqw", &err) ||
            kiln_result_attr_num(r, "dt", 5.0, &err) ||
            kiln_result_attr_num(r, "nframes", 10, &err) ||
            kiln_result_attr_str(r, "unit_note", "Å and rad/fs", &err);
  if (bad) {
    kiln_result_free(r);
    return NULL;
  }
  return r;
}

static void read_str_attr(hid_t obj, const char *name, char *out, size_t cap) {
  out[0] = 0;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return;
  hid_t t = H5Aget_type(a);
  size_t n = H5Tget_size(t);
  if (H5Tget_class(t) == H5T_STRING && n < cap) {
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, n);
    H5Tset_cset(mt, H5Tget_cset(t));
    if (H5Aread(a, mt, out) < 0) out[0] = 0;
    out[n] = 0;
    H5Tclose(mt);
  }
  H5Tclose(t);
  H5Aclose(a);
}

static double read_num_attr(hid_t obj, const char *name) {
  double v = NAN;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return v;
  if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) v = NAN;
  H5Aclose(a);
  return v;
}

/* Read dataset `name` under loc: rank, dims, values (up to cap), unit, description. */
static int read_ds(hid_t loc, const char *name, int *rank, hsize_t dims[2], double *v, size_t cap,
                   char *unit, char *desc) {
  hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
  if (d < 0) return -1;
  hid_t sp = H5Dget_space(d);
  *rank = H5Sget_simple_extent_ndims(sp);
  dims[0] = dims[1] = 1;
  H5Sget_simple_extent_dims(sp, dims, NULL);
  hssize_t n = H5Sget_simple_extent_npoints(sp);
  H5Sclose(sp);
  int rc = 0;
  if (n < 0 || (size_t)n > cap || H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
    rc = -1;
  read_str_attr(d, "unit", unit, 64);
  read_str_attr(d, "description", desc, 128);
  H5Dclose(d);
  return rc;
}

/* Check that group g of file holds sample(scale) exactly. */
static void check_sample(const char *file, const char *g, double scale) {
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(f >= 0);
  if (f < 0) return;
  hid_t grp = H5Gopen2(f, g, H5P_DEFAULT);
  CHECK(grp >= 0);
  if (grp >= 0) {
    kiln_result *ref = sample(scale);
    CHECK(ref != NULL);
    int rank;
    hsize_t dims[2];
    double v[32];
    char unit[64], desc[128];
    CHECK(read_ds(grp, "omega", &rank, dims, v, 32, unit, desc) == 0);
    CHECK(rank == 1 && dims[0] == 5);
    for (int i = 0; i < 5; i++) CHECK(v[i] == ref->item[0].a->data[i]);
    CHECK(strcmp(unit, "rad/fs") == 0 && strcmp(desc, "angular frequency") == 0);
    CHECK(read_ds(grp, "sqw_coh", &rank, dims, v, 32, unit, desc) == 0);
    CHECK(rank == 2 && dims[0] == 3 && dims[1] == 4);
    for (int i = 0; i < 12; i++) CHECK(v[i] == ref->item[1].a->data[i]);
    CHECK(v[5] == scale * (1.0 / 8.0));
    CHECK(strcmp(unit, "fs") == 0 && strcmp(desc, "coherent S(q,ω)") == 0);
    /* nested: fqt_partial is a group holding dataset Si-Si */
    hid_t sub = H5Gopen2(grp, "fqt_partial", H5P_DEFAULT);
    CHECK(sub >= 0);
    if (sub >= 0) H5Gclose(sub);
    CHECK(read_ds(grp, "fqt_partial/Si-Si", &rank, dims, v, 32, unit, desc) == 0);
    CHECK(rank == 2 && dims[0] == 2 && dims[1] == 2);
    CHECK(v[0] == -scale * 0.25 && v[3] == -scale * 3.25);
    CHECK(strcmp(unit, "1") == 0 && strcmp(desc, "") == 0);
    char s[64];
    read_str_attr(grp, "style", s, sizeof s);
    CHECK(strcmp(s, "sqw") == 0);
    read_str_attr(grp, "unit_note", s, sizeof s);
    CHECK(strcmp(s, "Å and rad/fs") == 0);
    CHECK(read_num_attr(grp, "dt") == 5.0);
    CHECK(read_num_attr(grp, "nframes") == 10.0);
    kiln_result_free(ref);
    H5Gclose(grp);
  }
  H5Fclose(f);
}

static int has_link(const char *file, const char *link) {
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return -1;
  htri_t e = H5Lexists(f, link, H5P_DEFAULT);
  H5Fclose(f);
  return e > 0;
}

TEST(test_result_container) {
  kiln_error err;
  kiln_result *r = sample(1.0);
  CHECK(r != NULL);
  if (!r) return;
  CHECK(r->n == 3 && r->nattr == 4);
  const kiln_result_item *it = kiln_result_get(r, "sqw_coh");
  CHECK(it && it->a->rows == 3 && it->a->cols == 4 && strcmp(it->unit, "fs") == 0);
  CHECK(kiln_result_get(r, "nope") == NULL);
  /* same name replaces; attributes too */
  double one = 1.0;
  CHECK_OK(kiln_result_add_copy(r, "omega", &one, 1, 1, "THz", "x", &err));
  CHECK(r->n == 3 && kiln_result_get(r, "omega")->a->rows == 1);
  CHECK_OK(kiln_result_attr_num(r, "style", 2.0, &err));
  CHECK(r->nattr == 4 && !r->attr[0].is_str && r->attr[0].num == 2.0);
  CHECK_ERR(kiln_result_add(r, "", NULL, "", "", &err), KILN_EINVAL, "name and an array");
  kiln_result_free(r);
  kiln_result_free(NULL);
}

TEST(test_write_root_and_group) {
  kiln_error err;
  kiln_result *r = sample(1.0);
  if (!r) { CHECK(0); return; }
  CHECK_OK(kiln_result_write_h5(r, path("root.h5"), NULL, 0, &err));
  check_sample(path("root.h5"), "/", 1.0);
  CHECK_OK(kiln_result_write_h5(r, path("grp.h5"), "/run1/sqw/", 0, &err));
  check_sample(path("grp.h5"), "/run1/sqw", 1.0);
  CHECK(has_link(path("grp.h5"), "/omega") == 0);
  CHECK(!tmp_leftovers());
  kiln_result_free(r);
}

TEST(test_write_replaces_atomically) {
  kiln_error err;
  kiln_result *a = sample(1.0), *b = sample(2.0);
  if (!a || !b) { CHECK(0); return; }
  const char *f = path("atomic.h5");
  CHECK_OK(kiln_result_write_h5(a, f, "first", 0, &err));
  /* without append the file is replaced: only the new group is there */
  CHECK_OK(kiln_result_write_h5(b, f, "second", 0, &err));
  CHECK(has_link(f, "first") == 0);
  check_sample(f, "second", 2.0);
  /* a failing write (a bad item name) leaves the old file as it was, no temp file */
  double x = 1;
  CHECK_OK(kiln_result_add_copy(b, "bad//name", &x, 1, 1, "1", "", &err));
  CHECK_ERR(kiln_result_write_h5(b, f, "third", 0, &err), KILN_EINVAL, "bad//name");
  check_sample(f, "second", 2.0);
  CHECK(has_link(f, "third") == 0);
  CHECK(!tmp_leftovers());
  /* an item under a name that is already a dataset: HDF5 refuses, nothing is left */
  kiln_result *c = sample(1.0);
  CHECK_OK(kiln_result_add_copy(c, "omega/x", &x, 1, 1, "1", "", &err));
  CHECK_ERR(kiln_result_write_h5(c, f, "fourth", 0, &err), KILN_EEXTERNAL, "omega/x");
  check_sample(f, "second", 2.0);
  CHECK(!tmp_leftovers());
  /* a directory that does not exist */
  CHECK_ERR(kiln_result_write_h5(a, path("no/such/dir.h5"), NULL, 0, &err), KILN_EIO, "cannot create");
  kiln_result_free(a);
  kiln_result_free(b);
  kiln_result_free(c);
}

TEST(test_append) {
  kiln_error err;
  kiln_result *a = sample(1.0), *b = sample(3.0);
  if (!a || !b) { CHECK(0); return; }
  const char *f = path("append.h5");
  /* append to a missing file creates it */
  CHECK_OK(kiln_result_write_h5(a, f, "a", 1, &err));
  CHECK_OK(kiln_result_write_h5(b, f, "runs/b", 1, &err));
  check_sample(f, "a", 1.0);
  check_sample(f, "runs/b", 3.0);
  /* an existing group is an error and changes nothing */
  CHECK_ERR(kiln_result_write_h5(b, f, "a", 1, &err), KILN_EINVAL, "group '/a' already exists");
  check_sample(f, "a", 1.0);
  /* a failed append does not leave a half-written group */
  double x = 1;
  kiln_result *c = sample(1.0);
  CHECK_OK(kiln_result_add_copy(c, "omega/x", &x, 1, 1, "1", "", &err));
  CHECK_ERR(kiln_result_write_h5(c, f, "c", 1, &err), KILN_EEXTERNAL, "omega/x");
  CHECK(has_link(f, "c") == 0);
  /* appending into the root: a dataset of the same name is an error */
  kiln_result *d;
  CHECK_OK(kiln_result_new(&d, &err));
  CHECK_OK(kiln_result_add_copy(d, "extra", &x, 1, 1, "eV", "one number", &err));
  CHECK_OK(kiln_result_attr_num(d, "T", 300.0, &err));
  CHECK_OK(kiln_result_write_h5(d, f, "/", 1, &err));
  CHECK(has_link(f, "/extra") == 1);
  CHECK_ERR(kiln_result_write_h5(d, f, "/", 1, &err), KILN_EINVAL, "'extra' already exists");
  check_sample(f, "a", 1.0);
  /* not an HDF5 file */
  const char *txt = path("plain.h5");
  FILE *fp = fopen(txt, "w");
  if (fp) { fputs("hello\n", fp); fclose(fp); }
  CHECK_ERR(kiln_result_write_h5(a, txt, "a", 1, &err), KILN_EFORMAT, "not an HDF5 file");
  CHECK_ERR(kiln_result_write_h5(a, f, "x/../y", 1, &err), KILN_EINVAL, "not a valid HDF5 path");
  CHECK(!tmp_leftovers());
  kiln_result_free(a);
  kiln_result_free(b);
  kiln_result_free(c);
  kiln_result_free(d);
}

TEST(test_empty_and_large) {
  kiln_error err;
  kiln_result *r;
  CHECK_OK(kiln_result_new(&r, &err));
  kiln_array *e, *big;
  CHECK_OK(kiln_array_new(&e, 0, 3, &err));
  CHECK_OK(kiln_result_add(r, "empty", e, "Å", "no rows", &err));
  CHECK_OK(kiln_array_new(&big, 300, 200, &err));
  for (size_t i = 0; i < 300 * 200; i++) big->data[i] = (double)i / 7.0;
  CHECK_OK(kiln_result_add(r, "big", big, "1", "", &err));
  const char *f = path("big.h5");
  CHECK_OK(kiln_result_write_h5(r, f, "g", 0, &err));
  hid_t fh = H5Fopen(f, H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(fh >= 0);
  int rank;
  hsize_t dims[2];
  double *v = malloc(300 * 200 * sizeof *v);
  char unit[64], desc[128];
  CHECK(read_ds(fh, "g/empty", &rank, dims, v, 1, unit, desc) == 0);
  CHECK(rank == 2 && dims[0] == 0 && dims[1] == 3 && strcmp(unit, "Å") == 0);
  CHECK(read_ds(fh, "g/big", &rank, dims, v, 300 * 200, unit, desc) == 0);
  CHECK(rank == 2 && dims[0] == 300 && dims[1] == 200);
  CHECK(v && v[12345] == 12345.0 / 7.0 && v[59999] == 59999.0 / 7.0);
  free(v);
  H5Fclose(fh);
  kiln_result_free(r);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/kiln_test_result_XXXXXX");
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  RUN(test_result_container);
  RUN(test_write_root_and_group);
  RUN(test_write_replaces_atomically);
  RUN(test_append);
  RUN(test_empty_and_large);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return check_summary();
}
