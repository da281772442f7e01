/* src/md/registry.c: the table of integrator styles (expanded from styles.def)
 * and lookups by name. */
#include <string.h>
#include "md_internal.h"

static const kiln_md_style *const styles[] = {
#define KILN_MD_STYLE(name, sym) &sym,
#include "styles.def"
#undef KILN_MD_STYLE
};

#define NSTYLES (sizeof styles / sizeof styles[0])

const kiln_md_style *kiln_md_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < NSTYLES; i++)
    if (strcmp(styles[i]->name, name) == 0) return styles[i];
  return NULL;
}

size_t kiln_md_nstyles(void) { return NSTYLES; }

const kiln_md_style *kiln_md_style_at(size_t i) { return i < NSTYLES ? styles[i] : NULL; }
