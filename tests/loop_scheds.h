/* The schedules the loop suites (test_loops, test_loopx) run every loop with. */
#ifndef FMP_TEST_LOOP_SCHEDS_H
#define FMP_TEST_LOOP_SCHEDS_H

#include <forkmp.h>

typedef struct sched_case {
    fmp_schedule s;
    const char *name;
} sched_case;

static sched_case scheds(int k)
{
    switch (k) {
    case 0: return (sched_case){ fmp_static(0), "static(0)" };
    case 1: return (sched_case){ fmp_static(1), "static(1)" };
    case 2: return (sched_case){ fmp_static(7), "static(7)" };
    case 3: return (sched_case){ fmp_dynamic(0), "dynamic(0)" };
    case 4: return (sched_case){ fmp_dynamic(1), "dynamic(1)" };
    case 5: return (sched_case){ fmp_dynamic(13), "dynamic(13)" };
    case 6: return (sched_case){ fmp_guided(0), "guided(0)" };
    case 7: return (sched_case){ fmp_guided(3), "guided(3)" };
    default: return (sched_case){ fmp_runtime(), "runtime (default: static)" };
    }
}
#define NSCHEDS 9

#endif /* FMP_TEST_LOOP_SCHEDS_H */
