/* test_reduce: fmp_reduce for every type and operation against a serial reference that
 * combines the members' inputs in member order (the documented order), its errors, sizes
 * from 1 to 4 million doubles in teams of 1 to 7, bit-for-bit repeatability, in-place
 * use, MINLOC/MAXLOC ties, and fmp_gather's member order.  fmp_reduce_into (OpenMP's
 * reduction clause: the master's value of the variable first, then every member's part):
 * the same matrix and sizes, the value kept across two loops, outside regions, errors. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <complex.h>
#include <signal.h>
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

#define MAXTEAM 12

typedef struct matrix_shared {
    int rc[MAXTEAM];
    unsigned char out[MAXTEAM][MAXCOUNT * MAXELEM];
    int bad;
} matrix_shared;

/* into: fmp_reduce_into, with the master's inout filled as member MASTER_INIT's input
   would be, and the other members' inout as member 20 + m's (never read) */
#define MASTER_INIT 9

static void matrix_in_team(int n, int into)
{
    const char *fn = into ? "fmp_reduce_into" : "fmp_reduce";
    static const size_t counts[] = { 5, MAXCOUNT };
    matrix_shared *sh = ht_shared(sizeof *sh);
    HT_REQUIRE(n <= MAXTEAM);
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
                    int rc;
                    if (into) {
                        ti->fill(out, count, me == 0 ? MASTER_INIT : 20 + me, (fmp_op)op);
                        rc = fmp_reduce_into(in, out, count, ti->type, (fmp_op)op);
                    } else {
                        rc = fmp_reduce(in, out, count, ti->type, (fmp_op)op);
                    }
                    sh->rc[me] = rc;
                    memcpy(sh->out[me], out, count * ti->size);
                    fmp_barrier();
                    if (me == 0) {
                        char what[128];
                        snprintf(what, sizeof what, "team of %d: %s(%zu x %s, %s)", n, fn, count,
                                 ti->name, op_names[op]);
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
                            /* the reference: member 0's input, then 1, 2, ...; with
                               into, the master's inout before them */
                            memset(ref, 0, count * ti->size);
                            ti->fill(ref, count, into ? MASTER_INIT : 0, (fmp_op)op);
                            for (int m = into ? 0 : 1; m < n; m++) {
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
    matrix_in_team(3, 0);
}

static void test_every_type_and_op_team_of_4(void)
{
    matrix_in_team(4, 0);
}

/* A team with a combining tree (FMP_BARRIER_TREE=2: two leaves of 8 and 3 members under
   the root): exact types combine along the tree, floating ones in member order at the
   root; both give the serial reference's bits. */
static void test_tree_every_type_and_op_team_of_11(void)
{
    setenv("FMP_BARRIER_TREE", "2", 1);
    matrix_in_team(11, 0);
}

static void test_tree_reduce_into_every_type_and_op_team_of_9(void)
{
    setenv("FMP_BARRIER_TREE", "2", 1);
    matrix_in_team(9, 1);
}

static void test_reduce_into_every_type_and_op_team_of_3(void)
{
    matrix_in_team(3, 1);
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

/* fmp_reduce, or fmp_reduce_into when into */
#define REDUCE(into, ...) ((into) ? fmp_reduce_into(__VA_ARGS__) : fmp_reduce(__VA_ARGS__))

static void check_errors(const char *where, int into)
{
    const char *fn = into ? "fmp_reduce_into" : "fmp_reduce";
    double d[4] = {1, 2, 3, 4}, o[4] = {0};
    int iv[4] = {1, 2, 3, 4}, io[4] = {0};
    int rc;
    rc = REDUCE(into, d, o, 4, (fmp_type)999, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_ETYPE, "%s: %s: bogus type: %d", where, fn, rc);
    rc = REDUCE(into, d, o, 4, FMP_TYPE_NONE, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_ETYPE, "%s: %s: FMP_TYPE_NONE: %d", where, fn, rc);
    rc = REDUCE(into, d, o, 4, FMP_DOUBLE, (fmp_op)99);
    HT_CHECK_MSG(rc == FMP_EOP, "%s: %s: bogus op: %d", where, fn, rc);
    rc = REDUCE(into, d, o, 4, FMP_DOUBLE, FMP_BAND);
    HT_CHECK_MSG(rc == FMP_EOP, "%s: %s: FMP_BAND on FMP_DOUBLE: %d", where, fn, rc);
    rc = REDUCE(into, d, o, 4, FMP_DOUBLE, FMP_BXOR);
    HT_CHECK_MSG(rc == FMP_EOP, "%s: %s: FMP_BXOR on FMP_DOUBLE: %d", where, fn, rc);
    rc = REDUCE(into, iv, io, 4, FMP_INT, FMP_MINLOC);
    HT_CHECK_MSG(rc == FMP_EOP, "%s: %s: FMP_MINLOC on FMP_INT: %d", where, fn, rc);
    rc = REDUCE(into, NULL, o, 4, FMP_DOUBLE, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_EINVAL, "%s: %s: NULL in: %d", where, fn, rc);
    rc = REDUCE(into, d, NULL, 4, FMP_DOUBLE, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_EINVAL, "%s: %s: NULL out: %d", where, fn, rc);
    rc = REDUCE(into, d, o, SIZE_MAX, FMP_DOUBLE, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_EOVERFLOW, "%s: %s: count SIZE_MAX: %d", where, fn, rc);
    rc = REDUCE(into, d, o, SIZE_MAX / 4, FMP_DOUBLE, FMP_SUM);
    HT_CHECK_MSG(rc == FMP_EOVERFLOW, "%s: %s: count SIZE_MAX/4 of doubles: %d", where, fn, rc);
    if (into) {
        /* in and inout overlapping: the variable would count twice */
        rc = fmp_reduce_into(d, d, 4, FMP_DOUBLE, FMP_SUM);
        HT_CHECK_MSG(rc == FMP_EINVAL, "%s: fmp_reduce_into(d, d): %d", where, rc);
        rc = fmp_reduce_into(d + 1, d, 2, FMP_DOUBLE, FMP_SUM);
        HT_CHECK_MSG(rc == FMP_EINVAL, "%s: fmp_reduce_into(d + 1, d, 2): %d", where, rc);
        rc = fmp_reduce_into(d, d + 3, 4, FMP_DOUBLE, FMP_SUM);
        HT_CHECK_MSG(rc == FMP_EINVAL, "%s: fmp_reduce_into(d, d + 3, 4): %d", where, rc);
        HT_CHECK_MSG(d[0] == 1 && d[1] == 2 && d[2] == 3 && d[3] == 4,
                     "%s: a refused fmp_reduce_into changed its buffers", where);
    } else {
        rc = fmp_gather(NULL, io, 4);
        HT_CHECK_MSG(rc == FMP_EINVAL, "%s: fmp_gather NULL in: %d", where, rc);
    }
}

static void test_errors_outside_region(void)
{
    check_errors("outside a region", 0);
    check_errors("outside a region", 1);
    double x = 3, y = 0;
    HT_CHECK_INT_EQ(fmp_reduce(&x, &y, 1, FMP_DOUBLE, FMP_SUM), FMP_OK);
    HT_CHECK(y == 3);
    HT_CHECK_INT_EQ(fmp_reduce(NULL, NULL, 0, FMP_DOUBLE, FMP_SUM), FMP_OK);
    HT_CHECK_INT_EQ(fmp_reduce_into(NULL, NULL, 0, FMP_DOUBLE, FMP_SUM), FMP_OK);
}

/* fmp_reduce_value: the value form gives what fmp_reduce gives, bit for bit (member order),
   for every type it takes, in every member; outside a region, its argument; an op its
   type does not take (FMP_BXOR on a double): its argument back, and the region fails with
   FMP_EOP, saying so (the value form has no result code to return it in). */
static void test_reduce_value(void)
{
    HT_CHECK(fmp_reduce_value(2.5, FMP_SUM) == 2.5);
    HT_CHECK(fmp_reduce_value(-7L, FMP_MAX) == -7L);
    int *bad = ht_shared(sizeof(int) * 3);
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        double d = 0.1 * (me + 1) + 1e-17 * me, dref;
        fmp_reduce(&d, &dref, 1, FMP_DOUBLE, FMP_SUM);
        double dv = fmp_reduce_value(d, FMP_SUM);
        float f = 0.3f * (float)(me + 1), fref;
        fmp_reduce(&f, &fref, 1, FMP_FLOAT, FMP_PROD);
        long double ld = 1.0L / (me + 3), ldref;
        fmp_reduce(&ld, &ldref, 1, FMP_LONG_DOUBLE, FMP_SUM);
        int i = me * 7 - 5;
        unsigned u = 1u << me;
        long l = -100L * me;
        unsigned long ul = 3ul * (unsigned long)me;
        long long ll = (long long)me << 40;
        unsigned long long ull = ~0ull - (unsigned long long)me;
        int miss = memcmp(&dv, &dref, sizeof dv) != 0;
        miss += fmp_reduce_value(f, FMP_PROD) != fref;
        miss += fmp_reduce_value(ld, FMP_SUM) != ldref;
        miss += fmp_reduce_value(i, FMP_MIN) != -5;
        miss += fmp_reduce_value(u, FMP_BOR) != 7u;
        miss += fmp_reduce_value(l, FMP_SUM) != -300L;
        miss += fmp_reduce_value(ul, FMP_MAX) != 6ul;
        miss += fmp_reduce_value(ll, FMP_SUM) != 3LL << 40;
        miss += fmp_reduce_value(ull, FMP_MIN) != ~0ull - 2;
        bad[me] = miss;
    }
    for (int m = 0; m < 3; m++)
        HT_CHECK_MSG(bad[m] == 0, "member %d: %d value reductions differ", m, bad[m]);
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    double *got = ht_shared(sizeof(double));
    int rc = 0;
    FMP_PARALLEL(2) {
        double v = fmp_reduce_value(4.0, FMP_BXOR); /* refused: a bitwise op on a double */
        if (fmp_thread_num() == 0)
            *got = v;
    }
    rc = fmp_region_error();
    HT_CHECK(*got == 4.0);
    HT_CHECK_MSG(rc == FMP_EOP, "region %d (%s): the refused op must fail the region", rc,
                 fmp_strerror(rc));
    HT_CHECK_CONTAINS(fmp_last_failure(), "fmp_reduce_value at");
    HT_CHECK_CONTAINS(fmp_last_failure(), "FMP_BXOR on FMP_DOUBLE");
}

static void test_errors_inside_region(void)
{
    int *ok = ht_shared(12 * sizeof(int));
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        check_errors("inside a region", 0);
        check_errors("inside a region", 1);
        /* the team still works after the errors */
        double x = me + 1, y = 0;
        int rc = fmp_reduce(&x, &y, 1, FMP_DOUBLE, FMP_SUM);
        ok[me] = rc == FMP_OK && y == 6;
        /* a count of 0 takes no buffers: NULL is fine (nothing is copied from or to it) */
        ok[4 + me] = fmp_reduce(NULL, NULL, 0, FMP_DOUBLE, FMP_SUM) == FMP_OK &&
                     fmp_reduce_into(NULL, NULL, 0, FMP_DOUBLE, FMP_SUM) == FMP_OK;
        double z = 10;
        ok[8 + me] = fmp_reduce_into(&x, &z, 1, FMP_DOUBLE, FMP_SUM) == FMP_OK && z == 16;
    }
    for (int m = 0; m < 3; m++) {
        HT_CHECK_MSG(ok[m], "member %d: a reduction after the errors failed", m);
        HT_CHECK_MSG(ok[4 + m], "member %d: a reduction of 0 elements of NULL in a team failed", m);
        HT_CHECK_MSG(ok[8 + m], "member %d: fmp_reduce_into after the errors failed", m);
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

/* The master's value of inout for fmp_reduce_into: member 50's input. */
#define INTO_INIT 50

/* Sum count doubles in a team of n (into: with fmp_reduce_into, the master's inout
   holding member INTO_INIT's input, the others' something never read); returns 1 when
   every member got the member-order reference, bit for bit; the master's result in keep
   (when not NULL). */
static int sum_case(int n, size_t count, double *keep, int into)
{
    const char *fn = into ? "fmp_reduce_into" : "fmp_reduce";
    uint64_t *hash = ht_shared(8 * sizeof(uint64_t));
    int *rcs = ht_shared(8 * sizeof(int));
    double *master_out = big_alloc(count);
    HT_REQUIRE(master_out != NULL);
    FMP_PARALLEL(n) {
        int me = fmp_thread_num();
        double *in = big_alloc(count);
        double *out = me == 0 ? master_out : big_alloc(count);
        HT_REQUIRE(in && out);
        for (size_t i = 0; i < count; i++) {
            in[i] = val(me, i);
            if (into)
                out[i] = me == 0 ? val(INTO_INIT, i) : -val(me, i);
        }
        rcs[me] = REDUCE(into, in, out, count, FMP_DOUBLE, FMP_SUM);
        hash[me] = hash_doubles(out, count);
        big_free(in, count);
        if (me != 0)
            big_free(out, count);
    }
    double *ref = big_alloc(count);
    HT_REQUIRE(ref != NULL);
    for (size_t i = 0; i < count; i++) {
        double acc = into ? val(INTO_INIT, i) + val(0, i) : val(0, i);
        for (int m = 1; m < n; m++)
            acc += val(m, i);
        ref[i] = acc;
    }
    uint64_t h = hash_doubles(ref, count);
    int good = 1;
    for (int m = 0; m < n; m++) {
        good &= HT_CHECK_MSG(rcs[m] == FMP_OK, "team of %d, %s of %zu doubles: member %d got %d", n,
                             fn, count, m, rcs[m]);
        good &= HT_CHECK_MSG(hash[m] == h,
                             "team of %d, %s of %zu doubles: member %d's "
                             "result is not the member-order serial sum bit for bit",
                             n, fn, count, m);
    }
    good &=
        HT_CHECK_MSG(memcmp(master_out, ref, count * sizeof(double)) == 0,
                     "team of %d, %s of %zu doubles: the master's result differs", n, fn, count);
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
            sum_case(teams[t], counts[c], NULL, 0);
}

/* fmp_reduce_into on the three paths (inline, medium, large in parallel slices): the
   master's value first, then the members in order, bit for bit, in every member; values
   for which another order (the master's value last) gives other bits */
static void test_reduce_into_sizes_and_team_sizes(void)
{
    static const size_t counts[] = {1, 100, 100000};
    static const int teams[] = {1, 2, 3, 4, 7};
    int order_shows = 0;
    for (size_t i = 0; i < 100 && !order_shows; i++) {
        double first = val(INTO_INIT, i), last = val(0, i);
        for (int m = 0; m < 4; m++)
            first += val(m, i);
        for (int m = 1; m < 4; m++)
            last += val(m, i);
        order_shows = first != last + val(INTO_INIT, i);
    }
    HT_CHECK_MSG(order_shows, "test values too tame: where the master's value goes does not "
                              "show");
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        for (size_t t = 0; t < sizeof teams / sizeof teams[0]; t++)
            sum_case(teams[t], counts[c], NULL, 1);
}

static void test_four_million_doubles(void)
{
    /* a team of 7 stages 7 x 40 MiB of scratch in the shared arena: more than forkmp's
       default under valgrind (256 MiB), so the test says what it needs */
    setenv("FMP_SHARED_SIZE", "1G", 1);
    static const int teams[] = { 1, 2, 3, 4, 7 };
    for (size_t t = 0; t < sizeof teams / sizeof teams[0]; t++)
        sum_case(teams[t], 4u << 20, NULL, 0);
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
        sum_case(4, count, first, 0);
        for (int run = 1; run < 5; run++) {
            sum_case(4, count, again, 0);
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

/* ============================================================== large reductions in blocks */

/* fmp_reduce goes through large arrays in blocks of 256 KiB (32768 doubles), reading the
   inputs that lie in the shared arena where they are and staging the others a block at a
   time, combining straight into a common out in the arena or else through a result
   block that every member copies out.  Every combination gives the member-order serial
   fold, bit for bit, in every member. */
#define BLOCK_DOUBLES 32768

enum where { PRIV, OWN_ARENA, COMMON_ARENA, COMMON_MAP };
static const char *const where_names[] = {"private", "own arena buffer", "common arena buffer",
                                          "common MAP_SHARED buffer outside the arena"};

/* Sum count doubles in a team of n with in and out where the case says (alias: in is
   out); returns 1 when every member got the member-order reference, bit for bit. */
static int large_case(int n, size_t count, enum where win, enum where wout, int into, int alias)
{
    const char *fn = into ? "fmp_reduce_into" : "fmp_reduce";
    size_t bytes = count * sizeof(double);
    double *arena_in[8] = {0}, *arena_out[8] = {0}, *common = NULL;
    for (int m = 0; m < n; m++) {
        if (win == OWN_ARENA && !alias)
            HT_REQUIRE((arena_in[m] = fmp_shared_alloc(bytes)) != NULL);
        if (wout == OWN_ARENA)
            HT_REQUIRE((arena_out[m] = fmp_shared_alloc(bytes)) != NULL);
    }
    if (wout == COMMON_ARENA || wout == COMMON_MAP) {
        common = wout == COMMON_ARENA ? fmp_shared_alloc(bytes) : ht_shared(bytes);
        HT_REQUIRE(common != NULL);
        /* the master's inout, or (alias) the one input every member passes */
        for (size_t i = 0; i < count; i++)
            common[i] = alias ? val(0, i) : into ? val(INTO_INIT, i) : -1.0;
    }
    uint64_t *hash = ht_shared(8 * sizeof(uint64_t));
    int *rcs = ht_shared(8 * sizeof(int));
    FMP_PARALLEL(n) {
        int me = fmp_thread_num();
        double *out = wout == PRIV ? big_alloc(count) : wout == OWN_ARENA ? arena_out[me] : common;
        double *in = alias ? out : win == PRIV ? big_alloc(count) : arena_in[me];
        HT_REQUIRE(in && out);
        if (!(alias && common))
            for (size_t i = 0; i < count; i++)
                in[i] = val(me, i);
        if (into && !common)
            for (size_t i = 0; i < count; i++)
                out[i] = me == 0 ? val(INTO_INIT, i) : -val(me, i);
        rcs[me] = REDUCE(into, in, out, count, FMP_DOUBLE, FMP_SUM);
        hash[me] = hash_doubles(out, count);
        if (win == PRIV && !alias)
            big_free(in, count);
        if (wout == PRIV)
            big_free(out, count);
    }
    double *ref = big_alloc(count);
    HT_REQUIRE(ref != NULL);
    for (size_t i = 0; i < count; i++) {
        int same = alias && common; /* every member contributes member 0's */
        double acc = into ? val(INTO_INIT, i) + val(0, i) : val(0, i);
        for (int m = 1; m < n; m++)
            acc += val(same ? 0 : m, i);
        ref[i] = acc;
    }
    uint64_t h = hash_doubles(ref, count);
    int good = 1;
    for (int m = 0; m < n; m++) {
        good &= HT_CHECK_MSG(
            rcs[m] == FMP_OK, "team of %d, %s of %zu doubles, in %s%s, out %s: member %d got %d", n,
            fn, count, where_names[win], alias ? " (= out)" : "", where_names[wout], m, rcs[m]);
        good &= HT_CHECK_MSG(hash[m] == h,
                             "team of %d, %s of %zu doubles, in %s%s, out %s: member %d's result "
                             "is not the member-order serial sum bit for bit",
                             n, fn, count, where_names[win], alias ? " (= out)" : "",
                             where_names[wout], m);
    }
    if (common)
        good &= HT_CHECK_MSG(memcmp(common, ref, bytes) == 0,
                             "team of %d, %s of %zu doubles into a common arena buffer: the "
                             "buffer differs from the reference after the region",
                             n, fn, count);
    big_free(ref, count);
    for (int m = 0; m < n; m++) {
        fmp_shared_free(arena_in[m]);
        fmp_shared_free(arena_out[m]);
    }
    if (wout == COMMON_ARENA)
        fmp_shared_free(common);
    return good;
}

/* Sizes that are not multiples of the block (a last block shorter than the team's cache
   lines, too), odd and even teams, inputs and outs private and in the arena. */
static void test_large_blocks_private_and_arena(void)
{
    static const size_t counts[] = {3 * BLOCK_DOUBLES + 1, 2 * BLOCK_DOUBLES + 3, 100003};
    static const int teams[] = {2, 3, 5};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        for (size_t t = 0; t < sizeof teams / sizeof teams[0]; t++)
            for (int win = PRIV; win <= OWN_ARENA; win++)
                for (int wout = PRIV; wout <= COMMON_ARENA; wout++)
                    for (int into = 0; into < 2; into++)
                        large_case(teams[t], counts[c], (enum where)win, (enum where)wout, into, 0);
}

/* Every member passes one out in shared memory (the arena, or a MAP_SHARED mapping of the
   program's), on every path (inline, medium, large): each member writes the result there
   and none may read a partial result another one wrote.  Repeated: races show now and
   then. */
static void test_common_out_every_path(void)
{
    static const size_t counts[] = {5, 3001, 3 * BLOCK_DOUBLES + 1};
    static const int teams[] = {3, 4};
    for (int rep = 0; rep < 5; rep++)
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
            for (size_t t = 0; t < sizeof teams / sizeof teams[0]; t++)
                for (int wout = COMMON_ARENA; wout <= COMMON_MAP; wout++)
                    for (int into = 0; into < 2; into++)
                        if (!large_case(teams[t], counts[c], PRIV, (enum where)wout, into, 0))
                            return;
}

/* In place: a member's in is its out, private, its own arena buffer, or one arena buffer
   that every member passes as both (each then contributes what it holds before). */
static void test_large_in_place(void)
{
    static const int teams[] = {2, 3};
    for (size_t t = 0; t < sizeof teams / sizeof teams[0]; t++)
        for (int w = PRIV; w <= COMMON_MAP; w++)
            large_case(teams[t], 3 * BLOCK_DOUBLES + 5, (enum where)w, (enum where)w, 0, 1);
}

/* A member that dies in the middle of a large reduction (a fault in the 5th block of its
   input while it stages it, or of its out while it copies the result there): the others
   get an error, nobody hangs. */
static void large_death(enum where win, int fault_in)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    const size_t count = 10 * BLOCK_DOUBLES + 7;
    size_t bytes = count * sizeof(double);
    double *arena_in[3] = {0};
    if (win == OWN_ARENA)
        for (int m = 0; m < 3; m++)
            HT_REQUIRE((arena_in[m] = fmp_shared_alloc(bytes)) != NULL);
    int *rcs = ht_shared(4 * sizeof(int));
    rcs[0] = rcs[1] = rcs[2] = 1;
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        double *in = win == PRIV ? big_alloc(count) : arena_in[me];
        double *out = big_alloc(count);
        HT_REQUIRE(in && out);
        for (size_t i = 0; i < count; i++)
            in[i] = val(me, i);
        if (me == 2) /* a page in the 5th block: a real fault when it is reached */
            HT_REQUIRE(mprotect((char *)(fault_in ? in : out) + 4 * BLOCK_DOUBLES * sizeof(double),
                                4096, PROT_NONE) == 0);
        rcs[me] = fmp_reduce(in, out, count, FMP_DOUBLE, FMP_SUM);
        big_free(out, count);
        if (win == PRIV)
            big_free(in, count);
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_EMEMBER);
    HT_CHECK_MSG(rcs[2] == 1, "member 2 returned %d from a reduction it cannot have finished",
                 rcs[2]);
    for (int m = 0; m < 2; m++)
        HT_CHECK_MSG(rcs[m] == FMP_EMEMBER || rcs[m] == FMP_EBROKEN || (m > 0 && rcs[m] == 1),
                     "member %d: fmp_reduce in a team whose member 2 died in the middle: %d", m,
                     rcs[m]);
    for (int m = 0; m < 3; m++)
        fmp_shared_free(arena_in[m]);
}

static void test_large_member_dies_staging(void)
{
    large_death(PRIV, 1);
}

static void test_large_member_dies_copying_out(void)
{
    large_death(OWN_ARENA, 0);
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

/* ============================================================== fmp_reduce_into */

/* shared/repro/reduce_initial_value.c: reduction(+:s) over a variable that already holds
   a value (CoMD's etot over two loops) keeps that value; fmp_reduce, the translation the
   porting table gave, dropped it, and its in-place form counted it once per member. */
static void test_reduce_into_keeps_initial_value(void)
{
    double *seen = ht_shared(8 * sizeof(double));
    int *rcs = ht_shared(8 * sizeof(int));
    double s = 100.0; /* as after a first reduction loop */
    FMP_PARALLEL(2) {
        double part = 0.0;
        FMP_FOR(i, 0, 10, fmp_static(0)) {
            part += 1.0;
        }
        rcs[fmp_thread_num()] = fmp_reduce_into(&part, &s, 1, FMP_DOUBLE, FMP_SUM);
        seen[fmp_thread_num()] = s;
    }
    for (int m = 0; m < 2; m++) {
        HT_CHECK_INT_EQ(rcs[m], FMP_OK);
        HT_CHECK_MSG(seen[m] == 110.0,
                     "member %d: reduction(+:s) of 10 x 1.0 into s = 100 "
                     "gave %g, OpenMP gives 110",
                     m, seen[m]);
    }
    HT_CHECK_MSG(s == 110.0, "the master's s after the region: %g, expected 110", s);

    /* what fmp_reduce does, as documented: the parts alone; in place, the old value once
       per member */
    double r = 100.0, t = 100.0;
    FMP_PARALLEL(2) {
        double part = 0.0;
        FMP_FOR(i, 0, 10, fmp_static(0)) {
            part += 1.0;
            t += 1.0;
        }
        fmp_reduce(&part, &r, 1, FMP_DOUBLE, FMP_SUM);
        fmp_reduce(&t, &t, 1, FMP_DOUBLE, FMP_SUM);
    }
    HT_CHECK_MSG(r == 10.0, "fmp_reduce(&part, &r): %g, documented as the parts alone (10)", r);
    HT_CHECK_MSG(t == 210.0,
                 "fmp_reduce(&t, &t): %g, documented as counting t's old value "
                 "once per member (210)",
                 t);

    /* CoMD's eam.c: etot accumulates over two reduction loops, in one region and in two */
    enum { N = 1000 };
    double etot = 0.0;
    FMP_PARALLEL(3) {
        double p1 = 0.0, p2 = 0.0;
        FMP_FOR(i, 0, N, fmp_dynamic(7)) {
            p1 += (double)i;
        }
        fmp_reduce_into(&p1, &etot, 1, FMP_DOUBLE, FMP_SUM);
        FMP_FOR(i, 0, N, fmp_static(0)) {
            p2 += 0.5 * (double)i;
        }
        fmp_reduce_into(&p2, &etot, 1, FMP_DOUBLE, FMP_SUM);
        seen[fmp_thread_num()] = etot;
    }
    double want = 1.5 * (N * (N - 1) / 2);
    for (int m = 0; m < 3; m++)
        HT_CHECK_MSG(seen[m] == want, "member %d: etot over two loops %g, expected %g", m, seen[m],
                     want);
    HT_CHECK_MSG(etot == want, "etot over two loops in one region: %g, expected %g", etot, want);
    FMP_PARALLEL(3) {
        double p = 0.0;
        FMP_FOR(i, 0, N, fmp_guided(3)) {
            p += 2.0 * (double)i;
        }
        fmp_reduce_into(&p, &etot, 1, FMP_DOUBLE, FMP_SUM);
    }
    want += 2.0 * (N * (N - 1) / 2);
    HT_CHECK_MSG(etot == want, "etot over a third loop in another region: %g, expected %g", etot,
                 want);
}

typedef struct into_pair {
    double v;
    int i;
} into_pair;

/* Outside regions, in a team of one and in an inner region of one member: inout op in. */
static void into_serial(const char *where, int *bad)
{
    double x = 5, in = 3;
    long p = 5, pin = 3;
    into_pair mn = {2.0, 7}, pmin = {1.0, 3}, tie = {2.0, 1};
    int b = fmp_reduce_into(&in, &x, 1, FMP_DOUBLE, FMP_SUM) == FMP_OK && x == 8 &&
            fmp_reduce_into(&pin, &p, 1, FMP_LONG, FMP_PROD) == FMP_OK && p == 15 &&
            fmp_reduce_into(&in, &x, 1, FMP_DOUBLE, FMP_MIN) == FMP_OK && x == 3;
    if (!HT_CHECK_MSG(b, "%s: fmp_reduce_into of scalars is not inout op in", where))
        ++*bad;
    into_pair keep = mn;
    b = fmp_reduce_into(&pmin, &keep, 1, FMP_DOUBLE_INT, FMP_MINLOC) == FMP_OK && keep.v == 1.0 &&
        keep.i == 3 && fmp_reduce_into(&tie, &mn, 1, FMP_DOUBLE_INT, FMP_MINLOC) == FMP_OK &&
        mn.v == 2.0 && mn.i == 1;
    if (!HT_CHECK_MSG(b, "%s: fmp_reduce_into of FMP_DOUBLE_INT with FMP_MINLOC", where))
        ++*bad;
}

static void test_reduce_into_outside_and_teams_of_one(void)
{
    int *bad = ht_shared(sizeof(int));
    into_serial("outside a region", bad);
    FMP_PARALLEL(1) {
        into_serial("a team of one", bad);
    }
    FMP_PARALLEL(2) {
        FMP_PARALLEL(2) { /* nesting off: a team of one */
            into_serial("an inner region of one member", bad);
        }
    }
    HT_CHECK_INT_EQ(*bad, 0);
}

typedef struct into_run {
    double init;  /* the master's value of its variable */
    double *seen; /* shared: what each member got */
    int *rcs;
} into_run;

static void into_run_body(void *arg)
{
    const into_run *r = arg;
    int me = fmp_thread_num();
    double v = me == 0 ? r->init : -1000.0 * me; /* only the master's value counts */
    double part = me + 1;
    r->rcs[me] = fmp_reduce_into(&part, &v, 1, FMP_DOUBLE, FMP_SUM);
    r->seen[me] = v;
}

static void test_reduce_into_persistent_team(void)
{
    into_run r = {0, ht_shared(4 * sizeof(double)), ht_shared(4 * sizeof(int))};
    fmp_team *t = fmp_team_create(4);
    HT_REQUIRE(t != NULL);
    for (int run = 0; run < 3; run++) {
        r.init = 10.0 * run;
        HT_CHECK_INT_EQ(fmp_team_run(t, into_run_body, &r, sizeof r), FMP_OK);
        for (int m = 0; m < 4; m++) {
            HT_CHECK_INT_EQ(r.rcs[m], FMP_OK);
            HT_CHECK_MSG(r.seen[m] == r.init + 10.0, "run %d, member %d: %g, expected %g", run, m,
                         r.seen[m], r.init + 10.0);
        }
    }
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
}

/* A member that dies before the reduction: the others get an error, nobody hangs (the
   master may stop member 1 before it notes its result: then its entry stays 1). */
static void test_reduce_into_broken_team(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int *rcs = ht_shared(4 * sizeof(int));
    rcs[0] = rcs[1] = 1;
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        if (me == 2)
            raise(SIGKILL);
        double part = 1, v = 0;
        rcs[me] = fmp_reduce_into(&part, &v, 1, FMP_DOUBLE, FMP_SUM);
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_EMEMBER);
    for (int m = 0; m < 2; m++)
        HT_CHECK_MSG(rcs[m] == FMP_EMEMBER || rcs[m] == FMP_EBROKEN || (m > 0 && rcs[m] == 1),
                     "member %d: fmp_reduce_into in a team whose member 2 died: %d", m, rcs[m]);
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
    HT_TEST(test_reduce_value),
    HT_TEST(test_sizes_and_team_sizes),
    HT_TEST_TIMEOUT(test_four_million_doubles, 60),
    HT_TEST(test_bitwise_repeatable),
    HT_TEST(test_in_place),
    HT_TEST(test_minloc_maxloc_ties),
    HT_TEST(test_gather_member_order),
    HT_TEST(test_reduce_into_keeps_initial_value),
    HT_TEST_TIMEOUT(test_reduce_into_every_type_and_op_team_of_3, 60),
    HT_TEST_TIMEOUT(test_tree_every_type_and_op_team_of_11, 120),
    HT_TEST_TIMEOUT(test_tree_reduce_into_every_type_and_op_team_of_9, 120),
    HT_TEST(test_reduce_into_sizes_and_team_sizes),
    HT_TEST(test_reduce_into_outside_and_teams_of_one),
    HT_TEST(test_reduce_into_persistent_team),
    HT_TEST_TIMEOUT(test_reduce_into_broken_team, 15),
    HT_TEST_TIMEOUT(test_large_blocks_private_and_arena, 60),
    HT_TEST(test_large_in_place),
    HT_TEST_TIMEOUT(test_common_out_every_path, 60),
    HT_TEST_TIMEOUT(test_large_member_dies_staging, 15),
    HT_TEST_TIMEOUT(test_large_member_dies_copying_out, 15),
    HT_END};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "reduce", tests);
}
