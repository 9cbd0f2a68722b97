/* The environment module's lexers and value parsers: one function per kind of value
 * (booleans, integer lists, schedules, sizes, proc-bind lists, spin counts, OpenMP place
 * lists, words), used by the table of variables in env.c, by the placement code of topo.c
 * and directly by the tests and the fuzzer.
 *
 * Every parser takes a NUL-terminated string, returns 0 or FMP_EINVAL and never exits;
 * whitespace is allowed around every token. */
#include "env.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The comma list of positive ints at s, at most max of them: their number, or FMP_EINVAL.
   Writes them to out when out is not NULL. */
static int int_list(const char *s, int *out, int max)
{
    const char *p = s;
    int n = 0;
    for (;;) {
        unsigned long v;
        if (n == max || lex_ulong(&p, INT_MAX, &v) < 0 || v == 0)
            return FMP_EINVAL;
        if (out)
            out[n] = (int)v;
        n++;
        if (*p == '\0')
            return n;
        if (*p != ',')
            return FMP_EINVAL;
        p++;
    }
}

int fmp__env_parse_int_list(const char *s, int *out, int max, int *len)
{
    /* checked whole before anything is written: a refused list leaves out untouched */
    if (!s || max < 1 || int_list(s, NULL, max) < 0)
        return FMP_EINVAL;
    *len = int_list(s, out, max);
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
    unsigned long long mult, bytes, rounded;
    /* the byte count (lex_ulong refuses what overflows), the unit's multiplication, the
       rounding up to a page of the largest size any machine uses (64 KiB), each checked:
       none may wrap around to a small size that would then be accepted */
    const unsigned long long page = 64 * 1024;
    if (lex_ulong(&p, ULONG_MAX, &v) < 0 || size_suffix(p, &mult) < 0 ||
        __builtin_mul_overflow((unsigned long long)v, mult, &bytes) ||
        __builtin_add_overflow(bytes, page - 1, &rounded))
        return FMP_EINVAL;
    if (bytes < FMP__SHARED_SIZE_MIN || rounded / page * page > FMP__SHARED_SIZE_MAX)
        return FMP_EINVAL;
    *out = (size_t)bytes;
    return 0;
}

/* The proc-bind list at s, at most max entries: their number, or FMP_EINVAL.  Writes them
   to out when out is not NULL. */
static int bind_list(const char *s, int *out, int max)
{
    static const struct {
        const char *w;
        int v;
    } words[] = {{"close", FMP__BIND_CLOSE},     {"spread", FMP__BIND_SPREAD},
                 {"primary", FMP__BIND_PRIMARY}, {"master", FMP__BIND_PRIMARY},
                 {"true", FMP__BIND_TRUE},       {"false", FMP__BIND_FALSE}};
    const char *p = s;
    int n = 0, alone = 0;
    for (;;) {
        int v = FMP__BIND_UNSET;
        for (size_t i = 0; i < sizeof words / sizeof words[0] && v == FMP__BIND_UNSET; i++)
            if (lex_word(&p, words[i].w))
                v = words[i].v;
        if (v == FMP__BIND_UNSET || n == max)
            return FMP_EINVAL;
        alone += v == FMP__BIND_TRUE || v == FMP__BIND_FALSE;
        if (out)
            out[n] = v;
        n++;
        if (*p == '\0')
            break;
        if (*p != ',')
            return FMP_EINVAL;
        p++;
    }
    /* OpenMP: true and false stand alone; a list names policies */
    return alone && n > 1 ? FMP_EINVAL : n;
}

int fmp__env_parse_bind_list(const char *s, int *out, int max, int *len)
{
    /* checked whole before anything is written: a refused list leaves out untouched */
    if (!s || max < 1 || bind_list(s, NULL, max) < 0)
        return FMP_EINVAL;
    *len = bind_list(s, out, max);
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

int fmp__env_parse_positive(const char *s, int *out)
{
    if (!s)
        return FMP_EINVAL;
    const char *p = s;
    unsigned long x;
    if (lex_ulong(&p, INT_MAX, &x) < 0 || x == 0 || *p != '\0')
        return FMP_EINVAL;
    *out = (int)x;
    return 0;
}

int fmp__env_parse_word(const char *s, const char *const *words, int *index)
{
    if (!s)
        return FMP_EINVAL;
    for (int i = 0; words[i]; i++) {
        const char *p = s;
        if (lex_word(&p, words[i]) && *p == '\0') {
            *index = i;
            return 0;
        }
    }
    return FMP_EINVAL;
}

int fmp__env_parse_trimmed(const char *s, char *dst, size_t cap)
{
    if (!s)
        return FMP_EINVAL;
    const char *b = skip_ws(s);
    size_t n = strlen(b);
    while (n > 0 && isspace((unsigned char)b[n - 1]))
        n--;
    if (n == 0 || n >= cap)
        return FMP_EINVAL;
    memcpy(dst, b, n);
    dst[n] = '\0';
    return 0;
}

/* FMP_CHECK: "writes", "writes:FILE" (FILE not empty) or "off" (any case but FILE's),
   spaces around allowed.
   *check gets FMP__CHECK_* bits, file the report's path ("" none, cap bytes at most). */
int fmp__env_parse_check(const char *s, int *check, char *file, size_t cap)
{
    char tmp[1024];
    if (fmp__env_parse_trimmed(s, tmp, sizeof tmp) < 0)
        return FMP_EINVAL;
    if (strcasecmp(tmp, "off") == 0) {
        *check = 0;
        file[0] = '\0';
        return 0;
    }
    if (strncasecmp(tmp, "writes", 6) != 0 || (tmp[6] != '\0' && tmp[6] != ':'))
        return FMP_EINVAL;
    const char *f = tmp[6] == ':' ? tmp + 7 : "";
    if ((tmp[6] == ':' && !*f) || strlen(f) >= cap)
        return FMP_EINVAL;
    *check = FMP__CHECK_WRITES;
    memcpy(file, f, strlen(f) + 1);
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

/* Entries that exclusions ("!res", "!place") may scan over a whole list: each scans the
   place or the list built so far, so that without a bound a short value ("0:1000000"
   followed by thousands of ",!0") takes minutes.  4M scans take milliseconds. */
#define PLACE_WORK_MAX (1L << 22)

typedef struct plist {
    ivec ids;   /* every place's PUs, place after place */
    ivec first; /* place k is ids[first[k] .. first[k+1]) */
    long total; /* ids expanded so far, against absurd lists */
    long work;  /* entries scanned by exclusions so far */
} plist;

/* id: a resource plus k strides, up to 2^16 x 2^20 away: long long, also where long has
   32 bits */
static int add_id(ivec *v, long long id, plist *l)
{
    if (id < 0 || id >= FMP__PLACE_ID_LIMIT || ++l->total > FMP__PLACE_IDS_MAX)
        return FMP_EINVAL;
    return ivec_push(v, (int)id);
}

/* An exclusion about to scan n entries: FMP_EINVAL past the list's budget. */
static int scan(plist *l, long n)
{
    l->work += n + 1;
    return l->work > PLACE_WORK_MAX ? FMP_EINVAL : 0;
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
    if (lex_ulong(p, FMP__PLACE_IDS_MAX, &n) < 0 || n == 0)
        return FMP_EINVAL;
    *num = (long)n;
    if (**p == ':') {
        (*p)++;
        if (lex_long(p, stride) < 0 || *stride <= -FMP__PLACE_ID_LIMIT ||
            *stride >= FMP__PLACE_ID_LIMIT)
            return FMP_EINVAL;
    }
    return 0;
}

/* One place ("{res-list}" or a lone resource) appended to cur, sorted and unique. */
static int parse_place(const char **pp, ivec *cur, plist *l)
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
        if (lex_ulong(&p, FMP__PLACE_ID_LIMIT - 1, &res) < 0)
            return FMP_EINVAL;
        if (excl) {
            if (!braced || scan(l, cur->n) < 0)
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
                if (add_id(cur, (long long)res + (long long)k * stride, l) < 0)
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
        if ((rc = parse_place(&p, &cur, l)) < 0)
            break;
        if (excl) {
            if ((rc = scan(l, l->ids.n + l->first.n)) < 0)
                break;
            remove_place(l, &cur);
        } else {
            if ((rc = lex_interval(&p, &num, &stride)) < 0)
                break;
            for (long k = 0; k < num && rc == 0; k++) {
                for (int r = 0; r < cur.n && rc == 0; r++)
                    rc = add_id(&l->ids, (long long)cur.v[r] + (long long)k * stride, l);
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
