/* bench/floor_fmp.c: the fork floor, and what the master's memory does to a region.
 *
 *   floor_fmp [--members N] [--reps R] [--size large]
 *
 * For a team of N members:
 *  - "empty region": bare fork of N-1 children that _exit(0) at once, reaped with
 *    waitpid (impl bare: the physical floor), an empty FMP_PARALLEL(N) (impl fork, in
 *    FMP_REGION's mode: warm members by default) and an empty fmp_team_run on a
 *    persistent team (team); bare and FMP_PARALLEL take turns by blocks of 3, with one
 *    untimed region after each block of bare forks (which write-protect the master's
 *    pages: the region after them would pay faults that no region pays in a program
 *    that does not fork between regions);
 *  - the same while the master holds 10 MiB, 1 GiB and 4 GiB of touched private memory
 *    (mmap'd, written), and then the same sizes of touched shared memory
 *    (fmp_shared_alloc): fork copies the page tables of private memory, not those of
 *    shared memory;
 *  - "first write after a region": the master writes one byte per page of its private
 *    memory right after an empty FMP_PARALLEL (every page was write-protected by the
 *    fork and faults once more), against the same writes with no fork before them;
 *  - "members read shared memory": a region in which the members read their static
 *    share of the shared block, one word per page: the page faults a child of a fresh
 *    fork pays on shared memory, against a persistent team whose members mapped it in
 *    an earlier run;
 *  - "futex round trip": two processes passing a turn through a futex word in shared
 *    memory (how forkmp's passive waits hand over), against two threads doing the same
 *    on a private futex (how libgomp's do): the floor under passive-policy figures.
 * Sizes that do not fit in MemAvailable are halved until they do, with a note. */
#include <forkmp.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static const char usage[] =
    "usage: floor_fmp [--members N] [--reps R] [--size large] [empty]\n"
    "  empty: only the empty region without extra memory (and its page faults)\n";

#define PAGE 4096

static int g_members;
static fmp_team *g_team;

static double fork_region(int n)
{
    double t0 = bench_now();
    FMP_PARALLEL(n) {
    }
    return bench_now() - t0;
}

static void empty_body(void *arg)
{
    (void)arg;
}

static double team_region(void)
{
    double t0 = bench_now();
    bench_check(fmp_team_run(g_team, empty_body, NULL, 0), "fmp_team_run");
    return bench_now() - t0;
}

static void touch(char *p, size_t bytes, char v)
{
    for (size_t off = 0; off < bytes; off += PAGE)
        p[off] = v;
}

/* members read their share of a shared block: one word per page */
typedef struct reader {
    const volatile char *p;
    size_t pages;
} reader;

static void read_share(const reader *r)
{
    long local = 0, sum = 0;
    FMP_FOR(pg, 0, (long)r->pages, fmp_static(0))
        local += r->p[(size_t)pg * PAGE];
    fmp_reduce(&local, &sum, 1, FMP_LONG, FMP_SUM);
}

static void read_body(void *arg)
{
    read_share(arg);
}

static double fork_read(const reader *r, int n)
{
    double t0 = bench_now();
    FMP_PARALLEL(n) {
        read_share(r);
    }
    return bench_now() - t0;
}

static double team_read(const reader *r)
{
    double t0 = bench_now();
    bench_check(fmp_team_run(g_team, read_body, r, sizeof *r), "fmp_team_run");
    return bench_now() - t0;
}

/* Repetitions: `reps` at most, but stop after 3 once `budget` seconds went on one
   figure (a size whose forks or page faults are slow on this machine). */
static double g_budget;
static double g_started;

#define BLOCK 3 /* regions of one side in a row (measure_empty) */

static int more(int r, int reps)
{
    if (r == 0)
        g_started = bench_now();
    return r < reps && (r < 3 || bench_now() - g_started < g_budget);
}

static void emit_us(const char *fig, const char *impl, size_t bytes, double *v, int reps)
{
    char param[32];
    snprintf(param, sizeof param, "%zu", bytes);
    bench_emit("floor", fig, impl, g_members, param,
               bench_stats_scale(bench_stats_of(v, reps), 1e6), "us", reps);
}

/* Idle members of the persistent team spin for a while after a run (as libgomp's
   threads do): let them fall asleep before timing forks. */
static void let_team_sleep(void)
{
    usleep(50000);
}

/* minor page faults so far: of this process, and of its reaped children */
static void faults(long *self, long *children)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *self = ru.ru_minflt;
    getrusage(RUSAGE_CHILDREN, &ru);
    *children = ru.ru_minflt;
}

static void emit_faults(const char *impl, size_t bytes, const char *who, long total, int reps)
{
    char param[32], fig[64];
    snprintf(param, sizeof param, "%zu", bytes);
    snprintf(fig, sizeof fig, "page faults per region, %s", who);
    double v = reps > 0 ? (double)total / reps : 0.0;
    bench_stats s = {v, v, v};
    bench_emit("floor", fig, impl, g_members, param, s, "faults", reps);
}

/* v[from..to) timed by fn (a team of g_members), the page faults of this process and of
   its reaped children added to *self and *kids */
static void timed_block(double (*fn)(int), double *v, int from, int to, long *self, long *kids)
{
    long s0, c0, s1, c1;
    for (int i = from; i < to; i++) {
        faults(&s0, &c0);
        v[i] = fn(g_members);
        faults(&s1, &c1);
        *self += s1 - s0;
        *kids += c1 - c0;
    }
}

static void measure_empty(const char *fig, size_t bytes, int reps, double *a, double *b, double *c)
{
    int r, k;
    long bare_self = 0, bare_kids = 0, fork_self = 0, fork_kids = 0;
    let_team_sleep();
    /* the two sides take turns by blocks of BLOCK: a bare fork write-protects every page
       of the master (copy on write), and the first region after it pays the faults on
       the pages it writes, which a program that does not fork between its regions never
       pays; so one region, untimed, follows each block of bare forks */
    for (r = 0; more(r, reps);) {
        int end = r + BLOCK < reps ? r + BLOCK : reps;
        timed_block(bench_bare_fork, a, r, end, &bare_self, &bare_kids);
        fork_region(g_members);
        timed_block(fork_region, b, r, end, &fork_self, &fork_kids);
        r = end;
    }
    for (k = 0; more(k, reps); k++)
        c[k] = team_region();
    emit_us(fig, "bare", bytes, a, r);
    emit_us(fig, "fork", bytes, b, r);
    emit_us(fig, "team", bytes, c, k);
    if (!strstr(fig, "private"))
        return;
    emit_faults("bare", bytes, "master", bare_self, r);
    emit_faults("fork", bytes, "master", fork_self, r);
    emit_faults("bare", bytes, "children", bare_kids, r);
    emit_faults("fork", bytes, "children", fork_kids, r);
}

/* sizes to try: 0 (the floor itself), 10 MiB, 1 GiB, 4 GiB (and 16 GiB with large) */
static size_t fit(size_t want, size_t avail)
{
    size_t room = avail > (size_t)1 << 30 ? (avail - ((size_t)1 << 30)) / 10 * 7 : 0;
    size_t s = want;
    while (s > room && s > 10 * (size_t)BENCH_MIB)
        s /= 2;
    return s;
}

/* ---- futex round trips: processes (shared futex) against threads (private futex) */
#define PINGPONG_ROUNDS 2000

typedef struct pp {
    _Atomic uint32_t *word;
    int op_flag; /* 0 or FUTEX_PRIVATE_FLAG */
} pp;

/* wait for the turn `me`, hand it to the other side; `rounds` times */
static void pingpong(const pp *p, uint32_t me, long rounds)
{
    for (long r = 0; r < rounds; r++) {
        uint32_t v;
        while ((v = atomic_load(p->word)) != me)
            syscall(SYS_futex, (uint32_t *)p->word, FUTEX_WAIT | p->op_flag, v, NULL, NULL, 0);
        atomic_store(p->word, 1 - me);
        syscall(SYS_futex, (uint32_t *)p->word, FUTEX_WAKE | p->op_flag, 1, NULL, NULL, 0);
    }
}

static void *pp_thread(void *arg)
{
    pingpong(arg, 1, PINGPONG_ROUNDS);
    return NULL;
}

/* seconds per round trip (two hand-overs) */
static double round_trip(int threads)
{
    _Atomic uint32_t *w =
        mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (w == MAP_FAILED)
        return 0.0;
    atomic_store(w, 0);
    pp p = {w, threads ? FUTEX_PRIVATE_FLAG : 0};
    double t0 = bench_now(), t = 0.0;
    if (threads) {
        pthread_t th;
        if (pthread_create(&th, NULL, pp_thread, &p) == 0) {
            pingpong(&p, 0, PINGPONG_ROUNDS);
            pthread_join(th, NULL);
            t = bench_now() - t0;
        }
    } else {
        pid_t pid = fork();
        if (pid == 0) {
            pingpong(&p, 1, PINGPONG_ROUNDS);
            _exit(0);
        }
        if (pid > 0) {
            pingpong(&p, 0, PINGPONG_ROUNDS);
            waitpid(pid, NULL, 0);
            t = bench_now() - t0;
        }
    }
    munmap((void *)w, PAGE);
    return t / PINGPONG_ROUNDS;
}

static void measure_round_trips(int reps, double *a, double *b)
{
    int r;
    for (r = 0; more(r, reps); r++) {
        a[r] = round_trip(0);
        b[r] = round_trip(1);
    }
    emit_us("futex round trip", "procs", 0, a, r);
    emit_us("futex round trip", "threads", 0, b, r);
}

/* seconds per page: first touch of fresh private memory, and first write after a fork */
static void page_costs(double *c_touch, double *c_cow)
{
    size_t bytes = 16 * (size_t)BENCH_MIB, pages = bytes / PAGE;
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        *c_touch = *c_cow = 0.0;
        return;
    }
    double t0 = bench_now();
    touch(p, bytes, 1);
    *c_touch = (bench_now() - t0) / (double)pages;
    bench_bare_fork(2);
    t0 = bench_now();
    touch(p, bytes, 2);
    *c_cow = (bench_now() - t0) / (double)pages;
    munmap(p, bytes);
}

/* seconds the sizes will take, roughly (fitted on a machine with slow faults): per
   page, first touches (private, shared, members reading) and first writes after a fork
   (3 of them at least, and the page-table copies of the forks) */
static double estimate(const size_t *sizes, int n, double c_touch, double c_cow)
{
    double t = 0.0;
    for (int i = 0; i < n; i++) {
        double pages = (double)sizes[i] / PAGE;
        t += pages * (3.0 * c_touch + 5.0 * c_cow);
    }
    return t;
}

int main(int argc, char **argv)
{
    bench_opts o = {0, 9, 0, 0, 0.0, NULL, NULL};
    bench_parse(argc, argv, &o, usage);
    g_members = o.members;
    if (o.what && strcmp(o.what, "empty")) {
        fputs(usage, stderr);
        return 2;
    }
    if (g_members < 2 || g_members > 4096) {
        fprintf(stderr, "floor_fmp: --members must be 2..4096 (a team of one forks nothing)\n");
        return 2;
    }
    int reps = o.reps;
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    g_team = fmp_team_create(g_members);
    if (!g_team) {
        perror("fmp_team_create");
        return 1;
    }
    double *a = calloc((size_t)reps, sizeof *a), *b = calloc((size_t)reps, sizeof *b);
    double *c = calloc((size_t)reps, sizeof *c);
    if (!a || !b || !c)
        return 1;

    g_budget = o.large ? 20.0 : 2.0;
    if (o.what && !strcmp(o.what, "empty")) {
        measure_empty("empty region, private memory", 0, reps, a, b, c);
        bench_check(fmp_team_destroy(g_team), "fmp_team_destroy");
        free(a);
        free(b);
        free(c);
        return 0;
    }

    size_t sizes[] = {0, 10 * (size_t)BENCH_MIB, (size_t)1 << 30, (size_t)4 << 30,
                      (size_t)16 << 30};
    int nsizes = o.large ? 5 : 4;
    char want_s[32], got_s[32], avail_s[32];
    for (int i = 0; i < nsizes; i++) {
        size_t avail = bench_mem_available();
        size_t s = fit(sizes[i], avail);
        if (s != sizes[i]) {
            bench_note("floor", "%s scaled down to %s: MemAvailable is %s",
                       bench_size_name(sizes[i], want_s, sizeof want_s),
                       bench_size_name(s, got_s, sizeof got_s),
                       bench_size_name(avail, avail_s, sizeof avail_s));
        }
        sizes[i] = s;
    }
    /* A machine whose page faults are slow (a loaded host, nested virtualisation) would
       spend many minutes on the largest sizes: scale them down to stay within the time
       limit, and say so. */
    double c_touch, c_cow;
    page_costs(&c_touch, &c_cow);
    double limit = o.large ? 900.0 : 60.0;
    bench_note("floor",
               "page fault costs here: first touch %.2f us, first write after a "
               "fork %.2f us per 4 KiB page",
               c_touch * 1e6, c_cow * 1e6);
    /* halve every size from 1 GiB up together, so that the curve keeps its shape */
    size_t orig = sizes[nsizes - 1];
    while (estimate(sizes, nsizes, c_touch, c_cow) > limit && sizes[2] > 4 * sizes[1])
        for (int i = 2; i < nsizes; i++)
            sizes[i] /= 2;
    if (sizes[nsizes - 1] != orig) {
        char list[160] = "";
        for (int i = 2; i < nsizes; i++) {
            char one[32];
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i > 2 ? ", " : "",
                     bench_size_name(sizes[i], one, sizeof one));
        }
        bench_note("floor",
                   "the sizes from 1 GiB up were scaled down to %s: at these page "
                   "fault costs they would take more than %.0f s (a typical machine "
                   "takes 0.1-0.5 us a fault)",
                   list, limit);
    }
    for (int i = 1; i < nsizes; i++) /* sizes equal after scaling: measure once */
        if (sizes[i] == sizes[i - 1]) {
            for (int j = i; j + 1 < nsizes; j++)
                sizes[j] = sizes[j + 1];
            nsizes--;
            i--;
        }

    /* ---- the floor under passive waits */
    measure_round_trips(reps, a, b);

    /* ---- private memory */
    for (int i = 0; i < nsizes; i++) {
        size_t bytes = sizes[i];
        char *p = NULL;
        if (bytes) {
            p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                bench_note("floor", "mmap of %zu bytes failed: size skipped", bytes);
                continue;
            }
            touch(p, bytes, 1);
        }
        fprintf(stderr, "floor: %d members, private %zu bytes\n", g_members, bytes);
        measure_empty("empty region, private memory", bytes, reps, a, b, c);
        if (bytes) {
            int r;
            for (r = 0; more(r, reps); r++) {
                FMP_PARALLEL(g_members) {
                }
                double t0 = bench_now();
                touch(p, bytes, (char)r);
                a[r] = bench_now() - t0;
                t0 = bench_now();
                touch(p, bytes, (char)(r + 1));
                b[r] = bench_now() - t0;
            }
            emit_us("first write after a region", "fork", bytes, a, r);
            emit_us("first write after a region", "nofork", bytes, b, r);
            munmap(p, bytes);
        }
    }

    /* ---- shared memory */
    for (int i = 1; i < nsizes; i++) {
        size_t bytes = sizes[i];
        char *p = fmp_shared_alloc(bytes);
        if (!p) {
            bench_note("floor",
                       "fmp_shared_alloc of %zu bytes failed (FMP_SHARED_SIZE?): "
                       "size skipped",
                       bytes);
            continue;
        }
        touch(p, bytes, 1);
        fprintf(stderr, "floor: %d members, shared %zu bytes\n", g_members, bytes);
        measure_empty("empty region, shared memory", bytes, reps, a, b, c);
        reader rd = {p, bytes / PAGE};
        int r, k;
        let_team_sleep();
        for (r = 0; more(r, reps); r++)
            a[r] = fork_read(&rd, g_members);
        team_read(&rd); /* the team's members map the block once */
        for (k = 0; more(k, reps); k++)
            b[k] = team_read(&rd);
        emit_us("members read shared memory", "fork", bytes, a, r);
        emit_us("members read shared memory", "team", bytes, b, k);
        fmp_shared_free(p);
    }
    bench_check(fmp_team_destroy(g_team), "fmp_team_destroy");
    free(a);
    free(b);
    free(c);
    return 0;
}
