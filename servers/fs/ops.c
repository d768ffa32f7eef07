/*
 * The protocol's handlers (fs.idl): each checks the volume is there,
 * turns a path into a directory and a name where it needs one, and calls
 * the ext2 library, whose negative errno-style results map one to one to
 * the protocol's errors.
 */
#include "volume.h"

#include <string.h>

#define PATH_MAX_BYTES 512

struct volume volume;
uint64_t epoch;                         /* this incarnation's number (main.c sets it) */

static long fs_error(int e)
{
    switch (e) {
    case 0: return 0;
    case EXT2_ENOENT: return FS_E_NOT_FOUND;
    case EXT2_ENOTDIR: return FS_E_NOT_DIR;
    case EXT2_EISDIR: return FS_E_IS_DIR;
    case EXT2_EEXIST: return FS_E_EXISTS;
    case EXT2_ENOSPC: return FS_E_NO_SPACE;
    case EXT2_ENOTEMPTY: return FS_E_NOT_EMPTY;
    case EXT2_ENAMETOOLONG: return FS_E_NAME_TOO_LONG;
    case EXT2_EINVAL: return FS_E_INVALID;
    case EXT2_EUCLEAN: return FS_E_CORRUPT;
    case EXT2_EROFS: return FS_E_READ_ONLY;
    case EXT2_ELOOP: return FS_E_LOOP;
    case EXT2_EFBIG: return FS_E_TOO_BIG;
    case EXT2_EMLINK: return FS_E_TOO_MANY_LINKS;
    case EXT2_EPERM: return FS_E_NOT_PERMITTED;
    default: return FS_E_IO;
    }
}

/*
 * Changes to names are on the disk before the reply, as NFS makes its
 * directory operations stable: a handle a client got from create names a
 * file that a crash of this server cannot take its name from, and a file
 * it was told is gone stays gone.  Data and attributes wait for a sync.
 */
static long durable(long err)
{
    return err ? err : fs_error(ext2_sync(&volume.fs));
}

/* A handle (inode number and generation) still names the file it was given for. */
static long check_handle(uint32_t ino, uint32_t gen, struct ext2_stat *st)
{
    int e = ext2_stat(&volume.fs, ino, st);
    if (e == EXT2_ENOENT)
        return FS_E_STALE;
    if (e)
        return fs_error(e);
    return st->generation == gen ? 0 : FS_E_STALE;
}

/* A handler's first words: no volume, no answer but not_mounted. */
#define NEED_VOLUME() do {                                                    \
        if (!volume.mounted)                                                    \
            return FS_E_NOT_MOUNTED;                                            \
        ext2_set_time(&volume.fs, clock_now());                                 \
    } while (0)

/*
 * Splits an absolute path into its directory's inode and the last name
 * (trailing slashes dropped).  "/" itself has no last name: invalid for
 * the calls that make or remove a name.
 */
static long parent_of(const char *path, uint32_t *dir, const char **name, size_t *len)
{
    size_t n = strlen(path);
    if (n == 0 || path[0] != '/')
        return FS_E_INVALID;
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (start == n)
        return FS_E_INVALID;            /* the root */
    char parent[PATH_MAX_BYTES + 1];
    memcpy(parent, path, start);
    parent[start] = 0;
    *name = path + start;
    *len = n - start;
    if ((*len == 1 && (*name)[0] == '.') || (*len == 2 && (*name)[0] == '.' && (*name)[1] == '.'))
        return FS_E_INVALID;
    return fs_error(ext2_resolve(&volume.fs, parent, true, dir));
}

static long get_stat(uint32_t ino, uint32_t *gen, uint32_t *mode, uint32_t *nlink, uint32_t *uid, uint32_t *gid, uint64_t *size,
                     uint32_t *atime, uint32_t *mtime, uint32_t *ctime, uint64_t *blocks)
{
    struct ext2_stat st;
    int e = ext2_stat(&volume.fs, ino, &st);
    if (e)
        return fs_error(e);
    *gen = st.generation;
    *mode = st.mode;
    *nlink = st.nlink;
    *uid = st.uid;
    *gid = st.gid;
    *size = st.size;
    *atime = st.atime;
    *mtime = st.mtime;
    *ctime = st.ctime;
    *blocks = st.blocks;
    return 0;
}

static long op_info(void *ctx, bool *mounted, bool *read_only, uint32_t *block_size, uint64_t *blocks,
                    uint64_t *free_blocks, uint64_t *inodes, uint64_t *free_inodes, char *why)
{
    *mounted = volume.mounted;
    *read_only = volume.read_only;
    strcpy(why, volume.why);
    *block_size = 0;
    *blocks = *free_blocks = *inodes = *free_inodes = 0;
    if (!volume.mounted)
        return 0;
    struct ext2_statfs sf;
    ext2_statfs(&volume.fs, &sf);
    *block_size = sf.block_size;
    *blocks = sf.blocks;
    *free_blocks = sf.free_blocks;
    *inodes = sf.inodes;
    *free_inodes = sf.free_inodes;
    return 0;
}

static long op_lookup(void *ctx, const char *path, bool follow, uint32_t *ino, uint32_t *gen, uint32_t *mode, uint32_t *nlink,
                      uint32_t *uid, uint32_t *gid, uint64_t *size, uint32_t *atime, uint32_t *mtime,
                      uint32_t *ctime, uint64_t *blocks)
{
    NEED_VOLUME();
    if (path[0] != '/')
        return FS_E_INVALID;
    long err = fs_error(ext2_resolve(&volume.fs, path, follow, ino));
    return err ? err : get_stat(*ino, gen, mode, nlink, uid, gid, size, atime, mtime, ctime, blocks);
}

static long op_stat(void *ctx, uint32_t ino, uint32_t gen, uint32_t *mode, uint32_t *nlink, uint32_t *uid,
                    uint32_t *gid, uint64_t *size, uint32_t *atime, uint32_t *mtime, uint32_t *ctime, uint64_t *blocks)
{
    NEED_VOLUME();
    struct ext2_stat st;
    long err = check_handle(ino, gen, &st);
    uint32_t g;
    return err ? err : get_stat(ino, &g, mode, nlink, uid, gid, size, atime, mtime, ctime, blocks);
}

static long op_read(void *ctx, uint32_t ino, uint32_t gen, uint64_t offset, uint32_t len, uint8_t *data,
                    uint64_t *data_len)
{
    NEED_VOLUME();
    if (len > FS_READ_DATA_MAX)
        return FS_E_INVALID;
    struct ext2_stat st;
    long err = check_handle(ino, gen, &st);
    if (err)
        return err;
    size_t done = 0;
    int e = ext2_read(&volume.fs, ino, offset, data, len, &done);
    *data_len = done;
    return fs_error(e);
}

/* The library stops early at a full disk or a failed block; writing the rest names the error. */
static long write_all(uint32_t ino, uint64_t offset, const uint8_t *data, uint64_t data_len)
{
    for (uint64_t at = 0; at < data_len;) {
        size_t done = 0;
        int e = ext2_write(&volume.fs, ino, offset + at, data + at, data_len - at, &done);
        if (e)
            return fs_error(e);
        if (!done)
            return FS_E_IO;
        at += done;
    }
    return 0;
}

static long op_write(void *ctx, uint32_t ino, uint32_t gen, uint64_t offset, const uint8_t *data, uint64_t data_len,
                     uint64_t *ep)
{
    NEED_VOLUME();
    *ep = epoch;
    struct ext2_stat st;
    long err = check_handle(ino, gen, &st);
    return err ? err : write_all(ino, offset, data, data_len);
}

static long op_truncate(void *ctx, uint32_t ino, uint32_t gen, uint64_t size, uint64_t *ep)
{
    NEED_VOLUME();
    *ep = epoch;
    struct ext2_stat st;
    long err = check_handle(ino, gen, &st);
    return err ? err : fs_error(ext2_truncate(&volume.fs, ino, size));
}

static long make(const char *path, uint32_t mode, uint32_t *ino, uint32_t *gen, bool dir)
{
    NEED_VOLUME();
    uint32_t parent;
    const char *name;
    size_t len;
    long err = parent_of(path, &parent, &name, &len);
    if (err)
        return err;
    /* A file's type: regular, or a FIFO (S_IFIFO, 0o10000) for create; directories have theirs. */
    uint32_t type = mode & 0170000;
    if (type && (dir || type != EXT2_S_IFIFO))
        return FS_E_INVALID;
    uint16_t perm = (uint16_t)(mode & (07777 | type));
    err = fs_error(dir ? ext2_mkdir(&volume.fs, parent, name, len, perm, 0, 0, ino)
                       : ext2_create(&volume.fs, parent, name, len, perm, 0, 0, ino));
    struct ext2_stat st;
    if (!err && !(err = fs_error(ext2_stat(&volume.fs, *ino, &st))))
        *gen = st.generation;
    return durable(err);
}

static long op_create(void *ctx, const char *path, uint32_t mode, uint32_t *ino, uint32_t *gen)
{
    return make(path, mode, ino, gen, false);
}

static long op_mkdir(void *ctx, const char *path, uint32_t mode, uint32_t *ino, uint32_t *gen)
{
    return make(path, mode, ino, gen, true);
}

static long remove_name(const char *path, bool dir)
{
    NEED_VOLUME();
    uint32_t parent;
    const char *name;
    size_t len;
    long err = parent_of(path, &parent, &name, &len);
    if (err)
        return err;
    return durable(fs_error(dir ? ext2_rmdir(&volume.fs, parent, name, len)
                                : ext2_unlink(&volume.fs, parent, name, len)));
}

static long op_unlink(void *ctx, const char *path)
{
    return remove_name(path, false);
}

static long op_rmdir(void *ctx, const char *path)
{
    return remove_name(path, true);
}

static long op_rename(void *ctx, const char *from, const char *to)
{
    NEED_VOLUME();
    uint32_t odir, ndir;
    const char *oname, *nname;
    size_t olen, nlen;
    long err = parent_of(from, &odir, &oname, &olen);
    if (!err)
        err = parent_of(to, &ndir, &nname, &nlen);
    if (err)
        return err;
    return durable(fs_error(ext2_rename(&volume.fs, odir, oname, olen, ndir, nname, nlen)));
}

static long op_readdir(void *ctx, uint32_t ino, uint32_t gen, uint64_t cookie, uint64_t *next, uint32_t *entry,
                       uint8_t *type, char *name)
{
    NEED_VOLUME();
    struct ext2_stat st;
    long err = check_handle(ino, gen, &st);
    if (err)
        return err;
    struct ext2_dirent d;
    int e = ext2_readdir(&volume.fs, ino, &cookie, &d);
    if (e)
        return fs_error(e);
    *next = cookie;
    *entry = d.ino;
    *type = d.type;
    memcpy(name, d.name, d.name_len);
    name[d.name_len] = 0;
    return 0;
}

static long op_symlink(void *ctx, const char *path, const char *target)
{
    NEED_VOLUME();
    uint32_t parent, ino;
    const char *name;
    size_t len;
    long err = parent_of(path, &parent, &name, &len);
    if (err)
        return err;
    return durable(fs_error(ext2_symlink(&volume.fs, parent, name, len, target, strlen(target), 0, 0, &ino)));
}

static long op_readlink(void *ctx, const char *path, char *target)
{
    NEED_VOLUME();
    uint32_t ino;
    long err = fs_error(ext2_resolve(&volume.fs, path, false, &ino));
    if (err)
        return err;
    size_t n = 0;
    err = fs_error(ext2_readlink(&volume.fs, ino, target, FS_READLINK_TARGET_MAX, &n));
    target[err ? 0 : n] = 0;
    return err;
}

/* The calls that change one inode named by path. */
static long resolve(const char *path, uint32_t *ino)
{
    NEED_VOLUME();
    if (path[0] != '/')
        return FS_E_INVALID;
    return fs_error(ext2_resolve(&volume.fs, path, true, ino));
}

static long op_chmod(void *ctx, const char *path, uint32_t mode, uint64_t *ep)
{
    *ep = epoch;
    uint32_t ino;
    long err = resolve(path, &ino);
    return err ? err : fs_error(ext2_chmod(&volume.fs, ino, (uint16_t)(mode & 07777)));
}

static long op_chown(void *ctx, const char *path, uint32_t uid, uint32_t gid, uint64_t *ep)
{
    *ep = epoch;
    uint32_t ino;
    long err = resolve(path, &ino);
    if (!err && (uid > 0xffff || gid > 0xffff))
        err = FS_E_INVALID;             /* ext2 keeps 16 bits of each */
    return err ? err : fs_error(ext2_chown(&volume.fs, ino, (uint16_t)uid, (uint16_t)gid));
}

static long op_utimes(void *ctx, const char *path, uint32_t atime, uint32_t mtime, uint64_t *ep)
{
    *ep = epoch;
    uint32_t ino;
    long err = resolve(path, &ino);
    return err ? err : fs_error(ext2_utimes(&volume.fs, ino, atime, mtime));
}

/* setattr's set bits (fs.idl). */
#define SET_MODE  1u
#define SET_UID   2u
#define SET_GID   4u
#define SET_ATIME 8u
#define SET_MTIME 16u

static long op_setattr(void *ctx, uint32_t ino, uint32_t gen, uint32_t set, uint32_t mode, uint32_t uid, uint32_t gid,
                       uint32_t atime, uint32_t mtime, uint64_t *ep)
{
    NEED_VOLUME();
    *ep = epoch;
    struct ext2_stat st;
    long err = check_handle(ino, gen, &st);
    if (err)
        return err;
    if (set & ~(SET_MODE | SET_UID | SET_GID | SET_ATIME | SET_MTIME))
        return FS_E_INVALID;
    /* Each change is checked before any is made, so a refused request changes nothing. */
    uint32_t new_uid = set & SET_UID ? uid : st.uid, new_gid = set & SET_GID ? gid : st.gid;
    if (new_uid > 0xffff || new_gid > 0xffff)
        return FS_E_INVALID;            /* ext2 keeps 16 bits of each */
    if ((set & SET_MODE) && (err = fs_error(ext2_chmod(&volume.fs, ino, (uint16_t)(mode & 07777)))))
        return err;
    if ((set & (SET_UID | SET_GID)) && (err = fs_error(ext2_chown(&volume.fs, ino, new_uid, new_gid))))
        return err;
    if (set & (SET_ATIME | SET_MTIME))
        err = fs_error(ext2_utimes(&volume.fs, ino, set & SET_ATIME ? atime : st.atime,
                                   set & SET_MTIME ? mtime : st.mtime));
    return err;
}

static long op_link(void *ctx, const char *from, const char *to, bool follow)
{
    NEED_VOLUME();
    uint32_t ino, dir;
    const char *name;
    size_t len;
    if (from[0] != '/')
        return FS_E_INVALID;
    long err = fs_error(ext2_resolve(&volume.fs, from, follow, &ino));
    if (!err)
        err = parent_of(to, &dir, &name, &len);
    return err ? err : durable(fs_error(ext2_link(&volume.fs, ino, dir, name, len)));
}

static long op_sync(void *ctx, uint64_t *ep)
{
    NEED_VOLUME();
    *ep = epoch;
    return fs_error(ext2_sync(&volume.fs));
}

/* ctx is the request's client (main.c's loop): its badge names its window. */
static uint64_t badge_of(void *ctx) { return ((const struct fs_client *)ctx)->badge; }

static long op_attach(void *ctx, uint32_t page, uint64_t frame)
{
    return window_attach(badge_of(ctx), page, frame);
}

/* The handle still good and the caller's window pages there: where its bytes are. */
static long handle_and_window(void *ctx, uint32_t ino, uint32_t gen, uint32_t page, uint32_t len, uint8_t **at)
{
    struct ext2_stat st;
    long err = check_handle(ino, gen, &st);
    return err ? err : window_span(badge_of(ctx), page, len, at);
}

static long op_read_window(void *ctx, uint32_t ino, uint32_t gen, uint64_t offset, uint32_t len, uint32_t page,
                           uint32_t *done)
{
    NEED_VOLUME();
    uint8_t *at;
    long err = handle_and_window(ctx, ino, gen, page, len, &at);
    if (err)
        return err;
    size_t n = 0;
    err = fs_error(ext2_read(&volume.fs, ino, offset, at, len, &n));
    *done = (uint32_t)n;
    return err;
}

static long op_write_window(void *ctx, uint32_t ino, uint32_t gen, uint64_t offset, uint32_t len, uint32_t page,
                            uint64_t *ep)
{
    NEED_VOLUME();
    *ep = epoch;
    uint8_t *at;
    long err = handle_and_window(ctx, ino, gen, page, len, &at);
    return err ? err : write_all(ino, offset, at, len);
}

const struct fs_handlers fs_ops = {
    .info = op_info, .lookup = op_lookup, .stat = op_stat, .read = op_read, .write = op_write,
    .truncate = op_truncate, .create = op_create, .mkdir = op_mkdir, .unlink = op_unlink, .rmdir = op_rmdir,
    .rename = op_rename, .readdir = op_readdir, .symlink = op_symlink, .readlink = op_readlink,
    .chmod = op_chmod, .chown = op_chown, .utimes = op_utimes, .sync = op_sync,
    .setattr = op_setattr, .link = op_link,
    .attach = op_attach, .read_window = op_read_window, .write_window = op_write_window,
};
