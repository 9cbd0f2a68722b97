/* Output: whole-line printing across processes, stdio flushing at fork and sync. */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fmp__write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

void fmp__flush_stdio(void)
{
    fflush(stdout);
    fflush(stderr);
}

/* Every stream with output waiting, flushed as fflush(NULL) would, without taking the lock
   of a stream that has none: fflush(NULL) locks every stream in turn, and a thread blocked
   in fgets(stdin) holds stdin's lock until a line comes, which would hold a region's start
   (or a failure's report) until then.  glibc's list of streams is walked under its own
   lock, as fflush(NULL) walks it; where the C library lacks those names, fflush(NULL). */
void fmp__flush_streams(void)
{
    static int looked;
    static FILE **all;
    static void (*list_lock)(void), (*list_unlock)(void);
    if (!looked) {
        all = (FILE **)dlsym(RTLD_DEFAULT, "_IO_list_all");
        *(void **)&list_lock = dlsym(RTLD_DEFAULT, "_IO_list_lock");
        *(void **)&list_unlock = dlsym(RTLD_DEFAULT, "_IO_list_unlock");
        looked = 1;
    }
    if (!all || !list_lock || !list_unlock) {
        fflush(NULL);
        return;
    }
    list_lock();
    for (FILE *fp = *all; fp; fp = fp->_chain)
        if (__fpending(fp) > 0)
            fflush(fp);
    list_unlock();
}

/* One write per call, under the arena's output lock, so that lines from different
   members never interleave even past PIPE_BUF or on a terminal. */
static int locked_write(int fd, const char *buf, size_t len)
{
    pthread_mutex_t *m = fmp__arena_output_lock();
    int locked = m && fmp__robust_lock(m) >= 0;
    int rc = fmp__write_all(fd, buf, len);
    if (locked)
        pthread_mutex_unlock(m);
    return rc;
}

int fmp__vprint(int fd, const char *fmt, va_list ap)
{
    char stackbuf[1024];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return -EINVAL;
    }
    char *buf = stackbuf;
    if ((size_t)n >= sizeof stackbuf) {
        buf = malloc((size_t)n + 1);
        if (!buf) {
            va_end(ap2);
            return -ENOMEM;
        }
        vsnprintf(buf, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    /* what this process printed with stdio comes first */
    fflush(fd == 2 ? stderr : stdout);
    int rc = locked_write(fd, buf, (size_t)n);
    if (buf != stackbuf)
        free(buf);
    return rc < 0 ? rc : n;
}

int fmp_printf(const char *fmt, ...)
{
    fmp__ensure_init();
    va_list ap;
    va_start(ap, fmt);
    int n = fmp__vprint(1, fmt, ap);
    va_end(ap);
    return n;
}
