/* Team lifecycle: fork, join, failure detection, and the FMP_PARALLEL regions.
 *
 * Fork hazards handled here: stdio is flushed before every fork; a child sets
 * PR_SET_PDEATHSIG and re-checks its parent; children leave with _exit() (also when
 * user code calls exit(): an on_exit() handler catches it); the region macro's
 * cleanup catches a child leaving the block by break/goto/return; the master reaps its
 * own children's pids only, never waitpid(-1).
 *
 * Failure detection: the master's SIGCHLD handler peeks at its children with
 * waitid(WNOWAIT) (async-signal-safe, reaps nothing), records the first failure in
 * the team's control block, marks the team broken and futex-wakes every waiter.  In
 * abort mode, when the master is not inside a forkmp wait (it is computing), the
 * handler itself prints the diagnostic and ends the process, so a crash ends the
 * program within moments rather than at the next synchronisation point. */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "topo.h"

/* ---------------------------------------------------------------- registry */
/* Teams this process masters and whose children are alive: read by the handler. */
#define MAX_REG 64
static fmp__shteam *volatile g_reg[MAX_REG];
static struct sigaction g_old_chld;
static int g_handler_installed;
static fmp__shteam *g_my_team; /* child: the team this process was forked for */
static int g_my_member;
static char g_last_failure[sizeof(((fmp__failure *)0)->msg)];

static void block_chld(sigset_t *old)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &s, old);
}

static void restore_mask(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int reg_add(fmp__shteam *t)
{
    for (int i = 0; i < MAX_REG; i++)
        if (!g_reg[i]) {
            g_reg[i] = t;
            return 0;
        }
    return -EAGAIN;
}

static void reg_remove(fmp__shteam *t)
{
    sigset_t old;
    block_chld(&old);
    for (int i = 0; i < MAX_REG; i++)
        if (g_reg[i] == t)
            g_reg[i] = NULL;
    restore_mask(&old);
}

/* ---------------------------------------------------------------- async-safe text */
typedef struct {
    char *b;
    size_t n, cap;
} sbuf;

static void put_s(sbuf *s, const char *str)
{
    while (str && *str && s->n + 1 < s->cap)
        s->b[s->n++] = *str++;
    s->b[s->n] = 0;
}

static void put_u(sbuf *s, unsigned long v, unsigned base)
{
    char tmp[32];
    int i = 0;
    do {
        tmp[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v && i < 31);
    if (base == 16)
        put_s(s, "0x");
    while (i > 0 && s->n + 1 < s->cap)
        s->b[s->n++] = tmp[--i];
    s->b[s->n] = 0;
}

static void put_d(sbuf *s, long v)
{
    if (v < 0) {
        put_s(s, "-");
        put_u(s, (unsigned long)(-(v + 1)) + 1, 10);
    } else {
        put_u(s, (unsigned long)v, 10);
    }
}

static void put_sig(sbuf *s, int sig)
{
    put_d(s, sig);
    const char *ab = sigabbrev_np(sig);
    if (ab) {
        put_s(s, " (SIG");
        put_s(s, ab);
        put_s(s, ")");
    }
}

/* "rank 3: " when the hybrid layer knows the rank */
static void put_prefix(sbuf *s)
{
    if (fmp__g.rank >= 0) {
        put_s(s, "rank ");
        put_d(s, fmp__g.rank);
        put_s(s, ": ");
    }
}

static void put_member(sbuf *s, fmp__shteam *t, int m, int pid)
{
    put_prefix(s);
    put_s(s, "member ");
    put_d(s, m);
    put_s(s, " (pid ");
    put_d(s, pid);
    put_s(s, ") of the team of ");
    put_d(s, t->n);
    put_s(s, t->persistent ? " created at " : " opened at ");
    put_s(s, t->file);
    put_s(s, ":");
    put_d(s, t->line);
}

/* ---------------------------------------------------------------- failures */

void fmp__wake_all(fmp__shteam *t)
{
    fmp__futex_wake(&t->broken, INT_MAX);
    fmp__futex_wake(&t->go, INT_MAX);
    fmp__futex_wake(&t->bar_gen, INT_MAX);
    fmp__futex_wake(&t->run_gen, INT_MAX);
    for (int i = 0; i < FMP__RING; i++)
        fmp__futex_wake(&t->ring[i].wake, INT_MAX);
}

/* Claim the failure record: 1 when the caller writes it. */
static int failure_claim(fmp__shteam *t)
{
    int z = 0;
    return atomic_compare_exchange_strong(&t->failure.set, &z, 1);
}

static void failure_publish(fmp__shteam *t)
{
    atomic_store(&t->failure.set, 2);
    atomic_store(&t->broken, 1);
    fmp__wake_all(t);
}

int fmp__team_fail(fmp__shteam *t, int err, int member, int how, int code, const char *fmt,
                   ...)
{
    if (!t)
        return err;
    if (failure_claim(t)) {
        fmp__failure *f = &t->failure;
        f->err = err;
        f->member = member;
        f->pid = member >= 0 ? atomic_load(&t->slots[member].pid) : -1;
        f->how = how;
        f->code = code;
        int off = 0;
        if (fmp__g.rank >= 0)
            off = snprintf(f->msg, sizeof f->msg, "rank %d: ", fmp__g.rank);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->msg + off, sizeof f->msg - (size_t)off, fmt, ap);
        va_end(ap);
    }
    failure_publish(t);
    return err;
}

/* Members forked before fmp_mpi_init() do not know the rank: the master adds it. */
static void add_rank_prefix(fmp__shteam *t)
{
    if (fmp__g.rank < 0 || strncmp(t->failure.msg, "rank ", 5) == 0)
        return;
    char pre[32];
    int k = snprintf(pre, sizeof pre, "rank %d: ", fmp__g.rank);
    size_t cap = sizeof t->failure.msg, len = strnlen(t->failure.msg, cap - 1);
    if (len + (size_t)k >= cap)
        len = cap - 1 - (size_t)k;
    memmove(t->failure.msg + k, t->failure.msg, len);
    memcpy(t->failure.msg, pre, (size_t)k);
    t->failure.msg[len + (size_t)k] = 0;
}

/* End the process after a failure of team t (abort mode), from normal context. */
static __attribute__((noreturn)) void abort_now(fmp__shteam *t)
{
    fmp__flush_stdio();
    fflush(NULL);
    add_rank_prefix(t);
    FMP__SAY(member_failed, t->failure.msg);
    /* our children die with us (PR_SET_PDEATHSIG); kill and reap them to be quick */
    for (int i = 0; i < MAX_REG; i++) {
        fmp__shteam *r = g_reg[i];
        if (!r)
            continue;
        for (int m = 1; m < r->n; m++) {
            int pid = atomic_load(&r->slots[m].pid);
            if (pid > 0 && atomic_load(&r->slots[m].state) != FMP__S_REAPED)
                kill(pid, SIGKILL);
        }
    }
    if (fmp__g.is_child)
        _exit(FMP_EXIT_FAILURE);
    exit(FMP_EXIT_FAILURE);
}

/* The same from the signal handler: write(2), kill, _exit. */
static void abort_from_handler(fmp__shteam *t)
{
    char nl = '\n';
    fmp__write_all(2, "forkmp: ", 8);
    if (fmp__g.rank >= 0 && memcmp(t->failure.msg, "rank ", 5) != 0) {
        char rb[32];
        sbuf b = { rb, 0, sizeof rb };
        put_prefix(&b);
        fmp__write_all(2, rb, b.n);
    }
    fmp__write_all(2, t->failure.msg, strlen(t->failure.msg));
    fmp__write_all(2, &nl, 1);
    for (int i = 0; i < MAX_REG; i++) {
        fmp__shteam *r = g_reg[i];
        if (!r)
            continue;
        for (int m = 1; m < r->n; m++) {
            int pid = atomic_load(&r->slots[m].pid);
            if (pid > 0 && atomic_load(&r->slots[m].state) != FMP__S_REAPED) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
            }
        }
    }
    _exit(FMP_EXIT_FAILURE);
}

/* A child of t (member m) has ended; si describes how.  Async-signal-safe. */
static void note_exit(fmp__shteam *t, int m, const siginfo_t *si)
{
    fmp__slot *s = &t->slots[m];
    int st = atomic_load(&s->state);
    if (st != FMP__S_RUNNING)
        return; /* DONE: a normal end; ABANDONED/FAILED: already recorded */
    if (!atomic_compare_exchange_strong(&s->state, &st, FMP__S_FAILED))
        return;
    if (failure_claim(t)) {
        fmp__failure *f = &t->failure;
        sbuf b = { f->msg, 0, sizeof f->msg };
        put_member(&b, t, m, si->si_pid);
        f->member = m;
        f->pid = si->si_pid;
        if (si->si_code == CLD_EXITED) {
            f->err = FMP_EMEMBER;
            f->how = FMP__HOW_EXITED;
            f->code = si->si_status;
            put_s(&b, " exited with status ");
            put_d(&b, si->si_status);
            put_s(&b, si->si_status == FMP_EXIT_FAILURE
                          ? " after a failure of its own (see above)"
                          : " before the end of the region (_exit() called in the region?)");
        } else {
            f->err = FMP_EMEMBER;
            f->how = FMP__HOW_SIGNAL;
            f->code = si->si_status;
            put_s(&b, " was killed by signal ");
            put_sig(&b, si->si_status);
            if (atomic_load(&s->fault_sig) == si->si_status) {
                put_s(&b, " at address ");
                put_u(&b, (unsigned long)s->fault_addr, 16);
                put_s(&b, ", pc ");
                put_u(&b, (unsigned long)s->fault_pc, 16);
            }
            if (si->si_code == CLD_DUMPED)
                put_s(&b, " (core dumped)");
        }
    }
    failure_publish(t);
}

static void check_team(fmp__shteam *t)
{
    for (int m = 1; m < t->n; m++) {
        int pid = atomic_load(&t->slots[m].pid);
        if (pid <= 0 || atomic_load(&t->slots[m].state) != FMP__S_RUNNING)
            continue;
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
            note_exit(t, m, &si);
    }
}

static void on_sigchld(int sig, siginfo_t *info, void *uc)
{
    int saved = errno;
    for (int i = 0; i < MAX_REG; i++) {
        fmp__shteam *t = g_reg[i];
        if (!t)
            continue;
        check_team(t);
        if (atomic_load(&t->broken) && atomic_load(&t->failure.set) == 2 &&
            fmp__g.error_mode == FMP_ERRORS_ABORT && !atomic_load(&fmp__g.in_wait))
            abort_from_handler(t);
    }
    errno = saved;
    /* chain to the program's own handler: it may have children of its own */
    if ((g_old_chld.sa_flags & SA_SIGINFO) && g_old_chld.sa_sigaction)
        g_old_chld.sa_sigaction(sig, info, uc);
    else if (!(g_old_chld.sa_flags & SA_SIGINFO) && g_old_chld.sa_handler != SIG_DFL &&
             g_old_chld.sa_handler != SIG_IGN)
        g_old_chld.sa_handler(sig);
}

static void install_handler(void)
{
    if (g_handler_installed)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigchld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, &g_old_chld);
    g_handler_installed = 1;
}

/* Called by waits on a timeout: the safety net behind SIGCHLD. */
void fmp__poll_children(void)
{
    sigset_t old;
    block_chld(&old);
    for (int i = 0; i < MAX_REG; i++)
        if (g_reg[i])
            check_team(g_reg[i]);
    restore_mask(&old);
}

/* ---------------------------------------------------------------- in a child */

/* Fatal signals in a member: note where, then die of the signal as before. */
static void on_fatal(int sig, siginfo_t *si, void *ucv)
{
    if (g_my_team) {
        fmp__slot *s = &g_my_team->slots[g_my_member];
        s->fault_addr = (uintptr_t)si->si_addr;
#if defined(__x86_64__)
        ucontext_t *uc = ucv;
        s->fault_pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#else
        (void)ucv;
        s->fault_pc = 0;
#endif
        atomic_store(&s->fault_sig, sig);
    }
    /* SA_RESETHAND: returning re-runs the faulting instruction, which now kills */
    if (si->si_code <= 0) /* sent by kill() or raise(): re-raise with the default action */
        raise(sig);
}

/* Installed once, in the first master, before its first fork: dispositions survive fork,
   so children have them without a system call.  In a process that is no member the
   handler only re-raises (g_my_team is NULL there). */
static void install_fatal_handlers(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        sigaction(sigs[i], NULL, &old);
        if (old.sa_handler == SIG_DFL) /* leave the program's own handlers alone */
            sigaction(sigs[i], &sa, NULL);
    }
}

void fmp__set_my_slot(fmp__shteam *t, int me)
{
    g_my_team = t;
    g_my_member = me;
}

/* exit() called by user code in a child: report it and leave before any other
   exit handler (MPI's among them) runs. */
static void on_process_exit(int status, void *arg)
{
    (void)arg;
    if (!fmp__g.is_child || !g_my_team || fmp__g.pid != getpid())
        return;
    fmp__shteam *t = g_my_team;
    int m = g_my_member;
    fmp__team_fail(t, FMP_EEXITED, m, FMP__HOW_EXIT_CALLED, status,
                   "member %d (pid %d) of the team of %d %s at %s:%d called exit(%d) inside "
                   "the region (leave a region's block normally, or use fmp_barrier's errors)",
                   m, (int)getpid(), t->n, t->persistent ? "created" : "opened", t->file, t->line,
                   status);
    fmp__child_exit(t, m, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
}

static void register_exit_handler(void)
{
    static int done;
    if (!done) {
        on_exit(on_process_exit, NULL);
        done = 1;
    }
}

void fmp__exit_handler_again(void)
{
    fmp__ensure_init();
    on_exit(on_process_exit, NULL);
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

void fmp__child_exit(fmp__shteam *t, int me, int state, int status)
{
    fflush(NULL);
    if (t)
        atomic_store(&t->slots[me].state, state);
    _exit(status);
}

static const char *const g_thread_vars[] = {
    "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1", "BLIS_NUM_THREADS=1",
    "VECLIB_MAXIMUM_THREADS=1", "NUMEXPR_NUM_THREADS=1", "GOTO_NUM_THREADS=1",
};
#define N_THREAD_VARS (sizeof g_thread_vars / sizeof g_thread_vars[0])

/* The children's environment, made by the master before it forks: its own variables
   with the thread counts above set to 1.  A child then only assigns environ (setenv in
   every child would cost it allocations and page faults at each region). */
static char **g_child_env;

static int is_thread_var(const char *e)
{
    for (size_t i = 0; i < N_THREAD_VARS; i++) {
        size_t k = strchr(g_thread_vars[i], '=') - g_thread_vars[i] + 1;
        if (strncmp(e, g_thread_vars[i], k) == 0)
            return 1;
    }
    return 0;
}

static void prepare_child_env(void)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    /* a new array each time: in a child that masters a nested team, environ is the
       array its own parent made, which must stay as it is */
    char **p = malloc((n + N_THREAD_VARS + 1) * sizeof *p);
    if (!p)
        return; /* the children keep the master's environment, and the old array */
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        if (!is_thread_var(*e))
            p[k++] = *e;
    for (size_t i = 0; i < N_THREAD_VARS; i++)
        p[k++] = (char *)g_thread_vars[i];
    p[k] = NULL;
    if (g_child_env != environ)
        free(g_child_env);
    g_child_env = p;
}

static void child_start(fmp__shteam *t, int m, pid_t parent, const sigset_t *mask)
{
    fmp__g.is_child = 1;
    fmp__g.pid = getpid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before PDEATHSIG was armed */
        _exit(FMP_EXIT_FAILURE);
    for (int i = 0; i < MAX_REG; i++) /* the parent's teams are not this process's */
        g_reg[i] = NULL;
    g_my_team = t;
    g_my_member = m;
    /* threaded libraries called by a member must not oversubscribe the node */
    if (g_child_env)
        environ = g_child_env;
    atomic_store(&t->slots[m].pid, (int)getpid());
    restore_mask(mask);
    if (fmp__g.child_hook)
        fmp__g.child_hook();
}

/* ---------------------------------------------------------------- team blocks */

const char *fmp__kind_name(int kind)
{
    switch (kind) {
    case FMP__K_FOR: return "FMP_FOR";
    case FMP__K_FOR_END: return "the end of FMP_FOR";
    case FMP__K_BARRIER: return "fmp_barrier";
    case FMP__K_SINGLE: return "FMP_SINGLE/fmp_single";
    case FMP__K_SINGLE_END: return "the end of FMP_SINGLE";
    case FMP__K_REDUCE: return "fmp_reduce";
    case FMP__K_GATHER: return "fmp_gather";
    case FMP__K_ITERATE: return "fmp_iterate";
    case FMP__K_REGION_END: return "the end of the region";
    case FMP__K_MPI: return "an fmp_mpi_* call";
    default: return "no construct";
    }
}

/* What a failed start leaves undone, for messages. */
static const char *outcome(const char *what)
{
    return strncmp(what, "fmp_team_create", 15) == 0 ? "no team was created"
                                                     : "the region was not run";
}

int fmp__team_size(fmp__ctx *parent, int nprocs, int cond, const char *what, const char *file,
                   int line, int *out)
{
    if (nprocs < 0) {
        FMP__SAY(region_size, what, file, line, nprocs, "negative", outcome(what));
        return FMP_EINVAL;
    }
    if (nprocs > FMP__MAX_TEAM) {
        FMP__SAY(region_size, what, file, line, nprocs,
                 "absurd (forkmp forks at most 4096 members)", outcome(what));
        return FMP_EINVAL;
    }
    int n = nprocs;
    if (!cond || parent->active_level >= parent->max_active_levels) {
        n = 1;
    } else if (n == 0) {
        n = parent->nthreads_var > 0 ? parent->nthreads_var : fmp__affinity_count();
    }
    /* the thread limit counts every process of this rank's nested teams */
    long procs = 1;
    for (fmp__ctx *c = parent; c; c = c->parent)
        procs *= c->n;
    long cap = fmp__g_icv.thread_limit / procs;
    if (cap < 1)
        cap = 1;
    if (n > cap)
        n = (int)cap;
    if (n > FMP__MAX_TEAM)
        n = FMP__MAX_TEAM;
    *out = n;
    return 0;
}

fmp__shteam *fmp__team_alloc(int n, fmp__ctx *parent, const char *file, int line)
{
    size_t bytes = sizeof(fmp__shteam) + (size_t)n * sizeof(fmp__slot);
    fmp__shteam *t = fmp__arena_alloc(bytes);
    if (!t)
        return NULL;
    t->n = n;
    t->level = parent->level + 1;
    t->active_level = parent->active_level + (n > 1);
    t->master_pid = getpid();
    t->file = file;
    t->line = line;
    for (int i = 0; i < FMP__RING; i++)
        atomic_store(&t->ring[i].ticket, 3u * (uint64_t)i);
    int procs = fmp__affinity_count();
    t->spin = fmp__g_icv.spin_count;
    if (n > procs && t->spin > 100) /* more members than cores: sleep almost at once */
        t->spin = 100;
    atomic_store(&t->slots[0].pid, (int)getpid());
    for (int m = 0; m < n; m++)
        atomic_store(&t->slots[m].state, FMP__S_RUNNING);
    return t;
}

void fmp__team_free(fmp__shteam *t)
{
    if (!t)
        return;
    for (int m = 0; m < t->n; m++)
        for (int p = 0; p < 2; p++)
            fmp__arena_free(t->slots[m].scratch[p]);
    fmp__arena_free(t->arg);
    fmp__arena_free(t->result[0]);
    fmp__arena_free(t->result[1]);
    fmp__arena_free(t);
}

void fmp__ctx_enter(fmp__ctx *c, fmp__ctx *parent, fmp__shteam *t, int me, int n)
{
    memset(c, 0, sizeof *c);
    c->team = n > 1 ? t : NULL;
    c->me = me;
    c->n = n;
    c->level = parent->level + 1;
    c->active_level = parent->active_level + (n > 1);
    int lvl = c->level;
    if (fmp__g_icv.nthreads_len > lvl)
        c->nthreads_var = fmp__g_icv.nthreads[lvl];
    else
        c->nthreads_var = parent->nthreads_var;
    c->max_active_levels = parent->max_active_levels;
    c->parent = parent;
    fmp__g.cur = c;
}

int fmp__team_fork(fmp__shteam *t, const char *what, const char *file, int line)
{
    int n = t->n;
    fmp__check_oversubscription(n);
    fmp__topo_prepare(n);
    install_handler();
    install_fatal_handlers();
    register_exit_handler();
    prepare_child_env();
    fflush(NULL); /* nothing buffered may be printed twice */
    sigset_t old;
    block_chld(&old);
    if (reg_add(t) < 0) {
        restore_mask(&old);
        FMP__SAY(fork_failed, what, file, line, 1, "too many live teams in this process", "",
                 outcome(what));
        return -EAGAIN;
    }
    pid_t me = getpid();
    for (int m = 1; m < n; m++) {
        pid_t pid = fork();
        if (pid == 0) {
            child_start(t, m, me, &old);
            /* no body starts before the whole team exists: a failed fork of a later
               member must leave no trace of the region */
            if (fmp__wait_change(t, &t->go, 0, &t->go_sleepers) != 0)
                fmp__child_exit(t, m, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
            return m;
        }
        if (pid < 0) {
            int e = errno;
            for (int k = 1; k < m; k++) {
                int p = atomic_load(&t->slots[k].pid);
                atomic_store(&t->slots[k].state, FMP__S_REAPED);
                kill(p, SIGKILL);
                while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
                    ;
            }
            for (int k = m; k < n; k++)
                atomic_store(&t->slots[k].state, FMP__S_REAPED);
            for (int i = 0; i < MAX_REG; i++)
                if (g_reg[i] == t)
                    g_reg[i] = NULL;
            restore_mask(&old);
            FMP__SAY(fork_failed, what, file, line, m, strerror(e),
                     e == EAGAIN ? " (the process limit, `ulimit -u` / RLIMIT_NPROC?)" : "",
                     outcome(what));
            return -e;
        }
        atomic_store(&t->slots[m].pid, (int)pid);
        fmp__bind_child(pid, t->level, m, n);
    }
    atomic_store(&t->go, 1);
    if (atomic_load(&t->go_sleepers))
        fmp__futex_wake(&t->go, INT_MAX);
    restore_mask(&old);
    return 0;
}

int fmp__team_reap(fmp__shteam *t)
{
    atomic_fetch_add(&fmp__g.in_wait, 1);
    if (atomic_load(&t->broken)) {
        for (int m = 1; m < t->n; m++) {
            int pid = atomic_load(&t->slots[m].pid);
            int st = atomic_load(&t->slots[m].state);
            if (pid > 0 && st != FMP__S_DONE && st != FMP__S_REAPED)
                kill(pid, SIGKILL);
        }
    }
    for (int m = 1; m < t->n; m++) {
        int pid = atomic_load(&t->slots[m].pid);
        if (pid <= 0 || atomic_load(&t->slots[m].state) == FMP__S_REAPED)
            continue;
        /* reap and look in one call; SIGCHLD is blocked meanwhile, so that the handler
           never peeks at a pid that is already reaped */
        siginfo_t si;
        memset(&si, 0, sizeof si);
        sigset_t old;
        block_chld(&old);
        while (waitid(P_PID, (id_t)pid, &si, WEXITED) < 0 && errno == EINTR)
            ;
        if (si.si_pid == pid && !atomic_load(&t->broken))
            note_exit(t, m, &si); /* a member that ended outside the handler's view */
        atomic_store(&t->slots[m].state, FMP__S_REAPED);
        restore_mask(&old);
    }
    reg_remove(t);
    atomic_fetch_sub(&fmp__g.in_wait, 1);
    if (atomic_load(&t->failure.set) == 2)
        return t->failure.err;
    return atomic_load(&t->broken) ? FMP_EBROKEN : 0;
}

const char *fmp_last_failure(void)
{
    return g_last_failure;
}

int fmp__team_report(fmp__shteam *t, int err)
{
    if (!err)
        return 0;
    if (atomic_load(&t->failure.set) == 2) {
        add_rank_prefix(t);
        snprintf(g_last_failure, sizeof g_last_failure, "%s", t->failure.msg);
        if (fmp__g.error_mode == FMP_ERRORS_ABORT)
            abort_now(t);
        FMP__SAY(member_failed, t->failure.msg);
    }
    return err;
}

void fmp__broken_in_construct(fmp__ctx *c)
{
    fmp__shteam *t = c->team;
    if (c->me != 0)
        fmp__child_exit(t, c->me, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
    /* the master goes on to the end of the region, where the join reports; in abort
       mode it stops here */
    if (t && fmp__g.error_mode == FMP_ERRORS_ABORT && atomic_load(&t->failure.set) == 2) {
        fmp__team_reap(t);
        abort_now(t);
    }
}

int fmp__usage_error(fmp__ctx *c, int err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->team) {
        FMP__SAY(usage, msg);
        return err;
    }
    fmp__team_fail(c->team, err, c->me, FMP__HOW_USAGE, 0, "%s", msg);
    return err;
}

/* ---------------------------------------------------------------- regions */

static void region_end(fmp__region *r, int normal);

fmp__region fmp__region_begin(int nprocs, int cond, const char *file, int line)
{
    fmp__region r = { NULL, 2, 0 };
    fmp__ctx *parent = fmp__cur();
    int n;
    r.err = fmp__team_size(parent, nprocs, cond, "FMP_PARALLEL", file, line, &n);
    if (r.err)
        return r;
    fmp__ctx *c = malloc(sizeof *c);
    if (!c) {
        r.err = FMP_ENOMEM;
        return r;
    }
    fmp__shteam *t = NULL;
    if (n > 1) {
        t = fmp__team_alloc(n, parent, file, line);
        if (!t) {
            FMP__SAY(team_memory, "FMP_PARALLEL", file, line, outcome("FMP_PARALLEL"));
            free(c);
            r.err = FMP_ENOMEM;
            return r;
        }
        int m = fmp__team_fork(t, "FMP_PARALLEL", file, line);
        if (m < 0) {
            fmp__team_free(t);
            free(c);
            r.err = m;
            return r;
        }
        fmp__ctx_enter(c, parent, t, m, n);
        fmp__bind_member(c->level, m, n);
        if (fmp__g_icv.display_affinity)
            fmp__display_affinity(c->level, m, n);
    } else {
        fmp__ctx_enter(c, parent, NULL, 0, 1);
    }
    r.ctx = c;
    r.state = 0;
    return r;
}

int fmp__region_step(fmp__region *r)
{
    if (r->state == 0) {
        r->state = 1;
        return 1;
    }
    if (r->state == 1)
        region_end(r, 1);
    return 0;
}

void fmp__region_cleanup(fmp__region *r)
{
    if (r->state == 1)
        region_end(r, 0); /* the block was left by break, goto or return */
}

static void region_end(fmp__region *r, int normal)
{
    fmp__ctx *c = r->ctx;
    fmp__shteam *t = c->team;
    r->state = 2;
    if (!t) {
        fmp__g.cur = c->parent;
        free(c);
        return;
    }
    if (c->me != 0) {
        /* a child: never runs the code after the region */
        if (!normal) {
            fmp__team_fail(t, FMP_EEXITED, c->me, FMP__HOW_LEFT_BLOCK, 0,
                           "member %d (pid %d) of the team of %d opened at %s:%d left the "
                           "region's block by break, goto or return",
                           c->me, (int)getpid(), t->n, t->file, t->line);
            fmp__child_exit(t, c->me, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
        }
        int err = fmp__barrier(c, FMP__K_REGION_END, t->file, t->line);
        if (err)
            fmp__child_exit(t, c->me, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
        fmp__child_exit(t, c->me, FMP__S_DONE, 0);
    }
    /* the master waits for the children to exit anyway: it sleeps at the end barrier
       rather than spin while they may still need the CPU to start */
    t->spin = 0;
    if (!atomic_load(&t->broken))
        fmp__barrier(c, FMP__K_REGION_END, t->file, t->line);
    int err = fmp__team_reap(t);
    fmp__g.cur = c->parent;
    free(c);
    r->err = fmp__team_report(t, err);
    fmp__team_free(t);
}

int fmp__parallel_at(int nprocs, int cond, void (*body)(void *), void *arg, const char *file,
                     int line)
{
    if (!body) {
        FMP__SAY(usage, "fmp_parallel: body is NULL");
        return FMP_EINVAL;
    }
    fmp__region r = fmp__region_begin(nprocs, cond, file, line);
    while (fmp__region_step(&r))
        body(arg);
    return r.err;
}

int fmp__parallel_fl(int nprocs, void (*body)(void *), void *arg, const char *file, int line)
{
    return fmp__parallel_at(nprocs, 1, body, arg, file, line);
}

int(fmp_parallel_if)(int nprocs, int cond, void (*body)(void *), void *arg)
{
    return fmp__parallel_at(nprocs, cond, body, arg, "fmp_parallel_if()", 0);
}

int(fmp_parallel)(int nprocs, void (*body)(void *), void *arg)
{
    return fmp__parallel_at(nprocs, 1, body, arg, "fmp_parallel()", 0);
}
