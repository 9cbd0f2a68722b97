/* env_bad.sh's probe: the first forkmp call parses the environment (and exits 1 on a
 * malformed variable, or prints FMP_DISPLAY_ENV's block); then it prints the default team
 * size on stdout.  With the argument "region" it then runs a team of 4 that allocates
 * shared memory and reduces, and prints "region ok" (exit 0) or what went wrong (exit 3):
 * that the smallest FMP_SHARED_SIZE accepted is usable. */
#include <stdio.h>
#include <string.h>

#include "forkmp.h"

int main(int argc, char **argv)
{
    printf("%d\n", fmp_get_max_threads());
    if (argc < 2 || strcmp(argv[1], "region") != 0)
        return 0;
    long *seen = fmp_shared_alloc(4 * sizeof *seen);
    if (!seen) {
        printf("fmp_shared_alloc failed\n");
        return 3;
    }
    long total = 0;
    FMP_PARALLEL(4) {
        long *mine = fmp_shared_alloc(16 * 1024);
        long one = mine ? 1 : 0, sum = 0;
        seen[fmp_thread_num()] = one;
        fmp_reduce(&one, &sum, 1, FMP_LONG, FMP_SUM);
        if (fmp_thread_num() == 0)
            total = sum;
        fmp_shared_free(mine);
    }
    if (total != 4 || seen[0] + seen[1] + seen[2] + seen[3] != 4) {
        printf("region: %ld members allocated, %ld seen\n", total,
               seen[0] + seen[1] + seen[2] + seen[3]);
        return 3;
    }
    printf("region ok\n");
    return 0;
}
