/* tests/c/test_atoms.c: atoms container, cell geometry, supercells, kinetics and
 * crystal builders, against hand-computed values. */
#include <stdlib.h>
#include "check.h"
#include "kiln/atoms.h"
#include "kiln/crystal.h"
#include "kiln/units.h"

/* triclinic cell with hand values: volume 4*5*6 = 120 (lower triangular) */
static const double TRI[3][3] = {{4, 0, 0}, {1, 5, 0}, {0.5, 1.5, 6}};

static void frac_to_cart(const double cell[3][3], const double s[3], double x[3]) {
  for (int d = 0; d < 3; d++) x[d] = s[0] * cell[0][d] + s[1] * cell[1][d] + s[2] * cell[2][d];
}

/* Minimum image distance over all pairs (images -2..2, enough for these cells). */
static double nn_distance(const kiln_atoms *a) {
  double best = INFINITY;
  for (size_t i = 0; i < a->n; i++)
    for (size_t j = 0; j < a->n; j++)
      for (int p = -2; p <= 2; p++)
        for (int q = -2; q <= 2; q++)
          for (int r = -2; r <= 2; r++) {
            if (i == j && !p && !q && !r) continue;
            double d2 = 0;
            for (int e = 0; e < 3; e++) {
              double dx = a->x[j][e] + p * a->cell[0][e] + q * a->cell[1][e] + r * a->cell[2][e] -
                          a->x[i][e];
              d2 += dx * dx;
            }
            best = fmin(best, sqrt(d2));
          }
  return best;
}

TEST(test_new_resize_append) {
  kiln_error err = {0};
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_atoms_new(&a, 3, &err));
  CHECK(a->n == 3 && a->id[0] == 1 && a->id[2] == 3 && a->nspecies == 0);
  CHECK(a->x[2][2] == 0 && a->mass[1] == 0 && a->pbc[0] == 0 && a->cell[1][1] == 0);
  CHECK_OK(kiln_atoms_set_symbol(a, 0, "Si", &err));
  CHECK_OK(kiln_atoms_set_symbol(a, 1, "Cu", &err));
  CHECK_OK(kiln_atoms_set_symbol(a, 2, "Si", &err));
  CHECK(a->nspecies == 2 && a->type[2] == 0 && a->type[1] == 1);
  CHECK(a->mass[0] == 28.085 && a->mass[1] == 63.546); /* ASE masses */
  CHECK(strcmp(kiln_atoms_symbol(a, 1), "Cu") == 0);
  CHECK_ERR(kiln_atoms_set_symbol(a, 0, "Xx", &err), KILN_EINVAL, "unknown element 'Xx'");
  CHECK_ERR(kiln_atoms_set_symbol(a, 3, "Si", &err), KILN_ERANGE, "out of range");
  int32_t t = -1;
  CHECK_OK(kiln_atoms_species_index(a, "X", &t, &err)); /* any 1..7 char label */
  CHECK(t == 2 && a->nspecies == 3);
  CHECK_ERR(kiln_atoms_species_index(a, "TooLongX", &t, &err), KILN_EINVAL, "1..7 characters");

  a->x[1][0] = 1.5;
  a->v[1][1] = 0.25;
  unsigned g = a->generation;
  CHECK_OK(kiln_atoms_resize(a, 100, &err));
  CHECK(a->generation != g && a->n == 100 && a->capacity >= 100);
  CHECK(a->x[1][0] == 1.5 && a->v[1][1] == 0.25 && a->mass[1] == 63.546);
  CHECK(a->x[99][0] == 0 && a->type[99] == 0 && a->mass[99] == 0 && a->id[99] == 100);
  CHECK_OK(kiln_atoms_resize(a, 2, &err));
  CHECK(a->n == 2 && a->x[1][0] == 1.5);
  double x[3] = {1, 2, 3};
  CHECK_OK(kiln_atoms_append(a, "O", x, &err));
  CHECK(a->n == 3 && a->x[2][1] == 2 && a->mass[2] == 15.999 && a->id[2] == 3);
  CHECK(strcmp(kiln_atoms_symbol(a, 2), "O") == 0 && a->nspecies == 4);
  CHECK_ERR(kiln_atoms_append(a, "Qq", x, &err), KILN_EINVAL, "unknown element 'Qq'");
  CHECK(a->n == 3);
  kiln_atoms_free(a);
  kiln_atoms_free(NULL);

  CHECK_OK(kiln_atoms_new(&a, 0, &err)); /* empty, then grow by appends */
  for (int i = 0; i < 50; i++) {
    x[0] = i;
    CHECK_OK(kiln_atoms_append(a, "Ar", x, &err));
  }
  CHECK(a->n == 50 && a->x[49][0] == 49 && a->id[49] == 50 && a->nspecies == 1);
  kiln_atoms_free(a);
}

TEST(test_periodic_table) {
  CHECK(kiln_element_z("H") == 1 && kiln_element_z("Si") == 14 && kiln_element_z("Og") == 118);
  CHECK(kiln_element_z("SI") == 0 && kiln_element_z("si") == 0 && kiln_element_z("") == 0);
  CHECK(kiln_element_z(NULL) == 0 && kiln_element_z("X") == 0);
  CHECK(strcmp(kiln_element_symbol(29), "Cu") == 0 && kiln_element_symbol(0) == NULL);
  CHECK(kiln_element_symbol(119) == NULL);
  CHECK(kiln_element_mass(14) == 28.085 && kiln_element_mass(29) == 63.546);
  CHECK(kiln_element_mass(1) == 1.008 && kiln_element_mass(79) == 196.966569);
  CHECK(kiln_element_mass(0) == 0.0);
}

TEST(test_cell_geometry) {
  kiln_error err = {0};
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_atoms_new(&a, 2, &err));
  CHECK_OK(kiln_atoms_set_cell(a, TRI, 0, &err));
  CHECK_CLOSE(kiln_atoms_volume(a), 120.0, 1e-14, 0);
  double h[3];
  kiln_cell_heights(a->cell, h);
  /* h_a = V/|b x c| = 120/sqrt(937), h_b = V/|c x a| = 120/sqrt(612), h_c = V/|a x b| = 6 */
  CHECK_CLOSE(h[0], 3.920229122308807, 1e-14, 0);
  CHECK_CLOSE(h[1], 4.85071250072666, 1e-14, 0);
  CHECK_CLOSE(h[2], 6.0, 1e-14, 0);

  double inv[3][3], s[3], y[3];
  CHECK_OK(kiln_cell_inverse(a->cell, inv, &err));
  kiln_atoms_to_frac(a, inv, TRI[1], s); /* lattice vector b -> (0,1,0) */
  CHECK_CLOSE(s[0], 0, 0, 1e-15);
  CHECK_CLOSE(s[1], 1, 1e-15, 0);
  CHECK_CLOSE(s[2], 0, 0, 1e-15);
  const double s0[3] = {0.3, -1.7, 2.25};
  frac_to_cart(a->cell, s0, y);
  kiln_atoms_to_frac(a, inv, y, s);
  for (int d = 0; d < 3; d++) CHECK_CLOSE(s[d], s0[d], 1e-14, 1e-15);
  /* hand inverse element: inv[0][0] = 1/4, inv[1][1] = 1/5, inv[2][2] = 1/6 */
  CHECK_CLOSE(inv[0][0], 0.25, 1e-15, 0);
  CHECK_CLOSE(inv[1][1], 0.2, 1e-15, 0);
  CHECK_CLOSE(inv[2][2], 1.0 / 6, 1e-15, 0);
  CHECK_CLOSE(inv[1][0], -0.05, 1e-14, 0); /* -b_x/(a_x b_y) */

  const double sing[3][3] = {{1, 0, 0}, {0, 1, 0}, {2, 3, 0}};
  CHECK_ERR(kiln_cell_inverse(sing, inv, &err), KILN_EINVAL, "cell is singular (volume 0)");
  const double zero[3][3] = {{0}};
  CHECK_ERR(kiln_cell_inverse(zero, inv, &err), KILN_EINVAL, "cell is singular");

  /* wrap along a and b only */
  a->pbc[0] = a->pbc[1] = 1;
  const double sa[3] = {1.3, -0.2, 2.7}, sb[3] = {0.5, 0.999, -0.5};
  frac_to_cart(a->cell, sa, a->x[0]);
  frac_to_cart(a->cell, sb, a->x[1]);
  CHECK_OK(kiln_atoms_wrap(a, &err));
  kiln_atoms_to_frac(a, inv, a->x[0], s);
  CHECK_CLOSE(s[0], 0.3, 1e-12, 0);
  CHECK_CLOSE(s[1], 0.8, 1e-12, 0);
  CHECK_CLOSE(s[2], 2.7, 1e-12, 0); /* not periodic: untouched */
  kiln_atoms_to_frac(a, inv, a->x[1], s);
  CHECK_CLOSE(s[0], 0.5, 1e-12, 0);
  CHECK_CLOSE(s[1], 0.999, 1e-12, 0);
  CHECK_CLOSE(s[2], -0.5, 1e-12, 0);

  /* set_cell with scaling keeps fractional coordinates */
  double big[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) big[i][j] = 1.1 * TRI[i][j];
  big[2][0] += 0.7;
  double s_before[3];
  kiln_atoms_to_frac(a, inv, a->x[0], s_before);
  CHECK_OK(kiln_atoms_set_cell(a, big, 1, &err));
  CHECK_CLOSE(kiln_atoms_volume(a), 120.0 * 1.331, 1e-13, 0);
  double inv2[3][3];
  CHECK_OK(kiln_cell_inverse(a->cell, inv2, &err));
  kiln_atoms_to_frac(a, inv2, a->x[0], s);
  for (int d = 0; d < 3; d++) CHECK_CLOSE(s[d], s_before[d], 1e-13, 1e-15);

  /* unscaled set_cell leaves Cartesian positions alone */
  double keep = a->x[0][0];
  CHECK_OK(kiln_atoms_set_cell(a, TRI, 0, &err));
  CHECK(a->x[0][0] == keep);
  /* singular current cell cannot scale atoms; a singular cell wraps nothing */
  CHECK_OK(kiln_atoms_set_cell(a, sing, 0, &err));
  CHECK_ERR(kiln_atoms_set_cell(a, TRI, 1, &err), KILN_EINVAL, "cannot scale atoms");
  CHECK_ERR(kiln_atoms_wrap(a, &err), KILN_EINVAL, "cell is singular");
  double bad[3][3] = {{NAN, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  CHECK_ERR(kiln_atoms_set_cell(a, bad, 0, &err), KILN_EINVAL, "not finite");
  kiln_atoms_free(a);
}

TEST(test_props_info) {
  kiln_error err = {0};
  kiln_atoms *a = NULL, *b = NULL, *c = NULL;
  CHECK_OK(kiln_atoms_new(&a, 2, &err));
  CHECK_OK(kiln_atoms_set_cell(a, TRI, 0, &err));
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  CHECK_OK(kiln_atoms_set_symbol(a, 0, "Si", &err));
  CHECK_OK(kiln_atoms_set_symbol(a, 1, "C", &err));
  a->x[1][0] = 1.0;
  a->v[1][2] = 0.5;
  double q[2] = {0.4, -0.4}, dft[6] = {1, 2, 3, 4, 5, 6};
  CHECK_OK(kiln_atoms_prop_set(a, "charge", KILN_VAL_REAL, 1, q, &err));
  CHECK_OK(kiln_atoms_prop_set(a, "dft_forces", KILN_VAL_REAL, 3, dft, &err));
  const char *tags[2] = {"core", "shell"};
  CHECK_OK(kiln_atoms_prop_set_str(a, "tag", 1, tags, &err));
  q[0] = 99; /* deep copy */
  CHECK(kiln_atoms_prop_get(a, "charge")->val[0] == 0.4);
  double e = -10.5, stress[6] = {1, 2, 3, 0.1, 0.2, 0.3};
  CHECK_OK(kiln_atoms_info_set(a, "energy", KILN_VAL_REAL, 1, &e, &err));
  CHECK_OK(kiln_atoms_info_set(a, "stress", KILN_VAL_REAL, 6, stress, &err));
  CHECK_OK(kiln_atoms_info_set_str(a, "config_type", "bulk", &err));
  e = 2;
  CHECK_OK(kiln_atoms_info_set(a, "energy", KILN_VAL_REAL, 1, &e, &err)); /* replaces */
  CHECK(a->ninfo == 3 && kiln_atoms_info_get(a, "energy")->val[0] == 2);
  CHECK_ERR(kiln_atoms_prop_set(a, "", KILN_VAL_REAL, 1, q, &err), KILN_EINVAL, "non-empty");
  CHECK_ERR(kiln_atoms_prop_set(a, "x", KILN_VAL_REAL, 0, q, &err), KILN_EINVAL, "ncols");
  CHECK_ERR(kiln_atoms_prop_set(a, "x", KILN_VAL_STR, 1, q, &err), KILN_EINVAL, "prop_set_str");

  /* copy */
  CHECK_OK(kiln_atoms_copy(&b, a, &err));
  CHECK(b->n == 2 && b->x[1][0] == 1.0 && b->v[1][2] == 0.5 && b->mass[0] == 28.085);
  CHECK(b->nspecies == 2 && strcmp(kiln_atoms_symbol(b, 1), "C") == 0 && b->pbc[2] == 1);
  CHECK(b->cell[2][1] == 1.5 && b->nprops == 3 && b->ninfo == 3);
  kiln_prop *p = kiln_atoms_prop_get(b, "dft_forces");
  CHECK(p && p->ncols == 3 && p->val[5] == 6 && p->val != kiln_atoms_prop_get(a, "dft_forces")->val);
  CHECK(strcmp(kiln_atoms_prop_get(b, "tag")->str[1], "shell") == 0);
  CHECK(strcmp(kiln_atoms_info_get(b, "config_type")->str, "bulk") == 0);
  CHECK(kiln_atoms_info_get(b, "stress")->count == 6 && kiln_atoms_info_get(b, "stress")->val[4] == 0.2);

  /* resize carries props: new rows zero / "" */
  CHECK_OK(kiln_atoms_resize(b, 5, &err));
  p = kiln_atoms_prop_get(b, "dft_forces");
  CHECK(p->val[5] == 6 && p->val[14] == 0 && p->val[6] == 0);
  kiln_prop *ts = kiln_atoms_prop_get(b, "tag");
  CHECK(strcmp(ts->str[1], "shell") == 0 && ts->str[4] && ts->str[4][0] == '\0');
  CHECK_OK(kiln_atoms_resize(b, 1, &err));
  CHECK(kiln_atoms_prop_get(b, "charge")->val[0] == 0.4);
  CHECK(strcmp(kiln_atoms_prop_get(b, "tag")->str[0], "core") == 0);
  kiln_atoms_prop_remove(b, "charge");
  kiln_atoms_info_remove(b, "energy");
  CHECK(b->nprops == 2 && !kiln_atoms_prop_get(b, "charge") && kiln_atoms_prop_get(b, "tag"));
  CHECK(b->ninfo == 2 && !kiln_atoms_info_get(b, "energy") && kiln_atoms_info_get(b, "stress"));
  kiln_atoms_prop_remove(b, "nope");

  /* supercell 2 x 1 x 3 of the 2-atom triclinic cell */
  CHECK_OK(kiln_atoms_supercell(&c, a, 2, 1, 3, &err));
  CHECK(c->n == 12 && c->id[0] == 1 && c->id[11] == 12 && c->pbc[1] == 1);
  CHECK_CLOSE(kiln_atoms_volume(c), 120.0 * 6, 1e-14, 0);
  CHECK(c->cell[0][0] == 8 && c->cell[2][2] == 18 && c->cell[2][1] == 4.5 && c->cell[1][0] == 1);
  /* image order: ia slowest, then ib, ic, atoms fastest: image (1,0,2) is number 5 */
  size_t j = 5 * 2 + 1;
  double want[3];
  for (int d = 0; d < 3; d++) want[d] = a->x[1][d] + TRI[0][d] + 2 * TRI[2][d];
  for (int d = 0; d < 3; d++) CHECK_CLOSE(c->x[j][d], want[d], 1e-15, 0);
  CHECK(c->v[j][2] == 0.5 && c->type[j] == 1 && c->mass[j] == 12.011 && c->type[j - 1] == 0);
  CHECK(c->nspecies == 2 && c->ninfo == 3 && c->nprops == 3);
  p = kiln_atoms_prop_get(c, "charge");
  CHECK(p->val[j] == -0.4 && p->val[j - 1] == 0.4);
  CHECK(kiln_atoms_prop_get(c, "dft_forces")->val[3 * j + 2] == 6);
  CHECK(strcmp(kiln_atoms_prop_get(c, "tag")->str[j], "shell") == 0);
  CHECK(kiln_atoms_info_get(c, "energy")->val[0] == 2);
  /* kinetic energy scales with the number of images */
  CHECK_CLOSE(kiln_atoms_kinetic_energy(c), 6 * kiln_atoms_kinetic_energy(a), 1e-14, 0);
  kiln_atoms_free(c);
  CHECK_ERR(kiln_atoms_supercell(&c, a, 0, 1, 1, &err), KILN_EINVAL, "repeats must be >= 1");
  CHECK(c == NULL);
  kiln_atoms_free(a);
  kiln_atoms_free(b);
}

TEST(test_kinetics) {
  kiln_error err = {0};
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_atoms_new(&a, 2, &err));
  a->mass[0] = 1.0;
  a->mass[1] = 2.0;
  a->v[0][0] = 0.01;
  a->v[1][0] = -0.005;
  a->v[1][1] = 0.01;
  /* KE = 1/2 (1*1e-4 + 2*1.25e-4) * 103.642696562 eV */
  CHECK_CLOSE(kiln_atoms_kinetic_energy(a), 0.01813747189835, 1e-13, 0);
  CHECK(kiln_atoms_dof(a) == 3);  /* 3n - 3 with or without periodic boundaries */
  CHECK_CLOSE(kiln_atoms_temperature(a), 140.31774755136925, 1e-13, 0); /* 2KE/(3 kB) */
  a->pbc[0] = a->pbc[1] = a->pbc[2] = 1;
  CHECK(kiln_atoms_dof(a) == 3);
  CHECK_CLOSE(kiln_atoms_temperature(a), 140.31774755136925, 1e-13, 0);
  a->pbc[2] = 0;
  CHECK(kiln_atoms_dof(a) == 3);
  kiln_atoms_zero_momentum(a);
  /* mean velocity (0, 0.02/3, 0) removed */
  CHECK_CLOSE(a->v[0][0], 0.01, 1e-15, 0); /* x momentum was already zero */
  CHECK_CLOSE(a->v[1][0], -0.005, 1e-15, 0);
  CHECK_CLOSE(a->v[0][1], -0.02 / 3, 1e-14, 0);
  CHECK_CLOSE(a->v[1][1], 0.01 - 0.02 / 3, 1e-14, 0);
  for (int d = 0; d < 3; d++) CHECK_CLOSE(a->mass[0] * a->v[0][d] + a->mass[1] * a->v[1][d], 0, 0, 1e-17);
  kiln_atoms_free(a);
}

TEST(test_crystals) {
  kiln_error err = {0};
  kiln_atoms *a = NULL;
  CHECK_OK(kiln_crystal_fcc(&a, "Cu", 3.615, &err));
  CHECK(a->n == 4 && a->pbc[0] && a->pbc[1] && a->pbc[2] && a->mass[3] == 63.546);
  CHECK_CLOSE(nn_distance(a), 3.615 / sqrt(2.0), 1e-14, 0);
  CHECK_CLOSE(kiln_atoms_volume(a), 3.615 * 3.615 * 3.615, 1e-14, 0);
  CHECK(strcmp(kiln_atoms_symbol(a, 2), "Cu") == 0 && a->nspecies == 1);
  kiln_atoms_free(a);

  CHECK_OK(kiln_crystal_bcc(&a, "Fe", 2.87, &err));
  CHECK(a->n == 2);
  CHECK_CLOSE(nn_distance(a), 2.87 * sqrt(3.0) / 2, 1e-14, 0);
  kiln_atoms_free(a);

  CHECK_OK(kiln_crystal_sc(&a, "Po", 3.35, &err));
  CHECK(a->n == 1);
  CHECK_CLOSE(nn_distance(a), 3.35, 1e-14, 0);
  kiln_atoms_free(a);

  CHECK_OK(kiln_crystal_diamond(&a, "Si", 5.431, &err));
  CHECK(a->n == 8 && a->mass[7] == 28.085);
  CHECK_CLOSE(nn_distance(a), 5.431 * sqrt(3.0) / 4, 1e-14, 0);
  kiln_atoms_free(a);

  CHECK_OK(kiln_crystal_hcp(&a, "Mg", 3.21, 0, &err)); /* ideal c */
  CHECK(a->n == 2);
  CHECK_CLOSE(nn_distance(a), 3.21, 1e-14, 0);
  CHECK_CLOSE(a->cell[2][2], 3.21 * sqrt(8.0 / 3.0), 1e-14, 0);
  CHECK_CLOSE(kiln_atoms_volume(a), 3.21 * 3.21 * sqrt(3.0) / 2 * 3.21 * sqrt(8.0 / 3.0), 1e-14, 0);
  kiln_atoms_free(a);
  CHECK_OK(kiln_crystal_hcp(&a, "Mg", 3.21, 5.21, &err));
  /* shortest: in-plane a vs out-of-plane sqrt(a^2/3 + c^2/4) */
  CHECK_CLOSE(nn_distance(a), fmin(3.21, sqrt(3.21 * 3.21 / 3 + 5.21 * 5.21 / 4)), 1e-14, 0);
  kiln_atoms_free(a);

  CHECK_OK(kiln_crystal_rocksalt(&a, "Na", "Cl", 5.64, &err));
  CHECK(a->n == 8 && a->nspecies == 2 && a->mass[0] == 22.98976928 && a->mass[1] == 35.45);
  CHECK_CLOSE(nn_distance(a), 5.64 / 2, 1e-14, 0);
  kiln_atoms_free(a);

  CHECK_OK(kiln_crystal_perovskite(&a, "Sr", "Ti", "O", 3.905, &err));
  CHECK(a->n == 5 && a->nspecies == 3 && strcmp(kiln_atoms_symbol(a, 1), "Ti") == 0);
  CHECK(strcmp(kiln_atoms_symbol(a, 4), "O") == 0);
  CHECK_CLOSE(nn_distance(a), 3.905 / 2, 1e-14, 0); /* Ti-O */
  kiln_atoms_free(a);

  CHECK_OK(kiln_crystal_hbn(&a, "B", "N", 2.504, 10.0, &err));
  CHECK(a->n == 2 && a->pbc[2] == 1 && a->cell[2][2] == 10.0);
  CHECK_CLOSE(nn_distance(a), 2.504 / sqrt(3.0), 1e-14, 0);
  kiln_atoms_free(a);

  const double cell[3][3] = {{3, 0, 0}, {0, 3, 0}, {0.5, 0, 4}};
  const char *syms[2] = {"H", "He"};
  const double fr[2][3] = {{0, 0, 0}, {0.5, 0.5, 0.5}};
  CHECK_OK(kiln_crystal_from_cell(&a, cell, 2, syms, fr, &err));
  CHECK(a->n == 2 && a->x[1][0] == 1.75 && a->x[1][2] == 2.0 && a->mass[1] == 4.002602);
  kiln_atoms_free(a);

  a = (kiln_atoms *)1;
  CHECK_ERR(kiln_crystal_fcc(&a, "Cu", 0.0, &err), KILN_EINVAL,
            "crystal fcc: lattice constant a must be positive (got 0)");
  CHECK(a == NULL);
  CHECK_ERR(kiln_crystal_diamond(&a, "Si", -5.4, &err), KILN_EINVAL, "must be positive (got -5.4)");
  CHECK_ERR(kiln_crystal_bcc(&a, "Fe", NAN, &err), KILN_EINVAL, "must be positive");
  CHECK_ERR(kiln_crystal_fcc(&a, "Xx", 3.6, &err), KILN_EINVAL, "unknown element 'Xx'");
  CHECK_ERR(kiln_crystal_rocksalt(&a, "Na", NULL, 5.6, &err), KILN_EINVAL, "unknown element");
  CHECK_ERR(kiln_crystal_hbn(&a, "B", "N", 2.5, 0.0, &err), KILN_EINVAL, "c must be positive");
  const double sing[3][3] = {{1, 0, 0}, {2, 0, 0}, {0, 0, 1}};
  CHECK_ERR(kiln_crystal_from_cell(&a, sing, 2, syms, fr, &err), KILN_EINVAL, "cell is singular");
  const char *bad[2] = {"H", "Zz"};
  CHECK_ERR(kiln_crystal_from_cell(&a, cell, 2, bad, fr, &err), KILN_EINVAL,
            "atom 2 has unknown element 'Zz'");
  CHECK(a == NULL);
}

int main(void) {
  RUN(test_new_resize_append);
  RUN(test_periodic_table);
  RUN(test_cell_geometry);
  RUN(test_props_info);
  RUN(test_kinetics);
  RUN(test_crystals);
  return check_summary();
}
