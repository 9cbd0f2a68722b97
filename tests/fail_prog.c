/* fail_prog MODE: a forkmp program whose member 1 fails in the way MODE says, in the
 * default error mode (abort), for tests/test_failure.c.
 *
 * Every member first prints "member M pid P" on stdout (fmp_printf) and meets a barrier;
 * just before failing, the failing member prints "crash-at T" on stderr, T being
 * CLOCK_MONOTONIC seconds, so that the test can see how long the end took.  The program
 * must then end with status FMP_EXIT_FAILURE (70) and forkmp's diagnostic on stderr;
 * "AFTER REGION" on stdout would mean that code after the region ran anyway.
 *
 * MODE: segv kill9 abort exit3 _exit0 break goto return
 *       barrier  (the others wait in fmp_barrier when member 1 crashes)
 *       compute  (the master is computing, not waiting, when member 1 crashes: it computes
 *                 1.5 s more, printing "computed" with buffered stdio, then reaches the end
 *                 of the region, where the program ends; the line must not be lost)
 *       nested   (member 1 of a nested team of member 1 crashes)
 */
#define _GNU_SOURCE
#include <forkmp.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void crash_mark(void)
{
    dprintf(2, "crash-at %.6f\n", now());
}

static void nap(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* SIGSEGV from a real fault: a write to a page that may not be touched.  Not through NULL:
   that is undefined behaviour, which UBSan (the sanitizer build) stops with a report of
   its own before any fault happens. */
static void write_to_guard_page(void)
{
    int *volatile p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *p = 1;
}

static void fail(const char *mode)
{
    crash_mark();
    if (strcmp(mode, "segv") == 0 || strcmp(mode, "barrier") == 0 ||
        strcmp(mode, "compute") == 0 || strcmp(mode, "nested") == 0) {
        write_to_guard_page();
    } else if (strcmp(mode, "kill9") == 0) {
        raise(SIGKILL);
    } else if (strcmp(mode, "abort") == 0) {
        abort();
    } else if (strcmp(mode, "exit3") == 0) {
        exit(3);
    } else if (strcmp(mode, "_exit0") == 0) {
        _exit(0);
    }
}

/* return: leave the region's block by return (a member never returns here) */
static int leave_by_return(void)
{
    FMP_PARALLEL(4) {
        fmp_printf("member %d pid %d\n", fmp_thread_num(), (int)getpid());
        fmp_barrier();
        if (fmp_thread_num() == 1) {
            crash_mark();
            return 1;
        }
        fmp_barrier();
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODE\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(mode, "return") == 0) {
        leave_by_return();
        printf("AFTER REGION pid %d\n", (int)getpid());
        return 0;
    }
    if (strcmp(mode, "nested") == 0)
        fmp_set_nested(1);
    FMP_PARALLEL(4) {
        int me = fmp_thread_num();
        fmp_printf("member %d pid %d\n", me, (int)getpid());
        fmp_barrier();
        if (strcmp(mode, "break") == 0) {
            if (me == 1) {
                crash_mark();
                break;
            }
        } else if (strcmp(mode, "goto") == 0) {
            if (me == 1) {
                crash_mark();
                goto out;
            }
        } else if (strcmp(mode, "barrier") == 0) {
            if (me == 1) {
                nap(0.2);
                fail(mode);
            }
            fmp_barrier();
        } else if (strcmp(mode, "compute") == 0) {
            if (me == 1) {
                nap(0.2);
                fail(mode);
            }
            if (me == 0) { /* 1.7 s of work: the crash happens meanwhile */
                setvbuf(stdout, NULL, _IOFBF, 0);
                volatile double x = 0;
                double end = now() + 1.7;
                while (now() < end)
                    for (int k = 0; k < 100000; k++)
                        x += k * 0.5;
                printf("computed\n"); /* buffered: must survive the end of the program */
            }
        } else if (strcmp(mode, "nested") == 0) {
            int outer = me;
            FMP_PARALLEL(2) {
                fmp_printf("member %d.%d pid %d\n", outer, fmp_thread_num(), (int)getpid());
                if (outer == 1 && fmp_thread_num() == 1) {
                    nap(0.1);
                    fail(mode);
                }
                fmp_barrier();
            }
            fmp_barrier();
        } else if (me == 1) {
            fail(mode);
        }
        fmp_barrier();
    }
out:
    printf("AFTER REGION pid %d\n", (int)getpid());
    return 0;
}
