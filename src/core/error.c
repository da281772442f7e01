/* src/core/error.c: status code texts and the error buffer. */
#include <stdarg.h>
#include <stdio.h>
#include "kiln/error.h"

static const struct { kiln_status code; const char *text; } texts[] = {
    {KILN_OK, "success"},
    {KILN_ENOMEM, "out of memory"},
    {KILN_EINVAL, "invalid argument"},
    {KILN_ERANGE, "value out of range"},
    {KILN_EDOM, "mathematical domain error"},
    {KILN_ESTATE, "object in the wrong state"},
    {KILN_EIO, "input/output error"},
    {KILN_EFORMAT, "malformed file content"},
    {KILN_ENOCONV, "did not converge"},
    {KILN_EEXTERNAL, "external library error"},
    {KILN_ENOTSUP, "not supported"},
    {KILN_EINTR, "interrupted"},
};

const char *kiln_strerror(kiln_status code) {
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    if (texts[i].code == code) return texts[i].text;
  return "unknown error";
}

kiln_status kiln_error_set(kiln_error *err, kiln_status code, const char *file, int line,
                           const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  err->file = file;
  err->line = line;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  } else {
    snprintf(err->msg, sizeof err->msg, "%s", kiln_strerror(code));
  }
  return code;
}

void kiln_error_clear(kiln_error *err) {
  if (!err) return;
  err->code = KILN_OK;
  err->msg[0] = '\0';
  err->file = NULL;
  err->line = 0;
}
