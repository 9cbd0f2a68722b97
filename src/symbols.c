/* The in-process symbolizer (symbols.h): the object, symbol and source line of a run-time
 * address, for the lost-write detector's messages.
 *
 * Objects.  dl_iterate_phdr lists the loaded objects with their PT_LOAD segments and load
 * bias; the object whose segments hold the address is looked up (or added) in a cache,
 * keyed by its bias and the address of its program headers.  An object is read from its
 * file with pread (never mapped: a file truncated under us must not be a SIGBUS), the main
 * program from /proc/self/exe (which still opens when the file was deleted), the vdso
 * from its image in memory.  A file whose PT_LOAD headers are not those of the loaded
 * object (rebuilt since, or a program run through ld.so) is not used: the object then has
 * no symbols rather than wrong ones.  dl_iterate_phdr's count of unloaded objects empties
 * the cache when an object went away.
 *
 * Symbols.  The object's .symtab, else its .dynsym: functions, data and untyped symbols
 * defined in a section (not TLS, not absolute), local ones included (static arrays are
 * what the detector names most), sorted by address with, at each index, the largest end
 * of the symbols up to it, so that a lookup walks back from the last symbol that starts
 * at or below the address only as long as one may still hold it.
 *
 * Lines.  The object's .debug_line, decoded whole on the first fmp__sym_line about the
 * object into rows (address, line, file) grouped by sequence; a sequence that does not
 * start in an executable segment (a function the linker dropped, its addresses set to 0
 * or to a tombstone) is dropped too, so that it cannot shadow live code.  Only the base
 * names of the files are kept.
 *
 * Types.  The object's .debug_info (with .debug_abbrev, the string sections, .debug_addr),
 * read whole on the first fmp__sym_type about the object: every DW_TAG_variable whose
 * location is a fixed address (DW_OP_addr, DW_OP_addrx) in one of the object's segments,
 * with its type's C text, size and innermost element size, worked out once per type
 * entry; kept sorted by address, the texts in one pool.  Entries are read where they lie
 * (a reference is an offset in .debug_info, resolved through the unit that holds it);
 * an entry this decoder cannot read (an unknown form or abbreviation) ends its unit.
 *
 * Locals.  The same sections (and .debug_ranges, .debug_rnglists), read whole on the
 * first fmp__sym_locals about the object, walking the tree of entries: each function with
 * code (DW_TAG_subprogram with addresses) followed by its scopes (lexical blocks, inlined
 * subroutines: their addresses, the scope around them), and the locals at a fixed offset
 * from the function's frame base with their scope; the functions' ranges sorted by address
 * like the line table's sequences.  A question finds the function that holds the address,
 * marks which of its scopes hold it, and lists their locals. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "symbols.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_LITTLE_ENDIAN 1
#else
#define HOST_LITTLE_ENDIAN 0
#endif

#define NO_FILE UINT32_MAX /* a row whose file entry is unknown */

/* ---------------------------------------------------------------- bounded reading */

/* A cursor over bytes; reading past the end marks it bad and reads zeros, so that a
   decoder checks once, after a group of reads. */
typedef struct cursor {
    const unsigned char *p, *end;
    int bad;
} cursor;

static cursor cursor_of(const unsigned char *p, size_t n)
{
    cursor c = {p, p + n, 0};
    return c;
}

static size_t left(const cursor *c)
{
    return (size_t)(c->end - c->p);
}

static void mark_bad(cursor *c)
{
    c->bad = 1;
    c->p = c->end;
}

/* n (at most 8) bytes, little-endian */
static uint64_t read_le(cursor *c, size_t n)
{
    if (n > 8 || left(c) < n) {
        mark_bad(c);
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += n;
    return v;
}

static void skip(cursor *c, uint64_t n)
{
    if (left(c) < n)
        mark_bad(c);
    else
        c->p += n;
}

static uint64_t read_uleb(cursor *c)
{
    uint64_t v = 0;
    unsigned shift = 0;
    while (c->p < c->end) {
        unsigned char b = *c->p++;
        if (shift < 64) {
            v |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
        }
        if (!(b & 0x80))
            return v;
    }
    mark_bad(c);
    return 0;
}

static uint64_t read_sleb(cursor *c) /* two's complement in a uint64_t */
{
    uint64_t v = 0;
    unsigned shift = 0;
    while (c->p < c->end) {
        unsigned char b = *c->p++;
        if (shift < 64) {
            v |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
        }
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << shift;
            return v;
        }
    }
    mark_bad(c);
    return 0;
}

/* A NUL-terminated string in the cursor's bytes, NULL when it runs past the end. */
static const char *read_str(cursor *c)
{
    const unsigned char *nul = memchr(c->p, 0, left(c));
    if (!nul) {
        mark_bad(c);
        return NULL;
    }
    const char *s = (const char *)c->p;
    c->p = nul + 1;
    return s;
}

/* Grow *arr (elements of size elem, capacity *cap) to hold need; 0 or -1. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return -1;
        n *= 2;
    }
    void *p = realloc(*arr, n * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = n;
    return 0;
}

/* ---------------------------------------------------------------- ELF images */

/* An ELF file read with pread (fd), or an image in memory (mem: the vdso). */
typedef struct image {
    int fd;
    const unsigned char *mem;
    uint64_t size;
    Elf64_Ehdr eh;
    Elf64_Shdr *sh; /* the section headers, malloc'd (NULL: none) */
    uint64_t shnum;
    Elf64_Phdr *ph; /* the program headers, malloc'd (NULL: none) */
    uint64_t phnum;
    char *shnames; /* the section names' table, NUL-terminated copy */
    size_t shnames_len;
} image;

static int image_pread(const image *im, uint64_t off, void *dst, uint64_t len)
{
    if (off > im->size || len > im->size - off)
        return -1;
    if (im->fd < 0) {
        memcpy(dst, im->mem + off, len);
        return 0;
    }
    unsigned char *d = dst;
    while (len > 0) {
        size_t chunk = len > ((size_t)1 << 30) ? ((size_t)1 << 30) : (size_t)len;
        ssize_t n = pread(im->fd, d, chunk, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1; /* an error, or the file shrank */
        d += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

/* len bytes at off in a malloc'd buffer with a NUL after them (string tables end there
   whatever the file says), or NULL. */
static void *image_copy(const image *im, uint64_t off, uint64_t len)
{
    if (off > im->size || len > im->size - off || len >= SIZE_MAX)
        return NULL;
    unsigned char *buf = malloc((size_t)len + 1);
    if (!buf)
        return NULL;
    if (image_pread(im, off, buf, len) != 0) {
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    return buf;
}

static void image_close(image *im)
{
    free(im->sh);
    free(im->ph);
    free(im->shnames);
    if (im->fd >= 0)
        close(im->fd);
    memset(im, 0, sizeof *im);
    im->fd = -1;
}

/* The headers: 0, or -1 when it is not a 64-bit ELF file of this machine's byte order.
   Missing or out-of-range section or program headers leave sh or ph NULL. */
static int image_init(image *im)
{
    if (image_pread(im, 0, &im->eh, sizeof im->eh) != 0)
        return -1;
    const unsigned char *id = im->eh.e_ident;
    if (memcmp(id, ELFMAG, SELFMAG) != 0 || id[EI_CLASS] != ELFCLASS64 ||
        id[EI_DATA] != ELFDATA2LSB || id[EI_VERSION] != EV_CURRENT || !HOST_LITTLE_ENDIAN)
        return -1;
    uint64_t phnum = im->eh.e_phnum;
    if (im->eh.e_shoff != 0 && im->eh.e_shentsize == sizeof(Elf64_Shdr)) {
        Elf64_Shdr first; /* holds the counts that do not fit the ELF header */
        if (image_pread(im, im->eh.e_shoff, &first, sizeof first) == 0) {
            uint64_t shnum = im->eh.e_shnum ? im->eh.e_shnum : first.sh_size;
            if (phnum == PN_XNUM)
                phnum = first.sh_info;
            if (shnum <= (im->size - im->eh.e_shoff) / sizeof(Elf64_Shdr)) {
                im->sh = image_copy(im, im->eh.e_shoff, shnum * sizeof(Elf64_Shdr));
                im->shnum = im->sh ? shnum : 0;
            }
            uint64_t names = im->eh.e_shstrndx == SHN_XINDEX ? first.sh_link : im->eh.e_shstrndx;
            if (names < im->shnum && im->sh[names].sh_type != SHT_NOBITS) {
                im->shnames = image_copy(im, im->sh[names].sh_offset, im->sh[names].sh_size);
                im->shnames_len = im->shnames ? im->sh[names].sh_size : 0;
            }
        }
    }
    if (im->eh.e_phoff != 0 && im->eh.e_phentsize == sizeof(Elf64_Phdr) &&
        im->eh.e_phoff <= im->size && phnum <= (im->size - im->eh.e_phoff) / sizeof(Elf64_Phdr)) {
        im->ph = image_copy(im, im->eh.e_phoff, phnum * sizeof(Elf64_Phdr));
        im->phnum = im->ph ? phnum : 0;
    }
    return 0;
}

static int image_open_file(image *im, const char *path)
{
    memset(im, 0, sizeof *im);
    im->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (im->fd < 0)
        return -1;
    struct stat st;
    if (fstat(im->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
        image_close(im);
        return -1;
    }
    im->size = (uint64_t)st.st_size;
    if (image_init(im) != 0) {
        image_close(im);
        return -1;
    }
    return 0;
}

static int image_open_memory(image *im, const void *mem, size_t size)
{
    memset(im, 0, sizeof *im);
    im->fd = -1;
    im->mem = mem;
    im->size = size;
    if (image_init(im) != 0) {
        image_close(im);
        return -1;
    }
    return 0;
}

/* The section called name, or NULL. */
static const Elf64_Shdr *section_named(const image *im, const char *name)
{
    size_t len = strlen(name);
    for (uint64_t i = 1; i < im->shnum && im->shnames; i++) {
        uint64_t at = im->sh[i].sh_name;
        if (at < im->shnames_len && im->shnames_len - at >= len &&
            memcmp(im->shnames + at, name, len + 1) == 0)
            return &im->sh[i];
    }
    return NULL;
}

/* A section's bytes, malloc'd and NUL-terminated (*len: the section's size); NULL for a
   missing, empty-in-file or compressed section. */
static unsigned char *section_copy(const image *im, const Elf64_Shdr *s, size_t *len)
{
    *len = 0;
    if (!s || s->sh_type == SHT_NOBITS || (s->sh_flags & SHF_COMPRESSED) || s->sh_size >= SIZE_MAX)
        return NULL;
    unsigned char *buf = image_copy(im, s->sh_offset, s->sh_size);
    *len = buf ? (size_t)s->sh_size : 0;
    return buf;
}

/* ---------------------------------------------------------------- the cache */

typedef struct segment {
    uint64_t vaddr, memsz; /* as in the program header: add the bias */
    int exec;
} segment;

typedef struct symbol {
    uint64_t value, end; /* [st_value, st_value + st_size); [st_value, st_value + 1) for size 0 */
    uint64_t size;
    uint32_t name; /* offset in the object's names */
    unsigned char func, typed, bind, unders;
} symbol;

typedef struct row {
    uint64_t addr;
    uint32_t line;
    uint32_t file; /* offset in the object's files, NO_FILE */
} row;

typedef struct sequence {
    uint64_t lo, hi; /* [lo, hi): the rows first .. first + n - 1 */
    size_t first, n;
} sequence;

typedef struct vartype {
    uint64_t addr; /* the variable's link-time address */
    uint64_t size, elem;
    uint32_t text; /* offset in the object's type texts */
} vartype;

typedef struct pcrange {
    uint64_t lo, hi; /* [lo, hi), link-time addresses */
} pcrange;

/* A scope of a function: the function itself, a lexical block or an inlined subroutine;
   a function's scopes follow it, each after the one around it. */
typedef struct fscope {
    uint32_t parent;         /* the scope around it (a function: itself) */
    uint32_t end;            /* the index after the last scope inside it */
    uint32_t range, nranges; /* its addresses, in the object's scope_ranges */
    uint32_t local, nlocals; /* a function: its locals and those of its scopes */
    int frame;               /* a function: what its frame base is (FRAME_*) */
} fscope;

typedef struct funcrange {
    uint64_t lo, hi;
    uint32_t scope; /* the function's */
} funcrange;

/* A local variable or parameter at a fixed offset from its function's frame base. */
typedef struct local {
    int64_t off;
    uint64_t size, elem;
    uint32_t name, text; /* offsets in the object's local texts */
    uint32_t scope;
} local;

typedef struct object {
    struct object *next;
    uintptr_t bias;
    const void *phdr; /* with bias: which loaded object this is */
    char path[512];   /* what fmp__sym says */
    char *file;       /* what is opened (NULL: the vdso) */
    uintptr_t vdso;   /* the vdso's image and size */
    size_t vdso_size;
    int runtime;
    segment *segs;
    size_t nsegs;

    int syms_done;
    symbol *syms;
    uint64_t *maxend; /* maxend[i]: the largest end of syms[0..i] */
    size_t nsyms;
    char *names;

    int lines_done;
    sequence *seqs;
    uint64_t *maxhi; /* maxhi[i]: the largest hi of seqs[0..i] */
    size_t nseqs;
    row *rows;
    char *files;

    int types_done;
    vartype *vars; /* sorted by address */
    size_t nvars;
    char *var_text;

    int locals_done;
    fscope *scopes; /* each function followed by the scopes inside it */
    size_t nscopes;
    pcrange *scope_ranges;
    funcrange *funcs;  /* the functions' ranges, sorted by address */
    uint64_t *maxfunc; /* maxfunc[i]: the largest hi of funcs[0..i] */
    size_t nfuncs;
    local *locals;
    char *local_text; /* names and type texts */
} object;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static object *cache;
static unsigned long long cache_subs; /* dl_iterate_phdr's dlpi_subs when it was filled */

/* Across fork the lock is held, so that a child never inherits it taken by a thread that
   does not exist there, nor the cache half-changed. */
static void lock_before_fork(void)
{
    pthread_mutex_lock(&cache_lock);
}

static void unlock_after_fork(void)
{
    pthread_mutex_unlock(&cache_lock);
}

static void register_fork_handlers(void)
{
    pthread_atfork(lock_before_fork, unlock_after_fork, unlock_after_fork);
}

static void enter(void)
{
    pthread_once(&fork_once, register_fork_handlers);
    pthread_mutex_lock(&cache_lock);
}

static void leave(void)
{
    pthread_mutex_unlock(&cache_lock);
}

static void object_free(object *o)
{
    free(o->file);
    free(o->segs);
    free(o->syms);
    free(o->maxend);
    free(o->names);
    free(o->seqs);
    free(o->maxhi);
    free(o->rows);
    free(o->files);
    free(o->vars);
    free(o->var_text);
    free(o->scopes);
    free(o->scope_ranges);
    free(o->funcs);
    free(o->maxfunc);
    free(o->locals);
    free(o->local_text);
    free(o);
}

static void cache_clear(void)
{
    while (cache) {
        object *o = cache;
        cache = o->next;
        object_free(o);
    }
}

/* src into dst (size bytes), truncated */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Objects of the C runtime, the loader, and forkmp's own libraries and what they load: a
   write there is the runtime's business, not the user's.  The sanitizers' run-times (a
   build configured with --enable-sanitizers) count as the C runtime. */
static const char *const runtime_prefixes[] = {
    "ld-linux",   "libc.so",   "libc-",    "libm.so",   "libpthread",  "libdl.so",    "librt.so",
    "libgcc_s",   "libforkmp", "libhwloc", "libmpi",    "libopen-pal", "libopen-rte", "libpmix",
    "libevent",   "libucs",    "libucp",   "libuct",    "libucm",      "libnuma",     "libudev",
    "libz.so",    "libltdl",   "libcuda",  "libOpenCL", "libxml2",     "libstdc++",   "libgomp",
    "linux-vdso", "libasan",   "libubsan", "libtsan",   "liblsan"};

static int is_runtime(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    for (size_t i = 0; i < sizeof runtime_prefixes / sizeof runtime_prefixes[0]; i++)
        if (strncmp(base, runtime_prefixes[i], strlen(runtime_prefixes[i])) == 0)
            return 1;
    return 0;
}

/* What dl_iterate_phdr says about the object that holds addr. */
typedef struct probe {
    uintptr_t addr;
    int found, nomem;
    uintptr_t bias;
    const void *phdr;
    char *name;    /* dlpi_name, malloc'd */
    segment *segs; /* malloc'd */
    size_t nsegs;
    int have_subs;
    unsigned long long subs;
} probe;

static int probe_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    probe *pr = arg;
    if (!pr->have_subs &&
        size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        pr->have_subs = 1;
        pr->subs = info->dlpi_subs;
    }
    size_t nload = 0;
    int hit = 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        nload++;
        if (pr->addr - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
            hit = 1;
    }
    if (!hit)
        return 0;
    pr->found = 1;
    pr->bias = info->dlpi_addr;
    pr->phdr = info->dlpi_phdr;
    pr->name = strdup(info->dlpi_name ? info->dlpi_name : "");
    pr->segs = calloc(nload, sizeof *pr->segs);
    if (!pr->name || !pr->segs) {
        pr->nomem = 1;
        return 1;
    }
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        segment *s = &pr->segs[pr->nsegs++];
        s->vaddr = ph->p_vaddr;
        s->memsz = ph->p_memsz;
        s->exec = (ph->p_flags & PF_X) != 0;
    }
    return 1;
}

/* The cached object that holds addr, added when new; NULL when no object holds it (or
   memory ran out).  Called with the lock held. */
static object *object_at(uintptr_t addr)
{
    probe *pr = calloc(1, sizeof *pr);
    if (!pr)
        return NULL;
    pr->addr = addr;
    dl_iterate_phdr(probe_object, pr);
    if (pr->have_subs) {
        if (cache && pr->subs != cache_subs)
            cache_clear(); /* an object was unloaded: its entry may be another's now */
        cache_subs = pr->subs;
    }
    object *o = NULL;
    if (!pr->found || pr->nomem)
        goto out;
    for (o = cache; o; o = o->next)
        if (o->bias == pr->bias && o->phdr == pr->phdr)
            goto out;
    o = calloc(1, sizeof *o);
    if (!o)
        goto out;
    o->bias = pr->bias;
    o->phdr = pr->phdr;
    o->segs = pr->segs;
    o->nsegs = pr->nsegs;
    pr->segs = NULL;

    uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (vdso && (uintptr_t)pr->phdr == vdso + ((const Elf64_Ehdr *)vdso)->e_phoff) {
        o->vdso = vdso; /* its image: from its ELF header to the end of its segment */
        for (size_t i = 0; i < o->nsegs; i++) {
            uintptr_t lo = o->bias + o->segs[i].vaddr;
            if (vdso - lo < o->segs[i].memsz)
                o->vdso_size = o->segs[i].memsz - (vdso - lo);
        }
        copy_str(o->path, sizeof o->path, pr->name[0] ? pr->name : "[vdso]");
        o->runtime = 1;
    } else if (pr->name[0] == 0) { /* the main program */
        ssize_t n = readlink("/proc/self/exe", o->path, sizeof o->path - 1);
        o->path[n > 0 ? n : 0] = 0;
        o->file = strdup("/proc/self/exe");
    } else {
        copy_str(o->path, sizeof o->path, pr->name);
        o->runtime = is_runtime(pr->name);
        o->file = pr->name;
        pr->name = NULL;
    }
    o->next = cache;
    cache = o;
out:
    free(pr->name);
    free(pr->segs);
    free(pr);
    return o;
}

/* The object's ELF image, if its PT_LOAD headers are those of the loaded object. */
static int object_image(const object *o, image *im)
{
    if (o->vdso ? image_open_memory(im, (const void *)o->vdso, o->vdso_size) != 0
                : !o->file || image_open_file(im, o->file) != 0)
        return -1;
    size_t k = 0;
    int same = im->ph != NULL;
    for (uint64_t i = 0; same && i < im->phnum; i++) {
        const Elf64_Phdr *ph = &im->ph[i];
        if (ph->p_type != PT_LOAD)
            continue;
        same = k < o->nsegs && ph->p_vaddr == o->segs[k].vaddr && ph->p_memsz == o->segs[k].memsz &&
               ((ph->p_flags & PF_X) != 0) == o->segs[k].exec;
        k++;
    }
    if (!same || k != o->nsegs) {
        image_close(im);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- symbols */

/* a before b: the symbol to give when both hold an address */
static int prefer(const symbol *a, const symbol *b, const char *names)
{
    if (a->typed != b->typed)
        return a->typed > b->typed;
    if ((a->size != 0) != (b->size != 0))
        return a->size != 0;
    if (a->size != b->size)
        return a->size < b->size; /* the innermost */
    if (a->unders != b->unders)
        return a->unders < b->unders; /* environ before __environ */
    if (a->bind != b->bind)
        return a->bind < b->bind;
    return strcmp(names + a->name, names + b->name) < 0;
}

static int by_value(const void *x, const void *y)
{
    const symbol *a = x, *b = y;
    if (a->value != b->value)
        return a->value < b->value ? -1 : 1;
    return a->name < b->name ? -1 : a->name > b->name;
}

/* The symbols of the image's first section of type (SHT_SYMTAB, SHT_DYNSYM) into o;
   0 when it had one with at least one symbol kept. */
static int load_table(object *o, const image *im, uint32_t type)
{
    const Elf64_Shdr *tab = NULL;
    for (uint64_t i = 1; i < im->shnum && !tab; i++)
        if (im->sh[i].sh_type == type)
            tab = &im->sh[i];
    if (!tab || tab->sh_entsize != sizeof(Elf64_Sym) || tab->sh_link >= im->shnum ||
        im->sh[tab->sh_link].sh_type != SHT_STRTAB)
        return -1;
    size_t tab_len, str_len;
    unsigned char *syms = section_copy(im, tab, &tab_len);
    char *strs = (char *)section_copy(im, &im->sh[tab->sh_link], &str_len);
    size_t n = tab_len / sizeof(Elf64_Sym), kept = 0;
    symbol *out = syms && strs && n ? calloc(n, sizeof *out) : NULL;
    char *names = NULL;
    size_t names_len = 0, names_cap = 0;
    for (size_t i = 0; out && i < n; i++) {
        Elf64_Sym s;
        memcpy(&s, syms + i * sizeof s, sizeof s);
        unsigned t = ELF64_ST_TYPE(s.st_info), b = ELF64_ST_BIND(s.st_info);
        if (s.st_shndx == SHN_UNDEF || (s.st_shndx >= SHN_LORESERVE && s.st_shndx != SHN_XINDEX))
            continue; /* undefined, absolute, common */
        if (t != STT_FUNC && t != STT_GNU_IFUNC && t != STT_OBJECT && t != STT_NOTYPE)
            continue; /* TLS, sections, files */
        if (b != STB_LOCAL && b != STB_GLOBAL && b != STB_WEAK && b != STB_GNU_UNIQUE)
            continue;
        if (s.st_name == 0 || s.st_name >= str_len)
            continue;
        const char *name = strs + s.st_name; /* ends at the latest at the copy's NUL */
        size_t len = strlen(name);
        if (len == 0 || name[0] == '$' || (name[0] == '.' && name[1] == 'L'))
            continue; /* mapping symbols, assembler labels */
        if (names_len + len + 1 > UINT32_MAX ||
            grow((void **)&names, &names_cap, names_len + len + 1, 1) != 0)
            break;
        symbol *sym = &out[kept++];
        sym->value = s.st_value;
        sym->size = s.st_size;
        uint64_t extent = s.st_size ? s.st_size : 1;
        sym->end = s.st_value + extent < s.st_value ? UINT64_MAX : s.st_value + extent;
        sym->name = (uint32_t)names_len;
        sym->func = t == STT_FUNC || t == STT_GNU_IFUNC;
        sym->typed = t != STT_NOTYPE;
        sym->bind = b == STB_LOCAL ? 2 : b == STB_WEAK ? 1 : 0;
        while (sym->unders < 3 && name[sym->unders] == '_')
            sym->unders++;
        memcpy(names + names_len, name, len + 1);
        names_len += len + 1;
    }
    free(syms);
    free(strs);
    uint64_t *maxend = kept ? malloc(kept * sizeof *maxend) : NULL;
    if (!maxend) {
        free(out);
        free(names);
        return -1;
    }
    qsort(out, kept, sizeof *out, by_value);
    for (size_t i = 0; i < kept; i++)
        maxend[i] = i && maxend[i - 1] > out[i].end ? maxend[i - 1] : out[i].end;
    o->syms = out;
    o->maxend = maxend;
    o->nsyms = kept;
    o->names = names;
    return 0;
}

static void load_symbols(object *o)
{
    o->syms_done = 1;
    image im;
    if (object_image(o, &im) != 0)
        return;
    if (load_table(o, &im, SHT_SYMTAB) != 0)
        load_table(o, &im, SHT_DYNSYM);
    image_close(&im);
}

/* The symbol that holds the file address a, or NULL. */
static const symbol *symbol_at(const object *o, uint64_t a)
{
    size_t lo = 0, hi = o->nsyms; /* the first symbol that starts above a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->syms[mid].value <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    const symbol *best = NULL;
    for (size_t i = lo; i-- > 0 && o->maxend[i] > a;) {
        const symbol *s = &o->syms[i];
        if (a < s->end && (!best || prefer(s, best, o->names)))
            best = s;
    }
    return best;
}

int fmp__sym_at(uintptr_t addr, fmp__sym *out)
{
    fmp__sym dummy;
    if (!out)
        out = &dummy;
    memset(out, 0, sizeof *out);
    enter();
    object *o = object_at(addr);
    if (!o) {
        leave();
        return -1;
    }
    copy_str(out->object, sizeof out->object, o->path);
    out->runtime = o->runtime;
    if (!o->syms_done)
        load_symbols(o);
    const symbol *s = symbol_at(o, (uint64_t)(addr - o->bias));
    if (s) {
        copy_str(out->name, sizeof out->name, o->names + s->name);
        out->start = (uintptr_t)s->value + o->bias;
        out->size = (size_t)s->size;
        out->func = s->func;
    }
    leave();
    return 0;
}

int fmp__sym_segment(uintptr_t addr, uintptr_t *lo, uintptr_t *hi, int *runtime)
{
    enter();
    object *o = object_at(addr);
    int rc = -1;
    for (size_t i = 0; o && i < o->nsegs && rc < 0; i++) {
        uintptr_t s = o->bias + (uintptr_t)o->segs[i].vaddr;
        if (addr - s < o->segs[i].memsz) {
            *lo = s;
            *hi = s + (uintptr_t)o->segs[i].memsz;
            *runtime = o->runtime;
            rc = 0;
        }
    }
    leave();
    return rc;
}

/* ---------------------------------------------------------------- DWARF forms */

enum {
    DW_FORM_addr = 0x01,
    DW_FORM_block2 = 0x03,
    DW_FORM_block4 = 0x04,
    DW_FORM_data2 = 0x05,
    DW_FORM_data4 = 0x06,
    DW_FORM_data8 = 0x07,
    DW_FORM_string = 0x08,
    DW_FORM_block = 0x09,
    DW_FORM_block1 = 0x0a,
    DW_FORM_data1 = 0x0b,
    DW_FORM_flag = 0x0c,
    DW_FORM_sdata = 0x0d,
    DW_FORM_strp = 0x0e,
    DW_FORM_udata = 0x0f,
    DW_FORM_ref_addr = 0x10,
    DW_FORM_ref1 = 0x11,
    DW_FORM_ref2 = 0x12,
    DW_FORM_ref4 = 0x13,
    DW_FORM_ref8 = 0x14,
    DW_FORM_ref_udata = 0x15,
    DW_FORM_indirect = 0x16,
    DW_FORM_sec_offset = 0x17,
    DW_FORM_exprloc = 0x18,
    DW_FORM_flag_present = 0x19,
    DW_FORM_strx = 0x1a,
    DW_FORM_addrx = 0x1b,
    DW_FORM_ref_sup4 = 0x1c,
    DW_FORM_strp_sup = 0x1d,
    DW_FORM_data16 = 0x1e,
    DW_FORM_line_strp = 0x1f,
    DW_FORM_ref_sig8 = 0x20,
    DW_FORM_implicit_const = 0x21,
    DW_FORM_loclistx = 0x22,
    DW_FORM_rnglistx = 0x23,
    DW_FORM_ref_sup8 = 0x24,
    DW_FORM_strx1 = 0x25,
    DW_FORM_strx2 = 0x26,
    DW_FORM_strx3 = 0x27,
    DW_FORM_strx4 = 0x28,
    DW_FORM_addrx1 = 0x29,
    DW_FORM_addrx2 = 0x2a,
    DW_FORM_addrx3 = 0x2b,
    DW_FORM_addrx4 = 0x2c,
    DW_FORM_GNU_addr_index = 0x1f01, /* split DWARF (.dwo): skipped, not resolved */
    DW_FORM_GNU_str_index = 0x1f02,
    DW_FORM_GNU_ref_alt = 0x1f20, /* dwz's references into another file: skipped */
    DW_FORM_GNU_strp_alt = 0x1f21,
};

/* What reading a value needs of the unit it is in: .debug_info's units, and a line
   table's header (DWARF 5 entry formats: version 5, no references). */
typedef struct formunit {
    unsigned version, addr_size, offsz;
    uint64_t off; /* the unit's offset in .debug_info: unit-relative references are made
                     absolute */
} formunit;

/* An attribute's value: form 0 when the entry does not have it.  References are offsets
   in .debug_info; exprloc, blocks, data16 and DW_FORM_string are block and len. */
typedef struct attr {
    uint64_t form, val;
    const unsigned char *block;
    size_t len;
} attr;

static void read_block(cursor *c, attr *a, uint64_t len)
{
    if (len > left(c)) {
        mark_bad(c);
        return;
    }
    a->block = c->p;
    a->len = (size_t)len;
    c->p += len;
}

/* One attribute's value in form (u: what the form needs of its unit); 0, or -1 for a form
   this decoder does not know. */
static int read_value(cursor *c, const formunit *u, uint64_t form, uint64_t implicit, attr *a)
{
    memset(a, 0, sizeof *a);
    a->form = form;
    switch (form) {
    case DW_FORM_addr:
        a->val = read_le(c, u->addr_size);
        break;
    case DW_FORM_data1:
    case DW_FORM_ref1:
    case DW_FORM_flag:
    case DW_FORM_strx1:
    case DW_FORM_addrx1:
        a->val = read_le(c, 1);
        break;
    case DW_FORM_data2:
    case DW_FORM_ref2:
    case DW_FORM_strx2:
    case DW_FORM_addrx2:
        a->val = read_le(c, 2);
        break;
    case DW_FORM_strx3:
    case DW_FORM_addrx3:
        a->val = read_le(c, 3);
        break;
    case DW_FORM_data4:
    case DW_FORM_ref4:
    case DW_FORM_strx4:
    case DW_FORM_addrx4:
    case DW_FORM_ref_sup4:
        a->val = read_le(c, 4);
        break;
    case DW_FORM_data8:
    case DW_FORM_ref8:
    case DW_FORM_ref_sig8:
    case DW_FORM_ref_sup8:
        a->val = read_le(c, 8);
        break;
    case DW_FORM_data16:
        read_block(c, a, 16);
        break;
    case DW_FORM_sdata:
        a->val = read_sleb(c);
        break;
    case DW_FORM_udata:
    case DW_FORM_ref_udata:
    case DW_FORM_strx:
    case DW_FORM_addrx:
    case DW_FORM_loclistx:
    case DW_FORM_rnglistx:
    case DW_FORM_GNU_addr_index:
    case DW_FORM_GNU_str_index:
        a->val = read_uleb(c);
        break;
    case DW_FORM_implicit_const:
        a->val = implicit;
        break;
    case DW_FORM_string:
        a->block = (const unsigned char *)read_str(c);
        a->len = a->block ? strlen((const char *)a->block) : 0;
        break;
    case DW_FORM_strp:
    case DW_FORM_line_strp:
    case DW_FORM_sec_offset:
    case DW_FORM_strp_sup:
    case DW_FORM_GNU_ref_alt:
    case DW_FORM_GNU_strp_alt:
        a->val = read_le(c, u->offsz);
        break;
    case DW_FORM_ref_addr:
        a->val = read_le(c, u->version <= 2 ? u->addr_size : u->offsz);
        break;
    case DW_FORM_exprloc:
    case DW_FORM_block:
        read_block(c, a, read_uleb(c));
        break;
    case DW_FORM_block1:
        read_block(c, a, read_le(c, 1));
        break;
    case DW_FORM_block2:
        read_block(c, a, read_le(c, 2));
        break;
    case DW_FORM_block4:
        read_block(c, a, read_le(c, 4));
        break;
    case DW_FORM_flag_present:
        a->val = 1;
        break;
    default:
        return -1;
    }
    switch (form) { /* the unit-relative references: into .debug_info offsets */
    case DW_FORM_ref1:
    case DW_FORM_ref2:
    case DW_FORM_ref4:
    case DW_FORM_ref8:
    case DW_FORM_ref_udata:
        a->val += u->off;
        break;
    default:
        break;
    }
    return c->bad ? -1 : 0;
}

/* ---------------------------------------------------------------- DWARF line tables */

enum {
    DW_LNS_copy = 1,
    DW_LNS_advance_pc = 2,
    DW_LNS_advance_line = 3,
    DW_LNS_set_file = 4,
    DW_LNS_set_column = 5,
    DW_LNS_negate_stmt = 6,
    DW_LNS_set_basic_block = 7,
    DW_LNS_const_add_pc = 8,
    DW_LNS_fixed_advance_pc = 9,
    DW_LNS_set_prologue_end = 10,
    DW_LNS_set_epilogue_begin = 11,
    DW_LNS_set_isa = 12,
    DW_LNE_end_sequence = 1,
    DW_LNE_set_address = 2,
    DW_LNE_define_file = 3,
    DW_LNE_set_discriminator = 4,
    DW_LNCT_path = 1,
};

/* The string sections a DWARF 5 header refers to (NUL-terminated copies, may be NULL). */
typedef struct strsecs {
    const unsigned char *line_str, *str;
    size_t line_str_len, str_len;
} strsecs;

/* What decoding builds up. */
typedef struct lines {
    row *rows;
    size_t nrows, cap_rows;
    sequence *seqs;
    size_t nseqs, cap_seqs;
    char *files; /* base names, NUL-terminated one after the other */
    size_t files_len, cap_files;
    uint32_t *unit_files; /* the unit's file table: offsets in files, NO_FILE */
    size_t nunit_files, cap_unit_files;
    int nomem;
} lines;

typedef struct unit_header {
    unsigned version;
    unsigned min_inst, max_ops, default_is_stmt;
    int line_base;
    unsigned line_range, opcode_base;
    unsigned char std_len[256];
} unit_header;

typedef struct line_state {
    uint64_t addr, op_index, file, line;
} line_state;

static const char *str_at(const unsigned char *sec, size_t len, uint64_t off)
{
    return sec && off < len ? (const char *)sec + off : NULL; /* the copy ends with a NUL */
}

/* path's base name into the files pool: its offset, NO_FILE */
static uint32_t add_file(lines *b, const char *path)
{
    if (!path)
        return NO_FILE;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t len = strlen(base);
    if (len == 0 || b->files_len + len + 1 >= NO_FILE ||
        grow((void **)&b->files, &b->cap_files, b->files_len + len + 1, 1) != 0)
        return NO_FILE;
    uint32_t at = (uint32_t)b->files_len;
    memcpy(b->files + at, base, len + 1);
    b->files_len += len + 1;
    return at;
}

static void push_unit_file(lines *b, uint32_t file)
{
    if (grow((void **)&b->unit_files, &b->cap_unit_files, b->nunit_files + 1,
             sizeof *b->unit_files) != 0) {
        b->nomem = 1;
        return;
    }
    b->unit_files[b->nunit_files++] = file;
}

/* One attribute of a DWARF 5 directory or file entry; a string form's string (or NULL)
   in *str.  0, or -1 for a form this decoder does not know. */
static int read_form(cursor *c, uint64_t form, int offsz, const strsecs *ss, const char **str)
{
    formunit f = {5, 8, (unsigned)offsz, 0};
    attr a;
    *str = NULL;
    if (read_value(c, &f, form, 0, &a) != 0)
        return -1;
    if (form == DW_FORM_string)
        *str = (const char *)a.block;
    else if (form == DW_FORM_line_strp)
        *str = str_at(ss->line_str, ss->line_str_len, a.val);
    else if (form == DW_FORM_strp)
        *str = str_at(ss->str, ss->str_len, a.val);
    return 0;
}

/* A DWARF 5 entry table (directories, or files into the unit's file table). */
static int read_entries(cursor *h, lines *b, int offsz, const strsecs *ss, int files)
{
    uint64_t fmt[2 * 256];
    unsigned nfmt = (unsigned)read_le(h, 1);
    for (unsigned i = 0; i < nfmt; i++) {
        fmt[2 * i] = read_uleb(h);
        fmt[2 * i + 1] = read_uleb(h);
    }
    uint64_t count = read_uleb(h);
    if (h->bad || (nfmt == 0 && count != 0))
        return -1;
    for (uint64_t k = 0; k < count; k++) { /* each entry takes a byte at least */
        const char *path = NULL;
        for (unsigned i = 0; i < nfmt; i++) {
            const char *s;
            if (read_form(h, fmt[2 * i + 1], offsz, ss, &s) != 0)
                return -1;
            if (fmt[2 * i] == DW_LNCT_path)
                path = s;
        }
        if (files)
            push_unit_file(b, add_file(b, path));
        if (b->nomem)
            return -1;
    }
    return 0;
}

static void advance(line_state *st, const unit_header *hd, uint64_t operation_advance)
{
    if (hd->max_ops == 1) {
        st->addr += hd->min_inst * operation_advance;
    } else {
        uint64_t t = st->op_index + operation_advance;
        st->addr += hd->min_inst * (t / hd->max_ops);
        st->op_index = t % hd->max_ops;
    }
}

/* Append a row to the open sequence (which starts at row first); a sequence whose
   addresses go down is malformed and dropped whole at its end (*bad). */
static void emit(lines *b, const line_state *st, size_t first, int *bad)
{
    if (*bad)
        return;
    if (b->nrows > first && st->addr < b->rows[b->nrows - 1].addr) {
        *bad = 1;
        return;
    }
    if (grow((void **)&b->rows, &b->cap_rows, b->nrows + 1, sizeof *b->rows) != 0) {
        b->nomem = 1;
        return;
    }
    row *r = &b->rows[b->nrows++];
    r->addr = st->addr;
    r->line = st->line <= UINT32_MAX ? (uint32_t)st->line : 0;
    r->file = st->file < b->nunit_files ? b->unit_files[st->file] : NO_FILE;
}

static int in_exec_segment(const object *o, uint64_t a)
{
    for (size_t i = 0; i < o->nsegs; i++)
        if (o->segs[i].exec && a - o->segs[i].vaddr < o->segs[i].memsz)
            return 1;
    return 0;
}

/* The sequence of rows first.. ends at end (the address after it): kept, or dropped. */
static void end_sequence(lines *b, const object *o, size_t first, uint64_t end, int bad)
{
    size_t n = b->nrows - first;
    if (bad || n == 0 || end <= b->rows[first].addr || end < b->rows[b->nrows - 1].addr ||
        !in_exec_segment(o, b->rows[first].addr)) {
        b->nrows = first;
        return;
    }
    if (grow((void **)&b->seqs, &b->cap_seqs, b->nseqs + 1, sizeof *b->seqs) != 0) {
        b->nomem = 1;
        return;
    }
    sequence *s = &b->seqs[b->nseqs++];
    s->lo = b->rows[first].addr;
    s->hi = end;
    s->first = first;
    s->n = n;
}

static void reset_state(line_state *st)
{
    memset(st, 0, sizeof *st);
    st->file = 1;
    st->line = 1;
}

/* The line number program of one unit. */
static void run_program(lines *b, const object *o, cursor *p, const unit_header *hd)
{
    line_state st;
    reset_state(&st);
    size_t first = b->nrows;
    int bad = 0;
    while (left(p) > 0 && !p->bad && !b->nomem) {
        unsigned op = *p->p++;
        if (op >= hd->opcode_base) { /* special */
            unsigned adjusted = op - hd->opcode_base;
            advance(&st, hd, adjusted / hd->line_range);
            st.line += (uint64_t)(int64_t)(hd->line_base + (int)(adjusted % hd->line_range));
            emit(b, &st, first, &bad);
            continue;
        }
        if (op == 0) { /* extended: length, sub-opcode, operands */
            uint64_t len = read_uleb(p);
            if (p->bad || len > left(p))
                break;
            cursor e = cursor_of(p->p, (size_t)len);
            p->p += len;
            if (len == 0)
                continue;
            switch (read_le(&e, 1)) {
            case DW_LNE_end_sequence:
                end_sequence(b, o, first, st.addr, bad);
                reset_state(&st);
                first = b->nrows;
                bad = 0;
                break;
            case DW_LNE_set_address:
                if (left(&e) >= 1 && left(&e) <= 8) {
                    st.addr = read_le(&e, left(&e));
                    st.op_index = 0;
                }
                break;
            case DW_LNE_define_file: {
                const char *path = read_str(&e); /* then directory, time, size: unused */
                push_unit_file(b, add_file(b, path));
                break;
            }
            case DW_LNE_set_discriminator:
            default:
                break;
            }
            continue;
        }
        switch (op) {
        case DW_LNS_copy:
            emit(b, &st, first, &bad);
            break;
        case DW_LNS_advance_pc:
            advance(&st, hd, read_uleb(p));
            break;
        case DW_LNS_advance_line:
            st.line += read_sleb(p);
            break;
        case DW_LNS_set_file:
            st.file = read_uleb(p);
            break;
        case DW_LNS_set_column:
            read_uleb(p);
            break;
        case DW_LNS_negate_stmt:
        case DW_LNS_set_basic_block:
        case DW_LNS_set_prologue_end:
        case DW_LNS_set_epilogue_begin:
            break;
        case DW_LNS_const_add_pc:
            advance(&st, hd, (255 - hd->opcode_base) / hd->line_range);
            break;
        case DW_LNS_fixed_advance_pc:
            st.addr += read_le(p, 2);
            st.op_index = 0;
            break;
        case DW_LNS_set_isa:
            read_uleb(p);
            break;
        default: /* an opcode of a later version: skip its operands */
            for (unsigned i = 0; i < hd->std_len[op]; i++)
                read_uleb(p);
            break;
        }
    }
    b->nrows = first; /* the rows of a sequence that did not end */
}

/* One unit (after its length field): its header, then its program. */
static void decode_unit(lines *b, const object *o, cursor *u, int offsz, const strsecs *ss)
{
    unit_header hd;
    memset(&hd, 0, sizeof hd);
    hd.version = (unsigned)read_le(u, 2);
    if (u->bad || hd.version < 2 || hd.version > 5)
        return;
    if (hd.version >= 5)
        skip(u, 2); /* address_size, segment_selector_size */
    uint64_t header_length = read_le(u, (size_t)offsz);
    if (u->bad || header_length > left(u))
        return;
    cursor h = cursor_of(u->p, (size_t)header_length);
    cursor prog = cursor_of(u->p + header_length, left(u) - (size_t)header_length);
    hd.min_inst = (unsigned)read_le(&h, 1);
    hd.max_ops = hd.version >= 4 ? (unsigned)read_le(&h, 1) : 1;
    hd.default_is_stmt = (unsigned)read_le(&h, 1);
    hd.line_base = (int)(int8_t)read_le(&h, 1);
    hd.line_range = (unsigned)read_le(&h, 1);
    hd.opcode_base = (unsigned)read_le(&h, 1);
    if (h.bad || hd.line_range == 0 || hd.opcode_base == 0)
        return;
    if (hd.max_ops == 0)
        hd.max_ops = 1;
    for (unsigned i = 1; i < hd.opcode_base; i++)
        hd.std_len[i] = (unsigned char)read_le(&h, 1);

    b->nunit_files = 0;
    if (hd.version < 5) {
        push_unit_file(b, NO_FILE); /* files count from 1 */
        for (;;) {                  /* include_directories: not needed */
            const char *dir = read_str(&h);
            if (!dir || !*dir)
                break;
        }
        for (;;) { /* file_names: name, directory, time, size */
            const char *path = read_str(&h);
            if (!path || !*path)
                break;
            read_uleb(&h);
            read_uleb(&h);
            read_uleb(&h);
            push_unit_file(b, add_file(b, path));
        }
        if (h.bad)
            return;
    } else {
        if (read_entries(&h, b, offsz, ss, 0) != 0 || read_entries(&h, b, offsz, ss, 1) != 0)
            return;
    }
    if (!b->nomem)
        run_program(b, o, &prog, &hd);
}

static int by_lo(const void *x, const void *y)
{
    const sequence *a = x, *b = y;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return a->first < b->first ? -1 : a->first > b->first;
}

static void load_lines(object *o)
{
    o->lines_done = 1;
    image im;
    if (object_image(o, &im) != 0)
        return;
    size_t line_len = 0;
    unsigned char *line = section_copy(&im, section_named(&im, ".debug_line"), &line_len);
    strsecs ss = {NULL, NULL, 0, 0};
    unsigned char *line_str =
        section_copy(&im, section_named(&im, ".debug_line_str"), &ss.line_str_len);
    unsigned char *str = section_copy(&im, section_named(&im, ".debug_str"), &ss.str_len);
    ss.line_str = line_str;
    ss.str = str;
    image_close(&im);

    lines b;
    memset(&b, 0, sizeof b);
    cursor all = cursor_of(line, line ? line_len : 0);
    while (left(&all) > 0 && !b.nomem) {
        int offsz = 4;
        uint64_t len = read_le(&all, 4);
        if (len == 0xffffffff) { /* the 64-bit DWARF format */
            len = read_le(&all, 8);
            offsz = 8;
        } else if (len >= 0xfffffff0) {
            break; /* reserved */
        }
        if (all.bad || len > left(&all))
            break;
        cursor unit = cursor_of(all.p, (size_t)len);
        all.p += len;
        decode_unit(&b, o, &unit, offsz, &ss);
    }
    free(line);
    free(line_str);
    free(str);
    free(b.unit_files);

    uint64_t *maxhi = b.nseqs && !b.nomem ? malloc(b.nseqs * sizeof *maxhi) : NULL;
    if (!maxhi) {
        free(b.rows);
        free(b.seqs);
        free(b.files);
        return;
    }
    qsort(b.seqs, b.nseqs, sizeof *b.seqs, by_lo);
    for (size_t i = 0; i < b.nseqs; i++)
        maxhi[i] = i && maxhi[i - 1] > b.seqs[i].hi ? maxhi[i - 1] : b.seqs[i].hi;
    o->seqs = b.seqs;
    o->maxhi = maxhi;
    o->nseqs = b.nseqs;
    o->rows = b.rows;
    o->files = b.files;
}

/* The row that holds the file address a, or NULL. */
static const row *row_at(const object *o, uint64_t a)
{
    size_t lo = 0, hi = o->nseqs; /* the first sequence that starts above a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->seqs[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    const sequence *s = NULL;
    for (size_t i = lo; i-- > 0 && o->maxhi[i] > a;)
        if (a < o->seqs[i].hi) {
            s = &o->seqs[i];
            break;
        }
    if (!s)
        return NULL;
    const row *rows = o->rows + s->first;
    lo = 0; /* the first row above a; the one before it holds a (rows[0] <= a) */
    hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rows[mid].addr <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &rows[lo - 1] : NULL;
}

int fmp__sym_line(uintptr_t pc, char *buf, size_t len)
{
    if (!buf || len == 0)
        return -1;
    buf[0] = 0;
    enter();
    int rc = -1;
    object *o = object_at(pc);
    if (o) {
        if (!o->lines_done)
            load_lines(o);
        const row *r = row_at(o, (uint64_t)(pc - o->bias));
        if (r && r->line != 0 && r->file != NO_FILE) {
            snprintf(buf, len, "%s:%u", o->files + r->file, (unsigned)r->line);
            rc = 0;
        }
    }
    leave();
    return rc;
}

/* ---------------------------------------------------------------- DWARF debugging information */

enum {
    DW_UT_compile = 0x01,
    DW_UT_partial = 0x03,

    DW_TAG_array_type = 0x01,
    DW_TAG_class_type = 0x02,
    DW_TAG_enumeration_type = 0x04,
    DW_TAG_formal_parameter = 0x05,
    DW_TAG_lexical_block = 0x0b,
    DW_TAG_pointer_type = 0x0f,
    DW_TAG_reference_type = 0x10,
    DW_TAG_compile_unit = 0x11,
    DW_TAG_structure_type = 0x13,
    DW_TAG_subroutine_type = 0x15,
    DW_TAG_typedef = 0x16,
    DW_TAG_union_type = 0x17,
    DW_TAG_unspecified_parameters = 0x18,
    DW_TAG_inlined_subroutine = 0x1d,
    DW_TAG_ptr_to_member_type = 0x1f,
    DW_TAG_subrange_type = 0x21,
    DW_TAG_base_type = 0x24,
    DW_TAG_const_type = 0x26,
    DW_TAG_subprogram = 0x2e,
    DW_TAG_variable = 0x34,
    DW_TAG_volatile_type = 0x35,
    DW_TAG_restrict_type = 0x37,
    DW_TAG_unspecified_type = 0x3b,
    DW_TAG_partial_unit = 0x3c,
    DW_TAG_rvalue_reference_type = 0x42,
    DW_TAG_atomic_type = 0x47,

    DW_AT_sibling = 0x01,
    DW_AT_location = 0x02,
    DW_AT_name = 0x03,
    DW_AT_byte_size = 0x0b,
    DW_AT_low_pc = 0x11,
    DW_AT_high_pc = 0x12,
    DW_AT_lower_bound = 0x22,
    DW_AT_upper_bound = 0x2f,
    DW_AT_abstract_origin = 0x31,
    DW_AT_count = 0x37,
    DW_AT_frame_base = 0x40,
    DW_AT_specification = 0x47,
    DW_AT_type = 0x49,
    DW_AT_ranges = 0x55,
    DW_AT_str_offsets_base = 0x72,
    DW_AT_addr_base = 0x73,
    DW_AT_rnglists_base = 0x74,

    DW_OP_addr = 0x03,
    DW_OP_reg6 = 0x56,
    DW_OP_fbreg = 0x91,
    DW_OP_call_frame_cfa = 0x9c,
    DW_OP_addrx = 0xa1,

    DW_RLE_end_of_list = 0x00,
    DW_RLE_base_addressx = 0x01,
    DW_RLE_startx_endx = 0x02,
    DW_RLE_startx_length = 0x03,
    DW_RLE_offset_pair = 0x04,
    DW_RLE_base_address = 0x05,
    DW_RLE_start_end = 0x06,
    DW_RLE_start_length = 0x07,
};

#define TYPE_TEXT 256 /* the longest type text built (fmp__symtype has room for 127) */
#define TYPE_DEPTH 16 /* the longest chain of types followed */
#define ORIGIN_HOPS 8 /* the longest chain of DW_AT_specification / DW_AT_abstract_origin */

/* A debugging section: a NUL-terminated copy (NULL when missing). */
typedef struct sect {
    unsigned char *p;
    size_t len;
} sect;

/* One attribute of an abbreviation: its name and form (and a DW_FORM_implicit_const's
   value). */
typedef struct attrspec {
    uint64_t name, form, implicit;
} attrspec;

typedef struct abbrev {
    uint64_t code, tag;
    size_t first, n; /* its attributes in the unit's specs */
    int children;
} abbrev;

/* A compile or partial unit of .debug_info (type units, skeleton and split units are
   left out: nothing here refers into them but DW_FORM_ref_sig8, which is not followed). */
typedef struct unit {
    uint64_t off, first, end; /* its header, its first entry, its end: in .debug_info */
    uint64_t abbrev_off;
    unsigned version, addr_size, offsz;
    int state;       /* 0: not read yet, 1: ready, -1: unusable */
    abbrev *abbrevs; /* sorted by code */
    size_t nabbrevs;
    attrspec *specs;
    uint64_t str_base, addr_base; /* DW_AT_str_offsets_base, DW_AT_addr_base */
    uint64_t rnglists_base;       /* DW_AT_rnglists_base */
    int has_str_base, has_addr_base, has_rnglists_base;
    uint64_t base; /* the base address of its range lists: its DW_AT_low_pc */
} unit;

/* A debugging information entry: the attributes this decoder uses.  tag 0: a null entry
   (the end of a list of siblings). */
typedef struct die {
    uint64_t off, next; /* its offset; the offset after its attributes */
    uint64_t tag;
    int children;
    attr sibling, name, type, origin, location, byte_size, lower, upper, count, str_base, addr_base,
        low_pc, high_pc, ranges, frame_base, rnglists_base;
} die;

/* A type's text, size and innermost element size, once worked out (key: its entry's
   offset + 1; 0: an empty slot). */
typedef struct memo {
    uint64_t key;
    uint64_t size, elem;
    uint32_t text;
    int ok;
} memo;

/* One decoding of an object's .debug_info. */
typedef struct dwarf {
    const object *o;
    sect info, abbrev, str, line_str, str_offsets, addr, ranges, rnglists;
    unit *units; /* by offset */
    size_t nunits, cap_units;
    memo *memos;
    size_t nmemos, cap_memos; /* cap_memos: a power of two */
    char *text;               /* type texts, NUL-terminated one after the other */
    size_t text_len, cap_text;
    int nomem;
} dwarf;

static void sect_load(const image *im, const char *name, sect *s)
{
    s->p = section_copy(im, section_named(im, name), &s->len);
}

static void dwarf_free(dwarf *dw)
{
    free(dw->info.p);
    free(dw->abbrev.p);
    free(dw->str.p);
    free(dw->line_str.p);
    free(dw->str_offsets.p);
    free(dw->addr.p);
    free(dw->ranges.p);
    free(dw->rnglists.p);
    for (size_t i = 0; i < dw->nunits; i++) {
        free(dw->units[i].abbrevs);
        free(dw->units[i].specs);
    }
    free(dw->units);
    free(dw->memos);
    free(dw->text);
}

/* The headers of the units of .debug_info. */
static void find_units(dwarf *dw)
{
    cursor all = cursor_of(dw->info.p, dw->info.len);
    while (left(&all) > 0) {
        uint64_t off = (uint64_t)(all.p - dw->info.p);
        unsigned offsz = 4;
        uint64_t len = read_le(&all, 4);
        if (len == 0xffffffff) { /* the 64-bit DWARF format */
            len = read_le(&all, 8);
            offsz = 8;
        } else if (len >= 0xfffffff0) {
            break; /* reserved */
        }
        if (all.bad || len > left(&all))
            break;
        cursor h = cursor_of(all.p, (size_t)len);
        all.p += len;
        unit u;
        memset(&u, 0, sizeof u);
        u.off = off;
        u.end = (uint64_t)(all.p - dw->info.p);
        u.offsz = offsz;
        u.version = (unsigned)read_le(&h, 2);
        if (u.version >= 2 && u.version <= 4) {
            u.abbrev_off = read_le(&h, offsz);
            u.addr_size = (unsigned)read_le(&h, 1);
        } else if (u.version == 5) {
            unsigned type = (unsigned)read_le(&h, 1);
            u.addr_size = (unsigned)read_le(&h, 1);
            u.abbrev_off = read_le(&h, offsz);
            if (type != DW_UT_compile && type != DW_UT_partial)
                continue;
        } else {
            continue;
        }
        if (h.bad || (u.addr_size != 4 && u.addr_size != 8))
            continue;
        u.first = (uint64_t)(h.p - dw->info.p);
        if (grow((void **)&dw->units, &dw->cap_units, dw->nunits + 1, sizeof *dw->units) != 0) {
            dw->nomem = 1;
            return;
        }
        dw->units[dw->nunits++] = u;
    }
}

static int by_code(const void *x, const void *y)
{
    const abbrev *a = x, *b = y;
    return a->code < b->code ? -1 : a->code > b->code;
}

/* The unit's abbreviation table, from .debug_abbrev. */
static int read_abbrevs(dwarf *dw, unit *u)
{
    if (u->abbrev_off >= dw->abbrev.len)
        return -1;
    cursor c = cursor_of(dw->abbrev.p + u->abbrev_off, dw->abbrev.len - (size_t)u->abbrev_off);
    size_t cap = 0, cap_specs = 0, nspecs = 0;
    int sorted = 1;
    for (;;) {
        uint64_t code = read_uleb(&c);
        if (c.bad)
            return -1;
        if (code == 0)
            break;
        if (grow((void **)&u->abbrevs, &cap, u->nabbrevs + 1, sizeof *u->abbrevs) != 0) {
            dw->nomem = 1;
            return -1;
        }
        abbrev *a = &u->abbrevs[u->nabbrevs++];
        if (u->nabbrevs > 1 && code <= a[-1].code)
            sorted = 0;
        a->code = code;
        a->tag = read_uleb(&c);
        a->children = read_le(&c, 1) != 0;
        a->first = nspecs;
        for (;;) {
            attrspec sp = {read_uleb(&c), read_uleb(&c), 0};
            if (sp.form == DW_FORM_implicit_const)
                sp.implicit = read_sleb(&c);
            if (c.bad)
                return -1;
            if (sp.name == 0 && sp.form == 0)
                break;
            if (grow((void **)&u->specs, &cap_specs, nspecs + 1, sizeof *u->specs) != 0) {
                dw->nomem = 1;
                return -1;
            }
            u->specs[nspecs++] = sp;
        }
        a->n = nspecs - a->first;
    }
    if (!sorted)
        qsort(u->abbrevs, u->nabbrevs, sizeof *u->abbrevs, by_code);
    return 0;
}

static const abbrev *abbrev_find(const unit *u, uint64_t code)
{
    if (code - 1 < u->nabbrevs && u->abbrevs[code - 1].code == code)
        return &u->abbrevs[code - 1]; /* codes are usually 1, 2, 3... */
    size_t lo = 0, hi = u->nabbrevs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u->abbrevs[mid].code < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < u->nabbrevs && u->abbrevs[lo].code == code ? &u->abbrevs[lo] : NULL;
}

/* One attribute's value in form; 0, or -1 for a form this decoder does not know. */
static int read_attr(cursor *c, const unit *u, uint64_t form, uint64_t implicit, attr *a)
{
    formunit f = {u->version, u->addr_size, u->offsz, u->off};
    return read_value(c, &f, form, implicit, a);
}

/* The entry at off (in .debug_info) of the unit u (its abbreviations read); 0 or -1. */
static int read_die(const dwarf *dw, const unit *u, uint64_t off, die *d)
{
    memset(d, 0, sizeof *d);
    if (off < u->first || off >= u->end)
        return -1;
    const unsigned char *start = dw->info.p + off;
    cursor c = cursor_of(start, (size_t)(u->end - off));
    d->off = off;
    uint64_t code = read_uleb(&c);
    if (c.bad)
        return -1;
    if (code != 0) {
        const abbrev *ab = abbrev_find(u, code);
        if (!ab)
            return -1;
        d->tag = ab->tag;
        d->children = ab->children;
        for (size_t i = 0; i < ab->n; i++) {
            const attrspec *sp = &u->specs[ab->first + i];
            uint64_t form = sp->form;
            if (form == DW_FORM_indirect)
                form = read_uleb(&c);
            attr v;
            if (form == DW_FORM_indirect || read_attr(&c, u, form, sp->implicit, &v) != 0)
                return -1;
            attr *slot = NULL;
            switch (sp->name) {
            case DW_AT_sibling:
                slot = &d->sibling;
                break;
            case DW_AT_name:
                slot = &d->name;
                break;
            case DW_AT_type:
                slot = &d->type;
                break;
            case DW_AT_specification:
            case DW_AT_abstract_origin:
                slot = &d->origin;
                break;
            case DW_AT_location:
                slot = &d->location;
                break;
            case DW_AT_byte_size:
                slot = &d->byte_size;
                break;
            case DW_AT_lower_bound:
                slot = &d->lower;
                break;
            case DW_AT_upper_bound:
                slot = &d->upper;
                break;
            case DW_AT_count:
                slot = &d->count;
                break;
            case DW_AT_str_offsets_base:
                slot = &d->str_base;
                break;
            case DW_AT_addr_base:
                slot = &d->addr_base;
                break;
            case DW_AT_low_pc:
                slot = &d->low_pc;
                break;
            case DW_AT_high_pc:
                slot = &d->high_pc;
                break;
            case DW_AT_ranges:
                slot = &d->ranges;
                break;
            case DW_AT_frame_base:
                slot = &d->frame_base;
                break;
            case DW_AT_rnglists_base:
                slot = &d->rnglists_base;
                break;
            default:
                break;
            }
            if (slot)
                *slot = v;
        }
    }
    d->next = off + (uint64_t)(c.p - start);
    return 0;
}

static int attr_address(const dwarf *dw, const unit *u, const attr *a, uint64_t *addr);

/* The unit ready for reading: its abbreviations and the bases its first entry gives. */
static int unit_ready(dwarf *dw, unit *u)
{
    if (u->state)
        return u->state > 0 ? 0 : -1;
    u->state = -1;
    die cu;
    if (read_abbrevs(dw, u) != 0 || read_die(dw, u, u->first, &cu) != 0 ||
        (cu.tag != DW_TAG_compile_unit && cu.tag != DW_TAG_partial_unit))
        return -1;
    u->has_str_base = cu.str_base.form == DW_FORM_sec_offset;
    u->str_base = cu.str_base.val;
    u->has_addr_base = cu.addr_base.form == DW_FORM_sec_offset;
    u->addr_base = cu.addr_base.val;
    u->has_rnglists_base = cu.rnglists_base.form == DW_FORM_sec_offset;
    u->rnglists_base = cu.rnglists_base.val;
    u->state = 1;
    if (attr_address(dw, u, &cu.low_pc, &u->base) != 0)
        u->base = 0;
    return 0;
}

/* The unit that holds the entry at off, ready; NULL. */
static unit *unit_of(dwarf *dw, uint64_t off)
{
    size_t lo = 0, hi = dw->nunits; /* the first unit that starts above off */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dw->units[mid].off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    unit *u = &dw->units[lo - 1];
    if (off < u->first || off >= u->end || unit_ready(dw, u) != 0)
        return NULL;
    return u;
}

/* The entry at off in .debug_info (not a null entry), and its unit. */
static int die_at(dwarf *dw, uint64_t off, unit **u, die *d)
{
    *u = unit_of(dw, off);
    return *u && read_die(dw, *u, off, d) == 0 && d->tag != 0 ? 0 : -1;
}

/* a is a reference this decoder follows (not into a type unit or another file) */
static int is_ref(const attr *a)
{
    switch (a->form) {
    case DW_FORM_ref1:
    case DW_FORM_ref2:
    case DW_FORM_ref4:
    case DW_FORM_ref8:
    case DW_FORM_ref_udata:
    case DW_FORM_ref_addr:
        return 1;
    default:
        return 0;
    }
}

static int is_const(const attr *a)
{
    switch (a->form) {
    case DW_FORM_data1:
    case DW_FORM_data2:
    case DW_FORM_data4:
    case DW_FORM_data8:
    case DW_FORM_sdata:
    case DW_FORM_udata:
    case DW_FORM_implicit_const:
        return 1;
    default:
        return 0;
    }
}

/* A constant as a signed value: data1, data2 and data4 are unsigned (GCC writes the upper
   bound of char[256] as data1 255), data8 and sdata two's complement (how older compilers
   wrote -1, the upper bound of a zero-length array). */
static int64_t const_signed(const attr *a)
{
    return (int64_t)a->val;
}

/* A string attribute's text, NULL. */
static const char *attr_str(const dwarf *dw, const unit *u, const attr *a)
{
    switch (a->form) {
    case DW_FORM_string:
        return (const char *)a->block;
    case DW_FORM_strp:
        return str_at(dw->str.p, dw->str.len, a->val);
    case DW_FORM_line_strp:
        return str_at(dw->line_str.p, dw->line_str.len, a->val);
    case DW_FORM_strx:
    case DW_FORM_strx1:
    case DW_FORM_strx2:
    case DW_FORM_strx3:
    case DW_FORM_strx4: {
        if (!u->has_str_base || u->str_base > dw->str_offsets.len ||
            a->val >= (dw->str_offsets.len - u->str_base) / u->offsz)
            return NULL;
        cursor c = cursor_of(dw->str_offsets.p + u->str_base + a->val * u->offsz, u->offsz);
        return str_at(dw->str.p, dw->str.len, read_le(&c, u->offsz));
    }
    default:
        return NULL;
    }
}

/* Entry idx of the unit's part of .debug_addr into *addr; 0 or -1. */
static int addr_index(const dwarf *dw, const unit *u, uint64_t idx, uint64_t *addr)
{
    if (!u->has_addr_base || u->addr_base > dw->addr.len ||
        idx >= (dw->addr.len - u->addr_base) / u->addr_size)
        return -1;
    cursor c = cursor_of(dw->addr.p + u->addr_base + idx * u->addr_size, u->addr_size);
    *addr = read_le(&c, u->addr_size);
    return 0;
}

/* An address attribute's value (DW_FORM_addr, DW_FORM_addrx...); 0 or -1. */
static int attr_address(const dwarf *dw, const unit *u, const attr *a, uint64_t *addr)
{
    switch (a->form) {
    case DW_FORM_addr:
        *addr = a->val;
        return 0;
    case DW_FORM_addrx:
    case DW_FORM_addrx1:
    case DW_FORM_addrx2:
    case DW_FORM_addrx3:
    case DW_FORM_addrx4:
        return addr_index(dw, u, a->val, addr);
    default:
        return -1;
    }
}

/* A location expression that is the address of the object alone: DW_OP_addr, or
   DW_OP_addrx (through .debug_addr).  0 and *addr, or -1. */
static int static_address(const dwarf *dw, const unit *u, const attr *loc, uint64_t *addr)
{
    if (!loc->block ||
        (loc->form != DW_FORM_exprloc && loc->form != DW_FORM_block &&
         loc->form != DW_FORM_block1 && loc->form != DW_FORM_block2 && loc->form != DW_FORM_block4))
        return -1;
    cursor c = cursor_of(loc->block, loc->len);
    unsigned op = (unsigned)read_le(&c, 1);
    if (op == DW_OP_addr) {
        *addr = read_le(&c, u->addr_size);
    } else if (op == DW_OP_addrx) {
        uint64_t idx = read_uleb(&c);
        if (c.bad || addr_index(dw, u, idx, addr) != 0)
            return -1;
    } else {
        return -1;
    }
    return c.bad || left(&c) != 0 ? -1 : 0;
}

/* The offset after the entry d and all its children. */
static int die_skip(const dwarf *dw, const unit *u, const die *d, uint64_t *next)
{
    if (!d->children) {
        *next = d->next;
        return 0;
    }
    if (is_ref(&d->sibling) && d->sibling.val >= d->next && d->sibling.val < u->end) {
        *next = d->sibling.val;
        return 0;
    }
    uint64_t off = d->next;
    size_t depth = 1;
    while (depth > 0) {
        die c;
        if (read_die(dw, u, off, &c) != 0)
            return -1;
        off = c.next;
        if (c.tag == 0)
            depth--;
        else if (c.children)
            depth++;
    }
    *next = off;
    return 0;
}

/* ---------------------------------------------------------------- type texts */

/* A bounded string being built. */
typedef struct sbuf {
    char *s;
    size_t cap, len;
} sbuf;

static sbuf sbuf_of(char *s, size_t cap)
{
    sbuf b = {s, cap, 0};
    s[0] = 0;
    return b;
}

static void put(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (n > b->cap - 1 - b->len)
        n = b->cap - 1 - b->len;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

/* name, then the declarator inner ("*", "[10]", "(*)(int)"): "char *", "int[10]" */
static void put_declarator(sbuf *b, const char *name, const char *inner)
{
    put(b, name);
    if (inner[0] && inner[0] != '[')
        put(b, " ");
    put(b, inner);
}

/* GCC's names of the integer types, and C's short forms (clang's) */
static const char *const base_names[][2] = {
    {"long int", "long"},
    {"long unsigned int", "unsigned long"},
    {"long long int", "long long"},
    {"long long unsigned int", "unsigned long long"},
    {"short int", "short"},
    {"short unsigned int", "unsigned short"},
    {"__int128 unsigned", "unsigned __int128"},
};

static const char *base_name(const char *name)
{
    for (size_t i = 0; i < sizeof base_names / sizeof base_names[0]; i++)
        if (strcmp(name, base_names[i][0]) == 0)
            return base_names[i][1];
    return name;
}

/* The dimensions of the array d ("[10][20]", "[]" for one without a constant bound) and
   the product of its counts (*known 0 when one is not a constant). */
static int array_dims(dwarf *dw, const unit *u, const die *d, sbuf *dims, uint64_t *count,
                      int *known)
{
    *count = 1;
    *known = 1;
    if (!d->children)
        return 0;
    uint64_t off = d->next;
    for (;;) {
        die c;
        if (read_die(dw, u, off, &c) != 0)
            return -1;
        if (c.tag == 0)
            break;
        if (die_skip(dw, u, &c, &off) != 0)
            return -1;
        if (c.tag != DW_TAG_subrange_type)
            continue;
        int64_t n = -1;
        if (is_const(&c.count)) {
            n = const_signed(&c.count);
        } else if (is_const(&c.upper)) {
            int64_t lower = is_const(&c.lower) ? const_signed(&c.lower) : 0;
            int64_t upper = const_signed(&c.upper);
            n = upper < lower ? 0 : upper - lower + 1;
        }
        if (n < 0) {
            put(dims, "[]");
            *known = 0;
            continue;
        }
        char num[32];
        snprintf(num, sizeof num, "[%llu]", (unsigned long long)n);
        put(dims, num);
        if ((uint64_t)n != 0 && *count > UINT64_MAX / (uint64_t)n)
            *known = 0;
        else
            *count *= (uint64_t)n;
    }
    return 0;
}

static int type_text(dwarf *dw, const attr *type, const char *inner, int depth, sbuf *out);

/* The parameters of the subroutine type d: "(int, char *)", "(void)", "(int, ...)" */
static int param_list(dwarf *dw, const unit *u, const die *d, int depth, sbuf *out)
{
    put(out, "(");
    int n = 0;
    uint64_t off = d->next;
    while (d->children) {
        die c;
        if (read_die(dw, u, off, &c) != 0 || (c.tag != 0 && die_skip(dw, u, &c, &off) != 0))
            return -1;
        if (c.tag == 0)
            break;
        if (c.tag != DW_TAG_formal_parameter && c.tag != DW_TAG_unspecified_parameters)
            continue;
        if (n++)
            put(out, ", ");
        if (c.tag == DW_TAG_unspecified_parameters) {
            put(out, "...");
            continue;
        }
        char buf[TYPE_TEXT];
        sbuf p = sbuf_of(buf, sizeof buf);
        if (type_text(dw, &c.type, "", depth + 1, &p) != 0)
            return -1;
        put(out, buf);
    }
    put(out, n ? ")" : "void)");
    return 0;
}

/* The innermost element of the array a (an array of arrays...) is qualified with the
   qualifier tag (a C array is not qualified, its elements are: GCC writes the qualifier of
   const int a[3] on the array and on its element, clang on the element only). */
static int elem_qualified(dwarf *dw, const die *a, uint64_t tag, int depth)
{
    die d = *a;
    for (; depth <= TYPE_DEPTH; depth++) {
        unit *u;
        if (!is_ref(&d.type) || die_at(dw, d.type.val, &u, &d) != 0)
            return 0;
        if (d.tag == tag)
            return 1;
        if (d.tag != DW_TAG_array_type && d.tag != DW_TAG_const_type &&
            d.tag != DW_TAG_volatile_type && d.tag != DW_TAG_restrict_type &&
            d.tag != DW_TAG_atomic_type)
            return 0;
    }
    return 0;
}

/* The C text of the type that the reference type names (void when absent) around the
   declarator inner, what stands where a name would: a pointer adds "*" to it, an array
   "[n]" after it, a base, structure or typedef name comes before it. */
static int type_text(dwarf *dw, const attr *type, const char *inner, int depth, sbuf *out)
{
    if (!type->form) {
        put_declarator(out, "void", inner);
        return 0;
    }
    unit *u;
    die d;
    if (depth > TYPE_DEPTH || !is_ref(type) || die_at(dw, type->val, &u, &d) != 0)
        return -1;
    const char *name = attr_str(dw, u, &d.name);
    char buf[TYPE_TEXT];
    sbuf next = sbuf_of(buf, sizeof buf);
    const char *kw = NULL;
    switch (d.tag) {
    case DW_TAG_base_type:
    case DW_TAG_unspecified_type:
    case DW_TAG_typedef:
    case DW_TAG_class_type:
        if (!name)
            return -1;
        put_declarator(out, d.tag == DW_TAG_base_type ? base_name(name) : name, inner);
        return 0;
    case DW_TAG_structure_type:
        kw = "struct ";
        break;
    case DW_TAG_union_type:
        kw = "union ";
        break;
    case DW_TAG_enumeration_type:
        kw = "enum ";
        break;
    case DW_TAG_pointer_type:
    case DW_TAG_ptr_to_member_type:
    case DW_TAG_reference_type:
    case DW_TAG_rvalue_reference_type:
        put(&next, d.tag == DW_TAG_reference_type          ? "&"
                   : d.tag == DW_TAG_rvalue_reference_type ? "&&"
                                                           : "*");
        put(&next, inner);
        return type_text(dw, &d.type, buf, depth + 1, out);
    case DW_TAG_const_type:
    case DW_TAG_volatile_type:
    case DW_TAG_restrict_type:
    case DW_TAG_atomic_type: {
        const char *q = d.tag == DW_TAG_const_type      ? "const"
                        : d.tag == DW_TAG_volatile_type ? "volatile"
                        : d.tag == DW_TAG_restrict_type ? "restrict"
                                                        : "_Atomic";
        unit *tu;
        die t;
        if (!d.type.form || !is_ref(&d.type) || die_at(dw, d.type.val, &tu, &t) != 0)
            t.tag = 0;
        if (t.tag == DW_TAG_array_type && elem_qualified(dw, &t, d.tag, depth))
            return type_text(dw, &d.type, inner, depth + 1, out); /* GCC says it twice */
        if (t.tag == DW_TAG_pointer_type || t.tag == DW_TAG_ptr_to_member_type ||
            t.tag == DW_TAG_reference_type || t.tag == DW_TAG_rvalue_reference_type) {
            put(&next, q); /* the pointer is qualified: "char *const" */
            if (inner[0] && inner[0] != '[' && inner[0] != '(')
                put(&next, " ");
            put(&next, inner);
            return type_text(dw, &d.type, buf, depth + 1, out);
        }
        put(out, q); /* what it points to, or the element: "const char *", "const int[4]" */
        put(out, " ");
        return type_text(dw, &d.type, inner, depth + 1, out);
    }
    case DW_TAG_array_type: {
        uint64_t count;
        int known;
        int wrap = inner[0] == '*' || inner[0] == '&';
        put(&next, wrap ? "(" : "");
        put(&next, inner);
        put(&next, wrap ? ")" : "");
        if (array_dims(dw, u, &d, &next, &count, &known) != 0)
            return -1;
        return type_text(dw, &d.type, buf, depth + 1, out);
    }
    case DW_TAG_subroutine_type: {
        int wrap = inner[0] == '*' || inner[0] == '&';
        put(&next, wrap ? "(" : "");
        put(&next, inner);
        put(&next, wrap ? ")" : "");
        if (param_list(dw, u, &d, depth, &next) != 0)
            return -1;
        return type_text(dw, &d.type, buf, depth + 1, out);
    }
    default:
        return -1;
    }
    put(out, kw); /* a structure, union or enumeration */
    put_declarator(out, name ? name : "{...}", inner);
    return 0;
}

/* The size of the type that the reference type names; for an array, the size of its
   innermost element (through typedefs and qualifiers) in *elem, else 0. */
static int type_size(dwarf *dw, const attr *type, int depth, uint64_t *size, uint64_t *elem)
{
    *size = 0;
    *elem = 0;
    if (!type->form)
        return 0; /* void */
    unit *u;
    die d;
    if (depth > TYPE_DEPTH || !is_ref(type) || die_at(dw, type->val, &u, &d) != 0)
        return -1;
    switch (d.tag) {
    case DW_TAG_typedef:
    case DW_TAG_const_type:
    case DW_TAG_volatile_type:
    case DW_TAG_restrict_type:
    case DW_TAG_atomic_type:
        return type_size(dw, &d.type, depth + 1, size, elem);
    case DW_TAG_array_type: {
        uint64_t esize, einner, count;
        int known;
        char buf[TYPE_TEXT];
        sbuf dims = sbuf_of(buf, sizeof buf);
        if (type_size(dw, &d.type, depth + 1, &esize, &einner) != 0 ||
            array_dims(dw, u, &d, &dims, &count, &known) != 0)
            return -1;
        *elem = einner ? einner : esize;
        if (is_const(&d.byte_size))
            *size = d.byte_size.val;
        else if (known && (esize == 0 || count <= UINT64_MAX / esize))
            *size = count * esize;
        return 0;
    }
    case DW_TAG_pointer_type:
    case DW_TAG_ptr_to_member_type:
    case DW_TAG_reference_type:
    case DW_TAG_rvalue_reference_type:
        *size = is_const(&d.byte_size) ? d.byte_size.val : u->addr_size;
        return 0;
    case DW_TAG_enumeration_type:
        if (!is_const(&d.byte_size) && d.type.form)
            return type_size(dw, &d.type, depth + 1, size, elem);
        *size = is_const(&d.byte_size) ? d.byte_size.val : 0;
        return 0;
    case DW_TAG_base_type:
    case DW_TAG_unspecified_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
    case DW_TAG_class_type:
        *size = is_const(&d.byte_size) ? d.byte_size.val : 0;
        return 0;
    case DW_TAG_subroutine_type:
        return 0;
    default:
        return -1;
    }
}

/* text into the decoding's texts: its offset, or UINT32_MAX */
static uint32_t add_text(dwarf *dw, const char *text)
{
    size_t n = strlen(text) + 1;
    if (dw->text_len + n >= UINT32_MAX ||
        grow((void **)&dw->text, &dw->cap_text, dw->text_len + n, 1) != 0) {
        dw->nomem = 1;
        return UINT32_MAX;
    }
    memcpy(dw->text + dw->text_len, text, n);
    dw->text_len += n;
    return (uint32_t)(dw->text_len - n);
}

static size_t memo_slot(const memo *m, size_t cap, uint64_t key)
{
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
    while (m[i].key && m[i].key != key)
        i = (i + 1) & (cap - 1);
    return i;
}

/* The text, size and element size of the type the reference type names, worked out once
   per type; NULL when it cannot be. */
static const memo *type_of(dwarf *dw, const attr *type)
{
    if (!is_ref(type) || type->val == UINT64_MAX)
        return NULL;
    uint64_t key = type->val + 1;
    if (dw->cap_memos && dw->memos[memo_slot(dw->memos, dw->cap_memos, key)].key == key) {
        const memo *m = &dw->memos[memo_slot(dw->memos, dw->cap_memos, key)];
        return m->ok ? m : NULL;
    }
    if (dw->nmemos + 1 > dw->cap_memos / 2) { /* rehash into twice the room */
        size_t cap = dw->cap_memos ? 2 * dw->cap_memos : 256;
        memo *m = cap <= SIZE_MAX / sizeof *m ? calloc(cap, sizeof *m) : NULL;
        if (!m) {
            dw->nomem = 1;
            return NULL;
        }
        for (size_t i = 0; i < dw->cap_memos; i++)
            if (dw->memos[i].key)
                m[memo_slot(m, cap, dw->memos[i].key)] = dw->memos[i];
        free(dw->memos);
        dw->memos = m;
        dw->cap_memos = cap;
    }
    memo *m = &dw->memos[memo_slot(dw->memos, dw->cap_memos, key)];
    m->key = key;
    dw->nmemos++;
    char buf[TYPE_TEXT];
    sbuf text = sbuf_of(buf, sizeof buf);
    m->ok = type_text(dw, type, "", 0, &text) == 0 &&
            type_size(dw, type, 0, &m->size, &m->elem) == 0 &&
            (m->text = add_text(dw, buf)) != UINT32_MAX;
    return m->ok ? m : NULL;
}

/* The type of the entry d: its own, else that of the entry it completes or is a concrete
   instance of. */
static int die_type(dwarf *dw, const die *d, attr *type)
{
    die e = *d;
    for (int hop = 0; !e.type.form; hop++) {
        unit *u;
        if (hop == ORIGIN_HOPS || !is_ref(&e.origin) || die_at(dw, e.origin.val, &u, &e) != 0)
            return -1;
    }
    *type = e.type;
    return 0;
}

/* ---------------------------------------------------------------- variables' types */

/* What decoding the variables builds up. */
typedef struct vars {
    vartype *v;
    size_t n, cap;
} vars;

static int in_segment(const object *o, uint64_t a)
{
    for (size_t i = 0; i < o->nsegs; i++)
        if (a - o->segs[i].vaddr < o->segs[i].memsz)
            return 1;
    return 0;
}

/* A variable at a fixed address: into b. */
static void add_var(dwarf *dw, const unit *u, const die *d, vars *b)
{
    uint64_t addr;
    attr type;
    const memo *m;
    if (static_address(dw, u, &d->location, &addr) != 0 || addr == 0 || !in_segment(dw->o, addr) ||
        die_type(dw, d, &type) != 0 || !(m = type_of(dw, &type)))
        return; /* a variable the linker dropped has the address 0, or none of a segment */
    if (grow((void **)&b->v, &b->cap, b->n + 1, sizeof *b->v) != 0) {
        dw->nomem = 1;
        return;
    }
    vartype *v = &b->v[b->n++];
    v->addr = addr;
    v->size = m->size;
    v->elem = m->elem;
    v->text = m->text;
}

/* Every entry of the unit, in order; the variables with a location into b. */
static void scan_unit(dwarf *dw, unit *u, vars *b)
{
    if (unit_ready(dw, u) != 0)
        return;
    uint64_t off = u->first;
    while (off < u->end && !dw->nomem) {
        die d;
        if (read_die(dw, u, off, &d) != 0)
            return; /* a form or an abbreviation this decoder does not know: the unit ends */
        off = d.next;
        if (d.tag == DW_TAG_variable && d.location.form)
            add_var(dw, u, &d, b);
    }
}

static int by_addr(const void *x, const void *y)
{
    const vartype *a = x, *b = y;
    if (a->addr != b->addr)
        return a->addr < b->addr ? -1 : 1;
    return a->text < b->text ? -1 : a->text > b->text;
}

/* The object's debugging sections and the headers of its units; 0, or -1 when it has no
   .debug_info to read. */
static int dwarf_open(const object *o, dwarf *dw)
{
    memset(dw, 0, sizeof *dw);
    dw->o = o;
    image im;
    if (object_image(o, &im) != 0)
        return -1;
    sect_load(&im, ".debug_info", &dw->info);
    sect_load(&im, ".debug_abbrev", &dw->abbrev);
    if (dw->info.p && dw->abbrev.p) {
        sect_load(&im, ".debug_str", &dw->str);
        sect_load(&im, ".debug_line_str", &dw->line_str);
        sect_load(&im, ".debug_str_offsets", &dw->str_offsets);
        sect_load(&im, ".debug_addr", &dw->addr);
        sect_load(&im, ".debug_ranges", &dw->ranges);
        sect_load(&im, ".debug_rnglists", &dw->rnglists);
    }
    image_close(&im);
    if (!dw->info.p || !dw->abbrev.p) {
        dwarf_free(dw);
        return -1;
    }
    find_units(dw);
    return 0;
}

static void load_types(object *o)
{
    o->types_done = 1;
    dwarf dw;
    if (dwarf_open(o, &dw) != 0)
        return;
    vars b;
    memset(&b, 0, sizeof b);
    for (size_t i = 0; i < dw.nunits && !dw.nomem; i++)
        scan_unit(&dw, &dw.units[i], &b);
    if (dw.nomem || b.n == 0) {
        free(b.v);
        dwarf_free(&dw);
        return;
    }
    qsort(b.v, b.n, sizeof *b.v, by_addr);
    o->vars = b.v;
    o->nvars = b.n;
    o->var_text = dw.text; /* kept: the variables' texts are in it */
    dw.text = NULL;
    dwarf_free(&dw);
}

int fmp__sym_type(uintptr_t var, fmp__symtype *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    enter();
    int rc = -1;
    object *o = object_at(var);
    if (o) {
        if (!o->types_done)
            load_types(o);
        uint64_t a = (uint64_t)(var - o->bias);
        size_t lo = 0, hi = o->nvars; /* the first variable at or above a */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (o->vars[mid].addr < a)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < o->nvars && o->vars[lo].addr == a) {
            const vartype *v = &o->vars[lo];
            copy_str(out->type, sizeof out->type, o->var_text + v->text);
            out->size = (size_t)v->size;
            out->elem = (size_t)v->elem;
            rc = 0;
        }
    }
    leave();
    return rc;
}

/* ---------------------------------------------------------------- locals of a frame */

enum {
    FRAME_NONE, /* a frame base this decoder does not know: no locals */
    FRAME_CFA,  /* DW_OP_call_frame_cfa (GCC) */
    FRAME_RBP,  /* DW_OP_reg6 on x86-64 (clang): the frame pointer, the CFA less 16 */
};

#define NO_SCOPE UINT32_MAX
/* A block without addresses (GCC's DWARF 4 list of a block that starts with an empty range
   at the base address reads as empty): its own locals are left out, the scopes inside it
   are still read. */
#define NO_PLACE (UINT32_MAX - 1)
#define SCOPE_DEPTH 256 /* the deepest nesting of entries followed */

/* What decoding the locals builds up. */
typedef struct frames {
    fscope *scopes;
    size_t nscopes, cap_scopes;
    pcrange *ranges;
    size_t nranges, cap_ranges;
    local *locals;
    size_t nlocals, cap_locals;
} frames;

static void add_range(dwarf *dw, frames *b, uint64_t lo, uint64_t hi)
{
    if (hi <= lo || !in_exec_segment(dw->o, lo))
        return; /* empty, or code the linker dropped (at 0 or a tombstone) */
    if (grow((void **)&b->ranges, &b->cap_ranges, b->nranges + 1, sizeof *b->ranges) != 0) {
        dw->nomem = 1;
        return;
    }
    b->ranges[b->nranges].lo = lo;
    b->ranges[b->nranges].hi = hi;
    b->nranges++;
}

/* A DWARF 2 to 4 range list at off in .debug_ranges. */
static void ranges_v4(dwarf *dw, const unit *u, uint64_t off, frames *b)
{
    if (off >= dw->ranges.len)
        return;
    cursor c = cursor_of(dw->ranges.p + off, dw->ranges.len - (size_t)off);
    uint64_t base = u->base;
    uint64_t all = u->addr_size == 8 ? UINT64_MAX : 0xffffffff;
    while (!c.bad && !dw->nomem) {
        uint64_t lo = read_le(&c, u->addr_size), hi = read_le(&c, u->addr_size);
        if (c.bad || (lo == 0 && hi == 0))
            break;
        if (lo == all)
            base = hi; /* a base address selection */
        else
            add_range(dw, b, base + lo, base + hi);
    }
}

/* A DWARF 5 range list at off in .debug_rnglists. */
static void ranges_v5(dwarf *dw, const unit *u, uint64_t off, frames *b)
{
    if (off >= dw->rnglists.len)
        return;
    cursor c = cursor_of(dw->rnglists.p + off, dw->rnglists.len - (size_t)off);
    uint64_t base = u->base;
    while (!c.bad && !dw->nomem) {
        uint64_t lo, hi, x, y;
        unsigned kind = (unsigned)read_le(&c, 1);
        switch (kind) {
        case DW_RLE_end_of_list:
            return;
        case DW_RLE_base_addressx:
            if (addr_index(dw, u, read_uleb(&c), &base) != 0)
                return;
            break;
        case DW_RLE_startx_endx:
            x = read_uleb(&c);
            y = read_uleb(&c);
            if (addr_index(dw, u, x, &lo) != 0 || addr_index(dw, u, y, &hi) != 0)
                return;
            add_range(dw, b, lo, hi);
            break;
        case DW_RLE_startx_length:
            x = read_uleb(&c);
            y = read_uleb(&c);
            if (addr_index(dw, u, x, &lo) != 0)
                return;
            add_range(dw, b, lo, lo + y);
            break;
        case DW_RLE_offset_pair:
            x = read_uleb(&c);
            y = read_uleb(&c);
            add_range(dw, b, base + x, base + y);
            break;
        case DW_RLE_base_address:
            base = read_le(&c, u->addr_size);
            break;
        case DW_RLE_start_end:
            lo = read_le(&c, u->addr_size);
            hi = read_le(&c, u->addr_size);
            add_range(dw, b, lo, hi);
            break;
        case DW_RLE_start_length:
            lo = read_le(&c, u->addr_size);
            add_range(dw, b, lo, lo + read_uleb(&c));
            break;
        default:
            return;
        }
    }
}

/* The addresses of the entry d (DW_AT_low_pc and DW_AT_high_pc, or DW_AT_ranges) into
   b's ranges; how many. */
static size_t die_ranges(dwarf *dw, const unit *u, const die *d, frames *b)
{
    size_t first = b->nranges;
    uint64_t lo, hi;
    if (d->low_pc.form && d->high_pc.form) {
        if (attr_address(dw, u, &d->low_pc, &lo) != 0)
            return 0;
        if (is_const(&d->high_pc))
            hi = lo + d->high_pc.val < lo ? UINT64_MAX : lo + d->high_pc.val;
        else if (attr_address(dw, u, &d->high_pc, &hi) != 0)
            return 0;
        add_range(dw, b, lo, hi);
    } else if (d->ranges.form == DW_FORM_rnglistx) {
        if (!u->has_rnglists_base || u->rnglists_base > dw->rnglists.len ||
            d->ranges.val >= (dw->rnglists.len - u->rnglists_base) / u->offsz)
            return 0;
        cursor c =
            cursor_of(dw->rnglists.p + u->rnglists_base + d->ranges.val * u->offsz, u->offsz);
        uint64_t off = read_le(&c, u->offsz);
        if (off <= UINT64_MAX - u->rnglists_base)
            ranges_v5(dw, u, u->rnglists_base + off, b);
    } else if (d->ranges.form == DW_FORM_sec_offset || d->ranges.form == DW_FORM_data4 ||
               d->ranges.form == DW_FORM_data8) {
        if (u->version >= 5)
            ranges_v5(dw, u, d->ranges.val, b);
        else
            ranges_v4(dw, u, d->ranges.val, b);
    }
    return b->nranges - first;
}

/* What the frame base expression of a function is. */
static int frame_kind(const attr *fb)
{
    if (fb->form != DW_FORM_exprloc && fb->form != DW_FORM_block1 && fb->form != DW_FORM_block)
        return FRAME_NONE;
    if (fb->len == 1 && fb->block[0] == DW_OP_call_frame_cfa)
        return FRAME_CFA;
#if defined(__x86_64__)
    if (fb->len == 1 && fb->block[0] == DW_OP_reg6)
        return FRAME_RBP;
#endif
    return FRAME_NONE;
}

/* A location expression that is DW_OP_fbreg(n) alone: 0 and *off, or -1. */
static int frame_offset(const attr *loc, int64_t *off)
{
    if (!loc->block ||
        (loc->form != DW_FORM_exprloc && loc->form != DW_FORM_block &&
         loc->form != DW_FORM_block1 && loc->form != DW_FORM_block2 && loc->form != DW_FORM_block4))
        return -1;
    cursor c = cursor_of(loc->block, loc->len);
    if (read_le(&c, 1) != DW_OP_fbreg)
        return -1;
    *off = (int64_t)read_sleb(&c);
    return c.bad || left(&c) != 0 ? -1 : 0;
}

/* The name of the entry d: its own, else that of the entry it completes or is a concrete
   instance of. */
static const char *die_name(dwarf *dw, unit *u, const die *d)
{
    die e = *d;
    unit *eu = u;
    for (int hop = 0; !e.name.form; hop++)
        if (hop == ORIGIN_HOPS || !is_ref(&e.origin) || die_at(dw, e.origin.val, &eu, &e) != 0)
            return NULL;
    return attr_str(dw, eu, &e.name);
}

/* A new scope for the entry d inside parent (NO_SCOPE: d is a function); its index, or
   NO_SCOPE when it has no addresses. */
static uint32_t open_scope(dwarf *dw, const unit *u, const die *d, uint32_t parent, frames *b)
{
    size_t first = b->nranges;
    size_t n = die_ranges(dw, u, d, b);
    if (n == 0)
        return NO_SCOPE;
    if (b->nscopes >= NO_SCOPE - 1 || b->nranges > UINT32_MAX ||
        grow((void **)&b->scopes, &b->cap_scopes, b->nscopes + 1, sizeof *b->scopes) != 0) {
        dw->nomem = 1; /* or more than 32-bit indexes hold: as bad */
        b->nranges = first;
        return NO_SCOPE;
    }
    uint32_t at = (uint32_t)b->nscopes++;
    fscope *s = &b->scopes[at];
    memset(s, 0, sizeof *s);
    s->parent = parent == NO_SCOPE ? at : parent;
    s->range = (uint32_t)first;
    s->nranges = (uint32_t)n;
    s->local = (uint32_t)b->nlocals;
    s->frame = parent == NO_SCOPE ? frame_kind(&d->frame_base) : FRAME_NONE;
    return at;
}

static void close_scope(frames *b, uint32_t at)
{
    fscope *s = &b->scopes[at];
    s->end = (uint32_t)b->nscopes;
    if (s->parent == at)
        s->nlocals = (uint32_t)(b->nlocals - s->local);
}

/* A variable or parameter of the scope at (of the function func) at a fixed offset from
   the frame base: into b. */
static void add_local(dwarf *dw, unit *u, const die *d, uint32_t at, uint32_t func, frames *b)
{
    int64_t off;
    attr type;
    const memo *m;
    const char *name;
    if (b->scopes[func].frame == FRAME_NONE || frame_offset(&d->location, &off) != 0 ||
        !(name = die_name(dw, u, d)) || die_type(dw, d, &type) != 0 || !(m = type_of(dw, &type)))
        return;
    uint64_t size = m->size, elem = m->elem;
    uint32_t text = m->text, name_at = add_text(dw, name);
    if (name_at == UINT32_MAX || b->nlocals >= UINT32_MAX ||
        grow((void **)&b->locals, &b->cap_locals, b->nlocals + 1, sizeof *b->locals) != 0) {
        dw->nomem = 1;
        return;
    }
    local *l = &b->locals[b->nlocals++];
    l->off = off;
    l->size = size;
    l->elem = elem;
    l->name = name_at;
    l->text = text;
    l->scope = at;
}

/* The functions of the unit with the addresses of their scopes and their locals at fixed
   offsets from the frame base: a walk of the tree of entries, into b. */
static void scan_frames(dwarf *dw, unit *u, frames *b)
{
    if (unit_ready(dw, u) != 0)
        return;
    uint32_t open[SCOPE_DEPTH]; /* for each entry whose children are being read: its scope */
    size_t depth = 0;
    uint32_t cur = NO_SCOPE, func = NO_SCOPE; /* the innermost scope, the function */
    uint64_t off = u->first;
    while (off < u->end && !dw->nomem) {
        die d;
        if (read_die(dw, u, off, &d) != 0)
            break; /* a form or an abbreviation this decoder does not know: the unit ends */
        off = d.next;
        if (d.tag == 0) { /* the end of the children of open[depth - 1] */
            if (depth == 0)
                continue;
            uint32_t s = open[--depth];
            if (s != NO_SCOPE && s != NO_PLACE) {
                close_scope(b, s);
                cur = b->scopes[s].parent == s ? NO_SCOPE : b->scopes[s].parent;
                if (s == func)
                    func = NO_SCOPE;
            }
            continue;
        }
        uint32_t opened = NO_SCOPE, mark = NO_SCOPE;
        int follow = d.children; /* read the children: else skip them */
        if (func == NO_SCOPE) {
            if (d.tag == DW_TAG_subprogram) { /* a function with code, else a declaration or
                                                 an abstract instance: no frames */
                opened = open_scope(dw, u, &d, NO_SCOPE, b);
                follow = follow && opened != NO_SCOPE;
            }
        } else if (d.tag == DW_TAG_lexical_block || d.tag == DW_TAG_inlined_subroutine) {
            opened = open_scope(dw, u, &d, cur, b);
            if (opened == NO_SCOPE)
                mark = NO_PLACE;
        } else {
            if ((d.tag == DW_TAG_variable || d.tag == DW_TAG_formal_parameter) &&
                open[depth - 1] != NO_PLACE)
                add_local(dw, u, &d, cur, func, b);
            follow = 0; /* nested functions, types, call sites */
        }
        if (d.children && (!follow || depth == SCOPE_DEPTH)) {
            if (opened != NO_SCOPE)
                close_scope(b, opened);
            if (die_skip(dw, u, &d, &off) != 0)
                break;
            continue;
        }
        if (!d.children) {
            if (opened != NO_SCOPE)
                close_scope(b, opened);
            continue;
        }
        open[depth++] = opened != NO_SCOPE ? opened : mark;
        if (opened != NO_SCOPE) {
            cur = opened;
            if (func == NO_SCOPE)
                func = opened;
        }
    }
    while (depth > 0) /* a unit that ended early */
        if (open[--depth] != NO_SCOPE && open[depth] != NO_PLACE)
            close_scope(b, open[depth]);
}

static int by_lo_func(const void *x, const void *y)
{
    const funcrange *a = x, *b = y;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return a->scope < b->scope ? -1 : a->scope > b->scope;
}

static void load_locals(object *o)
{
    o->locals_done = 1;
    dwarf dw;
    if (dwarf_open(o, &dw) != 0)
        return;
    frames b;
    memset(&b, 0, sizeof b);
    for (size_t i = 0; i < dw.nunits && !dw.nomem; i++)
        scan_frames(&dw, &dw.units[i], &b);
    size_t n = 0; /* the functions' ranges */
    for (size_t i = 0; i < b.nscopes; i++)
        if (b.scopes[i].parent == i)
            n += b.scopes[i].nranges;
    funcrange *funcs = n && !dw.nomem ? malloc(n * sizeof *funcs) : NULL;
    uint64_t *maxfunc = funcs ? malloc(n * sizeof *maxfunc) : NULL;
    if (!maxfunc) {
        free(funcs);
        free(b.scopes);
        free(b.ranges);
        free(b.locals);
        dwarf_free(&dw);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < b.nscopes; i++) {
        const fscope *s = &b.scopes[i];
        for (uint32_t r = 0; s->parent == i && r < s->nranges; r++, k++) {
            funcs[k].lo = b.ranges[s->range + r].lo;
            funcs[k].hi = b.ranges[s->range + r].hi;
            funcs[k].scope = (uint32_t)i;
        }
    }
    qsort(funcs, n, sizeof *funcs, by_lo_func);
    for (size_t i = 0; i < n; i++)
        maxfunc[i] = i && maxfunc[i - 1] > funcs[i].hi ? maxfunc[i - 1] : funcs[i].hi;
    o->scopes = b.scopes;
    o->nscopes = b.nscopes;
    o->scope_ranges = b.ranges;
    o->funcs = funcs;
    o->maxfunc = maxfunc;
    o->nfuncs = n;
    o->locals = b.locals;
    o->local_text = dw.text; /* kept: the names and texts of the locals are in it */
    dw.text = NULL;
    dwarf_free(&dw);
}

/* The function that holds the link-time address a: its scope, NO_SCOPE. */
static uint32_t function_at(const object *o, uint64_t a)
{
    size_t lo = 0, hi = o->nfuncs; /* the first range that starts above a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->funcs[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0 && o->maxfunc[i] > a;)
        if (a < o->funcs[i].hi)
            return o->funcs[i].scope;
    return NO_SCOPE;
}

static int scope_holds(const object *o, const fscope *s, uint64_t a)
{
    for (uint32_t r = 0; r < s->nranges; r++)
        if (a - o->scope_ranges[s->range + r].lo <
            o->scope_ranges[s->range + r].hi - o->scope_ranges[s->range + r].lo)
            return 1;
    return 0;
}

/* The locals of the function f whose scopes hold a into out (up to max); how many. */
static int list_locals(const object *o, uint32_t f, uint64_t a, uintptr_t cfa, int held,
                       fmp__symlocal *out, int max)
{
    const fscope *fs = &o->scopes[f];
    size_t n = fs->end - f;
    unsigned char *holds = malloc(n);
    if (!holds)
        return -1;
    holds[0] = 1;
    for (size_t i = 1; i < n; i++) {
        const fscope *s = &o->scopes[f + i];
        holds[i] = holds[s->parent - f] && scope_holds(o, s, a);
    }
    uintptr_t base = fs->frame == FRAME_RBP ? cfa - 16 : cfa;
    int count = 0;
    for (uint32_t i = 0; i < fs->nlocals; i++) {
        const local *l = &o->locals[fs->local + i];
        if (holds[l->scope - f] != held)
            continue;
        if (count < max) {
            fmp__symlocal *v = &out[count];
            copy_str(v->name, sizeof v->name, o->local_text + l->name);
            copy_str(v->type, sizeof v->type, o->local_text + l->text);
            v->addr = base + (uintptr_t)l->off;
            v->size = (size_t)l->size;
            v->elem = (size_t)l->elem;
        }
        if (count < INT_MAX)
            count++;
    }
    free(holds);
    return count;
}

static int locals_of(uintptr_t pc, uintptr_t cfa, int held, fmp__symlocal *out, int max)
{
    if (!out || max < 0)
        max = 0;
    enter();
    int rc = -1;
    object *o = object_at(pc);
    if (o) {
        if (!o->locals_done)
            load_locals(o);
        uint32_t f = function_at(o, (uint64_t)(pc - o->bias));
        if (f != NO_SCOPE)
            rc = list_locals(o, f, (uint64_t)(pc - o->bias), cfa, held, out, max);
    }
    leave();
    return rc;
}

int fmp__sym_locals(uintptr_t pc, uintptr_t cfa, fmp__symlocal *out, int max)
{
    return locals_of(pc, cfa, 1, out, max);
}

int fmp__sym_locals_elsewhere(uintptr_t pc, uintptr_t cfa, fmp__symlocal *out, int max)
{
    return locals_of(pc, cfa, 0, out, max);
}

void fmp__sym_reset(void)
{
    enter();
    cache_clear();
    leave();
}
