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
 * names of the files are kept. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "symbols.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
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
    DW_FORM_block2 = 0x03,
    DW_FORM_block4 = 0x04,
    DW_FORM_data2 = 0x05,
    DW_FORM_data4 = 0x06,
    DW_FORM_data8 = 0x07,
    DW_FORM_string = 0x08,
    DW_FORM_block = 0x09,
    DW_FORM_block1 = 0x0a,
    DW_FORM_data1 = 0x0b,
    DW_FORM_sdata = 0x0d,
    DW_FORM_strp = 0x0e,
    DW_FORM_udata = 0x0f,
    DW_FORM_data16 = 0x1e,
    DW_FORM_line_strp = 0x1f,
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
    *str = NULL;
    switch (form) {
    case DW_FORM_string:
        *str = read_str(c);
        break;
    case DW_FORM_line_strp:
        *str = str_at(ss->line_str, ss->line_str_len, read_le(c, (size_t)offsz));
        break;
    case DW_FORM_strp:
        *str = str_at(ss->str, ss->str_len, read_le(c, (size_t)offsz));
        break;
    case DW_FORM_udata:
        read_uleb(c);
        break;
    case DW_FORM_sdata:
        read_sleb(c);
        break;
    case DW_FORM_data1:
        skip(c, 1);
        break;
    case DW_FORM_data2:
        skip(c, 2);
        break;
    case DW_FORM_data4:
        skip(c, 4);
        break;
    case DW_FORM_data8:
        skip(c, 8);
        break;
    case DW_FORM_data16:
        skip(c, 16);
        break;
    case DW_FORM_block:
        skip(c, read_uleb(c));
        break;
    case DW_FORM_block1:
        skip(c, read_le(c, 1));
        break;
    case DW_FORM_block2:
        skip(c, read_le(c, 2));
        break;
    case DW_FORM_block4:
        skip(c, read_le(c, 4));
        break;
    default:
        return -1;
    }
    return c->bad ? -1 : 0;
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

void fmp__sym_reset(void)
{
    enter();
    cache_clear();
    leave();
}
