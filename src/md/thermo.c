/* src/md/thermo.c: thermodynamic output of a run (kiln_thermo) and its text
 * formatting. Pressure = (2 KE + tr W) / (3 V), converted from eV/Å^3 to GPa. */
#include <math.h>
#include <stdio.h>
#include "md_internal.h"
#include "kiln/units.h"

void kilni_md_thermo_fill(kiln_md *md, const kiln_atoms *a) {
  kiln_thermo *th = &md->thermo;
  const double dof = kiln_atoms_dof(a);
  th->step = md->step;
  th->time = md->time;
  th->ekin = kiln_atoms_kinetic_energy(a);
  th->T = dof > 0.0 ? 2.0 * th->ekin / (dof * KILN_KB) : 0.0;
  th->epot = md->last.energy;
  th->etot = th->epot + th->ekin;
  th->volume = kiln_atoms_volume(a);
  const double trw = md->last.virial[0][0] + md->last.virial[1][1] + md->last.virial[2][2];
  th->pressure = th->volume > 0.0
                     ? (2.0 * th->ekin + trw) / (3.0 * th->volume) * KILN_EV_PER_A3_TO_GPA
                     : 0.0;
  th->conserved = th->etot + (md->style->reservoir ? md->style->reservoir(md) : 0.0);
  /* cell lengths and angles, pressure tensor */
  const double(*c)[3] = (const double(*)[3])a->cell;
  double len[3];
  for (int k = 0; k < 3; k++) len[k] = sqrt(c[k][0] * c[k][0] + c[k][1] * c[k][1] + c[k][2] * c[k][2]);
  for (int k = 0; k < 3; k++) {
    const int i = (k + 1) % 3, j = (k + 2) % 3;
    const double d = c[i][0] * c[j][0] + c[i][1] * c[j][1] + c[i][2] * c[j][2];
    th->lengths[k] = len[k];
    th->angles[k] = len[i] > 0.0 && len[j] > 0.0
                        ? acos(fmax(-1.0, fmin(1.0, d / (len[i] * len[j])))) * 180.0 / M_PI
                        : 0.0;
  }
  double K[3][3] = {{0}};
  for (size_t n = 0; n < a->n; n++) {
    const double *v = a->v[n], m = a->mass[n];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) K[i][j] += m * v[i] * v[j];
  }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      th->ptensor[i][j] = th->volume > 0.0 ? (K[i][j] * KILN_MVV2E + md->last.virial[i][j]) /
                                                  th->volume * KILN_EV_PER_A3_TO_GPA
                                            : 0.0;
  if (md->style->thermo) md->style->thermo(md, a, th);
}

void kiln_md_get_thermo(const kiln_md *md, kiln_thermo *th) { *th = md->thermo; }

/* Column widths shared by the header and the rows. */
enum { W_STEP = 10, W_TIME = 11, W_T = 10, W_E = 16, W_P = 11, W_V = 13 };

void kiln_thermo_header(char *buf, size_t len) {
  if (!buf || !len) return;
  /* "Volume(Å3)": Å takes two bytes in UTF-8, so the field is one byte wider */
  snprintf(buf, len, "%*s %*s %*s %*s %*s %*s %*s %*s %*s", W_STEP, "Step", W_TIME, "Time(ps)",
           W_T, "Temp(K)", W_E, "PotEng(eV)", W_E, "KinEng(eV)", W_E, "TotEng(eV)", W_P,
           "Press(GPa)", W_V + 1, "Volume(\xc3\x85" "3)", W_E, "Conserved");
}

void kiln_thermo_row(const kiln_thermo *th, char *buf, size_t len) {
  if (!buf || !len) return;
  snprintf(buf, len, "%*ld %*.5f %*.3f %*.6f %*.6f %*.6f %*.5f %*.3f %*.6f", W_STEP, th->step,
           W_TIME, th->time * 1e-3, W_T, th->T, W_E, th->epot, W_E, th->ekin, W_E, th->etot, W_P,
           th->pressure, W_V, th->volume, W_E, th->conserved);
}
