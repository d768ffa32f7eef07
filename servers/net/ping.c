/*
 * ICMP echo (the ping message): a raw pcb sends one echo request and
 * watches the ICMP that arrives for its answer; everything else it lets
 * pass to lwIP, which answers others' echo requests itself.  One ping at
 * a time (a second waits for the first).
 */
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip4.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "net.h"
#include "socket.h"

#include <string.h>

#define PING_ID   0x5049                /* "PI" */
#define PING_DATA 32

static struct raw_pcb *pcb;
static uint16_t seq;
static bool busy, answered;
static uint64_t answered_at;

static u8_t arrived(void *arg, struct raw_pcb *r, struct pbuf *p, const ip_addr_t *addr)
{
    struct icmp_echo_hdr echo;
    if (p->tot_len < IP_HLEN || !busy)
        return 0;
    uint16_t hlen = (uint16_t)(IPH_HL(((struct ip_hdr *)p->payload)) * 4);
    if (pbuf_copy_partial(p, &echo, sizeof echo, hlen) != sizeof echo || echo.type != ICMP_ER ||
        echo.id != lwip_htons(PING_ID) || echo.seqno != lwip_htons(seq))
        return 0;                       /* not ours: lwIP goes on with it */
    answered = true;
    answered_at = net_now_ns();
    pith_cond_broadcast(&net_changed);
    pbuf_free(p);
    return 1;
}

int ping_start(void)
{
    net_enter(NULL);
    pcb = raw_new(IP_PROTO_ICMP);
    if (pcb)
        raw_recv(pcb, arrived, NULL);
    net_leave();
    return pcb ? 0 : -1;
}

long ping_once(struct net_thread *t, uint32_t addr, uint32_t timeout_ms, uint32_t *rtt_us)
{
    if (!addr || !timeout_ms || timeout_ms == 0xffffffffu)
        return SOCKET_E_BAD_ARGUMENT;
    while (busy)
        net_wait(t, 0);
    struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + PING_DATA, PBUF_RAM);
    if (!p)
        return SOCKET_E_NO_MEMORY;
    struct icmp_echo_hdr *echo = p->payload;
    echo->type = ICMP_ECHO;
    echo->code = 0;
    echo->chksum = 0;
    echo->id = lwip_htons(PING_ID);
    echo->seqno = lwip_htons(++seq);
    for (int i = 0; i < PING_DATA; i++)
        ((uint8_t *)(echo + 1))[i] = (uint8_t)i;
    echo->chksum = inet_chksum(echo, p->len);
    busy = true;
    answered = false;
    uint64_t sent_at = net_now_ns(), deadline = net_deadline(timeout_ms);
    ip_addr_t ip = net_ip(addr);
    err_t e = raw_sendto(pcb, p, &ip);
    pbuf_free(p);
    long err = e == ERR_OK ? 0 : e == ERR_RTE ? SOCKET_E_UNREACHABLE : SOCKET_E_NO_MEMORY;
    while (!err && !answered)
        if (!net_wait(t, deadline))
            err = SOCKET_E_TIMEOUT;
    busy = false;
    pith_cond_broadcast(&net_changed);
    if (!err)
        *rtt_us = (uint32_t)((answered_at - sent_at) / 1000);
    return err;
}
