/* The census of live members: how many processes of forkmp's teams run where this one
 * runs, and whether they outnumber the cpus they may use.  Waiters read its verdict
 * (fmp__census_over, one relaxed load) and, when the cpus are oversubscribed, spin only
 * FMP__THROTTLED_SPIN times before they sleep, as libgomp throttles its spin when its
 * threads outnumber the cpus: a spinner on a shared core holds the core its partner
 * needs until the next timer tick.
 *
 * Without MPI the count is the process tree's: a page shared by the tree (mapped by the
 * first master before its first fork, as topo.c's warning flag is) holds the number of
 * live processes, the first master and every member of every live team, nested ones
 * included, the cpus of the first master's affinity mask and the verdict.  A master adds
 * its team's members before it forks them and takes them off after their join, whether
 * they finished, failed or were killed: a dead member is counted until its master reaps
 * it, never longer.  A persistent team's member asleep between runs takes no cpu: it takes
 * itself off the count while it sleeps there (fmp__census_idle; its team keeps how many
 * are off, for the reap of one that died asleep), so that an idle team does not throttle
 * the waiters of the teams and warm regions that run beside it.
 *
 * Under MPI (fmp_mpi_init, src/mpi/census.c) the ranks of a node share a segment, struct
 * fmp__census_node: a slot per local rank with its pid and its tree's count, their sum,
 * and the cpus of the node's ranks (the union of their affinity masks).  A rank hands its
 * tree's count to its slot once; from then on its masters add to both, and the verdict
 * in the tree's page follows the node's sum: it is recomputed at every change by a master
 * of the rank and by every waiter of the rank about to sleep, so that a rank whose teams
 * did not change learns of another rank's within one wait.  A slot whose rank is gone
 * (its pid no longer exists) is emptied and its count taken off the sum by the first
 * rank that finds it.  Members forked before fmp_mpi_init (a persistent team created
 * before MPI_Init) do not map the segment: they read the verdict their rank's page holds,
 * which their master and the members forked later keep up to date. */
#include "internal.h"
#include "messages.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct census_tree {
    _Atomic int over;     /* the verdict: live processes outnumber the cpus */
    _Atomic int live;     /* the first master and the members of the tree's live teams */
    _Atomic int asleep;   /* of the members, those asleep between runs */
    _Atomic int attached; /* the rank judges from the node's counts (census_attach) */
    int cpus;             /* the first master's affinity mask */
} census_tree;

static _Atomic int g_never; /* the verdict before anything is counted: 0 */
_Atomic int *fmp__census_over = &g_never;

static census_tree *g_tree;      /* inherited by every member */
static fmp__census_node *g_node; /* the node's, under MPI: this rank and its later members */
static int g_slot = -1;          /* this rank's slot in g_node */

/* The first master maps the tree's page before it forks anything. */
static void map_tree(void)
{
    if (g_tree || fmp__g.is_child)
        return;
    void *p =
        mmap(NULL, sizeof(census_tree), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return;
    g_tree = p;
    g_tree->cpus = fmp__affinity_count();
    atomic_store(&g_tree->live, 1);
    fmp__census_over = &g_tree->over;
}

/* Empty the slots of ranks that are gone, taking their counts off the node's sum. */
static void sweep_ranks(void)
{
    for (int s = 0; s < g_node->nslots; s++) {
        int pid = atomic_load(&g_node->slot[s].pid);
        if (s == g_slot || pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        if (atomic_compare_exchange_strong(&g_node->slot[s].pid, &pid, 0)) {
            atomic_fetch_sub(&g_node->total, atomic_exchange(&g_node->slot[s].live, 0));
            atomic_store(&g_node->slot[s].asleep, 0);
        }
    }
}

/* Told when the verdict changes in the process that asked (the hybrid layer's rank). */
static void (*g_watch)(void);
static int g_watch_pid;
static int g_told; /* the verdict the watcher was last told of */

/* The processes that take a cpu: the node's under MPI (its ranks' members asleep summed
   from their slots: a member changes one count, never two), else the tree's. */
static int awake(void)
{
    if (!g_node)
        return atomic_load(&g_tree->live) - atomic_load(&g_tree->asleep);
    int asleep = 0;
    for (int s = 0; s < g_node->nslots; s++)
        asleep += atomic_load_explicit(&g_node->slot[s].asleep, memory_order_relaxed);
    return atomic_load(&g_node->total) - asleep;
}

/* The verdict from the counts, into the tree's page (stored only when it changes).  A
   member forked before its rank attached sees only its tree's counts: the rank and its
   later members judge for it. */
static void judge(void)
{
    if (!g_tree || (!g_node && atomic_load_explicit(&g_tree->attached, memory_order_relaxed)))
        return;
    int cpus = g_node ? g_node->cpus : g_tree->cpus;
    int over = awake() > cpus;
    /* judged again after a store: another process that read older counts may store its
       verdict after one that read newer ones, and whoever stores last looks once more */
    for (int i = 0; i < 8 && atomic_load_explicit(&g_tree->over, memory_order_relaxed) != over;
         i++) {
        atomic_store(&g_tree->over, over);
        over = awake() > cpus;
    }
    /* told even where another process of the rank changed the word first */
    if (g_watch && g_watch_pid == fmp__g.pid && g_told != over) {
        g_told = over;
        g_watch();
    }
}

void fmp__census_watch(void (*fn)(void))
{
    g_watch = fn;
    g_watch_pid = fmp__g.pid;
    g_told = g_tree ? atomic_load(&g_tree->over) : 0;
}

void fmp__census_refresh(void)
{
    if (g_node)
        judge();
}

int fmp__census_live(void)
{
    if (!g_tree)
        return 1;
    judge();
    return awake();
}

int fmp__census_throttled(void)
{
    fmp__census_refresh();
    return fmp__spin_now(FMP__THROTTLED_SPIN + 1) == FMP__THROTTLED_SPIN;
}

int fmp__census_cpus(void)
{
    if (g_node)
        return g_node->cpus;
    return g_tree ? g_tree->cpus : fmp__affinity_count();
}

/* The warning of a team that fmp_set_num_threads() made larger than the cpus left to it
   (the catalogue's oversubscribed_grown): once per node under MPI, once per process tree
   otherwise, and never after the other oversubscription warnings of topo.c and the
   hybrid layer, which share the tree's flag. */
static void warn_grown(int n)
{
    int live = fmp__census_live(), cpus = fmp__census_cpus();
    if (live <= cpus || fmp__oversubscription_said())
        return;
    if (g_node && atomic_exchange(&g_node->warned, 1))
        return;
    if (!fmp__oversubscription_take())
        return;
    int fit = cpus - (live - n);
    if (fit < 1)
        fit = 1;
    FMP__SAY(oversubscribed_grown, n, g_node ? "node" : "program", live, cpus, cpus == 1 ? "" : "s",
             fit, fit == 1 ? "" : "s");
}

void fmp__census_fork(fmp__shteam *t)
{
    int n = t->n;
    map_tree();
    if (!g_tree || n <= 1)
        return;
    t->counted = 1;
    t->counted_on_node = g_node != NULL; /* its members will have the node's segment */
    atomic_store(&t->idle_asleep, 0);
    fmp__census_add(n - 1);
    /* a team of the size fmp_set_num_threads() asked for, that overfills the cpus */
    fmp__ctx *c = fmp__g.cur;
    if (c && c->nthreads_called && c->nthreads_var == n)
        warn_grown(n);
}

void fmp__census_add(int d)
{
    if (!g_tree || d == 0)
        return;
    int live = atomic_fetch_add(&g_tree->live, d) + d;
    if (g_node) {
        atomic_fetch_add(&g_node->slot[g_slot].live, d);
        atomic_fetch_add(&g_node->total, d);
        sweep_ranks();
    }
    /* no member left in the tree: none is asleep.  A member killed between its two counts
       (its team's and the census's) leaves the census's off by one; cleared here */
    if (live == 1) {
        atomic_store(&g_tree->asleep, 0);
        if (g_node)
            atomic_store(&g_node->slot[g_slot].asleep, 0);
    }
    judge();
}

/* The asleep count that a member of t (or its master, for members that died asleep)
   changes: its rank's slot where the team was forked after the attach, else the tree's. */
static void asleep_add(fmp__shteam *t, int d)
{
    if (g_node && t->counted_on_node)
        atomic_fetch_add(&g_node->slot[g_slot].asleep, d);
    else
        atomic_fetch_add(&g_tree->asleep, d);
}

void fmp__census_idle(fmp__shteam *t, int asleep)
{
    if (!g_tree || !t->counted)
        return;
    /* the team's count moves first to sleep and last on waking.  SIGKILL may fall between
       the two: the reap then takes the member off the census's count once too often, an
       error of one that lasts until the tree has no member left (fmp__census_add) */
    if (asleep) {
        atomic_fetch_add(&t->idle_asleep, 1);
        asleep_add(t, 1);
    } else {
        asleep_add(t, -1);
        atomic_fetch_sub(&t->idle_asleep, 1);
    }
    judge();
}

void fmp__census_uncount(fmp__shteam *t)
{
    if (!t->counted)
        return;
    t->counted = 0;
    int asleep = atomic_exchange(&t->idle_asleep, 0);
    if (asleep && g_tree)
        asleep_add(t, -asleep);
    fmp__census_add(-(t->n - 1));
}

void fmp__census_attach(fmp__census_node *node, int slot)
{
    map_tree();
    if (g_node || !g_tree || !node || slot < 0 || slot >= node->nslots)
        return;
    int live = atomic_load(&g_tree->live);
    atomic_store(&node->slot[slot].live, live);
    atomic_store(&node->slot[slot].pid, (int)getpid());
    atomic_fetch_add(&node->total, live);
    g_slot = slot;
    g_node = node;
    atomic_store(&g_tree->attached, 1);
    sweep_ranks();
    judge();
}
