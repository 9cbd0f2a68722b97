/* bench/common.c: timing, the EPCC delay, statistics, options, result lines.
 * Linked into the forkmp, OpenMP and MPI programs alike, so it uses neither. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "common.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The dummy work of the EPCC suite: a dependent chain of additions on a volatile, which
   no optimiser may shorten or remove. */
void bench_delay(long n)
{
    volatile double a = 0.0;
    for (long i = 0; i < n; i++)
        a += (double)i;
    if (a < 0.0)
        printf("%f\n", a);
}

long bench_delay_calibrate(double seconds)
{
    const long probe = 200000;
    double best = 1e30;
    bench_delay(probe); /* warm up: frequency, caches */
    for (int k = 0; k < 7; k++) {
        double t0 = bench_now();
        bench_delay(probe);
        double t = bench_now() - t0;
        if (t < best)
            best = t;
    }
    long n = (long)(seconds / (best / (double)probe) + 0.5);
    return n < 1 ? 1 : n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_stats bench_stats_of(double *v, int n)
{
    bench_stats s = {0.0, 0.0, 0.0};
    if (n <= 0)
        return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return s;
}

bench_stats bench_stats_scale(bench_stats s, double k)
{
    bench_stats r = {s.med * k, s.min * k, s.max * k};
    return r;
}

double bench_noise(const double *v, int n, double med)
{
    double *dev = malloc(sizeof *dev * (size_t)(n > 0 ? n : 1));
    if (!dev || n <= 1) {
        free(dev);
        return 0.0;
    }
    for (int i = 0; i < n; i++)
        dev[i] = v[i] > med ? v[i] - med : med - v[i];
    double mad = bench_stats_of(dev, n).med;
    free(dev);
    return 1.4826 * mad;
}

static void emit(const char *group, const char *figure, const char *impl, int members,
                 const char *param, bench_stats s, const char *unit, int reps, double noise)
{
    printf("R\t%s\t%s\t%s\t%s\t%d\t%s\t%.6g\t%.6g\t%.6g\t%s\t%d", group, figure, impl,
           bench_policy(), members, param ? param : "-", s.med, s.min, s.max, unit, reps);
    if (noise >= 0.0)
        printf("\t%.6g", noise);
    putchar('\n');
    fflush(stdout);
}

void bench_emit(const char *group, const char *figure, const char *impl, int members,
                const char *param, bench_stats s, const char *unit, int reps)
{
    emit(group, figure, impl, members, param, s, unit, reps, -1.0);
}

void bench_emit_noisy(const char *group, const char *figure, const char *impl, int members,
                      const char *param, bench_stats s, double noise, const char *unit, int reps)
{
    emit(group, figure, impl, members, param, s, unit, reps, noise);
}

void bench_note(const char *group, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++)
        if (*p == '\t' || *p == '\n')
            *p = ' ';
    printf("N\t%s\t%s\n", group, buf);
    fflush(stdout);
}

const char *bench_policy(void)
{
    const char *v = getenv("FMP_WAIT_POLICY");
    if (!v || !*v)
        v = getenv("OMP_WAIT_POLICY");
    if (v && !strcasecmp(v, "active"))
        return "active";
    if (v && !strcasecmp(v, "passive"))
        return "passive";
    return "default";
}

size_t bench_mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    size_t kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %zu kB", &kib) == 1)
            break;
    fclose(f);
    return kib * 1024;
}

int bench_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    return 1;
}

const char *bench_size_name(size_t bytes, char *buf, size_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = (double)bytes;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (v == (double)(long)v)
        snprintf(buf, n, "%ld %s", (long)v, unit[u]);
    else
        snprintf(buf, n, "%.1f %s", v, unit[u]);
    return buf;
}

static long parse_long(const char *opt, const char *v, long min, const char *usage)
{
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || *end || x < min) {
        fprintf(stderr, "bad value for %s: '%s'\n%s", opt, v ? v : "", usage);
        exit(2);
    }
    return x;
}

void bench_parse(int argc, char **argv, bench_opts *o, const char *usage)
{
    if (o->members <= 0)
        o->members = bench_cpus();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--members")) {
            o->members = (int)parse_long(a, v, 1, usage);
            i++;
        } else if (!strcmp(a, "--reps")) {
            o->reps = (int)parse_long(a, v, 1, usage);
            i++;
        } else if (!strcmp(a, "--delay")) {
            o->delay = parse_long(a, v, 0, usage);
            i++;
        } else if (!strcmp(a, "--target-ms")) {
            o->target = (double)parse_long(a, v, 1, usage) * 1e-3;
            i++;
        } else if (!strcmp(a, "--impl") && v) {
            o->impl = v;
            i++;
        } else if (!strcmp(a, "--size") && v) {
            if (!strcmp(v, "large"))
                o->large = 1;
            else if (!strcmp(v, "default"))
                o->large = 0;
            else {
                fprintf(stderr, "bad value for --size: '%s'\n%s", v, usage);
                exit(2);
            }
            i++;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            exit(0);
        } else if (a[0] != '-' && !o->what) {
            o->what = a;
        } else {
            fprintf(stderr, "unknown argument '%s'\n%s", a, usage);
            exit(2);
        }
    }
}

double bench_bare_fork(int n)
{
    pid_t pids[4096];
    fflush(NULL);
    double t0 = bench_now();
    for (int m = 1; m < n && m < 4096; m++) {
        pids[m] = fork();
        if (pids[m] == 0)
            _exit(0);
        if (pids[m] < 0) {
            perror("fork");
            exit(1);
        }
    }
    for (int m = 1; m < n && m < 4096; m++)
        while (waitpid(pids[m], NULL, 0) < 0)
            ;
    return bench_now() - t0;
}

void bench_check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "bench: %s failed with %d\n", what, rc);
        exit(1);
    }
}
