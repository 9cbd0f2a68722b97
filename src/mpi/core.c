/* The hybrid layer's side of libforkmp's internal interface: the table of the core's
 * hooks (struct fmp__ops, src/internal.h; filled by src/ops.c) is checked before the
 * first call through it, so that a libforkmp_mpi loaded with a libforkmp of another
 * build says so instead of calling into a table it does not know.  Binding and telling
 * are fmp__mpi_bind_core() (hybrid.c); the verdict, pure, is here, tested directly by
 * tests/mpi/t_ops (tests/mpi/ops.mpi). */
#include "hybrid.h"

#include <stdio.h>

int fmp__mpi_core_verdict(const struct fmp__ops *ops, char *why, size_t len)
{
    if (!ops || ops->abi != FMP__OPS_ABI) {
        snprintf(why, len, FMP__MSG_mpi_core_abi, FMP__OPS_ABI);
        return FMP_ESTATE;
    }
    if (ops->size < sizeof(struct fmp__ops)) {
        snprintf(why, len, FMP__MSG_mpi_core_size, FMP__OPS_ABI, ops->size,
                 sizeof(struct fmp__ops));
        return FMP_ESTATE;
    }
    return 0;
}
