# tests/local.mk: the core's CUnit suites, included by the top Makefile.am (paths are
# relative to the top).
#
# One program per concern; each runs every test in a watched subprocess (tests/harness.h:
# timeout, crash and leftover-process checks) and prints CUnit's Run Summary.
#
#   make check                                   all of them (and the rest of the project)
#   make check TESTS=tests/test_loops            one suite (its log: tests/test_loops.log)
#   tests/test_loops [--list] [NAME...]          the same by hand, or only the named tests
#   tests/test_loops --inline NAME               one test without subprocess, for gdb
#
# The helper programs fail_prog (a failing member in the default abort mode), fault_prog
# (the fault-injection matrix: a member failing in each way in each place, both error
# modes) and output_prog (stdout across fork) are run by test_failure, test_faults and
# test_output;
# tests/harness_selftest.sh checks the harness itself with test_harness_demo (built from
# tests/harness_demo.c), a suite whose tests misbehave on purpose.  tests/valgrind_arena.sh
# runs arena_probe under valgrind with the default arena size.

fmp_test_suites = \
	tests/test_regions \
	tests/test_loops \
	tests/test_loopx \
	tests/test_shared \
	tests/test_sync \
	tests/test_reduce \
	tests/test_iterate \
	tests/test_failure \
	tests/test_mismatch \
	tests/test_output \
	tests/test_pteam \
	tests/test_badinput \
	tests/test_hardening \
	tests/test_faults \
	tests/test_tasks \
	tests/test_warm \
	tests/test_symbols \
	tests/test_check

EXTRA_DIST += tests/harness.h tests/no_cunit.sh tests/harness_selftest.sh

if HAVE_CUNIT
check_LTLIBRARIES += tests/libharness.la
check_PROGRAMS += $(fmp_test_suites) tests/fail_prog tests/fault_prog tests/output_prog \
	tests/test_harness_demo tests/hard_prog tests/task_prog tests/warm_prog tests/check_prog
# an LD_PRELOAD helper of test_hardening (a module: tests/.libs/libslowfmt.so)
check_LTLIBRARIES += tests/libslowfmt.la
if HAVE_OPENMP
check_PROGRAMS += tests/omp_member
endif
TESTS += tests/harness_selftest.sh $(fmp_test_suites)
else
TESTS += tests/no_cunit.sh
endif

tests_libharness_la_SOURCES = tests/harness.c tests/harness.h
tests_libharness_la_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_libharness_la_LIBADD = $(CUNIT_LIBS)

# -no-install: real binaries rather than libtool wrapper scripts, so that a test finds
# its helper programs beside itself and sees its own processes under their names.
fmp_test_cflags = $(AM_CFLAGS) $(CUNIT_CFLAGS)
fmp_test_ldadd = tests/libharness.la libforkmp.la $(CUNIT_LIBS)

tests_test_regions_SOURCES = tests/test_regions.c
tests_test_regions_CFLAGS = $(fmp_test_cflags)
tests_test_regions_LDADD = $(fmp_test_ldadd)
tests_test_regions_LDFLAGS = -no-install

tests_test_loops_SOURCES = tests/test_loops.c tests/loop_scheds.h
tests_test_loops_CFLAGS = $(fmp_test_cflags)
tests_test_loops_LDADD = $(fmp_test_ldadd)
tests_test_loops_LDFLAGS = -no-install

tests_test_loopx_SOURCES = tests/test_loopx.c tests/loop_scheds.h
tests_test_loopx_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_test_loopx_CFLAGS = $(fmp_test_cflags)
tests_test_loopx_LDADD = $(fmp_test_ldadd)
tests_test_loopx_LDFLAGS = -no-install

tests_test_shared_SOURCES = tests/test_shared.c
tests_test_shared_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_test_shared_CFLAGS = $(fmp_test_cflags)
tests_test_shared_LDADD = $(fmp_test_ldadd)
tests_test_shared_LDFLAGS = -no-install

tests_test_sync_SOURCES = tests/test_sync.c
tests_test_sync_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_test_sync_CFLAGS = $(fmp_test_cflags)
tests_test_sync_LDADD = $(fmp_test_ldadd)
tests_test_sync_LDFLAGS = -no-install

tests_test_reduce_SOURCES = tests/test_reduce.c
tests_test_reduce_CFLAGS = $(fmp_test_cflags)
tests_test_reduce_LDADD = $(fmp_test_ldadd)
tests_test_reduce_LDFLAGS = -no-install

tests_test_iterate_SOURCES = tests/test_iterate.c
tests_test_iterate_CFLAGS = $(fmp_test_cflags)
tests_test_iterate_LDADD = $(fmp_test_ldadd)
tests_test_iterate_LDFLAGS = -no-install

tests_test_failure_SOURCES = tests/test_failure.c
tests_test_failure_CFLAGS = $(fmp_test_cflags)
tests_test_failure_LDADD = $(fmp_test_ldadd)
tests_test_failure_LDFLAGS = -no-install

tests_test_mismatch_SOURCES = tests/test_mismatch.c
tests_test_mismatch_CFLAGS = $(fmp_test_cflags)
tests_test_mismatch_LDADD = $(fmp_test_ldadd)
tests_test_mismatch_LDFLAGS = -no-install

tests_test_output_SOURCES = tests/test_output.c
tests_test_output_CFLAGS = $(fmp_test_cflags)
tests_test_output_LDADD = $(fmp_test_ldadd)
tests_test_output_LDFLAGS = -no-install

tests_test_pteam_SOURCES = tests/test_pteam.c
tests_test_pteam_CFLAGS = $(fmp_test_cflags)
tests_test_pteam_LDADD = $(fmp_test_ldadd)
tests_test_pteam_LDFLAGS = -no-install

tests_test_badinput_SOURCES = tests/test_badinput.c
tests_test_badinput_CFLAGS = $(fmp_test_cflags)
tests_test_badinput_LDADD = $(fmp_test_ldadd)
tests_test_badinput_LDFLAGS = -no-install

tests_test_hardening_SOURCES = tests/test_hardening.c
tests_test_hardening_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_test_hardening_CFLAGS = $(fmp_test_cflags)
tests_test_hardening_LDADD = $(fmp_test_ldadd)
tests_test_hardening_LDFLAGS = -no-install

tests_test_faults_SOURCES = tests/test_faults.c tests/fault_matrix.h
tests_test_faults_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_test_faults_CFLAGS = $(fmp_test_cflags)
tests_test_faults_LDADD = $(fmp_test_ldadd)
tests_test_faults_LDFLAGS = -no-install

tests_test_harness_demo_SOURCES = tests/harness_demo.c
tests_test_harness_demo_CFLAGS = $(fmp_test_cflags)
tests_test_harness_demo_LDADD = $(fmp_test_ldadd)
tests_test_harness_demo_LDFLAGS = -no-install

# the default arena under valgrind (skipped without valgrind and in a sanitizer build)
check_PROGRAMS += tests/arena_probe
TESTS += tests/valgrind_arena.sh
dist_noinst_SCRIPTS += tests/valgrind_arena.sh
tests_arena_probe_SOURCES = tests/arena_probe.c
tests_arena_probe_LDADD = libforkmp.la
tests_arena_probe_LDFLAGS = -no-install

# helpers: plain forkmp programs, no CUnit
tests_fail_prog_SOURCES = tests/fail_prog.c
tests_fail_prog_LDADD = libforkmp.la
tests_fail_prog_LDFLAGS = -no-install

tests_fault_prog_SOURCES = tests/fault_prog.c tests/fault_matrix.h
tests_fault_prog_LDADD = libforkmp.la
tests_fault_prog_LDFLAGS = -no-install

tests_output_prog_SOURCES = tests/output_prog.c
tests_output_prog_LDADD = libforkmp.la
tests_output_prog_LDFLAGS = -no-install

tests_hard_prog_SOURCES = tests/hard_prog.c
tests_hard_prog_LDADD = libforkmp.la -lpthread
tests_hard_prog_LDFLAGS = -no-install

tests_omp_member_SOURCES = tests/omp_member.c
tests_omp_member_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
tests_omp_member_LDADD = libforkmp.la
tests_omp_member_LDFLAGS = -no-install $(OPENMP_CFLAGS)

# -rpath: libtool builds a shared module only for an installable-looking library
tests_libslowfmt_la_SOURCES = tests/slowfmt.c
tests_libslowfmt_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_libslowfmt_la_LIBADD = -ldl

# tests/abi.sh (generated by configure from tests/abi.sh.in): each library exports
# exactly the names of its version script (src/libforkmp.map, src/mpi/libforkmp_mpi.map),
# at their versions, and those are exactly the FMP_EXPORT declarations of its headers.
TESTS += tests/abi.sh
EXTRA_DIST += tests/abi.sh.in

# make installcheck (so also make distcheck, after its install): tests/install/check.sh
# builds tests/install/consumer.c against the installed forkmp with pkg-config (and
# consumer_mpi.c with mpicc and forkmp-mpi), runs them on the installed libraries, and
# checks the installed libraries' symbol versions.
if HAVE_MPI
fmp_installcheck_mpi = yes
else
fmp_installcheck_mpi = no
endif
dist_noinst_SCRIPTS += tests/install/check.sh
EXTRA_DIST += tests/install/consumer.c tests/install/consumer_mpi.c
FMP_INSTALLCHECK_LOCAL += fmp-installcheck
.PHONY: fmp-installcheck
fmp-installcheck:
	@bindir='$(bindir)' includedir='$(includedir)' libdir='$(libdir)' pkgconfigdir='$(pkgconfigdir)' \
	version='$(PACKAGE_VERSION)' with_mpi=$(fmp_installcheck_mpi) \
	versioned='$(FMP_LD_VERSION_SCRIPT)' CC='$(CC)' MPICC='$(MPICC)' READELF='$(READELF)' \
	run_mpi='$(abs_top_builddir)/tests/run-mpi.sh' srcdir='$(srcdir)' \
	$(SHELL) $(srcdir)/tests/install/check.sh

tests_test_tasks_SOURCES = tests/test_tasks.c
tests_test_tasks_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_test_tasks_CFLAGS = $(fmp_test_cflags)
tests_test_tasks_LDADD = $(fmp_test_ldadd)
tests_test_tasks_LDFLAGS = -no-install

# a member killed while it runs a task, in both error modes (run by test_tasks)
tests_warm_prog_SOURCES = tests/warm_prog.c
tests_warm_prog_LDADD = libforkmp.la
tests_warm_prog_LDFLAGS = -no-install

# check_prog: the lost-write detector's cases, run by test_check (linked to the shared
# libforkmp: FMP_CHECK preloads libforkmp_check.so from beside it)
tests_check_prog_SOURCES = tests/check_prog.c
tests_check_prog_CFLAGS = $(AM_CFLAGS) -g
tests_check_prog_LDADD = libforkmp.la
tests_check_prog_LDFLAGS = -no-install

# check_examples.sh: the examples under FMP_CHECK=writes, and check_jacobi_lost, a copy of
# examples/jacobi.c made here with one grid from malloc() instead of fmp_shared_alloc()
check_PROGRAMS += tests/check_jacobi_lost
nodist_tests_check_jacobi_lost_SOURCES = tests/check_jacobi_lost.c
tests_check_jacobi_lost_LDADD = libforkmp.la -lm
tests_check_jacobi_lost_LDFLAGS = -no-install
CLEANFILES += tests/check_jacobi_lost.c
tests/check_jacobi_lost.c: $(top_srcdir)/examples/jacobi.c
	$(AM_V_GEN)$(MKDIR_P) tests && \
	sed 's/{ fmp_shared_alloc(/{ malloc(/' $(top_srcdir)/examples/jacobi.c >$@-t && \
	grep -q '{ malloc(' $@-t && mv $@-t $@
TESTS += tests/check_examples.sh
dist_noinst_SCRIPTS += tests/check_examples.sh

tests_test_check_SOURCES = tests/test_check.c
tests_test_check_CFLAGS = $(fmp_test_cflags)
tests_test_check_LDADD = $(fmp_test_ldadd)
tests_test_check_LDFLAGS = -no-install

tests_task_prog_SOURCES = tests/task_prog.c
tests_task_prog_LDADD = libforkmp.la
tests_task_prog_LDFLAGS = -no-install

tests_test_warm_SOURCES = tests/test_warm.c
tests_test_warm_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_test_warm_CFLAGS = $(fmp_test_cflags)
tests_test_warm_LDADD = $(fmp_test_ldadd)
tests_test_warm_LDFLAGS = -no-install

# the symbolizer of the lost-write detector (src/symbols.c): internal functions, so the
# library's objects with every symbol visible (tests/envtopo.mk); the probes of
# tests/sym_dwarf.c built with older DWARF versions, the variables of tests/sym_types.c
# and the frame of tests/sym_frame.c built with DWARF 5 and 4, and a module the test
# dlopens under other names (tests/.libs/libsymmod.so)
if HAVE_CUNIT
check_LTLIBRARIES += tests/libsymdw4.la tests/libsymdw2.la tests/libsymmod.la \
	tests/libsymtypes5.la tests/libsymtypes4.la tests/libsymframe5.la tests/libsymframe4.la
endif
tests_test_symbols_SOURCES = tests/test_symbols.c tests/sym_probe.h
tests_test_symbols_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_test_symbols_CFLAGS = $(fmp_test_cflags) -g
tests_test_symbols_LDADD = tests/libharness.la tests/libsymdw4.la tests/libsymdw2.la \
	tests/libsymtypes5.la tests/libsymtypes4.la tests/libsymframe5.la tests/libsymframe4.la \
	tests/libforkmp_internal.la $(CUNIT_LIBS) $(HWLOC_LIBS)
tests_test_symbols_LDFLAGS = -no-install

tests_libsymdw4_la_SOURCES = tests/sym_dwarf.c tests/sym_probe.h
tests_libsymdw4_la_CPPFLAGS = $(AM_CPPFLAGS) -DSYM_DWARF_FN=sym_dwarf4_where
tests_libsymdw4_la_CFLAGS = $(AM_CFLAGS) -gdwarf-4
tests_libsymdw2_la_SOURCES = tests/sym_dwarf.c tests/sym_probe.h
tests_libsymdw2_la_CPPFLAGS = $(AM_CPPFLAGS) -DSYM_DWARF_FN=sym_dwarf2_where
tests_libsymdw2_la_CFLAGS = $(AM_CFLAGS) -gdwarf-2

tests_libsymtypes5_la_SOURCES = tests/sym_types.c tests/sym_probe.h
tests_libsymtypes5_la_CPPFLAGS = $(AM_CPPFLAGS) -DSYM_TYPES_FN=sym_types5_vars
tests_libsymtypes5_la_CFLAGS = $(AM_CFLAGS) -gdwarf-5
tests_libsymtypes4_la_SOURCES = tests/sym_types.c tests/sym_probe.h
tests_libsymtypes4_la_CPPFLAGS = $(AM_CPPFLAGS) -DSYM_TYPES_FN=sym_types4_vars -DSYM_TYPES_DWARF4
tests_libsymtypes4_la_CFLAGS = $(AM_CFLAGS) -gdwarf-4
# -O0 comes before the user's CFLAGS: the probe's attributes keep it at -O0 (and -O2)
# whatever those say; -fno-omit-frame-pointer wins over their -O2 (clang's frame base is then the frame
# pointer, which the symbolizer knows, not the stack pointer)
tests_libsymframe5_la_SOURCES = tests/sym_frame.c tests/sym_probe.h
tests_libsymframe5_la_CPPFLAGS = $(AM_CPPFLAGS) -DSYM_FRAME_FN=sym_frame5_locals \
	-DSYM_BLOCKS_FN=sym_blocks5
tests_libsymframe5_la_CFLAGS = $(AM_CFLAGS) -O0 -fno-omit-frame-pointer -gdwarf-5
tests_libsymframe4_la_SOURCES = tests/sym_frame.c tests/sym_probe.h
tests_libsymframe4_la_CPPFLAGS = $(AM_CPPFLAGS) -DSYM_FRAME_FN=sym_frame4_locals \
	-DSYM_BLOCKS_FN=sym_blocks4
tests_libsymframe4_la_CFLAGS = $(AM_CFLAGS) -O0 -fno-omit-frame-pointer -gdwarf-4

tests_libsymmod_la_SOURCES = tests/sym_module.c
tests_libsymmod_la_CFLAGS = $(AM_CFLAGS) -g
tests_libsymmod_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere

# tests/check_alloc.sh: libforkmp_check.so (src/check/local.mk) preloaded into
# tests/check_alloc_prog, a plain program (not linked with forkmp) that checks the records
# of its blocks through the fmp_check_* API; again with tests/.libs/libcheck_alloc_atfork.so
# preloaded after it, whose fork handlers allocate while the library holds its lock; and
# without the preload, where the API is absent.  -export-dynamic: the program's functions
# are named by dladdr, which tells whether a record's stack starts in the function that
# allocated.
check_PROGRAMS += tests/check_alloc_prog
TESTS += tests/check_alloc.sh
dist_noinst_SCRIPTS += tests/check_alloc.sh
tests_check_alloc_prog_SOURCES = tests/check_alloc_prog.c
tests_check_alloc_prog_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_check_alloc_prog_LDADD = -lpthread
tests_check_alloc_prog_LDFLAGS = -no-install -export-dynamic
# -rpath: libtool builds a shared module only for an installable-looking library
check_LTLIBRARIES += tests/libcheck_alloc_atfork.la
tests_libcheck_alloc_atfork_la_SOURCES = tests/check_alloc_atfork.c
tests_libcheck_alloc_atfork_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_libcheck_alloc_atfork_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
