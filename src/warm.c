/* Warm regions: FMP_PARALLEL with fork's memory semantics, without a fork per region.
 *
 * The first warm region of a team size forks a pool of members once.  At every later
 * region each member is brought up to date with the master's private memory and resumes
 * inside the master's region, as a fork child would; at the region's end it goes back to
 * its park instead of exiting.
 *
 * Tracking.  The master registers every private writable mapping with a userfaultfd in
 * asynchronous write-protect mode (UFFD_FEATURE_WP_ASYNC): a write to a protected page
 * only clears the protection, no signal, no thread.  One PAGEMAP_SCAN ioctl then lists
 * the pages written since the last scan and protects them again.  A second scan with the
 * category inverted lists memory not registered yet (new mappings, a mapping replaced at
 * the same address, brk growth), which the master registers; those count as written.
 * Each member does the same with its own memory, so that what a body wrote is undone at
 * the next region.
 *
 * Sync, in the member, on its own stack in the tool reservation (never mirrored): it
 * makes its mappings those of the master (munmap, mmap, mprotect, brk), then copies with
 * process_vm_readv every page the master wrote, every page the member wrote, and all of
 * the master's populated pages in a mapping it had to create.  The code of the sync runs
 * on raw system calls: it may not write mirrored memory (errno, malloc, stdio) while the
 * copy is going on.  glibc caches the thread id in the thread's control block, which the
 * copy overwrites with the master's: the member patches its own back.
 *
 * Resuming: the master saves its context with sigsetjmp in warm_enter's frame and waits
 * until every member has synced (like a fork, it may not write before); a member jumps
 * to that context in its copy of the master's stack, with its member number as the
 * value, and returns from fmp__warm_enter as a fork child returns from fork().
 *
 * What is not memory follows fork's rules where it is mirrored (the signal mask, the
 * working directory, file descriptors) and is the pool's own otherwise (see
 * doc/porting.md, "Warm regions"); where the machinery cannot follow (another thread of
 * the master's ran while the members copied, memory pinned for a device, a mapping that
 * cannot be tracked, a kernel without the features), the region forks and, once, says
 * why under FMP_DISPLAY_ENV. */
#undef _FORTIFY_SOURCE /* the member's jump back to its park lowers the stack pointer */
#include "internal.h"
#include "messages.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "topo.h"

#if defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h> /* glibc 2.35: the thread's rseq area, __rseq_offset */
#define WARM_RSEQ 1
#endif
#endif
#ifndef WARM_RSEQ
#define WARM_RSEQ 0
#endif

#if defined(__x86_64__) && defined(__linux__) && defined(SYS_userfaultfd)
#define WARM_ARCH 1
#include <linux/userfaultfd.h>
#else
#define WARM_ARCH 0
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WARM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#define WARM_SANITIZED 1
#endif
#endif
#ifndef WARM_SANITIZED
#define WARM_SANITIZED 0
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define WARM_VALGRIND_H 1
#endif
#endif

#define g_mode (fmp__g_icv.region) /* FMP_REGION */
static char g_why[160];            /* why warm regions are not available, "" if they are */
static int g_probed;

#if WARM_ARCH

typedef uint64_t u64;

/* ---------------------------------------------------------------- kernel interfaces */

/* PAGEMAP_SCAN (Linux 6.7): the structures, as older headers lack them. */
struct w_page_region {
    u64 start, end, categories;
};
struct w_pm_scan_arg {
    u64 size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted,
        category_mask, category_anyof_mask, return_mask;
};
#define W_PAGEMAP_SCAN _IOWR('f', 16, struct w_pm_scan_arg)
#define W_SCAN_WP_MATCHING (1UL << 0)
#define W_PAGE_IS_WPALLOWED (1UL << 0)
#define W_PAGE_IS_WRITTEN (1UL << 1)
#define W_PAGE_IS_PRESENT (1UL << 3)
#define W_PAGE_IS_SWAPPED (1UL << 4)
#define W_FEATURE_WP_UNPOPULATED (1 << 13)
#define W_FEATURE_WP_ASYNC (1 << 15)
#define W_USER_MODE_ONLY 1 /* UFFD_USER_MODE_ONLY (5.11) */
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define PG 4096UL
#define UEND 0x7ffffffff000UL
#define MAXMAPS 8192
#define MAXR 65536
#define MAXSHARED 1024
#define NVEC 4096
#define NIOV 1024
#define PARK_STACK (256UL << 10)
#define RECYCLE_MIN ((u64)16 << 20) /* members' copies below this never renew the pool */
#define STICKY_PAGES 128 /* written pages left unprotected, copied again at each region */
/* FMP_REGION=auto: the master's writes that never make a region fork; above the sticky
   pages (listed at every region), or a region would fork for them alone */
#define AUTO_FORK_MIN ((u64)1 << 20)
_Static_assert(AUTO_FORK_MIN / PG >= 2 * STICKY_PAGES, "auto would fork for the sticky pages");
#define EARLY_SPIN 16384        /* a member's spins for the post after member_early */
#define IDLE_CHECK_S 2          /* a parked member looks at its master this often */
#define UNPROTECT_MIN (16 * PG) /* ranges to copy lifted from protection before the copy */
#define TOOL_FD 900             /* the members' own descriptors go from here up */
#define MAXFD 4096              /* follow_hint names it */

/* A raw system call: nothing in libc, errno untouched (the sync may not write
   mirrored memory).  Returns -errno on failure. */
static inline long rsys(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define RS(n, a, b, c, d, e, f)                                                                    \
    rsys(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
#define RS1(n, a) RS(n, a, 0, 0, 0, 0, 0)
#define RS2(n, a, b) RS(n, a, b, 0, 0, 0, 0)
#define RS3(n, a, b, c) RS(n, a, b, c, 0, 0, 0)

struct w_range {
    u64 s, e;
};
struct w_rlim { /* the kernel's struct rlimit64 */
    u64 cur, max;
};
struct w_sched { /* a process's scheduling policy, priority, nice value, I/O priority */
    int policy, reset, prio, nice, ioprio;
};
struct w_sigaction { /* the kernel's struct sigaction (x86-64) */
    u64 handler, flags, restorer, mask;
};
enum { K_ANON, K_HEAP, K_STACK, K_FILE, K_SHARED };
struct w_map {
    u64 s, e, off, ino;
    uint32_t prot, kind;
};

/* The pool's control block, in the shared arena. */
enum { CMD_NONE, CMD_REGION, CMD_QUIT };
typedef struct w_ctl {
    _Atomic uint32_t early;  /* the seq the master prepares: members wake, and sync what
                                does not depend on its memory, while it scans */
    _Atomic uint32_t seq;    /* a new command: members wait for it to change */
    _Atomic uint32_t synced; /* members brought up to date for seq */
    _Atomic uint32_t parked; /* members back at their park, done with what seq left */
    _Atomic int err;         /* a member's sync failed: the step (errno in err_no) */
    int err_no, err_member;
    int cmd;
    int nmem;
    int nenter; /* the members that enter the region: 1..nenter (the others: the
                   lost-write detector's snapshot, FMP_CHECK=writes) */
    pid_t mpid;
    int tid_off;
    long rseq_off; /* the thread's rseq area from its thread pointer, when registered */
    int rseq;
    u64 robust, robust_len; /* the master's robust-futex list (set_robust_list) */
    uintptr_t jb;           /* the master's context, in its stack */
    fmp__shteam *team;
    u64 brk;
    u64 xs, xe;               /* the tool reservation: never mirrored */
    int full;                 /* the master's written list overflowed: copy all of its memory */
    int reprotect;            /* the sticky pages are protected again at this region */
    _Atomic uint32_t acts;    /* seq, once sigmask and act are posted for it */
    int threaded;             /* the master has other threads: members wait for a verdict */
    int go;                   /* the verdict: the copy is a snapshot, enter the region */
    long spin;                /* a parked member's spins before it sleeps (the team's) */
    _Atomic uint32_t verdict; /* seq, once go is posted for it */
    u64 sigmask;
    struct w_sigaction act[64]; /* the master's signal dispositions, 1..64 */
    uint32_t umask;             /* the master's umask and name, posted with the wake */
    char comm[16];
    int thp_off; /* its PR_SET_THP_DISABLE, likewise */
    struct {     /* its first thread's alternate signal stack (stack_t) */
        u64 sp;
        int flags;
        u64 size;
    } altstack;
    int nmaps;
    struct w_map maps[MAXMAPS];
    int nfresh;
    struct w_range fresh[MAXMAPS];
    /* the maps read with PROCMAP_QUERY (Linux 6.11) when it gives what the text gives:
       the kinds the text tells by name are told by these instead */
    int query;
    u64 start_brk, start_stack; /* the heap's and the stack's start (/proc/self/stat) */
    int nspecial;
    struct w_range special[8]; /* the kernel's own mappings ([vdso], [vvar]...) */
    _Atomic uint64_t copied;   /* pages the members copied since the last count, all told */
    _Atomic int renew;         /* a body gave its member what it cannot give up (own_attrs) */
    int nshared;               /* the master's shared mappings at the pool's fork */
    struct w_map shared[MAXSHARED];
    uint32_t toolfds[MAXFD / 32]; /* the master's own descriptors (the pool's, the team's
                                     pidfds): not mirrored, a bitmap */
    /* the close-on-exec flags (a member's pidfd_getfd sets it on every descriptor it
       takes): the master's descriptors as member 1 found them at its last sync, and of
       those still open when the master woke the members, which (fdknown) and which of
       them close-on-exec (fdflag), read by the master then (fd_flags); a member asks the
       master's fdinfo for the others */
    uint32_t fdseen[MAXFD / 32], fdknown[MAXFD / 32], fdflag[MAXFD / 32];
    long ndirty;
    struct w_range dirty[MAXR];
#ifdef FMP_WARM_PROFILE
    u64 pf[64], pn, tb; /* the profile's slots, regions, the master's post */
#endif
} w_ctl;

/* A member's own state, in its part of the reservation (the master never touches it). */
typedef struct w_mem {
    int id;
    pid_t pid;
    int tid;
    u64 fsbase;
    pid_t mpid;
    int uffd, pmfd, mpmfd, mfddir, mpidfd, mapsfd;
    u64 tool_id[8][2]; /* what they are (tools_intact) */
    sigjmp_buf park;
    struct w_sigaction act[64];     /* its dispositions, as of its last sync or body */
    struct w_rlim rl[RLIM_NLIMITS]; /* its resource limits, as of its start or last sync */
    struct w_sched sched;           /* its scheduling, as of its last sync or body */
    u64 rights[4]; /* no_new_privs, seccomp mode, capabilities at its start (own_attrs) */
    int nmaps;
    struct w_map maps[MAXMAPS];
    long ncd; /* what the last body wrote */
    struct w_range cdirty[MAXR];
    int cd_full;
    long ncu; /* mappings the last body created */
    struct w_range cunreg[MAXMAPS];
    struct w_range tr[MAXMAPS], trk[2 * MAXMAPS]; /* member_post's scans */
    long nfull;
    struct w_range full[MAXR];
    struct w_range unmap[MAXMAPS];
    int nwr;
    struct w_range wr[MAXMAPS]; /* the master's private mappings at the last sync */
    int idx[MAXMAPS];
    long ncreate;
    struct {
        u64 s, e;
        int li;
    } create[MAXMAPS];
    int ntmp;
    int tmp[MAXMAPS];
    struct w_range merged[4 * MAXR];
    struct iovec iov[NIOV];
    struct w_page_region pr[NVEC];
    uint64_t pm[4096];
    uint32_t mfds[MAXFD / 32]; /* the master's descriptors, a bitmap */
    char buf[1 << 20];
} w_mem;

/* The master's scratch, in the reservation too (not tracked). */
typedef struct w_mpriv {
    long nunreg;
    struct w_range unreg[MAXMAPS];
    int ntr, npv;
    struct w_range tr[MAXMAPS];     /* the tracked mappings, adjacent ones joined */
    struct w_range pv[MAXMAPS];     /* the private ones */
    struct w_range tw[2 * MAXMAPS]; /* the scan of written pages: tracked, and fresh */
    /* what regions that forked under auto left for the members' next sync: pages written
       (and protected again), mappings made anew */
    long npend, npfresh;
    int pend_full;
    struct w_range pend[MAXR], pfresh[MAXMAPS], merged[2 * MAXR];
    struct w_page_region pr[NVEC];
    int places[FMP__MAX_TEAM]; /* the members' places for this region's team */
    char buf[1 << 20];
} w_mpriv;

#define ROUND(x, a) (((x) + (a)-1) & ~((a)-1))
#define MEM_BYTES ROUND(sizeof(w_mem) + PARK_STACK, (u64)1 << 21)
#define MPRIV_BYTES ROUND(sizeof(w_mpriv), (u64)1 << 21)

/* The pool, as its master sees it (mirrored into the members unchanged). */
typedef struct {
    u64 dev, ino; /* ino 0: not known */
} w_fdid;

static struct {
    w_ctl *ctl;
    char *res; /* the reservation: master's scratch, then one part per member */
    size_t res_len;
    int nmem;
    int uffd, pmfd;
    int mapsfd; /* /proc/self/maps, for PROCMAP_QUERY (c->query) */
    int stfd;   /* /proc/self/status (threads, signal dispositions), > 2, or none */
    w_fdid uffd_id, pmfd_id, mapsfd_id, stfd_id; /* which files they are (close_held) */
    int masks;                                   /* ign and cgt were read at this region's start */
    int lost;          /* its status file is not ours: the program took its descriptors */
    u64 creds;         /* the master's credentials at the pool's fork (status_creds) */
    uint64_t ign, cgt; /* SigIgn, SigCgt: ignored and caught signals, bit sig - 1 */
    int level;         /* the team level its places are for */
    long used;         /* regions run */
    u64 held;          /* a member's private memory when last measured (bytes) */
    long spin;         /* master_wait's spins: the team's (none when it outnumbers the cpus) */
    long rss;          /* the master's resident pages, measured now and then (master_rss) */
    long rss_used;     /* used when rss was measured */
    /* member m + 1 at mb[m]: the few a pool has on the page of the fields above (a page
       the master wrote once stays unprotected and is copied to every member at every
       region, STICKY_PAGES; four arrays of FMP__MAX_TEAM were four such pages) */
    struct {
        pid_t pid;
        int pidfd;
        w_fdid pidfd_id;
        int spidfd; /* this region's team's copy of pidfd (bind_slots), made before the
                       members take the master's descriptors */
        int place;  /* the place it is bound to (-1: none) */
    } mb[FMP__MAX_TEAM];
} g_pool;

/* From the master's status at this region's start (master_threads; kept when a pool
   goes): its umask and its credentials (status_creds). */
static struct {
    uint32_t umask;
    u64 creds;
} g_status;

/* Regions of this process, for FMP_DISPLAY_ENV=verbose at its end. */
static struct {
    long warm, started, forked, pools;
} g_stat;

/* Pools that failed in this process: from MAX_FAILURES on, regions fork. */
#define MAX_FAILURES 3
static int g_failures;

/* In a member: its region's team and its number (set after each sync, for
   fmp__child_exit). */
static fmp__shteam *g_member_team;
static pid_t g_member_pid;
static int g_member_id;

/* Where a warm region's time goes: built with -DFMP_WARM_PROFILE (`make
   CPPFLAGS=-DFMP_WARM_PROFILE`), the master adds the cycles since its last stamp to
   slot i at WP(i), member 1 at MPF(i); FMP_WPROF=1 prints the means per region, in
   microseconds at FMP_WPROF_MHZ (default 2600), when the pool goes.  Not built otherwise.
   The master: 10 its own code since the last region, 0 its threads, 1 the members'
   memory, 19 the other threads' snapshot, 2 the maps, 4 the scan for memory not
   registered, 5 registering it, 6 the scan of written pages, 7 the rest of
   master_prepare, 8 waiting for the members to park, 17 their places, 18 the post and
   the wake, 9 the signal dispositions, 11 waiting for their sync, 13 the body, 14 the
   end barrier, 15 the join, 16 the team's report (on shared cpus a slot also holds the
   time the members ran on the master's).  Member 1: 43 from the
   master's post to its wake, 32 the sync's mappings (steps 1-6), 33 what to copy, 34 the
   copy, 35 protecting again, 36 the signal dispositions, 37 the descriptors, 38 the
   working directory, 39 its limits and scheduling (attrs_from_master); after the body, 42 its
   maps, 41 the scan for what it mapped, 40 the scan of what it wrote, 44 its scheduling
   and timers (own_attrs); 50 the pages it copied (a count, not microseconds). */
#ifdef FMP_WARM_PROFILE
#include <x86intrin.h>
static u64 g_pl; /* the master's last stamp */
#define WP(i)                                                                                      \
    do {                                                                                           \
        u64 n_ = __rdtsc();                                                                        \
        if (g_pool.ctl)                                                                            \
            g_pool.ctl->pf[i] += n_ - g_pl;                                                        \
        g_pl = n_;                                                                                 \
    } while (0)
#define MPF(i)                                                                                     \
    do {                                                                                           \
        if (m->id == 1) {                                                                          \
            u64 n_ = __rdtsc();                                                                    \
            c->pf[i] += n_ - ml;                                                                   \
            ml = n_;                                                                               \
        }                                                                                          \
    } while (0)
#define MPF_START() u64 ml = __rdtsc()
void fmp__wprof(int i)
{
    WP(i);
}
static void wprof_print(const w_ctl *c)
{
    const char *mhz = getenv("FMP_WPROF_MHZ");
    double f = mhz ? atof(mhz) : 2600.0;
    if (!getenv("FMP_WPROF") || !c->pn || f <= 0)
        return;
    fprintf(stderr, "forkmp: warm profile, %llu regions (us):", (unsigned long long)c->pn);
    for (int i = 0; i < 64; i++)
        if (c->pf[i])
            fprintf(stderr, " %d:%.1f", i, (double)c->pf[i] / (i == 50 ? 1 : f) / (double)c->pn);
    fprintf(stderr, "\n");
}
#else
#define WP(i) ((void)0)
#define MPF(i) ((void)0)
#define MPF_START() ((void)0)
#define wprof_print(c) ((void)0)
#endif
static w_mem *mem_of(char *res, int id)
{
    return (w_mem *)(res + MPRIV_BYTES + (size_t)(id - 1) * MEM_BYTES);
}

/* ---------------------------------------------------------------- helpers */

static int uffd_create(void)
{
    struct uffdio_api api;
    for (int um = 0; um < 2; um++) {
        long fd = RS1(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | (um ? W_USER_MODE_ONLY : 0));
        if (fd < 0) {
            if (um == 1)
                return (int)fd;
            continue;
        }
        memset(&api, 0, sizeof api);
        api.api = UFFD_API;
        api.features = W_FEATURE_WP_ASYNC | W_FEATURE_WP_UNPOPULATED;
        long r = RS3(SYS_ioctl, fd, UFFDIO_API, &api);
        if (r == 0)
            return (int)fd;
        RS1(SYS_close, fd);
        return (int)r;
    }
    return -ENOSYS;
}

static long uffd_reg(int fd, u64 s, u64 e)
{
    struct uffdio_register r = {.range = {s, e - s}, .mode = UFFDIO_REGISTER_MODE_WP};
    return RS3(SYS_ioctl, fd, UFFDIO_REGISTER, &r);
}

static long uffd_wp(int fd, u64 s, u64 e)
{
    struct uffdio_writeprotect w = {.range = {s, e - s}, .mode = UFFDIO_WRITEPROTECT_MODE_WP};
    return RS3(SYS_ioctl, fd, UFFDIO_WRITEPROTECT, &w);
}

static long uffd_unwp(int fd, u64 s, u64 e)
{
    struct uffdio_writeprotect w = {.range = {s, e - s}, .mode = 0};
    return RS3(SYS_ioctl, fd, UFFDIO_WRITEPROTECT, &w);
}

/* PAGEMAP_SCAN over [s, e), the pages coalesced into out (NULL: thrown away).
   Returns the ranges, -E2BIG when out is full, or -errno. */
static long pm_scan(int fd, u64 s, u64 e, u64 flags, u64 inv, u64 mask, u64 anyof, u64 ret,
                    struct w_page_region *vec, struct w_range *out, long outmax)
{
    long n = 0;
    u64 cur = s;
    while (cur < e) {
        struct w_pm_scan_arg a;
        memset(&a, 0, sizeof a);
        a.size = sizeof a;
        a.flags = flags;
        a.start = cur;
        a.end = e;
        a.vec = (u64)(uintptr_t)vec;
        a.vec_len = NVEC;
        a.category_inverted = inv;
        a.category_mask = mask;
        a.category_anyof_mask = anyof;
        a.return_mask = ret;
        long r = RS3(SYS_ioctl, fd, W_PAGEMAP_SCAN, &a);
        if (r < 0)
            return r;
        if (out)
            for (long i = 0; i < r; i++) {
                if (n && out[n - 1].e == vec[i].start)
                    out[n - 1].e = vec[i].end;
                else if (n < outmax)
                    out[n++] = (struct w_range){vec[i].start, vec[i].end};
                else
                    return -E2BIG;
            }
        if (a.walk_end >= e || a.walk_end <= cur)
            break;
        cur = a.walk_end;
    }
    return n;
}

/* The whole of the file open on fd, read from its start into buf (terminated): its
   length, or < 0 (-E2BIG: buf too small). */
static long pread_file(int fd, char *buf, long cap)
{
    long n = 0, r = 0;
    while (n < cap - 1 && (r = RS(SYS_pread64, fd, buf + n, cap - 1 - n, n, 0, 0)) > 0)
        n += r;
    if (r < 0 && n == 0)
        return r;
    buf[n] = 0;
    return n >= cap - 1 ? -E2BIG : n;
}

long fmp__read_file(const char *path, char *buf, long cap)
{
    long fd = RS3(SYS_open, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    long n = pread_file((int)fd, buf, cap);
    RS1(SYS_close, fd);
    return n;
}

static u64 hexp(const char **pp)
{
    const char *p = *pp;
    u64 v = 0;
    for (;; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else
            break;
        v = v * 16 + (u64)d;
    }
    *pp = p;
    return v;
}

static int starts(const char *p, const char *q)
{
    while (*q)
        if (*p++ != *q++)
            return 0;
    return 1;
}

/* A mapping less the tool reservation [xs, xe) (never mirrored): 0 when nothing is left. */
static int cut_reservation(struct w_map *m, u64 xs, u64 xe)
{
    if (m->e <= xs || m->s >= xe)
        return 1;
    if (m->s >= xs && m->e <= xe)
        return 0;
    if (m->s < xs)
        m->e = xs;
    else
        m->s = xe;
    return 1;
}

/* The mappings of a maps text, the tool reservation [xs, xe) cut out, the kernel's
   special ones ([vdso], [vvar], [vsyscall]) left out.  -1: too many. */
static int parse_maps(const char *p, struct w_map *out, int max, u64 xs, u64 xe,
                      struct w_range *special, int *nspecial)
{
    int n = 0;
    while (*p) {
        struct w_map m;
        m.s = hexp(&p);
        p++;
        m.e = hexp(&p);
        p++;
        char r = p[0], w = p[1], x = p[2], sp = p[3];
        p += 5;
        m.off = hexp(&p);
        p++;
        hexp(&p);
        p++;
        hexp(&p);
        p++;
        u64 ino = 0;
        while (*p >= '0' && *p <= '9')
            ino = ino * 10 + (u64)(*p++ - '0');
        m.ino = ino;
        while (*p == ' ')
            p++;
        const char *name = p;
        while (*p && *p != '\n')
            p++;
        int named = p > name;
        if (*p)
            p++;
        if (!cut_reservation(&m, xs, xe))
            continue;
        if (named && name[0] == '[') {
            if (starts(name, "[heap]"))
                m.kind = K_HEAP;
            else if (starts(name, "[stack]"))
                m.kind = K_STACK;
            else if (starts(name, "[anon"))
                m.kind = K_ANON;
            else {
                if (special && *nspecial < 8)
                    special[(*nspecial)++] = (struct w_range){m.s, m.e};
                continue;
            }
        } else {
            m.kind = ino ? K_FILE : K_ANON;
        }
        if (sp != 'p')
            m.kind = K_SHARED; /* the same memory in every member: nothing to copy */
        m.prot =
            (r == 'r' ? PROT_READ : 0) | (w == 'w' ? PROT_WRITE : 0) | (x == 'x' ? PROT_EXEC : 0);
        if (n >= max)
            return -1;
        out[n++] = m;
    }
    return n;
}

/* PROCMAP_QUERY (Linux 6.11): a mapping per ioctl on a maps file, without the text
   (no path written for a file's mapping: about two thirds of the text's time here). */
struct w_procmap_query {
    u64 size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset,
        inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    u64 vma_name_addr, build_id_addr;
};
#define W_PROCMAP_QUERY _IOWR('f', 17, struct w_procmap_query)
#define W_PMQ_READ 0x1
#define W_PMQ_WRITE 0x2
#define W_PMQ_EXEC 0x4
#define W_PMQ_SHARED 0x8
#define W_PMQ_COVERING_OR_NEXT 0x10

/* The mappings as parse_maps gives them, asked of the maps file fd one by one; brk is the
   heap's end now.  The kinds the text tells by name: [heap] and [stack] by the kernel's
   own rules (the anonymous mapping across the heap's start and brk, the one holding the
   stack's start), the kernel's mappings by their addresses when the pool started.  -1:
   too many, or -errno. */
static int query_maps(int fd, const w_ctl *c, u64 brk, struct w_map *out, int max)
{
    int n = 0;
    u64 at = 0;
    for (;;) {
        struct w_procmap_query q;
        memset(&q, 0, sizeof q);
        q.size = sizeof q;
        q.query_flags = W_PMQ_COVERING_OR_NEXT;
        q.query_addr = at;
        long r = RS3(SYS_ioctl, fd, W_PROCMAP_QUERY, &q);
        if (r == -ENOENT)
            return n;
        if (r < 0)
            return (int)r;
        at = q.vma_end;
        struct w_map m = {q.vma_start, q.vma_end, q.vma_offset, q.inode, 0, 0};
        if (!cut_reservation(&m, c->xs, c->xe))
            continue;
        int special = 0;
        for (int i = 0; i < c->nspecial; i++)
            special |= c->special[i].s == q.vma_start && c->special[i].e == q.vma_end;
        if (special)
            continue;
        if (q.vma_flags & W_PMQ_SHARED)
            m.kind = K_SHARED;
        else if (q.inode)
            m.kind = K_FILE;
        else if (q.vma_start < brk && q.vma_end > c->start_brk)
            m.kind = K_HEAP;
        else if (q.vma_start <= c->start_stack && q.vma_end >= c->start_stack)
            m.kind = K_STACK;
        else
            m.kind = K_ANON;
        m.prot = (q.vma_flags & W_PMQ_READ ? PROT_READ : 0) |
                 (q.vma_flags & W_PMQ_WRITE ? PROT_WRITE : 0) |
                 (q.vma_flags & W_PMQ_EXEC ? PROT_EXEC : 0);
        if (n >= max)
            return -1;
        out[n++] = m;
    }
}

/* This process's mappings, into out: PROCMAP_QUERY on fd where the pool found it right,
   else the text of /proc/self/maps read into buf, through fd when open (the master's
   fd, the pool's own: a member taking the master's descriptors meanwhile never takes a
   copy of a passing one), else opened here.  The count, or < 0. */
static int read_maps(const w_ctl *c, int fd, char *buf, long cap, struct w_map *out)
{
    if (c->query && fd >= 0)
        return query_maps(fd, c, (u64)RS1(SYS_brk, 0), out, MAXMAPS);
    long r = fd >= 0 ? pread_file(fd, buf, cap) : fmp__read_file("/proc/self/maps", buf, cap);
    return r < 0 ? (int)r : parse_maps(buf, out, MAXMAPS, c->xs, c->xe, NULL, NULL);
}

static u64 heap_end(const struct w_map *m, int n)
{
    u64 e = 0;
    for (int i = 0; i < n; i++)
        if (m[i].kind == K_HEAP && m[i].e > e)
            e = m[i].e;
    return e;
}

static char *put_dec(char *p, u64 v)
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = t[--n];
    return p;
}

static char *put_hex(char *p, u64 v)
{
    char t[20];
    int n = 0;
    do {
        t[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n)
        *p++ = t[--n];
    return p;
}

static void proc_path(char *buf, int pid, const char *leaf)
{
    char *p = buf;
    for (const char *a = "/proc/"; *a;)
        *p++ = *a++;
    p = put_dec(p, (u64)pid);
    *p++ = '/';
    while (*leaf)
        *p++ = *leaf++;
    *p = 0;
}

static u64 fs_base(void)
{
    u64 fs;
    __asm__ volatile("mov %%fs:0x10, %0" : "=r"(fs));
    return fs;
}

/* Where glibc keeps the thread id in the thread's control block: exactly one match. */
static int find_tid_off(void)
{
    u64 fs = fs_base();
    int tid = (int)RS1(SYS_gettid, 0), found = -1, count = 0;
    for (int off = 0; off < 0x800; off += 4)
        if (*(volatile int *)(uintptr_t)(fs + (u64)off) == tid) {
            found = off;
            count++;
        }
    return count == 1 ? found : -1;
}

/* Wait until *w == want (spin a little where the members have cpus of their own, then
   sleep in 20 ms slices); 0, or -1 when a member died or said it failed. */
static int master_wait(_Atomic uint32_t *w, uint32_t want)
{
    for (long i = 0; i < g_pool.spin; i++) {
        if (atomic_load_explicit(w, memory_order_acquire) == want)
            return 0;
        if ((i & 4095) == 4095 && atomic_load(&g_pool.ctl->err))
            return -1;
        fmp__cpu_relax();
    }
    for (;;) {
        uint32_t v = atomic_load_explicit(w, memory_order_acquire);
        if (v == want)
            return 0;
        if (atomic_load(&g_pool.ctl->err))
            return -1;
        fmp__futex_wait(w, v, 20);
        for (int m = 0; m < g_pool.nmem; m++) {
            struct pollfd p = {g_pool.mb[m].pidfd, POLLIN, 0};
            if (g_pool.mb[m].pidfd >= 0 && poll(&p, 1, 0) > 0)
                return -1;
        }
    }
}

static void bump(_Atomic uint32_t *w)
{
    atomic_fetch_add_explicit(w, 1, memory_order_acq_rel);
    RS(SYS_futex, w, FUTEX_WAKE, INT_MAX, 0, 0, 0);
}

static void member_fail(w_ctl *c, w_mem *m, int step, long rc)
{
    int zero = 0;
    if (atomic_compare_exchange_strong(&c->err, &zero, step)) {
        c->err_no = (int)-rc;
        c->err_member = m->id;
    }
}

/* ---------------------------------------------------------------- the member's sync */

/* Private memory that the master may write and the members mirror. */
static int tracked(const struct w_map *m)
{
    return (m->prot & PROT_WRITE) && m->kind != K_SHARED;
}

/* The private mappings of maps[0..n) (with writable, the tracked ones alone), adjacent
   ones joined: the ranges the scans walk (a scan of [PG, UEND) walks the shared ones' page
   tables too).  Into out; the count. */
static int map_ranges(const struct w_map *maps, int n, int writable, struct w_range *out)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (maps[i].kind == K_SHARED || (writable && !tracked(&maps[i])))
            continue;
        if (k && out[k - 1].e == maps[i].s)
            out[k - 1].e = maps[i].e;
        else
            out[k++] = (struct w_range){maps[i].s, maps[i].e};
    }
    return k;
}

/* The sorted ranges a[0..na) less the sorted ranges b[0..nb), into out: the count. */
static long less_ranges(const struct w_range *a, long na, const struct w_range *b, long nb,
                        struct w_range *out, long max)
{
    long n = 0, j = 0;
    for (long i = 0; i < na; i++) {
        u64 cur = a[i].s;
        while (j < nb && b[j].e <= cur)
            j++;
        for (long k = j; cur < a[i].e; k++) {
            u64 to = k < nb && b[k].s < a[i].e ? b[k].s : a[i].e;
            if (to > cur && n < max)
                out[n++] = (struct w_range){cur, to};
            if (k >= nb || b[k].s >= a[i].e)
                break;
            cur = b[k].e;
        }
    }
    return n;
}

/* PAGEMAP_SCAN (as pm_scan) over each of the sorted ranges r[0..n), into out: the count,
   -E2BIG when out is full, or -errno. */
static long pm_scan_in(int fd, const struct w_range *r, int n, u64 flags, u64 inv, u64 mask,
                       u64 ret, struct w_page_region *vec, struct w_range *out, long outmax)
{
    long k = 0;
    for (int i = 0; i < n; i++) {
        long got = pm_scan(fd, r[i].s, r[i].e, flags, inv, mask, 0, ret, vec, out ? out + k : NULL,
                           outmax - k);
        if (got < 0)
            return got;
        if (!out)
            continue;
        if (got && k && out[k - 1].e == out[k].s) { /* the two ranges touch */
            out[k - 1].e = out[k].e;
            memmove(out + k, out + k + 1, (size_t)(got - 1) * sizeof *out);
            got--;
        }
        k += got;
    }
    return k;
}

static int same_ident(const struct w_map *a, const struct w_map *b, u64 s)
{
    int fa = a->kind == K_FILE || a->kind == K_SHARED,
        fb = b->kind == K_FILE || b->kind == K_SHARED;
    if (fa != fb || (a->kind == K_SHARED) != (b->kind == K_SHARED))
        return 0;
    if (!fa)
        return 1;
    return a->ino == b->ino && a->off + (s - a->s) == b->off + (s - b->s);
}

/* A \ B over page ranges, the heap left out (brk handles it). */
static long subtract(const struct w_map *A, int na, const struct w_map *B, int nb,
                     struct w_range *out, int *idx, long max)
{
    long n = 0;
    int j = 0;
    for (int i = 0; i < na; i++) {
        if (A[i].kind == K_HEAP)
            continue;
        u64 cur = A[i].s;
        while (j < nb && B[j].e <= cur)
            j++;
        int k = j;
        while (cur < A[i].e) {
            if (k < nb && B[k].s <= cur) {
                if (B[k].e > cur)
                    cur = B[k].e;
                k++;
                continue;
            }
            u64 nx = (k < nb && B[k].s < A[i].e) ? B[k].s : A[i].e;
            if (n < max) {
                out[n] = (struct w_range){cur, nx};
                if (idx)
                    idx[n] = i;
                n++;
            }
            cur = nx;
        }
    }
    return n;
}

static int read_own_maps(w_ctl *c, w_mem *m)
{
    m->nmaps = read_maps(c, m->mapsfd, m->buf, sizeof m->buf, m->maps);
    return m->nmaps == -1 ? -E2BIG : m->nmaps < 0 ? m->nmaps : 0;
}

/* The master's populated pages in [s, e), to be copied whole. */
static int add_full(w_mem *m, u64 s, u64 e)
{
    long r =
        pm_scan(m->mpmfd, s, e, 0, 0, 0, W_PAGE_IS_PRESENT | W_PAGE_IS_SWAPPED,
                W_PAGE_IS_PRESENT | W_PAGE_IS_SWAPPED, m->pr, m->full + m->nfull, MAXR - m->nfull);
    if (r < 0)
        return (int)r;
    m->nfull += r;
    return 0;
}

static int create_part(w_ctl *c, w_mem *m, const struct w_map *me, u64 s, u64 e)
{
    long r = (long)s;
    if (me->kind == K_SHARED) {
        return -EREMOTE; /* only a fork shares it: the master starts a new pool */
    } else if (me->kind == K_STACK) {
        /* the stack grows by itself when the copy writes below it */
    } else if (me->kind == K_FILE) {
        char path[96];
        proc_path(path, c->mpid, "map_files/");
        char *p = path + strlen(path);
        p = put_hex(p, me->s);
        *p++ = '-';
        p = put_hex(p, me->e);
        *p = 0;
        long fd = RS3(SYS_open, path, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
            return (int)fd;
        r = RS(SYS_mmap, s, e - s, me->prot, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd,
               me->off + (s - me->s));
        RS1(SYS_close, fd);
    } else {
        r = RS(SYS_mmap, s, e - s, me->prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
               0);
    }
    if (r != (long)s)
        return r < 0 ? (int)r : -EEXIST;
    if (me->kind != K_STACK) {
        long rr = uffd_reg(m->uffd, s, e);
        if (rr < 0)
            return (int)rr;
    }
    return add_full(m, s, e);
}

static long merge3(const struct w_range *a, long na, const struct w_range *b, long nb,
                   const struct w_range *d, long nd, struct w_range *out)
{
    long i = 0, j = 0, k = 0, n = 0;
    for (;;) {
        const struct w_range *x = NULL;
        int from = 0;
        if (i < na)
            x = &a[i], from = 1;
        if (j < nb && (!x || b[j].s < x->s))
            x = &b[j], from = 2;
        if (k < nd && (!x || d[k].s < x->s))
            x = &d[k], from = 3;
        if (!x)
            break;
        if (from == 1)
            i++;
        else if (from == 2)
            j++;
        else
            k++;
        if (n && out[n - 1].e >= x->s) {
            if (x->e > out[n - 1].e)
                out[n - 1].e = x->e;
        } else {
            out[n++] = *x;
        }
    }
    return n;
}

static void sort_ranges(struct w_range *r, long n)
{
    for (long i = 1; i < n; i++) { /* insertion: the list is nearly sorted */
        struct w_range x = r[i];
        long j = i - 1;
        while (j >= 0 && r[j].s > x.s) {
            r[j + 1] = r[j];
            j--;
        }
        r[j + 1] = x;
    }
}

/* The descriptors: those of the master at the same numbers, as after a fork (the same
   open file descriptions), and no others but the member's own tools. */
/* The member's own descriptors, the one list that says which they are (the sync keeps
   them and moves them away from the master's numbers); -1 where one is not open. */
#define NTOOLS 6
static void tool_fds(w_mem *m, int *out[NTOOLS])
{
    int *all[NTOOLS] = {&m->uffd, &m->pmfd, &m->mpmfd, &m->mfddir, &m->mpidfd, &m->mapsfd};
    memcpy(out, all, sizeof all);
}

/* What the tools are (device, mode and inode), into id. */
static void tool_ids(w_mem *m, u64 (*id)[2])
{
    int *tools[NTOOLS];
    tool_fds(m, tools);
    for (int i = 0; i < NTOOLS; i++) {
        struct stat st;
        id[i][0] = id[i][1] = 0;
        if (*tools[i] >= 0 && RS2(SYS_fstat, *tools[i], &st) == 0) {
            id[i][0] = (u64)st.st_dev ^ ((u64)st.st_mode << 40) ^ ((u64)st.st_rdev << 20);
            id[i][1] = (u64)st.st_ino;
        }
    }
}

/* A body may close or dup2 over any descriptor, the member's own tools included (a forked
   child's would not matter: it exits): are they still what they were? */
static int tools_intact(w_mem *m)
{
    u64 now[8][2];
    tool_ids(m, now);
    return memcmp(now, m->tool_id, sizeof(u64) * 2 * NTOOLS) == 0;
}

struct w_dirent {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

/* Each descriptor number listed in the directory fd (a /proc/PID/fd), through fn. */
static int each_fd(w_mem *m, int dirfd, int (*fn)(w_mem *m, int fd))
{
    if (RS3(SYS_lseek, dirfd, 0, SEEK_SET) < 0)
        return -EIO;
    for (;;) {
        long n = RS3(SYS_getdents64, dirfd, m->buf, 65536);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return 0;
        for (long o = 0; o < n;) {
            struct w_dirent *d = (struct w_dirent *)(m->buf + o);
            o += d->reclen;
            if (d->name[0] < '0' || d->name[0] > '9')
                continue;
            int fd = 0;
            for (const char *p = d->name; *p; p++)
                fd = fd * 10 + (*p - '0');
            int r = fn(m, fd);
            if (r < 0)
                return r;
        }
    }
}

static int mark_fd(w_mem *m, int fd)
{
    if (fd >= MAXFD)
        return -ERANGE; /* follow_hint says what */
    m->mfds[fd / 32] |= 1u << (fd % 32);
    return 0;
}

static int master_has(const w_mem *m, int fd)
{
    return fd < MAXFD && (m->mfds[fd / 32] & (1u << (fd % 32)));
}

/* A tool descriptor at a number the master uses now: moved to one it does not use. */
static int move_clear(w_mem *m, int *tool)
{
    if (*tool < 0 || !master_has(m, *tool))
        return 0;
    for (int want = TOOL_FD;; want++) {
        long fd = RS3(SYS_fcntl, *tool, F_DUPFD_CLOEXEC, want);
        if (fd < 0)
            return (int)fd;
        if (!master_has(m, (int)fd)) {
            RS1(SYS_close, *tool);
            *tool = (int)fd;
            return 0;
        }
        RS1(SYS_close, fd);
        want = (int)fd;
    }
}

/* Whether the master's descriptor fd is close-on-exec: as the master read it at the
   wake (fd_flags), else from its fdinfo ("flags:", in octal, holds O_CLOEXEC for it);
   one closed meanwhile counts as close-on-exec (it is not taken). */
static int master_cloexec(const w_ctl *c, int fd)
{
    uint32_t bit = 1u << (fd % 32);
    if (__atomic_load_n(&c->fdknown[fd / 32], __ATOMIC_RELAXED) & bit)
        return (__atomic_load_n(&c->fdflag[fd / 32], __ATOMIC_RELAXED) & bit) != 0;
    char path[64], *p;
    proc_path(path, c->mpid, "fdinfo/");
    for (p = path; *p; p++)
        ;
    *put_dec(p, (u64)fd) = 0;
    char text[512];
    if (fmp__read_file(path, text, sizeof text) <= 0 || !(p = strstr(text, "flags:")))
        return 1;
    u64 flags = 0;
    for (p += 6; *p == '\t' || *p == ' '; p++)
        ;
    for (; *p >= '0' && *p <= '7'; p++)
        flags = flags * 8 + (u64)(*p - '0');
    return (flags & O_CLOEXEC) != 0;
}

/* The master's descriptor fd at the same number, with its close-on-exec flag (a member
   that runs a program, by system() or popen(), gives it what a fork child would). */
static int take_fd(const w_ctl *c, w_mem *m, int fd)
{
    int cloexec = master_cloexec(c, fd); /* before: it may open a file for a moment */
    long nfd = RS2(SYS_pidfd_getfd, m->mpidfd, fd);
    if (nfd < 0)
        return nfd == -EBADF ? 0 : (int)nfd; /* closed meanwhile: gone */
    if (nfd == fd)                           /* pidfd_getfd's is close-on-exec */
        return cloexec ? 0 : (int)RS3(SYS_fcntl, fd, F_SETFD, 0);
    long r = RS3(SYS_dup3, nfd, fd, cloexec ? O_CLOEXEC : 0);
    RS1(SYS_close, nfd);
    return r < 0 ? (int)r : 0;
}

/* take_fd for each descriptor the walk of the master's table marked (one walk, not two:
   reading /proc/PID/fd costs a lookup per descriptor). */
static int take_marked(const w_ctl *c, w_mem *m)
{
    for (int w = 0; w < MAXFD / 32; w++)
        for (uint32_t bits = m->mfds[w]; bits; bits &= bits - 1) {
            int r = take_fd(c, m, w * 32 + __builtin_ctz(bits));
            if (r < 0)
                return r;
        }
    return 0;
}

/* A parked member holds none of the program's descriptors: a copy it held would keep
   the open file description alive after the master closed it (a pipe's reader would
   never see its end, a socket's peer never its close, a flock never released), where a
   forked child would have exited.  Everything but its own tools is closed when it parks
   (close_range over the gaps between them); the next sync takes the master's again. */
static void drop_program_fds(w_mem *m)
{
    int *tools[NTOOLS], t[NTOOLS], n = 0;
    tool_fds(m, tools);
    for (int i = 0; i < NTOOLS; i++)
        if (*tools[i] >= 0) {
            int k = n++;
            for (; k > 0 && t[k - 1] > *tools[i]; k--)
                t[k] = t[k - 1];
            t[k] = *tools[i];
        }
    unsigned lo = 0;
    for (int i = 0; i < n; i++) {
        if ((unsigned)t[i] > lo)
            RS3(SYS_close_range, lo, (unsigned)t[i] - 1, 0);
        lo = (unsigned)t[i] + 1;
    }
    RS3(SYS_close_range, lo, ~0U, 0);
}

/* The master's descriptors into a member that holds none (drop_program_fds). */
static int sync_fds(w_ctl *c, w_mem *m)
{
    memset(m->mfds, 0, sizeof m->mfds);
    int r = each_fd(m, m->mfddir, mark_fd);
    /* the pool's and the team's own descriptors in the master, close-on-exec and never
       the program's: a fork child would hold them unused, a member does without; the
       others' numbers for the master's next wake (fd_flags) */
    for (int w = 0; w < MAXFD / 32; w++) {
        m->mfds[w] &= ~c->toolfds[w];
        if (m->id == 1)
            __atomic_store_n(&c->fdseen[w], m->mfds[w], __ATOMIC_RELAXED);
    }
    /* a master may hold a descriptor above its limit (lowered since): so may a fork
       child, and a member takes it under its hard limit (its soft one is the master's
       again at attrs_from_master) */
    int top = -1;
    for (int w = MAXFD / 32 - 1; w >= 0 && top < 0; w--)
        if (m->mfds[w])
            top = w * 32 + 31 - __builtin_clz(m->mfds[w]);
    struct w_rlim *nf = &m->rl[RLIMIT_NOFILE];
    if (top >= 0 && (u64)top >= nf->cur && nf->cur < nf->max) {
        struct w_rlim up = {nf->max, nf->max};
        if (RS(SYS_prlimit64, 0, RLIMIT_NOFILE, &up, 0, 0, 0) == 0)
            *nf = up;
    }
    int *tools[NTOOLS];
    tool_fds(m, tools);
    for (int i = 0; r == 0 && i < NTOOLS; i++)
        r = move_clear(m, tools[i]);
    if (r == 0)
        r = take_marked(c, m);
    return r;
}

/* Bring the member's memory to the master's.  0, or the failing step (errno in *rc). */
/* A member waits for the master to post want in *w: spins first, then sleeps (raw
   system calls: nothing in libc). */
static void member_await(_Atomic uint32_t *w, uint32_t want, long spins)
{
    uint32_t v;
    for (long i = spins; i > 0 && atomic_load_explicit(w, memory_order_acquire) != want; i--) {
        __builtin_ia32_pause();
        if ((i & 1023) == 0) /* the master may wait for this cpu (fmp__wait_change) */
            RS(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
    }
    while ((v = atomic_load_explicit(w, memory_order_acquire)) != want)
        RS(SYS_futex, w, FUTEX_WAIT, v, 0, 0, 0);
}

static int member_sync(w_ctl *c, w_mem *m, long *rc)
{
    const struct w_map *LM = c->maps;
    int nm = c->nmaps;
    long r;
    MPF_START();
#ifdef FMP_WARM_PROFILE
    if (m->id == 1)
        c->pf[43] += ml - c->tb; /* the wake */
#endif
    m->nfull = 0;
    /* 1. the heap's end */
    u64 ch = heap_end(m->maps, m->nmaps);
    if (c->brk && c->brk != ch) {
        r = RS1(SYS_brk, c->brk);
        if ((u64)r != c->brk)
            return *rc = -ENOMEM, 1;
        if ((r = read_own_maps(c, m)) < 0)
            return *rc = r, 2;
        u64 hs = 0;
        for (int i = 0; i < m->nmaps; i++)
            if (m->maps[i].kind == K_HEAP) {
                hs = m->maps[i].s;
                break;
            }
        if (hs && ch && c->brk > ch)
            uffd_reg(m->uffd, ch > hs ? ch : hs, c->brk); /* may have merged: then registered */
    }
    /* 2. where both have a mapping: another backing, or other protections */
    m->ncreate = 0;
    for (int i = 0, j = 0; i < nm && j < m->nmaps;) {
        const struct w_map *a = &LM[i], *b = &m->maps[j];
        u64 s = a->s > b->s ? a->s : b->s, e = a->e < b->e ? a->e : b->e;
        if (s < e) {
            if (!same_ident(a, b, s)) {
                RS2(SYS_munmap, s, e - s);
                if (m->ncreate < MAXMAPS) {
                    m->create[m->ncreate].s = s;
                    m->create[m->ncreate].e = e;
                    m->create[m->ncreate].li = i;
                    m->ncreate++;
                }
            } else if (a->prot != b->prot) {
                RS3(SYS_mprotect, s, e - s, a->prot);
                if (tracked(a) && !(b->prot & PROT_WRITE))
                    uffd_reg(m->uffd, s, e);
            }
        }
        if (a->e < b->e)
            i++;
        else
            j++;
    }
    /* 3. the master's memory the member holds in a mapping the body created (not
          registered: its content is unknown): reset and copied whole */
    for (long u = 0, i0 = 0, j0 = 0; u < m->ncu; u++) { /* the three lists are sorted */
        const struct w_range *U = &m->cunreg[u];
        while (i0 < nm && LM[i0].e <= U->s)
            i0++;
        while (j0 < m->nmaps && m->maps[j0].e <= U->s)
            j0++;
        for (long i = i0; i < nm && LM[i].s < U->e; i++) {
            u64 ls = LM[i].s > U->s ? LM[i].s : U->s, le = LM[i].e < U->e ? LM[i].e : U->e;
            for (long j = j0; j < m->nmaps && m->maps[j].s < le; j++) {
                const struct w_map *b = &m->maps[j];
                u64 s = b->s > ls ? b->s : ls, e = b->e < le ? b->e : le;
                if (s >= e || LM[i].kind == K_SHARED || !same_ident(&LM[i], b, s))
                    continue;
                RS3(SYS_madvise, s, e - s, MADV_DONTNEED);
                uffd_reg(m->uffd, s, e);
                if ((r = add_full(m, s, e)) < 0)
                    return *rc = r, 3;
            }
        }
    }
    /* 4. what the member has and the master not: unmapped */
    long nun = subtract(m->maps, m->nmaps, LM, nm, m->unmap, NULL, MAXMAPS);
    for (long i = 0; i < nun; i++)
        RS2(SYS_munmap, m->unmap[i].s, m->unmap[i].e - m->unmap[i].s);
    /* 5. what the master has and the member not: created */
    for (long i = 0; i < m->ncreate; i++)
        if ((r = create_part(c, m, &LM[m->create[i].li], m->create[i].s, m->create[i].e)) < 0)
            return *rc = r, 5;
    long ncr = subtract(LM, nm, m->maps, m->nmaps, m->unmap, m->idx, MAXMAPS);
    for (long i = 0; i < ncr; i++)
        if ((r = create_part(c, m, &LM[m->idx[i]], m->unmap[i].s, m->unmap[i].e)) < 0)
            return *rc = r, 5;
    /* 6. mappings the master made anew: ours reset to untouched */
    for (int i = 0; i < c->nfresh; i++) {
        RS3(SYS_madvise, c->fresh[i].s, c->fresh[i].e - c->fresh[i].s, MADV_DONTNEED);
        uffd_reg(m->uffd, c->fresh[i].s, c->fresh[i].e);
    }
    MPF(32);
    /* 7. what to copy: written by the master, by the body, or in a new mapping */
    if (c->full || m->cd_full) {
        m->nfull = 0;
        for (int i = 0; i < nm && m->nfull < MAXR; i++)
            if (tracked(&LM[i]))
                m->full[m->nfull++] = (struct w_range){LM[i].s, LM[i].e};
    }
    sort_ranges(m->full, m->nfull);
    long nu = merge3(c->dirty, c->full ? 0 : c->ndirty, m->cdirty, m->cd_full ? 0 : m->ncd, m->full,
                     m->nfull, m->merged);
    struct w_range *P = m->merged + nu;
    long np = 0;
    m->ntmp = 0;
    for (long i = 0, j = 0; i < nu; i++) {
        while (j < nm && LM[j].e <= m->merged[i].s)
            j++;
        for (long k = j; k < nm && LM[k].s < m->merged[i].e; k++) {
            u64 s = LM[k].s > m->merged[i].s ? LM[k].s : m->merged[i].s;
            u64 e = LM[k].e < m->merged[i].e ? LM[k].e : m->merged[i].e;
            if (s >= e || np >= 3 * MAXR || LM[k].kind == K_SHARED)
                continue;
            if (!(LM[k].prot & PROT_WRITE) && (m->ntmp == 0 || m->tmp[m->ntmp - 1] != k) &&
                m->ntmp < MAXMAPS) {
                m->tmp[m->ntmp++] = (int)k;
                /* executable stays so: code this member runs may be in it */
                RS3(SYS_mprotect, LM[k].s, LM[k].e - LM[k].s,
                    PROT_READ | PROT_WRITE | (LM[k].prot & PROT_EXEC));
            }
            if (np && P[np - 1].e == s)
                P[np - 1].e = e;
            else
                P[np++] = (struct w_range){s, e};
        }
    }
    MPF(33);
    /* 8. the copy.  A page the last protection covers takes a write-protect fault when
          the copy writes it (on a paravirtualised guest an exit to the hypervisor: about
          18 us a page here, 75 ms for 16 MiB); the large ranges are lifted first, one
          call each (a walk of their page tables), and protected again in step 10. */
    u64 pages = 0;
    for (long i = 0; i < np; i++) {
        pages += (P[i].e - P[i].s) / PG;
        if (P[i].e - P[i].s >= UNPROTECT_MIN)
            uffd_unwp(m->uffd, P[i].s, P[i].e); /* best effort: a range not registered */
    }
    atomic_fetch_add_explicit(&c->copied, pages, memory_order_relaxed);
#ifdef FMP_WARM_PROFILE
    if (m->id == 1)
        c->pf[50] += pages; /* a count */
#endif
    long pi = 0;
    u64 off = 0;
    while (pi < np) {
        int k = 0;
        long total = 0, qi = pi;
        u64 qo = off;
        while (k < NIOV && qi < np) {
            m->iov[k].iov_base = (void *)(uintptr_t)(P[qi].s + qo);
            m->iov[k].iov_len = P[qi].e - P[qi].s - qo;
            total += (long)m->iov[k].iov_len;
            k++;
            qi++;
            qo = 0;
        }
        r = RS(SYS_process_vm_readv, c->mpid, m->iov, k, m->iov, k, 0);
        if (r == total) {
            pi = qi;
            off = 0;
            continue;
        }
        if (r < 0 && r != -EFAULT)
            return *rc = r, 8;
        /* a page that cannot be read (gone from the master meanwhile): skip it */
        if (r < 0)
            r = 0;
        while (r > 0) {
            u64 left = P[pi].e - P[pi].s - off;
            if ((u64)r < left) {
                off += (u64)r;
                r = 0;
            } else {
                r -= (long)left;
                pi++;
                off = 0;
            }
        }
        off = (off + PG) & ~(PG - 1);
        if (pi < np && P[pi].s + off >= P[pi].e) {
            pi++;
            off = 0;
        }
    }
    for (int i = 0; i < m->ntmp; i++)
        RS3(SYS_mprotect, LM[m->tmp[i]].s, LM[m->tmp[i]].e - LM[m->tmp[i]].s, LM[m->tmp[i]].prot);
    MPF(34);
    /* 9. our own thread id in the control block */
    if (c->tid_off > 0)
        *(volatile int *)(uintptr_t)(m->fsbase + (u64)c->tid_off) = m->tid;
    /* and the cpu in our rseq area, which the kernel writes only when we are moved or
       preempted (glibc's sched_getcpu reads it): the master's was copied */
    unsigned cpu, node;
    if (c->rseq && RS3(SYS_getcpu, &cpu, &node, 0) == 0) {
        volatile uint32_t *rs = (volatile uint32_t *)(uintptr_t)(m->fsbase + (u64)c->rseq_off);
        rs[0] = cpu; /* cpu_id_start */
        rs[1] = cpu; /* cpu_id */
    }
    /* 10. protect again what the copy and the last body wrote, so that only the next
           body's writes show; a few pages are left as they are (STICKY_PAGES): the next
           sync copies them again */
    if (pages <= STICKY_PAGES && !c->full && !m->cd_full && !c->reprotect) {
        /* P holds all of it: the last body's writes too */
    } else if (np <= 64 && !c->full && !m->cd_full) {
        for (long i = 0; i < np; i++)
            uffd_wp(m->uffd, P[i].s, P[i].e);
        if (c->tid_off > 0) {
            u64 pg = (m->fsbase + (u64)c->tid_off) & ~(PG - 1);
            uffd_wp(m->uffd, pg, pg + PG);
        }
    } else {
        long nt = map_ranges(LM, nm, 1, m->tr); /* the tracked memory: ours is the master's */
        pm_scan_in(m->pmfd, m->tr, (int)nt, W_SCAN_WP_MATCHING, 0, W_PAGE_IS_WRITTEN,
                   W_PAGE_IS_WRITTEN, m->pr, NULL, 0);
    }
    MPF(35);
    /* the lost-write detector's snapshot never runs the program's code: its memory is
       all it needs (it never takes the program's descriptors: member_early) */
    if (m->id > c->nenter) {
        m->nwr = map_ranges(LM, nm, 0, m->wr);
        return 0;
    }
    /* 11. signal dispositions, as after a fork (the master posts them while the members
           copy; descriptors and working directory were taken before: member_early) */
    /* a few system calls of the master's: spin first, a sleep costs more */
    member_await(&c->acts, atomic_load_explicit(&c->seq, memory_order_relaxed), c->spin);
    for (int sig = 1; sig <= 64; sig++) {
        struct w_sigaction *a = &c->act[sig - 1], *mine = &m->act[sig - 1];
        if (sig == SIGKILL || sig == SIGSTOP || memcmp(a, mine, sizeof *a) == 0)
            continue;
        if ((r = RS(SYS_rt_sigaction, sig, a, NULL, 8, 0, 0)) < 0)
            return *rc = r, 11;
        *mine = *a;
    }
    MPF(36);
    m->nwr = map_ranges(LM, nm, 0, m->wr); /* c->maps changes after the region */
    return 0; /* the maps for the next diff are read after the body (member_post) */
}

/* The scheduling of pid (0: the caller): its policy (reset: SCHED_RESET_ON_FORK set),
   real-time priority, nice value and I/O priority.  0, or -errno. */
static long sched_of(pid_t pid, struct w_sched *s)
{
    long pol = RS1(SYS_sched_getscheduler, pid), nice = RS2(SYS_getpriority, PRIO_PROCESS, pid);
    long io = RS2(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, pid);
    if (pol < 0 || nice < 0 || io < 0)
        return pol < 0 ? pol : nice < 0 ? nice : io;
    *s = (struct w_sched){(int)(pol & ~(long)SCHED_RESET_ON_FORK), (pol & SCHED_RESET_ON_FORK) != 0,
                          0, 20 - (int)nice, (int)io};
    if (s->policy == SCHED_FIFO || s->policy == SCHED_RR)
        return RS2(SYS_sched_getparam, pid, &s->prio);
    return 0;
}

/* A member's own scheduling, as its last body left it, into m, for the next wake to
   compare with the master's; no interval timer of that body's (a new fork child has
   none), no subreaper; and whether the body took rights from its process for good (then
   the pool is renewed).  At its start (all = 1) also its rights, dispositions and limits,
   as the pool's fork left them.  A body's own dispositions and limits are not read back
   (the next sync sets those the master changed): a handler or a limit a body set on its
   member stays there (reading the dispositions back, by /proc/self/stat or status or a
   call each, cost a region 5 to 10 microseconds, most of it on the critical path). */
static void own_attrs(w_ctl *c, w_mem *m, int all)
{
    /* what a body may take from its own process for good (PR_SET_NO_NEW_PRIVS, a
       seccomp filter, capabilities dropped): a member that lost what a fork child of the
       master has asks for a new pool (master_open) */
    struct {
        uint32_t version;
        int pid;
    } hdr = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
    struct {
        uint32_t eff, prm, inh;
    } cap[2] = {{0}};
    RS2(SYS_capget, &hdr, cap);
    u64 now[4] = {(u64)RS2(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0),
                  (u64)RS2(SYS_prctl, PR_GET_SECCOMP, 0), (u64)cap[0].eff | (u64)cap[1].eff << 32,
                  (u64)cap[0].prm | (u64)cap[1].prm << 32};
    if (all)
        memcpy(m->rights, now, sizeof now);
    else if (memcmp(m->rights, now, sizeof now) != 0)
        atomic_store(&c->renew, 1);
    /* a fork child is no subreaper, whatever its parent is */
    RS2(SYS_prctl, PR_SET_CHILD_SUBREAPER, 0);
    for (int sig = 1; all && sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            RS(SYS_rt_sigaction, sig, NULL, &m->act[sig - 1], 8, 0, 0);
    for (int i = 0; all && i < RLIM_NLIMITS; i++)
        if (RS(SYS_prlimit64, 0, i, 0, &m->rl[i], 0, 0) < 0)
            break;
    static const long zero[4];
    for (int w = ITIMER_REAL; w <= ITIMER_PROF; w++)
        RS3(SYS_setitimer, w, zero, 0);
    if (sched_of(0, &m->sched) < 0)
        m->sched.policy = -1; /* unknown: set at the next wake */
}

/* The resource limits, scheduling policy and nice value of the master (of its first
   thread, which opens the regions) as a fork child of it would have them (the kernel's
   sched_fork: SCHED_RESET_ON_FORK drops a real-time policy and a negative nice value;
   SCHED_DEADLINE, which a fork refuses, is left alone), made the member's where they
   differ from what it holds.  The limits a body set in its own member stay (reading
   them back after every body costs more than a region should).  0, or -errno. */
static long attrs_from_master(const w_ctl *c, w_mem *m)
{
    long r;
    for (int i = 0; i < RLIM_NLIMITS; i++) {
        struct w_rlim want;
        if ((r = RS(SYS_prlimit64, c->mpid, i, 0, &want, 0, 0)) == -EINVAL)
            break; /* a kernel with fewer limits */
        if (r < 0)
            return r;
        if (memcmp(&want, &m->rl[i], sizeof want) == 0)
            continue;
        if ((r = RS(SYS_prlimit64, 0, i, &want, 0, 0, 0)) < 0)
            return r;
        m->rl[i] = want;
    }
    struct w_sched w, *own = &m->sched;
    if ((r = sched_of(c->mpid, &w)) < 0)
        return r;
    int rt = w.policy == SCHED_FIFO || w.policy == SCHED_RR;
    if (w.reset && rt) /* as the kernel's sched_fork */
        w.policy = SCHED_OTHER, w.prio = 0, w.nice = 0;
    else if (w.reset && w.nice < 0)
        w.nice = 0;
    if (w.policy != 6 /* SCHED_DEADLINE */ && (w.policy != own->policy || w.prio != own->prio)) {
        if ((r = RS3(SYS_sched_setscheduler, 0, w.policy, &w.prio)) < 0)
            return r;
        own->policy = w.policy, own->prio = w.prio;
    }
    if (w.nice != own->nice) {
        if ((r = RS3(SYS_setpriority, PRIO_PROCESS, 0, w.nice)) < 0)
            return r;
        own->nice = w.nice;
    }
    if (w.ioprio != own->ioprio) {
        if ((r = RS3(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, w.ioprio)) < 0)
            return r;
        own->ioprio = w.ioprio;
    }
    return 0;
}

/* What a fork child inherits and the memory does not hold, made the master's as the
   master posted it with the wake: the umask, the name, the THP switch and the alternate
   signal stack (the dispositions: member_sync; the descriptors and the working
   directory: member_early). */
static void apply_attrs(const w_ctl *c)
{
    RS1(SYS_umask, c->umask);
    RS2(SYS_prctl, PR_SET_NAME, (long)(uintptr_t)c->comm);
    RS2(SYS_prctl, PR_SET_THP_DISABLE, c->thp_off);
    /* a handler that runs on it (SA_ONSTACK: a stack overflow's SIGSEGV) needs it */
    RS2(SYS_sigaltstack, &c->altstack, 0);
}

/* What a member that enters the region takes from the master while the master still
   scans its memory (c->early): its descriptors and working directory, which the
   master's open does not change (a descriptor it opens and closes meanwhile may be
   taken, and goes at the next sync).  0, or the failing step (errno in *rc). */
static int member_early(w_ctl *c, w_mem *m, long *rc)
{
    long r;
    MPF_START();
    if ((r = sync_fds(c, m)) < 0)
        return *rc = r, 11;
    MPF(37);
    char path[64];
    proc_path(path, c->mpid, "cwd");
    if ((r = RS1(SYS_chdir, path)) < 0)
        return *rc = r, 11;
    apply_attrs(c);
    MPF(38);
    if ((r = attrs_from_master(c, m)) < 0)
        return *rc = r, 14;
    MPF(39);
    return 0;
}

/* After the body: what it wrote, and what it mapped. */
static void member_post(w_ctl *c, w_mem *m)
{
    MPF_START();
    long r;
    if ((r = read_own_maps(c, m)) < 0)
        member_fail(c, m, 13, r);
    MPF(42);
    /* what the body mapped (not registered: all of our private memory is), where we or
       the master at the last sync had private memory; our other mappings, and the
       shared ones, are not walked */
    long nt = map_ranges(m->maps, m->nmaps, 0, m->tr);
    long nw = merge3(m->tr, nt, m->wr, m->nwr, NULL, 0, m->trk);
    r = pm_scan_in(m->pmfd, m->trk, (int)nw, 0, W_PAGE_IS_WPALLOWED, W_PAGE_IS_WPALLOWED,
                   W_PAGE_IS_WPALLOWED, m->pr, m->cunreg, MAXMAPS);
    m->ncu = r < 0 ? 0 : r;
    m->cd_full = r < 0;
    MPF(41);
    /* what the body wrote, in the registered part of our tracked mappings: the scan for
       written pages alone (the kernel's fast path, as in master_prepare); listed, not
       protected: the pass after the next copy protects them with the rest */
    nt = map_ranges(m->maps, m->nmaps, 1, m->tr);
    nt = less_ranges(m->tr, nt, m->cunreg, m->ncu, m->trk, 2 * MAXMAPS);
    r = pm_scan_in(m->pmfd, m->trk, (int)nt, 0, 0, W_PAGE_IS_WRITTEN, W_PAGE_IS_WRITTEN, m->pr,
                   m->cdirty, MAXR);
    if (r < 0)
        m->cd_full = 1;
    m->ncd = r < 0 ? 0 : r;
    MPF(40);
    own_attrs(c, m, 0);
    MPF(44);
}

/* The signals pending in a member (all blocked since it parked: sent to the process
   group, raised by the last body, a timer's): a new fork child has none. */
static void drop_pending(void)
{
    u64 pend;
    static const long now[2];
    while (RS2(SYS_rt_sigpending, &pend, 8) == 0 && pend)
        if (RS(SYS_rt_sigtimedwait, &pend, 0, now, 8, 0, 0) < 0)
            break;
}

/* Back at the park, done with the region: holding none of the program's descriptors. */
static void park(w_ctl *c, w_mem *m)
{
    /* no signal reaches a parked member (between regions a fork's child would not exist:
       a signal to the process group, or a timer a body left, must not run a handler of
       the program's here nor end the member); what comes meanwhile is dropped at the
       next sync (drop_pending) */
    u64 all = ~0ULL;
    RS(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, 8, 0, 0);
    /* the member ends with its master, whatever a body set (PR_SET_PDEATHSIG) */
    RS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    drop_program_fds(m);
    bump(&c->parked);
}

static __attribute__((noreturn)) void member_loop(w_ctl *c, w_mem *m, uint32_t first)
{
    volatile uint32_t seen = first; /* kept across the jump back from the body */
    for (;;) {
        uint32_t s, last = seen;
        /* the next region may follow at once: spin as the team's members would (the
           snapshot, which has no body to run, sleeps at once: it would take a cpu from
           them) */
        for (long i = m->id > c->nenter ? 0 : c->spin;
             i > 0 && atomic_load_explicit(&c->early, memory_order_relaxed) == last; i--) {
            __builtin_ia32_pause();
            if ((i & 1023) == 0) /* the master may wait for this cpu (fmp__wait_change) */
                RS(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
        }
        while ((s = atomic_load_explicit(&c->early, memory_order_acquire)) == last) {
            struct timespec ts = {IDLE_CHECK_S, 0};
            if (RS(SYS_futex, &c->early, FUTEX_WAIT, last, &ts, 0, 0) != -ETIMEDOUT)
                continue;
            /* the master's memory is still there?  (an exec leaves no parent death to
               tell us, and the pool must not outlive the program) */
            uint64_t e;
            if (RS(SYS_pread64, m->mpmfd, &e, 8, (u64)(uintptr_t)c / PG * 8, 0, 0) != 8)
                RS1(SYS_exit_group, 0);
        }
        if (c->cmd == CMD_QUIT)
            RS1(SYS_exit_group, 0);
        long rc = 0;
        int step = m->id > c->nenter ? 0 : member_early(c, m, &rc);
        if (step) {
            member_fail(c, m, step, rc);
            RS1(SYS_exit_group, FMP_EXIT_FAILURE);
        }
        /* then the master's post: region s, or none (it forks this one after all).  A
           short spin, then asleep: the kernel may have woken us on the master's cpu, where
           a spin keeps from it the scans we wait for (until the end of our time slice) */
        member_await(&c->seq, s, c->spin < EARLY_SPIN ? c->spin : EARLY_SPIN);
        seen = s;
        if (c->cmd == CMD_QUIT)
            RS1(SYS_exit_group, 0);
        if (c->cmd != CMD_REGION) {
            park(c, m);
            continue;
        }
        step = member_sync(c, m, &rc);
        if (step) {
            member_fail(c, m, step, rc);
            RS1(SYS_exit_group, FMP_EXIT_FAILURE);
        }
        drop_pending();
        u64 mask = c->sigmask;
        RS(SYS_rt_sigprocmask, SIG_SETMASK, &mask, 0, 8, 0, 0);
        bump(&c->synced);
        if (m->id > c->nenter) {
            /* the lost-write detector's snapshot: parked at once, the members of the
               region read its memory (Yama: they are not its ancestors) */
            RS(SYS_prctl, PR_SET_PTRACER, -1L, 0, 0, 0, 0);
            member_post(c, m);
            park(c, m);
            continue;
        }
        if (c->threaded) {
            /* the master's other threads may have run while we copied: its verdict */
            member_await(&c->verdict, s, 4000);
            if (!c->go) {
                member_post(c, m); /* as after an empty body */
                park(c, m);
                continue;
            }
        }
        if (sigsetjmp(m->park, 0) == 0)
            siglongjmp(*(sigjmp_buf *)c->jb, m->id);
        /* back from the body (fmp__warm_park) */
        if (!tools_intact(m)) { /* the next sync cannot be trusted: the pool goes */
            member_fail(c, m, 24, -EBADF);
            RS1(SYS_exit_group, FMP_EXIT_FAILURE);
        }
        member_post(c, m);
        park(c, m);
    }
}

static int open_tool_fd(const char *path, int flags)
{
    long fd = RS3(SYS_open, path, flags | O_CLOEXEC, 0);
    if (fd < 0)
        return (int)fd;
    long hi = RS3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, TOOL_FD);
    RS1(SYS_close, fd);
    return (int)hi;
}

static int move_tool_fd(int fd)
{
    if (fd < 0)
        return fd;
    long hi = RS3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, TOOL_FD);
    RS1(SYS_close, fd);
    return (int)hi;
}

/* The member's first instructions on its park stack. */
static __attribute__((noreturn, noinline)) void member_main(w_ctl *c, w_mem *m)
{
    m->pid = (pid_t)RS1(SYS_getpid, 0);
    m->mpid = c->mpid;
    m->tid = (int)RS1(SYS_gettid, 0);
    m->fsbase = fs_base();
    /* a raw clone leaves the list unregistered (glibc's fork registers it again): the
       process-shared robust locks a member holds when it dies must read as abandoned */
    if (c->robust)
        RS2(SYS_set_robust_list, c->robust, c->robust_len);
    char path[64];
    m->uffd = move_tool_fd(uffd_create());
    m->pmfd = open_tool_fd("/proc/self/pagemap", O_RDONLY);
    proc_path(path, c->mpid, "pagemap");
    m->mpmfd = open_tool_fd(path, O_RDONLY);
    proc_path(path, c->mpid, "fd");
    m->mfddir = open_tool_fd(path, O_RDONLY | O_DIRECTORY);
    m->mpidfd = move_tool_fd((int)RS2(SYS_pidfd_open, c->mpid, 0));
    m->mapsfd = c->query ? open_tool_fd("/proc/self/maps", O_RDONLY) : -1;
    if (m->uffd < 0 || m->pmfd < 0 || m->mpmfd < 0 || m->mfddir < 0 || m->mpidfd < 0 ||
        (c->query && m->mapsfd < 0)) {
        member_fail(c, m, 20, m->uffd < 0 ? m->uffd : -EACCES);
        RS1(SYS_exit_group, FMP_EXIT_FAILURE);
    }
    tool_ids(m, m->tool_id);
    if (read_own_maps(c, m) < 0) {
        member_fail(c, m, 21, -E2BIG);
        RS1(SYS_exit_group, FMP_EXIT_FAILURE);
    }
    /* may it read its master's memory?  (Yama's ptrace_scope, a container's policy) */
    uint32_t probe;
    struct iovec here = {&probe, sizeof probe}, there = {&c->seq, sizeof probe};
    long pr = RS(SYS_process_vm_readv, c->mpid, &here, 1, &there, 1, 0);
    if (pr != (long)sizeof probe) {
        member_fail(c, m, 23, pr < 0 ? pr : -EIO);
        RS1(SYS_exit_group, FMP_EXIT_FAILURE);
    }
    /* track from here on; what the fork's child side wrote before is found below.  The
       private memory not writable is registered too (not protected): what is not
       registered after a body is what the body mapped, whatever its protections */
    for (int i = 0; i < m->nmaps; i++)
        if (m->maps[i].kind != K_SHARED) {
            long r = uffd_reg(m->uffd, m->maps[i].s, m->maps[i].e);
            if (r == 0 && tracked(&m->maps[i]))
                r = uffd_wp(m->uffd, m->maps[i].s, m->maps[i].e);
            if (r < 0) {
                member_fail(c, m, 22, r);
                RS1(SYS_exit_group, FMP_EXIT_FAILURE);
            }
        }
    /* pages no longer shared with the master (written since the fork): copied at the
       first region; the others still are the master's own */
    m->ncd = 0;
    for (int i = 0; i < m->nmaps && !m->cd_full; i++) {
        if (!tracked(&m->maps[i]))
            continue;
        for (u64 a = m->maps[i].s; a < m->maps[i].e;) {
            u64 cnt = (m->maps[i].e - a) / PG;
            if (cnt > 4096)
                cnt = 4096;
            long r = RS(SYS_pread64, m->pmfd, m->pm, cnt * 8, a / PG * 8, 0, 0);
            if (r <= 0) {
                m->cd_full = 1;
                break;
            }
            for (long k = 0; k < r / 8; k++, a += PG) {
                u64 e = m->pm[k];
                if (!((e >> 63) & 1) || !((e >> 56) & 1))
                    continue;
                if (m->ncd && m->cdirty[m->ncd - 1].e == a)
                    m->cdirty[m->ncd - 1].e = a + PG;
                else if (m->ncd < MAXR)
                    m->cdirty[m->ncd++] = (struct w_range){a, a + PG};
                else
                    m->cd_full = 1;
            }
        }
    }
    m->ncu = 0;
    own_attrs(c, m, 1);                  /* as inherited from the fork */
    uint32_t seq = atomic_load(&c->seq); /* before the master may post the first region */
    park(c, m);
    member_loop(c, m, seq);
}

/* ---------------------------------------------------------------- the master */

/* Fields 28 (startstack) and 47 (start_brk) of /proc/self/stat: 0, or -1. */
static int stat_starts(u64 *stack, u64 *brk)
{
    char b[1024];
    long r = fmp__read_file("/proc/self/stat", b, sizeof b);
    char *p = r > 0 ? strrchr(b, ')') : NULL;
    if (!p)
        return -1;
    *stack = *brk = 0;
    for (int field = 2; *p && field < 47;) {
        if (*p++ != ' ')
            continue;
        field++;
        if (field == 28 || field == 47)
            *(field == 28 ? stack : brk) = strtoull(p, NULL, 10);
    }
    return *stack && *brk ? 0 : -1;
}

static int fd_above_stdio(int fd);
static w_fdid fd_id(int fd);

/* PROCMAP_QUERY is used for the maps when it gives what the text just read (c->maps)
   gave; otherwise (an older kernel, a rule of query_maps that this kernel does not
   follow) the text is read at every region, as before. */
static void query_probe(w_ctl *c, w_mpriv *mp)
{
    c->query = 0;
    if (stat_starts(&c->start_stack, &c->start_brk) < 0)
        return;
    g_pool.mapsfd = fd_above_stdio(open("/proc/self/maps", O_RDONLY | O_CLOEXEC));
    if (g_pool.mapsfd < 0)
        return;
    g_pool.mapsfd_id = fd_id(g_pool.mapsfd);
    c->query = 1;
    for (int attempt = 0; attempt < 2; attempt++) {           /* another thread may map meanwhile */
        struct w_map *q = (struct w_map *)(void *)mp->merged; /* scratch: MAXMAPS fit */
        int n = read_maps(c, g_pool.mapsfd, NULL, 0, q);
        if (n == c->nmaps && memcmp(q, c->maps, (size_t)n * sizeof *q) == 0)
            return;
        if (n < 0 || attempt)
            break;
        long r = fmp__read_file("/proc/self/maps", mp->buf, sizeof mp->buf);
        c->nmaps = r < 0 ? -1 : parse_maps(mp->buf, c->maps, MAXMAPS, c->xs, c->xe, NULL, NULL);
    }
    c->query = 0; /* the text, read through g_pool.mapsfd */
}

static int master_track_all(w_ctl *c, char *why, size_t len)
{
    w_mpriv *mp = (w_mpriv *)g_pool.res;
    long r = fmp__read_file("/proc/self/maps", mp->buf, sizeof mp->buf);
    if (r < 0) {
        snprintf(why, len, "cannot read /proc/self/maps (%s)", strerror((int)-r));
        return -1;
    }
    c->nspecial = 0;
    c->nmaps = parse_maps(mp->buf, c->maps, MAXMAPS, c->xs, c->xe, c->special, &c->nspecial);
    if (c->nmaps < 0) {
        snprintf(why, len, "more than %d mappings", MAXMAPS);
        return -1;
    }
    query_probe(c, mp);
    c->nshared = 0;
    for (int i = 0; i < c->nmaps; i++)
        if (c->maps[i].kind == K_SHARED && c->nshared < MAXSHARED)
            c->shared[c->nshared++] = c->maps[i];
    for (int i = 0; i < c->nmaps; i++) { /* the private memory: see master_prepare */
        if (c->maps[i].kind == K_SHARED)
            continue;
        /* protected where it is writable only: protecting read-only memory would fill its
           page tables with markers (8 MiB of them for a 4 GiB file mapped read-only); the
           scans of written pages never walk it (the tracked and fresh ranges alone) */
        r = uffd_reg(g_pool.uffd, c->maps[i].s, c->maps[i].e);
        if (r == 0 && tracked(&c->maps[i]))
            r = uffd_wp(g_pool.uffd, c->maps[i].s, c->maps[i].e);
        if (r < 0) {
            snprintf(why, len, "the mapping at %#lx cannot be tracked (%s)",
                     (unsigned long)c->maps[i].s, strerror((int)-r));
            return -1;
        }
    }
    return 0;
}

/* The master's shared mappings when the pool forked: the members have them too. */
static int pool_shares(const w_ctl *c, const struct w_map *m)
{
    for (int i = 0; i < c->nshared; i++)
        if (c->shared[i].s <= m->s && m->e <= c->shared[i].e && c->shared[i].ino == m->ino &&
            c->shared[i].off + (m->s - c->shared[i].s) == m->off)
            return 1;
    return 0;
}

/* A number after "key:" in the text of the file at path (-1 if none). */
static long proc_number(const char *path, const char *key, char *buf, long cap)
{
    if (fmp__read_file(path, buf, cap) <= 0)
        return -1;
    const char *q = key[0] ? strstr(buf, key) : buf;
    if (!q)
        return -1;
    q += strlen(key);
    while (*q == ' ' || *q == '\t')
        q++;
    long v = 0;
    for (; *q >= '0' && *q <= '9'; q++)
        v = v * 10 + (*q - '0');
    return v;
}

/* The master's resident pages (-1 if unknown). */
static long proc_statm_resident(void)
{
    char *b = ((w_mpriv *)g_pool.res)->buf;
    if (proc_number("/proc/self/statm", "", b, 4096) < 0) /* size, then resident */
        return -1;
    const char *q = strchr(b, ' ');
    return q ? strtol(q + 1, NULL, 10) : -1;
}

/* FMP_REGION=auto: the pages worth copying to the members at a region; past them a
   fork costs less.  A fork costs about its page tables, in proportion to the resident
   memory; a sync, the pages copied to each member: on x86-64 VMs a fork of a process
   holding R bytes costs about what copying R/16 bytes does. */
/* The master's resident pages, read again every 32 regions (a read of statm costs about
   15 µs, the resident size moves slowly); -1 if unknown. */
static long master_rss(void)
{
    if (g_pool.rss <= 0 || (g_pool.used % 32 == 0 && g_pool.rss_used != g_pool.used)) {
        g_pool.rss = proc_statm_resident();
        g_pool.rss_used = g_pool.used;
    }
    return g_pool.rss;
}

static u64 auto_budget(void)
{
    master_rss();
    u64 b = g_pool.rss > 0 ? (u64)g_pool.rss / 16 / (u64)g_pool.nmem : 0;
    return b > AUTO_FORK_MIN / PG ? b : AUTO_FORK_MIN / PG;
}

static u64 pages_in(const struct w_range *r, long n)
{
    u64 p = 0;
    for (long i = 0; i < n; i++)
        p += (r[i].e - r[i].s) / PG;
    return p;
}

/* The sorted ranges r[0..n) added to the sorted list to[0..*nto) of at most max (0: more
   than that). */
static int merge_into(w_mpriv *mp, struct w_range *to, long *nto, long max, const struct w_range *r,
                      long n)
{
    long k = merge3(to, *nto, r, n, NULL, 0, mp->merged);
    if (k > max)
        return 0;
    memcpy(to, mp->merged, (size_t)k * sizeof *to);
    *nto = k;
    return 1;
}

/* At a region's open: the master's maps, what it mapped anew, what it wrote. */
static int master_prepare(w_ctl *c, char *why, size_t len)
{
    w_mpriv *mp = (w_mpriv *)g_pool.res;
    c->nmaps = read_maps(c, g_pool.mapsfd, mp->buf, sizeof mp->buf, c->maps);
    WP(2);
    long r;
    if (c->nmaps < 0) {
        snprintf(why, len, "cannot read this process's mappings");
        return -1;
    }
    c->brk = heap_end(c->maps, c->nmaps);
    for (int i = 0; i < c->nmaps; i++)
        if (c->maps[i].kind == K_SHARED && !pool_shares(c, &c->maps[i])) {
            snprintf(why, len, "a shared mapping appeared at %#lx", (unsigned long)c->maps[i].s);
            return -3; /* the members lack it: a new pool, forked now, shares it */
        }
    /* private memory not registered yet (the maps just read leave out the pool's
       reservation): all of it is registered, not writable too, so that one the master made
       anew shows here whatever its protections (a mapping written, then made read-only,
       at an address where the members hold another of the same kind) */
    mp->ntr = map_ranges(c->maps, c->nmaps, 1, mp->tr);
    mp->npv = map_ranges(c->maps, c->nmaps, 0, mp->pv);
    long nu = pm_scan_in(g_pool.pmfd, mp->pv, mp->npv, 0, W_PAGE_IS_WPALLOWED, W_PAGE_IS_WPALLOWED,
                         W_PAGE_IS_WPALLOWED, mp->pr, mp->unreg, MAXMAPS);
    WP(4);
    if (nu < 0) {
        snprintf(why, len, "PAGEMAP_SCAN failed (%s)", strerror((int)-nu));
        return -1;
    }
    long nf = 0;
    int over = 0; /* more fresh ranges than the list holds */
    for (long i = 0, j = 0; i < nu; i++) {
        while (j < c->nmaps && c->maps[j].e <= mp->unreg[i].s)
            j++;
        for (long k = j; k < c->nmaps && c->maps[k].s < mp->unreg[i].e; k++) {
            if (c->maps[k].kind == K_SHARED)
                continue;
            u64 s = c->maps[k].s > mp->unreg[i].s ? c->maps[k].s : mp->unreg[i].s;
            u64 e = c->maps[k].e < mp->unreg[i].e ? c->maps[k].e : mp->unreg[i].e;
            if (s >= e)
                continue;
            r = uffd_reg(g_pool.uffd, s, e);
            if (r < 0) {
                snprintf(why, len, "the mapping at %#lx cannot be tracked (%s)", (unsigned long)s,
                         strerror((int)-r));
                return -1;
            }
            if (nf && c->fresh[nf - 1].e == s)
                c->fresh[nf - 1].e = e;
            else if (nf < MAXMAPS)
                c->fresh[nf++] = (struct w_range){s, e};
            else
                over = 1;
        }
    }
    if (over) {
        snprintf(why, len, "more than %d new mappings", MAXMAPS);
        return -3; /* a new pool, forked now, has them all */
    }
    /* Protecting written pages again costs a TLB flush per page table touched, which a
       paravirtualised guest pays dearly; copying a page costs little.  So while the pages
       written but not protected are few they stay so, and the members copy them at every
       region; past STICKY_PAGES they are protected, and the count starts again.  The
       tracked ranges are all registered now, so the scan asks for written pages alone
       (the kernel's fast path: a third of the time of one that also asks for
       registered memory); over the fresh ones too, not writable ones included: every
       page of theirs reads as written (none is protected yet), and is copied. */
    WP(5);
    long ntw = merge3(mp->tr, mp->ntr, c->fresh, nf, NULL, 0, mp->tw);
    long nd = pm_scan_in(g_pool.pmfd, mp->tw, (int)ntw, 0, 0, W_PAGE_IS_WRITTEN, W_PAGE_IS_WRITTEN,
                         mp->pr, c->dirty, MAXR);
    /* a page written once (the pool's own start, a function's first call through the
       PLT) would stay among the sticky pages for good, copied at every region: at the
       pool's regions 2, 4, 8, ... and every 256th all are protected again, here and in
       the members */
    u64 u = (u64)g_pool.used;
    c->reprotect = u >= 2 && ((u & (u - 1)) == 0 || u % 256 == 0);
    if (nd < 0 || c->reprotect || pages_in(c->dirty, nd) > STICKY_PAGES)
        nd = pm_scan_in(g_pool.pmfd, mp->tw, (int)ntw, W_SCAN_WP_MATCHING, 0, W_PAGE_IS_WRITTEN,
                        W_PAGE_IS_WRITTEN, mp->pr, c->dirty, MAXR);
    WP(6);
    c->full = nd < 0;
    c->ndirty = nd < 0 ? 0 : nd;
    if (nd < 0 && nd != -E2BIG) {
        snprintf(why, len, "PAGEMAP_SCAN failed (%s)", strerror((int)-nd));
        return -1;
    }
    if (nd < 0) /* protect everything again; the members copy all */
        pm_scan_in(g_pool.pmfd, mp->tw, (int)ntw, W_SCAN_WP_MATCHING, 0, W_PAGE_IS_WRITTEN,
                   W_PAGE_IS_WRITTEN, mp->pr, NULL, 0);
    /* auto: a region after more writes than are worth copying forks, and the pool waits
       with what they were; the next region that could run warm starts a new pool instead
       when the writes of the regions that forked are too many to copy (a pool forked anew
       has them all) */
    u64 budget = g_mode == FMP__REGION_AUTO ? auto_budget() : 0;
    u64 wrote = pages_in(c->dirty, c->ndirty);
    int cut = budget && (c->full || wrote > budget);
    if (budget && !cut && (mp->pend_full || wrote + pages_in(mp->pend, mp->npend) > budget)) {
        snprintf(why, len, "the master wrote too much since the pool's last region");
        return -3;
    }
    if (cut) { /* kept for the next region that runs warm */
        if (c->full || !merge_into(mp, mp->pend, &mp->npend, MAXR, c->dirty, c->ndirty))
            mp->pend_full = 1;
        if (!merge_into(mp, mp->pfresh, &mp->npfresh, MAXMAPS, c->fresh, nf))
            mp->pend_full = 1;
        return -4;
    }
    /* what the regions that forked left goes with this region's */
    if (!merge_into(mp, c->fresh, &nf, MAXMAPS, mp->pfresh, mp->npfresh))
        c->full = 1;
    if (mp->pend_full || !merge_into(mp, c->dirty, &c->ndirty, MAXR, mp->pend, mp->npend))
        c->full = 1;
    c->nfresh = (int)nf;
    mp->npend = mp->npfresh = mp->pend_full = 0;
    WP(7);
    return 0;
}

/* The hexadecimal mask after key in the text b (/proc/self/status) into *v: 0, or -1
   when it is not there. */
static int status_mask(const char *b, const char *key, uint64_t *v)
{
    const char *q = strstr(b, key);
    if (!q)
        return -1;
    int n = 0;
    for (q += strlen(key); *q == '\t' || *q == ' '; q++)
        ;
    for (*v = 0;; q++, n++) {
        int d = *q >= '0' && *q <= '9' ? *q - '0' : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10 : -1;
        if (d < 0)
            break;
        *v = *v << 4 | (uint64_t)d;
    }
    return n == 16 ? 0 : -1;
}

/* The credentials a fork child inherits, from the text b (/proc/self/status): a hash of
   their lines (users, groups, capabilities, no_new_privs, seccomp, the speculation
   controls), or 0 if none is there.  A warm member keeps those of the pool's fork: a
   change makes a new pool (master_open). */
static u64 status_creds(const char *b)
{
    static const char *const key[] = {
        "\nUid:",        "\nGid:",     "\nGroups:",          "\nCapInh:",
        "\nCapPrm:",     "\nCapEff:",  "\nCapBnd:",          "\nCapAmb:",
        "\nNoNewPrivs:", "\nSeccomp:", "\nSeccomp_filters:", "\nSpeculation"};
    u64 h = 1469598103934665603ULL; /* FNV-1a; a strstr each: 0.4 µs in all, one pass 2 */
    int found = 0;
    for (size_t i = 0; i < sizeof key / sizeof *key; i++) {
        const char *q = strstr(b, key[i]);
        found |= q != NULL;
        for (q = q ? q + 1 : ""; *q && *q != '\n'; q++)
            h = (h ^ (unsigned char)*q) * 1099511628211ULL;
        h = (h ^ '\n') * 1099511628211ULL;
    }
    return found ? h : 0;
}

/* fd moved to a number above 2 (stdin..stderr closed by the program), or -1. */
static int fd_above_stdio(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return hi;
}

/* Which file a descriptor the runtime holds in the master is (the pool's, the kept
   thread files; at the lowest free numbers, as the program's own): one the program
   closed and whose number it reused is never read as ours nor closed by the runtime. */
static w_fdid fd_id(int fd)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return (w_fdid){0, 0};
    return (w_fdid){(u64)st.st_dev, (u64)st.st_ino};
}

static int is_held(int fd, w_fdid id)
{
    w_fdid now = fd_id(fd);
    return fd >= 0 && id.ino && now.dev == id.dev && now.ino == id.ino;
}

static void close_held(int fd, w_fdid id)
{
    if (is_held(fd, id))
        close(fd);
}

/* pid is a child of ours not yet reaped (alive, or a zombie) */
static int own_child(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return pid > 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0;
}

/* The master's signal mask and dispositions, posted for region seq while the members
   copy (they wait for them at the end of their sync).  A disposition is read with
   rt_sigaction (a system call, about 1 µs each on VMs) only where the kernel says the
   signal is caught (SigCgt in /proc/self/status, read by master_threads) and for SIGCHLD
   (whose flags matter with SIG_DFL too); the others are SIG_IGN or SIG_DFL, as SigIgn
   says. */
static void master_post_acts(w_ctl *c, uint32_t seq)
{
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    memcpy(&c->sigmask, &cur, sizeof c->sigmask);
    uint64_t ign = g_pool.ign, cgt = g_pool.masks ? g_pool.cgt : ~0ULL; /* else all */
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        uint64_t bit = 1ULL << (sig - 1);
        struct w_sigaction *a = &c->act[sig - 1];
        if ((cgt & bit) || sig == SIGCHLD)
            RS(SYS_rt_sigaction, sig, NULL, a, 8, 0, 0);
        else
            *a = (struct w_sigaction){(ign & bit) ? (u64)(uintptr_t)SIG_IGN : 0, 0, 0, 0};
    }
    atomic_store_explicit(&c->acts, seq, memory_order_release);
    RS(SYS_futex, &c->acts, FUTEX_WAKE, INT_MAX, 0, 0, 0);
}

/* The team's copies of the members' pidfds, or (n == 0) those a region that did not
   bind its slots left. */
static void slot_pidfds(int n)
{
    for (int m = 0; m < g_pool.nmem; m++) {
        if (g_pool.mb[m].spidfd > 2)
            close_held(g_pool.mb[m].spidfd, g_pool.mb[m].pidfd_id);
        g_pool.mb[m].spidfd = m < n ? fcntl(g_pool.mb[m].pidfd, F_DUPFD_CLOEXEC, 3) : -1;
    }
}

/* Whether each of the pool's descriptors is still the file it opened (an fstat each, at
   every region: about 0.2 µs apiece). */
static int pool_files_held(void)
{
    if (!is_held(g_pool.uffd, g_pool.uffd_id) || !is_held(g_pool.pmfd, g_pool.pmfd_id) ||
        !is_held(g_pool.stfd, g_pool.stfd_id) ||
        (g_pool.mapsfd >= 0 && !is_held(g_pool.mapsfd, g_pool.mapsfd_id)))
        return 0;
    for (int m = 0; m < g_pool.nmem; m++)
        if (!is_held(g_pool.mb[m].pidfd, g_pool.mb[m].pidfd_id))
            return 0;
    return 1;
}

static void close_pool_files(void)
{
    close_held(g_pool.uffd, g_pool.uffd_id);
    close_held(g_pool.pmfd, g_pool.pmfd_id);
    close_held(g_pool.stfd, g_pool.stfd_id);
    close_held(g_pool.mapsfd, g_pool.mapsfd_id);
}

static void pool_destroy(void)
{
    if (!g_pool.ctl)
        return;
    w_ctl *c = g_pool.ctl;
    if (c->mpid == getpid()) {
        wprof_print(c);
        slot_pidfds(0);
        /* each member by its pidfd; by its pid where the program gave the pidfd's number
           to a file of its own (the member is still our child, not reaped: its pid is
           its own until we reap it) */
        char by_fd[FMP__MAX_TEAM];
        int quit = 0;
        for (int m = 0; m < g_pool.nmem; m++) {
            by_fd[m] = is_held(g_pool.mb[m].pidfd, g_pool.mb[m].pidfd_id);
            long r = 0;
            if (by_fd[m])
                r = syscall(SYS_pidfd_send_signal, g_pool.mb[m].pidfd, SIGKILL, NULL, 0);
            else if (own_child(g_pool.mb[m].pid))
                r = kill(g_pool.mb[m].pid, SIGKILL);
            quit |= r < 0 && errno == EPERM;
        }
        if (quit) {
            /* a master that gave up its rights since the pool's fork (setuid) may not
               signal its members: told to end, they do at their park, where they are
               between regions (the pool is renewed at the first region after such a
               change: master_open) */
            c->cmd = CMD_QUIT;
            bump(&c->early);
            bump(&c->seq);
        }
        for (int m = 0; m < g_pool.nmem; m++) {
            siginfo_t si;
            if (by_fd[m]) {
                while (waitid(P_PIDFD, (id_t)g_pool.mb[m].pidfd, &si, WEXITED | __WALL) < 0 &&
                       errno == EINTR)
                    ;
                close(g_pool.mb[m].pidfd);
            } else if (own_child(g_pool.mb[m].pid)) {
                while (waitid(P_PID, (id_t)g_pool.mb[m].pid, &si, WEXITED | __WALL) < 0 &&
                       errno == EINTR)
                    ;
            }
        }
        close_pool_files(); /* the userfaultfd's close unregisters the master's memory */
        munmap(g_pool.res, g_pool.res_len);
        fmp__arena_free(c);
    }
    memset(&g_pool, 0, sizeof g_pool);
}

/* In a child of the program's own fork: the pool is its parent's; the descriptors the
   parent held for it are copies here, closed (its members, memory and tracking are not):
   at once by the fork's child handler (warm_atfork_child), or here after a fork that
   ran none (a raw clone), where the child may have reused the numbers already. */
static void forget_pool(void)
{
    close_pool_files();
    for (int m = 0; m < g_pool.nmem; m++) {
        close_held(g_pool.mb[m].pidfd, g_pool.mb[m].pidfd_id);
        close_held(g_pool.mb[m].spidfd, g_pool.mb[m].pidfd_id);
    }
    memset(&g_pool, 0, sizeof g_pool);
}

int fmp__threads_of_self(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The master's threads and pinned pages (-1 each if unknown), from one read of
   /proc/self/status (a pread of the pool's descriptor once there is a pool), which also
   gives the signal masks for master_post_acts. */
__attribute__((noinline)) static int master_threads(pid_t me, long *pinned_kb)
{
    g_pool.masks = 0;
    *pinned_kb = -1;
    /* the lines read here come before Cpus_allowed and Mems_allowed, which grow long on
       big nodes: the file's first 4 KiB are enough, a whole read may not fit */
    char b[4096];
    const char *q = NULL;
    if (g_pool.ctl && g_pool.ctl->mpid == me && g_pool.stfd > 2) {
        /* a file of the pool's not ours: the program closed the pool's descriptors
           (closefrom) or gave their numbers to files of its own; the pool goes
           (warm_enter), none of its calls made on the program's files */
        g_pool.lost = !pool_files_held();
        long n = g_pool.lost ? -1 : pread(g_pool.stfd, b, sizeof b - 1, 0);
        q = n > 0 ? (b[n] = 0, strstr(b, "\nThreads:")) : NULL;
        g_pool.lost |= !q;
    }
    if (!q) {
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        long n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
        if (fd >= 0)
            close(fd);
        q = n > 0 ? (b[n] = 0, strstr(b, "\nThreads:")) : NULL;
    }
    if (!q)
        return fmp__threads_of_self();
    const char *v = strstr(b, "\nVmPin:");
    if (v)
        *pinned_kb = atol(v + strlen("\nVmPin:"));
    g_pool.masks = status_mask(b, "\nSigIgn:", &g_pool.ign) == 0 &&
                   status_mask(b, "\nSigCgt:", &g_pool.cgt) == 0;
    const char *um = strstr(b, "\nUmask:");
    g_status.umask = um ? (uint32_t)strtoul(um + strlen("\nUmask:"), NULL, 8) : 022;
    g_status.creds = status_creds(b);
    return atoi(q + strlen("\nThreads:"));
}

/* ---------------------------------------------------------------- other threads

   A master with other threads (an MPI rank: Open MPI's progress threads) runs warm only
   when none of them runs while the members copy: then the copy is a snapshot of the
   process at one instant, taken while each of them was blocked in a wait that holds no
   lock of the C library's (poll, epoll, select, sleeps, a condition variable's futex),
   which is what a fork would have given (fork takes glibc's locks; a snapshot at such an
   instant has none held).  No signal is sent: /proc/self/task/TID/schedstat counts the
   times the thread was put on a cpu; read before the thread's syscall file and again
   after the members synced, an unchanged count says that it never ran in between.  When
   it ran, the members park again without entering and the region forks. */
#define MAXTHR 64
/* The other threads' schedstat and syscall files stay open from region to region (a
   path lookup in /proc costs more than the read) for up to KEEPTHR threads: two
   descriptors each, the pool's (its members never take them). */
#define KEEPTHR 8
static struct {
    int n;
    pid_t pid; /* the process whose threads these are (getpid at the listing) */
    int kept;  /* sfd and cfd hold the n threads' files */
    int fresh; /* runs were read again by threads_reread, before the count */
    int tid[MAXTHR];
    u64 runs[MAXTHR];
    int sfd[KEEPTHR]; /* /proc/self/task/TID/schedstat */
    int cfd[KEEPTHR]; /* /proc/self/task/TID/syscall */
    w_fdid sid[KEEPTHR], cid[KEEPTHR];
} g_thr;

/* The runs count in the schedstat text b. */
static int parse_runs(const char *b, u64 *runs)
{
    const char *q = strchr(b, ' ');
    q = q ? strchr(q + 1, ' ') : NULL; /* run time, wait time, runs */
    if (!q || q[1] < '0' || q[1] > '9')
        return -1;
    *runs = strtoull(q + 1, NULL, 10);
    /* a thread has run at least once: 0 is a kernel without these counts ("0 0 0"),
       where a thread's stillness cannot be seen */
    return *runs ? 0 : -1;
}

/* A short /proc file of thread i of the listing (kept open, or opened by tid): the
   length read into b, or < 0 (the thread is gone). */
static long thread_file(int i, int sched, char *b, long cap)
{
    if (g_thr.kept) {
        long n = pread(sched ? g_thr.sfd[i] : g_thr.cfd[i], b, (size_t)cap - 1, 0);
        if (n >= 0)
            b[n] = 0;
        return n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", g_thr.tid[i],
             sched ? "schedstat" : "syscall");
    return fmp__read_file(path, b, cap);
}

static int thread_runs(int i, u64 *runs)
{
    char b[128];
    return thread_file(i, 1, b, sizeof b) <= 0 ? -1 : parse_runs(b, runs);
}

/* Whether thread i of the listing is blocked in a wait during which the C library
   holds no lock. */
static int thread_waits_safely(int i)
{
    char b[256];
    if (thread_file(i, 0, b, sizeof b) <= 0 || b[0] < '0' || b[0] > '9')
        return 0; /* "running", or -1: stopped outside a system call */
    char *e;
    long nr = strtol(b, &e, 10);
    switch (nr) {
    case SYS_poll:
    case SYS_ppoll:
    case SYS_select:
    case SYS_pselect6:
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
    case 441: /* epoll_pwait2 */
    case SYS_nanosleep:
    case SYS_clock_nanosleep:
        return 1;
    case SYS_futex: {
        /* FUTEX_WAIT_BITSET: condition variables, semaphores, joins; glibc's own locks
           wait with FUTEX_WAIT, and a thread waiting for one may hold another */
        strtoul(e, &e, 16); /* the address */
        unsigned long op = strtoul(e, &e, 16);
        return (op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET;
    }
    default:
        return 0;
    }
}

/* The kept files closed (a copy in a child of the program's fork: its parent's threads). */
static void threads_forget(void)
{
    for (int i = 0; g_thr.kept && i < g_thr.n; i++) {
        close_held(g_thr.sfd[i], g_thr.sid[i]);
        close_held(g_thr.cfd[i], g_thr.cid[i]);
    }
    g_thr.n = g_thr.kept = g_thr.fresh = 0;
}

/* In the child of a fork (the program's, or a forked region's), before anything else
   runs there: the pool's descriptors and the kept thread files are its parent's, closed
   before the child can give their numbers to files of its own.  A clone child that runs
   no handler is seen at its first region (forget_pool, threads_reread). */
static void warm_atfork_child(void)
{
    if (!g_pool.ctl && !g_thr.kept)
        return;
    if (g_pool.ctl)
        forget_pool(); /* each closed where the parent had not given its number away */
    threads_forget();
}

static void warm_atfork_once(void)
{
    static int done;
    if (!done)
        done = pthread_atfork(NULL, NULL, warm_atfork_child) == 0;
}

/* At a region's open, before the threads are counted: the runs of the threads the last
   listing kept, read again.  Each listed thread that is still there is then known to
   have been listed before the count: a thread the count finds beyond them was made
   since by one of them, which then ran, and threads_stood_still sees it. */
static void threads_reread(void)
{
    g_thr.fresh = 0;
    if (!g_thr.kept)
        return;
    if (g_thr.pid != getpid()) {
        threads_forget();
        return;
    }
    for (int i = 0; i < g_thr.n; i++) {
        if (!is_held(g_thr.sfd[i], g_thr.sid[i]) || !is_held(g_thr.cfd[i], g_thr.cid[i])) {
            threads_forget(); /* the program closed one and reused its number: its own */
            return;
        }
        if (thread_runs(i, &g_thr.runs[i]) < 0)
            return; /* one is gone: listed again */
    }
    g_thr.fresh = 1;
}

/* The other threads listed from /proc/self/task, their files kept open when they are
   few: their count, or -1 and why. */
static int threads_list(pid_t me, char *why, size_t len)
{
    threads_forget();
    DIR *d = opendir("/proc/self/task");
    if (!d) {
        snprintf(why, len, "/proc/self/task: %s", strerror(errno));
        return -1;
    }
    struct dirent *e;
    int over = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int tid = atoi(e->d_name);
        if (tid == me)
            continue;
        if (g_thr.n == MAXTHR)
            over = 1;
        else
            g_thr.tid[g_thr.n++] = tid;
    }
    closedir(d);
    if (over) {
        snprintf(why, len, "the process has more than %d threads", MAXTHR);
        g_thr.n = 0;
        return -1;
    }
    g_thr.pid = getpid();
    if (g_thr.n > KEEPTHR)
        return g_thr.n;
    int k = 0;
    for (; k < g_thr.n; k++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", g_thr.tid[k]);
        g_thr.sfd[k] = fd_above_stdio(open(path, O_RDONLY | O_CLOEXEC));
        snprintf(path, sizeof path, "/proc/self/task/%d/syscall", g_thr.tid[k]);
        g_thr.cfd[k] = fd_above_stdio(open(path, O_RDONLY | O_CLOEXEC));
        if (g_thr.sfd[k] < 0 || g_thr.cfd[k] < 0)
            break;
        g_thr.sid[k] = fd_id(g_thr.sfd[k]);
        g_thr.cid[k] = fd_id(g_thr.cfd[k]);
    }
    if (k < g_thr.n) { /* read by path (a thread gone, or no descriptor left) */
        for (int i = 0; i <= k; i++) {
            if (g_thr.sfd[i] >= 0)
                close(g_thr.sfd[i]);
            if (g_thr.cfd[i] >= 0)
                close(g_thr.cfd[i]);
        }
        return g_thr.n;
    }
    g_thr.kept = 1;
    return g_thr.n;
}

/* The master's other threads (others of them, by the count), each standing in a safe
   wait: 0, or -1 and why. */
static int threads_snapshot(pid_t me, int others, char *why, size_t len)
{
    if (!g_thr.fresh || g_thr.n != others) {
        if (threads_list(me, why, len) < 0)
            return -1;
        for (int i = 0; i < g_thr.n; i++)
            if (thread_runs(i, &g_thr.runs[i]) < 0) {
                snprintf(why, len,
                         "another thread of the process (%d) ended as the region "
                         "began",
                         g_thr.tid[i]);
                return -1;
            }
        /* counted again after the runs were read (threads_reread) */
        int now = fmp__threads_of_self();
        if (now != g_thr.n + 1) {
            if (now < 0)
                snprintf(why, len, "/proc/self/task: %s", strerror(errno));
            else
                snprintf(why, len, "the process's threads changed as the region began");
            return -1;
        }
    }
    g_thr.fresh = 0;
    for (int i = 0; i < g_thr.n; i++)
        if (!thread_waits_safely(i)) {
            snprintf(why, len,
                     "another thread of the process (%d) was running, or waiting where the C "
                     "library may hold a lock, when the region began",
                     g_thr.tid[i]);
            return -1;
        }
    return 0;
}

/* Whether none of the snapshot's threads ran since. */
static int threads_stood_still(void)
{
    for (int i = 0; i < g_thr.n; i++) {
        u64 runs;
        if (thread_runs(i, &runs) < 0 || runs != g_thr.runs[i])
            return 0;
    }
    return 1;
}

static int pool_create(int nmem, int level, char *why, size_t len)
{
    warm_atfork_once();
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
        nofile.rlim_cur < (rlim_t)TOOL_FD + 32) {
        snprintf(why, len,
                 "the descriptor limit (RLIMIT_NOFILE, `ulimit -n`) is %llu: warm members keep "
                 "their own descriptors from %d up and need it at %d at least",
                 (unsigned long long)nofile.rlim_cur, TOOL_FD, TOOL_FD + 32);
        return -1;
    }
    g_pool.uffd = uffd_create();
    if (g_pool.uffd < 0) {
        snprintf(why, len, "userfaultfd: %s", strerror(-g_pool.uffd));
        return -1;
    }
    g_pool.uffd = fd_above_stdio(g_pool.uffd);
    g_pool.mapsfd = -1; /* query_probe */
    g_pool.pmfd = fd_above_stdio(open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
    g_pool.stfd = fd_above_stdio(open("/proc/self/status", O_RDONLY | O_CLOEXEC));
    g_pool.uffd_id = fd_id(g_pool.uffd);
    g_pool.pmfd_id = fd_id(g_pool.pmfd);
    g_pool.stfd_id = fd_id(g_pool.stfd);
    g_pool.res_len = MPRIV_BYTES + (size_t)nmem * MEM_BYTES;
    g_pool.res = mmap(NULL, g_pool.res_len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    w_ctl *c = fmp__arena_alloc(sizeof *c);
    g_pool.ctl = c;
    g_pool.nmem = nmem;
    g_pool.creds = g_status.creds; /* read at this region's start (master_threads) */
    g_stat.pools++;
    for (int m = 0; m < nmem; m++)
        g_pool.mb[m].pidfd = g_pool.mb[m].spidfd = -1;
    if (g_pool.pmfd < 0 || g_pool.res == MAP_FAILED || !c) {
        int e = errno;
        if (!c)
            snprintf(why, len, "no room in the shared arena");
        else if (g_pool.pmfd < 0)
            snprintf(why, len, "cannot open /proc/self/pagemap (%s)%s", strerror(e),
                     e == EACCES && prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL) == 0
                         ? ": the process is not dumpable, as after a change of its user or "
                           "group (prctl(PR_SET_DUMPABLE, 1) allows warm regions again)"
                         : "");
        else
            snprintf(why, len, "%s", strerror(e));
        if (g_pool.res == MAP_FAILED)
            g_pool.res = NULL, g_pool.res_len = 0;
        if (c) {
            c->mpid = getpid();
            pool_destroy();
        } else {
            close_pool_files();
            if (g_pool.res)
                munmap(g_pool.res, g_pool.res_len);
            memset(&g_pool, 0, sizeof g_pool);
        }
        return -1;
    }
    c->mpid = getpid();
    c->nmem = nmem;
    /* master_wait's spins, until the first region sets the team's */
    g_pool.spin = fmp__affinity_count() > nmem ? 2000 : 0;
    c->xs = (u64)(uintptr_t)g_pool.res;
    c->xe = c->xs + g_pool.res_len;
    c->tid_off = find_tid_off();
#if WARM_RSEQ
    c->rseq = __rseq_size >= 8;
    c->rseq_off = (long)__rseq_offset;
#endif
    if (c->tid_off < 0) {
        snprintf(why, len, "the thread id's place in the C library's thread block is unknown");
        pool_destroy();
        return -1;
    }
    if (master_track_all(c, why, len) < 0) {
        pool_destroy();
        return -1;
    }
    {
        void *head = NULL;
        size_t hlen = 0;
        if (syscall(SYS_get_robust_list, 0, &head, &hlen) == 0)
            c->robust = (u64)(uintptr_t)head, c->robust_len = hlen;
    }
    fmp__flush_streams();
    for (int m = 1; m <= nmem; m++) {
        /* a clone child that signals nothing at its end: the program's wait() and
           waitpid(-1) (without __WALL) never see it, so a program that reaps all of its
           children after warm regions does not wait for the parked members (fork would
           make them its children of the common kind).  The master holds no lock here
           (it has no other thread) and the member runs raw system calls until its first
           sync makes its memory the master's: glibc's fork would add nothing it keeps. */
        pid_t pid = (pid_t)syscall(SYS_clone, 0UL, 0UL, NULL, NULL, 0UL);
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL);
            if (getppid() != c->mpid)
                _exit(FMP_EXIT_FAILURE);
            w_mem *wm = mem_of(g_pool.res, m);
            wm->id = m;
            u64 top = ((u64)(uintptr_t)wm + MEM_BYTES - 64) & ~15UL;
            /* onto the park stack: the arguments first (an operand may sit in rbp) */
            __asm__ volatile("mov %1, %%rdi\n\t"
                             "mov %2, %%rsi\n\t"
                             "mov %3, %%rax\n\t"
                             "mov %0, %%rsp\n\t"
                             "xor %%ebp, %%ebp\n\t"
                             "call *%%rax\n\t"
                             "ud2" ::"r"(top),
                             "r"(c), "r"(wm), "r"(member_main)
                             : "memory", "rdi", "rsi", "rax");
            __builtin_unreachable();
        }
        if (pid < 0) {
            snprintf(why, len, "clone: %s", strerror(errno));
            pool_destroy();
            return -1;
        }
        g_pool.mb[m - 1].pid = pid;
        g_pool.mb[m - 1].pidfd = fd_above_stdio((int)syscall(SYS_pidfd_open, pid, 0));
        g_pool.mb[m - 1].pidfd_id = fd_id(g_pool.mb[m - 1].pidfd);
        if (g_pool.mb[m - 1].pidfd < 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, __WALL);
            snprintf(why, len, "pidfd_open: %s", strerror(errno));
            pool_destroy();
            return -1;
        }
        fmp__bind_child(pid, level, m, nmem + 1);
    }
    g_pool.level = level;
    fmp__topo_member_places(level, nmem + 1, ((w_mpriv *)g_pool.res)->places);
    for (int m = 0; m < nmem; m++)
        g_pool.mb[m].place = ((w_mpriv *)g_pool.res)->places[m + 1];
    if (master_wait(&c->parked, (uint32_t)nmem) < 0) {
        int step = atomic_load(&c->err);
        if (step == 23)
            snprintf(why, len,
                     "a member may not read its master's memory (process_vm_readv: "
                     "%s; Yama's ptrace_scope?)",
                     strerror(c->err_no));
        else
            snprintf(why, len, "a member could not start (step %d: %s)", step, strerror(c->err_no));
        pool_destroy();
        return -1;
    }
    return 0;
}

/* Whether the members' private copies outgrew a quarter of the master's resident memory
   (and RECYCLE_MIN).  The count of pages copied only grows (a page the master writes at
   every region is copied at every region): when it passes the bound, the members' own
   private memory is measured (smaps_rollup) and the count starts again from there. */
static int pool_holds_too_much(w_ctl *c, char *why, size_t len)
{
    u64 held = g_pool.held + atomic_load(&c->copied) / (u64)g_pool.nmem * PG;
    if (held <= RECYCLE_MIN)
        return 0;
    long rss = master_rss();
    u64 bound = (u64)(rss < 0 ? 0 : rss) * PG / 4;
    if (held <= bound)
        return 0;
    g_pool.rss = rss = proc_statm_resident(); /* not on a stale size */
    bound = (u64)(rss < 0 ? 0 : rss) * PG / 4;
    if (held <= bound)
        return 0;
    char *b = ((w_mpriv *)g_pool.res)->buf;
    u64 sum = 0;
    for (int m = 0; m < g_pool.nmem; m++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)g_pool.mb[m].pid);
        long kb = proc_number(path, "Private_Dirty:", b, 1 << 16);
        sum += kb < 0 ? held : (u64)kb << 10;
    }
    atomic_store(&c->copied, 0);
    g_pool.held = sum / (u64)g_pool.nmem;
    if (g_pool.held <= bound || g_pool.held <= RECYCLE_MIN)
        return 0;
    snprintf(why, len, "the members hold %llu MiB of copies",
             (unsigned long long)(g_pool.held >> 20));
    return 1;
}

/* What a member's failing step was doing, for the note. */
static const char *step_what(int step)
{
    return step == 11   ? ", the descriptors, directory or dispositions"
           : step == 14 ? ", the resource limits or priority"
                        : "";
}

/* Why a member may have failed, where the master can tell: a process that is not
   dumpable (its /proc files are root's, process_vm_readv and pidfd_getfd refused), a
   descriptor limit that leaves no room. */
static const char *follow_hint(int err)
{
    if ((err == EPERM || err == EACCES) && prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL) == 0)
        return ": the process is not dumpable (prctl(PR_SET_DUMPABLE, 1) allows warm regions)";
    if (err == ERANGE)
        return ": the master holds a descriptor numbered 4096 or above (MAXFD), which warm "
               "members do not mirror (close it, or use lower numbers)";
    if (err == EBADF || err == EMFILE || err == EINVAL)
        return ": the descriptor limit (RLIMIT_NOFILE, `ulimit -n`) may leave a member no room "
               "for the master's descriptors and its own (from 900 up)";
    return "";
}

/* The master side of a warm region's open; returns 0, or -1 (why says why): -2, members are
   in the region with it; -3, a new pool is due; -4, auto forks this region. */
/* The team's slots name the pool's members, before they may enter the region. */
static void bind_slots(fmp__shteam *t)
{
    for (int m = 1; m < t->n; m++) {
        fmp__slot *s = &t->slots[m];
        atomic_store(&s->state, FMP__S_STARTING);
        atomic_store(&s->pid, (int)g_pool.mb[m - 1].pid);
        s->pidfd = g_pool.mb[m - 1].spidfd;
        g_pool.mb[m - 1].spidfd = -1;
    }
}

static void tool_fd(w_ctl *c, int fd)
{
    if (fd > 2 && fd < MAXFD)
        c->toolfds[fd / 32] |= 1u << (fd % 32);
}

/* The close-on-exec flags of the master's descriptors that member 1 found at the last
   sync and are open now, for the members to take (take_fd): a call each (about 0.07 us),
   where reading the whole table here would cost 3 us for a dozen descriptors. */
static void fd_flags(w_ctl *c)
{
    for (int w = 0; w < MAXFD / 32; w++) {
        uint32_t known = 0, flag = 0;
        for (uint32_t bits = __atomic_load_n(&c->fdseen[w], __ATOMIC_RELAXED); bits;
             bits &= bits - 1) {
            int b = __builtin_ctz(bits), f = fcntl(w * 32 + b, F_GETFD);
            if (f >= 0) {
                known |= 1u << b;
                flag |= f & FD_CLOEXEC ? 1u << b : 0;
            }
        }
        __atomic_store_n(&c->fdknown[w], known, __ATOMIC_RELAXED);
        __atomic_store_n(&c->fdflag[w], flag, __ATOMIC_RELAXED);
    }
}

/* The master's descriptors that its members do not mirror (sync_fds): the pool's, and
   the team's copies of the members' pidfds (made before, slot_pidfds). */
static void list_tool_fds(w_ctl *c)
{
    memset(c->toolfds, 0, sizeof c->toolfds);
    tool_fd(c, g_pool.uffd);
    tool_fd(c, g_pool.pmfd);
    tool_fd(c, g_pool.stfd);
    tool_fd(c, g_pool.mapsfd);
    for (int i = 0; g_thr.kept && i < g_thr.n; i++) {
        tool_fd(c, g_thr.sfd[i]);
        tool_fd(c, g_thr.cfd[i]);
    }
    for (int m = 0; m < g_pool.nmem; m++) {
        tool_fd(c, g_pool.mb[m].pidfd);
        tool_fd(c, g_pool.mb[m].spidfd);
    }
}

/* The members bind themselves to their places at every forked region; a warm member
   was bound when the pool started, and again here only when its place for this region
   differs (binding a member cost about 45 us a region on this guest when hwloc bound
   every thread of the process, reading /proc/self/task). */
static void rebind_members(const fmp__shteam *t)
{
    int *pl = ((w_mpriv *)g_pool.res)->places;
    fmp__topo_member_places(t->level, t->n, pl);
    for (int m = 1; m < t->n; m++)
        if (pl[m] != g_pool.mb[m - 1].place || t->level != g_pool.level) {
            fmp__bind_child(g_pool.mb[m - 1].pid, t->level, m, t->n);
            g_pool.mb[m - 1].place = pl[m];
        }
    g_pool.level = t->level;
}

/* Why a member of the pool is missing at the open: the step it could not follow the
   master in, where it said (the member leaves after its report), else gone (how). */
static void gone_why(const w_ctl *c, char *why, size_t len, const char *how)
{
    if (atomic_load(&c->err))
        snprintf(why, len, "member %d could not follow the master (step %d%s: %s)%s", c->err_member,
                 atomic_load(&c->err), step_what(atomic_load(&c->err)), strerror(c->err_no),
                 follow_hint(c->err_no));
    else
        snprintf(why, len, "a member of the warm pool %s", how);
}

/* The master side of a warm region's open (others: the master's other threads, counted);
   returns 0, or -1 (why says why): -2, members are in the region with it; -3, a new pool
   is due; -4, auto forks this region; -5, this region forks for the reason in why (the
   members are parked). */
static int master_open(fmp__shteam *t, sigjmp_buf *jb, int others, char *why, size_t len)
{
    int threaded = others > 0;
    if (!threaded && g_thr.kept)
        threads_forget(); /* the threads ended */
    w_ctl *c = g_pool.ctl;
    /* each member holds a private copy of what it copied: past a quarter of the master's
       resident memory (16 MiB at least), a new pool, forked now, shares it all again */
    if (pool_holds_too_much(c, why, len) || atomic_load(&c->renew))
        return -3;
    /* the members hold the credentials of the pool's fork (a changed user, capability
       or seccomp filter cannot be taken over by a process that lacks the right, nor
       given up safely half-way): a new pool, forked now, has the master's */
    if (g_status.creds != g_pool.creds)
        return -3;
    c->umask = g_status.umask;
    prctl(PR_GET_NAME, c->comm, 0UL, 0UL, 0UL);
    c->thp_off = prctl(PR_GET_THP_DISABLE, 0UL, 0UL, 0UL, 0UL) == 1;
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0 || (ss.ss_flags & SS_ONSTACK))
        ss = (stack_t){.ss_flags = SS_DISABLE};
    c->altstack.sp = (u64)(uintptr_t)ss.ss_sp;
    c->altstack.flags = ss.ss_flags & ~SS_ONSTACK;
    c->altstack.size = ss.ss_size;
    WP(1);
    if (threaded && threads_snapshot(t->master_pid, others, why, len) < 0)
        return -5;
    WP(19);
    /* the members wake now and take the descriptors (member_early) while the master
       scans; the team's own copies of their pidfds are made first, listed as the pool's */
    c->nenter = t->n - 1;
    c->threaded = threaded;
    master_rss(); /* its statm read opens a descriptor, which a member would take */
    slot_pidfds(t->n - 1);
    list_tool_fds(c);
    fd_flags(c);
    uint32_t seq = atomic_load(&c->seq) + 1;
    atomic_store_explicit(&c->early, seq, memory_order_release);
    RS(SYS_futex, &c->early, FUTEX_WAKE, INT_MAX, 0, 0, 0);
    /* the master's scans run while the members finish the last region's (member_post:
       their own scans and maps, which read nothing the master writes here) */
    int r = master_prepare(c, why, len);
    if (master_wait(&c->parked, (uint32_t)g_pool.nmem) < 0) {
        gone_why(c, why, len, "is gone");
        return -1;
    }
    if (r == 0 && atomic_load(&c->renew))
        r = -3; /* a body took rights from its member for good: known once it parked */
    WP(8);
    if (r < 0) { /* no region for the members woken early: back to their park */
        slot_pidfds(0);
        c->cmd = CMD_NONE;
        atomic_store(&c->parked, 0);
        bump(&c->seq);
        /* where the pool stays (-4: this region forks), each member must have parked
           for this seq before the next open wakes them: one kept off its cpu until then
           would see only the next early, never park for this one, and the next open
           would wait for it for ever (seen under load: a member stopped across a
           forked region) */
        if (r == -4 && master_wait(&c->parked, (uint32_t)g_pool.nmem) < 0) {
            gone_why(c, why, len, "is gone");
            return -1;
        }
        return r;
    }
    c->jb = (uintptr_t)jb;
    c->team = t;
    c->cmd = CMD_REGION;
    /* the members and the master wait for each other as the team's members would: the
       cpus are the team's places when it is bound (the master's own affinity is then
       its place alone), a spin cut when the node is oversubscribed */
    c->spin = g_pool.spin = fmp__spin_now(t->spin);
    rebind_members(t);
    WP(17);
    atomic_store(&c->synced, 0);
    atomic_store(&c->parked, 0);
    if (!threaded)
        bind_slots(t); /* the members enter as soon as they synced */
#ifdef FMP_WARM_PROFILE
    c->tb = __rdtsc();
#endif
    bump(&c->seq);
    WP(18);
    master_post_acts(c, seq);
    WP(9);
    if (master_wait(&c->synced, (uint32_t)g_pool.nmem) < 0) {
        gone_why(c, why, len, "died");
        return -2; /* the team's slots name the pool: the caller breaks the team */
    }
    if (threaded) {
        /* what the other threads wrote before the scan was copied; if one ran since, the
           copy may hold half of an update, or a lock it took: the members park again
           (the pages it wrote are in the next region's scan) and this region forks */
        c->go = threads_stood_still();
        if (c->go)
            bind_slots(t);
        atomic_store_explicit(&c->verdict, seq, memory_order_release);
        RS(SYS_futex, &c->verdict, FUTEX_WAKE, INT_MAX, 0, 0, 0);
        if (!c->go) {
            slot_pidfds(0);
            /* as where auto forks (r == -4): each member parks for this seq before the
               region forks, or one kept off its cpu after its sync would read the next
               open's c->threaded and c->nenter, not this one's, and could enter the
               region that forked */
            if (master_wait(&c->parked, (uint32_t)g_pool.nmem) < 0) {
                gone_why(c, why, len, "is gone");
                return -1;
            }
            snprintf(why, len, "another thread of the process ran while the members copied");
            return -5;
        }
    }
    g_pool.used++;
    WP(11);
#ifdef FMP_WARM_PROFILE
    c->pn++;
#endif
    return 0;
}

#endif /* WARM_ARCH */

/* ---------------------------------------------------------------- the interface */

static void probe(void)
{
    if (g_probed)
        return;
    g_probed = 1;
#if !WARM_ARCH
    snprintf(g_why, sizeof g_why, "warm regions are built for x86-64 Linux only");
#else
    if (WARM_SANITIZED) {
        snprintf(g_why, sizeof g_why, "this build has a sanitizer");
        return;
    }
#ifdef WARM_VALGRIND_H
    if (RUNNING_ON_VALGRIND) {
        snprintf(g_why, sizeof g_why, "running under valgrind");
        return;
    }
#endif
    int fd = uffd_create();
    if (fd < 0) {
        snprintf(g_why, sizeof g_why, "userfaultfd with asynchronous write-protect: %s",
                 strerror(-fd));
        return;
    }
    char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    long r = -ENOMEM;
    if (p != MAP_FAILED && pm >= 0) {
        r = uffd_reg(fd, (u64)(uintptr_t)p, (u64)(uintptr_t)p + 2 * PG);
        if (r == 0)
            r = uffd_wp(fd, (u64)(uintptr_t)p, (u64)(uintptr_t)p + 2 * PG);
        if (r == 0) {
            p[PG] = 1;
            struct w_page_region vec[NVEC > 4 ? 4 : NVEC];
            struct w_pm_scan_arg a;
            memset(&a, 0, sizeof a);
            a.size = sizeof a;
            a.flags = W_SCAN_WP_MATCHING;
            a.start = (u64)(uintptr_t)p;
            a.end = a.start + 2 * PG;
            a.vec = (u64)(uintptr_t)vec;
            a.vec_len = 4;
            a.category_mask = a.return_mask = W_PAGE_IS_WRITTEN;
            r = RS3(SYS_ioctl, pm, W_PAGEMAP_SCAN, &a);
            if (r == 1 && vec[0].start == a.start + PG && vec[0].end == a.start + 2 * PG)
                r = 0;
            else if (r >= 0)
                r = -EPROTO;
        }
    }
    if (r < 0)
        snprintf(g_why, sizeof g_why, "PAGEMAP_SCAN of written pages (Linux 6.7): %s",
                 strerror((int)-r));
    if (p != MAP_FAILED)
        munmap(p, 2 * PG);
    if (pm >= 0)
        close(pm);
    close(fd);
#endif
}

const char *fmp__warm_unavailable(void)
{
    probe();
    return g_why[0] ? g_why : NULL;
}

void fmp__warm_describe(char *buf, size_t len)
{
    static const char *const names[] = {"auto", "warm", "fork"};
    const char *why = g_mode == FMP__REGION_FORK ? NULL : fmp__warm_unavailable();
    if (g_mode == FMP__REGION_FORK)
        snprintf(buf, len, "fork");
    else if (why)
        snprintf(buf, len, "%s (regions fork: %s)", names[g_mode], why);
    else
        snprintf(buf, len, "%s (regions reuse warm members)", names[g_mode]);
}

/* Say once why a region forks although warm regions were asked for. */
static void say_fallback(const char *file, int line, const char *why)
{
    static int said;
    if (said)
        return;
    said = 1;
    if (g_mode == FMP__REGION_WARM || fmp__g_icv.display_env)
        FMP__SAY(warm_fallback, file, line, why);
}

static int warm_enter(fmp__shteam *t, const char *file, int line);

int fmp__warm_enter(fmp__shteam *t, const char *file, int line)
{
    long pools = g_stat.pools;
    int r = warm_enter(t, file, line);
    if (r == 0 && g_stat.pools != pools)
        g_stat.started++;
    else if (r == 0)
        g_stat.warm++;
    else if (r < 0 && t->level == 1 && !t->persistent && !fmp__g.is_child)
        g_stat.forked++;
    return r;
}

static int warm_enter(fmp__shteam *t, const char *file, int line)
{
    if (g_mode == FMP__REGION_FORK)
        return -1;
    if (fmp__warm_unavailable()) {
        say_fallback(file, line, g_why);
        return -1;
    }
#if WARM_ARCH
    char why[256] = "";
    if (fmp__g.is_child || t->level != 1 || t->persistent)
        return -1; /* nested regions, regions of members and persistent teams fork */
    pid_t me = t->master_pid;
    long pinned_kb;
    if (g_failures >= MAX_FAILURES) {
        threads_forget(); /* warm regions are over in this process */
        return -1;        /* said already */
    }
    WP(10);
    threads_reread();
    int th = master_threads(me, &pinned_kb);
    if (g_pool.lost)
        pool_destroy(); /* each of its descriptors closed where it is still ours */
    WP(0);
    if (th < 1 || (th > 1 && (pid_t)syscall(SYS_gettid) != me)) {
        snprintf(why, sizeof why,
                 th < 1 ? "the process's threads are unknown"
                        : "the region is opened by a thread other than the process's first");
        say_fallback(file, line, why);
        return -1;
    }
    struct rlimit cpu;
    if (getrlimit(RLIMIT_CPU, &cpu) == 0 && cpu.rlim_cur != RLIM_INFINITY) {
        /* a fork child's CPU time starts at 0, a warm member's counts every region it
           ran (and its spins between them): the limit would end it where a child goes on */
        snprintf(why, sizeof why,
                 "a CPU time limit is set (RLIMIT_CPU, `ulimit -t`, %llu s): a warm member's "
                 "CPU time counts every region it ran, a fork child's starts at 0",
                 (unsigned long long)cpu.rlim_cur);
        say_fallback(file, line, why);
        return -1;
    }
    if (pinned_kb != 0) {
        /* pages pinned for a device (an RDMA registration: MPI over InfiniBand) are
           written by it without a page fault, which the tracking never sees */
        snprintf(why, sizeof why,
                 pinned_kb < 0 ? "the process's pinned memory is unknown"
                               : "the process has %ld KiB of memory pinned for a device "
                                 "(RDMA), whose writes the tracking cannot see",
                 pinned_kb);
        say_fallback(file, line, why);
        return -1;
    }
    /* FMP_CHECK=writes: one member more, the lost-write detector's snapshot (it syncs
       as the others do and never enters the region: its memory is the master's of the
       region's start until the next region) */
    int nmem = t->n - 1 + ((fmp__g_icv.check & FMP__CHECK_WRITES) != 0);
    /* auto: a pool of another size stays, and this region forks, unless the region
       before asked for this size too: a program that alternates its team sizes would
       start a pool at every region (1.3 ms a region here, 2 to 4 members, against 0.4
       for a fork), one that changes size for good gets its pool at the second region */
    static int last_nmem;
    int alternating = g_mode == FMP__REGION_AUTO && g_pool.ctl && g_pool.ctl->mpid == me &&
                      g_pool.nmem != nmem && last_nmem != nmem;
    last_nmem = nmem;
    if (alternating)
        return -1;
    if (g_pool.ctl && (g_pool.ctl->mpid != me || g_pool.nmem != nmem)) {
        if (g_pool.ctl->mpid == me)
            pool_destroy();
        else
            forget_pool(); /* inherited through the program's fork */
    }
    if (g_failures >= MAX_FAILURES)
        return -1; /* said already */
    if (!g_pool.ctl && pool_create(nmem, t->level, why, sizeof why) < 0) {
        g_failures = MAX_FAILURES; /* what kept the pool from starting will again */
        say_fallback(file, line, why);
        return -1;
    }
    sigjmp_buf jb;
    int m = sigsetjmp(jb, 0);
    if (m) {
        /* a member, in its copy of the master's stack */
        g_member_team = t;
        g_member_pid = (pid_t)syscall(SYS_getpid);
        g_member_id = m;
        return m;
    }
    int r = master_open(t, &jb, th - 1, why, sizeof why);
    if (r == -4)
        return -1; /* auto: this region forks; the pool waits for the next */
    if (r == -5) {
        say_fallback(file, line, why); /* this region forks; the pool waits */
        return -1;
    }
    if (r == -3) {
        /* the master shares memory its members lack, or they hold too many copies of its
           pages: a new pool, forked now, shares all of it */
        pool_destroy();
        if (pool_create(nmem, t->level, why, sizeof why) < 0) {
            g_failures = MAX_FAILURES;
            say_fallback(file, line, why);
            return -1;
        }
        r = master_open(t, &jb, th - 1, why, sizeof why);
        if (r == -4)
            return -1;
        if (r == -5) {
            say_fallback(file, line, why);
            return -1;
        }
    }
    if (r < 0) {
        /* the pool goes (members already in the region with it); the region forks */
        pool_destroy();
        g_failures++;
        fmp__team_unstart(t); /* for the members the region forks instead */
        say_fallback(file, line, why);
        return -1;
    }
    t->warm = 1;
    return 0;
#else
    (void)t;
    (void)file;
    (void)line;
    return -1;
#endif
}

/* ---------------------------------------------------------------- check mode's tracking

   FMP_CHECK=writes (check.c): the private memory a member wrote during its body.  A warm
   member already tracks its memory: every page is protected again here (the sync leaves
   a few copied pages unprotected), so that only the body's writes show.  A forked child
   registers its private writable mappings with a userfaultfd of its own (registrations
   are not inherited across fork).  The state lives in a mapping made for it, which is
   not tracked. */
#if WARM_ARCH
typedef struct w_track {
    int uffd, pmfd, own;
    int nr;
    struct w_range r[MAXMAPS];
    struct w_map maps[MAXMAPS];
    struct w_page_region pr[NVEC];
    char buf[1 << 20];
} w_track;
static w_track *g_wt;
static pid_t g_wt_pid;
/* A warm member tracks with its own state, in its part of the reservation (a mapping
   made for it would be one its next sync has to take away): the tracked ranges in m->tr,
   their count here. */
static w_mem *g_wt_mem;
static int g_wt_nr;

int fmp__wtrack_begin(const fmp__shteam *t)
{
    if (WARM_SANITIZED)
        return -ENOTSUP; /* the sanitizer's shadow: terabytes of private mappings */
    g_wt_mem = NULL;
    if (fmp__warm_member_of(t)) {
        w_mem *m = mem_of(g_pool.res, g_member_id);
        g_wt_mem = m;
        g_wt_nr = map_ranges(g_pool.ctl->maps, g_pool.ctl->nmaps, 1, m->tr);
        long r = pm_scan_in(m->pmfd, m->tr, g_wt_nr, W_SCAN_WP_MATCHING, 0, W_PAGE_IS_WRITTEN,
                            W_PAGE_IS_WRITTEN, m->pr, NULL, 0);
        return r < 0 ? (int)r : 0;
    }
    if (!g_wt || g_wt_pid != fmp__g.pid) {
        void *p =
            mmap(NULL, sizeof(w_track), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return -errno;
        g_wt = p;
        g_wt_pid = fmp__g.pid;
        g_wt->uffd = g_wt->pmfd = -1;
    }
    w_track *w = g_wt;
    w->nr = 0;
    if (w->own) { /* a region before, in this process: registered already, maybe */
        close(w->uffd);
        close(w->pmfd);
    }
    w->own = 1;
    w->uffd = uffd_create();
    w->pmfd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (w->uffd < 0 || w->pmfd < 0)
        return w->uffd < 0 ? w->uffd : -errno;
    long len = fmp__read_file("/proc/self/maps", w->buf, sizeof w->buf);
    if (len < 0)
        return (int)len;
    u64 xs = g_pool.ctl ? g_pool.ctl->xs : 0, xe = g_pool.ctl ? g_pool.ctl->xe : 0;
    int n = parse_maps(w->buf, w->maps, MAXMAPS, xs, xe, NULL, NULL);
    if (n < 0)
        return -E2BIG;
    struct w_range self = {(u64)(uintptr_t)w, (u64)(uintptr_t)w + ROUND(sizeof *w, PG)};
    for (int i = 0; i < n; i++) {
        const struct w_map *m = &w->maps[i];
        if (!tracked(m))
            continue;
        long r = uffd_reg(w->uffd, m->s, m->e);
        if (r == 0)
            r = uffd_wp(w->uffd, m->s, m->e);
        if (r < 0)
            continue; /* a mapping that cannot be tracked (VM_IO, hugetlb...): not checked */
        /* this state's own mapping, merged with a neighbour perhaps, is left out */
        struct w_range whole = {m->s, m->e}, part[2];
        long np = less_ranges(&whole, 1, &self, 1, part, 2);
        for (long k = 0; k < np && w->nr < MAXMAPS; k++)
            if (w->nr && w->r[w->nr - 1].e == part[k].s)
                w->r[w->nr - 1].e = part[k].e;
            else
                w->r[w->nr++] = part[k];
    }
    return 0;
}

int fmp__vma_of_text(uintptr_t a, uintptr_t *lo, uintptr_t *hi)
{
    *lo = *hi = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char b[4096];
    long have = 0, got;
    int skip = 0; /* the rest of a line longer than b */
    while (!*hi && (got = RS3(SYS_read, fd, b + have, sizeof b - 1 - have)) > 0) {
        have += got;
        b[have] = 0;
        char *line = b, *nl;
        for (; !*hi && (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
            const char *c = line;
            u64 s = hexp(&c), e = *c == '-' ? (c++, hexp(&c)) : 0;
            if (!skip && s <= a && a < e) {
                *lo = s;
                *hi = e;
            }
            skip = 0;
        }
        have -= line - b;
        if (have == (long)sizeof b - 1) { /* no end of line in it: its start is read */
            const char *c = b;
            u64 s = skip ? 0 : hexp(&c), e = !skip && *c == '-' ? (c++, hexp(&c)) : 0;
            if (s <= a && a < e) {
                *lo = s;
                *hi = e;
            }
            skip = 1;
            have = 0;
        }
        memmove(b, line, (size_t)have);
    }
    close(fd);
    return 0;
}

int fmp__vma_of(uintptr_t a, uintptr_t *lo, uintptr_t *hi)
{
    *lo = *hi = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct w_procmap_query q;
    memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.query_addr = a;
    long r = RS3(SYS_ioctl, fd, W_PROCMAP_QUERY, &q);
    close(fd);
    if (r == 0) {
        *lo = q.vma_start;
        *hi = q.vma_end;
    } else if (r != -ENOENT) { /* before Linux 6.11 */
        return fmp__vma_of_text(a, lo, hi);
    }
    return 0;
}

void *fmp__wtrack_scratch(size_t *len)
{
    if (!g_wt_mem || g_member_pid != fmp__g.pid)
        return NULL;
    *len = sizeof g_wt_mem->merged; /* the sync's, free until member_post */
    return g_wt_mem->merged;
}

int fmp__wtrack_rearm(void)
{
    w_track *w = g_wt;
    if (!w || g_wt_pid != fmp__g.pid || w->pmfd < 0)
        return -EINVAL;
    long r = pm_scan_in(w->pmfd, w->r, w->nr, W_SCAN_WP_MATCHING, 0, W_PAGE_IS_WRITTEN,
                        W_PAGE_IS_WRITTEN, w->pr, NULL, 0);
    return r < 0 ? (int)r : 0;
}

long fmp__wtrack_written(uintptr_t (*out)[2], long max)
{
    struct w_range *o = (struct w_range *)out;
    _Static_assert(sizeof *o == sizeof *out, "a range is two addresses");
    if (g_wt_mem && g_member_pid == fmp__g.pid)
        return pm_scan_in(g_wt_mem->pmfd, g_wt_mem->tr, g_wt_nr, 0, 0, W_PAGE_IS_WRITTEN,
                          W_PAGE_IS_WRITTEN, g_wt_mem->pr, o, max);
    w_track *w = g_wt;
    if (!w || g_wt_pid != fmp__g.pid || w->pmfd < 0)
        return -EINVAL;
    return pm_scan_in(w->pmfd, w->r, w->nr, 0, 0, W_PAGE_IS_WRITTEN, W_PAGE_IS_WRITTEN, w->pr, o,
                      max);
}

#else /* !WARM_ARCH */

int fmp__vma_of(uintptr_t a, uintptr_t *lo, uintptr_t *hi)
{
    (void)a;
    *lo = *hi = 0;
    return -ENOSYS;
}

int fmp__vma_of_text(uintptr_t a, uintptr_t *lo, uintptr_t *hi)
{
    return fmp__vma_of(a, lo, hi);
}

int fmp__wtrack_begin(const fmp__shteam *t)
{
    (void)t;
    return -ENOSYS;
}

int fmp__wtrack_rearm(void)
{
    return -ENOSYS;
}

void *fmp__wtrack_scratch(size_t *len)
{
    (void)len;
    return NULL;
}

long fmp__wtrack_written(uintptr_t (*out)[2], long max)
{
    (void)out;
    (void)max;
    return -ENOSYS;
}

#endif

pid_t fmp__warm_snapshot(const fmp__shteam *t)
{
#if WARM_ARCH
    if (t->warm && g_pool.ctl && g_pool.ctl->mpid == getpid() && g_pool.nmem == t->n)
        return g_pool.mb[g_pool.nmem - 1].pid;
#else
    (void)t;
#endif
    return 0;
}

int fmp__warm_member_of(const fmp__shteam *t)
{
    return t && t == g_member_team && g_member_pid == fmp__g.pid;
}

void fmp__warm_park(void)
{
#if WARM_ARCH
    g_member_team = NULL;
    siglongjmp(mem_of(g_pool.res, g_member_id)->park, 1);
#else
    abort();
#endif
}

void fmp__warm_shutdown(void)
{
#if WARM_ARCH
    pool_destroy();
#endif
}

int fmp_warm_release(void)
{
    fmp__ensure_init();
    if (fmp__g.cur != &fmp__g.root) {
        FMP__SAY(warm_release_inside);
        return FMP_ESTATE;
    }
#if WARM_ARCH
    int n = g_pool.ctl && g_pool.ctl->mpid == getpid() ? g_pool.nmem : 0;
    pool_destroy();
    threads_forget();
    return n;
#else
    return 0;
#endif
}

void fmp__warm_report(void)
{
    if (fmp__g_icv.display_env == 2 && (g_stat.warm || g_stat.started || g_stat.forked))
        FMP__SAY(warm_report, g_stat.warm, g_stat.started, g_stat.forked);
}
