-- The built-in CP2K input template of kiln.oracle.cp2k (see doc/oracle.md).
-- {{NAME}} placeholders are filled in by kiln.oracle; a user template (template="file.inp")
-- uses the same names. Every placeholder must be known to kiln.oracle (an unknown one is an
-- error), and a user template need not use all of them.
--   PROJECT          project name (output files are PROJECT-*)
--   BASIS_FILES      one "BASIS_SET_FILE_NAME <path>" line per basis file
--   POTENTIAL_FILES  one "POTENTIAL_FILE_NAME <path>" line per pseudopotential file
--   CHARGE MULTIPLICITY UKS      total charge, spin multiplicity, "UKS" when multiplicity > 1
--   CUTOFF REL_CUTOFF            plane-wave cutoffs (Ry)
--   EPS_SCF MAX_SCF              SCF convergence (Hartree) and iteration limit
--   SMEAR            a &SMEAR section and ADDED_MOS (Fermi-Dirac) or nothing
--   KPOINTS          a &KPOINTS section (Monkhorst-Pack) or nothing (Gamma point)
--   XC               the functional name of &XC_FUNCTIONAL (PBE, LDA, BLYP, ...)
--   POISSON          a &POISSON section for non-periodic cells, else nothing
--   CELL             "A ax ay az" / "B ..." / "C ..." lines (Å)
--   PERIODIC         XYZ or NONE
--   STRESS           ANALYTICAL (periodic cells) or NONE
--   COORD            one "Sym x y z" line per atom (Å), in the atoms' order
--   KINDS            one &KIND section per element (BASIS_SET, POTENTIAL)
return [[
&GLOBAL
  PROJECT {{PROJECT}}
  RUN_TYPE ENERGY_FORCE
  PRINT_LEVEL LOW
&END GLOBAL
&FORCE_EVAL
  METHOD Quickstep
  STRESS_TENSOR {{STRESS}}
  &DFT
{{BASIS_FILES}}
{{POTENTIAL_FILES}}
    CHARGE {{CHARGE}}
    MULTIPLICITY {{MULTIPLICITY}}
    {{UKS}}
{{POISSON}}
    &MGRID
      CUTOFF {{CUTOFF}}
      REL_CUTOFF {{REL_CUTOFF}}
    &END MGRID
    &QS
      EPS_DEFAULT 1.0E-12
    &END QS
{{KPOINTS}}
    &SCF
      EPS_SCF {{EPS_SCF}}
      MAX_SCF {{MAX_SCF}}
      SCF_GUESS ATOMIC
{{SMEAR}}
      &MIXING
        METHOD BROYDEN_MIXING
        ALPHA 0.4
      &END MIXING
      &PRINT
        &RESTART OFF
        &END RESTART
      &END PRINT
    &END SCF
    &XC
      &XC_FUNCTIONAL {{XC}}
      &END XC_FUNCTIONAL
    &END XC
  &END DFT
  &SUBSYS
    &CELL
{{CELL}}
      PERIODIC {{PERIODIC}}
    &END CELL
    &COORD
{{COORD}}
    &END COORD
{{KINDS}}
  &END SUBSYS
  &PRINT
    &FORCES ON
    &END FORCES
    &STRESS_TENSOR ON
    &END STRESS_TENSOR
  &END PRINT
&END FORCE_EVAL
]]
