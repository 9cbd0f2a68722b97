/* Loop schedules.  The loop macro runs each chunk as a plain inner for loop, so the
 * compiler sees an ordinary loop; this file only hands out chunks.  Static schedules
 * need no shared state (the chunked case is inline in forkmp.h); dynamic and guided
 * loops take chunks from the counter of a worksharing descriptor with one atomic
 * operation. */
#include "internal.h"
#include "messages.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
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

/* What a loop is, as every member of the team must agree: its kind, the program's bounds
   (arg2, arg3: a step loop's step, a collapsed loop's inner bounds) and schedule; and the
   space [sbegin, send) of logical iterations its chunks are taken from. */
typedef struct loop_info {
    int kind;
    long begin, end, chunk;
    long arg2, arg3;
    long sbegin, send;
    int sched;
    const char *file;
    int line;
    fmp__shteam *team;
} loop_info;

/* A dynamic loop whose counter cannot wrap (every loop but those of nearly ULONG_MAX
   iterations): a chunk is one fetch-and-add on the descriptor's counter, with no look at
   it first (one transfer of its line per chunk, not two), and each member's first chunk
   is chunk number `me`, taken without the counter, which starts after the team's first
   n chunks. */
static int dynamic_plain(unsigned long span, unsigned long chunk, unsigned long n)
{
    return chunk <= ULONG_MAX / 4 / n && span < ULONG_MAX / 2 - n * chunk;
}

static void loop_init(fmp__desc *d, const void *data)
{
    const loop_info *li = data;
    d->kind = li->kind;
    d->sched = li->sched;
    d->begin = li->begin;
    d->end = li->end;
    d->chunk = li->chunk;
    d->arg2 = li->arg2;
    d->arg3 = li->arg3;
    d->file = li->file;
    d->line = li->line;
    unsigned long n = (unsigned long)li->team->n, chunk = (unsigned long)li->chunk;
    int plain =
        li->sched == FMP_SCHED_DYNAMIC && dynamic_plain(span_of(li->sbegin, li->send), chunk, n);
    atomic_store(&d->next, plain ? n * chunk : 0);
    if (li->kind == FMP__K_FOR_ORDERED) {
        atomic_store(&d->ord_next, 0);
        d->ptr = li->team;
        atomic_fetch_add(&li->team->ordered_loops, 1);
    }
}

/* The last member leaves an ordered loop's descriptor. */
static void ordered_release(fmp__desc *d)
{
    fmp__shteam *t = d->ptr;
    atomic_fetch_sub(&t->ordered_loops, 1);
}

/* A loop's bounds in the words of the mismatch_loop message. */
static void describe_range(char *buf, size_t len, int kind, long begin, long end, long arg2,
                           long arg3)
{
    if (kind == FMP__K_FOR_STEP)
        snprintf(buf, len, FMP__MSG_loop_range_step, begin, end, arg2);
    else if (kind == FMP__K_FOR_COLLAPSE)
        snprintf(buf, len, FMP__MSG_loop_range_collapse, begin, end, arg2, arg3);
    else
        snprintf(buf, len, FMP__MSG_loop_range, begin, end);
}

static int loop_check(fmp__ctx *c, const fmp__desc *d, const void *data)
{
    const loop_info *li = data;
    if (d->kind == li->kind && d->sched == li->sched && d->begin == li->begin &&
        d->end == li->end && d->chunk == li->chunk && d->arg2 == li->arg2 && d->arg3 == li->arg3 &&
        d->line == li->line)
        return 0;
    if (li->kind == FMP__K_FOR) {
        fmp__team_fail(c->team, FMP_EMISMATCH, c->me, FMP__HOW_MISMATCH, 0, FMP__MSG_mismatch_for,
                       c->n, c->team->file, c->team->line, c->me, li->file, li->line, li->begin,
                       li->end, sched_name(li->sched), li->chunk, c->ws_index - 1, d->member,
                       fmp__kind_name(d->kind), d->file ? d->file : "?", d->line, d->begin, d->end,
                       sched_name(d->sched), d->chunk);
        return 1;
    }
    char mine[128], theirs[128];
    describe_range(mine, sizeof mine, li->kind, li->begin, li->end, li->arg2, li->arg3);
    describe_range(theirs, sizeof theirs, d->kind, d->begin, d->end, d->arg2, d->arg3);
    fmp__team_fail(c->team, FMP_EMISMATCH, c->me, FMP__HOW_MISMATCH, 0, FMP__MSG_mismatch_loop,
                   c->n, c->team->file, c->team->line, c->me, fmp__kind_name(li->kind), li->file,
                   li->line, mine, sched_name(li->sched), li->chunk, c->ws_index - 1, d->member,
                   fmp__kind_name(d->kind), d->file ? d->file : "?", d->line, theirs,
                   sched_name(d->sched), d->chunk);
    return 1;
}

static fmp__loop loop_none(fmp__ctx *c, long begin, long end, int nowait, const char *file,
                           int line, int tracked)
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
    return l;
}

/* A usage error of a loop (bad schedule, step 0, too many iterations): reported, and in a
   team a failure of the team; the loop runs no iteration. */
#define loop_refused(c, l, err, ...)                                                               \
    ({                                                                                             \
        fmp__usage_error((c), (err), __VA_ARGS__);                                                 \
        if ((c)->team)                                                                             \
            fmp__broken_in_construct(c);                                                           \
        (l);                                                                                       \
    })

static int ordered_check_members(fmp__ctx *c, const fmp__desc *d, unsigned long k);

static fmp__loop loop_begin(fmp__ctx *c, loop_info *li, fmp_schedule s, int nowait, int tracked)
{
    const char *file = li->file;
    int line = li->line;
    fmp__loop l = loop_none(c, li->sbegin, li->send, nowait, file, line, tracked);
    if (s.kind == FMP_SCHED_RUNTIME)
        s = fmp__g_icv.run_sched;
    if (s.kind < FMP_SCHED_STATIC || s.kind > FMP_SCHED_GUIDED)
        return loop_refused(c, l, FMP_EINVAL, FMP__MSG_for_bad_kind, fmp__kind_name(li->kind), file,
                            line, (int)s.kind);
    if (s.chunk < 0)
        return loop_refused(c, l, FMP_EINVAL, FMP__MSG_for_bad_chunk, fmp__kind_name(li->kind),
                            file, line, sched_name(s.kind), s.chunk);
    if (!c->team) {
        /* a team of one: the whole range at once */
        l.kind = FMP_SCHED_STATIC;
        return l;
    }
    if (atomic_load(&c->team->broken)) {
        fmp__broken_in_construct(c);
        return l;
    }
    fmp__construct(c, li->kind, file, line, li->begin, li->end, ((long)s.kind << 56) ^ s.chunk);
    if (li->kind != FMP__K_FOR) {
        fmp__construct_mix(c, li->arg2);
        fmp__construct_mix(c, li->arg3);
    }
    int ordered = li->kind == FMP__K_FOR_ORDERED;
    if (s.kind == FMP_SCHED_STATIC && !ordered) {
        l.kind = FMP_SCHED_STATIC;
        l.chunk = s.chunk;
        l.next = s.chunk > 0 ? (unsigned long)c->me : 0;
        return l;
    }
    /* dynamic and guided loops take chunks from a descriptor; an ordered loop keeps its
       turn there, whatever its schedule */
    li->sched = s.kind;
    li->chunk = s.kind == FMP_SCHED_STATIC ? s.chunk : s.chunk > 0 ? s.chunk : 1;
    li->team = c->team;
    l.chunk = li->chunk;
    fmp__desc *d = fmp__desc_claim(c, loop_init, loop_check, li);
    if (!d) {
        fmp__broken_in_construct(c);
        return l;
    }
    if (ordered && ordered_check_members(c, d, c->ws_index - 1)) {
        fmp__desc_release(c, d, ordered_release);
        fmp__broken_in_construct(c);
        return l;
    }
    l.desc = d;
    l.kind = s.kind;
    if (s.kind == FMP_SCHED_STATIC)
        l.next = s.chunk > 0 ? (unsigned long)c->me : 0;
    return l;
}

static fmp__loop for_begin(fmp__ctx *c, long begin, long end, fmp_schedule s, int nowait,
                           const char *file, int line, int tracked)
{
    loop_info li = {FMP__K_FOR, begin, end, 0, 0, 0, begin, end, 0, file, line, NULL};
    return loop_begin(c, &li, s, nowait, tracked);
}

/* The macro of programs built against this version: chunks left by break are seen. */
fmp__loop fmp__loop_enter(long begin, long end, fmp_schedule s, int nowait, const char *file,
                          int line)
{
    return for_begin(FMP__CUR_ENTRY(), begin, end, s, nowait, file, line, 1);
}

/* The entry of programs built against forkmp 0.1 (their macro does not track chunks). */
fmp__loop fmp__loop_begin(long begin, long end, fmp_schedule s, int nowait, const char *file,
                          int line)
{
    return for_begin(fmp__cur(), begin, end, s, nowait, file, line, 0);
}

static fmp__loopx loopx_none(fmp__loop l)
{
    fmp__loopx x;
    memset(&x, 0, sizeof x);
    x.l = l;
    x.step = 1;
    x.inner = 1;
    return x;
}

/* Logical iterations [LONG_MIN, LONG_MIN + count): every count up to ULONG_MAX fits. */
static long space_end(unsigned long count)
{
    return (long)((unsigned long)LONG_MIN + count);
}

fmp__loopx fmp__loop_step_enter(long begin, long end, long step, fmp_schedule s, int nowait,
                                const char *file, int line)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    unsigned long count = 0;
    if (step > 0 && end > begin)
        count = ((unsigned long)end - (unsigned long)begin - 1) / (unsigned long)step + 1;
    else if (step < 0 && begin > end)
        count = ((unsigned long)begin - (unsigned long)end - 1) / (0UL - (unsigned long)step) + 1;
    loop_info li = {FMP__K_FOR_STEP,  begin, end,  0,    step, 0, LONG_MIN,
                    space_end(count), 0,     file, line, NULL};
    fmp__loopx x = loopx_none(loop_none(c, li.sbegin, li.send, nowait, file, line, 1));
    x.first = begin;
    x.step = (unsigned long)step;
    if (step == 0) {
        x.l = loop_refused(c, x.l, FMP_EINVAL, FMP__MSG_for_step_zero, file, line, begin, end);
        return x;
    }
    x.l = loop_begin(c, &li, s, nowait, 1);
    return x;
}

fmp__loopx fmp__loop_collapse_enter(long a, long b, long ilo, long ihi, fmp_schedule s, int nowait,
                                    const char *file, int line)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    unsigned long outer = span_of(a, b), inner = span_of(ilo, ihi);
    int over = inner && outer > ULONG_MAX / inner;
    unsigned long count = over ? 0 : outer * inner;
    loop_info li = {FMP__K_FOR_COLLAPSE, a, b,    0,    ilo, ihi, LONG_MIN,
                    space_end(count),    0, file, line, NULL};
    fmp__loopx x = loopx_none(loop_none(c, li.sbegin, li.send, nowait, file, line, 1));
    x.first = a;
    x.ibegin = ilo;
    x.iend = ihi;
    x.inner = inner ? inner : 1;
    if (over) {
        x.l = loop_refused(c, x.l, FMP_EOVERFLOW, FMP__MSG_for_collapse_overflow, file, line, a, b,
                           ilo, ihi, outer, inner);
        return x;
    }
    x.l = loop_begin(c, &li, s, nowait, 1);
    return x;
}

static int set_chunk(fmp__loop *l, unsigned long start, unsigned long len, unsigned long span)
{
    l->lo = (long)((unsigned long)l->begin + start);
    l->hi = (span - start > len) ? (long)((unsigned long)l->lo + len) : l->end;
    if (l->chunk_done >= 0)
        l->chunk_done = 0;
    return 1;
}

/* Leave a loop's descriptor (an ordered loop's is counted in its team). */
static void loop_release(fmp__ctx *c, fmp__desc *d)
{
    fmp__desc_release(c, d, d->kind == FMP__K_FOR_ORDERED ? ordered_release : NULL);
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
            loop_release(c, l->desc);
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
    if (dynamic_plain(span, chunk, (unsigned long)l->n)) {
        /* l->next is 1 at the member's first chunk (team_broken counts them) */
        unsigned long start =
            l->next == 1 ? (unsigned long)l->me * chunk
                         : atomic_fetch_add_explicit(&d->next, chunk, memory_order_relaxed);
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
        loop_release(c, l->desc);
    if (!l->nowait && fmp__barrier(c, FMP__K_FOR_END, l->file, l->line))
        fmp__broken_in_construct(c);
    return 0;
}

/* ---------------------------------------------------------------- ordered loops */

/* An ordered loop hands out its chunks as FMP_FOR does; its descriptor holds the turn:
 * ord_next, the offset of the iteration whose ordered block runs next.  A member passes
 * the turn on when its iteration's block ends, and for the iterations of its chunk that
 * ran no block when the chunk ends (x->passed is its first iteration whose turn it has
 * not passed, x->inner the end of its chunk, both as offsets from the loop's begin).
 * Every wait for a turn is a wait of the team (fmp__wait_change): a member's death
 * breaks the team and ends it.  A member that skips the loop and waits in a barrier
 * instead would leave the others waiting for its turns: whichever of the two comes
 * second sees the other (ordered_check_members, fmp__ordered_skipped) and fails the
 * team. */

static unsigned long ord_offset(const fmp__loopx *x, long i)
{
    return (unsigned long)i - (unsigned long)x->l.begin;
}

/* Member m waits in the team's current barrier, having claimed no descriptor from k on. */
static int waits_elsewhere(fmp__shteam *t, int m, unsigned long k)
{
    const fmp__barrec *s = fmp__bar(t, m);
    uint64_t w = atomic_load(&s->wait);
    return w == ((uint64_t)atomic_load(&t->bar_gen) | (1ULL << 32)) && s->ws <= k;
}

static int skipped(fmp__shteam *t, int m, const fmp__desc *d, unsigned long k)
{
    const fmp__barrec *s = fmp__bar(t, m);
    return fmp__team_fail(t, FMP_EMISMATCH, m, FMP__HOW_MISMATCH, 0, FMP__MSG_mismatch_ordered,
                          t->n, t->file, t->line, m, fmp__kind_name(s->kind),
                          s->file ? s->file : "?", s->line, d->file ? d->file : "?",
                          d->line, k, d->member);
}

/* A member that entered ordered loop k (descriptor d): does a member wait in a barrier
   without having met it? */
static int ordered_check_members(fmp__ctx *c, const fmp__desc *d, unsigned long k)
{
    fmp__shteam *t = c->team;
    for (int m = 0; m < t->n; m++)
        if (m != c->me && waits_elsewhere(t, m, k))
            return skipped(t, m, d, k);
    return 0;
}

int fmp__ordered_skipped(fmp__ctx *c)
{
    fmp__shteam *t = c->team;
    for (int r = 0; r < FMP__RING; r++) {
        const fmp__desc *d = &t->ring[r];
        uint64_t tk = atomic_load(&d->ticket);
        if (tk % 3 != 2 || d->kind != FMP__K_FOR_ORDERED)
            continue;
        unsigned long k = (unsigned long)(tk / 3);
        if (k >= c->ws_index)
            return skipped(t, c->me, d, k) != 0;
    }
    return 0;
}

/* Wait until the turn is offset `turn`. */
static int ordered_wait(fmp__shteam *t, fmp__desc *d, unsigned long turn)
{
    for (;;) {
        uint32_t w = atomic_load(&d->ord_wake);
        if (atomic_load(&d->ord_next) == turn)
            return 0;
        if (atomic_load(&t->broken))
            return fmp__broken_err(t);
        int err = fmp__wait_change(t, &d->ord_wake, w, &d->ord_sleepers);
        if (err)
            return err;
    }
}

static void ordered_pass(fmp__desc *d, unsigned long to)
{
    atomic_store(&d->ord_next, to);
    atomic_fetch_add(&d->ord_wake, 1);
    if (atomic_load(&d->ord_sleepers))
        fmp__futex_wake(&d->ord_wake, INT_MAX);
}

/* The team broke while this member waited for its turn: the loop ends here. */
static void ordered_abandon(fmp__ctx *c, fmp__loopx *x)
{
    x->l.kind = 0;
    if (x->l.desc)
        loop_release(c, x->l.desc);
    x->l.desc = NULL;
    fmp__broken_in_construct(c);
}

/* The loop is over (or was left): the enclosing ordered loop is the current one again. */
static void ordered_done(fmp__ctx *c, fmp__loopx *x)
{
    if (x->state) {
        x->state = 0;
        c->ordered = x->prev;
    }
}

fmp__loopx fmp__loop_ordered_enter(fmp__loopx *self, long begin, long end, fmp_schedule s,
                                   int nowait, const char *file, int line)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    loop_info li = {FMP__K_FOR_ORDERED, begin, end, 0, 0, 0, begin, end, 0, file, line, NULL};
    fmp__loopx x = loopx_none(loop_begin(c, &li, s, nowait, 1));
    x.cur = begin;
    x.inner = 0; /* no chunk yet: no turn to pass */
    x.prev = c->ordered;
    x.state = 1;
    c->ordered = self;
    return x;
}

int fmp__loop_ordered_next(fmp__loopx *x)
{
    fmp__ctx *c = fmp__g.cur;
    fmp__desc *d = x->l.desc;
    if (x->l.chunk_done == 0) { /* left by break */
        ordered_done(c, x);
        return fmp__loop_broke(&x->l);
    }
    if (d && x->passed < x->inner) {
        /* the iterations of the last chunk that ran no ordered block */
        int err = ordered_wait(c->team, d, x->passed);
        if (err) {
            ordered_abandon(c, x);
        } else {
            ordered_pass(d, x->inner);
            x->passed = x->inner;
        }
    }
    if (fmp__loop_next(&x->l)) {
        if (x->l.desc) {
            x->passed = ord_offset(x, x->l.lo);
            x->inner = ord_offset(x, x->l.hi);
        }
        return 1;
    }
    ordered_done(c, x);
    return 0;
}

void fmp__loop_ordered_cleanup(fmp__loopx *x)
{
    if (!x->state)
        return;
    /* the body was left by goto or return: the loop's other members would wait for
       this member's turns */
    fmp__ctx *c = fmp__g.cur;
    ordered_done(c, x);
    if (x->l.desc) {
        loop_release(c, x->l.desc);
        x->l.desc = NULL;
    }
    fmp__block_left("FMP_FOR_ORDERED", x->l.file, x->l.line);
}

fmp__once fmp__ordered_enter(const char *file, int line)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    fmp__once o = {0, 0, file, line};
    fmp__loopx *x = c->ordered;
    if (!x) {
        if (c->team) {
            fmp__usage_error(c, FMP_EINVAL, FMP__MSG_ordered_outside, file, line);
            fmp__broken_in_construct(c);
            return o;
        }
        if (fmp__first_report(file, line))
            fmp__usage_error(c, FMP_EINVAL, FMP__MSG_ordered_outside, file, line);
        o.run = 1;
        return o;
    }
    fmp__desc *d = x->l.desc;
    if (!c->team) {
        o.run = 1;
        return o;
    }
    if (!d || x->l.kind == 0)
        return o; /* the loop was abandoned: the team is broken */
    unsigned long off = ord_offset(x, x->cur);
    if (off < x->passed) {
        fmp__usage_error(c, FMP_EINVAL, FMP__MSG_ordered_twice, file, line, x->cur, x->l.file,
                         x->l.line);
        ordered_abandon(c, x);
        return o;
    }
    if (ordered_wait(c->team, d, x->passed)) {
        ordered_abandon(c, x);
        return o;
    }
    o.run = 1;
    o.kind = 1; /* this member holds the turn */
    return o;
}

void fmp__ordered_leave(fmp__once *o)
{
    fmp__ctx *c = fmp__g.cur;
    fmp__loopx *x = c->ordered;
    if (o->kind == 1 && x && x->l.desc) {
        unsigned long next = ord_offset(x, x->cur) + 1;
        ordered_pass(x->l.desc, next);
        x->passed = next;
        o->kind = 0;
    }
    if (o->run) /* the block did not run to its end: left by break, goto or return */
        fmp__block_left("FMP_ORDERED", o->file, o->line);
}
