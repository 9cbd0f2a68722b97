/**
 * @file forkmp.h
 * @brief forkmp core: OpenMP's fork-join model with processes instead of threads.
 *
 * At a parallel region the calling process forks child processes that start as
 * copy-on-write images of it; every member runs the region's body; at the join the
 * children leave and only the master (member 0) goes on.  Data that must survive the
 * join or be seen by siblings lives in shared memory (fmp_shared_alloc()) or travels
 * by a reduction (fmp_reduce()).
 *
 * @section errors Error model
 * Every function that returns @c int returns ::FMP_OK (0) on success and a negative
 * code on failure: one of the @c FMP_E* codes below, or a system error as @c -errno
 * (for example @c -EAGAIN when fork() fails).  fmp_strerror() turns any of them into
 * a sentence.  Functions that return a pointer return NULL and set @c errno.
 *
 * When a member fails (crashes, is killed, calls exit() or _exit(), leaves a region's
 * block by @c return / @c break / @c goto / @c longjmp) or the members disagree on the
 * worksharing constructs they meet, the team is @e broken: every wait in it returns an
 * error instead of hanging, loops, streams and singles hand out nothing more, and the
 * join reports which member failed and how (signal and fault address, exit status,
 * call site).  By default (::FMP_ERRORS_ABORT, or @c FMP_ON_ERROR=abort) the program
 * then ends with exit status ::FMP_EXIT_FAILURE and that diagnostic on stderr, at the
 * master's next forkmp call (a wait, a construct, the join): a master that is computing
 * outside forkmp finishes that computation first, and what it printed survives, since
 * nothing is ended from a signal handler.  With ::FMP_ERRORS_RETURN (or
 * @c FMP_ON_ERROR=return) fmp_parallel() and fmp_team_run() return the error instead,
 * and fmp_region_error() gives it for the macro form.  A region or team that cannot
 * start (fork fails, no shared memory) is never skipped silently: abort mode ends the
 * program with the message, return mode returns the error (an invalid argument, such as
 * a negative team size, is returned in both modes).
 *
 * @section liveness How a failure is seen
 * Each member holds a lock in the team's shared control block for its whole life; the
 * kernel releases it however the member ends (crash, SIGKILL, _exit) and whoever
 * reaps it, and that wakes the members waiting on the team.  No signal is involved:
 * forkmp installs no SIGCHLD handler and never changes SIGCHLD's disposition.  So a
 * program may install its own SIGCHLD handler, ignore SIGCHLD (its children, members
 * included, are then reaped by the kernel), or call wait() / waitpid(-1) in the master:
 * forkmp still sees a member's death; only the member's exit status may then be lost to
 * the report.  forkmp reaps and signals only its own children, through pidfds, never a
 * pid that may have been reused.  A warm region's parked members (see ::FMP_REGION) are
 * children that signal nothing when they end: wait(), waitpid(-1) and waitid(P_ALL)
 * without __WALL never see them, nor does a SIGCHLD handler, so a program that reaps all
 * of its children after its regions does not wait for them; a persistent team's members
 * are ordinary children until fmp_team_destroy().
 *
 * @section fork What happens across fork
 * - stdio is flushed before every fork, so nothing buffered is printed twice; a child
 *   flushes its own stdio and leaves with _exit(); atexit() handlers never run in a
 *   child: forkmp's exit hook, registered in every child as it starts, runs first when
 *   a member calls exit() and leaves with _exit();
 * - children die with the master process: a parent-death signal, SIGKILL (SIGURG,
 *   caught and checked against the parent process, when the team was created by a
 *   thread other than the main one, so that the team outlives that thread);
 * - forkmp notes in the member's slot where a fault happened (SIGSEGV, SIGBUS, SIGFPE,
 *   SIGILL, SIGABRT, SIGTRAP, SIGSYS) and passes the signal on to the handler that was
 *   there before (the program's, or a tool's such as AddressSanitizer's) or the default
 *   action;
 * - a child starts with @c OMP_NUM_THREADS=1 and the common BLAS thread variables set
 *   to 1; an OpenMP runtime already loaded in the master is told directly, and a
 *   member's OpenMP regions run with one thread (libgomp keeps its thread pool across
 *   fork, without the threads);
 * - private memory written by a child is lost at the join (copy-on-write);
 * - in a child, call only what is safe after fork: no MPI, no library that keeps
 *   threads of its own.
 *
 * @section threads Threads
 * forkmp is called by one thread of a process at a time (its state is the process's; a
 * second thread that opens a region or calls a team while the first is inside one gets
 * ::FMP_ESTATE and a message);
 * which thread does not matter: a persistent team created by one thread may be run by
 * another, after the first ended.
 *
 * This header is C11 and C++ clean.  The region and construct macros need GCC or
 * Clang (they use @c __attribute__((cleanup))).
 */
#ifndef FORKMP_H
#define FORKMP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "forkmp_version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(FMP_BUILDING_LIBRARY)
#define FMP_EXPORT __attribute__((visibility("default")))
#else
#define FMP_EXPORT
#endif

/* ------------------------------------------------------------------------------ */
/** @name Error codes */
/**@{*/
#define FMP_OK 0                /**< success */
#define FMP_EINVAL (-22)        /**< an argument is out of range (same value as -EINVAL) */
#define FMP_ENOMEM (-12)        /**< out of memory or shared arena exhausted (-ENOMEM) */
#define FMP_EMEMBER (-1001)     /**< a member of the team failed: crashed, killed, exited */
#define FMP_EMISMATCH (-1002)   /**< members met different worksharing constructs */
#define FMP_EBROKEN (-1003)     /**< the team is broken by an earlier failure */
#define FMP_EOWNERDEAD (-1004)  /**< lock acquired, but its previous holder died */
#define FMP_ETYPE (-1005)       /**< unknown ::fmp_type */
#define FMP_EOP (-1006)         /**< unknown ::fmp_op, or an op not defined on the type */
#define FMP_EOVERFLOW (-1007)   /**< count * element size overflows */
#define FMP_ESTATE (-1008)      /**< called where it may not be (wrong process, wrong time) */
#define FMP_EEXITED (-1009)     /**< a member left the region by exit(), return, break, goto */
/**@}*/

/** Exit status of a program that forkmp ends after a member failure (EX_SOFTWARE). */
#define FMP_EXIT_FAILURE 70

/** Error policies, see fmp_set_error_mode(). */
typedef enum fmp_error_mode {
    FMP_ERRORS_ABORT = 0,  /**< default: print the diagnostic and end the program */
    FMP_ERRORS_RETURN = 1  /**< return the error from fmp_parallel() / fmp_team_run() */
} fmp_error_mode;

/* ------------------------------------------------------------------------------ */
/** @name Version */
/**@{*/
/** Run-time version as 0xMMmmpp (major, minor, patch). Any process, any time. */
FMP_EXPORT unsigned fmp_get_version(void);
/**@}*/

/* ------------------------------------------------------------------------------ */
/** @name Regions */
/**@{*/

/**
 * Run @p body(@p arg) in a team of @p nprocs processes (the caller is member 0).
 * @param nprocs team size; 0 means the default (fmp_get_max_threads()); 1 runs the
 *        body in the caller without fork.
 * @param body the region's body, run by every member.
 * @param arg passed to @p body; a pointer into the master's memory is valid in the
 *        children (they are its copies), and what they write there is lost at the join.
 * @return ::FMP_OK, ::FMP_EINVAL for @p nprocs < 0 or a NULL body, @c -EAGAIN or
 *         @c -ENOMEM when fork fails, or (with ::FMP_ERRORS_RETURN) ::FMP_EMEMBER,
 *         ::FMP_EEXITED, ::FMP_EMISMATCH when the region failed.
 * May be called anywhere: outside regions, in any member (a nested region, which has
 * one member unless nesting is on, see fmp_set_nested()).
 */
FMP_EXPORT int fmp_parallel(int nprocs, void (*body)(void *arg), void *arg);

/** Like fmp_parallel(), but the body runs in the caller alone when @p cond is 0. */
FMP_EXPORT int fmp_parallel_if(int nprocs, int cond, void (*body)(void *arg), void *arg);

/** This member's number in the innermost team: 0 in the master and outside regions. */
FMP_EXPORT int fmp_thread_num(void);
/** Size of the innermost team; 1 outside regions. */
FMP_EXPORT int fmp_num_threads(void);
/** Non-zero inside an active region (a team of more than one member). */
FMP_EXPORT int fmp_in_parallel(void);
/** Nesting depth of regions around the caller, active or not; 0 outside regions. */
FMP_EXPORT int fmp_get_level(void);
/** Number of enclosing active regions (teams of more than one member). */
FMP_EXPORT int fmp_get_active_level(void);
/** Member number of the caller's ancestor at @p level (-1 if no such level). */
FMP_EXPORT int fmp_get_ancestor_thread_num(int level);
/** Team size at @p level (-1 if no such level). */
FMP_EXPORT int fmp_get_team_size(int level);
/** Default size of a team opened by the caller now (FMP_NUM_THREADS, else cores). */
FMP_EXPORT int fmp_get_max_threads(void);
/** Set the default team size for regions opened by the caller (n >= 1). */
FMP_EXPORT void fmp_set_num_threads(int n);
/** Non-zero when nested regions fork teams of their own. */
FMP_EXPORT int fmp_get_nested(void);
/** Turn nested regions on or off (off: an inner region has one member). */
FMP_EXPORT void fmp_set_nested(int on);
/** Most active nesting levels (1 when nesting is off). */
FMP_EXPORT int fmp_get_max_active_levels(void);
/** Set the most active nesting levels (>= 1). */
FMP_EXPORT void fmp_set_max_active_levels(int levels);
/** Most processes a rank's teams may hold together (FMP_THREAD_LIMIT). */
FMP_EXPORT int fmp_get_thread_limit(void);
/** Number of processing units this process may run on (its affinity mask). */
FMP_EXPORT int fmp_get_num_procs(void);
/**
 * Choose what a failed region does: end the program (default, ::FMP_ERRORS_ABORT) or
 * return the error from fmp_parallel() / fmp_team_run() (::FMP_ERRORS_RETURN).
 * The environment variable FMP_ON_ERROR sets the initial mode.  Any process, any time.
 */
FMP_EXPORT void fmp_set_error_mode(fmp_error_mode mode);
/** The current error policy. */
FMP_EXPORT fmp_error_mode fmp_get_error_mode(void);
/**@}*/

/* ------------------------------------------------------------------------------ */
/** @name Loop schedules */
/**@{*/
/** Schedule kinds. */
typedef enum fmp_sched_kind {
    FMP_SCHED_STATIC = 1,
    FMP_SCHED_DYNAMIC = 2,
    FMP_SCHED_GUIDED = 3,
    FMP_SCHED_RUNTIME = 4,
    FMP_SCHED_INVALID = 0
} fmp_sched_kind;

/** A loop schedule: a plain value. */
typedef struct fmp_schedule {
    fmp_sched_kind kind; /**< static, dynamic, guided or runtime */
    long chunk;          /**< chunk size; 0 is the kind's default */
} fmp_schedule;

/** Static: chunk 0 gives one contiguous block per member, else chunks round-robin. */
FMP_EXPORT fmp_schedule fmp_static(long chunk);
/** Dynamic: members grab @p chunk iterations at a time (0 means 1). */
FMP_EXPORT fmp_schedule fmp_dynamic(long chunk);
/** Guided: shrinking chunks, never smaller than @p chunk (0 means 1). */
FMP_EXPORT fmp_schedule fmp_guided(long chunk);
/** The schedule of FMP_SCHEDULE / OMP_SCHEDULE (default static). */
FMP_EXPORT fmp_schedule fmp_runtime(void);
/** A negative chunk makes the loop fail with ::FMP_EINVAL naming the call site. */
/**@}*/

/* ------------------------------------------------------------------------------ */
/** @name Shared memory */
/**@{*/
/**
 * Allocate @p bytes of shared memory, zero-filled, 64-byte aligned (page aligned from
 * 4 KiB).  The block has the same address in every member of every team, also in
 * teams created before it was allocated.  Any process, any time.
 * @return the block, or NULL with errno ENOMEM (the arena is full, or @p bytes is
 *         larger than it: raise FMP_SHARED_SIZE).  0 bytes gives a valid minimal block.
 */
FMP_EXPORT void *fmp_shared_alloc(size_t bytes);
/**
 * fmp_shared_alloc() of @p n elements of @p size bytes each, as calloc(): zero-filled.
 * @return the block, or NULL with errno ENOMEM when @p n * @p size overflows or does
 *         not fit the arena.  Any process, any time.
 */
FMP_EXPORT void *fmp_shared_calloc(size_t n, size_t size);
/**
 * Resize a shared block as realloc() does: the block stays shared (the same address in
 * every member) and keeps its contents up to the smaller of the old and new sizes; what
 * lies past the old size is zero-filled, as in a new block.  It grows or shrinks where
 * it is when it can (a free block or the arena's unused space after it), else it moves:
 * a copy into a new block, the old one freed.  Aligned as fmp_shared_alloc()'s blocks.
 * - @p p NULL: fmp_shared_alloc(@p size) (@p size 0 gives a minimal block);
 * - @p size 0 and @p p a block: the block is freed and NULL returned, as glibc's
 *   realloc() does (errno unchanged);
 * - @p p not a live block of the arena (freed already, a pointer into a block, memory
 *   from malloc()): reported on stderr and refused, NULL with errno EINVAL; nothing is
 *   freed or changed.
 * Any process, any time.  Other members that hold the old address must be told the new
 * one through shared memory, as with any block.  A member killed inside it leaves the
 * arena whole: the block that was being filled is given back.
 * @return the block, or NULL with errno ENOMEM (the arena has no room: @p p is then
 *         left as it was) or EINVAL (see above).
 */
FMP_EXPORT void *fmp_shared_realloc(void *p, size_t size);
/**
 * Give a block back for reuse (large blocks return their memory to the system).  It is
 * the one free() a program's allocation wrapper needs: a pointer outside the shared
 * arena (from malloc(), calloc(), strdup() ...) is passed on to the C library's free(),
 * so code that frees both kinds through it works; NULL is ignored.  A pointer inside the
 * arena that is not a live block (freed twice, a pointer into a block) is reported and
 * ignored, and never corrupts the arena.  Plain free() of a shared block is an error
 * (glibc aborts the program).  Any process, any time.
 */
FMP_EXPORT void fmp_shared_free(void *p);
/** Size of the shared arena in bytes (FMP_SHARED_SIZE, default: physical memory). */
FMP_EXPORT size_t fmp_shared_size(void);
/**@}*/

/* ------------------------------------------------------------------------------ */
/** @name Synchronisation */
/**@{*/
/**
 * Wait until every member of the team has arrived.  stdout and stderr of every member
 * are flushed first, so output before the barrier appears before output after it.
 * @return ::FMP_OK, ::FMP_EMEMBER / ::FMP_EBROKEN when a member failed,
 *         ::FMP_EMISMATCH when members met different constructs before it.
 */
FMP_EXPORT int fmp_barrier(void);
/** True (1) in exactly one member per encounter, 0 in the others; no barrier. */
FMP_EXPORT int fmp_single(void);

typedef struct fmp_lock fmp_lock; /**< opaque, lives in shared memory */
/** Create a lock in shared memory: usable by every process that sees it. */
FMP_EXPORT fmp_lock *fmp_lock_create(void);
/** Destroy a lock created by fmp_lock_create(). */
FMP_EXPORT void fmp_lock_destroy(fmp_lock *l);
/**
 * Acquire the lock, waiting if needed.
 * @return ::FMP_OK; ::FMP_EOWNERDEAD if it was held by a process that died (the lock
 *         is now the caller's, the data it protects may be half-updated);
 *         ::FMP_EINVAL for NULL.
 */
FMP_EXPORT int fmp_lock_set(fmp_lock *l);
/** Release the lock. ::FMP_EINVAL for NULL, @c -EPERM if the caller does not hold it. */
FMP_EXPORT int fmp_lock_unset(fmp_lock *l);
/** Try to acquire without waiting: 1 acquired, 0 busy, negative error. */
FMP_EXPORT int fmp_lock_test(fmp_lock *l);

typedef struct fmp_nest_lock fmp_nest_lock; /**< opaque, lives in shared memory */
/**
 * Create a nested lock (OpenMP's omp_nest_lock_t) in shared memory: usable by every
 * process that sees it, as fmp_lock_create().  Its holder is the member (process) that
 * set it, which may set it again: it is released when unset as many times as it was
 * set.  Any process, any time.
 * @return the lock, or NULL with errno ENOMEM (the arena is full).
 */
FMP_EXPORT fmp_nest_lock *fmp_nest_lock_create(void);
/** Destroy a nested lock created by fmp_nest_lock_create(); NULL is ignored. */
FMP_EXPORT void fmp_nest_lock_destroy(fmp_nest_lock *l);
/**
 * Acquire the nested lock, waiting while another member holds it; the holder setting it
 * again adds one to its nesting count.  Any member of any team (also nested regions and
 * persistent teams), or outside regions.
 * @return ::FMP_OK; ::FMP_EOWNERDEAD if it was held by a process that died (the lock is
 *         now the caller's with a count of one, the data it protects may be
 *         half-updated); ::FMP_EINVAL for NULL; @c -EAGAIN if the count would overflow.
 */
FMP_EXPORT int fmp_nest_lock_set(fmp_nest_lock *l);
/**
 * Undo one fmp_nest_lock_set() (or successful fmp_nest_lock_test()) of the caller: the
 * lock is released when the count reaches 0.
 * @return ::FMP_OK; ::FMP_EINVAL for NULL; @c -EPERM, with a message on stderr, if the
 *         caller does not hold it (another member holds it, or it is free).
 */
FMP_EXPORT int fmp_nest_lock_unset(fmp_nest_lock *l);
/**
 * Try to acquire without waiting, as omp_test_nest_lock(): the new nesting count (1 when
 * it was free, one more when the caller holds it already), 0 when another member holds
 * it; ::FMP_EOWNERDEAD (acquired, count 1) when its holder died; ::FMP_EINVAL for NULL;
 * @c -EAGAIN if the count would overflow.
 */
FMP_EXPORT int fmp_nest_lock_test(fmp_nest_lock *l);
/**@}*/

/* ------------------------------------------------------------------------------ */
/** @name Tasks */
/**@{*/
/**
 * Create a task: @p fn will run once, on a copy of the @p argsize bytes at @p arg taken
 * now (the caller may change or free its variable as soon as fmp_task returns).
 *
 * A task may run in any member of the innermost team, not only in its creator, and a
 * member is a process: the task sees that member's private memory, not the creator's.
 * Everything a task needs goes in its argument (by value, pointers into shared memory
 * included), and everything it produces goes to shared memory:
 * @code
 * struct fib { long n; long *out; };            // out: in fmp_shared_alloc'd memory
 * static void fib_task(void *a)
 * {
 *     struct fib f = *(struct fib *)a;
 *     if (f.n < 2) { *f.out = f.n; return; }
 *     long *r = fmp_shared_alloc(2 * sizeof *r);
 *     fmp_task(fib_task, &(struct fib){f.n - 1, &r[0]}, sizeof(struct fib));
 *     fmp_task(fib_task, &(struct fib){f.n - 2, &r[1]}, sizeof(struct fib));
 *     fmp_taskwait();
 *     *f.out = r[0] + r[1];
 *     fmp_shared_free(r);
 * }
 * @endcode
 * Every task is complete at the next fmp_barrier(), at every implied barrier (the ends
 * of FMP_FOR and FMP_SINGLE, reductions, gathers) and at the end of the region: members
 * arriving at a barrier run the team's tasks until none is left.  A task's end waits for
 * the tasks it created (as if it ended with fmp_taskwait()).  Tasks may create tasks.
 * Outside a region, in a team of one, when the caller's queue is full or nesting is too
 * deep, the task runs at once in the caller.  Any argument size the caller's memory can
 * copy is accepted: large arguments travel in the shared arena.  May be called anywhere:
 * in a region, in a run of a persistent team, in a task, in a function called from them.
 * A member that dies while running a task breaks the team like any member failure.
 * @return ::FMP_OK; ::FMP_EINVAL (and a message) for a NULL @p fn, or a NULL @p arg with
 *         @p argsize > 0; ::FMP_ENOMEM when no copy of the argument could be made;
 *         ::FMP_EMEMBER / ::FMP_EBROKEN when the team is broken (abort mode: as in
 *         fmp_barrier()).
 */
FMP_EXPORT int fmp_task(void (*fn)(void *arg), const void *arg, size_t argsize);
/**
 * Wait until the tasks created by the caller (the task it runs, or the member's own
 * code) are complete, running tasks meanwhile (only descendants of the caller's task).
 * Not a barrier: other members' tasks may still be running when it returns.  Outside a
 * region, or in a team of one, it returns at once.
 * @return ::FMP_OK, or ::FMP_EMEMBER / ::FMP_EBROKEN when the team is broken (a member
 *         died, while running a task or elsewhere); in abort mode the program ends with
 *         the diagnostic instead, as for fmp_barrier().
 */
FMP_EXPORT int fmp_taskwait(void);
/**@}*/

/* ------------------------------------------------------------------------------ */
/** @name Reductions */
/**@{*/
/** Element types of fmp_reduce(). */
typedef enum fmp_type {
    FMP_TYPE_NONE = 0,
    FMP_CHAR, FMP_SIGNED_CHAR, FMP_UNSIGNED_CHAR,
    FMP_SHORT, FMP_UNSIGNED_SHORT,
    FMP_INT, FMP_UNSIGNED,
    FMP_LONG, FMP_ULONG,
    FMP_LLONG, FMP_ULLONG,
    FMP_FLOAT, FMP_DOUBLE, FMP_LONG_DOUBLE,
    FMP_BOOL,
    FMP_INT8, FMP_INT16, FMP_INT32, FMP_INT64,
    FMP_UINT8, FMP_UINT16, FMP_UINT32, FMP_UINT64,
    FMP_SIZE_T,
    FMP_FLOAT_COMPLEX, FMP_DOUBLE_COMPLEX, FMP_LONG_DOUBLE_COMPLEX,
    /* value-index pairs for MINLOC / MAXLOC, laid out as struct { T value; int index; } */
    FMP_FLOAT_INT, FMP_DOUBLE_INT, FMP_LONG_DOUBLE_INT, FMP_SHORT_INT, FMP_2INT,
    FMP_LONG_INT,
    FMP_TYPE_COUNT_ /* not a type */
} fmp_type;

/** Reduction operations, as in MPI. */
typedef enum fmp_op {
    FMP_OP_NONE = 0,
    FMP_SUM, FMP_PROD, FMP_MIN, FMP_MAX,
    FMP_LAND, FMP_LOR, FMP_LXOR, FMP_BAND, FMP_BOR, FMP_BXOR,
    FMP_MINLOC, FMP_MAXLOC,
    FMP_OP_COUNT_ /* not an op */
} fmp_op;

/**
 * Combine @p count elements of every member's @p in with @p op; every member gets the
 * result in @p out.  Collective: every member calls it.  Members are combined in member
 * order, so the result is the same bit for bit from run to run for the same team size.
 * @p in and @p out may be the same buffer.  Outside regions it copies @p in to @p out.
 * What @p out held before is lost: for OpenMP's @c reduction clause, where the
 * variable keeps its value, use fmp_reduce_into().
 * @return ::FMP_OK, ::FMP_EINVAL (NULL buffer with count > 0), ::FMP_ETYPE, ::FMP_EOP
 *         (also bitwise ops on floating types), ::FMP_EOVERFLOW, ::FMP_ENOMEM, or the
 *         team errors of fmp_barrier().
 */
FMP_EXPORT int fmp_reduce(const void *in, void *out, size_t count, fmp_type type, fmp_op op);
/**
 * OpenMP's @c reduction clause: combine the value @p inout has in the master with
 * @p count elements of every member's @p in; every member gets the result in @p inout:
 * @code
 * inout = inout (master's) op in (member 0) op in (member 1) op ... op in (member n-1)
 * @endcode
 * in that order, so the result is the same bit for bit from run to run for the same team
 * size.  Collective: every member calls it.  As in OpenMP, @p in is a member's private
 * partial result, which starts at the identity of @p op (0 for ::FMP_SUM, 1 for
 * ::FMP_PROD, ...), and @p inout the variable of the clause, which keeps what it held
 * before the construct:
 * @code
 * double part = 0.0;                       // reduction(+:etot)
 * FMP_FOR(i, 0, n, fmp_static(0)) part += e(i);
 * fmp_reduce_into(&part, &etot, 1, FMP_DOUBLE, FMP_SUM);
 * @endcode
 * fmp_reduce() instead overwrites @p out with the combination of the members' inputs
 * alone.  The members' own values of @p inout are not read (only the master's), so a
 * variable that a member changed privately is overwritten like the others.
 * Outside regions and in a team of one: @p inout = @p inout op @p in.
 * Any member, any region, persistent teams included.
 * @return ::FMP_OK, ::FMP_EINVAL (a NULL buffer with count > 0, or @p in and @p inout
 *         overlapping: the variable would count twice), ::FMP_ETYPE, ::FMP_EOP,
 *         ::FMP_EOVERFLOW, ::FMP_ENOMEM, or the team errors of fmp_barrier() (a member
 *         that called fmp_reduce() or another construct at that point is
 *         ::FMP_EMISMATCH).
 */
FMP_EXPORT int fmp_reduce_into(const void *in, void *inout, size_t count, fmp_type type, fmp_op op);
/**
 * @def fmp_reduce_value(v, op)
 * The value form of fmp_reduce() for one value of an arithmetic type (C11): the
 * combination of every member's @p v by @p op, in member order, returned in every member.
 * @code
 * double acc = 0.0;                               // reduction(+:sum), sum 0 before
 * FMP_FOR(i, 0, n, fmp_static(0)) { y[i] = f(i); acc += y[i]; }
 * sum = fmp_reduce_value(acc, FMP_SUM);
 * @endcode
 * @p v is taken by value: the variable that accumulated it has no address taken, and
 * the compiler keeps it in a register through the loop (with fmp_reduce(&acc, ...), a
 * loop that stores doubles through a pointer must load and store @p acc at every
 * iteration: it might be one of them).  Types: int, unsigned, long, unsigned long, long
 * long, unsigned long long, float, double, long double (another is a compile error; C11's
 * _Generic in C, overloads in C++).
 * Outside regions it returns @p v.  On a failure (::FMP_ON_ERROR=return) it returns @p v,
 * and the region's result says what failed (fmp_region_error(), or fmp_parallel()'s
 * return).
 */
/** Size in bytes of one element of @p type, 0 for an unknown type. */
FMP_EXPORT size_t fmp_type_size(fmp_type type);
/**
 * Per-member results: the master receives every member's @p bytes bytes of @p in in
 * @p out (nprocs * bytes), in member order.  Collective; @p out is used in the master
 * only (may be NULL elsewhere).  Errors as fmp_reduce().
 */
FMP_EXPORT int fmp_gather(const void *in, void *out, size_t bytes);
/**
 * Pymp's iterate: every member calls it; the master produces items with @p next
 * (returns 1 while it produced one, 0 at the end); every member, the master included,
 * consumes them with @p body.  Items travel by value (@p itemsize bytes) through a
 * bounded ring in shared memory; the end is signalled out of band.  Implied barrier.
 * @return the number of items this member consumed, or a negative error.
 */
FMP_EXPORT long fmp_iterate(int (*next)(void *item, void *state), void *state,
                            size_t itemsize, void (*body)(const void *item, void *arg),
                            void *arg);
/**@}*/

/* ------------------------------------------------------------------------------ */
/** @name Persistent teams */
/**@{*/
typedef struct fmp_team fmp_team; /**< opaque */
/**
 * Fork a team of @p nprocs members once (0: the default size).  Members see the
 * master's private memory as it is now, and all shared memory, always.  Between runs
 * they wait without burning a core (FMP_WAIT_POLICY).  Called by any process that is
 * not itself a member of a persistent team's run.  The members are ordinary children of
 * the caller until fmp_team_destroy(): a wait() or waitpid(-1) for any child meanwhile
 * waits for them (never returns while they live); reap the program's own children by
 * pid.
 * @return the team, or NULL with errno EINVAL (nprocs < 0), EAGAIN/ENOMEM (fork).
 */
FMP_EXPORT fmp_team *fmp_team_create(int nprocs);
/**
 * Run one region on the team: every member runs @p body with its own copy of the
 * @p argsize bytes at @p arg.  Only the creating process may call it.
 * @return as fmp_parallel(); ::FMP_ESTATE from another process or a nested call.
 */
FMP_EXPORT int fmp_team_run(fmp_team *t, void (*body)(void *arg), const void *arg,
                            size_t argsize);
/** Size of a persistent team. */
FMP_EXPORT int fmp_team_size(const fmp_team *t);
/** Make the members leave and reap them; the team is freed.  Creator only. */
FMP_EXPORT int fmp_team_destroy(fmp_team *t);
/**@}*/

/* ------------------------------------------------------------------------------ */
/** @name Output, errors, time */
/**@{*/
/** printf to stdout, one whole write per call: lines are never interleaved. */
FMP_EXPORT int fmp_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** A sentence for any code returned by forkmp. */
FMP_EXPORT const char *fmp_strerror(int err);
/** Seconds from an arbitrary start, monotonic, as omp_get_wtime(). */
FMP_EXPORT double fmp_get_wtime(void);
/** Resolution of fmp_get_wtime() in seconds. */
FMP_EXPORT double fmp_get_wtick(void);
/**
 * Text of the last failure report of a region in this process: a member that failed,
 * or a region or team that could not start.  "" once a later region succeeded.
 */
FMP_EXPORT const char *fmp_last_failure(void);
/**
 * The last region's result in the calling process: ::FMP_OK, or the error its join (or
 * its start) met, as fmp_parallel() or fmp_team_run() would return it.  This is how the
 * macro form FMP_PARALLEL tells its result in ::FMP_ERRORS_RETURN mode:
 * @code
 * FMP_PARALLEL(4) { ... }
 * if (fmp_region_error() != FMP_OK) fprintf(stderr, "%s\n", fmp_last_failure());
 * @endcode
 * Regions of one member and runs of persistent teams count too.  Any process, any time.
 */
FMP_EXPORT int fmp_region_error(void);
/**
 * Ends this process's warm members, if it has any (see ::FMP_REGION in the environment
 * page and doc/porting.md, "Warm regions"): they exit and are reaped before it returns,
 * and give back the memory they held; the next region forks a new pool.  A program that
 * stops opening regions for a long phase calls it to free that memory, one that counts
 * its child processes through /proc, or execs another program, calls it first (wait()
 * does not see warm members).
 * @return the number of members ended (0 when there were none); ::FMP_ESTATE, with a
 *         message, when called inside a region or a team's run.
 */
FMP_EXPORT int fmp_warm_release(void);
/**
 * Turns the lost-write detector on or off, as ::FMP_CHECK does in the environment (see
 * doc/porting.md, "Lost writes"): with "writes", at the end of every FMP_PARALLEL region
 * (and fmp_parallel()) each member other than the master reports the private memory it
 * wrote that the master had before the region, which the join throws away: a global or
 * static variable by its name, a heap block by its allocation site, a local of a function
 * enclosing the region by that function; one line on stderr per place, once per run.
 * "writes:FILE" also appends a JSON line per place to FILE.  "off" (or NULL) turns it
 * off.  Heap blocks are named only when the check was on as the program started
 * (::FMP_CHECK in the environment: their allocation sites are recorded from the start).
 * The master calls it, outside regions and team runs.
 * @return 0; ::FMP_EINVAL, with a message, for another value; ::FMP_ESTATE, with a
 *         message, inside a region or a team's run.
 */
FMP_EXPORT int fmp_set_check(const char *what);
/**@}*/

/* ================================================================================
 * Construct macros.  Everything below `fmp__` is internal: used by the macros only.
 * ================================================================================ */
/** @cond */

typedef struct fmp__region {
    void *ctx;        /* the region's context, NULL when nothing was opened */
    int state;        /* 0 before the body, 1 in the body, 2 done */
    int err;
} fmp__region;

FMP_EXPORT fmp__region fmp__region_enter(fmp__region *self, int nprocs, int cond,
                                         const char *file, int line);
FMP_EXPORT fmp__region fmp__region_begin(int nprocs, int cond, const char *file, int line);
FMP_EXPORT int fmp__region_step(fmp__region *r);
FMP_EXPORT void fmp__region_cleanup(fmp__region *r);

typedef struct fmp__loop {
    long lo, hi;          /* current chunk [lo, hi) */
    long begin, end;      /* the loop's bounds */
    long chunk;           /* resolved chunk (static) */
    unsigned long next;   /* static: next chunk number for this member */
    int me, n;            /* member number, team size */
    int kind;             /* resolved schedule kind, 0 after the end */
    int nowait;
    void *desc;           /* shared descriptor (dynamic, guided) */
    void *team;
    const char *file;
    int line;
    int chunk_done;       /* 1: the last chunk ran to its end (or none ran yet); 0: one
                             is running, or was left by break; -1: not tracked */
} fmp__loop;

FMP_EXPORT fmp__loop fmp__loop_enter(long begin, long end, fmp_schedule s, int nowait,
                                     const char *file, int line);
FMP_EXPORT fmp__loop fmp__loop_begin(long begin, long end, fmp_schedule s, int nowait,
                                     const char *file, int line);
FMP_EXPORT int fmp__loop_more(fmp__loop *l);
FMP_EXPORT int fmp__loop_broke(fmp__loop *l);

/* Next chunk of a loop: the static cases inline, the others in the library. */
static inline int fmp__loop_next(fmp__loop *l)
{
    if (__builtin_expect(l->chunk_done == 0, 0))
        return fmp__loop_broke(l); /* the last chunk's body was left by break */
    if (l->kind == FMP_SCHED_STATIC && l->chunk > 0) {
        /* chunk c of the loop goes to member c % n */
        unsigned long span = (unsigned long)l->end - (unsigned long)l->begin;
        unsigned long c = l->next;
        unsigned long step = (unsigned long)l->chunk;
        if (l->end > l->begin && c <= span / step && c * step < span) {
            unsigned long off = c * step;
            l->lo = (long)((unsigned long)l->begin + off);
            l->hi = (span - off > step) ? (long)((unsigned long)l->lo + step) : l->end;
            l->next = c + (unsigned long)l->n;
            l->chunk_done = 0;
            return 1;
        }
    }
    return fmp__loop_more(l);
}

/* The loops with a step, collapsed loops and ordered loops: chunks of a space of logical
   iterations handed out by the machinery of FMP_FOR (l), and what maps them back to the
   program's indices.  Step and collapsed loops number their iterations from LONG_MIN, so
   that every count up to ULONG_MAX fits. */
typedef struct fmp__loopx {
    fmp__loop l;
    long first;           /* step: the first index; collapse: the outer begin */
    unsigned long step;   /* step: the step (two's complement) */
    long ibegin, iend;    /* collapse: the inner bounds */
    unsigned long inner;  /* collapse: the inner count; ordered: the end of the chunk
                             running (offset from the loop's begin) */
    long cur;             /* ordered: the iteration running */
    unsigned long passed; /* ordered: this member's first iteration (offset) whose turn
                             it has not passed yet */
    void *prev;           /* ordered: the enclosing ordered loop of this level */
    int state;            /* ordered: 1 inside the loop, 0 after its end */
} fmp__loopx;

FMP_EXPORT fmp__loopx fmp__loop_step_enter(long begin, long end, long step, fmp_schedule s,
                                           int nowait, const char *file, int line);
FMP_EXPORT fmp__loopx fmp__loop_collapse_enter(long a, long b, long c, long d, fmp_schedule s,
                                               int nowait, const char *file, int line);
FMP_EXPORT fmp__loopx fmp__loop_ordered_enter(fmp__loopx *self, long begin, long end,
                                              fmp_schedule s, int nowait, const char *file,
                                              int line);
FMP_EXPORT int fmp__loop_ordered_next(fmp__loopx *l);
FMP_EXPORT void fmp__loop_ordered_cleanup(fmp__loopx *l);

/* The first index of a chunk of a step loop, and of a collapsed loop's two. */
static inline long fmp__loop_step_first(const fmp__loopx *x)
{
    unsigned long off = (unsigned long)x->l.lo - (unsigned long)LONG_MIN;
    return (long)((unsigned long)x->first + off * x->step);
}

static inline long fmp__loop_outer_first(const fmp__loopx *x)
{
    unsigned long off = (unsigned long)x->l.lo - (unsigned long)LONG_MIN;
    return (long)((unsigned long)x->first + off / x->inner);
}

static inline long fmp__loop_inner_first(const fmp__loopx *x)
{
    unsigned long off = (unsigned long)x->l.lo - (unsigned long)LONG_MIN;
    return (long)((unsigned long)x->ibegin + off % x->inner);
}

typedef struct fmp__once {
    int run;
    int kind;
    const char *file;
    int line;
} fmp__once;

FMP_EXPORT fmp__once fmp__single_begin(const char *file, int line);
FMP_EXPORT void fmp__single_end(fmp__once *o);
FMP_EXPORT fmp__once fmp__ordered_enter(const char *file, int line);
FMP_EXPORT void fmp__ordered_leave(fmp__once *o);
FMP_EXPORT fmp__once fmp__critical_enter(const char *name, const char *file, int line);
FMP_EXPORT void fmp__critical_leave(fmp__once *o);
FMP_EXPORT int fmp__barrier_at(const char *file, int line);
FMP_EXPORT int fmp__single_at(const char *file, int line);
FMP_EXPORT int fmp__reduce_at(const void *in, void *out, size_t count, fmp_type type,
                              fmp_op op, const char *file, int line);
FMP_EXPORT int fmp__reduce_into_at(const void *in, void *inout, size_t count, fmp_type type,
                                   fmp_op op, const char *file, int line);
FMP_EXPORT int fmp__reduce_value_at(const void *in, void *out, fmp_type type, fmp_op op,
                                    const char *file, int line);
FMP_EXPORT int fmp__gather_at(const void *in, void *out, size_t bytes, const char *file,
                              int line);
FMP_EXPORT int fmp__parallel_at(int nprocs, int cond, void (*body)(void *), void *arg,
                                const char *file, int line);
FMP_EXPORT int fmp__parallel_fl(int nprocs, void (*body)(void *), void *arg, const char *file,
                                int line);
FMP_EXPORT fmp_team *fmp__team_create_at(int nprocs, const char *file, int line);
FMP_EXPORT long fmp__iterate_at(int (*next)(void *, void *), void *state, size_t itemsize,
                                void (*body)(const void *, void *), void *arg,
                                const char *file, int line);

#define FMP__CAT2(a, b) a##b
#define FMP__CAT(a, b) FMP__CAT2(a, b)
#define FMP__UNIQ(name) FMP__CAT(fmp__##name##_, __LINE__)
/** @endcond */

/**
 * @def FMP_PARALLEL(nprocs)
 * Open a region: the block that follows runs in every member of a team of @p nprocs
 * (0: default size) processes.  The caller is member 0 and keeps its private writes.
 * @c continue ends the block normally; a member that leaves it by @c break, @c goto or
 * @c return is a failure (a child never runs the code after the region).
 */
#define FMP_PARALLEL(nprocs) FMP_PARALLEL_IF((nprocs), 1)

/**
 * @def FMP_PARALLEL_IF(nprocs, cond)
 * FMP_PARALLEL, without fork when @p cond is 0 (the block then runs in the caller).
 */
#define FMP_PARALLEL_IF(nprocs, cond)                                                    \
    for (fmp__region FMP__UNIQ(rg) __attribute__((cleanup(fmp__region_cleanup))) =       \
             fmp__region_enter(&FMP__UNIQ(rg), (nprocs), (cond), __FILE__, __LINE__);    \
         fmp__region_step(&FMP__UNIQ(rg));)

/**
 * @def FMP_FOR(i, begin, end, sched)
 * Share the iterations [begin, end) of the block among the team; @p i is declared as a
 * @c long.  Implied barrier at the end.  Collective: every member meets it.
 * As in OpenMP, the body may not be left by @c break (it would end only the current
 * chunk, so what runs would depend on the schedule and the team size): a @c break is
 * reported at run time, and in a team it is a failure of the team.  @c continue works.
 */
#define FMP_FOR(i, begin, end, sched) FMP__FOR(i, begin, end, sched, 0, FMP__UNIQ(lp))
/**
 * @def FMP_FOR_NOWAIT(i, begin, end, sched)
 * FMP_FOR without the barrier at the end.
 */
#define FMP_FOR_NOWAIT(i, begin, end, sched) FMP__FOR(i, begin, end, sched, 1, FMP__UNIQ(lp))
/* The inner loop sets chunk_done as it ends normally: a chunk left by break leaves it
   0, and the next call of fmp__loop_next reports it (break would end only that chunk). */
#define FMP__FOR(i, b, e, s, nowait, L)                                                  \
    for (fmp__loop L = fmp__loop_enter((b), (e), (s), (nowait), __FILE__, __LINE__);     \
         fmp__loop_next(&L);)                                                            \
        for (long i = L.lo; i < L.hi || (L.chunk_done = 1, 0); i++)

/**
 * @def FMP_FOR_STEP(i, begin, end, step, sched)
 * OpenMP's canonical loop `for (i = begin; i < end; i += step)` when @p step > 0, and
 * `for (i = begin; i > end; i += step)` when @p step < 0, shared among the team as
 * FMP_FOR shares [begin, end): the schedule deals out the loop's iterations (the k-th
 * has index begin + k * step), whatever the sign of the step.  @p i is declared as a
 * @c long; no index ever overflows, even near LONG_MIN and LONG_MAX.  A step of 0 is
 * refused (a message naming the call site; in a team a failure of the team), as are the
 * schedules FMP_FOR refuses.  Implied barrier at the end; @c break is reported as in
 * FMP_FOR.  Collective: every member meets it.
 */
#define FMP_FOR_STEP(i, begin, end, step, sched)                                         \
    FMP__FOR_STEP(i, begin, end, step, sched, 0, FMP__UNIQ(lp))
/**
 * @def FMP_FOR_STEP_NOWAIT(i, begin, end, step, sched)
 * FMP_FOR_STEP without the barrier at the end.
 */
#define FMP_FOR_STEP_NOWAIT(i, begin, end, step, sched)                                  \
    FMP__FOR_STEP(i, begin, end, step, sched, 1, FMP__UNIQ(lp))
#define FMP__FOR_STEP(i, b, e, st, s, nowait, L)                                         \
    for (fmp__loopx L =                                                                  \
             fmp__loop_step_enter((b), (e), (st), (s), (nowait), __FILE__, __LINE__);    \
         fmp__loop_next(&L.l);)                                                          \
        for (long i = fmp__loop_step_first(&L), FMP__CAT(L, k) = L.l.lo;                 \
             FMP__CAT(L, k) < L.l.hi || (L.l.chunk_done = 1, 0);                         \
             FMP__CAT(L, k)++, i = (long)((unsigned long)i + L.step))

/**
 * @def FMP_FOR_COLLAPSE(i, a, b, j, c, d, sched)
 * OpenMP's collapse(2) over `for (i = a; i < b; i++) for (j = c; j < d; j++)`: the
 * (b - a) * (d - c) iterations of both levels are one space that the schedule deals
 * out, in the serial loops' order (@p i outer).  @p i and @p j are declared as
 * @c long.  A space of more than ULONG_MAX iterations is refused with ::FMP_EOVERFLOW
 * (a message naming the call site).  Implied barrier at the end; @c break is reported
 * as in FMP_FOR.  Collective: every member meets it.
 */
#define FMP_FOR_COLLAPSE(i, a, b, j, c, d, sched)                                        \
    FMP__FOR_COLLAPSE(i, a, b, j, c, d, sched, 0, FMP__UNIQ(lp))
/**
 * @def FMP_FOR_COLLAPSE_NOWAIT(i, a, b, j, c, d, sched)
 * FMP_FOR_COLLAPSE without the barrier at the end.
 */
#define FMP_FOR_COLLAPSE_NOWAIT(i, a, b, j, c, d, sched)                                 \
    FMP__FOR_COLLAPSE(i, a, b, j, c, d, sched, 1, FMP__UNIQ(lp))
#define FMP__FOR_COLLAPSE(i, a, b, j, c, d, s, nowait, L)                                \
    for (fmp__loopx L = fmp__loop_collapse_enter((a), (b), (c), (d), (s), (nowait),      \
                                                 __FILE__, __LINE__);                    \
         fmp__loop_next(&L.l);)                                                          \
        for (long i = fmp__loop_outer_first(&L), j = fmp__loop_inner_first(&L),          \
                  FMP__CAT(L, k) = L.l.lo;                                               \
             FMP__CAT(L, k) < L.l.hi || (L.l.chunk_done = 1, 0);                         \
             FMP__CAT(L, k)++, (++j == L.iend ? (void)(j = L.ibegin, i++) : (void)0))

/**
 * @def FMP_FOR_ORDERED(i, begin, end, sched)
 * FMP_FOR with OpenMP's ordered clause: inside its body, the blocks of FMP_ORDERED run
 * one at a time in the order of the iterations, whatever the schedule, while the rest
 * of the body runs in parallel.  As in OpenMP an iteration runs at most one ordered
 * block; one that runs none does not hold up the others (its turn passes at the end of
 * its chunk).  A member that dies, leaves the loop (@c break, @c goto, @c return) or
 * skips it while others wait for their turn fails the team: the waits end, never hang.
 * Implied barrier at the end.  Collective: every member meets it.
 */
#define FMP_FOR_ORDERED(i, begin, end, sched)                                            \
    FMP__FOR_ORDERED(i, begin, end, sched, 0, FMP__UNIQ(lp))
/**
 * @def FMP_FOR_ORDERED_NOWAIT(i, begin, end, sched)
 * FMP_FOR_ORDERED without the barrier at the end.
 */
#define FMP_FOR_ORDERED_NOWAIT(i, begin, end, sched)                                     \
    FMP__FOR_ORDERED(i, begin, end, sched, 1, FMP__UNIQ(lp))
#define FMP__FOR_ORDERED(i, b, e, s, nowait, L)                                          \
    for (fmp__loopx L __attribute__((cleanup(fmp__loop_ordered_cleanup))) =              \
             fmp__loop_ordered_enter(&L, (b), (e), (s), (nowait), __FILE__, __LINE__);   \
         fmp__loop_ordered_next(&L);)                                                    \
        for (long i = L.l.lo; (L.cur = i) < L.l.hi || (L.l.chunk_done = 1, 0); i++)

/**
 * @def FMP_ORDERED
 * Inside the body of FMP_FOR_ORDERED (or a function it calls): the block runs after the
 * ordered blocks of every earlier iteration, and before those of later ones.  An
 * iteration may run one ordered block.  Elsewhere it is reported (in a team a failure
 * of the team; outside a region the block runs, with a message once per call site).
 */
#define FMP_ORDERED                                                                      \
    for (fmp__once FMP__UNIQ(od) __attribute__((cleanup(fmp__ordered_leave))) =          \
             fmp__ordered_enter(__FILE__, __LINE__);                                     \
         FMP__UNIQ(od).run; FMP__UNIQ(od).run = 0)

/**
 * @def FMP_SINGLE
 * The block runs in exactly one member per encounter; implied barrier at the end.  As
 * in OpenMP, the block is left through its end: @c break, @c goto or @c return out of it
 * is reported (a failure of the team; outside a region a message, once per call site).
 */
#define FMP_SINGLE                                                                       \
    for (fmp__once FMP__UNIQ(sg) __attribute__((cleanup(fmp__single_end))) =             \
             fmp__single_begin(__FILE__, __LINE__);                                      \
         FMP__UNIQ(sg).run; FMP__UNIQ(sg).run = 0)

/**
 * @def FMP_MASTER
 * The block runs in member 0 only; no barrier.
 */
#define FMP_MASTER for (int FMP__UNIQ(ms) = (fmp_thread_num() == 0); FMP__UNIQ(ms); FMP__UNIQ(ms) = 0)

/**
 * @def FMP_CRITICAL
 * One process at a time runs the block; as in OpenMP, all unnamed criticals share one
 * lock, across every team of the program (of this MPI rank).  As in OpenMP, the block is
 * left through its end: @c break, @c goto or @c return out of it releases the lock and
 * is reported (a failure of the team; outside a region a message, once per call site),
 * since a @c break meant for an enclosing loop would end only the critical section.  A
 * member that meets a barrier while it holds a critical section (left by @c longjmp, or
 * a barrier inside the block) fails its team instead of deadlocking it.
 */
#define FMP_CRITICAL FMP__CRITICAL(NULL)
/**
 * @def FMP_CRITICAL_NAMED(name)
 * As OpenMP's critical(name): one lock per name.
 */
#define FMP_CRITICAL_NAMED(name) FMP__CRITICAL(#name)
#define FMP__CRITICAL(name)                                                              \
    for (fmp__once FMP__UNIQ(cr) __attribute__((cleanup(fmp__critical_leave))) =         \
             fmp__critical_enter((name), __FILE__, __LINE__);                            \
         FMP__UNIQ(cr).run; FMP__UNIQ(cr).run = 0)

/* Collective calls record their call site, so that mismatch reports can name it.  The
   functions exist too (their addresses can be taken).  The macros are variadic so that
   arguments with commas of their own (compound literals) pass through whole. */
/** @cond */
#define fmp_parallel(...) fmp__parallel_fl(__VA_ARGS__, __FILE__, __LINE__)
#define fmp_parallel_if(...) fmp__parallel_at(__VA_ARGS__, __FILE__, __LINE__)
#define fmp_team_create(...) fmp__team_create_at(__VA_ARGS__, __FILE__, __LINE__)
#define fmp_barrier() fmp__barrier_at(__FILE__, __LINE__)
#define fmp_single() fmp__single_at(__FILE__, __LINE__)
#define fmp_reduce(...) fmp__reduce_at(__VA_ARGS__, __FILE__, __LINE__)
#define fmp_reduce_into(...) fmp__reduce_into_at(__VA_ARGS__, __FILE__, __LINE__)
/* clang-format off */
#define FMP__REDUCE_VALUE(name, T, FT)                                                   \
    static inline T fmp__rv_##name(T v, fmp_op op, const char *file, int line)           \
    {                                                                                    \
        T r = v;                                                                         \
        if (fmp__reduce_value_at(&v, &r, FT, op, file, line) != 0)                       \
            r = v;                                                                       \
        return r;                                                                        \
    }
FMP__REDUCE_VALUE(int, int, FMP_INT)
FMP__REDUCE_VALUE(uint, unsigned, FMP_UNSIGNED)
FMP__REDUCE_VALUE(long, long, FMP_LONG)
FMP__REDUCE_VALUE(ulong, unsigned long, FMP_ULONG)
FMP__REDUCE_VALUE(llong, long long, FMP_LLONG)
FMP__REDUCE_VALUE(ullong, unsigned long long, FMP_ULLONG)
FMP__REDUCE_VALUE(float, float, FMP_FLOAT)
FMP__REDUCE_VALUE(double, double, FMP_DOUBLE)
FMP__REDUCE_VALUE(ldouble, long double, FMP_LONG_DOUBLE)
#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define fmp_reduce_value(v, op)                                                          \
    _Generic((v),                                                                        \
             int: fmp__rv_int, unsigned: fmp__rv_uint,                                   \
             long: fmp__rv_long, unsigned long: fmp__rv_ulong,                           \
             long long: fmp__rv_llong, unsigned long long: fmp__rv_ullong,               \
             float: fmp__rv_float, double: fmp__rv_double,                               \
             long double: fmp__rv_ldouble)((v), (op), __FILE__, __LINE__)
#endif
/* clang-format on */
#define fmp_gather(...) fmp__gather_at(__VA_ARGS__, __FILE__, __LINE__)
#define fmp_iterate(...) fmp__iterate_at(__VA_ARGS__, __FILE__, __LINE__)
/** @endcond */

#ifdef __cplusplus
}
/* fmp_reduce_value in C++: an overload per type (extern "C" functions cannot be
   overloaded, hence out of the block above) */
/** @cond */
/* clang-format off */
static inline int fmp__rv(int v, fmp_op op, const char *f, int l) { return fmp__rv_int(v, op, f, l); }
static inline unsigned fmp__rv(unsigned v, fmp_op op, const char *f, int l) { return fmp__rv_uint(v, op, f, l); }
static inline long fmp__rv(long v, fmp_op op, const char *f, int l) { return fmp__rv_long(v, op, f, l); }
static inline unsigned long fmp__rv(unsigned long v, fmp_op op, const char *f, int l) { return fmp__rv_ulong(v, op, f, l); }
static inline long long fmp__rv(long long v, fmp_op op, const char *f, int l) { return fmp__rv_llong(v, op, f, l); }
static inline unsigned long long fmp__rv(unsigned long long v, fmp_op op, const char *f, int l) { return fmp__rv_ullong(v, op, f, l); }
static inline float fmp__rv(float v, fmp_op op, const char *f, int l) { return fmp__rv_float(v, op, f, l); }
static inline double fmp__rv(double v, fmp_op op, const char *f, int l) { return fmp__rv_double(v, op, f, l); }
static inline long double fmp__rv(long double v, fmp_op op, const char *f, int l) { return fmp__rv_ldouble(v, op, f, l); }
/* clang-format on */
#define fmp_reduce_value(v, op) fmp__rv((v), (op), __FILE__, __LINE__)
/** @endcond */
#endif

#endif /* FORKMP_H */
