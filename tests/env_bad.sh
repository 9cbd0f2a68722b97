#!/bin/sh
# A malformed environment variable stops the program with exit status 1 and one line on
# stderr that names the variable and its value and says what is allowed (the values
# column of doc/environment.md's row); FMP_DISPLAY_ENV prints its block; the smallest
# FMP_SHARED_SIZE accepted runs a team.
# Exit: 0 pass, 1 fail, 77 skip (no probe).
probe=${ENV_PROBE:-./tests/env_probe}
doc=${srcdir:-.}/doc/environment.md
test -x "$probe" || { echo "SKIP: $probe not built"; exit 77; }
command -v timeout >/dev/null 2>&1 && tmo="timeout 20" || tmo=

err=$(mktemp "${TMPDIR:-/tmp}/fmp_env_bad.XXXXXX") || exit 1
out=$(mktemp "${TMPDIR:-/tmp}/fmp_env_bad.XXXXXX") || exit 1
trap 'rm -f "$err" "$out"' EXIT
fail=0
unset=
for v in NUM_THREADS NESTED MAX_ACTIVE_LEVELS THREAD_LIMIT SCHEDULE PROC_BIND PLACES \
         DISPLAY_ENV DISPLAY_AFFINITY AFFINITY_FORMAT WAIT_POLICY; do
    unset="$unset -u FMP_$v -u OMP_$v"
done
unset="$unset -u FMP_SHARED_SIZE -u FMP_ON_ERROR -u FMP_SPIN_COUNT -u GOMP_SPINCOUNT -u FMP_REGION -u FMP_BARRIER_TREE -u FMP_CHECK"

# run VAR VALUE [ARG]: the probe alone with VAR=VALUE among forkmp's variables
run() {
    env $unset "$1=$2" $tmo "$probe" ${3:+"$3"} >"$out" 2>"$err"
}

# allowed VAR: what the documentation's table says VAR (or the variable it is the alias
# of) allows, unescaped
allowed() {
    case $1 in
    GOMP_SPINCOUNT) v=FMP_SPIN_COUNT ;;
    OMP_*) v=FMP_${1#OMP_} ;;
    *) v=$1 ;;
    esac
    grep "^| \`$v\` |" "$doc" | cut -d'|' -f4 | sed 's/^ //; s/ $//; s/\\\([%|]\)/\1/g'
}

bad() {
    run "$1" "$2"
    rc=$?
    if [ $rc -ne 1 ]; then
        echo "FAIL: $1='$2': exit status $rc, expected 1"; fail=1
    elif [ "$(wc -l <"$err")" -ne 1 ]; then
        echo "FAIL: $1='$2': expected one line on stderr:"; cat "$err"; fail=1
    elif ! grep -F -q -- "$1='$2'" "$err"; then
        echo "FAIL: $1='$2': stderr does not name the variable and the value:"; cat "$err"
        fail=1
    elif [ -z "$(allowed "$1")" ] || ! grep -F -q -- "expected $(allowed "$1")" "$err"; then
        echo "FAIL: $1='$2': stderr does not say what is allowed ($(allowed "$1")):"
        cat "$err"; fail=1
    else
        echo "ok: $1='$2': $(cat "$err")"
    fi
}

bad FMP_NUM_THREADS abc
bad OMP_NUM_THREADS 4,,2
bad FMP_NUM_THREADS 0
bad FMP_SCHEDULE weird
bad FMP_SCHEDULE dynamic,-3
bad OMP_SCHEDULE static,
bad FMP_SHARED_SIZE 12Q
# too small for the arena's header and a few teams; past any address space; overflows of
# the byte count, of the multiplication by the unit, of the rounding up to a page
bad FMP_SHARED_SIZE 1
bad FMP_SHARED_SIZE 1048575
bad FMP_SHARED_SIZE 1023K
bad FMP_SHARED_SIZE 65537T
bad FMP_SHARED_SIZE 99999999999999999999
bad FMP_SHARED_SIZE 16777216T
bad FMP_SHARED_SIZE 18446744073709551615
bad FMP_PROC_BIND sideways
bad FMP_WAIT_POLICY lazy
bad OMP_PLACES '{0,1'
bad FMP_THREAD_LIMIT -2
bad FMP_ON_ERROR ignore
bad FMP_SPIN_COUNT 1x
bad FMP_REGION warmish
bad FMP_CHECK reads
bad FMP_CHECK writes:
bad FMP_CHECK writesx
bad FMP_BARRIER_TREE 1
bad FMP_BARRIER_TREE sometimes

# a good value runs
if run FMP_NUM_THREADS 3 && [ ! -s "$err" ]; then
    echo "ok: FMP_NUM_THREADS=3 runs"
else
    echo "FAIL: FMP_NUM_THREADS=3 did not run cleanly:"; cat "$err"; fail=1
fi

# the smallest arena accepted holds a team of 4, its reduction and allocations (stderr
# may hold the oversubscription warning on a machine of fewer cores)
if run FMP_SHARED_SIZE 1M region && grep -q "^region ok$" "$out"; then
    echo "ok: FMP_SHARED_SIZE=1M runs a team of 4"
else
    echo "FAIL: FMP_SHARED_SIZE=1M did not run a team of 4:"; cat "$out" "$err"; fail=1
fi

# FMP_DISPLAY_ENV=true prints the block, once, between BEGIN and END
run FMP_DISPLAY_ENV true
rc=$?
if [ $rc -ne 0 ] || [ "$(sed -n 1p "$err")" != "FORKMP DISPLAY ENVIRONMENT BEGIN" ] ||
   [ "$(sed -n '$p' "$err")" != "FORKMP DISPLAY ENVIRONMENT END" ] ||
   [ "$(grep -c BEGIN "$err")" -ne 1 ] ||
   ! grep -q "^  \[host\] FMP_NUM_THREADS = '" "$err"; then
    echo "FAIL: FMP_DISPLAY_ENV=true (exit $rc):"; cat "$err"; fail=1
else
    echo "ok: FMP_DISPLAY_ENV=true prints $(wc -l <"$err") lines"
fi
exit $fail
