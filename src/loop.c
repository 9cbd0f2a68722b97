/* Loop schedules.  The loop macro runs each chunk as a plain inner for loop, so the
 * compiler sees an ordinary loop; this file only hands out chunks.  Static schedules
 * need no shared state (the chunked case is inline in forkmp.h); dynamic and guided
 * loops take chunks from the counter of a worksharing descriptor with one atomic
 * operation. */
#include "internal.h"
#include "messages.h"

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

fmp_schedule fmp_static(long chunk)
{
    fmp_schedule s = { FMP_SCHED_STATIC, chunk };
    return s;
}

fmp_schedule fmp_dynamic(long chunk)
{
    fmp_schedule s = { FMP_SCHED_DYNAMIC, chunk };
    return s;
}

fmp_schedule fmp_guided(long chunk)
{
    fmp_schedule s = { FMP_SCHED_GUIDED, chunk };
    return s;
}

fmp_schedule fmp_runtime(void)
{
    fmp_schedule s = { FMP_SCHED_RUNTIME, 0 };
    return s;
}

static const char *sched_name(int kind)
{
    switch (kind) {
    case FMP_SCHED_STATIC: return "fmp_static";
    case FMP_SCHED_DYNAMIC: return "fmp_dynamic";
    case FMP_SCHED_GUIDED: return "fmp_guided";
    case FMP_SCHED_RUNTIME: return "fmp_runtime";
    default: return "an invalid schedule";
    }
}

static unsigned long span_of(long begin, long end)
{
    return end > begin ? (unsigned long)end - (unsigned long)begin : 0;
}

typedef struct loop_info {
    long begin, end, chunk;
    int sched;
    const char *file;
    int line;
} loop_info;

static void loop_init(fmp__desc *d, const void *data)
{
    const loop_info *li = data;
    d->kind = FMP__K_FOR;
    d->sched = li->sched;
    d->begin = li->begin;
    d->end = li->end;
    d->chunk = li->chunk;
    d->file = li->file;
    d->line = li->line;
    atomic_store(&d->next, 0);
}

static int loop_check(fmp__ctx *c, const fmp__desc *d, const void *data)
{
    const loop_info *li = data;
    if (d->kind == FMP__K_FOR && d->sched == li->sched && d->begin == li->begin &&
        d->end == li->end && d->chunk == li->chunk && d->line == li->line)
        return 0;
    fmp__team_fail(c->team, FMP_EMISMATCH, c->me, FMP__HOW_MISMATCH, 0,
                   FMP__MSG_mismatch_for,
                   c->n, c->team->file, c->team->line, c->me, li->file, li->line, li->begin,
                   li->end, sched_name(li->sched), li->chunk, c->ws_index - 1, d->member,
                   fmp__kind_name(d->kind), d->file ? d->file : "?", d->line, d->begin, d->end,
                   sched_name(d->sched), d->chunk);
    return 1;
}

static fmp__loop loop_begin(fmp__ctx *c, long begin, long end, fmp_schedule s, int nowait,
                            const char *file, int line, int tracked)
{
    fmp__loop l;
    l.lo = l.hi = 0;
    l.begin = begin;
    l.end = end;
    l.chunk = 0;
    l.next = 0;
    l.me = c->me;
    l.n = c->n;
    l.kind = 0;
    l.nowait = nowait;
    l.desc = NULL;
    l.team = c->team;
    l.file = file;
    l.line = line;
    l.chunk_done = tracked ? 1 : -1;
    if (s.kind == FMP_SCHED_RUNTIME)
        s = fmp__g_icv.run_sched;
    if (s.kind < FMP_SCHED_STATIC || s.kind > FMP_SCHED_GUIDED || s.chunk < 0) {
        if (s.kind < FMP_SCHED_STATIC || s.kind > FMP_SCHED_GUIDED)
            fmp__usage_error(c, FMP_EINVAL,
                             FMP__MSG_for_bad_kind,
                             file, line, (int)s.kind);
        else
            fmp__usage_error(c, FMP_EINVAL,
                             FMP__MSG_for_bad_chunk,
                             file, line, sched_name(s.kind), s.chunk);
        if (c->team)
            fmp__broken_in_construct(c);
        return l;
    }
    if (!c->team) {
        /* a team of one: the whole range at once */
        l.kind = FMP_SCHED_STATIC;
        return l;
    }
    if (atomic_load(&c->team->broken)) {
        fmp__broken_in_construct(c);
        return l;
    }
    fmp__construct(c, FMP__K_FOR, file, line, begin, end, ((long)s.kind << 56) ^ s.chunk);
    if (s.kind == FMP_SCHED_STATIC) {
        l.kind = FMP_SCHED_STATIC;
        l.chunk = s.chunk;
        l.next = s.chunk > 0 ? (unsigned long)c->me : 0;
        return l;
    }
    loop_info li = { begin, end, s.chunk > 0 ? s.chunk : 1, s.kind, file, line };
    l.chunk = li.chunk;
    l.desc = fmp__desc_claim(c, loop_init, loop_check, &li);
    if (!l.desc) {
        fmp__broken_in_construct(c);
        return l;
    }
    l.kind = s.kind;
    return l;
}

/* The macro of programs built against this version: chunks left by break are seen. */
fmp__loop fmp__loop_enter(long begin, long end, fmp_schedule s, int nowait, const char *file,
                          int line)
{
    return loop_begin(FMP__CUR_ENTRY(), begin, end, s, nowait, file, line, 1);
}

/* The entry of programs built against forkmp 0.1 (their macro does not track chunks). */
fmp__loop fmp__loop_begin(long begin, long end, fmp_schedule s, int nowait, const char *file,
                          int line)
{
    return loop_begin(fmp__cur(), begin, end, s, nowait, file, line, 0);
}

static int set_chunk(fmp__loop *l, unsigned long start, unsigned long len, unsigned long span)
{
    l->lo = (long)((unsigned long)l->begin + start);
    l->hi = (span - start > len) ? (long)((unsigned long)l->lo + len) : l->end;
    if (l->chunk_done >= 0)
        l->chunk_done = 0;
    return 1;
}

int fmp__loop_broke(fmp__loop *l)
{
    l->chunk_done = 1;
    fmp__ctx *c = fmp__g.cur;
    if (c->team) {
        /* one member broke out: the report says which (member, pid), as for a member
           that leaves the region's block */
        char who[256], what[512];
        fmp__member_desc(who, sizeof who, c->team, c->me, (int)getpid());
        snprintf(what, sizeof what, FMP__MSG_for_break, l->file, l->line);
        fmp__usage_error(c, FMP_EINVAL, FMP__MSG_member_did, who, what);
        l->kind = 0;
        if (l->desc)
            fmp__desc_release(c, l->desc, NULL);
        fmp__broken_in_construct(c);
        return 0;
    }
    /* one process: break ended the loop as in a serial loop, but would not in a team */
    if (fmp__first_report(l->file, l->line))
        fmp__usage_error(c, FMP_EINVAL, FMP__MSG_for_break, l->file, l->line);
    l->kind = 0;
    return 0;
}

/* A loop of a broken team hands out nothing more: every LIVES_EVERY chunks (l->next counts
   the chunks of a dynamic or guided loop) a member looks at the team's state and at its
   siblings' lives, so that a member that dies while nobody sleeps still stops the loop
   within that many chunks, at no cost to the chunks between. */
#define LIVES_EVERY 64

static int team_broken(fmp__loop *l)
{
    fmp__shteam *t = l->team;
    if (!t || (++l->next % LIVES_EVERY) != 0)
        return 0;
    return fmp__scan_lives(t);
}

static int grab_dynamic(fmp__loop *l, fmp__desc *d)
{
    if (team_broken(l))
        return 0;
    unsigned long span = span_of(l->begin, l->end);
    unsigned long chunk = (unsigned long)l->chunk;
    if (span < ULONG_MAX / 2 - (unsigned long)l->n * chunk) {
        if (atomic_load_explicit(&d->next, memory_order_relaxed) >= span)
            return 0;
        unsigned long start = atomic_fetch_add(&d->next, chunk);
        return start < span ? set_chunk(l, start, chunk, span) : 0;
    }
    /* huge ranges: never let the counter wrap */
    unsigned long cur = atomic_load(&d->next);
    while (cur < span) {
        unsigned long len = span - cur < chunk ? span - cur : chunk;
        if (atomic_compare_exchange_weak(&d->next, &cur, cur + len))
            return set_chunk(l, cur, len, span);
    }
    return 0;
}

static int grab_guided(fmp__loop *l, fmp__desc *d)
{
    if (team_broken(l))
        return 0;
    unsigned long span = span_of(l->begin, l->end);
    unsigned long min = (unsigned long)l->chunk;
    unsigned long n = (unsigned long)l->n;
    unsigned long cur = atomic_load(&d->next);
    while (cur < span) {
        unsigned long rem = span - cur;
        unsigned long q = rem / n + (rem % n != 0);
        if (q < min)
            q = min;
        if (q > rem)
            q = rem;
        if (atomic_compare_exchange_weak(&d->next, &cur, cur + q))
            return set_chunk(l, cur, q, span);
    }
    return 0;
}

int fmp__loop_more(fmp__loop *l)
{
    switch (l->kind) {
    case 0:
        return 0;
    case FMP_SCHED_STATIC:
        if (l->chunk == 0 && l->next == 0) {
            l->next = 1;
            unsigned long span = span_of(l->begin, l->end);
            unsigned long n = (unsigned long)l->n, me = (unsigned long)l->me;
            unsigned long q = span / n, r = span % n;
            unsigned long start = me < r ? me * (q + 1) : r * (q + 1) + (me - r) * q;
            unsigned long len = me < r ? q + 1 : q;
            if (len > 0)
                return set_chunk(l, start, len, span);
        }
        break;
    case FMP_SCHED_DYNAMIC:
        if (grab_dynamic(l, l->desc))
            return 1;
        break;
    case FMP_SCHED_GUIDED:
        if (grab_guided(l, l->desc))
            return 1;
        break;
    }
    /* the end of the loop */
    l->kind = 0;
    fmp__ctx *c = fmp__g.cur;
    if (!c->team)
        return 0;
    if (l->desc)
        fmp__desc_release(c, l->desc, NULL);
    if (!l->nowait && fmp__barrier(c, FMP__K_FOR_END, l->file, l->line))
        fmp__broken_in_construct(c);
    return 0;
}
