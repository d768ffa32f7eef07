/*
 * The shell's network commands over /svc/net (servers/net/socket.idl):
 * ifconfig shows the interface, ping sends ICMP echo requests.
 */
#include "netcfg.h"
#include "pith.h"
#include "resolver.h"
#include "shell.h"
#include "socket.h"
#include "tls.h"

#include <stdlib.h>
#include <string.h>

static struct pith_client *net(void)
{
    static struct pith_client c;
    static bool ready;
    if (!ready) {
        pith_client_init(&c, "/svc/net", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
        ready = true;
    }
    return &c;
}

#define QUAD(a) (a) >> 24, (a) >> 16 & 255, (a) >> 8 & 255, (a) & 255

void ifconfig(int argc, char **argv)
{
    uint32_t addr, mask, gw, up;
    uint64_t mac, in, out;
    long err = socket_ifconfig(net(), &addr, &mask, &gw, &mac, &up, &in, &out);
    if (err) {
        say("ifconfig: the network server (/svc/net) does not answer (error %#lx)\n", err);
        return;
    }
    say("en0: %u.%u.%u.%u netmask %u.%u.%u.%u gateway %u.%u.%u.%u\n", QUAD(addr), QUAD(mask), QUAD(gw));
    say("     ether %02x:%02x:%02x:%02x:%02x:%02x, driver %s, %lu frames in, %lu out\n", (unsigned)(mac >> 40) & 255,
        (unsigned)(mac >> 32) & 255, (unsigned)(mac >> 24) & 255, (unsigned)(mac >> 16) & 255,
        (unsigned)(mac >> 8) & 255, (unsigned)mac & 255, up ? "up" : "not answering", in, out);
}

void ping(int argc, char **argv)
{
    uint32_t addr;
    int count = argc > 2 ? atoi(argv[2]) : 4;
    if (!netcfg_addr(argv[1], strlen(argv[1]), &addr) || count < 1 || count > 100) {
        say("ping: usage: ping A.B.C.D [COUNT 1-100]\n");
        return;
    }
    int answered = 0;
    for (int i = 0; i < count; i++) {
        uint32_t rtt;
        long err = socket_ping(net(), addr, 1000, &rtt);
        if (!err) {
            answered++;
            say("reply from %s: seq %d time %u.%03u ms\n", argv[1], i + 1, rtt / 1000, rtt % 1000);
        } else if (err == SOCKET_E_TIMEOUT) {
            say("no reply from %s: seq %d (1 s)\n", argv[1], i + 1);
        } else {
            say("ping: %s: %s\n", argv[1], err == SOCKET_E_UNREACHABLE ? "no route to it"
                                       : err == SOCKET_E_BAD_ARGUMENT ? "not an address to ping"
                                                                      : "the network server failed");
            return;
        }
    }
    say("%s: %d sent, %d answered\n", argv[1], count, answered);
}
