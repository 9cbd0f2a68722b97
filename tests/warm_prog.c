/* warm_prog: what a region's members see of the master's private memory, region after
 * region, while the master changes every kind of it between regions and the members
 * scribble over all of it inside.  Run by tests/test_warm.c under FMP_REGION=warm, fork
 * and auto: each member's view must be the master's at the region's start (as a fork
 * child's is), whatever the members wrote before; the output is the same in each mode.
 *
 *   warm_prog REGIONS MEMBERS [nouffd] [kill=R] [exec] [big=MIB] [waitall]
 *       prints a summary (and a line per difference); exit 0 when every member saw what
 *       the master had.  nouffd: a seccomp filter makes userfaultfd fail with ENOSYS
 *       first, as in a container whose profile forbids it; kill=R: member 1 kills itself
 *       (SIGKILL) in region R, which reports the failure (FMP_ON_ERROR=return) and the
 *       regions after it run on; exec: at the end the program execs a shell that waits
 *       5 s and then prints "left PID" for each child process it still has that is
 *       running, "ended PID" for each that ended and was not reaped (exec=release: the
 *       program calls fmp_warm_release() first); big=MIB: the
 *       master also rewrites a heap block of MIB mebibytes before every third region
 *       (0, 3, ...), and its other changes stay small (no large blocks, small fresh
 *       mappings); the members check a word of each page of the block; waitall: after
 *       the regions the program forks a child of its own (it exits 7) and reaps with
 *       wait() until ECHILD, as a program that waits for all of its children does (the
 *       parked members must not be among them: a hang is killed by an alarm), prints
 *       what it reaped, then runs one more region; pipes: the master makes a pipe before
 *       each region and closes its write end after it: its reader must see the end at
 *       once (no member holds a copy once the region is over), else a difference.
 * Every region also checks that no member holds a descriptor (below 900) that the master
 * did not have at the region's start (not under valgrind, which gives every process
 * descriptors of its own).
 * stderr gets "pids: reused" when the members of every region were the same processes
 * (warm), "pids: fresh" when every region had new ones (fork). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <forkmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NSMALL 48
#define NLARGE 3
#define NCOMP 12

static long g_data[512] = {1, 2, 3};
static long g_bss[4096];
static __thread long g_tls[64];
static char *small[NSMALL];
static size_t small_len[NSMALL];
static char *large[NLARGE];
static size_t large_len[NLARGE];
static char *fresh;
static size_t fresh_len;
static int fd_in = -1; /* a descriptor the master opens anew now and then */
static long *big;      /* big=MIB */
static size_t big_words;
static long big_gen;   /* the region that last wrote it */
static int wait_all;   /* waitall */
static int check_pipe; /* pipes */
/* The master's open descriptors below the members' own (900 up) at a region's start, and
   the first one each member holds that the master did not (+ 1; shared) */
#define FDS 900
static unsigned char *g_fdset;
static int *g_extra;
static int check_fds;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211ULL;
    return h;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void on_usr2_a(int sig)
{
    (void)sig;
}

static void on_usr2_b(int sig)
{
    (void)sig;
}

static long *local_static(void)
{
    static long s[32];
    return s;
}

/* The view of every kind of memory, one checksum per kind. */
static void view(uint64_t out[NCOMP], const long *frame, size_t frame_len)
{
    for (int i = 0; i < NCOMP; i++)
        out[i] = 1469598103934665603ULL;
    out[0] = mix(out[0], g_data, sizeof g_data);
    out[1] = mix(out[1], g_bss, sizeof g_bss);
    out[2] = mix(out[2], g_tls, sizeof g_tls);
    out[3] = mix(out[3], local_static(), 32 * sizeof(long));
    for (int i = 0; i < NSMALL; i++)
        if (small[i])
            out[4] = mix(mix(out[4], small[i], small_len[i]), &i, sizeof i);
    for (int i = 0; i < NLARGE; i++)
        if (large[i])
            out[5] = mix(mix(out[5], large[i], large_len[i]), &i, sizeof i);
    if (fresh)
        out[6] = mix(out[6], fresh, fresh_len);
    const char *e = getenv("WARM_X");
    out[7] = mix(out[7], e ? e : "-", e ? strlen(e) : 1);
    for (int k = 0; k < 40; k++) {
        char name[32];
        snprintf(name, sizeof name, "WARM_Y%d", k);
        const char *v = getenv(name);
        if (v)
            out[7] = mix(out[7], v, strlen(v));
    }
    out[8] = mix(out[8], frame, frame_len);
    char cwd[256] = "";
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, "?");
    out[9] = mix(out[9], cwd, strlen(cwd));
    /* the descriptor: its number, and what reading it from its offset gives */
    char buf[16] = "";
    long got = fd_in >= 0 ? pread(fd_in, buf, sizeof buf, 0) : -2;
    out[10] = mix(mix(out[10], &fd_in, sizeof fd_in), &got, sizeof got);
    out[10] = mix(out[10], buf, got > 0 ? (size_t)got : 0);
    sigset_t mask;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    out[11] = mix(out[11], &mask, 8);
    struct sigaction sa;
    sigaction(SIGUSR2, NULL, &sa);
    out[11] = mix(out[11], &sa.sa_handler, sizeof sa.sa_handler);
}

/* What a member does to private memory inside the region: none of it may show later. */
static void scribble(uint64_t seed, long *frame, size_t frame_len)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < frame_len / sizeof(long); i++)
        frame[i] = (long)rnd(&s);
    for (int i = 0; i < 512; i += 7)
        g_data[i] = (long)rnd(&s);
    for (int i = 0; i < 4096; i += 97)
        g_bss[i] = (long)rnd(&s);
    g_tls[3] = (long)rnd(&s);
    local_static()[5] = (long)rnd(&s);
    setenv("WARM_X", "scribbled", 1);
    setenv("WARM_Z", "member", 1);
    for (int i = 0; i < NSMALL; i += 3)
        if (small[i]) {
            memset(small[i], (int)(rnd(&s) & 255), small_len[i]);
            if (i % 2) {
                free(small[i]);
                small[i] = malloc(64);
                small_len[i] = 64;
            }
        }
    void *big = malloc(1 << 20); /* a new mapping */
    memset(big, 7, 1 << 20);
    void *brk_grow = malloc(200 << 10);
    memset(brk_grow, 9, 200 << 10);
    if (large[1]) {
        free(large[1]); /* munmap */
        large[1] = NULL;
    }
    char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED)
        memset(m, 5, 1 << 20);
    if (fresh && fresh_len > 8192)
        munmap(fresh + 4096, 4096); /* a hole in the master's mapping */
    if (chdir("/") != 0)
        abort();
    if (fd_in >= 0)
        close(fd_in);
    int junk = open("/dev/null", O_RDONLY);
    (void)junk;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, NULL);
    signal(SIGUSR2, on_usr2_b);
}

/* The master's changes between regions. */
static void change(int r, uint64_t *s, const char *dir)
{
    g_data[r % 512] += r;
    g_bss[(r * 31) % 4096] = r;
    g_tls[r % 64] = r * 3;
    local_static()[r % 32] ^= r;
    char v[32];
    snprintf(v, sizeof v, "x%d", r);
    setenv("WARM_X", v, 1);
    if (r % 5 == 0) {
        snprintf(v, sizeof v, "WARM_Y%d", (r / 5) % 40);
        setenv(v, "y", 1);
    }
    for (int k = 0; k < 6; k++) {
        int i = (int)(rnd(s) % NSMALL);
        size_t n = 1 + rnd(s) % 9000;
        if (small[i] && rnd(s) % 3 == 0) {
            free(small[i]);
            small[i] = NULL;
        } else {
            char *p = realloc(small[i], n);
            if (!p)
                abort();
            small[i] = p;
            small_len[i] = n;
            memset(p, (int)(rnd(s) & 255), n);
        }
    }
    int i = r % NLARGE;
    size_t n = big ? 8192 + (size_t)r % 7 : ((1 + rnd(s) % 4) << 18) + rnd(s) % 4096;
    size_t had = large[i] ? large_len[i] : 0;
    char *p = realloc(large[i], n); /* mmap'd by malloc: mremap */
    if (!p)
        abort();
    if (n > had)
        memset(p + had, 0x5a, n - had); /* every byte the views read is defined */
    large[i] = p;
    large_len[i] = n;
    p[rnd(s) % n] = (char)r;
    p[0] = (char)r;
    /* a fresh mapping each region, every other one at the same address as before */
    void *at = fresh;
    if (fresh)
        munmap(fresh, fresh_len);
    fresh_len = (r % 4 < 2 || big ? 16 : 520) * 4096; /* 2 MiB+: its page table goes */
    fresh = mmap(r % 2 ? at : NULL, fresh_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
    if (fresh == MAP_FAILED)
        abort();
    memset(fresh, r & 255, fresh_len / 2);
    if (r % 3 == 0) {
        if (fd_in >= 0)
            close(fd_in);
        char path[512];
        snprintf(path, sizeof path, "%s/in%d", dir, r);
        FILE *f = fopen(path, "w");
        fprintf(f, "content %d", r);
        fclose(f);
        fd_in = open(path, O_RDONLY);
    }
    if (chdir(r % 2 ? dir : "/tmp") != 0)
        abort();
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(r % 2 ? SIG_BLOCK : SIG_UNBLOCK, &block, NULL);
    signal(SIGUSR2, r % 3 == 0 ? on_usr2_a : r % 3 == 1 ? SIG_IGN : SIG_DFL);
}

static int kill_region = -1;
static int exec_at_end;

/* userfaultfd fails with ENOSYS from here on, in this process and its children. */
static void forbid_userfaultfd(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_userfaultfd, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("seccomp");
        exit(2);
    }
}

static int run_region(int r, int members, uint64_t *seen, int *pids)
{
    long frame[300];
    for (int i = 0; i < 300; i++)
        frame[i] = r * 1000 + i;
    uint64_t want[NCOMP];
    view(want, frame, sizeof frame);
    if (r % 3 == 0) {
        big_gen = r;
        for (size_t w = 0; w < big_words; w++)
            big[w] = r * 31 + (long)w;
    }
    for (int fd = 0; fd < FDS; fd++)
        g_fdset[fd] = fcntl(fd, F_GETFD) >= 0;
    FMP_PARALLEL(members) {
        int me = fmp_thread_num();
        uint64_t got[NCOMP];
        view(got, frame, sizeof frame);
        g_extra[me] = 0;
        for (int fd = 0; fd < FDS && check_fds && !g_extra[me]; fd++)
            if (!g_fdset[fd] && fcntl(fd, F_GETFD) >= 0)
                g_extra[me] = fd + 1;
        for (size_t w = 0; w < big_words; w += 512)
            if (big[w] != big_gen * 31 + (long)w)
                got[0] ^= 1; /* a page of the block as it was before */
        memcpy(&seen[me * NCOMP], got, sizeof got);
        pids[me] = (int)getpid();
        if (me == 1 && r == kill_region)
            raise(SIGKILL);
        if (me)
            scribble((uint64_t)(r * 7919 + me), frame, sizeof frame);
    }
    if (fmp_region_error() != FMP_OK) {
        printf("region %d: %s\n", r, fmp_strerror(fmp_region_error()));
        return r == kill_region ? 0 : 1;
    }
    int bad = 0;
    for (int m = 1; m < members; m++) {
        for (int k = 0; k < NCOMP; k++)
            if (seen[m * NCOMP + k] != want[k]) {
                printf("region %d: member %d saw component %d differ\n", r, m, k);
                bad++;
            }
        if (g_extra[m]) {
            printf("region %d: member %d held descriptor %d, which the master had not\n", r, m,
                   g_extra[m] - 1);
            bad++;
        }
    }
    return bad;
}

int main(int argc, char **argv)
{
    int regions = argc > 1 ? atoi(argv[1]) : 50;
    int members = argc > 2 ? atoi(argv[2]) : 2;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "nouffd") == 0)
            forbid_userfaultfd();
        else if (strncmp(argv[i], "kill=", 5) == 0)
            kill_region = atoi(argv[i] + 5);
        else if (strcmp(argv[i], "exec") == 0)
            exec_at_end = 1;
        else if (strcmp(argv[i], "exec=release") == 0)
            exec_at_end = 2;
        else if (strcmp(argv[i], "waitall") == 0)
            wait_all = 1;
        else if (strcmp(argv[i], "pipes") == 0)
            check_pipe = 1;
        else if (strncmp(argv[i], "big=", 4) == 0) {
            big_words = (size_t)atoi(argv[i] + 4) << 20 >> 3;
            big = malloc(big_words * sizeof *big);
            if (!big)
                return 2;
        }
    }
    char dir[] = "/tmp/fmp-warm.XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    uint64_t *seen = fmp_shared_alloc((size_t)members * NCOMP * sizeof *seen);
    /* under valgrind every process has descriptors of valgrind's own: not checked */
    const char *pre = getenv("LD_PRELOAD");
    check_fds = !(pre && strstr(pre, "/vgpreload_"));
    g_fdset = fmp_shared_alloc(FDS);
    g_extra = fmp_shared_alloc((size_t)members * sizeof *g_extra);
    if (!seen || !g_fdset || !g_extra)
        return 2;
    int *pids = fmp_shared_alloc((size_t)members * sizeof *pids);
    int *first = calloc((size_t)members, sizeof *first);
    uint64_t s = 88172645463325252ULL;
    int bad = 0, reused = 1, fresh_pids = 1;
    for (int r = 0; r < regions; r++) {
        change(r, &s, dir);
        int pp[2] = {-1, -1};
        if (check_pipe && pipe(pp) != 0)
            return 2;
        bad += run_region(r, members, seen, pids);
        if (check_pipe) {
            close(pp[1]);
            struct pollfd q = {pp[0], POLLIN, 0};
            char c;
            if (poll(&q, 1, 2000) != 1 || read(pp[0], &c, 1) != 0) {
                printf("region %d: the pipe's write end is still open elsewhere\n", r);
                bad++;
            }
            close(pp[0]);
        }
        for (int m = 1; m < members && r != kill_region; m++) {
            if (r == 0)
                first[m] = pids[m];
            else if (pids[m] == first[m])
                fresh_pids = 0;
            else
                reused = 0;
        }
    }
    if (wait_all) {
        fflush(NULL);
        pid_t own = fork();
        if (own == 0)
            _exit(7);
        alarm(30);
        int st, n = 0, mine = 0;
        pid_t w;
        while ((w = wait(&st)) > 0) {
            n++;
            mine += w == own && WIFEXITED(st) && WEXITSTATUS(st) == 7;
        }
        int err = errno;
        alarm(0);
        printf("wait: %d reaped, %d its own child, then %s\n", n, mine,
               err == ECHILD ? "ECHILD" : strerror(err));
        change(regions, &s, dir);
        bad += run_region(regions, members, seen, pids);
        for (int m = 1; m < members; m++)
            if (pids[m] == first[m])
                fresh_pids = 0;
            else
                reused = 0;
        regions++;
    }
    free(first);
    free(big);
    printf("%d regions of %d members: %d differences\n", regions, members, bad);
    fprintf(stderr, "pids: %s\n", reused ? "reused" : fresh_pids ? "fresh" : "mixed");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (chdir("/") != 0 || system(cmd) != 0)
        return 2;
    if (exec_at_end) {
        if (exec_at_end == 2 && fmp_warm_release() < 0)
            return 2;
        fflush(NULL);
        execl("/bin/sh", "sh", "-c",
              "sleep 5; read -r kids < /proc/$$/task/$$/children; for p in $kids; do "
              "read -r x y st z < /proc/$p/stat; "
              "if [ \"$st\" = Z ]; then echo ended $p; else echo left $p; fi; done",
              (char *)NULL);
        return 2;
    }
    return bad ? 1 : 0;
}
