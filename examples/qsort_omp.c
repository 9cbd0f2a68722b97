/*
 * qsort_omp.c: a recursive quicksort of n pseudo-random integers with OpenMP tasks.
 *
 * The OpenMP original of examples/qsort.c.  Usage: qsort_omp [n]  (default 1e7).
 * Each partition larger than CUTOFF elements is split in two tasks; smaller ones are
 * sorted serially.  The result (sortedness, a checksum, a few elements) goes to stdout,
 * the time to stderr, so that the outputs of the two versions can be compared with diff.
 */
#include <omp.h>
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

static void sort(int *a, long lo, long hi)
{
    if (hi - lo <= CUTOFF) {
        sort_serial(a, lo, hi);
        return;
    }
    long l, r;
    partition(a, lo, hi, &l, &r);
#pragma omp task firstprivate(a, lo, l)
    sort(a, lo, l);
#pragma omp task firstprivate(a, r, hi)
    sort(a, r, hi);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000000L;
    if (n <= 0) {
        fprintf(stderr, "usage: %s [elements > 0]\n", argv[0]);
        return 2;
    }
    int *a = malloc((size_t)n * sizeof *a);
    if (!a) {
        perror("malloc");
        return 1;
    }
    uint64_t x = 88172645463325252ULL; /* xorshift64: the same numbers everywhere */
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        a[i] = (int)(x % 2000000001ULL) - 1000000000;
    }

    double t0 = omp_get_wtime();
#pragma omp parallel
#pragma omp single
    sort(a, 0, n);
    double t = omp_get_wtime() - t0;

    long unsorted = 0;
    uint64_t sum = 0;
    for (long i = 0; i < n; i++) {
        unsorted += i > 0 && a[i - 1] > a[i];
        sum = sum * 31 + (uint64_t)(uint32_t)a[i];
    }
    printf("sorted %ld integers: %s, checksum %016llx\n", n, unsorted ? "NOT SORTED" : "in order",
           (unsigned long long)sum);
    printf("first %d, median %d, last %d\n", a[0], a[n / 2], a[n - 1]);
    fprintf(stderr, "%.3f s, team of %d\n", t, omp_get_max_threads());
    free(a);
    return unsorted != 0;
}
