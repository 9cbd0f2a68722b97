/*
 * t_linger: a program whose team outlives its job script, for tests/mpi/slurm-cluster.sh.
 *
 *   t_linger PIDFILE
 *
 * Creates a persistent team of 2, writes the pids of the master and of the member to
 * PIDFILE (one a line) and sleeps; the job that started it in the background ends
 * first, and Slurm must leave nothing of it behind.
 */
#include <forkmp.h>
#include <stdio.h>
#include <unistd.h>

static int *g_pids;

static void note_pid(void *arg)
{
    (void)arg;
    g_pids[fmp_thread_num()] = (int)getpid();
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: t_linger PIDFILE\n");
        return 2;
    }
    g_pids = fmp_shared_alloc(2 * sizeof *g_pids);
    fmp_team *team = fmp_team_create(2);
    if (!g_pids || !team || fmp_team_run(team, note_pid, NULL, 0) != 0) {
        perror("t_linger");
        return 1;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    for (int m = 0; m < fmp_team_size(team); m++)
        fprintf(f, "%d\n", g_pids[m]);
    fclose(f);
    sleep(600);
    return 0;
}
