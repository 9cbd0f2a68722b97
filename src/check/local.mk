# libforkmp_check.so: the allocation records of FMP_CHECK=writes (src/check/alloc.h).  An
# LD_PRELOAD module, installed as $(libdir)/libforkmp_check.so; libforkmp never links it
# and finds its fmp_check_* functions with dlsym(RTLD_DEFAULT, ...) when they are there.
# It depends on nothing but libc (backtrace, dl_iterate_phdr and the __libc_* allocator
# entry points are all there).  Included by the top Makefile.am; paths are relative to the
# top.  Its test: tests/check_alloc.sh (tests/local.mk).
lib_LTLIBRARIES += libforkmp_check.la
libforkmp_check_la_SOURCES = src/check/alloc.h src/check/alloc.c
libforkmp_check_la_CFLAGS = $(AM_CFLAGS) $(FMP_VISIBILITY_CFLAGS)
# -z now: no lazy binding inside malloc (of __libc_malloc, backtrace...), in a child after
# fork included
libforkmp_check_la_LDFLAGS = -module -avoid-version -shared -Wl,-z,now $(FMP_LD_NO_UNDEFINED)
