/* Waiting: spin on a shared word, then sleep on it with a process-shared futex.
 *
 * Inside a team, a sleeper must also wake when the team breaks or a member dies,
 * however the member dies and whoever reaps it.  So the sleep is one futex_waitv
 * (Linux 5.16) on three kinds of word at once:
 *   - the word the caller waits on (a barrier generation, a descriptor's ticket...);
 *   - the team's broken word, which every failure changes and wakes;
 *   - the life words of the members this process watches: each member holds a robust
 *     mutex in its slot for its whole life; when it dies the kernel (the robust futex
 *     list, processed at every exit, SIGKILL included) sets FUTEX_OWNER_DIED in the word
 *     and wakes one waiter, provided the word has FUTEX_WAITERS set, which the sleeper
 *     sets before it sleeps.
 * The one waiter the kernel wakes for a death breaks the team, which wakes all the
 * others through the broken word: no lost wake-up, no timed slices, nothing that
 * depends on SIGCHLD or on who reaps the member.  A waiter woken for any reason scans
 * the life words it watches before it leaves, so that a death wake it consumed is
 * never lost.
 *
 * A member holds no life lock between its fork and its first instructions: for members
 * still STARTING the sleeper watches their word for the change to "locked" (the child
 * wakes the word's sleepers when it takes it), and the master, which alone has their
 * pidfds, also looks at them every few milliseconds until they have started.
 *
 * futex_waitv takes at most 128 words: with more than 126 members to watch, a member
 * watches the 126 that follow it (cyclically).  Every member is then watched by the
 * 126 before it, and every one of them checks it before sleeping, so a death is seen
 * by the first of them to wait.  Kernels without futex_waitv (before 5.16) sleep on
 * the caller's word in slices of FALLBACK_SLICE_MS and scan between slices.
 *
 * A spinner yields its cpu every 1024 spins (one syscall, nothing when no other process
 * is queued there).  The one it waits for may be queued behind it on the same cpu while
 * another cpu idles: the kernel places a new child on its parent's cpu when the other is
 * busy for a moment (the previous region's child exiting), and an idle cpu of a virtual
 * machine takes it over only at the busy one's next tick.  Without the yield each such
 * region cost a whole spin, 3 to 4 ms here where the region's work is 0.1 ms (examples/cg
 * 256, FMP_REGION=fork: 4.3 ms a region before, 0.35 ms after; bench/RESULTS.md).  Parked
 * warm members (warm.c) and lock waiters (plock.c) yield alike. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449 /* the same number on every architecture */
#endif
#ifndef FUTEX_32
#define FUTEX_32 2 /* FUTEX2_SIZE_U32 */
#endif

#define WAITV_MAX 128 /* the kernel's limit */
#define WATCH_MAX (WAITV_MAX - 2)
#define FALLBACK_SLICE_MS 50 /* no futex_waitv: how often a sleeper looks */
#define STARTING_SLICE_MS 5  /* the master, while members have not started */

struct waitv { /* struct futex_waitv of linux/futex.h (5.16) */
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

void fmp__futex_wake(_Atomic uint32_t *addr, int n)
{
    /* not FUTEX_PRIVATE_FLAG: the waiters are other processes */
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE, n, NULL, NULL, 0);
}

void fmp__futex_wait(_Atomic uint32_t *addr, uint32_t val, int timeout_ms)
{
    struct timespec ts, *tp = NULL;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
        tp = &ts;
    }
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, val, tp, NULL, 0);
}

/* 1 when this kernel has futex_waitv: asked once, at initialisation, so that every
   child inherits the answer (a tool that does not know the call, valgrind 3.19 for one,
   says so once rather than in every member). */
static int g_waitv = -1;

void fmp__wait_init(void)
{
    if (g_waitv < 0) {
        /* no futexes: EINVAL where the call exists, ENOSYS where it does not */
        long rc = syscall(SYS_futex_waitv, NULL, 0, 0, NULL, CLOCK_MONOTONIC);
        g_waitv = !(rc < 0 && errno == ENOSYS);
    }
}

static int have_waitv(void)
{
    if (g_waitv < 0)
        fmp__wait_init();
    return g_waitv;
}

/* ---------------------------------------------------------------- life words */

/* FUTEX_WAITERS, FUTEX_OWNER_DIED, FUTEX_TID_MASK come from linux/futex.h. */

/* The members member me watches: up to WATCH_MAX of 1..n-1 but me, starting after me.
   The master (slot 0) is not watched: its death kills its children (parent-death
   signal), waiting ones included. */
static int watch_count(const fmp__shteam *t, int me)
{
    int others = t->n - 1 - (me != 0);
    return others < WATCH_MAX ? others : WATCH_MAX;
}

static int watch_member(const fmp__shteam *t, int me, int k)
{
    /* the k-th member after me among 1..n-1 but me, cyclically */
    if (me == 0)
        return 1 + k;
    int m = me + 1 + k;
    if (m >= t->n)
        m -= t->n - 1;
    return m;
}

/* Look at member m: 1 alive and locked (*val gets the word with FUTEX_WAITERS set),
   2 not started yet (*val 0), 0 gone for good (finished, or found dead and recorded). */
static int look(fmp__shteam *t, int m, uint32_t *val)
{
    fmp__slot *s = &t->slots[m];
    _Atomic uint32_t *w = fmp__life_word(s);
    uint32_t v = atomic_load(w);
    for (;;) {
        if (v & FUTEX_OWNER_DIED) {
            fmp__member_lost(t, m);
            return 0;
        }
        if ((v & FUTEX_TID_MASK) == 0) {
            int st = atomic_load(&s->state);
            if (st == FMP__S_STARTING) {
                *val = 0;
                return 2;
            }
            return 0; /* it left on its own, or was reaped: not ours to judge here */
        }
        if (v & FUTEX_WAITERS) {
            *val = v;
            return 1;
        }
        /* ask the kernel to wake us when it dies: the mutex protocol's waiter bit */
        if (atomic_compare_exchange_weak(w, &v, v | FUTEX_WAITERS)) {
            *val = v | FUTEX_WAITERS;
            return 1;
        }
    }
}

int fmp__my_member(const fmp__shteam *t)
{
    /* the calling process's member number in t: 0 for its master, else its slot */
    if (t->master_pid == fmp__g.pid)
        return 0;
    for (fmp__ctx *c = fmp__g.cur; c; c = c->parent)
        if (c->team == t)
            return c->me;
    /* not found: a member waiting for the word go, before its context exists */
    for (int m = 1; m < t->n; m++)
        if (atomic_load(&t->slots[m].pid) == fmp__g.pid)
            return m;
    return 0;
}

int fmp__member_alive(fmp__shteam *t, int m)
{
    uint32_t v = atomic_load(fmp__life_word(&t->slots[m]));
    return (v & FUTEX_TID_MASK) != 0 && !(v & FUTEX_OWNER_DIED);
}

int fmp__scan_lives(fmp__shteam *t)
{
    int me = fmp__my_member(t);
    int k = watch_count(t, me), starting = 0;
    for (int i = 0; i < k; i++) {
        uint32_t v;
        starting |= look(t, watch_member(t, me, i), &v) == 2;
    }
    /* a member dead before it took its life lock shows only to the master's pidfds */
    if (starting && me == 0)
        fmp__team_check_unstarted(t);
    return atomic_load(&t->broken) != 0;
}

/* ---------------------------------------------------------------- sleeping */

/* Sleep once while *w == old and t is whole.  Returns after a wake, a change, a signal
   or the slice. */
static void sleep_in_team(fmp__shteam *t, _Atomic uint32_t *w, uint32_t old)
{
    int me = fmp__my_member(t);
    int k = watch_count(t, me);
    struct waitv v[WAITV_MAX];
    int nv = 0, starting = 0;
    v[nv++] = (struct waitv){old, (uint64_t)(uintptr_t)w, FUTEX_32, 0};
    v[nv++] = (struct waitv){0, (uint64_t)(uintptr_t)&t->broken, FUTEX_32, 0};
    for (int i = 0; i < k; i++) {
        int m = watch_member(t, me, i);
        uint32_t val;
        int st = look(t, m, &val);
        if (st == 0)
            continue;
        starting |= st == 2;
        v[nv++] =
            (struct waitv){val, (uint64_t)(uintptr_t)fmp__life_word(&t->slots[m]), FUTEX_32, 0};
    }
    if (atomic_load(&t->broken))
        return;
    /* the master polls children that have not started: only it has their pidfds */
    int slice = -1;
    if (starting && me == 0)
        slice = STARTING_SLICE_MS;
    if (!have_waitv()) {
        fmp__futex_wait(w, old, slice >= 0 ? slice : FALLBACK_SLICE_MS);
    } else {
        struct timespec ts, *tp = NULL;
        if (slice >= 0) {
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += slice * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            tp = &ts;
        }
        syscall(SYS_futex_waitv, v, (unsigned)nv, 0, tp, CLOCK_MONOTONIC);
    }
}

void fmp__sleep_watching(fmp__shteam *t, _Atomic uint32_t *w, uint32_t old)
{
    /* in a team of more than WATCH_MAX + 1 the caller may not watch the one it waits for */
    if (t && !atomic_load(&t->broken) && t->n - 1 <= WATCH_MAX) {
        sleep_in_team(t, w, old);
        /* whatever woke us: a death wake must not be lost with us */
        fmp__scan_lives(t);
        return;
    }
    fmp__futex_wait(w, old, FALLBACK_SLICE_MS);
}

/* The sleeping part of a wait, after its spins. */
static int sleep_until_change(fmp__shteam *t, _Atomic uint32_t *w, uint32_t old,
                              _Atomic uint32_t *sleepers)
{
    for (;;) {
        if (atomic_load(w) != old)
            return 0;
        if (!t) {
            atomic_fetch_add(sleepers, 1);
            if (atomic_load(w) == old)
                fmp__futex_wait(w, old, -1);
            atomic_fetch_sub(sleepers, 1);
            continue;
        }
        if (atomic_load(&t->broken))
            return fmp__broken_err(t);
        atomic_fetch_add(sleepers, 1);
        if (atomic_load(w) == old)
            sleep_in_team(t, w, old);
        atomic_fetch_sub(sleepers, 1);
        /* whatever woke us: a death wake must not be lost with us */
        if (fmp__scan_lives(t))
            return fmp__broken_err(t);
    }
}

static int wait_change(fmp__shteam *t, _Atomic uint32_t *w, uint32_t old,
                       _Atomic uint32_t *sleepers, int idle)
{
    if (atomic_load_explicit(w, memory_order_acquire) != old)
        return 0;
    long spins = fmp__spin_now(t ? t->spin : fmp__g_icv.spin_count);
    for (long i = 0; i < spins; i++) {
        if (atomic_load_explicit(w, memory_order_acquire) != old)
            return 0;
        if ((i & 1023) == 1023 && t) {
            sched_yield();
            if (atomic_load(&t->broken))
                return fmp__broken_err(t);
            /* spinning for ever (FMP_SPIN_COUNT=infinity): look at lives now and then */
            if ((i & 0xfffff) == 0xfffff && fmp__scan_lives(t))
                return fmp__broken_err(t);
        }
        fmp__cpu_relax();
    }
    if (!idle || !t) {
        fmp__census_refresh(); /* about to sleep: the node's verdict for the next waits */
        return sleep_until_change(t, w, old, sleepers);
    }
    fmp__census_idle(t, 1); /* judges again too */
    int rc = sleep_until_change(t, w, old, sleepers);
    /* woken by a broken team the member leaves, asleep for the census: the reap takes it
       off (a member back on the count would be counted awake till then) */
    if (rc == 0)
        fmp__census_idle(t, 0);
    return rc;
}

int fmp__wait_change(fmp__shteam *t, _Atomic uint32_t *w, uint32_t old, _Atomic uint32_t *sleepers)
{
    return wait_change(t, w, old, sleepers, 0);
}

int fmp__wait_idle(fmp__shteam *t, _Atomic uint32_t *w, uint32_t old, _Atomic uint32_t *sleepers)
{
    return wait_change(t, w, old, sleepers, 1);
}
