/* harness.c: every CUnit test in a watched subprocess; see harness.h for the design. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#define REPORT_FD_MIN 200 /* the report pipe lives high, out of the way of tests' fds */
#define MAX_PIDS 4096

/* Counters shared by the runner and every process of a test. */
typedef struct ht_shared_counts {
    long passes;
} ht_shared_counts;

static const ht_test *g_tests;
static pid_t g_runner_pid;
static pid_t g_sub_pid;            /* the current test's subprocess (in it and below it) */
static int g_report_fd = -1;       /* write end, in the test's processes */
static int g_inline;               /* --inline: the body runs in the runner */
static ht_shared_counts *g_counts; /* MAP_SHARED page */
static double g_timeout_scale = 1.0;
static int g_n_skipped, g_n_run;

/* ===================================================================== small helpers */

double ht_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ht_sleep(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

void *ht_shared(size_t bytes)
{
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) {
        HT_FAIL("ht_shared(%zu): mmap failed: %s", bytes, strerror(errno));
        ht__require_failed();
    }
    return p;
}

long ht_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

/* ===================================================================== /proc */

typedef struct procinfo {
    pid_t pid, ppid, pgrp;
    char state;
    char comm[64];
} procinfo;

static int read_stat(pid_t pid, procinfo *pi)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *l = strchr(buf, '('), *r = strrchr(buf, ')');
    if (!l || !r || r < l)
        return -1;
    memset(pi, 0, sizeof *pi);
    pi->pid = pid;
    size_t cl = (size_t)(r - l - 1);
    if (cl >= sizeof pi->comm)
        cl = sizeof pi->comm - 1;
    memcpy(pi->comm, l + 1, cl);
    int ppid = 0, pgrp = 0;
    if (sscanf(r + 1, " %c %d %d", &pi->state, &ppid, &pgrp) != 3)
        return -1;
    pi->ppid = ppid;
    pi->pgrp = pgrp;
    return 0;
}

/* Every process for which keep() says yes, into out (at most max); returns the count. */
static int scan_procs(int (*keep)(const procinfo *, long), long arg, procinfo *out, int max)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        procinfo pi;
        if (read_stat((pid_t)atoi(e->d_name), &pi) < 0 || !keep(&pi, arg))
            continue;
        if (out && n < max)
            out[n] = pi;
        n++;
    }
    closedir(d);
    return n;
}

static int keep_child(const procinfo *pi, long ppid)
{
    return pi->ppid == (pid_t)ppid;
}

static int keep_group(const procinfo *pi, long pgrp)
{
    return pi->pgrp == (pid_t)pgrp;
}

char ht_pid_state(pid_t pid)
{
    procinfo pi;
    return read_stat(pid, &pi) == 0 ? pi.state : 0;
}

int ht_pid_alive(pid_t pid)
{
    char s = ht_pid_state(pid);
    return s != 0 && s != 'Z' && s != 'X';
}

/* forkmp's, when the program links it (harness_selftest's demo does not) */
extern int fmp_warm_release(void) __attribute__((weak));

int ht_children_left(void)
{
    int all = ht_children_of(getpid(), NULL, 0);
    int parked = fmp_warm_release ? fmp_warm_release() : 0;
    return all - (parked > 0 ? parked : 0);
}

int ht_stderr_of(void (*fn)(void *), void *arg, char *out, size_t len)
{
    char path[] = "/tmp/forkmp-stderr-XXXXXX";
    int log = mkstemp(path);
    out[0] = '\0';
    if (log < 0)
        return -1;
    unlink(path);
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        if (dup2(log, 2) != 2)
            _exit(2);
        fn(arg);
        _exit(0);
    }
    int st = -1;
    while (child > 0 && waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    ssize_t n = pread(log, out, len - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(log);
    return child > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int ht_children_of(pid_t ppid, pid_t *out, int max)
{
    procinfo buf[256];
    int n = scan_procs(keep_child, (long)ppid, buf, 256);
    for (int i = 0; out && i < n && i < max && i < 256; i++)
        out[i] = buf[i].pid;
    return n;
}

double ht_timeout_scale(void)
{
    return g_timeout_scale;
}

void ht_become_subreaper(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) != 0)
        HT_FAIL("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
}

int ht_reap_children(double grace_s)
{
    double end = ht_now() + grace_s;
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        int left = ht_children_of(getpid(), NULL, 0);
        if (left == 0 || ht_now() >= end)
            return left;
        ht_sleep(0.005);
    }
}

int ht_wait_pids_gone(const pid_t *pids, int n, double grace_s)
{
    double end = ht_now() + grace_s;
    for (;;) {
        int alive = 0;
        for (int i = 0; i < n; i++) {
            if (pids[i] <= 0)
                continue;
            waitpid(pids[i], NULL, WNOHANG); /* reaps it when it is the caller's child */
            if (ht_pid_alive(pids[i]))
                alive++;
        }
        if (alive == 0 || ht_now() >= end)
            return alive;
        ht_sleep(0.005);
    }
}

static void describe_procs(char *buf, size_t len, const procinfo *p, int n)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < n && o + 1 < len; i++) {
        char wchan[64] = "";
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/wchan", (int)p[i].pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t r = read(fd, wchan, sizeof wchan - 1);
            wchan[r > 0 ? r : 0] = 0;
            close(fd);
        }
        int w = snprintf(buf + o, len - o, "%spid %d (%s) state %c parent %d%s%s", i ? "; " : "",
                         (int)p[i].pid, p[i].comm, p[i].state, (int)p[i].ppid,
                         wchan[0] && strcmp(wchan, "0") ? " in " : "",
                         wchan[0] && strcmp(wchan, "0") ? wchan : "");
        if (w < 0)
            break;
        o += (size_t)w;
    }
    if (o >= len && len > 4)
        strcpy(buf + len - 4, "...");
}

/* ===================================================================== reporting */

/* One line, one write: '\n' in the message becomes "\\n" so that lines stay lines. */
static void report_line(char kind, const char *file, int line, const char *msg)
{
    char buf[HT_LINE_MAX];
    size_t o = 0;
    buf[o++] = kind;
    if (file) {
        int w = snprintf(buf + o, sizeof buf - o, "%s\t%d\t", file, line);
        o += w > 0 ? (size_t)w : 0;
    }
    for (const char *s = msg; *s && o + 3 < sizeof buf; s++) {
        if (*s == '\n' || *s == '\t') {
            buf[o++] = '\\';
            buf[o++] = *s == '\n' ? 'n' : 't';
        } else {
            buf[o++] = *s;
        }
    }
    buf[o++] = '\n';
    if (g_report_fd >= 0)
        write_all(g_report_fd, buf, o);
}

void ht__pass(void)
{
    if (g_counts)
        __atomic_fetch_add(&g_counts->passes, 1, __ATOMIC_RELAXED);
    else if (getpid() == g_runner_pid)
        CU_assertImplementation(CU_TRUE, 0, "", "", "", CU_FALSE);
}

static void vfail(const char *file, int line, const char *fmt, va_list ap)
{
    char msg[HT_LINE_MAX];
    int o = 0;
    if (g_sub_pid && getpid() != g_sub_pid) /* which process of the test failed */
        o = snprintf(msg, sizeof msg, "[pid %d] ", (int)getpid());
    vsnprintf(msg + o, sizeof msg - (size_t)o, fmt, ap);
    if (g_report_fd >= 0) {
        report_line('F', file, line, msg);
    } else if (getpid() == g_runner_pid) {
        CU_assertImplementation(CU_FALSE, (unsigned)line, msg, file, "", CU_FALSE);
    } else {
        fprintf(stderr, "FAIL %s:%d: %s\n", file, line, msg);
        fflush(stderr);
    }
}

void ht__fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(file, line, fmt, ap);
    va_end(ap);
}

int ht__ok(void)
{
    ht__pass();
    return 1;
}

int ht__ko(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(file, line, fmt, ap);
    va_end(ap);
    return 0;
}

void ht__require_failed(void)
{
    if (g_inline && getpid() == g_runner_pid) {
        fprintf(stderr, "harness: HT_REQUIRE failed in --inline mode; stopping\n");
        exit(1);
    }
    if (getpid() == g_sub_pid) {
        report_line('Q', NULL, 0, "");
        _exit(0);
    }
    _exit(HT_EXIT_REQUIRE);
}

void ht__skip(const char *fmt, ...)
{
    char msg[HT_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g_inline && getpid() == g_runner_pid) {
        printf("SKIP: %s\n", msg);
        exit(77);
    }
    if (getpid() != g_sub_pid) {
        ht__fail(__FILE__, __LINE__, "HT_SKIP(%s) called outside the test's subprocess", msg);
        _exit(HT_EXIT_REQUIRE);
    }
    report_line('S', NULL, 0, msg);
    _exit(0);
}

int ht__check_int(long long a, long long b, int eq, const char *sa, const char *sb,
                  const char *file, int line)
{
    if ((a == b) == !!eq) {
        ht__pass();
        return 1;
    }
    ht__fail(file, line, "%s %s %s: %s is %lld, %s is %lld", sa, eq ? "==" : "!=", sb, sa, a,
             sb, b);
    return 0;
}

int ht__check_str(const char *hay, const char *needle, int contains, const char *sh,
                  const char *sn, const char *file, int line)
{
    int has = hay && needle && strstr(hay, needle) != NULL;
    if (hay && has == !!contains) {
        ht__pass();
        return 1;
    }
    ht__fail(file, line, "%s should %scontain \"%s\" (%s); it is \"%.2000s\"", sh,
             contains ? "" : "not ", needle ? needle : "(null)", sn, hay ? hay : "(null)");
    return 0;
}

int ht_in_subprocess(void)
{
    return g_sub_pid != 0 && getpid() == g_sub_pid;
}

/* ===================================================================== the subprocess */

static void reset_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* A test starts with none of forkmp's or OpenMP's variables, whatever the caller's
   environment (a CI job's OMP_NUM_THREADS=1 must not change what a test checks), except
   the wait-policy ones and FMP_REGION, which change how members wait or start and never
   what they compute: the suite can be run again under FMP_WAIT_POLICY=passive or
   FMP_REGION=fork. */
static void clear_env(void)
{
    static const char *const keep[] = { "FMP_WAIT_POLICY", "OMP_WAIT_POLICY",
                                        "FMP_SPIN_COUNT", "GOMP_SPINCOUNT", "FMP_REGION" };
    extern char **environ;
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; e && *e; e++) {
            if (strncmp(*e, "FMP_", 4) && strncmp(*e, "OMP_", 4) && strncmp(*e, "GOMP_", 5))
                continue;
            char name[256];
            size_t nl = strcspn(*e, "=");
            if (nl >= sizeof name)
                continue;
            memcpy(name, *e, nl);
            name[nl] = 0;
            int kept = 0;
            for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
                kept |= strcmp(name, keep[k]) == 0;
            if (kept)
                continue;
            unsetenv(name); /* environ changed: start over */
            again = 1;
            break;
        }
    }
}

/* After the body: the subprocess must have no child left, alive or zombie, once the warm
   members parked for a next region are ended (fmp_warm_release reaps them). */
static void check_no_children(void)
{
    if (fmp_warm_release)
        fmp_warm_release();
    double end = ht_now() + HT_GRACE_SECONDS;
    procinfo left[64];
    int n;
    for (;;) {
        n = scan_procs(keep_child, (long)getpid(), left, 64);
        int alive = 0;
        for (int i = 0; i < n && i < 64; i++)
            alive += left[i].state != 'Z' && left[i].state != 'X';
        if (n == 0 || alive == 0 || ht_now() >= end)
            break;
        ht_sleep(0.01);
    }
    if (n == 0) {
        ht__pass();
        return;
    }
    char desc[2048];
    describe_procs(desc, sizeof desc, left, n < 64 ? n : 64);
    ht__fail(__FILE__, __LINE__,
             "the test's process has %d child process(es) left after its body returned "
             "(forkmp must reap every member at the join; zombies count): %s",
             n, desc);
    for (int i = 0; i < n && i < 64; i++)
        kill(left[i].pid, SIGKILL);
    for (int i = 0; i < n && i < 64; i++)
        waitpid(left[i].pid, NULL, 0);
}

/* CU_ASSERT failures the body recorded in this process's copy of the registry. */
static void forward_cunit_failures(unsigned before)
{
    unsigned k = 0;
    for (CU_pFailureRecord f = CU_get_failure_list(); f; f = f->pNext, k++) {
        if (k < before)
            continue;
        report_line('F', f->strFileName ? f->strFileName : "?", (int)f->uiLineNumber,
                    f->strCondition ? f->strCondition : "CU_ASSERT");
    }
}

static __attribute__((noreturn)) void subprocess_main(const ht_test *t, int wfd,
                                                      pid_t runner, unsigned cu_before)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL);
    if (getppid() != runner)
        _exit(125);
    reset_signals();
    int fd = fcntl(wfd, F_DUPFD_CLOEXEC, REPORT_FD_MIN);
    if (fd >= 0) {
        close(wfd);
        wfd = fd;
    }
    g_report_fd = wfd;
    g_sub_pid = getpid();
    clear_env();
    t->fn();
    if (getpid() != g_sub_pid) {
        ht__fail(__FILE__, __LINE__,
                 "a process forked inside the test (pid %d, parent %d) returned from the test "
                 "body: a forkmp child ran the code after its region",
                 (int)getpid(), (int)getppid());
        fflush(NULL);
        _exit(HT_EXIT_REQUIRE);
    }
    check_no_children();
    forward_cunit_failures(cu_before);
    fflush(NULL);
    report_line('E', NULL, 0, "");
    _exit(0);
}

/* ===================================================================== the runner */

typedef struct namelist {
    char **v;
    int n, cap;
} namelist;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Shared-memory names of MPI runtimes that may run beside us under make -j (tests/mpi),
   the node census of such a job while its creator (a live rank 0, src/mpi/census.c) has
   not yet unlinked it, and the entry that the harness's self-test (test_harness_demo)
   leaves on purpose, named after its runner's pid: not forkmp's, not this test's. */
static int foreign_shm(const char *name)
{
    static const char demo[] = "fmp-harness-demo-", census[] = "forkmp-census-";
    if (strncmp(name, demo, sizeof demo - 1) == 0)
        return atoi(name + sizeof demo - 1) != (int)g_runner_pid;
    if (strncmp(name, census, sizeof census - 1) == 0) {
        pid_t pid = (pid_t)atoi(name + sizeof census - 1);
        return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
    }
    static const char *const prefixes[] = { "vader_segment", "sm_segment", "ompi",
                                            "openmpi", "open_mpi", "pmix", "psm", "ucx",
                                            "mpich", "shm-col" };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

static int list_shm(namelist *l)
{
    memset(l, 0, sizeof *l);
    DIR *d = opendir("/dev/shm");
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            foreign_shm(e->d_name))
            continue;
        if (l->n == l->cap) {
            int cap = l->cap ? 2 * l->cap : 64;
            char **v = realloc(l->v, (size_t)cap * sizeof *v);
            if (!v)
                break;
            l->v = v;
            l->cap = cap;
        }
        l->v[l->n++] = strdup(e->d_name);
    }
    closedir(d);
    if (l->n)
        qsort(l->v, (size_t)l->n, sizeof *l->v, cmp_str);
    return 0;
}

static void free_names(namelist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* A failure record of the running CUnit test, made by the runner. */
static void runner_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void runner_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[HT_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    CU_assertImplementation(CU_FALSE, (unsigned)line, msg, file, "", CU_FALSE);
}

typedef struct run_state {
    char *buf; /* report bytes not yet parsed */
    size_t len, cap;
    int saw_end, saw_skip, saw_quit;
    char skip_reason[512];
    int eof;
} run_state;

static void parse_line(run_state *rs, char *line)
{
    switch (line[0]) {
    case 'F': {
        char *file = line + 1;
        char *t1 = strchr(file, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t1 || !t2) {
            runner_fail(__FILE__, __LINE__, "malformed report from the test: %s", line);
            return;
        }
        *t1 = 0;
        *t2 = 0;
        CU_assertImplementation(CU_FALSE, (unsigned)atoi(t1 + 1), t2 + 1, file, "", CU_FALSE);
        break;
    }
    case 'E': rs->saw_end = 1; break;
    case 'Q': rs->saw_quit = 1; break;
    case 'S':
        rs->saw_skip = 1;
        snprintf(rs->skip_reason, sizeof rs->skip_reason, "%s", line + 1);
        break;
    default: runner_fail(__FILE__, __LINE__, "malformed report from the test: %s", line); break;
    }
}

/* Read what is there (non-blocking fd); parse whole lines. */
static void pump(run_state *rs, int fd)
{
    for (;;) {
        if (rs->cap - rs->len < 4096) {
            size_t cap = rs->cap ? rs->cap * 2 : 16384;
            char *b = realloc(rs->buf, cap);
            if (!b)
                return;
            rs->buf = b;
            rs->cap = cap;
        }
        ssize_t r = read(fd, rs->buf + rs->len, rs->cap - rs->len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            rs->eof = 1;
        if (r <= 0)
            break;
        rs->len += (size_t)r;
    }
    size_t start = 0;
    for (size_t i = 0; i < rs->len; i++)
        if (rs->buf[i] == '\n') {
            rs->buf[i] = 0;
            parse_line(rs, rs->buf + start);
            start = i + 1;
        }
    memmove(rs->buf, rs->buf + start, rs->len - start);
    rs->len -= start;
}

/* Wait up to ms for data on fd (or nothing if it is at its end). */
static void wait_fd(run_state *rs, int fd, int ms)
{
    if (rs->eof) {
        ht_sleep(ms / 1000.0 < 0.005 ? ms / 1000.0 : 0.005);
        return;
    }
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, ms) > 0)
        pump(rs, fd);
}

/* SIGKILL every process whose parent is the runner, again until none is left (killing
   a process reparents its children to us); reap them. */
static void kill_runner_children(void)
{
    for (int round = 0; round < 50; round++) {
        procinfo p[256];
        int n = scan_procs(keep_child, (long)getpid(), p, 256);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (n == 0)
            return;
        for (int i = 0; i < n && i < 256; i++)
            kill(p[i].pid, SIGKILL);
        ht_sleep(0.01);
    }
}

static const char *sig_name(int sig, char *buf, size_t len)
{
    const char *ab = sigabbrev_np(sig);
    if (ab)
        snprintf(buf, len, "SIG%s", ab);
    else
        snprintf(buf, len, "signal %d", sig);
    return buf;
}

static void run_isolated(const ht_test *t)
{
    int timeout = t->timeout_s > 0 ? t->timeout_s : HT_DEFAULT_TIMEOUT;
    double limit = timeout * g_timeout_scale;
    namelist shm_before, shm_after;
    int have_shm = list_shm(&shm_before) == 0;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        runner_fail(__FILE__, __LINE__, "harness: pipe: %s", strerror(errno));
        return;
    }
    g_counts->passes = 0;
    unsigned cu_before = CU_get_number_of_failure_records();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        runner_fail(__FILE__, __LINE__, "harness: fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return;
    }
    if (pid == 0) {
        close(pfd[0]);
        subprocess_main(t, pfd[1], g_runner_pid, cu_before);
    }
    setpgid(pid, pid);
    close(pfd[1]);
    fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);

    run_state rs;
    memset(&rs, 0, sizeof rs);
    double start = ht_now(), deadline = start + limit;
    int status = 0, timed_out = 0;
    char hung[3000] = "";
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        double now = ht_now();
        if (now >= deadline) {
            procinfo p[64];
            int n = scan_procs(keep_group, (long)pid, p, 64);
            describe_procs(hung, sizeof hung, p, n < 64 ? n : 64);
            kill(-pid, SIGKILL);
            kill_runner_children(); /* also reparented ones, whatever their group */
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            timed_out = 1;
            break;
        }
        double left = deadline - now;
        wait_fd(&rs, pfd[0], left < 0.05 ? (int)(left * 1000) + 1 : 50);
    }

    /* grace: the test's other processes must go away; read the pipe to its end */
    double grace_end = ht_now() + HT_GRACE_SECONDS;
    int children = 0;
    for (;;) {
        pump(&rs, pfd[0]);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        children = ht_children_of(getpid(), NULL, 0);
        int group = kill(-pid, 0) == 0;
        if ((children == 0 && !group && rs.eof) || ht_now() >= grace_end)
            break;
        wait_fd(&rs, pfd[0], 10);
    }
    procinfo left[64];
    int nleft = scan_procs(keep_child, (long)getpid(), left, 64);
    int ngroup = kill(-pid, 0) == 0 ? scan_procs(keep_group, (long)pid, NULL, 0) : 0;
    if (nleft > 0 || ngroup > 0) {
        char desc[2048] = "";
        if (nleft > 0)
            describe_procs(desc, sizeof desc, left, nleft < 64 ? nleft : 64);
        else {
            procinfo g[64];
            int n = scan_procs(keep_group, (long)pid, g, 64);
            describe_procs(desc, sizeof desc, g, n < 64 ? n : 64);
        }
        runner_fail(__FILE__, __LINE__,
                    "%d process(es) of the test still there %.0f s after it ended (no member "
                    "may be left behind): %s",
                    nleft > ngroup ? nleft : ngroup, HT_GRACE_SECONDS, desc);
        kill(-pid, SIGKILL);
        kill_runner_children();
    } else if (!timed_out) {
        CU_assertImplementation(CU_TRUE, 0, "", "", "", CU_FALSE);
    }
    pump(&rs, pfd[0]);
    close(pfd[0]);

    /* what the subprocess said and how it ended */
    char sb[64];
    if (timed_out) {
        runner_fail(__FILE__, __LINE__,
                    "timed out after %.0f s (the watchdog killed the test's processes: %s)",
                    limit, hung[0] ? hung : "none found");
    } else if (WIFSIGNALED(status)) {
        runner_fail(__FILE__, __LINE__, "the test's process was killed by signal %d (%s)%s",
                    WTERMSIG(status), sig_name(WTERMSIG(status), sb, sizeof sb),
                    WCOREDUMP(status) ? ", core dumped" : "");
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        int st = WEXITSTATUS(status);
        runner_fail(__FILE__, __LINE__, "the test's process exited with status %d%s", st,
                    st == 70 ? " (FMP_EXIT_FAILURE: forkmp ended it after a failed region, "
                               "see the diagnostic above)"
                    : st == HT_EXIT_REQUIRE ? " (an HT_REQUIRE failed in a forked process)"
                                            : "");
    } else if (!rs.saw_end && !rs.saw_skip && !rs.saw_quit) {
        runner_fail(__FILE__, __LINE__,
                    "the test's process ended (status 0) without finishing its body (exit() "
                    "called in the test?)");
    }
    if (rs.saw_skip && !timed_out) {
        g_n_skipped++;
        printf("SKIPPED (%s) ", rs.skip_reason);
    }
    free(rs.buf);

    if (have_shm && list_shm(&shm_after) == 0) {
        char added[2048] = "";
        size_t o = 0;
        int nadded = 0;
        for (int i = 0; i < shm_after.n; i++) {
            if (shm_before.n && bsearch(&shm_after.v[i], shm_before.v, (size_t)shm_before.n,
                                        sizeof(char *), cmp_str))
                continue;
            nadded++;
            int w = snprintf(added + o, sizeof added - o, "%s/dev/shm/%s", o ? ", " : "",
                             shm_after.v[i]);
            if (w > 0 && (size_t)w < sizeof added - o)
                o += (size_t)w;
        }
        if (nadded)
            runner_fail(__FILE__, __LINE__,
                        "%d new shared-memory segment(s) after the test (forkmp's arena is "
                        "anonymous and must leave none): %s",
                        nadded, added);
        else
            CU_assertImplementation(CU_TRUE, 0, "", "", "", CU_FALSE);
        free_names(&shm_after);
    }
    if (have_shm)
        free_names(&shm_before);

    /* the assertions that passed in the test's processes */
    long passes = __atomic_load_n(&g_counts->passes, __ATOMIC_SEQ_CST);
    for (long i = 0; i < passes; i++)
        CU_assertImplementation(CU_TRUE, 0, "", "", "", CU_FALSE);
}

static const ht_test *find_test(const char *name)
{
    for (const ht_test *t = g_tests; t->name; t++)
        if (strcmp(t->name, name) == 0 ||
            (strncmp(t->name, "test_", 5) == 0 && strcmp(t->name + 5, name) == 0))
            return t;
    return NULL;
}

/* The one CUnit test function: runs the table entry named like CUnit's current test. */
static void trampoline(void)
{
    CU_pTest ct = CU_get_current_test();
    const ht_test *t = ct ? find_test(ct->pName) : NULL;
    if (!t) {
        runner_fail(__FILE__, __LINE__, "harness: no test named %s", ct ? ct->pName : "?");
        return;
    }
    g_n_run++;
    if (g_inline) {
        t->fn();
        return;
    }
    run_isolated(t);
}

static void usage(const char *prog, const char *suite)
{
    printf("usage: %s [--list] [--inline] [TEST...]\n"
           "  runs the CUnit suite '%s', each test in a watched subprocess\n"
           "  --list     print the tests' names\n"
           "  --inline   run the one named test in this process (no watchdog, for gdb)\n"
           "  FORKMP_TEST_TIMEOUT_SCALE=k multiplies every test's watchdog\n",
           prog, suite);
}

int ht_main(int argc, char **argv, const char *suite, const ht_test *tests)
{
    g_tests = tests;
    g_runner_pid = getpid();
    const ht_test *chosen[512];
    int nchosen = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0) {
            for (const ht_test *t = tests; t->name; t++)
                printf("%s\n", t->name);
            return 0;
        } else if (strcmp(argv[i], "--inline") == 0) {
            g_inline = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(argv[0], suite);
            return 0;
        } else {
            const ht_test *t = find_test(argv[i]);
            if (!t) {
                fprintf(stderr, "%s: no test named '%s' (see --list)\n", argv[0], argv[i]);
                return 2;
            }
            if (nchosen < 512)
                chosen[nchosen++] = t;
        }
    }
    if (g_inline && nchosen != 1) {
        fprintf(stderr, "%s: --inline runs exactly one named test\n", argv[0]);
        return 2;
    }
    if (nchosen == 0)
        for (const ht_test *t = tests; t->name && nchosen < 512; t++)
            chosen[nchosen++] = t;
    const char *scale = getenv("FORKMP_TEST_TIMEOUT_SCALE");
    if (scale && atof(scale) > 0)
        g_timeout_scale = atof(scale);

    /* orphans of every test come back here; SIGCHLD must not be ignored for waitpid */
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) != 0)
        fprintf(stderr, "harness: PR_SET_CHILD_SUBREAPER: %s (orphans will not be checked)\n",
                strerror(errno));
    if (!g_inline) {
        g_counts = mmap(NULL, sizeof *g_counts, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (g_counts == MAP_FAILED) {
            perror("harness: mmap");
            return 1;
        }
    }

    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "harness: CU_initialize_registry: %s\n", CU_get_error_msg());
        return 1;
    }
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    for (int i = 0; s && i < nchosen; i++)
        if (!CU_add_test(s, chosen[i]->name, trampoline))
            s = NULL;
    if (!s) {
        fprintf(stderr, "harness: CUnit: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_tests_failed();
    unsigned failures = CU_get_number_of_failures();
    CU_ErrorCode err = CU_get_error();
    printf("\n%s: %d test(s) run, %u failed, %d skipped\n", suite, g_n_run, failed,
           g_n_skipped);
    fflush(stdout);
    CU_cleanup_registry();
    if (failed || failures || err != CUE_SUCCESS)
        return 1;
    if (g_n_run > 0 && g_n_skipped == g_n_run)
        return 77;
    return 0;
}

/* ===================================================================== helper programs */

const char *ht_helper_path(const char *name, char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(buf, len, "tests/%s", name);
        return buf;
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    size_t el = strlen(exe);
    if (el >= 6 && strcmp(exe + el - 6, "/.libs") == 0) /* a libtool wrapper's binary */
        exe[el - 6] = 0;
    snprintf(buf, len, "%s/%s", exe, name);
    return buf;
}

typedef struct growbuf {
    char *p;
    size_t n, cap;
} growbuf;

static int grow_read(growbuf *g, int fd)
{
    if (g->cap - g->n < 65536) {
        size_t cap = g->cap ? g->cap * 2 : 131072;
        char *p = realloc(g->p, cap);
        if (!p)
            return -1;
        g->p = p;
        g->cap = cap;
    }
    ssize_t r = read(fd, g->p + g->n, g->cap - g->n - 1);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -1;
    if (r == 0)
        return 0;
    g->n += (size_t)r;
    return 1;
}

int ht_run(char *const argv[], const char *const env[], const char *stdout_file,
           double timeout_s, ht_proc *p)
{
    memset(p, 0, sizeof *p);
    int op[2] = { -1, -1 }, ep[2];
    if (!stdout_file && pipe2(op, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(ep, O_CLOEXEC) < 0) {
        int e = errno;
        if (op[0] >= 0) {
            close(op[0]);
            close(op[1]);
        }
        return -e;
    }
    fflush(NULL);
    p->t_start = ht_now();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        if (op[0] >= 0) {
            close(op[0]);
            close(op[1]);
        }
        close(ep[0]);
        close(ep[1]);
        return -e;
    }
    if (pid == 0) {
        if (stdout_file) {
            int fd = open(stdout_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0)
                _exit(127);
            dup2(fd, 1);
            close(fd);
        } else {
            dup2(op[1], 1);
        }
        dup2(ep[1], 2);
        for (int i = 0; env && env[i]; i++) {
            const char *eq = strchr(env[i], '=');
            if (eq) {
                char name[256];
                size_t nl = (size_t)(eq - env[i]) < sizeof name - 1 ? (size_t)(eq - env[i])
                                                                    : sizeof name - 1;
                memcpy(name, env[i], nl);
                name[nl] = 0;
                setenv(name, eq + 1, 1);
            } else {
                unsetenv(env[i]);
            }
        }
        execv(argv[0], argv);
        dprintf(2, "ht_run: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    p->pid = pid;
    if (op[1] >= 0)
        close(op[1]);
    close(ep[1]);
    growbuf out = { 0 }, err = { 0 };
    int out_open = op[0] >= 0, err_open = 1;
    double deadline = p->t_start + timeout_s, drain_end = 0;
    for (;;) {
        if (!p->reaped) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                p->reaped = 1;
                p->status = st;
                p->t_end = ht_now();
                /* what descendants still hold the pipes may write a little more */
                drain_end = ht_now() + HT_GRACE_SECONDS;
            }
        }
        if (p->reaped && ((!out_open && !err_open) || ht_now() >= drain_end))
            break;
        if (!p->reaped && ht_now() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &p->status, 0);
            p->reaped = 1;
            p->timed_out = 1;
            p->t_end = ht_now();
            drain_end = ht_now() + 0.2;
            continue;
        }
        struct pollfd pf[2];
        int n = 0;
        if (out_open)
            pf[n++] = (struct pollfd){ op[0], POLLIN, 0 };
        if (err_open)
            pf[n++] = (struct pollfd){ ep[0], POLLIN, 0 };
        if (n == 0) {
            ht_sleep(0.002);
            continue;
        }
        if (poll(pf, (nfds_t)n, 10) <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int isout = out_open && pf[i].fd == op[0];
            int rc = grow_read(isout ? &out : &err, pf[i].fd);
            if (rc <= 0) {
                if (isout)
                    out_open = 0;
                else
                    err_open = 0;
            }
        }
    }
    if (op[0] >= 0)
        close(op[0]);
    close(ep[0]);
    if (stdout_file) {
        FILE *f = fopen(stdout_file, "rb");
        if (f) {
            int fd = fileno(f);
            while (grow_read(&out, fd) > 0)
                ;
            fclose(f);
        }
    }
    if (!out.p)
        out.p = calloc(1, 1);
    else
        out.p[out.n] = 0;
    if (!err.p)
        err.p = calloc(1, 1);
    else
        err.p[err.n] = 0;
    p->out = out.p;
    p->out_len = out.n;
    p->err = err.p;
    p->err_len = err.n;
    return 0;
}

void ht_proc_free(ht_proc *p)
{
    free(p->out);
    free(p->err);
    p->out = p->err = NULL;
}

const char *ht_status_str(const ht_proc *p, char *buf, size_t len)
{
    char sb[32];
    if (p->timed_out)
        snprintf(buf, len, "timed out after %.1f s and was killed", p->t_end - p->t_start);
    else if (!p->reaped)
        snprintf(buf, len, "did not end");
    else if (WIFEXITED(p->status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(p->status));
    else if (WIFSIGNALED(p->status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(p->status),
                 sig_name(WTERMSIG(p->status), sb, sizeof sb));
    else
        snprintf(buf, len, "ended with status 0x%x", (unsigned)p->status);
    return buf;
}

/* ===================================================================== stderr capture */

static int g_saved_stderr = -1, g_capture_fd = -1;

void ht_capture_stderr_begin(void)
{
    fflush(stderr);
    char path[] = "/tmp/fmp-test-stderr.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        HT_FAIL("mkstemp: %s", strerror(errno));
        return;
    }
    unlink(path);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND);
    g_saved_stderr = dup(2);
    dup2(fd, 2);
    g_capture_fd = fd;
}

char *ht_capture_stderr_end(void)
{
    fflush(stderr);
    if (g_capture_fd < 0)
        return calloc(1, 1);
    dup2(g_saved_stderr, 2);
    close(g_saved_stderr);
    g_saved_stderr = -1;
    growbuf g = { 0 };
    lseek(g_capture_fd, 0, SEEK_SET);
    while (grow_read(&g, g_capture_fd) > 0)
        ;
    close(g_capture_fd);
    g_capture_fd = -1;
    if (!g.p)
        return calloc(1, 1);
    g.p[g.n] = 0;
    /* show it in the log too: it is the test's stderr */
    write_all(2, g.p, g.n);
    return g.p;
}
