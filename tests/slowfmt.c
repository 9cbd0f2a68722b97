/* libslowfmt: an LD_PRELOAD helper for tests/test_hardening.c.  It stalls vsnprintf for
 * half a second when it formats forkmp's "called exit(" report, to widen the window in
 * which a member holds the team's failure record half-written while another member dies:
 * the report must still come out whole. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int vsnprintf(char *s, size_t n, const char *fmt, va_list ap)
{
    static int (*real)(char *, size_t, const char *, va_list);
    if (!real)
        real = (int (*)(char *, size_t, const char *, va_list))dlsym(RTLD_NEXT, "vsnprintf");
    if (strstr(fmt, "called exit(")) {
        struct timespec ts = { 0, 500000000L };
        nanosleep(&ts, NULL);
    }
    return real(s, n, fmt, ap);
}
