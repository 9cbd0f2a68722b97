/* bench/epcc_fmp.c: EPCC-method synchronisation and scheduling overheads of forkmp.
 *
 *   epcc_fmp --impl fork|team|flat|tree [--members N] [--reps R] [--delay D] [--target-ms T]
 *            [--size large] [NAME]
 *
 * --impl fork: every region is an FMP_PARALLEL (a fork per region);
 * --impl team: one persistent team (fmp_team_create once, fmp_team_run per region);
 * --impl flat, tree: the same team with its barriers and small reductions through one
 * counter (FMP_BARRIER_TREE=off) or a combining tree (FMP_BARRIER_TREE=2) whatever its
 * size (team's rows use FMP_BARRIER_TREE's default): the pair measures from what team
 * size the tree pays.
 * NAME runs only the tests whose name contains it.  The wait policy comes from
 * FMP_WAIT_POLICY / OMP_WAIT_POLICY, read by forkmp at its first call: bench/run starts
 * one process per policy.  Result lines: see common.h. */
#include <forkmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epcc_driver.h"

static const char usage[] =
    "usage: epcc_fmp --impl fork|team|flat|tree [--members N] [--reps R] [--delay D] "
    "[--target-ms T] [--size large] [NAME]\n";

/* What a region needs: copied by value to the members of a persistent team; read
   from the master's memory by the members of an FMP_PARALLEL (forked after it was
   written). */
typedef struct job {
    epcc_test t;
    epcc_params p;
    long inner;
} job;

static fmp_team *g_team;     /* --impl team */
static fmp_lock *g_lock;     /* created before any member exists: shared by all */
static double g_elapsed;     /* written by the master (member 0) only */
static double g_check;       /* a reduction result, checked by the master */

static fmp_schedule schedule_of(const epcc_test *t)
{
    switch (t->sched) {
    case EPCC_DYNAMIC: return fmp_dynamic(t->chunk);
    case EPCC_GUIDED: return fmp_guided(t->chunk);
    default: return fmp_static(t->chunk);
    }
}

/* `inner` repetitions of a construct that lives inside a region */
static void construct_loop(const job *j, long inner)
{
    const long d = j->p.delay;
    const int n = fmp_num_threads();
    switch (j->t.kind) {
    case EPCC_FOR:
        for (long r = 0; r < inner; r++)
            FMP_FOR(i, 0, n, fmp_static(0)) bench_delay(d);
        break;
    case EPCC_BARRIER:
        for (long r = 0; r < inner; r++) {
            bench_delay(d);
            fmp_barrier();
        }
        break;
    case EPCC_SINGLE:
        for (long r = 0; r < inner; r++)
            FMP_SINGLE { bench_delay(d); }
        break;
    case EPCC_CRITICAL:
        for (long r = 0; r < inner / n; r++)
            FMP_CRITICAL { bench_delay(d); }
        break;
    case EPCC_LOCK:
        for (long r = 0; r < inner / n; r++) {
            fmp_lock_set(g_lock);
            bench_delay(d);
            fmp_lock_unset(g_lock);
        }
        break;
    case EPCC_REDUCE_IN:
        for (long r = 0; r < inner; r++) {
            double one = 1.0, sum = 0.0;
            bench_delay(d);
            fmp_reduce(&one, &sum, 1, FMP_DOUBLE, FMP_SUM);
            g_check = sum;
        }
        break;
    case EPCC_SCHED: {
        fmp_schedule s = schedule_of(&j->t);
        long total = j->p.iters * n;
        for (long r = 0; r < inner; r++)
            FMP_FOR(i, 0, total, s) bench_delay(d);
        break;
    }
    default:
        break;
    }
}

/* The constructs that live inside one region, timed by the master between barriers,
   after an untimed pass (a fresh child's first touches are the region's cost, measured
   by PARALLEL, not the construct's). */
static void in_region(const job *j)
{
    long warm = j->inner < EPCC_WARMUP ? j->inner : EPCC_WARMUP;
    construct_loop(j, warm);
    fmp_barrier();
    double t0 = bench_now();
    construct_loop(j, j->inner);
    fmp_barrier();
    if (fmp_thread_num() == 0)
        g_elapsed = bench_now() - t0;
}

/* The body of one region of the tests that open a region per repetition. */
static void one_region(const job *j)
{
    const long d = j->p.delay;
    switch (j->t.kind) {
    case EPCC_PARALLEL:
        bench_delay(d);
        break;
    case EPCC_PARFOR:
        FMP_FOR(i, 0, fmp_num_threads(), fmp_static(0)) bench_delay(d);
        break;
    case EPCC_REDUCTION: {
        double one = 1.0, sum = 0.0;
        bench_delay(d);
        fmp_reduce(&one, &sum, 1, FMP_DOUBLE, FMP_SUM);
        g_check = sum;
        break;
    }
    default:
        in_region(j);
        break;
    }
}

static void team_body(void *arg)
{
    one_region(arg);
}

static void region(const job *j)
{
    if (g_team) {
        bench_check(fmp_team_run(g_team, team_body, j, sizeof *j), "fmp_team_run");
    } else {
        FMP_PARALLEL(j->p.members) { one_region(j); }
    }
}

static double run(const epcc_test *t, const epcc_params *p, long inner, void *ctx)
{
    (void)ctx;
    job j = { *t, *p, inner };
    g_check = (double)p->members;
    if (t->kind == EPCC_PARALLEL || t->kind == EPCC_PARFOR || t->kind == EPCC_REDUCTION) {
        double t0 = bench_now();
        for (long r = 0; r < inner; r++)
            region(&j);
        g_elapsed = bench_now() - t0;
    } else {
        region(&j);
    }
    if (g_check != (double)p->members) {
        fprintf(stderr, "epcc_fmp: %s: reduction gave %g, not %d\n", t->name, g_check,
                p->members);
        exit(1);
    }
    return g_elapsed;
}

int main(int argc, char **argv)
{
    bench_opts o = { 0, 11, 0, 0, 0.0, NULL, NULL };
    bench_parse(argc, argv, &o, usage);
    if (!o.impl || (strcmp(o.impl, "fork") && strcmp(o.impl, "team") && strcmp(o.impl, "flat") &&
                    strcmp(o.impl, "tree"))) {
        fputs(usage, stderr);
        return 2;
    }
    /* read at forkmp's first call, below */
    if (!strcmp(o.impl, "flat"))
        setenv("FMP_BARRIER_TREE", "off", 1);
    if (!strcmp(o.impl, "tree"))
        setenv("FMP_BARRIER_TREE", "2", 1);
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    g_lock = fmp_lock_create();
    if (!g_lock) {
        perror("fmp_lock_create");
        return 1;
    }
    if (strcmp(o.impl, "fork") != 0) {
        g_team = fmp_team_create(o.members);
        if (!g_team) {
            perror("fmp_team_create");
            return 1;
        }
    }
    epcc_run_all(&o, o.impl, run, NULL);
    if (g_team)
        bench_check(fmp_team_destroy(g_team), "fmp_team_destroy");
    fmp_lock_destroy(g_lock);
    return 0;
}
