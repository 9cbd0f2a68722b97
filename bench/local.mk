# bench/: microbenchmarks of forkmp side by side with OpenMP threads (libgomp), the bare
# fork floor and flat MPI.  Included by the top Makefile.am; paths are relative to the top.
#
#   make          builds the benchmark programs (never run by make check)
#   make bench    builds them, then runs the whole suite: bench/run (see bench/README.md)
#
# Results go to ./results/<date>/ (results.md, raw.tsv, PNG plots); bench/RESULTS.md keeps
# the figures of the last run worth keeping, with the machine they came from.

# -no-install: real binaries, not libtool wrappers, so that perf and callgrind see the
# programs themselves.
bench_common = bench/common.c bench/common.h

bench_programs = bench/epcc_fmp bench/floor_fmp bench/kernels_fmp bench/regions_fmp \
	bench/tasks_fmp
bench_epcc_fmp_SOURCES = bench/epcc_fmp.c bench/epcc.c bench/epcc.h bench/epcc_driver.h \
	$(bench_common)
bench_epcc_fmp_LDADD = libforkmp.la -lm
bench_epcc_fmp_LDFLAGS = -no-install
bench_floor_fmp_SOURCES = bench/floor_fmp.c $(bench_common)
bench_floor_fmp_CFLAGS = $(AM_CFLAGS) -pthread
bench_floor_fmp_LDADD = libforkmp.la
bench_floor_fmp_LDFLAGS = -pthread -no-install
bench_kernels_fmp_SOURCES = bench/kernels_fmp.c bench/kernels.h $(bench_common)
bench_kernels_fmp_LDADD = libforkmp.la -lm
bench_kernels_fmp_LDFLAGS = -no-install
bench_regions_fmp_SOURCES = bench/regions_fmp.c bench/regions.h $(bench_common)
bench_regions_fmp_LDADD = libforkmp.la
bench_regions_fmp_LDFLAGS = -no-install
bench_tasks_fmp_SOURCES = bench/tasks_fmp.c bench/tasks.h $(bench_common)
bench_tasks_fmp_LDADD = libforkmp.la
bench_tasks_fmp_LDFLAGS = -no-install

# The OpenMP side: the same tests with libgomp, in programs of their own (no program
# links both runtimes).
if HAVE_OPENMP
bench_programs += bench/epcc_omp bench/kernels_omp bench/regions_omp bench/tasks_omp
endif
bench_epcc_omp_SOURCES = bench/epcc_omp.c bench/epcc.c bench/epcc.h bench/epcc_driver.h \
	$(bench_common)
bench_epcc_omp_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
bench_epcc_omp_LDFLAGS = $(OPENMP_CFLAGS) -no-install
bench_epcc_omp_LDADD = -lm
bench_kernels_omp_SOURCES = bench/kernels_omp.c bench/kernels.h $(bench_common)
bench_kernels_omp_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
bench_kernels_omp_LDFLAGS = $(OPENMP_CFLAGS) -no-install
bench_kernels_omp_LDADD = -lm
bench_regions_omp_SOURCES = bench/regions_omp.c bench/regions.h $(bench_common)
bench_regions_omp_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
bench_regions_omp_LDFLAGS = $(OPENMP_CFLAGS) -no-install
bench_tasks_omp_SOURCES = bench/tasks_omp.c bench/tasks.h $(bench_common)
bench_tasks_omp_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
bench_tasks_omp_LDFLAGS = $(OPENMP_CFLAGS) -no-install

# The hybrid layer against flat MPI and MPI-3 shared windows (run under mpirun).
if HAVE_MPI
bench_programs += bench/allreduce_mpi
endif
noinst_PROGRAMS += $(bench_programs)
bench_allreduce_mpi_SOURCES = bench/allreduce_mpi.c $(bench_common)
bench_allreduce_mpi_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS)
bench_allreduce_mpi_LDADD = libforkmp_mpi.la libforkmp.la $(MPI_LIBS)
bench_allreduce_mpi_LDFLAGS = -no-install

dist_noinst_SCRIPTS += bench/run
dist_noinst_DATA += bench/report.awk bench/README.md bench/RESULTS.md bench/regions.png \
	bench/regions-a63fe8e.png bench/regions-fdd3774.png bench/regions-761b01b.png

# `make bench`: build, then run the suite here.  BENCH_FLAGS passes options to bench/run
# (make bench BENCH_FLAGS="--members 16 --size large").
.PHONY: bench
bench: $(bench_programs)
	MPIRUN="$(MPIRUN)" bash $(srcdir)/bench/run --builddir "$(abs_builddir)" $(BENCH_FLAGS)
