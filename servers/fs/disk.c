/*
 * The volume's disk: the block protocol of /dev/blk0 (servers/blk/blk.idl)
 * behind the ext2 library's block-device callbacks.  Data moves through a
 * window of our own pages that the driver has attached: it DMAs straight
 * into them, and we copy between the window and the library's buffers.
 * A driver that restarted has forgotten the window ("no_window"): we
 * attach every page again and repeat the request once.
 */
#include "volume.h"
#include "blk.h"

#include <stdio.h>
#include <string.h>

#define WINDOW_VA   0x600000000ull      /* docs/runtime.md: the file server's block window */
#define SECTOR      512u

static struct pith_client blk;
static uint64_t window_frames[DISK_WINDOW_PAGES];
static uint32_t window_pages;           /* pages attached (at most what the driver allows) */
static uint8_t *const window = (uint8_t *)WINDOW_VA;

static long attach_all(void)
{
    for (uint32_t i = 0; i < window_pages; i++) {
        long err = blk_attach(&blk, i, window_frames[i]);
        if (err)
            return err;
    }
    return 0;
}

/* One request of at most the window's size; again after re-attaching if the driver forgot us. */
static long transfer(bool write, uint64_t sector, uint32_t count)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        long err = write ? blk_write(&blk, sector, count, 0) : blk_read(&blk, sector, count, 0);
        if (err != BLK_E_NO_WINDOW)
            return err;
        if ((err = attach_all()))
            return err;
    }
    return BLK_E_NO_WINDOW;
}

static int disk_io(bool write, uint64_t sector, uint32_t count, uint8_t *buf)
{
    uint32_t per = window_pages * (4096 / SECTOR);
    while (count) {
        uint32_t n = count < per ? count : per;
        if (write)
            memcpy(window, buf, (size_t)n * SECTOR);
        long err = transfer(write, sector, n);
        if (err) {
            printf("fs: disk %s of %u sectors at %llu failed (error %#lx)\n", write ? "write" : "read", n,
                   (unsigned long long)sector, err);
            return EXT2_EIO;
        }
        if (!write)
            memcpy(buf, window, (size_t)n * SECTOR);
        sector += n;
        count -= n;
        buf += (size_t)n * SECTOR;
    }
    return 0;
}

static int disk_read(void *ctx, uint64_t sector, uint32_t count, void *buf)
{
    return disk_io(false, sector, count, buf);
}

static int disk_write(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
    return disk_io(true, sector, count, (uint8_t *)buf);
}

static int disk_flush(void *ctx)
{
    return blk_flush(&blk) ? EXT2_EIO : 0;
}

long disk_open(struct ext2_blockdev *dev, bool *read_only, char *why, size_t whylen)
{
    pith_client_init(&blk, "/dev/blk0", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    blk.retries = 20;                   /* the driver may still be starting */
    uint64_t sectors;
    uint32_t max_pages, ro;
    long err = blk_info(&blk, &sectors, &max_pages, &ro);
    if (err) {
        snprintf(why, whylen, "no disk: /dev/blk0 does not answer (error %#lx)", err);
        return err;
    }
    window_pages = max_pages < DISK_WINDOW_PAGES ? max_pages : DISK_WINDOW_PAGES;
    if (!window_pages) {
        snprintf(why, whylen, "the disk driver offers no window pages");
        return -1;
    }
    for (uint32_t i = 0; i < window_pages; i++) {
        uint64_t f = pith_object_new(PITH_OBJ_FRAME, 0);
        if (!f || (err = pith_map_page(f, WINDOW_VA + (uint64_t)i * 4096, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0))) {
            snprintf(why, whylen, "no memory for the disk window");
            return -1;
        }
        window_frames[i] = f;
    }
    if ((err = attach_all())) {
        snprintf(why, whylen, "the disk driver refused our window (error %#lx)", err);
        return err;
    }
    *read_only = ro != 0;
    *dev = (struct ext2_blockdev){ .read = disk_read, .write = disk_write, .flush = disk_flush,
                                   .sectors = sectors };
    return 0;
}
