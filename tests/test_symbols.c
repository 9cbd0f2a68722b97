/* test_symbols: the in-process symbolizer (src/symbols.c) with which the lost-write
 * detector (FMP_CHECK=writes) names the memory a member wrote.
 *
 *  - a global and a static array of this program: their symbol, start, size, object (the
 *    program's real path), data, not the runtime's;
 *  - a function of this program: its symbol; the line of a call in it (the line table of
 *    the compiler's default DWARF version), and in tests/sym_dwarf.c built with
 *    -gdwarf-4 and -gdwarf-2;
 *  - libc's stdout FILE and printf, the loader's _r_debug, the vdso: the runtime's, and
 *    no line for libc (Debian's has no line table);
 *  - heap, stack, anonymous memory and garbage addresses: no object;
 *  - a shared object (a copy of tests/.libs/libsymmod.so under another name): its
 *    variables, static ones too, functions and lines; names that make an object the
 *    runtime's; dlclose noticed;
 *  - the file of a loaded object replaced by damaged ones (empty, truncated, not ELF,
 *    32-bit, absurd section headers, thousands of random corruptions): never a crash, and
 *    the object is still found;
 *  - threads calling concurrently while the process forks, and children that call;
 *  - the types of variables (.debug_info) of tests/sym_types.c, built with DWARF 5 and
 *    with DWARF 4: arrays of base types, of structures, of typedefs, two-dimensional, of
 *    pointers to functions, qualified pointers, a static at function scope; of this
 *    program's arrays and the module's; none for libc, the heap, garbage, an address
 *    inside a variable; the damaged files again;
 *  - the locals of a frame (tests/sym_frame.c, at -O0, DWARF 5 and 4) at calls outside a
 *    nested block, inside it and inside an inlined function: their names, types, sizes
 *    and exact addresses, those of the block or the inlined function only there; max
 *    smaller than the count; at -O2, in the blocks of a loop (range lists): the block's
 *    local whose address is taken, not the other's; none for libc, the heap, garbage. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/lib-names.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unwind.h>

#include "harness.h"
#include "internal.h"
#include "symbols.h"
#include "sym_probe.h"

int sym_global_array[100];
static double sym_static_table[50];

int sym_probe_function(int x);

__attribute__((noinline)) void *sym_return_address(void)
{
    return __builtin_return_address(0);
}

__attribute__((noinline)) int sym_probe_function(int x)
{
    sym_global_array[x % 100] += x;
    return sym_global_array[(x * 7) % 100] * 3 + 1;
}

/* sym_frame_capture: the frame of its caller, found by the return address.  A step of
   the unwinder gives a return address into a function and the CFA of the function it
   called: the caller's own CFA comes with the step after. */
typedef struct capture {
    uintptr_t ret;
    int found;
    sym_call *call;
} capture;

static _Unwind_Reason_Code capture_step(struct _Unwind_Context *ctx, void *arg)
{
    capture *c = arg;
    if (c->found) {
        c->call->pc = c->ret - 1;
        c->call->cfa = (uintptr_t)_Unwind_GetCFA(ctx);
        return _URC_END_OF_STACK;
    }
    c->found = (uintptr_t)_Unwind_GetIP(ctx) == c->ret;
    return _URC_NO_REASON;
}

static void capture_caller(uintptr_t ret, sym_call *call)
{
    capture c = {ret, 0, call};
    call->pc = call->cfa = 0;
    _Unwind_Backtrace(capture_step, &c);
}

__attribute__((noinline)) void sym_frame_capture(sym_call *call)
{
    capture_caller((uintptr_t)__builtin_return_address(0), call);
}

__attribute__((noinline)) void sym_local_capture(sym_call *call, const void *local)
{
    capture_caller((uintptr_t)__builtin_return_address(0), call);
    call->local = (uintptr_t)local;
}

static void exe_path(char *buf)
{
    HT_REQUIRE_MSG(realpath("/proc/self/exe", buf) != NULL, "realpath(/proc/self/exe): %s",
                   strerror(errno));
}

/* fmp__sym_at(addr) names the symbol name of the object obj (NULL: any) */
static int check_sym(uintptr_t addr, const char *name, const char *obj, fmp__sym *s)
{
    int rc = fmp__sym_at(addr, s);
    if (!HT_CHECK_MSG(rc == 0, "fmp__sym_at(%#lx) = %d, expected the symbol %s", (long)addr, rc,
                      name))
        return 0;
    int ok =
        HT_CHECK_MSG(strcmp(s->name, name) == 0, "fmp__sym_at(%#lx): '%s' in %s, expected '%s'",
                     (long)addr, s->name, s->object, name);
    if (obj)
        ok &= HT_CHECK_MSG(strcmp(s->object, obj) == 0, "fmp__sym_at(%#lx): object '%s', not '%s'",
                           (long)addr, s->object, obj);
    return ok;
}

/* ---------------------------------------------------------------- this program */

static void test_global_array(void)
{
    char exe[PATH_MAX];
    exe_path(exe);
    sym_global_array[37] = 1;
    fmp__sym s;
    if (!check_sym((uintptr_t)&sym_global_array[37], "sym_global_array", exe, &s))
        return;
    HT_CHECK(s.start == (uintptr_t)&sym_global_array[0]);
    HT_CHECK_INT_EQ(s.size, sizeof sym_global_array);
    HT_CHECK_INT_EQ(s.func, 0);
    HT_CHECK_INT_EQ(s.runtime, 0);
    /* its first and last bytes; the byte after it is not it */
    check_sym((uintptr_t)sym_global_array, "sym_global_array", exe, &s);
    check_sym((uintptr_t)(sym_global_array + 100) - 1, "sym_global_array", exe, &s);
    int rc = fmp__sym_at((uintptr_t)(sym_global_array + 100), &s);
    HT_CHECK_MSG(rc != 0 || strcmp(s.name, "sym_global_array") != 0,
                 "the byte after sym_global_array is in it");
    /* out may be NULL */
    HT_CHECK_INT_EQ(fmp__sym_at((uintptr_t)&sym_global_array[5], NULL), 0);
}

static void test_static_table(void)
{
    char exe[PATH_MAX];
    exe_path(exe);
    *(volatile double *)&sym_static_table[49] = 2.5;
    fmp__sym s;
    if (!check_sym((uintptr_t)&sym_static_table[37], "sym_static_table", exe, &s))
        return;
    HT_CHECK(s.start == (uintptr_t)&sym_static_table[0]);
    HT_CHECK_INT_EQ(s.size, sizeof sym_static_table);
    HT_CHECK_INT_EQ(s.func, 0);
    HT_CHECK_INT_EQ(s.runtime, 0);
}

static void test_function(void)
{
    char exe[PATH_MAX];
    exe_path(exe);
    int (*volatile fn)(int) = sym_probe_function;
    HT_CHECK(fn(3) > 0);
    uintptr_t at = (uintptr_t)fn;
    fmp__sym s;
    if (!check_sym(at, "sym_probe_function", exe, &s))
        return;
    HT_CHECK(s.start == at);
    HT_CHECK_INT_EQ(s.func, 1);
    HT_CHECK_INT_EQ(s.runtime, 0);
    HT_REQUIRE(s.size > 0);
    check_sym(at + s.size - 1, "sym_probe_function", exe, &s);
    /* its entry has a line of this file */
    char buf[256];
    HT_CHECK_INT_EQ(fmp__sym_line(at, buf, sizeof buf), 0);
    HT_CHECK_MSG(strncmp(buf, "test_symbols.c:", 15) == 0, "line of sym_probe_function: '%s'", buf);
}

static void check_line(const sym_where *w, const char *file, const char *function)
{
    char buf[256], want[256];
    snprintf(want, sizeof want, "%s:%d", file, w->line);
    int rc = fmp__sym_line(w->pc, buf, sizeof buf);
    HT_CHECK_MSG(rc == 0 && strcmp(buf, want) == 0, "fmp__sym_line(%#lx) = %d '%s', expected '%s'",
                 (long)w->pc, rc, rc == 0 ? buf : "", want);
    fmp__sym s;
    HT_CHECK_INT_EQ(fmp__sym_at(w->pc, &s), 0);
    HT_CHECK_MSG(strncmp(s.name, function, strlen(function)) == 0,
                 "the call at %#lx is in '%s', expected %s", (long)w->pc, s.name, function);
    HT_CHECK_INT_EQ(s.func, 1);
}

static void test_line_of_a_call(void)
{
    sym_where w;
    SYM_WHERE(&w);
    check_line(&w, "test_symbols.c", "test_line_of_a_call");
    /* a second question about the object: the table decoded the first time */
    check_line(&w, "test_symbols.c", "test_line_of_a_call");
}

static void test_line_tables_of_older_dwarf(void)
{
    sym_where w;
    sym_dwarf4_where(&w);
    check_line(&w, "sym_dwarf.c", "sym_dwarf4_where");
    sym_dwarf2_where(&w);
    check_line(&w, "sym_dwarf.c", "sym_dwarf2_where");
}

static void test_line_buffer(void)
{
    sym_where w;
    SYM_WHERE(&w);
    char buf[8];
    memset(buf, 'x', sizeof buf);
    HT_CHECK_INT_EQ(fmp__sym_line(w.pc, buf, 5), 0);
    HT_CHECK_MSG(strcmp(buf, "test") == 0 && buf[5] == 'x', "truncated to 5: '%.8s'", buf);
    HT_CHECK_INT_EQ(fmp__sym_line(w.pc, buf, 0), -1);
    HT_CHECK_INT_EQ(fmp__sym_line(w.pc, NULL, 10), -1);
}

/* ---------------------------------------------------------------- variables' types */

static void check_type(const void *var, const char *text, size_t size, size_t elem,
                       const char *dwarf)
{
    fmp__symtype t;
    memset(&t, 'x', sizeof t);
    int rc = fmp__sym_type((uintptr_t)var, &t);
    HT_CHECK_MSG(rc == 0 && strcmp(t.type, text) == 0 && t.size == size && t.elem == elem,
                 "%s: fmp__sym_type(%p) = %d '%.128s' size %zu elem %zu, expected '%s' size "
                 "%zu elem %zu",
                 dwarf, var, rc, rc == 0 ? t.type : "", t.size, t.elem, text, size, elem);
}

static void check_types(void (*get)(sym_vars *), const char *dwarf)
{
    sym_vars v;
    get(&v);
    check_type(v.grid, "double[100]", 100 * sizeof(double), sizeof(double), dwarf);
    check_type(v.table, "int[10][20]", 200 * sizeof(int), sizeof(int), dwarf);
    check_type(v.cells, "struct sym_cell[8]", 8 * 16, 16, dwarf);
    check_type(v.reals, "real_t[5]", 5 * sizeof(double), sizeof(double), dwarf);
    check_type(v.text, "char *", sizeof(char *), 0, dwarf);
    check_type(v.count, "long", sizeof(long), 0, dwarf);
    check_type(v.names, "const char *const[3]", 3 * sizeof(char *), sizeof(char *), dwarf);
    check_type(v.hooks, "int (*[4])(int, const char *)", 4 * sizeof(void (*)(void)),
               sizeof(void (*)(void)), dwarf);
    check_type(v.flags, "unsigned short", sizeof(short), 0, dwarf);
    check_type(v.bytes, "char[256]", 256, 1, dwarf);
    check_type(v.local, "long[7]", 7 * sizeof(long), sizeof(long), dwarf);
    /* only the first byte names a variable */
    fmp__symtype t;
    HT_CHECK_INT_EQ(fmp__sym_type((uintptr_t)v.grid + sizeof(double), &t), -1);
    HT_CHECK_INT_EQ(fmp__sym_type((uintptr_t)v.table + 1, &t), -1);
}

static void test_variable_types(void)
{
    check_types(sym_types5_vars, "DWARF 5");
    check_types(sym_types4_vars, "DWARF 4");
    check_type(sym_global_array, "int[100]", sizeof sym_global_array, sizeof(int), "this program");
    check_type(sym_static_table, "double[50]", sizeof sym_static_table, sizeof(double),
               "this program");
    /* a second question: the table decoded the first time */
    check_types(sym_types5_vars, "DWARF 5 again");
}

static void test_no_type(void)
{
    fmp__symtype t;
    memset(&t, 'x', sizeof t);
    HT_CHECK_INT_EQ(fmp__sym_type((uintptr_t)stdout, &t), -1); /* libc: no .debug_info */
    HT_CHECK_MSG(t.type[0] == 0 && t.size == 0 && t.elem == 0, "*out not cleared on -1");
    void *heap = malloc(64);
    HT_REQUIRE(heap != NULL);
    HT_CHECK_INT_EQ(fmp__sym_type((uintptr_t)heap, &t), -1);
    free(heap);
    HT_CHECK_INT_EQ(fmp__sym_type((uintptr_t)sym_probe_function, &t), -1); /* code */
    HT_CHECK_INT_EQ(fmp__sym_type(0, &t), -1);
    HT_CHECK_INT_EQ(fmp__sym_type(UINTPTR_MAX, &t), -1);
    HT_CHECK_INT_EQ(fmp__sym_type((uintptr_t)1 << 63, &t), -1);
    HT_CHECK_INT_EQ(fmp__sym_type((uintptr_t)sym_global_array, NULL), -1);
}

/* ---------------------------------------------------------------- locals of a frame */

static const fmp__symlocal *find_local(const fmp__symlocal *list, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

static void check_local(const fmp__symlocal *list, int n, const char *name, const char *type,
                        uintptr_t addr, size_t size, size_t elem, const char *where)
{
    const fmp__symlocal *l = find_local(list, n, name);
    if (!HT_CHECK_MSG(l != NULL, "%s: no local '%s' among %d", where, name, n))
        return;
    HT_CHECK_MSG(
        strcmp(l->type, type) == 0 && l->addr == addr && l->size == size && l->elem == elem,
        "%s: %s '%s' at %#lx size %zu elem %zu, expected '%s' at %#lx size %zu elem "
        "%zu",
        where, name, l->type, (long)l->addr, l->size, l->elem, type, (long)addr, size, elem);
}

/* The locals of the function's frame at a call: those of all scopes, and how many. */
static int frame_locals(const sym_call *c, fmp__symlocal *l, int max, const char *where)
{
    memset(l, 0, (size_t)max * sizeof *l);
    int n = fmp__sym_locals(c->pc, c->cfa, l, max);
    HT_CHECK_MSG(n >= 0 && n <= max, "%s: fmp__sym_locals = %d", where, n);
    return n < 0 ? 0 : n > max ? max : n;
}

static void check_frame(void (*fn)(sym_frame *, int), const char *dwarf)
{
    sym_frame f;
    memset(&f, 0, sizeof f);
    fn(&f, 5);
    HT_REQUIRE_MSG(f.outer.cfa && f.in_block.cfa && f.in_inlined.cfa,
                   "%s: the probe's frame not found by _Unwind_Backtrace", dwarf);
    HT_CHECK(f.outer.cfa == f.in_block.cfa && f.outer.cfa == f.in_inlined.cfa);
    char where[64];
    fmp__symlocal l[16];

    /* outside the block: the parameters and the function's own locals, at their addresses */
    snprintf(where, sizeof where, "%s, outside the block", dwarf);
    int n = frame_locals(&f.outer, l, 16, where);
    HT_CHECK_MSG(n == 4, "%s: %d locals, expected f, n, sum, acc", where, n);
    check_local(l, n, "f", "sym_frame *", f.self, sizeof(void *), 0, where);
    check_local(l, n, "n", "int", f.n, sizeof(int), 0, where);
    check_local(l, n, "sum", "double", f.sum, sizeof(double), 0, where);
    check_local(l, n, "acc", "long[4]", f.acc, 4 * sizeof(long), sizeof(long), where);
    HT_CHECK_MSG(!find_local(l, n, "inner") && !find_local(l, n, "deep"),
                 "%s: a local of a scope that does not hold the call", where);

    /* in the block: its local too */
    snprintf(where, sizeof where, "%s, in the block", dwarf);
    n = frame_locals(&f.in_block, l, 16, where);
    HT_CHECK_MSG(n == 5, "%s: %d locals, expected f, n, sum, acc, inner", where, n);
    check_local(l, n, "inner", "int", f.inner, sizeof(int), 0, where);
    check_local(l, n, "acc", "long[4]", f.acc, 4 * sizeof(long), sizeof(long), where);
    HT_CHECK_MSG(!find_local(l, n, "deep"), "%s: the inlined function's local", where);

    /* in the inlined function: its local (and its parameter f, another f); clang
       optimizes the inlined copy at the CFLAGS' level (optnone cannot go with
       always_inline) and gives deep no location */
    snprintf(where, sizeof where, "%s, in the inlined function", dwarf);
    n = frame_locals(&f.in_inlined, l, 16, where);
#if !defined(__clang__)
    check_local(l, n, "deep", "int", f.deep, sizeof(int), 0, where);
#endif
    check_local(l, n, "sum", "double", f.sum, sizeof(double), 0, where);
    HT_CHECK_MSG(!find_local(l, n, "inner"), "%s: the block's local", where);

    /* max smaller than the count: the count, max filled, nothing after */
    memset(l, 'x', sizeof l);
    HT_CHECK_INT_EQ(fmp__sym_locals(f.outer.pc, f.outer.cfa, l, 2), 4);
    HT_CHECK(l[0].name[0] != 'x' && l[1].name[0] != 'x' && l[2].name[0] == 'x');
    HT_CHECK_INT_EQ(fmp__sym_locals(f.outer.pc, f.outer.cfa, NULL, 0), 4);
    HT_CHECK_INT_EQ(fmp__sym_locals(f.outer.pc, f.outer.cfa, NULL, 5), 4);
    HT_CHECK_INT_EQ(fmp__sym_locals(f.outer.pc, f.outer.cfa, l, -1), 4);
}

static void test_frame_locals(void)
{
    check_frame(sym_frame5_locals, "DWARF 5");
    check_frame(sym_frame4_locals, "DWARF 4");
    check_frame(sym_frame5_locals, "DWARF 5 again"); /* decoded the first time */
}

/* In a block of the -O2 function: its local at its address (GCC), not the other block's. */
static void check_block(const sym_call *c, const char *name, const char *type, size_t size,
                        const char *other, const char *dwarf)
{
    char where[64];
    snprintf(where, sizeof where, "%s, -O2, in the block of %s", dwarf, name);
    HT_REQUIRE_MSG(c->cfa != 0, "%s: the frame not found by _Unwind_Backtrace", where);
    fmp__symlocal l[16];
    int n = frame_locals(c, l, 16, where);
#if defined(__clang__) /* a location list */
    if (!find_local(l, n, name))
        return;
#endif
    check_local(l, n, name, type, c->local, size, 0, where);
    HT_CHECK_MSG(!find_local(l, n, other), "%s: the local of the other block", where);
    /* the other block's local is among the function's others, this one is not */
    memset(l, 0, sizeof l);
    int no = fmp__sym_locals_elsewhere(c->pc, c->cfa, l, 16);
    HT_CHECK_MSG(no >= 0 && no <= 16, "%s: fmp__sym_locals_elsewhere = %d", where, no);
    no = no < 0 ? 0 : no > 16 ? 16 : no;
    HT_CHECK_MSG(!find_local(l, no, name), "%s: its own local among the others", where);
#if !defined(__clang__)
    HT_CHECK_MSG(find_local(l, no, other), "%s: the other block's local not among the others",
                 where);
#endif
}

static void test_frame_locals_of_blocks(void)
{
    const int values[] = {5, 1};
    sym_blocks b;
    memset(&b, 0, sizeof b);
    HT_CHECK_INT_EQ(sym_blocks5(values, 2, &b), 16);
    check_block(&b.at_t, "t", "int", sizeof(int), "u", "DWARF 5");
    check_block(&b.at_u, "u", "long", sizeof(long), "t", "DWARF 5");
    memset(&b, 0, sizeof b);
    HT_CHECK_INT_EQ(sym_blocks4(values, 2, &b), 16);
    check_block(&b.at_t, "t", "int", sizeof(int), "u", "DWARF 4");
    check_block(&b.at_u, "u", "long", sizeof(long), "t", "DWARF 4");
}

static void test_no_locals(void)
{
    fmp__symlocal l[4];
    void *libc = dlopen(LIBC_SO, RTLD_LAZY | RTLD_NOLOAD);
    HT_REQUIRE_MSG(libc != NULL, "dlopen(%s): %s", LIBC_SO, dlerror());
    void *pf = dlsym(libc, "printf");
    HT_REQUIRE(pf != NULL);
    HT_CHECK_INT_EQ(fmp__sym_locals((uintptr_t)pf + 4, 0x7ffff000, l, 4), -1);
    dlclose(libc);
    void *heap = malloc(64);
    HT_REQUIRE(heap != NULL);
    HT_CHECK_INT_EQ(fmp__sym_locals((uintptr_t)heap, 0x7ffff000, l, 4), -1);
    free(heap);
    HT_CHECK_INT_EQ(fmp__sym_locals((uintptr_t)sym_global_array, 0x7ffff000, l, 4), -1);
    HT_CHECK_INT_EQ(fmp__sym_locals(0, 0, l, 4), -1);
    HT_CHECK_INT_EQ(fmp__sym_locals(UINTPTR_MAX, UINTPTR_MAX, l, 4), -1);
    HT_CHECK_INT_EQ(fmp__sym_locals((uintptr_t)1 << 63, 1, NULL, 4), -1);
    /* a function of this program (-O2: its locals have location lists): known, maybe none */
    int n = fmp__sym_locals((uintptr_t)sym_probe_function + 1, 0x7ffff000, l, 4);
    HT_CHECK_MSG(n >= 0, "sym_probe_function: fmp__sym_locals = %d", n);
}

/* ---------------------------------------------------------------- the runtime's objects */

static void test_libc(void)
{
    fmp__sym s;
    HT_REQUIRE(fmp__sym_at((uintptr_t)stdout, &s) == 0); /* the FILE, in libc's data */
    HT_CHECK_CONTAINS(s.object, "libc");
    HT_CHECK_CONTAINS(s.name, "stdout");
    HT_CHECK_INT_EQ(s.runtime, 1);
    HT_CHECK_INT_EQ(s.func, 0);
    HT_CHECK(s.start <= (uintptr_t)stdout && (uintptr_t)stdout < s.start + s.size);

    /* libc's own printf (in a sanitizer build RTLD_DEFAULT finds the interceptor) */
    void *libc = dlopen(LIBC_SO, RTLD_LAZY | RTLD_NOLOAD);
    HT_REQUIRE_MSG(libc != NULL, "dlopen(%s): %s", LIBC_SO, dlerror());
    void *pf = dlsym(libc, "printf");
    HT_REQUIRE(pf != NULL);
    HT_REQUIRE(fmp__sym_at((uintptr_t)pf, &s) == 0);
    HT_CHECK_CONTAINS(s.object, "libc");
    HT_CHECK_MSG(strcmp(s.name, "printf") == 0, "printf named '%s'", s.name);
    HT_CHECK_INT_EQ(s.runtime, 1);
    HT_CHECK_INT_EQ(s.func, 1);
    HT_CHECK(s.start == (uintptr_t)pf);

    /* no line table in the distribution's libc: the caller falls back on the name */
    char buf[256];
    HT_CHECK_INT_EQ(fmp__sym_line((uintptr_t)pf, buf, sizeof buf), -1);
    HT_CHECK_INT_EQ(fmp__sym_line((uintptr_t)pf + 1, buf, sizeof buf), -1);
    dlclose(libc);
}

/* fmp__sym_segment: the segment that holds an address, whole, and whose it is */
static void check_segment(uintptr_t addr, size_t len, int runtime, const char *what)
{
    uintptr_t lo = 1, hi = 0;
    int rt = -1;
    if (!HT_CHECK_MSG(fmp__sym_segment(addr, &lo, &hi, &rt) == 0, "fmp__sym_segment(%s) = -1",
                      what))
        return;
    HT_CHECK_MSG(lo <= addr && addr + len <= hi, "%s [%#lx, +%zu) not in [%#lx, %#lx)", what,
                 (long)addr, len, (long)lo, (long)hi);
    HT_CHECK_MSG(rt == runtime, "%s: runtime %d, expected %d", what, rt, runtime);
    /* the segment is mapped, every page of it (a data segment's .bss included) */
    FILE *f = fopen("/proc/self/maps", "r");
    HT_REQUIRE(f != NULL);
    uintptr_t at = lo & ~(uintptr_t)4095, a, b;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a <= at && at < b)
            at = b;
    fclose(f);
    HT_CHECK_MSG(at >= hi, "%s: [%#lx, %#lx) mapped only up to %#lx", what, (long)lo, (long)hi,
                 (long)at);
}

static void test_segments(void)
{
    check_segment((uintptr_t)&sym_global_array[0], sizeof sym_global_array, 0, "a global");
    check_segment((uintptr_t)&sym_static_table[0], sizeof sym_static_table, 0, "a .bss static");
    check_segment((uintptr_t)&test_segments, 16, 0, "a function of the program");
    check_segment((uintptr_t)stdout, sizeof *stdout, 1, "libc's stdout");
    void *libc = dlopen(LIBC_SO, RTLD_LAZY | RTLD_NOLOAD);
    HT_REQUIRE_MSG(libc != NULL, "dlopen(%s): %s", LIBC_SO, dlerror());
    void *pf = dlsym(libc, "printf");
    HT_REQUIRE(pf != NULL);
    check_segment((uintptr_t)pf, 16, 1, "libc's printf");
    dlclose(libc);
    /* a data segment and the program's code segment are not one */
    uintptr_t lo, hi, lo2, hi2;
    int rt;
    HT_REQUIRE(fmp__sym_segment((uintptr_t)&sym_global_array[0], &lo, &hi, &rt) == 0);
    HT_REQUIRE(fmp__sym_segment((uintptr_t)&test_segments, &lo2, &hi2, &rt) == 0);
    HT_CHECK(hi <= lo2 || hi2 <= lo);
    /* no object: heap, stack, anonymous memory */
    char *heap = malloc(64);
    volatile int local = 1;
    void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HT_REQUIRE(heap && anon != MAP_FAILED);
    HT_CHECK_INT_EQ(fmp__sym_segment((uintptr_t)heap, &lo, &hi, &rt), -1);
    HT_CHECK_INT_EQ(fmp__sym_segment((uintptr_t)&local, &lo, &hi, &rt), -1);
    HT_CHECK_INT_EQ(fmp__sym_segment((uintptr_t)anon, &lo, &hi, &rt), -1);
    munmap(anon, 4096);
    free(heap);
}

/* fmp__vma_of_text, the mapping of an address from /proc/self/maps' text (what the
   lost-write detector falls back on before Linux 6.11): as the kernel's PROCMAP_QUERY
   says, or as the text says where the kernel has no query (then from lines parsed by
   hand), a line longer than its buffer of 4096 bytes included */
static void test_vma_text(void)
{
    char dir[] = "/tmp/fmp-test-vma.XXXXXX";
    HT_REQUIRE(mkdtemp(dir) != NULL);
    char path[4200];
    snprintf(path, sizeof path, "%s", dir);
    /* a path of 4082 bytes: its line in /proc/self/maps is longer than 4096 */
    int depth = 0;
    while (strlen(path) < 4080) {
        size_t at = strlen(path), len = 4080 - at - 1 < 150 ? 4080 - at - 1 : 150;
        path[at] = '/';
        memset(path + at + 1, 'd', len);
        path[at + 1 + len] = 0;
        HT_REQUIRE_MSG(mkdir(path, 0700) == 0, "mkdir: %s", strerror(errno));
        depth++;
    }
    strcat(path, "/f");
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    HT_REQUIRE_MSG(fd >= 0, "open: %s", strerror(errno));
    HT_REQUIRE(ftruncate(fd, 3 * 4096) == 0);
    char *f = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    char *anon = mmap(NULL, 5 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HT_REQUIRE(f != MAP_FAILED && anon != MAP_FAILED);
    volatile int local = 0;
    char *heap = malloc(100);
    struct {
        uintptr_t a, lo, hi; /* lo == hi == 0: not mapped */
    } c[] = {{(uintptr_t)f + 5000, (uintptr_t)f, (uintptr_t)f + 3 * 4096},
             {(uintptr_t)anon, (uintptr_t)anon, (uintptr_t)anon + 5 * 4096},
             {(uintptr_t)&local, 0, 0},
             {(uintptr_t)heap, 0, 0},
             {(uintptr_t)test_vma_text, 0, 0},
             {4096, 0, 0}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uintptr_t lo, hi, tlo, thi;
        HT_CHECK(fmp__vma_of(c[i].a, &lo, &hi) == 0 || lo == 0);
        HT_CHECK_INT_EQ(fmp__vma_of_text(c[i].a, &tlo, &thi), 0);
        HT_CHECK_MSG(tlo == lo && thi == hi, "%#lx: [%#lx, %#lx) from the text, [%#lx, %#lx) asked",
                     (unsigned long)c[i].a, (unsigned long)tlo, (unsigned long)thi,
                     (unsigned long)lo, (unsigned long)hi);
        if (c[i].lo || c[i].a == 4096)
            HT_CHECK_MSG(tlo == c[i].lo && thi == c[i].hi,
                         "%#lx: [%#lx, %#lx), expected [%#lx, %#lx)", (unsigned long)c[i].a,
                         (unsigned long)tlo, (unsigned long)thi, (unsigned long)c[i].lo,
                         (unsigned long)c[i].hi);
        else
            HT_CHECK_MSG(tlo <= c[i].a && c[i].a < thi, "%#lx not in [%#lx, %#lx)",
                         (unsigned long)c[i].a, (unsigned long)tlo, (unsigned long)thi);
    }
    free(heap);
    munmap(f, 3 * 4096);
    munmap(anon, 5 * 4096);
    close(fd);
    unlink(path);
    while (depth-- > 0) {
        *strrchr(path, '/') = 0;
        rmdir(path);
    }
    rmdir(dir);
}

static void test_loader_and_vdso(void)
{
    fmp__sym s;
    void *r = dlsym(RTLD_DEFAULT, "_r_debug");
    Dl_info di;
    if (r && dladdr(r, &di) && di.dli_fname && strstr(di.dli_fname, "ld-linux")) {
        HT_REQUIRE(fmp__sym_at((uintptr_t)r, &s) == 0);
        HT_CHECK_CONTAINS(s.object, "ld-linux");
        HT_CHECK_INT_EQ(s.runtime, 1);
        HT_CHECK_INT_EQ(s.func, 0);
    }
    uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (vdso) {
        HT_REQUIRE(fmp__sym_at(vdso + 16, &s) == 0);
        HT_CHECK_INT_EQ(s.runtime, 1);
        HT_CHECK_MSG(s.object[0] != 0, "the vdso has no name");
    }
}

/* ---------------------------------------------------------------- no object */

static void check_none(uintptr_t addr, const char *what)
{
    fmp__sym s;
    memset(&s, 'x', sizeof s);
    int rc = fmp__sym_at(addr, &s);
    HT_CHECK_MSG(rc == -1, "fmp__sym_at(%s %#lx) = %d: '%s' in '%s'", what, (long)addr, rc, s.name,
                 s.object);
    HT_CHECK_MSG(s.name[0] == 0 && s.object[0] == 0 && s.start == 0 && s.size == 0,
                 "fmp__sym_at(%s): *out not cleared", what);
    char buf[64];
    HT_CHECK_MSG(fmp__sym_line(addr, buf, sizeof buf) == -1, "fmp__sym_line(%s %#lx) = 0: %s", what,
                 (long)addr, buf);
}

static void test_heap_stack_anonymous(void)
{
    char *small = malloc(64), *big = malloc(8 << 20); /* brk heap, and an mmap'd block */
    HT_REQUIRE(small && big);
    check_none((uintptr_t)small + 8, "heap");
    check_none((uintptr_t)big + 4096, "mmap'd heap block");
    volatile int local = 3;
    check_none((uintptr_t)&local, "stack");
    void *anon = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HT_REQUIRE(anon != MAP_FAILED);
    check_none((uintptr_t)anon + 100, "anonymous mapping");
    munmap(anon, 1 << 16);
    free(small);
    free(big);
}

static void test_garbage_addresses(void)
{
    check_none(0, "null");
    check_none(1, "one");
    check_none(0xffffffffffffUL, "0xffffffffffff");
    check_none(UINTPTR_MAX, "the last address");
    check_none(UINTPTR_MAX - 4095, "the last page");
    check_none((uintptr_t)1 << 63, "a non-canonical address");
}

/* ---------------------------------------------------------------- shared objects */

typedef struct module {
    char dir[1024];
    char path[PATH_MAX];
    void *handle;
    int *data;
    long *stat;
    int (*where)(uintptr_t *pc);
} module;

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            char *nb = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* Replace path by a new file holding bytes (rename: the loaded copy keeps its old file). */
static void replace_file(const char *path, const void *bytes, size_t len)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    HT_REQUIRE_MSG(fd >= 0, "cannot create %s: %s", tmp, strerror(errno));
    const char *p = bytes;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        HT_REQUIRE_MSG(n > 0, "write %s: %s", tmp, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    close(fd);
    HT_REQUIRE_MSG(rename(tmp, path) == 0, "rename %s: %s", tmp, strerror(errno));
}

/* A copy of libsymmod.so named name in a new directory, loaded. */
static void module_load(module *m, const char *name, char **image, size_t *image_len)
{
    char lib[4096];
    ht_helper_path(".libs/libsymmod.so", lib, sizeof lib);
    if (access(lib, R_OK) != 0)
        HT_SKIP("no %s (shared libraries disabled?)", lib);
    memset(m, 0, sizeof *m);
    const char *tmpdir = getenv("TMPDIR");
    snprintf(m->dir, sizeof m->dir, "%s/fmp-symbols.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    HT_REQUIRE_MSG(mkdtemp(m->dir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(m->path, sizeof m->path, "%s/%s", m->dir, name);
    size_t len = 0;
    char *bytes = read_whole(lib, &len);
    HT_REQUIRE_MSG(bytes != NULL, "cannot read %s", lib);
    replace_file(m->path, bytes, len);
    m->handle = dlopen(m->path, RTLD_NOW | RTLD_LOCAL);
    HT_REQUIRE_MSG(m->handle != NULL, "dlopen %s: %s", m->path, dlerror());
    int *(*data)(void) = (int *(*)(void))dlsym(m->handle, "sym_module_data_addr");
    long *(*stat)(void) = (long *(*)(void))dlsym(m->handle, "sym_module_static_addr");
    m->where = (int (*)(uintptr_t *))dlsym(m->handle, "sym_module_where");
    HT_REQUIRE(data && stat && m->where);
    m->data = data();
    m->stat = stat();
    if (image) {
        *image = bytes;
        *image_len = len;
    } else {
        free(bytes);
    }
}

static void module_unload(module *m)
{
    if (m->handle)
        dlclose(m->handle);
    m->handle = NULL;
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.new", m->path);
    unlink(tmp);
    unlink(m->path);
    rmdir(m->dir);
}

static void test_shared_object(void)
{
    module m;
    module_load(&m, "libusercode.so", NULL, NULL);
    fmp__sym s;
    if (check_sym((uintptr_t)&m.data[63], "sym_module_data", m.path, &s)) {
        HT_CHECK(s.start == (uintptr_t)m.data);
        HT_CHECK_INT_EQ(s.size, 64 * sizeof(int));
        HT_CHECK_INT_EQ(s.func, 0);
        HT_CHECK_INT_EQ(s.runtime, 0);
    }
    if (check_sym((uintptr_t)&m.stat[3], "sym_module_static", m.path, &s)) {
        HT_CHECK(s.start == (uintptr_t)m.stat);
        HT_CHECK_INT_EQ(s.size, 8 * sizeof(long));
    }
    if (check_sym((uintptr_t)m.where, "sym_module_where", m.path, &s))
        HT_CHECK_INT_EQ(s.func, 1);
    sym_where w;
    w.line = m.where(&w.pc);
    check_line(&w, "sym_module.c", "sym_module_where");
    check_type(m.data, "int[64]", 64 * sizeof(int), sizeof(int), "the module");
    check_type(m.stat, "long[8]", 8 * sizeof(long), sizeof(long), "the module");
    fmp__symlocal l[4];
    HT_CHECK(fmp__sym_locals(w.pc, 0x7ffff000, l, 4) >= 0);

    /* gone: dlclose is noticed without fmp__sym_reset */
    uintptr_t data = (uintptr_t)m.data;
    dlclose(m.handle);
    m.handle = NULL;
    HT_CHECK_INT_EQ(fmp__sym_at(data, &s), -1);
    module_unload(&m);
}

static void check_runtime(const char *name, int runtime)
{
    module m;
    module_load(&m, name, NULL, NULL);
    fmp__sym s;
    if (check_sym((uintptr_t)m.data, "sym_module_data", m.path, &s))
        HT_CHECK_MSG(s.runtime == runtime, "an object named %s: runtime %d, expected %d", name,
                     s.runtime, runtime);
    module_unload(&m);
}

static void test_runtime_names(void)
{
    check_runtime("libmpi.so.40", 1);
    check_runtime("libforkmp_mpi.so.0", 1);
    check_runtime("libhwloc.so.15", 1);
    check_runtime("libucp.so.0", 1);
    check_runtime("libcustom.so", 0); /* "libc" alone is not the C library */
    check_runtime("libmpifoo_user.so", 1);
    check_runtime("mylibmpi.so", 0);
    check_runtime("libsolver.so", 0);
    check_runtime("libasan.so.8", 1);
}

/* ---------------------------------------------------------------- odd files */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The object's file replaced by bytes: the object is still found, nothing crashes. */
static void probe_damaged(const module *m, const void *bytes, size_t len, const char *what)
{
    replace_file(m->path, bytes, len);
    fmp__sym_reset();
    fmp__sym s;
    int rc = fmp__sym_at((uintptr_t)&m->data[1], &s);
    HT_CHECK_MSG(rc == 0 && strcmp(s.object, m->path) == 0, "%s: fmp__sym_at = %d, object '%s'",
                 what, rc, s.object);
    char buf[256];
    uintptr_t pc;
    m->where(&pc);
    rc = fmp__sym_line(pc, buf, sizeof buf);
    HT_CHECK_MSG(rc == -1 || (rc == 0 && strchr(buf, ':')), "%s: fmp__sym_line = %d '%s'", what, rc,
                 buf);
    fmp__sym_at((uintptr_t)m->where, &s);
    fmp__sym_at((uintptr_t)&m->stat[2], &s);
    fmp__symtype t;
    rc = fmp__sym_type((uintptr_t)m->data, &t);
    HT_CHECK_MSG(rc == -1 || (rc == 0 && memchr(t.type, 0, sizeof t.type)),
                 "%s: fmp__sym_type = %d", what, rc);
    fmp__sym_type((uintptr_t)m->stat, &t);
    fmp__symlocal l[4];
    rc = fmp__sym_locals(pc, 0x7ffff000, l, 4);
    HT_CHECK_MSG(rc >= -1, "%s: fmp__sym_locals = %d", what, rc);
}

static void test_odd_files(void)
{
    module m;
    char *good;
    size_t len;
    module_load(&m, "libodd.so", &good, &len);
    HT_REQUIRE(len > 4096);
    char *bad = malloc(len);
    HT_REQUIRE(bad != NULL);
    Elf64_Ehdr eh;
    memcpy(&eh, good, sizeof eh);
    fmp__sym s;

    probe_damaged(&m, good, 0, "an empty file");
    HT_CHECK_INT_EQ(fmp__sym_at((uintptr_t)m.data, &s), 0);
    HT_CHECK_MSG(s.name[0] == 0, "an empty file gives a name: %s", s.name);
    probe_damaged(&m, good, 10, "10 bytes");
    probe_damaged(&m, good, sizeof eh, "the ELF header alone");
    probe_damaged(&m, good, sizeof eh + 3 * sizeof(Elf64_Phdr), "cut in the program headers");
    for (int i = 1; i < 16; i++)
        probe_damaged(&m, good, len * i / 16, "truncated");
    probe_damaged(&m, good, len - 1, "one byte short");
    memset(bad, 'a', len);
    probe_damaged(&m, bad, len, "not ELF");
    memcpy(bad, good, len);
    bad[EI_CLASS] = ELFCLASS32;
    probe_damaged(&m, bad, len, "32-bit class");
    HT_CHECK_INT_EQ(fmp__sym_at((uintptr_t)m.data, &s), 0);
    HT_CHECK_MSG(s.name[0] == 0, "a 32-bit file gives a name: %s", s.name);
    memcpy(bad, good, len);
    bad[EI_DATA] = ELFDATA2MSB;
    probe_damaged(&m, bad, len, "big-endian");

    /* absurd section headers */
    Elf64_Ehdr *h = (Elf64_Ehdr *)(void *)bad;
    const struct {
        uint64_t shoff;
        uint16_t shnum, shstrndx;
    } heads[] = {
        {UINT64_MAX - 10, eh.e_shnum, eh.e_shstrndx},
        {len - 10, eh.e_shnum, eh.e_shstrndx},
        {eh.e_shoff, 0xffff, eh.e_shstrndx},
        {eh.e_shoff, 0, eh.e_shstrndx}, /* the count in section 0, which says 0 */
        {eh.e_shoff, eh.e_shnum, SHN_XINDEX},
        {eh.e_shoff, eh.e_shnum, 0xfff0},
        {0, eh.e_shnum, eh.e_shstrndx},
        {1, eh.e_shnum, eh.e_shstrndx},
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        memcpy(bad, good, len);
        h->e_shoff = heads[i].shoff;
        h->e_shnum = heads[i].shnum;
        h->e_shstrndx = heads[i].shstrndx;
        probe_damaged(&m, bad, len, "section headers");
    }
    /* every section's offset, size, link or entry size absurd in turn */
    if (eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) <= len) {
        for (unsigned i = 0; i < eh.e_shnum; i++)
            for (int field = 0; field < 5; field++) {
                memcpy(bad, good, len);
                Elf64_Shdr sh;
                char *at = bad + eh.e_shoff + i * sizeof sh;
                memcpy(&sh, at, sizeof sh);
                switch (field) {
                case 0:
                    sh.sh_offset = UINT64_MAX - sh.sh_size / 2;
                    break;
                case 1:
                    sh.sh_size = UINT64_MAX - 3;
                    break;
                case 2:
                    sh.sh_link = 0xffffffff;
                    break;
                case 3:
                    sh.sh_entsize = 7;
                    break;
                default:
                    sh.sh_flags |= SHF_COMPRESSED;
                    break;
                }
                memcpy(at, &sh, sizeof sh);
                probe_damaged(&m, bad, len, "a section header");
            }
    }
    /* random damage after the program headers (so that the file still passes for the
       loaded object and its sections get read), half of it in the last 40% of the file,
       where the symbol tables, the DWARF sections and the section headers are */
    size_t from = eh.e_phoff + (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
    HT_REQUIRE(from < len);
    for (int round = 0; round < 3000; round++) {
        memcpy(bad, good, len);
        size_t lo = round % 2 ? len * 3 / 5 : from;
        int flips = 1 + (int)(rng() % 16);
        for (int k = 0; k < flips; k++) {
            size_t at = lo + (size_t)(rng() % (len - lo));
            if (round % 3 == 0)
                bad[at] = (char)rng();
            else
                bad[at] = (char)(bad[at] ^ (1 << (rng() % 8)));
        }
        probe_damaged(&m, bad, len, "random damage");
    }

    /* the file back: names again */
    replace_file(m.path, good, len);
    fmp__sym_reset();
    check_sym((uintptr_t)&m.data[1], "sym_module_data", m.path, &s);
    /* and no file at all */
    unlink(m.path);
    fmp__sym_reset();
    HT_CHECK_INT_EQ(fmp__sym_at((uintptr_t)m.data, &s), 0);
    HT_CHECK_MSG(s.name[0] == 0, "a removed file gives a name: %s", s.name);
    free(bad);
    free(good);
    module_unload(&m);
}

/* ---------------------------------------------------------------- threads and fork */

static int stop_threads;

static void *hammer(void *arg)
{
    long me = (long)arg;
    char buf[128];
    fmp__sym s;
    while (!ht_atomic_load(&stop_threads)) {
        fmp__sym_at((uintptr_t)&sym_global_array[me], &s);
        fmp__sym_line((uintptr_t)sym_probe_function, buf, sizeof buf);
        fmp__sym_at((uintptr_t)stdout, &s);
        fmp__symtype t;
        fmp__sym_type((uintptr_t)sym_global_array, &t);
        fmp__sym_locals((uintptr_t)sym_probe_function, 0, NULL, 0);
        if (me == 0)
            fmp__sym_reset();
    }
    return NULL;
}

static void test_threads_and_fork(void)
{
    pthread_t th[3];
    for (long i = 0; i < 3; i++)
        HT_REQUIRE(pthread_create(&th[i], NULL, hammer, (void *)i) == 0);
    double end = ht_now() + 1.0;
    int children = 0;
    while (ht_now() < end) {
        pid_t pid = fork();
        HT_REQUIRE(pid >= 0);
        if (pid == 0) { /* a child of a process whose threads were inside: not stuck */
            fmp__sym s;
            int ok = fmp__sym_at((uintptr_t)&sym_global_array[3], &s) == 0 &&
                     strcmp(s.name, "sym_global_array") == 0;
            sym_where w;
            SYM_WHERE(&w);
            char buf[128];
            ok = ok && fmp__sym_line(w.pc, buf, sizeof buf) == 0;
            _exit(ok ? 0 : 1);
        }
        int status;
        HT_REQUIRE(waitpid(pid, &status, 0) == pid);
        HT_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %#x",
                     children, status);
        children++;
    }
    ht_atomic_store(&stop_threads, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    HT_CHECK(children > 0);
}

static const ht_test tests[] = {HT_TEST(test_global_array),
                                HT_TEST(test_static_table),
                                HT_TEST(test_function),
                                HT_TEST(test_line_of_a_call),
                                HT_TEST(test_line_tables_of_older_dwarf),
                                HT_TEST(test_line_buffer),
                                HT_TEST(test_libc),
                                HT_TEST(test_segments),
                                HT_TEST(test_vma_text),
                                HT_TEST(test_loader_and_vdso),
                                HT_TEST(test_heap_stack_anonymous),
                                HT_TEST(test_garbage_addresses),
                                HT_TEST(test_shared_object),
                                HT_TEST(test_runtime_names),
                                HT_TEST_TIMEOUT(test_odd_files, 120),
                                HT_TEST(test_threads_and_fork),
                                HT_TEST(test_variable_types),
                                HT_TEST(test_no_type),
                                HT_TEST(test_frame_locals),
                                HT_TEST(test_frame_locals_of_blocks),
                                HT_TEST(test_no_locals),
                                HT_END};

int main(int argc, char **argv)
{
    return ht_main(argc, argv, "symbols", tests);
}
