/*
 * The network IPC server's configuration (docs/network.md): this node's
 * number, secret key and UDP port, the known peers with their public
 * keys and addresses, the local services peers may call, and the remote
 * services published here as /net/NODE/svc/NAME.  A text file, one item
 * per line; the parser makes no system calls (tests/host/test_netipc_conf.c).
 */
#ifndef NETIPC_CONF_H
#define NETIPC_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_PEERS      4
#define CONF_EXPORTS    8
#define CONF_IMPORTS    8
#define CONF_NAME_MAX   63              /* a service name, as the name service's */

struct conf_peer {
    uint64_t node;
    uint32_t ip;                        /* IPv4, host order; 0 for the loopback transport */
    uint16_t port;
    uint8_t public_key[32];
};

struct conf_import {
    uint64_t node;                      /* a peer's */
    char name[CONF_NAME_MAX + 1];       /* its service, published here as /net/NODE + name */
};

struct conf {
    uint64_t node;
    uint16_t port;
    uint8_t secret_key[32];
    struct conf_peer peers[CONF_PEERS];
    unsigned npeers;
    char exports[CONF_EXPORTS][CONF_NAME_MAX + 1];
    unsigned nexports;
    struct conf_import imports[CONF_IMPORTS];
    unsigned nimports;
    char prefix[32];                    /* where imports are published: PREFIX/NODE/svc/NAME */
};

/*
 * Parses text (len bytes, not necessarily NUL-terminated).  0, or the
 * line of the first mistake (-1 for the file as a whole: something
 * missing or inconsistent) with the reason in why.
 */
int conf_parse(struct conf *c, const char *text, size_t len, char *why, size_t why_len);

bool conf_exports(const struct conf *c, const char *name);

#endif
