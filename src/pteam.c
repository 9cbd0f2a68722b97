/* Persistent teams: fork once, run many regions on the same members.
 *
 * The members park on the control block's run_gen futex word (spinning first, as
 * FMP_WAIT_POLICY says).  A run publishes (body, argument copy) in the control block
 * and bumps run_gen; everything inside a run is the machinery of FMP_PARALLEL
 * (barrier, descriptors, reductions...), and a run ends with the same end-of-region
 * barrier.  Each member keeps its own context across runs, so construct counters and
 * descriptor tickets stay in step between runs. */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topo.h"

struct fmp_team {
    fmp__shteam *t;      /* NULL for a team of one */
    pid_t creator;
    int n;
    int running;
    fmp__ctx ctx;        /* the master's context for runs, kept across runs */
    fmp__ctx *parent;    /* the creator's context at creation */
    void *argbuf;        /* the master's private copy of the argument */
    size_t argcap;
    /* A member's own context: each member uses its copy of this block (the master
       allocated it before the fork), not a variable of member_loop's frame, which a
       member that leaves a run's body by longjmp unwinds and overwrites while its
       context must still say which team it left. */
    fmp__ctx member_ctx;
};

static void *private_copy(void **buf, size_t *cap, const void *arg, size_t size)
{
    if (size > *cap) {
        void *p = realloc(*buf, size);
        if (!p)
            return NULL;
        *buf = p;
        *cap = size;
    }
    if (size)
        memcpy(*buf, arg, size);
    return *buf;
}

/* A member's life: wait for a run, run it, repeat; leave on quit or a broken team. */
static __attribute__((noreturn)) void member_loop(fmp__shteam *t, int me, fmp__ctx *parent,
                                                  fmp__ctx *c)
{
    fmp__ctx_enter(c, parent, t, me, t->n);
    /* every run's body is called from below this frame */
    c->frame = (uintptr_t)__builtin_frame_address(0);
    fmp__g.cur = parent;
    fmp__bind_member(c->level, me, t->n);
    if (fmp__g_icv.display_affinity)
        fmp__display_affinity(c->level, me, t->n);
    /* the member's context stays current between runs too: a signal handler of the
       program's that leaves the wait by longjmp lands above this frame, and the member's
       next forkmp call must see that it left its team (fmp__left_region), rather than
       go on as the process that created the team */
    fmp__g.cur = c;
    void *buf = NULL;
    size_t cap = 0;
    uint32_t gen = 0;
    for (;;) {
        if (fmp__wait_idle(t, &t->run_gen, gen, &t->run_sleepers))
            fmp__child_exit(t, me, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
        gen = atomic_load(&t->run_gen);
        if (t->quit)
            fmp__child_exit(t, me, FMP__S_DONE, 0);
        void *arg = private_copy(&buf, &cap, t->arg, t->argsize);
        if (!arg && t->argsize) {
            fmp__team_fail(t, FMP_ENOMEM, me, FMP__HOW_USAGE, 0,
                           FMP__MSG_team_arg_memory, me, t->file, t->line, t->argsize);
            fmp__child_exit(t, me, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
        }
        fmp__check_member_rearm(t); /* FMP_CHECK=writes: nothing otherwise */
        t->body(arg);
        fmp__check_member_end(t, me);
        int err = fmp__barrier(c, FMP__K_REGION_END, t->file, t->line);
        if (err)
            fmp__child_exit(t, me, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
    }
}

static fmp_team *team_create(int nprocs, const char *file, int line, fmp__ctx *parent)
{
    int n;
    if (fmp__team_size(parent, nprocs, 1, "fmp_team_create", file, line, &n)) {
        errno = EINVAL;
        return NULL;
    }
    fmp_team *team = calloc(1, sizeof *team);
    if (!team) {
        errno = ENOMEM;
        return NULL;
    }
    team->creator = getpid();
    team->n = n;
    team->parent = parent;
    if (n == 1)
        return team;
    fmp__shteam *t = fmp__team_alloc(n, parent, file, line);
    if (!t) {
        free(team);
        fmp__start_failed(FMP_ENOMEM, FMP__MSG_team_memory, "fmp_team_create", file, line,
                          "no team was created");
        errno = ENOMEM;
        return NULL;
    }
    t->persistent = 1;
    fmp__check_open(t, 0); /* FMP_CHECK=writes: the snapshot, for the team's life */
    int m = fmp__team_fork(t, "fmp_team_create", file, line);
    if (m > 0)
        member_loop(t, m, parent, &team->member_ctx);
    if (m < 0) {
        fmp__check_close(t);
        fmp__team_free(t);
        free(team);
        errno = -m;
        return NULL;
    }
    team->t = t;
    fmp__check_snapshot(t);
    fmp__ctx_enter(&team->ctx, parent, t, 0, n);
    fmp__g.cur = parent;
    fmp__bind_member(team->ctx.level, 0, n);
    if (fmp__g_icv.display_affinity)
        fmp__display_affinity(team->ctx.level, 0, n);
    return team;
}

static fmp_team *create_guarded(int nprocs, const char *file, int line, fmp__ctx *parent)
{
    if (fmp__thread_enter("fmp_team_create", file, line)) {
        errno = EBUSY;
        return NULL;
    }
    fmp_team *team = team_create(nprocs, file, line, parent);
    fmp__thread_leave();
    return team;
}

fmp_team *fmp__team_create_at(int nprocs, const char *file, int line)
{
    return create_guarded(nprocs, file, line, FMP__CUR_ENTRY());
}

fmp_team *(fmp_team_create)(int nprocs)
{
    return create_guarded(nprocs, "fmp_team_create()", 0, FMP__CUR_ENTRY());
}

int fmp_team_size(const fmp_team *t)
{
    return t ? t->n : FMP_EINVAL;
}

static int check_caller(fmp_team *team, const char *what)
{
    if (!team) {
        FMP__SAY(team_null, what);
        return FMP_EINVAL;
    }
    if (team->creator != getpid()) {
        FMP__SAY(team_not_creator, what);
        return FMP_ESTATE;
    }
    if (team->running) {
        FMP__SAY(team_in_run, what);
        return FMP_ESTATE;
    }
    return 0;
}

/* The end of a run in the master: its result, reported once. */
static int run_result(fmp__shteam *t, int err)
{
    if (err || atomic_load(&t->broken))
        return fmp__team_report(t, fmp__team_reap(t));
    fmp__region_result(0);
    return 0;
}

static int team_run(fmp_team *team, void (*body)(void *), const void *arg, size_t argsize,
                    fmp__ctx *saved);

int fmp_team_run(fmp_team *team, void (*body)(void *), const void *arg, size_t argsize)
{
    fmp__ctx *saved = FMP__CUR_ENTRY();
    int rc = check_caller(team, "fmp_team_run");
    if (rc)
        return rc;
    rc = fmp__thread_enter("fmp_team_run", team->t ? team->t->file : "?",
                           team->t ? team->t->line : 0);
    if (rc)
        return rc;
    rc = team_run(team, body, arg, argsize, saved);
    fmp__thread_leave();
    return rc;
}

static int team_run(fmp_team *team, void (*body)(void *), const void *arg, size_t argsize,
                    fmp__ctx *saved)
{
    if (!body || (argsize && !arg)) {
        FMP__SAY(team_run_args, body ? "arg is NULL with argsize > 0" : "body is NULL");
        return FMP_EINVAL;
    }
    void *mine = private_copy(&team->argbuf, &team->argcap, arg, argsize);
    if (!mine && argsize)
        return FMP_ENOMEM;
    fmp__shteam *t = team->t;
    if (!t) {
        fmp__ctx c;
        fmp__ctx_enter(&c, saved, NULL, 0, 1);
        team->running = 1;
        body(mine);
        team->running = 0;
        fmp__g.cur = saved;
        fmp__region_result(0);
        return 0;
    }
    /* a member that died between runs is reported now */
    if (fmp__scan_lives(t))
        return run_result(t, FMP_EBROKEN);
    if (argsize > t->argcap) {
        void *p = fmp__arena_alloc(argsize);
        if (!p)
            return FMP_ENOMEM;
        fmp__arena_free(t->arg);
        t->arg = p;
        t->argcap = argsize;
    }
    if (argsize)
        memcpy(t->arg, arg, argsize);
    t->argsize = argsize;
    t->body = body;
    fmp__flush_stdio();
    atomic_fetch_add(&t->run_gen, 1);
    if (atomic_load(&t->run_sleepers))
        fmp__futex_wake(&t->run_gen, INT_MAX);
    team->running = 1;
    team->ctx.parent = saved;
    team->ctx.frame = (uintptr_t)&saved; /* the body runs below this frame */
    fmp__g.cur = &team->ctx;
    body(mine);
    int err = 0;
    if (!atomic_load(&t->broken))
        err = fmp__barrier(&team->ctx, FMP__K_REGION_END, t->file, t->line);
    fmp__g.cur = saved;
    team->running = 0;
    fmp__check_report(t); /* FMP_CHECK=writes: the run's lost writes */
    return run_result(t, err);
}

void fmp__pteam_run_left(fmp__ctx *c)
{
    fmp_team *team = (fmp_team *)((char *)c - offsetof(fmp_team, ctx));
    fmp__shteam *t = team->t;
    team->running = 0;
    fmp__g.cur = c->parent;
    fmp__thread_leave();
    run_result(t, FMP_EEXITED);
}

int fmp_team_destroy(fmp_team *team)
{
    fmp__ensure_init();
    int rc = check_caller(team, "fmp_team_destroy");
    if (rc)
        return rc;
    if (fmp__thread_enter("fmp_team_destroy", team->t ? team->t->file : "?",
                          team->t ? team->t->line : 0))
        return FMP_ESTATE;
    fmp__shteam *t = team->t;
    int err = 0;
    if (t) {
        t->quit = 1;
        atomic_fetch_add(&t->run_gen, 1);
        fmp__futex_wake(&t->run_gen, INT_MAX);
        err = fmp__team_reap(t);
        fmp__check_close(t);
        /* a failure not reported by a run yet (a member that died after the last one) */
        if (err && !t->reported)
            err = fmp__team_report(t, err);
        fmp__team_free(t);
    }
    free(team->argbuf);
    free(team);
    fmp__thread_leave();
    return err;
}
