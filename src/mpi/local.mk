# The hybrid layer: built when configure finds MPI.
if HAVE_MPI
lib_LTLIBRARIES += libforkmp_mpi.la
include_HEADERS += include/forkmp_mpi.h
pkgconfig_DATA += forkmp-mpi.pc
endif
libforkmp_mpi_la_SOURCES = \
	src/mpi/hybrid.h \
	src/mpi/hybrid.c \
	src/mpi/coll.c \
	src/mpi/forksafe.c \
	src/mpi/core.c \
	src/mpi/messages.c
libforkmp_mpi_la_CPPFLAGS = $(AM_CPPFLAGS) -DFMP_BUILDING_LIBRARY -I$(top_srcdir)/src
libforkmp_mpi_la_CFLAGS = $(AM_CFLAGS) $(FMP_VISIBILITY_CFLAGS) $(MPI_CFLAGS) $(HWLOC_CFLAGS)
libforkmp_mpi_la_LIBADD = libforkmp.la $(MPI_LIBS) $(HWLOC_LIBS)
# -version-info: libforkmp_mpi_so_version in VERSION (libtool's rules, HACKING.md)
libforkmp_mpi_la_LDFLAGS = -version-info $(FMP_MPI_LT_VERSION) $(FMP_LD_NO_UNDEFINED)
# the exported symbols, versioned: src/mpi/libforkmp_mpi.map (tests/abi.sh checks them)
EXTRA_DIST += src/mpi/libforkmp_mpi.map
if HAVE_LD_VERSION_SCRIPT
libforkmp_mpi_la_LDFLAGS += -Wl,--version-script=$(srcdir)/src/mpi/libforkmp_mpi.map
EXTRA_libforkmp_mpi_la_DEPENDENCIES = $(srcdir)/src/mpi/libforkmp_mpi.map
endif
# without MPI the sources still go into the tarball (automake distributes them: the
# variables above are unconditional)
EXTRA_DIST += include/forkmp_mpi.h
