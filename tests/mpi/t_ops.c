/*
 * t_ops: the hybrid layer's check of libforkmp's table of hooks (struct fmp__ops, filled
 * by src/ops.c, checked by src/mpi/core.c, which is compiled in), with the libforkmp it
 * runs with.  tests/mpi/ops.mpi runs it with this build's libforkmp and with
 * tests/mpi/skew/libforkmp.so.1, the same library with another FMP__OPS_ABI, in its place.
 *
 *   t_ops verdict           no MPI: this libforkmp's table is whole (no hook left NULL)
 *                           and accepted; a missing table, another version, a table one
 *                           hook short are refused with the catalogue's reason; a longer
 *                           table (a newer libforkmp) is accepted
 *   t_ops match             under mpirun: fmp_mpi_init, then fmp_mpi_allreduce outside and
 *                           inside a region of 2, work
 *   t_ops mismatch          under mpirun, with the skew libforkmp: fmp_mpi_init and every
 *                           later call return FMP_ESTATE, in every member, and nothing
 *                           crashes
 *   t_ops mismatch-region   the same when the first call is fmp_mpi_allreduce inside a
 *                           region of 2, without fmp_mpi_init
 * The mismatch modes print to stdout, once, the line the rank must have written on
 * stderr ("expect: forkmp: ..."), composed from the catalogue's keys.  Prints
 * "t_ops: MODE: N checks, 0 failures" and exits 0 when every check held, 1 otherwise.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "messages.h"
#include "mpi/hybrid.h"

static int g_fails, g_checks;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        g_checks++;                                                                                \
        if (!(cond)) {                                                                             \
            printf("t_ops: FAIL: " __VA_ARGS__);                                                   \
            printf("\n");                                                                          \
            g_fails++;                                                                             \
        }                                                                                          \
    } while (0)

/* ---------------------------------------------------------------- verdict */

static void verdict_is(const char *what, const struct fmp__ops *ops, int want, const char *want_why)
{
    char why[200] = "";
    int got = fmp__mpi_core_verdict(ops, why, sizeof why);
    CHECK(got == want, "%s: verdict %d, expected %d (%s)", what, got, want, why);
    if (want_why)
        CHECK(strcmp(why, want_why) == 0, "%s: reason '%s', expected '%s'", what, why, want_why);
    else
        printf("t_ops: %s: accepted\n", what);
}

static int verdict(void)
{
    const struct fmp__ops *t = fmp__internal_ops(FMP__OPS_ABI);
    CHECK(t != NULL, "fmp__internal_ops(%u) is NULL in this build's libforkmp", FMP__OPS_ABI);
    if (!t)
        return 1;
    CHECK(t->abi == FMP__OPS_ABI, "the table says version %u, not %u", t->abi, FMP__OPS_ABI);
    CHECK(t->size == sizeof *t, "the table says %zu bytes, not %zu", t->size, sizeof *t);
    /* every hook filled: a member added to the struct without its entry in src/ops.c
       would be NULL (the hooks are function pointers from `collective` to the end) */
    for (size_t off = offsetof(struct fmp__ops, collective); off < sizeof *t;
         off += sizeof(void (*)(void))) {
        void (*hook)(void);
        memcpy(&hook, (const char *)t + off, sizeof hook);
        CHECK(hook != NULL, "the hook at byte %zu of the table is NULL (src/ops.c lacks it)", off);
    }
    verdict_is("this libforkmp's table", t, 0, NULL);
    CHECK(fmp__internal_ops(FMP__OPS_ABI + 1) == NULL,
          "fmp__internal_ops(%u) gives a table of a version it does not have", FMP__OPS_ABI + 1);

    char abi_why[200], size_why[200];
    snprintf(abi_why, sizeof abi_why, FMP__MSG_mpi_core_abi, FMP__OPS_ABI);
    verdict_is("no table of this version", NULL, FMP_ESTATE, abi_why);

    struct fmp__ops other = *t;
    other.abi = FMP__OPS_ABI + 1;
    verdict_is("a table of another version", &other, FMP_ESTATE, abi_why);

    struct fmp__ops shorter = *t;
    shorter.size = sizeof *t - sizeof(void (*)(void));
    snprintf(size_why, sizeof size_why, FMP__MSG_mpi_core_size, FMP__OPS_ABI, shorter.size,
             sizeof *t);
    verdict_is("a table one hook short (an older libforkmp)", &shorter, FMP_ESTATE, size_why);

    struct fmp__ops longer = *t;
    longer.size = sizeof *t + sizeof(void (*)(void));
    verdict_is("a table one hook longer (a newer libforkmp)", &longer, 0, NULL);

    printf("t_ops: verdict: %d checks, %d failures\n", g_checks, g_fails);
    return g_fails != 0;
}

/* ---------------------------------------------------------------- under MPI */

static int *g_rcs;  /* shared: each member's return code */
static long *g_sum; /* shared: each member's result */

static void member_allreduce(void *arg)
{
    (void)arg;
    long one = 1, sum = 0;
    int me = fmp_thread_num();
    g_rcs[me] = fmp_mpi_allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    g_sum[me] = sum;
}

/* The line this rank must have written on stderr, from the catalogue. */
static void print_expected(const char *what)
{
    char why[200];
    unsigned v = fmp_get_version();
    snprintf(why, sizeof why, FMP__MSG_mpi_core_abi, FMP__OPS_ABI);
    printf("expect: forkmp: " FMP__MSG_mpi_core_mismatch "\n", what, FMP_VERSION_STRING, v >> 16,
           (v >> 8) & 0xffu, v & 0xffu, why);
}

static int under_mpi(const char *mode)
{
    int rank = 0, size = 1, rc;
    MPI_Init(NULL, NULL);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    g_rcs = fmp_shared_alloc(2 * sizeof *g_rcs);
    g_sum = fmp_shared_alloc(2 * sizeof *g_sum);
    int mismatch = strcmp(mode, "match") != 0;
    int region_first = strcmp(mode, "mismatch-region") == 0;
    int want = mismatch ? FMP_ESTATE : 0;
    long one = 1, sum = 0;

    if (!region_first) {
        rc = fmp_mpi_init(MPI_COMM_WORLD);
        CHECK(rc == want, "rank %d: fmp_mpi_init: %d (%s), expected %d", rank, rc, fmp_strerror(rc),
              want);
        rc = fmp_mpi_allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        CHECK(rc == want, "rank %d: fmp_mpi_allreduce outside a region: %d, expected %d", rank, rc,
              want);
        if (!mismatch)
            CHECK(sum == size, "rank %d: allreduce gave %ld, expected %d", rank, sum, size);
        rc = fmp_mpi_bcast(&one, 1, MPI_LONG, 0, MPI_COMM_WORLD);
        CHECK(rc == want, "rank %d: fmp_mpi_bcast: %d, expected %d", rank, rc, want);
    }
    /* a region of 2: every member calls, every member gets the same answer */
    rc = fmp_parallel(2, member_allreduce, NULL);
    CHECK(rc == 0, "rank %d: the region failed: %s", rank, fmp_strerror(rc));
    for (int m = 0; m < 2; m++) {
        CHECK(g_rcs[m] == want,
              "rank %d member %d: fmp_mpi_allreduce in a region: %d, "
              "expected %d",
              rank, m, g_rcs[m], want);
        if (!mismatch)
            CHECK(g_sum[m] == 2L * size,
                  "rank %d member %d: allreduce in a region gave %ld, "
                  "expected %d",
                  rank, m, g_sum[m], 2 * size);
    }
    if (mismatch)
        print_expected(region_first ? "fmp_mpi_allreduce" : "fmp_mpi_init");
    printf("t_ops: %s: rank %d: %d checks, %d failures\n", mode, rank, g_checks, g_fails);
    fflush(stdout);
    MPI_Finalize();
    return g_fails != 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "verdict") == 0)
        return verdict();
    if (strcmp(mode, "match") == 0 || strcmp(mode, "mismatch") == 0 ||
        strcmp(mode, "mismatch-region") == 0)
        return under_mpi(mode);
    fprintf(stderr, "usage: t_ops verdict|match|mismatch|mismatch-region\n");
    return 99;
}
