/* kiln/io.h: structure files and trajectories.
 * Formats: "extxyz" (extended XYZ as ASE writes it; plain XYZ read too),
 * "lammps-data" (atom_style atomic), "lammps-dump" (custom text, read only),
 * "vasp" (POSCAR/CONTCAR, VASP 5 with symbols line), "h5md" (HDF5 trajectory).
 * Parse errors are KILN_EFORMAT with "file:line: field 'name': message (got 'value')". */
#ifndef KILN_IO_H
#define KILN_IO_H
#include "atoms.h"
#include "opts.h"

/* Format name from a file name: extensions .xyz .extxyz -> extxyz; .data .lmp or a
 * name starting "data." -> lammps-data; .dump .lammpstrj or "dump." -> lammps-dump;
 * names starting POSCAR or CONTCAR, or .vasp .poscar -> vasp; .h5 .h5md -> h5md.
 * NULL if unknown. */
const char *kiln_io_guess_format(const char *file);

/* Read every frame. *frames is a malloc'd array of nframes new atoms (caller frees
 * each with kiln_atoms_free and the array with free). o may be NULL; format-specific
 * options: lammps formats: symbols = {"Si","O"} (type i -> symbols[i]), style ("atomic");
 * any: index (frame, 0-based; negative counts from the end) to read only one frame. */
kiln_status kiln_io_read(const char *file, const char *format, const kiln_opts *o,
                         kiln_atoms ***frames, size_t *nframes, kiln_error *err);
/* Write frames (a single-frame format with nframes > 1 is KILN_EINVAL). Atomic:
 * written to a temporary file then renamed, unless appending. */
kiln_status kiln_io_write(const char *file, const char *format, const kiln_opts *o,
                          kiln_atoms *const *frames, size_t nframes, int append, kiln_error *err);

/* per format (same contracts) */
kiln_status kiln_xyz_read(const char *file, const kiln_opts *o, kiln_atoms ***frames,
                          size_t *nframes, kiln_error *err);
kiln_status kiln_xyz_write(const char *file, const kiln_opts *o, kiln_atoms *const *frames,
                           size_t nframes, int append, kiln_error *err);
kiln_status kiln_lammps_data_read(const char *file, const kiln_opts *o, kiln_atoms **out,
                                  kiln_error *err);
kiln_status kiln_lammps_data_write(const char *file, const kiln_opts *o, const kiln_atoms *a,
                                   kiln_error *err);
kiln_status kiln_lammps_dump_read(const char *file, const kiln_opts *o, kiln_atoms ***frames,
                                  size_t *nframes, kiln_error *err);
kiln_status kiln_poscar_read(const char *file, const kiln_opts *o, kiln_atoms **out,
                             kiln_error *err);
kiln_status kiln_poscar_write(const char *file, const kiln_opts *o, const kiln_atoms *a,
                              kiln_error *err);

/* H5MD trajectory (HDF5). Layout: /h5md (version, author, creator),
 * /particles/all/{position,velocity,force}/{step,time,value} with value chunked
 * along frames and deflate-compressed, /particles/all/box (dimension, boundary,
 * edges/{step,time,value} as 3x3 per frame), species as /particles/all/species
 * (fixed, int) plus the symbol table as an attribute; mass likewise.
 * The file is flushed after every append so readers see complete frames while a
 * run is still writing (SWMR is not required: readers reopen to see new frames). */
typedef struct kiln_traj kiln_traj;
#define KILN_TRAJ_POS 0x1u
#define KILN_TRAJ_VEL 0x2u
#define KILN_TRAJ_FORCE 0x4u
/* mode "r", "w" (truncate) or "a" (append to an existing file or create). */
kiln_status kiln_traj_open(kiln_traj **out, const char *file, const char *mode, kiln_error *err);
/* what: KILN_TRAJ_* fixed by the first append (later appends must match). */
kiln_status kiln_traj_append(kiln_traj *t, const kiln_atoms *a, long step, double time,
                             unsigned what, kiln_error *err);
kiln_status kiln_traj_nframes(kiln_traj *t, size_t *n, kiln_error *err);
/* Frame i (0-based; negative from the end) as new atoms. */
kiln_status kiln_traj_read(kiln_traj *t, long i, kiln_atoms **out, long *step, double *time,
                           kiln_error *err);
kiln_status kiln_traj_close(kiln_traj *t, kiln_error *err);  /* frees t; NULL ok */

/* ---- frame by frame (streaming) reading: one frame in memory at a time.
 * Formats as kiln_io_read (format NULL: guessed from the name); o: the reader options
 * of kiln_io_read (symbols = {...}, units for LAMMPS files; style for lammps-data) but
 * not index. lammps-dump uses a fast parser (large block reads, a hand-written exact
 * decimal parser); extxyz is parsed one frame at a time; h5md reads frame by frame;
 * lammps-data and vasp give their single frame.
 * Each frame equals the corresponding frame of kiln_io_read (same atoms order: LAMMPS
 * dumps sorted by atom id, info "step"/"time" likewise). A LAMMPS dump must keep the
 * atoms (set of ids) and columns of its first frame (else KILN_EFORMAT naming the line). */
typedef struct kiln_frames kiln_frames;
kiln_status kiln_frames_open(kiln_frames **out, const char *file, const char *format,
                             const kiln_opts *o, kiln_error *err);
/* Next frame into *a: pass *a = NULL the first time (allocated; the caller frees it with
 * kiln_atoms_free after the last call), then the same pointer: it is refilled in place
 * (the pointer stays the same; for lammps-dump nothing is allocated per frame; for other
 * formats the storage may move: a->generation changes). *got = 0 at the end of the file
 * (then *a is unchanged). step: the file's step (dump TIMESTEP, h5md step, extxyz info
 * "step"), else the 0-based frame index; time (fs): the file's time (dump ITEM: TIME,
 * h5md time, extxyz info "time"), else NAN. step and time may be NULL. */
kiln_status kiln_frames_next(kiln_frames *r, kiln_atoms **a, long *step, double *time, int *got,
                             kiln_error *err);
/* Number of frames if known without reading the file (h5md: exact; lammps-data, vasp:
 * 1), else -1 (dumps, extxyz). */
long kiln_frames_count(kiln_frames *r);
/* Frames returned so far. */
long kiln_frames_index(const kiln_frames *r);
void kiln_frames_close(kiln_frames *r);  /* NULL is a no-op */
#endif
