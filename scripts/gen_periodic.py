# Generates src/core/periodic.c from ase.data: /usr/bin/python3 scripts/gen_periodic.py > src/core/periodic.c
import ase, ase.data as d
out = []
out.append("/* src/core/periodic.c: periodic table Z = 1..118 (symbols and standard atomic")
out.append(" * masses in amu). The table was generated from ase.data.chemical_symbols and")
out.append(" * ase.data.atomic_masses (ASE %s, IUPAC conventional values), so kiln masses" % ase.__version__)
out.append(" * match what ASE assigns. */")
out.append("#include <string.h>")
out.append("#include \"kiln/atoms.h\"")
out.append("")
out.append("typedef struct { const char *sym; double mass; } element;")
out.append("")
out.append("static const element table[119] = {")
out.append("    {\"X\", 0.0},")
row = []
for z in range(1, 119):
    row.append("{\"%s\", %r}" % (d.chemical_symbols[z], float(d.atomic_masses[z])))
for i in range(0, len(row), 4):
    out.append("    " + ", ".join(row[i:i+4]) + ",")
out.append("};")
out.append("""
int kiln_element_z(const char *symbol) {
  if (!symbol || !symbol[0]) return 0;
  for (int z = 1; z <= 118; z++)
    if (strcmp(table[z].sym, symbol) == 0) return z;
  return 0;
}

const char *kiln_element_symbol(int z) {
  return (z >= 1 && z <= 118) ? table[z].sym : NULL;
}

double kiln_element_mass(int z) {
  return (z >= 1 && z <= 118) ? table[z].mass : 0.0;
}""")
print("\n".join(out))
