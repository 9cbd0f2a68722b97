/*
 * jacobi_omp.c: Jacobi sweeps of the 2D heat equation, MPI + OpenMP: the MPI+OpenMP
 * original of examples/mpi/jacobi.c.
 *
 * An n x n grid, its top edge held at 1 and the other edges at 0; the interior rows are
 * cut into one block of rows per rank.  Each sweep: the ranks exchange their boundary rows
 * with their neighbours (halo exchange, MPI_Sendrecv), the threads update the rank's rows
 * (`parallel for reduction(max : res)`), and MPI_Allreduce gives the largest change.
 * Usage: mpirun -np 2 jacobi_omp [n [sweeps]]  (default 400 200).  Results on stdout
 * (rank 0), time on stderr.
 */
#include <math.h>
#include <mpi.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 400;
    long sweeps = argc > 2 ? strtol(argv[2], NULL, 10) : 200;
    if (n < 3 || sweeps < 1 || n - 2 < size) {
        if (rank == 0)
            fprintf(stderr, "usage: %s [n >= ranks + 2 [sweeps >= 1]]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    /* interior rows 1 .. n-2: rows [lo, hi) are this rank's; local row 0 and rows + 1 are
       the halo (or the fixed edge) */
    long lo = 1 + (n - 2) * rank / size, hi = 1 + (n - 2) * (rank + 1) / size;
    long rows = hi - lo;
    double *u = calloc((size_t)((rows + 2) * n), sizeof *u);
    double *v = calloc((size_t)((rows + 2) * n), sizeof *v);
    if (!u || !v) {
        perror("calloc");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0)
        for (long j = 0; j < n; j++)
            u[j] = v[j] = 1.0; /* the hot top edge, in both grids */
    int up = rank > 0 ? rank - 1 : MPI_PROC_NULL;
    int down = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;

    double res = 0.0, t0 = MPI_Wtime();
    for (long s = 0; s < sweeps; s++) {
        /* halo exchange */
        MPI_Sendrecv(u + n, (int)n, MPI_DOUBLE, up, 0, u + (rows + 1) * n, (int)n, MPI_DOUBLE,
                     down, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Sendrecv(u + rows * n, (int)n, MPI_DOUBLE, down, 1, u, (int)n, MPI_DOUBLE, up, 1,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        double local = 0.0;
#pragma omp parallel for schedule(static) reduction(max : local)
        for (long i = 1; i <= rows; i++) {
            for (long j = 1; j < n - 1; j++) {
                double x = 0.25 * (u[(i - 1) * n + j] + u[(i + 1) * n + j] + u[i * n + j - 1] +
                                   u[i * n + j + 1]);
                double d = fabs(x - u[i * n + j]);
                if (d > local)
                    local = d;
                v[i * n + j] = x;
            }
        }
        MPI_Allreduce(&local, &res, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        double *w = u;
        u = v;
        v = w;
    }
    double t = MPI_Wtime() - t0;

    double part = 0.0, checksum = 0.0;
    for (long k = n; k < (rows + 1) * n; k++)
        part += u[k];
    MPI_Reduce(&part, &checksum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("jacobi: grid %ld x %ld on %d ranks, %ld sweeps\n", n, n, size, sweeps);
        printf("checksum = %.12e\nresidual = %.12e\n", checksum, res);
        fprintf(stderr, "%.3f s, %d ranks x %d threads\n", t, size, omp_get_max_threads());
    }
    free(u);
    free(v);
    MPI_Finalize();
    return 0;
}
