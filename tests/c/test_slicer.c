/* tests/c/test_slicer.c: relativistic lambda/sigma, K0, Kirkland parametrization and the
 * projected-potential slicer (src/wave/physics.c, kirkland.c, slicer.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include "kiln/wave.h"

double kiln_bessel_k0_(double x); /* private (src/wave/slicer_internal.h) */

static const double PI = 3.14159265358979323846;
static const double AE2PI = 2.0 * 3.14159265358979323846 * 0.529177210903 * 14.399645478425668;

TEST(test_lambda_sigma) {
  /* references: h / sqrt(2 m e V (1 + e V / (2 m c^2))) and 2 pi m(V) e lambda / h^2 in SI
   * with CODATA 2018 h, m_e, e, c (mpmath, 30 digits) */
  CHECK_CLOSE(kiln_wave_wavelength(100e3), 0.0370143661378181, 1e-11, 0);
  CHECK_CLOSE(kiln_wave_wavelength(200e3), 0.025079340450548, 1e-11, 0);
  CHECK_CLOSE(kiln_wave_wavelength(300e3), 0.0196874890068488, 1e-11, 0);
  CHECK_CLOSE(kiln_wave_sigma(100e3), 0.000924395817060737, 1e-10, 0);
  CHECK_CLOSE(kiln_wave_sigma(200e3), 0.000728840104095859, 1e-10, 0);
  CHECK_CLOSE(kiln_wave_sigma(300e3), 0.000652616142172163, 1e-10, 0);
  /* the published (5-digit) check values */
  CHECK_CLOSE(kiln_wave_wavelength(200e3), 0.025079, 2e-5, 0);
  CHECK_CLOSE(kiln_wave_wavelength(100e3), 0.037014, 2e-5, 0);
  CHECK_CLOSE(kiln_wave_wavelength(300e3), 0.019687, 3e-5, 0);
  CHECK_CLOSE(kiln_wave_sigma(200e3), 0.00072884, 1e-5, 0);
}

TEST(test_grid_make) {
  kiln_error err;
  kiln_wave_grid g;
  CHECK_OK(kiln_wave_grid_make(&g, 10.0, 20.0, 64, 128, 0.0, &err));
  CHECK(g.nx == 64 && g.ny == 128 && g.lx == 10.0 && g.ly == 20.0);
  CHECK_OK(kiln_wave_grid_make(&g, 101.5, 50.0, 0, 0, 0.1, &err));
  CHECK(g.nx == 1024 && g.ny == 500); /* 1015 -> 1024 (2^10), 500 = 2^2 5^3 */
  CHECK_OK(kiln_wave_grid_make(&g, 10.0, 10.0, 0, 0, 0.1, &err));
  CHECK(g.nx == 100 && g.ny == 100);
  CHECK_ERR(kiln_wave_grid_make(&g, -1.0, 10.0, 8, 8, 0.0, &err), KILN_EINVAL, "extent");
  CHECK_ERR(kiln_wave_grid_make(&g, 1.0, 10.0, 0, 0, 0.0, &err), KILN_EINVAL, "sampling");
  CHECK_ERR(kiln_wave_grid_make(&g, 1.0, 10.0, 8, 0, 0.0, &err), KILN_EINVAL, "gpts");
}

TEST(test_bessel_k0) {
  /* mpmath besselk(0, x), 30 digits */
  static const double ref[][2] = {
      {1e-6, 13.931442073626419459}, {0.01, 4.7212447301610949443},
      {0.1, 2.4270690247020165578},  {0.5, 0.92441907122766586178},
      {1, 0.42102443824070833334},   {1.9, 0.12884597927604749404},
      {2, 0.11389387274953343565},   {2.1, 0.10078374088996693491},
      {3, 0.034739504386279248072},  {5, 0.0036910983340425942747},
      {10, 1.7780062316167651811e-5}, {30, 2.1324774964630563712e-14},
      {100, 4.6566282291759020189e-45}, {300, 3.7236948548891432633e-132}};
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++)
    CHECK_CLOSE(kiln_bessel_k0_(ref[i][0]), ref[i][1], 2e-14, 0);
}

TEST(test_kirkland) {
  kiln_error err;
  double p[12];
  /* abTEM 1.0.9 (float32) values from ../shared/data/electron_scattering/README.md */
  static const struct { int Z; double fe0, fe1, integ, vz05; } ref[] = {
      {8, 1.9897, 0.5421, 95.264, 28.889},
      {22, 8.7400, 1.2294, 418.45, 98.160},
      {38, 13.0552, 1.7284, 625.05, 134.69}};
  for (int i = 0; i < 3; i++) {
    CHECK_OK(kiln_kirkland_params(ref[i].Z, p, &err));
    CHECK_CLOSE(kiln_kirkland_fe(p, 0.0), ref[i].fe0, 1e-4, 0);
    CHECK_CLOSE(kiln_kirkland_fe(p, 1.0), ref[i].fe1, 1e-4, 0);
    CHECK_CLOSE(kiln_kirkland_fe(p, 0.0) * AE2PI, ref[i].integ, 1e-4, 0);
    CHECK_CLOSE(kiln_kirkland_vz(p, 0.5), ref[i].vz05, 1e-4, 0);
    /* 2-D integral of V_z (midpoint rule in r, substitution r = t^2 to tame the log) */
    double s = 0.0, h = 1e-4;
    for (double t = 0.5 * h; t < 6.0; t += h) s += 2.0 * PI * t * t * kiln_kirkland_vz(p, t * t) * 2.0 * t * h;
    CHECK_CLOSE(s, kiln_kirkland_fe(p, 0.0) * AE2PI, 2e-5, 0);
    /* V_z(r) = int V(sqrt(r^2 + z^2)) dz */
    for (double r = 0.2; r < 2.0; r += 0.6) {
      double v = 0.0, hz = 1e-4;
      for (double z = 0.5 * hz; z < 30.0; z += hz) v += 2.0 * kiln_kirkland_v(p, sqrt(r * r + z * z)) * hz;
      CHECK_CLOSE(v, kiln_kirkland_vz(p, r), 1e-6, 0);
    }
  }
  CHECK_ERR(kiln_kirkland_params(0, p, &err), KILN_EINVAL, "Z = 0");
  CHECK_ERR(kiln_kirkland_params(99, p, &err), KILN_EINVAL, "Z = 99");
  CHECK_OK(kiln_kirkland_params(98, p, &err));
}

/* --------------------------------------------------------------- slicer helpers */
typedef struct { int prec, finite; size_t nx; double l, dz; } setup;

/* Build every slice of one configuration and return their sum (nx*nx doubles). */
static double *build_sum(setup su, int nel, const int *Z, size_t n, const double (*xyz)[3],
                         const int32_t *el, double thick, size_t *nsl_out) {
  kiln_error err;
  kiln_slicer *s = NULL;
  kiln_slicer_opts o = {{su.nx, su.nx, su.l, su.l}, su.dz, su.finite, su.prec, nel, Z};
  CHECK_OK(kiln_slicer_new(&s, &o, &err));
  CHECK_OK(kiln_slicer_set_atoms(s, n, xyz, el, thick, &err));
  size_t np = su.nx * su.nx, nsl = kiln_slicer_nslices(s);
  double *sum = calloc(np, sizeof *sum);
  void *V = malloc(np * sizeof(double));
  for (size_t k = 0; k < nsl; k++) {
    CHECK_OK(kiln_slicer_build(s, k, V, &err));
    for (size_t i = 0; i < np; i++)
      sum[i] += su.prec == KILN_WAVE_F32 ? (double)((float *)V)[i] : ((double *)V)[i];
  }
  if (nsl_out) *nsl_out = nsl;
  free(V);
  kiln_slicer_free(s);
  return sum;
}

/* V_z of one atom summed over periodic images (cell l x l) */
static double vz_periodic(const double p[12], double l, double x, double y) {
  double v = 0.0;
  for (int i = -2; i <= 2; i++)
    for (int j = -2; j <= 2; j++) v += kiln_kirkland_vz(p, hypot(x + i * l, y + j * l));
  return v;
}

/* Fourier coefficient int V(r) e^{-2 pi i k.r} dA (direct sum) */
static void fourier(const double *V, size_t n, double l, double kx, double ky, double *re,
                    double *im) {
  double h = l / (double)n, sr = 0.0, si = 0.0;
  for (size_t iy = 0; iy < n; iy++)
    for (size_t ix = 0; ix < n; ix++) {
      double ph = -2.0 * PI * (kx * ix * h + ky * iy * h);
      sr += V[iy * n + ix] * cos(ph);
      si += V[iy * n + ix] * sin(ph);
    }
  *re = sr * h * h;
  *im = si * h * h;
}

/* max relative error of the Fourier coefficients of V at k = (mx, my)/l against
 * sum_atoms 2 pi a0 e f_e(k) e^{-2 pi i k.r_a}, over |m| <= frac * n/2 */
static double spectrum_err(const double *V, size_t n, double l, size_t na, const double (*xyz)[3],
                           const int32_t *el, double (*p)[12], double frac) {
  double worst = 0.0;
  int mmax = (int)(frac * (double)n / 2.0);
  for (int my = -mmax; my <= mmax; my += 3)
    for (int mx = 0; mx <= mmax; mx += 2) {
      double kx = mx / l, ky = my / l;
      if (hypot(mx, my) > mmax) continue;
      double re, im, rr = 0.0, ri = 0.0;
      fourier(V, n, l, kx, ky, &re, &im);
      for (size_t a = 0; a < na; a++) {
        double F = AE2PI * kiln_kirkland_fe(p[el[a]], hypot(kx, ky));
        double ph = -2.0 * PI * (kx * xyz[a][0] + ky * xyz[a][1]);
        rr += F * cos(ph);
        ri += F * sin(ph);
      }
      double d = hypot(re - rr, im - ri) / hypot(rr, ri);
      if (d > worst) worst = d;
    }
  return worst;
}

/* max relative deviation from the formula at rmin <= r <= rmax */
static double profile_err(const double *V, size_t nx, double l, const double p[12], double x0,
                          double y0, double rmin, double rmax) {
  double h = l / (double)nx, worst = 0.0;
  for (size_t iy = 0; iy < nx; iy++)
    for (size_t ix = 0; ix < nx; ix++) {
      double dx = ix * h - x0, dy = iy * h - y0;
      dx -= l * floor(dx / l + 0.5);
      dy -= l * floor(dy / l + 0.5);
      double r = hypot(dx, dy);
      if (r < rmin || r > rmax) continue;
      double ref = vz_periodic(p, l, dx, dy), d = fabs(V[iy * nx + ix] - ref) / ref;
      if (d > worst) worst = d;
    }
  return worst;
}

TEST(test_single_atom) {
  int Z[3] = {8, 22, 38};
  double p[3][12];
  kiln_error err;
  for (int e = 0; e < 3; e++) CHECK_OK(kiln_kirkland_params(Z[e], p[e], &err));
  setup su = {KILN_WAVE_F64, 0, 128, 12.8, 2.0};
  double h = su.l / su.nx;
  double pos[3][3] = {{6.4, 6.4, 1.0}, {6.4 + 0.37 * h, 6.4 - 0.61 * h, 1.0}, {0.13, 12.75, 1.0}};
  const char *what[3] = {"on a pixel", "off-grid (0.37, -0.61 px)", "at the corner (wraps)"};
  for (int e = 0; e < 3; e++)
    for (int q = 0; q < 3; q++) {
      int32_t el[1] = {(int32_t)e};
      double xyz[1][3] = {{pos[q][0], pos[q][1], pos[q][2]}};
      double *V = build_sum(su, 3, Z, 1, xyz, el, 2.0, NULL);
      double s = 0.0;
      for (size_t i = 0; i < su.nx * su.nx; i++) s += V[i];
      CHECK_CLOSE(s * h * h, kiln_kirkland_fe(p[e], 0.0) * AE2PI, 1e-12, 0);
      double e13 = spectrum_err(V, su.nx, su.l, 1, (const double(*)[3])xyz, el, p, 1.0 / 3.0);
      double e23 = spectrum_err(V, su.nx, su.l, 1, (const double(*)[3])xyz, el, p, 2.0 / 3.0);
      double ep = profile_err(V, su.nx, su.l, p[e], xyz[0][0], xyz[0][1], 0.3, 1.0);
      printf("  Z=%d %s: spectrum error |k| <= kN/3 %.1e, <= 2kN/3 %.1e; real space vs V_z "
             "(0.3..1 Å) %.1e\n", Z[e], what[q], e13, e23, ep);
      CHECK(e13 < 1e-7);
      CHECK(e23 < 3e-3);
      /* band-limited: nothing beyond the propagator's disk |k| < 2/3 kN (kN = 5/Å here) */
      double kout[3][2] = {{44 / su.l, 0.0}, {33 / su.l, 33 / su.l}, {0.0, -62 / su.l}}, far = 0.0;
      for (int j = 0; j < 3; j++) {
        double re, im;
        fourier(V, su.nx, su.l, kout[j][0], kout[j][1], &re, &im);
        far = fmax(far, hypot(re, im) / (AE2PI * kiln_kirkland_fe(p[e], 0.0)));
      }
      if (q == 0) printf("    beyond the disk: %.1e of the k = 0 coefficient\n", far);
      CHECK(far < 1e-12);
      free(V);
    }
}

TEST(test_grid_independence_and_precision) {
  int Z[2] = {22, 8};
  double p[2][12];
  kiln_error err;
  CHECK_OK(kiln_kirkland_params(22, p[0], &err));
  CHECK_OK(kiln_kirkland_params(8, p[1], &err));
  double xyz[3][3] = {{1.1, 2.3, 0.5}, {3.05, 0.4, 1.2}, {2.0, 4.9, 0.1}};
  int32_t el[3] = {0, 1, 1};
  setup a = {KILN_WAVE_F64, 0, 64, 6.4, 2.0}, b = {KILN_WAVE_F64, 0, 128, 6.4, 2.0};
  double *Va = build_sum(a, 2, Z, 3, (const double(*)[3])xyz, el, 2.0, NULL);
  double *Vb = build_sum(b, 2, Z, 3, (const double(*)[3])xyz, el, 2.0, NULL);
  double worst = 0.0;
  for (int my = -10; my <= 10; my++)
    for (int mx = 0; mx <= 10; mx++) {
      double ra, ia, rb, ib;
      fourier(Va, 64, 6.4, mx / 6.4, my / 6.4, &ra, &ia);
      fourier(Vb, 128, 6.4, mx / 6.4, my / 6.4, &rb, &ib);
      worst = fmax(worst, hypot(ra - rb, ia - ib) / hypot(rb, ib));
    }
  double ef = spectrum_err(Vb, 128, 6.4, 3, (const double(*)[3])xyz, el, p, 1.0 / 3.0);
  printf("  64^2 vs 128^2 over 6.4 Å: spectra (|m| <= 10) differ by %.1e; 3 atoms vs formula %.1e\n",
         worst, ef);
  CHECK(worst < 1e-7);
  CHECK(ef < 1e-7);
  setup c = {KILN_WAVE_F32, 0, 128, 6.4, 2.0};
  double *Vc = build_sum(c, 2, Z, 3, (const double(*)[3])xyz, el, 2.0, NULL);
  double vmax = 0.0, dmax = 0.0;
  for (size_t i = 0; i < 128 * 128; i++) {
    vmax = fmax(vmax, fabs(Vb[i]));
    dmax = fmax(dmax, fabs(Vb[i] - Vc[i]));
  }
  printf("  float vs double: max diff %.2e of max V\n", dmax / vmax);
  CHECK(dmax / vmax < 2e-6);
  free(Va);
  free(Vb);
  free(Vc);
}

TEST(test_finite_sum) {
  int Z[3] = {8, 22, 38};
  double xyz[4][3] = {{1.1, 2.3, 15.3}, {3.05, 0.4, 16.1}, {2.0, 4.9, 17.95}, {5.0, 5.0, 14.0}};
  int32_t el[4] = {0, 1, 2, 0};
  setup inf = {KILN_WAVE_F64, 0, 64, 6.4, 2.0}, fin = {KILN_WAVE_F64, 1, 64, 6.4, 2.0};
  size_t nsl;
  double *Vi = build_sum(inf, 3, Z, 4, xyz, el, 32.0, &nsl);
  CHECK(nsl == 16);
  double *Vf = build_sum(fin, 3, Z, 4, xyz, el, 32.0, &nsl);
  double vmax = 0.0, dmax = 0.0, si = 0.0, sf = 0.0;
  for (size_t i = 0; i < 64 * 64; i++) {
    vmax = fmax(vmax, fabs(Vi[i]));
    dmax = fmax(dmax, fabs(Vi[i] - Vf[i]));
    si += Vi[i];
    sf += Vf[i];
  }
  printf("  finite summed over slices vs infinite: max diff %.2e of max V, integral %.2e\n",
         dmax / vmax, fabs(sf - si) / si);
  CHECK(dmax / vmax < 1e-3);
  CHECK_CLOSE(sf, si, 3e-4, 0);
  free(Vi);
  free(Vf);
}

TEST(test_slices_and_errors) {
  kiln_error err;
  int Z[2] = {8, 38};
  double p[2][12];
  CHECK_OK(kiln_kirkland_params(8, p[0], &err));
  CHECK_OK(kiln_kirkland_params(38, p[1], &err));
  kiln_slicer *s = NULL;
  kiln_slicer_opts o = {{32, 48, 4.0, 6.0}, 2.0, 0, KILN_WAVE_F64, 2, Z};
  CHECK_OK(kiln_slicer_new(&s, &o, &err));
  double V[32 * 48];
  CHECK_ERR(kiln_slicer_build(s, 0, V, &err), KILN_ESTATE, "no atoms");
  double xyz[5][3] = {{1, 1, 3.9}, {2, 2, 0.1}, {3, 1, 2.5}, {0.5, 5, 4.0}, {1, 3, 5.5}};
  int32_t el[5] = {1, 0, 1, 0, 0};
  CHECK_OK(kiln_slicer_set_atoms(s, 5, xyz, el, 5.5, &err));
  CHECK(kiln_slicer_nslices(s) == 3);
  /* slice 0: O; slice 1: Sr, Sr; slice 2: O, O (z = 4.0 and 5.5 = thickness) */
  double want[3] = {kiln_kirkland_fe(p[0], 0), 2 * kiln_kirkland_fe(p[1], 0),
                    2 * kiln_kirkland_fe(p[0], 0)};
  for (size_t k = 0; k < 3; k++) {
    CHECK_OK(kiln_slicer_build(s, k, V, &err));
    double sum = 0.0;
    for (int i = 0; i < 32 * 48; i++) sum += V[i];
    CHECK_CLOSE(sum * (4.0 / 32) * (6.0 / 48), want[k] * AE2PI, 1e-12, 0);
  }
  CHECK_ERR(kiln_slicer_build(s, 3, V, &err), KILN_ERANGE, "slice 3");
  el[2] = 2;
  CHECK_ERR(kiln_slicer_set_atoms(s, 5, xyz, el, 5.5, &err), KILN_EINVAL, "element index 2");
  el[2] = -1;
  CHECK_ERR(kiln_slicer_set_atoms(s, 5, xyz, el, 5.5, &err), KILN_EINVAL, "element index -1");
  el[2] = 0;
  CHECK_ERR(kiln_slicer_set_atoms(s, 5, xyz, el, 0.0, &err), KILN_EINVAL, "thickness");
  xyz[1][0] = NAN;
  CHECK_ERR(kiln_slicer_set_atoms(s, 5, xyz, el, 5.5, &err), KILN_EINVAL, "non-finite");
  /* empty slice */
  CHECK_OK(kiln_slicer_set_atoms(s, 0, NULL, NULL, 5.5, &err));
  V[7] = 1.0;
  CHECK_OK(kiln_slicer_build(s, 1, V, &err));
  CHECK(V[7] == 0.0);
  kiln_slicer_free(s);
  kiln_slicer *t = NULL;
  int Zbad[2] = {8, 99};
  o.Z = Zbad;
  CHECK_ERR(kiln_slicer_new(&t, &o, &err), KILN_EINVAL, "Z = 99");
  o.Z = Z;
  o.dz = 0.0;
  CHECK_ERR(kiln_slicer_new(&t, &o, &err), KILN_EINVAL, "dz");
  o.dz = NAN;
  CHECK_ERR(kiln_slicer_new(&t, &o, &err), KILN_EINVAL, "dz");
  o.dz = 2.0;
  o.precision = 3;
  CHECK_ERR(kiln_slicer_new(&t, &o, &err), KILN_EINVAL, "precision");
  o.precision = KILN_WAVE_F32;
  o.nelem = 0;
  CHECK_ERR(kiln_slicer_new(&t, &o, &err), KILN_EINVAL, "element");
  CHECK(t == NULL);
  kiln_slicer_free(NULL);
}

int main(void) {
  RUN(test_lambda_sigma);
  RUN(test_grid_make);
  RUN(test_bessel_k0);
  RUN(test_kirkland);
  RUN(test_single_atom);
  RUN(test_grid_independence_and_precision);
  RUN(test_finite_sum);
  RUN(test_slices_and_errors);
  return check_summary();
}
