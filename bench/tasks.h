/* bench/tasks.h: the task benchmarks of tasks_fmp.c (forkmp's fmp_task) and tasks_omp.c
 * (libgomp's `#pragma omp task`), with their sizes and the serial code both sides share.
 *
 * Each figure is timed by the master inside one open region, after an untimed pass: the
 * master creates the tasks and waits for them (taskwait; taskgroup for OpenMP's sort,
 * whose tasks do not wait for their children, where forkmp's do) while the other
 * members take tasks from the barrier they wait at:
 *   per task     one member creates TASKS_EMPTY empty tasks; microseconds per task
 *                (creation, queueing, stealing by the idle members, completion)
 *   fib          Fibonacci of FIB_N by recursive tasks, serial below FIB_CUTOFF
 *                (microseconds per computation)
 *   quicksort    a recursive task quicksort of QS_N integers, serial below QS_CUTOFF
 *                (microseconds per sort; the array refilled, untimed, before each)
 * Results travel as each runtime needs: OpenMP's tasks write their parent's stack
 * variables (shared clause), forkmp's tasks write shared memory (fmp_shared_alloc). */
#ifndef FMP_BENCH_TASKS_H
#define FMP_BENCH_TASKS_H

#include <stdint.h>
#include <stdio.h>

#include "common.h"

#define TASKS_EMPTY 20000L
#define TASKS_EMPTY_LARGE 200000L
#define FIB_N 27
#define FIB_N_LARGE 32
#define FIB_CUTOFF 12
#define QS_N 2000000L
#define QS_N_LARGE 20000000L
#define QS_CUTOFF 10000L
#define TASKS_REPS 7

static inline long tasks_fib_serial(int n)
{
    return n < 2 ? n : tasks_fib_serial(n - 1) + tasks_fib_serial(n - 2);
}

/* the same numbers on both sides (xorshift64) */
static inline void tasks_fill(int *a, long n)
{
    uint64_t x = 88172645463325252ULL;
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        a[i] = (int)(x % 2000000001ULL) - 1000000000;
    }
}

static inline long tasks_unsorted(const int *a, long n)
{
    long bad = 0;
    for (long i = 1; i < n; i++)
        bad += a[i - 1] > a[i];
    return bad;
}

/* Three-way partition of a[lo, hi) around its middle element (Dijkstra's): a[lo, *left)
   < pivot, a[*left, *right) == pivot, a[*right, hi) > pivot. */
static inline void tasks_partition(int *a, long lo, long hi, long *left, long *right)
{
    int pivot = a[lo + (hi - lo) / 2];
    long lt = lo, i = lo, gt = hi;
    while (i < gt) {
        int v = a[i];
        if (v < pivot) {
            a[i++] = a[lt];
            a[lt++] = v;
        } else if (v > pivot) {
            a[i] = a[--gt];
            a[gt] = v;
        } else {
            i++;
        }
    }
    *left = lt;
    *right = gt;
}

/* The sizes of a run, from the command line. */
typedef struct tasks_cfg {
    int m, reps, fn; /* members, timed repetitions, Fibonacci's n */
    long ntasks, qn; /* empty tasks, integers to sort */
} tasks_cfg;

static inline tasks_cfg tasks_setup(int argc, char **argv, const char *usage)
{
    bench_opts o = {0, TASKS_REPS, 0, 0, 0.0, NULL, NULL};
    bench_parse(argc, argv, &o, usage);
    tasks_cfg c = {o.members, o.reps, o.large ? FIB_N_LARGE : FIB_N,
                   o.large ? TASKS_EMPTY_LARGE : TASKS_EMPTY, o.large ? QS_N_LARGE : QS_N};
    return c;
}

/* The result lines of one side (impl): per-rep times from index 1 (0 is the untimed
   pass). */
static inline void tasks_emit(const char *impl, int m, int reps, int fn, long qn, double *t_task,
                              double *t_fib, double *t_qs)
{
    char fig[64];
    bench_emit("tasks", "per task", impl, m, NULL, bench_stats_of(t_task + 1, reps), "us", reps);
    snprintf(fig, sizeof fig, "fib(%d)", fn);
    bench_emit("tasks", fig, impl, m, NULL, bench_stats_of(t_fib + 1, reps), "us", reps);
    snprintf(fig, sizeof fig, "quicksort of %ld integers", qn);
    bench_emit("tasks", fig, impl, m, NULL, bench_stats_of(t_qs + 1, reps), "us", reps);
}

static inline int tasks_cmp(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

#endif /* FMP_BENCH_TASKS_H */
