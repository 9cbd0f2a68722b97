/* Fork safety under MPI: what is known to break fork() after MPI_Init, said once.
 *
 * Forking after MPI_Init is safe with shared memory and TCP transports: children never
 * call MPI, and the pages MPI uses are copied on write like any other.  RDMA fabrics
 * differ: memory registered with the network card is pinned, and after fork() the
 * parent's next write to such a page gets a copy the card does not see (silent
 * corruption) unless the library asked for fork support (libibverbs' ibv_fork_init(), set
 * by RDMAV_FORK_SAFE / IBV_FORK_SAFE, which UCX calls itself unless UCX_IB_FORK_INIT=no),
 * or the kernel copies DMA pages at fork (Linux 5.13 on: ibv_is_fork_initialized() says
 * IBV_FORK_UNNEEDED).  libfabric's EFA provider goes further: it aborts the process at
 * fork() unless FI_EFA_FORK_SAFE=1.  These settings act only when the program starts
 * (before the first memory registration), so the advice names the environment.
 *
 * Which fabric is in use is read from /proc/self/maps after MPI_Init: Open MPI unloads
 * the components it did not select, so libibverbs, libucp or libefa being mapped means
 * they are in use.  Shared memory and TCP: nothing to say. */
#include "hybrid.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int mapped(const char *maps, const char *lib)
{
    return maps && strstr(maps, lib) != NULL;
}

/* A variable set to a true value ("1", "y", "yes", "true", "on"; RDMAV_FORK_SAFE: any). */
static int is_true(const char *v)
{
    if (!v || !*v)
        return 0;
    return strcmp(v, "0") != 0 && strcasecmp(v, "n") != 0 && strcasecmp(v, "no") != 0 &&
           strcasecmp(v, "false") != 0 && strcasecmp(v, "off") != 0;
}

static const char *no_env(const char *name)
{
    (void)name;
    return NULL;
}

int fmp__mpi_fork_verdict(const char *maps, const char *(*getenv_fn)(const char *),
                          int ibv_status, const char *lib, char *advice, size_t len)
{
    if (!getenv_fn)
        getenv_fn = no_env;
    if (!lib || !*lib)
        lib = "the MPI library";
    int verbs = mapped(maps, "libibverbs.so");
    int ucx = mapped(maps, "libucp.so") || mapped(maps, "mca_pml_ucx.so");
    int efa = mapped(maps, "libefa.so");
    int problems = 0;

    if (ibv_status != FMP__IBV_UNNEEDED) {
        if (verbs) {
            int on;
            if (ibv_status == FMP__IBV_ENABLED)
                on = 1;
            else if (ibv_status == FMP__IBV_DISABLED)
                on = 0;
            else /* libibverbs too old to say: judge from the environment */
                on = getenv_fn("RDMAV_FORK_SAFE") || getenv_fn("IBV_FORK_SAFE") ||
                     (ucx && (!getenv_fn("UCX_IB_FORK_INIT") ||
                              is_true(getenv_fn("UCX_IB_FORK_INIT"))));
            if (!on)
                problems |= FMP__FORK_VERBS;
        }
        if (efa && !is_true(getenv_fn("FI_EFA_FORK_SAFE")))
            problems |= FMP__FORK_EFA;
    }
    if (!problems || !advice || len == 0)
        return problems;

    /* One sentence: what is in use, what goes wrong, exactly what to set. */
    char set[160] = "", opts[200] = "";
    if (problems & FMP__FORK_VERBS) {
        strcat(set, "RDMAV_FORK_SAFE=1");
        strcat(opts, "-x RDMAV_FORK_SAFE=1");
        if (ucx) {
            strcat(set, " and UCX_IB_FORK_INIT=y");
            strcat(opts, " -x UCX_IB_FORK_INIT=y");
        }
    }
    if (problems & FMP__FORK_EFA) {
        if (*set) {
            strcat(set, " and ");
            strcat(opts, " ");
        }
        strcat(set, "FI_EFA_FORK_SAFE=1");
        strcat(opts, "-x FI_EFA_FORK_SAFE=1");
    }
    const char *what, *harm;
    if (problems & FMP__FORK_EFA) {
        what = "libfabric's EFA provider";
        harm = FMP__MSG_mpi_fork_harm_efa;
    } else {
        what = ucx ? "UCX over InfiniBand/RoCE verbs" : "InfiniBand/RoCE verbs";
        harm = FMP__MSG_mpi_fork_harm_verbs;
    }
    snprintf(advice, len, FMP__MSG_mpi_fork_unsafe, lib, what, harm, set, opts);
    return problems;
}

static const char *env_getter(const char *name)
{
    return getenv(name);
}

/* The whole of /proc/self/maps, malloc'ed; NULL on failure. */
static char *read_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (n + 1 < cap)
            break;
        char *b = realloc(buf, cap * 2);
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

int fmp__mpi_fork_check(char *advice, size_t len)
{
    char *maps = read_maps();
    int status = FMP__IBV_UNKNOWN;
    if (maps && strstr(maps, "libibverbs.so")) {
        /* libibverbs is already loaded: ask it, without linking to it */
        int (*is_fork_init)(void) = (int (*)(void))dlsym(RTLD_DEFAULT,
                                                          "ibv_is_fork_initialized");
        if (is_fork_init) {
            int s = is_fork_init();
            if (s >= FMP__IBV_DISABLED && s <= FMP__IBV_UNNEEDED)
                status = s;
        }
    }
    char lib[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int l = 0;
    MPI_Get_library_version(lib, &l);
    lib[strcspn(lib, ",\n")] = '\0'; /* "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4" */
    int problems = fmp__mpi_fork_verdict(maps, env_getter, status, lib, advice, len);
    free(maps);
    return problems;
}
