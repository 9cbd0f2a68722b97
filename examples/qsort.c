/*
 * qsort.c: a recursive quicksort of n pseudo-random integers with forkmp tasks.
 *
 * Ports examples/qsort_omp.c.  What changed:
 * - the array comes from fmp_shared_alloc() instead of malloc(): a task may run in any
 *   member, and members are processes, so the array that tasks sort in place must be in
 *   shared memory (a malloc'd array would be each member's private copy, and the sorted
 *   pieces would stay in the members that sorted them);
 * - `#pragma omp task firstprivate(a, lo, l)` became fmp_task() with a small struct
 *   holding those variables: fmp_task copies it, as firstprivate copies them;
 * - `#pragma omp parallel` + `#pragma omp single` became FMP_PARALLEL and FMP_SINGLE; the
 *   single's implied barrier (and the end of the region) waits for every task, as in
 *   OpenMP.
 * Everything else (the partition, the serial sort under CUTOFF) is unchanged.
 *
 * Usage: qsort [n]  (default 1e7).  Result on stdout, time on stderr.
 */
#include <forkmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CUTOFF 10000

static void insertion_sort(int *a, long lo, long hi)
{
    for (long i = lo + 1; i < hi; i++) {
        int v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

/* Hoare partition of a[lo, hi) around its middle element: a[lo, *left) <= pivot and
   a[*right, hi) >= pivot. */
static void partition(int *a, long lo, long hi, long *left, long *right)
{
    int pivot = a[lo + (hi - lo) / 2];
    long i = lo, j = hi - 1;
    while (i <= j) {
        while (a[i] < pivot)
            i++;
        while (a[j] > pivot)
            j--;
        if (i <= j) {
            int t = a[i];
            a[i++] = a[j];
            a[j--] = t;
        }
    }
    *left = j + 1;
    *right = i;
}

static void sort_serial(int *a, long lo, long hi)
{
    while (hi - lo > 32) {
        long l, r;
        partition(a, lo, hi, &l, &r);
        if (l - lo < hi - r) {
            sort_serial(a, lo, l);
            lo = r;
        } else {
            sort_serial(a, r, hi);
            hi = l;
        }
    }
    insertion_sort(a, lo, hi);
}

struct range { /* what firstprivate copied: the task's argument, copied by fmp_task */
    int *a;    /* shared memory */
    long lo, hi;
};

static void sort_task(void *arg);

static void sort(int *a, long lo, long hi)
{
    if (hi - lo <= CUTOFF) {
        sort_serial(a, lo, hi);
        return;
    }
    long l, r;
    partition(a, lo, hi, &l, &r);
    struct range left = {a, lo, l}, right = {a, r, hi};
    fmp_task(sort_task, &left, sizeof left);
    fmp_task(sort_task, &right, sizeof right);
}

static void sort_task(void *arg)
{
    struct range *g = arg;
    sort(g->a, g->lo, g->hi);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000000L;
    if (n <= 0) {
        fprintf(stderr, "usage: %s [elements > 0]\n", argv[0]);
        return 2;
    }
    int *a = fmp_shared_alloc((size_t)n * sizeof *a);
    if (!a) {
        perror("fmp_shared_alloc");
        return 1;
    }
    uint64_t x = 88172645463325252ULL; /* xorshift64: the same numbers everywhere */
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        a[i] = (int)(x % 2000000001ULL) - 1000000000;
    }

    double t0 = fmp_get_wtime();
    FMP_PARALLEL(0) {
        FMP_SINGLE {
            sort(a, 0, n);
        }
    }
    double t = fmp_get_wtime() - t0;
    if (fmp_region_error() != FMP_OK)
        return 1;

    long unsorted = 0;
    uint64_t sum = 0;
    for (long i = 0; i < n; i++) {
        unsorted += i > 0 && a[i - 1] > a[i];
        sum = sum * 31 + (uint64_t)(uint32_t)a[i];
    }
    printf("sorted %ld integers: %s, checksum %016llx\n", n, unsorted ? "NOT SORTED" : "in order",
           (unsigned long long)sum);
    printf("first %d, median %d, last %d\n", a[0], a[n / 2], a[n - 1]);
    fprintf(stderr, "%.3f s, team of %d\n", t, fmp_get_max_threads());
    fmp_shared_free(a);
    return unsorted != 0;
}
