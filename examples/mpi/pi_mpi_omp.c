/*
 * pi_mpi_omp.c: pi by midpoint integration of 4 / (1 + x^2) over [0, 1], MPI + OpenMP.
 *
 * The MPI+OpenMP original of examples/mpi/pi_mpi.c: each rank takes a contiguous block of
 * the intervals, its OpenMP threads share the block (reduction(+)), and MPI_Allreduce adds
 * the ranks' sums.  Usage: mpirun -np 2 pi_mpi_omp [n]  (n intervals, default 1e8).
 * Result on stdout (rank 0), time on stderr.
 */
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
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000000L;
    if (n <= 0) {
        if (rank == 0)
            fprintf(stderr, "usage: %s [intervals > 0]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    long lo = n * rank / size, hi = n * (rank + 1) / size;
    double h = 1.0 / (double)n, part = 0.0, sum = 0.0;
    double t0 = MPI_Wtime();

#pragma omp parallel for schedule(static) reduction(+ : part)
    for (long i = lo; i < hi; i++) {
        double x = h * ((double)i + 0.5);
        part += 4.0 / (1.0 + x * x);
    }
    MPI_Allreduce(&part, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);

    double t = MPI_Wtime() - t0;
    if (rank == 0) {
        /* ten decimals: far above the rounding noise of the sums' order */
        printf("pi = %.10f (n = %ld)\n", h * sum, n);
        fprintf(stderr, "%.3f s, %d ranks x %d threads\n", t, size, omp_get_max_threads());
    }
    MPI_Finalize();
    return 0;
}
