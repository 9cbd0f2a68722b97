/* bench/regions.h: the region-cost patterns of regions_fmp.c (FMP_PARALLEL, warm or
 * forked as FMP_REGION says, or a persistent team's fmp_team_run with --team) and
 * regions_omp.c (libgomp's `#pragma omp parallel`), with their sizes.
 *
 * Every figure is the time of one region, seen by the master, median over repetitions,
 * after an untimed region (a warm pool's first region forks it; a new mapping is copied
 * once into the warm members):
 *   empty region, private memory P    the master holds P of touched private memory
 *                                      (0, 64 MiB, 256 MiB, 1 GiB; 1 GiB only with 8 GiB
 *                                      of memory or more; 4 GiB more with --size large and
 *                                      32 GiB), the region is empty; regions_fmp in fork
 *                                      mode also times the bare fork floor (fork of
 *                                      members - 1 children that _exit, waitpid) at each P
 *   region after the master dirtied D  the master holds 64 MiB and writes D (one byte per
 *                                      page: 1 page, 1 MiB, 16 MiB) before each empty
 *                                      region; "master's writes before a region" is the
 *                                      time of those writes (a copy-on-write or
 *                                      write-protect fault per page after a region)
 *   sweep of 64 MiB shared            each region reads and writes a 64 MiB array of
 *                                      shared memory (fmp_shared_alloc; malloc for
 *                                      OpenMP) by a static FMP_FOR / omp for
 *   short regions, 100 in a row       100 regions of about 1 ms of work each (an FMP_FOR
 *                                      over a small shared array, REG_SHORT_N elements of
 *                                      REG_SHORT_ITERS dependent steps), the master
 *                                      changing one private scalar and one private page
 *                                      between regions, which the members read (a persistent
 *                                      team gets the scalar as fmp_team_run's argument);
 *                                      the figure is the time of the 100 divided by 100;
 *                                      regions_fmp also times the same work done by the
 *                                      master alone
 * The sweep and the short regions run with the master still holding the 64 MiB block.
 * regions_fmp also reports the members' memory at 64 MiB (VmRSS and Private_Dirty of
 * /proc/PID/status and smaps_rollup, summed over members 1..N-1, read inside a region). */
#ifndef FMP_BENCH_REGIONS_H
#define FMP_BENCH_REGIONS_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define REG_PAGE 4096
#define REG_MEMBERS 2
#define REG_REPS 11
#define REG_MIB ((size_t)1 << 20)
#define REG_HELD (64 * REG_MIB)  /* the private block of the dirty, sweep and short tests */
#define REG_SWEEP (64 * REG_MIB) /* the shared array of the sweep */
#define REG_SHORT_REGIONS 100
#define REG_SHORT_N 262144L /* elements of the short regions' array */
#define REG_SHORT_ITERS 16  /* dependent steps per element */
#define REG_MAX_SIZES 5

static const size_t reg_dirty[] = {REG_PAGE, REG_MIB, 16 * REG_MIB};
#define REG_NDIRTY (sizeof reg_dirty / sizeof reg_dirty[0])

typedef struct reg_cfg {
    int m, reps, team; /* members, repetitions, --team */
    int nsizes;
    size_t sizes[REG_MAX_SIZES]; /* the P of the empty regions */
    const char *what;            /* empty, dirty, sweep, short, or NULL for all */
} reg_cfg;

static inline size_t reg_mem_total(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    size_t kib = 0;
    char line[256];
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %zu kB", &kib) == 1)
            break;
    fclose(f);
    return kib * 1024;
}

/* The options (bench_parse's, and --team); exits on a bad one. */
static inline reg_cfg reg_setup(int argc, char **argv, const char *usage)
{
    reg_cfg c;
    memset(&c, 0, sizeof c);
    int n = 0;
    for (int i = 0; i < argc; i++) { /* --team is this program's own */
        if (i > 0 && !strcmp(argv[i], "--team"))
            c.team = 1;
        else
            argv[n++] = argv[i];
    }
    bench_opts o = {REG_MEMBERS, REG_REPS, 0, 0, 0.0, NULL, NULL};
    bench_parse(n, argv, &o, usage);
    c.m = o.members;
    c.reps = o.reps;
    c.what = o.what;
    if (c.what && strcmp(c.what, "empty") && strcmp(c.what, "dirty") && strcmp(c.what, "sweep") &&
        strcmp(c.what, "short")) {
        fprintf(stderr, "unknown test '%s'\n%s", c.what, usage);
        exit(2);
    }
    if (c.m < 2 || c.m > 1024) {
        fprintf(stderr, "--members must be 2..1024 (a team of one has no region to measure)\n");
        exit(2);
    }
    size_t total = reg_mem_total();
    c.sizes[c.nsizes++] = 0;
    c.sizes[c.nsizes++] = 64 * REG_MIB;
    c.sizes[c.nsizes++] = 256 * REG_MIB;
    if (total >= ((size_t)8 << 30))
        c.sizes[c.nsizes++] = (size_t)1 << 30;
    if (o.large && total >= ((size_t)32 << 30))
        c.sizes[c.nsizes++] = (size_t)4 << 30;
    return c;
}

static inline int reg_want(const reg_cfg *c, const char *what)
{
    return !c->what || !strcmp(c->what, what);
}

/* touched private memory of @p bytes (NULL for 0 bytes); exits when there is none */
static inline char *reg_private(size_t bytes)
{
    if (!bytes)
        return NULL;
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    for (size_t off = 0; off < bytes; off += REG_PAGE)
        p[off] = 1;
    return p;
}

static inline void reg_release(char *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}

/* one byte per page of the first @p bytes */
static inline void reg_write(char *p, size_t bytes, char v)
{
    for (size_t off = 0; off < bytes; off += REG_PAGE)
        p[off] = v;
}

/* the sweep's work on one element */
static inline void reg_sweep_one(double *a, long i)
{
    a[i] = a[i] * 0.999 + 1.0;
}

/* the short region's work on one element: REG_SHORT_ITERS dependent steps */
static inline void reg_short_one(double *a, long i, long scalar)
{
    double x = a[i] + (double)scalar;
    for (int k = 0; k < REG_SHORT_ITERS; k++)
        x = x * 0.9999 + 0.5;
    a[i] = x * 1e-3;
}

/* one result line of times in seconds, as microseconds; @p param a size, or "-" if < 0 */
static inline void reg_emit(const char *fig, const char *impl, int m, long long param, double *t,
                            int reps)
{
    char p[32];
    snprintf(p, sizeof p, "%lld", param);
    bench_emit("regions", fig, impl, m, param < 0 ? NULL : p,
               bench_stats_scale(bench_stats_of(t, reps), 1e6), "us", reps);
}

/* "Key:   1234 kB" of a /proc/self file, in kB (-1 if absent); open and read only, so
   that it may run in any member */
static inline long reg_proc_kb(const char *file, const char *key)
{
    char buf[8192];
    int fd = open(file, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n, len = 0;
    while (len < (ssize_t)sizeof buf - 1 &&
           (n = read(fd, buf + len, sizeof buf - 1 - (size_t)len)) > 0)
        len += n;
    close(fd);
    buf[len > 0 ? len : 0] = '\0';
    size_t kl = strlen(key);
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, key, kl) && l[kl] == ':')
            return strtol(l + kl + 1, NULL, 10);
    return -1;
}

#endif /* FMP_BENCH_REGIONS_H */
