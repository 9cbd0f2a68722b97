# The hybrid layer: built when configure finds MPI.
if HAVE_MPI
lib_LTLIBRARIES += libforkmp_mpi.la
include_HEADERS += include/forkmp_mpi.h
pkgconfig_DATA += forkmp-mpi.pc
endif
libforkmp_mpi_la_SOURCES = \
	src/mpi/hybrid.h \
	src/mpi/hybrid.c \
	src/mpi/census.c \
	src/mpi/coll.c \
	src/mpi/forksafe.c \
	src/mpi/core.c \
	src/mpi/messages.c \
	src/mpi/mpicheck.c
# One wrapper per MPI function of mpi.h, generated at build time (never committed):
# src/mpi/gen-wrappers.sh reads the mpi.h of MPI_CFLAGS through the preprocessor, checks
# which PMPI_ functions link with MPI_LIBS, and writes mpi_wrappers.c, .list (the names
# wrapped), .skipped (those left out, and why) and .map (the version script with them).
nodist_libforkmp_mpi_la_SOURCES = src/mpi/mpi_wrappers.c
fmp_mpi_wrappers = src/mpi/mpi_wrappers.c src/mpi/mpi_wrappers.list \
	src/mpi/mpi_wrappers.skipped src/mpi/mpi_wrappers.map
src/mpi/mpi_wrappers.c: $(srcdir)/src/mpi/gen-wrappers.sh $(srcdir)/src/mpi/libforkmp_mpi.map
	$(AM_V_GEN)$(MKDIR_P) src/mpi && \
	LIBS='$(MPI_LIBS)' $(SHELL) $(srcdir)/src/mpi/gen-wrappers.sh src/mpi/mpi_wrappers \
	    '$(CC) -E $(MPI_CFLAGS) $(CPPFLAGS)' '$(CC) $(CFLAGS) $(MPI_CFLAGS) $(LDFLAGS)' \
	    $(srcdir)/src/mpi/libforkmp_mpi.map >/dev/null
src/mpi/mpi_wrappers.list src/mpi/mpi_wrappers.skipped src/mpi/mpi_wrappers.map: \
		src/mpi/mpi_wrappers.c
	@test -f $@ || { rm -f src/mpi/mpi_wrappers.c && \
	    $(MAKE) $(AM_MAKEFLAGS) src/mpi/mpi_wrappers.c; }
CLEANFILES += $(fmp_mpi_wrappers)
dist_noinst_SCRIPTS += src/mpi/gen-wrappers.sh
libforkmp_mpi_la_CPPFLAGS = $(AM_CPPFLAGS) -DFMP_BUILDING_LIBRARY -I$(top_srcdir)/src
libforkmp_mpi_la_CFLAGS = $(AM_CFLAGS) $(FMP_VISIBILITY_CFLAGS) $(MPI_CFLAGS) $(HWLOC_CFLAGS)
libforkmp_mpi_la_LIBADD = libforkmp.la $(MPI_LIBS) $(HWLOC_LIBS)
# -version-info: libforkmp_mpi_so_version in VERSION (libtool's rules, HACKING.md)
libforkmp_mpi_la_LDFLAGS = -version-info $(FMP_MPI_LT_VERSION) $(FMP_LD_NO_UNDEFINED)
# the exported symbols, versioned: src/mpi/libforkmp_mpi.map and the MPI wrappers, in the
# generated src/mpi/mpi_wrappers.map (tests/abi.sh checks them)
EXTRA_DIST += src/mpi/libforkmp_mpi.map
if HAVE_LD_VERSION_SCRIPT
libforkmp_mpi_la_LDFLAGS += -Wl,--version-script=src/mpi/mpi_wrappers.map
EXTRA_libforkmp_mpi_la_DEPENDENCIES = src/mpi/mpi_wrappers.map
endif
# without MPI the sources still go into the tarball (automake distributes them: the
# variables above are unconditional)
EXTRA_DIST += include/forkmp_mpi.h
