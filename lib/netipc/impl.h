/* lib/netipc's internals, shared by session.c (handshake, frames) and calls.c (messages, timers). */
#ifndef NETIPC_IMPL_H
#define NETIPC_IMPL_H

#include "netipc.h"

/* Kinds of sealed payload (the first byte inside a data frame). */
enum { KIND_REQUEST = 1, KIND_REPLY = 2 };

static inline void put64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t get64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static inline void put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t get32(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }

/* session.c */
void session_start(struct netipc *n, struct netipc_peer *p, uint64_t now);
void session_hello_again(struct netipc *n, struct netipc_peer *p, uint64_t now);
void session_send(struct netipc *n, struct netipc_peer *p, const uint8_t *plain, size_t len);
void session_input(struct netipc *n, const uint8_t *frame, size_t len, uint64_t now);

/* calls.c: a session came up with the peer in incarnation boot; a sealed payload arrived. */
void calls_session_up(struct netipc *n, struct netipc_peer *p, uint64_t boot, uint64_t now);
void calls_input(struct netipc *n, struct netipc_peer *p, const uint8_t *plain, size_t len);

#endif
