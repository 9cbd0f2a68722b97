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
};

/* ------------------------------------------------------------------------------------
 * The table of variables: parser (into fmp__g_icv), effective value, documentation.
 * ------------------------------------------------------------------------------------ */

/* what fmp__env_init saw, for the rules that combine variables */
static struct {
    int nested, nested_val, max_levels, spin, places;
} seen;

static int set_num_threads(const char *v)
{
    fmp__icv *g = &fmp__g_icv;
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

static int set_nested(const char *v)
{
    seen.nested = 1;
    return fmp__env_parse_bool(v, &seen.nested_val);
}

static int set_max_active_levels(const char *v)
{
    int x;
    if (fmp__env_parse_positive(v, &x) < 0)
        return FMP_EINVAL;
    seen.max_levels = 1;
    fmp__g_icv.max_active_levels = x > FMP__MAX_LEVELS ? FMP__MAX_LEVELS : x;
    return 0;
}

static int set_thread_limit(const char *v)
{
    return fmp__env_parse_positive(v, &fmp__g_icv.thread_limit);
}

static int set_schedule(const char *v)
{
    return fmp__env_parse_schedule(v, &fmp__g_icv.run_sched);
}

static int set_proc_bind(const char *v)
{
    fmp__icv *g = &fmp__g_icv;
    if (fmp__env_parse_bind_list(v, g->bind, FMP__MAX_LEVELS, &g->bind_len) < 0)
        return FMP_EINVAL;
    for (int i = g->bind_len; i < FMP__MAX_LEVELS; i++)
        g->bind[i] = g->bind[g->bind_len - 1];
    return 0;
}

static int set_places(const char *v)
{
    if (fmp__env_parse_places(v, NULL) < 0)
        return FMP_EINVAL;
    seen.places = 1;
    return fmp__env_parse_trimmed(v, fmp__g_icv.places, sizeof fmp__g_icv.places);
}

static int set_display_env(const char *v)
{
    static const char *const verbose[] = {"verbose", NULL};
    int i;
    if (fmp__env_parse_word(v, verbose, &i) == 0) {
        fmp__g_icv.display_env = 2;
        return 0;
    }
    return fmp__env_parse_bool(v, &fmp__g_icv.display_env);
}

static int set_display_affinity(const char *v)
{
    return fmp__env_parse_bool(v, &fmp__g_icv.display_affinity);
}

static int set_affinity_format(const char *v)
{
    char tmp[sizeof fmp__g_icv.affinity_format];
    if (fmp__env_parse_trimmed(v, tmp, sizeof tmp) < 0 || fmp__affinity_format_check(tmp) < 0)
        return FMP_EINVAL;
    memcpy(fmp__g_icv.affinity_format, tmp, sizeof tmp);
    return 0;
}

static int set_wait_policy(const char *v)
{
    static const char *const words[] = {"active", "passive", NULL};
    int i;
    if (fmp__env_parse_word(v, words, &i) < 0)
        return FMP_EINVAL;
    fmp__g_icv.wait_policy = i == 0 ? FMP__WAIT_ACTIVE : FMP__WAIT_PASSIVE;
    return 0;
}

static int set_shared_size(const char *v)
{
    return fmp__env_parse_size(v, &fmp__g_icv.shared_size);
}

static int set_on_error(const char *v)
{
    static const char *const words[] = {"abort", "return", NULL};
    int i;
    if (fmp__env_parse_word(v, words, &i) < 0)
        return FMP_EINVAL;
    fmp__g_icv.on_error = i == 0 ? FMP_ERRORS_ABORT : FMP_ERRORS_RETURN;
    return 0;
}

static int set_spin_count(const char *v)
{
    seen.spin = 1;
    return fmp__env_parse_spin(v, &fmp__g_icv.spin_count);
}

/* ---- effective values, in OpenMP's display style */

static void show_num_threads(char *b, size_t n)
{
    const fmp__icv *g = &fmp__g_icv;
    if (g->nthreads_len == 0) {
        snprintf(b, n, "%d", g->num_procs);
        return;
    }
    size_t o = 0;
    for (int i = 0; i < g->nthreads_len && o < n; i++)
        o += (size_t)snprintf(b + o, n - o, "%s%d", i ? "," : "", g->nthreads[i]);
}

static void show_nested(char *b, size_t n)
{
    snprintf(b, n, "%s", fmp__g_icv.max_active_levels > 1 ? "TRUE" : "FALSE");
}

static void show_max_active_levels(char *b, size_t n)
{
    snprintf(b, n, "%d", fmp__g_icv.max_active_levels);
}

static void show_thread_limit(char *b, size_t n)
{
    snprintf(b, n, "%d", fmp__g_icv.thread_limit);
}

static void show_schedule(char *b, size_t n)
{
    const fmp_schedule *s = &fmp__g_icv.run_sched;
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

static void show_proc_bind(char *b, size_t n)
{
    const fmp__icv *g = &fmp__g_icv;
    size_t o = 0;
    snprintf(b, n, "FALSE");
    for (int i = 0; i < g->bind_len && o < n; i++)
        o += (size_t)snprintf(b + o, n - o, "%s%s", i ? "," : "", bind_name(g->bind[i]));
}

static void show_places(char *b, size_t n)
{
    snprintf(b, n, "%s", fmp__g_icv.places);
}

static void show_display_env(char *b, size_t n)
{
    int d = fmp__g_icv.display_env;
    snprintf(b, n, "%s", d > 1 ? "VERBOSE" : d ? "TRUE" : "FALSE");
}

static void show_display_affinity(char *b, size_t n)
{
    snprintf(b, n, "%s", fmp__g_icv.display_affinity ? "TRUE" : "FALSE");
}

static void show_affinity_format(char *b, size_t n)
{
    const char *f = fmp__g_icv.affinity_format;
    snprintf(b, n, "%s", *f ? f : FMP__AFFINITY_FORMAT_DEFAULT);
}

static void show_wait_policy(char *b, size_t n)
{
    snprintf(b, n, "%s", fmp__g_icv.wait_policy == FMP__WAIT_ACTIVE ? "ACTIVE" : "PASSIVE");
}

static size_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (size_t)pages * (size_t)psz : 0;
}

static void show_shared_size(char *b, size_t n)
{
    size_t sz = fmp__g_icv.shared_size ? fmp__g_icv.shared_size : physical_memory();
    snprintf(b, n, "%zu", sz);
}

static void show_on_error(char *b, size_t n)
{
    snprintf(b, n, "%s", fmp__g_icv.on_error == FMP_ERRORS_RETURN ? "RETURN" : "ABORT");
}

static void show_spin_count(char *b, size_t n)
{
    snprintf(b, n, "%ld", fmp__g_icv.spin_count);
}

/* The one list.  doc/environment.md is this table, written out by fmp__env_doc_row()
   (env_doc.c); the test suite checks that every row there matches. */
static const struct envvar {
    fmp__envvar_doc d;                   /* name, alias, what is allowed, default, meaning */
    int (*set)(const char *value);       /* into fmp__g_icv: 0 or FMP_EINVAL */
    void (*show)(char *buf, size_t len); /* effective value, for FMP_DISPLAY_ENV */
    int forkmp_only;                     /* shown by FMP_DISPLAY_ENV=verbose only */
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
      "counts them)",
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
    {{"FMP_WAIT_POLICY", "OMP_WAIT_POLICY", "active or passive", "unset: spin a while, then sleep",
      "How members wait: active spins (about 1e9 spins), passive sleeps at once."},
     set_wait_policy,
     show_wait_policy,
     0},
    {{"FMP_SHARED_SIZE", NULL,
      "a number of bytes from 1M to 65536T (64 PiB: no machine maps more), optionally "
      "with K, M, G or T (or KB, KiB and so on: powers of 1024)",
      "the physical memory",
      "Size of the shared arena (fmp_shared_alloc). Address space only: memory is used when "
      "touched."},
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

static __attribute__((noreturn)) void bad_value(const struct envvar *v, const char *name,
                                                const char *value)
{
    /* one line, whatever the value holds: control characters are shown as '?' */
    char shown[256];
    snprintf(shown, sizeof shown, "%s", value);
    for (char *c = shown; *c; c++)
        if (iscntrl((unsigned char)*c))
            *c = '?';
    FMP__SAY(env_bad_value, name, shown, v->d.values);
    exit(1);
}

void fmp__env_init(void)
{
    fmp__icv *g = &fmp__g_icv;
    memset(g, 0, sizeof *g);
    memset(&seen, 0, sizeof seen);
    g->max_active_levels = 1;
    g->thread_limit = INT_MAX;
    g->run_sched = (fmp_schedule){FMP_SCHED_STATIC, 0};
    for (int i = 0; i < FMP__MAX_LEVELS; i++)
        g->bind[i] = FMP__BIND_UNSET;
    g->wait_policy = FMP__WAIT_UNSET;
    g->on_error = FMP_ERRORS_ABORT;
    g->num_procs = fmp__affinity_count();

    for (size_t i = 0; i < NVARS; i++) {
        const char *name = vars[i].d.name;
        const char *value = getenv(name);
        if (!value && vars[i].d.alias) {
            name = vars[i].d.alias;
            value = getenv(name);
        }
        if (value && vars[i].set(value) < 0)
            bad_value(&vars[i], name, value);
    }

    /* the rules that combine variables, as OpenMP and libgomp have them */
    if (!seen.max_levels) {
        if (seen.nested)
            g->max_active_levels = seen.nested_val ? FMP__MAX_LEVELS : 1;
        else if (g->nthreads_len > 1 || g->bind_len > 1)
            g->max_active_levels = FMP__MAX_LEVELS;
    }
    g->nested_set = seen.nested || seen.max_levels;
    if (g->bind_len == 0 && seen.places) {
        g->bind_len = 1;
        for (int i = 0; i < FMP__MAX_LEVELS; i++)
            g->bind[i] = FMP__BIND_TRUE;
    }
    if (!seen.spin)
        g->spin_count = g->wait_policy == FMP__WAIT_PASSIVE  ? 0
                        : g->wait_policy == FMP__WAIT_ACTIVE ? ACTIVE_SPIN
                                                             : DEFAULT_SPIN;
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

void fmp__env_display(int verbose)
{
    /* built whole, then written at once, so that other output never cuts it */
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    if (!out)
        return;
    out[0] = '\0';
    append(&out, &len, &cap, FMP__MSG_env_display_begin, FMP_VERSION_STRING);
    for (size_t i = 0; i < NVARS; i++) {
        if (vars[i].forkmp_only && !verbose)
            continue;
        char val[512];
        vars[i].show(val, sizeof val);
        append(&out, &len, &cap, FMP__MSG_env_display_var, vars[i].d.name, val);
    }
    append(&out, &len, &cap, FMP__MSG_env_display_end);
    print_stderr("%s", out);
    free(out);
}
