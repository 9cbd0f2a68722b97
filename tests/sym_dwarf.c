/* A probe of test_symbols built with older DWARF versions than the compiler's default
 * (tests/local.mk: -gdwarf-4 and -gdwarf-2, SYM_DWARF_FN naming the function), so that the
 * symbolizer's line-table decoder meets their headers too. */
#include "sym_probe.h"

void SYM_DWARF_FN(sym_where *w)
{
    SYM_WHERE(w);
}
