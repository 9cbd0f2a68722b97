/* test_shared: fmp_shared_alloc / fmp_shared_free: zero-filled, aligned, the same address
 * in every member of every team (also for blocks allocated after a fork or after a
 * persistent team was created), space given back by free, a large block costs no memory
 * until touched, and a small arena (FMP_SHARED_SIZE) fails an allocation cleanly. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MIB ((size_t)1 << 20)

static int all_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return 0;
    return 1;
}

static void test_zero_filled_and_aligned(void)
{
    static const size_t sizes[] = { 1, 7, 63, 64, 65, 100, 1000, 4095, 4096, 4097, 5000,
                                    65536, 1000000, 3 * MIB + 5 };
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *blocks[sizeof sizes / sizeof sizes[0]];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        unsigned char *p = fmp_shared_alloc(n);
        blocks[k] = p;
        if (!HT_CHECK_MSG(p != NULL, "fmp_shared_alloc(%zu) failed: %s", n, strerror(errno)))
            continue;
        HT_CHECK_MSG(((uintptr_t)p & 63) == 0, "fmp_shared_alloc(%zu) = %p: not 64-byte aligned",
                     n, (void *)p);
        if (n >= 4096)
            HT_CHECK_MSG(((uintptr_t)p & (page - 1)) == 0,
                         "fmp_shared_alloc(%zu) = %p: not page aligned", n, (void *)p);
        HT_CHECK_MSG(all_zero(p, n), "fmp_shared_alloc(%zu): not zero-filled", n);
        memset(p, 0xA5, n); /* dirty it: the next blocks must still be zero */
    }
    /* blocks do not overlap: each still holds its own pattern */
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        unsigned char *p = blocks[k];
        if (!p)
            continue;
        HT_CHECK_MSG(p[0] == 0xA5 && p[sizes[k] - 1] == 0xA5, "block %zu was overwritten", k);
    }
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        fmp_shared_free(blocks[k]);
    /* freed and allocated again: zero again, whatever address it got */
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        void *p = fmp_shared_alloc(sizes[k]);
        if (HT_CHECK(p != NULL))
            HT_CHECK_MSG(all_zero(p, sizes[k]), "block of %zu bytes allocated again after a "
                         "free is not zero-filled", sizes[k]);
        blocks[k] = p;
    }
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        fmp_shared_free(blocks[k]);
}

typedef struct shared_rec {
    long *child_block;   /* allocated by member 1 inside the region */
    long *seen_at[8];    /* the address each member saw */
    int ok[8];
} shared_rec;

static void test_same_address_everywhere(void)
{
    long *a = fmp_shared_alloc(1008 * sizeof(long)); /* [1000 + m]: written by member m */
    shared_rec *rec = fmp_shared_alloc(sizeof *rec);
    HT_REQUIRE(a && rec);
    for (int i = 0; i < 1000; i++)
        a[i] = 3 * i + 1;
    FMP_PARALLEL(4) {
        int me = fmp_thread_num();
        rec->seen_at[me] = a;
        int good = 1;
        for (int i = 0; i < 1000; i++)
            good &= a[i] == 3 * i + 1;
        HT_CHECK_MSG(good, "member %d does not see the master's data in the shared block", me);
        a[1000 + me] = -me - 1; /* seen by the master after the join */
        if (me == 1) {
            long *b = fmp_shared_alloc(500 * sizeof(long));
            if (HT_CHECK(b != NULL)) {
                for (int i = 0; i < 500; i++)
                    b[i] = 7 * i;
            }
            rec->child_block = b;
        }
        HT_CHECK_INT_EQ(fmp_barrier(), FMP_OK);
        long *b = rec->child_block;
        if (b) {
            int good_b = 1;
            for (int i = 0; i < 500; i++)
                good_b &= b[i] == 7 * i;
            HT_CHECK_MSG(good_b, "member %d does not see the block member 1 allocated after "
                         "the fork at %p", me, (void *)b);
        }
        rec->ok[me] = 1;
    }
    for (int m = 0; m < 4; m++) {
        HT_CHECK_MSG(rec->ok[m], "member %d did not finish", m);
        HT_CHECK_MSG(rec->seen_at[m] == a, "member %d saw the block at %p, the master at %p", m,
                     (void *)rec->seen_at[m], (void *)a);
        HT_CHECK_INT_EQ(a[1000 + m], -m - 1);
    }
    long *b = rec->child_block;
    if (HT_CHECK_MSG(b != NULL, "member 1's block did not reach the master")) {
        int good = 1;
        for (int i = 0; i < 500; i++)
            good &= b[i] == 7 * i;
        HT_CHECK_MSG(good, "the master does not see after the join what member 1 wrote in a "
                     "block it allocated after the fork");
        fmp_shared_free(b); /* the master may free a member's block */
    }
    fmp_shared_free(a);
    fmp_shared_free(rec);
}

typedef struct pteam_rec {
    long *late;          /* allocated by the master after fmp_team_create */
    long *by_member;     /* allocated by member 2 in a run */
    int saw_late[8];
} pteam_rec;

static void pteam_body(void *arg)
{
    pteam_rec *r = *(pteam_rec **)arg;
    int me = fmp_thread_num();
    long *late = r->late;
    int good = late != NULL;
    for (int i = 0; good && i < 100; i++)
        good = late[i] == 11 * i;
    r->saw_late[me] = good;
    if (me == 2) {
        long *b = fmp_shared_alloc(64 * sizeof(long));
        if (b)
            for (int i = 0; i < 64; i++)
                b[i] = -i;
        r->by_member = b;
    }
}

static void test_alloc_after_team_create(void)
{
    pteam_rec *r = fmp_shared_alloc(sizeof *r);
    HT_REQUIRE(r != NULL);
    fmp_team *t = fmp_team_create(3);
    HT_REQUIRE(t != NULL);
    r->late = fmp_shared_alloc(100 * sizeof(long));
    HT_REQUIRE(r->late != NULL);
    for (int i = 0; i < 100; i++)
        r->late[i] = 11 * i;
    HT_CHECK_INT_EQ(fmp_team_run(t, pteam_body, &r, sizeof r), FMP_OK);
    for (int m = 0; m < 3; m++)
        HT_CHECK_MSG(r->saw_late[m], "member %d of a persistent team does not see a block "
                     "allocated after the team was created", m);
    if (HT_CHECK_MSG(r->by_member != NULL, "member 2's block did not reach the master")) {
        int good = 1;
        for (int i = 0; i < 64; i++)
            good &= r->by_member[i] == -i;
        HT_CHECK_MSG(good, "the master does not see a block a persistent member allocated");
    }
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
}

static void test_free_gives_space_back(void)
{
    setenv("FMP_SHARED_SIZE", "64M", 1);
    size_t big = 40 * MIB; /* two of them do not fit a 64 MiB arena */
    HT_CHECK_MSG(fmp_shared_size() >= 64 * MIB && fmp_shared_size() < 128 * MIB,
                 "FMP_SHARED_SIZE=64M gave an arena of %zu bytes", fmp_shared_size());
    unsigned char *a = fmp_shared_alloc(big);
    HT_REQUIRE_MSG(a != NULL, "40 MiB in a 64 MiB arena: %s", strerror(errno));
    memset(a, 0xEE, big);
    fmp_shared_free(a);
    unsigned char *b = fmp_shared_alloc(big);
    HT_REQUIRE_MSG(b != NULL, "40 MiB freed in a 64 MiB arena, then 40 MiB again: %s "
                   "(the freed space did not come back)", strerror(errno));
    HT_CHECK_MSG(all_zero(b, big), "a freed block allocated again is not zero-filled");
    fmp_shared_free(b);

    /* small blocks: a freed one is reused (here: the same bytes) and zero again */
    unsigned char *s = fmp_shared_alloc(1000);
    HT_REQUIRE(s != NULL);
    memset(s, 0x5A, 1000);
    fmp_shared_free(s);
    unsigned char *s2 = fmp_shared_alloc(1000);
    HT_REQUIRE(s2 != NULL);
    HT_CHECK_MSG(all_zero(s2, 1000), "a freed small block allocated again is not zero-filled");
    fmp_shared_free(s2);

    /* many frees and allocations: the arena does not leak */
    for (int k = 0; k < 200; k++) {
        void *p = fmp_shared_alloc(((size_t)k % 7 + 1) * 3 * MIB);
        if (!HT_CHECK_MSG(p != NULL, "round %d: alloc of %zu MiB failed in an arena that "
                          "holds nothing else", k, ((size_t)k % 7 + 1) * 3))
            break;
        fmp_shared_free(p);
    }
}

static void test_free_in_a_member(void)
{
    void **slot = fmp_shared_alloc(sizeof(void *));
    HT_REQUIRE(slot != NULL);
    *slot = fmp_shared_alloc(4096);
    HT_REQUIRE(*slot != NULL);
    memset(*slot, 1, 4096);
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            fmp_shared_free(*slot);
            *slot = NULL;
        }
    }
    HT_CHECK(*slot == NULL);
    void *again = fmp_shared_alloc(4096);
    if (HT_CHECK(again != NULL))
        HT_CHECK(all_zero(again, 4096));
    fmp_shared_free(again);
    fmp_shared_free(NULL); /* ignored */
    fmp_shared_free(slot);
}

static void test_big_block_costs_nothing_until_touched(void)
{
    setenv("FMP_SHARED_SIZE", "2G", 1);
    size_t gib = (size_t)1 << 30;
    long rss0 = ht_rss_kib();
    unsigned char *p = fmp_shared_alloc(gib);
    HT_REQUIRE_MSG(p != NULL, "1 GiB in a 2 GiB arena: %s", strerror(errno));
    long rss1 = ht_rss_kib();
    HT_CHECK_MSG(rss1 - rss0 < 64 * 1024,
                 "allocating 1 GiB of shared memory made the master's RSS grow by %ld KiB: the "
                 "block was touched (zeroed?) instead of left to the kernel",
                 rss1 - rss0);
    /* usable at both ends, in every member */
    p[0] = 1;
    p[gib - 1] = 2;
    int *ok = ht_shared(4 * sizeof(int));
    FMP_PARALLEL(4) {
        ok[fmp_thread_num()] = p[0] == 1 && p[gib - 1] == 2;
    }
    long rss2 = ht_rss_kib();
    HT_CHECK_MSG(rss2 - rss0 < 64 * 1024,
                 "after a region the master's RSS grew by %ld KiB with a 1 GiB block mapped",
                 rss2 - rss0);
    for (int m = 0; m < 4; m++)
        HT_CHECK_MSG(ok[m], "member %d does not see both ends of the 1 GiB block", m);
    fmp_shared_free(p);
}

static void test_small_arena_fails_cleanly(void)
{
    setenv("FMP_SHARED_SIZE", "64M", 1);
    errno = 0;
    void *p = fmp_shared_alloc(128 * MIB);
    HT_CHECK(p == NULL);
    HT_CHECK_INT_EQ(errno, ENOMEM);
    /* the program goes on: smaller blocks and regions work */
    int *q = fmp_shared_alloc(1000 * sizeof(int));
    HT_REQUIRE(q != NULL);
    FMP_PARALLEL(3) {
        q[fmp_thread_num()] = 10 + fmp_thread_num();
    }
    for (int m = 0; m < 3; m++)
        HT_CHECK_INT_EQ(q[m], 10 + m);
    /* and a block that fits after the failure */
    void *r = fmp_shared_alloc(32 * MIB);
    HT_CHECK_MSG(r != NULL, "32 MiB after a failed 128 MiB in a 64 MiB arena: %s",
                 strerror(errno));
    fmp_shared_free(r);
    fmp_shared_free(q);
}

static void test_arena_exhausted_inside_region(void)
{
    setenv("FMP_SHARED_SIZE", "64M", 1);
    int *res = ht_shared(8 * sizeof(int));
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        errno = 0;
        void *p = fmp_shared_alloc(100 * MIB);
        res[me] = p == NULL && errno == ENOMEM;
        fmp_shared_free(p);
    }
    for (int m = 0; m < 3; m++)
        HT_CHECK_MSG(res[m], "member %d: fmp_shared_alloc(100 MiB) in a 64 MiB arena did not "
                     "fail with ENOMEM", m);
}

static const ht_test tests[] = {
    HT_TEST(test_zero_filled_and_aligned),
    HT_TEST(test_same_address_everywhere),
    HT_TEST(test_alloc_after_team_create),
    HT_TEST(test_free_gives_space_back),
    HT_TEST(test_free_in_a_member),
    HT_TEST(test_big_block_costs_nothing_until_touched),
    HT_TEST(test_small_arena_fails_cleanly),
    HT_TEST(test_arena_exhausted_inside_region),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "shared", tests);
}
