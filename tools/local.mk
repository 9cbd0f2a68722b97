# tools/: programs installed with the library.  Included by the top Makefile.am; paths
# are relative to the top.
#
#   forkmp-info  what a program would get here (cpuset, team size and why, places and
#                binding, wait policy, arena, fork safety under MPI), one line per rank.
#                Built with MPI when configure found it (it calls fmp_mpi_init under a
#                launcher), the core's view alone otherwise.  It reads the runtime's
#                values through libforkmp's table of hooks (src/info.c), hence -I src.

bin_PROGRAMS = tools/forkmp-info
tools_forkmp_info_SOURCES = tools/forkmp-info.c
tools_forkmp_info_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
tools_forkmp_info_CFLAGS = $(AM_CFLAGS)
if HAVE_MPI
tools_forkmp_info_CPPFLAGS += -DFMP_INFO_MPI
tools_forkmp_info_CFLAGS += $(MPI_CFLAGS)
tools_forkmp_info_LDADD = libforkmp_mpi.la libforkmp.la $(MPI_LIBS)
else
tools_forkmp_info_LDADD = libforkmp.la
endif

# tests/info.sh: forkmp-info run plainly, each field against what tests/info_probe (a
# program using the public API) gets; --env, --help, bad options
check_PROGRAMS += tests/info_probe
tests_info_probe_SOURCES = tests/info_probe.c
tests_info_probe_LDADD = libforkmp.la
tests_info_probe_LDFLAGS = -no-install
TESTS += tests/info.sh
dist_noinst_SCRIPTS += tests/info.sh
