/* test_faults: the fault-injection matrix.  Each way a member can fail (a NULL write,
 * abort(), raise(SIGKILL), kill -9 from another process, exit(3), _exit(0), return or
 * break out of the region's block, longjmp out of the region) in each place (the others in
 * a barrier, a lock, a critical section, a reduction, a dynamic loop, fmp_iterate, a nested
 * region, a persistent run, a persistent team between runs or after its last run, and the
 * master computing), in both error modes: tests/fault_prog WAY PLACE MODE, run as a
 * program under a deadline.  Per run the test checks
 *   - the exit status: 70 (FMP_EXIT_FAILURE) in abort mode; in return mode the program's
 *     own end (status 0, "END" printed by the master only) with the region's error
 *     printed: FMP_EMEMBER for a member that died (signals, _exit), FMP_EEXITED for exit(),
 *     return, break and longjmp (break out of FMP_FOR's body: the loop's usage error,
 *     FMP_EINVAL); the master's wait returned an error too, and fmp_last_failure() names
 *     the member;
 *   - the diagnostic on stderr (from the message catalogue, src/messages.h): the member,
 *     its pid and team, and how it failed (signal number and name, "called exit(3)", the
 *     exit status of _exit, "left the region's block", "longjmp", FMP_FOR's break);
 *   - the time from the failure mark to the program's end: at most END_LIMIT s, counted
 *     from the end of the master's computation where the master was computing;
 *   - nothing left: no process whose pid the program printed is alive, none was left as
 *     a zombie, the master had no child left at its end (return mode), no code ran after
 *     the failing call in abort mode, a member that left by longjmp was stopped at its
 *     next forkmp call; the harness checks the test's own children and /dev/shm.
 * The combinations that do not exist are listed, with their reasons, in
 * tests/fault_matrix.h; test_matrix checks that fault_prog refuses each of them and
 * prints them.  Every test prints "time WAY PLACE MODE: S s" into the log. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_matrix.h"
#include "harness.h"
#include "messages.h"

#define RUN_DEADLINE 10.0 /* s: a program still running then is a hang */
#define END_LIMIT 2.0     /* s from the failure to the program's end */
#define MAX_PIDS 16


typedef struct who_pid {
    char who[16];
    pid_t pid;
} who_pid;

typedef struct outcome {
    ht_proc p;
    who_pid members[MAX_PIDS];
    int nmembers;
    pid_t killer;
} outcome;

static pid_t pid_of(const outcome *o, const char *who)
{
    for (int i = 0; i < o->nmembers; i++)
        if (strcmp(o->members[i].who, who) == 0)
            return o->members[i].pid;
    return -1;
}

/* "member WHO pid P" and "killer pid P" lines of stdout (a member may print twice: the
   persistent teams' members at every run). */
static void parse_pids(outcome *o)
{
    o->nmembers = 0;
    o->killer = -1;
    for (const char *l = o->p.out; l && *l;) {
        char who[16];
        int pid;
        if (sscanf(l, "member %15s pid %d", who, &pid) == 2 && pid_of(o, who) < 0 &&
            o->nmembers < MAX_PIDS) {
            snprintf(o->members[o->nmembers].who, sizeof o->members[0].who, "%s", who);
            o->members[o->nmembers++].pid = pid;
        } else if (sscanf(l, "killer pid %d", &pid) == 1) {
            o->killer = pid;
        }
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : NULL;
    }
}

/* The value of the first line "PREFIX VALUE ..." of text, or `none` when there is none. */
static long line_value(const char *text, const char *prefix, long none)
{
    size_t k = strlen(prefix);
    for (const char *l = text; l && *l;) {
        if (strncmp(l, prefix, k) == 0 && l[k] == ' ')
            return strtol(l + k + 1, NULL, 10);
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : NULL;
    }
    return none;
}

/* The rest of the line that starts with prefix (in a static buffer), or NULL. */
static const char *line_rest(const char *text, const char *prefix)
{
    static char buf[2048];
    size_t k = strlen(prefix);
    for (const char *l = text; l && *l;) {
        const char *nl = strchr(l, '\n');
        if (strncmp(l, prefix, k) == 0) {
            size_t n = nl ? (size_t)(nl - l) - k : strlen(l + k);
            if (n >= sizeof buf)
                n = sizeof buf - 1;
            memcpy(buf, l + k, n);
            buf[n] = 0;
            return buf;
        }
        l = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    size_t k = strlen(prefix);
    for (const char *l = text; l && *l;) {
        n += strncmp(l, prefix, k) == 0;
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : NULL;
    }
    return n;
}

/* ---------------------------------------------------------------- expectations */

/* The error the failing call returns in return mode. */
static int expected_error(int way, int place)
{
    switch (way) {
    case FM_EXIT3:
    case FM_LONGJMP:
        return FMP_EEXITED;
    case FM_RETURN: /* out of FMP_CRITICAL: the critical's block, left first, is the error */
        return place == FM_CRITICAL ? FMP_EINVAL : FMP_EEXITED;
    case FM_BREAK:
        return place == FM_LOOP || place == FM_CRITICAL ? FMP_EINVAL : FMP_EEXITED;
    default:
        return FMP_EMEMBER;
    }
}

static int sanitized(void)
{
    const char *v = getenv("FORKMP_TEST_SANITIZERS");
    return v && strcmp(v, "yes") == 0;
}

/* What the diagnostic says of how the member failed, from the catalogue. */
static void expected_how(int way, int place, char *buf, size_t len)
{
    switch (way) {
    case FM_SEGV:
        /* in a sanitizer build (FORKMP_TEST_SANITIZERS=yes, set by its make check) forkmp's
           recorder chains to ASan's SEGV handler, which reports the fault and ends the
           member with status 1 */
        if (sanitized())
            snprintf(buf, len, FMP__MSG_got_signal, SIGSEGV, "SIGSEGV");
        else
            snprintf(buf, len, FMP__MSG_killed_by, SIGSEGV, "SIGSEGV");
        break;
    case FM_ABORT:
        snprintf(buf, len, FMP__MSG_killed_by FMP__MSG_raised_self, SIGABRT, "SIGABRT");
        break;
    case FM_RAISE9:
    case FM_KILL9:
        snprintf(buf, len, FMP__MSG_killed_by, SIGKILL, "SIGKILL");
        break;
    case FM_EXIT3:
        snprintf(buf, len, FMP__MSG_exit_called, "", 3);
        break;
    case FM_UEXIT0:
        snprintf(buf, len, FMP__MSG_exited_early, 0);
        break;
    case FM_RETURN:
        if (place == FM_CRITICAL) {
            char full[1024];
            snprintf(full, sizeof full, FMP__MSG_construct_left, "", "FMP_CRITICAL", "", 0);
            const char *s = strstr(full, " by break, goto or return");
            snprintf(buf, len, "%s", s ? s : full);
        } else {
            snprintf(buf, len, FMP__MSG_left_block, "");
        }
        break;
    case FM_BREAK:
        if (place == FM_LOOP) {
            /* the loop's own message; its call site is fault_prog's */
            char full[1024];
            snprintf(full, sizeof full, FMP__MSG_for_break, "", 0);
            const char *s = strstr(full, "the loop's body");
            snprintf(buf, len, "%s", s ? s : full);
        } else if (place == FM_CRITICAL) {
            /* the critical's own message; its call site is fault_prog's */
            char full[1024];
            snprintf(full, sizeof full, FMP__MSG_construct_left, "", "FMP_CRITICAL", "", 0);
            const char *s = strstr(full, " by break, goto or return");
            snprintf(buf, len, "%s", s ? s : full);
        } else {
            snprintf(buf, len, FMP__MSG_left_block, "");
        }
        break;
    case FM_LONGJMP:
        snprintf(buf, len, FMP__MSG_left_by_jump, "");
        break;
    default:
        buf[0] = 0;
    }
}

/* "member 1 (pid P) of the team of N opened" (or "created"). */
static void expected_member(pid_t pid, int place, char *buf, size_t len)
{
    int persistent = place == FM_RUN || place == FM_BETWEEN || place == FM_LAST;
    int n = place == FM_NESTED ? 2 : 3;
    snprintf(buf, len, FMP__MSG_member_of, 1, (int)pid, n, persistent ? "created" : "opened",
             "\x01", 0);
    char *cut = strstr(buf, " at \x01");
    if (cut)
        *cut = 0;
}

/* Where the master's (or, nested, the inner master's) result of the failing region is
   printed, and who printed it. */
static const char *result_line(int place)
{
    switch (place) {
    case FM_NESTED:
        return "rc 1 inner_region";
    case FM_RUN:
        return "rc 0 fmp_team_run#1";
    case FM_BETWEEN:
        return "rc 0 fmp_team_run#2";
    case FM_LAST:
        return "rc 0 fmp_team_destroy";
    default:
        return "rc 0 region";
    }
}

/* The wait of the master of the failing team that must have returned an error (return
   mode), or NULL where there is none to look at. */
static const char *master_wait_line(int place)
{
    switch (place) {
    case FM_REDUCE:
        return "rc 0 fmp_reduce";
    case FM_ITERATE:
        return "rc 0 fmp_iterate";
    case FM_NESTED:
        return "rc 1.0 fmp_barrier";
    case FM_BETWEEN:
    case FM_LAST:
        return NULL;
    default:
        return "rc 0 fmp_barrier";
    }
}

/* ---------------------------------------------------------------- one run */

static void check_run(int way, int place, int ret_mode)
{
    const char *wn = fm_way_names[way], *pn = fm_place_names[place];
    const char *mn = ret_mode ? "return" : "abort";
    char path[4096];
    ht_helper_path("fault_prog", path, sizeof path);
    char *argv[] = {path, (char *)wn, (char *)pn, (char *)mn, NULL};
    outcome o;
    memset(&o, 0, sizeof o);
    int rc = ht_run(argv, NULL, NULL, RUN_DEADLINE * ht_timeout_scale(), &o.p);
    HT_REQUIRE_MSG(rc == 0, "cannot run %s: %s", path, strerror(-rc));
    const char *out = o.p.out, *err = o.p.err;
    char st[128];
    ht_status_str(&o.p, st, sizeof st);
    parse_pids(&o);

    /* exit status */
    int want_status = ret_mode ? 0 : FMP_EXIT_FAILURE;
    HT_CHECK_MSG(o.p.reaped && !o.p.timed_out && WIFEXITED(o.p.status) &&
                     WEXITSTATUS(o.p.status) == want_status,
                 "%s %s %s: the program %s; expected exit status %d.\nstdout: %.1500s\n"
                 "stderr: %.2000s",
                 wn, pn, mn, st, want_status, out, err);

    /* the members it printed */
    pid_t master = pid_of(&o, "0");
    pid_t failing = pid_of(&o, place == FM_NESTED ? "1.1" : "1");
    int want_members = place == FM_NESTED ? 6 : 3; /* nested: 0 1 0.0 0.1 1.0 1.1 */
    HT_CHECK_MSG(o.nmembers == want_members && master > 0 && failing > 0,
                 "%s %s %s: %d member lines on stdout, expected %d: %.1500s", wn, pn, mn,
                 o.nmembers, want_members, out);
    if (way == FM_KILL9)
        HT_CHECK_MSG(o.killer > 0, "%s %s %s: no killer pid on stdout: %.500s", wn, pn, mn, out);

    /* the failure happened, in the failing member, and the time to the end */
    char mark_prefix[64];
    snprintf(mark_prefix, sizeof mark_prefix, "fail-mark pid %d at ", (int)failing);
    const char *mark = line_rest(err, mark_prefix);
    double t_fail = 0;
    if (HT_CHECK_MSG(mark != NULL, "%s %s %s: no failure mark of member %d on stderr:\n%.2000s", wn,
                     pn, mn, (int)failing, err))
        t_fail = atof(mark);
    double t_from = t_fail;
    if (place == FM_COMPUTE) {
        const char *ce = line_rest(err, "compute-end at ");
        /* in both modes: nothing may end the master while it computes */
        if (HT_CHECK_MSG(ce != NULL, "%s %s %s: the master did not finish its computation: %.1500s",
                         wn, pn, mn, err) &&
            atof(ce) > t_from)
            t_from = atof(ce);
    }
    double took = o.p.t_end - t_from;
    if (t_fail > 0) {
        printf("time %s %s %s: %.3f s\n", wn, pn, mn, took);
        HT_CHECK_MSG(took >= -0.01 && took <= END_LIMIT * ht_timeout_scale(),
                     "%s %s %s: the program ended %.3f s after the failure%s (at most %.1f s)", wn,
                     pn, mn, took,
                     place == FM_COMPUTE ? " (or the end of the master's computation)" : "",
                     END_LIMIT * ht_timeout_scale());
    }
    HT_CHECK_MSG(strstr(err, "survived its failure") == NULL,
                 "%s %s %s: the failing member did not end: %.1000s", wn, pn, mn, err);

    /* the diagnostic */
    char who[256], how[1024];
    expected_member(failing, place, who, sizeof who);
    expected_how(way, place, how, sizeof how);
    HT_CHECK_CONTAINS(err, "forkmp: ");
    HT_CHECK_MSG(strstr(err, who) != NULL,
                 "%s %s %s: the diagnostic does not name \"%s\":\n%.2000s", wn, pn, mn, who, err);
    HT_CHECK_MSG(strstr(err, how) != NULL, "%s %s %s: the diagnostic does not say \"%s\":\n%.2000s",
                 wn, pn, mn, how, err);

    /* a member that left by longjmp landed, and was stopped at its next forkmp call */
    if (way == FM_LONGJMP) {
        char landed[64];
        snprintf(landed, sizeof landed, "landed pid %d\n", (int)failing);
        HT_CHECK_MSG(strstr(err, landed) != NULL,
                     "%s %s %s: member %d did not land at the sigsetjmp: %.1500s", wn, pn, mn,
                     (int)failing, err);
        HT_CHECK_MSG(strstr(out, "next step after the jump") == NULL,
                     "%s %s %s: the member that left by longjmp ran the program's next region "
                     "(forkmp did not stop it at that call):\n%.2000s",
                     wn, pn, mn, out);
    }

    /* what the program printed after the failure */
    char end_line[64];
    snprintf(end_line, sizeof end_line, "END pid %d", (int)master);
    if (ret_mode) {
        HT_CHECK_MSG(count_lines(out, "END pid ") == 1 && strstr(out, end_line),
                     "%s %s %s: expected one \"%s\" (the master's end): %.2000s", wn, pn, mn,
                     end_line, out);
        int want = expected_error(way, place);
        long got = line_value(out, result_line(place), 1);
        HT_CHECK_MSG(got == want, "%s %s %s: \"%s\" is %ld, expected %d (%s):\n%.2000s", wn, pn, mn,
                     result_line(place), got, want, fmp_strerror(want), out);
        const char *wl = master_wait_line(place);
        if (wl) {
            long w = line_value(out, wl, 1);
            HT_CHECK_MSG(w < 0,
                         "%s %s %s: \"%s\" is %ld: the master's wait did not return an "
                         "error:\n%.2000s",
                         wn, pn, mn, wl, w, out);
        }
        if (place == FM_LOCK) {
            long w = line_value(out, "rc 0 fmp_lock_set", 1);
            HT_CHECK_MSG(w == FMP_OK || w == FMP_EOWNERDEAD,
                         "%s %s %s: the master's fmp_lock_set returned %ld:\n%.2000s", wn, pn, mn,
                         w, out);
        }
        if (place == FM_NESTED)
            HT_CHECK_MSG(line_value(out, "rc 0 region", 1) == FMP_OK,
                         "%s %s %s: the outer region (whose member 1 handled the inner "
                         "region's error) did not succeed:\n%.2000s",
                         wn, pn, mn, out);
        const char *lf = line_rest(out, place == FM_NESTED ? "last_failure 1 " : "last_failure 0 ");
        HT_CHECK_MSG(lf && strstr(lf, who) && strstr(lf, how),
                     "%s %s %s: fmp_last_failure() is \"%s\", expected it to name \"%s\" and "
                     "say \"%s\"",
                     wn, pn, mn, lf ? lf : "(not printed)", who, how);
        HT_CHECK_MSG(line_value(out, "children-at-end", -1) == 0,
                     "%s %s %s: the master had children left (alive or zombie) at its end:\n"
                     "%.2000s",
                     wn, pn, mn, out);
    } else {
        HT_CHECK_MSG(strstr(out, "END pid ") == NULL && strstr(out, result_line(place)) == NULL,
                     "%s %s %s: code after the failing call ran:\n%.2000s", wn, pn, mn, out);
    }

    /* nothing left: no member alive, none left as a zombie (the killer is no member) */
    pid_t pids[MAX_PIDS + 1];
    int n = 0;
    for (int i = 0; i < o.nmembers; i++)
        pids[n++] = o.members[i].pid;
    for (int i = 0; i < n; i++)
        HT_CHECK_MSG(ht_pid_state(pids[i]) != 'Z',
                     "%s %s %s: member pid %d is a zombie after the program ended (not reaped "
                     "by its parent before the end)",
                     wn, pn, mn, (int)pids[i]);
    if (o.killer > 0)
        pids[n++] = o.killer;
    ht_wait_pids_gone(pids, n, HT_GRACE_SECONDS);
    for (int i = 0; i < n; i++)
        HT_CHECK_MSG(!ht_pid_alive(pids[i]),
                     "%s %s %s: pid %d is still alive after the program ended", wn, pn, mn,
                     (int)pids[i]);
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
    ht_proc_free(&o.p);
}

static void run_cell(int way, int place)
{
    ht_become_subreaper(); /* members left behind come back to this process */
    check_run(way, place, 0);
    check_run(way, place, 1);
}

/* ---------------------------------------------------------------- the cells */

#define FM_CELL(way, place)                                                                        \
    static void test_##way##_##place(void)                                                         \
    {                                                                                              \
        run_cell(FM_##way, FM_##place);                                                            \
    }
#define FM_ROW(way)                                                                                \
    FM_CELL(way, BARRIER)                                                                          \
    FM_CELL(way, LOCK)                                                                             \
    FM_CELL(way, CRITICAL)                                                                         \
    FM_CELL(way, REDUCE)                                                                           \
    FM_CELL(way, LOOP)                                                                             \
    FM_CELL(way, ITERATE)                                                                          \
    FM_CELL(way, NESTED)                                                                           \
    FM_CELL(way, RUN)                                                                              \
    FM_CELL(way, BETWEEN)                                                                          \
    FM_CELL(way, LAST)                                                                             \
    FM_CELL(way, COMPUTE)
FM_ROW(SEGV)
FM_ROW(ABORT)
FM_ROW(RAISE9)
FM_ROW(KILL9)
FM_ROW(EXIT3)
FM_ROW(UEXIT0)
FM_ROW(RETURN)
FM_ROW(BREAK)
FM_ROW(LONGJMP)

#define FM_FNS(way)                                                                                \
    {                                                                                              \
        test_##way##_BARRIER, test_##way##_LOCK, test_##way##_CRITICAL, test_##way##_REDUCE,       \
            test_##way##_LOOP, test_##way##_ITERATE, test_##way##_NESTED, test_##way##_RUN,        \
            test_##way##_BETWEEN, test_##way##_LAST, test_##way##_COMPUTE                          \
    }
static void (*const g_cells[FM_NWAYS][FM_NPLACES])(void) = {
    [FM_SEGV] = FM_FNS(SEGV),     [FM_ABORT] = FM_FNS(ABORT), [FM_RAISE9] = FM_FNS(RAISE9),
    [FM_KILL9] = FM_FNS(KILL9),   [FM_EXIT3] = FM_FNS(EXIT3), [FM_UEXIT0] = FM_FNS(UEXIT0),
    [FM_RETURN] = FM_FNS(RETURN), [FM_BREAK] = FM_FNS(BREAK), [FM_LONGJMP] = FM_FNS(LONGJMP),
};

/* The combinations that do not exist: fault_prog refuses each, with the reason. */
static void test_matrix(void)
{
    char path[4096];
    ht_helper_path("fault_prog", path, sizeof path);
    int excluded = 0;
    for (int w = 0; w < FM_NWAYS; w++)
        for (int p = 0; p < FM_NPLACES; p++) {
            const char *why = fm_excluded(w, p);
            if (!why)
                continue;
            excluded++;
            printf("not in the matrix: %s in %s: %s\n", fm_way_names[w], fm_place_names[p], why);
            char *argv[] = {path, (char *)fm_way_names[w], (char *)fm_place_names[p],
                            (char *)"abort", NULL};
            ht_proc pr;
            HT_REQUIRE(ht_run(argv, NULL, NULL, RUN_DEADLINE, &pr) == 0);
            HT_CHECK_MSG(WIFEXITED(pr.status) && WEXITSTATUS(pr.status) == 2 &&
                             strstr(pr.err, why) != NULL,
                         "fault_prog %s %s: expected a refusal (status 2) saying \"%s\"; got "
                         "status 0x%x, stderr %.500s",
                         fm_way_names[w], fm_place_names[p], why, (unsigned)pr.status, pr.err);
            ht_proc_free(&pr);
        }
    printf("%d of %d combinations run, %d do not exist\n", FM_NWAYS * FM_NPLACES - excluded,
           FM_NWAYS * FM_NPLACES, excluded);
    HT_CHECK(excluded < FM_NWAYS * FM_NPLACES / 4);
}

int main(int argc, char **argv)
{
    static ht_test tests[FM_NWAYS * FM_NPLACES + 2];
    static char names[FM_NWAYS * FM_NPLACES + 2][48];
    int k = 0;
    tests[k++] = (ht_test)HT_TEST(test_matrix);
    for (int w = 0; w < FM_NWAYS; w++)
        for (int p = 0; p < FM_NPLACES; p++) {
            if (fm_excluded(w, p))
                continue;
            snprintf(names[k], sizeof names[k], "test_%s_in_%s", fm_way_ids[w], fm_place_names[p]);
            /* two runs of a few tenths of a second each; the deadline catches a hang */
            tests[k] = (ht_test){names[k], g_cells[w][p], 30};
            k++;
        }
    tests[k] = (ht_test)HT_END;
    return ht_main(argc, argv, "faults", tests);
}
