/* test_sync: barriers, criticals (unnamed and named), FMP_MASTER, FMP_SINGLE and
 * fmp_single(), locks (including a lock whose holder dies), and many members on few
 * cores through many barriers. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

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
    HT_TEST_TIMEOUT(test_many_members_many_barriers, 60),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "sync", tests);
}
