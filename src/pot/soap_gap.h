/* src/pot/soap_gap.h: writer of the kiln soap_gap model file (format: doc/soap_gap.md),
 * the C counterpart of what kiln.train writes from Lua (private: tests and tools). */
#ifndef KILN_SOAP_GAP_H
#define KILN_SOAP_GAP_H
#include <stddef.h>
#include <stdint.h>
#include "kiln/atoms.h"
#include "kiln/error.h"

/* Write a version-1 model: descriptor options as "key=value" dotted paths (nopt lines,
 * e.g. "cutoff=5", "elements.1=Si"), zeta, nel elements with e0 (eV), and m
 * sparse rows S (m x ncols, raw descriptor rows) with element index el[s] (into sym) and
 * weight alpha[s] (eV). Numbers are written with 17 significant digits. */
kiln_status kilni_soap_gap_write(const char *path, size_t nopt, const char *const *opt,
                                 double zeta, int nel, const char (*sym)[KILN_SYMBOL_LEN],
                                 const double *e0, size_t m, size_t ncols, const int32_t *el,
                                 const double *alpha, const double *S, kiln_error *err);
#endif
