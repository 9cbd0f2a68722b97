#!/usr/bin/env bash
# scripts/setup.sh: install what forkmp needs, build it, run the examples.
#
#   scripts/setup.sh              packages, autoreconf, configure, make, make run-examples
#   scripts/setup.sh --build      the same without the examples (scripts/check.sh uses it)
#   scripts/setup.sh --deps       only the packages
#   scripts/setup.sh -- ARGS...   pass ARGS to ./configure (also: FMP_CONFIGURE_FLAGS)
#
# On Debian/Ubuntu it installs the missing packages with apt-get (as root, or through sudo),
# and skips apt entirely when everything is installed already.  Safe to run again; needs
# no standard input.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=all
configure_args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --deps) mode=deps ;;
    --build) mode=build ;;
    --) shift; configure_args+=("$@"); break ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ -n "${FMP_CONFIGURE_FLAGS:-}" ]; then
    # shellcheck disable=SC2206  # word splitting wanted: a list of flags
    configure_args=(${FMP_CONFIGURE_FLAGS} ${configure_args[@]+"${configure_args[@]}"})
fi

say() { printf '== setup: %s\n' "$*"; }

# --------------------------------------------------------------------------- packages
packages=(autoconf automake libtool pkg-config libhwloc-dev hwloc libcunit1-dev
          libopenmpi-dev openmpi-bin gcc g++ make doxygen gnuplot-nox valgrind)

install_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        say "not a Debian-like system: install by hand: ${packages[*]}"
        return 0
    fi
    local missing=() p
    for p in "${packages[@]}"; do
        if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "all packages present"
        return 0
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo -n)
        else
            echo "setup.sh: missing packages (${missing[*]}) and not root, no sudo" >&2
            return 1
        fi
    fi
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" </dev/null
}

install_packages
[ "$mode" = deps ] && exit 0

# --------------------------------------------------------------------------- build
jobs=$(nproc 2>/dev/null || echo 2)

say "autoreconf -fi"
autoreconf -fi

say "./configure ${configure_args[*]:-}"
./configure ${configure_args[@]+"${configure_args[@]}"}

say "make -j$jobs"
make -j"$jobs"

[ "$mode" = build ] && exit 0

# --------------------------------------------------------------------------- examples
# Open MPI refuses to run as root without these; the examples may call mpirun.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

if grep -q '^run-examples:' Makefile 2>/dev/null; then
    say "make run-examples"
    make run-examples </dev/null
else
    say "no run-examples target in this tree yet: examples not run"
fi
say "done: libraries in .libs/, next: scripts/check.sh"
