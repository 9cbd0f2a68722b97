/* Tasks: fmp_task and fmp_taskwait.
 *
 * A task is a function and a copy of its argument, queued in the team's shared memory so
 * that any member may run it.  Each member owns a deque in the team's task block (in the
 * arena, allocated by the first fmp_task of the team): it pushes the tasks it creates at
 * the tail and takes its own work back from the tail (newest first, warm caches);
 * idle members steal from the head (oldest first: the largest pieces of a recursive
 * split).  This is the shape of LLVM's OpenMP runtime (one deque per thread, a lock per
 * deque, thieves at the other end) rather than libgomp's one team-wide queue under the
 * team lock: with processes a lock is a robust process-shared mutex, whose uncontended
 * path is one atomic operation, and a lock that a dying member held is handed on with
 * EOWNERDEAD instead of hanging the team.
 *
 * Completion.  Each member has a stack of frames, one per task it is running (frame 0
 * is its implicit task, the region's code); a frame counts the children of its task that
 * are not complete, and a task record names its creator's frame.  fmp_taskwait waits
 * for its frame's count to reach 0; a task's end waits for its children too (as if it
 * ended with fmp_taskwait), so that a frame is never reused while a child may still
 * count down in it, and a task is complete only when all its descendants are.  The
 * team counts the tasks that are not complete (task_pending).
 *
 * Barriers.  Members waiting at a barrier run the team's tasks (fmp__task_barrier_wait),
 * and the last member to arrive runs them until none is left before it releases the
 * others (fmp__task_drain): every task is complete at every barrier, the join included,
 * and members that reached the barrier before the tasks were created still help.  As in
 * libgomp, the barrier's waiters sleep on the team's task word, which every new task,
 * every completion that may end a wait and every release changes.
 *
 * Scheduling constraint.  A member waiting in fmp_taskwait (or at a task's end) runs
 * only descendants of the waiting task, as libgomp and LLVM's runtime do for tied tasks:
 * so a wait never runs a sibling that waits for something the waiter does after its
 * wait.  A member at a barrier runs anything.
 *
 * Every wait goes through fmp__wait_change on the task word: a member that dies while
 * running a task breaks the team and wakes every waiter, as in any other wait.
 *
 * Limits: a deque holds DEQUE_CAP tasks and a member's frames go DEPTH_MAX deep; past
 * either, a new task runs at once in its creator (libgomp's throttling).  Arguments of
 * up to TASK_INLINE bytes travel in the task record; larger ones in an arena block. */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define TASK_INLINE 96 /* argument bytes carried in the task record itself */
#define DEQUE_CAP 128  /* queued tasks per member */
#define DEPTH_MAX 64   /* nested task frames per member */

typedef struct frame {
    _Atomic uint32_t children; /* deferred children not yet complete */
    struct frame *parent;      /* the frame that created this frame's task; NULL: implicit */
} frame;

typedef struct rec {
    void (*fn)(void *);
    frame *parent; /* the creator's frame */
    void *big;     /* the argument in the arena when above TASK_INLINE */
    size_t argsize;
    _Alignas(16) unsigned char arg[TASK_INLINE];
} rec;

typedef struct deque {
    pthread_mutex_t lock;  /* robust, process-shared */
    uint32_t head, tail;   /* under lock: head oldest (thieves), tail newest (owner) */
    _Atomic uint32_t size; /* tail - head, read without the lock by thieves */
    frame frames[DEPTH_MAX];
    rec q[DEQUE_CAP];
} FMP__ALIGNED deque;

struct fmp__tasks {
    int n;
    deque d[];
};
typedef struct fmp__tasks tasks;

/* The team's task block, created by the first caller. */
static tasks *pool(fmp__shteam *t)
{
    tasks *p = atomic_load_explicit(&t->tasks, memory_order_acquire);
    if (p)
        return p;
    p = fmp__arena_alloc(sizeof(tasks) + (size_t)t->n * sizeof(deque));
    if (!p)
        return NULL;
    p->n = t->n;
    for (int m = 0; m < t->n; m++)
        fmp__robust_mutex_init(&p->d[m].lock);
    tasks *expect = NULL;
    if (!atomic_compare_exchange_strong(&t->tasks, &expect, p)) {
        fmp__arena_free(p);
        return expect;
    }
    return p;
}

void fmp__task_free(fmp__shteam *t)
{
    fmp__arena_free(atomic_load(&t->tasks));
    atomic_store(&t->tasks, NULL);
}

/* The frame of the task the caller is running now; NULL past DEPTH_MAX. */
static frame *cur_frame(const fmp__ctx *c, tasks *p)
{
    return c->task_depth < DEPTH_MAX ? &p->d[c->me].frames[c->task_depth] : NULL;
}

static void bump(fmp__shteam *t)
{
    atomic_fetch_add(&t->task_gen, 1);
    if (atomic_load(&t->task_sleepers))
        fmp__futex_wake(&t->task_gen, INT_MAX);
}

void fmp__task_release(fmp__shteam *t)
{
    bump(t);
}

/* A task whose creator's frame is parent is complete. */
static void complete(fmp__shteam *t, frame *parent)
{
    int wake = atomic_fetch_sub(&parent->children, 1) == 1;
    wake |= atomic_fetch_sub(&t->task_pending, 1) == 1;
    if (wake)
        bump(t);
}

/* Is a task created in frame f a descendant of the task waiting in frame w? */
static int descends(const frame *f, const frame *w)
{
    for (; f; f = f->parent)
        if (f == w)
            return 1;
    return 0;
}

/* Lock deque d; 0 when its previous holder died (the team is broken: its death is seen
   by the next wait). */
static int lock_deque(deque *d)
{
    int rc = fmp__robust_lock(&d->lock);
    if (rc == 0)
        return 1;
    if (rc == 1)
        pthread_mutex_unlock(&d->lock);
    return 0;
}

static void copy_out(rec *out, const rec *r)
{
    size_t head = offsetof(rec, arg);
    memcpy(out, r, head + (r->big || r->argsize > TASK_INLINE ? 0 : r->argsize));
}

/* Take a task from deque d, at the tail (own) or the head (steal), if it is allowed
   (w: only descendants of w; NULL: any). */
static int take_from(deque *d, int own, const frame *w, rec *out)
{
    if (atomic_load_explicit(&d->size, memory_order_relaxed) == 0)
        return 0;
    if (!lock_deque(d))
        return 0;
    int got = 0;
    if (d->tail != d->head) {
        uint32_t at = own ? d->tail - 1 : d->head;
        rec *r = &d->q[at % DEQUE_CAP];
        if (!w || descends(r->parent, w)) {
            copy_out(out, r);
            if (own)
                d->tail--;
            else
                d->head++;
            atomic_store_explicit(&d->size, d->tail - d->head, memory_order_relaxed);
            got = 1;
        }
    }
    pthread_mutex_unlock(&d->lock);
    return got;
}

static unsigned g_victim; /* where this process starts looking for work to steal */

static int take(const fmp__ctx *c, tasks *p, const frame *w, rec *out)
{
    if (take_from(&p->d[c->me], 1, w, out))
        return 1;
    int n = p->n;
    unsigned start = g_victim++;
    for (int k = 0; k < n - 1; k++) {
        int m = (int)((start + (unsigned)k) % (unsigned)(n - 1));
        if (m >= c->me)
            m++;
        if (take_from(&p->d[m], 0, w, out))
            return 1;
    }
    return 0;
}

static int wait_tasks(fmp__ctx *c, tasks *p, frame *w);

/* Run fn(argp) as a task created in frame parent, in the calling member (c's team), in
   a frame of its own; big (an arena block, or NULL) is freed before it completes. */
static void run(fmp__ctx *c, tasks *p, frame *parent, void (*fn)(void *), void *argp, void *big)
{
    c->task_depth++;
    frame *f = cur_frame(c, p);
    if (f) {
        f->parent = parent;
        atomic_store(&f->children, 0);
    }
    fn(argp);
    if (f)
        wait_tasks(c, p, f); /* an error: the team is broken, and its next wait says so */
    c->task_depth--;
    fmp__arena_free(big);
    complete(c->team, parent);
}

/* Run tasks until the frame w has no child left (w NULL: until the team has no task
   left).  0, or the team's error. */
static int wait_tasks(fmp__ctx *c, tasks *p, frame *w)
{
    fmp__shteam *t = c->team;
    for (;;) {
        uint32_t gen = atomic_load(&t->task_gen);
        if (atomic_load(w ? &w->children : &t->task_pending) == 0)
            return 0;
        if (atomic_load(&t->broken))
            return fmp__broken_err(t);
        rec r;
        if (p && take(c, p, w, &r)) {
            run(c, p, r.parent, r.fn, r.big ? r.big : r.arg, r.big);
            continue;
        }
        int err = fmp__wait_change(t, &t->task_gen, gen, &t->task_sleepers);
        if (err)
            return err;
        if (!p)
            p = atomic_load_explicit(&t->tasks, memory_order_acquire);
    }
}

int fmp__task_drain(fmp__ctx *c)
{
    fmp__shteam *t = c->team;
    if (atomic_load(&t->task_pending) == 0)
        return 0;
    return wait_tasks(c, atomic_load_explicit(&t->tasks, memory_order_acquire), NULL);
}

int fmp__task_barrier_wait(fmp__ctx *c, uint32_t bar_gen)
{
    fmp__shteam *t = c->team;
    tasks *p = NULL;
    for (;;) {
        uint32_t gen = atomic_load(&t->task_gen);
        if (atomic_load(&t->bar_gen) != bar_gen)
            return 0;
        if (atomic_load(&t->broken))
            return fmp__broken_err(t);
        if (!p)
            p = atomic_load_explicit(&t->tasks, memory_order_acquire);
        rec r;
        if (p && atomic_load(&t->task_pending) && take(c, p, NULL, &r)) {
            run(c, p, r.parent, r.fn, r.big ? r.big : r.arg, r.big);
            continue;
        }
        int err = fmp__wait_change(t, &t->task_gen, gen, &t->task_sleepers);
        if (err)
            return err;
    }
}

/* Run fn at once in the caller on a private copy of the argument: outside a team, in a
   team past DEPTH_MAX (p or f NULL; the tasks it creates run at once too), or when the
   task cannot be queued (as a task of its own, so that a taskwait in it waits for its own
   children). */
static int run_now(fmp__ctx *c, tasks *p, frame *f, void (*fn)(void *), const void *arg,
                   size_t argsize)
{
    _Alignas(16) unsigned char local[TASK_INLINE];
    void *copy = local, *heap = NULL;
    if (argsize > TASK_INLINE) {
        copy = heap = malloc(argsize);
        if (!heap) {
            FMP__SAY(task_arg_memory, argsize, strerror(errno));
            return FMP_ENOMEM;
        }
    }
    if (argsize)
        memcpy(copy, arg, argsize);
    if (p && f) {
        atomic_fetch_add(&c->team->task_pending, 1);
        atomic_fetch_add(&f->children, 1);
        run(c, p, f, fn, copy, NULL);
    } else {
        c->task_depth++;
        fn(copy);
        c->task_depth--;
    }
    free(heap);
    return 0;
}

int fmp_task(void (*fn)(void *arg), const void *arg, size_t argsize)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    if (!fn || (argsize && !arg)) {
        FMP__SAY(task_args, fn ? "arg is NULL with argsize > 0" : "fn is NULL");
        return FMP_EINVAL;
    }
    fmp__shteam *t = c->team;
    if (!t)
        return run_now(c, NULL, NULL, fn, arg, argsize);
    if (atomic_load(&t->broken))
        return fmp__wait_failed(c, fmp__broken_err(t));
    tasks *p = pool(t);
    frame *f = p ? cur_frame(c, p) : NULL;
    if (!f)
        return run_now(c, p, f, fn, arg, argsize);
    void *big = NULL;
    if (argsize > TASK_INLINE) {
        big = fmp__arena_alloc(argsize);
        if (!big) /* the arena is full: run it here, on a private copy */
            return run_now(c, p, f, fn, arg, argsize);
        memcpy(big, arg, argsize);
    }
    deque *d = &p->d[c->me];
    int queued = 0;
    if (atomic_load_explicit(&d->size, memory_order_relaxed) < DEQUE_CAP && lock_deque(d)) {
        if (d->tail - d->head < DEQUE_CAP) {
            rec *r = &d->q[d->tail % DEQUE_CAP];
            r->fn = fn;
            r->parent = f;
            r->big = big;
            r->argsize = argsize;
            if (!big && argsize)
                memcpy(r->arg, arg, argsize);
            atomic_fetch_add(&t->task_pending, 1);
            atomic_fetch_add(&f->children, 1);
            d->tail++;
            atomic_store_explicit(&d->size, d->tail - d->head, memory_order_relaxed);
            queued = 1;
        }
        pthread_mutex_unlock(&d->lock);
    }
    if (!queued) { /* the deque is full: run it at once, as libgomp does when throttling */
        fmp__arena_free(big);
        return run_now(c, p, f, fn, arg, argsize);
    }
    bump(t);
    return 0;
}

int fmp_taskwait(void)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    fmp__shteam *t = c->team;
    if (!t)
        return 0;
    tasks *p = atomic_load_explicit(&t->tasks, memory_order_acquire);
    frame *f = p ? cur_frame(c, p) : NULL;
    int err = f ? wait_tasks(c, p, f) : 0;
    if (!err && atomic_load(&t->broken))
        err = fmp__broken_err(t);
    return fmp__wait_failed(c, err);
}
