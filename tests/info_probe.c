/* tests/info.sh's probe: what a program really gets, through the public API only.  It
 * prints one line:
 *   cpus=LIST team=N arena=BYTES members={LIST},{LIST},...
 * cpus: the process's affinity before any region; team: the size of a region opened
 * with size 0 (fmp_num_threads() inside it); arena: fmp_shared_size(); members: each
 * member's affinity inside that region, as sched_getaffinity() gives it (in member
 * order).  Lists are PU numbers in ranges, "0-3,8", the way forkmp-info prints them. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "forkmp.h"

#define LIST 256

static void cpulist(char *buf, size_t len)
{
    cpu_set_t set;
    size_t o = 0;
    buf[0] = '\0';
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &set))
            continue;
        int e = c;
        while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set))
            e++;
        if (o < len)
            o += (size_t)(e > c ? snprintf(buf + o, len - o, "%s%d-%d", o ? "," : "", c, e)
                                : snprintf(buf + o, len - o, "%s%d", o ? "," : "", c));
        c = e;
    }
}

int main(void)
{
    char cpus[LIST];
    cpulist(cpus, sizeof cpus);
    int max = fmp_get_max_threads();
    char(*seen)[LIST] = fmp_shared_alloc((size_t)max * LIST);
    int *team = fmp_shared_alloc(sizeof *team);
    if (!seen || !team) {
        printf("fmp_shared_alloc failed\n");
        return 3;
    }
    FMP_PARALLEL(0) {
        if (fmp_thread_num() == 0)
            *team = fmp_num_threads();
        if (fmp_thread_num() < max)
            cpulist(seen[fmp_thread_num()], LIST);
    }
    printf("cpus=%s team=%d arena=%zu members=", cpus, *team, fmp_shared_size());
    for (int i = 0; i < *team && i < max; i++)
        printf("%s{%s}", i ? "," : "", seen[i]);
    printf("\n");
    return 0;
}
