/* omp_member: the master runs an OpenMP region with its threads (OMP_NUM_THREADS=4), then
 * a forkmp region whose member 1 runs OpenMP regions of its own, one of them asking for 3
 * threads.  libgomp keeps its pool of threads across fork, threads the member does not
 * have: forkmp makes a member's OpenMP regions run with one thread, so they neither hang
 * nor oversubscribe.  Then the master's OpenMP still has its threads.  Built with OpenMP
 * for tests/test_hardening.c. */
#include <forkmp.h>
#include <omp.h>
#include <stdio.h>

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int warm = 0;
#pragma omp parallel
    {
#pragma omp atomic
        warm++;
    }
    printf("master region: %d threads\n", warm);
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            int n = 0, m = 0;
#pragma omp parallel
            {
#pragma omp atomic
                n++;
            }
#pragma omp parallel num_threads(3)
            {
#pragma omp atomic
                m++;
            }
            fmp_printf("member 1: max threads %d, region with %d thread%s\n",
                       omp_get_max_threads(), n, n == 1 ? "" : "s");
            fmp_printf("member 1: num_threads(3) region with %d thread%s\n", m,
                       m == 1 ? "" : "s");
        }
    }
    int after = 0;
#pragma omp parallel
    {
#pragma omp atomic
        after++;
    }
    printf("master after: %d threads\n", after);
    return 0;
}
