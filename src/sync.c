/* Synchronisation: waiting, the barrier (which also checks that every member met the
 * same constructs), the worksharing descriptor ring, singles, criticals and locks. */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- signatures */

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

void fmp__construct(fmp__ctx *c, int kind, const char *file, int line, long a, long b, long d)
{
    c->count++;
    uint64_t h = mix(c->sig, (uint64_t)kind);
    h = mix(h, (uint64_t)a);
    h = mix(h, (uint64_t)b);
    h = mix(h, (uint64_t)d);
    if (kind == FMP__K_FOR || kind == FMP__K_SINGLE || kind == FMP__K_FOR_STEP ||
        kind == FMP__K_FOR_COLLAPSE || kind == FMP__K_FOR_ORDERED)
        h = mix(mix(h, (uint64_t)(uintptr_t)file), (uint64_t)line);
    c->sig = h;
    c->last_kind = kind;
    c->last_file = file;
    c->last_line = line;
    c->last_args[0] = a;
    c->last_args[1] = b;
    c->last_args[2] = d;
}

void fmp__construct_mix(fmp__ctx *c, long v)
{
    c->sig = mix(c->sig, (uint64_t)v);
}

static void describe(char *buf, size_t len, const fmp__barrec *s)
{
    char last[256] = "";
    const long *a = s->last_args;
    if (s->count == 0)
        ; /* nothing met before */
    else if (s->last_kind == FMP__K_REDUCE || s->last_kind == FMP__K_REDUCE_INTO)
        snprintf(last, sizeof last, FMP__MSG_mismatch_last_reduce, fmp__kind_name(s->last_kind),
                 s->last_file ? s->last_file : "-", s->last_line, a[0], fmp__type_name(a[1]),
                 fmp__op_name(a[2]));
    else
        snprintf(last, sizeof last, FMP__MSG_mismatch_last, fmp__kind_name(s->last_kind),
                 s->last_file ? s->last_file : "-", s->last_line, a[0], a[1], a[2]);
    snprintf(buf, len, FMP__MSG_mismatch_point, fmp__kind_name(s->kind), s->file ? s->file : "?",
             s->line, s->count, s->count == 1 ? "" : "s", last);
}

/* The last member to arrive compares what every member met. */
static int check_barrier(fmp__ctx *c, fmp__shteam *t)
{
    const fmp__barrec *a = fmp__bar(t, 0);
    for (int m = 1; m < t->n; m++) {
        const fmp__barrec *b = fmp__bar(t, m);
        if (b->count == a->count && b->sig == a->sig && b->kind == a->kind)
            continue;
        char la[320], lb[320];
        describe(la, sizeof la, a);
        describe(lb, sizeof lb, b);
        return fmp__team_fail(t, FMP_EMISMATCH, m, FMP__HOW_MISMATCH, 0,
                              FMP__MSG_mismatch_barrier,
                              t->n, t->file, t->line, la, m, lb);
    }
    (void)c;
    return 0;
}

/* Drop entry k of the criticals this process holds. */
static void forget_held(int k)
{
    for (int j = k; j + 1 < fmp__g.crit_held; j++) {
        fmp__g.crit_ctx[j] = fmp__g.crit_ctx[j + 1];
        fmp__g.crit_idx[j] = fmp__g.crit_idx[j + 1];
        fmp__g.crit_file[j] = fmp__g.crit_file[j + 1];
        fmp__g.crit_line[j] = fmp__g.crit_line[j + 1];
    }
    fmp__g.crit_held--;
}

/* A member that waits in a barrier while it holds a critical section deadlocks its
   team (the others queue for the critical): say so, break the team, release them. */
static int held_critical(fmp__ctx *c, int kind, const char *file, int line)
{
    fmp__shteam *t = c->team;
    int k = fmp__g.crit_held - 1;
    while (k >= 0 && fmp__g.crit_ctx[k] != c)
        k--;
    if (k < 0)
        return 0; /* held since before this region: the region's members never take it */
    char who[256];
    fmp__member_desc(who, sizeof who, t, c->me, (int)getpid());
    int err = fmp__team_fail(t, FMP_ESTATE, c->me, FMP__HOW_USAGE, 0,
                             FMP__MSG_barrier_in_critical, who, fmp__kind_name(kind), file,
                             line, fmp__g.crit_file[k], fmp__g.crit_line[k]);
    /* release what was entered in this region, so that the members queued for it see
       the broken team */
    for (int j = fmp__g.crit_held - 1; j >= 0; j--)
        if (fmp__g.crit_ctx[j] == c) {
            fmp__plock_unlock(fmp__arena_crit_lock(fmp__g.crit_idx[j]));
            forget_held(j);
        }
    return err;
}

int fmp__barrier(fmp__ctx *c, int kind, const char *file, int line)
{
    return fmp__barrier_fold(c, kind, file, line, NULL);
}

int fmp__barrier_fold(fmp__ctx *c, int kind, const char *file, int line, const fmp__fold *fold)
{
    fmp__flush_stdio();
    fmp__shteam *t = c->team;
    if (!t)
        return 0;
    if (atomic_load(&t->broken))
        return fmp__broken_err(t);
    if (FMP__UNLIKELY(fmp__g.crit_held > 0)) {
        int err = held_critical(c, kind, file, line);
        if (err)
            return err;
    }
    fmp__barrec *s = fmp__bar(t, c->me);
    s->count = c->count;
    s->sig = c->sig;
    s->kind = kind;
    s->file = file;
    s->line = line;
    s->last_kind = c->last_kind;
    s->last_file = c->last_file;
    s->last_line = c->last_line;
    memcpy(s->last_args, c->last_args, sizeof s->last_args);
    uint32_t gen = atomic_load(&t->bar_gen);
    s->ws = c->ws_index;
    atomic_store(&s->wait, (uint64_t)gen | (1ULL << 32));
    if (atomic_load(&t->ordered_loops) && fmp__ordered_skipped(c))
        return fmp__broken_err(t);
    int last = t->tree ? fmp__tree_arrive(t, c->me, fold)
                       : atomic_fetch_add(&t->bar_arrived, 1) == (uint32_t)t->n - 1;
    if (last) {
        /* every task of the team is complete at a barrier: the last to arrive runs them
           (with the others, who run them while they wait) before it releases */
        int err = fmp__task_drain(c);
        if (!err)
            err = check_barrier(c, t);
        atomic_store(&t->bar_arrived, 0);
        atomic_store(&t->bar_gen, gen + 1);
        fmp__task_release(t);
        if (atomic_load(&t->bar_sleepers))
            fmp__futex_wake(&t->bar_gen, INT_MAX);
        return err;
    }
    int err = fmp__task_barrier_wait(c, gen);
    if (!err && atomic_load(&t->broken))
        err = fmp__broken_err(t);
    return err;
}

int fmp__barrier_at(const char *file, int line)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    if (c->team)
        fmp__construct(c, FMP__K_BARRIER, file, line, 0, 0, 0);
    return fmp__wait_failed(c, fmp__barrier(c, FMP__K_BARRIER, file, line));
}

int(fmp_barrier)(void)
{
    return fmp__barrier_at("fmp_barrier()", 0);
}

/* ---------------------------------------------------------------- descriptor ring */

fmp__desc *fmp__desc_claim(fmp__ctx *c, void (*init)(fmp__desc *, const void *),
                           int (*check)(fmp__ctx *, const fmp__desc *, const void *),
                           const void *data)
{
    fmp__shteam *t = c->team;
    uint64_t k = c->ws_index++;
    fmp__desc *d = &t->ring[k % FMP__RING];
    uint64_t want = 3 * k;
    for (;;) {
        uint64_t tk = atomic_load(&d->ticket);
        if (tk == want + 2)
            return check(c, d, data) ? NULL : d;
        if (tk == want) {
            if (atomic_compare_exchange_strong(&d->ticket, &tk, want + 1)) {
                d->member = c->me;
                init(d, data);
                atomic_store(&d->ticket, want + 2);
                atomic_fetch_add(&d->wake, 1);
                if (atomic_load(&t->ring_sleepers))
                    fmp__futex_wake(&d->wake, INT_MAX);
                return d;
            }
            continue;
        }
        if (atomic_load(&t->broken))
            return NULL;
        if (tk == want + 1) { /* being filled: a few instructions away */
            fmp__cpu_relax();
            continue;
        }
        /* the slowest member has not yet left the construct RING places back */
        uint32_t w = atomic_load(&d->wake);
        if (atomic_load(&d->ticket) != tk)
            continue;
        if (fmp__wait_change(t, &d->wake, w, &t->ring_sleepers))
            return NULL;
    }
}

void fmp__desc_release(fmp__ctx *c, fmp__desc *d, void (*cleanup)(fmp__desc *))
{
    fmp__shteam *t = c->team;
    if (atomic_fetch_add(&d->done, 1) + 1 == (uint32_t)t->n) {
        if (cleanup)
            cleanup(d);
        atomic_store(&d->done, 0);
        atomic_store(&d->next, 0);
        atomic_store(&d->ord_next, 0);
        d->ptr = NULL;
        uint64_t tk = atomic_load(&d->ticket);
        atomic_store(&d->ticket, tk - 2 + 3 * (uint64_t)FMP__RING);
        atomic_fetch_add(&d->wake, 1);
        if (atomic_load(&t->ring_sleepers))
            fmp__futex_wake(&d->wake, INT_MAX);
    }
}

/* ---------------------------------------------------------------- singles */

static int single_claim(fmp__ctx *c, const char *file, int line)
{
    fmp__shteam *t = c->team;
    if (!t)
        return 1;
    if (atomic_load(&t->broken)) {
        fmp__broken_in_construct(c);
        return 0;
    }
    fmp__construct(c, FMP__K_SINGLE, file, line, 0, 0, 0);
    unsigned long mine = c->single_local++;
    unsigned long expect = mine;
    if (atomic_load_explicit(&t->single_count, memory_order_relaxed) != mine)
        return 0;
    return atomic_compare_exchange_strong(&t->single_count, &expect, mine + 1);
}

fmp__once fmp__single_begin(const char *file, int line)
{
    fmp__once o = { 0, FMP__K_SINGLE, file, line };
    o.run = single_claim(FMP__CUR_ENTRY(), file, line);
    return o;
}

void fmp__single_end(fmp__once *o)
{
    fmp__ctx *c = fmp__g.cur;
    if (o->run) /* the block did not run to its end: left by break, goto or return */
        fmp__block_left("FMP_SINGLE", o->file, o->line);
    if (!c->team)
        return;
    if (fmp__barrier(c, FMP__K_SINGLE_END, o->file, o->line))
        fmp__broken_in_construct(c);
}

int fmp__single_at(const char *file, int line)
{
    return single_claim(FMP__CUR_ENTRY(), file, line);
}

int(fmp_single)(void)
{
    return fmp__single_at("fmp_single()", 0);
}

/* ---------------------------------------------------------------- criticals */

static unsigned name_hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

fmp__once fmp__critical_enter(const char *name, const char *file, int line)
{
    fmp__ensure_init();
    fmp__once o = { 0, 0, file, line };
    /* as in OpenMP, criticals exclude every process of the program (of this rank) */
    unsigned idx = name ? 1 + name_hash(name) % (FMP__CRIT_LOCKS - 1) : 0;
    fmp__plock *m = fmp__arena_crit_lock(idx);
    if (!m)
        return o;
    int rc = fmp__plock_lock(m);
    if (rc == 1)
        FMP__SAY(owner_dead, "FMP_CRITICAL", file, line);
    if (rc == -EDEADLK) {
        fmp__usage_error(fmp__g.cur, FMP_ESTATE,
                         FMP__MSG_critical_again,
                         file, line);
        return o;
    }
    if (rc < 0)
        return o;
    fmp__ctx *c = fmp__g.cur;
    if (c->team && atomic_load(&c->team->broken)) {
        /* the team failed while we queued: the block does not run */
        fmp__plock_unlock(m);
        fmp__broken_in_construct(c);
        return o;
    }
    o.run = 1;
    o.kind = (int)idx + 1; /* held: released by fmp__critical_leave */
    if (fmp__g.crit_held < FMP__MAX_HELD_CRIT) {
        int k = fmp__g.crit_held++;
        fmp__g.crit_ctx[k] = c;
        fmp__g.crit_idx[k] = idx;
        fmp__g.crit_file[k] = file;
        fmp__g.crit_line[k] = line;
    }
    return o;
}

void fmp__critical_leave(fmp__once *o)
{
    int jumped = o->run; /* the block did not run to its end: left by break, goto or return */
    if (o->kind > 0) {
        unsigned idx = (unsigned)o->kind - 1;
        /* forget it (the innermost entry with this lock) */
        for (int k = fmp__g.crit_held - 1; k >= 0; k--)
            if (fmp__g.crit_idx[k] == idx) {
                forget_held(k);
                break;
            }
        fmp__plock_unlock(fmp__arena_crit_lock(idx));
        o->kind = 0;
    }
    if (jumped)
        fmp__block_left("FMP_CRITICAL", o->file, o->line);
}

/* ---------------------------------------------------------------- locks */

struct fmp_lock {
    fmp__plock l;
};

fmp_lock *fmp_lock_create(void)
{
    fmp__ensure_init();
    return fmp__arena_alloc(sizeof(fmp_lock)); /* zero-filled: a free lock */
}

void fmp_lock_destroy(fmp_lock *l)
{
    if (l)
        fmp__arena_free(l);
}

int fmp_lock_set(fmp_lock *l)
{
    if (!l)
        return FMP_EINVAL;
    int rc = fmp__plock_lock(&l->l);
    if (rc == 1)
        return FMP_EOWNERDEAD;
    return rc;
}

int fmp_lock_unset(fmp_lock *l)
{
    if (!l)
        return FMP_EINVAL;
    return fmp__plock_unlock(&l->l);
}

int fmp_lock_test(fmp_lock *l)
{
    if (!l)
        return FMP_EINVAL;
    int rc = fmp__plock_trylock(&l->l);
    if (rc == 0)
        return 1;
    if (rc == 1)
        return FMP_EOWNERDEAD;
    return 0; /* held, by another process or by the caller */
}
