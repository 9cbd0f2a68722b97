/*
 * pi_omp.c: pi by midpoint integration of 4 / (1 + x^2) over [0, 1], with OpenMP.
 *
 * The OpenMP original of examples/pi.c.  Usage: pi_omp [n]  (n intervals, default 1e8).
 * The result goes to stdout, the time to stderr, so that the outputs of the two
 * versions can be compared with diff.
 */
#include <omp.h>
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
    double t0 = omp_get_wtime();

#pragma omp parallel for schedule(static) reduction(+ : sum)
    for (long i = 0; i < n; i++) {
        double x = h * ((double)i + 0.5);
        sum += 4.0 / (1.0 + x * x);
    }

    double t = omp_get_wtime() - t0;
    /* The partial sums, and the order OpenMP combines them in, depend on the team:
       the last bits of sum may differ from run to run.  Ten decimals are far above
       that noise (about 1e-12 for n = 1e8), so the printed line does not. */
    printf("pi = %.10f (n = %ld)\n", h * sum, n);
    fprintf(stderr, "%.3f s, team of %d\n", t, omp_get_max_threads());
    return 0;
}
