/* test_tasks: fmp_task and fmp_taskwait.  Many independent tasks run exactly once, and
 * idle members steal them; recursive Fibonacci and a parallel quicksort of a shared array
 * (tasks creating tasks); every task complete at fmp_barrier, at the implied barriers of
 * FMP_SINGLE and FMP_FOR and at the join; fmp_taskwait waits for the caller's own children
 * only; tasks outside a region and in a team of one run at once; tasks in persistent runs
 * and nested regions; arguments copied by value, big arguments, bad input; and a member
 * killed while running a task (tests/task_prog, in return and abort mode). */
#define _GNU_SOURCE
#include <forkmp.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "messages.h"

/* ---------------------------------------------------------------- independent tasks */

typedef struct count_arg {
    int *count;  /* shared */
    int *ran_by; /* shared, per member */
    int i;
    double work; /* seconds of work in each task */
} count_arg;

static void count_task(void *p)
{
    count_arg *a = p;
    ht_atomic_add(&a->count[a->i], 1);
    ht_atomic_add(&a->ran_by[fmp_thread_num()], 1);
    if (a->work > 0) {
        double end = ht_now() + a->work;
        while (ht_now() < end)
            ;
    }
}

static void test_many_tasks_run_once(void)
{
    enum { N = 4, TASKS = 3000 };
    int *count = ht_shared(TASKS * sizeof(int));
    int *ran_by = ht_shared(N * sizeof(int));
    int *bad = ht_shared(sizeof(int));
    FMP_PARALLEL(N) {
        FMP_SINGLE
        {
            for (int i = 0; i < TASKS; i++) {
                count_arg a = {count, ran_by, i, 0};
                if (fmp_task(count_task, &a, sizeof a) != FMP_OK)
                    ht_atomic_add(bad, 1);
            }
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    HT_CHECK_INT_EQ(*bad, 0);
    int wrong = 0, first = -1;
    for (int i = 0; i < TASKS; i++)
        if (count[i] != 1 && wrong++ == 0)
            first = i;
    HT_CHECK_MSG(wrong == 0, "%d of %d tasks did not run exactly once (task %d ran %d times)",
                 wrong, TASKS, first, first >= 0 ? count[first] : 0);
    int total = 0;
    for (int m = 0; m < N; m++)
        total += ran_by[m];
    HT_CHECK_INT_EQ(total, TASKS);
}

static void test_idle_members_steal(void)
{
    /* one member creates tasks of 2 ms each; the others, at the implied barrier of the
       single, must take some of them */
    enum { N = 4, TASKS = 200 };
    int *count = ht_shared(TASKS * sizeof(int));
    int *ran_by = ht_shared(N * sizeof(int));
    FMP_PARALLEL(N) {
        FMP_SINGLE
        {
            for (int i = 0; i < TASKS; i++) {
                count_arg a = {count, ran_by, i, 0.002};
                fmp_task(count_task, &a, sizeof a);
            }
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    int helpers = 0, total = 0;
    for (int m = 0; m < N; m++) {
        helpers += ran_by[m] > 0;
        total += ran_by[m];
    }
    HT_CHECK_INT_EQ(total, TASKS);
    HT_CHECK_MSG(helpers >= 2, "only %d member(s) ran the %d tasks: nobody stole (%d %d %d %d)",
                 helpers, TASKS, ran_by[0], ran_by[1], ran_by[2], ran_by[3]);
}

static void test_waiters_at_barrier_help(void)
{
    /* the others reach the barrier long before the master creates any task: they must
       still take tasks from there */
    enum { N = 3, TASKS = 150 };
    int *count = ht_shared(TASKS * sizeof(int));
    int *ran_by = ht_shared(N * sizeof(int));
    int *rc = ht_shared(N * sizeof(int));
    FMP_PARALLEL(N) {
        if (fmp_thread_num() == 0) {
            ht_sleep(0.1);
            for (int i = 0; i < TASKS; i++) {
                count_arg a = {count, ran_by, i, 0.002};
                fmp_task(count_task, &a, sizeof a);
            }
        }
        rc[fmp_thread_num()] = fmp_barrier();
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    int helpers = 0, total = 0;
    for (int m = 0; m < N; m++) {
        HT_CHECK_INT_EQ(rc[m], FMP_OK);
        helpers += m > 0 && ran_by[m] > 0;
        total += ran_by[m];
    }
    HT_CHECK_INT_EQ(total, TASKS);
    HT_CHECK_MSG(helpers >= 1, "no member waiting at the barrier ran a task (%d %d %d)", ran_by[0],
                 ran_by[1], ran_by[2]);
}

/* ---------------------------------------------------------------- Fibonacci */

typedef struct fib_arg {
    int n;
    long *out; /* shared */
} fib_arg;

static long fib_serial(int n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

static void fib_task(void *p)
{
    fib_arg a = *(fib_arg *)p;
    if (a.n < 12) {
        *a.out = fib_serial(a.n);
        return;
    }
    long *r = fmp_shared_alloc(2 * sizeof *r);
    fmp_task(fib_task, &(fib_arg){a.n - 1, &r[0]}, sizeof(fib_arg));
    fmp_task(fib_task, &(fib_arg){a.n - 2, &r[1]}, sizeof(fib_arg));
    if (fmp_taskwait() != FMP_OK)
        r[0] = -1000000;
    *a.out = r[0] + r[1];
    fmp_shared_free(r);
}

static void test_fibonacci(void)
{
    enum { N = 4, FIB = 25 };
    long *out = ht_shared(2 * sizeof(long));
    int *bad = ht_shared(sizeof(int));
    FMP_PARALLEL(N) {
        FMP_SINGLE
        {
            fmp_task(fib_task, &(fib_arg){FIB, &out[0]}, sizeof(fib_arg));
            /* taskwait in the implicit task: the result is there at its return */
            if (fmp_taskwait() != FMP_OK || out[0] != fib_serial(FIB))
                ht_atomic_add(bad, 1);
            fmp_task(fib_task, &(fib_arg){FIB - 1, &out[1]}, sizeof(fib_arg));
        }
        /* the second is complete at the single's implied barrier */
        if (out[1] != fib_serial(FIB - 1))
            ht_atomic_add(bad, 1);
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    HT_CHECK_INT_EQ(out[0], fib_serial(FIB));
    HT_CHECK_INT_EQ(out[1], fib_serial(FIB - 1));
    HT_CHECK_INT_EQ(*bad, 0);
}

/* ---------------------------------------------------------------- quicksort */

typedef struct qs_arg {
    int *a;      /* shared */
    long lo, hi; /* [lo, hi) */
} qs_arg;

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

static void qs_task(void *p)
{
    qs_arg q = *(qs_arg *)p;
    int *a = q.a;
    if (q.hi - q.lo < 2000) {
        qsort(a + q.lo, (size_t)(q.hi - q.lo), sizeof *a, cmp_int);
        return;
    }
    /* Lomuto's partition around the middle element, moved to the end */
    long mid = q.lo + (q.hi - q.lo) / 2, store = q.lo;
    int pivot = a[mid];
    a[mid] = a[q.hi - 1];
    a[q.hi - 1] = pivot;
    for (long k = q.lo; k < q.hi - 1; k++)
        if (a[k] < pivot) {
            int t = a[k];
            a[k] = a[store];
            a[store++] = t;
        }
    a[q.hi - 1] = a[store];
    a[store] = pivot;
    fmp_task(qs_task, &(qs_arg){a, q.lo, store}, sizeof(qs_arg));
    fmp_task(qs_task, &(qs_arg){a, store + 1, q.hi}, sizeof(qs_arg));
}

static void test_quicksort(void)
{
    enum { N = 4, LEN = 300000 };
    int *a = fmp_shared_alloc(LEN * sizeof *a);
    int *ref = malloc(LEN * sizeof *ref);
    HT_REQUIRE(a && ref);
    srand(12345);
    for (long k = 0; k < LEN; k++)
        a[k] = ref[k] = rand() % 100000 - 50000;
    qsort(ref, LEN, sizeof *ref, cmp_int);
    FMP_PARALLEL(N) {
        FMP_SINGLE
        {
            fmp_task(qs_task, &(qs_arg){a, 0, LEN}, sizeof(qs_arg));
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    long unsorted = 0, differ = 0;
    for (long k = 0; k < LEN; k++) {
        unsorted += k > 0 && a[k - 1] > a[k];
        differ += a[k] != ref[k]; /* sorted and a permutation: equal to the sorted copy */
    }
    HT_CHECK_MSG(unsorted == 0, "%ld places out of order", unsorted);
    HT_CHECK_MSG(differ == 0, "%ld elements differ from the serially sorted copy", differ);
    free(ref);
    fmp_shared_free(a);
}

/* ---------------------------------------------------------------- completion points */

typedef struct flag_arg {
    int *flags;
    int i;
} flag_arg;

static void flag_task(void *p)
{
    flag_arg *f = p;
    ht_sleep(0.001);
    ht_atomic_store(&f->flags[f->i], 1);
}

static int count_set(const int *flags, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += ht_atomic_load(&flags[i]);
    return k;
}

static void test_complete_at_barriers(void)
{
    enum { N = 4, PER = 20, ALL = N * PER };
    int *at_barrier = ht_shared(ALL * sizeof(int));
    int *at_single = ht_shared(ALL * sizeof(int));
    int *at_for = ht_shared(ALL * sizeof(int));
    int *at_join = ht_shared(ALL * sizeof(int));
    int *bad = ht_shared(4 * sizeof(int));
    FMP_PARALLEL(N) {
        int me = fmp_thread_num();
        for (int k = 0; k < PER; k++)
            fmp_task(flag_task, &(flag_arg){at_barrier, me * PER + k}, sizeof(flag_arg));
        if (fmp_barrier() != FMP_OK || count_set(at_barrier, ALL) != ALL)
            ht_atomic_add(&bad[0], 1);
        FMP_SINGLE
        {
            for (int k = 0; k < ALL; k++)
                fmp_task(flag_task, &(flag_arg){at_single, k}, sizeof(flag_arg));
        }
        if (count_set(at_single, ALL) != ALL)
            ht_atomic_add(&bad[1], 1);
        FMP_FOR(i, 0, ALL, fmp_static(0)) {
            fmp_task(flag_task, &(flag_arg){at_for, (int)i}, sizeof(flag_arg));
        }
        if (count_set(at_for, ALL) != ALL)
            ht_atomic_add(&bad[2], 1);
        for (int k = 0; k < PER; k++)
            fmp_task(flag_task, &(flag_arg){at_join, me * PER + k}, sizeof(flag_arg));
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    HT_CHECK_MSG(bad[0] == 0, "%d members found tasks incomplete after fmp_barrier", bad[0]);
    HT_CHECK_MSG(bad[1] == 0, "%d members found tasks incomplete after FMP_SINGLE", bad[1]);
    HT_CHECK_MSG(bad[2] == 0, "%d members found tasks incomplete after FMP_FOR", bad[2]);
    HT_CHECK_INT_EQ(count_set(at_join, ALL), ALL);
}

/* ---------------------------------------------------------------- taskwait scope */

typedef struct hold_arg {
    int *release, *done, *timed_out;
} hold_arg;

static void hold_task(void *p)
{
    hold_arg *h = p;
    double end = ht_now() + 5;
    while (!ht_atomic_load(h->release))
        if (ht_now() > end) {
            ht_atomic_store(h->timed_out, 1);
            break;
        }
    ht_atomic_store(h->done, 1);
}

static void slow_flag_task(void *p)
{
    flag_arg *f = p;
    ht_sleep(f->i == 0 ? 0.2 : 0.001); /* the oldest, which a thief takes first, is long */
    ht_atomic_store(&f->flags[f->i], 1);
}

static void test_taskwait_own_children_only(void)
{
    /* Member 0 creates its own tasks (member 2, idle at the barrier, steals the first, long
       one), then
       member 1 queues tasks that hold until member 0 says so after its taskwait.  Member 0's
       taskwait must return once its own tasks are complete, without waiting for member
       1's, nor running one of them (it would wait for ever) while member 2 finishes the
       ones it stole. */
    enum { N = 3, OWN = 20, HELD = 8 };
    int *release = ht_shared(sizeof(int)), *held_done = ht_shared(HELD * sizeof(int));
    int *timed_out = ht_shared(sizeof(int)), *step = ht_shared(sizeof(int));
    int *own = ht_shared(OWN * sizeof(int));
    int *seen = ht_shared(2 * sizeof(int));
    FMP_PARALLEL(N) {
        int me = fmp_thread_num();
        if (me == 1) {
            while (ht_atomic_load(step) != 1)
                ;
            for (int k = 0; k < HELD; k++)
                fmp_task(hold_task, &(hold_arg){release, &held_done[k], timed_out},
                         sizeof(hold_arg));
            ht_atomic_store(step, 2);
        } else if (me == 0) {
            for (int k = 0; k < OWN; k++)
                fmp_task(slow_flag_task, &(flag_arg){own, k}, sizeof(flag_arg));
            ht_atomic_store(step, 1);
            while (ht_atomic_load(step) != 2)
                ;
            int rc = fmp_taskwait();
            /* the own tasks are complete, the other member's tasks are still held */
            seen[0] = rc == FMP_OK ? count_set(own, OWN) : -1;
            seen[1] = count_set(held_done, HELD);
            ht_atomic_store(release, 1);
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    HT_CHECK_MSG(seen[0] == OWN, "fmp_taskwait returned with %d of its %d tasks complete", seen[0],
                 OWN);
    HT_CHECK_MSG(seen[1] == 0, "fmp_taskwait waited for %d of another member's tasks", seen[1]);
    HT_CHECK_MSG(*timed_out == 0, "fmp_taskwait ran another member's task");
    HT_CHECK_INT_EQ(count_set(held_done, HELD), HELD);
}

/* ---------------------------------------------------------------- run at once */

static int g_private; /* private memory: a task that runs elsewhere cannot change it */

static void private_task(void *p)
{
    g_private += *(int *)p;
    *(int *)p = -1; /* its own copy */
}

static void test_outside_region_and_team_of_one(void)
{
    int v = 5;
    g_private = 0;
    HT_CHECK_INT_EQ(fmp_task(private_task, &v, sizeof v), FMP_OK);
    HT_CHECK_INT_EQ(g_private, 5); /* ran at once, in the caller */
    HT_CHECK_INT_EQ(v, 5);         /* on a copy */
    HT_CHECK_INT_EQ(fmp_taskwait(), FMP_OK);
    int *bad = ht_shared(sizeof(int));
    FMP_PARALLEL(1) {
        int w = 7;
        g_private = 0;
        if (fmp_task(private_task, &w, sizeof w) != FMP_OK || g_private != 7 || w != 7)
            ht_atomic_add(bad, 1);
        if (fmp_taskwait() != FMP_OK)
            ht_atomic_add(bad, 1);
    }
    HT_CHECK_INT_EQ(*bad, 0);
    /* an inner region of one member (nesting off) is a team of one too */
    fmp_set_max_active_levels(1);
    FMP_PARALLEL(2) {
        FMP_PARALLEL(2) {
            int w = 3;
            g_private = 0;
            if (fmp_task(private_task, &w, sizeof w) != FMP_OK || g_private != 3)
                ht_atomic_add(bad, 1);
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    HT_CHECK_INT_EQ(*bad, 0);
}

/* ---------------------------------------------------------------- by value, big */

typedef struct val_arg {
    int *seen; /* shared */
    int slot;
    int value;
} val_arg;

static void val_task(void *p)
{
    val_arg *v = p;
    ht_sleep(0.0005);
    ht_atomic_store(&v->seen[v->slot], v->value);
}

static void test_argument_copied_by_value(void)
{
    enum { N = 3, TASKS = 100 };
    int *seen = ht_shared(TASKS * sizeof(int));
    FMP_PARALLEL(N) {
        FMP_SINGLE
        {
            val_arg a = {seen, 0, 0};
            for (int i = 0; i < TASKS; i++) {
                a.slot = i;
                a.value = 1000 + i;
                fmp_task(val_task, &a, sizeof a);
                a.value = -1; /* changed at once: the task must not see it */
            }
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    int wrong = 0;
    for (int i = 0; i < TASKS; i++)
        wrong += seen[i] != 1000 + i;
    HT_CHECK_MSG(wrong == 0, "%d tasks saw a value other than the one at their creation", wrong);
}

enum { BIG = 64 * 1024 };
typedef struct big_arg {
    long *out; /* shared */
    int slot;
    unsigned char bytes[BIG];
} big_arg;

static void big_task(void *p)
{
    big_arg *b = p;
    long sum = 0;
    for (int k = 0; k < BIG; k++)
        sum += b->bytes[k] ^ (unsigned char)(k * 7 + b->slot);
    b->bytes[0] ^= 0xff; /* its own copy */
    b->out[b->slot] = sum;
}

static void test_big_arguments(void)
{
    enum { N = 3, TASKS = 40 };
    long *out = ht_shared((TASKS + 1) * sizeof(long));
    for (int i = 0; i <= TASKS; i++)
        out[i] = -1;
    big_arg *b = malloc(sizeof *b);
    HT_REQUIRE(b);
    b->out = out;
    /* outside a region: at once */
    b->slot = TASKS;
    for (int k = 0; k < BIG; k++)
        b->bytes[k] = (unsigned char)(k * 7 + TASKS);
    HT_CHECK_INT_EQ(fmp_task(big_task, b, sizeof *b), FMP_OK);
    HT_CHECK_INT_EQ(out[TASKS], 0);
    HT_CHECK_INT_EQ(b->bytes[0], (unsigned char)TASKS);
    FMP_PARALLEL(N) {
        FMP_SINGLE
        {
            for (int i = 0; i < TASKS; i++) {
                b->slot = i;
                for (int k = 0; k < BIG; k++)
                    b->bytes[k] = (unsigned char)(k * 7 + i);
                fmp_task(big_task, b, sizeof *b);
            }
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    int wrong = 0;
    for (int i = 0; i < TASKS; i++)
        wrong += out[i] != 0;
    HT_CHECK_MSG(wrong == 0, "%d of %d tasks saw a corrupted 64 KiB argument", wrong, TASKS);
    free(b);
}

/* ---------------------------------------------------------------- bad input */

static void nop_task(void *p)
{
    (void)p;
}

static void test_bad_input(void)
{
    char want[256], *err;
    int x = 0;
    ht_capture_stderr_begin();
    int rc_fn = fmp_task(NULL, &x, sizeof x);
    int rc_arg = fmp_task(nop_task, NULL, 8);
    int rc_size = fmp_task(nop_task, &x, SIZE_MAX / 2); /* no copy can be made */
    err = ht_capture_stderr_end();
    HT_CHECK_INT_EQ(rc_fn, FMP_EINVAL);
    HT_CHECK_INT_EQ(rc_arg, FMP_EINVAL);
    HT_CHECK_INT_EQ(rc_size, FMP_ENOMEM);
    snprintf(want, sizeof want, FMP__MSG_task_args, "fn is NULL");
    HT_CHECK_CONTAINS(err, want);
    snprintf(want, sizeof want, FMP__MSG_task_args, "arg is NULL with argsize > 0");
    HT_CHECK_CONTAINS(err, want);
    snprintf(want, sizeof want, "%zu-byte argument", (size_t)(SIZE_MAX / 2));
    HT_CHECK_CONTAINS(err, want);
    free(err);
    /* the same in a team: refused in the caller, the team goes on */
    int *rcs = ht_shared(4 * sizeof(int));
    ht_capture_stderr_begin();
    FMP_PARALLEL(2) {
        if (fmp_thread_num() == 1) {
            rcs[0] = fmp_task(NULL, NULL, 0);
            rcs[1] = fmp_task(nop_task, &x, SIZE_MAX / 2);
        }
        rcs[2 + fmp_thread_num()] = fmp_barrier();
    }
    free(ht_capture_stderr_end());
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    HT_CHECK_INT_EQ(rcs[0], FMP_EINVAL);
    HT_CHECK_INT_EQ(rcs[1], FMP_ENOMEM);
    HT_CHECK_INT_EQ(rcs[2], FMP_OK);
    HT_CHECK_INT_EQ(rcs[3], FMP_OK);
}

/* ---------------------------------------------------------------- persistent, nested */

static void run_body(void *p)
{
    long *out = *(long **)p;
    FMP_SINGLE
    {
        fmp_task(fib_task, &(fib_arg){22, &out[0]}, sizeof(fib_arg));
    }
    /* and every member creates a few of its own, complete at the run's end */
    fmp_task(fib_task, &(fib_arg){15, &out[1 + fmp_thread_num()]}, sizeof(fib_arg));
}

static void test_persistent_and_nested(void)
{
    enum { N = 3 };
    long *out = ht_shared((N + 1) * sizeof(long));
    fmp_team *team = fmp_team_create(N);
    HT_REQUIRE(team != NULL);
    for (int run = 0; run < 3; run++) {
        memset(out, 0, (N + 1) * sizeof(long));
        HT_CHECK_INT_EQ(fmp_team_run(team, run_body, &out, sizeof out), FMP_OK);
        HT_CHECK_INT_EQ(out[0], fib_serial(22));
        for (int m = 0; m < N; m++)
            HT_CHECK_INT_EQ(out[1 + m], fib_serial(15));
    }
    HT_CHECK_INT_EQ(fmp_team_destroy(team), FMP_OK);
    /* nested regions: each inner team runs its own tasks */
    fmp_set_max_active_levels(2);
    long *res = ht_shared(4 * sizeof(long));
    FMP_PARALLEL(2) {
        int outer = fmp_thread_num();
        FMP_PARALLEL(2) {
            FMP_SINGLE
            {
                fmp_task(fib_task, &(fib_arg){20 + outer, &res[outer]}, sizeof(fib_arg));
            }
            if (res[outer] != fib_serial(20 + outer))
                res[2 + outer] = 1;
        }
    }
    HT_CHECK_INT_EQ(fmp_region_error(), FMP_OK);
    HT_CHECK_INT_EQ(res[0], fib_serial(20));
    HT_CHECK_INT_EQ(res[1], fib_serial(21));
    HT_CHECK_INT_EQ(res[2] + res[3], 0);
}

/* ---------------------------------------------------------------- a member dies */

static void run_task_prog(const char *mode, ht_proc *p)
{
    ht_become_subreaper();
    char path[4096];
    ht_helper_path("task_prog", path, sizeof path);
    char *argv[] = {path, (char *)mode, NULL};
    int rc = ht_run(argv, NULL, NULL, 25, p);
    HT_REQUIRE_MSG(rc == 0, "cannot run %s: %s", path, strerror(-rc));
    char st[128];
    HT_CHECK_MSG(p->reaped && !p->timed_out, "task_prog %s %s (a hang?). stderr: %.1500s", mode,
                 ht_status_str(p, st, sizeof st), p->err);
}

static void check_killed_report(const char *text)
{
    char killed[128];
    snprintf(killed, sizeof killed, FMP__MSG_killed_by, SIGKILL, "SIGKILL");
    HT_CHECK_CONTAINS(text, killed);
}

static void test_member_killed_in_task_return(void)
{
    ht_proc p;
    run_task_prog("return", &p);
    char want[64];
    snprintf(want, sizeof want, "region %d\n", FMP_EMEMBER);
    HT_CHECK_CONTAINS(p.out, want);
    /* the members that waited got the team's error, none hung */
    HT_CHECK_CONTAINS(p.out, "waits ok\n");
    HT_CHECK_CONTAINS(p.out, "after region\n");
    HT_CHECK_CONTAINS(p.out, "task ran in member ");
    check_killed_report(p.out);
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
    ht_proc_free(&p);
}

static void test_member_killed_in_task_abort(void)
{
    ht_proc p;
    run_task_prog("abort", &p);
    char st[128];
    HT_CHECK_MSG(WIFEXITED(p.status) && WEXITSTATUS(p.status) == FMP_EXIT_FAILURE,
                 "task_prog abort %s; expected exit status 70. stderr: %.1500s",
                 ht_status_str(&p, st, sizeof st), p.err);
    HT_CHECK_CONTAINS(p.err, "forkmp: ");
    check_killed_report(p.err);
    HT_CHECK_NOT_CONTAINS(p.out, "after region");
    HT_CHECK_INT_EQ(ht_reap_children(HT_GRACE_SECONDS), 0);
    ht_proc_free(&p);
}

static const ht_test tests[] = {HT_TEST(test_many_tasks_run_once),
                                HT_TEST(test_idle_members_steal),
                                HT_TEST(test_waiters_at_barrier_help),
                                HT_TEST(test_fibonacci),
                                HT_TEST(test_quicksort),
                                HT_TEST(test_complete_at_barriers),
                                HT_TEST_TIMEOUT(test_taskwait_own_children_only, 40),
                                HT_TEST(test_outside_region_and_team_of_one),
                                HT_TEST(test_argument_copied_by_value),
                                HT_TEST(test_big_arguments),
                                HT_TEST(test_bad_input),
                                HT_TEST_TIMEOUT(test_persistent_and_nested, 60),
                                HT_TEST_TIMEOUT(test_member_killed_in_task_return, 40),
                                HT_TEST_TIMEOUT(test_member_killed_in_task_abort, 40),
                                HT_END};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "tasks", tests);
}
