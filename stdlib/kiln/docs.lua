-- kiln.docs: documentation strings for help(), keyed by dotted path
-- ("kiln.io.read") or Type:method ("kiln.Atoms:positions"). The first line of
-- each text is its summary (shown in lists); the rest is shown by help(x).
-- Modules and types also carry their own `__help` text (set in kiln/init.lua),
-- which help() prefers for those. Units: Å, eV, amu, fs, K, e.

local D = {}

-- Modules that are not fields of the kiln table itself, with one-line summaries
-- (help() lists them under "More modules").
D.modules = {
  {"plot", "figures through gnuplot: lines, heatmaps, MD thermo (PNG/SVG/PDF)"},
  {"help", "help(x) on modules, objects, functions and styles"},
  {"correlator", "streaming correlators: S(q,ω), VACF/DOS, phonons from MD, dipole, maps"},
  {"qpoints", "Brillouin-zone paths, zones, |q| shells, spherical averaging (commensurate q)"},
  {"phonons", "force constants from any potential, dispersion, DOS, thermal displacements"},
  {"ins", "neutron/X-ray/electron weights, quantum corrections, Debye-Waller, spectra"},
  {"instruments", "TOSCA, MAPS, ARCS, IN1-Lagrange and user instruments: resolution, kinematics"},
}

---------------------------------------------------------------- kiln.crystal
D["kiln.crystal.fcc"] = [[
fcc{symbol=, a=} -> kiln.Atoms: conventional face-centred cubic cell, 4 atoms, a in Å.
Example: kiln.crystal.fcc{symbol="Cu", a=3.615}:supercell(3, 3, 3)]]
D["kiln.crystal.bcc"] = [[
bcc{symbol=, a=} -> kiln.Atoms: conventional body-centred cubic cell, 2 atoms, a in Å.]]
D["kiln.crystal.sc"] = [[
sc{symbol=, a=} -> kiln.Atoms: simple cubic cell, 1 atom, a in Å.]]
D["kiln.crystal.diamond"] = [[
diamond{symbol=, a=} -> kiln.Atoms: conventional diamond cell, 8 atoms, a in Å.
Example: kiln.crystal.diamond{symbol="Si", a=5.431}:supercell(4, 4, 4)]]
D["kiln.crystal.hcp"] = [[
hcp{symbol=, a=, c=} -> kiln.Atoms: hexagonal close-packed cell, 2 atoms (c defaults to sqrt(8/3) a).]]
D["kiln.crystal.rocksalt"] = [[
rocksalt{A=, B=, a=} -> kiln.Atoms: conventional rock-salt cell, 8 atoms (4 A, 4 B).]]
D["kiln.crystal.perovskite"] = [[
perovskite{A=, B=, X=, a=} -> kiln.Atoms: cubic ABX3 perovskite, 5 atoms.
Example: kiln.crystal.perovskite{A="Ba", B="Ti", X="O", a=4.00}]]
D["kiln.crystal.hbn"] = [[
hbn{A=, B=, a=, c=20} -> kiln.Atoms: honeycomb monolayer (2 atoms) with vacuum c along z.]]
D["kiln.crystal.from_cell"] = [[
from_cell{cell=3x3, symbols={...}, scaled_positions={{..},...}} -> kiln.Atoms: any cell.]]

---------------------------------------------------------------- kiln.io
D["kiln.io.read"] = [[
read(file[, {format=, index=}]) -> list of kiln.Atoms, or one kiln.Atoms; nil, msg if unreadable.
Formats: extxyz, lammps-data, lammps-dump, vasp, h5md (guessed from the name).
Per-frame properties (energy, forces, stress, ...) are in a.info and a:array(name).]]
D["kiln.io.write"] = [[
write(file, atoms_or_list[, {format=, append=false}]): write one or more structures.]]
D["kiln.io.trajectory"] = [[
trajectory(file, mode) -> kiln.Trajectory: an H5MD trajectory, mode "r", "w" or "a".
Pass it in md:run's observe= list to record frames; traj:read(i) reads them back.]]
D["kiln.io.guess_format"] = [[
guess_format(file) -> format name ("extxyz", "vasp", ...) or nil.]]

---------------------------------------------------------------- kiln.units
D["kiln.units.convert"] = [[
convert(value, from, to) -> number: unit conversion, e.g. convert(1, "eV", "kJ/mol").]]

---------------------------------------------------------------- kiln.Atoms
D["kiln.Atoms:positions"] = [[
a:positions() -> kiln.Array n x 3 (Å), a view: writing to it moves the atoms.]]
D["kiln.Atoms:velocities"] = [[
a:velocities() -> kiln.Array n x 3 (Å/fs), a view.]]
D["kiln.Atoms:forces"] = [[
a:forces() -> kiln.Array n x 3 (eV/Å), a view; filled by pot:compute(a) and md:run.]]
D["kiln.Atoms:masses"] = [[
a:masses() -> kiln.Array n x 1 (amu), a view.]]
D["kiln.Atoms:symbols"] = [[
a:symbols() -> list of element symbols, one per atom.]]
D["kiln.Atoms:cell"] = [[
a:cell() -> 3x3 table, rows are the cell vectors a, b, c (Å).]]
D["kiln.Atoms:volume"] = [[
a:volume() -> cell volume (Å^3).]]
D["kiln.Atoms:set_velocities"] = [[
a:set_velocities{T=300, seed=1}: Maxwell–Boltzmann velocities at T (K), zero total momentum.
Also a:set_velocities(array_or_table) sets them directly (Å/fs).]]
D["kiln.Atoms:copy"] = [[
a:copy() -> kiln.Atoms: an independent copy.]]
D["kiln.Atoms:supercell"] = [[
a:supercell(nx[, ny, nz]) -> kiln.Atoms: the cell repeated nx x ny x nz times.]]
D["kiln.Atoms:wrap"] = [[
a:wrap(): move atoms back into the cell along periodic directions.]]
D["kiln.Atoms:rattle"] = [[
a:rattle{sigma=0.001, seed=1}: add Gaussian noise of width sigma (Å) to the positions.]]
D["kiln.Atoms:temperature"] = [[
a:temperature() -> instantaneous kinetic temperature (K).]]
D["kiln.Atoms:kinetic_energy"] = [[
a:kinetic_energy() -> kinetic energy (eV).]]
D["kiln.Atoms:distance"] = [[
a:distance(i, j[, mic=true]) -> distance between atoms i and j (Å), minimum image by default.]]
D["kiln.Atoms:close"] = [[
a:close(): free the atoms now (also `local a <close> = ...`).]]

---------------------------------------------------------------- kiln.Potential
D["kiln.Potential:compute"] = [[
pot:compute(a) -> {energy= (eV), forces= kiln.Array (eV/Å), virial= 3x3 (eV), stress= 3x3 (eV/Å^3)}
The forces are also stored in a:forces(). virial = -stress*V, as ASE writes it.]]
D["kiln.Potential:energy"] = [[
pot:energy(a) -> potential energy (eV).]]
D["kiln.Potential:close"] = [[
pot:close(): free the potential now.]]

---------------------------------------------------------------- kiln.Integrator
D["kiln.Integrator:run"] = [[
md:run(a, pot, nsteps[, {every=, observe={...}, thermo=, progress=true, checkpoint=}]) -> thermo
Runs nsteps steps; observers are called every `every` steps; Ctrl-C stops at a step boundary.]]
D["kiln.Integrator:thermo"] = [[
md:thermo() -> {step=, time= (fs), T= (K), epot=, ekin=, etot= (eV), pressure= (GPa), ...}]]
D["kiln.Integrator:checkpoint"] = [[
md:checkpoint(file[, atoms]): write everything needed to continue the run bit for bit.]]
D["kiln.Integrator:restore"] = [[
md:restore(file, atoms): read a checkpoint back (replaces the atoms' contents).]]

---------------------------------------------------------------- kiln.Trajectory
D["kiln.Trajectory:append"] = [[
traj:append(a, {step=, time=}): add a frame (positions, and velocities/forces when present).]]
D["kiln.Trajectory:read"] = [[
traj:read(i) -> atoms, step, time: frame i (1-based; negative counts from the end).]]

---------------------------------------------------------------- kiln.plot
D["kiln.plot"] = [[
kiln.plot: figures through gnuplot; the .gp script and .dat data stay beside the figure.
Returns the figure path, or nil, message (e.g. "gnuplot not found (install gnuplot-nox)").]]
D["kiln.plot.lines"] = [[
lines{file=, title=, xlabel=, ylabel=, y2label=, logx=, logy=, series={{x=, y=, label=, axis=2}, ...}}
One line per series; axis=2 puts a series on the right y axis. Returns the figure path.]]
D["kiln.plot.heatmap"] = [[
heatmap{file=, x=, y=, z=, xlabel=, ylabel=, cblabel=, logz=}: colour map, z[i][j] at (x[i], y[j]).]]
D["kiln.plot.thermo"] = [[
thermo(rows, file): total energy and temperature versus time from md thermo rows {time=, etot=, T=}.]]
D["kiln.plot.available"] = [[
available() -> true, terminal | false, message: whether gnuplot can make PNG files here.]]

---------------------------------------------------------------- kiln.correlator
D["kiln.correlator.new"] = [[
new(style, opts) -> kiln.Correlator: the same as kiln.correlator[style](opts).]]
D["kiln.correlator.styles"] = [[
styles() -> list of records {name=, description=, citation=, options=, kind="correlator"}.]]
D["kiln.correlator.feed"] = [[
feed(file, {c1, c2, ...} or c[, opts]): the frames of a trajectory file, one pass for all.
One frame is in memory at a time. Options: format= (guessed from the name),
start=1, stop= (1-based frame numbers, inclusive), every=1 (every n-th frame), timestep= (fs
per MD step: frame times from step numbers, for LAMMPS dumps), symbols={...} (LAMMPS types),
progress=true (a progress line with rate and ETA on a terminal). Ctrl-C stops cleanly
("interrupted!"); the correlators keep the frames fed so far.]]
D["kiln.correlator.write"] = [[
write(file.h5, res[, {group="/", append=false}]): a result table to HDF5.
kiln.Arrays (or lists) are datasets ("unit"/"description" attributes from res.units/res.descriptions), nested
tables as subgroups, top-level numbers/strings and res.attrs as group attributes.
Atomic (temporary file + rename) unless append (adds the group; an existing group is an error).]]
D["kiln.correlator.convert"] = [[
convert(x, from, to): x (number, kiln.Array or list) in another unit (a new value).
Example: convert(res.omega, "rad/fs", "cm-1").]]
D["kiln.correlator.to_meV"] = [[
to_meV(omega) -> ħω in meV, for ω in rad/fs (number, kiln.Array or list).]]
D["kiln.correlator.to_THz"] = [[
to_THz(omega) -> ω/2π in THz, for ω in rad/fs (number, kiln.Array or list).]]
D["kiln.Correlator:add"] = [[
c:add(atoms[, time]) -> c: feed one frame (time in fs; frames evenly spaced and in time order;
without times the option dt= gives the spacing).]]
D["kiln.Correlator:feed"] = [[
c:feed(file[, opts]) -> c: every frame of a trajectory file (options as kiln.correlator.feed).]]
D["kiln.Correlator:result"] = [[
c:result() -> table: everything so far (may be called mid-run). Arrays are kiln.Array; item
"a/b" is res.a.b; res.units and res.descriptions have the same nesting; attributes (style,
dt (fs), nframes, ...) are in res.attrs and also plain fields (res.dt) unless an item has the name.]]
D["kiln.Correlator:write"] = [[
c:write(file.h5[, {group="/", append=false}]) -> c: the result to HDF5 (see kiln.correlator.write).]]
D["kiln.Correlator:close"] = [[
c:close(): free the correlator now (not while md:run uses it).]]

---------------------------------------------------------------- kiln.help
D["kiln.help"] = [[
help(x): documentation for a module, object, function or style; help() lists the modules.]]
D["kiln.help.text"] = [[
text(x) -> string: what help(x) prints.]]
D["kiln.help.show"] = [[
show(x): print the help for x (the same as help(x)).]]
D["kiln.help.register"] = [[
register(value, text) -> value: document your own function or table; help(value) prints text.]]

return D
