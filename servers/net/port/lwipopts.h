/*
 * lwIP's configuration for the network server (docs/network.md): NO_SYS,
 * the raw callback API called by one thread at a time under the server's
 * lock; IPv4 with ARP, ICMP, UDP, TCP and DHCP; no sockets or netconn
 * layer (the server's own protocol is the socket interface).
 */
#ifndef NET_LWIPOPTS_H
#define NET_LWIPOPTS_H

#define NO_SYS                  1
#define SYS_LIGHTWEIGHT_PROT    0       /* the server's lock serialises every call into lwIP */
#define LWIP_SOCKET             0
#define LWIP_NETCONN            0
#define LWIP_IPV4               1
#define LWIP_IPV6               0
#define LWIP_ARP                1
#define LWIP_ETHERNET           1
#define LWIP_ICMP               1
#define LWIP_RAW                1       /* the ping message */
#define LWIP_UDP                1
#define LWIP_TCP                1
#define LWIP_DHCP               1
#define SO_REUSE                1       /* SO_REUSEADDR: a port still in TIME-WAIT bound again */
/* 127.0.0.1 on lwIP's loopback interface (and our own address looped back):
 * the queue is delivered by net_enter's caller on leaving (link.c). */
#define LWIP_SINGLE_NETIF       0
#define LWIP_NETIF_LOOPBACK     1
#define LWIP_HAVE_LOOPIF        1
#define LWIP_STATS              0
#define LWIP_NETIF_LINK_CALLBACK 0

/* Memory: lwIP's own heap and pools, in the server's data. */
#define MEM_ALIGNMENT           8
#define MEM_SIZE                (512 * 1024)
#define MEMP_NUM_PBUF           64
#define MEMP_NUM_RAW_PCB        4
#define MEMP_NUM_UDP_PCB        72      /* every socket of the table (64) can be UDP */
#define MEMP_NUM_TCP_PCB        72
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define PBUF_POOL_SIZE          128

#define TCP_MSS                 1460
#define TCP_WND                 (16 * TCP_MSS)
#define TCP_SND_BUF             (16 * TCP_MSS)
#define TCP_SND_QUEUELEN        (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG        TCP_SND_QUEUELEN
#define TCP_LISTEN_BACKLOG      1
#define IP_REASSEMBLY           1
#define IP_FRAG                 1
#define ARP_QUEUEING            1

#define LWIP_CHKSUM_ALGORITHM   3
#define LWIP_RAND()             net_random()
#define LWIP_NOASSERT_ON_ERROR  0

#ifndef __ASSEMBLER__
#include <stdint.h>
uint32_t net_random(void);
#endif

#endif
