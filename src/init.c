/* Process state, initialisation, ICV accessors, versions, errors, time. */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "forkmp_version.h"

fmp__proc fmp__g = { .rank = -1 };

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void forked_by_another_thread(void);

static void init_once(void)
{
    fmp__env_init();
    fmp__g.pid = getpid();
    fmp__plock_init();
    fmp__g.error_mode = fmp__g_icv.on_error;
    fmp__ctx *r = &fmp__g.root;
    r->team = NULL;
    r->me = 0;
    r->n = 1;
    r->level = 0;
    r->active_level = 0;
    r->nthreads_var = fmp__g_icv.nthreads_len > 0 ? fmp__g_icv.nthreads[0] : 0;
    r->max_active_levels = fmp__g_icv.max_active_levels;
    fmp__g.cur = r;
    fmp__arena_init();
    fmp__wait_init();
    fmp__g.initialised = 1;
    pthread_atfork(NULL, NULL, forked_by_another_thread);
    if (fmp__g_icv.display_env)
        fmp__env_display(fmp__g_icv.display_env > 1);
}

void fmp__init(void)
{
    pthread_once(&g_once, init_once);
}

unsigned fmp_get_version(void)
{
    return FMP_VERSION;
}

/* ---------------------------------------------------------------- one thread at a time */

/* The thread inside a region or a team call of this process, and how deep.  A member
   forked by that thread is that thread in its own process (pthread_self() is kept
   across fork), so it needs no reset. */
static _Atomic uintptr_t g_owner;
static int g_depth;

int fmp__thread_enter(const char *what, const char *file, int line)
{
    uintptr_t me = (uintptr_t)pthread_self(), cur = atomic_load(&g_owner);
    if (cur == me) {
        g_depth++;
        return 0;
    }
    if (cur == 0 && atomic_compare_exchange_strong(&g_owner, &cur, me)) {
        g_depth = 1;
        return 0;
    }
    FMP__SAY(two_threads, what, file, line);
    return FMP_ESTATE;
}

void fmp__thread_leave(void)
{
    if (atomic_load(&g_owner) == (uintptr_t)pthread_self() && --g_depth == 0)
        atomic_store(&g_owner, 0);
}

/* In a child of the program's fork() (a fork handler): made by a thread other than the
   one inside a region or team call, the child has neither that thread nor its region
   (the region's team is the parent's); it starts at the top level, as a process that
   never entered one, free to open regions of its own.  A child of the thread inside (a
   body's fork) stays where that thread was. */
static void forked_by_another_thread(void)
{
    uintptr_t cur = atomic_load(&g_owner);
    if (cur == 0 || cur == (uintptr_t)pthread_self())
        return;
    atomic_store(&g_owner, 0);
    g_depth = 0;
    fmp__g.cur = &fmp__g.root;
    fmp__g.crit_held = 0; /* that thread's */
}

/* ---------------------------------------------------------------- ICV accessors */

int fmp_thread_num(void)
{
    return fmp__cur()->me;
}

int fmp_num_threads(void)
{
    return fmp__cur()->n;
}

int fmp_in_parallel(void)
{
    return fmp__cur()->active_level > 0;
}

int fmp_get_level(void)
{
    return fmp__cur()->level;
}

int fmp_get_active_level(void)
{
    return fmp__cur()->active_level;
}

static fmp__ctx *at_level(int level)
{
    fmp__ctx *c = fmp__cur();
    if (level < 0 || level > c->level)
        return NULL;
    while (c && c->level > level)
        c = c->parent;
    return c;
}

int fmp_get_ancestor_thread_num(int level)
{
    fmp__ctx *c = at_level(level);
    return c ? c->me : -1;
}

int fmp_get_team_size(int level)
{
    fmp__ctx *c = at_level(level);
    return c ? c->n : -1;
}

int fmp_get_num_procs(void)
{
    fmp__ensure_init();
    return fmp__affinity_count();
}

int fmp_get_max_threads(void)
{
    fmp__ctx *c = fmp__cur();
    if (c->nthreads_var > 0)
        return c->nthreads_var;
    return fmp__affinity_count();
}

void fmp_set_num_threads(int n)
{
    if (n < 1) {
        FMP__SAY(set_num_threads, n);
        return;
    }
    if (n > FMP__MAX_TEAM) {
        FMP__SAY(set_num_threads_big, n, FMP__MAX_TEAM);
        return;
    }
    fmp__ctx *c = fmp__cur();
    c->nthreads_var = n;
    c->nthreads_called = 1;
}

int fmp_get_nested(void)
{
    return fmp__cur()->max_active_levels > 1;
}

void fmp_set_nested(int on)
{
    fmp__cur()->max_active_levels = on ? FMP__MAX_LEVELS : 1;
}

int fmp_get_max_active_levels(void)
{
    return fmp__cur()->max_active_levels;
}

void fmp_set_max_active_levels(int levels)
{
    if (levels < 1) {
        FMP__SAY(set_max_active_levels, levels);
        return;
    }
    fmp__cur()->max_active_levels = levels;
}

int fmp_get_thread_limit(void)
{
    fmp__ensure_init();
    return fmp__g_icv.thread_limit;
}

void fmp_set_error_mode(fmp_error_mode mode)
{
    fmp__ensure_init();
    fmp__g.error_mode = mode == FMP_ERRORS_RETURN ? FMP_ERRORS_RETURN : FMP_ERRORS_ABORT;
}

fmp_error_mode fmp_get_error_mode(void)
{
    fmp__ensure_init();
    return (fmp_error_mode)fmp__g.error_mode;
}

/* ---------------------------------------------------------------- errors and time */

const char *fmp_strerror(int err)
{
    switch (err) {
    case FMP_OK: return "success";
    case FMP_EINVAL: return "invalid argument";
    case FMP_ENOMEM: return "out of memory (or the shared arena is full: raise FMP_SHARED_SIZE)";
    case FMP_EMEMBER: return "a member of the team failed (crashed, was killed or exited)";
    case FMP_EMISMATCH: return "members met different worksharing constructs";
    case FMP_EBROKEN: return "the team is broken by an earlier failure";
    case FMP_EOWNERDEAD: return "the lock's previous holder died while holding it";
    case FMP_ETYPE: return "unknown reduction type";
    case FMP_EOP: return "unknown reduction operation, or not defined on the type";
    case FMP_EOVERFLOW: return "count times element size overflows";
    case FMP_ESTATE: return "called where it may not be";
    case FMP_EEXITED: return "a member left the region by exit(), return, break or goto";
    case -1100: /* FMP_EMPI of forkmp_mpi.h */
        return "an MPI call made on the caller's behalf failed";
    default:
        if (err < 0 && err > -4096)
            return strerror(-err);
        return "unknown forkmp error";
    }
}

double fmp_get_wtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double fmp_get_wtick(void)
{
    struct timespec ts;
    clock_getres(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
