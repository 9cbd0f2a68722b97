/* test_census: the census of live members (src/census.c) and what the waiters make of it.
 *
 * - the count goes up by a team's members at its fork and back down at its join: regions,
 *   nested regions, persistent teams, and a team whose member was killed; a persistent
 *   team's members asleep between runs are off it (once, when one is killed asleep);
 * - the node's segment (built here as the hybrid layer builds it): another rank's count
 *   is in the sum while its process lives, and taken off once it is gone;
 * - while the live processes outnumber the cpus, a waiter spins FMP__THROTTLED_SPIN times
 *   (fmp__spin_now, what fmp__wait_change and the locks use), in the master and in the
 *   members; once they fit again, the policy's spins; explicit settings (FMP_SPIN_COUNT,
 *   FMP_WAIT_POLICY=active) win;
 * - a team of the size fmp_set_num_threads() asked for that overfills the cpus gets the
 *   catalogue's oversubscribed_grown warning once; a team of an explicit size does not,
 *   and neither does one already told by the per-team warning.
 *
 * - a member's end wakes every process asleep on its life word (the master's join, and
 *   the team's other members, whose waits watch it for a death), not the first alone;
 *
 * Every test first narrows its affinity mask to at most 2 cpus (the census holds the
 * count against the first master's mask), so that a team of 3 oversubscribes any
 * machine; a machine with a single cpu skips what needs 2.  No timing is asserted. */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <forkmp.h>

#include "harness.h"
#include "msg_match.h"

#define POLICY_SPIN 300000L /* the default policy's spins (env.c's DEFAULT_SPIN) */

/* Narrow the affinity mask to the first two cpus of it (one when there is only one) and
   read the environment afresh; returns the number of cpus kept. */
static int two_cpus(void)
{
    cpu_set_t set, two;
    HT_REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
    CPU_ZERO(&two);
    int kept = 0;
    for (int c = 0; c < CPU_SETSIZE && kept < 2; c++)
        if (CPU_ISSET(c, &set)) {
            CPU_SET(c, &two);
            kept++;
        }
    HT_REQUIRE(sched_setaffinity(0, sizeof two, &two) == 0);
    unsetenv("FMP_SPIN_COUNT");
    unsetenv("FMP_WAIT_POLICY");
    unsetenv("OMP_WAIT_POLICY");
    unsetenv("GOMP_SPINCOUNT");
    return kept;
}

/* ---------------------------------------------------------------- the life word */

/* Whether process pid sleeps (state S in its stat), within 5 seconds. */
static int asleep(pid_t pid)
{
    for (int i = 0; i < 5000; i++) {
        if (ht_pid_state(pid) == 'S')
            return 1;
        usleep(1000);
    }
    return 0;
}

/* A member's end (fmp__child_exit) wakes every process asleep on its life word: the
   unlock of the robust mutex wakes one waiter alone, and where the team's other members
   slept there too (their waits watch the word for a death; one woken elsewhere stays
   queued until it runs) the master's join could be the one left asleep: its whole
   slice, 50 ms a region, in warm regions of 4 members on 2 cpus.  Here two processes
   sleep on the word as the join does (the waiters bit set); both must wake. */
static void test_member_end_wakes_every_watcher(void)
{
    HT_REQUIRE(fmp_get_max_threads() > 0); /* the runtime and its arena are up */
    fmp__shteam *t = fmp__team_alloc(2, fmp__cur(), __FILE__, __LINE__);
    HT_REQUIRE(t != NULL);
    _Atomic int *go = ht_shared(sizeof(int));
    _Atomic uint32_t *w = fmp__life_word(&t->slots[1]);
    pid_t member = fork();
    HT_REQUIRE(member >= 0);
    if (member == 0) {
        pthread_mutex_lock(&t->slots[1].life);
        atomic_store(&t->slots[1].state, FMP__S_RUNNING);
        while (!atomic_load(go))
            usleep(1000);
        fmp__child_exit(t, 1, FMP__S_DONE, 0);
    }
    for (int i = 0; i < 5000 && (atomic_load(w) & FUTEX_TID_MASK) == 0; i++)
        usleep(1000);
    HT_REQUIRE((atomic_load(w) & FUTEX_TID_MASK) != 0);
    pid_t waiter[2];
    for (int i = 0; i < 2; i++) {
        waiter[i] = fork();
        HT_REQUIRE(waiter[i] >= 0);
        if (waiter[i] == 0) {
            uint32_t v = atomic_load(w);
            while (!(v & FUTEX_WAITERS) && !atomic_compare_exchange_weak(w, &v, v | FUTEX_WAITERS))
                ;
            struct timespec ts = {5, 0};
            long r = syscall(SYS_futex, w, FUTEX_WAIT, v | FUTEX_WAITERS, &ts, NULL, 0);
            _exit(r < 0 && errno == ETIMEDOUT ? 1 : 0);
        }
        HT_REQUIRE(asleep(waiter[i]));
    }
    atomic_store(go, 1);
    for (int i = 0; i < 2; i++) {
        int st = -1;
        HT_REQUIRE(waitpid(waiter[i], &st, 0) == waiter[i]);
        HT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                     "waiter %d on the life word %s at the member's end", i,
                     WIFEXITED(st) && WEXITSTATUS(st) == 1 ? "was not woken" : "failed");
    }
    int st = -1;
    HT_REQUIRE(waitpid(member, &st, 0) == member);
    HT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    HT_CHECK_INT_EQ((int)(atomic_load(w) & FUTEX_TID_MASK), 0);
    fmp__team_free(t);
}

/* ---------------------------------------------------------------- the count */

static void test_count_follows_regions(void)
{
    two_cpus();
    int base = fmp__census_live();
    HT_CHECK_INT_EQ(base, 1);
    FMP_PARALLEL(3) {
        HT_CHECK_INT_EQ(fmp__census_live(), base + 2);
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    HT_CHECK_INT_EQ(fmp__census_live(), base);
    /* nested: 2 members, each the master of a team of 2 */
    fmp_set_max_active_levels(2);
    FMP_PARALLEL(2) {
        FMP_PARALLEL(2) {
            fmp_barrier(); /* both nested teams exist before anyone looks */
            HT_CHECK(fmp__census_live() >= base + 2);
        }
        fmp_barrier();
        HT_CHECK_INT_EQ(fmp__census_live(), base + 1); /* the nested teams joined */
    }
    HT_CHECK_INT_EQ(fmp__census_live(), base);
}

/* Poll until the count is want (the idle members of a persistent team fall asleep after
   their spins); 1 if it came within 10 s. */
static int count_comes_to(int want)
{
    for (int i = 0; i < 10000; i++) {
        if (fmp__census_live() == want)
            return 1;
        usleep(1000);
    }
    return 0;
}

static _Atomic int *g_pids; /* shared: the pids of a persistent team's members */

/* every member awake (past the barrier, none back in its idle wait): all of them count */
static void team_body(void *arg)
{
    fmp_barrier();
    HT_CHECK_INT_EQ(fmp__census_live(), *(const int *)arg);
    if (g_pids)
        atomic_store(&g_pids[fmp_thread_num()], (int)getpid());
    fmp_barrier();
}

static void test_count_follows_persistent_teams(void)
{
    two_cpus();
    int base = fmp__census_live();
    fmp_team *t = fmp_team_create(4);
    HT_REQUIRE(t != NULL);
    int want = base + 3;
    HT_CHECK(fmp__census_live() <= want);
    HT_CHECK_INT_EQ(fmp_team_run(t, team_body, &want, sizeof want), FMP_OK);
    /* between runs, asleep: off the count; back on it for the next run */
    HT_CHECK_MSG(count_comes_to(base), "count %d, not %d, with the team idle", fmp__census_live(),
                 base);
    HT_CHECK_INT_EQ(fmp_team_run(t, team_body, &want, sizeof want), FMP_OK);
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
    HT_CHECK_INT_EQ(fmp__census_live(), base);
}

/* a member killed while asleep between runs is taken off once: by its sleep, not again
   by the reap */
static void test_member_killed_asleep_leaves_once(void)
{
    two_cpus();
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    g_pids = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    HT_REQUIRE(g_pids != MAP_FAILED);
    int base = fmp__census_live();
    fmp_team *t = fmp_team_create(4);
    HT_REQUIRE(t != NULL);
    int want = base + 3;
    HT_CHECK_INT_EQ(fmp_team_run(t, team_body, &want, sizeof want), FMP_OK);
    HT_REQUIRE(count_comes_to(base));
    HT_REQUIRE(atomic_load(&g_pids[1]) > 0);
    HT_REQUIRE(kill(atomic_load(&g_pids[1]), SIGKILL) == 0);
    /* the others wake to the broken team and leave: not counted awake again meanwhile */
    for (int i = 0; i < 20; i++) {
        HT_CHECK_INT_EQ(fmp__census_live(), base);
        usleep(10000);
    }
    HT_CHECK_INT_NE(fmp_team_destroy(t), FMP_OK); /* a member died */
    HT_CHECK_INT_EQ(fmp__census_live(), base);
    FMP_PARALLEL(2) {
        HT_CHECK_INT_EQ(fmp__census_live(), base + 1);
    }
    HT_CHECK_INT_EQ(fmp__census_live(), base);
    munmap(g_pids, 4096);
    g_pids = NULL;
}

/* A member killed between its two counts (its team's and the census's) leaves the
   census's off by one: emulated on a team of the census's own (no process forked), whose
   count says one asleep more than the census was told.  Once the tree has no member left
   the count is right again. */
static void test_count_mended_when_no_member_is_left(void)
{
    two_cpus();
    int base = fmp__census_live();
    HT_REQUIRE(base == 1);
    fmp__shteam *t = calloc(1, sizeof *t);
    HT_REQUIRE(t != NULL);
    t->n = 3;
    fmp__census_fork(t);
    HT_CHECK_INT_EQ(fmp__census_live(), base + 2);
    fmp__census_idle(t, 1); /* member 1 asleep */
    HT_CHECK_INT_EQ(fmp__census_live(), base + 1);
    atomic_fetch_add(&t->idle_asleep, 1); /* member 2: killed after the team's count */
    fmp__census_uncount(t);
    HT_CHECK_INT_EQ(fmp__census_live(), base);
    HT_CHECK_INT_EQ(fmp__spin_now(POLICY_SPIN), POLICY_SPIN);
    free(t);
}

/* a member killed inside the region: its join takes it off the count all the same */
static void test_killed_member_leaves_the_count(void)
{
    two_cpus();
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    int base = fmp__census_live();
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 2)
            raise(SIGKILL);
        fmp_barrier();
    }
    HT_CHECK_INT_NE(fmp_region_error(), FMP_OK);
    HT_CHECK_INT_EQ(fmp__census_live(), base);
    /* and the next team counts from there */
    FMP_PARALLEL(2) {
        HT_CHECK_INT_EQ(fmp__census_live(), base + 1);
    }
    HT_CHECK_INT_EQ(fmp__census_live(), base);
}

/* The node's segment as the hybrid layer makes it (src/mpi/census.c), with two slots:
   this process attaches to slot 0; slot 1 stands for another rank, pid with live. */
static fmp__census_node *node_of_two(int pid, int live)
{
    size_t bytes = sizeof(fmp__census_node) + 2 * sizeof(((fmp__census_node *)0)->slot[0]);
    fmp__census_node *node =
        mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    HT_REQUIRE(node != MAP_FAILED);
    node->cpus = 2;
    node->nslots = 2;
    atomic_store(&node->slot[1].pid, pid);
    atomic_store(&node->slot[1].live, live);
    atomic_store(&node->total, live);
    return node;
}

/* another rank of the node: its count is in the sum while it lives, and taken off by
   the first census change after it is gone */
static void test_other_ranks_count_until_gone(void)
{
    if (two_cpus() < 2)
        HT_SKIP("one cpu: no team fits");
    pid_t other = fork();
    HT_REQUIRE(other >= 0);
    if (other == 0) {
        pause();
        _exit(0);
    }
    fmp__census_node *node = node_of_two(other, 2);
    fmp__census_attach(node, 0);
    HT_CHECK_INT_EQ(fmp__census_live(), 3);
    HT_CHECK_INT_EQ(atomic_load(&node->slot[0].pid), (int)getpid());
    /* a team of 2 fits this process's cpus, not the node's */
    FMP_PARALLEL(2) {
        HT_CHECK_INT_EQ(fmp__census_live(), 4);
        HT_CHECK_INT_EQ(fmp__spin_now(POLICY_SPIN), FMP__THROTTLED_SPIN);
        fmp_barrier();
    }
    kill(other, SIGKILL);
    waitpid(other, NULL, 0);
    FMP_PARALLEL(2) /* its fork sweeps the slot of the rank that is gone */
    {
        HT_CHECK_INT_EQ(fmp__census_live(), 2);
        HT_CHECK_INT_EQ(fmp__spin_now(POLICY_SPIN), POLICY_SPIN);
        fmp_barrier();
    }
    HT_CHECK_INT_EQ(atomic_load(&node->slot[1].pid), 0);
    HT_CHECK_INT_EQ(fmp__census_live(), 1);
}

/* a rank already gone when this one attaches is taken off at once */
static void test_gone_rank_leaves_the_node(void)
{
    two_cpus();
    pid_t gone = fork();
    HT_REQUIRE(gone >= 0);
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    fmp__census_node *node = node_of_two(gone, 3);
    fmp__census_attach(node, 0);
    HT_CHECK_INT_EQ(fmp__census_live(), 1);
    HT_CHECK_INT_EQ(atomic_load(&node->slot[1].pid), 0);
    HT_CHECK_INT_EQ(atomic_load(&node->slot[1].live), 0);
}

/* ---------------------------------------------------------------- the waiters' spins */

/* what a waiter of the caller's team spins now (fmp__wait_change's choice); in a region,
   before the master leaves its body (it then sets its team's spins to 0 for the join) */
static long team_spins(void)
{
    fmp__ctx *c = fmp__g.cur;
    return fmp__spin_now(c && c->team ? c->team->spin : fmp__g_icv.spin_count);
}

static void test_spin_follows_verdict(void)
{
    if (two_cpus() < 2)
        HT_SKIP("one cpu: no team fits");
    HT_CHECK_INT_EQ(fmp__census_cpus(), 2);
    /* fits: the policy's spins, in every member */
    FMP_PARALLEL(2) {
        HT_CHECK_INT_EQ(fmp__spin_now(POLICY_SPIN), POLICY_SPIN);
        HT_CHECK_INT_EQ(team_spins(), POLICY_SPIN);
        fmp_barrier();
    }
    /* a region of 3: 3 processes on 2 cpus */
    FMP_PARALLEL(3) {
        HT_CHECK_INT_EQ(fmp__census_live(), 3);
        HT_CHECK_INT_EQ(team_spins(), FMP__THROTTLED_SPIN);
        HT_CHECK_INT_EQ(fmp__spin_now(FMP__LOCK_SPIN), FMP__THROTTLED_SPIN);
        HT_CHECK_INT_EQ(fmp__spin_now(0), 0); /* passive stays passive */
        fmp_barrier();
    }
    /* a persistent team of 2, idle (its member asleep), and a region of 2 beside it:
       what takes a cpu fits the 2 cpus, and the region is not throttled; with the team
       running, it would be */
    fmp_team *t = fmp_team_create(2);
    HT_REQUIRE(t != NULL);
    HT_REQUIRE(count_comes_to(1));
    FMP_PARALLEL(2) {
        HT_CHECK_INT_EQ(fmp__census_live(), 2);
        HT_CHECK_INT_EQ(team_spins(), POLICY_SPIN);
        fmp_barrier();
    }
    HT_CHECK_INT_EQ(fmp_team_destroy(t), FMP_OK);
    /* fits again */
    HT_CHECK_INT_EQ(fmp__spin_now(POLICY_SPIN), POLICY_SPIN);
    FMP_PARALLEL(2) {
        HT_CHECK_INT_EQ(team_spins(), POLICY_SPIN);
        fmp_barrier();
    }
}

static void explicit_spins(const char *name, const char *value)
{
    two_cpus();
    setenv(name, value, 1);
    fmp_get_num_procs(); /* the environment is read at the first call */
    long want = fmp__g_icv.spin_count;
    HT_CHECK(fmp__g_icv.spin_explicit);
    HT_CHECK(want > FMP__THROTTLED_SPIN);
    FMP_PARALLEL(3) {
        HT_CHECK(fmp__census_live() > fmp__census_cpus());
        HT_CHECK_INT_EQ(team_spins(), want);
        HT_CHECK_INT_EQ(fmp__spin_now(want), want);
        fmp_barrier();
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
}

static void test_explicit_spin_count_wins(void)
{
    explicit_spins("FMP_SPIN_COUNT", "5000");
}

static void test_explicit_active_policy_wins(void)
{
    explicit_spins("FMP_WAIT_POLICY", "active");
}

/* an unset policy is not explicit: the same team is throttled */
static void test_default_is_throttled(void)
{
    two_cpus();
    FMP_PARALLEL(3) {
        HT_CHECK_INT_EQ(team_spins(), FMP__THROTTLED_SPIN);
        HT_CHECK_INT_EQ(fmp__spin_now(POLICY_SPIN), FMP__THROTTLED_SPIN);
        fmp_barrier();
    }
    HT_CHECK(!fmp__g_icv.spin_explicit);
}

/* ---------------------------------------------------------------- the warning */

/* Run scenario with stderr into a file; its text in out. */
static void capture(void (*scenario)(void), char *out, size_t len)
{
    char path[] = "census-stderr-XXXXXX";
    int fd = mkstemp(path);
    HT_REQUIRE(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    HT_REQUIRE(saved >= 0 && dup2(fd, 2) == 2);
    scenario();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, out, len - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
}

/* lines of text that are the catalogue's warning fmt (filled in or not) */
static int count_lines(const char *text, const char *fmt)
{
    char pattern[1024];
    snprintf(pattern, sizeof pattern, "forkmp: %s\n", fmt);
    int k = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p + 1) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)l, p);
        k += msg_match(pattern, line);
        p += l;
    }
    return k;
}

/* The lines of either form of the oversubscription warning (the machine-wide one where the
   process may use every cpu) */
static int oversub_lines(const char *text)
{
    return count_lines(text, FMP__MSG_oversubscribed) +
           count_lines(text, FMP__MSG_oversubscribed_machine);
}

/* nested teams of fmp_set_num_threads(2) in both members of a team of 2 */
static void grown_nested(void)
{
    fmp_set_max_active_levels(2);
    fmp_set_num_threads(2);
    FMP_PARALLEL(0) {
        fmp_set_num_threads(2);
        FMP_PARALLEL(0) {
            fmp_barrier();
        }
        fmp_barrier();
    }
    FMP_PARALLEL(0) /* again: said once only */
    {
        FMP_PARALLEL(0) {
            fmp_barrier();
        }
    }
}

/* the same teams, of explicit sizes */
static void explicit_nested(void)
{
    fmp_set_max_active_levels(2);
    FMP_PARALLEL(2) {
        FMP_PARALLEL(2) {
            fmp_barrier();
        }
    }
}

/* one team larger than the cpus: the per-team warning of topo.c, not this one too */
static void grown_single(void)
{
    fmp_set_num_threads(fmp__affinity_count() + 1);
    FMP_PARALLEL(0) {
        fmp_barrier();
    }
}

/* What scenario writes on stderr, with the cpus narrowed to 2 (skipped on 1 when the
   scenario needs 2). */
static const char *stderr_of(void (*scenario)(void), int need_two)
{
    static char err[8192];
    if (two_cpus() < 2 && need_two)
        HT_SKIP("one cpu: a team of 2 does not fit it");
    capture(scenario, err, sizeof err);
    return err;
}

static void test_grown_warning_once(void)
{
    const char *err = stderr_of(grown_nested, 1);
    HT_CHECK_MSG(count_lines(err, FMP__MSG_oversubscribed_grown) == 1, "stderr: %s", err);
    /* a team of 2 on 2 cpus; the first nested team makes 3 processes, 4 when the other
       one was counted before the warning was written; 1 member fits either way */
    int filled = 0;
    for (int live = 3; live <= 4; live++) {
        char want[1024];
        snprintf(want, sizeof want, FMP__MSG_oversubscribed_grown, 2, "program", live, 2, "s", 1,
                 "");
        filled += count_lines(err, want);
    }
    HT_CHECK_MSG(filled == 1, "stderr: %s", err);
    HT_CHECK_INT_EQ(oversub_lines(err), 0);
}

static void test_no_grown_warning_for_explicit_sizes(void)
{
    const char *err = stderr_of(explicit_nested, 1);
    HT_CHECK_MSG(count_lines(err, FMP__MSG_oversubscribed_grown) == 0, "stderr: %s", err);
}

static void test_grown_warning_not_twice(void)
{
    const char *err = stderr_of(grown_single, 0);
    HT_CHECK_MSG(count_lines(err, FMP__MSG_oversubscribed_grown) == 0, "stderr: %s", err);
    HT_CHECK_MSG(oversub_lines(err) == 1, "stderr: %s", err);
}

static const ht_test tests[] = {
    HT_TEST(test_count_follows_regions),
    HT_TEST(test_count_follows_persistent_teams),
    HT_TEST(test_member_killed_asleep_leaves_once),
    HT_TEST(test_count_mended_when_no_member_is_left),
    HT_TEST(test_killed_member_leaves_the_count),
    HT_TEST(test_other_ranks_count_until_gone),
    HT_TEST(test_gone_rank_leaves_the_node),
    HT_TEST(test_spin_follows_verdict),
    HT_TEST(test_explicit_spin_count_wins),
    HT_TEST(test_explicit_active_policy_wins),
    HT_TEST(test_default_is_throttled),
    HT_TEST(test_grown_warning_once),
    HT_TEST(test_no_grown_warning_for_explicit_sizes),
    HT_TEST(test_grown_warning_not_twice),
    HT_TEST(test_member_end_wakes_every_watcher),
    HT_END,
};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "census", tests);
}
