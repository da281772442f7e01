/* tests/c/test_frozen.c: frozen-phonon averaging and STEM scans (src/wave/frozen.c).
 * A square lattice of carbon atoms (a = 3 Å) in one slice: with non-overlapping atoms a
 * single slice's transmission function is a sum of displaced copies of one atom's, so the
 * mean Bragg intensity of Einstein snapshots follows the kinematic Debye-Waller law
 * <|S(k)|^2> = N^2 exp(-4 pi^2 sigma^2 k^2) + N (1 - exp(-4 pi^2 sigma^2 k^2)) exactly. */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "kiln/frozen.h"
#include "wave/frozen_internal.h"

#define A 3.0

typedef struct lattice {
  size_t n;
  double (*xyz)[3];
  int32_t *el;
  kiln_frozen_config c;
} lattice;

/* m x m cells of a square lattice, one slice of thickness t, atoms at z = t/2 */
static void make_lattice(lattice *L, int m, double t) {
  L->n = (size_t)m * m;
  L->xyz = malloc(L->n * sizeof *L->xyz);
  L->el = calloc(L->n, sizeof *L->el);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++) {
      size_t k = (size_t)i * m + j;
      L->xyz[k][0] = (j + 0.25) * A;
      L->xyz[k][1] = (i + 0.4) * A;
      L->xyz[k][2] = 0.5 * t;
    }
  L->c = (kiln_frozen_config){.n = L->n, .xyz = (const double(*)[3])L->xyz, .el = L->el,
                              .thickness = t};
}

static void free_lattice(lattice *L) {
  free(L->xyz);
  free(L->el);
}

static kiln_frozen *engine(int m, size_t npix, double dz, int nthreads, int prec) {
  static const int Z[1] = {6};
  kiln_error err;
  kiln_frozen_opts o = {.grid = {npix, npix, m * A, m * A}, .energy = 200e3, .dz = dz,
                        .finite = 0, .precision = prec, .nthreads = nthreads, .nelem = 1, .Z = Z};
  kiln_frozen *f = NULL;
  CHECK_OK(kiln_frozen_new(&f, &o, &err));
  return f;
}

static double maxabs(const double *a, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
  return m;
}

TEST(test_gauss_hermite) {
  double x[8], w[8];
  for (int n = 1; n <= 8; n++) {
    kiln_frozen_gauss_hermite(n, x, w);
    double s0 = 0, s2 = 0, s4 = 0;
    for (int i = 0; i < n; i++) {
      s0 += w[i];
      s2 += w[i] * x[i] * x[i];
      s4 += w[i] * pow(x[i], 4);
    }
    CHECK_CLOSE(s0, 1.0, 1e-13, 0);
    if (n >= 2) CHECK_CLOSE(s2, 1.0, 1e-12, 0);  /* normal moments: 1, 3 */
    if (n >= 3) CHECK_CLOSE(s4, 3.0, 1e-12, 0);
  }
  kiln_frozen_gauss_hermite(3, x, w);
  CHECK_CLOSE(x[2], sqrt(3.0), 1e-13, 0);
  CHECK_CLOSE(w[1], 2.0 / 3.0, 1e-13, 0);
}

TEST(test_identical_and_threads) {
  kiln_error err;
  lattice L;
  make_lattice(&L, 4, 2.0);
  size_t np = 64 * 64;
  double *I1 = malloc(np * sizeof *I1), *I3 = malloc(np * sizeof *I3);
  double *Ia = malloc(np * sizeof *Ia), *Ib = malloc(np * sizeof *Ib);
  kiln_frozen *f1 = engine(4, 64, 2.0, 1, KILN_WAVE_F64);
  kiln_frozen *f2 = engine(4, 64, 2.0, 2, KILN_WAVE_F64);
  size_t cnt = 0;
  /* one configuration vs the mean of three identical ones */
  CHECK_OK(kiln_frozen_add(f1, &L.c, &err));
  CHECK_OK(kiln_frozen_mean(f1, I1, &cnt, &err));
  CHECK(cnt == 1);
  for (int k = 0; k < 3; k++) CHECK_OK(kiln_frozen_add(f2, &L.c, &err));
  CHECK_OK(kiln_frozen_mean(f2, I3, &cnt, &err));
  CHECK(cnt == 3);
  double d = 0, s = 0;
  for (size_t i = 0; i < np; i++) {
    d = fmax(d, fabs(I1[i] - I3[i]));
    s += I1[i];
  }
  CHECK(d <= 1e-14 * maxabs(I1, np));
  CHECK_CLOSE(s, 1.0, 1e-4, 0); /* unit plane wave: conserved up to the 2/3 band limit */
  /* Einstein snapshots: 1 thread vs 2 threads, 5 configurations (odd: a partial batch) */
  double sigma[1] = {0.08};
  kiln_frozen_reset(f1);
  kiln_frozen_reset(f2);
  CHECK_OK(kiln_frozen_add_einstein(f1, &L.c, sigma, 5, 42, 0, &err));
  CHECK_OK(kiln_frozen_add_einstein(f2, &L.c, sigma, 5, 42, 0, &err));
  CHECK_OK(kiln_frozen_mean(f1, Ia, &cnt, &err));
  CHECK(cnt == 5);
  CHECK_OK(kiln_frozen_mean(f2, Ib, &cnt, &err));
  d = 0;
  for (size_t i = 0; i < np; i++) d = fmax(d, fabs(Ia[i] - Ib[i]));
  printf("  threads 1 vs 2: max |dI| = %.3g (max I %.3g)\n", d, maxabs(Ia, np));
  CHECK(d <= 1e-12 * maxabs(Ia, np));
  /* the snapshots differ from the static pattern */
  d = 0;
  for (size_t i = 0; i < np; i++) d = fmax(d, fabs(Ia[i] - I1[i]));
  CHECK(d > 1e-6);
  /* sigma -> 0 reproduces the static pattern */
  sigma[0] = 1e-10;
  kiln_frozen_reset(f2);
  CHECK_OK(kiln_frozen_add_einstein(f2, &L.c, sigma, 3, 7, 0, &err));
  CHECK_OK(kiln_frozen_mean(f2, Ib, &cnt, &err));
  d = 0;
  for (size_t i = 0; i < np; i++) d = fmax(d, fabs(Ib[i] - I1[i]));
  printf("  sigma 1e-10 vs static: max |dI| = %.3g\n", d);
  CHECK(d <= 1e-7 * maxabs(I1, np));
  /* errors */
  kiln_frozen_reset(f2);
  CHECK_ERR(kiln_frozen_mean(f2, Ib, &cnt, &err), KILN_EINVAL, "no configurations");
  int32_t bad = 3;
  kiln_frozen_config c = L.c;
  c.n = 1;
  c.el = &bad;
  CHECK_ERR(kiln_frozen_add(f2, &c, &err), KILN_EINVAL, "element index 3");
  c = L.c;
  c.thickness = 0;
  CHECK_ERR(kiln_frozen_add(f2, &c, &err), KILN_EINVAL, "thickness");
  sigma[0] = -1;
  CHECK_ERR(kiln_frozen_add_einstein(f2, &L.c, sigma, 1, 1, 0, &err), KILN_EINVAL, "sigma");
  kiln_frozen_opts o = {.grid = {0, 64, 12, 12}, .energy = 200e3, .dz = 2, .precision = 1};
  kiln_frozen *fx = NULL;
  CHECK_ERR(kiln_frozen_new(&fx, &o, &err), KILN_EINVAL, "empty grid");
  kiln_frozen_free(f1);
  kiln_frozen_free(f2);
  free(I1), free(I3), free(Ia), free(Ib);
  free_lattice(&L);
}

/* Debye-Waller factor of Bragg peaks and growth of the diffuse background */
TEST(test_debye_waller) {
  kiln_error err;
  const int m = 16;
  const size_t npix = 256, np = npix * npix;
  lattice L;
  make_lattice(&L, m, 2.0);
  kiln_frozen *f = engine(m, npix, 2.0, 0, KILN_WAVE_F64);
  double *I0 = malloc(np * sizeof *I0), *I = malloc(np * sizeof *I);
  size_t cnt;
  CHECK_OK(kiln_frozen_add(f, &L.c, &err));
  CHECK_OK(kiln_frozen_mean(f, I0, &cnt, &err));
  const int hk[4][2] = {{1, 0}, {1, 1}, {2, 0}, {2, 2}};
  const double sig[3] = {0.05, 0.1, 0.15};
  double diffuse[3];
  double N = (double)L.n, worst = 0;
  for (int s = 0; s < 3; s++) {
    double sg[1] = {sig[s]};
    kiln_frozen_reset(f);
    CHECK_OK(kiln_frozen_add_einstein(f, &L.c, sg, 96, 2024, 0, &err));
    CHECK_OK(kiln_frozen_mean(f, I, &cnt, &err));
    for (int p = 0; p < 4; p++) {
      size_t ix = (size_t)(hk[p][0] * m), iy = (size_t)(hk[p][1] * m);
      double k2 = (hk[p][0] * hk[p][0] + hk[p][1] * hk[p][1]) / (A * A);
      double dw = exp(-4 * M_PI * M_PI * sig[s] * sig[s] * k2);
      double want = dw + (1 - dw) / N;
      double got = I[iy * npix + ix] / I0[iy * npix + ix];
      printf("  sigma %.2f (%d,%d) k=%.3f: I/I0 = %.4f, kinematic DW %.4f (rel %.2g)\n", sig[s],
             hk[p][0], hk[p][1], sqrt(k2), got, want, got / want - 1);
      worst = fmax(worst, fabs(got / want - 1));
      CHECK_CLOSE(got, want, 0.03, 0);
    }
    /* mean of the pixels away from Bragg points inside the band limit */
    double sum = 0;
    size_t nd = 0;
    for (size_t iy = 0; iy < npix; iy++)
      for (size_t ix = 0; ix < npix; ix++) {
        long kx = ix < npix / 2 ? (long)ix : (long)ix - (long)npix;
        long ky = iy < npix / 2 ? (long)iy : (long)iy - (long)npix;
        if (kx % m == 0 && ky % m == 0) continue;
        double k = hypot((double)kx, (double)ky) / (m * A);
        if (k > 1.5) continue;
        sum += I[iy * npix + ix];
        nd++;
      }
    diffuse[s] = sum / (double)nd;
  }
  printf("  worst Bragg DW deviation %.3g; diffuse mean %.3g %.3g %.3g\n", worst, diffuse[0],
         diffuse[1], diffuse[2]);
  CHECK(diffuse[1] > 2 * diffuse[0] && diffuse[2] > 1.5 * diffuse[1]);
  kiln_frozen_free(f);
  free(I0), free(I);
  free_lattice(&L);
}

TEST(test_pattern_crop) {
  kiln_wave_grid g = {64, 32, 12.0, 12.0};
  size_t onx, ony, cx, cy;
  kiln_frozen_pattern_dims(&g, 0, &onx, &ony, &cx, &cy);
  CHECK(onx == 64 && ony == 32 && cx == 32 && cy == 16);
  /* kmax = 2/3 * min(64/24, 32/24) = 0.889 1/Å: |k| index <= 10 */
  CHECK_CLOSE(kiln_frozen_kmax(&g), 2.0 / 3.0 * 32.0 / 24.0, 1e-15, 0);
  kiln_frozen_pattern_dims(&g, 1, &onx, &ony, &cx, &cy);
  CHECK(onx == 21 && ony == 21 && cx == 10 && cy == 10);
  double I[64 * 32], out[64 * 32];
  for (size_t i = 0; i < 64 * 32; i++) I[i] = (double)i;
  kiln_frozen_pattern(&g, 1, I, out);
  CHECK(out[cy * onx + cx] == 0.0);                        /* k = 0 */
  CHECK(out[(cy - 1) * onx + cx + 2] == (double)(31 * 64 + 2)); /* ky = -1, kx = 2 */
  kiln_frozen_pattern(&g, 0, I, out);
  CHECK(out[16 * 64 + 32] == 0.0 && out[0] == (double)(16 * 64 + 32));
}

TEST(test_stem_4d) {
  kiln_error err;
  lattice L;
  make_lattice(&L, 4, 2.0);
  L.c.thickness = 4.0; /* two slices */
  const size_t npix = 128;
  kiln_frozen *f1 = engine(4, npix, 2.0, 1, KILN_WAVE_F64);
  kiln_frozen *f2 = engine(4, npix, 2.0, 2, KILN_WAVE_F64);
  double inner[2] = {0, 0.030}, outer[2] = {0.010, 0.080};
  double sigma[1] = {0.1};
  kiln_frozen_stem_opts so = {
      .probe = {.semiangle = 0.020, .ab = {.C10 = -20.0, .C30 = 1e4}, .source_fwhm = 0.3,
                .source_points = 2},
      .scan = {.x0 = 0, .y0 = 0, .x1 = A, .y1 = A, .nx = 3, .ny = 2},
      .ndet = 2, .inner = inner, .outer = outer, .sigma = sigma, .nconf = 2, .seed = 5,
      .crop = 1};
  size_t npos = 6;
  double im1[12], im2[12];
  char fname[64];
  snprintf(fname, sizeof fname, "/tmp/kiln_test_frozen_%ld.h5", (long)getpid());
  so.file = fname;
  CHECK_OK(kiln_frozen_stem(f2, &L.c, 1, &so, im2, &err));
  so.file = NULL;
  CHECK_OK(kiln_frozen_stem(f1, &L.c, 1, &so, im1, &err));
  for (size_t i = 0; i < 12; i++) CHECK(fabs(im1[i] - im2[i]) <= 1e-12 * fabs(im1[i]) + 1e-15);
  printf("  BF %.5f %.5f ... ADF %.5f %.5f ...\n", im1[0], im1[1], im1[6], im1[7]);
  for (size_t p = 0; p < npos; p++) CHECK(im1[p] > 0 && im1[p] < 1 && im1[6 + p] > 0);
  /* the file: shape, chunks, and the detector sums from the stored patterns */
  hid_t fl = H5Fopen(fname, H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(fl >= 0);
  if (fl < 0) return;
  hid_t ds = H5Dopen2(fl, "data", H5P_DEFAULT);
  hid_t sp = H5Dget_space(ds);
  hsize_t dims[4] = {0}, ch[4] = {0};
  CHECK(H5Sget_simple_extent_ndims(sp) == 4);
  H5Sget_simple_extent_dims(sp, dims, NULL);
  hid_t pl = H5Dget_create_plist(ds);
  CHECK(H5Pget_layout(pl) == H5D_CHUNKED);
  H5Pget_chunk(pl, 4, ch);
  size_t onx, ony, cx, cy;
  kiln_wave_grid g = *kiln_frozen_grid(f1);
  kiln_frozen_pattern_dims(&g, 1, &onx, &ony, &cx, &cy);
  CHECK(dims[0] == 2 && dims[1] == 3 && dims[2] == ony && dims[3] == onx);
  CHECK(ch[0] == 1 && ch[1] == 1 && ch[2] == ony && ch[3] == onx);
  float *data = malloc(npos * onx * ony * sizeof *data);
  H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  double *kx = malloc(onx * sizeof *kx), *ky = malloc(ony * sizeof *ky);
  hid_t dk = H5Dopen2(fl, "kx", H5P_DEFAULT);
  H5Dread(dk, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, kx);
  H5Dclose(dk);
  dk = H5Dopen2(fl, "ky", H5P_DEFAULT);
  H5Dread(dk, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ky);
  H5Dclose(dk);
  double lam = kiln_wave_wavelength(200e3), worst = 0;
  for (size_t p = 0; p < npos; p++)
    for (int d = 0; d < 2; d++) {
      double s = 0;
      for (size_t j = 0; j < ony; j++)
        for (size_t i = 0; i < onx; i++) {
          double th = lam * hypot(kx[i], ky[j]);
          if (th >= inner[d] && th < outer[d]) s += (double)data[(p * ony + j) * onx + i];
        }
      worst = fmax(worst, fabs(s / im1[d * npos + p] - 1));
      CHECK_CLOSE(s, im1[d * npos + p], 1e-5, 0);
    }
  printf("  4D file %zux%zu patterns of %zux%zu: detector sums agree to %.2g\n", (size_t)dims[0],
         (size_t)dims[1], onx, ony, worst);
  free(data), free(kx), free(ky);
  H5Pclose(pl);
  H5Sclose(sp);
  H5Dclose(ds);
  H5Fclose(fl);
  remove(fname);
  /* errors */
  double bad_in[1] = {0.05}, bad_out[1] = {0.01};
  so.inner = bad_in;
  so.outer = bad_out;
  so.ndet = 1;
  CHECK_ERR(kiln_frozen_stem(f1, &L.c, 1, &so, im1, &err), KILN_EINVAL, "detector 1");
  so.ndet = 0;
  so.probe.semiangle = 0;
  CHECK_ERR(kiln_frozen_stem(f1, &L.c, 1, &so, im1, &err), KILN_EINVAL, "semiangle");
  kiln_frozen_free(f1);
  kiln_frozen_free(f2);
  free_lattice(&L);
}

int main(void) {
  RUN(test_gauss_hermite);
  RUN(test_pattern_crop);
  RUN(test_identical_and_threads);
  RUN(test_debye_waller);
  RUN(test_stem_4d);
  return check_summary();
}
