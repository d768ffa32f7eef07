/*
 * Loading a static Linux executable from /fs into a new process: its
 * segments (checked by lib/elfload, filled straight from the file through
 * our window into our aliases of the process's pages), the heap's start
 * after the last segment, and the stack as Linux's kernel lays it out for
 * _start: argc, argv, envp, the auxiliary vector, then the strings.
 */
#include "personality.h"
#include "elfload.h"
#include "fs.h"
#include "posix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define HEAD_BYTES 4096                 /* the program headers must be in the first page */
#define IMAGE_MIN_PAGES 128             /* read-only segments shared from this size (half a chunk) */
#define ARGS_MAX 256                    /* argv + envp entries */
/* What a process's memory holds besides its program: CNode, tables, stack, heap room. */
#define OVERHEAD_BYTES ((1ull << LPROC_CNODE_BITS) * 64 + (STACK_PAGES + 64) * PAGE)

void random_bytes(void *dst, size_t n);   /* clock.c */

/* The auxiliary vector's keys (Linux's include/uapi/linux/auxvec.h). */
enum { AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8,
       AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16,
       AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_EXECFN = 31, AT_SYSINFO_EHDR = 33 };

static long posix_error(long linux_err)
{
    printf("posix: cannot load the program: errno %ld\n", -linux_err);
    switch (linux_err) {
    case -ENOENT: case -ENOTDIR: return POSIX_E_NOT_FOUND;
    case -ENOMEM: return POSIX_E_TOO_BIG;
    case -ENAMETOOLONG: case -EINVAL: return POSIX_E_INVALID;
    default: return POSIX_E_FS;
    }
}

/* Splits a NUL-separated list into pointers; the count, or -1 if it is malformed. */
static int split(const char *s, uint64_t len, const char **out, int max)
{
    int n = 0;
    if (len && s[len - 1] != 0)
        return -1;
    for (uint64_t at = 0; at < len; at += strlen(s + at) + 1) {
        if (n == max)
            return -1;
        out[n++] = s + at;
    }
    return n;
}

static uint64_t hwcap(void)
{
    uint32_t a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return d;
}

/* Pushes bytes below *sp; returns their address. */
static uint64_t push(struct lproc *p, uint64_t *sp, const void *data, uint64_t len, long *err)
{
    *sp -= len;
    if (!*err)
        *err = mem_write(p, *sp, data, len);
    return *sp;
}

static long build_stack(struct lproc *p, const char *const *argv, int argc, const char *const *envp, int envc,
                        uint64_t phdr, uint64_t phnum, uint64_t entry, uint64_t vdso, uint64_t *sp_out)
{
    /* Static, as the server loads one program at a time: 4 KiB is too much for its stack. */
    static uint64_t argp[ARGS_MAX], envpp[ARGS_MAX];
    uint64_t sp = STACK_TOP;
    long err = 0;
    uint64_t execfn = push(p, &sp, p->exe, strlen(p->exe) + 1, &err);
    for (int i = argc - 1; i >= 0; i--)
        argp[i] = push(p, &sp, argv[i], strlen(argv[i]) + 1, &err);
    for (int i = envc - 1; i >= 0; i--)
        envpp[i] = push(p, &sp, envp[i], strlen(envp[i]) + 1, &err);
    uint64_t platform = push(p, &sp, "x86_64", 7, &err);
    uint8_t rnd[16];
    random_bytes(rnd, sizeof rnd);
    sp &= ~15ull;
    uint64_t random = push(p, &sp, rnd, sizeof rnd, &err);
    /* AT_SYSINFO_EHDR first, as Linux gives it, and left out without a vDSO. */
    const uint64_t all[][2] = {
        { AT_SYSINFO_EHDR, vdso }, { AT_PHDR, phdr }, { AT_PHENT, sizeof(struct elf64_phdr) }, { AT_PHNUM, phnum }, { AT_PAGESZ, PAGE },
        { AT_BASE, 0 }, { AT_FLAGS, 0 }, { AT_ENTRY, entry }, { AT_UID, 0 }, { AT_EUID, 0 }, { AT_GID, 0 },
        { AT_EGID, 0 }, { AT_SECURE, 0 }, { AT_HWCAP, hwcap() }, { AT_CLKTCK, 100 }, { AT_RANDOM, random },
        { AT_PLATFORM, platform }, { AT_EXECFN, execfn }, { AT_NULL, 0 },
    };
    const uint64_t(*auxv)[2] = vdso ? all : all + 1;
    uint64_t nauxv = sizeof all / sizeof all[0] - (vdso ? 0 : 1);
    /* After everything below is pushed sp must be 16-byte aligned at argc. */
    uint64_t words = 1 + (uint64_t)argc + 1 + (uint64_t)envc + 1 + 2 * nauxv;
    sp &= ~15ull;
    if (words & 1)
        sp -= 8;
    push(p, &sp, auxv, nauxv * sizeof auxv[0], &err);
    uint64_t zero = 0;
    push(p, &sp, &zero, 8, &err);
    push(p, &sp, envpp, 8 * (uint64_t)envc, &err);
    push(p, &sp, &zero, 8, &err);
    push(p, &sp, argp, 8 * (uint64_t)argc, &err);
    uint64_t n = (uint64_t)argc;
    push(p, &sp, &n, 8, &err);
    *sp_out = sp;
    return err ? POSIX_E_TOO_BIG : 0;
}

long load_program(struct lproc *p, const char *path, const char *argv, uint64_t argv_len, const char *envp,
                  uint64_t envp_len, uint64_t *entry, uint64_t *sp)
{
    static const char *args[ARGS_MAX], *envs[ARGS_MAX];
    int argc = split(argv, argv_len, args, ARGS_MAX), envc = split(envp, envp_len, envs, ARGS_MAX - 1);
    if (argc < 0 || envc < 0 || argc + envc > ARGS_MAX)
        return POSIX_E_INVALID;
    long err = path_join("/", path, p->exe);
    if (err)
        return POSIX_E_INVALID;
    /* A program measured through the server (make bench's pith.posix_getpid_server) asks for it. */
    bool vdso = true;
    for (int i = 0; i < envc; i++) {
        if (!strcmp(envs[i], "PITH_POSIX_FASTCALLS=off"))
            p->no_fastcalls = true;
        if (!strcmp(envs[i], "PITH_POSIX_VDSO=off"))
            vdso = false;               /* its clocks through the server (pith.posix_clock_gettime_server) */
    }
    p->cmdline_len = (uint16_t)(argv_len < sizeof p->cmdline ? argv_len : sizeof p->cmdline);
    memcpy(p->cmdline, argv, p->cmdline_len);
    uint32_t ino, gen, mode, nlink, uid, gid, atime, mtime, ctime;
    uint64_t size, blocks, got;
    if ((err = fs_lookup(&fs, p->exe, true, &ino, &gen, &mode, &nlink, &uid, &gid, &size, &atime, &mtime, &ctime,
                         &blocks)))
        return posix_error(fs_errno(err));
    if ((mode & 0170000) != 0100000)
        return POSIX_E_NOT_ELF;         /* a directory or device: not an executable file */
    static uint8_t head[HEAD_BYTES];
    if ((err = fsio_read(ino, gen, 0, head, size < HEAD_BYTES ? size : HEAD_BYTES, &got)))
        return posix_error(err);
    if (got < 4 || memcmp(head, "\177ELF", 4))
        return POSIX_E_NOT_ELF;
    struct elf_image img;
    enum elf_error e = elf_parse_head(head, got, size, &img);
    if (e) {
        printf("posix: %s: %s\n", p->exe, elf_strerror(e));
        return e == ELF_E_TRUNCATED ? POSIX_E_NOT_ELF : POSIX_E_NOT_STATIC;
    }
    uint64_t pages = 0, top = 0;
    for (int i = 0; i < img.nsegments; i++) {
        uint64_t first;
        pages += elf_segment_pages(&img.segments[i], &first);
        uint64_t end = img.segments[i].vaddr + img.segments[i].memsz;
        top = end > top ? end : top;
    }
    if (pages * PAGE + OVERHEAD_BYTES > ((uint64_t)chunks_total << CHUNK_BITS)) {
        printf("posix: %s: %lu pages do not fit our %llu MiB\n", p->exe, pages,
               ((unsigned long long)chunks_total << CHUNK_BITS) >> 20);
        return POSIX_E_TOO_BIG;
    }
    /* The read-only segments: from the shared image of this file, loaded now if nobody runs it. */
    uint32_t ro_pages = 0, ro_at = 0;
    for (int i = 0; i < img.nsegments; i++) {
        uint64_t first;
        if (!(img.segments[i].flags & ELF_PF_W))
            ro_pages += (uint32_t)elf_segment_pages(&img.segments[i], &first);
    }
    bool fresh = false;
    if (ro_pages >= IMAGE_MIN_PAGES) {  /* smaller ones are not worth a chunk of their own */
        p->image = image_find(ino, gen, size, mtime);
        if (p->image >= 0)
            image_get(p->image);
        else
            fresh = (p->image = image_new(ino, gen, size, mtime, ro_pages)) >= 0;
    }
    for (int i = 0; i < img.nsegments; i++) {
        const struct elf_segment *s = &img.segments[i];
        uint8_t rights = PITH_RIGHT_READ;
        if (s->flags & ELF_PF_W)
            rights |= PITH_RIGHT_WRITE;
        if (s->flags & ELF_PF_X)
            rights |= PITH_RIGHT_EXEC;
        uint64_t first, n = elf_segment_pages(s, &first);
        struct region *r;
        bool shared = p->image >= 0 && !(s->flags & ELF_PF_W);
        if (shared) {
            err = mem_map_from(p, first, n * PAGE, rights, image_slot(p->image, ro_at), &r);
            ro_at += (uint32_t)n;
        } else {
            err = mem_map_private(p, first, n * PAGE, rights, R_IMAGE, &r);   /* writable: copy-on-write */
        }
        if (err)
            return posix_error(err);
        if (shared && !fresh)
            continue;                   /* its bytes are there already */
        /* The segment's file bytes are contiguous in our alias; the rest of its pages stay zero. */
        if ((err = fsio_read(ino, gen, s->offset, (char *)r->alias + (s->vaddr - first), s->filesz, &got)))
            return posix_error(err);
        if (got < s->filesz)
            return POSIX_E_NOT_ELF;
    }
    if (fresh)
        image_ready(p->image);
    /* Where the program headers are in memory, for AT_PHDR. */
    const struct elf64_ehdr *eh = (const struct elf64_ehdr *)head;
    uint64_t phdr = 0;
    for (int i = 0; i < img.nsegments; i++) {
        const struct elf_segment *s = &img.segments[i];
        if (s->offset <= eh->phoff && eh->phoff < s->offset + s->filesz)
            phdr = s->vaddr + (eh->phoff - s->offset);
    }
    p->brk_start = p->brk = p->brk_mapped = (top + PAGE - 1) & ~(PAGE - 1);
    if ((err = mem_stack(p, STACK_INITIAL, NULL)))
        return posix_error(err);
    uint64_t ehdr = 0;
    if (vdso && (err = vdso_map(p, &ehdr)))
        return posix_error(err);
    *entry = img.entry;
    return build_stack(p, args, argc, envs, envc, phdr, eh->phnum, img.entry, ehdr, sp);
}
