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

/* tests/sym_frame.c built at -O0 with -gdwarf-5 and -gdwarf-4: the frame at a call (the
   call's address, and the CFA of the frame of the function that made it), captured by
   sym_frame_capture (test_symbols.c, never inlined) at calls outside the nested block, in
   it, and in the inlined function; the addresses of the locals */
typedef struct sym_call {
    uintptr_t pc, cfa;
    uintptr_t local; /* sym_local_capture's */
} sym_call;
typedef struct sym_frame {
    sym_call outer, in_block, in_inlined;
    uintptr_t self, n, sum, acc, inner, deep; /* self: the parameter f */
    double total;
} sym_frame;
void sym_frame_capture(sym_call *c);
void sym_frame5_locals(sym_frame *f, int n);
void sym_frame4_locals(sym_frame *f, int n);

/* the frame at a call in a block of the -O2 function of tests/sym_frame.c, and the
   address of that block's local (sym_local_capture: test_symbols.c, never inlined) */
typedef struct sym_blocks {
    sym_call at_t, at_u;
    uintptr_t t, u;
} sym_blocks;
void sym_local_capture(sym_call *c, const void *local);
int sym_blocks5(const int *p, int k, sym_blocks *b);
int sym_blocks4(const int *p, int k, sym_blocks *b);

#endif /* FMP_TEST_SYM_PROBE_H */
