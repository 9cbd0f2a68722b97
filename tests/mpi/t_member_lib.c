/* A library that calls MPI itself (tests/mpi/t_member_lib.h). */
#include <mpi.h>

#include "t_member_lib.h"

int t_member_lib_send(int value)
{
    return MPI_Send(&value, 1, MPI_INT, 0, 3, MPI_COMM_WORLD);
}

void *t_member_lib_send_fn(void)
{
    return (void *)MPI_Send;
}
