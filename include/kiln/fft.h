/* kiln/fft.h: batched 1-D FFTs ("plan once, execute many") and the FFT
 * autocorrelation used by the correlators. Backed by FFTW3 in src/ext/fft_fftw.c;
 * no FFTW type appears here.
 *
 * A kiln_fft owns a plan and its own aligned input and output buffers (out of
 * place). Fill kiln_fft_in(), call kiln_fft_execute() (no allocation, no
 * planning; safe to call from several threads on different objects), read
 * kiln_fft_out(). Rows of a batch are contiguous: row r of the input starts at
 * element r*len_in, row r of the output at r*len_out.
 *
 * Kinds (complex numbers are stored as double[2] = {re, im}):
 *   r2c  in: howmany x n doubles          out: howmany x (n/2+1) complex
 *   c2r  in: howmany x (n/2+1) complex    out: howmany x n doubles
 *        (the input is overwritten by execute, as in FFTW)
 *   c2c  in: howmany x n complex          out: howmany x n complex
 * Transforms are unnormalised, as in FFTW:
 *   X[k] = sum_j x[j] exp(sign * 2 pi i j k / n), r2c sign -1, c2r sign +1,
 * so forward followed by backward returns n times the input.
 * Planning uses FFTW_ESTIMATE (deterministic, never touches the buffers) and is
 * serialised with a named OpenMP critical section, so objects may be created and
 * freed from inside parallel regions. */
#ifndef KILN_FFT_H
#define KILN_FFT_H
#include <stddef.h>
#include "error.h"

typedef struct kiln_fft kiln_fft;

/* Batch of `howmany` real-to-complex transforms of length n (n >= 1). */
kiln_status kiln_fft_new_r2c(kiln_fft **out, size_t n, size_t howmany, kiln_error *err);
/* Batch of complex-to-real (backward) transforms of logical length n; the input
 * holds n/2+1 complex per row and should be Hermitian (the half spectrum). */
kiln_status kiln_fft_new_c2r(kiln_fft **out, size_t n, size_t howmany, kiln_error *err);
/* Batch of complex transforms; sign -1 forward, +1 backward. */
kiln_status kiln_fft_new_c2c(kiln_fft **out, size_t n, size_t howmany, int sign,
                             kiln_error *err);

/* Input buffer: doubles for r2c; interleaved {re, im} pairs for c2r and c2c
 * (cast to double (*)[2]). Aligned for SIMD; valid until kiln_fft_free. */
double *kiln_fft_in(kiln_fft *f);
/* Output buffer: double (*)[2] for r2c and c2c, double * for c2r. */
void *kiln_fft_out(kiln_fft *f);
size_t kiln_fft_n(const kiln_fft *f);        /* transform length n */
size_t kiln_fft_howmany(const kiln_fft *f);  /* batch size */

/* Run the planned transform on the object's buffers. */
void kiln_fft_execute(kiln_fft *f);
/* Free plan and buffers; NULL is a no-op. */
void kiln_fft_free(kiln_fft *f);

/* A length >= n that FFTW transforms fast (only factors 2, 3, 5, 7). */
size_t kiln_fft_good_size(size_t n);

/* Autocorrelation c[k] = 1/(n-k) * sum_{i=0}^{n-k-1} x[i] x[i+k] for 0 <= k < nlag,
 * nlag <= n, by a zero-padded FFT (length kiln_fft_good_size(n + nlag)), O(N log N).
 * x: n values, c: nlag values (c must not alias x). Convenience call: it plans and
 * allocates each time; repeated correlators should keep their own kiln_fft plans. */
kiln_status kiln_autocorr(const double *x, size_t n, size_t nlag, double *c, kiln_error *err);
#endif
