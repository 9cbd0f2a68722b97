/* Nested locks (OpenMP's omp_nest_lock_t): a lock that its holder may set again, counted,
 * released when unset as many times.  The holder is a process (a member): the robust
 * process-shared mutex of fmp_lock, whose futex word holds the holder's thread id, tells
 * whether the caller holds it; the count is touched by the holder only.  A holder that
 * dies is recovered as fmp_lock's: the next to set it gets FMP_EOWNERDEAD with a count of
 * one (the kernel clears the dead holder's id from the word, so a later process with the
 * same pid is not taken for it). */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <unistd.h>

struct fmp_nest_lock {
    pthread_mutex_t m;
    int count;       /* the holder's nesting depth; 0 when free */
    _Atomic int pid; /* the holder's pid, for messages; 0 when free */
};

/* The caller holds l. */
static int mine(fmp_nest_lock *l)
{
    uint32_t w = __atomic_load_n((uint32_t *)&l->m.__data.__lock, __ATOMIC_ACQUIRE);
    return (pid_t)(w & FUTEX_TID_MASK) == gettid();
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
    return fmp__mutex_block(sizeof(fmp_nest_lock)); /* m first: the mutex at its start */
}

void fmp_nest_lock_destroy(fmp_nest_lock *l)
{
    fmp__mutex_block_free(l);
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
    int rc = fmp__robust_lock(&l->m);
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
    int rc = pthread_mutex_trylock(&l->m);
    if (rc == 0)
        return taken(l, 1);
    if (rc == EBUSY)
        return 0;
    if (rc == EOWNERDEAD) {
        pthread_mutex_consistent(&l->m);
        return taken(l, FMP_EOWNERDEAD);
    }
    return -rc;
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
    return -pthread_mutex_unlock(&l->m);
}
