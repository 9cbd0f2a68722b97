/* The node's census (src/census.c): one segment for all the ranks of a node, set up by
 * fmp_mpi_init() on the node's communicator.  Local rank 0 creates a POSIX shared memory
 * object under a name of its own (pid, clock), sizes it for a slot per local rank and
 * fills in the cpus of the node's ranks; the name goes to the others by MPI_Bcast; each
 * maps it, and once all have mapped it (or one failed) rank 0 unlinks the name: from
 * then on the segment has no name, and goes with the last process that maps it, however
 * the job ends.  Only a crash of the ranks between the creation and the unlink (one
 * collective call) could leave it in /dev/shm.  When any rank of the node cannot map it,
 * no rank of the node uses it: each counts its own process tree, as without MPI. */
#include "hybrid.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

void fmp__mpi_census(MPI_Comm node, int lrank, int lsize, int node_cpus)
{
    size_t bytes =
        sizeof(fmp__census_node) + (size_t)lsize * sizeof(((fmp__census_node *)0)->slot[0]);
    char name[64] = "";
    fmp__census_node *seg = NULL;
    int fd = -1;
    if (lrank == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(name, sizeof name, "/forkmp-census-%ld-%lx", (long)getpid(),
                 (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec);
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0)
            name[0] = '\0';
        else if (ftruncate(fd, (off_t)bytes) < 0) {
            shm_unlink(name);
            name[0] = '\0';
        }
    }
    if (MPI_Bcast(name, (int)sizeof name, MPI_CHAR, 0, node) != MPI_SUCCESS)
        name[0] = '\0';
    if (name[0] && lrank != 0)
        fd = shm_open(name, O_RDWR, 0);
    if (name[0] && fd >= 0) {
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        seg = p == MAP_FAILED ? NULL : p;
    }
    if (fd >= 0)
        close(fd);
    if (seg && lrank == 0) { /* zero-filled by ftruncate */
        seg->cpus = node_cpus;
        seg->nslots = lsize;
    }
    int ok = seg != NULL, all = 0;
    if (MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, node) != MPI_SUCCESS)
        all = 0;
    if (lrank == 0 && name[0])
        shm_unlink(name);
    if (!all) {
        if (seg)
            munmap(seg, bytes);
        return;
    }
    fmp__core->census_attach(seg, lrank);
    MPI_Barrier(node); /* every rank's count is in the sum */
}

/* Open MPI yields the cpu in its progress loop (mpi_yield_when_idle) when it sees more
   ranks than slots, not when forkmp's members fill the cpus.  While the census says so
   (and neither FMP_WAIT_POLICY=active, FMP_SPIN_COUNT nor the variable itself was
   given), the rank's MPI calls yield too; they stop when the members are gone.  Looked
   at by fmp_mpi_init, before the rank's collectives, and whenever the verdict changes in
   the rank's process (the core calls back: a team forked or joined).  Other MPI
   libraries: nothing is done. */
static bool (*g_set_yield)(bool);
static int g_yield = -1; /* -1 not looked up; 0 not ours to change; 1 ours */
static int g_yielding, g_watching;

void fmp__mpi_census_yield(void)
{
    if (g_yield < 0) {
        g_yield = 0;
        if (!getenv("OMPI_MCA_mpi_yield_when_idle")) {
            *(void **)&g_set_yield = dlsym(RTLD_DEFAULT, "opal_progress_set_yield_when_idle");
            g_yield = g_set_yield != NULL;
        }
    }
    if (!g_yield)
        return;
    if (!g_watching) {
        g_watching = 1;
        fmp__core->census_watch(fmp__mpi_census_yield);
    }
    int want = fmp__core->census_throttled();
    if (want != g_yielding) {
        g_set_yield(want);
        g_yielding = want;
    }
}
