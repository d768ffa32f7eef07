/* A flat file store in a partition bound by the block driver (exofs.h). */
#include "exofs.h"
#include "blk.h"
#include <string.h>

#define DIR_SECTORS 8
#define SECTOR      512ull
#define PAGE        4096ull

_Static_assert(sizeof(struct exofs_dir) == PAGE, "the directory is one page");

static long dir_write(struct exofs *fs)
{
    memcpy(fs->window, &fs->dir, PAGE);
    return blk_write(fs->blk, 0, DIR_SECTORS, 0);
}

static long start(struct exofs *fs, struct pith_client *blk, void *window, uint32_t window_pages)
{
    uint32_t max_pages, ro;
    fs->blk = blk;
    fs->window = window;
    fs->window_pages = window_pages;
    return blk_info(blk, &fs->sectors, &max_pages, &ro);
}

long exofs_format(struct exofs *fs, struct pith_client *blk, void *window, uint32_t window_pages)
{
    long err = start(fs, blk, window, window_pages);
    if (err)
        return err;
    if (fs->sectors <= DIR_SECTORS)
        return EXOFS_E_NO_SPACE;
    memset(&fs->dir, 0, sizeof fs->dir);
    memcpy(fs->dir.magic, "EXOFS1", 6);
    fs->dir.sectors = fs->sectors;
    return dir_write(fs);
}

long exofs_mount(struct exofs *fs, struct pith_client *blk, void *window, uint32_t window_pages)
{
    long err = start(fs, blk, window, window_pages);
    if (err || (err = blk_read(blk, 0, DIR_SECTORS, 0)))
        return err;
    memcpy(&fs->dir, fs->window, PAGE);
    /* Formatted for a partition of this size, or it is not ours (or another partition's). */
    if (memcmp(fs->dir.magic, "EXOFS1", 7) || fs->dir.sectors != fs->sectors || fs->dir.files > EXOFS_FILES)
        return EXOFS_E_NOT_EXOFS;
    return 0;
}

static int find(const struct exofs *fs, const char *name)
{
    for (int i = 0; i < EXOFS_FILES; i++)
        if (fs->dir.e[i].name[0] && !strcmp(fs->dir.e[i].name, name))
            return i;
    return -1;
}

/* First fit: the lowest start after the directory where n sectors meet no file's extent. */
static long alloc(const struct exofs *fs, uint64_t n, uint64_t *at)
{
    uint64_t cand = DIR_SECTORS;
    for (bool moved = true; moved;) {
        moved = false;
        for (int i = 0; i < EXOFS_FILES; i++) {
            const struct exofs_entry *e = &fs->dir.e[i];
            if (e->name[0] && e->sectors && cand < e->start + e->sectors && e->start < cand + n) {
                cand = e->start + e->sectors;
                moved = true;
            }
        }
    }
    if (cand + n > fs->sectors)
        return EXOFS_E_NO_SPACE;
    *at = cand;
    return 0;
}

long exofs_write(struct exofs *fs, const char *name, const void *data, uint64_t size)
{
    size_t len = strnlen(name, EXOFS_NAME + 1);
    if (!len || len > EXOFS_NAME)
        return EXOFS_E_NAME;
    if (size > (fs->window_pages - 1) * PAGE)
        return EXOFS_E_TOO_BIG;
    int i = find(fs, name);
    for (int j = 0; i < 0 && j < EXOFS_FILES; j++)
        if (!fs->dir.e[j].name[0])
            i = j;
    if (i < 0)
        return EXOFS_E_DIR_FULL;
    uint64_t n = (size + SECTOR - 1) / SECTOR, at = 0;
    long err = n ? alloc(fs, n, &at) : 0;
    if (err)
        return err;
    /* The data first, in a new extent (the old one still counted as taken), then the directory. */
    uint8_t *page1 = fs->window + PAGE;
    memcpy(page1, data, size);
    memset(page1 + size, 0, n * SECTOR - size);
    if (n && (err = blk_write(fs->blk, at, (uint32_t)n, 1)))
        return err;
    struct exofs_entry old = fs->dir.e[i];
    bool created = !old.name[0];
    memcpy(fs->dir.e[i].name, name, len + 1);
    fs->dir.e[i].start = at;
    fs->dir.e[i].sectors = n;
    fs->dir.e[i].size = size;
    fs->dir.files += created;
    if ((err = dir_write(fs))) {
        fs->dir.e[i] = old;
        fs->dir.files -= created;
    }
    return err;
}

long exofs_read(struct exofs *fs, const char *name, void *buf, uint64_t max, uint64_t *size)
{
    int i = find(fs, name);
    if (i < 0)
        return EXOFS_E_NO_FILE;
    const struct exofs_entry *e = &fs->dir.e[i];
    if (e->size > max)
        return EXOFS_E_TOO_BIG;
    long err = e->sectors ? blk_read(fs->blk, e->start, (uint32_t)e->sectors, 1) : 0;
    if (err)
        return err;
    memcpy(buf, fs->window + PAGE, e->size);
    *size = e->size;
    return 0;
}

long exofs_remove(struct exofs *fs, const char *name)
{
    int i = find(fs, name);
    if (i < 0)
        return EXOFS_E_NO_FILE;
    struct exofs_entry old = fs->dir.e[i];
    memset(&fs->dir.e[i], 0, sizeof fs->dir.e[i]);
    fs->dir.files--;
    long err = dir_write(fs);
    if (err) {
        fs->dir.e[i] = old;
        fs->dir.files++;
    }
    return err;
}

uint64_t exofs_free(const struct exofs *fs)
{
    uint64_t used = DIR_SECTORS;
    for (int i = 0; i < EXOFS_FILES; i++)
        if (fs->dir.e[i].name[0])
            used += fs->dir.e[i].sectors;
    return fs->sectors - used;
}
