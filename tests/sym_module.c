/* A module of test_symbols (tests/.libs/libsymmod.so): the test dlopens copies of it under
 * other names, and replaces the file under a loaded copy with damaged ones, to see the
 * symbolizer name a shared object's variables, functions and lines, and survive odd
 * files. */
#include <stdint.h>

int sym_module_data[64];
static long sym_module_static[8];

int *sym_module_data_addr(void);
long *sym_module_static_addr(void);
int sym_module_where(uintptr_t *pc);
void *sym_module_return_address(void);

int *sym_module_data_addr(void)
{
    return sym_module_data;
}

long *sym_module_static_addr(void)
{
    sym_module_static[3]++;
    return sym_module_static;
}

__attribute__((noinline)) void *sym_module_return_address(void)
{
    return __builtin_return_address(0);
}

/* the address of a call (inside the call instruction), and its line */
int sym_module_where(uintptr_t *pc)
{
    return (*pc = (uintptr_t)sym_module_return_address() - 1, __LINE__);
}
