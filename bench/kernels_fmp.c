/* bench/kernels_fmp.c: throughput kernels with forkmp (see kernels.h for what each one
 * measures and how).
 *
 *   kernels_fmp stream|pi|stencil|reduce --impl team|fork [--members N] [--reps R]
 *               [--size large]
 *
 * --impl team: one persistent team, fmp_team_run per region (the way to port a code
 *              that opens many regions);
 * --impl fork: an FMP_PARALLEL per region (a fork per region: its members fault in the
 *              shared pages they touch, every time).
 * Arrays live in fmp_shared_alloc memory, first touched by the members that use them
 * (the static schedule of the kernels), as the OpenMP versions first-touch theirs. */
#include <forkmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "kernels.h"

static const char usage[] =
    "usage: kernels_fmp stream|pi|stencil|reduce --impl team|fork [--members N] "
    "[--reps R] [--size large]\n";

static fmp_team *g_team;
static int g_members;

/* One region: a run of the persistent team, or an FMP_PARALLEL. */
static void region(void (*body)(void *), void *arg, size_t argsize)
{
    if (g_team) {
        bench_check(fmp_team_run(g_team, body, arg, argsize), "fmp_team_run");
    } else {
        FMP_PARALLEL(g_members) { body(arg); }
    }
}

static void *shared_or_die(size_t bytes)
{
    void *p = fmp_shared_alloc(bytes);
    if (!p) {
        fprintf(stderr, "kernels_fmp: fmp_shared_alloc(%zu) failed (FMP_SHARED_SIZE?)\n",
                bytes);
        exit(1);
    }
    return p;
}

/* ------------------------------------------------------------------ stream */
typedef struct triad_arg {
    double *a, *b, *c;
    long n;
    double s;
    int init;
} triad_arg;

static void triad_body(void *arg)
{
    const triad_arg *t = arg;
    double *restrict a = t->a;
    double *restrict b = t->b;
    double *restrict c = t->c;
    const double s = t->s;
    if (t->init) {
        FMP_FOR(i, 0, t->n, fmp_static(0)) {
            a[i] = 1.0;
            b[i] = 2.0;
            c[i] = 0.5;
        }
        return;
    }
    FMP_FOR(i, 0, t->n, fmp_static(0)) a[i] = b[i] + s * c[i];
}

static void stream(const bench_opts *o)
{
    long n = o->large ? STREAM_N_LARGE : STREAM_N;
    int reps = o->reps > 0 ? o->reps : STREAM_REPS;
    size_t bytes = (size_t)n * sizeof(double);
    triad_arg t = { shared_or_die(bytes), shared_or_die(bytes), shared_or_die(bytes), n, 3.0,
                    1 };
    region(triad_body, &t, sizeof t);
    t.init = 0;
    double *gbs = malloc(sizeof *gbs * (size_t)reps);
    region(triad_body, &t, sizeof t); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        region(triad_body, &t, sizeof t);
        gbs[r] = 3.0 * (double)bytes / (bench_now() - t0) * 1e-9;
    }
    if (t.a[n / 2] != 2.0 + 3.0 * 0.5) {
        fprintf(stderr, "kernels_fmp: triad gave %g\n", t.a[n / 2]);
        exit(1);
    }
    bench_emit("stream", "STREAM triad", o->impl, g_members, NULL, bench_stats_of(gbs, reps),
               "GB/s", reps);
    free(gbs);
}

/* ------------------------------------------------------------------ pi */
typedef struct pi_arg {
    long n;
} pi_arg;

static double g_pi; /* the master's result */

static void pi_body(void *arg)
{
    const pi_arg *p = arg;
    const double h = 1.0 / (double)p->n;
    double part = 0.0, sum = 0.0;
    FMP_FOR(i, 0, p->n, fmp_static(0)) {
        double x = h * ((double)i + 0.5);
        part += 4.0 / (1.0 + x * x);
    }
    fmp_reduce(&part, &sum, 1, FMP_DOUBLE, FMP_SUM);
    g_pi = h * sum;
}

static void pi(const bench_opts *o)
{
    pi_arg p = { o->large ? PI_N_LARGE : PI_N };
    int reps = o->reps > 0 ? o->reps : PI_REPS;
    double *rate = malloc(sizeof *rate * (size_t)reps);
    region(pi_body, &p, sizeof p); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        region(pi_body, &p, sizeof p);
        rate[r] = (double)p.n / (bench_now() - t0) * 1e-9;
    }
    if (g_pi < 3.14159 || g_pi > 3.1416) {
        fprintf(stderr, "kernels_fmp: pi = %.10f\n", g_pi);
        exit(1);
    }
    bench_emit("pi", "pi", o->impl, g_members, NULL, bench_stats_of(rate, reps), "G it/s",
               reps);
    free(rate);
}

/* ------------------------------------------------------------------ stencil */
typedef struct stencil_arg {
    double *u, *v;
    long n;
    int sweeps;
    int init;
} stencil_arg;

/* one row of a sweep */
static inline void sweep_row(double *restrict dst, const double *restrict src, long n, long i)
{
    for (long j = 1; j < n - 1; j++)
        dst[i * n + j] = 0.25 * (src[(i - 1) * n + j] + src[(i + 1) * n + j] +
                                 src[i * n + j - 1] + src[i * n + j + 1]);
}

static void stencil_body(void *arg)
{
    const stencil_arg *s = arg;
    const long n = s->n;
    double *src = s->u;
    double *dst = s->v;
    if (s->init) {
        /* first touch by rows, as the sweeps use them; the top row is held at 1 */
        FMP_FOR(i, 0, n, fmp_static(0)) {
            for (long j = 0; j < n; j++) {
                src[i * n + j] = i == 0 ? 1.0 : 0.0;
                dst[i * n + j] = i == 0 ? 1.0 : 0.0;
            }
        }
        return;
    }
    for (int k = 0; k < s->sweeps; k++) {
        FMP_FOR(i, 1, n - 1, fmp_static(0)) sweep_row(dst, src, n, i);
        double *tmp = src;
        src = dst;
        dst = tmp;
    }
}

static void stencil(const bench_opts *o)
{
    long n = o->large ? STENCIL_N_LARGE : STENCIL_N;
    int reps = o->reps > 0 ? o->reps : STENCIL_REPS;
    size_t bytes = (size_t)(n * n) * sizeof(double);
    stencil_arg s = { shared_or_die(bytes), shared_or_die(bytes), n, STENCIL_SWEEPS, 1 };
    region(stencil_body, &s, sizeof s);
    s.init = 0;
    double *rate = malloc(sizeof *rate * (size_t)reps);
    region(stencil_body, &s, sizeof s); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        region(stencil_body, &s, sizeof s);
        rate[r] = (double)((n - 2) * (n - 2)) * s.sweeps / (bench_now() - t0) * 1e-6;
    }
    double sum = 0.0;
    for (long i = 0; i < n * n; i++)
        sum += s.u[i];
    fprintf(stderr, "stencil fmp %s %d: checksum %.17g\n", o->impl, g_members, sum);
    bench_emit("stencil", "stencil", o->impl, g_members, NULL, bench_stats_of(rate, reps),
               "M cells/s", reps);
    free(rate);
}

/* ------------------------------------------------------------------ reduce */
typedef struct reduce_arg {
    long count;
    long inner;
    int reduce;      /* 0: the reference (fill, barrier) */
    int arena;       /* the buffers in the shared arena: every member's in its own, one out */
} reduce_arg;

/* private buffers, allocated before the team is forked: every member has its own */
static double *g_in, *g_out;
/* the same in the shared arena: an in per member, one out that every member passes */
static double **g_ain, *g_aout;
static int g_bad;
static double g_elapsed;

static void reduce_pass(const reduce_arg *r, long reps)
{
    const int me = fmp_thread_num();
    double *restrict in = r->arena ? g_ain[me] : g_in;
    for (long k = 0; k < reps; k++) {
        for (long i = 0; i < r->count; i++)
            in[i] = REDUCE_VALUE(me, i);
        if (r->reduce)
            fmp_reduce(in, r->arena ? g_aout : g_out, (size_t)r->count, FMP_DOUBLE, FMP_SUM);
        else
            fmp_barrier();
    }
}

/* in one region: an untimed pass, then `inner` repetitions timed by the master
   between barriers */
static void reduce_body(void *arg)
{
    const reduce_arg *r = arg;
    reduce_pass(r, 1);
    fmp_barrier();
    double t0 = bench_now();
    reduce_pass(r, r->inner);
    fmp_barrier();
    if (fmp_thread_num() == 0)
        g_elapsed = bench_now() - t0;
    long k = r->count - 1;
    if (r->reduce && (r->arena ? g_aout : g_out)[k] != REDUCE_SUM(fmp_num_threads(), k))
        g_bad = 1;
}

static double reduce_time(reduce_arg *a)
{
    region(reduce_body, a, sizeof *a);
    return g_elapsed;
}

static void reduce(const bench_opts *o)
{
    int reps = o->reps > 0 ? o->reps : REDUCE_REPS;
    double *us = malloc(sizeof *us * (size_t)reps);
    double *ref = malloc(sizeof *ref * (size_t)reps);
    double *test = malloc(sizeof *test * (size_t)reps);
    for (int i = 0; i < 2 * REDUCE_NSIZES; i++) {
        int arena = i >= REDUCE_NSIZES;
        long bytes = reduce_sizes[i % REDUCE_NSIZES];
        reduce_arg a = { bytes / (long)sizeof(double), 1, 1, arena };
        reduce_time(&a); /* warm-up: copy-on-write of the buffers, scratch */
        while (reduce_time(&a) < REDUCE_TARGET_S && a.inner < REDUCE_MAX_INNER)
            a.inner *= 2;
        for (int r = 0; r < reps; r++) {
            a.reduce = 0;
            ref[r] = reduce_time(&a);
            a.reduce = 1;
            test[r] = reduce_time(&a);
        }
        if (g_bad) {
            fprintf(stderr, "kernels_fmp: wrong reduction result at %ld bytes\n", bytes);
            exit(1);
        }
        bench_stats rs = bench_stats_of(ref, reps);
        for (int r = 0; r < reps; r++)
            us[r] = (test[r] - rs.med) / (double)a.inner * 1e6;
        bench_stats s = bench_stats_of(us, reps);
        char param[32];
        snprintf(param, sizeof param, "%ld", bytes);
        bench_emit("reduce", arena ? "array reduction, arena buffers" : "array reduction",
                   o->impl, g_members, param, s, "us", reps);
        /* effective bandwidth: (members + 1) x bytes per reduction; min and max swap */
        double vol = (double)(g_members + 1) * (double)bytes * 1e-3; /* GB per us -> x1e-3 */
        bench_stats bw = { s.med > 0 ? vol / s.med : 0, s.max > 0 ? vol / s.max : 0,
                           s.min > 0 ? vol / s.min : 0 };
        bench_emit("reduce",
                   arena ? "array reduction bandwidth, arena buffers" : "array reduction bandwidth",
                   o->impl, g_members, param, bw, "GB/s", reps);
    }
    free(us);
    free(ref);
    free(test);
}

int main(int argc, char **argv)
{
    bench_opts o = { 0, 0, 0, 0, 0.0, NULL, NULL };
    bench_parse(argc, argv, &o, usage);
    if (!o.what || !o.impl || (strcmp(o.impl, "team") && strcmp(o.impl, "fork"))) {
        fputs(usage, stderr);
        return 2;
    }
    g_members = o.members;
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    if (!strcmp(o.what, "reduce")) {
        g_in = malloc(REDUCE_MAX_BYTES);
        g_out = malloc(REDUCE_MAX_BYTES);
        g_ain = malloc(sizeof *g_ain * (size_t)g_members);
        if (!g_in || !g_out || !g_ain)
            return 1;
        for (int m = 0; m < g_members; m++)
            g_ain[m] = shared_or_die(REDUCE_MAX_BYTES);
        g_aout = shared_or_die(REDUCE_MAX_BYTES);
    }
    if (!strcmp(o.impl, "team")) {
        g_team = fmp_team_create(g_members);
        if (!g_team) {
            perror("fmp_team_create");
            return 1;
        }
    }
    if (!strcmp(o.what, "stream"))
        stream(&o);
    else if (!strcmp(o.what, "pi"))
        pi(&o);
    else if (!strcmp(o.what, "stencil"))
        stencil(&o);
    else if (!strcmp(o.what, "reduce"))
        reduce(&o);
    else {
        fputs(usage, stderr);
        return 2;
    }
    if (g_team)
        bench_check(fmp_team_destroy(g_team), "fmp_team_destroy");
    return 0;
}
