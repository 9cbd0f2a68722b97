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
check_PROGRAMS += tests/test_env tests/test_topo tests/test_census
TESTS += tests/test_env tests/test_topo tests/test_census

tests_test_env_SOURCES = tests/test_env.c
tests_test_env_CPPFLAGS = $(ENVTOPO_TEST_CPPFLAGS)
tests_test_env_CFLAGS = $(ENVTOPO_TEST_CFLAGS)
tests_test_env_LDADD = $(ENVTOPO_TEST_LDADD)

tests_test_topo_SOURCES = tests/test_topo.c tests/msg_match.h
tests_test_topo_CPPFLAGS = $(ENVTOPO_TEST_CPPFLAGS)
tests_test_topo_CFLAGS = $(ENVTOPO_TEST_CFLAGS)
tests_test_topo_LDADD = $(ENVTOPO_TEST_LDADD)

# the census of live members (src/census.c) under the harness's watchdog: internal
# accessors, so the library's objects with every symbol visible
tests_test_census_SOURCES = tests/test_census.c tests/msg_match.h
tests_test_census_CPPFLAGS = $(ENVTOPO_TEST_CPPFLAGS)
tests_test_census_CFLAGS = $(ENVTOPO_TEST_CFLAGS)
tests_test_census_LDADD = tests/libharness.la $(ENVTOPO_TEST_LDADD)
tests_test_census_LDFLAGS = -no-install
endif

# a malformed variable is one clear line and exit status 1; FMP_DISPLAY_ENV's block
check_PROGRAMS += tests/env_probe
tests_env_probe_SOURCES = tests/env_probe.c
tests_env_probe_LDADD = libforkmp.la
TESTS += tests/env_bad.sh
dist_noinst_SCRIPTS += tests/env_bad.sh

# ---- the fuzzer over every parser of outside input (tests/fuzz/fuzz_env.c: the environment's
# values, the affinity format, FMP_PLACES' placement, a whole environment).  make check runs
# tests/fuzz/fuzz_env.sh: the ordinary compiler's build, with tests/fuzz/driver.c, replays
# the corpus and mutates it for about 20 seconds.
check_PROGRAMS += tests/fuzz/fuzz_env_driver
tests_fuzz_fuzz_env_driver_SOURCES = tests/fuzz/fuzz_env.c tests/fuzz/driver.c
tests_fuzz_fuzz_env_driver_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tests_fuzz_fuzz_env_driver_CFLAGS = $(AM_CFLAGS) $(HWLOC_CFLAGS)
tests_fuzz_fuzz_env_driver_LDADD = tests/libforkmp_internal.la $(HWLOC_LIBS)
TESTS += tests/fuzz/fuzz_env.sh
dist_noinst_SCRIPTS += tests/fuzz/fuzz_env.sh
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/fuzz_env.dict
# what a failing run leaves behind for replaying
CLEANFILES += fuzz-failure-*

# make fuzz (never part of make check): the same target built by clang with libFuzzer, ASan
# and UBSan from the library's sources, for long exploratory runs; make fuzz-run runs it for
# FUZZ_SECONDS, adding what it finds to tests/fuzz/found (the build tree's, never the
# source tree's corpus) and its failures as tests/fuzz/crash-* and the like.
FUZZ_SECONDS = 300
FMP_FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FMP_FUZZ_BIN = tests/fuzz/fuzz_env_libfuzzer
FMP_FUZZ_FLAGS = -timeout=30 -max_len=65536 -dict=$(top_srcdir)/tests/fuzz/fuzz_env.dict \
	-artifact_prefix=tests/fuzz/
.PHONY: fuzz fuzz-run fmp-clean-fuzz
FMP_CLEAN_LOCAL += fmp-clean-fuzz

if HAVE_FUZZ
fuzz: $(FMP_FUZZ_BIN)
	@echo "make fuzz: $(FMP_FUZZ_BIN) built; run it with make fuzz-run [FUZZ_SECONDS=$(FUZZ_SECONDS)]"
	@echo "make fuzz: or by hand: $(FMP_FUZZ_BIN) $(FMP_FUZZ_FLAGS) tests/fuzz/found $(top_srcdir)/tests/fuzz/corpus"

fuzz-run: $(FMP_FUZZ_BIN)
	$(MKDIR_P) tests/fuzz/found
	$(FMP_FUZZ_BIN) $(FMP_FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  tests/fuzz/found $(top_srcdir)/tests/fuzz/corpus

$(FMP_FUZZ_BIN): tests/fuzz/fuzz_env.c $(libforkmp_la_SOURCES) include/forkmp_version.h
	$(AM_V_CCLD)$(MKDIR_P) tests/fuzz && srcs= && \
	for f in $(libforkmp_la_SOURCES); do \
	  case $$f in *.c) srcs="$$srcs $(top_srcdir)/$$f" ;; esac; \
	done && \
	$(FUZZ_CC) $(FMP_FUZZ_CFLAGS) $(AM_CPPFLAGS) -I$(top_srcdir)/src $(HWLOC_CFLAGS) \
	  -o $@ $(top_srcdir)/tests/fuzz/fuzz_env.c $$srcs $(HWLOC_LIBS) $(LIBS)
else
fuzz fuzz-run:
	@echo "make fuzz: no clang that links libFuzzer was found when ./configure ran (fuzz: no clang)."
	@echo "make fuzz: install clang and libclang-rt-dev (apt-get install clang libclang-rt-14-dev), re-run ./configure;"
	@echo "make fuzz: make check's fuzz test (tests/fuzz/fuzz_env.sh) needs only the ordinary compiler."
endif

fmp-clean-fuzz:
	-rm -rf $(FMP_FUZZ_BIN) tests/fuzz/found tests/fuzz/crash-* tests/fuzz/leak-* \
	  tests/fuzz/timeout-* tests/fuzz/oom-* tests/fuzz/slow-unit-*
