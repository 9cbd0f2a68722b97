/* CUnit suite of the environment module (src/env*.c): every parse helper with good and bad
 * values, FMP_ over OMP_ precedence, per-level lists, the rules that combine variables,
 * FMP_DISPLAY_ENV, and that doc/environment.md holds the table of the code.
 *
 * The program is built from the environment and topology sources directly: libforkmp
 * hides its internal symbols (-fvisibility=hidden), so a test of internals compiles them
 * in. */
#include "env.h"
#include "messages.h"
#include "forkmp_version.h"

#include <CUnit/Basic.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FMP_TOP_SRCDIR
#define FMP_TOP_SRCDIR "."
#endif

static const char *const all_vars[] = {"FMP_NUM_THREADS",
                                       "OMP_NUM_THREADS",
                                       "FMP_NESTED",
                                       "OMP_NESTED",
                                       "FMP_MAX_ACTIVE_LEVELS",
                                       "OMP_MAX_ACTIVE_LEVELS",
                                       "FMP_THREAD_LIMIT",
                                       "OMP_THREAD_LIMIT",
                                       "FMP_SCHEDULE",
                                       "OMP_SCHEDULE",
                                       "FMP_PROC_BIND",
                                       "OMP_PROC_BIND",
                                       "FMP_PLACES",
                                       "OMP_PLACES",
                                       "FMP_DISPLAY_ENV",
                                       "OMP_DISPLAY_ENV",
                                       "FMP_DISPLAY_AFFINITY",
                                       "OMP_DISPLAY_AFFINITY",
                                       "FMP_AFFINITY_FORMAT",
                                       "OMP_AFFINITY_FORMAT",
                                       "FMP_WAIT_POLICY",
                                       "OMP_WAIT_POLICY",
                                       "FMP_SHARED_SIZE",
                                       "FMP_ON_ERROR",
                                       "FMP_SPIN_COUNT",
                                       "GOMP_SPINCOUNT",
                                       "FMP_BARRIER_TREE",
                                       "FMP_CHECK"};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof all_vars / sizeof all_vars[0]; i++)
        unsetenv(all_vars[i]);
}

/* ---------------------------------------------------------------- booleans */

static void test_bool(void)
{
    static const char *const yes[] = {"true", "TRUE", " True ", "yes", "YES", "1", "\t1\n"};
    static const char *const no[] = {"false", "FALSE", "no", "No", "0", "  0"};
    static const char *const bad[] = {"", " ", "tru", "2", "true x", "yes,", "on", "-1", "01"};
    int v;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        v = -7;
        CU_ASSERT_EQUAL(fmp__env_parse_bool(yes[i], &v), 0);
        CU_ASSERT_EQUAL(v, 1);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        v = -7;
        CU_ASSERT_EQUAL(fmp__env_parse_bool(no[i], &v), 0);
        CU_ASSERT_EQUAL(v, 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = -7;
        CU_ASSERT_EQUAL(fmp__env_parse_bool(bad[i], &v), FMP_EINVAL);
        CU_ASSERT_EQUAL(v, -7);
    }
    CU_ASSERT_EQUAL(fmp__env_parse_bool(NULL, &v), FMP_EINVAL);
}

/* ---------------------------------------------------------------- integer lists */

static void test_int_list(void)
{
    int v[FMP__MAX_LEVELS], len = -1;
    CU_ASSERT_EQUAL(fmp__env_parse_int_list("4", v, FMP__MAX_LEVELS, &len), 0);
    CU_ASSERT_EQUAL(len, 1);
    CU_ASSERT_EQUAL(v[0], 4);
    CU_ASSERT_EQUAL(fmp__env_parse_int_list(" 4 , 2,1 ", v, FMP__MAX_LEVELS, &len), 0);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT(v[0] == 4 && v[1] == 2 && v[2] == 1);
    CU_ASSERT_EQUAL(fmp__env_parse_int_list("2147483647", v, FMP__MAX_LEVELS, &len), 0);
    CU_ASSERT_EQUAL(v[0], INT_MAX);
    /* exactly max entries, then one too many */
    CU_ASSERT_EQUAL(fmp__env_parse_int_list("1,2,3", v, 3, &len), 0);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT_EQUAL(fmp__env_parse_int_list("1,2,3,4", v, 3, &len), FMP_EINVAL);
    /* a refused list writes nothing (it used to write the entries before the fault) */
    static const char *const late[] = {"7,8,9,10", "7,8,0", "7,8,x"};
    for (size_t i = 0; i < sizeof late / sizeof late[0]; i++) {
        int w[4] = {-9, -9, -9, -9};
        len = -1;
        CU_ASSERT_EQUAL(fmp__env_parse_int_list(late[i], w, 3, &len), FMP_EINVAL);
        CU_ASSERT(w[0] == -9 && w[1] == -9 && w[2] == -9 && w[3] == -9 && len == -1);
    }

    static const char *const bad[] = {"",    " ",  "abc", "4,,2",       "4,",
                                      ",4",  "0",  "4,0", "-1",         "+4",
                                      "4,x", "4x", "4 2", "2147483648", "99999999999999999999",
                                      "4;2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        len = -1;
        CU_ASSERT_EQUAL(fmp__env_parse_int_list(bad[i], v, FMP__MAX_LEVELS, &len), FMP_EINVAL);
        CU_ASSERT_EQUAL(len, -1);
    }
}

/* ---------------------------------------------------------------- schedules */

static void check_sched(const char *s, fmp_sched_kind kind, long chunk)
{
    fmp_schedule r = {FMP_SCHED_INVALID, -5};
    int rc = fmp__env_parse_schedule(s, &r);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(r.kind, kind);
    CU_ASSERT_EQUAL(r.chunk, chunk);
    if (rc != 0 || r.kind != kind || r.chunk != chunk)
        fprintf(stderr, "\n  schedule '%s': rc %d kind %d chunk %ld\n", s, rc, r.kind, r.chunk);
}

static void test_schedule(void)
{
    check_sched("static", FMP_SCHED_STATIC, 0);
    check_sched("STATIC", FMP_SCHED_STATIC, 0);
    check_sched("static,16", FMP_SCHED_STATIC, 16);
    check_sched("dynamic", FMP_SCHED_DYNAMIC, 0);
    check_sched(" dynamic , 4 ", FMP_SCHED_DYNAMIC, 4);
    check_sched("Guided,8", FMP_SCHED_GUIDED, 8);
    check_sched("auto", FMP_SCHED_STATIC, 0);
    check_sched("auto,3", FMP_SCHED_STATIC, 3);
    check_sched("monotonic:dynamic,2", FMP_SCHED_DYNAMIC, 2);
    check_sched("nonmonotonic : guided", FMP_SCHED_GUIDED, 0);
    check_sched("NONMONOTONIC:static", FMP_SCHED_STATIC, 0);

    static const char *const bad[] = {"",
                                      "weird",
                                      "dynamic,-3",
                                      "dynamic,0",
                                      "static,",
                                      "dynamic,4x",
                                      "dynamic 4",
                                      "monotonic:",
                                      "runtime",
                                      "staticx",
                                      "dynamic,,4",
                                      "guided,4,4",
                                      "monotonic",
                                      "dynamic,99999999999999999999",
                                      "monotonic:nonmonotonic:dynamic"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fmp_schedule r = {FMP_SCHED_INVALID, -5};
        CU_ASSERT_EQUAL(fmp__env_parse_schedule(bad[i], &r), FMP_EINVAL);
        CU_ASSERT_EQUAL(r.kind, FMP_SCHED_INVALID);
    }
}

/* ---------------------------------------------------------------- sizes */

static void check_size(const char *s, size_t want)
{
    size_t v = 0;
    CU_ASSERT_EQUAL(fmp__env_parse_size(s, &v), 0);
    CU_ASSERT_EQUAL(v, want);
}

static void test_size(void)
{
    check_size("1M", 1UL << 20); /* the floor */
    check_size("1048576", 1UL << 20);
    check_size("1024K", 1UL << 20);
    check_size("1024k", 1UL << 20);
    check_size("1024KiB", 1UL << 20);
    check_size("1024KB", 1UL << 20);
    check_size("1048577B", (1UL << 20) + 1);
    check_size("2M", 2UL << 20);
    check_size("2MiB", 2UL << 20);
    check_size("1G", 1UL << 30);
    check_size(" 1 GiB ", 1UL << 30);
    check_size("3T", 3UL << 40);
    check_size("16GB", 16UL << 30);
    check_size("65536T", 1UL << 56); /* the ceiling */
    check_size("72057594037927936", 1UL << 56);
    check_size("72057594037927935", (1UL << 56) - 1);

    static const char *const bad[] = {
        "", "12Q", "0", "0G", "-1", "1.5G", "4KiBx", "G", "4 K B", "4Ki", "4iB", "4P", "abc", "4G4",
        /* below the floor: too small to hold the arena's header and a few teams */
        "1", "4096", "4K", "12B", "1048575", "1023K", "1023KiB", "0.5M",
        /* above the ceiling: no machine maps that much */
        "65537T", "72057594037927937", "9223372036854775808", "1048576P",
        /* the byte count, the multiplication by the unit, or the rounding up to a page
           overflows */
        "18446744073709551615", "18446744073709551616", "99999999999999999999", "16777216T",
        "17179869184G", "18014398509481984K", "18446744073709486081"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t v = 77;
        int rc = fmp__env_parse_size(bad[i], &v);
        CU_ASSERT_EQUAL(rc, FMP_EINVAL);
        CU_ASSERT_EQUAL(v, 77);
        if (rc != FMP_EINVAL)
            fprintf(stderr, "\n  size '%s' accepted as %zu\n", bad[i], v);
    }
}

/* The floor of FMP_SHARED_SIZE holds what env.h says: the arena's header (its locks, on
   a page of their own) and at least 16 teams of 64 members, with their block headers. */
static void test_size_floor(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t header = (FMP__CRIT_LOCKS + 2) * sizeof(pthread_mutex_t) + 64;
    size_t team = sizeof(fmp__shteam) + 64 * sizeof(fmp__slot) + 64;
    size_t need = (header + page - 1) / page * page + 16 * team;
    CU_ASSERT(need <= FMP__SHARED_SIZE_MIN);
    if (need > FMP__SHARED_SIZE_MIN)
        fprintf(stderr, "\n  the floor of %zu bytes holds less than promised (%zu)\n",
                FMP__SHARED_SIZE_MIN, need);
}

/* ---------------------------------------------------------------- proc-bind lists */

static void test_bind_list(void)
{
    int v[FMP__MAX_LEVELS], len = -1;
    CU_ASSERT_EQUAL(fmp__env_parse_bind_list("close", v, FMP__MAX_LEVELS, &len), 0);
    CU_ASSERT(len == 1 && v[0] == FMP__BIND_CLOSE);
    CU_ASSERT_EQUAL(fmp__env_parse_bind_list("spread, Close", v, FMP__MAX_LEVELS, &len), 0);
    CU_ASSERT(len == 2 && v[0] == FMP__BIND_SPREAD && v[1] == FMP__BIND_CLOSE);
    CU_ASSERT_EQUAL(fmp__env_parse_bind_list("master", v, FMP__MAX_LEVELS, &len), 0);
    CU_ASSERT(len == 1 && v[0] == FMP__BIND_PRIMARY);
    CU_ASSERT_EQUAL(fmp__env_parse_bind_list("primary,spread", v, FMP__MAX_LEVELS, &len), 0);
    CU_ASSERT(len == 2 && v[0] == FMP__BIND_PRIMARY && v[1] == FMP__BIND_SPREAD);
    CU_ASSERT_EQUAL(fmp__env_parse_bind_list(" TRUE ", v, FMP__MAX_LEVELS, &len), 0);
    CU_ASSERT(len == 1 && v[0] == FMP__BIND_TRUE);
    CU_ASSERT_EQUAL(fmp__env_parse_bind_list("false", v, FMP__MAX_LEVELS, &len), 0);
    CU_ASSERT(len == 1 && v[0] == FMP__BIND_FALSE);
    CU_ASSERT_EQUAL(fmp__env_parse_bind_list("close,close,close", v, 2, &len), FMP_EINVAL);
    /* a refused list writes nothing */
    static const char *const late[] = {"close,close,close", "spread,true", "close,x"};
    for (size_t i = 0; i < sizeof late / sizeof late[0]; i++) {
        int w[3] = {-9, -9, -9};
        len = -1;
        CU_ASSERT_EQUAL(fmp__env_parse_bind_list(late[i], w, 2, &len), FMP_EINVAL);
        CU_ASSERT(w[0] == -9 && w[1] == -9 && w[2] == -9 && len == -1);
    }

    static const char *const bad[] = {
        "",       "sideways",      "true,close", "close,false", "close,",
        ",close", "close,,spread", "closer",     "yes",         "spread close",
        "1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        len = -1;
        CU_ASSERT_EQUAL(fmp__env_parse_bind_list(bad[i], v, FMP__MAX_LEVELS, &len), FMP_EINVAL);
        CU_ASSERT_EQUAL(len, -1);
    }
}

/* ---------------------------------------------------------------- spin counts */

static void test_spin(void)
{
    long v;
    CU_ASSERT(fmp__env_parse_spin("0", &v) == 0 && v == 0);
    CU_ASSERT(fmp__env_parse_spin(" 1000 ", &v) == 0 && v == 1000);
    CU_ASSERT(fmp__env_parse_spin("10k", &v) == 0 && v == 10000);
    CU_ASSERT(fmp__env_parse_spin("10K", &v) == 0 && v == 10000);
    CU_ASSERT(fmp__env_parse_spin("3M", &v) == 0 && v == 3000000);
    CU_ASSERT(fmp__env_parse_spin("2G", &v) == 0 && v == 2000000000L);
    CU_ASSERT(fmp__env_parse_spin("1T", &v) == 0 && v == 1000000000000L);
    CU_ASSERT(fmp__env_parse_spin("infinity", &v) == 0 && v == LONG_MAX);
    CU_ASSERT(fmp__env_parse_spin("INFINITE", &v) == 0 && v == LONG_MAX);
    static const char *const bad[] = {
        "", "-1", "1x", "10m", "k", "1kk", "infinity2", "99999999999999999999", "9999999999T"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(fmp__env_parse_spin(bad[i], &v), FMP_EINVAL);
}

/* ---------------------------------------------------------------- places */

/* places as "0,1|2,3" for easy comparison */
static void places_text(const fmp__places *p, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < p->nplaces && o < len; k++) {
        o += (size_t)snprintf(buf + o, len - o, "%s", k ? "|" : "");
        for (int r = p->first[k]; r < p->first[k + 1] && o < len; r++)
            o += (size_t)snprintf(buf + o, len - o, "%s%d", r > p->first[k] ? "," : "", p->ids[r]);
    }
}

static void check_explicit(const char *s, const char *want)
{
    fmp__places p;
    char got[512] = "";
    int rc = fmp__env_parse_places(s, &p);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(p.kind, FMP__PLACES_EXPLICIT);
    if (rc == 0)
        places_text(&p, got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, want);
    if (rc != 0 || strcmp(got, want) != 0)
        fprintf(stderr, "\n  places '%s': rc %d, got '%s', want '%s'\n", s, rc, got, want);
    fmp__env_places_free(&p);
}

static void check_abstract(const char *s, int kind, int count)
{
    fmp__places p;
    CU_ASSERT_EQUAL(fmp__env_parse_places(s, &p), 0);
    CU_ASSERT_EQUAL(p.kind, kind);
    CU_ASSERT_EQUAL(p.count, count);
    CU_ASSERT_EQUAL(fmp__env_parse_places(s, NULL), 0);
}

static void test_places(void)
{
    check_abstract("threads", FMP__PLACES_THREADS, 0);
    check_abstract("cores", FMP__PLACES_CORES, 0);
    check_abstract(" CORES(4) ", FMP__PLACES_CORES, 4);
    check_abstract("sockets", FMP__PLACES_SOCKETS, 0);
    check_abstract("ll_caches(2)", FMP__PLACES_LL_CACHES, 2);
    check_abstract("numa_domains", FMP__PLACES_NUMA, 0);
    check_abstract("threads ( 8 )", FMP__PLACES_THREADS, 8);

    check_explicit("{0,1},{2,3}", "0,1|2,3");
    check_explicit("{0:4}:4:4", "0,1,2,3|4,5,6,7|8,9,10,11|12,13,14,15");
    check_explicit("{0:2}", "0,1");
    check_explicit(" { 0 : 2 } , { 4 : 2 } ", "0,1|4,5");
    check_explicit("{0:4:2}", "0,2,4,6");
    check_explicit("{3,1,2,1}", "1,2,3");
    check_explicit("{0:4,!2}", "0,1,3");
    check_explicit("{0},{1},!{0}", "1");
    check_explicit("{0:2}:3", "0,1|1,2|2,3");
    check_explicit("{8:4}:2:-4", "8,9,10,11|4,5,6,7");
    check_explicit("3", "3");
    check_explicit("0:4", "0|1|2|3");
    check_explicit("0:2:8,1:2:8", "0|8|1|9");

    static const char *const bad[] = {"",
                                      "cores(0)",
                                      "cores(",
                                      "cores(4",
                                      "cores x",
                                      "core",
                                      "foo",
                                      "{0,1",
                                      "0,1}",
                                      "{}",
                                      "{0,!0}",
                                      "{0},,{1}",
                                      "{0}:0",
                                      "{4}:2:-8",
                                      "{-1}",
                                      "{0:4}:4:4x",
                                      "!{0}",
                                      "{0:-2}",
                                      "{0}:",
                                      "{0}::2",
                                      "cores(-1)",
                                      "{0};{1}",
                                      "{a}",
                                      "!3x",
                                      "{0:0}",
                                      "{0:4}:99999999999",
                                      "{99999999999}",
                                      "threads(4),cores"};
    /* exclusions scan the list built so far: a bounded number of scans, refused past
       it, so that a short value cannot take minutes */
    static char many[16 + 3 * 200];
    strcpy(many, "0:60000,!0");
    CU_ASSERT_EQUAL(fmp__env_parse_places(many, NULL), 0);
    for (int i = 1; i < 200; i++)
        strcat(many, ",!0");
    CU_ASSERT_EQUAL(fmp__env_parse_places(many, NULL), FMP_EINVAL);
    check_explicit("0:4,!1,!2,!1", "0|3");
    /* at most FMP__PLACE_IDS_MAX PU numbers from one list */
    CU_ASSERT_EQUAL(fmp__env_parse_places("0:65535", NULL), 0);
    CU_ASSERT_EQUAL(fmp__env_parse_places("0:65536", NULL), FMP_EINVAL);
    CU_ASSERT_EQUAL(fmp__env_parse_places("{0:256}:255", NULL), 0); /* 256 + 255 x 256 */
    CU_ASSERT_EQUAL(fmp__env_parse_places("{0:256}:256", NULL), FMP_EINVAL);

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fmp__places p;
        int rc = fmp__env_parse_places(bad[i], &p);
        CU_ASSERT_EQUAL(rc, FMP_EINVAL);
        if (rc != FMP_EINVAL)
            fprintf(stderr, "\n  places '%s' accepted\n", bad[i]);
        CU_ASSERT_EQUAL(fmp__env_parse_places(bad[i], NULL), FMP_EINVAL);
    }
}

/* ---------------------------------------------------------------- fmp__env_init */

static void test_init_defaults(void)
{
    clear_env();
    fmp__env_init();
    const fmp__icv *g = &fmp__g_icv;
    CU_ASSERT_EQUAL(g->nthreads_len, 0);
    CU_ASSERT_EQUAL(g->max_active_levels, 1);
    CU_ASSERT_EQUAL(g->nested_set, 0);
    CU_ASSERT_EQUAL(g->thread_limit, INT_MAX);
    CU_ASSERT_EQUAL(g->run_sched.kind, FMP_SCHED_STATIC);
    CU_ASSERT_EQUAL(g->run_sched.chunk, 0);
    CU_ASSERT_EQUAL(g->bind_len, 0);
    CU_ASSERT_EQUAL(g->bind[0], FMP__BIND_UNSET);
    CU_ASSERT_STRING_EQUAL(g->places, "");
    CU_ASSERT_EQUAL(g->display_env, 0);
    CU_ASSERT_EQUAL(g->display_affinity, 0);
    CU_ASSERT_STRING_EQUAL(g->affinity_format, "");
    CU_ASSERT_EQUAL(g->shared_size, 0);
    CU_ASSERT_EQUAL(g->wait_policy, FMP__WAIT_UNSET);
    CU_ASSERT_EQUAL(g->spin_count, 300000);
    CU_ASSERT_EQUAL(g->on_error, FMP_ERRORS_ABORT);
    CU_ASSERT(g->num_procs >= 1);
    CU_ASSERT_EQUAL(g->num_procs, fmp__affinity_count());
}

static void test_init_prefixes(void)
{
    const fmp__icv *g = &fmp__g_icv;
    clear_env();
    setenv("OMP_NUM_THREADS", "3", 1);
    fmp__env_init();
    CU_ASSERT(g->nthreads_len == 1 && g->nthreads[0] == 3);
    CU_ASSERT_EQUAL(g->nthreads[FMP__MAX_LEVELS - 1], 3); /* deeper levels: the last */
    CU_ASSERT_EQUAL(g->max_active_levels, 1);

    /* FMP_ wins, even over a malformed OMP_ value (never read) */
    setenv("FMP_NUM_THREADS", "4, 2", 1);
    setenv("OMP_NUM_THREADS", "garbage", 1);
    fmp__env_init();
    CU_ASSERT(g->nthreads_len == 2 && g->nthreads[0] == 4 && g->nthreads[1] == 2);
    CU_ASSERT_EQUAL(g->nthreads[5], 2);
    CU_ASSERT_EQUAL(g->max_active_levels, FMP__MAX_LEVELS); /* a list of levels nests */
    CU_ASSERT_EQUAL(g->nested_set, 0);

    setenv("OMP_NESTED", "false", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->max_active_levels, 1);
    CU_ASSERT_EQUAL(g->nested_set, 1);
    setenv("FMP_NESTED", "yes", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->max_active_levels, FMP__MAX_LEVELS);
    setenv("OMP_MAX_ACTIVE_LEVELS", "2", 1); /* wins over NESTED */
    fmp__env_init();
    CU_ASSERT_EQUAL(g->max_active_levels, 2);
    setenv("FMP_MAX_ACTIVE_LEVELS", "1000", 1); /* FMP_ wins; capped */
    fmp__env_init();
    CU_ASSERT_EQUAL(g->max_active_levels, FMP__MAX_LEVELS);

    clear_env();
    setenv("OMP_THREAD_LIMIT", "8", 1);
    setenv("OMP_SCHEDULE", "guided,7", 1);
    setenv("FMP_SCHEDULE", "dynamic", 1);
    setenv("OMP_PROC_BIND", "spread,close", 1);
    setenv("OMP_DISPLAY_ENV", "VERBOSE", 1);
    setenv("FMP_DISPLAY_AFFINITY", "yes", 1);
    setenv("OMP_AFFINITY_FORMAT", " %n of %N on %A ", 1);
    setenv("FMP_SHARED_SIZE", "2G", 1);
    setenv("FMP_ON_ERROR", "return", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->thread_limit, 8);
    CU_ASSERT(g->run_sched.kind == FMP_SCHED_DYNAMIC && g->run_sched.chunk == 0);
    CU_ASSERT(g->bind_len == 2 && g->bind[0] == FMP__BIND_SPREAD);
    CU_ASSERT(g->bind[1] == FMP__BIND_CLOSE && g->bind[FMP__MAX_LEVELS - 1] == FMP__BIND_CLOSE);
    CU_ASSERT_EQUAL(g->max_active_levels, FMP__MAX_LEVELS);
    CU_ASSERT_EQUAL(g->display_env, 2);
    CU_ASSERT_EQUAL(g->display_affinity, 1);
    CU_ASSERT_STRING_EQUAL(g->affinity_format, "%n of %N on %A");
    CU_ASSERT_EQUAL(g->shared_size, 2UL << 30);
    CU_ASSERT_EQUAL(g->on_error, FMP_ERRORS_RETURN);

    /* FMP_PLACES alone turns binding on (true), as in libgomp */
    clear_env();
    setenv("OMP_PLACES", " {0:2},{2:2} ", 1);
    fmp__env_init();
    CU_ASSERT_STRING_EQUAL(g->places, "{0:2},{2:2}");
    CU_ASSERT(g->bind_len == 1 && g->bind[0] == FMP__BIND_TRUE);
    setenv("FMP_PROC_BIND", "false", 1);
    fmp__env_init();
    CU_ASSERT(g->bind_len == 1 && g->bind[0] == FMP__BIND_FALSE);
    clear_env();
}

static void test_init_spin(void)
{
    const fmp__icv *g = &fmp__g_icv;
    clear_env();
    setenv("OMP_WAIT_POLICY", "passive", 1);
    fmp__env_init();
    CU_ASSERT(g->wait_policy == FMP__WAIT_PASSIVE && g->spin_count == 0);
    setenv("FMP_WAIT_POLICY", "ACTIVE", 1);
    fmp__env_init();
    CU_ASSERT(g->wait_policy == FMP__WAIT_ACTIVE && g->spin_count == 1000000000L);
    setenv("GOMP_SPINCOUNT", "5k", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->spin_count, 5000);
    setenv("FMP_SPIN_COUNT", "12", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->spin_count, 12);
    clear_env();
    fmp__env_init();
    CU_ASSERT_EQUAL(g->spin_count, 300000);
    /* FMP_BARRIER_TREE: a team size from 2 (past the largest team: clamped), or off */
    CU_ASSERT_EQUAL(g->barrier_tree, FMP__TREE_DEFAULT);
    setenv("FMP_BARRIER_TREE", "2", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->barrier_tree, 2);
    setenv("FMP_BARRIER_TREE", " OFF ", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->barrier_tree, 0);
    setenv("FMP_BARRIER_TREE", "100000", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->barrier_tree, FMP__MAX_TEAM);
    /* FMP_CHECK: writes, writes:FILE (the file as given), off */
    clear_env();
    fmp__env_init();
    CU_ASSERT_EQUAL(g->check, 0);
    setenv("FMP_CHECK", " Writes ", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->check, FMP__CHECK_WRITES);
    CU_ASSERT_STRING_EQUAL(g->check_file, "");
    setenv("FMP_CHECK", "writes:/tmp/Lost Writes.json", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->check, FMP__CHECK_WRITES);
    CU_ASSERT_STRING_EQUAL(g->check_file, "/tmp/Lost Writes.json");
    setenv("FMP_CHECK", "off", 1);
    fmp__env_init();
    CU_ASSERT_EQUAL(g->check, 0);
    CU_ASSERT_STRING_EQUAL(g->check_file, "");
    clear_env();
    fmp__env_init();
}

/* ---------------------------------------------------------------- fmp__env_load */

/* an environment of its own: pairs name, value, ..., NULL */
static const char *from_pairs(const char *name, void *ctx)
{
    for (const char *const *p = ctx; p[0]; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

static void test_load(void)
{
    fmp__icv icv, before;
    fmp__env_error e = {0};
    const char *good[] = {"OMP_NUM_THREADS", "4,2", "FMP_SCHEDULE", "guided,3", "FMP_PLACES",
                          " {0:2} ",         NULL};
    memset(&icv, 0x5a, sizeof icv);
    CU_ASSERT_EQUAL(fmp__env_load(&icv, from_pairs, good, &e), 0);
    CU_ASSERT(icv.nthreads_len == 2 && icv.nthreads[0] == 4 && icv.nthreads[15] == 2);
    CU_ASSERT(icv.run_sched.kind == FMP_SCHED_GUIDED && icv.run_sched.chunk == 3);
    CU_ASSERT_STRING_EQUAL(icv.places, "{0:2}");
    CU_ASSERT(icv.bind_len == 1 && icv.bind[0] == FMP__BIND_TRUE);

    /* the first malformed variable in the table's order, under the name it was read;
       the ICVs untouched, also those parsed before it */
    const char *bad[] = {
        "OMP_NUM_THREADS", "8", "OMP_SCHEDULE", "dynamic,", "FMP_WAIT_POLICY", "lazy", NULL};
    before = icv;
    CU_ASSERT_EQUAL(fmp__env_load(&icv, from_pairs, bad, &e), FMP_EINVAL);
    CU_ASSERT_STRING_EQUAL(e.name, "OMP_SCHEDULE");
    CU_ASSERT_STRING_EQUAL(e.value, "dynamic,");
    CU_ASSERT_PTR_NOT_NULL(e.expected);
    CU_ASSERT_EQUAL(memcmp(&icv, &before, sizeof icv), 0);
    /* a value that parses but lies outside what the table allows */
    const char *big[] = {"FMP_NUM_THREADS", "2,4097", NULL};
    CU_ASSERT_EQUAL(fmp__env_load(&icv, from_pairs, big, &e), FMP_EINVAL);
    CU_ASSERT_STRING_EQUAL(e.name, "FMP_NUM_THREADS");
    CU_ASSERT_EQUAL(memcmp(&icv, &before, sizeof icv), 0);
}

/* ---------------------------------------------------------------- malformed values */

/* fmp__env_init() in a child with name=value: its exit status (-1: killed) and stderr. */
static int init_in_child(const char *name, const char *value, char *err, size_t len)
{
    char path[] = "/tmp/fmp_test_env_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -2;
    unlink(path);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        dup2(fd, 2);
        clear_env();
        setenv(name, value, 1);
        fmp__env_init();
        _exit(0);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    ssize_t n = pread(fd, err, len - 1, 0);
    err[n > 0 ? n : 0] = '\0';
    close(fd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The values text of the table's row for name (its FMP_ name or its alias). */
static const char *expected_for(const char *name)
{
    const fmp__envvar_doc *d;
    for (size_t i = 0; (d = fmp__env_var_doc(i)); i++)
        if (strcmp(d->name, name) == 0 || (d->alias && strcmp(d->alias, name) == 0))
            return d->values;
    return "?";
}

/* exit status 1 and exactly the catalogue's line, naming the variable as it was read */
static void check_refused(const char *name, const char *value, const char *shown)
{
    char err[4096], want[4096];
    int rc = init_in_child(name, value, err, sizeof err);
    snprintf(want, sizeof want, "forkmp: " FMP__MSG_env_bad_value "\n", name, shown,
             expected_for(name));
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_STRING_EQUAL(err, want);
    if (rc != 1 || strcmp(err, want) != 0)
        fprintf(stderr, "\n  %s='%s': exit %d, stderr '%s', want '%s'\n", name, shown, rc, err,
                want);
}

static void test_malformed(void)
{
    check_refused("FMP_NUM_THREADS", "4,x", "4,x");
    check_refused("OMP_SCHEDULE", "dynamic,0", "dynamic,0");
    check_refused("GOMP_SPINCOUNT", "lots", "lots");
    check_refused("FMP_PLACES", "{0,1", "{0,1");
    /* a list that parses but is too long to keep: refused, and the value shown cut */
    char longlist[400] = "0", shown[256];
    while (strlen(longlist) < 300)
        strcat(longlist, ",0");
    memcpy(shown, longlist, sizeof shown - 1);
    shown[sizeof shown - 1] = '\0';
    check_refused("OMP_PLACES", longlist, shown);
    /* one line whatever the value holds: control characters are shown as '?' */
    check_refused("FMP_WAIT_POLICY", "act\nive\t", "act?ive?");
    /* a good value: no output, exit 0 */
    char err[4096];
    CU_ASSERT_EQUAL(init_in_child("OMP_NUM_THREADS", "3", err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
}

/* ---------------------------------------------------------------- FMP_DISPLAY_ENV */

/* What fmp__env_display(verbose) writes to stderr. */
static char *capture_display(int verbose)
{
    char path[] = "/tmp/fmp_test_env_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fmp__env_display(verbose);
    dup2(saved, 2);
    close(saved);
    off_t len = lseek(fd, 0, SEEK_END);
    char *buf = calloc(1, (size_t)len + 1);
    if (buf && pread(fd, buf, (size_t)len, 0) != len) {
        free(buf);
        buf = NULL;
    }
    close(fd);
    return buf;
}

/* The block holds the catalogue's line for name and value. */
static int shows(const char *out, const char *name, const char *value)
{
    char line[1024];
    snprintf(line, sizeof line, FMP__MSG_env_display_var, name, value);
    if (strstr(out, line))
        return 1;
    fprintf(stderr, "\n  FMP_DISPLAY_ENV lacks %s", line);
    return 0;
}

/* The block starts with the catalogue's first lines (this version) and ends with its last. */
static int framed(const char *out)
{
    char begin[256], end[256];
    snprintf(begin, sizeof begin, FMP__MSG_env_display_begin, FMP_VERSION_STRING);
    snprintf(end, sizeof end, FMP__MSG_env_display_end);
    size_t lo = strlen(out), lb = strlen(begin), le = strlen(end);
    return lo > lb + le && strncmp(out, begin, lb) == 0 && strcmp(out + lo - le, end) == 0;
}

static void test_display(void)
{
    clear_env();
    setenv("FMP_NUM_THREADS", "4,2", 1);
    setenv("OMP_SCHEDULE", "dynamic,3", 1);
    setenv("OMP_PROC_BIND", "spread,close", 1);
    setenv("FMP_WAIT_POLICY", "active", 1);
    fmp__env_init();
    char *out = capture_display(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT(framed(out));
    CU_ASSERT(shows(out, "FMP_NUM_THREADS", "4,2"));
    CU_ASSERT(shows(out, "FMP_SCHEDULE", "DYNAMIC,3"));
    CU_ASSERT(shows(out, "FMP_PROC_BIND", "SPREAD,CLOSE"));
    CU_ASSERT(shows(out, "FMP_NESTED", "TRUE"));
    CU_ASSERT(shows(out, "FMP_MAX_ACTIVE_LEVELS", "16"));
    CU_ASSERT(shows(out, "FMP_WAIT_POLICY", "ACTIVE"));
    CU_ASSERT(shows(out, "FMP_PLACES", ""));
    CU_ASSERT_PTR_NULL(strstr(out, "FMP_SHARED_SIZE"));
    CU_ASSERT_PTR_NULL(strstr(out, "FMP_SPIN_COUNT"));
    free(out);

    setenv("FMP_SHARED_SIZE", "1M", 1);
    fmp__env_init();
    out = capture_display(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT(shows(out, "FMP_SHARED_SIZE", "1048576"));
    CU_ASSERT(shows(out, "FMP_ON_ERROR", "ABORT"));
    CU_ASSERT(shows(out, "FMP_SPIN_COUNT", "1000000000"));
    CU_ASSERT(shows(out, "FMP_BARRIER_TREE", "16"));
    free(out);

    /* one line per variable: control characters of a value are shown as '?' */
    clear_env();
    setenv("OMP_PLACES", "{0,\n1}", 1);
    setenv("FMP_AFFINITY_FORMAT", "%n\t%N", 1);
    fmp__env_init();
    out = capture_display(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT(shows(out, "FMP_PLACES", "{0,?1}"));
    CU_ASSERT(shows(out, "FMP_AFFINITY_FORMAT", "%n?%N"));
    free(out);

    clear_env();
    fmp__env_init();
    out = capture_display(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    char procs[16];
    snprintf(procs, sizeof procs, "%d", fmp__affinity_count());
    CU_ASSERT(shows(out, "FMP_NUM_THREADS", procs));
    CU_ASSERT(shows(out, "FMP_PROC_BIND", "FALSE"));
    CU_ASSERT(shows(out, "FMP_SCHEDULE", "STATIC"));
    free(out);
}

/* ---------------------------------------------------------------- the one list */

/* Every row of the code's table is a line of doc/environment.md, and the doc's table
   has no other rows. */
static void test_doc_in_sync(void)
{
    char path[4096];
    const char *top = getenv("FMP_TOP_SRCDIR");
    snprintf(path, sizeof path, "%s/doc/environment.md", top ? top : FMP_TOP_SRCDIR);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static char doc[1 << 16];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    char row[2048];
    size_t rows = 0;
    for (size_t i = 0; fmp__env_doc_row(i, row, sizeof row); i++, rows++) {
        char line[2100];
        snprintf(line, sizeof line, "\n%s\n", row);
        CU_ASSERT_PTR_NOT_NULL(strstr(doc, line));
        if (!strstr(doc, line))
            fprintf(stderr, "\n  doc/environment.md lacks the row:\n%s\n", row);
    }
    CU_ASSERT(rows >= 14);
    size_t doc_rows = 0;
    for (const char *p = doc; (p = strstr(p, "\n| `FMP_")); p++)
        doc_rows++;
    CU_ASSERT_EQUAL(doc_rows, rows);
}

int main(void)
{
    alarm(60); /* a watchdog: a hang is a failure */
    if (CU_initialize_registry() != CUE_SUCCESS)
        return CU_get_error();
    CU_pSuite s = CU_add_suite("env", NULL, NULL);
    CU_add_test(s, "booleans", test_bool);
    CU_add_test(s, "integer lists", test_int_list);
    CU_add_test(s, "schedules", test_schedule);
    CU_add_test(s, "sizes", test_size);
    CU_add_test(s, "FMP_SHARED_SIZE's floor", test_size_floor);
    CU_add_test(s, "proc-bind lists", test_bind_list);
    CU_add_test(s, "spin counts", test_spin);
    CU_add_test(s, "places", test_places);
    CU_add_test(s, "init: defaults", test_init_defaults);
    CU_add_test(s, "init: FMP_ over OMP_, combined rules", test_init_prefixes);
    CU_add_test(s, "init: wait policy and spin count", test_init_spin);
    CU_add_test(s, "fmp__env_load: reports, leaves the ICVs untouched", test_load);
    CU_add_test(s, "malformed values: message and exit status", test_malformed);
    CU_add_test(s, "FMP_DISPLAY_ENV", test_display);
    CU_add_test(s, "doc/environment.md matches the table", test_doc_in_sync);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
