/*
 * consumer_mpi: an MPI program built against an installed forkmp alone (forkmp_mpi.h,
 * forkmp-mpi.pc, libforkmp_mpi and libforkmp), by tests/install/check.sh at
 * `make installcheck`, run under mpirun: fmp_mpi_init, then fmp_mpi_allreduce in a region
 * of 2 on every rank.  Exit 0 when every rank's result holds.
 */
#include <forkmp_mpi.h>
#include <stdio.h>

static long *g_sums;

static void body(void *arg)
{
    (void)arg;
    long one = 1, sum = 0;
    if (fmp_mpi_allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD) == FMP_OK)
        g_sums[fmp_thread_num()] = sum;
}

int main(int argc, char **argv)
{
    int rank, size, rc;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if ((rc = fmp_mpi_init(MPI_COMM_WORLD)) != FMP_OK) {
        fprintf(stderr, "consumer_mpi: rank %d: fmp_mpi_init: %s\n", rank, fmp_strerror(rc));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    g_sums = fmp_shared_alloc(2 * sizeof *g_sums);
    rc = g_sums ? fmp_parallel(2, body, NULL) : FMP_ENOMEM;
    int good = rc == FMP_OK && g_sums[0] == 2L * size && g_sums[1] == 2L * size;
    printf("consumer_mpi: rank %d: %s: members got %ld and %ld (expected %d)\n", rank,
           good ? "ok" : "FAIL", g_sums ? g_sums[0] : -1L, g_sums ? g_sums[1] : -1L,
           2 * size);
    MPI_Finalize();
    return good ? 0 : 1;
}
