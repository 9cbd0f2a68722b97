/* forkmp-info: what a forkmp program would get here, in the manner of ompi_info and
 * hwloc-ls.  Run it the way the job runs its program (plainly, under mpirun or srun): it
 * prints one line per process (under MPI: one line per rank, in rank order, prefixed
 * "rank R: ") with the cpuset, the default team size and why, the places and binding, the
 * wait policy and spins, the shared arena's size and (under MPI) the fork-safety verdict.
 *
 * Nothing here decides anything: the values come from the runtime's own code, through
 * libforkmp's table of hooks (src/internal.h, src/ops.c; the core's side is src/info.c),
 * after fmp_mpi_init() under MPI, so that what it prints is what a program gets.  The
 * warnings are the runtime's own (the catalogue, src/messages.h), on stderr.
 *
 * Built with MPI when configure found it; a build --without-mpi prints the core's view
 * (mpi=not-built under a launcher). */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FMP_INFO_MPI
#include <mpi.h>

#include "forkmp_mpi.h"
#endif

static void usage(FILE *f)
{
    fputs("usage: forkmp-info [--env]\n"
          "Prints what a forkmp program would get here: the cpuset, the default team size\n"
          "and why, the places and binding, the wait policy and spin count, the shared\n"
          "arena's size and, under MPI, the fork-safety verdict for the MPI library and\n"
          "fabric.  Run it as the job runs its program (mpirun -np N forkmp-info, srun\n"
          "forkmp-info): one line per rank, in rank order.  Warnings go to stderr.\n"
          "  --env    add the effective value of every forkmp environment variable\n"
          "  --help   print this text\n",
          f);
}

/* Started by an MPI launcher (Open MPI's mpirun, PMIx or PMI, srun --mpi=...)? */
static int launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

static const char *bind_word(int b)
{
    static const char *const words[] = {"false", "true", "primary", "close", "spread"};
    return b >= 0 && b < (int)(sizeof words / sizeof words[0]) ? words[b] : "false";
}

/* Append to a growing string; on ENOMEM the text is dropped. */
static __attribute__((format(printf, 3, 4))) void add(char **s, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *n = need < 0 || !*s ? NULL : realloc(*s, *len + (size_t)need + 1);
    if (!n) {
        free(*s);
        *s = NULL;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(n + *len, (size_t)need + 1, fmt, ap);
    va_end(ap);
    *s = n;
    *len += (size_t)need;
}

/* The report: one line, then the environment block with --env.  malloc'd. */
static char *report(const fmp__info *in, int mpi)
{
    size_t len = 0;
    char *s = calloc(1, 1);
    add(&s, &len, "cpus=%s pus=%d cores=%d team=%d from=", in->cpus, in->pus, in->cores, in->team);
    if (in->team < in->max_threads)
        add(&s, &len, "FMP_THREAD_LIMIT");
    else if (in->have_mpi && in->mpi.why == FMP__WHY_SLURM)
        add(&s, &len, "SLURM_CPUS_PER_TASK");
    else if (in->team_from && (!in->have_mpi || in->mpi.why == FMP__WHY_NUM_THREADS))
        add(&s, &len, "%s", in->team_from);
    else
        add(&s, &len, "cpuset");
    if (in->have_mpi)
        add(&s, &len, " local_rank=%d local_ranks=%d same_cpuset=%d", in->mpi.local_rank,
            in->mpi.local_size, in->mpi.same);
    const char *spec = *in->places ? in->places : "cores";
    add(&s, &len, " bind=%s", bind_word(in->bind));
    if (in->nplaces > 0)
        add(&s, &len, " places=%s:%d members=%s", spec, in->nplaces, in->members);
    else
        add(&s, &len, " places=unbound");
    add(&s, &len, " wait=%s spin=%ld team_spin=%ld arena=%zu",
        in->wait_policy == FMP__WAIT_ACTIVE    ? "active"
        : in->wait_policy == FMP__WAIT_PASSIVE ? "passive"
                                               : "default",
        in->spin_count, in->team_spin, in->arena);
    if (in->have_mpi && in->mpi.fork_problems)
        add(&s, &len, " fork=unsafe: %s\n", in->mpi.advice);
    else if (in->have_mpi)
        add(&s, &len, " fork=safe\n");
    else
        add(&s, &len, " mpi=%s\n", mpi ? "not-built" : "no");
    if (in->env)
        add(&s, &len, "%s", in->env);
    return s;
}

/* Each line of text with prefix, to stdout. */
static void print_lines(const char *prefix, const char *text)
{
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        int n = e ? (int)(e - p) : (int)strlen(p);
        printf("%s%.*s\n", prefix, n, p);
        p += n + (e != NULL);
    }
}

#ifdef FMP_INFO_MPI
/* Rank 0 prints every rank's text, in rank order. */
static int print_ranks(const char *text)
{
    int rank, size, mine = (int)strlen(text) + 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int *lens = NULL, *offs = NULL;
    char *all = NULL;
    if (rank == 0) {
        lens = calloc((size_t)size, sizeof *lens);
        offs = calloc((size_t)size, sizeof *offs);
        if (!lens || !offs)
            MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Gather(&mine, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        long total = 0;
        for (int r = 0; r < size; r++) {
            offs[r] = (int)total;
            total += lens[r];
        }
        if (!(all = malloc((size_t)total)))
            MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Gatherv(text, mine, MPI_CHAR, all, lens, offs, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank == 0)
        for (int r = 0; r < size; r++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "rank %d: ", r);
            print_lines(prefix, all + offs[r]);
        }
    fflush(stdout);
    free(lens);
    free(offs);
    free(all);
    return 0;
}
#endif

int main(int argc, char **argv)
{
    int env = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--env") == 0) {
            env = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "forkmp-info: %s '%s'\n",
                    argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    const struct fmp__ops *ops = fmp__internal_ops(FMP__OPS_ABI);
    if (!ops || ops->size < sizeof *ops) {
        fprintf(stderr,
                "forkmp-info: the libforkmp it runs with is of another build of "
                "forkmp (%u.%u.%u); install both from the same build\n",
                fmp_get_version() >> 16, (fmp_get_version() >> 8) & 0xffu,
                fmp_get_version() & 0xffu);
        return 1;
    }
    int mpi = launched();
#ifdef FMP_INFO_MPI
    if (mpi) {
        MPI_Init(&argc, &argv);
        int rc = fmp_mpi_init(MPI_COMM_WORLD);
        if (rc) {
            fprintf(stderr, "forkmp-info: fmp_mpi_init: %s\n", fmp_strerror(rc));
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
#endif
    fmp__info in;
    ops->info(&in, FMP__INFO_WARN | (env ? FMP__INFO_ENV : 0));
    char *text = report(&in, mpi);
    free(in.env);
    if (!text) {
        fputs("forkmp-info: out of memory\n", stderr);
        return 1;
    }
#ifdef FMP_INFO_MPI
    if (mpi) {
        print_ranks(text);
        free(text);
        MPI_Finalize();
        return 0;
    }
#endif
    print_lines("", text);
    free(text);
    return 0;
}
