#!/usr/bin/env bash
# scripts/check.sh: run the whole test suite, then make distcheck.
#
#   scripts/check.sh            install + build when needed, make check, make distcheck
#   scripts/check.sh --quick    make check only (no distcheck)
#
# Works alone on a fresh clone (it runs scripts/setup.sh --build first when the tree is
# not configured); this is what CI runs (.ci/run).  Prints every CUnit "Run Summary" of
# the tests' logs, the tails of failing tests' logs, automake's totals and, last, one line
# "N passed, N failed, N skipped".  Exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$(pwd)

distcheck=yes
case "${1:-}" in
"") ;;
--quick) distcheck=no ;;
-h | --help) sed -n '2,10p' "$0"; exit 0 ;;
*) echo "check.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

# The MPI tests run mpirun, as root in CI and containers (tests/run-mpi.sh sets these too).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# Containers often forbid the cross-memory attach of Open MPI's shared-memory transport.
export OMPI_MCA_btl_vader_single_copy_mechanism="${OMPI_MCA_btl_vader_single_copy_mechanism:-none}"

jobs=$(nproc 2>/dev/null || echo 2)
say() { printf '\n== check: %s\n' "$*"; }

# --------------------------------------------------------------------------- build
if [ -f Makefile ] && [ -f config.status ]; then
    scripts/setup.sh --deps
else
    say "tree not configured: scripts/setup.sh --build"
    if ! scripts/setup.sh --build; then
        say "the build failed (above): no test ran"
        echo "0 passed, 1 failed, 0 skipped"
        exit 1
    fi
fi

# Marks the start of this run: only logs written after it are reported.
stamp=$(mktemp "${TMPDIR:-/tmp}/forkmp-check.XXXXXX")
trap 'rm -f "$stamp"' EXIT

# Test logs (.log beside a .trs) under $1 written during this run.
run_logs() {
    find "$1" -name '*.trs' -newer "$stamp" 2>/dev/null | sort | while read -r trs; do
        [ -f "${trs%.trs}.log" ] && printf '%s\n' "${trs%.trs}.log"
    done
}

# The tail of every failing test's log under $1.
print_failures() {
    local log trs result
    for log in $(run_logs "$1"); do
        log=${log#./}
        trs="${log%.log}.trs"
        result=$(sed -n 's/^:global-test-result: *//p' "$trs" | head -n 1)
        case "$result" in
        FAIL | XPASS | ERROR)
            printf '\n---- %s: %s, last lines of %s\n' "${trs%.trs}" "$result" "$log"
            tail -n 60 "$log"
            ;;
        esac
    done
}

# ------------------------------------------------------------------- make check
say "make -j$jobs check"
check_rc=0
make -j"$jobs" check </dev/null || check_rc=$?

say "CUnit run summaries"
nsum=0
for log in $(run_logs .); do
    case "$log" in ./forkmp-*/*) continue ;; esac # a distcheck's tree
    if grep -q 'Run Summary' "$log"; then
        result=$(sed -n 's/^:global-test-result: *//p' "${log%.log}.trs" | head -n 1)
        name=${log%.log}
        printf '\n---- %s (%s)\n' "${name#./}" "${result:-?}"
        # From "Run Summary" to CUnit's "Elapsed time" line (or 8 lines at most).
        awk '/Run Summary/ { on = 1; n = 0 }
             on { print; n++ }
             on && (/Elapsed time/ || n >= 8) { on = 0 }' "$log"
        nsum=$((nsum + 1))
    fi
done
[ "$nsum" -gt 0 ] || echo "(no CUnit summaries in this run's logs)"

if [ "$check_rc" -ne 0 ]; then
    say "failing tests"
    print_failures .
fi

# ------------------------------------------------------------------- make distcheck
distcheck_rc=0
if [ "$distcheck" = yes ] && [ "$check_rc" -eq 0 ]; then
    say "make -j$jobs distcheck (output in distcheck.log)"
    make -j"$jobs" distcheck </dev/null >distcheck.log 2>&1 || distcheck_rc=$?
    # automake's per-test lines and the totals of the distcheck's own make check
    grep -E '^(PASS|FAIL|XPASS|XFAIL|SKIP|ERROR):|^# [A-Z]+: |archives ready' distcheck.log || true
    if [ "$distcheck_rc" -ne 0 ]; then
        say "distcheck FAILED (exit $distcheck_rc); its failing tests and the end of distcheck.log:"
        for d in "$top"/forkmp-*/_build; do
            [ -d "$d" ] && print_failures "$d"
        done
        tail -n 60 distcheck.log
    fi
elif [ "$distcheck" = yes ]; then
    say "make check failed: distcheck skipped"
fi

# ------------------------------------------------------------------- totals
say "automake totals (make check)"
pass=0 fail=0 skip=0
suite=test-suite.log
if [ -f "$suite" ] && [ "$suite" -nt "$stamp" ]; then
    grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR): ' "$suite" || true
    count() {
        local v
        v=$(sed -n "s/^# $1: *//p" "$suite" | head -n 1)
        echo "${v:-0}"
    }
    pass=$(($(count PASS) + $(count XFAIL)))
    fail=$(($(count FAIL) + $(count XPASS) + $(count ERROR)))
    skip=$(($(count SKIP)))
else
    echo "make check stopped before running the tests (build failure?)"
fi
if [ "$check_rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    echo "make check failed outside the tests (exit $check_rc): counted as one failure"
    fail=1
fi
if [ "$distcheck_rc" -ne 0 ]; then
    echo "make distcheck failed: counted as one more failure"
    fail=$((fail + 1))
fi
[ "$distcheck" = yes ] && [ "$distcheck_rc" -eq 0 ] && [ "$check_rc" -eq 0 ] &&
    echo "make distcheck: passed"

echo "$pass passed, $fail failed, $skip skipped"
[ "$check_rc" -eq 0 ] && [ "$distcheck_rc" -eq 0 ] && [ "$fail" -eq 0 ]
