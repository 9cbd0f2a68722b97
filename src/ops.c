/* The internal interface of libforkmp_mpi: the one table of the core's hooks that the
 * hybrid layer calls, behind the one exported accessor fmp__internal_ops() (internal.h).
 * The hooks stay in their files (team.c, reduce.c, topo.c) and are hidden; a
 * libforkmp_mpi checks the table's version and size before its first call through it,
 * so that one built against another libforkmp says so instead of crashing. */
#include "internal.h"

static const struct fmp__ops ops = {
    .abi = FMP__OPS_ABI,
    .size = sizeof(struct fmp__ops),
    .collective = fmp__collective,
    .set_rank = fmp__set_rank,
    .set_child_hook = fmp__set_child_hook,
    .exit_handler_again = fmp__exit_handler_again,
    .is_child = fmp__is_child,
    .collective_note = fmp__collective_note,
    .oversubscription_checked = fmp__oversubscription_checked,
    .set_member_flag = fmp__set_member_flag,
    .member_fail = fmp__member_fail,
    .set_mpi_decision = fmp__set_mpi_decision,
    .info = fmp__info_get,
    .collective_fold = fmp__collective_fold,
    .census_attach = fmp__census_attach,
    .census_live = fmp__census_live,
    .census_throttled = fmp__census_throttled,
    .census_watch = fmp__census_watch,
};

const struct fmp__ops *fmp__internal_ops(unsigned abi)
{
    return abi == FMP__OPS_ABI ? &ops : NULL;
}
