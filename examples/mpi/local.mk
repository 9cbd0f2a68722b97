# examples/mpi/: ports of MPI+OpenMP programs to MPI+forkmp, each beside its original.
# Included by the top Makefile.am; paths are relative to the top.  Built when configure
# found MPI (the originals also need OpenMP); tests/mpi/examples.mpi compares each pair
# under mpirun, and tests/mpi/slurm.mpi submits jacobi.sbatch to a one-machine Slurm.
#
#   pi_mpi       hybrid pi: FMP_PARALLEL + fmp_mpi_allreduce    (pi_mpi_omp: the original)
#   jacobi       2D heat, halo exchange by the master between the runs of a team created
#                before MPI_Init (--fork-per-region: a region per sweep)  (jacobi_omp)
#   jacobi.sbatch  the Slurm batch script for jacobi (--cpus-per-task sizes the teams)

if HAVE_MPI
noinst_PROGRAMS += examples/mpi/pi_mpi examples/mpi/jacobi
if HAVE_OPENMP
noinst_PROGRAMS += examples/mpi/pi_mpi_omp examples/mpi/jacobi_omp
endif
endif
dist_noinst_SCRIPTS += examples/mpi/jacobi.sbatch

# -no-install: real binaries, so that the tests find the programs themselves
examples_mpi_pi_mpi_SOURCES = examples/mpi/pi_mpi.c
examples_mpi_pi_mpi_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS)
examples_mpi_pi_mpi_LDADD = libforkmp_mpi.la libforkmp.la $(MPI_LIBS)
examples_mpi_pi_mpi_LDFLAGS = -no-install
examples_mpi_jacobi_SOURCES = examples/mpi/jacobi.c
examples_mpi_jacobi_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS)
examples_mpi_jacobi_LDADD = libforkmp_mpi.la libforkmp.la $(MPI_LIBS) -lm
examples_mpi_jacobi_LDFLAGS = -no-install

examples_mpi_pi_mpi_omp_SOURCES = examples/mpi/pi_mpi_omp.c
examples_mpi_pi_mpi_omp_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS) $(OPENMP_CFLAGS)
examples_mpi_pi_mpi_omp_LDADD = $(MPI_LIBS)
examples_mpi_pi_mpi_omp_LDFLAGS = $(OPENMP_CFLAGS)
examples_mpi_jacobi_omp_SOURCES = examples/mpi/jacobi_omp.c
examples_mpi_jacobi_omp_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS) $(OPENMP_CFLAGS)
examples_mpi_jacobi_omp_LDADD = $(MPI_LIBS) -lm
examples_mpi_jacobi_omp_LDFLAGS = $(OPENMP_CFLAGS)
