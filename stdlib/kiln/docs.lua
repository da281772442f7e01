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
  {"descriptor", "atomic-environment descriptors: SNAP bispectrum, SOAP, SOAP vectors; design rows"},
  {"ml", "regression kernels: weighted ridge, sparse GP, farthest-point sampling"},
  {"train", "MLIP datasets, splits, SNAP/qSNAP/GAP fits, metrics, parity plots, committees"},
  {"oracle", "labelling structures: any kiln potential, CP2K, any program; cached by hash"},
  {"active", "active learning: explore by MD, select by committee disagreement, label, retrain"},
  {"dipole", "per-atom dipole (vector) models: polarization of a cell, Born charges, MD observer"},
  {"wave", "fast-electron waves: plane waves, probes with aberrations, zone-axis orientation"},
  {"multislice", "multislice propagation, frozen-phonon diffraction, STEM detectors, 4D-STEM"},
  {"tds", "electron diffraction analysis: line profiles, FWHM, scale fits, log images"},
  {"cv", "collective variables: cell parameters, perovskite polarization, Steinhardt Q4/Q6, Lua CVs"},
  {"metad", "well-tempered metadynamics on one or two CVs, reweighting"},
  {"replica", "temperature replica exchange (one process)"},
  {"phase", "phase analysis: PCA, Gaussian mixtures, populations, Δμ(T), T_c, FEP, profiles"},
  {"fit", "Levenberg–Marquardt fits with covariance, bounds and weights; line shapes"},
  {"dielectric", "static dielectric tensor, Curie–Weiss fits, χ(ω), damped-oscillator fits"},
  {"lattice", "lattice Monte Carlo: occupation models, Metropolis/Kawasaki/SGC, fits to images"},
  {"effham", "BaTiO3 effective Hamiltonian: pseudo-atom lattice, parameters, order parameters"},
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

---------------------------------------------------------------- kiln.ml (mlcore)
D["kiln.ml.ridge"] = [[
ridge{A=, b=, w=, lambda=0} -> x (kiln.Array n x 1), rank: weighted ridge least squares.
Minimises sum_r w_r (A_r.x - b_r)^2 + lambda |x|^2 by SVD (LAPACK dgelsd) of the scaled,
lambda-augmented system; rank is its effective rank. A: m x n (Array or table of rows);
b, w: m values (w may be a number; default 1). Example: x = kiln.ml.ridge{A=A, b=b, lambda=1e-8}]]
D["kiln.ml.sgpr"] = [[
sgpr{K=, y=, sigma=, Kmm=, jitter=1e-10} -> alpha (kiln.Array m x 1): sparse GP weights.
alpha = (Kmm + K^T S^-2 K)^-1 K^T S^-2 y (projected process), solved by Cholesky of
Kmm + jitter I and QR. K: nobs x m rows against m sparse points; sigma: noise per row (same
units as y) or one number. Prediction: K alpha.]]
D["kiln.ml.fps"] = [[
fps(X, m[, {start=1}]) -> idx, mind: farthest-point sampling of m rows of X (Euclidean).
idx: 1-based rows in the order chosen; mind[k]: distance of row idx[k] to those chosen
before it (mind[1] = math.huge).]]
D["kiln.ml.kernel"] = [[
kernel(X, elX, S, elS, zeta) -> K (kiln.Array n x m): K[i][s] = (x_i.s_s / |x_i||s_s|)^zeta
when elX[i] == elS[s], else 0 (elX/elS: 1-based element lists, or nil for one element).]]
D["kiln.ml.vstack"] = [[
vstack{A1, A2, ...} -> kiln.Array: the rows of the blocks stacked (same column count).]]
D["kiln.ml.matvec"] = [[
matvec(A, x) -> kiln.Array (rows x 1): the product A x (x: list or Array of #cols values).]]
D["kiln.Descriptor:compute"] = [[
d:compute(atoms) -> X (kiln.Array n x ncols), el (list: 1-based element index of each atom).]]
D["kiln.Descriptor:design"] = [[
d:design(atoms[, {forces=true, virial=true}]) -> {energy=, forces=, virial=, counts=}: rows of
the linear model E = sum_i w.X_i: energy 1 x ncols (sum_i X_i), forces 3n x ncols (row 3(j-1)+c
is the force on atom j along c per unit w), virial 6 x ncols (Voigt xx yy zz yz xz xy,
W = sum r (x) f, eV), counts = atoms per element. Predictions: kiln.ml.matvec(rows.forces, w).]]
D["kiln.Descriptor:kernel_design"] = [[
d:kernel_design(atoms, {X=S, el=elS}[, {zeta=4, forces=true, virial=true}]) -> the rows of
E = sum_i sum_s alpha_s k(x_i, s_s) with the polynomial kernel of kiln.ml.kernel (m columns).]]
D["kiln.Descriptor:close"] = [[
d:close(): free the descriptor now.]]

---------------------------------------------------------------- kiln.train (helper "train")
D["kiln.train.read"] = [[
read(path[, {format=, group=, group_key=, energy_key=, forces_key=, weight=}]) -> dataset
Labelled structures from extended XYZ (energy, forces prop, virial or stress, dipole/
polarization, config_type), a FitSNAP JSON directory (one subdirectory per group; Stress in
bar is the LAMMPS pressure tensor: virial = +Stress*V) or an mlearn JSON list. A dataset is a
list of records {atoms=, energy= (eV), forces= (Array n x 3, eV/Å), virial= (3x3, eV, -stress*V),
dipole=, group=, id=, weight=}. Example: train.read("../shared/data/fitsnap-Ta-JCP2014/JSON")]]
D["kiln.train.write"] = [[
write(file.xyz, ds[, {append=false}]): records as extended XYZ (train.read reads them back).]]
D["kiln.train.label"] = [[
label(list_of_atoms, pot[, {group=, forces=true, virial=true}]) -> dataset labelled by a kiln potential.]]
D["kiln.train.summary"] = [[
summary(ds) -> {n=, natoms=, groups={name={n=, natoms=, energies=, forces=, virials=}}}]]
D["kiln.train.groups"] = [[
groups(ds) -> sorted group names, {name = {record indices}}]]
D["kiln.train.select"] = [[
select(ds, {"GroupA", ...} or function(record) -> bool) -> dataset]]
D["kiln.train.concat"] = [[
concat(ds1, ds2, ...) -> one dataset]]
D["kiln.train.split"] = [[
split(ds, {fractions={0.8,0.1,0.1}, seed=1, by="group", holdout={"Liquid"}}) -> {train=, validation=, test=}
Reproducible by seed. by="group": every group split with the same fractions (stratified);
holdout: whole groups go to test.]]
D["kiln.train.snap"] = [[
snap{data=, twojmax=, rcutfac=, rfac0=, rmin0=, radelem=, wj=, elements=, quadratic=false,
     weights={default={energy=, force=, virial=}, <group>={...}}, lambda=1e-8, baseline=, out=}
-> model {potential=, coeff=, coefficients=, files={coeff=, param=}, metrics=, time=}
Weighted ridge fit of SNAP/qSNAP with FitSNAP's rows: energy per atom (eV/atom), forces
(eV/Å), virial per atom (eV/atom) or stress= (bar, FitSNAP's vweight); weights multiply
residuals. Writes LAMMPS .snapcoeff/.snapparam. The baseline is subtracted, then added back.]]
D["kiln.train.read_fitsnap_input"] = [[
read_fitsnap_input(file.in) -> {snap={twojmax=, ...}, weights={group={energy=, force=, stress=}},
fractions=, reference=, <SECTION>={key=string}}: a FitSNAP input file for train.snap.]]
D["kiln.train.write_snap"] = [[
write_snap(prefix, params, {coeff_list per element}) -> {coeff=, param=}: LAMMPS SNAP files.]]
D["kiln.train.read_snapcoeff"] = [[
read_snapcoeff(file) -> {elements=, radelem=, wj=, coeff={per element list}}]]
D["kiln.train.gap"] = [[
gap{data=, soap={nmax=, lmax=, cutoff=, elements=, ...}, nsparse=100 | "all", zeta=4,
    sigma={energy= (eV/atom), force= (eV/Å) or false, virial=}, e0="auto", baseline=, out=}
-> model {potential= (kiln.potential.soap_gap), alpha=, sparse=, e0=, files={model=}, metrics=}
Sparse GP on energies and forces; sparse points by farthest-point sampling per element.]]
D["kiln.train.metrics"] = [[
metrics(model_or_pot, ds[, {by_group=true}]) -> {energy= (eV/atom), energy_total= (eV),
force= (eV/Å), virial= (eV), stress= (GPa), groups={name={...}}}, each {rmse=, mae=, r2=, max=, n=}]]
D["kiln.train.predict"] = [[
predict(model, ds) -> list of {energy=, forces=, virial=}]]
D["kiln.train.report"] = [[
report(metrics[, {print=true, title=}]) -> text: per-group table (meV/atom, eV/Å, GPa)]]
D["kiln.train.parity"] = [[
parity(model, ds[, {file="parity.png", title=}]) -> file: energy and force parity panels (gnuplot)]]
D["kiln.train.learning_curve"] = [[
learning_curve{fit=function(ds) return model end, data=, test=, sizes={...}, seed=, file=}
-> {rows={{size=, train=, test=}}}: errors versus training-set size (integers: structures,
floats <= 1: fractions); file= draws the curve.]]
D["kiln.train.sweep"] = [[
sweep{fit=function(params) return model end, grid={lambda={...}, twojmax={...}}, validation=, score=}
-> {points={{params=, metrics=, score=}}, best=}; default score: E RMSE (eV/atom) + F RMSE (eV/Å).]]
D["kiln.train.committee"] = [[
committee{fit=function(ds, i) return model end, data=, k=4, method="bootstrap"|"kfold", seed=}
(or committee{members={...}}) -> c with c:predict(atoms) -> {energy=, energy_std=, forces=,
force_std= (n x 1, rms over members of |F_m - F_mean|), max_force_std=}, c:disagreement(ds),
c:potential() (mean SNAP coefficients as a SNAP model; else the first member).]]
D["kiln.train.read_snapparam"] = [[
read_snapparam(file) -> {keyword = value}: a LAMMPS .snapparam file.]]
D["kiln.train.snap_model"] = [[
snap_model(params, x, {out=, baseline=}) -> model: a SNAP model from a coefficient list
x = {beta0 per element, then the descriptor columns} (writes the files and loads them).]]
D["kiln.train.snap_ncoeff"] = [[
snap_ncoeff(twojmax) -> number of linear bispectrum components (30 for 2J=6).]]

---------------------------------------------------------------- kiln.dipole
D["kiln.dipole.fit"] = [[
fit{data=, vector={soap_vector options}, scalar={soap options}|false, zeta=2, nsparse=100,
sigma=0.05 | lambda=, jitter=1e-8, fold_quantum=true, quantum=1, reference=1, elements=}
-> kiln.DipoleModel: lambda=1 kernel model of per-atom dipoles (e·Å) fitted to the total
dipoles of the records ({atoms=, dipole={x,y,z}, weight=}); sparse GP (sigma, e·Å) or ridge
(lambda); sparse environments by farthest-point sampling per element. See doc/dipole.md.]]
D["kiln.dipole.fold"] = [[
fold(data[, {quantum=1, reference=1|record, born_charges=true}]) -> dipoles, report:
the records' dipoles moved by lattice vectors (quantum e·R) onto one branch, chaining
nearest structures with their Born charges; report.nfolded, .ncomponents, .ngroups.]]
D["kiln.dipole.load"] = [[
load(file) -> kiln.DipoleModel: a model written by model:save (kiln_dipole text format 1).]]
D["kiln.DipoleModel:predict"] = [[
model:predict(atoms) -> {total={Mx, My, Mz} (e·Å), atoms=kiln.Array n x 3 (per-atom dipoles)}]]
D["kiln.DipoleModel:dipole"] = [[
model:dipole(atoms) -> Mx, My, Mz (e·Å)]]
D["kiln.DipoleModel:polarization"] = [[
model:polarization(atoms) -> {Px, Py, Pz} = M/V in µC/cm²]]
D["kiln.DipoleModel:born_charges"] = [[
model:born_charges(atoms) -> kiln.Array n x 9 (e): row j, column 3(a-1)+b = dM_a/dr_jb]]
D["kiln.DipoleModel:save"] = [[
model:save(file): write the model (kiln_dipole text format 1, doc/dipole.md).]]
D["kiln.DipoleModel:observer"] = [[
model:observer{every=, file=, info=true} -> md:run observer, series {step=, time=, M=}:
M of each observed frame, written to file and (info) to the frame's info "dipole" so a
kiln.correlator.dipole listed after it uses the model's dipoles.]]


---------------------------------------------------------------- kiln.oracle
D["kiln.oracle.potential"] = [[
potential(pot[, {cache=, key=, group=}]) -> oracle labelling with any kiln potential.
Records {atoms=, energy= (eV), forces= (Array n x 3, eV/Å), virial= (3x3, eV, ASE sign), id=, group=}.
The cache key holds the style and cutoff (and key=, any string that tells potentials apart).
Example: local o = kiln.oracle.potential(kiln.potential.sw{file="/usr/share/lammps/potentials/Si.sw"})]]
D["kiln.oracle.cp2k"] = [[
cp2k{...} -> oracle running CP2K (Quickstep, ENERGY_FORCE) as a subprocess (see doc/oracle.md).
Options: command="cp2k", template=nil (built-in), xc="PBE", basis="DZVP-MOLOPT-SR-GTH",
potential="GTH-PBE" (names or {Si=..., O=...}), cutoff=400, rel_cutoff=60 (Ry),
kpoints={n1,n2,n3} or nil (Gamma), charge=0, multiplicity=1, scf={eps=1e-7, max=100},
smearing=nil (K), timeout=3600 (s), threads=1, workdir=nil, keep=false,
data_dir="/usr/share/cp2k", cache=, key=, group=.
o:input(atoms) -> the input text. Errors: CP2K missing (apt-get install cp2k cp2k-data),
non-zero exit (last lines of the output), SCF not converged, timeout.]]
D["kiln.oracle.command"] = [[
command{command="prog {input} {output}", timeout=3600, workdir=, keep=false, cache=, key=} -> oracle.
Runs the command with sh -c. {input}: extxyz of the structure; {output}: the extxyz the program
writes (energy= in the comment line, a forces column, optional stress= (eV/Å^3, ASE sign) or
virial= (eV)); {dir}: the working directory.]]
D["kiln.oracle.new"] = [[
new{kind=, settings=, evaluate=function(o, atoms) return {energy=, forces=, virial=} end, cache=}
-> an oracle from a Lua function; settings (a table) is hashed into the cache key.]]
D["kiln.oracle.hash"] = [[
hash(atoms) -> 16 hex digits: FNV-1a 64-bit hash of the symbols, pbc, and the cell and
positions rounded to 1e-8 Å (kiln.oracle.canonical(atoms) is the hashed text).]]
D["kiln.oracle.canonical"] = [[
canonical(atoms) -> string: the text kiln.oracle.hash hashes (count, pbc, cell, symbols, positions in 1e-8 Å).]]
D["kiln.oracle.fnv1a"] = [[
fnv1a(text) -> 16 hex digits: the 64-bit FNV-1a hash of a string.]]
D["kiln.oracle.parse_cp2k"] = [[
parse_cp2k(text, natoms, volume) -> {energy= (eV), forces= (eV/Å), virial= (eV)} or nil, message:
reads a CP2K ENERGY_FORCE output (Hartree, Hartree/Bohr, GPa; virial = P*V).]]
D["kiln.oracle.serialize"] = [[
serialize(value) -> string: the deterministic text of a settings table (sorted keys) that is hashed.]]
D["kiln.oracle.Oracle"] = [[
Oracle: what kiln.oracle.potential/cp2k/command/new return.
  o:label(atoms | record | list) -> record(s) {atoms=, energy=, forces=, virial=, id=, group=}
  o:cached(atoms) -> boolean      o:use_cache(dir)
  o.calls (real evaluations)  o.hits (cache hits)  o.seconds (time in evaluations)
  o.kind  o.settings  o.settings_hash]]

---------------------------------------------------------------- kiln.active
D["kiln.active.run"] = [[
run{oracle=, fit=function(ds, i) -> model, k=4, data= or initial={atoms=, n=8, rattle=0.05, strain=0},
  explore={T={300}, steps=200, every=20, dt=1, damping=100, atoms=, md=, rmin=},
  select={threshold=0.1 (eV/Å), max=10, diversity="fps", descriptor=}, iterations=5,
  converge={disagreement=, rmse=}, validation=, dir="al_run", resume=true, seed=1,
  oracle_errors="raise" (or "skip": leave out structures the oracle fails on)} -> report
Fit a committee, explore by MD with its mean potential, select snapshots whose committee
disagreement (max atomic force std) is above the threshold, farthest-point diverse, label them
with the oracle, retrain. Checkpointed in dir (dataset.xyz, state.lua, PNGs); a rerun resumes.
report: {iterations={{n_train=, n_selected=, disagreement={mean=, max=, hist=}, rmse=}, ...},
final=, committee=, model=, potential=, data=}. See doc/active.md.]]
D["kiln.active.read_dataset"] = [[
read_dataset(file) -> dataset: the records of an active-learning dataset.xyz (with ids and groups).]]
D["kiln.active.write_dataset"] = [[
write_dataset(file, ds): records to extxyz (energy, virial, forces column, group, id), atomically.]]

---------------------------------------------------------------- kiln.tds
D["kiln.tds"] = [[
kiln.tds: electron diffraction pattern analysis: line profiles, FWHM, scale fits, log images.
A pattern is {I = kiln.Array ny x nx, dk = {dkx, dky} (1/Å per pixel)}, direct beam at row
ny//2+1, column nx//2+1, k = 1/d (no 2π). See doc/tds.md.]]
D["kiln.tds.profile"] = [[
profile(p, {from={h,k[,l]}, to=, recip= | from_k={kx,ky}, to_k=, n=, width= (1/Å), width_px=})
-> {s= (1/Å from `from`), I=, k= ({kx,ky} per point), from_k=, to_k=, length=}: intensities on the
straight line by bilinear interpolation, averaged across `width`. recip: reciprocal basis vectors
projected on the pattern (1/Å), k = sum h_i recip[i] (tds.reciprocal(cell) gives them).
Example: tds.profile(p, {from_k={-0.5, 0.128}, to_k={0.5, 0.128}, width=0.02})]]
D["kiln.tds.fwhm"] = [[
fwhm(profile or pattern, opts) -> fwhm (1/Å), info | nil, message: distance between the
half-maximum crossings (linear interpolation) around the peak.
Profile {s=, I=}: at= (s), window= (half-width around at), search=. Pattern: at={h,k} with recip=
or k={kx,ky}, along={ux,uy} (default kx), window= (1/Å, default 10 pixels), search=, width=.
background= number | "min" | "linear" (line through the window ends); default 0.
info: {position=, peak=, background=, height=, left=, right=, k= (pattern)}.]]
D["kiln.tds.fit_scale"] = [[
fit_scale(sim, meas, {background=false, weights=}) -> {scale=, background=, r2=, residual=, rms=, n=}
Weighted linear least squares meas ≈ scale*sim (+ background). sim, meas: lists, profiles {I=} or
Arrays of equal length; NaN or zero-weight points are left out. r2 = 1 - SS_res/SS_tot.]]
D["kiln.tds.image"] = [[
image(p, {file="p.png", log=true, crop= (1/Å), range={lo,hi}, decades=4, exclude=2, marks={{k=, label=, radius=}},
line={{kx1,ky1},{kx2,ky2}}, title=, cblabel=, size=}) -> path | nil, message
Pattern image through gnuplot (kx, ky in 1/Å, equal scales), log colour scale by default from the
largest value outside `exclude` pixels of the direct beam down `decades` decades. Keeps .gp and .dat.]]
D["kiln.tds.plot_profiles"] = [[
plot_profiles({prof1, ...}, {file=, labels=, logy=, marks={{s=, label=}}, title=, xlabel=, ylabel=})
-> path | nil, message: intensity along the line of each profile (kiln.plot.lines).]]
D["kiln.tds.reciprocal"] = [[
reciprocal(cell) -> {{a*x, a*y}, {b*x, b*y}, {c*x, c*y}} (1/Å, no 2π): the reciprocal vectors of a
cell (rows in Å, beam along z) projected on the pattern plane; recip= for indexed points.]]
D["kiln.tds.pattern"] = [[
pattern(I, dk[, extra]) -> {I=, dk={dkx, dky}, ...}: a pattern table from a kiln.Array, or from a
function I(kx, ky) sampled on extra.nx x extra.ny centred pixels; other extra fields are copied.]]
D["kiln.tds.sample"] = [[
sample(p, kx, ky) -> intensity at (kx, ky) (1/Å) by bilinear interpolation; nil outside the pattern.]]

---------------------------------------------------------------- kiln.wave / kiln.multislice
D["kiln.wave"] = [[
kiln.wave: fast-electron waves (kiln.Wave) and zone-axis orientation. new{extent=, gpts= |
sampling=, energy=, precision=}, orient(atoms, {u,v,w}), zone001/zone110/zone111,
wavelength(E), sigma(E). See doc/multislice-lua.md.]]
D["kiln.wave.new"] = [[
new{extent={lx,ly} (Å), gpts={nx,ny} | sampling= (Å), energy= (eV), precision="float32"|"float64"}
-> kiln.Wave (a unit plane wave). Methods: plane(), probe{x=, y=, semiangle= (mrad),
aberrations={defocus=, Cs=, C12=, phi12=, ...} (Å, rad)}, intensity(), amplitude(), phase()
(Array ny x nx), norm(), diffraction{crop=} (pattern table), copy().]]
D["kiln.wave.orient"] = [[
orient(atoms, {u,v,w}[, {max_index=6}]) -> atoms, info: the structure with [uvw] along z in an
orthogonal supercell built from integer combinations of the lattice vectors (cubic, tetragonal,
orthorhombic cells; an error names the lattice when impossible). info = {lattice=, indices=,
cells=, rotation=, recip= (old reciprocal vectors in the beam frame, 1/Å), repeat_length=}.
Example: local z = kiln.wave.orient(sto, {1,1,0})   -- a x a√2 x a√2 for a cubic perovskite]]
D["kiln.wave.zone001"] = [[zone001(atoms) = orient(atoms, {0,0,1}) (also zone110, zone111).]]
D["kiln.wave.zone110"] = [[zone110(atoms) = orient(atoms, {1,1,0}).]]
D["kiln.wave.zone111"] = [[zone111(atoms) = orient(atoms, {1,1,1}).]]
D["kiln.wave.wavelength"] = [[wavelength(E) -> relativistic electron wavelength (Å) at E (eV).]]
D["kiln.wave.sigma"] = [[sigma(E) -> interaction parameter (rad/(V·Å)) at E (eV).]]
D["kiln.multislice"] = [[
kiln.multislice: multislice propagation, frozen-phonon diffraction (Einstein, kiln.phonons
samples, MD frames, an md:run observer), STEM detectors, 4D-STEM HDF5, partially coherent
source. new{...} -> kiln.Multislice. See doc/multislice-lua.md.]]
D["kiln.multislice.new"] = [[
new{energy= (eV), gpts={nx,ny} | sampling= (Å), slice=2 (Å), projection="infinite"|"finite",
precision="float32"|"float64", threads=0 (configurations run at once; 0: all)} ->
kiln.Multislice. The extent comes from each configuration's orthogonal cell (beam along c = z;
use kiln.wave.orient). Methods: diffraction, frozen_phonons, observer, stem, propagate, result,
reset. Example: local ms = kiln.multislice.new{energy=200e3, sampling=0.05, slice=1.9525}]]
D["kiln.Multislice:diffraction"] = [[
ms:diffraction(atoms | {atoms, ...}[, {crop=false, probe=}]) -> pattern {I= Array ny x nx
(fraction of the beam per pixel, direct beam at centre={nx//2+1, ny//2+1}), dk={1/lx,1/ly},
count=, kmax=, ...}; a list is averaged incoherently. crop: the antialiased square |k| <= kmax.]]
D["kiln.Multislice:frozen_phonons"] = [[
ms:frozen_phonons{source="einstein", atoms=, sigma={El=σ (Å, per direction)}, n=16, seed=1}
| {source="phonons", phonons=ph, T=, quantum=true, n=, seed=, zone=}
| {source={atoms, ...}} | {source="traj.h5", start=, stop=, every=} ; crop=, probe=
-> mean pattern over the configurations (runs in parallel, one workspace per thread).
PIMD beads: not available yet.]]
D["kiln.Multislice:observer"] = [[
ms:observer{every=1, probe=} -> a new kiln.Multislice for md:run's observe list: it averages
the diffraction of every every-th step (not step 0); fp:result{crop=} -> pattern, fp.count.]]
D["kiln.Multislice:stem"] = [[
ms:stem{atoms=, scan={x0=, y0=, x1=, y1=, n={nx,ny}}, semiangle= (mrad), aberrations=,
detectors={bf={0,10}, adf={40,100}, haadf={80,200}} (mrad), sigma=, configs=, seed=,
source_size= (Å FWHM, partial coherence), source_points=3, file="4d.h5", crop=false}
-> {bf=Array ny x nx, ..., x={...}, y={...}}. file: /data float32 [scan_y][scan_x][ky][kx],
one pattern per chunk, /kx /ky /scan_x /scan_y.]]
D["kiln.Multislice:propagate"] = [[
ms:propagate(wave, atoms) -> wave: through every slice of the atoms (grid, energy and precision
of the wave must match).]]
D["kiln.Multislice:result"] = [[
ms:result{crop=false} -> the mean pattern of the configurations added so far (observer).]]

---------------------------------------------------------------- kiln.fit / kiln.dielectric
D["kiln.fit.lm"] = [[
lm{f=function(x, p) -> y, x=, y=, p0= | residual=function(p) -> {r...}, p0=; weights= | sigma=,
bounds={lower=, upper=}, fixed={bool...}, jacobian=, maxit=200, tol=1e-8, names=} -> result
Levenberg–Marquardt (Marquardt scaling, Cholesky normal equations; bounds by projection).
result: {p=, err=, cov= (scaled by chi2/dof unless sigma given), chi2=, dof=, chi2_reduced=, r2=,
yfit=, residuals=, iterations=, converged=, message=, at_bound=}. See doc/fit.md.]]
D["kiln.fit.dho"] = [[
dho(omega, y, {n=1|2, sigma= | weights=, range={wmin,wmax}, p0=, background=false}) -> lm result
+ oscillators={{omega0=, gamma=, A=, err={...}}, ...} sorted by omega0; guesses from peak finding.
Model: sum of A w0^2 w g / ((w0^2 - w^2)^2 + (w g)^2), omega in rad/fs.]]
D["kiln.fit.shapes"] = [[
shapes.dho(w, {w0, g, A}) chi''; dho_complex(w, p) -> chi', chi''; dho_s(w, p, {T=, quantum=true})
S(w) = [n+1] chi''/pi (detailed balance); lorentzian(x, {x0, fwhm, area}); gaussian(x, {x0, fwhm, area}).]]
D["kiln.dielectric.static"] = [[
static{M= (list of {Mx,My,Mz} e·Å, n x 3 Array or dipole series {M=}), V= (Å^3), T= (K), eps_inf=1,
nblocks=10, skip=0} -> {eps=3x3, err=3x3 (block jackknife), eps_iso=, err_iso=, cov_M=, mean_M=, factor=}
eps = eps_inf + (<MM> - <M><M>)/(eps0 V kB T), eps0 = 5.526349406e-3 e^2/(eV Å).]]
D["kiln.dielectric.curie_weiss"] = [[
curie_weiss(T, eps, {errors=, range={Tmin,Tmax}, background=false|true|number, p0=})
-> {C=, T0=, eps_b=, err={C=, T0=, eps_b=}, cov=, chi2=, dof=, r2=, converged=, f=function(T)}.]]
D["kiln.dielectric.chi"] = [[
chi(src, {omega=, eps_inf=1, dt=, T=, V=, window=}) -> {omega=, freq=, chi_real=, chi_imag=, eps_real=,
eps_imag=, eps_static=}: from a kiln.correlator.dipole, its result, or a dipole series (fed to one).]]
D["kiln.dielectric.dho_fit"] = [[
dho_fit(src, {n=1|2, range=, sigma=, background=, p0=, + chi options}) -> kiln.fit.dho on chi''(w),
oscillators with nu0 (THz); r.chi is the chi table.]]

---------------------------------------------------------------- kiln.phase
D["kiln.phase.pca"] = [[
pca(X, {center=true, scale=false, k=d, weights=}) -> {mean=, scale=, components= (rows: unit axes,
largest variance first), variance=, ratio=, scores= (n x k), k=}; p:transform(Y) projects new rows.
X: kiln.Array n x d or table of rows. Example: local p = kiln.phase.pca(X); print(p.ratio[1])]]
D["kiln.phase.gmm"] = [[
gmm(X, {k= | kmax= (BIC over 1..kmax), seed=1, restarts=3, tol=1e-5, maxit=500, weights=,
covariance="full"|"diag", reg=1e-6}) -> model {k, d, weights, means, covariances, loglik, bic, aic,
nparams, n_eff, selection={{k=, bic=}, ...}}: EM from weighted k-means++ starts, log-sum-exp.
model:posterior(X) -> n x k phase probabilities; model:predict(X) -> labels; model:logpdf(X).
Example: local m = kiln.phase.gmm(X, {kmax=5}); local P = m:posterior(X)]]
D["kiln.phase.populations"] = [[
populations(P | labels, {weights=, k=, nblocks=20}) -> fractions, errors (block jackknife).
P: n x k posteriors (model:posterior) or a list of labels 1..k.]]
D["kiln.phase.delta_g"] = [[
delta_g(pA, pB, T) -> -kB T ln(pB/pA) (eV)  |  delta_g{P=, A=1, B=2, T=, weights=, nblocks=20}
-> dG, err (jackknife over blocks of the phase series).]]
D["kiln.phase.block_average"] = [[
block_average(series, {nblocks=20, weights=}) -> mean, sem, info {nblocks, block_means, block_size}.
Blocks must be longer than the correlation time.]]
D["kiln.phase.combine"] = [[
combine{run1, run2, ...} -> mean, err, info: numbers (mean, sd/sqrt(N)) or {value, err}
(inverse-variance mean; err scaled by sqrt(chi2/dof) when > 1).]]
D["kiln.phase.delta_mu"] = [[
delta_mu(T, dG, {errors=, scale=false}) -> fit {a, b, a_err, b_err, cov, Tc= -a/b, Tc_err, dH=a,
dS=-b, chi2, dof}: Δμ(T) = a + b T (eV) by weighted least squares; fit:at(T) -> value, err.]]
D["kiln.phase.tc"] = [[
tc{T=, dG=, errors=} | tc{T=, P={series per T}, A=1, B=2, nblocks=, weights=} -> the delta_mu fit
(+ T, dG, errors); print(fit) shows T_c ± err.]]
D["kiln.phase.fep"] = [[
fep{energies_A=, energies_B= | dE= | frames=, A=, B=; T=, weights=, nblocks=20, bootstrap=N, seed=}
-> {dG, err, n_eff, n, mean_dE, dG2, method}: dG = -kT ln<exp(-(E_B-E_A)/kT)>_A (eV), frames
sampled in A; A=/B=: kiln.Potential, oracle or function(atoms) -> eV evaluated on frames=.]]
D["kiln.phase.profile"] = [[
profile(cv, {T=, bins=50, range={min,max}, weights=, nblocks=10}) -> {s=, F= (eV, min 0), err=, p=,
edges=, counts=, n_eff=}: F(s) = -kT ln p(s); empty bins F = math.huge.]]
D["kiln.phase.plot_map"] = [[
plot_map(X2, P, {file="map.png", phase=, model=, xlabel=, ylabel=, title=, colors=, size=})
-> path or nil, msg: CV map (n x 2) with points coloured by the posterior-weighted phase colours
(or by P(phase j) with phase=j); model= marks the means. gnuplot; .gp and .dat kept.]]

---------------------------------------------------------------- kiln.lattice
D["kiln.lattice.model"] = [[
model{sites=atoms|{{x,y},...}, cell=, species={"A","B",...}, shells=, tol=0.05, pairs={{shell=1,"A","B",J=}},
clusters={{"A","A","B",K=}}, mu={A=}, composition={A=}, occupation=, order={sublattice=|k=, species=}}
-> kiln.LatticeModel: occupation model with neighbour shells found by distance. See doc/lattice.md.]]
D["kiln.lattice.binder_crossing"] = [[
binder_crossing(r1, r2, {lo=, hi=}) -> kT where the reweighted Binder cumulants of two runs cross.]]
D["kiln.lattice.cv_peak"] = [[
cv_peak(run | {runs}, {lo=, hi=, n=60}) -> kT of the heat-capacity maximum (reweighted), C_v there.]]
D["kiln.lattice.scan"] = [[
scan{model=, kT={...}|T={...}, sweeps=, equil=, move=, seed=} -> rows {kT, E, cv, m, U, c, result}.]]
D["kiln.lattice.phase_diagram"] = [[
phase_diagram{model=, kT={...}, composition={...}, sweeps=, equil=} -> {order[i][j], cv[i][j]} (swaps).]]
D["kiln.lattice.observed"] = [[
observed(cfg, {species=, shells=, tol=0.1, cell=}) -> model on observed sites; cfg {{x,y,"A"},...},
{x=,y=,species=} or a kiln.Atoms (an open image unless cell= is given).]]
D["kiln.lattice.distance"] = [[
distance(p, q, "bhattacharyya"|"wootters"|"kl") -> statistical distance of two histograms.]]
D["kiln.lattice.fit"] = [[
fit{model=, observed={cfg,...}, params={{shell=1,"A","B"},...}, mu={"A"}, kT=|T=, move=, env_shells=,
distance="bhattacharyya", samples=400, iterations=24, average=8} -> {J=, mu=, distance=, history=}:
pair energies (and mu) minimising the distance between observed and model environment
distributions (MC + reweighting + Nelder-Mead). The model keeps the fitted values.]]
D["kiln.lattice.nelder_mead"] = [[
nelder_mead(f, x0, {step=, tol=, xtol=, maxit=400}) -> x, f(x): derivative-free minimisation.]]
D["kiln.LatticeModel:run"] = [[
m:run{kT=|T=, sweeps=1000, equil=0, every=1, move="flip"|"swap"|"swap_local"|"cluster", seed=}
-> result r: r.energy, r.order, r.counts, r.acceptance; r:at(kT) -> {E, cv, m, m2, m4, U, c, ess}.]]
D["kiln.LatticeModel:environments"] = [[
m:environments{shells=1} -> {p=, counts=, n=, types=}: histogram of local environments (own species
and neighbour species counts per shell; sites with incomplete shells left out).]]
D["kiln.LatticeModel:energy"] = [[m:energy() -> interaction energy of the current occupation.]]
D["kiln.LatticeModel:flip_delta"] = [[m:flip_delta(i, species) -> energy change if site i changes species.]]
D["kiln.LatticeModel:swap_delta"] = [[m:swap_delta(i, j) -> energy change if sites i and j exchange species.]]
D["kiln.LatticeModel:randomize"] = [[m:randomize{composition={A=0.5,...}, seed=1}: random occupation with exact counts.]]

return D
