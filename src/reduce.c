/* Reductions and gathers in shared memory.
 *
 * Small (<= 256 B, inline in the slot) and medium (<= 64 KiB) inputs: every member copies
 * its contribution into its own slot's scratch (double-buffered by the parity of the
 * collective's number, so that writing the next one never races with readers of the
 * last: two uses of one buffer are always a barrier apart); after a barrier every member
 * combines all slots itself, in member order, into its own out.
 *
 * Large inputs go through the arrays in blocks of BLOCK_BYTES, in rounds a barrier apart;
 * member m combines its slice (cache-line aligned) of each block, in member order:
 *  - an input that lies in the shared arena is read where it is, by every member; an
 *    input in the member's private memory (or one that some member's out overlaps) is
 *    staged one block a round into a ring of two blocks in the member's scratch, and
 *    combined in the next round, while it is still in cache; the member itself reads
 *    its own private input where it is for its own slice (only the others' slices are
 *    staged);
 *  - the first two operands are combined into the accumulator in one pass
 *    (dst = a op b), the others into it (acc = acc op b);
 *  - when every member passes the same out, in the arena, and no input overlaps it, the
 *    slices are combined straight into it; otherwise into a ring of two result blocks
 *    (in member 0's scratch), which every member copies to its out in the round after.
 * So a block is read from memory once, and written once per out (with non-temporal
 * stores when the array is larger than the caches), with no copy of the whole array in
 * between; buffers in the arena are not copied at all.  The members publish their buffers in their
 * slots before the first barrier; after it every member derives the same plan from them.
 *
 * The order of combination is always member 0, 1, 2, ..., so the result is the same
 * bit for bit from run to run, in every member, and on every path.  fmp_reduce_into is
 * the same collective, where the fold starts with the master's inout: member 0's
 * contribution is its inout combined with its in (staged so), or, when the result goes
 * straight into a common inout, the fold starts from what that inout holds. */
#include "internal.h"
#include "messages.h"

#include <complex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MEDIUM_BYTES (64u * 1024u)
/* A large reduction's block: every member's staged part of it and its result, twice
   (two rounds are in flight), stay in the caches of a node. */
#define BLOCK_BYTES (256u * 1024u)
/* A large reduction's result goes to an out of this size or more with non-temporal
   stores (copy_out) */
#define STREAM_BYTES ((size_t)4 << 20)

typedef struct { float v; int i; } float_int;
typedef struct { double v; int i; } double_int;
typedef struct { long double v; int i; } ldouble_int;
typedef struct { short v; int i; } short_int;
typedef struct { int v; int i; } int_int;
typedef struct { long v; int i; } long_int;

static const size_t type_sizes[FMP_TYPE_COUNT_] = {
    [FMP_CHAR] = sizeof(char), [FMP_SIGNED_CHAR] = sizeof(signed char),
    [FMP_UNSIGNED_CHAR] = sizeof(unsigned char), [FMP_SHORT] = sizeof(short),
    [FMP_UNSIGNED_SHORT] = sizeof(unsigned short), [FMP_INT] = sizeof(int),
    [FMP_UNSIGNED] = sizeof(unsigned), [FMP_LONG] = sizeof(long),
    [FMP_ULONG] = sizeof(unsigned long), [FMP_LLONG] = sizeof(long long),
    [FMP_ULLONG] = sizeof(unsigned long long), [FMP_FLOAT] = sizeof(float),
    [FMP_DOUBLE] = sizeof(double), [FMP_LONG_DOUBLE] = sizeof(long double),
    [FMP_BOOL] = sizeof(bool), [FMP_INT8] = 1, [FMP_INT16] = 2, [FMP_INT32] = 4,
    [FMP_INT64] = 8, [FMP_UINT8] = 1, [FMP_UINT16] = 2, [FMP_UINT32] = 4, [FMP_UINT64] = 8,
    [FMP_SIZE_T] = sizeof(size_t), [FMP_FLOAT_COMPLEX] = sizeof(float _Complex),
    [FMP_DOUBLE_COMPLEX] = sizeof(double _Complex),
    [FMP_LONG_DOUBLE_COMPLEX] = sizeof(long double _Complex),
    [FMP_FLOAT_INT] = sizeof(float_int), [FMP_DOUBLE_INT] = sizeof(double_int),
    [FMP_LONG_DOUBLE_INT] = sizeof(ldouble_int), [FMP_SHORT_INT] = sizeof(short_int),
    [FMP_2INT] = sizeof(int_int), [FMP_LONG_INT] = sizeof(long_int),
};

/* Names for messages (a mismatch's last construct). */
const char *fmp__type_name(long type)
{
    static const char *const names[FMP_TYPE_COUNT_] = {
        [FMP_CHAR] = "FMP_CHAR",
        [FMP_SIGNED_CHAR] = "FMP_SIGNED_CHAR",
        [FMP_UNSIGNED_CHAR] = "FMP_UNSIGNED_CHAR",
        [FMP_SHORT] = "FMP_SHORT",
        [FMP_UNSIGNED_SHORT] = "FMP_UNSIGNED_SHORT",
        [FMP_INT] = "FMP_INT",
        [FMP_UNSIGNED] = "FMP_UNSIGNED",
        [FMP_LONG] = "FMP_LONG",
        [FMP_ULONG] = "FMP_ULONG",
        [FMP_LLONG] = "FMP_LLONG",
        [FMP_ULLONG] = "FMP_ULLONG",
        [FMP_FLOAT] = "FMP_FLOAT",
        [FMP_DOUBLE] = "FMP_DOUBLE",
        [FMP_LONG_DOUBLE] = "FMP_LONG_DOUBLE",
        [FMP_BOOL] = "FMP_BOOL",
        [FMP_INT8] = "FMP_INT8",
        [FMP_INT16] = "FMP_INT16",
        [FMP_INT32] = "FMP_INT32",
        [FMP_INT64] = "FMP_INT64",
        [FMP_UINT8] = "FMP_UINT8",
        [FMP_UINT16] = "FMP_UINT16",
        [FMP_UINT32] = "FMP_UINT32",
        [FMP_UINT64] = "FMP_UINT64",
        [FMP_SIZE_T] = "FMP_SIZE_T",
        [FMP_FLOAT_COMPLEX] = "FMP_FLOAT_COMPLEX",
        [FMP_DOUBLE_COMPLEX] = "FMP_DOUBLE_COMPLEX",
        [FMP_LONG_DOUBLE_COMPLEX] = "FMP_LONG_DOUBLE_COMPLEX",
        [FMP_FLOAT_INT] = "FMP_FLOAT_INT",
        [FMP_DOUBLE_INT] = "FMP_DOUBLE_INT",
        [FMP_LONG_DOUBLE_INT] = "FMP_LONG_DOUBLE_INT",
        [FMP_SHORT_INT] = "FMP_SHORT_INT",
        [FMP_2INT] = "FMP_2INT",
        [FMP_LONG_INT] = "FMP_LONG_INT",
    };
    return type > 0 && type < FMP_TYPE_COUNT_ && names[type] ? names[type] : "an unknown type";
}

const char *fmp__op_name(long op)
{
    static const char *const names[FMP_OP_COUNT_] = {
        [FMP_SUM] = "FMP_SUM",   [FMP_PROD] = "FMP_PROD",     [FMP_MIN] = "FMP_MIN",
        [FMP_MAX] = "FMP_MAX",   [FMP_LAND] = "FMP_LAND",     [FMP_LOR] = "FMP_LOR",
        [FMP_LXOR] = "FMP_LXOR", [FMP_BAND] = "FMP_BAND",     [FMP_BOR] = "FMP_BOR",
        [FMP_BXOR] = "FMP_BXOR", [FMP_MINLOC] = "FMP_MINLOC", [FMP_MAXLOC] = "FMP_MAXLOC",
    };
    return op > 0 && op < FMP_OP_COUNT_ && names[op] ? names[op] : "an unknown op";
}

size_t fmp_type_size(fmp_type type)
{
    if ((int)type <= FMP_TYPE_NONE || type >= FMP_TYPE_COUNT_)
        return 0;
    return type_sizes[type];
}

enum tclass { TC_INT, TC_BOOL, TC_FLOAT, TC_COMPLEX, TC_PAIR };

static enum tclass type_class(fmp_type t)
{
    switch (t) {
    case FMP_FLOAT: case FMP_DOUBLE: case FMP_LONG_DOUBLE: return TC_FLOAT;
    case FMP_BOOL: return TC_BOOL;
    case FMP_FLOAT_COMPLEX: case FMP_DOUBLE_COMPLEX: case FMP_LONG_DOUBLE_COMPLEX:
        return TC_COMPLEX;
    case FMP_FLOAT_INT: case FMP_DOUBLE_INT: case FMP_LONG_DOUBLE_INT: case FMP_SHORT_INT:
    case FMP_2INT: case FMP_LONG_INT:
        return TC_PAIR;
    default: return TC_INT;
    }
}

int fmp__reduce_check(fmp_type type, fmp_op op)
{
    if (!fmp_type_size(type))
        return FMP_ETYPE;
    if ((int)op <= FMP_OP_NONE || op >= FMP_OP_COUNT_)
        return FMP_EOP;
    switch (type_class(type)) {
    case TC_INT:
        return op == FMP_MINLOC || op == FMP_MAXLOC ? FMP_EOP : 0;
    case TC_BOOL: /* as MPI's C_BOOL: logical operations */
        return op == FMP_LAND || op == FMP_LOR || op == FMP_LXOR ? 0 : FMP_EOP;
    case TC_FLOAT: /* as OpenMP: arithmetic, min/max and logical, no bitwise */
        return op <= FMP_LXOR ? 0 : FMP_EOP;
    case TC_COMPLEX:
        return op == FMP_SUM || op == FMP_PROD ? 0 : FMP_EOP;
    case TC_PAIR:
        return op == FMP_MINLOC || op == FMP_MAXLOC ? 0 : FMP_EOP;
    }
    return FMP_EOP;
}

/* d[i] = a[i] op b[i] for one type: two functions from each body, name (acc op= in:
   d and a are acc) and name_to (dst = acc op in, dst apart from both) */
#define ARITH_CASES(T)                                                                             \
    case FMP_SUM:                                                                                  \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = a[i] + b[i];                                                                    \
        break;                                                                                     \
    case FMP_PROD:                                                                                 \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = a[i] * b[i];                                                                    \
        break;
/* integers: sums and products wrap around, as MPI's do (computed unsigned: in signed
   arithmetic an overflow would be undefined) */
#define INT_ARITH_CASES(U)                                                                         \
    case FMP_SUM:                                                                                  \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = (__typeof__(d[i]))((U)a[i] + (U)b[i]);                                          \
        break;                                                                                     \
    case FMP_PROD:                                                                                 \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = (__typeof__(d[i]))((U)a[i] * (U)b[i]);                                          \
        break;
#define ORDER_CASES(T)                                                                             \
    case FMP_MIN:                                                                                  \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = b[i] < a[i] ? b[i] : a[i];                                                      \
        break;                                                                                     \
    case FMP_MAX:                                                                                  \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = b[i] > a[i] ? b[i] : a[i];                                                      \
        break;
#define LOGIC_CASES(T)                                                                             \
    case FMP_LAND:                                                                                 \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = (T)(a[i] && b[i]);                                                              \
        break;                                                                                     \
    case FMP_LOR:                                                                                  \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = (T)(a[i] || b[i]);                                                              \
        break;                                                                                     \
    case FMP_LXOR:                                                                                 \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = (T)(!a[i] != !b[i]);                                                            \
        break;
#define BIT_CASES(T)                                                                               \
    case FMP_BAND:                                                                                 \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = a[i] & b[i];                                                                    \
        break;                                                                                     \
    case FMP_BOR:                                                                                  \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = a[i] | b[i];                                                                    \
        break;                                                                                     \
    case FMP_BXOR:                                                                                 \
        for (size_t i = 0; i < n; i++)                                                             \
            d[i] = a[i] ^ b[i];                                                                    \
        break;

#define DEF_BOTH(name, T, BODY)                                                                    \
    static void name(void *acc, const void *in, size_t n, fmp_op op)                               \
    {                                                                                              \
        T *restrict d = acc;                                                                       \
        const T *a = d;                                                                            \
        const T *restrict b = in;                                                                  \
        BODY                                                                                       \
    }                                                                                              \
    static void name##_to(void *dst, const void *acc, const void *in, size_t n, fmp_op op)         \
    {                                                                                              \
        T *restrict d = dst;                                                                       \
        const T *restrict a = acc;                                                                 \
        const T *restrict b = in;                                                                  \
        BODY                                                                                       \
    }
#define DEF_INT(name, T, U)                                                                        \
    DEF_BOTH(                                                                                      \
        name, T, switch (op) {                                                                     \
            INT_ARITH_CASES(U) ORDER_CASES(T) LOGIC_CASES(T) BIT_CASES(T) default : break;         \
        })
#define DEF_FLOAT(name, T)                                                                         \
    DEF_BOTH(                                                                                      \
        name, T, switch (op) {                                                                     \
            ARITH_CASES(T)                                                                         \
            ORDER_CASES(T) LOGIC_CASES(T) default : break;                                         \
        })
#define DEF_BOOL(name, T)                                                                          \
    DEF_BOTH(                                                                                      \
        name, T, switch (op) {                                                                     \
            LOGIC_CASES(T)                                                                         \
        default:                                                                                   \
            break;                                                                                 \
        })
#define DEF_COMPLEX(name, T)                                                                       \
    DEF_BOTH(                                                                                      \
        name, T, switch (op) {                                                                     \
            ARITH_CASES(T)                                                                         \
        default:                                                                                   \
            break;                                                                                 \
        })
/* MINLOC / MAXLOC as MPI: the better value, the lower index on ties */
#define DEF_PAIR(name, T)                                                                          \
    DEF_BOTH(                                                                                      \
        name, T, for (size_t i = 0; i < n; i++) {                                                  \
            int better = op == FMP_MINLOC ? b[i].v < a[i].v : b[i].v > a[i].v;                     \
            d[i] = better || (b[i].v == a[i].v && b[i].i < a[i].i) ? b[i] : a[i];                  \
        })

DEF_INT(c_char, char, unsigned)
DEF_INT(c_schar, signed char, unsigned)
DEF_INT(c_uchar, unsigned char, unsigned)
DEF_INT(c_short, short, unsigned)
DEF_INT(c_ushort, unsigned short, unsigned)
DEF_INT(c_int, int, unsigned)
DEF_INT(c_uint, unsigned, unsigned)
DEF_INT(c_long, long, unsigned long)
DEF_INT(c_ulong, unsigned long, unsigned long)
DEF_INT(c_llong, long long, unsigned long long)
DEF_INT(c_ullong, unsigned long long, unsigned long long)
DEF_INT(c_i8, int8_t, uint32_t)
DEF_INT(c_i16, int16_t, uint32_t)
DEF_INT(c_i32, int32_t, uint32_t)
DEF_INT(c_i64, int64_t, uint64_t)
DEF_INT(c_u8, uint8_t, uint32_t)
DEF_INT(c_u16, uint16_t, uint32_t)
DEF_INT(c_u32, uint32_t, uint32_t)
DEF_INT(c_u64, uint64_t, uint64_t)
DEF_INT(c_size, size_t, size_t)
DEF_BOOL(c_bool, bool)
DEF_FLOAT(c_float, float)
DEF_FLOAT(c_double, double)
DEF_FLOAT(c_ldouble, long double)
DEF_COMPLEX(c_fcomplex, float _Complex)
DEF_COMPLEX(c_dcomplex, double _Complex)
DEF_COMPLEX(c_ldcomplex, long double _Complex)
DEF_PAIR(c_float_int, float_int)
DEF_PAIR(c_double_int, double_int)
DEF_PAIR(c_ldouble_int, ldouble_int)
DEF_PAIR(c_short_int, short_int)
DEF_PAIR(c_2int, int_int)
DEF_PAIR(c_long_int, long_int)

typedef void (*combine_fn)(void *, const void *, size_t, fmp_op);
typedef void (*combine_to_fn)(void *, const void *, const void *, size_t, fmp_op);
typedef struct combiner {
    combine_fn f;     /* acc = acc op in */
    combine_to_fn to; /* dst = acc op in */
} combiner;
#define C(name)                                                                                    \
    {                                                                                              \
        name, name##_to                                                                            \
    }
static const combiner combiners[FMP_TYPE_COUNT_] = {
    [FMP_CHAR] = C(c_char),
    [FMP_SIGNED_CHAR] = C(c_schar),
    [FMP_UNSIGNED_CHAR] = C(c_uchar),
    [FMP_SHORT] = C(c_short),
    [FMP_UNSIGNED_SHORT] = C(c_ushort),
    [FMP_INT] = C(c_int),
    [FMP_UNSIGNED] = C(c_uint),
    [FMP_LONG] = C(c_long),
    [FMP_ULONG] = C(c_ulong),
    [FMP_LLONG] = C(c_llong),
    [FMP_ULLONG] = C(c_ullong),
    [FMP_FLOAT] = C(c_float),
    [FMP_DOUBLE] = C(c_double),
    [FMP_LONG_DOUBLE] = C(c_ldouble),
    [FMP_BOOL] = C(c_bool),
    [FMP_INT8] = C(c_i8),
    [FMP_INT16] = C(c_i16),
    [FMP_INT32] = C(c_i32),
    [FMP_INT64] = C(c_i64),
    [FMP_UINT8] = C(c_u8),
    [FMP_UINT16] = C(c_u16),
    [FMP_UINT32] = C(c_u32),
    [FMP_UINT64] = C(c_u64),
    [FMP_SIZE_T] = C(c_size),
    [FMP_FLOAT_COMPLEX] = C(c_fcomplex),
    [FMP_DOUBLE_COMPLEX] = C(c_dcomplex),
    [FMP_LONG_DOUBLE_COMPLEX] = C(c_ldcomplex),
    [FMP_FLOAT_INT] = C(c_float_int),
    [FMP_DOUBLE_INT] = C(c_double_int),
    [FMP_LONG_DOUBLE_INT] = C(c_ldouble_int),
    [FMP_SHORT_INT] = C(c_short_int),
    [FMP_2INT] = C(c_2int),
    [FMP_LONG_INT] = C(c_long_int),
};
#undef C

int fmp__reduce_combine(void *acc, const void *in, size_t count, fmp_type type, fmp_op op)
{
    int rc = fmp__reduce_check(type, op);
    if (rc)
        return rc;
    combiners[type].f(acc, in, count, op);
    return 0;
}

void *fmp__scratch(fmp__ctx *c, int parity, size_t bytes)
{
    fmp__slot *s = &c->team->slots[c->me];
    if (bytes <= FMP__INLINE_SCRATCH)
        return s->inl[parity];
    if (s->scratch_cap[parity] < bytes) {
        size_t cap = bytes + bytes / 4;
        void *p = fmp__arena_alloc(cap);
        if (!p)
            return NULL;
        fmp__arena_free(s->scratch[parity]);
        s->scratch[parity] = p;
        s->scratch_cap[parity] = cap;
    }
    return s->scratch[parity];
}

static const void *slot_buf(fmp__shteam *t, int m, int parity, size_t bytes)
{
    return bytes <= FMP__INLINE_SCRATCH ? (const void *)t->slots[m].inl[parity]
                                        : t->slots[m].scratch[parity];
}

/* This member's scratch of bytes; on ENOMEM the whole team fails (nobody may wait for
   a member that cannot take part). */
static void *scratch_or_fail(fmp__ctx *c, int parity, size_t bytes, const char *what,
                             const char *file, int line)
{
    void *buf = fmp__scratch(c, parity, bytes);
    if (!buf)
        fmp__team_fail(c->team, FMP_ENOMEM, c->me, FMP__HOW_USAGE, 0, FMP__MSG_scratch_memory, what,
                       file, line, c->me, bytes);
    return buf;
}

/* Copy in to this member's scratch (see scratch_or_fail). */
static void *stage(fmp__ctx *c, int parity, const void *in, size_t bytes, const char *what,
                   const char *file, int line)
{
    void *buf = scratch_or_fail(c, parity, bytes, what, file, line);
    if (buf && bytes) /* in may be NULL for a count of 0 */
        memcpy(buf, in, bytes);
    return buf;
}

static int overlap(const void *a, const void *b, size_t bytes)
{
    return (const char *)a < (const char *)b + bytes && (const char *)b < (const char *)a + bytes;
}

/* bytes at p lie in the shared arena: the same memory at the same address in every
   member */
static int in_arena(const void *p, size_t bytes)
{
    return fmp__arena_contains(p) && fmp__arena_contains((const char *)p + bytes - 1);
}

/* Member m's slice [lo, hi) of a block of len elements: whole cache lines (of
   per_line elements), but for the block's end. */
typedef struct slice {
    size_t lo, hi;
} slice;

static slice slice_of(size_t len, size_t per_line, int m, int n)
{
    size_t lines = (len + per_line - 1) / per_line;
    slice sl = {lines * (size_t)m / (size_t)n * per_line,
                lines * (size_t)(m + 1) / (size_t)n * per_line};
    if (sl.hi > len)
        sl.hi = len;
    if (sl.lo > sl.hi)
        sl.lo = sl.hi;
    return sl;
}

/* Member m's elements from index i (i_in_blk into block kc) of a large reduction, as
   member me sees them: where its input lies, this member's own input (own), or its
   staging ring's block. */
static const void *operand(fmp__shteam *t, const char *const *direct, const char *own, int me,
                           int m, int parity, size_t kc, size_t bb, size_t i, size_t i_in_blk,
                           size_t es)
{
    if (direct[m])
        return direct[m] + i * es;
    if (m == me && own)
        return own + i * es;
    return (const char *)t->slots[m].scratch[parity] + (kc & 1) * bb + i_in_blk * es;
}

/* Copy a result block to an out that is larger than the caches: with non-temporal
   stores where the machine has them, so that the out's lines are not read from memory
   first only to be overwritten (a third of the traffic of a cached copy), and do not
   push the blocks in flight out of the caches.  The stores are complete and visible
   before the caller's next barrier. */
static void copy_out(void *dst, const void *src, size_t len, int stream)
{
#if defined(__SSE2__)
    char *d = dst;
    const char *s = src;
    size_t head = (16 - ((uintptr_t)d & 15)) & 15;
    if (stream && len >= 64 + head) {
        memcpy(d, s, head);
        d += head;
        s += head;
        len -= head;
        for (; len >= 64; len -= 64, d += 64, s += 64) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
            __m128i e = _mm_loadu_si128((const __m128i *)(const void *)(s + 32));
            __m128i g = _mm_loadu_si128((const __m128i *)(const void *)(s + 48));
            _mm_stream_si128((__m128i *)(void *)d, a);
            _mm_stream_si128((__m128i *)(void *)(d + 16), b);
            _mm_stream_si128((__m128i *)(void *)(d + 32), e);
            _mm_stream_si128((__m128i *)(void *)(d + 48), g);
        }
        _mm_sfence();
    }
    memcpy(d, s, len);
#else
    (void)stream;
    memcpy(dst, src, len);
#endif
}

/* A large reduction (see the head comment).  The caller has met the construct and taken
   the parity; in and out are not NULL, and bytes > MEDIUM_BYTES. */
static int reduce_large(fmp__ctx *c, const void *in, void *out, size_t count, size_t es,
                        const combiner *cb, fmp_op op, int into, int parity, int kind,
                        const char *what, const char *file, int line)
{
    const combine_fn f = cb->f;
    const combine_to_fn to = cb->to;
    fmp__shteam *t = c->team;
    const int n = c->n, me = c->me;
    const size_t bytes = count * es;
    const size_t per_line = es >= 64 ? 1 : 64 / es;
    const size_t blk = BLOCK_BYTES / es / per_line * per_line; /* elements per block */
    const size_t bb = blk * es;
    const size_t nblk = (count + blk - 1) / blk;
    /* this member's scratch: its staging ring (two blocks), in member 0 the result ring
       after it (two blocks), then this member's own table of the inputs' addresses */
    size_t rings = (me == 0 ? 4 : 2) * bb;
    char *mine = scratch_or_fail(c, parity, rings + (size_t)n * sizeof(char *), what, file, line);
    if (!mine)
        return FMP_ENOMEM;
    const char **direct = (const char **)(void *)(mine + rings);
    t->slots[me].red_in[parity] = in;
    t->slots[me].red_out[parity] = out;
    int rc = fmp__barrier(c, kind, file, line);
    if (rc)
        return fmp__wait_failed(c, rc);

    /* The plan, alike in every member.  The result goes straight into out when every
       member passed the same out, in the arena, that no input overlaps. */
    void *out0 = t->slots[0].red_out[parity];
    int out_direct = in_arena(out0, bytes);
    for (int m = 0; m < n && out_direct; m++)
        out_direct = t->slots[m].red_out[parity] == out0 &&
                     !overlap(t->slots[m].red_in[parity], out0, bytes);
    /* An input is read where it is when it lies in the arena and no out that will be
       written overlaps it; member 0's, for fmp_reduce_into, only when the fold starts
       from the common inout (otherwise it is staged combined with the master's inout). */
    int staging = 0;
    for (int m = 0; m < n; m++) {
        const char *p = t->slots[m].red_in[parity];
        int ok = in_arena(p, bytes) && !(into && m == 0 && !out_direct);
        for (int o = 0; o < n && ok; o++) {
            const void *q = t->slots[o].red_out[parity];
            ok = !(in_arena(q, bytes) && overlap(p, q, bytes));
        }
        direct[m] = ok ? p : NULL;
        staging |= !ok;
    }
    /* This member's own input, when it is staged for the others, is still read where it
       is for its own slice, if it is private to it and apart from its out. */
    const int premix = into && me == 0 && !out_direct;
    const char *own = direct[me]                                                    ? direct[me]
                      : !premix && !in_arena(in, bytes) && !overlap(in, out, bytes) ? in
                                                                                    : NULL;
    const int s = staging, cp = !out_direct; /* rounds between staging, combining, copying */
    const size_t rounds = nblk + (size_t)s + (size_t)cp;
    char *result_ring = (char *)t->slots[0].scratch[parity] + 2 * bb;
    for (size_t k = 0; k < rounds; k++) {
        if (!direct[me] && k < nblk) { /* stage block k (but for my slice, if own) */
            size_t b0 = k * blk, len = count - b0 < blk ? count - b0 : blk;
            char *dst = mine + (k & 1) * bb;
            const char *src = (const char *)in + b0 * es;
            if (premix) {
                memcpy(dst, (const char *)out + b0 * es, len * es);
                f(dst, src, len, op);
            } else if (own) {
                slice sl = slice_of(len, per_line, me, n);
                memcpy(dst, src, sl.lo * es);
                memcpy(dst + sl.hi * es, src + sl.hi * es, (len - sl.hi) * es);
            } else {
                memcpy(dst, src, len * es);
            }
        }
        if (k >= (size_t)s && k - (size_t)s < nblk) { /* combine my slice of block kc */
            size_t kc = k - (size_t)s, b0 = kc * blk;
            slice sl = slice_of(count - b0 < blk ? count - b0 : blk, per_line, me, n);
            size_t len = sl.hi - sl.lo, i0 = b0 + sl.lo;
            if (len) {
                char *acc =
                    out_direct ? (char *)out + i0 * es : result_ring + (kc & 1) * bb + sl.lo * es;
                int m = 0;
                if (!(into && out_direct)) { /* else the fold starts from the inout's value */
                    const void *first =
                        operand(t, direct, own, me, 0, parity, kc, bb, i0, sl.lo, es);
                    if (n == 1) {
                        memcpy(acc, first, len * es);
                        m = 1;
                    } else {
                        to(acc, first,
                           operand(t, direct, own, me, 1, parity, kc, bb, i0, sl.lo, es), len, op);
                        m = 2;
                    }
                }
                for (; m < n; m++)
                    f(acc, operand(t, direct, own, me, m, parity, kc, bb, i0, sl.lo, es), len, op);
            }
        }
        if (cp && k >= (size_t)s + 1 && k - (size_t)s - 1 < nblk) { /* copy block ko out */
            size_t ko = k - (size_t)s - 1, b0 = ko * blk;
            size_t len = count - b0 < blk ? count - b0 : blk;
            copy_out((char *)out + b0 * es, result_ring + (ko & 1) * bb, len * es,
                     bytes >= STREAM_BYTES);
        }
        /* a barrier between rounds; after the last one only when it combined (the
           result is whole, and nobody reads a member's input any more, at that barrier) */
        if ((s + cp > 0 && k + 1 < rounds) || (k + 1 == rounds && !cp)) {
            rc = fmp__barrier(c, kind, file, line);
            if (rc)
                return fmp__wait_failed(c, rc);
        }
    }
    return 0;
}

/* A small reduction of a team with a combining tree: the contributions go to the
   members' leaves and are combined on the way to the root (tree.c). */
static int reduce_tree(fmp__ctx *c, const void *in, void *out, size_t count, fmp_type type,
                       fmp_op op, int premix, int kind, const char *file, int line)
{
    fmp__shteam *t = c->team;
    size_t bytes = count * fmp_type_size(type);
    enum tclass cl = type_class(type);
    fmp__fold fold = {combiners[type].f, combiners[type].to, count, bytes, op,
                      cl == TC_INT || cl == TC_BOOL ||
                          (cl == TC_PAIR && type != FMP_FLOAT_INT && type != FMP_DOUBLE_INT &&
                           type != FMP_LONG_DOUBLE_INT)};
    void *mine = fmp__tree_contrib(t, c->me);
    memcpy(mine, premix ? out : in, bytes);
    if (premix)
        combiners[type].f(mine, in, count, op);
    int rc = fmp__barrier_fold(c, kind, file, line, &fold);
    if (rc)
        return fmp__wait_failed(c, rc);
    memcpy(out, fmp__tree_result(t), bytes);
    return 0;
}

/* fmp_reduce (into 0) and fmp_reduce_into (into 1, kind FMP__K_REDUCE_INTO): the same
   machinery.  For fmp_reduce_into the master stages its out (the variable's value)
   combined with its in, so that the combination in member order starts with that value:
   out = out(master) op in(0) op in(1) op ... op in(n-1), in every member. */
static int reduce(fmp__ctx *c, const void *in, void *out, size_t count, fmp_type type, fmp_op op,
                  int into, const char *file, int line)
{
    int rc = fmp__reduce_check(type, op);
    if (rc)
        return rc;
    size_t es = fmp_type_size(type);
    if (count && (!in || !out))
        return FMP_EINVAL;
    if (count > SIZE_MAX / es / 2)
        return FMP_EOVERFLOW;
    size_t bytes = count * es;
    combine_fn f = combiners[type].f;
    /* fmp_reduce_into's in and inout must not overlap: the variable would count twice */
    if (into && bytes && (const char *)in < (char *)out + bytes &&
        (const char *)out < (const char *)in + bytes)
        return FMP_EINVAL;
    fmp__shteam *t = c->team;
    if (!t) {
        if (into && bytes)
            f(out, in, count, op);
        else if (bytes && in != out)
            memmove(out, in, bytes);
        return 0;
    }
    if (atomic_load(&t->broken))
        return fmp__wait_failed(c, fmp__broken_err(t));
    const char *what = into ? "fmp_reduce_into" : "fmp_reduce";
    int kind = into ? FMP__K_REDUCE_INTO : FMP__K_REDUCE;
    fmp__construct(c, kind, file, line, (long)count, type, op);
    int parity = (int)(c->epoch++ & 1);
    if (bytes > MEDIUM_BYTES)
        return reduce_large(c, in, out, count, es, &combiners[type], op, into, parity, kind, what,
                            file, line);
    /* Every member combines everything, in member order, into a buffer of its own (a
       medium one after its staged input in its scratch), then copies it to out: the
       members may all pass one out in shared memory, whose every element they then
       write once, with the same value.  in was staged, so out may alias it (and be NULL
       for a count of 0). */
    int premix = into && c->me == 0;
    if (t->tree && bytes && bytes <= FMP__INLINE_SCRATCH)
        return reduce_tree(c, in, out, count, type, op, premix, kind, file, line);
    unsigned char small[FMP__INLINE_SCRATCH] FMP__ALIGNED;
    int medium = bytes > FMP__INLINE_SCRATCH;
    char *staged = scratch_or_fail(c, parity, medium ? 2 * bytes : bytes, what, file, line);
    if (staged == NULL)
        return FMP_ENOMEM;
    if (bytes)
        memcpy(staged, premix ? out : in, bytes);
    if (premix && bytes)
        f(staged, in, count, op);
    rc = fmp__barrier(c, kind, file, line);
    if (rc)
        return fmp__wait_failed(c, rc);
    if (bytes == 0)
        return 0;
    void *acc = medium ? staged + bytes : (void *)small;
    if (c->n == 1)
        memcpy(acc, slot_buf(t, 0, parity, bytes), bytes);
    else
        combiners[type].to(acc, slot_buf(t, 0, parity, bytes), slot_buf(t, 1, parity, bytes), count,
                           op);
    for (int m = 2; m < c->n; m++)
        f(acc, slot_buf(t, m, parity, bytes), count, op);
    memcpy(out, acc, bytes);
    return 0;
}

int fmp__reduce_at(const void *in, void *out, size_t count, fmp_type type, fmp_op op,
                   const char *file, int line)
{
    return reduce(FMP__CUR_ENTRY(), in, out, count, type, op, 0, file, line);
}

/* fmp_reduce_value's: one element; a type or op that fmp_reduce refuses (a bitwise op on
   a floating value, MINLOC on a scalar), which the value form cannot return, fails the
   team as a usage error (the region's result; in abort mode the program ends saying so) */
int fmp__reduce_value_at(const void *in, void *out, fmp_type type, fmp_op op, const char *file,
                         int line)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    int rc = reduce(c, in, out, 1, type, op, 0, file, line);
    if (rc == FMP_ETYPE || rc == FMP_EOP)
        fmp__usage_error(c, rc, FMP__MSG_reduce_value_refused, file, line, fmp__op_name(op),
                         fmp__type_name(type), fmp_strerror(rc));
    return rc;
}

int fmp__reduce_into_at(const void *in, void *inout, size_t count, fmp_type type, fmp_op op,
                        const char *file, int line)
{
    return reduce(FMP__CUR_ENTRY(), in, inout, count, type, op, 1, file, line);
}

int(fmp_reduce_into)(const void *in, void *inout, size_t count, fmp_type type, fmp_op op)
{
    return fmp__reduce_into_at(in, inout, count, type, op, "fmp_reduce_into()", 0);
}

int(fmp_reduce)(const void *in, void *out, size_t count, fmp_type type, fmp_op op)
{
    return fmp__reduce_at(in, out, count, type, op, "fmp_reduce()", 0);
}

int fmp__gather_at(const void *in, void *out, size_t bytes, const char *file, int line)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    if (bytes && !in)
        return FMP_EINVAL;
    if (bytes && c->me == 0 && !out)
        return FMP_EINVAL;
    if (bytes > SIZE_MAX / 2 / (size_t)c->n)
        return FMP_EOVERFLOW;
    fmp__shteam *t = c->team;
    if (!t) {
        if (bytes && in != out)
            memmove(out, in, bytes);
        return 0;
    }
    if (atomic_load(&t->broken))
        return fmp__wait_failed(c, fmp__broken_err(t));
    fmp__construct(c, FMP__K_GATHER, file, line, (long)bytes, 0, 0);
    int parity = (int)(c->epoch++ & 1);
    if (stage(c, parity, in, bytes, "fmp_gather", file, line) == NULL)
        return FMP_ENOMEM;
    int rc = fmp__barrier(c, FMP__K_GATHER, file, line);
    if (rc || c->me != 0)
        return fmp__wait_failed(c, rc);
    for (int m = 0; m < c->n; m++)
        memcpy((char *)out + (size_t)m * bytes, slot_buf(t, m, parity, bytes), bytes);
    return 0;
}

int(fmp_gather)(const void *in, void *out, size_t bytes)
{
    return fmp__gather_at(in, out, bytes, "fmp_gather()", 0);
}

int fmp__collective(const void *in, void *out, size_t inbytes, size_t outbytes,
                    int (*master_fn)(void *const *, int, void *, void *), void *arg,
                    const char *what, const char *file, int line)
{
    return fmp__collective_fold(in, out, inbytes, outbytes, FMP_TYPE_NONE, FMP_OP_NONE, master_fn,
                                arg, what, file, line);
}

int fmp__collective_fold(const void *in, void *out, size_t inbytes, size_t outbytes, fmp_type type,
                         fmp_op op, int (*master_fn)(void *const *, int, void *, void *), void *arg,
                         const char *what, const char *file, int line)
{
    fmp__ctx *c = FMP__CUR_ENTRY();
    fmp__shteam *t = c->team;
    if (!t) {
        void *const inputs[1] = { (void *)(uintptr_t)in };
        return master_fn(inputs, 1, out, arg);
    }
    if (atomic_load(&t->broken))
        return fmp__wait_failed(c, fmp__broken_err(t));
    fmp__construct(c, FMP__K_MPI, file, line, (long)inbytes, (long)outbytes, 0);
    int parity = (int)(c->epoch++ & 1);
    if (stage(c, parity, in, inbytes, what, file, line) == NULL)
        return FMP_ENOMEM;
    int rc = fmp__barrier(c, FMP__K_MPI, file, line);
    if (rc)
        return fmp__wait_failed(c, rc);
    int inputs_n = c->n;
    size_t es = fmp_type_size(type);
    if (es && inbytes && inbytes % es == 0 && c->n > 1 && !fmp__reduce_check(type, op)) {
        /* the fold in parallel: every member combines its slice (whole cache lines) of
           the staged inputs, in member order, into member 0's; the master's step then
           sees that one input */
        size_t count = inbytes / es;
        slice sl = slice_of(count, es >= 64 ? 1 : 64 / es, c->me, c->n);
        if (sl.lo < sl.hi) {
            char *acc = (char *)(uintptr_t)slot_buf(t, 0, parity, inbytes) + sl.lo * es;
            for (int m = 1; m < c->n; m++)
                combiners[type].f(acc, (const char *)slot_buf(t, m, parity, inbytes) + sl.lo * es,
                                  sl.hi - sl.lo, op);
        }
        rc = fmp__barrier(c, FMP__K_MPI, file, line);
        if (rc)
            return fmp__wait_failed(c, rc);
        inputs_n = 1;
    }
    if (c->me == 0) {
        int frc = 0;
        if (t->result_cap[parity] < outbytes) {
            void *p = fmp__arena_alloc(outbytes);
            if (!p) {
                frc = FMP_ENOMEM;
            } else {
                fmp__arena_free(t->result[parity]);
                t->result[parity] = p;
                t->result_cap[parity] = outbytes;
            }
        }
        if (!frc) {
            void *inputs[64];
            void **ins = inputs_n <= 64 ? inputs : malloc(sizeof(void *) * (size_t)inputs_n);
            if (!ins) {
                frc = FMP_ENOMEM;
            } else {
                for (int m = 0; m < inputs_n; m++)
                    ins[m] = (void *)(uintptr_t)slot_buf(t, m, parity, inbytes);
                frc = master_fn(ins, inputs_n, t->result[parity], arg);
                if (ins != inputs)
                    free(ins);
            }
        }
        t->coll_rc[parity] = frc;
    }
    rc = fmp__barrier(c, FMP__K_MPI, file, line);
    if (rc)
        return fmp__wait_failed(c, rc);
    if (t->coll_rc[parity])
        return t->coll_rc[parity];
    if (outbytes && out)
        memcpy(out, t->result[parity], outbytes);
    return 0;
}

/* Hybrid layer (internal interface): extra values in the signature of the next
   fmp__collective, compared at its first barrier like the byte counts. */
void fmp__collective_note(long a, long b, long d, const char *file, int line)
{
    fmp__ctx *c = fmp__cur();
    if (c->team)
        fmp__construct(c, FMP__K_MPI, file, line, a, b, d);
}
