/* tests/c/test_pot.c: potential registry and framework, pair styles lj and morse on
 * analytic dimers, sum, option errors. (LAMMPS comparisons: tests/c/test_ref.c.) */
#include <glob.h>
#include <omp.h>
#include <stdlib.h>
#include "check.h"
#include "kiln/kiln.h"

/* two atoms (symbols s1, s2) along direction u at distance r, no pbc */
static kiln_atoms *dimer(const char *s1, const char *s2, double r, const double u[3]) {
  kiln_error err;
  kiln_atoms *a;
  if (kiln_atoms_new(&a, 0, &err)) return NULL;
  double x0[3] = {0.3, -0.2, 0.1}, x1[3];
  double nu = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
  for (int c = 0; c < 3; c++) x1[c] = x0[c] + r * u[c] / nu;
  if (kiln_atoms_append(a, s1, x0, &err) || kiln_atoms_append(a, s2, x1, &err)) {
    kiln_atoms_free(a);
    return NULL;
  }
  return a;
}

static kiln_pot *make(const char *style, const char *const *kv, size_t n) {
  kiln_error err;
  kiln_opts *o;
  kiln_pot *p = NULL;
  if (kiln_opts_new(&o, &err)) return NULL;
  for (size_t k = 0; k < n; k++) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", kv[k]);
    char *eq = strchr(buf, '=');
    *eq = 0;
    if (kiln_opts_set_path(o, buf, eq + 1, &err)) fprintf(stderr, "  %s\n", err.msg);
  }
  if (kiln_pot_new(&p, style, o, &err)) fprintf(stderr, "  %s\n", err.msg);
  kiln_opts_free(o);
  return p;
}

/* E, F on atom 2 (along u) and the virial for a dimer, analytic vs kiln */
static void check_dimer(kiln_pot *p, kiln_atoms *a, double e_ref, double dedr, double r,
                        const double u[3]) {
  kiln_error err;
  kiln_pot_result res;
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &res, &err));
  CHECK_CLOSE(res.energy, e_ref, 1e-13, 1e-16);
  double nu = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
  for (int c = 0; c < 3; c++) {
    /* force on atom 2 = -dE/dr * u */
    CHECK_CLOSE(a->f[1][c], -dedr * u[c] / nu, 1e-12, 1e-15);
    CHECK_CLOSE(a->f[0][c], dedr * u[c] / nu, 1e-12, 1e-15);
    /* W = r12 (x) f2 = -dE/dr r u u */
    for (int d = 0; d < 3; d++)
      CHECK_CLOSE(res.virial[c][d], -dedr * r * u[c] * u[d] / (nu * nu), 1e-12, 1e-15);
  }
  CHECK(res.eatom != NULL);
  if (res.eatom) {
    CHECK_CLOSE(res.eatom[0], 0.5 * e_ref, 1e-13, 1e-16);
    CHECK_CLOSE(res.eatom[1], 0.5 * e_ref, 1e-13, 1e-16);
  }
}

TEST(test_lj_dimer) {
  const double u[3] = {1, 2, -0.5};
  const double eps = 0.0104, sig = 3.4, rc = 8.5;
  const char *kv[] = {"epsilon=0.0104", "sigma=3.4", "cutoff=8.5"};
  const char *kvs[] = {"epsilon=0.0104", "sigma=3.4", "cutoff=8.5", "shift=true"};
  kiln_pot *p = make("lj", kv, 3), *ps = make("lj", kvs, 4);
  CHECK(p && ps);
  if (!p || !ps) return;
  CHECK(kiln_pot_cutoff(p) == 8.5);
  CHECK(kiln_pot_neigh_kind(p) == KILN_NEIGH_HALF);
  const double rs[3] = {3.1, 3.9, 7.2};
  for (int k = 0; k < 3; k++) {
    double r = rs[k], s6 = pow(sig / r, 6), sc6 = pow(sig / rc, 6);
    double e = 4 * eps * (s6 * s6 - s6), dedr = 4 * eps * (-12 * s6 * s6 + 6 * s6) / r;
    kiln_atoms *a = dimer("Ar", "Ar", r, u);
    check_dimer(p, a, e, dedr, r, u);
    check_dimer(ps, a, e - 4 * eps * (sc6 * sc6 - sc6), dedr, r, u);
    kiln_atoms_free(a);
  }
  /* beyond the cutoff: nothing */
  kiln_error err;
  kiln_pot_result res;
  kiln_atoms *a = dimer("Ar", "Ar", 8.6, u);
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &res, &err));
  CHECK(res.energy == 0 && a->f[0][0] == 0 && res.virial[0][0] == 0);
  kiln_atoms_free(a);
  kiln_pot_free(p);
  kiln_pot_free(ps);
}

TEST(test_morse_dimer_pairs) {
  const double u[3] = {0.3, -1, 0.2};
  const char *kv[] = {"cutoff=6", "pairs.1.1=Cu", "pairs.1.2=Ni", "pairs.1.D0=0.37",
                      "pairs.1.alpha=1.39", "pairs.1.r0=2.8", "pairs.2.1=Cu", "pairs.2.2=Cu",
                      "pairs.2.D0=0.34", "pairs.2.alpha=1.36", "pairs.2.r0=2.87",
                      "pairs.2.cutoff=5"};
  kiln_pot *p = make("morse", kv, 12);
  CHECK(p != NULL);
  if (!p) return;
  CHECK(kiln_pot_cutoff(p) == 6.0);
  const double r = 2.6;
  double ex = exp(-1.36 * (r - 2.87));
  double e = 0.34 * (ex * ex - 2 * ex), dedr = 0.34 * (-2 * 1.36 * ex * ex + 2 * 1.36 * ex);
  kiln_atoms *a = dimer("Cu", "Cu", r, u);
  check_dimer(p, a, e, dedr, r, u);
  kiln_atoms_free(a);
  /* Cu-Cu has its own cutoff 5: nothing at 5.5 */
  kiln_error err;
  kiln_pot_result res;
  a = dimer("Cu", "Cu", 5.5, u);
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &res, &err));
  CHECK(res.energy == 0);
  kiln_atoms_free(a);
  /* Ni-Ni is not given: an error naming the pair (also when Cu and Ni are present) */
  a = dimer("Ni", "Cu", 2.5, u);
  CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &res, &err), KILN_EINVAL,
            "no parameters for the pair Ni-Ni");
  kiln_atoms_free(a);
  /* an element absent from pairs */
  a = dimer("Cu", "Ag", 2.5, u);
  CHECK_ERR(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &res, &err), KILN_EINVAL,
            "potential morse has no parameters for element 'Ag'");
  kiln_atoms_free(a);
  kiln_pot_free(p);
  /* with Ni-Ni added, the Ni-Cu dimer uses the Cu-Ni parameters (either order) */
  const char *kv3[] = {"cutoff=6", "pairs.1.1=Cu", "pairs.1.2=Ni", "pairs.1.D0=0.37",
                       "pairs.1.alpha=1.39", "pairs.1.r0=2.8", "pairs.2.1=Ni", "pairs.2.2=Ni",
                       "pairs.2.D0=0.42", "pairs.2.alpha=1.42", "pairs.2.r0=2.78",
                       "pairs.3.1=Cu", "pairs.3.2=Cu", "pairs.3.D0=0.34",
                       "pairs.3.alpha=1.36", "pairs.3.r0=2.87"};
  p = make("morse", kv3, 16);
  CHECK(p != NULL);
  ex = exp(-1.39 * (r - 2.8));
  e = 0.37 * (ex * ex - 2 * ex);
  dedr = 0.37 * (-2 * 1.39 * ex * ex + 2 * 1.39 * ex);
  a = dimer("Ni", "Cu", r, u);
  if (p) check_dimer(p, a, e, dedr, r, u);
  kiln_atoms_free(a);
  kiln_pot_free(p);
}

TEST(test_option_errors) {
  kiln_error err;
  kiln_opts *o;
  kiln_pot *p = NULL;
  CHECK_ERR(kiln_pot_new(&p, "lj/nope", NULL, &err), KILN_EINVAL, "unknown potential style 'lj/nope'");
  CHECK_OK(kiln_opts_new(&o, &err));
  kiln_opts_add_num(o, "epsilon", 0.01, &err);
  kiln_opts_add_num(o, "sigma", 3.4, &err);
  CHECK_ERR(kiln_pot_new(&p, "lj", o, &err), KILN_EINVAL, "missing option 'cutoff'");
  kiln_opts_add_num(o, "cutof", 8, &err);
  /* the misspelling is named, not the missing option it causes */
  CHECK_ERR(kiln_pot_new(&p, "lj", o, &err), KILN_EINVAL,
            "potential lj: unknown option 'cutof' (options: epsilon, sigma, cutoff, shift, pairs)");
  kiln_opts_add_num(o, "cutoff", 8, &err);
  CHECK_ERR(kiln_pot_new(&p, "lj", o, &err), KILN_EINVAL, "unknown option 'cutof'");
  kiln_opts_free(o);
  CHECK_OK(kiln_opts_new(&o, &err));
  kiln_opts_set_path(o, "cutoff", "8", &err);
  kiln_opts_set_path(o, "pairs.1.1", "Ar", &err);
  kiln_opts_set_path(o, "pairs.1.2", "Ar", &err);
  kiln_opts_set_path(o, "pairs.1.epsilon", "0.01", &err);
  CHECK_ERR(kiln_pot_new(&p, "lj", o, &err), KILN_EINVAL, "pair Ar-Ar: missing option 'sigma'");
  kiln_opts_set_path(o, "pairs.1.sigma", "-3", &err);
  CHECK_ERR(kiln_pot_new(&p, "lj", o, &err), KILN_EINVAL, "sigma > 0");
  kiln_opts_set_path(o, "pairs.1.sigma", "3", &err);
  kiln_opts_set_path(o, "pairs.2.1", "Ar", &err);
  kiln_opts_set_path(o, "pairs.2.2", "Ar", &err);
  kiln_opts_set_path(o, "pairs.2.epsilon", "0.01", &err);
  kiln_opts_set_path(o, "pairs.2.sigma", "3", &err);
  CHECK_ERR(kiln_pot_new(&p, "lj", o, &err), KILN_EINVAL, "pair Ar-Ar is given twice");
  kiln_opts_free(o);
  CHECK_OK(kiln_opts_new(&o, &err));
  kiln_opts_set_path(o, "1.style", "lj", &err);
  kiln_opts_set_path(o, "1.epsilon", "0.01", &err);
  CHECK_ERR(kiln_pot_new(&p, "sum", o, &err), KILN_EINVAL, "potential sum part 1: potential lj");
  kiln_opts_free(o);
  CHECK(p == NULL);
}

TEST(test_registry) {
  size_t n = kiln_pot_nstyles();
  CHECK(n >= 3);
  for (size_t i = 0; i < n; i++) {
    const kiln_pot_style *s = kiln_pot_style_at(i);
    CHECK(s && s->name && s->description && s->init && s->destroy && (s->compute || s->compute_full));
    CHECK(kiln_pot_find(s->name) == s);
  }
  CHECK(kiln_pot_style_at(n) == NULL);
  CHECK(kiln_pot_find("lj") && kiln_pot_find("morse") && kiln_pot_find("sum"));
  /* every src/pot/pot_<name>.c is registered ('_' in the file name is '/' in the style) */
  glob_t g;
  if (glob("src/pot/pot_*.c", 0, NULL, &g) == 0) {
    for (size_t k = 0; k < g.gl_pathc; k++) {
      char name[128];
      snprintf(name, sizeof name, "%s", g.gl_pathv[k] + strlen("src/pot/pot_"));
      name[strlen(name) - 2] = 0;
      /* the style is named as the file (soap_gap) or with '/' for '_' (eam/alloy) */
      char slash[128];
      snprintf(slash, sizeof slash, "%s", name);
      for (char *c = slash; *c; c++)
        if (*c == '_') *c = '/';
      int found = kiln_pot_find(name) != NULL || kiln_pot_find(slash) != NULL;
      if (!found) fprintf(stderr, "  %s: style '%s' is not in styles.def\n", g.gl_pathv[k], name);
      CHECK(found);
    }
    globfree(&g);
  }
}

/* sum of borrowed parts == sum of the parts' results; options form == borrowed form */
TEST(test_sum) {
  kiln_error err;
  kiln_atoms *c, *a;
  CHECK_OK(kiln_crystal_fcc(&c, "Cu", 3.6, &err));
  CHECK_OK(kiln_atoms_supercell(&a, c, 2, 2, 2, &err));
  kiln_rng rng;
  kiln_rng_seed(&rng, 9, 0);
  for (size_t i = 0; i < a->n; i++)
    for (int d = 0; d < 3; d++) a->x[i][d] += 0.1 * kiln_rng_normal(&rng);
  const char *k1[] = {"epsilon=0.05", "sigma=2.3", "cutoff=5"};
  const char *k2[] = {"D0=0.34", "alpha=1.36", "r0=2.87", "cutoff=6", "shift=true"};
  kiln_pot *p1 = make("lj", k1, 3), *p2 = make("morse", k2, 5);
  CHECK(p1 && p2);
  kiln_pot *parts[2] = {p1, p2}, *s = NULL;
  CHECK_OK(kiln_pot_new_sum(&s, parts, 2, &err));
  CHECK(kiln_pot_cutoff(s) == 6.0);
  kiln_pot_free(s);
  CHECK_ERR(kiln_pot_new_sum(&s, parts, 0, &err), KILN_EINVAL, "at least one part");
  CHECK(s == NULL);
  CHECK_OK(kiln_pot_new_sum(&s, parts, 2, &err));
  kiln_pot_result r1, r2, rs;
  double (*f)[3] = calloc(a->n, sizeof *f);
  double *ea = calloc(a->n, sizeof *ea);
  CHECK_OK(kiln_pot_compute_once(p1, a, KILN_EVAL_ALL, &r1, &err));
  memcpy(f, a->f, a->n * sizeof *f);
  memcpy(ea, r1.eatom, a->n * sizeof *ea);
  CHECK_OK(kiln_pot_compute_once(p2, a, KILN_EVAL_ALL, &r2, &err));
  for (size_t i = 0; i < a->n; i++) {
    for (int d = 0; d < 3; d++) f[i][d] += a->f[i][d];
    ea[i] += r2.eatom[i];
  }
  double e12 = r1.energy + r2.energy, w00 = r1.virial[0][0] + r2.virial[0][0],
         w12 = r1.virial[1][2] + r2.virial[1][2];
  CHECK_OK(kiln_pot_compute_once(s, a, KILN_EVAL_ALL, &rs, &err));
  CHECK_CLOSE(rs.energy, e12, 1e-14, 0);
  CHECK_CLOSE(rs.virial[0][0], w00, 1e-13, 0);
  CHECK_CLOSE(rs.virial[1][2], w12, 1e-12, 1e-14);
  CHECK_CLOSE(rs.stress[0][0], -rs.virial[0][0] / kiln_atoms_volume(a), 1e-15, 0);
  double df = 0, de = 0;
  for (size_t i = 0; i < a->n; i++) {
    de = fmax(de, fabs(rs.eatom[i] - ea[i]));
    for (int d = 0; d < 3; d++) df = fmax(df, fabs(a->f[i][d] - f[i][d]));
  }
  CHECK(df < 1e-13 && de < 1e-14);
  /* the same sum from options */
  kiln_opts *o;
  CHECK_OK(kiln_opts_new(&o, &err));
  const char *kv[] = {"1.style=lj", "1.epsilon=0.05", "1.sigma=2.3", "1.cutoff=5",
                      "2.style=morse", "2.D0=0.34", "2.alpha=1.36", "2.r0=2.87", "2.cutoff=6",
                      "2.shift=true"};
  for (int k = 0; k < 10; k++) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", kv[k]);
    char *eq = strchr(buf, '=');
    *eq = 0;
    CHECK_OK(kiln_opts_set_path(o, buf, eq + 1, &err));
  }
  kiln_pot *so = NULL;
  CHECK_OK(kiln_pot_new(&so, "sum", o, &err));
  kiln_pot_result ro;
  CHECK_OK(kiln_pot_compute_once(so, a, KILN_EVAL_ENERGY | KILN_EVAL_FORCES, &ro, &err));
  CHECK_CLOSE(ro.energy, e12, 1e-14, 0);
  CHECK(ro.eatom == NULL);
  /* a sum inside a sum */
  kiln_pot *nested[2] = {s, p1}, *ss = NULL;
  CHECK_OK(kiln_pot_new_sum(&ss, nested, 2, &err));
  CHECK_OK(kiln_pot_compute_once(ss, a, KILN_EVAL_ALL, &ro, &err));
  CHECK_CLOSE(ro.energy, e12 + r1.energy, 1e-14, 0);
  kiln_pot_free(ss);
  kiln_pot_free(so);
  kiln_opts_free(o);
  kiln_pot_free(s); /* borrowed parts stay alive */
  CHECK_OK(kiln_pot_compute_once(p1, a, KILN_EVAL_ENERGY, &r1, &err));
  kiln_pot_free(p1);
  kiln_pot_free(p2);
  free(f);
  free(ea);
  kiln_atoms_free(a);
  kiln_atoms_free(c);
}

/* framework: list checks, empty systems, MD-like reuse, threads */
TEST(test_framework) {
  kiln_error err;
  const char *kv[] = {"epsilon=0.0104", "sigma=3.4", "cutoff=8.5"};
  kiln_pot *p = make("lj", kv, 3);
  kiln_atoms *c, *a;
  CHECK_OK(kiln_crystal_fcc(&c, "Ar", 5.3, &err));
  CHECK_OK(kiln_atoms_supercell(&a, c, 3, 3, 3, &err));
  kiln_neigh *shortl, *nl;
  kiln_pot_result r, r2;
  CHECK_OK(kiln_neigh_new(&shortl, KILN_NEIGH_HALF, 8.0, 1.0, &err));
  CHECK_ERR(kiln_pot_compute(p, a, shortl, KILN_EVAL_ALL, &r, &err), KILN_EINVAL,
            "shorter than the potential cutoff");
  kiln_neigh_free(shortl);
  CHECK_OK(kiln_neigh_new(&nl, KILN_NEIGH_HALF, 8.5, 0.5, &err));
  /* perfect fcc: zero forces, isotropic virial; -E/N is the lattice sum */
  CHECK_OK(kiln_pot_compute(p, a, nl, KILN_EVAL_ALL, &r, &err));
  double fmax_ = 0;
  for (size_t i = 0; i < a->n; i++)
    for (int d = 0; d < 3; d++) fmax_ = fmax(fmax_, fabs(a->f[i][d]));
  CHECK(fmax_ < 1e-13);
  CHECK_CLOSE(r.virial[0][0], r.virial[2][2], 1e-12, 0);
  CHECK(fabs(r.virial[0][1]) < 1e-12);
  /* small moves: no rebuild, result equals a fresh list */
  for (size_t i = 0; i < a->n; i++) a->x[i][0] += 0.01 * (double)(i % 7);
  long nb = nl->nbuilds;
  CHECK_OK(kiln_pot_compute(p, a, nl, KILN_EVAL_ALL, &r, &err));
  CHECK(nl->nbuilds == nb);
  CHECK_OK(kiln_pot_compute_once(p, a, KILN_EVAL_ALL, &r2, &err));
  CHECK_CLOSE(r.energy, r2.energy, 1e-14, 0);
  /* thread counts (this crystal is below the default threading threshold) */
  int nt = omp_get_max_threads();
  kiln_pot_set_omp_min(p, 0);
  omp_set_num_threads(2);
  CHECK_OK(kiln_pot_compute(p, a, nl, KILN_EVAL_ALL, &r2, &err));
  CHECK_CLOSE(r.energy, r2.energy, 1e-13, 0);
  CHECK_CLOSE(r.virial[0][0], r2.virial[0][0], 1e-13, 0);
  omp_set_num_threads(nt);
  /* no atoms */
  CHECK_OK(kiln_atoms_resize(a, 0, &err));
  CHECK_OK(kiln_pot_compute(p, a, nl, KILN_EVAL_ALL, &r, &err));
  CHECK(r.energy == 0 && r.virial[0][0] == 0);
  kiln_neigh_free(nl);
  kiln_pot_free(p);
  kiln_atoms_free(a);
  kiln_atoms_free(c);
}

int main(void) {
  RUN(test_lj_dimer);
  RUN(test_morse_dimer_pairs);
  RUN(test_option_errors);
  RUN(test_registry);
  RUN(test_sum);
  RUN(test_framework);
  return check_summary();
}
