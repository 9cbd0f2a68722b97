/* A probe of test_symbols built with -gdwarf-5 and with -gdwarf-4 (tests/local.mk;
 * SYM_TYPES_FN names the function that gives its variables' addresses): global and static
 * variables whose types the symbolizer reads from .debug_info. */
#include "sym_probe.h"

#ifdef SYM_TYPES_DWARF4 /* the globals of the two builds must not clash */
#define sym_grid sym_grid4
#define sym_cells sym_cells4
#define sym_reals sym_reals4
#define sym_text sym_text4
#define sym_count sym_count4
#define sym_names sym_names4
#define sym_flags sym_flags4
#define sym_bytes sym_bytes4
#endif

typedef double real_t;

struct sym_cell {
    int a;
    double b;
};

double sym_grid[100];
static int sym_table[10][20];
struct sym_cell sym_cells[8];
real_t sym_reals[5];
char *sym_text;
long sym_count;
const char *const sym_names[3] = {"a", "b", "c"};
static int (*sym_hooks[4])(int, const char *);
unsigned short sym_flags;
char sym_bytes[256]; /* GCC: the upper bound in one byte, 255 */

/* a static inside a function: at function scope */
static long *local_static(void)
{
    static long sym_local[7];
    return sym_local;
}

void SYM_TYPES_FN(sym_vars *v)
{
    v->grid = sym_grid;
    v->table = sym_table;
    v->cells = sym_cells;
    v->reals = sym_reals;
    v->text = &sym_text;
    v->count = &sym_count;
    v->names = sym_names;
    v->hooks = sym_hooks;
    v->flags = &sym_flags;
    v->bytes = sym_bytes;
    v->local = local_static();
}
