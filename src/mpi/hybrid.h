/* Declarations shared by the files of the hybrid layer (src/mpi/), never installed.
 *
 * The hybrid layer uses libforkmp's public API and, for the rest, only the core's hooks
 * of its internal interface (the last block of src/internal.h), through the table
 * fmp__core (fmp__core->collective(...), ...): the hooks themselves and the rest of the
 * core are hidden from it. */
#ifndef FMP_MPI_HYBRID_H
#define FMP_MPI_HYBRID_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stddef.h>
#include <sys/types.h>

#include <mpi.h>

#include "forkmp_mpi.h"
#include "internal.h"
#include "messages.h"

/* This process's view of the hybrid layer.  Private memory: members forked after
   fmp_mpi_init() inherit it; members of a persistent team created before MPI_Init do not
   (they never need it: they call MPI through their master). */
typedef struct fmp__mpi_state {
    int ready;            /* fmp_mpi_init() succeeded */
    pid_t pid;            /* the process that called it: the only one that calls MPI */
    int in_child;         /* set by the child hook in every member forked later */
    int world_rank;       /* -1 before fmp_mpi_init() */
    int local_rank, local_size, node_num, num_nodes;
    int team;             /* the default team size fmp_mpi_init() chose or found */
    int preinit;          /* what fmp_mpi_preinit_num_threads() returned, 0: not called */
    int warned;           /* the job-wide warnings were given */
    MPI_Comm node_comm;
} fmp__mpi_state;

extern fmp__mpi_state fmp__mpi;

/* libforkmp's hooks, NULL until fmp__mpi_bind_core() checked them. */
extern const struct fmp__ops *fmp__core;
/* Bind fmp__core to the table of the libforkmp this process runs with, at the first call
   of an entry point (what: its name): 0, or FMP_ESTATE when that libforkmp is of another
   build (said once, by member 0 only).  Every entry point calls it (or
   fmp__mpi_check_caller(), which does) before any hook. */
int fmp__mpi_bind_core(const char *what);
/* Pure: 0 when ops (fmp__internal_ops()'s answer, may be NULL) is a table this
   libforkmp_mpi can use, else FMP_ESTATE and the reason in why (core.c). */
int fmp__mpi_core_verdict(const struct fmp__ops *ops, char *why, size_t len);

/* May this process call MPI?  Only the rank's own process: never a member forked by
   forkmp (also a nested team's master), never before / after MPI.  Returns 0 or a
   negative error, after telling the user once per call (what: the function's name). */
int fmp__mpi_check_caller(const char *what);
/* MPI is initialised and not finalised: 0, else FMP_ESTATE (told). */
int fmp__mpi_check_live(const char *what);
/* An MPI return code: 0 for MPI_SUCCESS, else FMP_EMPI after telling which call failed. */
int fmp__mpi_rc(int mpirc, const char *what, const char *call);

/* Messages: the texts are in the one catalogue, src/messages.h (keys FMP__MSG_mpi_*);
   messages.c prints them.  FMP__MPI_SAY(key, args...) writes "forkmp: ", then
   "rank R: " once fmp_mpi_init() knows the rank, the message and a newline, whole, in
   one write(2); FMP__MPI_SAY_JOB does the same without the rank, for job-wide messages
   that one rank prints for the job.  The format is the key's string literal, so the
   compiler checks the arguments against it.  key is the message's key as a string, for
   the debugger. */
void fmp__mpi_say(int job, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define FMP__MPI_SAY(key, ...) fmp__mpi_say(0, #key, FMP__MSG_##key, ##__VA_ARGS__)
#define FMP__MPI_SAY_JOB(key, ...) fmp__mpi_say(1, #key, FMP__MSG_##key, ##__VA_ARGS__)

/* Fork safety (forksafe.c). */
enum fmp__fork_problem {
    FMP__FORK_VERBS = 1,  /* InfiniBand/RoCE verbs in use, fork support off */
    FMP__FORK_EFA = 2     /* libfabric's EFA provider in use without FI_EFA_FORK_SAFE */
};
/* ibv_is_fork_initialized()'s answer, -1 when unknown (verbs not loaded, or too old). */
enum { FMP__IBV_UNKNOWN = -1, FMP__IBV_DISABLED = 0, FMP__IBV_ENABLED = 1,
       FMP__IBV_UNNEEDED = 2 };
/* Pure: which libraries the text of /proc/self/maps shows, what the environment (through
   getenv_fn) sets, and libibverbs' fork status say.  Returns a set of fmp__fork_problem
   bits and, when non-zero, writes into advice the one sentence that tells what to set
   (lib: MPI_Get_library_version's first line).  Tested directly by tests/mpi. */
int fmp__mpi_fork_verdict(const char *maps, const char *(*getenv_fn)(const char *),
                          int ibv_status, const char *lib, char *advice, size_t len);
/* The same for this process, after MPI_Init: reads /proc/self/maps and the environment,
   asks libibverbs when it is loaded. */
int fmp__mpi_fork_check(char *advice, size_t len);

/* Bytes of one element of a predefined datatype, 0 for any other.  Compares handles
   only: safe in a child (calls no MPI function). */
size_t fmp__mpi_predefined_size(MPI_Datatype type);

#endif /* FMP_MPI_HYBRID_H */
