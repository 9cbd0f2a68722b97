/* Calls each wrapper that gen-wrappers.sh made from tests/mpi/fake_mpi.h and checks that
   it checked first (the stub FMP__MPI_CHECK names it) and passed everything through. */
#define OMPI_OMIT_MPI1_COMPAT_DECLS 0
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

const char *fake_checked;
int fake_checks;
static int bad;

static void expect(const char *call, long got, long want)
{
    if (!fake_checked || strcmp(fake_checked, call) != 0 || got != want) {
        printf("%s: checked as %s, gave %ld, wanted %ld\n", call,
               fake_checked ? fake_checked : "(not checked)", got, want);
        bad = 1;
    }
    fake_checked = NULL;
}

static int fn(int a, void *extra)
{
    return a + *(int *)extra;
}

static int cb(MPI_Comm c, int k)
{
    return c * k;
}

int main(void)
{
    int four = 4, out = 0, seven = 7;
    int ranges[2][3] = {{0, 0, 0}, {0, 0, 9}};
    expect("MPI_Send", MPI_Send(&four, 3, 2), 432);
    expect("MPI_Wtime", (long)(MPI_Wtime() * 10), 25);
    expect("MPI_Aint_add", (long)MPI_Aint_add(5, 6), 5006);
    expect("MPI_Comm_f2c", MPI_Comm_f2c(21), 42);
    expect("MPI_Pcontrol", MPI_Pcontrol(4, "ignored"), 5);
    expect("MPI_Unnamed", MPI_Unnamed(11, &out, 12UL) * 100 + out, 1211);
    expect("MPI_Ranges", MPI_Ranges(1, ranges), 9);
    expect("MPI_Keyval", MPI_Keyval(fn, cb, &seven), 86);
    expect("MPI_Old", MPI_Old(&four), 11);
    expect("MPI_Removed", MPI_Removed(&four), 3);
    if (fake_checks != 10) {
        printf("%d checks for 10 calls\n", fake_checks);
        bad = 1;
    }
    printf("%s: 10 wrappers called, %d checks\n", bad ? "WRONG" : "right", fake_checks);
    return bad;
}
