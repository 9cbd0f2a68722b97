/* The library of tests/mpi/fake_mpi.h: every PMPI_ function but PMPI_Absent, each a
   function of its arguments, so that a wrapper that drops or swaps one is seen. */
#define OMPI_OMIT_MPI1_COMPAT_DECLS 0
#include <mpi.h>

int PMPI_Send(const void *buf, int count, MPI_Comm comm)
{
    return *(const int *)buf * 100 + count * 10 + comm;
}
double PMPI_Wtime(void)
{
    return 2.5;
}
MPI_Aint PMPI_Aint_add(MPI_Aint base, MPI_Aint disp)
{
    return base * 1000 + disp;
}
MPI_Comm PMPI_Comm_f2c(int comm)
{
    return comm * 2;
}
int PMPI_Pcontrol(const int level, ...)
{
    return level + 1;
}
int PMPI_Unnamed(MPI_Comm c, int *p, unsigned long u)
{
    *p = c;
    return (int)u;
}
int PMPI_Ranges(int n, int ranges[][3])
{
    return ranges[n][2];
}
int PMPI_Keyval(MPI_Fn *fn, int (*cb)(MPI_Comm c, int k), void *extra)
{
    return fn(1, extra) * 10 + cb(2, 3);
}
int PMPI_Old(int *x)
{
    return *x + 7;
}
int PMPI_Removed(int *y)
{
    return *y - 1;
}
