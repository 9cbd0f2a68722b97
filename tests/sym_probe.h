/* test_symbols' probes: where a call is, as the symbolizer should say it.
 *
 * SYM_WHERE(w) records the address of a call (the return address of
 * sym_return_address(), less one: an address inside the call instruction) and the
 * source line the call is on.  It must stay on one line. */
#ifndef FMP_TEST_SYM_PROBE_H
#define FMP_TEST_SYM_PROBE_H

#include <stdint.h>

typedef struct sym_where {
    uintptr_t pc;
    int line;
} sym_where;

/* its caller's return address (test_symbols.c, never inlined) */
void *sym_return_address(void);

#define SYM_WHERE(w) ((w)->pc = (uintptr_t)sym_return_address() - 1, (w)->line = __LINE__)

/* tests/sym_dwarf.c built with -gdwarf-4 and with -gdwarf-2 (the line table of version 4,
   and of version 2 or 3 as the compiler and assembler emit it) */
void sym_dwarf4_where(sym_where *w);
void sym_dwarf2_where(sym_where *w);

/* tests/sym_types.c built with -gdwarf-5 and -gdwarf-4: the addresses of its variables */
typedef struct sym_vars {
    const void *grid, *table, *cells, *reals, *text, *count, *names, *hooks, *flags, *bytes, *local;
} sym_vars;
void sym_types5_vars(sym_vars *v);
void sym_types4_vars(sym_vars *v);

#endif /* FMP_TEST_SYM_PROBE_H */
