/* What forkmp-info (tools/forkmp-info.c) reports: what a program would get in this
 * process, computed by the runtime's own code (the ICVs of env.c, the places and binding of
 * topo.c, the waiters' spins of team.c, the arena as mapped, and what the hybrid layer's
 * fmp_mpi_init() decided), reached through the table of hooks (ops.c). */
#include "env.h"

#include <string.h>

static fmp__mpi_decision g_mpi;
static int g_have_mpi;

void fmp__set_mpi_decision(const fmp__mpi_decision *d)
{
    g_mpi = *d;
    g_have_mpi = 1;
}

void fmp__info_get(fmp__info *out, int flags)
{
    memset(out, 0, sizeof *out);
    int team = 1;
    fmp__team_size(fmp__cur(), 0, 1, "forkmp-info", __FILE__, __LINE__, &team);
    out->team = team;
    out->max_threads = fmp_get_max_threads();
    out->team_from = fmp__g_icv.nthreads_name;
    fmp__topo_describe(out, flags);
    if (flags & FMP__INFO_WARN)
        fmp__check_oversubscription(team);
    memcpy(out->places, fmp__g_icv.places, sizeof out->places);
    out->wait_policy = fmp__g_icv.wait_policy;
    out->spin_count = fmp__g_icv.spin_count;
    out->team_spin = fmp__team_spin(team);
    out->arena = fmp_shared_size();
    out->have_mpi = g_have_mpi;
    if (g_have_mpi)
        out->mpi = g_mpi;
    if (flags & FMP__INFO_ENV)
        out->env = fmp__env_display_text(&fmp__g_icv, 1);
}
