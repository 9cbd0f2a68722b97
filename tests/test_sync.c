/* test_sync: barriers, criticals (unnamed and named), FMP_MASTER, FMP_SINGLE and
 * fmp_single(), locks (including a lock whose holder dies), and many members on few
 * cores through many barriers.  Nested locks: mutual exclusion across members at depth,
 * the counts fmp_nest_lock_test returns, contention with more members than cores, a
 * holder that dies, unset by a non-holder, persistent teams and nested regions.  Contended
 * locks: exact counts under contention, a holder that dies while others wait, with nobody
 * waiting (a later acquire is told), or in another team than the waiter's. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "messages.h"

static void test_barrier_separates_rounds(void)
{
    enum { N = 4, ROUNDS = 50 };
    int *slot = ht_shared(N * sizeof(int));
    int *bad = ht_shared(sizeof(int));
    FMP_PARALLEL(N) {
        int me = fmp_thread_num();
        for (int r = 1; r <= ROUNDS; r++) {
            ht_atomic_store(&slot[me], r);
            HT_CHECK_INT_EQ(fmp_barrier(), FMP_OK);
            for (int m = 0; m < N; m++)
                if (ht_atomic_load(&slot[m]) != r)
                    ht_atomic_add(bad, 1); /* someone is behind or ahead */
            HT_CHECK_INT_EQ(fmp_barrier(), FMP_OK);
        }
    }
    HT_CHECK_MSG(*bad == 0, "%d times a member saw a sibling in another round after a barrier",
                 *bad);
    HT_CHECK_INT_EQ(fmp_barrier(), FMP_OK); /* outside a region: nothing to wait for */
}

static void test_critical_mutual_exclusion(void)
{
    enum { N = 4, ITERS = 3000 };
    volatile long *counter = ht_shared(sizeof(long));
    int *inside = ht_shared(sizeof(int));
    int *overlap = ht_shared(sizeof(int));
    FMP_PARALLEL(N) {
        for (int k = 0; k < ITERS; k++) {
            FMP_CRITICAL {
                if (ht_atomic_add(inside, 1) != 0)
                    ht_atomic_add(overlap, 1);
                long v = *counter; /* a plain, non-atomic read-modify-write */
                if (k % 64 == 0)
                    sched_yield(); /* give the others every chance to barge in */
                *counter = v + 1;
                ht_atomic_add(inside, -1);
            }
        }
    }
    HT_CHECK_INT_EQ(*counter, (long)N * ITERS);
    HT_CHECK_INT_EQ(*overlap, 0);
}

static void test_critical_named(void)
{
    enum { N = 3, ITERS = 2000 };
    volatile long *ca = ht_shared(sizeof(long));
    volatile long *cb = ht_shared(sizeof(long));
    int *in_a = ht_shared(sizeof(int));
    int *in_b = ht_shared(sizeof(int));
    int *overlap = ht_shared(sizeof(int));
    FMP_PARALLEL(N) {
        for (int k = 0; k < ITERS; k++) {
            FMP_CRITICAL_NAMED(alpha) {
                if (ht_atomic_add(in_a, 1) != 0)
                    ht_atomic_add(overlap, 1);
                long v = *ca;
                if (k % 128 == 0)
                    sched_yield();
                *ca = v + 1;
                ht_atomic_add(in_a, -1);
            }
            FMP_CRITICAL_NAMED(beta) {
                if (ht_atomic_add(in_b, 1) != 0)
                    ht_atomic_add(overlap, 1);
                long v = *cb;
                *cb = v + 2;
                ht_atomic_add(in_b, -1);
            }
        }
    }
    HT_CHECK_INT_EQ(*ca, (long)N * ITERS);
    HT_CHECK_INT_EQ(*cb, 2L * N * ITERS);
    HT_CHECK_INT_EQ(*overlap, 0);
}

static void test_critical_outside_region(void)
{
    int runs = 0;
    FMP_CRITICAL {
        runs++;
    }
    FMP_CRITICAL_NAMED(solo) {
        runs++;
    }
    HT_CHECK_INT_EQ(runs, 2);
}

static void test_master_construct(void)
{
    int *runs = ht_shared(8 * sizeof(int));
    FMP_PARALLEL(4) {
        for (int k = 0; k < 5; k++) {
            FMP_MASTER {
                HT_CHECK_INT_EQ(fmp_thread_num(), 0);
                ht_atomic_add(&runs[fmp_thread_num()], 1);
            }
        }
    }
    HT_CHECK_INT_EQ(runs[0], 5);
    for (int m = 1; m < 4; m++)
        HT_CHECK_MSG(runs[m] == 0, "FMP_MASTER ran in member %d", m);
}

static void test_single_once_with_barrier(void)
{
    enum { N = 4, ENC = 20 };
    int *runs = ht_shared(ENC * sizeof(int));
    int *value = ht_shared(ENC * sizeof(int));
    FMP_PARALLEL(N) {
        for (int k = 0; k < ENC; k++) {
            FMP_SINGLE {
                ht_atomic_add(&runs[k], 1);
                if (k % 5 == 0)
                    ht_sleep(0.02); /* a slow single: the others must wait at its end */
                ht_atomic_store(&value[k], 1000 + k);
            }
            int v = ht_atomic_load(&value[k]);
            HT_CHECK_MSG(v == 1000 + k,
                         "member %d passed FMP_SINGLE #%d before the single's block ended "
                         "(value %d)",
                         fmp_thread_num(), k, v);
        }
    }
    for (int k = 0; k < ENC; k++)
        HT_CHECK_MSG(runs[k] == 1, "FMP_SINGLE #%d ran %d times", k, runs[k]);
}

static void test_single_function_once(void)
{
    enum { N = 4, ENC = 50 };
    int *trues = ht_shared(ENC * sizeof(int));
    FMP_PARALLEL(N) {
        for (int k = 0; k < ENC; k++) {
            int r = fmp_single();
            HT_CHECK_MSG(r == 0 || r == 1, "fmp_single() returned %d", r);
            if (r == 1)
                ht_atomic_add(&trues[k], 1);
        }
        HT_CHECK_INT_EQ(fmp_barrier(), FMP_OK);
        for (int k = 0; k < ENC; k++)
            HT_CHECK_MSG(ht_atomic_load(&trues[k]) == 1,
                         "fmp_single() encounter #%d was true in %d members", k,
                         ht_atomic_load(&trues[k]));
    }
    HT_CHECK_INT_EQ(fmp_single(), 1); /* outside a region: the caller is the one */
}

static void test_locks(void)
{
    enum { N = 4, ITERS = 2000 };
    fmp_lock *l = fmp_lock_create();
    HT_REQUIRE(l != NULL);
    volatile long *counter = ht_shared(sizeof(long));
    int *inside = ht_shared(sizeof(int));
    int *overlap = ht_shared(sizeof(int));
    FMP_PARALLEL(N) {
        for (int k = 0; k < ITERS; k++) {
            HT_CHECK_INT_EQ(fmp_lock_set(l), FMP_OK);
            if (ht_atomic_add(inside, 1) != 0)
                ht_atomic_add(overlap, 1);
            long v = *counter;
            if (k % 64 == 0)
                sched_yield();
            *counter = v + 1;
            ht_atomic_add(inside, -1);
            HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);
        }
    }
    HT_CHECK_INT_EQ(*counter, (long)N * ITERS);
    HT_CHECK_INT_EQ(*overlap, 0);
    fmp_lock_destroy(l);
}

static void test_lock_test_and_errors(void)
{
    fmp_lock *l = fmp_lock_create();
    HT_REQUIRE(l != NULL);
    int *res = ht_shared(8 * sizeof(int));
    FMP_PARALLEL(2) {
        int me = fmp_thread_num();
        if (me == 0)
            HT_CHECK_INT_EQ(fmp_lock_set(l), FMP_OK);
        fmp_barrier();
        if (me == 1) {
            res[0] = fmp_lock_test(l);   /* held by member 0: 0 */
            res[1] = fmp_lock_unset(l);  /* not ours: -EPERM */
        }
        fmp_barrier();
        if (me == 0)
            HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);
        fmp_barrier();
        if (me == 1) {
            res[2] = fmp_lock_test(l);   /* free: 1, and now ours */
            res[3] = fmp_lock_unset(l);
        }
    }
    HT_CHECK_INT_EQ(res[0], 0);
    HT_CHECK_INT_EQ(res[1], -EPERM);
    HT_CHECK_INT_EQ(res[2], 1);
    HT_CHECK_INT_EQ(res[3], FMP_OK);
    HT_CHECK_INT_EQ(fmp_lock_set(NULL), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_lock_unset(NULL), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_lock_test(NULL), FMP_EINVAL);
    fmp_lock_destroy(NULL); /* ignored */
    fmp_lock_destroy(l);
}

static void test_lock_holder_dies(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    fmp_lock *l = fmp_lock_create();
    HT_REQUIRE(l != NULL);
    int *held = ht_shared(sizeof(int));
    int *res = ht_shared(4 * sizeof(int));
    pid_t *victim = ht_shared(sizeof(pid_t));
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            HT_CHECK_INT_EQ(fmp_lock_set(l), FMP_OK);
            *victim = getpid();
            ht_atomic_store(held, 1);
            raise(SIGKILL); /* dies holding the lock */
        } else {
            while (!ht_atomic_load(held))
                ht_sleep(0.001);
            res[0] = fmp_lock_set(l); /* waits for the holder, who dies */
            res[1] = fmp_lock_unset(l);
            res[2] = fmp_lock_set(l); /* consistent again: a plain success */
            res[3] = fmp_lock_unset(l);
        }
    }
    HT_CHECK_INT_EQ(res[0], FMP_EOWNERDEAD);
    HT_CHECK_INT_EQ(res[1], FMP_OK);
    HT_CHECK_INT_EQ(res[2], FMP_OK);
    HT_CHECK_INT_EQ(res[3], FMP_OK);
    HT_CHECK_CONTAINS(fmp_last_failure(), "SIGKILL");
    char pid[32];
    snprintf(pid, sizeof pid, "pid %d", (int)*victim);
    HT_CHECK_CONTAINS(fmp_last_failure(), pid);
    fmp_lock_destroy(l);
}

static void lock_holder_dies_body(void *arg)
{
    fmp_lock *l = arg;
    if (fmp_thread_num() == 1) {
        fmp_lock_set(l);
        raise(SIGKILL);
    }
}

static void test_lock_holder_dies_region_reports(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    fmp_lock *l = fmp_lock_create();
    HT_REQUIRE(l != NULL);
    HT_CHECK_INT_EQ(fmp_parallel(2, lock_holder_dies_body, l), FMP_EMEMBER);
    HT_CHECK_INT_EQ(fmp_lock_set(l), FMP_EOWNERDEAD); /* and the caller holds it now */
    HT_CHECK_INT_EQ(fmp_lock_test(l), 0);
    HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);
    HT_CHECK_INT_EQ(fmp_lock_test(l), 1);
    HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);
    fmp_lock_destroy(l);
}

/* ---------------------------------------------------------------- contended locks */

enum { CONTEND_ITERS = 4000 };

/* ITERS rounds of lock, a non-atomic increment, unlock; then as many in FMP_CRITICAL.
   Two members inside at once, or a lost increment, show in the counts: bad[0] counts
   failed calls, bad[1] overlaps inside the lock, bad[2] inside the critical (inside[0]
   and inside[1] count who is inside each: one member may be in the lock's loop while
   another is in the critical's already). */
static void contend(fmp_lock *l, volatile long *counter, volatile long *crit_counter,
                    int *inside, int *bad)
{
    for (int i = 0; i < CONTEND_ITERS; i++) {
        if (fmp_lock_set(l) != FMP_OK)
            ht_atomic_add(&bad[0], 1);
        if (ht_atomic_add(&inside[0], 1) != 0)
            ht_atomic_add(&bad[1], 1);
        *counter = *counter + 1;
        ht_atomic_add(&inside[0], -1);
        if (fmp_lock_unset(l) != FMP_OK)
            ht_atomic_add(&bad[0], 1);
    }
    for (int i = 0; i < CONTEND_ITERS; i++) {
        FMP_CRITICAL {
            if (ht_atomic_add(&inside[1], 1) != 0)
                ht_atomic_add(&bad[2], 1);
            *crit_counter = *crit_counter + 1;
            ht_atomic_add(&inside[1], -1);
        }
    }
}

typedef struct contend_run {
    fmp_lock *l;
    volatile long *counter, *crit_counter;
    int *inside, *bad;
} contend_run;

static void contend_body(void *arg)
{
    const contend_run *r = arg;
    contend(r->l, r->counter, r->crit_counter, r->inside, r->bad);
}

/* Several members take one lock and one critical section as fast as they can: 5 members
   on this machine's cores (more members than cores: waiters sleep and are woken), then a
   persistent team of 3, every increment counted exactly. */
static void test_lock_contention_counts_exactly(void)
{
    enum { N = 5, T = 3, RUNS = 2 };
    contend_run r = {fmp_lock_create(), ht_shared(sizeof(long)), ht_shared(sizeof(long)),
                     ht_shared(2 * sizeof(int)), ht_shared(3 * sizeof(int))};
    HT_REQUIRE(r.l != NULL);
    FMP_PARALLEL(N) {
        contend(r.l, r.counter, r.crit_counter, r.inside, r.bad);
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    HT_CHECK_INT_EQ(*r.counter, (long)N * CONTEND_ITERS);
    HT_CHECK_INT_EQ(*r.crit_counter, (long)N * CONTEND_ITERS);
    fmp_team *t = fmp_team_create(T);
    HT_REQUIRE(t != NULL);
    for (int run = 0; run < RUNS; run++)
        HT_CHECK_INT_EQ(fmp_team_run(t, contend_body, &r, sizeof r), FMP_OK);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
    HT_CHECK_INT_EQ(*r.counter, (long)(N + RUNS * T) * CONTEND_ITERS);
    HT_CHECK_INT_EQ(*r.crit_counter, (long)(N + RUNS * T) * CONTEND_ITERS);
    HT_CHECK_MSG(r.bad[0] + r.bad[1] + r.bad[2] == 0,
                 "%d lock calls failed, %d times two members were inside the lock, %d times "
                 "inside the critical",
                 r.bad[0], r.bad[1], r.bad[2]);
    /* free at the end */
    HT_CHECK_INT_EQ(fmp_lock_test(r.l), 1);
    HT_CHECK_INT_EQ(fmp_lock_unset(r.l), FMP_OK);
    fmp_lock_destroy(r.l);
}

/* The holder dies while three members wait: exactly one of them is told (FMP_EOWNERDEAD),
   the others then get the lock in turn, and nobody hangs. */
static void test_lock_dead_owner_while_others_wait(void)
{
    enum { N = 4 };
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    fmp_lock *l = fmp_lock_create();
    HT_REQUIRE(l != NULL);
    int *held = ht_shared(sizeof(int));
    int *queued = ht_shared(sizeof(int));
    int *done = ht_shared(sizeof(int));
    int *res = ht_shared(N * sizeof(int));
    volatile long *counter = ht_shared(sizeof(long));
    FMP_PARALLEL(N) {
        int me = fmp_thread_num();
        if (me == 1) {
            HT_CHECK_INT_EQ(fmp_lock_set(l), FMP_OK);
            ht_atomic_store(held, 1);
            while (ht_atomic_load(queued) < N - 1)
                ht_sleep(0.001);
            ht_sleep(0.05); /* the others spin, then sleep */
            raise(SIGKILL);
        } else {
            while (!ht_atomic_load(held))
                ht_sleep(0.001);
            ht_atomic_add(queued, 1);
            res[me] = fmp_lock_set(l);
            *counter = *counter + 1;
            fmp_lock_unset(l);
            ht_atomic_add(done, 1);
        }
        /* the master's end of a failed region ends the members left: not before */
        while (me == 0 && ht_atomic_load(done) < N - 1)
            ht_sleep(0.001);
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_EMEMBER);
    HT_CHECK_INT_EQ(*counter, N - 1);
    int dead = 0, ok = 0;
    for (int m = 0; m < N; m++) {
        if (m == 1)
            continue;
        dead += res[m] == FMP_EOWNERDEAD;
        ok += res[m] == FMP_OK;
    }
    HT_CHECK_MSG(dead == 1 && ok == N - 2,
                 "waiters got %d, %d, %d: expected one FMP_EOWNERDEAD (%d), the rest FMP_OK",
                 res[0], res[2], res[3], FMP_EOWNERDEAD);
    HT_CHECK_CONTAINS(fmp_last_failure(), "SIGKILL");
    HT_CHECK_INT_EQ(fmp_lock_test(l), 1);
    HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);
    fmp_lock_destroy(l);
}

static void die_holding(void *arg)
{
    if (fmp_thread_num() == 1) {
        fmp_lock_set(*(fmp_lock **)arg);
        raise(SIGKILL);
    }
}

/* The holder dies with nobody waiting: a member that asks later (its team broken by the
   death), the master of a persistent team between runs (the member not reaped yet) and
   fmp_lock_test each take it over once, and are told. */
static void test_lock_dead_owner_then_later_acquire(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    fmp_lock *l = fmp_lock_create();
    HT_REQUIRE(l != NULL);
    int *res = ht_shared(6 * sizeof(int));
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        if (me == 1) {
            fmp_lock_set(l);
            /* a member that has not started when its team breaks never starts */
            while (ht_atomic_load(&res[5]) < 2)
                ht_sleep(0.001);
            raise(SIGKILL);
        }
        ht_atomic_add(&res[5], 1);
        res[me] = fmp_barrier(); /* the death breaks it */
        if (me == 2) {
            ht_atomic_store(&res[4], 1);
            res[1] = fmp_lock_set(l);
            ht_atomic_store(&res[4], 2);
            res[3] = fmp_lock_unset(l);
            ht_atomic_store(&res[4], 3);
        }
        /* the master's end of a failed region ends the members left: not before */
        for (int k = 0; me == 0 && ht_atomic_load(&res[4]) != 3 && k < 5000; k++)
            ht_sleep(0.001);
    }
    HT_CHECK_MSG(res[4] == 3, "member 2 stopped at step %d (1: in fmp_lock_set, 2: in unset)",
                 res[4]);
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_EMEMBER);
    HT_CHECK(res[0] < 0 && res[2] < 0);
    HT_CHECK_INT_EQ(res[1], FMP_EOWNERDEAD);
    HT_CHECK_INT_EQ(res[3], FMP_OK);
    HT_CHECK_INT_EQ(fmp_lock_set(l), FMP_OK); /* released by the member that took it */
    HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);

    fmp_team *t = fmp_team_create(2);
    HT_REQUIRE(t != NULL);
    HT_CHECK_INT_EQ(fmp_team_run(t, die_holding, &l, sizeof l), FMP_EMEMBER);
    HT_CHECK_INT_EQ(fmp_lock_set(l), FMP_EOWNERDEAD);
    HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);
    fmp_team_destroy(t);

    HT_CHECK_INT_EQ(fmp_parallel(2, die_holding, &l), FMP_EMEMBER);
    HT_CHECK_INT_EQ(fmp_lock_test(l), FMP_EOWNERDEAD);
    HT_CHECK_INT_EQ(fmp_lock_test(l), 0); /* the caller's now */
    HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);
    HT_CHECK_INT_EQ(fmp_lock_test(l), 1);
    HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);
    fmp_lock_destroy(l);
}

/* With the active policy a waiter spins for seconds before it sleeps: it still looks at
   the owner's life while it spins, so a lock whose holder is gone (reaped already) is
   taken over at once, not after the spin (the watchdog would end the test first). */
static void test_lock_dead_owner_active_policy(void)
{
    setenv("FMP_WAIT_POLICY", "active", 1);
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    fmp_lock *l = fmp_lock_create();
    HT_REQUIRE(l != NULL);
    for (int k = 0; k < 3; k++) {
        HT_CHECK_INT_EQ(fmp_parallel(2, die_holding, &l), FMP_EMEMBER);
        HT_CHECK_INT_EQ(fmp_lock_set(l), FMP_EOWNERDEAD);
        HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);
    }
    fmp_lock_destroy(l);
}

/* The holder is a member of an inner team, the waiter a member of the outer one (it does
   not watch the holder's life): the holder's death still reaches it. */
static void test_lock_dead_owner_in_another_team(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    fmp_set_nested(1);
    fmp_lock *l = fmp_lock_create();
    HT_REQUIRE(l != NULL);
    int *held = ht_shared(sizeof(int));
    int *res = ht_shared(2 * sizeof(int));
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            FMP_PARALLEL(2) {
                if (fmp_thread_num() == 1) {
                    fmp_lock_set(l);
                    ht_atomic_store(held, 1);
                    ht_sleep(0.05); /* the waiter sleeps meanwhile */
                    raise(SIGKILL);
                }
            }
            res[1] = fmp_region_error();
        } else {
            while (!ht_atomic_load(held))
                ht_sleep(0.001);
            res[0] = fmp_lock_set(l);
            fmp_lock_unset(l);
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    HT_CHECK_INT_EQ(res[0], FMP_EOWNERDEAD);
    HT_CHECK_INT_EQ(res[1], FMP_EMEMBER);
    HT_CHECK_INT_EQ(fmp_lock_test(l), 1);
    HT_CHECK_INT_EQ(fmp_lock_unset(l), FMP_OK);
    fmp_lock_destroy(l);
}

static void test_many_members_many_barriers(void)
{
    enum { N = 16, ROUNDS = 200 };
    int *arrivals = ht_shared(ROUNDS * sizeof(int));
    int *done = ht_shared(N * sizeof(int));
    int *bad = ht_shared(sizeof(int));
    FMP_PARALLEL(N) {
        int me = fmp_thread_num();
        for (int r = 0; r < ROUNDS; r++) {
            ht_atomic_add(&arrivals[r], 1);
            if (fmp_barrier() != FMP_OK || ht_atomic_load(&arrivals[r]) != N)
                ht_atomic_add(bad, 1);
        }
        done[me] = 1;
    }
    HT_CHECK_INT_EQ(*bad, 0);
    for (int m = 0; m < N; m++)
        HT_CHECK_MSG(done[m], "member %d of 16 did not get through 200 barriers", m);
}

/* ---------------------------------------------------------------- combining trees */

/* Teams with a combining tree (FMP_BARRIER_TREE=2; 13 members: leaves of 8 and 5 under
   the root): every barrier still separates rounds, tasks made before a barrier are done
   after it, a single runs once a round, a small reduction is exact. */
static void tree_task(void *arg)
{
    ht_atomic_add(*(int **)arg, 1);
}

static void test_tree_barriers_tasks_singles(void)
{
    enum { N = 13, ROUNDS = 120 };
    setenv("FMP_BARRIER_TREE", "2", 1);
    int *slot = ht_shared(N * sizeof(int));
    int *tasks_done = ht_shared(ROUNDS * sizeof(int));
    int *singles = ht_shared(ROUNDS * sizeof(int));
    int *bad = ht_shared(4 * sizeof(int));
    FMP_PARALLEL(N) {
        int me = fmp_thread_num();
        for (int r = 1; r <= ROUNDS; r++) {
            ht_atomic_store(&slot[me], r);
            int *counter = &tasks_done[r - 1];
            if (me % 4 == 0 && fmp_task(tree_task, &counter, sizeof counter) != FMP_OK)
                ht_atomic_add(&bad[0], 1);
            if (fmp_barrier() != FMP_OK)
                ht_atomic_add(&bad[0], 1);
            for (int m = 0; m < N; m++)
                if (ht_atomic_load(&slot[m]) != r)
                    ht_atomic_add(&bad[1], 1);
            if (ht_atomic_load(counter) != (N + 3) / 4)
                ht_atomic_add(&bad[2], 1);
            if (fmp_single())
                ht_atomic_add(&singles[r - 1], 1);
            long v = me + r, sum = -1;
            if (fmp_reduce(&v, &sum, 1, FMP_LONG, FMP_SUM) != FMP_OK ||
                sum != (long)N * r + (long)N * (N - 1) / 2)
                ht_atomic_add(&bad[3], 1);
        }
    }
    HT_CHECK_MSG(bad[0] == 0, "%d calls failed", bad[0]);
    HT_CHECK_MSG(bad[1] == 0, "%d times a member saw a sibling in another round", bad[1]);
    HT_CHECK_MSG(bad[2] == 0, "%d times a task made before a barrier was not done after it",
                 bad[2]);
    HT_CHECK_MSG(bad[3] == 0, "%d reductions were wrong", bad[3]);
    for (int r = 0; r < ROUNDS; r++)
        HT_CHECK_MSG(singles[r] == 1, "round %d: the single ran %d times", r, singles[r]);
}

/* A member that skips a barrier of a team with a tree is named; nobody hangs. */
static void tree_skip_barrier(void *arg)
{
    (void)arg;
    if (fmp_thread_num() != 11)
        fmp_barrier();
    fmp_barrier();
}

/* A member killed while the others wait in the tree: the region reports it. */
static void tree_member_dies(void *arg)
{
    int me = fmp_thread_num();
    fmp_barrier();
    if (me == 10) {
        *(pid_t *)arg = getpid();
        raise(SIGKILL);
    }
    for (int i = 0; i < 5; i++)
        fmp_barrier();
}

static void test_tree_mismatch_and_death(void)
{
    setenv("FMP_BARRIER_TREE", "2", 1);
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int rc = fmp_parallel(12, tree_skip_barrier, NULL);
    HT_CHECK_INT_EQ(rc, FMP_EMISMATCH);
    HT_CHECK_CONTAINS(fmp_last_failure(), "member 11");
    pid_t *victim = ht_shared(sizeof(pid_t));
    rc = fmp_parallel(12, tree_member_dies, victim);
    HT_CHECK_INT_EQ(rc, FMP_EMEMBER);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %d", (int)*victim);
    HT_CHECK_CONTAINS(fmp_last_failure(), pid);
    HT_CHECK_CONTAINS(fmp_last_failure(), "SIGKILL");
    HT_CHECK_INT_EQ(ht_children_left(), 0);
    /* and the program goes on */
    int *count = ht_shared(sizeof(int));
    FMP_PARALLEL(12) {
        fmp_barrier();
        ht_atomic_add(count, 1);
    }
    HT_CHECK_INT_EQ(*count, 12);
}

/* ---------------------------------------------------------------- nested locks */

/* Each member takes the lock at depth 1 to 3 (set, test), increments a counter with a
   plain read-modify-write inside, and unsets as many times. */
static void nest_rounds(fmp_nest_lock *l, int iters, volatile long *counter, int *inside, int *bad)
{
    for (int k = 0; k < iters; k++) {
        int depth = 1 + k % 3;
        if (fmp_nest_lock_set(l) != FMP_OK)
            ht_atomic_add(bad, 1);
        if (ht_atomic_add(inside, 1) != 0)
            ht_atomic_add(bad, 1); /* two holders at once */
        for (int d = 2; d <= depth; d++)
            if ((d % 2 ? fmp_nest_lock_set(l) : fmp_nest_lock_test(l) - d) != 0)
                ht_atomic_add(bad, 1);
        long v = *counter;
        if (k % 16 == 0)
            sched_yield();
        *counter = v + 1;
        ht_atomic_add(inside, -1);
        for (int d = depth; d >= 1; d--)
            if (fmp_nest_lock_unset(l) != FMP_OK)
                ht_atomic_add(bad, 1);
    }
}

/* n members, iters rounds each: the counter counts every round, one holder at a time. */
static void nest_team(int n, int iters)
{
    fmp_nest_lock *l = fmp_nest_lock_create();
    HT_REQUIRE(l != NULL);
    volatile long *counter = ht_shared(sizeof(long));
    int *inside = ht_shared(sizeof(int));
    int *bad = ht_shared(sizeof(int));
    FMP_PARALLEL(n) {
        nest_rounds(l, iters, counter, inside, bad);
    }
    HT_CHECK_INT_EQ(*counter, (long)n * iters);
    HT_CHECK_INT_EQ(*bad, 0);
    HT_CHECK_INT_EQ(fmp_nest_lock_test(l), 1); /* free again */
    HT_CHECK_INT_EQ(fmp_nest_lock_unset(l), FMP_OK);
    fmp_nest_lock_destroy(l);
}

static void test_nest_lock_across_members(void)
{
    nest_team(4, 1500);
}

static void test_nest_lock_contention_more_members_than_cores(void)
{
    nest_team(12, 300);
}

/* The counts: test returns the new depth, 0 while another member holds it; unset by a
   member that does not hold it is refused with the catalogue's message. */
static void test_nest_lock_depth_and_test_counts(void)
{
    fmp_nest_lock *l = fmp_nest_lock_create();
    HT_REQUIRE(l != NULL);
    HT_CHECK_INT_EQ(fmp_nest_lock_set(l), FMP_OK);
    HT_CHECK_INT_EQ(fmp_nest_lock_test(l), 2);
    HT_CHECK_INT_EQ(fmp_nest_lock_test(l), 3);
    HT_CHECK_INT_EQ(fmp_nest_lock_set(l), FMP_OK); /* 4 */
    HT_CHECK_INT_EQ(fmp_nest_lock_test(l), 5);
    for (int d = 5; d >= 1; d--)
        HT_CHECK_INT_EQ(fmp_nest_lock_unset(l), FMP_OK);
    ht_capture_stderr_begin();
    int rc = fmp_nest_lock_unset(l); /* once more than set */
    char *err = ht_capture_stderr_end();
    HT_CHECK_INT_EQ(rc, -EPERM);
    char want[512];
    snprintf(want, sizeof want, "forkmp: " FMP__MSG_nest_unset_free "\n", (void *)l, (int)getpid());
    HT_CHECK_MSG(err && strcmp(err, want) == 0,
                 "unset of a free nested lock said \"%s\", "
                 "expected \"%s\"",
                 err ? err : "(null)", want);
    free(err);

    int *res = ht_shared(8 * sizeof(int));
    int *pid0 = ht_shared(sizeof(int));
    char(*said)[512] = ht_shared(2 * 512); /* member 1's message, and its pid */
    FMP_PARALLEL(2) {
        int me = fmp_thread_num();
        if (me == 0) {
            *pid0 = getpid();
            res[0] = fmp_nest_lock_set(l);
            res[1] = fmp_nest_lock_test(l); /* 2 */
        }
        fmp_barrier();
        if (me == 1) {
            res[2] = fmp_nest_lock_test(l); /* held by member 0: 0 */
            ht_capture_stderr_begin();
            res[3] = fmp_nest_lock_unset(l); /* not ours */
            char *e = ht_capture_stderr_end();
            snprintf(*said, sizeof *said, "%s", e ? e : "");
            free(e);
            snprintf(said[1], sizeof said[1], "%d", (int)getpid());
        }
        fmp_barrier();
        if (me == 0) {
            res[4] = fmp_nest_lock_test(l); /* still ours, at depth 3: member 1 changed nothing */
            for (int d = 0; d < 3; d++)
                fmp_nest_lock_unset(l);
        }
        fmp_barrier();
        if (me == 1) {
            res[5] = fmp_nest_lock_test(l); /* free: 1 */
            res[6] = fmp_nest_lock_unset(l);
        }
    }
    HT_CHECK_INT_EQ(res[0], FMP_OK);
    HT_CHECK_INT_EQ(res[1], 2);
    HT_CHECK_INT_EQ(res[2], 0);
    HT_CHECK_INT_EQ(res[3], -EPERM);
    HT_CHECK_INT_EQ(res[4], 3);
    HT_CHECK_INT_EQ(res[5], 1);
    HT_CHECK_INT_EQ(res[6], FMP_OK);
    int pid1 = atoi(said[1]);
    snprintf(want, sizeof want, "forkmp: " FMP__MSG_nest_unset_other "\n", (void *)l, *pid0, pid1);
    HT_CHECK_MSG(strcmp(said[0], want) == 0,
                 "unset by a member that does not hold the lock "
                 "said \"%s\", expected \"%s\"",
                 said[0], want);
    fmp_nest_lock_destroy(l);
}

static void test_nest_lock_holder_dies(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    fmp_nest_lock *l = fmp_nest_lock_create();
    HT_REQUIRE(l != NULL);
    int *held = ht_shared(sizeof(int));
    int *res = ht_shared(8 * sizeof(int));
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            fmp_nest_lock_set(l);
            fmp_nest_lock_set(l);
            fmp_nest_lock_test(l); /* depth 3 */
            ht_atomic_store(held, 1);
            raise(SIGKILL);
        } else {
            while (!ht_atomic_load(held))
                ht_sleep(0.001);
            res[0] = fmp_nest_lock_set(l);  /* waits for the holder, who dies */
            res[1] = fmp_nest_lock_test(l); /* the count starts again at 1: now 2 */
            res[2] = fmp_nest_lock_unset(l);
            res[3] = fmp_nest_lock_unset(l); /* released */
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_EMEMBER);
    HT_CHECK_INT_EQ(res[0], FMP_EOWNERDEAD);
    HT_CHECK_INT_EQ(res[1], 2);
    HT_CHECK_INT_EQ(res[2], FMP_OK);
    HT_CHECK_INT_EQ(res[3], FMP_OK);
    /* free and consistent: a plain success in another member */
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            res[4] = fmp_nest_lock_test(l);
            res[5] = fmp_nest_lock_unset(l);
        }
    }
    HT_CHECK_INT_EQ(res[4], 1);
    HT_CHECK_INT_EQ(res[5], FMP_OK);
    /* fmp_nest_lock_test also takes over from a dead holder */
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            fmp_nest_lock_set(l);
            raise(SIGKILL);
        }
    }
    HT_CHECK_INT_EQ(fmp_nest_lock_test(l), FMP_EOWNERDEAD);
    HT_CHECK_INT_EQ(fmp_nest_lock_test(l), 2);
    HT_CHECK_INT_EQ(fmp_nest_lock_unset(l), FMP_OK);
    HT_CHECK_INT_EQ(fmp_nest_lock_unset(l), FMP_OK);
    fmp_nest_lock_destroy(l);
}

static void test_nest_lock_bad_input(void)
{
    HT_CHECK_INT_EQ(fmp_nest_lock_set(NULL), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_nest_lock_unset(NULL), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_nest_lock_test(NULL), FMP_EINVAL);
    fmp_nest_lock_destroy(NULL); /* ignored */
    /* a lock used outside regions, then destroyed and created again */
    fmp_nest_lock *l = fmp_nest_lock_create();
    HT_REQUIRE(l != NULL);
    HT_CHECK_INT_EQ(fmp_nest_lock_set(l), FMP_OK);
    HT_CHECK_INT_EQ(fmp_nest_lock_unset(l), FMP_OK);
    fmp_nest_lock_destroy(l);
    l = fmp_nest_lock_create();
    HT_REQUIRE(l != NULL);
    HT_CHECK_INT_EQ(fmp_nest_lock_test(l), 1);
    HT_CHECK_INT_EQ(fmp_nest_lock_unset(l), FMP_OK);
    fmp_nest_lock_destroy(l);
}

typedef struct nest_run {
    fmp_nest_lock *l;
    volatile long *counter;
    int *inside, *bad;
} nest_run;

static void nest_run_body(void *arg)
{
    const nest_run *r = arg;
    nest_rounds(r->l, 200, r->counter, r->inside, r->bad);
}

/* Persistent teams, and nested regions: the holder is the process, so the master of an
   inner team holds what it set as a member of the outer one, and its inner members wait. */
static void test_nest_lock_persistent_team_and_nested_regions(void)
{
    nest_run r = {fmp_nest_lock_create(), ht_shared(sizeof(long)), ht_shared(sizeof(int)),
                  ht_shared(sizeof(int))};
    HT_REQUIRE(r.l != NULL);
    fmp_team *t = fmp_team_create(3);
    HT_REQUIRE(t != NULL);
    for (int run = 0; run < 3; run++)
        HT_CHECK_INT_EQ(fmp_team_run(t, nest_run_body, &r, sizeof r), FMP_OK);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
    HT_CHECK_INT_EQ(*r.counter, 3L * 3 * 200);
    HT_CHECK_INT_EQ(*r.bad, 0);

    fmp_set_nested(1);
    int *res = ht_shared(16 * sizeof(int));
    FMP_PARALLEL(2) {
        int outer = fmp_thread_num();
        if (outer == 1)
            res[0] = fmp_nest_lock_set(r.l); /* member 1 of the outer team holds it */
        fmp_barrier();
        FMP_PARALLEL(2) {
            int inner = fmp_thread_num();
            /* in member 1's inner team: its master holds the lock already, its child
               does not; in member 0's, neither */
            res[1 + outer * 2 + inner] = fmp_nest_lock_test(r.l);
            fmp_barrier();
            if (res[1 + outer * 2 + inner] > 0)
                fmp_nest_lock_unset(r.l);
        }
        fmp_barrier();
        if (outer == 1)
            res[5] = fmp_nest_lock_unset(r.l);
        fmp_barrier();
        /* everyone, at depth, in turn */
        FMP_PARALLEL(2) {
            nest_rounds(r.l, 50, r.counter, r.inside, r.bad);
        }
    }
    HT_CHECK_INT_EQ(res[0], FMP_OK);
    HT_CHECK_INT_EQ(res[3], 2); /* outer member 1 = its inner master: depth 2 */
    HT_CHECK_INT_EQ(res[4], 0); /* its inner child: busy */
    HT_CHECK_MSG(res[1] + res[2] == 0,
                 "in the inner team of outer member 0, while outer "
                 "member 1 held the lock, tests gave %d and %d",
                 res[1], res[2]);
    HT_CHECK_INT_EQ(res[5], FMP_OK);
    HT_CHECK_INT_EQ(*r.counter, 3L * 3 * 200 + 4 * 50);
    HT_CHECK_INT_EQ(*r.bad, 0);
    HT_CHECK_INT_EQ(fmp_nest_lock_test(r.l), 1);
    HT_CHECK_INT_EQ(fmp_nest_lock_unset(r.l), FMP_OK);
    fmp_nest_lock_destroy(r.l);
}

static const ht_test tests[] = {
    HT_TEST(test_barrier_separates_rounds),
    HT_TEST(test_critical_mutual_exclusion),
    HT_TEST(test_critical_named),
    HT_TEST(test_critical_outside_region),
    HT_TEST(test_master_construct),
    HT_TEST(test_single_once_with_barrier),
    HT_TEST(test_single_function_once),
    HT_TEST(test_locks),
    HT_TEST(test_lock_test_and_errors),
    HT_TEST_TIMEOUT(test_lock_holder_dies, 15),
    HT_TEST_TIMEOUT(test_lock_holder_dies_region_reports, 15),
    HT_TEST_TIMEOUT(test_lock_contention_counts_exactly, 60),
    HT_TEST_TIMEOUT(test_lock_dead_owner_while_others_wait, 15),
    HT_TEST_TIMEOUT(test_lock_dead_owner_then_later_acquire, 15),
    HT_TEST_TIMEOUT(test_lock_dead_owner_active_policy, 15),
    HT_TEST_TIMEOUT(test_lock_dead_owner_in_another_team, 15),
    HT_TEST_TIMEOUT(test_many_members_many_barriers, 60),
    HT_TEST_TIMEOUT(test_tree_barriers_tasks_singles, 60),
    HT_TEST_TIMEOUT(test_tree_mismatch_and_death, 30),
    HT_TEST(test_nest_lock_across_members),
    HT_TEST_TIMEOUT(test_nest_lock_contention_more_members_than_cores, 60),
    HT_TEST(test_nest_lock_depth_and_test_counts),
    HT_TEST_TIMEOUT(test_nest_lock_holder_dies, 15),
    HT_TEST(test_nest_lock_bad_input),
    HT_TEST_TIMEOUT(test_nest_lock_persistent_team_and_nested_regions, 60),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "sync", tests);
}
