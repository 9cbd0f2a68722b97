/* fault_prog WAY PLACE MODE: a forkmp program in which one member fails in WAY while the
 * rest of its team is in PLACE, in error MODE (abort or return); run by tests/test_faults.c.
 * The ways, places and the combinations that do not exist are in tests/fault_matrix.h.
 *
 * Teams have TEAM (3) members; the failing member is member 1 (of the nested team opened
 * by member 1 in PLACE nested).  Every member prints "member WHO pid P" on stdout
 * (fmp_printf), then meets a barrier, so that every pid is known before anything fails.
 * Just before it fails, the failing member prints "fail-mark pid P at T" on stderr, T
 * being CLOCK_MONOTONIC seconds (for kill9 the mark names the victim, and the process
 * that asks for the kill prints it); where the master computes, it prints "compute-end at
 * T" when it stops.  The program prints "rc WHO CALL VALUE NAME" for the forkmp calls of
 * the place (the master's, and those of members that return from theirs), and in return
 * mode "last_failure WHO TEXT" (the master, and in PLACE nested the inner masters),
 * "children-at-end N" (the master's children left, alive or zombie, once its warm members
 * are released: every member must have
 * been reaped) and "END pid P"; it then exits 0.  In abort mode forkmp ends it with status 70.
 *
 * Places, and where the failing member is when it fails:
 *   barrier   member 1 naps, then fails instead of arriving at fmp_barrier;
 *   lock      member 1 holds an fmp_lock and fails holding it (return, break and longjmp
 *             leave with the lock held); the others wait for it in fmp_lock_set;
 *   critical  member 1 is inside FMP_CRITICAL and fails there; the others queue for it;
 *   reduce    member 1 naps, then fails instead of calling fmp_reduce;
 *   loop      FMP_FOR over LOOP_ITERS iterations with fmp_dynamic(1): member 1 fails in
 *             the loop's body (break there is the loop's own usage error, FMP_EINVAL);
 *   iterate   fmp_iterate over many items: member 1 fails in its callback; return and
 *             break leave the region's block instead of calling fmp_iterate;
 *   nested    fmp_set_nested(1), an outer team of 2, each member opens a team of 2; member
 *             1 of member 1's inner team fails while the others are in the inner barrier
 *             (and member 0's inner team ends, and waits in the outer barrier);
 *   run       persistent team: member 1 fails inside fmp_team_run's body, the others wait
 *             in fmp_barrier there;
 *   between   persistent team: after a first run, member 1 fails while parked: SIGKILL
 *             from another process (kill9), or the program's SIGUSR1 handler, which the
 *             master triggers, fails in WAY; the master computes a little, then calls
 *             fmp_team_run again (which must report it), then fmp_team_destroy;
 *   last      the same after the last run: fmp_team_destroy must report it;
 *   compute   member 1 fails while the master computes COMPUTE_S seconds (in no forkmp
 *             call); member 2 waits in fmp_barrier; the master reaches it afterwards.
 * kill9: a process forked (twice, so that it is no child of the master) before anything
 * else waits for a pid on a pipe and sends it SIGKILL; its pid is printed as "killer pid P".
 * longjmp: to a sigsetjmp in the function that called the one holding the region (the
 * team); a member that lands there prints "landed pid P" and goes on with the program's
 * next parallel step, a region opened right there: forkmp must stop it at that call. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault_matrix.h"

#define TEAM 3
#define NAP 0.1              /* the others are in the place by then */
#define COMPUTE_S 0.6        /* the master's computation in PLACE compute */
#define LOOP_ITERS 20000000L /* seconds of work if nothing stopped the loop */
#define ITEMS 20000000L      /* the same for fmp_iterate */

/* Each region (team) is held by a function of its own, and the sigsetjmp is in its caller,
   as the scenario says: inlined, the landing site would share the region's frame. */
#define NOINLINE __attribute__((noinline))

static int g_way, g_place, g_return_mode;
static sigjmp_buf g_jb;
static int g_killer_fd = -1;
static pid_t *g_pids; /* shared: the persistent team's members */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static double work(long i)
{
    volatile double x = 0;
    for (int k = 0; k < 100; k++)
        x += (double)(i ^ k) * 0.5;
    return x;
}

static void mark(pid_t pid)
{
    dprintf(2, "fail-mark pid %d at %.6f\n", (int)pid, now());
}

static const char *errname(long rc)
{
    switch (rc) {
    case FMP_OK:
        return "FMP_OK";
    case FMP_EINVAL:
        return "FMP_EINVAL";
    case FMP_ENOMEM:
        return "FMP_ENOMEM";
    case FMP_EMEMBER:
        return "FMP_EMEMBER";
    case FMP_EMISMATCH:
        return "FMP_EMISMATCH";
    case FMP_EBROKEN:
        return "FMP_EBROKEN";
    case FMP_EOWNERDEAD:
        return "FMP_EOWNERDEAD";
    case FMP_ESTATE:
        return "FMP_ESTATE";
    case FMP_EEXITED:
        return "FMP_EEXITED";
    default:
        return rc < 0 ? "other" : "count";
    }
}

static void say_rc(const char *who, const char *call, long rc)
{
    fmp_printf("rc %s %s %ld %s\n", who, call, rc, errname(rc));
}

static void hello(const char *who)
{
    fmp_printf("member %s pid %d\n", who, (int)getpid());
}

/* ---------------------------------------------------------------- failing */

static void send_to_killer(pid_t pid)
{
    int v = (int)pid;
    if (write(g_killer_fd, &v, sizeof v) != (ssize_t)sizeof v)
        dprintf(2, "fault_prog: cannot reach the killer: %s\n", strerror(errno));
}

/* SIGSEGV from a real fault: a write to a page that may not be touched.  Not through NULL:
   that is undefined behaviour, which UBSan (the sanitizer build) stops with a report of
   its own before any fault happens. */
static void write_to_guard_page(void)
{
    int *volatile p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *p = 1;
}

/* Every way but return and break, which must be written in the region's block. */
static void fail_now(void)
{
    mark(getpid());
    switch (g_way) {
    case FM_SEGV:
        write_to_guard_page();
        break;
    case FM_ABORT:
        abort();
    case FM_RAISE9:
        raise(SIGKILL);
        break;
    case FM_KILL9:
        send_to_killer(getpid());
        nap(10);
        break;
    case FM_EXIT3:
        exit(3);
    case FM_UEXIT0:
        _exit(0);
    case FM_LONGJMP:
        siglongjmp(g_jb, 1);
    default:
        break;
    }
    dprintf(2, "fault_prog: member pid %d survived its failure (%s)\n", (int)getpid(),
            fm_way_names[g_way]);
    _exit(97);
}

/* In a region's block (not inside a loop of its own): return and break leave the block. */
#define FAIL_IN_BLOCK()                                                                            \
    if (g_way == FM_RETURN) {                                                                      \
        mark(getpid());                                                                            \
        return;                                                                                    \
    } else if (g_way == FM_BREAK) {                                                                \
        mark(getpid());                                                                            \
        break;                                                                                     \
    } else                                                                                         \
        fail_now()

/* Where a member that left by longjmp lands: it goes on with the program's next parallel
   step, opened right here (a frame above the region it left). */
#define LANDING_PAD()                                                                              \
    do {                                                                                           \
        dprintf(2, "landed pid %d\n", (int)getpid());                                              \
        FMP_PARALLEL(2) {                                                                          \
            fmp_printf("next step after the jump: member %d pid %d\n", fmp_thread_num(),           \
                       (int)getpid());                                                             \
        }                                                                                          \
    } while (0)

static pid_t start_killer(void)
{
    int p[2], q[2];
    if (pipe(p) != 0 || pipe(q) != 0) {
        perror("fault_prog: pipe");
        exit(2);
    }
    pid_t c = fork();
    if (c < 0) {
        perror("fault_prog: fork");
        exit(2);
    }
    if (c == 0) {
        pid_t k = fork();
        if (k == 0) {
            close(p[1]);
            close(q[0]);
            close(q[1]);
            alarm(30); /* never outlives a broken test for long */
            int v;
            if (read(p[0], &v, sizeof v) == (ssize_t)sizeof v && v > 0)
                kill((pid_t)v, SIGKILL);
            _exit(0);
        }
        if (write(q[1], &k, sizeof k) != (ssize_t)sizeof k)
            _exit(1);
        _exit(0);
    }
    close(p[0]);
    close(q[1]);
    waitpid(c, NULL, 0);
    pid_t k = -1;
    if (read(q[0], &k, sizeof k) != (ssize_t)sizeof k)
        k = -1;
    close(q[0]);
    g_killer_fd = p[1];
    printf("killer pid %d\n", (int)k);
    return k;
}

/* ---------------------------------------------------------------- places in a region */

static NOINLINE void place_wait(void) /* barrier, reduce, compute */
{
    FMP_PARALLEL(TEAM) {
        int me = fmp_thread_num();
        char who[16];
        snprintf(who, sizeof who, "%d", me);
        hello(who);
        fmp_barrier();
        if (me == 1) {
            nap(NAP);
            FAIL_IN_BLOCK();
        }
        if (g_place == FM_REDUCE) {
            double x = me, y = 0;
            say_rc(who, "fmp_reduce", fmp_reduce(&x, &y, 1, FMP_DOUBLE, FMP_SUM));
        } else if (g_place == FM_COMPUTE && me == 0) {
            volatile double x = 0;
            double end = now() + COMPUTE_S;
            while (now() < end)
                x += work((long)x);
            dprintf(2, "compute-end at %.6f\n", now());
        }
        say_rc(who, "fmp_barrier", fmp_barrier());
    }
    say_rc("0", "region", fmp_region_error());
}

static NOINLINE void place_lock(void)
{
    fmp_lock *l = fmp_lock_create();
    int *holding = fmp_shared_alloc(sizeof *holding);
    if (!l || !holding) {
        fprintf(stderr, "fault_prog: no lock\n");
        exit(2);
    }
    FMP_PARALLEL(TEAM) {
        int me = fmp_thread_num();
        char who[16];
        snprintf(who, sizeof who, "%d", me);
        hello(who);
        fmp_barrier();
        if (me == 1) {
            say_rc(who, "fmp_lock_set", fmp_lock_set(l));
            __atomic_store_n(holding, 1, __ATOMIC_SEQ_CST);
            nap(NAP); /* the others queue for the lock meanwhile */
            FAIL_IN_BLOCK();
            fmp_lock_unset(l);
        } else {
            while (!__atomic_load_n(holding, __ATOMIC_SEQ_CST))
                nap(0.001);
            say_rc(who, "fmp_lock_set", fmp_lock_set(l));
            fmp_lock_unset(l);
        }
        say_rc(who, "fmp_barrier", fmp_barrier());
    }
    say_rc("0", "region", fmp_region_error());
    fmp_lock_destroy(l);
}

static NOINLINE void place_critical(void)
{
    int *inside = fmp_shared_alloc(sizeof *inside);
    FMP_PARALLEL(TEAM) {
        int me = fmp_thread_num();
        char who[16];
        snprintf(who, sizeof who, "%d", me);
        hello(who);
        fmp_barrier();
        if (me == 1) {
            FMP_CRITICAL
            {
                __atomic_store_n(inside, 1, __ATOMIC_SEQ_CST);
                nap(NAP); /* the others queue for it meanwhile */
                if (g_way == FM_RETURN) {
                    mark(getpid());
                    return;
                }
                if (g_way == FM_BREAK) { /* out of the critical's block: its usage error */
                    mark(getpid());
                    break;
                }
                fail_now();
            }
        } else {
            while (!__atomic_load_n(inside, __ATOMIC_SEQ_CST))
                nap(0.001);
            FMP_CRITICAL
            {
                fmp_printf("member %s entered the critical section\n", who);
            }
        }
        say_rc(who, "fmp_barrier", fmp_barrier());
    }
    say_rc("0", "region", fmp_region_error());
}

static NOINLINE void place_loop(void)
{
    FMP_PARALLEL(TEAM) {
        int me = fmp_thread_num();
        char who[16];
        snprintf(who, sizeof who, "%d", me);
        hello(who);
        fmp_barrier();
        double t0 = now();
        FMP_FOR(i, 0, LOOP_ITERS, fmp_dynamic(1)) {
            work(i);
            if (me == 1 && now() - t0 > NAP) {
                if (g_way == FM_RETURN) {
                    mark(getpid());
                    return;
                }
                if (g_way == FM_BREAK) {
                    mark(getpid());
                    break; /* out of the loop's body: the loop's usage error */
                }
                fail_now();
            }
        }
        say_rc(who, "fmp_barrier", fmp_barrier());
    }
    say_rc("0", "region", fmp_region_error());
}

typedef struct cons_arg {
    int me;
    double t0;
} cons_arg;

static int produce(void *item, void *state)
{
    long *n = state;
    if (*n >= ITEMS)
        return 0;
    *(long *)item = (*n)++;
    return 1;
}

static void consume(const void *item, void *arg)
{
    cons_arg *a = arg;
    work(*(const long *)item);
    if (a->me == 1 && now() - a->t0 > NAP)
        fail_now();
}

static NOINLINE void place_iterate(void)
{
    FMP_PARALLEL(TEAM) {
        int me = fmp_thread_num();
        char who[16];
        snprintf(who, sizeof who, "%d", me);
        hello(who);
        fmp_barrier();
        if (me == 1 && (g_way == FM_RETURN || g_way == FM_BREAK)) {
            nap(NAP); /* the others consume meanwhile */
            FAIL_IN_BLOCK();
        }
        long n = 0;
        cons_arg a = {me, now()};
        long got = fmp_iterate(produce, &n, sizeof(long), consume, &a);
        say_rc(who, "fmp_iterate", got < 0 ? got : 0);
        say_rc(who, "fmp_barrier", fmp_barrier());
    }
    say_rc("0", "region", fmp_region_error());
}

/* ---------------------------------------------------------------- nested */

static NOINLINE void inner_region(int o)
{
    FMP_PARALLEL(2) {
        int i = fmp_thread_num();
        char who[16];
        snprintf(who, sizeof who, "%d.%d", o, i);
        hello(who);
        fmp_barrier();
        if (o == 1 && i == 1) {
            nap(NAP);
            FAIL_IN_BLOCK();
        }
        say_rc(who, "fmp_barrier", fmp_barrier());
    }
    char who[16];
    snprintf(who, sizeof who, "%d", o);
    say_rc(who, "inner_region", fmp_region_error());
    fmp_printf("last_failure %s %s\n", who, fmp_last_failure());
}

static NOINLINE void inner_caller(int o)
{
    if (sigsetjmp(g_jb, 1)) {
        LANDING_PAD();
        return;
    }
    inner_region(o);
}

static NOINLINE void place_nested(void)
{
    fmp_set_nested(1);
    FMP_PARALLEL(2) {
        int o = fmp_thread_num();
        char who[16];
        snprintf(who, sizeof who, "%d", o);
        hello(who);
        fmp_barrier();
        inner_caller(o);
        say_rc(who, "fmp_barrier", fmp_barrier());
    }
    say_rc("0", "region", fmp_region_error());
}

/* ---------------------------------------------------------------- persistent teams */

static void run_body(void *arg)
{
    (void)arg;
    int me = fmp_thread_num();
    char who[16];
    snprintf(who, sizeof who, "%d", me);
    g_pids[me] = getpid();
    hello(who);
    if (g_place == FM_RUN) {
        fmp_barrier();
        if (me == 1) {
            nap(NAP);
            fail_now();
        }
        say_rc(who, "fmp_barrier", fmp_barrier());
    }
}

static void on_usr1(int sig)
{
    (void)sig;
    fail_now(); /* the program's handler, run by a parked member */
}

static NOINLINE void place_team(void)
{
    g_pids = fmp_shared_alloc(TEAM * sizeof *g_pids);
    if (!g_pids) {
        fprintf(stderr, "fault_prog: no shared memory\n");
        exit(2);
    }
    if (g_place != FM_RUN && g_way != FM_KILL9) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, NULL);
    }
    fmp_team *t = fmp_team_create(TEAM);
    if (!t) {
        fprintf(stderr, "fault_prog: fmp_team_create: %s\n", strerror(errno));
        exit(2);
    }
    say_rc("0", "fmp_team_run#1", fmp_team_run(t, run_body, NULL, 0));
    if (g_place == FM_BETWEEN || g_place == FM_LAST) {
        nap(0.02); /* member 1 is back in its wait for the next run */
        if (g_way == FM_KILL9) {
            mark(g_pids[1]);
            send_to_killer(g_pids[1]);
        } else {
            kill(g_pids[1], SIGUSR1);
        }
        nap(2 * NAP); /* the master computes between runs */
        if (g_place == FM_BETWEEN)
            say_rc("0", "fmp_team_run#2", fmp_team_run(t, run_body, NULL, 0));
    }
    say_rc("0", "fmp_team_destroy", fmp_team_destroy(t));
}

/* ---------------------------------------------------------------- main */

static int count_children(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = 0;
        char *r = strrchr(buf, ')');
        char st;
        int ppid;
        if (r && sscanf(r + 1, " %c %d", &st, &ppid) == 2 && ppid == (int)getpid()) {
            printf("child left: pid %s state %c\n", e->d_name, st);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* The function that calls the one holding the region or the team: a member that leaves
   by longjmp lands here. */
static void run_place(void)
{
    static void (*const holders[FM_NPLACES])(void) = {
        [FM_BARRIER] = place_wait,  [FM_LOCK] = place_lock,    [FM_CRITICAL] = place_critical,
        [FM_REDUCE] = place_wait,   [FM_LOOP] = place_loop,    [FM_ITERATE] = place_iterate,
        [FM_NESTED] = place_nested, [FM_RUN] = place_team,     [FM_BETWEEN] = place_team,
        [FM_LAST] = place_team,     [FM_COMPUTE] = place_wait,
    };
    if (sigsetjmp(g_jb, 1)) {
        LANDING_PAD();
        return;
    }
    holders[g_place]();
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s WAY PLACE abort|return\n", argv[0]);
        return 2;
    }
    g_way = fm_lookup(fm_way_names, FM_NWAYS, argv[1]);
    g_place = fm_lookup(fm_place_names, FM_NPLACES, argv[2]);
    int mode = strcmp(argv[3], "abort") == 0 ? 0 : strcmp(argv[3], "return") == 0 ? 1 : -1;
    if (g_way < 0 || g_place < 0 || mode < 0) {
        fprintf(stderr, "fault_prog: unknown way, place or mode: %s %s %s\n", argv[1], argv[2],
                argv[3]);
        return 2;
    }
    const char *why = fm_excluded(g_way, g_place);
    if (why) {
        fprintf(stderr, "fault_prog: %s in %s does not exist: %s\n", argv[1], argv[2], why);
        return 2;
    }
    g_return_mode = mode;
    setvbuf(stdout, NULL, _IOLBF, 0);
    fmp_set_error_mode(mode ? FMP_ERRORS_RETURN : FMP_ERRORS_ABORT);
    if (g_way == FM_KILL9)
        start_killer();
    run_place();
    if (g_return_mode) {
        printf("last_failure 0 %s\n", fmp_last_failure());
        fmp_warm_release(); /* the warm members parked for a next region, if any */
        printf("children-at-end %d\n", count_children());
    }
    printf("END pid %d\n", (int)getpid());
    return 0;
}
