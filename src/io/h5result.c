/* src/io/h5result.c: kiln_result_write_h5, a kiln_result (named arrays with
 * units, plus attributes) written as one HDF5 group.
 *
 * Layout (group "sqw" as an example; "/" writes into the root group):
 *   /sqw                      @style, @dt, @nframes, ... (the result's attributes:
 *                             numbers as double scalars, strings as UTF-8 strings)
 *   /sqw/omega                double dataset, @unit = "rad/fs", @description = "..."
 *   /sqw/fqt_partial/Si-Si    item "fqt_partial/Si-Si": '/' in a name makes subgroups
 * An array with one column (a vector) is a 1-D dataset of its rows; any other is a
 * 2-D dataset rows x cols (row-major, as kiln.Array). Datasets are contiguous.
 *
 * Without append, everything goes to "<file>.tmp.<pid>", which is renamed over
 * file only when complete (a crash never leaves a half-written result). With
 * append, the group is added to file (created if missing); an existing group is
 * KILN_EINVAL (for "/": an existing dataset of the same name). */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/io_internal.h"
#include "kiln/corr.h"

typedef struct h5w {
  hid_t file, grp, lcpl;
  const char *fname;  /* the user's file name, for messages */
  char gpath[256];    /* "/" or "/a/b" */
} h5w;

typedef struct walk_ud { char msg[200]; int done; } walk_ud;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *ud) {
  walk_ud *w = ud;
  (void)n;
  if (!w->done && e->desc && e->desc[0]) {
    snprintf(w->msg, sizeof w->msg, "%s", e->desc);
    w->done = 1;
  }
  return 0;
}

/* KILN_EEXTERNAL "file: <action> '<object>' failed: <innermost HDF5 message>" */
static kiln_status h5err(kiln_error *err, const char *file, const char *action, const char *obj) {
  walk_ud w = {"", 0};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
  H5Eclear2(H5E_DEFAULT);
  return KILN_FAIL(err, KILN_EEXTERNAL, "%s: %s '%s' failed%s%s", file, action, obj,
                   w.msg[0] ? ": " : "", w.msg);
}

/* 1 if every component of the absolute path exists (missing parents are not errors). */
static int path_exists(hid_t loc, const char *path) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", path);
  if (!strcmp(buf, "/")) return 1;
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || !*p) {
      char c = *p;
      *p = 0;
      if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
      }
      if (!c) return 1;
      *p = c;
    }
  }
}

/* Names are '/'-separated lists of non-empty components other than "." and "..". */
static int valid_name(const char *s) {
  if (!s || !*s) return 0;
  const char *p = s;
  for (;;) {
    const char *q = strchr(p, '/');
    size_t n = q ? (size_t)(q - p) : strlen(p);
    if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return 0;
    if (!q) return 1;
    p = q + 1;
  }
}

static kiln_status attr_str(h5w *w, hid_t obj, const char *name, const char *s, kiln_error *err) {
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(s) + 1);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  H5Tset_cset(t, H5T_CSET_UTF8);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  kiln_status st = KILN_OK;
  if (a < 0) st = h5err(err, w->fname, "create attribute", name);
  else if (H5Awrite(a, t, s) < 0) st = h5err(err, w->fname, "write attribute", name);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  H5Tclose(t);
  return st;
}

static kiln_status attr_num(h5w *w, hid_t obj, const char *name, double v, kiln_error *err) {
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT);
  kiln_status st = KILN_OK;
  if (a < 0) st = h5err(err, w->fname, "create attribute", name);
  else if (H5Awrite(a, H5T_NATIVE_DOUBLE, &v) < 0) st = h5err(err, w->fname, "write attribute", name);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  return st;
}

static kiln_status write_item(h5w *w, const kiln_result_item *it, kiln_error *err) {
  if (!valid_name(it->name))
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: result item name '%s' is not a valid HDF5 path (empty, '.' or '..' "
                     "component)", w->fname, it->name);
  if (H5Lexists(w->grp, it->name, H5P_DEFAULT) > 0)
    return KILN_FAIL(err, KILN_EINVAL, "%s: '%s' already exists in group '%s'", w->fname, it->name,
                     w->gpath);
  H5Eclear2(H5E_DEFAULT);
  const kiln_array *a = it->a;
  hsize_t dims[2] = {a->rows, a->cols};
  int rank = a->cols == 1 ? 1 : 2;
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  if (sp < 0) return h5err(err, w->fname, "create dataspace for", it->name);
  hid_t d = H5Dcreate2(w->grp, it->name, H5T_IEEE_F64LE, sp, w->lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(sp);
  if (d < 0) return h5err(err, w->fname, "create dataset", it->name);
  kiln_status st = KILN_OK;
  if (a->rows * a->cols > 0 &&
      H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->data) < 0)
    st = h5err(err, w->fname, "write dataset", it->name);
  if (!st) st = attr_str(w, d, "unit", it->unit ? it->unit : "", err);
  if (!st) st = attr_str(w, d, "description", it->desc ? it->desc : "", err);
  H5Dclose(d);
  return st;
}

static kiln_status write_all(h5w *w, const kiln_result *r, int append, kiln_error *err) {
  if (strcmp(w->gpath, "/") == 0) {
    w->grp = H5Gopen2(w->file, "/", H5P_DEFAULT);
    if (w->grp < 0) return h5err(err, w->fname, "open group", "/");
  } else {
    if (append && path_exists(w->file, w->gpath))
      return KILN_FAIL(err, KILN_EINVAL,
                       "%s: group '%s' already exists (write another group, or without append to "
                       "replace the file)", w->fname, w->gpath);
    w->grp = H5Gcreate2(w->file, w->gpath, w->lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (w->grp < 0) return h5err(err, w->fname, "create group", w->gpath);
  }
  kiln_status st = KILN_OK;
  for (size_t i = 0; i < r->n && !st; i++) st = write_item(w, &r->item[i], err);
  for (size_t i = 0; i < r->nattr && !st; i++) {
    const kiln_result_attr *at = &r->attr[i];
    st = at->is_str ? attr_str(w, w->grp, at->name, at->str ? at->str : "", err)
                    : attr_num(w, w->grp, at->name, at->num, err);
  }
  return st;
}

kiln_status kiln_result_write_h5(const kiln_result *r, const char *file, const char *group,
                                 int append, kiln_error *err) {
  if (!r || !file || !*file)
    return KILN_FAIL(err, KILN_EINVAL, "result: write_h5 needs a result and a file name");
  h5w w = {-1, -1, -1, file, "/"};
  /* group: "", NULL or "/" is the root; leading/trailing '/' are ignored */
  const char *g = group ? group : "";
  while (*g == '/') g++;
  size_t glen = strlen(g);
  while (glen && g[glen - 1] == '/') glen--;
  if (glen) {
    if (glen + 2 > sizeof w.gpath)
      return KILN_FAIL(err, KILN_EINVAL, "%s: group name too long (%zu characters)", file, glen);
    snprintf(w.gpath, sizeof w.gpath, "/%.*s", (int)glen, g);
    if (!valid_name(w.gpath + 1))
      return KILN_FAIL(err, KILN_EINVAL, "%s: group name '%s' is not a valid HDF5 path", file,
                       group);
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  char *tmp = NULL;
  kiln_status st = KILN_OK;
  FILE *probe = append ? fopen(file, "rb") : NULL;
  if (probe) {
    fclose(probe);
    if (H5Fis_hdf5(file) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return KILN_FAIL(err, KILN_EFORMAT, "'%s' is not an HDF5 file (cannot append a result to it)",
                       file);
    }
    w.file = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    if (w.file < 0) return h5err(err, file, "open", file);
  } else {
    const char *target = file;
    if (!append) {
      if (!(tmp = kilni_tmpname(file))) return KILN_FAIL(err, KILN_ENOMEM, "out of memory");
      target = tmp;
    }
    w.file = H5Fcreate(target, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w.file < 0) {
      walk_ud wu = {"", 0};
      H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &wu);
      H5Eclear2(H5E_DEFAULT);
      st = KILN_FAIL(err, KILN_EIO, "cannot create '%s'%s%s", target, wu.msg[0] ? ": " : "", wu.msg);
      free(tmp);
      return st;
    }
  }
  w.lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(w.lcpl, 1);
  H5Pset_char_encoding(w.lcpl, H5T_CSET_UTF8);
  st = write_all(&w, r, append, err);
  if (w.grp >= 0) H5Gclose(w.grp);
  /* appending: do not leave a half-written group behind */
  if (st && !tmp && w.grp >= 0 && strcmp(w.gpath, "/") != 0) H5Ldelete(w.file, w.gpath, H5P_DEFAULT);
  H5Pclose(w.lcpl);
  if (H5Fclose(w.file) < 0 && !st) st = h5err(err, file, "close", file);
  if (tmp) {
    if (!st && rename(tmp, file) != 0)
      st = KILN_FAIL(err, KILN_EIO, "cannot rename '%s' to '%s': %s", tmp, file, strerror(errno));
    if (st) remove(tmp);
    free(tmp);
  }
  return st;
}
