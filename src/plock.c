/* Locks of processes: the word under fmp_lock, fmp_nest_lock and the critical sections.
 *
 * One futex word holds the owner's pid (the FUTEX_TID_MASK bits) and PLOCK_WAITERS,
 * which a process sets before it sleeps on the word so that the unlock that finds it
 * wakes one sleeper; the count of sleepers tells a process that takes the lock after
 * sleeping whether to keep the bit for the others.  Taking a free lock is one
 * compare-and-swap, releasing it one exchange: no robust list to maintain on every
 * acquire, and no system call unless somebody sleeps.
 *
 * A contended lock is waited for by spinning (the wait policy's spins, at least
 * FMP__LOCK_SPIN unless the team has more members than cores: the team's lock_spin; only
 * FMP__THROTTLED_SPIN while the live members of the node outnumber its cpus, census.c),
 * with a pause that doubles between two looks at the word, then sleeping.  An owner that ends
 * without releasing it (killed, crashed, gone with _exit while holding it) is found through the
 * liveness machinery:
 *   - an owner that is a member of one of the waiter's teams is dead when its life word
 *     says so (wait.c); a waiter whose owner is a member of its own team sleeps with
 *     that team's futex_waitv, so a death wakes it at once, and the death is recorded
 *     as any other (fmp__member_lost);
 *   - any other owner (a member of another process's team, a persistent team's member
 *     between runs, a member reaped already) is dead when its pid is gone or a zombie;
 *     a waiter looks before every sleep and sleeps in slices of PLOCK_SLICE_MS.
 * A spinning waiter looks too, every PLOCK_LOOK_EVERY spins (the active policy's spin
 * lasts seconds), without the read of /proc that tells a zombie.
 * The first process that finds the owner dead takes the lock over with a
 * compare-and-swap from the dead owner's word and is told so (1): fmp_lock_set returns
 * FMP_EOWNERDEAD, FMP_CRITICAL says so.  A later acquire, when nobody was waiting, finds
 * the same. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PLOCK_WAITERS 0x80000000u /* an unlock must wake a sleeper */
#define PLOCK_PID FUTEX_TID_MASK  /* the owner's pid */
#define PLOCK_LOOK_EVERY 4096     /* spins between looks at the owner's life */
#define PLOCK_BACKOFF 64          /* the most pauses between two looks at the word */
#define PLOCK_SLICE_MS 50         /* sleeps of a waiter whose owner is not watched */

/* this process's pid, refreshed in every child (forkmp's members and the program's own
   forks alike): no system call on the way to a lock */
static pid_t g_pid;

static void refresh_pid(void)
{
    g_pid = getpid();
}

void fmp__plock_child(void)
{
    refresh_pid(); /* a warm member: its memory, g_pid included, is the master's copy */
}

void fmp__plock_init(void)
{
    refresh_pid();
    pthread_atfork(NULL, NULL, refresh_pid);
}

static inline uint32_t self(void)
{
    if (FMP__UNLIKELY(g_pid == 0))
        refresh_pid();
    return (uint32_t)g_pid;
}

int fmp__plock_mine(fmp__plock *l)
{
    return (atomic_load_explicit(&l->word, memory_order_acquire) & PLOCK_PID) == self();
}

/* Is pid, a member of one of this process's teams, gone?  1 gone (its death recorded
   if it died), 0 alive (the master of such a team: its death ends its members), -1 not
   found there; *team gets the team it is a member of. */
static int member_gone(pid_t pid, fmp__shteam **team)
{
    for (fmp__ctx *c = fmp__g.cur; c; c = c->parent) {
        fmp__shteam *t = c->team;
        if (!t)
            continue;
        if (t->master_pid == pid)
            return 0;
        for (int m = 1; m < t->n; m++) {
            fmp__slot *s = &t->slots[m];
            if (atomic_load(&s->pid) != pid)
                continue;
            *team = t;
            if (atomic_load(&s->state) == FMP__S_STARTING)
                return 0;
            uint32_t v = atomic_load(fmp__life_word(s));
            if (v & FUTEX_OWNER_DIED) {
                fmp__member_lost(t, m);
                return 1;
            }
            return (v & FUTEX_TID_MASK) == 0; /* it ended without releasing the lock */
        }
    }
    return -1;
}

/* Is the process pid gone: no such process, or (with zombies, a read of /proc) a zombie
   nobody has reaped yet? */
static int process_gone(pid_t pid, int zombies)
{
    if (kill(pid, 0) != 0)
        return errno == ESRCH;
    if (!zombies)
        return 0;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* "pid (comm) S ...": comm may hold anything */
    return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* The owner of word w: gone (1) or not (0); *watched is set when it is a member of the
   caller's innermost team, whose sleep wakes at its death.  zombies: see process_gone
   (the look before a sleep; a spinning waiter and fmp_lock_test look without). */
static int owner_gone(uint32_t w, int *watched, int zombies)
{
    pid_t pid = (pid_t)(w & PLOCK_PID);
    fmp__shteam *t = NULL;
    int g = member_gone(pid, &t);
    if (watched)
        *watched = t && fmp__g.cur && t == fmp__g.cur->team;
    if (g >= 0)
        return g;
    return process_gone(pid, zombies);
}

/* The owner of w is gone: take the lock from it (1), or someone else did first (0).
   The waiters bit stays: sleepers may be left on the word. */
static int take_over(fmp__plock *l, uint32_t w, uint32_t me)
{
    return atomic_compare_exchange_strong(&l->word, &w, me | (w & PLOCK_WAITERS));
}

/* Take a free lock after waiting: the waiters bit when others still sleep. */
static int take_free(fmp__plock *l, uint32_t me)
{
    uint32_t w = 0;
    uint32_t nw = me | (atomic_load(&l->sleepers) ? PLOCK_WAITERS : 0);
    return atomic_compare_exchange_strong(&l->word, &w, nw);
}

static int lock_slow(fmp__plock *l, uint32_t me)
{
    fmp__shteam *t = fmp__g.cur ? fmp__g.cur->team : NULL;
    long spins = t ? t->lock_spin : fmp__g_icv.spin_count;
    if (!t && spins < FMP__LOCK_SPIN)
        spins = FMP__LOCK_SPIN;
    spins = fmp__spin_now(spins); /* the node's cpus oversubscribed: the holder needs one */
    /* between two looks at the word, a pause that doubles up to PLOCK_BACKOFF: every
       look takes the line from the owner, whose next lock or unlock must fetch it back.
       64 (about 1.3 us of pauses on Zen 5) rather than 32: a contended critical of 2
       members costs 0.9x libgomp's instead of 1.4x, a lock 0.6x instead of 1.0x (EPCC,
       bench/RESULTS.md); a waiter sees a release up to that much later */
    long pause = 1, look = PLOCK_LOOK_EVERY;
    for (long i = 0; i < spins; i += pause) {
        uint32_t w = atomic_load_explicit(&l->word, memory_order_relaxed);
        if (w == 0) {
            if (atomic_compare_exchange_weak_explicit(&l->word, &w, me, memory_order_acquire,
                                                      memory_order_relaxed))
                return 0;
            continue;
        }
        /* the owner's life, now and then (a look at a life word, or one kill(pid, 0)
           for an owner outside the caller's teams: a spin of the active policy may last
           seconds) */
        if (i >= look) {
            look = i + PLOCK_LOOK_EVERY;
            sched_yield(); /* the owner may wait for this cpu (fmp__wait_change) */
            if (owner_gone(w, NULL, 0) && take_over(l, w, me))
                return 1;
        }
        for (long k = 0; k < pause; k++)
            fmp__cpu_relax();
        if (pause < PLOCK_BACKOFF)
            pause *= 2;
    }
    for (;;) {
        uint32_t w = atomic_load(&l->word);
        if (w == 0) {
            if (take_free(l, me))
                return 0;
            continue;
        }
        int watched = 0;
        if (owner_gone(w, &watched, 1)) {
            if (take_over(l, w, me))
                return 1;
            continue;
        }
        if (!(w & PLOCK_WAITERS)) {
            if (!atomic_compare_exchange_strong(&l->word, &w, w | PLOCK_WAITERS))
                continue;
            w |= PLOCK_WAITERS;
        }
        fmp__census_refresh();
        atomic_fetch_add(&l->sleepers, 1);
        if (watched)
            fmp__sleep_watching(t, &l->word, w);
        else
            fmp__futex_wait(&l->word, w, PLOCK_SLICE_MS);
        atomic_fetch_sub(&l->sleepers, 1);
    }
}

/* The uncontended case: 0 taken, -EDEADLK the caller's already, 1 held (*w: its word). */
static inline int take_at_once(fmp__plock *l, uint32_t me, uint32_t *w)
{
    *w = 0;
    if (atomic_compare_exchange_strong_explicit(&l->word, w, me, memory_order_acquire,
                                                memory_order_relaxed))
        return 0;
    return (*w & PLOCK_PID) == me ? -EDEADLK : 1;
}

int fmp__plock_lock(fmp__plock *l)
{
    uint32_t me = self(), w;
    int rc = take_at_once(l, me, &w);
    return rc == 1 ? lock_slow(l, me) : rc;
}

int fmp__plock_trylock(fmp__plock *l)
{
    uint32_t me = self(), w;
    int rc = take_at_once(l, me, &w);
    if (rc != 1)
        return rc;
    if (owner_gone(w, NULL, 0) && take_over(l, w, me))
        return 1;
    return -EBUSY;
}

int fmp__plock_unlock(fmp__plock *l)
{
    if (!fmp__plock_mine(l))
        return -EPERM;
    uint32_t w = atomic_exchange_explicit(&l->word, 0, memory_order_release);
    if (w & PLOCK_WAITERS)
        fmp__futex_wake(&l->word, 1);
    return 0;
}
