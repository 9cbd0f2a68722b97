/* Team life cycle, shared by regions and persistent teams: the team's size, its control
 * block, the fork of its members and their join.
 *
 * Fork: stdio is flushed before every fork; each child takes its life lock (the robust
 * mutex of its slot, see wait.c) as it starts, gets its parent-death signal, exit hook and
 * environment (hooks.c) and waits for the word "go", so that no body starts before the
 * whole team exists and a failed fork leaves no trace of the region.  The master opens a
 * pidfd of each child: it signals and reaps through it, so it never touches a pid that
 * is no longer its child (a program's own wait() may have reaped it and the pid been
 * reused).  Children leave with _exit(), after releasing their life lock.
 *
 * Join: the master reaps its own children only, never waitpid(-1), with __WALL (a warm
 * pool's members are clone children, see warm.c); after a failure it SIGKILLs those still
 * alive first.  The exit statuses it reads go into the slots, for
 * the report (failure.c). */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "topo.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define STARTING_POLL_MS 5

/* ---------------------------------------------------------------- pidfds */

static int pidfd_open(pid_t pid)
{
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -1 : (int)fd;
}

/* A member that released its life lock (the kernel marks it abandoned) while it lives
   and is not exiting has replaced its program: exec releases the robust locks as an
   exit does (flags of /proc/PID/stat, the 9th field: PF_EXITING 0x4). */
static int member_execed(fmp__shteam *t, int m)
{
    fmp__slot *s = &t->slots[m];
    int pid = atomic_load(&s->pid);
    if (pid <= 0 || !(atomic_load(fmp__life_word(s)) & FUTEX_OWNER_DIED))
        return 0;
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    long n = fmp__read_file(path, text, sizeof text);
    const char *p = n > 0 ? strrchr(text, ')') : NULL;
    char state = 0;
    unsigned long flags = 0;
    return p && sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) == 2 && state != 'Z' &&
           state != 'X' && !(flags & 0x4);
}

/* SIGKILL member m unless it is known to be gone (noting first whether it exec'd). */
static void kill_member(fmp__shteam *t, int m)
{
    fmp__slot *s = &t->slots[m];
    if (s->reaped)
        return;
    s->execed = member_execed(t, m);
    if (s->pidfd >= 0 && syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0) == 0)
        return;
    if (s->pidfd >= 0 && errno == ESRCH)
        return; /* already gone */
    /* no pidfd: signal the pid only while the member still holds its life lock, or has
       not taken it yet (so the pid is still that member's) */
    uint32_t v = atomic_load(fmp__life_word(s));
    int st = atomic_load(&s->state);
    int pid = atomic_load(&s->pid);
    if (pid > 0 &&
        (((v & FUTEX_TID_MASK) != 0 && !(v & FUTEX_OWNER_DIED)) || st == FMP__S_STARTING))
        kill(pid, SIGKILL);
}

/* Reap member m (blocking): how it ended goes into the slot (end_code 0: the status
   was taken by someone else). */
static void reap_member(fmp__shteam *t, int m)
{
    fmp__slot *s = &t->slots[m];
    if (s->reaped)
        return;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rc = -1, err = 0;
    if (s->pidfd >= 0) {
        while ((rc = waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED | __WALL)) < 0 && errno == EINTR)
            ;
        err = rc < 0 ? errno : 0;
    }
    /* no pidfd, or a kernel with pidfd_open but not yet P_PIDFD (5.3) */
    if (rc < 0 && (s->pidfd < 0 || err == EINVAL)) {
        int pid = atomic_load(&s->pid);
        if (pid > 0)
            while ((rc = waitid(P_PID, (id_t)pid, &si, WEXITED | __WALL)) < 0 && errno == EINTR)
                ;
    }
    s->end_code = rc == 0 ? si.si_code : 0;
    s->end_status = rc == 0 ? si.si_status : 0;
    if (s->pidfd >= 0)
        close(s->pidfd);
    s->pidfd = -1;
    s->reaped = 1;
}

void fmp__team_check_unstarted(fmp__shteam *t)
{
    for (int m = 1; m < t->n; m++) {
        fmp__slot *s = &t->slots[m];
        if (atomic_load(&s->state) != FMP__S_STARTING || s->reaped)
            continue;
        int dead;
        if (s->pidfd >= 0) {
            struct pollfd p = {s->pidfd, POLLIN, 0};
            dead = poll(&p, 1, 0) > 0;
        } else {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            int pid = atomic_load(&s->pid);
            int rc = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL);
            dead = (rc < 0 && errno == ECHILD) || (rc == 0 && si.si_pid == pid);
        }
        if (dead)
            fmp__member_lost(t, m);
    }
}

/* ---------------------------------------------------------------- team blocks */

const char *fmp__kind_name(int kind)
{
    switch (kind) {
    case FMP__K_FOR:
        return "FMP_FOR";
    case FMP__K_FOR_END:
        return "the end of FMP_FOR";
    case FMP__K_BARRIER:
        return "fmp_barrier";
    case FMP__K_SINGLE:
        return "FMP_SINGLE/fmp_single";
    case FMP__K_SINGLE_END:
        return "the end of FMP_SINGLE";
    case FMP__K_REDUCE:
        return "fmp_reduce";
    case FMP__K_GATHER:
        return "fmp_gather";
    case FMP__K_ITERATE:
        return "fmp_iterate";
    case FMP__K_FOR_STEP:
        return "FMP_FOR_STEP";
    case FMP__K_FOR_COLLAPSE:
        return "FMP_FOR_COLLAPSE";
    case FMP__K_FOR_ORDERED:
        return "FMP_FOR_ORDERED";
    case FMP__K_REGION_END:
        return "the end of the region";
    case FMP__K_MPI:
        return "an fmp_mpi_* call";
    case FMP__K_REDUCE_INTO:
        return "fmp_reduce_into";
    default:
        return "no construct";
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
    if (nprocs < 0)
        return fmp__start_failed(FMP_EINVAL, FMP__MSG_region_size, what, file, line, nprocs,
                                 "negative", outcome(what));
    if (nprocs > FMP__MAX_TEAM)
        return fmp__start_failed(FMP_EINVAL, FMP__MSG_region_size, what, file, line, nprocs,
                                 "absurd (forkmp forks at most 4096 members)", outcome(what));
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

static long spin_on(int n, int cpus)
{
    long spin = fmp__g_icv.spin_count;
    /* more members than cores: sleep almost at once, unless spinning was asked for */
    if (n > cpus && spin > FMP__THROTTLED_SPIN && !fmp__g_icv.spin_explicit)
        spin = FMP__THROTTLED_SPIN;
    return spin;
}

long fmp__team_spin(int n)
{
    return spin_on(n, fmp__affinity_count());
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
    int cpus = fmp__affinity_count(); /* a system call: once */
    t->spin = spin_on(n, cpus);
    /* a lock is held briefly: its waiters spin a while even under the passive policy,
       unless they would take turns on shared cores with the holder */
    t->lock_spin = t->spin < FMP__LOCK_SPIN && n <= cpus ? FMP__LOCK_SPIN : t->spin;
    for (int m = 0; m < n; m++) {
        fmp__robust_mutex_init(&t->slots[m].life);
        t->slots[m].pidfd = -1;
    }
    atomic_store(&t->slots[0].pid, (int)t->master_pid);
    atomic_store(&t->slots[0].state, FMP__S_RUNNING);
    return t;
}

void fmp__team_unstart(fmp__shteam *t)
{
    /* a member that saw another die as the pool went (the death that let it go, or one
       pool_destroy killed first) marked the team broken and recorded that death: the
       forked members would inherit both (the region failed, blaming its new member of
       that number) */
    atomic_store(&t->broken, 0);
    memset(&t->failure, 0, sizeof t->failure);
    atomic_store(&t->go_sleepers, 0);
    t->reported = 0;
    for (int k = 1; k < t->n; k++) {
        fmp__slot *s = &t->slots[k];
        if (s->pidfd >= 0)
            close(s->pidfd);
        s->pidfd = -1;
        atomic_store(&s->pid, 0);
        atomic_store(&s->state, FMP__S_FREE);
        fmp__robust_mutex_init(&s->life);
    }
}

void fmp__team_free(fmp__shteam *t)
{
    if (!t)
        return;
    for (int m = 0; m < t->n; m++)
        for (int p = 0; p < 2; p++)
            fmp__arena_free(t->slots[m].scratch[p]);
    fmp__task_free(t);
    fmp__tree_detach(t);
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
    c->nthreads_called = fmp__g_icv.nthreads_len <= lvl && parent->nthreads_called;
    c->max_active_levels = parent->max_active_levels;
    c->parent = parent;
    fmp__g.cur = c;
}

/* ---------------------------------------------------------------- fork */

/* A new child closes the pidfds its master held at the fork: those of the members
   forked before it (only those: the slots are shared, and a later member's pidfd is a
   number the child may hold for something else) and those of the master's other teams. */
static fmp__shteam *g_new_team;
static int g_new_member;

static void close_team_pidfds(fmp__shteam *t)
{
    int end = t == g_new_team ? g_new_member : t->n;
    for (int m = 1; m < end; m++)
        if (t->slots[m].pidfd >= 0)
            close(t->slots[m].pidfd);
}

/* A new member's start, forked (warm 0) or a warm member entering its region (warm 1:
   its memory is the master's, its descriptors were synced to the master's). */
static void child_start(fmp__shteam *t, int m, pid_t parent, int leader, int warm)
{
    fmp__g.is_child = 1;
    if (fmp__g.member_flag) /* the MPI wrappers of libforkmp_mpi: a member from here on */
        *fmp__g.member_flag = 1;
    fmp__g.pid = getpid();
    fmp__plock_child();
    fmp__g.crit_held = 0; /* the parent's critical sections are not held by this process */
    fmp__slot *s = &t->slots[m];
    /* the pidfds the master holds (this team's earlier members, its other teams') are
       not the child's: they would keep nothing alive, but a team of thousands would fill
       the child's descriptor table (a warm member's were not taken from the master) */
    g_new_team = t;
    g_new_member = m;
    if (!warm)
        fmp__for_each_team(close_team_pidfds);
    fmp__failure_forget_teams();
    fmp__hooks_child(parent, leader, warm);
    /* alive from here on, whoever reaps us: the kernel releases this lock at our end */
    pthread_mutex_lock(&s->life);
    atomic_store(&s->pid, (int)fmp__g.pid);
    atomic_store(&s->state, FMP__S_RUNNING);
    /* those watching for it to start (their sleep compares this word with 0) */
    fmp__futex_wake(fmp__life_word(s), INT_MAX);
    fmp__set_my_slot(t, m);
    if (fmp__g.child_hook)
        fmp__g.child_hook();
}

/* Undo a fork of members 1..m-1 that could not be completed. */
static void unfork(fmp__shteam *t, int m)
{
    for (int k = 1; k < m; k++)
        kill_member(t, k);
    for (int k = 1; k < m; k++) {
        reap_member(t, k);
        atomic_store(&t->slots[k].state, FMP__S_ABANDONED);
    }
    fmp__census_uncount(t);
    fmp__team_unregister(t);
}

int fmp__team_fork(fmp__shteam *t, const char *what, const char *file, int line)
{
    int n = t->n;
    fmp__check_oversubscription(n);
    fmp__topo_prepare(n);
    if (!t->tree)
        fmp__tree_attach(t);
    fmp__hooks_before_fork();
    if (fmp__team_register(t) < 0)
        return fmp__start_failed(-EAGAIN, FMP__MSG_fork_failed, what, file, line, 1,
                                 "too many live teams in this process", "", outcome(what));
    fmp__census_fork(t); /* counted before they start: they may wait at once */
    pid_t me = getpid();
    int leader = (pid_t)syscall(SYS_gettid) == me;
    fmp__flush_streams(); /* nothing buffered may be printed twice */
    int w = fmp__warm_enter(t, file, line);
    if (w > 0) {
        child_start(t, w, me, leader, 1);
        fmp__check_member_begin(t);
        if (fmp__wait_change(t, &t->go, 0, &t->go_sleepers) != 0)
            fmp__child_exit(t, w, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
        return w;
    }
    for (int m = 1; m < n && w < 0; m++) {
        atomic_store(&t->slots[m].state, FMP__S_STARTING);
        pid_t pid = fork();
        if (pid == 0) {
            child_start(t, m, me, leader, 0);
            fmp__check_member_begin(t);
            /* no body starts before the whole team exists: a failed fork of a later
               member must leave no trace of the region */
            if (fmp__wait_change(t, &t->go, 0, &t->go_sleepers) != 0)
                fmp__child_exit(t, m, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
            return m;
        }
        if (pid < 0) {
            int e = errno;
            atomic_store(&t->slots[m].state, FMP__S_FREE);
            unfork(t, m);
            return fmp__start_failed(
                -e, FMP__MSG_fork_failed, what, file, line, m, strerror(e),
                e == EAGAIN ? " (the process limit, `ulimit -u` / RLIMIT_NPROC?)" : "",
                outcome(what));
        }
        atomic_store(&t->slots[m].pid, (int)pid);
        t->slots[m].pidfd = pidfd_open(pid);
        fmp__bind_child(pid, t->level, m, n);
    }
    atomic_store(&t->go, 1);
    if (atomic_load(&t->go_sleepers))
        fmp__futex_wake(&t->go, INT_MAX);
    return 0;
}

/* ---------------------------------------------------------------- join */

/* The join of a warm team that did not break: each member releases its life lock as it
   leaves the region for its park.  0, or -1 when the team broke meanwhile. */
static int warm_join(fmp__shteam *t)
{
    for (int m = 1; m < t->n; m++) {
        fmp__slot *s = &t->slots[m];
        _Atomic uint32_t *w = fmp__life_word(s);
        for (;;) {
            if (atomic_load(&t->broken))
                return -1;
            uint32_t v = atomic_load(w);
            if (v & FUTEX_OWNER_DIED) {
                fmp__member_lost(t, m);
                return -1;
            }
            if ((v & FUTEX_TID_MASK) == 0) {
                if (atomic_load(&s->state) != FMP__S_STARTING)
                    break;
                fmp__team_check_unstarted(t);
                fmp__futex_wait(w, 0, STARTING_POLL_MS);
                continue;
            }
            /* the unlock wakes a waiter that set the waiters bit */
            if (!(v & FUTEX_WAITERS) && !atomic_compare_exchange_weak(w, &v, v | FUTEX_WAITERS))
                continue;
            fmp__futex_wait(w, v | FUTEX_WAITERS, STARTING_POLL_MS * 10);
        }
    }
    for (int m = 1; m < t->n; m++) {
        fmp__slot *s = &t->slots[m];
        if (s->pidfd >= 0)
            close(s->pidfd);
        s->pidfd = -1;
        s->reaped = 1;
    }
    return 0;
}

int fmp__team_reap(fmp__shteam *t)
{
    if (t->warm && !atomic_load(&t->broken) && warm_join(t) == 0) {
        fmp__census_uncount(t);
        fmp__team_unregister(t);
        return 0;
    }
    if (atomic_load(&t->broken)) {
        fmp__await_record(t);
        for (int m = 1; m < t->n; m++) {
            fmp__slot *s = &t->slots[m];
            if (s->reaped || atomic_load(&s->state) == FMP__S_DONE)
                continue;
            /* one that died on its own, unseen so far, is a casualty, not ours to kill */
            if (atomic_load(fmp__life_word(s)) & FUTEX_OWNER_DIED)
                fmp__member_lost(t, m);
            int st = atomic_load(&s->state);
            if (st == FMP__S_RUNNING || st == FMP__S_STARTING)
                s->killed = 1;
            kill_member(t, m);
        }
    }
    /* a broken warm team takes its pool with it: the members done with the region are
       parked, alive, and go too (not as casualties) */
    for (int m = 1; m < t->n && t->warm; m++)
        if (!t->slots[m].reaped && t->slots[m].pidfd >= 0)
            syscall(SYS_pidfd_send_signal, t->slots[m].pidfd, SIGKILL, NULL, 0);
    for (int m = 1; m < t->n; m++) {
        fmp__slot *s = &t->slots[m];
        if (s->reaped)
            continue;
        reap_member(t, m);
        /* a member that ended before it said it was done, unseen by any waiter */
        if (!s->killed)
            fmp__member_lost(t, m);
    }
    if (t->warm)
        fmp__warm_shutdown();
    fmp__census_uncount(t); /* reaped, however they ended */
    fmp__team_unregister(t);
    return atomic_load(&t->broken) ? fmp__broken_err(t) : 0;
}

void fmp__child_exit(fmp__shteam *t, int me, int state, int status)
{
    fmp__flush_streams();
    if (t) {
        /* from the unlock on the master's join may be over: a signal to the process group
           after it is not one for a member (a forked child is about to exit, a warm one
           goes back to its park, where none reaches it: the pool drops it) */
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, NULL);
        atomic_store(&t->slots[me].state, state);
        pthread_mutex_unlock(&t->slots[me].life);
        /* the unlock wakes one waiter, where the word had the waiters bit: the master's
           join set it, but the team's other members sleeping in a wait watch this word
           too (a death ends their wait), and the one woken could be one of them: the
           join then slept its whole slice (50 ms a region, warm, 4 members on 2 cpus) */
        fmp__futex_wake(fmp__life_word(&t->slots[me]), INT_MAX);
        if (state == FMP__S_DONE && fmp__warm_member_of(t))
            fmp__warm_park(); /* back to the pool, for the next region */
    }
    _exit(status);
}
