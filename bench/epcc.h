/* bench/epcc.h: the constructs of the EPCC-method benchmarks, shared by the forkmp
 * (epcc_fmp.c) and the OpenMP (epcc_omp.c) programs so that both measure the same list
 * with the same parameters.
 *
 * The method (J. M. Bull's EPCC OpenMP micro-benchmarks): a reference loop runs
 * `inner` delays of fixed length in one process; the test runs the same work inside
 * the construct; overhead = (test time - reference time) / inner.  `inner` is doubled
 * until one test lasts the target time; the test is repeated `reps` times (outer
 * repetitions) and the median, minimum and maximum of the overheads are reported.
 *
 * Constructs that live inside a region (FOR, BARRIER, SINGLE, ...) are timed by the
 * master between two barriers inside one region, after an untimed pass of up to
 * EPCC_WARMUP repetitions, so the region's own start-up (a fork and the first touches of
 * a fresh child, for FMP_PARALLEL) is not part of them; PARALLEL, PARALLEL FOR and REDUCTION open one
 * region per inner repetition and are timed around the loop of regions. */
#ifndef FMP_BENCH_EPCC_H
#define FMP_BENCH_EPCC_H

enum epcc_kind {
    EPCC_PARALLEL,   /* a region per repetition, body: delay */
    EPCC_FOR,        /* in a region: a loop of `members` iterations, one delay each */
    EPCC_PARFOR,     /* a region per repetition holding that loop */
    EPCC_BARRIER,    /* in a region: delay; barrier */
    EPCC_SINGLE,     /* in a region: single { delay } (implied barrier) */
    EPCC_CRITICAL,   /* in a region: inner/members times critical { delay } per member */
    EPCC_LOCK,       /* the same with a lock */
    EPCC_REDUCTION,  /* a region per repetition: delay, then a scalar sum reduction */
    EPCC_REDUCE_IN,  /* in a region: delay, then a scalar sum reduction */
    EPCC_SCHED,      /* in a region: a loop of EPCC_ITERS iterations per member */
};

enum epcc_sched { EPCC_STATIC, EPCC_DYNAMIC, EPCC_GUIDED };

typedef struct epcc_test {
    const char *name;
    int kind;        /* enum epcc_kind */
    int sched;       /* enum epcc_sched, for EPCC_SCHED */
    long chunk;      /* for EPCC_SCHED */
} epcc_test;

static const epcc_test epcc_tests[] = {
    { "PARALLEL", EPCC_PARALLEL, 0, 0 },
    { "FOR", EPCC_FOR, 0, 0 },
    { "PARALLEL FOR", EPCC_PARFOR, 0, 0 },
    { "BARRIER", EPCC_BARRIER, 0, 0 },
    { "SINGLE", EPCC_SINGLE, 0, 0 },
    { "CRITICAL", EPCC_CRITICAL, 0, 0 },
    { "LOCK/UNLOCK", EPCC_LOCK, 0, 0 },
    { "REDUCTION", EPCC_REDUCTION, 0, 0 },
    { "REDUCTION in region", EPCC_REDUCE_IN, 0, 0 },
    { "STATIC,1", EPCC_SCHED, EPCC_STATIC, 1 },
    { "STATIC,8", EPCC_SCHED, EPCC_STATIC, 8 },
    { "STATIC,64", EPCC_SCHED, EPCC_STATIC, 64 },
    { "DYNAMIC,1", EPCC_SCHED, EPCC_DYNAMIC, 1 },
    { "DYNAMIC,8", EPCC_SCHED, EPCC_DYNAMIC, 8 },
    { "DYNAMIC,64", EPCC_SCHED, EPCC_DYNAMIC, 64 },
    { "GUIDED,1", EPCC_SCHED, EPCC_GUIDED, 1 },
    { "GUIDED,8", EPCC_SCHED, EPCC_GUIDED, 8 },
    { "GUIDED,64", EPCC_SCHED, EPCC_GUIDED, 64 },
};
#define EPCC_NTESTS ((int)(sizeof epcc_tests / sizeof epcc_tests[0]))

#define EPCC_ITERS 1024          /* schedule tests: iterations per member and loop */
#define EPCC_ITERS_LARGE 8192
#define EPCC_DELAY_S 0.1e-6      /* EPCC's default delay: 0.1 microseconds */
#define EPCC_TARGET_S 1e-3       /* EPCC's default test time: 1 ms */
#define EPCC_MAX_INNER (1L << 22)
#define EPCC_WARMUP 64L            /* untimed repetitions before an in-region test */

#endif /* FMP_BENCH_EPCC_H */
