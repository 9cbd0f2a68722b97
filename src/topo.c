/* Topology and binding with hwloc: OpenMP's places and proc-bind rules for teams of
 * processes, the oversubscription warning and FMP_DISPLAY_AFFINITY.
 *
 * The topology is loaded lazily, once, in a master (fmp__topo_prepare(), before it forks):
 * hwloc_topology_load costs milliseconds and may dlopen plugins, which a child of a
 * multi-threaded MPI rank must not do.  What is needed of it is kept (the place list, the
 * holders of each PU: fmp__machine) and the topology destroyed at once.  Children inherit
 * that by fork and only compute indices and call sched_setaffinity().
 *
 * Places are computed once, inside the cpuset the process had then (an MPI rank's
 * binding): they never leave it.  A member's placement follows OpenMP's place-partition
 * rules and is derived from the chain of (member, team size) of its ancestors, so a nested
 * team is placed inside the partition of the member that opens it (spread: its
 * sub-partition; close, primary: the parent's partition), the way OpenMP places threads. */
#include "topo.h"
#include "messages.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mempolicy.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_CHAIN 256 /* nesting levels followed when placing a member */

static struct {
    fmp__machine m;         /* what is kept of the topology, destroyed once read */
    int loaded;             /* 1 loaded, -1 failed (never retried), 0 not yet */
    hwloc_bitmap_t initial; /* the process's cpuset when loaded */
    hwloc_bitmap_t *places; /* places inside initial */
    int nplaces;
    int places_rc;             /* fmp__topo_places' result, when loaded */
    int places_state;          /* 1 ready, -1 none (binding off), 0 not yet */
    int warned_oversub;        /* this process warned (no shared flag) */
    _Atomic int *oversub_flag; /* shared by the process tree: warned once per rank */
} st;

/* ------------------------------------------------------------------------------------
 * Places
 * ------------------------------------------------------------------------------------ */

static int push_place(hwloc_bitmap_t **v, int *n, int *cap, hwloc_const_bitmap_t set,
                      hwloc_const_cpuset_t allowed)
{
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    if (!b)
        return FMP_ENOMEM;
    hwloc_bitmap_and(b, set, allowed);
    if (hwloc_bitmap_iszero(b)) {
        hwloc_bitmap_free(b);
        return 0;
    }
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 16;
        hwloc_bitmap_t *nv = realloc(*v, (size_t)c * sizeof *nv);
        if (!nv) {
            hwloc_bitmap_free(b);
            return FMP_ENOMEM;
        }
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = b;
    return 0;
}

/* Depth of the objects an abstract place name stands for. */
static int abstract_depth(hwloc_topology_t topo, int kind)
{
    static const hwloc_obj_type_t caches[] = {HWLOC_OBJ_L5CACHE, HWLOC_OBJ_L4CACHE,
                                              HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L2CACHE,
                                              HWLOC_OBJ_L1CACHE};
    switch (kind) {
    case FMP__PLACES_THREADS:
        return hwloc_get_type_depth(topo, HWLOC_OBJ_PU);
    case FMP__PLACES_NUMA:
        return HWLOC_TYPE_DEPTH_NUMANODE;
    case FMP__PLACES_LL_CACHES:
        /* the outermost cache level; a machine that reports none: its sockets */
        for (size_t i = 0; i < sizeof caches / sizeof caches[0]; i++) {
            int d = hwloc_get_type_depth(topo, caches[i]);
            if (d >= 0)
                return d;
        }
        /* fall through */
    case FMP__PLACES_SOCKETS:
        return hwloc_get_type_or_above_depth(topo, HWLOC_OBJ_PACKAGE);
    default: /* cores; PUs on a machine that reports no cores */
        return hwloc_get_type_or_below_depth(topo, HWLOC_OBJ_CORE);
    }
}

int fmp__topo_places(hwloc_topology_t topo, hwloc_const_cpuset_t allowed, const char *spec,
                     hwloc_bitmap_t **places, int *nplaces)
{
    fmp__places ps;
    *places = NULL;
    *nplaces = 0;
    if (!spec || !*spec) {
        memset(&ps, 0, sizeof ps);
        ps.kind = FMP__PLACES_CORES;
    } else if (fmp__env_parse_places(spec, &ps) < 0) {
        return FMP_EINVAL;
    }
    hwloc_bitmap_t *v = NULL;
    int n = 0, cap = 0, rc = 0;
    if (ps.kind == FMP__PLACES_EXPLICIT) {
        hwloc_bitmap_t b = hwloc_bitmap_alloc();
        rc = b ? 0 : FMP_ENOMEM;
        for (int k = 0; k < ps.nplaces && rc == 0; k++) {
            /* only the PUs inside allowed: b stays as small as the machine's PU numbers,
               however large the list's (a bitmap grown to PU 10^6 costs 128 KiB to clear
               at every place: seconds for "0:1000000"); places left empty are dropped */
            hwloc_bitmap_zero(b);
            for (int r = ps.first[k]; r < ps.first[k + 1]; r++)
                if (hwloc_bitmap_isset(allowed, (unsigned)ps.ids[r]))
                    hwloc_bitmap_set(b, (unsigned)ps.ids[r]);
            if (!hwloc_bitmap_iszero(b))
                rc = push_place(&v, &n, &cap, b, allowed);
        }
        hwloc_bitmap_free(b);
        fmp__env_places_free(&ps);
    } else {
        int depth = abstract_depth(topo, ps.kind);
        int count = (int)hwloc_get_nbobjs_by_depth(topo, depth);
        for (int i = 0; i < count && rc == 0; i++) {
            hwloc_obj_t o = hwloc_get_obj_by_depth(topo, depth, (unsigned)i);
            if (o && o->cpuset)
                rc = push_place(&v, &n, &cap, o->cpuset, allowed);
        }
        if (rc == 0 && ps.count > 0 && n > ps.count) { /* threads(4): the first 4 */
            for (int i = ps.count; i < n; i++)
                hwloc_bitmap_free(v[i]);
            n = ps.count;
        }
    }
    if (rc < 0) {
        fmp__topo_places_free(v, n);
        return rc;
    }
    *places = v;
    *nplaces = n;
    return 0;
}

void fmp__topo_places_free(hwloc_bitmap_t *places, int nplaces)
{
    for (int i = 0; i < nplaces; i++)
        hwloc_bitmap_free(places[i]);
    free(places);
}

/* ------------------------------------------------------------------------------------
 * OpenMP's placement rules (pure index arithmetic)
 * ------------------------------------------------------------------------------------ */

static int binds(int bind)
{
    return bind == FMP__BIND_TRUE || bind == FMP__BIND_PRIMARY || bind == FMP__BIND_CLOSE ||
           bind == FMP__BIND_SPREAD;
}

/* Which of L places (counted from the parent's) member me of T gets when T > L: the
   first T % L places hold T / L + 1 consecutive members, the others T / L. */
static int crowded_slot(int T, int L, int me)
{
    int base = T / L, extra = T % L;
    int big = extra * (base + 1);
    return me < big ? me / (base + 1) : extra + (me - big) / base;
}

void fmp__topo_place_member(int nplaces, fmp__placement parent, int bind, int n, int me,
                            fmp__placement *out)
{
    *out = parent;
    if (!binds(bind) || nplaces < 1 || n < 1 || me < 0 || me >= n)
        return;
    int P = nplaces, f = parent.part_first % P, L = parent.part_len;
    if (f < 0)
        f += P;
    if (L < 1 || L > P)
        L = P;
    /* s: the parent's place, counted from the first place of the partition */
    int s = parent.place < 0 ? 0 : ((parent.place - f) % P + P) % P;
    if (s >= L)
        s = 0;
#define AT(k) ((f + (s + (k)) % L) % P) /* k-th place of the partition from the parent's */
    switch (bind) {
    case FMP__BIND_PRIMARY:
        out->place = AT(0);
        break;
    case FMP__BIND_SPREAD:
        if (n <= L) {
            /* n sub-partitions of L / n or L / n + 1 consecutive places, the first one
               starting at the parent's place; member i on the first place of the i-th */
            int base = L / n, extra = L % n;
            int off = me * base + (me < extra ? me : extra);
            out->place = AT(off);
            out->part_first = out->place;
            out->part_len = base + (me < extra);
        } else {
            out->place = AT(crowded_slot(n, L, me));
            out->part_first = out->place;
            out->part_len = 1;
        }
        break;
    default: /* close, true */
        out->place = n <= L ? AT(me) : AT(crowded_slot(n, L, me));
        break;
    }
#undef AT
}

int fmp__topo_assign(hwloc_topology_t topo, hwloc_const_cpuset_t allowed, const char *spec,
                     int bind, int n, hwloc_bitmap_t *out)
{
    if (n < 1)
        return FMP_EINVAL;
    if (!binds(bind)) {
        for (int i = 0; i < n; i++)
            hwloc_bitmap_copy(out[i], allowed);
        return 0;
    }
    hwloc_bitmap_t *places;
    int P;
    int rc = fmp__topo_places(topo, allowed, spec, &places, &P);
    if (rc < 0)
        return rc;
    if (P == 0) {
        fmp__topo_places_free(places, P);
        return FMP_EINVAL;
    }
    fmp__placement root = {-1, 0, P}, pl;
    for (int i = 0; i < n; i++) {
        fmp__topo_place_member(P, root, bind, n, i, &pl);
        hwloc_bitmap_copy(out[i], places[pl.place]);
    }
    fmp__topo_places_free(places, P);
    return 0;
}

/* ------------------------------------------------------------------------------------
 * Combining trees: the domains that hold each member
 * ------------------------------------------------------------------------------------ */

int fmp__machine_read(hwloc_topology_t topo, fmp__machine *m)
{
    memset(m, 0, sizeof *m);
    int last = hwloc_bitmap_last(hwloc_topology_get_complete_cpuset(topo));
    int nn = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    m->thissystem = hwloc_topology_is_thissystem(topo);
    m->npus = last + 1;
    m->nnuma = nn > 0 ? nn : 0;
    m->pu = malloc(sizeof *m->pu * (size_t)(m->npus > 0 ? m->npus : 1));
    m->numa_os = malloc(sizeof *m->numa_os * (size_t)(m->nnuma > 0 ? m->nnuma : 1));
    if (!m->pu || !m->numa_os) {
        fmp__machine_free(m);
        return FMP_ENOMEM;
    }
    for (int i = 0; i < m->npus; i++)
        for (int k = 0; k < FMP__HOLDS; k++)
            m->pu[i][k] = -1;
    for (int i = 0; i < m->nnuma; i++)
        m->numa_os[i] = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)i)->os_index;
    int core = hwloc_get_type_or_below_depth(topo, HWLOC_OBJ_CORE);
    for (hwloc_obj_t o = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_PU, NULL); o;
         o = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_PU, o)) {
        if ((int)o->os_index >= m->npus)
            continue;
        int *h = m->pu[o->os_index];
        hwloc_obj_t c = o->depth == core ? o : hwloc_get_ancestor_obj_by_depth(topo, core, o);
        hwloc_obj_t l3 = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_L3CACHE, o);
        hwloc_obj_t pk = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, o);
        h[FMP__HOLD_CORE] = c ? (int)c->logical_index : -1;
        h[FMP__HOLD_L3] = l3 ? (int)l3->logical_index : -1;
        h[FMP__HOLD_PACKAGE] = pk ? (int)pk->logical_index : -1;
        for (int i = 0; i < m->nnuma && h[FMP__HOLD_NUMA] < 0; i++) {
            hwloc_obj_t n = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)i);
            if (n->cpuset && hwloc_bitmap_isset(n->cpuset, o->os_index))
                h[FMP__HOLD_NUMA] = i;
        }
    }
    return 0;
}

void fmp__machine_free(fmp__machine *m)
{
    free(m->pu);
    free(m->numa_os);
    memset(m, 0, sizeof *m);
}

/* The logical index of the object of kind k (FMP__HOLD_*) that holds every PU of set, or
   -1: PUs held by different ones, by none, or unknown. */
static int holder(const fmp__machine *m, hwloc_const_bitmap_t set, int k)
{
    int v = -1;
    for (int i = hwloc_bitmap_first(set); i >= 0; i = hwloc_bitmap_next(set, i)) {
        int w = i < m->npus ? m->pu[i][k] : -1;
        if (w < 0 || (v >= 0 && w != v))
            return -1;
        v = w;
    }
    return v;
}

int fmp__machine_tree(const fmp__machine *m, const hwloc_const_bitmap_t *cpus, int n,
                      fmp__tree_shape *s)
{
    static const int levels[] = {FMP__HOLD_L3, FMP__HOLD_NUMA, FMP__HOLD_PACKAGE};
    enum { NL = sizeof levels / sizeof levels[0] };
    if (n < 1)
        return FMP_EINVAL;
    int bound = 1;
    for (int k = 0; k < n && bound; k++)
        bound = cpus[k] != NULL && !hwloc_bitmap_iszero(cpus[k]);
    if (!bound)
        return fmp__tree_build(n, 0, NULL, NULL, s);
    int *keys = malloc(sizeof(int) * (size_t)n * NL);
    if (!keys)
        return FMP_ENOMEM;
    for (int l = 0; l < NL; l++)
        for (int k = 0; k < n; k++)
            keys[l * n + k] = holder(m, cpus[k], levels[l]);
    /* keys[n .. 2n) are the NUMA nodes' */
    int rc = fmp__tree_build(n, NL, keys, keys + n, s);
    free(keys);
    return rc;
}

int fmp__topo_tree(hwloc_topology_t topo, const hwloc_const_bitmap_t *cpus, int n,
                   fmp__tree_shape *s)
{
    fmp__machine m;
    if (fmp__machine_read(topo, &m) < 0)
        return FMP_ENOMEM;
    int rc = fmp__machine_tree(&m, cpus, n, s);
    fmp__machine_free(&m);
    return rc;
}

/* ------------------------------------------------------------------------------------
 * This process: lazy topology, binding
 * ------------------------------------------------------------------------------------ */

static int bind_at(int level)
{
    const fmp__icv *g = &fmp__g_icv;
    if (g->bind_len < 1)
        return FMP__BIND_UNSET;
    int i = level - 1;
    if (i < 0)
        i = 0;
    if (i >= FMP__MAX_LEVELS)
        i = FMP__MAX_LEVELS - 1;
    return g->bind[i];
}

/* hwloc dlopens its plugins at a process's first hwloc_topology_init and keeps them while
   any topology lives.  All of them find I/O objects (PCI, OpenCL, CUDA, NVML, ROCm, Level
   Zero, GL displays) or parse XML through libxml2 (hwloc has a parser of its own): this
   topology filters I/O out, yet Debian's plugins bring libOpenCL, libX11, libxml2 and ICU
   into the process, about 100 mappings that every warm region's maps reads and scans then
   walk (an empty warm region, 64 MiB held, bound: 85 µs with them, 48 µs without, on the
   2-cpu VM of bench/RESULTS.md).  The topology is destroyed once read (ensure_topology),
   which closes them again, but for the libraries that cannot be unloaded (libstdc++ and
   libgcc_s, 10 mappings), and the load costs their dlopens.  So the first init sees
   HWLOC_PLUGINS_BLACKLIST naming them, unless the user set hwloc's plugin variables (even
   empty: theirs is kept), or the topology is read from XML (HWLOC_XMLFILE, or "xml" in
   HWLOC_COMPONENTS: libxml2 reads more of XML than hwloc's own reader), or an MPI
   launcher started the process: its MPI library loads hwloc for itself and may want
   the I/O objects.
   The variable is never set: the first init runs with environ pointing at a copy of the
   environment with the variable added, then environ is put back.  Only in a process of
   one thread: a setenv of another thread in that window would be lost at the put back
   (seen: 3 runs of 4 lost a variable), and setenv or unsetenv of our own would free an
   array another thread's getenv may be reading (glibc 2.36).  A process with threads
   loads the plugins, and closes them with the topology. */
#define NO_PLUGINS                                                                                 \
    "HWLOC_PLUGINS_BLACKLIST=hwloc_pci,hwloc_opencl,hwloc_cuda,hwloc_nvml,hwloc_rsmi,"             \
    "hwloc_levelzero,hwloc_gl,hwloc_xml_libxml"

static int plugins_wanted(void)
{
    static const char *const chosen[] = {"HWLOC_PLUGINS_BLACKLIST",
                                         "HWLOC_PLUGINS_PATH",
                                         "OMPI_COMM_WORLD_SIZE",
                                         "PMIX_RANK",
                                         "PMI_RANK",
                                         "PMI_SIZE",
                                         "MPI_LOCALRANKID"};
    for (size_t i = 0; i < sizeof chosen / sizeof *chosen; i++)
        if (getenv(chosen[i]))
            return 1;
    /* a topology read from XML: the file may need libxml2's reader (hwloc's own accepts
       less of XML) */
    const char *comp = getenv("HWLOC_COMPONENTS");
    return getenv("HWLOC_XMLFILE") != NULL || (comp && strstr(comp, "xml"));
}

static int topology_init(hwloc_topology_t *topo)
{
    extern char **environ;
    static char **copy; /* a signal handler's getenv may have read it: never freed */
    char **old = environ;
    if (plugins_wanted() || copy || fmp__threads_of_self() != 1)
        return hwloc_topology_init(topo);
    size_t n = 0;
    while (old && old[n])
        n++;
    copy = malloc((n + 2) * sizeof *copy);
    if (!copy)
        return hwloc_topology_init(topo);
    if (n)
        memcpy(copy, old, n * sizeof *copy);
    copy[n] = (char *)NO_PLUGINS;
    copy[n + 1] = NULL;
    environ = copy;
    int rc = hwloc_topology_init(topo);
    environ = old;
    return rc;
}

/* The topology is read once, then destroyed: what the process needs later (the places,
   the holders of each PU, the NUMA nodes) is kept in st, and with the process's last
   topology gone, hwloc closes its plugins (of those above, libstdc++ and libgcc_s stay:
   they cannot be unloaded) and a later topology of the program's own gets them again. */
static int ensure_topology(void)
{
    if (st.loaded)
        return st.loaded > 0 ? 0 : -1;
    if (fmp__g.is_child)
        return -1; /* never a fresh load after fork: fmp__topo_prepare() comes first */
    st.loaded = -1;
    hwloc_topology_t topo;
    if (topology_init(&topo) < 0)
        return -1;
    hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_icache_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
    st.initial = hwloc_bitmap_alloc();
    int ok = st.initial && hwloc_topology_load(topo) == 0 && fmp__machine_read(topo, &st.m) == 0;
    if (ok) {
        if (hwloc_get_cpubind(topo, st.initial, HWLOC_CPUBIND_PROCESS) < 0)
            hwloc_bitmap_copy(st.initial, hwloc_topology_get_allowed_cpuset(topo));
        hwloc_bitmap_and(st.initial, st.initial, hwloc_topology_get_allowed_cpuset(topo));
        st.places_rc =
            fmp__topo_places(topo, st.initial, fmp__g_icv.places, &st.places, &st.nplaces);
    }
    hwloc_topology_destroy(topo);
    if (!ok) {
        hwloc_bitmap_free(st.initial);
        st.initial = NULL;
        return -1;
    }
    st.loaded = 1;
    return 0;
}

static void write_line(const char *line)
{
    fflush(stderr);
    size_t len = strlen(line);
    while (len > 0) {
        ssize_t w = write(2, line, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        line += w;
        len -= (size_t)w;
    }
}

static int ensure_places(void)
{
    if (st.places_state)
        return st.places_state > 0 ? 0 : -1;
    if (ensure_topology() < 0) {
        if (!fmp__g.is_child)
            st.places_state = -1;
        return -1;
    }
    st.places_state = -1;
    if (st.places_rc < 0)
        return -1;
    if (st.nplaces == 0) {
        char set[256];
        fmp__cpulist(set, sizeof set, st.initial);
        FMP__SAY(places_outside, fmp__g_icv.places, set);
        return -1;
    }
    st.places_state = 1;
    return 0;
}

/* The oversubscription warning is printed once per rank: the first master maps a shared
   flag before it forks, so that its children (and their nested teams) see it too. */
static void map_warning_flag(void)
{
    if (st.oversub_flag || fmp__g.is_child)
        return;
    void *p =
        mmap(NULL, sizeof(_Atomic int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED)
        st.oversub_flag = p;
}

static int already_warned(void)
{
    return st.oversub_flag ? atomic_load(st.oversub_flag) != 0 : st.warned_oversub;
}

static int take_warning(void)
{
    if (st.oversub_flag)
        return atomic_exchange(st.oversub_flag, 1) == 0;
    if (st.warned_oversub)
        return 0;
    st.warned_oversub = 1;
    return 1;
}

int fmp__oversubscription_said(void)
{
    map_warning_flag();
    return already_warned();
}

int fmp__oversubscription_take(void)
{
    map_warning_flag();
    return take_warning();
}

/* Hybrid layer (internal interface): the job-wide check of fmp_mpi_init() replaces the
   per-process warning, in this process and the members it forks. */
void fmp__oversubscription_checked(void)
{
    map_warning_flag();
    st.warned_oversub = 1;
    if (st.oversub_flag)
        atomic_store(st.oversub_flag, 1);
}

void fmp__topo_prepare(int n)
{
    map_warning_flag();
    if (binds(bind_at(1)))
        ensure_places();
    if (n > 1 && !already_warned() && n > fmp__affinity_count())
        ensure_topology(); /* for the core count of the warning */
}

/* The (member, team size) of the caller at each level 1..level-1, from its context chain;
   levels the chain does not show count as teams of one. */
static void ancestors(int level, int *me, int *n)
{
    for (int k = 0; k < level; k++) {
        me[k] = 0;
        n[k] = 1;
    }
    for (const fmp__ctx *c = fmp__g.cur; c; c = c->parent)
        if (c->level >= 1 && c->level < level) {
            me[c->level] = c->me;
            n[c->level] = c->n;
        }
}

/* The caller's placement at level (its place and partition there), binding on and the
   places ready.  Stateless: the same in every process, derived from the chain. */
static fmp__placement placement_at(int level)
{
    int ame[MAX_CHAIN], an[MAX_CHAIN];
    if (level >= MAX_CHAIN)
        level = MAX_CHAIN - 1;
    ancestors(level + 1, ame, an);
    fmp__placement pl = {-1, 0, st.nplaces};
    for (int k = 1; k <= level; k++)
        fmp__topo_place_member(st.nplaces, pl, bind_at(k), an[k], ame[k], &pl);
    return pl;
}

/* The place of member me of a team of n opened at level, or -1 when not binding. */
static int member_place(int level, int me, int n)
{
    if (level < 1 || level >= MAX_CHAIN || !binds(bind_at(level)) || ensure_places() < 0)
        return -1;
    fmp__placement pl = placement_at(level - 1);
    fmp__topo_place_member(st.nplaces, pl, bind_at(level), n, me, &pl);
    return pl.place;
}

/* Bind thread tid (0: the caller) to the PUs of set; a failure leaves it where it was, as
   hwloc's binding did. */
static void set_affinity(pid_t tid, hwloc_const_bitmap_t set)
{
    int last = hwloc_bitmap_last(set);
    if (last < 0 || !st.m.thissystem) /* another machine's cpus: hwloc bound nothing */
        return;
    cpu_set_t fixed, *cs = &fixed;
    size_t size = sizeof fixed;
    if (last >= CPU_SETSIZE) {
        size = CPU_ALLOC_SIZE((size_t)last + 1);
        if (!(cs = CPU_ALLOC((size_t)last + 1)))
            return;
    }
    CPU_ZERO_S(size, cs);
    for (int i = hwloc_bitmap_first(set); i >= 0; i = hwloc_bitmap_next(set, i))
        CPU_SET_S((size_t)i, size, cs);
    sched_setaffinity(tid, size, cs);
    if (cs != &fixed)
        CPU_FREE(cs);
}

void fmp__bind_member(int level, int me, int n)
{
    int place = member_place(level, me, n);
    if (place < 0)
        return;
    /* the calling thread: a child is one thread, its process; the master binds only its
       own, so that threads of its own (an MPI library's progress threads) keep the rank's
       cpus */
    set_affinity(0, st.places[place]);
}

void fmp__bind_child(pid_t pid, int level, int me, int n)
{
    int place = member_place(level, me, n);
    if (place >= 0)
        set_affinity(pid, st.places[place]); /* a child just forked: one thread */
}

void fmp__topo_member_places(int level, int n, int *places)
{
    for (int m = 0; m < n; m++)
        places[m] = member_place(level, m, n);
}

int fmp__topo_places_tree(const int *places, int n, fmp__tree_shape *s)
{
    int bound = places[0] >= 0 && st.places_state > 0;
    hwloc_const_bitmap_t *cpus = calloc((size_t)n, sizeof *cpus);
    if (!cpus)
        return FMP_ENOMEM;
    for (int m = 0; m < n && bound; m++)
        cpus[m] = places[m] >= 0 ? st.places[places[m]] : NULL;
    int rc = bound ? fmp__machine_tree(&st.m, cpus, n, s) : fmp__tree_build(n, 0, NULL, NULL, s);
    free(cpus);
    return rc;
}

int fmp__topo_membind(void *addr, size_t len, int numa)
{
    if (st.loaded <= 0 || st.m.nnuma < 2 || numa >= st.m.nnuma || !st.m.thissystem)
        return 0;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)addr & ~(page - 1);
    len += (uintptr_t)addr - a;
    if (numa < 0) /* back to the default: the arena's pages are used again by others */
        return syscall(SYS_mbind, a, len, MPOL_DEFAULT, NULL, 0UL, 0U) == 0;
    /* preferred, not bound: a full node never fails a page fault on the arena; the pages
       already there move */
    enum { BITS = 8 * sizeof(unsigned long), MAXNODES = 4096 };
    unsigned os = st.m.numa_os[numa];
    unsigned long mask[MAXNODES / BITS] = {0};
    if (os >= MAXNODES)
        return 0;
    mask[os / BITS] |= 1UL << (os % BITS);
    unsigned long maxnode = (os / BITS + 1) * BITS + 1; /* the kernel reads maxnode - 1 bits */
    return syscall(SYS_mbind, a, len, MPOL_PREFERRED, mask, maxnode, MPOL_MF_MOVE) == 0;
}

/* ------------------------------------------------------------------------------------
 * Affinity mask, oversubscription, FMP_DISPLAY_AFFINITY
 * ------------------------------------------------------------------------------------ */

/* The calling thread's affinity mask: in *local when CPU_SETSIZE cpus hold it (no
   allocation: a region reads it twice), else allocated (free it with put_affinity);
   NULL on failure. */
static cpu_set_t *get_affinity(size_t *size, cpu_set_t *local)
{
    *size = sizeof *local;
    if (sched_getaffinity(0, *size, local) == 0)
        return local;
    if (errno != EINVAL)
        return NULL;
    for (int ncpu = 2 * CPU_SETSIZE; ncpu <= (1 << 22); ncpu *= 2) {
        cpu_set_t *set = CPU_ALLOC((size_t)ncpu);
        if (!set)
            return NULL;
        *size = CPU_ALLOC_SIZE((size_t)ncpu);
        if (sched_getaffinity(0, *size, set) == 0)
            return set;
        CPU_FREE(set);
        if (errno != EINVAL)
            return NULL;
    }
    return NULL;
}

static void put_affinity(cpu_set_t *set, cpu_set_t *local)
{
    if (set && set != local)
        CPU_FREE(set);
}

static hwloc_bitmap_t affinity_bitmap(void)
{
    size_t size;
    cpu_set_t local, *set = get_affinity(&size, &local);
    hwloc_bitmap_t b = set ? hwloc_bitmap_alloc() : NULL;
    if (!b) {
        put_affinity(set, &local);
        return NULL;
    }
    for (size_t i = 0; i < size * 8; i++)
        if (CPU_ISSET_S(i, size, set))
            hwloc_bitmap_set(b, (unsigned)i);
    put_affinity(set, &local);
    return b;
}

/* The cpus the teams the caller opens may use: with binding, its place partition (the
   master's own thread is bound to one place after its first region, but its teams still
   span the partition); without, the calling thread's affinity mask.  NULL on failure. */
static hwloc_bitmap_t team_cpus(void)
{
    if (!binds(bind_at(1)) || st.places_state <= 0)
        return affinity_bitmap();
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    if (!b)
        return NULL;
    fmp__placement pl = placement_at(fmp__g.cur ? fmp__g.cur->level : 0);
    for (int k = 0; k < pl.part_len; k++)
        hwloc_bitmap_or(b, b, st.places[(pl.part_first + k) % st.nplaces]);
    return b;
}

/* The count of team_cpus, read at every region: without binding, no allocation. */
int fmp__affinity_count(void)
{
    if (binds(bind_at(1)) && st.places_state > 0) {
        hwloc_bitmap_t b = team_cpus();
        int n = b ? hwloc_bitmap_weight(b) : 1;
        hwloc_bitmap_free(b);
        return n > 0 ? n : 1;
    }
    size_t size;
    cpu_set_t local, *set = get_affinity(&size, &local);
    if (!set)
        return 1;
    int n = CPU_COUNT_S(size, set);
    put_affinity(set, &local);
    return n > 0 ? n : 1;
}

void fmp__cpulist(char *buf, size_t len, hwloc_const_bitmap_t set)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    if (set && hwloc_bitmap_list_snprintf(buf, len, set) < 0)
        buf[0] = '\0';
}

/* Cores with a PU in set (PUs on a machine that reports no cores); -1 without a
   topology. */
static int count_cores(hwloc_const_bitmap_t set)
{
    hwloc_bitmap_t cores = ensure_topology() < 0 ? NULL : hwloc_bitmap_alloc();
    if (!cores)
        return -1;
    for (int i = hwloc_bitmap_first(set); i >= 0 && i < st.m.npus; i = hwloc_bitmap_next(set, i))
        if (st.m.pu[i][FMP__HOLD_CORE] >= 0)
            hwloc_bitmap_set(cores, (unsigned)st.m.pu[i][FMP__HOLD_CORE]);
    int n = hwloc_bitmap_weight(cores);
    hwloc_bitmap_free(cores);
    return n;
}

void fmp__check_oversubscription(int n)
{
    map_warning_flag();
    if (n <= 1 || already_warned())
        return;
    if (n <= fmp__affinity_count())
        return; /* every region: the cpus are counted without building their set */
    hwloc_bitmap_t mine = team_cpus();
    if (!mine)
        return;
    int pus = hwloc_bitmap_weight(mine);
    if (pus < 1 || n <= pus || !take_warning()) {
        hwloc_bitmap_free(mine);
        return;
    }
    char cpus[128], what[192];
    fmp__cpulist(cpus, sizeof cpus, mine);
    int cores = count_cores(mine);
    if (cores > 0 && cores != pus)
        snprintf(what, sizeof what, FMP__MSG_oversubscribed_smt, cores, cores > 1 ? "s" : "", pus,
                 cpus);
    else
        snprintf(what, sizeof what, FMP__MSG_oversubscribed_cores, pus, pus > 1 ? "s" : "", cpus);
    /* with every cpu of the machine, more cores per rank is no advice to give */
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online > 0 && pus >= online)
        FMP__SAY(oversubscribed_machine, n, what, pus);
    else
        FMP__SAY(oversubscribed, n, what, pus, n, n, n);
    hwloc_bitmap_free(mine);
}

/* One field of an affinity format: its value as text. */
static int affinity_field(char key, const char *name, size_t nlen, const fmp__affinity_info *ai,
                          char *v, size_t vlen, int *numeric)
{
    static const struct {
        char key;
        const char *name;
    } fields[] = {{'t', "team_num"},
                  {'T', "num_teams"},
                  {'L', "nesting_level"},
                  {'n', "thread_num"},
                  {'N', "num_threads"},
                  {'a', "ancestor_tnum"},
                  {'H', "host"},
                  {'P', "process_id"},
                  {'i', "native_thread_id"},
                  {'A', "thread_affinity"},
                  {'r', "rank"}};
    if (name) {
        key = 0;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0] && !key; i++)
            if (strlen(fields[i].name) == nlen && strncmp(fields[i].name, name, nlen) == 0)
                key = fields[i].key;
    }
    long num = 0;
    *numeric = 1;
    switch (key) {
    case 't':
        num = 0;
        break;
    case 'T':
        num = 1;
        break;
    case 'L':
        num = ai->level;
        break;
    case 'n':
        num = ai->me;
        break;
    case 'N':
        num = ai->n;
        break;
    case 'a':
        num = ai->ancestor;
        break;
    case 'P':
    case 'i':
        num = ai->pid;
        break;
    case 'r':
        num = ai->rank;
        break;
    case 'H':
    case 'A': {
        const char *text = key == 'H' ? ai->host : ai->cpus;
        *numeric = 0;
        snprintf(v, vlen, "%s", text ? text : "");
        return 0;
    }
    default:
        return FMP_EINVAL;
    }
    snprintf(v, vlen, "%ld", num);
    return 0;
}

int fmp__affinity_format(char *buf, size_t len, const char *fmt, const fmp__affinity_info *ai)
{
    size_t o = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (o + 1 < len)                                                                           \
            buf[o] = (c);                                                                          \
        o++;                                                                                       \
    } while (0)
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            PUT(*p);
            continue;
        }
        p++;
        if (*p == '%') {
            PUT('%');
            continue;
        }
        int zero = 0, right = 0, width = 0;
        if (*p == '0') {
            zero = right = 1;
            p++;
        }
        if (*p == '.') {
            right = 1;
            p++;
        }
        while (*p >= '0' && *p <= '9' && width < 1000)
            width = width * 10 + (*p++ - '0');
        const char *name = NULL;
        size_t nlen = 0;
        char key = *p;
        if (*p == '{') {
            name = p + 1;
            const char *e = strchr(name, '}');
            if (!e)
                return FMP_EINVAL;
            nlen = (size_t)(e - name);
            p = e;
        } else if (!*p) {
            return FMP_EINVAL;
        }
        char v[512];
        int numeric;
        if (affinity_field(key, name, nlen, ai, v, sizeof v, &numeric) < 0)
            return FMP_EINVAL;
        int vl = (int)strlen(v), pad = width > vl ? width - vl : 0;
        const char *q = v;
        if (right && zero && numeric && *q == '-') { /* the sign before the zeros */
            PUT('-');
            q++;
        }
        for (int i = 0; right && i < pad; i++)
            PUT(zero && numeric ? '0' : ' ');
        for (; *q; q++)
            PUT(*q);
        for (int i = 0; !right && i < pad; i++)
            PUT(' ');
    }
#undef PUT
    if (len > 0)
        buf[o < len ? o : len - 1] = '\0';
    return (int)(o > INT_MAX ? INT_MAX : o);
}

int fmp__affinity_format_check(const char *fmt)
{
    fmp__affinity_info ai = {"host", 1, -1, 1, 0, 1, 0, "0"};
    char buf[64];
    return fmp__affinity_format(buf, sizeof buf, fmt, &ai) < 0 ? FMP_EINVAL : 0;
}

void fmp__display_affinity(int level, int me, int n)
{
    if (!fmp__g_icv.display_affinity)
        return;
    char host[256] = "", cpus[512] = "", line[2048];
    if (gethostname(host, sizeof host - 1) < 0)
        snprintf(host, sizeof host, "?");
    hwloc_bitmap_t mine = affinity_bitmap();
    fmp__cpulist(cpus, sizeof cpus, mine);
    hwloc_bitmap_free(mine);
    int anc = 0;
    for (const fmp__ctx *c = fmp__g.cur; c; c = c->parent)
        if (c->level == level - 1) {
            anc = c->me;
            break;
        }
    fmp__affinity_info ai = {host, (long)getpid(), fmp__g.rank, level, me, n, anc, cpus};
    const char *fmt = fmp__g_icv.affinity_format;
    if (!*fmt)
        fmt = fmp__g.rank >= 0 ? FMP__AFFINITY_FORMAT_MPI : FMP__AFFINITY_FORMAT_DEFAULT;
    int len = fmp__affinity_format(line, sizeof line - 1, fmt, &ai);
    if (len < 0)
        return;
    size_t l = strlen(line);
    line[l] = '\n';
    line[l + 1] = '\0';
    write_line(line);
}

/* ------------------------------------------------------------------------------------
 * forkmp-info: where a team would run
 * ------------------------------------------------------------------------------------ */

void fmp__topo_describe(fmp__info *out, int flags)
{
    int n = out->team;
    out->bind = bind_at(1);
    if (ensure_topology() < 0)
        return;
    fmp__cpulist(out->cpus, sizeof out->cpus, st.initial);
    out->pus = hwloc_bitmap_weight(st.initial);
    out->cores = count_cores(st.initial);
    if (!binds(out->bind) || n < 1 || ensure_places() < 0)
        return;
    out->nplaces = st.nplaces;
    /* each member's place, as fmp__bind_member() would bind it */
    unsigned char *seen = calloc((size_t)st.nplaces, 1);
    if (!seen)
        return;
    size_t o = 0, len = sizeof out->members;
    int first = -1;
    for (int me = 0; me < n; me++) {
        int place = member_place(1, me, n);
        if (place < 0)
            continue;
        if (first < 0)
            first = place;
        out->distinct += !seen[place];
        seen[place] = 1;
        char set[256];
        fmp__cpulist(set, sizeof set, st.places[place]);
        if (o < len)
            o += (size_t)snprintf(out->members + o, len - o, "%s{%s}", me ? "," : "", set);
    }
    free(seen);
    if (o >= len && len > 4)
        memcpy(out->members + len - 4, "...", 4);
    if (!(flags & FMP__INFO_WARN) || n < 2 || out->distinct >= n || first < 0)
        return;
    const char *spec = *fmp__g_icv.places ? fmp__g_icv.places : "cores";
    if (out->distinct == 1) {
        char set[256];
        fmp__cpulist(set, sizeof set, st.places[first]);
        FMP__SAY(team_one_place, n, set, spec);
    } else {
        FMP__SAY(team_shared_places, n, out->distinct, spec);
    }
}
