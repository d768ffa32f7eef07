/*
 * The file server as the personality uses it: bulk data through a window
 * of 16 pages of our memory shared with /fs (fs.idl's attach,
 * read_window, write_window), fs.idl's errors as Linux errno values, and
 * Linux paths (relative to the working directory or a directory's
 * descriptor) made into the absolute, normalised paths /fs takes.
 */
#include "personality.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#define WINDOW_BYTES (WINDOW_PAGES * PAGE)

static long attach_all(void)
{
    static uint64_t frames[WINDOW_PAGES];
    for (uint32_t i = 0; i < WINDOW_PAGES; i++) {
        if (!frames[i]) {
            if (!(frames[i] = pith_object_new(PITH_OBJ_FRAME, 0)))
                return PITH_E_NO_MEMORY;
            long err = pith_map_page(frames[i], WINDOW_VA + i * PAGE, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0);
            if (err)
                return err;
        }
        long err = fs_attach(&fs, i, frames[i]);
        if (err)
            return err;
    }
    return 0;
}

long fsio_start(void)
{
    return attach_all();
}

long fsio_read(uint32_t ino, uint32_t gen, uint64_t off, void *dst, uint64_t len, uint64_t *done)
{
    *done = 0;
    while (*done < len) {
        uint32_t chunk = (uint32_t)(len - *done < WINDOW_BYTES ? len - *done : WINDOW_BYTES), got = 0;
        long err = fs_read_window(&fs, ino, gen, off + *done, chunk, 0, &got);
        if (err == FS_E_NO_WINDOW && !attach_all())
            err = fs_read_window(&fs, ino, gen, off + *done, chunk, 0, &got);
        if (err)
            return fs_errno(err);
        memcpy((char *)dst + *done, (const void *)WINDOW_VA, got);
        *done += got;
        if (got < chunk)
            break;
    }
    return 0;
}

long fsio_write(uint32_t ino, uint32_t gen, uint64_t off, const void *src, uint64_t len)
{
    for (uint64_t done = 0; done < len;) {
        uint32_t chunk = (uint32_t)(len - done < WINDOW_BYTES ? len - done : WINDOW_BYTES);
        uint64_t epoch;
        memcpy((void *)WINDOW_VA, (const char *)src + done, chunk);
        long err = fs_write_window(&fs, ino, gen, off + done, chunk, 0, &epoch);
        if (err == FS_E_NO_WINDOW && !attach_all())
            err = fs_write_window(&fs, ino, gen, off + done, chunk, 0, &epoch);
        if (err)
            return fs_errno(err);
        done += chunk;
    }
    return 0;
}

long fs_errno(long err)
{
    switch (err) {
    case 0: return 0;
    case FS_E_NOT_FOUND: return -ENOENT;
    case FS_E_NOT_DIR: return -ENOTDIR;
    case FS_E_IS_DIR: return -EISDIR;
    case FS_E_EXISTS: return -EEXIST;
    case FS_E_NO_SPACE: return -ENOSPC;
    case FS_E_NOT_EMPTY: return -ENOTEMPTY;
    case FS_E_NAME_TOO_LONG: case PITH_IDL_E_ARG: return -ENAMETOOLONG;
    case FS_E_INVALID: return -EINVAL;
    case FS_E_READ_ONLY: return -EROFS;
    case FS_E_LOOP: return -ELOOP;
    case FS_E_TOO_BIG: return -EFBIG;
    case FS_E_TOO_MANY_LINKS: return -EMLINK;
    case FS_E_NOT_PERMITTED: return -EPERM;
    case FS_E_STALE: return -ESTALE;
    case FS_E_CORRUPT: return -EUCLEAN;
    default: return -EIO;
    }
}

/* cwd + path, with ".", ".." and repeated slashes taken out; -ENAMETOOLONG if it does not fit. */
long path_join(const char *cwd, const char *path, char *out)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s/%s", path[0] == '/' ? "" : cwd, path);
    if (n < 0 || n >= (int)sizeof buf)
        return -ENAMETOOLONG;
    size_t len = 0;
    out[0] = 0;
    for (char *save, *part = strtok_r(buf, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
        if (!strcmp(part, "."))
            continue;
        if (!strcmp(part, "..")) {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
            out[len] = 0;
            continue;
        }
        size_t plen = strlen(part);
        if (len + 1 + plen >= 256)
            return -ENAMETOOLONG;
        out[len++] = '/';
        memcpy(out + len, part, plen + 1);
        len += plen;
    }
    if (!len)
        strcpy(out, "/");
    return 0;
}

/* A path argument of the process, relative to dirfd (AT_FDCWD: the working directory). */
long path_resolve(struct lproc *p, uint64_t upath, int dirfd, char *out)
{
    char path[256];
    long n = mem_string(p, path, upath, sizeof path);
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    const char *base = p->cwd;
    if (path[0] != '/' && dirfd != AT_FDCWD) {
        if (dirfd < 0 || dirfd >= FD_MAX || !p->fds[dirfd].of)
            return -EBADF;
        if (p->fds[dirfd].of->kind != FD_DIR)
            return -ENOTDIR;
        base = p->fds[dirfd].of->path;
    }
    return path_join(base, path, out);
}
