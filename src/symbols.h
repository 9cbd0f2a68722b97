/* The in-process symbolizer (symbols.c): what a run-time address is, for the messages of
 * the lost-write detector (FMP_CHECK=writes).  A global or static variable is named by its
 * symbol, a code address by its function and, where the object has a DWARF line table,
 * by file and line.
 *
 * The objects are those dl_iterate_phdr lists (the main program, the shared objects, the
 * vdso); each object's ELF file is read from disk on the first question about it, its
 * symbols once (.symtab, else .dynsym), its line table (.debug_line) only on the first
 * fmp__sym_line about it, its variables' types (.debug_info) only on the first
 * fmp__sym_type about it, its functions' locals only on the first fmp__sym_locals.
 * Nothing at all happens before the first call.  The cache is guarded by a mutex (and
 * held across fork by pthread_atfork handlers registered at the first call), so any thread
 * of any process may call; a call may allocate (malloc), open and map files: it is not
 * async-signal-safe.  An odd file (truncated, not ELF, 32-bit, a file replaced on disk
 * since it was loaded) is an object without symbols, never a crash.
 */
#ifndef FMP_SYMBOLS_H
#define FMP_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

typedef struct fmp__sym {
    char name[256];   /* the symbol, "" when no symbol holds the address */
    char object[512]; /* the object's file path (the main program: its real path) */
    uintptr_t start;  /* the symbol's run-time address (0 when none) */
    size_t size;      /* its st_size */
    int func;         /* 1: a function (STT_FUNC / STT_GNU_IFUNC), 0: data */
    int runtime;      /* 1: the object is the C runtime, the dynamic loader, libgcc, the vdso,
                         forkmp's own libraries or what they load (MPI, hwloc, ...) */
} fmp__sym;

/* The loaded object (main program or shared object) whose mapped segments hold addr, and
   the symbol of its .symtab (else .dynsym) whose [st_value, st_value + st_size) holds it
   (for st_size 0 symbols: only an exact match; of several, the innermost, a typed one
   before an untyped one, global before weak before local).  0: an object holds addr (name
   may be ""); -1: no loaded object holds it (heap, stack, anonymous memory).  out may be
   NULL. */
int fmp__sym_at(uintptr_t addr, fmp__sym *out);

/* The PT_LOAD segment of a loaded object that holds addr: its run-time bounds [lo, hi)
   (its p_memsz: a data segment's .bss included) and whether the object is the runtime's
   (as fmp__sym's runtime).  0, or -1 when no loaded object holds addr.  One look at the
   loaded objects, where fmp__sym_at also copies names: for a caller that sorts many
   addresses and skips the runtime's memory whole. */
int fmp__sym_segment(uintptr_t addr, uintptr_t *lo, uintptr_t *hi, int *runtime);

/* "file.c:123" for a code address, from the object's DWARF line table (.debug_line,
   versions 2 to 5, 32- and 64-bit formats): the file as the line table's file entry names
   it, without its directories.  pc is the address of an instruction (for a return
   address, pass it less one: the call).  0 on success (the text truncated to len if need
   be), -1 when the object has no line table for pc (stripped, compressed sections, forms
   this decoder does not know, line 0): the caller then uses the function name. */
int fmp__sym_line(uintptr_t pc, char *buf, size_t len);

/* The type of a variable as its object's .debug_info says it. */
typedef struct fmp__symtype {
    char type[128]; /* as C writes it: "double[1000]", "int[10][20]", "struct cell[64]", "long",
                       "char *", "real_t[100]" (a typedef keeps its name) */
    size_t size;    /* the variable's size in bytes */
    size_t elem;    /* an array's element size, the innermost one (int a[10][20]: 4; through
                       typedefs: real_t a[5], real_t a double: 8); 0 when not an array */
} fmp__symtype;

/* The type of the variable (DW_TAG_variable, at file or function scope, static or global)
   whose DW_AT_location is DW_OP_addr (or DW_OP_addrx) of the address var (var is its first
   byte, run-time address), from its object's .debug_info (DWARF 2 to 5, compile and
   partial units), decoded whole on the first fmp__sym_type about the object.  Base type
   names are written as C's short forms ("long", "unsigned long", "short": GCC says "long
   int"); an unnamed structure is "struct {...}".  0 (the text truncated to fit if need
   be; size 0 when the type is incomplete), or -1 when the object has no .debug_info for
   it (stripped, compressed sections, forms this decoder does not know, a thread-local
   variable).  out may not be NULL; it is cleared on -1. */
int fmp__sym_type(uintptr_t var, fmp__symtype *out);

/* A local variable or parameter of a frame. */
typedef struct fmp__symlocal {
    char name[128];
    char type[128]; /* as in fmp__symtype */
    uintptr_t addr; /* its run-time address: the frame base + its DW_OP_fbreg offset */
    size_t size;    /* as in fmp__symtype */
    size_t elem;
} fmp__symlocal;

/* The local variables and parameters of the function that holds the code address pc
   (for a return address, pass it less one) whose scope holds pc (the function's own,
   those of every DW_TAG_lexical_block and DW_TAG_inlined_subroutine around pc; not those
   of scopes that do not hold it) and whose place in the frame is fixed: DW_AT_location
   DW_OP_fbreg(n) alone, the function's DW_AT_frame_base DW_OP_call_frame_cfa (GCC) or,
   on x86-64, DW_OP_reg6 (clang: the frame pointer, taken as the CFA less 16, as it is
   once the prologue has run).  At -O0 that is every local; at -O2, only those whose
   address is taken: the others have location lists, and are left out.  cfa is the
   CFA of the frame of that function (from _Unwind_Backtrace: not what _Unwind_GetCFA
   says at the step whose _Unwind_GetIP is in the function, which is the CFA of the
   function it called, but what it says at the next step).  From the object's .debug_info (and
   .debug_ranges or .debug_rnglists), whose functions, scopes and locals are decoded whole on the
   first fmp__sym_locals about the object.  Up to max locals into out (in the order of the debugging
   information: the parameters first, as compilers write them); returns how many there are (may be
   more than max; out may be NULL when max is 0), or -1 when the object has no .debug_info for pc
   (no function of its .debug_info holds it: stripped, compressed sections, forms this decoder does
   not know, not in a loaded object). */
int fmp__sym_locals(uintptr_t pc, uintptr_t cfa, fmp__symlocal *out, int max);

/* The other locals of the same function: those of its scopes that do not hold pc (a block
   that pc is before or after, an inlined call elsewhere), as fmp__sym_locals gives them.
   An optimizing compiler may give one of them the place of a local in scope at pc whose
   lifetime does not meet its own (GCC at -O2: a local first used after a block shares its
   slot with the block's): bytes there are not told apart. */
int fmp__sym_locals_elsewhere(uintptr_t pc, uintptr_t cfa, fmp__symlocal *out, int max);

/* Forget the cache (tests; and after dlclose, though an unload is also noticed by itself
   through dl_iterate_phdr's count of unloaded objects). */
void fmp__sym_reset(void);

#endif /* FMP_SYMBOLS_H */
