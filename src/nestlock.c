/* Nested locks (OpenMP's omp_nest_lock_t): a lock that its holder may set again, counted,
 * released when unset as many times.  The holder is a process (a member): the lock of
 * fmp_lock (plock.c), whose word holds the holder's pid, tells whether the caller holds
 * it; the count is touched by the holder only.  A holder that dies is recovered as
 * fmp_lock's: the next to set it gets FMP_EOWNERDEAD with a count of one (the word then
 * holds the new holder's pid, so a later process with the dead one's pid is not taken
 * for it). */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

struct fmp_nest_lock {
    fmp__plock m;
    int count;       /* the holder's nesting depth; 0 when free */
    _Atomic int pid; /* the holder's pid, for messages; 0 when free */
};

/* The caller holds l. */
static int mine(fmp_nest_lock *l)
{
    return fmp__plock_mine(&l->m);
}

/* The caller just acquired l (first level). */
static int taken(fmp_nest_lock *l, int rc)
{
    l->count = 1;
    atomic_store(&l->pid, (int)getpid());
    return rc;
}

fmp_nest_lock *fmp_nest_lock_create(void)
{
    fmp__ensure_init();
    return fmp__arena_alloc(sizeof(fmp_nest_lock)); /* zero-filled: free, count 0 */
}

void fmp_nest_lock_destroy(fmp_nest_lock *l)
{
    if (l)
        fmp__arena_free(l);
}

int fmp_nest_lock_set(fmp_nest_lock *l)
{
    if (!l)
        return FMP_EINVAL;
    if (mine(l)) {
        if (l->count == INT_MAX)
            return -EAGAIN;
        l->count++;
        return FMP_OK;
    }
    int rc = fmp__plock_lock(&l->m);
    if (rc < 0)
        return rc;
    return taken(l, rc == 1 ? FMP_EOWNERDEAD : FMP_OK);
}

int fmp_nest_lock_test(fmp_nest_lock *l)
{
    if (!l)
        return FMP_EINVAL;
    if (mine(l))
        return l->count == INT_MAX ? -EAGAIN : ++l->count;
    int rc = fmp__plock_trylock(&l->m);
    if (rc == 0)
        return taken(l, 1);
    if (rc == 1)
        return taken(l, FMP_EOWNERDEAD);
    return 0; /* held by another process */
}

int fmp_nest_lock_unset(fmp_nest_lock *l)
{
    if (!l)
        return FMP_EINVAL;
    if (!mine(l)) {
        int holder = atomic_load(&l->pid);
        if (holder && holder != (int)getpid())
            FMP__SAY(nest_unset_other, (void *)l, holder, (int)getpid());
        else
            FMP__SAY(nest_unset_free, (void *)l, (int)getpid());
        return -EPERM;
    }
    if (--l->count > 0)
        return FMP_OK;
    atomic_store(&l->pid, 0);
    return fmp__plock_unlock(&l->m);
}
