/* src/pot/pot_effective_hamiltonian.c: style "effective_hamiltonian", the local-mode +
 * strain effective Hamiltonian of BaTiO3 (Zhong, Vanderbilt & Rabe 1995 form with the
 * Nishimatsu et al. 2010 parameters by default) on pseudo-atoms, one per perovskite cell
 * (position = lattice site of the current cell + local mode u). Evaluated through
 * compute_full (no neighbor list): the grid, kernels and FFTs are in src/effham/. */
#include <stdlib.h>
#include <string.h>
#include "effham/effham.h"
#include "kiln/potential.h"
#include "pot/pot_internal.h"

#define DEFAULT_PARAMS "../shared/data/batio3-effective-hamiltonian/batio3_nishimatsu2010.params"

static void eh_destroy(void *state) {
  kilni_effham *s = state;
  if (!s) return;
  kilni_effham_free_grid(s);
  free(s->site);
  free(s);
}

static kiln_status eh_init(void **state, double *cutoff, const kiln_opts *o, kiln_error *err) {
  const char *what = "potential effective_hamiltonian";
  kilni_effham *s = calloc(1, sizeof *s);
  if (!s) return KILN_FAIL(err, KILN_ENOMEM, "%s: out of memory", what);
  const char *file = NULL, *mode = NULL;
  kiln_status st = kiln_opts_str(o, what, "params", 1, DEFAULT_PARAMS, &file, err);
  if (!st) st = kilni_effham_read_params(&s->P, file, err);
  /* any parameter may be overridden by an option of the same name */
  for (int k = 0; !st && k < KILNI_EFFHAM_NPAR; k++) {
    double *p = kilni_effham_parptr(&s->P, k);
    st = kiln_opts_num(o, what, kilni_effham_parnames[k], 1, *p, p, err);
  }
  if (!st) st = kiln_opts_str(o, what, "strain", 1, "cell", &mode, err);
  if (!st) {
    if (!strcmp(mode, "cell")) s->strain_mode = KILNI_EFFHAM_STRAIN_CELL;
    else if (!strcmp(mode, "relax")) s->strain_mode = KILNI_EFFHAM_STRAIN_RELAX;
    else if (!strcmp(mode, "none")) s->strain_mode = KILNI_EFFHAM_STRAIN_NONE;
    else st = KILN_FAIL(err, KILN_EINVAL, "%s: strain='%s' (expected \"cell\", \"relax\" or "
                        "\"none\")", what, mode);
  }
  double gpa = 0;
  if (!st) st = kiln_opts_num(o, what, "pressure", 1, 0.0, &gpa, err);
  s->pressure = gpa * KILNI_EFFHAM_GPA;
  if (!st) st = kiln_opts_bool(o, what, "inhomogeneous", 1, 1, &s->inho, err);
  if (!st) st = kiln_opts_bool(o, what, "dipole", 1, 1, &s->dipole, err);
  if (!st) st = kiln_opts_num(o, what, "ewald_kappa", 1, 0.0, &s->kappa_ewald, err);
  if (!st) {
    kiln_opts *e = kiln_opts_get(o, "field");
    if (e) {
      e->used = 1;
      if (e->kind != KILN_OPT_TABLE || kiln_opts_npos(e) != 3)
        st = KILN_FAIL(err, KILN_EINVAL, "%s: field must be a list of 3 numbers (V/A)", what);
      for (size_t c = 0; !st && c < 3; c++) {
        kiln_opts *v = kiln_opts_at(e, c);
        if (v->kind != KILN_OPT_NUM)
          st = KILN_FAIL(err, KILN_EINVAL, "%s: field[%zu] is not a number", what, c + 1);
        else s->field[c] = v->num;
      }
    }
  }
  if (!st) {
    kiln_opts *e = kiln_opts_get(o, "n");
    if (e) {
      e->used = 1;
      if (e->kind == KILN_OPT_NUM) {
        s->Lfix[0] = s->Lfix[1] = s->Lfix[2] = (int)e->num;
      } else if (e->kind == KILN_OPT_TABLE && kiln_opts_npos(e) == 3) {
        for (size_t c = 0; c < 3; c++) s->Lfix[c] = (int)kiln_opts_at(e, c)->num;
      } else {
        st = KILN_FAIL(err, KILN_EINVAL, "%s: n must be a number or {Lx, Ly, Lz}", what);
      }
      for (int c = 0; !st && c < 3; c++)
        if (s->Lfix[c] < 1)
          st = KILN_FAIL(err, KILN_EINVAL, "%s: n[%d] = %d must be >= 1", what, c + 1,
                         s->Lfix[c]);
    }
  }
  if (!st && !(s->P.a0 > 0))
    st = KILN_FAIL(err, KILN_EINVAL, "%s: a0 = %g must be > 0", what, s->P.a0);
  if (!st && s->dipole && !(s->P.epsinf > 0))
    st = KILN_FAIL(err, KILN_EINVAL, "%s: epsilon_inf = %g must be > 0", what, s->P.epsinf);
  if (!st && s->strain_mode == KILNI_EFFHAM_STRAIN_RELAX &&
      !(s->P.B11 - s->P.B12 > 0 && s->P.B11 + 2 * s->P.B12 > 0 && s->P.B44 > 0))
    st = KILN_FAIL(err, KILN_EINVAL, "%s: strain=\"relax\" needs B11 > B12, B11 + 2 B12 > 0 and "
                   "B44 > 0 (got %g %g %g)", what, s->P.B11, s->P.B12, s->P.B44);
  if (!st && s->inho && s->P.B11 == 0 && s->P.B44 == 0) s->inho = 0; /* strain switched off */
  if (!st) st = kiln_opts_check_unused(o, what, err);
  if (st) {
    eh_destroy(s);
    return st;
  }
  *state = s;
  *cutoff = 1.0; /* unused: the style needs no neighbor list */
  return KILN_OK;
}

static kiln_status eh_compute(void *state, const kiln_atoms *a, const kiln_neigh *nl,
                              kiln_pot_work *w, kiln_error *err) {
  (void)state; (void)a; (void)nl; (void)w;
  return KILN_FAIL(err, KILN_ESTATE, "potential effective_hamiltonian is evaluated through "
                   "compute_full");
}

static kiln_status eh_full(void *state, kiln_atoms *a, unsigned want, double *energy,
                           double virial[3][3], double *eatom, kiln_error *err) {
  return kilni_effham_eval(state, a, energy, (want & KILN_EVAL_FORCES) ? a->f : NULL, virial,
                           (want & KILN_EVAL_PERATOM) ? eatom : NULL, err);
}

const kiln_pot_style kiln_pot_effective_hamiltonian_style = {
    .name = "effective_hamiltonian",
    .description = "first-principles effective Hamiltonian of BaTiO3 (local soft mode u and "
                   "strain; one pseudo-atom per perovskite cell at its lattice site + u): "
                   "on-site 2nd-8th order, short range j1..j7, dipole-dipole Ewald by FFT, "
                   "elastic and strain-mode couplings; homogeneous strain = the cell",
    .citation = "W. Zhong, D. Vanderbilt, K. M. Rabe, PRB 52, 6301 (1995); T. Nishimatsu et al., "
                "PRB 78, 104104 (2008) (feram); T. Nishimatsu et al., PRB 82, 134106 (2010)",
    .options = "params=file (default ../shared/data/batio3-effective-hamiltonian/"
               "batio3_nishimatsu2010.params)\n"
               "strain=\"cell\"|\"relax\"|\"none\" homogeneous strain from the cell (default; "
               "for NpT), minimised each step (feram), or zero\n"
               "pressure=number GPa, strain=\"relax\" only (the barostat sets it otherwise)\n"
               "inhomogeneous=bool relax the acoustic (local) strain each step (default true)\n"
               "dipole=bool long-range dipole-dipole (default true)\n"
               "field={Ex,Ey,Ez} V/A external field (energy -Z* E.u)\n"
               "n=number or {Lx,Ly,Lz} grid of cells (default: cell lengths / a0)\n"
               "ewald_kappa=number 1/A Ewald splitting (default sqrt(pi)/a0)\n"
               "a0=number A (overrides the params file)\n"
               "Z_star=number e (overrides the params file)\n"
               "epsilon_inf=number - (overrides the params file)\n"
               "kappa2=number eV/A^2 (overrides the params file)\n"
               "alpha=number eV/A^4 (overrides the params file)\n"
               "gamma=number eV/A^4 (overrides the params file)\n"
               "k1=number eV/A^6 (overrides the params file)\n"
               "k2=number eV/A^6 (overrides the params file)\n"
               "k3=number eV/A^6 (overrides the params file)\n"
               "k4=number eV/A^8 (overrides the params file)\n"
               "j1=number eV/A^2 (overrides the params file)\n"
               "j2=number eV/A^2 (overrides the params file)\n"
               "j3=number eV/A^2 (overrides the params file)\n"
               "j4=number eV/A^2 (overrides the params file)\n"
               "j5=number eV/A^2 (overrides the params file)\n"
               "j6=number eV/A^2 (overrides the params file)\n"
               "j7=number eV/A^2 (overrides the params file)\n"
               "B11=number eV (overrides the params file)\n"
               "B12=number eV (overrides the params file)\n"
               "B44=number eV (overrides the params file)\n"
               "B1xx=number eV/A^2 (overrides the params file)\n"
               "B1yy=number eV/A^2 (overrides the params file)\n"
               "B4yz=number eV/A^2 (overrides the params file)\n"
               "mass_amu=number amu (overrides the params file)\n",
    .flags = KILN_POT_COMPOSITE | KILN_POT_HAVE_VIRIAL | KILN_POT_HAVE_PERATOM,
    .init = eh_init,
    .map_species = NULL,
    .compute = eh_compute,
    .destroy = eh_destroy,
    .compute_full = eh_full,
};
