/* check_prog: the lost-write detector's cases, run by test_check under FMP_CHECK=writes.
 *
 *   check_prog global   member 1 writes 100 elements of a global array and a function's
 *                       static, every member the same element of a file-scope static:
 *                       three lines
 *   check_prog heap     member 1 writes 10 elements of a block malloc'd before the region:
 *                       one line naming the block's allocation site (printed on stdout as
 *                       "site LINE")
 *   check_prog wrapper  member 1 writes two blocks of one allocation wrapper (make_grid),
 *                       called at two lines: two lines, each naming its call ("call_a", "call_b")
 *   check_prog stack    a member writes a local of the function that calls the one holding
 *                       the region (through a pointer): one line naming that function
 *   check_prog clean    only writes that are not lost: shared memory, the body's own
 *                       locals, a block allocated in the region, the master's writes, a
 *                       reduction: no line
 *   check_prog repeat   the same lost write in 20 regions: one line
 *   check_prog api      fmp_set_check: bad values refused, refused inside a region, turns
 *                       the check on and off at run time
 *   check_prog team     member 1 of a persistent team writes a global in 5 runs: one line
 *   check_prog scatter  member 2 writes every other double of a 64 KiB global: one line
 *   check_prog thread_team  the same team made by a thread that has ended: one line
 *   check_prog local    members add to a local of the function holding the region (-O0)
 *                       and write an element of a local array: two lines; the block's own
 *                       locals, and a local every member receives a reduction into: none
 *   check_prog mismatch the master meets a barrier its members do not: the region fails
 *                       (FMP_EMISMATCH), it does not hang
 *   check_prog pipe     a pipe's write end closed by the master between two regions: the
 *                       read after them sees its end (no member holds it)
 *   check_prog zombie   after a region no dead child is left (the snapshot reaped)
 *   check_prog name     prints the process's name (/proc/self/comm) and whether
 *                       libforkmp_check.so is loaded
 *   check_prog cxx      member 1 writes a block that C++'s operator new[] allocated before
 *                       the region (libstdc++'s, called as C++ code calls it): one line
 *                       naming the caller's line ("site LINE"); a skip ("cxx: no
 *                       libstdc++") where it is not installed
 *   check_prog slot     at -O2, a function's region inlined into its caller, whose array
 *                       is first used after the region: GCC gives the array and the
 *                       region's loop state one stack slot; the members write only shared
 *                       memory: no line
 *   check_prog mapping  member 1 writes a private mapping made before the region (and one
 *                       moved by mremap since, and a shared one, and one it maps itself):
 *                       two lines, naming the mmap's line ("site LINE") and the moved
 *                       one's ("moved LINE")
 *
 * Prints "done" at its end.  Each region is FMP_PARALLEL(3). */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <forkmp.h>
#include <sys/mman.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lost_array[1000];
static double lost_static[64];
int master_only;

static __attribute__((noinline)) double *make_grid(size_t n, int *line)
{
    *line = __LINE__ + 1;
    double *g = malloc(n * sizeof *g);
    if (!g)
        exit(2);
    memset(g, 0, n * sizeof *g);
    return g;
}

static __attribute__((noinline)) int count_call(void)
{
    static int calls; /* a function's static: GCC's symbol is calls.N */
    return ++calls;
}

static void global_case(void)
{
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        if (me == 1) {
            for (int i = 100; i < 200; i++)
                lost_array[i] = i;
            count_call();
        }
        lost_static[5] = me + 1.0;
    }
    printf("static %g calls %d\n", lost_static[5], count_call());
}

static void heap_case(void)
{
    int line, call = __LINE__ + 1;
    double *grid = make_grid(4096, &line);
    printf("site %d\ncall %d\n", line, call);
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1)
            for (int i = 10; i < 20; i++)
                grid[i] = 1.5 * i;
    }
    free(grid);
}

/* two blocks from one wrapper, called at two lines: two places */
static void wrapper_case(void)
{
    int line, a_call = __LINE__ + 1;
    double *a = make_grid(512, &line);
    int b_call = __LINE__ + 1;
    double *b = make_grid(512, &line);
    printf("site %d\ncall_a %d\ncall_b %d\n", line, a_call, b_call);
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1) {
            a[1] = 1;
            b[2] = 2;
        }
    }
    free(a);
    free(b);
}

static __attribute__((noinline)) void compute(long *acc)
{
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 2)
            acc[3] += 7;
    }
}

static __attribute__((noinline)) void caller(void)
{
    long acc[8] = {0};
    compute(acc);
    printf("acc %ld\n", acc[3]);
}

/* locals of the function that holds the region, at -O0 (each in its frame): those
   declared outside the block are the master's, the block's own are each member's */
static __attribute__((noinline, optimize("O0"))) void local_case(void)
{
    double sum = 0, total = 0;
    long counts[4] = {0};
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        double mine = me * 2.0;
        sum += mine;
        if (me == 2)
            counts[1] = 5;
        /* every member receives the result in its own total: the same bytes as the
           master's, nothing lost */
        fmp_reduce(&mine, &total, 1, FMP_DOUBLE, FMP_SUM);
    }
    printf("local %g %ld %g\n", sum, counts[1], total);
}

/* the master meets a barrier its members do not: the check must not keep them from the
   end barrier, which reports the mismatch */
static void mismatch_case(void)
{
    fmp_set_error_mode(FMP_ERRORS_RETURN);
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 0)
            fmp_barrier();
        else
            lost_array[9] = 9;
    }
    printf("mismatch %d\n", fmp_region_error());
}

/* a pipe's write end closed by the master between regions: after the next region no
   process of the pool holds it (the snapshot member holds no descriptor of the
   program's), and the read sees the end of the pipe rather than blocking */
static void pipe_case(void)
{
    int p[2];
    if (pipe(p) != 0)
        exit(3);
    FMP_PARALLEL(3) {
        (void)0;
    }
    close(p[1]);
    FMP_PARALLEL(3) {
        (void)0;
    }
    alarm(20); /* a read that blocks ends the program */
    char c;
    printf("pipe %zd\n", read(p[0], &c, 1));
}

/* after a region, no child of the master is left, dead or alive, but its warm pool's:
   prints the zombies among its children */
static void zombie_case(void)
{
    FMP_PARALLEL(3) {
        (void)0;
    }
    int zombies = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = e->d_name[0] >= '1' && e->d_name[0] <= '9' ? fopen(path, "r") : NULL;
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *q = strrchr(buf, ')'), st;
        int ppid;
        if (q && sscanf(q + 1, " %c %d", &st, &ppid) == 2 && ppid == (int)getpid() && st == 'Z')
            zombies++;
    }
    if (d)
        closedir(d);
    printf("zombies %d\n", zombies);
}

static void clean_case(void)
{
    long *shared = fmp_shared_alloc(64 * sizeof(long));
    double sum = 0;
    FMP_PARALLEL(3) {
        int me = fmp_thread_num();
        long mine[32];
        for (int i = 0; i < 32; i++)
            mine[i] = me * i;
        shared[me] = mine[31];
        double *tmp = malloc(1000 * sizeof *tmp);
        for (int i = 0; i < 1000; i++)
            tmp[i] = i;
        free(tmp);
        if (me == 0)
            master_only = 42;
        double part = me, all = 0;
        fmp_reduce(&part, &all, 1, FMP_DOUBLE, FMP_SUM);
        if (me == 0)
            sum = all;
    }
    printf("clean %ld %d %g\n", shared[2], master_only, sum);
    fmp_shared_free(shared);
}

static void repeat_case(void)
{
    for (int r = 0; r < 20; r++) {
        FMP_PARALLEL(3) {
            if (fmp_thread_num() == 1)
                lost_array[7] = r;
        }
    }
}

double scatter[8192];

/* every other double of a 64 KiB global: 4096 runs of written bytes, one place */
static void scatter_case(void)
{
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 2)
            for (int i = 0; i < 8192; i += 2)
                scatter[i] = i + 1.0;
    }
}

static void team_body(void *arg)
{
    int r = *(const int *)arg;
    if (fmp_thread_num() == 1)
        lost_array[50] = r + 1;
}

/* runs of team_body on team, then the team's end */
static void run_team(fmp_team *team, int runs)
{
    if (!team)
        exit(3);
    for (int r = 0; r < runs; r++)
        if (fmp_team_run(team, team_body, &r, sizeof r) != 0)
            exit(4);
    if (fmp_team_destroy(team) != 0)
        exit(5);
    printf("team %d\n", lost_array[50]);
}

static void team_case(void)
{
    run_team(fmp_team_create(3), 5);
}

static void *make_team(void *arg)
{
    *(fmp_team **)arg = fmp_team_create(3);
    return NULL;
}

/* the team made by a thread that then ends: its snapshot outlives that thread */
static void thread_team_case(void)
{
    fmp_team *team = NULL;
    pthread_t th;
    if (pthread_create(&th, NULL, make_team, &team) != 0 || pthread_join(th, NULL) != 0)
        exit(3);
    usleep(100000); /* a parent-death signal of the ended thread would have come */
    run_team(team, 3);
}

static void api_case(void)
{
    if (fmp_set_check("bogus") != FMP_EINVAL || fmp_set_check("writes:") != FMP_EINVAL)
        printf("api: bad values accepted\n");
    int inside = 0;
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 0)
            inside = fmp_set_check("writes");
    }
    if (inside != FMP_ESTATE)
        printf("api: accepted inside a region (%d)\n", inside);
    if (fmp_set_check("writes") != 0)
        printf("api: writes refused\n");
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1)
            lost_array[1] = 1;
    }
    if (fmp_set_check("off") != 0)
        printf("api: off refused\n");
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1)
            lost_array[2] = 2;
    }
}

/* C++'s new double[n], as C++ code calls it: the operator of the C++ runtime */
static __attribute__((noinline)) double *make_cxx(void *(*new_array)(size_t), size_t n, int *line)
{
    *line = __LINE__ + 1;
    double *p = new_array(n * sizeof *p);
    memset(p, 0, n * sizeof *p);
    return p;
}

static void cxx_case(void)
{
    void *cxx = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL);
    void *(*new_array)(size_t) = cxx ? (void *(*)(size_t))dlsym(cxx, "_Znam") : NULL;
    void (*delete_array)(void *) = cxx ? (void (*)(void *))dlsym(cxx, "_ZdaPv") : NULL;
    if (!new_array || !delete_array) {
        printf("cxx: no libstdc++\n");
        return;
    }
    int line, call = __LINE__ + 1;
    double *v = make_cxx(new_array, 1000, &line);
    printf("site %d\ncall %d\n", line, call);
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1)
            v[500] = 1;
    }
    delete_array(v);
}

static inline __attribute__((always_inline)) void fill(double *out, int n)
{
    double *tmp = fmp_shared_alloc(n * sizeof *tmp);
    if (!tmp)
        exit(2);
    FMP_PARALLEL(3) {
        FMP_FOR(i, 0, n, fmp_static(0))
            tmp[i] = i * 0.5;
    }
    memcpy(out, tmp, n * sizeof *tmp); /* the master copies the result after the join */
    fmp_shared_free(tmp);
}

static __attribute__((noinline, optimize("O2"))) void slot_case(void)
{
    double res[16];
    fill(res, 16);
    double sum = 0;
    for (int i = 0; i < 16; i++)
        sum += res[i];
    printf("slot %g\n", sum);
}

#define RW (PROT_READ | PROT_WRITE)
#define PRIVATE (MAP_PRIVATE | MAP_ANONYMOUS)

static void mapping_case(void)
{
    int line = __LINE__ + 1;
    double *m = mmap(NULL, 1 << 16, RW, PRIVATE, -1, 0);
    int moved_line = __LINE__ + 1;
    double *r = mmap(NULL, 1 << 14, RW, PRIVATE, -1, 0);
    if (m == MAP_FAILED || r == MAP_FAILED)
        exit(2);
    r = mremap(r, 1 << 14, 1 << 20, MREMAP_MAYMOVE);
    double *sh = mmap(NULL, 1 << 16, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED || sh == MAP_FAILED)
        exit(2);
    printf("site %d\nmoved %d\n", line, moved_line);
    m[0] = r[0] = 1;
    FMP_PARALLEL(3) {
        if (fmp_thread_num() == 1) {
            m[100] = 2;
            r[(1 << 20) / sizeof *r - 1] = 3;                   /* in the part mremap added */
            sh[7] = 4;                                          /* shared: not lost */
            double *own = mmap(NULL, 4096, RW, PRIVATE, -1, 0); /* the member's own */
            if (own != MAP_FAILED)
                own[1] = 5;
            munmap(own, 4096);
        }
    }
    printf("mapping %g %g %g\n", m[100], r[(1 << 20) / sizeof *r - 1], sh[7]);
    munmap(m, 1 << 16);
    munmap(r, 1 << 20);
    munmap(sh, 1 << 16);
}

/* the process's name as ps shows it, and whether libforkmp_check.so is loaded (forkmp
   executed the program again with it preloaded) */
static void name_case(void)
{
    FMP_PARALLEL(2) { /* where nothing can be checked (valgrind, a sanitizer), it says so */
    }
    char comm[64] = "";
    FILE *f = fopen("/proc/self/comm", "r");
    if (!f || !fgets(comm, sizeof comm, f))
        exit(2);
    fclose(f);
    comm[strcspn(comm, "\n")] = 0;
    printf("name %s preloaded %d\n", comm, dlsym(RTLD_DEFAULT, "fmp_check_block_at") != NULL);
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "global") == 0)
        global_case();
    else if (strcmp(what, "heap") == 0)
        heap_case();
    else if (strcmp(what, "stack") == 0)
        caller();
    else if (strcmp(what, "clean") == 0)
        clean_case();
    else if (strcmp(what, "repeat") == 0)
        repeat_case();
    else if (strcmp(what, "api") == 0)
        api_case();
    else if (strcmp(what, "team") == 0)
        team_case();
    else if (strcmp(what, "scatter") == 0)
        scatter_case();
    else if (strcmp(what, "thread_team") == 0)
        thread_team_case();
    else if (strcmp(what, "local") == 0)
        local_case();
    else if (strcmp(what, "mismatch") == 0)
        mismatch_case();
    else if (strcmp(what, "pipe") == 0)
        pipe_case();
    else if (strcmp(what, "zombie") == 0)
        zombie_case();
    else if (strcmp(what, "cxx") == 0)
        cxx_case();
    else if (strcmp(what, "mapping") == 0)
        mapping_case();
    else if (strcmp(what, "slot") == 0)
        slot_case();
    else if (strcmp(what, "wrapper") == 0)
        wrapper_case();
    else if (strcmp(what, "name") == 0)
        name_case();
    else {
        fprintf(stderr, "usage: check_prog "
                        "global|heap|stack|clean|repeat|api|team|scatter|thread_team|local|"
                        "mismatch|pipe|zombie|cxx|mapping|slot|wrapper|name\n");
        return 2;
    }
    printf("done\n");
    return 0;
}
