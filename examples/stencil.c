/*
 * stencil.c: Jacobi sweeps of the 2D heat equation (5-point stencil), with forkmp.
 *
 * Ports examples/stencil_omp.c.  What changed:
 * - the two grids come from fmp_shared_alloc() instead of calloc(): the members are
 *   processes, and the rows one member writes must be seen by the others in the next
 *   sweep and by the master after the join (the arena is zero-filled, as calloc);
 * - a forkmp region forks, so instead of one `parallel for` per sweep there is one
 *   FMP_PARALLEL region around all the sweeps, and each sweep is an FMP_FOR loop over
 *   the rows (fmp_dynamic(4), as schedule(dynamic, 4)) whose implied barrier ends it;
 * - reduction(max : res) became a private max per member and fmp_reduce(FMP_MAX), which
 *   hands the result to every member (a max is exact, so it does not depend on which
 *   rows each member took); every member swaps its own copy of the grid pointers;
 * - the master keeps its private variables (u, v, res) after the join, the children's
 *   copies are dropped.
 * The output is the same bit for bit as the OpenMP version for any team size.
 *
 * Usage: stencil [n [sweeps]]  (default 1000 200).  Results on stdout, time on stderr.
 */
#include <forkmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    long sweeps = argc > 2 ? strtol(argv[2], NULL, 10) : 200;
    if (n < 3 || sweeps < 1) {
        fprintf(stderr, "usage: %s [n >= 3 [sweeps >= 1]]\n", argv[0]);
        return 2;
    }

    double *u = fmp_shared_alloc((size_t)(n * n) * sizeof *u);
    double *v = fmp_shared_alloc((size_t)(n * n) * sizeof *v);
    if (!u || !v) {
        perror("fmp_shared_alloc");
        return 1;
    }
    for (long j = 0; j < n; j++)
        u[j] = v[j] = 1.0;                  /* the hot top edge, in both grids */

    double res = 0.0, t0 = fmp_get_wtime();
    FMP_PARALLEL(0) {                       /* one region (one fork) for all sweeps */
        for (long s = 0; s < sweeps; s++) {
            double local = 0.0;
            FMP_FOR(i, 1, n - 1, fmp_dynamic(4)) {
                for (long j = 1; j < n - 1; j++) {
                    double x = 0.25 * (u[(i - 1) * n + j] + u[(i + 1) * n + j] +
                                       u[i * n + j - 1] + u[i * n + j + 1]);
                    double d = fabs(x - u[i * n + j]);
                    if (d > local)
                        local = d;
                    v[i * n + j] = x;
                }
            }   /* implied barrier: v is complete before anyone reads it */
            fmp_reduce(&local, &res, 1, FMP_DOUBLE, FMP_MAX);
            double *w = u;                  /* every member swaps its own pointers */
            u = v;
            v = w;
        }
    }
    double t = fmp_get_wtime() - t0;

    double checksum = 0.0;
    for (long k = 0; k < n * n; k++)
        checksum += u[k];
    printf("grid %ld x %ld, %ld sweeps\n", n, n, sweeps);
    printf("checksum = %.17g\nresidual = %.17g\n", checksum, res);
    fprintf(stderr, "%.3f s, team of %d\n", t, fmp_get_max_threads());
    fmp_shared_free(u);
    fmp_shared_free(v);
    return 0;
}
