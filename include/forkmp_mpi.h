/**
 * @file forkmp_mpi.h
 * @brief forkmp's hybrid layer: MPI ranks across nodes, each forking its node-local team.
 *
 * Each MPI rank is the master of its own forkmp teams.  fmp_mpi_init() (called once after
 * MPI_Init) finds the ranks that share this node, sizes the default team from the rank's
 * cpuset, and checks what is known to break fork() under MPI.  Inside a region every
 * member calls fmp_mpi_allreduce(), fmp_mpi_reduce() or fmp_mpi_bcast(): the team combines
 * its members' data in shared memory and the master alone talks to MPI, so the children
 * never call MPI.  Outside a region these functions are the plain MPI calls.
 *
 * Link with @c -lforkmp_mpi @c -lforkmp and MPI (`pkg-config --libs forkmp-mpi`).
 *
 * @section mpi_errors Errors
 * As in forkmp.h: ::FMP_OK (0) or a negative code, readable with fmp_strerror(); each error
 * is also told once on stderr in one line that starts with "forkmp: ".
 * - ::FMP_ESTATE: called where it may not be: before MPI_Init or after MPI_Finalize, or in
 *   a process that must not talk to MPI (a member forked by forkmp, also a persistent
 *   team's member, or the master of a nested team);
 * - ::FMP_EINVAL: a bad argument (negative count, NULL buffer with count > 0, a null
 *   handle, MPI_IN_PLACE where MPI does not allow it, an intercommunicator, a datatype
 *   whose lower bound is negative);
 * - ::FMP_EMISMATCH: the members of one team passed different counts, datatypes, ops,
 *   roots or communicators, or called different fmp_mpi_* functions (the team is broken:
 *   by default the rank then ends with the diagnostic, and so does the job);
 * - ::FMP_EMEMBER, ::FMP_EBROKEN, ::FMP_EEXITED: a member of the team failed (see
 *   fmp_barrier());
 * - ::FMP_EMPI: an MPI call failed and returned its error (only when the communicator's
 *   error handler is MPI_ERRORS_RETURN: with the default MPI_ERRORS_ARE_FATAL, MPI ends
 *   the job itself); the MPI error text is told on stderr.
 *
 * A bad argument is found before any MPI call, so when every rank passes it every rank
 * gets the error and nothing hangs; a rank that returns early while the others went on
 * into MPI leaves them waiting, as with MPI itself: check the codes.  A mismatch between
 * the members of a team breaks the team: in the default abort mode (fmp_set_error_mode())
 * the rank then ends with exit status 70 and the diagnostic, and mpirun / srun end the job.
 *
 * @section mpi_fork Fork and MPI
 * - Children never call MPI, and never run MPI's exit handlers.  Every fmp_mpi_* call made
 *   by a member is carried out by the rank's master on the team's behalf; called in a
 *   child outside a team collective (for example by the master of a nested team, who is a
 *   child of the rank's process) it returns ::FMP_ESTATE and calls no MPI function.
 * - A persistent team (fmp_team_create()) created @e before MPI_Init has members that hold
 *   no MPI or network state at all: the arrangement that is safe on every fabric.  The
 *   launcher (mpirun, srun) has bound the rank before it started, so such members are
 *   already placed inside the rank's cpuset.  fmp_mpi_preinit_num_threads() gives the team
 *   size that fmp_mpi_init() would choose, from the launcher's environment.
 * - Fork per region (FMP_PARALLEL after MPI_Init) works on shared memory and TCP; for the
 *   RDMA fabrics known to break it fmp_mpi_init() says once, plainly, what to set.
 * - Members start with OMP_NUM_THREADS=1 and the common BLAS thread variables set to 1.
 *
 * @section mpi_ranks Diagnostics under MPI
 * After fmp_mpi_init() every forkmp diagnostic names the rank (in MPI_COMM_WORLD): a
 * member that crashes ends its rank with "forkmp: rank R: member M (pid P) ... was killed
 * by signal 11 (SIGSEGV)" and exit status 70, and the launcher ends the job.
 * FMP_DISPLAY_AFFINITY lines show the rank too ("host H rank R pid P level L member M of N
 * cpus C").
 */
#ifndef FORKMP_MPI_H
#define FORKMP_MPI_H

#include <mpi.h>

#include "forkmp.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An MPI call made on the caller's behalf failed and returned an error (see above). */
#define FMP_EMPI (-1100)

/**
 * Make forkmp MPI-aware: call it once, after MPI_Init or MPI_Init_thread, before the first
 * region, in every rank of @p comm (it is collective over @p comm).
 *
 * It splits @p comm by node (MPI_Comm_split_type with MPI_COMM_TYPE_SHARED), reads the
 * rank's cpuset, and sets the default team size (fmp_get_max_threads()) in this order:
 * FMP_NUM_THREADS / OMP_NUM_THREADS when set (left as they are); else SLURM_CPUS_PER_TASK;
 * else the processing units of the rank's cpuset shared among the ranks of this node that
 * have the same cpuset (unbound ranks all see the whole node and divide it).  It then
 * warns once per job (rank 0 of @p comm prints) when a rank's team is larger than the
 * cpus it is bound to, or the teams of one node add up to more cpus than the node's ranks
 * have (teams that exist already, created before MPI_Init, count too), naming the mpirun
 * and srun options that fix it; and says once what to set when a fabric known to break
 * fork() is in use.  The node's ranks then count their live members together: while they
 * outnumber the node's cpus, members wait with a short spin before they sleep, and under
 * Open MPI the rank's MPI calls yield the cpu (FMP_SPIN_COUNT, FMP_WAIT_POLICY=active and
 * OMPI_MCA_mpi_yield_when_idle, when given, win).  From then on forkmp's diagnostics and
 * FMP_DISPLAY_AFFINITY lines carry the rank.  Calling it again (for example with another
 * communicator) redoes the node split and the sizing, without repeating the warnings.
 *
 * May be called by the rank's own process, outside regions.
 * @param comm an intracommunicator, usually MPI_COMM_WORLD.
 * @return ::FMP_OK; ::FMP_ESTATE before MPI_Init, after MPI_Finalize, inside a region or
 *         in a forked member; ::FMP_EINVAL for MPI_COMM_NULL or an intercommunicator;
 *         ::FMP_EMPI when an MPI call failed; ::FMP_ENOMEM.
 */
FMP_EXPORT int fmp_mpi_init(MPI_Comm comm);

/**
 * All-reduce: every member of every rank gets @p op applied to all the inputs.
 *
 * Inside a region every member of the team calls it: the members' inputs are combined in
 * shared memory in member order (with MPI_Reduce_local, so every predefined datatype and
 * op works, and user-defined ops created with MPI_Op_create too), the master calls
 * MPI_Allreduce once for the rank, and every member receives the global result in @p out.
 * Outside a region (or in a team of one) it is MPI_Allreduce.
 *
 * @p in may be MPI_IN_PLACE, as in MPI: each member's input is then in @p out, which
 * receives the result.  @p in == @p out is taken as MPI_IN_PLACE.  A @p count of 0 is
 * valid: nothing is combined, but the call is still collective.  Derived datatypes work
 * when their lower bound is not negative; their whole span is copied, so the gaps of a
 * non-contiguous @p out get the master's bytes.  Collective over the team and over @p comm.
 *
 * @return ::FMP_OK; ::FMP_EINVAL (negative count, NULL buffer, null handle, negative lower
 *         bound); ::FMP_ESTATE (before MPI_Init / after MPI_Finalize, or in a process that
 *         must not call MPI); ::FMP_EMISMATCH (members disagree); ::FMP_EMPI; ::FMP_ENOMEM;
 *         or the team errors of fmp_barrier().
 */
FMP_EXPORT int fmp_mpi_allreduce(const void *in, void *out, int count, MPI_Datatype type,
                                 MPI_Op op, MPI_Comm comm);

/**
 * Reduce to @p root: as fmp_mpi_allreduce(), but only the members of rank @p root receive
 * the result in @p out; on the other ranks @p out is not touched and may be NULL.
 * MPI_IN_PLACE is allowed on the root only, as in MPI.  Outside a region it is MPI_Reduce.
 * @return as fmp_mpi_allreduce(); ::FMP_EINVAL also for a @p root outside @p comm, a NULL
 *         @p out on the root (count > 0), and MPI_IN_PLACE on a rank that is not the root.
 */
FMP_EXPORT int fmp_mpi_reduce(const void *in, void *out, int count, MPI_Datatype type,
                              MPI_Op op, int root, MPI_Comm comm);

/**
 * Broadcast: every member of every rank gets, in @p buf, the @p buf of the master of rank
 * @p root.  Inside a region every member calls it; the master calls MPI_Bcast once for the
 * rank and the team copies the data from shared memory.  Outside a region it is MPI_Bcast.
 * Derived datatypes work as in fmp_mpi_allreduce() (the gaps of @p buf get the bytes of
 * the master's).  Collective over the team and over @p comm.
 * @return as fmp_mpi_allreduce(); ::FMP_EINVAL also for a @p root outside @p comm.
 */
FMP_EXPORT int fmp_mpi_bcast(void *buf, int count, MPI_Datatype type, int root,
                             MPI_Comm comm);

/**
 * The team size fmp_mpi_init() will choose, guessed before MPI_Init from the launcher's
 * environment, for a persistent team created before MPI_Init:
 * FMP_NUM_THREADS / OMP_NUM_THREADS, else SLURM_CPUS_PER_TASK, else the cpus of this
 * process's cpuset, divided by the number of ranks on this node (OMPI_COMM_WORLD_LOCAL_SIZE,
 * MPI_LOCALNRANKS, SLURM_NTASKS_PER_NODE...) when the process is not bound (its cpuset is
 * the whole machine).  fmp_mpi_init() checks the guess against what it finds.
 * Any process, any time; calls no MPI function.
 * @return the size, at least 1.
 */
FMP_EXPORT int fmp_mpi_preinit_num_threads(void);

/** This rank's number among the ranks of its node (in the communicator given to
    fmp_mpi_init()); ::FMP_ESTATE before fmp_mpi_init().  The rank's process and the
    members forked after fmp_mpi_init() (a team created before it does not know). */
FMP_EXPORT int fmp_mpi_get_local_rank(void);
/** Number of ranks on this node; ::FMP_ESTATE before fmp_mpi_init().  Where
    fmp_mpi_get_local_rank() may be called. */
FMP_EXPORT int fmp_mpi_get_local_size(void);
/** Number of this node, 0 .. fmp_mpi_get_num_nodes() - 1, in the order of the nodes'
    lowest ranks; ::FMP_ESTATE before fmp_mpi_init().  Where fmp_mpi_get_local_rank() may
    be called. */
FMP_EXPORT int fmp_mpi_get_node_num(void);
/** Number of nodes of the communicator; ::FMP_ESTATE before fmp_mpi_init().  Where
    fmp_mpi_get_local_rank() may be called. */
FMP_EXPORT int fmp_mpi_get_num_nodes(void);

/* Collective calls record their call site, so that mismatch reports can name it, as in
   forkmp.h.  The functions exist too (their addresses can be taken). */
FMP_EXPORT int fmp__mpi_allreduce_at(const void *in, void *out, int count, MPI_Datatype type,
                                     MPI_Op op, MPI_Comm comm, const char *file, int line);
FMP_EXPORT int fmp__mpi_reduce_at(const void *in, void *out, int count, MPI_Datatype type,
                                  MPI_Op op, int root, MPI_Comm comm, const char *file,
                                  int line);
FMP_EXPORT int fmp__mpi_bcast_at(void *buf, int count, MPI_Datatype type, int root,
                                 MPI_Comm comm, const char *file, int line);
/* variadic: arguments with commas of their own (compound literals) pass through whole */
#define fmp_mpi_allreduce(...) fmp__mpi_allreduce_at(__VA_ARGS__, __FILE__, __LINE__)
#define fmp_mpi_reduce(...) fmp__mpi_reduce_at(__VA_ARGS__, __FILE__, __LINE__)
#define fmp_mpi_bcast(...) fmp__mpi_bcast_at(__VA_ARGS__, __FILE__, __LINE__)

#ifdef __cplusplus
}
#endif

#endif /* FORKMP_MPI_H */
