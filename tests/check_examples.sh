#!/bin/sh
# The lost-write detector on the examples: each runs clean under FMP_CHECK=writes (no
# lost write, the same results as without the check), with regions forked and warm; and
# tests/check_jacobi_lost, examples/jacobi.c with one grid from malloc() where it had
# fmp_shared_alloc() (the copy is made at build time, tests/local.mk), is caught: one line
# naming that allocation, file and line, and the same place in the JSON report.
# Usage: check_examples.sh [builddir]   (make check runs it from the build directory)
set -u
top=${1:-.}
ex=$top/examples
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmp-check-ex.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
status=0

# run NAME MODE PROGRAM ARGS...: with the check (FMP_REGION=MODE) and without; compares
run() {
    name=$1 mode=$2
    shift 2
    if ! FMP_CHECK=writes:$tmp/$name-$mode.json FMP_REGION=$mode timeout 300 "$@" \
        >"$tmp/$name-$mode.out" 2>"$tmp/$name-$mode.err" </dev/null; then
        echo "FAIL: $name (FMP_REGION=$mode) under FMP_CHECK=writes exited non-zero:"
        cat "$tmp/$name-$mode.err"
        status=1
        return 1
    fi
    if grep -q "cannot be checked here" "$tmp/$name-$mode.err"; then
        echo "SKIP: members cannot track their writes here:"
        grep "cannot be checked here" "$tmp/$name-$mode.err" | head -n 1
        exit 77
    fi
    FMP_REGION=$mode timeout 300 "$@" >"$tmp/$name-$mode.plain" 2>/dev/null </dev/null
    if ! diff "$tmp/$name-$mode.plain" "$tmp/$name-$mode.out" >/dev/null; then
        echo "FAIL: $name (FMP_REGION=$mode): the check changed its output:"
        diff "$tmp/$name-$mode.plain" "$tmp/$name-$mode.out" | head -n 20
        status=1
    fi
    return 0
}

for mode in fork warm; do
    for prog in "pi 20000000" "stencil 300 40" "nested" "hello" "qsort 200000" \
        "cg fork 64 30" "jacobi fork 96 40"; do
        set -- $prog
        name=$1
        run "$name" "$mode" "$ex/$@" || continue
        if grep -q "lost write in " "$tmp/$name-$mode.err" || [ -s "$tmp/$name-$mode.json" ]; then
            echo "FAIL: $name (FMP_REGION=$mode) runs clean but a lost write was reported:"
            cat "$tmp/$name-$mode.err"
            status=1
        else
            echo "ok: $name (FMP_REGION=$mode) runs clean under FMP_CHECK=writes"
        fi
    done

    # the port with a lost write: the grid from malloc() on line 58 of the copy
    run lost "$mode" "$top/tests/check_jacobi_lost" fork 96 40 || continue
    line=$(grep -n "{ malloc(" "$top/tests/check_jacobi_lost.c" | cut -d: -f1)
    n=$(grep -c "lost write in " "$tmp/lost-$mode.err")
    if [ "$n" -eq 1 ] &&
        grep -q "a heap block of 73728 bytes allocated at check_jacobi_lost.c:$line (in main)" \
            "$tmp/lost-$mode.err" &&
        grep -q "\"kind\":\"heap\".*\"site\":\"check_jacobi_lost.c:$line (in main)\"" \
            "$tmp/lost-$mode.json"; then
        echo "ok: the malloc'd grid of check_jacobi_lost.c:$line is named (FMP_REGION=$mode)"
    else
        echo "FAIL: check_jacobi_lost (FMP_REGION=$mode): expected one line naming the block" \
            "allocated at check_jacobi_lost.c:$line; stderr:"
        cat "$tmp/lost-$mode.err"
        echo "JSON:"
        cat "$tmp/lost-$mode.json" 2>/dev/null
        status=1
    fi
done
exit $status
