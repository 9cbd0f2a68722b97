/* bench/tasks_omp.c: the task benchmarks of tasks_fmp.c with libgomp's tasks, the way an
 * OpenMP code writes them (see tasks.h).
 *
 *   tasks_omp [--members N] [--reps R] [--size large] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "tasks.h"

static const char usage[] = "usage: tasks_omp [--members N] [--reps R] [--size large]\n";

static void empty(long i)
{
    (void)i;
}

static long fib(int n)
{
    if (n < FIB_CUTOFF)
        return tasks_fib_serial(n);
    long x, y;
#pragma omp task shared(x)
    x = fib(n - 1);
#pragma omp task shared(y)
    y = fib(n - 2);
#pragma omp taskwait
    return x + y;
}

static void sort(int *a, long lo, long hi)
{
    if (hi - lo <= QS_CUTOFF) {
        qsort(a + lo, (size_t)(hi - lo), sizeof *a, tasks_cmp);
        return;
    }
    long l, r;
    tasks_partition(a, lo, hi, &l, &r);
#pragma omp task firstprivate(a, lo, l)
    sort(a, lo, l);
#pragma omp task firstprivate(a, r, hi)
    sort(a, r, hi);
}

int main(int argc, char **argv)
{
    tasks_cfg cfg = tasks_setup(argc, argv, usage);
    int m = cfg.m, reps = cfg.reps, fn = cfg.fn;
    long ntasks = cfg.ntasks, qn = cfg.qn;
    int *a = malloc((size_t)qn * sizeof *a);
    double *t_task = malloc((size_t)(reps + 1) * sizeof(double));
    double *t_fib = malloc((size_t)(reps + 1) * sizeof(double));
    double *t_qs = malloc((size_t)(reps + 1) * sizeof(double));
    if (!a || !t_task || !t_fib || !t_qs) {
        fprintf(stderr, "tasks_omp: no memory\n");
        return 1;
    }
    long fib_result = 0, unsorted = 0;
    omp_set_dynamic(0);
#pragma omp parallel num_threads(m)
    {
        /* rep 0 is the untimed pass */
        for (int r = 0; r <= reps; r++) {
#pragma omp barrier
#pragma omp master
            {
                double t0 = bench_now();
                for (long i = 0; i < ntasks; i++) {
#pragma omp task firstprivate(i)
                    empty(i);
                }
#pragma omp taskwait
                t_task[r] = (bench_now() - t0) * 1e6 / (double)ntasks;
            }
#pragma omp barrier
#pragma omp master
            {
                double t0 = bench_now();
                fib_result = fib(fn);
                t_fib[r] = (bench_now() - t0) * 1e6;
                tasks_fill(a, qn);
            }
#pragma omp barrier
#pragma omp master
            {
                double t0 = bench_now();
#pragma omp taskgroup
                sort(a, 0, qn);
                t_qs[r] = (bench_now() - t0) * 1e6;
                unsorted += tasks_unsorted(a, qn);
            }
        }
    }
    if (fib_result != tasks_fib_serial(fn) || unsorted) {
        fprintf(stderr, "tasks_omp: wrong results (fib %ld, %ld places unsorted)\n", fib_result,
                unsorted);
        return 1;
    }
    tasks_emit("omp", m, reps, fn, qn, t_task, t_fib, t_qs);
    free(a);
    free(t_task);
    free(t_fib);
    free(t_qs);
    return 0;
}
