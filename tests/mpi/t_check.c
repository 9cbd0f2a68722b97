/*
 * t_check: a lost write in a rank, for tests/mpi/check.mpi (FMP_CHECK=writes under mpirun).
 *
 *   t_check
 *
 * After MPI_Init and fmp_mpi_init, an FMP_PARALLEL(2) region in which member 1 writes a
 * global of its rank's process (lost at the join), then an all-reduce of what the masters
 * hold.  Prints "t_check: rank R sum S" (S: the ranks' sum of the global, 0: the writes
 * were lost, as the detector says).
 */
#include <forkmp.h>
#include <forkmp_mpi.h>
#include <stdio.h>

double lost_total[16];

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rc = fmp_mpi_init(MPI_COMM_WORLD);
    if (rc) {
        fprintf(stderr, "fmp_mpi_init: %s\n", fmp_strerror(rc));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1)
            lost_total[3] = rank + 5.0;
    }
    double sum = 0;
    MPI_Allreduce(&lost_total[3], &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    printf("t_check: rank %d sum %g\n", rank, sum);
    MPI_Finalize();
    return 0;
}
