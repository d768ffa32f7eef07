/*
 * The shell's file commands over the file server (/fs, servers/fs/fs.idl):
 * ls, cat, write, mkdir, rm, mv, df, sync.  Paths are inside the volume;
 * one without a leading slash is taken from the root (the shell has no
 * current directory).  What a command changed is on the disk when it
 * answers: the server makes name changes durable itself, and write syncs.
 */
#include "shell.h"
#include "fs.h"
#include "resolver.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define PATH_BYTES 400

static struct pith_client fs;
static bool fs_ready;

static struct pith_client *fs_client(void)
{
    if (!fs_ready) {
        pith_client_init(&fs, "/fs", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
        fs_ready = true;
    }
    return &fs;
}

static const char *fs_error(long err)
{
    switch (err) {
    case FS_E_NOT_FOUND: return "no such file or directory";
    case FS_E_NOT_DIR: return "not a directory";
    case FS_E_IS_DIR: return "is a directory";
    case FS_E_EXISTS: return "exists already";
    case FS_E_NO_SPACE: return "no space left on the volume";
    case FS_E_NOT_EMPTY: return "directory not empty";
    case FS_E_NAME_TOO_LONG: return "name too long (255 bytes at most)";
    case FS_E_INVALID: return "invalid argument";
    case FS_E_IO: return "input/output error";
    case FS_E_CORRUPT: return "the volume is corrupt here (run e2fsck on the image)";
    case FS_E_READ_ONLY: return "the volume is read-only";
    case FS_E_LOOP: return "too many symbolic links";
    case FS_E_TOO_BIG: return "file too large";
    case FS_E_NOT_MOUNTED: return "no volume mounted (df says why)";
    case FS_E_TOO_MANY_LINKS: return "too many links";
    case FS_E_STALE: return "the file changed under the command (removed, or lost in a restart)";
    case PITH_IDL_E_ARG: return "path too long";
    case PITH_IDL_E_NO_SERVER: return "the file server does not answer";
    case PITH_IDL_E_RESTARTED: return "the file server restarted during the call; it may or may not have happened";
    default: {
        static char text[40];
        snprintf(text, sizeof text, "failed (error %#lx)", err);
        return text;
    }
    }
}

/* "x/y" -> "/x/y"; false (and said) if it does not fit. */
static bool absolute(const char *cmd, const char *arg, char *path)
{
    int n = snprintf(path, PATH_BYTES + 1, "%s%s", arg[0] == '/' ? "" : "/", arg);
    if (n > PATH_BYTES) {
        say("%s: %s: path too long (%d bytes at most)\n", cmd, arg, PATH_BYTES);
        return false;
    }
    return true;
}

/* What lookup says of a file. */
struct attrs {
    uint32_t ino, gen, mode, nlink, uid, gid, atime, mtime, ctime;
    uint64_t size, blocks;
};

static long look(const char *path, bool follow, struct attrs *a)
{
    return fs_lookup(fs_client(), path, follow, &a->ino, &a->gen, &a->mode, &a->nlink, &a->uid, &a->gid, &a->size,
                     &a->atime, &a->mtime, &a->ctime, &a->blocks);
}

static void mode_string(uint32_t mode, char *s)
{
    static const char types[16] = { [1] = 'p', [2] = 'c', [4] = 'd', [6] = 'b', [8] = '-', [10] = 'l', [12] = 's' };
    s[0] = types[(mode >> 12) & 15] ? types[(mode >> 12) & 15] : '?';
    for (int i = 0; i < 9; i++)
        s[1 + i] = (mode >> (8 - i)) & 1 ? "rwxrwxrwx"[i] : '-';
    s[10] = 0;
}

static void list_one(const char *path, const char *name)
{
    struct attrs a;
    long err = look(path, false, &a);
    if (err) {
        say("ls: %s: %s\n", name, fs_error(err));
        return;
    }
    char m[11];
    mode_string(a.mode, m);
    say("%s %3u %5u %5u %9llu %s\n", m, a.nlink, a.uid, a.gid, (unsigned long long)a.size, name);
}

void ls(int argc, char **argv)
{
    char path[PATH_BYTES + 1];
    if (!absolute("ls", argc > 1 ? argv[1] : "/", path))
        return;
    struct attrs a;
    long err = look(path, true, &a);
    if (err) {
        say("ls: %s: %s\n", path, fs_error(err));
        return;
    }
    if ((a.mode & 0170000) != 0040000) {
        list_one(path, path);
        return;
    }
    uint64_t cookie = 0;
    for (;;) {
        uint64_t next;
        uint32_t entry;
        uint8_t type;
        char name[FS_READDIR_NAME_MAX + 1];
        if ((err = fs_readdir(fs_client(), a.ino, a.gen, cookie, &next, &entry, &type, name))) {
            say("ls: %s: %s\n", path, fs_error(err));
            return;
        }
        if (!entry)
            return;
        char full[PATH_BYTES + 1 + FS_READDIR_NAME_MAX + 1];
        snprintf(full, sizeof full, "%s/%s", strcmp(path, "/") ? path : "", name);
        list_one(full, name);
        cookie = next;
    }
}

void cat(int argc, char **argv)
{
    char path[PATH_BYTES + 1];
    if (!absolute("cat", argv[1], path))
        return;
    struct attrs a;
    long err = look(path, true, &a);
    for (uint64_t off = 0; !err;) {
        char data[FS_READ_DATA_MAX + 1];
        uint64_t n;
        if ((err = fs_read(fs_client(), a.ino, a.gen, off, FS_READ_DATA_MAX, data, &n)) || n == 0)
            break;
        data[n] = 0;
        say("%s", data);                /* text files: a NUL byte ends the chunk's output */
        off += n;
    }
    if (err)
        say("cat: %s: %s\n", path, fs_error(err));
}

/* write PATH WORDS...: the file becomes the words, separated by blanks, and a newline. */
void write_cmd(int argc, char **argv)
{
    char path[PATH_BYTES + 1], text[FS_WRITE_DATA_MAX];
    if (!absolute("write", argv[1], path))
        return;
    size_t n = 0;
    for (int i = 2; i < argc; i++) {
        size_t len = strlen(argv[i]);
        if (n + len + 1 > sizeof text) {
            say("write: more than %zu bytes of text\n", sizeof text);
            return;
        }
        memcpy(text + n, argv[i], len);
        n += len;
        text[n++] = i + 1 < argc ? ' ' : '\n';
    }
    /* The text is on the disk once sync answers with the epoch the writes got (fs.idl). */
    long err = 0;
    for (int tries = 0; tries < 3; tries++) {
        struct attrs a;
        uint64_t e1 = 0, e2 = 0, e3 = 0;
        err = look(path, true, &a);
        if (err == FS_E_NOT_FOUND)
            err = fs_create(fs_client(), path, 0644, &a.ino, &a.gen);
        if (!err)
            err = fs_truncate(fs_client(), a.ino, a.gen, 0, &e1);
        if (!err)
            err = fs_write(fs_client(), a.ino, a.gen, 0, text, n, &e2);
        if (!err)
            err = fs_sync(fs_client(), &e3);
        if (err || (e1 == e3 && e2 == e3))
            break;
        err = PITH_IDL_E_RESTARTED;     /* the server that took the writes is gone: write again */
    }
    if (err)
        say("write: %s: %s\n", path, fs_error(err));
    else
        say("write: %s: %zu bytes\n", path, n);
}

void mkdir_cmd(int argc, char **argv)
{
    char path[PATH_BYTES + 1];
    uint32_t ino, gen;
    if (!absolute("mkdir", argv[1], path))
        return;
    long err = fs_mkdir(fs_client(), path, 0755, &ino, &gen);
    if (err)
        say("mkdir: %s: %s\n", path, fs_error(err));
}

/* rm PATH: a file, a symbolic link or an empty directory. */
void rm(int argc, char **argv)
{
    char path[PATH_BYTES + 1];
    if (!absolute("rm", argv[1], path))
        return;
    long err = fs_unlink(fs_client(), path);
    if (err == FS_E_IS_DIR)
        err = fs_rmdir(fs_client(), path);
    if (err)
        say("rm: %s: %s\n", path, fs_error(err));
}

void mv(int argc, char **argv)
{
    char from[PATH_BYTES + 1], to[PATH_BYTES + 1];
    if (!absolute("mv", argv[1], from) || !absolute("mv", argv[2], to))
        return;
    long err = fs_rename(fs_client(), from, to);
    if (err)
        say("mv: %s -> %s: %s\n", from, to, fs_error(err));
}

void df(int argc, char **argv)
{
    bool mounted, ro;
    uint32_t bsize;
    uint64_t blocks, bfree, inodes, ifree;
    char why[FS_INFO_WHY_MAX + 1];
    long err = fs_info(fs_client(), &mounted, &ro, &bsize, &blocks, &bfree, &inodes, &ifree, why);
    if (err) {
        say("df: %s\n", fs_error(err));
        return;
    }
    if (!mounted) {
        say("df: no volume: %s\n", why);
        return;
    }
    uint64_t kib = blocks * bsize / 1024, free_kib = bfree * bsize / 1024;
    say("volume   size KiB   used KiB   free KiB  inodes  free  block\n");
    say("/fs%s %10llu %10llu %10llu %7llu %5llu  %u\n", ro ? "(ro)" : "    ", (unsigned long long)kib,
        (unsigned long long)(kib - free_kib), (unsigned long long)free_kib, (unsigned long long)inodes,
        (unsigned long long)ifree, bsize);
}

void sync_cmd(int argc, char **argv)
{
    uint64_t epoch;
    long err = fs_sync(fs_client(), &epoch);
    if (err)
        say("sync: %s\n", fs_error(err));
}
