/*
 * consumer: a program built against an installed forkmp alone (its headers, its
 * forkmp.pc, its libforkmp), by tests/install/check.sh at `make installcheck`.  Uses the
 * construct macros, so that the fmp__* entry points they call must be exported, and
 * compares the run-time version with the headers'.  Exit 0 when every result holds.
 */
#include <forkmp.h>
#include <stdio.h>

int main(void)
{
    if (fmp_get_version() != FMP_VERSION) {
        fprintf(stderr, "consumer: libforkmp says version %#x, forkmp_version.h %#x\n",
                fmp_get_version(), (unsigned)FMP_VERSION);
        return 1;
    }
    const long n = 1000;
    long *hits = fmp_shared_alloc(2 * sizeof *hits);
    long sum = 0;
    if (!hits)
        return 1;
    FMP_PARALLEL(2)
    {
        long part = 0;
        FMP_FOR(i, 0, n, fmp_dynamic(7)) part += i;
        fmp_reduce(&part, &sum, 1, FMP_LONG, FMP_SUM);
        FMP_SINGLE hits[0]++;
        FMP_CRITICAL hits[1]++;
    }
    if (sum != n * (n - 1) / 2 || hits[0] != 1 || hits[1] != 2) {
        fprintf(stderr, "consumer: sum %ld (expected %ld), single ran %ld times (1), "
                        "critical %ld (2)\n",
                sum, n * (n - 1) / 2, hits[0], hits[1]);
        return 1;
    }
    printf("consumer: forkmp %s: sum %ld, single 1, critical 2\n", FMP_VERSION_STRING, sum);
    return 0;
}
