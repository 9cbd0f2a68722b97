/* bench/kernels.h: the throughput kernels measured by kernels_fmp.c (forkmp) and
 * kernels_omp.c (OpenMP), with their sizes, so that both sides run the same work.
 *
 *   stream   STREAM's triad a[i] = b[i] + s * c[i] (GB/s, counting 24 bytes per index
 *            as STREAM does); one region per triad
 *   pi       midpoint integration of 4 / (1 + x^2), a reduction at the end (compute
 *            bound; G iterations/s); one region per computation
 *   stencil  5-point Jacobi sweeps on an N x N grid, STENCIL_SWEEPS per region, one
 *            worksharing loop per sweep (memory bound; M cell updates/s)
 *   reduce   array sum reductions of 8 B to 64 MiB, by the EPCC method inside one
 *            region: `inner` times (every member fills its array, then reduces it),
 *            minus `inner` times (fill, then a barrier); so the figure is what a
 *            reduction costs beyond a barrier (microseconds per reduction), and an
 *            effective bandwidth counting each member's array read once and the result
 *            written once: (members + 1) x bytes / time; forkmp also with the arrays in
 *            the shared arena (an in per member, one out they all pass: "arena buffers"),
 *            which fmp_reduce reads and writes where they are */
#ifndef FMP_BENCH_KERNELS_H
#define FMP_BENCH_KERNELS_H

#define STREAM_N (1L << 23)           /* doubles per array: 64 MiB, 192 MiB in all */
#define STREAM_N_LARGE (1L << 26)     /* 512 MiB per array */
#define STREAM_REPS 10
#define PI_N 100000000L
#define PI_N_LARGE 1000000000L
#define PI_REPS 5
#define STENCIL_N 2048L               /* 32 MiB per grid */
#define STENCIL_N_LARGE 8192L         /* 512 MiB per grid */
#define STENCIL_SWEEPS 10
#define STENCIL_REPS 5
#define REDUCE_REPS 7
#define REDUCE_TARGET_S 10e-3         /* test time per measurement */
#define REDUCE_MAX_INNER 4096L

static const long reduce_sizes[] = { 8, 64, 512, 4096, 32768, 262144, 2097152, 16777216,
                                     67108864 };
#define REDUCE_NSIZES ((int)(sizeof reduce_sizes / sizeof reduce_sizes[0]))
#define REDUCE_MAX_BYTES 67108864L

/* the value member m contributes at index i, and what the sum over n members must be */
#define REDUCE_VALUE(m, i) ((double)(m) + (double)((i) & 1023))
#define REDUCE_SUM(n, i) ((double)(n) * (double)((n) - 1) / 2.0 + (double)(n) * (double)((i) & 1023))

#endif /* FMP_BENCH_KERNELS_H */
