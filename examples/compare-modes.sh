#!/bin/sh
# Runs each many-regions example three ways (FMP_PARALLEL per region with FMP_REGION=fork,
# the same with FMP_REGION=warm, and one persistent team) with teams of 1, 2 and 4 and
# checks that all print the same results.
# Usage: compare-modes.sh [bindir]   (make check runs it from the build directory)
set -u
bin=${1:-examples}
[ -x "$bin/cg" ] || bin=examples
bin=$(cd "$bin" && pwd) || exit 99
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
status=0
for prog in "cg 64 60" "jacobi 96 120"; do
    set -- $prog
    name=$1; shift
    for np in 1 2 4; do
        for run in fork:fork fork:warm team:auto; do
            mode=${run%%:*} region=${run#*:}
            if ! FMP_REGION=$region FMP_NUM_THREADS=$np timeout 120 "$bin/$name" $mode "$@" \
                >"$tmp/$mode-$region" 2>"$tmp/$mode-$region.err"; then
                echo "FAIL: $name $mode $* (FMP_REGION=$region) with $np members exited non-zero:"
                cat "$tmp/$mode-$region.err"
                status=1
            fi
        done
        if ! diff "$tmp/fork-fork" "$tmp/team-auto" >"$tmp/diff" ||
            ! diff "$tmp/fork-warm" "$tmp/team-auto" >>"$tmp/diff"; then
            echo "FAIL: $name with $np members: regions (fork, warm) and team results differ:"
            cat "$tmp/diff"
            status=1
        elif [ ! -s "$tmp/fork-fork" ]; then
            echo "FAIL: $name with $np members printed nothing"; status=1
        else
            echo "ok: $name, $np members: regions (fork and warm) and team agree ($(tail -n 1 "$tmp/fork-fork"))"
        fi
    done
done
# processes of these very binaries (by absolute path: other tests run programs of the
# same name, e.g. examples/mpi/jacobi, at the same time under make -j)
sleep 0.2
left=$(pgrep -a -f "^$bin/(cg|jacobi)( |\$)" || true)
if [ -n "$left" ]; then
    echo "FAIL: example processes left behind:"; echo "$left"
    status=1
fi
exit $status
