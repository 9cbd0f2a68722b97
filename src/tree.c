/* Combining trees for the barrier and the small reductions of big teams.
 *
 * A team of FMP_BARRIER_TREE members or more (16 by default) arrives at its barriers
 * through a tree instead of one counter: each member adds one to the counter of its leaf
 * (at most FMP__TREE_FANIN members a leaf), the last to arrive at a node goes on to the
 * node's parent, and the last to arrive at the root is the barrier's last arriver (it
 * drains the tasks, checks the members' constructs and releases the team, as with the
 * flat counter).  So no cache line takes more than FMP__TREE_FANIN arrivals a barrier,
 * and on a machine of several NUMA nodes a leaf's members share a last-level cache or a
 * NUMA node: the nodes follow the topology (topo.c gives the shape: L3 caches, then NUMA
 * nodes, then packages, each split into nodes of at most FMP__TREE_FANIN children), and
 * every node lives in a page of its own, bound to the NUMA node of its members.
 *
 * Each member's barrier record (what it met before the barrier, fmp__barrec) is in its
 * leaf's page too, so that what a member writes at every barrier is in memory of its own
 * NUMA node.
 *
 * A small reduction (at most FMP__INLINE_SCRATCH bytes a member) rides on the arrival:
 * each member writes its contribution into its leaf's page (memory of its own NUMA
 * node); for exact combinations (integers, booleans, integer pairs: the bits do not
 * depend on the order) the last arriver at each node combines its children into the
 * node's partial, so the root's partial is the result after log(n) steps; for floating
 * types the last arriver at the root combines every member's contribution in member
 * order, as the contract promises, once for the team rather than once in every member.
 * Every member copies the root's partial after the release.
 *
 * One buffer of each kind is enough: a contribution is written after the release of the
 * previous barrier and read before the release of this one; a partial is written by the
 * last arriver at its node, when every member below it has arrived (and so has read the
 * previous result). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096u

/* ------------------------------------------------------------------------------------
 * The shape, from the members' keys at each level of the topology (pure)
 * ------------------------------------------------------------------------------------ */

typedef struct builder {
    fmp__tree_shape *s;
} builder;

static int new_node(builder *b, int leafy, const int *kids, int nkids)
{
    fmp__tree_shape *s = b->s;
    int k = s->nnodes++;
    s->parent[k] = -1;
    s->leafy[k] = leafy;
    s->nkids[k] = nkids;
    for (int i = 0; i < nkids; i++) {
        s->kids[k * FMP__TREE_FANIN + i] = kids[i];
        if (leafy) {
            s->leaf[kids[i]] = k;
            s->pos[kids[i]] = i;
        } else {
            s->parent[kids[i]] = k;
        }
    }
    return k;
}

/* One node over units (members when leafy, else nodes), split into nodes of at most
   FMP__TREE_FANIN children; units is overwritten. */
static int group(builder *b, int leafy, int *units, int nunits)
{
    while (nunits > FMP__TREE_FANIN) {
        int out = 0;
        for (int i = 0; i < nunits; i += FMP__TREE_FANIN) {
            int len = nunits - i < FMP__TREE_FANIN ? nunits - i : FMP__TREE_FANIN;
            units[out++] = new_node(b, leafy, units + i, len);
        }
        nunits = out;
        leafy = 0;
    }
    return new_node(b, leafy, units, nunits);
}

static int distinct(const int *key, int n)
{
    int d = 0;
    for (int m = 0; m < n; m++) {
        int seen = 0;
        for (int j = 0; j < m && !seen; j++)
            seen = key[j] == key[m];
        d += !seen;
    }
    return d;
}

void fmp__tree_shape_free(fmp__tree_shape *s)
{
    free(s->parent);
    memset(s, 0, sizeof *s);
}

int fmp__tree_build(int n, int nlevels, const int *keys, const int *numa, fmp__tree_shape *s)
{
    memset(s, 0, sizeof *s);
    if (n < 1)
        return FMP_EINVAL;
    /* at most n leaves, then a node for every FANIN below it: < 2n nodes */
    int cap = 2 * n + 1;
    int *mem = malloc(sizeof(int) * ((size_t)cap * (5 + FMP__TREE_FANIN) + 7 * (size_t)n));
    if (!mem)
        return FMP_ENOMEM;
    s->n = n;
    s->parent = mem;
    s->nkids = s->parent + cap;
    s->leafy = s->nkids + cap;
    s->numa = s->leafy + cap;
    s->depth = s->numa + cap;
    s->kids = s->depth + cap;
    s->leaf = s->kids + (size_t)cap * FMP__TREE_FANIN;
    s->pos = s->leaf + n;
    int *units = s->pos + n;   /* the current level's units */
    int *unit_rep = units + n; /* a member of each unit, for its keys */
    int *done = unit_rep + n;  /* a level's work: units grouped already, */
    int *pick = done + n;      /* the units of one group, */
    int *rep = pick + n;       /* the next level's unit_rep */
    builder b = {s};
    int nunits = n;
    for (int m = 0; m < n; m++)
        units[m] = unit_rep[m] = m;
    /* the levels from the one with the most groups down: the caller's order is the
       usual nesting (L3 in NUMA node in package), but a NUMA node may be finer than an
       L3 cache (Intel's sub-NUMA clusters) */
    int order[8], dist[8];
    if (nlevels > 8)
        nlevels = 8;
    for (int l = 0; l < nlevels; l++) {
        const int *key = keys + (size_t)l * n;
        int ok = 1;
        for (int m = 0; m < n && ok; m++)
            ok = key[m] >= 0;
        dist[l] = ok ? distinct(key, n) : 0;
        int j = l;
        for (; j > 0 && dist[order[j - 1]] < dist[l]; j--)
            order[j] = order[j - 1];
        order[j] = l;
    }
    int leafy = 1, kept = n;
    for (int li = 0; li < nlevels; li++) {
        const int *key = keys + (size_t)order[li] * n;
        int d = dist[order[li]];
        if (d < 2 || d >= kept)
            continue; /* not known for every member, one group, or no coarser */
        /* the units of each group, in the order of their first member */
        int nnew = 0;
        memset(done, 0, sizeof(int) * (size_t)nunits);
        for (int i = 0; i < nunits; i++) {
            if (done[i])
                continue;
            int g = key[unit_rep[i]], np = 0;
            for (int j = i; j < nunits; j++)
                if (!done[j] && key[unit_rep[j]] == g) {
                    done[j] = 1;
                    pick[np++] = units[j];
                }
            if (np == 1 && !leafy) {
                rep[nnew] = unit_rep[i]; /* a lone node goes up as it is */
                units[nnew++] = pick[0];
                continue;
            }
            rep[nnew] = unit_rep[i];
            units[nnew++] = group(&b, leafy, pick, np);
        }
        memcpy(unit_rep, rep, sizeof(int) * (size_t)nnew);
        nunits = nnew;
        leafy = 0;
        kept = d;
    }
    if (leafy || nunits > 1)
        group(&b, leafy, units, nunits);
    /* the root was made last: number the nodes from it down */
    int nn = s->nnodes;
    for (int k = 0; k < nn; k++) {
        s->parent[k] = s->parent[k] < 0 ? -1 : nn - 1 - s->parent[k];
        if (!s->leafy[k])
            for (int i = 0; i < s->nkids[k]; i++)
                s->kids[k * FMP__TREE_FANIN + i] = nn - 1 - s->kids[k * FMP__TREE_FANIN + i];
    }
    for (int lo = 0, hi = nn - 1; lo < hi; lo++, hi--) {
        int t;
#define SWAP(a) (t = (a)[lo], (a)[lo] = (a)[hi], (a)[hi] = t)
        SWAP(s->parent);
        SWAP(s->nkids);
        SWAP(s->leafy);
#undef SWAP
        for (int i = 0; i < FMP__TREE_FANIN; i++) {
            t = s->kids[lo * FMP__TREE_FANIN + i];
            s->kids[lo * FMP__TREE_FANIN + i] = s->kids[hi * FMP__TREE_FANIN + i];
            s->kids[hi * FMP__TREE_FANIN + i] = t;
        }
    }
    for (int m = 0; m < n; m++)
        s->leaf[m] = nn - 1 - s->leaf[m];
    /* depth and NUMA node: parents come before their children now */
    for (int k = 0; k < nn; k++) {
        s->depth[k] = k == 0 ? 0 : s->depth[s->parent[k]] + 1;
        s->numa[k] = -2; /* nothing yet */
    }
    for (int m = 0; m < n; m++) {
        int v = numa ? numa[m] : -1;
        for (int k = s->leaf[m]; k >= 0; k = s->parent[k])
            s->numa[k] = s->numa[k] == -2 || s->numa[k] == v ? v : -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------
 * A team's tree, in the arena
 * ------------------------------------------------------------------------------------ */

typedef struct fmp__tnode {
    _Atomic uint32_t arrived;
    int parent;
    int expected; /* members or nodes below it */
    int leafy;
    int kids[FMP__TREE_FANIN];
    unsigned char partial[FMP__INLINE_SCRATCH] FMP__ALIGNED;
    unsigned char contrib[FMP__TREE_FANIN][FMP__INLINE_SCRATCH] FMP__ALIGNED; /* leafy */
    fmp__barrec rec[FMP__TREE_FANIN];        /* leafy: its members' barrier records */
} __attribute__((aligned(PAGE))) fmp__tnode; /* a page each: bound to its NUMA node */
_Static_assert(sizeof(fmp__tnode) == PAGE, "a tree node is a page");

typedef struct fmp__tree fmp__tree;
struct fmp__tree {
    void *block; /* the arena allocation */
    int n, nnodes;
    int bound;         /* some node pages were bound to a NUMA node */
    fmp__tnode *nodes; /* a page each, node 0 the root */
    int *leaf, *pos;   /* per member */
};

static fmp__tree_shape g_shape; /* the last shape, kept while the team's places repeat */
static int *g_shape_places;

void fmp__tree_attach(fmp__shteam *t)
{
    int n = t->n;
    if (fmp__g_icv.barrier_tree == 0 || n < fmp__g_icv.barrier_tree)
        return;
    int *places = malloc(sizeof(int) * (size_t)n);
    if (!places)
        return;
    fmp__topo_member_places(t->level, n, places);
    if (!g_shape.parent || g_shape.n != n ||
        memcmp(places, g_shape_places, sizeof(int) * (size_t)n) != 0) {
        fmp__tree_shape_free(&g_shape);
        free(g_shape_places);
        g_shape_places = NULL;
        if (fmp__topo_places_tree(places, n, &g_shape) != 0) {
            free(places);
            return;
        }
        g_shape_places = places;
    } else {
        free(places);
    }
    const fmp__tree_shape *s = &g_shape;
    size_t head = sizeof(fmp__tree) + 2 * sizeof(int) * (size_t)n;
    size_t bytes = head + PAGE + (size_t)s->nnodes * PAGE;
    char *block = fmp__arena_alloc(bytes);
    if (!block)
        return; /* the flat counter will do */
    fmp__tree *tr = (fmp__tree *)block;
    tr->block = block;
    tr->n = n;
    tr->nnodes = s->nnodes;
    tr->leaf = (int *)(tr + 1);
    tr->pos = tr->leaf + n;
    memcpy(tr->leaf, s->leaf, sizeof(int) * (size_t)n);
    memcpy(tr->pos, s->pos, sizeof(int) * (size_t)n);
    uintptr_t first = ((uintptr_t)block + head + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
    tr->nodes = (fmp__tnode *)first;
    for (int k = 0; k < s->nnodes; k++) {
        fmp__tnode *nd = &tr->nodes[k];
        /* a node is a page where the system's pages are 4 KiB (elsewhere nodes share
           pages, and stay where they are) */
        if (s->numa[k] >= 0 && sysconf(_SC_PAGESIZE) == PAGE)
            tr->bound |= fmp__topo_membind(nd, PAGE, s->numa[k]);
        nd->parent = s->parent[k];
        nd->expected = s->nkids[k];
        nd->leafy = s->leafy[k];
        memcpy(nd->kids, s->kids + k * FMP__TREE_FANIN, sizeof nd->kids);
    }
    t->tree = tr;
}

void fmp__tree_detach(fmp__shteam *t)
{
    fmp__tree *tr = t->tree;
    if (!tr)
        return;
    /* the arena is one shared object: a NUMA policy set on its pages stays with them
       after the block is given back */
    if (tr->bound)
        fmp__topo_membind(tr->nodes, (size_t)tr->nnodes * PAGE, -1);
    fmp__arena_free(tr->block);
    t->tree = NULL;
}

void *fmp__tree_contrib(fmp__shteam *t, int me)
{
    fmp__tree *tr = t->tree;
    return tr->nodes[tr->leaf[me]].contrib[tr->pos[me]];
}

fmp__barrec *fmp__tree_barrec(fmp__shteam *t, int m)
{
    fmp__tree *tr = t->tree;
    return &tr->nodes[tr->leaf[m]].rec[tr->pos[m]];
}

const void *fmp__tree_result(fmp__shteam *t)
{
    return t->tree->nodes[0].partial;
}

/* The last arriver at nd: its children's values into its partial. */
static void fold_node(fmp__tree *tr, fmp__tnode *nd, const fmp__fold *f)
{
    const void *first, *second;
    int leafy = nd->leafy;
#define VAL(i) (leafy ? (const void *)nd->contrib[i] : (const void *)tr->nodes[nd->kids[i]].partial)
    first = VAL(0);
    if (nd->expected == 1) {
        memcpy(nd->partial, first, f->bytes);
        return;
    }
    second = VAL(1);
    f->to(nd->partial, first, second, f->count, f->op);
    for (int i = 2; i < nd->expected; i++)
        f->f(nd->partial, VAL(i), f->count, f->op);
#undef VAL
}

/* The root's last arriver, for an order-sensitive combination: every contribution in
   member order. */
static void fold_members(fmp__tree *tr, const fmp__fold *f)
{
    unsigned char *acc = tr->nodes[0].partial;
    const void *c0 = tr->nodes[tr->leaf[0]].contrib[tr->pos[0]];
    if (tr->n == 1) {
        memcpy(acc, c0, f->bytes);
        return;
    }
    f->to(acc, c0, tr->nodes[tr->leaf[1]].contrib[tr->pos[1]], f->count, f->op);
    for (int m = 2; m < tr->n; m++)
        f->f(acc, tr->nodes[tr->leaf[m]].contrib[tr->pos[m]], f->count, f->op);
}

int fmp__tree_arrive(fmp__shteam *t, int me, const fmp__fold *f)
{
    fmp__tree *tr = t->tree;
    int k = tr->leaf[me];
    for (;;) {
        fmp__tnode *nd = &tr->nodes[k];
        if (atomic_fetch_add(&nd->arrived, 1) + 1 < (uint32_t)nd->expected)
            return 0;
        /* the last here: nobody arrives at this node again before the release */
        atomic_store_explicit(&nd->arrived, 0, memory_order_relaxed);
        if (f && f->bytes && f->exact)
            fold_node(tr, nd, f);
        if (nd->parent < 0)
            break;
        k = nd->parent;
    }
    if (f && f->bytes && !f->exact)
        fold_members(tr, f);
    return 1;
}
