# Environment and topology tests (src/env*.c, src/topo.c); included from Makefile.am.
#
# The CUnit suites test internal functions, which libforkmp hides (-fvisibility=hidden),
# so they compile the environment and topology sources in instead of linking the library;
# env_bad.sh drives a probe linked with libforkmp through the public API.

ENVTOPO_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src \
	-DFMP_TOP_SRCDIR='"$(abs_top_srcdir)"'
ENVTOPO_TEST_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(HWLOC_CFLAGS)
ENVTOPO_TEST_LDADD = $(CUNIT_LIBS) $(HWLOC_LIBS)

if HAVE_CUNIT
check_PROGRAMS += tests/test_env tests/test_topo
TESTS += tests/test_env tests/test_topo

ENVTOPO_SOURCES = src/env.h src/env.c src/env_parse.c src/env_doc.c src/topo.c src/topo.h \
	src/internal.h

tests_test_env_SOURCES = tests/test_env.c $(ENVTOPO_SOURCES)
tests_test_env_CPPFLAGS = $(ENVTOPO_TEST_CPPFLAGS)
tests_test_env_CFLAGS = $(ENVTOPO_TEST_CFLAGS)
tests_test_env_LDADD = $(ENVTOPO_TEST_LDADD)

tests_test_topo_SOURCES = tests/test_topo.c $(ENVTOPO_SOURCES)
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
