/*
 * jacobi.c: the 2D heat equation by Jacobi sweeps, one short parallel region per time
 * step, as time-stepping codes are written with OpenMP (a `parallel for` per sweep).
 *
 *   jacobi fork [n [steps]]   a fork per step (FMP_PARALLEL semantics)
 *   jacobi team [n [steps]]   one persistent team, one fmp_team_run() per step; the step
 *                             number reaches the members through the run's argument
 * Both print the same residuals, bit for bit, for the same team size.  The grids live
 * in shared memory; the two grids swap by the step's parity, so no member has to keep
 * private state from one region to the next.
 */
#include <forkmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    long n, step;
    double *grid[2];
    double *res;            /* master's copy of the step's residual */
} sweep_arg;

static void sweep(void *arg)
{
    const sweep_arg *a = arg;
    long n = a->n;
    const double *u = a->grid[a->step % 2];
    double *v = a->grid[(a->step + 1) % 2];
    double local = 0.0, res;
    FMP_FOR(i, 1, n - 1, fmp_dynamic(8)) {
        for (long j = 1; j < n - 1; j++) {
            double x = 0.25 * (u[(i - 1) * n + j] + u[(i + 1) * n + j] + u[i * n + j - 1] +
                               u[i * n + j + 1]);
            double d = fabs(x - u[i * n + j]);
            if (d > local)
                local = d;
            v[i * n + j] = x;
        }
    }
    fmp_reduce(&local, &res, 1, FMP_DOUBLE, FMP_MAX);
    FMP_MASTER { *a->res = res; }
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "fork") && strcmp(argv[1], "team"))) {
        fprintf(stderr, "usage: %s fork|team [n [steps]]\n", argv[0]);
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 512;
    long steps = argc > 3 ? strtol(argv[3], NULL, 10) : 500;
    if (n < 3 || steps < 1) {
        fprintf(stderr, "jacobi: n must be >= 3 and steps >= 1\n");
        return 2;
    }
    double res = 0.0;
    sweep_arg a = { n, 0, { fmp_shared_alloc((size_t)(n * n) * sizeof(double)),
                            fmp_shared_alloc((size_t)(n * n) * sizeof(double)) }, &res };
    if (!a.grid[0] || !a.grid[1]) {
        perror("jacobi: fmp_shared_alloc");
        return 1;
    }
    for (long j = 0; j < n; j++)
        a.grid[0][j] = a.grid[1][j] = 1.0;   /* the hot top edge */
    fmp_team *team = NULL;
    if (strcmp(argv[1], "team") == 0 && !(team = fmp_team_create(0))) {
        perror("jacobi: fmp_team_create");
        return 1;
    }
    double t0 = fmp_get_wtime();
    for (a.step = 0; a.step < steps; a.step++) {
        int rc = team ? fmp_team_run(team, sweep, &a, sizeof a) : fmp_parallel(0, sweep, &a);
        if (rc) {
            fprintf(stderr, "jacobi: step %ld failed: %s\n", a.step, fmp_strerror(rc));
            return 1;
        }
        if (a.step % 100 == 0 || a.step == steps - 1)
            printf("step %5ld  residual %.12e\n", a.step, res);
    }
    double t = fmp_get_wtime() - t0, sum = 0.0;
    const double *u = a.grid[steps % 2];
    for (long k = 0; k < n * n; k++)
        sum += u[k];
    printf("checksum %.12e\n", sum);
    fprintf(stderr, "jacobi %s: %ld steps in %.3f s (%.1f us per step)\n", argv[1], steps, t,
            1e6 * t / (double)steps);
    return team && fmp_team_destroy(team) ? 1 : 0;
}
