/* tests/c/test_multislice.c: waves, probes, the multislice propagator and detectors,
 * against analytic results (Fresnel propagation of a Gaussian, Parseval, the kinematic
 * scattering factor of a thin atom, the defocus/propagation identity). */
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kiln/wave.h"

#define E200 200e3

static double freq(size_t i, size_t n, double l) {
  return (i < (n + 1) / 2 ? (double)i : (double)i - (double)n) / l;
}
static double kmax_of(const kiln_wave_grid *g) {
  return 2.0 / 3.0 * fmin(0.5 * (double)g->nx / g->lx, 0.5 * (double)g->ny / g->ly);
}
/* Periodic minimum-image offset. */
static double wrapd(double d, double l) { return d - l * floor(d / l + 0.5); }

/* A smooth "crystal" potential (V·Å): Gaussians of width w at a few sites. */
static double smooth_v(double x, double y, const kiln_wave_grid *g, double w, double amp) {
  static const double site[4][2] = {{0.2, 0.3}, {0.6, 0.25}, {0.45, 0.7}, {0.85, 0.8}};
  double v = 0;
  for (int s = 0; s < 4; s++) {
    double dx = wrapd(x - site[s][0] * g->lx, g->lx), dy = wrapd(y - site[s][1] * g->ly, g->ly);
    v += amp * (1.0 + 0.3 * s) * exp(-(dx * dx + dy * dy) / (2 * w * w));
  }
  return v;
}

/* Fresnel propagation of a Gaussian: psi0 = exp(-r^2/(2a)) -> (a/b) exp(-r^2/(2b)),
 * b = a + i lambda L / (2 pi), for the propagator exp(-i pi lambda L k^2). */
TEST(test_gaussian_fresnel) {
  kiln_error err = {0};
  kiln_wave_grid g = {256, 256, 64.0, 64.0};
  kiln_wave *w = NULL;
  kiln_multislice *m = NULL;
  double dz = 200.0, a = 4.0, x0 = 32.0, y0 = 32.0;
  int nstep = 10;
  CHECK_OK(kiln_wave_new(&w, &g, E200, KILN_WAVE_F64, &err));
  CHECK_OK(kiln_multislice_new(&m, &g, E200, dz, KILN_WAVE_F64, 1, &err));
  if (!w || !m) goto done;
  double *p = kiln_wave_data(w);
  for (size_t iy = 0; iy < g.ny; iy++)
    for (size_t ix = 0; ix < g.nx; ix++) {
      double x = ix * g.lx / g.nx - x0, y = iy * g.ly / g.ny - y0;
      p[2 * (iy * g.nx + ix)] = exp(-(x * x + y * y) / (2 * a));
      p[2 * (iy * g.nx + ix) + 1] = 0;
    }
  double n0 = kiln_wave_norm(w);
  CHECK_CLOSE(n0, M_PI * a / (g.lx * g.ly), 1e-12, 0);   /* integral of exp(-r^2/a) / area */
  for (int s = 0; s < nstep; s++) CHECK_OK(kiln_multislice_step(m, w, NULL, &err));
  double lam = kiln_wave_wavelength(E200), L = dz * nstep;
  double complex_b_re = a, complex_b_im = lam * L / (2 * M_PI);
  double maxd = 0, maxa = 0, s0 = 0, s2 = 0, s2an;
  for (size_t iy = 0; iy < g.ny; iy++)
    for (size_t ix = 0; ix < g.nx; ix++) {
      double x = ix * g.lx / g.nx - x0, y = iy * g.ly / g.ny - y0, r2 = x * x + y * y;
      /* (a/b) exp(-r^2/(2b)) with b = br + i bi */
      double br = complex_b_re, bi = complex_b_im, bb = br * br + bi * bi;
      double ire = br / bb, iim = -bi / bb;            /* 1/b */
      double mag = exp(-r2 / 2 * ire), ph = -r2 / 2 * iim;
      double pre_re = a * ire, pre_im = a * iim;        /* a/b */
      double are = mag * (pre_re * cos(ph) - pre_im * sin(ph));
      double aim = mag * (pre_re * sin(ph) + pre_im * cos(ph));
      size_t i = iy * g.nx + ix;
      double d = hypot(p[2 * i] - are, p[2 * i + 1] - aim);
      if (d > maxd) maxd = d;
      if (hypot(are, aim) > maxa) maxa = hypot(are, aim);
      double I = p[2 * i] * p[2 * i] + p[2 * i + 1] * p[2 * i + 1];
      s0 += I;
      s2 += I * r2;
    }
  /* |psi|^2 ~ exp(-r^2 a/|b|^2): <r^2> = |b|^2 / a (2-D) */
  s2an = (complex_b_re * complex_b_re + complex_b_im * complex_b_im) / a;
  printf("  gaussian: L = %g Å, max |psi - analytic| / max |psi| = %.3g, <r^2> %.12g vs %.12g\n",
         L, maxd / maxa, s2 / s0, s2an);
  CHECK(maxd / maxa < 1e-6);
  CHECK_CLOSE(s2 / s0, s2an, 1e-6, 0);
  CHECK_CLOSE(kiln_wave_norm(w), n0, 1e-12, 0);
done:
  kiln_wave_free(w);
  kiln_multislice_free(m);
}

/* Sum of I over the band limit. */
static double masked_sum(const kiln_wave_grid *g, const double *I) {
  double k2m = kmax_of(g) * kmax_of(g), s = 0;
  for (size_t iy = 0; iy < g->ny; iy++)
    for (size_t ix = 0; ix < g->nx; ix++) {
      double kx = freq(ix, g->nx, g->lx), ky = freq(iy, g->ny, g->ly);
      if (kx * kx + ky * ky < k2m) s += I[iy * g->nx + ix];
    }
  return s;
}

/* Norm: a random wave loses exactly what the mask removes at the first vacuum step and is
 * conserved afterwards; through a phase object each step keeps exactly the band-limited
 * part of |FFT(psi T)|^2 (Parseval). */
TEST(test_norm) {
  kiln_error err = {0};
  kiln_wave_grid g = {96, 80, 19.0, 17.0};
  size_t n = g.nx * g.ny;
  kiln_wave *w = NULL, *t = NULL;
  kiln_multislice *m = NULL, *m0 = NULL;
  double *I = calloc(n, sizeof *I), *V = malloc(n * sizeof *V);
  CHECK_OK(kiln_wave_new(&w, &g, E200, KILN_WAVE_F64, &err));
  CHECK_OK(kiln_multislice_new(&m, &g, E200, 2.0, KILN_WAVE_F64, 1, &err));
  CHECK_OK(kiln_multislice_new(&m0, &g, E200, 0.0, KILN_WAVE_F64, 1, &err));
  if (!w || !m || !m0) goto done;
  double *p = kiln_wave_data(w);
  srand(7);
  for (size_t i = 0; i < 2 * n; i++) p[i] = rand() / (double)RAND_MAX - 0.5;
  CHECK_OK(kiln_multislice_diffraction(m, w, I, &err));
  double tot = 0;
  for (size_t i = 0; i < n; i++) tot += I[i];
  CHECK_CLOSE(tot, kiln_wave_norm(w), 1e-12, 0);   /* Parseval normalisation */
  double want = masked_sum(&g, I);
  CHECK_OK(kiln_multislice_step(m, w, NULL, &err));
  double n1 = kiln_wave_norm(w);
  printf("  random wave: norm %.6f -> %.6f after the band limit (predicted %.6f)\n", tot, n1, want);
  CHECK_CLOSE(n1, want, 1e-12, 0);
  for (int s = 0; s < 20; s++) CHECK_OK(kiln_multislice_step(m, w, NULL, &err));
  CHECK_CLOSE(kiln_wave_norm(w), n1, 1e-12, 0);
  /* plane wave through a phase object */
  kiln_wave_plane(w);
  for (size_t iy = 0; iy < g.ny; iy++)
    for (size_t ix = 0; ix < g.nx; ix++)
      V[iy * g.nx + ix] = smooth_v(ix * g.lx / g.nx, iy * g.ly / g.ny, &g, 0.25, 3000.0);
  double sg = kiln_wave_sigma(E200), worst = 0;
  for (int s = 0; s < 5; s++) {
    CHECK_OK(kiln_wave_copy(&t, w, &err));
    if (!t) break;
    double *q = kiln_wave_data(t);
    for (size_t i = 0; i < n; i++) {
      double c = cos(sg * V[i]), sn = sin(sg * V[i]), re = q[2 * i], im = q[2 * i + 1];
      q[2 * i] = re * c - im * sn;
      q[2 * i + 1] = re * sn + im * c;
    }
    memset(I, 0, n * sizeof *I);
    CHECK_OK(kiln_multislice_diffraction(m, t, I, &err));
    want = masked_sum(&g, I);
    kiln_wave_free(t);
    t = NULL;
    CHECK_OK(kiln_multislice_step(m, w, V, &err));
    double d = fabs(kiln_wave_norm(w) - want) / want;
    if (d > worst) worst = d;
    if (s == 4) printf("  phase object: norm after 5 slices %.9f, worst step rel. error %.2g\n",
                       kiln_wave_norm(w), worst);
  }
  CHECK(worst < 1e-12);
done:
  kiln_wave_free(w);
  kiln_multislice_free(m);
  kiln_multislice_free(m0);
  free(I);
  free(V);
}

/* The 2/3 mask on a non-square grid: k_max = 2/3 of the Nyquist frequency of the coarser
 * axis (here y), applied along x too. Tilted plane waves exp(2 pi i k.r). */
TEST(test_band_limit) {
  kiln_error err = {0};
  kiln_wave_grid g = {64, 48, 20.0, 30.0};    /* Nyquist 1.6 (x), 0.8 (y): k_max = 0.5333 */
  kiln_wave *w = NULL;
  kiln_multislice *m = NULL;
  CHECK_OK(kiln_wave_new(&w, &g, E200, KILN_WAVE_F64, &err));
  CHECK_OK(kiln_multislice_new(&m, &g, E200, 1.5, KILN_WAVE_F64, 1, &err));
  if (!w || !m) goto done;
  static const int hk[][3] = {{10, 0, 1}, {11, 0, 0}, {0, 15, 1}, {0, 17, 0}, {-7, -11, 1},
                              {-8, -12, 0}, {31, 0, 0}};
  for (size_t c = 0; c < sizeof hk / sizeof hk[0]; c++) {
    double kx = hk[c][0] / g.lx, ky = hk[c][1] / g.ly;
    double *p = kiln_wave_data(w);
    for (size_t iy = 0; iy < g.ny; iy++)
      for (size_t ix = 0; ix < g.nx; ix++) {
        double ph = 2 * M_PI * (kx * ix * g.lx / g.nx + ky * iy * g.ly / g.ny);
        p[2 * (iy * g.nx + ix)] = cos(ph);
        p[2 * (iy * g.nx + ix) + 1] = sin(ph);
      }
    CHECK_OK(kiln_multislice_step(m, w, NULL, &err));
    double nn = kiln_wave_norm(w);
    if (hk[c][2]) {
      CHECK_CLOSE(nn, 1.0, 1e-13, 0);
      /* the phase advanced by -pi lambda dz k^2 */
      double ph = -M_PI * kiln_wave_wavelength(E200) * 1.5 * (kx * kx + ky * ky);
      CHECK_CLOSE(p[0], cos(ph), 0, 1e-13);
      CHECK_CLOSE(p[1], sin(ph), 0, 1e-13);
    } else {
      CHECK(nn < 1e-28);
    }
  }
done:
  kiln_wave_free(w);
  kiln_multislice_free(m);
}

/* Same problem in float32 and float64. */
TEST(test_f32_f64) {
  kiln_error err = {0};
  kiln_wave_grid g = {128, 128, 25.0, 25.0};
  size_t n = g.nx * g.ny;
  kiln_wave *w[2] = {NULL, NULL};
  kiln_multislice *m[2] = {NULL, NULL};
  double *V64 = malloc(n * sizeof *V64), *I[2] = {calloc(n, sizeof(double)), calloc(n, sizeof(double))};
  float *V32 = malloc(n * sizeof *V32);
  for (size_t iy = 0; iy < g.ny; iy++)
    for (size_t ix = 0; ix < g.nx; ix++) {
      V64[iy * g.nx + ix] = smooth_v(ix * g.lx / g.nx, iy * g.ly / g.ny, &g, 0.3, 2000.0);
      V32[iy * g.nx + ix] = (float)V64[iy * g.nx + ix];
    }
  int prec[2] = {KILN_WAVE_F32, KILN_WAVE_F64};
  for (int k = 0; k < 2; k++) {
    CHECK_OK(kiln_wave_new(&w[k], &g, E200, prec[k], &err));
    CHECK_OK(kiln_multislice_new(&m[k], &g, E200, 2.0, prec[k], 1, &err));
    if (!w[k] || !m[k]) goto done;
    CHECK_OK(kiln_wave_probe(w[k], 10.0, 12.0, 0.025, NULL, &err));
    for (int s = 0; s < 30; s++)
      CHECK_OK(kiln_multislice_step(m[k], w[k], k == 0 ? (void *)V32 : (void *)V64, &err));
    CHECK_OK(kiln_multislice_diffraction(m[k], w[k], I[k], &err));
  }
  const float *a = kiln_wave_data(w[0]);
  const double *b = kiln_wave_data(w[1]);
  double md = 0, ma = 0, mi = 0, imax = 0;
  for (size_t i = 0; i < n; i++) {
    md = fmax(md, hypot((double)a[2 * i] - b[2 * i], (double)a[2 * i + 1] - b[2 * i + 1]));
    ma = fmax(ma, hypot(b[2 * i], b[2 * i + 1]));
    mi = fmax(mi, fabs(I[0][i] - I[1][i]));
    imax = fmax(imax, I[1][i]);
  }
  printf("  f32 vs f64 after 30 slices: max |dpsi|/max|psi| = %.2g, max |dI|/max I = %.2g, "
         "norms %.8f %.8f\n", md / ma, mi / imax, kiln_wave_norm(w[0]), kiln_wave_norm(w[1]));
  CHECK(md / ma < 1e-5);
  CHECK(mi / imax < 3e-5);
  CHECK_CLOSE(kiln_wave_norm(w[0]), kiln_wave_norm(w[1]), 1e-5, 0);
done:
  for (int k = 0; k < 2; k++) {
    kiln_wave_free(w[k]);
    kiln_multislice_free(m[k]);
    free(I[k]);
  }
  free(V64);
  free(V32);
}

/* Same extent, 128^2 vs 256^2, converged sampling: same intensities at the same k. */
TEST(test_fft_size) {
  kiln_error err = {0};
  double *I[2] = {NULL, NULL};
  kiln_wave_grid g[2] = {{128, 128, 20.0, 20.0}, {256, 256, 20.0, 20.0}};
  for (int k = 0; k < 2; k++) {
    size_t n = g[k].nx * g[k].ny;
    kiln_wave *w = NULL;
    kiln_multislice *m = NULL;
    double *V = malloc(n * sizeof *V);
    I[k] = calloc(n, sizeof(double));
    for (size_t iy = 0; iy < g[k].ny; iy++)
      for (size_t ix = 0; ix < g[k].nx; ix++)
        V[iy * g[k].nx + ix] =
            smooth_v(ix * g[k].lx / g[k].nx, iy * g[k].ly / g[k].ny, &g[k], 0.6, 300.0);
    CHECK_OK(kiln_wave_new(&w, &g[k], E200, KILN_WAVE_F64, &err));
    CHECK_OK(kiln_multislice_new(&m, &g[k], E200, 2.0, KILN_WAVE_F64, 1, &err));
    if (w && m) {
      kiln_wave_plane(w);
      for (int s = 0; s < 10; s++) CHECK_OK(kiln_multislice_step(m, w, V, &err));
      CHECK_OK(kiln_multislice_diffraction(m, w, I[k], &err));
    }
    kiln_wave_free(w);
    kiln_multislice_free(m);
    free(V);
  }
  double md = 0, kmax = kmax_of(&g[0]), i0 = I[0][0];
  int cnt = 0;
  for (size_t iy = 0; iy < 128; iy++)
    for (size_t ix = 0; ix < 128; ix++) {
      double kx = freq(ix, 128, 20.0), ky = freq(iy, 128, 20.0);
      if (kx * kx + ky * ky >= kmax * kmax) continue;
      long jx = lround(kx * 20.0), jy = lround(ky * 20.0);
      size_t j = (size_t)((jy + 256) % 256) * 256 + (size_t)((jx + 256) % 256);
      md = fmax(md, fabs(I[0][iy * 128 + ix] - I[1][j]));
      cnt++;
    }
  double outer = 0;   /* what the finer grid holds beyond the coarse band limit */
  for (size_t iy = 0; iy < 256; iy++)
    for (size_t ix = 0; ix < 256; ix++) {
      double kx = freq(ix, 256, 20.0), ky = freq(iy, 256, 20.0);
      if (kx * kx + ky * ky >= kmax * kmax) outer += I[1][iy * 256 + ix];
    }
  printf("  128^2 vs 256^2: %d beams, max |dI| = %.2g (I(0) = %.6f), 256^2 intensity beyond "
         "the 128^2 band limit %.2g\n", cnt, md, i0, outer);
  CHECK(md < 1e-10);
  CHECK(outer < 1e-7);
  free(I[0]);
  free(I[1]);
}

/* A thin O atom (V_z from Kirkland on the grid) in the weak-phase limit:
 * psi = 1 + i sigma V_z, so for k != 0 the Fourier coefficient is
 * c(k) = (i sigma / A) Vz~(k) with Vz~(k) = h^2/(2 pi m0 e) f_e(k) = 2 pi a0 e f_e(k)
 * = 47.878 f_e(k) V·Å^3 (first Born approximation), A = lx ly. The diffraction
 * intensity (sum I = norm) is |c(k)|^2 = (sigma 47.878 f_e(k) / A)^2. */
TEST(test_thin_atom_fe) {
  kiln_error err = {0};
  kiln_wave_grid g = {512, 512, 12.8, 12.8};
  size_t n = g.nx * g.ny;
  double p12[12];
  CHECK_OK(kiln_kirkland_params(8, p12, &err));
  double *V = malloc(n * sizeof *V), *I = calloc(n, sizeof *I);
  double xa = 6.4 + 0.5 * g.lx / g.nx, ya = 6.4 + 0.5 * g.ly / g.ny;   /* pixel centre */
  double scale[2] = {1.0, 1e-3};   /* the real atom, and the linear (weak-phase) limit */
  for (int sc = 0; sc < 2; sc++) {
    for (size_t iy = 0; iy < g.ny; iy++)
      for (size_t ix = 0; ix < g.nx; ix++) {
        double dx = wrapd(ix * g.lx / g.nx - xa, g.lx), dy = wrapd(iy * g.ly / g.ny - ya, g.ly);
        V[iy * g.nx + ix] = scale[sc] * kiln_kirkland_vz(p12, sqrt(dx * dx + dy * dy));
      }
    kiln_wave *w = NULL;
    kiln_multislice *m = NULL;
    CHECK_OK(kiln_wave_new(&w, &g, E200, KILN_WAVE_F64, &err));
    CHECK_OK(kiln_multislice_new(&m, &g, E200, 1.0, KILN_WAVE_F64, 1, &err));
    if (w && m) {
      kiln_wave_plane(w);
      CHECK_OK(kiln_multislice_step(m, w, V, &err));
      memset(I, 0, n * sizeof *I);
      CHECK_OK(kiln_multislice_diffraction(m, w, I, &err));
    }
    double sg = kiln_wave_sigma(E200) * scale[sc], A = g.lx * g.ly, worst = 0;
    int cnt = 0;
    for (size_t iy = 0; iy < g.ny; iy++)
      for (size_t ix = 0; ix < g.nx; ix++) {
        double kx = freq(ix, g.nx, g.lx), ky = freq(iy, g.ny, g.ly), k = hypot(kx, ky);
        if (k <= 0.2 || k >= 1.5) continue;
        double c = sg * 47.878 * kiln_kirkland_fe(p12, k) / A;
        double r = I[iy * g.nx + ix] / (c * c);
        worst = fmax(worst, fabs(r - 1));
        cnt++;
      }
    printf("  thin O atom (V x %g): %d beams in 0.2 < k < 1.5 1/Å, max |I/(sigma 47.878 f_e/A)^2 - 1|"
           " = %.3g\n", scale[sc], cnt, worst);
    CHECK(worst < (sc == 0 ? 2e-2 : 1e-2));
    kiln_wave_free(w);
    kiln_multislice_free(m);
  }
  free(V);
  free(I);
}

/* Probe: norm 1, centred at (x0, y0) (first Fourier moment of |psi|^2, exact for a
 * symmetric probe), flat aperture in k-space, aberration phase, defocus == propagation. */
TEST(test_probe) {
  kiln_error err = {0};
  kiln_wave_grid g = {256, 240, 40.0, 36.0};
  size_t n = g.nx * g.ny;
  double x0 = 13.3, y0 = 22.7, sa = 0.020, lam = kiln_wave_wavelength(E200);
  double dal = lam * fmax(1 / g.lx, 1 / g.ly);
  kiln_wave *w = NULL, *w2 = NULL;
  kiln_multislice *m = NULL;
  double *I = calloc(n, sizeof *I);
  CHECK_OK(kiln_wave_new(&w, &g, E200, KILN_WAVE_F64, &err));
  CHECK_OK(kiln_wave_new(&w2, &g, E200, KILN_WAVE_F64, &err));
  CHECK_OK(kiln_multislice_new(&m, &g, E200, 50.0, KILN_WAVE_F64, 1, &err));
  if (!w || !w2 || !m) goto done;
  CHECK_OK(kiln_wave_probe(w, x0, y0, sa, NULL, &err));
  CHECK_CLOSE(kiln_wave_norm(w), 1.0, 1e-12, 0);
  const double *p = kiln_wave_data(w);
  double cx[2] = {0, 0}, cy[2] = {0, 0};
  for (size_t iy = 0; iy < g.ny; iy++)
    for (size_t ix = 0; ix < g.nx; ix++) {
      size_t i = iy * g.nx + ix;
      double a2 = p[2 * i] * p[2 * i] + p[2 * i + 1] * p[2 * i + 1];
      double px = 2 * M_PI * ix / g.nx, py = 2 * M_PI * iy / g.ny;
      cx[0] += a2 * cos(px); cx[1] += a2 * sin(px);
      cy[0] += a2 * cos(py); cy[1] += a2 * sin(py);
    }
  double xc = atan2(cx[1], cx[0]) / (2 * M_PI) * g.lx, yc = atan2(cy[1], cy[0]) / (2 * M_PI) * g.ly;
  if (xc < 0) xc += g.lx;
  if (yc < 0) yc += g.ly;
  printf("  probe centre (%.10f, %.10f) for (%g, %g)\n", xc, yc, x0, y0);
  CHECK_CLOSE(xc, x0, 0, 1e-9);
  CHECK_CLOSE(yc, y0, 0, 1e-9);
  CHECK_OK(kiln_multislice_diffraction(m, w, I, &err));
  double imin = 1e300, imax = 0, out = 0, tot = 0;
  for (size_t iy = 0; iy < g.ny; iy++)
    for (size_t ix = 0; ix < g.nx; ix++) {
      double al = lam * hypot(freq(ix, g.nx, g.lx), freq(iy, g.ny, g.ly)), v = I[iy * g.nx + ix];
      tot += v;
      if (al < sa - dal) { imin = fmin(imin, v); imax = fmax(imax, v); }
      if (al > sa + 0.5 * dal) out += v;
    }
  CHECK_CLOSE(tot, 1.0, 1e-12, 0);
  CHECK_CLOSE(imin, imax, 1e-10, 0);
  CHECK(out < 1e-25);
  /* annular detectors on the probe pattern */
  CHECK_CLOSE(kiln_wave_annular(&g, E200, I, 0.0, sa + dal), 1.0, 1e-12, 0);
  CHECK(kiln_wave_annular(&g, E200, I, sa + dal, 1.0) < 1e-25);
  /* defocus == free propagation: C10 = dz (i.e. defocus -dz) equals the focused probe
   * propagated over dz through vacuum */
  CHECK_OK(kiln_multislice_step(m, w, NULL, &err));
  kiln_aberrations ab = {0};
  ab.C10 = 50.0;
  CHECK_OK(kiln_wave_probe(w2, x0, y0, sa, &ab, &err));
  const double *q = kiln_wave_data(w2);
  double md = 0;
  for (size_t i = 0; i < 2 * n; i++) md = fmax(md, fabs(p[i] - q[i]));
  printf("  probe with C10 = 50 Å vs focused probe propagated 50 Å: max diff %.2g\n", md);
  CHECK(md < 1e-10);
  /* the phase of the probe's spectrum is -chi(k) - 2 pi k.r0 (Krivanek, several terms) */
  memset(&ab, 0, sizeof ab);
  ab.C12 = 30.0; ab.phi12 = 0.4; ab.C21 = 500.0; ab.phi21 = 1.1; ab.C23 = 400.0; ab.phi23 = -0.3;
  ab.C30 = 1.2e4; ab.C32 = 3e3; ab.phi32 = 0.7; ab.C34 = 2e3; ab.phi34 = 0.2; ab.C50 = 5e6;
  CHECK_OK(kiln_wave_probe(w2, x0, y0, sa, &ab, &err));
  CHECK_CLOSE(kiln_wave_norm(w2), 1.0, 1e-12, 0);
  fftw_complex *F = fftw_malloc(n * sizeof *F);
  fftw_plan pl = fftw_plan_dft_2d((int)g.ny, (int)g.nx, F, F, FFTW_FORWARD, FFTW_ESTIMATE);
  memcpy(F, q, n * sizeof *F);
  fftw_execute(pl);
  double worst = 0, ref = 0;
  for (size_t iy = 0; iy < g.ny; iy++)
    for (size_t ix = 0; ix < g.nx; ix++) {
      double kx = freq(ix, g.nx, g.lx), ky = freq(iy, g.ny, g.ly), al = lam * hypot(kx, ky);
      if (al >= sa - dal) continue;
      double ph = atan2(ky, kx), a2 = al * al;
      double chi = 2 * M_PI / lam *
                   (a2 / 2 * (ab.C12 * cos(2 * (ph - ab.phi12))) +
                    a2 * al / 3 * (ab.C21 * cos(ph - ab.phi21) + ab.C23 * cos(3 * (ph - ab.phi23))) +
                    a2 * a2 / 4 * (ab.C30 + ab.C32 * cos(2 * (ph - ab.phi32)) + ab.C34 * cos(4 * (ph - ab.phi34))) +
                    a2 * a2 * a2 / 6 * ab.C50);
      double want = -chi - 2 * M_PI * (kx * x0 + ky * y0);
      const double *f = F[iy * g.nx + ix];
      if (ix == 0 && iy == 0) ref = atan2(f[1], f[0]) - want;   /* global phase */
      double d = atan2(f[1], f[0]) - want - ref;
      d -= 2 * M_PI * floor(d / (2 * M_PI) + 0.5);
      worst = fmax(worst, fabs(d));
    }
  printf("  aberrated probe: max spectral phase error %.2g rad\n", worst);
  CHECK(worst < 1e-9);
  fftw_destroy_plan(pl);
  fftw_free(F);
done:
  kiln_wave_free(w);
  kiln_wave_free(w2);
  kiln_multislice_free(m);
  free(I);
}

/* kiln_wave_annular on a plane wave and on a flat pattern (pixel count in the ring). */
TEST(test_annular) {
  kiln_error err = {0};
  kiln_wave_grid g = {100, 90, 30.0, 27.0};
  size_t n = g.nx * g.ny;
  kiln_wave *w = NULL;
  kiln_multislice *m = NULL;
  double *I = calloc(n, sizeof *I), lam = kiln_wave_wavelength(E200);
  CHECK_OK(kiln_wave_new(&w, &g, E200, KILN_WAVE_F32, &err));
  CHECK_OK(kiln_multislice_new(&m, &g, E200, 2.0, KILN_WAVE_F32, 2, &err));
  if (w && m) {
    kiln_wave_plane(w);
    CHECK_CLOSE(kiln_wave_norm(w), 1.0, 1e-15, 0);
    CHECK_OK(kiln_multislice_step(m, w, NULL, &err));
    CHECK_OK(kiln_multislice_diffraction(m, w, I, &err));
    CHECK_CLOSE(I[0], 1.0, 1e-6, 0);
    CHECK_CLOSE(kiln_wave_annular(&g, E200, I, 0.0, 1e-6), 1.0, 1e-6, 0);
    CHECK(kiln_wave_annular(&g, E200, I, 1e-6, 1.0) < 1e-12);
  }
  for (size_t i = 0; i < n; i++) I[i] = 1.0;
  double in = 0.02, outr = 0.05;
  int cnt = 0;
  for (size_t iy = 0; iy < g.ny; iy++)
    for (size_t ix = 0; ix < g.nx; ix++) {
      double th = lam * hypot(freq(ix, g.nx, g.lx), freq(iy, g.ny, g.ly));
      if (th >= in && th < outr) cnt++;
    }
  CHECK(cnt > 100);
  CHECK_CLOSE(kiln_wave_annular(&g, E200, I, in, outr), (double)cnt, 0, 0);
  kiln_wave_free(w);
  kiln_multislice_free(m);
  free(I);
}

TEST(test_errors) {
  kiln_error err = {0};
  kiln_wave_grid g = {32, 32, 10.0, 10.0}, g2 = {32, 16, 10.0, 5.0}, bad = {0, 32, 10.0, 10.0};
  kiln_wave *w = NULL, *w2 = NULL;
  kiln_multislice *m = NULL;
  CHECK_ERR(kiln_wave_new(&w, &bad, E200, KILN_WAVE_F32, &err), KILN_EINVAL, "nx = 0");
  CHECK_ERR(kiln_wave_new(&w, &g, -1.0, KILN_WAVE_F32, &err), KILN_EINVAL, "energy");
  CHECK_ERR(kiln_wave_new(&w, &g, E200, 3, &err), KILN_EINVAL, "precision 3");
  CHECK_ERR(kiln_multislice_new(&m, &g, E200, -1.0, KILN_WAVE_F32, 1, &err), KILN_EINVAL, "dz");
  CHECK_OK(kiln_wave_new(&w, &g, E200, KILN_WAVE_F32, &err));
  CHECK_OK(kiln_wave_new(&w2, &g2, E200, KILN_WAVE_F32, &err));
  CHECK_OK(kiln_multislice_new(&m, &g, E200, 1.0, KILN_WAVE_F64, 1, &err));
  if (w && w2 && m) {
    CHECK_ERR(kiln_multislice_step(m, w, NULL, &err), KILN_EINVAL, "precision");
    CHECK_ERR(kiln_multislice_step(m, w2, NULL, &err), KILN_EINVAL, "32 x 16");
    CHECK_ERR(kiln_wave_probe(w, 0, 0, 0.0, NULL, &err), KILN_EINVAL, "semiangle");
    CHECK_ERR(kiln_wave_probe(w, NAN, 0, 0.01, NULL, &err), KILN_EINVAL, "not finite");
    CHECK_ERR(kiln_multislice_diffraction(m, w, NULL, &err), KILN_EINVAL, "precision");
  }
  kiln_wave_free(w);
  kiln_wave_free(w2);
  kiln_multislice_free(m);
}

int main(void) {
  RUN(test_gaussian_fresnel);
  RUN(test_norm);
  RUN(test_band_limit);
  RUN(test_f32_f64);
  RUN(test_fft_size);
  RUN(test_thin_atom_fe);
  RUN(test_probe);
  RUN(test_annular);
  RUN(test_errors);
  return check_summary();
}
