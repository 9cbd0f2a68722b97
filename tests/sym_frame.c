/* A probe of test_symbols built at -O0 with -gdwarf-5 and with -gdwarf-4 (tests/local.mk;
 * SYM_FRAME_FN and SYM_BLOCKS_FN name the functions): a function whose locals have fixed
 * places in its frame, one in a nested block, one in an inlined function, whose frames it
 * captures (sym_frame_capture, in test_symbols.c) at calls in each scope; and a function
 * at -O2 whose blocks are not contiguous.  The attributes keep them at their levels
 * whatever CFLAGS say, and out of AddressSanitizer's reach (which would move the locals
 * whose address is taken off the frame). */
#include "sym_probe.h"

#if defined(__clang__) /* optnone and always_inline do not go together */
#define SYM_O0 __attribute__((noinline, optnone, no_sanitize_address))
#define SYM_INLINE __attribute__((always_inline, no_sanitize_address))
#else /* and GCC inlines only into a function of the same optimization level */
#define SYM_O0 __attribute__((noinline, optimize("O0"), no_sanitize_address))
#define SYM_INLINE __attribute__((always_inline, optimize("O0"), no_sanitize_address))
#endif

static inline SYM_INLINE void inlined_part(sym_frame *f)
{
    int deep = 3;
    sym_frame_capture(&f->in_inlined);
    f->deep = (uintptr_t)&deep;
}

SYM_O0 void SYM_FRAME_FN(sym_frame *f, int n)
{
    double sum = 0;
    long acc[4];
    sym_frame_capture(&f->outer);
    {
        int inner = 2;
        sym_frame_capture(&f->in_block);
        f->inner = (uintptr_t)&inner;
        sum += inner;
    }
    inlined_part(f);
    for (int i = 0; i < 4; i++)
        acc[i] = i + n;
    f->sum = (uintptr_t)&sum;
    f->acc = (uintptr_t)&acc;
    f->n = (uintptr_t)&n;
    f->self = (uintptr_t)&f;
    f->total = sum + (double)acc[3];
}

/* At -O2 (with GCC) the blocks of the loop's body are not contiguous: their addresses are
   range lists (DW_AT_ranges); t and u, whose addresses are taken, keep their places in
   the frame, the other locals have location lists.  clang gives t and u location lists
   too. */
#if defined(__clang__)
#define SYM_O2 __attribute__((noinline, no_sanitize_address))
#else
#define SYM_O2 __attribute__((noinline, optimize("O2"), no_sanitize_address))
#endif

SYM_O2 int SYM_BLOCKS_FN(const int *p, int k, sym_blocks *b)
{
    int s = 0;
    for (int i = 0; i < k; i++) {
        if (p[i] > 2) {
            int t = p[i] * 3;
            sym_local_capture(&b->at_t, &t);
            s += t;
        } else {
            long u = p[i];
            sym_local_capture(&b->at_u, &u);
            s += (int)u;
        }
    }
    return s;
}
