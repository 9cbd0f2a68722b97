/* test_iterate: fmp_iterate (Pymp's p.iterate): every item is consumed exactly once across
 * the members, the master consumes too, values that look like sentinels do not end the
 * stream, items of 1 byte and of 4 KiB arrive whole, a linked list in the master's private
 * memory can be walked, and a consumer that dies does not hang the producer. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MAXN 16

typedef struct tally {
    int count[10002];   /* per item, by value + 1 */
    long got[MAXN];     /* what fmp_iterate returned in each member */
    long consumed[MAXN];/* what each member's body saw */
    int bad_items;
} tally;

/* ---------------------------------------------------------------- a generator of ints */

typedef struct gen {
    int next, end;
} gen;

/* values -1, 0, 1, ..., end-2: the first two look like sentinels */
static int gen_next(void *item, void *state)
{
    gen *g = state;
    if (g->next >= g->end)
        return 0;
    *(int *)item = g->next++ - 1;
    return 1;
}

typedef struct body_ctx {
    tally *t;
    int slow;
} body_ctx;

static void count_int(const void *item, void *arg)
{
    body_ctx *c = arg;
    int v = *(const int *)item;
    if (v < -1 || v > 10000) {
        ht_atomic_add(&c->t->bad_items, 1);
        return;
    }
    ht_atomic_add(&c->t->count[v + 1], 1);
    c->t->consumed[fmp_thread_num()]++;
    if (c->slow)
        ht_sleep(0.0002);
}

static void ints_case(int n, int items, int slow)
{
    tally *t = ht_shared(sizeof *t);
    FMP_PARALLEL(n) {
        int me = fmp_thread_num();
        gen g = { 0, items };
        body_ctx c = { t, slow };
        t->got[me] = fmp_iterate(gen_next, me == 0 ? &g : NULL, sizeof(int), count_int, &c);
    }
    long total = 0;
    for (int m = 0; m < n; m++) {
        HT_CHECK_MSG(t->got[m] >= 0, "team of %d: fmp_iterate returned %ld in member %d", n,
                     t->got[m], m);
        HT_CHECK_MSG(t->got[m] == t->consumed[m],
                     "team of %d: member %d's fmp_iterate returned %ld, its body ran %ld times",
                     n, m, t->got[m], t->consumed[m]);
        total += t->got[m];
    }
    HT_CHECK_INT_EQ(total, items);
    HT_CHECK_INT_EQ(t->bad_items, 0);
    int bad = 0;
    for (int v = 0; v < items; v++)
        if (t->count[v] != 1 && bad++ < 3)
            HT_FAIL("team of %d: item %d consumed %d times", n, v - 1, t->count[v]);
    HT_CHECK_INT_EQ(bad, 0);
    if (slow && n > 1)
        HT_CHECK_MSG(t->got[0] > 0, "team of %d with a slow body: the master consumed nothing",
                     n);
}

static void test_generator_team_of_4(void)
{
    ints_case(4, 10000, 0);
}

static void test_generator_team_of_2(void)
{
    ints_case(2, 10000, 0);
}

static void test_generator_team_of_7(void)
{
    ints_case(7, 3000, 0);
}

static void test_generator_team_of_1(void)
{
    ints_case(1, 10000, 0);
}

static void test_master_consumes_too(void)
{
    ints_case(3, 2000, 1);
}

static void test_sentinel_values_do_not_end(void)
{
    /* only -1 and 0, then the end: both must arrive */
    ints_case(3, 2, 0);
    ints_case(3, 1, 0);
    ints_case(3, 0, 0);
}

static void test_iterate_outside_region(void)
{
    tally *t = ht_shared(sizeof *t);
    gen g = { 0, 500 };
    body_ctx c = { t, 0 };
    HT_CHECK_INT_EQ(fmp_iterate(gen_next, &g, sizeof(int), count_int, &c), 500);
    for (int v = 0; v < 500; v++)
        HT_CHECK_INT_EQ(t->count[v], 1);
}

/* ---------------------------------------------------------------- a linked list */

typedef struct node {
    long key;
    double payload;
    struct node *next;
} node;

typedef struct item {
    long key;
    double payload;
} item;

static int list_next(void *it, void *state)
{
    node **cur = state;
    if (!*cur)
        return 0;
    item *i = it;
    i->key = (*cur)->key;
    i->payload = (*cur)->payload;
    *cur = (*cur)->next;
    return 1;
}

static void count_item(const void *it, void *arg)
{
    tally *t = arg;
    const item *i = it;
    if (i->key < 0 || i->key >= 10000 || i->payload != (double)i->key * 0.5) {
        ht_atomic_add(&t->bad_items, 1);
        return;
    }
    ht_atomic_add(&t->count[i->key], 1);
}

static void test_linked_list(void)
{
    enum { N = 5000 };
    node *head = NULL;
    for (long k = N - 1; k >= 0; k--) { /* in the master's private memory */
        node *nd = malloc(sizeof *nd);
        HT_REQUIRE(nd != NULL);
        nd->key = k;
        nd->payload = (double)k * 0.5;
        nd->next = head;
        head = nd;
    }
    tally *t = ht_shared(sizeof *t);
    FMP_PARALLEL(4) {
        node *cur = head;
        long got = fmp_iterate(list_next, &cur, sizeof(item), count_item, t);
        t->got[fmp_thread_num()] = got;
    }
    long total = 0;
    for (int m = 0; m < 4; m++)
        total += t->got[m];
    HT_CHECK_INT_EQ(total, N);
    HT_CHECK_INT_EQ(t->bad_items, 0);
    int bad = 0;
    for (int k = 0; k < N; k++)
        bad += t->count[k] != 1;
    HT_CHECK_MSG(bad == 0, "%d list items not consumed exactly once", bad);
    while (head) {
        node *nx = head->next;
        free(head);
        head = nx;
    }
}

/* ---------------------------------------------------------------- item sizes */

static int byte_next(void *it, void *state)
{
    int *k = state;
    if (*k >= 1000)
        return 0;
    *(unsigned char *)it = (unsigned char)(*k % 256); /* 0 and 255 included, many times */
    (*k)++;
    return 1;
}

static void count_byte(const void *it, void *arg)
{
    tally *t = arg;
    ht_atomic_add(&t->count[*(const unsigned char *)it], 1);
}

static void test_one_byte_items(void)
{
    tally *t = ht_shared(sizeof *t);
    FMP_PARALLEL(3) {
        int k = 0;
        t->got[fmp_thread_num()] = fmp_iterate(byte_next, &k, 1, count_byte, t);
    }
    HT_CHECK_INT_EQ(t->got[0] + t->got[1] + t->got[2], 1000);
    for (int v = 0; v < 256; v++) {
        int want = 1000 / 256 + (v < 1000 % 256);
        HT_CHECK_MSG(t->count[v] == want, "byte value %d consumed %d times, expected %d", v,
                     t->count[v], want);
    }
}

typedef struct page_item {
    long seq;
    unsigned char fill[4096 - sizeof(long)];
} page_item;

static int page_next(void *it, void *state)
{
    long *k = state;
    if (*k >= 600)
        return 0;
    page_item *p = it;
    p->seq = *k;
    for (size_t i = 0; i < sizeof p->fill; i++)
        p->fill[i] = (unsigned char)(p->seq * 31 + (long)i);
    (*k)++;
    return 1;
}

static void check_page(const void *it, void *arg)
{
    tally *t = arg;
    const page_item *p = it;
    int whole = p->seq >= 0 && p->seq < 600;
    for (size_t i = 0; whole && i < sizeof p->fill; i++)
        whole = p->fill[i] == (unsigned char)(p->seq * 31 + (long)i);
    if (!whole) {
        ht_atomic_add(&t->bad_items, 1);
        return;
    }
    ht_atomic_add(&t->count[p->seq], 1);
}

static void test_four_kib_items(void)
{
    HT_CHECK_INT_EQ(sizeof(page_item), 4096);
    tally *t = ht_shared(sizeof *t);
    FMP_PARALLEL(4) {
        long k = 0;
        t->got[fmp_thread_num()] = fmp_iterate(page_next, &k, sizeof(page_item), check_page, t);
    }
    HT_CHECK_INT_EQ(t->bad_items, 0);
    HT_CHECK_INT_EQ(t->got[0] + t->got[1] + t->got[2] + t->got[3], 600);
    int bad = 0;
    for (int k = 0; k < 600; k++)
        bad += t->count[k] != 1;
    HT_CHECK_MSG(bad == 0, "%d items of 4 KiB not consumed exactly once", bad);
}

static void test_iterate_twice_and_other_constructs(void)
{
    /* two iterates and a loop in a row: the construct ring goes round */
    tally *t = ht_shared(sizeof *t);
    tally *t2 = ht_shared(sizeof *t2);
    int *loop = ht_shared(100 * sizeof(int));
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        for (int round = 0; round < 5; round++) {
            gen g = { 0, 300 };
            body_ctx c = { round % 2 ? t2 : t, 0 };
            long got = fmp_iterate(gen_next, me == 0 ? &g : NULL, sizeof(int), count_int, &c);
            HT_CHECK_MSG(got >= 0, "round %d: fmp_iterate returned %ld", round, got);
            FMP_FOR(i, 0, 100, fmp_dynamic(3)) {
                ht_atomic_add(&loop[i], 1);
            }
        }
    }
    for (int v = 0; v < 300; v++) {
        HT_CHECK_MSG(t->count[v] == 3, "item %d: %d in the even rounds, expected 3", v - 1,
                     t->count[v]);
        HT_CHECK_MSG(t2->count[v] == 2, "item %d: %d in the odd rounds, expected 2", v - 1,
                     t2->count[v]);
    }
    for (int i = 0; i < 100; i++)
        HT_CHECK_INT_EQ(loop[i], 5);
}

/* ---------------------------------------------------------------- a dying consumer */

static void die_on_first(const void *it, void *arg)
{
    (void)it;
    tally *t = arg;
    if (fmp_thread_num() == 2)
        raise(SIGKILL);
    ht_atomic_add(&t->count[0], 1);
    ht_sleep(0.0005); /* slow consumers: member 2 surely gets an item */
}

static void dying_consumer_body(void *arg)
{
    tally *t = arg;
    gen g = { 0, 6000 };
    long got = fmp_iterate(gen_next, fmp_thread_num() == 0 ? &g : NULL, sizeof(int),
                           die_on_first, t);
    t->got[fmp_thread_num()] = got;
}

static tally *dying_consumer_case(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    tally *t = ht_shared(sizeof *t);
    for (int m = 0; m < MAXN; m++)
        t->got[m] = 12345;
    int rc = fmp_parallel(4, dying_consumer_body, t);
    HT_CHECK_MSG(rc == FMP_EMEMBER, "a consumer killed itself: fmp_parallel returned %d (%s), "
                 "expected FMP_EMEMBER", rc, fmp_strerror(rc));
    HT_CHECK_MSG(t->got[0] != 12345, "the producer never returned from fmp_iterate");
    HT_CHECK_CONTAINS(fmp_last_failure(), "member 2");
    HT_CHECK_CONTAINS(fmp_last_failure(), "SIGKILL");
    HT_CHECK_INT_EQ(ht_children_left(), 0);
    return t;
}

static void test_dying_consumer_does_not_hang(void)
{
    tally *t = dying_consumer_case();
    HT_CHECK_MSG(t->got[0] < 0, "the producer's fmp_iterate returned %ld, not an error, in a "
                 "team whose consumer died", t->got[0]);
}

static void test_dying_consumer_stops_the_stream(void)
{
    /* as loops and singles ("run nothing more" once the team is broken), the stream stops
       instead of feeding the surviving consumers to its end (6000 items take the slow
       consumers 2 s or more) */
    tally *t = dying_consumer_case();
    HT_CHECK_MSG(t->count[0] < 6000 - 1, "the stream went on to its end (%d items consumed) "
                 "after a consumer died", t->count[0]);
}

static const ht_test tests[] = {
    HT_TEST(test_generator_team_of_1),
    HT_TEST(test_generator_team_of_2),
    HT_TEST(test_generator_team_of_4),
    HT_TEST(test_generator_team_of_7),
    HT_TEST(test_master_consumes_too),
    HT_TEST(test_sentinel_values_do_not_end),
    HT_TEST(test_iterate_outside_region),
    HT_TEST(test_linked_list),
    HT_TEST(test_one_byte_items),
    HT_TEST(test_four_kib_items),
    HT_TEST(test_iterate_twice_and_other_constructs),
    HT_TEST_TIMEOUT(test_dying_consumer_does_not_hang, 15),
    HT_TEST_TIMEOUT(test_dying_consumer_stops_the_stream, 15),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "iterate", tests);
}
