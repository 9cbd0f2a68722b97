/* arena_probe: a forkmp program that leaves the shared arena at its default size.  It
 * prints fmp_shared_size() and what the two members of a region wrote to shared memory;
 * tests/valgrind_arena.sh runs it under valgrind. */
#include <stdio.h>

#include "forkmp.h"

int main(void)
{
    int *x = fmp_shared_alloc(2 * sizeof *x);
    if (!x) {
        perror("fmp_shared_alloc");
        return 1;
    }
    FMP_PARALLEL(2) {
        x[fmp_thread_num()] = fmp_thread_num() + 1;
    }
    printf("arena %zu\nmembers %d %d\n", fmp_shared_size(), x[0], x[1]);
    fmp_shared_free(x);
    return 0;
}
