/* check_alloc_prog: the records of libforkmp_check.so (src/check/alloc.h), seen through its
 * API, which this program finds with dlsym(RTLD_DEFAULT, ...) as libforkmp does.  Run by
 * tests/check_alloc.sh.
 *
 *   check_alloc_prog           with the library preloaded: every allocation function's
 *                              record (start, size, generation, a stack that starts in the
 *                              function that allocated) found from an interior address;
 *                              a block allocated inside backtrace (no stack); free;
 *                              200000 blocks, half freed; 4 threads at once; fork()
 *                              while other threads allocate; addresses outside the heap;
 *                              the library's own memory; private mappings (mmap, munmap,
 *                              mremap in place and moved, MREMAP_DONTUNMAP, MAP_FIXED;
 *                              2 threads mapping at once, a signal handler that maps,
 *                              6000 at once); the runtime's code given
 *                              (fmp_check_runtime_code: its blocks record their caller
 *                              alone); the cost of a malloc/free pair
 *   check_alloc_prog --absent  without it: the API is absent and allocation works
 *
 * Prints "check_alloc: ok" at the end and exits 0 when every check held; each failed
 * check is a line "FAIL ..." on stderr and the exit status is 1. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check/alloc.h"

static fmp_check_block_at_fn *block_at;
static fmp_check_generation_fn *generation;
static fmp_check_own_memory_fn *own_memory;
static fmp_check_live_blocks_fn *live_blocks;

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "FAIL line %d: %s: ", __LINE__, #cond);                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* ---------------------------------------------------------------- allocation sites */

/* Each allocates in a frame of its own (no inlining, no clone under another name, no tail
   call), exported (-export-dynamic) so that dladdr names it. */
#ifdef __clang__
#define SITE __attribute__((noinline))
#else
#define SITE __attribute__((noinline, noclone))
#endif
#define NO_TAIL_CALL __asm__ volatile("" ::: "memory")

void *site_malloc(size_t n);
void *site_calloc(size_t n, size_t size);
void *site_realloc(void *p, size_t n);
void *site_reallocarray(void *p, size_t n, size_t size);
void *site_posix_memalign(size_t align, size_t n);
void *site_aligned_alloc(size_t align, size_t n);
void *site_memalign(size_t align, size_t n);
void *site_valloc(size_t n);
void *site_pvalloc(size_t n);
char *site_strdup(const char *s);

SITE void *site_malloc(size_t n)
{
    void *p = malloc(n);
    NO_TAIL_CALL;
    return p;
}

SITE void *site_calloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    NO_TAIL_CALL;
    return p;
}

SITE void *site_realloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    NO_TAIL_CALL;
    return q;
}

SITE void *site_reallocarray(void *p, size_t n, size_t size)
{
    void *q = reallocarray(p, n, size);
    NO_TAIL_CALL;
    return q;
}

SITE void *site_posix_memalign(size_t align, size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, align, n))
        p = NULL;
    NO_TAIL_CALL;
    return p;
}

SITE void *site_aligned_alloc(size_t align, size_t n)
{
    void *p = aligned_alloc(align, n);
    NO_TAIL_CALL;
    return p;
}

SITE void *site_memalign(size_t align, size_t n)
{
    void *p = memalign(align, n);
    NO_TAIL_CALL;
    return p;
}

SITE void *site_valloc(size_t n)
{
    void *p = valloc(n);
    NO_TAIL_CALL;
    return p;
}

SITE void *site_pvalloc(size_t n)
{
    void *p = pvalloc(n);
    NO_TAIL_CALL;
    return p;
}

/* libc allocates for strdup: the record's stack starts in libc, then here */
SITE char *site_strdup(const char *s)
{
    char *p = strdup(s);
    NO_TAIL_CALL;
    return p;
}

void *site_mmap(size_t n, int flags);
void *site_mmap_at(void *at, size_t n);

SITE void *site_mmap(size_t n, int flags)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
    NO_TAIL_CALL;
    return p;
}

SITE void *site_mmap_at(void *at, size_t n)
{
    void *p = mmap(at, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    NO_TAIL_CALL;
    return p;
}

/* ---------------------------------------------------------------- helpers */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Whether pc lies inside the exported function fn, named name. */
static int pc_in(void *pc, void *fn, const char *name)
{
    Dl_info info;
    if (!pc || !dladdr(pc, &info) || !info.dli_sname)
        return 0;
    return info.dli_saddr == fn && strcmp(info.dli_sname, name) == 0;
}

static const char *pc_name(void *pc)
{
    Dl_info info;
    if (pc && dladdr(pc, &info) && info.dli_sname)
        return info.dli_sname;
    return "?";
}

/* The block at p, of size n (n >= 1), allocated in generation gen by site (named name):
   found from its start, an interior address and its last byte, with that start, size,
   generation and a stack whose first return address is in site; the byte after it is not
   in it. */
static void check_block(const char *what, void *p, size_t n, unsigned long gen, void *site,
                        const char *name)
{
    fmp_check_block b;
    uintptr_t a = (uintptr_t)p;
    const uintptr_t probes[3] = {a, a + n / 2, a + n - 1};
    CHECK(p != NULL, "%s: allocation failed", what);
    if (!p)
        return;
    for (int i = 0; i < 3; i++) {
        memset(&b, 0, sizeof b);
        int found = block_at(probes[i], &b);
        CHECK(found, "%s: no block holds %p (start %p, size %zu)", what, (void *)probes[i], p, n);
        if (!found)
            continue;
        CHECK(b.start == a, "%s: block at %p starts at %#lx, not %p", what, (void *)probes[i],
              (unsigned long)b.start, p);
        CHECK(b.size == n, "%s: size %zu, not %zu", what, b.size, n);
        CHECK(b.gen == gen, "%s: generation %lu, not %lu", what, b.gen, gen);
        CHECK(b.depth >= 2 && b.depth <= FMP_CHECK_STACK_MAX, "%s: depth %d", what, b.depth);
        CHECK(pc_in(b.stack[0], site, name), "%s: stack[0] %p is in %s, not in %s", what,
              b.stack[0], pc_name(b.stack[0]), name);
    }
    if (block_at(a + n, &b))
        CHECK(b.start != a, "%s: the byte after the block (%p) is in it", what, (void *)(a + n));
}

/* No block holds a (a freed block's start) or a + 1. */
static void check_gone(const char *what, uintptr_t a)
{
    fmp_check_block b;
    CHECK(!block_at(a, &b), "%s: %#lx still has a block (start %#lx, size %zu)", what,
          (unsigned long)a, (unsigned long)b.start, b.size);
    CHECK(!block_at(a + 1, &b), "%s: %#lx + 1 still has a block", what, (unsigned long)a);
}

/* free(p), and p's block is gone. */
static void free_gone(const char *what, void *p)
{
    uintptr_t a = (uintptr_t)p;
    free(p);
    check_gone(what, a);
}

/* A size past what can be allocated, an alignment that is no power of 2: hidden from the
   compiler's checks. */
static volatile size_t huge = SIZE_MAX / 2, odd = 3;

/* ---------------------------------------------------------------- each function */

static void test_sites(void)
{
    fmp_check_block b;
    unsigned long g = generation(0);

    char *m = site_malloc(100);
    check_block("malloc", m, 100, g, (void *)site_malloc, "site_malloc");
    unsigned long g2 = generation(1);
    CHECK(g2 == g + 1, "generation(1) gave %lu after %lu", g2, g);
    CHECK(generation(0) == g2, "generation(0) is %lu after generation(1) gave %lu", generation(0),
          g2);
    char *m2 = site_malloc(100);
    check_block("malloc before the bump", m, 100, g, (void *)site_malloc, "site_malloc");
    check_block("malloc after the bump", m2, 100, g2, (void *)site_malloc, "site_malloc");
    CHECK(malloc_usable_size(m) >= 100, "malloc_usable_size %zu", malloc_usable_size(m));
    free_gone("malloc, freed", m);
    free_gone("malloc, freed", m2);
    g = g2;

    char *c = site_calloc(10, 30);
    check_block("calloc", c, 300, g, (void *)site_calloc, "site_calloc");
    int zero = 1;
    for (int i = 0; c && i < 300; i++)
        zero &= c[i] == 0;
    CHECK(zero, "calloc's block is not zero");
    free_gone("calloc, freed", c);
    errno = 0;
    CHECK(calloc(huge, 4) == NULL && errno == ENOMEM, "calloc overflow: errno %d", errno);

    /* realloc: grown so that it moves (a block right behind it stops it growing in place) */
    char *r = site_malloc(64);
    char *blocker = site_malloc(64);
    memset(r, 7, 64);
    g = generation(1);
    uintptr_t r_at = (uintptr_t)r;
    char *r2 = site_realloc(r, (size_t)1 << 20);
    CHECK((uintptr_t)r2 != r_at, "realloc to 1 MiB did not move the block");
    CHECK(r2 && r2[63] == 7, "realloc lost the contents");
    check_block("realloc, grown", r2, (size_t)1 << 20, g, (void *)site_realloc, "site_realloc");
    if ((uintptr_t)r2 != r_at)
        check_gone("realloc's old block", r_at);
    g = generation(1);
    uintptr_t r2_at = (uintptr_t)r2;
    char *r3 = site_realloc(r2, 100);
    check_block("realloc, shrunk", r3, 100, g, (void *)site_realloc, "site_realloc");
    if ((uintptr_t)r3 != r2_at)
        check_gone("realloc's old block", r2_at);
    char *r4 = site_realloc(r3, 50); /* in place, most likely: the record is new all the same */
    check_block("realloc, shrunk again", r4, 50, g, (void *)site_realloc, "site_realloc");
    errno = 0;
    CHECK(site_realloc(r4, huge) == NULL && errno == ENOMEM, "realloc to SIZE_MAX / 2");
    check_block("realloc, failed", r4, 50, g, (void *)site_realloc, "site_realloc");
    uintptr_t r4_at = (uintptr_t)r4;
    CHECK(site_realloc(r4, 0) == NULL, "realloc(p, 0) returned a block");
    check_gone("realloc(p, 0)", r4_at);
    char *r5 = site_realloc(NULL, 77);
    check_block("realloc(NULL, n)", r5, 77, g, (void *)site_realloc, "site_realloc");
    free(r5);
    free(blocker);

    char *ra = site_reallocarray(NULL, 10, 24);
    check_block("reallocarray", ra, 240, g, (void *)site_reallocarray, "site_reallocarray");
    errno = 0;
    CHECK(site_reallocarray(ra, huge, 4) == NULL && errno == ENOMEM,
          "reallocarray overflow: errno %d", errno);
    check_block("reallocarray, failed", ra, 240, g, (void *)site_reallocarray, "site_reallocarray");
    free_gone("reallocarray, freed", ra);

    void *pm = site_posix_memalign(256, 1000);
    CHECK(((uintptr_t)pm & 255) == 0, "posix_memalign: %p not aligned to 256", pm);
    check_block("posix_memalign", pm, 1000, g, (void *)site_posix_memalign, "site_posix_memalign");
    free_gone("posix_memalign, freed", pm);
    void *bad = NULL;
    CHECK(posix_memalign(&bad, 3 * sizeof(void *), 24) == EINVAL, "posix_memalign, align 24");
    CHECK(posix_memalign(&bad, 0, 24) == EINVAL, "posix_memalign, align 0");
    CHECK(posix_memalign(&bad, sizeof(void *) / 2, 24) == EINVAL, "posix_memalign, align 4");

    void *aa = site_aligned_alloc(64, 200);
    CHECK(((uintptr_t)aa & 63) == 0, "aligned_alloc: %p not aligned to 64", aa);
    check_block("aligned_alloc", aa, 200, g, (void *)site_aligned_alloc, "site_aligned_alloc");
    free_gone("aligned_alloc, freed", aa);
    errno = 0;
    CHECK(aligned_alloc(odd, 24) == NULL && errno == EINVAL, "aligned_alloc, align 3: errno %d",
          errno);

    void *ma = site_memalign(4096, 10);
    CHECK(((uintptr_t)ma & 4095) == 0, "memalign: %p not aligned to 4096", ma);
    check_block("memalign", ma, 10, g, (void *)site_memalign, "site_memalign");
    free(ma);
    void *va = site_valloc(5000);
    check_block("valloc", va, 5000, g, (void *)site_valloc, "site_valloc");
    free(va);
    void *pv = site_pvalloc(5000);
    check_block("pvalloc", pv, 5000, g, (void *)site_pvalloc, "site_pvalloc");
    free_gone("pvalloc, freed", pv);

    /* malloc(0): found at its start only */
    void *z = site_malloc(0);
    CHECK(block_at((uintptr_t)z, &b) && b.start == (uintptr_t)z && b.size == 0,
          "malloc(0): not found at its start");
    CHECK(!block_at((uintptr_t)z + 1, &b) || b.start != (uintptr_t)z, "malloc(0): %p + 1 in it", z);
    free(z);

    /* libc's own call to malloc: interposed, its stack starts in libc */
    char *s = site_strdup("allocated by libc");
    CHECK(block_at((uintptr_t)s + 3, &b) && b.start == (uintptr_t)s && b.size == 18,
          "strdup: block not found");
    CHECK(b.depth >= 2 && pc_in(b.stack[1], (void *)site_strdup, "site_strdup"),
          "strdup: stack[1] %p is in %s, not in site_strdup", b.stack[1], pc_name(b.stack[1]));
    free(s);
}

/* ---------------------------------------------------------------- many blocks */

#define MANY 200000

static void test_many(double *lookup_ns)
{
    char **ptrs = malloc(MANY * sizeof *ptrs);
    size_t *sizes = malloc(MANY * sizeof *sizes);
    fmp_check_block b;
    long live0 = live_blocks();
    for (long i = 0; i < MANY; i++) {
        /* mostly small, some past the mmap threshold */
        sizes[i] = i % 5000 == 4999 ? 200000 + (size_t)i : 1 + (size_t)(i * 37 % 2000);
        ptrs[i] = malloc(sizes[i]);
    }
    long live1 = live_blocks();
    CHECK(live1 == live0 + MANY, "%ld blocks live after %d mallocs, %ld before", live1, MANY,
          live0);
    for (long i = 1; i < MANY; i += 2)
        free(ptrs[i]);
    long live2 = live_blocks();
    CHECK(live2 == live0 + MANY / 2, "%ld blocks live after freeing %d, %ld before", live2,
          MANY / 2, live0);

    long bad = 0, found = 0;
    double t0 = now_ns();
    for (long i = 0; i < MANY; i++) {
        uintptr_t a = (uintptr_t)ptrs[i];
        uintptr_t probe = a + (size_t)i % sizes[i];
        if (i % 2 == 0) {
            found++;
            if (!block_at(probe, &b) || b.start != a || b.size != sizes[i])
                bad++;
        } else if (block_at(a, &b)) {
            bad++;
        }
    }
    *lookup_ns = (now_ns() - t0) / MANY;
    CHECK(bad == 0, "%ld of %d lookups wrong (%ld of live blocks)", bad, MANY, found);

    /* just past each live block's end: in no block, or in one that holds it */
    bad = 0;
    for (long i = 0; i < MANY; i += 2) {
        uintptr_t past = (uintptr_t)ptrs[i] + sizes[i];
        if (block_at(past, &b) && (b.start > past || past - b.start >= b.size))
            bad++;
    }
    CHECK(bad == 0, "%ld lookups past a block's end found a block that does not hold them", bad);
    for (long i = 0; i < MANY; i += 2)
        free(ptrs[i]);
    CHECK(live_blocks() == live0, "%ld blocks live after freeing all, %ld before", live_blocks(),
          live0);
    free(sizes);
    free(ptrs);
}

/* ---------------------------------------------------------------- threads */

#define THREADS 4
#define ROUNDS 100000
#define KEEP 1000

typedef struct worker {
    pthread_t tid;
    int id;
    long bad;
    void *keep[KEEP];
} worker;

static pthread_barrier_t barrier;

static void *worker_run(void *arg)
{
    worker *w = arg;
    void *ring[64] = {NULL};
    fmp_check_block b;
    pthread_barrier_wait(&barrier); /* all start together */
    for (int i = 0; i < ROUNDS; i++) {
        int k = i & 63;
        free(ring[k]);
        size_t n = 16 + (size_t)((i * 7 + w->id) % 500);
        ring[k] = malloc(n);
        if (i % 61 == 0 &&
            (!block_at((uintptr_t)ring[k] + n - 1, &b) || b.start != (uintptr_t)ring[k]))
            w->bad++;
    }
    for (int k = 0; k < 64; k++)
        free(ring[k]);
    for (int i = 0; i < KEEP; i++)
        w->keep[i] = malloc(8 + (size_t)i);
    pthread_barrier_wait(&barrier); /* done */
    pthread_barrier_wait(&barrier); /* main has counted */
    return NULL;
}

static void test_threads(void)
{
    static worker w[THREADS];
    fmp_check_block b;
    pthread_barrier_init(&barrier, NULL, THREADS + 1);
    for (int t = 0; t < THREADS; t++) {
        w[t].id = t;
        pthread_create(&w[t].tid, NULL, worker_run, &w[t]);
    }
    long before = live_blocks();
    pthread_barrier_wait(&barrier);
    pthread_barrier_wait(&barrier);
    long after = live_blocks();
    CHECK(after - before == THREADS * KEEP, "%ld blocks more after the threads, not %d",
          after - before, THREADS * KEEP);
    long bad = 0;
    for (int t = 0; t < THREADS; t++) {
        CHECK(w[t].bad == 0, "thread %d: %ld lookups of its own blocks wrong", t, w[t].bad);
        for (int i = 0; i < KEEP; i++)
            if (!block_at((uintptr_t)w[t].keep[i] + 7 + (size_t)i, &b) ||
                b.start != (uintptr_t)w[t].keep[i] || b.size != 8 + (size_t)i)
                bad++;
    }
    CHECK(bad == 0, "%ld blocks of the threads not found", bad);
    pthread_barrier_wait(&barrier);
    for (int t = 0; t < THREADS; t++) {
        pthread_join(w[t].tid, NULL);
        for (int i = 0; i < KEEP; i++)
            free(w[t].keep[i]);
    }
    pthread_barrier_destroy(&barrier);
}

/* ---------------------------------------------------------------- fork */

#define FORKS 50
#define CHURNERS 2

static atomic_int stop_churn;

/* Allocates and frees, then looks its block up many times (lookups hold the library's lock
   and not glibc's, whose locks fork() takes): a fork finds the lock held often. */
static void *churn(void *arg)
{
    fmp_check_block b;
    (void)arg;
    while (!atomic_load(&stop_churn)) {
        void *p = malloc(48);
        for (int i = 0; i < 100; i++)
            block_at((uintptr_t)p + 47, &b);
        free(p);
    }
    return NULL;
}

/* In a child: the parent's block is there, new blocks are recorded and found, no lock is
   stuck; exit status 0 or 1. */
static int child_checks(void *parents, size_t n)
{
    fmp_check_block b;
    enum { CHILD_BLOCKS = 1000 };
    static void *mine[CHILD_BLOCKS];
    int bad = 0;
    alarm(10); /* a deadlock ends the child instead of hanging the test */
    if (!block_at((uintptr_t)parents + n - 1, &b) || b.start != (uintptr_t)parents)
        bad |= 1;
    long live0 = live_blocks();
    for (int i = 0; i < CHILD_BLOCKS; i++)
        mine[i] = malloc(24 + (size_t)i);
    if (live_blocks() != live0 + CHILD_BLOCKS)
        bad |= 2;
    for (int i = 0; i < CHILD_BLOCKS; i++)
        if (!block_at((uintptr_t)mine[i] + 23 + (size_t)i, &b) || b.start != (uintptr_t)mine[i])
            bad |= 4;
    for (int i = 0; i < CHILD_BLOCKS; i++)
        free(mine[i]);
    if (live_blocks() != live0)
        bad |= 8;
    return bad;
}

static void test_fork(void)
{
    pthread_t churners[CHURNERS];
    char *parents = site_malloc(333);
    atomic_store(&stop_churn, 0);
    for (int t = 0; t < CHURNERS; t++)
        pthread_create(&churners[t], NULL, churn, NULL);
    fflush(stdout);
    fflush(stderr);
    for (int k = 0; k < FORKS; k++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(child_checks(parents, 333));
        CHECK(pid > 0, "fork: %s", strerror(errno));
        if (pid < 0)
            break;
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "fork %d: the child ended with %s %d (exit bits: 1 parent's block, 2 count, "
              "4 lookup, 8 count after free; SIGALRM: stuck)",
              k, WIFEXITED(status) ? "exit status" : "signal",
              WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            break;
    }
    atomic_store(&stop_churn, 1);
    for (int t = 0; t < CHURNERS; t++)
        pthread_join(churners[t], NULL);
    free(parents);
}

/* ---------------------------------------------------------------- inside backtrace */

/* The library's first backtrace(), in its constructor, loads libgcc_s: glibc's dlopen
   allocates the new link_map (the handle dlopen gives) with calloc, inside backtrace, where
   the library records a block without a stack.  Loaded before (a dependency of the
   program), it is not a recorded block at all. */
static void test_recursive(void)
{
    fmp_check_block b;
    void *h = dlopen("libgcc_s.so.1", RTLD_LAZY | RTLD_NOLOAD);
    if (!h) {
        printf("check_alloc: libgcc_s not loaded: the allocation inside backtrace not checked\n");
        return;
    }
    if (block_at((uintptr_t)h, &b))
        CHECK(b.depth == 0, "libgcc_s's link_map, allocated inside backtrace, has a stack of %d",
              b.depth);
    else
        printf("check_alloc: libgcc_s's link_map is not a recorded block: not checked\n");
    dlclose(h);
}

/* ---------------------------------------------------------------- outside the heap */

static int a_global = 1;

static void test_outside(void)
{
    fmp_check_block b;
    int local = 2;
    CHECK(!block_at((uintptr_t)&a_global, &b), "a global is in a block (%#lx)",
          (unsigned long)b.start);
    CHECK(!block_at((uintptr_t)&local, &b), "a stack variable is in a block (%#lx)",
          (unsigned long)b.start);
    CHECK(!block_at((uintptr_t)test_outside, &b), "code is in a block");
    CHECK(!block_at(0, &b), "address 0 is in a block");
    CHECK(!block_at(UINTPTR_MAX, &b), "the last address is in a block");
    (void)a_global;
    (void)local;
}

/* ---------------------------------------------------------------- own memory */

#define MAX_RANGES 256

/* Whether every page of [lo, hi) is mapped, from /proc/self/maps. */
static int mapped(uintptr_t lo, uintptr_t hi)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    if (!f)
        return 1; /* no /proc: nothing to say */
    uintptr_t at = lo;
    /* the lines are sorted: walk the range through them */
    while (at < hi && fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s <= at && at < e)
            at = e;
    }
    fclose(f);
    return at >= hi;
}

/* Whether the words w[0..n-1] appear, word-aligned, in one of the ranges. */
static int in_ranges(uintptr_t (*r)[2], int n, const uintptr_t *w, int nw)
{
    for (int i = 0; i < n; i++)
        for (const uintptr_t *p = (const uintptr_t *)r[i][0]; p + nw <= (const uintptr_t *)r[i][1];
             p++)
            if (p[0] == w[0] && memcmp(p, w, (size_t)nw * sizeof *w) == 0)
                return 1;
    return 0;
}

static size_t own_bytes(void)
{
    static uintptr_t r[MAX_RANGES][2];
    int n = own_memory(r, MAX_RANGES);
    size_t total = 0;
    for (int i = 0; i < n && i < MAX_RANGES; i++)
        total += r[i][1] - r[i][0];
    return total;
}

static void test_own_memory(size_t before_many, size_t after_many)
{
    static uintptr_t r[MAX_RANGES][2];
    fmp_check_block b;
    int n = own_memory(r, MAX_RANGES);
    CHECK(n >= 1, "fmp_check_own_memory gave %d ranges", n);
    CHECK(n <= MAX_RANGES, "fmp_check_own_memory gave %d ranges", n);
    CHECK(own_memory(NULL, 0) == n, "fmp_check_own_memory(NULL, 0) gave %d, not %d",
          own_memory(NULL, 0), n);
    if (n > MAX_RANGES)
        n = MAX_RANGES;
    long pg = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < n; i++) {
        CHECK(r[i][0] < r[i][1] && r[i][0] % (uintptr_t)pg == 0 && r[i][1] % (uintptr_t)pg == 0,
              "range %d [%#lx, %#lx) empty or not page-aligned", i, (unsigned long)r[i][0],
              (unsigned long)r[i][1]);
        CHECK(mapped(r[i][0], r[i][1]), "range %d [%#lx, %#lx) not mapped", i,
              (unsigned long)r[i][0], (unsigned long)r[i][1]);
        CHECK(!block_at(r[i][0], &b) && !block_at(r[i][1] - 1, &b),
              "range %d [%#lx, %#lx) is in a heap block", i, (unsigned long)r[i][0],
              (unsigned long)r[i][1]);
        for (int j = 0; j < i; j++)
            CHECK(r[i][1] <= r[j][0] || r[j][1] <= r[i][0], "ranges %d and %d overlap", i, j);
    }
    /* the tables are in it: a block's start (the hash table's key) and its stack (its
       record) are found there, and it grew with 200000 blocks */
    void *p = site_malloc(4242);
    n = own_memory(r, MAX_RANGES);
    if (n > MAX_RANGES)
        n = MAX_RANGES;
    CHECK(block_at((uintptr_t)p, &b), "no block at %p", p);
    uintptr_t key = (uintptr_t)p, stack[FMP_CHECK_STACK_MAX];
    for (int i = 0; i < b.depth; i++)
        stack[i] = (uintptr_t)b.stack[i];
    CHECK(in_ranges(r, n, &key, 1), "the start of a block is not in the own memory");
    CHECK(b.depth > 0 && in_ranges(r, n, stack, b.depth),
          "the stack of a block is not in the own memory");
    free(p);
    CHECK(after_many >= before_many + (size_t)MANY * 16,
          "own memory grew by %zu bytes only with %d blocks", after_many - before_many, MANY);
}

/* ---------------------------------------------------------------- cost */

static void *volatile sink;

/* ns per malloc(32) + free pair, called depth frames below the caller */
static double __attribute__((noinline)) pair_cost(int depth, long n)
{
    if (depth > 0) {
        double ns = pair_cost(depth - 1, n);
        NO_TAIL_CALL;
        return ns;
    }
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        sink = malloc(32);
        free(sink);
    }
    return (now_ns() - t0) / (double)n;
}

/* ---------------------------------------------------------------- the runtime's code */

struct exec_seg {
    uintptr_t addr, r[2];
};

static int exec_seg_of(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct exec_seg *x = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && x->addr - lo < ph->p_memsz) {
            x->r[0] = lo;
            x->r[1] = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

/* fmp_check_runtime_code: a block that code in the ranges allocates records its caller
   alone (libc's strdup, here), the others their whole stack; the first call's ranges are
   kept */
static void test_runtime_code(fmp_check_runtime_code_fn *runtime_code)
{
    fmp_check_block b;
    struct exec_seg libc = {.addr = (uintptr_t)dlsym(RTLD_NEXT, "strdup")},
                    self = {.addr = (uintptr_t)site_malloc};
    CHECK(dl_iterate_phdr(exec_seg_of, &libc) == 1, "libc's code segment not found");
    CHECK(dl_iterate_phdr(exec_seg_of, &self) == 1, "the program's code segment not found");
    CHECK(runtime_code(&libc.r, 1) == 0, "fmp_check_runtime_code failed");
    char *s = site_strdup("allocated by libc");
    CHECK(block_at((uintptr_t)s, &b) && b.depth == 1, "strdup: depth %d, not 1", b.depth);
    CHECK((uintptr_t)b.stack[0] - libc.r[0] < libc.r[1] - libc.r[0],
          "strdup: stack[0] %p is not in libc's code", b.stack[0]);
    free(s);
    /* the program's own allocations: their stacks, whole */
    CHECK(runtime_code(&self.r, 1) == 0, "fmp_check_runtime_code failed");
    check_block("malloc, the runtime's code given", site_malloc(40), 40, generation(0),
                (void *)site_malloc, "site_malloc");
    double t0 = now_ns();
    for (int i = 0; i < 200000; i++) {
        sink = strdup("x");
        free(sink);
    }
    printf("check_alloc: strdup+free pair, libc's code given: %.0f ns\n", (now_ns() - t0) / 200000);
}

/* ---------------------------------------------------------------- private mappings */

static fmp_check_mapping_at_fn *mapping_at;

/* the recorded mapping holding addr starts at lo and ends at hi, made at site_mmap */
static void check_mapping(const char *what, uintptr_t addr, uintptr_t lo, uintptr_t hi)
{
    fmp_check_block b;
    if (!mapping_at(addr, &b)) {
        CHECK(0, "%s: no mapping holds %#lx", what, (unsigned long)addr);
        return;
    }
    CHECK(b.start == lo && b.start + b.size == hi, "%s: [%#lx, +%zu), not [%#lx, %#lx)", what,
          (unsigned long)b.start, b.size, (unsigned long)lo, (unsigned long)hi);
    CHECK(b.depth >= 2 && pc_in(b.stack[0], (void *)site_mmap, "site_mmap"),
          "%s: stack[0] %p is in %s, not in site_mmap", what, b.stack[0], pc_name(b.stack[0]));
}

/* mmap, munmap, mremap and MAP_FIXED: the records follow the mappings */
static void test_mappings(void)
{
    fmp_check_block b;
    const size_t pg = 4096;
    unsigned long g = generation(1);
    char *p = site_mmap(16 * pg, MAP_PRIVATE);
    CHECK(p != MAP_FAILED, "mmap failed");
    uintptr_t a = (uintptr_t)p;
    check_mapping("private", a + 100, a, a + 16 * pg);
    CHECK(mapping_at(a, &b) && b.gen == g, "generation %lu, not %lu", b.gen, g);
    CHECK(!mapping_at(a + 16 * pg, &b) || b.start >= a + 16 * pg, "the page after it is in it");
    /* a hole in the middle: two records */
    CHECK(munmap(p + 4 * pg, 2 * pg) == 0, "munmap failed");
    check_mapping("before the hole", a, a, a + 4 * pg);
    check_mapping("after the hole", a + 6 * pg, a + 6 * pg, a + 16 * pg);
    CHECK(!mapping_at(a + 5 * pg, &b), "the hole is still recorded");
    /* a shared mapping fixed over a part: that part is not private any more */
    void *f = mmap(p + 10 * pg, 2 * pg, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(f == p + 10 * pg, "mmap MAP_FIXED failed");
    CHECK(!mapping_at(a + 10 * pg, &b), "a shared mapping over a private one is recorded");
    check_mapping("after the shared part", a + 12 * pg, a + 12 * pg, a + 16 * pg);
    /* mremap moves the record, its site kept */
    char *q = mremap(p, 4 * pg, 64 * pg, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED, "mremap failed");
    check_mapping("moved", (uintptr_t)q + 63 * pg, (uintptr_t)q, (uintptr_t)q + 64 * pg);
    if (q != p)
        CHECK(!mapping_at(a, &b) || b.start != a, "the old place is still recorded");
    /* shared mappings have none; private ones through mmap64 too */
    char *sh = site_mmap(pg, MAP_SHARED);
    CHECK(sh != MAP_FAILED && !mapping_at((uintptr_t)sh, &b), "a shared mapping is recorded");
    munmap(sh, pg);
    void *m64 = mmap64(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m64 != MAP_FAILED && mapping_at((uintptr_t)m64, &b), "mmap64's mapping not recorded");
    munmap(m64, pg);
    CHECK(!mapping_at((uintptr_t)m64, &b), "an unmapped mapping is still recorded");
    munmap(q, 64 * pg);
    munmap(p + 6 * pg, 10 * pg);
    CHECK(!mapping_at((uintptr_t)q, &b) && !mapping_at(a + 12 * pg, &b),
          "unmapped mappings are still recorded");
}

/* mremap as the kernel does it: each part keeps its record, only what goes loses it */
static void test_remap(void)
{
    fmp_check_block b;
    const size_t pg = 4096;
    /* MREMAP_DONTUNMAP: the old range stays mapped and recorded, the new one recorded */
    char *p = site_mmap(2 * pg, MAP_PRIVATE);
    char *q = mremap(p, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
    if (q != MAP_FAILED) { /* Linux 5.7 and later */
        check_mapping("DONTUNMAP, the old range", (uintptr_t)p, (uintptr_t)p,
                      (uintptr_t)p + 2 * pg);
        check_mapping("DONTUNMAP, the new range", (uintptr_t)q, (uintptr_t)q,
                      (uintptr_t)q + 2 * pg);
        munmap(q, 2 * pg);
    }
    munmap(p, 2 * pg);
    /* shrunk in place over a hole: the hole stays without record, the tail goes */
    p = site_mmap(4 * pg, MAP_PRIVATE);
    uintptr_t a = (uintptr_t)p;
    munmap(p + pg, pg);
    CHECK(mremap(p, 4 * pg, 3 * pg, 0) == p, "mremap shrink in place failed");
    CHECK(!mapping_at(a + pg, &b), "the hole got a record");
    check_mapping("shrunk, its page 2", a + 2 * pg, a + 2 * pg, a + 3 * pg);
    CHECK(!mapping_at(a + 3 * pg, &b), "the page shrunk away is still recorded");
    munmap(p, 3 * pg);
    /* shrunk in place, its first page shared: the private pages left keep their record */
    p = site_mmap(4 * pg, MAP_PRIVATE);
    a = (uintptr_t)p;
    CHECK(mmap(p, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == p,
          "mmap MAP_FIXED failed");
    CHECK(mremap(p, 4 * pg, 3 * pg, 0) == p, "mremap shrink in place failed");
    check_mapping("shrunk after a shared page", a + pg, a + pg, a + 3 * pg);
    munmap(p, 3 * pg);
    /* the same length in place over two mappings: nothing changes (8 pages taken, the last
       4 given back: room for it to grow in place below) */
    p = site_mmap(8 * pg, MAP_PRIVATE);
    a = (uintptr_t)p;
    munmap(p + 4 * pg, 4 * pg);
    unsigned long g = generation(1);
    CHECK(site_mmap_at(p + 2 * pg, 2 * pg) == p + 2 * pg, "mmap MAP_FIXED failed");
    CHECK(mremap(p, 4 * pg, 4 * pg, 0) == p, "mremap to the same length failed");
    CHECK(mapping_at(a + 2 * pg, &b) && b.gen == g && b.start == a + 2 * pg,
          "the second mapping's record changed");
    /* grown (in place, or moved: each record with its part): the last record grows */
    q = mremap(p, 4 * pg, 8 * pg, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED, "mremap grow failed");
    uintptr_t c = (uintptr_t)q;
    check_mapping("grown, the first part", c, c, c + 2 * pg);
    CHECK(mapping_at(c + 7 * pg, &b) && b.start == c + 2 * pg && b.size == 6 * pg && b.gen == g,
          "grown: the second part's record does not cover what grew");
    munmap(q, 8 * pg);
}

/* mmap and munmap from threads at once, each checking its own mapping's record at once */
#define RACE_ROUNDS 100000
static void *race_run(void *arg)
{
    long *bad = arg;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fmp_check_block b;
        if (p == MAP_FAILED || !mapping_at((uintptr_t)p, &b) || b.start != (uintptr_t)p ||
            b.size != 4096)
            (*bad)++;
        munmap(p, 4096);
    }
    return NULL;
}

static volatile long g_handled;
static void map_in_handler(int sig)
{
    (void)sig;
    int e = errno;
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED)
        munmap(p, 4096);
    g_handled++;
    errno = e;
}

/* threads, a signal handler that maps, more records than the first array holds */
static void test_mapping_stress(void)
{
    pthread_t th[2];
    long bad[2] = {0, 0};
    for (int t = 0; t < 2; t++)
        CHECK(pthread_create(&th[t], NULL, race_run, &bad[t]) == 0, "pthread_create failed");
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    CHECK(bad[0] + bad[1] == 0, "%ld of %d live mappings had no record or a wrong one",
          bad[0] + bad[1], 2 * RACE_ROUNDS);
    /* a handler that maps while its thread is inside the interposer: no deadlock (the
       watchdog: SIGALRM's default action ends the program) */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = map_in_handler;
    sigaction(SIGPROF, &sa, &old);
    struct itimerval it = {{0, 50}, {0, 50}}, off = {{0, 0}, {0, 0}};
    alarm(30);
    setitimer(ITIMER_PROF, &it, NULL);
    double t0 = now_ns();
    while (now_ns() - t0 < 1e9) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(p, 4096);
    }
    setitimer(ITIMER_PROF, &off, NULL);
    alarm(0);
    sigaction(SIGPROF, &old, NULL);
    printf("check_alloc: %ld signals mapped memory in their handler\n", g_handled);
    /* 6000 mappings at once: every one recorded */
    enum { N = 6000 };
    char **m = calloc(N, sizeof *m);
    CHECK(m != NULL, "calloc failed");
    long missing = 0;
    for (int i = 0; m && i < N; i++)
        m[i] = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; m && i < N; i++) {
        fmp_check_block b;
        missing += m[i] == MAP_FAILED || !mapping_at((uintptr_t)m[i], &b);
    }
    CHECK(missing == 0, "%ld of %d mappings not recorded", missing, (int)N);
    for (int i = 0; m && i < N; i++)
        munmap(m[i], 4096);
    free(m);
}

/* ---------------------------------------------------------------- main */

static void *lookup(const char *name)
{
    return dlsym(RTLD_DEFAULT, name);
}

int main(int argc, char **argv)
{
    int absent = argc > 1 && strcmp(argv[1], "--absent") == 0;
    block_at = (fmp_check_block_at_fn *)lookup("fmp_check_block_at");
    generation = (fmp_check_generation_fn *)lookup("fmp_check_generation");
    own_memory = (fmp_check_own_memory_fn *)lookup("fmp_check_own_memory");
    live_blocks = (fmp_check_live_blocks_fn *)lookup("fmp_check_live_blocks");
    mapping_at = (fmp_check_mapping_at_fn *)lookup("fmp_check_mapping_at");

    if (absent) {
        CHECK(!block_at && !generation && !own_memory && !live_blocks && !mapping_at,
              "an fmp_check_* function is there without the preload");
        /* allocation as usual */
        char *p = site_malloc(100), *q = site_calloc(4, 25);
        void *a = site_posix_memalign(64, 100);
        CHECK(p && q && a && q[99] == 0, "allocation failed");
        p = site_realloc(p, 100000);
        CHECK(p != NULL, "realloc failed");
        free(p);
        free(q);
        free(a);
        printf("check_alloc: fmp_check_* absent\n");
        printf("check_alloc: malloc+free pair without the interposer: %.0f ns\n",
               pair_cost(0, 200000));
    } else if (!block_at || !generation || !own_memory || !live_blocks || !mapping_at) {
        CHECK(0, "fmp_check_* not found: is libforkmp_check.so preloaded?");
    } else {
        CHECK(generation(0) == 1, "the first generation is %lu, not 1", generation(0));
        test_sites();
        test_recursive();
        test_outside();
        test_mappings();
        test_remap();
        test_mapping_stress();
        size_t before_many = own_bytes();
        double lookup_ns;
        test_many(&lookup_ns);
        size_t after_many = own_bytes();
        test_own_memory(before_many, after_many);
        test_threads();
        test_fork();
        double shallow = pair_cost(0, 200000), deep = pair_cost(20, 200000);
        fmp_check_runtime_code_fn *runtime_code =
            (fmp_check_runtime_code_fn *)lookup("fmp_check_runtime_code");
        CHECK(runtime_code != NULL, "fmp_check_runtime_code not found");
        if (runtime_code)
            test_runtime_code(runtime_code); /* last: it makes libc's blocks shallow */
        printf("check_alloc: malloc+free pair: %.0f ns called from main, %.0f ns 20 frames "
               "deeper\n",
               shallow, deep);
        printf("check_alloc: block lookup among %d blocks: %.0f ns\n", MANY / 2, lookup_ns);
        printf("check_alloc: %ld blocks live at the end, own memory %zu KiB\n", live_blocks(),
               own_bytes() / 1024);
    }
    if (failures) {
        printf("check_alloc: %d checks failed\n", failures);
        return 1;
    }
    printf("check_alloc: ok\n");
    return 0;
}
