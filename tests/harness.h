/* harness.h: forkmp's test runner, a thin layer over CUnit's basic interface.
 *
 * Why: every test forks (forkmp's teams are processes), and a test that crashes, hangs or
 * leaves a process behind must be a failure with a reason, never a stuck or poisoned run.
 * So, as libuv's test runner does, every test body runs isolated in a subprocess under a
 * watchdog, and the runner (the program's first process, a CUnit test runner) checks what
 * the body left behind.
 *
 * ---------------------------------------------------------------------------------------
 * Writing a suite
 *
 *     static void test_numbering(void) { ...; HT_CHECK(fmp_num_threads() == 1); ... }
 *     static void test_slow(void) { ... }
 *
 *     static const ht_test tests[] = {
 *         HT_TEST(test_numbering),            // default watchdog: HT_DEFAULT_TIMEOUT s
 *         HT_TEST_TIMEOUT(test_slow, 60),     // its own watchdog, in seconds
 *         HT_END
 *     };
 *     int main(int argc, char **argv) { return ht_main(argc, argv, "regions", tests); }
 *
 * The program prints CUnit's verbose run and Run Summary, and exits 0 when every test
 * passed, 77 (automake's skip) when every test it ran was skipped, 1 when one failed, 2
 * for an unknown test name.
 *
 *     tests/test_regions                  run the whole suite
 *     tests/test_regions NAME...          run the named tests only ("test_" may be left out)
 *     tests/test_regions --list           list the tests
 *     tests/test_regions --inline NAME    run NAME in the runner itself, without subprocess,
 *                                         watchdog or checks (for gdb); one test only
 *
 * FORKMP_TEST_TIMEOUT_SCALE=3 multiplies every watchdog (valgrind, slow machines).
 *
 * ---------------------------------------------------------------------------------------
 * How one test runs (the runner is a child subreaper, PR_SET_CHILD_SUBREAPER, so every
 * orphaned descendant of a test comes back to it)
 *
 *  1. The runner lists /dev/shm, makes a report pipe, flushes its stdio and forks the
 *     test subprocess, which gets its own process group and dies with the runner
 *     (PR_SET_PDEATHSIG).
 *  2. The subprocess clears every FMP_*, OMP_* and GOMP_* variable of its environment but
 *     the wait-policy ones (FMP_WAIT_POLICY, OMP_WAIT_POLICY, FMP_SPIN_COUNT,
 *     GOMP_SPINCOUNT), so that the caller's environment cannot change what a test checks;
 *     a test that needs a variable sets it itself before its first fmp_* call (forkmp
 *     reads its environment at its first use).  Then it runs the body.  Assertions
 *     (HT_CHECK...) may be made in ANY process of the test: the subprocess itself, forkmp
 *     members it forks, their members, helper processes it forks.  A failed assertion is
 *     one line "F<file>\t<line>\t<message>" written with one write() of at most
 *     HT_LINE_MAX (< PIPE_BUF) bytes, so lines from concurrent processes never mix (one
 *     made outside the subprocess is tagged with its pid); passed assertions are counted
 *     in a page of shared memory (MAP_SHARED | MAP_ANONYMOUS: no /dev/shm entry) that
 *     all of them inherit.
 *  3. When the body returns (in the subprocess; a process forked by the test that returns
 *     from the body is itself a failure: "a forkmp child ran code after its region"), the
 *     subprocess checks that it has no child left, alive or zombie (after a 2 s grace for
 *     the living), then writes "E" (end) and _exit(0)s.  HT_SKIP writes "S<reason>" and
 *     _exit(0)s; HT_REQUIRE that fails in the subprocess writes its "F" line and "Q".
 *  4. The runner waits for the subprocess, reading reports, until the test's watchdog
 *     (HT_DEFAULT_TIMEOUT s unless the table says otherwise) expires: then it notes the
 *     test's processes (pid, state, wchan: where each one hangs), SIGKILLs its process
 *     group and every process reparented to it, and records "timed out" with that list.  A subprocess killed by a signal, or
 *     exiting non-zero, or ending without "E"/"S"/"Q" is a failure naming the signal or
 *     status.
 *  5. After the subprocess ended the runner gives the test's processes 2 s to go away
 *     (reaping orphans with waitpid(-1, WNOHANG) and reading the pipe to its end), then
 *     asserts that none is left: waitpid(-1) must report no child and a /proc scan no
 *     process whose parent is the runner; leftovers are named, then killed and reaped so
 *     the next test starts clean.  It also asserts that /dev/shm holds no entry that was
 *     not there before the test (forkmp's arena is anonymous: it must create none); the
 *     names of MPI runtimes' segments (vader_segment*, ompi*, pmix*, ucx*...) are left
 *     out, since the MPI tests may run beside the suites under make -j.
 *  6. Every "F" line becomes a CUnit failure record of the runner's CUnit test, with the
 *     child's file, line and message (CU_assertImplementation), so CUnit's summary and
 *     failure list show them as if the body had run in the runner; what the runner
 *     itself finds (timeout, signal, leftovers) is recorded at a line of harness.c with
 *     the reason as its message.  The passes counted in shared memory are added to
 *     CUnit's count of assertions.
 *
 * Do not use CUnit's CU_ASSERT* in bodies: they would record into a copy of the runner's
 * registry that dies with the process (the subprocess forwards its non-fatal CU_ASSERT
 * failures as a courtesy, but those made in members are lost), and the _FATAL forms
 * would longjmp into a copy of CUnit's run loop.  Use the HT_* macros below.
 */
#ifndef FMP_TEST_HARNESS_H
#define FMP_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#define HT_DEFAULT_TIMEOUT 30 /* seconds, per test */
#define HT_GRACE_SECONDS 2.0  /* for processes of a test to go away after it */
#define HT_LINE_MAX 3800      /* one report line, < PIPE_BUF so that writes stay whole */
#define HT_EXIT_REQUIRE 86    /* exit status of a non-subprocess whose HT_REQUIRE failed */

typedef struct ht_test {
    const char *name;
    void (*fn)(void);
    int timeout_s; /* 0: HT_DEFAULT_TIMEOUT */
} ht_test;

#define HT_TEST(fn) {#fn, fn, 0}
#define HT_TEST_TIMEOUT(fn, seconds) {#fn, fn, (seconds)}
#define HT_END {NULL, NULL, 0}

/* Run the suite: see the top of this file.  Returns the program's exit status. */
int ht_main(int argc, char **argv, const char *suite, const ht_test *tests);

/* ---------------------------------------------------------------------------------------
 * Assertions: any process of the test, any time.  Each evaluates its arguments once and
 * returns non-zero when it passed, so that a test can stop looking after a failure:
 *     if (!HT_CHECK_INT_EQ(rc, FMP_OK)) return;
 * ------------------------------------------------------------------------------------- */
void ht__pass(void);
void ht__fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ht__ok(void); /* ht__pass(), returns 1 */
int ht__ko(const char *file, int line, const char *fmt, ...) /* ht__fail(), returns 0 */
    __attribute__((format(printf, 3, 4)));
__attribute__((noreturn)) void ht__require_failed(void);
__attribute__((noreturn)) void ht__skip(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int ht__check_int(long long a, long long b, int eq, const char *sa, const char *sb,
                  const char *file, int line);
int ht__check_str(const char *hay, const char *needle, int contains, const char *sh,
                  const char *sn, const char *file, int line);

/* A condition; the message is its text. */
#define HT_CHECK(cond) ((cond) ? ht__ok() : ht__ko(__FILE__, __LINE__, "%s", #cond))
/* A condition with a printf-style message saying what was expected and what came. */
#define HT_CHECK_MSG(cond, ...) ((cond) ? ht__ok() : ht__ko(__FILE__, __LINE__, __VA_ARGS__))
/* Integers (any integer type, compared as long long), showing both values on failure. */
#define HT_CHECK_INT_EQ(a, b)                                                            \
    ht__check_int((long long)(a), (long long)(b), 1, #a, #b, __FILE__, __LINE__)
#define HT_CHECK_INT_NE(a, b)                                                            \
    ht__check_int((long long)(a), (long long)(b), 0, #a, #b, __FILE__, __LINE__)
/* hay contains needle (hay NULL fails), or does not. */
#define HT_CHECK_CONTAINS(hay, needle)                                                   \
    ht__check_str((hay), (needle), 1, #hay, #needle, __FILE__, __LINE__)
#define HT_CHECK_NOT_CONTAINS(hay, needle)                                               \
    ht__check_str((hay), (needle), 0, #hay, #needle, __FILE__, __LINE__)
/* An assertion that passed (after a loop that checked many things and found no fault). */
#define HT_PASS() ht__pass()
/* An unconditional failure with a message. */
#define HT_FAIL(...) ht__fail(__FILE__, __LINE__, __VA_ARGS__)
/* A condition the rest of the calling process cannot do without: on failure the
   subprocess ends the test (after reporting); any other process _exit()s with
   HT_EXIT_REQUIRE (a forkmp member doing so fails its region, as it should). */
#define HT_REQUIRE(cond)                                                                 \
    do {                                                                                 \
        if (!HT_CHECK(cond))                                                             \
            ht__require_failed();                                                        \
    } while (0)
#define HT_REQUIRE_MSG(cond, ...)                                                        \
    do {                                                                                 \
        if (!HT_CHECK_MSG(cond, __VA_ARGS__))                                            \
            ht__require_failed();                                                        \
    } while (0)
/* Skip the test (in the test's subprocess only, before it forked anything): the reason
   is printed; a program whose every test skipped exits 77. */
#define HT_SKIP(...) ht__skip(__VA_ARGS__)

/* ---------------------------------------------------------------------------------------
 * Process helpers for bodies
 * ------------------------------------------------------------------------------------- */

/* Non-zero in the test's subprocess itself (not in a process it forked). */
int ht_in_subprocess(void);

/* pid exists and is not a zombie. */
int ht_pid_alive(pid_t pid);
/* The state letter of /proc/pid/stat ('R', 'S', 'Z'...), 0 when there is no such pid. */
char ht_pid_state(pid_t pid);
/* Processes whose parent is ppid (alive or zombie): their number; up to max pids in out
   (out may be NULL). */
int ht_children_of(pid_t ppid, pid_t *out, int max);
/* Run fn(arg) in a forked child whose stderr goes to a file, read back into out (len
   bytes, terminated) once the child ended: its exit status (fn's own exit, or 0 when fn
   returns), -1 when it did not exit. */
int ht_stderr_of(void (*fn)(void *), void *arg, char *out, size_t len);
/* The calling process's children left after its regions joined: ht_children_of(getpid())
   less the warm members parked for its next region (FMP_REGION=warm/auto), which are
   ended first by fmp_warm_release(). */
int ht_children_left(void);
/* Make the caller a child subreaper, so that orphaned descendants come back to it. */
void ht_become_subreaper(void);
/* FORKMP_TEST_TIMEOUT_SCALE (1 when unset): tests multiply their own deadlines and
   latency limits by it, as the watchdogs are. */
double ht_timeout_scale(void);
/* Reap the caller's children (every one, waitpid(-1)) until it has none or grace_s
   passed; returns how many are still there, alive or zombie, at the end. */
int ht_reap_children(double grace_s);
/* Wait until none of pids is alive (zombies reaped when they are the caller's
   children) or grace_s passed; returns how many are still alive. */
int ht_wait_pids_gone(const pid_t *pids, int n, double grace_s);

/* Monotonic seconds. */
double ht_now(void);
/* Sleep for seconds (restarted on signals). */
void ht_sleep(double seconds);
/* Resident set size of the calling process in KiB (VmRSS), -1 if unknown. */
long ht_rss_kib(void);

/* Zero-filled memory shared by the caller and every process it forks later, not from
   forkmp (MAP_SHARED | MAP_ANONYMOUS): for counters that must not depend on the code
   under test.  Never freed (the test's subprocess is short-lived). */
void *ht_shared(size_t bytes);

/* Count members' work with these on plain ints of shared memory. */
static inline int ht_atomic_add(int *p, int v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
static inline long ht_atomic_addl(long *p, long v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
static inline int ht_atomic_load(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
static inline void ht_atomic_store(int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

/* ---------------------------------------------------------------------------------------
 * Helper programs: fork + exec with captured output and a deadline
 * ------------------------------------------------------------------------------------- */
typedef struct ht_proc {
    pid_t pid;
    int status;       /* waitpid() status; meaningful when reaped */
    int reaped;       /* the program ended (by itself or killed at the deadline) */
    int timed_out;    /* it ran past the deadline and was killed */
    double t_start;   /* ht_now() at fork, and when it was reaped */
    double t_end;
    char *out;        /* stdout (NUL-terminated; from the file when stdout_file was given) */
    size_t out_len;
    char *err;        /* stderr */
    size_t err_len;
} ht_proc;

/* The path of a program built beside the running test program (tests/NAME), in buf. */
const char *ht_helper_path(const char *name, char *buf, size_t len);
/* Run argv[0] with argv; env: "NAME=value" strings to set (or "NAME" to unset) in the
   child before exec, NULL-terminated, may be NULL.  stdout goes to a pipe (stdout_file
   NULL) or to that file (truncated); stderr to a pipe.  Waits at most timeout_s, then
   SIGKILLs it.  Returns 0, or -errno when it could not be started. */
int ht_run(char *const argv[], const char *const env[], const char *stdout_file,
           double timeout_s, ht_proc *p);
void ht_proc_free(ht_proc *p);
/* "exited with status 3" / "killed by signal 9 (SIGKILL)" / "timed out" into buf. */
const char *ht_status_str(const ht_proc *p, char *buf, size_t len);

/* Capture what the calling process writes on fd 2 between these two calls (a temporary
   file under fd 2).  end returns the text (malloc'd, NUL-terminated; free it). */
void ht_capture_stderr_begin(void);
char *ht_capture_stderr_end(void);

#endif /* FMP_TEST_HARNESS_H */
