/*
 * The file server: mounts the ext2 volume on /dev/blk0 and serves it as
 * /fs (fs.idl).  It publishes /fs even when there is no volume, so a
 * client learns why (info) instead of waiting for a name that never comes.
 *
 * One thread serves every request, so the library needs no locks.  Writes
 * stay in the block cache until a sync; a second thread asks its own
 * server for one every FLUSH_SECONDS (Unix's update daemon), which bounds
 * what a crash of this server can lose to that many seconds of writes.
 */
#include "volume.h"
#include "thread.h"

#include <stdio.h>
#include <stdlib.h>

#define CACHE_BYTES     (2u << 20)
#define FLUSH_SECONDS   2

static struct pith_server server;

static long our_endpoint(void *ctx, const char *name, uint64_t dest_slot)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest_slot, server.ep, PITH_RIGHTS_ALL, 0);
}

static void *flusher(void *arg)
{
    static const struct pith_resolver self = { .lookup = our_endpoint };
    struct pith_client c;
    pith_client_init(&c, "/fs", &self, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    for (;;) {
        pith_sleep_ns(FLUSH_SECONDS * 1000000000ull);
        uint64_t ep;
        long err = fs_sync(&c, &ep);
        if (err)
            printf("fs: periodic sync failed (error %#lx); dirty blocks kept for the next\n", err);
    }
    return NULL;
}

static void mount_volume(void)
{
    struct ext2_blockdev dev;
    bool read_only = false;
    if (disk_open(&dev, &read_only, volume.why, sizeof volume.why))
        return;
    void *cache = malloc(CACHE_BYTES);
    if (!cache) {
        snprintf(volume.why, sizeof volume.why, "no memory for the block cache");
        return;
    }
    int e = ext2_mount(&volume.fs, &dev, cache, CACHE_BYTES, read_only ? EXT2_MOUNT_RDONLY : 0, clock_now(),
                       volume.why, sizeof volume.why);
    if (e) {
        free(cache);
        return;
    }
    volume.mounted = true;
    struct ext2_statfs sf;
    ext2_statfs(&volume.fs, &sf);
    volume.read_only = sf.read_only;
    printf("fs: mounted /fs%s: %llu blocks of %u bytes, %llu free%s%s\n", volume.read_only ? " read-only" : "",
           (unsigned long long)sf.blocks, sf.block_size, (unsigned long long)sf.free_blocks,
           volume.why[0] ? ": " : "", volume.why);
}

/* The generated loop does not tell handlers who called; this one keeps the badge for the windows. */
static long serve(void)
{
    struct fs_client client;
    struct pith_msg m = { 0 };
    server.cap_slot = pith_slot_alloc();
    server.buf->recv_slot = server.cap_slot;
    long err = pith_recv(server.ep, &m, server.reply);
    while (err == PITH_OK) {
        client.badge = m.badge;
        fs_dispatch(&fs_ops, &client, &server, &m);
        server.buf->recv_slot = server.cap_slot;
        err = pith_reply_recv(server.ep, &m, server.reply);
    }
    return err;
}

int main(void)
{
    clock_start();
    /* Unique per incarnation within a boot: the monotonic clock at start. */
    epoch = pith_clock_ns((const struct pith_time_page *)pith_bootinfo->time_page);
    server = (struct pith_server){ .ep = pith_object_new(PITH_OBJ_ENDPOINT, 0),
                                   .reply = pith_object_new(PITH_OBJ_REPLY, 0),
                                   .buf = pith_tls_self()->ipc_buffer };
    mount_volume();
    if (!volume.mounted)
        printf("fs: no volume: %s\n", volume.why);
    long err = register_name("/fs", server.ep);
    if (err) {
        printf("fs: cannot publish /fs (error %#lx)\n", err);
        return 1;
    }
    pith_thread_t *t;
    if (volume.mounted && !volume.read_only && pith_thread_create(&t, flusher, NULL))
        printf("fs: no flusher thread: writes reach the disk only on sync\n");
    err = serve();
    printf("fs: stopped serving (error %ld)\n", err);
    return 1;
}
