/* test_output: stdout across fork, through tests/output_prog with stdout on a pipe and on
 * a file: nothing printed before a region is printed twice, a child's unflushed printf
 * is not lost, fmp_printf lines longer than PIPE_BUF from 8 members never interleave, and
 * what any member printed before a barrier comes before what anyone printed after it. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define LINE_LEN 6000 /* > PIPE_BUF (4096 on Linux): one write() is not atomic by itself */

/* Run output_prog MODE with stdout on a pipe (to_file 0) or a file; returns its stdout
   (free it) or NULL. */
static char *run_prog(const char *mode, int to_file, size_t *len)
{
    char path[4096], file[64] = "";
    ht_helper_path("output_prog", path, sizeof path);
    if (to_file) {
        strcpy(file, "/tmp/fmp-test-output.XXXXXX");
        int fd = mkstemp(file);
        if (!HT_CHECK_MSG(fd >= 0, "mkstemp: %s", strerror(errno)))
            return NULL;
        close(fd);
    }
    char *argv[] = { path, (char *)mode, NULL };
    ht_proc p;
    int rc = ht_run(argv, NULL, to_file ? file : NULL, 60, &p);
    if (to_file)
        unlink(file);
    if (!HT_CHECK_MSG(rc == 0, "cannot run %s: %s", path, strerror(-rc)))
        return NULL;
    char st[128];
    HT_CHECK_MSG(p.reaped && WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0,
                 "output_prog %s (stdout on a %s) %s; stderr: %.500s", mode,
                 to_file ? "file" : "pipe", ht_status_str(&p, st, sizeof st), p.err);
    char *out = p.out;
    *len = p.out_len;
    p.out = NULL;
    ht_proc_free(&p);
    return out;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *s = hay; (s = strstr(s, needle)) != NULL; s += strlen(needle))
        n++;
    return n;
}

static void dup_case(int to_file)
{
    size_t len;
    char *out = run_prog("dup", to_file, &len);
    if (!out)
        return;
    const char *on = to_file ? "file" : "pipe";
    HT_CHECK_MSG(count_of(out, "before pid") == 1, "stdout on a %s: \"before\" printed %d "
                 "times:\n%.600s", on, count_of(out, "before pid"), out);
    HT_CHECK_MSG(count_of(out, "after") == 1, "stdout on a %s: \"after\" printed %d times", on,
                 count_of(out, "after"));
    HT_CHECK_MSG(count_of(out, "inside member 3") == 1, "stdout on a %s: member 3's line "
                 "printed %d times", on, count_of(out, "inside member 3"));
    const char *b = strstr(out, "before"), *a = strstr(out, "after");
    HT_CHECK_MSG(b && a && b < a, "stdout on a %s: \"before\" does not come before \"after\"",
                 on);
    free(out);
}

static void test_nothing_printed_twice_pipe(void)
{
    dup_case(0);
}

static void test_nothing_printed_twice_file(void)
{
    dup_case(1);
}

static void unflushed_case(int to_file)
{
    size_t len;
    char *out = run_prog("unflushed", to_file, &len);
    if (!out)
        return;
    HT_CHECK_MSG(count_of(out, "unflushed-from-2") == 1,
                 "stdout on a %s: a child's unflushed printf appeared %d times:\n%.300s",
                 to_file ? "file" : "pipe", count_of(out, "unflushed-from-2"), out);
    HT_CHECK_INT_EQ(count_of(out, "end"), 1);
    free(out);
}

static void test_unflushed_child_output_kept_pipe(void)
{
    unflushed_case(0);
}

static void test_unflushed_child_output_kept_file(void)
{
    unflushed_case(1);
}

static unsigned checksum(const char *s, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void lines_case(int to_file)
{
    size_t len;
    char *out = run_prog("lines", to_file, &len);
    if (!out)
        return;
    const char *on = to_file ? "file" : "pipe";
    HT_CHECK_MSG(LINE_LEN > PIPE_BUF, "lines shorter than PIPE_BUF prove nothing");
    static int seen[8][200];
    memset(seen, 0, sizeof seen);
    int lines = 0, bad = 0;
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        lines++;
        int me = -1, k = -1, off = 0;
        unsigned sum = 0;
        int ok = sscanf(l, "L %d %d %n", &me, &k, &off) == 2 && me >= 0 && me < 8 && k >= 0 &&
                 k < 200 && strlen(l + off) > LINE_LEN;
        if (ok) {
            const char *payload = l + off;
            ok = payload[LINE_LEN] == ' ' && sscanf(payload + LINE_LEN, " %u", &sum) == 1 &&
                 sum == checksum(payload, LINE_LEN) &&
                 strspn(payload, "abcdefghijklmnopqrstuvwxyz") == LINE_LEN;
        }
        if (!ok) {
            if (bad++ < 2)
                HT_FAIL("stdout on a %s: line %d is torn or mixed: \"%.120s...\" (%zu chars)",
                        on, lines, l, strlen(l));
            continue;
        }
        seen[me][k]++;
    }
    HT_CHECK_MSG(bad == 0, "stdout on a %s: %d of %d lines torn or interleaved", on, bad, lines);
    HT_CHECK_MSG(lines == 1600, "stdout on a %s: %d lines, expected 8 x 200", on, lines);
    int missing = 0;
    for (int m = 0; m < 8; m++)
        for (int k = 0; k < 200; k++)
            missing += seen[m][k] != 1;
    HT_CHECK_MSG(missing == 0, "stdout on a %s: %d lines missing or repeated", on, missing);
    free(out);
}

static void test_long_lines_never_interleave_pipe(void)
{
    lines_case(0);
}

static void test_long_lines_never_interleave_file(void)
{
    lines_case(1);
}

static void barrier_case(int to_file)
{
    size_t len;
    char *out = run_prog("barrier", to_file, &len);
    if (!out)
        return;
    const char *on = to_file ? "file" : "pipe";
    int phase = 0, lines = 0, bad = 0;
    int seen[10][4];
    memset(seen, 0, sizeof seen);
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char what[8];
        int r, m;
        if (sscanf(l, "%7s %d %d", what, &r, &m) != 3 || r < 0 || r >= 5 || m < 0 || m >= 4 ||
            (strcmp(what, "pre") && strcmp(what, "post"))) {
            if (bad++ < 2)
                HT_FAIL("stdout on a %s: unexpected line \"%.80s\"", on, l);
            continue;
        }
        lines++;
        int ph = 2 * r + (what[1] == 'o');
        seen[ph][m]++;
        if (ph < phase && bad++ < 2)
            HT_FAIL("stdout on a %s: \"%s\" after output of a later phase (%d): a barrier "
                    "did not order the members' output",
                    on, l, phase);
        if (ph > phase)
            phase = ph;
    }
    HT_CHECK_INT_EQ(bad, 0);
    HT_CHECK_INT_EQ(lines, 40);
    for (int ph = 0; ph < 10; ph++)
        for (int m = 0; m < 4; m++)
            HT_CHECK_MSG(seen[ph][m] == 1, "stdout on a %s: phase %d of member %d printed %d "
                         "times", on, ph, m, seen[ph][m]);
    free(out);
}

static void test_barrier_orders_output_pipe(void)
{
    barrier_case(0);
}

static void test_barrier_orders_output_file(void)
{
    barrier_case(1);
}

static const ht_test tests[] = {
    HT_TEST(test_nothing_printed_twice_pipe),
    HT_TEST(test_nothing_printed_twice_file),
    HT_TEST(test_unflushed_child_output_kept_pipe),
    HT_TEST(test_unflushed_child_output_kept_file),
    HT_TEST_TIMEOUT(test_long_lines_never_interleave_pipe, 60),
    HT_TEST_TIMEOUT(test_long_lines_never_interleave_file, 60),
    HT_TEST(test_barrier_orders_output_pipe),
    HT_TEST(test_barrier_orders_output_file),
    HT_END
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "output", tests);
}
