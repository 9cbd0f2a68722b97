/*
 * pi.c: pi by midpoint integration of 4 / (1 + x^2) over [0, 1], with forkmp.
 *
 * Ports examples/pi_omp.c.  What changed:
 * - `#pragma omp parallel for` became an FMP_PARALLEL region holding an FMP_FOR loop
 *   (fmp_static(0): one contiguous block of iterations per member, as schedule(static));
 * - the reduction(+ : sum) clause became a private partial sum per member and one
 *   fmp_reduce() call: the members are separate processes, so a child's writes to
 *   `sum` would be lost at the join; the reduction hands the total to every member,
 *   the master included, which keeps it after the join.
 * fmp_reduce() combines the members in member order, so for a given team size the
 * result is the same bit for bit from run to run.
 *
 * Usage: pi [n]  (n intervals, default 1e8).  Result on stdout, time on stderr.
 */
#include <forkmp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000000L;
    if (n <= 0) {
        fprintf(stderr, "usage: %s [intervals > 0]\n", argv[0]);
        return 2;
    }

    double h = 1.0 / (double)n, sum = 0.0;
    double t0 = fmp_get_wtime();

    FMP_PARALLEL(0) {                       /* 0: the default team size */
        double part = 0.0;                  /* private to each member */
        FMP_FOR(i, 0, n, fmp_static(0)) {   /* i is declared by the macro (long) */
            double x = h * ((double)i + 0.5);
            part += 4.0 / (1.0 + x * x);
        }
        fmp_reduce(&part, &sum, 1, FMP_DOUBLE, FMP_SUM);
    }

    double t = fmp_get_wtime() - t0;
    /* Ten decimals, as the OpenMP version: far above the rounding noise of the sum. */
    printf("pi = %.10f (n = %ld)\n", h * sum, n);
    fprintf(stderr, "%.3f s, team of %d\n", t, fmp_get_max_threads());
    return 0;
}
