/* Signal and exit hooks, and what a new child is given.
 *
 * What forkmp does with signals, and what it leaves to the program:
 *   - SIGCHLD: nothing.  forkmp installs no SIGCHLD handler and never changes its
 *     disposition; a member's death is seen in its life word (wait.c), its status is
 *     read at the join through a pidfd.  A program may install its own SIGCHLD handler,
 *     ignore SIGCHLD (its children are then reaped by the kernel, members included, and
 *     forkmp reports a dead member without its exit status) or call wait()/waitpid(-1).
 *   - SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS: a recorder installed once,
 *     before the first fork, notes in the member's slot where a fault was (address, pc)
 *     or who sent the signal, then passes the signal on to what was there before (the
 *     program's or a tool's handler, such as ASan's, or the default action).  It never
 *     ends anything by itself and never runs code that is not async-signal-safe.
 *   - Parent death: a child gets SIGKILL when the master dies (PR_SET_PDEATHSIG).  That
 *     signal belongs to the thread that forked, not to the process; so when the team is
 *     created by a thread other than the main one (a persistent team made by a worker
 *     thread that then ends), the child gets SIGURG instead, and its handler ends it only
 *     if its parent process is really gone.
 *   - exit() in a member: forkmp's exit hook is registered in every child as it starts, so
 *     it runs before every handler the program registered (LIFO): it records the failure
 *     and leaves with _exit(), so that no atexit handler of the program (MPI's included)
 *     ever runs in a member.
 * forkmp is called by one thread of a process at a time. */
#include "internal.h"
#include "messages.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define PDEATH_SIG SIGURG /* a catchable parent-death signal whose default is to ignore */

static fmp__shteam *g_my_team; /* child: the team this process was forked for */
static int g_my_member;

void fmp__set_my_slot(fmp__shteam *t, int me)
{
    g_my_team = t;
    g_my_member = me;
}

/* ---------------------------------------------------------------- fatal signals */

static const int g_fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
#define N_FATAL (sizeof g_fatal / sizeof g_fatal[0])
static struct sigaction g_prev[N_FATAL]; /* what was there before the recorder */

static int fatal_index(int sig)
{
    for (size_t i = 0; i < N_FATAL; i++)
        if (g_fatal[i] == sig)
            return (int)i;
    return -1;
}

/* Note the signal in the member's slot, then hand it to what was there before. */
static void on_fatal(int sig, siginfo_t *si, void *ucv)
{
    int saved = errno;
    if (g_my_team && fmp__g.pid == (pid_t)syscall(SYS_getpid)) {
        fmp__slot *s = &g_my_team->slots[g_my_member];
        if (!atomic_load(&s->fault_sig)) { /* the first one tells the story */
            s->fault_code = si->si_code;
            s->fault_sender = si->si_code <= 0 ? si->si_pid : 0;
            s->fault_addr = (uintptr_t)si->si_addr;
#if defined(__x86_64__)
            s->fault_pc = (uintptr_t)((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
            s->fault_pc = (uintptr_t)((ucontext_t *)ucv)->uc_mcontext.pc;
#else
            s->fault_pc = 0;
#endif
            atomic_store(&s->fault_sig, sig);
        }
    }
    int i = fatal_index(sig);
    struct sigaction *p = i >= 0 ? &g_prev[i] : NULL;
    errno = saved;
    if (p && (p->sa_flags & SA_SIGINFO) && p->sa_sigaction) {
        p->sa_sigaction(sig, si, ucv);
        return;
    }
    if (p && !(p->sa_flags & SA_SIGINFO) && p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
        p->sa_handler(sig);
        return;
    }
    if (p && p->sa_handler == SIG_IGN && si->si_code <= 0)
        return; /* an ignored signal sent by kill() stays ignored */
    /* the default action: a fault re-executes and dies of it; a sent signal is raised
       again, now with the default disposition */
    signal(sig, SIG_DFL);
    if (si->si_code <= 0 || sig == SIGABRT)
        raise(sig);
}

static void install_fatal_recorder(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    for (size_t i = 0; i < N_FATAL; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fatal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(g_fatal[i], &sa, &g_prev[i]) != 0)
            memset(&g_prev[i], 0, sizeof g_prev[i]);
    }
}

/* ---------------------------------------------------------------- exit() in a member */

/* The frame the region was entered from; a hook that runs above it means the member
   left the region without passing its end (longjmp) before it called exit(). */
static uintptr_t region_frame(void)
{
    for (fmp__ctx *c = fmp__g.cur; c; c = c->parent)
        if (c->team == g_my_team && c->me == g_my_member)
            return c->frame;
    return 0;
}

static void on_process_exit(int status, void *arg)
{
    (void)arg;
    if (!fmp__g.is_child || !g_my_team || fmp__g.pid != getpid())
        return;
    fmp__shteam *t = g_my_team;
    int m = g_my_member;
    int st = atomic_load(&t->slots[m].state);
    if (st != FMP__S_RUNNING) /* leaving through forkmp already */
        fmp__child_exit(t, m, st, FMP_EXIT_FAILURE);
    char who[256];
    fmp__member_desc(who, sizeof who, t, m, (int)getpid());
    uintptr_t rf = region_frame();
    if (rf && (uintptr_t)__builtin_frame_address(0) > rf)
        fmp__team_fail(t, FMP_EEXITED, m, FMP__HOW_EXIT_CALLED, status, FMP__MSG_exit_after_jump,
                       who, status);
    else
        fmp__team_fail(t, FMP_EEXITED, m, FMP__HOW_EXIT_CALLED, status, FMP__MSG_exit_called, who,
                       status);
    fmp__child_exit(t, m, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
}

/* In the master: a program that ends while one of its regions is still open (its block
   was left by longjmp) stops that region's members with a word, rather than silently. */
static void on_master_exit(int status, void *arg)
{
    (void)status;
    (void)arg;
    if (fmp__g.is_child || fmp__aborting())
        return;
    fmp__warm_shutdown(); /* the parked pool, if any */
    fmp__warm_report();
    for (fmp__ctx *c = fmp__g.cur; c && c->parent; c = c->parent)
        if (c->team && c->me == 0 && !c->team->persistent && c->team->master_pid == getpid()) {
            FMP__SAY(region_left_open, c->team->file, c->team->line);
            fmp__team_fail(c->team, FMP_EEXITED, 0, FMP__HOW_LONGJMP, 0, NULL);
            fmp__team_reap(c->team);
        }
}

/* ---------------------------------------------------------------- parent death */

static pid_t g_parent; /* the master process of this child */

static void on_pdeath(int sig)
{
    (void)sig;
    /* the thread that forked us ended; only a parent process that is gone ends us */
    if ((pid_t)syscall(SYS_getppid) != g_parent)
        _exit(FMP_EXIT_FAILURE);
}

/* ---------------------------------------------------------------- children's environment */

static const char *const g_thread_vars[] = {
    "OMP_NUM_THREADS=1",  "OPENBLAS_NUM_THREADS=1",   "MKL_NUM_THREADS=1",
    "BLIS_NUM_THREADS=1", "VECLIB_MAXIMUM_THREADS=1", "NUMEXPR_NUM_THREADS=1",
    "GOTO_NUM_THREADS=1",
};
#define N_THREAD_VARS (sizeof g_thread_vars / sizeof g_thread_vars[0])

/* The children's environment, made by the master before it forks: its own variables
   with the thread counts above set to 1.  A child then only assigns environ (setenv in
   every child would cost it allocations and page faults at each region). */
static char **g_child_env;

static int is_thread_var(const char *e)
{
    for (size_t i = 0; i < N_THREAD_VARS; i++) {
        size_t k = (size_t)(strchr(g_thread_vars[i], '=') - g_thread_vars[i]) + 1;
        if (strncmp(e, g_thread_vars[i], k) == 0)
            return 1;
    }
    return 0;
}

/* The program's environ when g_child_env was made from it: its address, and a copy of
   its entries' addresses (a region with the same ones reuses the array: no allocation,
   no page of the heap written at every region). */
static char **g_env_seen, **g_env_at;
static size_t g_env_n;

static int env_unchanged(char **env, size_t n)
{
    return g_child_env && g_env_seen && env == g_env_at && n == g_env_n &&
           memcmp(env, g_env_seen, n * sizeof *env) == 0;
}

static void prepare_child_env(void)
{
    /* environ read once, and the copy bounded by the count: another thread's setenv may
       move the program's array to a longer one meanwhile (copying from it past the count
       overran the new array: heap corruption) */
    char **env = environ;
    size_t n = 0;
    while (env && env[n])
        n++;
    if (env_unchanged(env, n))
        return;
    /* a new array each time: in a child that masters a nested team, environ is the
       array its own parent made, which must stay as it is */
    char **p = malloc((n + N_THREAD_VARS + 1) * sizeof *p);
    char **seen = malloc((n + 1) * sizeof *seen);
    if (!p || !seen) {
        free(p);
        free(seen);
        return; /* the children keep the master's environment, and the old array */
    }
    size_t k = 0, i = 0;
    for (; i < n && env[i]; i++) {
        seen[i] = env[i];
        if (!is_thread_var(env[i]))
            p[k++] = env[i];
    }
    for (size_t v = 0; v < N_THREAD_VARS; v++)
        p[k++] = (char *)g_thread_vars[v];
    p[k] = NULL;
    if (g_child_env != environ)
        free(g_child_env);
    g_child_env = p;
    free(g_env_seen);
    g_env_seen = seen;
    g_env_at = env;
    g_env_n = i;
}

/* An OpenMP runtime already loaded reads OMP_NUM_THREADS once, at its start: a member
   tells it directly that it runs with one thread.  libgomp keeps its pool of threads
   across fork (threads the child does not have): a region of more than one thread in a
   member would wait for them for ever, so a member's OpenMP regions are made inactive
   (max-active-levels 0: one thread, whatever num_threads asks). */
static void (*g_omp_set_num_threads)(int);
static void (*g_omp_set_max_active_levels)(int);

/* The count of objects ever loaded into the process (dl_iterate_phdr's dlpi_adds). */
static int count_adds(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(unsigned long long *)data = info->dlpi_adds;
    return 1; /* the first object tells it */
}

static void find_openmp(void)
{
    /* look again only when an object was loaded since (a miss costs microseconds) */
    static unsigned long long seen = ~0ull;
    unsigned long long adds = 0;
    dl_iterate_phdr(count_adds, &adds);
    if (adds == seen)
        return;
    seen = adds;
    if (!g_omp_set_num_threads)
        g_omp_set_num_threads = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (!g_omp_set_max_active_levels)
        g_omp_set_max_active_levels =
            (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_max_active_levels");
}

void fmp__hooks_before_fork(void)
{
    static int once;
    if (!once) {
        once = 1;
        install_fatal_recorder();
        on_exit(on_master_exit, NULL);
    }
    prepare_child_env();
    find_openmp();
}

void fmp__hooks_child(pid_t parent, int creator_is_leader, int warm)
{
    g_parent = parent;
    if (warm) {
        /* a warm member: its parent-death signal was armed when the pool was made (kernel
           state, not memory: it holds), by a master with one thread */
    } else if (creator_is_leader) {
        prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL);
    } else {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_pdeath;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(PDEATH_SIG, &sa, NULL);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, PDEATH_SIG);
        pthread_sigmask(SIG_UNBLOCK, &s, NULL);
        prctl(PR_SET_PDEATHSIG, (unsigned long)PDEATH_SIG, 0UL, 0UL, 0UL);
    }
    if (!warm && getppid() != parent) /* the parent died before the signal was armed */
        _exit(FMP_EXIT_FAILURE);
    /* first in the LIFO of exit handlers: runs before any the program registered */
    on_exit(on_process_exit, NULL);
    /* threaded libraries called by a member must not oversubscribe the node */
    if (g_child_env)
        environ = g_child_env;
    if (g_omp_set_num_threads)
        g_omp_set_num_threads(1);
    if (g_omp_set_max_active_levels)
        g_omp_set_max_active_levels(0);
}

/* ---------------------------------------------------------------- the hybrid layer's hooks */

void fmp__exit_handler_again(void)
{
    /* nothing to do any more: every child registers its exit hook as it starts */
    fmp__ensure_init();
}

void fmp__set_rank(int rank)
{
    fmp__ensure_init();
    fmp__g.rank = rank;
}

void fmp__set_child_hook(void (*hook)(void))
{
    fmp__ensure_init();
    fmp__g.child_hook = hook;
}

int fmp__is_child(void)
{
    return fmp__g.is_child;
}

void fmp__set_member_flag(int *flag)
{
    /* no initialisation: a constructor of libforkmp_mpi calls it before main */
    fmp__g.member_flag = flag;
}

void fmp__member_fail(int err,
                      void (*text)(char *buf, size_t len, const char *who, const void *arg),
                      const void *arg)
{
    if (!fmp__g.is_child || !g_my_team || fmp__g.pid != getpid())
        return;
    fmp__shteam *t = g_my_team;
    int m = g_my_member;
    char who[256], msg[768];
    fmp__member_desc(who, sizeof who, t, m, (int)getpid());
    text(msg, sizeof msg, who, arg);
    fmp__team_fail(t, err, m, FMP__HOW_USAGE, 0, "%s", msg);
    fmp__child_exit(t, m, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
}
