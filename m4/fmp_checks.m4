dnl FMP_CHECK_WARNINGS: -Wall -Wextra and friends, as far as the compiler takes them
AC_DEFUN([FMP_CHECK_WARNINGS], [
  FMP_WARN_CFLAGS=""
  for flag in -Wall -Wextra -Wshadow=local -Wstrict-prototypes -Wmissing-prototypes -Wformat=2; do
    AX_SAVE_CFLAGS="$CFLAGS"
    CFLAGS="$CFLAGS -Werror $flag"
    AC_MSG_CHECKING([whether $CC accepts $flag])
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AC_MSG_RESULT([yes]); FMP_WARN_CFLAGS="$FMP_WARN_CFLAGS $flag"],
      [AC_MSG_RESULT([no])])
    CFLAGS="$AX_SAVE_CFLAGS"
  done
  AC_SUBST([FMP_WARN_CFLAGS])
])

dnl FMP_CHECK_VISIBILITY: hide everything but what carries FMP_EXPORT
AC_DEFUN([FMP_CHECK_VISIBILITY], [
  AC_MSG_CHECKING([whether $CC supports -fvisibility=hidden])
  AX_SAVE_CFLAGS="$CFLAGS"
  CFLAGS="$CFLAGS -Werror -fvisibility=hidden"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([__attribute__((visibility("default"))) int f(void);], [])],
    [AC_MSG_RESULT([yes]); FMP_VISIBILITY_CFLAGS="-fvisibility=hidden"],
    [AC_MSG_RESULT([no]); FMP_VISIBILITY_CFLAGS=""])
  CFLAGS="$AX_SAVE_CFLAGS"
  AC_SUBST([FMP_VISIBILITY_CFLAGS])
])

dnl FMP_CHECK_OPENMP: the OpenMP originals of the examples and the benchmarks
AC_DEFUN([FMP_CHECK_OPENMP], [
  AC_OPENMP
  AM_CONDITIONAL([HAVE_OPENMP], [test -n "$OPENMP_CFLAGS"])
])

dnl FMP_CHECK_MPI: the hybrid layer is built when an MPI compiler wrapper works
AC_DEFUN([FMP_CHECK_MPI], [
  AC_ARG_WITH([mpi],
    [AS_HELP_STRING([--without-mpi], [do not build the hybrid layer libforkmp_mpi])],
    [], [with_mpi=check])
  fmp_have_mpi=no
  AS_IF([test "x$with_mpi" != xno], [
    PKG_CHECK_MODULES([MPI], [ompi-c], [fmp_have_mpi=yes], [
      AC_PATH_PROG([MPICC], [mpicc])
      AS_IF([test -n "$MPICC"], [
        MPI_CFLAGS=`$MPICC --showme:compile 2>/dev/null`
        MPI_LIBS=`$MPICC --showme:link 2>/dev/null`
        AS_IF([test -n "$MPI_LIBS"], [fmp_have_mpi=yes])])])
    AS_IF([test "x$with_mpi" = xyes && test "x$fmp_have_mpi" = xno],
      [AC_MSG_ERROR([--with-mpi given but no MPI found (install libopenmpi-dev)])])
  ])
  AC_PATH_PROG([MPIRUN], [mpirun])
  AM_CONDITIONAL([HAVE_MPI], [test "x$fmp_have_mpi" = xyes])
  AC_SUBST([MPI_CFLAGS])
  AC_SUBST([MPI_LIBS])
])
