/* The environment module's inner interface: what env.c (the table of variables,
 * fmp__env_init, FMP_DISPLAY_ENV), env_parse.c (the lexers and value parsers) and env_doc.c
 * (doc/environment.md's table) share, and what the tests and the fuzzer drive.  The
 * runtime's entry points and the parsers of single values are in internal.h. */
#ifndef FMP_ENV_H
#define FMP_ENV_H

#include "internal.h" /* first: it defines _GNU_SOURCE */

#include <stddef.h>
#include <stdint.h>

/* FMP_SHARED_SIZE's bounds (fmp__env_parse_size).  The floor: the arena must hold its
   header (the allocator's lock, the output lock and the FMP__CRIT_LOCKS critical-section
   locks: one page) and then the control blocks of the teams, about 3 KiB plus 0.7 KiB a
   member each, with room left for what the program allocates: 1 MiB holds the header
   and at least 16 teams of 64 members (tests/test_env.c checks this against the real
   sizes).  The ceiling: the largest user address space of any 64-bit Linux machine,
   2^56 bytes (x86-64 and RISC-V with 5-level page tables; arm64 and POWER have less), so
   that no size is accepted that no machine could map, and neither the byte count nor its
   rounding up to a page can overflow a size_t; half the address space on a 32-bit one. */
#define FMP__SHARED_SIZE_MIN ((size_t)1 << 20)
#define FMP__SHARED_SIZE_MAX                                                                       \
    (sizeof(size_t) >= 8 ? (size_t)((unsigned long long)1 << 56) : (SIZE_MAX >> 1) + 1)

/* Explicit place lists: PU numbers below FMP__PLACE_ID_LIMIT, and at most
   FMP__PLACE_IDS_MAX PU numbers expanded from one list, against absurd lists: Linux runs
   on at most 8192 CPUs (NR_CPUS), so a longer list names each of them 8 times over; a
   list of 10^6 would cost its parse and its placement a second. */
#define FMP__PLACE_ID_LIMIT (1 << 20)
#define FMP__PLACE_IDS_MAX (1 << 16)

/* ---------------------------------------------------------------- env_parse.c */
/* More value parsers for the table: 0 or FMP_EINVAL, never exit, *out untouched on
   failure.  A positive decimal int (at most INT_MAX). */
int fmp__env_parse_positive(const char *s, int *out);
/* One of words (NULL-terminated list), any case, spaces around it: its index. */
int fmp__env_parse_word(const char *s, const char *const *words, int *index);
/* s without the whitespace around it, into dst of cap bytes: FMP_EINVAL when empty or
   when it does not fit. */
int fmp__env_parse_trimmed(const char *s, char *dst, size_t cap);
int fmp__env_parse_check(const char *s, int *check, char *file, size_t cap);

/* ---------------------------------------------------------------- env.c */
/* The documented part of row i of the variables table (NULL past the last row). */
typedef struct fmp__envvar_doc {
    const char *name;   /* forkmp's name, read first */
    const char *alias;  /* OpenMP's (or libgomp's) name, read when name is unset; or NULL */
    const char *values; /* what is allowed: a bad value's message says "expected <values>" */
    const char *dflt;
    const char *doc;
} fmp__envvar_doc;
const fmp__envvar_doc *fmp__env_var_doc(size_t i);

/* The variable a whole environment was refused for: the name that was read (FMP_X or its
   alias), its value as the getter gave it, and what is allowed. */
typedef struct fmp__env_error {
    const char *name;
    const char *value;
    const char *expected;
} fmp__env_error;

/* What fmp__env_init does, reporting instead of exiting: every variable of the table read
   through get(name, ctx) (NULL: unset), parsed, and the rules that combine them applied.
   0: *out holds the ICVs; FMP_EINVAL: *err names the first malformed variable and *out
   is untouched.  fmp__env_init is this with getenv, then the message and exit(1). */
int fmp__env_load(fmp__icv *out, const char *(*get)(const char *name, void *ctx), void *ctx,
                  fmp__env_error *err);

/* FMP_DISPLAY_ENV's block for icv, as fmp__env_display writes it: one line per variable
   (verbose: the forkmp-only ones too) between BEGIN and END.  malloc'd; NULL on ENOMEM. */
char *fmp__env_display_text(const fmp__icv *icv, int verbose);

#endif /* FMP_ENV_H */
