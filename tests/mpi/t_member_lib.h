/* tests/mpi/t_member_lib: a library that calls MPI itself, linked with MPI only (not
   with libforkmp_mpi), for t_member: its calls too must reach libforkmp_mpi's wrappers. */
#ifndef T_MEMBER_LIB_H
#define T_MEMBER_LIB_H
/* MPI_Send of value to rank 0 of MPI_COMM_WORLD, tag 3; MPI's return code */
int t_member_lib_send(int value);
/* MPI_Send as this library sees it (the function its calls reach) */
void *t_member_lib_send_fn(void);
#endif
