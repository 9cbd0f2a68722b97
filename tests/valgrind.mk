# tests/valgrind.mk: make check-valgrind, the core CUnit suites (fmp_test_suites of
# tests/local.mk) under valgrind's memcheck; see tests/valgrind-suites.sh for the options
# and the tests it leaves out.  Included by the top Makefile.am; paths are relative to the
# top.  Not part of make check (it takes minutes); scripts/check.sh runs it.  Its logs go
# to valgrind-logs/ in the build folder.

dist_noinst_SCRIPTS += tests/valgrind-suites.sh
EXTRA_DIST += tests/valgrind.supp

.PHONY: check-valgrind fmp-clean-valgrind
if HAVE_CUNIT
check-valgrind: $(check_PROGRAMS) $(check_LTLIBRARIES)
	$(SHELL) $(srcdir)/tests/valgrind-suites.sh $(fmp_test_suites)
else
check-valgrind:
	@echo "make check-valgrind: CUnit was not found when ./configure ran: no suites to run"
endif

fmp-clean-valgrind:
	-rm -rf valgrind-logs
FMP_CLEAN_LOCAL += fmp-clean-valgrind
