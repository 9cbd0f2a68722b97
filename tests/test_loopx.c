/* test_loopx: the loops of the porting kit.  FMP_FOR_STEP hands out every index of
 * OpenMP's canonical loop exactly once, for positive and negative steps, odd steps, empty
 * ranges and ranges that span LONG_MIN..LONG_MAX; FMP_FOR_COLLAPSE every (i, j) pair
 * once; FMP_FOR_ORDERED runs its ordered blocks one at a time in iteration order; in
 * every schedule, team sizes from 1 to more members than cores, orphaned, in persistent
 * teams, nested regions and outside regions.  Step 0, a collapsed space too large to
 * count, a member that dies, leaves or skips an ordered loop while others wait for their
 * turn: an error naming the call site, never a hang.
 *
 * Expected counts are computed here independently of the library (128-bit arithmetic). */
#define _GNU_SOURCE
#include <forkmp.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "loop_scheds.h"
#include "messages.h"

#define MAXLEN 10007
#define MAXMSG 3

typedef struct counts {
    int cnt[MAXLEN];
    int stray;
    int bad;
    long order[MAXLEN]; /* ordered loops: the indices, in the order their blocks ran */
    int pos;
} counts;

/* Every slot counted once, nothing outside.  Any member may look after the barrier. */
static int check_once(counts *c, unsigned long len, const char *what)
{
    int bad = 0;
    for (unsigned long k = 0; k < len; k++) {
        int v = ht_atomic_load(&c->cnt[k]);
        if (v != 1 && bad++ < MAXMSG)
            HT_FAIL("%s: iteration %lu ran %d times", what, k, v);
    }
    for (unsigned long k = len; k < MAXLEN; k++)
        if (ht_atomic_load(&c->cnt[k]) != 0 && bad++ < MAXMSG)
            HT_FAIL("%s: slot %lu past the %lu iterations counted", what, k, len);
    if (ht_atomic_load(&c->stray) && bad++ < MAXMSG)
        HT_FAIL("%s: %d indices that the loop does not have", what, ht_atomic_load(&c->stray));
    if (!bad)
        HT_PASS();
    else
        ht_atomic_add(&c->bad, 1);
    return bad == 0;
}

/* ---------------------------------------------------------------- FMP_FOR_STEP */

typedef struct step_case {
    long begin, end, step;
    const char *name;
} step_case;

static const step_case steps[] = {
    {0, 1000, 1, "[0, 1000) by 1"},
    {0, 1000, 3, "[0, 1000) by 3"},
    {-500, 501, 13, "[-500, 501) by 13"},
    {999, -1, -1, "999 down to 0 by -1"},
    {1000, 0, -7, "1000 down past 0 by -7"},
    {0, 0, 5, "empty, step 5"},
    {10, 0, 2, "empty: end < begin, step 2"},
    {0, 10, -1, "empty: end > begin, step -1"},
    {42, 43, 1000, "one iteration, large step"},
    {LONG_MAX - 1000, LONG_MAX, 7, "up to LONG_MAX by 7"},
    {LONG_MIN + 1000, LONG_MIN, -3, "down to LONG_MIN by -3"},
    {LONG_MIN, LONG_MAX, 1L << 54, "LONG_MIN to LONG_MAX by 2^54"},
    {LONG_MAX, LONG_MIN, -(1L << 54), "LONG_MAX to LONG_MIN by -2^54"},
    {LONG_MIN, LONG_MAX, LONG_MAX, "LONG_MIN to LONG_MAX by LONG_MAX"},
    {LONG_MAX, LONG_MIN, LONG_MIN, "LONG_MAX to LONG_MIN by LONG_MIN"},
    {LONG_MAX - 5, LONG_MAX, 3, "two iterations next to LONG_MAX"},
};
#define NSTEPS (int)(sizeof steps / sizeof steps[0])

/* The loop's iterations counted the slow way. */
static unsigned long step_count(const step_case *sc)
{
    unsigned long n = 0;
    for (__int128 v = sc->begin; sc->step > 0 ? v < sc->end : v > sc->end; v += sc->step)
        n++;
    return n;
}

static void count_step(counts *c, const step_case *sc, long i, unsigned long len)
{
    __int128 off = (__int128)i - sc->begin;
    if (off % sc->step == 0 && off / sc->step >= 0 && off / sc->step < (__int128)len)
        ht_atomic_add(&c->cnt[(long)(off / sc->step)], 1);
    else
        ht_atomic_add(&c->stray, 1);
}

static void step_cases(counts *c, int n, int nowait)
{
    for (int s = 0; s < NSCHEDS; s++) {
        sched_case sch = scheds(s);
        for (int r = 0; r < NSTEPS; r++) {
            const step_case *sc = &steps[r];
            unsigned long len = step_count(sc);
            char what[200];
            snprintf(what, sizeof what, "team of %d, FMP_FOR_STEP%s, %s, %s", n,
                     nowait ? "_NOWAIT" : "", sch.name, sc->name);
            FMP_SINGLE
            {
                memset(c->cnt, 0, sizeof c->cnt);
                c->stray = 0;
            }
            if (nowait) {
                FMP_FOR_STEP_NOWAIT(i, sc->begin, sc->end, sc->step, sch.s)
                {
                    count_step(c, sc, i, len);
                }
                fmp_barrier();
            } else {
                FMP_FOR_STEP(i, sc->begin, sc->end, sc->step, sch.s)
                {
                    count_step(c, sc, i, len);
                }
            }
            check_once(c, len, what);
            fmp_barrier(); /* nobody resets before everyone checked */
        }
    }
}

typedef void (*cases_fn)(counts *c, int n, int nowait);

/* Every case of one construct in a team of n (0: outside any region). */
static void in_team(cases_fn cases, int n, int nowait)
{
    counts *c = ht_shared(sizeof *c);
    if (n == 0) {
        cases(c, 1, nowait);
    } else {
        FMP_PARALLEL(n) {
            HT_CHECK_INT_EQ(fmp_num_threads(), n);
            cases(c, n, nowait);
        }
    }
    HT_CHECK_INT_EQ(c->bad, 0);
}

static void test_step_team_of_1(void)
{
    in_team(step_cases, 1, 0);
}

static void test_step_team_of_3(void)
{
    in_team(step_cases, 3, 0);
}

static void test_step_team_of_4_nowait(void)
{
    in_team(step_cases, 4, 1);
}

static void test_step_outside_region(void)
{
    in_team(step_cases, 0, 0);
}

static void test_step_serial_order(void)
{
    /* one process runs the indices in the serial loop's order */
    long prev = 0;
    int k = 0, bad = 0;
    FMP_FOR_STEP(i, 100, -100, -9, fmp_dynamic(4))
    {
        if (k > 0 && i != prev - 9)
            bad++;
        prev = i;
        k++;
    }
    HT_CHECK_INT_EQ(bad, 0);
    HT_CHECK_INT_EQ(k, 23);
    HT_CHECK_INT_EQ(prev, -98);
}

/* Step 0 outside a region: the message of the catalogue naming the call site, no
   iteration, no hang. */
static void test_step_zero_outside_region(void)
{
    int ran = 0, line = __LINE__ + 2;
    ht_capture_stderr_begin();
    FMP_FOR_STEP(i, 0, 10, 0, fmp_static(0))
    {
        (void)i;
        ran++;
    }
    char *err = ht_capture_stderr_end();
    char want[512];
    snprintf(want, sizeof want, FMP__MSG_for_step_zero, __FILE__, line, 0L, 10L);
    HT_CHECK_INT_EQ(ran, 0);
    HT_CHECK_CONTAINS(err, want);
    free(err);
}

static void step_zero_body(void *arg)
{
    int *ran = arg;
    /* member 2 alone has step 0: the others must not wait for it for ever */
    long step = fmp_thread_num() == 2 ? 0 : 1;
    FMP_FOR_STEP(i, 0, 100, step, fmp_dynamic(1))
    {
        (void)i;
        ht_atomic_add(ran, 1);
    }
}

static void test_step_zero_in_team(void)
{
    int *ran = ht_shared(sizeof(int));
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int rc = fmp_parallel(4, step_zero_body, ran);
    HT_CHECK_INT_EQ(rc, FMP_EINVAL);
    HT_CHECK_CONTAINS(fmp_last_failure(), "FMP_FOR_STEP at ");
    HT_CHECK_CONTAINS(fmp_last_failure(), "the step is 0");
    HT_CHECK_CONTAINS(fmp_last_failure(), __FILE__);
    HT_CHECK_INT_EQ(ht_children_left(), 0);
}

static void step_break_body(void *arg)
{
    (void)arg;
    FMP_FOR_STEP(i, 0, 100, 3, fmp_static(0))
    {
        if (i > 20)
            break;
    }
}

static void test_step_break_is_reported(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int rc = fmp_parallel(3, step_break_body, NULL);
    HT_CHECK_INT_EQ(rc, FMP_EINVAL);
    HT_CHECK_CONTAINS(fmp_last_failure(), "left by break");
}

/* ---------------------------------------------------------------- FMP_FOR_COLLAPSE */

typedef struct coll_case {
    long a, b, c, d;
    const char *name;
} coll_case;

static const coll_case colls[] = {
    {0, 10, 0, 10, "10 x 10"},
    {-3, 4, -5, 6, "[-3, 4) x [-5, 6)"},
    {0, 7, 3, 3, "empty inner"},
    {5, 5, 0, 10, "empty outer"},
    {5, 0, 0, 10, "outer end < begin"},
    {0, 1, 0, 1000, "1 x 1000"},
    {0, 1000, 0, 1, "1000 x 1"},
    {0, 97, 0, 103, "97 x 103"},
    {LONG_MAX - 3, LONG_MAX, LONG_MIN, LONG_MIN + 5, "at LONG_MAX x at LONG_MIN"},
};
#define NCOLLS (int)(sizeof colls / sizeof colls[0])

static unsigned long span(long lo, long hi)
{
    return hi > lo ? (unsigned long)hi - (unsigned long)lo : 0;
}

static void count_pair(counts *c, const coll_case *cc, long i, long j)
{
    unsigned long ni = span(cc->a, cc->b), nj = span(cc->c, cc->d);
    unsigned long oi = (unsigned long)i - (unsigned long)cc->a;
    unsigned long oj = (unsigned long)j - (unsigned long)cc->c;
    if (oi < ni && oj < nj)
        ht_atomic_add(&c->cnt[oi * nj + oj], 1);
    else
        ht_atomic_add(&c->stray, 1);
}

static void collapse_cases(counts *c, int n, int nowait)
{
    for (int s = 0; s < NSCHEDS; s++) {
        sched_case sch = scheds(s);
        for (int r = 0; r < NCOLLS; r++) {
            const coll_case *cc = &colls[r];
            unsigned long len = span(cc->a, cc->b) * span(cc->c, cc->d);
            char what[200];
            snprintf(what, sizeof what, "team of %d, FMP_FOR_COLLAPSE%s, %s, %s", n,
                     nowait ? "_NOWAIT" : "", sch.name, cc->name);
            FMP_SINGLE
            {
                memset(c->cnt, 0, sizeof c->cnt);
                c->stray = 0;
            }
            if (nowait) {
                FMP_FOR_COLLAPSE_NOWAIT(i, cc->a, cc->b, j, cc->c, cc->d, sch.s)
                {
                    count_pair(c, cc, i, j);
                }
                fmp_barrier();
            } else {
                FMP_FOR_COLLAPSE(i, cc->a, cc->b, j, cc->c, cc->d, sch.s)
                {
                    count_pair(c, cc, i, j);
                }
            }
            check_once(c, len, what);
            fmp_barrier();
        }
    }
}

static void test_collapse_team_of_2(void)
{
    in_team(collapse_cases, 2, 0);
}

static void test_collapse_team_of_5_nowait(void)
{
    in_team(collapse_cases, 5, 1);
}

static void test_collapse_outside_region(void)
{
    in_team(collapse_cases, 0, 0);
    /* in the serial loops' order, i outer */
    long pi = -1, pj = 0;
    int bad = 0, k = 0;
    FMP_FOR_COLLAPSE(i, 0, 4, j, 10, 13, fmp_guided(1))
    {
        if (k > 0 && !((i == pi && j == pj + 1) || (i == pi + 1 && j == 10 && pj == 12)))
            bad++;
        pi = i;
        pj = j;
        k++;
    }
    HT_CHECK_INT_EQ(bad, 0);
    HT_CHECK_INT_EQ(k, 12);
}

static void test_collapse_overflow_refused(void)
{
    int ran = 0, line = __LINE__ + 2;
    ht_capture_stderr_begin();
    FMP_FOR_COLLAPSE(i, LONG_MIN, LONG_MAX, j, 0, 3, fmp_static(0))
    {
        (void)i;
        (void)j;
        ran++;
    }
    char *err = ht_capture_stderr_end();
    char want[512];
    snprintf(want, sizeof want, FMP__MSG_for_collapse_overflow, __FILE__, line, LONG_MIN, LONG_MAX,
             0L, 3L, ULONG_MAX, 3UL);
    HT_CHECK_INT_EQ(ran, 0);
    HT_CHECK_CONTAINS(err, want);
    free(err);
    /* in a team: the team's error, nobody hangs */
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    FMP_PARALLEL(3) {
        FMP_FOR_COLLAPSE(i, 0, 1L << 40, j, 0, 1L << 30, fmp_dynamic(1))
        {
            (void)i;
            (void)j;
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_EOVERFLOW);
    HT_CHECK_CONTAINS(fmp_last_failure(), "FMP_FOR_COLLAPSE at ");
}

/* ---------------------------------------------------------------- FMP_FOR_ORDERED */

static void log_index(counts *c, long i)
{
    /* inside the ordered block: no atomics needed, one member at a time */
    int p = c->pos;
    if (p < MAXLEN)
        c->order[p] = i;
    c->pos = p + 1;
}

/* Every iteration but those with i % 3 == 1 runs its ordered block; the log must hold
   exactly those, in order. */
static void check_order(counts *c, long begin, long end, const char *what)
{
    int k = 0, bad = 0;
    for (long i = begin; i < end; i++) {
        if (((i % 3) + 3) % 3 == 1)
            continue;
        if (k >= c->pos || c->order[k] != i) {
            if (bad++ < MAXMSG)
                HT_FAIL("%s: ordered block #%d was of iteration %ld, expected %ld", what, k,
                        k < c->pos ? c->order[k] : -1L, i);
        }
        k++;
    }
    if (c->pos != k && bad++ < MAXMSG)
        HT_FAIL("%s: %d ordered blocks ran, expected %d", what, c->pos, k);
    if (bad)
        ht_atomic_add(&c->bad, 1);
    else
        HT_PASS();
}

static void ordered_loop(counts *c, long begin, long end, fmp_schedule s)
{
    FMP_FOR_ORDERED(i, begin, end, s)
    {
        ht_atomic_add(&c->cnt[i - begin], 1);
        if (((i % 3) + 3) % 3 != 1) {
            FMP_ORDERED
            {
                log_index(c, i);
            }
        }
    }
}

static void ordered_cases(counts *c, int n, int nowait)
{
    (void)nowait;
    for (int s = 0; s < NSCHEDS; s++) {
        sched_case sch = scheds(s);
        static const long rg[][2] = {{0, 200}, {-37, 41}, {5, 5}, {0, 1}};
        for (int r = 0; r < 4; r++) {
            char what[160];
            snprintf(what, sizeof what, "team of %d, FMP_FOR_ORDERED, %s, [%ld, %ld)", n, sch.name,
                     rg[r][0], rg[r][1]);
            FMP_SINGLE
            {
                memset(c->cnt, 0, sizeof c->cnt);
                c->pos = 0;
            }
            ordered_loop(c, rg[r][0], rg[r][1], sch.s);
            check_once(c, (unsigned long)(rg[r][1] - rg[r][0]), what);
            if (fmp_thread_num() == 0)
                check_order(c, rg[r][0], rg[r][1], what);
            fmp_barrier();
        }
    }
}

static void test_ordered_team_of_1(void)
{
    in_team(ordered_cases, 1, 0);
}

static void test_ordered_team_of_2(void)
{
    in_team(ordered_cases, 2, 0);
}

static void test_ordered_team_of_3(void)
{
    in_team(ordered_cases, 3, 0);
}

static void test_ordered_team_of_6(void)
{
    /* more members than the cores of the CI machine */
    in_team(ordered_cases, 6, 0);
}

static void test_ordered_outside_region(void)
{
    in_team(ordered_cases, 0, 0);
}

/* An ordered block in a function that the loop's body calls (orphaned). */
static void ordered_in_callee(counts *c, long i)
{
    FMP_ORDERED
    {
        log_index(c, i);
    }
}

static void test_ordered_block_orphaned(void)
{
    counts *c = ht_shared(sizeof *c);
    FMP_PARALLEL(4) {
        FMP_FOR_ORDERED(i, 0, 300, fmp_dynamic(2))
        {
            ht_atomic_add(&c->cnt[i], 1);
            if (i % 3 != 1)
                ordered_in_callee(c, i);
        }
        check_once(c, 300, "ordered block in a called function");
    }
    check_order(c, 0, 300, "ordered block in a called function");
    HT_CHECK_INT_EQ(c->bad, 0);
}

/* Long unordered work in parallel with the ordered blocks: the nowait form, then more
   loops on the same descriptors than the ring holds.  The blocks of two nowait loops may
   run at the same time, so each loop logs into its own list (without atomics: one block
   of a loop at a time). */
typedef struct nowait_log {
    int pos[12];
    long order[12][100];
} nowait_log;

static void test_ordered_nowait_many(void)
{
    counts *c = ht_shared(sizeof *c);
    nowait_log *lg = ht_shared(sizeof *lg);
    FMP_PARALLEL(3) {
        for (int k = 0; k < 12; k++) {
            FMP_FOR_ORDERED_NOWAIT(i, k * 100L, k * 100L + 100, scheds(k % NSCHEDS).s)
            {
                ht_atomic_add(&c->cnt[i], 1);
                if (i % 3 != 1) {
                    FMP_ORDERED
                    {
                        int p = lg->pos[k];
                        if (p < 100)
                            lg->order[k][p] = i;
                        lg->pos[k] = p + 1;
                    }
                }
            }
        }
        fmp_barrier();
        check_once(c, 1200, "12 FMP_FOR_ORDERED_NOWAIT");
    }
    /* each loop's blocks in its order: every i with i % 3 != 1, once */
    int bad = 0;
    for (int k = 0; k < 12; k++) {
        long want = k * 100L;
        int n = 0;
        for (long i = want; i < want + 100; i++)
            n += i % 3 != 1;
        HT_CHECK_MSG(lg->pos[k] == n, "FMP_FOR_ORDERED_NOWAIT #%d (%s): %d blocks ran, %d expected",
                     k, scheds(k % NSCHEDS).name, lg->pos[k], n);
        for (int p = 0; p < lg->pos[k] && p < 100; p++) {
            if (want % 3 == 1)
                want++;
            if (lg->order[k][p] != want && bad++ < MAXMSG)
                HT_FAIL("FMP_FOR_ORDERED_NOWAIT #%d (%s): block of iteration %ld where %ld was due",
                        k, scheds(k % NSCHEDS).name, lg->order[k][p], want);
            want = lg->order[k][p] + 1;
        }
    }
    HT_CHECK_INT_EQ(bad, 0);
    HT_CHECK_INT_EQ(c->bad, 0);
}

/* ---------------------------------------------------------------- orphaned, teams, nesting */

static void all_three(counts *c, const char *what)
{
    FMP_SINGLE
    {
        memset(c->cnt, 0, sizeof c->cnt);
        c->pos = 0;
    }
    FMP_FOR_STEP(i, 300, 0, -3, fmp_guided(2))
    {
        ht_atomic_add(&c->cnt[(300 - i) / 3], 1);
    }
    FMP_FOR_COLLAPSE(i, 0, 10, j, 0, 10, fmp_static(3))
    {
        ht_atomic_add(&c->cnt[200 + i * 10 + j], 1);
    }
    ordered_loop(c, 400, 600, fmp_static(5));
    /* step loop: slots 0..99, collapse 200..299, ordered 400..599 (as offsets from 400 in
       the ordered loop: slots 0..199 again) */
    fmp_barrier();
    int bad = 0;
    for (int k = 0; k < 300; k++) {
        int want = k < 100 ? 2 : k < 200 ? 1 : k < 300 ? 1 : 0;
        if (ht_atomic_load(&c->cnt[k]) != want && bad++ < MAXMSG)
            HT_FAIL("%s: slot %d counted %d, expected %d", what, k, c->cnt[k], want);
    }
    if (bad)
        ht_atomic_add(&c->bad, 1);
    if (fmp_thread_num() == 0)
        check_order(c, 400, 600, what);
    fmp_barrier();
}

static void all_three_body(void *arg)
{
    counts *c = *(counts **)arg;
    all_three(c, "persistent team");
}

static void test_persistent_team_runs(void)
{
    counts *c = ht_shared(sizeof *c);
    fmp_team *t = fmp_team_create(3);
    HT_REQUIRE(t != NULL);
    for (int r = 0; r < 3; r++)
        HT_CHECK_INT_EQ(fmp_team_run(t, all_three_body, &c, sizeof c), FMP_OK);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
    HT_CHECK_INT_EQ(c->bad, 0);
}

static void test_orphaned_in_fmp_parallel(void)
{
    counts *c = ht_shared(sizeof *c);
    HT_CHECK_INT_EQ(fmp_parallel(4, all_three_body, &c), FMP_OK);
    HT_CHECK_INT_EQ(c->bad, 0);
    /* and outside any region */
    all_three(c, "outside regions");
    HT_CHECK_INT_EQ(c->bad, 0);
}

static void test_nested_regions(void)
{
    counts *cs = ht_shared(2 * sizeof(counts));
    fmp_set_nested(1);
    FMP_PARALLEL(2) {
        counts *c = &cs[fmp_thread_num()];
        FMP_PARALLEL(3) {
            HT_CHECK_INT_EQ(fmp_num_threads(), 3);
            all_three(c, "nested team");
        }
    }
    HT_CHECK_INT_EQ(cs[0].bad + cs[1].bad, 0);
    HT_CHECK_INT_EQ(cs[0].pos, 133); /* the i in [400, 600) with i % 3 != 1 */
    HT_CHECK_INT_EQ(cs[1].pos, 133);
}

/* ---------------------------------------------------------------- misuse and failures */

static void test_ordered_block_outside_ordered_loop(void)
{
    int ran = 0, line = __LINE__ + 2;
    ht_capture_stderr_begin();
    FMP_ORDERED
    {
        ran++;
    }
    char *err = ht_capture_stderr_end();
    char want[512];
    snprintf(want, sizeof want, FMP__MSG_ordered_outside, __FILE__, line);
    HT_CHECK_INT_EQ(ran, 1); /* one process: the block runs, with the message */
    HT_CHECK_CONTAINS(err, want);
    free(err);
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    FMP_PARALLEL(3) {
        FMP_FOR(i, 0, 30, fmp_dynamic(1)) {
            FMP_ORDERED
            {
                (void)i;
            }
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_EINVAL);
    HT_CHECK_CONTAINS(fmp_last_failure(), "FMP_ORDERED at ");
}

static void twice_body(void *arg)
{
    (void)arg;
    FMP_FOR_ORDERED(i, 0, 40, fmp_static(1))
    {
        FMP_ORDERED {}
        if (i == 7) {
            FMP_ORDERED {}
        }
    }
}

static void test_ordered_twice_in_an_iteration(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    HT_CHECK_INT_EQ(fmp_parallel(3, twice_body, NULL), FMP_EINVAL);
    HT_CHECK_CONTAINS(fmp_last_failure(), "iteration 7 of FMP_FOR_ORDERED");
}

/* Member 2 dies at its first ordered block; the others wait for its turns. */
static void dies_body(void *arg)
{
    (void)arg;
    FMP_FOR_ORDERED(i, 0, 60, fmp_static(1))
    {
        FMP_ORDERED
        {
            if (fmp_thread_num() == 2)
                kill(getpid(), SIGKILL);
        }
    }
}

static void test_ordered_member_dies(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    HT_CHECK_INT_EQ(fmp_parallel(4, dies_body, NULL), FMP_EMEMBER);
    HT_CHECK_CONTAINS(fmp_last_failure(), "member 2");
    HT_CHECK_INT_EQ(ht_children_left(), 0);
}

static void test_ordered_member_dies_abort_mode(void)
{
    /* the default mode: the program ends with status 70 and the diagnostic */
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/fmp-loopx-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    HT_REQUIRE(fd >= 0);
    fflush(NULL);
    pid_t pid = fork();
    HT_REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(fd, 2);
        fmp_set_error_mode(FMP_ERRORS_ABORT);
        fmp_parallel(3, dies_body, NULL);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    HT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == FMP_EXIT_FAILURE,
                 "the program ended with status 0x%x, expected exit %d", st, FMP_EXIT_FAILURE);
    char buf[4096] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    HT_CHECK_CONTAINS(buf, "member 2");
    close(fd);
    unlink(path);
}

static int leave_early(long stop)
{
    FMP_FOR_ORDERED(i, 0, 100, fmp_static(1))
    {
        if (i == stop)
            return 1; /* out of the loop, and of the function */
        FMP_ORDERED {}
    }
    return 0;
}

static void leaves_body(void *arg)
{
    (void)arg;
    leave_early(fmp_thread_num() == 1 ? 4 : -1); /* static(1): 4 is member 1's */
}

static void test_ordered_member_leaves_by_return(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int rc = fmp_parallel(3, leaves_body, NULL);
    HT_CHECK_INT_NE(rc, FMP_OK);
    HT_CHECK_CONTAINS(fmp_last_failure(), "FMP_FOR_ORDERED");
}

static void breaks_body(void *arg)
{
    (void)arg;
    FMP_FOR_ORDERED(i, 0, 100, fmp_dynamic(3))
    {
        if (i == 50)
            break;
        FMP_ORDERED {}
    }
}

static void test_ordered_break_is_reported(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    HT_CHECK_INT_EQ(fmp_parallel(3, breaks_body, NULL), FMP_EINVAL);
    HT_CHECK_CONTAINS(fmp_last_failure(), "left by break");
}

static const ht_test tests[] = {HT_TEST(test_step_team_of_1),
                                HT_TEST(test_step_team_of_3),
                                HT_TEST(test_step_team_of_4_nowait),
                                HT_TEST(test_step_outside_region),
                                HT_TEST(test_step_serial_order),
                                HT_TEST(test_step_zero_outside_region),
                                HT_TEST_TIMEOUT(test_step_zero_in_team, 15),
                                HT_TEST_TIMEOUT(test_step_break_is_reported, 15),
                                HT_TEST(test_collapse_team_of_2),
                                HT_TEST(test_collapse_team_of_5_nowait),
                                HT_TEST(test_collapse_outside_region),
                                HT_TEST_TIMEOUT(test_collapse_overflow_refused, 15),
                                HT_TEST(test_ordered_team_of_1),
                                HT_TEST(test_ordered_team_of_2),
                                HT_TEST(test_ordered_team_of_3),
                                HT_TEST(test_ordered_team_of_6),
                                HT_TEST(test_ordered_outside_region),
                                HT_TEST(test_ordered_block_orphaned),
                                HT_TEST(test_ordered_nowait_many),
                                HT_TEST(test_persistent_team_runs),
                                HT_TEST(test_orphaned_in_fmp_parallel),
                                HT_TEST(test_nested_regions),
                                HT_TEST_TIMEOUT(test_ordered_block_outside_ordered_loop, 15),
                                HT_TEST_TIMEOUT(test_ordered_twice_in_an_iteration, 15),
                                HT_TEST_TIMEOUT(test_ordered_member_dies, 15),
                                HT_TEST_TIMEOUT(test_ordered_member_dies_abort_mode, 15),
                                HT_TEST_TIMEOUT(test_ordered_member_leaves_by_return, 15),
                                HT_TEST_TIMEOUT(test_ordered_break_is_reported, 15),
                                HT_END};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "loopx", tests);
}
