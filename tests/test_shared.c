/* test_shared: fmp_shared_alloc / fmp_shared_free: zero-filled, aligned, the same address
 * in every member of every team (also for blocks allocated after a fork or after a
 * persistent team was created), space given back by free, a large block costs no memory
 * until touched, and a small arena (FMP_SHARED_SIZE) fails an allocation cleanly.
 * The malloc family: fmp_shared_calloc (overflow refused), fmp_shared_realloc (contents
 * kept, tail zero, in place when it can, NULL and 0, bad pointers refused with the
 * catalogue's message and the arena untouched, members resizing at once), fmp_shared_free
 * of the program's heap memory (passed to free()), and an allocation wrapper switched to
 * shared memory in one place. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "messages.h"

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

/* ---------------------------------------------------------------- the malloc family */

/* The byte pattern of position i of a block tagged t. */
static unsigned char pat(size_t i, unsigned t)
{
    return (unsigned char)(i * 131u + t * 17u + 1u) | 1u; /* never 0 */
}

static void fill(unsigned char *p, size_t n, unsigned t)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pat(i, t);
}

static int holds(const unsigned char *p, size_t n, unsigned t)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pat(i, t))
            return 0;
    return 1;
}

static void test_calloc(void)
{
    static const size_t dims[][2] = {{1, 1}, {10, 8}, {1000, 3}, {3, 4096},
                                     {1, 0}, {0, 1},  {0, 0},    {100000, 24}};
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
        size_t n = dims[k][0], sz = dims[k][1];
        unsigned char *p = fmp_shared_calloc(n, sz);
        if (!HT_CHECK_MSG(p != NULL, "fmp_shared_calloc(%zu, %zu): %s", n, sz, strerror(errno)))
            continue;
        HT_CHECK_MSG(all_zero(p, n * sz), "fmp_shared_calloc(%zu, %zu) is not zero-filled", n, sz);
        HT_CHECK(((uintptr_t)p & 63) == 0);
        if (n * sz >= 4096)
            HT_CHECK(((uintptr_t)p & (page - 1)) == 0);
        memset(p, 0x77, n * sz);
        fmp_shared_free(p);
    }
    /* n * size overflows: refused as calloc refuses it, whatever the arena's size */
    static const size_t bad[][2] = {{SIZE_MAX, 2},
                                    {2, SIZE_MAX},
                                    {SIZE_MAX / 2 + 1, 2},
                                    {(size_t)1 << 33, (size_t)1 << 33},
                                    {SIZE_MAX, SIZE_MAX}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        errno = 0;
        void *p = fmp_shared_calloc(bad[k][0], bad[k][1]);
        HT_CHECK_MSG(p == NULL && errno == ENOMEM,
                     "fmp_shared_calloc(%zu, %zu) = %p, errno %d: "
                     "expected NULL and ENOMEM",
                     bad[k][0], bad[k][1], p, errno);
    }
    /* in a member, seen by the master */
    long **slot = fmp_shared_calloc(1, sizeof *slot);
    HT_REQUIRE(slot != NULL);
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            long *a = fmp_shared_calloc(500, sizeof(long));
            if (HT_CHECK(a != NULL) && HT_CHECK(all_zero(a, 500 * sizeof(long))))
                for (int i = 0; i < 500; i++)
                    a[i] = i;
            *slot = a;
        }
    }
    if (HT_CHECK(*slot != NULL)) {
        HT_CHECK_INT_EQ((*slot)[499], 499);
        fmp_shared_free(*slot);
    }
    fmp_shared_free(slot);
}

/* Grow and shrink one block through many sizes: the contents up to the smaller size are
   kept, the part past the old size is zero, alignment as fmp_shared_alloc's. */
static void test_realloc_keeps_contents(void)
{
    static const size_t sizes[] = {10,    100,     64,          1000, 4095, 4096, 5000,   300,
                                   70000, 1000000, 3 * MIB + 3, 100,  1,    4097, 200000, 20};
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *spacer[sizeof sizes / sizeof sizes[0]];
    size_t cur = 50;
    unsigned char *p = fmp_shared_alloc(cur);
    HT_REQUIRE(p != NULL);
    fill(p, cur, 1);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        /* every other step, a block after it: the next resize must move */
        spacer[k] = k % 2 ? fmp_shared_alloc(200) : NULL;
        unsigned char *q = fmp_shared_realloc(p, n);
        if (!HT_CHECK_MSG(q != NULL, "fmp_shared_realloc(%zu -> %zu): %s", cur, n, strerror(errno)))
            return;
        size_t kept = cur < n ? cur : n;
        HT_CHECK_MSG(holds(q, kept, 1), "fmp_shared_realloc(%zu -> %zu)%s lost the contents", cur,
                     n, q == p ? " in place" : " (moved)");
        if (n > cur)
            HT_CHECK_MSG(all_zero(q + cur, n - cur),
                         "fmp_shared_realloc(%zu -> %zu)%s: the "
                         "part past the old size is not zero",
                         cur, n, q == p ? " in place" : " (moved)");
        HT_CHECK(((uintptr_t)q & 63) == 0);
        if (n >= 4096)
            HT_CHECK_MSG(((uintptr_t)q & (page - 1)) == 0,
                         "fmp_shared_realloc(%zu -> %zu) = %p: "
                         "not page aligned",
                         cur, n, (void *)q);
        fill(q, n, 1);
        p = q;
        cur = n;
    }
    /* the blocks around it were not touched */
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        if (spacer[k]) {
            HT_CHECK_MSG(all_zero(spacer[k], 200), "a neighbouring block changed");
            fmp_shared_free(spacer[k]);
        }
    fmp_shared_free(p);
}

static void test_realloc_in_place(void)
{
    /* the next block is free: it grows into it */
    unsigned char *a = fmp_shared_alloc(1000), *b = fmp_shared_alloc(3000);
    unsigned char *c = fmp_shared_alloc(100);
    HT_REQUIRE(a && b && c && b > a && c > b);
    fill(a, 1000, 2);
    fmp_shared_free(b);
    unsigned char *g = fmp_shared_realloc(a, 1800);
    HT_CHECK_MSG(g == a, "growing into the free block after it: moved from %p to %p", (void *)a,
                 (void *)g);
    HT_REQUIRE(g != NULL);
    HT_CHECK(holds(g, 1000, 2));
    HT_CHECK_MSG(all_zero(g + 1000, 800), "grown in place: the new part is not zero");
    /* what remains of the free block is still there: a block that fits it lands there */
    unsigned char *d = fmp_shared_alloc(1000);
    HT_CHECK_MSG(d > g && d < c,
                 "the rest of the absorbed free block was lost: a new block "
                 "of 1000 bytes went to %p, outside (%p, %p)",
                 (void *)d, (void *)g, (void *)c);
    HT_CHECK(all_zero(d, 1000));
    /* shrink: in place, the tail given back, zero */
    fill(g, 1800, 3);
    unsigned char *s = fmp_shared_realloc(g, 200);
    HT_CHECK_MSG(s == g, "shrinking moved the block");
    HT_REQUIRE(s != NULL);
    HT_CHECK(holds(s, 200, 3));
    unsigned char *e = fmp_shared_alloc(1000);
    HT_CHECK_MSG(e > s && e < d,
                 "the tail of a shrunk block was not given back: a new block "
                 "of 1000 bytes went to %p, outside (%p, %p)",
                 (void *)e, (void *)s, (void *)d);
    if (e)
        HT_CHECK_MSG(all_zero(e, 1000), "the tail of a shrunk block came back dirty");
    /* and growing again to the old size: the part that was cut off reads zero */
    fmp_shared_free(e);
    unsigned char *s2 = fmp_shared_realloc(s, 1800);
    HT_REQUIRE(s2 != NULL);
    HT_CHECK(holds(s2, 200, 3));
    HT_CHECK_MSG(all_zero(s2 + 200, 1600), "shrunk then grown: old bytes past the new size "
                                           "came back");
    /* the last block (larger than any free one: from the unused space above the blocks)
       grows into that space */
    unsigned char *t = fmp_shared_alloc(65536);
    HT_REQUIRE(t != NULL);
    fill(t, 65536, 4);
    unsigned char *t2 = fmp_shared_realloc(t, 2 * MIB);
    HT_CHECK_MSG(t2 == t, "the last block moved to grow (from %p to %p)", (void *)t, (void *)t2);
    if (HT_CHECK(t2 != NULL)) {
        HT_CHECK(holds(t2, 65536, 4));
        HT_CHECK(all_zero(t2 + 65536, 2 * MIB - 65536));
    }
    /* a small block grown past 4 KiB moves to a page-aligned one (as fmp_shared_alloc's):
       the old block is freed */
    fill(c, 100, 7);
    unsigned char *m = fmp_shared_realloc(c, 20000);
    HT_REQUIRE(m != NULL && m != c);
    HT_CHECK(holds(m, 100, 7) && all_zero(m + 100, 20000 - 100));
    ht_capture_stderr_begin();
    fmp_shared_free(c);
    char *err = ht_capture_stderr_end();
    char want[256];
    snprintf(want, sizeof want, "forkmp: " FMP__MSG_free_bad "\n", (void *)c);
    HT_CHECK_MSG(err && strcmp(err, want) == 0,
                 "after a move the old block is still allocated: "
                 "freeing it said \"%s\"",
                 err ? err : "(null)");
    free(err);
    fmp_shared_free(m);
    fmp_shared_free(t2);
    fmp_shared_free(s2);
    fmp_shared_free(d);
}

static void test_realloc_null_and_zero(void)
{
    errno = 0;
    unsigned char *p = fmp_shared_realloc(NULL, 3000);
    HT_REQUIRE_MSG(p != NULL, "fmp_shared_realloc(NULL, 3000): %s", strerror(errno));
    HT_CHECK(all_zero(p, 3000));
    unsigned char *z = fmp_shared_realloc(NULL, 0);
    HT_CHECK_MSG(z != NULL && z != p,
                 "fmp_shared_realloc(NULL, 0) = %p: expected a minimal "
                 "block of its own",
                 (void *)z);
    /* size 0 frees, as glibc's realloc: NULL, errno untouched, the block reused */
    errno = 1234;
    void *r = fmp_shared_realloc(p, 0);
    HT_CHECK(r == NULL);
    HT_CHECK_INT_EQ(errno, 1234);
    void *again = fmp_shared_alloc(3000);
    HT_CHECK_MSG(again == p, "fmp_shared_realloc(p, 0) did not free p: %p, then %p", (void *)p,
                 again);
    /* and p is no block any more */
    ht_capture_stderr_begin();
    fmp_shared_free(z);
    fmp_shared_free(again);
    void *twice = fmp_shared_realloc(again, 0);
    char *err = ht_capture_stderr_end();
    HT_CHECK(twice == NULL);
    char want[256];
    snprintf(want, sizeof want, "forkmp: " FMP__MSG_realloc_bad "\n", again, (size_t)0);
    HT_CHECK_CONTAINS(err, want);
    free(err);
}

/* Pointers that are not live blocks are refused with the catalogue's message, and
   nothing changes: the arena keeps working and nothing is handed out twice. */
static void test_realloc_refuses_bad_pointers(void)
{
    setenv("FMP_SHARED_SIZE", "64M", 1);
    char *heap = malloc(100);
    HT_REQUIRE(heap != NULL);
    strcpy(heap, "private");
    unsigned char *p = fmp_shared_alloc(1000), *q = fmp_shared_alloc(1000);
    unsigned char *gone = fmp_shared_alloc(1000);
    HT_REQUIRE(p && q && gone);
    fill(p, 1000, 5);
    fill(q, 1000, 6);
    fmp_shared_free(gone);
    struct {
        void *ptr;
        const char *what;
        int foreign; /* outside the arena: realloc_foreign, else realloc_bad */
    } cases[] = {
        {heap, "malloc()'s memory", 1},
        {gone, "a freed block", 0},
        {p + 64, "a pointer 64 bytes into a block", 0},
        {p + 8, "a pointer 8 bytes into a block", 0},
        {p + 640, "a pointer 640 bytes into a block", 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ht_capture_stderr_begin();
        errno = 0;
        void *r = fmp_shared_realloc(cases[k].ptr, 5000);
        int e = errno;
        char *err = ht_capture_stderr_end();
        HT_CHECK_MSG(r == NULL && e == EINVAL,
                     "fmp_shared_realloc(%s) = %p, errno %d: expected "
                     "NULL and EINVAL",
                     cases[k].what, r, e);
        char want[512];
        if (cases[k].foreign)
            snprintf(want, sizeof want, "forkmp: " FMP__MSG_realloc_foreign "\n", cases[k].ptr,
                     (size_t)5000);
        else
            snprintf(want, sizeof want, "forkmp: " FMP__MSG_realloc_bad "\n", cases[k].ptr,
                     (size_t)5000);
        HT_CHECK_MSG(err && strcmp(err, want) == 0,
                     "fmp_shared_realloc(%s) said \"%s\", "
                     "expected \"%s\"",
                     cases[k].what, err ? err : "(null)", want);
        free(err);
    }
    HT_CHECK(strcmp(heap, "private") == 0);
    free(heap);
    HT_CHECK(holds(p, 1000, 5) && holds(q, 1000, 6));
    /* no room: NULL with ENOMEM, the block as it was */
    errno = 0;
    void *r = fmp_shared_realloc(p, 200 * MIB);
    HT_CHECK_MSG(r == NULL && errno == ENOMEM,
                 "fmp_shared_realloc to 200 MiB in a 64 MiB "
                 "arena: %p, errno %d",
                 r, errno);
    errno = 0;
    r = fmp_shared_realloc(p, SIZE_MAX);
    HT_CHECK(r == NULL && errno == ENOMEM);
    HT_CHECK_MSG(holds(p, 1000, 5), "a refused fmp_shared_realloc changed the block");
    unsigned char *p2 = fmp_shared_realloc(p, 2000);
    HT_REQUIRE(p2 != NULL);
    HT_CHECK(holds(p2, 1000, 5));
    /* the arena is whole: distinct blocks, each its own */
    enum { NB = 50 };
    unsigned char *b[NB];
    for (int i = 0; i < NB; i++) {
        b[i] = fmp_shared_alloc(700);
        HT_REQUIRE(b[i] != NULL);
        HT_CHECK(all_zero(b[i], 700));
        fill(b[i], 700, 10u + (unsigned)i);
    }
    for (int i = 0; i < NB; i++) {
        HT_CHECK_MSG(holds(b[i], 700, 10u + (unsigned)i), "block %d overwritten", i);
        fmp_shared_free(b[i]);
    }
    HT_CHECK(holds(q, 1000, 6));
    fmp_shared_free(p2);
    fmp_shared_free(q);
}

/* Heap memory as glibc's allocator counts it (chunks in its per-thread cache count as
   used: the test's chunks are larger than it takes), -1 when another allocator answers
   (sanitizers, valgrind). */
static long heap_in_use(void)
{
    const char *san = getenv("FORKMP_TEST_SANITIZERS");
    const char *pre = getenv("LD_PRELOAD");
    if ((san && strcmp(san, "yes") == 0) || (pre && strstr(pre, "vgpreload")))
        return -1;
    struct mallinfo2 mi = mallinfo2();
    return (long)mi.uordblks + (long)mi.hblkhd;
}

/* fmp_shared_free of the program's own heap memory gives it to free(): one free() for a
   wrapper whose blocks come from both (shared/repro/free_shared.c). */
static void test_shared_free_of_heap_memory(void)
{
    /* the arena first, outside the capture: under valgrind its start prints a note */
    fmp_shared_free(fmp_shared_alloc(1));
    ht_capture_stderr_begin();
    long before = heap_in_use();
    enum { NP = 64 };
    void *ps[NP];
    char text[1500];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = 0;
    for (int i = 0; i < NP; i++)
        ps[i] = i % 3 == 0 ? malloc(2000) : i % 3 == 1 ? calloc(50, 40) : strdup(text);
    void *big = malloc(4 * MIB); /* glibc maps it of its own */
    long during = heap_in_use();
    for (int i = 0; i < NP; i++)
        fmp_shared_free(ps[i]);
    fmp_shared_free(big);
    long after = heap_in_use();
    fmp_shared_free(NULL);
    void *sh = fmp_shared_alloc(100);
    fmp_shared_free(sh);
    char *err = ht_capture_stderr_end();
    HT_CHECK_MSG(err && err[0] == 0, "fmp_shared_free of heap memory said: %s", err);
    free(err);
    if (before >= 0) {
        HT_CHECK_MSG(during - before >= 4 * (long)MIB, "the heap did not grow (%ld -> %ld)", before,
                     during);
        HT_CHECK_MSG(after - before < 4096,
                     "fmp_shared_free did not give heap memory back to "
                     "free(): %ld bytes in use before, %ld after",
                     before, after);
    }
    /* in a member too: its own copy of the heap */
    int *ok = ht_shared(sizeof(int));
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            char *s = strdup("member");
            fmp_shared_free(s);
            *ok = 1;
        }
    }
    HT_CHECK_INT_EQ(*ok, 1);
}

/* A code's allocation wrapper (CoMD's comdMalloc and friends, PRK's prk_malloc) switched
   to shared memory in one place: members write what they allocate and resize, the master
   reads it after the join; frees go through the same wrapper. */
static void *my_malloc(size_t n)
{
    return fmp_shared_alloc(n);
}
static void *my_calloc(size_t n, size_t s)
{
    return fmp_shared_calloc(n, s);
}
static void *my_realloc(void *p, size_t n)
{
    return fmp_shared_realloc(p, n);
}
static void my_free(void *p)
{
    fmp_shared_free(p);
}

typedef struct wrapped {
    double *rows[4];
    long len[4];
    char *name;
} wrapped;

static void test_wrapper_switched_to_shared(void)
{
    wrapped *w = my_calloc(1, sizeof *w);
    HT_REQUIRE(w != NULL);
    w->name = my_malloc(16);
    HT_REQUIRE(w->name != NULL);
    strcpy(w->name, "help");
    char *libc_name = strdup("parsed"); /* a library's string, freed by the wrapper too */
    FMP_PARALLEL(4) {
        int me = fmp_thread_num();
        double *r = my_calloc(10, sizeof(double));
        long len = 10;
        for (int step = 0; r && step < 6; step++) {
            for (long i = 0; i < len; i++)
                r[i] = me * 1000.0 + (double)i;
            double *r2 = my_realloc(r, (size_t)len * 3 * sizeof(double));
            if (!HT_CHECK(r2 != NULL))
                break;
            for (long i = 0; i < len; i++)
                if (r2[i] != me * 1000.0 + (double)i) {
                    HT_FAIL("member %d: element %ld lost in a realloc to %ld", me, i, len * 3);
                    break;
                }
            r = r2;
            len *= 3;
        }
        for (long i = 0; r && i < len; i++)
            r[i] = me * 1000.0 + (double)i;
        w->rows[me] = r;
        w->len[me] = len;
    }
    for (int m = 0; m < 4; m++) {
        HT_CHECK_INT_EQ(w->len[m], 7290);
        double *r = w->rows[m];
        if (!HT_CHECK_MSG(r != NULL, "member %d's row did not reach the master", m))
            continue;
        int good = 1;
        for (long i = 0; i < w->len[m]; i++)
            good &= r[i] == m * 1000.0 + (double)i;
        HT_CHECK_MSG(good, "member %d's row, grown by realloc in the member, differs", m);
        my_free(r);
    }
    HT_CHECK(strcmp(w->name, "help") == 0);
    my_free(w->name);
    my_free(libc_name);
    my_free(w);
}

/* Members resize blocks of their own at the same time, and pass blocks between them. */
static void test_realloc_by_many_members(void)
{
    enum { N = 4, ROUNDS = 400 };
    int *bad = ht_shared(sizeof(int));
    unsigned char **hand = fmp_shared_calloc(N, sizeof *hand);
    HT_REQUIRE(hand != NULL);
    FMP_PARALLEL(N) {
        int me = fmp_thread_num();
        unsigned seed = 77u + (unsigned)me;
        unsigned char *p = NULL;
        size_t cur = 0;
        for (int k = 0; k < ROUNDS; k++) {
            size_t n = (size_t)(rand_r(&seed) % (k % 50 == 0 ? 300000 : 5000)) + 1;
            unsigned char *q = fmp_shared_realloc(p, n);
            if (!q) {
                ht_atomic_add(bad, 1);
                break;
            }
            size_t kept = cur < n ? cur : n;
            if (!holds(q, kept, (unsigned)me) || (n > cur && !all_zero(q + cur, n - cur)))
                ht_atomic_add(bad, 1);
            fill(q, n, (unsigned)me);
            p = q;
            cur = n;
        }
        /* hand the block to the next member, which checks and frees it */
        fill(p, cur, 100u + (unsigned)me);
        hand[me] = p;
        HT_CHECK_INT_EQ(fmp_barrier(), FMP_OK);
        int from = (me + N - 1) % N;
        unsigned char *got = hand[from];
        if (!got || !holds(got, 1, 100u + (unsigned)from))
            ht_atomic_add(bad, 1);
        fmp_shared_free(got);
    }
    HT_CHECK_INT_EQ(*bad, 0);
    fmp_shared_free(hand);
    void *big = fmp_shared_alloc(32 * MIB);
    HT_CHECK_MSG(big != NULL, "32 MiB after the members' resizing: %s", strerror(errno));
    fmp_shared_free(big);
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
    HT_TEST(test_calloc),
    HT_TEST(test_realloc_keeps_contents),
    HT_TEST(test_realloc_in_place),
    HT_TEST(test_realloc_null_and_zero),
    HT_TEST(test_realloc_refuses_bad_pointers),
    HT_TEST(test_shared_free_of_heap_memory),
    HT_TEST(test_wrapper_switched_to_shared),
    HT_TEST_TIMEOUT(test_realloc_by_many_members, 60),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "shared", tests);
}
