#!/bin/sh
# compare.sh: run each forkmp example beside the OpenMP original it ports and diff
# their outputs, for team sizes 1, 2 and 4 (FMP_NUM_THREADS and OMP_NUM_THREADS), the
# forkmp side once with each FMP_REGION mode (fork: a fork per region; warm: warm members).
#
#   compare.sh          the OpenMP pairs; exit 77 (skip) when OpenMP is not available
#   compare.sh --cxx    examples/hello against examples/hello_cxx (the C++ build);
#                       exit 77 when there is no C++ compiler
#
# Exit 0 when every pair printed the same stdout, 1 on a difference (shown as a diff),
# a failed or timed-out run (its stderr shown), or a process of an example still alive
# after its run.  Run from the top build directory, as `make check` does; set
# FMP_EXAMPLES_DIR to the folder of the built examples to run it from elsewhere,
# FMP_COMPARE_SIZES (team sizes), FMP_COMPARE_REGIONS (the FMP_REGION modes) and
# FMP_COMPARE_TIMEOUT (seconds a run may take).
set -u

dir=${FMP_EXAMPLES_DIR:-examples}
sizes=${FMP_COMPARE_SIZES:-"1 2 4"}   # team sizes
limit=${FMP_COMPARE_TIMEOUT:-60}   # seconds a run may take
regions=${FMP_COMPARE_REGIONS:-"fork warm"}

if [ "${1:-}" = --cxx ]; then
    pairs="hello hello_cxx"
    if [ ! -x "$dir/hello_cxx" ]; then
        echo "SKIP: hello_cxx is not built (configure found no C++ compiler)"
        exit 77
    fi
else
    # forkmp program, OpenMP original, arguments (small: each run well under a second)
    pairs="pi pi_omp 2000000
stencil stencil_omp 200 50
nested nested_omp
qsort qsort_omp 1000000"
    if [ ! -x "$dir/pi_omp" ]; then
        echo "SKIP: the OpenMP originals are not built (configure found no OpenMP)"
        exit 77
    fi
fi

dir=$(cd "$dir" && pwd) || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmp-compare.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
status=0

fail() {
    echo "FAIL: $*"
    status=1
}

# Pids of live processes of the program $1 (its members have its command line).
alive() {
    if command -v pgrep >/dev/null 2>&1; then
        re=$(printf '%s\n' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g')
        pgrep -f "^$re( |\$)" 2>/dev/null
    else
        for d in /proc/[0-9]*; do
            [ "$(readlink "$d/exe" 2>/dev/null)" = "$1" ] && echo "${d#/proc/}"
        done
    fi
}

# run NAME K ARGS...: run $dir/NAME with a team of K (FMP_REGION=$mode); stdout to
# $tmp/NAME.K.out.  Returns 1 (after saying why) if it failed, timed out, or left a
# process behind.
run() {
    name=$1 k=$2
    shift 2
    prog=$dir/$name
    if [ ! -x "$prog" ]; then
        fail "$prog is not built"
        return 1
    fi
    FMP_REGION=$mode FMP_NUM_THREADS=$k OMP_NUM_THREADS=$k timeout "$limit" "$prog" "$@" \
        </dev/null >"$tmp/$name.$k.out" 2>"$tmp/$name.$k.err"
    rc=$?
    ok=0
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        fail "$name $* (team of $k, FMP_REGION=$mode) did not finish within $limit s"
        ok=1
    elif [ $rc -ne 0 ]; then
        fail "$name $* (team of $k, FMP_REGION=$mode) exited with status $rc"
        ok=1
    fi
    left=$(alive "$prog")
    if [ -n "$left" ]; then
        fail "$name $* (team of $k, FMP_REGION=$mode) left processes behind:"
        # shellcheck disable=SC2086  # one pid a word
        ps -o pid,ppid,stat,etime,args -p "$(echo $left | tr ' ' ',')"
        # shellcheck disable=SC2086
        kill -KILL $left 2>/dev/null
        ok=1
    fi
    if [ $ok -ne 0 ]; then
        echo "--- stderr of $name:"
        cat "$tmp/$name.$k.err"
    fi
    return $ok
}

while read -r a b args; do
    for k in $sizes; do
        mode=auto
        # shellcheck disable=SC2086  # the arguments are words
        run "$b" "$k" $args || continue
        for mode in $regions; do
            # shellcheck disable=SC2086
            run "$a" "$k" $args || continue
            if diff -u "$tmp/$b.$k.out" "$tmp/$a.$k.out" >"$tmp/diff"; then
                echo "ok: $a (FMP_REGION=$mode) and $b print the same with a team of $k: $(head -n 1 "$tmp/$a.$k.out")"
            else
                fail "$a (FMP_REGION=$mode) and $b print different results with a team of $k:"
                cat "$tmp/diff"
            fi
        done
    done
done <<EOF_PAIRS
$pairs
EOF_PAIRS

exit $status
