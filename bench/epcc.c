/* bench/epcc.c: the EPCC-method driver shared by epcc_fmp and epcc_omp: calibration of
 * the inner repetitions, the reference loop, the outer repetitions and the result
 * lines.  The programs supply only how to run one test. */
#include "epcc_driver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double reference(long delays, long d)
{
    double t0 = bench_now();
    for (long k = 0; k < delays; k++)
        bench_delay(d);
    return bench_now() - t0;
}

static long round_up(long x, long m)
{
    return (x + m - 1) / m * m;
}

/* The noise of an overhead, in microseconds per inner repetition: twice the robust spread
   (bench_noise) of one repetition of the test and of the reference, combined.  The
   median overhead of a construct that costs nothing lands within it; a figure at or
   below it is reported as "below noise", never as a value. */
static double overhead_noise(double *refs, double ref_med, const double *tests, int reps,
                             long inner)
{
    double *t = malloc(sizeof *t * (size_t)reps);
    if (!t)
        return 0.0;
    for (int r = 0; r < reps; r++)
        t[r] = tests[r];
    double tmed = bench_stats_of(t, reps).med;
    double st = bench_noise(t, reps, tmed), sr = bench_noise(refs, reps, ref_med);
    free(t);
    return 2.0 * sqrt(st * st + sr * sr) / (double)inner * 1e6;
}

static void emit(const char *impl, const char *name, int members, bench_stats s, double noise,
                 int reps)
{
    bench_emit_noisy("epcc", name, impl, members, NULL, s, noise, "us", reps);
    if (s.med <= noise)
        fprintf(stderr, "epcc %s: %s: %.3g us, below noise (+-%.3g us)\n", impl, name, s.med,
                noise);
}

void epcc_run_all(const bench_opts *o, const char *impl, epcc_runner run, void *ctx)
{
    int reps = o->reps;
    int members = o->members;
    long iters = o->large ? EPCC_ITERS_LARGE : EPCC_ITERS;
    double target = o->target > 0 ? o->target : EPCC_TARGET_S;
    long d = o->delay > 0 ? o->delay : bench_delay_calibrate(EPCC_DELAY_S);
    double *ov = malloc(sizeof *ov * (size_t)reps);
    double *refs = malloc(sizeof *refs * (size_t)reps);
    double *tests = malloc(sizeof *tests * (size_t)reps);
    if (!ov || !refs || !tests) {
        fprintf(stderr, "epcc: out of memory\n");
        exit(1);
    }
    epcc_params p = { d, iters, members };
    fprintf(stderr, "epcc %s: %d members, policy %s, delay %ld iterations (%.3f us), "
                    "%ld iterations per member in the schedule tests\n",
            impl, members, bench_policy(), d, reference(1000, d) * 1e3, iters);
    for (int i = 0; i < EPCC_NTESTS; i++) {
        const epcc_test *t = &epcc_tests[i];
        if (o->what && !strstr(t->name, o->what))
            continue;
        long step = (t->kind == EPCC_CRITICAL || t->kind == EPCC_LOCK) ? members : 1;
        long inner = step;
        run(t, &p, inner, ctx); /* warm-up: first-touch, page faults, thread start */
        for (;;) {
            double s = run(t, &p, inner, ctx);
            if (s >= target || inner >= EPCC_MAX_INNER)
                break;
            inner = round_up(inner * 2, step);
        }
        long per = t->kind == EPCC_SCHED ? iters : 1;
        for (int r = 0; r < reps; r++) {
            refs[r] = reference(inner * per, d);
            tests[r] = run(t, &p, inner, ctx);
        }
        bench_stats ref = bench_stats_of(refs, reps);
        for (int r = 0; r < reps; r++)
            ov[r] = (tests[r] - ref.med) / (double)inner * 1e6;
        double noise = overhead_noise(refs, ref.med, tests, reps, inner);
        bench_stats s = bench_stats_of(ov, reps);
        if (s.med < 0.0 && -s.med > noise)
            noise = -s.med; /* a negative overhead is an error of at least its size */
        emit(impl, t->name, members, s, noise, reps);
        if (t->kind == EPCC_SCHED && t->sched == EPCC_DYNAMIC) {
            /* per chunk: a member takes iters / chunk chunks per loop */
            char name[64];
            double k = (double)t->chunk / (double)iters;
            snprintf(name, sizeof name, "%s per chunk", t->name);
            emit(impl, name, members, bench_stats_scale(s, k), noise * k, reps);
        }
    }
    free(ov);
    free(refs);
    free(tests);
}
