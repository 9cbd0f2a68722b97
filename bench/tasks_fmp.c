/* bench/tasks_fmp.c: the task benchmarks of tasks.h with forkmp's fmp_task, inside one
 * FMP_PARALLEL region; tasks_omp.c is the same with libgomp.
 *
 *   tasks_fmp [--members N] [--reps R] [--size large] */
#include <forkmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "tasks.h"

static const char usage[] = "usage: tasks_fmp [--members N] [--reps R] [--size large]\n";

static void empty(void *arg)
{
    (void)arg;
}

struct fib {
    int n;
    long *out; /* shared memory */
};

static void fib_task(void *arg)
{
    struct fib f = *(struct fib *)arg;
    if (f.n < FIB_CUTOFF) {
        *f.out = tasks_fib_serial(f.n);
        return;
    }
    long *r = fmp_shared_alloc(2 * sizeof *r); /* the children's results */
    struct fib x = {f.n - 1, &r[0]}, y = {f.n - 2, &r[1]};
    fmp_task(fib_task, &x, sizeof x);
    fmp_task(fib_task, &y, sizeof y);
    fmp_taskwait();
    *f.out = r[0] + r[1];
    fmp_shared_free(r);
}

struct range {
    int *a; /* shared memory */
    long lo, hi;
};

static void sort_task(void *arg)
{
    struct range g = *(struct range *)arg;
    if (g.hi - g.lo <= QS_CUTOFF) {
        qsort(g.a + g.lo, (size_t)(g.hi - g.lo), sizeof *g.a, tasks_cmp);
        return;
    }
    long l, r;
    tasks_partition(g.a, g.lo, g.hi, &l, &r);
    struct range left = {g.a, g.lo, l}, right = {g.a, r, g.hi};
    fmp_task(sort_task, &left, sizeof left);
    fmp_task(sort_task, &right, sizeof right);
}

int main(int argc, char **argv)
{
    tasks_cfg cfg = tasks_setup(argc, argv, usage);
    int m = cfg.m, reps = cfg.reps, fn = cfg.fn;
    long ntasks = cfg.ntasks, qn = cfg.qn;
    /* what the members write for the master: in shared memory */
    int *a = fmp_shared_alloc((size_t)qn * sizeof *a);
    double *t = fmp_shared_alloc((size_t)3 * (size_t)(reps + 1) * sizeof(double));
    long *res = fmp_shared_alloc(2 * sizeof(long)); /* fib's result, unsorted places */
    if (!a || !t || !res) {
        fprintf(stderr, "tasks_fmp: no shared memory\n");
        return 1;
    }
    double *t_task = t, *t_fib = t + reps + 1, *t_qs = t + 2 * (reps + 1);
    FMP_PARALLEL(m) {
        int master = fmp_thread_num() == 0;
        /* rep 0 is the untimed pass */
        for (int r = 0; r <= reps; r++) {
            /* the master creates, the others take tasks from the barrier they wait at */
            fmp_barrier();
            if (master) {
                double t0 = bench_now();
                for (long i = 0; i < ntasks; i++)
                    fmp_task(empty, &i, sizeof i);
                fmp_taskwait();
                t_task[r] = (bench_now() - t0) * 1e6 / (double)ntasks;
            }
            fmp_barrier();
            if (master) {
                double t0 = bench_now();
                struct fib f = {fn, &res[0]};
                fmp_task(fib_task, &f, sizeof f);
                fmp_taskwait();
                t_fib[r] = (bench_now() - t0) * 1e6;
                tasks_fill(a, qn);
            }
            fmp_barrier();
            if (master) {
                double t0 = bench_now();
                struct range g = {a, 0, qn};
                fmp_task(sort_task, &g, sizeof g);
                fmp_taskwait(); /* a task's end waits for its children: the whole sort */
                t_qs[r] = (bench_now() - t0) * 1e6;
                res[1] += tasks_unsorted(a, qn);
            }
        }
    }
    bench_check(fmp_region_error(), "the region");
    if (res[0] != tasks_fib_serial(fn) || res[1]) {
        fprintf(stderr, "tasks_fmp: wrong results (fib %ld, %ld places unsorted)\n", res[0],
                res[1]);
        return 1;
    }
    tasks_emit("fork", m, reps, fn, qn, t_task, t_fib, t_qs);
    fmp_shared_free(a);
    fmp_shared_free(t);
    fmp_shared_free(res);
    return 0;
}
