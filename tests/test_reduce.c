/* test_reduce: fmp_reduce for every type and operation against a serial reference that
 * combines the members' inputs in member order (the documented order), its errors, sizes
 * from 1 to 4 million doubles in teams of 1 to 7, bit-for-bit repeatability, in-place
 * use, MINLOC/MAXLOC ties, and fmp_gather's member order. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <complex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

/* ============================================================== types under test */

#define INT_TYPES(X)                                                                     \
    X(FMP_CHAR, char)                                                                    \
    X(FMP_SIGNED_CHAR, signed char)                                                      \
    X(FMP_UNSIGNED_CHAR, unsigned char)                                                  \
    X(FMP_SHORT, short)                                                                  \
    X(FMP_UNSIGNED_SHORT, unsigned short)                                                \
    X(FMP_INT, int)                                                                      \
    X(FMP_UNSIGNED, unsigned)                                                            \
    X(FMP_LONG, long)                                                                    \
    X(FMP_ULONG, unsigned long)                                                          \
    X(FMP_LLONG, long long)                                                              \
    X(FMP_ULLONG, unsigned long long)                                                    \
    X(FMP_INT8, int8_t)                                                                  \
    X(FMP_INT16, int16_t)                                                                \
    X(FMP_INT32, int32_t)                                                                \
    X(FMP_INT64, int64_t)                                                                \
    X(FMP_UINT8, uint8_t)                                                                \
    X(FMP_UINT16, uint16_t)                                                              \
    X(FMP_UINT32, uint32_t)                                                              \
    X(FMP_UINT64, uint64_t)                                                              \
    X(FMP_SIZE_T, size_t)
#define FLOAT_TYPES(X)                                                                   \
    X(FMP_FLOAT, float)                                                                  \
    X(FMP_DOUBLE, double)                                                                \
    X(FMP_LONG_DOUBLE, long double)
#define COMPLEX_TYPES(X)                                                                 \
    X(FMP_FLOAT_COMPLEX, float _Complex)                                                 \
    X(FMP_DOUBLE_COMPLEX, double _Complex)                                               \
    X(FMP_LONG_DOUBLE_COMPLEX, long double _Complex)
#define PAIR_TYPES(X)                                                                    \
    X(FMP_FLOAT_INT, float)                                                              \
    X(FMP_DOUBLE_INT, double)                                                            \
    X(FMP_LONG_DOUBLE_INT, long double)                                                  \
    X(FMP_SHORT_INT, short)                                                              \
    X(FMP_2INT, int)                                                                     \
    X(FMP_LONG_INT, long)

enum tclass { C_INT, C_FLOAT, C_BOOL, C_COMPLEX, C_PAIR };

/* Inputs: member m, element i.  Small values, so that no signed type overflows in a team
   of up to 4 (products of values in 1..3), with zeros for the logical operations and
   assorted bits for the bitwise ones. */
static int small_val(int m, size_t i, fmp_op op)
{
    switch (op) {
    case FMP_PROD: return (int)((m + i) % 3) + 1;
    case FMP_LAND: case FMP_LOR: case FMP_LXOR:
        return (int)((m * 5 + i * 3) % 4 == 0 ? 0 : (m + i) % 3 + 1);
    case FMP_BAND: case FMP_BOR: case FMP_BXOR: return (int)((m * 37 + i * 11 + 5) & 0x7f);
    default: return (int)((m * 7 + i * 3) % 11) + 1;
    }
}

#define LOGIC(T, a, b, op)                                                               \
    ((op) == FMP_LAND ? (T)((a) && (b)) : (op) == FMP_LOR ? (T)((a) || (b)) : (T)(!(a) != !(b)))

#define DEF_INT(E, T)                                                                    \
    static void fill_##E(void *buf, size_t n, int m, fmp_op op)                           \
    {                                                                                    \
        T *p = buf;                                                                      \
        for (size_t i = 0; i < n; i++)                                                   \
            p[i] = (T)small_val(m, i, op);                                               \
    }                                                                                    \
    static void ref_##E(void *acc, const void *in, size_t n, fmp_op op)                  \
    {                                                                                    \
        T *a = acc;                                                                      \
        const T *b = in;                                                                 \
        for (size_t i = 0; i < n; i++) {                                                 \
            switch (op) {                                                                \
            case FMP_SUM: a[i] = (T)(a[i] + b[i]); break;                                \
            case FMP_PROD: a[i] = (T)(a[i] * b[i]); break;                               \
            case FMP_MIN: a[i] = b[i] < a[i] ? b[i] : a[i]; break;                       \
            case FMP_MAX: a[i] = b[i] > a[i] ? b[i] : a[i]; break;                       \
            case FMP_BAND: a[i] = (T)(a[i] & b[i]); break;                               \
            case FMP_BOR: a[i] = (T)(a[i] | b[i]); break;                                \
            case FMP_BXOR: a[i] = (T)(a[i] ^ b[i]); break;                               \
            default: a[i] = LOGIC(T, a[i], b[i], op); break;                             \
            }                                                                            \
        }                                                                                \
    }                                                                                    \
    static int eq_##E(const void *x, const void *y, size_t n)                            \
    {                                                                                    \
        const T *a = x, *b = y;                                                          \
        for (size_t i = 0; i < n; i++)                                                   \
            if (a[i] != b[i])                                                            \
                return 0;                                                                \
        return 1;                                                                        \
    }

#define DEF_FLOAT(E, T)                                                                  \
    static void fill_##E(void *buf, size_t n, int m, fmp_op op)                           \
    {                                                                                    \
        T *p = buf;                                                                      \
        for (size_t i = 0; i < n; i++)                                                   \
            p[i] = op == FMP_SUM ? (T)(0.1 * (m + 1) + 0.3 * (double)i - 1.7)            \
                                 : (T)small_val(m, i, op) * (T)0.5;                      \
    }                                                                                    \
    static void ref_##E(void *acc, const void *in, size_t n, fmp_op op)                  \
    {                                                                                    \
        T *a = acc;                                                                      \
        const T *b = in;                                                                 \
        for (size_t i = 0; i < n; i++) {                                                 \
            switch (op) {                                                                \
            case FMP_SUM: a[i] = a[i] + b[i]; break;                                     \
            case FMP_PROD: a[i] = a[i] * b[i]; break;                                    \
            case FMP_MIN: a[i] = b[i] < a[i] ? b[i] : a[i]; break;                       \
            case FMP_MAX: a[i] = b[i] > a[i] ? b[i] : a[i]; break;                       \
            default: a[i] = LOGIC(T, a[i], b[i], op); break;                             \
            }                                                                            \
        }                                                                                \
    }                                                                                    \
    static int eq_##E(const void *x, const void *y, size_t n)                            \
    {                                                                                    \
        const T *a = x, *b = y;                                                          \
        for (size_t i = 0; i < n; i++)                                                   \
            if (a[i] != b[i])                                                            \
                return 0;                                                                \
        return 1;                                                                        \
    }

#define DEF_COMPLEX(E, T)                                                                \
    static void fill_##E(void *buf, size_t n, int m, fmp_op op)                           \
    {                                                                                    \
        T *p = buf;                                                                      \
        for (size_t i = 0; i < n; i++)                                                   \
            p[i] = (T)small_val(m, i, op) * 0.5 + (T)(double)((m + (int)i) % 3) * I;      \
    }                                                                                    \
    static void ref_##E(void *acc, const void *in, size_t n, fmp_op op)                  \
    {                                                                                    \
        T *a = acc;                                                                      \
        const T *b = in;                                                                 \
        for (size_t i = 0; i < n; i++) {                                                 \
            switch (op) {                                                                \
            case FMP_SUM: a[i] = a[i] + b[i]; break;                                     \
            case FMP_PROD: a[i] = a[i] * b[i]; break;                                    \
            default: a[i] = LOGIC(T, a[i], b[i], op); break;                             \
            }                                                                            \
        }                                                                                \
    }                                                                                    \
    static int eq_##E(const void *x, const void *y, size_t n)                            \
    {                                                                                    \
        const T *a = x, *b = y;                                                          \
        for (size_t i = 0; i < n; i++)                                                   \
            if (a[i] != b[i])                                                            \
                return 0;                                                                \
        return 1;                                                                        \
    }

/* value-index pairs: struct { T value; int index; }; MINLOC/MAXLOC as MPI: the better
   value, the lower index on ties.  Values repeat (mod 4) so that ties happen. */
#define DEF_PAIR(E, T)                                                                   \
    typedef struct { T v; int i; } pair_##E;                                             \
    static void fill_##E(void *buf, size_t n, int m, fmp_op op)                           \
    {                                                                                    \
        (void)op;                                                                        \
        pair_##E *p = buf;                                                               \
        for (size_t i = 0; i < n; i++) {                                                 \
            p[i].v = (T)((m * 3 + (int)i) % 4);                                          \
            p[i].i = (int)((i * 7 + (size_t)m * 13) % 17);                               \
        }                                                                                \
    }                                                                                    \
    static void ref_##E(void *acc, const void *in, size_t n, fmp_op op)                  \
    {                                                                                    \
        pair_##E *a = acc;                                                               \
        const pair_##E *b = in;                                                          \
        for (size_t i = 0; i < n; i++) {                                                 \
            int better = op == FMP_MINLOC ? b[i].v < a[i].v : b[i].v > a[i].v;           \
            if (better || (b[i].v == a[i].v && b[i].i < a[i].i)) {                       \
                a[i].v = b[i].v;                                                         \
                a[i].i = b[i].i;                                                         \
            }                                                                            \
        }                                                                                \
    }                                                                                    \
    static int eq_##E(const void *x, const void *y, size_t n)                            \
    {                                                                                    \
        const pair_##E *a = x, *b = y;                                                   \
        for (size_t i = 0; i < n; i++)                                                   \
            if (a[i].v != b[i].v || a[i].i != b[i].i)                                    \
                return 0;                                                                \
        return 1;                                                                        \
    }

INT_TYPES(DEF_INT)
FLOAT_TYPES(DEF_FLOAT)
COMPLEX_TYPES(DEF_COMPLEX)
PAIR_TYPES(DEF_PAIR)

static void fill_FMP_BOOL(void *buf, size_t n, int m, fmp_op op)
{
    bool *p = buf;
    fmp_op logical = op == FMP_LAND || op == FMP_LOR || op == FMP_LXOR ? op : FMP_LOR;
    for (size_t i = 0; i < n; i++)
        p[i] = small_val(m, i, logical) != 0;
}
static void ref_FMP_BOOL(void *acc, const void *in, size_t n, fmp_op op)
{
    bool *a = acc;
    const bool *b = in;
    for (size_t i = 0; i < n; i++) {
        switch (op) {
        case FMP_SUM: a[i] = a[i] || b[i]; break; /* (bool)(a + b) */
        case FMP_PROD: a[i] = a[i] && b[i]; break; /* (bool)(a * b) */
        case FMP_MIN: a[i] = b[i] < a[i] ? b[i] : a[i]; break;
        case FMP_MAX: a[i] = b[i] > a[i] ? b[i] : a[i]; break;
        case FMP_BAND: a[i] = a[i] & b[i]; break;
        case FMP_BOR: a[i] = a[i] | b[i]; break;
        case FMP_BXOR: a[i] = a[i] ^ b[i]; break;
        default: a[i] = LOGIC(bool, a[i], b[i], op); break;
        }
    }
}
static int eq_FMP_BOOL(const void *x, const void *y, size_t n)
{
    const bool *a = x, *b = y;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

typedef struct tinfo {
    fmp_type type;
    const char *name;
    enum tclass cls;
    size_t size;
    void (*fill)(void *, size_t, int, fmp_op);
    void (*ref)(void *, const void *, size_t, fmp_op);
    int (*eq)(const void *, const void *, size_t);
} tinfo;

#define ROW_INT(E, T) { E, #E, C_INT, sizeof(T), fill_##E, ref_##E, eq_##E },
#define ROW_FLOAT(E, T) { E, #E, C_FLOAT, sizeof(T), fill_##E, ref_##E, eq_##E },
#define ROW_COMPLEX(E, T) { E, #E, C_COMPLEX, sizeof(T), fill_##E, ref_##E, eq_##E },
#define ROW_PAIR(E, T) { E, #E, C_PAIR, sizeof(pair_##E), fill_##E, ref_##E, eq_##E },

static const tinfo types[] = {
    INT_TYPES(ROW_INT) FLOAT_TYPES(ROW_FLOAT) COMPLEX_TYPES(ROW_COMPLEX) PAIR_TYPES(ROW_PAIR)
    { FMP_BOOL, "FMP_BOOL", C_BOOL, sizeof(bool), fill_FMP_BOOL, ref_FMP_BOOL, eq_FMP_BOOL },
};
#define NTYPES (int)(sizeof types / sizeof types[0])

static const char *const op_names[] = { "none", "FMP_SUM", "FMP_PROD", "FMP_MIN", "FMP_MAX",
                                        "FMP_LAND", "FMP_LOR", "FMP_LXOR", "FMP_BAND",
                                        "FMP_BOR", "FMP_BXOR", "FMP_MINLOC", "FMP_MAXLOC" };

/* What the contract says of (type, op): 1 must work, -1 must be FMP_EOP, 0 either (then a
   success must give the reference's result). */
static int expected(enum tclass c, fmp_op op)
{
    int loc = op == FMP_MINLOC || op == FMP_MAXLOC;
    int bit = op == FMP_BAND || op == FMP_BOR || op == FMP_BXOR;
    int logic = op == FMP_LAND || op == FMP_LOR || op == FMP_LXOR;
    int arith = op == FMP_SUM || op == FMP_PROD;
    int order = op == FMP_MIN || op == FMP_MAX;
    switch (c) {
    case C_INT: return loc ? -1 : 1;
    case C_FLOAT: return loc || bit ? -1 : (arith || order) ? 1 : 0;
    case C_BOOL: return loc ? -1 : logic ? 1 : 0;
    case C_COMPLEX: return loc || bit || order ? -1 : arith ? 1 : 0;
    case C_PAIR: return loc ? 1 : -1;
    }
    return 0;
}

/* ============================================================== the matrix */

#define MAXCOUNT 20000
#define MAXELEM 32

typedef struct matrix_shared {
    int rc[8];
    unsigned char out[8][MAXCOUNT * MAXELEM];
    int bad;
} matrix_shared;

static void matrix_in_team(int n)
{
    static const size_t counts[] = { 5, MAXCOUNT };
    matrix_shared *sh = ht_shared(sizeof *sh);
    FMP_PARALLEL(n) {
        int me = fmp_thread_num();
        unsigned char *in = calloc(MAXCOUNT, MAXELEM);
        unsigned char *out = calloc(MAXCOUNT, MAXELEM);
        unsigned char *ref = calloc(MAXCOUNT, MAXELEM);
        unsigned char *tmp = calloc(MAXCOUNT, MAXELEM);
        HT_REQUIRE(in && out && ref && tmp);
        for (int t = 0; t < NTYPES; t++) {
            const tinfo *ti = &types[t];
            for (int op = FMP_SUM; op <= FMP_MAXLOC; op++) {
                for (size_t ci = 0; ci < 2; ci++) {
                    size_t count = counts[ci];
                    memset(in, 0, count * ti->size);
                    memset(out, 0, count * ti->size);
                    ti->fill(in, count, me, (fmp_op)op);
                    int rc = fmp_reduce(in, out, count, ti->type, (fmp_op)op);
                    sh->rc[me] = rc;
                    memcpy(sh->out[me], out, count * ti->size);
                    fmp_barrier();
                    if (me == 0) {
                        char what[128];
                        snprintf(what, sizeof what, "team of %d: fmp_reduce(%zu x %s, %s)", n,
                                 count, ti->name, op_names[op]);
                        int e = expected(ti->cls, (fmp_op)op);
                        int bad = 0;
                        for (int m = 0; m < n; m++)
                            if (sh->rc[m] != rc) {
                                HT_FAIL("%s: member %d got %d, member 0 got %d", what, m,
                                        sh->rc[m], rc);
                                bad = 1;
                            }
                        if (e == 1 && rc != FMP_OK)
                            bad = !ht__ko(__FILE__, __LINE__, "%s: returned %d (%s), expected "
                                          "FMP_OK", what, rc, fmp_strerror(rc));
                        else if (e == -1 && rc != FMP_EOP)
                            bad = !ht__ko(__FILE__, __LINE__, "%s: returned %d (%s), expected "
                                          "FMP_EOP", what, rc, fmp_strerror(rc));
                        else if (e == 0 && rc != FMP_OK && rc != FMP_EOP)
                            bad = !ht__ko(__FILE__, __LINE__, "%s: returned %d (%s)", what, rc,
                                          fmp_strerror(rc));
                        if (!bad && rc == FMP_OK) {
                            /* the reference: member 0's input, then 1, 2, ... */
                            memset(ref, 0, count * ti->size);
                            ti->fill(ref, count, 0, (fmp_op)op);
                            for (int m = 1; m < n; m++) {
                                memset(tmp, 0, count * ti->size);
                                ti->fill(tmp, count, m, (fmp_op)op);
                                ti->ref(ref, tmp, count, (fmp_op)op);
                            }
                            for (int m = 0; m < n; m++)
                                if (!ti->eq(sh->out[m], ref, count)) {
                                    HT_FAIL("%s: member %d's result differs from the serial "
                                            "reference in member order", what, m);
                                    bad = 1;
                                    break;
                                }
                        }
                        if (bad)
                            sh->bad++;
                        else
                            HT_PASS();
                    }
                    fmp_barrier();
                }
            }
        }
        free(in);
        free(out);
        free(ref);
        free(tmp);
    }
    HT_CHECK_INT_EQ(sh->bad, 0);
}

static void test_every_type_and_op_team_of_3(void)
{
    matrix_in_team(3);
}

static void test_every_type_and_op_team_of_4(void)
{
    matrix_in_team(4);
}

static void test_type_sizes(void)
{
    for (int t = 0; t < NTYPES; t++)
        HT_CHECK_MSG(fmp_type_size(types[t].type) == types[t].size,
                     "fmp_type_size(%s) = %zu, sizeof = %zu", types[t].name,
                     fmp_type_size(types[t].type), types[t].size);
    HT_CHECK_INT_EQ(fmp_type_size(FMP_TYPE_NONE), 0);
    HT_CHECK_INT_EQ(fmp_type_size((fmp_type)999), 0);
    HT_CHECK_INT_EQ(fmp_type_size(FMP_TYPE_COUNT_), 0);
}

/* ============================================================== errors */

static void check_errors(const char *where)
{
    double d[4] = { 1, 2, 3, 4 }, o[4];
    int iv[4] = { 1, 2, 3, 4 }, io[4];
    int rc;
    rc = fmp_reduce(d, o, 4, (fmp_type)999, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_ETYPE, "%s: bogus type: %d", where, rc);
    rc = fmp_reduce(d, o, 4, FMP_TYPE_NONE, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_ETYPE, "%s: FMP_TYPE_NONE: %d", where, rc);
    rc = fmp_reduce(d, o, 4, FMP_DOUBLE, (fmp_op)99);
    HT_CHECK_MSG(rc == FMP_EOP, "%s: bogus op: %d", where, rc);
    rc = fmp_reduce(d, o, 4, FMP_DOUBLE, FMP_BAND);
    HT_CHECK_MSG(rc == FMP_EOP, "%s: FMP_BAND on FMP_DOUBLE: %d", where, rc);
    rc = fmp_reduce(d, o, 4, FMP_DOUBLE, FMP_BXOR);
    HT_CHECK_MSG(rc == FMP_EOP, "%s: FMP_BXOR on FMP_DOUBLE: %d", where, rc);
    rc = fmp_reduce(iv, io, 4, FMP_INT, FMP_MINLOC);
    HT_CHECK_MSG(rc == FMP_EOP, "%s: FMP_MINLOC on FMP_INT: %d", where, rc);
    rc = fmp_reduce(NULL, o, 4, FMP_DOUBLE, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_EINVAL, "%s: NULL in: %d", where, rc);
    rc = fmp_reduce(d, NULL, 4, FMP_DOUBLE, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_EINVAL, "%s: NULL out: %d", where, rc);
    rc = fmp_reduce(d, o, SIZE_MAX, FMP_DOUBLE, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_EOVERFLOW, "%s: count SIZE_MAX: %d", where, rc);
    rc = fmp_reduce(d, o, SIZE_MAX / 4, FMP_DOUBLE, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_EOVERFLOW, "%s: count SIZE_MAX/4 of doubles: %d", where, rc);
    rc = fmp_gather(NULL, io, 4);
    HT_CHECK_MSG(rc == FMP_EINVAL, "%s: fmp_gather NULL in: %d", where, rc);
}

static void test_errors_outside_region(void)
{
    check_errors("outside a region");
    double x = 3, y = 0;
    HT_CHECK_INT_EQ(fmp_reduce(&x, &y, 1, FMP_DOUBLE, FMP_SUM), FMP_OK);
    HT_CHECK(y == 3);
    HT_CHECK_INT_EQ(fmp_reduce(NULL, NULL, 0, FMP_DOUBLE, FMP_SUM), FMP_OK);
}

static void test_errors_inside_region(void)
{
    int *ok = ht_shared(8 * sizeof(int));
    FMP_PARALLEL(3) {
        check_errors("inside a region");
        /* the team still works after the errors */
        double x = fmp_thread_num() + 1, y = 0;
        int rc = fmp_reduce(&x, &y, 1, FMP_DOUBLE, FMP_SUM);
        ok[fmp_thread_num()] = rc == FMP_OK && y == 6;
        /* a count of 0 takes no buffers: NULL is fine (nothing is copied from or to it) */
        ok[4 + fmp_thread_num()] = fmp_reduce(NULL, NULL, 0, FMP_DOUBLE, FMP_SUM) == FMP_OK;
    }
    for (int m = 0; m < 3; m++) {
        HT_CHECK_MSG(ok[m], "member %d: a reduction after the errors failed", m);
        HT_CHECK_MSG(ok[4 + m], "member %d: fmp_reduce(NULL, NULL, 0) in a team failed", m);
    }
}

/* ============================================================== sizes, repeatability */

static double val(int m, size_t i)
{
    /* big and small magnitudes, both signs: the order of the sum changes its value */
    double big = (i + (size_t)m) % 3 == 0 ? 1e16 : 1.0;
    double sign = (m + (int)(i % 5)) % 2 ? -1.0 : 1.0;
    return sign * big * (1.0 + (double)((i * 7 + (size_t)m) % 13) / 8.0) + 0.1 * m;
}

/* A hash of an array of doubles, word by word (bit patterns, not values). */
static uint64_t hash_doubles(const double *d, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        uint64_t w;
        memcpy(&w, &d[i], sizeof w);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 29;
    }
    return h;
}

/* Private buffers for large arrays, on huge pages where the kernel gives them: page
   faults are what the 4-million-double cases spend their time on in small VMs. */
static double *big_alloc(size_t count)
{
    size_t bytes = (count * sizeof(double) + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

static void big_free(double *p, size_t count)
{
    size_t bytes = (count * sizeof(double) + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
    if (p)
        munmap(p, bytes);
}

/* Sum count doubles in a team of n; returns 1 when every member got the member-order
   reference, bit for bit; the master's result in keep (when not NULL). */
static int sum_case(int n, size_t count, double *keep)
{
    uint64_t *hash = ht_shared(8 * sizeof(uint64_t));
    int *rcs = ht_shared(8 * sizeof(int));
    double *master_out = big_alloc(count);
    HT_REQUIRE(master_out != NULL);
    FMP_PARALLEL(n) {
        int me = fmp_thread_num();
        double *in = big_alloc(count);
        double *out = me == 0 ? master_out : big_alloc(count);
        HT_REQUIRE(in && out);
        for (size_t i = 0; i < count; i++)
            in[i] = val(me, i);
        rcs[me] = fmp_reduce(in, out, count, FMP_DOUBLE, FMP_SUM);
        hash[me] = hash_doubles(out, count);
        big_free(in, count);
        if (me != 0)
            big_free(out, count);
    }
    double *ref = big_alloc(count);
    HT_REQUIRE(ref != NULL);
    for (size_t i = 0; i < count; i++) {
        double acc = val(0, i);
        for (int m = 1; m < n; m++)
            acc += val(m, i);
        ref[i] = acc;
    }
    uint64_t h = hash_doubles(ref, count);
    int good = 1;
    for (int m = 0; m < n; m++) {
        good &= HT_CHECK_MSG(rcs[m] == FMP_OK, "team of %d, %zu doubles: member %d got %d", n,
                             count, m, rcs[m]);
        good &= HT_CHECK_MSG(hash[m] == h, "team of %d, sum of %zu doubles: member %d's "
                             "result is not the member-order serial sum bit for bit",
                             n, count, m);
    }
    good &= HT_CHECK_MSG(memcmp(master_out, ref, count * sizeof(double)) == 0,
                         "team of %d, %zu doubles: the master's result differs", n, count);
    if (keep)
        memcpy(keep, master_out, count * sizeof(double));
    big_free(ref, count);
    big_free(master_out, count);
    return good;
}

static void test_sizes_and_team_sizes(void)
{
    static const size_t counts[] = { 1, 100, 100000 };
    static const int teams[] = { 1, 2, 3, 4, 7 };
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        for (size_t t = 0; t < sizeof teams / sizeof teams[0]; t++)
            sum_case(teams[t], counts[c], NULL);
}

static void test_four_million_doubles(void)
{
    /* a team of 7 stages 7 x 40 MiB of scratch in the shared arena: more than forkmp's
       default under valgrind (256 MiB), so the test says what it needs */
    setenv("FMP_SHARED_SIZE", "1G", 1);
    static const int teams[] = { 1, 2, 3, 4, 7 };
    for (size_t t = 0; t < sizeof teams / sizeof teams[0]; t++)
        sum_case(teams[t], 4u << 20, NULL);
}

static void test_bitwise_repeatable(void)
{
    static const size_t counts[] = { 10, 3000, 100000 };
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        size_t count = counts[c];
        double *first = malloc(count * sizeof(double));
        double *again = malloc(count * sizeof(double));
        HT_REQUIRE(first && again);
        /* the values are such that the order matters: the test could see a wrong order */
        int order_matters = 0;
        for (size_t i = 0; i < count && !order_matters; i++) {
            double fwd = val(0, i), bwd = val(3, i);
            for (int m = 1; m < 4; m++)
                fwd += val(m, i);
            for (int m = 2; m >= 0; m--)
                bwd += val(m, i);
            order_matters = fwd != bwd;
        }
        HT_CHECK_MSG(order_matters, "test values too tame: the order of the sum does not show");
        sum_case(4, count, first);
        for (int run = 1; run < 5; run++) {
            sum_case(4, count, again);
            HT_CHECK_MSG(memcmp(first, again, count * sizeof(double)) == 0,
                         "sum of %zu doubles in a team of 4: run %d differs from run 0", count,
                         run);
        }
        free(first);
        free(again);
    }
}

static void test_in_place(void)
{
    static const size_t counts[] = { 10, 2000, 100000 };
    int *ok = ht_shared(8 * sizeof(int));
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        size_t count = counts[c];
        memset(ok, 0, 8 * sizeof(int));
        FMP_PARALLEL(3) {
            int me = fmp_thread_num();
            long *buf = malloc(count * sizeof(long));
            HT_REQUIRE(buf != NULL);
            for (size_t i = 0; i < count; i++)
                buf[i] = (long)i * (me + 1);
            int rc = fmp_reduce(buf, buf, count, FMP_LONG, FMP_SUM);
            int good = rc == FMP_OK;
            for (size_t i = 0; good && i < count; i++)
                good = buf[i] == (long)i * 6;
            ok[me] = good;
            free(buf);
        }
        for (int m = 0; m < 3; m++)
            HT_CHECK_MSG(ok[m], "in-place fmp_reduce of %zu longs: member %d's result is wrong",
                         count, m);
    }
}

typedef struct { double v; int i; } dint;
typedef struct { int v; int i; } iint;

static void test_minloc_maxloc_ties(void)
{
    dint *res = ht_shared(4 * 2 * 3 * sizeof(dint));
    iint *ires = ht_shared(4 * 2 * sizeof(iint));
    FMP_PARALLEL(4) {
        int me = fmp_thread_num();
        dint in[3] = {
            { 5.0, 10 + me },        /* all equal: the lowest index, member 0's */
            { (double)(me % 2), 10 + me }, /* min 0 at members 0, 2; max 1 at 1, 3 */
            { 7.0, 100 - me },       /* all equal, indexes falling: member 3's */
        };
        dint mn[3], mx[3];
        HT_CHECK_INT_EQ(fmp_reduce(in, mn, 3, FMP_DOUBLE_INT, FMP_MINLOC), FMP_OK);
        HT_CHECK_INT_EQ(fmp_reduce(in, mx, 3, FMP_DOUBLE_INT, FMP_MAXLOC), FMP_OK);
        memcpy(&res[me * 6], mn, sizeof mn);
        memcpy(&res[me * 6 + 3], mx, sizeof mx);
        iint ii = { 42, 50 - 10 * me }, imn, imx;
        HT_CHECK_INT_EQ(fmp_reduce(&ii, &imn, 1, FMP_2INT, FMP_MINLOC), FMP_OK);
        HT_CHECK_INT_EQ(fmp_reduce(&ii, &imx, 1, FMP_2INT, FMP_MAXLOC), FMP_OK);
        ires[me * 2] = imn;
        ires[me * 2 + 1] = imx;
    }
    for (int m = 0; m < 4; m++) {
        const dint *mn = &res[m * 6], *mx = &res[m * 6 + 3];
        HT_CHECK_MSG(mn[0].v == 5.0 && mn[0].i == 10, "member %d: MINLOC tie gave (%g, %d)", m,
                     mn[0].v, mn[0].i);
        HT_CHECK_MSG(mx[0].v == 5.0 && mx[0].i == 10, "member %d: MAXLOC tie gave (%g, %d)", m,
                     mx[0].v, mx[0].i);
        HT_CHECK_MSG(mn[1].v == 0.0 && mn[1].i == 10, "member %d: MINLOC gave (%g, %d)", m,
                     mn[1].v, mn[1].i);
        HT_CHECK_MSG(mx[1].v == 1.0 && mx[1].i == 11, "member %d: MAXLOC gave (%g, %d)", m,
                     mx[1].v, mx[1].i);
        HT_CHECK_MSG(mn[2].i == 97 && mx[2].i == 97, "member %d: ties with falling indexes "
                     "gave %d and %d, expected the lowest, 97", m, mn[2].i, mx[2].i);
        HT_CHECK_MSG(ires[m * 2].i == 20 && ires[m * 2 + 1].i == 20,
                     "member %d: FMP_2INT ties gave %d and %d, expected 20", m, ires[m * 2].i,
                     ires[m * 2 + 1].i);
    }
}

typedef struct ginfo {
    int me;
    int pid;
    long tag;
} ginfo;

static void test_gather_member_order(void)
{
    enum { N = 5, BIG = 1000 };
    ginfo *got = ht_shared(N * sizeof(ginfo));
    unsigned char *big = ht_shared(N * BIG);
    int *pids = ht_shared(N * sizeof(int));
    int *rcs = ht_shared(2 * N * sizeof(int));
    FMP_PARALLEL(N) {
        int me = fmp_thread_num();
        pids[me] = getpid();
        ginfo g = { me, getpid(), 1000L * me + 7 };
        ginfo all[N];
        unsigned char mine[BIG];
        memset(mine, 'A' + me, sizeof mine);
        unsigned char *allbig = me == 0 ? malloc(N * BIG) : NULL;
        rcs[me] = fmp_gather(&g, me == 0 ? all : NULL, sizeof g);
        rcs[N + me] = fmp_gather(mine, allbig, BIG);
        if (me == 0) {
            memcpy(got, all, sizeof all);
            if (allbig)
                memcpy(big, allbig, N * BIG);
            free(allbig);
        }
    }
    for (int m = 0; m < N; m++) {
        HT_CHECK_INT_EQ(rcs[m], FMP_OK);
        HT_CHECK_INT_EQ(rcs[N + m], FMP_OK);
        HT_CHECK_INT_EQ(got[m].me, m);
        HT_CHECK_INT_EQ(got[m].pid, pids[m]);
        HT_CHECK_INT_EQ(got[m].tag, 1000L * m + 7);
        int good = 1;
        for (int k = 0; k < BIG; k++)
            good &= big[m * BIG + k] == 'A' + m;
        HT_CHECK_MSG(good, "fmp_gather of %d bytes: member %d's part is not in place %d", BIG,
                     m, m);
    }
}

static const ht_test tests[] = {
    HT_TEST(test_type_sizes),
    HT_TEST_TIMEOUT(test_every_type_and_op_team_of_3, 60),
    HT_TEST_TIMEOUT(test_every_type_and_op_team_of_4, 60),
    HT_TEST(test_errors_outside_region),
    HT_TEST(test_errors_inside_region),
    HT_TEST(test_sizes_and_team_sizes),
    HT_TEST_TIMEOUT(test_four_million_doubles, 60),
    HT_TEST(test_bitwise_repeatable),
    HT_TEST(test_in_place),
    HT_TEST(test_minloc_maxloc_ties),
    HT_TEST(test_gather_member_order),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "reduce", tests);
}
