/* bench/epcc_omp.c: the same EPCC-method tests as epcc_fmp.c, with OpenMP threads
 * (libgomp when built by GCC), for the side-by-side figures.
 *
 *   epcc_omp [--members N] [--reps R] [--delay D] [--target-ms T] [--size large] [NAME]
 *
 * libgomp reads OMP_WAIT_POLICY at start: bench/run starts one process per policy. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "epcc_driver.h"

static const char usage[] =
    "usage: epcc_omp [--members N] [--reps R] [--delay D] [--target-ms T] "
    "[--size large] [NAME]\n";

static omp_lock_t g_lock;
static double g_rsum; /* REDUCTION in region: the reduction's shared target */

/* `inner` repetitions of a construct, inside the parallel region */
static void construct_loop(const epcc_test *t, const epcc_params *p, long inner)
{
    const long d = p->delay;
    const int n = omp_get_num_threads();
    switch (t->kind) {
    case EPCC_FOR:
        for (long r = 0; r < inner; r++) {
#pragma omp for
            for (int i = 0; i < n; i++)
                bench_delay(d);
        }
        break;
    case EPCC_BARRIER:
        for (long r = 0; r < inner; r++) {
            bench_delay(d);
#pragma omp barrier
        }
        break;
    case EPCC_SINGLE:
        for (long r = 0; r < inner; r++) {
#pragma omp single
            bench_delay(d);
        }
        break;
    case EPCC_CRITICAL:
        for (long r = 0; r < inner / n; r++) {
#pragma omp critical
            bench_delay(d);
        }
        break;
    case EPCC_LOCK:
        for (long r = 0; r < inner / n; r++) {
            omp_set_lock(&g_lock);
            bench_delay(d);
            omp_unset_lock(&g_lock);
        }
        break;
    case EPCC_REDUCE_IN:
        /* g_rsum is shared; it gains n per repetition */
        for (long r = 0; r < inner; r++) {
#pragma omp for reduction(+ : g_rsum)
            for (int i = 0; i < n; i++) {
                bench_delay(d);
                g_rsum += 1.0;
            }
        }
        break;
    case EPCC_SCHED: {
        long total = p->iters * n;
        long c = t->chunk;
        for (long r = 0; r < inner; r++) {
            switch (t->sched) {
            case EPCC_DYNAMIC:
#pragma omp for schedule(dynamic, c)
                for (long i = 0; i < total; i++)
                    bench_delay(d);
                break;
            case EPCC_GUIDED:
#pragma omp for schedule(guided, c)
                for (long i = 0; i < total; i++)
                    bench_delay(d);
                break;
            default:
#pragma omp for schedule(static, c)
                for (long i = 0; i < total; i++)
                    bench_delay(d);
                break;
            }
        }
        break;
    }
    default:
        break;
    }
}

/* timed by the master between barriers, after an untimed pass, as in epcc_fmp.c */
static void in_region(const epcc_test *t, const epcc_params *p, long inner, double *elapsed,
                      double *check)
{
    long warm = inner < EPCC_WARMUP ? inner : EPCC_WARMUP;
    g_rsum = 0.0;
#pragma omp parallel num_threads(p->members)
    {
        construct_loop(t, p, warm);
#pragma omp barrier
        double t0 = bench_now();
        construct_loop(t, p, inner);
#pragma omp barrier
#pragma omp master
        {
            *elapsed = bench_now() - t0;
            if (t->kind == EPCC_REDUCE_IN)
                *check = g_rsum / (double)(warm + inner);
        }
    }
}

static double run(const epcc_test *t, const epcc_params *p, long inner, void *ctx)
{
    (void)ctx;
    const long d = p->delay;
    double elapsed = 0.0, check = (double)p->members;
    double t0 = bench_now();
    switch (t->kind) {
    case EPCC_PARALLEL:
        for (long r = 0; r < inner; r++) {
#pragma omp parallel num_threads(p->members)
            bench_delay(d);
        }
        elapsed = bench_now() - t0;
        break;
    case EPCC_PARFOR:
        for (long r = 0; r < inner; r++) {
#pragma omp parallel for num_threads(p->members)
            for (int i = 0; i < p->members; i++)
                bench_delay(d);
        }
        elapsed = bench_now() - t0;
        break;
    case EPCC_REDUCTION:
        for (long r = 0; r < inner; r++) {
            double sum = 0.0;
#pragma omp parallel num_threads(p->members) reduction(+ : sum)
            {
                bench_delay(d);
                sum += 1.0;
            }
            check = sum;
        }
        elapsed = bench_now() - t0;
        break;
    default:
        in_region(t, p, inner, &elapsed, &check);
        break;
    }
    if (check != (double)p->members) {
        fprintf(stderr, "epcc_omp: %s: reduction gave %g, not %d\n", t->name, check,
                p->members);
        exit(1);
    }
    return elapsed;
}

int main(int argc, char **argv)
{
    bench_opts o = { 0, 11, 0, 0, 0.0, NULL, NULL };
    bench_parse(argc, argv, &o, usage);
    omp_set_dynamic(0);
    omp_init_lock(&g_lock);
    epcc_run_all(&o, "omp", run, NULL);
    omp_destroy_lock(&g_lock);
    return 0;
}
