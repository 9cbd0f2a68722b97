/* Printing the hybrid layer's messages.  Their texts are in the one catalogue,
 * src/messages.h (keys FMP__MSG_mpi_*); this file only writes them: every message starts
 * with "forkmp: ", then "rank R: " once fmp_mpi_init() knows the rank (not for the
 * job-wide ones, which one rank prints for the job), and is written whole, in one
 * write(2), so that lines from different processes never interleave. */
#include "hybrid.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static void write_whole(const char *buf, size_t len)
{
    fflush(stderr);
    while (len > 0) {
        ssize_t w = write(2, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        buf += w;
        len -= (size_t)w;
    }
}

void fmp__mpi_say(int job, const char *key, const char *fmt, ...)
{
    (void)key;
    char body[2048], line[2200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    int n;
    if (!job && fmp__mpi.world_rank >= 0)
        n = snprintf(line, sizeof line, "forkmp: rank %d: %s\n", fmp__mpi.world_rank, body);
    else
        n = snprintf(line, sizeof line, "forkmp: %s\n", body);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    write_whole(line, (size_t)n);
}
