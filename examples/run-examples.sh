#!/bin/sh
# run-examples.sh: run the forkmp examples and their OpenMP originals with the default
# team size at a moderate size, and print their outputs and timings side by side.
# Called by `make run-examples`:  run-examples.sh DIR OPENMP  (DIR: the built examples,
# OPENMP: yes when the OpenMP originals were built).
set -u

dir=${1:-examples}
openmp=${2:-yes}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmp-examples.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
status=0

# run PROG ARGS...: stdout to $tmp/PROG.out, the time line (stderr) to $tmp/PROG.err
run() {
    prog=$1
    shift
    timeout 300 "$dir/$prog" "$@" </dev/null >"$tmp/$prog.out" 2>"$tmp/$prog.err"
    rc=$?
    [ $rc -eq 0 ] || { echo "exit status $rc" >>"$tmp/$prog.err"; status=1; }
}

# side_by_side LEFT RIGHT: two columns, each a program's output then its time.
side_by_side() {
    for p in "$1" "$2"; do
        { cat "$tmp/$p.out"; sed 's/^/time: /' "$tmp/$p.err"; } >"$tmp/$p.col"
        [ -s "$tmp/$p.col" ] || echo "(no output)" >"$tmp/$p.col"
    done
    awk -v h1="forkmp: $1" -v h2="OpenMP: $2" '
        FNR == 1 { f++ }
        { n[f]++; col[f, n[f]] = $0 }
        f == 1 && length($0) > w { w = length($0) }
        END {
            if (length(h1) > w) w = length(h1)
            fmt = "  %-" w "s | %s\n"
            printf fmt, h1, h2
            for (k = 1; k <= n[1] || k <= n[2]; k++)
                printf fmt, col[1, k], col[2, k]
        }' "$tmp/$1.col" "$tmp/$2.col"
}

echo "forkmp examples beside their OpenMP originals, default team size" \
     "(FMP_NUM_THREADS / OMP_NUM_THREADS to change it)"
while read -r fmp omp args; do
    echo
    echo "== $fmp${args:+ ($args)}"
    # shellcheck disable=SC2086  # the arguments are words
    run "$fmp" $args
    if [ "$openmp" = yes ]; then
        # shellcheck disable=SC2086
        run "$omp" $args
    else
        echo "not built: configure found no OpenMP" >"$tmp/$omp.out"
        : >"$tmp/$omp.err"
    fi
    side_by_side "$fmp" "$omp"
    if [ "$openmp" = yes ]; then
        if cmp -s "$tmp/$fmp.out" "$tmp/$omp.out"; then
            echo "  (same output)"
        else
            echo "  (the outputs differ)"
            status=1
        fi
    fi
done <<EOF_PAIRS
pi pi_omp 100000000
stencil stencil_omp 1000 200
nested nested_omp
qsort qsort_omp 10000000
EOF_PAIRS

exit $status
