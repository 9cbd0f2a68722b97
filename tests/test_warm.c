/* test_warm: warm regions (FMP_REGION=warm) keep fork's semantics.
 *
 *  - the semantic-equivalence program tests/warm_prog: between regions the master
 *    changes globals, statics, thread-locals, the stack, heap blocks (malloc, realloc,
 *    free, brk up and down, blocks mmap'd by malloc and mremap'd), a mapping replaced at
 *    the same address, the environment, its descriptors, its working directory and its
 *    signal mask; inside, the members scribble over all of it, map, unmap, close and
 *    chdir.  Under warm, fork and auto every member sees the master's memory of the
 *    region's start, and the output is the same in the three modes;
 *  - the warm pool is really reused (the members' pids repeat), and FMP_DISPLAY_ENV says
 *    so; without userfaultfd (a seccomp filter, as in a container) auto forks and says
 *    why, warm says it once;
 *  - a member killed in a warm region fails the region as in a forked one, and the
 *    regions after it run on a new pool; nothing is left behind;
 *  - a pipe the master closes after a region reaches its end at once (no parked member
 *    holds a copy of it), warm and where auto forks a region after waking its members;
 *    no member holds a descriptor the master did not have at the region's start;
 *  - in-process: nested regions inside warm members, teams of changing sizes, the
 *    function form, a member calling exit(), shared memory mapped between regions,
 *    a body that dup2()s over the member's own descriptors, and fmp_warm_release().
 * Where warm regions are not available (a sanitizer build, valgrind, an old kernel), the
 * tests check that every region forks and the results are the same. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <dirent.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "messages.h"

/* ---------------------------------------------------------------- running warm_prog */

static int run_prog2(ht_proc *p, const char *mode, const char *regions, const char *members,
                     const char *extra, const char *extra2)
{
    char path[4096], env_mode[64];
    ht_helper_path("warm_prog", path, sizeof path);
    snprintf(env_mode, sizeof env_mode, "FMP_REGION=%s", mode);
    const char *env[] = {env_mode, "FMP_DISPLAY_ENV=verbose", "FMP_ON_ERROR=return", NULL};
    char *argv[] = {path, (char *)regions, (char *)members, (char *)extra, (char *)extra2, NULL};
    memset(p, 0, sizeof *p);
    int rc = ht_run(argv, env, NULL, 120, p);
    HT_REQUIRE_MSG(rc == 0, "cannot run %s: %s", path, strerror(-rc));
    HT_CHECK_MSG(!p->timed_out,
                 "warm_prog %s %s under FMP_REGION=%s timed out (a hang). "
                 "stderr: %.2000s",
                 regions, members, mode, p->err);
    return p->reaped && WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

static int run_prog(ht_proc *p, const char *mode, const char *regions, const char *members,
                    const char *extra)
{
    return run_prog2(p, mode, regions, members, extra, NULL);
}

/* Does this build, on this kernel, run warm regions?  (The FMP_REGION line of
   FMP_DISPLAY_ENV says, with the reason when it does not.) */
static int warm_available(void)
{
    ht_proc p;
    run_prog(&p, "warm", "0", "2", NULL);
    int yes = strstr(p.err, "FMP_REGION = 'warm (regions reuse warm members)'") != NULL;
    if (!yes)
        HT_CHECK_CONTAINS(p.err, "FMP_REGION = 'warm (regions fork: ");
    ht_proc_free(&p);
    return yes;
}

/* The count line of FMP_DISPLAY_ENV=verbose at the end (the catalogue's
   FMP__MSG_warm_report): regions that reused the pool, that started one, that forked;
   0 when err has none. */
static int counts(const char *err, long c[3])
{
    const char *at = strstr(err, "FMP_REGION: ");
    return at && sscanf(at, FMP__MSG_warm_report, &c[0], &c[1], &c[2]) == 3;
}

static void check_counts(const char *err, long reused, long started, long forked)
{
    long c[3] = {-1, -1, -1};
    HT_CHECK_MSG(counts(err, c) && c[0] == reused && c[1] == started && c[2] == forked,
                 "want %ld reused, %ld started, %ld forked; got %ld, %ld, %ld: %.1500s", reused,
                 started, forked, c[0], c[1], c[2], err);
}

static void semantics_case(const char *mode, const char *members)
{
    ht_proc p;
    int st = run_prog(&p, mode, "30", members, NULL);
    char want[96];
    snprintf(want, sizeof want, "30 regions of %s members: 0 differences\n", members);
    HT_CHECK_MSG(st == 0 && strcmp(p.out, want) == 0,
                 "FMP_REGION=%s, %s members: status %d, stdout: %.2000s stderr: %.1000s", mode,
                 members, st, p.out, p.err);
    int warm = strcmp(mode, "fork") != 0 && warm_available();
    /* warm: the pool is renewed when its members hold many copies (warm_prog's master
       rewrites megabytes between regions), so pids repeat without being all the same;
       auto also starts a new pool where the master wrote more than copying is worth (a
       large part of warm_prog's few megabytes), so its pids may all be new */
    if (warm && strcmp(mode, "warm") == 0)
        HT_CHECK_NOT_CONTAINS(p.err, "pids: fresh");
    else if (!warm)
        HT_CHECK_CONTAINS(p.err, "pids: fresh");
    long c[3] = {-1, -1, -1};
    HT_CHECK(counts(p.err, c));
    if (warm && strcmp(mode, "warm") == 0) /* a renewed pool starts at a region too */
        HT_CHECK_MSG(c[0] + c[1] == 30 && c[1] >= 1 && c[0] >= 15 && c[2] == 0,
                     "%ld reused, %ld started, %ld forked", c[0], c[1], c[2]);
    else if (warm) /* auto: warm_prog's master writes megabytes; many regions fork */
        HT_CHECK_MSG(c[0] + c[1] + c[2] == 30 && c[1] >= 1, "%ld reused, %ld started, %ld forked",
                     c[0], c[1], c[2]);
    else
        check_counts(p.err, 0, 0, 30);
    ht_proc_free(&p);
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
}

static void test_members_see_the_masters_memory_warm(void)
{
    semantics_case("warm", "2");
    semantics_case("warm", "4");
}

static void test_members_see_the_masters_memory_fork(void)
{
    semantics_case("fork", "3");
}

static void test_members_see_the_masters_memory_auto(void)
{
    semantics_case("auto", "3");
}

/* A master that rewrites 8 MiB before every third region and changes little before the
   others: under auto those regions fork (copying 8 MiB to each member costs more than
   forking them; the pool waits) and the others run warm, the members then taking what
   the master changed before the forked ones too; under warm every region runs warm.
   Each sees every page as the master left it. */
static void test_auto_forks_anew_after_big_writes(void)
{
    if (!warm_available())
        return;
    ht_proc a, w;
    int sa = run_prog(&a, "auto", "10", "3", "big=8");
    int sw = run_prog(&w, "warm", "10", "3", "big=8");
    HT_CHECK_MSG(sa == 0 && strstr(a.out, "10 regions of 3 members: 0 differences"),
                 "auto: status %d, stdout %.1000s stderr %.1000s", sa, a.out, a.err);
    HT_CHECK_MSG(sw == 0 && strstr(w.out, "10 regions of 3 members: 0 differences"),
                 "warm: status %d, stdout %.1000s stderr %.1000s", sw, w.out, w.err);
    /* 0 starts the pool; 3, 6, 9 fork; 4 and 7 start a new pool rather than copy */
    check_counts(a.err, 4, 3, 3);
    check_counts(w.err, 9, 1, 0);
    HT_CHECK_CONTAINS(a.err, "pids: mixed");
    HT_CHECK_CONTAINS(w.err, "pids: reused");
    ht_proc_free(&a);
    ht_proc_free(&w);
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
}

/* A pipe the master makes before a region and closes after it reaches its end at once:
   no member holds a copy of its write end once the region is over (a parked warm member
   holds none of the program's descriptors), also where auto forks a region after its
   warm members woke for it (every third region of warm_prog's big=8) */
static void test_closed_pipe_reaches_its_end(void)
{
    const char *modes[] = {"warm", "auto", "fork"};
    for (int i = 0; i < 3; i++) {
        ht_proc p;
        int st = run_prog2(&p, modes[i], "10", "3", "big=8", "pipes");
        HT_CHECK_MSG(st == 0 && strstr(p.out, "10 regions of 3 members: 0 differences"),
                     "FMP_REGION=%s: status %d, stdout %.1500s stderr %.1000s", modes[i], st, p.out,
                     p.err);
        ht_proc_free(&p);
    }
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
}

static void test_same_output_in_each_mode(void)
{
    ht_proc w, f, a;
    run_prog(&w, "warm", "12", "3", "kill=5");
    run_prog(&f, "fork", "12", "3", "kill=5");
    run_prog(&a, "auto", "12", "3", "kill=5");
    HT_CHECK_CONTAINS(f.out, "region 5: ");
    HT_CHECK_CONTAINS(f.out, "12 regions of 3 members: 0 differences");
    HT_CHECK_MSG(strcmp(w.out, f.out) == 0 && strcmp(a.out, f.out) == 0,
                 "outputs differ.\nwarm: %.1500s\nfork: %.1500s\nauto: %.1500s", w.out, f.out,
                 a.out);
    ht_proc_free(&w);
    ht_proc_free(&f);
    ht_proc_free(&a);
}

static void test_member_killed_in_a_warm_region(void)
{
    ht_proc p;
    int st = run_prog(&p, "warm", "10", "3", "kill=4");
    HT_CHECK_MSG(st == 0, "status %d, stdout %.1000s stderr %.1500s", st, p.out, p.err);
    HT_CHECK_CONTAINS(p.out, "region 4: ");
    HT_CHECK_CONTAINS(p.out, "10 regions of 3 members: 0 differences");
    HT_CHECK_CONTAINS(p.err, "was killed by signal 9 (SIGKILL)");
    if (warm_available()) {
        /* the broken region took its pool along; the next region started another */
        check_counts(p.err, 8, 2, 0);
    }
    ht_proc_free(&p);
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
}

static void test_no_userfaultfd_falls_back(void)
{
    ht_proc p;
    int st = run_prog(&p, "auto", "6", "3", "nouffd");
    HT_CHECK_MSG(st == 0, "status %d, stderr %.1500s", st, p.err);
    HT_CHECK_CONTAINS(p.out, "6 regions of 3 members: 0 differences");
    HT_CHECK_CONTAINS(p.err, "FMP_REGION = 'auto (regions fork: ");
    HT_CHECK_CONTAINS(p.err, "pids: fresh");
    check_counts(p.err, 0, 0, 6);
    ht_proc_free(&p);
    /* asked for warm by name: said once, at the first region */
    st = run_prog(&p, "warm", "6", "3", "nouffd");
    HT_CHECK_INT_EQ(st, 0);
    const char *note = "forks its members instead of reusing warm ones";
    char *first = strstr(p.err, note);
    HT_CHECK_MSG(first && !strstr(first + 1, note), "the fallback note, once: %.2000s", p.err);
    if (warm_available()) /* else warm is off for another reason (a sanitizer build) */
        HT_CHECK_CONTAINS(p.err, "userfaultfd");
    ht_proc_free(&p);
}

static void test_exec_leaves_no_member(void)
{
    ht_proc p;
    int st = run_prog(&p, "auto", "5", "3", "exec");
    HT_CHECK_MSG(st == 0, "status %d, stderr %.1500s", st, p.err);
    HT_CHECK_CONTAINS(p.out, "5 regions of 3 members: 0 differences");
    /* the image after the exec has no use for the pool: its members leave (and stay as
       ended children that signal nothing, which its wait() does not collect) */
    HT_CHECK_NOT_CONTAINS(p.out, "left ");
    ht_proc_free(&p);
    /* released before the exec: nothing of the pool is left */
    st = run_prog(&p, "auto", "5", "3", "exec=release");
    HT_CHECK_MSG(st == 0, "status %d, stderr %.1500s", st, p.err);
    HT_CHECK_CONTAINS(p.out, "5 regions of 3 members: 0 differences");
    HT_CHECK_NOT_CONTAINS(p.out, "left ");
    HT_CHECK_NOT_CONTAINS(p.out, "ended ");
    ht_proc_free(&p);
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
}

/* A program that reaps all of its children after its regions, wait() until ECHILD, gets
   its own child and no parked member (they are not its children of the common kind);
   the pool still serves the region after. */
static void test_wait_for_all_children_after_regions(void)
{
    const char *modes[] = {"warm", "auto", "fork"};
    for (int i = 0; i < 3; i++) {
        ht_proc p;
        int st = run_prog(&p, modes[i], "6", "3", "waitall");
        HT_CHECK_MSG(st == 0,
                     "FMP_REGION=%s: status %d (142: the alarm, wait() hung), "
                     "stdout %.500s stderr %.1500s",
                     modes[i], st, p.out, p.err);
        HT_CHECK_CONTAINS(p.out, "wait: 1 reaped, 1 its own child, then ECHILD");
        HT_CHECK_CONTAINS(p.out, "7 regions of 3 members: 0 differences");
        if (i == 0 && warm_available())
            HT_CHECK_CONTAINS(p.err, "pids: reused");
        ht_proc_free(&p);
    }
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
}

/* ---------------------------------------------------------------- in-process cases */

/* The mode, before the first forkmp call of the test's process. */
static int in_warm_mode(void)
{
    setenv("FMP_REGION", "warm", 1);
    return fmp_get_num_procs() > 0; /* reads the environment */
}

/* Whether pid is a child of this process (a warm member: a clone of it). */
static int my_child(pid_t pid)
{
    pid_t kids[64];
    int n = ht_children_of(getpid(), kids, 64);
    for (int i = 0; i < n && i < 64; i++)
        if (kids[i] == pid)
            return 1;
    return 0;
}

/* A member of the warm pool killed while it is parked: the next region forks and runs
   whole.  Its pool's other members had synced for it and waited for the go; one of them
   could see another die as the pool was let go and mark the team broken, recording that
   death: the forked region inherited both and failed, blaming its new member of that
   number (about one run in three with 8 members on 2 cpus).  Ten runs, each a child of
   its own (three pools that fail end warm regions in a process). */
static void test_parked_member_killed_next_region_runs(void)
{
    in_warm_mode();
    int *pid = ht_shared(sizeof(int) * 8);
    for (int run = 0; run < 10; run++) {
        pid_t c = fork();
        HT_REQUIRE(c >= 0);
        if (c == 0) {
            fmp_set_error_mode(FMP_ERRORS_RETURN);
            int bad = 0;
            for (int r = 0; r < 3; r++) {
                long sum = 0;
                FMP_PARALLEL(8) {
                    long one = 1;
                    pid[fmp_thread_num()] = (int)getpid();
                    fmp_reduce(&one, &sum, 1, FMP_LONG, FMP_SUM);
                }
                bad += fmp_region_error() != 0 || sum != 8;
                if (r == 0 && my_child(pid[1])) { /* parked: a warm member */
                    kill(pid[1], SIGKILL);
                    usleep(50000);
                }
            }
            _exit(bad);
        }
        int st = -1;
        HT_REQUIRE(waitpid(c, &st, 0) == c);
        HT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                     "run %d: %d of 3 regions failed or summed wrong (status %#x)", run,
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1, st);
    }
}

static void test_nested_regions_in_warm_members(void)
{
    setenv("FMP_MAX_ACTIVE_LEVELS", "2", 1);
    in_warm_mode();
    int *seen = ht_shared(sizeof(int) * 16);
    for (int round = 0; round < 4; round++) {
        memset(seen, 0, sizeof(int) * 16);
        int outer_value = 100 + round; /* private: each member's copy */
        FMP_PARALLEL(2) {
            int me = fmp_thread_num();
            FMP_PARALLEL(2) {
                ht_atomic_add(&seen[me * 2 + fmp_thread_num()], outer_value);
            }
        }
        for (int k = 0; k < 4; k++)
            HT_CHECK_MSG(seen[k] == outer_value, "round %d: slot %d saw %d, wanted %d", round, k,
                         seen[k], outer_value);
    }
    fmp_warm_release(); /* the pool is not left to the harness */
}

static void test_team_sizes_change(void)
{
    in_warm_mode();
    int *sum = ht_shared(sizeof(int));
    int sizes[] = {2, 3, 3, 1, 4, 2, 2};
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *sum = 0;
        int base = (int)i * 10;
        FMP_PARALLEL(sizes[i]) {
            ht_atomic_add(sum, base + fmp_thread_num());
        }
        int want = sizes[i] * base + sizes[i] * (sizes[i] - 1) / 2;
        HT_CHECK_MSG(*sum == want, "team of %d: sum %d, wanted %d", sizes[i], *sum, want);
        HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    }
    fmp_warm_release(); /* the pool is not left to the harness */
}

typedef struct fn_arg {
    int *hits;
    int add;
} fn_arg;

static void fn_body(void *arg)
{
    fn_arg *a = arg;
    ht_atomic_add(&a->hits[fmp_thread_num()], a->add);
    a->hits[3 + fmp_thread_num()] = (int)getpid();
}

static void test_function_form(void)
{
    in_warm_mode();
    int *hits = ht_shared(sizeof(int) * 6);
    int first[3] = {0, 0, 0}, same = 1;
    for (int r = 1; r <= 5; r++) {
        fn_arg a = {hits, r};
        HT_CHECK_INT_EQ(fmp_parallel(3, fn_body, &a), FMP_OK);
        for (int m = 1; m < 3; m++) {
            if (r == 1)
                first[m] = hits[3 + m];
            same &= hits[3 + m] == first[m];
        }
    }
    for (int m = 0; m < 3; m++)
        HT_CHECK_INT_EQ(hits[m], 15);
    /* little changes between these regions: one pool serves them all */
    int parked = ht_children_of(getpid(), NULL, 0);
    HT_CHECK_MSG(same == (parked == 2), "members the same processes: %d, %d parked", same, parked);
    fmp_warm_release(); /* the pool is not left to the harness */
}

static void test_exit_in_a_warm_region(void)
{
    in_warm_mode();
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int *count = ht_shared(sizeof(int));
    FMP_PARALLEL(3) {
        ht_atomic_add(count, 1);
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 2)
            exit(5);
    }
    HT_CHECK_INT_NE(fmp_region_error(), FMP_OK);
    HT_CHECK_CONTAINS(fmp_last_failure(), "member 2");
    for (int r = 0; r < 3; r++) {
        FMP_PARALLEL(3) {
            ht_atomic_add(count, 1);
        }
        HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    }
    HT_CHECK_INT_EQ(*count, 12);
    fmp_warm_release(); /* the pool is not left to the harness */
}

static void test_shared_mapping_made_between_regions(void)
{
    in_warm_mode();
    for (int r = 0; r < 4; r++) {
        /* a MAP_SHARED mapping of the master's, made after the pool started */
        int *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        HT_REQUIRE(s != MAP_FAILED);
        FMP_PARALLEL(3) {
            ht_atomic_add(&s[fmp_thread_num()], r + 1);
        }
        for (int m = 0; m < 3; m++)
            HT_CHECK_MSG(s[m] == r + 1, "round %d: member %d wrote %d", r, m, s[m]);
        munmap(s, 4096);
    }
    fmp_warm_release(); /* the pool is not left to the harness */
}

/* Another process writes the master's private memory between regions with
   process_vm_writev (as Open MPI's shared-memory transport does, single-copy through CMA):
   the kernel's write faults like the master's own, so the members see it. */
static long g_cma_word[512] __attribute__((aligned(4096)));

static void test_write_by_another_process_between_regions(void)
{
    int warm = warm_available();
    in_warm_mode();
    long *seen = ht_shared(sizeof(long) * 4);
    g_cma_word[0] = 5;
    long first_pid = 0;
    for (int r = 0; r < 6; r++) {
        pid_t me = getpid(), c = fork();
        HT_REQUIRE(c >= 0);
        if (c == 0) {
            long val = 1000 + r;
            struct iovec here = {&val, sizeof val}, there = {&g_cma_word[0], sizeof val};
            _exit(process_vm_writev(me, &here, 1, &there, 1, 0) == (ssize_t)sizeof val ? 0 : 1);
        }
        int st;
        HT_REQUIRE(waitpid(c, &st, 0) == c);
        HT_REQUIRE_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "process_vm_writev failed");
        HT_REQUIRE(g_cma_word[0] == 1000 + r);
        FMP_PARALLEL(3) {
            seen[fmp_thread_num()] = g_cma_word[0];
            if (fmp_thread_num() == 1)
                seen[3] = getpid();
            g_cma_word[0] = -1; /* a member's own write: gone at the join */
        }
        HT_CHECK_INT_EQ(g_cma_word[0], -1); /* the master's write stays */
        for (int m = 1; m < 3; m++)
            HT_CHECK_MSG(seen[m] == 1000 + r, "region %d: member %d saw %ld, not %d", r, m, seen[m],
                         1000 + r);
        if (r == 0)
            first_pid = seen[3];
        else if (warm)
            HT_CHECK_MSG(seen[3] == first_pid, "region %d did not reuse the warm members", r);
    }
    fmp_warm_release();
}

/* A master with other threads (an MPI rank has Open MPI's): threads blocked in poll and
   in a condition variable let the regions run warm; a thread that wakes every millisecond
   makes some regions fork (it ran while the members copied), and no warm region shows
   its two counters half updated; a region opened by a thread other than the first forks. */
static int g_th_pipe[2];
static volatile long g_th_x, g_th_y;
static volatile int g_th_quit;
static pthread_mutex_t g_th_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_th_cv = PTHREAD_COND_INITIALIZER;

static void *th_poller(void *a)
{
    (void)a;
    struct pollfd p = {g_th_pipe[0], POLLIN, 0};
    poll(&p, 1, -1);
    return NULL;
}

static void *th_waiter(void *a)
{
    (void)a;
    pthread_mutex_lock(&g_th_mu);
    while (!g_th_quit)
        pthread_cond_wait(&g_th_cv, &g_th_mu);
    pthread_mutex_unlock(&g_th_mu);
    return NULL;
}

/* th_waiter (and th_ticker) end */
static void th_end_waiters(void)
{
    g_th_quit = 1;
    pthread_mutex_lock(&g_th_mu);
    pthread_cond_broadcast(&g_th_cv);
    pthread_mutex_unlock(&g_th_mu);
}

static void *th_ticker(void *a)
{
    (void)a;
    struct timespec ms = {0, 1000000};
    while (!g_th_quit) {
        g_th_x++;
        for (volatile int k = 0; k < 1000; k++)
            ;
        g_th_y++;
        nanosleep(&ms, NULL);
    }
    return NULL;
}

/* n regions of 3; *reused: those whose member 1 was the pool's; *torn: warm regions whose
   members saw the ticker's counters differ */
static void th_regions(int n, long *shared, long pool_pid, int *reused, int *torn)
{
    static long g;
    *reused = *torn = 0;
    for (int r = 0; r < n; r++) {
        g = r;
        FMP_PARALLEL(3) {
            int me = fmp_thread_num();
            shared[me] = g;
            if (me)
                shared[4 + me] = g_th_x == g_th_y;
            if (me == 1)
                shared[3] = getpid();
            g = -1;
        }
        for (int m = 0; m < 3; m++)
            HT_CHECK_MSG(shared[m] == r, "region %d: member %d saw %ld", r, m, shared[m]);
        int warm = shared[3] == pool_pid;
        *reused += warm;
        if (warm)
            *torn += !shared[5] + !shared[6];
    }
}

static void *th_opener(void *a)
{
    long *shared = a;
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1)
            shared[3] = getpid();
    }
    return NULL;
}

static void test_threads_in_the_master(void)
{
    int warm = warm_available();
    in_warm_mode();
    long *shared = ht_shared(sizeof(long) * 8);
    HT_REQUIRE(pipe(g_th_pipe) == 0);
    g_th_quit = 0;
    pthread_t a, b, c, d;
    HT_REQUIRE(pthread_create(&a, NULL, th_poller, NULL) == 0);
    HT_REQUIRE(pthread_create(&b, NULL, th_waiter, NULL) == 0);
    usleep(50000); /* both blocked */
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1)
            shared[3] = getpid();
    }
    long pool = shared[3];
    int reused, torn;
    th_regions(20, shared, pool, &reused, &torn);
    if (warm)
        HT_CHECK_MSG(reused >= 15,
                     "threads blocked in poll and a condition variable: only %d "
                     "of 20 regions reused the warm members",
                     reused);
    HT_REQUIRE(pthread_create(&c, NULL, th_ticker, NULL) == 0);
    th_regions(200, shared, pool, &reused, &torn);
    HT_CHECK_MSG(torn == 0, "%d warm regions saw the ticker's counters half updated", torn);
    fprintf(stderr, "with a thread ticking every millisecond: %d of 200 regions warm\n", reused);
    /* a region opened by another thread forks */
    shared[3] = 0;
    HT_REQUIRE(pthread_create(&d, NULL, th_opener, shared) == 0);
    pthread_join(d, NULL);
    HT_CHECK_MSG(shared[3] != 0 && shared[3] != pool,
                 "a region opened by a second thread "
                 "ran on the pool (member 1: %ld)",
                 shared[3]);
    th_end_waiters();
    HT_REQUIRE(write(g_th_pipe[1], "x", 1) == 1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    pthread_join(c, NULL);
    close(g_th_pipe[0]);
    close(g_th_pipe[1]);
    fmp_warm_release();
}

/* The master's other threads change between regions: one ends and another starts (the
   region's look at them is listed anew, no descriptor of the old one's left open), and a
   child of the program's own fork whose thread never stops runs no region warm (its
   parent's threads, blocked, are not its own). */
static volatile int g_spin_quit;

static void *th_spinner(void *a)
{
    (void)a;
    while (!g_spin_quit)
        ;
    return NULL;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    HT_REQUIRE(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own */
}

static void test_threads_change_between_regions(void)
{
    int warm = warm_available();
    in_warm_mode();
    long *shared = ht_shared(sizeof(long) * 8);
    HT_REQUIRE(pipe(g_th_pipe) == 0);
    g_th_quit = 0;
    pthread_t a, b;
    HT_REQUIRE(pthread_create(&a, NULL, th_waiter, NULL) == 0);
    usleep(50000);
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1)
            shared[3] = getpid();
    }
    long pool = shared[3];
    int reused, torn;
    th_regions(10, shared, pool, &reused, &torn);
    int fds = open_fds();
    if (warm)
        HT_CHECK_MSG(reused >= 8, "a thread in a condition variable: %d of 10 regions warm",
                     reused);
    /* the waiter ends, a poller starts */
    th_end_waiters();
    pthread_join(a, NULL);
    HT_REQUIRE(pthread_create(&b, NULL, th_poller, NULL) == 0);
    usleep(50000);
    th_regions(10, shared, pool, &reused, &torn);
    if (warm)
        HT_CHECK_MSG(reused >= 8, "a thread in poll after another ended: %d of 10 regions warm",
                     reused);
    HT_CHECK_MSG(open_fds() == fds, "%d descriptors open after the thread changed, %d before",
                 open_fds(), fds);
    pid_t child = fork();
    if (child == 0) {
        pthread_t s;
        if (pthread_create(&s, NULL, th_spinner, NULL) != 0)
            _exit(2);
        int ran_warm = 0;
        long first = 0;
        for (int r = 0; r < 6; r++) {
            shared[3] = 0;
            FMP_PARALLEL(3) {
                if (fmp_thread_num() == 1)
                    shared[3] = getpid();
            }
            if (r == 0)
                first = shared[3];
            else
                ran_warm += shared[3] == first;
        }
        g_spin_quit = 1;
        pthread_join(s, NULL);
        fmp_warm_release();
        _exit(ran_warm ? 4 : 0);
    }
    HT_REQUIRE(child > 0);
    int st = 0;
    HT_CHECK_INT_EQ(waitpid(child, &st, 0), child);
    HT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                 "the child with a spinning thread ran regions on a warm pool (status %#x)", st);
    HT_REQUIRE(write(g_th_pipe[1], "x", 1) == 1);
    pthread_join(b, NULL);
    close(g_th_pipe[0]);
    close(g_th_pipe[1]);
    fmp_warm_release();
}

/* A member kept off its cpu across a region that auto forks (the master wrote too much
   since the last one) while it was woken for it: it must park for that region before
   the next one wakes it, or it would see only the next wake, never park for the one it
   missed, and the next region would wait for it for ever (seen under load).  Member 1 is
   stopped from the region that forks until a helper continues it 300 ms later, when the
   next region has begun. */
static void test_member_stopped_across_a_forked_region(void)
{
    if (!warm_available())
        return;
    setenv("FMP_REGION", "auto", 1);
    fmp_get_num_procs(); /* reads the environment */
    long *shared = ht_shared(sizeof(long) * 8);
    static int g;
    for (int round = 0; round < 3; round++) {
        g = round;
        FMP_PARALLEL(3) {
            shared[fmp_thread_num()] = getpid() + 100000L * g;
        }
        pid_t m1 = (pid_t)(shared[1] - 100000L * round);
        HT_REQUIRE(m1 > 0 && m1 != getpid());
        HT_REQUIRE(kill(m1, SIGSTOP) == 0);
        pid_t helper = fork();
        if (helper == 0) {
            usleep(300000);
            kill(m1, SIGCONT);
            _exit(0);
        }
        HT_REQUIRE(helper > 0);
        size_t big = (size_t)48 << 20; /* past auto's budget: the next region forks */
        char *p = malloc(big);
        HT_REQUIRE(p != NULL);
        memset(p, round + 1, big);
        for (int r = 0; r < 3; r++) {
            g = 10 * round + r;
            memset(shared, 0, sizeof(long) * 4);
            FMP_PARALLEL(3) {
                shared[fmp_thread_num()] = g + p[big - 1];
            }
            for (int m = 0; m < 3; m++)
                HT_CHECK_MSG(shared[m] == g + round + 1, "round %d region %d: member %d saw %ld",
                             round, r, m, shared[m]);
        }
        free(p);
        int st;
        HT_CHECK_INT_EQ(waitpid(helper, &st, 0), helper);
        kill(m1, SIGCONT); /* if the helper had not yet */
    }
    fmp_warm_release();
}

/* The program gives the numbers of the runtime's own descriptors (the pool's files, the
   kept thread files) to files of its own: in the master after closing them, and in a
   child of its fork after closing everything from 3 up.  The runtime never reads them as
   its own nor closes them: each still reads the program's file after more regions, after
   fmp_warm_release(), and in the child after its regions. */
static int runtime_fds(int *out, int max)
{
    static const char *kinds[] = {"/task/",  "[userfaultfd]", "/pagemap",
                                  "/status", "/maps",         "pidfd"};
    DIR *d = opendir("/proc/self/fd");
    HT_REQUIRE(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char path[64], link[256] = "";
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%d", atoi(e->d_name));
        if (readlink(path, link, sizeof link - 1) <= 0)
            continue;
        for (unsigned k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            if (strstr(link, kinds[k]) && n < max && atoi(e->d_name) != dirfd(d)) {
                out[n++] = atoi(e->d_name);
                break;
            }
    }
    closedir(d);
    return n;
}

/* fd reads back the program's word v: 1, else 0 */
static int holds_word(int fd, long v)
{
    long got = 0;
    return pread(fd, &got, sizeof got, 0) == (ssize_t)sizeof got && got == v;
}

static int word_file(long v)
{
    FILE *f = tmpfile();
    HT_REQUIRE(f != NULL);
    HT_REQUIRE(fwrite(&v, sizeof v, 1, f) == 1 && fflush(f) == 0);
    int fd = dup(fileno(f));
    fclose(f);
    return fd;
}

/* count regions of 3, the master's value base + r in each, checked in every member;
   pids[r]: member 1's pid in region r */
static void regions_of_three(long *shared, int base, int count, long *pids)
{
    static int g;
    for (int r = 0; r < count; r++) {
        g = base + r;
        FMP_PARALLEL(3) {
            shared[fmp_thread_num()] = g;
            if (fmp_thread_num() == 1)
                shared[3] = getpid();
        }
        for (int m = 0; m < 3; m++)
            HT_CHECK_MSG(shared[m] == base + r, "region %d: member %d saw %ld", base + r, m,
                         shared[m]);
        pids[r] = shared[3];
    }
}

static void test_program_reuses_the_runtimes_descriptor_numbers(void)
{
    if (!warm_available())
        return;
    in_warm_mode();
    long *shared = ht_shared(sizeof(long) * 8);
    HT_REQUIRE(pipe(g_th_pipe) == 0);
    pthread_t a;
    HT_REQUIRE(pthread_create(&a, NULL, th_poller, NULL) == 0);
    usleep(50000);
    static int g;
    for (int r = 0; r < 3; r++)
        FMP_PARALLEL(3) {
            shared[fmp_thread_num()] = r;
        }
    int fds[64], n = runtime_fds(fds, 64);
    HT_CHECK_MSG(n >= 4, "only %d of the runtime's descriptors found", n);
    pid_t child = fork();
    if (child == 0) {
        /* the child closes everything from 3 up and opens files of its own there */
        syscall(SYS_close_range, 3U, ~0U, 0);
        int mine[24];
        for (int k = 0; k < 24; k++)
            mine[k] = word_file(5000 + k);
        int bad = 0;
        for (int r = 0; r < 3; r++) {
            g = r;
            FMP_PARALLEL(3) {
                shared[4 + fmp_thread_num()] = g;
            }
            bad += shared[4] != r || shared[5] != r || shared[6] != r;
        }
        for (int k = 0; k < 24; k++)
            bad += !holds_word(mine[k], 5000 + k) ? 100 : 0;
        fmp_warm_release();
        _exit(bad > 255 ? 255 : bad);
    }
    HT_REQUIRE(child > 0);
    int st = 0;
    HT_CHECK_INT_EQ(waitpid(child, &st, 0), child);
    HT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                 "the child's own descriptors or regions went wrong (status %#x: 100 a file lost)",
                 st);
    /* the master: each of the runtime's numbers given to a file of the program's */
    for (int k = 0; k < n; k++) {
        int w = word_file(7000 + k);
        HT_REQUIRE(dup2(w, fds[k]) == fds[k]);
        close(w);
    }
    long pids[6];
    regions_of_three(shared, 10, 6, pids);
    for (int r = 1; r < 6; r++) /* a new pool at the first region, warm after it */
        HT_CHECK_MSG(pids[r] == pids[0], "region %d: member 1 was %ld, %ld at the first", r,
                     pids[r], pids[0]);
    for (int k = 0; k < n; k++)
        HT_CHECK_MSG(holds_word(fds[k], 7000 + k),
                     "after the regions, the program's descriptor %d no longer reads its file",
                     fds[k]);
    /* the new pool's userfaultfd alone given away: the pool goes again, no call of
       the runtime's on the program's file, warm after it */
    int uf[4], nu = 0, all[64], na = runtime_fds(all, 64);
    for (int k = 0; k < na; k++) {
        char path[64], link[128] = "";
        snprintf(path, sizeof path, "/proc/self/fd/%d", all[k]);
        if (readlink(path, link, sizeof link - 1) > 0 && strstr(link, "[userfaultfd]") && nu < 4)
            uf[nu++] = all[k];
    }
    HT_CHECK_INT_EQ(nu, 1);
    int w = word_file(9000);
    HT_REQUIRE(nu >= 1 && dup2(w, uf[0]) == uf[0]);
    close(w);
    regions_of_three(shared, 20, 4, pids);
    for (int r = 1; r < 4; r++)
        HT_CHECK_MSG(pids[r] == pids[0],
                     "after the userfaultfd went, region %d: member 1 was "
                     "%ld, %ld at the first",
                     r, pids[r], pids[0]);
    HT_CHECK_MSG(holds_word(uf[0], 9000), "the program's descriptor %d no longer reads its file",
                 uf[0]);
    close(uf[0]);
    fmp_warm_release();
    for (int k = 0; k < n; k++) {
        HT_CHECK_MSG(holds_word(fds[k], 7000 + k),
                     "after fmp_warm_release, the program's descriptor %d no longer reads its "
                     "file",
                     fds[k]);
        close(fds[k]);
    }
    HT_REQUIRE(write(g_th_pipe[1], "x", 1) == 1);
    pthread_join(a, NULL);
    close(g_th_pipe[0]);
    close(g_th_pipe[1]);
}

/* The program closes the runtime's descriptors between regions (closefrom(3), as a
   daemon does): the next region finds the pool's files gone, lets the pool go (its
   members killed and reaped by their pids) and starts a new one; the regions after it
   run warm again, none forks for good. */
static void test_program_closes_the_runtimes_descriptors(void)
{
    if (!warm_available())
        return;
    in_warm_mode();
    long *shared = ht_shared(sizeof(long) * 8);
    static int g;
    long pids[8];
    for (int r = 0; r < 8; r++) {
        if (r == 3) {
            int fds[64], n = runtime_fds(fds, 64);
            HT_CHECK_MSG(n >= 4, "only %d of the runtime's descriptors found", n);
            for (int k = 0; k < n; k++)
                close(fds[k]);
        }
        g = r;
        FMP_PARALLEL(3) {
            shared[fmp_thread_num()] = g;
            if (fmp_thread_num() == 1)
                shared[3] = getpid();
        }
        for (int m = 0; m < 3; m++)
            HT_CHECK_MSG(shared[m] == r, "region %d: member %d saw %ld", r, m, shared[m]);
        pids[r] = shared[3];
    }
    HT_CHECK_MSG(pids[0] == pids[1] && pids[1] == pids[2],
                 "before the close, member 1 was %ld, %ld, %ld: not warm", pids[0], pids[1],
                 pids[2]);
    HT_CHECK_MSG(pids[3] != pids[2], "member 1 was the old pool's (%ld) after its files went",
                 pids[3]);
    for (int r = 4; r < 8; r++)
        HT_CHECK_MSG(pids[r] == pids[3],
                     "region %d: member 1 was %ld, %ld at region 3: the regions after the "
                     "new pool did not stay warm",
                     r, pids[r], pids[3]);
    fmp_warm_release();
}

/* A master with a thread that runs while the members copy (20 µs naps): such a region
   forks after its members synced ("no go").  Member 1 is stopped and continued at random
   (up to 30 ms) by a helper process meanwhile: a member kept off its cpu after its sync
   must still park for that region, or it would read the next region's state and enter
   the region that forked (seen as a hang).  Every body runs once a member, with its
   region's values. */
static volatile int g_nap_quit;

static void *th_napper(void *a)
{
    (void)a;
    struct timespec ts = {0, 20000};
    while (!g_nap_quit)
        nanosleep(&ts, NULL);
    return NULL;
}

static void test_member_stopped_after_a_no_go_sync(void)
{
    if (!warm_available())
        return;
    in_warm_mode();
    long *shared = ht_shared(sizeof(long) * 8);
    static long g;
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1)
            shared[4] = getpid();
    }
    pid_t m1 = (pid_t)shared[4];
    pid_t stopper = fork();
    if (stopper == 0) {
        srand((unsigned)getpid());
        for (int i = 0; i < 400 && kill(m1, 0) == 0; i++) {
            kill(m1, SIGSTOP);
            usleep((useconds_t)(rand() % 30000));
            kill(m1, SIGCONT);
            usleep((useconds_t)(rand() % 3000));
        }
        kill(m1, SIGCONT);
        _exit(0);
    }
    HT_REQUIRE(stopper > 0);
    int bad = 0;
    for (int r = 0; r < 150; r++) {
        for (int half = 0; half < 2; half++) {
            pthread_t th;
            if (half == 0) {
                g_nap_quit = 0;
                HT_REQUIRE(pthread_create(&th, NULL, th_napper, NULL) == 0);
                usleep(1000);
            }
            g = 100 + 2 * r + half;
            memset(shared, 0, sizeof(long) * 4);
            FMP_PARALLEL(3) {
                __atomic_add_fetch(&shared[0], 1, __ATOMIC_SEQ_CST);
                shared[1 + fmp_thread_num()] = g;
            }
            int ok = shared[0] == 3;
            for (int m = 0; m < 3; m++)
                ok &= shared[1 + m] == 100 + 2 * r + half;
            if (!ok && bad++ < 5)
                HT_CHECK_MSG(0, "round %d%c: the body ran %ld times; saw %ld %ld %ld", r,
                             half ? 'B' : 'A', shared[0], shared[1], shared[2], shared[3]);
            if (half == 0) {
                g_nap_quit = 1;
                pthread_join(th, NULL);
            }
        }
    }
    kill(stopper, SIGKILL);
    waitpid(stopper, NULL, 0);
    kill(m1, SIGCONT);
    fmp_warm_release();
}

/* The child of regions_under_a_limit: a lowered limit, a descriptor opened high before
   region fd_region. */
typedef struct limit_case {
    int resource;
    rlim_t cur;
    int fd_at, fd_region;
} limit_case;

static void regions_in_limit(void *arg)
{
    const limit_case *lc = arg;
    struct rlimit rl;
    getrlimit(lc->resource, &rl);
    rl.rlim_cur = lc->cur;
    if (setrlimit(lc->resource, &rl) != 0)
        _exit(2);
    in_warm_mode();
    long *shared = ht_shared(sizeof(long) * 4);
    static int g;
    int bad = 0;
    for (int r = 0; r < 3; r++) {
        if (lc->fd_at > 0 && r == lc->fd_region && dup2(0, lc->fd_at) != lc->fd_at)
            _exit(2);
        g = r;
        FMP_PARALLEL(3) {
            shared[fmp_thread_num()] = g;
        }
        bad += shared[0] != r || shared[1] != r || shared[2] != r;
    }
    _exit(bad ? 3 : 0);
}

/* A child with the soft limit of resource at cur runs 3 regions of 3 in warm mode: they
   must see the master's values whatever runs them, and its stderr must say why they
   fork (word and value, as the note names them). */
static void regions_under_a_limit(int resource, rlim_t cur, int fd_at, int fd_region,
                                  const char *word, const char *value)
{
    if (!warm_available())
        return;
    struct rlimit hard;
    HT_REQUIRE(getrlimit(resource, &hard) == 0);
    if (hard.rlim_max != RLIM_INFINITY && hard.rlim_max < cur) {
        printf("(the hard limit %llu is below %llu: not tried) ", (unsigned long long)hard.rlim_max,
               (unsigned long long)cur);
        return;
    }
    limit_case lc = {resource, cur, fd_at, fd_region};
    char text[4096];
    int st = ht_stderr_of(regions_in_limit, &lc, text, sizeof text);
    HT_CHECK_MSG(st == 0, "the regions went wrong (status %d)", st);
    HT_CHECK_MSG(strstr(text, word) && strstr(text, value), "no word of %s: %.1500s", word, text);
}

/* The child of test_alternating_team_sizes_keep_the_pool: 9 regions alternating sizes 2,
   3, 4, then 6 of size 3; exit() prints the counts. */
static void alternating_sizes(void *arg)
{
    (void)arg;
    setenv("FMP_REGION", "auto", 1);
    setenv("FMP_DISPLAY_ENV", "verbose", 1);
    long *seen = ht_shared(sizeof(long) * 8);
    int bad = 0;
    for (int r = 0; r < 15; r++) {
        int n = r < 9 ? 2 + r % 3 : 3;
        memset(seen, 0, sizeof(long) * 8);
        FMP_PARALLEL(n) {
            seen[fmp_thread_num()] = r + 1;
        }
        for (int m = 0; m < n; m++)
            bad += seen[m] != r + 1;
    }
    exit(bad ? 3 : 0); /* exit: the counts are printed at the end */
}

/* Regions that alternate their team sizes under auto (2, 3, 4, 2, ...): the pool of the
   first size stays and the regions of other sizes fork, where a pool was started for
   every region (1.3 ms a region against 0.4 forked); sizes that change for good get a
   new pool at their second region.  Every region's members are all there. */
static void test_alternating_team_sizes_keep_the_pool(void)
{
    if (!warm_available())
        return;
    char text[16384];
    int st = ht_stderr_of(alternating_sizes, NULL, text, sizeof text);
    HT_CHECK_MSG(st == 0, "the regions went wrong (status %d)", st);
    /* regions 0, 3, 6 warm on the first pool (0 starts it), 1, 2, 4, 5, 7, 8 fork; then
       size 3 twice in a row: region 9 forks, 10 starts a pool, 11-14 reuse it */
    check_counts(text, 6, 2, 7);
}

/* A descriptor limit below the numbers where warm members keep their own (900 up):
   the regions fork, right, and FMP_REGION=warm says why once, naming the limit. */
static void test_low_descriptor_limit_says_so(void)
{
    regions_under_a_limit(RLIMIT_NOFILE, 256, 0, 0, "RLIMIT_NOFILE", "is 256");
}

/* A CPU time limit: a warm member's CPU time counts every region it ran, a fork child's
   starts at 0, so regions fork, and the note says why. */
static void test_cpu_time_limit_forks_and_says_so(void)
{
    regions_under_a_limit(RLIMIT_CPU, 600, 0, 0, "RLIMIT_CPU", "600 s");
}

/* A descriptor the master holds at 5000 (the limit allows it): warm members mirror
   those below 4096, so the regions fork, right, and the note says so (it blamed the
   descriptor limit before); also when it is opened once the pool runs (the note said
   only that a member was gone). */
static void test_descriptor_above_4096_says_so(void)
{
    regions_under_a_limit(RLIMIT_NOFILE, 8192, 5000, 0, "descriptor numbered 4096 or above",
                          "do not mirror");
    regions_under_a_limit(RLIMIT_NOFILE, 8192, 5000, 1, "descriptor numbered 4096 or above",
                          "do not mirror");
}

/* What a fork child inherits and the memory does not hold, changed by the master between
   regions (the umask, the name, resource limits, the nice value, the I/O priority, the THP
   switch, the alternate signal stack) or left by a body (an
   interval timer, a blocked signal pending, its own umask, name and nice value): each
   member of the
   next region has the master's, as a child forked there would, and stays (the same warm
   member); a signal to the process group between regions reaches no parked member (none
   would exist after a fork). */
struct attrs {
    unsigned umask;
    char name[16];
    long core, stack;
    int nice, usr1, timer, pending, pid, ioprio, thp_off;
    void *altstack;
};
static void my_attrs(struct attrs *a)
{
    a->umask = umask(0);
    umask(a->umask);
    memset(a->name, 0, sizeof a->name);
    prctl(PR_GET_NAME, a->name);
    struct rlimit rl;
    getrlimit(RLIMIT_CORE, &rl);
    a->core = (long)rl.rlim_cur;
    getrlimit(RLIMIT_STACK, &rl);
    a->stack = (long)rl.rlim_cur;
    errno = 0;
    a->nice = getpriority(PRIO_PROCESS, 0);
    a->ioprio = (int)syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
    a->thp_off = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
    stack_t ss;
    sigaltstack(NULL, &ss);
    a->altstack = (ss.ss_flags & SS_DISABLE) ? NULL : ss.ss_sp;
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    a->usr1 = sa.sa_handler != SIG_DFL;
    struct itimerval it;
    getitimer(ITIMER_REAL, &it);
    a->timer = it.it_value.tv_sec != 0 || it.it_value.tv_usec != 0;
    sigset_t p;
    sigpending(&p);
    a->pending = sigismember(&p, SIGUSR1);
    a->pid = getpid();
}

static _Atomic int *g_usr2_runs;
static void on_usr2(int sig)
{
    (void)sig;
    atomic_fetch_add(g_usr2_runs, 1);
}

static void test_process_attributes_follow_the_master(void)
{
    int warm = warm_available(); /* else (a sanitizer, valgrind) they fork: checked all the same */
    in_warm_mode();
    HT_REQUIRE(setpgid(0, 0) == 0); /* the signal to the group below reaches the test alone */
    struct attrs *seen = ht_shared(sizeof(struct attrs) * 3);
    g_usr2_runs = ht_shared(sizeof(int));
    signal(SIGUSR2, on_usr2);
    int pid1 = 0;
    for (int r = 0; r < 4; r++) {
        umask(r == 0 ? 022 : 077 - r);
        char name[16];
        snprintf(name, sizeof name, "attrs-%d", r);
        prctl(PR_SET_NAME, name);
        struct rlimit rl;
        getrlimit(RLIMIT_CORE, &rl);
        rl.rlim_cur =
            rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 4096 ? (rlim_t)(4096 - r) : rl.rlim_max;
        setrlimit(RLIMIT_CORE, &rl);
        getrlimit(RLIMIT_STACK, &rl);
        rl.rlim_cur = ((rlim_t)16 << 20) + (rlim_t)r * 4096;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
            rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_STACK, &rl);
        setpriority(PRIO_PROCESS, 0, r); /* up only: allowed without privileges */
        syscall(SYS_ioprio_set, 1, 0, (2 << 13) | (4 + r)); /* best effort, level 4 + r */
        prctl(PR_SET_THP_DISABLE, r & 1, 0, 0, 0);
        static char alt[4][1 << 16];
        stack_t ss = {.ss_sp = alt[r], .ss_size = sizeof alt[r]}; /* a stack-overflow guard's */
        sigaltstack(&ss, NULL);
        struct attrs want;
        my_attrs(&want);
        FMP_PARALLEL(3) {
            int me = fmp_thread_num();
            my_attrs(&seen[me]);
            if (me == 1 && r == 2) { /* what a child's exit would take with it */
                umask(0);
                prctl(PR_SET_NAME, "body");
                if (geteuid() == 0) /* down again needs the right */
                    setpriority(PRIO_PROCESS, 0, 15);
                alarm(100);
                sigset_t s;
                sigemptyset(&s);
                sigaddset(&s, SIGUSR1);
                sigprocmask(SIG_BLOCK, &s, NULL);
                raise(SIGUSR1);
            }
        }
        for (int m = 1; m < 3; m++) {
            struct attrs *a = &seen[m];
            HT_CHECK_MSG(a->umask == want.umask && strcmp(a->name, want.name) == 0 &&
                             a->usr1 == want.usr1 && a->core == want.core &&
                             a->stack == want.stack && a->nice == want.nice,
                         "region %d, member %d: umask %o, name '%s', SIGUSR1 %s, core %ld, stack "
                         "%ld, nice %d; the master: %o, '%s', %s, %ld, %ld, %d",
                         r, m, a->umask, a->name, a->usr1 ? "caught" : "default", a->core, a->stack,
                         a->nice, want.umask, want.name, want.usr1 ? "caught" : "default",
                         want.core, want.stack, want.nice);
            HT_CHECK_MSG(a->ioprio == want.ioprio && a->thp_off == want.thp_off &&
                             a->altstack == want.altstack,
                         "region %d, member %d: ioprio %#x, THP off %d, signal stack %p; the "
                         "master: %#x, %d, %p",
                         r, m, a->ioprio, a->thp_off, a->altstack, want.ioprio, want.thp_off,
                         want.altstack);
            HT_CHECK_MSG(!a->timer && !a->pending,
                         "region %d, member %d: a timer (%d) or a signal (%d) of the last body", r,
                         m, a->timer, a->pending);
        }
        if (r == 0)
            pid1 = seen[1].pid;
        else if (warm) /* warm all along: the same member, alive */
            HT_CHECK_INT_EQ(seen[1].pid, pid1);
        if (r == 1) {
            kill(0, SIGUSR2); /* the master's handler runs; a parked member's must not */
            usleep(20000);
            HT_CHECK_INT_EQ(atomic_load(g_usr2_runs), 1);
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
}

/* A master that gives up its user (setuid, as root): its next region's members have its
   user, not root's (a new pool); without PR_SET_DUMPABLE again its /proc files are
   root's, regions fork, and the note says why; nothing hangs at the end. */
static void test_credentials_change_renews_the_pool(void)
{
    if (geteuid() != 0 || !warm_available())
        return;
    for (int dumpable = 0; dumpable < 2; dumpable++) {
        char path[] = "/tmp/forkmp-creds-XXXXXX";
        int log = mkstemp(path);
        HT_REQUIRE(log >= 0);
        unlink(path);
        int *uid = ht_shared(sizeof(int) * 8), *pid = ht_shared(sizeof(int) * 4);
        pid_t child = fork();
        if (child == 0) {
            if (dup2(log, 2) != 2)
                _exit(2);
            in_warm_mode();
            FMP_PARALLEL(3) {
                uid[fmp_thread_num()] = (int)getuid();
                if (fmp_thread_num() == 1)
                    pid[0] = getpid();
            }
            if (uid[1] != 0 || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
                _exit(3);
            if (dumpable)
                prctl(PR_SET_DUMPABLE, 1);
            for (int r = 0; r < 3; r++) {
                FMP_PARALLEL(3) {
                    uid[3 + fmp_thread_num()] = (int)geteuid();
                    if (fmp_thread_num() == 1)
                        pid[1 + r] = getpid();
                }
                if (uid[4] != 65534 || uid[5] != 65534)
                    _exit(4);
            }
            _exit(fmp_region_error() == FMP_OK ? 0 : 5);
        }
        HT_REQUIRE(child > 0);
        int st = 0;
        HT_CHECK_INT_EQ(waitpid(child, &st, 0), child);
        HT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                     "dumpable %d: status %#x (4: a member kept root's user: %d, %d)", dumpable, st,
                     uid[4], uid[5]);
        char text[16384] = "";
        ssize_t n = pread(log, text, sizeof text - 1, 0);
        text[n > 0 ? n : 0] = 0;
        close(log);
        if (dumpable) /* a pool before the change, one after, warm */
            HT_CHECK_MSG(pid[1] != pid[0] && pid[2] == pid[1] && pid[3] == pid[1],
                         "member 1's pids: %d before the change, %d %d %d after", pid[0], pid[1],
                         pid[2], pid[3]);
        else
            HT_CHECK_MSG(strstr(text, "not dumpable") && strstr(text, "PR_SET_DUMPABLE"),
                         "no word of why regions fork: %.1500s", text);
    }
}

/* A body that gives up rights of its own member for good (PR_SET_NO_NEW_PRIVS) or makes
   it a subreaper: a fork child of the next region has neither, nor does its member (the
   pool is renewed where the member cannot take them back). */
static void test_body_gives_up_its_members_rights(void)
{
    in_warm_mode();
    int *seen = ht_shared(sizeof(int) * 4);
    for (int r = 0; r < 3; r++) {
        FMP_PARALLEL(2) {
            int me = fmp_thread_num();
            seen[2 * me] = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
            int sub = 0;
            prctl(PR_GET_CHILD_SUBREAPER, &sub, 0, 0, 0);
            seen[2 * me + 1] = sub;
            if (me == 1 && r == 0) {
                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            }
        }
        HT_CHECK_MSG(seen[2] == 0 && seen[3] == 0,
                     "region %d, member 1: no_new_privs %d, subreaper %d, left by a body", r,
                     seen[2], seen[3]);
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
}

/* A thread of the program forks while the process's first thread is inside a region:
   the child, which has neither that thread nor its region, opens regions of its own. */
static _Atomic int g_fork_step;
static void *fork_while_inside(void *arg)
{
    int *hits = arg;
    while (atomic_load(&g_fork_step) == 0)
        usleep(100);
    pid_t c = fork();
    if (c == 0) {
        for (int r = 0; r < 3; r++) {
            FMP_PARALLEL(2) {
                ht_atomic_add(&hits[fmp_thread_num()], 1);
            }
        }
        _exit(fmp_region_error() == FMP_OK ? 0 : 3);
    }
    int st = -1;
    if (c > 0)
        waitpid(c, &st, 0);
    hits[2] = st;
    atomic_store(&g_fork_step, 2);
    return NULL;
}

static void test_fork_by_another_thread_inside_a_region(void)
{
    in_warm_mode();
    int *hits = ht_shared(sizeof(int) * 3);
    pthread_t th;
    HT_REQUIRE(pthread_create(&th, NULL, fork_while_inside, hits) == 0);
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 0) {
            atomic_store(&g_fork_step, 1);
            while (atomic_load(&g_fork_step) != 2)
                usleep(100);
        }
    }
    pthread_join(th, NULL);
    HT_CHECK_MSG(WIFEXITED(hits[2]) && WEXITSTATUS(hits[2]) == 0, "the child: status %#x", hits[2]);
    HT_CHECK_INT_EQ(hits[0], 3);
    HT_CHECK_INT_EQ(hits[1], 3);
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
}

static void test_programs_own_fork(void)
{
    in_warm_mode();
    int *sum = ht_shared(sizeof(int) * 2);
    FMP_PARALLEL(3) {
        ht_atomic_add(&sum[0], 1);
    }
    pid_t child = fork(); /* the program's own: it inherits the parent's pool, not its use */
    if (child == 0) {
        for (int r = 0; r < 3; r++) {
            FMP_PARALLEL(2) {
                ht_atomic_add(&sum[1], 1);
            }
        }
        fmp_warm_release();
        _exit(fmp_region_error() == FMP_OK ? 0 : 3);
    }
    HT_REQUIRE(child > 0);
    int st = 0;
    HT_CHECK_INT_EQ(waitpid(child, &st, 0), child);
    HT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the forked program: status %#x", st);
    HT_CHECK_INT_EQ(sum[1], 6);
    for (int r = 0; r < 3; r++) { /* the parent's pool still serves it */
        FMP_PARALLEL(3) {
            ht_atomic_add(&sum[0], 1);
        }
        HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    }
    HT_CHECK_INT_EQ(sum[0], 12);
    fmp_warm_release();
}

static void test_release(void)
{
    in_warm_mode();
    int *x = ht_shared(sizeof(int) * 4);
    FMP_PARALLEL(4) {
        x[fmp_thread_num()] = (int)getpid();
    }
    int parked = ht_children_of(getpid(), NULL, 0);
    int n = fmp_warm_release();
    if (n == 0) { /* no warm regions here: they forked, and left nothing */
        HT_CHECK_INT_EQ(parked, 0);
    } else {
        HT_CHECK_INT_EQ(n, 3);
        HT_CHECK_INT_EQ(parked, 3);
        for (int m = 1; m < 4; m++)
            HT_CHECK_MSG(!ht_pid_alive(x[m]), "member %d (pid %d) outlived fmp_warm_release", m,
                         x[m]);
    }
    HT_CHECK_INT_EQ(ht_children_of(getpid(), NULL, 0), 0);
    HT_CHECK_INT_EQ(fmp_warm_release(), 0);
    /* inside a region: refused */
    int *rc = ht_shared(sizeof(int));
    ht_capture_stderr_begin();
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 0)
            *rc = fmp_warm_release();
    }
    char *err = ht_capture_stderr_end();
    HT_CHECK_INT_EQ(*rc, FMP_ESTATE);
    HT_CHECK_CONTAINS(err, "fmp_warm_release() inside a region");
    free(err);
    fmp_warm_release();
}

/* Between regions the master writes ranges of every size (a few pages, half of a block,
   all of it: the members copy the large ones after lifting their own protection from
   them); in each region the members must see exactly the master's memory, and what they
   scribble over it (all of it) must be gone, for the master and for the next region. */
static void test_large_writes_between_regions(void)
{
    in_warm_mode();
    long *errs = ht_shared(sizeof(long) * 3);
    const size_t sizes[] = {(size_t)64 << 10, (size_t)1 << 20, (size_t)4 << 20};
    for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        unsigned char *p = malloc(n), *sh = malloc(n);
        HT_REQUIRE(p && sh);
        memset(p, 0, n);
        memset(sh, 0, n);
        memset(errs, 0, sizeof(long) * 3);
        long master_bad = 0;
        for (int r = 0; r < 18; r++) {
            size_t few = n < 20 * 4096 ? n : 20 * 4096;
            size_t part = r % 3 == 0 ? n : r % 3 == 1 ? n / 2 : few;
            for (size_t i = 0; i < part; i += 256)
                p[i] = sh[i] = (unsigned char)(r * 31 + i / 4096);
            FMP_PARALLEL(3) {
                int me = fmp_thread_num();
                if (me) {
                    long b = 0;
                    for (size_t i = 0; i < n; i++)
                        b += p[i] != sh[i];
                    errs[me] += b;
                    memset(p, 0xab + me, n);
                    memset(sh, 0xab + me, n);
                }
            }
            master_bad += memcmp(p, sh, n) != 0;
        }
        HT_CHECK_MSG(master_bad == 0, "%zu KiB: the members' writes showed in the master %ld times",
                     n >> 10, master_bad);
        for (int m = 1; m < 3; m++)
            HT_CHECK_MSG(errs[m] == 0, "%zu KiB: member %d saw %ld bytes unlike the master's",
                         n >> 10, m, errs[m]);
        free(p);
        free(sh);
    }
}

/* Pages the master drops between regions (MADV_DONTNEED on anonymous memory: malloc_trim,
   a program's own allocator) read as zeros in the master; a warm member must see the
   zeros too, not the copy it kept.  Dropped after the pages were protected again (the
   whole block written), and after a few pages written just before were left unprotected. */
static void test_pages_dropped_between_regions(void)
{
    in_warm_mode();
    const size_t n = (size_t)1 << 20, pg = 4096;
    unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HT_REQUIRE(p != MAP_FAILED);
    long *seen = ht_shared(sizeof(long) * 4 * 3);
    memset(seen, 0, sizeof(long) * 4 * 3);
    for (int round = 0; round < 4; round++) {
        /* 0: all written; 1: all dropped; 2: 4 pages written; 3: those 4 dropped */
        if (round == 0)
            memset(p, 7, n);
        else if (round == 1)
            HT_REQUIRE(madvise(p, n, MADV_DONTNEED) == 0);
        else if (round == 2)
            for (int k = 0; k < 4; k++)
                p[(size_t)(10 + 3 * k) * pg] = 9;
        else
            for (int k = 0; k < 4; k++)
                HT_REQUIRE(madvise(p + (size_t)(10 + 3 * k) * pg, pg, MADV_DONTNEED) == 0);
        FMP_PARALLEL(3) {
            int me = fmp_thread_num();
            if (me) {
                long nz = 0;
                for (size_t i = 0; i < n; i++)
                    nz += p[i] != 0;
                seen[round * 3 + me] = nz + 1;         /* 0: never ran */
                memset(p + pg * (size_t)me, 0x55, pg); /* undone at the next region */
            }
        }
        HT_CHECK_MSG(fmp_region_error() == 0, "round %d: the region failed", round);
    }
    const long want[4] = {(long)n, 0, 4, 0};
    for (int round = 0; round < 4; round++)
        for (int m = 1; m < 3; m++)
            HT_CHECK_MSG(seen[round * 3 + m] == want[round] + 1,
                         "round %d: member %d saw %ld bytes not zero, the master %ld", round, m,
                         seen[round * 3 + m] - 1, want[round]);
    munmap(p, n);
}

/* The master's descriptors at the numbers where a warm member keeps its own (the
   userfaultfd, pagemap and maps files...: from 900 up, opened when the pool starts): the
   member moves its own away and holds the master's there, as a fork child would; the
   regions stay warm. */
static void test_descriptors_where_members_keep_theirs(void)
{
    in_warm_mode();
    enum { COUNT = 32 };
    long *got = ht_shared(sizeof(long) * 3 * COUNT), *pid = ht_shared(sizeof(long) * 4);
    int first = 900, count = COUNT;
    FMP_PARALLEL(3) { /* the pool starts: its members' descriptors go from 900 up */
        if (fmp_thread_num() == 1)
            pid[3] = (long)getpid();
    }
    for (int round = 0; round < 3; round++) {
        memset(got, 0, sizeof(long) * 3 * COUNT);
        for (int k = 0; k < count; k++) {
            FILE *f = tmpfile();
            HT_REQUIRE(f != NULL);
            long v = round * 1000 + k + 1;
            HT_REQUIRE(fwrite(&v, sizeof v, 1, f) == 1 && fflush(f) == 0);
            HT_REQUIRE(dup2(fileno(f), first + k) == first + k);
            fclose(f);
        }
        FMP_PARALLEL(3) {
            int me = fmp_thread_num();
            if (me == 1)
                pid[round] = (long)getpid();
            if (me)
                for (int k = 0; k < count; k++) {
                    long v = -1;
                    if (pread(first + k, &v, sizeof v, 0) != (ssize_t)sizeof v)
                        v = -2;
                    got[me * COUNT + k] = v;
                }
        }
        HT_CHECK_MSG(fmp_region_error() == 0, "round %d: the region failed", round);
        for (int m = 1; m < 3; m++)
            for (int k = 0; k < count; k++)
                HT_CHECK_MSG(got[m * COUNT + k] == round * 1000 + k + 1,
                             "round %d: member %d read %ld from descriptor %d, the master's "
                             "file holds %d",
                             round, m, got[m * COUNT + k], first + k, round * 1000 + k + 1);
        for (int k = 0; k < count; k++)
            close(first + k);
    }
    if (warm_available()) /* else every region forks (a sanitizer build, valgrind) */
        HT_CHECK_MSG(pid[3] > 0 && pid[0] == pid[3] && pid[1] == pid[3] && pid[2] == pid[3],
                     "member 1 was %ld, then %ld, %ld, %ld: the regions did not stay warm", pid[3],
                     pid[0], pid[1], pid[2]);
}

/* A member's descriptors carry the master's close-on-exec flags, as a fork child's do (a
   warm member's were all close-on-exec but for those it took at another number, which
   had none): a program a member runs by system() gets the master's open descriptors and
   none of those it opened close-on-exec; flags the master changes between regions, and
   descriptors it opens, follow. */
static void test_members_take_close_on_exec_flags(void)
{
    in_warm_mode();
    enum { NFD = 6, NR = 4 };
    int *got = ht_shared(sizeof(int) * NR * 3 * NFD), *want = ht_shared(sizeof(int) * NR * NFD);
    long *pid = ht_shared(sizeof(long) * NR);
    int pfd[2];
    HT_REQUIRE(pipe(pfd) == 0); /* neither end close-on-exec */
    int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY | O_CLOEXEC);
    HT_REQUIRE(a >= 0 && b >= 0);
    /* two free numbers after a gap (valgrind holds some low ones of its own) */
    int lo = 40;
    while (fcntl(lo - 1, F_GETFD) >= 0 || fcntl(lo, F_GETFD) >= 0 || fcntl(lo + 1, F_GETFD) >= 0 ||
           fcntl(lo + 2, F_GETFD) >= 0)
        lo++;
    const int cx = lo, wr = lo + 1, late = lo + 2;
    HT_REQUIRE(fcntl(b, F_DUPFD_CLOEXEC, cx) == cx && fcntl(pfd[1], F_DUPFD, wr) == wr);
    int fds[NFD] = {1, a, b, cx, wr, late};
    for (int r = 0; r < NR; r++) {
        if (r == 2) { /* the master changes two flags */
            HT_REQUIRE(fcntl(a, F_SETFD, FD_CLOEXEC) == 0 && fcntl(cx, F_SETFD, 0) == 0);
        }
        if (r == 3) { /* and opens a descriptor the members have not seen */
            HT_REQUIRE(fcntl(cx, F_SETFD, FD_CLOEXEC) == 0);
            HT_REQUIRE(fcntl(a, F_DUPFD, late) == late);
        }
        for (int i = 0; i < NFD; i++)
            want[r * NFD + i] = fcntl(fds[i], F_GETFD);
        FMP_PARALLEL(3) {
            int me = fmp_thread_num();
            for (int i = 0; i < NFD; i++)
                got[(r * 3 + me) * NFD + i] = fcntl(fds[i], F_GETFD);
            if (me == 1) {
                pid[r] = (long)getpid();
                /* the shell has the pipe's end at wr, and not /dev/null's at cx where
                   the master holds it close-on-exec (written through /proc: a shell's
                   redirections take numbers below 10 alone) */
                char cmd[200];
                snprintf(cmd, sizeof cmd,
                         "if [ -e /proc/$$/fd/%d ]; then echo %d:cx; else echo %d:ok; fi "
                         ">/proc/$$/fd/%d",
                         cx, r, r, wr);
                if (system(cmd) != 0)
                    got[(r * 3 + me) * NFD] = -100;
            }
        }
        HT_CHECK_MSG(fmp_region_error() == 0, "region %d failed", r);
    }
    close(wr);
    close(pfd[1]);
    char text[256] = {0};
    size_t n = 0;
    ssize_t k;
    while (n < sizeof text - 1 && (k = read(pfd[0], text + n, sizeof text - 1 - n)) > 0)
        n += (size_t)k;
    HT_CHECK_MSG(
        strcmp(text, "0:ok\n1:ok\n2:cx\n3:ok\n") == 0,
        "the members' shells wrote \"%s\" (ok: %d not inherited, %d written to; in region 2 "
        "the master held it without the flag)",
        text, cx, wr);
    for (int r = 0; r < NR; r++)
        for (int m = 0; m < 3; m++)
            for (int i = 0; i < NFD; i++)
                HT_CHECK_MSG(got[(r * 3 + m) * NFD + i] == want[r * NFD + i],
                             "region %d, member %d: descriptor %d's flags %d, the master's %d", r,
                             m, fds[i], got[(r * 3 + m) * NFD + i], want[r * NFD + i]);
    if (warm_available())
        HT_CHECK_MSG(pid[1] == pid[2] && pid[2] == pid[3],
                     "member 1 was %ld, %ld, %ld: the regions did not stay warm", pid[1], pid[2],
                     pid[3]);
    close(pfd[0]);
    close(a);
    close(b);
    close(cx);
    close(late);
}

/* A body that dup2()s over the numbers where a warm member keeps its own descriptors (900
   up): the member cannot go on with its tools replaced, the pool is renewed, and the
   regions after it see no descriptor the master does not have there */
static void test_body_replaces_member_descriptors(void)
{
    in_warm_mode();
    int *zero = ht_shared(sizeof(int) * 3 * 4);
    struct stat dz;
    HT_REQUIRE(stat("/dev/zero", &dz) == 0);
    for (int round = 0; round < 4; round++) {
        FMP_PARALLEL(3) {
            int me = fmp_thread_num();
            for (int fd = 900; fd < 1024 && me; fd++) { /* /dev/zero where the master has none */
                struct stat st;
                zero[round * 3 + me] +=
                    fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == dz.st_rdev;
            }
            if (me && round == 1) {
                int z = open("/dev/zero", O_RDONLY);
                for (int fd = 901; fd <= 905 && z >= 0; fd += 4) /* two of its own */
                    dup2(z, fd);
                if (z >= 0)
                    close(z);
            }
        }
        HT_CHECK_MSG(fmp_region_error() == 0, "round %d: the region failed", round);
    }
    for (int round = 0; round < 4; round++)
        for (int m = 1; m < 3; m++)
            HT_CHECK_MSG(zero[round * 3 + m] == 0,
                         "round %d: member %d holds /dev/zero at %d numbers from 900 up", round, m,
                         zero[round * 3 + m]);
}

/* A body that maps over the master's memory (MAP_FIXED): over memory the master keeps
   read-only, over memory it writes, and with a mapping of another kind; at the next region
   each member sees the master's bytes there again, as a fork child would. */
static void test_body_maps_over_the_masters_memory(void)
{
    in_warm_mode();
    const size_t pg = 4096, n = 4 * pg;
    unsigned char *ro = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *rw = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HT_REQUIRE(ro != MAP_FAILED && rw != MAP_FAILED);
    memset(ro, 0x11, n);
    memset(rw, 0x22, n);
    HT_REQUIRE(mprotect(ro, n, PROT_READ) == 0);
    long *bad = ht_shared(sizeof(long) * 8 * 3);
    memset(bad, 0, sizeof(long) * 8 * 3);
    for (int round = 0; round < 8; round++) {
        rw[round * 100] = 0x22; /* the master writes a byte of rw before each region */
        FMP_PARALLEL(3) {
            int me = fmp_thread_num();
            if (me) {
                long b = 0;
                for (size_t i = 0; i < n; i++)
                    b += (ro[i] != 0x11) + (rw[i] != 0x22);
                bad[round * 3 + me] = b;
                /* round by round: anonymous read-only, anonymous writable, a file's pages */
                int prot = round % 3 == 1 ? PROT_READ | PROT_WRITE : PROT_READ;
                int flags = MAP_PRIVATE | MAP_FIXED | (round % 3 == 2 ? 0 : MAP_ANONYMOUS);
                int fd = round % 3 == 2 ? open("/proc/self/exe", O_RDONLY) : -1;
                void *a = mmap(ro, n, prot, flags, fd, 0);
                void *w = mmap(rw, n, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
                if (fd >= 0)
                    close(fd);
                if (a == MAP_FAILED || w == MAP_FAILED)
                    bad[round * 3 + me] = -1;
            }
        }
        HT_CHECK_MSG(fmp_region_error() == 0, "round %d: the region failed", round);
    }
    for (int round = 0; round < 8; round++)
        for (int m = 1; m < 3; m++)
            HT_CHECK_MSG(bad[round * 3 + m] == 0,
                         "round %d: member %d saw %ld bytes unlike the master's (-1: its mmap "
                         "failed)",
                         round, m, bad[round * 3 + m]);
    munmap(ro, n);
    munmap(rw, n);
}

/* The master replaces read-only memory between regions (MAP_FIXED at the same address,
   written, made read-only again: a table rebuilt, a code cache): the members see the new
   bytes, though the mapping has the same address, kind and protections as the one they
   hold. */
static void test_master_replaces_read_only_memory(void)
{
    in_warm_mode();
    const size_t n = 4 * 4096;
    unsigned char *ro = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HT_REQUIRE(ro != MAP_FAILED);
    memset(ro, 0x30, n);
    HT_REQUIRE(mprotect(ro, n, PROT_READ) == 0);
    long *bad = ht_shared(sizeof(long) * 6 * 3);
    memset(bad, 0, sizeof(long) * 6 * 3);
    for (int round = 0; round < 6; round++) {
        unsigned char want = (unsigned char)(0x30 + round);
        if (round > 0) {
            HT_REQUIRE(mmap(ro, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                            -1, 0) == ro);
            memset(ro, want, round % 2 ? n : n / 2); /* half of it: the rest reads zeros */
            HT_REQUIRE(mprotect(ro, n, PROT_READ) == 0);
        }
        unsigned char copy[4 * 4096];
        memcpy(copy, ro, n);
        FMP_PARALLEL(3) {
            int me = fmp_thread_num();
            if (me)
                bad[round * 3 + me] = 1 + (memcmp(copy, ro, n) != 0);
        }
        HT_CHECK_MSG(fmp_region_error() == 0, "round %d: the region failed", round);
    }
    for (int round = 0; round < 6; round++)
        for (int m = 1; m < 3; m++)
            HT_CHECK_MSG(bad[round * 3 + m] == 1, "round %d: member %d %s", round, m,
                         bad[round * 3 + m] ? "saw other bytes than the master's" : "never ran");
    munmap(ro, n);
}

/* Members bound to places (OMP_PROC_BIND=close, OMP_PLACES=threads: a cpu a place, with
   or without SMT): a warm member is bound once, when the pool starts, and keeps its
   place region after region (it no longer binds itself at each region); each member on
   a cpu of its own, and sched_getcpu() says a cpu of its own (glibc reads it from the
   thread's rseq area, which the copy of the master's memory overwrites with the
   master's cpu). */
static void test_bound_members_keep_their_places(void)
{
    setenv("OMP_PROC_BIND", "close", 1);
    setenv("OMP_PLACES", "threads", 1);
    in_warm_mode();
    cpu_set_t all;
    HT_REQUIRE(sched_getaffinity(0, sizeof all, &all) == 0);
    if (CPU_COUNT(&all) < 2) {
        HT_SKIP("one cpu: no places to tell apart");
        return;
    }
    cpu_set_t *mask = ht_shared(sizeof(cpu_set_t) * 2 * 8);
    int *cpu = ht_shared(sizeof(int) * 2 * 8);
    for (int r = 0; r < 8; r++)
        FMP_PARALLEL(2) {
            sched_getaffinity(0, sizeof(cpu_set_t), &mask[r * 2 + fmp_thread_num()]);
            cpu[r * 2 + fmp_thread_num()] = sched_getcpu(); /* glibc reads it from rseq */
        }
    for (int r = 0; r < 8; r++) {
        HT_CHECK_MSG(CPU_COUNT(&mask[r * 2]) == 1 && CPU_COUNT(&mask[r * 2 + 1]) == 1,
                     "region %d: the master's mask has %d cpus, the member's %d", r,
                     CPU_COUNT(&mask[r * 2]), CPU_COUNT(&mask[r * 2 + 1]));
        HT_CHECK_MSG(!CPU_EQUAL(&mask[r * 2], &mask[r * 2 + 1]),
                     "region %d: the master and the member share their cpu", r);
        HT_CHECK_MSG(CPU_EQUAL(&mask[r * 2 + 1], &mask[1]),
                     "region %d: the member moved from the place of the first region", r);
        for (int m = 0; m < 2; m++)
            HT_CHECK_MSG(cpu[r * 2 + m] >= 0 && CPU_ISSET(cpu[r * 2 + m], &mask[r * 2 + m]),
                         "region %d: sched_getcpu() in member %d says cpu %d, outside its mask", r,
                         m, cpu[r * 2 + m]);
    }
    fmp_warm_release();
}

/* The mappings of this process whose file is one of hwloc's plugins (a file named
   hwloc_*.so); *dir gets the folder its libhwloc was mapped from. */
static int hwloc_plugin_mappings(char *dir, size_t len)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int n = 0;
    dir[0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        const char *path = strchr(line, '/');
        if (!path)
            continue;
        const char *base = strrchr(path, '/') + 1;
        if (strncmp(base, "hwloc_", 6) == 0 && strstr(base, ".so"))
            n++;
        if (strncmp(base, "libhwloc.so", 11) == 0)
            snprintf(dir, len, "%.*s", (int)(base - 1 - path), path);
    }
    if (f)
        fclose(f);
    return n;
}

/* Whether the folder holds a hwloc plugin (hwloc_*.so) */
static int holds_a_plugin(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls '%s'/hwloc/hwloc_*.so >/dev/null 2>&1", dir);
    return system(cmd) == 0;
}

/* The cpus of this process into all; a test that needs two skips on one (HT_SKIP ends
   the test) */
static void two_cpus(cpu_set_t *all, const char *why)
{
    HT_REQUIRE(sched_getaffinity(0, sizeof *all, all) == 0);
    if (CPU_COUNT(all) < 2)
        HT_SKIP("one cpu: %s", why);
}

/* What a fresh process saw of hwloc's plugins around its first bound region */
typedef struct plugin_run {
    int loaded;    /* plugins hwloc loaded (HWLOC_PLUGINS_VERBOSE's "queued" lines) */
    int mapped;    /* plugin mappings after the region; -1: the region did not run */
    int env_kept;  /* the environment after the region is what the program set */
    char dir[512]; /* the folder of the libhwloc mapped */
} plugin_run;

/* Run one bound region in a fresh process (hwloc chooses its plugins at a process's
   first topology) with one variable set (name NULL: none of hwloc's plugin variables or
   a launcher's), and with another thread running when threaded. */
static void *idle_thread(void *arg)
{
    while (!atomic_load((_Atomic int *)arg))
        usleep(1000);
    return NULL;
}

static void bound_region_in_a_fresh_process(const char *name, const char *value, int threaded,
                                            plugin_run *out)
{
    plugin_run *r = ht_shared(sizeof *r);
    r->mapped = -1;
    char log[] = "/tmp/fmp-plugins-XXXXXX";
    int fd = mkstemp(log);
    HT_REQUIRE_MSG(fd >= 0, "mkstemp: %s", strerror(errno));
    unlink(log);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* no plugin choice of the caller's, no launcher's variable */
        static const char *const prefixes[] = {"HWLOC_PLUGINS_", "OMPI_", "PMIX_", "PMI_",
                                               "MPI_LOCALRANKID"};
        extern char **environ;
        for (char **e = environ; *e;) {
            size_t k = 0, vlen = strcspn(*e, "=");
            while (k < sizeof prefixes / sizeof *prefixes &&
                   strncmp(*e, prefixes[k], strlen(prefixes[k])) != 0)
                k++;
            if (k == sizeof prefixes / sizeof *prefixes) {
                e++;
                continue;
            }
            char var[256];
            snprintf(var, sizeof var, "%.*s", (int)vlen, *e);
            unsetenv(var); /* e now points at the next variable */
        }
        if (name)
            setenv(name, value, 1);
        setenv("HWLOC_PLUGINS_VERBOSE", "1", 1);
        setenv("OMP_PROC_BIND", "close", 1);
        setenv("OMP_PLACES", "threads", 1);
        dup2(fd, 2);
        static _Atomic int stop;
        pthread_t t;
        if (threaded && pthread_create(&t, NULL, idle_thread, (void *)&stop) != 0)
            _exit(3);
        int ran = 0;
        FMP_PARALLEL(2) {
            if (fmp_thread_num() == 0)
                ran = 1;
        }
        if (threaded) {
            atomic_store(&stop, 1);
            pthread_join(t, NULL);
        }
        r->mapped = ran ? hwloc_plugin_mappings(r->dir, sizeof r->dir) : -1;
        const char *left = getenv("HWLOC_PLUGINS_BLACKLIST"), *set = name ? getenv(name) : "";
        int ours = name && strcmp(name, "HWLOC_PLUGINS_BLACKLIST") == 0;
        r->env_kept = (ours || !left) && set && strcmp(set, name ? value : "") == 0;
        fmp_warm_release();
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    HT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the helper ended with status %#x", st);
    char text[65536];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    text[n > 0 ? n : 0] = 0;
    *out = *r;
    out->loaded = 0;
    for (const char *p = text; (p = strstr(p, "' queued")); p++)
        out->loaded++;
    HT_CHECK_MSG(out->env_kept, "the environment after the region is not what the program set (%s)",
                 name ? name : "nothing");
    HT_CHECK_MSG(out->mapped == 0,
                 "%d mappings of hwloc plugins after a bound region (%s%s): the topology "
                 "was kept",
                 out->mapped, name ? name : "nothing set", threaded ? ", threaded" : "");
}

/* A bound team reads hwloc's topology once and destroys it, and with it hwloc's plugins
   (I/O and libxml2: they bring libraries, OpenCL, X11, ICU, whose mappings every warm
   region reads and scans); in a process of one thread they are not even loaded, and the
   environment is left as it was.  hwloc's plugin variables set by the user (even empty),
   an MPI launcher's, or another thread leave the loading to hwloc. */
static void test_bound_teams_load_no_hwloc_plugins(void)
{
    cpu_set_t all;
    two_cpus(&all, "a team of 2 is not bound");
    plugin_run mine, theirs, launched, threaded;
    bound_region_in_a_fresh_process(NULL, NULL, 0, &mine);
    HT_CHECK_MSG(mine.loaded == 0, "%d hwloc plugins loaded in a process of one thread",
                 mine.loaded);
    HT_REQUIRE_MSG(mine.dir[0], "libhwloc is not mapped");
    if (!holds_a_plugin(mine.dir)) {
        HT_SKIP("no hwloc plugin installed: the user's choice cannot be told apart");
        return;
    }
    bound_region_in_a_fresh_process("HWLOC_PLUGINS_BLACKLIST", "", 0, &theirs);
    HT_CHECK_MSG(theirs.loaded > 0, "HWLOC_PLUGINS_BLACKLIST= (empty): no plugin loaded");
    bound_region_in_a_fresh_process("OMPI_COMM_WORLD_SIZE", "1", 0, &launched);
    HT_CHECK_MSG(launched.loaded > 0, "under an MPI launcher: no plugin loaded");
    bound_region_in_a_fresh_process(NULL, NULL, 1, &threaded);
    HT_CHECK_MSG(threaded.loaded > 0, "with another thread: no plugin loaded");
}

/* A topology of another machine (HWLOC_SYNTHETIC, or an XML file, without
   HWLOC_THISSYSTEM=1) places members on that machine's cpus in FMP_DISPLAY_AFFINITY and
   the combining trees, but binds no thread of this one: every process keeps the cpus it
   was given (here the last cpu alone), as hwloc's binding did. */
static void test_foreign_topology_binds_nothing(void)
{
    cpu_set_t all;
    two_cpus(&all, "nothing to move away from");
    int last = -1;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &all))
            last = i;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    HT_REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
    setenv("HWLOC_SYNTHETIC", "pack:2 core:2 pu:2", 1);
    unsetenv("HWLOC_THISSYSTEM");
    setenv("OMP_PROC_BIND", "close", 1);
    setenv("OMP_PLACES", "threads", 1);
    cpu_set_t *mask = ht_shared(sizeof(cpu_set_t) * 2 * 3);
    for (int r = 0; r < 3; r++)
        FMP_PARALLEL(2) {
            sched_getaffinity(0, sizeof(cpu_set_t), &mask[r * 2 + fmp_thread_num()]);
        }
    for (int r = 0; r < 3; r++)
        for (int m = 0; m < 2; m++)
            HT_CHECK_MSG(CPU_EQUAL(&mask[r * 2 + m], &one),
                         "region %d, member %d: %d cpus, cpu %d %s (the process had cpu %d "
                         "alone)",
                         r, m, CPU_COUNT(&mask[r * 2 + m]), last,
                         CPU_ISSET(last, &mask[r * 2 + m]) ? "in" : "not in", last);
    fmp_warm_release();
}

/* The CPU time (user + system, in clock ticks) of a process, from /proc/PID/stat; -1
   when it cannot be read. */
static long cpu_ticks(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* after the command's name */
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (long)(ut + st);
}

/* Parked members spin a while after a region, as a team's members do (the next region
   may follow at once), then sleep: an idle warm pool costs no CPU.  Over a second of
   idleness, from 50 ms after the region on (the spin lasts some milliseconds), each
   member may take a tick or two of CPU (its liveness look every 2 s), never the second
   that a member spinning on would.  A team of 2, no more members than this machine's
   cpus: the unthrottled spin. */
static void test_idle_pool_sleeps(void)
{
    in_warm_mode();
    int *pid = ht_shared(sizeof(int) * 2);
    for (int r = 0; r < 3; r++)
        FMP_PARALLEL(2) {
            pid[fmp_thread_num()] = (int)getpid();
        }
    if (fmp_warm_release() == 0) /* these regions forked: nothing is parked */
        return;
    FMP_PARALLEL(2) {
        pid[fmp_thread_num()] = (int)getpid();
    }
    ht_sleep(0.05);
    long before[2], after[2];
    for (int m = 1; m < 2; m++)
        before[m] = cpu_ticks(pid[m]);
    ht_sleep(1.0);
    for (int m = 1; m < 2; m++) {
        after[m] = cpu_ticks(pid[m]);
        HT_CHECK_MSG(before[m] >= 0 && after[m] >= 0, "member %d (pid %d) is not parked", m,
                     pid[m]);
        long hz = sysconf(_SC_CLK_TCK);
        HT_CHECK_MSG(after[m] - before[m] <= hz / 20 + 1,
                     "member %d (pid %d) of an idle warm pool used %ld ticks of CPU in a second "
                     "(%ld a second)",
                     m, pid[m], after[m] - before[m], hz);
    }
    fmp_warm_release();
}

static const ht_test tests[] = {
    HT_TEST_TIMEOUT(test_members_see_the_masters_memory_warm, 200),
    HT_TEST_TIMEOUT(test_members_see_the_masters_memory_fork, 200),
    HT_TEST_TIMEOUT(test_members_see_the_masters_memory_auto, 200),
    HT_TEST_TIMEOUT(test_same_output_in_each_mode, 200),
    HT_TEST_TIMEOUT(test_auto_forks_anew_after_big_writes, 120),
    HT_TEST_TIMEOUT(test_closed_pipe_reaches_its_end, 200),
    HT_TEST_TIMEOUT(test_members_take_close_on_exec_flags, 60),
    HT_TEST_TIMEOUT(test_member_killed_in_a_warm_region, 120),
    HT_TEST_TIMEOUT(test_no_userfaultfd_falls_back, 120),
    HT_TEST_TIMEOUT(test_parked_member_killed_next_region_runs, 120),
    HT_TEST_TIMEOUT(test_exec_leaves_no_member, 90),
    HT_TEST_TIMEOUT(test_wait_for_all_children_after_regions, 200),
    HT_TEST_TIMEOUT(test_write_by_another_process_between_regions, 60),
    HT_TEST_TIMEOUT(test_threads_in_the_master, 120),
    HT_TEST_TIMEOUT(test_threads_change_between_regions, 60),
    HT_TEST_TIMEOUT(test_member_stopped_across_a_forked_region, 60),
    HT_TEST_TIMEOUT(test_member_stopped_after_a_no_go_sync, 90),
    HT_TEST(test_low_descriptor_limit_says_so),
    HT_TEST_TIMEOUT(test_process_attributes_follow_the_master, 60),
    HT_TEST_TIMEOUT(test_cpu_time_limit_forks_and_says_so, 60),
    HT_TEST_TIMEOUT(test_descriptor_above_4096_says_so, 60),
    HT_TEST_TIMEOUT(test_alternating_team_sizes_keep_the_pool, 60),
    HT_TEST_TIMEOUT(test_credentials_change_renews_the_pool, 60),
    HT_TEST_TIMEOUT(test_program_reuses_the_runtimes_descriptor_numbers, 60),
    HT_TEST_TIMEOUT(test_program_closes_the_runtimes_descriptors, 60),
    HT_TEST(test_nested_regions_in_warm_members),
    HT_TEST(test_team_sizes_change),
    HT_TEST(test_function_form),
    HT_TEST(test_exit_in_a_warm_region),
    HT_TEST(test_shared_mapping_made_between_regions),
    HT_TEST(test_programs_own_fork),
    HT_TEST_TIMEOUT(test_fork_by_another_thread_inside_a_region, 60),
    HT_TEST_TIMEOUT(test_body_gives_up_its_members_rights, 60),
    HT_TEST(test_release),
    HT_TEST(test_idle_pool_sleeps),
    HT_TEST(test_large_writes_between_regions),
    HT_TEST(test_bound_members_keep_their_places),
    HT_TEST_TIMEOUT(test_bound_teams_load_no_hwloc_plugins, 60),
    HT_TEST(test_foreign_topology_binds_nothing),
    HT_TEST(test_pages_dropped_between_regions),
    HT_TEST(test_descriptors_where_members_keep_theirs),
    HT_TEST(test_body_maps_over_the_masters_memory),
    HT_TEST(test_body_replaces_member_descriptors),
    HT_TEST(test_master_replaces_read_only_memory),
    HT_END};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "warm", tests);
}
