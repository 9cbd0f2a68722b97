/* The hybrid layer's set-up: fmp_mpi_init() (node split, team size, job-wide warnings,
 * fork-safety check, rank for diagnostics, child hook) and the node queries.
 *
 * Who may call MPI: only the process that called fmp_mpi_init() (the rank).  Every
 * member forked by forkmp is marked by the child hook and by the core's is_child hook; the
 * members of a persistent team created before MPI_Init are forkmp children too.  The
 * collectives (coll.c) check this before any MPI call. */
#include "hybrid.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hwloc.h>

fmp__mpi_state fmp__mpi = { .world_rank = -1, .node_comm = MPI_COMM_NULL };
const struct fmp__ops *fmp__core;

/* ---------------------------------------------------------------- libforkmp's hooks */

int fmp__mpi_bind_core(const char *what)
{
    static int told;
    if (FMP__LIKELY(fmp__core != NULL))
        return 0;
    const struct fmp__ops *ops = fmp__internal_ops(FMP__OPS_ABI);
    char why[200];
    if (fmp__mpi_core_verdict(ops, why, sizeof why) == 0) {
        fmp__core = ops;
        return 0;
    }
    if (!told && fmp_thread_num() == 0) {
        unsigned v = fmp_get_version();
        FMP__MPI_SAY(mpi_core_mismatch, what, FMP_VERSION_STRING, v >> 16, (v >> 8) & 0xffu,
                     v & 0xffu, why);
        told = 1;
    }
    return FMP_ESTATE;
}

/* ---------------------------------------------------------------- who may call MPI */

static void child_hook(void)
{
    fmp__mpi.in_child = 1;
}

int fmp__mpi_check_caller(const char *what)
{
    int rc = fmp__mpi_bind_core(what);
    if (rc)
        return rc;
    if (fmp__core->is_child() || fmp__mpi.in_child || (fmp__mpi.pid && fmp__mpi.pid != getpid())) {
        FMP__MPI_SAY(mpi_in_child, what, (int)getpid());
        return FMP_ESTATE;
    }
    return 0;
}

int fmp__mpi_check_live(const char *what)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (fin) {
        FMP__MPI_SAY(mpi_after_finalize, what);
        return FMP_ESTATE;
    }
    if (!init) {
        FMP__MPI_SAY(mpi_before_init, what);
        return FMP_ESTATE;
    }
    return 0;
}

int fmp__mpi_rc(int mpirc, const char *what, const char *call)
{
    if (mpirc == MPI_SUCCESS)
        return 0;
    char text[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    if (MPI_Error_string(mpirc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error %d", mpirc);
    FMP__MPI_SAY(mpi_call_failed, what, call, text);
    return FMP_EMPI;
}

/* ---------------------------------------------------------------- environment */

static int env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

/* A positive int from the environment (at most 4096), 0 when unset or not one. */
static int env_count(const char *name, int complain)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < 1 || n > 4096) {
        if (complain)
            FMP__MPI_SAY(mpi_env_count, "fmp_mpi_init", name, v);
        return 0;
    }
    return (int)n;
}

static int num_threads_set(void)
{
    return env_set("FMP_NUM_THREADS") || env_set("OMP_NUM_THREADS");
}

/* n cpus shared among k ranks with the same cpuset, this one being the i-th of them */
static int share(int n, int k, int i)
{
    if (k < 1)
        k = 1;
    int t = n / k + (i < n % k);
    return t > 0 ? t : 1;
}

int fmp_mpi_preinit_num_threads(void)
{
    int n;
    if (num_threads_set())
        n = fmp_get_max_threads();
    else if ((n = env_count("SLURM_CPUS_PER_TASK", 0)) > 0)
        ;
    else {
        n = fmp_get_num_procs();
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        if (online > 0 && n >= online) {
            /* not bound: the node's ranks share the machine, as fmp_mpi_init() will do */
            static const char *const sizes[] = {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS",
                                                "MV2_COMM_WORLD_LOCAL_SIZE", "PMI_LOCAL_SIZE",
                                                "SLURM_NTASKS_PER_NODE"};
            static const char *const ranks[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                                                "MV2_COMM_WORLD_LOCAL_RANK", "PMI_LOCAL_RANK",
                                                "SLURM_LOCALID"};
            for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                int k = env_count(sizes[i], 0);
                if (k > 0) {
                    const char *r = getenv(ranks[i]);
                    n = share(n, k, r ? atoi(r) : 0);
                    break;
                }
            }
        }
    }
    if (n < 1)
        n = 1;
    fmp__mpi.preinit = n;
    return n;
}

/* ---------------------------------------------------------------- cpusets */

typedef struct cpuinfo {
    int pus;             /* PUs in this process's cpuset */
    int node_pus;        /* PUs hwloc allows on this node */
    int nwords;
    unsigned long *words; /* this process's cpuset, nwords words */
    char list[96];       /* "0-3" */
} cpuinfo;

static int read_cpus(cpuinfo *ci)
{
    memset(ci, 0, sizeof *ci);
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) < 0)
        return FMP_ENOMEM;
    hwloc_topology_set_all_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_type_filter(topo, HWLOC_OBJ_CORE, HWLOC_TYPE_FILTER_KEEP_ALL);
    hwloc_topology_set_type_filter(topo, HWLOC_OBJ_PU, HWLOC_TYPE_FILTER_KEEP_ALL);
    hwloc_bitmap_t mine = hwloc_bitmap_alloc();
    int rc = 0;
    if (!mine || hwloc_topology_load(topo) < 0) {
        rc = FMP_ENOMEM;
        goto out;
    }
    hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topo);
    if (hwloc_get_cpubind(topo, mine, HWLOC_CPUBIND_PROCESS) < 0)
        hwloc_bitmap_copy(mine, allowed);
    hwloc_bitmap_and(mine, mine, allowed);
    ci->pus = hwloc_bitmap_weight(mine);
    ci->node_pus = hwloc_bitmap_weight(allowed);
    if (ci->pus < 1)
        ci->pus = 1;
    if (ci->node_pus < ci->pus)
        ci->node_pus = ci->pus;
    int last = hwloc_bitmap_last(mine);
    int bits = (int)(sizeof(unsigned long) * CHAR_BIT);
    ci->nwords = last < 0 ? 1 : last / bits + 1;
    ci->words = calloc((size_t)ci->nwords, sizeof *ci->words);
    if (!ci->words) {
        rc = FMP_ENOMEM;
        goto out;
    }
    for (int i = 0; i < ci->nwords; i++)
        ci->words[i] = hwloc_bitmap_to_ith_ulong(mine, (unsigned)i);
    if (hwloc_bitmap_list_snprintf(ci->list, sizeof ci->list, mine) < 0)
        ci->list[0] = '\0';
out:
    hwloc_bitmap_free(mine);
    hwloc_topology_destroy(topo);
    return rc;
}

static int popcount_words(const unsigned long *w, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += __builtin_popcountl(w[i]);
    return c;
}

/* ---------------------------------------------------------------- fmp_mpi_init */

/* What each rank tells rank 0 for the job-wide warnings. */
enum { F_RANK_OVER = 1, F_NODE_OVER = 2, F_IDLE = 4, F_PREINIT = 8 };
typedef struct report {
    int flags, rank, team, pus, node_sum, node_union, node_pus, local_size, local_rank,
        preinit, computed;
    char host[64];
    char list[96];
} report;

#define CHECK(call, name)                                                                \
    do {                                                                                 \
        rc = fmp__mpi_rc((call), "fmp_mpi_init", name);                                  \
        if (rc)                                                                          \
            goto out;                                                                    \
    } while (0)

static const char *plural(int n)
{
    return n == 1 ? "" : "s";
}

/* Rank 0 of comm: one line per kind of trouble found in the job, the first case of it. */
static void job_warnings(const report *all, int size)
{
    int over = 0, first = -1;
    for (int r = 0; r < size; r++)
        if (all[r].flags & F_RANK_OVER) {
            if (first < 0)
                first = r;
            over++;
        }
    if (over) {
        const report *p = &all[first];
        FMP__MPI_SAY_JOB(mpi_rank_oversub, over, size, p->rank, p->host, p->team, p->pus,
                         plural(p->pus), p->list, p->team, p->team, p->team, p->team, p->team,
                         p->pus);
        return;
    }
    for (int r = 0; r < size; r++)
        if (all[r].flags & F_NODE_OVER) {
            const report *p = &all[r];
            int fit = p->node_union / (p->local_size > 0 ? p->local_size : 1);
            if (fit < 1)
                fit = 1;
            FMP__MPI_SAY_JOB(mpi_node_oversub, p->local_size, plural(p->local_size), p->host,
                             p->node_sum, p->node_union, plural(p->node_union), fit, p->node_union,
                             p->node_union);
            return;
        }
    for (int r = 0; r < size; r++)
        if (all[r].flags & F_IDLE) {
            const report *p = &all[r];
            FMP__MPI_SAY_JOB(mpi_idle, p->pus, plural(p->pus), p->team, plural(p->team),
                             p->node_pus - p->node_union, p->node_pus, p->host);
            break;
        }
    for (int r = 0; r < size; r++)
        if (all[r].flags & F_PREINIT) {
            const report *p = &all[r];
            FMP__MPI_SAY_JOB(mpi_preinit_differs, p->rank, p->preinit, plural(p->preinit),
                             p->computed);
            break;
        }
}

int fmp_mpi_init(MPI_Comm comm)
{
    const char *what = "fmp_mpi_init";
    int rc = fmp__mpi_check_caller(what);
    if (rc)
        return rc;
    if (fmp_get_level() > 0) {
        FMP__MPI_SAY(mpi_in_region);
        return FMP_ESTATE;
    }
    if ((rc = fmp__mpi_check_live(what)))
        return rc;
    if (comm == MPI_COMM_NULL) {
        FMP__MPI_SAY(mpi_comm_null, what);
        return FMP_EINVAL;
    }
    int inter = 0;
    if ((rc = fmp__mpi_rc(MPI_Comm_test_inter(comm, &inter), what, "MPI_Comm_test_inter")))
        return rc;
    if (inter) {
        FMP__MPI_SAY(mpi_intercomm, what);
        return FMP_EINVAL;
    }

    cpuinfo ci = {0};
    report *all = NULL;
    unsigned long *sets = NULL, *uni = NULL;
    MPI_Comm node = MPI_COMM_NULL;
    int rank, size, wrank, lrank, lsize;
    CHECK(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
    CHECK(MPI_Comm_size(comm, &size), "MPI_Comm_size");
    CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &wrank), "MPI_Comm_rank");
    CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node),
          "MPI_Comm_split_type");
    CHECK(MPI_Comm_rank(node, &lrank), "MPI_Comm_rank");
    CHECK(MPI_Comm_size(node, &lsize), "MPI_Comm_size");

    /* nodes numbered in the order of their lowest rank */
    int leader = lrank == 0, before = 0, nnodes = 0, nodenum = 0;
    CHECK(MPI_Exscan(&leader, &before, 1, MPI_INT, MPI_SUM, comm), "MPI_Exscan");
    if (rank == 0)
        before = 0;
    nodenum = before;
    CHECK(MPI_Bcast(&nodenum, 1, MPI_INT, 0, node), "MPI_Bcast");
    CHECK(MPI_Allreduce(&leader, &nnodes, 1, MPI_INT, MPI_SUM, comm), "MPI_Allreduce");

    /* this rank's cpuset, and those of the node's ranks */
    if ((rc = read_cpus(&ci)))
        goto out;
    int nw = ci.nwords;
    CHECK(MPI_Allreduce(&ci.nwords, &nw, 1, MPI_INT, MPI_MAX, node), "MPI_Allreduce");
    unsigned long *mine = calloc((size_t)nw, sizeof *mine);
    sets = calloc((size_t)nw * (size_t)lsize, sizeof *sets);
    uni = calloc((size_t)nw, sizeof *uni);
    if (!mine || !sets || !uni) {
        free(mine);
        rc = FMP_ENOMEM;
        goto out;
    }
    memcpy(mine, ci.words, (size_t)ci.nwords * sizeof *mine);
    rc = fmp__mpi_rc(MPI_Allgather(mine, nw, MPI_UNSIGNED_LONG, sets, nw, MPI_UNSIGNED_LONG,
                                   node), what, "MPI_Allgather");
    free(mine);
    if (rc)
        goto out;
    int same = 0, idx = 0;
    for (int r = 0; r < lsize; r++) {
        const unsigned long *s = sets + (size_t)r * (size_t)nw;
        if (memcmp(s, sets + (size_t)lrank * (size_t)nw, (size_t)nw * sizeof *s) == 0) {
            if (r < lrank)
                idx++;
            same++;
        }
        for (int i = 0; i < nw; i++)
            uni[i] |= s[i];
    }
    int node_union = popcount_words(uni, nw);

    /* the default team size, in DESIGN.md's order */
    fmp__mpi_decision dec;
    memset(&dec, 0, sizeof dec);
    int computed = 0, team;
    if (num_threads_set()) {
        team = fmp_get_max_threads();
        dec.why = FMP__WHY_NUM_THREADS;
    } else if ((team = env_count("SLURM_CPUS_PER_TASK", 1)) > 0) {
        fmp_set_num_threads(team);
        dec.why = FMP__WHY_SLURM;
    } else {
        team = share(ci.pus, same, idx);
        computed = 1;
        fmp_set_num_threads(team);
        dec.why = FMP__WHY_CPUSET;
    }
    /* a team created before MPI_Init is what runs on this rank */
    int running = fmp__mpi.preinit > 0 ? fmp__mpi.preinit : team;
    int node_sum = 0;
    CHECK(MPI_Allreduce(&running, &node_sum, 1, MPI_INT, MPI_SUM, node), "MPI_Allreduce");
    /* the node's count of live members, which its waiters look at; the teams that exist
       already (created before MPI_Init) count in the node's sum too */
    fmp__mpi_census(node, lrank, lsize, node_union);
    if (fmp__core->census_live() > node_sum)
        node_sum = fmp__core->census_live();
    fmp__mpi_census_yield();

    report me;
    memset(&me, 0, sizeof me);
    me.rank = wrank;
    me.team = running;
    me.pus = ci.pus;
    me.node_sum = node_sum;
    me.node_union = node_union;
    me.node_pus = ci.node_pus;
    me.local_size = lsize;
    me.local_rank = lrank;
    me.preinit = fmp__mpi.preinit;
    me.computed = team;
    if (gethostname(me.host, sizeof me.host - 1) < 0)
        snprintf(me.host, sizeof me.host, "?");
    snprintf(me.list, sizeof me.list, "%s", ci.list[0] ? ci.list : "?");
    if (running > ci.pus)
        me.flags |= F_RANK_OVER;
    if (node_sum > node_union)
        me.flags |= F_NODE_OVER;
    if (computed && fmp__mpi.preinit == 0 && node_union < ci.node_pus)
        me.flags |= F_IDLE; /* the launcher bound the ranks, and left cpus of the node out */
    if (fmp__mpi.preinit > 0 && fmp__mpi.preinit != team && !num_threads_set())
        me.flags |= F_PREINIT;

    /* the job-wide warnings, once per job, by rank 0 of comm */
    int any = 0, bigteam = 0;
    CHECK(MPI_Allreduce(&me.flags, &any, 1, MPI_INT, MPI_BOR, comm), "MPI_Allreduce");
    CHECK(MPI_Allreduce(&running, &bigteam, 1, MPI_INT, MPI_MAX, comm), "MPI_Allreduce");
    if (any && !fmp__mpi.warned) {
        if (rank == 0 && !(all = malloc((size_t)size * sizeof *all))) {
            /* the other ranks are already in the gather: nothing sane is left to do */
            FMP__MPI_SAY(mpi_no_memory, what);
            MPI_Abort(comm, FMP_EXIT_FAILURE);
        }
        CHECK(MPI_Gather(&me, (int)sizeof me, MPI_BYTE, all, (int)sizeof me, MPI_BYTE, 0, comm),
              "MPI_Gather");
        if (rank == 0)
            job_warnings(all, size);
    }
    if (any & (F_RANK_OVER | F_NODE_OVER))
        fmp__core->oversubscription_checked(); /* told once for the job: not again per rank */

    /* fork safety, said once: by the lowest rank that finds a problem */
    dec.fork_problems = fmp__mpi_fork_check(dec.advice, sizeof dec.advice);
    if (!fmp__mpi.warned) {
        int who = dec.fork_problems && bigteam > 1 ? rank : INT_MAX, first = INT_MAX;
        CHECK(MPI_Allreduce(&who, &first, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce");
        if (first == rank)
            FMP__MPI_SAY_JOB(mpi_fork_advice, dec.advice);
    }
    dec.team = team;
    dec.pus = ci.pus;
    dec.same = same;
    dec.local_rank = lrank;
    dec.local_size = lsize;
    fmp__core->set_mpi_decision(&dec); /* for forkmp-info */

    /* from here on: diagnostics name the rank; members know they must not call MPI */
    if (fmp__mpi.node_comm != MPI_COMM_NULL)
        MPI_Comm_free(&fmp__mpi.node_comm);
    fmp__mpi.node_comm = node;
    node = MPI_COMM_NULL;
    fmp__mpi.world_rank = wrank;
    fmp__mpi.local_rank = lrank;
    fmp__mpi.local_size = lsize;
    fmp__mpi.node_num = nodenum;
    fmp__mpi.num_nodes = nnodes;
    fmp__mpi.team = team;
    fmp__mpi.warned = 1;
    fmp__mpi.pid = getpid();
    fmp__mpi.ready = 1;
    fmp__core->set_rank(wrank);
    fmp__core->set_child_hook(child_hook);
    fmp__core->exit_handler_again(); /* before MPI's own exit handlers, for exit() in a member */
    rc = 0;
out:
    if (node != MPI_COMM_NULL)
        MPI_Comm_free(&node);
    free(all);
    free(sets);
    free(uni);
    free(ci.words);
    return rc;
}

/* ---------------------------------------------------------------- node queries */

int fmp_mpi_get_local_rank(void)
{
    return fmp__mpi.ready ? fmp__mpi.local_rank : FMP_ESTATE;
}

int fmp_mpi_get_local_size(void)
{
    return fmp__mpi.ready ? fmp__mpi.local_size : FMP_ESTATE;
}

int fmp_mpi_get_node_num(void)
{
    return fmp__mpi.ready ? fmp__mpi.node_num : FMP_ESTATE;
}

int fmp_mpi_get_num_nodes(void)
{
    return fmp__mpi.ready ? fmp__mpi.num_nodes : FMP_ESTATE;
}
