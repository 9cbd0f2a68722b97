/* test_loops: FMP_FOR / FMP_FOR_NOWAIT hand out every iteration exactly once, for every
 * schedule, range and team size; the static schedules give the documented assignment;
 * the implied barrier waits; orphaned loops work; the runtime schedule follows
 * FMP_SCHEDULE / OMP_SCHEDULE.
 *
 * Iterations are counted in shared memory of the harness (atomic adds), by offset from
 * the loop's begin, so that ranges near LONG_MIN / LONG_MAX and beyond 2^31 can be
 * counted in a small array. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "loop_scheds.h"

#define MAXLEN 10007
#define MAXMSG 3 /* failure messages per case, so that one bug does not flood the log */

typedef struct counts {
    int cnt[MAXLEN];
    int owner[MAXLEN];
    int stray;          /* iterations outside [begin, end) */
    int bad_checks;     /* cases found wrong, over all members */
} counts;

typedef struct range {
    long begin, end;
    const char *name;
} range;

static const range ranges[] = {
    { 0, 1000, "[0, 1000)" },
    { 0, 0, "empty [0, 0)" },
    { -500, 500, "negative [-500, 500)" },
    { 10, 5, "end < begin [10, 5)" },
    { 0, 3, "3 iterations" },
    { 42, 43, "1 iteration" },
    { 0, 10007, "[0, 10007)" },
    { (1L << 33), (1L << 33) + 1000, "[2^33, 2^33+1000)" },
    { -(1L << 31) - 500, -(1L << 31) + 500, "around INT_MIN" },
    { LONG_MAX - 1000, LONG_MAX, "[LONG_MAX-1000, LONG_MAX)" },
    { LONG_MIN, LONG_MIN + 1000, "[LONG_MIN, LONG_MIN+1000)" },
    { LONG_MIN + 5, LONG_MIN + 5, "empty at LONG_MIN" },
};
#define NRANGES (int)(sizeof ranges / sizeof ranges[0])

static unsigned long range_len(const range *r)
{
    return r->end > r->begin ? (unsigned long)r->end - (unsigned long)r->begin : 0;
}


static void count_iter(counts *c, long i, long begin, unsigned long len, int me)
{
    unsigned long off = (unsigned long)i - (unsigned long)begin;
    if (off < len) {
        ht_atomic_add(&c->cnt[off], 1);
        c->owner[off] = me;
    } else {
        ht_atomic_add(&c->stray, 1);
    }
}

/* Every offset counted once, nothing outside: any member may check (after the loop's
   barrier every member must see the whole loop done). */
static int check_once(const counts *c, unsigned long len, const char *what)
{
    int bad = 0;
    for (unsigned long k = 0; k < len; k++) {
        int v = ht_atomic_load(&c->cnt[k]);
        if (v != 1 && bad++ < MAXMSG)
            HT_FAIL("%s: iteration at offset %lu ran %d times (member %d looking, after the "
                    "loop's end)",
                    what, k, v, fmp_thread_num());
    }
    int stray = ht_atomic_load(&c->stray);
    if (stray && bad++ < MAXMSG)
        HT_FAIL("%s: %d iterations outside the range", what, stray);
    if (!bad)
        HT_PASS();
    return bad == 0;
}

/* The documented assignment of the static schedules (the master checks it). */
static void check_static(const counts *c, unsigned long len, long chunk, int n,
                         const char *what)
{
    if (chunk > 0) {
        for (unsigned long k = 0; k < len; k++)
            if (c->owner[k] != (int)((k / (unsigned long)chunk) % (unsigned long)n)) {
                HT_FAIL("%s: offset %lu ran in member %d; static chunks of %ld go round-robin, "
                        "so member %d",
                        what, k, c->owner[k], chunk, (int)((k / (unsigned long)chunk) % n));
                return;
            }
        HT_PASS();
        return;
    }
    /* one contiguous block per member, in member order, sizes within 1 of each other */
    long size[64] = { 0 };
    for (unsigned long k = 0; k < len; k++) {
        if (k > 0 && c->owner[k] < c->owner[k - 1]) {
            HT_FAIL("%s: static blocks not contiguous in member order: offset %lu in member "
                    "%d after member %d",
                    what, k, c->owner[k], c->owner[k - 1]);
            return;
        }
        if (c->owner[k] >= 0 && c->owner[k] < 64)
            size[c->owner[k]]++;
    }
    long lo = LONG_MAX, hi = 0;
    for (int m = 0; m < n; m++) {
        lo = size[m] < lo ? size[m] : lo;
        hi = size[m] > hi ? size[m] : hi;
    }
    HT_CHECK_MSG(hi - lo <= 1, "%s: static blocks of %ld to %ld iterations over %d members",
                 what, lo, hi, n);
}

/* Every schedule over every range, in a team of n. */
static void all_cases(int n)
{
    counts *c = ht_shared(sizeof *c);
    FMP_PARALLEL(n) {
        int me = fmp_thread_num();
        HT_CHECK_INT_EQ(fmp_num_threads(), n);
        for (int s = 0; s < NSCHEDS; s++) {
            sched_case sc = scheds(s);
            for (int r = 0; r < NRANGES; r++) {
                const range *rg = &ranges[r];
                unsigned long len = range_len(rg);
                char what[160];
                snprintf(what, sizeof what, "team of %d, %s, %s", n, sc.name, rg->name);
                FMP_SINGLE {
                    memset(c->cnt, 0, sizeof c->cnt);
                    memset(c->owner, 0xff, sizeof c->owner);
                    c->stray = 0;
                }
                FMP_FOR(i, rg->begin, rg->end, sc.s) {
                    count_iter(c, i, rg->begin, len, me);
                }
                if (!check_once(c, len, what))
                    ht_atomic_add(&c->bad_checks, 1);
                if (me == 0 && (s <= 2 || s == 8))
                    check_static(c, len, s == 8 ? 0 : sc.s.chunk, n, what);
                fmp_barrier(); /* nobody resets before everyone checked */
            }
        }
    }
    HT_CHECK_INT_EQ(c->bad_checks, 0);
}

static void test_team_of_1(void)
{
    all_cases(1);
}

static void test_team_of_2(void)
{
    all_cases(2);
}

static void test_team_of_3(void)
{
    all_cases(3);
}

static void test_team_of_4(void)
{
    all_cases(4);
}

static void test_team_of_7(void)
{
    all_cases(7);
}

static void test_outside_region(void)
{
    counts *c = ht_shared(sizeof *c);
    for (int s = 0; s < NSCHEDS; s++) {
        sched_case sc = scheds(s);
        memset(c, 0, sizeof *c);
        FMP_FOR(i, -300, 700, sc.s) {
            count_iter(c, i, -300, 1000, 0);
        }
        check_once(c, 1000, sc.name);
    }
}

/* ---------------------------------------------------------------- runtime schedule */

static void runtime_case(int n, int static_chunk)
{
    counts *c = ht_shared(sizeof *c);
    memset(c->owner, 0xff, sizeof c->owner);
    FMP_PARALLEL(n) {
        int me = fmp_thread_num();
        FMP_FOR(i, 100, 1100, fmp_runtime()) {
            count_iter(c, i, 100, 1000, me);
        }
        check_once(c, 1000, "runtime schedule");
    }
    if (static_chunk >= 0)
        check_static(c, 1000, static_chunk, n, "runtime schedule");
}

static void test_runtime_static_chunk_from_env(void)
{
    setenv("FMP_SCHEDULE", "static,3", 1);
    setenv("OMP_SCHEDULE", "dynamic,2", 1); /* FMP_ wins */
    runtime_case(3, 3);
}

static void test_runtime_omp_alias(void)
{
    setenv("OMP_SCHEDULE", "static,5", 1);
    runtime_case(4, 5);
}

static void test_runtime_dynamic_from_env(void)
{
    setenv("FMP_SCHEDULE", "dynamic,2", 1);
    runtime_case(3, -1);
}

static void test_runtime_guided_from_env(void)
{
    setenv("FMP_SCHEDULE", "guided", 1);
    runtime_case(4, -1);
}

static void test_runtime_default_is_static(void)
{
    runtime_case(3, 0);
}

/* ---------------------------------------------------------------- nowait, orphaned */

static void test_nowait_then_barrier(void)
{
    enum { LOOPS = 20, LEN = 500 }; /* more loops than the descriptor ring has slots */
    int *cnt = ht_shared(sizeof(int) * LOOPS * LEN);
    FMP_PARALLEL(4) {
        for (int k = 0; k < LOOPS; k++) {
            fmp_schedule s = k % 3 == 0 ? fmp_dynamic(7) : k % 3 == 1 ? fmp_guided(2)
                                                                     : fmp_static(0);
            FMP_FOR_NOWAIT(i, 0, LEN, s) {
                ht_atomic_add(&cnt[k * LEN + i], 1);
            }
        }
        HT_CHECK_INT_EQ(fmp_barrier(), FMP_OK);
        int bad = 0;
        for (int k = 0; k < LOOPS * LEN; k++)
            if (ht_atomic_load(&cnt[k]) != 1 && bad++ < MAXMSG)
                HT_FAIL("FMP_FOR_NOWAIT #%d: iteration %d ran %d times (after the barrier)",
                        k / LEN, k % LEN, ht_atomic_load(&cnt[k]));
        HT_CHECK_INT_EQ(bad, 0);
    }
}

static void orphaned_work(counts *c, long n)
{
    int me = fmp_thread_num();
    FMP_FOR(i, 0, n, fmp_dynamic(3)) {
        count_iter(c, i, 0, (unsigned long)n, me);
    }
    check_once(c, (unsigned long)n, "orphaned FMP_FOR");
    HT_CHECK_INT_EQ(fmp_barrier(), FMP_OK);
    FMP_FOR(i, 0, n, fmp_static(0)) {
        count_iter(c, i, 0, (unsigned long)n, me);
    }
    for (long k = 0; k < n; k++)
        if (ht_atomic_load(&c->cnt[k]) != 2) {
            HT_FAIL("second orphaned FMP_FOR: offset %ld counted %d times in all", k,
                    ht_atomic_load(&c->cnt[k]));
            break;
        }
}

static void test_orphaned_constructs(void)
{
    counts *c = ht_shared(sizeof *c);
    FMP_PARALLEL(3) {
        orphaned_work(c, 1000);
    }
    /* the same function outside any region: the caller runs everything */
    memset(c, 0, sizeof *c);
    orphaned_work(c, 1000);
}

static void orphaned_body(void *arg)
{
    orphaned_work(arg, 777);
}

static void test_orphaned_in_fmp_parallel(void)
{
    counts *c = ht_shared(sizeof *c);
    HT_CHECK_INT_EQ(fmp_parallel(4, orphaned_body, c), FMP_OK);
}

/* ---------------------------------------------------------------- the implied barrier */

static void implied_barrier_case(fmp_schedule s, const char *what)
{
    counts *c = ht_shared(sizeof *c);
    FMP_PARALLEL(4) {
        int me = fmp_thread_num();
        if (me == 1)
            ht_sleep(0.3); /* late: the others must wait for its iterations */
        FMP_FOR(i, 0, 400, s) {
            count_iter(c, i, 0, 400, me);
        }
        check_once(c, 400, what);
    }
}

static void test_implied_barrier_waits_static(void)
{
    implied_barrier_case(fmp_static(0), "static loop after a late member");
}

static void test_implied_barrier_waits_chunked(void)
{
    implied_barrier_case(fmp_static(5), "static(5) loop after a late member");
}

static void test_implied_barrier_waits_dynamic(void)
{
    /* the late member may get no iteration at all; still nobody leaves before it came */
    counts *c = ht_shared(sizeof *c);
    int *arrived = ht_shared(sizeof(int));
    FMP_PARALLEL(4) {
        int me = fmp_thread_num();
        if (me == 1) {
            ht_sleep(0.3);
            ht_atomic_store(arrived, 1);
        }
        FMP_FOR(i, 0, 400, fmp_dynamic(1)) {
            count_iter(c, i, 0, 400, me);
        }
        HT_CHECK_MSG(ht_atomic_load(arrived) == 1,
                     "member %d left a dynamic loop before member 1 reached it", me);
        check_once(c, 400, "dynamic loop after a late member");
    }
}

/* Dynamic loops at the edges of chunk claiming: each member's first chunk is its own and
   the shared counter starts after the team's first chunks, so a loop of exactly one chunk
   per member, of fewer iterations than members, of one more chunk than members, and a
   chunk so large that chunk x members would overflow must each run every iteration once;
   so must a run of loops back to back through the descriptor ring. */
static void test_dynamic_chunk_edges(void)
{
    enum { N = 3 };
    static const struct {
        long end, chunk;
    } cases[] = {
        {15, 5}, {14, 5}, {16, 5}, {2, 5}, {1, 1}, {3, 1}, {1000, LONG_MAX / 2}, {1000, 1},
    };
    counts *c = ht_shared(sizeof *c);
    FMP_PARALLEL(N) {
        int me = fmp_thread_num();
        for (int round = 0; round < 10; round++)
            for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
                char what[96];
                snprintf(what, sizeof what, "team of %d, dynamic(%ld) over [0, %ld), round %d",
                         N, cases[k].chunk, cases[k].end, round);
                FMP_SINGLE {
                    memset(c->cnt, 0, sizeof c->cnt);
                    c->stray = 0;
                }
                FMP_FOR(i, 0, cases[k].end, fmp_dynamic(cases[k].chunk)) {
                    count_iter(c, i, 0, (unsigned long)cases[k].end, me);
                }
                if (!check_once(c, (unsigned long)cases[k].end, what))
                    ht_atomic_add(&c->bad_checks, 1);
                fmp_barrier(); /* nobody resets before everyone checked */
            }
    }
    HT_CHECK_INT_EQ(c->bad_checks, 0);
}

static void test_loop_variable_is_long(void)
{
    long last = 0;
    FMP_FOR(i, LONG_MAX - 2, LONG_MAX, fmp_static(0)) {
        HT_CHECK(sizeof i == sizeof(long));
        last = i;
    }
    HT_CHECK_INT_EQ(last, LONG_MAX - 1);
}

static const ht_test tests[] = {
    HT_TEST(test_team_of_1),
    HT_TEST(test_team_of_2),
    HT_TEST(test_team_of_3),
    HT_TEST(test_team_of_4),
    HT_TEST(test_team_of_7),
    HT_TEST(test_outside_region),
    HT_TEST(test_runtime_static_chunk_from_env),
    HT_TEST(test_runtime_omp_alias),
    HT_TEST(test_runtime_dynamic_from_env),
    HT_TEST(test_runtime_guided_from_env),
    HT_TEST(test_runtime_default_is_static),
    HT_TEST(test_nowait_then_barrier),
    HT_TEST(test_orphaned_constructs),
    HT_TEST(test_orphaned_in_fmp_parallel),
    HT_TEST(test_implied_barrier_waits_static),
    HT_TEST(test_implied_barrier_waits_chunked),
    HT_TEST(test_implied_barrier_waits_dynamic),
    HT_TEST(test_dynamic_chunk_edges),
    HT_TEST(test_loop_variable_is_long),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "loops", tests);
}
