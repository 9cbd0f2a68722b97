/*
 * t_census: the node's census of live members under mpirun (src/census.c,
 * src/mpi/census.c), seen through the core's table of hooks.
 *
 *   t_census [--preinit M] [--team M] [--kill] [--grow G] [--abort]
 *
 * Every rank:
 * - --preinit M: creates a persistent team of M before MPI_Init (its members never map
 *   the node's segment);
 * - after fmp_mpi_init: the census is the node's sum, each rank counting 1 plus the
 *   members of its live teams; the verdict (census_throttled) is "live > the cpus of the
 *   node's ranks" (the union of their affinity masks, gathered here with MPI), in the
 *   rank and, through a team run, in the preinit team's members;
 * - --team M: a persistent team of M on every rank: the sum goes up by (M - 1) per rank
 *   while the teams run, is back down while they are idle (their members asleep between
 *   runs take no cpu), and stays down when the teams are destroyed;
 * - --kill: a run of that team where member 1 is killed (SIGKILL): after the failed
 *   run the rank counts only itself again;
 * - --grow G: fmp_set_num_threads(G) and a region of that size on every rank (the
 *   warning oversubscribed_grown is the script's to count);
 * - --abort: rank 1 aborts after fmp_mpi_init (the job ends abnormally).
 * With FMP_SPIN_COUNT or FMP_WAIT_POLICY=active in the environment the verdict is 0
 * throughout (explicit settings win).
 * Under Open MPI, with no more ranks than cpus on the node and mpi_yield_when_idle not
 * given, the rank's progress loop yields (opal_progress_yield_when_idle) exactly while
 * the verdict holds: after fmp_mpi_init, with the teams, after them.
 * Rank 0 prints "t_census: node cpus C live L" after fmp_mpi_init; exits 1 after printing
 * what differed.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_* */
#include "internal.h"

#include <dlfcn.h>
#include <forkmp.h>
#include <forkmp_mpi.h>
#include <stdbool.h>
#include <mpi.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_fails;
static const struct fmp__ops *g_ops;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "t_census: FAIL: " __VA_ARGS__);                                       \
            g_fails++;                                                                             \
        }                                                                                          \
    } while (0)

/* the verdict each member sees, into a shared array */
static void verdicts(void *arg)
{
    int *v = *(int **)arg;
    v[fmp_thread_num()] = g_ops->census_throttled();
}

static void killer(void *arg)
{
    (void)arg;
    if (fmp_thread_num() == 1)
        raise(SIGKILL);
    fmp_barrier();
}

/* FMP_SPIN_COUNT or FMP_WAIT_POLICY=active given: explicit settings win, nothing is
   throttled and MPI does not yield */
static int g_explicit, g_active;
#define OVER(live, cpus) (!g_explicit && (live) > (cpus))

/* Open MPI's yield flag, when this is Open MPI and forkmp may set it (else NULL) */
static const bool *g_yield;

static void check_yield(int rank, int want, const char *when)
{
    if (g_yield)
        EXPECT(*g_yield == (want != 0), "rank %d: MPI yields %d %s, not %d\n", rank, *g_yield, when,
               want);
}

/* A run of every rank's team: once all of them are awake (each member past a barrier,
   each rank past an MPI barrier), the node counts them all. */
typedef struct running {
    int rank, more, cpus;
} running;

static void run_teams(void *arg)
{
    const running *r = arg;
    fmp_barrier();
    if (fmp_thread_num() == 0) {
        MPI_Barrier(MPI_COMM_WORLD);
        int live = g_ops->census_live();
        EXPECT(live == r->more, "rank %d: the node counts %d processes with the teams, not %d\n",
               r->rank, live, r->more);
        EXPECT(g_ops->census_throttled() == OVER(r->more, r->cpus),
               "rank %d: verdict %d for %d on %d cpus\n", r->rank, g_ops->census_throttled(),
               r->more, r->cpus);
        check_yield(r->rank, OVER(r->more, r->cpus), "with the teams");
        MPI_Barrier(MPI_COMM_WORLD); /* every rank looked before any team goes idle */
    }
    fmp_barrier();
}

/* Poll until the node's count is want (idle members fall asleep after their spins); 1 if
   it came within 10 s. */
static int count_comes_to(int want)
{
    for (int i = 0; i < 10000; i++) {
        if (g_ops->census_live() == want)
            return 1;
        usleep(1000);
    }
    return 0;
}

/* the cpus of the node's ranks: the union of their masks */
static int node_cpus(MPI_Comm node)
{
    cpu_set_t mine, all;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof mine, &mine) != 0)
        return -1;
    MPI_Allreduce(&mine, &all, (int)sizeof all, MPI_BYTE, MPI_BOR, node);
    return CPU_COUNT(&all);
}

int main(int argc, char **argv)
{
    int preinit = 0, team = 0, kill_one = 0, grow = 0, abort_one = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--preinit") && i + 1 < argc)
            preinit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--team") && i + 1 < argc)
            team = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--grow") && i + 1 < argc)
            grow = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--kill"))
            kill_one = 1;
        else if (!strcmp(argv[i], "--abort"))
            abort_one = 1;
        else {
            fprintf(stderr, "usage: t_census [--preinit M] [--team M] [--kill] [--grow G] "
                            "[--abort]\n");
            return 2;
        }
    }
    g_ops = fmp__internal_ops(FMP__OPS_ABI);
    if (!g_ops) {
        fprintf(stderr, "t_census: FAIL: libforkmp of another build\n");
        return 1;
    }
    const char *policy = getenv("FMP_WAIT_POLICY");
    g_active = policy && !strcmp(policy, "active");
    g_explicit = getenv("FMP_SPIN_COUNT") || g_active;
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    fmp_team *pre = NULL;
    if (preinit > 1 && !(pre = fmp_team_create(preinit))) {
        perror("t_census: fmp_team_create");
        return 1;
    }
    MPI_Init(&argc, &argv);
    int rank, lsize;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (fmp_mpi_init(MPI_COMM_WORLD) != 0) {
        fprintf(stderr, "t_census: FAIL: fmp_mpi_init\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &lsize);
    int cpus = node_cpus(node);
    if (lsize <= cpus && !getenv("OMPI_MCA_mpi_yield_when_idle"))
        g_yield = dlsym(RTLD_DEFAULT, "opal_progress_yield_when_idle");
    int per = preinit > 1 ? preinit : 1; /* this rank's processes */
    int want = per * lsize;              /* every rank runs the same */
    int live = g_ops->census_live();
    if (rank == 0)
        printf("t_census: node cpus %d live %d\n", cpus, live);
    EXPECT(live == want, "rank %d: the node counts %d processes, not %d\n", rank, live, want);
    EXPECT(g_ops->census_throttled() == OVER(want, cpus), "rank %d: verdict %d for %d on %d cpus\n",
           rank, g_ops->census_throttled(), want, cpus);
    check_yield(rank, OVER(want, cpus), "after fmp_mpi_init");
    if (pre) {
        int *v = fmp_shared_alloc((size_t)preinit * sizeof *v);
        EXPECT(fmp_team_run(pre, verdicts, &v, sizeof v) == 0, "rank %d: run failed\n", rank);
        for (int m = 0; m < preinit; m++)
            EXPECT(v[m] == OVER(want, cpus), "rank %d: member %d's verdict %d for %d on %d cpus\n",
                   rank, m, v[m], want, cpus);
        fmp_shared_free(v);
    }
    MPI_Barrier(MPI_COMM_WORLD); /* every rank looked before any changes the count */
    if (abort_one && rank == 1)
        abort();
    if (team > 1) {
        fmp_team *t = fmp_team_create(team);
        EXPECT(t != NULL, "rank %d: fmp_team_create(%d)\n", rank, team);
        running r = {rank, want + (team - 1) * lsize, cpus};
        if (t)
            EXPECT(fmp_team_run(t, run_teams, &r, sizeof r) == 0, "rank %d: run failed\n", rank);
        /* idle: asleep between runs, the members take no cpu and leave the count (with
           FMP_WAIT_POLICY=active they spin and stay on it) */
        int idle = g_active ? r.more : want;
        EXPECT(count_comes_to(idle),
               "rank %d: the node counts %d processes with the teams idle, not %d\n", rank,
               g_ops->census_live(), idle);
        check_yield(rank, OVER(idle, cpus), "with the teams idle");
        MPI_Barrier(MPI_COMM_WORLD);
        if (kill_one && t) {
            EXPECT(fmp_team_run(t, killer, NULL, 0) != 0, "rank %d: the killed run succeeded\n",
                   rank);
            fmp_team_destroy(t); /* its members were reaped by the failed run: the handle */
            t = NULL;
        }
        if (t)
            EXPECT(fmp_team_destroy(t) == 0, "rank %d: fmp_team_destroy\n", rank);
        MPI_Barrier(MPI_COMM_WORLD);
        live = g_ops->census_live();
        EXPECT(live == want, "rank %d: the node counts %d processes after the teams, not %d\n",
               rank, live, want);
        check_yield(rank, OVER(want, cpus), "after the teams");
        MPI_Barrier(MPI_COMM_WORLD);
    }
    if (grow > 1) {
        fmp_set_num_threads(grow);
        FMP_PARALLEL(0) {
            fmp_barrier();
        }
        EXPECT(fmp_region_error() == 0, "rank %d: the region of %d failed\n", rank, grow);
    }
    if (pre)
        fmp_team_destroy(pre);
    MPI_Comm_free(&node);
    int fails = g_fails, any = 0;
    MPI_Allreduce(&fails, &any, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();
    return any ? 1 : 0;
}
