#!/usr/bin/env bash
# scripts/check.sh: run the whole test suite, then make distcheck, then the same suite
# under the sanitizers and the core suites under valgrind.
#
#   scripts/check.sh                  install + build when needed, then the four steps:
#     1. make check
#     2. make distcheck                          (output in distcheck.log)
#     3. a sanitizer build (ASan + UBSan, ./configure --enable-sanitizers) in the VPATH
#        build folder _build-san/build, from the tarball of step 2 (made by `make dist`
#        when step 2 did not run), and its make check  (output in _build-san/check.log)
#     4. make check-valgrind: the core CUnit suites under valgrind's memcheck
#   scripts/check.sh --quick          step 1 only
#   scripts/check.sh --no-sanitizers  without step 3 (also: FMP_CHECK_SANITIZERS=no)
#   scripts/check.sh --no-valgrind    without step 4 (also: FMP_CHECK_VALGRIND=no)
#
# Works alone on a fresh clone (it runs scripts/setup.sh --build first when the tree is
# not configured); this is what CI runs (.ci/run).  Prints every CUnit "Run Summary" of
# the tests' logs, the tails of failing tests' logs, automake's totals, each step's time
# and, last, one line "N passed, N failed, N skipped" that counts the tests of make check,
# of the sanitizer build's make check and the suites run under valgrind (a step that
# fails outside its tests, distcheck included, counts as one failure).  Exits non-zero on
# any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$(pwd)

distcheck=yes
sanitizers=${FMP_CHECK_SANITIZERS:-yes}
valgrind=${FMP_CHECK_VALGRIND:-yes}
for arg in "$@"; do
    case "$arg" in
    --quick) distcheck=no sanitizers=no valgrind=no ;;
    --no-sanitizers) sanitizers=no ;;
    --no-valgrind) valgrind=no ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "check.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

# The MPI tests run mpirun, as root in CI and containers (tests/run-mpi.sh sets these too).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# Containers often forbid the cross-memory attach of Open MPI's shared-memory transport.
export OMPI_MCA_btl_vader_single_copy_mechanism="${OMPI_MCA_btl_vader_single_copy_mechanism:-none}"

jobs=$(nproc 2>/dev/null || echo 2)
say() { printf '\n== check: %s\n' "$*"; }
t_start=$(date +%s)
times=""
# took STEP T0: note how long STEP took since T0 (printed at the end)
took() {
    local s=$(($(date +%s) - $2))
    times="$times$(printf '%-34s %4d s' "$1" "$s")"$'\n'
    echo "($1: $s s)"
}

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
t0=$(date +%s)
check_rc=0
make -j"$jobs" check </dev/null || check_rc=$?
took "make check" "$t0"

say "CUnit run summaries"
nsum=0
for log in $(run_logs .); do
    case "$log" in ./forkmp-*/* | ./_build-san/*) continue ;; esac # other builds' trees
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
    t0=$(date +%s)
    make -j"$jobs" distcheck </dev/null >distcheck.log 2>&1 || distcheck_rc=$?
    took "make distcheck" "$t0"
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

# ------------------------------------------------------------------- sanitizers
# A VPATH build needs a source tree that is not configured in place (configure refuses
# one that is), so the sanitizer build is made from the tarball, as distcheck's is.
san=_build-san
san_rc=0 san_ran=no
if [ "$sanitizers" = yes ]; then
    say "sanitizer build (ASan + UBSan) in $san/build, from the tarball (output in $san/check.log)"
    t0=$(date +%s)
    tarball=forkmp-$(sed -n 's/^VERSION = //p' Makefile).tar.gz
    if [ ! -f "$tarball" ] || [ ! "$tarball" -nt "$stamp" ]; then
        echo "make dist"
        make dist </dev/null >/dev/null 2>&1 || san_rc=$?
    fi
    if [ "$san_rc" -ne 0 ] || [ ! -f "$tarball" ]; then
        echo "make dist failed: no sanitizer build"
        san_rc=1
    else
        rm -rf "$san"
        mkdir -p "$san/build"
        tar -xzf "$tarball" -C "$san"
        srcname=$(basename "$tarball" .tar.gz)
        san_ran=yes
        # shared libraries only: the static ones would double the compile time
        (cd "$san/build" && "../$srcname/configure" --enable-sanitizers --disable-static &&
            make -j"$jobs" check) </dev/null >"$san/check.log" 2>&1 || san_rc=$?
        grep -E '^  sanitizers: |^(PASS|FAIL|XPASS|XFAIL|SKIP|ERROR):|^# [A-Z]+: ' \
            "$san/check.log" || true
        if [ "$san_rc" -ne 0 ]; then
            say "sanitizer build FAILED (exit $san_rc); its failing tests and the end of $san/check.log:"
            print_failures "$san/build"
            tail -n 40 "$san/check.log"
        fi
    fi
    took "sanitizer build + make check" "$t0"
fi

# ------------------------------------------------------------------- valgrind
vg_rc=0 vg_pass=0 vg_fail=0
if [ "$valgrind" = yes ]; then
    say "make check-valgrind: the core CUnit suites under valgrind's memcheck"
    t0=$(date +%s)
    if ! command -v valgrind >/dev/null 2>&1; then
        echo "no valgrind (scripts/setup.sh installs it): counted as one failure"
        vg_rc=1 vg_fail=1
    else
        make check-valgrind </dev/null >valgrind-check.log 2>&1 || vg_rc=$?
        # the per-suite lines, their Run Summaries, and what failed
        grep -v -E '^(make|/bin/|  CC|  CCLD)' valgrind-check.log || true
        line=$(grep -E '^valgrind: [0-9]+ suites' valgrind-check.log | tail -n 1 || true)
        if [ -n "$line" ]; then
            vg_pass=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
            vg_fail=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
        fi
        if [ "$vg_rc" -ne 0 ] && [ "${vg_fail:-0}" -eq 0 ]; then
            echo "make check-valgrind failed outside the suites (exit $vg_rc): counted as one failure"
            tail -n 20 valgrind-check.log
            vg_fail=1
        fi
    fi
    took "make check-valgrind" "$t0"
fi

# ------------------------------------------------------------------- totals
# count LOG KEY: automake's total KEY (PASS, FAIL...) in the test-suite.log LOG
count() {
    local v
    v=$(sed -n "s/^# $2: *//p" "$1" | head -n 1)
    echo "${v:-0}"
}
say "automake totals (make check)"
pass=0 fail=0 skip=0
suite=test-suite.log
if [ -f "$suite" ] && [ "$suite" -nt "$stamp" ]; then
    grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR): ' "$suite" || true
    pass=$(($(count "$suite" PASS) + $(count "$suite" XFAIL)))
    fail=$(($(count "$suite" FAIL) + $(count "$suite" XPASS) + $(count "$suite" ERROR)))
    skip=$(($(count "$suite" SKIP)))
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
if [ "$sanitizers" = yes ]; then
    say "automake totals (sanitizer build's make check)"
    ssuite=$san/build/test-suite.log
    if [ "$san_ran" = yes ] && [ -f "$ssuite" ] && [ "$ssuite" -nt "$stamp" ]; then
        grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR): ' "$ssuite" || true
        spass=$(($(count "$ssuite" PASS) + $(count "$ssuite" XFAIL)))
        sfail=$(($(count "$ssuite" FAIL) + $(count "$ssuite" XPASS) + $(count "$ssuite" ERROR)))
        pass=$((pass + spass)) fail=$((fail + sfail)) skip=$((skip + $(count "$ssuite" SKIP)))
    else
        sfail=0
        echo "the sanitizer build stopped before running the tests (see $san/check.log)"
    fi
    if [ "$san_rc" -ne 0 ] && [ "$sfail" -eq 0 ]; then
        echo "the sanitizer build failed outside the tests (exit $san_rc): counted as one failure"
        fail=$((fail + 1))
    fi
fi
if [ "$valgrind" = yes ]; then
    say "valgrind totals (suites)"
    echo "${vg_pass:-0} suites passed, ${vg_fail:-0} failed"
    pass=$((pass + ${vg_pass:-0})) fail=$((fail + ${vg_fail:-0}))
fi
[ "$distcheck" = yes ] && [ "$distcheck_rc" -eq 0 ] && [ "$check_rc" -eq 0 ] &&
    echo "make distcheck: passed"

say "times"
printf '%s' "$times"
printf '%-34s %4d s\n' "scripts/check.sh" "$(($(date +%s) - t_start))"

echo "$pass passed, $fail failed, $skip skipped"
[ "$check_rc" -eq 0 ] && [ "$distcheck_rc" -eq 0 ] && [ "$san_rc" -eq 0 ] && [ "$vg_rc" -eq 0 ] &&
    [ "$fail" -eq 0 ]
