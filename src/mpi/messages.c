/* The hybrid layer's user-facing messages: one catalogue with stable keys (as the
 * core's src/messages.c), so that tests can match them.  Every message starts with
 * "forkmp: ", then "rank R: " once fmp_mpi_init() knows the rank, and is written whole,
 * in one write(2), so that lines from different processes never interleave. */
#include "hybrid.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *key;
    const char *fmt;
} catalogue[] = {
    /* where a call may be made */
    {"before-init", "%s: called before MPI_Init: call MPI_Init or MPI_Init_thread first"},
    {"after-finalize", "%s: called after MPI_Finalize"},
    {"in-child", "%s: called in process %d, a member forked by forkmp (or the master of "
                 "a nested team), which must never call MPI.  The fmp_mpi_* collectives "
                 "called by every member of the outermost team are carried out by the "
                 "rank's master; call anything else from the rank's own process"},
    {"in-region", "fmp_mpi_init: called inside a region: call it once after MPI_Init, "
                  "outside regions"},
    /* arguments */
    {"comm-null", "%s: the communicator is MPI_COMM_NULL"},
    {"intercomm", "%s: the communicator is an intercommunicator, which cannot be split "
                  "by node: pass an intracommunicator such as MPI_COMM_WORLD"},
    {"bad-arg", "%s: %s"},
    {"mpi-failed", "%s: %s failed: %s"},
    /* job-wide warnings of fmp_mpi_init (printed once, by rank 0) */
    {"rank-oversub",
     "warning: on %d of the %d ranks the team is larger than the cpus the rank is bound "
     "to (rank %d on host %s: a team of %d on %d cpu%s, %s): members share cores.  Give "
     "each rank %d cpus: under mpirun `--map-by slot:PE=%d` (or `--map-by ppr:1:node:PE=%d` "
     "for one rank a node) or `--bind-to none`; under Slurm `srun --cpus-per-task=%d` "
     "(#SBATCH --cpus-per-task=%d); or set FMP_NUM_THREADS=%d"},
    {"node-oversub",
     "warning: the teams of %d rank%s on node %s add up to %d processes on %d cpu%s: "
     "members share cores.  Set FMP_NUM_THREADS=%d, or start fewer ranks a node "
     "(mpirun `--map-by ppr:1:node:PE=%d`, Slurm `--ntasks-per-node=1 "
     "--cpus-per-task=%d`)"},
    {"idle",
     "note: the launcher bound each rank to %d cpu%s, so teams have %d member%s, while %d "
     "of the %d cpus of node %s run no rank.  For bigger teams give each rank more cpus: "
     "under mpirun `--map-by slot:PE=N` or `--bind-to none`, under Slurm "
     "`--cpus-per-task=N`"},
    {"preinit-differs",
     "note: rank %d created its team before MPI_Init with %d member%s "
     "(fmp_mpi_preinit_num_threads), but fmp_mpi_init finds %d for it"},
    {"fork-unsafe", "%s"},
};

const char *fmp__mpi_msg_format(const char *key)
{
    for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++)
        if (strcmp(catalogue[i].key, key) == 0)
            return catalogue[i].fmt;
    return NULL;
}

static void write_whole(const char *buf, size_t len)
{
    fflush(stderr);
    while (len > 0) {
        ssize_t w = write(2, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        buf += w;
        len -= (size_t)w;
    }
}

static void vmsg(int with_rank, const char *key, va_list ap)
{
    const char *fmt = fmp__mpi_msg_format(key);
    char body[2048], line[2200];
    vsnprintf(body, sizeof body, fmt ? fmt : key, ap);
    int n;
    if (with_rank && fmp__mpi.world_rank >= 0)
        n = snprintf(line, sizeof line, "forkmp: rank %d: %s\n", fmp__mpi.world_rank, body);
    else
        n = snprintf(line, sizeof line, "forkmp: %s\n", body);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    write_whole(line, (size_t)n);
}

void fmp__mpi_msg(const char *key, ...)
{
    va_list ap;
    va_start(ap, key);
    vmsg(1, key, ap);
    va_end(ap);
}

void fmp__mpi_msg_job(const char *key, ...)
{
    va_list ap;
    va_start(ap, key);
    vmsg(0, key, ap);
    va_end(ap);
}
