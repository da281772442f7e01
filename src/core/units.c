/* src/core/units.c: conversions between named units of one dimension.
 * Each unit is a factor to the dimension's base unit (eV, Å, fs, GPa, rad/fs).
 * Constants: CODATA 2018 (exact SI definitions where applicable). */
#include <string.h>
#include "kiln/units.h"

typedef struct { const char *name; double factor; } unit;

static const unit energy[] = {
    {"eV", 1.0},
    {"meV", 1e-3},
    {"kJ/mol", 1.0 / 96.485332123310018},   /* 1 eV = e*NA/1000 kJ/mol */
    {"kcal/mol", 4.184 / 96.485332123310018},
    {"Ha", 27.211386245988},
    {"Ry", 13.605693122994},
    {"J", 1.0 / 1.602176634e-19},
    {NULL, 0}};
static const unit length[] = {
    {"A", 1.0}, {"Ang", 1.0}, {"Angstrom", 1.0}, {"nm", 10.0}, {"bohr", 0.529177210903},
    {"m", 1e10}, {NULL, 0}};
static const unit timeu[] = {{"fs", 1.0}, {"ps", 1e3}, {"s", 1e15}, {NULL, 0}};
static const unit pressure[] = {
    {"GPa", 1.0},
    {"eV/A^3", KILN_EV_PER_A3_TO_GPA},
    {"bar", 1e-4},
    {"atm", 1.01325e-4},
    {"Pa", 1e-9},
    {NULL, 0}};
/* Frequency and its energy equivalent E = ħω; base rad/fs. */
static const unit freq[] = {
    {"rad/fs", 1.0},
    {"THz", KILN_THZ_TO_RADFS},
    {"meV", 1e-3 / KILN_HBAR},
    {"eV", 1.0 / KILN_HBAR},
    {"cm-1", 0.0299792458 * KILN_THZ_TO_RADFS}, /* c = 2.99792458e10 cm/s */
    {NULL, 0}};

static const unit *const dims[] = {energy, length, timeu, pressure, freq};

static const unit *find(const unit *t, const char *name) {
  for (; t->name; t++)
    if (strcmp(t->name, name) == 0) return t;
  return NULL;
}

int kiln_units_convert(double value, const char *from, const char *to, double *out) {
  if (!from || !to || !out) return -1;
  for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
    const unit *a = find(dims[d], from), *b = find(dims[d], to);
    if (a && b) {
      *out = value * a->factor / b->factor;
      return 0;
    }
  }
  return -1;
}
