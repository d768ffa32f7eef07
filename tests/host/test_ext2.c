// uses: lib/ext2/cache.c lib/ext2/super.c lib/ext2/bitmap.c lib/ext2/inode.c lib/ext2/file.c lib/ext2/dir.c lib/ext2/ops.c
/*
 * The ext2 library (lib/ext2/) against real images: made by the host's
 * mke2fs (e2fsprogs), used through the library over a host file, then
 * checked by e2fsck -fn, which must find nothing wrong.  Also refusals to
 * mount, corruption found at run time, a seeded fuzz of the metadata,
 * write-back of every dirty block, recovery from write errors, and a
 * power cut after every single write of a workload.
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "../../lib/ext2/ext2.h"
#include "../../lib/ext2/ext2_format.h"

#define PATHS "PATH=/usr/sbin:/sbin:$PATH "

static char tmp[64];
static char cmdbuf[8192];

/* ---- the host side: commands, files, a block device ---- */

extern char **environ;

/* system(), but by posix_spawn: forking this (sanitized) process for every
 * command is slow. */
static int run_sh(const char *cmd)
{
    pid_t pid;
    char *argv[] = { "sh", "-c", (char *)cmd, NULL };
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ))
        return 255;
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return 255;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static int sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(cmdbuf, sizeof(cmdbuf), PATHS);
    vsnprintf(cmdbuf + n, sizeof(cmdbuf) - (size_t)n, fmt, ap);
    va_end(ap);
    return run_sh(cmdbuf);
}

/* A command's first output line, as a number. */
static long sh_num(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(cmdbuf, sizeof(cmdbuf), PATHS);
    vsnprintf(cmdbuf + n, sizeof(cmdbuf) - (size_t)n, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmdbuf, "r");
    long v = -1;
    if (p) {
        if (fscanf(p, "%ld", &v) != 1)
            v = -1;
        pclose(p);
    }
    return v;
}

static void cleanup(void)
{
    if (tmp[0])
        sh("rm -rf %s", tmp);
}

__attribute__((constructor(101))) static void setup(void)
{
    if (sh("command -v mke2fs >/dev/null && command -v e2fsck >/dev/null && command -v debugfs >/dev/null")) {
        printf("test_ext2: e2fsprogs (mke2fs, e2fsck, debugfs) not found; install e2fsprogs\n");
        exit(1);
    }
    strcpy(tmp, "/tmp/pith-ext2-XXXXXX");
    if (!mkdtemp(tmp)) {
        printf("test_ext2: mkdtemp failed\n");
        exit(1);
    }
    atexit(cleanup);
}

static char *tpath(const char *name)
{
    static char b[8][256];
    static int i;
    i = (i + 1) % 8;
    snprintf(b[i], sizeof(b[i]), "%s/%s", tmp, name);
    return b[i];
}

static uint8_t pat(uint64_t i, uint32_t seed)
{
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    return (uint8_t)(x >> 29);
}

static void write_src(const char *path, uint64_t size, uint32_t seed)
{
    FILE *f = fopen(path, "wb");
    static uint8_t buf[65536];
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = pat(off + i, seed);
        fwrite(buf, 1, n, f);
        off += n;
    }
    fclose(f);
}

static int mkfs(const char *img, const char *opts, const char *src, const char *size)
{
    unlink(img);
    return sh("mke2fs -q -F -t ext2 %s %s%s %s %s >/dev/null 2>&1", opts, src ? "-d " : "",
              src ? src : "", img, size);
}

/* e2fsck -fn; its report is printed when it finds anything. */
static int fsck(const char *img)
{
    int rc = sh("e2fsck -fn %s >%s/fsck.log 2>&1", img, tmp);
    if (rc)
        sh("sed 's/^/    /' %s/fsck.log | head -30", tmp);
    return rc;
}

struct hdev {
    int fd;
    uint8_t *mem;                       /* a memory image instead of a file */
    uint64_t size;
    bool fail_writes;
    unsigned writes;
    bool cutting;                       /* counting writes for a power cut */
    unsigned cut, attempts;
    uint8_t *disk;                      /* what survives: the writes up to the cut-th (mem
                                           gets them all, so the run goes on unchanged) */
};

static int h_read(void *ctx, uint64_t sector, uint32_t count, void *buf)
{
    struct hdev *d = ctx;
    if ((sector + count) * 512 > d->size)
        return EXT2_EIO;
    if (d->mem) {
        memcpy(buf, d->mem + sector * 512, count * 512u);
        return 0;
    }
    return pread(d->fd, buf, count * 512u, (off_t)(sector * 512)) == (ssize_t)(count * 512u) ? 0 : EXT2_EIO;
}

static int h_write(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
    struct hdev *d = ctx;
    if (d->fail_writes || (sector + count) * 512 > d->size)
        return EXT2_EIO;
    if (d->cutting && ++d->attempts <= d->cut && d->disk)
        memcpy(d->disk + sector * 512, buf, count * 512u);
    d->writes++;
    if (d->mem) {
        memcpy(d->mem + sector * 512, buf, count * 512u);
        return 0;
    }
    return pwrite(d->fd, buf, count * 512u, (off_t)(sector * 512)) == (ssize_t)(count * 512u) ? 0 : EXT2_EIO;
}

static int h_flush(void *ctx)
{
    struct hdev *d = ctx;
    return d->mem || fsync(d->fd) == 0 ? 0 : EXT2_EIO;
}

static struct ext2_blockdev open_dev(struct hdev *d, const char *img)
{
    memset(d, 0, sizeof(*d));
    d->fd = open(img, O_RDWR);
    struct stat st;
    fstat(d->fd, &st);
    d->size = (uint64_t)st.st_size;
    return (struct ext2_blockdev){ d, h_read, h_write, h_flush, d->size / 512 };
}

static struct ext2_fs fs, fs2;
static uint8_t cache[EXT2_CACHE_BYTES(256)], cache2[EXT2_CACHE_BYTES(64)];
static char why[160];

#define NOW 1700000000u

static int mount_img(struct ext2_fs *f, struct hdev *d, const char *img, size_t cache_blocks)
{
    struct ext2_blockdev dev = open_dev(d, img);
    uint8_t *mem = f == &fs ? cache : cache2;
    int rc = ext2_mount(f, &dev, mem, EXT2_CACHE_BYTES(cache_blocks), 0, NOW, why, sizeof(why));
    if (rc)
        printf("  mount %s: %d (%s)\n", img, rc, why);
    return rc;
}

static int resolve(struct ext2_fs *f, const char *path, uint32_t *ino)
{
    return ext2_resolve(f, path, true, ino);
}

/* Compares a file in the image with pattern (size, seed). */
static bool same_as_pattern(struct ext2_fs *f, const char *path, uint64_t size, uint32_t seed)
{
    uint32_t ino;
    static uint8_t buf[70000];
    if (resolve(f, path, &ino))
        return false;
    struct ext2_stat st;
    if (ext2_stat(f, ino, &st) || st.size != size)
        return false;
    for (uint64_t off = 0; off < size;) {
        size_t want = sizeof(buf) - (off % 1000), done;
        if (ext2_read(f, ino, off, buf, want, &done) || done == 0)
            return false;
        for (size_t i = 0; i < done; i++)
            if (buf[i] != pat(off + i, seed))
                return false;
        off += done;
    }
    size_t done;
    return ext2_read(f, ino, size, buf, 10, &done) == 0 && done == 0;
}

static int mk(uint32_t dir, const char *name, uint32_t *ino)
{
    return ext2_create(&fs, dir, name, strlen(name), 0644, 1000, 100, ino);
}

static int md(uint32_t dir, const char *name, uint32_t *ino)
{
    return ext2_mkdir(&fs, dir, name, strlen(name), 0755, 1000, 100, ino);
}

static int put(uint32_t ino, uint64_t off, uint64_t len, uint32_t seed)
{
    static uint8_t buf[70000];
    for (uint64_t i = 0; i < len;) {
        size_t n = len - i < sizeof(buf) ? (size_t)(len - i) : sizeof(buf), done;
        for (size_t k = 0; k < n; k++)
            buf[k] = pat(off + i + k, seed);
        int rc = ext2_write(&fs, ino, off + i, buf, n, &done);
        if (rc)
            return rc;
        if (done != n)
            return EXT2_ENOSPC;
        i += n;
    }
    return 0;
}

static uint16_t nlink(struct ext2_fs *f, uint32_t ino)
{
    struct ext2_stat st;
    return ext2_stat(f, ino, &st) ? 0xFFFF : st.nlink;
}

/* No block may stay pinned after a call returns, on any error path. */
static bool no_pins(struct ext2_fs *f)
{
    for (uint32_t i = 0; i < f->ncache; i++)
        if (f->cb[i].pins)
            return false;
    return true;
}

/* ---- mounting and reading what mke2fs made ---- */

static void make_src(const char *dir)
{
    sh("rm -rf %s && mkdir -p %s/sub/deeper", dir, dir);
    char p[300];
    snprintf(p, sizeof(p), "%s/small", dir);
    write_src(p, 100, 1);
    snprintf(p, sizeof(p), "%s/sub/medium", dir);
    write_src(p, 300000, 2);
    snprintf(p, sizeof(p), "%s/sub/deeper/empty", dir);
    write_src(p, 0, 3);
    snprintf(p, sizeof(p), "%s/exact", dir);
    write_src(p, 4096, 4);
    sh("ln -s sub/medium %s/link && ln -s /sub/deeper %s/abs", dir, dir);
}

static void check_src_tree(void)
{
    CHECK(same_as_pattern(&fs, "/small", 100, 1));
    CHECK(same_as_pattern(&fs, "/sub/medium", 300000, 2));
    CHECK(same_as_pattern(&fs, "/sub/deeper/empty", 0, 3));
    CHECK(same_as_pattern(&fs, "/exact", 4096, 4));
    CHECK(same_as_pattern(&fs, "/link", 300000, 2));
    CHECK(same_as_pattern(&fs, "/abs/empty", 0, 3));
    CHECK(same_as_pattern(&fs, "//sub/./deeper/../medium", 300000, 2));
}

TEST(ext2_mounts_1k_2k_4k_and_reads_mke2fs_files)
{
    make_src(tpath("src"));
    static const char *bss[] = { "1024", "2048", "4096" };
    for (int i = 0; i < 3; i++) {
        char opts[32];
        snprintf(opts, sizeof(opts), "-b %s", bss[i]);
        const char *img = tpath("a.img");
        CHECK_EQ(mkfs(img, opts, tpath("src"), "8M"), 0);
        struct hdev d;
        CHECK_EQ(mount_img(&fs, &d, img, 64), 0);
        CHECK_EQ(why[0], 0);
        struct ext2_statfs sf;
        CHECK_EQ(ext2_statfs(&fs, &sf), 0);
        CHECK_EQ(sf.block_size, (uint32_t)atoi(bss[i]));
        CHECK_EQ(sf.blocks * sf.block_size, 8u << 20);
        CHECK(sf.free_blocks > 0 && sf.free_blocks < sf.blocks);
        CHECK(!sf.read_only);
        check_src_tree();
        /* not clean on disk while mounted, clean after */
        CHECK_EQ(sh_num("dumpe2fs -h %s 2>/dev/null | grep -c 'state:.*not clean'", img), 1);
        CHECK_EQ(ext2_unmount(&fs), 0);
        CHECK_EQ(sh_num("dumpe2fs -h %s 2>/dev/null | grep -c 'state: *clean$'", img), 1);
        CHECK_EQ(sh_num("dumpe2fs -h %s 2>/dev/null | grep 'Mount count' | sed 's/.*: *//'", img), 1);
        close(d.fd);
        CHECK_EQ(fsck(img), 0);
    }
}

TEST(ext2_large_file_double_indirect_and_sparse_source)
{
    const char *src = tpath("bigsrc");
    sh("rm -rf %s && mkdir -p %s", src, src);
    char p[300];
    snprintf(p, sizeof(p), "%s/big", src);
    write_src(p, 5u << 20, 7);
    /* a sparse source file: data, a 1 MB hole, data */
    snprintf(p, sizeof(p), "%s/sparse", src);
    FILE *f = fopen(p, "wb");
    fwrite("head", 1, 4, f);
    fseek(f, 1 << 20, SEEK_SET);
    fwrite("tail", 1, 4, f);
    fclose(f);
    const char *img = tpath("big.img");
    CHECK_EQ(mkfs(img, "-b 1024", src, "16M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
    CHECK(same_as_pattern(&fs, "/big", 5u << 20, 7));
    uint32_t ino;
    CHECK_EQ(resolve(&fs, "/big", &ino), 0);
    struct ext2_stat st;
    CHECK_EQ(ext2_stat(&fs, ino, &st), 0);
    /* 5120 data blocks, 1 single, 1 double and 19 indirect under it */
    CHECK_EQ(st.blocks, (5120u + 1 + 1 + 19) * 2);
    CHECK_EQ(resolve(&fs, "/sparse", &ino), 0);
    static uint8_t buf[(1 << 20) + 8];
    size_t done;
    CHECK_EQ(ext2_read(&fs, ino, 0, buf, sizeof(buf), &done), 0);
    CHECK_EQ(done, (1 << 20) + 4);
    CHECK(memcmp(buf, "head", 4) == 0 && memcmp(buf + (1 << 20), "tail", 4) == 0);
    for (size_t i = 4; i < (1 << 20); i++)
        CHECK_EQ(buf[i], 0);
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
}

TEST(ext2_rev0_and_inode_sizes)
{
    static const char *opts[] = { "-b 1024 -r 0", "-b 1024 -I 128", "-b 2048 -I 256", "-b 4096 -I 512" };
    for (int i = 0; i < 4; i++) {
        const char *img = tpath("r.img");
        CHECK_EQ(mkfs(img, opts[i], tpath("src"), "4M"), 0);
        struct hdev d;
        CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
        check_src_tree();
        uint32_t dir, f1, f2;
        CHECK_EQ(md(EXT2_ROOT_INO, "newdir", &dir), 0);
        CHECK_EQ(mk(dir, "f", &f1), 0);
        CHECK_EQ(put(f1, 0, 50000, 9), 0);
        CHECK_EQ(mk(EXT2_ROOT_INO, "g", &f2), 0);
        CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, "small", 5), 0);
        CHECK(same_as_pattern(&fs, "/newdir/f", 50000, 9));
        CHECK_EQ(ext2_unmount(&fs), 0);
        close(d.fd);
        CHECK_EQ(fsck(img), 0);
        CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
        CHECK(same_as_pattern(&fs, "/newdir/f", 50000, 9));
        CHECK_EQ(ext2_unmount(&fs), 0);
        close(d.fd);
    }
}

/* ---- writing ---- */

TEST(ext2_write_overwrite_extend_sparse_truncate)
{
    const char *img = tpath("w.img");
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "8M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
    struct ext2_statfs before;
    CHECK_EQ(ext2_statfs(&fs, &before), 0);
    uint32_t ino;
    CHECK_EQ(mk(EXT2_ROOT_INO, "f", &ino), 0);
    CHECK_EQ(put(ino, 0, 1000000, 11), 0);
    CHECK(same_as_pattern(&fs, "/f", 1000000, 11));
    /* overwrite an unaligned middle range with the same pattern, other seed, then back */
    CHECK_EQ(put(ino, 12345, 77777, 12), 0);
    static uint8_t buf[200000];
    size_t done;
    CHECK_EQ(ext2_read(&fs, ino, 12000, buf, 100000, &done), 0);
    CHECK_EQ(done, 100000);
    for (size_t i = 0; i < 100000; i++) {
        uint64_t o = 12000 + i;
        CHECK_EQ(buf[i], (o >= 12345 && o < 12345 + 77777) ? pat(o, 12) : pat(o, 11));
    }
    CHECK_EQ(put(ino, 12345, 77777, 11), 0);
    CHECK(same_as_pattern(&fs, "/f", 1000000, 11));
    /* extend from an unaligned end */
    CHECK_EQ(put(ino, 1000000, 5555, 11), 0);
    CHECK(same_as_pattern(&fs, "/f", 1005555, 11));
    /* a sparse write into triple-indirect range (1K blocks: past 64 MB) */
    uint32_t sp;
    CHECK_EQ(mk(EXT2_ROOT_INO, "sparse", &sp), 0);
    uint64_t far = 100ull << 20;
    CHECK_EQ(ext2_write(&fs, sp, far, "xyz", 3, &done), 0);
    CHECK_EQ(done, 3);
    struct ext2_stat st;
    CHECK_EQ(ext2_stat(&fs, sp, &st), 0);
    CHECK_EQ(st.size, far + 3);
    CHECK_EQ(st.blocks, 4u * 2);       /* data, triple, double, single */
    CHECK_EQ(ext2_read(&fs, sp, far - 10, buf, 100, &done), 0);
    CHECK_EQ(done, 13);
    CHECK(memcmp(buf + 10, "xyz", 3) == 0);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(buf[i], 0);
    CHECK_EQ(ext2_read(&fs, sp, 5000, buf, 100, &done), 0);
    CHECK_EQ(done, 100);
    CHECK_EQ(buf[0] | buf[99], 0);
    CHECK_EQ(ext2_sync(&fs), 0);
    CHECK_EQ(fsck(img), 0);
    /* truncate: shrink mid-block, grow again: the tail reads as zeros */
    CHECK_EQ(ext2_truncate(&fs, ino, 3000), 0);
    CHECK_EQ(ext2_truncate(&fs, ino, 300000), 0);
    CHECK_EQ(ext2_read(&fs, ino, 0, buf, 200000, &done), 0);
    CHECK_EQ(done, 200000);
    for (size_t i = 0; i < 3000; i++)
        CHECK_EQ(buf[i], pat(i, 11));
    for (size_t i = 3000; i < 200000; i++)
        CHECK_EQ(buf[i], 0);
    CHECK_EQ(ext2_stat(&fs, ino, &st), 0);
    CHECK_EQ(st.size, 300000);
    CHECK_EQ(st.blocks, 3 * 2);        /* the grown part is a hole */
    CHECK_EQ(ext2_truncate(&fs, sp, 70ull << 20), 0);
    CHECK_EQ(ext2_stat(&fs, sp, &st), 0);
    CHECK_EQ(st.blocks, 0);
    CHECK_EQ(ext2_truncate(&fs, sp, 0), 0);
    CHECK_EQ(ext2_sync(&fs), 0);
    CHECK_EQ(fsck(img), 0);
    /* errors */
    CHECK_EQ(ext2_write(&fs, EXT2_ROOT_INO, 0, "x", 1, &done), EXT2_EISDIR);
    CHECK_EQ(ext2_truncate(&fs, EXT2_ROOT_INO, 0), EXT2_EISDIR);
    CHECK_EQ(ext2_write(&fs, ino, 1ull << 45, "x", 1, &done), EXT2_EFBIG);
    CHECK_EQ(ext2_read(&fs, 0, 0, buf, 1, &done), EXT2_EINVAL);
    CHECK_EQ(ext2_read(&fs, 1u << 30, 0, buf, 1, &done), EXT2_EINVAL);
    /* everything back: free counts as before */
    CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, "f", 1), 0);
    CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, "sparse", 6), 0);
    struct ext2_statfs after;
    CHECK_EQ(ext2_statfs(&fs, &after), 0);
    CHECK_EQ(after.free_blocks, before.free_blocks);
    CHECK_EQ(after.free_inodes, before.free_inodes);
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}

TEST(ext2_flex_bg_and_xattr_blocks)
{
    /* flex_bg: group metadata packed at the front, allocation across groups */
    const char *img = tpath("fx.img");
    CHECK_EQ(mkfs(img, "-b 1024 -O flex_bg", tpath("src"), "20M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 64), 0);
    check_src_tree();
    uint32_t ino;
    CHECK_EQ(mk(EXT2_ROOT_INO, "spans", &ino), 0);
    CHECK_EQ(put(ino, 0, 12u << 20, 21), 0);          /* more than a group */
    CHECK(same_as_pattern(&fs, "/spans", 12u << 20, 21));
    CHECK_EQ(ext2_truncate(&fs, ino, 5000), 0);
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
    /* an extended-attribute block goes with the last link of its file */
    CHECK_EQ(mkfs(img, "-b 1024", tpath("src"), "4M"), 0);
    FILE *f = fopen(tpath("val"), "wb");
    for (int i = 0; i < 600; i++)
        fputc('v', f);
    fclose(f);
    CHECK_EQ(sh("debugfs -w -R 'ea_set -f %s /small user.big' %s >/dev/null 2>&1", tpath("val"), img), 0);
    CHECK(sh_num("debugfs -R 'stat /small' %s 2>/dev/null | grep -o 'File ACL: [0-9]*' | cut -d' ' -f3", img) > 0);
    CHECK_EQ(mount_img(&fs, &d, img, 64), 0);
    struct ext2_statfs before, after;
    CHECK_EQ(ext2_statfs(&fs, &before), 0);
    CHECK_EQ(resolve(&fs, "/small", &ino), 0);
    struct ext2_stat st;
    CHECK_EQ(ext2_stat(&fs, ino, &st), 0);
    CHECK_EQ(st.blocks, 4);                           /* data and attributes */
    CHECK(same_as_pattern(&fs, "/small", 100, 1));
    CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, "small", 5), 0);
    CHECK_EQ(ext2_statfs(&fs, &after), 0);
    CHECK_EQ(after.free_blocks, before.free_blocks + 2);
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}

/* ---- names ---- */

TEST(ext2_create_mkdir_unlink_rmdir_link)
{
    const char *img = tpath("n.img");
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "4M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
    uint32_t a, b, f, x;
    CHECK_EQ(md(EXT2_ROOT_INO, "a", &a), 0);
    CHECK_EQ(md(a, "b", &b), 0);
    CHECK_EQ(nlink(&fs, a), 3);
    CHECK_EQ(nlink(&fs, b), 2);
    CHECK_EQ(md(EXT2_ROOT_INO, "a", &x), EXT2_EEXIST);
    CHECK_EQ(mk(a, "b", &x), EXT2_EEXIST);
    CHECK_EQ(mk(a, ".", &x), EXT2_EEXIST);
    CHECK_EQ(mk(a, "x/y", &x), EXT2_EINVAL);
    char longname[300];
    memset(longname, 'n', sizeof(longname));
    CHECK_EQ(ext2_create(&fs, a, longname, 256, 0644, 0, 0, &x), EXT2_ENAMETOOLONG);
    CHECK_EQ(ext2_create(&fs, a, longname, 255, 0644, 0, 0, &x), 0);
    CHECK_EQ(ext2_lookup(&fs, a, longname, 255, &f), 0);
    CHECK_EQ(f, x);
    CHECK_EQ(mk(b, "file", &f), 0);
    CHECK_EQ(mk(f, "sub", &x), EXT2_ENOTDIR);
    uint32_t r;
    CHECK_EQ(resolve(&fs, "/a/b/file", &r), 0);
    CHECK_EQ(r, f);
    CHECK_EQ(resolve(&fs, "/a/b/file/", &r), EXT2_ENOTDIR);
    CHECK_EQ(resolve(&fs, "/a/b/file/x", &r), EXT2_ENOTDIR);
    CHECK_EQ(resolve(&fs, "/a/nope", &r), EXT2_ENOENT);
    CHECK_EQ(resolve(&fs, "a", &r), EXT2_EINVAL);
    CHECK_EQ(resolve(&fs, "/a/b/..", &r), 0);
    CHECK_EQ(r, a);
    CHECK_EQ(resolve(&fs, "/..", &r), 0);
    CHECK_EQ(r, EXT2_ROOT_INO);
    const char *name;
    size_t len;
    CHECK_EQ(ext2_resolve_parent(&fs, "/a/b/newname//", &r, &name, &len), 0);
    CHECK_EQ(r, b);
    CHECK(len == 7 && memcmp(name, "newname", 7) == 0);
    CHECK_EQ(ext2_resolve_parent(&fs, "/", &r, &name, &len), EXT2_EINVAL);
    struct ext2_stat st;
    CHECK_EQ(ext2_stat(&fs, f, &st), 0);
    CHECK_EQ(st.mode, EXT2_S_IFREG | 0644);
    CHECK(st.uid == 1000 && st.gid == 100 && st.mtime == NOW && st.nlink == 1);
    /* hard links */
    CHECK_EQ(ext2_link(&fs, f, EXT2_ROOT_INO, "hard", 4), 0);
    CHECK_EQ(nlink(&fs, f), 2);
    CHECK_EQ(ext2_link(&fs, a, EXT2_ROOT_INO, "dirlink", 7), EXT2_EPERM);
    CHECK_EQ(ext2_unlink(&fs, b, "file", 4), 0);
    CHECK_EQ(nlink(&fs, f), 1);
    CHECK_EQ(resolve(&fs, "/hard", &r), 0);
    /* unlink and rmdir errors */
    CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, "a", 1), EXT2_EISDIR);
    CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, "zz", 2), EXT2_ENOENT);
    CHECK_EQ(ext2_rmdir(&fs, EXT2_ROOT_INO, "hard", 4), EXT2_ENOTDIR);
    CHECK_EQ(ext2_rmdir(&fs, EXT2_ROOT_INO, "a", 1), EXT2_ENOTEMPTY);
    CHECK_EQ(ext2_rmdir(&fs, a, ".", 1), EXT2_EINVAL);
    CHECK_EQ(ext2_rmdir(&fs, a, "..", 2), EXT2_ENOTEMPTY);
    CHECK_EQ(ext2_rmdir(&fs, a, "b", 1), 0);
    CHECK_EQ(nlink(&fs, a), 2);
    CHECK_EQ(ext2_stat(&fs, b, &st), EXT2_ENOENT);
    CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, "hard", 4), 0);
    CHECK_EQ(ext2_stat(&fs, f, &st), EXT2_ENOENT);
    /* attributes */
    ext2_set_time(&fs, NOW + 50);
    CHECK_EQ(ext2_chmod(&fs, a, 07700), 0);
    CHECK_EQ(ext2_chown(&fs, a, 70000, 5), 0);
    CHECK_EQ(ext2_utimes(&fs, a, 11, 22), 0);
    CHECK_EQ(ext2_stat(&fs, a, &st), 0);
    CHECK_EQ(st.mode, EXT2_S_IFDIR | 07700);
    CHECK(st.uid == 70000 && st.gid == 5 && st.atime == 11 && st.mtime == 22 && st.ctime == NOW + 50);
    CHECK_EQ(ext2_sync(&fs), 0);
    CHECK_EQ(fsck(img), 0);
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}

/* A FIFO: an inode of its own type with no blocks, named as one; e2fsck agrees. */
TEST(ext2_create_fifo)
{
    const char *img = tpath("fifo.img");
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "4M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
    uint32_t f, x;
    CHECK_EQ(ext2_create(&fs, EXT2_ROOT_INO, "pipe", 4, EXT2_S_IFIFO | 0640, 0, 0, &f), 0);
    CHECK_EQ(ext2_create(&fs, EXT2_ROOT_INO, "pipe", 4, EXT2_S_IFIFO | 0640, 0, 0, &x), EXT2_EEXIST);
    struct ext2_stat st;
    CHECK_EQ(ext2_stat(&fs, f, &st), 0);
    CHECK_EQ(st.mode, EXT2_S_IFIFO | 0640);
    CHECK(st.size == 0 && st.nlink == 1);
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}

TEST(ext2_rename_all_cases)
{
    const char *img = tpath("rn.img");
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "4M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
    uint32_t a, b, c, f, g, e, r;
    CHECK_EQ(md(EXT2_ROOT_INO, "a", &a), 0);
    CHECK_EQ(md(EXT2_ROOT_INO, "b", &b), 0);
    CHECK_EQ(md(a, "c", &c), 0);
    CHECK_EQ(mk(a, "f", &f), 0);
    CHECK_EQ(mk(b, "g", &g), 0);
    CHECK_EQ(md(b, "e", &e), 0);
    /* a file, same directory */
    CHECK_EQ(ext2_rename(&fs, a, "f", 1, a, "f2", 2), 0);
    CHECK_EQ(ext2_lookup(&fs, a, "f", 1, &r), EXT2_ENOENT);
    CHECK_EQ(ext2_lookup(&fs, a, "f2", 2, &r), 0);
    CHECK_EQ(r, f);
    /* a file across directories, replacing a file (which is freed) */
    CHECK_EQ(ext2_rename(&fs, a, "f2", 2, b, "g", 1), 0);
    CHECK_EQ(ext2_lookup(&fs, b, "g", 1, &r), 0);
    CHECK_EQ(r, f);
    struct ext2_stat st;
    CHECK_EQ(ext2_stat(&fs, g, &st), EXT2_ENOENT);
    /* file over directory and directory over file */
    CHECK_EQ(ext2_rename(&fs, b, "g", 1, b, "e", 1), EXT2_EISDIR);
    CHECK_EQ(ext2_rename(&fs, b, "e", 1, b, "g", 1), EXT2_ENOTDIR);
    /* a directory across directories: '..' and link counts follow */
    CHECK_EQ(ext2_rename(&fs, a, "c", 1, b, "c", 1), 0);
    CHECK_EQ(ext2_lookup(&fs, c, "..", 2, &r), 0);
    CHECK_EQ(r, b);
    CHECK_EQ(nlink(&fs, a), 2);
    CHECK_EQ(nlink(&fs, b), 4);
    /* into its own subtree, or onto itself */
    CHECK_EQ(ext2_rename(&fs, EXT2_ROOT_INO, "b", 1, c, "b", 1), EXT2_EINVAL);
    CHECK_EQ(ext2_rename(&fs, EXT2_ROOT_INO, "b", 1, b, "x", 1), EXT2_EINVAL);
    CHECK_EQ(ext2_rename(&fs, b, ".", 1, a, "x", 1), EXT2_EINVAL);
    CHECK_EQ(ext2_rename(&fs, b, "nope", 4, a, "x", 1), EXT2_ENOENT);
    /* a directory replacing an empty directory, across directories */
    uint32_t t;
    CHECK_EQ(md(a, "target", &t), 0);
    CHECK_EQ(nlink(&fs, a), 3);
    CHECK_EQ(ext2_rename(&fs, b, "e", 1, a, "target", 6), 0);
    CHECK_EQ(ext2_stat(&fs, t, &st), EXT2_ENOENT);
    CHECK_EQ(nlink(&fs, a), 3);
    CHECK_EQ(nlink(&fs, b), 3);
    CHECK_EQ(ext2_lookup(&fs, e, "..", 2, &r), 0);
    CHECK_EQ(r, a);
    /* replacing a non-empty directory */
    uint32_t x;
    CHECK_EQ(mk(c, "inside", &x), 0);
    CHECK_EQ(ext2_rename(&fs, a, "target", 6, b, "c", 1), EXT2_ENOTEMPTY);
    /* a directory replacing an empty one in the same directory */
    uint32_t y;
    CHECK_EQ(md(a, "empty", &y), 0);
    CHECK_EQ(nlink(&fs, a), 4);
    CHECK_EQ(ext2_rename(&fs, a, "target", 6, a, "empty", 5), 0);
    CHECK_EQ(nlink(&fs, a), 3);
    CHECK_EQ(ext2_lookup(&fs, a, "empty", 5, &r), 0);
    CHECK_EQ(r, e);
    /* two names of one file: nothing happens */
    CHECK_EQ(ext2_link(&fs, x, c, "alias", 5), 0);
    CHECK_EQ(ext2_rename(&fs, c, "inside", 6, c, "alias", 5), 0);
    CHECK_EQ(nlink(&fs, x), 2);
    CHECK_EQ(ext2_sync(&fs), 0);
    CHECK_EQ(fsck(img), 0);
    CHECK(no_pins(&fs));
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}

TEST(ext2_symlinks_fast_slow_loops)
{
    const char *img = tpath("s.img");
    CHECK_EQ(mkfs(img, "-b 1024", tpath("src"), "4M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
    uint32_t dir, l1, l2, r;
    CHECK_EQ(md(EXT2_ROOT_INO, "d", &dir), 0);
    CHECK_EQ(ext2_symlink(&fs, dir, "fast", 4, "../sub/medium", 13, 0, 0, &l1), 0);
    char slow[300];
    memset(slow, 0, sizeof(slow));
    strcpy(slow, "/");
    for (int i = 0; i < 40; i++)
        strcat(slow, "./");
    strcat(slow, "sub/deeper");     /* 91 bytes: slow */
    size_t sl = strlen(slow);
    CHECK(sl >= 60);
    CHECK_EQ(ext2_symlink(&fs, dir, "slow", 4, slow, sl, 0, 0, &l2), 0);
    struct ext2_stat st;
    CHECK_EQ(ext2_stat(&fs, l1, &st), 0);
    CHECK_EQ(st.blocks, 0);
    CHECK_EQ(st.mode, EXT2_S_IFLNK | 0777);
    CHECK_EQ(ext2_stat(&fs, l2, &st), 0);
    CHECK_EQ(st.blocks, 2);
    char buf[400];
    size_t n;
    CHECK_EQ(ext2_readlink(&fs, l1, buf, sizeof(buf), &n), 0);
    CHECK(n == 13 && memcmp(buf, "../sub/medium", 13) == 0);
    CHECK_EQ(ext2_readlink(&fs, l2, buf, sizeof(buf), &n), 0);
    CHECK(n == sl && memcmp(buf, slow, sl) == 0);
    CHECK_EQ(ext2_readlink(&fs, dir, buf, sizeof(buf), &n), EXT2_EINVAL);
    CHECK(same_as_pattern(&fs, "/d/fast", 300000, 2));
    CHECK(same_as_pattern(&fs, "/d/slow/empty", 0, 3));
    CHECK_EQ(ext2_resolve(&fs, "/d/fast", false, &r), 0);
    CHECK_EQ(r, l1);
    CHECK_EQ(ext2_resolve(&fs, "/d/slow/", false, &r), 0);   /* a trailing slash follows */
    CHECK(r != l2);
    /* loops: a -> b -> a, and a chain of 9 */
    CHECK_EQ(ext2_symlink(&fs, dir, "la", 2, "lb", 2, 0, 0, &r), 0);
    CHECK_EQ(ext2_symlink(&fs, dir, "lb", 2, "la", 2, 0, 0, &r), 0);
    CHECK_EQ(resolve(&fs, "/d/la", &r), EXT2_ELOOP);
    char name[16], target[16];
    for (int i = 0; i < 9; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        snprintf(target, sizeof(target), i == 8 ? "/small" : "c%d", i + 1);
        CHECK_EQ(ext2_symlink(&fs, dir, name, strlen(name), target, strlen(target), 0, 0, &r), 0);
    }
    CHECK_EQ(resolve(&fs, "/d/c1", &r), 0);      /* 8 hops */
    CHECK_EQ(resolve(&fs, "/d/c0", &r), EXT2_ELOOP);
    CHECK_EQ(ext2_symlink(&fs, dir, "e", 1, "", 0, 0, 0, &r), EXT2_ENOENT);
    CHECK_EQ(ext2_symlink(&fs, dir, "e", 1, buf, 1024, 0, 0, &r), EXT2_ENAMETOOLONG);
    /* removing both kinds frees what they held */
    CHECK_EQ(ext2_unlink(&fs, dir, "fast", 4), 0);
    CHECK_EQ(ext2_unlink(&fs, dir, "slow", 4), 0);
    /* a path longer than 4096 */
    static char lp[5000];
    memset(lp, '/', sizeof(lp) - 1);
    CHECK_EQ(resolve(&fs, lp, &r), EXT2_ENAMETOOLONG);
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}

/* ---- directories with many entries, indexed by e2fsck -D ---- */

static int count_entries(struct ext2_fs *f, uint32_t dir, int *dots)
{
    uint64_t cookie = 0;
    struct ext2_dirent de;
    int n = 0;
    *dots = 0;
    for (int guard = 0; guard < 100000; guard++) {
        int rc = ext2_readdir(f, dir, &cookie, &de);
        if (rc)
            return rc;
        if (de.ino == 0)
            return n;
        if (strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
            (*dots)++;
        else
            n++;
    }
    return -1;
}

TEST(ext2_readdir_500_entries_htree)
{
    const char *src = tpath("many");
    sh("rm -rf %s && mkdir -p %s/big", src, src);
    char p[300];
    for (int i = 0; i < 500; i++) {
        snprintf(p, sizeof(p), "%s/big/file-with-a-longish-name-%04d", src, i);
        write_src(p, (uint64_t)i, (uint32_t)i);
    }
    const char *img = tpath("m.img");
    CHECK_EQ(mkfs(img, "-b 1024", src, "8M"), 0);
    /* e2fsck -D builds the htree index */
    CHECK(sh("e2fsck -fyD %s >/dev/null 2>&1", img) <= 1);
    CHECK_EQ(sh_num("debugfs -R 'stat /big' %s 2>/dev/null | grep -c 'Flags: 0x1000'", img), 1);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
    uint32_t big, r;
    CHECK_EQ(resolve(&fs, "/big", &big), 0);
    struct ext2_stat st;
    CHECK_EQ(ext2_stat(&fs, big, &st), 0);
    CHECK(st.size > 10 * 1024);
    int dots;
    CHECK_EQ(count_entries(&fs, big, &dots), 500);
    CHECK_EQ(dots, 2);
    /* every name found by lookup, contents right */
    for (int i = 0; i < 500; i += 7) {
        snprintf(p, sizeof(p), "/big/file-with-a-longish-name-%04d", i);
        CHECK(same_as_pattern(&fs, p, (uint64_t)i, (uint32_t)i));
    }
    /* change it: the index flag goes, e2fsck stays happy */
    CHECK_EQ(mk(big, "a-new-one", &r), 0);
    for (int i = 0; i < 500; i += 2) {
        snprintf(p, sizeof(p), "file-with-a-longish-name-%04d", i);
        CHECK_EQ(ext2_unlink(&fs, big, p, strlen(p)), 0);
    }
    CHECK_EQ(count_entries(&fs, big, &dots), 251);
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
    CHECK_EQ(sh_num("debugfs -R 'stat /big' %s 2>/dev/null | grep -c 'Flags: 0x1000'", img), 0);
    /* and many entries made by the library itself, spanning blocks */
    CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
    uint32_t nd;
    CHECK_EQ(md(EXT2_ROOT_INO, "made", &nd), 0);
    for (int i = 0; i < 500; i++) {
        snprintf(p, sizeof(p), "entry-%d", i);
        CHECK_EQ(mk(nd, p, &r), 0);
    }
    CHECK_EQ(count_entries(&fs, nd, &dots), 500);
    CHECK_EQ(ext2_stat(&fs, nd, &st), 0);
    CHECK(st.size >= 8 * 1024);
    CHECK_EQ(ext2_rmdir(&fs, EXT2_ROOT_INO, "made", 4), EXT2_ENOTEMPTY);
    for (int i = 0; i < 500; i++) {
        snprintf(p, sizeof(p), "entry-%d", i);
        CHECK_EQ(ext2_unlink(&fs, nd, p, strlen(p)), 0);
    }
    CHECK_EQ(count_entries(&fs, nd, &dots), 0);
    CHECK_EQ(ext2_rmdir(&fs, EXT2_ROOT_INO, "made", 4), 0);
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}

TEST(ext2_times_and_readdir_while_removing)
{
    const char *img = tpath("t.img");
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "4M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
    uint32_t dir, f;
    struct ext2_stat st;
    CHECK_EQ(md(EXT2_ROOT_INO, "d", &dir), 0);
    ext2_set_time(&fs, NOW + 100);
    CHECK_EQ(mk(dir, "f", &f), 0);
    CHECK_EQ(ext2_stat(&fs, dir, &st), 0);
    CHECK(st.mtime == NOW + 100 && st.ctime == NOW + 100);
    ext2_set_time(&fs, NOW + 200);
    CHECK_EQ(put(f, 0, 10, 1), 0);
    CHECK_EQ(ext2_stat(&fs, f, &st), 0);
    CHECK(st.mtime == NOW + 200 && st.ctime == NOW + 200 && st.atime == NOW + 100);
    char buf[10];
    size_t done;
    ext2_set_time(&fs, NOW + 300);
    CHECK_EQ(ext2_read(&fs, f, 0, buf, 10, &done), 0);
    CHECK_EQ(ext2_stat(&fs, f, &st), 0);
    CHECK_EQ(st.atime, NOW + 100);                    /* reads write nothing */
    CHECK_EQ(ext2_truncate(&fs, f, 5), 0);
    CHECK_EQ(ext2_stat(&fs, f, &st), 0);
    CHECK_EQ(st.mtime, NOW + 300);
    /* removing each entry as readdir returns it: every other one is
     * still returned exactly once */
    char name[32];
    uint32_t r;
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        CHECK_EQ(mk(dir, name, &r), 0);
    }
    static int seen[200];
    uint64_t cookie = 0;
    struct ext2_dirent de;
    int count = 0;
    for (int guard = 0; guard < 1000; guard++) {
        CHECK_EQ(ext2_readdir(&fs, dir, &cookie, &de), 0);
        if (de.ino == 0)
            break;
        if (de.name[0] != 'n')
            continue;
        int i = atoi(de.name + 1);
        CHECK(i >= 0 && i < 200);
        seen[i]++;
        count++;
        if (i % 2 == 0)
            CHECK_EQ(ext2_unlink(&fs, dir, de.name, de.name_len), 0);
    }
    CHECK_EQ(count, 200);
    for (int i = 0; i < 200; i++)
        CHECK_EQ(seen[i], 1);
    CHECK(no_pins(&fs));
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}

/* ---- running out of space ---- */

TEST(ext2_enospc_blocks_and_inodes)
{
    const char *img = tpath("full.img");
    CHECK_EQ(mkfs(img, "-b 1024 -N 64", NULL, "1M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 16), 0);
    struct ext2_statfs before, full, after;
    CHECK_EQ(ext2_statfs(&fs, &before), 0);
    uint32_t f;
    char name[16];
    int files = 0, rc = 0;
    /* fill: files of 100 KB until a write stops short */
    static uint8_t buf[100 * 1024];
    memset(buf, 0xA5, sizeof(buf));
    for (; files < 100; files++) {
        snprintf(name, sizeof(name), "f%d", files);
        CHECK_EQ(mk(EXT2_ROOT_INO, name, &f), 0);
        size_t done;
        rc = ext2_write(&fs, f, 0, buf, sizeof(buf), &done);
        if (rc || done < sizeof(buf))
            break;
    }
    CHECK(files < 100);
    size_t done;
    CHECK_EQ(ext2_write(&fs, f, 1u << 20, buf, 4096, &done), EXT2_ENOSPC);
    CHECK_EQ(ext2_statfs(&fs, &full), 0);
    CHECK_EQ(full.free_blocks, 0);
    CHECK_EQ(ext2_sync(&fs), 0);
    CHECK_EQ(fsck(img), 0);
    /* inodes: empty files until ENOSPC */
    int empties = 0;
    for (; empties < 100; empties++) {
        snprintf(name, sizeof(name), "e%d", empties);
        rc = mk(EXT2_ROOT_INO, name, &f);
        if (rc)
            break;
    }
    /* a new name may need a directory block too: either runs out */
    CHECK_EQ(rc, EXT2_ENOSPC);
    CHECK_EQ(ext2_sync(&fs), 0);
    CHECK_EQ(fsck(img), 0);
    for (int i = 0; i <= files; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, name, strlen(name)), 0);
    }
    for (int i = 0; i < empties; i++) {
        snprintf(name, sizeof(name), "e%d", i);
        CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, name, strlen(name)), 0);
    }
    CHECK_EQ(ext2_statfs(&fs, &after), 0);
    CHECK_EQ(after.free_inodes, before.free_inodes);
    /* the root directory may keep the blocks it grew by */
    uint32_t rootblocks;
    struct ext2_stat st;
    CHECK_EQ(ext2_stat(&fs, EXT2_ROOT_INO, &st), 0);
    rootblocks = (uint32_t)(st.blocks / 2);
    CHECK_EQ(after.free_blocks + rootblocks - 1, before.free_blocks);
    CHECK(no_pins(&fs));
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}

/* ---- refusals ---- */

static void patch(const char *img, long off, const void *bytes, size_t n)
{
    int fd = open(img, O_RDWR);
    if (pwrite(fd, bytes, n, off) != (ssize_t)n)
        printf("  patch failed\n");
    close(fd);
}

static uint32_t peek32(const char *img, long off)
{
    uint32_t v = 0;
    int fd = open(img, O_RDONLY);
    if (pread(fd, &v, 4, off) != 4)
        v = 0xDEADBEEF;
    close(fd);
    return v;
}

static int try_mount(const char *img)
{
    struct hdev d;
    struct ext2_blockdev dev = open_dev(&d, img);
    int rc = ext2_mount(&fs, &dev, cache, EXT2_CACHE_BYTES(32), 0, NOW, why, sizeof(why));
    if (rc == 0)
        ext2_unmount(&fs);
    close(d.fd);
    return rc;
}

#define SBO(field) (1024 + (long)offsetof(struct ext2_super, field))

TEST(ext2_refuses_bad_images)
{
    const char *img = tpath("bad.img");
    uint32_t v;
    /* zeroed superblock */
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "2M"), 0);
    static uint8_t zero[1024];
    patch(img, 1024, zero, 1024);
    CHECK(try_mount(img) < 0 && strstr(why, "magic"));
    /* truncated device */
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "2M"), 0);
    CHECK_EQ(truncate(img, 1 << 20), 0);
    CHECK(try_mount(img) < 0 && strstr(why, "truncated"));
    /* incompatible features: extents made by mke2fs, others patched */
    CHECK_EQ(mkfs(img, "-b 1024 -O extent", NULL, "2M"), 0);
    CHECK(try_mount(img) < 0 && strstr(why, "extents"));
    static const struct { uint32_t bit; const char *word; } feats[] = {
        { EXT2_FEATURE_INCOMPAT_RECOVER, "recovery" }, { EXT2_FEATURE_INCOMPAT_64BIT, "64bit" },
        { EXT2_FEATURE_INCOMPAT_META_BG, "meta_bg" }, { 0x8000, "incompatible" },
    };
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(mkfs(img, "-b 1024", NULL, "2M"), 0);
        v = peek32(img, SBO(s_feature_incompat)) | feats[i].bit;
        patch(img, SBO(s_feature_incompat), &v, 4);
        CHECK(try_mount(img) < 0 && strstr(why, feats[i].word));
    }
    /* bad block size, first data block, group counts */
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "2M"), 0);
    v = 9;
    patch(img, SBO(s_log_block_size), &v, 4);
    CHECK(try_mount(img) < 0 && strstr(why, "block size"));
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "2M"), 0);
    v = 0;
    patch(img, SBO(s_first_data_block), &v, 4);
    CHECK(try_mount(img) < 0 && strstr(why, "first_data_block"));
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "2M"), 0);
    v = peek32(img, SBO(s_inodes_count)) + 8;
    patch(img, SBO(s_inodes_count), &v, 4);
    CHECK(try_mount(img) < 0 && strstr(why, "group count"));
    /* garbage in the group descriptors */
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "2M"), 0);
    static uint8_t junk[64];
    memset(junk, 0xFF, sizeof(junk));
    patch(img, 2048, junk, sizeof(junk));
    CHECK(try_mount(img) < 0 && strstr(why, "group descriptor"));
    /* a descriptor pointing into another group */
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "2M"), 0);
    v = peek32(img, 2048 + 32 + 8);                /* group 1's inode table */
    patch(img, 2048 + 8, &v, 4);                   /* as group 0's */
    CHECK(try_mount(img) < 0 && strstr(why, "group descriptor"));
    /* a tiny cache */
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "2M"), 0);
    struct hdev d;
    struct ext2_blockdev dev = open_dev(&d, img);
    CHECK_EQ(ext2_mount(&fs, &dev, cache, 4096, 0, NOW, why, sizeof(why)), EXT2_EINVAL);
    CHECK(strstr(why, "cache"));
    close(d.fd);
    /* unknown read-only features: read-only mount */
    v = peek32(img, SBO(s_feature_ro_compat)) | 0x4000;
    patch(img, SBO(s_feature_ro_compat), &v, 4);
    CHECK_EQ(mount_img(&fs, &d, img, 32), 0);
    CHECK(strstr(why, "read-only"));
    uint32_t ino;
    CHECK_EQ(mk(EXT2_ROOT_INO, "x", &ino), EXT2_EROFS);
    CHECK_EQ(ext2_chmod(&fs, EXT2_ROOT_INO, 0700), EXT2_EROFS);
    CHECK_EQ(resolve(&fs, "/lost+found", &ino), 0);
    CHECK(no_pins(&fs));
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    /* asked for read-only */
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "2M"), 0);
    dev = open_dev(&d, img);
    CHECK_EQ(ext2_mount(&fs, &dev, cache, EXT2_CACHE_BYTES(32), EXT2_MOUNT_RDONLY, NOW, why, sizeof(why)), 0);
    CHECK_EQ(mk(EXT2_ROOT_INO, "x", &ino), EXT2_EROFS);
    CHECK_EQ(d.writes, 0);
    CHECK_EQ(ext2_unmount(&fs), 0);
    CHECK_EQ(d.writes, 0);
    close(d.fd);
}

/* ---- corruption met at run time ---- */

TEST(ext2_runtime_corruption_gives_errors)
{
    const char *src = tpath("csrc");
    sh("rm -rf %s && mkdir -p %s/d && echo one > %s/d/one && echo two > %s/d/two", src, src, src, src);
    char p[300];
    snprintf(p, sizeof(p), "%s/f", src);
    write_src(p, 400000, 5);
    const char *img = tpath("c.img");
    CHECK_EQ(mkfs(img, "-b 1024", src, "4M"), 0);
    long dblk = sh_num("debugfs -R 'bmap /d 0' %s 2>/dev/null", img);
    long ind = sh_num("debugfs -R 'stat /f' %s 2>/dev/null | grep -o '(IND):[0-9]*' | cut -d: -f2", img);
    CHECK(dblk > 0 && ind > 0);
    /* the second entry's rec_len: 3 (not a multiple of 4) */
    uint16_t bad = 3;
    patch(img, dblk * 1024 + 12 + 4, &bad, 2);
    /* the single indirect block's first entry: past the device */
    uint32_t far = 0x7FFFFFFF;
    patch(img, ind * 1024, &far, 4);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 16), 0);
    uint32_t dir, ino, f;
    CHECK_EQ(resolve(&fs, "/d", &dir), 0);
    CHECK_EQ(ext2_lookup(&fs, dir, "two", 3, &ino), EXT2_EUCLEAN);
    CHECK_EQ(mk(dir, "new", &ino), EXT2_EUCLEAN);
    uint64_t cookie = 0;
    struct ext2_dirent de;
    int rc = 0;
    for (int i = 0; i < 10 && rc == 0; i++)
        rc = ext2_readdir(&fs, dir, &cookie, &de);
    CHECK_EQ(rc, EXT2_EUCLEAN);
    CHECK_EQ(ext2_rmdir(&fs, EXT2_ROOT_INO, "d", 1), EXT2_EUCLEAN);
    CHECK_EQ(resolve(&fs, "/f", &f), 0);
    static uint8_t buf[20000];
    size_t done;
    CHECK_EQ(ext2_read(&fs, f, 12 * 1024, buf, 1024, &done), EXT2_EUCLEAN);
    CHECK_EQ(ext2_read(&fs, f, 0, buf, 12 * 1024, &done), 0);     /* direct blocks fine */
    CHECK_EQ(done, 12 * 1024);
    CHECK_EQ(ext2_write(&fs, f, 12 * 1024, buf, 10, &done), EXT2_EUCLEAN);
    CHECK(no_pins(&fs));
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
}

/* ---- a seeded fuzz of the metadata ---- */

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static unsigned fuzz_files, fuzz_entries;

static void walk(struct ext2_fs *f, uint32_t dir, int depth)
{
    static uint8_t buf[8192];
    uint64_t cookie = 0;
    struct ext2_dirent de;
    for (int i = 0; i < 2000 && depth < 8; i++) {
        if (ext2_readdir(f, dir, &cookie, &de) || de.ino == 0)
            return;
        fuzz_entries++;
        if (strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
            continue;
        struct ext2_stat st;
        if (ext2_stat(f, de.ino, &st))
            continue;
        uint32_t l;
        ext2_lookup(f, dir, de.name, de.name_len, &l);
        if ((st.mode & EXT2_S_IFMT) == EXT2_S_IFDIR) {
            walk(f, de.ino, depth + 1);
        } else if ((st.mode & EXT2_S_IFMT) == EXT2_S_IFLNK) {
            size_t n;
            ext2_readlink(f, de.ino, (char *)buf, sizeof(buf), &n);
        } else {
            size_t n;
            fuzz_files++;
            for (uint64_t off = 0; off < st.size && off < (1u << 20); off += sizeof(buf))
                if (ext2_read(f, de.ino, off, buf, sizeof(buf), &n) || n == 0)
                    break;
        }
    }
}

/* Flips bytes in the first meta bytes of an image of mkfs opts, mounts
 * it, walks and changes it; returns how many mounted, or -1 when a block
 * was left pinned. */
static int fuzz_image(const char *opts, uint32_t meta, int iterations)
{
    const char *img = tpath("fz.img");
    if (mkfs(img, opts, tpath("fsrc"), "1M"))
        return -2;
    static uint8_t pristine[1 << 20], work[1 << 20];
    int fd = open(img, O_RDONLY);
    ssize_t got = read(fd, pristine, sizeof(pristine));
    close(fd);
    if (got != (ssize_t)sizeof(pristine))
        return -2;
    int mounted = 0;
    for (int it = 0; it < iterations; it++) {
        memcpy(work, pristine, sizeof(work));
        int flips = 1 + (int)(rnd() % 16);
        for (int k = 0; k < flips; k++) {
            uint32_t off = rnd() % meta;
            if (rnd() % 4 == 0)
                off = 1024 + rnd() % 128;           /* the superblock's fields */
            work[off] ^= (uint8_t)(1u << (rnd() % 8));
            if (rnd() % 3 == 0)
                work[off] = (uint8_t)rnd();
        }
        struct hdev d = { .fd = -1, .mem = work, .size = sizeof(work) };
        struct ext2_blockdev dev = { &d, h_read, h_write, h_flush, sizeof(work) / 512 };
        if (ext2_mount(&fs, &dev, cache, EXT2_CACHE_BYTES(16), 0, NOW, why, sizeof(why)))
            continue;
        mounted++;
        walk(&fs, EXT2_ROOT_INO, 0);
        /* and some changes, through whatever the corruption left */
        uint32_t ino, dir;
        size_t done;
        if (mk(EXT2_ROOT_INO, "newfile", &ino) == 0) {
            ext2_write(&fs, ino, 0, pristine, 5000, &done);
            ext2_truncate(&fs, ino, 100);
        }
        md(EXT2_ROOT_INO, "newdir", &dir);
        ext2_symlink(&fs, EXT2_ROOT_INO, "sl", 2, (const char *)pristine + 2000, 100, 0, 0, &ino);
        ext2_rename(&fs, EXT2_ROOT_INO, "a", 1, EXT2_ROOT_INO, "c", 1);
        ext2_rename(&fs, EXT2_ROOT_INO, "newdir", 6, EXT2_ROOT_INO, "c", 1);
        ext2_unlink(&fs, EXT2_ROOT_INO, "newfile", 7);
        if (resolve(&fs, "/c", &dir) == 0)
            ext2_unlink(&fs, dir, "file2", 5);
        if (resolve(&fs, "/a/b", &dir) == 0)
            ext2_rename(&fs, dir, "file1", 5, EXT2_ROOT_INO, "moved", 5);
        ext2_rmdir(&fs, EXT2_ROOT_INO, "newdir", 6);
        walk(&fs, EXT2_ROOT_INO, 0);
        if (!no_pins(&fs))
            return -1;
        ext2_unmount(&fs);
    }
    return mounted;
}

TEST(ext2_fuzz_metadata_never_crashes)
{
    const char *src = tpath("fsrc");
    sh("rm -rf %s && mkdir -p %s/a/b %s/c", src, src, src);
    char p[300];
    for (int i = 0; i < 30; i++) {
        snprintf(p, sizeof(p), "%s/%s/file%d", src, i % 3 == 0 ? "a" : i % 3 == 1 ? "a/b" : "c", i);
        write_src(p, (uint64_t)i * 1001, (uint32_t)i);
    }
    snprintf(p, sizeof(p), "%s/c/big", src);
    write_src(p, 300000, 99);
    sh("ln -s a/b %s/lnk", src);
    /* metadata lives in the first blocks: superblock, descriptors,
     * bitmaps, inode table, then the directories and indirect blocks */
    int m1 = fuzz_image("-b 1024 -N 64", 1024 * 48, 300);
    int m2 = fuzz_image("-b 2048 -r 0 -N 64", 2048 * 24, 200);
    printf("  fuzz: %d of 300 and %d of 200 mounted, %u files, %u entries\n", m1, m2, fuzz_files, fuzz_entries);
    CHECK(m1 > 80 && m2 > 50);
    CHECK(fuzz_files > 1000);
}

/* ---- write-back ---- */

TEST(ext2_sync_writes_every_dirty_block)
{
    const char *img = tpath("sy.img");
    CHECK_EQ(mkfs(img, "-b 2048", NULL, "8M"), 0);
    struct hdev d;
    /* the smallest cache: constant eviction */
    CHECK_EQ(mount_img(&fs, &d, img, EXT2_CACHE_MIN), 0);
    uint32_t dir, ino;
    char name[32];
    CHECK_EQ(md(EXT2_ROOT_INO, "dir", &dir), 0);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "file%d", i);
        CHECK_EQ(mk(dir, name, &ino), 0);
        CHECK_EQ(put(ino, (uint64_t)i * 1000, 20000 + (uint64_t)i * 997, (uint32_t)i), 0);
    }
    CHECK_EQ(ext2_sync(&fs), 0);
    /* still mounted: a second, fresh mount of the file sees it all */
    struct hdev d2;
    struct ext2_blockdev dev2 = open_dev(&d2, img);
    CHECK_EQ(ext2_mount(&fs2, &dev2, cache2, EXT2_CACHE_BYTES(64), EXT2_MOUNT_RDONLY, NOW, why, sizeof(why)), 0);
    static uint8_t buf[100000];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "/dir/file%d", i);
        uint32_t r;
        size_t done;
        CHECK_EQ(resolve(&fs2, name, &r), 0);
        uint64_t size = (uint64_t)i * 1000 + 20000 + (uint64_t)i * 997;
        CHECK_EQ(ext2_read(&fs2, r, 0, buf, sizeof(buf), &done), 0);
        CHECK_EQ(done, size);
        for (size_t k = 0; k < done; k++)
            CHECK_EQ(buf[k], k < (size_t)i * 1000 ? 0 : pat(k, (uint32_t)i));
    }
    CHECK_EQ(ext2_unmount(&fs2), 0);
    close(d2.fd);
    CHECK_EQ(fsck(img), 0);
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}

TEST(ext2_write_errors_are_reported_and_retried)
{
    const char *img = tpath("io.img");
    CHECK_EQ(mkfs(img, "-b 1024", NULL, "4M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 64), 0);
    uint32_t ino;
    CHECK_EQ(mk(EXT2_ROOT_INO, "f", &ino), 0);
    CHECK_EQ(put(ino, 0, 30000, 3), 0);
    d.fail_writes = true;
    CHECK_EQ(ext2_sync(&fs), EXT2_EIO);
    CHECK(no_pins(&fs));
    CHECK_EQ(ext2_unmount(&fs), EXT2_EIO);   /* stays mounted */
    /* with a failing disk and a small cache, work that needs eviction fails
     * rather than dropping dirty blocks */
    int rc = 0;
    for (uint64_t off = 30000; off < 400000 && rc == 0; off += 10000)
        rc = put(ino, off, 10000, 3);
    CHECK(rc != 0);
    size_t done;
    CHECK_EQ(ext2_write(&fs, ino, 500000, "x", 1, &done), EXT2_EIO);
    d.fail_writes = false;
    CHECK_EQ(ext2_sync(&fs), 0);
    CHECK_EQ(fsck(img), 0);
    struct ext2_stat st;
    CHECK_EQ(ext2_stat(&fs, ino, &st), 0);
    uint64_t size = st.size;
    CHECK(size >= 30000 && size < 400000);     /* the failed write did not extend it */
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
    CHECK_EQ(mount_img(&fs, &d, img, 64), 0);
    CHECK(same_as_pattern(&fs, "/f", size, 3));
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
}

/* ---- crash safety: a power cut after every write ---- */

enum { OP_END, OP_PUT, OP_MKDIR, OP_UNLINK, OP_RENAME, OP_REWRITE, OP_RMDIR };
struct op {
    int kind;
    const char *a, *b;
    uint32_t size, seed, keep;          /* REWRITE: truncate to keep, write size bytes */
};

/* Each step is followed by ext2_sync; the workload ends with unmount. */
static const struct op crash_steps[][6] = {
    { { OP_MKDIR, "/d", 0, 0, 0, 0 }, { OP_PUT, "/d/a", 0, 40000, 1, 0 },   /* single indirect */
      { OP_PUT, "/b", 0, 20000, 2, 0 } },
    { { OP_PUT, "/d/c", 0, 100000, 3, 0 },
      { OP_MKDIR, "/d/e", 0, 0, 0, 0 }, { OP_PUT, "/d/e/f", 0, 5000, 4, 0 } },
    { { OP_REWRITE, "/d/a", 0, 30000, 5, 1000 }, { OP_UNLINK, "/b", 0, 0, 0, 0 },
      { OP_PUT, "/d/e/m", 0, 14000, 8, 0 } },
    { { OP_RENAME, "/d/c", "/c2", 0, 0, 0 }, { OP_RENAME, "/d/e/f", "/d/e/g", 0, 0, 0 },
      { OP_PUT, "/h", 0, 15000, 6, 0 } },
    { { OP_RENAME, "/d/e", "/e2", 0, 0, 0 }, { OP_UNLINK, "/c2", 0, 0, 0, 0 },
      { OP_MKDIR, "/e2/x", 0, 0, 0, 0 }, { OP_REWRITE, "/h", 0, 3000, 7, 0 } },
    { { OP_RENAME, "/e2/m", "/d/a", 0, 0, 0 }, { OP_RMDIR, "/e2/x", 0, 0, 0, 0 },
      { OP_PUT, "/e2/n", 0, 50000, 9, 0 } },
};
#define CRASH_STEPS ((int)(sizeof(crash_steps) / sizeof(crash_steps[0])))

/* What the files hold after each step: path, size, seed. */
struct mfile {
    char path[32];
    uint32_t size, seed;
};
static struct mfile model[CRASH_STEPS + 1][16];
static int nmodel[CRASH_STEPS + 1];

static bool under(const char *path, const char *top)
{
    size_t n = strlen(top);
    return strncmp(path, top, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static void build_model(void)
{
    nmodel[0] = 0;                      /* model[k + 1]: after step k */
    for (int k = 0; k < CRASH_STEPS; k++) {
        struct mfile *m = model[k + 1];
        int n = nmodel[k];
        memcpy(m, model[k], sizeof(model[k]));
        for (const struct op *o = crash_steps[k]; o->kind; o++) {
            int at = -1;
            for (int i = 0; i < n; i++)
                if (strcmp(m[i].path, o->a) == 0)
                    at = i;
            if (o->kind == OP_PUT || o->kind == OP_REWRITE) {
                if (at < 0)
                    at = n++;
                snprintf(m[at].path, sizeof(m[at].path), "%s", o->a);
                m[at].size = o->size;
                m[at].seed = o->seed;
            } else if (o->kind == OP_UNLINK) {
                m[at] = m[--n];
            } else if (o->kind == OP_RENAME) {
                for (int i = 0; i < n; i++)
                    if (strcmp(m[i].path, o->b) == 0)
                        m[i] = m[--n];       /* replaced */
                for (int i = 0; i < n; i++) {
                    if (under(m[i].path, o->a)) {
                        char t[32];
                        snprintf(t, sizeof(t), "%s%s", o->b, m[i].path + strlen(o->a));
                        memcpy(m[i].path, t, sizeof(t));
                    }
                }
            }
        }
        nmodel[k + 1] = n;
    }
}

/* Does step k change path (or anything it is under)? */
static bool touched(int k, const char *path)
{
    if (k >= CRASH_STEPS)
        return false;
    for (const struct op *o = crash_steps[k]; o->kind; o++)
        if (under(path, o->a) || (o->b && under(path, o->b)))
            return true;
    return false;
}

static int put_pattern(struct ext2_fs *f, uint32_t ino, uint32_t size, uint32_t seed)
{
    static uint8_t buf[16384];
    for (uint32_t off = 0; off < size;) {
        size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf), done;
        for (size_t i = 0; i < n; i++)
            buf[i] = pat(off + i, seed);
        int rc = ext2_write(f, ino, off, buf, n, &done);
        if (rc || done != n)
            return rc ? rc : EXT2_ENOSPC;
        off += (uint32_t)n;
    }
    return 0;
}

/* A directory renamed in the sync a crash cut short is written unattached
 * (its old name goes first; docs/ext2.md): until e2fsck puts it in
 * lost+found it is gone, with what is under it.  Its two names. */
static char lost[2][32];
static char skipped[8][32];             /* targets of operations skipped for it */
static int nskipped;

static bool is_lost(const char *path)
{
    return path && ((lost[0][0] && under(path, lost[0])) || (lost[1][0] && under(path, lost[1])));
}

/* One operation.  redo: the operation may already have reached the disk
 * before a crash, so "already done" errors are expected. */
static int run_op(struct ext2_fs *f, const struct op *o, bool redo)
{
    uint32_t dir, ino, other;
    const char *name, *name2;
    size_t len, len2;
    int rc = ext2_resolve_parent(f, o->a, &dir, &name, &len);
    if (rc)
        return rc;
    switch (o->kind) {
    case OP_PUT:
        rc = ext2_lookup(f, dir, name, len, &ino);
        if (rc == EXT2_ENOENT)
            rc = ext2_create(f, dir, name, len, 0644, 0, 0, &ino);
        if (rc || (rc = ext2_truncate(f, ino, 0)))
            return rc;
        return put_pattern(f, ino, o->size, o->seed);
    case OP_REWRITE:
        if ((rc = ext2_lookup(f, dir, name, len, &ino)) || (rc = ext2_truncate(f, ino, o->keep)))
            return rc;
        if ((rc = put_pattern(f, ino, o->size, o->seed)))
            return rc;
        return ext2_truncate(f, ino, o->size);
    case OP_MKDIR:
        rc = ext2_mkdir(f, dir, name, len, 0755, 0, 0, &ino);
        return redo && rc == EXT2_EEXIST ? 0 : rc;
    case OP_UNLINK:
        rc = ext2_unlink(f, dir, name, len);
        return redo && rc == EXT2_ENOENT ? 0 : rc;
    case OP_RMDIR:
        rc = ext2_rmdir(f, dir, name, len);
        return redo && rc == EXT2_ENOENT ? 0 : rc;
    case OP_RENAME:
        if ((rc = ext2_resolve_parent(f, o->b, &other, &name2, &len2)))
            return rc;
        rc = ext2_rename(f, dir, name, len, other, name2, len2);
        if (redo && rc == EXT2_ENOENT) {
            if (ext2_resolve(f, o->b, false, &ino) == 0)
                return 0;               /* done before the crash */
            snprintf(lost[0], sizeof(lost[0]), "%s", o->a);
            snprintf(lost[1], sizeof(lost[1]), "%s", o->b);
            return 0;                   /* a directory left unattached */
        }
        return rc;
    }
    return EXT2_EINVAL;
}

/* Runs steps [from, CRASH_STEPS), each followed by a sync, then unmounts.
 * sync_end[k], when given, gets the device's write count after step k's
 * sync. */
static int run_steps(struct ext2_fs *f, struct hdev *d, int from, bool redo, unsigned *sync_end)
{
    /* a directory whose rename the crash cut short has neither name */
    for (const struct op *o = crash_steps[from]; redo && from < CRASH_STEPS && o->kind; o++) {
        uint32_t ino;
        if (o->kind == OP_RENAME && ext2_resolve(f, o->a, false, &ino) == EXT2_ENOENT &&
            ext2_resolve(f, o->b, false, &ino) == EXT2_ENOENT) {
            snprintf(lost[0], sizeof(lost[0]), "%s", o->a);
            snprintf(lost[1], sizeof(lost[1]), "%s", o->b);
        }
    }
    for (int k = from; k < CRASH_STEPS; k++) {
        for (const struct op *o = crash_steps[k]; o->kind; o++) {
            if (redo && (is_lost(o->a) || is_lost(o->b))) {
                if (nskipped < 8)
                    snprintf(skipped[nskipped++], sizeof(skipped[0]), "%s", o->b ? o->b : o->a);
                continue;
            }
            int rc = run_op(f, o, redo);
            if (rc) {
                printf("  step %d %s: %d\n", k, o->a, rc);
                return rc;
            }
        }
        int rc = ext2_sync(f);
        if (rc)
            return rc;
        if (sync_end)
            sync_end[k] = d->attempts;
    }
    return ext2_unmount(f);
}

/* e2fsck -fn's verdict on problems that are only leaks: blocks or inodes
 * marked in use that nothing uses, unattached inodes, link counts and
 * sizes too high, free counts.  Anything else (a pointer to something
 * free, a shared block, a count too low, a bad directory) is fatal.
 * Tallies what it saw in kinds[]. */
enum { K_BITMAP, K_UNATTACHED, K_REFCOUNT, K_SIZE, K_COUNTS, K_NKINDS };
static unsigned kinds[K_NKINDS];

static bool only_leaks(const char *log, bool tally)
{
    FILE *f = fopen(log, "r");
    char line[4096];
    bool ok = true;
    bool seen[K_NKINDS] = { 0 };
    while (f && fgets(line, sizeof(line), f)) {
        char *l = line;
        while (*l == ' ')
            l++;
        l[strcspn(l, "\n")] = 0;
        unsigned a, b;
        if (!*l || !strncmp(l, "Pass ", 5) || !strncmp(l, "e2fsck ", 7) || strstr(l, "files (") ||
            strstr(l, "WARNING: Filesystem still has errors") || !strcmp(l, "Fix? no") ||
            !strcmp(l, "Fix? yes") || !strcmp(l, "Connect to /lost+found? no") ||
            !strcmp(l, "Connect to /lost+found? yes") || strstr(l, "was not cleanly unmounted") ||
            strstr(l, "FILE SYSTEM WAS MODIFIED"))
            continue;
        /* an unattached directory: with -n its '..' is not changed */
        if (!strncmp(l, "Unconnected directory inode ", 28) ||
            (!strncmp(l, "'..' in ", 8) && strstr(l, "should be <The NULL inode> (0)."))) {
            seen[K_UNATTACHED] = true;
            continue;
        }
        if (!strncmp(l, "Unattached inode ", 17) || !strncmp(l, "Unattached zero-length inode ", 29)) {
            seen[K_UNATTACHED] = true;
            continue;
        }
        if (sscanf(l, "Inode %*u ref count is %u, should be %u.", &a, &b) == 2 && a > b) {
            seen[K_REFCOUNT] = true;
            continue;
        }
        if (strstr(l, ", i_size is ") || strstr(l, ", i_blocks is ")) {
            seen[K_SIZE] = true;
            continue;
        }
        if (!strncmp(l, "Block bitmap differences:", 25) || !strncmp(l, "Inode bitmap differences:", 25)) {
            /* "-n" or "-(a--b)": marked but unused; "+" would be in use
             * but marked free */
            for (char *t = strtok(l + 25, " "); t; t = strtok(NULL, " "))
                if (t[0] != '-')
                    ok = false;
            seen[K_BITMAP] = true;
            continue;
        }
        if (!strncmp(l, "Free blocks count wrong", 23) || !strncmp(l, "Free inodes count wrong", 23) ||
            !strncmp(l, "Directories count wrong", 23)) {
            seen[K_COUNTS] = true;
            continue;
        }
        ok = false;
    }
    if (f)
        fclose(f);
    for (int k = 0; k < K_NKINDS && tally; k++)
        kinds[k] += seen[k];
    return ok;
}

static bool model_matches(struct ext2_fs *f, int k, bool skip_next)
{
    for (int i = 0; i < nmodel[k]; i++) {
        if (skip_next && touched(k, model[k][i].path))
            continue;                   /* the step under way may have changed it */
        bool gone = !skip_next && is_lost(model[k][i].path);
        for (int j = 0; j < nskipped && !skip_next; j++)
            gone |= under(model[k][i].path, skipped[j]);
        if (gone)
            continue;                   /* in lost+found now, or not made */
        if (!same_as_pattern(f, model[k][i].path, model[k][i].size, model[k][i].seed)) {
            printf("  %s differs (state after %d steps; lost %s)\n", model[k][i].path, k, lost[1]);
            return false;
        }
    }
    return true;
}

static void save_mem(const char *img, const uint8_t *mem, size_t size)
{
    FILE *f = fopen(img, "wb");
    fwrite(mem, 1, size, f);
    fclose(f);
}

TEST(ext2_crash_at_every_write_leaves_only_leaks)
{
    build_model();
    const char *img = tpath("cr.img"), *log = tpath("cr.log");
    CHECK_EQ(mkfs(img, "-b 1024 -N 64 -m 0", NULL, "2M"), 0);
    static uint8_t base[2u << 20], mem[2u << 20], disk[2u << 20];
    FILE *bf = fopen(img, "rb");
    CHECK(bf && fread(base, 1, sizeof(base), bf) == sizeof(base));
    fclose(bf);
    struct hdev d;
    struct ext2_blockdev dev = { &d, h_read, h_write, h_flush, sizeof(base) / 512 };
    static uint8_t cmem[EXT2_CACHE_BYTES(64)];

    /* The whole workload once: W writes; sync_end[k]: writes when step
     * k's sync returned. */
    unsigned sync_end[CRASH_STEPS];
    memcpy(mem, base, sizeof(mem));
    memset(&d, 0, sizeof(d));
    d.mem = mem;
    d.size = sizeof(mem);
    d.cutting = true;
    d.cut = ~0u;
    CHECK_EQ(ext2_mount(&fs, &dev, cmem, sizeof(cmem), 0, NOW, why, sizeof(why)), 0);
    CHECK_EQ(run_steps(&fs, &d, 0, false, sync_end), 0);
    unsigned W = d.attempts;
    save_mem(img, mem, sizeof(mem));
    CHECK_EQ(fsck(img), 0);
    CHECK_EQ(ext2_mount(&fs, &dev, cmem, sizeof(cmem), EXT2_MOUNT_RDONLY, NOW, why, sizeof(why)), 0);
    CHECK(model_matches(&fs, CRASH_STEPS, false));
    CHECK_EQ(ext2_unmount(&fs), 0);

    unsigned clean = 0, leaky = 0, bad = 0, redone_clean = 0, lost_dirs = 0;
    for (unsigned cut = 0; cut <= W; cut++) {
        /* the same workload, the power gone after write number cut */
        memcpy(mem, base, sizeof(mem));
        memcpy(disk, base, sizeof(disk));
        memset(&d, 0, sizeof(d));
        d.mem = mem;
        d.size = sizeof(mem);
        d.cutting = true;
        d.cut = cut;
        d.disk = disk;
        CHECK_EQ(ext2_mount(&fs, &dev, cmem, sizeof(cmem), 0, NOW, why, sizeof(why)), 0);
        CHECK_EQ(run_steps(&fs, &d, 0, false, NULL), 0);
        memcpy(mem, disk, sizeof(mem));
        int done = 0;                   /* steps whose sync finished before the cut */
        while (done < CRASH_STEPS && sync_end[done] <= cut)
            done++;
        save_mem(img, mem, sizeof(mem));
        int rc = sh("e2fsck -fn %s >%s 2>&1", img, log);
        if (rc == 0) {
            clean++;
        } else if (rc == 4 && only_leaks(log, true)) {
            leaky++;
        } else {
            bad++;
            printf("  cut after write %u of %u (%d steps synced): e2fsck -fn exit %d\n", cut, W, done, rc);
            sh("grep -v '^Pass\\|^e2fsck\\|^$\\|^Fix\\|count wrong' %s | sed 's/^/    /' | head -12", log);
            CHECK(bad < 20);
            continue;
        }
        /* Mounted again without fsck: what was synced is there, and the
         * rest of the workload runs to the end. */
        d.cutting = false;
        lost[0][0] = lost[1][0] = 0;
        nskipped = 0;
        CHECK_EQ(ext2_mount(&fs, &dev, cmem, sizeof(cmem), 0, NOW + 1, why, sizeof(why)), 0);
        if (!model_matches(&fs, done, true)) {
            printf("  cut after write %u: synced data lost\n", cut);
            CHECK(0);
        }
        if (run_steps(&fs, &d, done, true, NULL)) {
            printf("  cut after write %u: the workload could not go on\n", cut);
            CHECK(0);
        }
        /* e2fsck -fy repairs only leaks, then -fn finds nothing */
        save_mem(img, mem, sizeof(mem));
        rc = sh("e2fsck -fy %s >%s 2>&1", img, log);
        if (rc == 0) {
            redone_clean++;
        } else {
            if (rc != 1 || !only_leaks(log, false)) {
                printf("  cut after write %u, workload finished: e2fsck -fy exit %d\n", cut, rc);
                sh("sed 's/^/    /' %s | head -30", log);
                CHECK(0);
            }
            CHECK_EQ(fsck(img), 0);
            FILE *rf = fopen(img, "rb");
            CHECK(rf && fread(mem, 1, sizeof(mem), rf) == sizeof(mem));
            fclose(rf);
        }
        CHECK_EQ(ext2_mount(&fs, &dev, cmem, sizeof(cmem), EXT2_MOUNT_RDONLY, NOW, why, sizeof(why)), 0);
        CHECK(model_matches(&fs, CRASH_STEPS, false));
        CHECK_EQ(ext2_unmount(&fs), 0);
        lost_dirs += lost[0][0] != 0;
    }
    printf("  crash: %u writes, %u cut points: %u clean, %u only leaks (bitmaps %u, unattached %u, "
           "link counts high %u, sizes %u, free counts %u), %u bad; finished clean without fsck %u, "
           "a moved directory unattached %u\n",
           W, W + 1, clean, leaky, kinds[K_BITMAP], kinds[K_UNATTACHED], kinds[K_REFCOUNT], kinds[K_SIZE],
           kinds[K_COUNTS], bad, redone_clean, lost_dirs);
    CHECK_EQ(bad, 0);
}

/* Full pending lists: a truncate of a fragmented file frees more runs than
 * the list holds, and more inodes are freed than it holds; both sync
 * part-way and go on. */
TEST(ext2_pending_lists_fill_and_sync)
{
    const char *img = tpath("pl.img");
    CHECK_EQ(mkfs(img, "-b 1024 -N 256", NULL, "4M"), 0);
    struct hdev d;
    CHECK_EQ(mount_img(&fs, &d, img, 64), 0);
    struct ext2_statfs before, after;
    CHECK_EQ(ext2_statfs(&fs, &before), 0);
    uint32_t a, b, ino;
    CHECK_EQ(mk(EXT2_ROOT_INO, "a", &a), 0);
    CHECK_EQ(mk(EXT2_ROOT_INO, "b", &b), 0);
    for (uint64_t i = 0; i < 300; i++) {             /* interleaved: a run per block */
        CHECK_EQ(put(a, i * 1024, 1024, 1), 0);
        CHECK_EQ(put(b, i * 1024, 1024, 2), 0);
    }
    CHECK_EQ(ext2_sync(&fs), 0);
    CHECK_EQ(ext2_truncate(&fs, a, 0), 0);
    CHECK(same_as_pattern(&fs, "/b", 300 * 1024, 2));
    char name[16];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        CHECK_EQ(mk(EXT2_ROOT_INO, name, &ino), 0);
        CHECK_EQ(put(ino, 0, 3000, (uint32_t)i), 0);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, name, strlen(name)), 0);
    }
    CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, "a", 1), 0);
    CHECK_EQ(ext2_unlink(&fs, EXT2_ROOT_INO, "b", 1), 0);
    CHECK_EQ(ext2_statfs(&fs, &after), 0);
    CHECK_EQ(after.free_inodes, before.free_inodes);
    CHECK(no_pins(&fs));
    CHECK_EQ(ext2_unmount(&fs), 0);
    close(d.fd);
    CHECK_EQ(fsck(img), 0);
}
