/* An mpi.h of our own for tests/mpi/wrappers.mpi: each shape of declaration that a real
   mpi.h has, each with its PMPI_ twin. */
#ifndef FAKE_MPI_H
#define FAKE_MPI_H
#define FAKE_DECL __attribute__((visibility("default")))
typedef int MPI_Comm;
typedef long MPI_Aint;
typedef int(MPI_Fn)(int, void *);
typedef struct {
    int source;
} MPI_Status;
struct fake_inner {
    int x;
};
FAKE_DECL int MPI_Send(const void *buf, int count, MPI_Comm comm);
FAKE_DECL int PMPI_Send(const void *buf, int count, MPI_Comm comm);
FAKE_DECL double MPI_Wtime(void);
FAKE_DECL double PMPI_Wtime(void);
FAKE_DECL MPI_Aint MPI_Aint_add(MPI_Aint base, MPI_Aint disp);
FAKE_DECL MPI_Aint PMPI_Aint_add(MPI_Aint base, MPI_Aint disp);
/* a space before the parenthesis, as Open MPI writes some */
// clang-format off
FAKE_DECL MPI_Comm MPI_Comm_f2c (int comm);
FAKE_DECL MPI_Comm PMPI_Comm_f2c (int comm);
// clang-format on
FAKE_DECL int MPI_Pcontrol(const int level, ...);
FAKE_DECL int PMPI_Pcontrol(const int level, ...);
FAKE_DECL int MPI_Unnamed(MPI_Comm, int *, unsigned long);
FAKE_DECL int PMPI_Unnamed(MPI_Comm, int *, unsigned long);
FAKE_DECL int MPI_Ranges(int n, int ranges[][3]);
FAKE_DECL int PMPI_Ranges(int n, int ranges[][3]);
FAKE_DECL int MPI_Keyval(MPI_Fn *fn, int (*cb)(MPI_Comm c, int k), void *extra);
FAKE_DECL int PMPI_Keyval(MPI_Fn *fn, int (*cb)(MPI_Comm c, int k), void *extra);
FAKE_DECL int MPI_Old(int *x)
    __attribute__((__deprecated__("MPI_Old was deprecated; use MPI_New")));
FAKE_DECL int PMPI_Old(int *x)
    __attribute__((__deprecated__("PMPI_Old was deprecated; use PMPI_New")));
/* declared, but not in the library */
FAKE_DECL int MPI_Absent(int x);
FAKE_DECL int PMPI_Absent(int x);
/* removed: declared only on request, as Open MPI does */
#if defined(OMPI_OMIT_MPI1_COMPAT_DECLS) && !OMPI_OMIT_MPI1_COMPAT_DECLS
FAKE_DECL int MPI_Removed(int *y);
FAKE_DECL int PMPI_Removed(int *y);
#endif
/* a macro: no function to wrap */
#define MPI_Aint_diff(a, b) ((MPI_Aint)((char *)(a) - (char *)(b)))
#endif
