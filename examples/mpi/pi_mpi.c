/*
 * pi_mpi.c: pi by midpoint integration of 4 / (1 + x^2) over [0, 1], MPI + forkmp.
 *
 * Ports examples/mpi/pi_mpi_omp.c.  What changed:
 * - fmp_mpi_init() after MPI_Init: it sizes each rank's team from the cpus the launcher
 *   gave the rank (or FMP_NUM_THREADS / OMP_NUM_THREADS, or SLURM_CPUS_PER_TASK), and
 *   names the rank in forkmp's diagnostics;
 * - `#pragma omp parallel for reduction(+ : part)` became an FMP_PARALLEL region with an
 *   FMP_FOR loop over the rank's block and a private partial sum per member;
 * - the reduction and the MPI_Allreduce became one fmp_mpi_allreduce() called by every
 *   member: the team adds its members' sums in shared memory, the master alone calls
 *   MPI_Allreduce, and every member (the master included) gets the global sum.  The
 *   children never call MPI.
 * Usage: mpirun -np 2 pi_mpi [n]  (n intervals, default 1e8).  Result on stdout (rank 0),
 * time on stderr.
 */
#include <forkmp.h>
#include <forkmp_mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rc = fmp_mpi_init(MPI_COMM_WORLD);
    if (rc) {
        fprintf(stderr, "fmp_mpi_init: %s\n", fmp_strerror(rc));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
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
    double h = 1.0 / (double)n, sum = 0.0;
    double t0 = fmp_get_wtime();

    FMP_PARALLEL(0) {                          /* 0: the size fmp_mpi_init chose */
        double part = 0.0;                     /* private to each member */
        FMP_FOR(i, lo, hi, fmp_static(0)) {
            double x = h * ((double)i + 0.5);
            part += 4.0 / (1.0 + x * x);
        }
        fmp_mpi_allreduce(&part, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }

    double t = fmp_get_wtime() - t0;
    if (rank == 0) {
        printf("pi = %.10f (n = %ld)\n", h * sum, n);
        fprintf(stderr, "%.3f s, %d ranks x %d processes\n", t, size, fmp_get_max_threads());
    }
    MPI_Finalize();
    return 0;
}
