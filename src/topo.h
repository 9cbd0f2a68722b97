/* Topology and binding (topo.c): the pure placement functions, for the tests.  The
 * runtime's entry points are in internal.h (fmp__topo_prepare, fmp__bind_member, ...). */
#ifndef FMP_TOPO_H
#define FMP_TOPO_H

#include "internal.h" /* first: it defines _GNU_SOURCE */

#include <hwloc.h>

/* Where one member runs, as indices into a list of P places: its place (-1: not bound)
   and its place partition, the places part_first, part_first + 1, ... (part_len of them,
   modulo P), inside which a team it opens is placed (OpenMP's place-partition-var). */
typedef struct fmp__placement {
    int place;
    int part_first;
    int part_len;
} fmp__placement;

/* The places of spec ("" or NULL: cores) inside allowed: every place is intersected with
   allowed and empty ones are dropped, so no place ever leaves it.  Explicit lists name
   PUs by OS index.  On success *places holds *nplaces bitmaps (possibly 0 of them) to be
   given back with fmp__topo_places_free().  Returns 0, FMP_EINVAL (bad spec), FMP_ENOMEM. */
int fmp__topo_places(hwloc_topology_t topo, hwloc_const_cpuset_t allowed, const char *spec,
                     hwloc_bitmap_t **places, int *nplaces);
void fmp__topo_places_free(hwloc_bitmap_t *places, int nplaces);

/* OpenMP's placement rules: member me of a team of n opened by a process placed at
   parent, in a list of nplaces places, under bind (enum fmp__bind).  close (and true):
   member i on the place i after the parent's, T/P consecutive members a place when the
   team outnumbers the partition; spread: the partition cut in n sub-partitions of
   consecutive places, member i on the first place of the i-th, starting at the parent's
   place; primary: every member on the parent's place.  A parent with place -1 counts as
   being on the first place of its partition.  false / unset: out = parent, not bound. */
void fmp__topo_place_member(int nplaces, fmp__placement parent, int bind, int n, int me,
                            fmp__placement *out);

/* The core piece: the cpusets of the n members of a team opened by an unbound process
   whose cpuset is allowed, for places spec and policy bind.  out[0..n) must be allocated
   bitmaps.  No binding (false / unset): every out[i] is allowed.  Returns 0, FMP_EINVAL
   (bad spec, no place inside allowed, n < 1) or FMP_ENOMEM. */
int fmp__topo_assign(hwloc_topology_t topo, hwloc_const_cpuset_t allowed, const char *spec,
                     int bind, int n, hwloc_bitmap_t *out);

/* The shape of a team's combining tree (tree.c) for n members bound to cpus[m] (NULL:
   not bound): grouped by L3 cache, then NUMA node, then package, where the members'
   cpusets lie inside those; numa names NUMA nodes by logical index.  Members that are not
   all bound get a tree of FMP__TREE_FANIN members a leaf in member order.  0,
   FMP_EINVAL, FMP_ENOMEM. */
int fmp__topo_tree(hwloc_topology_t topo, const hwloc_const_bitmap_t *cpus, int n,
                   fmp__tree_shape *s);

/* What a process keeps of the machine once it has read the topology: the topology itself
   is destroyed at once (and with the process's last topology, hwloc's plugins and the
   libraries they bring: every warm region reads and scans the mappings of the process).
   Per PU, by OS index, the logical index of the objects that hold it (-1: none): its
   core (the PU itself on a machine that reports no cores), L3 cache, NUMA node (the
   first whose cpus include it) and package; the NUMA nodes' OS indexes by logical
   index. */
enum { FMP__HOLD_CORE, FMP__HOLD_L3, FMP__HOLD_NUMA, FMP__HOLD_PACKAGE, FMP__HOLDS };
typedef struct fmp__machine {
    int thissystem; /* the topology is this machine's (not HWLOC_SYNTHETIC, an XML of
                       another): binding and NUMA placement act only then, as hwloc's */
    int npus;
    int (*pu)[FMP__HOLDS];
    int nnuma;
    unsigned *numa_os;
} fmp__machine;

/* Read m from a loaded topology: 0 or FMP_ENOMEM. */
int fmp__machine_read(hwloc_topology_t topo, fmp__machine *m);
void fmp__machine_free(fmp__machine *m);

/* fmp__topo_tree on the machine m */
int fmp__machine_tree(const fmp__machine *m, const hwloc_const_bitmap_t *cpus, int n,
                      fmp__tree_shape *s);

/* What an FMP_AFFINITY_FORMAT line shows. */
typedef struct fmp__affinity_info {
    const char *host;
    long pid;
    int rank; /* -1: no MPI */
    int level, me, n;
    int ancestor;     /* member number at level - 1 */
    const char *cpus; /* "0-3,8" */
} fmp__affinity_info;

/* Expand fmt (OpenMP's affinity format: %[0][.][width]X or %[0][.][width]{name}) into buf.
   Returns the length it needed (as snprintf) or FMP_EINVAL for an unknown field. */
int fmp__affinity_format(char *buf, size_t len, const char *fmt, const fmp__affinity_info *ai);

/* "0-3,8" for a bitmap of PU numbers; buf always terminated. */
void fmp__cpulist(char *buf, size_t len, hwloc_const_bitmap_t set);

#endif /* FMP_TOPO_H */
