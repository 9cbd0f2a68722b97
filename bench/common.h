/* bench/common.h: what the benchmark programs share (timing, the EPCC delay, statistics,
 * options and the result lines that bench/run collects).
 *
 * Every program prints its results on stdout as tab-separated lines:
 *
 *   R  group  figure  impl  policy  members  param  median  min  max  unit  reps [noise]
 *   N  group  free text (a note: something scaled down, skipped, or worth knowing)
 *
 * group:   epcc, floor, stream, pi, stencil, reduce, allreduce, tasks, regions
 * impl:    fork (FMP_PARALLEL, a fork per region), team (persistent team), omp (libgomp),
 *          bare (fork + _exit + waitpid), nofork, procs and threads (floor_fmp),
 *          hybrid, hybrid-yield, mpi-flat, mpi-shmwin (allreduce_mpi), warm and auto
 *          (FMP_PARALLEL with FMP_REGION=warm or auto, regions_fmp)
 * policy:  active, passive or default (the OMP_WAIT_POLICY the process ran with)
 * param:   a size in bytes, or "-"
 * unit:    us, GB/s, G it/s, M cells/s, faults (min = max = the mean for faults) or MiB
 * noise:   where given (the EPCC overheads), the figure's noise in its unit: a median
 *          at or below it cannot be told from zero, and the report says "below noise"
 * Anything else a program writes goes to stderr.  bench/report.awk turns the lines into
 * the tables of results.md; bench/run adds "M key value" lines about the machine. */
#ifndef FMP_BENCH_COMMON_H
#define FMP_BENCH_COMMON_H

#include <stddef.h>

#define BENCH_MIB (1024.0 * 1024.0)

/** Seconds from an arbitrary start, CLOCK_MONOTONIC. */
double bench_now(void);

/** EPCC's delay: @p n iterations of dummy work the compiler cannot remove. */
void bench_delay(long n);
/** Iterations of bench_delay() that last about @p seconds on this core. */
long bench_delay_calibrate(double seconds);

typedef struct bench_stats {
    double med, min, max;
} bench_stats;

/** Median, minimum and maximum of @p n values (sorts @p v). */
bench_stats bench_stats_of(double *v, int n);
/** Every value of @p s multiplied by @p k (k > 0). */
bench_stats bench_stats_scale(bench_stats s, double k);

/** Print one result line (see the top of this file). @p param NULL prints "-". */
void bench_emit(const char *group, const char *figure, const char *impl, int members,
                const char *param, bench_stats s, const char *unit, int reps);
/** The same with the figure's noise (see the top of this file), in the figure's unit. */
void bench_emit_noisy(const char *group, const char *figure, const char *impl, int members,
                      const char *param, bench_stats s, double noise, const char *unit, int reps);
/** A robust standard deviation of @p n values around their median @p med: 1.4826 times
    the median absolute deviation (a slow outlier does not widen it); 0 for n < 2. */
double bench_noise(const double *v, int n, double med);
/** Print a note line for @p group. */
void bench_note(const char *group, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** "active", "passive" or "default", from FMP_WAIT_POLICY, else OMP_WAIT_POLICY. */
const char *bench_policy(void);

/** MemAvailable of /proc/meminfo in bytes (0 if unknown). */
size_t bench_mem_available(void);
/** Processing units this process may run on (its affinity mask). */
int bench_cpus(void);
/** "10 MiB", "4 GiB", "512 B" in @p buf. */
const char *bench_size_name(size_t bytes, char *buf, size_t n);

/** Options every program takes. */
typedef struct bench_opts {
    int members;      /* --members N: team size (default: the CPUs of the affinity mask) */
    int reps;         /* --reps R: outer repetitions (default per program) */
    int large;        /* --size large */
    long delay;       /* --delay N: EPCC delay length in iterations (0: calibrate) */
    double target;    /* --target-ms T: EPCC test time per measurement, in seconds */
    const char *impl; /* --impl NAME */
    const char *what; /* first operand: the part to run */
} bench_opts;

/** Parse the options; on an error print @p usage and exit(2).  @p defaults holds the
    program's defaults. */
void bench_parse(int argc, char **argv, bench_opts *defaults, const char *usage);

/** The fork floor: fork @p n - 1 children (n <= 4096) that _exit(0) at once, reap them
    with waitpid; seconds.  Exits with a message if a fork fails. */
double bench_bare_fork(int n);

/** Exit with a message on stderr when @p rc (an FMP_* or MPI result) is not 0. */
void bench_check(int rc, const char *what);

#endif /* FMP_BENCH_COMMON_H */
