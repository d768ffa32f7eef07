/*
 * The network server's configuration, from its command line (the
 * manifest's args=, docs/network.md): "net ip=10.0.0.1/24,gw=10.0.0.254"
 * for static addresses, "net dhcp" (or no args) for DHCP.  Plain C with no
 * system calls, so the host tests build it.
 */
#ifndef NET_NETCFG_H
#define NET_NETCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netcfg {
    bool dhcp;
    uint32_t addr, netmask, gateway;    /* host order; 0: none */
};

/* Parses the command line (its first word is the program's name); 0, or -1 with the reason in why. */
int netcfg_parse(const char *cmdline, struct netcfg *c, char *why, size_t why_len);

/* "a.b.c.d" to a host-order address; false if it is not one. */
bool netcfg_addr(const char *s, size_t len, uint32_t *addr);

#endif
