/* MPI called by a member: libforkmp_mpi defines every MPI function of mpi.h (the
 * wrappers, generated at build time by gen-wrappers.sh into mpi_wrappers.c); each checks
 * fmp__mpi_member and calls its PMPI_ twin.  The rank's own process (member 0 of the
 * outermost team, and any process outside forkmp) pays one load and one branch; a member
 * forked by forkmp fails its team with a message that names the call, the member, its
 * team and the team's call site, and the master reports it at the join (in abort mode:
 * the rank ends with status 70, and mpirun ends the job).
 *
 * The flag is set by libforkmp in each child as it starts (the hook set_member_flag),
 * registered here as the library is loaded, so that the members of a team created before
 * MPI_Init or fmp_mpi_init() are marked too. */
#include "hybrid.h"

#include <stdio.h>
#include <unistd.h>

int fmp__mpi_member;

__attribute__((constructor)) static void register_member_flag(void)
{
    /* quietly: a libforkmp of another build is told by the first fmp_mpi_* call */
    const struct fmp__ops *ops = fmp__internal_ops(FMP__OPS_ABI);
    char why[200];
    if (fmp__mpi_core_verdict(ops, why, sizeof why) == 0)
        ops->set_member_flag(&fmp__mpi_member);
}

static void member_call_text(char *buf, size_t len, const char *who, const void *arg)
{
    snprintf(buf, len, FMP__MSG_mpi_member_call, who, (const char *)arg);
}

void fmp__mpi_member_called(const char *name)
{
    /* the flag is set only through a table that was checked */
    fmp__internal_ops(FMP__OPS_ABI)->member_fail(FMP_ESTATE, member_call_text, name);
    /* a process a member forked itself: not a member of any team */
    FMP__MPI_SAY(mpi_member_child_call, name, (int)getpid());
    _exit(FMP_EXIT_FAILURE);
}
