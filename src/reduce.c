/* Reductions and gathers in shared memory.
 *
 * Every member copies its contribution into its own slot's scratch (double-buffered by
 * the parity of the collective's number, so that writing the next one never races
 * with readers of the last: two uses of one buffer are always a barrier apart).
 * After a barrier:
 *  - small (<= 256 B, inline in the slot) and medium (<= 64 KiB) inputs: every member
 *    combines all slots itself, in member order, into its own out: one barrier;
 *  - large inputs: member m combines its slice (cache-line aligned) of all slots into
 *    member 0's buffer, in member order; a second barrier; everyone copies it out.
 * The order of combination is always member 0, 1, 2, ..., so the result is the same
 * bit for bit from run to run, and in every member.  fmp_reduce_into is the same
 * collective, where member 0's contribution is its inout already combined with its in. */
#include "internal.h"
#include "messages.h"

#include <complex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MEDIUM_BYTES (64u * 1024u)

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

/* acc[i] = acc[i] op in[i] for one type */
#define ARITH_CASES(T)                                                                   \
    case FMP_SUM: for (size_t i = 0; i < n; i++) a[i] = a[i] + b[i]; break;              \
    case FMP_PROD: for (size_t i = 0; i < n; i++) a[i] = a[i] * b[i]; break;
#define ORDER_CASES(T)                                                                   \
    case FMP_MIN: for (size_t i = 0; i < n; i++) a[i] = b[i] < a[i] ? b[i] : a[i]; break; \
    case FMP_MAX: for (size_t i = 0; i < n; i++) a[i] = b[i] > a[i] ? b[i] : a[i]; break;
#define LOGIC_CASES(T)                                                                   \
    case FMP_LAND: for (size_t i = 0; i < n; i++) a[i] = (T)(a[i] && b[i]); break;       \
    case FMP_LOR: for (size_t i = 0; i < n; i++) a[i] = (T)(a[i] || b[i]); break;        \
    case FMP_LXOR: for (size_t i = 0; i < n; i++) a[i] = (T)(!a[i] != !b[i]); break;
#define BIT_CASES(T)                                                                     \
    case FMP_BAND: for (size_t i = 0; i < n; i++) a[i] = a[i] & b[i]; break;             \
    case FMP_BOR: for (size_t i = 0; i < n; i++) a[i] = a[i] | b[i]; break;              \
    case FMP_BXOR: for (size_t i = 0; i < n; i++) a[i] = a[i] ^ b[i]; break;

#define DEF_INT(name, T)                                                                 \
    static void name(void *acc, const void *in, size_t n, fmp_op op)                     \
    {                                                                                    \
        T *restrict a = acc;                                                             \
        const T *restrict b = in;                                                        \
        switch (op) { ARITH_CASES(T) ORDER_CASES(T) LOGIC_CASES(T) BIT_CASES(T)          \
        default: break; }                                                                \
    }
#define DEF_FLOAT(name, T)                                                               \
    static void name(void *acc, const void *in, size_t n, fmp_op op)                     \
    {                                                                                    \
        T *restrict a = acc;                                                             \
        const T *restrict b = in;                                                        \
        switch (op) { ARITH_CASES(T) ORDER_CASES(T) LOGIC_CASES(T) default: break; }     \
    }
#define DEF_BOOL(name, T)                                                                \
    static void name(void *acc, const void *in, size_t n, fmp_op op)                     \
    {                                                                                    \
        T *restrict a = acc;                                                             \
        const T *restrict b = in;                                                        \
        switch (op) { LOGIC_CASES(T) default: break; }                                   \
    }
#define DEF_COMPLEX(name, T)                                                             \
    static void name(void *acc, const void *in, size_t n, fmp_op op)                     \
    {                                                                                    \
        T *restrict a = acc;                                                             \
        const T *restrict b = in;                                                        \
        switch (op) { ARITH_CASES(T) default: break; }                                   \
    }
/* MINLOC / MAXLOC as MPI: the better value, the lower index on ties */
#define DEF_PAIR(name, T)                                                                \
    static void name(void *acc, const void *in, size_t n, fmp_op op)                     \
    {                                                                                    \
        T *restrict a = acc;                                                             \
        const T *restrict b = in;                                                        \
        for (size_t i = 0; i < n; i++) {                                                 \
            int better = op == FMP_MINLOC ? b[i].v < a[i].v : b[i].v > a[i].v;           \
            if (better || (b[i].v == a[i].v && b[i].i < a[i].i))                         \
                a[i] = b[i];                                                             \
        }                                                                                \
    }

DEF_INT(c_char, char)
DEF_INT(c_schar, signed char)
DEF_INT(c_uchar, unsigned char)
DEF_INT(c_short, short)
DEF_INT(c_ushort, unsigned short)
DEF_INT(c_int, int)
DEF_INT(c_uint, unsigned)
DEF_INT(c_long, long)
DEF_INT(c_ulong, unsigned long)
DEF_INT(c_llong, long long)
DEF_INT(c_ullong, unsigned long long)
DEF_INT(c_i8, int8_t)
DEF_INT(c_i16, int16_t)
DEF_INT(c_i32, int32_t)
DEF_INT(c_i64, int64_t)
DEF_INT(c_u8, uint8_t)
DEF_INT(c_u16, uint16_t)
DEF_INT(c_u32, uint32_t)
DEF_INT(c_u64, uint64_t)
DEF_INT(c_size, size_t)
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
static const combine_fn combiners[FMP_TYPE_COUNT_] = {
    [FMP_CHAR] = c_char, [FMP_SIGNED_CHAR] = c_schar, [FMP_UNSIGNED_CHAR] = c_uchar,
    [FMP_SHORT] = c_short, [FMP_UNSIGNED_SHORT] = c_ushort, [FMP_INT] = c_int,
    [FMP_UNSIGNED] = c_uint, [FMP_LONG] = c_long, [FMP_ULONG] = c_ulong,
    [FMP_LLONG] = c_llong, [FMP_ULLONG] = c_ullong, [FMP_FLOAT] = c_float,
    [FMP_DOUBLE] = c_double, [FMP_LONG_DOUBLE] = c_ldouble, [FMP_BOOL] = c_bool,
    [FMP_INT8] = c_i8, [FMP_INT16] = c_i16, [FMP_INT32] = c_i32, [FMP_INT64] = c_i64,
    [FMP_UINT8] = c_u8, [FMP_UINT16] = c_u16, [FMP_UINT32] = c_u32, [FMP_UINT64] = c_u64,
    [FMP_SIZE_T] = c_size, [FMP_FLOAT_COMPLEX] = c_fcomplex,
    [FMP_DOUBLE_COMPLEX] = c_dcomplex, [FMP_LONG_DOUBLE_COMPLEX] = c_ldcomplex,
    [FMP_FLOAT_INT] = c_float_int, [FMP_DOUBLE_INT] = c_double_int,
    [FMP_LONG_DOUBLE_INT] = c_ldouble_int, [FMP_SHORT_INT] = c_short_int,
    [FMP_2INT] = c_2int, [FMP_LONG_INT] = c_long_int,
};

int fmp__reduce_combine(void *acc, const void *in, size_t count, fmp_type type, fmp_op op)
{
    int rc = fmp__reduce_check(type, op);
    if (rc)
        return rc;
    combiners[type](acc, in, count, op);
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

/* Copy in to this member's scratch; on ENOMEM the whole team fails (nobody may wait
   for a member that cannot take part). */
static void *stage(fmp__ctx *c, int parity, const void *in, size_t bytes, const char *what,
                   const char *file, int line)
{
    void *buf = fmp__scratch(c, parity, bytes);
    if (!buf) {
        fmp__team_fail(c->team, FMP_ENOMEM, c->me, FMP__HOW_USAGE, 0,
                       FMP__MSG_scratch_memory,
                       what, file, line, c->me, bytes);
        return NULL;
    }
    if (bytes) /* in may be NULL for a count of 0 */
        memcpy(buf, in, bytes);
    return buf;
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
    combine_fn f = combiners[type];
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
    int premix = into && c->me == 0;
    void *staged = stage(c, parity, premix ? out : in, bytes, what, file, line);
    if (staged == NULL)
        return FMP_ENOMEM;
    if (premix && bytes)
        f(staged, in, count, op);
    rc = fmp__barrier(c, kind, file, line);
    if (rc)
        return fmp__wait_failed(c, rc);
    int n = c->n;
    if (bytes <= MEDIUM_BYTES) {
        /* every member combines everything, in member order; in was staged, so out
           may alias it (and be NULL for a count of 0) */
        if (bytes == 0)
            return 0;
        memcpy(out, slot_buf(t, 0, parity, bytes), bytes);
        for (int m = 1; m < n; m++)
            f(out, slot_buf(t, m, parity, bytes), count, op);
        return 0;
    }
    /* large: member m combines one cache-line aligned slice into member 0's buffer */
    size_t per_line = es >= 64 ? 1 : 64 / es;
    size_t lines = (count + per_line - 1) / per_line;
    size_t lo = lines * (size_t)c->me / (size_t)n * per_line;
    size_t hi = lines * (size_t)(c->me + 1) / (size_t)n * per_line;
    if (hi > count)
        hi = count;
    if (lo < hi) {
        char *acc = (char *)t->slots[0].scratch[parity] + lo * es;
        for (int m = 1; m < n; m++)
            f(acc, (const char *)t->slots[m].scratch[parity] + lo * es, hi - lo, op);
    }
    rc = fmp__barrier(c, kind, file, line);
    if (rc)
        return fmp__wait_failed(c, rc);
    memcpy(out, t->slots[0].scratch[parity], bytes);
    return 0;
}

int fmp__reduce_at(const void *in, void *out, size_t count, fmp_type type, fmp_op op,
                   const char *file, int line)
{
    return reduce(FMP__CUR_ENTRY(), in, out, count, type, op, 0, file, line);
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
            void **ins = c->n <= 64 ? inputs : malloc(sizeof(void *) * (size_t)c->n);
            if (!ins) {
                frc = FMP_ENOMEM;
            } else {
                for (int m = 0; m < c->n; m++)
                    ins[m] = (void *)(uintptr_t)slot_buf(t, m, parity, inbytes);
                frc = master_fn(ins, c->n, t->result[parity], arg);
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
