/* The fuzz target over every parser of outside input: the values of the environment
 * variables (fmp__env_parse_*), the affinity format (fmp__affinity_format_check and the
 * expansion behind it), the placement of an FMP_PLACES value (fmp__topo_places), and a
 * whole environment through fmp__env_load, the code fmp__env_init runs at start.
 *
 * An input is a selector byte and a string:
 *
 *     s schedule    b bool      z size        n int list    p proc-bind list
 *     P places      c spin      i positive    w word        t trimmed copy
 *     a affinity format         e environment: NAME=VALUE records separated by NUL bytes
 *
 * Any other first byte picks a target by its value (and the list length or buffer size
 * the target is given).  The string ends at the first NUL; the bytes after it stay in the
 * buffer.  Each string is parsed twice: copied so that its NUL is the last byte before
 * an inaccessible page (a read past the end faults, also without a sanitizer), and in
 * place inside the larger buffer with the rest of the input after its NUL (a parser that
 * reads past the end sees those bytes): both parses must agree.
 *
 * Properties, not only "no crash": a parse that succeeds gives values in the documented
 * ranges (team sizes 1..4096, level lists of at most 16 entries, bind kinds valid, places
 * sorted and unique with ids within the limit, sizes within FMP_SHARED_SIZE's bounds,
 * spin counts >= 0, places inside the allowed cpus); a parse that fails leaves the
 * caller's output untouched (no half-written value); nothing is written past the buffers
 * given.  A broken property prints the target, the input and what broke, then abort().
 *
 * Built twice: with tests/fuzz/driver.c by the ordinary compiler (make check runs it), and
 * with clang's libFuzzer, ASan and UBSan (make fuzz); see HACKING.md. */
#include "env.h"
#include "messages.h"
#include "topo.h"

#include "forkmp_version.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ------------------------------------------------------------------------------------
 * Reporting
 * ------------------------------------------------------------------------------------ */

static const char *g_target = "?";
static const char *g_input; /* the string under test */

static void print_escaped(const char *s, size_t max)
{
    size_t n = 0;
    for (; *s && n < max; s++, n++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == '"')
            fprintf(stderr, "\\%c", c);
        else if (isprint(c))
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    if (*s)
        fprintf(stderr, "...(%zu more bytes)", strlen(s));
}

static __attribute__((noreturn, format(printf, 1, 2))) void broken(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_env: property broken: target %s, input \"", g_target);
    print_escaped(g_input ? g_input : "", 4096);
    fprintf(stderr, "\": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            broken(__VA_ARGS__);                                                                   \
    } while (0)

/* ------------------------------------------------------------------------------------
 * Strings: one copy that ends at an inaccessible page, one inside the larger buffer
 * ------------------------------------------------------------------------------------ */

static char *g_guard_base;
static size_t g_guard_size; /* accessible bytes before the guard page */

/* s (len bytes, no NUL among them) copied so that its terminating NUL is the last
   accessible byte. */
static char *guarded(const char *s, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (len + 1 > g_guard_size) {
        if (g_guard_base)
            munmap(g_guard_base, g_guard_size + page);
        size_t want = (len + 1 + page - 1) / page * page;
        void *p =
            mmap(NULL, want + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED || mprotect((char *)p + want, page, PROT_NONE) < 0) {
            perror("fuzz_env: mmap");
            abort();
        }
        g_guard_base = p;
        g_guard_size = want;
    }
    char *dst = g_guard_base + g_guard_size - (len + 1);
    memcpy(dst, s, len);
    dst[len] = '\0';
    return dst;
}

/* FNV-1a over a result, for comparing the two parses */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}
#define MIX(h, v) ((h) = mix((h), &(v), sizeof(v)))
#define FNV_START 14695981039346656037ULL

/* ------------------------------------------------------------------------------------
 * One target per parser: parse s, check the properties, return a digest of the result
 * ------------------------------------------------------------------------------------ */

static uint64_t t_schedule(const char *s, unsigned aux)
{
    (void)aux;
    const fmp_schedule sentinel = {FMP_SCHED_INVALID, -12345};
    fmp_schedule r = sentinel;
    int rc = fmp__env_parse_schedule(s, &r);
    CHECK(rc == 0 || rc == FMP_EINVAL, "returned %d", rc);
    if (rc == 0)
        CHECK((r.kind == FMP_SCHED_STATIC || r.kind == FMP_SCHED_DYNAMIC ||
               r.kind == FMP_SCHED_GUIDED) &&
                  r.chunk >= 0,
              "accepted as kind %d chunk %ld", (int)r.kind, r.chunk);
    else
        CHECK(r.kind == sentinel.kind && r.chunk == sentinel.chunk,
              "refused but wrote kind %d chunk %ld", (int)r.kind, r.chunk);
    uint64_t h = FNV_START;
    MIX(h, rc);
    MIX(h, r.kind);
    MIX(h, r.chunk);
    return h;
}

static uint64_t t_bool(const char *s, unsigned aux)
{
    (void)aux;
    int v = -7;
    int rc = fmp__env_parse_bool(s, &v);
    CHECK(rc == 0 || rc == FMP_EINVAL, "returned %d", rc);
    CHECK(rc == 0 ? v == 0 || v == 1 : v == -7, "returned %d, value %d", rc, v);
    uint64_t h = FNV_START;
    MIX(h, rc);
    MIX(h, v);
    return h;
}

static uint64_t t_size(const char *s, unsigned aux)
{
    (void)aux;
    size_t v = 77;
    int rc = fmp__env_parse_size(s, &v);
    CHECK(rc == 0 || rc == FMP_EINVAL, "returned %d", rc);
    if (rc == 0)
        CHECK(v >= FMP__SHARED_SIZE_MIN && v <= FMP__SHARED_SIZE_MAX,
              "accepted %zu, outside [%zu, %zu]", v, FMP__SHARED_SIZE_MIN, FMP__SHARED_SIZE_MAX);
    else
        CHECK(v == 77, "refused but wrote %zu", v);
    uint64_t h = FNV_START;
    MIX(h, rc);
    MIX(h, v);
    return h;
}

#define SLACK 4 /* entries after the max a list parser is given: never written */

static int valid_bind(int b)
{
    return b == FMP__BIND_FALSE || b == FMP__BIND_TRUE || b == FMP__BIND_PRIMARY ||
           b == FMP__BIND_CLOSE || b == FMP__BIND_SPREAD;
}

/* int lists (kind 0) and proc-bind lists (kind 1), given max entries */
static uint64_t t_list(const char *s, unsigned aux, int kind)
{
    int max = 1 + (int)(aux % FMP__MAX_LEVELS);
    int out[FMP__MAX_LEVELS + SLACK], len = -1;
    for (int i = 0; i < FMP__MAX_LEVELS + SLACK; i++)
        out[i] = -9;
    int rc = kind ? fmp__env_parse_bind_list(s, out, max, &len)
                  : fmp__env_parse_int_list(s, out, max, &len);
    CHECK(rc == 0 || rc == FMP_EINVAL, "returned %d", rc);
    if (rc == 0) {
        CHECK(len >= 1 && len <= max, "accepted %d entries, max %d", len, max);
        for (int i = 0; i < len; i++)
            CHECK(kind ? valid_bind(out[i]) : out[i] >= 1, "entry %d is %d", i, out[i]);
        if (kind && len > 1)
            for (int i = 0; i < len; i++)
                CHECK(out[i] != FMP__BIND_TRUE && out[i] != FMP__BIND_FALSE,
                      "true or false inside a list of %d", len);
    } else {
        CHECK(len == -1, "refused but set the length to %d", len);
    }
    /* a refused list leaves out untouched; an accepted one only its len entries */
    for (int i = rc == 0 ? len : 0; i < FMP__MAX_LEVELS + SLACK; i++)
        CHECK(out[i] == -9, "%s, max %d, but entry %d was written (%d)",
              rc == 0 ? "accepted" : "refused", max, i, out[i]);
    uint64_t h = FNV_START;
    MIX(h, rc);
    MIX(h, len);
    for (int i = 0; i < (rc == 0 ? len : 0); i++)
        MIX(h, out[i]);
    return h;
}

static uint64_t t_int_list(const char *s, unsigned aux)
{
    return t_list(s, aux, 0);
}

static uint64_t t_bind_list(const char *s, unsigned aux)
{
    return t_list(s, aux, 1);
}

static uint64_t t_spin(const char *s, unsigned aux)
{
    (void)aux;
    long v = -3;
    int rc = fmp__env_parse_spin(s, &v);
    CHECK(rc == 0 || rc == FMP_EINVAL, "returned %d", rc);
    CHECK(rc == 0 ? v >= 0 : v == -3, "returned %d, value %ld", rc, v);
    uint64_t h = FNV_START;
    MIX(h, rc);
    MIX(h, v);
    return h;
}

static uint64_t t_positive(const char *s, unsigned aux)
{
    (void)aux;
    int v = -5;
    int rc = fmp__env_parse_positive(s, &v);
    CHECK(rc == 0 || rc == FMP_EINVAL, "returned %d", rc);
    CHECK(rc == 0 ? v >= 1 : v == -5, "returned %d, value %d", rc, v);
    uint64_t h = FNV_START;
    MIX(h, rc);
    MIX(h, v);
    return h;
}

static uint64_t t_word(const char *s, unsigned aux)
{
    static const char *const words[] = {"active", "passive", "verbose", "a", NULL};
    (void)aux;
    int i = -5;
    int rc = fmp__env_parse_word(s, words, &i);
    CHECK(rc == 0 || rc == FMP_EINVAL, "returned %d", rc);
    CHECK(rc == 0 ? i >= 0 && i < 4 : i == -5, "returned %d, index %d", rc, i);
    if (rc == 0) { /* the word, any case, spaces around it */
        const char *p = s;
        while (isspace((unsigned char)*p))
            p++;
        size_t n = strlen(words[i]);
        CHECK(strncasecmp(p, words[i], n) == 0, "index %d for another word", i);
        for (p += n; *p; p++)
            CHECK(isspace((unsigned char)*p), "index %d with more after the word", i);
    }
    uint64_t h = FNV_START;
    MIX(h, rc);
    MIX(h, i);
    return h;
}

static uint64_t t_trimmed(const char *s, unsigned aux)
{
    size_t cap = 1 + aux % 300;
    char dst[304 + SLACK];
    memset(dst, '#', sizeof dst);
    int rc = fmp__env_parse_trimmed(s, dst, cap);
    CHECK(rc == 0 || rc == FMP_EINVAL, "returned %d", rc);
    for (size_t i = rc == 0 ? strlen(dst) + 1 : 0; i < sizeof dst; i++)
        CHECK(dst[i] == '#', "%s, cap %zu, but byte %zu was written", rc ? "refused" : "accepted",
              cap, i);
    uint64_t h = FNV_START;
    MIX(h, rc);
    if (rc == 0) {
        size_t n = strlen(dst);
        CHECK(n >= 1 && n < cap, "copied %zu bytes into %zu", n, cap);
        CHECK(!isspace((unsigned char)dst[0]) && !isspace((unsigned char)dst[n - 1]),
              "copy not trimmed");
        CHECK(strstr(s, dst) != NULL, "copy not taken from the value");
        h = mix(h, dst, n);
    }
    return h;
}

/* A machine we do not have, loaded once: 2 sockets x 4 cores x 2 PUs, PUs 0-15, and the
   cpus a rank may use on it. */
static hwloc_topology_t g_topo;
static hwloc_bitmap_t g_allowed;

static void load_topology(void)
{
    if (g_topo)
        return;
    if (hwloc_topology_init(&g_topo) < 0 ||
        hwloc_topology_set_synthetic(g_topo, "pack:2 core:4 pu:2") < 0 ||
        hwloc_topology_load(g_topo) < 0) {
        fprintf(stderr, "fuzz_env: cannot load a synthetic topology\n");
        abort();
    }
    g_allowed = hwloc_bitmap_alloc();
    hwloc_bitmap_list_sscanf(g_allowed, "2-13");
}

static uint64_t t_places(const char *s, unsigned aux)
{
    (void)aux;
    fmp__places p;
    memset(&p, 0x5a, sizeof p);
    int rc = fmp__env_parse_places(s, &p);
    CHECK(rc == 0 || rc == FMP_EINVAL, "returned %d", rc);
    CHECK(fmp__env_parse_places(s, NULL) == rc, "the syntax check disagrees (%d)", rc);
    uint64_t h = FNV_START;
    MIX(h, rc);
    if (rc < 0) {
        fmp__places zero;
        memset(&zero, 0, sizeof zero);
        CHECK(memcmp(&p, &zero, sizeof p) == 0, "refused but left a half-written result");
        return h;
    }
    MIX(h, p.kind);
    MIX(h, p.count);
    if (p.kind != FMP__PLACES_EXPLICIT) {
        CHECK(p.kind >= FMP__PLACES_THREADS && p.kind <= FMP__PLACES_NUMA, "kind %d", p.kind);
        CHECK(p.count >= 0 && p.nplaces == 0 && !p.first && !p.ids,
              "abstract name with count %d, %d places", p.count, p.nplaces);
    } else {
        CHECK(p.nplaces >= 1 && p.first && p.ids, "explicit list of %d places", p.nplaces);
        CHECK(p.first[0] == 0, "first place starts at %d", p.first[0]);
        CHECK(p.first[p.nplaces] <= FMP__PLACE_IDS_MAX, "%d ids", p.first[p.nplaces]);
        for (int k = 0; k < p.nplaces; k++) {
            CHECK(p.first[k + 1] > p.first[k], "place %d is empty", k);
            for (int r = p.first[k]; r < p.first[k + 1]; r++) {
                CHECK(p.ids[r] >= 0 && p.ids[r] < FMP__PLACE_ID_LIMIT, "place %d holds %d", k,
                      p.ids[r]);
                CHECK(r == p.first[k] || p.ids[r] > p.ids[r - 1],
                      "place %d not sorted and unique at %d", k, p.ids[r]);
            }
        }
        MIX(h, p.nplaces);
        h = mix(h, p.first, (size_t)(p.nplaces + 1) * sizeof(int));
        h = mix(h, p.ids, (size_t)p.first[p.nplaces] * sizeof(int));
    }
    fmp__env_places_free(&p);
    CHECK(!p.first && !p.ids && p.nplaces == 0, "fmp__env_places_free left pointers");

    /* what the runtime does with a value it accepted (FMP_PLACES holds at most 255
       characters): places inside the allowed cpus, never empty; members on them */
    if (strlen(s) < sizeof fmp__g_icv.places) {
        load_topology();
        hwloc_bitmap_t *places = NULL;
        int n = -1;
        int trc = fmp__topo_places(g_topo, g_allowed, s, &places, &n);
        CHECK(trc == 0, "accepted, but fmp__topo_places returned %d", trc);
        for (int k = 0; k < n; k++)
            CHECK(!hwloc_bitmap_iszero(places[k]) && hwloc_bitmap_isincluded(places[k], g_allowed),
                  "place %d empty or outside the allowed cpus", k);
        fmp__topo_places_free(places, n);
        size_t slen = strlen(s);
        int team = 1 + (int)(slen % 9), bind = FMP__BIND_TRUE + (int)(slen / 9 % 4);
        hwloc_bitmap_t out[9];
        for (int i = 0; i < team; i++)
            out[i] = hwloc_bitmap_alloc();
        trc = fmp__topo_assign(g_topo, g_allowed, s, bind, team, out);
        CHECK(trc == 0 || (trc == FMP_EINVAL && n == 0), "fmp__topo_assign returned %d", trc);
        for (int i = 0; i < team; i++) {
            CHECK(trc < 0 ||
                      (!hwloc_bitmap_iszero(out[i]) && hwloc_bitmap_isincluded(out[i], g_allowed)),
                  "member %d of %d placed outside the allowed cpus", i, team);
            hwloc_bitmap_free(out[i]);
        }
    }
    return h;
}

static uint64_t t_affinity(const char *s, unsigned aux)
{
    int rc = fmp__affinity_format_check(s);
    CHECK(rc == 0 || rc == FMP_EINVAL, "returned %d", rc);
    fmp__affinity_info ai = {"node-17", 4242, (int)(aux % 3) - 1, 2, 3, 8, 1, "0-3,8"};
    /* the whole expansion, then into buffers too small: the same prefix, terminated,
       nothing written past them */
    static char full[1 << 20];
    int n = fmp__affinity_format(full, sizeof full, s, &ai);
    CHECK(rc == 0 ? n >= 0 : n == FMP_EINVAL, "check %d, expansion %d", rc, n);
    uint64_t h = FNV_START;
    MIX(h, rc);
    if (n < 0)
        return h;
    CHECK((size_t)n < sizeof full - 1 ? strlen(full) == (size_t)n : 1,
          "expansion says %d bytes, wrote %zu", n, strlen(full));
    const size_t lens[] = {0, 1, 2, 7, 64, (size_t)n, (size_t)n + 1};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t len = lens[k];
        if (len > 4096)
            continue;
        char small[4096 + 1 + SLACK];
        memset(small, '#', sizeof small);
        int m = fmp__affinity_format(small, len, s, &ai);
        CHECK(m == n, "needs %d bytes with a buffer of %zu, %d with a large one", m, len, n);
        for (size_t i = len; i < sizeof small; i++)
            CHECK(small[i] == '#', "buffer of %zu, byte %zu written", len, i);
        if (len > 0) {
            size_t w = strlen(small);
            CHECK(w < len && memcmp(small, full, w) == 0 &&
                      w == ((size_t)n < len ? (size_t)n : len - 1),
                  "buffer of %zu holds %zu bytes that differ from the expansion", len, w);
        }
    }
    h = mix(h, full, strlen(full));
    return h;
}

/* ---- a whole environment */

#define MAX_PAIRS 64
typedef struct env {
    const char *pair[2 * MAX_PAIRS + 1]; /* name, value, ..., NULL */
} env;

static const char *from_env(const char *name, void *ctx)
{
    const env *e = ctx;
    const char *v = NULL;
    for (int i = 0; e->pair[i]; i += 2) /* the last one set wins, as with setenv */
        if (strcmp(e->pair[i], name) == 0)
            v = e->pair[i + 1];
    return v;
}

static int icv_in_range(const fmp__icv *g)
{
    CHECK(g->nthreads_len >= 0 && g->nthreads_len <= FMP__MAX_LEVELS, "%d team sizes",
          g->nthreads_len);
    for (int i = 0; g->nthreads_len > 0 && i < FMP__MAX_LEVELS; i++)
        CHECK(g->nthreads[i] >= 1 && g->nthreads[i] <= FMP__MAX_TEAM, "team size %d at level %d",
              g->nthreads[i], i + 1);
    CHECK(g->max_active_levels >= 1 && g->max_active_levels <= FMP__MAX_LEVELS,
          "max active levels %d", g->max_active_levels);
    CHECK(g->thread_limit >= 1, "thread limit %d", g->thread_limit);
    CHECK(g->run_sched.kind >= FMP_SCHED_STATIC && g->run_sched.kind <= FMP_SCHED_GUIDED &&
              g->run_sched.chunk >= 0,
          "schedule %d,%ld", (int)g->run_sched.kind, g->run_sched.chunk);
    CHECK(g->bind_len >= 0 && g->bind_len <= FMP__MAX_LEVELS, "%d bind entries", g->bind_len);
    for (int i = 0; i < FMP__MAX_LEVELS; i++)
        CHECK(g->bind_len ? valid_bind(g->bind[i]) : g->bind[i] == FMP__BIND_UNSET,
              "bind %d at level %d with %d entries", g->bind[i], i + 1, g->bind_len);
    CHECK(memchr(g->places, '\0', sizeof g->places) != NULL, "places not terminated");
    CHECK(!g->places[0] || fmp__env_parse_places(g->places, NULL) == 0,
          "stored places do not parse");
    CHECK(g->display_env >= 0 && g->display_env <= 2, "display env %d", g->display_env);
    CHECK(g->display_affinity == 0 || g->display_affinity == 1, "display affinity %d",
          g->display_affinity);
    CHECK(memchr(g->affinity_format, '\0', sizeof g->affinity_format) != NULL,
          "affinity format not terminated");
    CHECK(!g->affinity_format[0] || fmp__affinity_format_check(g->affinity_format) == 0,
          "stored affinity format does not check");
    CHECK(g->shared_size == 0 ||
              (g->shared_size >= FMP__SHARED_SIZE_MIN && g->shared_size <= FMP__SHARED_SIZE_MAX),
          "shared size %zu", g->shared_size);
    CHECK(g->wait_policy == FMP__WAIT_UNSET || g->wait_policy == FMP__WAIT_PASSIVE ||
              g->wait_policy == FMP__WAIT_ACTIVE,
          "wait policy %d", g->wait_policy);
    CHECK(g->spin_count >= 0, "spin count %ld", g->spin_count);
    CHECK(g->on_error == FMP_ERRORS_ABORT || g->on_error == FMP_ERRORS_RETURN, "on error %d",
          g->on_error);
    CHECK(g->num_procs >= 1, "%d procs", g->num_procs);
    return 1;
}

/* FMP_DISPLAY_ENV's block: its first lines, then one line per variable shown, in the
   table's order (all of them when verbose), each "  [host] NAME = 'value'" with no
   control character in the value, then its last line */
static void check_display(const fmp__icv *g, int verbose)
{
    char *text = fmp__env_display_text(g, verbose);
    CHECK(text != NULL, "no display text");
    char begin[256], end[64];
    snprintf(begin, sizeof begin, FMP__MSG_env_display_begin, FMP_VERSION_STRING);
    snprintf(end, sizeof end, FMP__MSG_env_display_end);
    CHECK(strncmp(text, begin, strlen(begin)) == 0, "FMP_DISPLAY_ENV's block starts otherwise");
    const char *line = text + strlen(begin);
    size_t shown = 0, row = 0;
    const fmp__envvar_doc *d;
    while (strcmp(line, end) != 0) {
        const char *nl = strchr(line, '\n');
        CHECK(nl != NULL, "FMP_DISPLAY_ENV's block (verbose %d) ends otherwise", verbose);
        char head[128];
        for (; (d = fmp__env_var_doc(row)); row++) {
            snprintf(head, sizeof head, FMP__MSG_env_display_var, d->name, "");
            head[strlen(head) - 2] = '\0'; /* "  [host] NAME = '" */
            if (strncmp(line, head, strlen(head)) == 0)
                break;
        }
        CHECK(d != NULL, "FMP_DISPLAY_ENV's block (verbose %d), line %zu: \"%.*s\"", verbose,
              shown + 1, (int)(nl - line), line);
        CHECK(nl - line >= (ptrdiff_t)strlen(head) + 1 && nl[-1] == '\'',
              "FMP_DISPLAY_ENV's line of %s is cut", d->name);
        for (const char *c = line; c < nl; c++)
            CHECK(!iscntrl((unsigned char)*c), "FMP_DISPLAY_ENV's line of %s holds byte 0x%02x",
                  d->name, (unsigned char)*c);
        shown++;
        row++;
        line = nl + 1;
    }
    size_t nvars = 0;
    while (fmp__env_var_doc(nvars))
        nvars++;
    CHECK(verbose ? shown == nvars : shown >= 1 && shown < nvars,
          "FMP_DISPLAY_ENV's block (verbose %d) shows %zu of %zu variables", verbose, shown, nvars);
    free(text);
}

static uint64_t env_load(const env *e);

static uint64_t t_env(const char *s, size_t len, unsigned aux)
{
    (void)aux;
    /* NAME=VALUE records, separated by NUL bytes; a record without '=' is skipped */
    static char buf[1 << 16];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    env e;
    int n = 0;
    for (char *r = buf; r < buf + len && n < MAX_PAIRS; r += strlen(r) + 1) {
        char *eq = strchr(r, '=');
        if (!eq)
            continue;
        *eq = '\0';
        e.pair[2 * n] = r;
        e.pair[2 * n + 1] = strdup(eq + 1); /* exactly its size, as the sanitizers check */
        if (!e.pair[2 * n + 1])
            break;
        n++;
    }
    e.pair[2 * n] = NULL;
    uint64_t h = env_load(&e);
    for (int i = 0; i < n; i++)
        free((char *)e.pair[2 * i + 1]);
    return h;
}

static uint64_t env_load(const env *e)
{

    fmp__icv icv, before;
    memset(&icv, 0xa5, sizeof icv);
    before = icv;
    fmp__env_error err = {0};
    int rc = fmp__env_load(&icv, from_env, (void *)e, &err);
    CHECK(rc == 0 || rc == FMP_EINVAL, "fmp__env_load returned %d", rc);
    uint64_t h = FNV_START;
    MIX(h, rc);
    if (rc < 0) {
        CHECK(memcmp(&icv, &before, sizeof icv) == 0, "refused but wrote the ICVs");
        CHECK(err.name && err.expected && err.value, "refused without naming the variable");
        CHECK(from_env(err.name, (void *)e) == err.value, "refused %s, which holds another value",
              err.name);
        const fmp__envvar_doc *d;
        size_t i;
        for (i = 0; (d = fmp__env_var_doc(i)); i++)
            if (strcmp(d->name, err.name) == 0 ||
                (d->alias && strcmp(d->alias, err.name) == 0 && !from_env(d->name, (void *)e)))
                break;
        CHECK(d != NULL, "refused %s, not a variable read under that name", err.name);
        CHECK(err.expected == d->values, "refused %s with another row's text", err.name);
        h = mix(h, err.name, strlen(err.name));
        return h;
    }
    icv_in_range(&icv);
    fmp__icv again;
    CHECK(fmp__env_load(&again, from_env, (void *)e, &err) == 0 &&
              memcmp(&again, &icv, sizeof icv) == 0,
          "a second load differs");
    check_display(&icv, 0);
    check_display(&icv, 1);
    h = mix(h, &icv, sizeof icv);
    return h;
}

/* ------------------------------------------------------------------------------------
 * The entry point
 * ------------------------------------------------------------------------------------ */

typedef uint64_t (*target_fn)(const char *s, unsigned aux);
static const struct {
    char sel;
    const char *name;
    target_fn fn;
} targets[] = {
    {'s', "schedule", t_schedule},
    {'b', "bool", t_bool},
    {'z', "size", t_size},
    {'n', "int list", t_int_list},
    {'p', "proc-bind list", t_bind_list},
    {'P', "places", t_places},
    {'c', "spin count", t_spin},
    {'i', "positive", t_positive},
    {'w', "word", t_word},
    {'t', "trimmed copy", t_trimmed},
    {'a', "affinity format", t_affinity},
    {'e', "environment", NULL},
};
#define NTARGETS (sizeof targets / sizeof targets[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* the target: a letter of the table (list length, buffer size: the largest), or any
       other byte for a target and a size */
    size_t t = NTARGETS;
    unsigned aux = FMP__MAX_LEVELS - 1;
    for (size_t k = 0; k < NTARGETS; k++)
        if (targets[k].sel == (char)data[0])
            t = k;
    if (t == NTARGETS) {
        t = data[0] % NTARGETS;
        aux = data[0] / NTARGETS;
    }
    g_target = targets[t].name;

    /* the rest, in a buffer of its own with a NUL after it (the input is not terminated) */
    size_t len = size - 1;
    char *buf = malloc(len + 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);
    buf[len] = '\0';
    g_input = buf;

    if (!targets[t].fn) {
        t_env(buf, len, aux);
        free(buf);
        g_input = NULL;
        return 0;
    }
    /* the string ends at the first NUL: alone before an inaccessible page, and in place
       with the bytes after it */
    size_t slen = strlen(buf);
    char *alone = guarded(buf, slen);
    g_input = alone;
    uint64_t a = targets[t].fn(alone, aux);
    uint64_t b = targets[t].fn(buf, aux);
    CHECK(a == b, "differs when more bytes follow the string's end");
    free(buf);
    g_input = NULL;
    return 0;
}
