/* bench/allreduce_mpi.c: an all-reduce of 1 double to 8 MiB, three ways, run under
 * mpirun:
 *
 *   mpirun -np R allreduce_mpi --impl hybrid --members M   R ranks x M forkmp members;
 *          every member calls fmp_mpi_allreduce() in a run of a persistent team created
 *          before MPI_Init (members combine in shared memory, the masters call
 *          MPI_Allreduce).  --impl hybrid-yield is the same program, named so for the run
 *          that bench/run starts with the settings of an oversubscribed node
 *          (FMP_WAIT_POLICY=passive, Open MPI's mpi_yield_when_idle=1)
 *   mpirun -np P allreduce_mpi --impl mpi-flat             P ranks, MPI_Allreduce
 *   mpirun -np P allreduce_mpi --impl mpi-shmwin           P ranks; the ranks of a node
 *          combine in an MPI-3 shared window (MPI_Win_allocate_shared on the node
 *          communicator), the node leaders MPI_Allreduce across nodes
 *
 * Each process contributes `count` doubles from a private buffer and receives the sum in
 * another, as MPI_Allreduce does.  Rank 0 prints microseconds per all-reduce (median over
 * --reps measurements, each the mean of `inner` calls between two MPI_Barriers); the
 * `members` column is the number of processes in all (R x M or P).  One more figure,
 * "40 all-reduces in one region": the time of BURST_CALLS all-reduces of 1 MiB made back to
 * back, for the hybrid in one run of the team (the case where members that spin on shared
 * cores hand over at timer ticks), for the others by each rank in a loop. */
#include <forkmp.h>
#include <forkmp_mpi.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char usage[] =
    "usage: mpirun -np R allreduce_mpi --impl hybrid|hybrid-yield|mpi-flat|mpi-shmwin "
    "[--members M] "
    "[--reps R]\n";

static const long sizes[] = { 8, 64, 512, 4096, 32768, 262144, 2097152, 8388608 };
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))
#define MAX_BYTES 8388608L
#define TARGET_S 5e-3
#define MAX_INNER 4096L
#define BURST_CALLS 40
#define BURST_BYTES 1048576L

static double *g_in, *g_out; /* private to each process (and each member) */
static int g_bad;

static double value(long g, long i)
{
    return (double)g + (double)(i & 1023);
}

static double expected(long procs, long i)
{
    return (double)procs * (double)(procs - 1) / 2.0 + (double)procs * (double)(i & 1023);
}

static void fill(long g, long count)
{
    for (long i = 0; i < count; i++)
        g_in[i] = value(g, i);
}

static void check(long procs, long count)
{
    long i = count - 1;
    if (g_out[i] != expected(procs, i))
        g_bad = 1;
}

/* ------------------------------------------------------------------ hybrid */
typedef struct hyb_arg {
    long count, inner;
    int rank, members, procs;
    int fill;
} hyb_arg;

static void hyb_body(void *arg)
{
    const hyb_arg *a = arg;
    long g = (long)a->rank * a->members + fmp_thread_num();
    if (a->fill) {
        fill(g, a->count);
        return;
    }
    for (long k = 0; k < a->inner; k++)
        if (fmp_mpi_allreduce(g_in, g_out, (int)a->count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD))
            g_bad = 1;
    check(a->procs, a->count);
}

/* ------------------------------------------------------------------ shared window */
typedef struct shm {
    MPI_Comm node, leaders;
    int nrank, nsize, nnodes;
    MPI_Win win;
    double *slot[2][4096]; /* [parity][local rank] */
    double *result[2];
    unsigned long calls;
} shm;

static void shm_init(shm *s)
{
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &s->node);
    MPI_Comm_rank(s->node, &s->nrank);
    MPI_Comm_size(s->node, &s->nsize);
    MPI_Comm_split(MPI_COMM_WORLD, s->nrank == 0 ? 0 : MPI_UNDEFINED, 0, &s->leaders);
    int leaders = 0;
    if (s->nrank == 0)
        MPI_Comm_size(s->leaders, &leaders);
    MPI_Bcast(&leaders, 1, MPI_INT, 0, s->node);
    s->nnodes = leaders;
    /* every rank: two slots; local rank 0 also the two result areas */
    MPI_Aint bytes = (MPI_Aint)MAX_BYTES * (s->nrank == 0 ? 4 : 2);
    void *base;
    MPI_Win_allocate_shared(bytes, sizeof(double), MPI_INFO_NULL, s->node, &base, &s->win);
    for (int r = 0; r < s->nsize && r < 4096; r++) {
        MPI_Aint sz;
        int disp;
        double *p;
        MPI_Win_shared_query(s->win, r, &sz, &disp, &p);
        s->slot[0][r] = p;
        s->slot[1][r] = p + MAX_BYTES / 8;
        if (r == 0) {
            s->result[0] = p + 2 * (MAX_BYTES / 8);
            s->result[1] = p + 3 * (MAX_BYTES / 8);
        }
    }
    MPI_Win_lock_all(MPI_MODE_NOCHECK, s->win);
}

static void shm_allreduce(shm *s, const double *in, double *out, long count)
{
    int par = (int)(s->calls++ & 1);
    memcpy(s->slot[par][s->nrank], in, (size_t)count * sizeof(double));
    MPI_Win_sync(s->win);
    MPI_Barrier(s->node);
    MPI_Win_sync(s->win);
    /* my slice, cache-line aligned, combined over the local ranks in rank order */
    long lines = (count + 7) / 8;
    long lo = lines * s->nrank / s->nsize * 8, hi = lines * (s->nrank + 1) / s->nsize * 8;
    if (hi > count)
        hi = count;
    double *res = s->result[par];
    if (lo < hi) {
        memcpy(res + lo, s->slot[par][0] + lo, (size_t)(hi - lo) * sizeof(double));
        for (int r = 1; r < s->nsize; r++) {
            const double *src = s->slot[par][r];
            for (long i = lo; i < hi; i++)
                res[i] += src[i];
        }
    }
    MPI_Win_sync(s->win);
    MPI_Barrier(s->node);
    MPI_Win_sync(s->win);
    if (s->nnodes > 1) {
        if (s->nrank == 0)
            MPI_Allreduce(MPI_IN_PLACE, res, (int)count, MPI_DOUBLE, MPI_SUM, s->leaders);
        MPI_Win_sync(s->win);
        MPI_Barrier(s->node);
        MPI_Win_sync(s->win);
    }
    memcpy(out, res, (size_t)count * sizeof(double));
}

/* ------------------------------------------------------------------ driver */
enum { HYBRID, FLAT, SHMWIN };

static int g_impl, g_rank, g_members, g_procs;
static fmp_team *g_team;
static shm g_shm;

/* `inner` all-reduces of count doubles, between barriers; seconds on rank 0 */
static double measure(long count, long inner)
{
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = bench_now();
    if (g_impl == HYBRID) {
        hyb_arg a = { count, inner, g_rank, g_members, g_procs, 0 };
        if (fmp_team_run(g_team, hyb_body, &a, sizeof a))
            g_bad = 1;
    } else {
        for (long k = 0; k < inner; k++) {
            if (g_impl == FLAT)
                MPI_Allreduce(g_in, g_out, (int)count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
            else
                shm_allreduce(&g_shm, g_in, g_out, count);
        }
        check(g_procs, count);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return bench_now() - t0;
}

/* every process's input of count doubles */
static void prepare(long count)
{
    if (g_impl == HYBRID) {
        hyb_arg a = { count, 0, g_rank, g_members, g_procs, 1 };
        if (fmp_team_run(g_team, hyb_body, &a, sizeof a))
            g_bad = 1;
    } else {
        fill(g_rank, count);
    }
}

int main(int argc, char **argv)
{
    bench_opts o = { 1, 9, 0, 0, 0.0, NULL, NULL };
    bench_parse(argc, argv, &o, usage);
    if (!o.impl)
        o.impl = "";
    g_impl = !strcmp(o.impl, "hybrid") || !strcmp(o.impl, "hybrid-yield") ? HYBRID
           : !strcmp(o.impl, "mpi-flat") ? FLAT
           : !strcmp(o.impl, "mpi-shmwin") ? SHMWIN : -1;
    if (g_impl < 0) {
        fputs(usage, stderr);
        return 2;
    }
    g_members = g_impl == HYBRID ? o.members : 1;
    g_in = malloc(MAX_BYTES);
    g_out = malloc(MAX_BYTES);
    if (!g_in || !g_out)
        return 1;
    memset(g_in, 0, MAX_BYTES);
    memset(g_out, 0, MAX_BYTES);
    if (g_impl == HYBRID) {
        /* before MPI_Init: the members hold no MPI state (see forkmp_mpi.h) */
        fmp_set_error_mode(FMP_ERRORS_RETURN);
        g_team = fmp_team_create(g_members);
        if (!g_team) {
            perror("fmp_team_create");
            return 1;
        }
    }
    MPI_Init(&argc, &argv);
    int nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    g_procs = nranks * g_members;
    if (g_impl == HYBRID)
        bench_check(fmp_mpi_init(MPI_COMM_WORLD), "fmp_mpi_init");
    if (g_impl == SHMWIN)
        shm_init(&g_shm);
    if (g_rank == 0)
        fprintf(stderr, "allreduce %s: %d ranks x %d members\n", o.impl, nranks, g_members);
    if (g_rank == 0 && g_impl == HYBRID)
        bench_note("allreduce", "hybrid: %d ranks x %d members", nranks, g_members);

    double *t = malloc(sizeof *t * (size_t)o.reps);
    for (int i = 0; i < NSIZES; i++) {
        long count = sizes[i] / (long)sizeof(double);
        prepare(count);
        long inner = 1;
        measure(count, 1); /* warm-up */
        for (;;) {
            double s = measure(count, inner);
            int more = s < TARGET_S && inner < MAX_INNER;
            MPI_Bcast(&more, 1, MPI_INT, 0, MPI_COMM_WORLD); /* rank 0 decides for all */
            if (!more)
                break;
            inner *= 2;
        }
        for (int r = 0; r < o.reps; r++)
            t[r] = measure(count, inner) / (double)inner * 1e6;
        int bad = g_bad, anybad = 0;
        MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (anybad) {
            if (g_rank == 0)
                fprintf(stderr, "allreduce_mpi: wrong result at %ld bytes\n", sizes[i]);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        if (g_rank == 0) {
            char param[32];
            snprintf(param, sizeof param, "%ld", sizes[i]);
            bench_emit("allreduce", "allreduce", o.impl, g_procs, param,
                       bench_stats_of(t, o.reps), "us", o.reps);
        }
    }
    /* BURST_CALLS all-reduces of 1 MiB in one region */
    long bcount = BURST_BYTES / (long)sizeof(double);
    prepare(bcount);
    measure(bcount, BURST_CALLS); /* warm-up */
    for (int r = 0; r < o.reps; r++)
        t[r] = measure(bcount, BURST_CALLS) * 1e6;
    int bad = g_bad, anybad = 0;
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (anybad) {
        if (g_rank == 0)
            fprintf(stderr, "allreduce_mpi: wrong result in the burst of %d\n", BURST_CALLS);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (g_rank == 0) {
        char param[32];
        snprintf(param, sizeof param, "%ld", BURST_BYTES);
        bench_emit("allreduce", "40 all-reduces in one region", o.impl, g_procs, param,
                   bench_stats_of(t, o.reps), "us", o.reps);
    }
    free(t);
    if (g_impl == SHMWIN) {
        MPI_Win_unlock_all(g_shm.win);
        MPI_Win_free(&g_shm.win);
    }
    if (g_impl == HYBRID)
        fmp_team_destroy(g_team);
    MPI_Finalize();
    return 0;
}
