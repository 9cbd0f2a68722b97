#!/bin/sh
# compare-cxx.sh: the README's example.  examples/hello.c must be the first C block of
# README.md, as printed there; its C++ build (hello_cxx) must print what hello prints,
# for teams of 1, 2 and 4.  A test of its own so that it runs without OpenMP.
here=$(dirname "$0")
readme=$here/../README.md
if [ -f "$readme" ]; then
    tmp=$(mktemp "${TMPDIR:-/tmp}/fmp-readme.XXXXXX") || exit 1
    awk '/^```c$/ { f = 1; next } f && /^```$/ { exit } f' "$readme" >"$tmp"
    if ! sed -n '/^#include <forkmp.h>/,$p' "$here/hello.c" | diff -u "$tmp" - ; then
        echo "FAIL: examples/hello.c is not the example of README.md (diff above)"
        rm -f "$tmp"
        exit 1
    fi
    rm -f "$tmp"
    echo "ok: examples/hello.c is the example of README.md"
fi
exec "$here/compare.sh" --cxx
