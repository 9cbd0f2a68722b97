#!/bin/sh
# tests/valgrind-suites.sh: the core CUnit suites under valgrind's memcheck, every process
# of them: the runner, each test's subprocess, forkmp's members (valgrind follows fork)
# and the helper programs the tests run (fail_prog, hard_prog...).
#
#   make check-valgrind                       all of tests/local.mk's fmp_test_suites
#   tests/valgrind-suites.sh tests/test_loops [...]   the same by hand, from the build folder
#
# Any memcheck error is fatal: the process that made it exits with status 99
# (--error-exitcode), so a member's error fails its region and the test, and every
# error is counted from the logs (valgrind-logs/SUITE/vg.PID.log).  For each suite it
# prints CUnit's Run Summary, the time and memcheck's count, the failing tests and the
# logs with errors; last, one line
#   valgrind: N suites, N passed, N failed; N tests left out; N memcheck errors
# Exit status: 0 when every suite passed without an error, 1 otherwise, 77 (skip) when
# valgrind is not installed.
#
# Options, and why:
#   --leak-check=no    forkmp's members leave with _exit(), with a copy of the master's
#                      heap: a leak check there reports the master's memory.  It also
#                      reads every page of the shared arena at every process's end, which
#                      costs seconds per member.  Leaks are LeakSanitizer's job, in the
#                      sanitizer build (tests/sanitizers.mk).
#   --trace-children=yes, but not into /bin, /usr/bin, /sbin, /usr/sbin: the build's
#                      programs are checked, system tools (ps, sh) are not.
#   --vgdb=no          no gdbserver FIFOs in /tmp for each of hundreds of processes (and
#                      none left behind by the tests that drop to uid 65534).
#   --suppressions=tests/valgrind.supp   the deliberate faults of the failure tests only.
# The suites run with the arena's default size under valgrind (256 MiB: the harness clears
# every FMP_* variable, FMP_SHARED_SIZE included, before a test; tests that need more set
# it themselves), HWLOC_COMPONENTS=-x86 (hwloc turns its cpuid backend off under valgrind
# anyway, and says so in every process), and FORKMP_TEST_TIMEOUT_SCALE=10 (watchdogs: a
# program under memcheck runs 10 to 50 times slower) unless set.  VALGRIND names another
# valgrind; VALGRIND_OPTS (read by valgrind itself) adds options, e.g.
# --track-origins=yes.
# The suites run VALGRIND_JOBS at a time (default: 2, or 1 on a machine of one cpu): a
# suite under memcheck keeps about one cpu busy (valgrind runs a process's threads one at
# a time), and the report that follows is printed in the suites' order.
set -u

# Tests left out, each with its reason (SUITE:TEST):
#  - test_badinput:test_fork_fails_under_rlimit_nproc: valgrind 3.19 leaves every signal
#    blocked after a fork() that fails (EAGAIN under RLIMIT_NPROC), so the next fault it
#    relies on (growing the stack) kills valgrind itself with SIGSEGV: a valgrind bug,
#    reproduced without forkmp by a fork that fails followed by a deep call.
excluded="test_badinput:test_fork_fails_under_rlimit_nproc"

srcdir=$(cd "$(dirname "$0")/.." && pwd)
VALGRIND=${VALGRIND:-valgrind}
if ! command -v "$VALGRIND" >/dev/null 2>&1; then
    echo "SKIP: no valgrind (apt-get install valgrind)"
    exit 77
fi
if [ $# -eq 0 ]; then
    echo "usage: $0 tests/test_SUITE..." >&2
    exit 2
fi
: "${FORKMP_TEST_TIMEOUT_SCALE:=10}"
HWLOC_COMPONENTS=-x86
export FORKMP_TEST_TIMEOUT_SCALE HWLOC_COMPONENTS

logs=valgrind-logs
rm -rf "$logs"
mkdir -p "$logs" || exit 1
# the tests that drop to uid 65534 run helper programs whose logs must be written too
[ "$(id -u)" -eq 0 ] && chmod 1777 "$logs"

now() { date +%s; }

# One suite under memcheck: its output in $logs/SUITE.out, its exit status and time in
# $logs/SUITE.rc, the tests left out in $logs/SUITE.left.
run_suite() {
    suite=$1
    name=$(basename "$suite")
    mkdir -p "$logs/$name"
    [ "$(id -u)" -eq 0 ] && chmod 1777 "$logs/$name"
    # the suite's tests but the excluded ones
    all=$("$suite" --list) || all=""
    run="" left=""
    for t in $all; do
        if printf '%s\n' "$excluded" | grep -q -x -F "$name:$t"; then
            left="$left $t"
        else
            run="$run $t"
        fi
    done
    echo "$left" >"$logs/$name.left"
    t0=$(now)
    # shellcheck disable=SC2086  # word splitting wanted: the test names
    "$VALGRIND" --tool=memcheck --error-exitcode=99 --leak-check=no \
        --trace-children=yes --trace-children-skip='/bin/*,/usr/bin/*,/sbin/*,/usr/sbin/*' \
        --vgdb=no --num-callers=30 --suppressions="$srcdir/tests/valgrind.supp" \
        --log-file="$logs/$name/vg.%p.log" "$suite" $run >"$logs/$name.out" 2>&1 </dev/null
    echo "$? $(($(now) - t0))" >"$logs/$name.rc"
}

# VALGRIND_JOBS lanes; each takes the next suite no lane has claimed (mkdir is atomic)
jobs=${VALGRIND_JOBS:-}
if [ -z "$jobs" ]; then
    jobs=$(nproc 2>/dev/null || echo 1)
    [ "$jobs" -gt 2 ] && jobs=2
fi
lane=0
while [ "$lane" -lt "$jobs" ]; do
    (
        i=0
        for suite in "$@"; do
            i=$((i + 1))
            [ -x "$suite" ] || continue
            mkdir "$logs/claim.$i" 2>/dev/null || continue
            run_suite "$suite"
        done
    ) &
    lane=$((lane + 1))
done
wait

nsuites=0 npass=0 nfail=0 nleft=0 nerrors=0
for suite in "$@"; do
    name=$(basename "$suite")
    if [ ! -x "$suite" ] || [ ! -f "$logs/$name.rc" ]; then
        echo "---- $suite: not built (or its run left no status)"
        nsuites=$((nsuites + 1)) nfail=$((nfail + 1))
        continue
    fi
    read -r rc secs <"$logs/$name.rc"
    left=$(cat "$logs/$name.left")
    for t in $left; do
        nleft=$((nleft + 1))
    done
    # memcheck's count, over every process of the suite
    errs=0 procs=0 bad="" nbad=0
    for f in "$logs/$name"/vg.*.log; do
        [ -f "$f" ] || continue
        procs=$((procs + 1))
        e=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -n 1)
        if [ -n "$e" ] && [ "$e" -gt 0 ]; then
            errs=$((errs + e))
            bad="$bad $f"
            nbad=$((nbad + 1))
        fi
    done
    nsuites=$((nsuites + 1))
    nerrors=$((nerrors + errs))
    if [ "$rc" -eq 0 ] && [ "$errs" -eq 0 ]; then
        result=PASS npass=$((npass + 1))
    else
        result=FAIL nfail=$((nfail + 1))
    fi
    printf '\n---- %s under valgrind (%s, exit %d, %d s; memcheck: %d error(s) in %d processes)\n' \
        "$suite" "$result" "$rc" "$secs" "$errs" "$procs"
    [ -n "$left" ] && echo "left out:$left"
    awk '/Run Summary/ { on = 1; n = 0 }
         on { print; n++ }
         on && (/Elapsed time/ || n >= 8) { on = 0 }' "$logs/$name.out"
    if [ "$result" = FAIL ]; then
        grep -E '\.\.\.FAILED|^ +[0-9]+\. ' "$logs/$name.out" | head -n 40
        shown=0
        for f in $bad; do
            if [ "$shown" -eq 3 ]; then
                echo "---- ... and $((nbad - 3)) more logs with errors in $logs/$name"
                break
            fi
            echo "---- memcheck's report in $f:"
            grep -v -e '^--' "$f" | head -n 60
            shown=$((shown + 1))
        done
        [ -n "$bad" ] || tail -n 30 "$logs/$name.out"
    fi
done
echo
echo "valgrind: $nsuites suites, $npass passed, $nfail failed; $nleft tests left out; $nerrors memcheck errors"
[ "$nfail" -eq 0 ]
