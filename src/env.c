/* The one environment module: every FMP_* / OMP_* variable is read here, from one table
 * that also drives FMP_DISPLAY_ENV and is mirrored by doc/environment.md (env_doc.c writes
 * the table's rows out; env_parse.c holds the parsers of the values).
 *
 * Each variable is read as FMP_X first, then as its OpenMP (or libgomp) alias, so that
 * existing job scripts keep working.  A malformed value is one line on stderr naming the
 * variable, the value and what is allowed, then exit(1): never a silent default. */
#include "env.h"
#include "messages.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forkmp_version.h"

#define DEFAULT_SPIN 300000L    /* libgomp's spins with OMP_WAIT_POLICY unset */
#define ACTIVE_SPIN 1000000000L /* OMP_WAIT_POLICY=active: spin (nearly) for ever */
/* the limits the table's texts spell out */
_Static_assert(FMP__MAX_TEAM == 4096 && FMP__MAX_LEVELS == 16, "update the texts of vars[]");
_Static_assert(FMP__TREE_FANIN == 8 && FMP__TREE_DEFAULT == 16 && FMP__INLINE_SCRATCH == 256,
               "update the text of FMP_BARRIER_TREE in vars[]");
_Static_assert(FMP__SHARED_SIZE_MIN == (size_t)1 << 20 &&
                   (sizeof(size_t) < 8 || FMP__SHARED_SIZE_MAX == (size_t)65536 << 40),
               "update the text of FMP_SHARED_SIZE in vars[]");

fmp__icv fmp__g_icv = {
    .max_active_levels = 1,
    .thread_limit = INT_MAX,
    .run_sched = {FMP_SCHED_STATIC, 0},
    .bind = {[0 ... FMP__MAX_LEVELS - 1] = FMP__BIND_UNSET},
    .wait_policy = FMP__WAIT_UNSET,
    .spin_count = DEFAULT_SPIN,
    .on_error = FMP_ERRORS_ABORT,
    .num_procs = 1,
    .barrier_tree = FMP__TREE_DEFAULT,
};

/* ------------------------------------------------------------------------------------
 * The table of variables: parser (into a load), effective value, documentation.
 * ------------------------------------------------------------------------------------ */

/* A load in progress: the ICVs being filled, and what was seen for the rules that combine
   variables.  Written to the caller's fmp__icv only when every variable parsed. */
typedef struct load {
    fmp__icv icv;
    struct {
        int nested, nested_val, max_levels, spin, places;
    } seen;
} load;

static int set_num_threads(load *l, const char *v)
{
    fmp__icv *g = &l->icv;
    if (fmp__env_parse_int_list(v, g->nthreads, FMP__MAX_LEVELS, &g->nthreads_len) < 0)
        return FMP_EINVAL;
    for (int i = 0; i < g->nthreads_len; i++)
        if (g->nthreads[i] > FMP__MAX_TEAM)
            return FMP_EINVAL;
    /* deeper levels than listed take the last entry, as in OpenMP */
    for (int i = g->nthreads_len; i < FMP__MAX_LEVELS; i++)
        g->nthreads[i] = g->nthreads[g->nthreads_len - 1];
    return 0;
}

static int set_nested(load *l, const char *v)
{
    l->seen.nested = 1;
    return fmp__env_parse_bool(v, &l->seen.nested_val);
}

static int set_max_active_levels(load *l, const char *v)
{
    int x;
    if (fmp__env_parse_positive(v, &x) < 0)
        return FMP_EINVAL;
    l->seen.max_levels = 1;
    l->icv.max_active_levels = x > FMP__MAX_LEVELS ? FMP__MAX_LEVELS : x;
    return 0;
}

static int set_thread_limit(load *l, const char *v)
{
    return fmp__env_parse_positive(v, &l->icv.thread_limit);
}

static int set_schedule(load *l, const char *v)
{
    return fmp__env_parse_schedule(v, &l->icv.run_sched);
}

static int set_proc_bind(load *l, const char *v)
{
    fmp__icv *g = &l->icv;
    if (fmp__env_parse_bind_list(v, g->bind, FMP__MAX_LEVELS, &g->bind_len) < 0)
        return FMP_EINVAL;
    for (int i = g->bind_len; i < FMP__MAX_LEVELS; i++)
        g->bind[i] = g->bind[g->bind_len - 1];
    return 0;
}

static int set_places(load *l, const char *v)
{
    /* the length first: a value too long to keep is refused before it is parsed */
    char tmp[sizeof l->icv.places] = "";
    if (fmp__env_parse_trimmed(v, tmp, sizeof tmp) < 0 || fmp__env_parse_places(tmp, NULL) < 0)
        return FMP_EINVAL;
    l->seen.places = 1;
    memcpy(l->icv.places, tmp, sizeof tmp);
    return 0;
}

static int set_display_env(load *l, const char *v)
{
    static const char *const verbose[] = {"verbose", NULL};
    int i;
    if (fmp__env_parse_word(v, verbose, &i) == 0) {
        l->icv.display_env = 2;
        return 0;
    }
    return fmp__env_parse_bool(v, &l->icv.display_env);
}

static int set_display_affinity(load *l, const char *v)
{
    return fmp__env_parse_bool(v, &l->icv.display_affinity);
}

static int set_affinity_format(load *l, const char *v)
{
    char tmp[sizeof l->icv.affinity_format] = ""; /* copied whole: no stack garbage after the NUL */
    if (fmp__env_parse_trimmed(v, tmp, sizeof tmp) < 0 || fmp__affinity_format_check(tmp) < 0)
        return FMP_EINVAL;
    memcpy(l->icv.affinity_format, tmp, sizeof tmp);
    return 0;
}

static int set_wait_policy(load *l, const char *v)
{
    static const char *const words[] = {"active", "passive", NULL};
    int i;
    if (fmp__env_parse_word(v, words, &i) < 0)
        return FMP_EINVAL;
    l->icv.wait_policy = i == 0 ? FMP__WAIT_ACTIVE : FMP__WAIT_PASSIVE;
    return 0;
}

static int set_region(load *l, const char *v)
{
    static const char *const words[] = {"auto", "warm", "fork", NULL};
    int i;
    if (fmp__env_parse_word(v, words, &i) < 0)
        return FMP_EINVAL;
    l->icv.region = i;
    return 0;
}

static int set_barrier_tree(load *l, const char *v)
{
    static const char *const words[] = {"off", NULL};
    int i, x;
    if (fmp__env_parse_word(v, words, &i) == 0) {
        l->icv.barrier_tree = 0;
        return 0;
    }
    if (fmp__env_parse_positive(v, &x) < 0 || x < 2)
        return FMP_EINVAL;
    l->icv.barrier_tree = x > FMP__MAX_TEAM ? FMP__MAX_TEAM : x;
    return 0;
}

static void show_barrier_tree(const fmp__icv *g, char *b, size_t n)
{
    if (g->barrier_tree == 0)
        snprintf(b, n, "off");
    else
        snprintf(b, n, "%d", g->barrier_tree);
}

static void show_region(const fmp__icv *g, char *b, size_t n)
{
    (void)g;
    fmp__warm_describe(b, n);
}

static int set_check(load *l, const char *v)
{
    return fmp__env_parse_check(v, &l->icv.check, l->icv.check_file, sizeof l->icv.check_file);
}

static void show_check(const fmp__icv *g, char *b, size_t n)
{
    if (!g->check)
        snprintf(b, n, "off");
    else if (g->check_file[0])
        snprintf(b, n, "writes:%s", g->check_file);
    else
        snprintf(b, n, "writes");
}

static int set_shared_size(load *l, const char *v)
{
    return fmp__env_parse_size(v, &l->icv.shared_size);
}

static int set_on_error(load *l, const char *v)
{
    static const char *const words[] = {"abort", "return", NULL};
    int i;
    if (fmp__env_parse_word(v, words, &i) < 0)
        return FMP_EINVAL;
    l->icv.on_error = i == 0 ? FMP_ERRORS_ABORT : FMP_ERRORS_RETURN;
    return 0;
}

static int set_spin_count(load *l, const char *v)
{
    l->seen.spin = 1;
    return fmp__env_parse_spin(v, &l->icv.spin_count);
}

/* ---- effective values, in OpenMP's display style */

static void show_num_threads(const fmp__icv *g, char *b, size_t n)
{
    if (g->nthreads_len == 0) {
        snprintf(b, n, "%d", g->num_procs);
        return;
    }
    size_t o = 0;
    for (int i = 0; i < g->nthreads_len && o < n; i++)
        o += (size_t)snprintf(b + o, n - o, "%s%d", i ? "," : "", g->nthreads[i]);
}

static void show_nested(const fmp__icv *g, char *b, size_t n)
{
    snprintf(b, n, "%s", g->max_active_levels > 1 ? "TRUE" : "FALSE");
}

static void show_max_active_levels(const fmp__icv *g, char *b, size_t n)
{
    snprintf(b, n, "%d", g->max_active_levels);
}

static void show_thread_limit(const fmp__icv *g, char *b, size_t n)
{
    snprintf(b, n, "%d", g->thread_limit);
}

static void show_schedule(const fmp__icv *g, char *b, size_t n)
{
    const fmp_schedule *s = &g->run_sched;
    const char *k = s->kind == FMP_SCHED_DYNAMIC  ? "DYNAMIC"
                    : s->kind == FMP_SCHED_GUIDED ? "GUIDED"
                                                  : "STATIC";
    if (s->chunk > 0)
        snprintf(b, n, "%s,%ld", k, s->chunk);
    else
        snprintf(b, n, "%s", k);
}

static const char *bind_name(int b)
{
    switch (b) {
    case FMP__BIND_TRUE:
        return "TRUE";
    case FMP__BIND_PRIMARY:
        return "PRIMARY";
    case FMP__BIND_CLOSE:
        return "CLOSE";
    case FMP__BIND_SPREAD:
        return "SPREAD";
    default:
        return "FALSE";
    }
}

static void show_proc_bind(const fmp__icv *g, char *b, size_t n)
{
    size_t o = 0;
    snprintf(b, n, "FALSE");
    for (int i = 0; i < g->bind_len && o < n; i++)
        o += (size_t)snprintf(b + o, n - o, "%s%s", i ? "," : "", bind_name(g->bind[i]));
}

static void show_places(const fmp__icv *g, char *b, size_t n)
{
    snprintf(b, n, "%s", g->places);
}

static void show_display_env(const fmp__icv *g, char *b, size_t n)
{
    int d = g->display_env;
    snprintf(b, n, "%s", d > 1 ? "VERBOSE" : d ? "TRUE" : "FALSE");
}

static void show_display_affinity(const fmp__icv *g, char *b, size_t n)
{
    snprintf(b, n, "%s", g->display_affinity ? "TRUE" : "FALSE");
}

static void show_affinity_format(const fmp__icv *g, char *b, size_t n)
{
    const char *f = g->affinity_format;
    snprintf(b, n, "%s", *f ? f : FMP__AFFINITY_FORMAT_DEFAULT);
}

static void show_wait_policy(const fmp__icv *g, char *b, size_t n)
{
    snprintf(b, n, "%s", g->wait_policy == FMP__WAIT_ACTIVE ? "ACTIVE" : "PASSIVE");
}

static size_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (size_t)pages * (size_t)psz : 0;
}

static void show_shared_size(const fmp__icv *g, char *b, size_t n)
{
    size_t sz = g->shared_size ? g->shared_size : physical_memory();
    snprintf(b, n, "%zu", sz);
}

static void show_on_error(const fmp__icv *g, char *b, size_t n)
{
    snprintf(b, n, "%s", g->on_error == FMP_ERRORS_RETURN ? "RETURN" : "ABORT");
}

static void show_spin_count(const fmp__icv *g, char *b, size_t n)
{
    snprintf(b, n, "%ld", g->spin_count);
}

/* The one list.  doc/environment.md is this table, written out by fmp__env_doc_row()
   (env_doc.c); the test suite checks that every row there matches. */
static const struct envvar {
    fmp__envvar_doc d;                      /* name, alias, what is allowed, default, meaning */
    int (*set)(load *l, const char *value); /* into l: 0 or FMP_EINVAL */
    void (*show)(const fmp__icv *g, char *buf, size_t len); /* for FMP_DISPLAY_ENV */
    int forkmp_only; /* shown by FMP_DISPLAY_ENV=verbose only */
} vars[] = {
    {{"FMP_NUM_THREADS", "OMP_NUM_THREADS",
      "a comma list of positive integers (at most 4096 each, 16 entries)",
      "the CPUs this process may run on (under MPI: the rank's share, see fmp_mpi_init)",
      "Team size of a region opened with size 0: entry k for nesting level k+1, the last "
      "entry for deeper levels."},
     set_num_threads,
     show_num_threads,
     0},
    {{"FMP_NESTED", "OMP_NESTED", "true, false, yes, no, 1 or 0 (any case)",
      "false (true when FMP_NUM_THREADS or FMP_PROC_BIND lists several levels)",
      "Nested regions fork teams of their own: sets FMP_MAX_ACTIVE_LEVELS to 16 (true) or 1 "
      "(false). Deprecated in OpenMP; FMP_MAX_ACTIVE_LEVELS wins."},
     set_nested,
     show_nested,
     0},
    {{"FMP_MAX_ACTIVE_LEVELS", "OMP_MAX_ACTIVE_LEVELS",
      "a positive integer (values above 16 mean 16)", "1, see FMP_NESTED",
      "Most nested active regions (teams of more than one member)."},
     set_max_active_levels,
     show_max_active_levels,
     0},
    {{"FMP_THREAD_LIMIT", "OMP_THREAD_LIMIT", "a positive integer", "2147483647 (no limit)",
      "Most processes the teams of a process (an MPI rank) may hold together."},
     set_thread_limit,
     show_thread_limit,
     0},
    {{"FMP_SCHEDULE", "OMP_SCHEDULE",
      "static, dynamic, guided or auto, then optionally a comma and a positive chunk size; "
      "an optional monotonic: or nonmonotonic: prefix is accepted",
      "static", "Schedule of loops with fmp_runtime(). auto is static."},
     set_schedule,
     show_schedule,
     0},
    {{"FMP_PROC_BIND", "OMP_PROC_BIND",
      "true, false, or a comma list of close, spread, primary or master (one per nesting "
      "level)",
      "false (true when FMP_PLACES is set)",
      "Bind members to places: close puts member i on the place after member i-1, spread "
      "spreads the team evenly over the places, primary puts all on the master's place; "
      "true is close."},
     set_proc_bind,
     show_proc_bind,
     0},
    {{"FMP_PLACES", "OMP_PLACES",
      "threads, cores, sockets, ll_caches or numa_domains, each optionally with (n); or "
      "an explicit list of places such as {0,1},{2,3} or {0:4}:4:4 (PU numbers as the OS "
      "counts them), at most 255 characters",
      "cores",
      "Where members may be bound, inside the cpuset of the process (an MPI rank's "
      "binding). Places outside it are dropped."},
     set_places,
     show_places,
     0},
    {{"FMP_DISPLAY_ENV", "OMP_DISPLAY_ENV", "true, false or verbose (or yes, no, 1, 0)", "false",
      "Print the effective values of these variables to stderr at start; verbose adds the "
      "forkmp-only ones."},
     set_display_env,
     show_display_env,
     0},
    {{"FMP_DISPLAY_AFFINITY", "OMP_DISPLAY_AFFINITY", "true, false, yes, no, 1 or 0 (any case)",
      "false", "Print one line per member to stderr when a team starts, in FMP_AFFINITY_FORMAT."},
     set_display_affinity,
     show_display_affinity,
     0},
    {{"FMP_AFFINITY_FORMAT", "OMP_AFFINITY_FORMAT",
      "a format of at most 255 characters with the fields %H (host) %P (pid) %i (pid) "
      "%n (member) %N (team size) %L (level) %a (ancestor's member) %t (0) %T (1) "
      "%A (cpus) %r (MPI rank) %% (%), optionally as %0.8n or %{thread_num}",
      FMP__AFFINITY_FORMAT_DEFAULT,
      "Format of the FMP_DISPLAY_AFFINITY lines; the default shows the rank under MPI."},
     set_affinity_format,
     show_affinity_format,
     0},
    {{"FMP_WAIT_POLICY", "OMP_WAIT_POLICY", "active or passive",
      "unset: spin a while (100 spins while members outnumber the cpus), then sleep",
      "How members wait: active spins (about 1e9 spins), passive sleeps at once."},
     set_wait_policy,
     show_wait_policy,
     0},
    {{"FMP_REGION", NULL, "auto, warm or fork", "auto",
      "How FMP_PARALLEL and fmp_parallel bring up their members: fork forks them at every "
      "region; warm forks them once and, at each later region of the same size, brings "
      "them up to date with the master's memory (fork's semantics, without the fork); auto "
      "is warm where the kernel and the process allow it (Linux 6.7, x86-64; in a process "
      "with other threads, MPI's, a region opened by its first thread while the others "
      "stand still in their waits), fork elsewhere. FMP_DISPLAY_ENV says which, and why."},
     set_region,
     show_region,
     0},
    {{"FMP_CHECK", NULL, "writes, writes:FILE, or off", "off",
      "The lost-write detector: at the end of every FMP_PARALLEL region, each member other "
      "than the master reports the private memory it wrote that the master had before the "
      "region (a global by its name, a heap block or a private mapping by where it was "
      "made, a local of a function enclosing the region by its function), which the join "
      "throws away: one line on stderr per place, once per run; with :FILE also a JSON "
      "line per place, appended to FILE. Costs a snapshot of the master at every region "
      "(one more warm member, or a fork), the members' write tracking and a comparison; "
      "nothing without it."},
     set_check,
     show_check,
     1},
    {{"FMP_BARRIER_TREE", NULL, "an integer from 2 (team size), or off", "16",
      "Teams of this many members or more arrive at their barriers through a tree of "
      "counters, at most 8 arrivals a counter, that follows the topology when the members "
      "are bound (L3 caches, NUMA nodes, packages; each counter in memory of its members' "
      "NUMA node), and combine their small reductions (256 bytes a member at most) along "
      "it; smaller teams use one counter. off: one counter always."},
     set_barrier_tree,
     show_barrier_tree,
     1},
    {{"FMP_SHARED_SIZE", NULL,
      "a number of bytes from 1M to 65536T (64 PiB: no machine maps more), optionally "
      "with K, M, G or T (or KB, KiB and so on: powers of 1024)",
      "the physical memory",
      "Size of the shared arena (fmp_shared_alloc). Address space only: memory is used when "
      "touched. Under valgrind the default is 256 MiB, said on stderr: memcheck's leak check "
      "reads every page of the arena at each process's end, which makes it resident."},
     set_shared_size,
     show_shared_size,
     1},
    {{"FMP_ON_ERROR", NULL, "abort or return", "abort",
      "What a failed region does: end the program with status 70, or return the error "
      "(fmp_set_error_mode)."},
     set_on_error,
     show_on_error,
     1},
    {{"FMP_SPIN_COUNT", "GOMP_SPINCOUNT",
      "a non-negative integer, optionally with k, M, G or T (powers of 1000), or infinity",
      "300000; 0 with FMP_WAIT_POLICY=passive, 1000000000 with active",
      "Spins before a waiting member sleeps."},
     set_spin_count,
     show_spin_count,
     1},
};

#define NVARS (sizeof vars / sizeof vars[0])

const fmp__envvar_doc *fmp__env_var_doc(size_t i)
{
    return i < NVARS ? &vars[i].d : NULL;
}

/* ------------------------------------------------------------------------------------
 * Initialisation and display
 * ------------------------------------------------------------------------------------ */

static __attribute__((noreturn)) void bad_value(const fmp__env_error *e)
{
    /* one line, whatever the value holds: control characters are shown as '?' */
    char shown[256];
    snprintf(shown, sizeof shown, "%s", e->value);
    for (char *c = shown; *c; c++)
        if (iscntrl((unsigned char)*c))
            *c = '?';
    FMP__SAY(env_bad_value, e->name, shown, e->expected);
    exit(1);
}

int fmp__env_load(fmp__icv *out, const char *(*get)(const char *name, void *ctx), void *ctx,
                  fmp__env_error *err)
{
    load l;
    fmp__icv *g = &l.icv;
    memset(&l, 0, sizeof l);
    g->max_active_levels = 1;
    g->thread_limit = INT_MAX;
    g->run_sched = (fmp_schedule){FMP_SCHED_STATIC, 0};
    for (int i = 0; i < FMP__MAX_LEVELS; i++)
        g->bind[i] = FMP__BIND_UNSET;
    g->wait_policy = FMP__WAIT_UNSET;
    g->on_error = FMP_ERRORS_ABORT;
    g->barrier_tree = FMP__TREE_DEFAULT;
    g->num_procs = fmp__affinity_count();

    for (size_t i = 0; i < NVARS; i++) {
        const char *name = vars[i].d.name;
        const char *value = get(name, ctx);
        if (!value && vars[i].d.alias) {
            name = vars[i].d.alias;
            value = get(name, ctx);
        }
        if (value && vars[i].set(&l, value) < 0) {
            *err = (fmp__env_error){name, value, vars[i].d.values};
            return FMP_EINVAL;
        }
        if (value && vars[i].set == set_num_threads)
            g->nthreads_name = name;
    }

    /* the rules that combine variables, as OpenMP and libgomp have them */
    if (!l.seen.max_levels) {
        if (l.seen.nested)
            g->max_active_levels = l.seen.nested_val ? FMP__MAX_LEVELS : 1;
        else if (g->nthreads_len > 1 || g->bind_len > 1)
            g->max_active_levels = FMP__MAX_LEVELS;
    }
    g->nested_set = l.seen.nested || l.seen.max_levels;
    if (g->bind_len == 0 && l.seen.places) {
        g->bind_len = 1;
        for (int i = 0; i < FMP__MAX_LEVELS; i++)
            g->bind[i] = FMP__BIND_TRUE;
    }
    g->spin_explicit = l.seen.spin || g->wait_policy == FMP__WAIT_ACTIVE;
    if (!l.seen.spin)
        g->spin_count = g->wait_policy == FMP__WAIT_PASSIVE  ? 0
                        : g->wait_policy == FMP__WAIT_ACTIVE ? ACTIVE_SPIN
                                                             : DEFAULT_SPIN;
    *out = l.icv;
    return 0;
}

static const char *from_environ(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

void fmp__env_init(void)
{
    fmp__env_error e;
    if (fmp__env_load(&fmp__g_icv, from_environ, NULL, &e) < 0)
        bad_value(&e);
}

/* One write to stderr, under the output lock once the arena exists (fmp__vprint). */
static __attribute__((format(printf, 1, 2))) void print_stderr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmp__vprint(2, fmt, ap);
    va_end(ap);
}

/* Append a formatted line to a growing buffer; on ENOMEM the line is dropped. */
static __attribute__((format(printf, 4, 5))) void append(char **buf, size_t *len, size_t *cap,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (*len + (size_t)need + 1 > *cap) {
        size_t ncap = 2 * *cap + (size_t)need + 1;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return;
        *buf = nb;
        *cap = ncap;
    }
    va_start(ap, fmt);
    *len += (size_t)vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
}

char *fmp__env_display_text(const fmp__icv *icv, int verbose)
{
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    append(&out, &len, &cap, FMP__MSG_env_display_begin, FMP_VERSION_STRING);
    for (size_t i = 0; i < NVARS; i++) {
        if (vars[i].forkmp_only && !verbose)
            continue;
        char val[512];
        vars[i].show(icv, val, sizeof val);
        /* one line per variable, whatever a value holds (FMP_PLACES may hold a newline,
           FMP_AFFINITY_FORMAT any byte): control characters are shown as '?' */
        for (char *c = val; *c; c++)
            if (iscntrl((unsigned char)*c))
                *c = '?';
        append(&out, &len, &cap, FMP__MSG_env_display_var, vars[i].d.name, val);
    }
    append(&out, &len, &cap, FMP__MSG_env_display_end);
    return out;
}

void fmp__env_display(int verbose)
{
    /* built whole, then written at once, so that other output never cuts it */
    char *out = fmp__env_display_text(&fmp__g_icv, verbose);
    if (out)
        print_stderr("%s", out);
    free(out);
}
