#!/bin/sh
# tests/install/check.sh: an installed forkmp works for a program that knows only the
# installation, run by `make installcheck` (so also by `make distcheck`, after its
# install).  The make rule passes, in the environment: bindir includedir libdir pkgconfigdir
# version (the release), with_mpi (yes|no), versioned (yes|no: the libraries were linked
# with their version scripts), CC, MPICC (may be empty), READELF, run_mpi
# (tests/run-mpi.sh of the build), srcdir.
#
# Checked: the installed headers, .pc files and libraries are there, and no private
# header; `pkg-config --modversion forkmp` is the release; tests/install/consumer.c
# compiled with `$CC ... $(pkg-config --cflags --libs forkmp)` links against the
# installed libforkmp and runs (and tests/install/consumer_mpi.c with mpicc and
# forkmp-mpi, under mpirun); each installed library's dynamic symbols are all versioned,
# in its public node, but fmp__internal_ops alone in FORKMP_PRIVATE; the installed
# forkmp-info runs on the installed libraries and prints its line.
# Writes only under $TMPDIR.  Exit 0 when everything held.
: "${bindir:?}" "${includedir:?}" "${libdir:?}" "${pkgconfigdir:?}" "${version:?}" "${srcdir:?}"
: "${CC:=cc}" "${READELF:=readelf}" "${with_mpi:=no}" "${versioned:=no}"

pass=0 fail=0 skipped=0
ok() {
    pass=$((pass + 1))
    echo "ok: $*"
}
bad() {
    fail=$((fail + 1))
    echo "FAIL: $*"
}
skip() {
    skipped=$((skipped + 1))
    echo "SKIP: $*"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmp-installcheck.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

PKG_CONFIG=${PKG_CONFIG:-pkg-config}
PKG_CONFIG_PATH=$pkgconfigdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PKG_CONFIG_PATH LD_LIBRARY_PATH

# ------------------------------------------------------------------ installed files
files="$includedir/forkmp.h $includedir/forkmp_version.h $pkgconfigdir/forkmp.pc
       $libdir/libforkmp.so.1 $bindir/forkmp-info"
if [ "$with_mpi" = yes ]; then
    files="$files $includedir/forkmp_mpi.h $pkgconfigdir/forkmp-mpi.pc
           $libdir/libforkmp_mpi.so.1"
fi
missing=
for f in $files; do [ -e "$f" ] || missing="$missing $f"; done
if [ -z "$missing" ]; then ok "installed: the $(echo $files | wc -w) headers, .pc files, libraries and forkmp-info"; else bad "not installed:$missing"; fi
private=$(ls "$includedir" | grep -v -x -e forkmp.h -e forkmp_version.h -e forkmp_mpi.h)
if [ -z "$private" ]; then ok "no other header installed"; else bad "headers installed besides the public ones: $private"; fi

v=$($PKG_CONFIG --modversion forkmp 2>&1)
if [ "$v" = "$version" ]; then ok "pkg-config --modversion forkmp: $v"; else bad "pkg-config --modversion forkmp: '$v', expected $version"; fi

# ------------------------------------------------------------------ the core
# build NAME COMPILER PKG: compile tests/install/NAME.c with COMPILER and PKG's flags
build() {
    flags=$($PKG_CONFIG --cflags --libs "$3" 2>"$tmp/$1.pc.err") || {
        bad "pkg-config --cflags --libs $3: $(cat "$tmp/$1.pc.err")"
        return 1
    }
    # shellcheck disable=SC2086  # the flags are words
    if $2 -o "$tmp/$1" "$srcdir/tests/install/$1.c" $flags >"$tmp/$1.cc.out" 2>&1; then
        ok "$1 built: $2 $1.c $flags"
    else
        bad "$1 does not build: $2 $1.c $flags"
        cat "$tmp/$1.cc.out"
        return 1
    fi
}

# uses_installed PROGRAM LIB: the program loads LIB from $libdir
uses_installed() {
    where=$(LD_TRACE_LOADED_OBJECTS=1 "$1" 2>/dev/null | sed -n "s/^[[:space:]]*$2 => \([^ ]*\).*/\1/p")
    if [ "$where" = "$libdir/$2" ]; then
        ok "$(basename "$1") loads $where"
    else
        bad "$(basename "$1") loads $2 from '$where', not from $libdir"
    fi
}

# shellcheck disable=SC2086  # CC may hold words
if build consumer "$CC" forkmp; then
    uses_installed "$tmp/consumer" libforkmp.so.1
    if out=$(FMP_NUM_THREADS=2 "$tmp/consumer" 2>&1); then
        ok "consumer runs: $out"
    else
        bad "consumer failed: $out"
    fi
fi

# ------------------------------------------------------------------ forkmp-info
if [ -x "$bindir/forkmp-info" ]; then
    uses_installed "$bindir/forkmp-info" libforkmp.so.1
    if out=$(FMP_NUM_THREADS=2 "$bindir/forkmp-info" 2>&1) &&
        echo "$out" | grep -q '^cpus=.* team=2 from=FMP_NUM_THREADS .*arena=[0-9]'; then
        ok "forkmp-info runs: $out"
    else
        bad "forkmp-info failed: $out"
    fi
    "$bindir/forkmp-info" --bogus >/dev/null 2>&1
    rc=$?
    if [ $rc -eq 2 ]; then ok "forkmp-info --bogus: exit 2"; else bad "forkmp-info --bogus: exit $rc, expected 2"; fi
fi

# ------------------------------------------------------------------ symbols
# versions LIB NODE: every defined global dynamic symbol of LIB is at NODE, except
# fmp__internal_ops at FORKMP_PRIVATE
versions() {
    "$READELF" -W --dyn-syms "$1" | awk -v node="$2" '
        $1 ~ /^[0-9]+:$/ && NF >= 8 && $7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") {
            name = $8; ver = ""
            if ((i = index(name, "@")) > 0) { ver = substr(name, i); sub(/^@+/, "", ver); name = substr(name, 1, i - 1) }
            if ($7 == "ABS" && (ver == "" || ver == name)) next
            want = name == "fmp__internal_ops" ? "FORKMP_PRIVATE" : node
            if (ver != want) print name "@" (ver == "" ? "(none)" : ver)
            n++
        }
        END { print n + 0 }'
}
if [ "$versioned" != yes ]; then
    skip "symbol versions: configure found no linker that takes version scripts"
elif ! command -v "$READELF" >/dev/null 2>&1; then
    skip "symbol versions: no readelf"
else
    for l in libforkmp:FORKMP_1 libforkmp_mpi:FORKMP_MPI_1; do
        lib=${l%%:*} node=${l#*:}
        [ "$lib" = libforkmp_mpi ] && [ "$with_mpi" != yes ] && continue
        versions "$libdir/$lib.so.1" "$node" >"$tmp/ver"
        n=$(tail -n 1 "$tmp/ver")
        wrong=$(sed '$d' "$tmp/ver" | tr '\n' ' ')
        if [ -z "$wrong" ] && [ "$n" -gt 0 ]; then
            ok "installed $lib.so.1: $n symbols, all at $node$([ $lib = libforkmp ] && echo ' (fmp__internal_ops at FORKMP_PRIVATE)')"
        else
            bad "installed $lib.so.1: not at the expected version: ${wrong:-no symbols}"
        fi
    done
fi

# ------------------------------------------------------------------ the hybrid layer
if [ "$with_mpi" = yes ]; then
    mpicc=${MPICC:-}
    [ -z "$mpicc" ] && command -v mpicc >/dev/null 2>&1 && mpicc=mpicc
    [ -z "$mpicc" ] && mpicc=$CC # forkmp-mpi.pc carries MPI's flags
    if build consumer_mpi "$mpicc" forkmp-mpi; then
        uses_installed "$tmp/consumer_mpi" libforkmp_mpi.so.1
        if [ -z "${run_mpi:-}" ] || [ ! -f "$run_mpi" ]; then
            skip "consumer_mpi: no tests/run-mpi.sh to run it with"
        else
            "$run_mpi" -np 2 --bind-to none -x LD_LIBRARY_PATH "$tmp/consumer_mpi" \
                >"$tmp/mpi.out" 2>&1 </dev/null
            rc=$?
            if [ $rc -eq 77 ]; then
                skip "consumer_mpi: no mpirun"
            elif [ $rc -eq 0 ] && [ "$(grep -c '^consumer_mpi: rank [01]: ok:' "$tmp/mpi.out")" -eq 2 ]; then
                ok "consumer_mpi runs under mpirun -np 2: $(grep -m 1 '^consumer_mpi: rank 0' "$tmp/mpi.out")"
            else
                bad "consumer_mpi under mpirun -np 2 (exit $rc):"
                cat "$tmp/mpi.out"
            fi
        fi
    fi
fi

echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
