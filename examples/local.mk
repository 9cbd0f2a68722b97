# examples/: small ports of OpenMP programs, each beside the original it ports.
# Included by the top Makefile.am; paths are relative to the top.
#
#   make                  builds the forkmp examples (and the OpenMP originals when
#                         configure found OpenMP)
#   make run-examples     runs them side by side with their timings
#   make check            examples/compare.sh diffs each pair for teams of 1, 2, 4;
#                         examples/compare-cxx.sh runs the C++ build of hello;
#                         examples/compare-modes.sh runs cg and jacobi both ways

# -no-install: real binaries, not libtool wrapper scripts, so that the tests see (and
# pgrep finds) the programs themselves.
fmp_examples = examples/pi examples/stencil examples/nested examples/hello examples/qsort
noinst_PROGRAMS += $(fmp_examples)
examples_pi_SOURCES = examples/pi.c
examples_pi_LDADD = libforkmp.la
examples_pi_LDFLAGS = -no-install
examples_stencil_SOURCES = examples/stencil.c
examples_stencil_LDADD = libforkmp.la -lm
examples_stencil_LDFLAGS = -no-install
examples_nested_SOURCES = examples/nested.c
examples_nested_LDADD = libforkmp.la
examples_nested_LDFLAGS = -no-install
examples_hello_SOURCES = examples/hello.c
examples_hello_LDADD = libforkmp.la
examples_hello_LDFLAGS = -no-install
examples_qsort_SOURCES = examples/qsort.c
examples_qsort_LDADD = libforkmp.la
examples_qsort_LDFLAGS = -no-install

# many-regions examples: each runs a fork per region or on one persistent team
# (`cg fork|team`, `jacobi fork|team`); examples/compare-modes.sh checks both agree
noinst_PROGRAMS += examples/cg examples/jacobi
examples_cg_SOURCES = examples/cg.c
examples_cg_LDADD = libforkmp.la
examples_cg_LDFLAGS = -no-install
examples_jacobi_SOURCES = examples/jacobi.c
examples_jacobi_LDADD = libforkmp.la -lm
examples_jacobi_LDFLAGS = -no-install

# the README example compiled as C++: forkmp.h must stay C++ clean (skipped without C++)
if HAVE_CXX
check_PROGRAMS += examples/hello_cxx
endif
examples_hello_cxx_SOURCES = examples/hello_cxx.cpp
examples_hello_cxx_CXXFLAGS = -Wall -Wextra
examples_hello_cxx_LDADD = libforkmp.la
examples_hello_cxx_LDFLAGS = -no-install

# the OpenMP originals
if HAVE_OPENMP
fmp_examples_omp = examples/pi_omp examples/stencil_omp examples/nested_omp examples/qsort_omp
noinst_PROGRAMS += $(fmp_examples_omp)
examples_openmp = yes
else
examples_openmp = no
endif
examples_pi_omp_SOURCES = examples/pi_omp.c
examples_pi_omp_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
examples_pi_omp_LDFLAGS = $(OPENMP_CFLAGS)
examples_stencil_omp_SOURCES = examples/stencil_omp.c
examples_stencil_omp_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
examples_stencil_omp_LDFLAGS = $(OPENMP_CFLAGS)
examples_stencil_omp_LDADD = -lm
examples_nested_omp_SOURCES = examples/nested_omp.c
examples_nested_omp_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
examples_nested_omp_LDFLAGS = $(OPENMP_CFLAGS)
examples_qsort_omp_SOURCES = examples/qsort_omp.c
examples_qsort_omp_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
examples_qsort_omp_LDFLAGS = $(OPENMP_CFLAGS)

TESTS += examples/compare.sh examples/compare-cxx.sh examples/compare-modes.sh
dist_noinst_SCRIPTS += examples/compare.sh examples/compare-cxx.sh examples/compare-modes.sh \
	examples/run-examples.sh

.PHONY: run-examples
run-examples: $(fmp_examples) $(fmp_examples_omp)
	@$(SHELL) $(srcdir)/examples/run-examples.sh examples $(examples_openmp)
