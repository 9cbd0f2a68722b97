#!/bin/sh
# src/mpi/gen-wrappers.sh: writes libforkmp_mpi's MPI wrappers from the mpi.h of the MPI
# installation the build uses (run by src/mpi/local.mk at build time; never committed).
#
#   gen-wrappers.sh OUT CPP LINK MAP
#     OUT   prefix of what it writes: OUT.c (one wrapper per MPI function), OUT.list (the
#           names wrapped, one a line), OUT.skipped ("NAME REASON" for each MPI function
#           of mpi.h left unwrapped), OUT.map (MAP with the wrapped names added)
#     CPP   the preprocessor command with MPI's flags ("gcc -E -I...")
#     LINK  a command that links a C file named last with MPI ("gcc ... -lmpi" is run as
#           LINK -o FILE SRC ... MPI_LIBS: given as "gcc -flags", then the libraries in $LIBS)
#     MAP   libforkmp_mpi's version script (src/mpi/libforkmp_mpi.map)
#
# Every function that mpi.h declares as PMPI_NAME gets
#     RET MPI_NAME(PARAMS) { check; return PMPI_NAME(ARGS); }
# where check is one branch on a flag that forkmp sets in each member it forks: a member
# that calls MPI fails its team (src/mpi/hybrid.c, fmp__mpi_member_called).  mpi.h is
# read through the preprocessor, so what it hides behind macros is seen as a C program
# sees it; Open MPI's removed MPI-1 functions are declared (OMPI_OMIT_MPI1_COMPAT_DECLS=0)
# so that they are wrapped when the library still has them.  A variadic function
# (MPI_Pcontrol) passes its named arguments on.  A function whose PMPI_ symbol does not
# link is left out, and said in OUT.skipped.  Exit status non-zero, with a message, when
# a declaration cannot be read.
set -u
out=$1 cpp=$2 link=$3 map=$4
libs=${LIBS:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmp-wrap.XXXXXX") || exit 1
[ -n "${FMP_GEN_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

prelude='#define OMPI_OMIT_MPI1_COMPAT_DECLS 0
#include <mpi.h>'
printf '%s\n' "$prelude" >"$tmp/in.c"
# shellcheck disable=SC2086  # CPP holds words
if ! $cpp "$tmp/in.c" >"$tmp/mpi.i" 2>"$tmp/cpp.err"; then
    echo "gen-wrappers.sh: the preprocessor failed on mpi.h:" >&2
    cat "$tmp/cpp.err" >&2
    exit 1
fi

# One line per PMPI function: "RET<TAB>NAME<TAB>PARAMS<TAB>ARGS", NAME without "PMPI_",
# ARGS the names to pass on ("" for none).  Unnamed parameters get names a0, a1, ...
awk '
function trim(s) { sub(/^[ \t\n]+/, "", s); sub(/[ \t\n]+$/, "", s); return s }
# drop __attribute__((...)) and __asm__(...) (balanced parentheses)
function strip_attr(s,    i, j, d, c, out, kw) {
    out = ""
    while (match(s, /(__attribute__|__asm__|__asm)[ \t\n]*\(/)) {
        out = out substr(s, 1, RSTART - 1)
        i = RSTART + RLENGTH - 1
        d = 0
        for (j = i; j <= length(s); j++) {
            c = substr(s, j, 1)
            if (c == "(") d++
            else if (c == ")" && --d == 0) break
        }
        s = substr(s, j + 1)
    }
    return out s
}
function is_kw(w) {
    return w ~ /^(void|char|short|int|long|float|double|signed|unsigned|_Bool|const|volatile|restrict|struct|union|enum)$/
}
# one parameter: sets PNAME (its name, given one if it had none) and PTEXT (with it)
function param(p, k,    q, w, before) {
    p = trim(p)
    if (index(p, "(*") > 0) {            # a function pointer: the name follows (*
        q = substr(p, index(p, "(*") + 2)
        if (match(q, /^[ \t]*[A-Za-z_][A-Za-z0-9_]*/)) {
            PNAME = trim(substr(q, RSTART, RLENGTH)); PTEXT = p; return 1
        }
        return 0
    }
    q = p
    while (match(q, /\[[^]]*\][ \t]*$/))  # arrays: the name is before the brackets
        q = substr(q, 1, RSTART - 1)
    q = trim(q)
    if (match(q, /[A-Za-z_][A-Za-z0-9_]*$/)) {
        w = substr(q, RSTART)
        before = trim(substr(q, 1, RSTART - 1))
        gsub(/(^|[ \t])(const|volatile|restrict|struct|union|enum)([ \t]|$)/, " ", before)
        if (!is_kw(w) && trim(before) != "") { PNAME = w; PTEXT = p; return 1 }
    }
    if (q != p) return 0                 # an unnamed array: not taken
    PNAME = "a" k; PTEXT = p " " PNAME
    return 1
}
{ text = text $0 "\n" }
END {
    # statements at brace depth 0
    n = 0; depth = 0; cur = ""
    for (i = 1; i <= length(text); i++) {
        c = substr(text, i, 1)
        if (c == "{") { depth++; cur = cur c; continue }
        if (c == "}") { depth--; cur = cur c; if (depth == 0) { st[++n] = cur; cur = "" } continue }
        if (c == ";" && depth == 0) { st[++n] = cur; cur = ""; continue }
        cur = cur c
    }
    bad = 0
    for (s = 1; s <= n; s++) {
        d = st[s]
        if (index(d, "{") || d ~ /(^|[^A-Za-z0-9_])typedef[^A-Za-z0-9_]/) continue
        if (!match(d, /(^|[^A-Za-z0-9_])PMPI_[A-Za-z0-9_]+[ \t\n]*\(/)) continue
        d = strip_attr(d)
        gsub(/\n/, " ", d)
        if (!match(d, /(^|[^A-Za-z0-9_])PMPI_[A-Za-z0-9_]+[ \t]*\(/)) continue
        head = substr(d, 1, RSTART + RLENGTH - 2)
        rest = substr(d, RSTART + RLENGTH)
        sub(/[ \t]+$/, "", head)
        name = head; sub(/^.*PMPI_/, "", name); sub(/[ \t]+$/, "", name)
        ret = substr(head, 1, length(head) - length("PMPI_" name))
        sub(/PMPI_[A-Za-z0-9_]*[ \t]*$/, "", ret)
        gsub(/(^|[ \t])(extern|__extension__|static|inline)([ \t]|$)/, " ", ret)
        ret = trim(ret)
        # the parameter list: up to the matching parenthesis
        dd = 1; plist = ""
        for (j = 1; j <= length(rest); j++) {
            c = substr(rest, j, 1)
            if (c == "(") dd++
            else if (c == ")" && --dd == 0) break
            plist = plist c
        }
        if (dd != 0 || trim(substr(rest, j + 1)) != "" || ret == "") {
            print "gen-wrappers.sh: cannot read the declaration of PMPI_" name ": " d > "/dev/stderr"
            bad = 1; continue
        }
        # split at top-level commas
        np = 0; p = ""; dd = 0
        for (j = 1; j <= length(plist); j++) {
            c = substr(plist, j, 1)
            if (c == "(" || c == "[") dd++
            else if (c == ")" || c == "]") dd--
            if (c == "," && dd == 0) { ps[++np] = p; p = ""; continue }
            p = p c
        }
        ps[++np] = p
        params = ""; args = ""
        if (!(np == 1 && trim(ps[1]) == "void")) {
            for (k = 1; k <= np; k++) {
                if (trim(ps[k]) == "...") { params = params ", ..."; continue }
                if (!param(ps[k], k - 1)) {
                    print "gen-wrappers.sh: cannot read parameter " k " of PMPI_" name ": " ps[k] > "/dev/stderr"
                    bad = 1; continue
                }
                params = params ", " PTEXT; args = args ", " PNAME
            }
        }
        params = params == "" ? "void" : substr(params, 3)
        args = substr(args, 3)
        if (seen[name]++) continue
        print ret "\t" name "\t" params "\t" args
    }
    exit bad
}' "$tmp/mpi.i" >"$tmp/decls" || exit 1

# The MPI_ functions a C program sees (to say which ones have no PMPI_ twin).
grep -o '\(^\|[^A-Za-z0-9_]\)MPI_[A-Za-z0-9_]*[[:space:]]*(' "$tmp/mpi.i" |
    sed 's/^.*MPI_//; s/[[:space:]]*($//' |
    sort -u >"$tmp/mpi_called"
grep -o '[^A-Za-z0-9_]PMPI_[A-Za-z0-9_]*[[:space:]]*(' "$tmp/mpi.i" >/dev/null ||
    { echo "gen-wrappers.sh: mpi.h declares no PMPI_ function (no profiling interface?)" >&2; exit 1; }
if [ ! -s "$tmp/decls" ]; then
    echo "gen-wrappers.sh: no PMPI_ declaration read from mpi.h" >&2
    exit 1
fi

# Which PMPI_ symbols the library has: one program that takes the address of each; the
# linker names those it cannot find.
{
    printf '%s\n' "$prelude"
    echo 'typedef void (*fmp_fn)(void);'
    echo 'static const fmp_fn fmp_all[] = {'
    awk -F '\t' '{ print "    (fmp_fn)PMPI_" $2 "," }' "$tmp/decls"
    echo '};'
    echo 'int main(void) { return fmp_all[0] == 0; }'
} >"$tmp/probe.c"
# shellcheck disable=SC2086  # LINK and LIBS hold words
$link -w -o "$tmp/probe" "$tmp/probe.c" $libs >"$tmp/link.out" 2>&1
sed -n "s/.*undefined reference to \`PMPI_\([A-Za-z0-9_]*\)'.*/\1/p; s/.*undefined symbol: PMPI_\([A-Za-z0-9_]*\).*/\1/p" \
    "$tmp/link.out" | sort -u >"$tmp/absent"
if [ ! -f "$tmp/probe" ] && [ ! -s "$tmp/absent" ]; then
    echo "gen-wrappers.sh: cannot link a program with MPI's PMPI_ functions:" >&2
    cat "$tmp/link.out" >&2
    exit 1
fi
awk -F '\t' -v absent="$tmp/absent" '
    BEGIN { while ((getline n < absent) > 0) gone[n] = 1 }
    !($2 in gone)' "$tmp/decls" >"$tmp/kept"

# OUT.c
{
    echo '/* Generated by src/mpi/gen-wrappers.sh from mpi.h: one wrapper per MPI function.'
    echo '   Do not edit: a build product. */'
    printf '%s\n' "$prelude"
    echo '#include "mpi/hybrid.h" /* -I$(top_srcdir)/src: also in a VPATH build */'
    echo '#pragma GCC diagnostic ignored "-Wdeprecated-declarations"'
    echo '#pragma GCC diagnostic ignored "-Wmissing-prototypes"'
    awk -F '\t' '{
        call = "PMPI_" $2 "(" $4 ")"
        printf "\nFMP__MPI_WRAPPER %s MPI_%s(%s)\n{\n    FMP__MPI_CHECK(\"MPI_%s\");\n", $1, $2, $3, $2
        if ($1 == "void")
            printf "    %s;\n}\n", call
        else
            printf "    return %s;\n}\n", call
    }' "$tmp/kept"
} >"$tmp/out.c"

awk -F '\t' '{ print "MPI_" $2 }' "$tmp/kept" | sort >"$tmp/out.list"
{
    awk '{ print "MPI_" $1, "no PMPI_" $1 " in the library" }' "$tmp/absent"
    awk -F '\t' '{ print $2 }' "$tmp/decls" | sort >"$tmp/has_pmpi"
    comm -23 "$tmp/mpi_called" "$tmp/has_pmpi" | sed 's/.*/MPI_& a macro or no PMPI_& declared/'
} | sort >"$tmp/out.skipped"
# the version script: the committed one with the wrapped names added to its global part
awk -v list="$tmp/out.list" '
    /^[ \t]*local:/ && !done {
        print "    /* the MPI wrappers: generated from mpi.h by src/mpi/gen-wrappers.sh */"
        while ((getline n < list) > 0) print "    " n ";"
        done = 1
    }
    { print }
    END { if (!done) { print "gen-wrappers.sh: no local: in the version script" > "/dev/stderr"; exit 1 } }' \
    "$map" >"$tmp/out.map" || exit 1

for f in c list skipped map; do
    mv "$tmp/out.$f" "$out.$f" || exit 1
done
echo "gen-wrappers.sh: $(wc -l <"$out.list" | tr -d ' ') MPI functions wrapped, $(wc -l <"$out.skipped" | tr -d ' ') left out ($out.skipped)"
