/* bench/kernels_omp.c: the throughput kernels of kernels_fmp.c with OpenMP threads, the
 * way an OpenMP code writes them (see kernels.h).
 *
 *   kernels_omp stream|pi|stencil|reduce [--members N] [--reps R] [--size large]
 *
 * The array reductions use OpenMP 4.5's reduction(+ : a[:n]); GCC puts each thread's
 * private copy on its stack, so the larger sizes need OMP_STACKSIZE and `ulimit -s`
 * above the array size (bench/run sets both); a size that does not fit is skipped with
 * a note. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common.h"
#include "kernels.h"

static const char usage[] =
    "usage: kernels_omp stream|pi|stencil|reduce [--members N] [--reps R] [--size large]\n";

static int g_members;

static void *alloc_or_die(size_t bytes)
{
    void *p = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    if (!p) {
        fprintf(stderr, "kernels_omp: no memory for %zu bytes\n", bytes);
        exit(1);
    }
    return p;
}

/* ------------------------------------------------------------------ stream */
static void stream(const bench_opts *o)
{
    const long n = o->large ? STREAM_N_LARGE : STREAM_N;
    int reps = o->reps > 0 ? o->reps : STREAM_REPS;
    size_t bytes = (size_t)n * sizeof(double);
    double *restrict a = alloc_or_die(bytes);
    double *restrict b = alloc_or_die(bytes);
    double *restrict c = alloc_or_die(bytes);
    const double s = 3.0;
    const int m = g_members;
#pragma omp parallel for num_threads(m) schedule(static)
    for (long i = 0; i < n; i++) {
        a[i] = 1.0;
        b[i] = 2.0;
        c[i] = 0.5;
    }
    double *gbs = malloc(sizeof *gbs * (size_t)reps);
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        double t0 = bench_now();
#pragma omp parallel for num_threads(m) schedule(static)
        for (long i = 0; i < n; i++)
            a[i] = b[i] + s * c[i];
        if (r >= 0)
            gbs[r] = 3.0 * (double)bytes / (bench_now() - t0) * 1e-9;
    }
    if (a[n / 2] != 2.0 + 3.0 * 0.5) {
        fprintf(stderr, "kernels_omp: triad gave %g\n", a[n / 2]);
        exit(1);
    }
    bench_emit("stream", "STREAM triad", "omp", m, NULL, bench_stats_of(gbs, reps), "GB/s",
               reps);
    free(gbs);
    free(a);
    free(b);
    free(c);
}

/* ------------------------------------------------------------------ pi */
static double pi_once(long n, int m)
{
    const double h = 1.0 / (double)n;
    double sum = 0.0;
#pragma omp parallel for num_threads(m) schedule(static) reduction(+ : sum)
    for (long i = 0; i < n; i++) {
        double x = h * ((double)i + 0.5);
        sum += 4.0 / (1.0 + x * x);
    }
    return h * sum;
}

static void pi(const bench_opts *o)
{
    long n = o->large ? PI_N_LARGE : PI_N;
    int reps = o->reps > 0 ? o->reps : PI_REPS;
    double *rate = malloc(sizeof *rate * (size_t)reps);
    double v = pi_once(n, g_members); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        v = pi_once(n, g_members);
        rate[r] = (double)n / (bench_now() - t0) * 1e-9;
    }
    if (v < 3.14159 || v > 3.1416) {
        fprintf(stderr, "kernels_omp: pi = %.10f\n", v);
        exit(1);
    }
    bench_emit("pi", "pi", "omp", g_members, NULL, bench_stats_of(rate, reps), "G it/s", reps);
    free(rate);
}

/* ------------------------------------------------------------------ stencil */
static inline void sweep_row(double *restrict dst, const double *restrict src, long n, long i)
{
    for (long j = 1; j < n - 1; j++)
        dst[i * n + j] = 0.25 * (src[(i - 1) * n + j] + src[(i + 1) * n + j] +
                                 src[i * n + j - 1] + src[i * n + j + 1]);
}

static void sweeps(double *u, double *v, long n, int count, int m)
{
#pragma omp parallel num_threads(m)
    {
        double *src = u, *dst = v;
        for (int k = 0; k < count; k++) {
#pragma omp for schedule(static)
            for (long i = 1; i < n - 1; i++)
                sweep_row(dst, src, n, i);
            double *tmp = src;
            src = dst;
            dst = tmp;
        }
    }
}

static void stencil(const bench_opts *o)
{
    const long n = o->large ? STENCIL_N_LARGE : STENCIL_N;
    int reps = o->reps > 0 ? o->reps : STENCIL_REPS;
    size_t bytes = (size_t)(n * n) * sizeof(double);
    double *u = alloc_or_die(bytes), *v = alloc_or_die(bytes);
    const int m = g_members;
#pragma omp parallel for num_threads(m) schedule(static)
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++) {
            u[i * n + j] = i == 0 ? 1.0 : 0.0;
            v[i * n + j] = i == 0 ? 1.0 : 0.0;
        }
    double *rate = malloc(sizeof *rate * (size_t)reps);
    sweeps(u, v, n, STENCIL_SWEEPS, m); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        sweeps(u, v, n, STENCIL_SWEEPS, m);
        rate[r] = (double)((n - 2) * (n - 2)) * STENCIL_SWEEPS / (bench_now() - t0) * 1e-6;
    }
    double sum = 0.0;
    for (long i = 0; i < n * n; i++)
        sum += u[i];
    fprintf(stderr, "stencil omp %d: checksum %.17g\n", m, sum);
    bench_emit("stencil", "stencil", "omp", m, NULL, bench_stats_of(rate, reps), "M cells/s",
               reps);
    free(rate);
    free(u);
    free(v);
}

/* ------------------------------------------------------------------ reduce */
/* OMP_STACKSIZE as libgomp reads it: a number with an optional B, K, M or G (K when
   none); 0 when unset or malformed */
static size_t omp_stacksize(void)
{
    const char *s = getenv("OMP_STACKSIZE");
    if (!s || !*s)
        return 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    while (*end == ' ')
        end++;
    switch (*end) {
    case 'b': case 'B': return (size_t)v;
    case 'm': case 'M': return (size_t)v << 20;
    case 'g': case 'G': return (size_t)v << 30;
    default: return (size_t)v << 10;
    }
}

/* per-thread buffers of the reference (first-touched by their thread) */
static double *g_buf[4096];

static void reduce_pass(double *out, long count, long reps, int with_reduction)
{
    const int n = omp_get_num_threads();
    const int me = omp_get_thread_num();
    for (long k = 0; k < reps; k++) {
        if (with_reduction) {
            /* each thread fills its private copy: one iteration per thread */
#pragma omp for schedule(static) reduction(+ : out[:count])
            for (int t = 0; t < n; t++)
                for (long i = 0; i < count; i++)
                    out[i] += REDUCE_VALUE(t, i);
        } else {
            double *restrict mine = g_buf[me];
            for (long i = 0; i < count; i++)
                mine[i] = REDUCE_VALUE(me, i);
#pragma omp barrier
        }
    }
}

/* in one region: an untimed pass, then `inner` repetitions timed by the master between
   barriers, as kernels_fmp.c */
static double reduce_time(double *out, long count, long inner, int with_reduction)
{
    double elapsed = 0.0;
#pragma omp parallel num_threads(g_members)
    {
        reduce_pass(out, count, 1, with_reduction);
#pragma omp barrier
        double t0 = bench_now();
        reduce_pass(out, count, inner, with_reduction);
#pragma omp barrier
#pragma omp master
        elapsed = bench_now() - t0;
    }
    return elapsed;
}

static void reduce(const bench_opts *o)
{
    const int m = g_members;
    int reps = o->reps > 0 ? o->reps : REDUCE_REPS;
    double *us = malloc(sizeof *us * (size_t)reps);
    double *ref = malloc(sizeof *ref * (size_t)reps);
    double *test = malloc(sizeof *test * (size_t)reps);
    double *out = alloc_or_die(REDUCE_MAX_BYTES);
    struct rlimit rl;
    getrlimit(RLIMIT_STACK, &rl);
    size_t master_stack = rl.rlim_cur == RLIM_INFINITY ? (size_t)-1 : (size_t)rl.rlim_cur;
    size_t worker_stack = omp_stacksize();
    if (!worker_stack)
        worker_stack = master_stack < ((size_t)8 << 20) ? master_stack : (size_t)2 << 20;
#pragma omp parallel num_threads(m)
    {
        const int me = omp_get_thread_num();
        g_buf[me] = alloc_or_die(REDUCE_MAX_BYTES);
        memset(g_buf[me], 0, REDUCE_MAX_BYTES);
    }
    for (int i = 0; i < REDUCE_NSIZES; i++) {
        long bytes = reduce_sizes[i];
        long count = bytes / (long)sizeof(double);
        size_t need = (size_t)bytes + ((size_t)4 << 20);
        if (need > master_stack || (m > 1 && need > worker_stack)) {
            char s[32];
            bench_note("reduce", "OpenMP array reduction of %s skipped: GCC keeps the private "
                                 "copies on the thread stacks; raise `ulimit -s` and "
                                 "OMP_STACKSIZE above it (bench/run does)",
                       bench_size_name((size_t)bytes, s, sizeof s));
            continue;
        }
        long inner = 1;
        memset(out, 0, (size_t)bytes);
        reduce_time(out, count, 1, 1); /* warm-up: the stacks' pages */
        while (reduce_time(out, count, inner, 1) < REDUCE_TARGET_S && inner < REDUCE_MAX_INNER)
            inner *= 2;
        int bad = 0;
        for (int r = 0; r < reps; r++) {
            ref[r] = reduce_time(out, count, inner, 0);
            memset(out, 0, (size_t)bytes);
            test[r] = reduce_time(out, count, inner, 1);
            long k = count - 1;
            if (out[k] != (double)(inner + 1) * REDUCE_SUM(m, k))
                bad = 1;
        }
        if (bad) {
            fprintf(stderr, "kernels_omp: wrong reduction result at %ld bytes\n", bytes);
            exit(1);
        }
        bench_stats rs = bench_stats_of(ref, reps);
        for (int r = 0; r < reps; r++)
            us[r] = (test[r] - rs.med) / (double)inner * 1e6;
        bench_stats s = bench_stats_of(us, reps);
        char param[32];
        snprintf(param, sizeof param, "%ld", bytes);
        bench_emit("reduce", "array reduction", "omp", m, param, s, "us", reps);
        double vol = (double)(m + 1) * (double)bytes * 1e-3;
        bench_stats bw = { s.med > 0 ? vol / s.med : 0, s.max > 0 ? vol / s.max : 0,
                           s.min > 0 ? vol / s.min : 0 };
        bench_emit("reduce", "array reduction bandwidth", "omp", m, param, bw, "GB/s", reps);
    }
    free(us);
    free(ref);
    free(test);
    free(out);
}

int main(int argc, char **argv)
{
    bench_opts o = { 0, 0, 0, 0, 0.0, NULL, NULL };
    bench_parse(argc, argv, &o, usage);
    if (!o.what) {
        fputs(usage, stderr);
        return 2;
    }
    g_members = o.members;
    omp_set_dynamic(0);
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
    return 0;
}
