/*
 * The runtime of generated interface code (tools/idlc, docs/idl.md):
 * client bindings that hold a server by name and recover when it
 * restarts, the server side's receive state, the error codes both use,
 * and the word layout of messages.
 */
#ifndef LIBPITH_IDL_H
#define LIBPITH_IDL_H

#include <stdbool.h>
#include <stdint.h>
#include "pith.h"

/*
 * Errors above the kernel's (which a call can also return).  A server
 * answers a request it cannot take with one of the first five and keeps
 * serving; the client's stub and library find the rest.
 */
enum pith_idl_error {
    PITH_IDL_E_VERSION = 0x100,     /* the request is for another version of the protocol */
    PITH_IDL_E_LABEL = 0x101,       /* the protocol has no such message */
    PITH_IDL_E_LENGTH = 0x102,      /* the length does not match the message's arguments */
    PITH_IDL_E_CAP = 0x103,         /* a capability the message needs is missing, or one came unasked */
    PITH_IDL_E_ARG = 0x104,         /* an argument outside its type: too wide, bool not 0/1, string too long or with NUL */
    PITH_IDL_E_REPLY = 0x105,       /* a reply (or a handler's result) does not have the message's shape */
    PITH_IDL_E_RESTARTED = 0x106,   /* the server died holding a call that is not idempotent: it may have happened */
    PITH_IDL_E_NO_SERVER = 0x107,   /* the name could not be resolved (after the retries) */
};

/* Error n declared by a protocol ("error NAME n"), as it travels and as stubs return it. */
#define PITH_IDL_E_PROTOCOL(n)      (0x1000 + (n))
#define PITH_IDL_E_PROTOCOL_LAST    PITH_IDL_E_PROTOCOL(0xffff)

/* A request's label: the protocol version above the message's own label. */
#define PITH_IDL_LABEL(version, msg)    ((uint64_t)(version) << 16 | (msg))
#define PITH_IDL_LABEL_VERSION(label)   ((label) >> 16)
#define PITH_IDL_LABEL_MSG(label)       ((label) & 0xffff)

/*
 * Name resolution: put a capability to the endpoint registered under
 * `name` into `dest_slot` (a slot of the caller's, empty on entry).
 * Returns 0, or non-zero if the name is not known now.  The name service
 * implements this later; until then whoever starts a client supplies one.
 * A resolver that uses IPC itself may overwrite the IPC buffer: the
 * library keeps the request it is retrying.
 */
struct pith_resolver {
    long (*lookup)(void *ctx, const char *name, uint64_t dest_slot);
    void *ctx;
};

/*
 * A client's hold on a server: its name, the slot where the endpoint
 * capability is kept, and the calling thread's IPC buffer.  One binding
 * per thread (it holds no lock).
 */
struct pith_client {
    const char *name;
    const struct pith_resolver *resolver;
    uint64_t ep_slot;
    struct pith_ipc_buffer *buf;
    bool bound;                     /* ep_slot holds the endpoint of the current incarnation */
    unsigned retries;               /* further attempts after a failure (bounded) */
    uint64_t timeout_ns;            /* 0: wait for the answer; else each attempt gives up after this (PITH_E_TIMEOUT) */
    uint64_t rebinds;               /* how often the name was looked up again after a failure */
    uint64_t saved[PITH_MSG_MAX + 2];   /* the request while the resolver runs (library use) */
};

#define PITH_IDL_DEFAULT_RETRIES 8

void pith_client_init(struct pith_client *c, const char *name, const struct pith_resolver *r,
                      uint64_t ep_slot, struct pith_ipc_buffer *buf);

/*
 * One call through a binding: the request is in *m (tag and words 0-3)
 * and in the IPC buffer; on success the reply replaces it.  A failure
 * because the server is gone (PITH_E_PEER_DIED: it died holding the call;
 * PITH_E_CANCELLED: its endpoint was deleted while we waited for it;
 * PITH_E_SLOT_EMPTY or PITH_E_WRONG_TYPE: our capability was revoked)
 * makes the library look the name up again.  The request is sent again if
 * it cannot have reached a server (our capability was gone) or if it is
 * idempotent; otherwise the call returns PITH_IDL_E_RESTARTED.  (A
 * cancelled call may have been queued or already taken: the kernel does
 * not say which, so it counts as delivered.)
 */
long pith_idl_call(struct pith_client *c, struct pith_msg *m, bool idempotent);

/* A server's receiving state: endpoint, reply object, a free slot for an incoming capability (0: none). */
struct pith_server {
    uint64_t ep, reply, cap_slot;
    struct pith_ipc_buffer *buf;
};

/* Message layout helpers: word i of a message (0-3 in *m, the rest in the IPC buffer). */
static inline uint64_t *pith_idl_word(struct pith_msg *m, struct pith_ipc_buffer *b, unsigned i)
{
    return i < PITH_MSG_REGS ? &m->w[i] : &b->msg[i];
}

static inline unsigned pith_idl_words(uint64_t bytes) { return (unsigned)((bytes + 7) / 8); }

/* Byte strings live in whole words of the IPC buffer from word `at`; the last word's spare bytes are zero. */
void pith_idl_put_bytes(struct pith_ipc_buffer *b, unsigned at, const void *src, uint64_t len);
void pith_idl_get_bytes(const struct pith_ipc_buffer *b, unsigned at, void *dst, uint64_t len);
/* 1 if the len bytes from word `at` hold no NUL (a string may not). */
bool pith_idl_no_nul(const struct pith_ipc_buffer *b, unsigned at, uint64_t len);
/* The length of s, or max + 1 if it is longer than max. */
uint64_t pith_idl_strlen(const char *s, uint64_t max);
/* Empties a slot of ours (a received capability nobody took). */
void pith_idl_drop(uint64_t slot);
/* 1 if a handler may send the capability in `slot` with its reply: it exists and is not the received one. */
bool pith_idl_can_send(const struct pith_server *s, uint64_t slot);

#endif
