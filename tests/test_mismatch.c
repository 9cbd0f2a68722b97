/* test_mismatch: members that meet different worksharing constructs (a skipped barrier, a
 * skipped loop, loops with different bounds, single and barrier in a different order, a
 * reduction of a different count, iterates of different item sizes) are reported with
 * FMP_EMISMATCH in return mode, with a message that names the construct and the call
 * site, and nobody hangs. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

typedef void (*body_fn)(void *);

/* Run body in a team of 4 in return mode; check FMP_EMISMATCH and that the message holds
   every one of the words (NULL-terminated; "A|B" means A or B). */
static void mismatch_case(const char *what, body_fn body, const char *const words[])
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int rc = fmp_parallel(4, body, NULL);
    HT_CHECK_MSG(rc == FMP_EMISMATCH, "%s: fmp_parallel returned %d (%s), expected "
                 "FMP_EMISMATCH", what, rc, fmp_strerror(rc));
    const char *f = fmp_last_failure();
    for (int i = 0; words[i]; i++) {
        char alt[128];
        snprintf(alt, sizeof alt, "%s", words[i]);
        int found = 0;
        for (char *save = NULL, *w = strtok_r(alt, "|", &save); w && !found;
             w = strtok_r(NULL, "|", &save))
            found = strstr(f, w) != NULL;
        HT_CHECK_MSG(found, "%s: the report does not name \"%s\": \"%s\"", what, words[i], f);
    }
    HT_CHECK_INT_EQ(ht_children_left(), 0);
    /* and the program goes on: a clean region works */
    int *count = ht_shared(sizeof(int));
    FMP_PARALLEL(3) {
        ht_atomic_add(count, 1);
    }
    HT_CHECK_INT_EQ(*count, 3);
}

static void skip_barrier(void *arg)
{
    (void)arg;
    if (fmp_thread_num() != 1)
        fmp_barrier();
}

static void test_member_skips_a_barrier(void)
{
    mismatch_case("member 1 skips fmp_barrier", skip_barrier,
                  (const char *const[]){ "fmp_barrier", "test_mismatch.c", NULL });
}

static void reduce_then_skip(void *arg)
{
    (void)arg;
    double in[8] = {0}, out[8];
    long n = fmp_thread_num() == 1 ? 4 : 8;
    fmp_reduce(in, out, (size_t)n, FMP_DOUBLE, FMP_MAX);
    if (fmp_thread_num() != 2)
        fmp_barrier();
}

/* the last construct before the mismatch, a reduction, named by its count, type and op
   (its arguments were printed as enum numbers: "(8, 13, 4)") */
static void test_last_reduction_is_named(void)
{
    mismatch_case("member 2 skips the barrier after a reduction", reduce_then_skip,
                  (const char *const[]){"the last fmp_reduce",
                                        "of 8 elements of FMP_DOUBLE by FMP_MAX", NULL});
}

static void skip_barrier_then_more(void *arg)
{
    (void)arg;
    /* member 2 skips the first of two barriers: it is one construct behind */
    if (fmp_thread_num() != 2)
        fmp_barrier();
    fmp_barrier();
    fmp_barrier();
}

static void test_member_skips_one_of_several_barriers(void)
{
    mismatch_case("member 2 skips one barrier of three", skip_barrier_then_more,
                  (const char *const[]){ "fmp_barrier", NULL });
}

static void skip_static_for(void *arg)
{
    (void)arg;
    if (fmp_thread_num() != 3) {
        FMP_FOR(i, 0, 100, fmp_static(0)) {
            (void)i;
        }
    }
    fmp_barrier();
}

static void test_member_skips_a_static_for(void)
{
    mismatch_case("member 3 skips a static FMP_FOR", skip_static_for,
                  (const char *const[]){ "FMP_FOR", NULL });
}

static void skip_dynamic_for(void *arg)
{
    (void)arg;
    if (fmp_thread_num() != 1) {
        FMP_FOR(i, 0, 100, fmp_dynamic(2)) {
            (void)i;
        }
    }
}

static void test_member_skips_a_dynamic_for(void)
{
    mismatch_case("member 1 skips a dynamic FMP_FOR", skip_dynamic_for,
                  (const char *const[]){ "FMP_FOR", NULL });
}

static void different_bounds_static(void *arg)
{
    (void)arg;
    long end = fmp_thread_num() == 2 ? 200 : 100;
    FMP_FOR(i, 0, end, fmp_static(0)) {
        (void)i;
    }
}

static void test_loops_with_different_bounds_static(void)
{
    mismatch_case("static FMP_FOR, member 2 has other bounds", different_bounds_static,
                  (const char *const[]){ "FMP_FOR", "test_mismatch.c", NULL });
}

static void different_bounds_dynamic(void *arg)
{
    (void)arg;
    long begin = fmp_thread_num() == 1 ? 5 : 0;
    FMP_FOR(i, begin, 100, fmp_dynamic(1)) {
        (void)i;
    }
}

static void test_loops_with_different_bounds_dynamic(void)
{
    mismatch_case("dynamic FMP_FOR, member 1 has other bounds", different_bounds_dynamic,
                  (const char *const[]){ "FMP_FOR", "test_mismatch.c", NULL });
}

static void different_schedules(void *arg)
{
    (void)arg;
    fmp_schedule s = fmp_thread_num() == 3 ? fmp_guided(1) : fmp_dynamic(1);
    FMP_FOR(i, 0, 100, s) {
        (void)i;
    }
}

static void test_loops_with_different_schedules(void)
{
    mismatch_case("FMP_FOR, member 3 has another schedule", different_schedules,
                  (const char *const[]){ "FMP_FOR", NULL });
}

static void single_barrier_order(void *arg)
{
    (void)arg;
    if (fmp_thread_num() == 0) {
        FMP_SINGLE {
        }
        fmp_barrier();
    } else {
        fmp_barrier();
        FMP_SINGLE {
        }
    }
}

static void test_single_and_barrier_in_other_order(void)
{
    mismatch_case("FMP_SINGLE and fmp_barrier in another order", single_barrier_order,
                  (const char *const[]){ "fmp_barrier|SINGLE", NULL });
}

static void reduce_counts(void *arg)
{
    (void)arg;
    double in[4] = { 1, 2, 3, 4 }, out[4];
    fmp_reduce(in, out, fmp_thread_num() == 1 ? 3 : 4, FMP_DOUBLE, FMP_SUM);
}

static void test_reductions_of_different_counts(void)
{
    mismatch_case("fmp_reduce with another count in member 1", reduce_counts,
                  (const char *const[]){ "fmp_reduce", NULL });
}

static void reduce_vs_barrier(void *arg)
{
    (void)arg;
    double x = 1, y;
    if (fmp_thread_num() == 2)
        fmp_barrier();
    else
        fmp_reduce(&x, &y, 1, FMP_DOUBLE, FMP_SUM);
}

static void test_reduce_against_barrier(void)
{
    mismatch_case("fmp_reduce in 3 members, fmp_barrier in member 2", reduce_vs_barrier,
                  (const char *const[]){ "fmp_reduce|fmp_barrier", NULL });
}

static void reduce_vs_reduce_into(void *arg)
{
    (void)arg;
    double x = 1, y = 5;
    if (fmp_thread_num() == 3)
        fmp_reduce(&x, &y, 1, FMP_DOUBLE, FMP_SUM);
    else
        fmp_reduce_into(&x, &y, 1, FMP_DOUBLE, FMP_SUM);
}

static void test_reduce_against_reduce_into(void)
{
    /* the two combine differently: a member that calls the other one is a mismatch */
    mismatch_case("fmp_reduce_into in 3 members, fmp_reduce in member 3", reduce_vs_reduce_into,
                  (const char *const[]){ "fmp_reduce_into", "fmp_reduce (", NULL });
}

static int one_item(void *item, void *state)
{
    int *k = state;
    if (*k >= 10)
        return 0;
    *(int *)item = (*k)++;
    return 1;
}

static void eat(const void *item, void *arg)
{
    (void)item;
    (void)arg;
}

static void iterate_sizes(void *arg)
{
    (void)arg;
    int k = 0;
    fmp_iterate(one_item, &k, fmp_thread_num() == 1 ? sizeof(long long) : sizeof(int), eat,
                NULL);
}

static void test_iterates_of_different_item_sizes(void)
{
    mismatch_case("fmp_iterate with another item size in member 1", iterate_sizes,
                  (const char *const[]){ "fmp_iterate", NULL });
}

static void loop_against_single(void *arg)
{
    (void)arg;
    if (fmp_thread_num() == 3) {
        FMP_SINGLE {
        }
    } else {
        FMP_FOR(i, 0, 10, fmp_dynamic(1)) {
            (void)i;
        }
    }
}

static void test_loop_against_single(void)
{
    mismatch_case("FMP_FOR in 3 members, FMP_SINGLE in member 3", loop_against_single,
                  (const char *const[]){ "FMP_FOR|SINGLE", NULL });
}

/* ---------------------------------------------------------------- the porting kit's loops */

static void step_different_steps(void *arg)
{
    (void)arg;
    long step = fmp_thread_num() == 1 ? 3 : 2;
    FMP_FOR_STEP(i, 0, 100, step, fmp_static(0))
    {
        (void)i;
    }
}

static void test_step_loops_with_different_steps(void)
{
    mismatch_case("static FMP_FOR_STEP, member 1 has another step", step_different_steps,
                  (const char *const[]){"FMP_FOR_STEP", "test_mismatch.c", NULL});
}

static void skip_step_for(void *arg)
{
    (void)arg;
    if (fmp_thread_num() != 2) {
        FMP_FOR_STEP(i, 100, 0, -5, fmp_guided(2))
        {
            (void)i;
        }
    }
    fmp_barrier();
}

static void test_member_skips_a_step_for(void)
{
    mismatch_case("member 2 skips a guided FMP_FOR_STEP", skip_step_for,
                  (const char *const[]){"FMP_FOR_STEP|fmp_barrier", NULL});
}

static void collapse_different_inner(void *arg)
{
    (void)arg;
    long d = fmp_thread_num() == 3 ? 9 : 10;
    FMP_FOR_COLLAPSE(i, 0, 10, j, 0, d, fmp_dynamic(4))
    {
        (void)i;
        (void)j;
    }
}

static void test_collapse_loops_with_different_inner_bounds(void)
{
    mismatch_case(
        "dynamic FMP_FOR_COLLAPSE, member 3 has other inner bounds", collapse_different_inner,
        (const char *const[]){"FMP_FOR_COLLAPSE", "[0, 10) x [0, 9)|[0, 10) x [0, 10)", NULL});
}

/* member 1 skips an ordered loop: the others wait for its turns */
static void skip_ordered(void *arg)
{
    double delay = *(const double *)arg;
    if (fmp_thread_num() != 1) {
        FMP_FOR_ORDERED(i, 0, 40, fmp_static(1))
        {
            FMP_ORDERED
            {
                (void)i;
            }
        }
    } else {
        ht_sleep(delay);
    }
    fmp_barrier();
}

static void skip_ordered_after(double delay, const char *what)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int rc = fmp_parallel(4, skip_ordered, &delay);
    HT_CHECK_MSG(rc == FMP_EMISMATCH, "%s: fmp_parallel returned %d (%s)", what, rc,
                 fmp_strerror(rc));
    HT_CHECK_CONTAINS(fmp_last_failure(), "member 1 reached fmp_barrier");
    HT_CHECK_CONTAINS(fmp_last_failure(), "without meeting FMP_FOR_ORDERED at");
    HT_CHECK_INT_EQ(ht_children_left(), 0);
}

static void test_member_skips_an_ordered_loop_first(void)
{
    /* member 1 waits in the barrier before the others enter the loop */
    skip_ordered_after(0, "member 1 in the barrier first");
}

static void test_member_skips_an_ordered_loop_late(void)
{
    /* the others wait for member 1's turn before it reaches the barrier */
    skip_ordered_after(0.3, "member 1 in the barrier last");
}

static void skip_ordered_to_region_end(void *arg)
{
    (void)arg;
    if (fmp_thread_num() != 2) {
        FMP_FOR_ORDERED_NOWAIT(i, 0, 40, fmp_dynamic(1))
        {
            FMP_ORDERED
            {
                (void)i;
            }
        }
    }
}

static void test_member_skips_an_ordered_loop_to_the_region_end(void)
{
    mismatch_case("member 2 skips a dynamic FMP_FOR_ORDERED_NOWAIT", skip_ordered_to_region_end,
                  (const char *const[]){"FMP_FOR_ORDERED", "the end of the region", NULL});
}

static void ordered_against_for(void *arg)
{
    (void)arg;
    if (fmp_thread_num() == 3) {
        FMP_FOR(i, 0, 40, fmp_dynamic(1)) {
            (void)i;
        }
    } else {
        FMP_FOR_ORDERED(i, 0, 40, fmp_dynamic(1))
        {
            FMP_ORDERED
            {
                (void)i;
            }
        }
    }
}

static void test_ordered_loop_against_for(void)
{
    mismatch_case("FMP_FOR_ORDERED in 3 members, FMP_FOR in member 3", ordered_against_for,
                  (const char *const[]){"FMP_FOR_ORDERED", "FMP_FOR at", NULL});
}

static void matched(void *arg)
{
    (void)arg;
    double x = 1, y = 0;
    for (int k = 0; k < 3; k++) {
        FMP_FOR_STEP(i, 50, 0, -3, fmp_static(0))
        {
            (void)i;
        }
        FMP_FOR_COLLAPSE(i, 0, 5, j, 0, 5, fmp_guided(1))
        {
            (void)i;
            (void)j;
        }
        FMP_FOR_ORDERED(i, 0, 20, fmp_static(1))
        {
            FMP_ORDERED
            {
                (void)i;
            }
        }
        FMP_FOR(i, 0, 50, fmp_dynamic(1)) {
            (void)i;
        }
        FMP_SINGLE {
        }
        fmp_barrier();
        fmp_reduce(&x, &y, 1, FMP_DOUBLE, FMP_SUM);
    }
}

static void test_matching_constructs_are_no_mismatch(void)
{
    /* the control: the same constructs in the same order pass */
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    HT_CHECK_INT_EQ(fmp_parallel(4, matched, NULL), FMP_OK);
}

static const ht_test tests[] = {
    HT_TEST_TIMEOUT(test_member_skips_a_barrier, 15),
    HT_TEST_TIMEOUT(test_member_skips_one_of_several_barriers, 15),
    HT_TEST_TIMEOUT(test_member_skips_a_static_for, 15),
    HT_TEST_TIMEOUT(test_member_skips_a_dynamic_for, 15),
    HT_TEST_TIMEOUT(test_loops_with_different_bounds_static, 15),
    HT_TEST_TIMEOUT(test_loops_with_different_bounds_dynamic, 15),
    HT_TEST_TIMEOUT(test_loops_with_different_schedules, 15),
    HT_TEST_TIMEOUT(test_single_and_barrier_in_other_order, 15),
    HT_TEST_TIMEOUT(test_reductions_of_different_counts, 15),
    HT_TEST_TIMEOUT(test_reduce_against_barrier, 15),
    HT_TEST_TIMEOUT(test_reduce_against_reduce_into, 15),
    HT_TEST_TIMEOUT(test_iterates_of_different_item_sizes, 15),
    HT_TEST_TIMEOUT(test_loop_against_single, 15),
    HT_TEST_TIMEOUT(test_step_loops_with_different_steps, 15),
    HT_TEST_TIMEOUT(test_member_skips_a_step_for, 15),
    HT_TEST_TIMEOUT(test_collapse_loops_with_different_inner_bounds, 15),
    HT_TEST_TIMEOUT(test_member_skips_an_ordered_loop_first, 15),
    HT_TEST_TIMEOUT(test_member_skips_an_ordered_loop_late, 15),
    HT_TEST_TIMEOUT(test_member_skips_an_ordered_loop_to_the_region_end, 15),
    HT_TEST_TIMEOUT(test_ordered_loop_against_for, 15),
    HT_TEST_TIMEOUT(test_matching_constructs_are_no_mismatch, 15),
    HT_TEST_TIMEOUT(test_last_reduction_is_named, 15),
    HT_END};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "mismatch", tests);
}
