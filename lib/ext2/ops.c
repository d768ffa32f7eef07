/*
 * Name-level operations: path resolution, making and removing names,
 * rename, attributes.  Each keeps link counts, '.' and '..' right, and
 * orders its steps so that a failure part-way leaves a consistent file
 * system (the new entry is added before the old one goes).
 */
#include "ext2_int.h"

static int writable(struct ext2_fs *fs)
{
    if (!fs->mounted)
        return EXT2_EINVAL;
    return fs->ro ? EXT2_EROFS : 0;
}

/* A name to create: 1..255 bytes, no '/' or NUL. */
static int check_name(const char *name, size_t len)
{
    if (len == 0)
        return EXT2_ENOENT;
    if (len > EXT2_NAME_MAX)
        return EXT2_ENAMETOOLONG;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '/' || name[i] == 0)
            return EXT2_EINVAL;
    return 0;
}

static bool is_dot(const char *name, size_t len)
{
    return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

static int get_live(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
    if (!fs->mounted)
        return EXT2_EINVAL;
    int rc = e2_inode_read(fs, ino, in);
    if (rc)
        return rc;
    return in->i_links_count ? 0 : EXT2_ENOENT;
}

/* A symlink's target: in i_block when fast, else in its one block. */
static int read_link(struct ext2_fs *fs, struct ext2_inode *in, char *buf, size_t size, size_t *len)
{
    uint32_t n = in->i_size;
    if (n == 0 || n >= EXT2_PATH_MAX || n >= fs->bs)
        return EXT2_EUCLEAN;
    if (n > size)
        n = (uint32_t)size;
    if (e2_inode_fast_symlink(fs, in)) {
        if (in->i_size >= EXT2_FAST_LINK_MAX)
            return EXT2_EUCLEAN;
        memcpy(buf, in->i_block, n);
        *len = n;
        return 0;
    }
    return e2_file_read(fs, in, 0, buf, n, len);
}

int ext2_readlink(struct ext2_fs *fs, uint32_t ino, char *buf, size_t size, size_t *done)
{
    struct ext2_inode in;
    *done = 0;
    int rc = get_live(fs, ino, &in);
    if (rc)
        return rc;
    if (!is_lnk(&in))
        return EXT2_EINVAL;
    return read_link(fs, &in, buf, size, done);
}

/* Resolves the first len bytes of path.  The remaining path lives in
 * fs->path[0]; a symlink's target is spliced in front of what follows it
 * (through fs->path[1]), and resolution goes on from its directory. */
static int resolve_n(struct ext2_fs *fs, const char *path, size_t len, bool follow_last, uint32_t *out)
{
    if (!fs->mounted)
        return EXT2_EINVAL;
    if (len == 0)
        return EXT2_ENOENT;
    if (len > EXT2_PATH_MAX)
        return EXT2_ENAMETOOLONG;
    if (path[0] != '/')
        return EXT2_EINVAL;
    char *buf = fs->path[0];
    memcpy(buf, path, len);
    size_t end = len, pos = 0;
    uint32_t cur = EXT2_ROOT_INO, hops = 0;
    for (;;) {
        while (pos < end && buf[pos] == '/')
            pos++;
        if (pos == end) {
            *out = cur;
            return 0;
        }
        size_t s = pos, e = pos;
        while (e < end && buf[e] != '/')
            e++;
        if (e - s > EXT2_NAME_MAX)
            return EXT2_ENAMETOOLONG;
        size_t after = e;
        while (after < end && buf[after] == '/')
            after++;
        bool last = after == end, slash = e < end;
        uint32_t child;
        int rc = e2_dir_find(fs, cur, buf + s, e - s, &child);
        if (rc)
            return rc;
        struct ext2_inode in;
        if ((rc = get_live(fs, child, &in)))
            return rc == EXT2_ENOENT ? EXT2_EUCLEAN : rc;
        if (is_lnk(&in) && (!last || follow_last || slash)) {
            if (++hops > EXT2_SYMLINK_HOPS)
                return EXT2_ELOOP;
            size_t tl;
            char *tmp = fs->path[1];
            if ((rc = read_link(fs, &in, tmp, EXT2_PATH_MAX, &tl)))
                return rc;
            if (tl + (end - e) > EXT2_PATH_MAX)
                return EXT2_ENAMETOOLONG;
            memcpy(tmp + tl, buf + e, end - e);
            end = tl + (end - e);
            memcpy(buf, tmp, end);
            pos = 0;
            if (buf[0] == '/')
                cur = EXT2_ROOT_INO;
            continue;
        }
        if (last && slash && !is_dir(&in))
            return EXT2_ENOTDIR;
        cur = child;
        pos = e;
    }
}

int ext2_resolve(struct ext2_fs *fs, const char *path, bool follow_last, uint32_t *ino)
{
    size_t len = 0;
    while (len <= EXT2_PATH_MAX && path[len])
        len++;
    return resolve_n(fs, path, len, follow_last, ino);
}

int ext2_resolve_parent(struct ext2_fs *fs, const char *path, uint32_t *dir, const char **name,
                        size_t *len)
{
    size_t end = 0;
    while (end <= EXT2_PATH_MAX && path[end])
        end++;
    if (end > EXT2_PATH_MAX)
        return EXT2_ENAMETOOLONG;
    if (end == 0)
        return EXT2_ENOENT;
    if (path[0] != '/')
        return EXT2_EINVAL;
    while (end > 1 && path[end - 1] == '/')
        end--;
    if (end == 1)
        return EXT2_EINVAL;
    size_t slash = end - 1;
    while (path[slash] != '/')
        slash--;
    if (end - slash - 1 > EXT2_NAME_MAX)
        return EXT2_ENAMETOOLONG;
    *name = path + slash + 1;
    *len = end - slash - 1;
    return resolve_n(fs, path, slash ? slash : 1, true, dir);
}

int ext2_stat(struct ext2_fs *fs, uint32_t ino, struct ext2_stat *st)
{
    struct ext2_inode in;
    int rc = get_live(fs, ino, &in);
    if (rc)
        return rc;
    st->ino = ino;
    st->mode = in.i_mode;
    st->nlink = in.i_links_count;
    st->uid = (uint32_t)in.i_uid_high << 16 | in.i_uid;
    st->gid = (uint32_t)in.i_gid_high << 16 | in.i_gid;
    st->size = e2_inode_size(&in);
    st->atime = in.i_atime;
    st->mtime = in.i_mtime;
    st->ctime = in.i_ctime;
    st->blocks = in.i_blocks;
    st->generation = in.i_generation;
    return 0;
}

/* Checks that name can be made in dir (a live directory, no such name). */
static int can_make(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len)
{
    int rc = writable(fs);
    if (rc || (rc = check_name(name, len)))
        return rc;
    if (is_dot(name, len))
        return EXT2_EEXIST;
    uint32_t ino;
    rc = e2_dir_find(fs, dir, name, len, &ino);
    if (rc == 0)
        return EXT2_EEXIST;
    return rc == EXT2_ENOENT ? 0 : rc;
}

/* Makes an inode of the given type and names it in dir; symlinks get
 * their target, directories their first block. */
static int make(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint16_t mode,
                uint32_t uid, uint32_t gid, const char *target, size_t tlen, uint32_t *out)
{
    int rc = can_make(fs, dir, name, len);
    if (rc)
        return rc;
    bool isdir = (mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
    struct ext2_inode parent;
    if (isdir) {
        if ((rc = e2_inode_read(fs, dir, &parent)))
            return rc;
        if (parent.i_links_count >= EXT2_LINK_MAX)
            return EXT2_EMLINK;
    }
    uint32_t ino;
    if ((rc = e2_inode_alloc(fs, dir, isdir, &ino)))
        return rc;
    struct ext2_inode in;
    memset(&in, 0, sizeof(in));
    in.i_mode = mode;
    in.i_uid = (uint16_t)uid;
    in.i_uid_high = (uint16_t)(uid >> 16);
    in.i_gid = (uint16_t)gid;
    in.i_gid_high = (uint16_t)(gid >> 16);
    in.i_atime = in.i_ctime = in.i_mtime = fs->now;
    in.i_links_count = isdir ? 2 : 1;
    in.i_generation = fs->gen_next++;
    rc = e2_inode_init(fs, ino, &in);
    if (rc == 0 && isdir)
        rc = e2_dir_init(fs, ino, &in, dir);
    if (rc == 0 && target) {
        if (tlen < EXT2_FAST_LINK_MAX) {
            memcpy(in.i_block, target, tlen);
            in.i_size = (uint32_t)tlen;
        } else {
            size_t done;
            rc = e2_file_write(fs, ino, &in, 0, target, tlen, &done);
            if (rc == 0 && done != tlen)
                rc = EXT2_ENOSPC;
        }
    }
    if (rc == 0)
        rc = e2_inode_write(fs, ino, &in);
    if (rc == 0)
        rc = e2_dir_add(fs, dir, name, len, ino, e2_mode_ftype(mode));
    if (rc == 0 && isdir)
        rc = e2_inode_nlink(fs, dir, 1);
    if (rc) {
        e2_inode_release(fs, ino, &in);   /* undo; its own error is secondary */
        return rc;
    }
    if (out)
        *out = ino;
    return 0;
}

int ext2_create(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint16_t mode,
                uint32_t uid, uint32_t gid, uint32_t *ino)
{
    uint16_t type = (mode & EXT2_S_IFMT) == EXT2_S_IFIFO ? EXT2_S_IFIFO : EXT2_S_IFREG;   /* a FIFO, or a file */
    return make(fs, dir, name, len, (uint16_t)(type | (mode & 07777)), uid, gid, NULL, 0, ino);
}

int ext2_mkdir(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint16_t mode,
               uint32_t uid, uint32_t gid, uint32_t *ino)
{
    return make(fs, dir, name, len, (uint16_t)(EXT2_S_IFDIR | (mode & 07777)), uid, gid, NULL, 0, ino);
}

int ext2_symlink(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len,
                 const char *target, size_t target_len, uint32_t uid, uint32_t gid, uint32_t *ino)
{
    if (target_len == 0)
        return EXT2_ENOENT;
    if (target_len >= EXT2_PATH_MAX || (fs->mounted && target_len >= fs->bs))
        return EXT2_ENAMETOOLONG;
    return make(fs, dir, name, len, EXT2_S_IFLNK | 0777, uid, gid, target, target_len, ino);
}

int ext2_link(struct ext2_fs *fs, uint32_t ino, uint32_t dir, const char *name, size_t len)
{
    struct ext2_inode in;
    int rc = can_make(fs, dir, name, len);
    if (rc || (rc = get_live(fs, ino, &in)))
        return rc;
    if (is_dir(&in))
        return EXT2_EPERM;
    if (in.i_links_count >= EXT2_LINK_MAX)
        return EXT2_EMLINK;
    if ((rc = e2_dir_add(fs, dir, name, len, ino, e2_mode_ftype(in.i_mode))))
        return rc;
    return e2_inode_nlink(fs, ino, 1);
}

int ext2_unlink(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len)
{
    uint32_t ino;
    struct ext2_inode in;
    int rc = writable(fs);
    if (rc || (rc = e2_dir_find(fs, dir, name, len, &ino)) || (rc = get_live(fs, ino, &in)))
        return rc;
    if (is_dir(&in))
        return EXT2_EISDIR;
    if ((rc = e2_dir_remove(fs, dir, name, len)))
        return rc;
    return e2_inode_nlink(fs, ino, -1);
}

int ext2_rmdir(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len)
{
    int rc = writable(fs);
    if (rc)
        return rc;
    if (len == 1 && name[0] == '.')
        return EXT2_EINVAL;
    if (len == 2 && name[0] == '.' && name[1] == '.')
        return EXT2_ENOTEMPTY;
    uint32_t ino;
    struct ext2_inode in;
    bool empty;
    if ((rc = e2_dir_find(fs, dir, name, len, &ino)) || (rc = get_live(fs, ino, &in)))
        return rc;
    if (!is_dir(&in))
        return EXT2_ENOTDIR;
    if ((rc = e2_dir_empty(fs, ino, &empty)))
        return rc;
    if (!empty)
        return EXT2_ENOTEMPTY;
    if ((rc = e2_dir_remove(fs, dir, name, len)))
        return rc;
    if ((rc = e2_inode_read(fs, ino, &in)))
        return rc;
    if ((rc = e2_inode_release(fs, ino, &in)))
        return rc;
    return e2_inode_nlink(fs, dir, -1);
}

/* Is dir ino inside the tree of dir top (or top itself)?  Walks '..' up
 * to the root, at most as many steps as there are inodes. */
static int inside(struct ext2_fs *fs, uint32_t ino, uint32_t top, bool *yes)
{
    *yes = false;
    for (uint32_t steps = 0; steps <= fs->inodes; steps++) {
        if (ino == top) {
            *yes = true;
            return 0;
        }
        if (ino == EXT2_ROOT_INO)
            return 0;
        int rc = e2_dir_find(fs, ino, "..", 2, &ino);
        if (rc)
            return rc;
    }
    return EXT2_EUCLEAN;
}

int ext2_rename(struct ext2_fs *fs, uint32_t olddir, const char *oldname, size_t oldlen,
                uint32_t newdir, const char *newname, size_t newlen)
{
    int rc = writable(fs);
    if (rc || (rc = check_name(oldname, oldlen)) || (rc = check_name(newname, newlen)))
        return rc;
    if (is_dot(oldname, oldlen) || is_dot(newname, newlen))
        return EXT2_EINVAL;
    uint32_t src, dst = 0;
    struct ext2_inode sin, din;
    if ((rc = e2_dir_find(fs, olddir, oldname, oldlen, &src)) || (rc = get_live(fs, src, &sin)))
        return rc;
    rc = e2_dir_find(fs, newdir, newname, newlen, &dst);
    if (rc && rc != EXT2_ENOENT)
        return rc;
    if (rc == 0 && dst == src)
        return 0;                       /* two names of one file: nothing to do */
    bool moving_dir = is_dir(&sin), replacing = rc == 0;
    if (moving_dir && newdir != olddir) {
        bool yes;
        if ((rc = inside(fs, newdir, src, &yes)))
            return rc;
        if (yes)
            return EXT2_EINVAL;
    }
    if (replacing) {
        if ((rc = get_live(fs, dst, &din)))
            return rc;
        if (moving_dir && !is_dir(&din))
            return EXT2_ENOTDIR;
        if (!moving_dir && is_dir(&din))
            return EXT2_EISDIR;
        if (is_dir(&din)) {
            bool empty;
            if ((rc = e2_dir_empty(fs, dst, &empty)))
                return rc;
            if (!empty)
                return EXT2_ENOTEMPTY;
        }
    } else if (moving_dir && newdir != olddir) {
        struct ext2_inode nd;
        if ((rc = e2_inode_read(fs, newdir, &nd)))
            return rc;
        if (nd.i_links_count >= EXT2_LINK_MAX)
            return EXT2_EMLINK;
    }
    /* The new name first, so that a failure (ENOSPC) loses nothing.  For
     * a crash while the two directory blocks are written: a file's link
     * count covers both names until the old one is gone from the disk
     * (the drop waits for phase 2 of the sync); a directory's new name is
     * written after the old name's removal (class E2_DIR_LATE), so the
     * disk never shows it twice, at worst not at all. */
    uint8_t type = e2_mode_ftype(sin.i_mode);
    bool bump = !moving_dir && sin.i_links_count < EXT2_LINK_MAX;
    if (bump && (rc = e2_inode_nlink(fs, src, 1)))
        return rc;
    fs->dir_late = moving_dir;
    rc = replacing ? e2_dir_set(fs, newdir, newname, newlen, src, type)
                   : e2_dir_add(fs, newdir, newname, newlen, src, type);
    fs->dir_late = false;
    if (rc == 0)
        rc = e2_dir_remove(fs, olddir, oldname, oldlen);
    if (bump) {
        int brc = e2_inode_nlink(fs, src, -1);
        rc = rc ? rc : brc;
    }
    if (rc)
        return rc;
    if (moving_dir && newdir != olddir) {
        if ((rc = e2_dir_set(fs, src, "..", 2, newdir, EXT2_FT_DIR)) ||
            (rc = e2_inode_nlink(fs, olddir, -1)) || (rc = e2_inode_nlink(fs, newdir, 1)))
            return rc;
    }
    if (replacing) {
        if (is_dir(&din)) {
            if ((rc = e2_inode_read(fs, dst, &din)) || (rc = e2_inode_release(fs, dst, &din)) ||
                (rc = e2_inode_nlink(fs, newdir, -1)))
                return rc;
        } else if ((rc = e2_inode_nlink(fs, dst, -1))) {
            return rc;
        }
    }
    return e2_inode_nlink(fs, src, 0);     /* ctime */
}

int ext2_chmod(struct ext2_fs *fs, uint32_t ino, uint16_t mode)
{
    struct ext2_inode in;
    int rc = writable(fs);
    if (rc || (rc = get_live(fs, ino, &in)))
        return rc;
    in.i_mode = (uint16_t)((in.i_mode & ~07777u) | (mode & 07777u));
    in.i_ctime = fs->now;
    return e2_inode_write(fs, ino, &in);
}

int ext2_chown(struct ext2_fs *fs, uint32_t ino, uint32_t uid, uint32_t gid)
{
    struct ext2_inode in;
    int rc = writable(fs);
    if (rc || (rc = get_live(fs, ino, &in)))
        return rc;
    in.i_uid = (uint16_t)uid;
    in.i_uid_high = (uint16_t)(uid >> 16);
    in.i_gid = (uint16_t)gid;
    in.i_gid_high = (uint16_t)(gid >> 16);
    in.i_ctime = fs->now;
    return e2_inode_write(fs, ino, &in);
}

int ext2_utimes(struct ext2_fs *fs, uint32_t ino, uint32_t atime, uint32_t mtime)
{
    struct ext2_inode in;
    int rc = writable(fs);
    if (rc || (rc = get_live(fs, ino, &in)))
        return rc;
    in.i_atime = atime;
    in.i_mtime = mtime;
    in.i_ctime = fs->now;
    return e2_inode_write(fs, ino, &in);
}
