/* kiln/error.h: status codes and the error message buffer.
 * Every fallible core function returns kiln_status and, on failure, fills a
 * caller-provided kiln_error (which may be NULL). The core never prints or exits. */
#ifndef KILN_ERROR_H
#define KILN_ERROR_H

typedef enum {
  KILN_OK = 0,
  KILN_ENOMEM,    /* out of memory */
  KILN_EINVAL,    /* invalid argument */
  KILN_ERANGE,    /* value out of range */
  KILN_EDOM,      /* mathematical domain error */
  KILN_ESTATE,    /* object in the wrong state for this call */
  KILN_EIO,       /* file or system I/O error */
  KILN_EFORMAT,   /* malformed file content */
  KILN_ENOCONV,   /* iteration did not converge */
  KILN_EEXTERNAL, /* a third-party library reported an error */
  KILN_ENOTSUP,   /* not supported */
  KILN_EINTR      /* interrupted by the progress callback (e.g. Ctrl-C) */
} kiln_status;

typedef struct kiln_error {
  kiln_status code;
  char msg[512];
  const char *file; /* source file that raised it (for developers) */
  int line;
} kiln_error;

/* Short text for a status code ("invalid argument"). Never NULL. */
const char *kiln_strerror(kiln_status code);

/* Fill err (if non-NULL) with a printf-style message; returns code. */
kiln_status kiln_error_set(kiln_error *err, kiln_status code, const char *file, int line,
                           const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Usage: return KILN_FAIL(err, KILN_EINVAL, "cutoff must be positive (got %g)", rc); */
#define KILN_FAIL(err, code, ...) kiln_error_set((err), (code), __FILE__, __LINE__, __VA_ARGS__)

/* Clear an error buffer to KILN_OK / empty message. */
void kiln_error_clear(kiln_error *err);

/* Progress / interrupt callback used by long loops: called with the number of
 * completed units (steps) and the total; a non-zero return stops the loop
 * cleanly with KILN_EINTR at a step boundary. */
typedef int (*kiln_progress_fn)(void *ud, long done, long total);

#ifdef KILN_DEBUG
#include <assert.h>
#define KILN_ASSERT(c) assert(c)
#else
#define KILN_ASSERT(c) ((void)0)
#endif

#endif
