/*
 * t_forksafe: the fork-safety verdict of fmp_mpi_init for fabrics this machine does not
 * have, from made-up /proc/self/maps texts, environments and libibverbs answers
 * (src/mpi/forksafe.c is compiled in), and the real check on this machine (shared
 * memory and TCP: nothing to say).  Needs no mpirun.  Exit 0 when every case holds.
 */
#include <stdio.h>
#include <string.h>

#include "mpi/hybrid.h"

static const char *const *g_env; /* NAME=VALUE strings, NULL-terminated */
static int g_fails, g_checks;

static const char *fake_getenv(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = g_env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

#define VADER "7f00-7f01 r-xp 0 0:0 1 /usr/lib/openmpi/mca_btl_vader.so\n" \
              "7f01-7f02 r-xp 0 0:0 1 /usr/lib/openmpi/mca_btl_tcp.so\n"
#define VERBS "7f03-7f04 r-xp 0 0:0 1 /usr/lib/x86_64-linux-gnu/libibverbs.so.1.14.44.0\n"
#define UCX "7f05-7f06 r-xp 0 0:0 1 /usr/lib/libucp.so.0.0.0\n" \
            "7f06-7f07 r-xp 0 0:0 1 /usr/lib/openmpi/mca_pml_ucx.so\n"
#define EFA "7f08-7f09 r-xp 0 0:0 1 /usr/lib/x86_64-linux-gnu/libefa.so.1.2.44.0\n" \
            "7f09-7f0a r-xp 0 0:0 1 /opt/amazon/efa/lib/libfabric.so.1\n"

static void expect(const char *what, const char *maps, const char *const *env, int ibv,
                   int want, const char *must_say)
{
    char advice[1024] = "";
    g_env = env;
    int got = fmp__mpi_fork_verdict(maps, fake_getenv, ibv, "Test MPI v1.0", advice,
                                    sizeof advice);
    g_checks++;
    if (got != want || (must_say && !strstr(advice, must_say)) || (!want && advice[0])) {
        printf("FAIL: %s: verdict %d (expected %d), advice: %s\n", what, got, want,
               advice[0] ? advice : "(none)");
        g_fails++;
    } else {
        printf("ok: %s%s%s\n", what, advice[0] ? ": " : "", advice);
    }
}

int main(void)
{
    static const char *const none[] = {NULL};
    static const char *const rdmav[] = {"RDMAV_FORK_SAFE=1", NULL};
    static const char *const ibv_safe[] = {"IBV_FORK_SAFE=", NULL};
    static const char *const ucx_no[] = {"UCX_IB_FORK_INIT=no", NULL};
    static const char *const ucx_yes[] = {"UCX_IB_FORK_INIT=y", NULL};
    static const char *const efa_safe[] = {"FI_EFA_FORK_SAFE=1", NULL};
    static const char *const efa_zero[] = {"FI_EFA_FORK_SAFE=0", NULL};
    enum { U = FMP__IBV_UNKNOWN, D = FMP__IBV_DISABLED, E = FMP__IBV_ENABLED,
           N = FMP__IBV_UNNEEDED };

    expect("shared memory and TCP", VADER, none, U, 0, NULL);
    expect("no maps at all", NULL, none, U, 0, NULL);
    expect("verbs, kernel copies DMA pages at fork", VADER VERBS, none, N, 0, NULL);
    expect("verbs, fork support on", VADER VERBS, none, E, 0, NULL);
    expect("verbs, fork support off", VADER VERBS, none, D, FMP__FORK_VERBS,
           "Set RDMAV_FORK_SAFE=1 in the job's environment");
    expect("verbs, fork support off: names the MPI library", VADER VERBS, none, D,
           FMP__FORK_VERBS, "Test MPI v1.0 uses InfiniBand/RoCE verbs");
    expect("verbs, fork support off: mpirun option", VADER VERBS, none, D, FMP__FORK_VERBS,
           "mpirun -x RDMAV_FORK_SAFE=1");
    expect("verbs, fork support off: the safe arrangement", VADER VERBS, none, D,
           FMP__FORK_VERBS, "fmp_team_create() before MPI_Init");
    expect("UCX over verbs, fork support off", VADER VERBS UCX, none, D, FMP__FORK_VERBS,
           "UCX_IB_FORK_INIT=y");
    expect("old libibverbs, RDMAV_FORK_SAFE set", VADER VERBS, rdmav, U, 0, NULL);
    expect("old libibverbs, IBV_FORK_SAFE set (empty)", VADER VERBS, ibv_safe, U, 0, NULL);
    expect("old libibverbs, nothing set", VADER VERBS, none, U, FMP__FORK_VERBS,
           "RDMAV_FORK_SAFE=1");
    expect("old libibverbs, UCX with its default fork init", VADER VERBS UCX, none, U, 0, NULL);
    expect("old libibverbs, UCX_IB_FORK_INIT=y", VADER VERBS UCX, ucx_yes, U, 0, NULL);
    expect("old libibverbs, UCX_IB_FORK_INIT=no", VADER VERBS UCX, ucx_no, U, FMP__FORK_VERBS,
           "UCX_IB_FORK_INIT=y");
    expect("UCX over shared memory only", VADER UCX, none, U, 0, NULL);
    expect("EFA without FI_EFA_FORK_SAFE", VERBS EFA, none, E, FMP__FORK_EFA,
           "FI_EFA_FORK_SAFE=1");
    expect("EFA without FI_EFA_FORK_SAFE: says it aborts", VERBS EFA, none, E, FMP__FORK_EFA,
           "aborts the process");
    expect("EFA with FI_EFA_FORK_SAFE=0", VERBS EFA, efa_zero, E, FMP__FORK_EFA,
           "FI_EFA_FORK_SAFE=1");
    expect("EFA with FI_EFA_FORK_SAFE=1", VERBS EFA, efa_safe, E, 0, NULL);
    expect("EFA, kernel copies DMA pages at fork", VERBS EFA, none, N, 0, NULL);
    expect("EFA and verbs both off", VERBS EFA, none, D, FMP__FORK_VERBS | FMP__FORK_EFA,
           "RDMAV_FORK_SAFE=1 and FI_EFA_FORK_SAFE=1");

    /* this machine, as it is */
    char advice[1024] = "";
    int here = fmp__mpi_fork_check(advice, sizeof advice);
    g_checks++;
    printf("%s: this machine: verdict %d%s%s\n", here ? "FAIL" : "ok", here,
           advice[0] ? ", " : "", advice);
    g_fails += here != 0;

    printf("t_forksafe: %d checks, %d failures\n", g_checks, g_fails);
    return g_fails ? 1 : 0;
}
