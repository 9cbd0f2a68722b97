/* test_regions: FMP_PARALLEL / fmp_parallel teams, their numbering, their queries, nprocs 1
 * and false conditions without fork, nesting, the thread limit and the default team size.
 * Records are kept in memory of the harness (ht_shared), not forkmp's arena, so that these
 * tests do not depend on fmp_shared_alloc. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MAXM 64

typedef struct rec {
    int seen[MAXM];
    pid_t pid[MAXM];
    pid_t ppid[MAXM];
    int nthreads[MAXM];
    int count;
} rec;

static int distinct_pids(const pid_t *p, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (p[i] == p[j])
                return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------ */

static void test_member_numbering(void)
{
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL(4) {
        int me = fmp_thread_num();
        if (HT_CHECK_MSG(me >= 0 && me < 4, "member number %d out of [0, 4)", me)) {
            ht_atomic_add(&r->seen[me], 1);
            r->pid[me] = getpid();
            r->nthreads[me] = fmp_num_threads();
        }
    }
    for (int m = 0; m < 4; m++) {
        HT_CHECK_MSG(r->seen[m] == 1, "member %d ran the body %d times", m, r->seen[m]);
        HT_CHECK_INT_EQ(r->nthreads[m], 4);
    }
    HT_CHECK_INT_EQ(r->pid[0], getpid());
    HT_CHECK_MSG(distinct_pids(r->pid, 4), "the 4 members are not 4 processes");
    /* warm members stay parked for the next region until released; forked ones are gone */
    fmp_warm_release();
    for (int m = 1; m < 4; m++)
        HT_CHECK_MSG(!ht_pid_alive(r->pid[m]), "member %d (pid %d) is alive after the join", m,
                     (int)r->pid[m]);
    HT_CHECK_INT_EQ(fmp_thread_num(), 0);
    HT_CHECK_INT_EQ(fmp_num_threads(), 1);
}

static int g_private_global;

static void test_master_keeps_private_writes(void)
{
    int local = 0;
    int arr[4] = { 0, 0, 0, 0 };
    g_private_global = 0;
    FMP_PARALLEL(4) {
        int me = fmp_thread_num();
        local = 100 + me;
        arr[me] = 1;
        g_private_global = me + 1;
    }
    HT_CHECK_INT_EQ(local, 100);
    HT_CHECK_INT_EQ(g_private_global, 1);
    HT_CHECK_INT_EQ(arr[0], 1);
    for (int m = 1; m < 4; m++)
        HT_CHECK_MSG(arr[m] == 0, "member %d's private write reached the master", m);
}

static void test_queries(void)
{
    HT_CHECK_INT_EQ(fmp_thread_num(), 0);
    HT_CHECK_INT_EQ(fmp_num_threads(), 1);
    HT_CHECK_INT_EQ(fmp_in_parallel(), 0);
    HT_CHECK_INT_EQ(fmp_get_level(), 0);
    HT_CHECK_INT_EQ(fmp_get_active_level(), 0);
    HT_CHECK_INT_EQ(fmp_get_ancestor_thread_num(0), 0);
    HT_CHECK_INT_EQ(fmp_get_team_size(0), 1);
    HT_CHECK_INT_EQ(fmp_get_ancestor_thread_num(1), -1);
    HT_CHECK_INT_EQ(fmp_get_team_size(1), -1);
    HT_CHECK_INT_EQ(fmp_get_ancestor_thread_num(-1), -1);
    HT_CHECK_INT_EQ(fmp_get_team_size(-1), -1);
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        HT_CHECK_INT_EQ(fmp_num_threads(), 3);
        HT_CHECK_INT_EQ(fmp_in_parallel(), 1);
        HT_CHECK_INT_EQ(fmp_get_level(), 1);
        HT_CHECK_INT_EQ(fmp_get_active_level(), 1);
        HT_CHECK_INT_EQ(fmp_get_ancestor_thread_num(1), me);
        HT_CHECK_INT_EQ(fmp_get_ancestor_thread_num(0), 0);
        HT_CHECK_INT_EQ(fmp_get_team_size(1), 3);
        HT_CHECK_INT_EQ(fmp_get_team_size(0), 1);
        HT_CHECK_INT_EQ(fmp_get_team_size(2), -1);
        HT_CHECK_INT_EQ(fmp_get_ancestor_thread_num(2), -1);
        ht_atomic_add(&r->count, 1);
    }
    HT_CHECK_INT_EQ(r->count, 3);
    /* and back to the values outside any region */
    HT_CHECK_INT_EQ(fmp_get_level(), 0);
    HT_CHECK_INT_EQ(fmp_in_parallel(), 0);
    HT_CHECK_INT_EQ(fmp_num_threads(), 1);
    HT_CHECK_INT_EQ(fmp_get_team_size(1), -1);
}

typedef struct body_arg {
    pid_t caller;
    int runs;       /* private: only a run in the caller is seen after */
    int magic;
    rec *r;
} body_arg;

static void count_body(void *p)
{
    body_arg *a = p;
    HT_CHECK_INT_EQ(a->magic, 42);
    a->runs++;
    int me = fmp_thread_num();
    if (me >= 0 && me < MAXM) {
        ht_atomic_add(&a->r->seen[me], 1);
        a->r->pid[me] = getpid();
        a->r->nthreads[me] = fmp_num_threads();
    }
}

static void test_one_member_runs_without_fork(void)
{
    pid_t self = getpid();
    int runs = 0;
    FMP_PARALLEL(1) {
        HT_CHECK_INT_EQ(getpid(), self);
        HT_CHECK_INT_EQ(fmp_num_threads(), 1);
        HT_CHECK_INT_EQ(fmp_thread_num(), 0);
        HT_CHECK_INT_EQ(fmp_in_parallel(), 0);
        HT_CHECK_INT_EQ(fmp_get_level(), 1); /* an inactive region is a level */
        runs++;
    }
    HT_CHECK_INT_EQ(runs, 1); /* the body ran in the caller: its private write stays */

    runs = 0;
    FMP_PARALLEL_IF(4, 0) {
        HT_CHECK_INT_EQ(getpid(), self);
        HT_CHECK_INT_EQ(fmp_num_threads(), 1);
        runs++;
    }
    HT_CHECK_INT_EQ(runs, 1);

    body_arg a = { self, 0, 42, ht_shared(sizeof(rec)) };
    HT_CHECK_INT_EQ(fmp_parallel(1, count_body, &a), FMP_OK);
    HT_CHECK_INT_EQ(a.runs, 1);
    HT_CHECK_INT_EQ(a.r->pid[0], self);
    HT_CHECK_INT_EQ(fmp_parallel_if(4, 0, count_body, &a), FMP_OK);
    HT_CHECK_INT_EQ(a.runs, 2);
    HT_CHECK_INT_EQ(a.r->seen[0], 2);
    for (int m = 1; m < MAXM; m++)
        HT_CHECK_MSG(a.r->seen[m] == 0, "member %d exists in a team of one", m);
    HT_CHECK_INT_EQ(ht_children_of(self, NULL, 0), 0);

    /* the control: a true condition forks */
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL_IF(2, 1) {
        r->pid[fmp_thread_num()] = getpid();
    }
    HT_CHECK_INT_EQ(r->pid[0], self);
    HT_CHECK_MSG(r->pid[1] != 0 && r->pid[1] != self,
                 "FMP_PARALLEL_IF(2, 1) did not fork member 1 (pid %d)", (int)r->pid[1]);
}

static void test_nested_off_by_default(void)
{
    HT_CHECK_INT_EQ(fmp_get_nested(), 0);
    HT_CHECK_INT_EQ(fmp_get_max_active_levels(), 1);
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL(2) {
        int outer = fmp_thread_num();
        pid_t outer_pid = getpid();
        FMP_PARALLEL(3) {
            HT_CHECK_INT_EQ(getpid(), outer_pid);
            HT_CHECK_INT_EQ(fmp_num_threads(), 1);
            HT_CHECK_INT_EQ(fmp_thread_num(), 0);
            HT_CHECK_INT_EQ(fmp_get_level(), 2);
            HT_CHECK_INT_EQ(fmp_get_active_level(), 1);
            HT_CHECK_INT_EQ(fmp_get_ancestor_thread_num(1), outer);
            HT_CHECK_INT_EQ(fmp_get_team_size(1), 2);
            HT_CHECK_INT_EQ(fmp_get_team_size(2), 1);
            HT_CHECK_INT_EQ(fmp_in_parallel(), 1); /* inside the active outer region */
            ht_atomic_add(&r->count, 1);
        }
        HT_CHECK_INT_EQ(fmp_get_level(), 1);
        HT_CHECK_INT_EQ(fmp_num_threads(), 2);
        HT_CHECK_INT_EQ(fmp_thread_num(), outer);
    }
    HT_CHECK_INT_EQ(r->count, 2);
}

static void test_nested_on(void)
{
    fmp_set_nested(1);
    HT_CHECK_INT_EQ(fmp_get_nested(), 1);
    rec *r = ht_shared(sizeof *r);
    rec *outer_pids = ht_shared(sizeof *outer_pids);
    FMP_PARALLEL(2) {
        int o = fmp_thread_num();
        pid_t opid = getpid();
        outer_pids->pid[o] = opid;
        FMP_PARALLEL(3) {
            int i = fmp_thread_num();
            int k = o * 3 + i;
            ht_atomic_add(&r->seen[k], 1);
            r->pid[k] = getpid();
            r->ppid[k] = getppid();
            r->nthreads[k] = fmp_num_threads();
            HT_CHECK_INT_EQ(fmp_get_level(), 2);
            HT_CHECK_INT_EQ(fmp_get_active_level(), 2);
            HT_CHECK_INT_EQ(fmp_get_ancestor_thread_num(1), o);
            HT_CHECK_INT_EQ(fmp_get_ancestor_thread_num(2), i);
            HT_CHECK_INT_EQ(fmp_get_team_size(1), 2);
            HT_CHECK_INT_EQ(fmp_get_team_size(2), 3);
            if (i == 0)
                HT_CHECK_INT_EQ(getpid(), opid);
        }
        HT_CHECK_INT_EQ(fmp_get_level(), 1);
        HT_CHECK_INT_EQ(fmp_thread_num(), o);
    }
    for (int k = 0; k < 6; k++) {
        HT_CHECK_MSG(r->seen[k] == 1, "inner member %d of outer member %d ran %d times", k % 3,
                     k / 3, r->seen[k]);
        HT_CHECK_INT_EQ(r->nthreads[k], 3);
        if (k % 3 != 0)
            HT_CHECK_MSG(r->ppid[k] == outer_pids->pid[k / 3],
                         "inner member %d of outer member %d: parent %d, expected the outer "
                         "member %d",
                         k % 3, k / 3, (int)r->ppid[k], (int)outer_pids->pid[k / 3]);
    }
    pid_t inner_forked[4] = { r->pid[1], r->pid[2], r->pid[4], r->pid[5] };
    pid_t all[6] = { outer_pids->pid[0], outer_pids->pid[1], r->pid[1], r->pid[2], r->pid[4],
                     r->pid[5] };
    HT_CHECK_MSG(distinct_pids(all, 6), "nested teams: 6 processes expected, pids repeat");
    HT_CHECK_INT_EQ(ht_wait_pids_gone(inner_forked, 4, 0), 0);
}

static void test_thread_limit_caps_teams(void)
{
    setenv("FMP_THREAD_LIMIT", "4", 1);
    HT_CHECK_INT_EQ(fmp_get_thread_limit(), 4);
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL(8) {
        r->nthreads[fmp_thread_num()] = fmp_num_threads();
        ht_atomic_add(&r->count, 1);
    }
    HT_CHECK_INT_EQ(r->count, 4);
    HT_CHECK_INT_EQ(r->nthreads[0], 4);

    /* nested: every process of the rank counts */
    fmp_set_nested(1);
    rec *n = ht_shared(sizeof *n);
    FMP_PARALLEL(2) {
        int o = fmp_thread_num();
        FMP_PARALLEL(4) {
            int i = fmp_thread_num();
            if (i < 8) {
                n->pid[o * 8 + i] = getpid();
                n->nthreads[o] = fmp_num_threads();
            }
            ht_atomic_add(&n->count, 1);
        }
    }
    int procs = 0;
    for (int k = 0; k < 16; k++)
        procs += n->pid[k] != 0;
    HT_CHECK_MSG(procs <= 4, "%d processes in nested teams under FMP_THREAD_LIMIT=4", procs);
    HT_CHECK_MSG(n->nthreads[0] >= 1 && n->nthreads[0] * 2 <= 4,
                 "inner team of %d under an outer team of 2 with FMP_THREAD_LIMIT=4",
                 n->nthreads[0]);
    HT_CHECK_INT_EQ(n->count, procs);
}

static void test_default_size_from_env(void)
{
    setenv("FMP_NUM_THREADS", "3", 1);
    setenv("OMP_NUM_THREADS", "2", 1); /* FMP_ wins over its OpenMP alias */
    HT_CHECK_INT_EQ(fmp_get_max_threads(), 3);
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL(0) {
        ht_atomic_add(&r->count, 1);
        r->nthreads[fmp_thread_num()] = fmp_num_threads();
    }
    HT_CHECK_INT_EQ(r->count, 3);
    HT_CHECK_INT_EQ(r->nthreads[0], 3);

    fmp_set_num_threads(5);
    HT_CHECK_INT_EQ(fmp_get_max_threads(), 5);
    r->count = 0;
    HT_CHECK_INT_EQ(fmp_parallel(0, count_body, &(body_arg){ 0, 0, 42, r }), FMP_OK);
    HT_CHECK_INT_EQ(r->nthreads[0], 5);
    int runs = 0;
    for (int m = 0; m < MAXM; m++)
        runs += r->seen[m];
    HT_CHECK_INT_EQ(runs, 5);
}

static void test_default_size_from_omp_alias(void)
{
    setenv("OMP_NUM_THREADS", "2", 1);
    HT_CHECK_INT_EQ(fmp_get_max_threads(), 2);
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL(0) {
        ht_atomic_add(&r->count, 1);
    }
    HT_CHECK_INT_EQ(r->count, 2);
}

/* Restrict the affinity mask to its first k CPUs; returns how many it has now. */
static int restrict_affinity(int k)
{
    cpu_set_t set, mine;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    CPU_ZERO(&mine);
    int got = 0;
    for (int c = 0; c < CPU_SETSIZE && got < k; c++)
        if (CPU_ISSET(c, &set)) {
            CPU_SET(c, &mine);
            got++;
        }
    if (sched_setaffinity(0, sizeof mine, &mine) != 0)
        return -1;
    return got;
}

static void test_default_size_follows_affinity_1cpu(void)
{
    HT_REQUIRE(restrict_affinity(1) == 1);
    pid_t self = getpid();
    HT_CHECK_INT_EQ(fmp_get_max_threads(), 1);
    HT_CHECK_INT_EQ(fmp_get_num_procs(), 1);
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL(0) {
        ht_atomic_add(&r->count, 1);
        HT_CHECK_INT_EQ(getpid(), self);
        HT_CHECK_INT_EQ(fmp_num_threads(), 1);
    }
    HT_CHECK_INT_EQ(r->count, 1);
}

static void test_default_size_follows_affinity_2cpus(void)
{
    cpu_set_t set;
    HT_REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
    if (CPU_COUNT(&set) < 2)
        HT_SKIP("this process may run on one CPU only");
    HT_REQUIRE(restrict_affinity(2) == 2);
    HT_CHECK_INT_EQ(fmp_get_max_threads(), 2);
    HT_CHECK_INT_EQ(fmp_get_num_procs(), 2);
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL(0) {
        ht_atomic_add(&r->count, 1);
    }
    HT_CHECK_INT_EQ(r->count, 2);
}

static void test_num_procs_is_affinity(void)
{
    cpu_set_t set;
    HT_REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
    HT_CHECK_INT_EQ(fmp_get_num_procs(), CPU_COUNT(&set));
    HT_CHECK_INT_EQ(fmp_get_max_threads(), CPU_COUNT(&set));
}

static void test_fmp_parallel_function_body(void)
{
    rec *r = ht_shared(sizeof *r);
    body_arg a = { getpid(), 0, 42, r };
    HT_CHECK_INT_EQ(fmp_parallel(3, count_body, &a), FMP_OK);
    for (int m = 0; m < 3; m++) {
        HT_CHECK_MSG(r->seen[m] == 1, "member %d ran the body %d times", m, r->seen[m]);
        HT_CHECK_INT_EQ(r->nthreads[m], 3);
    }
    HT_CHECK_INT_EQ(r->seen[3], 0);
    HT_CHECK_INT_EQ(a.runs, 1); /* the members' increments of the private copy are lost */
    HT_CHECK_INT_EQ(r->pid[0], getpid());
    HT_CHECK_MSG(distinct_pids(r->pid, 3), "3 members, not 3 processes");
}

static void test_many_members_on_few_cores(void)
{
    enum { N = 16, ROUNDS = 20 };
    rec *r = ht_shared(sizeof *r);
    int *round = ht_shared(sizeof(int) * ROUNDS);
    FMP_PARALLEL(N) {
        int me = fmp_thread_num();
        ht_atomic_add(&r->seen[me], 1);
        for (int k = 0; k < ROUNDS; k++) {
            ht_atomic_add(&round[k], 1);
            HT_CHECK_INT_EQ(fmp_barrier(), FMP_OK);
            int c = ht_atomic_load(&round[k]);
            HT_CHECK_MSG(c == N, "round %d: member %d passed the barrier with %d arrivals", k,
                         me, c);
        }
    }
    for (int m = 0; m < N; m++)
        HT_CHECK_INT_EQ(r->seen[m], 1);
}

static void test_regions_in_sequence(void)
{
    /* many short regions: each joins fully before the next one forks */
    rec *r = ht_shared(sizeof *r);
    for (int k = 0; k < 20; k++) {
        FMP_PARALLEL(2) {
            ht_atomic_add(&r->count, 1);
        }
        HT_CHECK_INT_EQ(ht_children_left(), 0);
    }
    HT_CHECK_INT_EQ(r->count, 40);
}

static const ht_test tests[] = {
    HT_TEST(test_member_numbering),
    HT_TEST(test_master_keeps_private_writes),
    HT_TEST(test_queries),
    HT_TEST(test_one_member_runs_without_fork),
    HT_TEST(test_nested_off_by_default),
    HT_TEST(test_nested_on),
    HT_TEST(test_thread_limit_caps_teams),
    HT_TEST(test_default_size_from_env),
    HT_TEST(test_default_size_from_omp_alias),
    HT_TEST(test_default_size_follows_affinity_1cpu),
    HT_TEST(test_default_size_follows_affinity_2cpus),
    HT_TEST(test_num_procs_is_affinity),
    HT_TEST(test_fmp_parallel_function_body),
    HT_TEST(test_many_members_on_few_cores),
    HT_TEST(test_regions_in_sequence),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "regions", tests);
}
