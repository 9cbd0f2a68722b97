/*
 * t_member: a member that calls an MPI function (a port that left an MPI call inside a
 * region) fails its team: the job ends with status FMP_EXIT_FAILURE and a message that
 * names the call, the member, the rank and the team's call site; the master's own MPI
 * calls, inside and outside regions, work as without forkmp.
 *
 *   t_member formats          prints the catalogue's formats that the test fills in
 *   t_member resolve          where the program's MPI_Send and a library's resolve
 *   t_member master           the master calls MPI inside and outside regions; exit 0
 *   t_member CALL [persistent]
 *                             member 1 of the last rank calls CALL (send, rank, wtime,
 *                             libsend: MPI_Send from a library that calls it; allreduce:
 *                             every member of every rank calls MPI_Allreduce) inside
 *                             FMP_PARALLEL, or inside a run of a persistent team
 *
 * Each member prints "t_member: member M of rank R pid P" first; the region's call site is
 * printed as "t_member: site FILE LINE" (the persistent team's: where it was created).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <forkmp.h>
#include <forkmp_mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "messages.h"
#include "t_member_lib.h"

typedef struct job {
    int rank, size;
    const char *call;
} job;

static void member_calls(const job *j)
{
    int me = fmp_thread_num();
    fmp_printf("t_member: member %d of rank %d pid %d\n", me, j->rank, (int)getpid());
    fmp_barrier();
    if (strcmp(j->call, "allreduce") == 0) {
        /* every member, as in a port that left the call in the region */
        double one = 1.0, sum = 0.0;
        MPI_Allreduce(&one, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        fmp_printf("t_member: member %d of rank %d: MPI_Allreduce gave %g\n", me, j->rank, sum);
        return;
    }
    if (me != 1 || j->rank != j->size - 1)
        return;
    int x = 42, r = -1;
    if (strcmp(j->call, "send") == 0)
        MPI_Send(&x, 1, MPI_INT, 0, 7, MPI_COMM_WORLD);
    else if (strcmp(j->call, "rank") == 0)
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    else if (strcmp(j->call, "wtime") == 0)
        fmp_printf("t_member: MPI_Wtime %g\n", MPI_Wtime());
    else if (strcmp(j->call, "libsend") == 0)
        t_member_lib_send(x);
    fmp_printf("t_member: member %d of rank %d went on after %s (rank %d)\n", me, j->rank, j->call,
               r);
}

static void body(void *arg)
{
    member_calls(arg);
}

/* The master's MPI calls inside and outside regions; 0 when all gave what they should. */
static int master_calls(const job *j)
{
    int bad = 0, r = -1;
    long sum = 0;
    double t0 = MPI_Wtime();
    FMP_PARALLEL(2) {
        FMP_MASTER {
            long mine = j->rank + 1;
            MPI_Comm_rank(MPI_COMM_WORLD, &r);
            MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        }
        fmp_barrier();
    }
    bad |= r != j->rank || sum != (long)j->size * (j->size + 1) / 2;
    int got = -1;
    if (j->size > 1 && j->rank == 0)
        MPI_Recv(&got, 1, MPI_INT, 1, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    else if (j->rank == 1)
        t_member_lib_send(1000 + j->rank); /* MPI_Send from a library, by the master */
    if (j->size > 1 && j->rank == 0)
        bad |= got != 1001;
    double t1 = MPI_Wtime();
    bad |= !(t1 >= t0) || MPI_Wtick() <= 0.0;
    printf("t_member: rank %d: master's calls %s (rank %d, sum %ld, got %d)\n", j->rank,
           bad ? "WRONG" : "right", r, sum, got);
    return bad;
}

static const char *where(void *fn)
{
    Dl_info info;
    return dladdr(fn, &info) && info.dli_fname ? info.dli_fname : "?";
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "formats") == 0) {
        printf("%s\n%s\n%s\n", FMP__MSG_rank_prefix, FMP__MSG_member_of, FMP__MSG_mpi_member_call);
        return 0;
    }
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: t_member formats|resolve|master|CALL [persistent]\n");
        return 2;
    }
    job j = {0, 0, argv[1]};
    int persistent = argc == 3 && strcmp(argv[2], "persistent") == 0;
    fmp_team *team = NULL;
    if (persistent) {
        printf("t_member: site %s %d\n", __FILE__, __LINE__ + 1);
        team = fmp_team_create(2);
        if (!team) {
            perror("fmp_team_create");
            return 1;
        }
    }
    MPI_Init(&argc, &argv);
    fmp_mpi_init(MPI_COMM_WORLD);
    MPI_Comm_rank(MPI_COMM_WORLD, &j.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &j.size);
    int rc = 0;
    if (strcmp(j.call, "resolve") == 0) {
        printf("t_member: program's MPI_Send in %s\n", where((void *)MPI_Send));
        printf("t_member: library's MPI_Send in %s\n", where(t_member_lib_send_fn()));
    } else if (strcmp(j.call, "master") == 0) {
        rc = master_calls(&j);
    } else if (team) {
        rc = fmp_team_run(team, body, &j, sizeof j);
    } else {
        printf("t_member: site %s %d\n", __FILE__, __LINE__ + 1);
        FMP_PARALLEL(2) {
            member_calls(&j);
        }
        rc = fmp_region_error();
    }
    printf("t_member: rank %d: the region returned %d\n", j.rank, rc);
    fflush(stdout);
    if (team)
        fmp_team_destroy(team);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Finalize();
    return rc != 0;
}
