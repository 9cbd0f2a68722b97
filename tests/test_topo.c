/* CUnit suite of topology and binding (src/topo.c): OpenMP placements on synthetic
 * topologies we do not have (a 2-socket 64-core node, a node with SMT), inside a
 * restricted cpuset (an MPI rank's), nested partitions, the affinity format, and on this
 * machine: a forked member binding itself, the oversubscription warning, the
 * FMP_DISPLAY_AFFINITY line.
 *
 * Linked with the library's sources built with every symbol visible (libforkmp hides its
 * internal symbols). */
#include "topo.h"
#include "messages.h"
#include "msg_match.h"

#include <CUnit/Basic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG "pack:2 core:32 pu:1" /* 2 sockets x 32 cores, PUs 0-63 */
#define SMT "pack:1 core:4 pu:2"  /* 4 cores x 2 PUs, core k = PUs 2k, 2k+1 */

static hwloc_topology_t synthetic(const char *desc)
{
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) < 0)
        return NULL;
    if (hwloc_topology_set_synthetic(t, desc) < 0 || hwloc_topology_load(t) < 0) {
        hwloc_topology_destroy(t);
        return NULL;
    }
    return t;
}

static hwloc_bitmap_t set_of(const char *list)
{
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    hwloc_bitmap_list_sscanf(b, list);
    return b;
}

/* Assign n members and compare with want: the members' cpusets as lists, separated by
   spaces ("0 16 32 48").  allowed NULL: the whole machine. */
static void check_assign(const char *desc, const char *allowed, const char *spec, int bind, int n,
                         const char *want)
{
    hwloc_topology_t t = synthetic(desc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    hwloc_bitmap_t al =
        allowed ? set_of(allowed) : hwloc_bitmap_dup(hwloc_topology_get_topology_cpuset(t));
    hwloc_bitmap_t *out = calloc((size_t)n, sizeof *out);
    for (int i = 0; i < n; i++)
        out[i] = hwloc_bitmap_alloc();
    int rc = fmp__topo_assign(t, al, spec, bind, n, out);
    CU_ASSERT_EQUAL(rc, 0);
    char got[8192] = "";
    size_t o = 0;
    for (int i = 0; i < n && rc == 0 && o < sizeof got; i++) {
        char one[256];
        fmp__cpulist(one, sizeof one, out[i]);
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", i ? " " : "", one);
    }
    CU_ASSERT_STRING_EQUAL(got, want);
    if (rc != 0 || strcmp(got, want) != 0)
        fprintf(stderr, "\n  %s allowed %s places '%s' bind %d n %d:\n   got  '%s'\n   want '%s'\n",
                desc, allowed ? allowed : "all", spec, bind, n, got, want);
    for (int i = 0; i < n; i++)
        hwloc_bitmap_free(out[i]);
    free(out);
    hwloc_bitmap_free(al);
    hwloc_topology_destroy(t);
}

/* The place list of spec, "a b c" as above. */
static void check_places(const char *desc, const char *allowed, const char *spec, const char *want)
{
    hwloc_topology_t t = synthetic(desc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    hwloc_bitmap_t al =
        allowed ? set_of(allowed) : hwloc_bitmap_dup(hwloc_topology_get_topology_cpuset(t));
    hwloc_bitmap_t *pl;
    int np = -1;
    int rc = fmp__topo_places(t, al, spec, &pl, &np);
    CU_ASSERT_EQUAL(rc, 0);
    char got[8192] = "";
    size_t o = 0;
    for (int i = 0; rc == 0 && i < np && o < sizeof got; i++) {
        char one[256];
        fmp__cpulist(one, sizeof one, pl[i]);
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", i ? " " : "", one);
    }
    CU_ASSERT_STRING_EQUAL(got, want);
    if (rc != 0 || strcmp(got, want) != 0)
        fprintf(stderr, "\n  places %s allowed %s '%s':\n   got  '%s'\n   want '%s'\n", desc,
                allowed ? allowed : "all", spec, got, want);
    if (rc == 0)
        fmp__topo_places_free(pl, np);
    hwloc_bitmap_free(al);
    hwloc_topology_destroy(t);
}

/* "0 1 2 ... " of PU numbers first, first + step, ... (count of them) */
static char *seq(int first, int step, int count, int repeat)
{
    static char buf[4][8192];
    static int which;
    char *b = buf[which++ % 4];
    size_t o = 0;
    b[0] = '\0';
    for (int i = 0; i < count; i++)
        for (int r = 0; r < repeat; r++)
            o += (size_t)snprintf(b + o, sizeof buf[0] - o, "%s%d", o ? " " : "", first + i * step);
    return b;
}

/* ---------------------------------------------------------------- place lists */

static void test_places_lists(void)
{
    check_places(SMT, NULL, "threads", "0 1 2 3 4 5 6 7");
    check_places(SMT, NULL, "cores", "0-1 2-3 4-5 6-7");
    check_places(SMT, NULL, "", "0-1 2-3 4-5 6-7"); /* default: cores */
    check_places(SMT, NULL, "cores(3)", "0-1 2-3 4-5");
    check_places(SMT, NULL, "threads(2)", "0 1");
    check_places(SMT, NULL, "sockets", "0-7");
    check_places(SMT, NULL, "ll_caches", "0-7"); /* no caches reported: the sockets */
    check_places(SMT, NULL, "numa_domains", "0-7");
    check_places(BIG, NULL, "sockets", "0-31 32-63");
    check_places(BIG, NULL, "cores", seq(0, 1, 64, 1));
    check_places(BIG, NULL, "threads", seq(0, 1, 64, 1));
    check_places("pack:2 l3:1 core:4 pu:1", NULL, "ll_caches", "0-3 4-7");
    check_places("pack:2 numa:2 core:2 pu:1", NULL, "numa_domains", "0-1 2-3 4-5 6-7");
    check_places(BIG, NULL, "{0,1},{2,3}", "0-1 2-3");
    check_places(BIG, NULL, "{0:4}:4:4", "0-3 4-7 8-11 12-15");
    check_places(BIG, NULL, "{0:2}", "0-1");
    check_places(BIG, NULL, "{0:4}:4:4,!{4:4}", "0-3 8-11 12-15");
    /* a rank that owns cores 8-15: places never leave it, empty ones go */
    check_places(BIG, "8-15", "cores", seq(8, 1, 8, 1));
    check_places(BIG, "8-15", "sockets", "8-15");
    check_places(BIG, "28-35", "sockets", "28-31 32-35");
    check_places(BIG, "8-15", "{0:4}:4:4", "8-11 12-15");
    check_places(BIG, "8-15", "{6:4}:3:4", "8-9 10-13 14-15");
    check_places(SMT, "1-4", "cores", "1 2-3 4");
    check_places(BIG, "8-15", "{0:4}", "");
    check_places(BIG, NULL, "{100,101}", ""); /* PUs this machine does not have */
}

/* ---------------------------------------------------------------- assignments */

static void test_close(void)
{
    /* n smaller, equal and larger than the places */
    check_assign(BIG, NULL, "cores", FMP__BIND_CLOSE, 4, "0 1 2 3");
    check_assign(BIG, NULL, "cores", FMP__BIND_CLOSE, 64, seq(0, 1, 64, 1));
    check_assign(BIG, NULL, "cores", FMP__BIND_CLOSE, 128, seq(0, 1, 64, 2));
    check_assign(BIG, NULL, "", FMP__BIND_TRUE, 4, "0 1 2 3"); /* true is close */
    /* 100 on 64: the first 36 places hold 2, the other 28 hold 1 */
    {
        char want[4096];
        snprintf(want, sizeof want, "%s %s", seq(0, 1, 36, 2), seq(36, 1, 28, 1));
        check_assign(BIG, NULL, "cores", FMP__BIND_CLOSE, 100, want);
    }
    check_assign(BIG, NULL, "sockets", FMP__BIND_CLOSE, 2, "0-31 32-63");
    check_assign(BIG, NULL, "sockets", FMP__BIND_CLOSE, 4, "0-31 0-31 32-63 32-63");
    check_assign(BIG, NULL, "sockets", FMP__BIND_CLOSE, 5, "0-31 0-31 0-31 32-63 32-63");
    check_assign(SMT, NULL, "threads", FMP__BIND_CLOSE, 3, "0 1 2");
    check_assign(SMT, NULL, "cores", FMP__BIND_CLOSE, 4, "0-1 2-3 4-5 6-7");
    check_assign(SMT, NULL, "cores", FMP__BIND_CLOSE, 8, "0-1 0-1 2-3 2-3 4-5 4-5 6-7 6-7");
    check_assign(SMT, NULL, "cores", FMP__BIND_CLOSE, 2, "0-1 2-3");
    check_assign(BIG, NULL, "{0,1},{2,3}", FMP__BIND_CLOSE, 3, "0-1 0-1 2-3");
    check_assign(BIG, NULL, "{0:4}:4:4", FMP__BIND_CLOSE, 4, "0-3 4-7 8-11 12-15");
    /* restricted to a rank's cores 8-15 */
    check_assign(BIG, "8-15", "cores", FMP__BIND_CLOSE, 4, "8 9 10 11");
    check_assign(BIG, "8-15", "cores", FMP__BIND_CLOSE, 8, seq(8, 1, 8, 1));
    check_assign(BIG, "8-15", "cores", FMP__BIND_CLOSE, 16, seq(8, 1, 8, 2));
    check_assign(BIG, "8-15", "threads", FMP__BIND_CLOSE, 3, "8 9 10");
    check_assign(BIG, "8-15", "sockets", FMP__BIND_CLOSE, 3, "8-15 8-15 8-15");
    check_assign(BIG, "8-15", "{0:4}:4:4", FMP__BIND_CLOSE, 2, "8-11 12-15");
}

static void test_spread(void)
{
    check_assign(BIG, NULL, "cores", FMP__BIND_SPREAD, 4, "0 16 32 48");
    check_assign(BIG, NULL, "cores", FMP__BIND_SPREAD, 2, "0 32");
    check_assign(BIG, NULL, "cores", FMP__BIND_SPREAD, 3, "0 22 43"); /* 22 + 21 + 21 */
    check_assign(BIG, NULL, "cores", FMP__BIND_SPREAD, 64, seq(0, 1, 64, 1));
    check_assign(BIG, NULL, "cores", FMP__BIND_SPREAD, 128, seq(0, 1, 64, 2));
    check_assign(BIG, NULL, "sockets", FMP__BIND_SPREAD, 2, "0-31 32-63");
    check_assign(BIG, NULL, "sockets", FMP__BIND_SPREAD, 3, "0-31 0-31 32-63");
    check_assign(SMT, NULL, "threads", FMP__BIND_SPREAD, 4, "0 2 4 6");
    check_assign(SMT, NULL, "threads", FMP__BIND_SPREAD, 2, "0 4");
    check_assign(SMT, NULL, "cores", FMP__BIND_SPREAD, 2, "0-1 4-5");
    check_assign(SMT, NULL, "cores", FMP__BIND_SPREAD, 4, "0-1 2-3 4-5 6-7");
    check_assign(SMT, NULL, "cores", FMP__BIND_SPREAD, 6, "0-1 0-1 2-3 2-3 4-5 6-7");
    check_assign(BIG, NULL, "{0:4}:4:4", FMP__BIND_SPREAD, 2, "0-3 8-11");
    check_assign(BIG, "8-15", "cores", FMP__BIND_SPREAD, 4, "8 10 12 14");
    check_assign(BIG, "8-15", "cores", FMP__BIND_SPREAD, 3, "8 11 14");
    check_assign(BIG, "8-15", "cores", FMP__BIND_SPREAD, 12, "8 8 9 9 10 10 11 11 12 13 14 15");
}

static void test_primary_and_none(void)
{
    check_assign(BIG, NULL, "cores", FMP__BIND_PRIMARY, 4, "0 0 0 0");
    check_assign(SMT, NULL, "cores", FMP__BIND_PRIMARY, 3, "0-1 0-1 0-1");
    check_assign(BIG, "8-15", "cores", FMP__BIND_PRIMARY, 2, "8 8");
    check_assign(BIG, "8-15", "sockets", FMP__BIND_PRIMARY, 2, "8-15 8-15");
    /* no binding: every member keeps the process's cpuset */
    check_assign(BIG, "8-15", "cores", FMP__BIND_FALSE, 3, "8-15 8-15 8-15");
    check_assign(SMT, NULL, "cores", FMP__BIND_UNSET, 2, "0-7 0-7");
}

static void test_assign_errors(void)
{
    hwloc_topology_t t = synthetic(BIG);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    hwloc_bitmap_t al = set_of("8-15"), out[2] = {hwloc_bitmap_alloc(), hwloc_bitmap_alloc()};
    CU_ASSERT_EQUAL(fmp__topo_assign(t, al, "{0:4}", FMP__BIND_CLOSE, 2, out), FMP_EINVAL);
    CU_ASSERT_EQUAL(fmp__topo_assign(t, al, "nonsense", FMP__BIND_CLOSE, 2, out), FMP_EINVAL);
    CU_ASSERT_EQUAL(fmp__topo_assign(t, al, "cores", FMP__BIND_CLOSE, 0, out), FMP_EINVAL);
    hwloc_bitmap_t *pl;
    int np;
    CU_ASSERT_EQUAL(fmp__topo_places(t, al, "{0,,1}", &pl, &np), FMP_EINVAL);
    hwloc_bitmap_free(out[0]);
    hwloc_bitmap_free(out[1]);
    hwloc_bitmap_free(al);
    hwloc_topology_destroy(t);
}

/* ---------------------------------------------------------------- nested partitions */

static fmp__placement place(int P, fmp__placement parent, int bind, int n, int me)
{
    fmp__placement r;
    fmp__topo_place_member(P, parent, bind, n, me, &r);
    return r;
}

static void test_nested(void)
{
    const int P = 64;
    fmp__placement root = {-1, 0, P};
    /* spread 4: partitions of 16 cores each */
    fmp__placement m1 = place(P, root, FMP__BIND_SPREAD, 4, 1);
    CU_ASSERT(m1.place == 16 && m1.part_first == 16 && m1.part_len == 16);
    fmp__placement m3 = place(P, root, FMP__BIND_SPREAD, 4, 3);
    CU_ASSERT(m3.place == 48 && m3.part_first == 48 && m3.part_len == 16);
    /* member 1 opens close 4: inside its partition, from its own place */
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(place(P, m1, FMP__BIND_CLOSE, 4, i).place, 16 + i);
    /* close 20 on a partition of 16: T/P, wrapping inside the partition */
    CU_ASSERT_EQUAL(place(P, m1, FMP__BIND_CLOSE, 20, 0).place, 16);
    CU_ASSERT_EQUAL(place(P, m1, FMP__BIND_CLOSE, 20, 1).place, 16);
    CU_ASSERT_EQUAL(place(P, m1, FMP__BIND_CLOSE, 20, 8).place, 20);
    CU_ASSERT_EQUAL(place(P, m1, FMP__BIND_CLOSE, 20, 19).place, 31);
    /* spread 2 inside it: 16 and 24, sub-partitions of 8 */
    fmp__placement s = place(P, m1, FMP__BIND_SPREAD, 2, 1);
    CU_ASSERT(s.place == 24 && s.part_first == 24 && s.part_len == 8);
    /* primary: the parent's place, the parent's partition */
    fmp__placement p = place(P, m3, FMP__BIND_PRIMARY, 3, 2);
    CU_ASSERT(p.place == 48 && p.part_first == 48 && p.part_len == 16);
    /* close keeps the parent's partition: a nested close team may use all of it */
    fmp__placement c = place(P, root, FMP__BIND_CLOSE, 4, 2);
    CU_ASSERT(c.place == 2 && c.part_first == 0 && c.part_len == 64);
    CU_ASSERT_EQUAL(place(P, c, FMP__BIND_CLOSE, 3, 2).place, 4);
    /* a team opened by a member bound near the end wraps around its partition */
    fmp__placement last = place(P, root, FMP__BIND_CLOSE, 64, 63);
    CU_ASSERT_EQUAL(last.place, 63);
    CU_ASSERT_EQUAL(place(P, last, FMP__BIND_CLOSE, 3, 1).place, 0);
    fmp__placement w = place(P, last, FMP__BIND_SPREAD, 2, 1);
    CU_ASSERT(w.place == 31 && w.part_first == 31 && w.part_len == 32);
    fmp__placement w0 = place(P, last, FMP__BIND_SPREAD, 2, 0);
    CU_ASSERT(w0.place == 63 && w0.part_first == 63 && w0.part_len == 32);
    CU_ASSERT_EQUAL(place(P, w0, FMP__BIND_CLOSE, 3, 2).place, 1);
    /* spread over more members than places: one place each, partition of one */
    fmp__placement t = place(8, (fmp__placement){-1, 0, 8}, FMP__BIND_SPREAD, 12, 5);
    CU_ASSERT(t.place == 2 && t.part_first == 2 && t.part_len == 1);
    /* no binding: unchanged */
    fmp__placement u = place(P, m1, FMP__BIND_FALSE, 4, 3);
    CU_ASSERT(u.place == m1.place && u.part_first == m1.part_first && u.part_len == 16);
}

/* ---------------------------------------------------------------- affinity format */

static void check_format(const char *fmt, const char *want)
{
    fmp__affinity_info ai = {"node7", 4242, 3, 2, 5, 8, 1, "0-3,8"};
    char buf[256];
    int n = fmp__affinity_format(buf, sizeof buf, fmt, &ai);
    CU_ASSERT_EQUAL(n, (int)strlen(want));
    CU_ASSERT_STRING_EQUAL(buf, want);
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "\n  format '%s': got '%s' want '%s'\n", fmt, buf, want);
    CU_ASSERT_EQUAL(fmp__affinity_format_check(fmt), 0);
}

static void test_affinity_format(void)
{
    check_format("%H %P %i %L %n %N %a %t %T %A %r %%", "node7 4242 4242 2 5 8 1 0 1 0-3,8 3 %");
    check_format("%{host}/%{process_id}/%{nesting_level}/%{thread_num}/%{num_threads}",
                 "node7/4242/2/5/8");
    check_format("%{thread_affinity} %{rank} %{ancestor_tnum}", "0-3,8 3 1");
    check_format("[%4n]", "[5   ]");
    check_format("[%.4n]", "[   5]");
    check_format("[%0.4n]", "[0005]");
    check_format("[%04N]", "[0008]");
    check_format("[%.8H]", "[   node7]");
    check_format("[%08A]", "[   0-3,8]"); /* zeros for numbers only */
    check_format("[%2{thread_num}]", "[5 ]");
    check_format("no fields", "no fields");
    check_format(FMP__AFFINITY_FORMAT_MPI,
                 "host node7 rank 3 pid 4242 level 2 member 5 of 8 cpus 0-3,8");
    static const char *const bad[] = {"%Z", "%{bogus}", "%{host", "tail %", "%4", "%.{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(fmp__affinity_format_check(bad[i]), FMP_EINVAL);
    /* truncation: as snprintf */
    fmp__affinity_info ai = {"node7", 1, -1, 1, 0, 1, 0, "0"};
    char small[6];
    CU_ASSERT_EQUAL(fmp__affinity_format(small, sizeof small, "%H-%H", &ai), 11);
    CU_ASSERT_STRING_EQUAL(small, "node7");
    /* a zero-padded negative number: "-0000001" whatever the buffer (its sign was counted
       twice when the buffer could not hold it) */
    for (size_t len = 0; len <= 9; len++) {
        char buf[10] = "";
        CU_ASSERT_EQUAL(fmp__affinity_format(buf, len, "%08r", &ai), 8);
        if (len > 0)
            CU_ASSERT_EQUAL(strncmp(buf, "-0000001", len - 1), 0);
    }
    hwloc_bitmap_t b = set_of("0-3,8");
    char list[32];
    fmp__cpulist(list, sizeof list, b);
    CU_ASSERT_STRING_EQUAL(list, "0-3,8");
    hwloc_bitmap_free(b);
}

/* ---------------------------------------------------------------- this machine */

/* Run fn in a child with stderr in a file; returns the child's exit status (or -1) and
   what it wrote in out. */
static int in_child(void (*fn)(void), char *out, size_t len)
{
    char path[] = "/tmp/fmp_test_topo_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        dup2(fd, 2);
        fn();
        _exit(0);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    ssize_t n = pread(fd, out, len - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void bind_close_env(void)
{
    memset(fmp__g_icv.bind, 0, sizeof fmp__g_icv.bind);
    fmp__g_icv.bind_len = 1;
    for (int i = 0; i < FMP__MAX_LEVELS; i++)
        fmp__g_icv.bind[i] = FMP__BIND_CLOSE;
    fmp__g_icv.places[0] = '\0';
}

static hwloc_bitmap_t my_cpus(void)
{
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set))
            hwloc_bitmap_set(b, (unsigned)i);
    return b;
}

/* member 1 of 2, forked after fmp__topo_prepare(): exit 0 when bound where expected */
static char expect_member1[256];
static void child_bind(void)
{
    fmp__g.is_child = 1;
    fmp__bind_member(1, 1, 2);
    char got[256];
    hwloc_bitmap_t b = my_cpus();
    fmp__cpulist(got, sizeof got, b);
    hwloc_bitmap_free(b);
    if (strcmp(got, expect_member1) != 0) {
        fprintf(stderr, "member 1 bound to %s, expected %s\n", got, expect_member1);
        _exit(1);
    }
    _exit(0);
}

/* the master binds its own thread to member 0's place; the CPUs its teams may use, and
   so the default team size, must not shrink to that place */
static void child_master_binds(void)
{
    int before = fmp__affinity_count();
    fmp__bind_member(1, 0, 2);
    hwloc_bitmap_t b = my_cpus();
    int bound = hwloc_bitmap_weight(b);
    hwloc_bitmap_free(b);
    int after = fmp__affinity_count();
    fmp__check_oversubscription(before); /* no warning: the team fits the partition */
    if (after != before || (before > 1 && bound >= before)) {
        fprintf(stderr, "count %d before, %d after; thread bound to %d PUs\n", before, after,
                bound);
        _exit(1);
    }
    _exit(0);
}

/* A master of its own (so that this test process loads and maps nothing): prepare, fork
   member 1, then bind itself as member 0.  Exits 0 when all went as expected. */
static void master_scenario(void)
{
    bind_close_env();
    fmp__topo_prepare(2); /* the master loads; the child must not */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        child_bind();
    int st = -1;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        _exit(1);
    child_master_binds(); /* exits */
}

static void test_bind_here(void)
{
    hwloc_topology_t t;
    CU_ASSERT_FATAL(hwloc_topology_init(&t) == 0 && hwloc_topology_load(t) == 0);
    hwloc_bitmap_t mine = my_cpus(), out[2] = {hwloc_bitmap_alloc(), hwloc_bitmap_alloc()};
    hwloc_bitmap_and(mine, mine, hwloc_topology_get_allowed_cpuset(t));
    CU_ASSERT_EQUAL(fmp__topo_assign(t, mine, "", FMP__BIND_CLOSE, 2, out), 0);
    fmp__cpulist(expect_member1, sizeof expect_member1, out[1]);
    CU_ASSERT(hwloc_bitmap_isincluded(out[1], mine));

    char err[4096];
    int rc = in_child(master_scenario, err, sizeof err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    if (rc != 0 || err[0])
        fprintf(stderr, "\n  %s", err);
    /* binding off: a member keeps its cpus */
    hwloc_bitmap_t before = my_cpus();
    fmp__bind_member(1, 0, 2);
    hwloc_bitmap_t after = my_cpus();
    CU_ASSERT(hwloc_bitmap_isequal(before, after));
    hwloc_bitmap_free(before);
    hwloc_bitmap_free(after);
    hwloc_bitmap_free(out[0]);
    hwloc_bitmap_free(out[1]);
    hwloc_bitmap_free(mine);
    hwloc_topology_destroy(t);
}

/* binding on, places that all lie outside this process's cpus: a warning naming them and
   the cpus, and members are not bound */
static void child_places_outside(void)
{
    bind_close_env();
    snprintf(fmp__g_icv.places, sizeof fmp__g_icv.places, "%s", "{1000000},{999999}");
    hwloc_bitmap_t before = my_cpus();
    fmp__topo_prepare(2);
    fmp__bind_member(1, 0, 2);
    hwloc_bitmap_t after = my_cpus();
    _exit(hwloc_bitmap_isequal(before, after) ? 0 : 1);
}

static void test_places_outside(void)
{
    char err[4096], want[1024], cpus[256];
    hwloc_bitmap_t b = my_cpus();
    fmp__cpulist(cpus, sizeof cpus, b);
    hwloc_bitmap_free(b);
    CU_ASSERT_EQUAL(in_child(child_places_outside, err, sizeof err), 0);
    snprintf(want, sizeof want, "forkmp: " FMP__MSG_places_outside "\n", "{1000000},{999999}",
             cpus);
    CU_ASSERT_STRING_EQUAL(err, want);
}

static void child_oversub(void)
{
    int n = fmp__affinity_count() + 1;
    fmp__check_oversubscription(n);
    fmp__check_oversubscription(n); /* once per process */
    fmp__check_oversubscription(n + 5);
}

/* a master that forks a member: the member warns, then neither warns again */
static void child_oversub_tree(void)
{
    int n = fmp__affinity_count() + 1;
    fmp__check_oversubscription(1); /* the master's check before its first fork */
    pid_t pid = fork();
    if (pid == 0) {
        fmp__g.is_child = 1;
        fmp__check_oversubscription(n);
        fmp__check_oversubscription(n);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    fmp__check_oversubscription(n);
}

/* the hybrid layer warned for the whole job: nothing more here or in members */
static void child_checked(void)
{
    int n = fmp__affinity_count() + 1;
    fmp__oversubscription_checked();
    pid_t pid = fork();
    if (pid == 0) {
        fmp__g.is_child = 1;
        fmp__check_oversubscription(n);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    fmp__check_oversubscription(n);
}

static void child_no_oversub(void)
{
    fmp__check_oversubscription(fmp__affinity_count());
    fmp__check_oversubscription(1);
}

/* The catalogue's oversubscription warning for a team of n on pus PUs, printed once (one
   line): the numbers filled in, where the team runs left open (either of its shapes). */
static int is_oversub_warning(const char *err, int n, int pus)
{
    static const char *const where[] = {FMP__MSG_oversubscribed_cores, FMP__MSG_oversubscribed_smt};
    char pattern[1024];
    for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
        snprintf(pattern, sizeof pattern, "forkmp: " FMP__MSG_oversubscribed "\n", n, where[k], pus,
                 n, n, n);
        if (msg_match(pattern, err))
            return 1;
    }
    for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
        snprintf(pattern, sizeof pattern, "forkmp: " FMP__MSG_oversubscribed_machine "\n", n,
                 where[k], pus);
        if (msg_match(pattern, err))
            return 1;
    }
    fprintf(stderr, "\n  not the oversubscription warning for %d on %d PUs: %s", n, pus, err);
    return 0;
}

static void test_oversubscription(void)
{
    char err[4096];
    int pus = fmp__affinity_count();
    CU_ASSERT_EQUAL(in_child(child_oversub, err, sizeof err), 0);
    CU_ASSERT(is_oversub_warning(err, pus + 1, pus)); /* one line, once */
    CU_ASSERT_EQUAL(in_child(child_oversub_tree, err, sizeof err), 0);
    CU_ASSERT(is_oversub_warning(err, pus + 1, pus)); /* once per rank, not once per process */
    CU_ASSERT_EQUAL(in_child(child_checked, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_EQUAL(in_child(child_no_oversub, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
}

/* a process held to one cpu of several: more cpus per rank is the advice */
static void child_oversub_one_cpu(void)
{
    cpu_set_t set, one;
    CPU_ZERO(&one);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        _exit(3);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) {
            CPU_SET(c, &one);
            break;
        }
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        _exit(3);
    fmp__check_oversubscription(2);
}

/* The advice fits where the process runs: with every cpu of the machine, the team size
   alone (it advised `--bind-to none` and `srun --cpus-per-task` to a plain program on a
   2-cpu machine that ran 3 members); held to fewer, more cpus per rank too. */
static void test_oversubscription_advice(void)
{
    char err[4096];
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (fmp__affinity_count() >= online) {
        CU_ASSERT_EQUAL(in_child(child_oversub, err, sizeof err), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "all the cpus of this machine"));
        CU_ASSERT_PTR_NULL(strstr(err, "--bind-to"));
    }
    if (online >= 2) {
        CU_ASSERT_EQUAL(in_child(child_oversub_one_cpu, err, sizeof err), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "`--bind-to none`"));
        CU_ASSERT_PTR_NULL(strstr(err, "all the cpus of this machine"));
    }
}

static void child_display(void)
{
    fmp__g_icv.display_affinity = 1;
    snprintf(fmp__g_icv.affinity_format, sizeof fmp__g_icv.affinity_format, "%s",
             "m %n/%N L%L a%a r%r pid %P cpus %A");
    fmp__display_affinity(1, 3, 4);
    fmp__g_icv.display_affinity = 0;
    fmp__display_affinity(1, 3, 4); /* off: nothing */
    fmp__g_icv.display_affinity = 1;
    fmp__g_icv.affinity_format[0] = '\0';
    fmp__g.rank = 5;
    fmp__display_affinity(2, 1, 2);
}

static void test_display_affinity(void)
{
    char err[4096], want[512], cpus[256];
    hwloc_bitmap_t b = my_cpus();
    fmp__cpulist(cpus, sizeof cpus, b);
    hwloc_bitmap_free(b);
    fmp__ctx root = {.me = 0, .n = 1, .level = 0};
    fmp__g.cur = &root;
    CU_ASSERT_EQUAL(in_child(child_display, err, sizeof err), 0);
    fmp__g.cur = NULL;
    char *second = strchr(err, '\n');
    CU_ASSERT_PTR_NOT_NULL_FATAL(second);
    *second++ = '\0';
    CU_ASSERT_EQUAL(strncmp(err, "m 3/4 L1 a0 r-1 pid ", 20), 0);
    snprintf(want, sizeof want, " cpus %s", cpus);
    CU_ASSERT(strlen(err) > strlen(want) && strcmp(err + strlen(err) - strlen(want), want) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(second, " rank 5 pid "));
    CU_ASSERT_PTR_NOT_NULL(strstr(second, " level 2 member 1 of 2 cpus "));
    CU_ASSERT_EQUAL(strncmp(second, "host ", 5), 0);
    char *end = strchr(second, '\n');
    CU_ASSERT(end && end[1] == '\0');
}

/* ---------------------------------------------------------------- combining trees */

#define NUMA4 "pack:2 numa:2 l3:2 core:4 pu:1" /* 32 cores: 4 per L3, 8 per NUMA node */
#define WIDE "numa:8 core:16 pu:1"             /* 128 cores in 8 NUMA nodes, no L3 */
#define SNC "pack:2 l3:1 numa:2 core:4 pu:1"   /* an L3 cache a package, 2 NUMA nodes in it */

/* The shape is a tree over the members: every member in one leaf at its leaf/pos, every
   node with 1..FANIN children whose parent is it, parents before children, and a node's
   numa the one NUMA node of all its members (-1 when they have several). */
static void check_shape(const fmp__tree_shape *s, const int *member_numa)
{
    CU_ASSERT_FATAL(s->nnodes >= 1 && s->nnodes < 2 * s->n + 1);
    CU_ASSERT_EQUAL(s->parent[0], -1);
    int *seen = calloc((size_t)s->n, sizeof(int));
    for (int k = 0; k < s->nnodes; k++) {
        CU_ASSERT(s->nkids[k] >= 1 && s->nkids[k] <= FMP__TREE_FANIN);
        CU_ASSERT(k == 0 || (s->parent[k] >= 0 && s->parent[k] < k));
        CU_ASSERT(k == 0 || s->depth[k] == s->depth[s->parent[k]] + 1);
        for (int i = 0; i < s->nkids[k]; i++) {
            int c = s->kids[k * FMP__TREE_FANIN + i];
            if (s->leafy[k]) {
                CU_ASSERT(c >= 0 && c < s->n && s->leaf[c] == k && s->pos[c] == i);
                if (c >= 0 && c < s->n)
                    seen[c]++;
            } else {
                CU_ASSERT(c > k && c < s->nnodes && s->parent[c] == k);
            }
        }
    }
    for (int m = 0; m < s->n; m++)
        CU_ASSERT_EQUAL(seen[m], 1);
    if (member_numa)
        for (int k = 0; k < s->nnodes; k++) {
            int v = -2;
            for (int m = 0; m < s->n; m++) {
                int a = s->leaf[m];
                while (a >= 0 && a != k)
                    a = s->parent[a];
                if (a == k)
                    v = v == -2 || v == member_numa[m] ? member_numa[m] : -1;
            }
            CU_ASSERT_EQUAL(s->numa[k], v);
        }
    free(seen);
}

/* "([0 1]@0 [2 3]@1)": leaves in brackets, other nodes in parentheses, children in
   order, each followed by @numa when it has one */
static size_t render(const fmp__tree_shape *s, int k, char *b, size_t len)
{
    size_t o = (size_t)snprintf(b, len, "%s", s->leafy[k] ? "[" : "(");
    for (int i = 0; i < s->nkids[k] && o < len; i++) {
        int c = s->kids[k * FMP__TREE_FANIN + i];
        if (i)
            o += (size_t)snprintf(b + o, len - o, " ");
        if (s->leafy[k])
            o += (size_t)snprintf(b + o, len - o, "%d", c);
        else if (o < len)
            o += render(s, c, b + o, len - o);
    }
    if (o < len)
        o += (size_t)snprintf(b + o, len - o, "%s", s->leafy[k] ? "]" : ")");
    if (o < len && s->numa[k] >= 0)
        o += (size_t)snprintf(b + o, len - o, "@%d", s->numa[k]);
    return o;
}

/* The tree of n members placed by spec and bind on desc (bind false: not bound), checked
   and compared with want (NULL: checked only); returns the number of nodes. */
static int check_tree(const char *desc, const char *spec, int bind, int n, const char *want)
{
    hwloc_topology_t t = synthetic(desc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    hwloc_bitmap_t *cpus = calloc((size_t)n, sizeof *cpus);
    int *numa = calloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++)
        cpus[i] = hwloc_bitmap_alloc();
    CU_ASSERT_EQUAL_FATAL(
        fmp__topo_assign(t, hwloc_topology_get_topology_cpuset(t), spec, bind, n, cpus), 0);
    for (int i = 0; i < n; i++) {
        numa[i] = -1;
        for (int j = 0; j < hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE); j++)
            if (hwloc_bitmap_isincluded(cpus[i],
                                        hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, j)->cpuset))
                numa[i] = j;
    }
    fmp__tree_shape s;
    const hwloc_const_bitmap_t *member_cpus = (const hwloc_const_bitmap_t *)cpus;
    hwloc_const_bitmap_t *none = calloc((size_t)n, sizeof *none);
    int rc = fmp__topo_tree(t, bind == FMP__BIND_FALSE ? none : member_cpus, n, &s);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    check_shape(&s, bind == FMP__BIND_FALSE ? NULL : numa);
    char got[16384];
    render(&s, 0, got, sizeof got);
    if (want) {
        CU_ASSERT_STRING_EQUAL(got, want);
        if (strcmp(got, want) != 0)
            fprintf(stderr, "\n  tree %s '%s' bind %d n %d:\n   got  '%s'\n   want '%s'\n", desc,
                    spec, bind, n, got, want);
    }
    int nn = s.nnodes;
    fmp__tree_shape_free(&s);
    for (int i = 0; i < n; i++)
        hwloc_bitmap_free(cpus[i]);
    free(cpus);
    free(none);
    free(numa);
    hwloc_topology_destroy(t);
    return nn;
}

/* What a process keeps of the topology (fmp__machine): the holders of each PU by OS
   index, the NUMA nodes' OS indexes; PUs held by nothing of a kind get -1. */
static void test_machine_summary(void)
{
    hwloc_topology_t t = synthetic("pack:2 numa:2 l3:1 core:2 pu:2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    fmp__machine m;
    CU_ASSERT_EQUAL_FATAL(fmp__machine_read(t, &m), 0);
    CU_ASSERT_EQUAL(m.npus, 16);
    CU_ASSERT_EQUAL(m.nnuma, 4);
    for (int pu = 0; pu < 16; pu++) {
        CU_ASSERT_EQUAL(m.pu[pu][FMP__HOLD_CORE], pu / 2);
        CU_ASSERT_EQUAL(m.pu[pu][FMP__HOLD_L3], pu / 4);
        CU_ASSERT_EQUAL(m.pu[pu][FMP__HOLD_NUMA], pu / 4);
        CU_ASSERT_EQUAL(m.pu[pu][FMP__HOLD_PACKAGE], pu / 8);
    }
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(m.numa_os[i], (unsigned)i);
    fmp__machine_free(&m);
    hwloc_topology_destroy(t);
    /* no cores reported: each PU is its own; no L3, no package */
    t = synthetic("numa:2 pu:3");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(fmp__machine_read(t, &m), 0);
    CU_ASSERT_EQUAL(m.npus, 6);
    for (int pu = 0; pu < 6; pu++) {
        CU_ASSERT_EQUAL(m.pu[pu][FMP__HOLD_CORE], pu);
        CU_ASSERT_EQUAL(m.pu[pu][FMP__HOLD_L3], -1);
        CU_ASSERT_EQUAL(m.pu[pu][FMP__HOLD_NUMA], pu / 3);
        CU_ASSERT_EQUAL(m.pu[pu][FMP__HOLD_PACKAGE], -1);
    }
    fmp__machine_free(&m);
    hwloc_topology_destroy(t);
}

static void test_trees(void)
{
    /* bound to cores: L3 caches of 4, in NUMA nodes of 2 caches, in packages of 2 nodes */
    check_tree(NUMA4, "cores", FMP__BIND_CLOSE, 32,
               "((([0 1 2 3]@0 [4 5 6 7]@0)@0 ([8 9 10 11]@1 [12 13 14 15]@1)@1) "
               "(([16 17 18 19]@2 [20 21 22 23]@2)@2 ([24 25 26 27]@3 [28 29 30 31]@3)@3))");
    /* two members a core: 8 members an L3 cache, still one leaf each */
    CU_ASSERT_EQUAL(check_tree(NUMA4, "cores", FMP__BIND_CLOSE, 64, NULL), 8 + 4 + 2 + 1);
    /* NUMA nodes inside an L3 cache (sub-NUMA clusters): the NUMA nodes are the leaves */
    check_tree(SNC, "cores", FMP__BIND_CLOSE, 16,
               "(([0 1 2 3]@0 [4 5 6 7]@1) ([8 9 10 11]@2 [12 13 14 15]@3))");
    /* spread: one member an L3 cache and a NUMA node, so only packages group them */
    check_tree(NUMA4, "cores", FMP__BIND_SPREAD, 4, "([0 1] [2 3])");
    /* members bound to packages: grouped by package, no NUMA node of their own */
    check_tree(NUMA4, "sockets", FMP__BIND_CLOSE, 4, "([0 1] [2 3])");
    /* 16 members a NUMA node: two leaves of 8 under each node's counter */
    check_tree(WIDE, "cores", FMP__BIND_CLOSE, 128, NULL);
    {
        hwloc_topology_t t = synthetic(WIDE);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        int n = 128;
        hwloc_bitmap_t *cpus = calloc((size_t)n, sizeof *cpus);
        for (int i = 0; i < n; i++)
            cpus[i] = hwloc_bitmap_alloc();
        fmp__topo_assign(t, hwloc_topology_get_topology_cpuset(t), "cores", FMP__BIND_CLOSE, n,
                         cpus);
        fmp__tree_shape s;
        CU_ASSERT_EQUAL_FATAL(fmp__topo_tree(t, (const hwloc_const_bitmap_t *)cpus, n, &s), 0);
        CU_ASSERT_EQUAL(s.nnodes, 16 + 8 + 1);
        CU_ASSERT_EQUAL(s.nkids[0], 8);
        for (int m = 0; m < n; m++) {
            int leaf = s.leaf[m];
            CU_ASSERT_EQUAL(s.numa[leaf], m / 16);           /* the member's node */
            CU_ASSERT_EQUAL(s.numa[s.parent[leaf]], m / 16); /* and its NUMA node's */
            CU_ASSERT_EQUAL(s.parent[s.parent[leaf]], 0);
        }
        fmp__tree_shape_free(&s);
        for (int i = 0; i < n; i++)
            hwloc_bitmap_free(cpus[i]);
        free(cpus);
        hwloc_topology_destroy(t);
    }
    /* not bound: 8 members a leaf in member order, whatever the machine */
    check_tree(NUMA4, "cores", FMP__BIND_FALSE, 20,
               "([0 1 2 3 4 5 6 7] [8 9 10 11 12 13 14 15] [16 17 18 19])");
    check_tree(NUMA4, "cores", FMP__BIND_FALSE, 8, "[0 1 2 3 4 5 6 7]");
    /* the largest team: 512 leaves, 64, 8, the root */
    fmp__tree_shape s;
    CU_ASSERT_EQUAL_FATAL(fmp__tree_build(4096, 0, NULL, NULL, &s), 0);
    check_shape(&s, NULL);
    CU_ASSERT_EQUAL(s.nnodes, 512 + 64 + 8 + 1);
    CU_ASSERT_EQUAL(s.depth[s.leaf[4095]], 3);
    fmp__tree_shape_free(&s);
    /* keys straight: groups in the order of their first member, members in order, even
       when a domain's members are not consecutive; a level no coarser than the last one
       kept, or unknown for a member, is skipped */
    static const int interleaved[] = {0, 1, 0, 1, /* numa */ 5, 6, 5, 6};
    CU_ASSERT_EQUAL_FATAL(fmp__tree_build(4, 2, interleaved, interleaved + 4, &s), 0);
    check_shape(&s, interleaved + 4);
    char got[256];
    render(&s, 0, got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, "([0 2]@5 [1 3]@6)");
    fmp__tree_shape_free(&s);
    static const int wrapped[] = {1, 1, 0, 0, /* unknown */ 0, -1, 0, 0};
    CU_ASSERT_EQUAL_FATAL(fmp__tree_build(4, 2, wrapped, NULL, &s), 0);
    render(&s, 0, got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got, "([0 1] [2 3])");
    fmp__tree_shape_free(&s);
    CU_ASSERT_EQUAL(fmp__tree_build(0, 0, NULL, NULL, &s), FMP_EINVAL);
}

int main(void)
{
    alarm(120); /* a watchdog: a hang is a failure */
    if (CU_initialize_registry() != CUE_SUCCESS)
        return CU_get_error();
    CU_pSuite s = CU_add_suite("topology", NULL, NULL);
    CU_add_test(s, "place lists", test_places_lists);
    CU_add_test(s, "close", test_close);
    CU_add_test(s, "spread", test_spread);
    CU_add_test(s, "primary, no binding", test_primary_and_none);
    CU_add_test(s, "errors", test_assign_errors);
    CU_add_test(s, "nested partitions", test_nested);
    CU_add_test(s, "affinity format", test_affinity_format);
    CU_add_test(s, "binding on this machine", test_bind_here);
    CU_add_test(s, "places outside the process's cpus", test_places_outside);
    CU_add_test(s, "oversubscription warning", test_oversubscription);
    CU_add_test(s, "oversubscription advice", test_oversubscription_advice);
    CU_add_test(s, "FMP_DISPLAY_AFFINITY", test_display_affinity);
    CU_add_test(s, "combining trees follow the topology", test_trees);
    CU_add_test(s, "what a process keeps of the topology", test_machine_summary);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
