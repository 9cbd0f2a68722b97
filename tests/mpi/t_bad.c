/*
 * t_bad: bad input to the hybrid layer gives a clear error code, never a hang or a wrong
 * answer.  Every rank makes the same mistakes, so that no rank is left inside MPI.
 *
 * Checked, in order: fmp_mpi_init and fmp_mpi_allreduce before MPI_Init (FMP_ESTATE);
 * fmp_mpi_init with MPI_COMM_NULL and with an intercommunicator (FMP_EINVAL); negative
 * count, NULL buffers, null datatype / op / communicator, a root outside the communicator,
 * MPI_IN_PLACE on a rank that is not the root (FMP_EINVAL); count 0 (valid, also with NULL
 * buffers, inside and outside regions); inside a region: fmp_mpi_init (FMP_ESTATE in every
 * member), members passing different counts, ops, roots or functions (FMP_EMISMATCH from
 * the call and from the region, with FMP_ERRORS_RETURN), a member calling fmp_mpi_allreduce
 * from a nested team of one (FMP_ESTATE: it is a child), a negative count in every member
 * (FMP_EINVAL, the team goes on); after each, an allreduce outside the region still gives
 * the right sum (the ranks stayed in step); and after MPI_Finalize, FMP_ESTATE again.
 * Prints "t_bad: rank R: N checks, F failures"; exit 0 when nothing failed.
 */
#include <forkmp.h>
#include <forkmp_mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_rank, g_size;
static long *g_checks, *g_fails;

#define EXPECT_RC(got, want, what)                                                       \
    do {                                                                                 \
        int got_ = (got);                                                                \
        __atomic_fetch_add(g_checks, 1, __ATOMIC_RELAXED);                               \
        if (got_ != (want)) {                                                            \
            __atomic_fetch_add(g_fails, 1, __ATOMIC_RELAXED);                            \
            fmp_printf("t_bad: FAIL: rank %d member %d: %s: got %d (%s), expected %s\n",  \
                       g_rank, fmp_thread_num(), what, got_, fmp_strerror(got_), #want); \
        }                                                                                \
    } while (0)

/* The ranks are still in step: a plain allreduce gives the right sum. */
static void in_step(const char *after)
{
    int one = 1, sum = 0;
    char what[128];
    snprintf(what, sizeof what, "allreduce after %s", after);
    EXPECT_RC(fmp_mpi_allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), 0, what);
    EXPECT_RC(sum, g_size, what);
}

typedef struct where {
    int rank, size;
} where;

static void init_in_region(void *arg)
{
    (void)arg;
    EXPECT_RC(fmp_mpi_init(MPI_COMM_WORLD), FMP_ESTATE, "fmp_mpi_init inside a region");
}

static void mismatched_counts(void *arg)
{
    (void)arg;
    double in[8] = {0}, out[8];
    int n = fmp_thread_num() == 0 ? 4 : 5;
    EXPECT_RC(fmp_mpi_allreduce(in, out, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
              FMP_EMISMATCH, "members passing different counts");
}

static void mismatched_ops(void *arg)
{
    (void)arg;
    int in = 1, out;
    MPI_Op op = fmp_thread_num() == 0 ? MPI_SUM : MPI_MAX;
    EXPECT_RC(fmp_mpi_allreduce(&in, &out, 1, MPI_INT, op, MPI_COMM_WORLD), FMP_EMISMATCH,
              "members passing different ops");
}

static void mismatched_roots(void *arg)
{
    const where *w = arg;
    int in = 1, out;
    int root = fmp_thread_num() == 0 ? 0 : w->size - 1;
    EXPECT_RC(fmp_mpi_reduce(&in, &out, 1, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD),
              w->size > 1 ? FMP_EMISMATCH : 0, "members passing different roots");
}

static void mismatched_calls(void *arg)
{
    (void)arg;
    int v = 1, out;
    int rc = fmp_thread_num() == 0
                 ? fmp_mpi_allreduce(&v, &out, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD)
                 : fmp_mpi_bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    EXPECT_RC(rc, FMP_EMISMATCH, "members calling different functions");
}

static void child_nested(void *arg)
{
    (void)arg;
    if (fmp_thread_num() != 1)
        return;
    /* a nested team of one: this child would be the one to call MPI */
    FMP_PARALLEL_IF(2, 0) {
        int v = 1, out;
        EXPECT_RC(fmp_mpi_allreduce(&v, &out, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD),
                  FMP_ESTATE, "a child calling fmp_mpi_allreduce outside a team collective");
        EXPECT_RC(fmp_mpi_bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD), FMP_ESTATE,
                  "a child calling fmp_mpi_bcast outside a team collective");
    }
}

static void bad_in_team(void *arg)
{
    const where *w = arg;
    int v = 1, out = 0;
    EXPECT_RC(fmp_mpi_allreduce(&v, &out, -1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), FMP_EINVAL,
              "negative count in a region");
    EXPECT_RC(fmp_mpi_allreduce(NULL, NULL, 0, MPI_INT, MPI_SUM, MPI_COMM_WORLD), 0,
              "count 0 in a region");
    EXPECT_RC(fmp_mpi_bcast(NULL, 0, MPI_INT, 0, MPI_COMM_WORLD), 0, "bcast of 0 in a region");
    /* the team goes on */
    EXPECT_RC(fmp_mpi_allreduce(&v, &out, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), 0,
              "allreduce after the bad calls in a region");
    EXPECT_RC(out, w->size * fmp_num_threads(), "sum after the bad calls in a region");
}

static void region(const char *name, void (*body)(void *), int want)
{
    where w = {g_rank, g_size};
    EXPECT_RC(fmp_parallel(2, body, &w), want, name);
    in_step(name);
}

int main(int argc, char **argv)
{
    g_checks = fmp_shared_alloc(sizeof *g_checks);
    g_fails = fmp_shared_alloc(sizeof *g_fails);
    int v = 1, out = 0;

    /* before MPI_Init */
    EXPECT_RC(fmp_mpi_init(MPI_COMM_WORLD), FMP_ESTATE, "fmp_mpi_init before MPI_Init");
    EXPECT_RC(fmp_mpi_allreduce(&v, &out, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), FMP_ESTATE,
              "fmp_mpi_allreduce before MPI_Init");

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);

    /* communicators that cannot be split by node */
    EXPECT_RC(fmp_mpi_init(MPI_COMM_NULL), FMP_EINVAL, "fmp_mpi_init(MPI_COMM_NULL)");
    if (g_size >= 2) {
        MPI_Comm half, inter;
        MPI_Comm_split(MPI_COMM_WORLD, g_rank % 2, g_rank, &half);
        MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, g_rank % 2 ? 0 : 1, 7, &inter);
        EXPECT_RC(fmp_mpi_init(inter), FMP_EINVAL, "fmp_mpi_init(an intercommunicator)");
        EXPECT_RC(fmp_mpi_allreduce(&v, &out, 1, MPI_INT, MPI_SUM, inter), FMP_EINVAL,
                  "fmp_mpi_allreduce on an intercommunicator");
        MPI_Comm_free(&inter);
        MPI_Comm_free(&half);
    }
    EXPECT_RC(fmp_mpi_init(MPI_COMM_WORLD), 0, "fmp_mpi_init(MPI_COMM_WORLD)");

    /* bad arguments outside regions */
    EXPECT_RC(fmp_mpi_allreduce(&v, &out, -1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), FMP_EINVAL,
              "negative count");
    EXPECT_RC(fmp_mpi_allreduce(NULL, &out, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), FMP_EINVAL,
              "NULL in");
    EXPECT_RC(fmp_mpi_allreduce(&v, NULL, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), FMP_EINVAL,
              "NULL out");
    EXPECT_RC(fmp_mpi_allreduce(&v, &out, 1, MPI_DATATYPE_NULL, MPI_SUM, MPI_COMM_WORLD),
              FMP_EINVAL, "MPI_DATATYPE_NULL");
    EXPECT_RC(fmp_mpi_allreduce(&v, &out, 1, MPI_INT, MPI_OP_NULL, MPI_COMM_WORLD), FMP_EINVAL,
              "MPI_OP_NULL");
    EXPECT_RC(fmp_mpi_allreduce(&v, &out, 1, MPI_INT, MPI_SUM, MPI_COMM_NULL), FMP_EINVAL,
              "MPI_COMM_NULL");
    EXPECT_RC(fmp_mpi_bcast(&v, 1, MPI_INT, g_size, MPI_COMM_WORLD), FMP_EINVAL,
              "bcast from a root outside the communicator");
    EXPECT_RC(fmp_mpi_reduce(&v, &out, 1, MPI_INT, MPI_SUM, -1, MPI_COMM_WORLD), FMP_EINVAL,
              "reduce to a negative root");
    if (g_size >= 2) {
        /* rank 0 (the root) errs too, so that nobody waits in MPI_Reduce */
        int rc = g_rank == 0
                     ? fmp_mpi_reduce(&v, &out, 1, MPI_INT, MPI_SUM, g_size, MPI_COMM_WORLD)
                     : fmp_mpi_reduce(MPI_IN_PLACE, &out, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
        EXPECT_RC(rc, FMP_EINVAL, "MPI_IN_PLACE on a rank that is not the root");
    }
    EXPECT_RC(fmp_mpi_allreduce(NULL, NULL, 0, MPI_INT, MPI_SUM, MPI_COMM_WORLD), 0,
              "count 0 outside regions");
    EXPECT_RC(fmp_mpi_reduce(NULL, NULL, 0, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD), 0,
              "reduce of 0 outside regions");
    in_step("the bad arguments");

    /* inside regions; FMP_ERRORS_RETURN: a broken team returns its error */
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    region("fmp_mpi_init inside a region", init_in_region, 0);
    region("different counts", mismatched_counts, FMP_EMISMATCH);
    region("different ops", mismatched_ops, FMP_EMISMATCH);
    region("different roots", mismatched_roots, g_size > 1 ? FMP_EMISMATCH : 0);
    region("different functions", mismatched_calls, FMP_EMISMATCH);
    fmp_set_nested(0);
    region("a child in a nested team of one", child_nested, 0);
    region("bad arguments in a region", bad_in_team, 0);

    long fails = *g_fails, total = 0;
    MPI_Allreduce(&fails, &total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();

    /* after MPI_Finalize */
    EXPECT_RC(fmp_mpi_init(MPI_COMM_WORLD), FMP_ESTATE, "fmp_mpi_init after MPI_Finalize");
    EXPECT_RC(fmp_mpi_allreduce(&v, &out, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), FMP_ESTATE,
              "fmp_mpi_allreduce after MPI_Finalize");
    total += *g_fails - fails;
    printf("t_bad: rank %d: %ld checks, %ld failures\n", g_rank, *g_checks, *g_fails);
    return total ? 1 : 0;
}
