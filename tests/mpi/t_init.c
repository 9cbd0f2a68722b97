/*
 * t_init: fmp_mpi_init's node awareness and team sizing, and what members start with.
 *
 *   t_init [--expect-team N | --expect-team auto] [--preinit] [--fork N]
 *
 * Every rank checks, against what it finds itself (host names gathered with MPI, cpusets
 * with sched_getaffinity):
 * - fmp_mpi_get_local_rank / _local_size / _node_num / _num_nodes: the ranks that share a
 *   host name form one node (MPI_COMM_TYPE_SHARED), numbered in the order of their lowest
 *   rank;
 * - the default team size fmp_get_max_threads(): N, or with "auto" the cpus of the rank's
 *   cpuset shared among the ranks of its node that have the same cpuset;
 * - --fork N: a region of N members (0: the default size): every member sees
 *   OMP_NUM_THREADS=1 and the BLAS thread variables at 1, and knows its rank's node;
 * - --preinit: a team created before MPI_Init with fmp_mpi_preinit_num_threads() members:
 *   the same checks on its members, which hold no MPI state.
 * Prints one line per rank, "t_init: rank R host H node N/NN local L/S team T";
 * exits 1 after printing what differed.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_* */
#include <forkmp.h>
#include <forkmp_mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_fails;
static long *g_member_fails;

#define EXPECT(cond, ...)                                                                \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "t_init: FAIL: " __VA_ARGS__);                               \
            g_fails++;                                                                   \
        }                                                                                \
    } while (0)

/* In every member: the thread variables a child starts with. */
static void check_env(void *arg)
{
    (void)arg;
    static const char *const vars[] = {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                       "MKL_NUM_THREADS", "BLIS_NUM_THREADS"};
    if (fmp_thread_num() == 0)
        return; /* the master keeps the job's settings */
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (!v || strcmp(v, "1") != 0) {
            fmp_printf("t_init: FAIL: member %d: %s=%s, not 1\n", fmp_thread_num(), vars[i],
                       v ? v : "(unset)");
            __atomic_fetch_add(g_member_fails, 1, __ATOMIC_RELAXED);
        }
    }
}

int main(int argc, char **argv)
{
    int expect = -1, preinit = 0, fork_n = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expect-team") == 0 && i + 1 < argc) {
            i++;
            expect = strcmp(argv[i], "auto") == 0 ? 0 : atoi(argv[i]);
        } else if (strcmp(argv[i], "--preinit") == 0) {
            preinit = 1;
        } else if (strcmp(argv[i], "--fork") == 0 && i + 1 < argc) {
            fork_n = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: t_init [--expect-team N|auto] [--preinit] [--fork N]\n");
            return 2;
        }
    }
    g_member_fails = fmp_shared_alloc(sizeof *g_member_fails);
    fmp_team *team = NULL;
    int guess = 0;
    if (preinit) {
        guess = fmp_mpi_preinit_num_threads();
        team = fmp_team_create(guess);
        if (!team) {
            perror("fmp_team_create");
            return 1;
        }
    }
    MPI_Init(&argc, &argv);
    int rc = fmp_mpi_init(MPI_COMM_WORLD);
    if (rc) {
        fprintf(stderr, "t_init: fmp_mpi_init: %s\n", fmp_strerror(rc));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    /* host names and cpusets of every rank */
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    char *hosts = calloc((size_t)size, sizeof host);
    cpu_set_t mine, *sets = calloc((size_t)size, sizeof(cpu_set_t));
    CPU_ZERO(&mine);
    sched_getaffinity(0, sizeof mine, &mine);
    MPI_Allgather(host, sizeof host, MPI_CHAR, hosts, sizeof host, MPI_CHAR, MPI_COMM_WORLD);
    MPI_Allgather(&mine, sizeof mine, MPI_BYTE, sets, sizeof mine, MPI_BYTE, MPI_COMM_WORLD);

    int lrank = 0, lsize = 0, nodes = 0, node = -1, same = 0, idx = 0;
    for (int r = 0; r < size; r++) {
        const char *h = hosts + (size_t)r * sizeof host;
        int first = 1; /* r is the lowest rank of its host: a new node */
        for (int q = 0; q < r; q++)
            if (strcmp(hosts + (size_t)q * sizeof host, h) == 0)
                first = 0;
        if (first && strcmp(h, host) == 0)
            node = nodes;
        nodes += first;
        if (strcmp(h, host) == 0) {
            if (r < rank)
                lrank++;
            lsize++;
            if (CPU_EQUAL(&sets[r], &mine)) {
                if (r < rank)
                    idx++;
                same++;
            }
        }
    }
    EXPECT(fmp_mpi_get_local_rank() == lrank, "rank %d: local rank %d, expected %d\n", rank,
           fmp_mpi_get_local_rank(), lrank);
    EXPECT(fmp_mpi_get_local_size() == lsize, "rank %d: local size %d, expected %d\n", rank,
           fmp_mpi_get_local_size(), lsize);
    EXPECT(fmp_mpi_get_node_num() == node, "rank %d: node %d, expected %d\n", rank,
           fmp_mpi_get_node_num(), node);
    EXPECT(fmp_mpi_get_num_nodes() == nodes, "rank %d: %d nodes, expected %d\n", rank,
           fmp_mpi_get_num_nodes(), nodes);

    int team_size = fmp_get_max_threads();
    if (expect == 0) {
        int pus = CPU_COUNT(&mine);
        expect = pus / same + (idx < pus % same);
        if (expect < 1)
            expect = 1;
    }
    if (expect > 0)
        EXPECT(team_size == expect, "rank %d: default team size %d, expected %d\n", rank,
               team_size, expect);

    if (fork_n >= 0) {
        rc = fmp_parallel(fork_n, check_env, NULL);
        EXPECT(rc == 0, "rank %d: region: %s\n", rank, fmp_strerror(rc));
    }
    if (team) {
        rc = fmp_team_run(team, check_env, NULL, 0);
        EXPECT(rc == 0, "rank %d: run of the team created before MPI_Init: %s\n", rank,
               fmp_strerror(rc));
        fmp_team_destroy(team);
    }
    EXPECT(*g_member_fails == 0, "rank %d: %ld members saw wrong thread variables\n", rank,
           *g_member_fails);

    printf("t_init: rank %d host %s node %d/%d local %d/%d team %d%s\n", rank, host,
           fmp_mpi_get_node_num(), fmp_mpi_get_num_nodes(), fmp_mpi_get_local_rank(),
           fmp_mpi_get_local_size(), team_size, preinit ? " (created before MPI_Init)" : "");
    if (preinit)
        printf("t_init: rank %d preinit guess %d\n", rank, guess);
    int total = 0;
    MPI_Allreduce(&g_fails, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    free(hosts);
    free(sets);
    MPI_Finalize();
    return total ? 1 : 0;
}
