/* bench/epcc_driver.h: the interface between the EPCC driver (epcc.c) and the programs
 * that know how to run a test with forkmp (epcc_fmp.c) or OpenMP (epcc_omp.c). */
#ifndef FMP_BENCH_EPCC_DRIVER_H
#define FMP_BENCH_EPCC_DRIVER_H

#include "common.h"
#include "epcc.h"

typedef struct epcc_params {
    long delay;    /* bench_delay() length */
    long iters;    /* schedule tests: iterations per member and loop */
    int members;
} epcc_params;

/* Run test t with `inner` inner repetitions; return the master's time in seconds. */
typedef double (*epcc_runner)(const epcc_test *t, const epcc_params *p, long inner,
                              void *ctx);

/* Every test of epcc_tests (those whose name contains o->what, when given), with the
   reference, the outer repetitions and one result line each. */
void epcc_run_all(const bench_opts *o, const char *impl, epcc_runner run, void *ctx);

#endif /* FMP_BENCH_EPCC_DRIVER_H */
