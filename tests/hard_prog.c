/* hard_prog CASE [ARG]: one forkmp program per fault found by the review of 0.1 (the
 * reproducers of the hardening issue), for tests/test_hardening.c, which runs each under a
 * deadline and checks its exit status, stdout and stderr.
 *
 * Cases (return mode unless the name says abort):
 *   sigchld handler|ign|wait_any|wait_any_blocked
 *       after a first region the program installs its own SIGCHLD reaper, ignores
 *       SIGCHLD, or reaps with wait() in the master; member 1 then dies while the others
 *       wait in a barrier.  Prints "rc R" (the barrier's result in the master) and
 *       "region R" (fmp_region_error()).
 *   sigchld_abort ign|reaper
 *       the same in abort mode, member 1 segfaulting: the program must end with 70.
 *   sigign_zombies
 *       SIGCHLD ignored before any region; prints the zombie children after a region.
 *   pdeath_thread
 *       a persistent team created by a thread that then ends; prints "run R".
 *   lost_stdout (abort)
 *       the master prints with buffered stdout, member 1 segfaults while it computes.
 *   stdio_crash (abort)
 *       4 members print 100 lines, barrier, 100 more each; member 1 segfaults while the
 *       master computes.
 *   failure_publish [early] (abort)
 *       member 1 calls exit(3) (slowly, under LD_PRELOAD of slow_vsnprintf) while member
 *       2 is killed: the report must be whole.  "early": the master reaches the region's
 *       end while member 1 still writes its record (it must not be killed mid-write).
 *   macro_error
 *       a failing FMP_PARALLEL, then a good one: prints fmp_region_error() and
 *       fmp_last_failure() after each.
 *   nproc macro|func|team (abort unless ARG2 is "return")
 *       regions that cannot fork (the caller sets RLIMIT_NPROC).
 *   arena_as
 *       RLIMIT_AS too small for any arena, then a region (abort mode).
 *   ljcrit (abort)
 *       member 1 longjmps out of FMP_CRITICAL, then meets a barrier.
 *   for_break abort|return|serial
 *       break in an FMP_FOR body, in a team or outside a region.
 *   block_break
 *       break out of FMP_CRITICAL in a serial loop (three times: said once), then out of
 *       FMP_SINGLE in a team (return mode): prints "region R".
 *   atexit_child
 *       atexit() registered after the first region; member 1 calls exit(3).
 *   raise_segv, kill_segv
 *       member 1 gets SIGSEGV from raise(), or from the master's kill().
 *   member_exec
 *       member 1 replaces its program (execl of sleep 3) inside the region.
 *   master_exit_in_handler
 *       the master's SIGUSR1 handler calls exit(5) while the master is inside a region.
 *   longjmp_child, longjmp_child_exit, longjmp_master, longjmp_master_again
 *       a member (or the master) longjmps out of the region to main, then calls forkmp
 *       again (or returns from main; or, the master, opens the same region again, at
 *       the same depth).
 *   destroy_after_failure
 *       a persistent run fails, then fmp_team_destroy: the diagnostic is printed once.
 *   set_num_threads_big
 *       fmp_set_num_threads(100000).
 *   stdin_reader
 *       a thread blocked in fgets(stdin) (a pipe that stays open and empty) holds stdin's
 *       lock; the master buffers "before", runs 3 regions of 2 and prints
 *       " regions A B" (each member's count of regions).
 */
#define _GNU_SOURCE
#include <forkmp.h>

#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void spin_for(double s)
{
    volatile double x = 0;
    double end = now() + s;
    while (now() < end)
        for (int k = 0; k < 10000; k++)
            x += k * 0.5;
}

static void mark(void)
{
    dprintf(2, "fail-at %.6f pid %d\n", now(), (int)getpid());
}

/* SIGSEGV from a real fault: a write to a page that may not be touched.  Not through NULL:
   that is undefined behaviour, which UBSan (the sanitizer build) stops with a report of
   its own before any fault happens. */
static void write_to_guard_page(void)
{
    int *volatile p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *p = 1;
}

static void segv(void)
{
    mark();
    write_to_guard_page();
}

/* ------------------------------------------------------------------ SIGCHLD */

static void reaper(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static int case_sigchld(const char *how)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    FMP_PARALLEL(2) {
        fmp_barrier();
    }
    if (strcmp(how, "handler") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = reaper;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGCHLD, &sa, NULL);
    } else if (strcmp(how, "ign") == 0) {
        signal(SIGCHLD, SIG_IGN);
    }
    int rc = 12345;
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            nap(0.1);
            mark();
            raise(SIGKILL);
        }
        if (strncmp(how, "wait_any", 8) == 0) {
            /* the master waits for a helper of its own with wait(): it reaps member 1 */
            pid_t helper = fork();
            if (helper == 0) {
                nap(0.3);
                _exit(0);
            }
            sigset_t s, o;
            sigemptyset(&s);
            sigaddset(&s, SIGCHLD);
            if (strcmp(how, "wait_any_blocked") == 0)
                sigprocmask(SIG_BLOCK, &s, &o);
            nap(0.2);
            pid_t got = wait(NULL);
            if (strcmp(how, "wait_any_blocked") == 0)
                sigprocmask(SIG_SETMASK, &o, NULL);
            printf("wait reaped %s\n", got == helper ? "the helper" : "a member");
            waitpid(helper, NULL, 0);
        }
        int b = fmp_barrier();
        if (fmp_thread_num() == 0)
            rc = b;
    }
    printf("rc %d\nregion %d\n", rc, fmp_region_error());
    return 0;
}

static int case_sigchld_abort(const char *how)
{
    FMP_PARALLEL(2) {
        fmp_barrier();
    }
    if (strcmp(how, "ign") == 0)
        signal(SIGCHLD, SIG_IGN);
    else
        signal(SIGCHLD, reaper);
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1) {
            nap(0.2);
            segv();
        }
        fmp_barrier();
    }
    printf("AFTER REGION\n");
    return 0;
}

static int count_zombies(void)
{
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(buf, sizeof buf, f)) {
            char *r = strrchr(buf, ')');
            char st;
            int ppid;
            if (r && sscanf(r + 1, " %c %d", &st, &ppid) == 2 && ppid == (int)getpid() && st == 'Z')
                n++;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

static int case_sigign_zombies(void)
{
    signal(SIGCHLD, SIG_IGN); /* fire-and-forget children */
    FMP_PARALLEL(2) {
        fmp_barrier();
    }
    for (int i = 0; i < 3; i++)
        if (fork() == 0)
            _exit(0);
    nap(0.3);
    printf("zombies %d\n", count_zombies());
    return 0;
}

/* ------------------------------------------------------------------ threads */

static fmp_team *g_team;
static void *creator(void *a)
{
    (void)a;
    g_team = fmp_team_create(2);
    return NULL;
}

static void team_body(void *a)
{
    int *pids = a;
    (void)pids;
    fmp_barrier();
}

static int case_pdeath_thread(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    pthread_t th;
    pthread_create(&th, NULL, creator, NULL);
    pthread_join(th, NULL); /* the creating thread is gone */
    nap(0.3);
    printf("run %d\n", g_team ? fmp_team_run(g_team, team_body, NULL, 0) : -99999);
    printf("destroy %d\n", g_team ? fmp_team_destroy(g_team) : -99999);
    return 0;
}

/* ------------------------------------------------------------------ output */

static int case_lost_stdout(void)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    printf("result of phase 1: 42\n");
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            nap(0.1);
            segv();
        } else {
            printf("master computing\n");
            spin_for(0.6);
            printf("master computed\n");
        }
    }
    printf("AFTER REGION\n");
    return 0;
}

static int case_stdio_crash(void)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    printf("pre\n");
    FMP_PARALLEL(4) {
        int me = fmp_thread_num();
        for (int i = 0; i < 100; i++)
            printf("m%d A %d\n", me, i);
        fmp_barrier();
        for (int i = 0; i < 100; i++)
            printf("m%d B %d\n", me, i);
        if (me == 1) {
            nap(0.2);
            segv();
        }
        if (me == 0)
            spin_for(0.6);
        fmp_barrier();
    }
    printf("AFTER REGION\n");
    return 0;
}

static int case_failure_publish(const char *when)
{
    /* the slowed record takes 0.5 s from member 1's exit(3) */
    double master_spin = strcmp(when, "early") == 0 ? 0.2 : 1.0;
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        if (me == 1) {
            mark();
            exit(3);
        }
        if (me == 2) {
            nap(0.1);
            raise(SIGKILL);
        }
        if (me == 0)
            spin_for(master_spin);
    }
    printf("AFTER REGION\n");
    return 0;
}

static void *stdin_reader(void *arg)
{
    (void)arg;
    char line[64];
    if (fgets(line, sizeof line, stdin)) /* never: nobody writes the pipe */
        printf("read %s", line);
    return NULL;
}

static int case_stdin_reader(void)
{
    int p[2];
    if (pipe(p) != 0 || dup2(p[0], 0) < 0)
        return 2;
    pthread_t t;
    if (pthread_create(&t, NULL, stdin_reader, NULL) != 0)
        return 2;
    usleep(50000); /* in fgets, holding stdin's lock */
    printf("before");
    int *n = fmp_shared_alloc(2 * sizeof *n);
    for (int r = 0; r < 3; r++)
        FMP_PARALLEL(2) {
            __atomic_fetch_add(&n[fmp_thread_num()], 1, __ATOMIC_SEQ_CST);
        }
    printf(" regions %d %d\n", n[0], n[1]);
    fflush(stdout);
    _exit(0); /* the reader still waits */
}

static int case_macro_error(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1)
            raise(SIGKILL);
    }
    printf("after failing: %d [%s]\n", fmp_region_error(), fmp_last_failure());
    FMP_PARALLEL(2) {
    }
    printf("after succeeding: %d [%s]\n", fmp_region_error(), fmp_last_failure());
    return 0;
}

/* ------------------------------------------------------------------ regions that cannot start */

static void count_body(void *a)
{
    __atomic_fetch_add((int *)a, 1, __ATOMIC_SEQ_CST);
}

static int case_nproc(const char *kind, const char *mode)
{
    if (mode && strcmp(mode, "return") == 0)
        fmp_set_error_mode(FMP_ERRORS_RETURN);
    int *ran = fmp_shared_alloc(sizeof(int));
    if (strcmp(kind, "macro") == 0) {
        FMP_PARALLEL(8) {
            __atomic_fetch_add(ran, 1, __ATOMIC_SEQ_CST);
        }
        printf("macro ran %d region %d\n", *ran, fmp_region_error());
    } else if (strcmp(kind, "func") == 0) {
        int rc = fmp_parallel(8, count_body, ran);
        printf("func ran %d rc %d\n", *ran, rc);
    } else {
        fmp_team *t = fmp_team_create(8);
        printf("team %s\n", t ? "created" : "NULL");
    }
    printf("END\n");
    return 0;
}

static int case_arena_as(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    long kib = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmSize:", 7) == 0)
            kib = strtol(line + 7, NULL, 10);
    if (f)
        fclose(f);
    /* room for the program to go on, not for the smallest arena forkmp tries (64 MiB) */
    struct rlimit lim = {(rlim_t)kib * 1024 + (16 << 20), (rlim_t)kib * 1024 + (16 << 20)};
    if (setrlimit(RLIMIT_AS, &lim) != 0) {
        perror("setrlimit");
        return 2;
    }
    int ran = 0;
    FMP_PARALLEL(2) {
        ran++;
    }
    printf("ran %d\n", ran);
    return 0;
}

/* ------------------------------------------------------------------ criticals, loops */

static int case_ljcrit(void)
{
    FMP_PARALLEL(3) {
        jmp_buf jb;
        int me = fmp_thread_num();
        if (me == 1) {
            if (!setjmp(jb)) {
                FMP_CRITICAL
                {
                    longjmp(jb, 1);
                }
            }
        } else {
            nap(0.2);
            FMP_CRITICAL
            {
                fmp_printf("member %d in critical\n", me);
            }
        }
        fmp_barrier();
    }
    printf("AFTER REGION\n");
    return 0;
}

static int case_for_break(const char *mode)
{
    long *ran = fmp_shared_alloc(sizeof(long) * 2);
    if (strcmp(mode, "serial") == 0) {
        for (int k = 0; k < 3; k++) { /* reported once, not three times */
            long n = 0;
            FMP_FOR(i, 0, 100, fmp_static(10)) {
                if (i == 5)
                    break;
                n++;
            }
            printf("serial ran %ld\n", n);
        }
        return 0;
    }
    if (strcmp(mode, "return") == 0)
        fmp_set_error_mode(FMP_ERRORS_RETURN);
    FMP_PARALLEL(2) {
        FMP_FOR(i, 0, 100, fmp_static(10)) {
            if (i % 10 == 5)
                break;
            __atomic_fetch_add(&ran[fmp_thread_num()], 1, __ATOMIC_RELAXED);
        }
    }
    printf("region %d\n", fmp_region_error());
    return 0;
}

static int case_block_break(void)
{
    int rounds = 0;
    for (int k = 0; k < 3; k++) {
        FMP_CRITICAL
        {
            rounds++;
            break; /* meant for the for loop: ends only the critical section */
        }
    }
    printf("rounds %d\n", rounds);
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    FMP_PARALLEL(2) {
        for (int k = 0; k < 3; k++) {
            FMP_SINGLE
            {
                break;
            }
        }
    }
    printf("region %d\n", fmp_region_error());
    return 0;
}

static pid_t g_master;
static void cleanup(void)
{
    if (getpid() != g_master)
        fprintf(stderr, "cleanup ran in member %d\n", (int)getpid());
}

static int case_atexit_child(void)
{
    g_master = getpid();
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    FMP_PARALLEL(2) {
    }
    atexit(cleanup); /* e.g. a library initialised later */
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1)
            exit(3);
    }
    printf("region %d\n", fmp_region_error());
    return 0;
}

static void exit_five(int sig)
{
    (void)sig;
    exit(5);
}

static int case_master_exit_in_handler(void)
{
    signal(SIGUSR1, exit_five);
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 0)
            raise(SIGUSR1);
        fmp_barrier();
    }
    printf("after the region\n");
    return 0;
}

static int case_member_exec(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1)
            execl("/bin/sleep", "sleep", "3", (char *)NULL);
        fmp_barrier();
    }
    printf("region %d\n", fmp_region_error());
    return 0;
}

static int case_signal_sent(int by_master)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int *pid1 = fmp_shared_alloc(sizeof(int));
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            *pid1 = getpid();
            if (!by_master)
                raise(SIGSEGV);
            for (;;)
                nap(1);
        }
        if (by_master) {
            while (!__atomic_load_n(pid1, __ATOMIC_SEQ_CST))
                nap(0.001);
            nap(0.05);
            kill(*pid1, SIGSEGV);
        }
        fmp_barrier();
    }
    printf("region %d master %d\n", fmp_region_error(), (int)getpid());
    return 0;
}

/* ------------------------------------------------------------------ longjmp */

static jmp_buf g_jb;

/* not inlined: the jump goes to a setjmp in its caller (one in the same function is
   invisible to forkmp: no forkmp call then comes from above the region's frame) */
__attribute__((noinline)) static int region_with_jump(int who, int *pids)
{
    FMP_PARALLEL(2) {
        int me = fmp_thread_num();
        pids[me] = getpid();
        pids[2] = fmp_num_threads();
        fmp_barrier();
        if (me == who)
            longjmp(g_jb, 1);
        fmp_barrier();
    }
    return fmp_region_error();
}

static int case_longjmp(const char *what)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int *pids = fmp_shared_alloc(3 * sizeof(int));
    int who = strncmp(what, "longjmp_master", 14) == 0 ? 0 : 1;
    if (setjmp(g_jb)) {
        if (strcmp(what, "longjmp_child_exit") == 0)
            return 0; /* the member returns from main: exit(0) */
        if (strcmp(what, "longjmp_master_again") == 0) {
            /* the same region again, at the same depth: its block's variable where the
               abandoned region's was */
            pids[2] = 0;
            int rc = region_with_jump(-1, pids);
            printf("after the jump: again %d, %d members, level %d, region %d\n", rc, pids[2],
                   fmp_get_level(), fmp_region_error());
            return 0;
        }
        /* back in main: the program goes on with another collective call */
        int rc = fmp_barrier();
        printf("after the jump: pid %d barrier %d region %d\n", (int)getpid(), rc,
               fmp_region_error());
        return 0;
    }
    int rc = region_with_jump(who, pids);
    printf("region returned %d in pid %d\n", rc, (int)getpid());
    return 0;
}

/* ------------------------------------------------------------------ persistent teams */

static void dying_body(void *a)
{
    (void)a;
    if (fmp_thread_num() == 1)
        raise(SIGKILL);
    fmp_barrier();
}

static int case_destroy_after_failure(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    fmp_team *t = fmp_team_create(2);
    printf("run %d\n", fmp_team_run(t, dying_body, NULL, 0));
    printf("run again %d\n", fmp_team_run(t, dying_body, NULL, 0));
    printf("destroy %d\n", fmp_team_destroy(t));
    return 0;
}

static int case_set_num_threads_big(void)
{
    int before = fmp_get_max_threads();
    fmp_set_num_threads(100000);
    printf("max threads %d (before %d)\n", fmp_get_max_threads(), before);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CASE [ARG]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *c = argv[1], *a = argc > 2 ? argv[2] : "";
    if (strcmp(c, "sigchld") == 0)
        return case_sigchld(a);
    if (strcmp(c, "sigchld_abort") == 0)
        return case_sigchld_abort(a);
    if (strcmp(c, "sigign_zombies") == 0)
        return case_sigign_zombies();
    if (strcmp(c, "pdeath_thread") == 0)
        return case_pdeath_thread();
    if (strcmp(c, "lost_stdout") == 0)
        return case_lost_stdout();
    if (strcmp(c, "stdio_crash") == 0)
        return case_stdio_crash();
    if (strcmp(c, "failure_publish") == 0)
        return case_failure_publish(a);
    if (strcmp(c, "macro_error") == 0)
        return case_macro_error();
    if (strcmp(c, "stdin_reader") == 0)
        return case_stdin_reader();
    if (strcmp(c, "nproc") == 0)
        return case_nproc(a, argc > 3 ? argv[3] : NULL);
    if (strcmp(c, "arena_as") == 0)
        return case_arena_as();
    if (strcmp(c, "ljcrit") == 0)
        return case_ljcrit();
    if (strcmp(c, "for_break") == 0)
        return case_for_break(a);
    if (strcmp(c, "block_break") == 0)
        return case_block_break();
    if (strcmp(c, "atexit_child") == 0)
        return case_atexit_child();
    if (strcmp(c, "master_exit_in_handler") == 0)
        return case_master_exit_in_handler();
    if (strcmp(c, "member_exec") == 0)
        return case_member_exec();
    if (strcmp(c, "raise_segv") == 0)
        return case_signal_sent(0);
    if (strcmp(c, "kill_segv") == 0)
        return case_signal_sent(1);
    if (strncmp(c, "longjmp_", 8) == 0)
        return case_longjmp(c);
    if (strcmp(c, "destroy_after_failure") == 0)
        return case_destroy_after_failure();
    if (strcmp(c, "set_num_threads_big") == 0)
        return case_set_num_threads_big();
    fprintf(stderr, "hard_prog: unknown case %s\n", c);
    return 2;
}
