/* A fuzzing driver for the ordinary compiler: replays a corpus through
 * LLVMFuzzerTestOneInput (tests/fuzz/fuzz_env.c), then feeds it random mutations of the
 * corpus for a number of seconds or of runs.  No coverage feedback (that is what the
 * libFuzzer build of `make fuzz` adds); the mutations are the classic ones: bit flips,
 * byte changes, inserts and deletes, dictionary tokens, interesting numbers, splices of
 * two inputs, repeated ranges (very long strings) and a change of the selector byte.
 *
 *   fuzz_env_driver [-s SEED] [-t SECONDS] [-n RUNS] [-m MAXLEN] [-d DICT] PATH...
 *
 * PATH: corpus files or directories of them; DICT: tokens to insert (libFuzzer's format,
 * tests/fuzz/fuzz_env.dict).  Without -t or -n it runs 10 seconds; MAXLEN bounds the
 * length of an input (65536).  -n 0 replays the corpus only (to reproduce a
 * failure: fuzz_env_driver -n 0 FILE).  The sequence of inputs depends on the seed alone,
 * so -s SEED -n RUNS replays a run up to a failure.  On a failure (a broken property, a
 * crash, an input slower than 10 s) it prints the seed, the run and the input, writes the
 * input to fuzz-failure-SEED-RUN in the current directory and dies of the signal; exit
 * status 0 means every input passed, 2 a usage error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SLOW_SECONDS 10 /* one input longer than this is a failure */

typedef struct input {
    uint8_t *data;
    size_t size;
    char *name;
} input;

static input *g_corpus;
static size_t g_ncorpus, g_capcorpus;

/* what runs now, for the failure report */
static const uint8_t *g_cur;
static size_t g_cursize;
static unsigned long long g_seed;
static unsigned long g_run; /* 0: replaying the corpus */
static const char *g_curname;

/* ------------------------------------------------------------------------------------
 * The failure report: async-signal-safe (write only)
 * ------------------------------------------------------------------------------------ */

typedef struct text {
    char buf[1 << 15];
    size_t len;
} text;

static void put_str(text *t, const char *s)
{
    while (*s && t->len < sizeof t->buf - 1)
        t->buf[t->len++] = *s++;
    t->buf[t->len] = '\0';
}

static void put_num(text *t, unsigned long long v)
{
    char d[24], s[24];
    int n = 0, k = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0)
        s[k++] = d[--n];
    s[k] = '\0';
    put_str(t, s);
}

static void write_whole(int fd, const void *p, size_t n)
{
    for (size_t o = 0; o < n;) {
        ssize_t w = write(fd, (const char *)p + o, n - o);
        if (w <= 0)
            return;
        o += (size_t)w;
    }
}

static void on_failure(int sig)
{
    static const char hex[] = "0123456789abcdef";
    static text rep, name;
    rep.len = name.len = 0;
    put_str(&rep, "\nfuzz_env_driver: FAILED (");
    put_str(&rep, sig == SIGALRM   ? "slower than the time limit"
                  : sig == SIGABRT ? "abort"
                                   : "signal ");
    if (sig != SIGALRM && sig != SIGABRT)
        put_num(&rep, (unsigned)sig);
    put_str(&rep, ") seed ");
    put_num(&rep, g_seed);
    if (g_run) {
        put_str(&rep, " run ");
        put_num(&rep, g_run);
        put_str(&rep, " (reproduce: the same command with -s ");
        put_num(&rep, g_seed);
        put_str(&rep, " -n ");
        put_num(&rep, g_run);
        put_str(&rep, ", or -n 0 with the file below)");
    } else {
        put_str(&rep, " replaying ");
        put_str(&rep, g_curname ? g_curname : "?");
    }
    put_str(&rep, "\ninput of ");
    put_num(&rep, g_cursize);
    put_str(&rep, " bytes: \"");
    for (size_t i = 0; i < g_cursize && i < 4096; i++) {
        unsigned char c = g_cur[i];
        char s[5] = {(char)c, 0};
        if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"')
            s[0] = '\\', s[1] = 'x', s[2] = hex[c >> 4], s[3] = hex[c & 15];
        put_str(&rep, s);
    }
    put_str(&rep, g_cursize > 4096 ? "\"...\n" : "\"\n");
    /* the whole input, for fuzz_env_driver -n 0 FILE */
    put_str(&name, "fuzz-failure-");
    put_num(&name, g_seed);
    put_str(&name, "-");
    put_num(&name, g_run);
    int fd = open(name.buf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        write_whole(fd, g_cur, g_cursize);
        close(fd);
        put_str(&rep, "written to ");
        put_str(&rep, name.buf);
        put_str(&rep, "\n");
    }
    write_whole(2, rep.buf, rep.len);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void run_one(const uint8_t *data, size_t size)
{
    g_cur = data;
    g_cursize = size;
    alarm(SLOW_SECONDS);
    LLVMFuzzerTestOneInput(data, size);
    alarm(0);
}

/* ------------------------------------------------------------------------------------
 * The corpus
 * ------------------------------------------------------------------------------------ */

static int add_input(uint8_t *data, size_t size, const char *name)
{
    if (g_ncorpus == g_capcorpus) {
        size_t cap = g_capcorpus ? 2 * g_capcorpus : 64;
        input *v = realloc(g_corpus, cap * sizeof *v);
        if (!v)
            return -1;
        g_corpus = v;
        g_capcorpus = cap;
    }
    g_corpus[g_ncorpus++] = (input){data, size, strdup(name)};
    return 0;
}

static int load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_env_driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *d = malloc(cap);
    for (size_t r; d && (r = fread(d + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            uint8_t *nd = realloc(d, cap *= 2);
            if (!nd)
                free(d);
            d = nd;
        }
    }
    fclose(f);
    if (!d)
        return -1;
    return add_input(d, n, path);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* a file, or every regular file of a directory in name order (the same order everywhere) */
static int load_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "fuzz_env_driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return load_file(path);
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **v = realloc(names, cap * sizeof *v);
            if (!v)
                break;
            names = v;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(dir);
    qsort(names, n, sizeof *names, cmp_name);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && load_file(names[i]) < 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

/* ------------------------------------------------------------------------------------
 * Mutations
 * ------------------------------------------------------------------------------------ */

static unsigned long long g_rng;

static unsigned long long rnd(void) /* xorshift64* */
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 2685821657736338717ULL;
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* the dictionary's tokens (-d FILE, libFuzzer's format) */
static char **g_dict;
static size_t g_ndict;

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* One "token" a line, optionally after name=; \\, \" and \xNN escapes; # comments. */
static int load_dict(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "fuzz_env_driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    for (int no = 1; fgets(line, sizeof line, f); no++) {
        char *q = strchr(line, '"'), *e = strrchr(line, '"');
        if (line[0] == '#' || !q)
            continue;
        if (e == q) {
            fprintf(stderr, "fuzz_env_driver: %s:%d: no closing quote\n", path, no);
            fclose(f);
            return -1;
        }
        char *tok = malloc((size_t)(e - q)), *w = tok;
        if (!tok)
            break;
        for (char *r = q + 1; r < e; r++) {
            if (*r == '\\' && r[1] == 'x' && hexval(r[2]) >= 0 && hexval(r[3]) >= 0) {
                *w++ = (char)(hexval(r[2]) * 16 + hexval(r[3]));
                r += 3;
            } else if (*r == '\\' && r + 1 < e) {
                *w++ = *++r;
            } else {
                *w++ = *r;
            }
        }
        *w = '\0';
        char **v = realloc(g_dict, (g_ndict + 1) * sizeof *v);
        if (!v) {
            free(tok);
            break;
        }
        g_dict = v;
        g_dict[g_ndict++] = tok;
    }
    fclose(f);
    return 0;
}

static const char *const numbers[] = {"0",
                                      "1",
                                      "2",
                                      "15",
                                      "16",
                                      "17",
                                      "255",
                                      "256",
                                      "4095",
                                      "4096",
                                      "4097",
                                      "65535",
                                      "65536",
                                      "65537",
                                      "1048575",
                                      "1048576",
                                      "1048577",
                                      "2147483647",
                                      "2147483648",
                                      "4294967295",
                                      "4294967296",
                                      "9223372036854775807",
                                      "9223372036854775808",
                                      "18446744073709551615",
                                      "18446744073709551616",
                                      "99999999999999999999",
                                      "-1",
                                      "-2147483648",
                                      "00000000000001"};

static const uint8_t bytes[] = {' ',  ',',  ':', '!', '{',  '}',  '(',  ')',  '-',  '+',  '0',
                                '1',  '9',  '%', '=', '\t', '\n', '\r', '\v', '\f', 0x01, 0x7f,
                                0x80, 0xff, 0,   'k', 'G',  'T',  'i',  'B',  '.',  '_'};

static const char selectors[] = "sbznpPciwtae";

/* insert n bytes at pos of d (size *size, room for max) */
static void insert(uint8_t *d, size_t *size, size_t max, size_t pos, const void *src, size_t n)
{
    if (*size + n > max)
        n = max - *size;
    memmove(d + pos + n, d + pos, *size - pos);
    memcpy(d + pos, src, n);
    *size += n;
}

static void mutate_once(uint8_t *d, size_t *size, size_t max)
{
    size_t n = *size;
    switch (below(11)) {
    case 0: /* flip a bit */
        if (n > 1)
            d[1 + below(n - 1)] ^= (uint8_t)(1u << below(8));
        break;
    case 1: /* change a byte */
        if (n > 1)
            d[1 + below(n - 1)] = rnd() & 1 ? bytes[below(sizeof bytes)] : (uint8_t)rnd();
        break;
    case 2: { /* insert bytes */
        uint8_t b[4];
        size_t k = 1 + below(4);
        for (size_t i = 0; i < k; i++)
            b[i] = rnd() & 1 ? bytes[below(sizeof bytes)] : (uint8_t)rnd();
        insert(d, size, max, 1 + below(n), b, k);
        break;
    }
    case 3: { /* delete a range */
        if (n <= 1)
            break;
        size_t pos = 1 + below(n - 1), k = 1 + below(n - pos < 16 ? n - pos : 16);
        memmove(d + pos, d + pos + k, n - pos - k);
        *size -= k;
        break;
    }
    case 4:
    case 5: { /* insert or overwrite with a dictionary token */
        if (!g_ndict)
            break;
        const char *t = g_dict[below(g_ndict)];
        size_t pos = 1 + below(n), k = strlen(t);
        if (rnd() & 1 || pos + k > n)
            insert(d, size, max, pos, t, k);
        else
            memcpy(d + pos, t, k);
        break;
    }
    case 6: { /* an interesting number */
        const char *t = numbers[below(sizeof numbers / sizeof numbers[0])];
        insert(d, size, max, 1 + below(n), t, strlen(t));
        break;
    }
    case 7: { /* splice: a piece of another input */
        const input *o = &g_corpus[below(g_ncorpus)];
        if (o->size <= 1)
            break;
        size_t from = 1 + below(o->size - 1), k = 1 + below(o->size - from);
        if (rnd() & 1) { /* replace the tail */
            *size = 1 + below(n > 1 ? n - 1 : 1);
            if (*size > n)
                *size = n;
        }
        insert(d, size, max, *size, o->data + from, k);
        break;
    }
    case 8: { /* repeat a range: very long strings */
        if (n <= 1)
            break;
        size_t pos = 1 + below(n - 1), k = 1 + below(n - pos < 8 ? n - pos : 8);
        uint8_t piece[8];
        memcpy(piece, d + pos, k);
        for (size_t times = 1 + below(rnd() & 1 ? 16 : max / k); times > 0 && *size < max; times--)
            insert(d, size, max, pos, piece, k);
        break;
    }
    case 9: /* another target */
        d[0] = rnd() & 3 ? (uint8_t)selectors[below(sizeof selectors - 1)] : (uint8_t)rnd();
        break;
    default: /* a NUL: the string ends early, the rest stays behind it */
        if (n > 1)
            d[1 + below(n - 1)] = 0;
        break;
    }
}

/* ------------------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr, "usage: fuzz_env_driver [-s SEED] [-t SECONDS] [-n RUNS] [-m MAXLEN] "
                    "[-d DICT] PATH...\n");
    exit(2);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = 0;
    unsigned long runs = 0, maxlen = 65536;
    int have_seed = 0, have_runs = 0;
    for (int c; (c = getopt(argc, argv, "s:t:n:m:d:")) != -1;) {
        char *end;
        switch (c) {
        case 'd':
            if (load_dict(optarg) < 0)
                return 2;
            continue;
        case 's':
            g_seed = strtoull(optarg, &end, 0);
            have_seed = 1;
            break;
        case 't':
            seconds = strtod(optarg, &end);
            break;
        case 'n':
            runs = strtoul(optarg, &end, 0);
            have_runs = 1;
            break;
        case 'm':
            maxlen = strtoul(optarg, &end, 0);
            break;
        default:
            usage();
        }
        if (*end || end == optarg)
            usage();
    }
    if (optind >= argc || maxlen < 2)
        usage();
    if (!have_seed)
        g_seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
    if (!have_runs && seconds <= 0)
        seconds = 10;
    for (int i = optind; i < argc; i++)
        if (load_path(argv[i]) < 0)
            return 2;
    if (g_ncorpus == 0) {
        fprintf(stderr, "fuzz_env_driver: an empty corpus\n");
        return 2;
    }
    signal(SIGABRT, on_failure);
    signal(SIGSEGV, on_failure);
    signal(SIGBUS, on_failure);
    signal(SIGFPE, on_failure);
    signal(SIGILL, on_failure);
    signal(SIGALRM, on_failure);
    printf("fuzz_env_driver: seed %llu, %zu corpus inputs, %s %g%s\n", g_seed, g_ncorpus,
           have_runs ? "runs" : "seconds", have_runs ? (double)runs : seconds,
           have_runs && seconds > 0 ? " (or the time limit)" : "");
    fflush(stdout);

    double t0 = now();
    for (size_t i = 0; i < g_ncorpus; i++) {
        g_curname = g_corpus[i].name;
        run_one(g_corpus[i].data, g_corpus[i].size);
    }
    g_curname = NULL;

    g_rng = g_seed * 0x9e3779b97f4a7c15ULL + 1;
    uint8_t *buf = malloc(maxlen);
    if (!buf)
        return 2;
    unsigned long done = 0;
    size_t longest = 0;
    for (g_run = 1; !have_runs || g_run <= runs; g_run++) {
        if (seconds > 0 && (g_run & 63) == 0 && now() - t0 >= seconds)
            break;
        const input *in = &g_corpus[below(g_ncorpus)];
        size_t size = in->size < maxlen ? in->size : maxlen;
        memcpy(buf, in->data, size);
        if (size == 0)
            buf[size++] = (uint8_t)selectors[below(sizeof selectors - 1)];
        for (size_t k = 1 + below(rnd() & 1 ? 2 : 8); k > 0; k--)
            mutate_once(buf, &size, maxlen);
        if (size > longest)
            longest = size;
        run_one(buf, size);
        done++;
    }
    printf("fuzz_env_driver: %zu corpus inputs replayed, %lu mutations (longest %zu bytes) "
           "in %.1f s, seed %llu: every property held\n",
           g_ncorpus, done, longest, now() - t0, g_seed);
    free(buf);
    return 0;
}
