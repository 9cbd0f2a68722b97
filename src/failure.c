/* The failure room: how a team learns that it failed, and how the failure is told.
 *
 * Layering: this file sits below synchronisation and the team life cycle.  It touches
 * only the team's shared control block (its failure record, broken word, slots) and
 * this process's list of the teams it masters; everything else calls down into it.
 *
 * Detection is not here: a member's death shows in its life word (wait.c watches it),
 * a member that calls exit() or leaves its block says so itself (hooks.c, region.c),
 * a worksharing mismatch or a usage error is found by the construct (sync.c, loop.c...).
 * Each calls fmp__team_fail or fmp__member_lost, which record the first failure and
 * break the team: every wait of the team then returns.
 *
 * Reporting is done by the master in normal context, never in a signal handler: at the
 * join it reaps its children (exit statuses through pidfds), composes the report from
 * the record, the statuses and what each member's fatal-signal recorder left in its
 * slot, then either ends the program (abort mode: stdio flushed first, so nothing the
 * master printed is lost) or prints it and returns the error (return mode). */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- state of this process */
#define MAX_REG 64
static fmp__shteam *g_reg[MAX_REG]; /* teams this process masters, children maybe alive */
static char g_last_failure[sizeof(((fmp__failure *)0)->msg) + 64];
static int g_region_err;
static int g_aborting;

int fmp__team_register(fmp__shteam *t)
{
    for (int i = 0; i < MAX_REG; i++)
        if (!g_reg[i]) {
            g_reg[i] = t;
            return 0;
        }
    return -EAGAIN;
}

void fmp__team_unregister(fmp__shteam *t)
{
    for (int i = 0; i < MAX_REG; i++)
        if (g_reg[i] == t)
            g_reg[i] = NULL;
}

/* A child: its parent's teams are not its own. */
void fmp__failure_forget_teams(void)
{
    for (int i = 0; i < MAX_REG; i++)
        g_reg[i] = NULL;
}

/* Each registered team, for the child's inherited pidfds and the abort path. */
void fmp__for_each_team(void (*fn)(fmp__shteam *))
{
    for (int i = 0; i < MAX_REG; i++)
        if (g_reg[i])
            fn(g_reg[i]);
}

const char *fmp_last_failure(void)
{
    return g_last_failure;
}

int fmp_region_error(void)
{
    return g_region_err;
}

void fmp__region_result(int err)
{
    g_region_err = err;
    if (!err)
        g_last_failure[0] = 0;
}

/* ---------------------------------------------------------------- breaking a team */

static void wake_all(fmp__shteam *t)
{
    fmp__futex_wake(&t->broken, INT_MAX);
    /* sleepers of kernels without futex_waitv sleep on their own word */
    fmp__futex_wake(&t->go, INT_MAX);
    fmp__futex_wake(&t->bar_gen, INT_MAX);
    fmp__futex_wake(&t->task_gen, INT_MAX);
    fmp__futex_wake(&t->run_gen, INT_MAX);
    for (int i = 0; i < FMP__RING; i++)
        fmp__futex_wake(&t->ring[i].wake, INT_MAX);
}

void fmp__team_break(fmp__shteam *t)
{
    if (!t)
        return;
    atomic_store(&t->broken, 1);
    wake_all(t);
}

int fmp__broken_err(const fmp__shteam *t)
{
    return atomic_load(&t->failure.set) == FMP__FAIL_WRITTEN ? t->failure.err : FMP_EBROKEN;
}

static const char *verb(const fmp__shteam *t)
{
    return t->persistent ? "created" : "opened";
}

int fmp__member_desc(char *buf, size_t len, const fmp__shteam *t, int m, int pid)
{
    return snprintf(buf, len, FMP__MSG_member_of, m, pid, t->n, verb(t), t->file, t->line);
}

static int vrecord(fmp__shteam *t, int err, int member, int how, int code, const char *fmt,
                   va_list ap)
{
    if (!t)
        return err;
    int z = FMP__FAIL_NONE;
    if (atomic_compare_exchange_strong(&t->failure.set, &z,
                                       FMP__FAIL_WRITING + fmp__my_member(t))) {
        fmp__failure *f = &t->failure;
        f->err = err;
        f->member = member;
        f->pid = member >= 0 ? atomic_load(&t->slots[member].pid) : -1;
        f->how = how;
        f->code = code;
        f->msg[0] = 0;
        if (fmt) {
            int off = 0;
            if (fmp__g.rank >= 0)
                off = snprintf(f->msg, sizeof f->msg, FMP__MSG_rank_prefix, fmp__g.rank);
            vsnprintf(f->msg + off, sizeof f->msg - (size_t)off, fmt, ap);
        }
        atomic_store(&f->set, FMP__FAIL_WRITTEN); /* only the writer publishes */
    }
    fmp__team_break(t);
    return err;
}

int fmp__team_fail(fmp__shteam *t, int err, int member, int how, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrecord(t, err, member, how, code, fmt, ap);
    va_end(ap);
    return err;
}

/* no text: the master composes it from what it reaps */
static void record_death(fmp__shteam *t, int m)
{
    fmp__team_fail(t, FMP_EMEMBER, m, FMP__HOW_DIED, 0, NULL);
}

void fmp__await_record(fmp__shteam *t)
{
    /* A writer takes microseconds; one that waits for a CPU, is stopped, or formats
       slowly is waited for while it lives, up to RECORD_WAIT_MS: after that its record is
       reported lost rather than hang the join. */
    enum { RECORD_WAIT_MS = 2000, POLL_US = 100 };
    for (long waited_us = 0; waited_us < RECORD_WAIT_MS * 1000L; waited_us += POLL_US) {
        int set = atomic_load(&t->failure.set);
        if (set < FMP__FAIL_WRITING)
            return;
        int w = set - FMP__FAIL_WRITING;
        if (w == fmp__my_member(t) || w >= t->n || !fmp__member_alive(t, w))
            return;
        struct timespec ts = {0, POLL_US * 1000L};
        nanosleep(&ts, NULL);
    }
}

void fmp__member_lost(fmp__shteam *t, int m)
{
    fmp__slot *s = &t->slots[m];
    int st = atomic_load(&s->state);
    for (;;) {
        if (st != FMP__S_RUNNING && st != FMP__S_STARTING)
            return; /* finished, left, or already recorded */
        if (atomic_compare_exchange_weak(&s->state, &st, FMP__S_FAILED))
            break;
    }
    record_death(t, m);
}

/* ---------------------------------------------------------------- composing reports */

typedef struct sbuf {
    char *b;
    size_t n, cap;
} sbuf;

static void put(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *s, const char *fmt, ...)
{
    if (s->n >= s->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->b + s->n, s->cap - s->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        s->n = s->n + (size_t)k < s->cap ? s->n + (size_t)k : s->cap - 1;
}

static const char *sig_abbrev(int sig, char *buf, size_t len)
{
    const char *ab = sigabbrev_np(sig);
    snprintf(buf, len, "SIG%s", ab ? ab : "?");
    return buf;
}

/* What the member's own recorder saw: where a fault was, or who sent the signal. */
static void put_fault_detail(sbuf *b, const fmp__slot *s, int pid)
{
    int code = s->fault_code;
    if (code == SI_USER || code == SI_TKILL || code == SI_QUEUE) {
        if (s->fault_sender == pid)
            put(b, FMP__MSG_raised_self);
        else if (s->fault_sender > 0)
            put(b, FMP__MSG_sent_by, s->fault_sender);
    } else if (code == SI_KERNEL) {
        put(b, FMP__MSG_fault_pc, (unsigned long)s->fault_pc);
    } else if (code > 0) {
        put(b, FMP__MSG_fault_addr, (unsigned long)s->fault_addr, (unsigned long)s->fault_pc);
    }
}

/* The story of member m's end, from its reaped status and its slot. */
static void compose_death(sbuf *b, const fmp__shteam *t, int m)
{
    const fmp__slot *s = &t->slots[m];
    int pid = atomic_load(&s->pid);
    char ab[32];
    int fsig = atomic_load(&s->fault_sig);
    if (fmp__g.rank >= 0)
        put(b, FMP__MSG_rank_prefix, fmp__g.rank);
    char who[256];
    fmp__member_desc(who, sizeof who, t, m, pid);
    put(b, "%s", who);
    switch (s->end_code) {
    case CLD_KILLED:
    case CLD_DUMPED:
        if (s->execed && s->end_status == SIGKILL) {
            put(b, FMP__MSG_execed);
            break;
        }
        put(b, FMP__MSG_killed_by, s->end_status, sig_abbrev(s->end_status, ab, sizeof ab));
        if (fsig == s->end_status)
            put_fault_detail(b, s, pid);
        if (s->end_code == CLD_DUMPED)
            put(b, FMP__MSG_core_dumped);
        break;
    case CLD_EXITED:
        if (fsig) {
            put(b, FMP__MSG_got_signal, fsig, sig_abbrev(fsig, ab, sizeof ab));
            put_fault_detail(b, s, pid);
            put(b, FMP__MSG_handler_exit, s->end_status);
        } else if (s->end_status == FMP_EXIT_FAILURE) {
            put(b, FMP__MSG_exited_after_failure, s->end_status);
        } else {
            put(b, FMP__MSG_exited_early, s->end_status);
        }
        break;
    default:
        if (fsig) {
            put(b, FMP__MSG_got_signal, fsig, sig_abbrev(fsig, ab, sizeof ab));
            put_fault_detail(b, s, pid);
            put(b, FMP__MSG_and_died);
        } else {
            put(b, FMP__MSG_died);
        }
        put(b, FMP__MSG_status_lost);
        break;
    }
}

/* The first member that ended abnormally on its own (not killed by the master). */
static int first_casualty(const fmp__shteam *t)
{
    for (int m = 1; m < t->n; m++) {
        const fmp__slot *s = &t->slots[m];
        if (s->killed)
            continue;
        if (atomic_load(&s->state) == FMP__S_FAILED)
            return m;
    }
    return -1;
}

/* The report of a broken team into buf (the master, after reaping). */
static void compose(const fmp__shteam *t, char *buf, size_t len)
{
    sbuf b = {buf, 0, len};
    buf[0] = 0;
    const fmp__failure *f = &t->failure;
    if (atomic_load(&f->set) == FMP__FAIL_WRITTEN) {
        if (f->how != FMP__HOW_DIED) {
            if (fmp__g.rank >= 0 && strncmp(f->msg, "rank ", 5) != 0)
                put(&b, FMP__MSG_rank_prefix, fmp__g.rank);
            put(&b, "%s", f->msg);
            return;
        }
        compose_death(&b, t, f->member);
        return;
    }
    int m = first_casualty(t);
    if (m > 0) {
        compose_death(&b, t, m);
        return;
    }
    if (fmp__g.rank >= 0)
        put(&b, FMP__MSG_rank_prefix, fmp__g.rank);
    if (atomic_load(&f->set) >= FMP__FAIL_WRITING)
        put(&b, FMP__MSG_record_lost, t->n, verb(t), t->file, t->line);
    else
        put(&b, FMP__MSG_broken_no_record, t->n, verb(t), t->file, t->line);
}

static int team_error(const fmp__shteam *t)
{
    if (atomic_load(&t->failure.set) == FMP__FAIL_WRITTEN)
        return t->failure.err;
    return first_casualty(t) > 0 ? FMP_EMEMBER : FMP_EBROKEN;
}

/* ---------------------------------------------------------------- ending the program */

static void kill_team(fmp__shteam *t)
{
    fmp__team_reap(t);
}

static __attribute__((noreturn)) void abort_now(void)
{
    g_aborting = 1;
    fmp__flush_streams(); /* what the master printed survives */
    FMP__SAY(member_failed, g_last_failure);
    /* every team this process masters: its members are stopped and reaped */
    fmp__for_each_team(kill_team);
    if (fmp__g.is_child)
        _exit(FMP_EXIT_FAILURE);
    exit(FMP_EXIT_FAILURE);
}

int fmp__aborting(void)
{
    return g_aborting;
}

int fmp__team_report(fmp__shteam *t, int err)
{
    if (!err) {
        fmp__region_result(0);
        return 0;
    }
    if (atomic_load(&t->broken)) {
        compose(t, g_last_failure, sizeof g_last_failure);
        err = team_error(t);
    }
    fmp__region_result(err);
    if (fmp__g.error_mode == FMP_ERRORS_ABORT)
        abort_now();
    if (!t->reported && g_last_failure[0])
        FMP__SAY(member_failed, g_last_failure);
    t->reported = 1;
    return err;
}

int fmp__start_failed(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int off = 0;
    if (fmp__g.rank >= 0)
        off = snprintf(g_last_failure, sizeof g_last_failure, FMP__MSG_rank_prefix, fmp__g.rank);
    vsnprintf(g_last_failure + off, sizeof g_last_failure - (size_t)off, fmt, ap);
    va_end(ap);
    g_region_err = err;
    if (fmp__g.error_mode == FMP_ERRORS_ABORT && err != FMP_EINVAL)
        abort_now();
    FMP__SAY(member_failed, g_last_failure);
    return err;
}

/* The master of c's team, which broke: reap, report (abort mode ends here). */
static void master_ends_team(fmp__ctx *c)
{
    fmp__shteam *t = c->team;
    int err = fmp__team_reap(t);
    fmp__team_report(t, err ? err : FMP_EBROKEN);
}

static int is_master_of(const fmp__ctx *c)
{
    return c->me == 0 && c->team && c->team->master_pid == fmp__g.pid;
}

void fmp__broken_in_construct(fmp__ctx *c)
{
    fmp__shteam *t = c->team;
    if (c->me != 0)
        fmp__child_exit(t, c->me, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
    /* the master goes on to the end of the region, where the join reports; in abort
       mode it stops here */
    if (t && fmp__g.error_mode == FMP_ERRORS_ABORT && is_master_of(c))
        master_ends_team(c);
}

int fmp__wait_failed(fmp__ctx *c, int err)
{
    if (err && fmp__g.error_mode == FMP_ERRORS_ABORT)
        fmp__broken_in_construct(c);
    return err;
}

int fmp__usage_error(fmp__ctx *c, int err, const char *fmt, ...)
{
    char msg[768];
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

/* Call sites whose misuse outside a team was reported (once each). */
#define MAX_SITES 32
static struct {
    const char *file;
    int line;
} g_sites[MAX_SITES];

int fmp__first_report(const char *file, int line)
{
    for (int i = 0; i < MAX_SITES; i++) {
        if (g_sites[i].file == file && g_sites[i].line == line)
            return 0;
        if (!g_sites[i].file) {
            g_sites[i].file = file;
            g_sites[i].line = line;
            return 1;
        }
    }
    return 0; /* a program with that many: it has been told */
}

void fmp__block_left(const char *what, const char *file, int line)
{
    fmp__ctx *c = fmp__g.cur;
    if (c->team) {
        char who[256];
        fmp__member_desc(who, sizeof who, c->team, c->me, (int)getpid());
        fmp__usage_error(c, FMP_EINVAL, FMP__MSG_construct_left, who, what, file, line);
    } else if (fmp__first_report(file, line)) {
        FMP__SAY(construct_left_serial, what, file, line);
    }
}

/* ---------------------------------------------------------------- longjmp out of a region */

/* Context c, left by longjmp: a member reports it and exits; a master ends its team
   (reaped, reported as left by longjmp).  Its parent. */
static fmp__ctx *leave_context(fmp__ctx *c)
{
    fmp__shteam *t = c->team;
    if (t && c->me != 0) {
        char who[256];
        fmp__member_desc(who, sizeof who, t, c->me, (int)getpid());
        fmp__team_fail(t, FMP_EEXITED, c->me, FMP__HOW_LONGJMP, 0, FMP__MSG_left_by_jump, who);
        fmp__child_exit(t, c->me, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
    }
    fmp__ctx *parent = c->parent;
    if (t && is_master_of(c)) {
        char who[256];
        fmp__member_desc(who, sizeof who, t, 0, (int)getpid());
        fmp__team_fail(t, FMP_EEXITED, 0, FMP__HOW_LONGJMP, 0, FMP__MSG_left_by_jump, who);
        if (t->persistent) {
            fmp__pteam_run_left(c);
        } else {
            int err = fmp__team_reap(t);
            fmp__g.cur = parent;
            fmp__ctx_free(c); /* while the thread still owns forkmp */
            fmp__thread_leave();
            fmp__team_report(t, err);
            fmp__team_free(t);
        }
    } else if (!t) {
        /* a region of one: nothing to stop; its context is simply left */
        fmp__ctx_free(c); /* while the thread still owns forkmp */
        fmp__thread_leave();
    }
    fmp__g.cur = parent;
    return parent;
}

fmp__ctx *fmp__left_region(fmp__ctx *c, uintptr_t frame)
{
    while (c->frame && frame > c->frame)
        c = leave_context(c);
    return c;
}

fmp__ctx *fmp__region_anchor_check(fmp__ctx *c, uintptr_t anchor)
{
    /* a region's anchor (its block's variable, or fmp_parallel's) is live until its end:
       a new region's at the same address means the one whose it was has been left, by a
       longjmp to a caller that then opened the same region again at the same depth */
    if (c->frame && anchor == c->frame)
        c = fmp__left_region(leave_context(c), anchor);
    return c;
}
