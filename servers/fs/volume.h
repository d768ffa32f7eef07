/* The file server (servers/fs/): an ext2 volume (lib/ext2) on /dev/blk0, served as /fs. */
#ifndef FS_VOLUME_H
#define FS_VOLUME_H

#include "ext2.h"
#include "fs.h"
#include "idl.h"
#include "resolver.h"
#include "tls.h"

#include <stdbool.h>
#include <stddef.h>

#define DISK_WINDOW_PAGES 32            /* 128 KiB moved per block request at most */
#define FS_WINDOW_PAGES   16            /* a client's window (fs.idl attach) */

/* disk.c: the block device behind the library; 0, or an error with the reason in why. */
long disk_open(struct ext2_blockdev *dev, bool *read_only, char *why, size_t whylen);

/* ops.c: the volume and the protocol's handlers. */
struct volume {
    struct ext2_fs fs;
    bool mounted, read_only;
    char why[121];                      /* why there is no volume */
};
extern struct volume volume;
extern uint64_t epoch;                  /* this incarnation's number: fs.idl's write verifier */

/* Who sent the request being handled (the handlers' ctx). */
struct fs_client {
    uint64_t badge;
};

/* window.c: clients' windows; each returns 0 or a protocol error. */
long window_attach(uint64_t badge, uint32_t page, uint64_t frame);
long window_span(uint64_t badge, uint32_t page, uint32_t len, uint8_t **at);
extern const struct fs_handlers fs_ops;

/* clock.c: seconds since 1970 for timestamps, from the CMOS clock and the monotonic clock. */
void clock_start(void);
uint32_t clock_now(void);

#endif
