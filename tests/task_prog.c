/* task_prog MODE: a member is killed (SIGKILL) while it runs a task, for tests/test_tasks.c.
 *
 * The master of a team of 4 creates 200 tasks of 3 ms; the first member other than the
 * master to run one prints "task ran in member M pid P" and kills itself.  Every member
 * then meets fmp_barrier().
 *   return   FMP_ERRORS_RETURN: the master prints "barrier R", "waits ok" when R is the
 *            team's error, then after the region "region R", "failure: TEXT" and
 *            "after region".
 *   abort    the default mode: the program must end with status 70 and the diagnostic. */
#define _GNU_SOURCE
#include <forkmp.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int *g_killed; /* shared */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void task(void *arg)
{
    (void)arg;
    int me = fmp_thread_num();
    int zero = 0;
    if (me != 0 &&
        __atomic_compare_exchange_n(g_killed, &zero, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        fmp_printf("task ran in member %d pid %d\n", me, (int)getpid());
        raise(SIGKILL);
    }
    double end = now() + 0.003;
    while (now() < end)
        ;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "return") && strcmp(argv[1], "abort"))) {
        fprintf(stderr, "usage: task_prog return|abort\n");
        return 2;
    }
    int ret = strcmp(argv[1], "return") == 0;
    if (ret)
        fmp_set_error_mode(FMP_ERRORS_RETURN);
    g_killed = fmp_shared_alloc(sizeof *g_killed);
    if (!g_killed)
        return 99;
    FMP_PARALLEL(4) {
        if (fmp_thread_num() == 0)
            for (int i = 0; i < 200; i++)
                fmp_task(task, &i, sizeof i);
        int rc = fmp_barrier();
        if (fmp_thread_num() == 0) {
            fmp_printf("barrier %d\n", rc);
            if (rc == FMP_EMEMBER || rc == FMP_EBROKEN)
                fmp_printf("waits ok\n");
        }
    }
    printf("region %d\nfailure: %s\nafter region\n", fmp_region_error(), fmp_last_failure());
    return 0;
}
