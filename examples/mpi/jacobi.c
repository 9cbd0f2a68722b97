/*
 * jacobi.c: Jacobi sweeps of the 2D heat equation, MPI + forkmp.
 *
 * Ports examples/mpi/jacobi_omp.c (same grid, same cut into blocks of rows, same output).
 * What changed:
 * - the team is created BEFORE MPI_Init (fmp_team_create, sized by
 *   fmp_mpi_preinit_num_threads from the launcher's environment): its members hold no MPI
 *   or network state at all, the arrangement that is safe on every fabric; each sweep is
 *   one run of that team (fmp_team_run), at thread-like cost;
 * - the grids live in shared memory (fmp_shared_alloc): the rows one member writes are
 *   read by its neighbours in the next sweep and by the master for the halo exchange;
 * - the halo exchange stays in the master, between runs, exactly as in the original;
 * - the members of a team created before MPI_Init see the master's private memory as it
 *   was then: what changes (the grid pointers, the sizes) travels in the run's argument;
 * - reduction(max) + MPI_Allreduce became one fmp_mpi_allreduce(MPI_MAX) called by every
 *   member: the team combines in shared memory, the master calls MPI, everyone gets it.
 * With --fork-per-region each sweep forks a fresh team instead (FMP_PARALLEL after
 * MPI_Init: fine on shared memory and TCP; fmp_mpi_init says what to set on fabrics where
 * it is not).  The output is the same bit for bit as the original's, for any team size.
 *
 * Usage: mpirun -np 2 jacobi [n [sweeps]] [--fork-per-region]  (default 400 200).
 * Results on stdout (rank 0); the team size and the time on stderr.
 */
#include <forkmp.h>
#include <forkmp_mpi.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What one sweep needs: passed by value to every member at every run. */
typedef struct sweep {
    double *u, *v;   /* shared grids, rows + 2 rows of n */
    long n, rows;
    double *res;     /* shared: the global largest change */
} sweep;

static void one_sweep(void *arg)
{
    const sweep *s = arg;
    const double *u = s->u;
    double *v = s->v;
    long n = s->n;
    double local = 0.0;
    FMP_FOR(i, 1, s->rows + 1, fmp_static(0)) {
        for (long j = 1; j < n - 1; j++) {
            double x = 0.25 * (u[(i - 1) * n + j] + u[(i + 1) * n + j] + u[i * n + j - 1] +
                               u[i * n + j + 1]);
            double d = fabs(x - u[i * n + j]);
            if (d > local)
                local = d;
            v[i * n + j] = x;
        }
    }
    double res = 0.0;
    fmp_mpi_allreduce(&local, &res, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (fmp_thread_num() == 0)
        *s->res = res;
}

int main(int argc, char **argv)
{
    int fork_per_region = 0, npos = 0;
    long arg[2] = {400, 200};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fork-per-region") == 0)
            fork_per_region = 1;
        else if (npos < 2)
            arg[npos++] = strtol(argv[i], NULL, 10);
    }
    /* before MPI_Init: members with no MPI state */
    fmp_team *team = NULL;
    int team_size = fork_per_region ? 0 : fmp_mpi_preinit_num_threads();
    if (!fork_per_region && !(team = fmp_team_create(team_size))) {
        perror("fmp_team_create");
        return 1;
    }

    MPI_Init(&argc, &argv);
    int rc = fmp_mpi_init(MPI_COMM_WORLD);
    if (rc) {
        fprintf(stderr, "fmp_mpi_init: %s\n", fmp_strerror(rc));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long n = arg[0], sweeps = arg[1];
    if (n < 3 || sweeps < 1 || n - 2 < size) {
        if (rank == 0)
            fprintf(stderr, "usage: %s [n >= ranks + 2 [sweeps >= 1]] [--fork-per-region]\n",
                    argv[0]);
        MPI_Finalize();
        return 2;
    }
    long lo = 1 + (n - 2) * rank / size, hi = 1 + (n - 2) * (rank + 1) / size;
    long rows = hi - lo;
    sweep s = {fmp_shared_alloc((size_t)((rows + 2) * n) * sizeof(double)),
               fmp_shared_alloc((size_t)((rows + 2) * n) * sizeof(double)), n, rows,
               fmp_shared_alloc(sizeof(double))};
    if (!s.u || !s.v || !s.res) {
        perror("fmp_shared_alloc");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0)
        for (long j = 0; j < n; j++)
            s.u[j] = s.v[j] = 1.0; /* the hot top edge, in both grids (zero-filled else) */
    int up = rank > 0 ? rank - 1 : MPI_PROC_NULL;
    int down = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;

    double t0 = fmp_get_wtime();
    for (long k = 0; k < sweeps; k++) {
        /* halo exchange, by the master, between regions */
        MPI_Sendrecv(s.u + n, (int)n, MPI_DOUBLE, up, 0, s.u + (rows + 1) * n, (int)n,
                     MPI_DOUBLE, down, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Sendrecv(s.u + rows * n, (int)n, MPI_DOUBLE, down, 1, s.u, (int)n, MPI_DOUBLE, up,
                     1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        rc = team ? fmp_team_run(team, one_sweep, &s, sizeof s) : fmp_parallel(0, one_sweep, &s);
        if (rc) {
            fprintf(stderr, "jacobi: rank %d: sweep %ld: %s\n", rank, k, fmp_strerror(rc));
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        double *w = s.u; /* the master swaps; the next run's argument carries it */
        s.u = s.v;
        s.v = w;
    }
    double t = fmp_get_wtime() - t0;

    double part = 0.0, checksum = 0.0;
    for (long k = n; k < (rows + 1) * n; k++)
        part += s.u[k];
    MPI_Reduce(&part, &checksum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("jacobi: grid %ld x %ld on %d ranks, %ld sweeps\n", n, n, size, sweeps);
        printf("checksum = %.12e\nresidual = %.12e\n", checksum, *s.res);
    }
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    fprintf(stderr, "jacobi: rank %d on %s: a team of %d%s, %.3f s\n", rank, host,
            team ? fmp_team_size(team) : fmp_get_max_threads(),
            team ? " created before MPI_Init" : ", forked at every sweep", t);
    if (team)
        fmp_team_destroy(team);
    fmp_shared_free(s.u);
    fmp_shared_free(s.v);
    fmp_shared_free(s.res);
    MPI_Finalize();
    return 0;
}
