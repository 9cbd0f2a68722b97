dnl fmp_version.m4: the release number and the libraries' interface versions, both from
dnl the file VERSION (its first line is the release; libtool's current:revision:age of
dnl each library are the libNAME_so_version= lines, kept by libtool's rules, HACKING.md).

dnl Both are read at autoconf time, as configure.ac's AC_INIT reads the release; the
dnl build's CONFIGURE_DEPENDENCIES regenerate configure when VERSION changes.

dnl FMP_SO_VERSION(LIBRARY): the current:revision:age of LIBRARY in VERSION.
AC_DEFUN([FMP_SO_VERSION],
  [m4_esyscmd_s([sed -n 's/^$1_so_version=//p' VERSION])])

dnl FMP_SPLIT_VERSION: FMP_VERSION_{MAJOR,MINOR,PATCH} from the release number, and
dnl libtool's -version-info of each library (FMP_LT_VERSION: libforkmp, FMP_MPI_LT_VERSION:
dnl libforkmp_mpi), checked for libtool's form C:R:A with A <= C.
AC_DEFUN([FMP_SPLIT_VERSION], [
  FMP_VERSION_MAJOR=`echo $PACKAGE_VERSION | cut -d. -f1`
  FMP_VERSION_MINOR=`echo $PACKAGE_VERSION | cut -d. -f2`
  FMP_VERSION_PATCH=`echo $PACKAGE_VERSION | cut -d. -f3`
  AS_CASE([$FMP_VERSION_MAJOR.$FMP_VERSION_MINOR.$FMP_VERSION_PATCH],
    [*[[!0-9.]]* | .* | *..* | *.], [AC_MSG_ERROR([the first line of VERSION, '$PACKAGE_VERSION', is not a release number MAJOR.MINOR.PATCH])])
  AC_SUBST([FMP_VERSION_MAJOR])
  AC_SUBST([FMP_VERSION_MINOR])
  AC_SUBST([FMP_VERSION_PATCH])
  FMP_LT_VERSION="FMP_SO_VERSION([libforkmp])"
  FMP_MPI_LT_VERSION="FMP_SO_VERSION([libforkmp_mpi])"
  _FMP_CHECK_LT_VERSION([libforkmp], [$FMP_LT_VERSION])
  _FMP_CHECK_LT_VERSION([libforkmp_mpi], [$FMP_MPI_LT_VERSION])
  AC_SUBST([FMP_LT_VERSION])
  AC_SUBST([FMP_MPI_LT_VERSION])
])

dnl _FMP_CHECK_LT_VERSION(LIBRARY, C:R:A): stop configure on a malformed value
AC_DEFUN([_FMP_CHECK_LT_VERSION], [
  AC_MSG_CHECKING([the interface version of $1])
  fmp_lt_ok=no
  AS_CASE([$2],
    [*[[!0-9:]]* | :* | *::* | *:], [],
    [*:*:*:*], [],
    [*:*:*], [fmp_lt_c=`echo "$2" | cut -d: -f1`
              fmp_lt_a=`echo "$2" | cut -d: -f3`
              AS_IF([test "$fmp_lt_a" -le "$fmp_lt_c"],
                [fmp_lt_ok=yes; fmp_lt_so=`expr "$fmp_lt_c" - "$fmp_lt_a"`])])
  AS_IF([test "x$fmp_lt_ok" = xyes],
    [AC_MSG_RESULT([$2 (soname $1.so.$fmp_lt_so)])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([VERSION: $1_so_version='$2' is not libtool's current:revision:age with age <= current])])
])
