/* harness_demo: a suite whose tests misbehave on purpose, built as
 * tests/test_harness_demo and run by tests/harness_selftest.sh to check that the harness
 * turns each misbehaviour into the failure it should (and that a passing or a skipped
 * test stays so).  Not a test of forkmp; forkmp is used only where a failure must come
 * from one of its members. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static void demo_pass(void)
{
    HT_CHECK(1 + 1 == 2);
    HT_CHECK_INT_EQ(6 * 7, 42);
}

static void demo_check_fails(void)
{
    int x = 3;
    HT_CHECK_INT_EQ(x, 4);
    HT_CHECK_CONTAINS("haystack", "needle");
}

static void demo_fail_in_member(void)
{
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 2)
            HT_FAIL("demo-member-failure from member %d", fmp_thread_num());
    }
}

static void demo_crash(void)
{
    raise(SIGSEGV);
}

static void demo_timeout(void)
{
    for (;;)
        pause();
}

static void demo_hang_in_member(void)
{
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1)
            for (;;)
                pause();
    }
}

static void demo_child_left(void)
{
    if (fork() == 0) {
        for (;;)
            pause();
    }
}

static void demo_zombie_left(void)
{
    if (fork() == 0)
        _exit(0);
    ht_sleep(0.1);
}

static void demo_orphan_left(void)
{
    pid_t p = fork();
    if (p == 0) {
        if (fork() == 0) { /* the grandchild outlives its parent: it comes to the runner */
            for (;;)
                pause();
        }
        _exit(0);
    }
    waitpid(p, NULL, 0);
}

static void demo_shm_left(void)
{
    char name[64]; /* what shm_open("/fmp-harness-demo-PID") would leave */
    snprintf(name, sizeof name, "/dev/shm/fmp-harness-demo-%d", (int)getppid());
    int fd = open(name, O_CREAT | O_RDWR, 0600);
    if (fd >= 0)
        close(fd);
}

static void demo_exit_nonzero(void)
{
    exit(3);
}

static void demo_exit_zero(void)
{
    exit(0);
}

static void demo_escape(void)
{
    if (fork() == 0)
        return; /* a forked process gets back into the harness */
    ht_sleep(0.2);
    while (waitpid(-1, NULL, 0) > 0)
        ;
}

static void demo_skip(void)
{
    HT_SKIP("demo-skip-reason");
}

static void demo_require(void)
{
    HT_REQUIRE(1 == 2);
    HT_FAIL("demo-not-reached");
}

static const ht_test tests[] = {
    HT_TEST(demo_pass),
    HT_TEST(demo_check_fails),
    HT_TEST(demo_fail_in_member),
    HT_TEST(demo_crash),
    HT_TEST_TIMEOUT(demo_timeout, 1),
    HT_TEST_TIMEOUT(demo_hang_in_member, 1),
    HT_TEST(demo_child_left),
    HT_TEST(demo_zombie_left),
    HT_TEST(demo_orphan_left),
    HT_TEST(demo_shm_left),
    HT_TEST(demo_exit_nonzero),
    HT_TEST(demo_exit_zero),
    HT_TEST(demo_escape),
    HT_TEST(demo_skip),
    HT_TEST(demo_require),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "harness-demo", tests);
}
