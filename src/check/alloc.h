/* The allocation records of FMP_CHECK=writes: the query API of libforkmp_check.so.
 *
 * libforkmp_check.so is an LD_PRELOAD library that interposes malloc and its relatives
 * (calloc, realloc, reallocarray, free, posix_memalign, aligned_alloc, memalign, valloc,
 * pvalloc), passes every call on to glibc's own allocator and records each live heap
 * block: its start, the size asked for, the generation it was allocated in and the
 * return addresses of its allocation stack.  The lost-write detector names a block a
 * child wrote by where it was allocated.
 *
 * libforkmp never links it: it looks the functions below up with dlsym(RTLD_DEFAULT, ...)
 * when check mode is on, and works without them when they are absent (the library was not
 * preloaded).  Every function may be called from any thread, in any process (a child after
 * fork() included), at any time; none allocates.
 *
 * It also interposes mmap, mmap64, munmap and mremap (64-bit systems) and records each
 * MAP_PRIVATE mapping the same way (fmp_check_mapping_at), as long as it is mapped, with
 * no limit of count.
 *
 * Not seen: memory that does not come through those symbols (forkmp's shared arena,
 * another allocator linked into the program, glibc's own mappings (its allocator's, its
 * thread stacks), a mapping made by a signal handler that interrupted the interposer,
 * and the few blocks glibc allocates through its private entry points, such as the
 * dynamic loader's before it is relocated).  A move by mremap of a range holding gaps
 * (Linux 6.17 and later) may leave the records of the target's parts facing the gaps
 * wrong.  A block
 * freed through __libc_free() keeps its record until its address is allocated again.
 * It must be preloaded: loaded by dlopen() it interposes nothing (and its initial-exec TLS
 * may not load).  A fork() made without the fork handlers (a raw clone) may leave the
 * child with the lock held.
 *
 * Internal: included by src/ and the tests, never installed. */
#ifndef FMP_CHECK_ALLOC_H
#define FMP_CHECK_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FMP_CHECK_EXPORT __attribute__((visibility("default")))

/* Return addresses kept per block. */
#define FMP_CHECK_STACK_MAX 12

/** One live heap block, as fmp_check_block_at() reports it. */
typedef struct fmp_check_block {
    uintptr_t start;                  /**< the block's first byte */
    size_t size;                      /**< the size asked for */
    unsigned long gen;                /**< the generation when it was allocated */
    int depth;                        /**< return addresses in stack (0: none recorded) */
    void *stack[FMP_CHECK_STACK_MAX]; /**< stack[0]: the caller of malloc & co */
} fmp_check_block;

/**
 * The live block holding @p addr: start <= addr < start + size, or addr == start for a
 * block of size 0.  Interior addresses are found as well as starts, in time independent
 * of the number of live blocks.
 * @return 1 with @p *out filled, 0 when no live block holds @p addr (@p *out untouched).
 */
FMP_CHECK_EXPORT int fmp_check_block_at(uintptr_t addr, fmp_check_block *out);

/**
 * The private mapping (mmap with MAP_PRIVATE, by the program or a library other than the C
 * library) holding @p addr, whole pages: its start, its size in bytes, the generation and
 * the stack when it was made (its site kept across mremap).  1, or 0 when no recorded
 * mapping holds it.
 */
FMP_CHECK_EXPORT int fmp_check_mapping_at(uintptr_t addr, fmp_check_block *out);

/**
 * The current generation.  With @p bump != 0, starts the next generation first and
 * returns it.  The first generation is 1; blocks record the generation current when they
 * were allocated (a realloc()ed block, when it was reallocated).
 */
FMP_CHECK_EXPORT unsigned long fmp_check_generation(int bump);

/**
 * The interposer's own bookkeeping memory (its tables and its state, all outside the
 * heap): up to @p max [start, end) pairs into @p r (which may be NULL when @p max is 0),
 * page-aligned, disjoint, in no particular order: private anonymous mappings (the tables,
 * which grow) and the library's state (pages of its .bss).  Not among them: the per-thread
 * guard, an int in each thread's static TLS, written around each backtrace.
 * @return how many ranges there are, which may exceed @p max.  The ranges change as the
 * tables grow.
 */
FMP_CHECK_EXPORT int fmp_check_own_memory(uintptr_t (*r)[2], int max);

/**
 * The code of the runtime (the C library, forkmp's own libraries and what they load):
 * @p n [start, end) pairs (up to FMP_CHECK_QUICK_MAX are kept).  A block that such code
 * allocates (malloc's caller is in one of them) records that caller alone, not the
 * whole allocation stack: the runtime's blocks are told apart by their first frame, and
 * are never named.  A backtrace per allocation is most of the interposer's cost on the
 * runtime's allocations at each region.  The first call that gives a range is kept: later
 * calls change nothing (allocations that read the ranges take no lock).
 * @return 0.
 */
#define FMP_CHECK_QUICK_MAX 64
FMP_CHECK_EXPORT int fmp_check_runtime_code(const uintptr_t (*r)[2], int n);

/** How many blocks are live (recorded and not yet freed). */
FMP_CHECK_EXPORT long fmp_check_live_blocks(void);

/* The functions' types, for the pointers that dlsym(RTLD_DEFAULT, "fmp_check_...") gives. */
typedef int fmp_check_block_at_fn(uintptr_t addr, fmp_check_block *out);
typedef unsigned long fmp_check_generation_fn(int bump);
typedef int fmp_check_own_memory_fn(uintptr_t (*r)[2], int max);
typedef long fmp_check_live_blocks_fn(void);
typedef int fmp_check_runtime_code_fn(const uintptr_t (*r)[2], int n);
typedef int fmp_check_mapping_at_fn(uintptr_t addr, fmp_check_block *out);

#ifdef __cplusplus
}
#endif

#endif /* FMP_CHECK_ALLOC_H */
