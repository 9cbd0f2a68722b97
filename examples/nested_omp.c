/*
 * nested_omp.c: nested parallel regions, with OpenMP.
 *
 * The OpenMP original of examples/nested.c.  An outer team of 2 threads each opens an
 * inner team of 2; every inner thread records what it sees of the nesting (level,
 * active level, its ancestor at level 1, its own number, the sizes of both teams) in
 * the slot (outer number, inner number) of a table, which the master prints.
 */
#include <omp.h>
#include <stdio.h>

enum { OUTER = 2, INNER = 2 };

struct view {
    int level, active_level, outer, inner, outer_size, inner_size, value;
};

int main(void)
{
    static struct view table[OUTER][INNER];

    omp_set_max_active_levels(2);           /* let the inner regions have teams */
    double t0 = omp_get_wtime();
#pragma omp parallel num_threads(OUTER)
    {
#pragma omp parallel num_threads(INNER)
        {
            int o = omp_get_ancestor_thread_num(1), i = omp_get_thread_num();
            struct view *w = &table[o][i];
            w->level = omp_get_level();
            w->active_level = omp_get_active_level();
            w->outer = o;
            w->inner = i;
            w->outer_size = omp_get_team_size(1);
            w->inner_size = omp_get_num_threads();
            w->value = 1000 * w->level + 100 * o + 10 * i + w->inner_size;
        }
    }
    double t = omp_get_wtime() - t0;

    printf("outer inner | level active | outer team inner team | value\n");
    for (int o = 0; o < OUTER; o++)
        for (int i = 0; i < INNER; i++) {
            const struct view *w = &table[o][i];
            printf("%5d %5d | %5d %6d | %10d %10d | %5d\n", w->outer, w->inner, w->level,
                   w->active_level, w->outer_size, w->inner_size, w->value);
        }
    fprintf(stderr, "%.6f s, teams of %d x %d\n", t, OUTER, INNER);
    return 0;
}
