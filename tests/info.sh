#!/bin/sh
# forkmp-info run plainly: each field it prints is what a program gets here, checked
# against a program that asks the runtime through the public API (tests/info_probe: the
# team a region of size 0 forks, the members' real affinity, fmp_shared_size(), the
# process's cpus) and against FMP_DISPLAY_ENV's block; with FMP_NUM_THREADS, with a
# cpuset from taskset, with FMP_SHARED_SIZE, with FMP_WAIT_POLICY, with binding; the
# warnings of the catalogue for a team squeezed onto one place and an oversubscribed one;
# --env; --help; bad options (exit 2).
# Exit: 0 pass, 1 fail, 77 skip (not built).
info=${FORKMP_INFO:-./tools/forkmp-info}
probe=${INFO_PROBE:-./tests/info_probe}
msgs=${srcdir:-.}/src/messages.h
test -x "$info" && test -x "$probe" || { echo "SKIP: $info or $probe not built"; exit 77; }
command -v timeout >/dev/null 2>&1 && tmo="timeout 60" || tmo=

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmp_info.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# forkmp's variables and the launchers' unset: each case sets its own
unset=
for v in NUM_THREADS NESTED MAX_ACTIVE_LEVELS THREAD_LIMIT SCHEDULE PROC_BIND PLACES \
         DISPLAY_ENV DISPLAY_AFFINITY AFFINITY_FORMAT WAIT_POLICY; do
    unset="$unset -u FMP_$v -u OMP_$v"
done
unset="$unset -u FMP_SHARED_SIZE -u FMP_ON_ERROR -u FMP_SPIN_COUNT -u GOMP_SPINCOUNT -u FMP_REGION -u FMP_BARRIER_TREE"
unset="$unset -u OMPI_COMM_WORLD_SIZE -u PMIX_RANK -u PMI_RANK -u PMI_SIZE"

# field FILE NAME: the value of NAME=... in the first line of FILE
field() {
    head -n 1 "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# check NAME [taskset CPUS] [VAR=VALUE...]: forkmp-info and the probe under the same
# settings; every field the probe measures must agree
check() {
    n=$1
    shift
    pre=
    if [ "$1" = taskset ]; then
        pre="taskset -c $2"
        shift 2
    fi
    env $unset "$@" $tmo $pre "$info" >"$tmp/$n.info" 2>"$tmp/$n.err"
    rc=$?
    env $unset "$@" $tmo $pre "$probe" >"$tmp/$n.probe" 2>"$tmp/$n.perr"
    prc=$?
    if [ $rc -ne 0 ] || [ $prc -ne 0 ]; then
        bad "$n: forkmp-info exited $rc, the probe $prc"
        cat "$tmp/$n.info" "$tmp/$n.err" "$tmp/$n.probe" "$tmp/$n.perr"
        return 1
    fi
    if [ "$(wc -l <"$tmp/$n.info")" -eq 1 ]; then ok "$n: one line"; else bad "$n: $(wc -l <"$tmp/$n.info") lines, expected 1"; fi
    for f in cpus team arena; do
        a=$(field "$tmp/$n.info" $f)
        b=$(field "$tmp/$n.probe" $f)
        if [ -n "$a" ] && [ "$a" = "$b" ]; then
            ok "$n: $f=$a as the program gets"
        else
            bad "$n: forkmp-info says $f='$a', the program gets '$b'"
        fi
    done
    if [ "$(field "$tmp/$n.info" places)" != unbound ]; then
        a=$(field "$tmp/$n.info" members)
        b=$(field "$tmp/$n.probe" members)
        if [ "$a" = "$b" ]; then ok "$n: members bound to $a"; else bad "$n: forkmp-info says members=$a, the members ran on $b"; fi
    fi
    # the wait policy and spins, as FMP_DISPLAY_ENV=verbose shows the runtime's
    env $unset "$@" FMP_DISPLAY_ENV=verbose $tmo "$probe" >/dev/null 2>"$tmp/$n.disp"
    spin=$(sed -n "s/^  \[host\] FMP_SPIN_COUNT = '\(.*\)'$/\1/p" "$tmp/$n.disp")
    if [ -n "$spin" ] && [ "$(field "$tmp/$n.info" spin)" = "$spin" ]; then ok "$n: spin=$spin"; else bad "$n: spin=$(field "$tmp/$n.info" spin), the runtime shows '$spin'"; fi
}

# msg_regex KEY: the catalogue's format under KEY (src/messages.h) as an extended regex,
# its %d and %s matching any number and any text
msg_regex() {
    awk -v key="$1" '
        $1 == "#define" && $2 == key { on = 1 }
        on {
            line = $0
            while (match(line, /"([^"\\]|\\.)*"/)) {
                s = s substr(line, RSTART + 1, RLENGTH - 2)
                line = substr(line, RSTART + RLENGTH)
            }
            if ($0 !~ /\\$/) { print s; exit }
        }' "$msgs" |
        sed -e 's/[][\\.*^$+?(){}|]/\\&/g' -e 's/%d/[0-9]+/g' -e 's/%s/.*/g'
}

# has NAME FIELD VALUE: forkmp-info's line has FIELD=VALUE
has() {
    v=$(field "$tmp/$1.info" "$2")
    if [ "$v" = "$3" ]; then ok "$1: $2=$3"; else bad "$1: $2='$v', expected $3"; fi
}

ncpu=$(nproc)
last=$((ncpu - 1))

check default
has default from cpuset
has default places unbound
has default wait default
has default mpi no
has default team "$ncpu"
if [ -s "$tmp/default.err" ]; then bad "default: something on stderr: $(cat "$tmp/default.err")"; else ok "default: no warning"; fi

check threads FMP_NUM_THREADS=3
has threads team 3
has threads from FMP_NUM_THREADS
check omp-threads OMP_NUM_THREADS=2
has omp-threads from OMP_NUM_THREADS
check limit FMP_NUM_THREADS=4 FMP_THREAD_LIMIT=2
has limit team 2
has limit from FMP_THREAD_LIMIT

check taskset taskset 0
has taskset cpus 0
has taskset pus 1
has taskset team 1
if [ "$ncpu" -ge 2 ]; then
    check taskset2 taskset "0,$last"
    has taskset2 team 2
    has taskset2 pus 2
fi

check arena FMP_SHARED_SIZE=3M
has arena arena $((3 * 1024 * 1024))

check passive FMP_WAIT_POLICY=passive
has passive wait passive
has passive spin 0
check active OMP_WAIT_POLICY=active
has active wait active
check spins FMP_SPIN_COUNT=5k
has spins spin 5000

# binding: each member where the runtime puts it
check close taskset "0-$last" FMP_PROC_BIND=close FMP_NUM_THREADS="$ncpu" FMP_PLACES=threads
has close bind close
has close places "threads:$ncpu"
if [ -s "$tmp/close.err" ]; then bad "close: a warning where every member has its place"; cat "$tmp/close.err"; else ok "close: no warning"; fi

# squeezed onto one place: the catalogue's warning
check primary FMP_PROC_BIND=primary FMP_NUM_THREADS=2
has primary bind primary
if grep -E -q "^forkmp: $(msg_regex FMP__MSG_team_one_place)$" "$tmp/primary.err" &&
    grep -q '^forkmp: warning: the 2 members' "$tmp/primary.err"; then
    ok "primary: the warning of FMP__MSG_team_one_place"
else
    bad "primary: no FMP__MSG_team_one_place warning"
    cat "$tmp/primary.err"
fi
# more members than cpus: the runtime's oversubscription warning
check oversub taskset 0 FMP_NUM_THREADS=2
if grep -E -q "^forkmp: $(msg_regex FMP__MSG_oversubscribed)$" "$tmp/oversub.err" &&
    grep -q '^forkmp: warning: a team of 2 processes runs on 1 core' "$tmp/oversub.err"; then
    ok "oversub: the runtime's oversubscription warning"
else
    bad "oversub: no oversubscription warning"
    cat "$tmp/oversub.err"
fi
has oversub team_spin 100

# --env: the runtime's own table of effective values after the line
env $unset FMP_NUM_THREADS=1 $tmo "$info" --env >"$tmp/env.out" 2>"$tmp/env.err"
rc=$?
if [ $rc -eq 0 ] && sed -n 2p "$tmp/env.out" | grep -q '^FORKMP DISPLAY ENVIRONMENT BEGIN' &&
    grep -q "^  \[host\] FMP_NUM_THREADS = '1'" "$tmp/env.out" &&
    grep -q "^  \[host\] FMP_SPIN_COUNT = " "$tmp/env.out" &&
    tail -n 1 "$tmp/env.out" | grep -q '^FORKMP DISPLAY ENVIRONMENT END'; then
    ok "--env: the effective environment table"
else
    bad "--env (exit $rc)"
    cat "$tmp/env.out"
fi

# --help: the usage on stdout, exit 0; bad options and arguments: usage error, exit 2
"$info" --help >"$tmp/help.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && head -n 1 "$tmp/help.out" | grep -q '^usage: forkmp-info \[--env\]'; then ok "--help"; else bad "--help (exit $rc)"; cat "$tmp/help.out"; fi
for arg in --bogus -x stray; do
    "$info" "$arg" >"$tmp/bad.out" 2>"$tmp/bad.err"
    rc=$?
    if [ $rc -eq 2 ] && [ ! -s "$tmp/bad.out" ] && grep -q "^forkmp-info: .* '$arg'$" "$tmp/bad.err" &&
        grep -q '^usage: forkmp-info' "$tmp/bad.err"; then
        ok "bad argument $arg: named, usage, exit 2"
    else
        bad "bad argument $arg: exit $rc"
        cat "$tmp/bad.out" "$tmp/bad.err"
    fi
done
# a malformed variable: the runtime's own message and exit status 1
env $unset FMP_NUM_THREADS=zero "$info" >"$tmp/malformed.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^forkmp: FMP_NUM_THREADS='zero': expected" "$tmp/malformed.out"; then ok "malformed FMP_NUM_THREADS: the runtime's message, exit 1"; else bad "malformed FMP_NUM_THREADS: exit $rc"; cat "$tmp/malformed.out"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
