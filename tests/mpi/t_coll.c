/*
 * t_coll: the hybrid collectives against values computed by hand, in every member.
 *
 *   t_coll [--team N] [--persistent] [--big]
 *
 * Member m of rank r contributes as process g = r * N + m of G = size * N, so the
 * expected result of a reduction is the fold of f(g, i) over g in order.  Covered:
 * fmp_mpi_allreduce over several predefined types and ops (sum, prod, min, max, the
 * logical and bitwise ops, minloc/maxloc), counts 0, 1, 7, 1000 (and 1e6 with --big),
 * MPI_IN_PLACE and in == out, fmp_mpi_reduce to the first and the last rank (the other
 * ranks' out untouched), a user-defined non-commutative op on a derived datatype (2x2
 * matrix products: the order of the operands is checked), fmp_mpi_bcast from the first
 * and the last rank (also a strided datatype), and each call outside a region too.
 * The node fold (in parallel slices, or the master's MPI_Reduce_local) bit for bit against
 * the serial MPI_Reduce_local chain in member order, then MPI_Allreduce over the ranks,
 * for order-sensitive floating sums, a product, signed zeros and a user op.
 * --persistent runs every case on a team created before MPI_Init (its members hold no
 * MPI state), else on FMP_PARALLEL-style regions forked after MPI_Init.
 * Prints "t_coll: rank R: C checks, F failures" per rank; exit 0 when nothing failed.
 */
#include <forkmp.h>
#include <forkmp_mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_rank, g_size, g_big;
static long *g_fails, *g_checks; /* shared: every member counts */

#define FAIL(fmt, ...)                                                                   \
    do {                                                                                 \
        if (__atomic_fetch_add(g_fails, 1, __ATOMIC_RELAXED) < 20)                       \
            fmp_printf("t_coll: rank %d member %d: " fmt, g_rank, fmp_thread_num(),      \
                       ##__VA_ARGS__);                                                   \
    } while (0)

static void check(int cond, const char *what, int count, long i)
{
    __atomic_fetch_add(g_checks, 1, __ATOMIC_RELAXED);
    if (!cond)
        FAIL("%s (count %d): wrong at element %ld\n", what, count, i);
}

static void check_rc(int rc, const char *what, int count)
{
    __atomic_fetch_add(g_checks, 1, __ATOMIC_RELAXED);
    if (rc != 0)
        FAIL("%s (count %d) returned %d: %s\n", what, count, rc, fmp_strerror(rc));
}

/* modes of a reduction case */
enum { ALLRED, ALLRED_INPLACE, ALLRED_ALIAS, RED_FIRST, RED_LAST, NMODES };
static const char *const mode_name[] = {"allreduce", "allreduce MPI_IN_PLACE",
                                        "allreduce in == out", "reduce to rank 0",
                                        "reduce to the last rank"};

/* One typed case: in every member, f(g, i) in, the fold over g expected. */
#define DEFINE_CASE(NAME, T, MT, MOP, F, COMB, EQ)                                       \
    static void NAME(int count, int mode)                                                \
    {                                                                                    \
        int me = fmp_thread_num(), n = fmp_num_threads();                                \
        long g = (long)g_rank * n + me, G = (long)g_size * n;                            \
        size_t bytes = (size_t)(count > 0 ? count : 1) * sizeof(T);                      \
        T *in = malloc(bytes), *out = malloc(bytes), *exp = malloc(bytes);               \
        if (!in || !out || !exp) {                                                       \
            FAIL("no memory\n");                                                         \
            exit(1);                                                                     \
        }                                                                                \
        for (long i = 0; i < count; i++) {                                               \
            long gg = 0;                                                                 \
            T a = F;                                                                     \
            (void)gg;                                                                    \
            for (gg = 1; gg < G; gg++) {                                                 \
                T b = F;                                                                 \
                a = COMB;                                                                \
            }                                                                            \
            exp[i] = a;                                                                  \
            gg = g;                                                                      \
            in[i] = F;                                                                   \
        }                                                                                \
        memset(out, 0x5a, bytes);                                                        \
        int rc, root = mode == RED_FIRST ? 0 : g_size - 1, gets = 1;                     \
        char what[96];                                                                   \
        snprintf(what, sizeof what, "%s %s %s", #MT, #MOP, mode_name[mode]);             \
        switch (mode) {                                                                  \
        case ALLRED_INPLACE:                                                             \
            memcpy(out, in, bytes);                                                      \
            rc = fmp_mpi_allreduce(MPI_IN_PLACE, out, count, MT, MOP, MPI_COMM_WORLD);   \
            break;                                                                       \
        case ALLRED_ALIAS:                                                               \
            memcpy(out, in, bytes);                                                      \
            rc = fmp_mpi_allreduce(out, out, count, MT, MOP, MPI_COMM_WORLD);            \
            break;                                                                       \
        case RED_FIRST:                                                                  \
        case RED_LAST:                                                                   \
            gets = g_rank == root;                                                       \
            rc = fmp_mpi_reduce(in, out, count, MT, MOP, root, MPI_COMM_WORLD);          \
            break;                                                                       \
        default:                                                                         \
            rc = fmp_mpi_allreduce(in, out, count, MT, MOP, MPI_COMM_WORLD);             \
        }                                                                                \
        check_rc(rc, what, count);                                                       \
        for (long i = 0; i < count && rc == 0; i++) {                                    \
            if (gets) {                                                                  \
                T a = out[i], b = exp[i];                                                \
                if (!(EQ)) {                                                             \
                    check(0, what, count, i);                                            \
                    break;                                                               \
                }                                                                        \
            } else if (((unsigned char *)out)[i * sizeof(T)] != 0x5a) {                  \
                FAIL("%s (count %d): out of a rank that is not the root was written\n",  \
                     what, count);                                                       \
                break;                                                                   \
            }                                                                            \
        }                                                                                \
        __atomic_fetch_add(g_checks, 1, __ATOMIC_RELAXED);                               \
        free(in);                                                                        \
        free(out);                                                                       \
        free(exp);                                                                       \
    }

#define EQ_PLAIN (a == b)
typedef struct { double v; int i; } dint;
typedef struct { int v; int i; } iint;

DEFINE_CASE(int_sum, int, MPI_INT, MPI_SUM, (int)((gg + 1) * (i % 7 + 1)), a + b, EQ_PLAIN)
DEFINE_CASE(int_prod, int, MPI_INT, MPI_PROD, (int)((gg + i) % 3 == 0 ? 2 : 1), a * b, EQ_PLAIN)
DEFINE_CASE(int_min, int, MPI_INT, MPI_MIN, (int)((gg * 31 + i * 7) % 97 - 40),
            (b < a ? b : a), EQ_PLAIN)
DEFINE_CASE(int_max, int, MPI_INT, MPI_MAX, (int)((gg * 31 + i * 7) % 97 - 40),
            (b > a ? b : a), EQ_PLAIN)
DEFINE_CASE(int_band, int, MPI_INT, MPI_BAND, (int)(~(1 << ((gg + i) % 30))), a & b, EQ_PLAIN)
DEFINE_CASE(int_bor, int, MPI_INT, MPI_BOR, (int)(1 << ((gg * 3 + i) % 30)), a | b, EQ_PLAIN)
DEFINE_CASE(uns_bxor, unsigned, MPI_UNSIGNED, MPI_BXOR, (unsigned)(gg * 2654435761u + i),
            a ^ b, EQ_PLAIN)
DEFINE_CASE(int_land, int, MPI_INT, MPI_LAND, (int)((gg + i) % 5 != 0), a && b, EQ_PLAIN)
DEFINE_CASE(int_lor, int, MPI_INT, MPI_LOR, (int)((gg + i) % 5 == 0), a || b, EQ_PLAIN)
DEFINE_CASE(long_sum, long, MPI_LONG, MPI_SUM, (long)((gg + 1) * 1000003L + i), a + b, EQ_PLAIN)
DEFINE_CASE(llong_max, long long, MPI_LONG_LONG, MPI_MAX, (long long)((gg ^ i) * 7919LL),
            (b > a ? b : a), EQ_PLAIN)
DEFINE_CASE(short_sum, short, MPI_SHORT, MPI_SUM, (short)(gg + i % 3), (short)(a + b), EQ_PLAIN)
DEFINE_CASE(uchar_bor, unsigned char, MPI_UNSIGNED_CHAR, MPI_BOR,
            (unsigned char)(1u << ((gg + i) % 8)), (unsigned char)(a | b), EQ_PLAIN)
DEFINE_CASE(float_sum, float, MPI_FLOAT, MPI_SUM, (float)((gg % 4) + (i % 3)), a + b, EQ_PLAIN)
DEFINE_CASE(double_sum, double, MPI_DOUBLE, MPI_SUM, (double)(gg + 1) * (double)(i % 11),
            a + b, EQ_PLAIN)
DEFINE_CASE(double_max, double, MPI_DOUBLE, MPI_MAX, (double)((gg * 13 + i) % 29) * 0.5,
            (b > a ? b : a), EQ_PLAIN)
DEFINE_CASE(double_prod, double, MPI_DOUBLE, MPI_PROD, ((gg + i) % 2 ? 2.0 : 0.5), a * b,
            EQ_PLAIN)
/* MINLOC / MAXLOC: ties go to the smaller index, as MPI says */
DEFINE_CASE(dint_minloc, dint, MPI_DOUBLE_INT, MPI_MINLOC,
            ((dint){(double)((gg * 7 + i) % 5), (int)gg}),
            ((b.v < a.v || (b.v == a.v && b.i < a.i)) ? b : a), (a.v == b.v && a.i == b.i))
DEFINE_CASE(iint_maxloc, iint, MPI_2INT, MPI_MAXLOC, ((iint){(int)((gg * 5 + i) % 7), (int)gg}),
            ((b.v > a.v || (b.v == a.v && b.i < a.i)) ? b : a), (a.v == b.v && a.i == b.i))

typedef void (*case_fn)(int count, int mode);
static const struct {
    case_fn fn;
    int max_count; /* larger counts skipped (products overflow) */
    int big;       /* run with 1e6 elements under --big */
} cases[] = {
    {int_sum, 1 << 30, 1},   {int_prod, 1000, 0},   {int_min, 1 << 30, 0},
    {int_max, 1 << 30, 0},   {int_band, 1 << 30, 0}, {int_bor, 1 << 30, 0},
    {uns_bxor, 1 << 30, 0},  {int_land, 1 << 30, 0}, {int_lor, 1 << 30, 0},
    {long_sum, 1 << 30, 0},  {llong_max, 1 << 30, 0}, {short_sum, 1 << 30, 0},
    {uchar_bor, 1 << 30, 0}, {float_sum, 1 << 30, 0}, {double_sum, 1 << 30, 1},
    {double_max, 1 << 30, 0}, {double_prod, 1000, 0}, {dint_minloc, 1 << 30, 1},
    {iint_maxloc, 1 << 30, 0},
};

/* ---------------------------------------------------------------- user op */
/* 2x2 matrices mod P, multiplied: not commutative, so the operands' order shows. */
#define P 10007
typedef struct { int a, b, c, d; } mat;
static mat mat_mul(mat x, mat y)
{
    mat r = {(x.a * y.a + x.b * y.c) % P, (x.a * y.b + x.b * y.d) % P,
             (x.c * y.a + x.d * y.c) % P, (x.c * y.b + x.d * y.d) % P};
    return r;
}
static mat mat_of(long g, long i)
{
    mat m = {(int)((g + i) % 5 + 1), 1, 1, (int)((g * 3 + i) % 4)};
    return m;
}
static void mat_op(void *invec, void *inoutvec, int *len, MPI_Datatype *type)
{
    (void)type;
    mat *in = invec, *io = inoutvec;
    for (int k = 0; k < *len; k++)
        io[k] = mat_mul(in[k], io[k]); /* inout = in op inout */
}
static MPI_Op g_matop;
static MPI_Datatype g_mattype, g_strided;

static void user_op_case(int count)
{
    int me = fmp_thread_num(), n = fmp_num_threads();
    long g = (long)g_rank * n + me, G = (long)g_size * n;
    mat in[8], out[8];
    for (int i = 0; i < count; i++)
        in[i] = mat_of(g, i);
    int rc = fmp_mpi_allreduce(in, out, count, g_mattype, g_matop, MPI_COMM_WORLD);
    check_rc(rc, "user-defined op on a derived datatype", count);
    for (int i = 0; i < count && rc == 0; i++) {
        mat e = mat_of(0, i);
        for (long k = 1; k < G; k++)
            e = mat_mul(e, mat_of(k, i));
        check(memcmp(&e, &out[i], sizeof e) == 0, "user-defined op (operand order)", count, i);
    }
}

/* ---------------------------------------------------------------- bcast */
static void bcast_case(int count, int root)
{
    int me = fmp_thread_num();
    int *buf = malloc((size_t)(count > 0 ? count : 1) * sizeof *buf);
    for (int i = 0; i < count; i++)
        buf[i] = g_rank == root && me == 0 ? i * 3 + root : -1 - me;
    int rc = fmp_mpi_bcast(buf, count, MPI_INT, root, MPI_COMM_WORLD);
    check_rc(rc, "bcast", count);
    for (int i = 0; i < count && rc == 0; i++)
        if (buf[i] != i * 3 + root) {
            check(0, "bcast", count, i);
            break;
        }
    free(buf);
    /* a strided datatype: elements 0, 2, 4 */
    int v[5] = {-1, -2, -3, -4, -5};
    if (g_rank == root && me == 0)
        v[0] = 10, v[2] = 12, v[4] = 14;
    rc = fmp_mpi_bcast(v, 1, g_strided, root, MPI_COMM_WORLD);
    check_rc(rc, "bcast of a strided datatype", 1);
    check(rc == 0 && v[0] == 10 && v[2] == 12 && v[4] == 14, "bcast of a strided datatype", 1, 0);
}

/* ---------------------------------------------------------------- node fold, exactly */
/* The team's inputs are folded in member order before the rank's MPI call: in slices in
   parallel where the core's combiners give MPI_Reduce_local's bits, by the master with
   MPI_Reduce_local otherwise.  Either way the result must be, bit for bit, the serial
   chain of MPI_Reduce_local over the members' inputs in member order, then MPI_Allreduce
   of those partials over the ranks: the reference the master computes outside the
   region.  Values whose floating sums depend on the order; counts that are not whole
   cache lines; a non-commutative user op; MAX over signed zeros (the master's path). */
enum { NF_DSUM, NF_FSUM, NF_ISUM, NF_LDPROD, NF_DMAX, NF_USER, NF_CASES };
static const char *const nf_name[] = {"MPI_DOUBLE MPI_SUM",
                                      "MPI_FLOAT MPI_SUM",
                                      "MPI_INT MPI_SUM",
                                      "MPI_LONG_DOUBLE MPI_PROD",
                                      "MPI_DOUBLE MPI_MAX (signed zeros)",
                                      "MPI_DOUBLE user op (not commutative)"};
static const int nf_counts[] = {5, 100003};
#define NF_NCOUNTS 2

static double nf_val(long g, long i)
{
    double big = (g + i) % 3 == 0 ? 1e16 : 1.0;
    double sign = (g + i % 5) % 2 ? -1.0 : 1.0;
    return sign * big * (1.0 + (double)((i * 7 + g) % 13) / 8.0) + 0.1 * (double)g;
}

static void half_plus(void *invec, void *inoutvec, int *len, MPI_Datatype *type)
{
    (void)type;
    double *in = invec, *io = inoutvec;
    for (int k = 0; k < *len; k++)
        io[k] = 0.5 * in[k] + io[k]; /* inout = in op inout */
}

static MPI_Datatype nf_type(int c)
{
    return c == NF_FSUM     ? MPI_FLOAT
           : c == NF_ISUM   ? MPI_INT
           : c == NF_LDPROD ? MPI_LONG_DOUBLE
                            : MPI_DOUBLE;
}

static size_t nf_size(int c)
{
    return c == NF_FSUM     ? sizeof(float)
           : c == NF_ISUM   ? sizeof(int)
           : c == NF_LDPROD ? sizeof(long double)
                            : sizeof(double);
}

static MPI_Op nf_op(int c, MPI_Op user)
{
    return c == NF_DMAX ? MPI_MAX : c == NF_USER ? user : c == NF_LDPROD ? MPI_PROD : MPI_SUM;
}

/* Process g's input of case c. */
static void nf_fill(int c, long g, void *buf, int count)
{
    for (long i = 0; i < count; i++) {
        double v = nf_val(g, i);
        switch (c) {
        case NF_FSUM:
            ((float *)buf)[i] = (float)v;
            break;
        case NF_ISUM:
            ((int *)buf)[i] = (int)(g * 1000003L + i * 7919L);
            break;
        case NF_LDPROD:
            ((long double *)buf)[i] = 1.0L + (long double)v * 1e-17L;
            break;
        case NF_DMAX:
            ((double *)buf)[i] = (g + i) % 2 ? 0.0 : -0.0;
            break;
        default:
            ((double *)buf)[i] = v;
        }
    }
}

/* Master, outside regions: the reference of case c for a team of n (into exp). */
static int nf_reference(int c, int count, int n, MPI_Op user, void *exp)
{
    size_t bytes = nf_size(c) * (size_t)count;
    char *acc = malloc(bytes), *next = malloc(bytes);
    if (!acc || !next)
        return 1;
    nf_fill(c, (long)g_rank * n, acc, count);
    for (int m = 1; m < n; m++) {
        nf_fill(c, (long)g_rank * n + m, next, count);
        MPI_Reduce_local(acc, next, count, nf_type(c), nf_op(c, user)); /* next = acc op next */
        char *t = acc;
        acc = next;
        next = t;
    }
    int rc = MPI_Allreduce(acc, exp, count, nf_type(c), nf_op(c, user), MPI_COMM_WORLD);
    free(acc);
    free(next);
    return rc;
}

static void node_fold_cases(void *const (*exp)[NF_NCOUNTS], MPI_Op user)
{
    int me = fmp_thread_num(), n = fmp_num_threads();
    long g = (long)g_rank * n + me;
    for (int c = 0; c < NF_CASES; c++)
        for (int k = 0; k < NF_NCOUNTS; k++) {
            int count = nf_counts[k];
            size_t bytes = nf_size(c) * (size_t)count;
            char *in = malloc(bytes), *out = malloc(bytes);
            if (!in || !out) {
                FAIL("no memory\n");
                exit(1);
            }
            nf_fill(c, g, in, count);
            int rc = fmp_mpi_allreduce(in, out, count, nf_type(c), nf_op(c, user), MPI_COMM_WORLD);
            check_rc(rc, nf_name[c], count);
            /* bit for bit: the bytes, but for long double's padding (its values here are
               positive and finite: equal values are equal bits) */
            long bad = -1;
            for (long i = 0; i < count && rc == 0 && bad < 0; i++)
                if (c == NF_LDPROD
                        ? ((long double *)(void *)out)[i] != ((const long double *)exp[c][k])[i]
                        : memcmp(out + (size_t)i * nf_size(c),
                                 (const char *)exp[c][k] + (size_t)i * nf_size(c), nf_size(c)) != 0)
                    bad = i;
            check(bad < 0, nf_name[c], count, bad);
            free(in);
            free(out);
        }
}

/* ---------------------------------------------------------------- all of it */
/* The rank travels in the argument: the members of a team created before MPI_Init have
   the master's private memory as it was then (g_rank and g_size still 0, no user op). */
typedef struct where {
    int rank, size;
    MPI_Op matop;              /* handles made after MPI_Init travel the same way */
    MPI_Datatype mattype, strided;
    MPI_Op halfplus;
    void *nf_exp[NF_CASES][NF_NCOUNTS]; /* the node fold's references, in the arena */
} where;

static void all_cases(void *arg)
{
    const where *w = arg;
    g_rank = w->rank;
    g_size = w->size;
    g_matop = w->matop;
    g_mattype = w->mattype;
    g_strided = w->strided;
    static const int counts[] = {0, 1, 7, 1000};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++)
            for (int mode = 0; mode < NMODES; mode++)
                if (counts[k] <= cases[c].max_count && (mode == ALLRED || counts[k] == 7))
                    cases[c].fn(counts[k], mode); /* count 7: every mode */
    if (g_big)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            if (cases[c].big)
                cases[c].fn(1000000, ALLRED);
    user_op_case(1);
    user_op_case(3);
    if (fmp_num_threads() > 1 && w->nf_exp[0][0])
        node_fold_cases((void *const(*)[NF_NCOUNTS])w->nf_exp, w->halfplus);
    bcast_case(0, 0);
    bcast_case(5, 0);
    bcast_case(5, g_size - 1);
    if (g_big)
        bcast_case(1000000, g_size - 1);
}

int main(int argc, char **argv)
{
    int team_size = 2, persistent = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--team") == 0 && i + 1 < argc)
            team_size = atoi(argv[++i]);
        else if (strcmp(argv[i], "--persistent") == 0)
            persistent = 1;
        else if (strcmp(argv[i], "--big") == 0)
            g_big = 1;
        else {
            fprintf(stderr, "usage: t_coll [--team N] [--persistent] [--big]\n");
            return 2;
        }
    }
    g_fails = fmp_shared_alloc(64);
    g_checks = fmp_shared_alloc(64);
    fmp_team *team = NULL;
    if (persistent) { /* before MPI_Init: the members hold no MPI state */
        team = fmp_team_create(team_size);
        if (!team) {
            perror("fmp_team_create");
            return 1;
        }
    }
    MPI_Init(&argc, &argv);
    int rc = fmp_mpi_init(MPI_COMM_WORLD);
    if (rc) {
        fprintf(stderr, "fmp_mpi_init: %s\n", fmp_strerror(rc));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Op_create(mat_op, 0, &g_matop);
    MPI_Type_contiguous(4, MPI_INT, &g_mattype);
    MPI_Type_commit(&g_mattype);
    MPI_Type_vector(3, 1, 2, MPI_INT, &g_strided);
    MPI_Type_commit(&g_strided);

    where w = {g_rank, g_size, g_matop, g_mattype, g_strided, MPI_OP_NULL, {{0}}};
    MPI_Op_create(half_plus, 0, &w.halfplus);
    for (int c = 0; c < NF_CASES; c++)
        for (int k = 0; k < NF_NCOUNTS; k++) {
            w.nf_exp[c][k] = fmp_shared_alloc(nf_size(c) * (size_t)nf_counts[k]);
            if (!w.nf_exp[c][k] ||
                nf_reference(c, nf_counts[k], team_size, w.halfplus, w.nf_exp[c][k])) {
                fprintf(stderr, "t_coll: the node fold's reference failed\n");
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
        }
    all_cases(&w); /* outside a region: the plain MPI calls */
    long outside = *g_checks;
    if (persistent)
        rc = fmp_team_run(team, all_cases, &w, sizeof w);
    else
        rc = fmp_parallel(team_size, all_cases, &w);
    if (rc)
        FAIL("the region returned %d: %s\n", rc, fmp_strerror(rc));

    long fails = *g_fails, total = 0;
    MPI_Allreduce(&fails, &total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    printf("t_coll: rank %d: %ld checks (%ld outside regions), %ld failures, team of %d%s\n",
           g_rank, *g_checks, outside, fails, team_size, persistent ? " created before MPI_Init" : "");
    if (team)
        fmp_team_destroy(team);
    MPI_Op_free(&g_matop);
    MPI_Op_free(&w.halfplus);
    for (int c = 0; c < NF_CASES; c++)
        for (int k = 0; k < NF_NCOUNTS; k++)
            fmp_shared_free(w.nf_exp[c][k]);
    MPI_Type_free(&g_mattype);
    MPI_Type_free(&g_strided);
    MPI_Finalize();
    return total ? 1 : 0;
}
