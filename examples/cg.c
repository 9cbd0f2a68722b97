/*
 * cg.c: conjugate gradients on the 2D Poisson problem (5-point Laplacian, matrix-free),
 * the shape of a solver that opens a few short parallel regions per iteration.
 *
 * Each CG iteration runs three regions: q = A p with the dot product p.q; the updates
 * of x and r with r.r; and p = r + beta p.  The same code runs two ways:
 *   cg fork [n [iters]]   every region is fmp_parallel(): a fork per region, Pymp's
 *                         semantics (the members see the master's memory as it is now);
 *   cg team [n [iters]]   every region is fmp_team_run() on one persistent team created
 *                         once: the members stay alive between regions, and each run
 *                         hands them its argument (alpha, beta) by value.
 * Both print the same residual history, bit for bit, for the same team size: reductions
 * combine the members in member order.  Vectors live in fmp_shared_alloc() memory;
 * scalars travel by fmp_reduce() and by the run's argument.
 */
#include <forkmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    long n;                 /* grid points per side; the unknowns are n*n */
    double *x, *r, *p, *q;  /* shared vectors */
    double alpha, beta;     /* this step's scalars, copied to every member */
    double *out;            /* where the master keeps a reduction's result */
} step;

static fmp_team *team;      /* NULL: fork per region */

static void run(void (*body)(void *), step *s)
{
    int rc = team ? fmp_team_run(team, body, s, sizeof *s) : fmp_parallel(0, body, s);
    if (rc) {
        fprintf(stderr, "cg: region failed: %s\n", fmp_strerror(rc));
        exit(1);
    }
}

/* q = A p and p.q */
static void matvec(void *arg)
{
    const step *s = arg;
    long n = s->n;
    double local = 0.0, pq;
    FMP_FOR(i, 0, n, fmp_static(0)) {
        for (long j = 0; j < n; j++) {
            long k = i * n + j;
            double v = 4.0 * s->p[k];
            if (i > 0) v -= s->p[k - n];
            if (i < n - 1) v -= s->p[k + n];
            if (j > 0) v -= s->p[k - 1];
            if (j < n - 1) v -= s->p[k + 1];
            s->q[k] = v;
            local += s->p[k] * v;
        }
    }
    pq = fmp_reduce_value(local, FMP_SUM); /* by value: local stays in a register */
    FMP_MASTER { *s->out = pq; }
}

/* x += alpha p, r -= alpha q, and r.r */
static void update(void *arg)
{
    const step *s = arg;
    double local = 0.0, rr;
    FMP_FOR(k, 0, s->n * s->n, fmp_static(0)) {
        s->x[k] += s->alpha * s->p[k];
        s->r[k] -= s->alpha * s->q[k];
        local += s->r[k] * s->r[k];
    }
    rr = fmp_reduce_value(local, FMP_SUM);
    FMP_MASTER { *s->out = rr; }
}

/* p = r + beta p */
static void direction(void *arg)
{
    const step *s = arg;
    FMP_FOR(k, 0, s->n * s->n, fmp_static(0))
        s->p[k] = s->r[k] + s->beta * s->p[k];
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "fork") && strcmp(argv[1], "team"))) {
        fprintf(stderr, "usage: %s fork|team [n [iterations]]\n", argv[0]);
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 256;
    long iters = argc > 3 ? strtol(argv[3], NULL, 10) : 200;
    if (n < 2 || iters < 1) {
        fprintf(stderr, "cg: n must be >= 2 and iterations >= 1\n");
        return 2;
    }
    size_t bytes = (size_t)(n * n) * sizeof(double);
    double result;
    step s = { n, fmp_shared_alloc(bytes), fmp_shared_alloc(bytes), fmp_shared_alloc(bytes),
               fmp_shared_alloc(bytes), 0, 0, &result };
    if (!s.x || !s.r || !s.p || !s.q) {
        perror("cg: fmp_shared_alloc");
        return 1;
    }
    if (strcmp(argv[1], "team") == 0 && !(team = fmp_team_create(0))) {
        perror("cg: fmp_team_create");
        return 1;
    }
    /* b: a point source and a ramp; x0 = 0, so r = p = b */
    double rr = 0.0;
    for (long k = 0; k < n * n; k++) {
        s.r[k] = s.p[k] = (k == (n / 2) * n + n / 2 ? 1.0 : 0.0) + (double)(k % n) / (double)n;
        rr += s.r[k] * s.r[k];
    }
    double t0 = fmp_get_wtime();
    long regions = 0, k;
    for (k = 0; k < iters && rr > 1e-24; k++) {
        run(matvec, &s);
        s.alpha = rr / result;
        run(update, &s);
        s.beta = result / rr;
        rr = result;
        run(direction, &s);
        regions += 3;
        if (k % 20 == 0)
            printf("iteration %4ld  |r| = %.12e\n", k, rr);
    }
    double t = fmp_get_wtime() - t0;
    double sum = 0.0;
    for (long i = 0; i < n * n; i++)
        sum += s.x[i];
    printf("after %ld iterations: |r| = %.12e, sum(x) = %.12e\n", k, rr, sum);
    fprintf(stderr, "cg %s: %ld regions of %d members in %.3f s (%.1f us per region)\n",
            argv[1], regions, team ? fmp_team_size(team) : fmp_get_max_threads(), t,
            1e6 * t / (double)regions);
    if (team && fmp_team_destroy(team) != 0)
        return 1;
    return 0;
}
