/* kiln/kiln.h: umbrella header of the kiln core library (pure C, no Lua). */
#ifndef KILN_H
#define KILN_H
#define KILN_VERSION "0.1.0"
#include "error.h"
#include "array.h"
#include "opts.h"
#include "units.h"
#include "rng.h"
#include "atoms.h"
#include "crystal.h"
#include "neigh.h"
#include "potential.h"
#include "md.h"
#include "io.h"
#include "fft.h"
#include "corr.h"
#include "qpoints.h"
#include "phonons.h"
#include "linalg.h"
#include "ml.h"
#include "dipole.h"
#endif
