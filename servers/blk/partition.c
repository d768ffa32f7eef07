/*
 * Exokernel partitions (docs/exokernel.md): a range of sectors bound to a
 * capability of the driver's endpoint minted with a badge of its own.
 * The binding is checked once, at bind (inside the disk, meeting no other
 * partition); after that each request through the capability is checked
 * against its range only, with no idea of the file system inside.  The
 * badge carries a generation, so a capability of a partition unbound
 * since can never reach the next partition made in the same entry.
 */
#include "blkdrv.h"
#include "blk.h"
#include "pith.h"

static struct part {
    bool used;
    uint32_t gen;
    uint64_t first, count;
    uint64_t slot;                      /* the minted capability; revoked at unbind */
} parts[BLK_PARTS];
static uint32_t next_gen = 1;
static pith_mutex_t lock;

void partition_init(void)
{
    pith_mutex_init(&lock);
}

static uint64_t badge_of(uint32_t i)
{
    return BLK_PART_BADGE | (uint64_t)parts[i].gen << 8 | i;
}

long partition_bind(uint64_t first, uint64_t count, uint32_t *id, uint64_t *slot)
{
    if (!count || first >= blk.sectors || count > blk.sectors - first)
        return BLK_E_RANGE;
    long err = BLK_E_FULL;
    pith_mutex_lock(&lock);
    int free_entry = -1;
    for (int i = 0; i < BLK_PARTS; i++) {
        if (!parts[i].used) {
            if (free_entry < 0)
                free_entry = i;
        } else if (first < parts[i].first + parts[i].count && parts[i].first < first + count) {
            err = BLK_E_OVERLAP;
            free_entry = -1;
            break;
        }
    }
    if (free_entry >= 0) {
        struct part *p = &parts[free_entry];
        p->gen = next_gen++ & 0xffffff;
        p->slot = p->slot ? p->slot : pith_slot_alloc();
        if (pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_MINT, p->slot, blk.ep, PITH_RIGHT_WRITE | PITH_RIGHT_GRANT,
                         badge_of((uint32_t)free_entry)) == PITH_OK) {
            p->used = true;
            p->first = first;
            p->count = count;
            *id = (uint32_t)free_entry + 1;
            *slot = p->slot;
            err = 0;
        }
    }
    pith_mutex_unlock(&lock);
    return err;
}

long partition_unbind(uint32_t id)
{
    long err = BLK_E_NO_PARTITION;
    pith_mutex_lock(&lock);
    if (id >= 1 && id <= BLK_PARTS && parts[id - 1].used) {
        struct part *p = &parts[id - 1];
        /* Every copy handed out is derived from ours: revoking it takes them all. */
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_REVOKE, p->slot, 0, 0, 0);
        pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_DELETE, p->slot, 0, 0, 0);
        p->used = false;
        err = 0;
    }
    pith_mutex_unlock(&lock);
    return err;
}

long partition_map(uint64_t badge, uint64_t *sector, uint32_t count, uint64_t *sectors)
{
    if (!(badge & BLK_PART_BADGE)) {
        *sectors = blk.sectors;
        return 0;
    }
    uint32_t i = badge & 0xff;
    long err = BLK_E_NO_PARTITION;
    pith_mutex_lock(&lock);
    if (i < BLK_PARTS && parts[i].used && badge == badge_of(i)) {
        *sectors = parts[i].count;
        if (*sector >= parts[i].count || count > parts[i].count - *sector) {
            err = BLK_E_OUTSIDE;
        } else {
            *sector += parts[i].first;
            err = 0;
        }
    }
    pith_mutex_unlock(&lock);
    return err;
}
