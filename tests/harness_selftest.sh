#!/bin/sh
# harness_selftest.sh: the test harness itself (tests/harness.c).  Runs
# tests/test_harness_demo (built from tests/harness_demo.c), whose tests misbehave on
# purpose, and checks that each misbehaviour became the failure it should (crash,
# timeout, process or zombie or orphan left, /dev/shm entry left, exit(), a forked
# process escaping into the harness, a failed assertion in a forkmp member), that a
# passing and a skipped test stay so, and the exit statuses 0, 1, 2 and 77.
set -u
demo=tests/test_harness_demo
if [ ! -x "$demo" ]; then
    echo "harness_selftest.sh: $demo not built"
    exit 99
fi
guard=""
command -v timeout >/dev/null 2>&1 && guard="timeout 120"

failures=0
check() { # check DESCRIPTION COMMAND...
    what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "NOT OK: $what"
        failures=$((failures + 1))
    fi
}
has() { printf '%s\n' "$out" | grep -F -q -e "$1"; }
hasnt() { ! has "$1"; }

# the demo's watchdog of 1 s is what is checked: no scaling (the sanitizer build sets one)
out=$(FORKMP_TEST_TIMEOUT_SCALE=1 $guard "$demo" 2>&1)
rc=$?
printf '%s\n' "$out"
echo "---- test_harness_demo exited with $rc"
rm -f /dev/shm/fmp-harness-demo-*

check "a failing suite exits 1" test "$rc" -eq 1
check "a passing test passes" has "Test: demo_pass ...passed"
check "HT_CHECK_INT_EQ shows both values" has "x == 4: x is 3, 4 is 4"
check "HT_CHECK_CONTAINS shows the text" has 'should contain "needle"'
check "an assertion in a forkmp member reaches CUnit" has "demo-member-failure from member 2"
check "... tagged with the member's pid" has "[pid "
check "a crash is a failure naming the signal" has "killed by signal 11 (SIGSEGV)"
check "a hang is a timeout failure" has "timed out after 1 s"
check "a child left alive is named" has "child process(es) left after its body returned"
check "a zombie left is named" has "state Z"
check "an orphan left behind is named" has "still there 2 s after it ended"
check "a /dev/shm entry left is named" has "/dev/shm/fmp-harness-demo-"
check "exit(3) is a failure" has "exited with status 3"
check "exit(0) before the end is a failure" has "without finishing its body"
check "a forked process returning into the harness is a failure" has "returned from the test body"
check "a skip is reported" has "SKIPPED (demo-skip-reason)"
check "HT_REQUIRE stops the test" hasnt "demo-not-reached"
check "HT_REQUIRE reports its condition" has "1 == 2"
check "CUnit's Run Summary is printed" has "Run Summary"
check "the counts: 15 run, 13 failed, 1 skipped" \
    has "harness-demo: 15 test(s) run, 13 failed, 1 skipped"

$guard "$demo" demo_pass >/dev/null 2>&1
rc=$?
check "a passing suite exits 0" test "$rc" -eq 0
$guard "$demo" demo_skip >/dev/null 2>&1
rc=$?
check "a suite whose tests all skip exits 77" test "$rc" -eq 77
$guard "$demo" no_such_test >/dev/null 2>&1
rc=$?
check "an unknown test name is an error (2)" test "$rc" -eq 2

# this build's demo only (other builds of the tree may run their suites beside this one)
me=$(cd "$(dirname "$demo")" && pwd)/$(basename "$demo")
left=0
for d in /proc/[0-9]*; do
    [ "$(readlink "$d/exe" 2>/dev/null)" = "$me" ] && left=$((left + 1))
done
check "no test_harness_demo process is left" test "$left" -eq 0

echo "harness_selftest.sh: $failures failed check(s)"
[ "$failures" -eq 0 ]
