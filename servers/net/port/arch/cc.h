/*
 * lwIP's compiler and platform definitions for Pith's native runtime:
 * musl's headers beneath lib/libc, little-endian x86-64, diagnostics to
 * the log through printf, a failed assertion ends the server (the
 * supervisor restarts it).
 */
#ifndef NET_ARCH_CC_H
#define NET_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_NO_CTYPE_H 1               /* lwIP's own isdigit and friends: no locale tables */
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                   \
    do {                                                                          \
        printf("net: lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); \
        abort();                                                                  \
    } while (0)

#endif
