/* src/ml/ml_internal.h: private declarations shared by the descriptor styles and the
 * descriptor registry (not part of the public API). */
#ifndef KILN_ML_INTERNAL_H
#define KILN_ML_INTERNAL_H
#include "kiln/ml.h"

#define KILN_DESC_STYLE(name, sym) extern const kiln_desc_style sym;
#include "ml/styles.def"
#undef KILN_DESC_STYLE
#endif
