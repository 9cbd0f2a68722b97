/* The shared arena: one MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE reservation made
 * before any team exists, so every process forked later has it at the same address.
 * Memory is used only when touched.  Being anonymous, it has no name in /dev/shm and
 * cannot outlive the processes that map it.
 *
 * Allocator: blocks tile [heap, top); each starts with a 64-byte header holding its
 * size and the previous block's size (boundary tags), free blocks are on one list.
 * Invariant: the user part of every free block, and everything above top, is zero,
 * so an allocation never clears memory; large blocks are given back to the kernel
 * with MADV_REMOVE when freed.  The metadata lives in the arena, under a robust
 * process-shared mutex; every check of a block a caller hands in is made under it.
 *
 * A member may die (SIGKILL, a crash) while it holds that mutex, in the middle of an
 * edit.  The edits are ordered so that the tiling (heap to top, block by block through
 * the sizes) is always whole: a new header is written before the size that makes it
 * part of the tiling, a header that leaves the tiling is cleared after.  The next
 * locker gets EOWNERDEAD and repairs: it walks the tiling, rebuilds the free list and
 * the counters from it, merges neighbouring free blocks and zeroes what the dead edit
 * may have left in free memory.  A tiling that does not add up (memory overwritten by
 * the program) makes the arena unusable: every later allocation fails with a message,
 * rather than handing out a block twice.
 *
 * Its default size is the machine's memory, except under valgrind: memcheck's leak
 * check (on by default) reads every page of every writable mapping when a process ends,
 * each member included, and reading a page of a shared anonymous mapping makes the
 * kernel allocate it, MAP_NORESERVE or not.  The whole arena would become resident and
 * valgrind be OOM-killed; there the default is VALGRIND_ARENA, said once on stderr. */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h> /* RUNNING_ON_VALGRIND: a few no-op instructions natively */
#define FMP_HAVE_VALGRIND_H 1
#endif
#endif

#define BLK_HDR 64u
#define MIN_BLOCK 128u
#define BLK_MAGIC 0x666d7062u /* "fmpb" */
#define RELEASE_BYTES (256u * 1024u) /* freed blocks from this size go back to the kernel */
#define MIN_ARENA ((size_t)64 << 20)
#define VALGRIND_ARENA ((size_t)256 << 20) /* the default under valgrind */

typedef struct blk {
    size_t size;      /* whole block, header included, multiple of 64 */
    size_t prev_size; /* the block below, 0 for the first */
    uint32_t free;
    uint32_t magic;
    struct blk *fnext, *fprev;
} blk;
_Static_assert(sizeof(blk) <= BLK_HDR, "block header must fit 64 bytes");

typedef struct arena_hdr {
    pthread_mutex_t lock;
    char *heap, *top, *end;
    blk *free_list;
    size_t last_size; /* size of the block that ends at top */
    size_t in_use;
    int unusable;     /* the repair found the tiling broken: no more allocations */
    blk *moving;      /* the new block of a realloc that moves a block, until the old one
                         is given back: a repair after a death frees it (nobody saw it) */
    pthread_mutex_t output_lock;
    struct {
        fmp__plock l; /* all zero: free */
    } FMP__ALIGNED crit[FMP__CRIT_LOCKS];
} arena_hdr;

static char *g_base;
static size_t g_size;
static arena_hdr *g_hdr;

int fmp__robust_mutex_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    int rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return -rc;
}

int fmp__robust_lock(pthread_mutex_t *m)
{
    /* a contended critical section is short: try a while before sleeping in the kernel */
    for (int i = 0; i < 200; i++) {
        int t = pthread_mutex_trylock(m);
        if (t == 0)
            return 0;
        if (t == EOWNERDEAD) {
            pthread_mutex_consistent(m);
            return 1;
        }
        if (t != EBUSY)
            break;
        fmp__cpu_relax();
    }
    int rc = pthread_mutex_lock(m);
    if (rc == EOWNERDEAD) {
        pthread_mutex_consistent(m);
        return 1;
    }
    return rc == 0 ? 0 : -rc;
}

static int repair(void);

/* Take the allocator's lock; repair after a holder that died.  0, or -1 when the
   arena cannot be used (said once). */
static int lock_arena(void)
{
    int rc = fmp__robust_lock(&g_hdr->lock);
    if (rc < 0)
        return -1;
    if (rc == 1 && !g_hdr->unusable && repair() != 0)
        g_hdr->unusable = 1;
    if (g_hdr->unusable) {
        static int said;
        if (!said++)
            FMP__SAY(arena_unusable);
        pthread_mutex_unlock(&g_hdr->lock);
        return -1;
    }
    return 0;
}

/* valgrind says so to a client request; without its header, its preloaded libraries
   (vgpreload_core-*.so) tell. */
static int under_valgrind(void)
{
#ifdef FMP_HAVE_VALGRIND_H
    if (RUNNING_ON_VALGRIND)
        return 1;
#endif
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "/vgpreload_") != NULL;
}

static size_t default_size(void)
{
    if (under_valgrind()) {
        FMP__SAY(arena_valgrind, VALGRIND_ARENA >> 20);
        return VALGRIND_ARENA;
    }
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psz <= 0)
        return (size_t)4 << 30;
    return (size_t)pages * (size_t)psz;
}

int fmp__arena_init(void)
{
    static int failed; /* said once; later calls fail quietly */
    if (g_hdr)
        return 0;
    if (failed)
        return failed;
    size_t psz = (size_t)sysconf(_SC_PAGESIZE);
    size_t want = fmp__g_icv.shared_size ? fmp__g_icv.shared_size : default_size();
    int explicit_size = fmp__g_icv.shared_size != 0;
    want = (want + psz - 1) & ~(psz - 1);
    void *p = MAP_FAILED;
    for (;;) {
        p = mmap(NULL, want, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED || explicit_size || want / 2 < MIN_ARENA)
            break;
        want /= 2; /* RLIMIT_AS or overcommit settings: take less address space */
    }
    if (p == MAP_FAILED) {
        int e = errno;
        FMP__SAY(arena_map, want, strerror(e));
        failed = -e;
        return -e;
    }
    g_base = p;
    g_size = want;
    arena_hdr *h = p;
    fmp__robust_mutex_init(&h->lock);
    fmp__robust_mutex_init(&h->output_lock);
    size_t hdr = (sizeof(arena_hdr) + psz - 1) & ~(psz - 1);
    h->heap = h->top = g_base + hdr;
    h->end = g_base + want;
    g_hdr = h;
    return 0;
}

size_t fmp_shared_size(void)
{
    fmp__ensure_init();
    return g_size;
}

int fmp__arena_contains(const void *p)
{
    return g_hdr && (const char *)p >= g_hdr->heap && (const char *)p < g_hdr->end;
}

fmp__plock *fmp__arena_crit_lock(unsigned idx)
{
    return g_hdr ? &g_hdr->crit[idx % FMP__CRIT_LOCKS].l : NULL;
}

pthread_mutex_t *fmp__arena_output_lock(void)
{
    return g_hdr ? &g_hdr->output_lock : NULL;
}

static blk *next_blk(blk *b)
{
    return (blk *)((char *)b + b->size);
}

static void list_remove(blk *b)
{
    if (b->fprev)
        b->fprev->fnext = b->fnext;
    else
        g_hdr->free_list = b->fnext;
    if (b->fnext)
        b->fnext->fprev = b->fprev;
    b->fnext = b->fprev = NULL;
}

static void list_push(blk *b)
{
    b->fprev = NULL;
    b->fnext = g_hdr->free_list;
    if (b->fnext)
        b->fnext->fprev = b;
    g_hdr->free_list = b;
}

/* Make a block header at p (zero memory) of size sz following a block of prev_size. */
static blk *make_blk(char *p, size_t sz, size_t prev_size, int is_free)
{
    blk *b = (blk *)p;
    b->size = sz;
    b->prev_size = prev_size;
    b->free = (uint32_t)is_free;
    b->magic = BLK_MAGIC;
    b->fnext = b->fprev = NULL;
    return b;
}

static void fix_next_prev(blk *b)
{
    blk *n = next_blk(b);
    if ((char *)n < g_hdr->top)
        n->prev_size = b->size;
}

/* Offset from block start to a user pointer aligned to align, leaving room for a free
   block in front when the gap is not 0. */
static size_t lead_gap(char *start, size_t align)
{
    uintptr_t user = (uintptr_t)start + BLK_HDR;
    uintptr_t aligned = (user + align - 1) & ~(uintptr_t)(align - 1);
    size_t gap = aligned - user;
    while (gap != 0 && gap < MIN_BLOCK)
        gap += align;
    return gap;
}

/* Where a block about to be handed out is named before it is marked allocated: NULL
   for a plain allocation; a realloc's g_hdr->moving, so that a death at any store of the
   allocation leaves a block the repair frees (the kill lands between two instructions:
   a signal fence keeps the compiler from moving the name after the mark). */
static void announce(blk **at, blk *b)
{
    if (at) {
        *at = b;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
}

/* Cut the part of free block b from gap on into an allocated block of need bytes. */
static blk *carve(blk *b, size_t gap, size_t need, blk **at)
{
    list_remove(b);
    if (gap) {
        /* the new header first, then the size that makes it part of the tiling */
        blk *c = make_blk((char *)b + gap, b->size - gap, gap, 1);
        b->size = gap;
        list_push(b);
        fix_next_prev(c);
        b = c;
    }
    if (b->size - need >= MIN_BLOCK) {
        blk *t = make_blk((char *)b + need, b->size - need, need, 1);
        b->size = need;
        fix_next_prev(t);
        list_push(t);
    }
    announce(at, b);
    b->free = 0;
    return b;
}

/* Take a block of need bytes from the untouched space above top. */
static blk *from_top(size_t need, size_t align, blk **at)
{
    char *start = g_hdr->top;
    size_t gap = lead_gap(start, align);
    if ((size_t)(g_hdr->end - start) < gap + need)
        return NULL;
    if (gap) {
        blk *f = make_blk(start, gap, g_hdr->last_size, 1);
        list_push(f);
        g_hdr->last_size = gap;
        start += gap;
    }
    blk *b = make_blk(start, need, g_hdr->last_size, 0);
    announce(at, b);
    g_hdr->top = start + need;
    g_hdr->last_size = need;
    return b;
}

/* Block size and alignment for a request of bytes; -1 when it cannot fit the arena. */
static int block_size(size_t bytes, size_t *need, size_t *align)
{
    if (bytes > g_size)
        return -1;
    *need = ((bytes + 63) & ~(size_t)63) + BLK_HDR;
    if (*need < MIN_BLOCK)
        *need = MIN_BLOCK;
    *align = bytes >= 4096 ? 4096 : 64;
    return 0;
}

/* A block of need bytes whose user part is aligned to align: first fit on the free
   list, else from top, named at *at (when not NULL) before it is allocated.  Under the
   lock. */
static blk *alloc_locked(size_t need, size_t align, blk **at)
{
    blk *got = NULL;
    for (blk *b = g_hdr->free_list; b; b = b->fnext) {
        size_t gap = lead_gap((char *)b, align);
        if (gap + need <= b->size) {
            got = carve(b, gap, need, at);
            break;
        }
    }
    if (!got)
        got = from_top(need, align, at);
    if (got)
        g_hdr->in_use += got->size;
    return got;
}

void *fmp__arena_alloc(size_t bytes)
{
    if (!g_hdr && fmp__arena_init() != 0) {
        errno = ENOMEM;
        return NULL;
    }
    size_t need, align;
    if (block_size(bytes, &need, &align) != 0 || lock_arena() < 0) {
        errno = ENOMEM;
        return NULL;
    }
    blk *got = alloc_locked(need, align, NULL);
    pthread_mutex_unlock(&g_hdr->lock);
    if (!got) {
        errno = ENOMEM;
        return NULL;
    }
    return (char *)got + BLK_HDR;
}

/* Zero a block's user part; large ones go back to the kernel (read back as zero). */
static void wipe(char *p, size_t len)
{
    if (len >= RELEASE_BYTES) {
        size_t psz = (size_t)sysconf(_SC_PAGESIZE);
        char *a = (char *)(((uintptr_t)p + psz - 1) & ~(uintptr_t)(psz - 1));
        char *e = (char *)(((uintptr_t)(p + len)) & ~(uintptr_t)(psz - 1));
        if (e > a && madvise(a, (size_t)(e - a), MADV_REMOVE) == 0) {
            memset(p, 0, (size_t)(a - p));
            memset(e, 0, (size_t)(p + len - e));
            return;
        }
    }
    memset(p, 0, len);
}

/* The allocated block whose user part starts at p, or NULL: a freed block, a pointer
   into a block, anything else.  Its neighbours must agree with it (the sizes of the
   tiling), so that a stale header inside a block is not taken for one.  Under the lock:
   two members freeing one block at once find it freed. */
static blk *live_block(const void *p)
{
    if (!fmp__arena_contains(p) || ((uintptr_t)p & 63) != 0)
        return NULL;
    const char *h = (const char *)p - BLK_HDR;
    blk *b = (blk *)(uintptr_t)h;
    if (h < g_hdr->heap || h >= g_hdr->top || b->magic != BLK_MAGIC || b->free ||
        b->size < MIN_BLOCK || b->size % 64 != 0 || b->size > (size_t)(g_hdr->top - h))
        return NULL;
    if (b->prev_size) {
        const blk *pv = (const blk *)(uintptr_t)(h - b->prev_size);
        if (b->prev_size > (size_t)(h - g_hdr->heap) || pv->magic != BLK_MAGIC ||
            pv->size != b->prev_size)
            return NULL;
    } else if (h != g_hdr->heap) {
        return NULL;
    }
    return b;
}

/* Give block b back (allocated, or free and not on the list): its user part is zeroed,
   it merges with free neighbours and goes on the list, or back above top when it is the
   last.  Under the lock; in_use is the caller's.  Marked free before it is wiped: a
   death in the wipe leaves a free block, which the repair wipes, rather than a lost one. */
static void release(blk *b)
{
    b->free = 1;
    wipe((char *)b + BLK_HDR, b->size - BLK_HDR);
    blk *n = next_blk(b);
    if ((char *)n < g_hdr->top && n->free) {
        list_remove(n);
        b->size += n->size;
        memset(n, 0, BLK_HDR);
    }
    if (b->prev_size) {
        blk *pv = (blk *)((char *)b - b->prev_size);
        if (pv->free) {
            list_remove(pv);
            pv->size += b->size;
            memset(b, 0, BLK_HDR);
            b = pv;
        }
    }
    if ((char *)b + b->size == g_hdr->top) {
        /* the last block: give it back to the untouched space above top */
        g_hdr->top = (char *)b;
        g_hdr->last_size = b->prev_size;
        memset(b, 0, BLK_HDR);
    } else {
        fix_next_prev(b);
        list_push(b);
    }
}

void fmp__arena_free(void *p)
{
    if (!p)
        return;
    if (!fmp__arena_contains(p) || ((uintptr_t)p & 63) != 0) {
        FMP__SAY(free_foreign, p);
        return;
    }
    if (lock_arena() < 0)
        return;
    blk *b = live_block(p);
    if (!b) {
        pthread_mutex_unlock(&g_hdr->lock);
        FMP__SAY(free_bad, p);
        return;
    }
    g_hdr->in_use -= b->size;
    release(b);
    pthread_mutex_unlock(&g_hdr->lock);
}

/* Resize b to need bytes where it is: 1 done, 0 not possible (the caller moves it).
   Every store keeps the tiling whole (the order the repair relies on): a new header is
   written before the size that makes it part of the tiling, a header that leaves the
   tiling is cleared after.  Under the lock. */
static int resize_in_place(blk *b, size_t need)
{
    size_t old = b->size;
    if (need <= old) { /* shrink: the tail, if it makes a block, is given back */
        if (old - need >= MIN_BLOCK) {
            blk *t = make_blk((char *)b + need, old - need, need, 1);
            b->size = need;
            g_hdr->in_use -= t->size;
            release(t);
        }
        return 1;
    }
    blk *n = next_blk(b);
    if ((char *)n == g_hdr->top) { /* the last block: grow into the space above top */
        size_t extra = need - old < MIN_BLOCK ? MIN_BLOCK : need - old;
        if ((size_t)(g_hdr->end - g_hdr->top) < extra)
            return 0;
        /* a free block over the new part first, so that top never ends inside b */
        blk *f = make_blk(g_hdr->top, extra, old, 1);
        g_hdr->top += extra;
        g_hdr->last_size = extra;
        b->size = old + extra;
        g_hdr->last_size = b->size;
        memset(f, 0, BLK_HDR);
        g_hdr->in_use += extra;
        return 1;
    }
    if (!n->free || old + n->size < need)
        return 0;
    /* absorb the free block after b, leaving what remains of it free */
    size_t total = old + n->size;
    list_remove(n);
    if (total - need >= MIN_BLOCK) {
        /* need >= old + 64: the remainder's header lies in n's user part, not on n's */
        blk *t = make_blk((char *)b + need, total - need, need, 1);
        b->size = need;
        fix_next_prev(t);
        list_push(t);
    } else {
        b->size = total;
        fix_next_prev(b);
    }
    memset(n, 0, BLK_HDR);
    g_hdr->in_use += b->size - old;
    return 1;
}

void *fmp__arena_realloc(void *p, size_t bytes)
{
    if (!p)
        return fmp__arena_alloc(bytes);
    if (!fmp__arena_contains(p)) {
        FMP__SAY(realloc_foreign, p, bytes);
        errno = EINVAL;
        return NULL;
    }
    if (lock_arena() < 0) {
        errno = ENOMEM;
        return NULL;
    }
    blk *b = live_block(p);
    if (!b) {
        pthread_mutex_unlock(&g_hdr->lock);
        FMP__SAY(realloc_bad, p, bytes);
        errno = EINVAL;
        return NULL;
    }
    if (bytes == 0) { /* as glibc's realloc(p, 0): the block is freed */
        g_hdr->in_use -= b->size;
        release(b);
        pthread_mutex_unlock(&g_hdr->lock);
        return NULL;
    }
    size_t need, align;
    if (block_size(bytes, &need, &align) != 0) {
        pthread_mutex_unlock(&g_hdr->lock);
        errno = ENOMEM;
        return NULL;
    }
    void *q = NULL;
    if (((uintptr_t)p & (align - 1)) == 0 && resize_in_place(b, need)) {
        /* what lies past the new size is zero, as in a new block (a shrink drops it) */
        wipe((char *)p + bytes, b->size - BLK_HDR - bytes);
        q = p;
    } else {
        /* from before the new block is allocated until the old one is given back, a
           death makes the repair free the new one, which nobody has seen: no block is
           lost however the caller dies (test_hardening, killed inside realloc) */
        blk *nb = alloc_locked(need, align, &g_hdr->moving);
        if (nb) {
            /* the old block's part past its size is zero: copying it keeps the new
               block's tail zero */
            size_t keep = b->size - BLK_HDR < bytes ? b->size - BLK_HDR : bytes;
            memcpy((char *)nb + BLK_HDR, p, keep);
            g_hdr->in_use -= b->size;
            release(b);
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
            q = (char *)nb + BLK_HDR;
        }
        g_hdr->moving = NULL;
    }
    pthread_mutex_unlock(&g_hdr->lock);
    if (!q)
        errno = ENOMEM;
    return q;
}

/* After a holder of the lock died: rebuild the allocator's state from the tiling.
   0, or -1 when the tiling does not add up. */
static int repair(void)
{
    arena_hdr *h = g_hdr;
    char *p = h->heap;
    blk *last_free = NULL;
    size_t prev = 0, in_use = 0;
    blk *moving = h->moving; /* a realloc's new block, never handed out: free it */
    h->moving = NULL;
    h->free_list = NULL;
    while (p < h->top) {
        blk *b = (blk *)p;
        if (b->magic != BLK_MAGIC || b->size < MIN_BLOCK || b->size % 64 != 0 ||
            b->size > (size_t)(h->top - p))
            return -1;
        if (b == moving)
            b->free = 1; /* its user part is wiped with the other free blocks' below */
        size_t size = b->size;
        b->prev_size = prev;
        if (b->free && last_free) { /* neighbours: merge */
            last_free->size += size;
            memset(b, 0, BLK_HDR);
            b = last_free;
        } else if (b->free) {
            list_push(b);
            last_free = b;
        } else {
            in_use += size;
            last_free = NULL;
        }
        prev = b->size;
        p += size;
    }
    if (p != h->top)
        return -1;
    h->last_size = prev;
    h->in_use = in_use;
    /* what a dead edit may have left: headers inside free blocks, above top */
    for (blk *b = h->free_list; b; b = b->fnext) {
        fix_next_prev(b);
        wipe((char *)b + BLK_HDR, b->size - BLK_HDR);
    }
    size_t tail = (size_t)(h->end - h->top);
    memset(h->top, 0, tail < 8192 ? tail : 8192);
    return 0;
}

size_t fmp__arena_in_use(void)
{
    return g_hdr ? g_hdr->in_use : 0;
}

void *fmp_shared_alloc(size_t bytes)
{
    fmp__ensure_init();
    return fmp__arena_alloc(bytes);
}

void *fmp_shared_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM; /* as calloc */
        return NULL;
    }
    return fmp_shared_alloc(n * size);
}

void *fmp_shared_realloc(void *p, size_t size)
{
    fmp__ensure_init();
    return fmp__arena_realloc(p, size);
}

/* The whole mapping, the arena's own header included: a pointer there is never passed
   to libc. */
static int in_mapping(const void *p)
{
    return g_base && (const char *)p >= g_base && (const char *)p < g_base + g_size;
}

void fmp_shared_free(void *p)
{
    fmp__ensure_init();
    if (p && !in_mapping(p)) {
        free(p); /* not shared memory: the program's heap (one free for every block) */
        return;
    }
    fmp__arena_free(p);
}
