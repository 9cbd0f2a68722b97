dnl fmp_checks.m4: forkmp's own configure checks, one macro per concern.
dnl
dnl Outputs (AC_SUBST): FMP_DEBUG_CFLAGS FMP_WARN_CFLAGS FMP_VISIBILITY_CFLAGS
dnl FMP_SANITIZER_FLAGS FMP_LD_NO_UNDEFINED FMP_LD_VERSION_SCRIPT READELF
dnl OPENMP_CFLAGS MPI_CFLAGS MPI_LIBS MPIRUN DOXYGEN FMP_DOXYGEN_DOT FUZZ_CC
dnl Conditionals: HAVE_DEBUG HAVE_SANITIZERS HAVE_OPENMP HAVE_CXX HAVE_MPI HAVE_MPIRUN
dnl HAVE_DOXYGEN HAVE_LD_VERSION_SCRIPT HAVE_FUZZ
dnl (HAVE_CUNIT is set in configure.ac.)

dnl FMP_ARG_DEBUG: --enable-debug and --enable-werror.  Call it before AC_PROG_CC: a debug
dnl build whose CFLAGS the user did not set gets -O0 -g3 instead of autoconf's -g -O2.
AC_DEFUN([FMP_ARG_DEBUG], [
  AC_BEFORE([$0], [AC_PROG_CC])
  AC_ARG_ENABLE([debug],
    [AS_HELP_STRING([--enable-debug],
      [build with -O0 -g3 and the runtime's internal assertions (FMP_DEBUG)])],
    [], [enable_debug=no])
  AS_IF([test "x$enable_debug" = xyes],
    [FMP_DEBUG_CFLAGS="-DFMP_DEBUG=1"
     AS_IF([test -z "${CFLAGS+set}"], [CFLAGS="-O0 -g3"])],
    [FMP_DEBUG_CFLAGS="-DNDEBUG"])
  AC_SUBST([FMP_DEBUG_CFLAGS])
  AM_CONDITIONAL([HAVE_DEBUG], [test "x$enable_debug" = xyes])

  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--enable-werror], [turn compiler warnings into errors (developers, CI)])],
    [], [enable_werror=no])
])

dnl FMP_CHECK_WARNINGS: -Wall -Wextra and friends, as far as the compiler takes them;
dnl -Werror with --enable-werror.
AC_DEFUN([FMP_CHECK_WARNINGS], [
  AC_REQUIRE([AC_PROG_CC])
  FMP_WARN_CFLAGS=""
  for fmp_flag in -Wall -Wextra -Wshadow=local -Wstrict-prototypes -Wmissing-prototypes \
                  -Wformat=2 -Wpointer-arith -Wundef; do
    fmp_save_CFLAGS="$CFLAGS"
    CFLAGS="$CFLAGS -Werror $fmp_flag"
    AC_MSG_CHECKING([whether $CC accepts $fmp_flag])
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AC_MSG_RESULT([yes]); FMP_WARN_CFLAGS="$FMP_WARN_CFLAGS $fmp_flag"],
      [AC_MSG_RESULT([no])])
    CFLAGS="$fmp_save_CFLAGS"
  done
  AS_IF([test "x$enable_werror" = xyes], [FMP_WARN_CFLAGS="$FMP_WARN_CFLAGS -Werror"])
  AC_SUBST([FMP_WARN_CFLAGS])
])

dnl FMP_ARG_SANITIZERS: --enable-sanitizers builds everything (the libraries, the tests, their
dnl helper programs and modules, the examples, C and C++) with AddressSanitizer and
dnl UndefinedBehaviorSanitizer.  -fno-sanitize-recover=undefined makes every UBSan report
dnl fatal, as ASan's are, so that an error fails its test instead of scrolling by in a log.
dnl The flags go into CFLAGS, CXXFLAGS and LDFLAGS (after the user's own), because every
dnl target compiles and links with those, whatever its per-target variables say; libtool
dnl passes -fsanitize=* on to its links.  The run-time options the tests use are set by
dnl make check (tests/sanitizers.mk).
AC_DEFUN([FMP_ARG_SANITIZERS], [
  AC_REQUIRE([AC_PROG_CC])
  AC_REQUIRE([AC_PROG_CXX])
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers],
      [build libraries, tests and examples with AddressSanitizer and
       UndefinedBehaviorSanitizer (errors fatal), for make check])],
    [], [enable_sanitizers=no])
  FMP_SANITIZER_FLAGS=""
  AS_IF([test "x$enable_sanitizers" = xyes], [
    fmp_san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
    AC_MSG_CHECKING([whether $CC builds and links with $fmp_san])
    fmp_save_CFLAGS="$CFLAGS"; fmp_save_LDFLAGS="$LDFLAGS"
    CFLAGS="$CFLAGS $fmp_san"; LDFLAGS="$LDFLAGS $fmp_san"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <stdlib.h>]],
                                    [[char *p = malloc(4); free(p); return p == 0;]])],
      [fmp_san_ok=yes], [fmp_san_ok=no])
    CFLAGS="$fmp_save_CFLAGS"; LDFLAGS="$fmp_save_LDFLAGS"
    AC_MSG_RESULT([$fmp_san_ok])
    AS_IF([test "x$fmp_san_ok" = xno],
      [AC_MSG_ERROR([--enable-sanitizers: $CC cannot build with $fmp_san (gcc needs libasan and libubsan: apt-get install gcc)])])
    FMP_SANITIZER_FLAGS="$fmp_san"
    CFLAGS="$CFLAGS $fmp_san"
    CXXFLAGS="$CXXFLAGS $fmp_san"
    LDFLAGS="$LDFLAGS $fmp_san"
  ])
  AC_SUBST([FMP_SANITIZER_FLAGS])
  AM_CONDITIONAL([HAVE_SANITIZERS], [test "x$enable_sanitizers" = xyes])
])

dnl FMP_CHECK_VISIBILITY: hide everything but what carries FMP_EXPORT
AC_DEFUN([FMP_CHECK_VISIBILITY], [
  AC_REQUIRE([AC_PROG_CC])
  AC_MSG_CHECKING([whether $CC supports -fvisibility=hidden])
  fmp_save_CFLAGS="$CFLAGS"
  CFLAGS="$CFLAGS -Werror -fvisibility=hidden"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([__attribute__((visibility("default"))) int f(void);], [])],
    [AC_MSG_RESULT([yes]); FMP_VISIBILITY_CFLAGS="-fvisibility=hidden"],
    [AC_MSG_RESULT([no]); FMP_VISIBILITY_CFLAGS=""])
  CFLAGS="$fmp_save_CFLAGS"
  AC_SUBST([FMP_VISIBILITY_CFLAGS])
])

dnl FMP_CHECK_OPENMP: the OpenMP originals of the examples and the benchmarks
AC_DEFUN([FMP_CHECK_OPENMP], [
  AC_OPENMP
  AM_CONDITIONAL([HAVE_OPENMP], [test -n "$OPENMP_CFLAGS"])
])

dnl FMP_CHECK_CXX: a working C++ compiler, for the check that forkmp.h is C++ clean
AC_DEFUN([FMP_CHECK_CXX], [
  AC_REQUIRE([AC_PROG_CXX])
  AC_MSG_CHECKING([whether $CXX compiles C++])
  AC_LANG_PUSH([C++])
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[#include <cstdio>
class fmp_probe { public: int x; };]], [[fmp_probe p; p.x = 0; return p.x;]])],
    [fmp_have_cxx=yes], [fmp_have_cxx=no])
  AC_LANG_POP([C++])
  AC_MSG_RESULT([$fmp_have_cxx])
  AM_CONDITIONAL([HAVE_CXX], [test "x$fmp_have_cxx" = xyes])
])

dnl FMP_MPI_TRY_LINK: succeed if MPI_CFLAGS/MPI_LIBS compile and link an MPI program.
AC_DEFUN([FMP_MPI_TRY_LINK], [
  fmp_save_CFLAGS="$CFLAGS"; fmp_save_LIBS="$LIBS"
  CFLAGS="$CFLAGS $MPI_CFLAGS"; LIBS="$MPI_LIBS $LIBS"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <mpi.h>]],
                                  [[MPI_Init(0, 0); MPI_Finalize(); return 0;]])],
    [$1], [$2])
  CFLAGS="$fmp_save_CFLAGS"; LIBS="$fmp_save_LIBS"
])

dnl FMP_CHECK_MPI: the hybrid layer is built when MPI compiles and links, found through
dnl pkg-config (ompi-c, mpich, mpi) or the flags of an mpicc wrapper (Open MPI's
dnl --showme, MPICH's -compile_info / -link_info).  MPI_CFLAGS / MPI_LIBS set by the user win.
AC_DEFUN([FMP_CHECK_MPI], [
  AC_REQUIRE([PKG_PROG_PKG_CONFIG])
  AC_ARG_VAR([MPI_CFLAGS], [C compiler flags for MPI, overriding the checks])
  AC_ARG_VAR([MPI_LIBS], [linker flags for MPI, overriding the checks])
  AC_ARG_VAR([MPICC], [MPI C compiler wrapper, used to find MPI's flags])
  AC_ARG_WITH([mpi],
    [AS_HELP_STRING([--without-mpi], [do not build the hybrid layer libforkmp_mpi])],
    [], [with_mpi=check])
  fmp_have_mpi=no
  AS_IF([test "x$with_mpi" != xno], [
    AC_MSG_CHECKING([for MPI flags])
    AS_IF([test -n "${MPI_CFLAGS}${MPI_LIBS}"],
      [fmp_mpi_from="MPI_CFLAGS/MPI_LIBS"],
      [fmp_mpi_from=""
       for fmp_mod in ompi-c mpich mpi; do
         AS_IF([test -n "$PKG_CONFIG" && $PKG_CONFIG --exists $fmp_mod 2>/dev/null], [
           MPI_CFLAGS=`$PKG_CONFIG --cflags $fmp_mod`
           MPI_LIBS=`$PKG_CONFIG --libs $fmp_mod`
           fmp_mpi_from="pkg-config $fmp_mod"
           break])
       done])
    AC_MSG_RESULT([${fmp_mpi_from:-none from pkg-config}])
    AS_IF([test -z "$fmp_mpi_from"], [
      AC_PATH_PROGS([MPICC], [mpicc])
      AS_IF([test -n "$MPICC"], [
        MPI_CFLAGS=`$MPICC --showme:compile 2>/dev/null`
        MPI_LIBS=`$MPICC --showme:link 2>/dev/null`
        AS_IF([test -z "$MPI_LIBS"], [
          dnl MPICH prints the whole command line: drop the compiler's name
          MPI_CFLAGS=`$MPICC -compile_info 2>/dev/null | cut -d' ' -f2-`
          MPI_LIBS=`$MPICC -link_info 2>/dev/null | cut -d' ' -f2-`])
        fmp_mpi_from="$MPICC"])])
    AS_IF([test -n "$fmp_mpi_from"], [
      AC_MSG_CHECKING([whether MPI programs link with $fmp_mpi_from])
      FMP_MPI_TRY_LINK([fmp_have_mpi=yes], [fmp_have_mpi=no])
      AC_MSG_RESULT([$fmp_have_mpi])])
    AS_IF([test "x$with_mpi" = xyes && test "x$fmp_have_mpi" = xno],
      [AC_MSG_ERROR([--with-mpi given but no working MPI found (install libopenmpi-dev)])])
  ])
  AS_IF([test "x$fmp_have_mpi" = xno], [MPI_CFLAGS=""; MPI_LIBS=""])
  AC_PATH_PROGS([MPIRUN], [mpirun mpiexec])
  AM_CONDITIONAL([HAVE_MPI], [test "x$fmp_have_mpi" = xyes])
  AM_CONDITIONAL([HAVE_MPIRUN], [test "x$fmp_have_mpi" = xyes && test -n "$MPIRUN"])
  AC_SUBST([MPI_CFLAGS])
  AC_SUBST([MPI_LIBS])
])

dnl FMP_CHECK_DOXYGEN: make doc builds HTML and man pages when doxygen is there
AC_DEFUN([FMP_CHECK_DOXYGEN], [
  AC_ARG_VAR([DOXYGEN], [the doxygen program, for make doc])
  AC_PATH_PROG([DOXYGEN], [doxygen])
  AM_CONDITIONAL([HAVE_DOXYGEN], [test -n "$DOXYGEN"])
  AC_CHECK_PROG([FMP_DOXYGEN_DOT], [dot], [YES], [NO])
])

dnl FMP_CHECK_LD_VERSION_SCRIPT: does the linker take a symbol version script
dnl (-Wl,--version-script, GNU ld, gold, lld) for a shared library?  Then the libraries
dnl export exactly the names of src/libforkmp.map and src/mpi/libforkmp_mpi.map,
dnl versioned.  A linker that accepts a script with a syntax error is taken not to read
dnl it (as gnulib's check).  Also -Wl,--no-undefined, so that a library that calls what
dnl it does not link (a hidden function of another library) fails at link time.  Both
dnl are tried on a shared library built with the user's flags.
dnl Outputs: FMP_LD_NO_UNDEFINED, FMP_LD_VERSION_SCRIPT (yes|no), READELF (AC_SUBST),
dnl conditional HAVE_LD_VERSION_SCRIPT.
AC_DEFUN([_FMP_LINK_SHARED_IFELSE], [
  fmp_save_CFLAGS="$CFLAGS"; fmp_save_LDFLAGS="$LDFLAGS"
  CFLAGS="$CFLAGS -fPIC"; LDFLAGS="$LDFLAGS -shared $1"
  AC_LINK_IFELSE([AC_LANG_SOURCE([[int fmp_conftest(int x);
int fmp_conftest_private(void);
int fmp_conftest(int x) { return x + 1; }
int fmp_conftest_private(void) { return 0; }]])], [$2], [$3])
  CFLAGS="$fmp_save_CFLAGS"; LDFLAGS="$fmp_save_LDFLAGS"
])
AC_DEFUN([FMP_CHECK_LD_VERSION_SCRIPT], [
  AC_REQUIRE([AC_PROG_CC])
  AC_ARG_ENABLE([version-script],
    [AS_HELP_STRING([--disable-version-script],
      [do not give the linker the libraries' symbol version scripts])],
    [], [enable_version_script=check])
  fmp_ld_version_script=no
  AS_IF([test "x$enable_version_script" != xno], [
    AC_MSG_CHECKING([whether the linker takes -Wl,--version-script])
    echo 'not a version script {' > conftest.map
    _FMP_LINK_SHARED_IFELSE([-Wl,--version-script=conftest.map],
      [fmp_ld_lax=yes], [fmp_ld_lax=no])
    AS_IF([test "x$fmp_ld_lax" = xno], [
      cat > conftest.map <<_FMP_EOF
FMP_CONFTEST_1 { global: fmp_conftest; local: *; };
FMP_CONFTEST_PRIVATE { global: fmp_conftest_private; };
_FMP_EOF
      _FMP_LINK_SHARED_IFELSE([-Wl,--version-script=conftest.map],
        [fmp_ld_version_script=yes])])
    rm -f conftest.map
    AC_MSG_RESULT([$fmp_ld_version_script])
    AS_IF([test "x$enable_version_script" = xyes && test "x$fmp_ld_version_script" = xno],
      [AC_MSG_ERROR([--enable-version-script given, but the linker does not take -Wl,--version-script])])
  ])
  AM_CONDITIONAL([HAVE_LD_VERSION_SCRIPT], [test "x$fmp_ld_version_script" = xyes])
  FMP_LD_VERSION_SCRIPT=$fmp_ld_version_script
  AC_SUBST([FMP_LD_VERSION_SCRIPT])
  dnl tests/abi.sh reads the libraries' dynamic symbols with it
  AC_CHECK_TOOL([READELF], [readelf])

  AC_MSG_CHECKING([whether the linker takes -Wl,--no-undefined])
  _FMP_LINK_SHARED_IFELSE([-Wl,--no-undefined],
    [FMP_LD_NO_UNDEFINED="-Wl,--no-undefined"; AC_MSG_RESULT([yes])],
    [FMP_LD_NO_UNDEFINED=""; AC_MSG_RESULT([no])])
  AC_SUBST([FMP_LD_NO_UNDEFINED])
])

dnl FMP_CHECK_FUZZ: make fuzz builds the fuzz target with clang's libFuzzer, ASan and UBSan
dnl when a clang (FUZZ_CC) links such a program; otherwise configure says "fuzz: no clang"
dnl and make fuzz explains.  make check's fuzz test needs only the ordinary compiler.
AC_DEFUN([FMP_CHECK_FUZZ], [
  AC_ARG_VAR([FUZZ_CC], [clang for make fuzz (libFuzzer with ASan and UBSan)])
  AS_IF([test -z "$FUZZ_CC"],
    [AC_PATH_PROGS([FUZZ_CC], [clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14])])
  fmp_have_fuzz=no
  AS_IF([test -n "$FUZZ_CC"], [
    AC_MSG_CHECKING([whether $FUZZ_CC links libFuzzer targets with ASan and UBSan])
    cat > conftest_fuzz.c <<_FMP_EOF
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return size > 0 && data[[0]] == 1; }
_FMP_EOF
    AS_IF([$FUZZ_CC -fsanitize=fuzzer,address,undefined conftest_fuzz.c -o conftest_fuzz$EXEEXT \
             >&AS_MESSAGE_LOG_FD 2>&1],
      [fmp_have_fuzz=yes])
    rm -f conftest_fuzz.c conftest_fuzz$EXEEXT
    AC_MSG_RESULT([$fmp_have_fuzz])])
  AS_IF([test "x$fmp_have_fuzz" = xyes], [fmp_fuzz_summary="$FUZZ_CC"],
    [test -n "$FUZZ_CC"], [fmp_fuzz_summary="no ($FUZZ_CC does not link libFuzzer)"
                           AC_MSG_NOTICE([fuzz: $FUZZ_CC does not link libFuzzer: install libclang-rt-dev])],
    [fmp_fuzz_summary="no clang"
     AC_MSG_NOTICE([fuzz: no clang])])
  AM_CONDITIONAL([HAVE_FUZZ], [test "x$fmp_have_fuzz" = xyes])
])
