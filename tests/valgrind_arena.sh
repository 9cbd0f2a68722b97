#!/bin/sh
# valgrind_arena.sh: a forkmp program run under valgrind with no FMP_SHARED_SIZE gets a
# modest shared arena (256 MiB), says so on stderr, and runs to its end with valgrind's
# default options.  The default arena is the machine's memory, and memcheck's leak check
# reads every page of every writable mapping at each process's end; reading a page of a
# shared anonymous mapping allocates it, so valgrind was OOM-killed.  An explicit
# FMP_SHARED_SIZE still wins, without the note.
# Exit: 0 pass, 1 fail, 77 skip (no valgrind; a sanitizer build, whose programs valgrind
# cannot run).
probe=./tests/arena_probe
test -x "$probe" || { echo "SKIP: $probe not built"; exit 77; }
command -v valgrind >/dev/null 2>&1 || { echo "SKIP: no valgrind (apt-get install valgrind)"; exit 77; }
if [ "${FORKMP_TEST_SANITIZERS:-no}" = yes ]; then
    echo "SKIP: a sanitizer build (valgrind cannot run AddressSanitizer's programs)"
    exit 77
fi
command -v timeout >/dev/null 2>&1 && tmo="timeout 300" || tmo=

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmp_vg_arena.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
want=$((256 * 1024 * 1024))

# vg NAME "VAR=VALUE..." "VALGRIND-OPTIONS...": the probe under valgrind, FMP_SHARED_SIZE
# unset unless given; stdout and stderr in $tmp/NAME.out/.err, exit status in $rc
vg() {
    name=$1
    # shellcheck disable=SC2086  # word splitting wanted: lists
    env -u FMP_SHARED_SIZE $2 $tmo valgrind -q --error-exitcode=3 $3 "$probe" \
        >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
}
check() { # check NAME DESCRIPTION COMMAND...
    n=$1 what=$2
    shift 2
    if "$@"; then
        echo "ok: $n: $what"
    else
        echo "FAIL: $n: $what"
        echo "--- stdout"; cat "$tmp/$n.out"; echo "--- stderr"; cat "$tmp/$n.err"
        fail=1
    fi
}
has() { grep -F -q -e "$2" "$tmp/$1.$3"; }

# 1. the size, without the leak check (safe whatever the size would be)
vg size "" --leak-check=no
check size "exit status 0 (was $rc)" test "$rc" -eq 0
check size "the default arena is $want bytes" has size "arena $want" out
check size "the members wrote shared memory" has size "members 1 2" out
check size "a note on stderr says why and names FMP_SHARED_SIZE" \
    sh -c "grep -F 'running under valgrind' '$tmp/size.err' | grep -F -q FMP_SHARED_SIZE"

# 2. with valgrind's defaults (the leak check reads the whole arena at every exit)
if [ "$fail" -eq 0 ]; then
    vg defaults "" ""
    check defaults "exit status 0 with valgrind's default options (was $rc)" test "$rc" -eq 0
    check defaults "the program ran to its end" has defaults "members 1 2" out
fi

# 3. an explicit size wins, and nothing is said
vg explicit FMP_SHARED_SIZE=64M "--leak-check=no"
check explicit "exit status 0 (was $rc)" test "$rc" -eq 0
check explicit "FMP_SHARED_SIZE=64M gives 64 MiB" has explicit "arena $((64 * 1024 * 1024))" out
check explicit "no note when FMP_SHARED_SIZE is set" sh -c "! grep -F -q 'running under valgrind' '$tmp/explicit.err'"

exit $fail
