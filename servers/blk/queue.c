/*
 * The request queue: virtqueue 0 shared by the service threads, each
 * with at most one request in it (a request slot: its header and status
 * byte in one page of ours), and the interrupt thread that takes used
 * entries off it and wakes their threads.  The line is shared (INTx):
 * the ISR status says whether an interrupt is ours, and reading it
 * lowers the line.  The interrupt thread also looks at the used ring when
 * 50 ms pass without an interrupt, so a lost interrupt delays requests
 * but never strands them (counted: blk reports completions found so).
 */
#include "blkdrv.h"
#include "pith.h"

#include <stdio.h>

#define POLL_NS 50000000ull
#define fence() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static pith_mutex_t lock;
static pith_cond_t changed;             /* a request done, a slot or descriptors free */
static uint16_t free_head, nfree;       /* free descriptors, chained through next */
static struct { bool busy, done; } slots[BLK_SERVICE_THREADS];
static int8_t slot_of[BLK_QUEUE_MAX];   /* head descriptor -> request slot */
static uint32_t in_flight, most;
static uint64_t interrupts_ours, interrupts_not_ours, polled;
static volatile uint8_t *hdr;           /* slot i: header at 16 i, status at 512 + i */
static uint64_t hdr_phys;

int device_start(struct pith_client *pci, uint32_t index, const char **why)
{
    struct virtio_dev *v = &blk.dev;
    pith_mutex_init(&lock);
    pith_cond_init(&changed);
    uint64_t wanted = 1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_FLUSH;
    if (virtio_init(v, pci, index, wanted, why) || virtio_queue(v, 0, &blk.q, BLK_QUEUE_MAX, why))
        return -1;
    if (!(hdr = dma_page(&hdr_phys))) {
        *why = "no memory for request headers";
        return -1;
    }
    uint32_t lo = *(volatile uint32_t *)v->device, hi = *(volatile uint32_t *)(v->device + 4);
    blk.sectors = (uint64_t)hi << 32 | lo;
    blk.read_only = (v->features >> VIRTIO_BLK_F_RO) & 1;
    blk.can_flush = (v->features >> VIRTIO_BLK_F_FLUSH) & 1;
    for (uint16_t i = 0; i < blk.q.size; i++)
        blk.q.desc[i].next = (uint16_t)(i + 1);
    free_head = 0;
    nfree = blk.q.size;
    virtio_ready(v);
    return 0;
}

static uint16_t take_desc(uint64_t addr, uint32_t len, uint16_t flags)
{
    uint16_t d = free_head;
    free_head = blk.q.desc[d].next;
    nfree--;
    blk.q.desc[d] = (struct virtq_desc){ .addr = addr, .len = len, .flags = flags };
    return d;
}

int request(uint32_t type, uint64_t sector, uint32_t len, const uint64_t *phys, uint32_t npages)
{
    pith_mutex_lock(&lock);
    int s = -1;
    for (;;) {
        for (int i = 0; i < BLK_SERVICE_THREADS && s < 0; i++)
            if (!slots[i].busy)
                s = i;
        if (s >= 0 && nfree >= npages + 2)
            break;
        s = -1;
        pith_cond_wait(&changed, &lock);
    }
    slots[s].busy = true;
    slots[s].done = false;
    volatile uint32_t *h = (volatile uint32_t *)(hdr + 16 * s);
    h[0] = type;
    h[1] = 0;
    *(volatile uint64_t *)(h + 2) = sector;
    hdr[512 + s] = 0xff;
    /* The chain is built tail first, so each descriptor knows the next. */
    uint16_t next = take_desc(hdr_phys + 512 + (uint64_t)s, 1, VIRTQ_DESC_F_WRITE);
    for (uint32_t i = npages; i-- > 0;) {
        uint32_t part = len - i * 4096 < 4096 ? len - i * 4096 : 4096;
        uint16_t d = take_desc(phys[i], part, VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0));
        blk.q.desc[d].next = next;
        next = d;
    }
    uint16_t head = take_desc(hdr_phys + 16 * (uint64_t)s, 16, VIRTQ_DESC_F_NEXT);
    blk.q.desc[head].next = next;
    slot_of[head] = (int8_t)s;
    virtq_post(&blk.q, head);
    if (++in_flight > most) {
        most = in_flight;
        printf("blk: %u requests in flight at once (the most so far)\n", most);
    }
    pith_mutex_unlock(&lock);
    virtq_kick(&blk.q, 0);
    pith_mutex_lock(&lock);
    while (!slots[s].done)
        pith_cond_wait(&changed, &lock);
    uint8_t status = hdr[512 + s];
    slots[s].busy = false;
    pith_cond_broadcast(&changed);
    pith_mutex_unlock(&lock);
    return status == 0 ? 0 : -1;
}

/* Takes every used entry off the ring (lock held); how many. */
static unsigned reap(void)
{
    unsigned n = 0;
    fence();
    while (blk.q.last_used != blk.q.used[1]) {
        uint16_t d = (uint16_t)virtq_used_elem(&blk.q, blk.q.last_used++)->id;
        if (d >= blk.q.size)
            continue;
        slots[slot_of[d]].done = true;
        for (;;) {                      /* the chain back on the free list */
            uint16_t flags = blk.q.desc[d].flags, next = blk.q.desc[d].next;
            blk.q.desc[d].next = free_head;
            free_head = d;
            nfree++;
            if (!(flags & VIRTQ_DESC_F_NEXT))
                break;
            d = next;
        }
        in_flight--;
        n++;
    }
    if (n)
        pith_cond_broadcast(&changed);
    return n;
}

_Noreturn void interrupts(uint64_t handler, uint64_t ntfn)
{
    for (;;) {
        struct pith_msg m = { 0 };
        long err = pith_syscall_timed(PITH_SYS_RECV_TIMED, ntfn, &m, 0, POLL_NS);
        if (err == PITH_OK) {
            uint8_t isr = *blk.dev.isr;         /* reading it lowers the line */
            pith_mutex_lock(&lock);
            reap();
            if (isr & 1)
                interrupts_ours++;
            else
                interrupts_not_ours++;
            pith_mutex_unlock(&lock);
            pith_invoke4(handler, PITH_IRQ_HANDLER_ANSWER, isr & 1 ? 1 : 0, 0, 0, 0);
        } else {
            pith_mutex_lock(&lock);
            unsigned n = reap();
            if (n && !polled)
                printf("blk: a completion was found without its interrupt (%lu interrupts so far)\n",
                       interrupts_ours);
            polled += n;
            pith_mutex_unlock(&lock);
        }
    }
}
