/* fault_matrix.h: the fault-injection matrix, shared by tests/fault_prog.c (the driver) and
 * tests/test_faults.c (the suite): the ways a member can fail, the places where the others
 * are when it fails, and the combinations that do not exist, each with its reason.
 *
 * A way is how the failing member ends; a place is what the rest of the team is doing at
 * that moment (and, where the way allows it, where the failing member is too: holding the
 * lock, inside the critical section, in the loop's body, in fmp_iterate's callback, inside
 * the persistent run).  See the top of fault_prog.c for what each cell runs. */
#ifndef FMP_TEST_FAULT_MATRIX_H
#define FMP_TEST_FAULT_MATRIX_H

#include <stddef.h>
#include <string.h>

enum fm_way {
    FM_SEGV,    /* a NULL write */
    FM_ABORT,   /* abort() */
    FM_RAISE9,  /* raise(SIGKILL) */
    FM_KILL9,   /* SIGKILL sent by another process (kill -9) */
    FM_EXIT3,   /* exit(3) */
    FM_UEXIT0,  /* _exit(0) */
    FM_RETURN,  /* return out of the region's block */
    FM_BREAK,   /* break out of the region's block */
    FM_LONGJMP, /* longjmp to a setjmp outside the region */
    FM_NWAYS
};

enum fm_place {
    FM_BARRIER,  /* the others wait in fmp_barrier */
    FM_LOCK,     /* member 1 holds an fmp_lock, the others wait for it in fmp_lock_set */
    FM_CRITICAL, /* member 1 is inside FMP_CRITICAL, the others queue for it */
    FM_REDUCE,   /* the others wait in fmp_reduce */
    FM_LOOP,     /* everyone is in FMP_FOR with fmp_dynamic(1) over many iterations */
    FM_ITERATE,  /* everyone consumes in fmp_iterate */
    FM_NESTED,   /* member 1 of a nested team fails; the others are in the nested region */
    FM_RUN,      /* member 1 of a persistent team fails inside fmp_team_run */
    FM_BETWEEN,  /* a parked member of a persistent team fails between two runs */
    FM_LAST,     /* a parked member fails after the last run, before fmp_team_destroy */
    FM_COMPUTE,  /* the master computes (in no forkmp call) when member 1 fails */
    FM_NPLACES
};

static const char *const fm_way_names[FM_NWAYS] = {
    "segv", "abort", "raise9", "kill9", "exit3", "_exit0", "return", "break", "longjmp",
};

/* C identifiers for test names (fm_way_names[FM_UEXIT0] starts with '_') */
static const char *const fm_way_ids[FM_NWAYS] = {
    "segv", "abort", "raise9", "kill9", "exit3", "uexit0", "return", "break", "longjmp",
};

static const char *const fm_place_names[FM_NPLACES] = {
    "barrier", "lock", "critical", "reduce", "loop",    "iterate",
    "nested",  "run",  "between",  "last",   "compute",
};

/* NULL when the combination exists; otherwise why it does not. */
static inline const char *fm_excluded(int way, int place)
{
    if ((place == FM_RUN) && way == FM_RETURN)
        return "a persistent run's body is a function: return ends the run normally, it is "
               "not a failure";
    if ((place == FM_RUN) && way == FM_BREAK)
        return "a persistent run's body is a function, not a block: there is no loop to "
               "break out of";
    if ((place == FM_BETWEEN || place == FM_LAST) && (way == FM_RETURN || way == FM_BREAK))
        return "a parked member runs no block of the program's (only a signal handler, whose "
               "return resumes the wait): nothing to return or break out of";
    return NULL;
}

static inline int fm_lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

#endif /* FMP_TEST_FAULT_MATRIX_H */
