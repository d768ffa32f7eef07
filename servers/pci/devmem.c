/*
 * Device memory, as init gave it: a few naturally aligned untyped blocks
 * of the hole below 4 GiB.  An untyped makes objects only at its free
 * index, which only grows, so a frame at a chosen address is reached by
 * halving: a block is retyped into two untyped halves, the half holding
 * the address halved again, down to 4 KiB, which becomes the frame (the
 * seL4 way).  Each split is done once and kept, so later frames nearby
 * reuse it; a frame is made once and copied to whoever may have it.
 */
#include "pcibus.h"
#include "pith.h"
#include "process.h"

#include <stdio.h>

#define NODES_MAX 2048

struct node {
    uint64_t phys, slot, frame;
    uint8_t bits;
    int16_t kid;                /* index of the lower half (the upper is kid + 1); -1: not split */
};

static struct node nodes[NODES_MAX];
static int nnodes, nroots;

int devmem_init(void)
{
    for (uint64_t s = PITH_SLOT_DEVICE_FIRST; s < PITH_SLOT_DEVICE_FIRST + PITH_DEVICE_SLOTS; s++) {
        struct pith_msg m = { 0 };
        if (pith_invoke(s, PITH_UNTYPED_INFO, &m) != PITH_OK)
            continue;
        nodes[nnodes++] = (struct node){ .phys = m.w[2], .slot = s, .bits = (uint8_t)m.w[0], .kid = -1 };
    }
    nroots = nnodes;
    /* Lowest first, so adjacent blocks read as one range. */
    for (int i = 1; i < nroots; i++)
        for (int j = i; j > 0 && nodes[j].phys < nodes[j - 1].phys; j--) {
            struct node t = nodes[j];
            nodes[j] = nodes[j - 1];
            nodes[j - 1] = t;
        }
    return nroots;
}

static int root_of(uint64_t phys, uint64_t size)
{
    for (int i = 0; i < nroots; i++)
        if (phys >= nodes[i].phys && size <= (1ull << nodes[i].bits) &&
            phys - nodes[i].phys <= (1ull << nodes[i].bits) - size)
            return i;
    return -1;
}

bool devmem_covers(uint64_t phys, uint64_t size)
{
    return size && root_of(phys, size) >= 0;
}

uint64_t devmem_frame(uint64_t phys)
{
    phys &= ~0xfffull;
    int n = root_of(phys, 4096);
    while (n >= 0 && nodes[n].bits > 12) {
        if (nodes[n].kid < 0) {
            if (nnodes + 2 > NODES_MAX)
                return 0;
            uint8_t half = (uint8_t)(nodes[n].bits - 1);
            uint64_t s = pith_slot_alloc_range(2);
            if (pith_invoke4(nodes[n].slot, PITH_UNTYPED_RETYPE, PITH_OBJ_UNTYPED | (uint64_t)half << 8,
                             PITH_SLOT_CSPACE, s, 2) != PITH_OK)
                return 0;
            nodes[n].kid = (int16_t)nnodes;
            for (int k = 0; k < 2; k++)
                nodes[nnodes++] = (struct node){ .phys = nodes[n].phys + ((uint64_t)k << half), .slot = s + k,
                                                 .bits = half, .kid = -1 };
        }
        n = nodes[n].kid + (int)((phys >> (nodes[n].bits - 1)) & 1);
    }
    if (n < 0)
        return 0;
    if (!nodes[n].frame) {
        uint64_t f = pith_slot_alloc();
        if (pith_invoke4(nodes[n].slot, PITH_UNTYPED_RETYPE, PITH_OBJ_FRAME, PITH_SLOT_CSPACE, f, 1) != PITH_OK)
            return 0;
        nodes[n].frame = f;
    }
    return nodes[n].frame;
}

/* "first-last" ranges, adjacent blocks merged. */
void devmem_describe(char *buf, int len)
{
    int at = 0;
    buf[0] = 0;
    for (int i = 0; i < nroots && at < len; i++) {
        uint64_t first = nodes[i].phys, end = first + (1ull << nodes[i].bits);
        while (i + 1 < nroots && nodes[i + 1].phys == end)
            end += 1ull << nodes[++i].bits;
        at += snprintf(buf + at, (size_t)(len - at), "%s%#lx-%#lx", at ? ", " : "", first, end - 1);
    }
}
