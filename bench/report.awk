# bench/report.awk: turn the result lines of a bench/run (raw.tsv) into results.md on
# stdout, the plot data under outdir/data/ and a gnuplot script outdir/plots.gp.
#
#   awk -f bench/report.awk -v outdir=DIR -v maxm=N DIR/raw.tsv > DIR/results.md
#
# Input lines (tab-separated), see bench/common.h:
#   M key value                 the machine and the run
#   N group text                a note
#   R group figure impl policy members param median min max unit reps [noise]
# Plain POSIX awk (mawk is enough).

BEGIN {
    FS = "\t"
    nrow = 0; nmeta = 0; nnote = 0; nplot = 0
    impl_name["fork"] = "FMP_PARALLEL"
    impl_name["team"] = "persistent team"
    impl_name["flat"] = "persistent team, one barrier counter"
    impl_name["tree"] = "persistent team, combining tree"
    impl_name["omp"] = "libgomp"
    impl_name["warm"] = "FMP_PARALLEL, warm members"
    impl_name["auto"] = "FMP_PARALLEL, FMP_REGION=auto"
    impl_name["bare"] = "bare fork"
    impl_name["nofork"] = "no fork before"
    impl_name["procs"] = "2 processes, shared futex"
    impl_name["threads"] = "2 threads, private futex"
    impl_name["hybrid"] = "fmp_mpi_allreduce"
    impl_name["hybrid-yield"] = "fmp_mpi_allreduce, passive members + MPI yield"
    impl_name["mpi-flat"] = "flat MPI_Allreduce"
    impl_name["mpi-shmwin"] = "MPI-3 shared window"
    system("mkdir -p '" outdir "/data'")
}

$1 == "M" { nmeta++; meta_key[nmeta] = $2; meta_val[nmeta] = $3; meta[$2] = $3; next }
$1 == "N" { nnote++; note_grp[nnote] = $2; note_txt[nnote] = $3; next }
$1 == "R" && NF >= 12 {
    k = key($2, $3, $4, $5, $6, $7)
    if (!(k in med)) {
        nrow++
        row[nrow] = k
        r_grp[nrow] = $2; r_fig[nrow] = $3; r_impl[nrow] = $4; r_pol[nrow] = $5
        r_mem[nrow] = $6; r_par[nrow] = $7
    }
    # the same figure from several rounds: the median of their medians, the extremes
    n = ++nval[k]
    val[k, n] = $8 + 0
    if (n == 1 || $9 + 0 < lo[k]) lo[k] = $9 + 0
    if (n == 1 || $10 + 0 > hi[k]) hi[k] = $10 + 0
    unit[k] = $11; nreps[k] += $12
    med[k] = median_of(k, n)
    # the noise of the figure (EPCC): with rounds, the median of the rounds' own
    if (NF >= 13 && $13 != "-") {
        nv = ++nnoise[k]
        val["noise " k, nv] = $13 + 0
        noise[k] = median_of("noise " k, nv)
    }
    if ($4 == "hybrid-yield")
        have_yield = 1
    if ($6 + 0 > seenmax && $2 != "allreduce")
        seenmax = $6 + 0
    next
}

function key(g, f, i, p, m, x) { return g SUBSEP f SUBSEP i SUBSEP p SUBSEP m SUBSEP x }

# a figure at or below its noise: it cannot be told from zero (or from each other)
function below_noise(k) { return (k in noise) && med[k] <= noise[k] }

function median_of(k, n,    i, j, t, a) {
    for (i = 1; i <= n; i++) a[i] = val[k, i]
    for (i = 2; i <= n; i++) {
        t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
    if (n % 2) return a[(n + 1) / 2]
    return (a[n / 2] + a[n / 2 + 1]) / 2
}

function absv(x) { return x < 0 ? -x : x }

# a number with 3 significant digits, without exponents for the usual ranges
function num(x,    a) {
    a = absv(x)
    if (a >= 1000) return sprintf("%.0f", x)
    if (a >= 100) return sprintf("%.0f", x)
    if (a >= 10) return sprintf("%.1f", x)
    if (a >= 1) return sprintf("%.2f", x)
    if (a >= 0.01) return sprintf("%.3f", x)
    if (a == 0) return "0"
    return sprintf("%.2g", x)
}

function higher_better(u) { return u == "GB/s" || u == "G it/s" || u == "M cells/s" }

# median [min-max] unit, times scaled to ms or s when large
function cell(k,    u, s, m, a, b) {
    if (!(k in med)) return "-"
    u = unit[k]; s = 1
    if (u == "us" && absv(med[k]) >= 1e7) { s = 1e-6; u = "s" }
    else if (u == "us" && absv(med[k]) >= 1e4) { s = 1e-3; u = "ms" }
    if (u == "us") u = "µs"
    if (below_noise(k)) return "below noise (±" num(noise[k] * s) " " u ")"
    m = med[k] * s; a = lo[k] * s; b = hi[k] * s
    if (a == m && b == m) return num(m) " " u
    return num(m) " " u " (" num(a) "–" num(b) ")"
}

function param_name(p,    v, u, i) {
    if (p == "-" || p == "") return ""
    v = p + 0
    if (v == 0) return "0 B"
    split("B KiB MiB GiB TiB", uu, " ")
    i = 1
    while (v >= 1024 && i < 5) { v /= 1024; i++ }
    return (v == int(v) ? sprintf("%d", v) : sprintf("%.1f", v)) " " uu[i]
}

# the comparison of a forkmp row: impl, and the key it is found under ("" for none)
function comparison(i,    g, f, im) {
    g = r_grp[i]; f = r_fig[i]; im = r_impl[i]
    cmp_impl = ""
    if (g == "epcc" && im == "tree")
        cmp_impl = "flat" # the combining tree against one counter, same team
    else if (g == "epcc" || g == "stream" || g == "pi" || g == "stencil" || g == "reduce" || g == "tasks")
        cmp_impl = "omp"
    else if (g == "floor" && (f ~ /^empty region/ || f ~ /^page faults/))
        cmp_impl = "bare"
    else if (g == "floor" && f == "first write after a region")
        cmp_impl = "nofork"
    else if (g == "floor" && f == "members read shared memory" && im == "fork")
        cmp_impl = "team"
    else if (g == "floor" && f == "futex round trip")
        cmp_impl = "threads"
    else if (g == "allreduce")
        cmp_impl = cmp_force != "" ? cmp_force : "mpi-flat"
    else if (g == "regions" && im == "warm" && (f ~ /^sweep/ || f ~ /^short regions/))
        cmp_impl = "team"
    else if (g == "regions" && im == "warm")
        cmp_impl = "fork"
    else if (g == "regions" && im == "fork" && f ~ /^empty region/)
        cmp_impl = "bare"
    else if (g == "regions" && im == "team")
        cmp_impl = "omp"
    if (cmp_impl == "") return ""
    if (g == "allreduce") # flat MPI has no wait policy of forkmp's; hybrid-yield is passive
        return key(g, f, cmp_impl, cmp_impl == "hybrid-yield" ? "passive" : "default", r_mem[i], r_par[i])
    return key(g, f, cmp_impl, r_pol[i], r_mem[i], r_par[i])
}

function is_forkmp(im) { return im == "fork" || im == "team" || im == "flat" || im == "tree" || im == "warm" || im == "auto" || im == "hybrid" || im == "hybrid-yield" || im == "procs" }

# the target of a row: sets tgt_op ("<=", ">=", "<") and tgt_val; returns 1 if any
function target(i,    g, f, im) {
    g = r_grp[i]; f = r_fig[i]; im = r_impl[i]
    tgt_op = ""; tgt_val = 0; tgt_src = ""
    if (g == "epcc" && im == "team" && f == "PARALLEL") { tgt_op = "<="; tgt_val = 2; tgt_src = "issue 3" }
    else if (g == "epcc" && im == "team" && f == "BARRIER") { tgt_op = "<="; tgt_val = 1.5; tgt_src = "issue 3" }
    else if (g == "epcc" && im == "team" && f ~ /^DYNAMIC,[0-9]+ per chunk$/) { tgt_op = "<="; tgt_val = 1.5; tgt_src = "issue 3" }
    else if (g == "epcc" && im == "fork" && f == "BARRIER") { tgt_op = "<="; tgt_val = 3; tgt_src = "issue 2" }
    else if (g == "floor" && im == "fork" && f == "empty region, private memory" && r_par[i] == "0") { tgt_op = "<="; tgt_val = 1.3; tgt_src = "issues 2, 5" }
    else if ((g == "stream" || g == "pi" || g == "stencil") && im == "team" && r_mem[i] > 1) { tgt_op = ">="; tgt_val = 0.95; tgt_src = "issues 3, 5" }
    else if (g == "pi" && im == "fork" && r_mem[i] > 1) { tgt_op = ">="; tgt_val = 0.95; tgt_src = "issue 2" }
    else if (g == "allreduce" && im ~ /^hybrid/ && r_par[i] == "8388608" && cmp_force == "") { tgt_op = "<"; tgt_val = 1; tgt_src = "issue 5" }
    else if (g == "allreduce" && im == "hybrid" && cmp_force == "hybrid-yield" && (r_par[i] == "8388608" || f ~ /in one region$/)) { tgt_op = "<="; tgt_val = 1.05; tgt_src = "oversubscribed nodes" }
    else if (g == "regions" && im == "warm" && f == "empty region, private memory" && r_par[i] == "67108864") { tgt_op = "<="; tgt_val = 0.05; tgt_src = "warm regions" }
    else if (g == "regions" && im == "warm" && f ~ /^sweep/) { tgt_op = "<="; tgt_val = 1.15; tgt_src = "warm regions" }
    else if (g == "regions" && im == "warm" && f ~ /^short regions/) { tgt_op = "<="; tgt_val = 1.10; tgt_src = "warm regions" }
    return tgt_op != ""
}

function met(r) {
    if (tgt_op == "<=") return r <= tgt_val ? "met" : "**missed**"
    if (tgt_op == ">=") return r >= tgt_val ? "met" : "**missed**"
    if (tgt_op == "<") return r < tgt_val ? "met" : "**missed**"
    return ""
}

function target_text(u) {
    if (tgt_op == "") return ""
    return tgt_op " " tgt_val "x"
}

# ratio forkmp / comparison, or "" when it means nothing (no comparison, a comparison at
# the noise floor or negative)
function ratio(k, c,    n, j, m, pr) {
    if (c == "" || !(c in med) || !(k in med)) return ""
    # either side below its noise: no ratio to state
    if (below_noise(k) || below_noise(c)) return ""
    # an overhead at the noise floor, or below it (negative), has no meaningful ratio
    if (unit[k] == "us" && (med[c] < 0.005 || med[k] < 0)) return ""
    if (med[c] <= 0) return ""
    # measured in rounds: the median of the rounds' own ratios (each round ran both sides
    # close together in time, so a slow spell of a shared machine cancels out)
    n = nval[k]
    if (n > 1 && nval[c] == n) {
        m = 0
        for (j = 1; j <= n; j++)
            if (val[c, j] > 0 || val[c, j] < 0) val["ratio", ++m] = val[k, j] / val[c, j]
        if (m == n) {
            nval["ratio"] = m
            return median_of("ratio", m)
        }
    }
    return med[k] / med[c]
}

function figure_text(i,    t, p) {
    t = r_fig[i]
    p = param_name(r_par[i])
    if (r_grp[i] == "floor" && r_fig[i] ~ /^empty region/) t = t " " p
    else if (r_grp[i] == "floor" && r_fig[i] == "futex round trip") t = t
    else if (r_grp[i] == "floor") t = t ", " p
    else if (p != "") t = t ", " p
    t = t " — " impl_name[r_impl[i]]
    if (r_grp[i] == "allreduce") t = t ", " r_mem[i] " processes"
    else if (r_impl[i] == "procs") t = t
    else t = t ", " r_mem[i] " member" (r_mem[i] == 1 ? "" : "s")
    if (r_pol[i] != "default" && r_grp[i] != "allreduce") t = t ", " r_pol[i]
    return t
}

function table_head() {
    print "| figure | forkmp | comparison | ratio | target | met? |"
    print "|---|---|---|---|---|---|"
}

function table_row(i, summary,    k, c, r, rt, ct, tg, mt) {
    k = row[i]; c = comparison(i)
    r = ratio(k, c)
    rt = r == "" ? "n/a" : sprintf("%.2fx", r)
    ct = c == "" ? "-" : cell(c) " " impl_name[cmp_impl]
    if (c != "" && !(c in med)) ct = "- (not measured)"
    tg = ""; mt = ""
    if (target(i)) {
        tg = target_text(unit[k])
        mt = r == "" ? "n/a" : met(r)
        ntarget++
        if (mt == "met") nmet++
    }
    if (summary && tg == "") return
    printf "| %s | %s | %s | %s | %s | %s |\n", figure_text(i), cell(k), ct, rt, tg, mt
}

# the reduction target: 64 MiB reduction bandwidth against the STREAM triad
function reduce_target(m, impl,    k, s, si, r) {
    k = key("reduce", "array reduction bandwidth", impl, "default", m, "67108864")
    si = "omp"
    s = key("stream", "STREAM triad", si, "default", m, "-")
    if (!(s in med)) { si = "team"; s = key("stream", "STREAM triad", si, "default", m, "-") }
    if (!(k in med) || !(s in med) || med[s] <= 0) return ""
    r = med[k] / med[s]
    return sprintf("| array reduction of 64 MiB, effective bandwidth — %s, %d member%s | %s | %s STREAM triad, %s | %.2fx | >= 0.8x | %s |", \
        impl_name[impl], m, m == 1 ? "" : "s", cell(k), cell(s), impl_name[si], r, \
        r >= 0.8 ? "met" : "**missed**")
}

function section(title, g, pol, m,    i, n) {
    n = 0
    for (i = 1; i <= nrow; i++)
        if (r_grp[i] == g && is_forkmp(r_impl[i]) && r_impl[i] != cmp_force && (pol == "" || r_pol[i] == pol) && (m == "" || r_mem[i] == m)) {
            if (n == 0) { print ""; print title; print ""; table_head() }
            table_row(i, 0); n++
        }
    return n
}

# ---------------------------------------------------------------- regions
function rkey(i, im) { return key("regions", r_fig[i], im, r_pol[i], r_mem[i], r_par[i]) }

function rratio(i, a, b,    r) {
    r = ratio(rkey(i, a), rkey(i, b))
    return r == "" ? "n/a" : num(r) "x"
}

function regions_section(    i, j, n, w, seen_r, t, tg, mt, r) {
    n = 0
    for (i = 1; i <= nrow; i++) {
        if (r_grp[i] != "regions" || r_mem[i] != maxm || unit[row[i]] == "MiB") continue
        if (seen_r[r_fig[i], r_par[i]]++) continue
        if (n == 0) {
            print ""
            print "| figure | fork | warm | team | libgomp | bare fork | warm/fork | warm/team | warm/libgomp | target | met? |"
            print "|---|---|---|---|---|---|---|---|---|---|---|"
        }
        n++
        t = r_fig[i]
        if (r_par[i] != "-") t = t ", " param_name(r_par[i])
        tg = ""; mt = ""
        w = 0
        for (j = 1; j <= nrow; j++)
            if (row[j] == rkey(i, "warm")) { w = j; break }
        if (w && target(w)) {
            tg = target_text("")
            r = ratio(row[w], comparison(w))
            mt = r == "" ? "n/a" : met(r) " (" num(r) "x of " cmp_impl ")"
        }
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t, \
            cell(rkey(i, "fork")), cell(rkey(i, "warm")), cell(rkey(i, "team")), \
            cell(rkey(i, "omp")), cell(rkey(i, "bare")), rratio(i, "warm", "fork"), \
            rratio(i, "warm", "team"), rratio(i, "warm", "omp"), tg, mt
    }
    if (n == 0) return 0
    print ""
    print "The members' memory while the master holds 64 MiB of touched private memory, read by"
    print "each member inside a region (/proc/self/status VmRSS, /proc/self/smaps_rollup"
    print "Private_Dirty), summed over the members other than the master:"
    print ""
    print "| figure | fork | warm | team |"
    print "|---|---|---|---|"
    delete seen_r
    for (i = 1; i <= nrow; i++) {
        if (r_grp[i] != "regions" || r_mem[i] != maxm || unit[row[i]] != "MiB") continue
        if (seen_r[r_fig[i], r_par[i]]++) continue
        printf "| %s, %s | %s | %s | %s |\n", r_fig[i], param_name(r_par[i]), \
            cell(rkey(i, "fork")), cell(rkey(i, "warm")), cell(rkey(i, "team"))
    }
    return n
}

# ---------------------------------------------------------------- plot data
function add_series(plot, name, title) {
    if (!((plot SUBSEP name) in series)) {
        series[plot SUBSEP name] = 1
        nser[plot]++
        ser_name[plot, nser[plot]] = name
        ser_title[plot, nser[plot]] = title
    }
}

function plot_point(plot, name, title, x, k,    f) {
    add_series(plot, name, title)
    f = outdir "/data/" plot "_" name ".dat"
    printf "%.10g %.6g %.6g %.6g\n", x, med[k], lo[k], hi[k] > f
}

function write_data(    i, k, g, f, im, x) {
    for (i = 1; i <= nrow; i++) {
        k = row[i]; g = r_grp[i]; f = r_fig[i]; im = r_impl[i]
        if (g == "floor" && f ~ /^empty region/ && r_mem[i] == maxm && r_par[i] + 0 > 0) {
            x = (r_par[i] + 0) / 1048576
            if (f ~ /private/) plot_point("floor", "private_" im, impl_name[im] ", private memory", x, k)
            else plot_point("floor", "shared_" im, impl_name[im] ", shared memory", x, k)
        }
        if (g == "regions" && f == "empty region, private memory" && r_mem[i] == maxm && r_par[i] + 0 > 0)
            plot_point("regions", im, im == "fork" ? "FMP_PARALLEL, a fork per region" : impl_name[im], (r_par[i] + 0) / 1048576, k)
        if (g == "stream" && f == "STREAM triad")
            plot_point("stream", im, impl_name[im], r_mem[i], k)
        if (g == "reduce" && f == "array reduction" && r_mem[i] == maxm && med[k] > 0)
            plot_point("reduce", im, impl_name[im], r_par[i] + 0, k)
        if (g == "allreduce" && med[k] > 0)
            plot_point("allreduce", im, impl_name[im], r_par[i] + 0, k)
    }
    for (i in series) {
        split(i, parts, SUBSEP)
        close(outdir "/data/" parts[1] "_" parts[2] ".dat")
    }
}

function gp_plot(plot, title, xl, yl, logx, logy, xt,    gp, j, sep) {
    if (!(plot in nser)) return
    gp = outdir "/plots.gp"
    print "set output '" plot ".png'" > gp
    print "set title \"" title "\"" > gp
    print "set xlabel \"" xl "\"" > gp
    print "set ylabel \"" yl "\"" > gp
    print (logx ? "set logscale x 2" : "unset logscale x") > gp
    print (logy ? "set logscale y 10" : "unset logscale y") > gp
    print (xt != "" ? "set xtics (" xt ")" : "set xtics autofreq") > gp
    printf "plot " > gp
    sep = ""
    for (j = 1; j <= nser[plot]; j++) {
        printf "%s'data/%s_%s.dat' using 1:2:3:4 with yerrorlines title \"%s\"", sep, plot, ser_name[plot, j], ser_title[plot, j] > gp
        sep = ", \\\n     "
    }
    print "" > gp
    plots[++nplot] = plot ".png: " title
}

function write_gnuplot(    gp, sizes, asizes, mt, m) {
    gp = outdir "/plots.gp"
    print "# written by bench/report.awk: redraw with `gnuplot plots.gp` in this folder" > gp
    print "set terminal png size 960,640" > gp
    print "set termoption noenhanced" > gp
    print "set key left top" > gp
    print "set grid" > gp
    sizes = "\"8 B\" 8, \"64 B\" 64, \"512 B\" 512, \"4 KiB\" 4096, \"32 KiB\" 32768, \"256 KiB\" 262144, \"2 MiB\" 2097152, \"16 MiB\" 16777216, \"64 MiB\" 67108864"
    asizes = "\"8 B\" 8, \"64 B\" 64, \"512 B\" 512, \"4 KiB\" 4096, \"32 KiB\" 32768, \"256 KiB\" 262144, \"2 MiB\" 2097152, \"8 MiB\" 8388608"
    mt = ""
    for (m = 1; m <= maxm; m *= 2) mt = mt (mt == "" ? "" : ", ") m
    if (m / 2 != maxm) mt = mt ", " maxm
    gp_plot("floor", "Empty region vs the master's touched memory, " maxm " members (median, min-max)", "memory touched by the master (MiB)", "microseconds", 1, 1, "")
    gp_plot("regions", "Empty region vs the master's touched private memory, " maxm " members (median, min-max)", "private memory touched by the master (MiB)", "microseconds per region", 1, 1, "")
    gp_plot("stream", "STREAM triad (median, min-max)", "members (threads or processes)", "GB/s", 1, 0, mt)
    gp_plot("reduce", "Array sum reduction, " maxm " members (EPCC method)", "array size", "microseconds per reduction", 1, 1, sizes)
    gp_plot("allreduce", "All-reduce of doubles (processes in all: see results.md)", "message size", "microseconds per all-reduce", 1, 1, asizes)
    close(gp)
}

# ---------------------------------------------------------------- the document
END {
    if (maxm == "") maxm = seenmax
    print "# forkmp benchmarks"
    print ""
    print "Written by `bench/run` on " meta["date"] "."
    print ""
    print "| machine | |"
    print "|---|---|"
    for (i = 1; i <= nmeta; i++) {
        if (meta_key[i] == "date") continue
        printf "| %s | %s |\n", meta_key[i], meta_val[i]
    }
    print ""
    split(meta["load"], ld, " "); split(meta["cpus"], nc, " ")
    if (ld[1] + 0 > nc[1] + 0 && nc[1] + 0 > 0) {
        print "**The machine was loaded** (load average " ld[1] " on " nc[1] " CPUs at the start, " meta["load-end"] "):"
        print "other processes took CPU time from every side, so spreads are wide, and active-policy"
        print "figures measure the scheduler as much as the runtime (a spinning process that loses"
        print "its CPU makes its partner spin for a time slice). Prefer ratios of passive figures"
        print "and of throughput, and re-run when the machine is quiet."
        print ""
    }
    print "Each figure is the median of several repetitions (with several rounds: the median of"
    print "the rounds' medians), with the minimum and maximum in brackets. ratio = forkmp /"
    print "comparison, measured in the same run; with rounds, the median of the ratios of the"
    print "rounds (both sides ran close together in each round), which can differ from the"
    print "ratio of the medians shown. For times (µs, ms) lower is better, for rates (GB/s,"
    print "G it/s, M cells/s) higher is better. FMP_PARALLEL forks at every region; a"
    print "persistent team forks once (fmp_team_create) and runs each region with fmp_team_run;"
    print "libgomp is GCC's OpenMP."

    # ---- targets
    ntarget = 0; nmet = 0
    print ""
    print "## Targets (" maxm " members)"
    print ""
    table_head()
    for (i = 1; i <= nrow; i++)
        if (is_forkmp(r_impl[i]) && (r_mem[i] == maxm || r_grp[i] == "allreduce"))
            table_row(i, 1)
    for (m = 1; m <= maxm; m++) {
        if (m != maxm) continue
        t = reduce_target(m, "team")
        if (t != "") {
            print t
            ntarget++
            if (t ~ /\| met \|$/) nmet++
        }
    }
    print ""
    print nmet " of " ntarget " targets met."

    # ---- EPCC
    print ""
    print "## 1. Synchronisation and scheduling overheads (EPCC method)"
    print ""
    print "Overhead per construct = (test time − reference time) / repetitions; the reference"
    print "runs the same delays (" meta["epcc"] ") in one process. Schedule tests: a loop"
    print "of 1024 iterations per member (8192 with --size large), overhead per loop, and for"
    print "DYNAMIC also per chunk. \"REDUCTION in region\" is a scalar reduction inside an open"
    print "region (OpenMP: `omp for reduction` over one iteration per thread). Each overhead"
    print "has a noise: twice the robust spread (1.4826 × median absolute deviation) of one"
    print "repetition of the test and of the reference, combined, per construct (at least the"
    print "size of a negative median). A median at or below it is shown as \"below noise (±X)\","
    print "on either side, and has no ratio. From 4 members, flat and tree are the persistent"
    print "team with one barrier counter (FMP_BARRIER_TREE=off) and with the combining tree"
    print "(FMP_BARRIER_TREE=2); tree's ratio is against flat: below 1, the tree pays at that size."
    for (pi_ = 1; pi_ <= 3; pi_++) {
        pol = pi_ == 1 ? "active" : pi_ == 2 ? "passive" : "default"
        for (m = 1; m <= 4096; m++) {
            has = 0
            for (i = 1; i <= nrow; i++)
                if (r_grp[i] == "epcc" && r_pol[i] == pol && r_mem[i] == m) { has = 1; break }
            if (has && pol == "default") section("### No wait policy given (oversubscribed: more members than CPUs), " m " members", "epcc", pol, m "")
            else if (has) section("### OMP_WAIT_POLICY=" pol ", " m " members", "epcc", pol, m "")
        }
    }

    # ---- floor
    print ""
    print "## 2. The fork floor and the master's memory"
    print ""
    print "bare fork = fork of members − 1 children that `_exit(0)` at once, reaped with"
    print "`waitpid`: the least a fork-per-region runtime can cost. \"first write after a"
    print "region\": the master writes one byte per page of its private memory after an empty"
    print "FMP_PARALLEL (fork write-protected every page), against the same writes with no"
    print "fork before them. \"members read shared memory\": each member reads its share of"
    print "the block, one word per page."
    section("", "floor", "", "")

    # ---- throughput
    print ""
    print "## 3. Throughput against OpenMP"
    print ""
    print "One region per timed kernel: a STREAM triad over 64 MiB arrays (512 MiB with"
    print "--size large; GB/s counting 24 bytes per index, as STREAM); pi by midpoint"
    print "integration (10^8 intervals, 10^9 large); 10 sweeps of a 5-point Jacobi stencil"
    print "on a 2048² grid (8192² large). forkmp's arrays are fmp_shared_alloc memory."
    section("", "stream", "", "")
    section("", "pi", "", "")
    section("", "stencil", "", "")

    # ---- reductions
    print ""
    print "## 4. Array reductions, 8 B to 64 MiB"
    print ""
    print "EPCC method inside one region: repetitions of (every member fills its array, then"
    print "reduces it), minus repetitions of (fill, then a barrier); so the figure is what a"
    print "reduction costs beyond a barrier. forkmp: fmp_reduce on a persistent team, every"
    print "member gets the sum; OpenMP: `omp for reduction(+ : a[:n])` over one iteration per"
    print "thread. Effective bandwidth = (members + 1) × array bytes / time: every contribution"
    print "read once and the result written once. With one member forkmp only copies in to out."
    section("", "reduce", "", "")
    t = reduce_target(maxm, "team")
    if (t != "") { print t }

    # ---- hybrid
    print ""
    print "## 5. Hybrid all-reduce"
    print ""
    print "fmp_mpi_allreduce from every member of 2 ranks × M members (a persistent team"
    print "per rank, created before MPI_Init) against MPI_Allreduce over 2M ranks, and an"
    print "MPI-3 shared-window all-reduce (MPI_Win_allocate_shared on the node communicator,"
    print "slices combined by the node's ranks) over the same 2M ranks."
    if (section("", "allreduce", "", "") == 0) print "Not measured (see the notes)."
    else {
        cmp_force = "mpi-shmwin"
        print ""
        print "The same against the MPI-3 shared-window all-reduce:"
        section("", "allreduce", "", "")
        cmp_force = ""
        if (have_yield) {
            cmp_force = "hybrid-yield"
            print ""
            print "Default settings against the settings of an oversubscribed node (passive members"
            print "and MPI yield; target: within 1.05x in every row):"
            section("", "allreduce", "", "")
            cmp_force = ""
        }
    }

    # ---- tasks
    print ""
    print "## 6. Tasks"
    print ""
    print "Inside one open region the master creates tasks and waits for them while the other"
    print "members take tasks from the barrier they wait at (bench/tasks.h): 20000 empty tasks"
    print "(µs per task: creation, queueing, stealing, completion), Fibonacci of 27 by recursive"
    print "tasks (serial below 12; µs per computation) and a recursive quicksort of 2·10^6"
    print "integers (serial below 10^4; µs per sort); larger with --size large. forkmp:"
    print "fmp_task / fmp_taskwait, results in shared memory; OpenMP: `#pragma omp task` /"
    print "`taskwait` (`taskgroup` for the sort). libgomp runs a task at once in its creator"
    print "when more than 64 per thread are queued, forkmp when the creator's queue holds 128."
    if (section("", "tasks", "", "") == 0) print "Not measured (see the notes)."

    # ---- regions
    print ""
    print "## 7. Regions: warm, fork, team"
    print ""
    print "The cost of one region seen by the master (bench/regions.h): FMP_PARALLEL with a"
    print "fork per region (FMP_REGION=fork), FMP_PARALLEL with warm members (FMP_REGION=warm:"
    print "a pool forked once, brought up to date with the master's private memory at each"
    print "region), a persistent team (fmp_team_run) and libgomp. \"empty region, P\": the"
    print "master holds P of touched private memory; \"dirtied D\": it holds 64 MiB and writes"
    print "D (a byte per page) before each region, whose time is shown apart; the sweep reads"
    print "and writes 64 MiB of shared memory; the short regions are 100 regions in a row of"
    print "about 1 ms of work, the master changing a private scalar and a private page"
    print "between them (time per region). Ratios: median of the rounds' ratios."
    if (regions_section() == 0) print "Not measured (see the notes)."

    # ---- notes
    if (nnote > 0) {
        print ""
        print "## Notes"
        print ""
        for (i = 1; i <= nnote; i++) {
            if (seen_note[note_grp[i], note_txt[i]]++) continue
            print "- " note_grp[i] ": " note_txt[i]
        }
    }

    # ---- plots
    write_data()
    write_gnuplot()
    if (nplot > 0) {
        print ""
        print "## Plots"
        print ""
        for (i = 1; i <= nplot; i++) {
            split(plots[i], pp, ": ")
            print "- [" pp[1] "](" pp[1] ") " substr(plots[i], length(pp[1]) + 3)
        }
    }
}
