/*
 * t_crash: a member that fails on one rank ends the whole job, non-zero, within seconds,
 * with a diagnostic naming the rank, the member, the pid and the signal or exit status;
 * no rank is left waiting in MPI.
 *
 *   t_crash segv         rank R's member 1 dies of SIGSEGV while every other member of
 *                        every rank is in fmp_mpi_allreduce (the other ranks inside MPI)
 *   t_crash segv-busy    the same while rank R's master computes (not in any wait)
 *   t_crash exit         rank R's member 1 calls exit(3) instead of the allreduce
 *   t_crash persistent   rank R's member 1 of a team created before MPI_Init dies of
 *                        SIGSEGV in a run, while the others are in fmp_mpi_allreduce
 *   t_crash mismatch     rank R's members pass different counts (default abort mode)
 *
 * R is the last rank.  Every member prints "t_crash: member M of rank R pid P" first, so
 * that the test can check the pid of the diagnostic and that nothing is left behind.
 * Exit status: never 0 when it works (the job is ended); 0 means nothing failed.
 */
#include <forkmp.h>
#include <forkmp_mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct where {
    int rank, size;
    const char *mode;
} where;

static void body(void *arg)
{
    const where *w = arg;
    int me = fmp_thread_num(), bad = w->rank == w->size - 1 && me == 1;
    fmp_printf("t_crash: member %d of rank %d pid %d\n", me, w->rank, (int)getpid());
    fmp_barrier();
    double x = 1.0, sum = 0.0;
    if (bad) {
        usleep(300 * 1000); /* the others are inside the allreduce by now */
        if (strcmp(w->mode, "exit") == 0)
            exit(3);
        if (strcmp(w->mode, "mismatch") != 0) {
            /* SIGSEGV: a write to a page that may not be written (not NULL: some virtual
               machines map page 0) */
            int *volatile p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            *p = 1;
        }
    }
    if (strcmp(w->mode, "segv-busy") == 0 && w->rank == w->size - 1 && me == 0) {
        double t0 = fmp_get_wtime(); /* compute, not in any wait, while member 1 dies */
        volatile double s = 0;
        while (fmp_get_wtime() - t0 < 5.0)
            s += 1.0;
    }
    int count = strcmp(w->mode, "mismatch") == 0 && bad ? 2 : 1;
    double two[2] = {1.0, 1.0};
    int rc = fmp_mpi_allreduce(count == 2 ? two : &x, &sum, count, MPI_DOUBLE, MPI_SUM,
                               MPI_COMM_WORLD);
    fmp_printf("t_crash: member %d of rank %d: fmp_mpi_allreduce returned %d (%s)\n", me,
               w->rank, rc, fmp_strerror(rc));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: t_crash segv|segv-busy|exit|persistent|mismatch\n");
        return 2;
    }
    where w = {0, 0, argv[1]};
    fmp_team *team = NULL;
    if (strcmp(argv[1], "persistent") == 0 && !(team = fmp_team_create(2))) {
        perror("fmp_team_create");
        return 1;
    }
    MPI_Init(&argc, &argv);
    fmp_mpi_init(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w.size);
    int rc = team ? fmp_team_run(team, body, &w, sizeof w) : fmp_parallel(2, body, &w);
    printf("t_crash: rank %d: the region returned %d (%s)\n", w.rank, rc, fmp_strerror(rc));
    if (team)
        fmp_team_destroy(team);
    MPI_Finalize();
    return 0;
}
