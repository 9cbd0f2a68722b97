#!/bin/sh
# tests/check_alloc.sh: libforkmp_check.so, the allocation records of FMP_CHECK=writes
# (src/check/alloc.h).  tests/check_alloc_prog runs twice, each under a 60 s watchdog (it
# forks):
#   - with the library preloaded: its checks (every allocation function's record, free,
#     200000 blocks, 4 threads, fork while threads allocate, the library's own memory)
#     pass (private mappings through mmap, munmap, mremap and MAP_FIXED too), and it
#     prints what a malloc/free pair and a lookup cost;
#   - with it and tests/.libs/libcheck_alloc_atfork.so after it, whose fork handlers run
#     while the library's prepare handler holds its lock, and allocate: the same checks,
#     no fork stuck, and the handlers' blocks recorded;
#   - without it: the fmp_check_* functions are absent and allocation works as usual.
# Skipped in a sanitizer build (AddressSanitizer must come first among the libraries and
# interposes malloc itself).
# Exit: 0 pass, 1 fail, 77 skip.
prog=${CHECK_ALLOC_PROG:-./tests/check_alloc_prog}
lib=${CHECK_ALLOC_LIB:-$(pwd)/.libs/libforkmp_check.so}
atfork=${CHECK_ALLOC_ATFORK:-$(pwd)/tests/.libs/libcheck_alloc_atfork.so}
test -x "$prog" || { echo "SKIP: $prog not built"; exit 77; }
for f in "$lib" "$atfork"; do
    test -f "$f" || { echo "SKIP: $f not built (shared libraries disabled?)"; exit 77; }
done
if [ "${FORKMP_TEST_SANITIZERS:-}" = yes ]; then
    echo "SKIP: a sanitizer build: AddressSanitizer interposes malloc itself"
    exit 77
fi
command -v timeout >/dev/null 2>&1 && tmo="timeout 60" || tmo=

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmp_check_alloc.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# with the library preloaded
$tmo env LD_PRELOAD="$lib" "$prog" >"$tmp/on" 2>&1
rc=$?
sed 's/^/  | /' "$tmp/on"
if [ $rc -eq 0 ]; then ok "preloaded: exit status 0"; else bad "preloaded: exit status $rc"; fi
if grep -qx 'check_alloc: ok' "$tmp/on"; then
    ok "preloaded: every check held"
else
    bad "preloaded: no 'check_alloc: ok'"
fi
grep -q '^check_alloc: malloc+free pair: ' "$tmp/on" || bad "preloaded: no cost printed"

# with fork handlers registered before the library's
$tmo env LD_PRELOAD="$lib $atfork" "$prog" >"$tmp/atfork" 2>&1
rc=$?
sed 's/^/  | /' "$tmp/atfork"
if [ $rc -eq 0 ] && grep -qx 'check_alloc: ok' "$tmp/atfork"; then
    ok "preloaded, with fork handlers that allocate: every check held"
else
    bad "preloaded, with fork handlers that allocate: exit status $rc"
fi
line=$(grep '^check_alloc_atfork: ' "$tmp/atfork")
ran=$(echo "$line" | sed -n 's/.*: \([0-9]*\) prepare handlers ran, .*/\1/p')
found=$(echo "$line" | sed -n 's/.* ran, \([0-9]*\) found their block$/\1/p')
if [ -n "$ran" ] && [ "$ran" -gt 0 ] && [ "$ran" = "$found" ]; then
    ok "the $ran prepare handlers' blocks were recorded"
else
    bad "the prepare handlers: '${line:-no report}'"
fi

# without it
$tmo env -u LD_PRELOAD "$prog" --absent >"$tmp/off" 2>&1
rc=$?
sed 's/^/  | /' "$tmp/off"
if [ $rc -eq 0 ] && grep -qx 'check_alloc: ok' "$tmp/off"; then
    ok "not preloaded: exit status 0, allocation works"
else
    bad "not preloaded: exit status $rc"
fi
if grep -qx 'check_alloc: fmp_check_\* absent' "$tmp/off"; then
    ok "not preloaded: the fmp_check_* functions are absent"
else
    bad "not preloaded: the fmp_check_* functions are not reported absent"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
