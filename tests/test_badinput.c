/* test_badinput: bad arguments and hostile limits.  Negative and absurd team sizes, a
 * NULL body, negative chunks, fork failing under RLIMIT_NPROC, a small RLIMIT_AS before
 * the arena exists (the default arena shrinks), FMP_SHARED_SIZE above RLIMIT_AS (a clear
 * message, clean failures), and the other calls' bad arguments.  Each time: an error, no
 * body run where it should not, no process left, and the program goes on. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"

typedef struct counter {
    int runs;
} counter;

static void count_body(void *arg)
{
    ht_atomic_add(&((counter *)arg)->runs, 1);
}

static void test_negative_team_size(void)
{
    counter *c = ht_shared(sizeof *c);
    HT_CHECK_INT_EQ(fmp_parallel(-1, count_body, c), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_parallel(INT_MIN, count_body, c), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_parallel_if(-4, 0, count_body, c), FMP_EINVAL);
    int runs = 0;
    FMP_PARALLEL(-3) {
        runs++;
    }
    HT_CHECK_INT_EQ(runs, 0);
    HT_CHECK_INT_EQ(c->runs, 0);
    errno = 0;
    HT_CHECK(fmp_team_create(-2) == NULL);
    HT_CHECK_INT_EQ(errno, EINVAL);
    /* the program goes on */
    HT_CHECK_INT_EQ(fmp_parallel(2, count_body, c), FMP_OK);
    HT_CHECK_INT_EQ(c->runs, 2);
}

static void test_absurd_team_size(void)
{
    counter *c = ht_shared(sizeof *c);
    HT_CHECK_INT_EQ(fmp_parallel(1000000, count_body, c), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_parallel(INT_MAX, count_body, c), FMP_EINVAL);
    int runs = 0;
    FMP_PARALLEL(1000000) {
        runs++;
    }
    HT_CHECK_INT_EQ(runs, 0);
    HT_CHECK_INT_EQ(c->runs, 0);
    errno = 0;
    HT_CHECK(fmp_team_create(1000000) == NULL);
    HT_CHECK_INT_EQ(errno, EINVAL);
    HT_CHECK_INT_EQ(ht_children_left(), 0);
}

static void test_null_body(void)
{
    HT_CHECK_INT_EQ(fmp_parallel(2, NULL, NULL), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_parallel_if(2, 1, NULL, NULL), FMP_EINVAL);
    HT_CHECK_INT_EQ(ht_children_left(), 0);
}

/* ---------------------------------------------------------------- negative chunks */

typedef struct chunk_arg {
    fmp_schedule s;
    int iters;
    int after;  /* members that got past the loop */
} chunk_arg;

static void negative_chunk_body(void *p)
{
    chunk_arg *a = p;
    FMP_FOR(i, 0, 100, a->s) {
        (void)i;
        ht_atomic_add(&a->iters, 1);
    }
    ht_atomic_add(&a->after, 1);
}

static void negative_chunk_case(fmp_schedule s, const char *what)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    chunk_arg *a = ht_shared(sizeof *a);
    a->s = s;
    int rc = fmp_parallel(4, negative_chunk_body, a);
    HT_CHECK_MSG(rc == FMP_EINVAL, "%s: fmp_parallel returned %d (%s), expected FMP_EINVAL",
                 what, rc, fmp_strerror(rc));
    HT_CHECK_MSG(a->iters == 0, "%s: the loop ran %d iterations", what, a->iters);
    HT_CHECK_CONTAINS(fmp_last_failure(), "FMP_FOR");
    HT_CHECK_CONTAINS(fmp_last_failure(), "test_badinput.c");
    HT_CHECK_INT_EQ(ht_children_left(), 0);
    /* outside a region: no iteration either, and the program goes on */
    a->iters = 0;
    ht_capture_stderr_begin();
    FMP_FOR(i, 0, 100, s) {
        (void)i;
        a->iters++;
    }
    char *err = ht_capture_stderr_end();
    HT_CHECK_MSG(a->iters == 0, "%s outside a region: the loop ran %d iterations", what,
                 a->iters);
    HT_CHECK_CONTAINS(err, "FMP_FOR");
    free(err);
}

static void test_negative_chunk_static(void)
{
    negative_chunk_case(fmp_static(-1), "fmp_static(-1)");
}

static void test_negative_chunk_dynamic(void)
{
    negative_chunk_case(fmp_dynamic(-5), "fmp_dynamic(-5)");
}

static void test_negative_chunk_guided(void)
{
    negative_chunk_case(fmp_guided(-2), "fmp_guided(-2)");
}

static void test_bad_schedule_kind(void)
{
    /* a schedule kind that does not exist is refused the same way */
    fmp_schedule s = { (fmp_sched_kind)77, 1 };
    negative_chunk_case(s, "schedule kind 77");
}

/* ---------------------------------------------------------------- fork fails */

static int count_user_processes(uid_t uid)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], line[256];
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "Uid:", 4) == 0) {
                if ((uid_t)strtoul(line + 4, NULL, 10) == uid)
                    n++;
                break;
            }
        fclose(f);
    }
    closedir(d);
    return n;
}

static void test_fork_fails_under_rlimit_nproc(void)
{
    if (geteuid() == 0) {
        /* root is not held to RLIMIT_NPROC: become nobody (this subprocess only) */
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            HT_SKIP("running as root and cannot drop to uid 65534: %s", strerror(errno));
    }
    int mine = count_user_processes(getuid());
    HT_REQUIRE(mine >= 1);
    struct rlimit old;
    HT_REQUIRE(getrlimit(RLIMIT_NPROC, &old) == 0);
    struct rlimit lim = { (rlim_t)mine + 1, old.rlim_max }; /* one more fork, not two */
    HT_REQUIRE_MSG(setrlimit(RLIMIT_NPROC, &lim) == 0, "setrlimit: %s", strerror(errno));
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    counter *c = ht_shared(sizeof *c);
    ht_capture_stderr_begin();
    int rc = fmp_parallel(4, count_body, c);
    char *err = ht_capture_stderr_end();
    HT_CHECK_MSG(rc == -EAGAIN, "fork failing (RLIMIT_NPROC): fmp_parallel returned %d (%s), "
                 "expected -EAGAIN", rc, fmp_strerror(rc));
    HT_CHECK_MSG(c->runs == 0, "the body ran %d times in a region whose fork failed", c->runs);
    HT_CHECK_CONTAINS(err, "fork");
    free(err);
    HT_CHECK_INT_EQ(ht_children_left(), 0);
    int runs = 0;
    FMP_PARALLEL(3) {
        runs++;
    }
    HT_CHECK_INT_EQ(runs, 0);
    errno = 0;
    HT_CHECK(fmp_team_create(4) == NULL);
    HT_CHECK_INT_EQ(errno, EAGAIN);
    HT_CHECK_INT_EQ(ht_children_left(), 0);
    /* a region of one still works, and any region once the limit is back */
    HT_CHECK_INT_EQ(fmp_parallel(1, count_body, c), FMP_OK);
    HT_CHECK_INT_EQ(c->runs, 1);
    HT_REQUIRE(setrlimit(RLIMIT_NPROC, &old) == 0);
    HT_CHECK_INT_EQ(fmp_parallel(3, count_body, c), FMP_OK);
    HT_CHECK_INT_EQ(c->runs, 4);
}

/* ---------------------------------------------------------------- address-space limits */

static long vm_size_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmSize:", 7) == 0) {
            kib = strtol(line + 7, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

static void limit_address_space(size_t headroom)
{
    long vm = vm_size_kib();
    HT_REQUIRE(vm > 0);
    struct rlimit lim;
    lim.rlim_cur = lim.rlim_max = (rlim_t)vm * 1024 + headroom;
    HT_REQUIRE_MSG(setrlimit(RLIMIT_AS, &lim) == 0, "setrlimit(RLIMIT_AS): %s",
                   strerror(errno));
}

static void test_small_rlimit_as_shrinks_default_arena(void)
{
    size_t headroom = (size_t)1 << 30;
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    size_t phys = (size_t)pages * (size_t)psz;
    if (phys <= headroom)
        HT_SKIP("less than 1 GiB of memory: the default arena would fit anyway");
    limit_address_space(headroom); /* before forkmp's first use */
    size_t size = fmp_shared_size();
    HT_CHECK_MSG(size > 0 && size < headroom, "under RLIMIT_AS with 1 GiB to spare the arena "
                 "is %zu bytes (physical memory %zu)", size, phys);
    /* and the program runs: allocations and regions */
    int *p = fmp_shared_alloc(1 << 20);
    HT_REQUIRE_MSG(p != NULL, "a 1 MiB block in the shrunk arena: %s", strerror(errno));
    counter *c = ht_shared(sizeof *c);
    HT_CHECK_INT_EQ(fmp_parallel(3, count_body, c), FMP_OK);
    HT_CHECK_INT_EQ(c->runs, 3);
    FMP_PARALLEL(2) {
        p[fmp_thread_num()] = 5 + fmp_thread_num();
    }
    HT_CHECK_INT_EQ(p[0], 5);
    HT_CHECK_INT_EQ(p[1], 6);
    /* ordinary memory is still to be had beside the arena */
    void *m = malloc(32 << 20);
    HT_CHECK_MSG(m != NULL, "malloc(32 MiB) failed: the arena took the whole address space");
    free(m);
    fmp_shared_free(p);
}

static void test_shared_size_above_rlimit_as(void)
{
    setenv("FMP_SHARED_SIZE", "64G", 1);
    limit_address_space((size_t)1 << 30);
    ht_capture_stderr_begin();
    size_t size = fmp_shared_size(); /* forkmp starts here */
    errno = 0;
    void *p = fmp_shared_alloc(100);
    int alloc_errno = errno;
    counter *c = ht_shared(sizeof *c);
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int rc = fmp_parallel(2, count_body, c);
    char *err = ht_capture_stderr_end();
    HT_CHECK_CONTAINS(err, "FMP_SHARED_SIZE");
    HT_CHECK_MSG(size < ((size_t)64 << 30), "fmp_shared_size() claims %zu bytes", size);
    HT_CHECK(p == NULL);
    HT_CHECK_INT_EQ(alloc_errno, ENOMEM);
    HT_CHECK_MSG(rc < 0, "a region of 2 without an arena returned %d", rc);
    HT_CHECK_MSG(c->runs == 0, "the body ran %d times in a failed region", c->runs);
    HT_CHECK_INT_EQ(ht_children_left(), 0);
    free(err);
}

/* ---------------------------------------------------------------- other calls */

static void test_set_num_threads_invalid(void)
{
    int before = fmp_get_max_threads();
    ht_capture_stderr_begin();
    fmp_set_num_threads(0);
    fmp_set_num_threads(-3);
    fmp_set_max_active_levels(0);
    char *err = ht_capture_stderr_end();
    HT_CHECK_INT_EQ(fmp_get_max_threads(), before);
    HT_CHECK_INT_EQ(fmp_get_max_active_levels(), 1);
    HT_CHECK_CONTAINS(err, "fmp_set_num_threads");
    free(err);
}

static int no_items(void *item, void *state)
{
    (void)item;
    (void)state;
    return 0;
}

static void eat(const void *item, void *arg)
{
    (void)item;
    (void)arg;
}

static void test_iterate_bad_arguments(void)
{
    int k = 0;
    HT_CHECK_INT_EQ(fmp_iterate(no_items, &k, 0, eat, NULL), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_iterate(no_items, &k, sizeof(int), NULL, NULL), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_iterate(NULL, &k, sizeof(int), eat, NULL), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_iterate(no_items, &k, SIZE_MAX, eat, NULL), FMP_EINVAL);
    HT_CHECK_INT_EQ(fmp_iterate(no_items, &k, sizeof(int), eat, NULL), 0);
}

static void test_shared_alloc_bad_sizes(void)
{
    /* 0 bytes: a valid minimal block (forkmp.h), distinct from the next one */
    errno = 0;
    unsigned char *z = fmp_shared_alloc(0);
    unsigned char *z2 = fmp_shared_alloc(0);
    HT_CHECK_MSG(z != NULL && z2 != NULL, "fmp_shared_alloc(0) = %p, %p (errno %d): forkmp.h "
                 "promises a valid minimal block", (void *)z, (void *)z2, errno);
    HT_CHECK(z != z2);
    HT_CHECK(((uintptr_t)z & 63) == 0);
    fmp_shared_free(z);
    fmp_shared_free(z2);
    /* larger than any arena: NULL with ENOMEM, and nothing breaks */
    static const size_t absurd[] = { SIZE_MAX, SIZE_MAX - 4096, SIZE_MAX / 2 + 1,
                                     (size_t)1 << 62 };
    for (size_t k = 0; k < sizeof absurd / sizeof absurd[0]; k++) {
        errno = 0;
        void *p = fmp_shared_alloc(absurd[k]);
        HT_CHECK_MSG(p == NULL && errno == ENOMEM, "fmp_shared_alloc(%zu) = %p, errno %d (%s), "
                     "expected NULL and ENOMEM", absurd[k], p, errno, strerror(errno));
    }
    void *ok = fmp_shared_alloc(1000);
    HT_CHECK(ok != NULL);
    fmp_shared_free(ok);
}

static void test_shared_free_bad_pointers(void)
{
    void *p = fmp_shared_alloc(256);
    HT_REQUIRE(p != NULL);
    ht_capture_stderr_begin();
    fmp_shared_free((char *)p + 8);    /* inside a block */
    fmp_shared_free((char *)p + 64);   /* inside a block, aligned */
    fmp_shared_free(p);
    fmp_shared_free(p);                /* twice */
    char *err = ht_capture_stderr_end();
    HT_CHECK_CONTAINS(err, "fmp_shared_free");
    free(err);
    /* the allocator is intact */
    void *blocks[100];
    for (int k = 0; k < 100; k++) {
        blocks[k] = fmp_shared_alloc(100 + (size_t)k * 37);
        HT_CHECK(blocks[k] != NULL);
    }
    for (int k = 0; k < 100; k++)
        for (int j = k + 1; j < 100; j++)
            if (blocks[k] && blocks[j] && blocks[k] == blocks[j])
                HT_FAIL("blocks %d and %d are the same after a double free", k, j);
    for (int k = 0; k < 100; k++)
        fmp_shared_free(blocks[k]);
}

static const ht_test tests[] = {
    HT_TEST(test_negative_team_size),
    HT_TEST(test_absurd_team_size),
    HT_TEST(test_null_body),
    HT_TEST_TIMEOUT(test_negative_chunk_static, 15),
    HT_TEST_TIMEOUT(test_negative_chunk_dynamic, 15),
    HT_TEST_TIMEOUT(test_negative_chunk_guided, 15),
    HT_TEST_TIMEOUT(test_bad_schedule_kind, 15),
    HT_TEST_TIMEOUT(test_fork_fails_under_rlimit_nproc, 15),
    HT_TEST(test_small_rlimit_as_shrinks_default_arena),
    HT_TEST(test_shared_size_above_rlimit_as),
    HT_TEST(test_set_num_threads_invalid),
    HT_TEST(test_iterate_bad_arguments),
    HT_TEST(test_shared_alloc_bad_sizes),
    HT_TEST(test_shared_free_bad_pointers),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "badinput", tests);
}
