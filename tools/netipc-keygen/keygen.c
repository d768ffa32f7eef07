/*
 * netipc-keygen: a node's X25519 key pair for network IPC's configuration
 * (docs/network.md), through lib/netipc's own key derivation.
 *     netipc-keygen            a new pair from /dev/urandom: "secret HEX" and "public HEX"
 *     netipc-keygen SECRET     the public key of a secret given in hexadecimal
 */
#include "netipc.h"

#include <stdio.h>
#include <string.h>

static int unhex(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static void print(const char *what, const uint8_t k[32])
{
    printf("%s ", what);
    for (int i = 0; i < 32; i++)
        printf("%02x", k[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    uint8_t secret[32], pub[32];
    if (argc == 2) {
        if (unhex(argv[1], secret)) {
            fprintf(stderr, "netipc-keygen: the secret is not 64 hexadecimal digits\n");
            return 1;
        }
    } else if (argc == 1) {
        FILE *f = fopen("/dev/urandom", "rb");
        if (!f || fread(secret, 1, sizeof secret, f) != sizeof secret) {
            fprintf(stderr, "netipc-keygen: cannot read /dev/urandom\n");
            return 1;
        }
        fclose(f);
        print("secret", secret);
    } else {
        fprintf(stderr, "usage: netipc-keygen [SECRET-HEX]\n");
        return 2;
    }
    netipc_public_key(pub, secret);
    print("public", pub);
    return 0;
}
