# Environment and topology tests (src/env*.c, src/topo.c); included from Makefile.am.
#
# The CUnit suites test internal functions, which libforkmp hides (-fvisibility=hidden),
# so they link tests/libforkmp_internal.la instead: the library's own sources built with
# every symbol visible (a convenience archive: a program gets only the objects it needs,
# here the environment, topology, messages, output, arena and init).  env_bad.sh drives a
# probe linked with libforkmp through the public API.

ENVTOPO_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src \
	-DFMP_TOP_SRCDIR='"$(abs_top_srcdir)"'
ENVTOPO_TEST_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(HWLOC_CFLAGS)
ENVTOPO_TEST_LDADD = tests/libforkmp_internal.la $(CUNIT_LIBS) $(HWLOC_LIBS)

check_LTLIBRARIES += tests/libforkmp_internal.la
tests_libforkmp_internal_la_SOURCES = $(libforkmp_la_SOURCES)
tests_libforkmp_internal_la_CPPFLAGS = $(AM_CPPFLAGS)
tests_libforkmp_internal_la_CFLAGS = $(AM_CFLAGS) $(HWLOC_CFLAGS)
tests_libforkmp_internal_la_LIBADD = $(HWLOC_LIBS)

if HAVE_CUNIT
check_PROGRAMS += tests/test_env tests/test_topo
TESTS += tests/test_env tests/test_topo

tests_test_env_SOURCES = tests/test_env.c
tests_test_env_CPPFLAGS = $(ENVTOPO_TEST_CPPFLAGS)
tests_test_env_CFLAGS = $(ENVTOPO_TEST_CFLAGS)
tests_test_env_LDADD = $(ENVTOPO_TEST_LDADD)

tests_test_topo_SOURCES = tests/test_topo.c tests/msg_match.h
tests_test_topo_CPPFLAGS = $(ENVTOPO_TEST_CPPFLAGS)
tests_test_topo_CFLAGS = $(ENVTOPO_TEST_CFLAGS)
tests_test_topo_LDADD = $(ENVTOPO_TEST_LDADD)
endif

# a malformed variable is one clear line and exit status 1; FMP_DISPLAY_ENV's block
check_PROGRAMS += tests/env_probe
tests_env_probe_SOURCES = tests/env_probe.c
tests_env_probe_LDADD = libforkmp.la
TESTS += tests/env_bad.sh
dist_noinst_SCRIPTS += tests/env_bad.sh
