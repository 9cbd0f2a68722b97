/* test_failure: a member that crashes, is killed, calls exit() or _exit(), or leaves the
 * region's block by break / goto / return is detected.  In FMP_ERRORS_RETURN mode the
 * region returns FMP_EMEMBER / FMP_EEXITED and fmp_last_failure() names the member, its
 * pid and the signal or status; in the default abort mode (tests/fail_prog, run as a
 * program) the program ends with status 70 and the diagnostic within 2 s of the failure.
 * Members waiting on a failed one get an error instead of hanging; killing the master
 * leaves no member behind; no zombie is left after any of it. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

typedef struct rec {
    pid_t pid[16];
    int rc[16];
    int after;     /* processes that ran the code after the region */
    int ready;
} rec;

static void check_report(const char *what, int member, pid_t pid, const char *how)
{
    const char *f = fmp_last_failure();
    char m[32], p[32];
    snprintf(m, sizeof m, "member %d", member);
    snprintf(p, sizeof p, "pid %d", (int)pid);
    HT_CHECK_MSG(f && strstr(f, m), "%s: fmp_last_failure() does not name %s: \"%s\"", what, m,
                 f ? f : "(null)");
    HT_CHECK_MSG(f && strstr(f, p), "%s: fmp_last_failure() does not name the %s: \"%s\"", what,
                 p, f ? f : "(null)");
    if (how)
        HT_CHECK_MSG(f && strstr(f, how), "%s: fmp_last_failure() does not say \"%s\": \"%s\"",
                     what, how, f ? f : "(null)");
    HT_CHECK_MSG(ht_children_left() == 0, "%s: children left after the join",
                 what);
}

/* SIGSEGV from a real fault: a write to a page that may not be touched.  Not through NULL:
   that is undefined behaviour, which UBSan (the sanitizer build) stops with a report of
   its own before any fault happens. */
static void write_to_guard_page(void)
{
    int *volatile p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *p = 1;
}

/* ============================================================== return mode */

typedef struct fail_arg {
    rec *r;
    int how;
} fail_arg;

enum { F_SEGV, F_KILL_SELF, F_ABORT, F_EXIT3, F_UEXIT0, F_UEXIT5 };

static void failing_body(void *p)
{
    fail_arg *a = p;
    int me = fmp_thread_num();
    a->r->pid[me] = getpid();
    fmp_barrier();
    if (me == 2) {
        switch (a->how) {
        case F_SEGV:
            write_to_guard_page();
            break;
        case F_KILL_SELF: raise(SIGKILL); break;
        case F_ABORT: abort();
        case F_EXIT3: exit(3);
        case F_UEXIT0: _exit(0);
        case F_UEXIT5: _exit(5);
        }
    }
    a->r->rc[me] = fmp_barrier();
}

static int run_failing(int how, rec **out)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    rec *r = ht_shared(sizeof *r);
    fail_arg a = { r, how };
    int rc = fmp_parallel(4, failing_body, &a);
    *out = r;
    return rc;
}

static void test_return_mode_segv(void)
{
    rec *r;
    int rc = run_failing(F_SEGV, &r);
    HT_CHECK_INT_EQ(rc, FMP_EMEMBER);
    check_report("SIGSEGV", 2, r->pid[2], "SIGSEGV");
}

static void test_return_mode_raise_sigkill(void)
{
    rec *r;
    int rc = run_failing(F_KILL_SELF, &r);
    HT_CHECK_INT_EQ(rc, FMP_EMEMBER);
    check_report("SIGKILL", 2, r->pid[2], "SIGKILL");
}

static void test_return_mode_abort(void)
{
    rec *r;
    int rc = run_failing(F_ABORT, &r);
    HT_CHECK_INT_EQ(rc, FMP_EMEMBER);
    check_report("abort()", 2, r->pid[2], "SIGABRT");
}

static void test_return_mode_exit(void)
{
    rec *r;
    int rc = run_failing(F_EXIT3, &r);
    HT_CHECK_INT_EQ(rc, FMP_EEXITED);
    check_report("exit(3)", 2, r->pid[2], "exit(3)");
}

static void test_return_mode_underscore_exit_0(void)
{
    rec *r;
    int rc = run_failing(F_UEXIT0, &r);
    HT_CHECK_MSG(rc == FMP_EMEMBER || rc == FMP_EEXITED, "_exit(0) in a member: %d (%s)", rc,
                 fmp_strerror(rc));
    check_report("_exit(0)", 2, r->pid[2], "status 0");
}

static void test_return_mode_underscore_exit_5(void)
{
    rec *r;
    int rc = run_failing(F_UEXIT5, &r);
    HT_CHECK_MSG(rc == FMP_EMEMBER || rc == FMP_EEXITED, "_exit(5) in a member: %d (%s)", rc,
                 fmp_strerror(rc));
    check_report("_exit(5)", 2, r->pid[2], "status 5");
}

static void kill_target_body(void *p)
{
    rec *r = p;
    int me = fmp_thread_num();
    r->pid[me] = getpid();
    ht_atomic_add(&r->ready, 1);
    if (me == 3)
        ht_sleep(10); /* killed here, before it reaches the barrier */
    if (me == 0) {
        while (ht_atomic_load(&r->ready) < 4)
            ht_sleep(0.001);
        kill(r->pid[3], SIGKILL); /* kill -9 from outside the member */
    }
    r->rc[me] = fmp_barrier();
}

static void test_return_mode_kill_9_from_outside(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    rec *r = ht_shared(sizeof *r);
    int rc = fmp_parallel(4, kill_target_body, r);
    HT_CHECK_INT_EQ(rc, FMP_EMEMBER);
    check_report("kill -9", 3, r->pid[3], "SIGKILL");
    HT_CHECK_MSG(r->rc[0] < 0, "the master's barrier returned %d after member 3 was killed",
                 r->rc[0]);
}

/* break / goto / return out of the block */

static int leave_by_return(rec *r)
{
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        r->pid[me] = getpid();
        fmp_barrier();
        if (me == 1)
            return 1; /* a child must never get back to the caller */
        fmp_barrier();
    }
    ht_atomic_add(&r->after, 1);
    return 0;
}

static void test_return_mode_leave_by_return(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    rec *r = ht_shared(sizeof *r);
    int v = leave_by_return(r);
    HT_CHECK_INT_EQ(v, 0);
    HT_CHECK_INT_EQ(ht_atomic_load(&r->after), 1); /* the master only */
    check_report("return out of FMP_PARALLEL", 1, r->pid[1], NULL);
}

static void test_return_mode_leave_by_break(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        r->pid[me] = getpid();
        fmp_barrier();
        if (me == 2)
            break;
        fmp_barrier();
    }
    ht_atomic_add(&r->after, 1);
    HT_CHECK_INT_EQ(getpid(), r->pid[0]);
    HT_CHECK_INT_EQ(ht_atomic_load(&r->after), 1);
    check_report("break out of FMP_PARALLEL", 2, r->pid[2], NULL);
}

static void test_return_mode_leave_by_goto(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    rec *r = ht_shared(sizeof *r);
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        r->pid[me] = getpid();
        fmp_barrier();
        if (me == 1)
            goto out;
        fmp_barrier();
    }
out:
    ht_atomic_add(&r->after, 1);
    HT_CHECK_INT_EQ(getpid(), r->pid[0]);
    HT_CHECK_INT_EQ(ht_atomic_load(&r->after), 1);
    check_report("goto out of FMP_PARALLEL", 1, r->pid[1], NULL);
}

/* ---------------------------------------------------------------- waiters get an error */

enum { W_BARRIER, W_REDUCE, W_LOCK_FREE_LOOP, W_SINGLE };

typedef struct wait_arg {
    rec *r;
    int where;
} wait_arg;

static void waiting_body(void *p)
{
    wait_arg *a = p;
    int me = fmp_thread_num();
    a->r->pid[me] = getpid();
    a->r->rc[me] = -12345;
    if (me == 1) {
        ht_sleep(0.2); /* the others are waiting by now */
        write_to_guard_page();
    }
    switch (a->where) {
    case W_BARRIER: a->r->rc[me] = fmp_barrier(); break;
    case W_REDUCE: {
        double x = me, y = 0;
        a->r->rc[me] = fmp_reduce(&x, &y, 1, FMP_DOUBLE, FMP_SUM);
        break;
    }
    case W_LOCK_FREE_LOOP:
        FMP_FOR(i, 0, 1000, fmp_dynamic(1)) {
            (void)i;
        }
        a->r->rc[me] = -1; /* the loop cannot return an error: reaching here is enough */
        break;
    case W_SINGLE:
        FMP_SINGLE {
        }
        a->r->rc[me] = -1;
        break;
    }
}

static void waiters_case(int where, const char *what, int check_rc)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    rec *r = ht_shared(sizeof *r);
    wait_arg a = { r, where };
    int rc = fmp_parallel(4, waiting_body, &a);
    HT_CHECK_MSG(rc == FMP_EMEMBER, "%s: fmp_parallel returned %d (%s)", what, rc,
                 fmp_strerror(rc));
    check_report(what, 1, r->pid[1], "SIGSEGV");
    if (check_rc) {
        /* the master always gets there; a child may leave at once instead of returning */
        HT_CHECK_MSG(r->rc[0] < 0 && r->rc[0] != -12345,
                     "%s: the master's call returned %d after a sibling crashed", what,
                     r->rc[0]);
        for (int m = 2; m < 4; m++) /* -12345: killed at the join before it returned */
            HT_CHECK_MSG(r->rc[m] < 0, "%s: member %d's call returned %d after a sibling "
                         "crashed", what, m, r->rc[m]);
    }
}

static void test_barrier_waiters_get_an_error(void)
{
    waiters_case(W_BARRIER, "members in fmp_barrier", 1);
}

static void test_reduce_waiters_get_an_error(void)
{
    waiters_case(W_REDUCE, "members in fmp_reduce", 1);
}

static void test_loop_waiters_do_not_hang(void)
{
    waiters_case(W_LOCK_FREE_LOOP, "members at the end of FMP_FOR", 0);
}

static void test_single_waiters_do_not_hang(void)
{
    waiters_case(W_SINGLE, "members at the end of FMP_SINGLE", 0);
}

static void test_regions_work_after_a_failure(void)
{
    rec *r;
    HT_CHECK_INT_EQ(run_failing(F_SEGV, &r), FMP_EMEMBER);
    int *count = ht_shared(sizeof(int));
    FMP_PARALLEL(3) {
        ht_atomic_add(count, 1);
    }
    HT_CHECK_INT_EQ(*count, 3);
}

/* ---------------------------------------------------------------- the master killed */

static void master_killed_case(int nested)
{
    ht_become_subreaper(); /* the orphans come back to this process */
    rec *r = ht_shared(sizeof *r);
    pid_t x = fork();
    HT_REQUIRE(x >= 0);
    if (x == 0) {
        if (nested)
            fmp_set_nested(1);
        FMP_PARALLEL(nested ? 2 : 4) {
            int o = fmp_thread_num();
            FMP_PARALLEL_IF(2, nested) {
                int k = nested ? o * 2 + fmp_thread_num() : o;
                r->pid[k] = getpid();
                ht_atomic_add(&r->ready, 1);
                /* the masters sleep, the other members wait in a barrier for them */
                if (fmp_thread_num() != 0)
                    fmp_barrier();
                for (;;)
                    ht_sleep(10);
            }
        }
        _exit(0);
    }
    double end = ht_now() + 10;
    while (ht_atomic_load(&r->ready) < 4 && ht_now() < end)
        ht_sleep(0.001);
    HT_REQUIRE_MSG(ht_atomic_load(&r->ready) == 4, "the team did not start");
    HT_CHECK_INT_EQ(r->pid[0], x);
    kill(x, SIGKILL);
    int st;
    HT_CHECK_INT_EQ(waitpid(x, &st, 0), x);
    int left = ht_wait_pids_gone(r->pid, 4, HT_GRACE_SECONDS);
    for (int k = 1; k < 4; k++)
        HT_CHECK_MSG(!ht_pid_alive(r->pid[k]), "member %d (pid %d) outlived its SIGKILLed "
                     "master", k, (int)r->pid[k]);
    HT_CHECK_INT_EQ(left, 0);
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
}

static void test_master_sigkill_leaves_no_member(void)
{
    master_killed_case(0);
}

static void test_master_sigkill_leaves_no_nested_member(void)
{
    master_killed_case(1);
}

/* ============================================================== abort mode: fail_prog */

/* Run fail_prog MODE; check status 70 within `late` + 2 s of the failure, the diagnostic,
   nothing after the region, and no process left. */
static void abort_mode_late(const char *mode, const char *const expect[], double late,
                            const char *out_expect)
{
    ht_become_subreaper();
    char path[4096];
    ht_helper_path("fail_prog", path, sizeof path);
    char *argv[] = { path, (char *)mode, NULL };
    ht_proc p;
    int rc = ht_run(argv, NULL, NULL, 20, &p);
    HT_REQUIRE_MSG(rc == 0, "cannot run %s: %s", path, strerror(-rc));
    char st[128];
    ht_status_str(&p, st, sizeof st);
    HT_CHECK_MSG(p.reaped && !p.timed_out && WIFEXITED(p.status) &&
                     WEXITSTATUS(p.status) == FMP_EXIT_FAILURE,
                 "fail_prog %s %s; expected exit status 70. stderr: %.1500s", mode, st, p.err);
    const char *mark = strstr(p.err, "crash-at ");
    if (HT_CHECK_MSG(mark != NULL, "fail_prog %s: no crash-at mark on stderr: %.1000s", mode,
                     p.err)) {
        double t = atof(mark + 9);
        double limit = late + 2.0 * ht_timeout_scale();
        HT_CHECK_MSG(p.t_end - t <= limit,
                     "fail_prog %s: ended %.2f s after the failure (at most %.1f s)", mode,
                     p.t_end - t, limit);
    }
    HT_CHECK_CONTAINS(p.err, "forkmp: ");
    for (int i = 0; expect && expect[i]; i++)
        HT_CHECK_MSG(strstr(p.err, expect[i]) != NULL,
                     "fail_prog %s: the diagnostic does not say \"%s\": %.1500s", mode,
                     expect[i], p.err);
    HT_CHECK_MSG(strstr(p.out, "AFTER REGION") == NULL,
                 "fail_prog %s: code after the region ran: %.500s", mode, p.out);
    if (out_expect)
        HT_CHECK_MSG(strstr(p.out, out_expect) != NULL,
                     "fail_prog %s: \"%s\", printed by the master before the end, was lost: "
                     "%.500s", mode, out_expect, p.out);
    /* the members it printed are gone, and nothing else came back to us */
    pid_t pids[16];
    int n = 0;
    for (const char *s = p.out; (s = strstr(s, " pid ")) != NULL && n < 16; s += 5)
        pids[n++] = (pid_t)atoi(s + 5);
    HT_CHECK_MSG(n >= 4, "fail_prog %s: only %d member lines on stdout: %.500s", mode, n, p.out);
    int alive = ht_wait_pids_gone(pids, n, HT_GRACE_SECONDS);
    HT_CHECK_MSG(alive == 0, "fail_prog %s: %d member(s) alive after the program ended", mode,
                 alive);
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
    ht_proc_free(&p);
}

static void abort_mode(const char *mode, const char *const expect[])
{
    abort_mode_late(mode, expect, 0, NULL);
}

static void test_abort_mode_segv(void)
{
    abort_mode("segv", (const char *const[]){ "member 1", "SIGSEGV", NULL });
}

static void test_abort_mode_kill9(void)
{
    abort_mode("kill9", (const char *const[]){ "member 1", "SIGKILL", NULL });
}

static void test_abort_mode_abort(void)
{
    abort_mode("abort", (const char *const[]){ "member 1", "SIGABRT", NULL });
}

static void test_abort_mode_exit(void)
{
    abort_mode("exit3", (const char *const[]){ "member 1", "exit(3)", NULL });
}

static void test_abort_mode_underscore_exit_0(void)
{
    abort_mode("_exit0", (const char *const[]){ "member 1", "status 0", NULL });
}

static void test_abort_mode_break(void)
{
    abort_mode("break", (const char *const[]){ "member 1", NULL });
}

static void test_abort_mode_goto(void)
{
    abort_mode("goto", (const char *const[]){ "member 1", NULL });
}

static void test_abort_mode_return(void)
{
    abort_mode("return", (const char *const[]){ "member 1", NULL });
}

static void test_abort_mode_others_in_barrier(void)
{
    abort_mode("barrier", (const char *const[]){ "member 1", "SIGSEGV", NULL });
}

/* The master learns of the failure at its next forkmp call (no signal handler ends a
   process): here the end of the region, after 1.5 s more of computing.  What it printed
   meanwhile with buffered stdio is flushed before the program ends. */
static void test_abort_mode_master_computing(void)
{
    abort_mode_late("compute", (const char *const[]){ "member 1", "SIGSEGV", NULL }, 1.5,
                    "computed\n");
}

static void test_abort_mode_nested_member(void)
{
    abort_mode("nested", (const char *const[]){ "SIGSEGV", NULL });
}

static const ht_test tests[] = {
    HT_TEST_TIMEOUT(test_return_mode_segv, 15),
    HT_TEST_TIMEOUT(test_return_mode_raise_sigkill, 15),
    HT_TEST_TIMEOUT(test_return_mode_abort, 15),
    HT_TEST_TIMEOUT(test_return_mode_exit, 15),
    HT_TEST_TIMEOUT(test_return_mode_underscore_exit_0, 15),
    HT_TEST_TIMEOUT(test_return_mode_underscore_exit_5, 15),
    HT_TEST_TIMEOUT(test_return_mode_kill_9_from_outside, 15),
    HT_TEST_TIMEOUT(test_return_mode_leave_by_return, 15),
    HT_TEST_TIMEOUT(test_return_mode_leave_by_break, 15),
    HT_TEST_TIMEOUT(test_return_mode_leave_by_goto, 15),
    HT_TEST_TIMEOUT(test_barrier_waiters_get_an_error, 15),
    HT_TEST_TIMEOUT(test_reduce_waiters_get_an_error, 15),
    HT_TEST_TIMEOUT(test_loop_waiters_do_not_hang, 15),
    HT_TEST_TIMEOUT(test_single_waiters_do_not_hang, 15),
    HT_TEST_TIMEOUT(test_regions_work_after_a_failure, 15),
    HT_TEST_TIMEOUT(test_master_sigkill_leaves_no_member, 15),
    HT_TEST_TIMEOUT(test_master_sigkill_leaves_no_nested_member, 15),
    HT_TEST(test_abort_mode_segv),
    HT_TEST(test_abort_mode_kill9),
    HT_TEST(test_abort_mode_abort),
    HT_TEST(test_abort_mode_exit),
    HT_TEST(test_abort_mode_underscore_exit_0),
    HT_TEST(test_abort_mode_break),
    HT_TEST(test_abort_mode_goto),
    HT_TEST(test_abort_mode_return),
    HT_TEST(test_abort_mode_others_in_barrier),
    HT_TEST(test_abort_mode_master_computing),
    HT_TEST(test_abort_mode_nested_member),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "failure", tests);
}
