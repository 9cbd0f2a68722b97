/* libforkmp_check.so: the allocation records of FMP_CHECK=writes (API: alloc.h).
 *
 * Preloaded (LD_PRELOAD), it interposes malloc and its relatives and passes every call on
 * to glibc's allocator through the entry points glibc exports for that purpose
 * (__libc_malloc & co), so blocks are ordinary glibc blocks (malloc_usable_size, malloc_trim
 * and the rest keep working).  Each live block has a record: the size asked for, the
 * generation, the allocation stack.
 *
 * The tables, all in memory of their own mmaps (never the heap), under one lock:
 *   - records: fixed-size entries in chunked pools, addressed by 32-bit indices; chunks
 *     are added as needed and never move, so a pointer into a pool stays valid;
 *   - by start: an open-addressing hash table (linear probing, deletion by backward shift)
 *     from a block's start to its record; doubled when half full;
 *   - by address: a radix tree of bitmaps over the starts (the start shifted right by the
 *     malloc alignment's bits), 64-ary: upper nodes hold a bitmap of their non-empty
 *     children and the children's indices, the bottom nodes 64 words of 64 bits, one bit
 *     per possible start.  The block holding an address is the one with the greatest start
 *     at or below it (live blocks never overlap): a predecessor search, a fixed number of
 *     steps (the tree's depth, 9 for 64-bit addresses) whatever the number of blocks.
 *
 * Private mappings: mmap, mmap64, munmap and mremap are interposed too (the calls of the
 * program and of libraries, not the C library's own: glibc's allocator maps its memory
 * through internal calls).  A MAP_PRIVATE mapping gets a record like a block's (its range,
 * generation and stack) in a sorted array of its own, doubled when full; munmap, mremap
 * and a MAP_FIXED mapping over it trim, split or move the records they meet, as the kernel
 * does the mappings (mremap: each part keeps its own record, what grows extends the last
 * one).  The system call and the records' update are made under the lock together: no
 * other thread's munmap, nor a fork, comes between them.  A thread marks that it holds the
 * lock (holding, set before taking it and cleared after releasing it): a signal handler
 * that maps memory meanwhile calls the kernel unrecorded instead of waiting for itself.
 *
 * Stacks: backtrace() from <execinfo.h>, run outside the lock.  It may allocate (its first
 * use loads libgcc_s): a per-thread guard makes an allocation made inside it a recorded
 * block without a stack, and the constructor calls it once so that this happens there.
 * The frames of this library (its executable segment, found at start-up) are dropped.
 *
 * The lock is a leaf: nothing is called while it is held but the tables' own code and the
 * kernel's mmap, munmap and mremap.  Across fork() it is taken in the prepare handler of
 * pthread_atfork, released in the parent and made anew in the child, so the child finds
 * the tables whole and the lock free.  Prepare handlers registered before ours run after
 * it, while we hold the lock: an allocation they make is let through by the owner mark
 * (fork_owner) instead of waiting for itself. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"

/* glibc's own allocator, exported for interposers like this one. */
extern void *__libc_malloc(size_t size);
extern void __libc_free(void *p);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

/* ---------------------------------------------------------------- sizes */

/* glibc aligns every block to at least 2 * sizeof(size_t): starts shifted right by this
   many bits are distinct and lose nothing. */
#if UINTPTR_MAX > 0xffffffffu
#define KEY_SHIFT 4
#else
#define KEY_SHIFT 3
#endif
#define KEY_BITS ((int)sizeof(uintptr_t) * 8 - KEY_SHIFT)
#define BOTTOM_BITS 12 /* a bottom node: 64 words of 64 bits */
#define UPPER_BITS 6   /* an upper node: 64 children */
#define UPPER_LEVELS ((KEY_BITS - BOTTOM_BITS + UPPER_BITS - 1) / UPPER_BITS)

#define RAW_FRAMES (FMP_CHECK_STACK_MAX + 4) /* ours (up to 4) and the caller's 8 */
#define MAPS_MIN 1024 /* private mappings recorded before the array first grows */
#define POOL_CHUNKS 4096
#define TABLE_MIN 4096 /* slots of the first hash table */
#define STATE_ALIGN 4096

/* ---------------------------------------------------------------- types */

/* A live block's record (the start is the hash table's key). */
typedef struct rec {
    size_t size;
    unsigned long gen;
    uint32_t depth;
    void *stack[FMP_CHECK_STACK_MAX];
} rec;

/* A private mapping's record. */
typedef struct maprec {
    uintptr_t start, end;
    unsigned long gen;
    uint32_t depth;
    void *stack[FMP_CHECK_STACK_MAX];
} maprec;

/* A hash table slot: start 0 is empty. */
typedef struct slot {
    uintptr_t start;
    uint32_t rec;
} slot;

/* An upper node of the radix tree: bit i of mask set iff child[i] != 0. */
typedef struct unode {
    uint64_t mask;
    uint32_t child[64];
} unode;

/* A bottom node: bit i of mask set iff word[i] != 0; bit b of word[w]: the key
   (prefix << 12) | (w << 6) | b is a start. */
typedef struct bnode {
    uint64_t mask;
    uint64_t word[64];
} bnode;

/* Elements of one size in chunks of 1 << shift, by index; 0 is never handed out. */
typedef struct pool {
    size_t elem;
    unsigned shift;
    uint32_t fresh;    /* the next index never handed out */
    uint32_t freelist; /* given back, linked through their first 4 bytes */
    uint32_t nfree;
    uint32_t nchunks;
    char *chunk[POOL_CHUNKS];
} pool;

/* Everything this library writes but the per-thread guard, on pages of its own. */
struct __attribute__((aligned(STATE_ALIGN))) state {
    pthread_mutex_t lock;
    _Atomic uintptr_t fork_owner; /* the thread whose fork holds the lock, or 0 */
    _Atomic unsigned long gen;
    _Atomic int ready; /* constructor done: stacks may be taken */
    long live;
    unsigned long dropped;      /* blocks not recorded: no memory for the tables (debuggers) */
    uintptr_t self_lo, self_hi; /* this library's executable segment */
    size_t page;
    slot *tab;
    size_t tab_mask; /* slots - 1 */
    size_t tab_used;
    size_t tab_bytes;
    uint32_t root; /* the radix tree's top node */
    pool recs, unodes, bnodes;
    maprec *maps; /* maps_cap records, sorted by start, disjoint; mapped at first use */
    int nmaps, maps_cap;
    _Atomic int nquick; /* the runtime's code (fmp_check_runtime_code) */
    uintptr_t quick[FMP_CHECK_QUICK_MAX][2];
};

static struct state st = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .gen = 1,
    .recs = {.elem = sizeof(rec), .shift = 16},
    .unodes = {.elem = sizeof(unode), .shift = 12},
    .bnodes = {.elem = sizeof(bnode), .shift = 12},
};

/* Set while this thread takes a backtrace; its address names the thread. */
static _Thread_local int in_unwind __attribute__((tls_model("initial-exec")));

/* Set while this thread holds the lock: a signal handler that maps memory meanwhile goes
   unrecorded rather than wait for itself. */
static _Thread_local int holding __attribute__((tls_model("initial-exec")));

/* ---------------------------------------------------------------- lock */

static uintptr_t self_id(void)
{
    return (uintptr_t)&in_unwind;
}

/* holding is set before the lock is taken and cleared after it is released: a signal
   handler that runs in between sees it set */
static void lock(void)
{
    if (atomic_load_explicit(&st.fork_owner, memory_order_relaxed) != self_id()) {
        holding = 1;
        atomic_signal_fence(memory_order_seq_cst);
        pthread_mutex_lock(&st.lock);
    }
}

static void unlock(void)
{
    if (atomic_load_explicit(&st.fork_owner, memory_order_relaxed) != self_id()) {
        pthread_mutex_unlock(&st.lock);
        atomic_signal_fence(memory_order_seq_cst);
        holding = 0;
    }
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&st.lock);
    atomic_store_explicit(&st.fork_owner, self_id(), memory_order_relaxed);
}

static void fork_parent(void)
{
    atomic_store_explicit(&st.fork_owner, 0, memory_order_relaxed);
    pthread_mutex_unlock(&st.lock);
}

static void fork_child(void)
{
    atomic_store_explicit(&st.fork_owner, 0, memory_order_relaxed);
    holding = 0;
    pthread_mutex_init(&st.lock, NULL);
}

/* ---------------------------------------------------------------- memory */

static size_t page_size(void)
{
    if (!st.page)
        st.page = (size_t)sysconf(_SC_PAGESIZE);
    return st.page;
}

static size_t page_round(size_t n)
{
    size_t pg = page_size();
    return (n + pg - 1) / pg * pg;
}

/* The kernel's mmap and munmap, not the interposers below. */
static void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int sys_munmap(void *addr, size_t len)
{
    return (int)syscall(SYS_munmap, addr, len);
}

static void *map(size_t bytes)
{
    void *p = sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* ---------------------------------------------------------------- pools */

static size_t chunk_bytes(const pool *p)
{
    return page_round(p->elem << p->shift);
}

static void *elem_at(const pool *p, uint32_t i)
{
    return p->chunk[i >> p->shift] + (size_t)(i & ((1u << p->shift) - 1)) * p->elem;
}

/* Makes sure n elements can be taken; 0 when memory is out. */
static int pool_reserve(pool *p, uint32_t n)
{
    for (;;) {
        uint64_t avail = p->nfree + ((uint64_t)p->nchunks << p->shift) - p->fresh;
        if (p->fresh == 0)
            avail = p->nchunks ? avail - 1 : 0; /* index 0 is never handed out */
        if (avail >= n)
            return 1;
        if (p->nchunks == POOL_CHUNKS)
            return 0;
        char *c = map(chunk_bytes(p));
        if (!c)
            return 0;
        p->chunk[p->nchunks++] = c;
    }
}

/* An element, zeroed; pool_reserve() said there is one. */
static uint32_t pool_take(pool *p)
{
    uint32_t i;
    if (p->freelist) {
        i = p->freelist;
        memcpy(&p->freelist, elem_at(p, i), sizeof p->freelist);
        p->nfree--;
        memset(elem_at(p, i), 0, p->elem);
        return i;
    }
    if (p->fresh == 0)
        p->fresh = 1;
    return p->fresh++; /* fresh memory from mmap is zero */
}

static void pool_give(pool *p, uint32_t i)
{
    memcpy(elem_at(p, i), &p->freelist, sizeof p->freelist);
    p->freelist = i;
    p->nfree++;
}

#define REC(i) ((rec *)elem_at(&st.recs, (i)))
#define UNODE(i) ((unode *)elem_at(&st.unodes, (i)))
#define BNODE(i) ((bnode *)elem_at(&st.bnodes, (i)))

/* ---------------------------------------------------------------- hash table */

static size_t home(uintptr_t start, size_t mask)
{
    uint64_t h = (uint64_t)(start >> KEY_SHIFT) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32 ^ h) & mask;
}

/* The slot holding start, or NULL. */
static slot *tab_find(uintptr_t start)
{
    if (!st.tab)
        return NULL;
    for (size_t i = home(start, st.tab_mask);; i = (i + 1) & st.tab_mask) {
        if (st.tab[i].start == start)
            return &st.tab[i];
        if (!st.tab[i].start)
            return NULL;
    }
}

/* The hash table anew with the given number of slots (a power of 2), every entry moved
   over; 0 when memory is out (the old one stays). */
static int tab_resize(size_t slots)
{
    size_t bytes = page_round(slots * sizeof(slot));
    slot *t = map(bytes);
    if (!t)
        return 0;
    size_t mask = slots - 1;
    for (size_t j = 0; st.tab && j <= st.tab_mask; j++) {
        if (!st.tab[j].start)
            continue;
        size_t i = home(st.tab[j].start, mask);
        while (t[i].start)
            i = (i + 1) & mask;
        t[i] = st.tab[j];
    }
    if (st.tab)
        sys_munmap(st.tab, st.tab_bytes);
    st.tab = t;
    st.tab_mask = mask;
    st.tab_bytes = bytes;
    return 1;
}

/* The slot for start, new (rec 0) if it was not there; NULL when memory is out. */
static slot *tab_add(uintptr_t start)
{
    slot *s = tab_find(start);
    if (s)
        return s;
    if (!st.tab || (st.tab_used + 1) * 2 > st.tab_mask + 1) {
        size_t slots = st.tab ? (st.tab_mask + 1) * 2 : TABLE_MIN;
        /* a table that could not double still takes entries up to 7/8 full */
        if (!tab_resize(slots) && (!st.tab || (st.tab_used + 1) * 8 > (st.tab_mask + 1) * 7))
            return NULL;
    }
    size_t i = home(start, st.tab_mask);
    while (st.tab[i].start)
        i = (i + 1) & st.tab_mask;
    st.tab[i].start = start;
    st.tab[i].rec = 0;
    st.tab_used++;
    return &st.tab[i];
}

/* Empties slot s, moving later entries of its probe run back so no run has a hole. */
static void tab_remove(slot *s)
{
    size_t mask = st.tab_mask;
    size_t i = (size_t)(s - st.tab);
    for (size_t j = (i + 1) & mask; st.tab[j].start; j = (j + 1) & mask) {
        size_t h = home(st.tab[j].start, mask);
        /* the entry at j may fill the hole at i unless its home lies in (i, j] */
        int stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!stays) {
            st.tab[i] = st.tab[j];
            i = j;
        }
    }
    st.tab[i].start = 0;
    st.tab[i].rec = 0;
    st.tab_used--;
}

/* ---------------------------------------------------------------- radix tree */

static unsigned digit(uint64_t key, int level)
{
    return (unsigned)(key >> (BOTTOM_BITS + UPPER_BITS * level)) & 63;
}

static uint64_t bit(unsigned i)
{
    return (uint64_t)1 << i;
}

static unsigned top_bit(uint64_t m)
{
    return 63u - (unsigned)__builtin_clzll(m);
}

/* The bits of m below bit i. */
static uint64_t below(uint64_t m, unsigned i)
{
    return m & (bit(i) - 1);
}

static int radix_insert(uint64_t key)
{
    if (!pool_reserve(&st.unodes, UPPER_LEVELS) || !pool_reserve(&st.bnodes, 1))
        return 0;
    if (!st.root)
        st.root = pool_take(&st.unodes);
    uint32_t n = st.root;
    for (int lv = UPPER_LEVELS - 1; lv >= 0; lv--) {
        unode *u = UNODE(n);
        unsigned d = digit(key, lv);
        if (!u->child[d]) {
            u->child[d] = lv ? pool_take(&st.unodes) : pool_take(&st.bnodes);
            u->mask |= bit(d);
        }
        n = u->child[d];
    }
    bnode *b = BNODE(n);
    unsigned w = (unsigned)(key >> 6) & 63;
    b->word[w] |= bit(key & 63);
    b->mask |= bit(w);
    return 1;
}

static void radix_remove(uint64_t key)
{
    uint32_t path[UPPER_LEVELS];
    uint32_t n = st.root;
    for (int lv = UPPER_LEVELS - 1; lv >= 0; lv--) {
        if (!n)
            return;
        path[lv] = n;
        n = UNODE(n)->child[digit(key, lv)];
    }
    if (!n)
        return;
    bnode *b = BNODE(n);
    unsigned w = (unsigned)(key >> 6) & 63;
    b->word[w] &= ~bit(key & 63);
    if (b->word[w])
        return;
    b->mask &= ~bit(w);
    if (b->mask)
        return;
    pool_give(&st.bnodes, n);
    for (int lv = 0; lv < UPPER_LEVELS; lv++) {
        unode *u = UNODE(path[lv]);
        unsigned d = digit(key, lv);
        u->child[d] = 0;
        u->mask &= ~bit(d);
        if (u->mask || lv == UPPER_LEVELS - 1) /* the root stays */
            return;
        pool_give(&st.unodes, path[lv]);
    }
}

/* The greatest key under node n of level lv (an upper node, or a bottom node for lv -1),
   whose keys begin with prefix (the bits above that level's). */
static uint64_t radix_max(uint32_t n, int lv, uint64_t prefix)
{
    for (; lv >= 0; lv--) {
        unode *u = UNODE(n);
        unsigned d = top_bit(u->mask);
        prefix |= (uint64_t)d << (BOTTOM_BITS + UPPER_BITS * lv);
        n = u->child[d];
    }
    bnode *b = BNODE(n);
    unsigned w = top_bit(b->mask);
    return prefix | (uint64_t)w << 6 | top_bit(b->word[w]);
}

/* The greatest key <= q into *out: 1, or 0 when there is none. */
static int radix_pred(uint64_t q, uint64_t *out)
{
    uint32_t path[UPPER_LEVELS];
    uint32_t n = st.root;
    int lv;
    if (!n)
        return 0;
    for (lv = UPPER_LEVELS - 1; lv >= 0; lv--) {
        path[lv] = n;
        uint32_t c = UNODE(n)->child[digit(q, lv)];
        if (!c)
            break;
        n = c;
    }
    if (lv < 0) { /* q's bottom node exists: q's word, then the words below it */
        bnode *b = BNODE(n);
        uint64_t base = q & ~(uint64_t)((1u << BOTTOM_BITS) - 1);
        unsigned w = (unsigned)(q >> 6) & 63, i = (unsigned)q & 63;
        uint64_t m = i == 63 ? b->word[w] : below(b->word[w], i + 1);
        if (m) {
            *out = base | (uint64_t)w << 6 | top_bit(m);
            return 1;
        }
        m = below(b->mask, w);
        if (m) {
            w = top_bit(m);
            *out = base | (uint64_t)w << 6 | top_bit(b->word[w]);
            return 1;
        }
        lv = 0;
    }
    /* q's path ends at level lv: the greatest child below q's digit there, or higher up */
    for (; lv < UPPER_LEVELS; lv++) {
        unode *u = UNODE(path[lv]);
        uint64_t m = below(u->mask, digit(q, lv));
        if (m) {
            unsigned d = top_bit(m);
            int sh = BOTTOM_BITS + UPPER_BITS * lv;
            uint64_t prefix = (q >> (sh + UPPER_BITS) << (sh + UPPER_BITS)) | (uint64_t)d << sh;
            *out = radix_max(u->child[d], lv - 1, prefix);
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- records */

static int indexed(uintptr_t start)
{
    return (start & ((1u << KEY_SHIFT) - 1)) == 0; /* glibc's blocks all are */
}

/* Records the block at start (replacing a record left there, if any). */
static void put(uintptr_t start, size_t size, unsigned long gen, int depth, void *const *stack)
{
    slot *s = tab_add(start);
    if (!s) {
        st.dropped++;
        return;
    }
    if (!s->rec) {
        if (!pool_reserve(&st.recs, 1) || (indexed(start) && !radix_insert(start >> KEY_SHIFT))) {
            tab_remove(s);
            st.dropped++;
            return;
        }
        s->rec = pool_take(&st.recs);
        st.live++;
    }
    rec *r = REC(s->rec);
    r->size = size;
    r->gen = gen;
    r->depth = (uint32_t)depth;
    memcpy(r->stack, stack, (size_t)depth * sizeof *stack);
    memset(r->stack + depth, 0, (size_t)(FMP_CHECK_STACK_MAX - depth) * sizeof *stack);
}

/* Forgets the block at start, its record copied to *saved when saved is not NULL: 1, or 0
   when there was none. */
static int drop(uintptr_t start, rec *saved)
{
    slot *s = tab_find(start);
    if (!s)
        return 0;
    if (saved)
        *saved = *REC(s->rec);
    if (indexed(start))
        radix_remove(start >> KEY_SHIFT);
    pool_give(&st.recs, s->rec);
    tab_remove(s);
    st.live--;
    return 1;
}

/* ---------------------------------------------------------------- stacks */

static int own_frame(void *pc)
{
    return (uintptr_t)pc >= st.self_lo && (uintptr_t)pc < st.self_hi;
}

/* The allocation stack from the caller of malloc & co into out: its depth, 0 before the
   constructor ran and inside backtrace() itself. */
static int take_stack(void **out)
{
    void *raw[RAW_FRAMES];
    if (!atomic_load_explicit(&st.ready, memory_order_acquire) || in_unwind)
        return 0;
    in_unwind = 1;
    int n = backtrace(raw, RAW_FRAMES);
    in_unwind = 0;
    int first = 0;
    for (int i = 0; i < n; i++)
        if (own_frame(raw[i]))
            first = i + 1;
    int depth = 0;
    while (first < n && depth < FMP_CHECK_STACK_MAX)
        out[depth++] = raw[first++];
    return depth;
}

/* The allocation stack of a block that the runtime's code at ra allocates: ra alone. */
static int quick_stack(void *ra, void **out)
{
    int n = atomic_load_explicit(&st.nquick, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if ((uintptr_t)ra - 1 - st.quick[i][0] < st.quick[i][1] - st.quick[i][0]) {
            out[0] = ra;
            return 1;
        }
    return 0;
}

/* A block just allocated by the code at ra: its record, with the current stack and
   generation. */
static void note(void *p, size_t size, void *ra)
{
    int e = errno;
    void *stack[FMP_CHECK_STACK_MAX];
    int depth = quick_stack(ra, stack) ? 1 : take_stack(stack);
    unsigned long gen = atomic_load_explicit(&st.gen, memory_order_relaxed);
    lock();
    put((uintptr_t)p, size, gen, depth, stack);
    unlock();
    errno = e;
}

/* ---------------------------------------------------------------- the interposers */

FMP_CHECK_EXPORT void *malloc(size_t size)
{
    void *p = __libc_malloc(size);
    if (p)
        note(p, size, __builtin_return_address(0));
    return p;
}

FMP_CHECK_EXPORT void free(void *p)
{
    if (p) {
        lock();
        drop((uintptr_t)p, NULL);
        unlock();
    }
    __libc_free(p);
}

FMP_CHECK_EXPORT void *calloc(size_t n, size_t size)
{
    void *p = __libc_calloc(n, size);
    if (p)
        note(p, n * size, __builtin_return_address(0)); /* glibc refused n * size past SIZE_MAX */
    return p;
}

/* realloc: the record leaves before glibc may free the old block (another thread may get
   its address at once) and comes back if glibc fails. */
static void *do_realloc(void *p, size_t size, void *ra)
{
    rec saved;
    int had = 0;
    if (p) {
        lock();
        had = drop((uintptr_t)p, &saved);
        unlock();
    }
    void *q = __libc_realloc(p, size);
    if (q) {
        note(q, size, ra);
    } else if (had && size) { /* failed: p is still live (size 0 freed it) */
        int e = errno;
        lock();
        put((uintptr_t)p, saved.size, saved.gen, (int)saved.depth, saved.stack);
        unlock();
        errno = e;
    }
    return q;
}

FMP_CHECK_EXPORT void *realloc(void *p, size_t size)
{
    return do_realloc(p, size, __builtin_return_address(0));
}

FMP_CHECK_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(p, bytes, __builtin_return_address(0));
}

static int power_of_2(size_t n)
{
    return n && !(n & (n - 1));
}

FMP_CHECK_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (align % sizeof(void *) || !power_of_2(align / sizeof(void *)))
        return EINVAL;
    void *p = __libc_memalign(align, size);
    if (!p)
        return ENOMEM;
    note(p, size, __builtin_return_address(0));
    *out = p;
    return 0;
}

FMP_CHECK_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (!power_of_2(align)) {
        errno = EINVAL;
        return NULL;
    }
    void *p = __libc_memalign(align, size);
    if (p)
        note(p, size, __builtin_return_address(0));
    return p;
}

FMP_CHECK_EXPORT void *memalign(size_t align, size_t size)
{
    void *p = __libc_memalign(align, size);
    if (p)
        note(p, size, __builtin_return_address(0));
    return p;
}

FMP_CHECK_EXPORT void *valloc(size_t size)
{
    void *p = __libc_valloc(size);
    if (p)
        note(p, size, __builtin_return_address(0));
    return p;
}

FMP_CHECK_EXPORT void *pvalloc(size_t size)
{
    void *p = __libc_pvalloc(size);
    if (p)
        note(p, size, __builtin_return_address(0));
    return p;
}

/* ---------------------------------------------------------------- private mappings */

#if UINTPTR_MAX > 0xffffffffu && defined(SYS_mmap)
#define MAPS_RECORDED 1 /* mmap, mremap and off_t as the kernel takes them (64-bit) */
#else
#define MAPS_RECORDED 0
#endif

/* The first record that ends past addr. */
static int maps_from(uintptr_t addr)
{
    int lo = 0, hi = st.nmaps;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (st.maps[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Room for one record more: the array doubled when full (0 when memory is out). */
static int maps_room(void)
{
    if (st.maps && st.nmaps < st.maps_cap)
        return 1;
    int cap = st.maps_cap ? 2 * st.maps_cap : MAPS_MIN;
    maprec *m = map(page_round((size_t)cap * sizeof *m));
    if (!m) {
        st.dropped++;
        return 0;
    }
    if (st.maps) {
        memcpy(m, st.maps, (size_t)st.nmaps * sizeof *m);
        sys_munmap(st.maps, page_round((size_t)st.maps_cap * sizeof *m));
    }
    st.maps = m;
    st.maps_cap = cap;
    return 1;
}

/* Forget [lo, hi) in the records: those inside go, those across an end are trimmed, one
   around it is split in two. */
static void maps_cut(uintptr_t lo, uintptr_t hi)
{
    int i = st.nmaps ? maps_from(lo) : 0;
    while (i < st.nmaps && st.maps[i].start < hi) {
        maprec *m = &st.maps[i];
        if (m->start < lo && hi < m->end) { /* a hole inside: two records */
            if (!maps_room()) {
                m->end = lo; /* no memory: the part after the hole is forgotten */
                return;
            }
            m = &st.maps[i];
            memmove(m + 1, m, (size_t)(st.nmaps - i) * sizeof *m);
            st.nmaps++;
            m->end = lo;
            m[1].start = hi;
            return;
        }
        if (m->start < lo) {
            m->end = lo;
            i++;
        } else if (hi < m->end) {
            m->start = hi;
            i++;
        } else {
            memmove(m, m + 1, (size_t)(st.nmaps - i - 1) * sizeof *m);
            st.nmaps--;
        }
    }
}

/* The record that ends at end grows to new_end (a mapping grown by mremap), or [end,
   new_end) gets r's record when none ends there. */
static void maps_grow(uintptr_t end, uintptr_t new_end, const maprec *r);

/* Record [lo, hi) as r says (its bounds aside), over whatever was recorded there. */
static void maps_put(uintptr_t lo, uintptr_t hi, const maprec *r)
{
    maps_cut(lo, hi);
    if (!maps_room())
        return;
    int i = maps_from(lo);
    memmove(&st.maps[i + 1], &st.maps[i], (size_t)(st.nmaps - i) * sizeof st.maps[0]);
    st.nmaps++;
    st.maps[i] = *r;
    st.maps[i].start = lo;
    st.maps[i].end = hi;
}

static void maps_grow(uintptr_t end, uintptr_t new_end, const maprec *r)
{
    maps_cut(end, new_end);
    int i = st.nmaps ? maps_from(end - 1) : 0;
    if (i < st.nmaps && st.maps[i].end == end)
        st.maps[i].end = new_end;
    else
        maps_put(end, new_end, r);
}

#if MAPS_RECORDED
/* A mapping's length as the kernel rounds it: pages, huge pages for MAP_HUGETLB. */
static size_t map_round(size_t len, int flags)
{
#if defined(MAP_HUGETLB) && defined(MAP_HUGE_SHIFT) && defined(MAP_HUGE_MASK)
    if (flags & MAP_HUGETLB) {
        int shift = (flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
        size_t huge = (size_t)1 << (shift ? shift : 21); /* the default: 2 MiB */
        return (len + huge - 1) / huge * huge;
    }
#endif
    (void)flags;
    return page_round(len);
}

/* mmap, its record made under the lock together with the system call: no other thread's
   munmap, nor a fork, comes between them.  A MAP_PRIVATE mapping gets a record (the stack
   of the code at ra, taken before), any other none over its range.  Called in a signal
   handler that interrupted the lock's holder: not recorded. */
static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, void *ra)
{
    if (holding)
        return sys_mmap(addr, len, prot, flags, fd, off);
    int e = errno;
    maprec r = {0};
    int priv = (flags & MAP_TYPE) == MAP_PRIVATE;
    if (priv) {
        r.depth = (uint32_t)(quick_stack(ra, r.stack) ? 1 : take_stack(r.stack));
        r.gen = atomic_load_explicit(&st.gen, memory_order_relaxed);
    }
    lock();
    void *p = sys_mmap(addr, len, prot, flags, fd, off);
    int err = p == MAP_FAILED ? errno : 0;
    if (p != MAP_FAILED && len) {
        uintptr_t lo = (uintptr_t)p, hi = lo + map_round(len, flags);
        if (priv)
            maps_put(lo, hi, &r);
        else if (st.nmaps)
            maps_cut(lo, hi);
    }
    unlock();
    errno = err ? err : e;
    return p;
}

FMP_CHECK_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return do_mmap(addr, len, prot, flags, fd, off, __builtin_return_address(0));
}

FMP_CHECK_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return do_mmap(addr, len, prot, flags, fd, off, __builtin_return_address(0));
}

FMP_CHECK_EXPORT int munmap(void *addr, size_t len)
{
    if (holding)
        return sys_munmap(addr, len);
    int e = errno;
    lock();
    int rc = sys_munmap(addr, len);
    int err = rc ? errno : 0;
    if (rc == 0 && len && st.nmaps)
        maps_cut((uintptr_t)addr, (uintptr_t)addr + page_round(len));
    unlock();
    errno = err ? err : e;
    return rc;
}

/* The records after mremap(old, old_len, new_len) gave p.  What stays mapped keeps its own
   records, moved with it when it moved; what grew takes the record of the old range's
   last page (the mapping it extends); what shrank, and the old place when the mapping
   moved (not with MREMAP_DONTUNMAP), have none; the target's earlier records are gone. */
static void remap_records(uintptr_t old, size_t old_len, uintptr_t p, size_t new_len, int flags)
{
    uintptr_t olo = old, ohi = old + page_round(old_len), nlen = page_round(new_len);
    uintptr_t keep = nlen < ohi - olo ? nlen : ohi - olo; /* the part that stays mapped */
    maprec last = {0};
    int li = maps_from(ohi - 1),
        grow = nlen > ohi - olo && li < st.nmaps && st.maps[li].start < ohi;
    if (grow)
        last = st.maps[li];
    if (p == olo) { /* in place */
        if (nlen < ohi - olo)
            maps_cut(olo + nlen, ohi);
        if (grow)
            maps_grow(ohi, olo + nlen, &last);
        return;
    }
    /* moved: the records of what moved, copied out first */
    int first = maps_from(olo), n = 0;
    while (first + n < st.nmaps && st.maps[first + n].start < olo + keep)
        n++;
    size_t bytes = page_round((size_t)(n ? n : 1) * sizeof(maprec));
    maprec *moved = n ? map(bytes) : NULL;
    if (n && !moved) {
        st.dropped++;
        n = 0;
    }
    for (int i = 0; i < n; i++)
        moved[i] = st.maps[first + i];
    if (!(flags & MREMAP_DONTUNMAP))
        maps_cut(olo, ohi);
    maps_cut(p, p + nlen);
    for (int i = 0; i < n; i++) {
        uintptr_t lo = moved[i].start > olo ? moved[i].start : olo;
        uintptr_t hi = moved[i].end < olo + keep ? moved[i].end : olo + keep;
        if (lo < hi)
            maps_put(p + (lo - olo), p + (hi - olo), &moved[i]);
    }
    if (grow)
        maps_grow(p + (ohi - olo), p + nlen, &last);
    if (moved)
        sys_munmap(moved, bytes);
}

FMP_CHECK_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *want = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        want = va_arg(ap, void *);
        va_end(ap);
    }
    if (holding)
        return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, want);
    int e = errno;
    lock();
    void *p = (void *)syscall(SYS_mremap, old, old_len, new_len, flags, want);
    int err = p == MAP_FAILED ? errno : 0;
    if (p != MAP_FAILED && st.nmaps)
        remap_records((uintptr_t)old, old_len, (uintptr_t)p, new_len, flags);
    unlock();
    errno = err ? err : e;
    return p;
}
#endif /* MAPS_RECORDED */

/* ---------------------------------------------------------------- the query API */

int fmp_check_mapping_at(uintptr_t addr, fmp_check_block *out)
{
    if (holding)
        return 0;
    lock();
    int i = st.nmaps ? maps_from(addr) : 0, found = i < st.nmaps && st.maps[i].start <= addr;
    if (found) {
        const maprec *m = &st.maps[i];
        out->start = m->start;
        out->size = m->end - m->start;
        out->gen = m->gen;
        out->depth = (int)m->depth;
        memcpy(out->stack, m->stack, sizeof out->stack);
    }
    unlock();
    return found;
}

int fmp_check_runtime_code(const uintptr_t (*r)[2], int n)
{
    lock();
    if (atomic_load_explicit(&st.nquick, memory_order_relaxed)) {
        unlock();
        return 0;
    }
    int k = 0;
    for (int i = 0; i < n && k < FMP_CHECK_QUICK_MAX; i++)
        if (r[i][0] < r[i][1]) {
            st.quick[k][0] = r[i][0];
            st.quick[k][1] = r[i][1];
            k++;
        }
    atomic_store_explicit(&st.nquick, k, memory_order_release);
    unlock();
    return 0;
}

int fmp_check_block_at(uintptr_t addr, fmp_check_block *out)
{
    int found = 0;
    uintptr_t start = addr;
    uint64_t key;
    lock();
    slot *s = tab_find(addr);
    if (!s && radix_pred((uint64_t)addr >> KEY_SHIFT, &key)) {
        start = (uintptr_t)(key << KEY_SHIFT);
        s = tab_find(start);
    }
    if (s && s->rec) {
        const rec *r = REC(s->rec);
        if (addr == start || addr - start < r->size) {
            out->start = start;
            out->size = r->size;
            out->gen = r->gen;
            out->depth = (int)r->depth;
            memcpy(out->stack, r->stack, sizeof out->stack);
            found = 1;
        }
    }
    unlock();
    return found;
}

unsigned long fmp_check_generation(int bump)
{
    if (bump)
        return atomic_fetch_add_explicit(&st.gen, 1, memory_order_relaxed) + 1;
    return atomic_load_explicit(&st.gen, memory_order_relaxed);
}

static void add_range(uintptr_t (*r)[2], int max, int *n, uintptr_t lo, uintptr_t hi)
{
    if (*n < max) {
        r[*n][0] = lo;
        r[*n][1] = hi;
    }
    (*n)++;
}

static void add_pool(uintptr_t (*r)[2], int max, int *n, const pool *p)
{
    for (uint32_t c = 0; c < p->nchunks; c++)
        add_range(r, max, n, (uintptr_t)p->chunk[c], (uintptr_t)p->chunk[c] + chunk_bytes(p));
}

int fmp_check_own_memory(uintptr_t (*r)[2], int max)
{
    int n = 0;
    size_t pg = page_size();
    lock();
    add_range(r, max, &n, (uintptr_t)&st / pg * pg, ((uintptr_t)(&st + 1) + pg - 1) / pg * pg);
    if (st.tab)
        add_range(r, max, &n, (uintptr_t)st.tab, (uintptr_t)st.tab + st.tab_bytes);
    add_pool(r, max, &n, &st.recs);
    add_pool(r, max, &n, &st.unodes);
    add_pool(r, max, &n, &st.bnodes);
    if (st.maps)
        add_range(r, max, &n, (uintptr_t)st.maps,
                  (uintptr_t)st.maps + page_round((size_t)st.maps_cap * sizeof *st.maps));
    unlock();
    return n;
}

long fmp_check_live_blocks(void)
{
    lock();
    long n = st.live;
    unlock();
    return n;
}

/* ---------------------------------------------------------------- start-up */

/* This library's executable segment: the one holding data's address. */
static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t here = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (here >= lo && here < hi) {
            st.self_lo = lo;
            st.self_hi = hi;
            return 1;
        }
    }
    return 0;
}

__attribute__((constructor)) static void check_start(void)
{
    void *warm[RAW_FRAMES];
    page_size();
    dl_iterate_phdr(find_self, (void *)(uintptr_t)take_stack);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    /* backtrace's first call loads the unwinder (and allocates): here, not in a malloc */
    in_unwind = 1;
    backtrace(warm, RAW_FRAMES);
    in_unwind = 0;
    atomic_store_explicit(&st.ready, 1, memory_order_release);
}
