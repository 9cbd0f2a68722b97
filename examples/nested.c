/*
 * nested.c: nested parallel regions, with forkmp.
 *
 * Ports examples/nested_omp.c.  What changed:
 * - omp_set_max_active_levels(2) became fmp_set_nested(1): with nesting on, an inner
 *   region forks a team of its own in every member of the outer team;
 * - `#pragma omp parallel num_threads(k)` became FMP_PARALLEL(k), the omp_get_*
 *   queries their fmp_get_* namesakes;
 * - the table moved from a static array to fmp_shared_alloc(): the inner members are
 *   children (and grandchildren) of the master, and their writes to private memory
 *   would be lost at the join.
 */
#include <forkmp.h>
#include <stdio.h>

enum { OUTER = 2, INNER = 2 };

struct view {
    int level, active_level, outer, inner, outer_size, inner_size, value;
};

int main(void)
{
    struct view (*table)[INNER] = fmp_shared_alloc(OUTER * sizeof *table);
    if (!table) {
        perror("fmp_shared_alloc");
        return 1;
    }

    fmp_set_nested(1);                      /* let the inner regions have teams */
    double t0 = fmp_get_wtime();
    FMP_PARALLEL(OUTER) {
        FMP_PARALLEL(INNER) {
            int o = fmp_get_ancestor_thread_num(1), i = fmp_thread_num();
            struct view *w = &table[o][i];
            w->level = fmp_get_level();
            w->active_level = fmp_get_active_level();
            w->outer = o;
            w->inner = i;
            w->outer_size = fmp_get_team_size(1);
            w->inner_size = fmp_num_threads();
            w->value = 1000 * w->level + 100 * o + 10 * i + w->inner_size;
        }
    }
    double t = fmp_get_wtime() - t0;

    printf("outer inner | level active | outer team inner team | value\n");
    for (int o = 0; o < OUTER; o++)
        for (int i = 0; i < INNER; i++) {
            const struct view *w = &table[o][i];
            printf("%5d %5d | %5d %6d | %10d %10d | %5d\n", w->outer, w->inner, w->level,
                   w->active_level, w->outer_size, w->inner_size, w->value);
        }
    fmp_shared_free(table);
    fprintf(stderr, "%.6f s, teams of %d x %d\n", t, OUTER, INNER);
    return 0;
}
