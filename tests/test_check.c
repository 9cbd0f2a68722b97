/* test_check: the lost-write detector (FMP_CHECK=writes), through tests/check_prog.
 *
 * Each case runs check_prog under FMP_CHECK=writes:FILE with FMP_REGION=fork and =warm
 * and reads its stderr and the JSON lines of FILE:
 *  - a global array, a file-scope static, a heap block allocated before the region (by
 *    malloc, or by C++'s operator new[]; two blocks of one wrapper called at two lines
 *    apart), a private mapping made before it (one moved by
 *    mremap since), a local of the function calling the region's function, the locals of the
 * region's own function declared before its block: each found once, named (the symbol and its type;
 *    the allocation site's file and line; the local and its function), with the elements or
 *    bytes written,
 *    the member, the region's place and the fix;
 *  - the writes that are not lost (shared memory, the body's own locals, a block the
 *    member allocated, the master's writes, a reduction, a local whose stack slot -O2
 *    gives to the region's own state): no line;
 *  - one lost write in 20 regions: one line; 4096 runs of bytes in one global: one line;
 *  - a persistent team's runs: checked the same way, once per place;
 *  - a worksharing mismatch under the check: reported, no hang;
 *  - fmp_set_check: bad values and calls inside a region refused, on and off at run time;
 *  - the program executed again with the interposer preloaded keeps its name;
 *  - FMP_CHECK unset: nothing is said, nothing is preloaded.
 * Where members cannot track their writes (a sanitizer build, valgrind: the detector says
 * so once), the cases check that message and that the program still runs right. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

typedef struct run {
    ht_proc p;
    char *json;    /* FILE's text, "" when none */
    int lines;     /* "lost write" lines on stderr */
    int checkable; /* the detector did not say it cannot check here */
} run;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *buf = calloc(1, 1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* check_prog CASE under FMP_REGION=mode, FMP_CHECK=check (NULL: unset; "FILE" in it is
   replaced by a temporary file). */
static void run_case(run *r, const char *what, const char *mode, const char *check)
{
    char path[4096], file[64] = "/tmp/fmp-test-check.XXXXXX", env_mode[64], env_check[256];
    ht_helper_path("check_prog", path, sizeof path);
    int fd = mkstemp(file);
    HT_REQUIRE_MSG(fd >= 0, "mkstemp failed");
    close(fd);
    unlink(file);
    snprintf(env_mode, sizeof env_mode, "FMP_REGION=%s", mode);
    if (check) {
        const char *f = strstr(check, "FILE");
        snprintf(env_check, sizeof env_check, "FMP_CHECK=%.*s%s", f ? (int)(f - check) : 200, check,
                 f ? file : "");
    } else {
        snprintf(env_check, sizeof env_check, "FMP_CHECK");
    }
    const char *env[] = {env_mode, env_check, "FMP_NUM_THREADS", NULL};
    char *argv[] = {path, (char *)what, NULL};
    memset(r, 0, sizeof *r);
    int rc = ht_run(argv, env, NULL, 120, &r->p);
    HT_REQUIRE_MSG(rc == 0, "cannot run %s", path);
    char st[128];
    HT_CHECK_MSG(r->p.reaped && WIFEXITED(r->p.status) && WEXITSTATUS(r->p.status) == 0 &&
                     strstr(r->p.out, "done"),
                 "check_prog %s (FMP_REGION=%s, %s) %s; stdout: %.500s; stderr: %.2000s", what,
                 mode, env_check, ht_status_str(&r->p, st, sizeof st), r->p.out, r->p.err);
    r->json = slurp(file);
    unlink(file);
    r->lines = count(r->p.err, "lost write in the region at ");
    r->checkable = strstr(r->p.err, "cannot be checked here") == NULL;
}

static void done(run *r)
{
    free(r->json);
    ht_proc_free(&r->p);
}

static const char *const modes[] = {"fork", "warm"};

/* A line of stderr holding all of the given texts. */
static int has_line(const char *err, const char *a, const char *b, const char *c)
{
    for (const char *p = err; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char line[4096];
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        if (strstr(line, a) && (!b || strstr(line, b)) && (!c || strstr(line, c)))
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static void test_global_and_static(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "global", modes[i], "writes:FILE");
        if (r.checkable) {
            HT_CHECK_MSG(r.lines == 3, "FMP_REGION=%s: %d lines, expected 3: %.3000s", modes[i],
                         r.lines, r.p.err);
            HT_CHECK_MSG(has_line(r.p.err,
                                  "the global `lost_array` (int[1000]: elements 100 to 199 of "
                                  "1000; in check_prog)",
                                  "member 1 wrote 400 bytes", "check_prog.c:"),
                         "FMP_REGION=%s: lost_array not named right: %.3000s", modes[i], r.p.err);
            /* two members wrote the same 8 bytes: 8 bytes */
            HT_CHECK_MSG(has_line(r.p.err,
                                  "`lost_static` (double[64]: element 5 of 64; in check_prog)",
                                  "member 1 (and 1 more members) wrote 8 bytes", NULL),
                         "FMP_REGION=%s: lost_static not named right: %.3000s", modes[i], r.p.err);
            /* a function's static by its own name, not GCC's calls.N */
            HT_CHECK_MSG(has_line(r.p.err, "the global `calls` (int; in check_prog)", NULL, NULL),
                         "FMP_REGION=%s: calls not named right: %.3000s", modes[i], r.p.err);
            HT_CHECK_MSG(has_line(r.p.err,
                                  "allocate it with fmp_shared_alloc, or combine it "
                                  "with fmp_reduce",
                                  NULL, NULL),
                         "no fix said: %.2000s", r.p.err);
            HT_CHECK_MSG(count(r.json, "\n") == 3 &&
                             strstr(r.json, "\"kind\":\"global\",\"name\":\"lost_array\"") &&
                             strstr(r.json, "\"bytes\":400,\"first\":400,\"last\":799,"
                                            "\"size\":4000") &&
                             strstr(r.json, "\"name\":\"lost_static\"") &&
                             strstr(r.json, "\"rank\":-1"),
                         "FMP_REGION=%s: JSON lines: %.2000s", modes[i], r.json);
        }
        done(&r);
    }
}

/* The number check_prog printed after "what " on stdout ("site 60"). */
static int printed(const run *r, const char *what)
{
    char key[32];
    snprintf(key, sizeof key, "%s ", what);
    const char *p = strstr(r->p.out, key);
    HT_REQUIRE_MSG(p, "check_prog did not print its %s line: %.500s", what, r->p.out);
    return atoi(p + strlen(key));
}

/* An allocation's site as the line gives it: made in fn at line, fn called by main at
   call. */
static void site_text(char *out, size_t len, const char *fn, int line, int call)
{
    snprintf(out, len, "check_prog.c:%d (in %s < main at check_prog.c:%d)", line, fn, call);
}

static void test_heap_block_by_site(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "heap", modes[i], "writes:FILE");
        char site[128];
        site_text(site, sizeof site, "make_grid", printed(&r, "site"), printed(&r, "call"));
        if (r.checkable) {
            HT_CHECK_MSG(r.lines == 1 && has_line(r.p.err,
                                                  "a heap block of 32768 bytes allocated "
                                                  "at ",
                                                  site, "(bytes 80 to 159)"),
                         "FMP_REGION=%s: expected one line naming the block of %s: %.3000s",
                         modes[i], site, r.p.err);
            HT_CHECK_MSG(strstr(r.json, "\"kind\":\"heap\"") && strstr(r.json, site) &&
                             strstr(r.json, "\"bytes\":80,"),
                         "FMP_REGION=%s: JSON: %.2000s", modes[i], r.json);
        }
        done(&r);
    }
}

/* an allocation wrapper called at two lines: two places, each named by its call */
static void test_wrapper_calls_apart(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "wrapper", modes[i], "writes");
        char sa[128], sb[128];
        site_text(sa, sizeof sa, "make_grid", printed(&r, "site"), printed(&r, "call_a"));
        site_text(sb, sizeof sb, "make_grid", printed(&r, "site"), printed(&r, "call_b"));
        if (r.checkable)
            HT_CHECK_MSG(r.lines == 2 &&
                             has_line(r.p.err, "a heap block of 4096 bytes", sa, NULL) &&
                             has_line(r.p.err, "a heap block of 4096 bytes", sb, NULL),
                         "FMP_REGION=%s: expected the blocks of %s and %s: %.3000s", modes[i], sa,
                         sb, r.p.err);
        done(&r);
    }
}

/* C++'s operator new[] is an allocation wrapper: its block is named by its caller */
static void test_cxx_operator_new(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "cxx", modes[i], "writes:FILE");
        if (strstr(r.p.out, "cxx: no libstdc++")) {
            done(&r);
            HT_SKIP("libstdc++.so.6 is not installed");
        }
        char site[128];
        site_text(site, sizeof site, "make_cxx", printed(&r, "site"), printed(&r, "call"));
        if (r.checkable)
            HT_CHECK_MSG(r.lines == 1 &&
                             has_line(r.p.err, "a heap block of 8000 bytes allocated at ", site,
                                      "(bytes 4000 to 4007)"),
                         "FMP_REGION=%s: expected one line naming the block of %s: %.3000s",
                         modes[i], site, r.p.err);
        done(&r);
    }
}

/* a private mapping made before the region (and one moved by mremap since): named by the
   mmap's line; a shared one and the member's own: not */
static void test_private_mapping(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "mapping", modes[i], "writes:FILE");
        char site[64], moved[64];
        snprintf(site, sizeof site, "made at check_prog.c:%d (in main)", printed(&r, "site"));
        snprintf(moved, sizeof moved, "made at check_prog.c:%d (in main)", printed(&r, "moved"));
        HT_CHECK_MSG(strstr(r.p.out, "mapping 0 0 4"), "FMP_REGION=%s: the writes: %.500s",
                     modes[i], r.p.out);
        if (r.checkable) {
            HT_CHECK_MSG(r.lines == 2, "FMP_REGION=%s: %d lines, expected 2: %.3000s", modes[i],
                         r.lines, r.p.err);
            HT_CHECK_MSG(
                has_line(r.p.err, "a private mapping of 65536 bytes ", site, "(bytes 800 to 807)"),
                "FMP_REGION=%s: the mapping of %s not named: %.3000s", modes[i], site, r.p.err);
            HT_CHECK_MSG(has_line(r.p.err, "a private mapping of 1048576 bytes ", moved,
                                  "(bytes 1048568 to 1048575)"),
                         "FMP_REGION=%s: the moved mapping of %s not named: %.3000s", modes[i],
                         moved, r.p.err);
            HT_CHECK_MSG(count(r.json, "\"kind\":\"mapping\"") == 2, "FMP_REGION=%s: JSON: %.2000s",
                         modes[i], r.json);
        }
        done(&r);
    }
}

/* a local whose stack slot the compiler shares with the region's own state is not told */
static void test_shared_stack_slot(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "slot", modes[i], "writes");
        HT_CHECK_MSG(strstr(r.p.out, "slot 60"), "FMP_REGION=%s: %.500s", modes[i], r.p.out);
        HT_CHECK_MSG(r.lines == 0, "FMP_REGION=%s: %d lines, expected none: %.3000s", modes[i],
                     r.lines, r.p.err);
        done(&r);
    }
}

static void test_local_of_enclosing_function(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "stack", modes[i], "writes");
        HT_CHECK_MSG(strstr(r.p.out, "acc 0"), "the master's acc changed: %.200s", r.p.out);
        if (r.checkable)
            HT_CHECK_MSG(r.lines == 1 && has_line(r.p.err,
                                                  "8 bytes of the local `acc` (long[8]: element 3 "
                                                  "of 8) of caller()",
                                                  "member 2 wrote", NULL),
                         "FMP_REGION=%s: expected one line naming caller(): %.3000s", modes[i],
                         r.p.err);
        done(&r);
    }
}

/* Locals of the function that holds the region (at -O0: each in its frame): a member's
   += on a scalar and its store into an array declared before the region are named; the
   block's own locals are not, nor a local into which every member receives a reduction's
   result (the member's bytes are the master's at the join). */
static void test_locals_of_the_region_function(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "local", modes[i], "writes:FILE");
        HT_CHECK_MSG(strstr(r.p.out, "local 0 0 6"), "the master's locals changed: %.200s",
                     r.p.out);
        if (r.checkable) {
            HT_CHECK_MSG(r.lines == 2 &&
                             has_line(r.p.err, "the local `sum` (double) of local_case()",
                                      "member 1 (and 1 more members) wrote 8 bytes", NULL) &&
                             has_line(r.p.err,
                                      "the local `counts` (long[4]: element 1 of 4) of "
                                      "local_case()",
                                      "member 2 wrote 8 bytes", NULL),
                         "FMP_REGION=%s: expected sum and counts, and nothing of the block's "
                         "own locals: %.3000s",
                         modes[i], r.p.err);
            HT_CHECK_MSG(strstr(r.json, "\"kind\":\"stack\",\"name\":\"sum\"") &&
                             strstr(r.json, "\"name\":\"counts\"") &&
                             strstr(r.json, "\"site\":\"local_case()\",\"type\":\"long[4]\","
                                            "\"elem\":8,\"bytes\":8,\"first\":8,\"last\":15,"
                                            "\"size\":32"),
                         "FMP_REGION=%s: JSON: %.2000s", modes[i], r.json);
        }
        done(&r);
    }
}

/* The master meets a barrier its members do not: they do not wait for the master's end
   for ever (they compare with its memory as it is), the end barrier reports the mismatch. */
static void test_mismatch_still_reported(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "mismatch", modes[i], "writes");
        HT_CHECK_MSG(strstr(r.p.out, "mismatch -1002") && strstr(r.p.err, "worksharing mismatch"),
                     "FMP_REGION=%s: the mismatch not reported: %.300s %.2000s", modes[i], r.p.out,
                     r.p.err);
        done(&r);
    }
}

/* The warm pool's snapshot member holds none of the program's descriptors: a pipe's
   write end the master closed is closed everywhere after the next region. */
static void test_snapshot_holds_no_descriptor(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "pipe", modes[i], "writes");
        HT_CHECK_MSG(strstr(r.p.out, "pipe 0"),
                     "FMP_REGION=%s: the read did not see the end: %.300s", modes[i], r.p.out);
        done(&r);
    }
}

/* A forked region's snapshot is reaped at the region's end: no zombie child between
   regions. */
static void test_no_zombie_after_a_region(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "zombie", modes[i], "writes");
        HT_CHECK_MSG(strstr(r.p.out, "zombies 0"), "FMP_REGION=%s: %.300s", modes[i], r.p.out);
        done(&r);
    }
}

static void test_clean_program_says_nothing(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "clean", modes[i], "writes:FILE");
        HT_CHECK_MSG(strstr(r.p.out, "clean 62 42 3"), "wrong results: %.300s", r.p.out);
        HT_CHECK_MSG(r.lines == 0 && r.json[0] == 0,
                     "FMP_REGION=%s: lines for writes that are not lost: %.3000s", modes[i],
                     r.p.err);
        done(&r);
    }
}

static void test_once_per_place(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "repeat", modes[i], "writes");
        if (r.checkable)
            HT_CHECK_MSG(
                r.lines == 1 &&
                    has_line(r.p.err, "`lost_array` (int[1000]: element 7 of 1000", NULL, NULL),
                "FMP_REGION=%s: expected one line for 20 regions: %.3000s", modes[i], r.p.err);
        done(&r);
    }
}

static void test_scattered_writes_one_place(void)
{
    for (int i = 0; i < 2; i++) {
        run r;
        run_case(&r, "scatter", modes[i], "writes");
        if (r.checkable)
            HT_CHECK_MSG(r.lines == 1 &&
                             has_line(r.p.err,
                                      "member 2 wrote 32768 bytes of the global `scatter` "
                                      "(double[8192]: elements 0 to 8190 of 8192",
                                      NULL, NULL) &&
                             !strstr(r.p.err, "more than"),
                         "FMP_REGION=%s: expected one line for 4096 runs: %.3000s", modes[i],
                         r.p.err);
        done(&r);
    }
}

static void test_persistent_team_runs(void)
{
    run r;
    run_case(&r, "team", "auto", "writes:FILE");
    HT_CHECK_MSG(strstr(r.p.out, "team 0"), "the master's global changed: %.200s", r.p.out);
    if (r.checkable) {
        HT_CHECK_MSG(r.lines == 0 &&
                         count(r.p.err, "lost write in a run of the team created "
                                        "at ") == 1 &&
                         has_line(r.p.err,
                                  "member 1 wrote 4 bytes of the global `lost_array` "
                                  "(int[1000]: element 50 of 1000",
                                  "which the master never sees", NULL),
                     "expected one line for the team's 5 runs: %.3000s", r.p.err);
        HT_CHECK_MSG(count(r.json, "\n") == 1 && strstr(r.json, "\"name\":\"lost_array\""),
                     "JSON: %.2000s", r.json);
    }
    done(&r);
}

/* The team made by a thread that ends: the snapshot is not killed with that thread (the
   parent-death signal belongs to the thread that forked). */
static void test_team_of_an_ended_thread(void)
{
    run r;
    run_case(&r, "thread_team", "auto", "writes");
    HT_CHECK_MSG(strstr(r.p.out, "team 0"), "the master's global changed: %.200s", r.p.out);
    HT_CHECK_MSG(r.checkable || strstr(r.p.err, "Function not implemented") ||
                     strstr(r.p.err, "Operation not supported"),
                 "the check stopped working: %.2000s", r.p.err);
    if (r.checkable)
        HT_CHECK_MSG(has_line(r.p.err, "lost write in a run of the team created at ",
                              "`lost_array` (int[1000]: element 50 of 1000", NULL),
                     "expected the team's lost write: %.3000s", r.p.err);
    done(&r);
}

static void test_set_check(void)
{
    run r;
    run_case(&r, "api", "auto", NULL);
    HT_CHECK_MSG(!strstr(r.p.out, "api:"), "fmp_set_check: %.500s", r.p.out);
    HT_CHECK_MSG(strstr(r.p.err, "fmp_set_check(\"bogus\"): expected writes") &&
                     strstr(r.p.err, "fmp_set_check() inside a region"),
                 "messages of the refused calls: %.2000s", r.p.err);
    if (r.checkable)
        HT_CHECK_MSG(r.lines == 1 && has_line(r.p.err, "`lost_array` (int[1000]: element 1 of 1000",
                                              NULL, NULL),
                     "expected the one lost write made while the check was on: %.3000s", r.p.err);
    /* turned on at run time: heap blocks cannot be named, and that is said */
    HT_CHECK_MSG(strstr(r.p.err, "heap blocks are not checked") || !r.checkable,
                 "no note on heap blocks: %.2000s", r.p.err);
    done(&r);
}

/* the program executed again with the interposer preloaded keeps its name (ps, pkill -x):
   an execution of /proc/self/exe is named "exe" */
static void test_name_kept(void)
{
    run r;
    run_case(&r, "name", "auto", "writes");
    /* under valgrind or a sanitizer nothing is executed again (and valgrind names the
       process itself) */
    if (r.checkable)
        HT_CHECK_MSG(strstr(r.p.out, "name check_prog preloaded 1"), "the process's name: %.500s",
                     r.p.out);
    done(&r);
}

static void test_off_by_default(void)
{
    run r;
    run_case(&r, "global", "auto", NULL);
    HT_CHECK_MSG(r.lines == 0 && !strstr(r.p.err, "FMP_CHECK"),
                 "something said without FMP_CHECK: %.2000s", r.p.err);
    done(&r);
}

static const ht_test tests[] = {HT_TEST_TIMEOUT(test_global_and_static, 240),
                                HT_TEST_TIMEOUT(test_heap_block_by_site, 240),
                                HT_TEST_TIMEOUT(test_wrapper_calls_apart, 240),
                                HT_TEST_TIMEOUT(test_cxx_operator_new, 240),
                                HT_TEST_TIMEOUT(test_private_mapping, 240),
                                HT_TEST_TIMEOUT(test_shared_stack_slot, 240),
                                HT_TEST_TIMEOUT(test_local_of_enclosing_function, 240),
                                HT_TEST_TIMEOUT(test_locals_of_the_region_function, 240),
                                HT_TEST_TIMEOUT(test_mismatch_still_reported, 120),
                                HT_TEST_TIMEOUT(test_snapshot_holds_no_descriptor, 120),
                                HT_TEST_TIMEOUT(test_no_zombie_after_a_region, 120),
                                HT_TEST_TIMEOUT(test_clean_program_says_nothing, 240),
                                HT_TEST_TIMEOUT(test_once_per_place, 240),
                                HT_TEST_TIMEOUT(test_scattered_writes_one_place, 240),
                                HT_TEST_TIMEOUT(test_persistent_team_runs, 120),
                                HT_TEST_TIMEOUT(test_team_of_an_ended_thread, 120),
                                HT_TEST_TIMEOUT(test_set_check, 120),
                                HT_TEST_TIMEOUT(test_name_kept, 120),
                                HT_TEST_TIMEOUT(test_off_by_default, 120),
                                HT_END};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "check", tests);
}
