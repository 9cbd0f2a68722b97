/* forkmp internal declarations: shared by the files of src/, never installed. */
#ifndef FMP_INTERNAL_H
#define FMP_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <pthread.h>

#include "forkmp.h"

#define FMP__CACHELINE 64
#define FMP__ALIGNED __attribute__((aligned(FMP__CACHELINE)))
#define FMP__RING 8               /* worksharing descriptors per team */
#define FMP__INLINE_SCRATCH 256   /* bytes of per-member inline reduction scratch */
#define FMP__MAX_LEVELS 16        /* entries of the per-level ICV lists */
#define FMP__MAX_TEAM 4096        /* larger team sizes are refused as absurd */
#define FMP__CRIT_LOCKS 64        /* critical sections: unnamed + hashed names */

#define FMP__LIKELY(x) __builtin_expect(!!(x), 1)
#define FMP__UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ------------------------------------------------------------------------------
 * ICVs (env.c): filled once from FMP_* / OMP_* variables at initialisation.
 * ------------------------------------------------------------------------------ */
enum fmp__bind { FMP__BIND_UNSET = -1, FMP__BIND_FALSE = 0, FMP__BIND_TRUE,
                 FMP__BIND_PRIMARY, FMP__BIND_CLOSE, FMP__BIND_SPREAD };
enum fmp__wait { FMP__WAIT_UNSET = -1, FMP__WAIT_PASSIVE = 0, FMP__WAIT_ACTIVE = 1 };
enum fmp__region_mode { FMP__REGION_AUTO = 0, FMP__REGION_WARM, FMP__REGION_FORK };

#define FMP__CHECK_WRITES 1 /* FMP_CHECK=writes: the lost-write detector */

typedef struct fmp__icv {
    int nthreads[FMP__MAX_LEVELS]; /* team size per nesting level; 0 = default */
    int nthreads_len;               /* entries given (0: unset) */
    int max_active_levels;          /* from FMP_MAX_ACTIVE_LEVELS / FMP_NESTED */
    int nested_set;                 /* FMP_NESTED or MAX_ACTIVE_LEVELS was given */
    int thread_limit;               /* FMP_THREAD_LIMIT, default INT_MAX */
    fmp_schedule run_sched;         /* FMP_SCHEDULE, default static,0 */
    int bind[FMP__MAX_LEVELS];      /* enum fmp__bind per level */
    int bind_len;
    char places[256];               /* FMP_PLACES as given ("" = unset) */
    int display_env;                /* 0 false, 1 true, 2 verbose */
    int display_affinity;           /* FMP_DISPLAY_AFFINITY */
    char affinity_format[256];      /* FMP_AFFINITY_FORMAT ("" = default) */
    size_t shared_size;             /* FMP_SHARED_SIZE, 0 = physical memory */
    int wait_policy;                /* enum fmp__wait */
    long spin_count;                /* resolved spins before sleeping */
    int on_error;                   /* fmp_error_mode */
    int num_procs;                  /* PUs in this process's affinity mask at start */
    int region;                     /* FMP_REGION: enum fmp__region_mode */
    const char *nthreads_name;      /* the variable FMP_NUM_THREADS was read from, or NULL */
    int spin_explicit;              /* FMP_SPIN_COUNT or FMP_WAIT_POLICY=active was given */
    int barrier_tree;               /* FMP_BARRIER_TREE: team size from which barriers
                                       combine through a tree; 0 never */
    int check;                      /* FMP_CHECK: FMP__CHECK_* bits, 0 none */
    char check_file[512];           /* FMP_CHECK=writes:FILE, "" none */
} fmp__icv;

extern fmp__icv fmp__g_icv;

/* Parse the environment into fmp__g_icv.  On a malformed value: print a message naming
   the variable and the value, and exit(1). */
void fmp__env_init(void);
/* FMP_DISPLAY_ENV output (OpenMP display format) to stderr. */
void fmp__env_display(int verbose);

/* Parse helpers shared with tests: return 0 or a negative error, never exit. */
int fmp__env_parse_schedule(const char *s, fmp_schedule *out);
int fmp__env_parse_bool(const char *s, int *out);
int fmp__env_parse_size(const char *s, size_t *out);
int fmp__env_parse_int_list(const char *s, int *out, int max, int *len);
int fmp__env_parse_bind_list(const char *s, int *out, int max, int *len);

/* ------------------------------------------------------------------------------
 * Shared arena (arena.c)
 * ------------------------------------------------------------------------------ */
int fmp__arena_init(void);                 /* idempotent; 0 or negative error */
void *fmp__arena_alloc(size_t bytes);      /* zero-filled; NULL + errno */
void fmp__arena_free(void *p);
/* fmp_shared_realloc: NULL p allocates; size 0 frees (NULL returned); a pointer that is
   not a live block is reported and refused (NULL, errno EINVAL). */
void *fmp__arena_realloc(void *p, size_t bytes);
int fmp__arena_contains(const void *p);
size_t fmp__arena_in_use(void);        /* bytes held by blocks, headers included */
struct fmp__plock *fmp__arena_crit_lock(unsigned idx); /* critical-section locks */
pthread_mutex_t *fmp__arena_output_lock(void);
/* Lock a robust process-shared mutex; a dead owner is recovered: returns 1 then. */
int fmp__robust_lock(pthread_mutex_t *m);
int fmp__robust_mutex_init(pthread_mutex_t *m);

/* ------------------------------------------------------------------------------
 * Locks of processes (plock.c): fmp_lock, fmp_nest_lock, the critical sections.  A
 * futex word with the owner's pid; all zero is a free lock; an owner that ends holding
 * it is found through the liveness machinery, and the next to take it is told.
 * ------------------------------------------------------------------------------ */
#define FMP__LOCK_SPIN 4000 /* a contended lock spins at least this much before sleeping */
typedef struct fmp__plock {
    _Atomic uint32_t word;     /* 0 free, else the owner's pid | a waiters bit */
    _Atomic uint32_t sleepers; /* processes asleep on word */
} fmp__plock;
void fmp__plock_init(void); /* at initialisation: the pid, refreshed in children */
void fmp__plock_child(void); /* every new member, warm ones included */
/* 0 taken; 1 taken from an owner that died; -EDEADLK the caller holds it. */
int fmp__plock_lock(fmp__plock *l);
/* 0 taken; 1 taken from an owner that died; -EBUSY held; -EDEADLK the caller holds it. */
int fmp__plock_trylock(fmp__plock *l);
/* 0, or -EPERM when the caller does not hold it. */
int fmp__plock_unlock(fmp__plock *l);
/* The calling process holds l. */
int fmp__plock_mine(fmp__plock *l);

/* ------------------------------------------------------------------------------
 * Waiting (wait.c): spin, then sleep on a futex word.  Inside a team the sleep also
 * watches the team's broken word and the members' life words (futex_waitv), so that a
 * failure wakes every waiter at once, with no lost wake-up and no polling.
 * ------------------------------------------------------------------------------ */
/* Find out once what the kernel offers (futex_waitv): at initialisation. */
void fmp__wait_init(void);
void fmp__futex_wake(_Atomic uint32_t *addr, int n);
/* Sleep while *addr == val, at most timeout_ms (<0: forever).  Returns after a wake,
   a signal or the timeout; callers re-check their condition. */
void fmp__futex_wait(_Atomic uint32_t *addr, uint32_t val, int timeout_ms);
static inline void fmp__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* ------------------------------------------------------------------------------
 * The census of live members (census.c): the processes of forkmp's teams on the node
 * (under MPI: all its ranks') or in the process tree, against the cpus they may use.
 * ------------------------------------------------------------------------------ */
#define FMP__THROTTLED_SPIN 100 /* the spins of a waiter whose cpus are oversubscribed */
typedef struct fmp__shteam fmp__shteam;
/* The verdict, one word: nonzero while live members outnumber their cpus. */
extern _Atomic int *fmp__census_over;
/* The spins a waiter makes now, given its policy's: cut to FMP__THROTTLED_SPIN while the
   cpus are oversubscribed, unless FMP_SPIN_COUNT or FMP_WAIT_POLICY=active was given. */
static inline long fmp__spin_now(long spins)
{
    if (spins > FMP__THROTTLED_SPIN && !fmp__g_icv.spin_explicit &&
        atomic_load_explicit(fmp__census_over, memory_order_relaxed))
        return FMP__THROTTLED_SPIN;
    return spins;
}
/* The node's segment, shared by its ranks (set up by the hybrid layer, src/mpi/census.c):
   the creator fills cpus and nslots and zeroes the rest. */
typedef struct fmp__census_node {
    _Atomic int total;  /* live processes of the node's ranks: the sum of the slots' */
    _Atomic int warned; /* the warning of oversubscribed_grown was given on the node */
    int cpus;           /* the cpus the node's ranks may use (the union of their masks) */
    int nslots;
    struct {
        _Atomic int pid;  /* the rank's, 0 for a slot not (or no longer) in use */
        _Atomic int live;   /* its tree's processes */
        _Atomic int asleep; /* of them, persistent teams' members asleep between runs
                               (of teams forked after the attach) */
    } slot[];
} fmp__census_node;
/* A master: before it forks team t (counts its members, may warn once). */
void fmp__census_fork(fmp__shteam *t);
/* A master: d members more (d < 0: fewer, after their join or a failed fork). */
void fmp__census_add(int d);
/* A waiter about to sleep: the verdict from the node's sum again (under MPI). */
void fmp__census_refresh(void);
/* A persistent team's member: asleep (1) or awake again (0) between runs; members asleep
   there take no cpu and are not counted against the cpus. */
void fmp__census_idle(fmp__shteam *t, int asleep);
/* A master, at its team's reap, once (a broken team is reaped by its run and again by
   its destroy): its members leave the count, those that died asleep between runs too. */
void fmp__census_uncount(fmp__shteam *t);
/* The count (the node's sum once attached: the verdict is judged again) and the cpus it
   is held against. */
int fmp__census_live(void);
int fmp__census_cpus(void);
/* 1 while waiters are throttled (fmp__spin_now), judged again first. */
int fmp__census_throttled(void);
/* Hook census_watch: fn is called in the calling process (never in its members) when
   the verdict changes there. */
void fmp__census_watch(void (*fn)(void));
/* Hook census_attach: this rank's count into slot of node, the verdict from the node's. */
void fmp__census_attach(fmp__census_node *node, int slot);

/* ------------------------------------------------------------------------------
 * Teams: the shared control block (team.c for its life cycle)
 * ------------------------------------------------------------------------------ */
/* A member's slot state.  STARTING: forked, not yet holding its life lock. */
enum fmp__slot_state { FMP__S_FREE = 0, FMP__S_STARTING, FMP__S_RUNNING, FMP__S_DONE,
                       FMP__S_ABANDONED, FMP__S_FAILED, FMP__S_REAPED };
/* How a team failed (the failure record's how). */
enum fmp__how { FMP__HOW_NONE = 0, FMP__HOW_DIED, FMP__HOW_EXIT_CALLED, FMP__HOW_LEFT_BLOCK,
                FMP__HOW_LONGJMP, FMP__HOW_MISMATCH, FMP__HOW_USAGE };
/* construct kinds, for signatures and messages */
enum fmp__kind { FMP__K_NONE = 0, FMP__K_FOR, FMP__K_FOR_END, FMP__K_BARRIER, FMP__K_SINGLE,
                 FMP__K_SINGLE_END, FMP__K_REDUCE, FMP__K_GATHER, FMP__K_ITERATE,
                 FMP__K_REGION_END, FMP__K_MPI, FMP__K_FOR_STEP, FMP__K_FOR_COLLAPSE,
                 FMP__K_FOR_ORDERED, FMP__K_REDUCE_INTO };

/* A member's barrier record: what it met before its latest barrier, checked by the last
   arriver; and whether it waits in a barrier: its generation | 1 << 32 (a stale
   generation: not waiting), with the descriptors it had claimed (an ordered loop that it
   has not met cannot go on, loop.c).  In its slot, or in its leaf's page when the team
   has a combining tree (fmp__bar). */
typedef struct fmp__barrec {
    unsigned long count;
    uint64_t sig;
    int kind;
    const char *file;
    int line;
    int last_kind;
    const char *last_file;
    int last_line;
    long last_args[3];
    _Atomic uint64_t wait;
    unsigned long ws;
} FMP__ALIGNED fmp__barrec;

typedef struct fmp__slot {
    /* Liveness: a robust process-shared mutex the member locks as it starts and holds
       for its whole life.  However the member ends, and whoever reaps it, the kernel
       marks the word FUTEX_OWNER_DIED and wakes a waiter (robust futex list). */
    pthread_mutex_t life;
    _Atomic int pid;
    _Atomic int state;           /* enum fmp__slot_state */
    /* the master's view, written by the master alone */
    int pidfd;                   /* the master's pidfd of this child, -1 none */
    int reaped;                  /* the master reaped it (or learnt it was reaped) */
    int end_code;                /* si_code of the master's waitid: CLD_*, 0 if unknown */
    int end_status;              /* exit status or signal number */
    int killed;                  /* the master SIGKILLed it after a failure */
    int execed;                  /* ... and it had run another program (exec) */
    /* crash details recorded by the member's own fatal-signal handler */
    _Atomic int fault_sig;
    int fault_code;              /* si_code */
    int fault_sender;            /* si_pid, for a signal sent by kill() / raise() */
    uintptr_t fault_addr, fault_pc;
    /* its barrier record when the team has no tree (fmp__bar) */
    fmp__barrec bar;
    /* reduction / gather scratch, double-buffered by epoch parity */
    void *scratch[2];
    size_t scratch_cap[2];
    char inl[2][FMP__INLINE_SCRATCH] FMP__ALIGNED;
    /* a large reduction's buffers as the member passed them, by epoch parity (reduce.c):
       the members read the ones that lie in the shared arena straight from there */
    const void *red_in[2];
    void *red_out[2];
} FMP__ALIGNED fmp__slot;

typedef struct fmp__desc {
    _Atomic uint64_t ticket;     /* 3k free for construct k, 3k+1 filling, 3k+2 ready */
    _Atomic uint32_t wake;       /* futex word for waiters on ticket */
    int kind;
    int sched;
    long begin, end, chunk;
    size_t itemsize;
    const char *file;
    int line;
    int member;                  /* who filled it */
    void *ptr;                   /* iterate: the ring; ordered loop: the team */
    long arg2, arg3;             /* step loop: the step; collapsed loop: the inner bounds */
    _Atomic unsigned long next FMP__ALIGNED;  /* dynamic / guided: next iteration */
    _Atomic uint32_t done FMP__ALIGNED;        /* members finished with it */
    /* ordered loop: the iteration (offset) whose ordered block runs next; ord_wake
       changes with it */
    _Atomic unsigned long ord_next FMP__ALIGNED;
    _Atomic uint32_t ord_wake;
    _Atomic uint32_t ord_sleepers;
} fmp__desc;

/* The first failure of a team.  The member that claims it (set 0 -> 1) fills it and
   publishes it (set 2); anyone else only marks the team broken.  A record still at 1
   after the join (its writer died while writing) is never read: the master composes
   the report from what it reaped instead. */
/* The failure record's states (fmp__failure.set): the writer is in the claim, so that the
   master waits for a live writer rather than kill it mid-record. */
#define FMP__FAIL_NONE 0
#define FMP__FAIL_WRITTEN 2
#define FMP__FAIL_WRITING 3 /* + the writer's member number */

typedef struct fmp__failure {
    _Atomic int set;             /* 0 none, 2 written, FMP__FAIL_WRITING + m: being written
                                    by member m */
    int err;                     /* FMP_E* */
    int member;
    int pid;
    int how;                     /* enum fmp__how */
    int code;                    /* exit(code) */
    char msg[768];               /* the text, except for HOW_DIED (composed at the join) */
} fmp__failure;

struct fmp__shteam {
    int n;
    int level, active_level;
    int persistent;
    pid_t master_pid;
    const char *file;            /* region site */
    int line;
    int reported;                /* the master printed this team's failure */
    int warm;                    /* its members are the warm pool's (warm.c) */
    int counted;                 /* its members are in the census (census.c) */
    int counted_on_node;         /* ... in the node's too (forked after fmp_mpi_init) */
    struct fmp__tree *tree;      /* combining tree of a big team's barrier (tree.c), or
                                    NULL: the flat counter bar_arrived */
    _Atomic uint32_t broken FMP__ALIGNED;   /* non-zero: failed, every wait returns */
    _Atomic uint32_t go;         /* set once every member was forked: bodies may start */
    _Atomic uint32_t go_sleepers;
    fmp__failure failure;
    _Atomic uint32_t bar_arrived FMP__ALIGNED;
    _Atomic uint32_t bar_gen FMP__ALIGNED;
    _Atomic uint32_t bar_sleepers;
    /* changes at every new task, at a completion that may end a wait, and at every
       barrier's release: barrier waiters and task waiters sleep on it.  On bar_gen's line:
       a barrier's waiter sees the release and the new generation in one transfer */
    _Atomic uint32_t task_gen;
    _Atomic uint32_t task_sleepers;
    _Atomic unsigned long single_count FMP__ALIGNED;
    _Atomic uint32_t ring_sleepers;
    _Atomic uint32_t ordered_loops; /* ordered loops whose descriptor is in the ring */
    long spin;                   /* spins before sleeping, for this team's size */
    long lock_spin;              /* a contended lock's spins (plock.c): at least
                                    FMP__LOCK_SPIN unless members share cores */
    /* persistent team: the next run */
    _Atomic uint32_t run_gen FMP__ALIGNED;
    _Atomic uint32_t run_sleepers;
    _Atomic int idle_asleep;     /* members asleep between runs, off the census */
    int quit;
    void (*body)(void *);
    void *arg;                   /* shared copy of the argument */
    void *result[2];             /* fmp__collective results, by parity */
    size_t result_cap[2];
    int coll_rc[2];
    size_t argsize, argcap;
    fmp__desc ring[FMP__RING];
    /* tasks (task.c): the team's deques, allocated in the arena by the first fmp_task */
    _Atomic(struct fmp__tasks *) tasks;
    _Atomic uint32_t task_pending FMP__ALIGNED; /* tasks created and not complete */
    struct fmp__chk *chk;        /* FMP_CHECK=writes: this region's findings (check.c) */
    fmp__slot slots[];           /* n of them */
};

/* A process's view of one nesting level. */
typedef struct fmp__ctx {
    fmp__shteam *team;           /* NULL for a team of one */
    int me, n;
    int level, active_level;
    uintptr_t frame;             /* stack frame of the region's entry: a member calling
                                    forkmp from above it has left the region by longjmp */
    unsigned long count;         /* collective constructs met */
    uint64_t sig;                /* rolling signature of them */
    int last_kind;
    const char *last_file;
    int last_line;
    long last_args[3];
    unsigned long ws_index;      /* descriptors claimed */
    unsigned long single_local;  /* singles met */
    unsigned long epoch;         /* scratch uses */
    void *ordered;               /* the innermost FMP_FOR_ORDERED running (fmp__loopx) */
    int nthreads_var;            /* fmp_set_num_threads() for regions opened here */
    int nthreads_called;         /* nthreads_var was set by fmp_set_num_threads() */
    int max_active_levels;
    int task_depth;              /* tasks this process is running, nested, in this team */
    struct fmp__ctx *parent;
} fmp__ctx;

#define FMP__MAX_HELD_CRIT 16    /* criticals one process may hold at once (nesting) */

typedef struct fmp__proc {
    fmp__ctx *cur;               /* innermost level of this process */
    fmp__ctx root;
    int is_child;                /* this process is a forked member */
    int initialised;
    pid_t pid;
    int error_mode;
    int rank;                    /* MPI rank for messages, -1 without the hybrid layer */
    void (*child_hook)(void);    /* hybrid layer: run in every new child */
    int *member_flag;            /* hybrid layer: set to 1 in every new child, first */
    /* criticals this process holds (sync.c): a member that reaches a barrier holding
       one would deadlock its team */
    int crit_held;
    const void *crit_ctx[FMP__MAX_HELD_CRIT]; /* the context it was entered in */
    unsigned crit_idx[FMP__MAX_HELD_CRIT];
    const char *crit_file[FMP__MAX_HELD_CRIT];
    int crit_line[FMP__MAX_HELD_CRIT];
} fmp__proc;

extern fmp__proc fmp__g;

/* One thread of a process inside forkmp's regions and teams at a time (init.c): enter
   returns 0, or FMP_ESTATE (reported, naming what and where) when another thread of the
   process is inside; every successful enter is paired with a leave. */
int fmp__thread_enter(const char *what, const char *file, int line);
void fmp__thread_leave(void);

void fmp__init(void);            /* idempotent, first call of every entry point */
static inline void fmp__ensure_init(void)
{
    if (FMP__UNLIKELY(!fmp__g.initialised))
        fmp__init();
}
static inline fmp__ctx *fmp__cur(void)
{
    fmp__ensure_init();
    return fmp__g.cur;
}
/* The context of a collective entry point called by user code: a member that calls one
   from a stack frame above its region's has left the region by longjmp (fmp__left_region
   reports it and does not return in a child).  Must be expanded in the entry point
   itself, the function the user's code calls. */
#define FMP__CUR_ENTRY()                                                                 \
    ({                                                                                   \
        fmp__ctx *c_ = fmp__cur();                                                       \
        uintptr_t f_ = (uintptr_t)__builtin_frame_address(0);                            \
        if (FMP__UNLIKELY(c_->frame && f_ > c_->frame))                                  \
            c_ = fmp__left_region(c_, f_);                                               \
        c_;                                                                              \
    })

/* ------------------------------------------------------------------------------
 * The failure room (failure.c): below sync and team, it touches only the team's
 * shared control block and this process's list of the teams it masters.
 * ------------------------------------------------------------------------------ */
/* Record a failure of t (first one wins), mark it broken, wake every waiter.
   Returns err.  fmt NULL (a member that died): the master composes the text. */
int fmp__team_fail(fmp__shteam *t, int err, int member, int how, int code,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Member m's life lock was released by the kernel (or it died before taking it):
   unless it had finished, record its death and break the team. */
void fmp__member_lost(fmp__shteam *t, int m);
/* "member M (pid P) of the team of N opened at F:L" into buf (snprintf's result). */
int fmp__member_desc(char *buf, size_t len, const fmp__shteam *t, int m, int pid);
/* A broken team's failure record still being written by a live member: wait for it to
   be published (bounded), so that the master never kills its writer mid-record. */
void fmp__await_record(fmp__shteam *t);
/* Mark t broken and wake everyone (no record). */
void fmp__team_break(fmp__shteam *t);
/* The error a wait in a broken team returns. */
int fmp__broken_err(const fmp__shteam *t);
/* A member found its team broken inside a construct: a child leaves (_exit); the
   master in abort mode ends the program with the report, in return mode goes on to the
   end of the region, where the join reports. */
void fmp__broken_in_construct(fmp__ctx *c);
/* A wait of c's team returned err: in abort mode the program ends now (master) or the
   child leaves; in return mode err is returned. */
int fmp__wait_failed(fmp__ctx *c, int err);
/* A usage error inside a construct (bad schedule, bad argument): report and break the
   team (or, outside a region, report and go on). */
int fmp__usage_error(fmp__ctx *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Non-zero the first time (file, line) asks: a misuse outside a team is said once. */
int fmp__first_report(const char *file, int line);
/* The block of FMP_CRITICAL or FMP_SINGLE (what) at file:line was left by break, goto
   or return: in a team a usage error of the team, outside one a message (once). */
void fmp__block_left(const char *what, const char *file, int line);
/* The calling member called forkmp from a frame above its region's (frame): it left
   the region by longjmp.  A child reports it and leaves; the master reports it, ends
   the team and returns the context it is really in. */
fmp__ctx *fmp__left_region(fmp__ctx *c, uintptr_t frame);
/* A region about to open with its anchor (fmp__region_enter's self, fmp_parallel's local)
   at the innermost context's: that context was left by longjmp (as fmp__left_region), and
   so was any above the anchor.  The context to open the region in. */
fmp__ctx *fmp__region_anchor_check(fmp__ctx *c, uintptr_t anchor);
/* pteam.c: the master left a run of a persistent team (by longjmp): the run is over. */
void fmp__pteam_run_left(fmp__ctx *c);
/* Teams this process masters and whose children may be alive (the abort path kills
   them).  0 or -EAGAIN (too many). */
int fmp__team_register(fmp__shteam *t);
void fmp__team_unregister(fmp__shteam *t);
/* A child: forget the parent's teams.  Each registered team, in turn. */
void fmp__failure_forget_teams(void);
void fmp__for_each_team(void (*fn)(fmp__shteam *));
/* Non-zero while this process is ending after a failure (abort mode). */
int fmp__aborting(void);
/* The master after the join: the report of a failed team (abort mode: end the process;
   return mode: print it, keep it for fmp_last_failure) and the region's result. */
int fmp__team_report(fmp__shteam *t, int err);
/* A region or team that could not start: print the catalogue's message, keep it for
   fmp_last_failure and fmp_region_error.  A lack of resources (fork, memory) ends the
   process in abort mode; an invalid argument (FMP_EINVAL) is returned in both modes.
   Returns err. */
int fmp__start_failed(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last region's result in this process (fmp_region_error); a success clears
   fmp_last_failure. */
void fmp__region_result(int err);

/* ------------------------------------------------------------------------------
 * Signal and exit hooks, the children's environment (hooks.c)
 * ------------------------------------------------------------------------------ */
/* Master, before it forks: install what children need (the fatal-signal recorder, once),
   prepare their environment (thread counts 1) and find the OpenMP runtime. */
void fmp__hooks_before_fork(void);
/* A new child, right after fork: parent death, exit hook, environment, OpenMP runtime;
   warm: a warm member entering a region (its parent death is armed already). */
void fmp__hooks_child(pid_t parent, int creator_is_leader, int warm);
/* Child: the team and member its crash records go to. */
void fmp__set_my_slot(fmp__shteam *t, int me);

/* ------------------------------------------------------------------------------
 * Team life cycle (team.c)
 * ------------------------------------------------------------------------------ */
const char *fmp__kind_name(int kind);
/* FMP_DOUBLE, FMP_SUM...: a type's and an op's name, for messages. (reduce.c) */
const char *fmp__type_name(long type);
const char *fmp__op_name(long op);
/* Resolve a requested team size for a team opened under parent; 0 or FMP_EINVAL
   (reported, naming what and the call site). */
int fmp__team_size(fmp__ctx *parent, int nprocs, int cond, const char *what,
                   const char *file, int line, int *n);
/* A zeroed control block for n members, or NULL (ENOMEM). */
fmp__shteam *fmp__team_alloc(int n, fmp__ctx *parent, const char *file, int line);
void fmp__team_free(fmp__shteam *t);
/* Team t as fmp__team_alloc left it, for new members: those bound to it were reaped
   before they started (a warm pool let go at the open). (team.c) */
void fmp__team_unstart(fmp__shteam *t);
/* Fork members 1..n-1.  Returns 0 in the master, the member number in a child, or a
   negative error (every forked member killed and reaped, reported). */
int fmp__team_fork(fmp__shteam *t, const char *what, const char *file, int line);
/* Set up ctx as member me of t under parent and make it current. */
void fmp__ctx_enter(fmp__ctx *c, fmp__ctx *parent, fmp__shteam *t, int me, int n);
fmp__ctx *fmp__ctx_new(void);      /* a region's context, uninitialised (fmp__ctx_enter) */
void fmp__ctx_free(fmp__ctx *c); /* by the thread that owns forkmp (fmp__thread_enter) */
/* Master: reap every child (after a failure: SIGKILL the living first), unregister.
   Returns the team's error, 0 if none. */
int fmp__team_reap(fmp__shteam *t);
/* Master: look at members that have not started yet (a pidfd poll; a child dead before
   it took its life lock shows only there). */
void fmp__team_check_unstarted(fmp__shteam *t);
/* Child: leave the process now (flush stdio, mark the slot, release the life lock,
   _exit). */
__attribute__((noreturn)) void fmp__child_exit(fmp__shteam *t, int me, int state, int status);
/* The member's life word (the robust mutex's futex word). */
static inline _Atomic uint32_t *fmp__life_word(fmp__slot *s)
{
    return (_Atomic uint32_t *)&s->life.__data.__lock;
}

/* Barrier (sync.c).  kind is an enum fmp__kind; flushes stdio; returns 0 or error. */
int fmp__barrier(fmp__ctx *c, int kind, const char *file, int line);
/* The same, combining a small reduction on the way when the team has a tree (tree.c):
   fold NULL, or the team has no tree, is fmp__barrier. */
struct fmp__fold;
int fmp__barrier_fold(fmp__ctx *c, int kind, const char *file, int line,
                      const struct fmp__fold *fold);
/* Tasks (task.c).  Run the team's tasks until none is left (the last member to arrive at
   a barrier, before it releases the others): 0, or the team's error. */
int fmp__task_drain(fmp__ctx *c);
/* A member that arrived at a barrier of generation gen: wait for its release, running
   the team's tasks meanwhile.  0, or the team's error. */
int fmp__task_barrier_wait(fmp__ctx *c, uint32_t gen);
/* The barrier was released: wake its waiters (they sleep on the task word). */
void fmp__task_release(fmp__shteam *t);
/* Free a team's task deques (team.c, when the control block is freed). */
void fmp__task_free(fmp__shteam *t);

/* Warm regions (warm.c).  fmp__warm_enter, at a region's fork: 0 in the master, whose
   members then are the warm pool's, synced and entering the region (t->warm is set);
   the member's number in a member, returning as a fork child would; -1 when the region
   must fork (FMP_REGION=fork, nested, another thread, no kernel support...). */
int fmp__warm_enter(fmp__shteam *t, const char *file, int line);
/* A stamp of the warm regions' profile (-DFMP_WARM_PROFILE, see warm.c); nothing otherwise. */
#ifdef FMP_WARM_PROFILE
void fmp__wprof(int slot);
#else
#define fmp__wprof(slot) ((void)0)
#endif
int fmp__warm_member_of(const fmp__shteam *t); /* this process is t's warm member */
/* FMP_CHECK=writes: the pid of t's warm pool's snapshot member (its memory is the
   master's at the region's start, until the next region), or 0: none. */
pid_t fmp__warm_snapshot(const fmp__shteam *t);
/* FMP_CHECK=writes (warm.c): track the private memory this member writes from now on
   (a warm member's own tracking, protected again; a forked child's, registered anew):
   0 or -errno.  Then the pages written since, as [start, end) ranges into out: the count,
   -E2BIG when out is full, or -errno. */
int fmp__wtrack_begin(const fmp__shteam *t);
long fmp__wtrack_written(uintptr_t (*out)[2], long max);
/* A persistent team's member: only what is written from now on shows. */
int fmp__wtrack_rearm(void);
/* A warm member, from its begin to its body's end: memory of its own, never mirrored,
   free for the check (*len bytes), or NULL. */
void *fmp__wtrack_scratch(size_t *len);
/* The mapping holding address a: [*lo, *hi), or 0 and 0 when none; 0 or -errno. */
int fmp__vma_of(uintptr_t a, uintptr_t *lo, uintptr_t *hi);
/* The same from the text of /proc/self/maps: what fmp__vma_of falls back on before Linux
   6.11 (PROCMAP_QUERY); tests call it directly. */
int fmp__vma_of_text(uintptr_t a, uintptr_t *lo, uintptr_t *hi);
/* A file read whole into buf (NUL-terminated) through raw system calls (a warm member may
   call it): its length, -E2BIG when it does not fit in cap - 1 bytes, or -errno (warm.c). */
long fmp__read_file(const char *path, char *buf, long cap);
/* The threads of this process (entries of /proc/self/task), or -1 */
int fmp__threads_of_self(void);

/* The lost-write detector (check.c), for FMP_PARALLEL's teams when FMP_CHECK=writes:
   the master opens it before its members start (a snapshot of its memory, the frames of
   its stack), each member other than the master reports at its body's end the private
   memory it wrote, the master names and prints it after the join. */
void fmp__check_open(fmp__shteam *t, uintptr_t frame);
void fmp__check_snapshot(fmp__shteam *t); /* the master, once its members are started */
void fmp__check_member_begin(fmp__shteam *t);
void fmp__check_member_end(fmp__shteam *t, int me);
void fmp__check_master_end(fmp__shteam *t); /* the master, at its body's end */
void fmp__check_close(fmp__shteam *t);
/* A persistent team's (the snapshot is the team's memory at its creation, kept for its
   life): before a run's body, in a member; after a run's join, in the master. */
void fmp__check_member_rearm(fmp__shteam *t);
void fmp__check_report(fmp__shteam *t);
__attribute__((noreturn)) void fmp__warm_park(void); /* a warm member's end of region */
void fmp__warm_shutdown(void);                 /* the master: the pool goes */
void fmp__warm_report(void); /* FMP_DISPLAY_ENV=verbose: the counts, at the master's end */
const char *fmp__warm_unavailable(void);       /* why warm regions cannot run, or NULL */
void fmp__warm_describe(char *buf, size_t len); /* FMP_REGION for FMP_DISPLAY_ENV */
/* Note a collective construct in the caller's signature. */
void fmp__construct(fmp__ctx *c, int kind, const char *file, int line, long a, long b,
                    long d);
/* Mix one more value into the signature of the construct just noted. */
void fmp__construct_mix(fmp__ctx *c, long v);
/* A member about to wait in a barrier: non-zero (the team failed, reported) when an
   ordered loop that it has not met is running in the team. (loop.c) */
int fmp__ordered_skipped(fmp__ctx *c);
/* Wait until *w != old, or the team breaks.  Returns 0 or the team's error.  Sleeps
   watching the team's broken word and its members' life words. (wait.c) */
int fmp__wait_change(fmp__shteam *t, _Atomic uint32_t *w, uint32_t old,
                     _Atomic uint32_t *sleepers);
/* The same for a persistent team's member between runs: off the census while it sleeps
   (fmp__census_idle). */
int fmp__wait_idle(fmp__shteam *t, _Atomic uint32_t *w, uint32_t old,
                   _Atomic uint32_t *sleepers);
/* Sleep once while *w == old, for a wait that a failure of t does not end (a lock's):
   in a whole team t with its broken word and the life words the caller watches, then a
   scan of them (a death is recorded and breaks the team); otherwise (no team, or
   broken) for a slice.  The caller looks at its condition again. (wait.c) */
void fmp__sleep_watching(fmp__shteam *t, _Atomic uint32_t *w, uint32_t old);
/* Scan the life words of the members this process watches; a dead one breaks the
   team.  Returns non-zero when the team is broken. (wait.c) */
int fmp__scan_lives(fmp__shteam *t);
/* The calling process's member number in t (0 for its master). (wait.c) */
int fmp__my_member(const fmp__shteam *t);
/* Member m of t holds its life lock: alive, and started. (wait.c) */
int fmp__member_alive(fmp__shteam *t, int m);

/* Descriptor ring (sync.c): claim the descriptor of the caller's next construct.  The
   first member to arrive runs init(d, data) and the others check(d, data) (a non-zero
   result of check is a mismatch, already reported).  Returns the descriptor or NULL
   when the team broke. */
fmp__desc *fmp__desc_claim(fmp__ctx *c, void (*init)(fmp__desc *, const void *),
                           int (*check)(fmp__ctx *, const fmp__desc *, const void *),
                           const void *data);
/* Leave a descriptor; the last member recycles it (cleanup runs first, once). */
void fmp__desc_release(fmp__ctx *c, fmp__desc *d, void (*cleanup)(fmp__desc *));

/* Output (output.c) */
void fmp__flush_stdio(void);
/* Before a fork: every stream with output waiting (fflush(NULL) without waiting on the
   lock of a stream being read, such as stdin under another thread's fgets). */
void fmp__flush_streams(void);
/* Messages to the user: the catalogue is messages.h (FMP__SAY, FMP__MSG_*). */
int fmp__write_all(int fd, const char *buf, size_t len);
int fmp__vprint(int fd, const char *fmt, va_list ap); /* one locked write */

/* Topology and binding (topo.c) */
/* Bind the calling member (me of n) to its place inside the cpuset it was given by
   its parent; a no-op when proc-bind is false or unset.  Called in every member
   right after the fork (and in the master). */
void fmp__bind_member(int level, int me, int n);
/* The same, done by the master for its new child pid right after fork(): the child then
   starts on its own place rather than queueing behind the master on the master's core.
   Called with the parent's context current. */
void fmp__bind_child(pid_t pid, int level, int me, int n);
/* Warn once when a team of n is larger than the cores this process may use. */
void fmp__check_oversubscription(int n);
/* FMP_DISPLAY_AFFINITY line for the calling member. */
void fmp__display_affinity(int level, int me, int n);
/* Cores (PUs) in this process's affinity mask. */
int fmp__affinity_count(void);

/* Spins a waiter of a team of n makes before it sleeps (team.c): FMP_SPIN_COUNT's
   value, cut short when the team outnumbers the cpus. */
long fmp__team_spin(int n);

/* Combining trees (tree.c): a big team's barrier arrives through a tree of counters
   that follows the topology, and its small reductions combine along it. */
#define FMP__TREE_FANIN 8    /* arrivals at one node, at most */
#define FMP__TREE_DEFAULT 16 /* FMP_BARRIER_TREE's default */
/* The shape of a tree over n members: nnodes nodes, node 0 the root, every node's parent
   before it; a node's children are members (leafy) or nodes, at most FMP__TREE_FANIN. */
typedef struct fmp__tree_shape {
    int n, nnodes;
    int *parent;  /* [node]: -1 for the root */
    int *nkids;   /* [node] */
    int *leafy;   /* [node] */
    int *numa;    /* [node]: the NUMA node of all its members (a key of numa[]), -1 */
    int *depth;   /* [node]: 0 for the root */
    int *kids;    /* [node * FMP__TREE_FANIN + i] */
    int *leaf;    /* [member]: the node it arrives at */
    int *pos;     /* [member]: its place among that node's children */
} fmp__tree_shape;
/* The shape from nlevels keys per member (keys[l * n + m], at most 8 levels: the index
   of the domain holding member m at level l, -1 unknown): the levels are taken from the
   one with the most groups down, each that splits the members in fewer groups than the
   last one kept groups them, and every group of more than FMP__TREE_FANIN is split in
   nodes of that many in member order; numa[m] (or
   NULL) names the NUMA node of member m, for the nodes' numa.  0, FMP_EINVAL, FMP_ENOMEM;
   free with fmp__tree_shape_free(). */
int fmp__tree_build(int n, int nlevels, const int *keys, const int *numa, fmp__tree_shape *s);
void fmp__tree_shape_free(fmp__tree_shape *s);
/* A combination riding on the barrier: count elements (bytes in all, at most
   FMP__INLINE_SCRATCH) combined with f / to; exact: the bits do not depend on the order
   (combined along the tree), else combined in member order at the root. */
typedef struct fmp__fold {
    void (*f)(void *acc, const void *in, size_t count, fmp_op op);
    void (*to)(void *dst, const void *a, const void *b, size_t count, fmp_op op);
    size_t count, bytes;
    fmp_op op;
    int exact;
} fmp__fold;
/* Before the fork of a team: give it a tree when it is big enough (no tree on failure). */
void fmp__tree_attach(fmp__shteam *t);
void fmp__tree_detach(fmp__shteam *t);
/* Arrive at the barrier through the tree (f NULL: no combination): 1 for the last
   arriver at the root, else 0. */
int fmp__tree_arrive(fmp__shteam *t, int me, const fmp__fold *f);
/* Where member me writes its contribution to a combination; where the result is. */
void *fmp__tree_contrib(fmp__shteam *t, int me);
/* Member m's barrier record in its leaf's page. */
fmp__barrec *fmp__tree_barrec(fmp__shteam *t, int m);
static inline fmp__barrec *fmp__bar(fmp__shteam *t, int m)
{
    return t->tree ? fmp__tree_barrec(t, m) : &t->slots[m].bar;
}
const void *fmp__tree_result(fmp__shteam *t);
/* topo.c: the places of the n members of a team opened at level (-1 each when not
   binding); the tree over members at those places (0, or an error: no tree); bind
   len bytes at addr (whole pages) to memory of the NUMA node of logical index numa
   (-1: back to the default policy), when the machine has several (best effort): 1 when
   it bound them. */
void fmp__topo_member_places(int level, int n, int *places);
int fmp__topo_places_tree(const int *places, int n, fmp__tree_shape *s);
int fmp__topo_membind(void *addr, size_t len, int numa);

/* Reductions (reduce.c) */
int fmp__reduce_combine(void *acc, const void *in, size_t count, fmp_type type, fmp_op op);
int fmp__reduce_check(fmp_type type, fmp_op op);

/* Scratch for collectives: this member's buffer of at least bytes for the given
   parity (0/1), published in its slot.  NULL on ENOMEM. */
void *fmp__scratch(fmp__ctx *c, int parity, size_t bytes);

/* ------------------------------------------------------------------------------
 * Environment and topology module (env.c, topo.c): additions to the sections above.
 * ------------------------------------------------------------------------------ */
/* FMP_PLACES parsed: an abstract name with an optional (count), or an explicit list. */
enum fmp__places_kind { FMP__PLACES_DEFAULT = 0, FMP__PLACES_THREADS, FMP__PLACES_CORES,
                        FMP__PLACES_SOCKETS, FMP__PLACES_LL_CACHES, FMP__PLACES_NUMA,
                        FMP__PLACES_EXPLICIT };
typedef struct fmp__places {
    int kind;        /* enum fmp__places_kind */
    int count;       /* abstract name: at most count places; 0: all */
    int nplaces;     /* explicit: number of places */
    int *first;      /* explicit: place k is ids[first[k] .. first[k+1]), sorted, unique */
    int *ids;        /* explicit: PU numbers as the OS counts them */
} fmp__places;
/* Parse an FMP_PLACES value (OpenMP's grammar).  out NULL: check the syntax only;
   otherwise free it with fmp__env_places_free().  0 or FMP_EINVAL, never exits. */
int fmp__env_parse_places(const char *s, fmp__places *out);
void fmp__env_places_free(fmp__places *p);
/* FMP_SPIN_COUNT / GOMP_SPINCOUNT: n[k|M|G|T] or infinity.  0 or FMP_EINVAL. */
int fmp__env_parse_spin(const char *s, long *out);
/* Row i of the variables table of doc/environment.md (1), or 0 past the last row. */
int fmp__env_doc_row(size_t i, char *buf, size_t len);

/* FMP_AFFINITY_FORMAT: the defaults (with and without MPI) and a syntax check. */
#define FMP__AFFINITY_FORMAT_DEFAULT "host %H pid %P level %L member %n of %N cpus %A"
#define FMP__AFFINITY_FORMAT_MPI "host %H rank %r pid %P level %L member %n of %N cpus %A"
int fmp__affinity_format_check(const char *fmt);
/* Master, before it forks a team of n: load the topology and the places the members
   will bind to when binding is on (and the core count for the oversubscription
   warning), so that fmp__bind_member() in the children only computes and binds.
   Cheap after the first call; never loads anything in a child (a child that is
   itself a master uses what its parent loaded). */
void fmp__topo_prepare(int n);
/* Note: with binding on, fmp__affinity_count() and fmp__check_oversubscription() count
   the PUs of the caller's place partition (what its teams may use), not the single place
   its own thread is bound to after its first region. */

/* ------------------------------------------------------------------------------
 * The internal interface of libforkmp_mpi (not public API).  libforkmp exports one
 * symbol for it, fmp__internal_ops(): a const table of the core's hooks (src/ops.c).
 * The hooks themselves are hidden; the hybrid layer calls them through the table only.
 * ------------------------------------------------------------------------------ */
/* A team collective whose combining step runs in the master alone (it may call MPI):
   every member stages inbytes of in; the master calls master_fn with the members'
   inputs in member order and a result buffer of outbytes; every member gets the
   result in out (out may be NULL where outbytes is 0) and master_fn's return code.
   Outside a region (or in a team of one) master_fn runs at once on in and out. */
int fmp__collective(const void *in, void *out, size_t inbytes, size_t outbytes,
                    int (*master_fn)(void *const *inputs, int n, void *result, void *arg),
                    void *arg, const char *what, const char *file, int line);
/* fmp__collective, where the members' inputs are count elements of type to be combined
   with op in member order (type and op valid for fmp_reduce, the type's size dividing
   inbytes): every member folds its slice of them into member 0's, in member order
   (acc = acc op input m, as MPI_Reduce_local(acc, input m) with a predefined op), and
   master_fn gets that one input (n = 1).  FMP_TYPE_NONE: fmp__collective. */
int fmp__collective_fold(const void *in, void *out, size_t inbytes, size_t outbytes, fmp_type type,
                         fmp_op op,
                         int (*master_fn)(void *const *inputs, int n, void *result, void *arg),
                         void *arg, const char *what, const char *file, int line);
/* The MPI rank for diagnostics (-1: none). */
void fmp__set_rank(int rank);
/* A function every new child runs right after fork (NULL: none). */
void fmp__set_child_hook(void (*hook)(void));
/* Register forkmp's exit handler again, so it runs before handlers registered since
   (MPI_Init registers its own). */
void fmp__exit_handler_again(void);
/* Non-zero in a process forked by forkmp. */
int fmp__is_child(void);
/* The hooks set_member_flag and member_fail of struct fmp__ops (hooks.c). */
void fmp__set_member_flag(int *flag);
void fmp__member_fail(int err,
                      void (*text)(char *buf, size_t len, const char *who, const void *arg),
                      const void *arg);
/* Fold a, b, d (the datatype, op, root, communicator... of an fmp_mpi_* call) into the
   signature of the caller's next collective, so that members that disagree on them get
   FMP_EMISMATCH at its barrier, as for a count.  A no-op outside a team.  (reduce.c) */
void fmp__collective_note(long a, long b, long d, const char *file, int line);
/* The hybrid layer checked the whole job for oversubscription (and warned once, from one
   rank): fmp__check_oversubscription() says nothing more in this process.  (topo.c) */
void fmp__oversubscription_checked(void);
/* An oversubscription warning was given in this process tree (or the job); take the
   right to give one: 1 for the first caller only.  (topo.c) */
int fmp__oversubscription_said(void);
int fmp__oversubscription_take(void);

/* What the hybrid layer's fmp_mpi_init() decided for this process, kept by the core for
   forkmp-info (src/info.c): the team size and why, and the fork-safety verdict. */
enum fmp__team_why { FMP__WHY_CPUSET = 0, FMP__WHY_NUM_THREADS, FMP__WHY_SLURM };
typedef struct fmp__mpi_decision {
    int team; /* the default team size it set */
    int why;  /* enum fmp__team_why */
    int pus;  /* PUs of the rank's cpuset */
    int same; /* local ranks with the same cpuset (this one included) */
    int local_rank, local_size;
    int fork_problems; /* fmp__mpi_fork_verdict()'s bits, 0: safe */
    char advice[1024]; /* its sentence when not safe */
} fmp__mpi_decision;
/* Keep d (the hybrid layer, after fmp_mpi_init() chose).  (info.c) */
void fmp__set_mpi_decision(const fmp__mpi_decision *d);

/* What a program would get in this process, for forkmp-info (info.c, topo.c). */
enum {
    FMP__INFO_WARN = 1, /* print the warnings a team of that size would get */
    FMP__INFO_ENV = 2
}; /* fill env with FMP_DISPLAY_ENV's verbose block */
typedef struct fmp__info {
    int team;              /* the size of a region opened with size 0 here */
    int max_threads;       /* fmp_get_max_threads(): team, unless FMP_THREAD_LIMIT cut it */
    const char *team_from; /* the variable FMP_NUM_THREADS was read from, or NULL (cpus) */
    char cpus[256];        /* the process's cpuset, as the runtime loaded it */
    int pus, cores;        /* PUs and cores in it */
    int bind;              /* enum fmp__bind of the outermost level */
    char places[256];      /* FMP_PLACES as given, "" when unset (cores) */
    int nplaces;           /* places inside the cpuset (binding on), 0 otherwise */
    int distinct;          /* places the team's members get (binding on) */
    char members[2048];    /* member i's cpus, "{0},{1}" (binding on), "" otherwise */
    int wait_policy;       /* enum fmp__wait */
    long spin_count;       /* FMP_SPIN_COUNT's resolved value */
    long team_spin;        /* what a team of that size spins (fmp__team_spin) */
    size_t arena;          /* the shared arena's size as mapped */
    int have_mpi;          /* fmp_mpi_init() decided: mpi holds it */
    fmp__mpi_decision mpi;
    char *env; /* FMP__INFO_ENV: malloc'd (the caller frees), else NULL */
} fmp__info;
/* Fill out for the team a region opened with size 0 would fork now (fmp__team_size), as
   the runtime would run it.  (info.c) */
void fmp__info_get(fmp__info *out, int flags);
/* The topology part of it: cpus, pus, cores, bind, nplaces, distinct, members; and with
   FMP__INFO_WARN the warnings for members squeezed onto shared places.  (topo.c) */
void fmp__topo_describe(fmp__info *out, int flags);

/* The table's version.  Bump it when a hook of the table changes its signature or its
   meaning, or is removed or moved; a hook added at the end of the struct needs no bump
   (the table's size tells an older libforkmp from a newer one).  The compiler's command
   line may set it, as the build of the mismatch test does. */
#ifndef FMP__OPS_ABI
#define FMP__OPS_ABI 1u
#endif

/* The hooks, in a fixed order, after abi and size, which stay the first two members in
   every version.  To add one: a member at the end here and its entry in src/ops.c. */
struct fmp__ops {
    unsigned abi; /* FMP__OPS_ABI of the libforkmp that filled it */
    size_t size;  /* sizeof(struct fmp__ops) in that libforkmp */
    int (*collective)(const void *in, void *out, size_t inbytes, size_t outbytes,
                      int (*master_fn)(void *const *inputs, int n, void *result, void *arg),
                      void *arg, const char *what, const char *file, int line);
    void (*set_rank)(int rank);
    void (*set_child_hook)(void (*hook)(void));
    void (*exit_handler_again)(void);
    int (*is_child)(void);
    void (*collective_note)(long a, long b, long d, const char *file, int line);
    void (*oversubscription_checked)(void);
    /* The MPI wrappers' (src/mpi/mpicheck.c): *flag is set to 1 in every member forked
       from then on, first thing as it starts; any process, any time, before
       initialisation too (a constructor registers it). */
    void (*set_member_flag)(int *flag);
    /* In a member forked by forkmp (this process's own team slot): fails the team it was
       forked for with the text text() writes (who: the member, its team and the team's
       call site, FMP__MSG_member_of), recorded as a usage error of err, and leaves with
       FMP_EXIT_FAILURE.  Returns only in a process that is not such a member. */
    void (*member_fail)(int err,
                        void (*text)(char *buf, size_t len, const char *who, const void *arg),
                        const void *arg);
    void (*set_mpi_decision)(const fmp__mpi_decision *d);
    void (*info)(fmp__info *out, int flags);
    int (*collective_fold)(const void *in, void *out, size_t inbytes, size_t outbytes,
                           fmp_type type, fmp_op op,
                           int (*master_fn)(void *const *inputs, int n, void *result, void *arg),
                           void *arg, const char *what, const char *file, int line);
    /* fmp_mpi_init: this rank's census into its slot of the node's segment (census.c). */
    void (*census_attach)(fmp__census_node *node, int slot);
    /* The live processes the census counts (the node's sum once attached). */
    int (*census_live)(void);
    /* 1 while waiters spin only FMP__THROTTLED_SPIN: the cpus are oversubscribed and no
       spin was asked for explicitly (judged again). */
    int (*census_throttled)(void);
    /* fn is called in this process when the verdict changes (census.c). */
    void (*census_watch)(void (*fn)(void));
};

/* The table for a caller built with FMP__OPS_ABI == abi, or NULL when this libforkmp has
   none of that version.  The caller checks that the table's size covers its own
   sizeof(struct fmp__ops): a libforkmp older than the caller may lack hooks added at
   the end.  Any process, any time; the table is constant. */
FMP_EXPORT const struct fmp__ops *fmp__internal_ops(unsigned abi);

#endif /* FMP_INTERNAL_H */
