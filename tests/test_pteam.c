/* test_pteam: persistent teams (fmp_team_create / fmp_team_run / fmp_team_destroy): the
 * argument copied by value at every run, the master's private memory as at create, shared
 * memory always, every construct inside a run, many short runs, a member dying between
 * runs, the members gone after destroy, and the calls made where they may not be. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MAXM 8

typedef struct rec {
    pid_t pid[MAXM];
    int runs[MAXM];
    int nthreads[MAXM];
    int step_seen[64][MAXM];
    int priv_seen[MAXM];
    long shared_seen[MAXM];
    int rc[MAXM];
    int ok[MAXM];
} rec;

static rec *g_rec;        /* set before create: the members have it */
static int g_private = 1; /* the master changes it after create */

static void record_body(void *arg)
{
    (void)arg;
    int me = fmp_thread_num();
    g_rec->pid[me] = getpid();
    g_rec->nthreads[me] = fmp_num_threads();
    ht_atomic_add(&g_rec->runs[me], 1);
}

static void test_create_run_destroy(void)
{
    g_rec = ht_shared(sizeof *g_rec);
    fmp_team *t = fmp_team_create(4);
    HT_REQUIRE(t != NULL);
    HT_CHECK_INT_EQ(fmp_team_size(t), 4);
    HT_CHECK_INT_EQ(fmp_team_run(t, record_body, NULL, 0), FMP_OK);
    HT_CHECK_INT_EQ(fmp_team_run(t, record_body, NULL, 0), FMP_OK);
    for (int m = 0; m < 4; m++) {
        HT_CHECK_INT_EQ(g_rec->runs[m], 2);
        HT_CHECK_INT_EQ(g_rec->nthreads[m], 4);
    }
    HT_CHECK_INT_EQ(g_rec->pid[0], getpid());
    pid_t members[3] = { g_rec->pid[1], g_rec->pid[2], g_rec->pid[3] };
    for (int m = 0; m < 3; m++)
        HT_CHECK_MSG(members[m] > 0 && members[m] != getpid() && ht_pid_alive(members[m]),
                     "member %d (pid %d) is not a live process between runs", m + 1,
                     (int)members[m]);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
    for (int m = 0; m < 3; m++)
        HT_CHECK_MSG(kill(members[m], 0) == -1 && errno == ESRCH,
                     "member %d (pid %d) still exists after fmp_team_destroy", m + 1,
                     (int)members[m]);
    HT_CHECK_INT_EQ(ht_children_left(), 0);
    /* outside runs the caller is alone again */
    HT_CHECK_INT_EQ(fmp_num_threads(), 1);
    HT_CHECK_INT_EQ(fmp_get_level(), 0);
}

typedef struct step_arg {
    int step;
    char text[40];
} step_arg;

static void step_body(void *arg)
{
    step_arg *a = arg;
    int me = fmp_thread_num();
    char want[40];
    snprintf(want, sizeof want, "step %d", a->step);
    if (a->step >= 0 && a->step < 64 && strcmp(a->text, want) == 0)
        g_rec->step_seen[a->step][me]++;
    a->step = -1; /* the member's own copy: never seen by anyone else */
}

static void test_argument_copied_by_value(void)
{
    g_rec = ht_shared(sizeof *g_rec);
    fmp_team *t = fmp_team_create(3);
    HT_REQUIRE(t != NULL);
    for (int s = 0; s < 20; s++) {
        step_arg a;
        a.step = s;
        snprintf(a.text, sizeof a.text, "step %d", s);
        HT_CHECK_INT_EQ(fmp_team_run(t, step_body, &a, sizeof a), FMP_OK);
        HT_CHECK_MSG(a.step == s, "run %d: the caller's argument was changed to %d", s, a.step);
    }
    for (int s = 0; s < 20; s++)
        for (int m = 0; m < 3; m++)
            HT_CHECK_MSG(g_rec->step_seen[s][m] == 1, "member %d saw step %d %d times", m, s,
                         g_rec->step_seen[s][m]);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
}

static long *g_shared_value;

static void memory_body(void *arg)
{
    (void)arg;
    int me = fmp_thread_num();
    g_rec->priv_seen[me] = g_private;
    g_rec->shared_seen[me] = *g_shared_value;
}

static void test_private_memory_as_at_create(void)
{
    g_rec = ht_shared(sizeof *g_rec);
    g_shared_value = fmp_shared_alloc(sizeof(long));
    HT_REQUIRE(g_shared_value != NULL);
    g_private = 1;
    *g_shared_value = 10;
    fmp_team *t = fmp_team_create(3);
    HT_REQUIRE(t != NULL);
    g_private = 2;          /* after create: members keep seeing 1 */
    *g_shared_value = 20;   /* shared: everyone sees 20 */
    HT_CHECK_INT_EQ(fmp_team_run(t, memory_body, NULL, 0), FMP_OK);
    HT_CHECK_INT_EQ(g_rec->priv_seen[0], 2);
    for (int m = 1; m < 3; m++) {
        HT_CHECK_MSG(g_rec->priv_seen[m] == 1, "member %d saw the master's private value %d, "
                     "expected 1 as at create", m, g_rec->priv_seen[m]);
    }
    for (int m = 0; m < 3; m++)
        HT_CHECK_INT_EQ(g_rec->shared_seen[m], 20);
    *g_shared_value = 30;
    HT_CHECK_INT_EQ(fmp_team_run(t, memory_body, NULL, 0), FMP_OK);
    for (int m = 0; m < 3; m++)
        HT_CHECK_INT_EQ(g_rec->shared_seen[m], 30);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
    fmp_shared_free(g_shared_value);
}

static long *g_late_block;

static void late_block_body(void *arg)
{
    (void)arg;
    int me = fmp_thread_num();
    int good = 1;
    for (int i = 0; i < 1000; i++)
        good &= g_late_block[i] == i * 3; /* g_late_block: the argument gives it */
    g_rec->ok[me] = good;
}

static void late_block_via_arg(void *arg)
{
    g_late_block = *(long **)arg;
    late_block_body(NULL);
}

static void test_shared_memory_allocated_after_create(void)
{
    g_rec = ht_shared(sizeof *g_rec);
    fmp_team *t = fmp_team_create(4);
    HT_REQUIRE(t != NULL);
    long *b = fmp_shared_alloc(1000 * sizeof(long));
    HT_REQUIRE(b != NULL);
    for (int i = 0; i < 1000; i++)
        b[i] = i * 3;
    HT_CHECK_INT_EQ(fmp_team_run(t, late_block_via_arg, &b, sizeof b), FMP_OK);
    for (int m = 0; m < 4; m++)
        HT_CHECK_MSG(g_rec->ok[m], "member %d does not see a block allocated after create", m);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
    fmp_shared_free(b);
}

/* ---------------------------------------------------------------- every construct */

typedef struct all_shared {
    int loop[3][300];
    int singles[10];
    long crit;
    double red_sum[MAXM];
    int gathered[MAXM];
    int items[500];
    int nested_n[MAXM];
    int nested_pids_distinct;
    int rcs[MAXM];
} all_shared;

static int item_next(void *item, void *state)
{
    int *k = state;
    if (*k >= 500)
        return 0;
    *(int *)item = (*k)++;
    return 1;
}

static void item_body(const void *item, void *arg)
{
    all_shared *s = arg;
    int v = *(const int *)item;
    if (v >= 0 && v < 500)
        ht_atomic_add(&s->items[v], 1);
}

static void constructs_body(void *arg)
{
    all_shared *s = *(all_shared **)arg;
    int me = fmp_thread_num(), n = fmp_num_threads();
    int rc = 0;
    FMP_FOR(i, 0, 300, fmp_static(0)) {
        ht_atomic_add(&s->loop[0][i], 1);
    }
    FMP_FOR(i, 0, 300, fmp_dynamic(7)) {
        ht_atomic_add(&s->loop[1][i], 1);
    }
    FMP_FOR_NOWAIT(i, 0, 300, fmp_guided(2)) {
        ht_atomic_add(&s->loop[2][i], 1);
    }
    rc |= fmp_barrier();
    for (int k = 0; k < 10; k++) {
        FMP_SINGLE {
            ht_atomic_add(&s->singles[k], 1);
        }
    }
    for (int k = 0; k < 100; k++) {
        FMP_CRITICAL {
            long v = s->crit;
            s->crit = v + 1;
        }
    }
    double x = me + 1, sum = 0;
    rc |= fmp_reduce(&x, &sum, 1, FMP_DOUBLE, FMP_SUM);
    s->red_sum[me] = sum;
    int mine = 100 + me, all[MAXM];
    rc |= fmp_gather(&mine, me == 0 ? all : NULL, sizeof mine);
    if (me == 0)
        memcpy(s->gathered, all, (size_t)n * sizeof(int));
    int k = 0;
    long got = fmp_iterate(item_next, me == 0 ? &k : NULL, sizeof(int), item_body, s);
    if (got < 0)
        rc |= (int)got;
    /* a nested region inside a run: one member unless nesting is on */
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 0)
            s->nested_n[me] = fmp_num_threads();
    }
    s->rcs[me] = rc;
}

static void test_every_construct_inside_a_run(void)
{
    all_shared *s = fmp_shared_alloc(sizeof *s);
    HT_REQUIRE(s != NULL);
    fmp_team *t = fmp_team_create(4);
    HT_REQUIRE(t != NULL);
    for (int run = 1; run <= 3; run++) {
        HT_CHECK_INT_EQ(fmp_team_run(t, constructs_body, &s, sizeof s), FMP_OK);
        for (int l = 0; l < 3; l++)
            for (int i = 0; i < 300; i++)
                if (!HT_CHECK_MSG(s->loop[l][i] == run, "run %d, loop %d: iteration %d ran "
                                  "%d times in all", run, l, i, s->loop[l][i]))
                    break;
        for (int k = 0; k < 10; k++)
            HT_CHECK_INT_EQ(s->singles[k], run);
        HT_CHECK_INT_EQ(s->crit, 400L * run);
        for (int m = 0; m < 4; m++) {
            HT_CHECK_MSG(s->red_sum[m] == 10.0, "run %d: member %d's reduction gave %g", run, m,
                         s->red_sum[m]);
            HT_CHECK_INT_EQ(s->gathered[m], 100 + m);
            HT_CHECK_INT_EQ(s->nested_n[m], 1);
            HT_CHECK_INT_EQ(s->rcs[m], 0);
        }
        for (int v = 0; v < 500; v++)
            if (!HT_CHECK_MSG(s->items[v] == run, "run %d: item %d consumed %d times in all",
                              run, v, s->items[v]))
                break;
    }
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
    fmp_shared_free(s);
}

static void nested_on_body(void *arg)
{
    rec *r = *(rec **)arg;
    int me = fmp_thread_num();
    FMP_PARALLEL(2) {
        int k = me * 2 + fmp_thread_num();
        if (k < MAXM) {
            r->pid[k] = getpid();
            r->nthreads[k] = fmp_num_threads();
        }
    }
}

static void test_nested_region_inside_a_run(void)
{
    fmp_set_nested(1);
    rec *r = ht_shared(sizeof *r);
    fmp_team *t = fmp_team_create(2);
    HT_REQUIRE(t != NULL);
    HT_CHECK_INT_EQ(fmp_team_run(t, nested_on_body, &r, sizeof r), FMP_OK);
    for (int k = 0; k < 4; k++)
        HT_CHECK_MSG(r->nthreads[k] == 2, "nested team in a run, process %d: team of %d", k,
                     r->nthreads[k]);
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            HT_CHECK_MSG(r->pid[i] != r->pid[j], "nested members %d and %d share pid %d", i, j,
                         (int)r->pid[i]);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
}

static void count_body(void *arg)
{
    int *counts = *(int **)arg;
    counts[fmp_thread_num()]++; /* one writer per slot */
}

static void test_many_short_runs(void)
{
    int *counts = ht_shared(MAXM * sizeof(int));
    fmp_team *t = fmp_team_create(4);
    HT_REQUIRE(t != NULL);
    int bad = 0;
    for (int k = 0; k < 1000; k++)
        if (fmp_team_run(t, count_body, &counts, sizeof counts) != FMP_OK && bad++ < 3)
            HT_FAIL("run %d failed", k);
    HT_CHECK_INT_EQ(bad, 0);
    for (int m = 0; m < 4; m++)
        HT_CHECK_INT_EQ(counts[m], 1000);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
}

/* ---------------------------------------------------------------- failures */

static void test_member_dying_between_runs(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    g_rec = ht_shared(sizeof *g_rec);
    fmp_team *t = fmp_team_create(4);
    HT_REQUIRE(t != NULL);
    HT_CHECK_INT_EQ(fmp_team_run(t, record_body, NULL, 0), FMP_OK);
    pid_t victim = g_rec->pid[2];
    HT_REQUIRE(victim > 0 && victim != getpid());
    HT_REQUIRE(kill(victim, SIGKILL) == 0);
    double end = ht_now() + 5;
    while (ht_pid_alive(victim) && ht_now() < end) /* dead (a zombie) before the next run */
        ht_sleep(0.001);
    int rc = fmp_team_run(t, record_body, NULL, 0);
    HT_CHECK_MSG(rc == FMP_EMEMBER, "the run after member 2 was killed returned %d (%s)", rc,
                 fmp_strerror(rc));
    char p[32];
    snprintf(p, sizeof p, "pid %d", (int)victim);
    HT_CHECK_CONTAINS(fmp_last_failure(), "member 2");
    HT_CHECK_CONTAINS(fmp_last_failure(), p);
    HT_CHECK_CONTAINS(fmp_last_failure(), "SIGKILL");
    /* the team stays broken; destroying it reaps everyone */
    rc = fmp_team_run(t, record_body, NULL, 0);
    HT_CHECK_MSG(rc < 0, "a run on a broken team returned %d", rc);
    fmp_team_destroy(t);
    for (int m = 1; m < 4; m++)
        HT_CHECK_MSG(!ht_pid_alive(g_rec->pid[m]), "member %d alive after destroy", m);
    HT_CHECK_INT_EQ(ht_children_left(), 0);
    /* the program goes on */
    int *count = ht_shared(sizeof(int));
    FMP_PARALLEL(2) {
        ht_atomic_add(count, 1);
    }
    HT_CHECK_INT_EQ(*count, 2);
}

static void crash_in_run_body(void *arg)
{
    (void)arg;
    if (fmp_thread_num() == 1)
        raise(SIGSEGV);
    fmp_barrier();
}

static void test_member_crash_inside_a_run(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    fmp_team *t = fmp_team_create(3);
    HT_REQUIRE(t != NULL);
    int rc = fmp_team_run(t, crash_in_run_body, NULL, 0);
    HT_CHECK_MSG(rc == FMP_EMEMBER, "a run whose member 1 crashed returned %d (%s)", rc,
                 fmp_strerror(rc));
    HT_CHECK_CONTAINS(fmp_last_failure(), "SIGSEGV");
    fmp_team_destroy(t);
    HT_CHECK_INT_EQ(ht_children_left(), 0);
}

static void nested_run_body(void *arg)
{
    fmp_team *t = *(fmp_team **)arg; /* the handle travels by value */
    int me = fmp_thread_num();
    g_rec->rc[me] = fmp_team_run(t, record_body, NULL, 0);
}

static void test_run_from_inside_a_run(void)
{
    g_rec = ht_shared(sizeof *g_rec);
    fmp_team *t = fmp_team_create(3);
    HT_REQUIRE(t != NULL);
    HT_CHECK_INT_EQ(fmp_team_run(t, nested_run_body, &t, sizeof t), FMP_OK);
    for (int m = 0; m < 3; m++)
        HT_CHECK_MSG(g_rec->rc[m] == FMP_ESTATE, "fmp_team_run from inside a run, member %d: "
                     "%d, expected FMP_ESTATE", m, g_rec->rc[m]);
    HT_CHECK_INT_EQ(g_rec->runs[0], 0); /* the inner runs ran nothing */
    HT_CHECK_INT_EQ(fmp_team_run(t, record_body, NULL, 0), FMP_OK); /* still usable */
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
}

static void test_run_from_a_child(void)
{
    g_rec = ht_shared(sizeof *g_rec);
    fmp_team *t = fmp_team_create(2);
    HT_REQUIRE(t != NULL);
    int *rcs = ht_shared(4 * sizeof(int));
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            rcs[0] = fmp_team_run(t, record_body, NULL, 0);
            rcs[1] = fmp_team_destroy(t);
        }
    }
    HT_CHECK_INT_EQ(rcs[0], FMP_ESTATE);
    HT_CHECK_INT_EQ(rcs[1], FMP_ESTATE);
    HT_CHECK_INT_EQ(fmp_team_run(t, record_body, NULL, 0), FMP_OK); /* still usable */
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
}

static void test_team_of_one(void)
{
    g_rec = ht_shared(sizeof *g_rec);
    fmp_team *t = fmp_team_create(1);
    HT_REQUIRE(t != NULL);
    HT_CHECK_INT_EQ(fmp_team_size(t), 1);
    HT_CHECK_INT_EQ(fmp_team_run(t, record_body, NULL, 0), FMP_OK);
    HT_CHECK_INT_EQ(g_rec->pid[0], getpid());
    HT_CHECK_INT_EQ(g_rec->runs[0], 1);
    HT_CHECK_INT_EQ(g_rec->nthreads[0], 1);
    HT_CHECK_INT_EQ(ht_children_left(), 0);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
}

static void test_bad_arguments(void)
{
    g_rec = ht_shared(sizeof *g_rec);
    errno = 0;
    HT_CHECK(fmp_team_create(-1) == NULL);
    HT_CHECK_INT_EQ(errno, EINVAL);
    HT_CHECK_INT_EQ(fmp_team_run(NULL, record_body, NULL, 0), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_team_destroy(NULL), FMP_EINVAL);
    fmp_team *t = fmp_team_create(2);
    HT_REQUIRE(t != NULL);
    HT_CHECK_INT_EQ(fmp_team_run(t, NULL, NULL, 0), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_team_run(t, record_body, NULL, 16), FMP_EINVAL);
    HT_CHECK_INT_EQ(g_rec->runs[0], 0);
    HT_CHECK_INT_EQ(fmp_team_run(t, record_body, NULL, 0), FMP_OK); /* still fine */
    HT_CHECK_INT_EQ(g_rec->runs[1], 1);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
}

static void test_default_size_team(void)
{
    setenv("FMP_NUM_THREADS", "3", 1);
    g_rec = ht_shared(sizeof *g_rec);
    fmp_team *t = fmp_team_create(0);
    HT_REQUIRE(t != NULL);
    HT_CHECK_INT_EQ(fmp_team_size(t), 3);
    HT_CHECK_INT_EQ(fmp_team_run(t, record_body, NULL, 0), FMP_OK);
    HT_CHECK_INT_EQ(g_rec->nthreads[2], 3);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
}

static void test_two_teams_and_regions_between(void)
{
    g_rec = ht_shared(sizeof *g_rec);
    fmp_team *a = fmp_team_create(2);
    fmp_team *b = fmp_team_create(3);
    HT_REQUIRE(a && b);
    int *count = ht_shared(sizeof(int));
    for (int k = 0; k < 5; k++) {
        HT_CHECK_INT_EQ(fmp_team_run(a, record_body, NULL, 0), FMP_OK);
        FMP_PARALLEL(2) {
            ht_atomic_add(count, 1);
        }
        HT_CHECK_INT_EQ(fmp_team_run(b, record_body, NULL, 0), FMP_OK);
    }
    HT_CHECK_INT_EQ(*count, 10);
    HT_CHECK_INT_EQ(g_rec->runs[0], 10);
    HT_CHECK_INT_EQ(g_rec->runs[1], 10);
    HT_CHECK_INT_EQ(g_rec->runs[2], 5);
    HT_CHECK_INT_EQ(fmp_team_destroy(a), FMP_OK);
    HT_CHECK_INT_EQ(fmp_team_destroy(b), FMP_OK);
}

static const ht_test tests[] = {
    HT_TEST(test_create_run_destroy),
    HT_TEST(test_argument_copied_by_value),
    HT_TEST(test_private_memory_as_at_create),
    HT_TEST(test_shared_memory_allocated_after_create),
    HT_TEST(test_every_construct_inside_a_run),
    HT_TEST(test_nested_region_inside_a_run),
    HT_TEST_TIMEOUT(test_many_short_runs, 60),
    HT_TEST_TIMEOUT(test_member_dying_between_runs, 15),
    HT_TEST_TIMEOUT(test_member_crash_inside_a_run, 15),
    HT_TEST(test_run_from_inside_a_run),
    HT_TEST(test_run_from_a_child),
    HT_TEST(test_team_of_one),
    HT_TEST(test_bad_arguments),
    HT_TEST(test_default_size_team),
    HT_TEST(test_two_teams_and_regions_between),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "pteam", tests);
}
