/* The one environment module: every FMP_* / OMP_* variable is parsed here, from one table
 * that also drives FMP_DISPLAY_ENV and is mirrored by doc/environment.md.
 *
 * Each variable is read as FMP_X first, then as its OpenMP (or libgomp) alias, so that
 * existing job scripts keep working.  A malformed value is one line on stderr naming the
 * variable, the value and what is allowed, then exit(1): never a silent default.  The parse
 * helpers below return 0 or FMP_EINVAL and never exit (the tests call them). */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "forkmp_version.h"

#define DEFAULT_SPIN 300000L    /* libgomp's spins with OMP_WAIT_POLICY unset */
#define ACTIVE_SPIN 1000000000L /* OMP_WAIT_POLICY=active: spin (nearly) for ever */
#define MAX_PLACE_IDS (1 << 20) /* resources an explicit place list may expand to */
#define MAX_PLACE_ID (1 << 20)  /* largest PU number in an explicit place list */
/* the limits the table's texts spell out */
_Static_assert(FMP__MAX_TEAM == 4096 && FMP__MAX_LEVELS == 16, "update the texts of vars[]");

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
 * Lexical helpers: whitespace is allowed around every token.
 * ------------------------------------------------------------------------------------ */

static const char *skip_ws(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

static int at_end(const char *s)
{
    return *skip_ws(s) == '\0';
}

/* Unsigned decimal number at *p (after optional spaces); no sign.  0 or FMP_EINVAL. */
static int lex_ulong(const char **p, unsigned long max, unsigned long *out)
{
    const char *s = skip_ws(*p);
    if (!isdigit((unsigned char)*s))
        return FMP_EINVAL;
    unsigned long v = 0;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return FMP_EINVAL; /* overflow */
        v = v * 10 + d;
        s++;
    }
    *out = v;
    *p = skip_ws(s);
    return 0;
}

/* Signed decimal number (optional + or -).  0 or FMP_EINVAL. */
static int lex_long(const char **p, long *out)
{
    const char *s = skip_ws(*p);
    int neg = 0;
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
    }
    if (!isdigit((unsigned char)*s))
        return FMP_EINVAL;
    unsigned long v;
    if (lex_ulong(&s, (unsigned long)LONG_MAX, &v) < 0)
        return FMP_EINVAL;
    *out = neg ? -(long)v : (long)v;
    *p = s;
    return 0;
}

/* A word (letters, digits, '_') at *p, compared case-insensitively with w. */
static int lex_word(const char **p, const char *w)
{
    const char *s = skip_ws(*p);
    size_t n = strlen(w);
    if (strncasecmp(s, w, n) != 0)
        return 0;
    if (isalnum((unsigned char)s[n]) || s[n] == '_')
        return 0;
    *p = skip_ws(s + n);
    return 1;
}

/* ------------------------------------------------------------------------------------
 * Parse helpers (internal.h)
 * ------------------------------------------------------------------------------------ */

int fmp__env_parse_bool(const char *s, int *out)
{
    static const struct {
        const char *w;
        int v;
    } words[] = {{"true", 1}, {"yes", 1}, {"1", 1}, {"false", 0}, {"no", 0}, {"0", 0}};
    if (!s)
        return FMP_EINVAL;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        const char *p = s;
        if (lex_word(&p, words[i].w) && *p == '\0') {
            *out = words[i].v;
            return 0;
        }
    }
    return FMP_EINVAL;
}

int fmp__env_parse_int_list(const char *s, int *out, int max, int *len)
{
    if (!s || max < 1)
        return FMP_EINVAL;
    const char *p = s;
    int n = 0;
    for (;;) {
        unsigned long v;
        if (n == max || lex_ulong(&p, INT_MAX, &v) < 0 || v == 0)
            return FMP_EINVAL;
        out[n++] = (int)v;
        if (*p == '\0')
            break;
        if (*p != ',')
            return FMP_EINVAL;
        p++;
    }
    *len = n;
    return 0;
}

int fmp__env_parse_schedule(const char *s, fmp_schedule *out)
{
    static const struct {
        const char *w;
        fmp_sched_kind k;
    } kinds[] = {{"static", FMP_SCHED_STATIC},
                 {"dynamic", FMP_SCHED_DYNAMIC},
                 {"guided", FMP_SCHED_GUIDED},
                 {"auto", FMP_SCHED_STATIC}};
    if (!s)
        return FMP_EINVAL;
    const char *p = skip_ws(s);
    /* OpenMP 4.5's monotonic: / nonmonotonic: modifiers are accepted, so that job scripts
       keep working, and ignored: fmp_schedule has no such variants */
    const char *q = p;
    if ((lex_word(&q, "monotonic") || lex_word(&q, "nonmonotonic")) && *q == ':')
        p = q + 1;
    fmp_sched_kind kind = FMP_SCHED_INVALID;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && !kind; i++)
        if (lex_word(&p, kinds[i].w))
            kind = kinds[i].k;
    if (!kind)
        return FMP_EINVAL;
    unsigned long chunk = 0;
    if (*p == ',') {
        p++;
        if (lex_ulong(&p, LONG_MAX, &chunk) < 0 || chunk == 0)
            return FMP_EINVAL;
    }
    if (*p != '\0')
        return FMP_EINVAL;
    out->kind = kind;
    out->chunk = (long)chunk;
    return 0;
}

/* Binary multiplier of a size suffix: K, KB, KiB (any case) and so on; "" and "B" are 1. */
static int size_suffix(const char *p, unsigned long long *mult)
{
    static const char units[] = "bkmgt";
    if (*p == '\0') {
        *mult = 1;
        return 0;
    }
    const char *u = strchr(units, tolower((unsigned char)*p));
    if (!u)
        return FMP_EINVAL;
    *mult = 1ULL << (10 * (u - units));
    p++;
    if (u != units) { /* K, KB, KiB */
        if (tolower((unsigned char)p[0]) == 'i' && tolower((unsigned char)p[1]) == 'b')
            p += 2;
        else if (tolower((unsigned char)p[0]) == 'b')
            p++;
    }
    return at_end(p) ? 0 : FMP_EINVAL;
}

int fmp__env_parse_size(const char *s, size_t *out)
{
    if (!s)
        return FMP_EINVAL;
    const char *p = s;
    unsigned long v;
    unsigned long long mult, bytes;
    if (lex_ulong(&p, ULONG_MAX, &v) < 0 || size_suffix(p, &mult) < 0)
        return FMP_EINVAL;
    if (__builtin_mul_overflow((unsigned long long)v, mult, &bytes) || bytes == 0 ||
        bytes > SIZE_MAX)
        return FMP_EINVAL;
    *out = (size_t)bytes;
    return 0;
}

int fmp__env_parse_bind_list(const char *s, int *out, int max, int *len)
{
    static const struct {
        const char *w;
        int v;
    } words[] = {{"close", FMP__BIND_CLOSE},     {"spread", FMP__BIND_SPREAD},
                 {"primary", FMP__BIND_PRIMARY}, {"master", FMP__BIND_PRIMARY},
                 {"true", FMP__BIND_TRUE},       {"false", FMP__BIND_FALSE}};
    if (!s || max < 1)
        return FMP_EINVAL;
    const char *p = s;
    int n = 0;
    for (;;) {
        int v = FMP__BIND_UNSET;
        for (size_t i = 0; i < sizeof words / sizeof words[0] && v == FMP__BIND_UNSET; i++)
            if (lex_word(&p, words[i].w))
                v = words[i].v;
        if (v == FMP__BIND_UNSET || n == max)
            return FMP_EINVAL;
        out[n++] = v;
        if (*p == '\0')
            break;
        if (*p != ',')
            return FMP_EINVAL;
        p++;
    }
    /* OpenMP: true and false stand alone; a list names policies */
    for (int i = 0; i < n && n > 1; i++)
        if (out[i] == FMP__BIND_TRUE || out[i] == FMP__BIND_FALSE)
            return FMP_EINVAL;
    *len = n;
    return 0;
}

int fmp__env_parse_spin(const char *s, long *out)
{
    if (!s)
        return FMP_EINVAL;
    const char *p = s;
    if (lex_word(&p, "infinity") || lex_word(&p, "infinite")) {
        if (*p != '\0')
            return FMP_EINVAL;
        *out = LONG_MAX;
        return 0;
    }
    unsigned long v;
    if (lex_ulong(&p, LONG_MAX, &v) < 0)
        return FMP_EINVAL;
    long mult = 1;
    switch (*p) { /* libgomp's GOMP_SPINCOUNT suffixes: decimal */
    case 'k':
    case 'K':
        mult = 1000L;
        p++;
        break;
    case 'M':
        mult = 1000000L;
        p++;
        break;
    case 'G':
        mult = 1000000000L;
        p++;
        break;
    case 'T':
        mult = 1000000000000L;
        p++;
        break;
    default:
        break;
    }
    long r;
    if (!at_end(p) || __builtin_mul_overflow((long)v, mult, &r))
        return FMP_EINVAL;
    *out = r;
    return 0;
}

/* ------------------------------------------------------------------------------------
 * OpenMP place lists:
 *   list       := p-list | aname
 *   p-list     := p-interval { , p-interval }
 *   p-interval := place : len : stride | place : len | place | ! place
 *   place      := { res-list } | res
 *   res-list   := res-interval { , res-interval }
 *   res-interval := res : num : stride | res : num | res | ! res
 *   aname      := word ( num ) | word        word: threads cores sockets ll_caches
 *                                                  numa_domains
 * Resources are PU numbers as the OS counts them (the numbers of taskset and
 * /proc/cpuinfo).  "!res" takes a resource out of the place built so far, "!place"
 * takes every equal place out of the list built so far.
 * ------------------------------------------------------------------------------------ */

typedef struct ivec {
    int *v;
    int n, cap;
} ivec;

static int ivec_push(ivec *a, int x)
{
    if (a->n == a->cap) {
        int cap = a->cap ? 2 * a->cap : 16;
        int *v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v)
            return FMP_ENOMEM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Sort and unique a[from..n). */
static void ivec_normalise(ivec *a, int from)
{
    int m = a->n - from;
    if (m <= 1)
        return;
    qsort(a->v + from, (size_t)m, sizeof(int), cmp_int);
    int w = from + 1;
    for (int r = from + 1; r < a->n; r++)
        if (a->v[r] != a->v[w - 1])
            a->v[w++] = a->v[r];
    a->n = w;
}

typedef struct plist {
    ivec ids;   /* every place's PUs, place after place */
    ivec first; /* place k is ids[first[k] .. first[k+1]) */
    long total; /* ids expanded so far, against absurd lists */
} plist;

static int add_id(ivec *v, long id, long *total)
{
    if (id < 0 || id >= MAX_PLACE_ID || ++*total > MAX_PLACE_IDS)
        return FMP_EINVAL;
    return ivec_push(v, (int)id);
}

/* num and stride after a resource or a place: ":num[:stride]" (num >= 1). */
static int lex_interval(const char **p, long *num, long *stride)
{
    *num = 1;
    *stride = 1;
    if (**p != ':')
        return 0;
    (*p)++;
    unsigned long n;
    if (lex_ulong(p, MAX_PLACE_IDS, &n) < 0 || n == 0)
        return FMP_EINVAL;
    *num = (long)n;
    if (**p == ':') {
        (*p)++;
        if (lex_long(p, stride) < 0 || *stride <= -MAX_PLACE_ID || *stride >= MAX_PLACE_ID)
            return FMP_EINVAL;
    }
    return 0;
}

/* One place ("{res-list}" or a lone resource) appended to cur, sorted and unique. */
static int parse_place(const char **pp, ivec *cur, long *total)
{
    const char *p = skip_ws(*pp);
    int braced = *p == '{';
    if (braced)
        p++;
    cur->n = 0;
    for (;;) {
        p = skip_ws(p);
        int excl = *p == '!';
        if (excl)
            p++;
        unsigned long res;
        long num, stride;
        if (lex_ulong(&p, MAX_PLACE_ID - 1, &res) < 0)
            return FMP_EINVAL;
        if (excl) {
            if (!braced)
                return FMP_EINVAL;
            int w = 0;
            for (int r = 0; r < cur->n; r++)
                if (cur->v[r] != (int)res)
                    cur->v[w++] = cur->v[r];
            cur->n = w;
        } else {
            /* inside braces res:num:stride; a lone resource is a place of one */
            num = 1;
            stride = 1;
            if (braced && lex_interval(&p, &num, &stride) < 0)
                return FMP_EINVAL;
            for (long k = 0; k < num; k++)
                if (add_id(cur, (long)res + k * stride, total) < 0)
                    return FMP_EINVAL;
        }
        if (!braced || *p != ',')
            break;
        p++;
    }
    if (braced) {
        if (*p != '}')
            return FMP_EINVAL;
        p = skip_ws(p + 1);
    }
    ivec_normalise(cur, 0);
    if (cur->n == 0)
        return FMP_EINVAL; /* "{}" or "{0,!0}": an empty place */
    *pp = p;
    return 0;
}

static int place_equal(const plist *l, int k, const ivec *cur)
{
    int a = l->first.v[k], b = l->first.v[k + 1];
    return b - a == cur->n && memcmp(l->ids.v + a, cur->v, (size_t)cur->n * sizeof(int)) == 0;
}

static void remove_place(plist *l, const ivec *cur)
{
    int places = l->first.n - 1, w = 0, wid = 0;
    for (int k = 0; k < places; k++) {
        int a = l->first.v[k], b = l->first.v[k + 1];
        if (place_equal(l, k, cur))
            continue;
        memmove(l->ids.v + wid, l->ids.v + a, (size_t)(b - a) * sizeof(int));
        l->first.v[w++] = wid;
        wid += b - a;
    }
    l->first.v[w] = wid;
    l->first.n = w + 1;
    l->ids.n = wid;
}

static int parse_explicit(const char *s, plist *l)
{
    ivec cur = {0};
    const char *p = s;
    int rc = ivec_push(&l->first, 0);
    while (rc == 0) {
        p = skip_ws(p);
        int excl = *p == '!';
        if (excl)
            p++;
        long num = 1, stride = 1;
        if ((rc = parse_place(&p, &cur, &l->total)) < 0)
            break;
        if (excl) {
            remove_place(l, &cur);
        } else {
            if ((rc = lex_interval(&p, &num, &stride)) < 0)
                break;
            for (long k = 0; k < num && rc == 0; k++) {
                for (int r = 0; r < cur.n && rc == 0; r++)
                    rc = add_id(&l->ids, (long)cur.v[r] + k * stride, &l->total);
                if (rc == 0)
                    rc = ivec_push(&l->first, l->ids.n);
            }
            if (rc < 0)
                break;
        }
        if (*p == '\0')
            break;
        if (*p != ',')
            rc = FMP_EINVAL;
        else
            p++;
    }
    free(cur.v);
    if (rc == 0 && l->first.n < 2)
        rc = FMP_EINVAL; /* every place was taken out again */
    return rc < 0 ? FMP_EINVAL : 0;
}

int fmp__env_parse_places(const char *s, fmp__places *out)
{
    static const struct {
        const char *w;
        int kind;
    } names[] = {{"threads", FMP__PLACES_THREADS},
                 {"cores", FMP__PLACES_CORES},
                 {"sockets", FMP__PLACES_SOCKETS},
                 {"ll_caches", FMP__PLACES_LL_CACHES},
                 {"numa_domains", FMP__PLACES_NUMA}};
    fmp__places tmp;
    if (!out)
        out = &tmp;
    memset(out, 0, sizeof *out);
    if (!s)
        return FMP_EINVAL;
    const char *p = s;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!lex_word(&p, names[i].w))
            continue;
        unsigned long count = 0;
        if (*p == '(') {
            p++;
            if (lex_ulong(&p, INT_MAX, &count) < 0 || count == 0 || *p != ')')
                return FMP_EINVAL;
            p++;
        }
        if (!at_end(p))
            return FMP_EINVAL;
        out->kind = names[i].kind;
        out->count = (int)count;
        return 0;
    }
    plist l = {0};
    if (parse_explicit(s, &l) < 0) {
        free(l.ids.v);
        free(l.first.v);
        return FMP_EINVAL;
    }
    out->kind = FMP__PLACES_EXPLICIT;
    out->nplaces = l.first.n - 1;
    out->first = l.first.v;
    out->ids = l.ids.v;
    if (out == &tmp)
        fmp__env_places_free(out);
    return 0;
}

void fmp__env_places_free(fmp__places *p)
{
    if (!p)
        return;
    free(p->first);
    free(p->ids);
    p->first = p->ids = NULL;
    p->nplaces = 0;
}

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

static int parse_positive(const char *v, int *out)
{
    const char *p = v;
    unsigned long x;
    if (lex_ulong(&p, INT_MAX, &x) < 0 || x == 0 || *p != '\0')
        return FMP_EINVAL;
    *out = (int)x;
    return 0;
}

static int set_max_active_levels(const char *v)
{
    int x;
    if (parse_positive(v, &x) < 0)
        return FMP_EINVAL;
    seen.max_levels = 1;
    fmp__g_icv.max_active_levels = x > FMP__MAX_LEVELS ? FMP__MAX_LEVELS : x;
    return 0;
}

static int set_thread_limit(const char *v)
{
    return parse_positive(v, &fmp__g_icv.thread_limit);
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

/* Copy v without the whitespace around it; FMP_EINVAL if it does not fit or is empty. */
static int set_string(char *dst, size_t cap, const char *v)
{
    const char *b = skip_ws(v);
    size_t n = strlen(b);
    while (n > 0 && isspace((unsigned char)b[n - 1]))
        n--;
    if (n == 0 || n >= cap)
        return FMP_EINVAL;
    memcpy(dst, b, n);
    dst[n] = '\0';
    return 0;
}

static int set_places(const char *v)
{
    if (fmp__env_parse_places(v, NULL) < 0)
        return FMP_EINVAL;
    seen.places = 1;
    return set_string(fmp__g_icv.places, sizeof fmp__g_icv.places, v);
}

static int set_display_env(const char *v)
{
    const char *p = v;
    if (lex_word(&p, "verbose") && *p == '\0') {
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
    if (set_string(tmp, sizeof tmp, v) < 0 || fmp__affinity_format_check(tmp) < 0)
        return FMP_EINVAL;
    memcpy(fmp__g_icv.affinity_format, tmp, sizeof tmp);
    return 0;
}

static int set_wait_policy(const char *v)
{
    const char *p = v;
    if (lex_word(&p, "active") && *p == '\0')
        fmp__g_icv.wait_policy = FMP__WAIT_ACTIVE;
    else if ((p = v, lex_word(&p, "passive")) && *p == '\0')
        fmp__g_icv.wait_policy = FMP__WAIT_PASSIVE;
    else
        return FMP_EINVAL;
    return 0;
}

static int set_shared_size(const char *v)
{
    return fmp__env_parse_size(v, &fmp__g_icv.shared_size);
}

static int set_on_error(const char *v)
{
    const char *p = v;
    if (lex_word(&p, "abort") && *p == '\0')
        fmp__g_icv.on_error = FMP_ERRORS_ABORT;
    else if ((p = v, lex_word(&p, "return")) && *p == '\0')
        fmp__g_icv.on_error = FMP_ERRORS_RETURN;
    else
        return FMP_EINVAL;
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

/* The one list.  doc/environment.md is this table, written out by fmp__env_doc_row(); the
   test suite checks that every row there matches. */
static const struct envvar {
    const char *name;                    /* forkmp's name, read first */
    const char *alias;                   /* OpenMP's (or libgomp's) name, read when name is unset */
    int (*set)(const char *value);       /* into fmp__g_icv: 0 or FMP_EINVAL */
    void (*show)(char *buf, size_t len); /* effective value, for FMP_DISPLAY_ENV */
    int forkmp_only;                     /* shown by FMP_DISPLAY_ENV=verbose only */
    const char *values; /* what is allowed: the error message says "expected <values>" */
    const char *dflt;
    const char *doc;
} vars[] = {
    {"FMP_NUM_THREADS", "OMP_NUM_THREADS", set_num_threads, show_num_threads, 0,
     "a comma list of positive integers (at most 4096 each, 16 entries)",
     "the CPUs this process may run on (under MPI: the rank's share, see fmp_mpi_init)",
     "Team size of a region opened with size 0: entry k for nesting level k+1, the last "
     "entry for deeper levels."},
    {"FMP_NESTED", "OMP_NESTED", set_nested, show_nested, 0,
     "true, false, yes, no, 1 or 0 (any case)",
     "false (true when FMP_NUM_THREADS or FMP_PROC_BIND lists several levels)",
     "Nested regions fork teams of their own: sets FMP_MAX_ACTIVE_LEVELS to 16 (true) or 1 "
     "(false). Deprecated in OpenMP; FMP_MAX_ACTIVE_LEVELS wins."},
    {"FMP_MAX_ACTIVE_LEVELS", "OMP_MAX_ACTIVE_LEVELS", set_max_active_levels,
     show_max_active_levels, 0, "a positive integer (values above 16 mean 16)", "1, see FMP_NESTED",
     "Most nested active regions (teams of more than one member)."},
    {"FMP_THREAD_LIMIT", "OMP_THREAD_LIMIT", set_thread_limit, show_thread_limit, 0,
     "a positive integer", "2147483647 (no limit)",
     "Most processes the teams of a process (an MPI rank) may hold together."},
    {"FMP_SCHEDULE", "OMP_SCHEDULE", set_schedule, show_schedule, 0,
     "static, dynamic, guided or auto, then optionally a comma and a positive chunk size; "
     "an optional monotonic: or nonmonotonic: prefix is accepted",
     "static", "Schedule of loops with fmp_runtime(). auto is static."},
    {"FMP_PROC_BIND", "OMP_PROC_BIND", set_proc_bind, show_proc_bind, 0,
     "true, false, or a comma list of close, spread, primary or master (one per nesting "
     "level)",
     "false (true when FMP_PLACES is set)",
     "Bind members to places: close puts member i on the place after member i-1, spread "
     "spreads the team evenly over the places, primary puts all on the master's place; "
     "true is close."},
    {"FMP_PLACES", "OMP_PLACES", set_places, show_places, 0,
     "threads, cores, sockets, ll_caches or numa_domains, each optionally with (n); or "
     "an explicit list of places such as {0,1},{2,3} or {0:4}:4:4 (PU numbers as the OS "
     "counts them)",
     "cores",
     "Where members may be bound, inside the cpuset of the process (an MPI rank's "
     "binding). Places outside it are dropped."},
    {"FMP_DISPLAY_ENV", "OMP_DISPLAY_ENV", set_display_env, show_display_env, 0,
     "true, false or verbose (or yes, no, 1, 0)", "false",
     "Print the effective values of these variables to stderr at start; verbose adds the "
     "forkmp-only ones."},
    {"FMP_DISPLAY_AFFINITY", "OMP_DISPLAY_AFFINITY", set_display_affinity, show_display_affinity, 0,
     "true, false, yes, no, 1 or 0 (any case)", "false",
     "Print one line per member to stderr when a team starts, in FMP_AFFINITY_FORMAT."},
    {"FMP_AFFINITY_FORMAT", "OMP_AFFINITY_FORMAT", set_affinity_format, show_affinity_format, 0,
     "a format of at most 255 characters with the fields %H (host) %P (pid) %i (pid) "
     "%n (member) %N (team size) %L (level) %a (ancestor's member) %t (0) %T (1) "
     "%A (cpus) %r (MPI rank) %% (%), optionally as %0.8n or %{thread_num}",
     FMP__AFFINITY_FORMAT_DEFAULT,
     "Format of the FMP_DISPLAY_AFFINITY lines; the default shows the rank under MPI."},
    {"FMP_WAIT_POLICY", "OMP_WAIT_POLICY", set_wait_policy, show_wait_policy, 0,
     "active or passive", "unset: spin a while, then sleep",
     "How members wait: active spins (about 1e9 spins), passive sleeps at once."},
    {"FMP_SHARED_SIZE", NULL, set_shared_size, show_shared_size, 1,
     "a positive number of bytes, optionally with K, M, G or T (or KB, KiB and so on: "
     "powers of 1024)",
     "the physical memory",
     "Size of the shared arena (fmp_shared_alloc). Address space only: memory is used when "
     "touched."},
    {"FMP_ON_ERROR", NULL, set_on_error, show_on_error, 1, "abort or return", "abort",
     "What a failed region does: end the program with status 70, or return the error "
     "(fmp_set_error_mode)."},
    {"FMP_SPIN_COUNT", "GOMP_SPINCOUNT", set_spin_count, show_spin_count, 1,
     "a non-negative integer, optionally with k, M, G or T (powers of 1000), or infinity",
     "300000; 0 with FMP_WAIT_POLICY=passive, 1000000000 with active",
     "Spins before a waiting member sleeps."},
};

#define NVARS (sizeof vars / sizeof vars[0])

/* ------------------------------------------------------------------------------------
 * Initialisation and display
 * ------------------------------------------------------------------------------------ */

static __attribute__((noreturn)) void bad_value(const struct envvar *v, const char *name,
                                                const char *value)
{
    /* one line, whatever the value holds: control characters are shown as '?' */
    char shown[256], line[1024];
    snprintf(shown, sizeof shown, "%s", value);
    for (char *c = shown; *c; c++)
        if (iscntrl((unsigned char)*c))
            *c = '?';
    int n = snprintf(line, sizeof line, "forkmp: %s='%s': expected %s\n", name, shown, v->values);
    if (n < 0 || (size_t)n >= sizeof line) {
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    fflush(stderr);
    ssize_t w = write(2, line, (size_t)n);
    (void)w;
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
        const char *name = vars[i].name;
        const char *value = getenv(name);
        if (!value && vars[i].alias) {
            name = vars[i].alias;
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

/* Append a line to a growing buffer; on ENOMEM the line is dropped. */
static void append(char **buf, size_t *len, size_t *cap, const char *a, const char *b,
                   const char *c)
{
    size_t need = strlen(a) + strlen(b) + strlen(c) + 1;
    if (*len + need > *cap) {
        size_t ncap = 2 * *cap + need;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return;
        *buf = nb;
        *cap = ncap;
    }
    *len += (size_t)snprintf(*buf + *len, *cap - *len, "%s%s%s", a, b, c);
}

void fmp__env_display(int verbose)
{
    /* built whole, then written at once, so that other output never cuts it */
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    if (!out)
        return;
    out[0] = '\0';
    append(&out, &len, &cap, "FORKMP DISPLAY ENVIRONMENT BEGIN\n  _FORKMP = '", FMP_VERSION_STRING,
           "'\n");
    for (size_t i = 0; i < NVARS; i++) {
        if (vars[i].forkmp_only && !verbose)
            continue;
        char val[512];
        vars[i].show(val, sizeof val);
        append(&out, &len, &cap, "  [host] ", vars[i].name, " = '");
        append(&out, &len, &cap, val, "'\n", "");
    }
    append(&out, &len, &cap, "FORKMP DISPLAY ENVIRONMENT END\n", "", "");
    fflush(stderr);
    for (size_t done = 0; done < len;) {
        ssize_t w = write(2, out + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    free(out);
}

/* Markdown text: % becomes \% (doxygen strips a bare % before a word; CommonMark shows
   \% as %), | becomes \| (a table cell). */
static size_t md_text(char *buf, size_t len, size_t o, const char *s, int escape)
{
    for (; *s; s++) {
        if (escape && (*s == '%' || *s == '|') && o + 1 < len)
            buf[o++] = '\\';
        if (o + 1 < len)
            buf[o++] = *s;
    }
    if (len > 0)
        buf[o < len ? o : len - 1] = '\0';
    return o;
}

int fmp__env_doc_row(size_t i, char *buf, size_t len)
{
    if (i >= NVARS || len == 0)
        return i < NVARS;
    const struct envvar *v = &vars[i];
    const char *cells[] = {v->values, v->dflt, v->doc};
    int o = snprintf(buf, len, "| `%s` | %s%s%s |", v->name, v->alias ? "`" : "",
                     v->alias ? v->alias : "-", v->alias ? "`" : "");
    size_t u = o < 0 ? 0 : (size_t)o < len ? (size_t)o : len - 1;
    for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++) {
        u = md_text(buf, len, u, " ", 0);
        u = md_text(buf, len, u, cells[c], 1);
        u = md_text(buf, len, u, " |", 0);
    }
    return 1;
}
