/* env_bad.sh's probe: the first forkmp call parses the environment (and exits 1 on a
 * malformed variable, or prints FMP_DISPLAY_ENV's block); then it prints the default team
 * size on stdout. */
#include <stdio.h>

#include "forkmp.h"

int main(void)
{
    printf("%d\n", fmp_get_max_threads());
    return 0;
}
