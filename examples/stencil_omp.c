/*
 * stencil_omp.c: Jacobi sweeps of the 2D heat equation (5-point stencil), with OpenMP.
 *
 * The OpenMP original of examples/stencil.c.  An n x n grid whose top edge is held at
 * 1 and the other edges at 0; every sweep sets each interior point to the mean of its
 * four neighbours in the previous grid, then the two grids swap.  Rows are shared out
 * with a dynamic schedule; the residual is the largest change of the last sweep.
 *
 * Usage: stencil_omp [n [sweeps]]  (default 1000 200).  Results on stdout, time on
 * stderr.  Every point depends only on the previous grid, the residual is a max and
 * the checksum is summed by one thread in row order, so the output does not depend
 * on the team size or the schedule.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

/* One sweep over the interior rows; returns the largest change. */
static double sweep(const double *u, double *v, long n)
{
    double res = 0.0;
#pragma omp parallel for schedule(dynamic, 4) reduction(max : res)
    for (long i = 1; i < n - 1; i++) {
        for (long j = 1; j < n - 1; j++) {
            double x = 0.25 * (u[(i - 1) * n + j] + u[(i + 1) * n + j] +
                               u[i * n + j - 1] + u[i * n + j + 1]);
            double d = fabs(x - u[i * n + j]);
            if (d > res)
                res = d;
            v[i * n + j] = x;
        }
    }
    return res;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    long sweeps = argc > 2 ? strtol(argv[2], NULL, 10) : 200;
    if (n < 3 || sweeps < 1) {
        fprintf(stderr, "usage: %s [n >= 3 [sweeps >= 1]]\n", argv[0]);
        return 2;
    }

    double *u = calloc((size_t)(n * n), sizeof *u);
    double *v = calloc((size_t)(n * n), sizeof *v);
    if (!u || !v) {
        perror("calloc");
        return 1;
    }
    for (long j = 0; j < n; j++)
        u[j] = v[j] = 1.0;                  /* the hot top edge, in both grids */

    double res = 0.0, t0 = omp_get_wtime();
    for (long s = 0; s < sweeps; s++) {     /* one parallel region per sweep */
        res = sweep(u, v, n);
        double *w = u;
        u = v;
        v = w;
    }
    double t = omp_get_wtime() - t0;

    double checksum = 0.0;
    for (long k = 0; k < n * n; k++)
        checksum += u[k];
    printf("grid %ld x %ld, %ld sweeps\n", n, n, sweeps);
    printf("checksum = %.17g\nresidual = %.17g\n", checksum, res);
    fprintf(stderr, "%.3f s, team of %d\n", t, omp_get_max_threads());
    free(u);
    free(v);
    return 0;
}
