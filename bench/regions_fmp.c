/* bench/regions_fmp.c: the region-cost patterns of regions.h with FMP_PARALLEL, warm or
 * forked as FMP_REGION says (impl "warm", "fork" or "auto"), or with --team the same
 * patterns on a persistent team (fmp_team_run, impl "team"); regions_omp.c is the same
 * with libgomp.
 *
 *   regions_fmp [--members N] [--reps R] [--size large] [--team] [empty|dirty|sweep|short]
 *
 * Member 1 writes its pid into shared memory at every region: the program counts the
 * regions whose members were those of the region before (reused) and the others
 * (forked), and says so in a note, so that a run in the wrong mode shows. */
#include <forkmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "regions.h"

static const char usage[] =
    "usage: regions_fmp [--members N] [--reps R] [--size large] [--team] "
    "[empty|dirty|sweep|short]\n"
    "  the mode of FMP_PARALLEL comes from FMP_REGION (warm, fork, auto); --team runs the\n"
    "  same patterns on a persistent team\n";

enum { B_EMPTY, B_SWEEP, B_SHORT, B_MEM };

typedef struct body_arg {
    int kind;
    int team;    /* a team's run: its members were forked before g_team was set */
    long scalar; /* the short regions' scalar, for the team (its members do not see
                    the master's private memory) */
} body_arg;

/* shared memory */
typedef struct board {
    long pid;          /* member 1's, written at every region */
    long seen[2];      /* the short regions: the scalar and the page word member 1 saw */
    long mem[1024][2]; /* VmRSS and Private_Dirty (kB) of each member */
} board;

static int g_m;
static fmp_team *g_team;
static board *g_board;
static double *g_sweep, *g_short; /* shared arrays */
static long g_scalar;             /* private: changed by the master between regions */
static long *g_page;              /* private: one page changed by the master */
static long g_prev_pid, g_reused, g_forked;

static void body(const body_arg *b)
{
    int me = fmp_thread_num();
    if (me == 1)
        g_board->pid = (long)getpid();
    if (b->kind == B_SWEEP) {
        FMP_FOR(i, 0, (long)(REG_SWEEP / sizeof(double)), fmp_static(0))
            reg_sweep_one(g_sweep, i);
    } else if (b->kind == B_SHORT) {
        long s = b->team ? b->scalar : g_scalar;
        if (me == 1) {
            g_board->seen[0] = s;
            g_board->seen[1] = b->team ? s : g_page[0];
        }
        FMP_FOR(i, 0, REG_SHORT_N, fmp_static(0))
            reg_short_one(g_short, i, s);
    } else if (b->kind == B_MEM && me > 0 && me < 1024) {
        g_board->mem[me][0] = reg_proc_kb("/proc/self/status", "VmRSS");
        g_board->mem[me][1] = reg_proc_kb("/proc/self/smaps_rollup", "Private_Dirty");
    }
}

static void team_body(void *arg)
{
    body(arg);
}

/* one region of the pattern @p kind; seconds */
static double region(int kind)
{
    body_arg b = {kind, g_team != NULL, g_scalar};
    double t0 = bench_now();
    if (g_team) {
        bench_check(fmp_team_run(g_team, team_body, &b, sizeof b), "fmp_team_run");
    } else {
        FMP_PARALLEL(g_m) {
            body(&b);
        }
        bench_check(fmp_region_error(), "the region");
    }
    double t = bench_now() - t0;
    if (g_board->pid == g_prev_pid)
        g_reused++;
    else
        g_forked++;
    g_prev_pid = g_board->pid;
    return t;
}

static void measure_memory(const char *impl)
{
    memset(g_board->mem, 0, sizeof g_board->mem);
    region(B_MEM);
    double rss = 0.0, dirty = 0.0;
    for (int k = 1; k < g_m && k < 1024; k++) {
        rss += (double)g_board->mem[k][0] / 1024.0;
        dirty += (double)g_board->mem[k][1] / 1024.0;
    }
    bench_stats s = {rss, rss, rss};
    bench_emit("regions", "members' VmRSS, sum", impl, g_m, "67108864", s, "MiB", 1);
    bench_stats d = {dirty, dirty, dirty};
    bench_emit("regions", "members' Private_Dirty, sum", impl, g_m, "67108864", d, "MiB", 1);
}

int main(int argc, char **argv)
{
    reg_cfg c = reg_setup(argc, argv, usage);
    g_m = c.m;
    int reps = c.reps;
    const char *mode = getenv("FMP_REGION");
    const char *impl = c.team ? "team" : !mode || !*mode ? "auto" : mode;
    if (strcmp(impl, "team") && strcmp(impl, "warm") && strcmp(impl, "fork"))
        impl = "auto";
    g_board = fmp_shared_alloc(sizeof *g_board);
    g_sweep = fmp_shared_alloc(REG_SWEEP);
    g_short = fmp_shared_alloc(REG_SHORT_N * sizeof(double));
    double *t = calloc((size_t)reps, sizeof *t), *u = calloc((size_t)reps, sizeof *u);
    g_page = (long *)reg_private(REG_PAGE);
    if (!g_board || !g_sweep || !g_short || !t || !u) {
        fprintf(stderr, "regions_fmp: no memory\n");
        return 1;
    }
    if (c.team) {
        g_team = fmp_team_create(g_m);
        if (!g_team) {
            perror("fmp_team_create");
            return 1;
        }
    }
    char name[64];

    /* a. empty regions, the master holding P */
    for (int s = 0; s < c.nsizes && reg_want(&c, "empty"); s++) {
        size_t bytes = c.sizes[s];
        char *p = reg_private(bytes);
        fprintf(stderr, "regions_fmp %s: empty region, private %zu bytes\n", impl, bytes);
        region(B_EMPTY); /* untimed: a new mapping reaches the warm members */
        for (int r = 0; r < reps; r++)
            t[r] = region(B_EMPTY);
        reg_emit("empty region, private memory", impl, g_m, (long long)bytes, t, reps);
        if (!strcmp(impl, "fork")) {
            for (int r = 0; r < reps; r++)
                t[r] = bench_bare_fork(g_m);
            reg_emit("empty region, private memory", "bare", g_m, (long long)bytes, t, reps);
        }
        if (bytes == REG_HELD)
            measure_memory(impl);
        reg_release(p, bytes);
    }

    char *held = reg_private(REG_HELD);
    /* b. the master dirtying D of its 64 MiB between regions */
    for (size_t d = 0; d < REG_NDIRTY && reg_want(&c, "dirty"); d++) {
        fprintf(stderr, "regions_fmp %s: master dirtying %zu bytes\n", impl, reg_dirty[d]);
        region(B_EMPTY);
        for (int r = 0; r < reps; r++) {
            double t0 = bench_now();
            reg_write(held, reg_dirty[d], (char)(r + 2));
            u[r] = bench_now() - t0;
            t[r] = region(B_EMPTY);
        }
        reg_emit("region after the master dirtied D", impl, g_m, (long long)reg_dirty[d], t, reps);
        reg_emit("master's writes before a region", impl, g_m, (long long)reg_dirty[d], u, reps);
    }

    /* c. the sweep of 64 MiB of shared memory */
    if (reg_want(&c, "sweep")) {
        fprintf(stderr, "regions_fmp %s: sweep\n", impl);
        region(B_SWEEP);
        for (int r = 0; r < reps; r++)
            t[r] = region(B_SWEEP);
        reg_emit("sweep of 64 MiB shared", impl, g_m, (long long)REG_SWEEP, t, reps);
    }

    /* d. 100 short regions, the master changing a scalar and a page between them */
    long wrong = 0;
    if (reg_want(&c, "short")) {
        fprintf(stderr, "regions_fmp %s: short regions\n", impl);
        region(B_SHORT);
        for (int r = 0; r < reps; r++) {
            double t0 = bench_now();
            for (int k = 0; k < REG_SHORT_REGIONS; k++) {
                g_scalar = (long)r * REG_SHORT_REGIONS + k + 1;
                g_page[0] = g_scalar;
                region(B_SHORT);
                wrong += g_board->seen[0] != g_scalar || g_board->seen[1] != g_scalar;
            }
            t[r] = (bench_now() - t0) / REG_SHORT_REGIONS;
        }
        snprintf(name, sizeof name, "short regions, %d in a row", REG_SHORT_REGIONS);
        reg_emit(name, impl, g_m, -1, t, reps);
        for (int r = 0; r < reps; r++) { /* the same work in the master alone */
            double t0 = bench_now();
            for (long i = 0; i < REG_SHORT_N; i++)
                reg_short_one(g_short, i, 1);
            t[r] = bench_now() - t0;
        }
        reg_emit("one short region's work in the master alone", impl, g_m, -1, t, reps);
    }
    reg_release(held, REG_HELD);

    if (g_team)
        bench_check(fmp_team_destroy(g_team), "fmp_team_destroy");
    else
        bench_note("regions",
                   "FMP_REGION=%s: %ld regions found the members of the region "
                   "before (warm), %ld found new ones (forked)",
                   mode ? mode : "(unset)", g_reused, g_forked);
    free(t);
    free(u);
    if (wrong) {
        fprintf(stderr,
                "regions_fmp %s: in %ld short regions member 1 did not see the "
                "master's last private writes\n",
                impl, wrong);
        return 1;
    }
    return 0;
}
