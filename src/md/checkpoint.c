/* src/md/checkpoint.c: binary checkpoints of an MD run.
 *
 * Layout (native byte order; a byte-order mark rejects files from machines of
 * the other endianness):
 *   "KILNMDCK" | u32 version | u32 0x01020304 | u32 len + style name
 *   f64 dt, T | u64 seed | i64 step | f64 time | i64 run_start, run_target
 *   rng: u64 s[4], f64 spare, i32 has_spare
 *   u64 state_size + style state bytes
 *   last potential result: f64 energy, virial[9], stress[9]
 *   atoms: u64 n | f64 cell[9] | i32 pbc[3] | i32 nspecies + nspecies x 8 chars
 *          i32 type[n] | f64 mass[n] | i64 id[n] | f64 x[3n], v[3n], f[3n]
 *   neighbor list: i32 has_ref (0/1) [+ f64 xref[3n]: md->nl's reference positions, the
 *          unwrapped positions at its last build, + f64 xcell[9]: its reference cell, the
 *          cell at that build; a resumed run rebuilds its list from them at the first step,
 *          so it is the list of the run that wrote the file, also after a barostat moved
 *          the cell without a rebuild]
 *   "KILNEND\0" | u64 FNV-1a hash of every byte before it
 * The hash catches corruption that the structural checks cannot see (for example a
 * damaged thermostat state). Written to file.tmp.<pid>, flushed and synced, then renamed over file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "md_internal.h"

#define CHK_MAGIC "KILNMDCK"
#define CHK_END "KILNEND"
#define CHK_VERSION 4u
#define CHK_BOM 0x01020304u
#define CHK_MAXNAME 64

/* ------------------------------------------------------------------ write */

/* 64-bit FNV-1a over a byte range, continuing from h */
static uint64_t fnv1a(uint64_t h, const void *p, size_t bytes) {
  const unsigned char *b = p;
  for (size_t k = 0; k < bytes; k++) h = (h ^ b[k]) * 0x100000001b3ull;
  return h;
}
#define FNV_OFFSET 0xcbf29ce484222325ull

typedef struct writer {
  FILE *f;
  int ok;
  uint64_t hash;
} writer;

static void put(writer *w, const void *p, size_t size, size_t count) {
  if (w->ok && count && fwrite(p, size, count, w->f) != count) w->ok = 0;
  w->hash = fnv1a(w->hash, p, size * count);
}
static void put_u32(writer *w, uint32_t v) { put(w, &v, sizeof v, 1); }
static void put_i32(writer *w, int32_t v) { put(w, &v, sizeof v, 1); }
static void put_u64(writer *w, uint64_t v) { put(w, &v, sizeof v, 1); }
static void put_i64(writer *w, int64_t v) { put(w, &v, sizeof v, 1); }
static void put_f64(writer *w, double v) { put(w, &v, sizeof v, 1); }

kiln_status kiln_md_checkpoint_write(kiln_md *md, const kiln_atoms *a, const char *file,
                                     kiln_error *err) {
  if (!md || !a || !file || !file[0])
    return KILN_FAIL(err, KILN_EINVAL, "checkpoint write: integrator, atoms and file are required");
  char tmp[4096];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", file, (long)getpid()) >= sizeof tmp)
    return KILN_FAIL(err, KILN_EINVAL, "checkpoint write: file name too long (%zu characters)",
                     strlen(file));
  writer w = {fopen(tmp, "wb"), 1, FNV_OFFSET};
  if (!w.f)
    return KILN_FAIL(err, KILN_EIO, "%s: cannot open for writing: %s", tmp, strerror(errno));

  const char *name = md->style->name;
  put(&w, CHK_MAGIC, 1, 8);
  put_u32(&w, CHK_VERSION);
  put_u32(&w, CHK_BOM);
  put_u32(&w, (uint32_t)strlen(name));
  put(&w, name, 1, strlen(name));
  put_f64(&w, md->dt);
  put_f64(&w, md->T);
  put_u64(&w, md->seed);
  put_i64(&w, md->step);
  put_f64(&w, md->time);
  put_i64(&w, md->run_start);
  put_i64(&w, md->run_target);
  put(&w, md->rng.s, sizeof md->rng.s[0], 4);
  put_f64(&w, md->rng.spare);
  put_i32(&w, md->rng.has_spare);
  put_u64(&w, md->style->state_size);
  put(&w, md->state, 1, md->style->state_size);
  put_f64(&w, md->last.energy);
  put(&w, md->last.virial, sizeof(double), 9);
  put(&w, md->last.stress, sizeof(double), 9);

  put_u64(&w, a->n);
  put(&w, a->cell, sizeof(double), 9);
  for (int d = 0; d < 3; d++) put_i32(&w, a->pbc[d]);
  put_i32(&w, a->nspecies);
  put(&w, a->species, KILN_SYMBOL_LEN, (size_t)a->nspecies);
  put(&w, a->type, sizeof *a->type, a->n);
  put(&w, a->mass, sizeof *a->mass, a->n);
  put(&w, a->id, sizeof *a->id, a->n);
  put(&w, a->x, sizeof *a->x, a->n);
  put(&w, a->v, sizeof *a->v, a->n);
  put(&w, a->f, sizeof *a->f, a->n);
  size_t nref = 0;
  const double(*xref)[3] = kiln_neigh_reference(md->nl, &nref);
  double xcell[3][3];
  if (nref != a->n || !kiln_neigh_reference_cell(md->nl, xcell)) xref = NULL;
  put_i32(&w, xref && a->n ? 1 : 0);
  if (xref && a->n) {
    put(&w, xref, sizeof *xref, a->n);
    put(&w, xcell, sizeof(double), 9);
  }
  put(&w, CHK_END, 1, 8);
  uint64_t hash = w.hash;
  put(&w, &hash, sizeof hash, 1);

  int e = 0;
  if (!w.ok || fflush(w.f) != 0 || fsync(fileno(w.f)) != 0) e = errno ? errno : EIO;
  if (fclose(w.f) != 0 && !e) e = errno ? errno : EIO;
  if (e) {
    remove(tmp);
    return KILN_FAIL(err, KILN_EIO, "%s: write failed: %s", tmp, strerror(e));
  }
  if (rename(tmp, file) != 0) {
    e = errno;
    remove(tmp);
    return KILN_FAIL(err, KILN_EIO, "%s: cannot rename %s into place: %s", file, tmp, strerror(e));
  }
  return KILN_OK;
}

/* ------------------------------------------------------------------- read */

typedef struct reader {
  FILE *f;
  const char *file;
  long remaining; /* bytes left in the file */
  uint64_t hash;  /* of everything read so far */
} reader;

static kiln_status get(reader *r, void *p, size_t size, size_t count, const char *what,
                       kiln_error *err) {
  size_t bytes = size * count;
  if (!count) return KILN_OK;
  if ((unsigned long)r->remaining < bytes || fread(p, size, count, r->f) != count)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: truncated (expected %zu bytes of %s)", r->file,
                     bytes, what);
  r->remaining -= (long)bytes;
  r->hash = fnv1a(r->hash, p, bytes);
  return KILN_OK;
}

/* everything read before it is committed to md and the atoms */
typedef struct chk_data {
  char style[CHK_MAXNAME + 1];
  double dt, T, time;
  uint64_t seed, state_size;
  int64_t step, run_start, run_target;
  kiln_rng rng;
  int32_t has_spare;
  void *state;
  double energy, virial[9], stress[9];
  uint64_t n;
  double cell[9];
  int32_t pbc[3], nspecies;
  char species[KILN_MAX_SPECIES][KILN_SYMBOL_LEN];
  int32_t *type;
  double *mass;
  int64_t *id;
  double (*x)[3], (*v)[3], (*f)[3];
  int32_t has_ref;
  double (*xref)[3];
  double xcell[3][3];
} chk_data;

static void chk_free(chk_data *c) {
  free(c->state);
  free(c->type);
  free(c->mass);
  free(c->id);
  free(c->x);
  free(c->v);
  free(c->f);
  free(c->xref);
}

#define GET(p, size, count, what)                                                                  \
  do {                                                                                             \
    if ((st = get(r, (p), (size), (count), (what), err))) return st;                               \
  } while (0)

static kiln_status read_header(reader *r, const kiln_md *md, chk_data *c, kiln_error *err) {
  kiln_status st;
  char magic[8];
  uint32_t version, bom, len;
  GET(magic, 1, 8, "header");
  if (memcmp(magic, CHK_MAGIC, 8) != 0)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: not a kiln MD checkpoint (bad magic number)",
                     r->file);
  GET(&version, sizeof version, 1, "header");
  GET(&bom, sizeof bom, 1, "header");
  if (bom != CHK_BOM)
    return KILN_FAIL(err, KILN_EFORMAT,
                     "%s: checkpoint written on a machine of the other byte order", r->file);
  if (version != CHK_VERSION)
    return KILN_FAIL(err, KILN_EFORMAT,
                     "%s: checkpoint format version %u is not supported (this build reads %u)",
                     r->file, (unsigned)version, CHK_VERSION);
  GET(&len, sizeof len, 1, "header");
  if (len == 0 || len > CHK_MAXNAME)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: corrupt header (style name of %u bytes)", r->file,
                     (unsigned)len);
  GET(c->style, 1, len, "style name");
  c->style[len] = '\0';
  if (strcmp(c->style, md->style->name) != 0)
    return KILN_FAIL(err, KILN_EINVAL,
                     "%s: checkpoint was written by md style '%s', not '%s' as this integrator",
                     r->file, c->style, md->style->name);
  GET(&c->dt, sizeof c->dt, 1, "header");
  GET(&c->T, sizeof c->T, 1, "header");
  GET(&c->seed, sizeof c->seed, 1, "header");
  GET(&c->step, sizeof c->step, 1, "header");
  GET(&c->time, sizeof c->time, 1, "header");
  GET(&c->run_start, sizeof c->run_start, 1, "header");
  GET(&c->run_target, sizeof c->run_target, 1, "header");
  if (!(c->dt > 0.0) || !isfinite(c->dt) || !(c->T >= 0.0) || c->step < 0 ||
      c->run_start > c->step || c->run_target < c->run_start)
    return KILN_FAIL(err, KILN_EFORMAT,
                     "%s: corrupt header (dt %g fs, T %g K, step %lld, run %lld..%lld)", r->file,
                     c->dt, c->T, (long long)c->step, (long long)c->run_start,
                     (long long)c->run_target);
  GET(c->rng.s, sizeof c->rng.s[0], 4, "random number state");
  GET(&c->rng.spare, sizeof c->rng.spare, 1, "random number state");
  GET(&c->has_spare, sizeof c->has_spare, 1, "random number state");
  c->rng.has_spare = c->has_spare != 0;
  GET(&c->state_size, sizeof c->state_size, 1, "integrator state");
  if (c->state_size != md->style->state_size)
    return KILN_FAIL(err, KILN_EFORMAT,
                     "%s: the %s state has %llu bytes, expected %zu (written by another kiln "
                     "version?)",
                     r->file, c->style, (unsigned long long)c->state_size,
                     md->style->state_size);
  if (c->state_size) {
    if (!(c->state = malloc(c->state_size)))
      return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", r->file);
    GET(c->state, 1, c->state_size, "integrator state");
  }
  GET(&c->energy, sizeof c->energy, 1, "potential result");
  GET(c->virial, sizeof(double), 9, "potential result");
  GET(c->stress, sizeof(double), 9, "potential result");
  return KILN_OK;
}

static kiln_status read_atoms(reader *r, chk_data *c, kiln_error *err) {
  kiln_status st;
  GET(&c->n, sizeof c->n, 1, "atom count");
  GET(c->cell, sizeof(double), 9, "cell");
  GET(c->pbc, sizeof(int32_t), 3, "cell");
  GET(&c->nspecies, sizeof c->nspecies, 1, "species");
  if (c->nspecies < 0 || c->nspecies > KILN_MAX_SPECIES)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: corrupt species count %d", r->file,
                     (int)c->nspecies);
  GET(c->species, KILN_SYMBOL_LEN, (size_t)c->nspecies, "species");
  for (int s = 0; s < c->nspecies; s++)
    if (memchr(c->species[s], '\0', KILN_SYMBOL_LEN) == NULL)
      return KILN_FAIL(err, KILN_EFORMAT, "%s: corrupt species symbol %d", r->file, s + 1);

  /* check the size before allocating, so a corrupt count cannot ask for terabytes */
  const size_t n = (size_t)c->n;
  const struct {
    const char *what;
    size_t each;
  } sec[] = {{"types", sizeof(int32_t)},      {"masses", sizeof(double)},
             {"ids", sizeof(int64_t)},        {"positions", 3 * sizeof(double)},
             {"velocities", 3 * sizeof(double)}, {"forces", 3 * sizeof(double)}};
  size_t left = (size_t)r->remaining;
  for (size_t k = 0; k < sizeof sec / sizeof sec[0]; k++) {
    if (c->n > (uint64_t)(left / sec[k].each))
      return KILN_FAIL(err, KILN_EFORMAT, "%s: truncated (expected %llu bytes of %s)", r->file,
                       (unsigned long long)c->n * sec[k].each, sec[k].what);
    left -= n * sec[k].each;
  }
  if (n) {
    c->type = malloc(n * sizeof *c->type);
    c->mass = malloc(n * sizeof *c->mass);
    c->id = malloc(n * sizeof *c->id);
    c->x = malloc(n * sizeof *c->x);
    c->v = malloc(n * sizeof *c->v);
    c->f = malloc(n * sizeof *c->f);
    if (!c->type || !c->mass || !c->id || !c->x || !c->v || !c->f)
      return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory for %zu atoms", r->file, n);
    GET(c->type, sizeof *c->type, n, "types");
    GET(c->mass, sizeof *c->mass, n, "masses");
    GET(c->id, sizeof *c->id, n, "ids");
    GET(c->x, sizeof *c->x, n, "positions");
    GET(c->v, sizeof *c->v, n, "velocities");
    GET(c->f, sizeof *c->f, n, "forces");
    const int32_t ntypes = c->nspecies > 0 ? c->nspecies : 1;
    for (size_t i = 0; i < n; i++)
      if (c->type[i] < 0 || c->type[i] >= ntypes)
        return KILN_FAIL(err, KILN_EFORMAT, "%s: corrupt type %d of atom %zu (%d species)", r->file,
                         (int)c->type[i], i + 1, (int)c->nspecies);
  }
  GET(&c->has_ref, sizeof c->has_ref, 1, "neighbor-list flag");
  if (c->has_ref != 0 && (c->has_ref != 1 || n == 0))
    return KILN_FAIL(err, KILN_EFORMAT, "%s: corrupt neighbor-list flag %d (%zu atoms)", r->file,
                     (int)c->has_ref, n);
  if (c->has_ref) {
    if (c->n > (uint64_t)((size_t)r->remaining / (3 * sizeof(double))))
      return KILN_FAIL(err, KILN_EFORMAT, "%s: truncated (expected %llu bytes of %s)", r->file,
                       (unsigned long long)c->n * 3 * sizeof(double),
                       "neighbor-list positions");
    if (!(c->xref = malloc(n * sizeof *c->xref)))
      return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory for %zu atoms", r->file, n);
    GET(c->xref, sizeof *c->xref, n, "neighbor-list positions");
    GET(c->xcell, sizeof(double), 9, "neighbor-list cell");
  }
  char end[8];
  GET(end, 1, 8, "end marker");
  if (memcmp(end, CHK_END, 8) != 0)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: corrupt end marker", r->file);
  uint64_t want = r->hash, stored;
  GET(&stored, sizeof stored, 1, "checksum");
  if (stored != want)
    return KILN_FAIL(err, KILN_EFORMAT, "%s: checksum mismatch (the file is damaged)", r->file);
  return KILN_OK;
}
#undef GET

kiln_status kiln_md_checkpoint_read(kiln_md *md, kiln_atoms *a, const char *file,
                                    kiln_error *err) {
  if (!md || !a || !file)
    return KILN_FAIL(err, KILN_EINVAL, "checkpoint read: integrator, atoms and file are required");
  reader rd = {fopen(file, "rb"), file, 0, FNV_OFFSET};
  reader *r = &rd;
  if (!r->f) return KILN_FAIL(err, KILN_EIO, "%s: cannot open: %s", file, strerror(errno));
  if (fseek(r->f, 0, SEEK_END) != 0 || (r->remaining = ftell(r->f)) < 0 ||
      fseek(r->f, 0, SEEK_SET) != 0) {
    int e = errno;
    fclose(r->f);
    return KILN_FAIL(err, KILN_EIO, "%s: cannot determine the file size: %s", file, strerror(e));
  }
  chk_data c;
  memset(&c, 0, sizeof c);
  kiln_status st = read_header(r, md, &c, err);
  if (!st) st = read_atoms(r, &c, err);
  if (!st && r->remaining != 0)
    st = KILN_FAIL(err, KILN_EFORMAT, "%s: %ld unexpected bytes after the end marker", file,
                   r->remaining);
  fclose(r->f);
  if (!st) st = kiln_atoms_resize(a, (size_t)c.n, err);
  if (st) {
    chk_free(&c);
    return st;
  }

  /* commit */
  const size_t n = (size_t)c.n;
  if (n) {
    memcpy(a->type, c.type, n * sizeof *a->type);
    memcpy(a->mass, c.mass, n * sizeof *a->mass);
    memcpy(a->id, c.id, n * sizeof *a->id);
    memcpy(a->x, c.x, n * sizeof *a->x);
    memcpy(a->v, c.v, n * sizeof *a->v);
    memcpy(a->f, c.f, n * sizeof *a->f);
  }
  memcpy(a->cell, c.cell, sizeof a->cell);
  for (int d = 0; d < 3; d++) a->pbc[d] = c.pbc[d] != 0;
  a->nspecies = c.nspecies;
  memset(a->species, 0, sizeof a->species);
  memcpy(a->species, c.species, (size_t)c.nspecies * KILN_SYMBOL_LEN);

  md->dt = c.dt;
  md->T = c.T;
  md->seed = c.seed;
  md->step = (long)c.step;
  md->time = c.time;
  md->run_start = (long)c.run_start;
  md->run_target = (long)c.run_target;
  md->rng = c.rng;
  if (md->style->state_size) memcpy(md->state, c.state, md->style->state_size);
  md->last.energy = c.energy;
  memcpy(md->last.virial, c.virial, sizeof md->last.virial);
  memcpy(md->last.stress, c.stress, sizeof md->last.stress);
  md->last.eatom = NULL;
  /* md->nl is rebuilt from the saved reference positions at the start of the next run
   * (kiln_md_run), giving the list the writing run had; without them it is rebuilt
   * from the positions at the first step */
  kilni_md_impl *m = (kilni_md_impl *)md;
  free(m->xref);
  m->xref = c.xref;
  m->nxref = c.xref ? n : 0;
  memcpy(m->xcell, c.xcell, sizeof m->xcell);
  c.xref = NULL;
  chk_free(&c);
  if (md->nl) kiln_neigh_invalidate(md->nl);
  kilni_md_forces_mark(md, a, NULL, 1);
  kilni_md_thermo_fill(md, a);
  return KILN_OK;
}
