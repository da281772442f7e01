/* tests/c/test_core.c: errors, arrays, options, random numbers, units. */
#include <stdlib.h>
#include "check.h"
#include "kiln/array.h"
#include "kiln/error.h"
#include "kiln/opts.h"
#include "kiln/rng.h"
#include "kiln/units.h"

TEST(test_error) {
  kiln_error err;
  kiln_error_clear(&err);
  CHECK(err.code == KILN_OK && err.msg[0] == '\0');
  for (int c = KILN_OK; c <= KILN_EINTR; c++) {
    const char *t = kiln_strerror((kiln_status)c);
    CHECK(t && t[0] && strcmp(t, "unknown error") != 0);
  }
  CHECK(strcmp(kiln_strerror(KILN_EINVAL), "invalid argument") == 0);
  CHECK(strcmp(kiln_strerror((kiln_status)999), "unknown error") == 0);
  CHECK(KILN_FAIL(NULL, KILN_ERANGE, "x %d", 1) == KILN_ERANGE); /* NULL err is fine */
  CHECK(KILN_FAIL(&err, KILN_EINVAL, "cutoff must be positive (got %g)", -2.5) == KILN_EINVAL);
  CHECK(err.code == KILN_EINVAL && strcmp(err.msg, "cutoff must be positive (got -2.5)") == 0);
  CHECK(err.line > 0 && err.file && strstr(err.file, "test_core.c"));
  char big[2000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  KILN_FAIL(&err, KILN_EIO, "%s", big); /* truncated, not overflowed */
  CHECK(strlen(err.msg) == sizeof err.msg - 1);
  kiln_error_clear(&err);
  CHECK(err.code == KILN_OK && err.msg[0] == '\0');
  kiln_error_clear(NULL);
}

TEST(test_array) {
  kiln_error err = {0};
  kiln_array *a = NULL, *b = NULL, *v = NULL, *c = NULL;
  CHECK_OK(kiln_array_new(&a, 3, 2, &err));
  CHECK(a->rows == 3 && a->cols == 2 && a->owner == 1);
  int zero = 1;
  for (size_t i = 0; i < 6; i++) zero &= a->data[i] == 0.0;
  CHECK(zero);
  *kiln_array_at(a, 2, 1) = 7.5;
  CHECK(a->data[5] == 7.5);
  double d[4] = {1, 2, 3, 4};
  CHECK_OK(kiln_array_from(&b, d, 2, 2, &err));
  d[0] = 100;
  CHECK(b->data[0] == 1 && *kiln_array_at(b, 1, 0) == 3);
  CHECK_OK(kiln_array_view(&v, d, 4, 1, &err));
  CHECK(v->owner == 0 && v->data == d);
  *kiln_array_at(v, 1, 0) = -2;
  CHECK(d[1] == -2);
  CHECK_OK(kiln_array_copy(&c, v, &err));
  CHECK(c->owner == 1 && c->data != d && c->data[0] == 100 && c->data[1] == -2 && c->rows == 4);
  kiln_array_free(b);
  CHECK_ERR(kiln_array_from(&b, NULL, 2, 2, &err), KILN_EINVAL, "NULL");
  CHECK(b == NULL);
  kiln_array *e = NULL;
  CHECK_OK(kiln_array_new(&e, 0, 3, &err)); /* empty arrays are allowed */
  kiln_array_free(e);
  kiln_array_free(a);
  kiln_array_free(v);
  kiln_array_free(c);
  kiln_array_free(NULL);
}

TEST(test_opts_lookup) {
  kiln_error err = {0};
  kiln_opts *o = NULL, *pairs = NULL, *p1 = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_num(o, "cutoff", 8.5, &err));
  CHECK_OK(kiln_opts_add_str(o, "name", "abc", &err));
  CHECK_OK(kiln_opts_add_bool(o, "shift", 1, &err));
  CHECK_OK(kiln_opts_add_num(o, "n", 3, &err));
  CHECK_OK(kiln_opts_add_num(o, "frac", 2.5, &err));
  CHECK_OK(kiln_opts_add_table(o, "pairs", &pairs, &err));
  CHECK_OK(kiln_opts_add_table(pairs, NULL, &p1, &err));
  CHECK_OK(kiln_opts_add_str(p1, NULL, "Ar", &err));
  CHECK_OK(kiln_opts_add_str(p1, NULL, "Ne", &err));
  CHECK_OK(kiln_opts_add_num(p1, "epsilon", 0.0104, &err));
  CHECK_OK(kiln_opts_add_num(o, NULL, 42, &err)); /* a positional entry at the root */

  double x = 0;
  long n = 0;
  int b = 0;
  const char *s = NULL;
  CHECK_OK(kiln_opts_num(o, "potential lj", "cutoff", 0, 0, &x, &err));
  CHECK(x == 8.5);
  CHECK_OK(kiln_opts_int(o, "potential lj", "n", 0, 0, &n, &err));
  CHECK(n == 3);
  CHECK_OK(kiln_opts_bool(o, "potential lj", "shift", 0, 0, &b, &err));
  CHECK(b == 1);
  CHECK_OK(kiln_opts_str(o, "potential lj", "name", 0, NULL, &s, &err));
  CHECK(s && strcmp(s, "abc") == 0);
  CHECK_OK(kiln_opts_num(o, "potential lj", "sigma", 1, 3.4, &x, &err));
  CHECK(x == 3.4);
  CHECK_OK(kiln_opts_str(o, "potential lj", "mix", 1, "geometric", &s, &err));
  CHECK(strcmp(s, "geometric") == 0);

  CHECK_ERR(kiln_opts_num(o, "potential lj", "name", 0, 0, &x, &err), KILN_EINVAL,
            "potential lj: option 'name' must be a number (got string 'abc')");
  CHECK_ERR(kiln_opts_num(o, "potential lj", "rc", 0, 0, &x, &err), KILN_EINVAL,
            "potential lj: missing option 'rc'");
  CHECK_ERR(kiln_opts_int(o, "potential lj", "frac", 0, 0, &n, &err), KILN_EINVAL,
            "option 'frac' must be an integer (got number 2.5)");
  CHECK_ERR(kiln_opts_bool(o, "potential lj", "cutoff", 0, 0, &b, &err), KILN_EINVAL,
            "option 'cutoff' must be a boolean (got number 8.5)");
  CHECK_ERR(kiln_opts_str(o, "potential lj", "shift", 0, NULL, &s, &err), KILN_EINVAL,
            "option 'shift' must be a string (got boolean true)");
  CHECK_ERR(kiln_opts_num(o, "potential lj", "pairs", 0, 0, &x, &err), KILN_EINVAL,
            "(got table)");

  CHECK(kiln_opts_npos(o) == 1);
  CHECK(kiln_opts_at(o, 0)->num == 42 && kiln_opts_at(o, 1) == NULL);
  kiln_opts *pp = kiln_opts_get(o, "pairs");
  CHECK(pp && pp->kind == KILN_OPT_TABLE && kiln_opts_npos(pp) == 1);
  kiln_opts *q = kiln_opts_at(pp, 0);
  CHECK(q && kiln_opts_npos(q) == 2 && strcmp(kiln_opts_at(q, 1)->str, "Ne") == 0);
  CHECK_OK(kiln_opts_num(q, "pair", "epsilon", 0, 0, &x, &err));
  CHECK(x == 0.0104);
  CHECK_OK(kiln_opts_check_unused(q, "pair", &err));

  CHECK(kiln_opts_get(o, "nope") == NULL && kiln_opts_get(NULL, "x") == NULL);
  /* everything keyed at the root was looked up, except one added now */
  CHECK_OK(kiln_opts_check_unused(o, "potential lj", &err));
  CHECK_OK(kiln_opts_add_num(o, "cutof", 3, &err));
  CHECK_ERR(kiln_opts_check_unused(o, "potential lj", &err), KILN_EINVAL,
            "potential lj: unknown option 'cutof'");
  /* adding to a leaf fails cleanly */
  kiln_opts *leaf = kiln_opts_get(o, "cutoff");
  CHECK_ERR(kiln_opts_add_num(leaf, "x", 1, &err), KILN_EINVAL, "non-table");
  kiln_opts_free(o);
  kiln_opts_free(NULL);
}

TEST(test_opts_set_path) {
  kiln_error err = {0};
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_set_path(o, "file", "/usr/share/lammps/potentials/Si.sw", &err));
  CHECK_OK(kiln_opts_set_path(o, "elements.1", "Si", &err));
  CHECK_OK(kiln_opts_set_path(o, "elements.2", "Ge", &err));
  CHECK_OK(kiln_opts_set_path(o, "pairs.1.1", "Ar", &err));
  CHECK_OK(kiln_opts_set_path(o, "pairs.1.2", "Ar", &err));
  CHECK_OK(kiln_opts_set_path(o, "pairs.1.epsilon", "0.0104", &err));
  CHECK_OK(kiln_opts_set_path(o, "pairs.2.sigma", "3.4e0", &err)); /* creates pairs[2] */
  CHECK_OK(kiln_opts_set_path(o, "shift", "true", &err));
  CHECK_OK(kiln_opts_set_path(o, "mix", "false", &err));
  CHECK_OK(kiln_opts_set_path(o, "cutoff", "8", &err));
  CHECK_OK(kiln_opts_set_path(o, "cutoff", "8.5", &err)); /* replaces */
  CHECK_OK(kiln_opts_set_path(o, "label", "12abc", &err));
  CHECK_OK(kiln_opts_set_path(o, "deep.4.x", "1", &err)); /* gap filled with tables */

  kiln_opts *e = kiln_opts_get(o, "elements");
  CHECK(e && kiln_opts_npos(e) == 2 && strcmp(kiln_opts_at(e, 1)->str, "Ge") == 0);
  kiln_opts *p = kiln_opts_get(o, "pairs");
  CHECK(p && kiln_opts_npos(p) == 2);
  kiln_opts *p1 = kiln_opts_at(p, 0);
  CHECK(kiln_opts_npos(p1) == 2 && strcmp(kiln_opts_at(p1, 0)->str, "Ar") == 0);
  double x = 0;
  CHECK_OK(kiln_opts_num(p1, "pair", "epsilon", 0, 0, &x, &err));
  CHECK(x == 0.0104);
  CHECK_OK(kiln_opts_num(kiln_opts_at(p, 1), "pair", "sigma", 0, 0, &x, &err));
  CHECK(x == 3.4);
  int b = 0;
  CHECK_OK(kiln_opts_bool(o, "t", "shift", 0, 0, &b, &err));
  CHECK(b == 1);
  CHECK_OK(kiln_opts_bool(o, "t", "mix", 0, 1, &b, &err));
  CHECK(b == 0);
  CHECK_OK(kiln_opts_num(o, "t", "cutoff", 0, 0, &x, &err));
  CHECK(x == 8.5);
  const char *s = NULL;
  CHECK_OK(kiln_opts_str(o, "t", "label", 0, NULL, &s, &err));
  CHECK(strcmp(s, "12abc") == 0);
  kiln_opts *d = kiln_opts_get(o, "deep");
  CHECK(d && kiln_opts_npos(d) == 4 && kiln_opts_get(kiln_opts_at(d, 3), "x")->num == 1);

  CHECK_ERR(kiln_opts_set_path(o, "a..b", "1", &err), KILN_EINVAL, "malformed");
  CHECK_ERR(kiln_opts_set_path(o, "", "1", &err), KILN_EINVAL, "malformed");
  CHECK_ERR(kiln_opts_set_path(o, "x.0", "1", &err), KILN_EINVAL, "positional index '0'");
  CHECK_ERR(kiln_opts_set_path(o, "cutoff.sub", "1", &err), KILN_EINVAL, "non-table");
  kiln_opts_free(o);
}

TEST(test_rng_reference) {
  /* xoshiro256** reference outputs for state {1,2,3,4} (checked with an independent
   * Python implementation of Blackman & Vigna's algorithm). */
  kiln_rng r = {{1, 2, 3, 4}, 0, 0};
  CHECK(kiln_rng_u64(&r) == 11520ULL);
  CHECK(kiln_rng_u64(&r) == 0ULL);
  CHECK(kiln_rng_u64(&r) == 1509978240ULL);
  CHECK(kiln_rng_u64(&r) == 1215971899390074240ULL);
}

TEST(test_rng_streams) {
  kiln_rng a, b, c, d;
  kiln_rng_seed(&a, 42, 0);
  kiln_rng_seed(&b, 42, 0);
  kiln_rng_seed(&c, 42, 1);
  kiln_rng_seed(&d, 43, 0);
  int same = 1, diffc = 0, diffd = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = kiln_rng_u64(&a), y = kiln_rng_u64(&b), z = kiln_rng_u64(&c), w = kiln_rng_u64(&d);
    same &= x == y;
    diffc += x != z;
    diffd += x != w;
  }
  CHECK(same);
  CHECK(diffc == 1000 && diffd == 1000);
  /* the state is POD: a copy (checkpoint) reproduces the normal sequence, spare included */
  (void)kiln_rng_normal(&a);
  kiln_rng save = a;
  double n1 = kiln_rng_normal(&a), n2 = kiln_rng_normal(&a);
  CHECK(kiln_rng_normal(&save) == n1 && kiln_rng_normal(&save) == n2);
  /* correlation between streams 0 and 1 of the same seed */
  kiln_rng s0, s1;
  kiln_rng_seed(&s0, 7, 0);
  kiln_rng_seed(&s1, 7, 1);
  double sxy = 0;
  const int N = 100000;
  for (int i = 0; i < N; i++) sxy += (kiln_rng_uniform(&s0) - 0.5) * (kiln_rng_uniform(&s1) - 0.5);
  CHECK(fabs(sxy / N * 12.0) < 5.0 / sqrt(N)); /* correlation coefficient ~ 0 */
}

/* mean, variance, skewness, excess kurtosis of samples */
static void moments(const double *x, int n, double m[4]) {
  double mean = 0;
  for (int i = 0; i < n; i++) mean += x[i];
  mean /= n;
  double m2 = 0, m3 = 0, m4 = 0;
  for (int i = 0; i < n; i++) {
    double d = x[i] - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n; m3 /= n; m4 /= n;
  m[0] = mean;
  m[1] = m2;
  m[2] = m3 / pow(m2, 1.5);
  m[3] = m4 / (m2 * m2) - 3.0;
}

TEST(test_rng_distributions) {
  enum { N = 100000 };
  double *x = malloc(N * sizeof *x), m[4];
  kiln_rng r;
  kiln_rng_seed(&r, 12345, 3);
  /* tolerances: 5 standard errors for N = 1e5 */
  double lo = 1, hi = 0;
  for (int i = 0; i < N; i++) {
    x[i] = kiln_rng_uniform(&r);
    lo = fmin(lo, x[i]);
    hi = fmax(hi, x[i]);
  }
  moments(x, N, m);
  CHECK(lo >= 0.0 && hi < 1.0);
  CHECK_CLOSE(m[0], 0.5, 0, 5 * sqrt(1.0 / 12 / N));
  CHECK_CLOSE(m[1], 1.0 / 12, 0, 5 * sqrt((1.0 / 80 - 1.0 / 144) / N));
  CHECK_CLOSE(m[3], -1.2, 0, 0.05);

  for (int i = 0; i < N; i++) x[i] = kiln_rng_normal(&r);
  moments(x, N, m);
  CHECK_CLOSE(m[0], 0.0, 0, 5 * sqrt(1.0 / N));
  CHECK_CLOSE(m[1], 1.0, 0, 5 * sqrt(2.0 / N));
  CHECK_CLOSE(m[2], 0.0, 0, 5 * sqrt(6.0 / N));
  CHECK_CLOSE(m[3], 0.0, 0, 5 * sqrt(24.0 / N));
  int within1 = 0;
  for (int i = 0; i < N; i++) within1 += fabs(x[i]) < 1.0;
  CHECK_CLOSE((double)within1 / N, 0.682689492137086, 0, 5 * sqrt(0.2167 / N));

  /* chi-squared: mean n, variance 2n, skewness sqrt(8/n), excess kurtosis 12/n.
   * n = 3 uses the sum of squares, n = 17 and 100000 the gamma generator. */
  const long ns[3] = {3, 17, 100000};
  for (int k = 0; k < 3; k++) {
    double n = (double)ns[k];
    for (int i = 0; i < N; i++) x[i] = kiln_rng_chisq(&r, ns[k]);
    moments(x, N, m);
    CHECK_CLOSE(m[0], n, 0, 5 * sqrt(2 * n / N));
    CHECK_CLOSE(m[1], 2 * n, 0, 5 * 2 * n * sqrt((2 + 12 / n) / N));
    CHECK_CLOSE(m[2], sqrt(8 / n), 0, k == 0 ? 0.15 : 0.06);
  }
  CHECK(kiln_rng_chisq(&r, 0) == 0.0);
  free(x);
}

TEST(test_units) {
  double y = 0;
  CHECK(kiln_units_convert(1.0, "eV", "kJ/mol", &y) == 0);
  CHECK_CLOSE(y, 96.4853321233, 1e-10, 0);
  CHECK(kiln_units_convert(1.0, "eV", "kcal/mol", &y) == 0);
  CHECK_CLOSE(y, 23.0605478301, 1e-10, 0);
  CHECK(kiln_units_convert(1.0, "Ha", "eV", &y) == 0);
  CHECK_CLOSE(y, 27.211386245988, 1e-12, 0);
  CHECK(kiln_units_convert(2.0, "Ry", "Ha", &y) == 0);
  CHECK_CLOSE(y, 1.0, 1e-11, 0);
  CHECK(kiln_units_convert(1.0, "J", "eV", &y) == 0);
  CHECK_CLOSE(y, 6.241509074460763e18, 1e-12, 0);
  CHECK(kiln_units_convert(1.0, "bohr", "A", &y) == 0);
  CHECK_CLOSE(y, 0.529177210903, 1e-12, 0);
  CHECK(kiln_units_convert(1.0, "nm", "m", &y) == 0);
  CHECK_CLOSE(y, 1e-9, 1e-12, 0);
  CHECK(kiln_units_convert(1.0, "ps", "fs", &y) == 0);
  CHECK(y == 1000.0);
  CHECK(kiln_units_convert(1.0, "eV/A^3", "GPa", &y) == 0);
  CHECK_CLOSE(y, 160.2176634, 1e-12, 0);
  CHECK(kiln_units_convert(1.0, "GPa", "bar", &y) == 0);
  CHECK_CLOSE(y, 1e4, 1e-12, 0);
  CHECK(kiln_units_convert(1.0, "atm", "Pa", &y) == 0);
  CHECK_CLOSE(y, 101325, 1e-12, 0);
  /* h * 1 THz = 4.135667696 meV; 1 THz = 33.35640952 cm^-1 */
  CHECK(kiln_units_convert(1.0, "THz", "meV", &y) == 0);
  CHECK_CLOSE(y, 4.135667696, 1e-9, 0);
  CHECK(kiln_units_convert(1.0, "THz", "cm-1", &y) == 0);
  CHECK_CLOSE(y, 33.35640951981521, 1e-12, 0);
  CHECK(kiln_units_convert(1.0, "THz", "rad/fs", &y) == 0);
  CHECK_CLOSE(y, 2 * 3.14159265358979323846e-3, 1e-14, 0);
  CHECK(kiln_units_convert(1.0, "meV", "eV", &y) == 0); /* meV in both groups: energy */
  CHECK(y == 1e-3);
  CHECK(kiln_units_convert(1.0, "eV", "A", &y) == -1);
  CHECK(kiln_units_convert(1.0, "furlong", "m", &y) == -1);
}

/* misspelt options are named against the style's documented option list */
TEST(test_opts_check_known) {
  kiln_error err = {0};
  const char *doc = "epsilon=number (eV)\nsigma=number (A)\n  cutoff=number (A)\n"
                    "pairs={{\"A\",\"B\", epsilon=}} (per pair)";
  kiln_opts *o = NULL;
  CHECK_OK(kiln_opts_new(&o, &err));
  CHECK_OK(kiln_opts_add_num(o, "epsilon", 1, &err));
  CHECK_OK(kiln_opts_add_num(o, "cutoff", 3, &err));
  CHECK_OK(kiln_opts_check_known(o, "potential x", doc, NULL, &err));
  CHECK_OK(kiln_opts_add_num(o, "T", 3, &err));
  CHECK_ERR(kiln_opts_check_known(o, "potential x", doc, NULL, &err), KILN_EINVAL,
            "potential x: unknown option 'T' (options: epsilon, sigma, cutoff, pairs)");
  CHECK_OK(kiln_opts_check_known(o, "md x", doc, "dt T seed", &err));   /* extra names */
  CHECK_OK(kiln_opts_add_num(o, "sigam", 3, &err));
  CHECK_ERR(kiln_opts_check_known(o, "md x", doc, "dt cutoff T", &err), KILN_EINVAL,
            "md x: unknown option 'sigam' (options: epsilon, sigma, cutoff, pairs, dt, T)");
  CHECK(kiln_opts_get(o, "sigam") != NULL);                             /* marks it used */
  CHECK_OK(kiln_opts_check_known(o, "md x", doc, "T", &err));           /* used: skipped */
  CHECK_OK(kiln_opts_check_known(o, "sum", "a list of parts {style=..}", NULL, &err)); /* no names */
  kiln_opts_free(o);
}

int main(void) {
  RUN(test_error);
  RUN(test_array);
  RUN(test_opts_lookup);
  RUN(test_opts_check_known);
  RUN(test_opts_set_path);
  RUN(test_rng_reference);
  RUN(test_rng_streams);
  RUN(test_rng_distributions);
  RUN(test_units);
  return check_summary();
}
