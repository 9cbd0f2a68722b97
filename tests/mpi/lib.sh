# tests/mpi/lib.sh: helpers for the .mpi tests, sourced by them (POSIX sh).
#
# run-mpi.sh runs each TEST.mpi with FMP_MPIRUN (the wrapper itself: mpirun under
# timeout, as root, --oversubscribe), FMP_TOP_BUILDDIR and FMP_TOP_SRCDIR set.
#
#   mpi NAME [--nodes SPEC] MPIRUN-ARGS...   run; stdout/stderr in $tmp/NAME.out/.err,
#                                            exit status in $rc, seconds in $secs
#   ok TEXT / bad TEXT / skip TEXT           count and print a result
#   expect_ok NAME ARGS...                   mpi, then ok when it exited 0 (else bad + logs)
#   has NAME REGEX / count NAME REGEX        grep the stderr and stdout of run NAME
#   no_leftovers PROG                        wait (10 s at most) until no live process runs
#                                            PROG; bad if one does
#   finish                                   the summary line; exit 1 on a failure, 77 when
#                                            everything was skipped
set -u
B=${FMP_TOP_BUILDDIR:?run me through tests/run-mpi.sh}
S=${FMP_TOP_SRCDIR:?run me through tests/run-mpi.sh}
T=$B/tests/mpi
pass=0 fail=0 skipped=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmp-mpitest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# Fake nodes need unshare --uts (root, or a user namespace).
if unshare --uts true 2>/dev/null; then fake_nodes=yes; else fake_nodes=no; fi

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

now() {
    date +%s.%N 2>/dev/null || date +%s
}

mpi() {
    name=$1
    shift
    t0=$(now)
    "$FMP_MPIRUN" "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
    secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    echo "ran $name in ${secs}s (exit $rc): mpirun $*"
}

show() {
    echo "--- stdout of $1 (last lines)"
    tail -n 25 "$tmp/$1.out"
    echo "--- stderr of $1 (last lines)"
    tail -n 40 "$tmp/$1.err"
}

expect_ok() {
    n=$1
    mpi "$@"
    if [ "$rc" -eq 0 ]; then
        ok "$n"
    else
        bad "$n exited with status $rc"
        show "$n"
    fi
}

has() {
    cat "$tmp/$1.out" "$tmp/$1.err" | grep -E -q -- "$2"
}

count() {
    cat "$tmp/$1.out" "$tmp/$1.err" | grep -E -c -- "$2"
}

# Live processes whose executable is $1 (a zombie has no exe link: not listed).  One
# find, not a readlink per process: forks are slow on a loaded machine.
live() {
    find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$1" 2>/dev/null |
        sed 's|^/proc/\([0-9]*\)/exe$|\1|'
}

no_leftovers() {
    i=0
    while [ $i -lt 100 ]; do
        left=$(live "$1")
        [ -z "$left" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    bad "processes of $1 left behind: $left"
    # shellcheck disable=SC2086  # one pid a word
    ps -o pid,ppid,stat,etime,args -p "$(echo $left | tr ' ' ',')" 2>/dev/null
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null
    return 1
}

finish() {
    echo "$pass passed, $fail failed, $skipped skipped"
    [ "$fail" -eq 0 ] || exit 1
    [ "$pass" -eq 0 ] && [ "$skipped" -gt 0 ] && exit 77
    exit 0
}
