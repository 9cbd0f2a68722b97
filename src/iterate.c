/* fmp_iterate: the master produces items, every member (the master too) consumes them.
 *
 * A bounded ring in shared memory, one sequence number per slot (a slot at position p
 * is free when seq == p, full when seq == p + 1, free for the next lap at p + cap).
 * The end of the stream is a flag beside the ring, never an item value, so no item can
 * end it early.  Waiting is on futex words that are bumped on every produce / release:
 * no polling sleeps.  A consumer that dies breaks the team, which wakes the producer. */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct iring {
    size_t itemsize;
    unsigned long cap;
    _Atomic unsigned long head FMP__ALIGNED; /* items produced */
    _Atomic unsigned long tail FMP__ALIGNED; /* items claimed by consumers */
    _Atomic uint32_t filled FMP__ALIGNED;    /* bumped at each produce and at the end */
    _Atomic uint32_t filled_sleepers;
    _Atomic uint32_t freed FMP__ALIGNED;     /* bumped at each release of a slot */
    _Atomic uint32_t freed_sleepers;
    _Atomic int done;
    _Atomic unsigned long *seq;
    char *data;
} iring;

typedef struct iter_info {
    size_t itemsize;
    int n;
    const char *file;
    int line;
} iter_info;

static void iter_init(fmp__desc *d, const void *data)
{
    const iter_info *ii = data;
    d->kind = FMP__K_ITERATE;
    d->itemsize = ii->itemsize;
    d->file = ii->file;
    d->line = ii->line;
    unsigned long cap = 4ul * (unsigned long)ii->n;
    if (cap < 8)
        cap = 8;
    while (cap > 8 && cap * ii->itemsize > (8u << 20))
        cap /= 2;
    size_t bytes = sizeof(iring) + cap * sizeof(unsigned long) + cap * ii->itemsize;
    iring *r = fmp__arena_alloc(bytes);
    if (r) {
        r->itemsize = ii->itemsize;
        r->cap = cap;
        r->seq = (void *)(r + 1);
        r->data = (char *)(r->seq + cap);
        for (unsigned long i = 0; i < cap; i++)
            atomic_store(&r->seq[i], i);
    }
    d->ptr = r;
}

static int iter_check(fmp__ctx *c, const fmp__desc *d, const void *data)
{
    const iter_info *ii = data;
    if (d->kind == FMP__K_ITERATE && d->itemsize == ii->itemsize)
        return 0;
    fmp__team_fail(c->team, FMP_EMISMATCH, c->me, FMP__HOW_MISMATCH, 0,
                   FMP__MSG_mismatch_iterate,
                   c->n, c->team->file, c->team->line, c->me, ii->file, ii->line, ii->itemsize,
                   d->member, fmp__kind_name(d->kind), d->file ? d->file : "?", d->line);
    return 1;
}

static void iter_cleanup(fmp__desc *d)
{
    fmp__arena_free(d->ptr);
}

static void bump(_Atomic uint32_t *w, _Atomic uint32_t *sleepers)
{
    atomic_fetch_add(w, 1);
    if (atomic_load(sleepers))
        fmp__futex_wake(w, INT_MAX);
}

/* Take one item if one is ready: 1 taken (copied to item), 0 none produced yet.
   The slot at tail can be in three states: produced (seq == pos + 1: claim it), not
   produced yet (seq == pos: nothing to take), or already taken by another consumer since
   we read tail (seq beyond pos + 1: read tail again).  Answering "none" in the third
   case would send this consumer to sleep on items that are ready, after the producer's
   last wake-up. */
static int try_take(iring *r, void *item)
{
    unsigned long pos = atomic_load(&r->tail);
    for (;;) {
        unsigned long s = atomic_load(&r->seq[pos % r->cap]);
        long dif = (long)(s - (pos + 1));
        if (dif < 0)
            return 0;
        if (dif > 0) {
            pos = atomic_load(&r->tail);
            continue;
        }
        if (atomic_compare_exchange_weak(&r->tail, &pos, pos + 1)) {
            memcpy(item, r->data + (pos % r->cap) * r->itemsize, r->itemsize);
            atomic_store(&r->seq[pos % r->cap], pos + r->cap);
            bump(&r->freed, &r->freed_sleepers);
            return 1;
        }
    }
}

/* Busy members look at their siblings' lives now and then: a member that dies while
   nobody sleeps must still stop the stream. */
#define LIVES_EVERY 16

static int stream_broken(fmp__ctx *c, long step)
{
    if ((step % LIVES_EVERY) == LIVES_EVERY - 1)
        return fmp__scan_lives(c->team);
    return atomic_load(&c->team->broken) != 0;
}

/* Consumers other than the master. */
static long consume(fmp__ctx *c, iring *r, void *item, void (*body)(const void *, void *),
                    void *arg, int *err)
{
    long got = 0;
    for (long step = 0;; step++) {
        uint32_t w = atomic_load(&r->filled);
        if (stream_broken(c, step)) { /* a member failed: the stream stops */
            *err = FMP_EBROKEN;
            return got;
        }
        if (try_take(r, item)) {
            body(item, arg);
            got++;
            continue;
        }
        if (atomic_load(&r->done) && atomic_load(&r->tail) == atomic_load(&r->head))
            return got;
        if ((*err = fmp__wait_change(c->team, &r->filled, w, &r->filled_sleepers)) != 0)
            return got;
    }
}

/* The master produces while there is room and consumes when the ring is full. */
static long produce(fmp__ctx *c, iring *r, int (*next)(void *, void *), void *state,
                    void *item, void (*body)(const void *, void *), void *arg, int *err)
{
    long got = 0;
    unsigned long p = 0;
    for (long step = 0;; step++) {
        uint32_t w = atomic_load(&r->freed);
        if (stream_broken(c, step)) { /* a member failed: the stream stops */
            *err = FMP_EBROKEN;
            return got;
        }
        if (atomic_load(&r->seq[p % r->cap]) == p) {
            char *slot = r->data + (p % r->cap) * r->itemsize;
            if (!next(slot, state))
                break;
            atomic_store(&r->seq[p % r->cap], p + 1);
            atomic_store(&r->head, ++p);
            bump(&r->filled, &r->filled_sleepers);
            continue;
        }
        if (try_take(r, item)) {
            body(item, arg);
            got++;
            continue;
        }
        if ((*err = fmp__wait_change(c->team, &r->freed, w, &r->freed_sleepers)) != 0)
            return got;
    }
    atomic_store(&r->done, 1);
    bump(&r->filled, &r->filled_sleepers);
    while (try_take(r, item)) {
        body(item, arg);
        got++;
    }
    return got;
}

long fmp__iterate_at(int (*next)(void *, void *), void *state, size_t itemsize,
                     void (*body)(const void *, void *), void *arg, const char *file, int line)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    /* an error of one member breaks its team: the others would wait for it */
    if (!body || (c->me == 0 && !next) || itemsize == 0 || itemsize > ((size_t)1 << 30))
        return fmp__wait_failed(c, fmp__usage_error(c, FMP_EINVAL, FMP__MSG_iterate_args, file,
                                                    line, c->me, body ? "" : " body is NULL;",
                                                    c->me == 0 && !next ? " next is NULL;" : "",
                                                    itemsize));
    void *item = malloc(itemsize);
    if (!item)
        return fmp__wait_failed(c, fmp__usage_error(c, FMP_ENOMEM, FMP__MSG_iterate_memory, file,
                                                    line, c->me, itemsize));
    long got = 0;
    if (!c->team) {
        while (next(item, state)) {
            body(item, arg);
            got++;
        }
        free(item);
        return got;
    }
    fmp__construct(c, FMP__K_ITERATE, file, line, (long)itemsize, 0, 0);
    iter_info ii = { itemsize, c->n, file, line };
    fmp__desc *d = fmp__desc_claim(c, iter_init, iter_check, &ii);
    if (!d) {
        free(item);
        return fmp__wait_failed(c, fmp__broken_err(c->team));
    }
    iring *r = d->ptr;
    int err = 0;
    if (!r) {
        err = fmp__team_fail(c->team, FMP_ENOMEM, c->me, FMP__HOW_USAGE, 0,
                             FMP__MSG_iterate_ring, file, line);
    } else if (c->me == 0) {
        got = produce(c, r, next, state, item, body, arg, &err);
    } else {
        got = consume(c, r, item, body, arg, &err);
    }
    free(item);
    fmp__desc_release(c, d, iter_cleanup);
    int rc = fmp__barrier(c, FMP__K_ITERATE, file, line);
    if (err || rc)
        return fmp__wait_failed(c, err ? err : rc);
    return got;
}

long(fmp_iterate)(int (*next)(void *, void *), void *state, size_t itemsize,
                  void (*body)(const void *, void *), void *arg)
{
    return fmp__iterate_at(next, state, itemsize, body, arg, "fmp_iterate()", 0);
}
