/* The hybrid collectives: fmp_mpi_allreduce, fmp_mpi_reduce, fmp_mpi_bcast.
 *
 * Inside a region every member calls them, and they run as one team collective (the
 * core's hook fmp__core->collective_fold): each member stages its input in its
 * shared-memory slot; the inputs are folded in member order; the master makes the one MPI
 * call of the rank and leaves the result in shared memory; every member copies it out.
 * The fold runs in slices in parallel, every member combining its slice with the core's
 * combiners, where those give what MPI_Reduce_local gives bit for bit (fold_kind: integer
 * types with every predefined op but the LOC ones, floating types with MPI_SUM and
 * MPI_PROD, MPI_C_BOOL with the logical ops, the integer MINLOC/MAXLOC pairs); anything
 * else (user-defined ops, derived datatypes, MIN/MAX of floating values, whose signed
 * zeros and NaNs MPI's own op may order otherwise, complex values) is folded by the
 * master alone with MPI_Reduce_local, as MPI defines it.  A child never calls MPI: the
 * collective runs the combining step in the master only, and the step itself refuses to
 * run in any process but the rank's (the master of a nested team is a child).
 *
 * Members that disagree (count, datatype, op, root, communicator, which function) are
 * caught by the core's signature check at the collective's first barrier: FMP_EMISMATCH,
 * before any MPI call.  The byte sizes of the inputs must be known in every member before
 * that barrier, without MPI: predefined datatypes are recognised by their handles; for a
 * derived datatype one extra, empty team collective asks the master for its span.
 *
 * Order: member m of rank r contributes as if it were process r * T + m of a flat MPI
 * job, so a non-commutative op sees the operands in that order. */
#include "hybrid.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { K_ALLREDUCE = 1, K_REDUCE, K_BCAST };
#define NOCOPY 1 /* the combining step's code for "no data for this rank" (reduce) */

typedef struct call {
    int kind;
    const char *what;
    const void *in;      /* as given: may be MPI_IN_PLACE */
    void *out;           /* as given (bcast: the buffer) */
    int count;
    MPI_Datatype type;
    MPI_Op op;
    int root;
    MPI_Comm comm;
    size_t span;         /* bytes covered by count elements */
    int gaps;            /* the datatype has holes */
} call;

typedef struct spaninfo {
    uint64_t span;
    int gaps;
} spaninfo;

/* ---------------------------------------------------------------- datatypes */

size_t fmp__mpi_predefined_size(MPI_Datatype t)
{
    struct pair_f { float v; int i; };
    struct pair_d { double v; int i; };
    struct pair_l { long v; int i; };
    struct pair_s { short v; int i; };
    struct pair_ld { long double v; int i; };
    const struct {
        MPI_Datatype type;
        size_t size;
    } table[] = {
        {MPI_CHAR, sizeof(char)}, {MPI_SIGNED_CHAR, sizeof(signed char)},
        {MPI_UNSIGNED_CHAR, sizeof(unsigned char)}, {MPI_BYTE, 1},
        {MPI_SHORT, sizeof(short)}, {MPI_UNSIGNED_SHORT, sizeof(unsigned short)},
        {MPI_INT, sizeof(int)}, {MPI_UNSIGNED, sizeof(unsigned)},
        {MPI_LONG, sizeof(long)}, {MPI_UNSIGNED_LONG, sizeof(unsigned long)},
        {MPI_LONG_LONG_INT, sizeof(long long)}, {MPI_LONG_LONG, sizeof(long long)},
        {MPI_UNSIGNED_LONG_LONG, sizeof(unsigned long long)},
        {MPI_FLOAT, sizeof(float)}, {MPI_DOUBLE, sizeof(double)},
        {MPI_LONG_DOUBLE, sizeof(long double)}, {MPI_WCHAR, sizeof(wchar_t)},
        {MPI_C_BOOL, sizeof(_Bool)},
        {MPI_INT8_T, 1}, {MPI_INT16_T, 2}, {MPI_INT32_T, 4}, {MPI_INT64_T, 8},
        {MPI_UINT8_T, 1}, {MPI_UINT16_T, 2}, {MPI_UINT32_T, 4}, {MPI_UINT64_T, 8},
        {MPI_C_FLOAT_COMPLEX, 2 * sizeof(float)}, {MPI_C_COMPLEX, 2 * sizeof(float)},
        {MPI_C_DOUBLE_COMPLEX, 2 * sizeof(double)},
        {MPI_C_LONG_DOUBLE_COMPLEX, 2 * sizeof(long double)},
        {MPI_AINT, sizeof(MPI_Aint)}, {MPI_OFFSET, sizeof(MPI_Offset)},
        {MPI_FLOAT_INT, sizeof(struct pair_f)}, {MPI_DOUBLE_INT, sizeof(struct pair_d)},
        {MPI_LONG_INT, sizeof(struct pair_l)}, {MPI_SHORT_INT, sizeof(struct pair_s)},
        {MPI_2INT, 2 * sizeof(int)}, {MPI_LONG_DOUBLE_INT, sizeof(struct pair_ld)},
    };
    if (t == MPI_DATATYPE_NULL)
        return 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].type == t)
            return table[i].size;
    return 0;
}

/* The core's type and op that combine (type, op) exactly as MPI_Reduce_local does, or
   FMP_TYPE_NONE: the master folds with MPI_Reduce_local.  (MPI_Reduce_local(acc, in)
   leaves acc op in in in, and the core's combiner leaves it in acc: the same operands in
   the same order for these types and ops.) */
static fmp_type fold_kind(MPI_Datatype t, MPI_Op op, fmp_op *fop)
{
    static const struct {
        MPI_Op op;
        fmp_op fop;
    } ops[] = {
        {MPI_SUM, FMP_SUM},   {MPI_PROD, FMP_PROD},     {MPI_MIN, FMP_MIN},
        {MPI_MAX, FMP_MAX},   {MPI_LAND, FMP_LAND},     {MPI_LOR, FMP_LOR},
        {MPI_LXOR, FMP_LXOR}, {MPI_BAND, FMP_BAND},     {MPI_BOR, FMP_BOR},
        {MPI_BXOR, FMP_BXOR}, {MPI_MINLOC, FMP_MINLOC}, {MPI_MAXLOC, FMP_MAXLOC},
    };
    static const struct {
        MPI_Datatype type;
        fmp_type ftype;
    } types[] = {
        {MPI_SIGNED_CHAR, FMP_SIGNED_CHAR},
        {MPI_UNSIGNED_CHAR, FMP_UNSIGNED_CHAR},
        {MPI_SHORT, FMP_SHORT},
        {MPI_UNSIGNED_SHORT, FMP_UNSIGNED_SHORT},
        {MPI_INT, FMP_INT},
        {MPI_UNSIGNED, FMP_UNSIGNED},
        {MPI_LONG, FMP_LONG},
        {MPI_UNSIGNED_LONG, FMP_ULONG},
        {MPI_LONG_LONG_INT, FMP_LLONG},
        {MPI_LONG_LONG, FMP_LLONG},
        {MPI_UNSIGNED_LONG_LONG, FMP_ULLONG},
        {MPI_INT8_T, FMP_INT8},
        {MPI_INT16_T, FMP_INT16},
        {MPI_INT32_T, FMP_INT32},
        {MPI_INT64_T, FMP_INT64},
        {MPI_UINT8_T, FMP_UINT8},
        {MPI_UINT16_T, FMP_UINT16},
        {MPI_UINT32_T, FMP_UINT32},
        {MPI_UINT64_T, FMP_UINT64},
        {MPI_FLOAT, FMP_FLOAT},
        {MPI_DOUBLE, FMP_DOUBLE},
        {MPI_LONG_DOUBLE, FMP_LONG_DOUBLE},
        {MPI_C_BOOL, FMP_BOOL},
        {MPI_2INT, FMP_2INT},
        {MPI_LONG_INT, FMP_LONG_INT},
        {MPI_SHORT_INT, FMP_SHORT_INT},
    };
    fmp_type ft = FMP_TYPE_NONE;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !ft; i++)
        if (types[i].type == t)
            ft = types[i].ftype;
    *fop = FMP_OP_NONE;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !*fop; i++)
        if (ops[i].op == op)
            *fop = ops[i].fop;
    /* floating values: only the ops whose operands commute bit for bit.  A pair the core
       does not define (bitwise on a bool, LOC on a plain integer...) the core leaves to
       the master, and MPI_Reduce_local refuses it there as MPI does. */
    if ((ft == FMP_FLOAT || ft == FMP_DOUBLE || ft == FMP_LONG_DOUBLE) && *fop != FMP_SUM &&
        *fop != FMP_PROD)
        return FMP_TYPE_NONE;
    return *fop ? ft : FMP_TYPE_NONE;
}

/* A handle's bits as a number, for the signature (a pointer in Open MPI, an int in MPICH). */
static uint64_t handle_bits(const void *h, size_t n)
{
    uint64_t v = 0;
    memcpy(&v, h, n < sizeof v ? n : sizeof v);
    return v;
}
#define HBITS(h) handle_bits(&(h), sizeof(h))

/* ---------------------------------------------------------------- checks */

/* Refuse a call with FMP_EINVAL, telling the catalogue's message key when tell is set. */
#define REFUSE(tell, ...)                                                                          \
    do {                                                                                           \
        if (tell)                                                                                  \
            FMP__MPI_SAY(__VA_ARGS__);                                                             \
        return FMP_EINVAL;                                                                         \
    } while (0)

/* The arguments, in every member, without MPI.  Told by the caller when tell is set. */
static int check_args(const call *c, int tell)
{
    if (c->comm == MPI_COMM_NULL)
        REFUSE(tell, mpi_comm_null, c->what);
    if (c->count < 0)
        REFUSE(tell, mpi_count_negative, c->what, c->count);
    if (c->type == MPI_DATATYPE_NULL)
        REFUSE(tell, mpi_type_null, c->what);
    if (c->kind != K_BCAST && c->op == MPI_OP_NULL)
        REFUSE(tell, mpi_op_null, c->what);
    if (c->count > 0 && c->kind == K_BCAST && !c->out)
        REFUSE(tell, mpi_buf_null, c->what);
    if (c->count > 0 && c->kind != K_BCAST && !c->in)
        REFUSE(tell, mpi_in_null, c->what);
    if (c->count > 0 && c->kind == K_ALLREDUCE && !c->out)
        REFUSE(tell, mpi_out_null, c->what);
    if (c->count > 0 && c->in == MPI_IN_PLACE && !c->out)
        REFUSE(tell, mpi_in_place_out_null, c->what);
    return 0;
}

/* In the rank's process: an intracommunicator and a root inside it; *rank gets ours. */
static int check_comm(const call *c, int *rank)
{
    int inter = 0, size = 0, rc;
    if ((rc = fmp__mpi_rc(MPI_Comm_test_inter(c->comm, &inter), c->what, "MPI_Comm_test_inter")))
        return rc;
    if (inter)
        REFUSE(1, mpi_coll_intercomm, c->what);
    if ((rc = fmp__mpi_rc(MPI_Comm_rank(c->comm, rank), c->what, "MPI_Comm_rank")) ||
        (rc = fmp__mpi_rc(MPI_Comm_size(c->comm, &size), c->what, "MPI_Comm_size")))
        return rc;
    if (c->kind != K_ALLREDUCE && (c->root < 0 || c->root >= size))
        REFUSE(1, mpi_bad_root, c->what, c->root, size);
    if (c->kind == K_REDUCE && c->in == MPI_IN_PLACE && *rank != c->root)
        REFUSE(1, mpi_in_place_not_root, c->what);
    if (c->kind == K_REDUCE && *rank == c->root && c->count > 0 && !c->out)
        REFUSE(1, mpi_root_out_null, c->what);
    return 0;
}

/* ---------------------------------------------------------------- outside a team */

static int plain(const call *c)
{
    int rc, rank = 0;
    if ((rc = fmp__mpi_check_caller(c->what)) || (rc = fmp__mpi_check_live(c->what)) ||
        (rc = check_args(c, 1)) || (rc = check_comm(c, &rank)))
        return rc;
    fmp__mpi_census_yield();
    /* in == out is taken as MPI_IN_PLACE (MPI itself refuses aliased buffers) */
    const void *in = c->in;
    if (c->count > 0 && in == c->out && (c->kind == K_ALLREDUCE || rank == c->root))
        in = MPI_IN_PLACE;
    switch (c->kind) {
    case K_ALLREDUCE:
        return fmp__mpi_rc(MPI_Allreduce(in, c->out, c->count, c->type, c->op, c->comm),
                           c->what, "MPI_Allreduce");
    case K_REDUCE:
        return fmp__mpi_rc(MPI_Reduce(in, c->out, c->count, c->type, c->op, c->root, c->comm),
                           c->what, "MPI_Reduce");
    default:
        return fmp__mpi_rc(MPI_Bcast(c->out, c->count, c->type, c->root, c->comm), c->what,
                           "MPI_Bcast");
    }
}

/* ---------------------------------------------------------------- in a team */

/* Master: the span of count elements of a derived datatype. */
static int span_fn(void *const *inputs, int n, void *result, void *arg)
{
    (void)inputs;
    (void)n;
    const call *c = arg;
    int rc;
    if ((rc = fmp__mpi_check_caller(c->what)) || (rc = fmp__mpi_check_live(c->what)))
        return rc;
    MPI_Aint lb, extent, tlb, textent;
    int size;
    if ((rc = fmp__mpi_rc(MPI_Type_get_extent(c->type, &lb, &extent), c->what,
                          "MPI_Type_get_extent")) ||
        (rc = fmp__mpi_rc(MPI_Type_get_true_extent(c->type, &tlb, &textent), c->what,
                          "MPI_Type_get_true_extent")) ||
        (rc = fmp__mpi_rc(MPI_Type_size(c->type, &size), c->what, "MPI_Type_size")))
        return rc;
    if (lb < 0 || tlb < 0 || extent < 0)
        REFUSE(1, mpi_type_bounds, c->what);
    spaninfo si = {0, 0};
    if (c->count > 0) {
        uint64_t span = (uint64_t)(c->count - 1) * (uint64_t)extent + (uint64_t)tlb +
                        (uint64_t)textent;
        if (span > SIZE_MAX / 4)
            return FMP_EOVERFLOW;
        si.span = span;
        si.gaps = !(tlb == 0 && lb == 0 && textent == extent && (MPI_Aint)size == extent);
    }
    memcpy(result, &si, sizeof si);
    return 0;
}

/* Master: fold the members' inputs, make the rank's MPI call, leave the result. */
static int coll_fn(void *const *inputs, int n, void *result, void *arg)
{
    const call *c = arg;
    int rc, rank = 0;
    if ((rc = fmp__mpi_check_caller(c->what)) || (rc = fmp__mpi_check_live(c->what)) ||
        (rc = check_comm(c, &rank)))
        return rc;
    fmp__mpi_census_yield();
    static char none_in[16], none_out[16]; /* count 0: MPI wants two distinct buffers */
    void *rbuf = c->span ? result : none_out;
    if (c->kind == K_BCAST) {
        if (c->span && (rank == c->root || c->gaps))
            memcpy(rbuf, c->out, c->span); /* the root's data; elsewhere the gaps' bytes */
        return fmp__mpi_rc(MPI_Bcast(rbuf, c->count, c->type, c->root, c->comm), c->what,
                           "MPI_Bcast");
    }
    for (int m = 1; m < n && c->count > 0; m++) {
        rc = fmp__mpi_rc(MPI_Reduce_local(inputs[m - 1], inputs[m], c->count, c->type, c->op),
                         c->what, "MPI_Reduce_local");
        if (rc)
            return rc;
    }
    const void *acc = c->span ? inputs[n - 1] : none_in;
    if (c->gaps && c->span)
        memcpy(rbuf, inputs[0], c->span);
    if (c->kind == K_ALLREDUCE)
        return fmp__mpi_rc(MPI_Allreduce(acc, rbuf, c->count, c->type, c->op, c->comm),
                           c->what, "MPI_Allreduce");
    rc = fmp__mpi_rc(MPI_Reduce(acc, rank == c->root ? rbuf : NULL, c->count, c->type, c->op,
                                c->root, c->comm),
                     c->what, "MPI_Reduce");
    if (rc)
        return rc;
    return rank == c->root ? 0 : NOCOPY;
}

static int team_call(call *c, const char *file, int line)
{
    int me = fmp_thread_num();
    int rc = check_args(c, me == 0); /* the master tells; members return the same code */
    if (rc)
        return rc;
    size_t es = fmp__mpi_predefined_size(c->type);
    if (es) {
        c->span = (size_t)c->count * es;
        c->gaps = 0;
    } else {
        spaninfo si;
        rc = fmp__core->collective(NULL, &si, 0, sizeof si, span_fn, c, c->what, file, line);
        if (rc)
            return rc;
        c->span = (size_t)si.span;
        c->gaps = si.gaps;
    }
    uint64_t a = (uint64_t)c->kind * 1000003u + (uint64_t)(unsigned)c->root;
    uint64_t b = HBITS(c->type) ^ ((uint64_t)(unsigned)c->count << 32);
    uint64_t d = HBITS(c->op) * 31u + HBITS(c->comm);
    fmp__core->collective_note((long)a, (long)b, (long)d, file, line);

    const void *stage = NULL;
    size_t inbytes = 0;
    if (c->kind != K_BCAST) {
        stage = c->in == MPI_IN_PLACE ? c->out : c->in;
        inbytes = c->span;
    }
    fmp_op fop = FMP_OP_NONE;
    fmp_type ftype =
        c->kind != K_BCAST && c->count > 0 ? fold_kind(c->type, c->op, &fop) : FMP_TYPE_NONE;
    rc = fmp__core->collective_fold(stage, c->out, inbytes, c->span, ftype, fop, coll_fn, c,
                                    c->what, file, line);
    if (rc == NOCOPY)
        return 0;
    if (rc == 0 && c->kind == K_REDUCE && c->count > 0 && !c->out)
        REFUSE(1, mpi_root_out_null, c->what);
    return rc;
}

static int run(call *c, const char *file, int line)
{
    int rc = fmp__mpi_bind_core(c->what);
    if (rc)
        return rc;
    if (fmp_num_threads() > 1)
        return team_call(c, file, line);
    return plain(c);
}

/* ---------------------------------------------------------------- entry points */

int fmp__mpi_allreduce_at(const void *in, void *out, int count, MPI_Datatype type, MPI_Op op,
                          MPI_Comm comm, const char *file, int line)
{
    call c = {K_ALLREDUCE, "fmp_mpi_allreduce", in, out, count, type, op, 0, comm, 0, 0};
    return run(&c, file, line);
}

int fmp__mpi_reduce_at(const void *in, void *out, int count, MPI_Datatype type, MPI_Op op,
                       int root, MPI_Comm comm, const char *file, int line)
{
    call c = {K_REDUCE, "fmp_mpi_reduce", in, out, count, type, op, root, comm, 0, 0};
    return run(&c, file, line);
}

int fmp__mpi_bcast_at(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm,
                      const char *file, int line)
{
    call c = {K_BCAST, "fmp_mpi_bcast", NULL, buf, count, type, MPI_OP_NULL, root, comm, 0, 0};
    return run(&c, file, line);
}

int(fmp_mpi_allreduce)(const void *in, void *out, int count, MPI_Datatype type, MPI_Op op,
                       MPI_Comm comm)
{
    return fmp__mpi_allreduce_at(in, out, count, type, op, comm, "fmp_mpi_allreduce()", 0);
}

int(fmp_mpi_reduce)(const void *in, void *out, int count, MPI_Datatype type, MPI_Op op,
                    int root, MPI_Comm comm)
{
    return fmp__mpi_reduce_at(in, out, count, type, op, root, comm, "fmp_mpi_reduce()", 0);
}

int(fmp_mpi_bcast)(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm)
{
    return fmp__mpi_bcast_at(buf, count, type, root, comm, "fmp_mpi_bcast()", 0);
}
