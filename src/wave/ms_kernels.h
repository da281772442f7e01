/* src/wave/ms_kernels.h: precision-generic kernels of multislice.c, included twice with
 * R = float / double and SUF = f32 / f64. Complex arrays are interleaved {re, im}. */
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)

/* dst[j][iy] = src[iy][c0 + j] for j < nc, iy < ny (src row stride nx, dst row stride ny). */
static void CAT(transpose_in, SUF)(R *restrict dst, const R *restrict src, size_t nx, size_t ny,
                                   size_t c0, size_t nc, int nt) {
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (size_t jb = 0; jb < nc; jb += TB)
    for (size_t ib = 0; ib < ny; ib += TB) {
      size_t je = jb + TB < nc ? jb + TB : nc, ie = ib + TB < ny ? ib + TB : ny;
      for (size_t j = jb; j < je; j++)
        for (size_t i = ib; i < ie; i++) {
          dst[2 * (j * ny + i)] = src[2 * (i * nx + c0 + j)];
          dst[2 * (j * ny + i) + 1] = src[2 * (i * nx + c0 + j) + 1];
        }
    }
}

/* dst[iy][c0 + j] = src[j][iy] (the inverse of transpose_in). */
static void CAT(transpose_out, SUF)(R *restrict dst, const R *restrict src, size_t nx, size_t ny,
                                    size_t c0, size_t nc, int nt) {
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (size_t ib = 0; ib < ny; ib += TB)
    for (size_t jb = 0; jb < nc; jb += TB) {
      size_t je = jb + TB < nc ? jb + TB : nc, ie = ib + TB < ny ? ib + TB : ny;
      for (size_t i = ib; i < ie; i++)
        for (size_t j = jb; j < je; j++) {
          dst[2 * (i * nx + c0 + j)] = src[2 * (j * ny + i)];
          dst[2 * (i * nx + c0 + j) + 1] = src[2 * (j * ny + i) + 1];
        }
    }
}

static void CAT(cmul_, SUF)(R *restrict p, const R *restrict P, size_t i0, size_t i1) {
  for (size_t i = i0; i < i1; i++) {
    R re = p[2 * i], im = p[2 * i + 1], a = P[2 * i], b = P[2 * i + 1];
    p[2 * i] = re * a - im * b;
    p[2 * i + 1] = re * b + im * a;
  }
}

/* Zero columns [c0, c1) of every row. */
static void CAT(zero_cols, SUF)(R *p, size_t nx, size_t ny, size_t c0, size_t c1, int nt) {
  if (c1 <= c0) return;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (size_t i = 0; i < ny; i++) memset(p + 2 * (i * nx + c0), 0, 2 * (c1 - c0) * sizeof(R));
}
static void CAT(cmul, SUF)(R *p, const R *P, size_t n, int nt) {
  SPLIT(nt, n, CAT(cmul_, SUF)(p, P, i0, i1));
}
#undef CAT
#undef CAT_
