# tests/mpi/: the hybrid layer under a real mpirun (Open MPI), in make check.
# Included by the top Makefile.am; paths are relative to the top.
#
# Every test is a script TEST.mpi run by tests/run-mpi.sh (its LOG_COMPILER), which
# launches mpirun --oversubscribe as root under `timeout`, also on fake nodes of this
# machine (tests/mpi/fake-rsh); a script skips (77) what this machine cannot do.
#   coll.mpi      reductions, reduce, bcast, user op: -np 2, -np 4, 2+2 and 1+2+1 nodes
#   init.mpi      team sizing, node awareness, warnings, affinity lines, children's env
#   bad.mpi       bad input: clear error codes and one message each, no hang
#   crash.mpi     a crashing / exiting member ends the job non-zero with the diagnostic
#   forksafe.mpi  the fork-safety verdict for fabrics this machine does not have
#   ops.mpi       libforkmp_mpi refuses, with one message, a libforkmp of another build
#   examples.mpi  examples/mpi beside their MPI+OpenMP originals
#   slurm.mpi     a one-machine Slurm cluster: sbatch --wait of examples/mpi/jacobi.sbatch
#   member.mpi    a member that calls MPI fails the job (status 70, naming the call);
#                 the master's calls work; every MPI function of mpi.h is wrapped
#   wrappers.mpi  src/mpi/gen-wrappers.sh on an mpi.h and a library of our own
#                 (tests/mpi/fake_mpi.h, fake_mpi.c, fake_main.c: built by the test)
#   info.mpi      forkmp-info under mpirun: a line per rank, the team fmp_mpi_init gives
#   census.mpi    the node's count of live members: the sum of the ranks', up and down
#                 with teams and a killed member, the waiters' verdict, the warning of a
#                 team grown by fmp_set_num_threads, no /dev/shm leftover

mpi_tests = tests/mpi/coll.mpi tests/mpi/init.mpi tests/mpi/bad.mpi tests/mpi/crash.mpi \
	tests/mpi/forksafe.mpi tests/mpi/ops.mpi tests/mpi/examples.mpi tests/mpi/slurm.mpi \
	tests/mpi/member.mpi tests/mpi/wrappers.mpi tests/mpi/info.mpi tests/mpi/census.mpi \
	tests/mpi/check.mpi
mpi_test_programs = tests/mpi/t_coll tests/mpi/t_init tests/mpi/t_bad tests/mpi/t_crash \
	tests/mpi/t_forksafe tests/mpi/t_linger tests/mpi/t_ops tests/mpi/t_member \
	tests/mpi/t_census tests/mpi/t_check

TEST_EXTENSIONS += .mpi
MPI_LOG_COMPILER = $(SHELL) $(top_builddir)/tests/run-mpi.sh
EXTRA_DIST += $(mpi_tests) tests/mpi/fake_mpi.h tests/mpi/fake_mpi.c tests/mpi/fake_main.c \
	tests/mpi/lib.sh tests/mpi/slurm-cluster.sh tests/run-mpi.sh.in
dist_noinst_SCRIPTS += tests/mpi/fake-rsh

if HAVE_MPI
TESTS += $(mpi_tests)
check_PROGRAMS += $(mpi_test_programs)
check_LTLIBRARIES += tests/mpi/skew/libforkmp.la tests/mpi/libtmember.la
endif

# real binaries (-no-install), so that the leftover checks find the programs themselves
mpi_test_cppflags = $(AM_CPPFLAGS)
mpi_test_cflags = $(AM_CFLAGS) $(MPI_CFLAGS)
mpi_test_ldadd = libforkmp_mpi.la libforkmp.la $(MPI_LIBS)

tests_mpi_t_coll_SOURCES = tests/mpi/t_coll.c
tests_mpi_t_coll_CFLAGS = $(mpi_test_cflags)
tests_mpi_t_coll_LDADD = $(mpi_test_ldadd)
tests_mpi_t_coll_LDFLAGS = -no-install
tests_mpi_t_init_SOURCES = tests/mpi/t_init.c
tests_mpi_t_init_CFLAGS = $(mpi_test_cflags)
tests_mpi_t_init_LDADD = $(mpi_test_ldadd)
tests_mpi_t_init_LDFLAGS = -no-install
tests_mpi_t_bad_SOURCES = tests/mpi/t_bad.c
tests_mpi_t_bad_CFLAGS = $(mpi_test_cflags)
tests_mpi_t_bad_LDADD = $(mpi_test_ldadd)
tests_mpi_t_bad_LDFLAGS = -no-install
# the core's table of hooks (census_live, census_throttled), through its one export
tests_mpi_t_check_SOURCES = tests/mpi/t_check.c
tests_mpi_t_check_CFLAGS = $(mpi_test_cflags)
tests_mpi_t_check_LDADD = $(mpi_test_ldadd)
tests_mpi_t_check_LDFLAGS = -no-install
tests_mpi_t_census_SOURCES = tests/mpi/t_census.c
tests_mpi_t_census_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_mpi_t_census_CFLAGS = $(mpi_test_cflags)
tests_mpi_t_census_LDADD = $(mpi_test_ldadd)
tests_mpi_t_census_LDFLAGS = -no-install
tests_mpi_t_crash_SOURCES = tests/mpi/t_crash.c
tests_mpi_t_crash_CFLAGS = $(mpi_test_cflags)
tests_mpi_t_crash_LDADD = $(mpi_test_ldadd)
tests_mpi_t_crash_LDFLAGS = -no-install
tests_mpi_t_linger_SOURCES = tests/mpi/t_linger.c
tests_mpi_t_linger_LDADD = libforkmp.la
tests_mpi_t_linger_LDFLAGS = -no-install
# the verdict function itself, compiled in: it is hidden in the library
tests_mpi_t_forksafe_SOURCES = tests/mpi/t_forksafe.c src/mpi/forksafe.c
tests_mpi_t_forksafe_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_mpi_t_forksafe_CFLAGS = $(mpi_test_cflags)
tests_mpi_t_forksafe_LDADD = $(mpi_test_ldadd)
tests_mpi_t_forksafe_LDFLAGS = -no-install
# the hybrid layer's check of libforkmp's table of hooks, src/mpi/core.c compiled in (it
# is hidden in the library)
tests_mpi_t_ops_SOURCES = tests/mpi/t_ops.c src/mpi/core.c
tests_mpi_t_ops_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_mpi_t_ops_CFLAGS = $(mpi_test_cflags)
tests_mpi_t_ops_LDADD = $(mpi_test_ldadd)
tests_mpi_t_ops_LDFLAGS = -no-install
# A libforkmp of another build, for ops.mpi: libforkmp's own objects, but src/ops.c with
# another FMP__OPS_ABI; its soname is libforkmp's, so that LD_PRELOAD puts it in the place
# of libforkmp.so.1.  -rpath: a shared library (never installed).
tests_mpi_skew_libforkmp_la_SOURCES = src/ops.c
tests_mpi_skew_libforkmp_la_CPPFLAGS = $(libforkmp_la_CPPFLAGS) -DFMP__OPS_ABI=1000u
tests_mpi_skew_libforkmp_la_CFLAGS = $(libforkmp_la_CFLAGS)
tests_mpi_skew_libforkmp_la_LIBADD = $(libforkmp_la_OBJECTS:src/libforkmp_la-ops.lo=) \
	$(libforkmp_la_LIBADD)
tests_mpi_skew_libforkmp_la_LDFLAGS = $(libforkmp_la_LDFLAGS) -shared \
	-rpath $(abs_builddir)/tests/mpi/skew

# MPI called by a member (member.mpi): t_member, and a library of its own that calls MPI,
# linked with MPI only; the program links libforkmp_mpi before it and before MPI
tests_mpi_t_member_SOURCES = tests/mpi/t_member.c tests/mpi/t_member_lib.h
tests_mpi_t_member_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_mpi_t_member_CFLAGS = $(mpi_test_cflags)
tests_mpi_t_member_LDADD = libforkmp_mpi.la libforkmp.la tests/mpi/libtmember.la $(MPI_LIBS)
tests_mpi_t_member_LDFLAGS = -no-install
tests_mpi_libtmember_la_SOURCES = tests/mpi/t_member_lib.c tests/mpi/t_member_lib.h
tests_mpi_libtmember_la_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS)
tests_mpi_libtmember_la_LIBADD = $(MPI_LIBS)
tests_mpi_libtmember_la_LDFLAGS = -shared -rpath $(abs_builddir)/tests/mpi
