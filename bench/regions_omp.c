/* bench/regions_omp.c: the region-cost patterns of regions.h with libgomp's
 * `#pragma omp parallel` (threads: the master's private memory is everyone's, so the
 * arrays are plain malloc memory and the short regions' scalar a shared variable).
 *
 *   regions_omp [--members N] [--reps R] [--size large] [empty|dirty|sweep|short] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "regions.h"

static const char usage[] =
    "usage: regions_omp [--members N] [--reps R] [--size large] [empty|dirty|sweep|short]\n";

static int g_m;

static double empty_region(void)
{
    double t0 = bench_now();
#pragma omp parallel num_threads(g_m)
    {
        __asm__ volatile("" ::: "memory");
    }
    return bench_now() - t0;
}

static double sweep_region(double *a)
{
    const long n = (long)(REG_SWEEP / sizeof(double));
    double t0 = bench_now();
#pragma omp parallel num_threads(g_m)
    {
#pragma omp for schedule(static)
        for (long i = 0; i < n; i++)
            reg_sweep_one(a, i);
    }
    return bench_now() - t0;
}

static double short_region(double *a, const long *scalar, const long *page, long *seen)
{
    double t0 = bench_now();
#pragma omp parallel num_threads(g_m)
    {
        long s = *scalar;
        if (omp_get_thread_num() == 1) {
            seen[0] = s;
            seen[1] = page[0];
        }
#pragma omp for schedule(static)
        for (long i = 0; i < REG_SHORT_N; i++)
            reg_short_one(a, i, s);
    }
    return bench_now() - t0;
}

int main(int argc, char **argv)
{
    reg_cfg c = reg_setup(argc, argv, usage);
    if (c.team) {
        fprintf(stderr, "regions_omp: --team is regions_fmp's\n%s", usage);
        return 2;
    }
    g_m = c.m;
    int reps = c.reps;
    omp_set_dynamic(0);
    double *t = calloc((size_t)reps, sizeof *t), *u = calloc((size_t)reps, sizeof *u);
    double *sweep = malloc(REG_SWEEP), *shrt = calloc(REG_SHORT_N, sizeof(double));
    long *page = (long *)reg_private(REG_PAGE);
    if (!t || !u || !sweep || !shrt) {
        fprintf(stderr, "regions_omp: no memory\n");
        return 1;
    }
    memset(sweep, 0, REG_SWEEP);

    for (int s = 0; s < c.nsizes && reg_want(&c, "empty"); s++) {
        size_t bytes = c.sizes[s];
        char *p = reg_private(bytes);
        empty_region();
        for (int r = 0; r < reps; r++)
            t[r] = empty_region();
        reg_emit("empty region, private memory", "omp", g_m, (long long)bytes, t, reps);
        reg_release(p, bytes);
    }

    char *held = reg_private(REG_HELD);
    for (size_t d = 0; d < REG_NDIRTY && reg_want(&c, "dirty"); d++) {
        empty_region();
        for (int r = 0; r < reps; r++) {
            double t0 = bench_now();
            reg_write(held, reg_dirty[d], (char)(r + 2));
            u[r] = bench_now() - t0;
            t[r] = empty_region();
        }
        reg_emit("region after the master dirtied D", "omp", g_m, (long long)reg_dirty[d], t, reps);
        reg_emit("master's writes before a region", "omp", g_m, (long long)reg_dirty[d], u, reps);
    }

    if (reg_want(&c, "sweep")) {
        sweep_region(sweep);
        for (int r = 0; r < reps; r++)
            t[r] = sweep_region(sweep);
        reg_emit("sweep of 64 MiB shared", "omp", g_m, (long long)REG_SWEEP, t, reps);
    }

    long wrong = 0;
    if (reg_want(&c, "short")) {
        long scalar = 0, seen[2] = {0, 0};
        short_region(shrt, &scalar, page, seen);
        for (int r = 0; r < reps; r++) {
            double t0 = bench_now();
            for (int k = 0; k < REG_SHORT_REGIONS; k++) {
                scalar = (long)r * REG_SHORT_REGIONS + k + 1;
                page[0] = scalar;
                short_region(shrt, &scalar, page, seen);
                wrong += seen[0] != scalar || seen[1] != scalar;
            }
            t[r] = (bench_now() - t0) / REG_SHORT_REGIONS;
        }
        char name[64];
        snprintf(name, sizeof name, "short regions, %d in a row", REG_SHORT_REGIONS);
        reg_emit(name, "omp", g_m, -1, t, reps);
    }
    reg_release(held, REG_HELD);
    reg_release((char *)page, REG_PAGE);
    free(sweep);
    free(shrt);
    free(t);
    free(u);
    if (wrong) {
        fprintf(stderr, "regions_omp: %ld wrong short regions\n", wrong);
        return 1;
    }
    return 0;
}
