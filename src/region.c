/* FMP_PARALLEL and fmp_parallel: a region forks a team, runs the block in every member
 * and joins.  The macro drives a small state machine (begin, step, cleanup) so that a
 * member leaving the block by break, goto or return is seen by the cleanup attribute;
 * one leaving it by longjmp is seen at its next forkmp call from above the region's
 * frame (failure.c) or by its exit hook (hooks.c). */
#include "internal.h"
#include "messages.h"

#include <stdlib.h>
#include <unistd.h>

#include "topo.h"

static void region_end(fmp__region *r, int normal);

/* A region's context without the heap: the outermost region's is a static one (in the
   runtime's data, on a page a region writes anyway: each page the master writes is
   copied to every warm member at the next region), and one more is kept for the next
   region.  Only the thread that owns forkmp opens and ends regions, so neither needs a
   lock. */
static fmp__ctx g_ctx_first;
static int g_ctx_first_used;
static fmp__ctx *g_spare_ctx;

fmp__ctx *fmp__ctx_new(void)
{
    if (!g_ctx_first_used) {
        g_ctx_first_used = 1;
        return &g_ctx_first;
    }
    fmp__ctx *c = g_spare_ctx;
    g_spare_ctx = NULL;
    return c ? c : malloc(sizeof *c);
}

void fmp__ctx_free(fmp__ctx *c)
{
    if (c == &g_ctx_first)
        g_ctx_first_used = 0;
    else if (!g_spare_ctx)
        g_spare_ctx = c;
    else
        free(c);
}

/* Open a region.  frame: an address in the frame of the function that holds the
   region's block (the macro's own variable, or a local of fmp_parallel's): every call
   the block makes runs below it; a member that calls forkmp from above it has left the
   region without passing its end.  0: not known. */
static fmp__region open_region(int nprocs, int cond, const char *file, int line, fmp__ctx *parent,
                               uintptr_t frame)
{
    fmp__region r = {NULL, 2, 0};
    int n;
    r.err = fmp__team_size(parent, nprocs, cond, "FMP_PARALLEL", file, line, &n);
    if (r.err)
        return r;
    fmp__ctx *c = fmp__ctx_new();
    if (!c) {
        r.err = fmp__start_failed(FMP_ENOMEM, FMP__MSG_team_memory, "FMP_PARALLEL", file, line,
                                  "the region was not run");
        return r;
    }
    fmp__shteam *t = NULL;
    if (n > 1) {
        t = fmp__team_alloc(n, parent, file, line);
        if (!t) {
            fmp__ctx_free(c);
            r.err = fmp__start_failed(FMP_ENOMEM, FMP__MSG_team_memory, "FMP_PARALLEL", file, line,
                                      "the region was not run");
            return r;
        }
        fmp__check_open(t, frame); /* FMP_CHECK=writes: nothing otherwise */
        int m = fmp__team_fork(t, "FMP_PARALLEL", file, line);
        if (m < 0) {
            fmp__check_close(t);
            fmp__team_free(t);
            fmp__ctx_free(c);
            r.err = m;
            return r;
        }
        if (m == 0)
            fmp__check_snapshot(t);
        fmp__ctx_enter(c, parent, t, m, n);
        c->frame = frame;
        /* the master binds its thread; members are bound by their parent before they
           may start (fmp__bind_child: at the fork in team.c, when a warm pool starts
           or a warm member's place changes in warm.c) */
        if (m == 0)
            fmp__bind_member(c->level, m, n);
        if (fmp__g_icv.display_affinity)
            fmp__display_affinity(c->level, m, n);
    } else {
        fmp__ctx_enter(c, parent, NULL, 0, 1);
        c->frame = frame;
    }
    r.ctx = c;
    r.state = 0;
    return r;
}

static fmp__region region_begin(int nprocs, int cond, const char *file, int line, fmp__ctx *parent,
                                uintptr_t frame)
{
    fmp__region r = {NULL, 2, 0};
    r.err = fmp__thread_enter("FMP_PARALLEL", file, line);
    if (r.err) {
        fmp__region_result(r.err);
        return r;
    }
    r = open_region(nprocs, cond, file, line, parent, frame);
    if (!r.ctx)
        fmp__thread_leave(); /* nothing was opened */
    return r;
}

fmp__region fmp__region_enter(fmp__region *self, int nprocs, int cond, const char *file, int line)
{
    fmp__ctx *parent = fmp__region_anchor_check(FMP__CUR_ENTRY(), (uintptr_t)self);
    return region_begin(nprocs, cond, file, line, parent, (uintptr_t)self);
}

/* The entry of programs built against forkmp 0.1: the region's frame is not known. */
fmp__region fmp__region_begin(int nprocs, int cond, const char *file, int line)
{
    return region_begin(nprocs, cond, file, line, fmp__cur(), 0);
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
        fmp__ctx_free(c);
        fmp__thread_leave();
        fmp__region_result(0);
        return;
    }
    if (c->me != 0) {
        /* a child: never runs the code after the region */
        if (!normal) {
            char who[256];
            fmp__member_desc(who, sizeof who, t, c->me, (int)getpid());
            fmp__team_fail(t, FMP_EEXITED, c->me, FMP__HOW_LEFT_BLOCK, 0, FMP__MSG_left_block, who);
            fmp__child_exit(t, c->me, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
        }
        /* FMP_CHECK=writes: once the master is at the end barrier (its memory is final,
           and stays so until this member arrives) */
        fmp__check_member_end(t, c->me);
        int err = fmp__barrier(c, FMP__K_REGION_END, t->file, t->line);
        if (err)
            fmp__child_exit(t, c->me, FMP__S_ABANDONED, FMP_EXIT_FAILURE);
        fmp__child_exit(t, c->me, FMP__S_DONE, 0);
    }
    /* the master waits for forked children to exit anyway: it sleeps at the end barrier
       rather than spin while they may still need the CPU to start (a warm team's members
       are running already) */
    if (!t->warm)
        t->spin = 0;
    fmp__wprof(13);           /* a warm profile's stamps (warm.c), nothing otherwise */
    fmp__check_master_end(t); /* FMP_CHECK=writes: the members may compare now */
    if (!atomic_load(&t->broken))
        fmp__barrier(c, FMP__K_REGION_END, t->file, t->line);
    fmp__wprof(14);
    int err = fmp__team_reap(t);
    fmp__check_close(t); /* FMP_CHECK=writes: the lost writes, named */
    fmp__wprof(15);
    fmp__g.cur = c->parent;
    fmp__ctx_free(c);
    fmp__thread_leave();
    r->err = fmp__team_report(t, err);
    fmp__team_free(t);
    fmp__wprof(16);
}

int fmp__parallel_at(int nprocs, int cond, void (*body)(void *), void *arg, const char *file,
                     int line)
{
    fmp__ctx *parent = FMP__CUR_ENTRY();
    if (!body) {
        FMP__SAY(parallel_null_body);
        fmp__region_result(FMP_EINVAL);
        return FMP_EINVAL;
    }
    fmp__region r;
    parent = fmp__region_anchor_check(parent, (uintptr_t)&r);
    r = region_begin(nprocs, cond, file, line, parent, (uintptr_t)&r);
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
