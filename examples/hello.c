/*
 * hello.c: the example of the README, as printed there (keep the two the same).
 *
 * What an OpenMP program writes as `#pragma omp parallel for reduction(+ : sum)` over a
 * malloc'ed array becomes: the array from fmp_shared_alloc() (so the master sees what
 * the children wrote), an FMP_FOR loop in an FMP_PARALLEL region, and fmp_reduce() of a
 * private partial sum.  The partial sums depend on the team size in their last bits
 * only, far below the six decimals printed, so the output is the same for every team.
 * examples/hello_cxx.cpp is the same program compiled as C++.
 */
#include <forkmp.h>
#include <stdio.h>

int main(void)
{
    long n = 10000000;
    double *x = fmp_shared_alloc(n * sizeof *x); /* shared: every member sees and keeps it */
    double sum = 0.0;                            /* private: only the master's copy survives */
    FMP_PARALLEL(0) {                            /* fork a team (0: default size) */
        double part = 0.0;
        FMP_FOR(i, 0, n, fmp_static(0)) { x[i] = 1.0 / (i + 1); part += x[i]; }
        sum = fmp_reduce_value(part, FMP_SUM);  /* every member gets the total */
    }                                            /* join: only the master goes on */
    printf("sum = %f (x[n-1] = %g)\n", sum, x[n - 1]);
    return 0;
}
